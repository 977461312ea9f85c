"""``ergsym report --N``: the O(N) report end to end, and N = 1 exactly as before.

* one module-scoped N = 3 build (``--quick``, no PDF, a short Monte Carlo on 8x8; the figure,
  diagram and LPA sections are left out: they only draw) checked against ``ergsym monotone --N 3``
  (the same series and values), with the paper's comparisons absent and labelled;
* the N = 1 sections equal those built before ``--N`` existed (tests/data/report_n1_reference.json,
  generated from commit be3a429 by tests/make_report_n1_reference.py): JSON data and LaTeX;
* the pieces of the O(N) report that are new numerics, each against an independent oracle:
  the zero-dimensional Taylor coefficients against the brute-force O(N) expansion, and the
  one-site exact-flow finite difference against the direct integral (it singles out B, not A);
* bad ``--N`` exits 2 naming ``--N``.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from ergsym.cli import main
from ergsym.report import ReportConfig, build_report
from ergsym.report.build import command_line
from ergsym.report.latex import cmd

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "data" / "report_n1_reference.json"
MC_LATTICE, MC_CUTOFF = "8x8", "bump:eps=0.5,lambda_max=2"
#: the N = 3 build: every section that computes numbers, and the ones that only explain
N3_SECTIONS = ("derivation", "comparison", "zerodim", "numeric", "lattice", "onemode", "flow", "sign_map", "errata")


def _monotone_json(*args):
    """``ergsym monotone ... --json`` in a subprocess (the CLI a user would run), parsed strictly."""
    out = subprocess.run(
        [sys.executable, "-m", "ergsym", "monotone", *args, "--json"], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out)


@pytest.fixture(scope="module")
def n3(tmp_path_factory):
    out = tmp_path_factory.mktemp("on") / "r"
    cfg = ReportConfig(
        out=str(out),
        N=3,
        quick=True,
        pdf=False,
        mc_lattice=MC_LATTICE,
        mc_cutoff=MC_CUTOFF,
        mc_lams=(0.05, 0.2),
        mc_traj=300,
    )
    res = build_report(cfg, sections=N3_SECTIONS)
    return cfg, res, json.loads(res.json.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_n3_recorded_everywhere(n3):
    cfg, res, d = n3
    assert d["parameters"]["N"] == 3 and d["parameters"]["theory"] == "phi4"
    secs = d["results"]["sections"]
    assert tuple(secs) == N3_SECTIONS
    for key, s in secs.items():
        data = s["data"]
        if key == "derivation":  # the engine's series carry their theory, N included
            assert data["N"] == 3 and data["A"]["theory"]["N"] == 3 and data["B"]["theory"]["N"] == 3
            assert data["one_mode_flow"]["N"] == 3
        else:
            assert data.get("N") == 3, key
    tex = res.tex.read_text(encoding="utf-8")
    assert r"\title{ergsym report: the Cotler--Rezchikov RG monotone for the " in tex and "O($3$) model" in tex
    assert r"components $N$" in tex and "This report is for the O($3$) model" in tex
    assert command_line(cfg).startswith("ergsym report --N 3 ")


@pytest.mark.slow
def test_n3_series_and_numbers_are_those_of_monotone(n3):
    cfg, res, d = n3
    secs = d["results"]["sections"]
    # the derivation's series are exactly `ergsym monotone --N 3`'s
    for form in ("A", "B"):
        ref = _monotone_json("--N", "3", "--order", str(cfg.order), "--form", form)["results"][form]
        assert secs["derivation"]["data"][form] == ref, form
    # ... and the polynomials in N are `ergsym monotone --N N`'s, equal to them at N = 3
    poly = secs["derivation"]["data"]["polynomials_in_N"]
    assert poly["agree_at_N"] is True
    for form in ("A", "B"):
        ref = _monotone_json("--N", "N", "--order", str(cfg.order), "--form", form)["results"][form]
        assert poly[form] == ref, form
    # the numbers at Lambda0: the same values per order as `ergsym monotone --N 3` with a cutoff
    ref = _monotone_json(
        "--N", "3", "--order", "2", "--form", "B", "--cutoff", cfg.cutoff, "--dim", "4", "--mass", "1", "--Lambda", "1"
    )["results"]["quantities"]["B"]["coefficients"]
    got = secs["numeric"]["data"]["quantities"]["B"]["orders"]
    assert len(got) == len(ref) == 3
    for g, r in zip(got, ref):
        assert g["value"] == pytest.approx(r["value"]["value"], rel=1e-12, abs=1e-15)
    # the lattice coefficients: `ergsym monotone --N 3 --lattice 8x8` (exact lattice sums)
    lat = secs["lattice"]["data"]
    for form in ("A", "B"):
        ref = _monotone_json(
            "--N", "3", "--order", str(lat["order"]), "--form", form, "--lattice", MC_LATTICE,
            "--cutoff", MC_CUTOFF, "--mass", "1", "--Lambda", "1",
        )["results"]["quantities"][form]["coefficients"]  # fmt: skip
        assert lat["coefficients"][form] == pytest.approx([c["value"]["value"] for c in ref], rel=1e-12)
    # ... which are not the N = 1 ones (c0 = N times, c1 = N(N+2)/3 times the N = 1 values)
    one = _monotone_json(
        "--order", "1", "--form", "B", "--lattice", MC_LATTICE, "--cutoff", MC_CUTOFF, "--mass", "1", "--Lambda", "1"
    )["results"]["quantities"]["B"]["coefficients"]
    assert lat["coefficients"]["B"][0] == pytest.approx(3 * one[0]["value"]["value"], rel=1e-12)
    assert lat["coefficients"]["B"][1] == pytest.approx(5 * one[1]["value"]["value"], rel=1e-12)
    # the Monte Carlo of the 3-component field against those coefficients (z-scores, a verdict)
    assert lat["verdict"]["B"] in ("agrees", "inconclusive"), lat["verdict"]
    assert all(abs(p["z"]) < 4 for p in lat["B"] + lat["A"] if p["z"] is not None)
    # the free values of one site with 3 components: 3 x (1/2 D/k) and 3 x (3/2 D/k)
    om = secs["onemode"]["data"]
    assert om["B"][0] == pytest.approx(3 * 0.5 * om["D"] / om["k"], rel=1e-12)
    assert om["A"][0] == pytest.approx(3 * 1.5 * om["D"] / om["k"], rel=1e-12)
    assert om["series_coefficients"]["B"][0] == pytest.approx(om["B"][0], rel=1e-12)


@pytest.mark.slow
def test_n3_paper_comparisons_absent_and_labelled(n3):
    cfg, res, d = n3
    secs = d["results"]["sections"]
    for key in ("comparison", "errata"):
        s = secs[key]
        assert not s["available"] and "(paper, N = 1)" in s["title"]
        assert "N = 1" in s["data"]["reason"] and "N = 3" in s["data"]["reason"]
    by = {s.key: s for s in res.sections}
    for key in ("comparison", "errata"):  # one sentence, the option typeset so that it pastes
        assert "Absent for $N=3$" in by[key].body and cmd("--N 1") in by[key].body
    # no printed number anywhere: no "as printed" column, no (5.15) comparison in the lattice data
    tex = res.tex.read_text(encoding="utf-8")
    assert "as printed" not in tex
    lat = secs["lattice"]["data"]
    assert not any("printed" in k for k in lat) and "printed_5_15" not in lat["verdict"]
    assert all("printed_in_0d" not in r for r in secs["zerodim"]["data"]["rows"])
    # sections that cannot do N = 3 yet say so (PDF and JSON); once they can, they carry N = 3
    for key in ("flow", "sign_map"):
        s = secs[key]
        if s["available"]:
            assert s["data"]["N"] == 3
        else:
            assert "N > 1" in s["data"]["reason"] or "O(N)" in s["data"]["reason"]
            assert "Not available for $N=3$" in by[key].body and cmd("--N 1") in by[key].body


@pytest.mark.slow
def test_n1_sections_equal_the_report_before_n(tmp_path):
    """N = 1 (default and explicit) reproduces the JSON data and the LaTeX of the sections built
    before ``--N`` existed (commit be3a429; tests/make_report_n1_reference.py)."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from make_report_n1_reference import SECTIONS, build
    finally:
        sys.path.pop(0)
    ref = json.loads(REFERENCE.read_text(encoding="utf-8"))["sections"]
    assert tuple(ref) == tuple(sorted(SECTIONS)) or set(ref) == set(SECTIONS)
    for i, extra in enumerate(({}, {"N": 1})):
        got = build(str(tmp_path / f"r{i}"), **extra)
        for key in SECTIONS:
            assert got[key]["title"] == ref[key]["title"] and got[key]["available"] == ref[key]["available"]
            assert got[key]["body"] == ref[key]["body"], key
            _assert_close(got[key]["data"], ref[key]["data"], key)
    assert "N" not in ReportConfig().to_dict() and ReportConfig().to_dict() == ReportConfig(N=1).to_dict()
    assert "--N" not in command_line(ReportConfig())


