"""'general' blocks whose vertices form a cycle of bundles (O(lambda^3) triangles, ...).

A block with ``N >= 3`` vertices ``v_0 .. v_{N-1}`` in which every line joins cyclic
neighbours ``v_i, v_{i+1}`` is a *ring of bundles*: bundle ``i`` is the set of parallel lines
between ``v_i`` and ``v_{i+1}``, with position-space product ``b_i(x) = prod_e f_e(x)``
(radial) and transform ``b_hat_i(p) = int d^dx e^{-ipx} b_i(x)``.  From the block value of
:mod:`ergsym.families` (``(1/V) sum_{x_0..x_{N-1}} prod_e M_e`` -> fix ``x_0``, integrate the
other ``N-1`` points) and ``b_i(x) = int_p e^{ipx} b_hat_i(p)``, ``int_p = int d^dp/(2pi)^d``:

.. math::

    G = c \\int d^dx_1 \\cdots d^dx_{N-1}\\, b_0(x_1 - x_0) b_1(x_2 - x_1) \\cdots
        b_{N-1}(x_0 - x_{N-1}) = c \\int_p \\prod_i \\hat b_i(p)
      = c \\int d^dx\\, b_0(x) H(x), \\quad H(x) = \\int_p e^{ipx} \\prod_{i\\ge1} \\hat b_i(p),

with ``c = (2 pi)^d`` if the block holds the ``D`` line (outer block), else 1.  For a triangle
``G3[01D,01K,02K,02K,12K,12K]`` this is ``int d^dp Bub_DK(p) Bub(p)^2``.

Evaluation (radial Hankel transforms, :mod:`.transforms`): ``b_hat_i`` of a bundle of several
lines by a forward transform of ``prod f_e`` (a single-line bundle is its momentum function
itself); ``H`` by an inverse transform on a momentum grid split at every ``|a +- b|`` of the
lines' breakpoint radii (where the convolutions are not smooth); then, for the outer block
with ``D`` in bundle 0, ``G = int d^dq D(q) FT[(b_0/f_D) H](q)`` on the ``D`` shell only
(the bump), else ``G = S_d int r^{d-1} b_0 H dr``.

Error estimate: difference of the whole chain at two rule orders, plus a truncation estimate
from the chain with every radial integral truncated at ``R/2`` and ``R/4``
(:func:`.transforms.tail_estimate`), plus rounding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..errors import FamilyNotSupportedError
from .quadrature import composite_nodes
from .transforms import EPS, H_PANEL, N_HI, N_LO, PointContext, next_R, tail_bound, tail_estimate

if TYPE_CHECKING:
    from ..cutoffs.base import Cutoff
    from ..families import Block

__all__ = ["edge_bundles", "product_nodes", "ring_bundles", "ring_value"]


def edge_bundles(block: Block) -> dict | None:
    """The lines of a block grouped by vertex pair: ``{(i, j): [Line, ...]}`` with ``i < j``,
    or ``None`` if the block has a self-edge (then it is neither a ring nor a K4)."""
    pairs = {}
    for i, j, line in block.edges:
        if i == j:
            return None
        pairs.setdefault((min(i, j), max(i, j)), []).append(line)
    return pairs


def ring_bundles(block: Block) -> list | None:
    """Bundles of a ring block in cyclic order (bundle 0 holds the D line, if any).

    Returns a list of tuples of :class:`Line`, or ``None`` if the block is not a ring.
    """
    n = block.n_vertices
    if n < 3:
        return None
    pairs = edge_bundles(block)
    if pairs is None:
        return None
    nbr = {v: set() for v in range(n)}
    for i, j in pairs:
        nbr[i].add(j)
        nbr[j].add(i)
    if any(len(s) != 2 for s in nbr.values()):
        return None
    order = [0]
    prev = None
    while True:
        cur = order[-1]
        nxt = [v for v in sorted(nbr[cur]) if v != prev]
        if not nxt:
            return None
        if nxt[0] == 0:
            break
        prev = cur
        order.append(nxt[0] if nxt[0] not in order else nxt[-1])
        if len(order) > n:
            return None
    if len(order) != n:
        return None
    bundles = [tuple(pairs[(min(a, b), max(a, b))]) for a, b in zip(order, order[1:] + order[:1])]
    k = next((i for i, b in enumerate(bundles) if any(l.d for l in b)), None)
    if k is None:
        k = max(range(len(bundles)), key=lambda i: len(bundles[i]))
    return bundles[k:] + bundles[:k]


def _combos(radii, n):
    """All ``|sum_i s_i a_i|`` of ``n`` radii from ``radii`` (with 0) and signs."""
    vals = {0.0}
    base = [0.0] + list(radii)
    for _ in range(n):
        vals = {abs(v + s * a) for v in vals for a in base for s in (1.0, -1.0)}
    return vals


def product_nodes(
    ctx: PointContext, radii: Sequence[float], sizes: Sequence[float], pmax: float, R: float, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Momentum nodes ``(p, wp)`` on ``[0, pmax]`` for the transform of a product of bundles of
    ``sizes`` lines: panels split at every ``|sum +-a_i|`` of that many breakpoint radii (where
    the convolution of the lines has kinks) and short enough to resolve ``omega_d(p r)`` up to
    ``r = R``; ``wp`` includes ``S_d/(2 pi)^d p^{d-1} dp``."""
    edges = {0.0, pmax} | {v for k in sizes for v in _combos(radii, k) if v < pmax}
    edges = np.array(sorted(edges))
    fine = [edges[0]]
    for a, b in zip(edges[:-1], edges[1:]):
        k = max(1, int(math.ceil((b - a) * R / H_PANEL)))
        fine.extend(list(a + (b - a) * np.arange(1, k + 1) / k))
    p, wt = composite_nodes(np.array(fine), n)
    return p, wt * ctx.pref * p ** (ctx.dim - 1)


