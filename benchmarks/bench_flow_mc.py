"""Cost of ``flow --method mc`` against lattice size: CPU seconds for B at 1 % relative error.

Run: python benchmarks/bench_flow_mc.py [--lattices 4x4,8x8,16x16] [--lams 2,10] [--target 0.01]
     python benchmarks/bench_flow_mc.py --on 1,2,4 [--lattices 8x8,16x16] [--lams 10]

For each lattice and coupling: a pilot run (64 samples x 8 chains) measures B's relative error
and CPU time; the sample count for the target error follows from error ~ 1/sqrt(N); the final
run at that count is timed (CPU time of this process, ``time.process_time``: wall time on a
shared machine means little) and its reached error printed.  Results: docs/benchmarks.md,
section "Monte Carlo of the exact flow".

``--on 1,2,4``: O(N) cost, the same point with N components at a fixed sample count
(256 x 8), CPU time relative to N = 1 measured side by side in one run (the outer HMC, the
channel and the posterior chains all act on N fields).
"""

import argparse
import math
import platform
import time

import numpy as np

from ergsym.flow.mcflow import MCSettings, mc_flow
from ergsym.flow.problem import FlowProblem

CUT = "bump:eps=0.5,lambda_max=2"
LAMBDA0, LAMBDA = 1.5, 0.6


def run(lattice, lam, n_samples, seed=1, N=1):
    p = FlowProblem.build(lattice, CUT, 1.0, LAMBDA0, lam, N=N)
    t = time.process_time()
    r = mc_flow(p, [LAMBDA], MCSettings(n_samples=n_samples, n_chains=8, seed=seed), with_m=False)
    b = r["points"][0]["values"]["B"]
    return b, time.process_time() - t


def main(lattices, lams, target):
    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}; "
        f"CPU seconds of one process; Lambda0={LAMBDA0}, Lambda={LAMBDA}, cutoff {CUT}, mass 1"
    )
    print("| lattice | lam | samples (x8 chains) | B ± error | rel. error | CPU s | CPU s per 1000 samples |")
    print("|---|---|---|---|---|---|---|")
    for lat in lattices:
        for lam in lams:
            b, cpu = run(lat, lam, 64)
            rel = b["error"] / abs(b["value"])
            n = max(64, int(math.ceil(64 * (rel / target) ** 2 * 1.2)))
            b, cpu = run(lat, lam, n, seed=2)
            print(
                f"| {lat} | {lam:g} | {n} | {b['value']:.5g} ± {b['error']:.2g} | "
                f"{b['error'] / abs(b['value']):.2%} | {cpu:.1f} | {1000 * cpu / (8 * n):.2f} |",
                flush=True,
            )


def main_on(lattices, lams, ns, n_samples=256):
    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}; "
        f"CPU seconds of one process; {n_samples} x 8 samples; Lambda0={LAMBDA0}, Lambda={LAMBDA}, cutoff {CUT}"
    )
    print("| lattice | lam | N | B ± error | CPU s | CPU relative to N = 1 | relative / N |")
    print("|---|---|---|---|---|---|---|")
    for lat in lattices:
        for lam in lams:
            base = None
            for n in ns:
                b, cpu = run(lat, lam, n_samples, seed=2, N=n)
                base = cpu if base is None else base
                print(
                    f"| {lat} | {lam:g} | {n} | {b['value']:.5g} ± {b['error']:.2g} | {cpu:.1f} | "
                    f"{cpu / base:.2f} | {cpu / base / n:.2f} |",
                    flush=True,
                )


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--lattices", default="8x8,16x16,32x32")
    ap.add_argument("--lams", default="2,10")
    ap.add_argument("--target", type=float, default=0.01)
    ap.add_argument("--on", default=None, help="comma-separated N values: the O(N) cost table")
    a = ap.parse_args()
    if a.on:
        main_on(a.lattices.split(","), [float(x) for x in a.lams.split(",")], [int(x) for x in a.on.split(",")])
    else:
        main(a.lattices.split(","), [float(x) for x in a.lams.split(",")], a.target)
