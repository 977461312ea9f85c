"""Brute-force exact oracles, independent of the diagram engine (docs/engine.md, "How it is checked").

Two routes that share no code with :mod:`ergsym.symbolic.wick` or the family reduction:

* :func:`exact_expansion` -- on a finite set of modes (a small lattice) with an arbitrary
  rational covariance ``G`` and kernel ``Cdot``, build the operators of (5.6) literally as
  polynomials in ``phi_x`` from their definitions, compute free Gaussian moments by the
  Wick recursion ``E[phi_a m] = sum_b G_ab E[d m/d phi_b]`` with exact ``Fraction``s, and
  divide numerator and partition-function series.  No graphs, no symmetry factors.
* :func:`exact_family_value` -- a family's value on the lattice by summing its blocks over
  every placement of their vertices (matrices ``G^kt Cdot^d`` built by exact matrix
  algebra), following the definition in :mod:`ergsym.families`.

Both are exponential in size: they exist to check the engine on V = 1..8 sites.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..families import Family
    from .series import Series

__all__ = ["circulant", "mat_inv", "exact_expansion", "exact_family_value", "exact_series_value", "ORACLE_QUANTITIES"]


# ---------------------------------------------------------------------------
# exact matrices
# ---------------------------------------------------------------------------


def circulant(shape: tuple[int, ...], values: dict) -> list[list[Fraction]]:
    """Circulant (translation-invariant) matrix ``M[x, y] = values[(x - y) mod shape]``.

    ``values`` maps displacement tuples to Fractions (missing -> 0).  Sites are ordered as
    ``itertools.product(*map(range, shape))``.
    """
    sites = list(itertools.product(*[range(n) for n in shape]))
    return [[Fraction(values.get(tuple((a - b) % n for a, b, n in zip(x, y, shape)), 0)) for y in sites] for x in sites]


def mat_mul(a: list[list[Fraction]], b: list[list[Fraction]]) -> list[list[Fraction]]:
    n, m, p = len(a), len(b), len(b[0])
    return [[sum((a[i][k] * b[k][j] for k in range(m)), Fraction(0)) for j in range(p)] for i in range(n)]


def mat_inv(a: list[list[Fraction]]) -> list[list[Fraction]]:
    """Exact inverse by Gauss-Jordan elimination (raises ZeroDivisionError if singular)."""
    n = len(a)
    m = [list(map(Fraction, row)) + [Fraction(int(i == j)) for j in range(n)] for i, row in enumerate(a)]
    for c in range(n):
        piv = next(r for r in range(c, n) if m[r][c] != 0)
        m[c], m[piv] = m[piv], m[c]
        inv = 1 / m[c][c]
        m[c] = [v * inv for v in m[c]]
        for r in range(n):
            if r != c and m[r][c] != 0:
                f = m[r][c]
                m[r] = [vr - f * vc for vr, vc in zip(m[r], m[c])]
    return [row[n:] for row in m]


def _identity(n):
    return [[Fraction(int(i == j)) for j in range(n)] for i in range(n)]


def _line_matrix(line, g, c, ginv, delta=None):
    """``G^kt Cdot^d Delta^delta`` (circulants commute, so the order is immaterial)."""
    n = len(g)
    out = _identity(n)
    base = g if line.kt >= 0 else ginv
    for _ in range(abs(line.kt)):
        out = mat_mul(out, base)
    for _ in range(line.d):
        out = mat_mul(out, c)
    if line.delta and delta is None:
        raise ValueError("a family with Delta lines needs the matrix delta")
    for _ in range(line.delta):
        out = mat_mul(out, delta)
    return out


def exact_family_value(
    family: Family, g: list[list[Fraction]], c: list[list[Fraction]], delta: list[list[Fraction]] | None = None
) -> Fraction:
    """Exact lattice value of ``family`` with covariance matrix ``g`` and kernel ``c``.

    Follows :mod:`ergsym.families`: ``V * b_outer * prod b`` (or ``prod b`` without ``D``),
    ``b = (1/V) sum over all vertex placements of prod_e M_e[x_i, x_j]``.  ``delta`` is the
    matrix of ``Delta = Kt_Lambda0 - Kt_Lambda`` for flowed families.
    """
    n = len(g)
    ginv = mat_inv(g) if any(e[2].kt < 0 for b in family.blocks for e in b.edges) else None
    total = Fraction(1)
    for block in family.blocks:
        mats = [(i, j, _line_matrix(line, g, c, ginv, delta)) for i, j, line in block.edges]
        s = Fraction(0)
        for xs in itertools.product(range(n), repeat=block.n_vertices):
            term = Fraction(1)
            for i, j, m in mats:
                term *= m[xs[i]][xs[j]]
                if term == 0:
                    break
            s += term
        total *= s / n
    if family.outer is not None:
        total *= n
    return total


def exact_series_value(series: Series, g: list[list[Fraction]], c: list[list[Fraction]]) -> list[Fraction]:
    """Per-order exact values of a one-coupling series on the lattice ``(g, c)``."""
    cache = {}

    def val(f):
        if f not in cache:
            cache[f] = exact_family_value(f, g, c)
        return cache[f]

    return series.evaluate(val)


# ---------------------------------------------------------------------------
# polynomials in phi_x: dict exponent-tuple -> Fraction
# ---------------------------------------------------------------------------


def _padd(a, b, s=1):
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + s * v
        if out[k] == 0:
            del out[k]
    return out


def _pmul(a, b):
    out = {}
    for ka, va in a.items():
        for kb, vb in b.items():
            k = tuple(x + y for x, y in zip(ka, kb))
            out[k] = out.get(k, 0) + va * vb
    return {k: v for k, v in out.items() if v != 0}


def _pscale(a, s):
    return {k: v * s for k, v in a.items()} if s != 0 else {}


def _mono(n, site, power):
    e = [0] * n
    e[site] = power
    return {tuple(e): Fraction(1)}


class _Moments:
    """Free Gaussian moments ``E[prod phi_x^e_x]`` with covariance ``g`` (exact, memoized).

    ``m(e)`` is the moment of the exponent tuple ``e``; ``expect(poly)`` its linear extension.
    """

    def __init__(self, g):
        self.g = tuple(tuple(Fraction(v) for v in row) for row in g)
        self._memo = {}

    def m(self, e):
        return self._m(tuple(e))

    def expect(self, poly):
        return sum((v * self._m(k) for k, v in poly.items()), Fraction(0))

    def _m(self, e):
        # memo per instance: a global lru_cache would keep every oracle's table alive
        memo = self._memo
        if e in memo:
            return memo[e]
        tot = sum(e)
        if tot == 0:
            return Fraction(1)
        if tot % 2:
            return Fraction(0)
        a = next(i for i, x in enumerate(e) if x)
        rest = list(e)
        rest[a] -= 1
        out = Fraction(0)
        for b, x in enumerate(rest):
            if x and self.g[a][b] != 0:
                r2 = list(rest)
                r2[b] -= 1
                out += self.g[a][b] * x * self._m(tuple(r2))
        memo[e] = out
        return out


ORACLE_QUANTITIES = ("dSdS", "dSdShat", "dShatdShat", "LdShat", "A", "B", "phi2", "logZ")


def exact_expansion(
    g: list[list[Fraction]],
    c: list[list[Fraction]],
    order: int,
    quantity: str = "B",
    couplings: tuple = ((4, Fraction(1)),),
    normal_ordered: bool = False,
    n_components: int = 1,
) -> dict:
    """Exact series coefficients of ``quantity`` on a finite lattice, by brute force.

    Parameters
    ----------
    g, c : list of lists of Fraction
        Covariance ``G = Kt`` (free propagator, ``Shat = 1/2 phi G^-1 phi``) and ERG kernel
        ``Cdot`` (``Lambda dG/dLambda``), V x V.  Any symmetric invertible ``g`` works.
    order : int
        Highest power of the expansion parameter ``t`` kept.
    quantity : one of ORACLE_QUANTITIES
        The four pieces of (5.6) with the coefficients of docs/conventions.md, ``A``, ``B``, ``phi2`` (the
        site average of ``<phi_x^2>``) and ``logZ`` (``log(Z/Z_0)/V``).
    couplings : tuple of (degree n, value g_n)
        ``S_int = t * sum_n (g_n/n!) sum_x phi_x^n`` (phi^4 with lam = t by default).
    normal_ordered : bool
        Use ``:phi_x^n:`` (Hermite polynomials with variance ``G_xx``) instead of ``phi_x^n``.
    n_components : int
        ``N``: the field has components ``phi_{x,a}``, ``a = 1..N``, each with covariance ``G``;
        ``S_int = t sum_n (g_n/n!) sum_x (phi_x.phi_x)^(n/2)`` (even n), the pieces, A and B
        are summed over components, ``phi2`` is ``sum_a <phi_{x,a} phi_{x,a}>`` per site, and
        normal ordering is ``:P: = exp(-G_xx Laplacian_x / 2) P``.  The polynomials are built
        from their definitions on the ``V N`` variables (see :func:`_expansion_on`).

    Returns
    -------
    list of Fraction
        Coefficients of ``t^0 .. t^order`` (volume factor included: the whole lattice sum
        for the pieces, A and B).
    """
    if n_components != 1:
        return _expansion_on(g, c, order, quantity, couplings, normal_ordered, n_components)
    n = len(g)
    ginv = mat_inv(g)
    zero = tuple([0] * n)
    one = {zero: Fraction(1)}
    phi = [_mono(n, x, 1) for x in range(n)]

    def power(x, k):  # phi_x^k or :phi_x^k:
        if not normal_ordered:
            return _mono(n, x, k) if k else dict(one)
        # :phi^k: = sum_j k!/(j!(k-2j)!) (-G_xx/2)^j phi^(k-2j)
        out = {}
        for j in range(k // 2 + 1):
            coef = Fraction(math.factorial(k), math.factorial(j) * math.factorial(k - 2 * j)) * (-g[x][x] / 2) ** j
            out = _padd(out, _pscale(_mono(n, x, k - 2 * j) if k - 2 * j else one, coef))
        return out

    # S_int / t and its gradient (exact derivative of the on-site polynomial)
    s_int = {}
    d_int = [dict() for _ in range(n)]
    for deg, gn in couplings:
        for x in range(n):
            s_int = _padd(s_int, _pscale(power(x, deg), Fraction(gn) / math.factorial(deg)))
            d_int[x] = _padd(d_int[x], _pscale(power(x, deg - 1), Fraction(gn) / math.factorial(deg - 1)))
    d_shat = [{tuple(int(i == y) for i in range(n)): ginv[x][y] for y in range(n) if ginv[x][y] != 0} for x in range(n)]

    def bilinear(xs, ys):  # sum_xy C_xy X_x Y_y, X and Y given per order in t: list of [poly_t0, poly_t1]
        out = [dict(), dict(), dict()]
        for x in range(n):
            for y in range(n):
                if c[x][y] == 0:
                    continue
                for i, px in enumerate(xs[x]):
                    for j, py in enumerate(ys[y]):
                        out[i + j] = _padd(out[i + j], _pscale(_pmul(px, py), c[x][y]))
        return out

    ds = [[d_shat[x], d_int[x]] for x in range(n)]  # dS = dShat + t dI
    dsh = [[d_shat[x]] for x in range(n)]
    op = []  # the operator's terms by order in lam (none for logZ)
    if quantity == "phi2":
        op = [{}]
        for x in range(n):
            op[0] = _padd(op[0], _pscale(_pmul(phi[x], phi[x]), Fraction(1, n)))
    elif quantity in ("dSdS", "dSdShat", "dShatdShat", "LdShat", "A", "B"):
        p1 = [_pscale(p, Fraction(1, 2)) for p in bilinear(ds, ds)]
        p2 = [_pscale(p, -2) for p in bilinear(ds, dsh)]
        p3 = [_pscale(p, 2) for p in bilinear(dsh, dsh)]
        # Lambda dShat/dLambda = 1/2 phi (d G^-1) phi = -1/2 phi G^-1 C G^-1 phi
        m = mat_mul(mat_mul(ginv, c), ginv)
        ldshat = {}
        for x in range(n):
            for y in range(n):
                if m[x][y] != 0:
                    ldshat = _padd(ldshat, _pscale(_pmul(phi[x], phi[y]), Fraction(-1, 2) * m[x][y]))
        p4 = [_pscale(ldshat, -2)]
        parts = {"dSdS": p1, "dSdShat": p2, "dShatdShat": p3, "LdShat": p4}
        if quantity in parts:
            op = parts[quantity]
        else:
            sgn = 1 if quantity == "A" else -1
            op = [dict(), dict(), dict()]
            for name, s in (("dSdS", sgn), ("dSdShat", sgn), ("dShatdShat", sgn), ("LdShat", 1)):
                for k, p in enumerate(parts[name]):
                    op[k] = _padd(op[k], _pscale(p, s))
    elif quantity != "logZ":
        raise ValueError(f"quantity={quantity!r} must be one of {ORACLE_QUANTITIES}")

    return _series_from_moments(_Moments(tuple(tuple(r) for r in g)), one, s_int, op, order, quantity, n)


def _laplacian(poly, variables):
    """``sum_{v in variables} d^2 poly / d phi_v^2`` of an exponent-tuple polynomial."""
    out = {}
    for k, val in poly.items():
        for v in variables:
            e = k[v]
            if e >= 2:
                k2 = list(k)
                k2[v] -= 2
                out = _padd(out, {tuple(k2): val * e * (e - 1)})
    return out


def _mono_key(n, v):
    return tuple(int(i == v) for i in range(n))


def _expansion_on(g, c, order, quantity, couplings, normal_ordered, n_comp):
    """:func:`exact_expansion` for ``n_comp`` field components (variables ``x * N + a``)."""
    if not isinstance(n_comp, int) or n_comp < 1:
        raise ValueError(f"n_components={n_comp!r} must be a positive integer")
    if any(deg % 2 for deg, _ in couplings):
        raise ValueError("an O(N) interaction needs even degrees")
    n_sites = len(g)
    n = n_sites * n_comp
    ginv = mat_inv(g)
    zero = tuple([0] * n)
    one = {zero: Fraction(1)}

    def var(x, a):
        return x * n_comp + a

    phi = [[_mono(n, var(x, a), 1) for a in range(n_comp)] for x in range(n_sites)]
    rho = []  # phi_x . phi_x
    for x in range(n_sites):
        r = {}
        for a in range(n_comp):
            r = _padd(r, _pmul(phi[x][a], phi[x][a]))
        rho.append(r)

    def ppow(p, k):
        out = dict(one)
        for _ in range(k):
            out = _pmul(out, p)
        return out

    def normal(p, x):  # :p: = exp(-G_xx Lap_x / 2) p, a finite sum
        if not normal_ordered:
            return p
        sites = [var(x, a) for a in range(n_comp)]
        out, term, j = dict(p), dict(p), 0
        while term:
            j += 1
            term = _pscale(_laplacian(term, sites), -g[x][x] / (2 * j))
            out = _padd(out, term)
        return out

    s_int = {}
    d_int = [[dict() for _ in range(n_comp)] for _ in range(n_sites)]
    for deg, gn in couplings:
        for x in range(n_sites):
            coef = Fraction(gn) / math.factorial(deg)
            s_int = _padd(s_int, _pscale(normal(ppow(rho[x], deg // 2), x), coef))
            for a in range(n_comp):
                # d/dphi_{x,a} (phi.phi)^m = 2m (phi.phi)^(m-1) phi_a; normal ordering commutes with d/dphi
                grad = _pmul(ppow(rho[x], deg // 2 - 1), phi[x][a])
                coef = Fraction(gn) / math.factorial(deg - 1)
                d_int[x][a] = _padd(d_int[x][a], _pscale(normal(grad, x), coef))
    d_shat = [
        [{_mono_key(n, var(y, a)): ginv[x][y] for y in range(n_sites) if ginv[x][y] != 0} for a in range(n_comp)]
        for x in range(n_sites)
    ]

    def bilinear(xs, ys):  # sum_xy C_xy sum_a X_{x,a} Y_{y,a}; factors given per order in t
        out = [dict(), dict(), dict()]
        for x in range(n_sites):
            for y in range(n_sites):
                if c[x][y] == 0:
                    continue
                for a in range(n_comp):
                    for i, px in enumerate(xs[x][a]):
                        for j, py in enumerate(ys[y][a]):
                            out[i + j] = _padd(out[i + j], _pscale(_pmul(px, py), c[x][y]))
        return out

    ds = [[[d_shat[x][a], d_int[x][a]] for a in range(n_comp)] for x in range(n_sites)]
    dsh = [[[d_shat[x][a]] for a in range(n_comp)] for x in range(n_sites)]
    op = []  # the operator's terms by order in lam (none for logZ)
    if quantity == "phi2":
        op = [{}]
        for x in range(n_sites):
            op[0] = _padd(op[0], _pscale(rho[x], Fraction(1, n_sites)))
    elif quantity in ("dSdS", "dSdShat", "dShatdShat", "LdShat", "A", "B"):
        parts = {
            "dSdS": [_pscale(p, Fraction(1, 2)) for p in bilinear(ds, ds)],
            "dSdShat": [_pscale(p, -2) for p in bilinear(ds, dsh)],
            "dShatdShat": [_pscale(p, 2) for p in bilinear(dsh, dsh)],
        }
        m = mat_mul(mat_mul(ginv, c), ginv)
        ldshat = {}
        for x in range(n_sites):
            for y in range(n_sites):
                if m[x][y] != 0:
                    for a in range(n_comp):
                        term = _pscale(_pmul(phi[x][a], phi[y][a]), Fraction(-1, 2) * m[x][y])
                        ldshat = _padd(ldshat, term)
        parts["LdShat"] = [_pscale(ldshat, -2)]
        if quantity in parts:
            op = parts[quantity]
        else:
            sgn = 1 if quantity == "A" else -1
            op = [dict(), dict(), dict()]
            for name, s in (("dSdS", sgn), ("dSdShat", sgn), ("dShatdShat", sgn), ("LdShat", 1)):
                for k, p in enumerate(parts[name]):
                    op[k] = _padd(op[k], _pscale(p, s))
    elif quantity != "logZ":
        raise ValueError(f"quantity={quantity!r} must be one of {ORACLE_QUANTITIES}")

    big = [
        [g[i // n_comp][j // n_comp] if i % n_comp == j % n_comp else Fraction(0) for j in range(n)] for i in range(n)
    ]
    return _series_from_moments(_Moments(big), one, s_int, op, order, quantity, n_sites)


def _series_from_moments(mom, one, s_int, op, order, quantity, volume):
    """Coefficients of ``<O>`` (``op``: its terms by order in lam) or of ``log Z / volume`` through
    ``order``, from the Gaussian moments ``mom``: ``z_k = E[(-S_int)^k]/k!``, ``<O> = E[O e^{-S_int}]/Z``
    order by order, ``log Z`` as the log of the series ``z`` (``z_0 = 1``)."""
    powers = [dict(one)]
    for _ in range(1, order + 1):
        powers.append(_pmul(powers[-1], s_int))
    z = [mom.expect(powers[k]) * Fraction((-1) ** k, math.factorial(k)) for k in range(order + 1)]
    if quantity == "logZ":
        out = [Fraction(0)] * (order + 1)
        for k in range(1, order + 1):
            out[k] = z[k] - sum(Fraction(j, k) * out[j] * z[k - j] for j in range(1, k))
        return [v / volume for v in out]
    num = [Fraction(0)] * (order + 1)
    for i, p in enumerate(op):
        for k in range(order + 1 - i):
            num[i + k] += mom.expect(_pmul(p, powers[k])) * Fraction((-1) ** k, math.factorial(k))
    out = []  # num / z
    for k in range(order + 1):
        out.append(num[k] - sum(out[j] * z[k - j] for j in range(k)))
    return out
