"""Resource estimates for flow computations, checked before any work starts.

The continuum evaluator (:mod:`ergsym.numeric.delta`) builds radial grids ``r in [0, R]``
with ``R = 32/min(m, Lambda)`` and panels resolving the product bandwidth; its cost is the
number of kernel-matrix elements ``n_r * n_q`` and its memory the ``n_r``-long columns.  Exact
lattice sums cost ``O(V log V)`` per family and hold a few ``V``-long arrays.  The estimates
are order-of-magnitude (calibrated on a 2-core machine), enough to refuse a request that would
take hours or tens of GB before it starts.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..cutoffs import Cutoff

__all__ = ["Budget", "continuum_budget", "couplings_budget", "lattice_budget", "MAX_SECONDS", "MAX_BYTES"]

#: refuse (unless forced) above these
MAX_SECONDS = 600.0
MAX_BYTES = 2.0e9
_SEC_PER_KERNEL = 6e-8  # one omega_d(q r) element, a matrix product column included
_KERNEL_PASSES = 12  # R doublings x (20, 16)-point rules x shared transforms
_BYTES_PER_R = 8 * 16  # columns held per radial node
_SEC_PER_SITE = 4e-6  # one O(lam^2) series on the lattice, per site
_SEC_PER_R_COUPLINGS = 5e-7  # the running couplings at one scale, per radial node (measured ~1e-7)


class Budget:
    """Estimated ``seconds`` and peak ``bytes`` of a request, and what dominates."""

    def __init__(self, seconds: float, nbytes: float, what: str):
        self.seconds, self.bytes, self.what = float(seconds), float(nbytes), what

    def exceeded(self) -> bool:
        return self.seconds > MAX_SECONDS or self.bytes > MAX_BYTES

    def describe(self) -> str:
        return (
            f"about {self.seconds:.3g} s and {self.bytes / 1e9:.3g} GB ({self.what}); "
            f"limits {MAX_SECONDS:.0f} s, {MAX_BYTES / 1e9:.0f} GB"
        )

    def check(self, force: bool = False, option: str = "--force") -> Budget:
        """Raise :class:`~ergsym.errors.InputError` when over budget and not ``force``."""
        from ..errors import InputError

        if self.exceeded() and not force:
            raise InputError(
                f"this request would take {self.describe()}: refused. Raise Lambda "
                f"(or the mass) or use a smaller lattice, or pass {option} to run it anyway"
            )
        return self


def _radial_grid(cutoff, mass, Lambdas):
    lo = min(float(mass), min(float(L) for L in Lambdas))
    kink = getattr(cutoff, "kink", 4.0)
    tail = getattr(cutoff, "tail_scale", 1.0)
    q_eff = math.sqrt(kink + 37.0 * tail)
    R = 32.0 / lo
    return R, 20.0 * R * 4.0 * q_eff / 24.0, 20.0 * R * q_eff / 24.0 + 200.0


def couplings_budget(cutoff: Cutoff, mass: float, Lambdas: Sequence[float], n_evaluations: int) -> Budget:
    """Estimate for the running couplings alone at ``n_evaluations`` scales (no A, B or M).

    Their one-loop blocks are radial integrals (cost and memory linear in the radial grid); a
    two-loop block beyond the position-space budget refuses itself before allocating.  Measured
    (d = 4, default bump, m = 1): Lambda = 1e-4, 6.8e6 nodes, 1 s and 0.36 GB (estimated 3.4 s,
    0.87 GB); Lambda = 1e-5, 3 GB (estimated 8.7 GB: refused without --force).
    """
    R, n_r, _ = _radial_grid(cutoff, mass, Lambdas)
    return Budget(
        n_evaluations * n_r * _SEC_PER_R_COUPLINGS,
        n_r * _BYTES_PER_R,
        f"{n_evaluations} scales of running couplings, radial grid R = 32/min(m, Lambda) = {R:.3g}, "
        f"~{n_r:.3g} radial nodes",
    )


def continuum_budget(cutoff: Cutoff, mass: float, Lambdas: Sequence[float], n_evaluations: int) -> Budget:
    """Estimate for ``n_evaluations`` B-type evaluations at the smallest of ``Lambdas``."""
    R, n_r, n_q = _radial_grid(cutoff, mass, Lambdas)
    sec = n_evaluations * _KERNEL_PASSES * n_r * n_q * _SEC_PER_KERNEL
    return Budget(
        sec,
        n_r * _BYTES_PER_R,
        f"{n_evaluations} evaluations, radial grid R = 32/min(m, Lambda) = {R:.3g}, ~{n_r:.3g} radial nodes",
    )


def lattice_budget(shape: tuple[int, ...], n_evaluations: int) -> Budget:
    """Estimate for ``n_evaluations`` series evaluations on a lattice of ``shape``."""
    V = math.prod(shape)
    return Budget(
        n_evaluations * V * max(1.0, math.log2(V)) * _SEC_PER_SITE / 10.0,
        V * 8.0 * 64,
        f"{n_evaluations} lattice evaluations on {V} sites",
    )
