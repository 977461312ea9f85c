"""Task kinds: Monte Carlo runs, cross-check points, integral and flow scan points.

Each kind is a pair: a *task function* that runs where the task is scheduled (it takes plain
data and returns a dict) and a *builder* that makes the :class:`~ergsym.batch.task.Task`
list and assembles the results.  The Monte Carlo ones call the lattice layer's public API
(:func:`ergsym.lattice.run.run_mc`, :func:`ergsym.lattice.crosscheck.compare_with_series`)
through :func:`mc_task` only, so changes of that layer meet ergsym.batch in one place.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import InputError
from .run import run_batch
from .task import Task, rng_from_seed, spawn_seeds

if TYPE_CHECKING:
    from ..lattice.crosscheck import CrosscheckResult
    from ..lattice.stats import Stats
    from .run import BatchResult

__all__ = [
    "mc_task",
    "theory_spec",
    "mc_points",
    "run_mc_points",
    "report_lattice_runs",
    "combine_stats",
    "crosscheck_ensemble",
    "integrals_task",
    "integral_scan",
    "map_tasks",
]


# --- Monte Carlo -----------------------------------------------------------------------------


def theory_spec(
    theory: object = None,
    *,
    lattice: str | tuple[int, ...] | None = None,
    cutoff: str | None = None,
    mass: float = 1.0,
    Lambda: float = 1.0,
    N: int = 1,
) -> dict:
    """Plain-data description of the free lattice theory of a Monte Carlo task.

    Either ``lattice`` + ``cutoff`` (a spec string) + ``mass`` + ``Lambda`` (small: the
    propagators are rebuilt where the task runs) or a :class:`~ergsym.lattice.theory.LatticeTheory`
    (its ``Kt_p``, ``D_p`` arrays and its ``N`` are written into the task).  ``N``: field
    components (recorded only when not 1, so that N = 1 task descriptions are unchanged).
    """
    if theory is not None:
        cfg = theory.to_config()
        cfg["lam"] = 0.0
        return {"config": cfg}
    if lattice is None or cutoff is None:
        raise InputError.bad("theory", None, "a LatticeTheory, or lattice= and cutoff= (a spec string)")
    if not isinstance(cutoff, str):
        cutoff = getattr(cutoff, "spec", None)
        if not isinstance(cutoff, str):
            raise InputError.bad(
                "cutoff",
                cutoff,
                "a cutoff spec string such as 'bump:eps=0.5,lambda_max=2'",
                "a task travels as plain data",
            )
    spec = {
        "lattice": lattice if isinstance(lattice, str) else "x".join(map(str, lattice)),
        "cutoff": cutoff,
        "mass": float(mass),
        "Lambda": float(Lambda),
    }
    if N != 1:
        spec["N"] = int(N)
    return spec


def _build_theory(theory: dict, lam: float):
    from ..lattice.theory import LatticeTheory  # noqa: PLC0415

    if "config" in theory:
        return LatticeTheory.from_config(theory["config"]).with_lam(lam)
    from ..cutoffs import parse_cutoff  # noqa: PLC0415
    from ..inputs import as_lattice  # noqa: PLC0415

    return LatticeTheory.from_cutoff(
        as_lattice(theory["lattice"], name="lattice"),
        parse_cutoff(theory["cutoff"]),
        theory["mass"],
        theory["Lambda"],
        lam,
        N=theory.get("N", 1),
    )


def mc_task(
    theory: dict,
    lam: float,
    n_traj: int,
    seed: int | dict,
    n_therm: int = 20,
    observables: list[str] | None = None,
    chains: bool = False,
    mc_options: dict | None = None,
) -> dict:
    """One Monte Carlo run (the adapter to :func:`ergsym.lattice.run.run_mc`).

    Parameters
    ----------
    theory : dict
        :func:`theory_spec`.
    lam : float
        Quartic coupling.
    n_traj, n_therm : int
        Trajectories (thermalization included) and thermalization.
    seed : int or dict
        An int (the chain of ``ergsym mc --seed SEED``) or a spawned seed of :func:`spawn_seeds`.
    observables : list of str, optional
        Observables to summarize (default all).
    chains : bool
        Also return the measurement chains (numpy arrays; stored in the task's ``.npz``).
    mc_options : dict, optional
        Further :func:`~ergsym.lattice.run.run_mc` options (``n_steps``, ``integrator``, ...).

    Returns
    -------
    dict
        ``lam``, ``acceptance``, ``n_traj``, ``sampler`` and ``stats`` (name -> all fields of
        :class:`~ergsym.lattice.stats.Stats`), plus ``chains`` when asked.  Wall time is kept
        out of the result (the store records it next to it), so results are reproducible.
    """
    from ..lattice.run import run_mc  # noqa: PLC0415

    th = _build_theory(theory, lam)
    opts = dict(mc_options or {})
    opts.setdefault("progress", False)
    if isinstance(seed, dict):
        res = run_mc(th, n_traj, rng=rng_from_seed(seed), n_therm=n_therm, **opts)
    else:
        rng_from_seed(seed)  # validates
        res = run_mc(th, n_traj, seed=seed, n_therm=n_therm, **opts)
    names = list(res.chains) if observables is None else list(observables)
    out = {
        "lam": float(lam),
        "acceptance": res.acceptance,
        "n_traj": res.n_traj,
        "sampler": res.sampler_config,
        "stats": {n: dataclasses.asdict(res.stats(n)) for n in names},
        "warnings": [str(w) for w in res.warnings],
    }
    if chains:
        out["chains"] = {n: res.chains[n] for n in names}
    return out


def _seed_label(seed):
    if isinstance(seed, dict):
        return "ss" + str(seed["entropy"]) + "." + ".".join(map(str, seed["spawn_key"]))
    return str(seed)


def mc_points(
    theory: dict,
    points: Sequence[tuple],
    n_traj: int,
    *,
    n_therm: int = 20,
    observables: list[str] | None = None,
    chains: bool = False,
    mc_options: dict | None = None,
) -> list:
    """Tasks for Monte Carlo runs at ``points = [(lam, seed), ...]`` (keys ``lam=../seed=..``)."""
    tasks = []
    for lam, seed in points:
        tasks.append(
            Task(
                f"lam={float(lam)!r}/seed={_seed_label(seed)}",
                "ergsym.batch.kinds:mc_task",
                {
                    "theory": theory,
                    "lam": float(lam),
                    "n_traj": n_traj,
                    "seed": seed,
                    "n_therm": n_therm,
                    "observables": observables,
                    "chains": chains,
                    "mc_options": dict(mc_options or {}),
                },
            )
        )
    return tasks


def run_mc_points(
    theory: object,
    points: Sequence[tuple],
    n_traj: int,
    *,
    scheduler: object = None,
    store: str | os.PathLike | None = None,
    force: bool = False,
    progress: bool = False,
    n_therm: int = 20,
    observables: list[str] | None = None,
    mc_options: dict | None = None,
    description: dict | None = None,
) -> tuple[list, BatchResult]:
    """Run Monte Carlo at ``points = [(lam, seed), ...]`` on ``scheduler``: the API hook of the
    report's lattice section and of ``ergsym mc --seeds``.

    ``theory`` is a :class:`~ergsym.lattice.theory.LatticeTheory` or a :func:`theory_spec`
    dict.  Returns ``(summaries, batch)``: one dict per point, in order, whose ``stats`` are
    :class:`~ergsym.lattice.stats.Stats` objects, and the :class:`~ergsym.batch.run.BatchResult`.
    Integer seeds reproduce ``run_mc(theory.with_lam(lam), n_traj, seed=seed, n_therm=...)``
    bitwise, on every scheduler.
    """
    from ..lattice.stats import Stats  # noqa: PLC0415

    spec = theory if isinstance(theory, dict) else theory_spec(theory)
    tasks = mc_points(spec, points, n_traj, n_therm=n_therm, observables=observables, mc_options=mc_options)
    batch = run_batch(
        tasks, scheduler, store=store, force=force, progress=progress, label="mc", description=description
    )
    out = []
    for t in tasks:
        r = dict(batch[t.key])
        r["stats"] = {
            n: Stats(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}) for n, d in r["stats"].items()
        }
        r["seed"] = t.kwargs["seed"]
        out.append(r)
    return out, batch


def report_lattice_runs(
    base: object, lams: Sequence[float], n_traj: int, seed: int, runner: object = None, n_therm: int = 20
) -> tuple[list, list]:
    """The Monte Carlo runs of the report's lattice section, as a batch on ``runner``.

    Same runs as the section's own loop (coupling ``lams[i]`` with seed ``seed + i``,
    ``n_therm`` thermalization trajectories), so the numbers do not change with the runner.

    Parameters
    ----------
    base : LatticeTheory
        The free lattice theory (its ``lam`` is ignored).
    runner : None, str, distributed.Client or runner
        Any ``scheduler`` of :func:`~ergsym.batch.run.run_batch`.

    Returns
    -------
    (stats, runs)
        ``stats = {"A": [Stats per coupling], "B": [...]}`` (Schwinger-Dyson estimators
        ``A_sd``, ``B_sd``) and ``runs``: per coupling ``lam``, ``acceptance``, ``elapsed_s``,
        ``tau_int_B``.
    """
    lams = [float(x) for x in lams]
    out, batch = run_mc_points(
        base,
        [(lam, seed + i) for i, lam in enumerate(lams)],
        n_traj,
        scheduler=runner,
        n_therm=n_therm,
        observables=["A_sd", "B_sd"],
    )
    stats = {"A": [r["stats"]["A_sd"] for r in out], "B": [r["stats"]["B_sd"] for r in out]}
    keys = list(batch.results)
    runs = [
        {
            "lam": lam,
            "acceptance": r["acceptance"],
            "elapsed_s": batch.elapsed[k],
            "tau_int_B": r["stats"]["B_sd"].tau_corr,
        }
        for lam, r, k in zip(lams, out, keys)
    ]
    return stats, runs


def combine_stats(stats: Sequence[Stats]) -> Stats:
    """One :class:`~ergsym.lattice.stats.Stats` from independent replicas of the same run.

    Equal weights (replicas have equal length): mean of the means, error
    :math:`\\sqrt{\\sum_r\\sigma_r^2}/R`, summed ``n_eff`` and ``n_samples``, mean ``tau_int``;
    the combination is reliable only if every replica is (reasons are merged), exact only if
    every replica is, and its R-hat is the largest replica R-hat.
    """
    from ..lattice.stats import Stats  # noqa: PLC0415

    stats = list(stats)
    if len(stats) == 1:
        return stats[0]
    R = len(stats)
    return Stats(
        mean=math.fsum(s.mean for s in stats) / R,
        error_of_mean=math.sqrt(math.fsum(s.error_of_mean**2 for s in stats)) / R,
        variance=math.fsum(s.variance for s in stats) / R,
        tau_corr=math.fsum(s.tau_corr for s in stats) / R,
        n_eff=math.fsum(s.n_eff for s in stats),
        tau_corr_error=math.sqrt(math.fsum(s.tau_corr_error**2 for s in stats)) / R,
        n_samples=sum(s.n_samples for s in stats),
        window=max(s.window for s in stats),
        rhat=None if any(s.rhat is None for s in stats) else max(s.rhat for s in stats),
        reliable=all(s.reliable for s in stats),
        reasons=tuple(dict.fromkeys(r for s in stats for r in s.reasons)),
        exact=all(s.exact for s in stats),
        n_chains=sum(s.n_chains for s in stats),
    )


def crosscheck_ensemble(
    lattice: str | tuple[int, ...],
    cutoff: str,
    mass: float,
    Lambda: float,
    lams: Sequence[float],
    form: str = "B",
    *,
    order: int = 3,
    n_traj: int = 3000,
    n_therm: int | None = None,
    seed: int = 0,
    replicas: int = 1,
    estimator: str = "sd",
    coefficients: Sequence[float] | None = None,
    scheduler: object = None,
    store: str | os.PathLike | None = None,
    force: bool = False,
    progress: bool = False,
    mc_options: dict | None = None,
    N: int = 1,
) -> tuple[CrosscheckResult, BatchResult]:
    """:func:`ergsym.lattice.crosscheck.crosscheck` as a batch: one task per coupling x replica.

    The task seeds are ``SeedSequence(seed).spawn(len(lams) * replicas)`` (task
    ``i * replicas + r`` for coupling ``i``, replica ``r``), so every scheduler gives bitwise
    the same result (``ergsym crosscheck`` always runs this, in this process by default); the
    replicas of a coupling are combined by :func:`combine_stats` and compared with the exact
    lattice series by
    :func:`~ergsym.lattice.crosscheck.compare_with_series`.

    Returns
    -------
    (CrosscheckResult, BatchResult)
    """
    import numpy as np  # noqa: PLC0415

    from ..cutoffs import parse_cutoff  # noqa: PLC0415
    from ..inputs import as_lattice  # noqa: PLC0415
    from ..lattice.crosscheck import (
        C2_NO_INFORMATION,
        EMPTY_D_P,
        PIECE_NAMES,  # noqa: PLC0415
        CrosscheckResult,
        compare_with_series,
        series_coefficients,
        validate_request,
    )
    from ..lattice.run import default_n_therm  # noqa: PLC0415
    from ..lattice.theory import LatticeTheory  # noqa: PLC0415

    if form not in PIECE_NAMES:
        raise InputError.bad("form", form, "one of " + ", ".join(PIECE_NAMES))
    if isinstance(replicas, bool) or not isinstance(replicas, int) or not 1 <= replicas <= 10000:
        raise InputError.bad("replicas", replicas, "an integer from 1 to 10000")
    lams = validate_request(estimator, order, lams)
    if n_therm is None:  # one default for the API and the CLI (ergsym.lattice.run.default_n_therm)
        n_therm = default_n_therm(n_traj)
    if len(set(lams)) != len(lams):
        raise InputError.bad("lams", lams, "distinct couplings")
    cut = parse_cutoff(cutoff) if isinstance(cutoff, str) else cutoff
    base = LatticeTheory.from_cutoff(as_lattice(lattice, name="lattice"), cut, mass, Lambda, 0.0, N=N)
    if coefficients is None:
        coefficients = series_coefficients(form, base.shape, base.kt_p, base.d_p, order, N=base.N)
    coefficients = tuple(float(x) for x in coefficients)
    obs = form if estimator == "direct" else f"{form}_sd"
    seeds = spawn_seeds(seed, len(lams) * replicas)
    points = [(lam, seeds[i * replicas + r]) for i, lam in enumerate(lams) for r in range(replicas)]
    spec = theory_spec(lattice=lattice, cutoff=cut, mass=mass, Lambda=Lambda, N=base.N)
    desc = {
        "kind": "crosscheck",
        "form": form,
        "estimator": estimator,
        "order": order,
        "seed": seed,
        "replicas": replicas,
        **({"N": base.N} if base.N != 1 else {}),  # N = 1 manifests as they were
    }
    runs, batch = run_mc_points(
        spec,
        points,
        n_traj,
        scheduler=scheduler,
        store=store,
        force=force,
        progress=progress,
        n_therm=n_therm,
        observables=[obs],
        mc_options=mc_options,
        description=desc,
    )
    stats, acc = [], []
    for i in range(len(lams)):
        mine = runs[i * replicas : (i + 1) * replicas]
        stats.append(combine_stats(r["stats"][obs] for r in mine))
        acc.append(math.fsum(r["acceptance"] for r in mine) / replicas)
    empty = "" if np.any(base.d_p != 0) else EMPTY_D_P
    pts, c2, c2e, zc2 = compare_with_series(lams, stats, coefficients, acceptances=acc, empty_reason=empty)
    meta = {
        "n_traj": n_traj,
        "seed": seed,
        "order": order,
        "replicas": replicas,
        "seeding": "numpy.random.SeedSequence(seed).spawn(len(lams) * replicas)",
        **base.meta,
    }
    if base.N != 1:
        meta["N"] = base.N
    if zc2 is None:
        meta["c2_reason"] = C2_NO_INFORMATION
    if empty:
        meta["d_p_zero"] = True
    res = CrosscheckResult(form, base.shape, coefficients, pts, c2, c2e, zc2, estimator, meta=meta)
    return res, batch


# --- integral scans ---------------------------------------------------------------------------


def integrals_task(
    cutoff: str,
    dim: int,
    mass: float | list[float],
    Lambda: float | list[float],
    names: list[str] | None = None,
    rtol: float | None = None,
    method: str = "auto",
) -> dict:
    """Basic families at a chunk of scan points (:func:`ergsym.numeric.evaluate_named`).

    ``cutoff`` is a spec string or a list of them (a cutoff-parameter scan), ``mass`` and
    ``Lambda`` floats or lists.  Returns ``name -> Value.to_dict()``, or a divergence record
    ``{"value": None, "error": None, "converged": False, "divergent": True, "message"}``.
    """
    import numpy as np  # noqa: PLC0415

    from ..cutoffs import parse_cutoff  # noqa: PLC0415
    from ..errors import DivergentIntegralError  # noqa: PLC0415
    from ..numeric import evaluate_named  # noqa: PLC0415

    cut = [parse_cutoff(c) for c in cutoff] if isinstance(cutoff, list) else parse_cutoff(cutoff)
    m = np.asarray(mass, float) if isinstance(mass, list) else mass
    lam = np.asarray(Lambda, float) if isinstance(Lambda, list) else Lambda
    res = evaluate_named(cut, dim, m, lam, names=names, rtol=rtol, method=method, on_divergence="record")
    out = {}
    for n, v in res.items():
        if isinstance(v, DivergentIntegralError):
            out[n] = {"value": None, "error": None, "converged": False, "divergent": True, "message": str(v)}
        else:
            out[n] = v.to_dict()
    return out


def integral_scan(
    cutoff: str,
    dim: int,
    mass: float,
    Lambda: float,
    *,
    scan: str,
    grid: Sequence[float],
    names: list[str] | None = None,
    rtol: float | None = None,
    method: str = "auto",
    chunk: int = 26,
    scheduler: object = None,
    store: str | os.PathLike | None = None,
    force: bool = False,
    progress: bool = True,
) -> tuple[dict, BatchResult]:
    """A scan of the basic families cut into tasks of ``chunk`` neighbouring points.

    ``scan`` is ``"Lambda"``, ``"mass"`` or ``"cutoff"`` (then ``cutoff`` is the list of
    spec strings, one per point); the scanned argument is the list ``grid``.  Results are
    merged back into the layout of one :func:`integrals_task` over the whole grid (lists
    along the scan).  The chunking is part of the batch, so every scheduler gives the same
    numbers; they can differ from an unchunked scan at the level of its error estimates (the
    batched melon chooses its radial grid per chunk).
    """
    grid = list(grid)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise InputError.bad("chunk", chunk, "an integer >= 1")
    if scan not in ("Lambda", "mass", "cutoff"):
        raise InputError.bad("scan", scan, "'Lambda', 'mass' or 'cutoff'")
    tasks = []
    for start in range(0, len(grid), chunk):
        part = [float(x) if scan != "cutoff" else x for x in grid[start : start + chunk]]
        kw = {
            "cutoff": cutoff,
            "dim": dim,
            "mass": mass,
            "Lambda": Lambda,
            "names": names,
            "rtol": rtol,
            "method": method,
        }
        kw[scan] = part
        tasks.append(Task(f"points={start}-{start + len(part) - 1}", "ergsym.batch.kinds:integrals_task", kw))
    batch = run_batch(
        tasks,
        scheduler,
        store=store,
        force=force,
        progress=progress,
        label="integrals",
        description={"kind": "integral_scan", "scan": scan},
    )
    merged: dict = {}
    for t in tasks:
        for n, d in batch[t.key].items():
            if n not in merged:
                merged[n] = {k: (list(v) if isinstance(v, list) else v) for k, v in d.items()}
                continue
            if merged[n].get("divergent") or d.get("divergent"):
                if d.get("divergent"):
                    merged[n] = dict(d)
                continue
            for k in ("value", "error", "converged"):
                merged[n][k] = merged[n][k] + d[k]
    return merged, batch


# --- any function over a list of points (flow scans, user code) --------------------------------


def map_tasks(
    func: str,
    kwargs_list: Sequence[dict],
    keys: Sequence[str],
    *,
    scheduler: object = None,
    store: str | os.PathLike | None = None,
    force: bool = False,
    progress: bool = True,
    label: str = "batch",
    description: dict | None = None,
) -> list:
    """Run ``func(**kwargs)`` for each ``kwargs`` of ``kwargs_list`` as a batch; results in order.

    ``func`` is an import path ``"module:function"`` returning a dict (e.g. one scale of
    ``ergsym flow --scan``); ``keys`` name the points (the result store's file names).
    """
    kwargs_list, keys = list(kwargs_list), list(keys)
    if len(keys) != len(kwargs_list):
        raise InputError.bad("keys", len(keys), f"one key per point ({len(kwargs_list)})")
    tasks = [Task(k, func, kw) for k, kw in zip(keys, kwargs_list)]
    batch = run_batch(
        tasks, scheduler, store=store, force=force, progress=progress, label=label, description=description
    )
    return [batch[t.key] for t in tasks], batch
