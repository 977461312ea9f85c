"""Far-separated scales ``m << Lambda``: melons ``M[D, Kt, .., Kt]`` with a closed-form outer region.

For the bump cutoff ``K = 1`` below ``Lambda``, so a ``Kt`` line splits as

.. math::

    Kt(q) = \\frac{1}{q^2+m^2} - H(q), \\qquad H = \\frac{1-K}{q^2+m^2} = 0 \\ (q < \\Lambda),

and its transform is ``f_K(r) = G_m(r) - h(r)`` with the free propagator in closed form

.. math::

    G_m(r) = \\int_q \\frac{e^{iqr}}{q^2+m^2}
           = \\frac{1}{2\\pi}\\Big(\\frac{m}{2\\pi r}\\Big)^{d/2-1} K_{d/2-1}(m r)

(``d = 1``: ``e^{-mr}/(2m)``; ``d = 2``: ``K_0(mr)/(2 pi)``; ``d = 3``: ``e^{-mr}/(4 pi r)``),
while ``h`` lives on the cutoff's scales (``Lambda``, the bump width, the kink at
``lambda_max^2 + eps``) and has no ``1/m`` range.  The melon ``M = (2 pi)^d S_d int q^{d-1}
D(q) g_hat(q)``, ``g = f_K^n`` (module :mod:`.melon`), splits at a radius ``R_in`` of the
cutoff's scale:

* ``[0, R_in]``: ``f_K^n`` from the position-space transforms (:mod:`.transforms`) on grids
  of radius ``R_in`` (small kernels);
* ``[R_in, R_out]``: ``G_m^n`` in closed form, forward-transformed at the ``D``-shell momenta
  by composite Gauss-Legendre panels (``R_out``: where ``e^{-n m r}`` has decayed; the rest is
  bounded in closed form, ``G_m e^{mr}`` being non-increasing);
* ``f_K^n - G_m^n`` beyond ``R_in``: its contributions on the dyadic shells
  ``[R_in/4, R_in/2]`` and ``[R_in/2, R_in]`` (computed exactly, both functions are known
  there) continued geometrically (:func:`~.transforms.tail_estimate`, the truncation model of
  the position method); ``R_in`` is doubled until that estimate is below the tolerance.

Applies only to the bump cutoff, ``Kt`` lines of power one and one ``D`` line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..families import Line
from .quadrature import composite_nodes
from .transforms import H_PANEL, N_HI, N_LO, grid_forward, tail_bound, tail_estimate

if TYPE_CHECKING:
    from ..cutoffs.base import Cutoff
    from .transforms import PointContext

__all__ = ["free_propagator", "split_applies", "melon_split"]

EPS = np.finfo(float).eps
#: first inner radius times Lambda
R_IN_START = 64.0
#: the split is used only where ``m <= SPLIT_RATIO * Lambda``
SPLIT_RATIO = 0.05
#: the inner grids may use this multiple of the position method's kernel budget (the inner
#: radius stays on the cutoff's scale: d = 1 at rtol 1e-8 needs R_in = 2048/Lambda, 2.7e8)
SPLIT_BUDGET_FACTOR = 2.0


def free_propagator(dim: int, mass: float, r: float | np.ndarray) -> float | np.ndarray:
    """``G_m(r) = int_q e^{iqr}/(q^2+m^2)`` in ``d`` dimensions (``m > 0``, ``r > 0``).

    Reference (tests): the radial transform ``S_d/(2 pi)^d int q^{d-1} omega_d(qr)/(q^2+m^2)``
    by ``mpmath.quadosc``.
    """
    from scipy.special import kv

    r = np.asarray(r, float)
    z = mass * r
    if dim == 1:
        return np.exp(-z) / (2.0 * mass)
    if dim == 3:
        return np.exp(-z) / (4.0 * math.pi * r)
    nu = dim / 2.0 - 1.0
    return (mass / (2.0 * math.pi * r)) ** nu * kv(nu, z) / (2.0 * math.pi)


def split_applies(lines: Sequence[Line], cutoff: Cutoff, dim: int, mass: float, Lambda: float, outer: bool) -> bool:
    """Whether :func:`melon_split` applies (and is needed).

    One ``D`` line (``Line(0, 1)``), the others ``Kt`` (``Line(1)``), the bump cutoff (``K = 1``
    below ``Lambda``), ``0 < m <= SPLIT_RATIO Lambda``, and an integrand whose range is ``1/m``
    (``r^(d-1) f_K^n`` not decaying faster than ``1/r`` below ``1/m``: ``f2`` in ``d <= 3``;
    in ``d >= 4`` the position method's grids already stay on the cutoff's scale).
    """
    if not outer or getattr(cutoff, "kind", "") != "bump" or not mass > 0:
        return False
    if mass > SPLIT_RATIO * Lambda:
        return False
    dl = [l for l in lines if l != Line(1)]
    if len(lines) < 3 or dl != [Line(0, 1)]:
        return False
    n = len(lines) - 1
    return dim - 1 + n * min(2 - dim, 0) >= -1


def _outer_radius(dim, mass, n, R_in, target_abs):
    """``R_out`` with ``int_{R_out}^inf r^(d-1) G^n dr`` below ``target_abs`` and that bound.

    ``G_m(r) e^{m r}`` is non-increasing, so for ``r >= R``:
    ``r^(d-1) G(r)^n <= R^(d-1) G(R)^n (r/R)^(d-1) e^{-n m (r-R)}``, whose integral is
    ``R^(d-1) G(R)^n sum_k C(d-1,k) k! / (R^k (n m)^(k+1))``.
    """
    a = n * mass

    def bound(R):
        s = sum(math.comb(dim - 1, k) * math.factorial(k) / (R**k * a ** (k + 1)) for k in range(dim))
        return R ** (dim - 1) * float(free_propagator(dim, mass, R)) ** n * s

    R = max(R_in, 1.0 / a)
    while bound(R) > target_abs and R < R_in + 800.0 / a:
        R *= 1.25
    return R, bound(R)


def _outer(dim, mass, n, R_in, R_out, p, pmax, nq):
    """``S_d int_{R_in}^{R_out} r^(d-1) omega_d(p r) G(r)^n dr`` at momenta ``p`` (rule ``nq``)."""
    from ..conventions import sphere_area

    J = max(1, int(math.ceil((R_out - R_in) * pmax / H_PANEL)))
    h = (R_out - R_in) / J
    a = R_in + np.arange(J) * h
    delta, wd = composite_nodes(np.array([0.0, h]), nq)
    r = (a[:, None] + delta[None, :]).ravel()
    w = np.tile(wd, J)
    U = w * sphere_area(dim) * r ** (dim - 1) * free_propagator(dim, mass, r) ** n
    return grid_forward(dim, a, delta, p, U), J * nq


def melon_split(
    lines: Sequence[Line],
    cutoff: Cutoff,
    dim: int,
    mass: float,
    Lambda: float,
    rtol: float,
    ctx: PointContext | None = None,
    R_in: float | None = None,
) -> tuple[float, float, bool, dict]:
    """``M[D, Kt, .., Kt]`` by the split of the module docstring: ``(value, error, converged, info)``."""
    from .limits import KERNEL_BUDGET, PositionBudgetError
    from .transforms import PointContext

    if ctx is None:
        ctx = PointContext(cutoff, dim, mass, Lambda)
    dline = Line(0, 1)
    others = [l for l in lines if l != dline]
    n = len(others)
    c = (2 * math.pi) ** dim
    R = float(R_in) if R_in is not None else R_IN_START / Lambda

    def one_pass(R, nn):
        qe = ctx.q_eff(R, nn)
        pmax = ctx.shell_max(R, nn)
        bw = n * qe + pmax
        nq = ctx.qnodes(R, nn)[0].size
        nr = 4 * max(1, int(math.ceil(R * bw / H_PANEL / 4))) * nn
        size = float(nr) * (nq + ctx.qnodes(R, nn, dk_only=True)[0].size)
        if size > SPLIT_BUDGET_FACTOR * KERNEL_BUDGET:
            raise PositionBudgetError(
                f"mass={mass:g}, Lambda={Lambda:g}: the inner region of the split melon needs "
                f"R_in={R:.3g} and a kernel of {size:.2g} elements (limit {SPLIT_BUDGET_FACTOR * KERNEL_BUDGET:.2g})"
            )
        gkey, (r, wr) = ctx.rgrid(R, bw, nn)
        tr = ctx.transform(others, gkey, R, nn)
        meas = wr * ctx.Sd * r ** (dim - 1)
        P = np.prod([f for f, _ in tr], axis=0)
        G = free_propagator(dim, mass, np.where(r > 0, r, 1.0))
        Q = np.where(r > R / 4, P - G**n, 0.0)
        cols = np.stack([P, Q * (r <= R / 2), Q * (r > R / 2)], axis=1)
        q, w, F = ctx.line_q(dline, R, nn)
        Ph = ctx.forward(cols, gkey, q)
        wF = w * F
        vals = c * (wF @ Ph)
        aw = c * float(np.sum(np.abs(wF)))
        # rounding: each f_e carries ~8 eps sum|w Kt|; the product's relative error adds up
        l1 = max(a for _, a in tr)
        fmax = np.max(np.abs([f for f, _ in tr]), axis=0)
        rnd = aw * float(meas @ (8 * EPS * n * l1 * fmax ** (n - 1)))
        _, rho_env = tail_bound(r, meas * np.abs(Q), R)
        return vals, q, wF, aw, rnd, rho_env, pmax, r.size

    def outer_part(R, inner, nn, target_abs):
        vals, q, wF, aw, rnd, rho_env, pmax, nr_nodes = inner
        R_out, ob = _outer_radius(dim, mass, n, R, target_abs / (aw * ctx.Sd))
        go, n_out = _outer(dim, mass, n, R, R_out, q, pmax, nn)
        return c * float(wF @ go), aw * ctx.Sd * ob, {"R_in": R, "R_out": R_out, "n_r": nr_nodes, "n_r_outer": n_out}

    best = None
    for _attempt in range(8):
        try:
            inner = one_pass(R, N_HI)
        except PositionBudgetError:
            if best is None:
                raise
            break  # keep the largest inner radius within budget (reported not converged)
        vals, rho_env = inner[0], inner[5]
        # |M| to ~1e-6 first (it sets the tolerance), then the outer region to the tolerance
        loose = outer_part(R, inner, N_HI, 1e-6 * abs(vals[0]))[0]
        target = 0.5 * max(rtol * abs(float(vals[0]) + loose), 1e-300)
        out_val, ob, info = outer_part(R, inner, N_HI, 0.05 * target)
        I1 = float(vals[0]) + out_val
        tb, _rho = tail_estimate(vals[1] + vals[2], vals[1], 0.0, rho_env)
        best = (R, I1, float(tb), ob, inner[4], info, target)
        if float(tb) <= target:
            break
        R *= 2.0
    R, I1, tail_b, ob, rnd, info, target = best
    lo = one_pass(R, N_LO)
    I0 = float(lo[0][0]) + outer_part(R, lo, N_LO, 0.05 * target)[0]
    err = abs(I1 - I0) + tail_b + ob + rnd + 64 * EPS * abs(I1)
    info.update({"method": "split", "tail_outside": tail_b, "outer_bound": ob, "kernel_evals": ctx.n_kernel})
    return I1, err, bool(err <= rtol * abs(I1)), info
