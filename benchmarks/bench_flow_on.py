"""O(N) flowed series: derivation cost with symbolic N and N = 3 against N = 1.

Run: PYTHONPATH=$PWD python benchmarks/bench_flow_on.py [--max-order 3] [--repeats 3]

Each measurement runs in a fresh interpreter (cold caches: the flow series, the engine's O(N)
weights and the family reduction are all memoized in-process) and derives A, B, <phi^2>_Lambda
and <V_Lambda>_Lambda along the flow (ergsym.flow) through the given order; CPU seconds
(``time.process_time``, import excluded), best of ``--repeats`` interleaved runs.  The symbolic
series at N = 1 and N = 3 are asserted equal to the series derived with N = 1 and N = 3.
Prints a markdown table (docs/benchmarks.md, "O(N) flowed series").
"""

import argparse
import os
import platform
import subprocess
import sys

CHILD = r"""
import sys, time
from ergsym.flow import flow_interaction_expectation, flow_monotone, flow_phi2
n = sys.argv[1]
n = n if n == "N" else int(n)
order = int(sys.argv[2])
t = time.process_time()
out = [flow_monotone(order, f, N=n) for f in ("A", "B")]
out += [flow_phi2(order, n), flow_interaction_expectation(order, n)]
dt = time.process_time() - t
if n == "N":
    for m in (1, 3):
        assert [s.at_n(m) for s in out] == [flow_monotone(order, "A", N=m), flow_monotone(order, "B", N=m),
                                            flow_phi2(order, m), flow_interaction_expectation(order, m)]
print(dt, len(out[0].terms))
"""


def run(n, order):
    env = dict(os.environ)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(n), str(order)], capture_output=True, text=True, check=True, env=env
    ).stdout.split()
    return float(out[0]), int(out[1])


def main(max_order, repeats):
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}")
    print("| order | N = 1 (CPU s) | symbolic N (CPU s) | ratio symbolic/1 | N = 3 (CPU s) | ratio 3/1 | terms in A |")
    print("|---|---|---|---|---|---|---|")
    for order in range(1, max_order + 1):
        best = {1: float("inf"), "N": float("inf"), 3: float("inf")}
        terms = 0
        for _ in range(repeats):
            for n in best:
                t, terms_n = run(n, order)
                best[n] = min(best[n], t)
                terms = terms_n if n == 1 else terms
        one = best[1]
        print(
            f"| {order} | {one:.3f} | {best['N']:.3f} | {best['N'] / one:.2f} | {best[3]:.3f} | "
            f"{best[3] / one:.2f} | {terms} |"
        )


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-order", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    main(args.max_order, args.repeats)
