"""Theories: on-site polynomial interactions and their scheme.

Cotler & Rezchikov, PRD 108, 025003 (2023), eq. (5.3); conventions in docs/conventions.md.

``S_int = sum_n (g_n / n!) sum_x phi_x^n`` (continuum: ``int d^dx``).  phi^4 with
``g_4 = lam`` is the default; phi^3, phi^6 and a phi^2 counterterm can be added, each a
coupling of its own.  The scheme is ``bare`` (as (5.3)) or ``normal-ordered``
(``:phi^n:`` with respect to the free propagator ``Kt``: every tadpole on an interaction
vertex is subtracted).

O(N) models: with ``N`` components ``phi_a`` (``a = 1..N``) the degree-``n`` coupling is
``(g_n/n!) (phi_a phi_a)^(n/2)`` (so phi^4 is ``(lam/4!)(phi.phi)^2``); ``N = 1`` is the
single real scalar.  ``N`` is a positive integer or the symbol ``"N"`` (coefficients are then
exact polynomials in N).  Odd degrees have no O(N)-invariant meaning and are refused for N != 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from .npoly import N_SYMBOL

__all__ = ["Theory", "PHI4", "SCHEMES", "validate_scheme", "parse_theory", "validate_n"]

SCHEMES = ("bare", "normal-ordered")


def validate_scheme(scheme: str) -> str:
    if scheme not in SCHEMES:
        raise InputError.bad("scheme", scheme, "one of " + ", ".join(SCHEMES))
    return scheme


def validate_n(n: int | str) -> int | str:
    """``N``: a positive integer or the symbol ``"N"`` (returned unchanged)."""
    if isinstance(n, str) and n.strip() == N_SYMBOL:
        return N_SYMBOL
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InputError.bad(
            "N",
            n,
            "a positive integer (the number of field components) or the symbol 'N'",
            "N = 1 is the single real scalar of the paper",
        )
    return n


@dataclass(frozen=True)
class Theory:
    """An on-site polynomial interaction.

    Parameters
    ----------
    couplings : tuple of (degree, name)
        ``((4, "lam"),)`` is phi^4 theory ``(lam/4!) phi^4``.  Degrees 2..8.
    N : int or "N"
        Number of field components (O(N) model); ``"N"`` keeps it symbolic.  Default 1.
    """

    couplings: tuple = ((4, "lam"),)
    N: object = 1

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
        object.__setattr__(self, "N", validate_n(self.N))
        if self.N != 1:
            odd = [d for d in self.degrees if d % 2]
            if odd:
                raise InputError.bad(
                    "theory",
                    self.describe_couplings(),
                    "built of even powers when N != 1",
                    f"a phi^{odd[0]} term has no O(N)-invariant meaning with N={self.N}; drop it or use N=1",
                )

    @property
    def symbolic_n(self) -> bool:
        """True when ``N`` is the symbol ``"N"`` (coefficients are polynomials in N)."""
        return self.N == N_SYMBOL

    def describe_couplings(self) -> str:
        return " + ".join(f"({n}/{d}!) phi^{d}" for d, n in self.couplings)

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
        if self.N == 1:
            return self.describe_couplings()
        body = " + ".join(f"({n}/{d}!) (phi.phi)^{d // 2}" for d, n in self.couplings)
        return f"{body}, O(N) with {'symbolic N' if self.symbolic_n else f'N={self.N}'}"

    def latex(self) -> str:
        """LaTeX of ``S_int`` per point, e.g. ``\\frac{\\lambda}{4!}\\phi^{4}``."""
        parts = []
        for d, n in self.couplings:
            sym = r"\lambda" if n == "lam" else n
            if self.N == 1:
                parts.append(rf"\frac{{{sym}}}{{{d}!}}\phi^{{{d}}}")
            else:
                parts.append(rf"\frac{{{sym}}}{{{d}!}}(\phi_a\phi_a)^{{{d // 2}}}")
        return " + ".join(parts)

    def to_dict(self) -> dict:
        out = {"couplings": [[d, n] for d, n in self.couplings], "action": self.describe()}
        if self.N != 1:  # N = 1 output is exactly that of the single-scalar theory
            out["N"] = self.N
        return out


PHI4 = Theory()


def parse_theory(spec: str, N: int | str = 1) -> Theory:
    """Parse ``"phi4"`` or ``"phi4+phi6"`` or ``"4:lam,6:g6,2:c2"``; ``N`` components (int or "N")."""
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
    return Theory(tuple(items), N)
