"""The N -> infinity limit of the LPA, exactly (docs/lpa.md, "Rescaled variables; N = inf").

In the rescaled variables (``u = N ubar(rho/N)``) with 1/N = 0 the Wetterich fixed-point equation
is first order, ``-d u + (d-2) rho u' + 1/(1+u') = 0``.  Differentiating, with ``f = u'``:
``-2 f + ((d-2) rho - 1/(1+f)^2) f' = 0``, linear in ``rho(f)``:
``2 f rho' - (d-2) rho = -1/(1+f)^2``.  The Wilson-Fisher solution is the one analytic at the
minimum f = 0: ``rho(f) = sum_k c_k f^k`` with ``c_k = (-1)^(k+1) (k+1)/(2k - d + 2)`` (radius 1).
The linearised flow about it, written in the variable f, is ``-d g + 2 f dg/df`` (even; use
``(d-2) rho - 1/(1+f)^2 = 2 f/f'``) and ``-(d+2)/2 g + 2 f dg/df`` (odd, ``delta u = phi_1 g``),
so the eigenfunctions analytic at f = 0 are ``f^n`` and the eigenvalues are exactly
``y_n = d - 2n`` (even: vacuum, nu = 1/(d-2), omega = 4-d, ...) and ``(d+2)/2 - 2n`` (odd:
magnetic, redundant, ...).  The Polchinski point is its Morris image (same spectrum,
``u_P'(0) = sigma/(1+sigma)``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["n_infinity_point"]


def _rho_of_f(f, d, K=4000):
    k = np.arange(K)
    c = (-1.0) ** (k + 1) * (k + 1) / (2.0 * k - d + 2.0)
    return np.polynomial.polynomial.polyval(f, c)


def sigma_wetterich(d: float) -> float:
    """``u'(0)`` of the N = inf Wetterich point: the root of rho(f) = 0 in (-1, 0) (bisection;
    the series converges geometrically there, 4000 terms)."""
    a, b = -0.99, 0.0  # rho(0) = 1/(d-2) > 0; rho(-0.99) < 0 for 2 < d < 4 (checked below)
    fa = _rho_of_f(a, d)
    if not fa < 0:  # pragma: no cover - guarded by the tested dimension range
        raise ArithmeticError(f"no root of rho(f) in (-0.99, 0) at d={d}")
    for _ in range(200):
        m = 0.5 * (a + b)
        if _rho_of_f(m, d) < 0:
            a = m
        else:
            b = m
        if b - a < 1e-15:
            break
    return 0.5 * (a + b)


def n_infinity_point(d: float) -> dict:
    """Exact N = inf data: ``dict`` with ``sigma`` (Wetterich), ``u2_at_min`` (Wetterich
    ``f'(rho0) = 1/c_1 = (4-d)/2``), ``rho0 = 1/(d-2)`` and the eigenvalue lists."""
    s = sigma_wetterich(d)
    return {
        "sigma": s,
        "rho0": 1.0 / (d - 2.0),
        "u2_at_min": (4.0 - d) / 2.0,
        "u_at_0": 1.0 / (d * (1.0 + s)),
        "even": [d - 2.0 * n for n in range(6)],
        "odd": [(d + 2.0) / 2.0 - 2.0 * n for n in range(4)],
    }