def _refine_radius(one_pass, R, rtol):
    """Double (``next_R``) the truncation radius until the tail estimate of ``one_pass(R, N_HI)``
    (returning ``(I, tail, rnd, rho, ...)``) is below half the tolerance (at most 7 passes);
    then the ``N_LO`` rule on the final radius.  Returns ``(I1, err, converged, R, hi)``, ``hi``
    the final ``N_HI`` pass."""
    tol = 0.0
    for _attempt in range(7):
        hi = one_pass(R, N_HI)
        I1, tail, rnd, rho = hi[:4]
        tol = rtol * abs(I1)
        target = 0.5 * max(tol, 1e-300)
        if tail <= target:
            break
        R = next_R(R, tail, 0.5 * target, rho)
    I0 = one_pass(R, N_LO)[0]
    err = abs(I1 - I0) + tail + rnd
    return I1, err, bool(err <= max(tol, 1e-300)), R, hi


def ring_value(
    block: Block,
    cutoff: Cutoff,
    dim: int,
    mass: float,
    Lambda: float,
    rtol: float,
    ctx: PointContext | None = None,
    R0: float | None = None,
) -> tuple[float, float, bool, dict]:
    """Value of a ring block at one point: ``(estimate, error, converged, info)``.

    Raises
    ------
    FamilyNotSupportedError
        The block is not a ring of bundles, or a ``D`` line is not alone with its bundle's
        ``Kt``-type lines (several D lines).
    """
    bundles = ring_bundles(block)
    if bundles is None:
        raise FamilyNotSupportedError(
            f"block {block.name} is a 'general' block that is not a ring of bundles (its vertices "
            "do not form a single cycle): the continuum layer cannot evaluate it. Use the lattice "
            "layer (ergsym.lattice), which sums every family exactly."
        )
    nd = sum(1 for b in bundles for l in b if l.d)
    if nd > 1 or any(l.d > 1 for b in bundles for l in b):
        raise FamilyNotSupportedError(f"block {block.name}: more than one D line in a ring block")
    for b in bundles:
        for l in b:
            if l.d == 0 and l.kt <= 0:
                from ..errors import DivergentIntegralError

                raise DivergentIntegralError(f"block {block.name}: a line Kt^{l.kt} does not decay at large momentum")
    if ctx is None:
        ctx = PointContext(cutoff, dim, mass, Lambda)
    outer = nd == 1
    b0 = list(bundles[0])
    dline = next((l for l in b0 if l.d), None)
    if dline is not None:
        b0.remove(dline)
    rest = bundles[1:]
    multi = [b for b in rest if len(b) > 1]
    single = [b[0] for b in rest if len(b) == 1]
    sline = None
    if single:
        sline = single[0]
        for l in single[1:]:
            sline = sline * l
    c = (2 * math.pi) ** dim if outer else 1.0
    radii = sorted({math.sqrt(b) for b in cutoff.breakpoints(Lambda)})
    R = 16.0 / (min(Lambda, mass) if mass > 0 else Lambda) if R0 is None else float(R0)
    if dline is not None and not b0:
        return _ring_d_alone(block, bundles, dline, ctx, c, R, rtol)

    def one_pass(R, n):
        qe = ctx.q_eff(R, n)
        shell = ctx.shell_max(R, n) if dline is not None else 0.0
        # momentum grid of prod_{i>=1} b_hat_i
        if sline is not None:
            p, wp, Fs = ctx.line_q(sline, R, n)
            pmax = qe
        else:
            pmax = min(len(b) for b in multi) * qe
            p, wp = product_nodes(ctx, radii, [len(b) for b in multi], pmax, R, n)
            Fs = np.ones_like(p)
        bw_b = max([len(b) * qe + pmax for b in multi] + [0.0])
        bw_0 = len(b0) * qe + pmax + shell
        gkey, r, wr, meas, masks = _radial_grid(ctx, block, R, n, max(bw_b, bw_0), p.size)
        prod = np.repeat(Fs[:, None], 3, axis=1)  # (Np, 3): truncation variants
        rho_env = 0.0
        for b in multi:
            fv = [f for f, _ in ctx.transform(list(b), gkey, R, n)]
            g = np.prod(fv, axis=0)
            rho_env = max(rho_env, tail_bound(r, meas * np.abs(g), R)[1])
            prod = prod * ctx.forward(g[:, None] * masks, gkey, p)
        H = ctx.inverse(prod, p, wp[:, None], gkey)  # (Nr, 3)
        g0 = np.prod([f for f, _ in ctx.transform(b0, gkey, R, n)], axis=0) if b0 else np.ones_like(r)
        rho_env = max(rho_env, tail_bound(r, meas * np.abs(g0 * H[:, 0]), R)[1])
        integrand = g0[:, None] * H * masks
        if dline is not None:
            q, w, F = ctx.line_q(dline, R, n)
            Ph = ctx.forward(integrand, gkey, q)
            vals = c * ((w * F) @ Ph)
            scale = c * float(np.sum(np.abs(w * F))) * float(meas @ np.abs(integrand[:, 0]))
        else:
            vals = c * (meas @ integrand)
            scale = c * float(meas @ np.abs(integrand[:, 0]))
        tail, rho = tail_estimate(vals[0], vals[1], vals[2], rho_env)
        rnd = 1e3 * EPS * scale + 64 * EPS * abs(vals[0])
        return float(vals[0]), float(tail), float(rnd), rho, r.size, p.size

    I1, err, conv, R, hi = _refine_radius(one_pass, R, rtol)
    info = {
        "R": R,
        "n_r": hi[4],
        "n_p": hi[5],
        "bundles": [[l.label for l in b] for b in bundles],
        "kernel_evals": ctx.n_kernel,
    }
    return I1, err, conv, info


