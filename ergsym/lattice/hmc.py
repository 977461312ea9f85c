"""Fourier-accelerated Hybrid Monte Carlo for the lattice theory of SPEC section 3.

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

Randomness comes from an explicit :class:`numpy.random.Generator` carried in the
:class:`ChainState` (NetKet style: state in, state out).  Random numbers are drawn on the
host, also for the cupy backend, so that a chain does not depend on the device.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..errors import InputError
from .theory import LatticeOps, LatticeTheory

__all__ = ["ChainState", "HMCSampler", "MetropolisSampler", "TrajectoryInfo"]

INTEGRATORS = ("split", "leapfrog")


@dataclass(frozen=True)
class ChainState:
    """State of a Markov chain: the field, the generator and counters.

    ``rng`` is advanced in place by the samplers (a :class:`numpy.random.Generator` is
    mutable); the returned state holds the same generator object.
    """

    phi: object
    rng: np.random.Generator
    n_steps_done: int = 0
    n_accepted: int = 0

    @property
    def acceptance(self) -> float:
        """Fraction of accepted proposals so far (0 if none)."""
        return self.n_accepted / self.n_steps_done if self.n_steps_done else 0.0


@dataclass(frozen=True)
class TrajectoryInfo:
    """Diagnostics of one update: accepted?, energy violation ``dH``, trajectory length."""

    accepted: bool
    dH: float
    length: float


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise InputError.bad("rng", type(rng).__name__, "a numpy.random.Generator",
                             "use numpy.random.default_rng(seed)")
    return rng


class HMCSampler:
    """Fourier-accelerated HMC sampler of :math:`P\\propto e^{-S}` (SPEC section 3).

    Parameters
    ----------
    theory : LatticeTheory
        The lattice theory.
    n_steps : int, optional
        Integration steps per trajectory (default: 4 for the split integrator -- its error
        is O(lam), so it needs few steps -- scaled up as ``V^(1/4)`` for leapfrog).
    traj_length : float
        Mean trajectory length (default ``pi/2``).
    jitter : float
        Relative half-width of the uniform randomization of the length, in [0, 1).
    integrator : {"split", "leapfrog"}
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

    def __init__(self, theory: LatticeTheory, n_steps=None, traj_length: float = math.pi / 2,
                 jitter: float = 0.25, integrator: str = "split", backend: str = "numpy"):
        if not isinstance(theory, LatticeTheory):
            raise InputError.bad("theory", type(theory).__name__, "a LatticeTheory")
        if integrator not in INTEGRATORS:
            raise InputError.bad("integrator", integrator, f"one of {INTEGRATORS}")
        if n_steps is None:
            n_steps = 4 if integrator == "split" else max(4, math.ceil(3 * theory.volume ** 0.25))
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
        return {"sampler": "hmc", "n_steps": self.n_steps, "traj_length": self.traj_length,
                "jitter": self.jitter, "integrator": self.integrator}

    # ------------------------------------------------------------------------------
    def init_state(self, rng: np.random.Generator, start: str = "free") -> ChainState:
        """Initial state: an exact free-field draw (``start="free"``) or ``phi = 0`` ("cold")."""
        _check_rng(rng)
        xp, ops = self.ops.xp, self.ops
        if start == "free":
            eta = xp.asarray(rng.standard_normal(self.theory.shape))
            phi = ops.ifft(ops.fft(eta) * ops.sqrt_kt)   # <|phi_p|^2> = V Kt_p
        elif start == "cold":
            phi = xp.zeros(self.theory.shape)
        else:
            raise InputError.bad("start", start, "'free' or 'cold'")
        return ChainState(phi, rng)

    def _force_int_p(self, phi):
        return (self.ops.lam / 6.0) * self.ops.fft(phi ** 3)

    def step(self, state: ChainState):
        """One HMC trajectory with Metropolis accept/reject.

        Returns
        -------
        (ChainState, TrajectoryInfo)
        """
        ops, xp = self.ops, self.ops.xp
        rng = state.rng
        V = ops.V
        tau = self.traj_length * (1.0 + self.jitter * (2.0 * rng.random() - 1.0))
        eta = xp.asarray(rng.standard_normal(self.theory.shape))
        pi_p = ops.fft(eta) / ops.sqrt_kt
        phi0 = state.phi
        phi_p = ops.fft(phi0)
        kin0 = 0.5 / V * ops.psum(ops.kt * xp.abs(pi_p) ** 2)
        h0 = float(kin0 + ops.s_hat_p(phi_p) + ops.s_int(phi0))
        dt = tau / self.n_steps
        lam = ops.lam
        if self.integrator == "split":
            c, s = math.cos(dt), math.sin(dt)
            phi = phi0
            if lam > 0:
                pi_p = pi_p - 0.5 * dt * self._force_int_p(phi)
            for k in range(self.n_steps):
                phi_p, pi_p = c * phi_p + s * ops.kt * pi_p, c * pi_p - s * ops.inv_kt * phi_p
                phi = ops.ifft(phi_p)
                if lam > 0:
                    w = dt if k < self.n_steps - 1 else 0.5 * dt
                    pi_p = pi_p - w * self._force_int_p(phi)
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
        kin1 = 0.5 / V * ops.psum(ops.kt * xp.abs(pi_p) ** 2)
        h1 = float(kin1 + ops.s_hat_p(phi_p) + ops.s_int(phi))
        dH = h1 - h0
        u = rng.random()
        accepted = bool(math.isfinite(dH) and (dH <= 0 or u < math.exp(-dH)))
        new = replace(state, phi=phi if accepted else phi0,
                      n_steps_done=state.n_steps_done + 1,
                      n_accepted=state.n_accepted + int(accepted))
        return new, TrajectoryInfo(accepted, dH, tau)


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

    def __init__(self, theory: LatticeTheory, delta=None):
        if theory.volume > 8192:
            raise InputError.bad("theory.volume", theory.volume, "<= 8192 for the dense baseline")
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

    def step(self, state: ChainState):
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
            ds = dlt * h[x] + 0.5 * mxx * dlt * dlt + lam24 * (fn ** 4 - f ** 4)
            if ds <= 0 or logu[x] < -ds:
                phi[x] = fn
                h += dlt * M[x]
                acc += 1
        new = replace(state, phi=phi.reshape(self.theory.shape),
                      n_steps_done=state.n_steps_done + 1, n_accepted=state.n_accepted + acc / V)
        return new, TrajectoryInfo(acc > 0, 0.0, acc / V)
