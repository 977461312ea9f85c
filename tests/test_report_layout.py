"""Layout of the report's LaTeX (cheap: no sections are computed, no TeX is run).

The figures themselves were checked by looking (pdftoppm); these tests pin what can be pinned
in the source: the O(lambda^N) notation is defined before its first use, the references close
the main text (not alone on a last page), the timings table has the LaTeX step and the total,
and the Lambda axis of the scan figure gets at least three labelled ticks.
"""

import pytest

from ergsym.report import ReportConfig
from ergsym.report.build import _document
from ergsym.report.numeric_sections import _log_ticks
from ergsym.report.section import Section


def _sections(keys=("derivation", "errata", "diagrams")):
    return [Section(k, k.title(), f"Body of {k}: $O(\\lambda^{{3}})$.", seconds=1.25) for k in keys]


def test_order_notation_is_defined_before_it_is_used():
    tex = _document(ReportConfig(), _sections())
    definition = tex.index("A series ``to $O(\\lambda^N)$'' keeps every term through")
    assert tex.index(r"$O(\lambda^") == definition + len("A series ``to ")  # the first use is the definition


def test_references_close_the_main_text_and_the_appendix_follows():
    tex = _document(ReportConfig(), _sections())
    bib, app = tex.index(r"\begin{thebibliography}"), tex.index(r"\appendix")
    assert tex.index(r"\label{sec:errata}") < bib < app < tex.index(r"\label{sec:diagrams}")
    assert tex.index(r"\section*{Timings}") > app and tex.count(r"\begin{thebibliography}") == 1
    # without the diagrams page the references come last, once
    tex = _document(ReportConfig(), _sections(("derivation", "errata")))
    assert tex.count(r"\begin{thebibliography}") == 1 and r"\appendix" not in tex
    assert tex.index(r"\section*{Timings}") < tex.index(r"\begin{thebibliography}")


def test_timings_table_has_the_latex_step_and_the_total():
    secs = _sections()
    tex = _document(ReportConfig(), secs, {"tool": "latexmk", "tex_seconds": 2.5, "total": 7.0})
    table = tex[tex.index(r"\section*{Timings}") :]
    assert "LaTeX (latexmk) & 2.5 s" in table and r"\textbf{total} & \textbf{7.0 s}" in table
    assert all(f"{s.key} & 1.2 s" in table for s in secs)  # 1.25 s printed to one decimal
    # before the PDF exists the cells are placeholders; with --no-pdf the total is the sections'
    first = _document(ReportConfig(), secs)
    assert r"LaTeX & \ldots" in first
    nopdf = _document(ReportConfig(pdf=False), secs)
    assert "LaTeX & not compiled" in nopdf and r"\textbf{3.8 s}" in nopdf


@pytest.mark.parametrize("lo, hi", [(0.25, 2.0), (0.5, 1.5), (0.1, 100.0), (0.9, 1.1), (1e-3, 1e3), (3.0, 7.0)])
def test_log_axis_gets_at_least_three_ticks_inside_the_range(lo, hi):
    ticks = _log_ticks(lo, hi)
    assert 3 <= len(ticks) <= 9
    assert all(lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9) for t in ticks)
    assert ticks == sorted(ticks) and len(set(f"{t:.3g}" for t in ticks)) == len(ticks)


def test_flow_plot_title_names_the_setup():
    from ergsym.cli.flow import _plot_title

    lat = _plot_title(
        "lattice",
        {
            "lattice": "8x8",
            "lam": 0.1,
            "cutoff": "bump:eps=0.9,lambda_max=2.0",
            "mass": 1.0,
            "Lambda0": 1.5,
            "order": 2,
        },
    )
    want = ("lattice 8x8", "lam = 0.1", "bump:eps=0.9", "m = 1", "Lambda0 = 1.5", "lam^2")
    assert all(s in lat for s in want)
    cont = _plot_title(
        "continuum",
        {
            "lattice": None,
            "dim": 4,
            "lam": {"lam": 0.1, "g6": 0.01},
            "cutoff": "exp:n=2",
            "mass": 0.5,
            "Lambda0": 1.0,
            "order": 1,
        },
    )
    assert all(s in cont for s in ("continuum, d = 4", "lam = 0.1, g6 = 0.01", "exp:n=2", "m = 0.5"))
