"""Stored outputs of the former flow evaluator (tests/legacy_flow_continuum.py) for
tests/test_flow_numeric.py::test_numeric_layer_path_agrees_with_former_evaluator.

The test compares the numeric-layer path with the former evaluator; re-running the former
evaluator took ~90 % of that test's time, so its values (and error estimates) are stored in
tests/data/flow_legacy_reference.json by this script, with the commit and the command.

Run:  PYTHONPATH=$PWD python tests/make_flow_reference.py     (a few minutes on 2 shared cores)
"""

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from legacy_flow_continuum import FlowScales as OldScales  # noqa: E402
from legacy_flow_continuum import family_value_continuum as old_value  # noqa: E402

CUT = "bump:eps=0.1,lambda_max=2"
CASES = [(4, 1.0, 1.0, 0.6), (3, 0.5, 1.2, 0.9), (2, 1.0, 1.0, 0.95)]
OUT = HERE / "data" / "flow_legacy_reference.json"


def case_key(dim, mass, L0, L):
    return f"dim={dim},mass={mass!r},Lambda0={L0!r},Lambda={L!r}"


def flow_families():
    """The families the comparison covers (every melon family and L[Δ], f0, t1·L[Δ])."""
    from ergsym.flow import flow_monotone, running_couplings

    fams = {t.family for t in flow_monotone(2, "B").terms}
    for s in running_couplings(2).values():
        fams |= {t.family for t in s.terms}
    return [
        f
        for f in sorted(fams, key=lambda f: f.name)
        if any(b.kind == "melon" for b in f.blocks) or f.name in ("L[Δ]", "f0", "t1·L[Δ]")
    ]


def main():
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE
    ).stdout.strip()
    out = {
        "provenance": {
            "script": "tests/make_flow_reference.py",
            "commit": commit,
            "command": "PYTHONPATH=$PWD python tests/make_flow_reference.py",
            "evaluator": "tests/legacy_flow_continuum.py family_value_continuum, rtol=1e-8",
            "cutoff": CUT,
        },
        "values": {},
    }
    for dim, mass, L0, L in CASES:
        old, oc = OldScales(CUT, dim, mass, L0, L), {}
        vals = {}
        for fam in flow_families():
            v, e = old_value(fam, old, rtol=1e-8, cache=oc)
            vals[fam.name] = [float(v), float(e)]
        out["values"][case_key(dim, mass, L0, L)] = vals
        print(case_key(dim, mass, L0, L), len(vals), "families", flush=True)
    OUT.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
