"""Typeset series and family definitions in real mathematics (LaTeX), with line breaking.

Independent of :meth:`Series.to_latex` so that long series (``--order 3``) can be broken
into display lines term by term: :func:`series_lines` packs terms into lines of bounded
visual width.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..families import Block, Family, Line
    from ..symbolic.series import Series
    from ..symbolic.theory import Theory

__all__ = [
    "line_tex",
    "block_definition",
    "family_definition",
    "family_name",
    "term_tex",
    "series_terms",
    "align_series",
    "NOTATION",
]

#: The notation of the families table, defined once (LaTeX text).
NOTATION = (
    r"Notation: $\tilde K(p)=K_\Lambda(p^2)/(p^2+m^2)$ is the regulated propagator, "
    r"$D(p)=\Lambda\partial_\Lambda\tilde K(p)$, $\Delta=\tilde K_{\Lambda_0}-\tilde K_\Lambda$ "
    r"(flow only); powers such as $\tilde K^2$ are powers of the function, $\tilde K^2(p)=\tilde K(p)^2$. "
    r"Outer integrals $\int d^dp$ carry no $(2\pi)^{-d}$, loop integrals "
    r"$\int_q=\int d^dq/(2\pi)^d$ do. A line function in position space is "
    r"$\ell(x)=\int_q e^{iqx}\ell(q)$. Blocks: $\mathrm{M}[\ell_1,\dots,\ell_n]$ is the melon, two "
    r"vertices joined by the lines $\ell_1,\dots,\ell_n$, $\int d^dx\,\prod_i\ell_i(x)$ (times "
    r"$(2\pi)^d$ when a line is $D$); $\mathrm{G}_n[ij{:}\ell,\dots]$ is a general block of $n$ vertices "
    r"$x_0=0,x_1,\dots,x_{n-1}$ with a line $\ell$ between vertices $i$ and $j$, "
    r"$\int\prod_{i\ge1}d^dx_i\prod_{(ij{:}\ell)}\ell(x_i-x_j)$ (times $(2\pi)^d$ when it holds the $D$ "
    r"line); they appear from $O(\lambda^3)$ on. A family is a product of blocks (written side by "
    r"side); exactly one block holds the $D$ line."
)


def line_tex(line: Line) -> str:
    """``D``, ``\\tilde K^2``, ``D/\\tilde K``, ``D\\tilde K`` ... for a :class:`~ergsym.families.Line`."""
    num = []
    if line.d:
        num.append("D" if line.d == 1 else f"D^{{{line.d}}}")
    if line.kt > 0:
        num.append(r"\tilde K" if line.kt == 1 else rf"\tilde K^{{{line.kt}}}")
    if line.delta:
        num.append(r"\Delta" if line.delta == 1 else rf"\Delta^{{{line.delta}}}")
    top = "".join(num) or "1"
    if line.kt < 0:
        den = r"\tilde K" if line.kt == -1 else rf"\tilde K^{{{-line.kt}}}"
        return rf"{top}/{den}"
    return top


def _arg(tex, var):
    """``\\ell(var)``: parenthesize compound line functions."""
    if "/" in tex or (len(re.sub(r"\\[A-Za-z]+|[{}^0-9 ]", "", tex)) > 1):
        return rf"({tex})({var})"
    return rf"{tex}({var})"


def block_definition(b: Block) -> str:
    """The integral a block stands for (LaTeX math)."""
    pre = r"(2\pi)^d" if b.has_d else ""
    if b.kind == "loop":
        (line,) = b.lines
        t = line_tex(line)
        return rf"\int d^dp\,{_arg(t, 'p')}" if line.d else rf"\int_q {_arg(t, 'q')}"
    if b.kind == "bridge":
        return pre + _arg(line_tex(b.lines[0]), "0")
    if b.kind == "melon":
        return pre + r"\int d^dx\," + r"\,".join(_arg(line_tex(ln), "x") for ln in b.lines)
    n = b.n_vertices
    xs = r"\,".join(f"d^dx_{i}" for i in range(1, n))

    def pt(i):
        return f"x_{i}" if i else "0"

    lines = r"\,".join(_arg(line_tex(ln), f"{pt(j)}-{pt(i)}" if i else pt(j)) for i, j, ln in b.edges)
    return pre + rf"\int {xs}\,{lines}"


def family_definition(f: Family) -> str:
    """The integral a family stands for: its blocks' integrals multiplied (LaTeX math)."""
    if not f.blocks:
        return "1"
    out = []
    for b in f.blocks:
        if out and out[-1][0] == b:
            out[-1][1] += 1
        else:
            out.append([b, 1])
    return r"\;\times\;".join(
        block_definition(b) if n == 1 else rf"\Big({block_definition(b)}\Big)^{{{n}}}" for b, n in out
    )


