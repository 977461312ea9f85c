"""Exact flow of one or two modes by quadrature: ``M_Lambda`` and its finite differences.

docs/conventions.md ("Flow"): evolve ``P`` exactly, compute ``M`` by quadrature, difference
it in ``Lambda``.  On ``V = 1`` or ``2`` sites (lattice conventions of docs/conventions.md) with
momentum-space propagators ``Kt_p(Lambda)``:

.. math:: P_\\Lambda(\\phi) = e^{-\\hat S_\\Lambda(\\phi)}\\,W_\\Lambda(\\phi)/Z_\\Lambda,\\qquad
          W_\\Lambda(\\phi) = E_{\\chi\\sim N(0,\\Delta)}\\, e^{-V_0(\\phi+\\chi)}

(the Gaussian-channel law, docs/flow.md), and with ``Q = e^{-2 Shat}/Z_Q``

.. math:: M_\\Lambda = S(P\\|Q) - \\log Z_Q = \\int P\\log P + 2\\langle\\hat S\\rangle
          = \\langle\\hat S\\rangle + \\langle\\log W\\rangle - \\log Z_\\Lambda .

``Z_Lambda = (2 pi)^{V/2} det(G)^{1/2} E_G[W]`` and ``E_G[W] = E_{G_Lambda0}[e^{-V_0}]`` is
Lambda-independent.  All Gaussian averages use tensor Gauss-Hermite rules in the eigenbasis
of the covariance (the integrands are entire functions times Gaussians: the error is
estimated by comparing ``n`` and ``3n/2`` nodes).  Everything is computed in log space
(log-sum-exp over the ``chi`` nodes and normalized weights for the averages under ``P``), and
the ``phi`` rule is importance-scaled to the width ``~ (24/lam)^(1/4)`` to which the quartic
confines ``phi``, so strong couplings (``lam`` = 100 tested against mpmath) stay accurate; a
non-finite result raises :class:`~ergsym.errors.ConvergenceError`, never NaN.  ``-Lambda dM/dLambda`` by a 5-point
central difference in ``log Lambda``; its error estimate adds the quadrature error
propagated through the stencil and the difference of two step sizes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConvergenceError, InputError, plain

__all__ = ["ModeFlow", "exact_monotone", "exact_B"]


@dataclass(frozen=True)
class ModeFlow:
    """A few-mode system: ``kt(Lambda) -> Kt_p`` and ``d(Lambda) -> Lambda dKt_p/dLambda``.

    Parameters
    ----------
    kt, d : callable
        Arrays of shape ``(V,)`` in ``fftn`` layout (V = 1 or 2).
    Lambda0 : float
    lam : float
        Quartic coupling of ``V_0 = (lam/4!) sum_x phi_x^4`` at ``Lambda0``.
    """

    kt: object
    d: object
    Lambda0: float
    lam: float

    def __post_init__(self):
        v = np.asarray(self.kt(self.Lambda0)).size
        if v not in (1, 2):
            raise InputError.bad("number of modes", v, "1 or 2")
        if not (self.lam >= 0 and math.isfinite(self.lam)):
            raise InputError.bad("lam", self.lam, "finite and >= 0")

    @property
    def V(self) -> int:
        return int(np.asarray(self.kt(self.Lambda0)).size)

    def position_matrix(self, f_p):
        """``(1/V) sum_p e^{ip(x-y)} f_p`` as a V x V matrix."""
        f = np.asarray(f_p, float)
        if f.size == 1:
            return f.reshape(1, 1)
        a, b = f[0], f[1]  # p = 0, pi
        return 0.5 * np.array([[a + b, a - b], [a - b, a + b]])

    def lattice_arrays(self, Lambda):
        """``(Kt_p, D_p, Delta_p)`` at ``Lambda`` (for the series)."""
        kt = np.asarray(self.kt(Lambda), float)
        return kt, np.asarray(self.d(Lambda), float), np.asarray(self.kt(self.Lambda0), float) - kt


def _gh(n):
    x, w = np.polynomial.hermite_e.hermegauss(n)  # weight exp(-x^2/2)
    return x, w / math.sqrt(2 * math.pi)


def _gauss_nodes(cov, n, shrink=1.0):
    """Nodes ``(N, V)`` and log-weights of ``N(0, cov)`` (tensor Gauss-Hermite).

    With ``shrink = s < 1`` the nodes are those of ``N(0, s^2 cov)`` and the log-weights
    carry the density ratio ``N(0, cov)/N(0, s^2 cov)`` (importance-scaled rule): at strong
    coupling the quartic confines ``phi`` well inside the free width, where the rule's nodes
    are then placed.
    """
    vals, vecs = np.linalg.eigh(cov)
    x, w = _gh(n)
    V = cov.shape[0]
    grids = np.meshgrid(*([x] * V), indexing="ij")
    wgrid = np.ones_like(grids[0])
    for g in np.meshgrid(*([w] * V), indexing="ij"):
        wgrid = wgrid * g
    z = np.stack([g.ravel() for g in grids], axis=1)  # standard normal nodes
    scale = np.sqrt(np.clip(vals, 0, None)) * shrink
    wgrid = wgrid.ravel()
    keep = wgrid > 0
    z, wgrid = z[keep], wgrid[keep]
    logw = np.log(wgrid) + 0.5 * np.sum(z * z, axis=1) * (1.0 - shrink ** 2) + V * math.log(shrink)
    return (z * scale) @ vecs.T, logw


def _monotone(sys: ModeFlow, Lambda, n):
    """``M_Lambda`` with ``n`` Gauss-Hermite nodes per dimension, in log space throughout.

    ``log W(phi) = logsumexp_j(log w_j - V_0(phi + chi_j))`` and every average under
    ``P_Lambda`` uses the normalized weights ``exp(a_i - logsumexp(a))``,
    ``a_i = log w_i + log W(phi_i)``: nothing underflows for strong coupling (a plain
    ``log(exp(-V_0) @ w)`` gives ``log 0`` at large ``phi`` once ``lam`` is O(1)).
    """
    from scipy.special import logsumexp

    V = sys.V
    kt, _, dl = sys.lattice_arrays(Lambda)
    if not (np.all(np.isfinite(kt)) and np.all(kt > 0)):
        raise InputError.bad("kt(Lambda)", kt.tolist(), "finite and > 0 at every mode",
                             f"the propagator at Lambda={plain(Lambda)} must be a covariance")
    if not (np.all(np.isfinite(dl)) and np.all(dl >= -1e-12 * np.max(kt))):
        raise InputError.bad("kt(Lambda0) - kt(Lambda)", dl.tolist(), "finite and >= 0 at every mode",
                             "kt must not decrease along the flow towards Lambda0")
    G = sys.position_matrix(kt)
    Dl = sys.position_matrix(dl)
    ginv = np.linalg.inv(G)
    # width of P_Lambda: the free one, or (24/lam)^(1/4) when the quartic confines phi
    g_max = float(np.max(np.linalg.eigvalsh(G)))
    shrink = 1.0 / (1.0 + (sys.lam * g_max ** 2 / 24.0) ** 0.25) ** 0.5
    phi, log_wphi = _gauss_nodes(G, n, shrink)
    chi, log_wchi = _gauss_nodes(Dl, n)
    wchi = np.exp(log_wchi)
    logw = np.empty(phi.shape[0])
    chunk = max(1, 2_000_000 // max(1, chi.shape[0]))
    for s in range(0, phi.shape[0], chunk):
        psi = phi[s:s + chunk, None, :] + chi[None, :, :]
        v0 = sys.lam / 24.0 * np.sum(psi ** 4, axis=-1)
        top = np.max(-v0, axis=1)  # log-sum-exp: shift by the largest exponent per row
        logw[s:s + chunk] = top + np.log(np.exp(-v0 - top[:, None]) @ wchi)
    a = log_wphi + logw
    log_ew = float(logsumexp(a))
    p = np.exp(a - log_ew)  # normalized weights of P_Lambda at the nodes
    shat = 0.5 * np.einsum("ni,ij,nj->n", phi, ginv, phi)
    return float(p @ (shat + logw)) - (0.5 * V * math.log(2 * math.pi)
                                       + 0.5 * np.linalg.slogdet(G)[1] + log_ew)


def _finite_or_raise(what, value, error, sys, Lambda):
    if not (math.isfinite(value) and math.isfinite(error)):
        raise ConvergenceError(
            f"{what} at Lambda={plain(Lambda)} (lam={plain(sys.lam)}, Lambda0={plain(sys.Lambda0)}) is not "
            f"finite (value {plain(value)}, error {plain(error)}): the Gauss-Hermite quadrature failed; "
            "pass a larger n", estimate=None, error=None)
    return value, error


def exact_monotone(sys: ModeFlow, Lambda, n=None):
    """``M_Lambda`` (up to a Lambda-independent constant) with an error estimate.

    Returns
    -------
    (value, error) : floats
        ``error`` = difference between ``n`` and ``3n/2`` Gauss-Hermite nodes per dimension
        (plus rounding); default ``n`` = 60 (one mode) / 24 (two modes).
    """
    if not (0 < Lambda <= sys.Lambda0):
        raise InputError.bad("Lambda", Lambda, f"in (0, Lambda0 = {sys.Lambda0}]",
                             "the flow runs towards the infrared")
    if n is not None and not (isinstance(n, (int, np.integer)) and 2 <= n <= 400):
        raise InputError.bad("n", n, "an integer in [2, 400]", "Gauss-Hermite nodes per dimension")
    n = n or (60 if sys.V == 1 else 24)
    a = _monotone(sys, Lambda, n)
    b = _monotone(sys, Lambda, (3 * n) // 2)
    return _finite_or_raise("M_Lambda", b, abs(a - b) + 1e-15 * (1 + abs(b)), sys, Lambda)


def exact_B(sys: ModeFlow, Lambda, h=2e-3, n=None):
    """``-Lambda dM/dLambda`` by a 5-point stencil in ``log Lambda`` (step ``h``).

    Returns
    -------
    (value, error) : floats
        Error: stencil-propagated quadrature error plus ``|B(h) - B(2h)|/15`` (Richardson
        estimate of the ``O(h^4)`` truncation).
    """
    def stencil(hh):
        vals, errs = [], []
        for k in (-2, -1, 1, 2):
            L = Lambda * math.exp(k * hh)
            if L > sys.Lambda0:
                raise InputError.bad("Lambda", Lambda, f"at most Lambda0*exp(-2h) = "
                                     f"{sys.Lambda0 * math.exp(-2 * hh)} for the 5-point stencil")
            v, e = exact_monotone(sys, L, n)
            vals.append(v)
            errs.append(e)
        m2, m1, p1, p2 = vals
        der = (m2 - 8 * m1 + 8 * p1 - p2) / (12 * hh)
        err = (errs[0] + 8 * errs[1] + 8 * errs[2] + errs[3]) / (12 * hh)
        return -der, err

    if not (isinstance(h, (int, float)) and math.isfinite(h) and 0 < h <= 0.1):
        raise InputError.bad("h", h, "in (0, 0.1]", "the step of the stencil in log Lambda")
    b1, e1 = stencil(h)
    b2, e2 = stencil(2 * h)
    return _finite_or_raise("B = -Lambda dM/dLambda", b1, e1 + abs(b1 - b2) / 15 + 2 * e2 / 15, sys, Lambda)
