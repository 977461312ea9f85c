"""Several methods, one result shape: B, its pieces, ``<phi^2>``, ``G_p`` and ``M - M0`` on a lattice.

``series``: the O(lam^2) flowed series as exact lattice sums (:mod:`ergsym.flow.lattice`; the
CLI keeps its per-order output).  ``exact``: the few-mode quadrature of
:mod:`ergsym.flow.modes` (1 to 3 modes).  ``mc``: Monte Carlo of the exact flow
(:mod:`ergsym.flow.mcflow`).  ``variational``: not wired here (see docs/monotone_sign.md).

Every method takes the same :class:`~ergsym.flow.problem.FlowProblem` and returns, per scale,
``{"Lambda", "values": {name: value object}, "G_p": {...}, "M": {...}, "diagnostics": {...}}``
with value objects ``{"value", "error", "converged", "reliable", ...}``; ``M`` has ``free``,
``interacting``, ``total`` as ``(value, error)`` plus ``statistical`` and ``quadrature``.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from .problem import FlowProblem

__all__ = ["METHODS", "EXACT_MAX_MODES", "check_domain", "exact_points", "exact_seconds"]

METHODS = ("series", "exact", "mc", "variational")
#: the exact quadrature is a tensor Gauss-Hermite rule in every mode
EXACT_MAX_MODES = 3
_SEC_PER_EXACT_NODE = 3e-8


def check_domain(method: str, problem: FlowProblem | None) -> None:
    """Refuse a method outside its domain, naming the parameter, the range and the method to use."""
    if method not in METHODS:
        raise InputError.bad("--method", method, "one of " + ", ".join(METHODS))
    if method == "series":
        return
    if problem is None:
        raise InputError.bad("--method", method, "series without --lattice (continuum)",
                             f"--method {method} needs a lattice: pass --lattice SHAPE, or use "
                             "--method series")
    if method == "exact" and problem.volume > EXACT_MAX_MODES:
        raise InputError.bad("--lattice", problem.spec, f"at most {EXACT_MAX_MODES} sites for --method exact",
                             "the exact quadrature is a tensor rule over every mode; use --method mc "
                             "(or series at small --lam) on larger lattices")


def exact_seconds(problem: FlowProblem, n_scales: int, with_m: bool) -> float:
    """Rough cost (s) of the exact quadrature: (phi nodes) x (chi nodes) x V per evaluation, twice."""
    from .modes import DEFAULT_NODES

    V = problem.volume
    n = DEFAULT_NODES.get(V, 12)
    per = 2 * ((1.5 * n) ** V) ** 2 * V * _SEC_PER_EXACT_NODE
    return per * n_scales * (3 if with_m else 1)


def _modeflow(problem: FlowProblem):
    from .modes import ModeFlow

    return ModeFlow(lambda L: problem.at(L).kt.ravel(), lambda L: problem.at(L).d.ravel(),
                    problem.Lambda0, problem.lam)


def _vo(v, e):
    return {"value": float(v), "error": float(e), "converged": True, "reliable": True}


def exact_points(problem: FlowProblem, Lambdas, with_m: bool = True) -> list:
    """The exact few-mode quadrature at every scale (``B`` directly, ``M`` from ``M_Lambda``)."""
    from .modes import exact_monotone, exact_observables

    check_domain("exact", problem)
    sysm = _modeflow(problem)
    m0 = exact_monotone(sysm, problem.Lambda0) if with_m else None
    out = []
    for L in Lambdas:
        L = problem.check_Lambda(L)
        o = exact_observables(sysm, L)
        values = {k: _vo(*o[k]) for k in ("B", "A", "dSdS", "dSdShat", "dShatdShat", "LdShat", "phi2")}
        gp, gpe = o["G_p"]
        p = {"Lambda": L, "values": values,
             "G_p": {"value": np.asarray(gp).tolist(), "error": np.asarray(gpe).tolist()},
             "diagnostics": {"quadrature": "tensor Gauss-Hermite, n vs 3n/2 nodes per mode"}}
        if with_m:
            free = problem.free_M(L)
            if L == problem.Lambda0:
                tot = (free, 0.0)
            else:
                mv, me = exact_monotone(sysm, L)
                tot = (mv - m0[0], me + m0[1])
            err = tot[1] + 1e-15 * abs(free)
            p["M"] = {"free": (free, 1e-15 * abs(free)), "interacting": (tot[0] - free, err),
                      "total": (tot[0], err),
                      "statistical": 0.0, "quadrature": err, "converged": True}
        out.append(p)
    return out


def finite_or_raise(points: list) -> list:
    """Raise :class:`~ergsym.errors.ConvergenceError` if any number is not finite (never NaN out)."""
    from ..errors import ConvergenceError

    for p in points:
        for k, v in p["values"].items():
            if not (math.isfinite(v["value"]) and math.isfinite(v["error"])):
                raise ConvergenceError(f"{k} at Lambda={p['Lambda']!r} is not finite ({v['value']!r} ± "
                                       f"{v['error']!r}): the sampling or quadrature failed", estimate=None,
                                       error=None)
    return points
