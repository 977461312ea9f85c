"""The scale derivative of the Cotler-Rezchikov monotone: A, B and the four pieces.

docs/conventions.md ("Two quantities: A and B"); Cotler & Rezchikov, PRD 108, 025003, eqs. (4.1), (4.5), (5.5)-(5.15).  With ``Sigma = S - 2 Shat``::

    (1/2)(dSigma)^2 = (1/2) dS dS - 2 dS dShat + 2 dShat dShat

the four pieces (all ``<...>`` under ``P_Lambda0``, all coefficients of ``delta^d(0)``) are

=============  ==========================================  ===================
name           expectation                                 printed as
=============  ==========================================  ===================
``dSdS``       ``+1/2 <int Cdot dS dS>``                   (5.14)
``dSdShat``    ``-2 <int Cdot dS dShat>``                  (5.13) (printed dS dS)
``dShatdShat`` ``+2 <int Cdot dShat dShat>``               (5.12)
``LdShat``     ``-2 <Lambda dShat/dLambda>``               (5.11)
=============  ==========================================  ===================

* ``A = dSdS + dSdShat + dShatdShat + LdShat`` -- the printed expression (5.5)/(5.15);
* ``B = -(dSdS + dSdShat + dShatdShat) + LdShat = -Lambda dM/dLambda`` -- the true
  derivative along the flow (integration by parts of (4.4) with (2.10)/(2.14)).
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

from ..conventions import PIECE_ALIASES
from ..conventions import PIECES as PIECE_NAMES
from ..errors import InputError
from ..families import NAMED_FAMILIES, Family
from .operators import cdot, lambda_dshat
from .series import Series
from .theory import PHI4, Theory, validate_scheme
from .wick import expand

__all__ = [
    "PIECES",
    "FORMS",
    "piece",
    "monotone",
    "PRINTED",
    "comparison_table",
    "contraction_class",
    "factor_decomposition",
    "literal_5_13",
]

#: piece name -> (factor X, factor Y, coefficient) of coeff * <int Cdot dX dY>
PIECES = {
    "dSdS": ("dS", "dS", Fraction(1, 2)),
    "dSdShat": ("dS", "dShat", Fraction(-2)),
    "dShatdShat": ("dShat", "dShat", Fraction(2)),
    "LdShat": None,  # -2 <Lambda dShat/dLambda>
}

PIECE_EQUATIONS = {"dSdS": "(5.14)", "dSdShat": "(5.13)", "dShatdShat": "(5.12)", "LdShat": "(5.11)"}
PIECE_LATEX = {
    "dSdS": r"\tfrac12\langle\int\dot C\,\delta S\,\delta S\rangle",
    "dSdShat": r"-2\langle\int\dot C\,\delta S\,\delta\hat S\rangle",
    "dShatdShat": r"2\langle\int\dot C\,\delta\hat S\,\delta\hat S\rangle",
    "LdShat": r"-2\langle\Lambda\partial_\Lambda\hat S\rangle",
}

#: the combinations of the pieces that make A and B
FORMS = {
    "A": {"dSdS": 1, "dSdShat": 1, "dShatdShat": 1, "LdShat": 1},
    "B": {"dSdS": -1, "dSdShat": -1, "dShatdShat": -1, "LdShat": 1},
}


#: the paper's equation numbers (what the CLI, JSON and report print) -> the engine's piece names
ENGINE_NAMES = {"eq5.11": "LdShat", "eq5.12": "dShatdShat", "eq5.13": "dSdShat", "eq5.14": "dSdS"}


def _engine_name(name, param: str) -> str:
    """The engine's name of a piece given as ``eq5.1x`` or an alias; InputError otherwise."""
    canon = PIECE_ALIASES.get(name, name) if isinstance(name, str) else None
    if canon not in ENGINE_NAMES:
        allowed = ("A, B, " if param == "form" else "") + ", ".join(PIECE_NAMES)
        raise InputError.bad(
            param,
            name,
            f"one of {allowed} (the paper's (5.11)-(5.14))",
            "aliases " + ", ".join(PIECE_ALIASES) + " are also accepted",
        )
    return ENGINE_NAMES[canon]


def _check_theory(theory):
    if not isinstance(theory, Theory):
        raise InputError.bad("theory", theory, "an ergsym.symbolic.Theory")
    return theory