def _assert_close(a, b, path):
    """Equal JSON, floats to 1e-12 relative (exact-rational strings and words exactly)."""
    if isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-300), path
    elif isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            _assert_close(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_close(x, y, f"{path}[{i}]")
    else:
        assert a == b, path


@pytest.mark.parametrize("N", [2, 3])
def test_zero_dim_oracle_with_n_components(N):
    """The report's zero-dimensional O(N) Taylor coefficients (radial Gaussian moments) equal the
    brute-force expansion on the N variables of one site (ergsym.symbolic.oracle), exactly."""
    from ergsym.report.symbolic_sections import zero_dim_taylor
    from ergsym.symbolic.oracle import exact_expansion

    k, D = Fraction(7, 10), Fraction(3, 10)
    got = zero_dim_taylor(3, k, D, N=N)
    for q in ("A", "B"):
        assert got[q] == list(exact_expansion([[k]], [[D]], 3, q, n_components=N)), q
    # by hand: free values N/2 D/k and 3N/2 D/k; at O(lam), with <r^2> = N k - N(N+2) lam k^3/6 + ...,
    # <r^4>_0 = N(N+2) k^2 and <S'.S'> = <r^2>/k^2 - lam <r^4>/(3k) + ...:
    assert got["B"][0] == Fraction(N, 2) * D / k and got["A"][0] == Fraction(3 * N, 2) * D / k
    r2_1 = -Fraction(N * (N + 2), 6) * k**3  # [<r^2>]_lam
    r4_0 = N * (N + 2) * k**2  # [<r^4>]_0
    sig_1 = r2_1 / k**2 - r4_0 / (3 * k)  # [<S'.S'>]_lam
    assert got["B"][1] == -D / 2 * sig_1 + D * r2_1 / k**2
    assert got["A"][1] == D / 2 * sig_1 + D * r2_1 / k**2


@pytest.mark.slow
def test_one_site_exact_flow_singles_out_b_with_n_components():
    """-Lambda dM/dLambda of one site with N = 3 components along the exact flow (three-dimensional
    Gauss rule, this module's code) agrees with B of the direct radial integral (the lattice
    quadrature's code) and disagrees with A, at lam = 0 and at strong coupling."""
    from ergsym.report.symbolic_sections import one_mode_flow_rows

    rows = one_mode_flow_rows(0.7, 0.3, (0.0, 30.0), N=3)
    for r in rows:
        assert r["B_verdict"] == "agrees" and r["A_verdict"] == "disagrees", r
        assert abs(r["fd"][0] - r["B"][0]) <= 5 * math.hypot(r["fd"][1], r["B"][1])
    assert rows[0]["fd"][0] == pytest.approx(3 * 0.5 * 0.3 / 0.7, rel=1e-9)
    assert rows[1]["fd"][0] < 0  # B < 0 at lam = 30 for N = 3 as well
    # the N = 1 rule is not what N = 3 gives: the same call with N = 1 disagrees with N = 3's B
    one = one_mode_flow_rows(0.7, 0.3, (30.0,))[0]
    assert abs(one["fd"][0] - rows[1]["B"][0]) > 100 * rows[1]["fd"][1]


@pytest.mark.parametrize("bad", ["0", "2.5", "-1", "x", "N", "1025"])
def test_bad_n_exits_2_naming_the_option(bad, tmp_path, capsys):
    out = tmp_path / "r"
    with pytest.raises(SystemExit) as exc:
        main(["report", "--N", bad, "--no-pdf", "--quick", "--out", str(out)])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "--N" in err and "Traceback" not in err, err
    assert not out.exists()


def test_bad_n_in_the_api_is_refused_before_work(tmp_path):
    from ergsym.errors import InputError

    for bad in (0, 2.5, -1, "x", True):
        with pytest.raises(InputError, match="N"):
            build_report(ReportConfig(out=str(tmp_path / "r"), N=bad, pdf=False), sections=["errata"])
        assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_lattice_section_with_n_is_the_same_on_a_scheduler(tmp_path):
    """The lattice section's N = 3 Monte Carlo as one batch (``--scheduler``) gives the numbers of
    the loop in this process, bitwise (same seeds), and the batch carries N = 3."""
    got = {}
    for sch in (None, "inprocess"):
        cfg = ReportConfig(out=str(tmp_path / f"r{sch}"), N=3, quick=True, pdf=False, mc_lattice="8x8", mc_traj=60)
        data = build_report(cfg, sections=["lattice"], scheduler=sch).sections[0].data
        assert data["N"] == 3
        got[sch] = [(p["mc"]["value"], p["mc"]["error"]) for p in data["B"] + data["A"]]
    assert got[None] == got["inprocess"]


@pytest.mark.slow
def test_flow_section_with_n_components(tmp_path):
    """Along the flow with N = 3: the flowed series' coefficients are those of the O(3) model, N
    and N(N+2)/3 times the N = 1 ones at O(1) and O(lam) (the tadpole weight), and the free part of
    M_Lambda - M_Lambda0 is N times one component's closed form."""
    import numpy as np

    data = {}
    for n in (1, 3):
        cfg = ReportConfig(out=str(tmp_path / f"r{n}"), N=n, quick=True, pdf=False)
        sec = build_report(cfg, sections=["flow"]).sections[0]
        assert sec.available, sec.body
        data[n] = sec.data
    assert data[3]["N"] == 3 and "N" not in data[1]
    b1, b3 = np.array(data[1]["B_flow_orders"]), np.array(data[3]["B_flow_orders"])
    on = np.abs(b1[:, 0]) > 1e-12  # scales where some momentum lies in the support of dK
    assert on.sum() > 10
    assert b3[on, 0] == pytest.approx(3 * b1[on, 0], rel=1e-12)
    assert b3[on, 1] == pytest.approx(5 * b1[on, 1], rel=1e-12)
    assert not np.allclose(b3[on, 2], 3 * b1[on, 2]) and not np.allclose(b3[on, 2], 5 * b1[on, 2])
    assert np.array(data[3]["M_free_closed_form"]) == pytest.approx(3 * np.array(data[1]["M_free_closed_form"]))


def test_one_site_flow_refuses_what_its_rule_cannot_reach(tmp_path):
    """With many components at strong coupling W pulls P_Lambda below the first node of the
    Gamma(N/2) rule: n and 3n/2 nodes then agree on a wrong number (N = 128, lam = 30 gave the free
    value 27.43 with an error of 2e-9, while the direct integral gives B = -398.4).  It raises
    instead, and the report's derivation says that the finite difference is not computed."""
    from ergsym.errors import ConvergenceError
    from ergsym.report.lattice_sections import one_mode_exact
    from ergsym.report.onemode_flow import one_mode_minus_dM

    with pytest.raises(ConvergenceError, match="N=128"):
        one_mode_minus_dM(0.7, 0.3, 30.0, n=100, N=128)
    assert one_mode_exact(0.7, 0.3, 30.0, N=128)["B"][0] < -100  # what it would have missed
    # where the rule reaches P it is kept, with an honest error (N = 24, lam = 30: error 9e-3)
    fd = one_mode_minus_dM(0.7, 0.3, 30.0, n=100, N=24)
    ex = one_mode_exact(0.7, 0.3, 30.0, N=24)["B"]
    assert abs(fd[0] - ex[0]) <= 2 * fd[1] + ex[1] and fd[1] < 0.05
    sec = build_report(ReportConfig(out=str(tmp_path / "r"), N=1000, pdf=False, mc=False), sections=["derivation"])
    data = sec.sections[0].data
    assert "one_mode_flow" not in data and "N=1000" in data["one_mode_flow_unavailable"]["reason"]
    assert "is not computed" in sec.sections[0].body


@pytest.mark.slow
def test_n3_pdf_reads_right(tmp_path):
    """The PDF of an N = 3 report (the sections that say most about N): the O(3) title, the
    absent comparisons labelled "(paper, N = 1)", options that paste as typed, no "as printed"."""
    import shutil

    from ergsym.report import find_tex

    if find_tex()[0] is None:
        pytest.skip("no TeX on PATH (install latexmk/texlive-latex-base as .ci/run does)")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    cfg = ReportConfig(out=str(tmp_path / "r"), N=3, quick=True, mc=False)
    res = build_report(cfg, sections=["derivation", "comparison", "zerodim", "flow", "sign_map", "errata"])
    assert res.pdf is not None, res.compile.message
    text = subprocess.run(["pdftotext", str(res.pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    assert "monotone for the O(3) model" in flat and "the O(3) model: the field has 3 components" in flat
    assert flat.count("(paper, N = 1)") >= 2 and "Absent for N = 3" in flat
    assert "--N 1" in flat and "\u2013N" not in flat  # two hyphens, never an en dash
    assert "ergsym report --N 3 --quick --no-mc" in flat
    assert "as printed" not in flat and "One site with 3 components" in flat


@pytest.mark.slow
def test_sign_map_section_with_n_components(tmp_path):
    """The sign map of an N = 3 report (``flow --method mc`` with 3 components): every cell's free
    value is 3 times that of one component, and the cells carry their verdicts."""
    maps = {}
    for n in (1, 3):
        cfg = ReportConfig(out=str(tmp_path / f"r{n}"), N=n, quick=True, pdf=False)
        sec = build_report(cfg, sections=["sign_map"]).sections[0]
        assert sec.available, sec.body
        maps[n] = sec.data["maps"][0]["cells"]
    for c1, c3 in zip(maps[1], maps[3], strict=True):
        assert (c1["lam"], c1["ratio"]) == (c3["lam"], c3["ratio"])
        assert c3["B_free"] == pytest.approx(3 * c1["B_free"], rel=1e-12)
        assert c3["verdict"] in ("positive", "negative", "undecided", "unreliable", "no flowing mode")


def test_many_components_refused_before_the_sign_map_runs(tmp_path, capsys, monkeypatch):
    """The sign map's cost grows linearly with N (flow --method mc): --N 1000 is refused up front
    (exit 2, naming --N and --sign-map off), and nothing is written."""
    import ergsym.report
    from ergsym.report.sign_map_section import sign_map_seconds

    def no_build(*args, **kwargs):  # a regression fails here at once instead of running ~25 min
        raise AssertionError("the report was built: --N 1000 should have been refused up front")

    monkeypatch.setattr(ergsym.report, "build_report", no_build)

    s1, s3 = sign_map_seconds(ReportConfig(quick=True)), sign_map_seconds(ReportConfig(quick=True, N=3))
    assert s3 == pytest.approx(3 * s1, rel=1e-12)
    assert sign_map_seconds(ReportConfig(quick=True, N=3, sign_map="off")) == 0.0
    out = tmp_path / "r"
    with pytest.raises(SystemExit) as exc:
        main(["report", "--N", "1000", "--quick", "--no-pdf", "--no-mc", "--out", str(out)])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "--N" in err and "--sign-map off" in err, err
    assert not out.exists()
