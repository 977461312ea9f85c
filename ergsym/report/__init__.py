"""The LaTeX/PDF report: ``ergsym report`` (the README's main job).

Public API::

    from ergsym.report import ReportConfig, build_report
    res = build_report(ReportConfig(out="ergsym-report", quick=True))
    print(res.summary())          # res.tex, res.pdf, res.json

Sections (in order): derivation of A, B and the four pieces; comparison with the paper's
printed (5.11)-(5.15) with the contraction attribution; an exact zero-dimensional check;
numeric values of every family with errors; figures (cutoff Figs. 1/2/4, families vs Lambda);
lattice Monte Carlo vs the exact lattice series; one mode at strong coupling by direct
integration; the monotone along the Polchinski flow; errata.  matplotlib is imported only
inside the functions that draw (Agg backend).
"""

from .build import SECTION_KEYS, ReportResult, build_report  # noqa: F401
from .compile import HOW_TO_GET_TEX, CompileResult, compile_pdf, find_tex  # noqa: F401
from .config import DEFAULTS, MAX_REPORT_ORDER, ReportConfig  # noqa: F401

__all__ = [
    "ReportConfig",
    "ReportResult",
    "build_report",
    "SECTION_KEYS",
    "compile_pdf",
    "find_tex",
    "CompileResult",
    "HOW_TO_GET_TEX",
    "DEFAULTS",
    "MAX_REPORT_ORDER",
]
