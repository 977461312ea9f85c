"""Invertible, translation-equivariant maps with exact cheap log-determinants (paper §VI, (6.27)).

The maps act on a periodic lattice field mode by mode in *orbits*: sets ``O`` of momenta with the
same ``phat^2`` (so the same ``Kt_p`` and ``D_p``).  With the orbit radius

.. math:: \\rho_O(\\phi)^2 = \\frac1V \\sum_{p\\in O} |\\phi_p|^2 = \\sum_x (\\Pi_O\\phi)_x^2

(``Pi_O`` the orthogonal projection on the real span of the orbit's plane waves, of real
dimension ``m_O = |O|``), a map of the family is

.. math:: (F\\phi)_p = \\frac{g_O(\\rho_O)}{\\rho_O}\\,\\phi_p,\\qquad p\\in O,

a radial map in each orbit subspace.  Translations rotate the phases of ``phi_p`` and so preserve
``rho_O``: every such map is translation-equivariant (6.27) (and commutes with the lattice
rotations and reflections).  The Jacobian is block-diagonal with

.. math:: \\ln|\\det \\partial F/\\partial\\phi| = \\sum_O \\ln g_O'(\\rho_O) + (m_O - 1)\\ln\\frac{g_O(\\rho_O)}{\\rho_O} .

Families of ``g`` (parameters ``theta``):

* ``"linear"``: ``g = a rho``, ``a = e^{theta_0}`` -- the Fourier-diagonal (circulant) linear map,
  ``ln det = sum_p ln a_p``; exact for Gaussian theories.
* ``"radial"``: ``g = a [rho + sum_k beta_k s_k tanh(rho/s_k)]``, ``beta_k = (e^{theta_k} - 1)/K``,
  i.e. ``Id +`` a pointwise monotone nonlinearity of the orbit amplitude (a residual map in the
  sense of the paper's footnote 8).  ``g' = a [1 + sum beta_k sech^2] > 0`` and ``g -> a rho`` at
  infinity: onto, invertible for every ``theta``.

* ``"coupled"``: ``radial`` times a scale ``s_O = exp(gamma_1 tanh u + gamma_2 tanh^2 u)`` that
  depends on the standardized input power ``u`` of the orbits frozen in the step and of the moved
  orbits before ``O``: the coupling between modes that the interacting flow builds, which
  per-orbit maps cannot represent (they keep the dependence between orbits of ``P_Lambda0``).
  The Jacobian is block-triangular, so ``ln|det|`` gains ``m_O ln s_O`` and stays exact.

With ``N`` components (O(N) model) a field has shape ``(n, N) + shape``: an orbit's subspace holds
every component of its modes (``m_O = N |O|``), ``rho_O`` is summed over the components and the
factor ``g_O/rho_O`` (and the coupled family's scale, a function of summed powers) multiplies every
component alike, so every map is O(N)-equivariant, ``F(R phi) = R F(phi)``, and the formula for
``ln|det|`` holds with ``m_O = N |O|`` (docs/variational.md, "O(N) models").

Orbits whose ``D_p`` vanishes in a step are left fixed (``g = rho``): moving them has infinite
cost in (3.4).  A one-site lattice (``shape = (1,)``) has one orbit with ``m = 1``: the radial map
is then an odd monotone map of the real line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..conventions import lattice_phat2
from ..errors import ErgsymError, InputError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from numpy.typing import ArrayLike

__all__ = ["Orbits", "RadialFamily", "ShellMap", "compose_apply", "FAMILIES"]

FAMILIES = ("linear", "radial", "coupled")


class Orbits:
    """Momenta grouped by ``phat^2`` on a lattice of ``shape`` (``numpy.fft.fftn`` layout).

    With ``N > 1`` components a field has shape ``(n, N) + shape`` (one per component, the
    transforms act on the last ``d`` axes) and an orbit's subspace holds every component of its
    modes: ``rho_O^2`` is summed over the components and ``m`` (the real dimension of the orbit's
    subspace) is ``N`` times the number of modes ``n_modes``.  ``N = 1`` fields keep the lattice
    shape ``(n,) + shape``.
    """

    def __init__(self, shape: tuple[int, ...], N: int = 1):
        from ..lattice.theory import validate_n_components  # noqa: PLC0415

        self.shape = tuple(int(s) for s in shape)
        self.N = validate_n_components(N)
        self.d = len(self.shape)
        self.V = math.prod(self.shape)
        p2 = np.asarray(lattice_phat2(self.shape), dtype=float).reshape(self.shape)
        keys = np.round(p2.ravel(), 9)
        self.p2, self.label = np.unique(keys, return_inverse=True)
        self.label = self.label.reshape(-1)
        #: modes per orbit (momenta of equal phat^2)
        self.n_modes = np.bincount(self.label, minlength=self.p2.size).astype(int)
        #: real dimension of an orbit's subspace: N components of each mode
        self.m = self.N * self.n_modes
        self.n = self.p2.size
        ind = np.zeros((self.V, self.n))
        ind[np.arange(self.V), self.label] = 1.0
        self._ind = ind
        self._rep = np.array([np.flatnonzero(self.label == o)[0] for o in range(self.n)])

    @property
    def field_shape(self) -> tuple[int, ...]:
        """Shape of one configuration: ``shape`` for ``N = 1``, ``(N,) + shape`` otherwise."""
        return self.shape if self.N == 1 else (self.N,) + self.shape

    def axes(self, x: np.ndarray) -> tuple[int, ...]:
        """The lattice axes of an array of fields (the last ``d``)."""
        return tuple(range(x.ndim - self.d, x.ndim))

    def per_orbit(self, f_p: ArrayLike) -> np.ndarray:
        """Value of a function of ``phat^2`` (array of shape ``shape``) on each orbit."""
        return np.asarray(f_p, dtype=float).reshape(-1)[self._rep]

    def fft(self, phi: np.ndarray) -> np.ndarray:
        return np.fft.fftn(phi, axes=self.axes(phi))

    def ifft(self, phi_p: np.ndarray) -> np.ndarray:
        return np.fft.ifftn(phi_p, axes=self.axes(phi_p)).real

    def rho2(self, phi_p: np.ndarray) -> np.ndarray:
        """``rho_O^2`` per sample (summed over the components): shape ``(n_samples, n_orbits)``."""
        pw = np.abs(phi_p) ** 2
        if self.N > 1:
            pw = pw.sum(axis=1)
        pw = pw.reshape(phi_p.shape[0], -1) / self.V
        return pw @ self._ind

    def per_mode(self, r: np.ndarray) -> np.ndarray:
        """Per-sample, per-orbit values ``r`` (shape ``(n, n_orbits)``) on every mode, broadcastable
        against fields (every component alike)."""
        fac = r[:, self.label].reshape((r.shape[0],) + self.shape)
        return fac if self.N == 1 else fac[:, None]

    def scale(self, phi_p: np.ndarray, r: np.ndarray) -> np.ndarray:
        """``IFFT(r_O phi_p)`` for per-sample, per-orbit factors ``r`` of shape ``(n, n_orbits)``."""
        return np.fft.ifftn(phi_p * self.per_mode(r), axes=self.axes(phi_p)).real


def coupling_features(u: np.ndarray) -> np.ndarray:
    """Bounded features ``(tanh u, tanh^2 u)`` of the standardized power ``u`` of the orbits an
    orbit's scale depends on (shape ``(2, n)``)."""
    t = np.tanh(np.asarray(u, dtype=float))
    return np.stack([t, t * t])


