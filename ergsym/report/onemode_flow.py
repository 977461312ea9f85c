"""One mode along the exact flow: ``-Lambda dM/dLambda`` by finite differences, beside A and B.

The report's evidence that the paper's expression ``A`` (4.5) is not the derivative of the
monotone: for one real mode with ``Kt(Lambda) = k (Lambda/Lambda0)^(D/k)`` (so that
``Kt = k`` and ``Lambda dKt/dLambda = D`` at ``Lambda0``) the law ``P_Lambda`` is known exactly
(the Gaussian channel: ``P_Lambda = e^{-Shat} W / Z`` with
``W(phi) = E_{chi ~ N(0, Delta)} e^{-lam (phi+chi)^4/24}``, ``Delta = k - Kt(Lambda)``), so

.. math:: M_\\Lambda = \\langle\\hat S\\rangle + \\langle\\log W\\rangle - \\log Z

is a pair of Gaussian averages.  They are computed here with Gauss--Hermite rules and
**log-sum-exp** throughout (``W`` underflows for strong coupling), and differenced with a
one-sided 5-point stencil in ``log Lambda`` at ``Lambda0`` (the flow runs towards
``Lambda < Lambda0`` only).  Independent of :mod:`ergsym.flow.modes` on purpose.

With ``N`` components (the O(N) model, ``S_int = lam (phi.phi)^2/24``) everything depends on
``r = |phi|`` only: ``s = r^2/(2 Kt)`` is a Gamma(N/2) variable (generalised Gauss--Laguerre
rule), and ``W(r)`` averages over ``chi_1`` along ``phi`` (Gauss--Hermite) and
``u = |chi_perp|^2/(2 Delta)``, a Gamma((N-1)/2) variable (generalised Gauss--Laguerre), with
``|phi+chi|^2 = (r+chi_1)^2 + 2 Delta u``.  ``N = 1`` is the Gauss--Hermite rule above, unchanged.
"""

from __future__ import annotations

import functools
import math

import numpy as np

__all__ = ["one_mode_M", "one_mode_minus_dM"]


@functools.lru_cache(maxsize=8)
def _gh_unit(n):
    x, w = np.polynomial.hermite_e.hermegauss(n)  # weight exp(-x^2/2)
    return x, np.log(w / math.sqrt(2 * math.pi))


def _gh(n, var):
    x, lw = _gh_unit(n)
    return x * math.sqrt(max(var, 0.0)), lw


@functools.lru_cache(maxsize=16)
def _gl_unit(n, alpha):
    """Generalised Gauss--Laguerre nodes and log weights for the Gamma(alpha+1) density."""
    from scipy.special import gammaln, roots_genlaguerre

    with np.errstate(all="ignore"):  # weights overflow for large alpha: caught by the caller's check
        x, w = roots_genlaguerre(n, alpha)
        return x, np.log(w) - gammaln(alpha + 1.0)