def family_name(f: Family) -> str:
    """The family's symbol with break points after commas (for table cells)."""
    return (f.latex if f.blocks else "1").replace(",", r",\allowbreak ")


def term_tex(c: Fraction, powers: tuple[int, ...], family: Family, theory: Theory) -> str:
    """One signed term ``\\pm c\\,\\lambda^k\\,F``; ``c`` a Fraction, or an exact polynomial in N
    (:class:`~ergsym.symbolic.npoly.NPoly`, typeset in parentheses)."""
    if hasattr(c, "is_constant") and not c.is_constant():  # a polynomial in N
        sign, coef = "+", r"\big(" + c.latex() + r"\big)"
    else:
        c = Fraction(c.constant() if hasattr(c, "is_constant") else c)
        sign = "-" if c < 0 else "+"
        a = abs(c)
        coef = (
            ""
            if (a == 1 and family.blocks)
            else (str(a.numerator) if a.denominator == 1 else rf"\tfrac{{{a.numerator}}}{{{a.denominator}}}")
        )
    mono = []
    for (_deg, name), e in zip(theory.couplings, powers):
        if e:
            sym = r"\lambda" if name == "lam" else rf"\mathrm{{{name}}}"
            mono.append(sym if e == 1 else f"{sym}^{{{e}}}")
    body = coef + "".join(mono)
    fam = family.latex if family.blocks else ""
    return f"{sign} {body}" + (rf"\,{fam}" if fam else "")


def series_terms(series: Series, k: int | None = None) -> list:
    """Signed LaTeX terms of a series (all orders, or order ``k``)."""
    orders = range(series.order + 1) if k is None else [k]
    return [term_tex(c, p, f, series.theory) for kk in orders for c, p, f in series.coefficient(kk)]


def _width(tex: str) -> float:
    """Rough visual width of a LaTeX math string, in characters."""
    t = re.sub(r"\\tfrac\{(\d+)\}\{(\d+)\}", lambda m: "x" * max(len(m.group(1)), len(m.group(2))), tex)
    t = re.sub(r"\\(mathrm|text)\{([^}]*)\}", r"\2", t)
    t = re.sub(r"\\(,|;|allowbreak)", "", t)
    t = re.sub(r"\\[A-Za-z]+", "x", t)
    t = re.sub(r"[{}]", "", t)
    t = re.sub(r"\^(\w)", "", t)  # superscripts are small
    return len(t)


def align_series(label: str, series: Series, width: float = 62.0, order_term: bool = True) -> str:
    """An ``align*`` body: ``label &= t_1 t_2 ...`` broken into lines of at most ``width``.

    Every order starts on a new line; inside an order, terms are packed greedily.
    """
    lines = []
    for k in range(series.order + 1):
        terms = series_terms(series, k)
        cur, w = [], 0.0
        for t in terms:
            tw = _width(t)
            if cur and w + tw > width:
                lines.append(" ".join(cur))
                cur, w = [], 0.0
            cur.append(t)
            w += tw
        if cur:
            lines.append(" ".join(cur))
    if not lines:
        lines = ["0"]
    first = lines[0]
    if first.startswith("+ "):
        first = first[2:]
    out = [rf"{label} &= {first}"] + [rf"&\quad {ln}" for ln in lines[1:]]
    if order_term and series.theory.names == ("lam",):
        out[-1] += rf" + O(\lambda^{{{series.order + 1}}})"
    return " \\\\\n".join(out)
