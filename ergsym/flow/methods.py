"""Several methods, one result shape: B, its pieces, ``<phi^2>``, ``G_p`` and ``M - M0`` on a lattice.

``series``: the O(lam^2) flowed series as exact lattice sums (:mod:`ergsym.flow.lattice`; the
CLI keeps its per-order output).  ``exact``: the few-mode quadrature of
:mod:`ergsym.flow.modes` (1 to 3 modes).  ``mc``: Monte Carlo of the exact flow
(:mod:`ergsym.flow.mcflow`).  ``variational``: the JKO flow of :mod:`ergsym.variational`
through :func:`variational_points` (one scale per run).

Every method takes the same :class:`~ergsym.flow.problem.FlowProblem` and returns, per scale,
``{"Lambda", "values": {name: value object}, "G_p": {...}, "M": {...}, "diagnostics": {...}}``
with value objects ``{"value", "error", "converged", "reliable", ...}``; ``M`` has ``free``,
``interacting``, ``total`` as ``(value, error)`` plus ``statistical`` and ``quadrature``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from .problem import FlowProblem

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["METHODS", "EXACT_MAX_MODES", "check_domain", "exact_points", "exact_seconds", "variational_points"]

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
        raise InputError.bad(
            "--method",
            method,
            "series without --lattice (continuum)",
            f"--method {method} needs a lattice: pass --lattice SHAPE, or use --method series",
        )
    if method == "exact" and problem.volume > EXACT_MAX_MODES:
        raise InputError.bad(
            "--lattice",
            problem.spec,
            f"at most {EXACT_MAX_MODES} sites for --method exact",
            "the exact quadrature is a tensor rule over every mode; use --method mc "
            "(or series at small --lam) on larger lattices",
        )


def exact_seconds(problem: FlowProblem, n_scales: int, with_m: bool) -> float:
    """Rough cost (s) of the exact quadrature: (phi nodes) x (chi nodes) x V per evaluation, twice."""
    from .modes import DEFAULT_NODES

    V = problem.volume
    n = DEFAULT_NODES.get(V, 12)
    per = 2 * ((1.5 * n) ** V) ** 2 * V * _SEC_PER_EXACT_NODE
    return per * n_scales * (3 if with_m else 1)


def _modeflow(problem: FlowProblem):
    from .modes import ModeFlow

    return ModeFlow(lambda L: problem.at(L).kt.ravel(), lambda L: problem.at(L).d.ravel(), problem.Lambda0, problem.lam)


def _vo(v, e):
    return {"value": float(v), "error": float(e), "converged": True, "reliable": True}


def exact_points(problem: FlowProblem, Lambdas: Sequence[float], with_m: bool = True) -> list:
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
        p = {
            "Lambda": L,
            "values": values,
            "G_p": {"value": np.asarray(gp).tolist(), "error": np.asarray(gpe).tolist()},
            "diagnostics": {"quadrature": "tensor Gauss-Hermite, n vs 3n/2 nodes per mode"},
        }
        if with_m:
            free = problem.free_M(L)
            if L == problem.Lambda0:
                tot = (free, 0.0)
            else:
                mv, me = exact_monotone(sysm, L)
                tot = (mv - m0[0], me + m0[1])
            err = tot[1] + 1e-15 * abs(free)
            p["M"] = {
                "free": (free, 1e-15 * abs(free)),
                "interacting": (tot[0] - free, err),
                "total": (tot[0], err),
                "statistical": 0.0,
                "quadrature": err,
                "converged": True,
            }
        out.append(p)
    return out


def finite_or_raise(points: list) -> list:
    """Raise :class:`~ergsym.errors.ConvergenceError` if any number is not finite (never NaN out)."""
    from ..errors import ConvergenceError

    for p in points:
        for k, v in p["values"].items():
            if not (math.isfinite(v["value"]) and math.isfinite(v["error"])):
                raise ConvergenceError(
                    f"{k} at Lambda={p['Lambda']!r} is not finite ({v['value']!r} ± "
                    f"{v['error']!r}): the sampling or quadrature failed",
                    estimate=None,
                    error=None,
                )
    return points


#: what the variational method does not compute, and why (reported, never a number)
VARIATIONAL_NOT_COMPUTED = {
    k: (
        "not computed by --method variational: the score of the pushed law (needed for "
        "delta S_Lambda/delta phi) is not implemented for the learned maps; use --method mc or exact"
    )
    for k in ("A", "dSdS", "dSdShat", "dShatdShat", "LdShat")
}


def _central_B(res, free_M_jko, s, tau):
    """B at step ``s`` from the interacting M of the steps ``s -+ 1`` (and ``s -+ 2``).

    ``I_n = M_n - M_free,jko,n`` (the scheme's O(tau) bias of the free part cancels to leading
    order).  ``B_int = (I_{s+1} - I_{s-1})/(2 tau)``; its statistical error is the jackknife of
    the same combination over the replicas (paired, so the correlation of the steps is kept);
    its difference error is ``|B_h - B_2h|`` with ``B_2h = (I_{s+2} - I_{s-2})/(4 tau)``
    (Richardson: the O(h^2) error of ``B_h`` is a third of it; the whole is taken, noise included).
    """
    from ..variational.flow import jackknife

    ms = res.M_steps
    full = np.array([0.0] + [m[1] for m in ms]) - free_M_jko
    reps = np.array([[0.0] * len(res.M_step_reps[0])] + res.M_step_reps).T - free_M_jko  # (R, n)

    def diff(x, k):
        return (x[..., s + k] - x[..., s - k]) / (2 * k * tau)

    b1, st = jackknife(diff(full, 1), diff(reps, 1))
    b2 = float(diff(full, 2))
    return b1, st, abs(b1 - b2)


def variational_points(
    problem: FlowProblem, Lambda: float, *, n_samples: int = 4000, steps: int = 10, seed: int = 0
) -> list:
    """The JKO flow of :mod:`ergsym.variational` as a flow method (a thin adapter, one scale).

    The run takes the already-built problem (no input is validated again).  It runs two JKO
    steps past ``Lambda`` (``steps + 2`` steps of the same ``tau``) so that B is a central
    difference of M in ``log Lambda`` at ``Lambda``.

    ``M - M0``: the variational estimate after ``steps`` JKO steps (jackknife error, fits
    included).  ``B``: the exact free part plus ``-d/dlog Lambda`` of the interacting M (the
    variational M minus the closed-form free JKO flow with the same steps) as a central
    difference over two steps, with a paired jackknife error plus the difference error
    (:func:`_central_B`); reliable only where the flow converged.  A and the four pieces are
    reported as not computed (``not_computed``, with the reason).  ``<phi^2>`` and ``G_p`` (per
    orbit of moved momenta) from the pushed samples.  The scheme's free part has its own O(tau)
    bias: ``M_minus_M0.interacting`` is the variational M minus the closed-form free JKO flow
    with the same steps, and ``total`` adds the exact free part (docs/monotone_sign.md).
    """
    from ..variational.flow import COUPLED_LAM_MAX, VariationalConfig, compare_with_exact, run_variational
    from ..variational.jko import COST_FACTOR, free_jko_flow

    L = problem.check_Lambda(Lambda)
    if L >= problem.Lambda0:
        raise InputError.bad(
            "--Lambda",
            Lambda,
            f"in (0, Lambda0 = {problem.Lambda0}) for --method variational",
            "the JKO flow needs at least one step",
        )
    steps = int(steps)
    if steps < 2:
        raise InputError.bad("steps", steps, "an integer >= 2", "B is a central difference over two steps")
    tau = math.log(problem.Lambda0 / L) / steps
    L_end = problem.Lambda0 * math.exp(-(steps + 2) * tau)
    if not L_end >= 1e-300:  # the two steps past Lambda must stay a normal positive scale
        raise InputError.bad(
            "--Lambda",
            Lambda,
            f"in [{1e-300 * math.exp(2 * tau):.3g}, Lambda0) for --method variational",
            "B needs two JKO steps of the same size past Lambda; use a larger --Lambda",
        )
    cfg = VariationalConfig(
        shape=problem.shape,
        cutoff=problem.cutoff.spec,
        mass=problem.mass,
        Lambda0=problem.Lambda0,
        Lambda=L_end,
        lam=problem.lam,
        steps=steps + 2,
        n_samples=int(n_samples),
        seed=int(seed),
    )
    res = run_variational(cfg, problem=problem, max_steps=steps)
    cmp = compare_with_exact(res, series=False)
    conv_at_L = bool(res.converged)
    res = run_variational(cfg, _state=res)  # the two steps past Lambda, for the central difference
    conv = bool(res.converged)
    # closed-form free JKO flow with the same steps: M_free,jko,n per step
    _, G = free_jko_flow(
        problem.kt0, lambda x: problem.at(min(x, problem.Lambda0)).kt, problem.Lambda0, L_end, steps + 2, COST_FACTOR
    )
    kts = [problem.at(min(float(x), problem.Lambda0)).kt for x in res.Lambdas]
    free_jko = np.array(
        [float(-0.5 * np.sum(np.log(G[n] / G[0])) + np.sum(G[n] / kts[n] - G[0] / kts[0])) for n in range(steps + 3)]
    )
    b_int, b_stat, b_diff = _central_B(res, free_jko, steps, res.tau)
    b_free = problem.free_B(L)
    reasons = [] if conv else ["the JKO optimisation did not converge at every step"]
    if problem.lam > COUPLED_LAM_MAX and problem.volume > 1:
        # measured: 2 sites, lam = 100, 16 seeds: B high by 0.15 +- 0.04 against the exact flow
        reasons.append(
            f"lam = {problem.lam:g} > {COUPLED_LAM_MAX:g}: the coupled maps are biased there "
            "(2 sites, lam = 100: B high by 4 standard errors over 16 seeds); use --method mc"
        )
    values = {
        "B": {
            "value": b_free + b_int,
            "error": math.hypot(b_stat, b_diff),
            "converged": conv,
            "reliable": not reasons,
            "reasons": reasons,
            "error_parts": {"statistical": b_stat, "difference": b_diff},
            "free": b_free,
            "interacting": b_int,
        },
        "phi2": dict(cmp["phi2"]["variational"], reliable=conv_at_L),
    }
    mm = cmp["M_minus_M0"]
    free = problem.free_M(L)
    # the O(tau) bias of the scheme's free part cancels to leading order in M_var - M_free,jko;
    # the exact free part is added back (as ergsym.variational.compare_with_exact does)
    raw = float(mm["variational"]["value"])
    inter = (raw - float(mm["free_jko_same_tau"]["value"]), float(mm["variational"]["error"]))
    tot = (free + inter[0], inter[1])
    return [
        {
            "Lambda": L,
            "values": values,
            "not_computed": dict(VARIATIONAL_NOT_COMPUTED),
            "G_p": {"orbits": [{"phat2": g["phat2"], "n_modes": g["n_modes"], **g["variational"]} for g in cmp["G_p"]]},
            "M": {
                "free": (free, 1e-15 * abs(free)),
                "interacting": inter,
                "total": tot,
                "statistical": tot[1],
                "quadrature": 0.0,
                "converged": conv_at_L,
            },
            "diagnostics": {
                "steps": steps,
                "steps_run": steps + 2,
                "tau": float(res.tau),
                "samples": int(n_samples),
                "B": f"central difference over the JKO steps at Lambda*exp(+-tau) "
                f"(tau = {res.tau:.4g}) of M_variational - free_jko_same_tau, plus the "
                "exact free B",
                "free_exact": mm["free_exact"]["value"],
                "free_jko_same_tau": mm["free_jko_same_tau"]["value"],
                "M_variational_raw": raw,
                "note": "M_minus_M0.interacting = M_variational_raw - free_jko_same_tau "
                "(the O(tau) bias of the free part cancels to leading order); total "
                "adds free_exact",
            },
        }
    ]
