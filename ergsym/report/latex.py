"""Small LaTeX helpers for the report: escaping, numbers with errors, tables.

Plain string functions; no ergsym physics here.  Everything the report writes goes through
:func:`text` (prose from data, e.g. family definitions with Unicode) or is LaTeX built here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

__all__ = ["text", "frac", "frac_signed", "num", "g", "value_err", "table", "verbatim"]

_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}
_UNICODE = {
    "∫": r"$\int$",
    "π": r"$\pi$",
    "Σ": r"$\Sigma$",
    "Δ": r"$\Delta$",
    "·": r"$\cdot$",
    "×": r"$\times$",
    "λ": r"$\lambda$",
    "Λ": r"$\Lambda$",
    "±": r"$\pm$",
    "≤": r"$\le$",
    "≥": r"$\ge$",
    "−": "-",
    "∂": r"$\partial$",
    "ε": r"$\varepsilon$",
    "≈": r"$\approx$",
    "²": r"$^2$",
    "→": r"$\to$",
    "δ": r"$\delta$",
    "φ": r"$\phi$",
    "μ": r"$\mu$",
    "⟨": r"$\langle$",
    "⟩": r"$\rangle$",
    "–": "--",
    "—": "---",
    "‖": r"$\|$",
    "≡": r"$\equiv$",
}


def text(s: object) -> str:
    """Escape ``s`` for LaTeX text mode (specials, and the Unicode ergsym prints)."""
    out = []
    for ch in str(s):
        if ch in _SPECIAL:
            out.append(_SPECIAL[ch])
        elif ch in _UNICODE:
            out.append(_UNICODE[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append("?")
    return "".join(out)


def verbatim(s: object) -> str:
    """``s`` in a typewriter font, escaped (for shell commands)."""
    return r"\texttt{" + text(s) + "}"


def frac(c: Fraction | int) -> str:
    """Exact rational as LaTeX math (no ``$``): ``\\tfrac{7}{24}``, ``-2``, ``0``."""
    c = Fraction(c)
    if c.denominator == 1:
        return str(c.numerator)
    sign = "-" if c < 0 else ""
    return rf"{sign}\tfrac{{{abs(c.numerator)}}}{{{c.denominator}}}"


def frac_signed(c: Fraction | int) -> str:
    """Like :func:`frac` with an explicit ``+`` for positive values."""
    c = Fraction(c)
    return ("+" if c > 0 else "") + frac(c)


def num(x: float, digits: int = 6) -> str:
    """A float in LaTeX math, scientific notation when needed (no ``$``)."""
    x = float(x)
    if not math.isfinite(x):
        return r"\infty" if x > 0 else (r"-\infty" if x < 0 else r"\mathrm{NaN}")
    if x == 0:
        return "0"
    e = int(math.floor(math.log10(abs(x))))
    if -3 <= e <= 4:
        return f"{x:.{max(digits - 1 - e, 0)}f}" if e >= 0 else f"{x:.{digits - 1 - e}f}"
    m = x / 10**e
    return rf"{m:.{digits - 1}f}\times10^{{{e}}}"


def g(x: float) -> str:
    """A parameter value, shortest form (``0.1``, ``2``, ``1e-05``)."""
    return f"{float(x):g}".replace("e-0", "e-").replace("e+0", "e")


def value_err(est: float, err: float | None, digits: int = 8) -> str:
    """``est ± err`` in LaTeX math (no ``$``).  The error is printed with two digits."""
    est, err = float(est), float(err)
    if not math.isfinite(err):
        return num(est, digits) + r"\pm\infty"
    if err <= 0:
        return num(est, digits) + r"\ (\mathrm{exact})"
    if est != 0 and math.isfinite(est):
        # as many digits of the estimate as the error justifies (+1), capped at ``digits``
        d = int(math.floor(math.log10(abs(est)))) - int(math.floor(math.log10(err))) + 2
        d = min(max(d, 1), digits)
    else:
        d = 2
    return num(est, d) + r"\pm" + num(err, 2)


def table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    align: str | None = None,
    caption: str | None = None,
    label: str | None = None,
    long: bool = False,
    size: str = r"\small",
) -> str:
    """A booktabs table.  ``header`` and ``rows`` are already LaTeX cell strings."""
    ncol = len(header)
    align = align or ("l" * ncol)
    head = " & ".join(header) + r" \\"
    body = "\n".join(" & ".join(r) + r" \\" for r in rows)
    if long:
        cap = (rf"\caption{{{caption}}}" + (rf"\label{{{label}}}" if label else "") + r"\\") if caption else ""
        return "\n".join(
            [
                size,
                rf"\begin{{longtable}}{{{align}}}",
                cap,
                r"\toprule",
                head,
                r"\midrule",
                r"\endhead",
                body,
                r"\bottomrule",
                r"\end{longtable}",
                r"\normalsize",
            ]
        )
    out = [r"\begin{table}[H]", r"\centering", size]
    if caption:
        out.append(rf"\caption{{{caption}}}" + (rf"\label{{{label}}}" if label else ""))
    out += [
        rf"\begin{{tabular}}{{{align}}}",
        r"\toprule",
        head,
        r"\midrule",
        body,
        r"\bottomrule",
        r"\end{tabular}",
        r"\end{table}",
    ]
    return "\n".join(out)


# -- commands: typeset so that copying from the PDF gives exactly the command ------------------
_CMD = {
    "-": "-{}",
    "'": r"\textquotesingle{}",
    "`": r"\textasciigrave{}",
    '"': r"\textquotedbl{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "\\": r"\textbackslash{}",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "#": r"\#",
    "%": r"\%",
    "&": r"\&",
}


def cmd(s: str) -> str:
    """A shell command inline, in typewriter type, so that copy-paste gives exactly ``s``.

    Under T1 encoding the typewriter font has ``--`` -> en-dash and quote ligatures; every
    hyphen is followed by an empty group (``-{}``) and quotes use the straight glyphs of
    textcomp, so ``pdftotext`` (and a reader's copy) returns the command byte for byte.
    """
    s = str(s)
    if any(ord(ch) > 127 for ch in s):
        raise ValueError(f"command {s!r} is not ASCII")
    return r"\texttt{" + "".join(_CMD.get(ch, ch) for ch in s) + "}"


def cmd_block(commands: Sequence[str]) -> str:
    """Commands on lines of their own (never broken: a wrapped command would not paste)."""
    commands = list(commands)
    if not commands:
        return ""
    longest = max(len(c) for c in commands)
    size = r"\small" if longest <= 80 else (r"\footnotesize" if longest <= 96 else r"\scriptsize")
    lines = r"\\".join(r"\mbox{" + cmd(c) + "}" for c in commands)
    return r"\begin{flushleft}" + size + "\n" + lines + "\n" + r"\end{flushleft}"


def sig_round(value: float, err: float, digits: int = 2) -> str:
    """``value \\pm err`` in LaTeX math, the value rounded to ``digits`` significant digits of ``err``.

    One format: fixed point when the value lies in ``[1e-3, 1e5)`` and the error is not below
    ``1e-9``; otherwise a common power of ten, ``(1.23 \\pm 0.04)\\times10^{-7}``.  A zero error
    prints the value followed by "exact".
    """
    value, err = float(value), float(err)
    if not math.isfinite(value):
        raise ValueError(f"non-finite value {value!r}")
    if not (err > 0) or not math.isfinite(err):
        return num(value, 10) + r"\ (\text{exact})"
    e = int(math.floor(math.log10(err))) - (digits - 1)
    if round(err, -e) >= 10.0 ** (e + digits):  # rounding carried a digit
        e += 1
    v, r = round(value, -e), round(err, -e)
    mag = max(abs(v), abs(r))
    p = int(math.floor(math.log10(mag))) if mag > 0 else 0
    if p - e > 10:  # relative error below 1e-10: ten significant digits, the error as a bound
        ee = int(math.floor(math.log10(err)))
        return num(value, 10) + rf"\pm{err / 10**ee:.0f}\times10^{{{ee}}}"
    if -3 <= p <= 4 and e >= -9:
        d = max(-e, 0)
        return f"{v:.{d}f}\\pm{r:.{d}f}"
    d = max(p - e, 0)
    return rf"({v / 10**p:.{d}f}\pm{r / 10**p:.{d}f})\times10^{{{p}}}"


def paren(value: float, err: float, digits: int = 2, max_sig: int = 12) -> str:
    """``value(err)`` in LaTeX math: the error in units of the last digits shown (``73.0398539(10)``).

    The one format of the report's tables.  ``digits`` significant digits of the error are shown;
    at most ``max_sig`` significant digits of the value (then the parenthesis is an upper bound
    of the error).  Fixed point for ``1e-3 <= |value| < 1e5``, else ``m(e)\\times10^{p}``.  A zero
    error prints the value (10 digits) and "exact".
    """
    value, err = float(value), float(err)
    if not math.isfinite(value):
        raise ValueError(f"non-finite value {value!r}")
    if not (err > 0) or not math.isfinite(err):
        return num(value, 10) + r"\ (\text{exact})"
    p = int(math.floor(math.log10(abs(value)))) if value != 0 else int(math.floor(math.log10(err)))
    e = int(math.floor(math.log10(err))) - (digits - 1)
    e = max(e, p - max_sig + 1)
    if round(err, -e) >= 10.0 ** (e + digits) and e == int(math.floor(math.log10(err))) - (digits - 1):
        e += 1
    u = max(1, int(round(err / 10.0**e)))
    if -3 <= p <= 4:
        return f"{round(value, -e):.{max(-e, 0)}f}({u})"
    m = value / 10.0**p
    return rf"{m:.{max(p - e, 0)}f}({u})\times10^{{{p}}}"
