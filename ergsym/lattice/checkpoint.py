"""Checkpoint files of a Monte Carlo run (emcee-style: version, config, RNG state, chain).

A checkpoint is one ``.npz`` file written atomically (temporary file in the same directory,
``fsync``, ``os.replace``), so an interrupted write never leaves a corrupt checkpoint, and a
run that fails never replaces a good checkpoint by a partial one.  Format versions 2 and 3 hold

* ``meta``: a JSON string -- format version, theory (shape, ``lam``, cutoff description),
  sampler settings (with the step frozen after thermalization), run settings, the number of
  chains, every chain's ``bit_generator.state``, the step-size adapter's state and counters;
* ``kt_p``, ``d_p``: the theory's propagators (binary, exact);
* ``phi``: the field(s) after the last finished trajectory, shape ``shape`` (one chain) or
  ``(n_chains,) + shape``;
* ``accepted``, ``dH``: per-trajectory history (a column per chain for a batch);
* ``chain_<name>``: the measurements so far (``chain_Gp`` if recorded), canonical observable
  names (``eq5.11`` ... ``eq5.14``; version-1 files with ``P1`` ... ``P4`` are read too).

Format version 3 (written now) adds ``meta["checksums"]``: the SHA-256 of every array (its
dtype, shape and bytes) and of the parameters (the rest of ``meta`` as canonical JSON).
:func:`read_checkpoint_file` verifies them before anything is used, so a file altered after
it was written (an array rescaled, a parameter edited) is refused with a message that names
the file, the entry that changed and what to do; :func:`load_checkpoint` also recomputes the
propagators ``kt_p``, ``d_p`` from the checkpoint's own cutoff, mass and Lambda and refuses
arrays that do not match them.  Versions 1 and 2 (no checksums) are still resumed, verified as
far as they can be: every consistency check below, and the propagators against the cutoff,
mass and Lambda they record (a chain edited consistently cannot be detected in them).

Floats are stored in binary, so a resumed chain is bitwise the chain that was interrupted.
The state is the field and the generators only: the transforms the sampler caches between
trajectories (:class:`~ergsym.lattice.theory.FieldSpectra`) are recomputed from ``phi`` by the
same operations, bitwise.  A checkpoint written before the fused integrator (same format, same
random streams in the same order) resumes the same chain; its later trajectories then agree with
what the earlier version would have computed to rounding, not bitwise.
:func:`load_checkpoint` validates *everything* (arrays, shapes, dtypes, version, the
consistency of ``n_done`` with the chain, the RNG states) before any work and raises a
:class:`~ergsym.errors.CheckpointError` that says what is wrong and what to do.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile

import numpy as np

from .._umask import honour_umask
from ..errors import CheckpointError, InputError

__all__ = [
    "CHECKPOINT_VERSION",
    "save_checkpoint",
    "load_checkpoint",
    "rng_from_state",
    "n_measurements",
    "verify_checksums",
]

#: Format version written into every checkpoint; :func:`load_checkpoint` reads it and version 1.
CHECKPOINT_VERSION = 3
_READABLE = (1, 2, 3)


def _array_digest(a) -> str:
    """SHA-256 of an array's dtype, shape and bytes (C order)."""
    a = np.ascontiguousarray(a)
    h = hashlib.sha256()
    h.update(f"{a.dtype.str}|{a.shape}|".encode())
    h.update(a.tobytes())
    return h.hexdigest()


