"""The score of the pushed law ``F~_* P_Lambda0`` of a learned composite map, exactly, by the chain rule.

With ``phi = F~(phi0)`` and ``P_F = F~_* P_Lambda0``, the change of variables gives
``-ln P_F(F~(phi0)) = S_Lambda0(phi0) + ln|det dF~(phi0)| + ln Z``, so the flowed action of the
pushed law, ``S_F = -ln P_F + const``, has the gradient

.. math:: \\nabla_\\phi S_F = (\\partial\\tilde F/\\partial\\phi_0)^{-T}\\,
          \\nabla_{\\phi_0}\\big[S_{\\Lambda_0}(\\phi_0) + \\ln|\\det\\partial\\tilde F(\\phi_0)|\\big]

(the unknown ``ln Z`` of ``P_Lambda0`` drops out of every gradient).  For a composition
``F_n o ... o F_1`` it is applied step by step: ``S_k(F_k(x)) = S_{k-1}(x) + ln|det dF_k(x)|``
gives ``grad S_k = J_k^{-T} (grad S_{k-1} + grad ln|det dF_k|)`` at ``x``, the input of step ``k``.

One step's map (:class:`ergsym.variational.maps.ShellMap`) is ``F(phi) = sum_O r_O Pi_O phi`` with
orbit factors ``r_O(R)`` of the orbit powers ``R_o = |Pi_o phi|^2``.  Its Jacobian is
``J = sum_O r_O Pi_O + 2 sum_{O,o} C_{Oo} w_O w_o^T`` (``w_o = Pi_o phi``, ``C_{Oo} = dr_O/dR_o``), so
``J^T y = b`` reduces, per sample, to an ``n_orbits x n_orbits`` linear system for the scalars
``t_O = w_O . y``: ``(diag(r) + 2 diag(R) C^T) t = (w_o . b)_o``, then
``y_o = (b_o - 2 w_o sum_O C_{Oo} t_O) / r_o``.  Everything is done in Fourier space (the
projections are masks); no Jacobian of size ``V x V`` is formed.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ConvergenceError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .maps import ShellMap

__all__ = ["pushed_action_gradient", "monotone_pieces_per_sample", "step_derivatives"]


def _g_derivs(fam, theta, rho):
    """``g, g', g''`` of a radial family at radii ``rho`` (1-d)."""
    theta = np.asarray(theta, dtype=float)
    a = math.exp(theta[0])
    K = len(fam.scales)
    h, hp, hpp = rho.copy(), np.ones_like(rho), np.zeros_like(rho)
    for k, s in enumerate(fam.scales):
        beta = math.expm1(theta[1 + k]) / K
        x = np.minimum(rho / s, 350.0)
        t = np.tanh(rho / s)
        sech2 = 1.0 / np.cosh(x) ** 2
        h += beta * s * t
        hp += beta * sech2
        hpp += beta * (-2.0 / s) * sech2 * t
    return a * h, a * hp, a * hpp


