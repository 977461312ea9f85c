"""Exact expectations on tiny lattices (V <= 3) by direct numerical integration.

The reference the Monte Carlo is tested against at any coupling (docs/lattice.md, "on tiny
lattices MC agrees with direct numerical integration at any lambda").  The integral over
:math:`\\phi\\in\\mathbb R^V` of :math:`O(\\phi)e^{-S(\\phi)}` is done with the trapezoidal
rule on a uniform tensor grid over a box :math:`[-a,a]^V`.  For an integrand that is entire
and decays like a Gaussian the trapezoidal rule converges geometrically,
error :math:`\\sim e^{-2\\pi^2\\sigma^2/h^2}` for width :math:`\\sigma` and step :math:`h`
(Trefethen & Weideman, SIAM Review 56 (2014) 385), so modest grids give ~1e-12; the tests
compare it with ``mpmath.quad`` (V = 1) and ``scipy.integrate.nquad`` (V = 2).
The observables are the same estimators as the Monte Carlo's
(:func:`ergsym.lattice.observables.measure`), evaluated on the grid.

O(N) models (``theory.N > 1``, V <= 2).  Every observable is O(N)-invariant, so the
integral over the ``N V`` components reduces to radial and angular variables: on one site
``phi = r e_1`` with the weight ``r^{N-1}``; on two sites ``phi_1 = r_1 e_1``,
``phi_2 = r_2 (cos t e_1 + sin t e_2)`` with the weight ``r_1^{N-1} r_2^{N-1} sin^{N-2} t``,
``t in [0, pi]``.  The integrands are analytic on the closed intervals, so Gauss-Legendre
rules converge geometrically; the estimators are evaluated on the representative fields.

Three sites (periodic; every pair of sites is coupled).  Three vectors ``w_0, w_1, w_2`` of
``R^N`` are written ``w_0 = r_0 e_1``, ``w_1 = r_1 (u e_1 + sqrt(1-u^2) e_2)``,
``w_2 = r_2 (v e_1 + sqrt(1-v^2)(t e_2 + sqrt(1-t^2) e_3))`` with the weight
``(r_0 r_1 r_2)^{N-1} (1-u^2)^{(N-3)/2} (1-v^2)^{(N-3)/2} (1-t^2)^{(N-4)/2}`` (Gauss-Jacobi
rules, ``scipy.special.roots_jacobi``; for N = 2 ``t`` is the two points ``t = +-1``, ``e_3``
absent).  The radial rules are Gauss rules for ``r^{N-1} e^{-r^2/(2s) - q r^4}``, built by the
Stieltjes (Lanczos) procedure on a fine Gauss-Legendre discretization, so the Gaussian factor
and the diagonal quartic are integrated by the rule itself.  Two choices of the vectors:

* *modes*: ``w_0`` the zero mode and ``w_1, w_2`` an orthonormal pair of the nonzero modes
  (``s = Kt_0`` and ``Kt_1``): the Gaussian part is diagonal, the free theory is exact with any
  rule and ``Kt_0 / Kt_1`` may be anything (cutoff propagators give ``10^9``); what is left
  to the rules is the quartic's mixing of the modes;
* *sites*: ``w_x = phi_x`` (``s = 1/M_00``, ``q = lam/24``): the quartic is diagonal, the
  rules carry ``exp(-M_01 sum_{x<y} phi_x.phi_y)``; better at strong coupling.

The representation whose left-over factor is weaker is used (:func:`_three_site_choice`).  The
result is computed with ``n`` radial and ``n - 2`` angular points and again with ``n - 2``
and ``n - 4``; ``"quad_error"`` is the largest difference of the two over the scalar
observables, relative to the value (a bound dominated by the coarser rule: the finer one is
typically far better).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..errors import ConvergenceError, InputError
from .observables import SCALAR_OBSERVABLES, ObservableDict, measure, measure_gp
from .theory import LatticeOps, LatticeTheory

#: Radial points of the three-site O(N) rule by default (angles: two fewer); measured
#: accuracy in tests/test_on_quadrature3.py and docs/lattice.md.
DEFAULT_POINTS_3 = 10
#: Largest estimated relative error the three-site O(N) quadrature returns (else ConvergenceError).
MAX_QUAD_ERROR_3 = 1e-4

__all__ = ["exact_expectations"]


def exact_expectations(theory: LatticeTheory, n_points: int | None = None, chunk: int = 200_000) -> dict:
    """Exact ``<O>`` of every scalar observable and ``G_p`` on a lattice of V <= 3 sites.

    Parameters
    ----------
    theory : LatticeTheory
        Theory with ``theory.volume <= 3``.
    n_points : int, optional
        Grid points per axis (default: chosen so that the step is 1/3 of the narrowest
        width and the box 9 widths of the broadest; at most 121 for V = 3).  For ``N > 1``:
        Gauss points per radial (and angular) variable; on three sites the radial points
        (default :data:`DEFAULT_POINTS_3`, at least 8; the angles get two fewer).
    chunk : int
        Grid points evaluated at once (memory bound).

    Returns
    -------
    dict
        ``name -> float`` for :data:`~ergsym.lattice.observables.SCALAR_OBSERVABLES`,
        plus ``"Gp"`` (array in ``fftn`` layout) and ``"n_points"``; for ``N > 1`` on three
        sites also ``"quad_error"`` (the estimated relative error, module docstring) and
        ``"representation"`` (``"modes"`` or ``"sites"``).

    Raises
    ------
    InputError
        ``V > 3`` (a tensor grid in more variables is too expensive; use the series or MC).
    ConvergenceError
        Three sites, ``N > 1``: the estimated error exceeds :data:`MAX_QUAD_ERROR_3` (large
        ``N`` at strong coupling needs more points: pass a larger ``n_points``).
    """
    V = theory.volume
    if theory.N > 1:
        return _exact_on(theory, n_points)
    if V > 3:
        raise InputError.bad("theory.volume", V, "<= 3 for direct integration")
    lam = theory.lam
    kt = theory.kt_p
    # widths: broadest free direction sqrt(max Kt); narrowest: free or quartic confinement
    s_max = math.sqrt(float(kt.max()))
    s_min = math.sqrt(float(kt.min()))
    if lam > 0:
        s_min = min(s_min, (24.0 / lam) ** 0.25 / 2.0)
    a = 9.0 * s_max
    if n_points is None:
        n_points = int(math.ceil(2 * a / (s_min / 3.0))) + 1
        n_points = min(max(n_points, 41), {1: 20001, 2: 1201, 3: 121}[V])
    x = np.linspace(-a, a, n_points)
    ops = LatticeOps(theory, "numpy")
    grids = np.meshgrid(*([x] * V), indexing="ij")
    pts = np.stack([g.ravel() for g in grids], axis=-1).reshape((-1,) + theory.shape)
    s_min_val = None
    acc = {n: 0.0 for n in SCALAR_OBSERVABLES}
    acc_gp = np.zeros(theory.shape)
    # trapezoid weights: the end points carry weight 1/2 but the integrand is ~e^-40 there
    s_all = []
    for i in range(0, pts.shape[0], chunk):
        s_all.append(ops.action(pts[i : i + chunk]))
    s_all = np.concatenate(s_all)
    s_min_val = float(s_all.min())
    wts = np.exp(-(s_all - s_min_val))
    z = float(wts.sum())
    for i in range(0, pts.shape[0], chunk):
        blk = pts[i : i + chunk]
        wb = wts[i : i + chunk]
        obs = measure(ops, blk)
        for n in SCALAR_OBSERVABLES:
            acc[n] += float(np.dot(wb, obs[n]))
        acc_gp += np.tensordot(wb, measure_gp(ops, blk), axes=(0, 0))
    out = ObservableDict({n: v / z for n, v in acc.items()})
    out["Gp"] = acc_gp / z
    out["n_points"] = n_points
    return out


@functools.lru_cache(maxsize=8)
def _leggauss(n: int) -> tuple:
    """Gauss--Legendre nodes and weights, computed once per ``n`` (an eigenvalue problem of size
    ``n``: 0.2 s for 400 nodes, the whole cost of a one-site integral); read-only arrays."""
    xg, wg = np.polynomial.legendre.leggauss(n)
    xg.flags.writeable = wg.flags.writeable = False
    return xg, wg


def _exact_on(theory: LatticeTheory, n_points: int | None = None) -> dict:
    """:func:`exact_expectations` for ``N > 1`` on one to three sites (module docstring)."""
    V, N = theory.volume, theory.N
    if V > 3:
        raise InputError.bad("theory.volume", V, "<= 3 for direct integration of an O(N) model", "use the series or MC")
    if V == 3:
        return _exact_on3(theory, n_points)
    kt = theory.kt_p
    s_max = math.sqrt(float(kt.max()))
    # radial box: the density r^(N-1+6) e^{-r^2/(2 Kt)} (the largest moment the estimators use)
    # is below e^-40 of its peak beyond ~ sqrt(2 Kt (40 + N)) + a few widths
    a = s_max * (math.sqrt(2.0 * (46.0 + N)) + 3.0)
    if n_points is None:
        n_points = 400 if V == 1 else 120
    xg, wg = _leggauss(n_points)
    r = 0.5 * a * (xg + 1.0)
    wr = 0.5 * a * wg
    ops = LatticeOps(theory, "numpy")
    if V == 1:
        pts = np.zeros((n_points, N, 1))
        pts[:, 0, 0] = r
        logw = (N - 1) * np.log(r)
        wq = wr
    else:
        t = 0.5 * math.pi * (xg + 1.0)
        wt = 0.5 * math.pi * wg
        r1, r2, tt = np.meshgrid(r, r, t, indexing="ij")
        r1, r2, tt = r1.ravel(), r2.ravel(), tt.ravel()
        pts = np.zeros((r1.size, N, 2))
        pts[:, 0, 0] = r1
        pts[:, 0, 1] = r2 * np.cos(tt)
        pts[:, 1, 1] = r2 * np.sin(tt)
        logw = (N - 1) * (np.log(r1) + np.log(r2)) + (N - 2) * np.log(np.sin(tt))
        wq = np.einsum("i,j,k->ijk", wr, wr, wt).ravel()
    s_all = ops.action(pts)
    e = logw - s_all
    wts = wq * np.exp(e - e.max())
    z = float(wts.sum())
    obs = measure(ops, pts)
    out = ObservableDict({n: float(np.dot(wts, obs[n])) / z for n in SCALAR_OBSERVABLES})
    out["Gp"] = np.tensordot(wts, measure_gp(ops, pts), axes=(0, 0)) / z
    out["n_points"] = n_points
    return out


# --- three sites ---------------------------------------------------------------------------

#: Orthonormal real basis of R^3 (sites): the zero mode and a pair spanning the nonzero modes.
_MODES3 = np.array([[1.0, 1.0, 1.0], [2.0, -1.0, -1.0], [0.0, 1.0, -1.0]]) / np.sqrt([[3.0], [6.0], [2.0]])


def _radial_rule(N: int, s: float, q: float, n: int, n_fine: int = 800) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and log-weights of the ``n``-point Gauss rule for ``r^(N-1) exp(-r^2/(2s) - q r^4)``
    on ``[0, inf)`` (up to one constant factor).

    Discretized Stieltjes procedure: Lanczos, with full reorthogonalization, on the
    ``n_fine``-point Gauss-Legendre discretization of the weight over ``[0, a]``, ``a`` where
    ``r^(N+7)`` times the weight has fallen by ``e^-60`` from its peak.
    """
    from scipy.special import roots_legendre  # noqa: PLC0415  (O(n); numpy's leggauss is an n^3 eigensolve)

    rr = math.sqrt(s) * np.linspace(1e-9, 40.0, 40001)
    g = (N + 7) * np.log(rr) - rr * rr / (2.0 * s) - q * rr**4
    a = float(rr[np.nonzero(g > g.max() - 60.0)[0][-1]])
    xg, wg = roots_legendre(n_fine)
    x = 0.5 * (xg + 1.0)  # the rule is built on [0, 1]: r = a x
    r = a * x
    lw = np.log(0.5 * wg) + (N - 1) * np.log(r) - r * r / (2.0 * s) - q * r**4
    w = np.exp(lw - lw.max())
    qv = np.zeros((n, n_fine))
    qv[0] = np.sqrt(w) / math.sqrt(float(w.sum()))
    alpha, beta = np.zeros(n), np.zeros(max(n - 1, 0))
    for k in range(n):
        v = x * qv[k] - (beta[k - 1] * qv[k - 1] if k else 0.0)
        alpha[k] = qv[k] @ v
        v = v - alpha[k] * qv[k]
        for _ in range(2):  # twice is enough (Kahan)
            v -= qv[: k + 1].T @ (qv[: k + 1] @ v)
        if k < n - 1:
            beta[k] = np.linalg.norm(v)
            qv[k + 1] = v / beta[k]
    nodes, vecs = np.linalg.eigh(np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1))
    return a * nodes, 2.0 * np.log(np.abs(vecs[0]))