def _meta_digest(meta: dict) -> str:
    """SHA-256 of the parameters: ``meta`` without its checksums, as canonical JSON."""
    body = {k: v for k, v in meta.items() if k != "checksums"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def save_checkpoint(path: str | os.PathLike[str], meta: dict, arrays: dict) -> None:
    """Write ``meta`` (JSON-able) and ``arrays`` to ``path`` atomically, with the checksums
    of every array and of ``meta`` (``meta["checksums"]``, verified on reading)."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    meta = dict(meta, version=meta.get("version", CHECKPOINT_VERSION))
    meta.pop("checksums", None)
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    meta["checksums"] = {
        "algorithm": "sha256",
        "meta": _meta_digest(meta),
        "arrays": {k: _array_digest(v) for k, v in arrays.items()},
    }
    payload = {"meta": np.array(json.dumps(meta))}
    payload.update(arrays)
    fd, tmp = tempfile.mkstemp(prefix=".ckpt-", suffix=".npz", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **payload)
            fh.flush()
            os.fsync(fh.fileno())
        honour_umask(tmp)  # mkstemp makes 0600 files: give the mode open() would
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def n_measurements(n_done: int, n_therm: int, every: int) -> int:
    """Measurements taken after ``n_done`` trajectories (at ``i >= n_therm``, every ``every``)."""
    return max(0, (n_done - n_therm + every - 1) // every)


def _fail(path, what, todo="the file is not usable; start a new run (ergsym mc --checkpoint NEW.npz)"):
    return CheckpointError(f"checkpoint={path!r} {what}; {todo}")


def _int(meta, key, path, minimum=0):
    v = meta.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise _fail(path, f"has {key}={v!r} (expected an integer >= {minimum})")
    return v


def read_checkpoint_file(path: str | os.PathLike[str], writer: str = "ergsym") -> tuple[dict, dict]:
    """Read an ergsym ``.npz`` checkpoint safely (no pickles) without interpreting it.

    Returns ``(meta, arrays)``; raises :class:`~ergsym.errors.CheckpointError` when the file is
    missing, a directory, not an ergsym checkpoint, or its ``meta`` is not a JSON object.
    Each kind of checkpoint (Monte Carlo: :func:`load_checkpoint`; variational flow) then
    validates its own fields.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise CheckpointError(
            f"checkpoint={path!r} does not exist; check the path, or start a new run instead of resuming"
        )
    if os.path.isdir(path):
        raise CheckpointError(f"checkpoint={path!r} is a directory; give the checkpoint file")
    try:
        with np.load(path, allow_pickle=False) as z:
            if not hasattr(z, "files") or "meta" not in z.files:
                raise ValueError("no 'meta' entry")
            meta = json.loads(str(z["meta"]))
            arrays = {k: z[k] for k in z.files if k != "meta"}
    except Exception as exc:  # zip/json/pickle/key errors: all mean "not an ergsym checkpoint"
        kind = type(exc).__name__
        raise CheckpointError(
            f"checkpoint={path!r} is not a readable ergsym checkpoint (an .npz file "
            f"written by {writer}; reading it failed with {kind}); "
            "check the path"
        ) from None
    if not isinstance(meta, dict):
        raise CheckpointError(
            f"checkpoint={path!r} has a malformed 'meta' entry (not a JSON object); the file is not usable"
        )
    if "checksums" in meta or (isinstance(meta.get("version"), int) and meta["version"] >= 3):
        verify_checksums(path, meta, arrays)
    return meta, arrays


_ALTERED = (
    "start a new run, or resume an intact copy of the file (a checkpoint is only ever "
    "written whole by ergsym; a change afterwards means it was edited or damaged)"
)


def verify_checksums(path: str | os.PathLike[str], meta: dict, arrays: dict) -> None:
    """Check ``meta["checksums"]`` against the arrays and parameters read from ``path``.

    Raises :class:`~ergsym.errors.CheckpointError` naming the file and the first entry whose
    checksum differs (or that was added or removed).
    """
    ck = meta.get("checksums")
    if (
        not isinstance(ck, dict)
        or ck.get("algorithm") != "sha256"
        or not isinstance(ck.get("arrays"), dict)
        or not isinstance(ck.get("meta"), str)
    ):
        raise CheckpointError(
            f"checkpoint={path!r} (format version {meta.get('version')!r}) lacks valid "
            f"checksums; the file was altered or damaged: {_ALTERED}"
        )
    if _meta_digest(meta) != ck["meta"]:
        raise CheckpointError(
            f"checkpoint={path!r} was altered after it was written: its parameters "
            f"(the 'meta' entry) do not match their checksum; {_ALTERED}"
        )
    want = ck["arrays"]
    for name in sorted(set(want) | set(arrays)):
        if name not in arrays:
            what = "is missing"
        elif name not in want:
            what = "was added"
        elif _array_digest(arrays[name]) != want[name]:
            what = "does not match its checksum"
        else:
            continue
        raise CheckpointError(
            f"checkpoint={path!r} was altered after it was written: its array {name!r} {what}; {_ALTERED}"
        )


def load_checkpoint(path: str | os.PathLike[str]) -> tuple[dict, dict]:
    """Read and fully validate a checkpoint written by :func:`save_checkpoint`.

    Returns
    -------
    (meta, arrays) : (dict, dict of numpy arrays)
        Normalized to format version 2 (canonical observable names, ``rng_states`` list,
        ``n_chains``, theory arrays in ``arrays["kt_p"]``/``arrays["d_p"]``).

    Raises
    ------
    CheckpointError
        Missing file, not a checkpoint, another format version, a missing or malformed
        field or array, shapes or dtypes that do not match, ``n_done`` inconsistent with the
        stored chain, or an unusable RNG state.  Nothing is modified.
    """
    from .observables import OBSERVABLE_ALIASES, SCALAR_OBSERVABLES  # noqa: PLC0415

    path = os.fspath(path)
    meta, arrays = read_checkpoint_file(path, writer="ergsym mc --checkpoint")
    version = meta.get("version")
    if version not in _READABLE:
        raise CheckpointError(
            f"checkpoint={path!r} has format version {version!r}; this ergsym reads "
            f"versions {', '.join(map(str, _READABLE))}: resume it with the ergsym that "
            "wrote it, or start a new run"
        )
    for key in ("theory", "sampler", "run", "n_done", "n_accepted"):
        if key not in meta:
            raise _fail(path, f"lacks the field {key!r}")
    for key in ("theory", "sampler", "run"):
        if not isinstance(meta[key], dict):
            raise _fail(path, f"has a malformed field {key!r} (not an object)")
    run = meta["run"]
    for key in ("n_traj", "n_therm", "measure_every", "record_gp", "backend", "checkpoint_every"):
        if key not in run:
            raise _fail(path, f"lacks the run setting {key!r}")
    n_traj = _int(run, "n_traj", path, 1)
    n_therm = _int(run, "n_therm", path, 0)
    every = _int(run, "measure_every", path, 1)
    _int(run, "checkpoint_every", path, 1)
    n_done = _int(meta, "n_done", path, 0)
    if n_done > n_traj:
        raise _fail(path, f"has n_done={n_done} > n_traj={n_traj}")
    # theory
    th = meta["theory"]
    if "kt_p" not in arrays and "kt_p" in th:  # version 1: propagators in the JSON
        arrays["kt_p"] = np.asarray(th["kt_p"], dtype=float)
        arrays["d_p"] = np.asarray(th.get("d_p", []), dtype=float)
    try:
        shape = tuple(int(x) for x in th["shape"])
        lam = float(th["lam"])
        n_comp = th.get("N", 1)  # absent in N = 1 checkpoints (and in those written before O(N))
    except (KeyError, TypeError, ValueError):
        raise _fail(path, "has a malformed theory (shape, lam)") from None
    V = math.prod(shape) if shape else 0
    for name in ("kt_p", "d_p"):
        a = arrays.get(name)
        if a is None:
            raise _fail(path, f"lacks the array {name!r}")
        if a.dtype != np.float64 or a.size != V:
            raise _fail(
                path, f"has {name} of dtype {a.dtype} and size {a.size} (expected float64, {V} = prod(shape {shape}))"
            )
    from .theory import LatticeTheory  # noqa: PLC0415

    try:
        theory = LatticeTheory(
            shape, arrays["kt_p"].reshape(shape), arrays["d_p"].reshape(shape), lam, dict(th.get("meta", {})), N=n_comp
        )
    except InputError as exc:
        raise _fail(path, f"holds an invalid theory ({exc})") from None
    _check_propagators(path, theory)
    # chains and RNG states
    if version == 1:
        n_chains = 1
        if "rng_state" not in meta:
            raise _fail(path, "lacks the field 'rng_state'")
        states = [meta["rng_state"]]
    else:
        n_chains = _int(meta, "n_chains", path, 1)
        states = meta.get("rng_states")
        if not isinstance(states, list) or len(states) != n_chains:
            raise _fail(
                path, f"has {0 if not isinstance(states, list) else len(states)} RNG states for n_chains={n_chains}"
            )
    rngs = [rng_from_state(s, path) for s in states]
    batched = n_chains > 1
    cshape = (n_chains,) if batched else ()
    # arrays
    expected = {
        "phi": (cshape + theory.field_shape, np.float64),
        "accepted": ((n_done,) + cshape, np.bool_),
        "dH": ((n_done,) + cshape, np.float64),
    }
    n_meas = n_measurements(n_done, n_therm, every)
    # chain names: canonical, or old aliases (version 1)
    for k in list(arrays):
        if k.startswith("chain_") and k[6:] in OBSERVABLE_ALIASES:
            arrays["chain_" + OBSERVABLE_ALIASES[k[6:]]] = arrays.pop(k)
    for name in SCALAR_OBSERVABLES:
        expected[f"chain_{name}"] = ((n_meas,) + cshape, np.float64)
    if run["record_gp"]:
        expected["chain_Gp"] = ((n_meas,) + cshape + shape, np.float64)
    for name, (shp, dtype) in expected.items():
        a = arrays.get(name)
        if a is None:
            raise _fail(path, f"lacks the array {name!r}")
        if a.shape != shp:
            what = ""
            if name.startswith("chain_") or name in ("accepted", "dH"):
                what = f" (n_done={n_done} trajectories, n_therm={n_therm}, measure_every={every})"
            raise _fail(path, f"has {name} of shape {a.shape}, expected {shp}{what}: the file is inconsistent")
        if a.dtype != dtype:
            raise _fail(path, f"has {name} of dtype {a.dtype}, expected {np.dtype(dtype).name}")
        if dtype == np.float64 and name != "dH" and not np.all(np.isfinite(a)):
            raise _fail(path, f"has non-finite numbers in {name}")
    n_acc = meta["n_accepted"]
    if meta["sampler"].get("sampler", "hmc") == "hmc":
        want = arrays["accepted"].sum(axis=0)
        got = np.asarray(n_acc)
        if got.shape != np.shape(want) or not np.array_equal(got, want):
            raise _fail(
                path,
                f"has n_accepted={n_acc!r} but its history holds {want.tolist()} "
                "accepted trajectories: the file is inconsistent",
            )
    adapt = meta.get("adapt")
    if adapt is not None and not isinstance(adapt, dict):
        raise _fail(path, "has a malformed step-size adapter state")
    meta = dict(meta, version=CHECKPOINT_VERSION, n_chains=n_chains, rng_states=states)
    meta["_theory"] = theory
    meta["_rngs"] = rngs
    return meta, arrays


_CUTOFF_REPR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\('(?P<spec>[^']*)'\)$")


