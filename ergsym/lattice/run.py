"""Run a Monte Carlo chain with measurements, checkpoints, resume and progress bar.

``run_mc(theory, n_traj, seed=...) -> MCResult`` and ``resume_mc(checkpoint) -> MCResult``.
The chain is a pure function of (theory, sampler settings, run settings, seed): a run that
is interrupted (``KeyboardInterrupt`` writes a checkpoint of the last finished trajectory)
and resumed produces bitwise the same chain as an uninterrupted one on numpy.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import CheckpointError, InputError
from .backend import to_numpy
from .checkpoint import load_checkpoint, rng_from_state, save_checkpoint
from .hmc import ChainState, HMCSampler, MetropolisSampler
from .observables import SCALAR_OBSERVABLES, measure, measure_gp
from .stats import Stats, statistics
from .theory import LatticeTheory

__all__ = ["MCResult", "run_mc", "resume_mc", "make_sampler"]


@dataclass
class MCResult:
    """Result of a Monte Carlo run (STYLE: ``lattice.run(...) -> MCResult``).

    Attributes
    ----------
    theory : LatticeTheory
    chains : dict of str -> ndarray
        Measurement chains in Markov order (names of
        :data:`ergsym.lattice.observables.SCALAR_OBSERVABLES`).
    gp_chain : ndarray or None
        ``G_p`` per measurement, shape ``(n_meas,) + shape``, if recorded.
    accepted, dH : ndarray
        Per-trajectory acceptance and energy violation (``dH`` is 0 for Metropolis sweeps).
    n_traj, n_therm, measure_every : int
    sampler_config : dict
    elapsed : float
        Wall time in seconds (summed over resumed segments).
    state : ChainState
        Final state (pass on to continue the chain by hand).
    """

    theory: LatticeTheory
    chains: dict
    gp_chain: object
    accepted: np.ndarray
    dH: np.ndarray
    n_traj: int
    n_therm: int
    measure_every: int
    sampler_config: dict
    elapsed: float
    state: ChainState
    _stats: dict = field(default_factory=dict, repr=False)

    @property
    def acceptance(self) -> float:
        """Mean acceptance over all trajectories (for Metropolis: per site)."""
        return float(np.mean(self.accepted)) if self.accepted.size else 0.0

    def stats(self, name: str) -> Stats:
        """:class:`Stats` of one observable (autocorrelation-aware error)."""
        if name not in self.chains:
            raise InputError.bad("name", name, "one of " + ", ".join(self.chains))
        if name not in self._stats:
            self._stats[name] = statistics(self.chains[name])
        return self._stats[name]

    @property
    def all_stats(self) -> dict:
        """``name -> Stats`` for every scalar observable."""
        return {k: self.stats(k) for k in self.chains}

    def gp_stats(self):
        """``(mean, error, tau_int)`` arrays of ``G_p`` over the full momentum grid."""
        if self.gp_chain is None:
            raise InputError.bad("record_gp", False, "True for G_p statistics")
        flat = self.gp_chain.reshape(self.gp_chain.shape[0], -1)
        st = [statistics(flat[:, i]) for i in range(flat.shape[1])]
        shape = self.theory.shape
        return tuple(np.array([getattr(s, a) for s in st]).reshape(shape)
                     for a in ("mean", "error_of_mean", "tau_corr"))

    def to_dict(self) -> dict:
        """JSON-able summary: every observable's mean, error and ``tau_int``."""
        out = {
            "lattice": "x".join(map(str, self.theory.shape)),
            "lam": self.theory.lam,
            "n_traj": self.n_traj, "n_therm": self.n_therm, "measure_every": self.measure_every,
            "n_measurements": int(next(iter(self.chains.values())).size),
            "acceptance": self.acceptance,
            "sampler": self.sampler_config,
            "elapsed_s": self.elapsed,
            "exact": {"f0": self.theory.f0, "P2": -2.0 * self.theory.f0},
            "observables": {k: s.to_dict() for k, s in self.all_stats.items()},
        }
        if self.gp_chain is not None:
            m, e, t = self.gp_stats()
            out["G_p"] = {"mean": m.ravel().tolist(), "error": e.ravel().tolist(),
                          "tau_int": t.ravel().tolist(), "layout": "numpy.fft.fftn"}
        return out


def make_sampler(theory: LatticeTheory, sampler_config: dict, backend: str = "numpy"):
    """Build the sampler described by ``sampler_config`` (as returned by ``sampler.config()``)."""
    cfg = dict(sampler_config)
    kind = cfg.pop("sampler", "hmc")
    if kind == "hmc":
        return HMCSampler(theory, backend=backend, **cfg)
    if kind == "metropolis":
        if backend != "numpy":
            raise InputError.bad("backend", backend, "'numpy' for the Metropolis baseline")
        return MetropolisSampler(theory, **cfg)
    raise InputError.bad("sampler", kind, "'hmc' or 'metropolis'")


