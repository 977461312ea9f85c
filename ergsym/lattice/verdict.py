"""Verdicts that can fail: one comparison, its error budget, and the verdict of a run (docs/lattice.md).

Every place where ergsym draws a conclusion from comparing a computed number with a reference
(Monte Carlo against the exact lattice series, the variational RG against the exact few-mode
flow, ...) says one of five words, computed from the numbers:

``agrees``
    The comparison had power (the reference's own uncertainty, quadrature and truncation, is
    not larger than the statistical error, so a difference of a few statistical errors would
    show) and ``|z| < Z_MAX`` with ``z = (value - reference) / total``.
``disagrees``
    ``|z| >= Z_MAX`` against the *whole* error budget (statistical, quadrature and truncation
    combined in quadrature): the difference is larger than every uncertainty allows.
``inconclusive``
    No disagreement, but the comparison could not have shown one: the reference's uncertainty
    exceeds the statistical error (e.g. the truncation of a series at a large coupling), or the
    computed number is itself unreliable.  The reason says why and what would make it decisive.
``exact``
    Both numbers are exact (no statistical, quadrature or truncation error) and equal.
``nothing compared``
    There was nothing to compare (e.g. ``D_p = 0`` at every lattice momentum, so the quantity
    is identically zero on both sides).

A run (several comparisons) *agrees* only when at least one comparison had power and none
disagreed (:func:`combine`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "AGREES",
    "DISAGREES",
    "INCONCLUSIVE",
    "EXACT",
    "NOTHING",
    "VERDICT_WORDS",
    "Z_MAX",
    "POWER_RATIO",
    "ErrorBudget",
    "Verdict",
    "compare",
    "combine",
]

AGREES = "agrees"
DISAGREES = "disagrees"
INCONCLUSIVE = "inconclusive"
EXACT = "exact"
NOTHING = "nothing compared"
#: every word a verdict can be
VERDICT_WORDS = (AGREES, DISAGREES, INCONCLUSIVE, EXACT, NOTHING)
#: |z| (against the whole error budget) at and above which two numbers disagree
Z_MAX = 3.0
#: a comparison has power when the reference's uncertainty (quadrature and truncation) is at
#: most this multiple of the statistical error
POWER_RATIO = 1.0


def _g(x: float) -> str:
    return f"{x:.2g}"


@dataclass(frozen=True)
class ErrorBudget:
    """The parts of the error a verdict uses, each shown: statistical (Monte Carlo, channel
    noise, ...), quadrature (numerical integration of the reference) and truncation (terms of
    a series or a flow beyond those summed).  ``total`` combines them in quadrature."""

    statistical: float
    quadrature: float = 0.0
    truncation: float = 0.0

    @property
    def reference(self) -> float:
        """Uncertainty of the reference alone: quadrature and truncation in quadrature."""
        return math.hypot(self.quadrature, self.truncation)

    @property
    def total(self) -> float:
        """``sqrt(statistical^2 + quadrature^2 + truncation^2)``."""
        return math.hypot(self.statistical, self.quadrature, self.truncation)

    def to_dict(self) -> dict:
        return {
            "statistical": float(self.statistical),
            "quadrature": float(self.quadrature),
            "truncation": float(self.truncation),
            "total": float(self.total),
        }

    def text(self) -> str:
        """``stat 0.2 (+) quad 0 (+) trunc 1.3e+02 = 1.3e+02`` (one line)."""
        return (
            f"stat {_g(self.statistical)} (+) quad {_g(self.quadrature)} (+) trunc "
            f"{_g(self.truncation)} = {_g(self.total)}"
        )


@dataclass(frozen=True)
class Verdict:
    """One verdict: ``word`` (one of :data:`VERDICT_WORDS`), the ``reason`` in words, the
    ``z``-score against the whole budget (None when undefined) and whether the comparison had
    ``power`` (could have shown a difference of a few statistical errors)."""

    word: str
    reason: str = ""
    z: object = None
    power: bool = False

    def __str__(self) -> str:
        return self.word

    def to_dict(self) -> dict:
        return {"verdict": self.word, "reason": self.reason, "z": self.z, "power": bool(self.power)}


def compare(
    value: float,
    reference: float,
    budget: ErrorBudget,
    *,
    reliable: bool = True,
    unreliable_reason: str = "",
    empty_reason: str = "",
    decisive_hint: str = "lower the coupling or raise the order of the reference",
) -> Verdict:
    """Verdict of one comparison of ``value`` with ``reference`` under ``budget``.

    Parameters
    ----------
    value, reference : float
        The computed number (e.g. a Monte Carlo mean) and what it is compared with.
    budget : ErrorBudget
        Statistical error of ``value``; quadrature and truncation errors of ``reference``.
    reliable : bool
        False when ``value`` cannot be trusted (its error bar is meaningless): never agrees.
    unreliable_reason : str
        Why ``value`` is unreliable (shown in the reason).
    empty_reason : str
        Non-empty when there is nothing to compare: the verdict is ``nothing compared``.
    decisive_hint : str
        What would make an inconclusive comparison decisive (shown in the reason).

    Returns
    -------
    Verdict
    """
    if empty_reason:
        return Verdict(NOTHING, empty_reason, None, False)
    diff = float(value) - float(reference)
    total = budget.total
    z = diff / total if total > 0 else None
    if not reliable:
        why = unreliable_reason or "the computed number is flagged unreliable"
        return Verdict(
            INCONCLUSIVE,
            f"{why}: its error bar cannot be trusted, so it cannot count for or "
            "against (run longer or thermalize longer)",
            z,
            False,
        )
    if z is None:
        if abs(diff) <= 1e-9 * max(1.0, abs(float(reference))):
            return Verdict(EXACT, f"both numbers are exact and equal (difference {diff:.2g}, rounding)", None, True)
        return Verdict(DISAGREES, f"both numbers are exact and differ by {diff:.3g}", None, True)
    if abs(z) >= Z_MAX:
        return Verdict(
            DISAGREES, f"|z| = {abs(z):.2f} >= {Z_MAX:g} against the whole error budget ({budget.text()})", z, True
        )
    tiny = 1e-12 * max(1.0, abs(float(reference)))
    if budget.reference > POWER_RATIO * budget.statistical and budget.reference > tiny:
        return Verdict(
            INCONCLUSIVE,
            f"|z| = {abs(z):.2f}, but the reference's own uncertainty "
            f"({_g(budget.reference)}: quadrature {_g(budget.quadrature)}, "
            f"truncation {_g(budget.truncation)}) exceeds the statistical "
            f"error {_g(budget.statistical)}, so this comparison could not "
            f"show a difference at the computed number's precision; to "
            f"make it decisive {decisive_hint}",
            z,
            False,
        )
    return Verdict(AGREES, f"|z| = {abs(z):.2f} < {Z_MAX:g} ({budget.text()})", z, True)


def combine(verdicts: Iterable[Verdict], labels: Iterable[str] | None = None) -> Verdict:
    """Verdict of a run from the verdicts of its comparisons.

    ``disagrees`` if any comparison disagrees; ``nothing compared`` if every one compared
    nothing (or there are none); ``exact`` if every comparison made is exact; ``agrees`` if at
    least one had power and agrees (or is exact) and none disagrees; ``inconclusive``
    otherwise.  ``labels`` name the comparisons in the reason (e.g. ``lam = 0.1``).
    """
    verdicts = list(verdicts)
    labels = list(labels) if labels is not None else [f"#{i + 1}" for i in range(len(verdicts))]
    made = [(lab, v) for lab, v in zip(labels, verdicts, strict=True) if v.word != NOTHING]
    if not made:
        why = verdicts[0].reason if verdicts else "no comparison was made"
        return Verdict(NOTHING, why, None, False)

    def names(word):
        return [lab for lab, v in made if v.word == word]

    bad = names(DISAGREES)
    if bad:
        zs = [abs(v.z) for _, v in made if v.word == DISAGREES and v.z is not None]
        worst = f" (largest |z| = {max(zs):.2f})" if zs else ""
        return Verdict(
            DISAGREES, f"{len(bad)} of {len(made)} comparison(s) disagree: {', '.join(bad)}" + worst, None, True
        )
    if all(v.word == EXACT for _, v in made):
        return Verdict(EXACT, f"all {len(made)} comparison(s) are exact and equal", None, True)
    good = [lab for lab, v in made if v.word in (AGREES, EXACT)]
    weak = names(INCONCLUSIVE)
    if good:
        tail = f"; {len(weak)} inconclusive ({', '.join(weak)})" if weak else ""
        return Verdict(
            AGREES, f"{len(good)} of {len(made)} comparison(s) had power and agree, none disagrees{tail}", None, True
        )
    first = next(v.reason for _, v in made if v.word == INCONCLUSIVE)
    return Verdict(
        INCONCLUSIVE,
        f"none of the {len(made)} comparison(s) had power ({', '.join(weak)}); e.g. {weak[0]}: {first}",
        None,
        False,
    )