@lru_cache(maxsize=256)
def piece(name: str, order: int, scheme: str = "bare", theory: Theory = PHI4) -> Series:
    """One of the four pieces of (5.6), expanded through ``order``.

    Parameters
    ----------
    name : str
        The paper's equation number, as the CLI, JSON and report print it: ``"eq5.11"``
        (``-2<Lambda dShat/dLambda>``), ``"eq5.12"``, ``"eq5.13"``, ``"eq5.14"``
        (``1/2<int Cdot dS dS>``); the engine's names ``"LdShat"``, ``"dShatdShat"``,
        ``"dSdShat"``, ``"dSdS"`` and the aliases of :data:`ergsym.conventions.PIECE_ALIASES`
        are accepted too.
    order : int
    scheme : {"bare", "normal-ordered"}
    theory : Theory

    Returns
    -------
    Series
        Coefficient of ``delta^d(0)`` (lattice: the whole sum).
    """
    if name not in PIECES:  # the paper's names eq5.11..eq5.14 (as the CLI, JSON and PDF print) or an alias
        return piece(_engine_name(name, "piece"), order, scheme, theory)
    validate_scheme(scheme)
    _check_theory(theory)
    spec = PIECES[name]
    if spec is None:
        op = lambda_dshat(theory, scheme, coeff=-2)
    else:
        x, y, c = spec
        op = cdot(x, y, theory, scheme, coeff=c)
    return expand(op, theory, order, scheme, quantity=name)


@lru_cache(maxsize=64)
def monotone(order: int, form: str = "B", scheme: str = "bare", theory: Theory = PHI4) -> Series:
    """A, B or one piece of the monotone derivative through ``order`` (docs/conventions.md, "Two quantities: A and B").

    Parameters
    ----------
    order : int
        Highest power of the couplings (0..6; O(lambda^3) takes about a second).
    form : str
        ``"A"`` is the paper's printed expression (5.5); ``"B" = -Lambda dM/dLambda``; a piece
        by its equation number ``"eq5.11"`` .. ``"eq5.14"`` (or any name :func:`piece` accepts).
    scheme : {"bare", "normal-ordered"}
    theory : Theory

    Examples
    --------
    >>> from ergsym.symbolic import monotone
    >>> print(monotone(1, "B").to_text())
      O(0): 1/2 f0
      O(1): ...
    """
    if form in PIECES:
        return piece(form, order, scheme, theory)
    if form not in FORMS:
        return piece(_engine_name(form, "form"), order, scheme, theory)
    acc = {}
    for name, sign in FORMS[form].items():
        for t in piece(name, order, scheme, theory).terms:
            key = (t.powers, t.family)
            acc[key] = acc.get(key, 0) + sign * t.coeff
    return Series.from_dict(
        form, theory, scheme, order, acc, provenance=f"sum of the four pieces with signs {FORMS[form]}"
    )


# ---------------------------------------------------------------------------
# What the paper printed, labelled as such.  Never used as an expected value.
# ---------------------------------------------------------------------------

#: The coefficients AS PRINTED in Cotler & Rezchikov (5.11)-(5.15), per order, per family name.
#: (5.13) is printed with ``dS dS``; the expansion of (5.6) needs ``dS dShat``.
PRINTED = {
    "LdShat": {0: {"f0": Fraction(1)}, 2: {"f2": Fraction(1, 6)}},  # (5.11)
    "dShatdShat": {0: {"f0": Fraction(2)}, 2: {"f2": Fraction(1, 3)}},  # (5.12)
    "dSdShat": {0: {"f0": Fraction(-2)}, 1: {"f1": Fraction(-1)}, 2: {"f2": Fraction(-2, 3)}},  # (5.13)
    "dSdS": {0: {"f0": Fraction(1, 2)}, 1: {"f1": Fraction(1, 2)}, 2: {"f2": Fraction(11, 24)}},  # (5.14)
    "A": {0: {"f0": Fraction(3, 2)}, 1: {"f1": Fraction(-1, 2)}, 2: {"f2": Fraction(7, 24)}},  # (5.15)
}