@dataclass(frozen=True)
class RadialFamily:
    """``g(rho) = a [rho + sum_k beta_k s_k tanh(rho/s_k)]`` (``K = len(s)``; ``K = 0``: linear).

    ``coupled``: two more parameters ``gamma`` multiply ``g`` by the scale
    ``s(u) = exp(gamma_1 tanh u + gamma_2 tanh^2 u)`` with ``u`` the standardized power of the
    orbits this orbit is coupled to (:class:`ShellMap`); ``s`` does not depend on this orbit.
    """

    scales: tuple = ()
    coupled: bool = False

    @property
    def n_radial(self) -> int:
        return 1 + len(self.scales)

    @property
    def n_params(self) -> int:
        return self.n_radial + (2 if self.coupled else 0)

    def log_scale(self, theta: np.ndarray, u: np.ndarray | None) -> np.ndarray | float:
        """``ln s(u)`` per sample (zeros for an uncoupled family or ``u`` None)."""
        if not self.coupled or u is None:
            return 0.0
        gam = np.asarray(theta, dtype=float)[self.n_radial :]
        return gam @ coupling_features(u)

    def evaluate(self, theta: np.ndarray, rho: np.ndarray, grad: bool = False) -> tuple[np.ndarray, ...]:
        """``(g, g', dg/dtheta, d ln g'/dtheta, d ln(g/rho)/dtheta)`` at radii ``rho`` (1-d)."""
        theta = np.asarray(theta, dtype=float)[: self.n_radial]
        a = math.exp(theta[0])
        K = len(self.scales)
        h = rho.copy()
        hp = np.ones_like(rho)
        tk, sk = [], []
        for k, s in enumerate(self.scales):
            beta = math.expm1(theta[1 + k]) / K
            t = s * np.tanh(rho / s)
            sech2 = 1.0 / np.cosh(np.minimum(rho / s, 350.0)) ** 2
            h += beta * t
            hp += beta * sech2
            tk.append(t)
            sk.append(sech2)
        g, gp = a * h, a * hp
        if not grad:
            return g, gp
        n = rho.size
        dg = np.empty((self.n_radial, n))
        dlgp = np.empty((self.n_radial, n))
        dlq = np.empty((self.n_radial, n))
        dg[0], dlgp[0], dlq[0] = g, 1.0, 1.0
        for k in range(K):
            e = math.exp(theta[1 + k]) / K
            dg[1 + k] = a * tk[k] * e
            dlgp[1 + k] = sk[k] * e / hp
            dlq[1 + k] = tk[k] * e / h
        return g, gp, dg, dlgp, dlq


