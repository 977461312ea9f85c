"""docs/errata.md is generated from ergsym.report.errata, and every command in it shows what it says.

Each erratum lists shell commands; ``ERRATA[i]["expect"]`` gives strings the output must contain
and ``exit_codes`` the expected exit status (default 0).  The nested ``python -m pytest ...``
command is not rerun here: the suite runs that test file itself.
"""

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from ergsym.report.errata import ERRATA, to_markdown

ROOT = Path(__file__).resolve().parents[1]
CASES = [(e["id"], c) for e in ERRATA for c in e["commands"] if " -m pytest" not in c]


def test_errata_page_is_current():
    doc = (ROOT / "docs" / "errata.md").read_text(encoding="utf-8")
    assert doc == to_markdown(), "regenerate: python -m ergsym.report.errata > docs/errata.md"


def test_every_erratum_has_a_checked_command():
    for e in ERRATA:
        assert e["commands"] and any(c in e.get("expect", {}) for c in e["commands"]), e["id"]


@pytest.mark.parametrize("eid,command", CASES, ids=[f"{i}:{c[:40]}" for i, c in CASES])
def test_errata_command(eid, command):
    e = next(x for x in ERRATA if x["id"] == eid)
    args = shlex.split(command)
    if args[0] == "ergsym":
        argv = [sys.executable, "-c", "from ergsym.cli import main; main()"] + args[1:]
    else:
        assert args[0] == "python"
        argv = [sys.executable] + args[1:]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == e.get("exit_codes", {}).get(command, 0), proc.stdout + proc.stderr
    for s in e.get("expect", {}).get(command, []):
        assert s in proc.stdout + proc.stderr, (s, proc.stdout[-2000:], proc.stderr[-2000:])
