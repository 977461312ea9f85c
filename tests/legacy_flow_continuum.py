"""The flow's former continuum evaluator (bump only), a test-only reference for benchmarks/bench_flow.py and
the comparison tests; ergsym.flow.continuum (through ergsym.numeric.delta) replaces it.

Families along the flow have three line functions at the scale ``Lambda``:
``K = Kt_Lambda``, ``D = Lambda dKt_Lambda/dLambda`` and ``Delta = Kt_Lambda0 - Kt_Lambda``.
:func:`ergsym.numeric.evaluate_family` evaluates lines at one scale only, so this module has
its own evaluator (a workaround inside ``ergsym/flow``):

* ``loop``: ``c int_0^inf S_d q^{d-1} F(q) dq`` (``c = 1`` for the outer ``int d^dp``,
  ``(2 pi)^-d`` for ``int_q``);
* ``bridge``: ``F(0)``;
* ``melon``: ``c' S_d int_0^R r^{d-1} prod_e f_e(r) dr`` with
  ``f_e(r) = S_d/(2 pi)^d int q^{d-1} omega_d(q r) F_e(q) dq`` (``omega_d`` from
  :mod:`ergsym.numeric.melon`), ``c' = (2 pi)^d`` for the outer block.

The ``q`` integrals use composite Gauss-Legendre panels split at every breakpoint of
``K_Lambda`` and ``K_Lambda0`` (both bumps, the plateau, the kink; tail cut at
``p^2 = kink + 40 tail_scale``, relative size ``e^-40``), panels no wider than the phase
resolution of ``cos(q R)``.  The error estimate is the difference between 16- and 24-point
rules plus, for melons, the change when ``R`` is doubled.  Panels are in ``q`` (not the
bump's local variable): accurate for ``eps >~ 1e-4``; smaller ``eps`` is refused.

Public: :func:`family_value_continuum`, :func:`series_continuum`, :func:`flow_continuum`,
:func:`monotone_difference`, :func:`running_couplings_continuum`.
"""

from __future__ import annotations

import math

import numpy as np

from ergsym.conventions import sphere_area, validate_dim, validate_mass
from ergsym.errors import FamilyNotSupportedError, InputError
from ergsym.flow.diagrams import validate_order
from ergsym.numeric.melon import omega_d
from ergsym.numeric.quadrature import composite_nodes

__all__ = [
    "FlowScales",
    "family_value_continuum",
    "series_continuum",
    "flow_continuum",
    "monotone_difference",
    "running_couplings_continuum",
    "validate_scales",
    "MIN_EPS",
]

#: smallest bump eps the q-panel quadrature of this module accepts
MIN_EPS = 1e-4
N_LO, N_HI = 16, 24
_BUMP_EDGES = (0.02, 0.06, 0.12, 0.25, 0.5, 0.75, 0.88, 0.94, 0.98)


def validate_scales(cutoff, Lambda0, Lambda):
    """Parse the cutoff and check ``0 < Lambda <= Lambda0 <= lambda_max`` (bump only)."""
    from ergsym.cutoffs import parse_cutoff

    cutoff = parse_cutoff(cutoff)
    try:
        L0 = float(Lambda0)
        L = float(Lambda)
    except (TypeError, ValueError):
        raise InputError.bad("Lambda", Lambda, "a real number") from None
    if not (math.isfinite(L0) and L0 > 0):
        raise InputError.bad("Lambda0", Lambda0, "finite and > 0")
    if not (math.isfinite(L) and 0 < L <= L0):
        raise InputError.bad(
            "Lambda", Lambda, f"in (0, Lambda0 = {L0}]", "the Polchinski flow runs from Lambda0 towards the infrared"
        )
    cutoff.validate_Lambda(L0)
    return cutoff, L0, L


