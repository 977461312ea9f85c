"""The report builds end to end (--quick), its text carries the derived tables, the PDF is clean.

One module-scoped ``--quick`` build is shared by every test.  TeX: the PDF checks run when
pdflatex is on PATH (CI installs it from Debian's packages, .ci/run) and are skipped with the
reason otherwise; the poppler checks (pdftotext, pdffonts) likewise.  The no-TeX path is
tested by hiding TeX.
"""

import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ergsym.cli import main
from ergsym.errors import InputError
from ergsym.report import HOW_TO_GET_TEX, ReportConfig, build_report, compile_pdf, find_tex
from ergsym.report.errata import ERRATA
from ergsym.report.latex import cmd, frac, paren, sig_round
from ergsym.report.symbolic_sections import PRINTED_LABEL, zero_dim_taylor
from ergsym.symbolic import PRINTED, monotone

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "r"
    t0 = time.perf_counter()
    steps = []
    res = build_report(ReportConfig(out=str(out), quick=True), progress=lambda i, n, label: steps.append((i, n, label)))
    return res, time.perf_counter() - t0, steps


def _results(res):
    return json.loads(res.json.read_text())


def _pdf_text(res):
    if find_tex()[0] is None or res.pdf is None:
        pytest.skip("no TeX on PATH (install latexmk/texlive-latex-base as .ci/run does)")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    return subprocess.run(
        ["pdftotext", "-layout", str(res.pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_quick_report_writes_everything(quick_report):
    res, seconds, steps = quick_report
    assert res.tex.exists() and res.json.exists()
    keys = [s.key for s in res.sections]
    assert keys == [
        "derivation",
        "comparison",
        "zerodim",
        "numeric",
        "figures",
        "lattice",
        "onemode",
        "flow",
        "sign_map",
        "errata",
        "diagrams",
    ]
    sm = next(s for s in res.sections if s.key == "sign_map")
    assert sm.available and {c["verdict"] for m in sm.data["maps"] for c in m["cells"]} <= {
        "positive",
        "negative",
        "undecided",
        "unreliable",
        "no flowing mode",
    }
    for s in res.sections:
        for f in s.figures:
            assert (res.out / f).stat().st_size > 1000, f
    # progress: one call per section (+ the PDF), then "done"
    idx = [i for i, _, _ in steps]
    assert idx == sorted(idx) and sorted(set(idx)) == list(range(len(keys) + 2))
    assert steps[-1][2] == "done"
    assert any(label.startswith("lattice Monte Carlo: lambda =") for _, _, label in steps)
    # no temporary directory is left next to the output
    assert not [p for p in res.out.parent.iterdir() if p.name.startswith(".r.")]
    assert seconds < 120, seconds  # generous bound against regressions (shared 2-core machine)


def test_json_envelope_and_no_placeholders(quick_report):
    res, _, _ = quick_report
    text = res.json.read_text()
    d = json.loads(text)  # strict: the file was written with allow_nan=False
    assert {"ergsym_version", "schema", "command", "parameters", "results", "warnings"} <= set(d)
    assert d["command"] == "report" and d["schema"].startswith("ergsym/")
    lat = d["results"]["sections"]["lattice"]["data"]
    # acceptances are the runs' own, never the 1.0 placeholder of a default
    for run, pt in zip(lat["runs"], lat["B"]):
        assert pt["acceptance"] == run["acceptance"] and 0 < run["acceptance"] <= 1
    assert "1e-300" not in text and "NaN" not in text and "Infinity" not in text


def test_diagrams_page_one_drawing_per_diagram(quick_report):
    """The diagrams section draws every linked O(lambda), O(lambda^2) diagram of the pieces."""
    from ergsym.symbolic.draw import piece_diagrams

    res, _, _ = quick_report
    sec = next(s for s in res.sections if s.key == "diagrams")
    assert sec.available and len(sec.figures) == 2
    # the oracle: the diagram engine itself, counted independently of the section
    groups = piece_diagrams("B", 2)
    for order, f in zip((1, 2), sec.figures):
        expected = sum(1 for ds in groups.values() for d in ds if sum(d.powers) == order)
        got = sec.data["orders"][str(order)]
        assert got["n_diagrams"] == expected == len(got["diagrams"]) == got["n_panels"] > 0
        assert (res.out / f).stat().st_size > 5000, f
        assert f in res.tex.read_text(encoding="utf-8")
        assert f"The {expected} linked diagrams at $O(\\lambda^{{{order}}})$" in sec.body


def test_figures_data_finite_and_nonempty(quick_report):
    res, _, _ = quick_report
    sec = _results(res)["results"]["sections"]
    scan = sec["figures"]["data"]["scan"]
    assert len(scan["Lambda"]) >= 3
    for fam in scan["families"].values():
        assert len(fam["value"]) == len(scan["Lambda"]) and all(math.isfinite(x) for x in fam["value"])
    om = sec["onemode"]["data"]
    assert all(math.isfinite(x) for x in om["A"] + om["B"]) and len(om["A"]) >= 5
    fl = sec["flow"]["data"]
    assert all(math.isfinite(x) for row in fl["B_flow_orders"] for x in row)


def test_tex_contains_derived_coefficients(quick_report):
    res, _, _ = quick_report
    tex = res.tex.read_text()
    for q in ("A", "B"):
        for t in monotone(2, q).terms:
            assert t.family.latex in tex
    for c, _p, _f in monotone(2, "A").coefficient(2):
        assert f"${frac(c)}$" in tex
    assert PRINTED_LABEL in tex


def test_printed_numbers_only_in_printed_columns(quick_report):
    """(5.15)'s 7/24 appears only in the printed column or right after "as printed"."""
    res, _, _ = quick_report
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
    assert n_table == 1


def test_numbers_consistent(quick_report):
    res, _, _ = quick_report
    d = _results(res)["results"]["sections"]
    rows = d["zerodim"]["data"]["rows"]
    assert rows and all(r["agrees"] for r in rows)
    exact = zero_dim_taylor(3, 0.7, 0.3)
    assert abs(rows[0]["engine"] - float(exact["A"][0])) < 1e-12
    # one mode at lam = 30: the report's integration equals an mpmath quadrature
    import mpmath as mp

    k, D, lam = 0.7, 0.3, 30
    w = lambda x: mp.exp(-(x**2) / (2 * k) - lam * x**4 / 24)  # noqa: E731
    z = mp.quad(w, [-mp.inf, 0, mp.inf])
    phi2 = mp.quad(lambda x: x**2 * w(x), [-mp.inf, 0, mp.inf]) / z
    sig2 = mp.quad(lambda x: (-x / k + lam * x**3 / 6) ** 2 * w(x), [-mp.inf, 0, mp.inf]) / z
    B = float(-D / 2 * sig2 + D * phi2 / k**2)
    probe = d["onemode"]["data"]["probe"]["B"]
    assert abs(probe[0] - B) <= max(probe[1], 1e-9)
    # B's sign change is a root (Brent), not a grid point: mpmath's root of the same integral
    star = d["onemode"]["data"]["B_sign_change"]

    def Bf(lam):
        w = lambda x: mp.exp(-(x**2) / (2 * k) - lam * x**4 / 24)  # noqa: E731
        z = mp.quad(w, [-mp.inf, 0, mp.inf])
        p2 = mp.quad(lambda x: x**2 * w(x), [-mp.inf, 0, mp.inf]) / z
        s2 = mp.quad(lambda x: (-x / k + lam * x**3 / 6) ** 2 * w(x), [-mp.inf, 0, mp.inf]) / z
        return -D / 2 * s2 + D * p2 / k**2

    root = float(mp.findroot(Bf, star["value"]))
    assert abs(star["value"] - root) < 1e-6 and 26.0 < root < 26.3
    # A != B: the finite-difference derivative of the exactly evolved M is B, not A
    fd = d["derivation"]["data"]["one_mode_flow"]["rows"]
    assert [r["lam"] for r in fd] == [0.0, 30.0]
    assert all(r["B_matches"] and not r["A_matches"] for r in fd)
    assert all(r["B_verdict"] == "agrees" and r["A_verdict"] == "disagrees" for r in fd)
    # the lattice section's verdicts are words computed from the numbers (never a bare boolean)
    lat = d["lattice"]["data"]["verdict"]
    words = {"agrees", "disagrees", "inconclusive", "exact", "nothing compared"}
    assert {lat["A"], lat["B"], lat["run"], lat["printed_5_15"]} <= words and lat["reason"]
    assert all(
        p["verdict"] in words and set(p["error_budget"]) == {"statistical", "quadrature", "truncation", "total"}
        for p in d["lattice"]["data"]["B"]
    )
    # the free part of M along the flow integrates to its closed form
    fl = d["flow"]["data"]
    scale = max(abs(x) for x in fl["M_free_closed_form"])
    assert fl["free_integration_max_deviation"] < 1e-2 * scale


def test_pdf_fonts_scalable(quick_report):
    res, _, _ = quick_report
    _pdf_text(res)
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts (poppler-utils) not installed")
    fonts = subprocess.run(["pdffonts", str(res.pdf)], capture_output=True, text=True, check=True).stdout
    assert "Type 3" not in fonts, fonts
    assert "LMRoman" in fonts  # Latin Modern text


def test_pdf_text_clean(quick_report):
    res, _, _ = quick_report
    text = _pdf_text(res)
    assert "coefficients" in text and "cutoff" in text  # ligatures extract as letters
    for bad in ("seed", "SPEC", "NaN", "nan ", "1e-300", "10−300", "P_1", "P1 "):
        assert bad not in text, bad
    assert not [w for w in res.warnings if "overfull" in w.lower()], res.warnings
    log = res.tex.with_suffix(".log").read_text(errors="replace")
    wide = [float(x) for x in re.findall(r"Overfull \\hbox \(([0-9.]+)pt", log)]
    assert all(x <= 5 for x in wide), wide
    info = subprocess.run(["pdfinfo", str(res.pdf)], capture_output=True, text=True).stdout
    assert "Cotler-Rezchikov" in info


def test_every_printed_command_runs(quick_report, tmp_path):
    """Every command line in the PDF is exactly a command that exists; each runs and exits 0.

    The errata commands are run (and their output checked) by tests/test_report_errata.py;
    here they are matched byte for byte against that list, and the reproduce command is run.
    """
    res, _, _ = quick_report
    text = _pdf_text(res)
    token = r"[\w./=,:+-]+"
    printed = [ln.strip() for ln in text.splitlines() if re.fullmatch(rf"\s*(ergsym|python)( {token})+\s*", ln)]
    errata_cmds = {c for e in ERRATA for c in e["commands"]}
    reproduce = [c for c in printed if c.startswith("ergsym report")]
    assert reproduce == ["ergsym report --quick"], reproduce
    others = [c for c in printed if not c.startswith("ergsym report")]
    assert others and set(others) <= errata_cmds, set(others) - errata_cmds
    assert errata_cmds <= set(others), errata_cmds - set(others)
    assert "–" not in "".join(printed)  # no en-dash from a "--" ligature
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    args = shlex.split(reproduce[0])
    proc = subprocess.run(
        [sys.executable, "-m", "ergsym"] + args[1:], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "ergsym-report" / "report.tex").exists()
    assert "Traceback" not in proc.stderr


def test_no_tex_says_how_to_get_it(quick_report, tmp_path):
    res, _, _ = quick_report
    out = compile_pdf(res.tex, env={"PATH": str(tmp_path)})
    assert not out.ok and out.pdf is None and out.tool is None
    assert out.message == HOW_TO_GET_TEX and "apt-get install" in out.message


def test_existing_report_needs_force(quick_report):
    res, _, _ = quick_report
    with pytest.raises(InputError, match="--force"):
        build_report(ReportConfig(out=str(res.out), quick=True, pdf=False), sections=["errata"])
    assert (res.out / "report.pdf").exists() == (res.pdf is not None)  # untouched


def test_force_replaces_atomically(tmp_path):
    out = tmp_path / "r"
    build_report(ReportConfig(out=str(out), pdf=False), sections=["errata"])
    (out / "stale.txt").write_text("from an earlier run")
    build_report(ReportConfig(out=str(out), pdf=False, force=True), sections=["comparison"])
    assert not (out / "stale.txt").exists() and (out / "report.tex").exists()
    assert "comparison" in json.loads((out / "report.json").read_text())["results"]["sections"]
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


def test_foreign_directory_is_refused(tmp_path):
    (tmp_path / "mine.txt").write_text("x")
    with pytest.raises(InputError, match="other files"):
        build_report(ReportConfig(out=str(tmp_path), pdf=False), sections=["errata"])
    assert (tmp_path / "mine.txt").exists()


def run_cli(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    cap = capsys.readouterr()
    return exc.value.code, cap.out, cap.err


def test_cli_unwritable_out_exit_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, out, err = run_cli(["report", "--no-pdf", "--out", str(blocker / "sub")], capsys)
    assert code == 2 and "out" in err and "Traceback" not in err


def test_cli_report_minimal(tmp_path, capsys):
    code, out, err = run_cli(
        ["report", "--quick", "--no-mc", "--no-flow", "--no-pdf", "--out", str(tmp_path / "r"), "--json"], capsys
    )
    assert code == 0, err
    d = json.loads(out)
    assert d["command"] == "report" and d["results"]["pdf"] is None
    assert (tmp_path / "r" / "report.tex").exists()
    assert "lattice" not in d["results"]["sections"] and "flow" not in d["results"]["sections"]
    assert "[1/" in err  # line-based progress when stderr is not a terminal


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--order", "9"], "order=9"),
        (["--Lambda0", "3"], "Lambda0"),
        (["--dim", "0"], "dim=0"),
        (["--mass", "-1"], "mass=-1"),
        (["--cutoff", "bump:eps=2,lambda_max=2"], "eps=2"),
        (["--mc-lams", "0.1,x"], "--mc-lam"),
        (["--n-traj", "3"], "mc_traj=3"),
        (["--theory", "phi99"], "coupling degree=99"),
    ],
)
def test_cli_report_bad_input_exit_2(tmp_path, capsys, args, needle):
    code, out, err = run_cli(["report", "--no-pdf", "--out", str(tmp_path / "r")] + args, capsys)
    assert code == 2
    assert needle in err
    assert not (tmp_path / "r" / "report.tex").exists()


def test_other_theory_marks_phi4_sections(tmp_path):
    res = build_report(
        ReportConfig(out=str(tmp_path), theory="phi4+phi6", order=1, quick=True, mc=False, flow=False, pdf=False)
    )
    by = {s.key: s for s in res.sections}
    assert by["derivation"].available and "g6" in json.dumps(by["derivation"].data)
    assert not by["numeric"].available and not by["onemode"].available


def test_divergent_cutoff_is_reported_not_hidden(tmp_path):
    res = build_report(
        ReportConfig(out=str(tmp_path), cutoff="fermi:a=10", quick=True, mc=False, flow=False, pdf=False),
        sections=["numeric"],
    )
    tex = res.tex.read_text()
    assert "divergent" in tex


@pytest.mark.parametrize("spec", ["fermi:a=10", "exp:n=2"])
def test_smooth_cutoffs_draw(tmp_path, spec):
    from ergsym.cutoffs import parse_cutoff
    from ergsym.report.numeric_sections import plot_cutoff

    facts = plot_cutoff(parse_cutoff(spec), 1.0, tmp_path / "c.pdf")
    assert (tmp_path / "c.pdf").stat().st_size > 1000
    a, b = facts["support"]
    assert 0 <= a < b and math.isfinite(facts["max_dK"]) and facts["max_dK"] > 0


def test_commands_and_numbers_typeset():
    assert cmd("ergsym report --out x") == r"\texttt{ergsym report -{}-{}out x}"
    # rounded to two significant digits of the error; zero error says "exact"
    assert sig_round(1.23456789, 0.00012) == r"1.23457\pm0.00012"
    assert sig_round(-0.0359123, 3.3e-7) == r"-0.03591230\pm0.00000033"
    assert "exact" in sig_round(0.5, 0.0)
    with pytest.raises(ValueError):
        sig_round(float("nan"), 1.0)
    # the tables' one format: value(error in the last digits)
    assert paren(73.03985392, 1.0e-9) == "73.0398539200(10)"
    assert paren(6.5071564386e-5, 1.1e-14) == r"6.5071564386(11)\times10^{-5}"
    assert paren(-0.0359053, 3.0e-7) == "-0.03590530(30)"
    assert "exact" in paren(2.0, 0.0)


def test_one_mode_finite_difference_is_B_not_A():
    """-Lambda dM/dLambda of the exactly evolved one-mode M (log-sum-exp quadrature) is B."""
    from ergsym.report.lattice_sections import one_mode_exact
    from ergsym.report.onemode_flow import one_mode_minus_dM

    for lam in (0.0, 30.0):
        fd, e = one_mode_minus_dM(0.7, 0.3, lam)
        ex = one_mode_exact(0.7, 0.3, lam)
        assert abs(fd - ex["B"][0]) <= 4 * (e + ex["B"][1]) + 1e-12
        assert abs(fd - ex["A"][0]) > 0.3
    # free field: B = D/(2k) exactly (closed form)
    assert one_mode_minus_dM(0.7, 0.3, 0.0)[0] == pytest.approx(0.3 / 1.4, abs=1e-10)


def test_interrupted_build_leaves_the_old_report(tmp_path, monkeypatch):
    """A build that fails half-way (here: KeyboardInterrupt in a section) changes nothing on disk."""
    from ergsym.report import build as B

    out = tmp_path / "r"
    build_report(ReportConfig(out=str(out), pdf=False), sections=["errata"])
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    def boom(cfg, ctx):
        raise KeyboardInterrupt

    real = B._section_builders
    monkeypatch.setattr(B, "_section_builders", lambda: {**real(), "comparison": boom})
    with pytest.raises(KeyboardInterrupt):
        build_report(ReportConfig(out=str(out), pdf=False, force=True), sections=["errata", "comparison"])
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["r"]  # no temporary directory left
