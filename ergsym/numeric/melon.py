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

from ..conventions import sphere_area
from ..errors import FamilyNotSupportedError, InputError
from .oneloop import line_values
from .quadrature import composite_nodes, gauss_legendre
from .transforms import BUMP_EDGES, H_PANEL, N_HI, N_LO, next_R, omega_d, tail_bound, tail_estimate

__all__ = ["melon_value", "omega_d", "position_transform"]

EPS = np.finfo(float).eps
N_LO_M, N_HI_M = 12, 16  # momentum method (panels of width <= 0.5)


def _line_pieces(line, pieces):
    return [p for p in pieces if not (line.d >= 1 and p.dk_zero)]


def position_transform(line, cutoff, dim, mass, Lambda, r, R=None, n=N_HI):
    """``f(r) = int_q e^{iqr} F(q)`` of one line (no D) at radii ``r`` (for tests and plots)."""
    from .transforms import PointContext, kernel_apply

    r = np.asarray(r, float)
    ctx = PointContext(cutoff, dim, mass, Lambda)
    R = max(float(np.max(r)) if R is None else R, 1.0)
    q, w, f = ctx.line_q(line, R, n)
    return kernel_apply(dim, r.ravel(), q, w * f).reshape(r.shape)


def _position(lines, cutoff, dim, mass, Lambda, rtol, outer, p_ext, R0=None, ctx=None):
    """Position-space value (module docstring); ``ctx`` shares transforms between blocks."""
    from .transforms import PointContext

    if ctx is None:
        ctx = PointContext(cutoff, dim, mass, Lambda)
    dlines = [l for l in lines if l.d >= 1]
    dline = dlines[0] if (outer and dlines) else None
    others = list(lines)
    if dline is not None:
        others.remove(dline)
    c = (2 * math.pi) ** dim if outer else 1.0
    lo_scale = min(Lambda, mass)
    R = 16.0 / lo_scale if R0 is None else float(R0)

    def one_pass(R, n):
        qe = ctx.q_eff(R, n)
        if dline is not None:
            pmax = ctx.shell_max(R, n)
        else:
            pmax = float(np.max(p_ext)) if p_ext is not None else 0.0
        gkey, (r, wr) = ctx.rgrid(R, len(others) * qe + pmax, n)
        tr = ctx.transform(others, gkey, R, n)
        fv = [f for f, _ in tr]
        P = np.prod(fv, axis=0)
        meas = wr * ctx.Sd * r ** (dim - 1)
        _, rho_env = tail_bound(r, meas * np.abs(P), R)
        rnd = np.zeros_like(r)
        for i, (_, a) in enumerate(tr):
            others_abs = np.prod([np.abs(fv[j]) for j in range(len(fv)) if j != i], axis=0) \
                if len(fv) > 1 else 1.0
            rnd = rnd + 8 * EPS * a * others_abs
        rnd_r = float(meas @ rnd)
        # integrand truncated at R, R/2, R/4 (panel edges): columns of one transform
        cols = np.stack([P, P * (r <= R / 2), P * (r <= R / 4)], axis=1)
        if dline is not None:
            q, w, F = ctx.line_q(dline, R, n)
            Ph = ctx.forward(cols, gkey, q)
            vals = c * ((w * F) @ Ph)[:, None]
            rr = c * float(np.sum(np.abs(w * F))) * rnd_r
        elif p_ext is not None:
            vals = c * ctx.forward(cols, gkey, p_ext).T
            rr = c * rnd_r
        else:
            vals = c * (meas @ cols)[:, None]
            rr = c * rnd_r
        val = vals[0]
        tail, rho = tail_estimate(vals[0], vals[1], vals[2], rho_env)
        rr = rr + 64 * EPS * np.abs(val)
        return val, tail, rr, rho, r.size

    for _attempt in range(8):
        I1, tail, rr, rho, nr_nodes = one_pass(R, N_HI)
        tol = rtol * np.abs(I1)
        target = 0.5 * max(float(np.min(tol)), 1e-300)
        if np.max(tail) <= target:
            break
        R = next_R(R, float(np.max(tail)), 0.5 * target, rho)
    I0 = one_pass(R, N_LO)[0]
    err = np.abs(I1 - I0) + tail + rr
    conv = err <= np.maximum(tol, 1e-300)
    info = {"R": R, "n_r": nr_nodes, "kernel_evals": ctx.n_kernel}
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
                R0=None, ctx=None):
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
        I, err, conv, info = _position(lines, cutoff, dim, mass, Lambda, rtol, outer, p_ext, R0, ctx)
        if p_ext is None:
            return float(I[0]), float(err[0]), bool(conv[0]), info
        return I, err, conv, info
    if p_ext is not None:
        raise InputError.bad("method", method, "'position' for the sunset at external momentum")
    return _momentum(lines, cutoff, dim, mass, Lambda, rtol, outer)
