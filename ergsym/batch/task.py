"""Tasks of a batch: a picklable pure description (function path + keyword arguments + key).

A :class:`Task` says *what* to compute, never *where*: ``func`` is an import path
``"package.module:function"`` resolved where the task runs (in this process or on a Dask
worker), ``kwargs`` are plain data (numbers, strings, lists, dicts), and ``key`` is a stable
name (``"lam=0.05/rep=1"``) under which the result is stored.  Randomness enters only through
a seed inside ``kwargs``, derived per task from one root seed with
:meth:`numpy.random.SeedSequence.spawn` (:func:`spawn_seeds`), so a task's result does not
depend on which worker runs it, in which order, or how often it is retried.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError

__all__ = ["Task", "spawn_seeds", "rng_from_seed", "execute_task", "resolve", "normalize", "encode", "decode"]

_KEY_RE = re.compile(r"^[A-Za-z0-9._=+,/-]{1,200}$")


def _plain(obj, name):
    """``obj`` as plain JSON-able data (tuples -> lists); InputError for anything else."""
    if isinstance(obj, dict):
        return {str(k): _plain(v, f"{name}.{k}") for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v, f"{name}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        obj = float(obj)
    if isinstance(obj, float) and not math.isfinite(obj):
        raise InputError.bad(name, obj, "a finite number", "a task description holds plain finite data")
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise InputError.bad(
        name,
        type(obj).__name__,
        "plain data (numbers, strings, lists, dicts)",
        "describe the task by values (e.g. a cutoff spec string), not objects",
    )


@dataclass(frozen=True)
class Task:
    """One independent unit of a batch.

    Parameters
    ----------
    key : str
        Stable name of the task inside its batch (letters, digits and ``._=+,/-``).
    func : str
        ``"module:function"``; the function is called as ``function(**kwargs)`` and returns
        a dict (numbers, strings, lists, dicts, numpy arrays).
    kwargs : dict
        Plain data (validated; tuples become lists).
    """

    key: str
    func: str
    kwargs: dict = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.key, str) or not _KEY_RE.match(self.key):
            raise InputError.bad("key", self.key, "1-200 characters among letters, digits and ._=+,/-")
        if not isinstance(self.func, str) or ":" not in self.func:
            raise InputError.bad("func", self.func, "an import path 'package.module:function'")
        object.__setattr__(self, "kwargs", _plain(dict(self.kwargs), "kwargs"))

    def describe(self) -> dict:
        """The task as plain data (what the result store's manifest records)."""
        return {"key": self.key, "func": self.func, "kwargs": self.kwargs}

    @property
    def digest(self) -> str:
        """SHA-256 of the description (hex): equal descriptions, equal digests."""
        text = json.dumps(self.describe(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def spawn_seeds(root: int, n: int) -> list[dict]:
    """``n`` independent seeds derived from ``root`` with ``SeedSequence(root).spawn(n)``.

    Each seed is stored as plain data ``{"entropy": root, "spawn_key": [i]}``: child ``i`` is
    ``SeedSequence(root, spawn_key=(i,))`` whatever the order tasks run in, so a task's random
    stream depends only on ``(root, i)``.

    Raises
    ------
    InputError
        ``root`` not an integer >= 0 or ``n`` not an integer >= 1.
    """
    if isinstance(root, bool) or not isinstance(root, (int, np.integer)) or root < 0:
        raise InputError.bad("seed", root, "an integer >= 0")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError.bad("n", n, "an integer >= 1")
    children = np.random.SeedSequence(int(root)).spawn(int(n))
    return [{"entropy": int(c.entropy), "spawn_key": [int(k) for k in c.spawn_key]} for c in children]


def rng_from_seed(seed: int | dict) -> np.random.Generator:
    """The generator of a task seed: an int (``default_rng(seed)``) or a spawned seed dict."""
    if isinstance(seed, dict):
        try:
            ss = np.random.SeedSequence(int(seed["entropy"]), spawn_key=tuple(int(k) for k in seed["spawn_key"]))
        except (KeyError, TypeError, ValueError):
            raise InputError.bad("seed", seed, "an integer >= 0 or {'entropy': int, 'spawn_key': [int, ...]}") from None
        return np.random.default_rng(ss)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError.bad("seed", seed, "an integer >= 0 or {'entropy': int, 'spawn_key': [int, ...]}")
    return np.random.default_rng(int(seed))


def resolve(func: str) -> Callable:
    """The callable named by ``"module:function"`` (imported here, i.e. on the worker)."""
    mod, _, attr = func.partition(":")
    try:
        obj = importlib.import_module(mod)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise InputError.bad("func", func, "an importable 'module:function'", str(exc)) from None
    if not callable(obj):
        raise InputError.bad("func", func, "a callable")
    return obj


# --- results: plain data + numpy arrays, with an exact JSON round trip --------------------------


def encode(result: object, arrays: dict, path: str = "r") -> object:
    """JSON-able form of ``result``; numpy arrays are moved to ``arrays`` (name -> array).

    Floats are kept exactly (JSON writes ``repr``); non-finite floats become
    ``{"__float__": "nan"}`` etc. so the store never writes NaN into JSON.
    """
    if isinstance(result, dict):
        return {str(k): encode(v, arrays, f"{path}.{k}") for k, v in result.items()}
    if isinstance(result, (list, tuple)):
        return [encode(v, arrays, f"{path}.{i}") for i, v in enumerate(result)]
    if isinstance(result, np.ndarray):
        name = f"a{len(arrays)}"
        arrays[name] = np.array(result)
        return {"__array__": name}
    if isinstance(result, (np.bool_,)):
        return bool(result)
    if isinstance(result, np.integer):
        return int(result)
    if isinstance(result, np.floating):
        result = float(result)
    if isinstance(result, float):
        return result if math.isfinite(result) else {"__float__": repr(result)}
    if result is None or isinstance(result, (bool, int, str)):
        return result
    raise TypeError(
        f"a task result may hold numbers, strings, lists, dicts and numpy arrays, "
        f"not {type(result).__name__} (at {path})"
    )


def decode(obj: object, arrays: dict) -> object:
    """Inverse of :func:`encode`."""
    if isinstance(obj, dict):
        if set(obj) == {"__array__"}:
            return np.array(arrays[obj["__array__"]])
        if set(obj) == {"__float__"}:
            return float(obj["__float__"])
        return {k: decode(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decode(v, arrays) for v in obj]
    return obj


def normalize(result: object) -> object:
    """``result`` as it reads back from a result store (tuples -> lists, numpy scalars -> Python).

    Every runner returns normalized results, so a fresh result and a stored one compare equal.
    """
    arrays: dict = {}
    return decode(json.loads(json.dumps(encode(result, arrays))), arrays)


def execute_task(task: Task) -> tuple[dict, float]:
    """Run one task: ``(normalized result, elapsed seconds)``.  This is what workers execute."""
    fn = resolve(task.func)
    t0 = time.perf_counter()
    out = fn(**task.kwargs)
    elapsed = time.perf_counter() - t0
    if not isinstance(out, dict):
        raise TypeError(f"task {task.key!r}: {task.func} returned {type(out).__name__}, not a dict")
    return normalize(out), elapsed
