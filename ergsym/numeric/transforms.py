"""Radial Hankel transforms of lines, shared by every block of one evaluation point.

A *point* is ``(cutoff, dim, mass, Lambda)``.  :class:`PointContext` holds, per point,

* the momentum nodes of the cutoff's pieces (bump in its local variable, docs/numeric.md),
  refined so that composite Gauss-Legendre panels resolve ``omega_d(q r)`` up to ``r = R``;
* radial position grids ``r in [0, R]`` whose panels resolve a product of given bandwidth;
* the position-space functions ``f_e(r) = int_q e^{iqr} F_e(q)`` of every line, computed with
  *one* kernel matrix ``omega_d(r q)`` per grid for all lines at once (chunked over ``r``),
  and cached, so ``f2``, ``M[D,K,K,K2]``, ``M[DK,K,K,K]`` and the O(lambda^3) blocks of one
  series share the transform of ``Kt``.

Conventions (docs/numeric.md): ``omega_d(z) = Gamma(d/2) (2/z)^{d/2-1} J_{d/2-1}(z)``,

.. math::

    f(r) = \\frac{S_d}{(2\\pi)^d}\\int_0^\\infty q^{d-1}\\omega_d(qr) F(q)\\,dq, \\qquad
    \\hat g(p) = S_d \\int_0^\\infty r^{d-1}\\omega_d(pr) g(r)\\,dr .

Lines whose momentum function carries ``D`` (the ERG kernel) are never transformed: ``D`` is
supported on the bump shell only, and blocks integrate it there (see :mod:`.melon`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..conventions import sphere_area
from .oneloop import line_values
from .quadrature import composite_nodes

if TYPE_CHECKING:
    from ..cutoffs.base import Cutoff, Piece
    from ..families import Line

__all__ = ["PointContext", "omega_d", "H_PANEL", "N_LO", "N_HI"]

EPS = np.finfo(float).eps
#: radians of phase of ``omega_d(q r)`` per Gauss-Legendre panel
H_PANEL = 24.0
#: rule pair used for the error estimate (difference of the whole pipeline at both)
N_LO, N_HI = 16, 20
#: graded panel edges of the bump piece in its local variable x (B'(x) is steep near x = 1)
BUMP_EDGES = (0.0, 0.25, 0.5, 0.7, 0.85, 0.93, 0.97, 1.0)
#: momentum nodes whose line values are below this fraction of the line's L1 norm beyond a
#: point are dropped (the bump tail eps exp(-s) is cut at s ~ 37 instead of 50)
NEGLIGIBLE = 1e-17
#: panel edges of a custom cutoff's pieces, graded towards both ends
CSEG_EDGES = (0.0, 0.01, 0.03, 0.07, 0.15, 0.3, 0.5, 0.7, 0.85, 0.93, 0.97, 0.99, 1.0)
_CHUNK = 1_500_000  # kernel-matrix elements per chunk
#: Kt powers transformed along with any requested line (shared by later blocks of a point)
EXTRA_KT = (1, 2, 3)


def omega_d(dim: int, z: float | np.ndarray) -> float | np.ndarray:
    """``omega_d(z) = Gamma(d/2) (2/z)^{d/2-1} J_{d/2-1}(z)``, ``omega_d(0) = 1`` (z >= 0)."""
    from scipy.special import gamma, j0, j1, jv

    z = np.asarray(z, dtype=float)
    if dim == 1:
        return np.cos(z)
    if dim in (2, 3, 4):
        # fast paths (the kernel matrices are the cost of the position method): j0, sin and
        # j1 are relatively accurate down to z -> 0, so no series branch is needed
        if dim == 2:
            return j0(z)
        out = np.sin(z) if dim == 3 else j1(z)
        pos = z > 0
        np.divide(out, z, out=out, where=pos)
        if dim == 4:
            out *= 2.0
        out[~pos] = 1.0
        return out
    out = np.empty(z.shape)
    # d = 6 uses J_2 = 2 J_1/z - J_0 (scipy's general jv is ~30x slower than j0, j1); the
    # recurrence cancels like 8/z^2, so its series branch runs up to z = 2
    small = z < (2.0 if dim == 6 else 0.5)
    if np.any(small):
        zs = z[small]
        nu1 = dim / 2.0
        term = np.ones_like(zs)
        acc = np.ones_like(zs)
        x = -zs * zs / 4.0
        for k in range(1, 14):
            term = term * x / (k * (k - 1 + nu1))
            acc = acc + term
        out[small] = acc
        big = ~small
        zl = z[big]
    else:
        big = None
        zl = z
    if dim == 2:
        v = j0(zl)
    elif dim == 3:
        v = np.sin(zl) / zl
    elif dim == 4:
        v = 2.0 * j1(zl) / zl
    elif dim == 5:
        v = 3.0 * (np.sin(zl) - zl * np.cos(zl)) / zl**3
    elif dim == 6:
        v = 8.0 * (2.0 * j1(zl) / zl - j0(zl)) / (zl * zl)
    else:
        nu = dim / 2.0 - 1.0
        v = gamma(dim / 2.0) * (2.0 / zl) ** nu * jv(nu, zl)
    if big is None:
        return v
    out[big] = v
    return out


def kernel_apply(dim: int, out_nodes: np.ndarray, in_nodes: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """``omega_d(outer(out_nodes, in_nodes)) @ vectors``, chunked over ``out_nodes``."""
    vectors = np.asarray(vectors, float)
    res = np.empty((out_nodes.size,) + vectors.shape[1:])
    step = max(1, _CHUNK // max(1, in_nodes.size))
    for i in range(0, out_nodes.size, step):
        res[i : i + step] = omega_d(dim, np.outer(out_nodes[i : i + step], in_nodes)) @ vectors
    return res


def bump_inner_grading(piece: Piece, m2: float = 0.0) -> list:
    """Local-variable edges ``x = (x0/4) 2^j < 1/8``, ``x0 = (Lambda^2 + m2)/eps``, of a bump piece.

    With ``Lambda^2 << eps`` the momentum ``q = sqrt(Lambda^2 + eps x)`` (and the measure
    ``q^(d-2) dp^2``, singular at ``x = -Lambda^2/eps`` in odd ``d``) varies on the scale
    ``Lambda^2/eps`` near the bump's inner edge, and ``1/(p^2+m^2)`` has its pole at
    ``x = -(Lambda^2+m^2)/eps``: panels graded geometrically towards ``x = 0`` resolve both.
    """
    lo, hi = float(piece.q_lo[0]) ** 2, float(piece.q_hi[0]) ** 2
    x0 = (lo + m2) / (hi - lo) if hi > lo else 1.0
    out = []
    x = x0 / 4
    while x < 0.125:
        out.append(x)
        x *= 2.0
    return out


def _piece_edges(piece, mass, R, L1=None, dim=None):
    """Reference-variable panel edges on a piece, fine enough for ``omega_d(q r)``, ``r <= R``.

    The bump is graded towards ``x = 0`` (:func:`bump_inner_grading`); in even ``dim``
    ``omega_d(q r)`` (entire in ``q^2``) and the measure ``(p^2)^((d-2)/2) dp^2`` are entire
    in ``x``, so only the pole of ``1/(p^2+m^2)`` sets the scale there.
    """
    if piece.kind == "bump":
        grade = bump_inner_grading(piece, 0.0 if dim is None or dim % 2 == 1 else mass * mass)
        base = np.array(sorted(set(BUMP_EDGES) | set(grade)))
    elif piece.kind == "ir":
        qh = float(piece.q_hi[0])
        ratio = mass / max(qh, 1e-300)
        base = np.array(sorted({0.0, 1.0} | {ratio * 2.0**j for j in range(-3, 40) if ratio * 2.0**j < 1}))
    elif piece.kind == "cseg":  # custom cutoff: unknown shape, steep ends (a wrapped bump)
        base = np.array(CSEG_EDGES)
    elif piece.kind == "inf":
        base = np.concatenate([1.0 - 2.0 ** -np.arange(0, 40), [1.0]])
    else:
        base = np.linspace(0.0, 1.0, 3)
    inner = base[1:-1]
    qi = np.sqrt(piece.evaluate(inner)[0][0]) if inner.size else np.zeros(0)
    q_hi = float(piece.q_hi[0])
    if not math.isfinite(q_hi):
        q_hi = float(qi[-1]) * 2 if qi.size else 1.0
    qe = np.concatenate([[float(piece.q_lo[0])], qi, [q_hi]])
    edges = [base[0]]
    for i in range(len(base) - 1):
        n = max(1, int(math.ceil((qe[i + 1] - qe[i]) * R / H_PANEL)))
        edges.extend(list(base[i] + (base[i + 1] - base[i]) * np.arange(1, n + 1) / n))
    return np.array(edges)


class PointContext:
    """Quadrature nodes and cached line transforms at one point (see module docstring).

    Parameters
    ----------
    cutoff : Cutoff
    dim : int
    mass, Lambda : float
    """

    def __init__(self, cutoff: Cutoff, dim: int, mass: float, Lambda: float) -> None:
        self.cutoff, self.dim, self.mass, self.Lambda = cutoff, int(dim), float(mass), float(Lambda)
        self.pieces = cutoff.melon_pieces(self.Lambda)
        self.Sd = sphere_area(self.dim)
        self.pref = self.Sd / (2 * math.pi) ** self.dim
        self._q = {}
        self._f = {}
        self._r = {}
        self._panels = {}  # grid key -> (panel starts, node offsets): see grid_apply
        self.n_kernel = 0  # kernel-matrix elements evaluated (diagnostics)

    # -- momentum side ---------------------------------------------------------------------
    def qnodes(self, R: float, n: int, dk_only: bool = False) -> tuple:
        """``(q, w, p2, k, dk)`` on all pieces (or only where ``dK != 0``).

        ``w`` includes ``S_d/(2 pi)^d q^{d-1} dq`` (i.e. ``int_q``); the nodes are dropped
        beyond the point where the ``Kt`` line has become negligible (``NEGLIGIBLE``).
        """
        key = (round(R, 12), n, dk_only)
        if key in self._q:
            return self._q[key]
        qs, ws, p2s, ks, dks = [], [], [], [], []
        for piece in self.pieces:
            if dk_only and piece.dk_zero:
                continue
            t, wt = composite_nodes(_piece_edges(piece, self.mass, R, dim=self.dim), n)
            p2, jac, k, dk, _ = piece.evaluate(t)
            p2, jac, k, dk = p2[0], jac[0], k[0], dk[0]
            qs.append(np.sqrt(p2))
            ws.append(wt * jac * 0.5 * p2 ** ((self.dim - 2) / 2.0) * self.pref)
            p2s.append(p2)
            ks.append(k)
            dks.append(dk)
        q, w, p2, k, dk = (np.concatenate(a) for a in (qs, ws, p2s, ks, dks))
        if not dk_only:
            a = np.abs(w * k / (p2 + self.mass**2))
            tail = np.cumsum(a[::-1])[::-1]  # sum over nodes >= i (nodes are increasing in q)
            keep = tail > NEGLIGIBLE * tail[0]
            last = int(np.nonzero(keep)[0][-1]) + 1 if np.any(keep) else q.size
            q, w, p2, k, dk = q[:last], w[:last], p2[:last], k[:last], dk[:last]
        out = (q, w, p2, k, dk)
        self._q[key] = out
        return out

    def line_q(self, line: Line, R: float, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(q, w, F)``: a line's momentum function at the nodes (``dk_only`` for D lines)."""
        q, w, p2, k, dk = self.qnodes(R, n, dk_only=line.d >= 1)
        return q, w, line_values(line.kt, line.d, p2, k, dk, self.Lambda, self.mass**2)

    def q_eff(self, R: float, n: int) -> float:
        """Largest momentum node kept: the effective bandwidth of a ``Kt`` line."""
        return float(self.qnodes(R, n)[0][-1])

    def shell_max(self, R: float, n: int) -> float:
        """Largest momentum at which ``D`` is nonzero (bump: ``sqrt(Lambda^2+eps)``)."""
        q, w, p2, k, dk = self.qnodes(R, n, dk_only=True)
        nz = np.nonzero(dk)[0]
        return float(q[nz[-1]]) if nz.size else float(q[-1])

    # -- position side ---------------------------------------------------------------------
    def rgrid(self, R: float, bw: float, n: int) -> tuple[tuple, tuple[np.ndarray, np.ndarray]]:
        """Composite Gauss-Legendre nodes on ``[0, R]`` resolving bandwidth ``bw``."""
        nr = 4 * max(1, int(math.ceil(R * bw / H_PANEL / 4)))  # R/2, R/4 are panel edges
        key = (round(R, 12), nr, n)
        if key not in self._r:
            r, wr = composite_nodes(np.linspace(0.0, R, nr + 1), n)
            self._r[key] = (r, wr)
            h = R / nr
            self._panels[key] = (np.arange(nr) * h, composite_nodes(np.array([0.0, h]), n)[0])
        return key, self._r[key]

    def transform(self, lines: list[Line], gkey: tuple, R: float, n: int) -> list:
        """Position-space values ``f_e(r)`` of ``lines`` (no D lines) on grid ``gkey``.

        Also returns each line's ``sum |w F|`` (the scale of its rounding error).
        """
        r, _ = self._r[gkey]
        want = [l for l in dict.fromkeys(lines) if (l, gkey) not in self._f]
        if want:
            # transform the common lines along with the requested ones: the kernel matrix is
            # the cost, extra columns are nearly free
            from ..families import Line

            extra = [Line(k) for k in EXTRA_KT]
            todo = list(dict.fromkeys(want + [l for l in extra if (l, gkey) not in self._f]))
            q, w, p2, k, dk = self.qnodes(R, n)
            V = np.empty((q.size, len(todo)))
            for j, l in enumerate(todo):
                V[:, j] = w * line_values(l.kt, l.d, p2, k, dk, self.Lambda, self.mass**2)
            F = grid_apply(self.dim, *self._panels[gkey], q, V)
            self.n_kernel += r.size * q.size
            for j, l in enumerate(todo):
                self._f[(l, gkey)] = (F[:, j], float(np.sum(np.abs(V[:, j]))))
        return [self._f[(l, gkey)] for l in lines]

    def forward(self, g: np.ndarray, gkey: tuple, p: float | np.ndarray) -> np.ndarray:
        """``g_hat(p) = S_d int r^{d-1} omega_d(p r) g(r) dr`` on grid ``gkey``."""
        r, wr = self._r[gkey]
        m = wr * self.Sd * r ** (self.dim - 1)
        v = m[:, None] * g if np.ndim(g) == 2 else m * g
        self.n_kernel += r.size * np.size(p)
        return grid_forward(self.dim, *self._panels[gkey], np.atleast_1d(p), v)

    def inverse(self, Gp: np.ndarray, p: np.ndarray, wp: np.ndarray, gkey: tuple) -> np.ndarray:
        """``g(r) = int_p e^{ipr} G(p)`` from momentum nodes ``p`` with weights ``wp``
        (weights include ``S_d/(2 pi)^d p^{d-1} dp``)."""
        r, _ = self._r[gkey]
        self.n_kernel += r.size * p.size
        return grid_apply(self.dim, *self._panels[gkey], p, wp * Gp)


