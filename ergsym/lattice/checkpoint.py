"""Checkpoint files of a Monte Carlo run (emcee-style: version, config, RNG state, chain).

A checkpoint is one ``.npz`` file written atomically (temporary file in the same directory,
``fsync``, ``os.replace``), so an interrupted write never leaves a corrupt checkpoint.  It
holds

* ``meta``: a JSON string -- format version, theory (``Kt_p``, ``D_p``, ``lam``, shape),
  sampler settings, run settings, the generator's ``bit_generator.state`` and counters;
* ``phi``: the field after the last finished trajectory;
* ``accepted``, ``dH``: per-trajectory history;
* ``chain_<name>``: the measurements so far (``chain_Gp`` if recorded).

Floats are stored in binary, so a resumed chain is bitwise the chain that was interrupted.
"""
from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from ..errors import CheckpointError

__all__ = ["CHECKPOINT_VERSION", "save_checkpoint", "load_checkpoint", "rng_from_state"]

#: Format version written into every checkpoint; :func:`load_checkpoint` refuses others.
CHECKPOINT_VERSION = 1


def save_checkpoint(path, meta: dict, arrays: dict) -> None:
    """Write ``meta`` (JSON-able) and ``arrays`` to ``path`` atomically."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    meta = dict(meta, version=CHECKPOINT_VERSION)
    payload = {"meta": np.array(json.dumps(meta))}
    payload.update({k: np.asarray(v) for k, v in arrays.items()})
    fd, tmp = tempfile.mkstemp(prefix=".ckpt-", suffix=".npz", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_checkpoint(path):
    """Read a checkpoint written by :func:`save_checkpoint`.

    Returns
    -------
    (meta, arrays) : (dict, dict of numpy arrays)

    Raises
    ------
    CheckpointError
        Missing file, unreadable/corrupt file, or another format version.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise CheckpointError(f"checkpoint={path!r} does not exist; start a new run instead of resuming")
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            arrays = {k: z[k] for k in z.files if k != "meta"}
    except Exception as exc:  # zipfile/json/key errors: all mean "not a valid checkpoint"
        raise CheckpointError(f"checkpoint={path!r} is not a readable ergsym checkpoint ({exc})") from None
    if meta.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"checkpoint={path!r} has format version {meta.get('version')!r}; "
                              f"this ergsym reads version {CHECKPOINT_VERSION}")
    return meta, arrays


def rng_from_state(state: dict) -> np.random.Generator:
    """Rebuild a :class:`numpy.random.Generator` from ``bit_generator.state``."""
    try:
        bitgen = getattr(np.random, state["bit_generator"])()
        bitgen.state = state
    except Exception as exc:
        raise CheckpointError(f"checkpoint holds an unusable RNG state ({exc})") from None
    return np.random.Generator(bitgen)
