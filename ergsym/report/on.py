"""The report's O(N) bookkeeping: which theory is phi^4, how N is named, why a section is absent.

With ``N`` field components the interaction is ``(lam/4!)(phi_a phi_a)^2`` (docs/conventions.md,
"O(N) models"); A, B, the pieces and ``phi2`` are summed over the components.  The paper
(Cotler & Rezchikov, PRD 108, 025003) treats one real scalar, so its printed numbers are
compared only when ``N = 1``; every other section computes the O(N) numbers or says that it
cannot yet (``available: false`` with the reason), never showing N = 1 numbers under an O(N)
title.  For ``N = 1`` nothing here changes a word of the report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import latex as L
from .section import Section

if TYPE_CHECKING:
    from ..symbolic.theory import Theory

__all__ = ["is_phi4", "paper_absent", "unavailable", "tex_reason", "PAPER_N1", "model_tex"]

#: how a number of the paper is labelled in a report for N != 1
PAPER_N1 = "(paper, N = 1)"


def is_phi4(theory: Theory) -> bool:
    """True for the quartic interaction alone, ``(lam/4!) phi^4`` or ``(lam/4!)(phi_a phi_a)^2``
    (any ``N``): the sections that need phi^4 work for every ``N``."""
    return tuple(theory.couplings) == ((4, "lam"),)


def model_tex(n: int) -> str:
    """``$\\phi^4$`` for ``N = 1``; ``the O(3) model $(\\lambda/4!)(\\phi_a\\phi_a)^2$`` otherwise (LaTeX)."""
    if n == 1:
        return r"$\phi^4$"
    return rf"O(${n}$) $(\phi_a\phi_a)^2$"


def paper_absent(key: str, title: str, n: int, what: str) -> Section:
    """The section ``key`` of an ``N != 1`` report: one sentence on why the paper's numbers are absent.

    ``what`` names what the section would show for ``N = 1`` (plain words, LaTeX-escaped here).
    The title carries the label "(paper, N = 1)"; ``report.json`` has ``available: false`` and
    ``data.reason``.
    """
    reason = (
        f"the paper's {what} are for one real scalar (N = 1) and this report is for N = {n} "
        "components, so there is nothing of the paper to compare with; rebuild with --N 1 for them"
    )
    body = (
        rf"Absent for $N={n}$: the paper's {L.text(what)} are for one real scalar ($N=1$), and this "
        rf"report's field has {n} components, so there is nothing of the paper to compare with "
        r"(rebuild with " + L.cmd("--N 1") + " to see them)."
    )
    return Section(key, f"{title} {L.text(PAPER_N1)}", body, {"reason": reason, "N": n}, available=False)


def tex_reason(reason: str) -> str:
    """``reason`` as LaTeX: options (``--N 1``, ``--no-flow``) and API names in typewriter type,
    so that ``--`` stays two hyphens; everything else escaped."""
    import re

    out, pos = [], 0
    for m in re.finditer(r"--[A-Za-z][A-Za-z-]*(?: (?:\d+|off))?|ergsym(?:\.[A-Za-z_]+)+", reason):
        out.append(L.text(reason[pos : m.start()]))
        out.append(L.cmd(m.group(0)))
        pos = m.end()
    out.append(L.text(reason[pos:]))
    return "".join(out)


def unavailable(key: str, title: str, n: int, reason: str) -> Section:
    """A section that cannot compute ``N = n`` yet: it says so in the PDF and in ``report.json``
    (``available: false``, ``data.reason``) instead of showing N = 1 numbers."""
    return Section(
        key,
        title,
        rf"Not available for $N={n}$: " + tex_reason(reason) + ".",
        {"reason": reason, "N": n},
        available=False,
    )