def tail_bound(r: np.ndarray, env: np.ndarray, R: float) -> tuple:
    """Envelope decay ratio and bound: ``(int_{R/2}^R env, ratio to int_{R/4}^{R/2} env)``."""
    a1 = float(np.sum(env[(r > R / 4) & (r <= R / 2)]))
    a2 = float(np.sum(env[r > R / 2]))
    rho = min(0.9, a2 / a1) if a1 > 0 else (0.0 if a2 == 0 else 0.9)
    return a2, rho


def tail_estimate(
    I_R: float | np.ndarray, I_R2: float | np.ndarray, I_R4: float | np.ndarray, rho_env: float | np.ndarray
) -> tuple:
    """Truncation error of ``I(R)`` from the truncated values ``I(R/2)``, ``I(R/4)``.

    ``delta1 = |I(R) - I(R/2)|`` and ``delta0 = |I(R/2) - I(R/4)|`` are the contributions of
    the last two dyadic shells.  The tail beyond ``R`` is continued geometrically with ratio
    ``rho = max(rho_env, delta1/delta0)`` (``rho_env``: ratio of the *absolute* envelope's
    dyadic integrals, which oscillation cannot make accidentally small), capped at 0.9,
    from ``max(delta1, rho delta0)`` (guards an accidental zero of ``delta1``), times 3.
    Checked against references computed at ``R = 512`` (tests).
    """
    d1 = np.abs(np.asarray(I_R) - np.asarray(I_R2))
    d0 = np.abs(np.asarray(I_R2) - np.asarray(I_R4))
    with np.errstate(divide="ignore", invalid="ignore"):
        rs = np.where(d0 > 0, d1 / np.where(d0 > 0, d0, 1.0), 0.9)
    rho = np.minimum(0.9, np.maximum(rho_env, rs))
    return 3.0 * rho / (1.0 - rho) * np.maximum(d1, rho * d0), float(np.max(rho))


