"""Melon blocks: two vertices joined by ``n >= 3`` lines (docs/numeric.md; families.py).

Value of a melon with lines ``F_1 .. F_n`` (momentum-space functions ``Kt^kt D^d``):

.. math::

    M = c \\int d^dx \\prod_e f_e(x), \\qquad f_e(x) = \\int_q e^{iqx} F_e(q),
    \\qquad c = (2\\pi)^d \\text{ if the block holds the D line, else } 1 .

``f2 = M[D,K,K,K] = int d^dp D(p) Sun(p)`` (5.10).

Position-space method (default, ``method="position"``)
------------------------------------------------------
Radial Hankel transforms with the normalized kernel
``omega_d(z) = Gamma(d/2) (2/z)^{d/2-1} J_{d/2-1}(z)`` (the angular average of ``e^{iz cos}``):

.. math::

    f_e(r) = \\frac{S_d}{(2\\pi)^d} \\int_0^\\infty q^{d-1} \\omega_d(qr) F_e(q)\\, dq ,\\qquad
    M = c\\, S_d \\int_0^R r^{d-1} \\prod_e f_e(r)\\, dr .

The ``q`` integral runs over the cutoff's pieces (bump in its local variable), with composite
Gauss-Legendre panels short enough to resolve ``cos(q r)`` up to ``r = R``; the ``r``
integral uses panels resolving the product's bandwidth ``sum_e q_max,e``.  Every ``f_e`` is
a matrix-vector product (``N_r x N_q``).  Error estimate: difference between a 16-point and
a 24-point rule on the same panels, plus the truncation bound ``int_{R/2}^R |integrand|``
(conservative for integrands decaying at least like ``r^-2``), plus rounding.  ``R`` is
doubled until the truncation bound is below a twentieth of the tolerance.

Momentum-space method (``method="momentum"``, independent cross-check, 3 or 4 lines)
------------------------------------------------------------------------------------
Convolutions of pairs of lines by radial quadrature over the cutoff's pieces (bump in its
local variable) times a Gegenbauer-weighted angular quadrature in a variable that removes the
weight's endpoint singularities, split at every breakpoint; then one radial ``k`` integral.
See :mod:`.momentum`.  It never uses the position-space transforms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from ..families import Line
from .limits import KERNEL_BUDGET, PositionBudgetError  # noqa: F401  (re-exported: ergsym.numeric.melon.*)
from .transforms import N_HI, N_LO, next_R, omega_d, tail_bound, tail_estimate

if TYPE_CHECKING:
    from ..cutoffs.base import Cutoff
    from .transforms import PointContext

__all__ = ["melon_value", "omega_d", "position_transform"]

EPS = np.finfo(float).eps
#: initial truncation radius times min(Lambda, mass)
R_START = 32.0
N_LO_M, N_HI_M = 12, 16  # momentum method (panels of width <= 0.5)


def start_radius(Lambda: float, mass: float) -> float:
    """Initial truncation radius ``R_START / min(Lambda, m)`` (``m = 0``: ``R_START/Lambda``)."""
    lo = min(Lambda, mass) if mass > 0 else Lambda
    return R_START / lo


def outer_start_radius(
    lines: Sequence[Line], dim: int, mass: float, Lambda: float, cutoff: Cutoff | None = None
) -> float:
    """Initial radius of a melon holding the ``D`` line (the outer block of a family).

    Its integrand is ``r^(d-1) f_D(r) prod_e f_e(r)``.  The truncation test doubles ``R``
    until the tail is negligible, so the start only has to be on the scale where the
    integrand has decayed:

    * ``m < Lambda``: at ``r << 1/m`` a line ``Kt^k`` behaves like ``r^(2k-d)`` (``2k < d``)
      or is flat up to ``r ~ 1/m``.  If ``r^(d-1) prod_e f_e`` already decays faster than
      ``1/r`` there (``f2`` in ``d >= 4``), the range is set by ``Lambda``: ``R_START/Lambda``;
      otherwise (``f2`` in ``d <= 3``) by ``1/m``: :func:`start_radius`.
    * ``m >= Lambda`` with a cutoff whose ``dK/dLambda`` has compact support (the bump, whose
      plateau keeps ``K >= eps`` out to ``lambda_max``): every ``Kt`` line decays like
      ``e^(-m r)`` (times the power-law tails of the cutoff's kinks, which the truncation test
      follows), so ``R_START/m``.  The ``D`` line's own range ``1/Lambda`` is cut off by them.
      (For smooth cutoffs ``K`` removes every momentum above ``Lambda << m`` and the lines
      spread over ``1/Lambda``: :func:`start_radius`.)
    """
    others = [l for l in lines if l.d == 0]
    if mass <= 0 or len(others) != len(lines) - 1:
        return start_radius(Lambda, mass)
    if mass < Lambda:
        expo = dim - 1 + sum(min(2 * l.kt - dim, 0) for l in others)
        return R_START / Lambda if expo < -1 else start_radius(Lambda, mass)
    if getattr(cutoff, "compact_dk", False) and getattr(cutoff, "kind", "") == "bump":
        # for m >> lambda_max, 1/(q^2+m^2) is flat over K's support and the lines spread
        # over the cutoff's own scale instead
        return R_START / min(mass, float(cutoff.lambda_max))
    return start_radius(Lambda, mass)


def integrand_columns(tr: list, r: np.ndarray, meas: np.ndarray, R: float) -> tuple:
    """Shared by single-point and batched melons: the position-space product of the lines.

    ``tr`` holds ``(f(r), l1)`` per line (transform values and the L1 norm bounding their
    rounding).  Returns the tail envelope of the product beyond ``R``, the rounding bound of
    its radial integral, and the product truncated at ``R, R/2, R/4`` (panel edges) as the
    three columns of one transform.
    """
    fv = [f for f, _ in tr]
    P = np.prod(fv, axis=0)
    _, rho_env = tail_bound(r, meas * np.abs(P), R)
    rnd = np.zeros_like(r)
    for i, (_, a) in enumerate(tr):
        others_abs = np.prod([np.abs(fv[j]) for j in range(len(fv)) if j != i], axis=0) if len(fv) > 1 else 1.0
        rnd = rnd + 8 * EPS * a * others_abs
    return rho_env, float(meas @ rnd), np.stack([P, P * (r <= R / 2), P * (r <= R / 4)], axis=1)


def _line_pieces(line, pieces):
    return [p for p in pieces if not (line.d >= 1 and p.dk_zero)]


def position_transform(
    line: Line,
    cutoff: Cutoff | str,
    dim: int,
    mass: float,
    Lambda: float,
    r: float | np.ndarray,
    R: float | None = None,
    n: int = N_HI,
) -> np.ndarray:
    """``f(r) = int_q e^{iqr} F(q)`` of one line (no D) at radii ``r`` (for tests and plots)."""
    from .transforms import PointContext, kernel_apply

    r = np.asarray(r, float)
    ctx = PointContext(cutoff, dim, mass, Lambda)
    R = max(float(np.max(r)) if R is None else R, 1.0)
    q, w, f = ctx.line_q(line, R, n)
    return kernel_apply(dim, r.ravel(), q, w * f).reshape(r.shape)


def _position(lines, cutoff, dim, mass, Lambda, rtol, outer, p_ext, R0=None, ctx=None):
    """Position-space value (module docstring); ``ctx`` shares transforms between blocks."""
    from .transforms import PointContext

    if ctx is None:
        ctx = PointContext(cutoff, dim, mass, Lambda)
    dlines = [l for l in lines if l.d >= 1]
    dline = dlines[0] if (outer and dlines) else None
    others = list(lines)
    if dline is not None:
        others.remove(dline)
    c = (2 * math.pi) ** dim if outer else 1.0
    # R0 = 16/min(Lambda, m) let the truncation test pass too early (d = 1, K,K,K,K2 at
    # m = 0.7, Lambda = 4/3: true error 1e-8, reported 1.7e-10); 32/min(...) does not
    if R0 is not None:
        R = float(R0)
    elif dline is not None:
        R = outer_start_radius(lines, dim, mass, Lambda, cutoff)
    else:
        R = start_radius(Lambda, mass)

    def one_pass(R, n):
        qe = ctx.q_eff(R, n)
        if dline is not None:
            pmax = ctx.shell_max(R, n)
        else:
            pmax = float(np.max(p_ext)) if p_ext is not None else 0.0
        bw = len(others) * qe + pmax
        nq = ctx.qnodes(R, n)[0].size
        nr = 4 * max(1, int(math.ceil(R * bw / 24.0 / 4))) * n
        size = float(nr) * (
            nq
            + (
                ctx.qnodes(R, n, dk_only=True)[0].size
                if dline is not None
                else (np.size(p_ext) if p_ext is not None else 0)
            )
        )
        if size > KERNEL_BUDGET:
            raise PositionBudgetError(
                f"mass={mass:g}, Lambda={Lambda:g}: the position-space method needs radii up to R={R:.3g} "
                f"(the range of its integrand, up to ~1/min(mass, Lambda)) and a kernel of {size:.2g} elements (limit {KERNEL_BUDGET:.2g}); "
                "use method='momentum' (bump, exp and Fermi cutoffs, melons of 3 or 4 lines, Sun(p)), or "
                "bring mass and Lambda closer (every integral is homogeneous in (mass, Lambda))"
            )
        gkey, (r, wr) = ctx.rgrid(R, bw, n)
        tr = ctx.transform(others, gkey, R, n)
        meas = wr * ctx.Sd * r ** (dim - 1)
        rho_env, rnd_r, cols = integrand_columns(tr, r, meas, R)
        if dline is not None:
            q, w, F = ctx.line_q(dline, R, n)
            Ph = ctx.forward(cols, gkey, q)
            vals = c * ((w * F) @ Ph)[:, None]
            rr = c * float(np.sum(np.abs(w * F))) * rnd_r
        elif p_ext is not None:
            vals = c * ctx.forward(cols, gkey, p_ext).T
            rr = c * rnd_r
        else:
            vals = c * (meas @ cols)[:, None]
            rr = c * rnd_r
        val = vals[0]
        tail, rho = tail_estimate(vals[0], vals[1], vals[2], rho_env)
        rr = rr + 64 * EPS * np.abs(val)
        return val, tail, rr, rho, r.size

    for _attempt in range(8):
        I1, tail, rr, rho, nr_nodes = one_pass(R, N_HI)
        tol = rtol * np.abs(I1)
        target = 0.5 * max(float(np.min(tol)), 1e-300)
        if np.max(tail) <= target:
            break
        R = next_R(R, float(np.max(tail)), 0.5 * target, rho)
    I0 = one_pass(R, N_LO)[0]
    err = np.abs(I1 - I0) + tail + rr
    conv = err <= np.maximum(tol, 1e-300)
    info = {"R": R, "n_r": nr_nodes, "kernel_evals": ctx.n_kernel}
    return I1, err, conv, info


def momentum_applies(lines: Sequence[Line], cutoff: Cutoff, outer: bool, p_ext: float | np.ndarray | None) -> bool:
    """Can the momentum-space method evaluate this melon (truncated built-in cutoff, 3 or 4
    lines, or the sunset ``Kt,Kt,Kt`` at external momenta)?"""
    if getattr(cutoff, "kind", "") not in ("bump", "exp", "fermi"):
        return False
    if p_ext is not None:
        return tuple(lines) == (Line(1, 0),) * 3 and not outer
    return len(lines) in (3, 4) and all(l.delta == 0 for l in lines)


def melon_value(
    lines: Sequence[Line],
    cutoff: Cutoff,
    dim: int,
    mass: float,
    Lambda: float,
    rtol: float,
    method: str = "position",
    outer: bool = False,
    p_ext: float | np.ndarray | None = None,
    R0: float | None = None,
    ctx: PointContext | None = None,
    auto: bool = False,
) -> tuple:
    """Value of a melon block at one point: ``(estimate, error, converged, info)``.

    ``lines``: tuple of :class:`~ergsym.families.Line` (``n >= 3``); ``outer``: multiply
    by ``(2 pi)^d``; ``p_ext``: external momenta (array), position method only (``Sun(p)``);
    ``R0``: initial truncation radius (a scan passes the previous point's final ``R``; the
    truncation test still doubles it when needed).  ``auto``: the position method hands the
    block to the momentum method when its grids would exceed :data:`KERNEL_BUDGET` (far
    separated scales, e.g. ``m << Lambda``); otherwise :class:`PositionBudgetError` (an
    :class:`~ergsym.errors.InputError`) says so before any large allocation.  With ``auto``,
    melons ``M[D, Kt, .., Kt]`` of the bump cutoff at ``m <= 0.05 Lambda`` go first to
    :func:`~.tails.melon_split` (closed-form free propagator beyond the cutoff's scale).
    """
    if len(lines) < 2:
        raise InputError.bad("lines", lines, "at least 2 lines")
    for l in lines:
        if l.d == 0 and l.kt <= 0:
            from ..errors import DivergentIntegralError

            raise DivergentIntegralError(
                f"a melon line Kt^{l.kt} does not decay at large momentum: its Fourier transform does not exist"
            )
        if l.kt < 0 or (l.d >= 1 and l.kt + l.d <= 0):
            cutoff.raise_if_divergent(l.kt, l.d, dim, Lambda)
    if method == "position" and auto and p_ext is None:
        from .tails import melon_split, split_applies

        if split_applies(lines, cutoff, dim, mass, Lambda, outer):
            # m << Lambda (bump): the lines are the free propagator in closed form beyond the
            # cutoff's scale, so the grids stay on that scale (docs/numeric.md)
            try:
                out = melon_split(lines, cutoff, dim, mass, Lambda, rtol, ctx=ctx)
            except PositionBudgetError:
                pass  # inner radius over budget (e.g. a very narrow bump): the usual route
            else:
                out[3]["routed"] = "split (m << Lambda: closed-form free propagator beyond R_in)"
                return out
    if method == "position":
        try:
            I, err, conv, info = _position(lines, cutoff, dim, mass, Lambda, rtol, outer, p_ext, R0, ctx)
        except PositionBudgetError as exc:
            if not (auto and momentum_applies(lines, cutoff, outer, p_ext)):
                raise
            out = melon_value(lines, cutoff, dim, mass, Lambda, rtol, "momentum", outer, p_ext)
            out[3]["routed"] = f"momentum (position grids over budget: {exc})"
            return out
        if p_ext is None:
            return float(I[0]), float(err[0]), bool(conv[0]), info
        return I, err, conv, info
    from .momentum import melon_momentum, sunset_momentum

    if p_ext is not None:
        if tuple(lines) != (Line(1, 0),) * 3 or outer:
            raise InputError.bad(
                "method", method, "'position' for a melon at external momentum other than the sunset Kt,Kt,Kt"
            )
        return sunset_momentum(p_ext, cutoff, dim, mass, Lambda, rtol)
    return melon_momentum(lines, cutoff, dim, mass, Lambda, rtol, outer)