def _validate_count(name, v, minimum):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum:
        raise InputError.bad(name, v, f"an integer >= {minimum}")
    return int(v)


def run_mc(theory: LatticeTheory, n_traj: int, *, seed=None, rng=None, n_therm: int = 0,
           measure_every: int = 1, sampler: str = "hmc", n_steps=None,
           traj_length: float = math.pi / 2, jitter: float = 0.25, integrator: str = "split",
           backend: str = "numpy", record_gp: bool = False, start: str = "free",
           checkpoint=None, checkpoint_every: int = 500, progress: bool = True,
           callback=None) -> MCResult:
    """Sample :math:`P\\propto e^{-S}` of SPEC section 3 and measure A, B, pieces, ``G_p``, ``<phi^2>``.

    Parameters
    ----------
    theory : LatticeTheory
        Lattice theory (shape, ``Kt_p``, ``D_p``, ``lam``).
    n_traj : int
        Total number of trajectories (HMC) or sweeps (Metropolis), thermalization included.
    seed : int, optional
        Seed of a fresh ``numpy.random.default_rng``; give either ``seed`` or ``rng``.
    rng : numpy.random.Generator, optional
        Explicit generator (advanced in place).
    n_therm : int
        Trajectories discarded before measuring (the default free start is already in
        equilibrium at ``lam = 0`` and close to it at small ``lam``).
    measure_every : int
        Measure after every ``measure_every``-th trajectory.
    sampler : {"hmc", "metropolis"}
        Fourier-accelerated HMC (:class:`HMCSampler`) or the local baseline.
    n_steps, traj_length, jitter, integrator
        HMC settings (:class:`HMCSampler`).
    backend : {"numpy", "cupy"}
    record_gp : bool
        Also record ``G_p = |phi_p|^2/V`` (memory ``n_meas * V`` floats).
    start : {"free", "cold"}
    checkpoint : path-like, optional
        Checkpoint file, written every ``checkpoint_every`` trajectories, at the end, and on
        ``KeyboardInterrupt`` (which is then re-raised).
    progress : bool
        Show a tqdm progress bar on stderr.
    callback : callable, optional
        ``callback(i, state, info)`` after each finished trajectory ``i`` (0-based).

    Returns
    -------
    MCResult

    Raises
    ------
    InputError
        Bad counts, seeds or sampler settings.
    BackendUnavailableError
        ``backend="cupy"`` without cupy or a device.
    """
    n_traj = _validate_count("n_traj", n_traj, 1)
    n_therm = _validate_count("n_therm", n_therm, 0)
    measure_every = _validate_count("measure_every", measure_every, 1)
    checkpoint_every = _validate_count("checkpoint_every", checkpoint_every, 1)
    if n_traj - n_therm < measure_every * 2:
        raise InputError.bad("n_traj", n_traj, f">= n_therm + 2*measure_every = {n_therm + 2 * measure_every}",
                             "at least two measurements are needed for an error bar")
    if (seed is None) == (rng is None):
        raise InputError.bad("seed", seed, "given exactly once (either seed= or rng=)")
    if rng is None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise InputError.bad("seed", seed, "an integer >= 0")
        rng = np.random.default_rng(int(seed))
    if sampler == "hmc":
        smp = HMCSampler(theory, n_steps=n_steps, traj_length=traj_length, jitter=jitter,
                         integrator=integrator, backend=backend)
    elif sampler == "metropolis":
        smp = make_sampler(theory, {"sampler": "metropolis"}, backend)
    else:
        raise InputError.bad("sampler", sampler, "'hmc' or 'metropolis'")
    state = smp.init_state(rng, start)
    run_cfg = {"n_traj": n_traj, "n_therm": n_therm, "measure_every": measure_every,
               "record_gp": bool(record_gp), "backend": backend,
               "checkpoint_every": checkpoint_every}
    return _loop(smp, state, run_cfg, chains=None, hist=None, elapsed0=0.0,
                 checkpoint=checkpoint, progress=progress, callback=callback)