def _ring_d_alone(block, bundles, dline, ctx, c, R, rtol):
    """Ring whose D line is alone in its bundle: ``G = c int_p D(p) prod_{i>=1} b_hat_i(p)``
    directly at the D line's shell nodes (no inverse transform: the position-space ``H`` of
    the general path decays too slowly for its truncation test when ``b_0 = f_D``).  Bundles
    of several lines by forward transforms of their products (truncated at ``R, R/2, R/4``
    for the truncation estimate), single lines by their momentum functions at the nodes.
    """
    from .oneloop import line_values

    mass, Lambda = ctx.mass, ctx.Lambda
    rest = bundles[1:]

    def one_pass(R, n):
        qe = ctx.q_eff(R, n)
        q, w, p2, k, dk = ctx.qnodes(R, n, dk_only=True)
        FD = line_values(dline.kt, dline.d, p2, k, dk, Lambda, mass**2)
        prod = np.ones((q.size, 3))
        rho_env, scale = 0.0, 1.0
        multi = [b for b in rest if len(b) > 1]
        if multi:
            bw = max(len(b) for b in multi) * qe + float(np.max(q))
            gkey, r, wr, meas, masks = _radial_grid(ctx, block, R, n, bw, q.size)
        for b in rest:
            if len(b) == 1:
                (l,) = b
                prod = prod * line_values(l.kt, l.d, p2, k, dk, Lambda, mass**2)[:, None]
                continue
            g = np.prod([f for f, _ in ctx.transform(list(b), gkey, R, n)], axis=0)
            rho_env = max(rho_env, tail_bound(r, meas * np.abs(g), R)[1])
            scale = scale * float(meas @ np.abs(g))
            prod = prod * ctx.forward(g[:, None] * masks, gkey, q)
        vals = c * ((w * FD) @ prod)
        tail, rho = tail_estimate(vals[0], vals[1], vals[2], rho_env)
        rnd = 1e3 * EPS * c * float(np.sum(np.abs(w * FD))) * scale + 64 * EPS * abs(vals[0])
        return float(vals[0]), float(tail), float(rnd), rho

    I1, err, conv, R, _hi = _refine_radius(one_pass, R, rtol)
    info = {"R": R, "bundles": [[l.label for l in b] for b in bundles], "d_alone": True, "kernel_evals": ctx.n_kernel}
    return I1, err, conv, info


def _radial_grid(ctx, block, R, n, bw, n_out):
    """Radial grid on ``[0, R]`` resolving bandwidth ``bw`` for a ring's transforms, after the
    size check (``n_out`` momenta transformed to besides the line nodes): ``(gkey, r, wr,
    meas, masks)``, ``masks`` the truncations at ``R, R/2, R/4`` as three columns."""
    from .melon import KERNEL_BUDGET, PositionBudgetError

    nr = 4 * max(1, int(math.ceil(R * bw / H_PANEL / 4))) * n
    size = float(nr) * (ctx.qnodes(R, n)[0].size + n_out)
    if size > KERNEL_BUDGET:
        raise PositionBudgetError(
            f"block {block.name} at mass={ctx.mass:g}, Lambda={ctx.Lambda:g}: the position-space grids "
            f"need radii up to R={R:.3g} and a kernel of {size:.2g} elements (limit {KERNEL_BUDGET:.2g}); "
            "bring mass and Lambda closer (every integral is homogeneous in (mass, Lambda))"
        )
    gkey, (r, wr) = ctx.rgrid(R, bw, n)
    meas = wr * ctx.Sd * r ** (ctx.dim - 1)
    masks = np.stack([np.ones_like(r), (r <= R / 2) * 1.0, (r <= R / 4) * 1.0], axis=1)
    return gkey, r, wr, meas, masks