def step_derivatives(F: ShellMap, rho2: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(r, C, dld)`` of one step's map at input orbit powers ``rho2`` (shape ``(n, n_orbits)``).

    ``r[:, O]``: the orbit factors; ``C[:, O, o] = d r_O / d R_o``; ``dld[:, o] = d ln|det dF| / d R_o``.
    """
    n, n_orb = rho2.shape
    r = np.ones((n, n_orb))
    C = np.zeros((n, n_orb, n_orb))
    dld = np.zeros((n, n_orb))
    for j, (o, th, fam) in enumerate(zip(F.active, F.thetas, F.families, strict=True)):
        rho = np.sqrt(rho2[:, o])
        g, gp, gpp = _g_derivs(fam, np.asarray(th, dtype=float)[: fam.n_radial], rho)
        m = int(F.orbits.m[o])
        u = F.coupling_u(j, rho2)
        ls, dls = 0.0, 0.0
        if u is not None and fam.coupled:
            gam = np.asarray(th, dtype=float)[fam.n_radial :]
            t = np.tanh(u)
            ls = gam[0] * t + gam[1] * t * t
            dls = (gam[0] + 2.0 * gam[1] * t) * (1.0 - t * t)  # d ln s / du
        es = np.exp(ls)
        with np.errstate(all="ignore"):
            q = g / rho
            r[:, o] = q * es
            # d(g/rho)/dR = (g' rho - g) / rho^2 / (2 rho)
            C[:, o, o] += (gp * rho - g) / rho**2 / (2.0 * rho) * es
            dld[:, o] += (gpp / gp + (m - 1) * (gp * rho - g) / (g * rho)) / (2.0 * rho)
        if u is not None and fam.coupled:
            src, norm = F.couplings[j]
            src = list(src)  # distinct orbits (never o itself: the Jacobian is block-triangular)
            C[:, o, src] += (q * es * dls / norm)[:, None]
            dld[:, src] += (m * dls / norm)[:, None]
    if not (np.all(np.isfinite(C)) and np.all(np.isfinite(dld))):
        raise ConvergenceError(
            f"step {F.step}: the derivative of the map is not finite for some sample (a field with a "
            "vanishing orbit amplitude); the score of the pushed law cannot be evaluated there",
            estimate=None,
            error=None,
        )
    return r, C, dld


def _orbit_dot(orbits, x_p, y_p):
    """``w_o . y`` per orbit and sample for Fourier fields: ``(1/V) sum_{p in o} Re(conj x_p y_p)``."""
    pr = np.real(np.conj(x_p) * y_p)
    if orbits.N > 1:  # summed over the components
        pr = pr.sum(axis=1)
    pr = pr.reshape(x_p.shape[0], -1) / orbits.V
    return pr @ orbits._ind


def _per_mode(orbits, per_orbit):
    return orbits.per_mode(per_orbit)


def pushed_action_gradient(
    maps: Sequence[ShellMap], phi0: np.ndarray, kt0: np.ndarray, lam: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(phi_p, dS_p)``: the pushed samples and ``grad S_F`` at them, both in Fourier space.

    ``phi0``: samples of ``P_Lambda0`` (position space, shape ``(n,) + shape``, or
    ``(n, N) + shape`` for ``N > 1`` components), whose action is
    ``S_Lambda0 = (1/2V) sum_p |phi_p|^2/Kt0_p + lam/4! sum_x (phi_a phi_a)^2`` (``phi_x^4`` for
    ``N = 1``).  ``dS_p`` is the FFT of the position-space gradient ``dS_F/dphi_{a,x}``.
    """
    phi0 = np.asarray(phi0, dtype=float)
    kt0 = np.asarray(kt0)
    axes = tuple(range(phi0.ndim - kt0.ndim, phi0.ndim))
    x_p = np.fft.fftn(phi0, axes=axes)
    if phi0.ndim == kt0.ndim + 2:  # O(N): dV/dphi_a = (lam/6) (phi_b phi_b) phi_a
        force = lam / 6.0 * np.sum(phi0**2, axis=1, keepdims=True) * phi0
    else:
        force = lam / 6.0 * phi0**3
    b_p = x_p / kt0[None] + np.fft.fftn(force, axes=axes)
    for F in maps:
        orbits = F.orbits
        R = orbits.rho2(x_p)
        r, C, dld = step_derivatives(F, R)
        b_p = b_p + 2.0 * x_p * _per_mode(orbits, dld)
        # only the moved orbits' rows of C are non-zero: the system for t closes on them
        A = np.asarray(F.active, dtype=int)
        if A.size == 0:
            continue
        beta = _orbit_dot(orbits, x_p, b_p)[:, A]
        CA = C[:, A, :]
        M = 2.0 * R[:, A, None] * np.transpose(CA[:, :, A], (0, 2, 1))
        idx = np.arange(A.size)
        M[:, idx, idx] += r[:, A]
        t = np.linalg.solve(M, beta[:, :, None])[:, :, 0]
        corr = np.einsum("nOo,nO->no", CA, t)  # sum_O C_{Oo} t_O
        b_p = (b_p - 2.0 * x_p * _per_mode(orbits, corr)) / _per_mode(orbits, r)
        x_p = x_p * _per_mode(orbits, r)
    return x_p, b_p


def monotone_pieces_per_sample(
    phi_p: np.ndarray, dS_p: np.ndarray, kt: np.ndarray, d: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-sample ``a, c, e`` of the exact few-mode flow's decomposition (:mod:`ergsym.flow.modes`).

    ``phi_p``, ``dS_p``: shape ``(n,) + shape`` or, with ``N`` components, ``(n, N) + shape``
    (``kt``, ``d``: the lattice ``shape``); the sums run over the components too.

    With ``g = dS - Kt^-1 phi``: ``a = phi Kt^-1 Cdot Kt^-1 phi``, ``c = g Cdot Kt^-1 phi``,
    ``e = g Cdot g`` (``Cdot`` has eigenvalues ``D_p``); ``B = a/2 + c - e/2`` and the four pieces
    are ``dSdS = a/2 + c + e/2``, ``dSdShat = -2a - 2c``, ``dShatdShat = 2a``, ``LdShat = a``.
    """
    n = phi_p.shape[0]
    V = math.prod(np.shape(kt))
    u = phi_p / np.asarray(kt)[None]
    g = dS_p - u
    dd = np.asarray(d)[None]
    a = np.sum(dd * np.abs(u) ** 2, axis=tuple(range(1, u.ndim))) / V
    c = np.sum(dd * np.real(np.conj(g) * u), axis=tuple(range(1, u.ndim))) / V
    e = np.sum(dd * np.abs(g) ** 2, axis=tuple(range(1, u.ndim))) / V
    return a.reshape(n), c.reshape(n), e.reshape(n)
