"""Where a batch runs: in this process, on a local Dask cluster, or on an existing one.

``parse_scheduler`` reads the ``--scheduler`` forms and :func:`make_runner` turns them
into a runner:

* ``None``, ``"inprocess"`` (alias ``"serial"``): :class:`InProcessRunner`, one task after
  the other in this process; Dask is not imported;
* ``"local:N"``: :class:`LocalClusterRunner` starts a ``distributed.LocalCluster`` with N
  worker processes (one thread each, listening on 127.0.0.1, no dashboard) and stops it
  when the batch ends;
* ``"tcp://host:port"`` or a ``distributed.Client``: :class:`DaskRunner` submits to an
  existing scheduler (started with ``dask scheduler`` / ``dask worker``, or dask-jobqueue).

Every runner yields ``(task, result, elapsed)`` in completion order.  Dask runners submit
each task with ``retries=`` (a task that raises is rerun) and rely on the scheduler to rerun
a task whose worker died (``distributed.scheduler.allowed-failures``, default 3), so a lost
worker costs only the tasks it was running.  Tasks are pure, so a rerun gives the same result.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from ..errors import ErgsymError, InputError
from .task import execute_task

if TYPE_CHECKING:
    import distributed

    from .task import Task

__all__ = [
    "InProcessRunner",
    "DaskRunner",
    "LocalClusterRunner",
    "parse_scheduler",
    "make_runner",
    "DaskUnavailableError",
    "BatchTaskError",
    "SCHEDULER_FORMS",
]

SCHEDULER_FORMS = "'inprocess' (default), 'local:N' (N >= 1 worker processes) or 'tcp://HOST:PORT'"

_LOCAL_RE = re.compile(r"^local:(\d+)$")
_TCP_RE = re.compile(r"^tcp://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$")


class DaskUnavailableError(InputError):
    """A Dask scheduler was requested but ``dask.distributed`` is not installed."""


class BatchTaskError(ErgsymError):
    """A task of a batch failed (after Dask's retries); ``.key`` names it."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def _distributed(value, option):
    try:
        import distributed  # noqa: PLC0415  (optional extra)
    except ImportError:
        raise DaskUnavailableError(
            f"{option}={value!r} needs Dask (dask.distributed), which is not installed: "
            'run pip install "ergsym[dask]", or omit the option to run in this process'
        ) from None
    return distributed


def parse_scheduler(value: str | None, option: str = "--scheduler") -> tuple[str, object]:
    """``(kind, arg)``: ``("inprocess", None)``, ``("local", N)``, ``("address", "tcp://h:p")``
    or ``("client", client)``.

    Raises
    ------
    InputError
        Any other string (the message lists the allowed forms).
    """
    if value is None:
        return "inprocess", None
    if not isinstance(value, str):
        if hasattr(value, "submit") and hasattr(value, "scheduler_info"):
            return "client", value
        raise InputError.bad(option, value, SCHEDULER_FORMS + ", or a distributed.Client")
    text = value.strip()
    if text.lower() in ("", "inprocess", "serial", "none"):
        return "inprocess", None
    m = _LOCAL_RE.match(text)
    if m:
        n = int(m.group(1))
        if not 1 <= n <= 1024:
            raise InputError.bad(option, value, SCHEDULER_FORMS, "N must be from 1 to 1024")
        return "local", n
    m = _TCP_RE.match(text)
    if m:
        port = int(m.group(2))
        if not 1 <= port <= 65535:
            raise InputError.bad(option, value, SCHEDULER_FORMS, "PORT must be from 1 to 65535")
        return "address", text
    hint = "e.g. local:2 or tcp://127.0.0.1:8786"
    if text.startswith("local"):
        hint = "give the number of worker processes, e.g. local:2"
    elif "://" in text:
        hint = "give the scheduler as tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786"
    raise InputError.bad(option, value, SCHEDULER_FORMS, hint)


def make_runner(value: object = None, *, retries: int = 2, option: str = "--scheduler") -> InProcessRunner | DaskRunner:
    """The runner for a ``--scheduler`` value (see :func:`parse_scheduler`).

    Dask is imported only for ``local:N``, addresses and clients; without it this raises
    :class:`DaskUnavailableError` (an :class:`InputError`: the CLI exits with status 2).
    """
    if isinstance(value, (InProcessRunner, DaskRunner)):
        return value
    kind, arg = parse_scheduler(value, option)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise InputError.bad("retries", retries, "an integer >= 0")
    if kind == "inprocess":
        return InProcessRunner()
    _distributed(value, option)
    if kind == "local":
        return LocalClusterRunner(arg, retries=retries)
    return DaskRunner(arg, retries=retries)


class InProcessRunner:
    """Run the tasks one after the other in this process (no Dask)."""

    name = "inprocess"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def describe(self) -> str:
        return "inprocess"

    def run(self, tasks: Sequence[Task]) -> Iterator[tuple]:
        for task in tasks:
            try:
                result, elapsed = execute_task(task)
            except InputError:
                raise
            except Exception as exc:  # noqa: BLE001 - reported with the task's key
                raise BatchTaskError(f"task {task.key!r} failed: {type(exc).__name__}: {exc}", task.key) from exc
            yield task, result, elapsed


#: Seconds to wait for a Dask scheduler to answer (``ERGSYM_DASK_CONNECT_TIMEOUT`` overrides it).
DASK_CONNECT_TIMEOUT = 10.0


def connect_timeout(value: float | str | None = None) -> float:
    """The scheduler connect timeout: ``value``, else ``$ERGSYM_DASK_CONNECT_TIMEOUT``, else 10 s."""
    import os

    raw = value if value is not None else os.environ.get("ERGSYM_DASK_CONNECT_TIMEOUT", DASK_CONNECT_TIMEOUT)
    try:
        t = float(raw)
    except (TypeError, ValueError):
        t = float("nan")
    if not (t > 0 and t < 3600):
        raise InputError.bad("ERGSYM_DASK_CONNECT_TIMEOUT", raw, "a number of seconds in (0, 3600)")
    return t


class DaskRunner:
    """Run the tasks on a Dask cluster: an address ``tcp://host:port`` or a ``distributed.Client``.

    A client passed in is used as is and not closed; an address is connected to on
    ``__enter__`` and disconnected on ``__exit__`` (the cluster keeps running).
    """

    name = "dask"

    def __init__(self, scheduler: object, retries: int = 2, connect_timeout: float | None = None) -> None:
        self.scheduler = scheduler
        self.retries = retries
        self.connect_timeout = connect_timeout
        self.client = None
        self._own = False

    def describe(self) -> str:
        if isinstance(self.scheduler, str):
            return self.scheduler
        return f"client {getattr(self.client or self.scheduler, 'scheduler', None)}"

    def _connect(self):
        distributed = _distributed(self.scheduler, "scheduler")
        if isinstance(self.scheduler, str):
            timeout = connect_timeout(self.connect_timeout)
            try:
                self.client = distributed.Client(self.scheduler, timeout=f"{timeout}s", set_as_default=False)
            except OSError as exc:
                raise InputError.bad(
                    "--scheduler",
                    self.scheduler,
                    "the address of a running Dask scheduler",
                    f"could not connect ({exc}); start one with `dask scheduler` and `dask worker ADDRESS`",
                ) from None
            self._own = True
        else:
            self.client = self.scheduler

    def __enter__(self):
        if self.client is None:
            self._connect()
        return self

    def __exit__(self, *exc):
        if self._own and self.client is not None:
            self.client.close()
            self.client = None
            self._own = False
        return False

    def run(self, tasks: Sequence[Task]) -> Iterator[tuple]:
        distributed = _distributed(self.scheduler, "scheduler")
        if self.client is None:
            self._connect()
        tag = uuid.uuid4().hex[:8]
        futures = {}
        for task in tasks:
            fut = self.client.submit(
                execute_task, task, key=f"ergsym-{tag}-{task.digest[:16]}", pure=False, retries=self.retries
            )
            futures[fut] = task
        pending = set(futures)
        done = distributed.as_completed(list(futures), loop=self.client.loop)
        try:
            for fut in done:
                task = futures[fut]
                if fut.status == "pending" or fut.status == "lost":
                    # finished, but its worker died before the result was fetched: the
                    # scheduler recomputes it; wait for it again
                    done.add(fut)
                    continue
                try:
                    result, elapsed = fut.result()
                except InputError:
                    raise
                except Exception as exc:  # noqa: BLE001 - reported with the task's key
                    raise BatchTaskError(
                        f"task {task.key!r} failed (status {fut.status}, after up to "
                        f"{self.retries} retries): {type(exc).__name__}: {exc}",
                        task.key,
                    ) from exc
                pending.discard(fut)
                fut.release()
                yield task, result, elapsed
        finally:
            if pending:
                self.client.cancel(list(pending))


def start_local_cluster(n_workers: int, **kwargs: object) -> distributed.LocalCluster:
    """A ``distributed.LocalCluster`` as ergsym starts it: N processes, 1 thread each, on
    127.0.0.1, no dashboard (keyword arguments override)."""
    import logging  # noqa: PLC0415

    distributed = _distributed(f"local:{n_workers}", "--scheduler")
    opts = dict(
        n_workers=n_workers,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        scheduler_port=0,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    opts.update(kwargs)
    return distributed.LocalCluster(**opts)


class LocalClusterRunner(DaskRunner):
    """Start a local cluster of ``n_workers`` processes for the batch, stop it afterwards."""

    name = "local"

    def __init__(self, n_workers: int, retries: int = 2):
        super().__init__(None, retries)
        self.n_workers = n_workers
        self.cluster = None

    def describe(self) -> str:
        return f"local:{self.n_workers}"

    def _connect(self):
        distributed = _distributed(f"local:{self.n_workers}", "--scheduler")
        self.cluster = start_local_cluster(self.n_workers)
        self.client = distributed.Client(self.cluster, set_as_default=False)
        self.scheduler = self.client
        self._own = True

    def __exit__(self, *exc):
        super().__exit__(*exc)
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None
        self.scheduler = None
        return False
