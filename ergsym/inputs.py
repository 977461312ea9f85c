"""Typed, immutable user inputs: parse once at the edge (CLI or API), pass objects inward.

A spec string (``"8x8"``, ``"lam=0.1,g6=0.01"``) is parsed and validated here, once; the
layers below receive a :class:`Lattice` or a :class:`Couplings` they can trust.  The other
two input kinds already are such objects: a cutoff is an :class:`ergsym.cutoffs.Cutoff`
(``ergsym.cutoffs.parse_cutoff``) and a theory an :class:`ergsym.symbolic.Theory`
(``ergsym.symbolic.parse_theory``).

Both classes here stay compatible with code that still expects the old plain data: a
:class:`Lattice` iterates, indexes and compares like its shape tuple, and a
:class:`Couplings` is a read-only mapping ``name -> float``.

This module imports only :mod:`ergsym.errors` and :mod:`ergsym.conventions`, so every layer
may use it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .conventions import parse_lattice
from .errors import InputError

__all__ = [
    "Lattice",
    "Couplings",
    "as_lattice",
    "parse_lattice_spec",
    "parse_coupling_spec",
    "series_sum",
    "check_series_coupling",
]


def _check_shape(spec, name: str) -> tuple:
    """The one validation of a lattice shape: syntax, 1-4 extents >= 1 (``parse_lattice``),
    and extents >= 2 when d >= 2 (an extent 1 is a lower-dimensional lattice)."""
    shape = parse_lattice(spec, name=name)
    if len(shape) > 1 and min(shape) < 2:
        raise InputError.bad(
            name,
            "x".join(map(str, shape)),
            "extents >= 2 in a lattice of dimension d >= 2 (one site is the shape '1')",
            "an extent 1 is a lower-dimensional lattice: drop it",
        )
    return shape


@dataclass(frozen=True)
class Lattice:
    """A periodic hypercubic lattice ``L_1 x ... x L_d`` with spacing 1.

    Build it with :func:`as_lattice` / :meth:`parse` (``"8x8"``, ``"4x4x4"``, ``"1"`` or a
    tuple of ints); the constructor validates too.  This is the only place a lattice shape is
    validated: 1 to 4 extents, each >= 1, and >= 2 when d >= 2.  It behaves like its shape tuple (``len``, iteration,
    indexing, ``==`` with a tuple), so layers that still take a shape accept it unchanged.

    Attributes
    ----------
    shape : tuple of int
        Extents, 1 to 4 directions, each >= 1 (>= 2 when d >= 2).
    """

    shape: tuple

    def __post_init__(self):
        object.__setattr__(self, "shape", _check_shape(self.shape, "lattice"))

    @classmethod
    def parse(cls, spec: str | int | tuple[int, ...] | Lattice, *, name: str = "lattice") -> Lattice:
        """Parse ``spec`` (a string such as ``"8x8"``, a tuple, or a Lattice, returned as is).

        ``name`` is the parameter an :class:`~ergsym.errors.InputError` names (``--lattice``
        on the command line).
        """
        if isinstance(spec, Lattice):
            return spec
        obj = object.__new__(cls)
        object.__setattr__(obj, "shape", _check_shape(spec, name))  # parsed once, not again
        return obj

    @classmethod
    def trusted(cls, shape: tuple) -> Lattice:
        """Wrap a shape tuple that already went through :func:`as_lattice` (e.g. a
        ``LatticeTheory.shape``) without validating it again.  Not for user input."""
        obj = object.__new__(cls)
        object.__setattr__(obj, "shape", tuple(shape))
        return obj

    @property
    def dim(self) -> int:
        return len(self.shape)

    @property
    def volume(self) -> int:
        return math.prod(self.shape)

    @property
    def spec(self) -> str:
        """Canonical spec string, e.g. ``"8x8"``."""
        return "x".join(map(str, self.shape))

    def __iter__(self):
        return iter(self.shape)

    def __len__(self) -> int:
        return len(self.shape)

    def __getitem__(self, i):
        return self.shape[i]

    def __eq__(self, other):
        if isinstance(other, Lattice):
            return self.shape == other.shape
        if isinstance(other, tuple):
            return self.shape == other
        return NotImplemented

    def __hash__(self):
        return hash(self.shape)

    def __str__(self) -> str:
        return self.spec

    def to_dict(self) -> dict:
        return {"shape": list(self.shape), "spec": self.spec, "volume": self.volume}


@dataclass(frozen=True)
class Couplings(Mapping):
    """One value per coupling of a theory: a read-only mapping ``name -> float``.

    Parameters
    ----------
    names : tuple of str
        The theory's coupling names in order (``("lam",)`` for phi^4, ``("lam", "g6")`` for
        phi^4 + phi^6).
    values : tuple of float
        Finite values, one per name.
    """

    names: tuple
    values: tuple

    def __post_init__(self):
        names, values = tuple(self.names), tuple(float(v) for v in self.values)
        if len(names) != len(values):
            raise InputError.bad("couplings", dict(zip(names, values)), f"one value for each of {names}")
        for n, v in zip(names, values):
            if not math.isfinite(v):
                raise InputError.bad(n, v, "a finite number")
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "values", values)

    @classmethod
    def parse(
        cls, text: str | float, names: Sequence[str] = ("lam",), *, option: str = "--lam", many: bool = False
    ) -> Couplings | list[Couplings]:
        """Parse ``"0.1"``, ``"lam=0.1,g6=0.01"`` (or, with ``many``, ``"0.02,0.05"``).

        Returns one :class:`Couplings` (or a tuple of them when ``many``).  The grammar is
        :func:`ergsym.cli.common.parse_couplings`'s, reproduced here so that the API does not
        depend on the CLI; missing couplings in the ``name=value`` form are 0.
        """
        points = _parse_points(text, tuple(names), option, many)
        out = tuple(cls(tuple(names), tuple(p[n] for n in names)) for p in points)
        return out if many else out[0]

    def __getitem__(self, name):
        return self.values[self.names.index(name)]

    def __iter__(self):
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def __hash__(self):
        return hash((self.names, self.values))

    def __str__(self) -> str:
        return ",".join(f"{n}={v:g}" for n, v in zip(self.names, self.values))

    def to_dict(self) -> dict:
        return dict(zip(self.names, self.values))


def _parse_points(text, names, option, many):
    raw = str(text).strip()

    def num(s):
        try:
            v = float(s)
        except ValueError:
            raise InputError.bad(
                option,
                text,
                "a number, or name=value pairs such as " + ",".join(f"{n}=0.1" for n in names),
                f"could not read {s!r} as a number",
            ) from None
        if not math.isfinite(v):
            raise InputError.bad(option, text, "finite numbers", f"{s!r} is not finite")
        return v

    if "=" in raw:
        point = {}
        for part in raw.split(","):
            if "=" not in part:
                raise InputError.bad(option, text, "name=value pairs separated by commas", f"{part!r} has no '='")
            k, v = (s.strip() for s in part.split("=", 1))
            if k not in names:
                raise InputError.bad(
                    option, text, "couplings among " + ", ".join(names), f"{k!r} is not a coupling of this theory"
                )
            if k in point:
                raise InputError.bad(option, text, "each coupling at most once", f"{k!r} repeated")
            point[k] = num(v)
        for n in names:
            point.setdefault(n, 0.0)
        return [point]
    parts = [s.strip() for s in raw.split(",")]
    if len(names) != 1 and not (len(parts) == 1 and num(parts[0]) == 0.0):
        raise InputError.bad(
            option,
            text,
            "name=value pairs for a theory with couplings " + ", ".join(names),
            "e.g. " + ",".join(f"{n}=0.1" for n in names),
        )
    if len(parts) > 1 and not many:
        raise InputError.bad(
            option, text, "a single value for this command", "give one point (name=value pairs for several couplings)"
        )
    return [{n: num(p) for n in names} for p in parts]


def as_lattice(spec: str | int | tuple[int, ...] | Lattice, *, name: str = "lattice") -> Lattice:
    """The lattice ``spec`` describes, parsed and validated once.

    The conversion every lattice entry point (API or CLI) applies to its argument: a string
    (``"8x8"``) or a tuple of ints becomes a :class:`Lattice`; a :class:`Lattice` is returned
    unchanged (already validated), so layers below pass it on without parsing again.

    Raises
    ------
    InputError
        Naming ``name``: malformed spec, fewer than 1 or more than 4 extents, an extent < 1,
        or an extent 1 in a lattice of dimension >= 2.
    """
    return Lattice.parse(spec, name=name)


def parse_lattice_spec(spec: str | int | tuple[int, ...] | Lattice, *, name: str = "lattice") -> Lattice:
    """:func:`as_lattice` (older name)."""
    return Lattice.parse(spec, name=name)


def parse_coupling_spec(
    text: str | float, names: Sequence[str] = ("lam",), *, option: str = "--lam", many: bool = False
) -> Couplings | list[Couplings]:
    """:meth:`Couplings.parse` as a function."""
    return Couplings.parse(text, names, option=option, many=many)


#: a summed term may not exceed this (leaves room to add the terms and their errors)
_TERM_MAX = 1e300


def series_sum(
    values: Sequence[float], lam: float, errors: Sequence[float] | None = None, *, option: str = "--lam"
) -> float | tuple[float, float]:
    """``sum_k values[k] lam^k`` (and ``sum_k errors[k] |lam|^k``) of a truncated series, or an
    :class:`~ergsym.errors.InputError` naming ``option`` where a term overflows.

    A truncated perturbative series means nothing at a coupling this large, but the honest
    answer is a refusal with the allowed range, not an ``OverflowError`` or ``inf``: the range
    is ``|lam| <= min_k (1e300 / |c_k|)^(1/k)`` over the nonzero coefficients and errors.

    Returns
    -------
    float, or (float, float) when ``errors`` is given
    """
    lam = float(lam)
    vals = [float(v) for v in values]
    errs = None if errors is None else [float(e) for e in errors]

    def total(cs, x):
        terms = []
        for k, c in enumerate(cs):
            try:
                t = c * x**k if c != 0 else 0.0
            except OverflowError:
                return None
            if not math.isfinite(t) or abs(t) > _TERM_MAX:
                return None
            terms.append(t)
        return math.fsum(terms)

    tot = total(vals, lam)
    err = None if errs is None else total(errs, abs(lam))
    if tot is None or (errs is not None and err is None):
        bounds = [
            (_TERM_MAX / abs(c)) ** (1.0 / k)
            for cs in (vals, errs or [])
            for k, c in enumerate(cs)
            if k >= 1 and c != 0 and math.isfinite(c)
        ]
        bound = min(bounds) if bounds else math.inf
        raise InputError.bad(
            option,
            lam,
            f"a coupling with |lam| <= {bound:.3g} for this O(lam^{len(vals) - 1}) series (beyond it a term overflows)",
            "a truncated perturbative series means nothing at such couplings: use a "
            "smaller coupling (the lattice Monte Carlo reaches strong coupling)",
        )
    return tot if errs is None else (tot, err)


def check_series_coupling(lam: float, power: int, *, option: str = "--lam") -> float:
    """Refuse a coupling whose ``power``-th power is out of floating-point range (before any
    work): the pre-flight of every command that sums a series through ``lam**power``.

    The allowed range is ``|lam| <= 1e300**(1/power)``; :func:`series_sum` then catches a
    coefficient large enough to overflow a term at an allowed coupling.
    """
    lam = float(lam)
    power = max(int(power), 1)
    bound = _TERM_MAX ** (1.0 / power)
    if not abs(lam) <= bound:
        raise InputError.bad(
            option,
            lam,
            f"a coupling with |lam| <= {bound:.3g} (a series through lam^{power} overflows beyond it)",
            "a truncated perturbative series means nothing at such couplings: use a "
            "smaller coupling (the lattice Monte Carlo reaches strong coupling)",
        )
    return lam
