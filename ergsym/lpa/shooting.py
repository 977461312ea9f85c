"""Shooting from rho = 0 for the Wetterich LPA: locate every fixed point in a range of u'(0).

A solution regular at rho = 0 is fixed by ``sigma = u'(0)`` (then ``u(0) = 1/(d(1+sigma))``).
For a generic sigma it ends at finite rho, in one of two ways: either ``1/(1+u'+2 rho u'')``
reaches 0 (u'' -> +infinity, "up") or the potential turns over (u'' < 0, "down", until
1 + u' or 1 + u' + 2 rho u'' reaches 0).  A fixed point is a sigma where the behaviour changes
from one to the other: there the solution continues to rho = infinity.  All sigmas are
integrated at once (a vectorised fourth-order Runge-Kutta), and each sign change is narrowed by
repeated multisection.  The result only seeds the collocation solver (collocation.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["scan", "refine", "profile"]


def _start(sig, d, eps, rs):
    u0 = 1.0 / (d * (1.0 + sig))
    f1 = -2.0 * sig * (1.0 + sig) ** 2 / (1.0 + 2.0 * eps)  # u''(0) from the derivative equation
    return u0 + sig * rs + 0.5 * f1 * rs**2, sig + f1 * rs


def _accel(rho, u, up, d, eps):
    Q = d * u - (d - 2.0) * rho * up - (1.0 - eps) / (1.0 + up)
    with np.errstate(all="ignore"):
        upp = (eps / Q - 1.0 - up) / (2.0 * rho)
    return upp, Q


def _integrate(sig, d, eps, rho_max, nsteps, keep=False):
    """Integrate every sigma; returns the class (+1 up, -1 down) of each and, with ``keep``,
    the grid and the values of u, u' along it (NaN after a trajectory stopped)."""
    # near rho = 0 the regular singular point makes the equation stiff on the scale eps*rho/d:
    # geometric steps there, then quadratically spaced ones
    rs = 1e-4 * rho_max
    ratio = 1.0 + 0.5 * max(eps, 1e-3) / d
    geo = rs * ratio ** np.arange(int(np.log(0.05 * rho_max / rs) / np.log(ratio)) + 1)
    quad = geo[-1] + (rho_max - geo[-1]) * np.linspace(0.0, 1.0, nsteps + 1)[1:] ** 2
    grid = np.concatenate([geo, quad])
    nsteps = len(grid) - 1
    u, up = _start(sig, d, eps, rs)
    state = np.zeros(sig.shape, int)
    us = np.full((nsteps + 1,) + sig.shape, np.nan) if keep else None
    ups = np.full_like(us, np.nan) if keep else None
    alive = np.ones(sig.shape, bool)

    def f(r, u, up):
        a, Q = _accel(r, u, up, d, eps)
        return up, a, Q

    with np.errstate(all="ignore"):
        for i in range(nsteps):
            r, h = grid[i], grid[i + 1] - grid[i]
            k1u, k1p, Q = f(r, u, up)
            up_end = (Q <= 0) | (k1p > 1e12)
            dn_end = (1.0 + up <= 0) | (1.0 + up + 2 * r * k1p <= 0) | ~np.isfinite(k1p)
            stop = alive & (up_end | dn_end)
            state[stop & up_end] = 1
            state[stop & ~up_end] = -1
            alive &= ~stop
            if keep:
                us[i] = np.where(alive, u, np.nan)
                ups[i] = np.where(alive, up, np.nan)
            if not alive.any():
                break
            k2u, k2p, Q2 = f(r + h / 2, u + h / 2 * k1u, up + h / 2 * k1p)
            k3u, k3p, Q3 = f(r + h / 2, u + h / 2 * k2u, up + h / 2 * k2p)
            k4u, k4p, Q4 = f(r + h, u + h * k3u, up + h * k3p)
            # a stage beyond the pole 1/(1+u'+2 rho u'') -> 0 ends the trajectory as "up"
            over = alive & ((Q2 <= 0) | (Q3 <= 0) | (Q4 <= 0))
            state[over] = 1
            alive &= ~over
            u = np.where(alive, u + h / 6 * (k1u + 2 * k2u + 2 * k3u + k4u), u)
            up = np.where(alive, up + h / 6 * (k1p + 2 * k2p + 2 * k3p + k4p), up)
        # survivors: classified by the sign of u'' and u' at rho_max
        upp, _ = _accel(grid[-1], u, up, d, eps)
        good = alive & (upp > 0) & (up > 0)
        state[alive & good] = 1
        state[alive & ~good] = -1
        if keep:
            us[-1] = np.where(alive, u, np.nan)
            ups[-1] = np.where(alive, up, np.nan)
    return state, grid, us, ups


def scan_range(d: float) -> float:
    """The rho range of the scan (the fixed points' structure lies within a few 1/(d-2))."""
    return 6.0 / (d - 2.0)


def scan(d: float, eps: float, *, npts: int = 160, nsteps: int = 600) -> list[tuple[float, float]]:
    """Brackets ``[(lo, hi), ...]`` of u'(0) (rescaled) in (-1, 0) where the shooting class
    changes: one per non-Gaussian fixed point found.  The grid is uniform plus logarithmic near
    0 (where fixed points born from the Gaussian one near d = 2k/(k-1) start)."""
    sig = np.unique(np.concatenate([np.linspace(-0.999, -0.001, npts), -np.logspace(-6, -1, npts // 3)]))
    st, *_ = _integrate(sig, d, eps, scan_range(d), nsteps)
    ch = np.nonzero(np.diff(st) != 0)[0]
    return [(float(sig[i]), float(sig[i + 1])) for i in ch]


def refine(
    brackets: Sequence[tuple[float, float]], d: float, eps: float, *, passes: int = 2, width: int = 8, nsteps: int = 600
) -> list[tuple[float, ...]]:
    """Narrow each bracket by multisection (all brackets at once)."""
    br = np.array(brackets, float).reshape(-1, 2)
    if len(br) == 0:
        return []
    for _ in range(passes):
        t = np.linspace(0.0, 1.0, width + 1)
        sig = br[:, :1] + (br[:, 1:] - br[:, :1]) * t[None, :]
        st, *_ = _integrate(sig.ravel(), d, eps, scan_range(d), nsteps)
        st = st.reshape(sig.shape)
        new = []
        for k in range(len(br)):
            s = st[k]
            idx = np.nonzero(np.diff(s) != 0)[0]
            i = int(idx[0]) if len(idx) else 0
            new.append((sig[k, i], sig[k, i + 1]))
        br = np.array(new)
    return [tuple(map(float, b)) for b in br]


def profile(
    bracket: tuple[float, float], d: float, eps: float, *, nsteps: int = 1500
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The shot solution at the bracket's midpoint on the rho range where the two ends of the
    bracket still agree: ``(rho, u, u')`` arrays."""
    lo, hi = bracket
    sig = np.array([lo, 0.5 * (lo + hi), hi])
    _, grid, us, ups = _integrate(sig, d, eps, scan_range(d), nsteps, keep=True)
    ok = np.isfinite(us).all(axis=1)
    spread = np.abs(ups[:, 0] - ups[:, 2])
    ok &= spread < 1e-3 * (1.0 + np.abs(ups[:, 1]))
    # the trusted part is the initial run of ok points
    bad = np.nonzero(~ok)[0]
    last = int(bad[0]) if len(bad) else len(grid)
    last = max(last, 2)
    return grid[:last], us[:last, 1], ups[:last, 1]
