"""Families with ``Delta`` lines (the Polchinski flow) through the numeric layer's machinery.

Along the flow (Cotler & Rezchikov, PRD 108, 025003, eq. (2.4); docs/flow.md) a line is
``Kt^kt D^d Delta^delta`` at the scale ``Lambda`` with

.. math:: \\tilde K = \\frac{K_\\Lambda}{p^2+m^2},\\quad D = \\frac{\\Lambda\\,\\partial_\\Lambda K_\\Lambda}
          {p^2+m^2},\\quad \\Delta = \\tilde K_{\\Lambda_0} - \\tilde K_\\Lambda
          = \\frac{K_{\\Lambda_0} - K_\\Lambda}{p^2+m^2}

(:class:`ergsym.families.Line`).  Block values are those of :mod:`ergsym.families`, evaluated
with the same code as every other family (:mod:`.transforms`, :mod:`.melon`): a
:class:`FlowPointContext` is a :class:`~.transforms.PointContext` whose momentum pieces are
split at the breakpoints of *both* ``K_Lambda`` and ``K_Lambda0`` (each bump at its graded
panel edges, :data:`.transforms.BUMP_EDGES`; ``K_Lambda`` on its own bump from its local
variable), whose line values include ``Delta``, and whose transforms are shared by every
block of one point.  Melons then run through the numeric layer's position-space melon
(``D`` lines on the shell only, truncation estimate from ``R, R/2, R/4``, ``R`` doubled until
converged); loops use the same momentum nodes with the 20/16-point rule pair; bridges are
``F(0)``.  Any cutoff whose pieces are finite works (bump, ``exp:n=N``, ``fermi:a=A``); on the
bump the ``Lambda0`` bump is rebuilt from ``p^2`` (relative precision ``~1e-16 Lambda0^2/eps``).

Public: :class:`FlowPointContext`, :func:`flow_block`, :func:`flow_family`, :func:`flow_series`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..cutoffs.base import Piece
from ..errors import FamilyNotSupportedError, InputError
from ..families import Line
from .oneloop import line_values
from .quadrature import composite_nodes
from .transforms import BUMP_EDGES, H_PANEL, N_HI, N_LO, NEGLIGIBLE, PointContext, _piece_edges, kernel_apply
from .values import DEFAULT_RTOL_2LOOP, Value, validate_rtol

if TYPE_CHECKING:
    from ..cutoffs.base import Cutoff
    from ..families import Block, Family
    from ..symbolic.series import Series

__all__ = ["FlowPointContext", "flow_block", "flow_family", "flow_series", "flow_line_values"]

EPS = np.finfo(float).eps
#: extra grading of the bump tail ``eps exp(-s/mu^2)`` (units of mu^2)
_TAIL_EDGES = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)


def flow_line_values(
    line: Line, p2: np.ndarray, k: np.ndarray, dk: np.ndarray, k0: np.ndarray, Lambda: float, m2: float
) -> np.ndarray:
    """``Kt^kt D^d Delta^delta`` from pointwise ``K_Lambda``, ``dK_Lambda/dLambda``, ``K_Lambda0``."""
    out = line_values(line.kt, line.d, p2, k, dk, Lambda, m2)
    if line.delta:
        out = out * ((k0 - k) / (p2 + m2)) ** line.delta
    return out


def _pair_edges(cutoff, L, L0):
    """``p^2`` edges (increasing) resolving ``K_L`` and ``K_L0``, and the bump intervals."""
    edges = {0.0}
    bumps = []
    top = 0.0
    for lam in (L, L0):
        for p in cutoff.pieces(lam):
            lo, hi = float(p.q_lo[0]) ** 2, float(p.q_hi[0]) ** 2
            if not math.isfinite(hi):
                raise FamilyNotSupportedError(
                    f"cutoff {cutoff.spec}: a piece runs to p = inf; Delta-line families need cutoffs "
                    "whose pieces are truncated (bump, exp, fermi)"
                )
            edges |= {lo, hi}
            top = max(top, hi)
            if p.kind == "bump":
                bumps.append((lam, lo, hi))
                edges |= {lo + (hi - lo) * x for x in BUMP_EDGES}
            if p.kind == "tail":
                mu2 = getattr(cutoff, "tail_scale", 1.0)
                edges |= {lo + mu2 * s for s in _TAIL_EDGES if lo + mu2 * s < hi}
    e = np.array(sorted(x for x in edges if x <= top))
    keep = np.concatenate([[True], np.diff(e) > 1e-14 * max(top, 1.0)])
    return e[keep], bumps


def _segment_piece(cutoff, L, L0, a, b, bumps, first):
    """A :class:`~ergsym.cutoffs.base.Piece` on ``[a, b]`` (in ``p^2``) returning
    ``(p2, jac, K_L, dK_L, K_L0)`` (the fifth entry is read by :class:`FlowPointContext`)."""
    own = [(lo, hi) for lam, lo, hi in bumps if lam == L and lo - 1e-15 * hi <= a and b <= hi * (1 + 1e-15)]
    eps = getattr(cutoff, "eps", None)

    def func(t):
        t = np.asarray(t, float)
        if first:
            p2, jac = b * t * t, 2.0 * b * t
        else:
            p2, jac = a + (b - a) * t, np.full_like(t, b - a)
        if own and eps is not None:
            lo, hi = own[0]
            x = (a - lo) / eps + ((b - a) / eps) * t  # the bump's local variable, not rebuilt from p2
            k, dk = cutoff.bump_local(x, L)
        else:
            k, dk = cutoff.K(p2, L), cutoff.dK_dLambda(p2, L)
        k0 = cutoff.K(p2, L0)
        return p2[None], jac[None], np.asarray(k, float)[None], np.asarray(dk, float)[None], k0[None]

    mid = np.linspace(0.0, 1.0, 9)
    dk_zero = not np.any(func(mid)[3] != 0)
    if eps is not None and not own:  # bump: dK vanishes off its own bump exactly
        dk_zero = True
    return Piece(
        "ir" if first else "seg", func, dk_zero, np.array([math.sqrt(a)]), np.array([math.sqrt(b)]), np.zeros(1)
    )


def _edges(piece, mass, R):
    """Reference-variable panel edges: ``"ir"`` as the numeric layer grades it; a linear
    segment split only as far as the phase of ``omega_d(q r)``, ``r <= R``, requires (the
    segments are already short: bump panels are segments of their own)."""
    if piece.kind == "ir":
        return _piece_edges(piece, mass, R)
    k = max(1, int(math.ceil((float(piece.q_hi[0]) - float(piece.q_lo[0])) * R / H_PANEL)))
    return np.linspace(0.0, 1.0, k + 1)


class FlowPointContext(PointContext):
    """Nodes and cached transforms at ``(cutoff, dim, mass, Lambda)`` flowed from ``Lambda0``.

    Parameters
    ----------
    cutoff : Cutoff
    dim : int
    mass, Lambda, Lambda0 : float
        ``0 < Lambda <= Lambda0`` (validated by the caller).
    """

    def __init__(self, cutoff: Cutoff, dim: int, mass: float, Lambda: float, Lambda0: float) -> None:
        super().__init__(cutoff, dim, mass, Lambda)
        self.Lambda0 = float(Lambda0)
        edges, bumps = _pair_edges(cutoff, self.Lambda, self.Lambda0)
        self.pieces = [
            _segment_piece(cutoff, self.Lambda, self.Lambda0, a, b, bumps, i == 0)
            for i, (a, b) in enumerate(zip(edges[:-1], edges[1:]))
        ]
        self._k0 = {}
        self._hint = None  # the lines of the block being evaluated (see q_eff)
        eps = getattr(cutoff, "eps", None)
        #: bump: Delta lines vanish beyond sqrt(Lambda0^2 + eps) (both K equal there)
        self.delta_qmax = math.sqrt(self.Lambda0**2 + eps) if cutoff.kind == "bump" else None

    def _compact(self, line):
        """Bump: a ``Delta`` line vanishes outside ``Lambda <= q <= sqrt(Lambda0^2+eps)``
        (``K_Lambda = K_Lambda0`` there: 1 below, the common plateau/tail above)."""
        return self.delta_qmax is not None and line.delta >= 1 and line.d == 0

    def q_eff(self, R: float, n: int) -> float:
        """Bandwidth of the block's transformed lines: ``sqrt(Lambda0^2+eps)`` when every one
        of them carries ``Delta`` on the bump (compact support), else that of ``Kt``."""
        lines = [l for l in (self._hint or ()) if l.d == 0]
        if lines and all(self._compact(l) for l in lines):
            return self.delta_qmax
        return super().q_eff(R, n)

    def qnodes(self, R: float, n: int, dk_only: bool = False) -> tuple:
        """As :meth:`PointContext.qnodes`; ``K_Lambda0`` at the nodes is kept in ``self._k0``."""
        key = (round(R, 12), n, dk_only)
        if key in self._q:
            return self._q[key]
        cols = [[] for _ in range(6)]
        for piece in self.pieces:
            if dk_only and piece.dk_zero:
                continue
            t, wt = composite_nodes(_edges(piece, self.mass, R), n)
            p2, jac, k, dk, k0 = (a[0] for a in piece.func(t))
            for c, v in zip(
                cols, (np.sqrt(p2), wt * jac * 0.5 * p2 ** ((self.dim - 2) / 2.0) * self.pref, p2, k, dk, k0)
            ):
                c.append(v)
        if not cols[0]:
            z = np.zeros(0)
            out = (z, z, z, z, z)
            self._q[key], self._k0[key] = out, z
            return out
        q, w, p2, k, dk, k0 = (np.concatenate(c) for c in cols)
        if not dk_only:
            a = np.abs(w * np.maximum(k, k0) / (p2 + self.mass**2))
            tail = np.cumsum(a[::-1])[::-1]
            keep = tail > NEGLIGIBLE * tail[0]
            last = int(np.nonzero(keep)[0][-1]) + 1 if np.any(keep) else q.size
            q, w, p2, k, dk, k0 = q[:last], w[:last], p2[:last], k[:last], dk[:last], k0[:last]
        out = (q, w, p2, k, dk)
        self._q[key] = out
        self._k0[key] = k0
        return out

    def values(self, line: Line, R: float, n: int, dk_only: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        q, w, p2, k, dk = self.qnodes(R, n, dk_only)
        k0 = self._k0[(round(R, 12), n, dk_only)]
        return q, w, flow_line_values(line, p2, k, dk, k0, self.Lambda, self.mass**2)

    def line_q(self, line: Line, R: float, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.values(line, R, n, line.d >= 1)

    def transform(self, lines: list[Line], gkey: tuple, R: float, n: int) -> list:
        """As :meth:`PointContext.transform`, with ``Delta`` lines (``K`` and ``Delta`` ride along)."""
        r, _ = self._r[gkey]
        want = [l for l in dict.fromkeys(lines) if (l, gkey) not in self._f]
        if want:
            extra = [Line(1), Line(0, 0, 1)]
            todo = list(dict.fromkeys(want + [l for l in extra if (l, gkey) not in self._f]))
            q, w, _, _, _ = self.qnodes(R, n)
            # compactly supported (Delta) lines: only the nodes where they can be nonzero
            groups = [[l for l in todo if self._compact(l)], [l for l in todo if not self._compact(l)]]
            shell = (q <= (self.delta_qmax or np.inf) * (1 + 1e-12)) & (q >= self.Lambda * (1 - 1e-12))
            for g, sel in zip(groups, (shell, slice(None))):
                if not g:
                    continue
                V = np.stack([self.values(l, R, n, False)[2][sel] * w[sel] for l in g], axis=1)
                F = kernel_apply(self.dim, r, q[sel], V)
                self.n_kernel += r.size * q[sel].size
                for j, l in enumerate(g):
                    self._f[(l, gkey)] = (F[:, j], float(np.sum(np.abs(V[:, j]))))
        return [self._f[(l, gkey)] for l in lines]


def _loop(ctx, line, outer, rtol):
    """``int_q F`` (``int d^dp`` if ``outer``) on the context's nodes; 20- vs 16-point rules."""
    R = 32.0 / min(ctx.mass, ctx.Lambda)
    c = (2 * math.pi) ** ctx.dim if outer else 1.0
    vals, scale = [], 0.0
    for n in (N_HI, N_LO):
        q, w, F = ctx.values(line, R, n, line.d >= 1)
        vals.append(c * float(np.sum(w * F)))
        scale = max(scale, c * float(np.sum(np.abs(w * F))))
    est = vals[0]
    err = abs(vals[0] - vals[1]) + 64 * EPS * scale + NEGLIGIBLE * scale
    return est, err, bool(err <= max(rtol * abs(est), 1e-300))