def _check_propagators(path, theory) -> None:
    """Recompute ``Kt_p``, ``D_p`` from the cutoff, mass and Lambda the checkpoint records and
    refuse stored arrays that differ (beyond 1e-12 relative: rounding of another build).

    A theory made from explicit arrays (no cutoff spec in its ``meta``) has nothing to be
    compared with; its arrays are protected by the checksums only.
    """
    from ..cutoffs import parse_cutoff  # noqa: PLC0415
    from .theory import LatticeTheory  # noqa: PLC0415

    m = theory.meta
    match = _CUTOFF_REPR.match(str(m.get("cutoff", "")))
    if match is None or "mass" not in m or "Lambda" not in m:
        return
    try:
        cut = parse_cutoff(match.group("spec"))
        ref = LatticeTheory.from_cutoff(theory.lattice, cut, m["mass"], m["Lambda"], 0.0)
    except (InputError, TypeError, ValueError):
        return  # a cutoff this version does not parse: nothing to recompute
    for name in ("kt_p", "d_p"):
        got, want = getattr(theory, name), getattr(ref, name)
        if not np.allclose(got, want, rtol=1e-12, atol=0.0):
            k = int(np.argmax(np.abs(got - want)))
            raise _fail(
                path,
                f"holds {name} that does not belong to its own cutoff {match.group('spec')!r}, "
                f"mass={m['mass']!r}, Lambda={m['Lambda']!r} (at flat index {k}: stored "
                f"{got.ravel()[k]!r}, recomputed {want.ravel()[k]!r})",
                "the file was altered or damaged: start a new run (ergsym mc --checkpoint NEW.npz)",
            )


def rng_from_state(state: dict, path: str | os.PathLike[str] = "<checkpoint>") -> np.random.Generator:
    """Rebuild a :class:`numpy.random.Generator` from ``bit_generator.state``."""
    try:
        name = state["bit_generator"]
        if name not in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"):
            raise ValueError(f"unknown bit generator {name!r}")
        bitgen = getattr(np.random, name)()
        bitgen.state = state
    except Exception as exc:
        raise CheckpointError(
            f"checkpoint={path!r} holds an unusable RNG state ({type(exc).__name__}: "
            f"{exc}); the file is damaged: start a new run"
        ) from None
    return np.random.Generator(bitgen)
