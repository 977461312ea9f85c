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

import numpy as np

from ..conventions import sphere_area
from .oneloop import line_values
from .quadrature import composite_nodes

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


def omega_d(dim: int, z):
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
    small = z < 0.5
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
        v = 3.0 * (np.sin(zl) - zl * np.cos(zl)) / zl ** 3
    else:
        nu = dim / 2.0 - 1.0
        v = gamma(dim / 2.0) * (2.0 / zl) ** nu * jv(nu, zl)
    if big is None:
        return v
    out[big] = v
    return out


def kernel_apply(dim, out_nodes, in_nodes, vectors):
    """``omega_d(outer(out_nodes, in_nodes)) @ vectors``, chunked over ``out_nodes``."""
    vectors = np.asarray(vectors, float)
    res = np.empty((out_nodes.size,) + vectors.shape[1:])
    step = max(1, _CHUNK // max(1, in_nodes.size))
    for i in range(0, out_nodes.size, step):
        res[i:i + step] = omega_d(dim, np.outer(out_nodes[i:i + step], in_nodes)) @ vectors
    return res


def _piece_edges(piece, mass, R, L1=None):
    """Reference-variable panel edges on a piece, fine enough for ``omega_d(q r)``, ``r <= R``."""
    if piece.kind == "bump":
        base = np.array(BUMP_EDGES)
    elif piece.kind == "ir":
        qh = float(piece.q_hi[0])
        ratio = mass / max(qh, 1e-300)
        base = np.array(sorted({0.0, 1.0} | {ratio * 2.0 ** j for j in range(-3, 40)
                                             if ratio * 2.0 ** j < 1}))
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

    def __init__(self, cutoff, dim, mass, Lambda):
        self.cutoff, self.dim, self.mass, self.Lambda = cutoff, int(dim), float(mass), float(Lambda)
        self.pieces = cutoff.melon_pieces(self.Lambda)
        self.Sd = sphere_area(self.dim)
        self.pref = self.Sd / (2 * math.pi) ** self.dim
        self._q = {}
        self._f = {}
        self._r = {}
        self.n_kernel = 0  # kernel-matrix elements evaluated (diagnostics)

    # -- momentum side ---------------------------------------------------------------------
    def qnodes(self, R, n, dk_only=False):
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
            t, wt = composite_nodes(_piece_edges(piece, self.mass, R), n)
            p2, jac, k, dk, _ = piece.evaluate(t)
            p2, jac, k, dk = p2[0], jac[0], k[0], dk[0]
            qs.append(np.sqrt(p2))
            ws.append(wt * jac * 0.5 * p2 ** ((self.dim - 2) / 2.0) * self.pref)
            p2s.append(p2)
            ks.append(k)
            dks.append(dk)
        q, w, p2, k, dk = (np.concatenate(a) for a in (qs, ws, p2s, ks, dks))
        if not dk_only:
            a = np.abs(w * k / (p2 + self.mass ** 2))
            tail = np.cumsum(a[::-1])[::-1]  # sum over nodes >= i (nodes are increasing in q)
            keep = tail > NEGLIGIBLE * tail[0]
            last = int(np.nonzero(keep)[0][-1]) + 1 if np.any(keep) else q.size
            q, w, p2, k, dk = q[:last], w[:last], p2[:last], k[:last], dk[:last]
        out = (q, w, p2, k, dk)
        self._q[key] = out
        return out

    def line_q(self, line, R, n):
        """``(q, w, F)``: a line's momentum function at the nodes (``dk_only`` for D lines)."""
        q, w, p2, k, dk = self.qnodes(R, n, dk_only=line.d >= 1)
        return q, w, line_values(line.kt, line.d, p2, k, dk, self.Lambda, self.mass ** 2)

    def q_eff(self, R, n):
        """Largest momentum node kept: the effective bandwidth of a ``Kt`` line."""
        return float(self.qnodes(R, n)[0][-1])

    def shell_max(self, R, n):
        """Largest momentum at which ``D`` is nonzero (bump: ``sqrt(Lambda^2+eps)``)."""
        q, w, p2, k, dk = self.qnodes(R, n, dk_only=True)
        nz = np.nonzero(dk)[0]
        return float(q[nz[-1]]) if nz.size else float(q[-1])

    # -- position side ---------------------------------------------------------------------
    def rgrid(self, R, bw, n):
        """Composite Gauss-Legendre nodes on ``[0, R]`` resolving bandwidth ``bw``."""
        nr = 4 * max(1, int(math.ceil(R * bw / H_PANEL / 4)))  # R/2, R/4 are panel edges
        key = (round(R, 12), nr, n)
        if key not in self._r:
            r, wr = composite_nodes(np.linspace(0.0, R, nr + 1), n)
            self._r[key] = (r, wr)
        return key, self._r[key]

    def transform(self, lines, gkey, R, n):
        """Position-space values ``f_e(r)`` of ``lines`` (no D lines) on grid ``gkey``.

        Also returns each line's ``sum |w F|`` (the scale of its rounding error).
        """
        r, _ = self._r[gkey]
        want = [l for l in dict.fromkeys(lines) if (l, gkey) not in self._f]
        if want:
            # transform the common lines along with the requested ones: the kernel matrix is
            # the cost, extra columns are nearly free
            from ..families import Line

            extra = [Line(k) for k in (1, 2, 3)]
            todo = list(dict.fromkeys(want + [l for l in extra if (l, gkey) not in self._f]))
            q, w, p2, k, dk = self.qnodes(R, n)
            V = np.empty((q.size, len(todo)))
            for j, l in enumerate(todo):
                V[:, j] = w * line_values(l.kt, l.d, p2, k, dk, self.Lambda, self.mass ** 2)
            F = kernel_apply(self.dim, r, q, V)
            self.n_kernel += r.size * q.size
            for j, l in enumerate(todo):
                self._f[(l, gkey)] = (F[:, j], float(np.sum(np.abs(V[:, j]))))
        return [self._f[(l, gkey)] for l in lines]

    def forward(self, g, gkey, p):
        """``g_hat(p) = S_d int r^{d-1} omega_d(p r) g(r) dr`` on grid ``gkey``."""
        r, wr = self._r[gkey]
        m = wr * self.Sd * r ** (self.dim - 1)
        v = m[:, None] * g if np.ndim(g) == 2 else m * g
        self.n_kernel += r.size * np.size(p)
        return kernel_apply(self.dim, np.atleast_1d(p), r, v)

    def inverse(self, Gp, p, wp, gkey):
        """``g(r) = int_p e^{ipr} G(p)`` from momentum nodes ``p`` with weights ``wp``
        (weights include ``S_d/(2 pi)^d p^{d-1} dp``)."""
        r, _ = self._r[gkey]
        self.n_kernel += r.size * p.size
        return kernel_apply(self.dim, r, p, wp * Gp)


def tail_bound(r, env, R):
    """Envelope decay ratio and bound: ``(int_{R/2}^R env, ratio to int_{R/4}^{R/2} env)``."""
    a1 = float(np.sum(env[(r > R / 4) & (r <= R / 2)]))
    a2 = float(np.sum(env[r > R / 2]))
    rho = min(0.9, a2 / a1) if a1 > 0 else (0.0 if a2 == 0 else 0.9)
    return a2, rho


def tail_estimate(I_R, I_R2, I_R4, rho_env):
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


def next_R(R, tail, target, rho):
    """Radius for which the geometric tail model predicts ``tail <= target`` (at least 2R)."""
    if tail <= 0 or rho <= 0 or rho >= 0.9 or tail <= target:
        return 2.0 * R
    # tail(R') ~ tail * (R'/R)^{log2 rho}
    k = math.log(max(target, 1e-300) / tail) / math.log(rho)  # number of doublings
    # the envelope usually decays faster than geometrically in log R: do not overshoot
    return R * 2.0 ** min(1.0, max(1.0, math.ceil(k - 0.25)))
