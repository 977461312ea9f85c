"""Flow continuum before/after: the former bump-only evaluator vs ergsym.numeric.delta.

Run: python benchmarks/bench_flow.py [--scan-points 50]
Prints a markdown table (results go to docs/benchmarks.md, section "Flow").  One run each,
wall time, old and new side by side in the same process.
"""

import argparse
import pathlib
import platform
import sys
import time

import numpy as np

from ergsym.flow import flow_monotone

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))
from legacy_flow_continuum import FlowScales as OldScales  # noqa: E402  (test-only reference copy)
from legacy_flow_continuum import series_continuum as old_series  # noqa: E402
from ergsym.flow.continuum import FlowScales, flow_scan_continuum, series_continuum

CUT = "bump:eps=0.1,lambda_max=2"


def main(points, lambdas):
    s = flow_monotone(2, "B")
    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}; "
        "shared with other jobs"
    )
    print("| Lambda | old B (s) | new B (s) | ratio | old value ± err | new value ± err |")
    print("|---|---|---|---|---|---|")
    for L in lambdas:
        t = time.perf_counter()
        o = old_series(s, OldScales(CUT, 4, 1.0, 1.0, L), 0.1, 1e-6)
        to = time.perf_counter() - t
        t = time.perf_counter()
        n = series_continuum(s, FlowScales(CUT, 4, 1.0, 1.0, L), 0.1, 1e-6)
        tn = time.perf_counter() - t
        print(
            f"| {L} | {to:.2f} | {tn:.2f} | {to / tn:.1f}x | {o['total'][0]:.12g} ± {o['total'][1]:.1g} "
            f"| {n['total'][0]:.12g} ± {n['total'][1]:.1g} |"
        )
    grid = list(0.3 * (1.0 / 0.3) ** (np.arange(points) / (points - 1)))
    t = time.perf_counter()
    pts = flow_scan_continuum(CUT, 4, 1.0, 1.0, grid, 0.1, forms=("B",), couplings=False)
    ts = time.perf_counter() - t
    worst = max(p["M"]["total"][1] for p in pts)
    print(
        f"\n{points}-point B(Lambda), M(Lambda) scan, Lambda in [0.3, 1], d = 4, rtol 1e-6 (new): "
        f"{ts:.1f} s ({ts / (points + 17):.2f} s per B evaluation, {points + 17} evaluations); "
        f"largest M error {worst:.1g}; all converged: {all(p['M']['converged'] for p in pts)}"
    )


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--scan-points", type=int, default=50)
    ap.add_argument("--lambdas", default="0.9,0.6,0.3")
    a = ap.parse_args()
    main(a.scan_points, [float(x) for x in a.lambdas.split(",")])
