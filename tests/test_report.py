"""The report builds end to end (--quick), its text carries the derived tables, the PDF compiles.

TeX: the PDF check runs when pdflatex is on PATH (CI installs it from Debian's packages,
.ci/run) and is skipped with the reason otherwise; the no-TeX path is tested by hiding TeX.
"""
import json
import re
import time

import pytest

from ergsym.cli import main
from ergsym.report import HOW_TO_GET_TEX, ReportConfig, build_report, compile_pdf, find_tex
from ergsym.report.latex import frac
from ergsym.report.symbolic_sections import PRINTED_LABEL, zero_dim_taylor
from ergsym.symbolic import PRINTED, monotone


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    t0 = time.perf_counter()
    res = build_report(ReportConfig(out=str(out), quick=True))
    return res, time.perf_counter() - t0


def test_quick_report_writes_everything(quick_report):
    res, seconds = quick_report
    assert res.tex.exists() and res.json.exists()
    keys = [s.key for s in res.sections]
    assert keys == ["derivation", "comparison", "zerodim", "numeric", "figures", "lattice",
                    "onemode", "flow", "errata"]
    for s in res.sections:
        for f in s.figures:
            assert (res.out / f).stat().st_size > 1000, f
    # --quick promises "well under a minute" on 2 cores; generous bound against regressions
    assert seconds < 90, seconds


def test_tex_contains_derived_coefficients(quick_report):
    res, _ = quick_report
    tex = res.tex.read_text()
    for q in ("A", "B"):
        for t in monotone(2, q).terms:
            assert t.family.latex in tex
    # every derived O(lam^2) coefficient of A appears as a table cell
    for c, p, f in monotone(2, "A").coefficient(2):
        assert f"${frac(c)}$" in tex
    assert PRINTED_LABEL.replace("(", "").split()[0] in tex


def test_printed_numbers_only_in_printed_columns(quick_report):
    """(5.15)'s 7/24 appears only in the printed column or right after "as printed"."""
    res, _ = quick_report
    tex = res.tex.read_text()
    seven24 = "$" + frac(PRINTED["A"][2]["f2"]) + "$"
    lines = [ln for ln in tex.splitlines() if seven24 in ln]
    assert lines, "the printed 7/24 must be shown in the comparison table"
    n_table = 0
    for ln in lines:
        cells = ln.split("&")
        if len(cells) == 8:  # comparison row: column 6 is ergsym's, column 7 the printed one
            assert "(5.15)" in cells[1] and seven24 in cells[6] and seven24 not in cells[5], ln
            n_table += 1
        else:
            assert ln.count(seven24) == ln.count("as printed " + seven24), ln
    assert n_table == 1


def test_json_numbers_consistent(quick_report):
    res, _ = quick_report
    d = json.loads(res.json.read_text())["sections"]
    # zero dimensions: the engine agrees with the exact oracle at every order
    rows = d["zerodim"]["data"]["rows"]
    assert rows and all(r["agrees"] for r in rows)
    exact = zero_dim_taylor(3, 0.7, 0.3)
    assert abs(rows[0]["engine"] - float(exact["A"][0])) < 1e-12
    # the Monte Carlo agrees with the exact series (fixed seed; z-scores)
    assert d["lattice"]["data"]["max_abs_z"] < 4
    # one mode at lam = 30: the report's integration equals an mpmath quadrature
    import mpmath as mp
    k, D, lam = 0.7, 0.3, 30
    w = lambda x: mp.exp(-x ** 2 / (2 * k) - lam * x ** 4 / 24)  # noqa: E731
    z = mp.quad(w, [-mp.inf, 0, mp.inf])
    phi2 = mp.quad(lambda x: x ** 2 * w(x), [-mp.inf, 0, mp.inf]) / z
    sig2 = mp.quad(lambda x: (-x / k + lam * x ** 3 / 6) ** 2 * w(x), [-mp.inf, 0, mp.inf]) / z
    B = float(-D / 2 * sig2 + D * phi2 / k ** 2)
    probe = d["onemode"]["data"]["probe"]["B"]
    assert abs(probe[0] - B) <= max(probe[1], 1e-9)
    # the free part of M along the flow integrates to its closed form
    fl = d["flow"]["data"]
    if d["flow"]["available"]:
        scale = max(abs(x) for x in fl["M_free_closed_form"])
        assert fl["free_integration_max_deviation"] < 1e-2 * scale


def test_pdf_compiles(quick_report):
    res, _ = quick_report
    if find_tex()[0] is None:
        pytest.skip("no TeX on PATH (install latexmk/texlive-latex-base as .ci/run does)")
    assert res.compile.ok, res.compile.message + "\n" + res.compile.log_tail
    assert res.pdf.read_bytes()[:5] == b"%PDF-"


def test_no_tex_says_how_to_get_it(quick_report, tmp_path):
    res, _ = quick_report
    out = compile_pdf(res.tex, env={"PATH": str(tmp_path)})
    assert not out.ok and out.pdf is None and out.tool is None
    assert out.message == HOW_TO_GET_TEX and "apt-get install" in out.message


def run_cli(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    cap = capsys.readouterr()
    return exc.value.code, cap.out, cap.err


def test_cli_report_minimal(tmp_path, capsys):
    code, out, err = run_cli(["report", "--quick", "--no-mc", "--no-flow", "--no-pdf", "--out",
                              str(tmp_path / "r"), "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert d["pdf"] is None and (tmp_path / "r" / "report.tex").exists()
    assert "lattice" not in d["sections"] and "flow" not in d["sections"]


@pytest.mark.parametrize("args,needle", [
    (["--order", "9"], "order=9"),
    (["--Lambda0", "3"], "Lambda0"),
    (["--dim", "0"], "dim=0"),
    (["--mass", "-1"], "mass=-1"),
    (["--cutoff", "bump:eps=2,lambda_max=2"], "eps=2"),
    (["--mc-lams", "0.1,x"], "mc-lams"),
    (["--mc-traj", "3"], "mc_traj=3"),
    (["--theory", "phi99"], "coupling degree=99"),
])
def test_cli_report_bad_input_exit_2(tmp_path, capsys, args, needle):
    code, out, err = run_cli(["report", "--no-pdf", "--out", str(tmp_path / "r")] + args, capsys)
    assert code == 2
    assert needle in err
    assert not (tmp_path / "r" / "report.tex").exists()


def test_other_theory_marks_phi4_sections(tmp_path):
    res = build_report(ReportConfig(out=str(tmp_path), theory="phi4+phi6", order=1, quick=True, mc=False,
                                    flow=False, pdf=False))
    by = {s.key: s for s in res.sections}
    assert by["derivation"].available and "g6" in json.dumps(by["derivation"].data)
    assert not by["numeric"].available and not by["onemode"].available


def test_divergent_cutoff_is_reported_not_hidden(tmp_path):
    res = build_report(ReportConfig(out=str(tmp_path), cutoff="fermi:a=10", quick=True, mc=False,
                                    flow=False, pdf=False), sections=["numeric"])
    tex = res.tex.read_text()
    assert "divergent" in tex
    assert re.search(r"f0 & \\textbf\{divergent\}", tex)
