"""A plain, Fourier-accelerated numpy HMC: the competent reference of bench_hmc_reference.py.

Written for the benchmark, independent of ``ergsym.lattice.hmc``: it needs only the lattice's
``Kt_p`` (numpy's FFT grid) and ``lam``.  Action ``S = (1/2V) sum_p |phi_p|^2 / Kt_p +
(lam/24) sum_x phi_x^4``; kinetic mass the free Hessian (Fourier acceleration, every free mode
has frequency 1), so ``dphi_p/dt = Kt_p pi_p``, ``dpi_p/dt = -phi_p/Kt_p - (lam/6) fft(phi^3)_p``;
on the real half spectrum (``rfftn``, two real transforms per step, the force of the current
field kept between trajectories), trajectory length ``pi/2`` (a quarter of the free period: the
free field decorrelates), the number of steps tuned by :func:`tune` to the fewest with
acceptance >= 0.8.  Two integrators: ``"leapfrog"`` (textbook, full force) and ``"split"``
(the free flow rotated exactly, half kicks by the quartic force only: exact at lam = 0).
"""

import math

import numpy as np


class ReferenceHMC:
    def __init__(self, kt_p, lam, n_steps, traj_length=math.pi / 2, integrator="split"):
        self.shape, self.lam, self.n, self.split = kt_p.shape, float(lam), int(n_steps), integrator == "split"
        self.dt = traj_length / self.n
        half = kt_p[..., : kt_p.shape[-1] // 2 + 1]
        last = np.arange(half.shape[-1])
        w = np.where((last == 0) | (2 * last == kt_p.shape[-1]), 1.0, 2.0)  # rfft weights
        self.kt, self.ikt, self.sqkt = half, 1.0 / half, np.sqrt(half)
        self.w_ikt = w * self.ikt / (2.0 * kt_p.size)  # S_hat = sum w |phi_p|^2 / (2 V Kt)
        self.axes = tuple(range(kt_p.ndim))

    def s_int(self, phi):
        p2 = phi * phi
        return self.lam / 24.0 * np.sum(p2 * p2)

    def run(self, n_traj, rng, phi=None):
        """``n_traj`` trajectories; returns (final phi, per-trajectory mean phi^2, acceptance)."""
        rf, irf, ax, s, lam6 = np.fft.rfftn, np.fft.irfftn, self.axes, self.shape, self.lam / 6.0
        if phi is None:  # an exact free draw
            phi = irf(rf(rng.standard_normal(s)) * self.sqkt, s, axes=ax)
        phi_p, dt, c, sn = rf(phi), self.dt, math.cos(self.dt), math.sin(self.dt)
        f3 = lam6 * rf(phi * phi * phi)
        s0 = np.sum(self.w_ikt * (phi_p.real**2 + phi_p.imag**2)) + self.s_int(phi)
        out, acc = np.empty(n_traj), 0
        for t in range(n_traj):
            eta = rng.standard_normal(s)
            pi = rf(eta) / self.sqkt  # kinetic energy = sum(eta^2) / 2
            h0 = 0.5 * np.sum(eta * eta) + s0
            q_p, g = phi_p, f3
            for _ in range(self.n):
                if self.split:  # half kick, exact free rotation, half kick
                    pi = pi - 0.5 * dt * g
                    q_p, pi = c * q_p + sn * self.kt * pi, c * pi - sn * self.ikt * q_p
                    q = irf(q_p, s, axes=ax)
                    g = lam6 * rf(q * q * q)
                    pi = pi - 0.5 * dt * g
                else:  # leapfrog with the full force
                    pi = pi - 0.5 * dt * (q_p * self.ikt + g)
                    q_p = q_p + dt * self.kt * pi
                    q = irf(q_p, s, axes=ax)
                    g = lam6 * rf(q * q * q)
                    pi = pi - 0.5 * dt * (q_p * self.ikt + g)
            s1 = np.sum(self.w_ikt * (q_p.real**2 + q_p.imag**2)) + self.s_int(q)
            kin = np.sum(self.w_ikt * self.kt * self.kt * (pi.real**2 + pi.imag**2))
            dh = kin + s1 - h0
            if rng.random() < math.exp(min(0.0, -dh)):
                phi, phi_p, f3, s0, acc = q, q_p, g, s1, acc + 1
            out[t] = np.mean(phi * phi)
        return phi, out, acc / n_traj


def tune(kt_p, lam, rng, integrator="split", n_traj=200, target=0.8, max_steps=64):
    """The fewest steps whose acceptance over ``n_traj`` trajectories is >= ``target``."""
    phi = ReferenceHMC(kt_p, lam, max_steps, integrator=integrator).run(50, rng)[0]  # thermalize
    for n in range(1, max_steps + 1):
        phi, _, acc = ReferenceHMC(kt_p, lam, n, integrator=integrator).run(n_traj, rng, phi)
        if acc >= target:
            return n, acc
    return max_steps, acc
