"""Measure factors, lattice momenta and delta^d(0) bookkeeping (docs/conventions.md).

Continuum conventions (Cotler & Rezchikov, PRD 108, 025003, Sec. V)
--------------------------------------------------------------------
* ``Kt(p) = K_Lambda(p^2) / (p^2 + m^2)`` (5.7), the free propagator;
* ``D(p) = Lambda d/dLambda Kt(p) = Lambda dK/dLambda / (p^2 + m^2)``;
* loop integrals ``int_q = int d^dq / (2 pi)^d``; outer integrals ``int d^dp`` carry no
  ``(2 pi)^-d``.  Every expectation of an operator containing the ERG kernel
  ``Cdot = (2 pi)^d D`` is proportional to ``delta^d(0)``; ergsym reports the coefficient.

Lattice conventions (docs/conventions.md, "The lattice dictionary")
-------------------------------------------------------------------
Periodic ``L_1 x ... x L_d`` lattice, spacing 1, ``V = prod L_mu``; lattice momentum
``phat^2 = sum_mu 4 sin^2(p_mu / 2)``; ``Kt_p`` and ``D_p`` are the continuum functions at
``phat^2``.  Dictionary: ``delta^d(0) int d^dp F(p) -> sum_p F_p`` and
``int_q -> (1/V) sum_q``.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

import numpy as np

from .errors import InputError

if TYPE_CHECKING:
    from .cutoffs.base import Cutoff

__all__ = [
    "MAX_DIM",
    "validate_dim",
    "validate_mass",
    "loop_measure",
    "sphere_area",
    "parse_lattice",
    "lattice_phat2",
    "free_propagators",
    "MIN_LATTICE_MASS",
    "MAX_LATTICE_MASS",
    "validate_lattice_scales",
    "PIECES",
    "PIECE_ALIASES",
    "canonical_piece",
]

#: Largest space-time dimension ergsym supports in the continuum.
MAX_DIM = 6


def validate_dim(dim: int, *, name: str = "dim", max_dim: int = MAX_DIM) -> int:
    """Return ``dim`` as an int or raise :class:`InputError` (allowed 1..max_dim)."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not 1 <= int(dim) <= max_dim:
        raise InputError.bad(name, dim, f"an integer from 1 to {max_dim}")
    return int(dim)


def validate_mass(mass: float, *, name: str = "mass", allow_zero: bool = False) -> float:
    """Return ``mass`` as a float or raise :class:`InputError`.

    The mass is the bare, Lambda-independent ``m`` of ``Kt = K/(p^2+m^2)``.
    """
    try:
        m = float(mass)
    except (TypeError, ValueError):
        raise InputError.bad(name, mass, "a real number") from None
    if not math.isfinite(m) or m < 0 or (m == 0 and not allow_zero):
        allowed = "finite and >= 0" if allow_zero else "finite and > 0"
        raise InputError.bad(
            name,
            mass,
            allowed,
            "a massless propagator makes the loop integrals infrared divergent" if not allow_zero else "",
        )
    return m


def sphere_area(dim: int) -> float:
    """Area of the unit sphere S^{d-1}: ``2 pi^{d/2} / Gamma(d/2)``."""
    return 2.0 * math.pi ** (dim / 2) / math.gamma(dim / 2)


def loop_measure(dim: int) -> float:
    """``(2 pi)^-d``: the factor of a loop integral ``int_q`` relative to ``int d^dq``."""
    return (2.0 * math.pi) ** (-dim)


_LATTICE_RE = re.compile(r"^\s*\d+(\s*[xX]\s*\d+)*\s*$")


def parse_lattice(spec: str | int | tuple[int, ...], *, name: str = "lattice", max_dim: int = 4) -> tuple[int, ...]:
    """Parse a lattice shape such as ``"8x8"``, ``"4"``, ``"1"`` or ``(4, 4)``.

    ``"1"`` is the one-site lattice (one mode: the zero-dimensional case).

    Raises
    ------
    InputError
        Malformed spec, non-positive extent, or more than ``max_dim`` directions.
    """
    if isinstance(spec, str):
        if not _LATTICE_RE.match(spec):
            raise InputError.bad(name, spec, "extents joined by 'x', e.g. '8x8', '4x4x4' or '1'")
        shape = tuple(int(s) for s in re.split(r"[xX]", spec.replace(" ", "")))
    else:
        try:
            shape = tuple(int(s) for s in spec)
        except TypeError:
            raise InputError.bad(name, spec, "a string like '8x8' or a tuple of ints") from None
    if not 1 <= len(shape) <= max_dim:
        raise InputError.bad(name, spec, f"1 to {max_dim} extents")
    if any(s < 1 for s in shape):
        raise InputError.bad(name, spec, "extents >= 1")
    return shape


