"""Exact polynomials in the number of field components ``N`` (O(N) models).

A :class:`NPoly` is immutable plain data: a tuple of ``Fraction`` coefficients of
``N^0, N^1, ...``.  It is the coefficient type of a :class:`~ergsym.symbolic.Series` derived
with symbolic ``N`` (``Theory(N="N")``); with an integer ``N`` the engine evaluates the same
polynomials and the coefficients are plain ``Fraction`` s.  sympy appears only in
:meth:`NPoly.to_sympy`.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sympy

__all__ = ["NPoly", "N_SYMBOL", "as_npoly"]

#: The name of the symbolic number of components, as accepted by ``Theory(N=...)``.
N_SYMBOL = "N"


def _fmt(c: Fraction) -> str:
    return str(c.numerator) if c.denominator == 1 else f"{c.numerator}/{c.denominator}"


class NPoly:
    """``sum_k coeffs[k] * N**k`` with exact rational coefficients.

    Supports ``+ - *`` with other ``NPoly`` s, ``int`` and ``Fraction``; ``p(3)`` evaluates at
    ``N = 3`` (a ``Fraction``); ``==`` compares with numbers too (a constant polynomial equals
    its constant).  Division is by numbers only.

    Examples
    --------
    >>> n = NPoly.N()
    >>> str((n + 2) * Fraction(1, 3))
    'N/3 + 2/3'
    >>> ((n + 2) * (n + 8))(1)
    Fraction(27, 1)
    """

    __slots__ = ("coeffs",)

    def __init__(self, coeffs: Iterable[int | Fraction] = ()) -> None:
        cs = [Fraction(c) for c in coeffs]
        while cs and cs[-1] == 0:
            cs.pop()
        object.__setattr__(self, "coeffs", tuple(cs))

    def __setattr__(self, name, value):
        raise AttributeError("NPoly is immutable")

    # -- construction --------------------------------------------------------
    @classmethod
    def N(cls) -> NPoly:
        """The polynomial ``N``."""
        return cls((0, 1))

    @classmethod
    def from_powers(cls, powers: dict) -> NPoly:
        """From ``{power: coefficient}``."""
        if not powers:
            return cls()
        out = [Fraction(0)] * (max(powers) + 1)
        for k, v in powers.items():
            out[k] += Fraction(v)
        return cls(out)

    @classmethod
    def parse(cls, text: str) -> NPoly:
        """Inverse of ``str``: ``"N^2/3 + 2*N/3 - 1/2"`` -> NPoly (a plain number works too)."""
        s = str(text).replace(" ", "").replace("-", "+-")
        powers: dict = {}
        for part in s.split("+"):
            if not part:
                continue
            k = 0
            if "N" in part:
                head, _, tail = part.partition("N")
                k = 1
                if tail.startswith("^"):
                    exp, _, tail = tail[1:].partition("/")
                    k = int(exp)
                    tail = "/" + tail if tail else ""
                num = head.rstrip("*") or "1"
                if num == "-":
                    num = "-1"
                c = Fraction(num)
                if tail:
                    if not tail.startswith("/"):
                        raise ValueError(f"cannot parse {text!r} as a polynomial in N")
                    c /= Fraction(tail[1:])
            else:
                c = Fraction(part)
            powers[k] = powers.get(k, Fraction(0)) + c
        return cls.from_powers(powers)

    # -- arithmetic ----------------------------------------------------------
    @staticmethod
    def _lift(other):
        if isinstance(other, NPoly):
            return other
        if isinstance(other, (int, Fraction)):
            return NPoly((other,))
        return None

    def __add__(self, other):
        o = self._lift(other)
        if o is None:
            return NotImplemented
        n = max(len(self.coeffs), len(o.coeffs))
        a = self.coeffs + (Fraction(0),) * (n - len(self.coeffs))
        b = o.coeffs + (Fraction(0),) * (n - len(o.coeffs))
        return NPoly(x + y for x, y in zip(a, b, strict=True))

    __radd__ = __add__

    def __neg__(self):
        return NPoly(-c for c in self.coeffs)

    def __pos__(self):
        return self

    def __sub__(self, other):
        o = self._lift(other)
        return NotImplemented if o is None else self + (-o)

    def __rsub__(self, other):
        o = self._lift(other)
        return NotImplemented if o is None else o + (-self)

    def __mul__(self, other):
        if isinstance(other, (int, Fraction)):
            return NPoly(c * other for c in self.coeffs)
        if not isinstance(other, NPoly):
            return NotImplemented
        if not self.coeffs or not other.coeffs:
            return NPoly()
        out = [Fraction(0)] * (len(self.coeffs) + len(other.coeffs) - 1)
        for i, a in enumerate(self.coeffs):
            if a:
                for j, b in enumerate(other.coeffs):
                    out[i + j] += a * b
        return NPoly(out)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, (int, Fraction)):
            return NPoly(c / other for c in self.coeffs)
        return NotImplemented

    def __pow__(self, k: int):
        out = NPoly((1,))
        for _ in range(k):
            out = out * self
        return out

    def __call__(self, n):
        """Value at ``N = n`` (exact for int / Fraction ``n``)."""
        out = Fraction(0) if isinstance(n, (int, Fraction)) else 0.0
        for c in reversed(self.coeffs):
            out = out * n + c
        return out

    # -- comparison ----------------------------------------------------------
    def __eq__(self, other):
        o = self._lift(other)
        return NotImplemented if o is None else self.coeffs == o.coeffs

    def __hash__(self):
        if len(self.coeffs) <= 1:
            return hash(self.coeffs[0] if self.coeffs else Fraction(0))
        return hash(("NPoly", self.coeffs))

    def __bool__(self):
        return bool(self.coeffs)

    @property
    def degree(self) -> int:
        """Degree in ``N`` (-1 for the zero polynomial)."""
        return len(self.coeffs) - 1

    def is_constant(self) -> bool:
        return len(self.coeffs) <= 1

    def constant(self) -> Fraction:
        """The value of a constant polynomial (raises ``ValueError`` otherwise)."""
        if not self.is_constant():
            raise ValueError(f"{self} depends on N")
        return self.coeffs[0] if self.coeffs else Fraction(0)

    def leading(self) -> Fraction:
        """The coefficient of the highest power of ``N``."""
        return self.coeffs[-1] if self.coeffs else Fraction(0)

    # -- printing ------------------------------------------------------------
    def _terms(self):
        for k in range(len(self.coeffs) - 1, -1, -1):
            if self.coeffs[k]:
                yield k, self.coeffs[k]

    def __str__(self) -> str:
        parts = []
        for k, c in self._terms():
            mono = "" if k == 0 else ("N" if k == 1 else f"N^{k}")
            a = abs(c)
            if not mono:
                body = _fmt(a)
            elif a.denominator == 1:
                body = mono if a == 1 else f"{a.numerator}*{mono}"
            else:
                body = f"{mono}/{a.denominator}" if a.numerator == 1 else f"{a.numerator}*{mono}/{a.denominator}"
            parts.append(("- " if c < 0 else "+ ") + body)
        if not parts:
            return "0"
        s = " ".join(parts)
        return s[2:] if s.startswith("+ ") else "-" + s[2:]

    def __repr__(self) -> str:
        return f"NPoly({str(self)!r})"

    def latex(self) -> str:
        parts = []
        for k, c in self._terms():
            mono = "" if k == 0 else ("N" if k == 1 else f"N^{{{k}}}")
            a = abs(c)
            num = (
                ""
                if (a == 1 and mono)
                else (str(a.numerator) if a.denominator == 1 else rf"\tfrac{{{a.numerator}}}{{{a.denominator}}}")
            )
            parts.append(("- " if c < 0 else "+ ") + num + mono)
        if not parts:
            return "0"
        s = " ".join(parts)
        return s[2:] if s.startswith("+ ") else "-" + s[2:]

    def to_sympy(self, symbol: sympy.Symbol | None = None) -> sympy.Expr:
        import sympy  # noqa: PLC0415

        n = symbol if symbol is not None else sympy.Symbol(N_SYMBOL, positive=True, integer=True)
        return sum(
            (sympy.Rational(c.numerator, c.denominator) * n**k for k, c in enumerate(self.coeffs)), sympy.Integer(0)
        )


def as_npoly(value: int | Fraction | NPoly) -> NPoly:
    """``value`` (int, Fraction or NPoly) as an NPoly."""
    return value if isinstance(value, NPoly) else NPoly((value,))
