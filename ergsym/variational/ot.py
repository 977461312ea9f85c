"""Optimal-transport primitives of the variational RG (Cotler & Rezchikov, PRD 108, 025003, §II.B, §III).

The transport cost of the paper's (3.4)/(6.14) between field configurations is

.. math:: c(\\phi, \\phi') = 2 \\sum_{x,y} (\\phi-\\phi')_x (\\dot C^{-1})_{xy} (\\phi-\\phi')_y
          = \\frac{2}{V}\\sum_p \\frac{|\\phi_p-\\phi'_p|^2}{D_p}

on a periodic lattice (``phi_p = sum_x e^{-ipx} phi_x``, ``Cdot_xy = (1/V) sum_p e^{ip(x-y)} D_p``;
see ``docs/lattice.md``), with the **factor 2**: with it the minimiser of the JKO step reproduces the
exact Polchinski flow ``dG_p/dt = D_p (1 - 2 G_p/Kt_p)`` (``t = -ln Lambda``), without it the rate
doubles (``docs/variational.md``).  Modes with ``D_p = 0`` cost infinitely much to move.

Everything here returns :class:`OTValue` (value, error, converged, exact).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ConvergenceError, InputError

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike

__all__ = [
    "OTValue",
    "COST_FACTOR",
    "w2_gaussian_modes",
    "whiten",
    "w2_empirical",
    "sliced_w2",
    "sinkhorn_w2",
    "kantorovich",
    "monge_1d",
    "w2_1d_quantile",
    "heat_flow_jko_variance",
]

#: the factor in front of the quadratic form in (3.4)/(6.14)
COST_FACTOR = 2.0


@dataclass(frozen=True)
class OTValue:
    """A transport cost with its error: ``value`` (squared distance), ``error``, ``converged``, ``exact``."""

    value: float
    error: float
    converged: bool = True
    exact: bool = False
    method: str = ""

    @property
    def distance(self) -> float:
        """``sqrt(value)`` (the W2 distance itself)."""
        return math.sqrt(max(self.value, 0.0))

    def to_dict(self) -> dict:
        return {
            "value": float(self.value),
            "error": float(self.error),
            "converged": bool(self.converged),
            "exact": bool(self.exact),
            "method": self.method,
        }


def _factor(cost_factor):
    c = float(cost_factor)
    if not (math.isfinite(c) and c > 0):
        raise InputError.bad("cost_factor", cost_factor, "finite and > 0", "the paper's (3.4) uses 2")
    return c


def _positive_array(a, name, allow_zero):
    arr = np.asarray(a, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise InputError.bad(name, "<array with NaN/inf>", "finite numbers")
    if np.any(arr < 0) or (not allow_zero and np.any(arr == 0)):
        raise InputError.bad(f"min({name})", float(arr.min()), ">= 0" if allow_zero else "> 0")
    return arr


def w2_gaussian_modes(
    g1_p: np.ndarray,
    g2_p: np.ndarray,
    d_p: np.ndarray,
    mean1_p: np.ndarray | None = None,
    mean2_p: np.ndarray | None = None,
    cost_factor: float = COST_FACTOR,
) -> OTValue:
    """Closed-form transport cost between two translation-invariant Gaussian field measures.

    For Gaussian measures diagonal in momentum space with two-point functions
    ``G_p = <|phi_p|^2>/V`` the optimal map is ``phi_p -> sqrt(G2_p/G1_p) phi_p`` mode by mode, so

    .. math:: W_2^2 = c \\sum_p \\frac{(\\sqrt{G_{1,p}}-\\sqrt{G_{2,p}})^2 + |m_{1,p}-m_{2,p}|^2/V}{D_p}

    (``c = 2``, the paper's (3.4); ``m_p = <phi_p>``, zero by default).

    Parameters
    ----------
    g1_p, g2_p : array_like
        Two-point functions, >= 0, same shape.
    d_p : array_like
        ``D_p >= 0``; modes with ``D_p = 0`` must have equal ``G`` (and mean): moving them costs
        infinitely much.
    mean1_p, mean2_p : array_like, optional
    cost_factor : float

    Raises
    ------
    InputError
        Shapes differ, negative entries, or a mode with ``D_p = 0`` differs (infinite distance).
    """
    c = _factor(cost_factor)
    g1 = _positive_array(g1_p, "g1_p", True)
    g2 = _positive_array(g2_p, "g2_p", True)
    d = _positive_array(d_p, "d_p", True)
    if not (g1.shape == g2.shape == d.shape):
        raise InputError.bad("shapes", (g1.shape, g2.shape, d.shape), "equal for g1_p, g2_p, d_p")
    num = (np.sqrt(g1) - np.sqrt(g2)) ** 2
    if mean1_p is not None or mean2_p is not None:
        m1 = np.zeros_like(g1) if mean1_p is None else np.asarray(mean1_p)
        m2 = np.zeros_like(g1) if mean2_p is None else np.asarray(mean2_p)
        num = num + np.abs(m1 - m2) ** 2 / g1.size
    frozen = d == 0
    if np.any(num[frozen] > 1e-14 * (1 + g1[frozen])):
        raise InputError.bad(
            "g2_p",
            "<differs from g1_p on a mode with D_p = 0>",
            "equal to g1_p wherever D_p = 0",
            "the kernel Cdot^-1 is infinite there: the distance is infinite",
        )
    val = c * float(np.sum(num[~frozen] / d[~frozen]))
    return OTValue(val, 1e-14 * abs(val), True, True, "closed form (Gaussian, mode by mode)")


def whiten(phi: np.ndarray, d_p: np.ndarray, cost_factor: float = COST_FACTOR) -> np.ndarray:
    """Coordinates in which the cost (3.4) is Euclidean: ``|w(phi) - w(phi')|^2 = c(phi, phi')``.

    ``w(phi) = sqrt(c) * IFFT(phi_p / sqrt(D_p))`` on the modes with ``D_p > 0`` (zero on the others,
    which a finite-cost coupling leaves fixed).  ``phi`` has shape ``(n,) + shape``; returns ``(n, V)``.
    With ``N`` components (shape ``(n, N) + shape``) every component is whitened alike and the cost
    is summed over them: returns ``(n, N V)``.
    """
    c = _factor(cost_factor)
    d = _positive_array(d_p, "d_p", True)
    phi = np.asarray(phi, dtype=float)
    shape = d.shape
    if phi.shape[1:] != shape and not (phi.ndim == len(shape) + 2 and phi.shape[2:] == shape):
        raise InputError.bad("phi.shape", phi.shape, f"(n,) + {shape} or (n, N) + {shape}")
    axes = tuple(range(phi.ndim - len(shape), phi.ndim))
    inv = np.zeros_like(d)
    inv[d > 0] = 1.0 / np.sqrt(d[d > 0])
    w = np.fft.ifftn(np.fft.fftn(phi, axes=axes) * inv, axes=axes).real
    return math.sqrt(c) * w.reshape(phi.shape[0], -1)


def _as_points(x, name):
    a = np.asarray(x, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] < 1:
        raise InputError.bad(f"{name}.shape", a.shape, "(n, dim) with n >= 1")
    if not np.all(np.isfinite(a)):
        raise InputError.bad(name, "<array with NaN/inf>", "finite numbers")
    return a


def _weights(w, n, name):
    if w is None:
        return np.full(n, 1.0 / n)
    a = np.asarray(w, dtype=float)
    if a.shape != (n,) or np.any(a < 0) or not np.isfinite(a).all() or abs(a.sum() - 1) > 1e-10:
        raise InputError.bad(name, "<weights>", f"{n} non-negative weights summing to 1")
    return a


def kantorovich(a: ArrayLike, b: ArrayLike, cost: np.ndarray) -> tuple[OTValue, np.ndarray]:
    """Discrete Kantorovich problem (the paper's (2.21)): ``min_pi sum pi_ij C_ij``, marginals ``a``, ``b``.

    Solved exactly by the network simplex of POT (``ot.emd``).

    Returns
    -------
    (OTValue, plan) : the optimal cost (exact) and the coupling ``pi`` (shape ``(len(a), len(b))``).

    Raises
    ------
    InputError
        Bad weights or cost matrix; ConvergenceError if the solver did not reach optimality.
    """
    import ot  # noqa: PLC0415  (optional dependency: the ``variational`` extra)

    C = np.asarray(cost, dtype=float)
    if C.ndim != 2 or not np.isfinite(C).all():
        raise InputError.bad("cost", "<matrix>", "a finite 2-d array")
    a = _weights(a, C.shape[0], "a")
    b = _weights(b, C.shape[1], "b")
    plan, log = ot.emd(a, b, C, log=True)
    if log.get("warning") is not None or log.get("result_code", 1) != 1:
        raise ConvergenceError(f"ot.emd did not reach optimality: {log.get('warning')}", estimate=float(log["cost"]))
    return OTValue(float(log["cost"]), 1e-12 * abs(float(log["cost"])), True, True, "ot.emd"), plan


def w2_empirical(x: np.ndarray, y: np.ndarray, a: ArrayLike | None = None, b: ArrayLike | None = None) -> OTValue:
    """Exact squared W2 between two empirical measures (points ``(n, dim)``, Euclidean cost).

    Give whitened points (:func:`whiten`) to get the cost (3.4).  Exact for the empirical
    measures (``ot.emd``, network simplex); O(n^3): use it for n up to a few thousand.
    """
    x = _as_points(x, "x")
    y = _as_points(y, "y")
    if x.shape[1] != y.shape[1]:
        raise InputError.bad("y.shape[1]", y.shape[1], f"{x.shape[1]} (the dimension of x)")
    C = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    val, _ = kantorovich(a, b, C)
    return OTValue(val.value, val.error, True, True, "ot.emd (exact for the sample sets)")


def sinkhorn_w2(x: np.ndarray, y: np.ndarray, reg: float = 0.05, n_iter: int = 2000) -> OTValue:
    """Entropic (Sinkhorn) transport cost ``ot.sinkhorn2`` between equal-weight point sets.

    ``reg`` is relative to the median cost.  The value is the transport cost of the entropic plan
    (an upper bound on the exact one); ``error`` = its difference to the exact cost is not known,
    so ``error`` is ``reg`` times the median cost (the entropic bias scale) and ``converged`` says
    whether the Sinkhorn iterations met their tolerance.
    """
    import ot  # noqa: PLC0415

    x = _as_points(x, "x")
    y = _as_points(y, "y")
    if not (math.isfinite(reg) and reg > 0):
        raise InputError.bad("reg", reg, "> 0")
    C = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    scale = float(np.median(C)) or 1.0
    a = np.full(x.shape[0], 1.0 / x.shape[0])
    b = np.full(y.shape[0], 1.0 / y.shape[0])
    import warnings  # noqa: PLC0415

    with warnings.catch_warnings():
        # non-convergence is reported through ``converged``, not as a warning
        warnings.filterwarnings("ignore", message="Sinkhorn did not converge")
        plan, log = ot.sinkhorn(a, b, C / scale, reg, numItermax=n_iter, stopThr=1e-7, log=True)
    err = float(log["err"][-1]) if log.get("err") else 0.0
    val = float(np.sum(plan * C))
    return OTValue(val, reg * scale, bool(err < 1e-5), False, f"ot.sinkhorn (reg={reg} x median cost)")


def sliced_w2(x: np.ndarray, y: np.ndarray, n_projections: int = 200, seed: int = 0) -> OTValue:
    """Sliced squared W2 (average over random directions of the 1-D W2 by sorted matching).

    Equal sample sizes.  ``error`` is the standard error over the random directions.  Note that
    the sliced distance is ``1/dim`` of W2 for isotropic differences: compare it only with
    itself (e.g. across step sizes).
    """
    x = _as_points(x, "x")
    y = _as_points(y, "y")
    if x.shape != y.shape:
        raise InputError.bad("y.shape", y.shape, f"{x.shape} (equal sample sizes)")
    if not isinstance(n_projections, (int, np.integer)) or n_projections < 2:
        raise InputError.bad("n_projections", n_projections, "an integer >= 2")
    rng = np.random.default_rng(seed)
    th = rng.standard_normal((x.shape[1], int(n_projections)))
    th /= np.linalg.norm(th, axis=0)
    px = np.sort(x @ th, axis=0)
    py = np.sort(y @ th, axis=0)
    per = np.mean((px - py) ** 2, axis=0)
    return OTValue(
        float(per.mean()),
        float(per.std(ddof=1) / math.sqrt(per.size)),
        True,
        False,
        f"sliced ({n_projections} directions)",
    )


def monge_1d(x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray, OTValue]:
    """1-D Monge map by sorted matching: returns ``(order_x, order_y, cost)``.

    The optimal coupling of two equal-size 1-D empirical measures pairs the ``k``-th smallest ``x``
    with the ``k``-th smallest ``y`` (monotone rearrangement); ``cost = mean (x_(k) - y_(k))^2``.
    """
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape or x.size < 1 or not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise InputError.bad("y", "<array>", "finite, same size as x")
    ox, oy = np.argsort(x, kind="stable"), np.argsort(y, kind="stable")
    cost = float(np.mean((x[ox] - y[oy]) ** 2))
    return ox, oy, OTValue(cost, 1e-15 * cost, True, True, "sorted matching")


def w2_1d_quantile(
    qf1: Callable[[np.ndarray], ArrayLike], qf2: Callable[[np.ndarray], ArrayLike], n: int = 4096
) -> OTValue:
    """Squared W2 of two 1-D laws from their quantile functions: ``int_0^1 (q1(u) - q2(u))^2 du``.

    Midpoint rule on ``n`` and ``n/2`` points; ``error`` = their difference.
    """

    def est(m):
        u = (np.arange(m) + 0.5) / m
        return float(np.mean((np.asarray(qf1(u)) - np.asarray(qf2(u))) ** 2))

    hi, lo = est(n), est(n // 2)
    return OTValue(hi, abs(hi - lo), True, False, "quantile midpoint rule")


def heat_flow_jko_variance(s: float, tau: float) -> float:
    """One JKO step of the entropy ``int rho ln rho`` from ``N(0, s)`` with cost ``|x-y|^2/(2 tau)``.

    Otto calculus: the W2 gradient flow of the entropy is the heat equation ``d rho/dt = + Laplacian rho``
    (variance ``s + 2t``).  Over linear maps ``x -> a x`` the step minimises
    ``(a-1)^2 s/(2 tau) - ln a``; its root is ``a = (1 + sqrt(1 + 4 tau/s))/2`` and the new variance
    ``a^2 s = s + 2 tau + O(tau^2)``.  Returns the new variance.
    """
    s, tau = float(s), float(tau)
    if not (s > 0 and tau > 0):
        raise InputError.bad("s, tau", (s, tau), "both > 0")
    a = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * tau / s))
    return a * a * s
