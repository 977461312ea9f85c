"""A, B and the four pieces along the Polchinski flow, at any ``Lambda <= Lambda0`` (docs/conventions.md, docs/flow.md).

Along the flow ``P_Lambda ∝ exp(-Shat_Lambda - V_Lambda)`` with ``Shat_Lambda = 1/2 phi
Kt_Lambda^-1 phi`` and ``V_Lambda`` the flowed interaction (:mod:`ergsym.flow.interaction`),
so the monotone derivative has the same four pieces as at ``Lambda0``
(:mod:`ergsym.symbolic.monotone`, Cotler & Rezchikov eq. (5.6)) with ``S = Shat_Lambda + V_Lambda``:

* ``dSdS = +1/2 <int Cdot dS dS>``, ``dSdShat = -2 <int Cdot dS dShat>``,
  ``dShatdShat = +2 <int Cdot dShat dShat>``, ``LdShat = -2 <Lambda dShat/dLambda>``;
* ``A = sum`` (the printed (5.5)), ``B = -(first three) + LdShat = -Lambda dM/dLambda``.

Families carry three line functions: ``K = Kt_Lambda``, ``D = Lambda dKt_Lambda/dLambda`` and
``Delta = Kt_Lambda0 - Kt_Lambda`` (:class:`ergsym.families.Line`).  At ``Lambda = Lambda0``
every ``Delta`` family vanishes and the series reduce to those of the engine at ``Lambda0``.

O(N) models (``N`` components, ``V_Lambda0 = (lam/4!)(phi_a phi_a)^2``): every function takes
``N`` (an int, or ``"N"`` for exact polynomials in N); A, B, the pieces and ``<phi^2>`` are summed
over components, and each diagram's weight is the contraction of its index lines
(:func:`ergsym.flow.diagrams.diagrams`).  ``N = 1`` gives the single scalar's series exactly.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING

from ..errors import InputError
from ..symbolic.monotone import FORMS, PIECES, _engine_name
from ..symbolic.series import Series
from ..symbolic.theory import PHI4, Theory, validate_n
from .diagrams import D_LINE, FTerm, FVertex, dshat_factor, dv_factor, expand_flow, v_factor, validate_order

if TYPE_CHECKING:
    from ..families import Family

__all__ = [
    "flow_piece",
    "flow_monotone",
    "flow_phi2",
    "flow_interaction_expectation",
    "flow_theory",
    "has_delta",
    "FLOW_FORMS",
]

FLOW_FORMS = ("A", "B") + tuple(PIECES)


def _ds_factor(kind: str, order: int, group: int):
    if kind == "dShat":
        return dshat_factor()
    if kind == "dS":
        return dshat_factor() + dv_factor(order, group)
    raise InputError.bad("factor", kind, "dS or dShat")


def _cdot_terms(x: str, y: str, coeff: Fraction, order: int):
    terms = []
    for cx, px, vx in _ds_factor(x, order, 0):
        for cy, py, vy in _ds_factor(y, order, 1):
            if px + py > order:
                continue
            terms.append(FTerm(coeff * cx * cy, px + py, tuple(vx) + tuple(vy), ((0, len(vx), D_LINE),)))
    return terms


def flow_theory(N: int | str = 1) -> Theory:
    """The theory of the flowed series with ``N`` components: ``PHI4`` itself at ``N = 1``.

    ``N`` is a positive integer or ``"N"`` (coefficients become exact polynomials in N);
    anything else raises :class:`~ergsym.errors.InputError` naming ``N``.
    """
    n_comp = validate_n(N)
    return PHI4 if n_comp == 1 else Theory(PHI4.couplings, n_comp)


def flow_piece(name: str, order: int, N: int | str = 1) -> Series:
    """One of the four pieces of (5.6) along the flow, through ``lam**order``.

    Parameters
    ----------
    name : str
        ``"eq5.11"`` .. ``"eq5.14"`` (the paper's equation numbers) or an alias such as ``"dSdS"``.
    order : int
        0..3.
    N : int or "N"
        Field components of the O(N) model, ``V_Lambda0 = (lam/4!)(phi_a phi_a)^2``; the pieces
        are summed over components.  ``"N"``: coefficients are exact polynomials in N.  The
        O(N) weight of every diagram comes from contracting its index lines
        (:func:`ergsym.flow.diagrams.diagrams`).

    Returns
    -------
    Series
        Coefficient of ``delta^d(0)`` (lattice: whole sum); families in ``K, D, Delta``.
    """
    theory = flow_theory(N)
    if name not in PIECES:  # the paper's eq5.11..eq5.14 (as printed everywhere) or an alias
        name = _engine_name(name, "piece")
    return _flow_piece(name, validate_order(order), theory)


@lru_cache(maxsize=64)
def _flow_piece(name: str, order: int, theory: Theory) -> Series:
    if name == "LdShat":  # -2 * (-1/2) (G^-1 phi) Cdot (G^-1 phi)
        terms = [FTerm(Fraction(1), 0, (FVertex(1, "op", True), FVertex(1, "op", True)), ((0, 1, D_LINE),))]
    else:
        x, y, c = PIECES[name]
        terms = _cdot_terms(x, y, c, order)
    acc = expand_flow(terms, order, theory.N)
    return Series.from_dict(
        name, theory, "bare", order, acc, provenance="ergsym.flow.diagrams.expand_flow (clusters + measure vertices)"
    )


def flow_monotone(order: int, form: str = "B", N: int | str = 1) -> Series:
    """``A``, ``B`` or a piece along the flow (docs/flow.md) through ``lam**order``.

    ``B(Lambda) = -Lambda dM/dLambda`` at any ``Lambda <= Lambda0``; ``A`` is the printed
    expression (5.5) evaluated with the flowed action.  ``N``: as for :func:`flow_piece`
    (sums over the ``N`` components; ``"N"`` for polynomials in N).

    Examples
    --------
    >>> from ergsym.flow import flow_monotone
    >>> print(flow_monotone(0, "B").to_text())
      O(0): 1/2 f0
    >>> print(flow_monotone(0, "B", N="N").to_text())
      O(0): N/2 f0
    """
    theory = flow_theory(N)
    order = validate_order(order)
    if form in PIECES:
        return _flow_piece(form, order, theory)
    if form not in FORMS:
        return _flow_piece(_engine_name(form, "form"), order, theory)
    return _flow_form(form, order, theory)


@lru_cache(maxsize=32)
def _flow_form(form: str, order: int, theory: Theory) -> Series:
    acc = {}
    for name, sign in FORMS[form].items():
        for t in _flow_piece(name, order, theory).terms:
            key = (t.powers, t.family)
            acc[key] = acc.get(key, 0) + sign * t.coeff
    return Series.from_dict(
        form, theory, "bare", order, acc, provenance=f"ergsym.flow: pieces along the flow with signs {FORMS[form]}"
    )


def flow_phi2(order: int, N: int | str = 1) -> Series:
    """``<phi(0)^2>_Lambda`` per site (check: the Gaussian-channel two-point function).

    For ``N`` components, ``<phi_a(0) phi_a(0)>`` summed over ``a`` (free value ``N Kt(x=0)``).
    """
    return _flow_phi2(validate_order(order), flow_theory(N))


@lru_cache(maxsize=16)
def _flow_phi2(order: int, theory: Theory) -> Series:
    acc = expand_flow([FTerm(Fraction(1), 0, (FVertex(2, "op"),))], order, theory.N)
    return Series.from_dict(
        "<phi^2>_Lambda",
        theory,
        "bare",
        order,
        acc,
        normalization="per-site",
        provenance="ergsym.flow.diagrams.expand_flow",
    )


def flow_interaction_expectation(order: int, N: int | str = 1) -> Series:
    """``<V_Lambda>_Lambda`` per site (enters ``M_Lambda = <Shat> - <V> - log Z``); ``N`` as for :func:`flow_piece`."""
    return _flow_interaction_expectation(validate_order(order), flow_theory(N))


@lru_cache(maxsize=16)
def _flow_interaction_expectation(order: int, theory: Theory) -> Series:
    terms = []
    for c, p, verts in v_factor(order, 0):
        # a V_Lambda cluster summed over positions: one vertex pinned (per-site normalization)
        terms.append(FTerm(c, p, verts))
    acc = expand_flow(terms, order, theory.N)
    return Series.from_dict(
        "<V_Lambda>_Lambda",
        theory,
        "bare",
        order,
        acc,
        normalization="per-site",
        provenance="ergsym.flow.diagrams.expand_flow",
    )


def has_delta(family: Family) -> bool:
    """True if a family contains a ``Delta`` line (it vanishes at ``Lambda = Lambda0``)."""
    return any(line.delta for b in family.blocks for e in b.edges for line in (e[2],))
