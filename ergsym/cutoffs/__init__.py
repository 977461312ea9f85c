"""Cutoff functions ``K_Lambda(p^2)``: Appendix-B bump, smooth families, custom (docs/numeric.md).

Public names
------------
:class:`Cutoff` (base), :class:`BumpCutoff`, :class:`ExponentialCutoff`, :class:`FermiCutoff`,
:class:`CustomCutoff`, :func:`parse_cutoff`, :class:`B3Report`.
"""

from .base import B3Condition, B3Report, Cutoff, Piece, validate_Lambda
from .bump import BumpCutoff, bump_B, bump_dB
from .parse import CUTOFF_KINDS, parse_cutoff
from .smooth import CustomCutoff, ExponentialCutoff, FermiCutoff

__all__ = [
    "Cutoff",
    "Piece",
    "B3Condition",
    "B3Report",
    "BumpCutoff",
    "ExponentialCutoff",
    "FermiCutoff",
    "CustomCutoff",
    "parse_cutoff",
    "CUTOFF_KINDS",
    "validate_Lambda",
    "bump_B",
    "bump_dB",
]
