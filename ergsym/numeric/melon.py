"""Melon blocks: two vertices joined by ``n >= 3`` lines (SPEC section 2; families.py).

Value of a melon with lines ``F_1 .. F_n`` (momentum-space functions ``Kt^kt D^d``):

.. math::

    M = c \\int d^dx \\prod_e f_e(x), \\qquad f_e(x) = \\int_q e^{iqx} F_e(q),
    \\qquad c = (2\\pi)^d \\text{ if the block holds the D line, else } 1 .

``f2 = M[D,K,K,K] = int d^dp D(p) Sun(p)`` (5.10).

Position-space method (default, ``method="position"``)
------------------------------------------------------
Radial Hankel transforms with the normalized kernel
``omega_d(z) = Gamma(d/2) (2/z)^{d/2-1} J_{d/2-1}(z)`` (the angular average of ``e^{iz cos}``):

.. math::

    f_e(r) = \\frac{S_d}{(2\\pi)^d} \\int_0^\\infty q^{d-1} \\omega_d(qr) F_e(q)\\, dq ,\\qquad
    M = c\\, S_d \\int_0^R r^{d-1} \\prod_e f_e(r)\\, dr .

The ``q`` integral runs over the cutoff's pieces (bump in its local variable), with composite
Gauss-Legendre panels short enough to resolve ``cos(q r)`` up to ``r = R``; the ``r``
integral uses panels resolving the product's bandwidth ``sum_e q_max,e``.  Every ``f_e`` is
a matrix-vector product (``N_r x N_q``).  Error estimate: difference between a 16-point and
a 24-point rule on the same panels, plus the truncation bound ``int_{R/2}^R |integrand|``
(conservative for integrands decaying at least like ``r^-2``), plus rounding.  ``R`` is
doubled until the truncation bound is below a twentieth of the tolerance.

Momentum-space method (``method="momentum"``, independent cross-check, 3 or 4 lines)
------------------------------------------------------------------------------------
Convolutions ``C_12(k) = int_q F_1(q) F_2(k-q)`` by nested radial/angular quadrature
(split at every ``|k -+ b|`` and at the angles where ``|k-q|`` crosses a breakpoint ``b``,
with a sigmoidal endpoint transform), then ``M = c int_k C_12(k) F_3(k)`` or
``c int_k C_12(k) C_34(k)``.  It evaluates ``K`` at ``p^2 = |k-q|^2`` directly (not in the
bump's local variable), so it loses relative precision ``~ 1e-16 Lambda^2/eps`` in ``x``:
use it for moderate ``eps`` only.  Error: 16- vs 24-point difference.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import gamma, j0, j1, jv

from ..conventions import sphere_area
from ..errors import FamilyNotSupportedError, InputError
from .oneloop import line_values
from .quadrature import composite_nodes, gauss_legendre

__all__ = ["melon_value", "omega_d", "position_transform"]

EPS = np.finfo(float).eps
N_LO, N_HI = 16, 24
N_LO_M, N_HI_M = 12, 16  # momentum method (panels of width <= 0.5)
H_PANEL = 12.0  # radians of phase per panel
BUMP_EDGES = (0.0, 0.25, 0.5, 0.7, 0.85, 0.93, 0.97, 1.0)


def omega_d(dim: int, z):
    """``omega_d(z) = Gamma(d/2) (2/z)^{d/2-1} J_{d/2-1}(z)``, ``omega_d(0) = 1`` (z >= 0)."""
    z = np.asarray(z, dtype=float)
    out = np.empty(z.shape)
    small = z < 0.5
    zs = z[small]
    if zs.size:
        nu1 = dim / 2.0
        term = np.ones_like(zs)
        acc = np.ones_like(zs)
        x = -zs * zs / 4.0
        for k in range(1, 14):
            term = term * x / (k * (k - 1 + nu1))
            acc = acc + term
        out[small] = acc
    zl = z[~small]
    if dim == 1:
        v = np.cos(zl)
    elif dim == 2:
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
    out[~small] = v
    return out


# ---------------------------------------------------------------------------------------
# line functions on the cutoff's pieces
# ---------------------------------------------------------------------------------------

def _line_pieces(line, pieces):
    return [p for p in pieces if not (line.d >= 1 and p.dk_zero)]


def _piece_edges(piece, mass, Lambda, R):
    """Reference-variable panel edges on a piece, fine enough for cos(q r), r <= R."""
    if piece.kind == "bump":
        base = np.array(BUMP_EDGES)
    elif piece.kind == "ir":
        qh = float(piece.q_hi[0])
        r = mass / max(qh, 1e-300)
        base = sorted({0.0, 1.0} | {r * 2.0 ** j for j in range(-3, 40) if r * 2.0 ** j < 1})
        base = np.array(base)
    elif piece.kind == "inf":
        base = np.concatenate([1.0 - 2.0 ** -np.arange(0, 40), [1.0]])
    else:
        base = np.linspace(0.0, 1.0, 3)
    # q at the edges
    inner = base[1:-1]
    if inner.size:
        p2 = piece.evaluate(inner)[0][0]
        qi = np.sqrt(p2)
    else:
        qi = np.zeros(0)
    q_hi = float(piece.q_hi[0])
    if not math.isfinite(q_hi):
        q_hi = float(qi[-1]) * 2 if qi.size else 1.0
    qe = np.concatenate([[float(piece.q_lo[0])], qi, [q_hi]])
    edges = [base[0]]
    for i in range(len(base) - 1):
        n = max(1, int(math.ceil((qe[i + 1] - qe[i]) * R / H_PANEL)))
        edges.extend(list(base[i] + (base[i + 1] - base[i]) * np.arange(1, n + 1) / n))
    return np.array(edges)


def _line_nodes(line, pieces, dim, mass, Lambda, R, n):
    """q nodes, weights ``S_d/(2pi)^d q^{d-1} dq`` and values ``F(q)`` of one line."""
    qs, ws, fs = [], [], []
    pref = sphere_area(dim) / (2 * math.pi) ** dim
    for piece in _line_pieces(line, pieces):
        t, wt = composite_nodes(_piece_edges(piece, mass, Lambda, R), n)
        p2, jac, k, dk, _ = piece.evaluate(t)
        p2, jac, k, dk = p2[0], jac[0], k[0], dk[0]
        w = wt * jac * 0.5 * p2 ** ((dim - 2) / 2.0) * pref
        f = line_values(line.kt, line.d, p2, k, dk, Lambda, mass * mass)
        qs.append(np.sqrt(p2))
        ws.append(w)
        fs.append(f)
    return np.concatenate(qs), np.concatenate(ws), np.concatenate(fs)


def _bandwidth(line, pieces):
    lp = _line_pieces(line, pieces)
    qh = max(float(p.q_hi[0]) for p in lp)
    if not math.isfinite(qh):
        qh = max(float(p.q_lo[0]) for p in lp) * 4 + 10
    return qh


def position_transform(line, cutoff, dim, mass, Lambda, r, R=None, n=N_HI):
    """``f(r) = int_q e^{iqr} F(q)`` of one line at radii ``r`` (for tests and plots)."""
    r = np.asarray(r, float)
    pieces = cutoff.pieces(Lambda)
    R = float(np.max(r)) if R is None else R
    q, w, f = _line_nodes(line, pieces, dim, mass, Lambda, max(R, 1.0), n)
    return omega_d(dim, np.outer(r.ravel(), q)) @ (w * f)


def _position(lines, cutoff, dim, mass, Lambda, rtol, outer, p_ext, R0=None):
    pieces = cutoff.pieces(Lambda)
    bw = sum(_bandwidth(l, pieces) for l in lines) + (float(np.max(p_ext)) if p_ext is not None else 0.0)
    Sd = sphere_area(dim)
    c = (2 * math.pi) ** dim if outer else 1.0
    lo_scale = min(Lambda, mass)
    R = 16.0 / lo_scale if R0 is None else float(R0)
    info = {}
    for _attempt in range(8):
        res = []
        for n in (N_LO, N_HI):
            nr = max(4, int(math.ceil(R * bw / H_PANEL)))
            r, wr = composite_nodes(np.linspace(0.0, R, nr + 1), n)
            fvals, fabs = [], []
            done = {}
            for line in lines:
                if line not in done:
                    q, w, f = _line_nodes(line, pieces, dim, mass, Lambda, R, n)
                    done[line] = (omega_d(dim, np.outer(r, q)) @ (w * f), np.sum(np.abs(w * f)))
                fv, fa = done[line]
                fvals.append(fv)
                fabs.append(np.full(r.shape, fa))
            g = c * Sd * r ** (dim - 1) * np.prod(fvals, axis=0)
            # rounding: each f_e has absolute error ~ 8 eps sum|w f|
            rnd = np.zeros_like(r)
            for i in range(len(lines)):
                others = np.prod([np.abs(fvals[j]) for j in range(len(lines)) if j != i], axis=0) \
                    if len(lines) > 1 else 1.0
                rnd = rnd + 8 * EPS * fabs[i] * others
            rnd = c * Sd * r ** (dim - 1) * rnd
            # truncation: envelope integrals over [R/4,R/2] and [R/2,R]; the tail beyond R is
            # bounded by the geometric continuation of their ratio (capped at 0.9), times 2
            a1 = np.sum((wr * np.abs(g))[(r > R / 4) & (r <= R / 2)])
            a2 = np.sum((wr * np.abs(g))[r > R / 2])
            rho = min(0.9, a2 / a1) if a1 > 0 else (0.0 if a2 == 0 else 0.9)
            tail_b = 2.0 * a2 * rho / (1.0 - rho) + (a2 * 1e-3)
            if p_ext is None:
                I = np.array([wr @ g])
                tail = np.array([tail_b])
                rr = np.array([wr @ rnd])
            else:
                Om = omega_d(dim, np.outer(p_ext, r))
                I = Om @ (wr * g)
                tail = np.full(p_ext.shape, tail_b)
                rr = np.full(p_ext.shape, wr @ rnd)
            res.append((I, tail, rr, r.size, 0))
        (I0, _, _, _, _), (I1, tail, rr, nr_nodes, _) = res
        tol = rtol * np.abs(I1)
        info = {"R": R, "n_r": nr_nodes, "bandwidth": bw}
        if np.all(tail <= 0.1 * np.maximum(tol, 1e-300)):
            break
        R *= 2.0
    err = np.abs(I1 - I0) + tail + rr
    conv = err <= np.maximum(tol, 1e-300)
    return I1, err, conv, info


# ---------------------------------------------------------------------------------------
# momentum-space cross-check
# ---------------------------------------------------------------------------------------

def _refine(e, hmax=0.5):
    """Split panels of ``e`` longer than ``hmax``."""
    e = np.asarray(e, float)
    out = [e[0]]
    for a, b in zip(e[:-1], e[1:]):
        k = max(1, int(math.ceil((b - a) / hmax)))
        out.extend(list(a + (b - a) * np.arange(1, k + 1) / k))
    return np.array(out)


def _sigmoid(n):
    """Nodes/weights on [0,1] of GL composed with x = t^3/(t^3+(1-t)^3) (endpoint clustering)."""
    t, w = gauss_legendre(n)
    a, b = t ** 3, (1 - t) ** 3
    x = a / (a + b)
    dx = 3 * t ** 2 * (1 - t) ** 2 / (a + b) ** 2
    return x, w * dx


class _LineFn:
    """A line as a function of |q| using the cutoff pointwise (momentum method)."""

    def __init__(self, line, cutoff, mass, Lambda):
        self.line, self.cutoff, self.m2, self.lam = line, cutoff, mass * mass, Lambda
        pieces = cutoff.pieces(Lambda)
        lp = _line_pieces(line, pieces)
        self.q_lo = min(float(p.q_lo[0]) for p in lp)
        qh = max(float(p.q_hi[0]) for p in lp)
        if not math.isfinite(qh):
            raise FamilyNotSupportedError("momentum method needs a truncated cutoff tail; use "
                                          "method='position' for custom cutoffs")
        self.q_hi = qh
        bps = [math.sqrt(b) for b in cutoff.breakpoints(Lambda)]
        self.bps = sorted({b for b in bps + [self.q_lo, self.q_hi] if self.q_lo <= b <= self.q_hi})
        # extra panel points grading the bump (its shape is steep near x -> 1)
        extra = []
        for p in lp:
            if p.kind == "bump":
                extra.extend(np.sqrt(p.evaluate(np.array(BUMP_EDGES[1:-1]))[0][0]).tolist())
        self.pts = sorted(set(self.bps) | set(extra))

    def __call__(self, q):
        q = np.asarray(q, float)
        p2 = q * q
        out = np.zeros(q.shape)
        inside = (q > self.q_lo) & (q < self.q_hi)
        if np.any(inside):
            p = p2[inside]
            lam = np.full(p.shape, self.lam)
            k = self.cutoff._K(p, lam)
            dk = self.cutoff._dK(p, lam)
            out[inside] = line_values(self.line.kt, self.line.d, p, k, dk, self.lam, self.m2)
        return out


def _conv(F1, F2, dim, kn, n):
    """``C(k) = int_q F1(q) F2(|k-q|)`` at nodes ``kn`` (loop over k, vectorized inside)."""
    x, w = _sigmoid(n)
    out = np.zeros(kn.shape)
    U = np.array(F2.pts)
    pref = sphere_area(dim - 1) / (2 * math.pi) ** dim if dim >= 2 else 1.0 / (2 * math.pi)
    for i, k in enumerate(kn):
        if dim == 1:
            tot = 0.0
            for sgn in (1.0, -1.0):
                # q >= 0 radial variable of F1, argument |k - sgn q|
                cuts = {F1.q_lo, F1.q_hi} | set(F1.pts)
                cuts |= {abs(sgn * (k - u)) for u in U} | {abs(sgn * (k + u)) for u in U}
                e = _refine(sorted(c for c in cuts if F1.q_lo <= c <= F1.q_hi))
                h = np.diff(e)
                q = (e[:-1, None] + h[:, None] * x).ravel()
                wq = (h[:, None] * w).ravel()
                tot += wq @ (F1(q) * F2(np.abs(k - sgn * q)))
            out[i] = pref * tot
            continue
        cuts = {F1.q_lo, F1.q_hi} | set(F1.pts) | {abs(k - u) for u in U} | {k + u for u in U}
        e = _refine(sorted(c for c in cuts if F1.q_lo <= c <= F1.q_hi))
        h = np.diff(e)
        q = (e[:-1, None] + h[:, None] * x).ravel()
        wq = (h[:, None] * w).ravel() * q ** (dim - 1) * F1(q)
        keep = wq != 0
        q, wq = q[keep], wq[keep]
        if q.size == 0:
            continue
        # theta cuts where |k - q| = u: cos = (k^2 + q^2 - u^2) / (2 k q)
        with np.errstate(divide="ignore", invalid="ignore"):
            cth = (k * k + q[:, None] ** 2 - U[None, :] ** 2) / (2 * k * q[:, None])
        th = np.arccos(np.clip(np.nan_to_num(cth, nan=2.0), -1, 1))
        th = np.sort(np.concatenate([np.zeros((q.size, 1)), th, np.full((q.size, 1), math.pi)], axis=1), axis=1)
        ht = np.diff(th, axis=1)  # (Nq, M+1)
        tn = th[:, :-1, None] + ht[:, :, None] * x  # (Nq, M+1, n)
        wt = ht[:, :, None] * w
        u = np.sqrt(np.maximum(k * k + q[:, None, None] ** 2 - 2 * k * q[:, None, None] * np.cos(tn), 0.0))
        inner = np.sum(wt * np.sin(tn) ** (dim - 2) * F2(u), axis=(1, 2))
        out[i] = pref * (wq @ inner)
    return out


def _momentum(lines, cutoff, dim, mass, Lambda, rtol, outer):
    if len(lines) not in (3, 4):
        raise FamilyNotSupportedError(
            f"the momentum-space method handles melons with 3 or 4 lines, not {len(lines)}; "
            "use method='position'")
    fns = [_LineFn(l, cutoff, mass, Lambda) for l in lines]
    # put the narrowest-support line first (outer variable of its convolution)
    order = sorted(range(len(fns)), key=lambda i: fns[i].q_hi - fns[i].q_lo)
    fns = [fns[i] for i in order]
    c = (2 * math.pi) ** dim if outer else 1.0
    Sd = sphere_area(dim)
    if len(fns) == 3:
        groups = [(fns[1], fns[2])]
        single = fns[0]
    else:
        groups = [(fns[0], fns[1]), (fns[2], fns[3])]
        single = None
    # k range and edges
    if single is not None:
        klo, khi = single.q_lo, single.q_hi
        kcuts = set(single.pts)
    else:
        klo, khi = 0.0, min(g[0].q_hi + g[1].q_hi for g in groups)
        kcuts = set()
    for a, b in groups:
        for u in a.bps:
            for v in b.bps:
                kcuts |= {abs(u - v), u + v}
    kcuts |= {klo, khi}
    e = _refine(sorted(x for x in kcuts if klo <= x <= khi))
    res = []
    for n in (N_LO_M, N_HI_M):
        x, w = _sigmoid(n)
        h = np.diff(e)
        kn = (e[:-1, None] + h[:, None] * x).ravel()
        wk = (h[:, None] * w).ravel() * Sd / (2 * math.pi) ** dim * kn ** (dim - 1)
        if dim == 1:
            wk = wk * 1.0  # S_1 = 2 counts +-k
        vals = np.ones_like(kn)
        for a, b in groups:
            vals = vals * _conv(a, b, dim, kn, n)
        if single is not None:
            vals = vals * single(kn)
        res.append(c * (wk @ vals))
    I0, I1 = res
    err = abs(I1 - I0) + 64 * EPS * abs(I1)
    return I1, err, err <= rtol * abs(I1), {"n_k": int(kn.size)}


def melon_value(lines, cutoff, dim, mass, Lambda, rtol, method="position", outer=False, p_ext=None,
                R0=None):
    """Value of a melon block at one point: ``(estimate, error, converged, info)``.

    ``lines``: tuple of :class:`~ergsym.families.Line` (``n >= 3``); ``outer``: multiply
    by ``(2 pi)^d``; ``p_ext``: external momenta (array), position method only (``Sun(p)``);
    ``R0``: initial truncation radius (a scan passes the previous point's final ``R``; the
    truncation test still doubles it when needed).
    """
    if len(lines) < 2:
        raise InputError.bad("lines", lines, "at least 2 lines")
    for l in lines:
        if l.d == 0 and l.kt <= 0:
            from ..errors import DivergentIntegralError

            raise DivergentIntegralError(
                f"a melon line Kt^{l.kt} does not decay at large momentum: its Fourier transform "
                "does not exist")
        if l.kt < 0 or (l.d >= 1 and l.kt + l.d <= 0):
            cutoff.raise_if_divergent(l.kt, l.d, dim, Lambda)
    if method == "position":
        I, err, conv, info = _position(lines, cutoff, dim, mass, Lambda, rtol, outer, p_ext, R0)
        if p_ext is None:
            return float(I[0]), float(err[0]), bool(conv[0]), info
        return I, err, conv, info
    if p_ext is not None:
        raise InputError.bad("method", method, "'position' for the sunset at external momentum")
    return _momentum(lines, cutoff, dim, mass, Lambda, rtol, outer)
