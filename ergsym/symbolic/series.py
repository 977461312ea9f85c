"""The engine's output: exact rationals times coupling powers times integral families.

A :class:`Series` is immutable plain data (``Fraction`` and tuples).  sympy appears only in
:meth:`Series.to_sympy` / :meth:`Series.to_latex`, imported there.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from ..families import Family
from .theory import Theory

__all__ = ["Term", "Series"]


@dataclass(frozen=True)
class Term:
    """``coeff * prod_i g_i**powers[i] * family``."""

    coeff: Fraction
    powers: tuple
    family: Family

    @property
    def order(self) -> int:
        return sum(self.powers)


def _fmt_frac(c: Fraction) -> str:
    return str(c.numerator) if c.denominator == 1 else f"{c.numerator}/{c.denominator}"


@dataclass(frozen=True)
class Series:
    """A perturbative series ``sum_terms coeff * couplings**powers * family``.

    Attributes
    ----------
    quantity : str
        What it is the expansion of (e.g. ``"B"``, ``"P1"``, ``"<phi^2>"``).
    theory : Theory
    scheme : str
    order : int
        Terms are complete through total coupling order ``order``.
    terms : tuple of Term
        Sorted by order, then family name; no zero coefficients.
    normalization : str
        ``"delta(0)"`` (coefficient of the volume factor; lattice: whole sum) or
        ``"per-site"`` (a local expectation value or log Z per volume).
    provenance : str
    """

    quantity: str
    theory: Theory
    scheme: str
    order: int
    terms: tuple
    normalization: str = "delta(0)"
    provenance: str = field(default="", compare=False)

    # -- construction ------------------------------------------------------
    @classmethod
    def from_dict(cls, quantity, theory, scheme, order, coeffs: dict, normalization="delta(0)",
                  provenance=""):
        terms = tuple(
            Term(c, p, f) for (p, f), c in sorted(coeffs.items(), key=lambda kv: (sum(kv[0][0]), kv[0][0], kv[0][1].name))
            if c != 0 and sum(p) <= order
        )
        return cls(quantity, theory, scheme, order, terms, normalization, provenance)

    def as_dict(self) -> dict:
        return {(t.powers, t.family): t.coeff for t in self.terms}

    def combine(self, other: "Series", a=1, b=1, quantity=None) -> "Series":
        """``a * self + b * other`` (same theory and scheme)."""
        if other.theory != self.theory or other.scheme != self.scheme:
            raise ValueError("cannot combine series of different theories or schemes")
        acc = {}
        for t in self.terms:
            acc[(t.powers, t.family)] = acc.get((t.powers, t.family), 0) + Fraction(a) * t.coeff
        for t in other.terms:
            acc[(t.powers, t.family)] = acc.get((t.powers, t.family), 0) + Fraction(b) * t.coeff
        return Series.from_dict(quantity or f"{a}*{self.quantity}+{b}*{other.quantity}", self.theory,
                                self.scheme, min(self.order, other.order), acc, self.normalization,
                                self.provenance)

    # -- access --------------------------------------------------------------
    def families(self) -> tuple:
        """Distinct families in order of first appearance."""
        out = []
        for t in self.terms:
            if t.family not in out:
                out.append(t.family)
        return tuple(out)

    def coefficient(self, k: int) -> tuple:
        """Terms of total order ``k`` as ``((coeff, powers, family), ...)``."""
        return tuple((t.coeff, t.powers, t.family) for t in self.terms if t.order == k)

    def coefficient_dict(self, k: int) -> dict:
        """For a one-coupling theory: ``{family_name: Fraction}`` at order ``k``."""
        return {t.family.name: t.coeff for t in self.terms if t.order == k}

    def evaluate(self, values, couplings=None):
        """Sum the series with family values from ``values`` (a callable or mapping).

        Returns a list of per-order values (index k) if ``couplings`` is None (coupling
        values 1), else the total at the given coupling values.
        """
        get = values if callable(values) else (lambda fam: values[fam])
        cache = {}
        per_order = [0] * (self.order + 1)
        total = 0
        for t in self.terms:
            if t.family not in cache:
                cache[t.family] = get(t.family)
            fv = cache[t.family]
            v = t.coeff * fv if isinstance(fv, (int, Fraction)) else float(t.coeff) * fv
            per_order[t.order] = per_order[t.order] + v
            if couplings is not None:
                w = 1
                for g, p in zip(couplings, t.powers):
                    w = w * g ** p
                total = total + v * w
        return per_order if couplings is None else total

    # -- printing ------------------------------------------------------------
    def _mono(self, powers) -> str:
        out = []
        for (deg, name), p in zip(self.theory.couplings, powers):
            if p:
                out.append(name if p == 1 else f"{name}^{p}")
        return "*".join(out)

    def to_text(self) -> str:
        """One line per order: ``lam^2: 1/6 f2 - 1/4 T*T2*t1 ...``."""
        lines = []
        for k in range(self.order + 1):
            parts = []
            for c, p, f in self.coefficient(k):
                mono = self._mono(p)
                parts.append(f"{'+' if c > 0 else '-'} {_fmt_frac(abs(c))}{' ' + mono if mono else ''} {f.name}")
            body = " ".join(parts) if parts else "0"
            lines.append(f"  O({k}): {body.lstrip('+ ')}")
        return "\n".join(lines)

    def to_sympy(self):
        """sympy expression with coupling and family symbols (imports sympy)."""
        import sympy

        syms = {}
        expr = sympy.Integer(0)
        cs = [sympy.Symbol(n) for n in self.theory.names]
        for t in self.terms:
            name = t.family.name
            if name not in syms:
                syms[name] = sympy.Symbol(name.replace("·", "*"))
            mono = sympy.Integer(1)
            for c, p in zip(cs, t.powers):
                mono *= c ** p
            expr += sympy.Rational(t.coeff.numerator, t.coeff.denominator) * mono * syms[name]
        return expr

    def to_latex(self) -> str:
        """LaTeX of the series, grouped by order (no sympy needed for the structure)."""
        chunks = []
        for k in range(self.order + 1):
            for c, p, f in self.coefficient(k):
                sign = "-" if c < 0 else "+"
                a = abs(c)
                frac = "" if (a == 1 and f.blocks) else (str(a.numerator) if a.denominator == 1
                                                        else rf"\tfrac{{{a.numerator}}}{{{a.denominator}}}")
                mono = []
                for (deg, name), e in zip(self.theory.couplings, p):
                    if e:
                        sym = r"\lambda" if name == "lam" else name
                        mono.append(sym if e == 1 else f"{sym}^{{{e}}}")
                chunks.append(f"{sign} {frac}{''.join(mono)}\\,{f.latex if f.blocks else ''}".rstrip("\\,"))
        s = " ".join(chunks).lstrip("+ ").strip()
        return s or "0"

    def to_json(self) -> dict:
        """JSON-ready dict: per order, exact coefficients (strings) and family definitions."""
        orders = []
        for k in range(self.order + 1):
            orders.append({
                "order": k,
                "terms": [{"coefficient": _fmt_frac(c), "coefficient_float": float(c),
                           "couplings": {n: e for n, e in zip(self.theory.names, p) if e},
                           "family": f.name} for c, p, f in self.coefficient(k)],
            })
        return {
            "quantity": self.quantity,
            "theory": self.theory.to_dict(),
            "scheme": self.scheme,
            "order": self.order,
            "normalization": self.normalization,
            "orders": orders,
            "families": {f.name: f.to_dict() for f in self.families()},
            "provenance": self.provenance,
        }

    def __str__(self) -> str:
        return f"{self.quantity} [{self.scheme}, {self.normalization}]\n" + self.to_text()
