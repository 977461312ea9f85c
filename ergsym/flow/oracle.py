"""Brute-force exact oracles for the flow on small lattices (docs/flow.md).

Independent of the diagram enumeration: polynomials in the site fields with exact
``Fraction`` coefficients, Gaussian moments by the Wick recursion
``E[x_a m] = sum_b C_ab E[d m / d x_b]``.

* :func:`oracle_interaction` -- ``V_Lambda = -log E_chi exp(-V_0(phi + chi))`` with
  ``chi ~ N(0, Delta)``, expanded in ``lam`` (moments of ``chi`` then the log series);
* :func:`oracle_flow_quantity` -- A, B, a piece or ``<phi^2>`` under
  ``P_Lambda ∝ exp(-Shat_Lambda - V_Lambda)``, operators built literally from their
  definitions (docs/flow.md) with ``V_Lambda`` from :func:`oracle_interaction`;
* :func:`effterms_polynomial` -- the diagrammatic ``V_Lambda`` written out on the lattice;
* :func:`polchinski_check` -- residual of (2.4) for a polynomial ``V(Delta)``, with the
  exact ``Lambda d/dLambda`` (``Delta -> Delta - eps D``, exact Lagrange derivative at 0);
* :func:`exact_flow_family_value` -- a family with ``K, D, Delta`` lines summed over all
  vertex placements (definition in :mod:`ergsym.families`).

Exponential in the number of sites: V = 1..4.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import TYPE_CHECKING

from ..symbolic.oracle import _Moments, _padd, _pmul, _pscale, exact_family_value, mat_inv, mat_mul

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from ..families import Family
    from .interaction import EffTerm

__all__ = [
    "oracle_interaction",
    "oracle_flow_quantity",
    "effterms_polynomial",
    "polchinski_check",
    "exact_flow_family_value",
    "matinv",
    "matmul",
]


# -- exact matrices -------------------------------------------------------------

# exact matrix algebra shared with the engine's oracle
matmul = mat_mul
matinv = mat_inv


def exact_flow_family_value(
    family: Family, g: list[list[Fraction]], c: list[list[Fraction]], delta: list[list[Fraction]] | None
) -> Fraction:
    """Exact value of a family whose lines are ``G^kt D^d Delta^delta`` (matrices).

    ``V * b_outer * prod b`` with a ``D`` line, else ``prod b``; ``b = (1/V) sum`` over all
    vertex placements of the product of line matrices (:mod:`ergsym.families`).
    """
    return exact_family_value(family, g, c, delta)


# -- polynomials: dict exponent-tuple -> Fraction ---------------------------------

# polynomial algebra (dict exponent-tuple -> Fraction) shared with the engine's oracle
_add = _padd
_mul = _pmul
_scale = _pscale


def _var(nv, i, p=1):
    e = [0] * nv
    e[i] = p
    return {tuple(e): Fraction(1)}


def _const(nv, c=1):
    return {tuple([0] * nv): Fraction(c)} if c else {}


def _deriv(a, i):
    out = {}
    for k, v in a.items():
        if k[i]:
            kk = list(k)
            kk[i] -= 1
            out[tuple(kk)] = out.get(tuple(kk), 0) + v * k[i]
    return out


# exact Gaussian moments (memoized Wick recursion) shared with the engine's oracle
_Gauss = _Moments


def _log_series(z, order, nv):
    """``log(1 + sum_k z_k t^k)`` coefficients (z[0] must be the constant 1)."""
    out = [dict() for _ in range(order + 1)]
    for k in range(1, order + 1):
        acc = dict(z[k])
        for j in range(1, k):
            acc = _add(acc, _scale(_mul(out[j], z[k - j]), Fraction(j, k)), -1)
        out[k] = acc
    return out


def _exp_series(v, order, nv):
    """``exp(-sum_k v_k t^k)`` coefficients, ``e_k = (1/k) sum_j j (-v_j) e_{k-j}``."""
    e = [_const(nv)] + [dict() for _ in range(order)]
    for k in range(1, order + 1):
        acc = {}
        for j in range(1, k + 1):
            acc = _add(acc, _scale(_mul(v[j], e[k - j]), Fraction(-j, k)))
        e[k] = acc
    return e


def _kron(m, n_comp):
    """``m (x) 1_N``: a site matrix acting alike on the ``N`` components (variable ``x N + a``)."""
    if n_comp == 1:
        return m
    n = len(m)
    return [
        [m[i // n_comp][j // n_comp] if i % n_comp == j % n_comp else Fraction(0) for j in range(n * n_comp)]
        for i in range(n * n_comp)
    ]


def _check_components(n_comp):
    if isinstance(n_comp, bool) or not isinstance(n_comp, int) or n_comp < 1:
        raise ValueError(f"N={n_comp!r}: the oracle needs a positive integer number of components")
    return n_comp


def oracle_interaction(delta: list[list[Fraction]], order: int, N: int = 1) -> list[dict]:
    """``V_Lambda`` per power of ``lam`` as polynomials in ``phi_x`` (exact, brute force).

    Parameters
    ----------
    delta : V x V matrix of Fraction
        ``Kt_Lambda0 - Kt_Lambda`` in position space.
    order : int
    N : int
        Field components: ``V_0 = (lam/4!) sum_x (psi_x.psi_x)^2`` with ``psi = phi + chi`` and
        ``chi_{x,a}`` of covariance ``Delta_xy delta_ab``; the polynomials are in the ``V N``
        variables ``phi_{x,a}`` (index ``x N + a``).  ``N = 1`` is the single scalar.

    Returns
    -------
    list of dict
        ``v[k]``: coefficient of ``lam**k`` (``v[0] = {}``).
    """
    n_comp = _check_components(N)
    n = len(delta) * n_comp  # phi variables
    nv = 2 * n  # phi_0..phi_{n-1}, chi_0..chi_{n-1}
    v0 = {}
    for x in range(len(delta)):
        dot = {}
        for a in range(n_comp):
            i = x * n_comp + a
            psi = _add(_var(nv, i), _var(nv, n + i))
            dot = _add(dot, _mul(psi, psi))
        v0 = _add(v0, _scale(_mul(dot, dot), Fraction(1, 24)))
    gauss = _Gauss(_kron(delta, n_comp))
    z = [_const(n)]
    power = _const(nv)
    for k in range(1, order + 1):
        power = _mul(power, v0)
        avg = {}
        for key, val in power.items():
            mom = gauss.m(key[n:])
            if mom:
                kk = key[:n]
                avg[kk] = avg.get(kk, 0) + val * mom
        z.append(_scale({kk: vv for kk, vv in avg.items() if vv}, Fraction((-1) ** k, math.factorial(k))))
    logz = _log_series(z, order, n)
    return [dict()] + [_scale(logz[k], -1) for k in range(1, order + 1)]


def effterms_polynomial(
    terms: Iterable[EffTerm],
    delta: list[list[Fraction]],
    order: int,
    d: list[list[Fraction]] | None = None,
    N: int = 1,
) -> list[dict]:
    """The diagrammatic ``V_Lambda`` (tuple of EffTerm) as per-order polynomials on a lattice.

    ``N`` components: each term's legs are its O(N) index structure
    (:meth:`~ergsym.flow.interaction.EffTerm.on_structure`), products of
    ``phi(x_i).phi(x_j) = sum_a phi_{x_i,a} phi_{x_j,a}`` in the variables of
    :func:`oracle_interaction` (index ``x N + a``).
    """
    n_comp = _check_components(N)
    n = len(delta)
    mats = {"Delta": delta, "D": d}
    out = [dict() for _ in range(order + 1)]
    for t in terms:
        if t.power > order:
            continue
        struct = t.on_structure(n_comp) if n_comp != 1 else None
        for xs in itertools.product(range(n), repeat=t.n_vertices):
            w = t.coeff
            for i, j, k in t.edges:
                w *= mats[k][xs[i]][xs[j]]
                if not w:
                    break
            if not w:
                continue
            if struct is None:
                e = [0] * n
                for i, kk in enumerate(t.legs):
                    e[xs[i]] += kk
                out[t.power] = _add(out[t.power], {tuple(e): w})
                continue
            nv = n * n_comp
            for pairs, c in struct.items():
                poly = _const(nv, w * c)
                for i, j in pairs:
                    dot = {}
                    for a in range(n_comp):
                        dot = _add(dot, _mul(_var(nv, xs[i] * n_comp + a), _var(nv, xs[j] * n_comp + a)))
                    poly = _mul(poly, dot)
                out[t.power] = _add(out[t.power], poly)
    return out


def polchinski_check(
    vfun: Callable[[list[list[Fraction]]], list[dict]],
    delta: list[list[Fraction]],
    d: list[list[Fraction]],
    order: int,
    N: int = 1,
) -> list[dict]:
    """Residual of (2.4) for ``V = vfun(Delta)`` (per-order polynomials), exactly.

    ``-Lambda dV/dLambda = 1/2 sum_xy D_xy (d_x d_y V - d_x V d_y V)`` with
    ``Lambda dDelta/dLambda = -D``.  ``V`` at order ``k`` is a polynomial of degree ``<= 2k``
    in ``Delta``, so its ``eps`` derivative at ``Delta - eps D`` is exact from ``2k+1`` points.

    ``N`` components: ``vfun`` returns polynomials in the ``V N`` variables ``phi_{x,a}`` and
    ``Cdot = D`` acts alike on every component.

    Returns
    -------
    list of dict
        Per-order residual polynomials (all empty when (2.4) holds).
    """
    n = len(delta)
    npts = 2 * order + 1
    eps = [Fraction(k) for k in range(npts)]
    vs = [vfun([[delta[i][j] - e * d[i][j] for j in range(n)] for i in range(n)]) for e in eps]
    # Lagrange derivative at 0: sum_k w_k f(eps_k)
    w = []
    for k in range(npts):
        others = [eps[j] for j in range(npts) if j != k]
        den = math.prod(eps[k] - o for o in others)
        # d/de prod_j (e - o_j) at e=0 = sum_j prod_{l != j} (0 - o_l)
        num = sum(math.prod(-o for o in others[:j] + others[j + 1 :]) for j in range(len(others)))
        w.append(Fraction(num) / den)
    v = vs[0]
    n_comp = _check_components(N)
    d, n = _kron(d, n_comp), n * n_comp
    res = []
    for k in range(order + 1):
        lam_dv = {}
        for wk, vk in zip(w, vs):
            lam_dv = _add(lam_dv, _scale(vk[k], wk))
        lhs = _scale(lam_dv, -1)
        rhs = {}
        for x in range(n):
            for y in range(n):
                if not d[x][y]:
                    continue
                rhs = _add(rhs, _scale(_deriv(_deriv(v[k], x), y), Fraction(1, 2) * d[x][y]))
                for a in range(1, k):
                    rhs = _add(rhs, _scale(_mul(_deriv(v[a], x), _deriv(v[k - a], y)), Fraction(-1, 2) * d[x][y]))
        res.append(_add(lhs, rhs, -1))
    return res


def oracle_flow_quantity(
    g: list[list[Fraction]],
    c: list[list[Fraction]],
    delta: list[list[Fraction]],
    order: int,
    quantity: str = "B",
    N: int = 1,
) -> list[Fraction]:
    """Exact series of a monotone quantity under ``P_Lambda`` on a small lattice.

    Parameters
    ----------
    g, c, delta : V x V matrices of Fraction
        ``G = Kt_Lambda``, ``Cdot = D_Lambda`` and ``Delta = Kt_Lambda0 - Kt_Lambda``.
    order : int
    quantity : {"A", "B", "dSdS", "dSdShat", "dShatdShat", "LdShat", "phi2", "V"}
        ``"V"`` is ``<V_Lambda>_Lambda`` per site.
    N : int
        Field components of the O(N) model: ``G``, ``Cdot`` and ``Delta`` act alike on every
        component, ``V_Lambda`` is :func:`oracle_interaction` with ``N``, the operators are
        written on the ``V N`` variables ``phi_{x,a}`` (so A, B and the pieces are summed over
        components and ``phi2`` is ``sum_a <phi_a phi_a>`` averaged over sites).

    Returns
    -------
    list of Fraction
        Coefficients of ``lam**k`` (whole-lattice sums; ``phi2`` and ``V`` are site averages).
    """
    n_comp = _check_components(N)
    n_sites = len(g)
    v = oracle_interaction(delta, order, n_comp)
    g, c = _kron(g, n_comp), _kron(c, n_comp)
    n = len(g)
    ginv = matinv(g)
    dshat = [{tuple(int(i == y) for i in range(n)): ginv[x][y] for y in range(n) if ginv[x][y]} for x in range(n)]
    dv = [[_deriv(v[k], x) for k in range(order + 1)] for x in range(n)]
    ds = [[_add(dshat[x], dv[x][0])] + dv[x][1:] for x in range(n)]
    dsh = [[dshat[x]] + [dict() for _ in range(order)] for x in range(n)]

    def bil(xs, ys, coeff):
        out = [dict() for _ in range(order + 1)]
        for x in range(n):
            for y in range(n):
                if not c[x][y]:
                    continue
                for i in range(order + 1):
                    for j in range(order + 1 - i):
                        if xs[x][i] and ys[y][j]:
                            out[i + j] = _add(out[i + j], _scale(_mul(xs[x][i], ys[y][j]), coeff * c[x][y]))
        return out

    if quantity == "phi2":
        op = [{}] + [dict() for _ in range(order)]
        for x in range(n):
            op[0] = _add(op[0], _scale(_var(n, x, 2), Fraction(1, n_sites)))
    elif quantity == "V":  # <V_Lambda>_Lambda per site
        op = [_scale(v[k], Fraction(1, n_sites)) for k in range(order + 1)]
    else:
        m = matmul(matmul(ginv, c), ginv)
        ld = {}
        for x in range(n):
            for y in range(n):
                if m[x][y]:
                    ld = _add(ld, _scale(_mul(_var(n, x), _var(n, y)), m[x][y]))  # -2 * (-1/2)
        parts = {
            "dSdS": bil(ds, ds, Fraction(1, 2)),
            "dSdShat": bil(ds, dsh, Fraction(-2)),
            "dShatdShat": bil(dsh, dsh, Fraction(2)),
            "LdShat": [ld] + [dict() for _ in range(order)],
        }
        if quantity in parts:
            op = parts[quantity]
        elif quantity in ("A", "B"):
            sgn = 1 if quantity == "A" else -1
            op = [dict() for _ in range(order + 1)]
            for name, s in (("dSdS", sgn), ("dSdShat", sgn), ("dShatdShat", sgn), ("LdShat", 1)):
                for k in range(order + 1):
                    op[k] = _add(op[k], _scale(parts[name][k], s))
        else:
            raise ValueError(f"quantity={quantity!r} is not an oracle quantity")
    gauss = _Gauss(g)
    e = _exp_series(v, order, n)
    z = [gauss.expect(e[k]) for k in range(order + 1)]
    num = [Fraction(0)] * (order + 1)
    for i in range(order + 1):
        for k in range(order + 1 - i):
            if op[i] and e[k]:
                num[i + k] += gauss.expect(_mul(op[i], e[k]))
    out = []
    for k in range(order + 1):
        out.append(num[k] - sum(out[j] * z[k - j] for j in range(k)))
    return out