class FlowScales:
    """Line functions ``K, D, Delta`` of a bump cutoff at ``Lambda`` flowed from ``Lambda0``."""

    def __init__(self, cutoff, dim, mass, Lambda0, Lambda):
        self.cutoff, self.Lambda0, self.Lambda = validate_scales(cutoff, Lambda0, Lambda)
        if self.cutoff.kind != "bump":
            raise InputError.bad(
                "cutoff",
                self.cutoff.spec,
                "a bump cutoff ('bump:eps=...,lambda_max=...')",
                "continuum flow values need compactly supported Lambda-derivatives",
            )
        if self.cutoff.eps < MIN_EPS:
            raise InputError.bad(
                "eps",
                self.cutoff.eps,
                f">= {MIN_EPS} for the flow's continuum quadrature",
                "use a lattice (--lattice) or a larger eps",
            )
        self.dim = validate_dim(dim)
        self.mass = validate_mass(mass)
        c = self.cutoff
        pts = set(c.breakpoints(self.Lambda)) | set(c.breakpoints(self.Lambda0))
        for L in (self.Lambda, self.Lambda0):  # resolve the flat ends of each bump
            pts |= {L * L + c.eps * x for x in _BUMP_EDGES}
        pts = sorted(pts)
        self.p2_edges = [0.0] + pts + [c.kink + 40.0 * c.tail_scale]
        self.q_edges = np.sqrt(np.array(self.p2_edges))

    def line(self, line, q):
        """``Kt^kt D^d Delta^delta`` at momenta ``q``."""
        p2 = np.asarray(q, float) ** 2
        den = p2 + self.mass**2
        k = self.cutoff.K(p2, self.Lambda)
        out = np.ones_like(p2)
        if line.kt:
            out = out * (k / den) ** line.kt
        if line.d:
            out = out * (self.cutoff.Lambda_dK(p2, self.Lambda) / den) ** line.d
        if line.delta:
            out = out * ((self.cutoff.K(p2, self.Lambda0) - k) / den) ** line.delta
        return out

    def support(self, line):
        """``[q_lo, q_hi]`` outside which the line vanishes (D, Delta: compact)."""
        lo, hi = 0.0, float(self.q_edges[-1])
        if line.d:
            lo, hi = max(lo, self.Lambda), min(hi, math.sqrt(self.Lambda**2 + self.cutoff.eps))
        if line.delta:
            lo, hi = max(lo, self.Lambda), min(hi, math.sqrt(self.Lambda0**2 + self.cutoff.eps))
        return lo, hi

    def nodes(self, line, n, hmax):
        lo, hi = self.support(line)
        e = [v for v in self.q_edges if lo <= v <= hi]
        e = sorted(set([lo, hi] + e))
        edges = [e[0]]
        for a, b in zip(e[:-1], e[1:]):
            k = max(1, int(math.ceil((b - a) / hmax)))
            edges.extend(list(a + (b - a) * np.arange(1, k + 1) / k))
        return composite_nodes(edges, n)


def _loop(scales, line, outer):
    d = scales.dim
    pref = sphere_area(d) * (1.0 if outer else (2 * math.pi) ** (-d))
    vals = []
    for n in (N_LO, N_HI):
        q, w = scales.nodes(line, n, 0.5)
        vals.append(pref * np.sum(w * q ** (d - 1) * scales.line(line, q)))
    return vals[1], abs(vals[1] - vals[0]) + 1e-15 * abs(vals[1])


