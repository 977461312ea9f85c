"""Theories: on-site polynomial interactions and their scheme.

Cotler & Rezchikov, PRD 108, 025003 (2023), eq. (5.3); conventions in docs/conventions.md.

``S_int = sum_n (g_n / n!) sum_x phi_x^n`` (continuum: ``int d^dx``).  phi^4 with
``g_4 = lam`` is the default; phi^3, phi^6 and a phi^2 counterterm can be added, each a
coupling of its own.  The scheme is ``bare`` (as (5.3)) or ``normal-ordered``
(``:phi^n:`` with respect to the free propagator ``Kt``: every tadpole on an interaction
vertex is subtracted).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError

__all__ = ["Theory", "PHI4", "SCHEMES", "validate_scheme", "parse_theory"]

SCHEMES = ("bare", "normal-ordered")


def validate_scheme(scheme: str) -> str:
    if scheme not in SCHEMES:
        raise InputError.bad("scheme", scheme, "one of " + ", ".join(SCHEMES))
    return scheme


@dataclass(frozen=True)
class Theory:
    """An on-site polynomial interaction.

    Parameters
    ----------
    couplings : tuple of (degree, name)
        ``((4, "lam"),)`` is phi^4 theory ``(lam/4!) phi^4``.  Degrees 2..8.
    """

    couplings: tuple = ((4, "lam"),)

    def __post_init__(self):
        seen_deg, seen_name = set(), set()
        if not self.couplings:
            raise InputError.bad("couplings", self.couplings, "at least one (degree, name) pair")
        for item in self.couplings:
            try:
                deg, name = item
            except (TypeError, ValueError):
                raise InputError.bad("couplings", self.couplings, "pairs (degree, name)") from None
            if not isinstance(deg, int) or not 2 <= deg <= 8:
                raise InputError.bad("coupling degree", deg, "an integer from 2 to 8")
            if not isinstance(name, str) or not name.isidentifier():
                raise InputError.bad("coupling name", name, "a Python identifier such as 'lam'")
            if deg in seen_deg or name in seen_name:
                raise InputError.bad("couplings", self.couplings, "distinct degrees and names")
            seen_deg.add(deg)
            seen_name.add(name)

    @property
    def names(self) -> tuple:
        return tuple(n for _, n in self.couplings)

    @property
    def degrees(self) -> tuple:
        return tuple(d for d, _ in self.couplings)

    def unit(self, index: int) -> tuple:
        """Exponent tuple of the single coupling ``index``."""
        return tuple(1 if i == index else 0 for i in range(len(self.couplings)))

    def describe(self) -> str:
        return " + ".join(f"({n}/{d}!) phi^{d}" for d, n in self.couplings)

    def latex(self) -> str:
        """LaTeX of ``S_int`` per point, e.g. ``\\frac{\\lambda}{4!}\\phi^{4}``."""
        parts = []
        for d, n in self.couplings:
            sym = r"\lambda" if n == "lam" else n
            parts.append(r"\frac{%s}{%d!}\phi^{%d}" % (sym, d, d))
        return " + ".join(parts)

    def to_dict(self) -> dict:
        return {"couplings": [[d, n] for d, n in self.couplings], "action": self.describe()}


PHI4 = Theory()


def parse_theory(spec: str) -> Theory:
    """Parse ``"phi4"`` or ``"phi4+phi6"`` or ``"4:lam,6:g6,2:c2"``."""
    spec = spec.strip()
    items = []
    try:
        if ":" in spec:
            for part in spec.split(","):
                d, n = part.split(":")
                items.append((int(d), n.strip()))
        else:
            for part in spec.split("+"):
                part = part.strip()
                if not part.startswith("phi"):
                    raise ValueError
                d = int(part[3:])
                items.append((d, "lam" if d == 4 else f"g{d}"))
    except ValueError:
        raise InputError.bad("theory", spec, "like 'phi4', 'phi4+phi6' or '4:lam,2:c2'") from None
    return Theory(tuple(items))
