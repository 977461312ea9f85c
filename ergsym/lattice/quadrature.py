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
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..errors import InputError
from .observables import SCALAR_OBSERVABLES, ObservableDict, measure, measure_gp
from .theory import LatticeOps, LatticeTheory

__all__ = ["exact_expectations"]


def exact_expectations(theory: LatticeTheory, n_points: int | None = None, chunk: int = 200_000) -> dict:
    """Exact ``<O>`` of every scalar observable and ``G_p`` on a lattice of V <= 3 sites.

    Parameters
    ----------
    theory : LatticeTheory
        Theory with ``theory.volume <= 3``.
    n_points : int, optional
        Grid points per axis (default: chosen so that the step is 1/3 of the narrowest
        width and the box 9 widths of the broadest; at most 121 for V = 3).
    chunk : int
        Grid points evaluated at once (memory bound).

    Returns
    -------
    dict
        ``name -> float`` for :data:`~ergsym.lattice.observables.SCALAR_OBSERVABLES`,
        plus ``"Gp"`` (array in ``fftn`` layout) and ``"n_points"``.

    Raises
    ------
    InputError
        ``V > 3`` (a tensor grid in more variables is too expensive; use the series or MC).
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
    """:func:`exact_expectations` for ``N > 1`` on one or two sites (module docstring)."""
    V, N = theory.volume, theory.N
    if V > 2:
        raise InputError.bad("theory.volume", V, "<= 2 for direct integration of an O(N) model", "use the series or MC")
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