@dataclass
class ShellMap:
    """One step's map ``F_n``: a radial map per orbit (identity on the frozen orbits).

    Attributes
    ----------
    orbits : Orbits
    active : ndarray of int
        Orbits the map moves (``D_p > 0`` in this step).
    thetas : list of ndarray
        Parameters per active orbit.
    families : list of RadialFamily
    step : int
        Index of the step (for error messages).
    """

    orbits: Orbits
    active: np.ndarray
    thetas: list
    families: list
    step: int = 0
    info: dict = field(default_factory=dict)
    #: per active orbit: None, or ``(sources, norm)``: the orbit's scale depends on
    #: ``u = sum_{o' in sources} rho_o'^2 / norm - 1`` of the INPUT field (coupled family)
    couplings: list = None

    def coupling_u(self, j: int, rho2: np.ndarray) -> np.ndarray | None:
        """``u`` of active orbit number ``j`` from the input ``rho2`` (None if uncoupled)."""
        if not self.couplings or self.couplings[j] is None:
            return None
        src, norm = self.couplings[j]
        return rho2[:, list(src)].sum(axis=1) / norm - 1.0

    def factors(self, rho2: np.ndarray, with_logdet: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Per-sample orbit factors ``g/rho`` and ``ln|det dF|`` (raises if not invertible).

        With couplings the Jacobian is block-triangular (an orbit's scale depends only on the
        input of frozen orbits and of active orbits before it), so its log-determinant is the
        sum of the diagonal blocks: ``ln g' + (m-1) ln(g/rho) + m ln s``.
        """
        n = rho2.shape[0]
        r = np.ones_like(rho2)
        logdet = np.zeros(n)
        for j, (o, th, fam) in enumerate(zip(self.active, self.thetas, self.families, strict=True)):
            rho = np.sqrt(rho2[:, o])
            g, gp = fam.evaluate(th, rho)
            m = self.orbits.m[o]
            ls = fam.log_scale(th, self.coupling_u(j, rho2))
            with np.errstate(all="ignore"):
                q = g / rho * np.exp(ls)
                ld = np.log(gp) + (m - 1) * np.log(g / rho) + m * ls
            if not (np.all(np.isfinite(ld)) and np.all(gp > 0) and np.all(q > 0)):
                raise ErgsymError(
                    f"step {self.step}: the map stopped being invertible on the orbit phat^2="
                    f"{self.orbits.p2[o]:.6g} (g' <= 0 or non-finite for some sample; theta={list(th)}); "
                    "use a smaller step tau (more --steps)"
                )
            r[:, o] = q
            logdet += ld
        return r, logdet

    def apply_fourier(
        self, phi_p: np.ndarray, return_logdet: bool = False
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """``F`` on Fourier components ``phi_p`` (shape ``(n,) + shape``, ``fftn`` layout): no FFT needed."""
        r, ld = self.factors(self.orbits.rho2(phi_p))
        out = phi_p * self.orbits.per_mode(r)
        return (out, ld) if return_logdet else out

    def apply(self, phi: np.ndarray, return_logdet: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """``F(phi)`` for fields of shape ``(n,) + field_shape``; optionally with ``ln|det dF/dphi|``."""
        phi = np.asarray(phi, dtype=float)
        if phi.shape[1:] != self.orbits.field_shape:
            raise InputError.bad("phi.shape", phi.shape, f"(n,) + {self.orbits.field_shape}")
        phi_p = self.orbits.fft(phi)
        r, ld = self.factors(self.orbits.rho2(phi_p))
        out = self.orbits.scale(phi_p, r)
        return (out, ld) if return_logdet else out

    def to_dict(self) -> dict:
        d = {
            "step": self.step,
            "active": [int(a) for a in self.active],
            "thetas": [list(map(float, t)) for t in self.thetas],
            "scales": [list(map(float, f.scales)) for f in self.families],
        }
        if self.couplings:
            d["couplings"] = [None if c is None else [[int(x) for x in c[0]], float(c[1])] for c in self.couplings]
        return d

    @classmethod
    def from_dict(cls, orbits: Orbits, d: dict) -> ShellMap:
        cpl = d.get("couplings")
        cpl = None if not cpl else [None if c is None else (tuple(c[0]), float(c[1])) for c in cpl]
        fams = [RadialFamily(tuple(s), bool(cpl and cpl[j] is not None)) for j, s in enumerate(d["scales"])]
        return cls(
            orbits,
            np.array(d["active"], dtype=int),
            [np.array(t) for t in d["thetas"]],
            fams,
            int(d["step"]),
            couplings=cpl,
        )


def compose_apply(
    maps: Iterable[ShellMap], phi: np.ndarray, return_logdet: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Algorithm 1 with the order fixed: ``(F_n o ... o F_1)(phi)`` -- the first map found acts first.

    Returns the pushed samples (and the summed ``ln|det|`` of the composition per sample).
    """
    phi = np.asarray(phi, dtype=float)
    total = np.zeros(phi.shape[0])
    for F in maps:
        phi, ld = F.apply(phi, return_logdet=True)
        total += ld
    return (phi, total) if return_logdet else phi
