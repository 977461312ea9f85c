"""Exact lattice values along the flow (docs/flow.md).

On a periodic lattice every flowed family is a finite sum: :func:`ergsym.lattice.sums.family_value`
with ``Kt_p = Kt_Lambda``, ``D_p = Lambda dKt_Lambda/dLambda`` and
``Delta_p = Kt_Lambda0,p - Kt_Lambda,p`` at ``phat^2``.  So A, B, the pieces, the running
couplings and ``M_Lambda - M_Lambda0`` (free part exact, interacting part by Gauss-Legendre in
``log Lambda``) are exact order by order up to float rounding.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from ..inputs import series_sum
from ..lattice.sums import family_value, lattice_propagators
from ..numeric.quadrature import composite_nodes
from .continuum import validate_components, validate_scales
from .diagrams import validate_order

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..cutoffs import Cutoff
    from .problem import FlowProblem

__all__ = [
    "flow_arrays",
    "flow_lattice",
    "running_couplings_lattice",
    "monotone_difference_lattice",
    "phi2_lattice",
    "lattice_components",
]


def flow_arrays(
    shape: tuple[int, ...],
    cutoff: str | Cutoff,
    mass: float,
    Lambda0: float,
    Lambda: float,
    problem: FlowProblem | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(Kt_p, D_p, Delta_p)`` on the FFT grid of ``shape`` (validated scales).

    With ``problem`` (a :class:`~ergsym.flow.problem.FlowProblem`, built and validated once at
    the edge) its momenta and propagators are used and the other arguments are ignored.
    """
    if problem is not None:
        a = problem.at(Lambda)
        return a.kt, a.d, problem.kt0 - a.kt
    cutoff, L0, L = validate_scales(cutoff, Lambda0, Lambda)
    kt, d = lattice_propagators(shape, cutoff, mass, L)
    kt0, _ = lattice_propagators(shape, cutoff, mass, L0)
    return kt, d, kt0 - kt


def lattice_components(problem: FlowProblem | None, N: int | None = None) -> int:
    """The number of field components of a lattice flow: ``problem.N`` when a problem is given.

    ``N`` (default 1) is used without a problem; given with a problem, it must equal
    ``problem.N`` (:class:`InputError` otherwise).
    """
    if problem is None:
        return validate_components(1 if N is None else N)
    if N is not None and validate_components(N) != problem.N:
        raise InputError.bad("N", N, f"N={problem.N}, that of the FlowProblem given", "drop N (it is problem.N)")
    return problem.N


def _series_values(series, arrays, lam):
    kt, d, dl = arrays
    per = series.evaluate(lambda f: family_value(f, kt, d, dl))
    per = [float(v) for v in per]
    return {
        "per_order": [(v, 0.0) for v in per],
        "total": (series_sum(per, lam), 0.0),
    }  # InputError naming --lam where a term overflows


def flow_lattice(
    shape: tuple[int, ...],
    cutoff: str | Cutoff,
    mass: float,
    Lambda0: float,
    Lambda: float,
    lam: float,
    order: int = 2,
    forms: Sequence[str] = ("A", "B"),
    problem: FlowProblem | None = None,
    N: int | None = None,
) -> dict:
    """A, B and/or pieces at ``Lambda`` on a lattice: whole lattice sums, exact per order.

    Returns the same layout as :func:`ergsym.flow.continuum.flow_continuum` (errors 0: exact
    up to rounding).  ``problem``: as for :func:`flow_arrays`.  ``N``: field components of the
    O(N) model (default ``problem.N``, or 1); A, B and the pieces are summed over components.
    """
    from .monotone import flow_monotone

    order = validate_order(order)
    n_comp = lattice_components(problem, N)
    arrays = flow_arrays(shape, cutoff, mass, Lambda0, Lambda, problem)
    return {f: _series_values(flow_monotone(order, f, n_comp), arrays, float(lam)) for f in forms}


def phi2_lattice(
    shape: tuple[int, ...],
    cutoff: str | Cutoff,
    mass: float,
    Lambda0: float,
    Lambda: float,
    lam: float,
    order: int = 2,
    problem: FlowProblem | None = None,
    N: int | None = None,
) -> dict:
    """``<phi_x^2>_Lambda`` per site along the flow (:func:`ergsym.flow.flow_phi2`; exact per order).

    ``N`` components (default ``problem.N``, or 1): ``<phi_a phi_a>`` summed over ``a``.
    """
    from .monotone import flow_phi2

    order = validate_order(order)
    n_comp = lattice_components(problem, N)
    arrays = flow_arrays(shape, cutoff, mass, Lambda0, Lambda, problem)
    return _series_values(flow_phi2(order, n_comp), arrays, float(lam))


def running_couplings_lattice(
    shape: tuple[int, ...],
    cutoff: str | Cutoff,
    mass: float,
    Lambda0: float,
    Lambda: float,
    lam: float,
    order: int = 2,
    problem: FlowProblem | None = None,
    N: int | None = None,
) -> dict:
    """Zero-momentum couplings of ``V_Lambda`` on a lattice (per site; exact per order).

    ``N`` components (default ``problem.N``, or 1): the O(N) couplings of
    :func:`ergsym.flow.running_couplings` (``V = sum_n v_n (phi.phi)^(n/2)/n!`` for a uniform field).
    """
    from .interaction import running_couplings

    order = validate_order(order)
    n_comp = lattice_components(problem, N)
    arrays = flow_arrays(shape, cutoff, mass, Lambda0, Lambda, problem)
    return {k: _series_values(s, arrays, float(lam)) for k, s in running_couplings(order, n_comp).items()}