def _melon(scales, lines, outer, rtol):
    d = scales.dim
    Sd = sphere_area(d)
    bw = sum(scales.support(l)[1] for l in lines)
    qmax = max(scales.support(l)[1] for l in lines)
    distinct = sorted(set(lines))
    mult = [lines.count(l) for l in distinct]
    R = 24.0 / min(scales.mass, scales.Lambda)
    prev = None
    change = math.inf
    c_out = (2 * math.pi) ** d if outer else 1.0
    for _ in range(4):
        vals = []
        for n in (N_LO, N_HI):
            hq = min(0.5, 6.0 / R)
            nr = max(8, int(math.ceil(R * bw / 6.0)))
            r, wr = composite_nodes(np.linspace(0.0, R, nr + 1), n)
            e = [v for v in scales.q_edges if v <= qmax]
            e = sorted(set(e + [qmax]))
            edges = [e[0]]
            for a, b in zip(e[:-1], e[1:]):
                k = max(1, int(math.ceil((b - a) / hq)))
                edges.extend(list(a + (b - a) * np.arange(1, k + 1) / k))
            q, w = composite_nodes(edges, n)
            cols = np.stack([w * q ** (d - 1) * scales.line(l, q) for l in distinct], axis=1)
            f = (omega_d(d, np.outer(r, q)) @ cols) * (Sd / (2 * math.pi) ** d)
            prod = np.ones_like(r)
            for k, m in enumerate(mult):
                prod = prod * f[:, k] ** m
            vals.append(Sd * np.sum(wr * r ** (d - 1) * prod))
        v = vals[1] * c_out
        err = abs(vals[1] - vals[0]) * c_out
        if prev is not None:
            change = abs(v - prev)
            if change <= max(0.1 * rtol * abs(v), 1e-300) or change <= 0.1 * err:
                return v, err + change
        prev = v
        R *= 2.0
    return v, err + change


def _block(scales, block, rtol):
    kind = block.kind
    if kind == "loop":
        return _loop(scales, block.lines[0], block.has_d)
    if kind == "bridge":
        return float(scales.line(block.lines[0], np.array([0.0]))[0]), 0.0
    if kind == "melon":
        return _melon(scales, block.lines, block.has_d, rtol)
    raise FamilyNotSupportedError(
        f"block {block.name} (kind {kind}) has no continuum evaluator in ergsym.flow; evaluate on a lattice instead"
    )


def family_value_continuum(family, scales, rtol=1e-8, cache=None):
    """``(value, error)`` of a flowed family (coefficient of ``delta^d(0)`` if it has ``D``)."""
    cache = {} if cache is None else cache
    vals = []
    for b in family.blocks:
        if b not in cache:
            cache[b] = _block(scales, b, rtol)
        vals.append(cache[b])
    v = 1.0
    for x, _ in vals:
        v *= x
    err = 0.0
    for i, (_, e) in enumerate(vals):
        others = 1.0
        for j, (x, _) in enumerate(vals):
            if j != i:
                others *= abs(x)
        err += others * e
    return v, err


def series_continuum(series, scales, lam, rtol=1e-8, cache=None):
    """Per-order values and the total at ``lam`` of a series, with linear error propagation.

    Returns
    -------
    dict
        ``{"per_order": [(value, error), ...], "total": (value, error)}``.
    """
    cache = {} if cache is None else cache
    per = [[0.0, 0.0] for _ in range(series.order + 1)]
    for t in series.terms:
        v, e = family_value_continuum(t.family, scales, rtol, cache)
        per[t.order][0] += float(t.coeff) * v
        per[t.order][1] += abs(float(t.coeff)) * e
    tot = sum(v * lam**k for k, (v, _) in enumerate(per))
    terr = sum(e * abs(lam) ** k for k, (_, e) in enumerate(per))
    return {"per_order": [tuple(p) for p in per], "total": (tot, terr)}


def flow_continuum(cutoff, dim, mass, Lambda0, Lambda, lam, order=2, forms=("A", "B"), rtol=1e-6):
    """A, B and/or pieces at ``Lambda`` along the flow, continuum, coefficient of ``delta^d(0)``.

    Parameters
    ----------
    cutoff : str or Cutoff
        A bump cutoff (docs/flow.md).
    dim : int
    mass : float
    Lambda0, Lambda : float
        ``0 < Lambda <= Lambda0 <= lambda_max``.
    lam : float
    order : int
        0..2 (the O(lam^3) flowed series contain general blocks).
    forms : iterable of str
    rtol : float

    Returns
    -------
    dict of form -> {"per_order": [(v, e)...], "total": (v, e)}
    """
    from ergsym.flow.monotone import flow_monotone

    order = validate_order(order, 2)
    scales = FlowScales(cutoff, dim, mass, Lambda0, Lambda)
    cache = {}
    return {f: series_continuum(flow_monotone(order, f), scales, float(lam), rtol, cache) for f in forms}


