"""``ergsym report --lpa``: the LPA section (off by default, so the default report is unchanged)."""

import json

from ergsym.report import ReportConfig, build_report
from ergsym.report.build import SECTION_KEYS


def test_lpa_section(tmp_path):
    assert ReportConfig().lpa is False and "lpa" in SECTION_KEYS
    cfg = ReportConfig(out=str(tmp_path / "r"), quick=True, mc=False, flow=False, pdf=False, lpa=True)
    res = build_report(cfg, sections=["lpa"])
    sec = res.sections[0]
    assert sec.key == "lpa" and sec.available
    rows = sec.data["d3"]
    assert [(r["N"], r["equation"]) for r in rows] == [
        (n, e) for n in (1, 2, 3, 4) for e in ("polchinski", "wetterich")
    ]
    assert all(r["crosscheck"] == "agrees" and r["nu"]["converged"] for r in rows)
    assert abs(rows[0]["nu"]["value"] - 0.649561773880) < 1e-9  # hep-th/0701172
    assert (res.out / "figures" / "lpa_exponents.pdf").stat().st_size > 0
    data = json.loads(res.json.read_text())
    assert "lpa" in data["results"]["sections"] and data["parameters"]["lpa"] is True
    assert r"-{}-{}lpa" in res.tex.read_text()  # the reproducing command line (typeset by L.cmd)


def test_default_report_has_no_lpa_section(tmp_path):
    cfg = ReportConfig(out=str(tmp_path / "r"), quick=True, mc=False, flow=False, pdf=False)
    res = build_report(cfg, sections=["lpa", "errata"])
    assert [s.key for s in res.sections] == ["errata"]
