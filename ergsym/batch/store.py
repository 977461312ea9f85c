"""Result store of a batch: one small file per finished task and a manifest.

Layout of a store directory::

    DIR/manifest.json          the batch description (every task's key, function, kwargs)
    DIR/tasks/<name>.json      one finished task: key, digest, result, elapsed seconds
    DIR/tasks/<name>.npz       its numpy arrays, if any (written before the .json)

Every file is written to a temporary name in the same directory and moved into place with
:func:`os.replace`, so a crash leaves either the old state or the new one, never half a file.
A task counts as finished when its ``.json`` exists and its digest matches the manifest;
resuming a batch skips finished tasks.  A batch whose description differs from the
manifest is refused unless ``force=True``, which empties the store first.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .._umask import honour_umask
from ..errors import CheckpointError, InputError
from .task import Task, decode, encode

__all__ = ["ResultStore", "FORMAT"]

FORMAT = "ergsym-batch/1"


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        honour_umask(tmp)  # mkstemp makes 0600 files; a task file is as readable as any other
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _file_name(key: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._=+,-]", "_", key)[:80]
    return f"{safe}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def _components(manifest: dict) -> int:
    """``N`` (field components) of the batch a manifest describes: its description's ``N``, else
    the theory of its first task (``theory_spec``: ``N`` or ``config.N``), else 1."""
    desc = manifest.get("description") or {}
    if isinstance(desc, dict) and "N" in desc:
        return desc["N"]
    for task in manifest.get("tasks") or []:
        theory = (task.get("kwargs") or {}).get("theory") if isinstance(task, dict) else None
        if isinstance(theory, dict):
            return theory.get("N", (theory.get("config") or {}).get("N", 1))
    return 1


class ResultStore:
    """A directory holding the finished tasks of one batch (module docstring).

    Parameters
    ----------
    path : path-like
        Store directory (created if missing; its parent must exist).
    tasks : sequence of Task
        The batch.
    description : dict, optional
        Extra plain data recorded in the manifest (e.g. the command and its options).
    force : bool
        Replace a store whose manifest records a different batch.
    option : str
        Name of the option the path came from (for error messages).

    Raises
    ------
    InputError
        The path is a file, its parent is missing, or the store holds a different batch
        (without ``force``).
    CheckpointError
        The manifest is unreadable.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        tasks: Sequence[Task],
        description: dict | None = None,
        force: bool = False,
        option: str = "store",
    ) -> None:
        self.path = Path(path)
        self.option = option
        parent = self.path.parent if str(self.path.parent) else Path(".")
        if self.path.exists() and not self.path.is_dir():
            raise InputError.bad(
                option, str(path), "a directory (or a name for a new one)", "it is a file; choose another name"
            )
        if not parent.is_dir():
            raise InputError.bad(
                option, str(path), "a directory in an existing directory", f"create {str(parent)!r} first"
            )
        tasks = list(tasks)
        keys = [t.key for t in tasks]
        if len(set(keys)) != len(keys):
            dup = sorted({k for k in keys if keys.count(k) > 1})
            raise InputError.bad("tasks", dup, "tasks with distinct keys")
        self.tasks = {t.key: t for t in tasks}
        self.manifest = {"format": FORMAT, "description": description or {}, "tasks": [t.describe() for t in tasks]}
        self._files = {t.key: _file_name(t.key) for t in tasks}
        mpath = self.path / "manifest.json"
        if mpath.exists():
            try:
                old = json.loads(mpath.read_text())
            except (OSError, ValueError) as exc:
                raise CheckpointError(
                    f"{option}={str(path)!r}: unreadable manifest.json ({exc}); pass --force to start the batch afresh"
                ) from None
            if old != json.loads(json.dumps(self.manifest)):
                n_old, n_new = _components(old), _components(self.manifest)
                if not force and n_old != n_new:
                    raise InputError.bad(
                        option,
                        str(path),
                        f"the store of a batch with the same number of field components (this one: N = {n_new})",
                        f"it holds a batch recorded with N = {n_old}; rerun with --N {n_old} to resume it, "
                        "or choose another directory (--force discards it)",
                    )
                if not force:
                    raise InputError.bad(
                        option,
                        str(path),
                        "a new directory or the store of this same batch",
                        "it holds a different batch (other tasks or options); pass "
                        "--force to discard it, or choose another directory",
                    )
                shutil.rmtree(self.path / "tasks", ignore_errors=True)
                mpath.unlink()
        elif self.path.is_dir() and any(self.path.iterdir()) and not force:
            raise InputError.bad(
                option,
                str(path),
                "a new or empty directory, or the store of this batch",
                "it holds other files; pass --force or choose another directory",
            )
        (self.path / "tasks").mkdir(parents=True, exist_ok=True)
        if not mpath.exists():
            text = json.dumps(self.manifest, indent=1, sort_keys=True).encode()
            _atomic_write(mpath, lambda fh: fh.write(text))

    def _json(self, key):
        return self.path / "tasks" / f"{self._files[key]}.json"

    def _npz(self, key):
        return self.path / "tasks" / f"{self._files[key]}.npz"

    def finished(self) -> set:
        """Keys of the tasks whose result is stored (and matches this batch)."""
        out = set()
        for key, task in self.tasks.items():
            p = self._json(key)
            if p.exists():
                try:
                    rec = json.loads(p.read_text())
                except (OSError, ValueError):
                    continue  # unreadable: the task is redone
                if rec.get("digest") == task.digest:
                    out.add(key)
        return out

    def save(self, task: Task, result: dict, elapsed: float) -> None:
        """Store the result of a finished task (arrays first, then the JSON that marks it done)."""
        arrays: dict = {}
        enc = encode(result, arrays)
        if arrays:

            def wnpz(fh):
                np.savez(fh, **arrays)

            _atomic_write(self._npz(task.key), wnpz)
        rec = {
            "key": task.key,
            "digest": task.digest,
            "result": enc,
            "elapsed_s": float(elapsed),
            "arrays": sorted(arrays),
        }
        text = json.dumps(rec, sort_keys=True).encode()
        _atomic_write(self._json(task.key), lambda fh: fh.write(text))

    def load(self, key: str) -> tuple[dict, float]:
        """``(result, elapsed)`` of a finished task."""
        rec = json.loads(self._json(key).read_text())
        arrays = {}
        if rec.get("arrays"):
            try:
                with np.load(self._npz(key)) as z:
                    arrays = {k: z[k] for k in z.files}
            except (OSError, ValueError) as exc:
                raise CheckpointError(
                    f"{self.option}={str(self.path)!r}: arrays of task {key!r} are "
                    f"unreadable ({exc}); delete {self._json(key).name} to redo it"
                ) from None
        return decode(rec["result"], arrays), float(rec.get("elapsed_s", 0.0))
