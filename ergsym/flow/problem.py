"""One typed flow problem on a lattice, built once at the edge and handed to every method.

A :class:`FlowProblem` holds the lattice, the cutoff, the mass, the initial scale ``Lambda0``
and the coupling ``lam`` (all validated once, in :meth:`FlowProblem.build`), and derives the
lattice momenta ``phat^2`` once.  :meth:`FlowProblem.at` gives the per-scale arrays
(:class:`ScaleArrays`: ``Kt_Lambda``, ``D_Lambda``, ``Delta = Kt_Lambda0 - Kt_Lambda`` and the
channel factor ``alpha = K_Lambda/K_Lambda0``, docs/flow.md) for a scale already checked to lie
in ``(0, Lambda0]``.  The methods of :mod:`ergsym.flow.methods` (series, exact, mc,
variational) take the problem and never re-derive momenta or re-validate inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError

if TYPE_CHECKING:
    from ..cutoffs import Cutoff
    from ..inputs import Lattice

__all__ = ["FlowProblem", "ScaleArrays"]


def _check_positive(kt: np.ndarray, p2: np.ndarray, name: str, Lambda: float, cutoff) -> None:
    """Refuse a scale at which ``Kt_p = K(phat^2)/(phat^2 + m^2)`` underflows to 0 at some lattice
    momentum (a smooth cutoff far below the lattice's largest momentum): the flow's arrays
    (``D/Kt``, ``Kt^-1``) are then 0/0 there."""
    bad = ~(kt > 0)
    if bad.any():
        raise InputError.bad(
            name,
            Lambda,
            "a scale at which Kt_p = K(phat^2)/(phat^2 + m^2) is > 0 at every lattice momentum (with "
            f"{getattr(cutoff, 'spec', cutoff)} it underflows to 0 at phat^2 = {float(np.max(p2[bad])):g})",
            "raise it, or use a bump cutoff (positive at every momentum)",
        )


@dataclass(frozen=True, eq=False)
class ScaleArrays:
    """Per-mode arrays at one scale (``numpy.fft.fftn`` layout, shape = lattice shape).

    Attributes
    ----------
    Lambda : float
    kt : ndarray
        ``Kt_Lambda,p = K_Lambda(phat^2)/(phat^2 + m^2)``.
    d : ndarray
        ``D_p = Lambda dKt_Lambda/dLambda`` (>= 0).
    delta : ndarray
        ``Kt_Lambda0,p - Kt_Lambda,p`` (>= 0): the covariance of the flowed-out fluctuation.
    alpha : ndarray
        ``K_Lambda/K_Lambda0`` in ``(0, 1]``.
    """

    Lambda: float
    kt: np.ndarray
    d: np.ndarray
    delta: np.ndarray
    alpha: np.ndarray

    @property
    def shell(self) -> np.ndarray:
        """Boolean mask of the modes with ``D_p != 0`` (the only ones B sees)."""
        return self.d != 0


@dataclass(frozen=True, eq=False)
class FlowProblem:
    """phi^4 theory on a periodic lattice flowed from ``Lambda0`` (docs/flow.md).

    Build it with :meth:`build` (validates); the attributes are then trusted by every method.

    Attributes
    ----------
    shape : tuple of int
    cutoff : ergsym.cutoffs cutoff
    mass, Lambda0, lam : float
    p2 : ndarray
        Lattice momenta ``phat^2 = sum_mu 4 sin^2(p_mu/2)`` (fftn layout).
    kt0 : ndarray
        ``Kt_Lambda0``.
    N : int
        Number of field components (O(N) model, ``V_0 = (lam/4!) sum_x (phi_a phi_a)^2``);
        every component has the same free arrays, so the free B, M and ``<phi^2>`` are ``N`` times
        those of one component (docs/conventions.md).
    """

    shape: tuple
    cutoff: object
    mass: float
    Lambda0: float
    lam: float
    p2: np.ndarray
    kt0: np.ndarray
    N: int = 1
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(
        cls,
        lattice: str | tuple[int, ...] | Lattice,
        cutoff: str | Cutoff,
        mass: float,
        Lambda0: float,
        lam: float,
        *,
        signed_lam: bool = False,
        N: int = 1,
    ) -> FlowProblem:
        """Validate the inputs once and derive the lattice momenta.

        Parameters
        ----------
        lattice : str, tuple or :class:`ergsym.inputs.Lattice`
        cutoff : str or cutoff object
        mass : float
            > 0.
        Lambda0 : float
            Initial scale (> 0; for the bump at most ``lambda_max``).
        lam : float
            Quartic coupling at ``Lambda0``, finite and >= 0 (any finite value with
            ``signed_lam``: the flowed series is a formal power series in ``lam``, evaluated at
            negative couplings too).
        N : int
            Number of field components (an integer >= 1; 1 is the single real scalar).

        Raises
        ------
        InputError
        """
        from ..conventions import lattice_phat2, validate_mass
        from ..inputs import as_lattice
        from ..lattice.sums import lattice_propagators
        from ..lattice.theory import validate_n_components
        from .continuum import validate_scales

        shape = as_lattice(lattice, name="--lattice").shape
        n_comp = validate_n_components(N, "--N")
        m = validate_mass(mass)
        cut, L0, _ = validate_scales(cutoff, Lambda0, Lambda0)
        lam = float(lam)
        if not (math.isfinite(lam) and (lam >= 0 or signed_lam)):
            raise InputError.bad("lam", lam, "finite and >= 0", "the quartic coupling at Lambda0")
        p2 = lattice_phat2(shape)
        kt0, _ = lattice_propagators(shape, cut, m, L0)
        _check_positive(np.asarray(kt0, float), np.asarray(p2, float), "--Lambda0", L0, cut)
        return cls(tuple(shape), cut, m, float(L0), lam, np.asarray(p2, float), np.asarray(kt0, float), n_comp)

    @property
    def volume(self) -> int:
        return math.prod(self.shape)

    @property
    def spec(self) -> str:
        return "x".join(map(str, self.shape))

    def check_Lambda(self, Lambda: float, name: str = "--Lambda") -> float:
        """``Lambda`` as a float in ``(0, Lambda0]`` (raises otherwise)."""
        L = float(Lambda)
        if not (math.isfinite(L) and 0 < L <= self.Lambda0):
            raise InputError.bad(
                name, Lambda, f"in (0, Lambda0 = {self.Lambda0}]", "the flow runs from Lambda0 towards the infrared"
            )
        return L

    def at(self, Lambda: float) -> ScaleArrays:
        """:class:`ScaleArrays` at ``Lambda`` (checked to lie in ``(0, Lambda0]``; cached)."""
        L = self.check_Lambda(Lambda)
        hit = self._cache.get(L)
        if hit is not None:
            return hit
        from ..conventions import free_propagators

        kt, d = free_propagators(self.cutoff, self.p2, L, self.mass)
        kt = np.asarray(kt, float)
        _check_positive(kt, self.p2, "--Lambda", L, self.cutoff)
        alpha = np.asarray(self.cutoff.K(self.p2, L) / self.cutoff.K(self.p2, self.Lambda0), float)
        delta = np.clip(self.kt0 - kt, 0.0, None)
        out = ScaleArrays(L, kt, np.asarray(d, float), delta, np.minimum(alpha, 1.0))
        if len(self._cache) < 4096:
            self._cache[L] = out
        return out

    def free_B(self, Lambda: float) -> float:
        """Free ``B = N/2 sum_p D_p/Kt_p`` (exact; summed over the ``N`` components)."""
        a = self.at(Lambda)
        return float(0.5 * self.N * np.sum(a.d / a.kt))

    def free_M(self, Lambda: float) -> float:
        """Free ``M_Lambda - M_Lambda0 = -N/2 sum_p log(K_Lambda/K_Lambda0)`` (exact)."""
        return float(-0.5 * self.N * np.sum(np.log(self.at(Lambda).alpha))) + 0.0  # no -0.0

    def free_phi2(self, Lambda: float) -> float:
        """Free ``<phi_a phi_a>`` per site ``= (N/V) sum_p Kt_p`` (summed over the components)."""
        return float(self.N * np.mean(self.at(Lambda).kt))

    def kink_edges(self, Lambda: float) -> list:
        """Panel edges in ``log Lambda'`` on ``[log Lambda, log Lambda0]``: B is smooth between them.

        ``D_p(Lambda')`` switches on and off where ``Lambda'^2`` or ``Lambda'^2 + eps`` crosses a
        lattice ``phat^2`` (bump cutoff; other cutoffs give the two ends only).
        """
        L = self.check_Lambda(Lambda)
        eps = getattr(self.cutoff, "eps", 0.0)
        cuts = {math.log(L), math.log(self.Lambda0)}
        for v in np.unique(self.p2):
            for s in (v, v - eps):
                if s > 0 and L * L < s < self.Lambda0**2:
                    cuts.add(0.5 * math.log(s))
        return sorted(cuts)