def contraction_class(family: Family) -> str:
    """A reader's label for the contraction class a family comes from.

    ``free`` (f0), ``tadpole`` (f1 and one-loop self-energies), ``sunset`` (f2 alone),
    ``sunset+tadpoles``, ``tadpole-chain`` (products of one-loop blocks beyond f1),
    ``multi-loop`` (general blocks from O(lambda^3) on).
    """
    name = family.name
    kinds = [b.kind for b in family.blocks]
    if name == "f0":
        return "free"
    if name == "f2":
        return "sunset"
    if "general" in kinds:
        return "multi-loop"
    if "melon" in kinds:
        return "sunset+tadpoles" if len(kinds) > 1 else "dressed-sunset"
    if name == "f1":
        return "tadpole"
    return "tadpole-chain"


def factor_decomposition(order: int = 2, scheme: str = "bare", theory: Theory = PHI4) -> dict:
    """Each piece split by the factor pairs it is made of (the finer contraction classes).

    With ``S = Shat + I``: ``<Cdot dS dS> = <Cdot dI dI> + 2 <Cdot dI dShat> + <Cdot dShat dShat>``
    and ``<Cdot dS dShat> = <Cdot dI dShat> + <Cdot dShat dShat>``.  Returns
    ``{piece: {(X, Y): Series}}`` with the piece's coefficient already applied, so the
    series of each piece is the sum of its entries.
    """
    from .operators import cdot

    validate_scheme(scheme)
    pairs = {
        "dSdS": [(("dI", "dI"), Fraction(1, 2)), (("dI", "dShat"), Fraction(1)), (("dShat", "dShat"), Fraction(1, 2))],
        "dSdShat": [(("dI", "dShat"), Fraction(-2)), (("dShat", "dShat"), Fraction(-2))],
        "dShatdShat": [(("dShat", "dShat"), Fraction(2))],
        "LdShat": [(("dShat", "dShat"), Fraction(1))],
    }
    out = {}
    for name, items in pairs.items():
        out[name] = {
            (x, y): expand(cdot(x, y, theory, scheme, coeff=c), theory, order, scheme, quantity=f"{c}*<Cdot {x} {y}>")
            for (x, y), c in items
        }
    return out


def literal_5_13(order: int = 2, scheme: str = "bare") -> Series:
    """``-2 <int Cdot dS dS>``: the operator (5.13) prints (a typo for ``dS dShat``).

    Its O(lambda) coefficient, ``-f1``, is the one (5.13) prints, which attributes the printed
    O(lambda) term of (5.13) to the misprinted operator.
    """
    s = piece("dSdS", order, scheme)
    return Series.from_dict(
        "-2<Cdot dS dS> (5.13 literal)",
        s.theory,
        s.scheme,
        s.order,
        {(t.powers, t.family): -4 * t.coeff for t in s.terms},
        provenance="-4 x piece dSdS",
    )


def comparison_table(order: int = 2, scheme: str = "bare") -> list:
    """Rows comparing ergsym's derivation with the printed (5.11)-(5.15).

    Each row: ``{"quantity", "order", "family", "class", "derived", "printed", "equation"}``
    with exact ``Fraction`` values (``printed`` is 0 where the paper has no such term, None
    beyond the printed order O(lambda^2)).  Quantities: the four pieces, A, B, and
    ``5.13-literal`` = ``-2 <Cdot dS dS>``, the operator (5.13) prints, against (5.13)'s numbers.
    """
    rows = []
    for q in list(PIECES) + ["A", "B", "5.13-literal"]:
        if q == "5.13-literal":
            s = literal_5_13(order, scheme)
            printed = PRINTED["dSdShat"]
        else:
            s = monotone(order, q, scheme)
            printed = PRINTED.get(q, {})
        for k in range(order + 1):
            derived = s.coefficient_dict(k)
            names = list(derived)
            for fam_name in printed.get(k, {}):
                if fam_name not in names:
                    names.append(fam_name)
            for fam_name in names:
                fam = next((f for c, p, f in s.coefficient(k) if f.name == fam_name), NAMED_FAMILIES.get(fam_name))
                pv = printed.get(k, {}).get(fam_name, Fraction(0)) if (printed and k <= 2) else None
                rows.append(
                    {
                        "quantity": q,
                        "order": k,
                        "family": fam_name,
                        "class": contraction_class(fam),
                        "derived": derived.get(fam_name, Fraction(0)),
                        "printed": pv,
                        "equation": PIECE_EQUATIONS.get(q, {"A": "(5.15)", "5.13-literal": "(5.13)"}.get(q, "-")),
                    }
                )
    return rows
