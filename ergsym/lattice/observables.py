"""Per-configuration estimators of A, B, their four pieces, ``G_p`` and ``<phi^2>``.

Definitions (docs/lattice.md; Cotler & Rezchikov, PRD 108, 025003, eqs. (4.5), (5.5), (5.11)-(5.14))
-------------------------------------------------------------------------------
With :math:`\\Sigma = S - 2\\hat S`, :math:`\\partial_x = \\partial/\\partial\\phi_x` and
:math:`\\sum_{xy}\\dot C_{xy} a_x b_y = \\frac1V\\sum_p D_p\\,\\overline{a_p}\\, b_p`:

* ``eq5.14`` (old name ``P1``) :math:`= \\tfrac12\\sum_{xy}\\dot C_{xy}\\langle\\partial_xS\\,\\partial_yS\\rangle`
* ``eq5.13`` (``P2``) :math:`= -2\\sum_{xy}\\dot C_{xy}\\langle\\partial_xS\\,\\partial_y\\hat S\\rangle`
* ``eq5.12`` (``P3``) :math:`= 2\\sum_{xy}\\dot C_{xy}\\langle\\partial_x\\hat S\\,\\partial_y\\hat S\\rangle`
* ``eq5.11`` (``P4``) :math:`= -2\\langle\\Lambda\\partial_\\Lambda\\hat S\\rangle`,
  :math:`\\Lambda\\partial_\\Lambda\\hat S = -\\frac1{2V}\\sum_p D_p|\\phi_p|^2/\\tilde K_p^2`
* ``A = P1+P2+P3+P4`` (the printed (5.5)); ``B = -P1-P2-P3+P4`` (:math:`-\\Lambda dM/d\\Lambda`).

All are whole-lattice sums (not per volume), matching the engine's
"coefficient of :math:`\\delta^d(0)`" <-> lattice sum dictionary.  Free one mode (``V = 1``):
``A = (3/2) D/k``, ``B = D/(2k)``.

Schwinger-Dyson-improved estimators
-----------------------------------
From :math:`\\langle\\partial_xS\\,F\\rangle = \\langle\\partial_xF\\rangle`, with
:math:`f_0 = \\sum_p D_p/\\tilde K_p = \\mathrm{Tr}(\\dot C M)` and
:math:`\\dot C_{00} = \\frac1V\\sum_p D_p`:

* :math:`\\sum\\dot C\\langle\\partial S\\partial S\\rangle = f_0 + \\frac\\lambda2\\dot C_{00}\\sum_x\\langle\\phi_x^2\\rangle`
  (``F = sum_y Cdot_xy d_yS``);
* :math:`\\sum\\dot C\\langle\\partial S\\partial\\hat S\\rangle = f_0` exactly (so ``P2 = -2 f0``
  with no fluctuation at any coupling);
* :math:`\\sum\\dot C\\langle\\partial\\hat S\\partial\\hat S\\rangle = f_0 - \\frac\\lambda6\\sum_x
  \\langle\\phi_x^3(\\dot C M\\phi)_x\\rangle` (``F = phi_b``, contracted with ``(Cdot M)_{xb}``).

Their fluctuating parts are O(lam), so at small coupling the improved estimators have errors
O(lam/sqrt(N)) instead of O(1/sqrt(N)) -- what the small-lambda cross-check needs.

O(N) models
-----------
For ``N`` components (``S_int = (lam/4!) sum_x (phi_a phi_a)^2``) every piece is summed over
the components, ``phi2`` is ``(1/V) sum_x phi_a phi_a`` (free value ``N Kt(x=0)``) and
``phi^3`` above stands for ``(phi_b phi_b) phi_a`` (the gradient of ``S_int`` is
``(lam/6)(phi_b phi_b) phi_a``).  The Schwinger-Dyson identities become, with
:math:`\\sum_a\\partial_{xa}^2 S_{int} = \\frac{\\lambda}{6}(N+2)\\,\\phi_x\\cdot\\phi_x`:
:math:`\\sum\\dot C\\langle\\partial S\\partial S\\rangle = Nf_0 + \\frac{\\lambda(N+2)}6\\dot C_{00}
\\sum_x\\langle\\phi\\cdot\\phi\\rangle`, :math:`\\sum\\dot C\\langle\\partial S\\partial\\hat S\\rangle
= Nf_0` and :math:`\\sum\\dot C\\langle\\partial\\hat S\\partial\\hat S\\rangle = Nf_0 -
\\frac\\lambda6\\sum_x\\langle(\\phi\\cdot\\phi)\\phi_a(\\dot CM\\phi_a)_x\\rangle` (N = 1: the above).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import InputError
from .backend import array_namespace, to_numpy
from .theory import FieldSpectra, LatticeOps, abs2, batch_dot, fview

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "SCALAR_OBSERVABLES",
    "OBSERVABLE_ALIASES",
    "ObservableDict",
    "canonical_observable",
    "exact_observables",
    "measure",
    "measure_spectra",
    "measure_reference",
    "measure_gp",
    "measure_host",
    "quadratic_forms",
    "combine_forms",
    "observable_matrix",
]

#: Names of the scalar observables returned by :func:`measure` (the ``_sd`` ones are the
#: Schwinger-Dyson-improved estimators of the same expectation values).  The four pieces are
#: named by the paper's equations (Cotler & Rezchikov, PRD 108, 025003, (5.11)-(5.14)):
#: ``eq5.14`` = P1, ``eq5.13`` = P2, ``eq5.12`` = P3, ``eq5.11`` = P4 (the older names, which ran
#: in the opposite order, are accepted as aliases everywhere: :data:`OBSERVABLE_ALIASES`).
SCALAR_OBSERVABLES = (
    "phi2",
    "eq5.14",
    "eq5.13",
    "eq5.12",
    "eq5.11",
    "A",
    "B",
    "eq5.14_sd",
    "eq5.13_sd",
    "eq5.12_sd",
    "eq5.11_sd",
    "A_sd",
    "B_sd",
)

_OLD = {
    "P1": "eq5.14",
    "P2": "eq5.13",
    "P3": "eq5.12",
    "P4": "eq5.11",
    "dSdS": "eq5.14",
    "dSdShat": "eq5.13",
    "dShatdShat": "eq5.12",
    "LdShat": "eq5.11",
    "5.14": "eq5.14",
    "5.13": "eq5.13",
    "5.12": "eq5.12",
    "5.11": "eq5.11",
}
#: old observable name -> canonical name (``P1`` -> ``eq5.14``, ``P1_sd`` -> ``eq5.14_sd``, ...).
OBSERVABLE_ALIASES = {**_OLD, **{f"{k}_sd": f"{v}_sd" for k, v in _OLD.items()}}


def canonical_observable(name: str, param: str = "name") -> str:
    """Canonical name of a scalar observable (aliases such as ``P1``/``P1_sd`` resolved)."""
    if name in SCALAR_OBSERVABLES or name == "Gp":
        return name
    if name in OBSERVABLE_ALIASES:
        return OBSERVABLE_ALIASES[name]
    raise InputError.bad(
        param,
        name,
        "one of " + ", ".join(SCALAR_OBSERVABLES),
        "the old names P1..P4 (= eq5.14..eq5.11) are accepted too",
    )


class ObservableDict(dict):
    """A dict keyed by canonical observable names that also answers to the old names."""

    def __getitem__(self, key):
        if not dict.__contains__(self, key) and key in OBSERVABLE_ALIASES:
            key = OBSERVABLE_ALIASES[key]
        return dict.__getitem__(self, key)

    def __contains__(self, key):
        return dict.__contains__(self, key) or (
            key in OBSERVABLE_ALIASES and dict.__contains__(self, OBSERVABLE_ALIASES[key])
        )

    def get(self, key: str, default: object = None) -> object:
        return self[key] if key in self else default


def exact_observables(lam: float, d_p_zero: bool = False) -> frozenset:
    """Estimators that are constant by construction (their value is exact, zero variance).

    ``eq5.13_sd`` (= -2 f0) at every coupling; every Schwinger-Dyson estimator at ``lam = 0``;
    everything but ``phi2`` when ``D_p`` vanishes at every lattice momentum (all are then 0).
    """
    if d_p_zero:
        return frozenset(n for n in SCALAR_OBSERVABLES if n != "phi2")
    if lam == 0:
        return frozenset(n for n in SCALAR_OBSERVABLES if n.endswith("_sd"))
    return frozenset({"eq5.13_sd"})


def measure(ops: LatticeOps, phi: np.ndarray) -> dict:
    """Evaluate every scalar estimator on configuration(s) ``phi``.

    Parameters
    ----------
    ops : LatticeOps
        The theory on its backend.
    phi : array, shape ``batch + theory.shape``
        Real position-space field(s).

    Returns
    -------
    dict
        ``name -> array of shape batch`` for every name in :data:`SCALAR_OBSERVABLES`
        (an :class:`ObservableDict`: the old names P1..P4 work as keys too).
        ``phi2`` is the site average ``(1/V) sum_x phi_x^2`` (``phi_a phi_a`` summed over the
        components for N > 1); the others are lattice totals, summed over components.

    See Also
    --------
    measure_spectra : the same from precomputed transforms (what a Monte Carlo run uses).
    """
    return measure_spectra(ops, ops.spectra(phi))


def measure_spectra(ops: LatticeOps, sp: FieldSpectra) -> dict:
    r"""Every scalar estimator from a field's :class:`~ergsym.lattice.theory.FieldSpectra`.

    No transform is needed: with :math:`\hat\phi_p = \phi_p/\tilde K_p` (the gradient of
    :math:`\hat S`) and :math:`F_p` the transform of :math:`\phi^3`, the gradient of S is
    :math:`\hat\phi_p + \frac\lambda6 F_p`, so the three quadratic forms

    .. math::
        x = \frac1V\sum_p D_p\frac{|\phi_p|^2}{\tilde K_p^2},\quad
        b = \frac1V\sum_p \frac{D_p}{\tilde K_p}\mathrm{Re}\,\overline{\phi_p}F_p,\quad
        c = \frac1V\sum_p D_p|F_p|^2

    give :math:`\sum\dot C\,\partial\hat S\partial\hat S = x`,
    :math:`\sum\dot C\,\partial S\partial\hat S = x + \frac\lambda6 b`,
    :math:`\sum\dot C\,\partial S\partial S = x + \frac\lambda3 b + \frac{\lambda^2}{36}c`,
    and, by Parseval, :math:`\sum_x\phi_x^3(\dot C M\phi)_x = b` for the improved
    :math:`\partial\hat S\partial\hat S` estimator.  Each form is one weighted sum of
    products of the half spectra (weights :class:`~ergsym.lattice.theory.FusedConstants`).
    """
    q = quadratic_forms(ops, sp)
    vals = combine_forms(ops, q)
    return ObservableDict({name: vals[j] for j, name in enumerate(SCALAR_OBSERVABLES)})


def quadratic_forms(ops: LatticeOps, sp: FieldSpectra) -> np.ndarray:
    """``(x, b, c, sum_x phi_x^2)`` of :func:`measure_spectra`, stacked: shape ``(4,) + batch``
    (on the field's device; the observables are linear in them, :func:`combine_forms`)."""
    xp = ops.xp
    fz = ops.fused()
    nb = sp.phi_p.ndim - len(ops.field_shape)
    ua = xp.multiply(fview(sp.phi_p), fz.m_a)
    xx = batch_dot(ua, ua, nb)
    if ops.lam > 0:
        vc = xp.multiply(fview(sp.f3_p), fz.m_c)
        bb = batch_dot(ua, vc, nb)
        cc = batch_dot(vc, vc, nb)
    else:
        bb = cc = 0.0 * xx
    return xp.stack([xp.asarray(v) for v in (xx, bb, cc, sp.sum_phi2)])


def measure_host(ops: LatticeOps, sp: FieldSpectra) -> np.ndarray:
    """:func:`measure_spectra` as one host (numpy) array of shape ``(13,) + batch`` in the order
    of :data:`SCALAR_OBSERVABLES`: four numbers per configuration leave the device."""
    return combine_forms(ops, to_numpy(quadratic_forms(ops, sp)))


def observable_matrix(lam: float, f0: float, cdot00: float, V: int, N: int = 1) -> np.ndarray:
    """The ``13 x 5`` matrix taking ``(1, x, b, c, sum phi^2)`` to :data:`SCALAR_OBSERVABLES`.

    With ``l = lam/6``: ``eq5.14 = x/2 + l b + l^2 c/2``, ``eq5.13 = -2x - 2l b``,
    ``eq5.12 = 2x``, ``eq5.11 = x``; improved: ``eq5.14_sd = f0/2 + lam Cdot_00 sum phi^2/4``,
    ``eq5.13_sd = -2 f0``, ``eq5.12_sd = 2 f0 - 2l b``, ``eq5.11_sd = f0 - l b``; ``A``, ``B`` and
    their improved forms are the sums of these rows (docs/lattice.md), so the constant
    estimators (``eq5.13_sd`` always, every ``_sd`` at ``lam = 0``) have zero coefficients on
    every fluctuating column and come out as exact constants.

    For ``N`` components ``f0`` becomes ``N f0`` and the ``sum phi^2`` coefficient of
    ``eq5.14_sd`` is ``lam (N+2) Cdot_00 / 12`` (module docstring, "O(N) models").
    """
    import numpy as np  # noqa: PLC0415  (host-side constants)

    l6 = lam / 6.0
    if N == 1:
        s2 = 0.25 * lam * cdot00  # N = 1: exactly the numbers of before
    else:
        s2 = lam * (N + 2) * cdot00 / 12.0
        f0 = N * f0
    rows = {
        "phi2": (0, 0, 0, 0, 1.0 / V),
        "eq5.14": (0, 0.5, l6, 0.5 * l6 * l6, 0),
        "eq5.13": (0, -2.0, -2.0 * l6, 0, 0),
        "eq5.12": (0, 2.0, 0, 0, 0),
        "eq5.11": (0, 1.0, 0, 0, 0),
        "A": (0, 1.5, -l6, 0.5 * l6 * l6, 0),
        "B": (0, 0.5, l6, -0.5 * l6 * l6, 0),
        "eq5.14_sd": (0.5 * f0, 0, 0, 0, s2),
        "eq5.13_sd": (-2.0 * f0, 0, 0, 0, 0),
        "eq5.12_sd": (2.0 * f0, 0, -2.0 * l6, 0, 0),
        "eq5.11_sd": (f0, 0, -l6, 0, 0),
        "A_sd": (1.5 * f0, 0, -3.0 * l6, 0, s2),
        "B_sd": (0.5 * f0, 0, l6, 0, -s2),
    }
    return np.array([rows[n] for n in SCALAR_OBSERVABLES], dtype=float)


def combine_forms(ops: LatticeOps, q: np.ndarray) -> np.ndarray:
    """Every scalar observable from :func:`quadratic_forms` ``q`` (numpy or cupy): an array of
    shape ``(13,) + batch`` in the order of :data:`SCALAR_OBSERVABLES` (one ``einsum``, no BLAS:
    the same numbers for the same inputs wherever they lie in memory)."""
    xp = array_namespace(q)
    mat = ops.__dict__.get("_obs_matrix")
    if mat is None:
        mat = observable_matrix(ops.lam, ops.f0, ops.cdot00, ops.V, ops.N)
        ops._obs_matrix = mat
    ones = xp.ones((1,) + tuple(q.shape[1:]))
    return xp.einsum("ok,k...->o...", xp.asarray(mat), xp.concatenate([ones, q]))


def measure_reference(ops: LatticeOps, phi: np.ndarray) -> dict:
    """The unfused estimators, term by term as defined above (three transforms, ~30 array
    operations); :func:`measure` computes the same numbers to rounding.  Kept as the
    reference the tests compare :func:`measure` against.

    Parameters
    ----------
    ops : LatticeOps
        The theory on its backend.
    phi : array, shape ``batch + theory.shape``
        Real position-space field(s).

    Returns
    -------
    dict
        ``name -> array of shape batch`` for every name in :data:`SCALAR_OBSERVABLES`
        (an :class:`ObservableDict`: the old names P1..P4 work as keys too).
        ``phi2`` is the site average ``(1/V) sum_x phi_x^2`` (``phi_a phi_a`` summed over the
        components for N > 1); the others are lattice totals, summed over components.
    """
    xp, V, lam = ops.xp, ops.V, ops.lam
    phi_p = ops.fft(phi)
    dshat_p = phi_p * ops.inv_kt  # (d S_hat)_p = phi_p / Kt_p
    phi2 = phi * phi
    if ops.N > 1:
        phi2 = xp.sum(phi2, axis=-len(ops.field_shape))
        phi3 = xp.expand_dims(phi2, -len(ops.field_shape)) * phi
    else:
        phi3 = phi2 * phi
    ds_p = dshat_p + (lam / 6.0) * ops.fft(phi3)  # (d S)_p
    # direct estimators: (1/V) sum_p D_p conj(a_p) b_p
    yy = ops.psum(ops.d * abs2(ds_p)) / V
    zz = ops.psum(ops.d * xp.real(xp.conj(ds_p) * dshat_p)) / V
    xx = ops.psum(ops.d * abs2(dshat_p)) / V
    p1, p2, p3, p4 = 0.5 * yy, -2.0 * zz, 2.0 * xx, xx
    sum_phi2 = xp.sum(phi2, axis=ops.axes)
    # Schwinger-Dyson improved
    f0 = ops.f0
    nf0 = ops.N * f0
    y_sd = nf0 + lam * (ops.N + 2) / 6.0 * ops.cdot00 * sum_phi2
    cm_phi = ops.ifft(ops.d * dshat_p)  # (Cdot M phi)_x
    x_sd = nf0 - (lam / 6.0) * xp.sum(phi3 * cm_phi, axis=ops.faxes)
    p1s, p2s, p3s, p4s = 0.5 * y_sd, -2.0 * nf0 + 0.0 * sum_phi2, 2.0 * x_sd, x_sd
    return ObservableDict(
        {
            "phi2": sum_phi2 / V,
            "eq5.14": p1,
            "eq5.13": p2,
            "eq5.12": p3,
            "eq5.11": p4,
            "A": p1 + p2 + p3 + p4,
            "B": -p1 - p2 - p3 + p4,
            "eq5.14_sd": p1s,
            "eq5.13_sd": p2s,
            "eq5.12_sd": p3s,
            "eq5.11_sd": p4s,
            "A_sd": p1s + p2s + p3s + p4s,
            "B_sd": -p1s - p2s - p3s + p4s,
        }
    )


def measure_gp(ops: LatticeOps, phi: np.ndarray) -> np.ndarray:
    """``G_p = |phi_p|^2 / V`` on the full momentum grid (``numpy.fft.fftn`` layout).

    Its expectation is the two-point function, ``V Kt_p`` / ``V`` = ``Kt_p`` in the free theory.
    For ``N > 1`` it is summed over the components, ``sum_a |phi_{a,p}|^2 / V`` (free: ``N Kt_p``).
    """
    xp = ops.xp
    g = abs2(xp.fft.fftn(phi, axes=ops.axes)) / ops.V
    if ops.N > 1:
        g = xp.sum(g, axis=-len(ops.field_shape))
    return g
