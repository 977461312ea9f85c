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

__all__ = [
    "ModeFlow",
    "exact_monotone",
    "exact_B",
    "exact_observables",
    "DEFAULT_NODES",
    "ON_DEFAULT_NODES",
    "default_nodes",
    "on_inner_dims",
    "on_node_count",
]

#: default Gauss-Hermite nodes per dimension for 1, 2, 3 modes
DEFAULT_NODES = {1: 60, 2: 24, 3: 12}
#: O(N) models (N > 1): sites, default nodes per reduced variable, and the most real variables
#: of the inner Gauss-Hermite rule (N times the flowing modes; one site needs 2 at any N)
ON_MAX_MODES = 2
ON_DEFAULT_NODES = {1: 60, 2: 16}
ON_MAX_INNER = 4


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
    N: int = 1

    def __post_init__(self):
        from ..lattice.theory import validate_n_components

        object.__setattr__(self, "N", validate_n_components(self.N, "--N"))
        v = np.asarray(self.kt(self.Lambda0)).size
        if v not in (1, 2, 3):
            raise InputError.bad(
                "number of modes",
                v,
                "1, 2 or 3",
                "the exact quadrature is a tensor rule in every mode; on larger "
                "lattices use the mc, series or variational method",
            )
        if self.N > 1 and v > ON_MAX_MODES:
            raise InputError.bad(
                "--lattice",
                f"{v} sites with --N {self.N}",
                f"at most {ON_MAX_MODES} sites for the exact quadrature of an O(N) model",
                "use --method mc (or series at small --lam)",
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

    if sys.N > 1:
        return _on_quadrature(sys, Lambda, n)["M"]
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
    n = n or default_nodes(sys)
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

    if sys.N > 1:
        out = _on_quadrature(sys, Lambda, n)
        del out["M"]
        return out
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
    n = n or default_nodes(sys)

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


# ---------------------------------------------------------------------------
# O(N) models (N > 1) on one or two sites
# ---------------------------------------------------------------------------


def default_nodes(sys: ModeFlow) -> int:
    """Default nodes per dimension (N = 1: :data:`DEFAULT_NODES`; N > 1: :data:`ON_DEFAULT_NODES`)."""
    return DEFAULT_NODES[sys.V] if sys.N == 1 else ON_DEFAULT_NODES[sys.V]


def on_inner_dims(sys: ModeFlow, Lambda: float) -> int:
    """Real variables of the inner (``chi``) rule of the O(N) quadrature at ``Lambda``.

    One site: 2 at any N (the component along ``phi`` and ``|chi_perp|^2``); two sites: N times
    the number of modes with ``Delta_p > 0`` (0 at ``Lambda0``).
    """
    _, _, dl = sys.lattice_arrays(Lambda)
    live = int(np.sum(dl > 1e-14 * float(np.max(sys.kt(sys.Lambda0)))))
    if live == 0:
        return 0
    return 2 if sys.V == 1 else sys.N * live


def _inner_n(n, k):
    """Nodes per inner dimension for ``k`` real variables (the rule has ``~ n^2`` nodes in all)."""
    return n if k <= 2 else max(4, (2 * n) // k)


def on_node_count(sys: ModeFlow, Lambda: float | None, n: int) -> int:
    """Outer times inner nodes of one O(N) evaluation with ``n`` nodes per reduced variable
    (``Lambda = None``: every mode flowing, the most expensive scale)."""
    k = on_inner_dims(sys, Lambda) if Lambda is not None else (2 if sys.V == 1 else sys.N * sys.V)
    outer = n if sys.V == 1 else n**3
    return outer * _inner_n(n, k) ** k


def _on_shrink(lam, var, n_dim):
    """Importance scale of a radial rule: the saddle ``u*`` of ``r^(n-1) e^{-r^2/(2 var) - lam r^4/24}``
    in ``u = r^2`` (``lam u^2/6 + u/var = n``) over the Gaussian's ``n var``, square-rooted.

    The quartic confines ``r^2`` well inside the Gaussian's ``n var`` at strong coupling or many
    components; the rule's nodes are placed there.
    """
    if lam <= 0:
        return 1.0
    a, b = lam / 6.0, 1.0 / var
    u = 2.0 * n_dim / (b + math.sqrt(b * b + 4.0 * a * n_dim))  # the positive root, cancellation-free
    return math.sqrt(min(1.0, u / (n_dim * var)))


def _radial(n, N, shrink):
    """Radius nodes of ``N(0, I_N)`` scaled by ``shrink``, with log-weights of ``N(0, I_N)``.

    ``|x|^2/2 = t`` has the density ``t^(N/2-1) e^-t/Gamma(N/2)`` (generalized Gauss-Laguerre);
    the nodes are those of ``N(0, shrink^2 I_N)`` and the log-weights carry the density ratio
    ``shrink^N e^(t(1 - shrink^2))`` (importance-scaled, as :func:`_gauss_nodes`).
    """
    from scipy.special import gammaln, roots_genlaguerre

    t, w = roots_genlaguerre(n, 0.5 * N - 1.0)
    logw = np.log(w) - gammaln(0.5 * N) + N * math.log(shrink) + t * (1.0 - shrink**2)
    return shrink * np.sqrt(2.0 * t), logw


def _angle(n, N):
    """Nodes and log-weights of ``cos`` of the angle between two independent directions in R^N."""
    from scipy.special import roots_jacobi

    al = 0.5 * (N - 3)
    c, w = roots_jacobi(n, al, al)
    return c, np.log(w / np.sum(w))


def _on_phi_nodes(sys, kt, n, shrink):
    """Representatives of the O(N) orbits of ``phi`` (shape ``(K, N, V)``), the same in the
    orthonormal mode coordinates, and log-weights under ``N(0, G x I_N)``: the integrands are
    O(N) invariant, so one field per orbit suffices.

    One site: ``phi = r e_1``.  Two sites, orthonormal mode coordinates ``u`` (p = 0) and ``w``
    (p = pi), ``phi_x = (u + (-1)^x w)/sqrt 2``: ``u = r_1 e_1``,
    ``w = r_2 (c e_1 + sqrt(1 - c^2) e_2)`` (``c`` the cosine of their angle, independent of the
    radii for the Gaussian).
    """
    N, V = sys.N, sys.V
    if V == 1:
        r, lw = _radial(n, N, shrink)
        phi = np.zeros((n, N, 1))
        phi[:, 0, 0] = math.sqrt(float(kt[0])) * r
        return phi, phi, lw
    r, lw = _radial(n, N, shrink)
    c, lc = _angle(n, N)
    r1, r2, cc = (g.ravel() for g in np.meshgrid(r, r, c, indexing="ij"))
    logw = sum(g.ravel() for g in np.meshgrid(lw, lw, lc, indexing="ij"))
    u1 = math.sqrt(float(kt[0])) * r1
    w1, w2 = (math.sqrt(float(kt[1])) * r2 * x for x in (cc, np.sqrt(np.clip(1.0 - cc * cc, 0.0, None))))
    phi = np.zeros((u1.size, N, 2))
    s = 1.0 / math.sqrt(2.0)
    phi[:, 0, 0], phi[:, 0, 1] = s * (u1 + w1), s * (u1 - w1)
    phi[:, 1, 0], phi[:, 1, 1] = s * w2, -s * w2
    modes = np.zeros_like(phi)
    modes[:, 0, 0], modes[:, 0, 1], modes[:, 1, 1] = u1, w1, w2
    return phi, modes, logw


def _on_inner(sys, phi, Dl, n, k):
    """``log W(phi)`` and ``g(phi) = E[grad V_0(phi + chi) | phi]`` at the nodes ``phi`` (K, N, V).

    One site: ``|phi + chi|^2 = (r + chi_1)^2 + rho`` with ``chi_1 ~ N(0, Delta)`` (Gauss-Hermite)
    and ``rho = |chi_perp|^2 ~ Delta chi^2_(N-1)`` (generalized Gauss-Laguerre); ``g`` points along
    ``phi``.  Two sites: tensor Gauss-Hermite over the flowing directions of ``Delta x I_N``.
    """
    from scipy.special import gammaln, logsumexp, roots_genlaguerre

    N, V, lam = sys.N, sys.V, sys.lam
    K = phi.shape[0]
    if k == 0:  # Lambda0: no flowed-out fluctuation
        q2 = np.sum(phi * phi, axis=1)
        return -lam / 24.0 * np.sum(q2 * q2, axis=-1), lam / 6.0 * q2[:, None, :] * phi
    m = _inner_n(n, k)
    if V == 1:
        dl = float(Dl[0, 0])
        x, w = _gh(m)
        t, wt = roots_genlaguerre(m, 0.5 * (N - 1) - 1.0)
        # |chi_perp|^2 importance-scaled like the outer radii (:func:`_on_shrink`)
        sh = _on_shrink(lam, dl, N - 1)
        lwt = np.log(wt) - gammaln(0.5 * (N - 1)) + (N - 1) * math.log(sh) + t * (1.0 - sh * sh)
        s1 = _on_shrink(lam, dl, 1)  # chi_1, the same way (one dimension)
        lwx = np.log(w) + math.log(s1) + 0.5 * x * x * (1.0 - s1 * s1)
        c1, rho = (g.ravel() for g in np.meshgrid(math.sqrt(dl) * s1 * x, 2.0 * dl * sh * sh * t, indexing="ij"))
        lwc = (lwx[:, None] + lwt[None, :]).ravel()
        r = phi[:, 0, 0]
        lin = r[:, None] + c1[None, :]
        q2 = lin * lin + rho[None, :]
        ex = lwc[None, :] - lam / 24.0 * q2 * q2
        lw = logsumexp(ex, axis=1)
        q = np.exp(ex - lw[:, None])
        g = np.zeros_like(phi)
        g[:, 0, 0] = lam / 6.0 * np.sum(q * q2 * lin, axis=1)
        return lw, g
    chi, lwc = _gauss_nodes(np.kron(np.eye(N), Dl), m, _on_shrink(lam, float(np.max(np.linalg.eigvalsh(Dl))), k))
    chi = chi.reshape((-1, N, V))
    lw = np.empty(K)
    g = np.empty_like(phi)
    chunk = max(1, 2_000_000 // max(1, chi.shape[0] * N * V))
    for s in range(0, K, chunk):
        psi = phi[s : s + chunk, None] + chi[None]
        q2 = np.sum(psi * psi, axis=2)  # (k, J, V)
        ex = lwc[None, :] - lam / 24.0 * np.sum(q2 * q2, axis=-1)
        lws = logsumexp(ex, axis=1)
        q = np.exp(ex - lws[:, None])
        lw[s : s + chunk] = lws
        g[s : s + chunk] = lam / 6.0 * np.einsum("kj,kjv,kjav->kav", q, q2, psi)
    return lw, g


def _on_quadrature(sys: ModeFlow, Lambda, n):
    """``M_Lambda`` and the expectations of :func:`_observables` for ``N > 1`` (one or two sites).

    The law and the formulas are those of the one-component quadrature with the field
    ``phi_{a,x}``: ``Shat = 1/2 sum_a phi_a G^-1 phi_a``, ``V_0 = (lam/4!) sum_x (phi_a phi_a)^2``;
    ``a, c, e, <phi^2>`` and ``G_p`` are summed over the components.  Every integrand is O(N)
    invariant, so the outer integral runs over the orbits (:func:`_on_phi_nodes`: 1 or 3 real
    variables at any N) and the inner one over ``chi`` (:func:`_on_inner`).
    """
    from scipy.special import logsumexp

    N, V = sys.N, sys.V
    kt, d, dl = sys.lattice_arrays(Lambda)
    if not (np.all(np.isfinite(kt)) and np.all(kt > 0)):
        raise InputError.bad("kt(Lambda)", kt.tolist(), "finite and > 0 at every mode")
    if not (np.all(np.isfinite(dl)) and np.all(dl >= -1e-12 * np.max(kt))):
        raise InputError.bad("kt(Lambda0) - kt(Lambda)", dl.tolist(), "finite and >= 0 at every mode")
    k = on_inner_dims(sys, Lambda)
    if k > ON_MAX_INNER:
        raise InputError.bad(
            "--N/--lattice",
            f"N={N}, {V} sites",
            f"at most {ON_MAX_INNER} real variables (N times the flowing modes) in the inner "
            f"quadrature; at Lambda={plain(Lambda)} there are {k}",
            "use --method mc",
        )
    Dl = sys.position_matrix(np.clip(dl, 0.0, None))
    # the quadratic forms in orthonormal mode coordinates (G, Cdot diagonal there): no matrix
    # inversion, and a Kt_pi far below Kt_0 loses nothing to cancellation
    T = np.ones((1, 1)) if V == 1 else np.array([[1.0, 1.0], [1.0, -1.0]]) / math.sqrt(2.0)
    shrink = _on_shrink(sys.lam, float(np.max(kt)), N)
    phi, phim, log_wphi = _on_phi_nodes(sys, kt, n, shrink)
    logw, g = _on_inner(sys, phi, Dl, n, k)
    a_log = log_wphi + logw
    log_ew = float(logsumexp(a_log))
    p = np.exp(a_log - log_ew)
    gm = g @ T  # (K, N, modes)
    u = phim / kt  # G^-1 phi_a per component, in modes
    shat = 0.5 * np.einsum("kam,kam->k", u, phim)
    a = np.einsum("kam,m,kam->k", u, d, u)
    c = np.einsum("kam,m,kam->k", gm, d, u)
    e = np.einsum("kam,m,kam->k", gm, d, gm)
    phip = np.fft.fft(phi, axis=2)
    log_z = 0.5 * N * V * math.log(2 * math.pi) + 0.5 * N * float(np.sum(np.log(kt))) + log_ew
    return {
        "M": float(p @ (shat + logw)) - log_z,
        "a": float(p @ a),
        "c": float(p @ c),
        "e": float(p @ e),
        "phi2": float(p @ np.mean(np.sum(phi**2, axis=1), axis=1)),
        "G_p": (p @ np.sum(np.abs(phip) ** 2, axis=1)) / V,
    }
