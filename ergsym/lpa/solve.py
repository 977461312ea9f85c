"""Fixed points and spectra of the two LPA equations (docs/lpa.md): the public API of ergsym.lpa."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConvergenceError, InputError
from ..numeric.values import Value
from . import shooting
from ._threads import single_blas_thread
from .collocation import Grid, even_spectrum, interpolate, newton, odd_spectrum
from .equations import EQUATIONS, POLCHINSKI, WETTERICH, morris_p_to_w, morris_w_to_p

__all__ = [
    "FixedPoint",
    "LPAResult",
    "solve_lpa",
    "fixed_points",
    "validate_lpa_inputs",
    "DIM_RANGE",
    "N_MAX",
    "DEFAULT_TOL",
    "compare",
    "lpa_point",
]

#: the accepted dimensions, open interval (d -> 2 needs ever more resolution: docs/lpa.md)
DIM_RANGE = (2.0, 4.0)
#: the smallest d - 2 and 4 - d accepted (closer, the fixed point or its growth rho^(d/(d-2))
#: cannot be resolved in double precision)
DIM_MARGIN = (0.2, 0.03)
#: largest finite N accepted (beyond, use N = inf: the corrections are O(1/N) below 1e-8)
N_MAX = 1e8
DEFAULT_TOL = 1e-9
#: (points, R multiplier) of the resolution ladder
_LADDER = (32, 44, 56, 72, 96, 128, 160)
_N_EVEN, _N_ODD = 6, 4


def validate_lpa_inputs(
    N: float, dim: float, equation: str = "wetterich", tol: float = DEFAULT_TOL
) -> tuple[float, float, str, float]:
    """Return ``(N, dim, equation, tol)`` checked; ``N`` may be ``math.inf`` (the rescaled limit,
    solved exactly)."""
    try:
        Nf = float(N)
    except (TypeError, ValueError):
        raise InputError.bad("N", N, "a real number >= 1 or inf") from None
    if isinstance(N, bool) or math.isnan(Nf) or Nf < 1 or (math.isfinite(Nf) and Nf > N_MAX):
        raise InputError.bad(
            "N",
            N,
            f"a real number from 1 to {N_MAX:g}, or inf",
            "N < 1 has no O(N) potential with a positive number of components",
        )
    try:
        d = float(dim)
    except (TypeError, ValueError):
        raise InputError.bad("dim", dim, "a real number with 2 < dim < 4") from None
    lo, hi = DIM_RANGE[0] + DIM_MARGIN[0], DIM_RANGE[1] - DIM_MARGIN[1]
    if isinstance(dim, bool) or not math.isfinite(d) or not lo <= d <= hi:
        raise InputError.bad(
            "dim",
            dim,
            f"a real number with {lo:g} <= dim <= {hi:g}",
            "the Wilson-Fisher fixed point exists for 2 < d < 4; closer to 2 the "
            "potential grows as rho^(d/(d-2)) beyond double precision, closer to 4 it "
            "merges with the Gaussian one",
        )
    eq = str(equation).lower()
    if eq not in EQUATIONS:
        raise InputError.bad("equation", equation, "'polchinski' or 'wetterich'")
    try:
        t = float(tol)
    except (TypeError, ValueError):
        raise InputError.bad("tol", tol, "a real number from 1e-13 to 1e-3") from None
    if not (1e-13 <= t <= 1e-3):
        raise InputError.bad(
            "tol", tol, "a real number from 1e-13 to 1e-3", "below 1e-13 double-precision rounding dominates"
        )
    return Nf, d, eq, t


@dataclass(frozen=True)
class FixedPoint:
    """One fixed point of one LPA equation, solved globally, with its spectrum.

    Potentials are in rescaled variables (``u = N ubar(rho/N)``, docs/lpa.md).

    Attributes
    ----------
    equation : str
        ``"wetterich"`` or ``"polchinski"``.
    kind : str
        ``"gaussian"``, ``"wilson-fisher"`` or ``"multicritical"`` (then ``n_relevant`` >= 2).
    n_relevant : int
        Number of relevant even directions (y > 0), not counting the vacuum-energy mode y = d.
    even, odd : tuple of Value
        Leading RG eigenvalues y (perturbations grow as k^-y toward the IR), by decreasing y.
        ``info['label']`` names each: vacuum energy, thermal, irrelevant; magnetic, redundant.
    sigma : Value
        ``ubar'(0)``.
    u_at_0 : float
        ``ubar(0)``.
    u2_at_min : float or None
        ``ubar''(rhobar_0)``, the rescaled quartic coupling at the minimum.
    rho0 : Value or None
        Rescaled minimum ``rhobar_0`` of the potential (None where ubar' > 0 everywhere).
    grid : tuple
        ``(points, R, beta)`` of the finest collocation grid.
    """

    equation: str
    N: float
    dim: float
    kind: str
    n_relevant: int
    even: tuple
    odd: tuple
    sigma: Value
    rho0: object
    residual: float
    grid: tuple
    converged: bool
    u_at_0: float = 0.0
    u2_at_min: object = None
    u_error: float = 0.0
    rho: np.ndarray = field(repr=False, compare=False, default=None)
    u: np.ndarray = field(repr=False, compare=False, default=None)

    def to_dict(self) -> dict:
        def v(x):
            return None if x is None else {"value": x.estimate, "error": x.error, "converged": x.converged}

        def ev(x):
            return {
                "value": x.estimate,
                "error": x.error,
                "converged": x.converged,
                "label": x.info.get("label", ""),
                "exact_value": x.info.get("exact"),
            }

        return {
            "equation": self.equation,
            "kind": self.kind,
            "n_relevant": self.n_relevant,
            "u_at_0": self.u_at_0,
            "sigma": v(self.sigma),
            "rho0": v(self.rho0),
            "u2_at_min": self.u2_at_min,
            "u_error": self.u_error,
            "residual": self.residual,
            "grid_points": self.grid[0],
            "grid_R": self.grid[1],
            "grid_beta": self.grid[2],
            "converged": self.converged,
            "even": [ev(x) for x in self.even],
            "odd": [ev(x) for x in self.odd],
        }


@dataclass(frozen=True)
class LPAResult:
    """``solve_lpa``'s answer: the Wilson-Fisher point of the requested equation, its exponents,
    the same computed with the other equation, and their comparison (Morris's equivalence).

    Attributes
    ----------
    nu, omega : Value
        ``nu = 1/y_t`` (thermal eigenvalue), ``omega = -y`` of the first irrelevant even mode.
    fixed_point, other : FixedPoint
        Requested equation and the other one.
    crosscheck : dict
        ``verdict`` ("agrees", "disagrees", "inconclusive"), the eigenvalue differences and the
        mismatch of the two potentials mapped onto each other.
    fixed_points : tuple of FixedPoint
        Every fixed point found for the requested equation (Gaussian first).
    seconds : float
        CPU seconds of the whole computation.
    """

    N: float
    dim: float
    equation: str
    nu: Value
    omega: Value
    fixed_point: FixedPoint
    other: FixedPoint
    crosscheck: dict
    fixed_points: tuple
    seconds: float
    converged: bool

    def to_dict(self) -> dict:
        return {
            "N": self.N if math.isfinite(self.N) else "infinity",
            "dim": self.dim,
            "equation": self.equation,
            "nu": {"value": self.nu.estimate, "error": self.nu.error, "converged": self.nu.converged},
            "omega": {"value": self.omega.estimate, "error": self.omega.error, "converged": self.omega.converged},
            "converged": self.converged,
            "fixed_point": self.fixed_point.to_dict(),
            "other_equation": self.other.to_dict(),
            "crosscheck": self.crosscheck,
            "fixed_points": [
                {"kind": f.kind, "n_relevant": f.n_relevant, "sigma": f.sigma.estimate, "converged": f.converged}
                for f in self.fixed_points
            ],
            "cpu_seconds": self.seconds,
        }


# --------------------------------------------------------------------------------------------
# one fixed point, one equation: the resolution ladder


def _guess_w(prof, d):
    """Initial guess on [0, inf) from the shot profile: beyond its end, u' grows as rho^(p-1)."""
    r, u, up = prof
    p = d / (d - 2.0)
    rl, ul, upl = r[-1], u[-1], up[-1]

    def g(rho):
        rho = np.asarray(rho, float)
        inside = np.interp(rho, r, u)
        if upl > 0:
            ext = ul + upl * rl / p * ((np.maximum(rho, rl) / rl) ** p - 1.0)
        else:
            ext = ul + upl * (rho - rl)
        return np.where(rho <= rl, inside, ext)

    return g, rl, upl


def _R_wetterich(prof, d, K=2.0):
    r, u, up = prof
    p = d / (d - 2.0)
    if up[-1] > 0 and up[-1] < K:
        return float(r[-1] * (K / up[-1]) ** (1.0 / (p - 1.0)))
    if up[-1] >= K:
        return float(r[np.argmax(up >= K)])
    return float(max(r[-1], 1.0 / (d - 2.0)) * 3.0)


def _labels(even, odd, d, gaussian=False):
    """Label the modes: even y = d is the vacuum energy; odd y = (d+2)/2 is the magnetic mode
    (the linear term), y = (d-2)/2 the redundant field shift (both exact with eta = 0; at the
    Gaussian point the field shift of u = const vanishes, so no mode is called redundant)."""

    def lab_even(y, i):
        if abs(y - d) < 1e-6:
            return "vacuum energy", d
        return ("relevant" if y > 0 else "irrelevant"), None

    def lab_odd(y):
        if abs(y - (d + 2) / 2) < 1e-6:
            return "magnetic", (d + 2) / 2
        if abs(y - (d - 2) / 2) < 1e-6 and not gaussian:
            return "redundant (field shift)", (d - 2) / 2
        return ("relevant" if y > 0 else "irrelevant"), None

    return [lab_even(y, i) for i, y in enumerate(even)], [lab_odd(y) for y in odd]


def _gaussian_ladder(eq, d, eps):
    """The Gaussian point (u = 1/d, resp. 0) needs no search and no boundary row: its linearised
    operators map polynomials of degree <= n into themselves, so collocation at all n + 1 points
    represents them exactly (eigenvalues d - n(d-2), checked in the tests)."""
    levels = []
    n0 = max(8, int(math.ceil(d / (d - 2.0))) + 2)  # every relevant power rho^n, n < d/(d-2)
    for n in (n0, n0 + 2):  # small n, R ~ the Laguerre scale: the nodal matrices are far from normal
        grid = Grid(n, 4.0 * n * max(eps, 0.05) / (d - 2.0))
        u = np.full(n + 1, 1.0 / d if eq is WETTERICH else 0.0)
        F, _ = eq.residual(u, grid.rho, grid.D1, grid.D2, d, eps)
        full = even_spectrum(eq, grid, u, d, eps, bc=False)
        od = odd_spectrum(eq, grid, u, d, eps, bc=False)[:_N_ODD]
        levels.append((grid, u, float(np.max(np.abs(F))), full[:_N_EVEN], od, full))
    grid, u, res, ev, od, full = levels[-1]
    err_e = np.abs(ev - levels[0][3]) + 1e-13 * (1 + np.abs(ev))
    err_o = np.abs(od - levels[0][4]) + 1e-13 * (1 + np.abs(od))
    return dict(
        grid=grid,
        u=u,
        res=res,
        even=ev,
        odd=od,
        err_even=err_e,
        err_odd=err_o,
        n_relevant=_count_relevant(full, d, levels[0][5]),
    )


def _count_relevant(full, d, prev):
    """Relevant even directions in a whole computed spectrum: y > 0, not the vacuum energy y = d,
    and present (within 1e-4) in the spectrum of the previous grid too, so an unresolved
    eigenvalue of the discretisation is not counted."""
    y, p = np.asarray(full), np.asarray(prev)
    count = 0
    for v in y:
        if v.real > 1e-9 and abs(v - d) > 1e-6 and np.min(np.abs(p - v)) < 1e-4 * (1 + abs(v)):
            count += 1
    return count


def _spec_change(a, b):
    """Largest change of the tracked eigenvalues (even: vacuum, thermal, omega; odd: first 3)."""
    return max(float(np.max(np.abs(a[3][:3] - b[3][:3]))), float(np.max(np.abs(a[4][:3] - b[4][:3]))))


def _beta(R, rho0):
    """Exponential-map parameter: 0 (plain Chebyshev) unless the interval is much longer than the
    potential's minimum (d near 4), then points are moved toward small rho."""
    if rho0 is None or rho0 <= 0:
        return 0.0
    return float(np.clip(np.log10(R / rho0) - 1.0, 0.0, 3.0))


def _ladder(eq, guess, R, d, eps, tol, beta=0.0):
    """Solve on grids of growing size, then once on a 15% shorter interval: the spectrum with
    errors (change between the last two grids plus change with the interval).

    The ladder stops when the change falls below tol/10, or when it grows again after falling
    below tol (the rounding regime; the better level is kept)."""
    levels, changes = [], []
    prev = None
    for n in _LADDER:
        grid = Grid(n, R, beta)
        u0 = guess(grid.rho) if prev is None else interpolate(prev[0], prev[1], grid.rho)
        u, res, _ = newton(eq, grid, u0, d, eps)
        if not np.isfinite(res) or res > 1e-7:
            if prev is None:
                if n >= _LADDER[2]:
                    return None
                continue  # a coarse grid may not hold the solution yet
            break
        full = even_spectrum(eq, grid, u, d, eps)
        ev = full[:_N_EVEN]
        od = odd_spectrum(eq, grid, u, d, eps)[:_N_ODD]
        levels.append((grid, u, res, ev, od, full))
        prev = (grid, u)
        if len(levels) >= 2:
            changes.append(_spec_change(levels[-1], levels[-2]))
            if changes[-1] < 0.1 * tol:
                break
            if len(changes) >= 2 and changes[-1] > changes[-2] and changes[-2] < tol:
                levels.pop()
                changes.pop()
                break
    if len(levels) < 2:
        return None
    grid, u, res, ev, od, full = levels[-1]
    # domain check: the same points on a 15% shorter interval (its boundary row is felt more, its
    # resolution is no worse), so the change bounds the effect of where the interval ends
    small = Grid(grid.n, 0.85 * R, beta)
    ub, resb, _ = newton(eq, small, interpolate(grid, u, small.rho), d, eps)
    if np.isfinite(resb) and resb < 1e-7:
        evb = even_spectrum(eq, small, ub, d, eps)[:_N_EVEN]
        odb = odd_spectrum(eq, small, ub, d, eps)[:_N_ODD]
    else:
        evb, odb = ev + np.inf, od + np.inf
    err_e = np.abs(ev - levels[-2][3]) + np.abs(ev - evb) + 1e-13 * (1 + np.abs(ev))
    err_o = np.abs(od - levels[-2][4]) + np.abs(od - odb) + 1e-13 * (1 + np.abs(od))
    dom = max(float(np.max(np.abs(ev - evb)[:3])), float(np.max(np.abs(od - odb)[:3])))
    # error of the potential itself on the inner half of the interval (same two changes)
    inner = grid.rho <= 0.5 * R
    scale = np.maximum(1.0, np.abs(u[inner]))
    u_prev = interpolate(levels[-2][0], levels[-2][1], grid.rho[inner])
    u_err = float(np.max(np.abs(u[inner] - u_prev) / scale))
    if np.isfinite(resb) and resb < 1e-7:
        u_err += float(np.max(np.abs(u[inner] - interpolate(small, ub, grid.rho[inner])) / scale))
    else:
        u_err = np.inf
    others = [(levels[-2][0], levels[-2][1])]
    if np.isfinite(resb) and resb < 1e-7:
        others.append((small, ub))
    return dict(
        grid=grid,
        u=u,
        res=res,
        even=ev,
        odd=od,
        err_even=err_e,
        err_odd=err_o,
        domain=dom,
        u_error=u_err,
        n_relevant=_count_relevant(full, d, levels[-2][5]),
        others=others,
        total=max(float(np.max(err_e[:3])), float(np.max(err_o[:3]))),
    )


def _adaptive_ladder(eq, make, choices, d, eps, tol):
    """Run the ladder for interval choices of growing length (``make(choice) -> (guess, R, beta)``)
    until the change with the interval falls below tol/3; the best one is returned."""
    best = None
    for c in choices:
        guess, R, beta = make(c)
        lad = _ladder(eq, guess, R, d, eps, tol, beta)
        if lad is None:
            continue
        if best is None or lad["total"] < best["total"]:
            best = lad
        if lad["domain"] < tol / 3.0:
            break
    return best


def _key_numbers(grid, u):
    """``(u'(0), rho0)``: the slope at the origin and the minimum (root of u', None if none)."""
    u1 = grid.D1 @ u
    if not (u1[0] < 0 and np.any(u1 > 0)):
        return float(u1[0]), None
    i = int(np.argmax(u1 > 0))
    a, b = grid.rho[i - 1], grid.rho[i]  # bisection on the interpolant between the nodes
    for _ in range(60):
        m = 0.5 * (a + b)
        if interpolate(grid, u1, np.array([m]))[0] < 0:
            a = m
        else:
            b = m
    return float(u1[0]), float(0.5 * (a + b))


def _eigenvalues(ys, errs, labels, sector, tol):
    """One sector's RG eigenvalues as values: the error is the ladder's plus any imaginary part."""
    out = []
    for y, e, (lab, ex) in zip(ys, errs, labels, strict=True):
        err = float(e) + abs(float(y.imag))
        converged = bool(err <= max(tol, tol * abs(y.real)))
        out.append(
            Value(float(y.real), err, converged, "y", "collocation", {"label": lab, "exact": ex, "sector": sector})
        )
    return out


def _make_fp(eq, lad, N, d, eps, tol, gaussian=False):
    grid, u = lad["grid"], lad["u"]
    ev, od = lad["even"], lad["odd"]
    le, lo = _labels(ev.real, od.real, d, gaussian)
    even = _eigenvalues(ev, lad["err_even"], le, "even", tol)
    odd = _eigenvalues(od, lad["err_odd"], lo, "odd", tol)
    n_rel = lad["n_relevant"]
    sig0, r0 = _key_numbers(grid, u)
    # errors of u'(0) and of the minimum: their changes on the previous grid and on the shorter
    # interval (the same two changes as the eigenvalues'; none for the exact Gaussian point)
    e_sig = e_r0 = 0.0
    for other in lad.get("others", ()):
        s_o, r_o = _key_numbers(*other)
        e_sig += abs(s_o - sig0)
        e_r0 = e_r0 + abs(r_o - r0) if (r0 is not None and r_o is not None) else np.inf
    e_sig += 1e-13 * (1 + abs(sig0))
    sig = Value(sig0, e_sig, bool(e_sig <= max(tol, tol * abs(sig0))), "sigma", "collocation")
    rho0 = None
    if r0 is not None:
        e_r0 += 1e-13 * (1 + r0)
        rho0 = Value(r0, float(e_r0), bool(e_r0 <= max(tol, tol * r0)), "rho0", "collocation")
    kind = "gaussian" if gaussian else ("wilson-fisher" if n_rel == 1 else "multicritical")
    conv_list = [v.converged for v in even[:3]]
    u2min = None if rho0 is None else float(interpolate(grid, grid.D2 @ u, np.array([rho0.estimate]))[0])
    return FixedPoint(
        eq.name,
        N,
        d,
        kind,
        n_rel,
        tuple(even),
        tuple(odd),
        sig,
        rho0,
        lad["res"],
        (grid.n, grid.R, grid.beta),
        all(conv_list),
        float(u[0]),
        u2min,
        float(lad.get("u_error", 0.0)),
        grid.rho.copy(),
        u.copy(),
    )


_SEED: dict = {}
#: collocation points used along the continuation path
_N_PATH = 48


def _R_from(grid, u, d, K=2.0):
    """Length of the collocation interval: where u' reaches K (beyond that the loop terms are
    small and the unphysical mode has grown by many orders), extrapolated as rho^(d/(d-2)-1)
    beyond the interval of the given solution."""
    u1 = grid.D1 @ u
    p = d / (d - 2.0)
    if u1[-1] >= K:
        i = int(np.argmax(u1 >= K))
        r0, r1, f0, f1 = grid.rho[i - 1], grid.rho[i], u1[i - 1], u1[i]
        return float(r0 + (K - f0) * (r1 - r0) / (f1 - f0))
    if u1[-1] > 0:
        return float(grid.R * (K / u1[-1]) ** (1.0 / (p - 1.0)))
    return 2.0 * grid.R


def _reseed(grid, u, d, R, n):
    """A solution carried to a new grid (interpolated inside its interval, extended beyond)."""
    new = Grid(n, R)
    u1 = grid.D1 @ u
    g = np.where(
        new.rho <= grid.R,
        interpolate(grid, u, np.minimum(new.rho, grid.R)),
        WETTERICH.extend(grid.R, u[-1], u1[-1], new.rho, d),
    )
    return new, g


def _wf_ok(grid, u, res):
    if not np.isfinite(res) or res > 1e-8 or not WETTERICH.admissible(u, grid.rho, grid.D1, grid.D2):
        return False
    u1 = grid.D1 @ u
    return bool(u1[0] < -1e-7 and u1[-1] > 0)


def _seed_wf():
    """The Wilson-Fisher point at N = 1, d = 3 found by the shooting scan (cached): the start of
    the continuation to any (N, d)."""
    if "wf" not in _SEED:
        d, eps = 3.0, 1.0
        for br in reversed(shooting.refine(shooting.scan(d, eps), d, eps)):
            prof = shooting.profile(br, d, eps)
            guess = _guess_w(prof, d)[0]
            grid = Grid(_N_PATH, _R_wetterich(prof, d))
            u, res, _ = newton(WETTERICH, grid, guess(grid.rho), d, eps)
            if _wf_ok(grid, u, res):
                ev = even_spectrum(WETTERICH, grid, u, d, eps)
                if np.sum(ev.real > 1e-6) == 2:  # vacuum + thermal
                    _SEED["wf"] = (grid, u)
                    break
        else:  # pragma: no cover - the scan at N = 1, d = 3 is tested
            raise ConvergenceError("the shooting scan found no Wilson-Fisher point at N=1, dim=3")
    return _SEED["wf"]


def _continue_wf(N, d, *, max_steps=400):
    """Follow the Wilson-Fisher branch from (N, d) = (1, 3) to the target along a straight path in
    (log N, d), Newton at each step, halving the step when Newton fails."""
    grid, u = _seed_wf()
    d0, e0 = 3.0, 1.0
    e1 = 1.0 / N
    s, ds = 0.0, 0.25
    for _ in range(max_steps):
        if s >= 1.0:
            return grid, u
        st = min(1.0, s + ds)
        dd = d0 + st * (d - d0)
        ee = math.exp(math.log(e0) + st * (math.log(e1) - math.log(e0)))
        R = _R_from(grid, u, dd)
        g, u0 = _reseed(grid, u, dd, R, _N_PATH)
        un, res, _ = newton(WETTERICH, g, u0, dd, ee)
        if _wf_ok(g, un, res):
            grid, u, s = g, un, st
            ds = min(2 * ds, 0.5)
        else:
            ds /= 2.0
            if ds < 1e-4:
                break
    raise ConvergenceError(
        f"the Wilson-Fisher branch could not be followed from N=1, dim=3 to N={N:g}, dim={d:g} "
        f"(stopped at {s:.3g} of the way); try a dim farther from 2 or 4"
    )


def _wilson_fisher_w(N, d, tol):
    eps = 1.0 / N
    grid, u = _continue_wf(N, d)
    u1 = grid.D1 @ u

    def guess(r):
        return np.where(
            r <= grid.R, interpolate(grid, u, np.minimum(r, grid.R)), WETTERICH.extend(grid.R, u[-1], u1[-1], r, d)
        )

    rho0 = float(grid.rho[np.argmin(np.abs(u1))])

    def make(K):
        R = _R_from(grid, u, d, K)
        return guess, R, _beta(R, rho0)

    lad = _adaptive_ladder(WETTERICH, make, (2.0, 4.0, 8.0), d, eps, tol)
    if lad is None:
        raise ConvergenceError(
            f"the Wilson-Fisher point at N={N:g}, dim={d:g} did not converge "
            "on the collocation grids; try a dim farther from 2 or 4"
        )
    return _make_fp(WETTERICH, lad, N, d, eps, tol)


def _wetterich_fixed_points(N, d, tol, *, scan=True):
    """Gaussian, Wilson-Fisher (continued from N = 1, d = 3) and, with ``scan``, the other fixed
    points the shooting scan finds (each solved by collocation; singular or duplicate candidates
    are dropped)."""
    eps = 1.0 / N
    found = [_make_fp(WETTERICH, _gaussian_ladder(WETTERICH, d, eps), N, d, eps, tol, gaussian=True)]
    wf = _wilson_fisher_w(N, d, tol)
    found.append(wf)
    seen = [wf.sigma.estimate]
    if scan:
        for br in shooting.refine(shooting.scan(d, eps), d, eps):
            prof = shooting.profile(br, d, eps)
            guess, _, _ = _guess_w(prof, d)
            lad = _ladder(WETTERICH, guess, _R_wetterich(prof, d), d, eps, tol)
            if lad is None:
                continue  # no solution near this candidate: spurious
            if not WETTERICH.admissible(lad["u"], lad["grid"].rho, lad["grid"].D1, lad["grid"].D2):
                continue  # singular propagator: spurious
            fp = _make_fp(WETTERICH, lad, N, d, eps, tol)
            if abs(fp.sigma.estimate) < 1e-7 or any(abs(fp.sigma.estimate - x) < 1e-6 for x in seen):
                continue
            seen.append(fp.sigma.estimate)
            found.append(fp)
    return [found[0]] + sorted(found[1:], key=lambda f: -f.sigma.estimate)


def _polchinski_from(fp_w, N, d, tol):
    """Solve the Polchinski equation, seeded by the Morris image of the Wetterich solution."""
    eps = 1.0 / N
    gw = Grid(*fp_w.grid)
    rr = np.linspace(0.0, gw.R, 4000)
    w = interpolate(gw, fp_w.u, rr)
    w1 = interpolate(gw, gw.D1 @ fp_w.u, rr)
    rp, up, up1 = morris_w_to_p(rr, w, w1, d)
    rl, ul, u1l = rp[-1], up[-1], up1[-1]

    def guess(rho):
        rho = np.asarray(rho, float)
        return np.where(rho <= rl, np.interp(rho, rp, up), POLCHINSKI.extend(rl, ul, u1l, rho, d))

    if fp_w.kind == "gaussian":
        return _make_fp(POLCHINSKI, _gaussian_ladder(POLCHINSKI, d, eps), N, d, eps, tol, gaussian=True)
    # R: the unphysical mode of the Polchinski equation grows only exponentially, as
    # exp(int (d - 2 + 4u')/(2 eps) drho): the interval ends where that exponent reaches a bound,
    # and not before the image of a point w' = K past the potential's structure
    rate = (d - 2.0 + 4.0 * np.maximum(up1, 0.0)) / (2.0 * eps)
    expo = np.concatenate([[0.0], np.cumsum(0.5 * (rate[1:] + rate[:-1]) * np.diff(rp))])
    rho0 = None if fp_w.rho0 is None else fp_w.rho0.estimate  # w' = 0 and u' = 0 at the same rho

    def make(c):
        bound, K = c
        R = float(rp[int(np.argmax(expo >= bound))] if expo[-1] >= bound else rp[-1])
        R = max(R, float(rp[int(np.argmax(w1 >= K))] if np.any(w1 >= K) else rp[-1]))
        return guess, R, _beta(R, rho0)

    lad = _adaptive_ladder(POLCHINSKI, make, ((30.0, 0.5), (45.0, 0.8), (60.0, 1.2)), d, eps, tol)
    if lad is None:
        raise ConvergenceError(
            f"the Polchinski fixed point (N={N:g}, dim={d:g}) seeded by the Morris map of the Wetterich "
            "one did not converge; try another dim or N, or report the case"
        )
    return _make_fp(POLCHINSKI, lad, N, d, eps, tol)


def compare(a: FixedPoint, b: FixedPoint, *, k_even: int = 3, k_odd: int = 3) -> dict:
    """Compare two spectra (and potentials through Morris's map when the equations differ).

    ``verdict``: "agrees" when every compared eigenvalue differs by at most 3x the sum of the two
    errors (+1e-12) and the potentials mapped onto each other differ by at most 3x the sum of
    their errors (+1e-10), "disagrees" when one differs by more and both are converged,
    otherwise "inconclusive"."""
    rows, worst, conv = [], 0.0, a.converged and b.converged
    ok = True
    for sector, k in (("even", k_even), ("odd", k_odd)):
        xa, xb = getattr(a, sector), getattr(b, sector)
        for i in range(min(k, len(xa), len(xb))):
            diff = abs(xa[i].estimate - xb[i].estimate)
            allowed = 3.0 * (xa[i].error + xb[i].error) + 1e-12
            rows.append({"sector": sector, "index": i, "diff": diff, "allowed": allowed})
            worst = max(worst, diff / allowed)
            ok &= diff <= allowed
            conv &= bool(xa[i].converged and xb[i].converged)
    pot = pot_allowed = None
    if a.equation != b.equation and a.u is not None and b.u is not None:
        w_fp, p_fp = (a, b) if a.equation == "wetterich" else (b, a)
        gw, gp = Grid(*w_fp.grid), Grid(*p_fp.grid)
        rw, w_img, _ = morris_p_to_w(gp.rho, p_fp.u, gp.D1 @ p_fp.u, w_fp.dim)
        inside = (rw <= gw.R) & (gp.rho <= 0.5 * gp.R)
        w_direct = interpolate(gw, w_fp.u, rw[inside])
        pot = float(np.max(np.abs(w_direct - w_img[inside]) / np.maximum(1.0, np.abs(w_direct))))
        pot_allowed = 3.0 * (w_fp.u_error + p_fp.u_error) + 1e-10
        ok &= pot <= pot_allowed
        worst = max(worst, pot / pot_allowed)
    verdict = "agrees" if ok and conv else ("disagrees" if not ok and conv else "inconclusive")
    return {
        "verdict": verdict,
        "eigenvalues": rows,
        "potential_mismatch": pot,
        "potential_allowed": pot_allowed if pot is not None else None,
        "worst_ratio": worst,
    }


def fixed_points(
    N: float = 1, dim: float = 3, equation: str = "wetterich", *, tol: float = DEFAULT_TOL
) -> tuple[FixedPoint, ...]:
    """The Gaussian and Wilson-Fisher points and every other fixed point the shooting scan finds,
    each solved globally with its spectrum.

    Gaussian first, then the others by decreasing u'(0).  Candidates whose solution is singular
    (a propagator changes sign) or collapses onto an earlier one are dropped."""
    N, d, eq, tol = validate_lpa_inputs(N, dim, equation, tol)
    with single_blas_thread():
        fw = _wetterich_fixed_points(N, d, tol)
        if eq == "wetterich":
            return tuple(fw)
        return tuple(_polchinski_from(f, N, d, tol) for f in fw)


def solve_lpa(
    N: float = 1, dim: float = 3, equation: str = "wetterich", *, tol: float = DEFAULT_TOL, scan: bool = False
) -> LPAResult:
    """The Wilson-Fisher fixed point of the LPA, its exponents and the two-equation cross-check.

    Parameters
    ----------
    N : float
        Number of field components, real, 1 <= N <= 1e8, or ``math.inf``: the rescaled limit
        ``u/N``, ``rho/N`` with 1/N = 0, solved exactly (docs/lpa.md).
    dim : float
        Dimension, 2.2 <= dim <= 3.97.
    equation : {"wetterich", "polchinski"}
        The primary equation; the other one is solved too and compared (``crosscheck``).
    tol : float
        Target absolute error of the eigenvalues (default 1e-10).
    scan : bool
        Also run the shooting scan for the other fixed points (``fixed_points`` of the result);
        without it the result lists the Gaussian and the Wilson-Fisher point only.

    Raises
    ------
    InputError
        A parameter out of range.
    ConvergenceError
        No Wilson-Fisher point found, or the exponents missed ``tol`` at the finest grid.
    """
    t0 = time.process_time()
    N, d, eq, tol = validate_lpa_inputs(N, dim, equation, tol)
    if math.isinf(N):
        return _solve_infinite(d, eq, t0)
    with single_blas_thread():
        return _solve(N, d, eq, tol, scan, t0)


def _solve_infinite(d, eq, t0):
    """N = inf, exactly (:mod:`ergsym.lpa.large_n`): the rescaled limit, both equations."""
    from .large_n import n_infinity_point

    x = n_infinity_point(d)
    le, lo = _labels(np.array(x["even"]), np.array(x["odd"]), d)

    def vals(ys, labels, sector):
        return tuple(
            Value(y, 0.0, True, "y", "exact (N = inf)", {"label": lab, "exact": y, "sector": sector})
            for y, (lab, _) in zip(ys, labels, strict=True)
        )

    sw = x["sigma"]
    fps = {}
    for name, sig, u0, u2 in (
        ("wetterich", sw, x["u_at_0"], x["u2_at_min"]),
        (
            "polchinski",
            sw / (1.0 + sw),
            x["u_at_0"] - 1.0 / d,
            x["u2_at_min"] / (1.0 + 2.0 * x["rho0"] * x["u2_at_min"]),
        ),
    ):
        exact = "exact (N = inf)"
        fps[name] = FixedPoint(
            name,
            math.inf,
            d,
            "wilson-fisher",
            1,
            vals(x["even"], le, "even"),
            vals(x["odd"], lo, "odd"),
            Value(sig, 1e-15, True, "sigma", exact),
            Value(x["rho0"], 0.0, True, "rho0", exact),
            0.0,
            (0, 0.0, 0.0),
            True,
            u0,
            u2,
            0.0,
            None,
            None,
        )
    other = "polchinski" if eq == "wetterich" else "wetterich"
    nu = Value(1.0 / (d - 2.0), 0.0, True, "nu", "exact (N = inf)")
    omega = Value(4.0 - d, 0.0, True, "omega", "exact (N = inf)")
    return LPAResult(
        math.inf,
        d,
        eq,
        nu,
        omega,
        fps[eq],
        fps[other],
        compare(fps[eq], fps[other]),
        (fps[eq],),
        time.process_time() - t0,
        True,
    )


def _solve(N, d, eq, tol, scan, t0):
    fw = _wetterich_fixed_points(N, d, tol, scan=scan)
    fw_wf = next((f for f in fw[1:] if f.kind == "wilson-fisher"), None)
    if fw_wf is None:
        raise ConvergenceError(
            f"the continued solution at N={N:g}, dim={d:g} has {fw[1].n_relevant} relevant directions, "
            "not 1: it is not the Wilson-Fisher point; try a dim farther from 2 or 4"
        )
    if eq == "wetterich":
        _exponents(fw_wf, N, d, tol)  # raises before the second equation is solved
    fp_p = _polchinski_from(fw_wf, N, d, tol)
    prim, other = (fw_wf, fp_p) if eq == "wetterich" else (fp_p, fw_wf)
    check = compare(prim, other)
    all_fps = tuple(fw) if eq == "wetterich" else tuple([fp_p if f is fw_wf else f for f in fw])
    nu, omega = _exponents(prim, N, d, tol)
    conv = True
    return LPAResult(N, d, eq, nu, omega, prim, other, check, all_fps, time.process_time() - t0, conv)


def _exponents(fp, N, d, tol):
    """``(nu, omega)`` of a Wilson-Fisher point, or ConvergenceError when either missed ``tol``."""
    thermal = [v for v in fp.even if v.info["label"] == "relevant"]
    irr = [v for v in fp.even if v.info["label"] == "irrelevant"]
    if not thermal or not irr:
        raise ConvergenceError(f"the spectrum at N={N:g}, dim={d:g} has no thermal or no irrelevant mode")
    yt, yw = thermal[0], irr[0]
    nu = Value(1.0 / yt.estimate, yt.error / yt.estimate**2, yt.converged, "nu", "collocation")
    omega = Value(-yw.estimate, yw.error, yw.converged, "omega", "collocation")
    if not (nu.converged and omega.converged):
        raise ConvergenceError(
            f"nu or omega did not reach tol={tol:g} for N={N:g}, dim={d:g} ({fp.equation} equation, "
            f"{fp.grid[0]} points; nu = {nu.estimate:.10g} +- {nu.error:.2g}, "
            f"omega = {omega.estimate:.10g} +- {omega.error:.2g}); loosen tol"
            + (
                " (above N ~ 40 the grids need ever more points; N = inf is solved exactly)"
                if N > 40
                else " or try a dim farther from 2 or 4"
                if (d < 2.4 or d > 3.8)
                else ""
            ),
            estimate=nu.estimate,
            error=nu.error,
        )
    return nu, omega


def lpa_point(N: float, dim: float, equation: str = "polchinski", tol: float = DEFAULT_TOL) -> dict:
    """One point of an ``ergsym lpa --scan-N/--scan-dim`` batch (plain data in, plain data out).

    A point that does not converge is kept with ``ok: false`` and its message in ``failure``
    (never a number)."""
    try:
        r = solve_lpa(N, dim, equation, tol=tol)
    except ConvergenceError as exc:
        return {
            "N": float(N) if math.isfinite(float(N)) else "infinity",
            "dim": float(dim),
            "equation": equation,
            "ok": False,
            "failure": str(exc),
        }
    d = r.to_dict()
    o = r.other
    N = r.N if math.isfinite(r.N) else "infinity"
    thermal = next(v for v in o.even if v.info["label"] == "relevant")
    irr = next(v for v in o.even if v.info["label"] == "irrelevant")
    return {
        "N": N,
        "dim": r.dim,
        "equation": r.equation,
        "ok": True,
        "nu": d["nu"],
        "omega": d["omega"],
        "other_equation": o.equation,
        "other_nu": {
            "value": 1.0 / thermal.estimate,
            "error": thermal.error / thermal.estimate**2,
            "converged": thermal.converged,
        },
        "other_omega": {"value": -irr.estimate, "error": irr.error, "converged": irr.converged},
        "crosscheck": r.crosscheck["verdict"],
        "potential_mismatch": r.crosscheck["potential_mismatch"],
        "sigma": r.fixed_point.sigma.estimate,
        "rho0": None if r.fixed_point.rho0 is None else r.fixed_point.rho0.estimate,
        "cpu_seconds": r.seconds,
    }