def _check_line(line, cutoff, dim, Lambda):
    if line.delta < 0:
        raise InputError.bad("line", line, "a line with a non-negative power of Delta")
    if line.delta == 0 and line.d == 0 and line.kt <= 0:
        from ..errors import DivergentIntegralError

        raise DivergentIntegralError(f"line Kt^{line.kt} does not decay at large momentum")
    if line.delta == 0 and (line.kt < 0 or (line.d >= 1 and line.kt + line.d <= 0)):
        cutoff.raise_if_divergent(line.kt, line.d, dim, Lambda)


def flow_block(
    block: Block, ctx: FlowPointContext, rtol: float | None = None, cache: dict | None = None
) -> tuple[float, float, bool]:
    """``(estimate, error, converged)`` of one block at a :class:`FlowPointContext`."""
    from .melon import _position

    cache = {} if cache is None else cache
    if block in cache:
        return cache[block]
    if ctx.Lambda == ctx.Lambda0 and any(l.delta >= 1 for l in block.lines):
        # Delta = Kt_Lambda0 - Kt_Lambda vanishes identically: exactly 0 (a relative tolerance
        # on a zero integral could never be met)
        cache[block] = (0.0, 0.0, True)
        return cache[block]
    if block.kind == "loop":
        (line,) = block.lines
        _check_line(line, ctx.cutoff, ctx.dim, ctx.Lambda)
        out = _loop(ctx, line, block.has_d, validate_rtol(rtol, 1e-10))
    elif block.kind == "bridge":
        (line,) = block.lines
        p2 = np.zeros(1)
        k, dk = ctx.cutoff.K(p2, ctx.Lambda), ctx.cutoff.dK_dLambda(p2, ctx.Lambda)
        v = float(flow_line_values(line, p2, k, dk, ctx.cutoff.K(p2, ctx.Lambda0), ctx.Lambda, ctx.mass**2)[0])
        out = (v, 64 * EPS * abs(v), True)
    elif block.kind == "melon":
        for line in block.lines:
            _check_line(line, ctx.cutoff, ctx.dim, ctx.Lambda)
        r = validate_rtol(rtol, DEFAULT_RTOL_2LOOP)
        ctx._hint = block.lines
        try:
            I, err, conv, _ = _position(
                block.lines, ctx.cutoff, ctx.dim, ctx.mass, ctx.Lambda, r, block.has_d, None, None, ctx
            )
        finally:
            ctx._hint = None
        out = (float(I[0]), float(err[0]), bool(conv[0]))
    else:
        raise FamilyNotSupportedError(
            f"block {block.name} (kind {block.kind}) has no continuum evaluator "
            "along the flow; evaluate it on a lattice (--lattice)"
        )
    if not (math.isfinite(out[0]) and math.isfinite(out[1])):
        from ..errors import ConvergenceError

        raise ConvergenceError(
            f"block {block.name} at Lambda={ctx.Lambda!r}, Lambda0={ctx.Lambda0!r}: non-finite result", out[0], out[1]
        )
    cache[block] = out
    return out


