"""Numerical evaluation of an engine series (docs/numeric.md, STYLE "Data flow").

``series.terms`` is any iterable of objects with ``coeff`` (:class:`fractions.Fraction`),
``powers`` (tuple of coupling exponents; ``(k,)`` for ``lambda^k`` in phi^4) and
``family`` (:class:`~ergsym.families.Family`).  The engine's ``Series`` provides exactly
that; nothing else is assumed (duck typing, no import of the symbolic engine).

Error propagation
-----------------
Every distinct *block* is evaluated once; families are products of blocks, so families and
orders are correlated only through shared blocks.  For any quantity
``S = sum_terms c_t g^{p_t} prod_b v_b^{n_{t,b}}`` the error is the first-order propagation

.. math::  \\delta S = \\sum_b \\Big|\\frac{\\partial S}{\\partial v_b}\\Big|\\, \\delta v_b ,

i.e. shared blocks are treated as fully correlated (exact to first order) and distinct blocks
are combined linearly (a worst-case bound: quadrature errors are not random).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from .evaluate import _block, _check_method
from .values import Value, guard, validate_common

if TYPE_CHECKING:
    from ..cutoffs.base import Cutoff
    from ..symbolic.series import Series

__all__ = ["Prediction", "OrderDict", "evaluate_series", "truncation_estimate"]


class OrderDict(dict):
    """``powers -> Value`` that also accepts a plain order for one-coupling theories.

    ``pred.orders[(2,)]`` and ``pred.orders[2]`` are the same entry when every key is a
    1-tuple (phi^4); for several couplings the key is the exponent tuple, e.g. ``(1, 1)``.
    """

    def _key(self, key):
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool) and (key,) in self.keys():
            return (int(key),)
        return key

    def __getitem__(self, key):
        try:
            return super().__getitem__(self._key(key))
        except KeyError:
            raise KeyError(
                f"{key!r}: orders present are {sorted(self)}"
                + (" (exponent tuples: one exponent per coupling)" if self and len(next(iter(self))) > 1 else "")
            ) from None

    def __contains__(self, key):
        return super().__contains__(self._key(key))

    def get(self, key: int | tuple, default: object = None) -> object:
        return super().get(self._key(key), default)


@dataclass(frozen=True)
class Prediction:
    """Numerical value of a series at one point (or an array of ``Lambda``/mass).

    Attributes
    ----------
    orders : dict
        ``powers -> Value``: the coefficient of ``g^powers`` (sum of ``coeff * family``).
    families : dict
        Family name -> :class:`Value`.
    blocks : dict
        Block name -> :class:`Value` (each evaluated once).
    total : Value or None
        ``sum_powers coefficient * g^powers`` if couplings were given.
    terms : tuple
        ``(coeff, powers, family_name)`` for every term.
    point : dict
        cutoff spec, dim, mass, Lambda, couplings.
    truncation : float, ndarray or None
        Estimate of the first omitted order of ``total`` (None without couplings): with
        ``a_k`` the size of the degree-``k`` contribution at the given couplings and ``N`` the
        highest degree, ``a_N^2 / a_(N-1)`` when the last two terms decrease, else ``a_N`` (a
        single degree: ``a_N``).  It is *not* included in ``total.error``.
    truncation_dominates : bool, ndarray or None
        True where ``truncation > total.error``: the quadrature error understates the
        uncertainty of the sum, which is then limited by the perturbative truncation (the
        couplings are too large for the order computed).
    """

    orders: dict
    families: dict
    blocks: dict
    total: object
    terms: tuple
    point: dict = field(default_factory=dict)
    truncation: object = None
    truncation_dominates: object = None

    def __post_init__(self):
        if not isinstance(self.orders, OrderDict):
            object.__setattr__(self, "orders", OrderDict(self.orders))

    def __repr__(self) -> str:
        body = "; ".join(f"{'*'.join(map(str, p)) if len(p) > 1 else p[0]}: {v}" for p, v in self.orders.items())
        tot = "" if self.total is None else f"; total {self.total}"
        return f"Prediction(orders {{{body}}}{tot})"

    def to_dict(self) -> dict:
        """JSON-ready dict (coefficients as exact strings and floats)."""

        def key(p):
            return "^".join(str(x) for x in p)

        return {
            "point": self.point,
            "terms": [
                {"coefficient": str(c), "coefficient_float": float(c), "powers": list(p), "family": n}
                for c, p, n in self.terms
            ],
            "families": {n: v.to_dict() for n, v in self.families.items()},
            "blocks": {n: v.to_dict() for n, v in self.blocks.items()},
            "orders": {key(p): v.to_dict() for p, v in self.orders.items()},
            "total": None if self.total is None else self.total.to_dict(),
            "truncation": None if self.truncation is None else np.asarray(self.truncation).tolist(),
            "truncation_dominates": None
            if self.truncation_dominates is None
            else np.asarray(self.truncation_dominates).tolist(),
        }

    def __str__(self) -> str:
        lines = ["orders:"]
        for p, v in self.orders.items():
            lines.append(f"  g^{p}: {v}")
        if self.total is not None:
            lines.append(f"total: {self.total}")
            if self.truncation is not None and np.ndim(self.truncation) == 0:
                note = "  (dominates the quadrature error)" if bool(self.truncation_dominates) else ""
                lines.append(f"truncation estimate: {float(self.truncation):.3g}{note}")
        return "\n".join(lines)


def _couplings(lam, n):
    if lam is None:
        return None
    vals = (
        np.atleast_1d(np.asarray(lam, dtype=float)).ravel()
        if not isinstance(lam, (tuple, list))
        else np.asarray(lam, dtype=float)
    )
    if vals.size == 1 and n > 1:
        raise InputError.bad("lam", lam, f"a tuple of {n} couplings (one per theory coupling)")
    if vals.size != n:
        raise InputError.bad("lam", lam, f"{n} coupling value(s)")
    if not np.all(np.isfinite(vals)):
        raise InputError.bad("lam", lam, "finite numbers")
    return vals


@guard
def evaluate_series(
    series: Series,
    cutoff: Cutoff | str,
    dim: int,
    mass: float | np.ndarray,
    Lambda: float | np.ndarray,
    lam: float | Sequence[float] | None = None,
    rtol: float | None = None,
    method: str = "auto",
) -> Prediction:
    """Evaluate every family of ``series`` and combine them with its exact coefficients.

    Parameters
    ----------
    series : object with ``.terms``
        Terms with ``coeff`` (Fraction), ``powers`` (tuple of ints), ``family`` (Family).
    cutoff, dim, mass, Lambda :
        As in :func:`~ergsym.numeric.evaluate_family` (``Lambda``/``mass`` may be arrays).
    lam : float or tuple of float, optional
        Coupling value(s); with them the sum is returned in ``Prediction.total``.
    rtol : float, optional
        Per-block tolerance (default 1e-10 loops, 1e-8 melons).

    Returns
    -------
    Prediction
        Per-order coefficients, per-family and per-block values, all with propagated errors
        (rule in the module docstring).

    Raises
    ------
    DivergentIntegralError, FamilyNotSupportedError, InputError
    """
    theory = getattr(series, "theory", None)
    if getattr(theory, "symbolic_n", False):
        raise InputError.bad(
            "N",
            theory.N,
            "an integer to evaluate the series numerically",
            "its coefficients are polynomials in N: use series.at_n(3) (or derive with Theory(N=3), CLI --N 3)",
        )
    try:
        terms = [(Fraction(t.coeff), tuple(int(x) for x in t.powers), t.family) for t in series.terms]
        for c, _, _ in terms:
            try:
                float(c)
            except OverflowError:
                raise InputError.bad(
                    "series coefficient",
                    c,
                    "a finite double",
                    "the coefficients are too large (a huge number of components N?)",
                ) from None
    except AttributeError:
        raise InputError.bad(
            "series", type(series).__name__, "an object whose .terms have coeff, powers and family"
        ) from None
    cutoff, dim, m, lam_arr, shape = validate_common(cutoff, dim, mass, Lambda)
    method = _check_method(method)
    ncoup = max((len(p) for _, p, _ in terms), default=1)
    g = _couplings(lam, ncoup)
    cache = {}
    bvals = {}
    for _, _, fam in terms:
        for b in fam.blocks:
            if b not in bvals:
                bvals[b] = _block(b, cutoff, dim, m, lam_arr, shape, rtol, method, cache)
    zero = np.zeros(shape) if shape else 0.0

    def combine(items, name):
        """items: list of (weight: float, Family); returns Value with first-order errors."""
        est = zero
        grads = {}
        conv = True
        for w, fam in items:
            cnt = Counter(fam.blocks)
            prod = np.ones(shape) if shape else 1.0
            for b, n in cnt.items():
                prod = prod * np.asarray(bvals[b].estimate) ** n
            est = est + w * prod
            for b, n in cnt.items():
                other = np.ones(shape) if shape else 1.0
                for b2, n2 in cnt.items():
                    if b2 != b:
                        other = other * np.asarray(bvals[b2].estimate) ** n2
                dv = w * n * np.asarray(bvals[b].estimate) ** (n - 1) * other
                grads[b] = grads.get(b, zero) + dv
            for b in cnt:
                conv = conv & np.asarray(bvals[b].converged)
        err = zero
        for b, dv in grads.items():
            err = err + np.abs(dv) * np.asarray(bvals[b].error)
        return Value(est, err, conv, name, "sum")

    families = {}
    for _, _, fam in terms:
        if fam.name not in families:
            families[fam.name] = combine([(1.0, fam)], fam.name)
    orders = {}
    for p in sorted({p for _, p, _ in terms}, key=lambda p: (sum(p), p)):
        orders[p] = combine([(float(c), f) for c, pp, f in terms if pp == p], f"order {p}")
    total = None
    trunc = dom = None
    if g is not None:
        items = []
        by_degree = {}
        for c, p, f in terms:
            w = float(c) * float(np.prod([gi**pi for gi, pi in zip(g, p)]))
            items.append((w, f))
            by_degree.setdefault(sum(p), []).append((w, f))
        total = combine(items, "total")
        trunc = truncation_estimate(
            [np.asarray(combine(by_degree[k], f"degree {k}").estimate, float) for k in sorted(by_degree)]
        )
        dom = trunc > np.asarray(total.error, float)
        if not shape:
            trunc, dom = float(trunc), bool(dom)
    point = {
        "cutoff": cutoff.spec,
        "dim": dim,
        "mass": m.tolist() if shape else float(m),
        "Lambda": lam_arr.tolist() if shape else float(lam_arr),
        "lam": None if g is None else g.tolist(),
    }
    return Prediction(
        orders,
        families,
        {b.name: v for b, v in bvals.items()},
        total,
        tuple((c, p, f.name) for c, p, f in terms),
        point,
        trunc,
        dom,
    )


def truncation_estimate(contributions: Sequence[float | np.ndarray]) -> float | np.ndarray:
    """First omitted term of a sum from its last terms (see :class:`Prediction`).

    ``contributions``: the summed terms by increasing degree (floats or arrays).  Returns
    ``a_N^2/a_(N-1)`` where ``a_N < a_(N-1)`` (geometric continuation), else ``a_N``.
    """
    a = [np.abs(np.asarray(c, float)) for c in contributions]
    if not a:
        return np.asarray(0.0)
    last = a[-1]
    if len(a) == 1:
        return last
    prev = a[-2]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(prev > 0, last / np.where(prev > 0, prev, 1.0), np.inf)
    return np.where(ratio < 1, last * ratio, last)
