"""Local potential approximation: fixed points and critical exponents of O(N) models
(docs/lpa.md).

The Wilson-Polchinski and the Wetterich (Litim regulator) LPA equations, dimensionless, eta = 0,
for the O(N) potential u(rho), rho = phi^2/2, in 2 < d < 4.  Fixed points are solved globally
(shooting from rho = 0 to find them, Chebyshev collocation on [0, R] to solve them), spectra from
the linearised flow; every result is checked against the other equation through Morris's exact
map between the two.

Public names: :func:`solve_lpa`, :func:`fixed_points`, :func:`compare`, :class:`LPAResult`,
:class:`FixedPoint`, :func:`morris_w_to_p`, :func:`morris_p_to_w`.  Never imports sympy or click.
"""

from .equations import morris_p_to_w, morris_w_to_p
from .solve import DEFAULT_TOL, FixedPoint, LPAResult, compare, fixed_points, solve_lpa, validate_lpa_inputs

__all__ = [
    "solve_lpa",
    "fixed_points",
    "compare",
    "LPAResult",
    "FixedPoint",
    "morris_w_to_p",
    "morris_p_to_w",
    "validate_lpa_inputs",
    "DEFAULT_TOL",
]
