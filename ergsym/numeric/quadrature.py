"""Quadrature rules: Gauss-Legendre pairs, batched adaptive integration on [0, 1].

The 1-loop integrals of ergsym are integrals over the smooth pieces of a cutoff
(:meth:`ergsym.cutoffs.Cutoff.pieces`), each mapped to a reference variable ``t in [0, 1]``.
:func:`adaptive_batch` integrates a *batch* of such integrands (one per ``Lambda``/mass point)
on a shared set of subintervals, so a scan over 101 values of ``Lambda`` costs one vectorized
call.  On each subinterval two Gauss-Legendre rules (``N_LO`` and ``N_HI`` points) are
applied; the estimate is the higher one and the error estimate is their difference plus a
rounding term.  Subintervals whose error is large for any batch member are bisected.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = ["gauss_legendre", "adaptive_batch", "BatchResult", "N_LO", "N_HI", "composite_nodes"]

N_LO = 13
N_HI = 21
EPS = np.finfo(float).eps


@lru_cache(maxsize=64)
def gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the ``n``-point Gauss-Legendre rule on ``[0, 1]``."""
    x, w = np.polynomial.legendre.leggauss(n)
    return (x + 1.0) / 2.0, w / 2.0


def composite_nodes(edges: np.ndarray | Sequence[float], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes/weights of ``n``-point Gauss-Legendre on each panel ``[edges[i], edges[i+1]]``."""
    x, w = gauss_legendre(n)
    edges = np.asarray(edges, float)
    a, h = edges[:-1, None], np.diff(edges)[:, None]
    return (a + h * x).ravel(), (h * w).ravel()


@dataclass
class BatchResult:
    """Estimates, error estimates and converged flags for a batch, each of shape ``(B,)``."""

    estimate: np.ndarray
    error: np.ndarray
    converged: np.ndarray
    abs_integral: np.ndarray
    n_eval: int


def adaptive_batch(
    f: Callable[[np.ndarray], np.ndarray],
    batch: int,
    rtol: float,
    atol: float = 0.0,
    init: int = 4,
    max_intervals: int = 4000,
    edges: np.ndarray | Sequence[float] | None = None,
) -> BatchResult:
    """Integrate ``f(t) -> (B, N)`` over ``t in [0, 1]`` for a batch, adaptively.

    Parameters
    ----------
    f : callable
        Maps nodes ``t`` (shape ``(N,)``, strictly inside (0,1)) to values ``(B, N)``.
    batch : int
        ``B``.
    rtol, atol : float
        Target ``error <= max(atol, rtol*|I|)`` for every batch member.
    init : int
        Initial number of equal subintervals (ignored if ``edges`` is given).
    max_intervals : int
        Stop refining beyond this many subintervals (members not reaching the target
        are flagged ``converged=False``).

    Returns
    -------
    BatchResult
    """
    xl, wl = gauss_legendre(N_LO)
    xh, wh = gauss_legendre(N_HI)
    if edges is None:
        edges = np.linspace(0.0, 1.0, init + 1)
    a = np.asarray(edges[:-1], float)
    b = np.asarray(edges[1:], float)
    est = np.zeros((batch, 0))
    err = np.zeros((batch, 0))
    absi = np.zeros((batch, 0))
    A = np.zeros(0)
    Bv = np.zeros(0)
    n_eval = 0
    new_a, new_b = a, b
    while True:
        h = (new_b - new_a)[:, None]
        tl = (new_a[:, None] + h * xl).ravel()
        th = (new_a[:, None] + h * xh).ravel()
        vals = np.asarray(f(np.concatenate([tl, th])), float)
        vals = np.broadcast_to(vals, (batch, tl.size + th.size))
        if not np.all(np.isfinite(vals)):
            raise FloatingPointError("integrand returned a non-finite value")
        n_eval += tl.size + th.size
        m = new_a.size
        vl = vals[:, : tl.size].reshape(batch, m, N_LO)
        vh = vals[:, tl.size :].reshape(batch, m, N_HI)
        il = np.einsum("bmn,n->bm", vl, wl) * h.T
        ih = np.einsum("bmn,n->bm", vh, wh) * h.T
        ab = np.einsum("bmn,n->bm", np.abs(vh), wh) * h.T
        e = np.abs(ih - il) + 50 * EPS * ab
        est = np.concatenate([est, ih], axis=1)
        err = np.concatenate([err, e], axis=1)
        absi = np.concatenate([absi, ab], axis=1)
        A = np.concatenate([A, new_a])
        Bv = np.concatenate([Bv, new_b])
        total = est.sum(axis=1)
        terr = err.sum(axis=1)
        tol = np.maximum(atol, rtol * np.abs(total))
        done = terr <= tol
        if np.all(done) or A.size >= max_intervals:
            return BatchResult(total, terr, done, absi.sum(axis=1), n_eval)
        # refine every interval carrying a sizeable share of some member's excess error
        ratio = err / np.maximum(tol, 1e-300)[:, None]
        ratio[done] = 0.0
        score = ratio.max(axis=0)
        sel = score >= 0.25 * score.max()
        sel &= (Bv - A) > 1e-13
        if not np.any(sel):
            return BatchResult(total, terr, done, absi.sum(axis=1), n_eval)
        mid = 0.5 * (A[sel] + Bv[sel])
        new_a = np.concatenate([A[sel], mid])
        new_b = np.concatenate([mid, Bv[sel]])
        keep = ~sel
        est, err, absi, A, Bv = est[:, keep], err[:, keep], absi[:, keep], A[keep], Bv[keep]
