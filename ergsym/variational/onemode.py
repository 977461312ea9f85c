"""One mode (zero dimensions): the JKO flow with a flexible monotone map, and the exact flowed law.

The theory: one real mode with ``P_Lambda0 ∝ exp(-phi^2/(2 k0) - lam phi^4/24)`` and a free
propagator ``k(Lambda)`` that decreases towards the infrared (``kt_of``).  The exact flowed law is
the Gaussian channel ``phi = alpha psi + xi``, ``alpha = k(Lambda)/k0``, ``xi ~ N(0, k(Lambda)(1-alpha))``
(``docs/flow.md``): its density is a convolution, done here on a grid in log-sum-exp form (no
underflow at large ``lam``).

The flexible map family is the most flexible one in 1-D: a monotone piecewise-linear map through
``N`` equal-mass particles (the Lagrangian/quantile form of the JKO step).  With the particles
``x_i`` (midpoint quantiles of ``P_n``) and their images ``y_i``, the objective (6.18) is

.. math:: J(y) = \\frac{c}{2\\tau \\bar D}\\frac1N\\sum_i (x_i-y_i)^2
              - \\frac{1}{N-1}\\sum_i \\ln(y_{i+1}-y_i) + \\frac1N\\sum_i \\frac{y_i^2}{k_{n+1}}

(transport, minus the log-derivative of the map, ``2 Shat`` of the image), strictly convex; it is
minimised by Newton's method with its tridiagonal Hessian.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import logsumexp

from ..errors import ErgsymError, InputError
from ..lattice.theory import validate_lam
from .jko import schedule, validate_tau
from .ot import COST_FACTOR, _factor

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike

__all__ = ["OneModeExact", "one_mode_exact", "one_mode_jko", "OneModeJKO"]


def _grid(k0, lam, n):
    # support: well beyond the Gaussian and the quartic scales
    width = (
        12.0 * math.sqrt(k0) if lam == 0 else min(12.0 * math.sqrt(k0), 8.0 * (24.0 / lam) ** 0.25 + 6 * math.sqrt(k0))
    )
    return np.linspace(-width, width, n)


@dataclass(frozen=True)
class OneModeExact:
    """Exact flowed one-mode law on a grid: ``x``, ``logp`` (normalized), moments and ``M``.

    ``M = int P ln P + <phi^2>/k`` (the monotone (4.1) up to a Lambda-independent constant:
    ``S(P||Q) - ln Z_Q = int P ln P + 2 <Shat>``).  ``error`` fields: difference between grids
    of ``n`` and ``n/2`` points plus the moment identities of the channel.
    """

    x: np.ndarray
    logp: np.ndarray
    phi2: tuple
    phi4: tuple
    M: tuple

    def quantile(self, u: ArrayLike) -> np.ndarray:
        """Quantile function by inverting the grid CDF (trapezoid, linear interpolation)."""
        p = np.exp(self.logp)
        dx = self.x[1] - self.x[0]
        cdf = np.concatenate([[0.0], np.cumsum(0.5 * (p[1:] + p[:-1]) * dx)])
        cdf /= cdf[-1]
        return np.interp(u, cdf, self.x)


def _exact_on(n, k0, k, lam):
    x = _grid(k0, lam, n)
    dx = x[1] - x[0]
    w = np.full(n, dx)
    w[0] = w[-1] = dx / 2
    lp0 = -x * x / (2 * k0) - lam * x**4 / 24.0
    lp0 -= logsumexp(lp0, b=w)
    alpha = k / k0
    s2 = k * (1.0 - alpha)
    if s2 <= 1e-14 * k:
        lp = lp0
    else:
        lp = logsumexp(
            lp0[None, :] - (x[:, None] - alpha * x[None, :]) ** 2 / (2 * s2), b=w[None, :], axis=1
        ) - 0.5 * math.log(2 * math.pi * s2)
        lp -= logsumexp(lp, b=w)
    p = np.exp(lp)
    m0 = [float(np.sum(w * np.exp(lp0) * x**j)) for j in (2, 4)]
    phi2_ch = alpha**2 * m0[0] + s2
    phi4_ch = alpha**4 * m0[1] + 6 * alpha**2 * s2 * m0[0] + 3 * s2**2
    phi2 = float(np.sum(w * p * x * x))
    phi4 = float(np.sum(w * p * x**4))
    ent = float(np.sum(w * p * lp))
    return x, lp, (phi2_ch, abs(phi2 - phi2_ch)), (phi4_ch, abs(phi4 - phi4_ch)), ent + phi2_ch / k


def one_mode_exact(k0: float, k: float, lam: float, n: int = 4001) -> OneModeExact:
    """The exact law at the scale where the propagator is ``k <= k0`` (channel convolution by quadrature).

    ``<phi^2>``, ``<phi^4>`` come from the channel identities with the moments of ``P_Lambda0``
    (``alpha^2 <psi^2> + s^2``, ``alpha^4 <psi^4> + 6 alpha^2 s^2 <psi^2> + 3 s^4``); their error is the
    difference with the moments of the convolved density on the grid.
    """
    lam = validate_lam(lam)
    k0, k = float(k0), float(k)
    if not (k0 > 0 and 0 < k <= k0):
        raise InputError.bad("k", k, f"in (0, k0 = {k0}]", "the flow runs towards the infrared")
    if n < 101:
        raise InputError.bad("n", n, ">= 101 grid points")
    x, lp, p2, p4, M = _exact_on(int(n), k0, k, lam)
    *_, Mlo = _exact_on(int(n) // 2 + 1, k0, k, lam)
    return OneModeExact(x, lp, p2, p4, (M, abs(M - Mlo) + 1e-12 * abs(M)))


@dataclass(frozen=True)
class OneModeJKO:
    """Result of :func:`one_mode_jko`: final particles, scales, ``<phi^2>``/``<phi^4>`` and ``M - M0`` per scale."""

    Lambdas: np.ndarray
    particles: np.ndarray
    phi2: np.ndarray
    phi4: np.ndarray
    M_minus_M0: np.ndarray
    tau: float
    converged: bool


def _entropy(y):
    """Discrete entropy ``int P ln P`` of equal-mass particles: ``-(1/(N-1)) sum ln((N-1) dy)``."""
    dy = np.diff(y)
    return float(-np.mean(np.log((y.size - 1) * dy)))


def _newton_step(x, k1, dbar, tau, c, step, tol=1e-12, max_iter=100):
    N = x.size
    alpha = c / (tau * dbar * N)
    beta = 2.0 / (k1 * N)
    wlog = 1.0 / (N - 1)

    def J(y):
        dy = np.diff(y)
        if np.any(dy <= 0):
            return math.inf
        return 0.5 * alpha * np.sum((x - y) ** 2) - wlog * np.sum(np.log(dy)) + 0.5 * beta * np.sum(y * y)

    # start: closed-form linear (Gaussian) step
    y = x.copy()
    f = J(y)
    for it in range(max_iter):
        dy = np.diff(y)
        inv = wlog / dy
        g = alpha * (y - x) + beta * y
        g[:-1] += inv
        g[1:] -= inv
        h = wlog / dy**2
        diag = np.full(N, alpha + beta)
        diag[:-1] += h
        diag[1:] += h
        off = -h
        # tridiagonal solve (Thomas)
        ab = np.zeros((3, N))
        ab[0, 1:] = off
        ab[1] = diag
        ab[2, :-1] = off
        from scipy.linalg import solve_banded  # noqa: PLC0415

        d = solve_banded((1, 1), ab, -g)
        dec = float(-g @ d)
        if dec < 2 * tol * max(1.0, abs(f)):
            return y, True, it
        t = 1.0
        while True:
            yn = y + t * d
            fn = J(yn)
            if fn <= f - 0.25 * t * dec:
                break
            t *= 0.5
            if t < 1e-12:
                raise ErgsymError(f"step {step}: Newton line search failed in the one-mode JKO step")
        y, f = yn, fn
        if not math.isfinite(f):
            raise ErgsymError(f"step {step}: the JKO objective turned NaN/inf")
    return y, False, max_iter


def one_mode_jko(
    kt_of: Callable[[float], float],
    Lambda0: float,
    Lambda: float,
    steps: int,
    lam: float,
    n_particles: int = 400,
    cost_factor: float = COST_FACTOR,
) -> OneModeJKO:
    """JKO flow of one mode with the flexible monotone (piecewise-linear) map family.

    Parameters
    ----------
    kt_of : callable
        ``Lambda -> k(Lambda)`` (> 0, non-increasing towards the infrared).
    Lambda0, Lambda : float
        Start and end scales (``Lambda < Lambda0``).
    steps : int
        JKO steps, ``tau = ln(Lambda0/Lambda)/steps``.
    lam : float
        Quartic coupling at ``Lambda0``.
    n_particles : int
        Particles (midpoint quantiles of the exact ``P_Lambda0``).

    Returns
    -------
    OneModeJKO
    """
    lam = validate_lam(lam)
    c = _factor(cost_factor)
    lams, tau = schedule(Lambda0, Lambda, steps)
    validate_tau(tau)
    if isinstance(n_particles, bool) or not isinstance(n_particles, (int, np.integer)) or n_particles < 10:
        raise InputError.bad("n_particles", n_particles, "an integer >= 10")
    N = int(n_particles)
    k0 = float(kt_of(lams[0]))
    ex0 = one_mode_exact(k0, k0, lam, n=8001)
    x = ex0.quantile((np.arange(N) + 0.5) / N)
    phi2 = [float(np.mean(x * x))]
    phi4 = [float(np.mean(x**4))]
    m0 = _entropy(x) + phi2[0] / k0
    Ms = [0.0]
    conv = True
    for n in range(steps):
        ka, kb = float(kt_of(lams[n])), float(kt_of(lams[n + 1]))
        if kb > ka:
            raise InputError.bad(f"kt_of(Lambda) (step {n})", kb, f"<= {ka}", "k must decrease towards the infrared")
        dbar = (ka - kb) / tau
        if dbar > 0:
            x, ok, _ = _newton_step(x, kb, dbar, tau, c, n)
            conv &= ok
        phi2.append(float(np.mean(x * x)))
        phi4.append(float(np.mean(x**4)))
        Ms.append(_entropy(x) + phi2[-1] / kb - m0)
    return OneModeJKO(lams, x, np.array(phi2), np.array(phi4), np.array(Ms), tau, conv)
