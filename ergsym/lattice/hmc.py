"""Fourier-accelerated Hybrid Monte Carlo for the lattice theory of docs/lattice.md.

Algorithm
---------
Hamiltonian :math:`H = \\frac1{2V}\\sum_p \\tilde K_p|\\pi_p|^2 + S[\\phi]`: the kinetic mass
matrix is the free Hessian :math:`M` (Fourier acceleration), so
:math:`\\dot\\phi_p = \\tilde K_p\\pi_p`, :math:`\\dot\\pi_p = -(\\partial S)_p` and every free
mode oscillates with frequency exactly 1, whatever the cutoff.  Momenta are refreshed from
:math:`e^{-\\pi M^{-1}\\pi/2}` (``pi_p = eta_p / sqrt(Kt_p)`` with white ``eta``).

Two reversible, volume-preserving integrators (``integrator=``):

* ``"split"`` (default): Strang splitting ``H = [kinetic + S_hat] + S_int``.  The free flow
  is integrated *exactly* (a rotation by the step angle in every mode) between half kicks
  by the local force ``lam phi^3/6``.  At ``lam = 0`` it is exact (acceptance 1) and the energy
  error is O(lam dt^2) -- this is why the sampler stays efficient on large lattices.
* ``"omelyan"``: the same exact free flow with the minimum-norm kicks of Omelyan, Mryglod &
  Folk, Comput. Phys. Commun. 146 (2002) 188: per step two rotations by ``dt/2`` and kicks
  ``xi dt, (1 - 2 xi) dt, xi dt`` (:data:`OMELYAN_XI`), two force evaluations and a much
  smaller energy error -- fewer force evaluations at strong coupling on large lattices;
* ``"leapfrog"``: the textbook kick-drift-kick leapfrog with the full force; kept as a
  reference and for the benchmark.

Trajectory length: ``tau = traj_length * U[1 - jitter, 1 + jitter]`` with default
``traj_length = pi/2``, ``jitter = 0.25``.  A quarter period maps the free field onto an
independent draw (``phi(pi/2) = Kt pi(0)``); the free autocorrelation of a linear observable
after one trajectory is :math:`E[\\cos\\tau] = 0` and of a quadratic one
:math:`E[\\cos^2\\tau]\\approx 0.05`.  The randomization avoids the resonances that a fixed
length has once the interaction shifts the frequencies (Mackenzie 1989).  Each trajectory
uses ``n_steps`` steps of size ``tau/n_steps``; a Metropolis test on ``exp(-dH)`` makes the
chain exact for any step size.

Step size.  ``n_steps=None`` picks a first guess from the theory: the split integrator's
error comes from the quartic kick, whose local frequency is about
:math:`\\omega^2 = \\tfrac32\\lambda\\langle\\phi^2\\rangle` (with :math:`\\langle\\phi^2\\rangle` the
smaller of the free value and the pure-quartic value
:math:`\\sqrt{24/\\lambda}\\,\\Gamma(3/4)/\\Gamma(1/4)`), so the default is
``max(4, ceil(tau * omega * V^(1/4) / 2))`` steps: 4 at weak coupling, more at strong coupling
(``"omelyan"``: a quarter of the guess, at least 4).
During thermalization :class:`StepSizeAdapter` (dual averaging, Hoffman & Gelman, JMLR 15
(2014) 1593, alg. 5) then tunes the step towards a mean acceptance probability of 0.8, down
to :func:`min_n_steps` (one step for the split and Omelyan integrators: at weak coupling one
step of the exact free flow is accepted ~always); it is frozen at the end of thermalization,
so the production chain is a valid Markov chain.

Batched chains.  A state whose ``rng`` is a tuple of generators is a batch of independent
chains: ``phi`` has shape ``(n_chains,) + shape``, every chain draws its momenta, its
trajectory length and its accept/reject variate from its own generator, and the FFTs act on
the lattice axes of the whole batch at once.

Fused kernels (split integrator).  :meth:`HMCSampler.step` runs the split integrator on one
complex array ``Z = phi_p + i Kt_p pi_p`` (per real component of the half spectrum), in which
the exact free flow over a step is the single multiplication ``Z *= exp(-i dt)``; the kicks
are in place, the per-mode constants are built once (:class:`~.theory.FusedConstants`), and the
transforms of the new field -- ``phi_p``, ``fft(phi^3)``, ``S_int``, ``sum phi^2`` -- are kept in
the state (:class:`~.theory.FieldSpectra`) for the next trajectory's initial force and energy
and for the measurement, which then needs no transform at all.  One trajectory makes
``2 n_steps + 2`` real transforms (the unfused form made ``2 n_steps + 3``, and its measurement 3
more).  The unfused integrator is kept (:meth:`HMCSampler._trajectory`, used by ``"leapfrog"``);
the fused one reproduces it to rounding with the same random numbers (tests/test_mc_fused.py).

O(N) models (``theory.N > 1``).  The field has a component axis before the lattice axes;
the free flow acts on each component alike (the component axis is one more batch axis of the
transforms, and the momenta of every component are drawn from the chain's own generator), and
the quartic kick ``(lam/6)(phi_b phi_b) phi_a`` couples the components through ``phi.phi``.  The
energies sum over components.  N = 1 keeps the lattice-shaped arrays and its exact numbers.

Randomness comes from an explicit :class:`numpy.random.Generator` carried in the
:class:`ChainState` (NetKet style: state in, state out).  Random numbers are drawn on the
host, also for the cupy backend, so that a chain does not depend on the device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import InputError
from .backend import to_numpy
from .theory import FieldSpectra, LatticeOps, LatticeTheory, abs2, batch_dot, fview

__all__ = [
    "ChainState",
    "HMCSampler",
    "MetropolisSampler",
    "TrajectoryInfo",
    "StepSizeAdapter",
    "default_n_steps",
    "min_n_steps",
    "OMELYAN_XI",
]

INTEGRATORS = ("split", "omelyan", "leapfrog")
#: The minimum-norm parameter of Omelyan, Mryglod & Folk, Comput. Phys. Commun. 146 (2002) 188,
#: eq. (31): it minimizes the norm of the integrator's leading error terms.
OMELYAN_XI = 0.1931833275037836


@dataclass(frozen=True)
class ChainState:
    """State of a Markov chain: the field, the generator and counters.

    ``rng`` is advanced in place by the samplers (a :class:`numpy.random.Generator` is
    mutable); the returned state holds the same generator object.  For a batch of chains
    ``rng`` is a tuple of generators (one per chain), ``phi`` has shape
    ``(n_chains,) + shape`` and ``n_accepted`` is an array of per-chain counts.

    ``cache`` (not part of the state's value: never compared, never checkpointed) holds the
    :class:`~ergsym.lattice.theory.FieldSpectra` of ``phi`` when the split integrator computed
    them; it is used only while ``cache.phi is phi`` (a state made with another ``phi``
    recomputes them), and every entry is a deterministic function of ``phi``, so a resumed
    chain is bitwise the uninterrupted one.
    """

    phi: object
    rng: np.random.Generator
    n_steps_done: int = 0
    n_accepted: int = 0
    cache: object = field(default=None, compare=False, repr=False)

    def spectra(self, ops: LatticeOps) -> FieldSpectra:
        """The cached :class:`~ergsym.lattice.theory.FieldSpectra` of ``phi``, or new ones."""
        c = self.cache
        if c is not None and c.phi is self.phi:
            return c
        return ops.spectra(self.phi)

    @property
    def batched(self) -> bool:
        """True for a batch of independent chains."""
        return isinstance(self.rng, tuple)

    @property
    def acceptance(self) -> float:
        """Fraction of accepted proposals so far (0 if none; mean over the chains of a batch)."""
        if not self.n_steps_done:
            return 0.0
        return float(np.mean(self.n_accepted)) / self.n_steps_done


@dataclass(frozen=True)
class TrajectoryInfo:
    """Diagnostics of one update: accepted?, energy violation ``dH``, trajectory length.

    For a batch of chains each field is an array with one entry per chain.
    """

    accepted: object
    dH: object
    length: object

    @property
    def accept_prob(self) -> float:
        """Mean Metropolis acceptance probability ``min(1, exp(-dH))`` (0 for non-finite dH)."""
        dh = np.atleast_1d(np.asarray(self.dH, dtype=float))
        p = np.where(np.isfinite(dh), np.exp(-np.clip(np.nan_to_num(dh, nan=np.inf), 0.0, 700.0)), 0.0)
        return float(np.mean(p))


def min_n_steps(volume: int, integrator: str = "split") -> int:
    """Fewest steps per trajectory the adaptation may use (module docstring, "Step size").

    One for the split and Omelyan integrators (their free flow is exact, their error
    O(lam dt^2): at weak coupling one step of length ``tau`` is accepted ~always);
    ``max(4, 3 V^(1/4))`` for leapfrog.
    """
    return 1 if integrator in ("split", "omelyan") else max(4, math.ceil(3 * volume**0.25))


def default_n_steps(theory: LatticeTheory, traj_length: float = math.pi / 2, integrator: str = "split") -> int:
    """First guess of the steps per trajectory (module docstring, "Step size"); at least 4
    (the adaptation may then go down to :func:`min_n_steps`)."""
    base = 4 if integrator in ("split", "omelyan") else min_n_steps(theory.volume, integrator)
    lam = theory.lam
    if lam <= 0:
        return base
    quartic = math.sqrt(24.0 / lam) * math.gamma(0.75) / math.gamma(0.25)
    phi2 = min(float(np.mean(theory.kt_p)), quartic)
    omega = math.sqrt(1.5 * lam * phi2)
    guess = math.ceil(traj_length * omega * theory.volume**0.25 / 2.0)
    if integrator == "omelyan":  # two force evaluations a step, a much smaller error
        guess = math.ceil(guess / 4.0)
    return int(min(max(base, guess), 10_000))


class StepSizeAdapter:
    """Dual-averaging step-size adaptation (Hoffman & Gelman, JMLR 15 (2014) 1593, alg. 5).

    Adapts ``log eps`` so that the mean acceptance probability approaches ``target``; the
    number of steps is ``ceil(traj_length / eps)``, never below ``min_steps`` (the weak-coupling
    default, which already accepts ~all trajectories).  Use only during thermalization, then
    freeze with :meth:`final_n_steps`.  The state is a JSON-able dict (:meth:`to_dict`), stored
    in checkpoints.
    """

    def __init__(
        self,
        n_steps0: int,
        traj_length: float,
        min_steps: int = 1,
        target: float = 0.8,
        gamma: float = 0.05,
        t0: float = 10.0,
        kappa: float = 0.75,
        state: dict | None = None,
    ):
        if not 0 < target < 1:
            raise InputError.bad("target_accept", target, "a number in (0, 1)")
        self.traj_length = float(traj_length)
        self.min_steps = int(min_steps)
        self.target, self.gamma, self.t0, self.kappa = float(target), gamma, t0, kappa
        eps0 = self.traj_length / max(int(n_steps0), 1)
        self.log_eps_max = math.log(self.traj_length / self.min_steps)
        if state is None:
            state = {
                "mu": math.log(10.0 * eps0),
                "t": 0,
                "hbar": 0.0,
                "log_eps": math.log(eps0),
                "log_eps_bar": math.log(eps0),
            }
        self.state = dict(state)

    def to_dict(self) -> dict:
        """JSON-able state."""
        return {"target": self.target, "min_steps": self.min_steps, **self.state}

    @classmethod
    def from_dict(cls, d: dict, traj_length: float) -> StepSizeAdapter:
        """Inverse of :meth:`to_dict`."""
        st = {k: d[k] for k in ("mu", "t", "hbar", "log_eps", "log_eps_bar")}
        return cls(1, traj_length, d["min_steps"], d["target"], state=st)

    def _steps(self, log_eps: float) -> int:
        return int(min(max(self.min_steps, math.ceil(self.traj_length / math.exp(log_eps) - 1e-9)), 100_000))

    def update(self, accept_prob: float) -> int:
        """Feed one trajectory's mean acceptance probability; returns the next ``n_steps``."""
        st = self.state
        st["t"] += 1
        t = st["t"]
        a = min(max(float(accept_prob), 0.0), 1.0)
        st["hbar"] = (1 - 1 / (t + self.t0)) * st["hbar"] + (self.target - a) / (t + self.t0)
        log_eps = st["mu"] - math.sqrt(t) / self.gamma * st["hbar"]
        log_eps = min(log_eps, self.log_eps_max)
        log_eps = max(log_eps, math.log(self.traj_length / 100_000))
        st["log_eps"] = log_eps
        eta = t ** (-self.kappa)
        st["log_eps_bar"] = eta * log_eps + (1 - eta) * st["log_eps_bar"]
        return self._steps(log_eps)

    def final_n_steps(self) -> int:
        """The frozen number of steps for production (from the averaged ``log eps``)."""
        return self._steps(min(self.state["log_eps_bar"], self.log_eps_max))


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise InputError.bad(
            "rng", type(rng).__name__, "a numpy.random.Generator", "use numpy.random.default_rng(seed)"
        )
    return rng


class HMCSampler:
    """Fourier-accelerated HMC sampler of :math:`P\\propto e^{-S}` (docs/lattice.md).

    Parameters
    ----------
    theory : LatticeTheory
        The lattice theory.
    n_steps : int, optional
        Integration steps per trajectory (default: :func:`default_n_steps`, at least 4 --
        the split integrator's error is O(lam), so it needs few steps -- scaled up as
        ``V^(1/4)`` for leapfrog; the thermalization of :func:`~ergsym.lattice.run.run_mc` may
        then adapt it down to :func:`min_n_steps`).
    traj_length : float
        Mean trajectory length (default ``pi/2``).
    jitter : float
        Relative half-width of the uniform randomization of the length, in [0, 1).
    integrator : {"split", "omelyan", "leapfrog"}
        See the module docstring.
    backend : {"numpy", "cupy"}
        Array backend.

    Examples
    --------
    >>> import numpy as np
    >>> th = LatticeTheory((4,), np.ones(4), np.ones(4), lam=0.5)
    >>> s = HMCSampler(th)
    >>> st = s.init_state(np.random.default_rng(1))
    >>> st, info = s.step(st)
    """

    def __init__(
        self,
        theory: LatticeTheory,
        n_steps: int | None = None,
        traj_length: float = math.pi / 2,
        jitter: float = 0.25,
        integrator: str = "split",
        backend: str = "numpy",
    ) -> None:
        if not isinstance(theory, LatticeTheory):
            raise InputError.bad("theory", type(theory).__name__, "a LatticeTheory")
        if integrator not in INTEGRATORS:
            raise InputError.bad("integrator", integrator, f"one of {INTEGRATORS}")
        if not (isinstance(traj_length, (int, float)) and 0 < traj_length < 100):
            raise InputError.bad("traj_length", traj_length, "a number in (0, 100)")
        self.n_steps_given = n_steps is not None
        if n_steps is None:
            n_steps = default_n_steps(theory, float(traj_length), integrator)
        if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
            raise InputError.bad("n_steps", n_steps, "an integer >= 1")
        if not (isinstance(traj_length, (int, float)) and 0 < traj_length < 100):
            raise InputError.bad("traj_length", traj_length, "a number in (0, 100)")
        if not (isinstance(jitter, (int, float)) and 0 <= jitter < 1):
            raise InputError.bad("jitter", jitter, "a number in [0, 1)")
        self.theory = theory
        self.n_steps = int(n_steps)
        self.traj_length = float(traj_length)
        self.jitter = float(jitter)
        self.integrator = integrator
        self.ops = LatticeOps(theory, backend)
        self.backend = backend

    def config(self) -> dict:
        """JSON-able sampler settings (stored in checkpoints)."""
        return {
            "sampler": "hmc",
            "step_size": self.traj_length / self.n_steps,
            "n_steps": self.n_steps,
            "traj_length": self.traj_length,
            "jitter": self.jitter,
            "integrator": self.integrator,
        }

    # ------------------------------------------------------------------------------
    def init_state(self, rng: np.random.Generator, start: str = "free") -> ChainState:
        """Initial state: an exact free-field draw (``start="free"``) or ``phi = 0`` ("cold").

        ``rng`` is one generator (one chain) or a list/tuple of generators (a batch).
        """
        xp, ops = self.ops.xp, self.ops
        batched = isinstance(rng, (list, tuple))
        rngs = tuple(_check_rng(r) for r in rng) if batched else (_check_rng(rng),)
        if batched and not rngs:
            raise InputError.bad("rng", "[]", "at least one generator")
        shape = self.theory.field_shape
        if start == "free":
            eta = np.stack([r.standard_normal(shape) for r in rngs]) if batched else rng.standard_normal(shape)
            phi = ops.ifft(ops.fft(xp.asarray(eta)) * ops.sqrt_kt)  # <|phi_p|^2> = V Kt_p
        elif start == "cold":
            phi = xp.zeros(((len(rngs),) if batched else ()) + shape)
        else:
            raise InputError.bad("start", start, "'free' or 'cold'")
        if batched:
            return ChainState(phi, rngs, 0, np.zeros(len(rngs), dtype=np.int64))
        return ChainState(phi, rng)

    def _force_int_p(self, phi):
        if self.theory.N > 1:  # (lam/6) (phi_b phi_b) phi_a
            fd = len(self.theory.field_shape)
            phi2 = self.ops.xp.sum(phi * phi, axis=-fd, keepdims=True)
            return (self.ops.lam / 6.0) * self.ops.fft(phi2 * phi)
        return (self.ops.lam / 6.0) * self.ops.fft(phi * phi * phi)

    def step(self, state: ChainState) -> tuple[ChainState, TrajectoryInfo]:
        """One HMC trajectory with Metropolis accept/reject (of every chain of a batch).

        Returns
        -------
        (ChainState, TrajectoryInfo)
        """
        if self.integrator == "split":
            return self._step_fused(state)
        return self._step_reference(state)

    def _step_reference(self, state: ChainState):
        """One trajectory by :meth:`_trajectory` (the leapfrog integrator; for the split
        integrator the unfused reference that :meth:`_step_fused` reproduces to rounding)."""
        if state.batched:
            return self._step_batch(state)
        xp = self.ops.xp
        rng = state.rng
        tau = self.traj_length * (1.0 + self.jitter * (2.0 * rng.random() - 1.0))
        eta = xp.asarray(rng.standard_normal(self.theory.field_shape))
        phi0 = state.phi
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging trajectory is rejected
            phi, dH = self._trajectory(phi0, eta, tau)
        dH = float(dH)
        u = rng.random()
        accepted = bool(math.isfinite(dH) and (dH <= 0 or u < math.exp(-dH)))
        new = replace(
            state,
            phi=phi if accepted else phi0,
            n_steps_done=state.n_steps_done + 1,
            n_accepted=state.n_accepted + int(accepted),
        )
        return new, TrajectoryInfo(accepted, dH, tau)

    def _step_batch(self, state: ChainState):
        xp = self.ops.xp
        rngs = state.rng
        tau = self.traj_length * (1.0 + self.jitter * (2.0 * np.array([r.random() for r in rngs]) - 1.0))
        eta_h = np.empty((len(rngs),) + self.theory.field_shape)
        for i, r in enumerate(rngs):
            r.standard_normal(out=eta_h[i])
        eta = xp.asarray(eta_h)
        phi0 = state.phi
        bshape = (len(rngs),) + (1,) * len(self.theory.field_shape)
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging trajectory is rejected
            phi, dH = self._trajectory(phi0, eta, tau.reshape(bshape))
        dH = np.asarray(to_numpy(dH), dtype=float)
        u = np.array([r.random() for r in rngs])
        with np.errstate(over="ignore", invalid="ignore"):
            accepted = np.isfinite(dH) & ((dH <= 0) | (u < np.exp(-np.clip(dH, 0.0, None))))
        acc_x = xp.asarray(accepted.reshape(bshape))
        new = replace(
            state,
            phi=xp.where(acc_x, phi, phi0),
            n_steps_done=state.n_steps_done + 1,
            n_accepted=state.n_accepted + accepted.astype(np.int64),
        )
        return new, TrajectoryInfo(accepted, dH, tau)

    def _buffers(self, batch: tuple) -> dict:
        """Work arrays of the fused trajectory for a batch shape, allocated once and reused
        (fresh large arrays every trajectory cost ~200 page faults per trajectory at 8 x 64x64;
        nothing in them outlives a trajectory, so a sampler is not to be shared by threads)."""
        bufs = self.__dict__.setdefault("_work", {})
        b = bufs.get(batch)
        if b is None:
            xp, half = self.ops.xp, self.ops.fused().half
            if self.theory.N > 1:  # the component axis before the lattice axes
                half = (self.theory.N,) + half
            shape = batch + self.theory.field_shape
            b = {
                "eta_h": np.empty(shape),
                "z": xp.empty(batch + half + (2,), dtype=xp.complex128),
                "phi_p": xp.empty(batch + half, dtype=xp.complex128),
                "e_p": xp.empty(batch + half, dtype=xp.complex128),
                "f3": xp.empty(batch + half, dtype=xp.complex128),
                "kick": xp.empty(batch + half + (2,)),
                "half_kick": xp.empty(batch + half + (2,)),
                "sq": xp.empty(batch + half + (2, 2)),
                "work": xp.empty(shape),
                "t3": xp.empty(shape),
            }
            bufs.clear()  # one batch shape at a time
            bufs[batch] = b
        return b

    def _step_fused(self, state: ChainState):
        """One trajectory of the split integrator with the fused kernels (see
        :meth:`_fused_trajectory`); the same random numbers, in the same order per chain, as
        :meth:`_step_reference`: trajectory length, momenta, accept/reject variate."""
        ops, xp = self.ops, self.ops.xp
        batched = state.batched
        rngs = state.rng if batched else (state.rng,)
        nc = len(rngs)
        tau = np.empty(nc)
        u = np.empty(nc)
        eta_h = self._buffers((nc,) if batched else ())["eta_h"].reshape((nc,) + self.theory.field_shape)
        tl, jit = self.traj_length, self.jitter
        for i, r in enumerate(rngs):  # each chain's own stream: tau, eta, u (as the reference)
            tau[i] = tl * (1.0 + jit * (2.0 * r.random() - 1.0))
            r.standard_normal(out=eta_h[i])
            u[i] = r.random()
        c0 = state.spectra(ops)
        eta = xp.asarray(eta_h if batched else eta_h[0])
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging trajectory is rejected
            c1, dH = self._fused_trajectory(c0, eta, tau if batched else float(tau[0]))
            dH = np.asarray(to_numpy(dH), dtype=float).reshape(nc)
            accepted = np.isfinite(dH) & ((dH <= 0) | (u < np.exp(-np.clip(dH, 0.0, None))))
        if accepted.all():
            new = FieldSpectra(c1.phi, ops.fft(c1.phi), c1.f3_p, c1.s_int, c1.sum_phi2)
        elif not accepted.any():
            new = c0
        else:  # a batch with rejected chains: each chain keeps its own field and spectra
            d = len(self.theory.field_shape)
            a_x = xp.asarray(accepted.reshape((nc,) + (1,) * d))
            phi = xp.where(a_x, c1.phi, c0.phi)
            f3 = None if c1.f3_p is None else xp.where(a_x, c1.f3_p, c0.f3_p)
            a_1 = xp.asarray(accepted)
            new = FieldSpectra(
                phi, ops.fft(phi), f3, xp.where(a_1, c1.s_int, c0.s_int), xp.where(a_1, c1.sum_phi2, c0.sum_phi2)
            )
        if batched:
            n_acc = state.n_accepted + accepted.astype(np.int64)
            info = TrajectoryInfo(accepted, dH, tau)
        else:
            n_acc = state.n_accepted + int(accepted[0])
            info = TrajectoryInfo(bool(accepted[0]), float(dH[0]), float(tau[0]))
        return replace(state, phi=new.phi, n_steps_done=state.n_steps_done + 1, n_accepted=n_acc, cache=new), info

    def _fused_trajectory(self, c0: FieldSpectra, eta, tau):
        """The split integrator of :meth:`_trajectory` with fused, in-place kernels.

        The state of the integrator is one complex array ``Z = phi_p + i Kt_p pi_p`` (taken
        component by component: real and imaginary parts of ``phi_p`` and of ``Kt_p pi_p``),
        so the exact free flow over a step ``dt`` -- ``phi_p -> c phi_p + s Kt pi_p``,
        ``pi_p -> c pi_p - s phi_p/Kt`` -- is the single multiplication ``Z *= exp(-i dt)``,
        and the free energy ``(1/2V) sum_p (|phi_p|^2 + |Kt pi_p|^2)/Kt`` is one weighted sum
        of squares.  Per step: that rotation, a copy of ``phi_p`` out of ``Z``, the inverse
        transform, ``phi^2``, ``phi^3``, the transform, and the kick ``Kt pi_p -= dt lam/6 Kt
        fft(phi^3)`` (two passes).  The initial force and ``S`` come from ``c0`` (computed by
        the previous trajectory), the final ones are returned for the next.

        Returns
        -------
        (FieldSpectra without phi_p, dH)
        """
        ops, xp = self.ops, self.ops.xp
        fz = ops.fused()
        n, lam, d = self.n_steps, ops.lam, len(self.theory.field_shape)
        phi0 = c0.phi
        batch = tuple(phi0.shape[: phi0.ndim - d])
        nb = len(batch)
        buf = self._buffers(batch)
        kick, half_kick = buf["kick"], buf["half_kick"]
        omelyan = self.integrator == "omelyan"
        # Omelyan: 2n rotations by dt/2; kicks xi, (1 - 2 xi), 2 xi, ..., (1 - 2 xi), xi times dt
        # (``half_kick`` is the xi kick, ``kick`` and ``kick2`` the two inner ones)
        if nb:
            dt = np.asarray(tau, dtype=float) / n
            bz = batch + (1,) * (d + 1)
            rot = xp.asarray(np.exp(-1j * (dt / 2 if omelyan else dt)).reshape(bz))
            w = xp.asarray((dt * (lam / 6.0)).reshape(bz))
        else:
            dt = tau / n
            rdt = dt / 2 if omelyan else dt
            rot = complex(math.cos(rdt), -math.sin(rdt))
            w = dt * (lam / 6.0)
        z = buf["z"]
        zf = fview(z)  # (..., component, [phi_p part, Kt pi_p part])
        zr, zi = zf[..., 0], zf[..., 1]
        p0v = fview(c0.phi_p)
        xp.copyto(zr, p0v)
        xp.multiply(fview(ops.fft(eta, out=buf["e_p"])), fz.sqrt_kt2, out=zi)  # Kt pi_p = sqrt(Kt) fft(eta)
        # H0 = S_hat + (1/2V) sum_p Kt |pi_p|^2 = S_hat + sum_x eta_x^2 / 2 (Parseval) + S_int
        phi_p = buf["phi_p"]
        pv = fview(phi_p)
        xp.multiply(p0v, fz.sg1, out=pv)
        h0 = batch_dot(pv, pv, nb) + 0.5 * batch_dot(eta, eta, nb)
        if lam > 0:
            xp.multiply(fz.kt2, w, out=kick)
            if omelyan:
                kick2 = buf.setdefault("kick2", xp.empty_like(kick))
                xp.multiply(kick, 1.0 - 2.0 * OMELYAN_XI, out=kick2)
                xp.multiply(kick, OMELYAN_XI, out=half_kick)
                xp.multiply(kick, 2.0 * OMELYAN_XI, out=kick)
                inner = [kick2, kick] * (n - 1) + [kick2]
            else:
                xp.multiply(kick, 0.5, out=half_kick)
                inner = [kick] * (n - 1)
            xp.multiply(fview(c0.f3_p), half_kick, out=pv)  # phi_p is free until the first copy
            xp.subtract(zi, pv, out=zi)
            f3 = buf["f3"]
            f3v = fview(f3)
        else:
            inner = [None] * ((2 * n if omelyan else n) - 1)
        work, t3 = buf["work"], buf["t3"]
        for kk in inner:  # every (sub)step but the last: buffers only
            xp.multiply(z, rot, out=z)
            xp.copyto(pv, zr)
            ops.ifft(phi_p, out=work)
            if lam > 0:
                ops.local_terms(work, t3, t3, f3)
                xp.multiply(f3v, kk, out=f3v)
                xp.subtract(zi, f3v, out=zi)
        # the last step: the new field, its force and local sums are kept (FieldSpectra)
        xp.multiply(z, rot, out=z)
        xp.copyto(pv, zr)
        phi = ops.ifft(phi_p)
        phi2, f3 = ops.local_terms(phi, t3, work)
        if lam > 0:
            xp.multiply(fview(f3), half_kick, out=pv)
            xp.subtract(zi, pv, out=zi)
        s_int, sum2 = ops.local_sums(phi2)
        sq = xp.multiply(zf, fz.sg, out=buf["sq"])
        h1 = batch_dot(sq, sq, nb)
        return FieldSpectra(phi, None, f3, s_int, sum2), (h1 - h0) + (s_int - c0.s_int)

    def _trajectory(self, phi0, eta, tau):
        """Integrate one trajectory of length ``tau`` (a float, or per chain broadcastable)."""
        ops, xp = self.ops, self.ops.xp
        V = ops.V
        pi_p = ops.fft(eta) / ops.sqrt_kt
        phi_p = ops.fft(phi0)
        kin0 = 0.5 / V * ops.psum(ops.kt * abs2(pi_p))
        h0 = kin0 + ops.s_hat_p(phi_p) + ops.s_int(phi0)
        if isinstance(tau, float):
            h0 = float(h0)
            dt = tau / self.n_steps
            c, s = math.cos(dt), math.sin(dt)
        else:
            dt_h = tau / self.n_steps
            dt, c, s = xp.asarray(dt_h), xp.asarray(np.cos(dt_h)), xp.asarray(np.sin(dt_h))
        lam = ops.lam
        if self.integrator in ("split", "omelyan"):
            phi = phi0
            if self.integrator == "omelyan":  # rotations by dt/2, kicks xi, 1-2xi, 2xi, ..., xi
                xi = OMELYAN_XI
                c, s = (
                    (math.cos(dt / 2), math.sin(dt / 2))
                    if isinstance(tau, float)
                    else (xp.asarray(np.cos(dt_h / 2)), xp.asarray(np.sin(dt_h / 2)))
                )
                weights = [xi] + [1.0 - 2.0 * xi, 2.0 * xi] * (self.n_steps - 1) + [1.0 - 2.0 * xi, xi]
            else:
                weights = [0.5] + [1.0] * (self.n_steps - 1) + [0.5]
            skt, sikt = s * ops.kt, s * ops.inv_kt  # hoisted: the same products as inline
            if lam > 0:
                pi_p = pi_p - weights[0] * dt * self._force_int_p(phi)
            for wk in weights[1:]:
                phi_p, pi_p = c * phi_p + skt * pi_p, c * pi_p - sikt * phi_p
                phi = ops.ifft(phi_p)
                if lam > 0:
                    pi_p = pi_p - (dt if wk == 1.0 else wk * dt) * self._force_int_p(phi)
        else:

            def force_p(ph, ph_p):
                f = ops.inv_kt * ph_p
                return f + self._force_int_p(ph) if lam > 0 else f

            phi = phi0
            pi_p = pi_p - 0.5 * dt * force_p(phi, phi_p)
            for k in range(self.n_steps):
                phi_p = phi_p + dt * ops.kt * pi_p
                phi = ops.ifft(phi_p)
                w = dt if k < self.n_steps - 1 else 0.5 * dt
                pi_p = pi_p - w * force_p(phi, phi_p)
        kin1 = 0.5 / V * ops.psum(ops.kt * abs2(pi_p))
        h1 = kin1 + ops.s_hat_p(phi_p) + ops.s_int(phi)
        if isinstance(tau, float):
            return phi, float(h1) - h0
        return phi, h1 - h0


class MetropolisSampler:
    """Plain local Metropolis baseline (sequential site sweep), numpy only.

    Each site gets a proposal ``phi_x + U(-delta, delta)``; ``dS`` uses the cached
    ``h = M phi`` (``M`` dense, ``V x V``), updated in O(V) on acceptance.  One :meth:`step`
    is one sweep over all ``V`` sites.  Used by the benchmark as the reference the
    Fourier-accelerated HMC is measured against; not meant for production runs.

    Parameters
    ----------
    theory : LatticeTheory
    delta : float, optional
        Proposal half-width; default ``1.7 / sqrt(M_xx)`` (about 50% acceptance in the
        free theory).
    """

    def __init__(self, theory: LatticeTheory, delta: float | None = None) -> None:
        if theory.volume > 8192:
            raise InputError.bad("theory.volume", theory.volume, "<= 8192 for the dense baseline")
        if theory.N != 1:
            raise InputError.bad("theory.N", theory.N, "1 for the Metropolis baseline", "use the HMC sampler for N > 1")
        self.theory = theory
        m_col = theory.position_kernel("M").ravel()
        V = theory.volume
        idx = np.arange(V)
        coords = np.array(np.unravel_index(idx, theory.shape))  # (d, V)
        diff = (coords[:, :, None] - coords[:, None, :]) % np.array(theory.shape)[:, None, None]
        self.M = m_col[np.ravel_multi_index(tuple(diff), theory.shape)]  # M[x, y]
        self.mxx = float(m_col[0])
        self.delta = float(delta) if delta is not None else 1.7 / math.sqrt(self.mxx)
        if not (math.isfinite(self.delta) and self.delta > 0):
            raise InputError.bad("delta", delta, "finite and > 0")
        self.backend = "numpy"

    def config(self) -> dict:
        """JSON-able sampler settings."""
        return {"sampler": "metropolis", "delta": self.delta}

    def init_state(self, rng: np.random.Generator, start: str = "free") -> ChainState:
        """Initial state as in :meth:`HMCSampler.init_state`."""
        return HMCSampler(self.theory).init_state(rng, start)

    def step(self, state: ChainState) -> tuple[ChainState, TrajectoryInfo]:
        """One sequential sweep; returns ``(state, TrajectoryInfo)`` with the sweep's acceptance."""
        rng = state.rng
        V = self.theory.volume
        lam24 = self.theory.lam / 24.0
        phi = np.array(state.phi, dtype=float).ravel()
        h = self.M @ phi
        props = (2.0 * rng.random(V) - 1.0) * self.delta
        logu = np.log(rng.random(V))
        mxx, M = self.mxx, self.M
        acc = 0
        for x in range(V):
            dlt = props[x]
            f = phi[x]
            fn = f + dlt
            ds = dlt * h[x] + 0.5 * mxx * dlt * dlt + lam24 * (fn**4 - f**4)
            if ds <= 0 or logu[x] < -ds:
                phi[x] = fn
                h += dlt * M[x]
                acc += 1
        new = replace(
            state,
            phi=phi.reshape(self.theory.shape),
            n_steps_done=state.n_steps_done + 1,
            n_accepted=state.n_accepted + acc / V,
        )
        return new, TrajectoryInfo(acc > 0, 0.0, acc / V)
