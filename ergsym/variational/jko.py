"""The JKO step of the variational RG (Cotler & Rezchikov, PRD 108, 025003, eqs. (6.18), (6.21)).

Flow time ``t = -ln Lambda``; a step of size ``tau`` goes from ``Lambda_n`` to
``Lambda_{n+1} = Lambda_n e^{-tau}`` and finds

.. math:: F_{n+1} = \\arg\\min_F \\frac{1}{2\\tau} M_{P_n}[F] + S(F_* P_n \\| Q_{\\Lambda_{n+1}}),

with the transport cost (3.4)/(6.14) ``M_P[F] = 2 E_P sum_xy (phi - F phi)_x Cdot^{-1}_xy (phi - F phi)_y``
(factor 2) and ``Q_Lambda ∝ exp(-2 Shat_Lambda)``.  By the change of variables (6.22)-(6.23),

.. math:: S(F_*P\\|Q) = E_P[\\ln P(\\phi) - \\ln|\\det\\partial F/\\partial\\phi| + 2\\hat S_\\Lambda(F\\phi)] + \\ln Z_Q,

so the objective is a sample average over ``P_n = (F_n o ... o F_1)_* P_Lambda0``: the pushed
samples of ``P_Lambda0``; ``E_P ln P`` does not depend on ``F``.  The kernel ``Cdot`` of a step is the
step average ``Dbar_p = (Kt_p(Lambda_n) - Kt_p(Lambda_{n+1}))/tau`` of ``D_p = Lambda dKt_p/dLambda``
(= ``D_p`` at first order); modes with ``Dbar_p = 0`` are left fixed.

The monotone (4.1) ``M_Lambda = S(P_Lambda || Q_Lambda) - ln Z_Q = E ln P + 2 E Shat`` along the
variational flow is, per sample of ``P_Lambda0``,

.. math:: M_n - M_0 = E\\Big[-\\sum_{k\\le n} \\ln|\\det \\partial F_k| + 2\\hat S_{\\Lambda_n}(\\tilde F_n\\phi) - 2\\hat S_{\\Lambda_0}(\\phi)\\Big]

(``ln Z`` of ``P_Lambda0`` cancels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ErgsymError, InputError
from .maps import FAMILIES, Orbits, RadialFamily, ShellMap, coupling_features
from .ot import COST_FACTOR, _factor

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from numpy.typing import ArrayLike

__all__ = ["validate_tau", "schedule", "free_jko_factor", "free_jko_flow", "orbit_objective", "jko_step", "JKOStep"]

OPTIMIZERS = ("newton", "lbfgs", "adam")

#: scales of the tanh terms of the ``radial`` family, in units of the rms orbit radius
RADIAL_SCALES = (0.5, 1.0)


def validate_tau(tau: float, step: int | None = None) -> float:
    where = f" (step {step})" if step is not None else ""
    try:
        t = float(tau)
    except (TypeError, ValueError):
        raise InputError.bad("tau" + where, tau, "a number > 0") from None
    if not (math.isfinite(t) and t > 0):
        raise InputError.bad(
            "tau" + where, tau, "finite and > 0", "tau is the JKO step in t = -ln Lambda; it must be positive"
        )
    return t


def schedule(Lambda0: float, Lambda: float, steps: int) -> tuple[np.ndarray, float]:
    """Scales ``Lambda_n = Lambda0 e^{-n tau}``, ``tau = ln(Lambda0/Lambda)/steps`` (n = 0..steps)."""
    try:
        L0, L = float(Lambda0), float(Lambda)
    except (TypeError, ValueError):
        raise InputError.bad("Lambda", (Lambda0, Lambda), "numbers") from None
    if not (math.isfinite(L0) and L0 > 0):
        raise InputError.bad("Lambda0", Lambda0, "finite and > 0")
    if not (math.isfinite(L) and 0 < L < L0):
        raise InputError.bad(
            "Lambda",
            Lambda,
            f"in (0, Lambda0 = {L0})",
            "the variational flow runs towards the infrared: Lambda < Lambda0",
        )
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise InputError.bad("steps", steps, "an integer >= 1")
    tau = math.log(L0 / L) / int(steps)
    lams = L0 * np.exp(-tau * np.arange(int(steps) + 1))
    lams[-1] = L
    return lams, tau


def free_jko_factor(
    g: ArrayLike, d: ArrayLike, k: ArrayLike, tau: float, cost_factor: float = COST_FACTOR
) -> np.ndarray:
    """Closed-form minimiser ``a`` of the one-mode JKO step over linear maps ``phi -> a phi``.

    Per mode the objective is ``(c/2tau)(1-a)^2 G/D - ln a + a^2 G/k`` (``P = N(0, G)``,
    ``Q = N(0, k/2)``, cost factor ``c``); stationarity gives
    ``(cG/(tau D) + 2G/k) a^2 - (cG/(tau D)) a - 1 = 0``, whose positive root is returned
    (``a = 1`` where ``D = 0``).  Then ``G_new = a^2 G = G - tau D (2G/k - 1) + O(tau^2)``
    for ``c = 2``: the exact flow ``dG/dt = D (1 - 2G/Kt)``.
    """
    c = _factor(cost_factor)
    tau = validate_tau(tau)
    g, d, k = (np.asarray(v, dtype=float) for v in (g, d, k))
    out = np.ones(np.broadcast(g, d, k).shape)
    g, d, k = np.broadcast_arrays(g, d, k)
    act = d > 0
    B = c * g[act] / (tau * d[act])
    A = B + 2.0 * g[act] / k[act]
    out[act] = (B + np.sqrt(B * B + 4.0 * A)) / (2.0 * A)
    return out


def free_jko_flow(
    g0: ArrayLike,
    kt_of: Callable[[float], ArrayLike],
    Lambda0: float,
    Lambda: float,
    steps: int,
    cost_factor: float = COST_FACTOR,
) -> tuple[np.ndarray, np.ndarray]:
    """Iterate the closed-form free JKO step: returns ``G`` at every scale of :func:`schedule`.

    ``kt_of(Lambda)`` gives ``Kt`` (any array shape, mode by mode); ``g0`` is ``G`` at ``Lambda0``.
    """
    lams, tau = schedule(Lambda0, Lambda, steps)
    g = np.array(g0, dtype=float)
    out = [g.copy()]
    for n in range(len(lams) - 1):
        k0, k1 = np.asarray(kt_of(lams[n]), float), np.asarray(kt_of(lams[n + 1]), float)
        dbar = np.clip(k0 - k1, 0.0, None) / tau
        a = free_jko_factor(g, dbar, k1, tau, cost_factor)
        g = a * a * g
        out.append(g.copy())
    return lams, np.array(out)


def orbit_objective(
    theta: np.ndarray,
    family: RadialFamily,
    rho: np.ndarray,
    m: int,
    dbar: float,
    k: float,
    tau: float,
    cost_factor: float = COST_FACTOR,
    u: np.ndarray | None = None,
) -> tuple[float, np.ndarray]:
    """Sample average of the JKO objective restricted to one orbit, and its gradient.

    ``J = mean[(c/2tau)(rho - s g)^2/Dbar - ln g' - (m-1) ln(g/rho) - m ln s + s^2 g^2/k]`` (the
    orbit's part of ``(1/2tau) M + S(F_*P || Q)`` up to ``F``-independent terms); ``s = 1``
    except for the coupled family, where ``ln s = gamma . (tanh u, tanh^2 u)`` with ``u`` the
    standardized input power of the orbits this one is coupled to (per sample).  The
    objective still separates orbit by orbit: ``s`` depends on other orbits' *inputs* only.
    """
    theta = np.asarray(theta, dtype=float)
    if not np.all(np.abs(theta) < 30.0):  # outside any sensible map: let line searches back off
        return math.inf, np.zeros(theta.size)
    g, gp, dg, dlgp, dlq = family.evaluate(theta, rho, grad=True)
    coupled = family.coupled and u is not None
    if coupled:
        feats = coupling_features(u)
        ls = theta[family.n_radial :] @ feats
        sc = np.exp(ls)
    else:
        ls, sc = 0.0, 1.0
    with np.errstate(all="ignore"):
        lgp = np.log(gp)
        lq = np.log(g / rho)
    c = cost_factor
    G = sc * g
    J = np.mean(0.5 * c / tau * (rho - G) ** 2 / dbar - lgp - (m - 1) * lq - m * ls + G * G / k)
    w = sc * (c / tau * (G - rho) / dbar + 2.0 * G / k)
    grad = (dg @ w - dlgp.sum(1) - (m - 1) * dlq.sum(1)) / rho.size
    if coupled:
        wg = c / tau * (G - rho) * G / dbar - m + 2.0 * G * G / k
        grad = np.concatenate([grad, feats @ wg / rho.size])
    elif family.coupled:
        grad = np.concatenate([grad, np.zeros(2)])
    return float(J), grad


@dataclass
class JKOStep:
    """Result of one JKO step: the map, per-orbit objective values and convergence."""

    map: ShellMap
    objective: float
    converged: bool
    n_iter: int
    messages: list = field(default_factory=list)


def _check_value(v, step, what):
    if not np.all(np.isfinite(v)):
        raise ErgsymError(
            f"step {step}: the {what} is NaN or infinite; the map family cannot "
            "represent this step -- use a smaller step tau (more steps) or the "
            "'linear' family"
        )


def jko_step(
    phi: np.ndarray,
    orbits: Orbits,
    kt_start: np.ndarray,
    kt_end: np.ndarray,
    tau: float,
    *,
    family: str = "radial",
    cost_factor: float = COST_FACTOR,
    step: int = 0,
    optimizer: str = "newton",
    theta0: Sequence[np.ndarray] | None = None,
    batch_size: int = 256,
    n_epochs: int = 60,
    learning_rate: float = 0.05,
    seed: int = 0,
    gtol: float = 1e-9,
    rho2: np.ndarray | None = None,
) -> JKOStep:
    """One JKO step (6.18)/(6.21) on the sample set ``phi`` (shape ``(n,) + shape``).

    Parameters
    ----------
    phi : ndarray
        Samples of ``P_n`` (pushed samples of ``P_Lambda0``).
    orbits : Orbits
    kt_start, kt_end : ndarray
        ``Kt_p`` at ``Lambda_n`` and ``Lambda_{n+1}`` (``fftn`` layout).
    tau : float
        Step in ``t = -ln Lambda`` (> 0).
    family : {"linear", "radial", "coupled"}
        Map family (:mod:`ergsym.variational.maps`); ``coupled`` is ``radial`` with each moved
        orbit's scale depending on the power of the frozen orbits and of the moved orbits
        before it (the coupling between modes that the exact flow builds).
    optimizer : {"newton", "lbfgs", "adam"}
        Deterministic variants on the full sample set: ``"newton"`` (damped Newton, analytic
        gradient, Hessian by central differences of it; the default: the problems have 1-4
        parameters per orbit) or ``"lbfgs"`` (scipy L-BFGS-B, analytic gradient).
        ``"adam"``: the paper's Algorithm 2, stochastic gradient descent (optax Adam) on
        mini-batches of ``batch_size`` samples, ``n_epochs`` passes, generator ``seed``.

    Returns
    -------
    JKOStep

    Raises
    ------
    InputError
        ``tau <= 0``, unknown family or optimizer, ``Kt`` growing in the step.
    ErgsymError
        NaN objective or a non-invertible map (the message names the step).
    """
    from scipy.optimize import minimize  # noqa: PLC0415

    tau = validate_tau(tau, step)
    c = _factor(cost_factor)
    if family not in FAMILIES:
        raise InputError.bad("family", family, f"one of {FAMILIES}")
    if optimizer not in OPTIMIZERS:
        raise InputError.bad("optimizer", optimizer, "'newton' or 'lbfgs' (deterministic) or 'adam' (Algorithm 2)")
    if rho2 is None:
        phi = np.asarray(phi, dtype=float)
        _check_value(phi, step, "input sample set")
        rho2 = orbits.rho2(orbits.fft(phi))
    _check_value(rho2, step, "input sample set")
    k0 = orbits.per_orbit(kt_start)
    k1 = orbits.per_orbit(kt_end)
    if np.any(k1 > k0 * (1 + 1e-12)):
        raise InputError.bad(
            f"Kt_end (step {step})",
            "<larger than Kt_start>",
            "<= Kt_start mode by mode",
            "the flow runs towards the infrared with K increasing in Lambda",
        )
    dbar = (k0 - k1) / tau
    active = np.flatnonzero(dbar > 1e-13 * k0)
    frozen = [int(o) for o in range(orbits.n) if o not in set(active.tolist())]
    thetas, fams, msgs, couplings = [], [], [], []
    total, ok, nit = 0.0, True, 0
    rng = np.random.default_rng(seed)
    for j, o in enumerate(active):
        rho = np.sqrt(rho2[:, o])
        rms = float(np.sqrt(np.mean(rho2[:, o])))
        # coupled family: the orbit's scale depends on the input power of the frozen orbits and of
        # the active orbits before it (block-triangular Jacobian, exact log-determinant)
        src = tuple(frozen + [int(x) for x in active[:j]]) if family == "coupled" else ()
        u, cpl = None, None
        if src:
            power = rho2[:, list(src)].sum(axis=1)
            norm = float(np.mean(power))
            if norm > 0 and np.std(power) > 1e-12 * norm:
                cpl = (src, norm)
                u = power / norm - 1.0
        fam = RadialFamily(() if family == "linear" else tuple(s * rms for s in RADIAL_SCALES), coupled=cpl is not None)
        couplings.append(cpl)
        args = (fam, rho, int(orbits.m[o]), float(dbar[o]), float(k1[o]), tau, c, u)
        x0 = np.zeros(fam.n_params) if theta0 is None else np.asarray(theta0[j], float)
        if family == "linear" or theta0 is None:
            # closed-form linear step as the start (exact optimum of the linear family)
            a = free_jko_factor(np.mean(rho**2) / orbits.m[o], dbar[o], k1[o], tau, c)
            x0[0] = math.log(float(a))
        if optimizer == "newton":
            theta, fval, conv, it = _newton(x0, args, step, gtol)
            nit += it
            if not conv:
                msgs.append(f"orbit phat^2={orbits.p2[o]:.6g}: Newton did not reach |grad| < {gtol}")
        elif optimizer == "lbfgs":
            res = minimize(
                orbit_objective,
                x0,
                args=args,
                jac=True,
                method="L-BFGS-B",
                options={"gtol": gtol, "ftol": 1e-15, "maxiter": 500},
            )
            _check_value(res.fun, step, f"JKO objective (orbit phat^2={orbits.p2[o]:.6g})")
            theta, fval = res.x, float(res.fun)
            conv = bool(res.success) or np.max(np.abs(res.jac)) < 1e-6
            nit += int(res.nit)
            if not conv:
                msgs.append(f"orbit phat^2={orbits.p2[o]:.6g}: {res.message}")
        else:
            theta, fval, conv, it = _adam(x0, args, rng, batch_size, n_epochs, learning_rate, step)
            nit += it
        ok &= conv
        total += fval
        thetas.append(np.asarray(theta, float))
        fams.append(fam)
    F = ShellMap(
        orbits, active, thetas, fams, step, couplings=couplings if any(x is not None for x in couplings) else None
    )
    F.factors(rho2)  # raises if not invertible on the sample set
    F.info = {"tau": tau, "objective": total, "converged": ok}
    return JKOStep(F, total, ok, nit, msgs)


def _hessian(th, args, h=1e-5):
    n = th.size
    H = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = h
        H[:, i] = (orbit_objective(th + e, *args)[1] - orbit_objective(th - e, *args)[1]) / (2 * h)
    return 0.5 * (H + H.T)


def _newton(x0, args, step, gtol, max_iter=60):
    """Damped Newton with backtracking; falls back to gradient steps where the Hessian is not positive."""
    th = np.asarray(x0, dtype=float).copy()
    f, g = orbit_objective(th, *args)
    _check_value(f, step, "JKO objective")
    for it in range(max_iter):
        if np.max(np.abs(g)) < gtol:
            return th, f, True, it
        H = _hessian(th, args)
        w, U = np.linalg.eigh(H)
        w = np.maximum(w, 1e-8 * max(1.0, float(np.max(np.abs(w)))))
        d = -(U @ ((U.T @ g) / w))
        if -float(g @ d) < 1e-15 * max(1.0, abs(f)):  # Newton decrement at rounding level
            return th, f, True, it
        t = 1.0
        while True:
            thn = th + t * d
            fn, gn = orbit_objective(thn, *args)
            if np.isfinite(fn) and fn <= f + 1e-4 * t * float(g @ d):
                break
            t *= 0.5
            if t < 1e-10:
                return th, f, bool(np.max(np.abs(g)) < 1e-6), it
        th, f, g = thn, fn, gn
    return th, f, bool(np.max(np.abs(g)) < gtol), max_iter


def _adam(x0, args, rng, batch_size, n_epochs, learning_rate, step):
    """Algorithm 2: Adam (optax, cosine-decayed rate) on mini-batches; returns (theta, objective, ok, n_iter).

    ``ok``: the full-batch gradient at the end is below 1e-2 (SGD reaches a neighbourhood of the optimum).
    """
    import jax.numpy as jnp  # noqa: PLC0415
    import optax  # noqa: PLC0415

    fam, rho, m, dbar, k, tau, c, u = args
    n = rho.size
    bs = int(min(max(2, batch_size), n))
    total = int(n_epochs) * max(1, n // bs)
    opt = optax.adam(optax.cosine_decay_schedule(float(learning_rate), total))
    theta = jnp.asarray(x0)
    state = opt.init(theta)
    it = 0
    for _ in range(int(n_epochs)):
        perm = rng.permutation(n)
        for s in range(0, n - bs + 1, bs):
            sel = perm[s : s + bs]
            _, g = orbit_objective(np.asarray(theta), fam, rho[sel], m, dbar, k, tau, c, None if u is None else u[sel])
            _check_value(g, step, "mini-batch gradient")
            upd, state = opt.update(jnp.asarray(g), state, theta)
            theta = optax.apply_updates(theta, upd)
            it += 1
    th = np.asarray(theta, dtype=float)
    J, g = orbit_objective(th, fam, rho, m, dbar, k, tau, c, u)
    _check_value(J, step, "JKO objective")
    return th, J, bool(np.max(np.abs(g)) < 1e-2), it


def newton_refit(
    theta: np.ndarray,
    family: RadialFamily,
    rho: np.ndarray,
    m: int,
    dbar: float,
    k: float,
    tau: float,
    cost_factor: float = COST_FACTOR,
    n_newton: int = 4,
    u: np.ndarray | None = None,
) -> np.ndarray:
    """A few damped Newton steps of :func:`orbit_objective` from ``theta``.

    Used for the one-step jackknife: the optimum on a sample set with one block left out is a
    small displacement of the full optimum, so Newton from the full ``theta`` reaches it.
    """
    args = (family, rho, m, dbar, k, tau, cost_factor, u)
    th, _, _, _ = _newton(np.asarray(theta, dtype=float), args, -1, 1e-10, max_iter=int(n_newton))
    return th
