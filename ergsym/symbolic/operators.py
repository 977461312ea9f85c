"""Operators of (5.6) and friends, as :class:`~ergsym.symbolic.wick.Operator` data.

Notation (docs/conventions.md): ``I = S_int = sum_n (g_n/n!) sum_x phi^n``;
``delta I/delta phi_x = sum_n g_n/(n-1)! phi_x^{n-1}``; ``delta Shat/delta phi_x = (G^-1 phi)_x``
(an amputated leg); ``S = Shat + I``; the ERG kernel ``Cdot = (2 pi)^d D`` is a fixed line
``D`` between the two factors.  ``Lambda d/dLambda Shat = -1/2 (G^-1 phi) Cdot (G^-1 phi)``
because ``Lambda d/dLambda Kt^-1 = -D/Kt^2`` (5.4).
"""

from __future__ import annotations

import math
from fractions import Fraction

from ..errors import InputError
from ..families import Line
from .theory import Theory
from .wick import Operator, OperatorTerm, OpVertex

__all__ = ["dfactor", "cdot", "lambda_dshat", "local_phi", "log_z", "FACTORS"]

D_LINE = Line(0, 1)

#: names of the factors a Cdot-bilinear can be built from
FACTORS = ("dI", "dShat", "dS")


def dfactor(name: str, theory: Theory, scheme: str) -> list:
    """The factor ``delta X/delta phi_x`` as a list of ``(coeff, powers, OpVertex)``."""
    zero = tuple(0 for _ in theory.couplings)
    dshat = [(Fraction(1), zero, OpVertex(1, amp=True))]
    if name == "dShat":
        return dshat
    di = [
        (
            Fraction(1, math.factorial(deg - 1)),
            theory.unit(c),
            OpVertex(deg - 1, normal_ordered=(scheme == "normal-ordered")),
        )
        for c, (deg, _) in enumerate(theory.couplings)
    ]
    if name == "dI":
        return di
    if name == "dS":
        return di + dshat
    raise InputError.bad("factor", name, "one of " + ", ".join(FACTORS))


def cdot(x: str, y: str, theory: Theory, scheme: str, coeff: int | Fraction = 1, name: str | None = None) -> Operator:
    """``coeff * int d^dp Cdot(p) delta X/delta phi(p) delta Y/delta phi(-p)`` (5.6)."""
    terms = []
    for (cx, px, vx), (cy, py, vy) in ((a, b) for a in dfactor(x, theory, scheme) for b in dfactor(y, theory, scheme)):
        terms.append(
            OperatorTerm(Fraction(coeff) * cx * cy, tuple(a + b for a, b in zip(px, py)), (vx, vy), ((0, 1, D_LINE),))
        )
    return Operator(name or f"{coeff}*<Cdot {x} {y}>", tuple(terms))


def lambda_dshat(theory: Theory, scheme: str, coeff: int | Fraction = 1) -> Operator:
    """``coeff * Lambda dShat/dLambda = coeff * (-1/2) (G^-1 phi) Cdot (G^-1 phi)``."""
    return cdot(
        "dShat",
        "dShat",
        theory,
        scheme,
        coeff=Fraction(coeff) * Fraction(-1, 2),
        name=f"{coeff}*<Lambda dShat/dLambda>",
    )


def local_phi(n: int, theory: Theory) -> Operator:
    """``<phi(0)^n>``: a local operator (per-site normalization).

    For an O(N) theory (``theory.N != 1``) it is ``<(phi_a phi_a)^(n/2)>`` summed over
    components (``n`` even): ``local_phi(2, theory)`` is ``phi2 = sum_a <phi_a phi_a>``.
    """
    if not isinstance(n, int) or n < 1:
        raise InputError.bad("n", n, "a positive integer")
    if theory.N != 1 and n % 2:
        raise InputError.bad(
            "n", n, f"even for an O(N) theory (N={theory.N})", "<(phi.phi)^(n/2)> is the O(N)-invariant local operator"
        )
    zero = tuple(0 for _ in theory.couplings)
    return Operator(f"<phi^{n}>", (OperatorTerm(Fraction(1), zero, (OpVertex(n),)),), "per-site")


def log_z(theory: Theory) -> Operator:
    """``log(Z/Z_0)`` per volume: the connected vacuum diagrams."""
    zero = tuple(0 for _ in theory.couplings)
    return Operator("log Z/V", (OperatorTerm(Fraction(1), zero, ()),), "per-site")
