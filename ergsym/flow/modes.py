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

__all__ = ["ModeFlow", "exact_monotone", "exact_B", "exact_observables", "DEFAULT_NODES"]

#: default Gauss-Hermite nodes per dimension for 1, 2, 3 modes
DEFAULT_NODES = {1: 60, 2: 24, 3: 12}


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
        if v not in (1, 2, 3):
            raise InputError.bad(
                "number of modes",
                v,
                "1, 2 or 3",
                "the exact quadrature is a tensor rule in every mode; on larger "
                "lattices use the mc, series or variational method",
            )
        if not (self.lam >= 0 and math.isfinite(self.lam)):
            raise InputError.bad("lam", self.lam, "finite and >= 0")

    @property
    def V(self) -> int:
        return int(np.asarray(self.kt(self.Lambda0)).size)

    def position_matrix(self, f_p: np.ndarray) -> np.ndarray:
        """``(1/V) sum_p e^{ip(x-y)} f_p`` as a V x V matrix."""
        f = np.asarray(f_p, float).ravel()
        V = f.size
        col = np.real(np.fft.ifft(f))  # circulant: M_xy = col[(x - y) mod V]
        idx = (np.arange(V)[:, None] - np.arange(V)[None, :]) % V
        return col[idx]

    def lattice_arrays(self, Lambda: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    # a direction of zero variance needs one node (z = 0, weight 1), not n copies of it
    top = float(np.max(np.abs(vals))) if vals.size else 0.0
    xs = [x if v > 1e-14 * top else np.zeros(1) for v in vals]
    ws = [w if v > 1e-14 * top else np.ones(1) for v in vals]
    grids = np.meshgrid(*xs, indexing="ij")
    wgrid = np.ones_like(grids[0])
    for g in np.meshgrid(*ws, indexing="ij"):
        wgrid = wgrid * g
    z = np.stack([g.ravel() for g in grids], axis=1)  # standard normal nodes
    scale = np.sqrt(np.clip(vals, 0, None)) * shrink
    wgrid = wgrid.ravel()
    keep = wgrid > 0
    z, wgrid = z[keep], wgrid[keep]
    n_dir = sum(1 for a in xs if a.size > 1)
    logw = np.log(wgrid) + 0.5 * np.sum(z * z, axis=1) * (1.0 - shrink**2) + n_dir * math.log(shrink)
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
        raise InputError.bad(
            "kt(Lambda)",
            kt.tolist(),
            "finite and > 0 at every mode",
            f"the propagator at Lambda={plain(Lambda)} must be a covariance",
        )
    if not (np.all(np.isfinite(dl)) and np.all(dl >= -1e-12 * np.max(kt))):
        raise InputError.bad(
            "kt(Lambda0) - kt(Lambda)",
            dl.tolist(),
            "finite and >= 0 at every mode",
            "kt must not decrease along the flow towards Lambda0",
        )
    G = sys.position_matrix(kt)
    Dl = sys.position_matrix(dl)
    ginv = np.linalg.inv(G)
    # width of P_Lambda: the free one, or (24/lam)^(1/4) when the quartic confines phi
    g_max = float(np.max(np.linalg.eigvalsh(G)))
    shrink = 1.0 / (1.0 + (sys.lam * g_max**2 / 24.0) ** 0.25) ** 0.5
    phi, log_wphi = _gauss_nodes(G, n, shrink)
    chi, log_wchi = _gauss_nodes(Dl, n)
    wchi = np.exp(log_wchi)
    logw = np.empty(phi.shape[0])
    chunk = max(1, 2_000_000 // max(1, chi.shape[0]))
    for s in range(0, phi.shape[0], chunk):
        psi = phi[s : s + chunk, None, :] + chi[None, :, :]
        v0 = sys.lam / 24.0 * np.sum(psi**4, axis=-1)
        top = np.max(-v0, axis=1)  # log-sum-exp: shift by the largest exponent per row
        logw[s : s + chunk] = top + np.log(np.exp(-v0 - top[:, None]) @ wchi)
    a = log_wphi + logw
    log_ew = float(logsumexp(a))
    p = np.exp(a - log_ew)  # normalized weights of P_Lambda at the nodes
    shat = 0.5 * np.einsum("ni,ij,nj->n", phi, ginv, phi)
    return float(p @ (shat + logw)) - (0.5 * V * math.log(2 * math.pi) + 0.5 * np.linalg.slogdet(G)[1] + log_ew)


def _finite_or_raise(what, value, error, sys, Lambda):
    if not (math.isfinite(value) and math.isfinite(error)):
        raise ConvergenceError(
            f"{what} at Lambda={plain(Lambda)} (lam={plain(sys.lam)}, Lambda0={plain(sys.Lambda0)}) is not "
            f"finite (value {plain(value)}, error {plain(error)}): the Gauss-Hermite quadrature failed; "
            "pass a larger n",
            estimate=None,
            error=None,
        )
    return value, error


def exact_monotone(sys: ModeFlow, Lambda: float, n: int | None = None) -> tuple[float, float]:
    """``M_Lambda`` (up to a Lambda-independent constant) with an error estimate.

    Returns
    -------
    (value, error) : floats
        ``error`` = difference between ``n`` and ``3n/2`` Gauss-Hermite nodes per dimension
        (plus rounding); default ``n`` = 60 (one mode) / 24 (two modes).
    """
    if not (0 < Lambda <= sys.Lambda0):
        raise InputError.bad("Lambda", Lambda, f"in (0, Lambda0 = {sys.Lambda0}]", "the flow runs towards the infrared")
    if n is not None and not (isinstance(n, (int, np.integer)) and 2 <= n <= 400):
        raise InputError.bad("n", n, "an integer in [2, 400]", "Gauss-Hermite nodes per dimension")
    n = n or DEFAULT_NODES[sys.V]
    a = _monotone(sys, Lambda, n)
    b = _monotone(sys, Lambda, (3 * n) // 2)
    return _finite_or_raise("M_Lambda", b, abs(a - b) + 1e-15 * (1 + abs(b)), sys, Lambda)


def exact_B(sys: ModeFlow, Lambda: float, h: float = 2e-3, n: int | None = None) -> tuple[float, float]:
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
                raise InputError.bad(
                    "Lambda",
                    Lambda,
                    f"at most Lambda0*exp(-2h) = {sys.Lambda0 * math.exp(-2 * hh)} for the 5-point stencil",
                )
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


def _observables(sys: ModeFlow, Lambda, n):
    """Expectations under ``P_Lambda`` by the quadrature of :func:`_monotone` (``n`` nodes/dim).

    With ``g(phi) = E[grad V_0(phi + chi) | phi]`` (``chi`` reweighted by ``e^{-V_0}``: the
    posterior of the flowed-out fluctuation), ``dS_Lambda = Kt^-1 phi + g`` and
    ``a = phi Kt^-1 Cdot Kt^-1 phi``, ``c = g Cdot Kt^-1 phi``, ``e = g Cdot g``; the four
    pieces are ``dSdS = a/2 + c + e/2``, ``dSdShat = -2a - 2c``, ``dShatdShat = 2a``,
    ``LdShat = a`` and ``B = a/2 + c - e/2`` (docs/flow.md).
    """
    from scipy.special import logsumexp

    kt, d, dl = sys.lattice_arrays(Lambda)
    G = sys.position_matrix(kt)
    Dl = sys.position_matrix(dl)
    Cd = sys.position_matrix(d)
    ginv = np.linalg.inv(G)
    g_max = float(np.max(np.linalg.eigvalsh(G)))
    shrink = 1.0 / (1.0 + (sys.lam * g_max**2 / 24.0) ** 0.25) ** 0.5
    phi, log_wphi = _gauss_nodes(G, n, shrink)
    chi, log_wchi = _gauss_nodes(Dl, n)
    N, V = phi.shape
    logw = np.empty(N)
    gvec = np.empty((N, V))
    chunk = max(1, 1_000_000 // max(1, chi.shape[0] * V))
    for s in range(0, N, chunk):
        psi = phi[s : s + chunk, None, :] + chi[None, :, :]
        ex = log_wchi[None, :] - sys.lam / 24.0 * np.sum(psi**4, axis=-1)
        lw = logsumexp(ex, axis=1)
        q = np.exp(ex - lw[:, None])
        logw[s : s + chunk] = lw
        gvec[s : s + chunk] = sys.lam / 6.0 * np.einsum("nj,njx->nx", q, psi**3)
    a_log = log_wphi + logw
    p = np.exp(a_log - logsumexp(a_log))
    u = phi @ ginv  # Kt^-1 phi (symmetric matrices)
    a = np.einsum("nx,xy,ny->n", u, Cd, u)
    c = np.einsum("nx,xy,ny->n", gvec, Cd, u)
    e = np.einsum("nx,xy,ny->n", gvec, Cd, gvec)
    phip = np.fft.fft(phi, axis=1)
    return {
        "a": float(p @ a),
        "c": float(p @ c),
        "e": float(p @ e),
        "phi2": float(p @ np.mean(phi**2, axis=1)),
        "G_p": (p @ (np.abs(phip) ** 2)) / V,
    }


def exact_observables(sys: ModeFlow, Lambda: float, n: int | None = None) -> dict:
    """B, A, the four pieces, ``<phi^2>`` and ``G_p`` at ``Lambda`` by quadrature, with errors.

    B is computed directly, as the expectation of ``-1/2 dSigma Cdot dSigma - 2 Lambda dShat``
    with the exact score of ``P_Lambda`` (not by differencing M), so it also holds at
    ``Lambda = Lambda0``; tests/test_flow_methods.py checks it against :func:`exact_B`.

    Returns
    -------
    dict
        name -> ``(value, error)`` for ``B``, ``A``, ``dSdS``, ``dSdShat``, ``dShatdShat``,
        ``LdShat``, ``phi2`` and the three expectations ``a``, ``c``, ``e`` they are made of;
        ``G_p`` -> ``(values, errors)`` arrays.  Errors: ``n`` vs ``3n/2``
        nodes per dimension plus rounding.
    """
    if not (0 < Lambda <= sys.Lambda0):
        raise InputError.bad("Lambda", Lambda, f"in (0, Lambda0 = {sys.Lambda0}]", "the flow runs towards the infrared")
    n = n or DEFAULT_NODES[sys.V]

    def derived(o):
        a, c, e = o["a"], o["c"], o["e"]
        pieces = {"dSdS": 0.5 * a + c + 0.5 * e, "dSdShat": -2 * a - 2 * c, "dShatdShat": 2 * a, "LdShat": a}
        pieces["B"] = -(pieces["dSdS"] + pieces["dSdShat"] + pieces["dShatdShat"]) + pieces["LdShat"]
        pieces["A"] = sum(pieces[k] for k in ("dSdS", "dSdShat", "dShatdShat", "LdShat"))
        pieces["phi2"] = o["phi2"]
        pieces.update({"a": a, "c": c, "e": e})
        return pieces

    lo = _observables(sys, Lambda, n)
    hi = _observables(sys, Lambda, (3 * n) // 2)
    dlo, dhi = derived(lo), derived(hi)
    out = {}
    for k in dhi:
        v, e = dhi[k], abs(dhi[k] - dlo[k]) + 1e-13 * (1 + abs(dhi[k]))
        out[k] = _finite_or_raise(k, v, e, sys, Lambda)
    gp = np.asarray(hi["G_p"], float)
    gpe = np.abs(gp - np.asarray(lo["G_p"], float)) + 1e-13 * (1 + np.abs(gp))
    if not (np.all(np.isfinite(gp)) and np.all(np.isfinite(gpe))):
        raise ConvergenceError(f"G_p at Lambda={Lambda!r} is not finite: pass a larger n", estimate=None, error=None)
    out["G_p"] = (gp, gpe)
    return out