def lattice_phat2(shape: tuple[int, ...]) -> np.ndarray:
    """Lattice momentum squared ``sum_mu 4 sin^2(p_mu/2)`` on the FFT grid of ``shape``.

    The array has shape ``shape`` and is laid out like ``numpy.fft.fftn`` output.
    """
    out = np.zeros(shape)
    for mu, n in enumerate(shape):
        p = 2.0 * np.pi * np.fft.fftfreq(n) * 1.0  # p_mu = 2 pi k / n (fftfreq gives k/n)
        s = 4.0 * np.sin(p / 2.0) ** 2
        idx = [None] * len(shape)
        idx[mu] = slice(None)
        out = out + s[tuple(idx)]
    return out


#: masses (and cutoff scales) a lattice theory accepts, in lattice units (spacing 1)
MIN_LATTICE_MASS = 1e-4
MAX_LATTICE_MASS = 1e4


def validate_lattice_scales(mass: float, Lambda: float) -> tuple[float, float]:
    """``(mass, Lambda)`` as floats, checked for a lattice in lattice units (spacing 1).

    ``mass`` must be 0 (where the caller allows it) or in [MIN_LATTICE_MASS, MAX_LATTICE_MASS],
    ``Lambda`` finite, > 0 and at most MAX_LATTICE_MASS: the lattice momenta ``phat^2`` lie in
    [0, 4 d], and beyond these ranges the propagators span more than the precision of the action.
    """
    try:
        m, L = float(mass), float(Lambda)
    except (TypeError, ValueError):
        raise InputError.bad("mass/Lambda", (mass, Lambda), "numbers") from None
    if not math.isfinite(m) or m < 0:
        raise InputError.bad("mass", mass, "finite and >= 0")
    if m > MAX_LATTICE_MASS or 0 < m < MIN_LATTICE_MASS:
        raise InputError.bad(
            "mass",
            mass,
            f"in [{MIN_LATTICE_MASS:g}, {MAX_LATTICE_MASS:g}] in lattice units "
            "(the lattice momenta phat^2 lie in [0, 4 d])",
            "outside this range the propagators Kt_p = K/(phat^2 + m^2) span more than "
            "the precision of the action; rescale the problem",
        )
    if not math.isfinite(L) or L <= 0 or L > MAX_LATTICE_MASS:
        raise InputError.bad("Lambda", Lambda, f"finite, > 0 and at most {MAX_LATTICE_MASS:g} in lattice units")
    return m, L


def free_propagators(cutoff: Cutoff, p2: np.ndarray, Lambda: float, mass: float) -> tuple[np.ndarray, np.ndarray]:
    """``(Kt, D)`` at momenta squared ``p2``: ``K/(p2+m^2)`` and ``Lambda dK/dLambda/(p2+m^2)``.

    ``cutoff`` is any :class:`ergsym.cutoffs.Cutoff`.  Vectorized over ``p2``.
    """
    p2 = np.asarray(p2, dtype=float)
    denom = p2 + float(mass) ** 2
    kt = cutoff.K(p2, Lambda) / denom
    d = Lambda * cutoff.dK_dLambda(p2, Lambda) / denom
    return kt, d


# --- the four pieces of A and B, named by the paper's equation numbers (5.11)-(5.14) ----------
#: canonical name -> (operator in words, LaTeX of the operator); the order is (5.11)..(5.14).
PIECES = {
    "eq5.11": ("-2<Lambda dShat/dLambda>", r"-2\langle\Lambda\partial_\Lambda\hat S\rangle"),
    "eq5.12": ("2<int Cdot dShat dShat>", r"2\langle\int\dot C\,\delta\hat S\,\delta\hat S\rangle"),
    "eq5.13": ("-2<int Cdot dS dShat>", r"-2\langle\int\dot C\,\delta S\,\delta\hat S\rangle"),
    "eq5.14": ("1/2<int Cdot dS dS>", r"\tfrac12\langle\int\dot C\,\delta S\,\delta S\rangle"),
}

#: earlier spellings still accepted: the engine's operator names and the Monte Carlo's P1..P4
#: (P1..P4 ran in the opposite order to the paper's (5.11)..(5.14)).
PIECE_ALIASES = {
    "LdShat": "eq5.11",
    "P4": "eq5.11",
    "5.11": "eq5.11",
    "dShatdShat": "eq5.12",
    "P3": "eq5.12",
    "5.12": "eq5.12",
    "dSdShat": "eq5.13",
    "P2": "eq5.13",
    "5.13": "eq5.13",
    "dSdS": "eq5.14",
    "P1": "eq5.14",
    "5.14": "eq5.14",
}


def canonical_piece(name: str, *, param: str = "piece") -> str:
    """The canonical name (``eq5.11`` .. ``eq5.14``) of a monotone piece or one of its aliases.

    Raises
    ------
    InputError
        If ``name`` is neither a canonical name nor an alias.
    """
    if name in PIECES:
        return name
    if name in PIECE_ALIASES:
        return PIECE_ALIASES[name]
    raise InputError.bad(
        param,
        name,
        "one of " + ", ".join(PIECES) + " (the paper's (5.11)-(5.14))",
        "aliases " + ", ".join(PIECE_ALIASES) + " are also accepted",
    )