def _three_site_choice(theory: LatticeTheory) -> str:
    """``"sites"`` or ``"modes"``: the representation whose factor left to the rules is weaker.

    Rough sizes of the exponents: sites, ``|M_01| <r^2>`` (``<r^2>`` one site's ``phi.phi``,
    free or confined by the quartic); modes, ``(lam/24) <R^2> <rho^2>`` (the zero mode's and a
    nonzero mode's ``|.|^2``).
    """
    N, lam = theory.N, theory.lam
    kt = theory.kt_p.ravel()
    m = theory.position_kernel("M").ravel()

    def typ(width2, quartic):  # <r^2>: free, or confined by q r^4
        return N * width2 if quartic == 0 else min(N * width2, math.sqrt(N / quartic))

    sites = abs(float(m[1])) * typ(theory.g00, lam / 24.0)
    modes = lam / 24.0 * typ(float(kt[0]), lam / 72.0) * typ(float(kt[1]), lam / 48.0)
    return "sites" if sites < modes else "modes"


def _three_site_sum(theory: LatticeTheory, ops: LatticeOps, how: str, n_r: int, n_a: int):
    """Quadrature sums of every scalar observable and ``G_p`` (``n_r`` radial, ``n_a`` angular points)."""
    from scipy.special import roots_jacobi  # noqa: PLC0415

    N, lam = theory.N, theory.lam
    chunk = max(2_000, 1_000_000 // N)  # configurations at once: ~24 MB per field array
    kt = theory.kt_p.ravel()
    if how == "modes":
        rules = [_radial_rule(N, float(kt[0]), lam / 72.0, n_r)] + [_radial_rule(N, float(kt[1]), lam / 48.0, n_r)] * 2
        to_sites = _MODES3
        # the diagonal quartic already in the rules: sum_x (E_kx)^4 = 1/3 (zero mode), 1/2 (nonzero)
        diag4 = np.array([1.0 / 3.0, 0.5, 0.5])
        m01 = 0.0
    else:
        m = theory.position_kernel("M").ravel()
        rules = [_radial_rule(N, 1.0 / float(m[0]), lam / 24.0, n_r)] * 3
        to_sites = np.eye(3)
        diag4 = np.ones(3)
        m01 = float(m[1])
    al = 0.5 * (N - 3)
    u, wu = roots_jacobi(n_a, al, al)
    if N == 2:
        t, wt = np.array([-1.0, 1.0]), np.array([1.0, 1.0])
    else:
        t, wt = roots_jacobi(n_a, 0.5 * (N - 4), 0.5 * (N - 4))
    idx = [i.ravel() for i in np.meshgrid(*(np.arange(k) for k in (n_r, n_r, n_r, n_a, n_a, t.size)), indexing="ij")]
    logw = (
        rules[0][1][idx[0]]
        + rules[1][1][idx[1]]
        + rules[2][1][idx[2]]
        + np.log(wu)[idx[3]]
        + np.log(wu)[idx[4]]
        + np.log(wt)[idx[5]]
    )
    acc = dict.fromkeys(SCALAR_OBSERVABLES, 0.0)
    acc_gp = np.zeros(theory.shape)
    z, ref = 0.0, None
    shape = (N,) + theory.shape
    for i in range(0, logw.size, chunk):
        sl = slice(i, i + chunk)
        n = logw[sl].size
        r0, r1, r2 = (rules[k][0][idx[k][sl]] for k in range(3))
        uu, vv, tt = u[idx[3][sl]], u[idx[4][sl]], t[idx[5][sl]]
        su, sv = np.sqrt(1.0 - uu * uu), np.sqrt(1.0 - vv * vv)
        w3 = np.zeros((n, N, 3))  # (configuration, component, vector)
        w3[:, 0, 0] = r0
        w3[:, 0, 1], w3[:, 1, 1] = r1 * uu, r1 * su
        w3[:, 0, 2], w3[:, 1, 2] = r2 * vv, r2 * sv * tt
        if N > 2:
            w3[:, 2, 2] = r2 * sv * np.sqrt(np.maximum(1.0 - tt * tt, 0.0))
        phi = w3 @ to_sites  # (configuration, component, site)
        p2 = np.sum(phi * phi, axis=1)
        rad4 = np.stack([r0, r1, r2], axis=1) ** 4 @ diag4
        left = lam / 24.0 * (np.sum(p2 * p2, axis=1) - rad4)  # the quartic not in the rules
        if m01:
            left = left + m01 * (
                np.sum(phi[:, :, 0] * phi[:, :, 1], axis=1)
                + np.sum(phi[:, :, 0] * phi[:, :, 2], axis=1)
                + np.sum(phi[:, :, 1] * phi[:, :, 2], axis=1)
            )
        e = logw[sl] - left
        if ref is None:
            ref = float(e.max())
        wts = np.exp(e - ref)
        blk = phi.reshape((n,) + shape)
        obs = measure(ops, blk)
        for k in SCALAR_OBSERVABLES:
            acc[k] += float(np.dot(wts, obs[k]))
        acc_gp += np.tensordot(wts, measure_gp(ops, blk), axes=(0, 0))
        z += float(wts.sum())
    out = ObservableDict({k: v / z for k, v in acc.items()})
    out["Gp"] = acc_gp / z
    return out


def _exact_on3(theory: LatticeTheory, n_points: int | None = None, how: str | None = None) -> dict:
    """:func:`exact_expectations` for ``N > 1`` on three sites (module docstring)."""
    n = DEFAULT_POINTS_3 if n_points is None else int(n_points)
    if n < 8:
        raise InputError.bad("n_points", n_points, ">= 8 for three sites (radial points; angles use n - 2)")
    how = how or _three_site_choice(theory)
    ops = LatticeOps(theory, "numpy")
    fine = _three_site_sum(theory, ops, how, n, n - 2)
    coarse = _three_site_sum(theory, ops, how, n - 2, n - 4)
    floor = 1e-12 * max(abs(fine[k]) for k in SCALAR_OBSERVABLES) + 1e-300  # observables that vanish
    scale = {k: max(abs(fine[k]), floor) for k in SCALAR_OBSERVABLES}
    fine["quad_error"] = max(abs(fine[k] - coarse[k]) / scale[k] for k in SCALAR_OBSERVABLES)
    if fine["quad_error"] > MAX_QUAD_ERROR_3:
        raise ConvergenceError(
            f"exact_expectations: the three-site O(N) quadrature (N = {theory.N}, lam = {theory.lam:g}, "
            f"n_points = {n}) has an estimated relative error {fine['quad_error']:.1e} > {MAX_QUAD_ERROR_3:g}; "
            f"pass a larger n_points (e.g. {n + 4}) or use the Monte Carlo",
            estimate=fine["phi2"],
            error=fine["quad_error"],
        )
    fine["n_points"] = n
    fine["representation"] = how
    return fine
