"""Run a Monte Carlo chain with measurements, checkpoints, resume and progress bar.

``run_mc(theory, n_traj, seed=...) -> MCResult`` and ``resume_mc(checkpoint) -> MCResult``.
The chain is a pure function of (theory, sampler settings, run settings, seed): a run that
is interrupted (``KeyboardInterrupt`` writes a checkpoint of the last finished trajectory)
and resumed produces bitwise the same chain as an uninterrupted one on numpy, chain by chain
for a batch of independent chains (``n_chains > 1``).

Thermalization adapts the HMC step (dual averaging towards acceptance 0.8,
:class:`~ergsym.lattice.hmc.StepSizeAdapter`) and freezes it; the production step is recorded
in the result and the checkpoint.  A chain whose last :data:`STUCK_RESET` thermalization trajectories
were all rejected restarts from ``phi = 0`` (a free-field start in the tail at strong coupling;
docs/lattice.md, "Stuck chains").  Every observable's :class:`~ergsym.lattice.stats.Stats`
says whether it is reliable; :attr:`MCResult.warnings` collects the reasons (low acceptance,
zero variance, chains shorter than 50 tau_int, split-R-hat > 1.1, a chain stalled in
production (:meth:`MCResult.stalled_chains`), D_p = 0 on the lattice).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from ..errors import CheckpointError, InputError
from ..inputs import as_lattice
from .backend import to_numpy
from .checkpoint import load_checkpoint, n_measurements, save_checkpoint
from .hmc import ChainState, HMCSampler, MetropolisSampler, StepSizeAdapter, min_n_steps
from .observables import (
    SCALAR_OBSERVABLES,
    ObservableDict,
    canonical_observable,
    exact_observables,
    measure_gp,
    measure_host,
)
from .stats import Stats, statistics
from .theory import LatticeTheory

if TYPE_CHECKING:
    import os
    from collections.abc import Callable

    from ..inputs import Lattice

__all__ = [
    "MCResult",
    "run_mc",
    "resume_mc",
    "make_sampler",
    "estimate_resources",
    "check_resources",
    "chain_generators",
    "MIN_ACCEPTANCE",
    "DEFAULT_N_THERM",
    "default_n_therm",
]


#: A run whose mean acceptance is below this is flagged (its chain barely moves).
MIN_ACCEPTANCE = 0.2
#: Resource limits above which :func:`run_mc` refuses unless ``force=True`` (``--force``).
#: A chain whose last STUCK_RESET thermalization trajectories were all rejected is restarted
#: from ``phi = 0`` (docs/lattice.md, "Stuck chains"): at strong coupling a free-field start in
#: the tail of the free distribution (``phi^2`` ~ 10x its interacting mean) has a quartic force
#: so strong that every trajectory of a batch's shared step diverges, and the chain never moves.
STUCK_RESET = 10
#: A production chain whose longest run of consecutive rejected trajectories exceeds
#: max(STALL_MIN, STALL_FRACTION * n_production) stalled (:meth:`MCResult.stalled_chains`): at an
#: acceptance of 0.5 such a run has probability ~1e-15, so it means a region where every
#: trajectory diverges, and every observable is flagged unreliable.
STALL_MIN = 50
STALL_FRACTION = 0.05
MAX_BYTES = 2 * 1024**3
MAX_SECONDS = 12 * 3600.0


def estimate_resources(
    shape: str | tuple[int, ...] | Lattice,
    n_traj: int,
    n_chains: int = 1,
    *,
    record_gp: bool = False,
    n_steps: int = 4,
    measure_every: int = 1,
    n_therm: int = 0,
) -> dict:
    """Rough memory and time of a Monte Carlo run, computed from the sizes alone.

    Memory: about 24 float64 arrays of the batch ``n_chains * V`` (fields, momenta, half
    spectra, temporaries), 12 arrays of ``V`` (propagators, momenta), the measurement buffers
    (13 observables, plus ``G_p`` if recorded) and the per-trajectory history.  Time: the
    ``2 n_steps + 2`` FFTs of one trajectory plus about as much again of elementwise work and
    momentum draws (counted as 4 more transforms), at ~6 ns per point and log2 factor plus
    ~30 us of overhead each (a generous bound from the project's 2-core machine, see
    docs/benchmarks.md).

    Returns
    -------
    dict
        ``{"volume", "bytes", "seconds"}``.
    """
    shape = as_lattice(shape).shape
    V = math.prod(shape)
    n_meas = max(0, (n_traj - n_therm + measure_every - 1) // measure_every)
    nb = V * n_chains
    mem = 8 * (24 * nb + 12 * V) + n_meas * n_chains * 13 * 8 + n_traj * n_chains * 9
    if record_gp:
        mem += n_meas * nb * 8
    per_fft = 3e-5 + 6e-9 * nb * max(1.0, math.log2(max(V, 2)))
    secs = n_traj * (2 * n_steps + 6) * per_fft
    return {"volume": V, "bytes": int(mem), "seconds": float(secs)}


def check_resources(
    shape: str | tuple[int, ...] | Lattice, n_traj: int, n_chains: int = 1, *, force: bool = False, **kw: int | bool
) -> dict:
    """:func:`estimate_resources`, refusing (``InputError``) above :data:`MAX_BYTES` /
    :data:`MAX_SECONDS` unless ``force``."""
    lat = as_lattice(shape)
    est = estimate_resources(lat, n_traj, n_chains, **kw)
    gib, hours = est["bytes"] / 1024**3, est["seconds"] / 3600
    lattice = lat.spec
    if not force and (est["bytes"] > MAX_BYTES or est["seconds"] > MAX_SECONDS):
        raise InputError.bad(
            "lattice",
            lattice,
            f"a run within {MAX_BYTES / 1024**3:.0f} GiB of memory and {MAX_SECONDS / 3600:.0f} h "
            f"(this one: V = {est['volume']} sites x {n_chains} chain(s), {n_traj} trajectories, "
            f"about {gib:.2f} GiB and {hours:.2g} h)",
            "use a smaller lattice, fewer chains or trajectories, or pass --force (force=True) to run anyway",
        )
    return est


@dataclass
class MCResult:
    """Result of a Monte Carlo run (``lattice.run(...) -> MCResult``).

    Attributes
    ----------
    theory : LatticeTheory
    chains : ObservableDict of str -> ndarray
        Measurement chains in Markov order, keyed by the canonical names of
        :data:`ergsym.lattice.observables.SCALAR_OBSERVABLES` (the old names P1..P4 work too);
        shape ``(n_meas,)`` for one chain, ``(n_meas, n_chains)`` for a batch.
    gp_chain : ndarray or None
        ``G_p`` per measurement, shape ``(n_meas,) + shape`` (``(n_meas, n_chains) + shape``).
    accepted, dH : ndarray
        Per-trajectory acceptance and energy violation (a column per chain for a batch;
        ``dH`` is 0 for Metropolis sweeps).
    n_traj, n_therm, measure_every : int
    sampler_config : dict
        Sampler settings, with the production ``n_steps`` and ``step_size`` (frozen after
        the thermalization's adaptation).
    elapsed : float
        Wall time in seconds (summed over resumed segments).
    state : ChainState
        Final state (pass on to continue the chain by hand).
    n_chains : int
        Number of independent chains.
    adapted : bool
        Whether the step was adapted during thermalization.
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
    n_chains: int = 1
    adapted: bool = False

    #: Observables a repr shows (when measured): the field's width, A and B (direct and improved).
    REPR_OBSERVABLES = ("phi2", "A", "B", "A_sd", "B_sd")

    def __repr__(self) -> str:
        """Short summary for a notebook: run, acceptance, ``phi2``/``A``/``B`` as value ± error
        with their status (``ok``, ``exact`` or ``unreliable``), and the number of warnings."""
        chains = f" x {self.n_chains} chains" if self.n_chains > 1 else ""
        kind = self.sampler_config.get("sampler", "hmc")
        head = (
            f"MCResult(lattice {'x'.join(map(str, self.theory.shape))}, lam={self.theory.lam:g}, "
            f"{kind} {self.n_traj} traj ({self.n_therm} therm){chains}, "
            f"acceptance {self.acceptance:.3f}, {self.elapsed:.1f} s)"
        )
        lines = [head]
        names = [n for n in self.REPR_OBSERVABLES if n in self.chains]
        width = max((len(n) for n in names), default=0)
        for n in names:
            lines.append(f"  {n:<{width}} = {_status_line(self.stats(n))}")
        w = self.warnings
        if w:
            lines.append(
                f"  {len(w)} warning{'s' if len(w) != 1 else ''}: "
                + w[0]
                + (" ..." if len(w) > 1 else "")
                + " (see .warnings)"
            )
        return "\n".join(lines)

    @property
    def acceptance(self) -> float:
        """Mean acceptance over the production trajectories, or over all of them if there are
        none after thermalization (for Metropolis: per site)."""
        prod = self.accepted[self.n_therm :]
        a = prod if prod.size else self.accepted
        return float(np.mean(a)) if a.size else 0.0

    def stats(self, name: str) -> Stats:
        """:class:`Stats` of one observable (autocorrelation-aware error, R̂, reliability).

        ``name`` is a canonical name or an alias (``P1`` = ``eq5.14``, ...).  A low acceptance
        (< :data:`MIN_ACCEPTANCE`) marks every observable unreliable.
        """
        name = canonical_observable(name)
        if name not in self.chains:
            raise InputError.bad("name", name, "one of " + ", ".join(self.chains))
        if name not in self._stats:
            exact = name in exact_observables(self.theory.lam, not np.any(self.theory.d_p != 0))
            st = statistics(self.chains[name], exact=exact)
            acc = self.acceptance
            if acc < MIN_ACCEPTANCE and not st.exact:
                st = st.flagged(
                    f"acceptance {acc:.3f} < {MIN_ACCEPTANCE}: the chain barely moves "
                    "(the step adaptation needs --n-therm > 0; or set --n-steps larger)"
                )
            stalled = self.stalled_chains()
            if stalled and not st.exact:
                j, run = max(stalled.items(), key=lambda kv: kv[1])
                which = f"chain {j}" if self.n_chains > 1 else "the chain"
                more = f" ({len(stalled)} chains in all)" if len(stalled) > 1 else ""
                st = st.flagged(
                    f"{which} stalled: {run} consecutive trajectories of the production rejected{more}, "
                    "so its samples are not from the distribution; thermalize longer (--n-therm) "
                    "or set --n-steps larger"
                )
            self._stats[name] = st
        return self._stats[name]

    def stalled_chains(self) -> dict[int, int]:
        """Chains that stalled in production: ``{chain index: longest run of consecutive
        rejected trajectories}`` for every chain whose longest run exceeds
        ``max(STALL_MIN, STALL_FRACTION * n_production)`` (HMC only; empty when none did).

        Such a chain sat in a region where every trajectory of the frozen step diverges (a
        free-field start in the tail at strong coupling, docs/lattice.md "Stuck chains"); its
        mean and error describe that region, not the distribution.
        """
        if self.sampler_config.get("sampler", "hmc") != "hmc":
            return {}
        acc = np.asarray(self.accepted[self.n_therm :], dtype=bool)
        if acc.ndim == 1:
            acc = acc[:, None]
        n = acc.shape[0]
        limit = max(STALL_MIN, STALL_FRACTION * n)
        out = {}
        for j in range(acc.shape[1]):
            # longest run of False: distances between the accepted positions (and the ends)
            pos = np.concatenate(([-1], np.flatnonzero(acc[:, j]), [n]))
            run = int(np.max(np.diff(pos)) - 1)
            if run > limit:
                out[j] = run
        return out

    @property
    def all_stats(self) -> dict:
        """``name -> Stats`` for every scalar observable."""
        return {k: self.stats(k) for k in self.chains}

    @property
    def warnings(self) -> list:
        """Human-readable warnings: low acceptance, frozen or too-short chains, R̂, D_p = 0."""
        out = []
        acc = self.acceptance
        if acc < MIN_ACCEPTANCE:
            out.append(
                f"acceptance {acc:.3f} is below {MIN_ACCEPTANCE}: the chain barely moves and "
                "its error bars are not trustworthy"
            )
        if not np.any(self.theory.d_p != 0):
            out.append(
                "D_p = Lambda dKt/dLambda vanishes at every momentum of this lattice: A, B and "
                "the four pieces are exactly 0 (choose Lambda or the cutoff so that D_p is "
                "nonzero on the lattice momenta)"
            )
        for name, st in self.all_stats.items():
            for r in st.reasons:
                if r.startswith("acceptance "):
                    continue
                out.append(f"{name}: {r}")
        return out

    def gp_stats(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(mean, error, tau_int)`` arrays of ``G_p`` over the full momentum grid."""
        if self.gp_chain is None:
            raise InputError.bad("record_gp", False, "True for G_p statistics")
        lead = 2 if self.n_chains > 1 else 1
        flat = self.gp_chain.reshape(self.gp_chain.shape[:lead] + (-1,))
        st = [statistics(flat[..., i]) for i in range(flat.shape[-1])]
        shape = self.theory.shape
        return tuple(
            np.array([getattr(s, a) for s in st]).reshape(shape) for a in ("mean", "error_of_mean", "tau_corr")
        )

    def to_dict(self) -> dict:
        """JSON-able summary: every observable's value object, the run and its warnings."""
        f0 = self.theory.f0
        out = {
            "lattice": "x".join(map(str, self.theory.shape)),
            "lam": self.theory.lam,
            "N": self.theory.N,
            "n_traj": self.n_traj,
            "n_therm": self.n_therm,
            "measure_every": self.measure_every,
            "n_chains": self.n_chains,
            "n_measurements": int(next(iter(self.chains.values())).shape[0]),
            "acceptance": self.acceptance,
            "n_steps": self.sampler_config.get("n_steps"),
            "step_size": self.sampler_config.get("step_size"),
            "step_adapted": self.adapted,
            "sampler": self.sampler_config,
            "elapsed_s": self.elapsed,
            "exact": {"f0": f0, "eq5.13": -2.0 * self.theory.N * f0},
            "observables": {k: s.to_dict() for k, s in self.all_stats.items()},
            "warnings": self.warnings,
        }
        if self.gp_chain is not None:
            m, e, t = self.gp_stats()
            out["G_p"] = {
                "mean": m.ravel().tolist(),
                "error": e.ravel().tolist(),
                "tau_int": t.ravel().tolist(),
                "layout": "numpy.fft.fftn",
            }
        return out


def _status_line(st: Stats) -> str:
    """``value ± error  [status]`` for a repr: ``exact``, ``ok`` or ``unreliable: reason``."""
    if st.exact:
        return f"{st.mean:.10g}  [exact]"
    status = "ok" if st.reliable else "unreliable: " + (st.reasons[0] if st.reasons else "see warnings")
    return f"{st!r}  [{status}, tau_int={st.tau_corr:.3g}]"


def make_sampler(theory: LatticeTheory, sampler_config: dict, backend: str = "numpy") -> HMCSampler | MetropolisSampler:
    """Build the sampler described by ``sampler_config`` (as returned by ``sampler.config()``)."""
    cfg = dict(sampler_config)
    kind = cfg.pop("sampler", "hmc")
    cfg.pop("step_size", None)
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


def chain_generators(
    n_chains: int, seed: int | None = None, rng: np.random.Generator | None = None
) -> list[np.random.Generator]:
    """One generator per chain: chain 0 is ``default_rng(seed)`` (so a one-chain run is the
    chain of earlier versions), chains 1.. are independent streams spawned from the same
    ``SeedSequence`` (numpy's ``spawn``)."""
    if rng is None:
        rng = np.random.default_rng(int(seed))
    if n_chains == 1:
        return [rng]
    if hasattr(rng, "spawn"):  # numpy >= 1.25
        return [rng] + list(rng.spawn(n_chains - 1))
    seq = rng.bit_generator._seed_seq  # noqa: SLF001  (older numpy: the same spawning)
    return [rng] + [np.random.Generator(type(rng.bit_generator)(s)) for s in seq.spawn(n_chains - 1)]


#: thermalization trajectories of a run unless given (API and CLI alike): at most this many,
#: at most a fifth of the run (:func:`default_n_therm`)
DEFAULT_N_THERM = 100


def default_n_therm(n_traj: int) -> int:
    """Thermalization trajectories when none are given: ``min(DEFAULT_N_THERM, n_traj // 5)``.

    One rule for :func:`run_mc`, :func:`ergsym.lattice.crosscheck.crosscheck` and the
    ``mc``/``crosscheck`` commands: the chain starts from a free-field draw, which is not a
    sample of the interacting theory, so the start of every run is discarded by default (and
    the HMC step is adapted meanwhile)."""
    return min(DEFAULT_N_THERM, max(int(n_traj), 0) // 5)


def run_mc(
    theory: LatticeTheory,
    n_traj: int,
    *,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
    n_therm: int | None = None,
    measure_every: int = 1,
    sampler: str = "hmc",
    n_steps: int | None = None,
    traj_length: float = math.pi / 2,
    jitter: float = 0.25,
    integrator: str = "split",
    backend: str = "numpy",
    record_gp: bool = False,
    start: str = "free",
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: int = 500,
    progress: bool = True,
    callback: Callable[[int, ChainState, dict], object] | None = None,
    n_chains: int = 1,
    adapt: bool | None = None,
    target_accept: float = 0.8,
    force: bool = False,
) -> MCResult:
    """Sample :math:`P\\propto e^{-S}` of the lattice theory and measure A, B, the four pieces
    (Cotler & Rezchikov, PRD 108, 025003, (5.11)-(5.14)), ``G_p`` and ``<phi^2>``.

    Parameters
    ----------
    theory : LatticeTheory
        Lattice theory (shape, ``Kt_p``, ``D_p``, ``lam``, ``N``: for ``N > 1`` the fields have
        a component axis before the lattice axes and the observables are summed over components,
        docs/lattice.md "O(N) models").
    n_traj : int
        Total number of trajectories (HMC) or sweeps (Metropolis), thermalization included.
    seed : int, optional
        Seed of a fresh ``numpy.random.default_rng``; give either ``seed`` or ``rng``.
    rng : numpy.random.Generator, optional
        Explicit generator (advanced in place).
    n_therm : int, optional
        Trajectories discarded before measuring; the HMC step is adapted during them.
        Default :func:`default_n_therm` (``min(100, n_traj // 5)``, as on the command line);
        ``0`` measures from the free-field start (at ``lam > 0`` a start-up bias is then
        possible, and a chain whose start differs from its end is flagged unreliable).
    measure_every : int
        Measure after every ``measure_every``-th trajectory.
    sampler : {"hmc", "metropolis"}
        Fourier-accelerated HMC (:class:`HMCSampler`) or the local baseline.
    n_steps, traj_length, jitter, integrator
        HMC settings (:class:`HMCSampler`); ``n_steps=None`` starts from
        :func:`~ergsym.lattice.hmc.default_n_steps`.
    backend : {"numpy", "cupy"}
    record_gp : bool
        Also record ``G_p = |phi_p|^2/V`` (memory ``n_meas * n_chains * V`` floats).
    start : {"free", "cold"}
    checkpoint : path-like, optional
        Checkpoint file, written every ``checkpoint_every`` trajectories, at the end, and on
        ``KeyboardInterrupt`` (which is then re-raised).  Written atomically.
    progress : bool
        Show a tqdm progress bar on stderr.
    callback : callable, optional
        ``callback(i, state, info)`` after each finished trajectory ``i`` (0-based).
    n_chains : int
        Independent chains run as one batch (array ``(n_chains,) + shape``, batched FFTs and
        measurements, per-chain generators from :func:`chain_generators`, per-chain
        accept/reject).  ``1`` (default) gives the one-chain layout of earlier versions.
    adapt : bool, optional
        Adapt the HMC step during thermalization (dual averaging towards ``target_accept``)
        and freeze it for production.  Default: when ``n_steps`` is None and ``n_therm > 0``.
    target_accept : float
        Target mean acceptance probability of the adaptation.
    force : bool
        Run even when :func:`estimate_resources` exceeds :data:`MAX_BYTES`/:data:`MAX_SECONDS`.

    Returns
    -------
    MCResult

    Raises
    ------
    InputError
        Bad counts, seeds or sampler settings; a run above the resource limits without ``force``.
    BackendUnavailableError
        ``backend="cupy"`` without cupy or a device.
    """
    n_traj = _validate_count("n_traj", n_traj, 1)
    n_therm = _validate_count("n_therm", default_n_therm(n_traj) if n_therm is None else n_therm, 0)
    measure_every = _validate_count("measure_every", measure_every, 1)
    checkpoint_every = _validate_count("checkpoint_every", checkpoint_every, 1)
    n_chains = _validate_count("n_chains", n_chains, 1)
    if n_traj - n_therm < measure_every * 2:
        raise InputError.bad(
            "n_traj",
            n_traj,
            f">= n_therm + 2*measure_every = {n_therm + 2 * measure_every}",
            "at least two measurements are needed for an error bar",
        )
    if (seed is None) == (rng is None):
        raise InputError.bad("seed", seed, "given exactly once (either seed= or rng=)")
    if rng is None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise InputError.bad("seed", seed, "an integer >= 0")
    elif not isinstance(rng, np.random.Generator):
        raise InputError.bad("rng", type(rng).__name__, "a numpy.random.Generator")
    if sampler == "hmc":
        smp = HMCSampler(
            theory, n_steps=n_steps, traj_length=traj_length, jitter=jitter, integrator=integrator, backend=backend
        )
    elif sampler == "metropolis":
        if n_chains > 1:
            raise InputError.bad("n_chains", n_chains, "1 for the Metropolis baseline")
        smp = make_sampler(theory, {"sampler": "metropolis"}, backend)
    else:
        raise InputError.bad("sampler", sampler, "'hmc' or 'metropolis'")
    check_resources(
        theory.lattice,
        n_traj,
        n_chains,
        force=force,
        record_gp=bool(record_gp),
        n_steps=getattr(smp, "n_steps", 4),
        measure_every=measure_every,
        n_therm=n_therm,
    )
    if adapt is None:
        adapt = sampler == "hmc" and n_steps is None and n_therm > 0
    if adapt and sampler != "hmc":
        raise InputError.bad("adapt", adapt, "False for the Metropolis baseline")
    adapter = None
    if adapt and n_therm > 0:
        base = min_n_steps(theory.volume, smp.integrator)
        adapter = StepSizeAdapter(smp.n_steps, smp.traj_length, min_steps=min(base, smp.n_steps), target=target_accept)
    rngs = chain_generators(n_chains, seed, rng)
    state = smp.init_state(rngs if n_chains > 1 else rngs[0], start)
    run_cfg = {
        "n_traj": n_traj,
        "n_therm": n_therm,
        "measure_every": measure_every,
        "record_gp": bool(record_gp),
        "backend": backend,
        "checkpoint_every": checkpoint_every,
    }
    return _loop(
        smp,
        state,
        run_cfg,
        chains=None,
        hist=None,
        elapsed0=0.0,
        checkpoint=checkpoint,
        progress=progress,
        callback=callback,
        adapter=adapter,
        adapted=bool(adapt and n_therm > 0),
    )


def resume_mc(
    checkpoint: str | os.PathLike[str],
    *,
    n_traj: int | None = None,
    progress: bool = True,
    callback: Callable[[int, ChainState, dict], object] | None = None,
    backend: str | None = None,
) -> MCResult:
    """Continue the run saved in ``checkpoint`` up to its ``n_traj`` (or a larger ``n_traj``).

    The checkpoint is validated completely before any work
    (:func:`~ergsym.lattice.checkpoint.load_checkpoint`); the continued chain is bitwise
    identical to an uninterrupted run (numpy backend), chain by chain.  The file is only
    replaced by complete, newer checkpoints (atomic writes), never by a failed resume.

    Raises
    ------
    CheckpointError
        Missing, corrupt, inconsistent or incompatible checkpoint.
    InputError
        ``n_traj`` smaller than the trajectories already done.
    """
    meta, arrays = load_checkpoint(checkpoint)
    theory = meta["_theory"]
    run_cfg = dict(meta["run"])
    done = int(meta["n_done"])
    n_chains = int(meta["n_chains"])
    rngs = meta["_rngs"]
    sampler_cfg = meta["sampler"]
    if backend is not None:
        run_cfg["backend"] = backend
    if n_traj is not None:
        n_traj = _validate_count("n_traj", n_traj, max(done, 1))
        if n_traj - run_cfg["n_therm"] < 2 * run_cfg["measure_every"]:
            raise InputError.bad("n_traj", n_traj, ">= n_therm + 2*measure_every")
        run_cfg["n_traj"] = n_traj
    try:
        smp = make_sampler(theory, sampler_cfg, run_cfg["backend"])
    except TypeError as exc:
        raise CheckpointError(
            f"checkpoint={str(checkpoint)!r} has unusable sampler settings ({exc}); start a new run"
        ) from None
    ops = getattr(smp, "ops", None)
    phi = arrays["phi"] if ops is None else ops.xp.asarray(arrays["phi"])
    n_acc = meta["n_accepted"]
    if n_chains > 1:
        state = ChainState(phi, tuple(rngs), done, np.asarray(n_acc, dtype=np.int64))
    else:
        state = ChainState(phi, rngs[0], done, n_acc)
    chains = {k[6:]: v for k, v in arrays.items() if k.startswith("chain_")}
    hist = (arrays["accepted"], arrays["dH"])
    ad = meta.get("adapt")
    adapter = None
    if ad and not ad.get("frozen", True) and done < run_cfg["n_therm"]:
        try:
            adapter = StepSizeAdapter.from_dict(ad, smp.traj_length)
        except (KeyError, TypeError, ValueError, InputError) as exc:
            raise CheckpointError(
                f"checkpoint={str(checkpoint)!r} has a malformed step-size adapter state ({exc}); start a new run"
            ) from None
    return _loop(
        smp,
        state,
        run_cfg,
        chains=chains,
        hist=hist,
        elapsed0=float(meta.get("elapsed", 0.0)),
        checkpoint=checkpoint,
        progress=progress,
        callback=callback,
        adapter=adapter,
        adapted=bool(ad),
    )


def _restart_stuck(state, acc_hist, i, batched, xp):
    """Thermalization trajectory ``i`` done: every chain whose last :data:`STUCK_RESET`
    trajectories were all rejected restarts from ``phi = 0`` (the centre of the distribution,
    from which the adapted step moves it).  A function of the acceptance history (which the
    checkpoint stores), so a resumed run restarts the same chains; a chain that moves is never
    touched, and each chain keeps its own generator, so the chains stay independent."""
    if i + 1 < STUCK_RESET:
        return state
    stuck = ~np.any(acc_hist[i + 1 - STUCK_RESET : i + 1], axis=0)
    if not np.any(stuck):
        return state
    if batched:
        keep = xp.asarray(~stuck).reshape((-1,) + (1,) * (state.phi.ndim - 1))
        phi = state.phi * keep  # a stuck chain's field is finite: it was never moved
    else:
        phi = xp.zeros_like(state.phi)
    # the cached spectra belong to the old field (ChainState.spectra recomputes them)
    return replace(state, phi=phi, cache=None)


def _loop(smp, state, run_cfg, *, chains, hist, elapsed0, checkpoint, progress, callback, adapter=None, adapted=False):
    n_traj, n_therm, every = run_cfg["n_traj"], run_cfg["n_therm"], run_cfg["measure_every"]
    record_gp = run_cfg["record_gp"]
    theory = smp.theory
    ops = getattr(smp, "ops", None)
    if ops is None:  # Metropolis: measure with a numpy ops object
        from .theory import LatticeOps

        ops = LatticeOps(theory, "numpy")
    batched = state.batched
    n_chains = len(state.rng) if batched else 1
    cshape = (n_chains,) if batched else ()
    n_meas_total = n_measurements(n_traj, n_therm, every)
    names = list(SCALAR_OBSERVABLES) + (["Gp"] if record_gp else [])
    # one row of the 13 scalar observables per measurement (one assignment each), a view per name
    scalars = np.zeros((n_meas_total, len(SCALAR_OBSERVABLES)) + cshape)
    buf = {name: scalars[:, j] for j, name in enumerate(SCALAR_OBSERVABLES)}
    if record_gp:
        buf["Gp"] = np.zeros((n_meas_total,) + cshape + theory.shape)
    acc_hist = np.zeros((n_traj,) + cshape, dtype=bool)
    dh_hist = np.zeros((n_traj,) + cshape)
    done = state.n_steps_done
    restart = isinstance(smp, HMCSampler)
    n_meas = 0
    if chains is not None:
        n_meas = len(chains["phi2"])
        for name in names:
            buf[name][:n_meas] = chains[name]
        acc_hist[:done] = hist[0][:done]
        dh_hist[:done] = hist[1][:done]

    def rng_states(st):
        return [r.bit_generator.state for r in (st.rng if batched else (st.rng,))]

    def adapt_state():
        if adapter is not None:
            return {"frozen": False, **adapter.to_dict()}
        return {"frozen": True} if adapted else None

    t_start = time.perf_counter()
    committed = {
        "state": state,
        "rng": rng_states(state),
        "n_meas": n_meas,
        "sampler": smp.config(),
        "adapt": adapt_state(),
    }

    def write(cp):
        st = cp["state"]
        k = cp["n_meas"]
        th_cfg = {"shape": list(theory.shape), "lam": theory.lam, "meta": dict(theory.meta)}
        if theory.N != 1:
            th_cfg["N"] = theory.N
        n_acc = st.n_accepted.tolist() if batched else st.n_accepted
        meta = {
            "theory": th_cfg,
            "sampler": cp["sampler"],
            "run": run_cfg,
            "n_done": st.n_steps_done,
            "n_accepted": n_acc,
            "n_chains": n_chains,
            "rng_states": cp["rng"],
            "adapt": cp["adapt"],
            "elapsed": elapsed0 + time.perf_counter() - t_start,
        }
        arrays = {
            "phi": to_numpy(st.phi),
            "accepted": acc_hist[: st.n_steps_done],
            "dH": dh_hist[: st.n_steps_done],
            "kt_p": theory.kt_p,
            "d_p": theory.d_p,
        }
        arrays.update({f"chain_{n}": buf[n][:k] for n in names})
        save_checkpoint(checkpoint, meta, arrays)

    from tqdm.auto import tqdm  # noqa: PLC0415  (only when running)

    bar = tqdm(
        total=n_traj,
        initial=done,
        disable=not progress,
        unit="traj",
        desc=f"{smp.config()['sampler']} lam={theory.lam:g}",
        leave=False,
    )
    try:
        for i in range(done, n_traj):
            state, info = smp.step(state)
            acc_hist[i] = info.accepted
            dh_hist[i] = info.dH
            if i < n_therm and restart:
                state = _restart_stuck(state, acc_hist, i, batched, smp.ops.xp)
            if adapter is not None and i < n_therm:
                smp.n_steps = adapter.update(info.accept_prob)
                if i == n_therm - 1:
                    smp.n_steps = adapter.final_n_steps()
                    adapter = None
            if i >= n_therm and (i - n_therm) % every == 0:
                # the transforms of the new field, from the trajectory when it made them
                scalars[n_meas] = measure_host(ops, state.spectra(ops))
                if record_gp:
                    buf["Gp"][n_meas] = to_numpy(measure_gp(ops, state.phi))
                n_meas += 1
            if checkpoint is not None:  # snapshot for a write after KeyboardInterrupt
                committed = {
                    "state": state,
                    "rng": rng_states(state),
                    "n_meas": n_meas,
                    "sampler": smp.config(),
                    "adapt": adapt_state(),
                }
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
    chains_out = ObservableDict({n: buf[n][:n_meas].copy() for n in SCALAR_OBSERVABLES})
    return MCResult(
        theory=theory,
        chains=chains_out,
        gp_chain=buf["Gp"][:n_meas] if record_gp else None,
        accepted=acc_hist,
        dH=dh_hist,
        n_traj=n_traj,
        n_therm=n_therm,
        measure_every=every,
        sampler_config=smp.config(),
        elapsed=elapsed0 + time.perf_counter() - t_start,
        state=state,
        n_chains=n_chains,
        adapted=bool(adapted),
    )
