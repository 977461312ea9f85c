"""Chebyshev collocation on [0, R] in rho: differentiation matrices, interpolation, Newton, spectra."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .equations import Equation

__all__ = ["Grid", "newton", "even_spectrum", "odd_spectrum", "interpolate"]


class Grid:
    """Chebyshev-Lobatto points mapped to [0, R] and the first and second differentiation
    matrices (Trefethen, Spectral Methods in MATLAB, cheb.m).

    With ``t = (1 - cos(pi j/n))/2`` in [0, 1]: ``rho = R t`` (``beta = 0``) or the exponential
    map ``rho = R (exp(beta t) - 1)/(exp(beta) - 1)``, which moves points toward small rho
    (where the fixed point has its structure when R must be long: d near 4, or large N)."""

    def __init__(self, n: int, R: float, beta: float = 0.0):
        self.n, self.R, self.beta = int(n), float(R), float(beta)
        j = np.arange(n + 1)
        x = np.cos(np.pi * j / n)
        c = np.ones(n + 1)
        c[0] = c[-1] = 2.0
        c *= (-1.0) ** j
        X = x[:, None] - x[None, :]
        D = np.outer(c, 1.0 / c) / (X + np.eye(n + 1))
        D -= np.diag(D.sum(axis=1))
        self.x = x
        t = (1.0 - x) / 2.0
        if beta == 0.0:
            self.rho = R * t
            drho = np.full_like(t, R)
        else:
            self.rho = R * np.expm1(beta * t) / np.expm1(beta)
            drho = R * beta * np.exp(beta * t) / np.expm1(beta)
        self.rho[0] = 0.0
        self.rho[-1] = R
        self.D1 = (-2.0 / drho)[:, None] * D
        self.D2 = self.D1 @ self.D1
        w = np.ones(n + 1)
        w[0] = w[-1] = 0.5
        self._bary = w * (-1.0) ** j

    def chebyshev_coefficients(self, values: np.ndarray | Sequence[float]) -> np.ndarray:
        """Chebyshev coefficients of the interpolant (for the resolution check)."""
        n = self.n
        v = np.asarray(values, float)
        ext = np.concatenate([v, v[-2:0:-1]])
        c = np.real(np.fft.fft(ext)) / n
        c = c[: n + 1]
        c[0] /= 2.0
        c[-1] /= 2.0
        return c


def interpolate(grid: Grid, values: np.ndarray | Sequence[float], rho: np.ndarray | Sequence[float]) -> np.ndarray:
    """Barycentric interpolation of grid values to ``rho`` (inside [0, R])."""
    r = np.asarray(rho, float) / grid.R
    t = r if grid.beta == 0.0 else np.log1p(r * np.expm1(grid.beta)) / grid.beta
    xq = 1.0 - 2.0 * t
    diff = xq[:, None] - grid.x[None, :]
    exact = diff == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        t = grid._bary[None, :] / diff
        out = (t @ np.asarray(values, float)) / t.sum(axis=1)
    rows, cols = np.nonzero(exact)
    out[rows] = np.asarray(values, float)[cols]
    return out


def newton(
    eq: Equation, grid: Grid, u0: np.ndarray, d: float, eps: float, *, max_iter: int = 40, tol: float = 1e-13
) -> tuple[np.ndarray, float, int]:
    """Newton's method for the collocated fixed-point equation plus the boundary row at R.

    Returns ``(u, residual, iterations)``; ``residual`` is the max |F| over the collocation points
    (NaN when an iterate left the admissible region)."""
    u = np.array(u0, float)
    row, rhs = eq.bc_row(grid.rho, grid.D1, grid.D2, d)
    scale = max(1.0, float(np.max(np.abs(u))))
    it = 0
    last = np.inf
    for it in range(1, max_iter + 1):
        with np.errstate(all="ignore"):
            F, J = eq.residual(u, grid.rho, grid.D1, grid.D2, d, eps)
        F[-1] = row @ u - rhs
        J[-1] = row
        if not np.all(np.isfinite(F)) or not np.all(np.isfinite(J)):
            return u, float("nan"), it
        try:
            du = np.linalg.solve(J, -F)
        except np.linalg.LinAlgError:
            return u, float("nan"), it
        # damp steps that would leave the admissible region
        lam = 1.0
        for _ in range(30):
            trial = u + lam * du
            if eq.admissible(trial, grid.rho, grid.D1, grid.D2):
                break
            lam /= 2.0
        else:
            return u, float("nan"), it
        u = trial
        step = float(np.max(np.abs(lam * du)))
        # converged, or in the rounding regime (the step stopped shrinking quadratically)
        if lam == 1.0 and (step < tol * scale or (step < 1e-9 * scale and step > 0.5 * last)):
            break
        last = step
    with np.errstate(all="ignore"):
        F, _ = eq.residual(u, grid.rho, grid.D1, grid.D2, d, eps)
    res = float(np.max(np.abs(F[:-1]))) if np.all(np.isfinite(F)) else float("nan")
    return u, res, it


def _reduced(M, row):
    """Eliminate the last unknown with the homogeneous boundary row ``row . v = 0``: the standard
    eigenproblem of size n (numpy's balanced eigensolver is far more accurate here than the
    generalised QZ with a singular B)."""
    c = -row[:-1] / row[-1]
    return M[:-1, :-1] + np.outer(M[:-1, -1], c)


def _sorted_y(M):
    """RG eigenvalues y (perturbations grow as k^-y toward the IR) of the linear operator M,
    i.e. y = -eig(M), sorted by decreasing real part."""
    w = np.linalg.eigvals(M)
    y = -w
    order = np.argsort(-y.real, kind="stable")
    return y[order]


def even_spectrum(eq: Equation, grid: Grid, u: np.ndarray, d: float, eps: float, *, bc: bool = True) -> np.ndarray:
    """Leading even eigenvalues.  ``bc=False`` (Gaussian point only): no boundary row, the
    operator maps polynomials of degree <= n to themselves and is represented exactly."""
    _, J = eq.residual(u, grid.rho, grid.D1, grid.D2, d, eps)
    if not bc:
        return _sorted_y(J)
    row, _ = eq.bc_row(grid.rho, grid.D1, grid.D2, d)
    return _sorted_y(_reduced(J, row))


def odd_spectrum(eq: Equation, grid: Grid, u: np.ndarray, d: float, eps: float, *, bc: bool = True) -> np.ndarray:
    """Leading odd eigenvalues (``bc`` as in :func:`even_spectrum`)."""
    L = eq.odd_operator(u, grid.rho, grid.D1, grid.D2, d, eps)
    if not bc:
        return _sorted_y(L)
    row, _ = eq.bc_row(grid.rho, grid.D1, grid.D2, d)
    return _sorted_y(_reduced(L, row))