def next_R(R: float, tail: float, target: float, rho: float) -> float:
    """Radius for which the geometric tail model predicts ``tail <= target`` (at least 2R)."""
    if tail <= 0 or rho <= 0 or rho >= 0.9 or tail <= target:
        return 2.0 * R
    # tail(R') ~ tail * (R'/R)^{log2 rho}
    k = math.log(max(target, 1e-300) / tail) / math.log(rho)  # number of doublings
    # the envelope usually decays faster than geometrically in log R: do not overshoot
    return R * 2.0 ** min(1.0, max(1.0, math.ceil(k - 0.25)))


# -- the kernel on a radial grid of equal panels: trigonometric addition -------------------------
#: below this argument ``z = q r`` the kernel is evaluated directly (even d: the Hankel
#: asymptotic series is used only above it; odd d: the elementary form cancels at small z)
GRID_Z0 = {1: 0.0, 3: 2.0, 5: 4.0}
GRID_Z0_EVEN = 30.0
#: below this fraction of (panel, momentum) pairs above Z0 the direct kernel is used
GRID_MIN_FAR = 0.75


def grid_terms(dim: int) -> tuple:
    """``omega_d(z) = sum_k c_k z^(-s_k) T_k(z - phi)`` for ``z >= Z0``, ``T_k`` cos or sin.

    ``J_nu(z) = sqrt(2/(pi z)) (P cos chi - Q sin chi)``, ``chi = z - nu pi/2 - pi/4``, with
    Hankel's series ``P = sum (-1)^k a_2k z^-2k``, ``Q = sum (-1)^k a_(2k+1) z^-(2k+1)``,
    ``a_k = prod_(j<=k) (4 nu^2 - (2j-1)^2) / (k! 8^k)`` (Abramowitz & Stegun 9.2.5-10).  For
    odd ``d`` (half-integer ``nu``) the series terminates and is exact for every ``z > 0``;
    for even ``d`` it is truncated where the next term is below ``1e-17`` at ``z = Z0``
    (the remainder of Hankel's series is bounded by the first omitted term).

    Returns ``(coef, power, is_sin, phi, Z0)``.
    """
    nu = dim / 2.0 - 1.0
    mu = 4.0 * nu * nu
    z0 = GRID_Z0.get(dim, GRID_Z0_EVEN)
    C = math.gamma(dim / 2.0) * 2.0**nu * math.sqrt(2.0 / math.pi)
    coef, power, is_sin = [], [], []
    a = 1.0
    k = 0
    while True:
        if a != 0.0:
            sign = (-1.0) ** (k // 2)
            coef.append(C * sign * a * (1.0 if k % 2 == 0 else -1.0))
            power.append(nu + 0.5 + k)
            is_sin.append(k % 2 == 1)
        k += 1
        a = a * (mu - (2 * k - 1) ** 2) / (8.0 * k)
        if k > 60:  # pragma: no cover - Z0 too small for 1e-17 (Hankel's series diverges)
            raise ValueError(f"GRID_Z0 = {z0} too small for the asymptotic kernel in d = {dim}")
        if a == 0.0 or (z0 > 0 and abs(a) / z0**k < 1e-17 and dim % 2 == 0):
            if dim % 2 == 1 and a != 0.0:
                continue
            break
    return (np.array(coef), np.array(power), np.array(is_sin, bool), (nu / 2.0 + 0.25) * math.pi, z0)


def grid_apply(dim: int, a: np.ndarray, delta: np.ndarray, q: np.ndarray, V: np.ndarray) -> np.ndarray:
    """``omega_d(outer(r, q)) @ V`` for ``r = (a[:, None] + delta[None, :]).ravel()``.

    The radial grids are composite rules on equal panels (starts ``a``, the same offsets
    ``delta`` in every panel), so ``cos(q r - phi) = cos(q a - phi) cos(q delta) -
    sin(q a - phi) sin(q delta)``: with :func:`grid_terms` the kernel becomes two matrix
    products against ``J x Q`` trigonometric matrices (``J`` panels instead of ``J n``
    nodes), exact for odd ``d`` and to ``1e-17`` for even ``d`` where ``q a >= Z0``; the
    pairs with ``q a < Z0`` are evaluated directly.  Equal to :func:`kernel_apply` to
    rounding (tests).
    """
    V = np.asarray(V, float)
    vec = V.ndim == 1
    V2 = V.reshape(V.shape[0], -1)
    a = np.asarray(a, float)
    delta = np.asarray(delta, float)
    q = np.asarray(q, float)
    J, n, Q, ncol = a.size, delta.size, q.size, V2.shape[1]
    coef, power, is_sin, phi, z0 = grid_terms(dim)
    out = np.zeros((J, n, ncol))
    if Q == 0 or J == 0:
        return out.reshape(J * n, *V.shape[1:]) if not vec else out.reshape(J * n)
    aq = np.outer(a, q)
    far = aq >= z0 if z0 > 0 else np.ones(aq.shape, bool)
    if far.mean() < GRID_MIN_FAR:  # mostly small arguments: the direct kernel is cheaper
        r = (a[:, None] + delta[None, :]).ravel()
        return kernel_apply(dim, r, q, V)
    K = coef.size
    r = a[:, None] + delta[None, :]
    rpow = r[:, :, None] ** -power[None, None, :]
    use = np.nonzero(np.any(far, axis=0))[0]
    # chunks of momenta: the right-hand sides hold n K c columns per momentum
    step = max(1, _CHUNK // max(1, n * K * ncol, J))
    for s0 in range(0, use.size, step):
        sel = use[s0 : s0 + step]
        qs = q[sel]
        A = aq[:, sel] - phi
        fm = far[:, sel]
        CA = np.where(fm, np.cos(A), 0.0)
        SA = np.where(fm, np.sin(A), 0.0)
        B = np.outer(qs, delta)  # Q' x n
        cB, sB = np.cos(B)[:, :, None, None], np.sin(B)[:, :, None, None]
        W = (qs[:, None, None] ** -power[None, :, None]) * coef[None, :, None] * V2[sel][:, None, :]  # Q' x K x c
        W = W[:, None, :, :]
        ss = is_sin[None, None, :, None]
        # cos terms: CA (cB W) - SA (sB W); sin terms: SA (cB W) + CA (sB W)
        X = np.where(ss, sB, cB) * W
        Y = np.where(ss, cB, -sB) * W
        Qp = qs.size
        Z = CA @ X.reshape(Qp, -1) + SA @ Y.reshape(Qp, -1)  # J x (n K c)
        out += np.einsum("jnkc,jnk->jnc", Z.reshape(J, n, K, ncol), rpow)
    near = ~far
    if np.any(near):
        rows = np.nonzero(np.any(near, axis=1))[0]
        allnear = rows[np.all(near[rows], axis=1)]
        if allnear.size:
            rr = (a[allnear, None] + delta[None, :]).ravel()
            out[allnear] += kernel_apply(dim, rr, q, V2).reshape(allnear.size, n, ncol)
        for j in rows[~np.all(near[rows], axis=1)]:
            idx = np.nonzero(near[j])[0]
            out[j] += omega_d(dim, np.outer(a[j] + delta, q[idx])) @ V2[idx]
    return out.reshape(J * n) if vec else out.reshape((J * n,) + V.shape[1:])


def grid_forward(dim: int, a: np.ndarray, delta: np.ndarray, p: np.ndarray, U: np.ndarray) -> np.ndarray:
    """``omega_d(outer(p, r)) @ U`` for the grid ``r`` of :func:`grid_apply` (``U``: one row
    per grid node, panel-major), by the same trigonometric addition."""
    U = np.asarray(U, float)
    vec = U.ndim == 1
    a = np.asarray(a, float)
    delta = np.asarray(delta, float)
    p = np.atleast_1d(np.asarray(p, float))
    J, n, P = a.size, delta.size, p.size
    U3 = U.reshape(J, n, -1)
    ncol = U3.shape[2]
    coef, power, is_sin, phi, z0 = grid_terms(dim)
    out = np.zeros((P, ncol))
    r = a[:, None] + delta[None, :]
    pa = np.outer(p, a)
    far = pa >= z0 if z0 > 0 else np.ones(pa.shape, bool)
    if far.mean() < GRID_MIN_FAR:
        return kernel_apply(dim, p, r.ravel(), U)
    if np.any(far):
        A = pa - phi
        CA = np.where(far, np.cos(A), 0.0)
        SA = np.where(far, np.sin(A), 0.0)
        K = coef.size
        Uk = U3[:, :, None, :] * (r[:, :, None] ** -power[None, None, :])[..., None]  # J x n x K x c
        Uk = Uk.reshape(J, -1)
        MC = (CA @ Uk).reshape(P, n, K, ncol)
        MS = (SA @ Uk).reshape(P, n, K, ncol)
        B = np.outer(p, delta)
        cB, sB = np.cos(B)[:, :, None, None], np.sin(B)[:, :, None, None]
        sel = is_sin[None, None, :, None]
        T = np.where(sel, cB * MS + sB * MC, cB * MC - sB * MS)
        pk = coef[None, :] * p[:, None] ** -power[None, :]  # P x K
        out += np.einsum("pnkc,pk->pc", T, pk)
    near = ~far
    for i in np.nonzero(np.any(near, axis=1))[0]:
        idx = np.nonzero(near[i])[0]
        rr = r[idx].ravel()
        out[i] += omega_d(dim, p[i] * rr) @ U3[idx].reshape(-1, ncol)
    return out.reshape(P) if vec else out.reshape((P,) + U.shape[1:])