def running_couplings_continuum(cutoff, dim, mass, Lambda0, Lambda, lam, order=2, rtol=1e-6):
    """Zero-momentum couplings of ``V_Lambda`` (:func:`ergsym.flow.running_couplings`).

    Returns ``{"m2": ..., "lam": ..., "g6": ..., "vacuum": ...}`` each as
    :func:`series_continuum` output; ``m2`` is the shift of the mass term, the quartic at
    ``Lambda0`` is ``lam``.
    """
    from ergsym.flow.interaction import running_couplings

    order = validate_order(order, 2)
    scales = FlowScales(cutoff, dim, mass, Lambda0, Lambda)
    cache = {}
    return {k: series_continuum(s, scales, float(lam), rtol, cache) for k, s in running_couplings(order).items()}


def free_monotone_difference(scales):
    """``M_Lambda - M_Lambda0`` of the free field: ``-1/2 int d^dp log(K_Lambda/K_Lambda0)``.

    Closed form per ``delta^d(0)``; the integrand lives on ``Lambda^2 <= p^2 <= Lambda0^2+eps``.
    """
    d = scales.dim
    c = scales.cutoff
    lo, hi = scales.Lambda, math.sqrt(scales.Lambda0**2 + c.eps)
    vals = []
    for n in (N_LO, N_HI):
        e = [v for v in scales.q_edges if lo <= v <= hi]
        e = sorted(set([lo, hi] + e))
        q, w = composite_nodes(e, n)
        p2 = q * q
        f = np.log(c.K(p2, scales.Lambda) / c.K(p2, scales.Lambda0))
        vals.append(-0.5 * sphere_area(d) * np.sum(w * q ** (d - 1) * f))
    return vals[1], abs(vals[1] - vals[0]) + 1e-15 * abs(vals[1])


def monotone_difference(cutoff, dim, mass, Lambda0, Lambda, lam, order=2, n_log=8, rtol=1e-6):
    """``M_Lambda - M_Lambda0 = int_Lambda^Lambda0 B(L) dL/L`` (per ``delta^d(0)``).

    The free part is the closed form :func:`free_monotone_difference`; the interacting part
    ``B - B_free`` is integrated in ``log Lambda`` with ``n_log`` Gauss-Legendre nodes, the
    error being the difference with ``n_log/2`` nodes plus the propagated family errors.

    Returns
    -------
    dict
        ``{"free": (v, e), "interacting": (v, e), "total": (v, e)}``.
    """
    cutoff, L0, L = validate_scales(cutoff, Lambda0, Lambda)
    scales = FlowScales(cutoff, dim, mass, L0, L)
    free = free_monotone_difference(scales)
    if L == L0:
        return {"free": free, "interacting": (0.0, 0.0), "total": free}
    from ergsym.flow.monotone import flow_monotone

    order = validate_order(order, 2)
    series = flow_monotone(order, "B")
    a, b = math.log(L), math.log(L0)

    def integral(n):
        x, w = composite_nodes([a, b], n)
        tot, err = 0.0, 0.0
        for xi, wi in zip(x, w):
            sc = FlowScales(cutoff, dim, mass, L0, math.exp(xi))
            r = series_continuum(series, sc, float(lam), rtol)
            v = sum(vv * lam**k for k, (vv, _) in enumerate(r["per_order"]) if k >= 1)
            e = sum(ee * abs(lam) ** k for k, (_, ee) in enumerate(r["per_order"]) if k >= 1)
            tot += wi * v
            err += wi * e
        return tot, err

    hi = integral(n_log)
    lo = integral(max(2, n_log // 2))
    inter = (hi[0], hi[1] + abs(hi[0] - lo[0]))
    return {"free": free, "interacting": inter, "total": (free[0] + inter[0], free[1] + inter[1])}
