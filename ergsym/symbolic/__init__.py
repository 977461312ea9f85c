"""Symbolic layer: the Wick/diagram engine, the monotone pieces, exact oracles.

Public API::

    monotone(order, form="B", scheme="bare", theory=PHI4) -> Series
    piece(name, order, scheme="bare", theory=PHI4) -> Series
    expand(operator, theory, order, scheme) -> Series
    Theory, PHI4, parse_theory, Series, Term
"""

from .monotone import (
    FORMS,
    PIECES,
    PRINTED,
    comparison_table,
    factor_decomposition,  # noqa: F401
    literal_5_13,
    monotone,
    piece,
)
from .operators import cdot, lambda_dshat, local_phi, log_z  # noqa: F401
from .series import Series, Term  # noqa: F401
from .theory import PHI4, SCHEMES, Theory, parse_theory  # noqa: F401
from .wick import MAX_ORDER, Diagram, Operator, OperatorTerm, OpVertex, diagrams, expand  # noqa: F401
