"""Numeric layer: loop integrals with cutoffs, values with errors (docs/numeric.md).

Public names
------------
:class:`Value`, :func:`evaluate_family`, :func:`evaluate_block`, :func:`evaluate_named`,
:func:`sunset`, :func:`evaluate_series`, :class:`Prediction`, :data:`BASIC_NAMES`.

This package never imports sympy or click.
"""

from .evaluate import BASIC_NAMES, METHODS, evaluate_block, evaluate_family, evaluate_named, sunset
from .values import DEFAULT_RTOL_1LOOP, DEFAULT_RTOL_2LOOP, Value

__all__ = [
    "Value",
    "evaluate_family",
    "evaluate_block",
    "evaluate_named",
    "sunset",
    "evaluate_series",
    "Prediction",
    "BASIC_NAMES",
    "METHODS",
    "DEFAULT_RTOL_1LOOP",
    "DEFAULT_RTOL_2LOOP",
]


def __getattr__(name):
    if name in ("evaluate_series", "Prediction"):
        from . import series

        return getattr(series, name)
    raise AttributeError(name)