def resume_mc(checkpoint, *, n_traj=None, progress: bool = True, callback=None,
              backend=None) -> MCResult:
    """Continue the run saved in ``checkpoint`` up to its ``n_traj`` (or a larger ``n_traj``).

    The continued chain is bitwise identical to an uninterrupted run (numpy backend).

    Raises
    ------
    CheckpointError
        Missing, corrupt or incompatible checkpoint.
    InputError
        ``n_traj`` smaller than the trajectories already done.
    """
    meta, arrays = load_checkpoint(checkpoint)
    try:
        theory = LatticeTheory.from_config(meta["theory"])
        run_cfg = dict(meta["run"])
        done = int(meta["n_done"])
        n_acc = meta["n_accepted"]
        rng = rng_from_state(meta["rng_state"])
        sampler_cfg = meta["sampler"]
    except KeyError as exc:
        raise CheckpointError(f"checkpoint={checkpoint!r} lacks the field {exc}") from None
    if backend is not None:
        run_cfg["backend"] = backend
    if n_traj is not None:
        n_traj = _validate_count("n_traj", n_traj, done)
        run_cfg["n_traj"] = n_traj
    smp = make_sampler(theory, sampler_cfg, run_cfg["backend"])
    xp = getattr(smp, "ops", None)
    phi = arrays["phi"] if xp is None else xp.xp.asarray(arrays["phi"])
    state = ChainState(phi, rng, done, n_acc)
    chains = {k[6:]: v for k, v in arrays.items() if k.startswith("chain_")}
    hist = (arrays["accepted"], arrays["dH"])
    return _loop(smp, state, run_cfg, chains=chains, hist=hist, elapsed0=float(meta.get("elapsed", 0.0)),
                 checkpoint=checkpoint, progress=progress, callback=callback)


def _loop(smp, state, run_cfg, *, chains, hist, elapsed0, checkpoint, progress, callback):
    n_traj, n_therm, every = run_cfg["n_traj"], run_cfg["n_therm"], run_cfg["measure_every"]
    record_gp = run_cfg["record_gp"]
    theory = smp.theory
    ops = getattr(smp, "ops", None)
    if ops is None:  # Metropolis: measure with a numpy ops object
        from .theory import LatticeOps
        ops = LatticeOps(theory, "numpy")
    n_meas_total = max(0, (n_traj - n_therm + every - 1) // every)
    names = list(SCALAR_OBSERVABLES) + (["Gp"] if record_gp else [])
    buf = {}
    for name in names:
        shp = (n_meas_total,) + (theory.shape if name == "Gp" else ())
        buf[name] = np.zeros(shp)
    acc_hist = np.zeros(n_traj, dtype=bool)
    dh_hist = np.zeros(n_traj)
    done = state.n_steps_done
    n_meas = 0
    if chains is not None:
        n_meas = len(chains["phi2"])
        for name in names:
            buf[name][:n_meas] = chains[name]
        acc_hist[:done] = hist[0][:done]
        dh_hist[:done] = hist[1][:done]

    t_start = time.perf_counter()
    committed = {"state": state, "rng": state.rng.bit_generator.state, "n_meas": n_meas}

    def write(cp):
        st = cp["state"]
        k = cp["n_meas"]
        meta = {"theory": theory.to_config(), "sampler": smp.config(), "run": run_cfg,
                "n_done": st.n_steps_done, "n_accepted": st.n_accepted, "rng_state": cp["rng"],
                "elapsed": elapsed0 + time.perf_counter() - t_start}
        arrays = {"phi": to_numpy(st.phi), "accepted": acc_hist[:st.n_steps_done],
                  "dH": dh_hist[:st.n_steps_done]}
        arrays.update({f"chain_{n}": buf[n][:k] for n in names})
        save_checkpoint(checkpoint, meta, arrays)

    from tqdm.auto import tqdm  # noqa: PLC0415  (only when running)
    bar = tqdm(total=n_traj, initial=done, disable=not progress, unit="traj",
               desc=f"{smp.config()['sampler']} lam={theory.lam:g}", leave=False)
    try:
        for i in range(done, n_traj):
            state, info = smp.step(state)
            acc_hist[i] = info.accepted
            dh_hist[i] = info.dH
            if i >= n_therm and (i - n_therm) % every == 0:
                obs = measure(ops, state.phi)
                for name in SCALAR_OBSERVABLES:
                    buf[name][n_meas] = float(obs[name])
                if record_gp:
                    buf["Gp"][n_meas] = to_numpy(measure_gp(ops, state.phi))
                n_meas += 1
            committed = {"state": state, "rng": state.rng.bit_generator.state, "n_meas": n_meas}
            bar.update(1)
            if callback is not None:
                callback(i, state, info)
            if checkpoint is not None and (i + 1) % run_cfg["checkpoint_every"] == 0:
                write(committed)
    except KeyboardInterrupt:
        if checkpoint is not None:
            write(committed)
        bar.close()
        raise
    bar.close()
    if checkpoint is not None:
        write(committed)
    chains_out = {n: buf[n][:n_meas].copy() for n in SCALAR_OBSERVABLES}
    return MCResult(theory=theory, chains=chains_out, gp_chain=buf["Gp"][:n_meas] if record_gp else None,
                    accepted=acc_hist, dH=dh_hist, n_traj=n_traj, n_therm=n_therm, measure_every=every,
                    sampler_config=smp.config(), elapsed=elapsed0 + time.perf_counter() - t_start,
                    state=state)