def _one_mode_M_on(k, D, lam, t, n, N):
    """:func:`one_mode_M` for ``N > 1`` components (module docstring)."""
    from scipy.special import logsumexp

    G = k * math.exp(D / k * t)
    Delta = max(k - G, 0.0)
    s, lws = _gl_unit(n, N / 2.0 - 1.0)
    r = np.sqrt(2.0 * G * s)
    chi, lwchi = _gh(n, Delta)
    u, lwu = _gl_unit(n, (N - 1) / 2.0 - 1.0)
    psi2 = (r[:, None, None] + chi[None, :, None]) ** 2 + 2.0 * Delta * u[None, None, :]
    logw = (-lam / 24.0) * psi2**2 + lwchi[None, :, None] + lwu[None, None, :]
    with np.errstate(invalid="ignore", over="ignore"):  # non-finite weights: refused just below
        logW = logsumexp(logw.reshape(n, -1), axis=1)
        lz = logsumexp(lws + logW)  # log E_G[W]
        p = np.exp(lws + logW - lz)
    # the rule must reach P: at strong coupling and large N, W pulls P below the first node of the
    # Gamma(N/2) rule (all the weight on node 0; then n and 3n/2 nodes agree on a wrong number),
    # and for N of several hundred the weights overflow; refuse rather than return it.  A P
    # resolved by a few nodes is fine (a Gauss rule is exact on its smooth part); the error
    # estimate of one_mode_minus_dM (n vs 3n/2 nodes) covers that
    n_eff = 1.0 / float(np.sum(p * p)) if np.all(np.isfinite(p)) else 0.0
    if not (math.isfinite(lz) and n_eff >= 2.0 and int(np.argmax(p)) > 0):
        from ..errors import ConvergenceError

        raise ConvergenceError(
            f"one site with N={N} components at lam={lam:g}: the Gauss-Laguerre rule in r^2 does not "
            f"resolve P_Lambda ({n_eff:.1f} effective nodes of {n}); use fewer components or a smaller "
            "coupling (the direct integral of A and B is not affected)",
            estimate=None,
        )
    shat = s  # r^2/(2G)
    return float(p @ (shat + logW)) - (0.5 * N * math.log(2 * math.pi * G) + lz)


def one_mode_M(k: float, D: float, lam: float, t: float, n: int = 160, N: int = 1) -> float:
    """``M`` at ``log(Lambda/Lambda0) = t <= 0`` (up to a Lambda-independent constant).

    Parameters
    ----------
    k, D : float
        ``Kt`` and ``Lambda dKt/dLambda`` at ``Lambda0``.
    lam : float
        Quartic coupling at ``Lambda0``.
    t : float
        ``log(Lambda/Lambda0)``, at most 0.
    n : int
        Gauss--Hermite nodes per variable.
    N : int
        Field components (O(N) model); ``N = 1`` is one real mode.
    """
    from scipy.special import logsumexp

    if N != 1:
        return _one_mode_M_on(k, D, lam, t, n, N)

    G = k * math.exp(D / k * t)
    phi, lwphi = _gh(n, G)
    chi, lwchi = _gh(n, k - G)
    psi = phi[:, None] + chi[None, :]
    logW = logsumexp(-lam / 24.0 * psi**4 + lwchi[None, :], axis=1)
    lz = logsumexp(lwphi + logW)  # log E_G[W]
    p = np.exp(lwphi + logW - lz)  # weights of P at the phi nodes
    shat = phi**2 / (2 * G)
    return float(p @ (shat + logW)) - (0.5 * math.log(2 * math.pi * G) + lz)


def one_mode_minus_dM(k: float, D: float, lam: float, h: float = 1e-3, n: int = 160, N: int = 1) -> tuple[float, float]:
    """``-Lambda dM/dLambda`` at ``Lambda0`` with an error estimate.

    One-sided 5-point stencil in ``t = log Lambda`` (error ``O(h^4)``), at steps ``h`` and
    ``2h``; the error adds their difference and the quadrature change from ``n`` to ``3n/2``
    nodes propagated through the stencil.  ``N``: field components (O(N) model).

    Returns
    -------
    (value, error) : floats
    """

    def stencil(hh, nn):
        f = [one_mode_M(k, D, lam, -j * hh, nn, N) for j in range(5)]
        # f'(0) = (25 f0 - 48 f1 + 36 f2 - 16 f3 + 3 f4) / (12 h) for f_j = f(-j h)
        return -(25 * f[0] - 48 * f[1] + 36 * f[2] - 16 * f[3] + 3 * f[4]) / (12 * hh)

    b1 = stencil(h, n)
    b2 = stencil(2 * h, n)
    b3 = stencil(h, (3 * n) // 2)
    err = abs(b1 - b2) + abs(b1 - b3) + 1e-13
    if not (math.isfinite(b1) and math.isfinite(err)):
        from ..errors import ErgsymError

        raise ErgsymError(f"one-mode finite difference is not finite at lam={lam!r}")
    return b1, err
