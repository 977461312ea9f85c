"""The lattice phi^4 theory of docs/lattice.md and its array operations.

Conventions (docs/lattice.md)
----------------------------
Periodic lattice of shape ``(L_1, ..., L_d)``, spacing 1, ``V = prod L_mu``;
``phi_p = sum_x e^{-ipx} phi_x`` (``numpy.fft.fftn``), and

.. math::
    \\hat S = \\frac{1}{2V}\\sum_p \\frac{|\\phi_p|^2}{\\tilde K_p}
          = \\tfrac12 \\sum_{xy}\\phi_x M_{xy}\\phi_y,\\qquad
    M_{xy} = \\frac1V\\sum_p \\frac{e^{ip(x-y)}}{\\tilde K_p},\\qquad
    S_{int} = \\frac{\\lambda}{4!}\\sum_x\\phi_x^4,

so the free two-point function is :math:`\\langle\\phi_p\\phi_{-p}\\rangle = V\\tilde K_p`,
:math:`G_{xy} = (M^{-1})_{xy} = \\frac1V\\sum_p e^{ip(x-y)}\\tilde K_p`, and the ERG kernel is
:math:`\\dot C_{xy} = \\frac1V\\sum_p e^{ip(x-y)} D_p`.  ``Kt_p = K(phat^2)/(phat^2+m^2)``
and ``D_p = Lambda dK/dLambda/(phat^2+m^2)`` (Cotler & Rezchikov, PRD 108, 025003, eqs. (5.4), (5.7)).

With ``N`` components (:attr:`LatticeTheory.N`) the field is ``phi_{a,x}``, ``S_hat`` is summed
over ``a`` and ``S_int = (lam/4!) sum_x (phi_a phi_a)^2`` (docs/lattice.md, "O(N) models").

Fields are real, so the code works with the half spectrum of ``rfftn``; sums over all
momenta of functions even in ``p`` are weighted sums over the half spectrum
(:attr:`LatticeOps.w`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..conventions import (  # noqa: F401  (MAX/MIN_LATTICE_MASS, free_propagators: re-exported)
    MAX_LATTICE_MASS,
    MIN_LATTICE_MASS,
    free_propagators,
    lattice_phat2,
    validate_lattice_scales,
)
from ..errors import InputError
from ..inputs import Lattice, as_lattice
from .backend import array_namespace, get_backend

if TYPE_CHECKING:
    from ..cutoffs import Cutoff

__all__ = [
    "LatticeTheory",
    "LatticeOps",
    "FieldSpectra",
    "validate_lam",
    "validate_n_components",
    "abs2",
    "fview",
    "batch_dot",
]


def abs2(z: np.ndarray) -> np.ndarray:
    """``|z|^2`` of a complex array as ``re^2 + im^2`` (no square root, unlike ``abs(z)**2``)."""
    return z.real * z.real + z.imag * z.imag


def validate_lam(lam: float, name: str = "lam") -> float:
    """``lam`` as a float; :class:`InputError` unless finite and >= 0 (docs/lattice.md)."""
    try:
        v = float(lam)
    except (TypeError, ValueError):
        raise InputError.bad(name, lam, "a real number >= 0") from None
    if not math.isfinite(v) or v < 0:
        raise InputError.bad(
            name, lam, "finite and >= 0", "lam < 0 makes exp(-S) non-normalizable (the phi^4 term is unbounded below)"
        )
    return v


def validate_n_components(N: object, name: str = "N") -> int:
    """``N`` (number of field components) as an int; :class:`InputError` unless an integer >= 1."""
    if isinstance(N, bool):
        raise InputError.bad(name, N, "an integer >= 1 (the number of field components)")
    if isinstance(N, (float, np.floating)) and math.isfinite(N) and float(N).is_integer():
        N = int(N)
    if not isinstance(N, (int, np.integer)) or N < 1:
        raise InputError.bad(
            name,
            N,
            "an integer >= 1 (the number of field components)",
            "a lattice field has a whole number of components",
        )
    if N > 1024:
        raise InputError.bad(name, N, "<= 1024 on a lattice", "each component is a full lattice field")
    return int(N)


def _validate_shape(shape) -> tuple[int, ...]:
    """The shape tuple of ``shape`` (a :class:`~ergsym.inputs.Lattice` as is; a string or a
    tuple through :func:`ergsym.inputs.as_lattice`, where the lattice rules live)."""
    return shape.shape if isinstance(shape, Lattice) else as_lattice(shape, name="shape").shape


def _validate_momentum_array(a, shape, name, positive):
    try:
        arr = np.array(a, dtype=float)
    except (TypeError, ValueError):
        raise InputError.bad(name, a, f"a real array of shape {shape}") from None
    if arr.shape != shape:
        if arr.size == math.prod(shape):
            arr = arr.reshape(shape)
        else:
            raise InputError.bad(f"{name}.shape", arr.shape, f"{shape} (FFT layout of the lattice)")
    if not np.all(np.isfinite(arr)):
        raise InputError.bad(name, "<array with NaN/inf>", "finite numbers")
    if positive and not np.all(arr > 0):
        raise InputError.bad(
            f"min({name})", float(arr.min()), "> 0", "Kt_p = K/(phat^2+m^2) must be positive at every lattice momentum"
        )
    # real fields need f(-p) = f(p)
    flipped = arr
    for ax in range(arr.ndim):
        flipped = np.roll(np.flip(flipped, axis=ax), 1, axis=ax)
    if not np.allclose(arr, flipped, rtol=1e-12, atol=0.0):
        raise InputError.bad(
            name,
            "<array not even in p>",
            "an array with f(-p) = f(p)",
            "lattice momentum functions of phat^2 always are; check the layout",
        )
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class LatticeTheory:
    """Lattice phi^4 theory of docs/lattice.md: ``S = (1/2V) sum_p |phi_p|^2/Kt_p + lam/4! sum phi^4``.

    Parameters
    ----------
    shape : Lattice, tuple of int or str
        Lattice shape, e.g. ``Lattice.parse("8x8")``, ``(8, 8)`` or ``"8x8"`` (strings are
        parsed once, by :func:`ergsym.inputs.as_lattice`); ``"1"`` is one site (zero
        dimensions), ``"2"`` and ``"3"`` are tiny one-dimensional lattices.  d = 1..4.  Stored
        as the shape tuple.
    kt_p, d_p : array_like
        ``Kt_p`` (positive) and ``D_p = Lambda dKt/dLambda`` at every lattice momentum, in
        ``numpy.fft.fftn`` layout (shape ``shape``), even in ``p``.
    lam : float
        Quartic coupling, >= 0.
    N : int
        Number of field components (default 1): ``S_int = (lam/4!) sum_x (phi_a phi_a)^2``,
        the free part acting on each component alike (docs/lattice.md, "O(N) models").  A field
        of ``N = 1`` has the lattice shape; for ``N > 1`` a component axis comes before the
        lattice axes (shape ``(N,) + shape``, :attr:`field_shape`).

    See Also
    --------
    LatticeTheory.from_cutoff : build ``kt_p``, ``d_p`` from a cutoff function.
    """

    shape: tuple
    kt_p: np.ndarray
    d_p: np.ndarray
    lam: float = 0.0
    meta: dict = field(default_factory=dict, compare=False)
    N: int = 1

    def __post_init__(self):
        object.__setattr__(self, "N", validate_n_components(self.N))
        shape = _validate_shape(self.shape)
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "kt_p", _validate_momentum_array(self.kt_p, shape, "kt_p", True))
        object.__setattr__(self, "d_p", _validate_momentum_array(self.d_p, shape, "d_p", False))
        object.__setattr__(self, "lam", validate_lam(self.lam))

    @classmethod
    def from_cutoff(
        cls,
        shape: str | tuple[int, ...] | Lattice,
        cutoff: Cutoff,
        mass: float,
        Lambda: float,
        lam: float = 0.0,
        N: int = 1,
    ) -> LatticeTheory:
        """Theory with ``Kt_p``, ``D_p`` from ``cutoff`` at ``phat^2`` (docs/lattice.md).

        Parameters
        ----------
        shape : Lattice, tuple or str
            Lattice shape.
        cutoff : object
            Anything with ``K(p2, Lambda)`` and ``dK_dLambda(p2, Lambda)`` (an
            :mod:`ergsym.cutoffs` cutoff).
        mass, Lambda : float
            Bare mass ``m > 0`` and cutoff scale ``Lambda > 0``.
        lam : float
            Quartic coupling.
        N : int
            Number of field components (default 1).
        """
        lattice = as_lattice(shape, name="shape")  # a Lattice passes through unchanged
        shape = lattice.shape
        m, Lam = validate_lattice_scales(mass, Lambda)
        p2 = lattice_phat2(shape)
        if m == 0 and np.any(p2 == 0):
            raise InputError.bad(
                "mass", mass, "> 0 on a periodic lattice", "the p = 0 mode of a massless field is not normalizable"
            )
        kt, d = free_propagators(cutoff, p2, Lam, m)
        return cls(lattice, kt, d, lam, meta={"cutoff": repr(cutoff), "mass": m, "Lambda": Lam}, N=N)

    def with_lam(self, lam: float) -> LatticeTheory:
        """The same free part with another coupling (only ``lam`` is validated: the shape and
        the read-only momentum arrays were checked when this theory was built)."""
        new = object.__new__(LatticeTheory)
        for name, value in (
            ("shape", self.shape),
            ("kt_p", self.kt_p),
            ("d_p", self.d_p),
            ("lam", validate_lam(lam)),
            ("meta", dict(self.meta)),
            ("N", self.N),
        ):
            object.__setattr__(new, name, value)
        return new

    @property
    def lattice(self) -> Lattice:
        """The lattice as an :class:`ergsym.inputs.Lattice` (``.spec``, ``.volume``, ...),
        built from the shape validated when this theory was made (not validated again)."""
        return Lattice.trusted(self.shape)

    @property
    def volume(self) -> int:
        """Number of sites ``V``."""
        return math.prod(self.shape)

    @property
    def field_shape(self) -> tuple[int, ...]:
        """Shape of one field configuration: ``shape`` for ``N = 1``, ``(N,) + shape`` otherwise."""
        return self.shape if self.N == 1 else (self.N,) + self.shape

    @property
    def dim(self) -> int:
        """Lattice dimension ``d``."""
        return len(self.shape)

    @property
    def f0(self) -> float:
        """``sum_p D_p/Kt_p`` = Tr(Cdot M): the lattice f0 (Cotler & Rezchikov, PRD 108, 025003, eq. (5.8), docs/lattice.md)."""
        return float(np.sum(self.d_p / self.kt_p))

    @property
    def cdot00(self) -> float:
        """``Cdot_xx = (1/V) sum_p D_p``."""
        return float(np.mean(self.d_p))

    @property
    def g00(self) -> float:
        """Free ``<phi_x^2> = G_xx = (1/V) sum_p Kt_p`` of one component (the free
        ``phi2 = <phi_a phi_a>`` is ``N g00``)."""
        return float(np.mean(self.kt_p))

    def position_kernel(self, which: str = "M") -> np.ndarray:
        """First column of the circulant ``M`` (``1/Kt``), ``G`` (``Kt``) or ``Cdot`` (``D``)."""
        f = {"M": 1.0 / self.kt_p, "G": self.kt_p, "Cdot": self.d_p}[which]
        return np.real(np.fft.ifftn(f))

    def to_config(self) -> dict:
        """JSON-able description (used in checkpoints)."""
        cfg = {
            "shape": list(self.shape),
            "lam": self.lam,
            "kt_p": self.kt_p.ravel().tolist(),
            "d_p": self.d_p.ravel().tolist(),
            "meta": {k: v for k, v in self.meta.items()},
        }
        if self.N != 1:  # N = 1 configurations (and checkpoints) stay as they were
            cfg["N"] = self.N
        return cfg

    @classmethod
    def from_config(cls, cfg: dict) -> LatticeTheory:
        """Inverse of :meth:`to_config`."""
        shape = tuple(cfg["shape"])
        return cls(
            shape,
            np.array(cfg["kt_p"]).reshape(shape),
            np.array(cfg["d_p"]).reshape(shape),
            cfg["lam"],
            dict(cfg.get("meta", {})),
            N=cfg.get("N", 1),
        )


_DIRECT = []


def _direct_pocketfft():
    """scipy's compiled pocketfft module (``r2c``/``c2r`` with ``out=``), or None.

    It is private scipy API, so it is used only after a self-check: on a small batch it must
    reproduce ``scipy.fft.rfftn``/``irfftn`` bitwise and leave its input unchanged; otherwise
    (another scipy, another signature) the public functions are used."""
    if _DIRECT:
        return _DIRECT[0]
    mod = None
    try:
        import scipy.fft as sfft  # noqa: PLC0415
        from scipy.fft._pocketfft import pypocketfft as pp  # noqa: PLC0415

        x = np.random.default_rng(0).standard_normal((3, 4, 6))
        f = sfft.rfftn(x, axes=(1, 2))
        f_copy = f.copy()
        out_f = np.empty_like(f)
        out_x = np.empty_like(x)
        r1 = pp.r2c(x, (1, 2), True, 0, out_f, 1)
        r2 = pp.c2r(f, (1, 2), 6, False, 2, out_x, 1)
        if (
            r1 is out_f
            and r2 is out_x
            and np.array_equal(out_f, f)
            and np.array_equal(f, f_copy)
            and np.array_equal(out_x, sfft.irfftn(f, s=(4, 6), axes=(1, 2)))
        ):
            mod = pp
    except Exception:  # noqa: BLE001  (any failure: fall back to the public scipy.fft)
        mod = None
    _DIRECT.append(mod)
    return mod


class LatticeOps:
    """Half-spectrum arrays of a theory on one backend, and the FFT-based operations.

    All methods accept a leading batch of configurations: fields have shape
    ``batch + theory.field_shape`` and transforms act on the last ``d`` axes.  For ``N > 1``
    the component axis (just before the lattice axes) is, for the transforms, one more batch
    axis; every per-configuration sum (``psum``, the action, the local sums) also runs over it
    (``faxes``), and the local terms couple the components through ``phi_a phi_a``.
    """

    def __init__(self, theory: LatticeTheory, backend: str = "numpy"):
        xp = get_backend(backend)
        self.xp = xp
        self.backend = backend
        self.theory = theory
        self.shape = theory.shape
        self.V = theory.volume
        self.axes = tuple(range(-theory.dim, 0))
        self.N = theory.N
        self.field_shape = theory.field_shape
        #: the axes of one configuration: the lattice axes, and for N > 1 the component axis
        self.faxes = tuple(range(-len(self.field_shape), 0))
        n_last = theory.shape[-1]
        half = n_last // 2 + 1
        w = np.full(half, 2.0)
        w[0] = 1.0
        if n_last % 2 == 0:
            w[-1] = 1.0
        sl = (Ellipsis, slice(0, half))
        self.kt = xp.asarray(np.ascontiguousarray(theory.kt_p[sl]))
        self.d = xp.asarray(np.ascontiguousarray(theory.d_p[sl]))
        self.inv_kt = 1.0 / self.kt
        self.sqrt_kt = xp.sqrt(self.kt)
        self.w = xp.asarray(np.broadcast_to(w, theory.kt_p[sl].shape).copy())
        self.lam = theory.lam
        self.f0 = theory.f0
        self.cdot00 = theory.cdot00
        self._direct = None
        if xp is np:
            # scipy's pocketfft handles a batch of small transforms several times faster than
            # numpy.fft (e.g. 32 x 16x16: 0.09 ms against 0.57 ms); same transform, other rounding
            import scipy.fft as _sfft  # noqa: PLC0415  (lattice modules are imported on demand)

            self._fftmod = _sfft
            self._direct = _direct_pocketfft()
        else:
            self._fftmod = xp.fft
        # constant per-mode arrays of the fused integrator and measurement, built on first use
        self._fused = None

    # transforms -----------------------------------------------------------------------
    def fft(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``phi_p = sum_x e^{-ipx} phi_x`` on the half spectrum (batched over leading axes).

        ``out`` (numpy backend only: a C-contiguous complex128 array of the result's shape)
        receives the transform without an allocation.  On numpy the transform is scipy's
        pocketfft called directly (bitwise the result of ``scipy.fft.rfftn``, without its
        ~10 us of argument handling per call, which dominates on small lattices)."""
        if self._direct is not None and x.dtype == np.float64:
            nd = x.ndim
            return self._direct.r2c(x, tuple(range(nd - len(self.shape), nd)), True, 0, out, 1)
        r = self._fftmod.rfftn(x, axes=self.axes)
        if out is None:
            return r
        out[...] = r
        return out

    def ifft(self, f: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Inverse of :meth:`fft` (real output; ``out`` as in :meth:`fft`, float64)."""
        if self._direct is not None and f.dtype == np.complex128:
            nd = f.ndim
            return self._direct.c2r(f, tuple(range(nd - len(self.shape), nd)), self.shape[-1], False, 2, out, 1)
        r = self._fftmod.irfftn(f, s=self.shape, axes=self.axes)
        if out is None:
            return r
        out[...] = r
        return out

    def psum(self, f: np.ndarray) -> np.ndarray:
        """``sum_p f_p`` over all momenta, for ``f`` even in ``p`` given on the half spectrum."""
        return self.xp.sum(self.w * f, axis=self.faxes)

    # action -----------------------------------------------------------------------------
    def s_hat_p(self, phi_p: np.ndarray) -> np.ndarray:
        """``(1/2V) sum_p |phi_p|^2 / Kt_p``."""
        return 0.5 / self.V * self.psum(abs2(phi_p) * self.inv_kt)

    def s_int(self, phi: np.ndarray) -> np.ndarray:
        """``(lam/4!) sum_x (phi_a phi_a)^2`` (``phi_x^4`` for N = 1)."""
        p2 = phi * phi  # products, not ``** 4``: numpy's general pow is ~20x slower
        if self.N > 1:
            p2 = self.xp.sum(p2, axis=-len(self.field_shape))
        return (self.lam / 24.0) * self.xp.sum(p2 * p2, axis=self.axes)

    def action(self, phi: np.ndarray) -> np.ndarray:
        """Full action ``S = S_hat + S_int`` of position-space field(s) ``phi``."""
        return self.s_hat_p(self.fft(phi)) + self.s_int(phi)

    # fused kernels (HMC integrator and measurement) -------------------------------------
    def fused(self) -> FusedConstants:
        """The constant per-mode arrays of the fused integrator and measurement (built once)."""
        if self._fused is None:
            self._fused = FusedConstants(self)
        return self._fused

    def local_terms(
        self,
        phi: np.ndarray,
        phi2: np.ndarray | None = None,
        phi3: np.ndarray | None = None,
        f_out: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """``(phi^2, F)`` with ``F = fft(phi^3)`` (None at ``lam = 0``); ``phi2``/``phi3``/``f_out``
        are optional output buffers.  One op sequence for the integrator's force and for
        :meth:`spectra`, so a cached force equals a recomputed one bitwise.

        For ``N > 1``: ``phi^2`` is ``phi_a phi_a`` (no component axis; the ``phi2`` buffer is
        not used) and ``F`` the transform of ``(phi_b phi_b) phi_a``, the gradient of
        ``sum_x (phi.phi)^2 / 4``."""
        xp = self.xp
        if self.N > 1:
            phi2 = xp.sum(phi * phi, axis=-len(self.field_shape))
            if self.lam == 0:
                return phi2, None
            phi3 = xp.multiply(phi, xp.expand_dims(phi2, -len(self.field_shape)), out=phi3)
            return phi2, self.fft(phi3, out=f_out)
        phi2 = xp.multiply(phi, phi, out=phi2)  # products, not ``** 3``: numpy's pow is ~20x slower
        if self.lam == 0:
            return phi2, None
        phi3 = xp.multiply(phi2, phi, out=phi3)
        return phi2, self.fft(phi3, out=f_out)

    def local_sums(self, phi2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(S_int, sum_x phi_x^2)`` per configuration from ``phi2 = phi*phi`` (``phi_a phi_a``
        for N > 1, as :meth:`local_terms` returns it)."""
        flat = phi2.reshape(phi2.shape[: phi2.ndim - len(self.shape)] + (-1,))
        sum2 = self.xp.sum(flat, axis=-1)
        if self.lam == 0:
            return 0.0 * sum2, sum2
        return (self.lam / 24.0) * self.xp.einsum("...i,...i->...", flat, flat), sum2

    def spectra(self, phi: np.ndarray) -> FieldSpectra:
        """:class:`FieldSpectra` of position-space field(s) ``phi`` (two transforms)."""
        phi2, f3_p = self.local_terms(phi)
        s_int, sum2 = self.local_sums(phi2)
        return FieldSpectra(phi, self.fft(phi), f3_p, s_int, sum2)


def fview(z: np.ndarray) -> np.ndarray:
    """Float view of a complex array: shape ``z.shape + (2,)``, last axis (real, imaginary)."""
    real = np.float32 if z.dtype == np.complex64 else np.float64  # numpy dtypes for cupy too
    return z.view(real).reshape(z.shape + (2,))


def batch_dot(a: np.ndarray, b: np.ndarray, n_batch: int) -> np.ndarray:
    """``sum a*b`` over all but the first ``n_batch`` axes (one reduction, no temporary)."""
    return array_namespace(a).einsum(
        "...i,...i->...", a.reshape(a.shape[:n_batch] + (-1,)), b.reshape(b.shape[:n_batch] + (-1,))
    )


class FieldSpectra:
    """What the next HMC trajectory and the measurement need of a field, computed once.

    ``phi`` (the field these belong to: a cache is valid only for that very array object),
    ``phi_p = fft(phi)``, ``f3_p = fft(phi^3)`` (None at ``lam = 0``), ``s_int`` =
    :math:`\\frac\\lambda{4!}\\sum_x\\phi_x^4` and ``sum_phi2`` = :math:`\\sum_x\\phi_x^2` per
    configuration.  Every entry is a deterministic function of ``phi``
    (:meth:`LatticeOps.spectra`), so a resumed chain rebuilds it bitwise.
    """

    __slots__ = ("phi", "phi_p", "f3_p", "s_int", "sum_phi2")

    def __init__(
        self, phi: np.ndarray, phi_p: np.ndarray, f3_p: np.ndarray | None, s_int: np.ndarray, sum_phi2: np.ndarray
    ):
        self.phi, self.phi_p, self.f3_p, self.s_int, self.sum_phi2 = phi, phi_p, f3_p, s_int, sum_phi2


class FusedConstants:
    """Per-mode constant arrays (half spectrum, with a trailing axis for (re, im)).

    * ``kt2``, ``sqrt_kt2``: ``Kt_p`` and its root, shape ``half + (2,)``;
    * ``sg``: :math:`\\sqrt{w_p/(2V\\tilde K_p)}`, shape ``half + (2, 2)``, so that the free
      energy :math:`\\frac1{2V}\\sum_p(|\\phi_p|^2+|\\tilde K_p\\pi_p|^2)/\\tilde K_p` of the
      integrator's state is one weighted sum of squares (``sg1``: the same, shape ``half + (2,)``,
      for :math:`\\hat S` alone);
    * ``m_a = sqrt(w D/V)/Kt``, ``m_c = sqrt(w D/V)``: the measurement's weights, shape
      ``half + (2,)`` (``w`` = the half-spectrum multiplicities of :attr:`LatticeOps.w`).
    """

    def __init__(self, ops: LatticeOps):
        xp = ops.xp
        kt, w, d = ops.kt, ops.w, ops.d
        self.half = tuple(kt.shape)

        def pairs(a, n=1):
            # repeated along the trailing (re, im) axes, not broadcast: a length-2 innermost
            # broadcast makes numpy's loops ~5x slower
            return xp.ascontiguousarray(xp.broadcast_to(a.reshape(a.shape + (1,) * n), a.shape + (2,) * n))

        self.kt2 = pairs(kt)
        self.sqrt_kt2 = pairs(ops.sqrt_kt)
        sg = xp.sqrt(w / (2.0 * ops.V * kt))
        self.sg = pairs(sg, 2)
        self.sg1 = pairs(sg)
        m_c = xp.sqrt(w * d / ops.V)
        self.m_c = pairs(m_c)
        self.m_a = pairs(m_c / kt)
