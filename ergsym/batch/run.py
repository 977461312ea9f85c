"""``run_batch``: run a list of tasks with a runner, a result store and progress per task."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..errors import InputError
from .runners import make_runner
from .store import ResultStore
from .task import Task

__all__ = ["run_batch", "BatchResult"]


@dataclass
class BatchResult:
    """Results of a batch, in task order.

    Attributes
    ----------
    results : dict
        ``key -> result`` (plain data and numpy arrays), in the order the tasks were given.
    elapsed : dict
        ``key -> seconds`` the task took where it ran (a stored task: when it ran).
    executed, reused : list of str
        Keys run now, and keys read back from the store (finished before).
    scheduler : str
        Where the batch ran (``"inprocess"``, ``"local:2"``, an address).
    """

    results: dict
    elapsed: dict
    executed: list = field(default_factory=list)
    reused: list = field(default_factory=list)
    scheduler: str = "inprocess"

    def __getitem__(self, key):
        return self.results[key]

    def summary(self) -> dict:
        """Plain-data summary for JSON output (no results)."""
        return {
            "scheduler": self.scheduler,
            "n_tasks": len(self.results),
            "executed": len(self.executed),
            "reused": len(self.reused),
            "task_seconds": sum(self.elapsed.values()),
        }


class _Progress:
    """tqdm on a TTY, one line per finished task otherwise (both on stderr)."""

    def __init__(self, total, done, enabled, label):
        self.total, self.n, self.label = total, done, label
        self.bar = None
        self.enabled = enabled
        if enabled and sys.stderr.isatty():
            from tqdm.auto import tqdm  # noqa: PLC0415

            self.bar = tqdm(total=total, initial=done, unit="task", desc=label, file=sys.stderr)

    def update(self, key, elapsed):
        self.n += 1
        if self.bar is not None:
            self.bar.update(1)
        elif self.enabled:
            print(f"{self.label}: {self.n}/{self.total} done: {key} ({elapsed:.2f} s)", file=sys.stderr, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def run_batch(
    tasks: Sequence[Task],
    scheduler: object = None,
    *,
    store: str | os.PathLike | None = None,
    force: bool = False,
    description: dict | None = None,
    progress: bool = True,
    retries: int = 2,
    on_result: Callable | None = None,
    label: str = "batch",
    store_option: str = "store",
) -> BatchResult:
    """Run independent tasks and collect their results.

    Parameters
    ----------
    tasks : sequence of Task
        The batch (distinct keys).
    scheduler : None, str, distributed.Client or runner
        ``None``/``"inprocess"`` (this process, no Dask), ``"local:N"`` (a local cluster of N
        worker processes, started and stopped here), ``"tcp://host:port"`` or a
        ``distributed.Client`` (an existing cluster); see :mod:`ergsym.batch.runners`.
    store : path-like, optional
        Result store directory (:class:`~ergsym.batch.store.ResultStore`): every finished
        task is written there at once, and a rerun of the same batch skips finished tasks.
    force : bool
        Discard a store that holds a different batch.
    description : dict, optional
        Recorded in the store's manifest (a different description is a different batch).
    progress : bool
        Report each finished task on stderr (tqdm on a TTY, a line otherwise).
    retries : int
        Dask reruns of a task that raised (worker deaths are rerun by the scheduler).
    on_result : callable, optional
        ``on_result(key, result)`` after each task finished now (in completion order).

    Returns
    -------
    BatchResult
        The same results, bitwise, for every scheduler: each task is a pure function of
        its description, including its seed.

    Raises
    ------
    InputError
        Bad tasks, scheduler string or store; Dask missing for a Dask scheduler.
    BatchTaskError
        A task failed after its retries (finished tasks are kept in the store).
    """
    tasks = list(tasks)
    if not tasks:
        raise InputError.bad("tasks", tasks, "a non-empty list of Task")
    for t in tasks:
        if not isinstance(t, Task):
            raise InputError.bad("tasks", type(t).__name__, "a list of ergsym.batch.Task")
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        raise InputError.bad("tasks", sorted({k for k in keys if keys.count(k) > 1}), "tasks with distinct keys")
    runner = make_runner(scheduler, retries=retries)
    st = ResultStore(store, tasks, description, force=force, option=store_option) if store is not None else None
    results, elapsed, reused = {}, {}, []
    if st is not None:
        for key in sorted(st.finished(), key=keys.index):
            results[key], elapsed[key] = st.load(key)
            reused.append(key)
    todo = [t for t in tasks if t.key not in results]
    if reused:  # a resumed batch always says what it took from the store (stderr)
        print(
            f"{label}: resuming from the store {str(store)!r}: {len(reused)} of {len(tasks)} tasks "
            f"read back (finished before), {len(todo)} to run",
            file=sys.stderr,
            flush=True,
        )
    executed = []
    bar = _Progress(len(tasks), len(reused), progress, label)
    try:
        if todo:
            with runner:
                for task, result, secs in runner.run(todo):
                    if st is not None:
                        st.save(task, result, secs)
                    results[task.key], elapsed[task.key] = result, secs
                    executed.append(task.key)
                    bar.update(task.key, secs)
                    if on_result is not None:
                        on_result(task.key, result)
    finally:
        bar.close()
    return BatchResult(
        {k: results[k] for k in keys}, {k: elapsed[k] for k in keys}, executed, reused, runner.describe()
    )