def monotone_difference_lattice(
    shape: tuple[int, ...],
    cutoff: str | Cutoff,
    mass: float,
    Lambda0: float,
    Lambda: float,
    lam: float,
    order: int = 2,
    n_log: int = 12,
    problem: FlowProblem | None = None,
    N: int | None = None,
) -> dict:
    """``M_Lambda - M_Lambda0`` on a lattice: ``-N/2 sum_p log(K_Lambda/K_Lambda0)`` + interacting part.

    ``N`` components (default ``problem.N``, or 1): the free part is ``N`` times one
    component's, B is summed over components.

    The interacting part ``int_Lambda^Lambda0 (B - B_free) dL/L`` uses ``n_log`` Gauss-Legendre
    nodes in ``log Lambda`` on each panel between the bump breakpoints crossed; its error is
    the difference with ``n_log/2`` nodes.

    Truncation: the series is summed through ``lam**order``; the first omitted order is taken
    as large as the last kept one, so ``truncation = |lam^N int c_N|`` (as for the sums of B,
    docs/flow.md), with ``ratio = |t_N/t_{N-1}|`` of the last two integrated orders (>= 1: the
    series is outside its range of validity and ``converged`` is False).

    Returns
    -------
    dict ``{"free": (v, e), "interacting": (v, e), "total": (v, e), "truncation": t,
    "ratio_of_last_terms": r or None, "per_order": [v_1, ..., v_N], "converged": bool}``
    (``per_order``: the integrated ``lam^k`` terms, ``k >= 1``).  With ``problem`` (a
    :class:`~ergsym.flow.problem.FlowProblem`) its momenta and propagators are used and
    ``shape``, ``cutoff``, ``mass`` and ``Lambda0`` are ignored.
    """
    from ..conventions import lattice_phat2
    from ..inputs import as_lattice
    from .monotone import flow_monotone

    order = validate_order(order)
    n_comp = lattice_components(problem, N)
    if problem is not None:
        cutoff, L0, L = problem.cutoff, problem.Lambda0, problem.check_Lambda(Lambda)
        p2 = problem.p2
    else:
        cutoff, L0, L = validate_scales(cutoff, Lambda0, Lambda)
        p2 = lattice_phat2(as_lattice(shape, name="shape").shape)
    free = float(-0.5 * n_comp * np.sum(np.log(cutoff.K(p2, L) / cutoff.K(p2, L0)))) + 0.0  # no -0.0
    if L == L0:
        return {
            "free": (free, 0.0),
            "interacting": (0.0, 0.0),
            "total": (free, 0.0),
            "truncation": 0.0,
            "ratio_of_last_terms": None,
            "per_order": [0.0] * order,
            "converged": True,
        }
    series = flow_monotone(order, "B", n_comp)
    # B(Lambda') is piecewise smooth: kinks where Lambda'^2 (+eps) crosses a lattice phat^2
    eps = getattr(cutoff, "eps", 0.0)
    cuts = {math.log(L), math.log(L0)}
    for v in np.unique(p2):
        for s in (v, v - eps):
            if s > 0 and L * L < s < L0 * L0:
                cuts.add(0.5 * math.log(s))
    edges = sorted(cuts)

    if problem is not None:
        kt0 = problem.kt0

        def props(x):
            a = problem.at(x)
            return a.kt, a.d
    else:
        kt0, _ = lattice_propagators(shape, cutoff, mass, L0)

        def props(x):
            return lattice_propagators(shape, cutoff, mass, x)

    def integral(n):
        x, w = composite_nodes(edges, n)
        terms = np.zeros(order)
        for xi, wi in zip(x, w):
            kt, d = props(math.exp(xi))
            per = series.evaluate(lambda f, kt=kt, d=d: family_value(f, kt, d, kt0 - kt))
            terms += wi * np.array([float(v) * lam**k for k, v in enumerate(per) if k >= 1])
        return terms

    t_hi = integral(n_log)
    t_lo = integral(max(2, n_log // 2))
    hi, lo = float(np.sum(t_hi)), float(np.sum(t_lo))
    inter = (hi, abs(hi - lo) + 1e-14 * abs(hi))
    trunc = abs(float(t_hi[-1])) if order >= 1 else 0.0
    prev = abs(float(t_hi[-2])) if order >= 2 else 0.0
    ratio = trunc / prev if prev > 0 else (0.0 if trunc == 0 else None)
    conv = ratio is None and order == 1 or (ratio is not None and ratio < 1.0)
    return {
        "free": (free, 1e-15 * abs(free)),
        "interacting": inter,
        "total": (free + hi, inter[1] + 1e-15 * abs(free)),
        "truncation": trunc,
        "ratio_of_last_terms": ratio,
        "per_order": [float(v) for v in t_hi],
        "converged": bool(conv),
    }
