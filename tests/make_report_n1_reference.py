"""Regenerate tests/data/report_n1_reference.json: the N = 1 report before ``--N`` existed.

The stored file was generated from the tree of commit be3a429 (the last commit before
``ergsym report --N``), so ``tests/test_on_report.py`` checks that adding O(N) models left
every N = 1 number and every line of LaTeX of the deterministic sections unchanged:

    git archive be3a429 ergsym | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old python tests/make_report_n1_reference.py

It builds the report's cheap deterministic sections (no Monte Carlo, no figures) with the
defaults of ``ergsym report --quick`` and stores, per section, its title, ``available``, the
JSON data and the LaTeX body.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "data" / "report_n1_reference.json"
#: the sections compared: deterministic, and cheap (about 2 s together)
SECTIONS = ("derivation", "comparison", "zerodim", "onemode")


def build(out_dir: str, **extra) -> dict:
    """``{key: {"title", "available", "data", "body"}}`` of :data:`SECTIONS` (``extra``: more
    :class:`~ergsym.report.ReportConfig` fields, e.g. ``N=1``)."""
    from ergsym.report import ReportConfig, build_report

    cfg = ReportConfig(out=out_dir, quick=True, mc=False, flow=False, pdf=False, **extra)
    res = build_report(cfg, sections=SECTIONS)
    return {
        s.key: {"title": s.title, "available": s.available, "data": json.loads(json.dumps(s.data)), "body": s.body}
        for s in res.sections
    }


def main() -> None:
    import ergsym

    with tempfile.TemporaryDirectory() as tmp:
        got = build(str(Path(tmp) / "r"))
    try:
        commit = subprocess.run(
            ["git", "-C", str(Path(ergsym.__file__).parent), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
    except OSError:  # pragma: no cover
        commit = ""
    doc = {
        "provenance": {
            "generator": "tests/make_report_n1_reference.py",
            "note": "generated from the tree of commit be3a429 (before ergsym report --N)",
            "git_head_of_generating_tree": commit or None,
        },
        "sections": got,
    }
    OUT.write_text(json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
