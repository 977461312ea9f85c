"""Continuum values along the Polchinski flow, through the numeric layer (docs/flow.md).

Families along the flow have three line functions at the scale ``Lambda``:
``K = Kt_Lambda``, ``D = Lambda dKt_Lambda/dLambda`` and ``Delta = Kt_Lambda0 - Kt_Lambda``
(Cotler & Rezchikov, PRD 108, 025003, eq. (2.4)).  They are evaluated by
:mod:`ergsym.numeric.delta`: the numeric layer's loops, melons and transforms with momentum
nodes that resolve both ``K_Lambda`` and ``K_Lambda0``, shared by every block of one point.
Any cutoff of the numeric layer works where the families are finite (``f0``, hence ``B`` at
O(1), diverges for ``exp``/``fermi``: condition (B3)4 of the paper's Appendix B).

``M_Lambda - M_Lambda0 = int_Lambda^Lambda0 B dL/L``: the free part is
``-1/2 int d^dp log(K_Lambda/K_Lambda0)`` (same momentum nodes, 20- vs 16-point rules); the
interacting part uses Gauss-Legendre nodes in ``log Lambda`` (one point) or, for a scan,
one Chebyshev interpolant of ``B - B_free`` on Clenshaw-Curtis nodes over the whole range,
integrated from every scan point (error: difference with the nested half rule, plus the
propagated family errors).

Public: :func:`flow_continuum`, :func:`running_couplings_continuum`,
:func:`monotone_difference`, :func:`flow_scan_continuum`, :class:`FlowScales`,
:func:`family_value_continuum`, :func:`series_continuum`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..conventions import validate_dim, validate_mass
from ..errors import InputError
from .diagrams import validate_order

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ..cutoffs import Cutoff
    from ..families import Family
    from ..symbolic.series import Series

__all__ = [
    "FlowScales",
    "family_value_continuum",
    "series_continuum",
    "flow_continuum",
    "monotone_difference",
    "running_couplings_continuum",
    "flow_scan_continuum",
    "validate_scales",
    "validate_components",
    "MIN_EPS",
]

#: smallest bump eps accepted along the flow (the Lambda0 bump is rebuilt from p^2)
MIN_EPS = 1e-4


def validate_components(N: int, use: str = "numbers") -> int:
    """``N`` (field components) as a positive int, or :class:`InputError` naming ``N``.

    Numbers need an integer: the symbol ``"N"`` is refused with a pointer to the series API.
    """
    from ..symbolic.theory import validate_n

    n_comp = validate_n(N)
    if not isinstance(n_comp, int):
        where = "running_couplings(order, 'N')" if use == "running_couplings" else "flow_monotone(order, form, N='N')"
        raise InputError.bad(
            "N",
            N,
            "a positive integer for numbers",
            f"use ergsym.flow.{where} for the polynomials in N",
        )
    return n_comp


def validate_scales(cutoff: str | Cutoff, Lambda0: float, Lambda: float) -> tuple[Cutoff, float, float]:
    """Parse the cutoff and check ``0 < Lambda <= Lambda0`` (and the cutoff's own limits)."""
    from ..cutoffs import parse_cutoff

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
    """One point ``(cutoff, dim, mass)`` at ``Lambda`` flowed from ``Lambda0``; holds the
    :class:`~ergsym.numeric.delta.FlowPointContext` and the block cache of that point."""

    def __init__(self, cutoff: str | Cutoff, dim: int, mass: float, Lambda0: float, Lambda: float):
        from ..numeric.delta import FlowPointContext

        self.cutoff, self.Lambda0, self.Lambda = validate_scales(cutoff, Lambda0, Lambda)
        if self.cutoff.kind == "bump" and self.cutoff.eps < MIN_EPS:
            raise InputError.bad(
                "eps", self.cutoff.eps, f">= {MIN_EPS} along the flow", "use a lattice (--lattice) or a larger eps"
            )
        self.dim = validate_dim(dim)
        self.mass = validate_mass(mass)
        self.ctx = FlowPointContext(self.cutoff, self.dim, self.mass, self.Lambda, self.Lambda0)
        self.cache = {}


def family_value_continuum(
    family: Family, scales: FlowScales, rtol: float = 1e-8, cache: dict | None = None
) -> tuple[float, float]:
    """``(value, error)`` of a flowed family (coefficient of ``delta^d(0)`` if it has ``D``)."""
    from ..numeric.delta import flow_family

    v = flow_family(family, scales.ctx, rtol, scales.cache if cache is None else cache)
    return float(v.estimate), float(v.error)


def series_continuum(
    series: Series, scales: FlowScales, lam: float, rtol: float = 1e-8, cache: dict | None = None
) -> dict:
    """Per-order values, the total at ``lam`` and the converged flag of a series.

    Returns
    -------
    dict
        ``{"per_order": [(value, error), ...], "total": (value, error), "converged": bool}``;
        errors propagate linearly; ``converged`` is that of every family.
    """
    from ..numeric.delta import flow_series

    per, conv = flow_series(series, scales.ctx, rtol, scales.cache if cache is None else cache)
    from ..inputs import series_sum  # a coupling where a term overflows: InputError naming --lam

    tot, terr = series_sum([v for v, _ in per], lam, [e for _, e in per])
    return {"per_order": per, "total": (tot, terr), "converged": bool(conv)}


def flow_continuum(
    cutoff: str | Cutoff,
    dim: int,
    mass: float,
    Lambda0: float,
    Lambda: float,
    lam: float,
    order: int = 2,
    forms: Sequence[str] = ("A", "B"),
    rtol: float = 1e-6,
    scales: FlowScales | None = None,
    N: int = 1,
) -> dict:
    """A, B and/or pieces at ``Lambda`` along the flow, continuum, coefficient of ``delta^d(0)``.

    Parameters
    ----------
    cutoff : str or Cutoff
    dim : int
    mass : float
    Lambda0, Lambda : float
        ``0 < Lambda <= Lambda0``.
    lam : float
    order : int
        0..2 (the O(lam^3) flowed series contain general blocks).
    forms : iterable of str
    rtol : float
    scales : FlowScales, optional
        Reuse a point's transforms (e.g. with :func:`running_couplings_continuum`).
    N : int
        Field components of the O(N) model (:func:`ergsym.flow.flow_monotone`): A, B and the
        pieces are summed over components; the families are those of ``N = 1``.

    Returns
    -------
    dict of form -> {"per_order": [(v, e)...], "total": (v, e), "converged": bool}
    """
    from .monotone import flow_monotone

    order = validate_order(order, 2)
    n_comp = validate_components(N)
    scales = scales or FlowScales(cutoff, dim, mass, Lambda0, Lambda)
    return {f: series_continuum(flow_monotone(order, f, n_comp), scales, float(lam), rtol) for f in forms}


def running_couplings_continuum(
    cutoff: str | Cutoff,
    dim: int,
    mass: float,
    Lambda0: float,
    Lambda: float,
    lam: float,
    order: int = 2,
    rtol: float = 1e-6,
    scales: FlowScales | None = None,
    N: int = 1,
) -> dict:
    """Zero-momentum couplings of ``V_Lambda`` (:func:`ergsym.flow.running_couplings`).

    Returns ``{"m2": ..., "lam": ..., "g6": ..., "vacuum": ...}`` each as
    :func:`series_continuum` output; ``m2`` is the shift of the mass term, the quartic at
    ``Lambda0`` is ``lam``.  ``N`` (a positive integer) gives the O(N) model's couplings
    (``V = sum_n v_n (phi.phi)^(n/2) / n!`` for a uniform field; ``m2`` per component).
    """
    from .interaction import running_couplings

    order = validate_order(order, 2)
    scales = scales or FlowScales(cutoff, dim, mass, Lambda0, Lambda)
    n_comp = validate_components(N, "running_couplings")
    return {k: series_continuum(s, scales, float(lam), rtol) for k, s in running_couplings(order, n_comp).items()}


def free_monotone_difference(scales: FlowScales, N: int = 1) -> tuple[float, float]:
    """``M_Lambda - M_Lambda0`` of the free field: ``-N/2 int d^dp log(K_Lambda/K_Lambda0)``.

    Per ``delta^d(0)``, on the point's momentum nodes (20- vs 16-point rules); ``N`` components
    contribute alike.  Diverges for cutoffs whose ``log K`` difference grows at large ``p``
    (``exp``, ``fermi``).
    """
    n_comp = validate_components(N)
    from ..errors import DivergentIntegralError
    from ..numeric.transforms import N_HI, N_LO

    if scales.cutoff.kind != "bump":
        raise DivergentIntegralError(
            f"M_Lambda - M_Lambda0 of the free field diverges for {scales.cutoff.spec}: "
            "log(K_Lambda/K_Lambda0) grows at large p (as f0 does, (B3)4); use a bump cutoff"
        )
    ctx = scales.ctx
    R = 32.0 / min(ctx.mass, ctx.Lambda)
    vals = []
    for n in (N_HI, N_LO):
        q, w, p2, k, dk = ctx.qnodes(R, n)
        k0 = ctx._k0[(round(R, 12), n, False)]
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(k0 > 0, np.log(np.where(k > 0, k, 1.0) / np.where(k0 > 0, k0, 1.0)), 0.0)
        vals.append(-0.5 * (2 * math.pi) ** ctx.dim * float(np.sum(w * f)))
    if n_comp != 1:
        vals = [n_comp * v for v in vals]
    return vals[0], abs(vals[0] - vals[1]) + 1e-14 * abs(vals[0])


def _b_interacting(series, cutoff, dim, mass, L0, L, lam, rtol):
    r = series_continuum(series, FlowScales(cutoff, dim, mass, L0, L), lam, rtol)
    v = sum(vv * lam**k for k, (vv, _) in enumerate(r["per_order"]) if k >= 1)
    e = sum(ee * abs(lam) ** k for k, (_, ee) in enumerate(r["per_order"]) if k >= 1)
    n = len(r["per_order"]) - 1
    last = r["per_order"][-1][0] * lam**n if n >= 1 else 0.0
    prev = r["per_order"][-2][0] * lam ** (n - 1) if n >= 2 else 0.0
    return v, e, r["converged"], last, prev


def monotone_difference(
    cutoff: str | Cutoff,
    dim: int,
    mass: float,
    Lambda0: float,
    Lambda: float,
    lam: float,
    order: int = 2,
    n_log: int = 8,
    rtol: float = 1e-6,
    N: int = 1,
) -> dict:
    """``M_Lambda - M_Lambda0 = int_Lambda^Lambda0 B(L) dL/L`` (per ``delta^d(0)``).

    The free part is :func:`free_monotone_difference`; the interacting part ``B - B_free`` is
    integrated in ``log Lambda`` with ``n_log`` Gauss-Legendre nodes, the error being the
    difference with ``n_log/2`` nodes plus the propagated family errors.  ``N``: field
    components of the O(N) model (B summed over them).

    Returns
    -------
    dict
        ``{"free": (v, e), "interacting": (v, e), "total": (v, e), "converged": bool}``.
    """
    from ..numeric.quadrature import composite_nodes
    from .monotone import flow_monotone

    cutoff, L0, L = validate_scales(cutoff, Lambda0, Lambda)
    if not (isinstance(n_log, (int, np.integer)) and 2 <= n_log <= 200):
        raise InputError.bad("n_log", n_log, "an integer in [2, 200]")
    n_comp = validate_components(N)
    free = free_monotone_difference(FlowScales(cutoff, dim, mass, L0, L), n_comp)
    if L == L0:
        return {"free": free, "interacting": (0.0, 0.0), "total": free, "converged": True}
    order = validate_order(order, 2)
    series = flow_monotone(order, "B", n_comp)
    lam = float(lam)
    a, b = math.log(L), math.log(L0)
    done = {}

    def integral(n):
        x, w = composite_nodes([a, b], n)
        tot, err, conv, last, prev = 0.0, 0.0, True, 0.0, 0.0
        for xi, wi in zip(x, w):
            key = round(float(xi), 15)
            if key not in done:
                done[key] = _b_interacting(series, cutoff, dim, mass, L0, math.exp(xi), lam, rtol)
            v, e, c, t_last, t_prev = done[key]
            tot += wi * v
            err += wi * e
            last += wi * t_last
            prev += wi * t_prev
            conv = conv and c
        return tot, err, conv, last, prev

    hi = integral(n_log)
    lo = integral(max(2, n_log // 2))
    inter = (hi[0], hi[1] + abs(hi[0] - lo[0]))
    conv = hi[2] and inter[1] <= max(rtol * abs(free[0] + inter[0]), 1e-300)
    trunc, ratio = _m_truncation(hi[3], hi[4], order)
    return {
        "free": free,
        "interacting": inter,
        "total": (free[0] + inter[0], free[1] + inter[1]),
        "converged": bool(conv and (ratio is None or ratio < 1)),
        "truncation": trunc,
        "ratio_of_last_terms": ratio,
    }


def _m_truncation(last, prev, order):
    """Truncation of M - M0: the integrated last kept order (the first omitted one taken as large),
    with the ratio of the last two integrated orders (None when undefined)."""
    trunc = abs(float(last)) if order >= 1 else 0.0
    if order < 2:
        return trunc, None
    ratio = trunc / abs(prev) if prev != 0 else (0.0 if trunc == 0 else None)
    return trunc, ratio


def _lobatto(n):
    """Chebyshev-Lobatto points on [-1, 1] (n intervals, n+1 points), increasing."""
    return -np.cos(np.pi * np.arange(n + 1) / n)


def _cheb_cumulative(x_nodes, values, x_eval, a, b):
    """``int_x^b f`` from the interpolant of ``values`` at Lobatto nodes mapped to ``[a, b]``."""
    from numpy.polynomial import chebyshev as C

    t = _lobatto(len(x_nodes) - 1)
    coef = C.chebfit(t, values, len(t) - 1)
    anti = C.chebint(coef) * (b - a) / 2
    te = (2 * np.asarray(x_eval) - (a + b)) / (b - a)
    return C.chebval(1.0, anti) - C.chebval(te, anti)


def flow_scan_continuum(
    cutoff: str | Cutoff,
    dim: int,
    mass: float,
    Lambda0: float,
    Lambdas: Sequence[float],
    lam: float,
    order: int = 2,
    forms: Sequence[str] = ("A", "B"),
    n_log: int = 8,
    rtol: float = 1e-6,
    progress: Callable[[int, int], object] | None = None,
    couplings: bool = True,
    N: int = 1,
) -> list[dict]:
    """A, B (and pieces), the running couplings and ``M - M0`` at every scale of a scan.

    ``M_Lambda - M_Lambda0`` at all scales comes from one Chebyshev interpolant of
    ``B - B_free`` on ``2 n_log + 1`` Clenshaw-Curtis nodes in ``log Lambda`` over
    ``[min Lambdas, Lambda0]`` (error: difference with the nested ``n_log + 1``-node
    interpolant, plus the propagated family errors); the free part is exact per point.

    Parameters
    ----------
    Lambdas : sequence of float
    progress : callable, optional
        ``progress(n_done, n_total)`` after each evaluation (a progress bar).
    couplings : bool
        Also the running couplings at every scale (``"couplings"`` is None otherwise).
    N : int
        Field components of the O(N) model.

    Returns
    -------
    list of dict
        Per scale ``{"Lambda", "forms", "couplings", "M"}`` (formats of :func:`flow_continuum`,
        :func:`running_couplings_continuum`, :func:`monotone_difference`).
    """
    from .monotone import flow_monotone

    order = validate_order(order, 2)
    n_comp = validate_components(N)
    Ls = [validate_scales(cutoff, Lambda0, L)[2] for L in Lambdas]
    cutoff, L0, _ = validate_scales(cutoff, Lambda0, min(Ls))
    if not (isinstance(n_log, (int, np.integer)) and 2 <= n_log <= 200):
        raise InputError.bad("n_log", n_log, "an integer in [2, 200]")
    lam = float(lam)
    a, b = math.log(min(Ls)), math.log(L0)
    nodes = [] if a == b else list(np.exp(a + (b - a) * (_lobatto(2 * n_log) + 1) / 2))
    total = len(Ls) + len(nodes)
    done = 0
    series_b = flow_monotone(order, "B", n_comp)
    out = []
    for L in Ls:
        sc = FlowScales(cutoff, dim, mass, L0, L)
        fc = flow_continuum(cutoff, dim, mass, L0, L, lam, order, forms, rtol, scales=sc, N=n_comp)
        rc = (
            running_couplings_continuum(cutoff, dim, mass, L0, L, lam, order, rtol, scales=sc, N=n_comp)
            if couplings
            else None
        )
        free = free_monotone_difference(sc, n_comp)
        out.append({"Lambda": L, "forms": fc, "couplings": rc, "free": free})
        done += 1
        if progress:
            progress(done, total)
    vals, errs, convs, lasts, prevs = [], [], [], [], []
    for L in nodes:
        v, e, c, t_last, t_prev = _b_interacting(series_b, cutoff, dim, mass, L0, float(L), lam, rtol)
        vals.append(v)
        errs.append(e)
        convs.append(c)
        lasts.append(t_last)
        prevs.append(t_prev)
        done += 1
        if progress:
            progress(done, total)
    x = [math.log(L) for L in Ls]
    if nodes:
        full = _cheb_cumulative(nodes, np.array(vals), x, a, b)
        half = _cheb_cumulative(nodes[::2], np.array(vals[::2]), x, a, b)
        c_last = _cheb_cumulative(nodes, np.array(lasts), x, a, b)
        c_prev = _cheb_cumulative(nodes, np.array(prevs), x, a, b)
        prop = float(
            np.sum(
                np.array(errs)
                * np.abs(np.diff(np.concatenate([[a], (np.log(nodes[:-1]) + np.log(nodes[1:])) / 2, [b]])))
            )
        )
    else:
        full = half = c_last = c_prev = np.zeros(len(Ls))
        prop = 0.0
    for i, p in enumerate(out):
        iv = float(full[i])
        ie = float(abs(full[i] - half[i])) + prop if p["Lambda"] < L0 else 0.0
        iv = iv if p["Lambda"] < L0 else 0.0
        fr = p.pop("free")
        conv = all(convs) and ie <= max(rtol * abs(fr[0] + iv), 1e-300)
        trunc, ratio = _m_truncation(c_last[i], c_prev[i], order) if p["Lambda"] < L0 else (0.0, None)
        p["M"] = {
            "free": fr,
            "interacting": (iv, ie),
            "total": (fr[0] + iv, fr[1] + ie),
            "converged": bool(conv and (ratio is None or ratio < 1)),
            "truncation": trunc,
            "ratio_of_last_terms": ratio,
        }
    return out
