"""Exact-RG sampler: the Gaussian channel from ``P_Lambda0`` to ``P_Lambda`` (docs/lattice.md).

Polchinski's flow (Cotler & Rezchikov, PRD 108, 025003, eq. (2.4)/(2.7)) from ``S_int,Lambda0`` is solved by a Gaussian
convolution, ``exp(-S_int,Lambda) = exp(1/2 d.(C_Lambda0 - C_Lambda).d) exp(-S_int,Lambda0)``
with ``C = Kt``.  Equivalently ``P_Lambda`` is the law of

.. math:: \\phi_\\Lambda(p) = \\alpha_p\\,\\phi_{\\Lambda_0}(p) + \\xi(p),\\qquad
          \\alpha_p = K_\\Lambda(p)/K_{\\Lambda_0}(p),

with ``xi`` Gaussian, independent of ``phi_Lambda0``.  In the lattice conventions of docs/lattice.md (``phi_p = sum_x e^{-ipx} phi_x``) the noise has
:math:`\\langle\\xi_p\\xi_{-p}\\rangle = V\\,\\tilde K_{\\Lambda,p}(1-\\alpha_p)` -- the
continuum "covariance ``Kt_Lambda(1-alpha)`` per mode" times the lattice ``delta(0) = V``.
Check (free field): :math:`\\alpha^2 V\\tilde K_{\\Lambda_0} + V\\tilde K_\\Lambda(1-\\alpha)
= V\\tilde K_\\Lambda` because :math:`\\alpha\\tilde K_{\\Lambda_0} = \\tilde K_\\Lambda` (same
mass).  For any input law the two-point function maps as
:math:`G_\\Lambda = \\alpha^2 G_{\\Lambda_0} + \\tilde K_\\Lambda(1-\\alpha)`.

Given exact samples of ``P_Lambda0`` (from :func:`ergsym.lattice.run.run_mc`) this gives
exact samples of the flowed theory at any ``Lambda < Lambda0``, with no new Markov chain.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..conventions import free_propagators, lattice_phat2
from ..errors import InputError
from .backend import array_namespace
from .theory import _validate_momentum_array, _validate_shape

if TYPE_CHECKING:
    from ..cutoffs import Cutoff

__all__ = ["GaussianChannel"]


class GaussianChannel:
    """The channel ``phi -> alpha phi + xi`` from scale ``Lambda0`` to ``Lambda`` (docs/lattice.md).

    Parameters
    ----------
    shape : tuple or str
        Lattice shape.
    alpha_p : array_like
        ``K_Lambda / K_Lambda0`` at every lattice momentum, in ``(0, 1]`` (``fftn`` layout).
    kt_p : array_like
        Target propagator ``Kt_Lambda`` at every lattice momentum.

    See Also
    --------
    GaussianChannel.from_cutoff
    """

    def __init__(self, shape: tuple[int, ...], alpha_p: np.ndarray, kt_p: np.ndarray):
        self.shape = _validate_shape(shape)
        self.alpha_p = _validate_momentum_array(alpha_p, self.shape, "alpha_p", True)
        self.kt_p = _validate_momentum_array(kt_p, self.shape, "kt_p", True)
        if np.any(self.alpha_p > 1 + 1e-12):
            raise InputError.bad(
                "max(alpha_p)",
                float(self.alpha_p.max()),
                "<= 1",
                "the channel flows towards the IR: Lambda <= Lambda0 and K increasing in Lambda",
            )
        self.V = math.prod(self.shape)
        noise = self.kt_p * np.clip(1.0 - self.alpha_p, 0.0, None)
        self.noise_p = noise
        n = self.shape[-1] // 2 + 1
        self._alpha_h = np.ascontiguousarray(self.alpha_p[..., :n])
        self._sig_h = np.ascontiguousarray(np.sqrt(noise[..., :n]))

    @classmethod
    def from_cutoff(
        cls, shape: tuple[int, ...], cutoff: Cutoff, mass: float, Lambda0: float, Lambda: float
    ) -> GaussianChannel:
        """Channel of a cutoff from ``Lambda0`` down to ``Lambda <= Lambda0`` at ``phat^2``."""
        shape = _validate_shape(shape)
        L0, L1 = float(Lambda0), float(Lambda)
        if not (math.isfinite(L0) and L0 > 0):
            raise InputError.bad("Lambda0", Lambda0, "finite and > 0")
        if not (math.isfinite(L1) and 0 < L1 <= L0):
            raise InputError.bad("Lambda", Lambda, f"in (0, Lambda0 = {L0}]")
        p2 = lattice_phat2(shape)
        k0 = np.asarray(cutoff.K(p2, L0), dtype=float)
        k1 = np.asarray(cutoff.K(p2, L1), dtype=float)
        kt1, _ = free_propagators(cutoff, p2, L1, mass)
        return cls(shape, k1 / k0, kt1)

    def two_point(self, g0_p: np.ndarray) -> np.ndarray:
        """Flowed two-point function ``alpha^2 G_Lambda0 + Kt_Lambda (1 - alpha)`` (``G_p`` layout)."""
        return self.alpha_p**2 * np.asarray(g0_p) + self.noise_p

    def apply(self, phi: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Map field(s) ``phi`` (shape ``batch + shape``, numpy or cupy) through the channel.

        The channel acts on the last ``d`` axes, so an O(N) field (``batch + (N,) + shape``) goes
        through it component by component, with independent noise per component
        (tests/test_on_flowmethods.py checks the free O(N) covariance and no cross-correlation).

        ``rng`` draws the white noise on the host (as the samplers do).
        """
        if not isinstance(rng, np.random.Generator):
            raise InputError.bad("rng", type(rng).__name__, "a numpy.random.Generator")
        xp = array_namespace(phi)
        d = len(self.shape)
        if tuple(phi.shape[phi.ndim - d :]) != self.shape:
            raise InputError.bad("phi.shape", tuple(phi.shape), f"(..., {', '.join(map(str, self.shape))})")
        axes = tuple(range(-d, 0))
        eta = xp.asarray(rng.standard_normal(phi.shape))
        phi_p = xp.fft.rfftn(phi, axes=axes)
        out_p = xp.asarray(self._alpha_h) * phi_p + xp.asarray(self._sig_h) * xp.fft.rfftn(eta, axes=axes)
        return xp.fft.irfftn(out_p, s=self.shape, axes=axes)
