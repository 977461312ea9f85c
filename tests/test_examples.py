"""Every script in worked_examples/ runs in its fast mode and succeeds (exit status 0).

Each example checks its own result and exits 1 if the check fails, so this test fails when an
example's physics check does.  New examples (e.g. flow_monotone.py) are picked up
automatically; they must accept ``--fast``.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "worked_examples").glob("*.py"))

EXPECT = {  # a line each example must print (its headline result)
    "free_field_monotone.py": "-Lambda dM/dLambda matches B",
    "reproduce_sec5.py": "the exact expansion agrees with the engine: True",
    "one_mode_strong_coupling.py": "B = -0.0359",
    "integrals_vs_Lambda_eps.py": "(B7) decreases with Lambda",
    "lattice_crosscheck.py": "max |z|",
    "flow_monotone.py": "B series matches -Lambda dM/dLambda, A does not: True",
}


def test_examples_exist():
    names = {p.name for p in EXAMPLES}
    assert set(EXPECT) <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path):
    proc = subprocess.run([sys.executable, str(path), "--fast"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    if path.name in EXPECT:
        assert EXPECT[path.name] in proc.stdout, proc.stdout[-3000:]
