"""Batches of independent tasks, in this process or on Dask (``dask.distributed``).

A batch is a list of :class:`~.task.Task` (function path + plain keyword arguments + a
stable key).  :func:`~.run.run_batch` runs it with a runner (:mod:`.runners`): in this
process (default; Dask is not imported), on a local cluster of N worker processes
(``"local:N"``), or on an existing cluster (``"tcp://host:port"`` or a
``distributed.Client``).  Seeds are derived per task from one root seed with
``numpy.random.SeedSequence(root).spawn(n)`` (:func:`~.task.spawn_seeds`), so every
scheduler gives bitwise the same results.  A result store (:mod:`.store`) keeps one file
per finished task; an interrupted batch resumes where it stopped.

Task kinds (:mod:`.kinds`): Monte Carlo runs (:func:`~.kinds.run_mc_points`), cross-check
ensembles (:func:`~.kinds.crosscheck_ensemble`), integral scans
(:func:`~.kinds.integral_scan`) and any function over a list of points
(:func:`~.kinds.map_tasks`, used by ``ergsym flow --scan``); the report's lattice section
can run its Monte Carlo through :func:`~.kinds.report_lattice_runs` (a function taking a runner).  See ``docs/ensembles.md``.
"""

from __future__ import annotations

from .kinds import (
    combine_stats,
    crosscheck_ensemble,
    integral_scan,
    map_tasks,
    mc_points,
    mc_task,
    report_lattice_runs,
    run_mc_points,
    theory_spec,
)
from .run import BatchResult, run_batch
from .runners import (
    BatchTaskError,
    DaskRunner,
    DaskUnavailableError,
    InProcessRunner,
    LocalClusterRunner,
    make_runner,
    parse_scheduler,
    start_local_cluster,
)
from .store import ResultStore
from .task import Task, execute_task, normalize, rng_from_seed, spawn_seeds

__all__ = [
    "Task",
    "spawn_seeds",
    "rng_from_seed",
    "execute_task",
    "normalize",
    "run_batch",
    "BatchResult",
    "ResultStore",
    "InProcessRunner",
    "DaskRunner",
    "LocalClusterRunner",
    "make_runner",
    "parse_scheduler",
    "start_local_cluster",
    "DaskUnavailableError",
    "BatchTaskError",
    "mc_task",
    "mc_points",
    "run_mc_points",
    "report_lattice_runs",
    "theory_spec",
    "combine_stats",
    "crosscheck_ensemble",
    "integral_scan",
    "map_tasks",
]
