"""The engine's output: exact rationals times coupling powers times integral families.

A :class:`Series` is immutable plain data (``Fraction`` and tuples).  sympy appears only in
:meth:`Series.to_sympy` / :meth:`Series.to_latex`, imported there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING

from ..errors import InputError
from ..families import Block, Family, Line
from .npoly import NPoly
from .theory import Theory

if TYPE_CHECKING:
    import sympy

__all__ = ["Term", "Series"]


@dataclass(frozen=True)
class Term:
    """``coeff * prod_i g_i**powers[i] * family``.

    ``coeff`` is a ``Fraction``, or an :class:`~ergsym.symbolic.npoly.NPoly` (a polynomial in
    the number of components ``N``) for a theory with symbolic ``N``.
    """

    coeff: Fraction
    powers: tuple
    family: Family

    @property
    def order(self) -> int:
        return sum(self.powers)


def _fmt_frac(c) -> str:
    if isinstance(c, NPoly):
        return str(c)
    return str(c.numerator) if c.denominator == 1 else f"{c.numerator}/{c.denominator}"


def _sign_body(c, latex=False):
    """``(sign, magnitude text)`` of a coefficient; a polynomial in N is parenthesised."""
    if isinstance(c, NPoly):
        if c.is_constant():
            c = c.constant()
        else:
            lead = c.leading()
            q = c if lead > 0 else -c
            single = sum(1 for x in q.coeffs if x) == 1  # one monomial: no parentheses
            if latex:
                body = q.latex() if single else r"\left(" + q.latex() + r"\right)"
            else:
                body = str(q) if single else f"({q})"
            return ("-" if lead < 0 else "+"), body, False
    a = abs(c)
    return ("-" if c < 0 else "+"), a, True


def _no_symbolic_n(series, what):
    if series.theory.symbolic_n:
        raise InputError.bad(
            "N",
            series.theory.N,
            "an integer to " + what,
            "the coefficients are polynomials in N: call series.at_n(3) (or derive with Theory(N=3)) first",
        )


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
    def from_coefficients(
        cls,
        quantity: str,
        theory: Theory,
        scheme: str,
        order: int,
        coeffs: dict,
        normalization: str = "delta(0)",
        provenance: str = "",
    ) -> Series:
        """Build a series from ``{(powers, Family): Fraction}`` (zero and too-high terms dropped)."""
        terms = tuple(
            Term(c, p, f)
            for (p, f), c in sorted(coeffs.items(), key=lambda kv: (sum(kv[0][0]), kv[0][0], kv[0][1].name))
            if c != 0 and sum(p) <= order
        )
        return cls(quantity, theory, scheme, order, terms, normalization, provenance)

    @classmethod
    def from_dict(cls, data: dict | str, *args: object, **kwargs: object) -> Series:
        """Rebuild a series from :meth:`to_dict` output (a JSON round trip).

        ``Series.from_dict(json.loads(json.dumps(s.to_dict()))) == s``.

        For backward compatibility, ``Series.from_dict(quantity, theory, scheme, order, coeffs,
        ...)`` (more than one argument) is :meth:`from_coefficients`.

        Raises
        ------
        InputError
            ``data`` is not a series dict (missing keys, unknown family, bad coefficient).
        """
        if args or kwargs or not isinstance(data, dict):
            return cls.from_coefficients(data, *args, **kwargs)
        return _series_from_dict(cls, data)

    def as_dict(self) -> dict:
        return {(t.powers, t.family): t.coeff for t in self.terms}

    def combine(
        self, other: Series, a: int | Fraction = 1, b: int | Fraction = 1, quantity: str | None = None
    ) -> Series:
        """``a * self + b * other`` (same theory and scheme)."""
        if other.theory != self.theory or other.scheme != self.scheme:
            raise ValueError("cannot combine series of different theories or schemes")
        acc = {}
        for t in self.terms:
            acc[(t.powers, t.family)] = acc.get((t.powers, t.family), 0) + Fraction(a) * t.coeff
        for t in other.terms:
            acc[(t.powers, t.family)] = acc.get((t.powers, t.family), 0) + Fraction(b) * t.coeff
        return Series.from_coefficients(
            quantity or f"{a}*{self.quantity}+{b}*{other.quantity}",
            self.theory,
            self.scheme,
            min(self.order, other.order),
            acc,
            self.normalization,
            self.provenance,
        )

    def at_n(self, n: int) -> Series:
        """The series at an integer number of components ``N = n``.

        A series derived with symbolic ``N`` (polynomial coefficients) becomes the series of
        ``Theory(couplings, N=n)``, with ``Fraction`` coefficients: the same series the engine
        derives with ``N = n`` directly.  A series with integer ``N`` is returned if ``n``
        matches it.
        """
        from .theory import validate_n  # noqa: PLC0415

        n = validate_n(n)
        if not isinstance(n, int):
            raise InputError.bad("n", n, "a positive integer")
        if not self.theory.symbolic_n:
            if self.theory.N != n:
                raise InputError.bad(
                    "n",
                    n,
                    f"N={self.theory.N}, the N this series was derived with",
                    "derive it again with that N or with symbolic N",
                )
            return self
        theory = Theory(self.theory.couplings, n)
        coeffs = {(t.powers, t.family): t.coeff(n) for t in self.terms}
        return Series.from_coefficients(
            self.quantity, theory, self.scheme, self.order, coeffs, self.normalization, self.provenance + f" at N={n}"
        )

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

    def evaluate(self, values: Callable | Mapping, couplings: Sequence | None = None) -> object:
        """Sum the series with family values from ``values`` (a callable or mapping).

        Returns a list of per-order values (index k) if ``couplings`` is None (coupling
        values 1), else the total at the given coupling values.  With symbolic ``N`` only exact
        family values (int, Fraction) are accepted, and the values are polynomials in ``N``
        (:class:`~ergsym.symbolic.npoly.NPoly`); use :meth:`at_n` for numbers.
        """
        get = values if callable(values) else (lambda fam: values[fam])
        cache = {}
        per_order = [0] * (self.order + 1)
        total = 0
        for t in self.terms:
            if t.family not in cache:
                cache[t.family] = get(t.family)
            fv = cache[t.family]
            if isinstance(fv, (int, Fraction)):
                v = t.coeff * fv  # exact (a polynomial in N when N is symbolic)
            else:
                if isinstance(t.coeff, NPoly):
                    _no_symbolic_n(self, "evaluate the series with floating-point family values")
                v = float(t.coeff) * fv
            per_order[t.order] = per_order[t.order] + v
            if couplings is not None:
                w = 1
                for g, p in zip(couplings, t.powers):
                    w = w * g**p
                total = total + v * w
        return per_order if couplings is None else total

    # -- printing ------------------------------------------------------------
    def _mono(self, powers) -> str:
        out = []
        for (_deg, name), p in zip(self.theory.couplings, powers):
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
                sign, a, _ = _sign_body(c)
                parts.append(
                    f"{sign} {_fmt_frac(a) if not isinstance(a, str) else a}{' ' + mono if mono else ''} {f.name}"
                )
            body = " ".join(parts) if parts else "0"
            lines.append(f"  O({k}): {body.lstrip('+ ')}")
        return "\n".join(lines)

    def sympy_symbols(self) -> dict:
        """The sympy symbols of :meth:`to_sympy`, keyed by ergsym name.

        ``{"lam": lambda, "T": T, "T2": T_2, "f0": f_0, "t1": t_1, ...}``: one entry per
        coupling of the theory and one per *block* (basic family) of the series.  Substitute
        with them: ``expr.subs({sym["lam"]: 0.1, sym["T"]: 0.25, ...})``.  Plain names work
        too: the symbols are ordinary ``sympy.Symbol`` s named ``lamda`` (the coupling
        ``lam``; sympy's spelling, as ``sympy.abc.lamda``, since ``lambda`` is a Python
        keyword), ``T``, ``T_2``, ``f_0``, ``t_1``, ... (so ``sympy.latex`` prints
        ``\\lambda``, ``T_{2}``, ``f_{0}``); a generated block such as ``M[D,K,K,K2]`` is the
        symbol ``M_D_K_K_K2`` (typeset it with :meth:`sympy_latex_names`).
        ``sympy.sympify(str(expr)) == expr``.  Families are products of blocks
        (``f1 = t1 T``, ``u1·T^2 = u1 T^2``).
        """
        out = {n: _coupling_symbol(n) for n in self.theory.names}
        if self.theory.symbolic_n:
            import sympy  # noqa: PLC0415

            if "N" in out:
                raise InputError.bad("coupling name", "N", "different from N (the number of components)")
            out["N"] = sympy.Symbol("N", positive=True, integer=True)
        for t in self.terms:
            for b in t.family.blocks:
                if b.name not in out:
                    out[b.name] = _block_symbol(b)
                elif b.name in self.theory.names:
                    raise InputError.bad(
                        "coupling name", b.name, "different from every family name", "rename the coupling in the theory"
                    )
        by_symbol = {}
        for n, sym in out.items():
            if by_symbol.setdefault(str(sym), n) != n:
                raise InputError.bad(
                    "coupling name",
                    n if n in self.theory.names else by_symbol[str(sym)],
                    f"a name whose sympy symbol differs from that of {n!r} ({sym})",
                    "rename the coupling in the theory",
                )
        return out

    def sympy_latex_names(self) -> dict:
        """``{symbol: LaTeX}`` for the generated blocks (``M_D_K_K_K2`` -> ``\\mathrm{M}[D,\\tilde K,...]``).

        Pass it to sympy's printer to typeset them as ergsym does:
        ``sympy.latex(s.to_sympy(), symbol_names=s.sympy_latex_names())``.
        """
        blocks = {b.name: b for t in self.terms for b in t.family.blocks}
        return {
            sym: blocks[n].latex
            for n, sym in self.sympy_symbols().items()
            if n in blocks and str(sym) != blocks[n].name and not str(sym)[1:].lstrip("_").isdigit()
        }

    def to_sympy(self, order_term: bool = False) -> sympy.Expr:
        """The series as a sympy expression: a polynomial in the couplings and the blocks.

        Parameters
        ----------
        order_term : bool
            Add the truncation ``O(lam**(order+1))`` (several couplings: ``O`` of the sum of
            all monomials of total degree ``order + 1``); ``expr.removeO()`` drops it.

        Returns
        -------
        sympy.Expr
            ``sum coeff * prod g_i**p_i * prod blocks`` with exact rationals; the symbols are
            those of :meth:`sympy_symbols`.  :meth:`from_sympy` is the inverse.

        Examples
        --------
        >>> from ergsym.symbolic import monotone
        >>> s = monotone(1, "B")
        >>> e = s.to_sympy()
        >>> sym = s.sympy_symbols()
        >>> e.subs({sym["lam"]: 0, sym["f0"]: 2})
        1
        """
        import sympy  # noqa: PLC0415

        syms = self.sympy_symbols()
        cs = [syms[n] for n in self.theory.names]
        expr = sympy.Integer(0)
        for t in self.terms:
            if isinstance(t.coeff, NPoly):
                mono = t.coeff.to_sympy(syms["N"])
            else:
                mono = sympy.Rational(t.coeff.numerator, t.coeff.denominator)
            for c, p in zip(cs, t.powers):
                mono *= c**p
            for b in t.family.blocks:
                mono *= syms[b.name]
            expr += mono
        if order_term:
            n = self.order + 1
            if len(cs) == 1:
                expr += sympy.Order(cs[0] ** n, cs[0])
            else:
                import itertools  # noqa: PLC0415

                monos = [
                    sympy.Mul(*(c**e for c, e in zip(cs, p)))
                    for p in itertools.product(range(n + 1), repeat=len(cs))
                    if sum(p) == n
                ]
                expr += sympy.Order(sympy.Add(*monos), *cs)
        return expr

    def from_sympy(self, expr: sympy.Expr | str, quantity: str | None = None) -> Series:
        """The series whose :meth:`to_sympy` is ``expr`` (an edited or recombined expression).

        ``self`` supplies the theory, scheme, order, normalization and the blocks its symbols
        stand for; ``expr`` must be a polynomial with rational coefficients in the couplings
        and block symbols of ``self.sympy_symbols()`` (an ``O()`` term is dropped).
        ``s.from_sympy(s.to_sympy()) == s``.

        Raises
        ------
        InputError
            ``expr`` contains other symbols, non-rational coefficients or negative powers.
        """
        import sympy  # noqa: PLC0415

        from ..families import Family  # noqa: PLC0415

        syms = self.sympy_symbols()
        blocks = {t_b.name: t_b for t in self.terms for t_b in t.family.blocks}
        names = list(syms)
        gens = [syms[n] for n in names]
        expr = sympy.sympify(expr)
        if expr.getO() is not None:
            expr = expr.removeO()
        extra = expr.free_symbols - set(gens)
        if extra:
            raise InputError.bad(
                "expr",
                str(expr)[:80],
                "a polynomial in " + ", ".join(map(str, gens)),
                f"unknown symbols {sorted(map(str, extra))}",
            )
        try:
            poly = sympy.Poly(sympy.expand(expr), *gens) if gens else None
        except sympy.PolynomialError:
            raise InputError.bad("expr", str(expr)[:80], "a polynomial (no negative powers)") from None
        coeffs = {}
        ncoup = len(self.theory.names)
        n_at = ncoup if self.theory.symbolic_n else None  # the N symbol follows the couplings
        first_block = ncoup + (n_at is not None)
        items = poly.terms() if poly is not None else [((), expr)]
        for monom, c in items:
            if not c.is_Rational:
                raise InputError.bad("expr", str(expr)[:80], "rational coefficients", f"coefficient {c}")
            powers = tuple(int(e) for e in monom[:ncoup])
            fam = Family(
                tuple(blocks[names[first_block + k]] for k, e in enumerate(monom[first_block:]) for _ in range(e))
            )
            key = (powers, fam)
            value = Fraction(int(c.p), int(c.q))
            if n_at is not None:
                value = NPoly.from_powers({int(monom[n_at]): value})
            coeffs[key] = coeffs.get(key, 0) + value
        return Series.from_coefficients(
            quantity or self.quantity, self.theory, self.scheme, self.order, coeffs, self.normalization, self.provenance
        )

    def _repr_latex_(self) -> str:
        """Notebook display: the typeset series."""
        return f"${self.to_latex()} + O({self._order_symbol()}^{{{self.order + 1}}})$"

    def _order_symbol(self) -> str:
        names = self.theory.names
        return (r"\lambda" if names[0] == "lam" else names[0]) if len(names) == 1 else "g"

    def __repr__(self) -> str:
        return (
            f"Series({self.quantity!r}, theory={self.theory.describe()!r}, scheme={self.scheme!r}, "
            f"order={self.order}, {len(self.terms)} terms)"
        )

    def to_latex(self) -> str:
        """LaTeX of the series, grouped by order (no sympy needed for the structure)."""
        chunks = []
        for k in range(self.order + 1):
            for c, p, f in self.coefficient(k):
                sign, a, plain = _sign_body(c, latex=True)
                if not plain:
                    frac = a
                elif a == 1 and f.blocks:
                    frac = ""
                else:
                    frac = str(a.numerator) if a.denominator == 1 else rf"\tfrac{{{a.numerator}}}{{{a.denominator}}}"
                mono = []
                for (_deg, name), e in zip(self.theory.couplings, p):
                    if e:
                        sym = r"\lambda" if name == "lam" else name
                        mono.append(sym if e == 1 else f"{sym}^{{{e}}}")
                chunks.append(f"{sign} {frac}{''.join(mono)}\\,{f.latex if f.blocks else ''}".rstrip("\\,"))
        s = " ".join(chunks).lstrip("+ ").strip()
        return s or "0"

    def to_dict(self) -> dict:
        """JSON-ready dict (exact coefficients as strings, families with their blocks).

        The inverse is :meth:`from_dict`; the format is described in docs/json.md.
        """
        return self.to_json()

    def to_json(self) -> dict:
        """JSON-ready dict: per order, exact coefficients (strings) and family definitions
        (same as :meth:`to_dict`)."""
        orders = []
        for k in range(self.order + 1):
            orders.append(
                {
                    "order": k,
                    "terms": [
                        {
                            "coefficient": _fmt_frac(c),
                            "coefficient_float": None if isinstance(c, NPoly) else float(c),
                            "couplings": {n: e for n, e in zip(self.theory.names, p) if e},
                            "family": f.name,
                        }
                        for c, p, f in self.coefficient(k)
                    ],
                }
            )
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


def _coupling_symbol(name):
    import sympy  # noqa: PLC0415

    # "lamda", sympy's own spelling (sympy.abc.lamda): "lambda" is a Python keyword, which
    # sympy.sympify cannot parse back; both print as \lambda in LaTeX and λ in pretty print
    return sympy.Symbol("lamda" if name == "lam" else name)


def _block_symbol(block):
    """``T``, ``T_2``, ``f_0``, ``t_1``, ... ; a generated block (``M[D,K,K,K2]``) becomes the
    plain symbol ``M_D_K_K_K2``, a name ``sympy.sympify`` parses back (its LaTeX:
    :meth:`Series.sympy_latex_names`)."""
    import re  # noqa: PLC0415

    import sympy  # noqa: PLC0415

    name = block.name
    m = re.fullmatch(r"([A-Za-z])(\d+)", name)
    if m:
        return sympy.Symbol(f"{m.group(1)}_{m.group(2)}")
    return sympy.Symbol(_symbol_name(name))


def _symbol_name(name: str) -> str:
    """An identifier for a block name: runs of other characters become ``_`` (``M[D,K]`` -> ``M_D_K``)."""
    import re  # noqa: PLC0415

    safe = re.sub(r"\W+", "_", name).strip("_")
    return safe if safe.isidentifier() else f"B_{safe}"


def _series_from_dict(cls, data):
    from .theory import Theory  # noqa: PLC0415

    try:
        n_comp = data["theory"].get("N", 1)
        theory = Theory(tuple((int(d), str(n)) for d, n in data["theory"]["couplings"]), n_comp)
        fams = {}
        for fname, fd in data["families"].items():
            blocks = tuple(
                Block(
                    int(b["n_vertices"]),
                    tuple(
                        (int(i), int(j), Line(int(ln["kt"]), int(ln["d"]), int(ln.get("delta", 0))))
                        for i, j, ln in b["edges"]
                    ),
                )
                for b in fd["blocks"]
            )
            fams[fname] = Family(blocks)
        coeffs = {}
        for o in data["orders"]:
            for t in o["terms"]:
                powers = tuple(int(t["couplings"].get(n, 0)) for n in theory.names)
                coeffs[(powers, fams[t["family"]])] = (
                    NPoly.parse(t["coefficient"]) if theory.symbolic_n else Fraction(t["coefficient"])
                )
        return cls.from_coefficients(
            data["quantity"],
            theory,
            data["scheme"],
            int(data["order"]),
            coeffs,
            data.get("normalization", "delta(0)"),
            data.get("provenance", ""),
        )
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        raise InputError.bad(
            "data", type(data).__name__, "a dict made by Series.to_dict()", f"{type(exc).__name__}: {exc}"
        ) from None