def flow_family(family: Family, ctx: FlowPointContext, rtol: float | None = None, cache: dict | None = None) -> Value:
    """Value of a flowed family (product of blocks, first-order error propagation)."""
    vals = [flow_block(b, ctx, rtol, cache) for b in family.blocks]
    v = math.prod(x for x, _, _ in vals)
    err = 0.0
    for i, (_, e, _) in enumerate(vals):
        err += math.prod(abs(x) for j, (x, _, _) in enumerate(vals) if j != i) * e
    return Value(v, err, all(c for _, _, c in vals), family.name, "flow")


def flow_series(
    series: Series, ctx: FlowPointContext, rtol: float | None = None, cache: dict | None = None
) -> tuple[list[tuple[float, float]], bool]:
    """Per-order ``[(value, error), ...]`` and ``converged`` of a one-coupling series at ``ctx``."""
    cache = {} if cache is None else cache
    per = [[0.0, 0.0] for _ in range(series.order + 1)]
    conv = True
    for t in series.terms:
        v = flow_family(t.family, ctx, rtol, cache)
        per[t.order][0] += float(t.coeff) * v.estimate
        per[t.order][1] += abs(float(t.coeff)) * v.error
        conv = conv and bool(v.converged)
    return [tuple(p) for p in per], conv
