"""Benchmark: exact lattice sums of A and B in O(V) memory against the V x V index tables.

Each case (order, lattice, algorithm) runs in a fresh child process, which reports its CPU
seconds (user + system, ``resource.getrusage``) and its peak resident memory (``ru_maxrss``):
the derivation of A and B (form B's series and form A's, bare scheme) plus their exact lattice
sums, bump cutoff eps = 0.5, lambda_max = 2, m = Lambda = 1.  ``old`` is
``ergsym/lattice/sums.py`` at commit ``OLD_COMMIT`` (loaded from git into a temporary module),
``new`` the working tree.  Where both finish the largest relative difference of the per-order
values is printed.

    PYTHONPATH=$PWD python benchmarks/bench_lattice_sums.py            # the table of docs/benchmarks.md
    PYTHONPATH=$PWD python benchmarks/bench_lattice_sums.py --quick    # small lattices only
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

OLD_COMMIT = "ea06c69"
ROOT = Path(__file__).resolve().parent.parent
CASES = [
    (3, "32x32"),
    (3, "64x64"),
    (3, "128x128"),
    (3, "256x256"),
    (4, "32x32"),
    (4, "64x64"),
    (4, "128x128"),
    (5, "32x32"),
]
QUICK = [(3, "16x16"), (4, "16x16"), (4, "8x8x8")]


def _load_old():
    src = subprocess.run(
        ["git", "show", f"{OLD_COMMIT}:ergsym/lattice/sums.py"], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    import ergsym.lattice  # noqa: F401

    spec = importlib.util.spec_from_loader("ergsym.lattice._sums_old", loader=None)
    mod = importlib.util.module_from_spec(spec)
    mod.__package__ = "ergsym.lattice"
    sys.modules[spec.name] = mod
    exec(compile(src, f"{OLD_COMMIT}:ergsym/lattice/sums.py", "exec"), mod.__dict__)
    return mod


def _child(algo, order, shape):
    from ergsym.cutoffs import parse_cutoff
    from ergsym.errors import InputError
    from ergsym.lattice import sums
    from ergsym.symbolic import monotone

    mod = _load_old() if algo == "old" else sums
    dims = tuple(int(x) for x in shape.split("x"))
    kt, d = sums.lattice_propagators(dims, parse_cutoff("bump:eps=0.5,lambda_max=2"), 1.0, 1.0)
    try:
        vals = {q: mod.series_on_lattice(monotone(order, q), None, kt, d) for q in ("A", "B")}
        err = None
    except InputError as exc:
        vals, err = None, str(exc)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps({"cpu": ru.ru_utime + ru.ru_stime, "rss_mib": ru.ru_maxrss / 1024, "values": vals, "refused": err})
    )


def run_case(algo, order, shape, timeout):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    t = time.perf_counter()
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--child", algo, str(order), shape],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired:
        return {"timeout": timeout}
    if out.returncode != 0:
        return {"failed": out.stderr.strip().splitlines()[-1]}
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["wall"] = time.perf_counter() - t
    return res


def _cell(r):
    if "timeout" in r:
        return f"> {r['timeout']:.0f} s wall, stopped"
    if "failed" in r:
        return "failed: " + r["failed"][:60]
    if r["refused"]:
        return f"refused ({r['cpu']:.1f} s, {r['rss_mib']:.0f} MiB)"
    return f"{r['cpu']:.1f} s, {r['rss_mib']:.0f} MiB"


def _reldiff(a, b):
    worst = 0.0
    for q in a:
        for x, y in zip(a[q], b[q], strict=True):
            worst = max(worst, abs(x - y) / max(abs(y), 1e-300))
    return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="small lattices only")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per case (wall)")
    args = ap.parse_args()
    if args.child:
        algo, order, shape = args.child
        _child(algo, int(order), shape)
        return
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    print(
        "| order | lattice | V x V tables (ea06c69): CPU s, peak RSS | O(V) memory: CPU s, peak RSS "
        "| max rel. difference |"
    )
    print("|---|---|---|---|---|")
    for order, shape in QUICK if args.quick else CASES:
        new = run_case("new", order, shape, args.timeout)
        old = run_case("old", order, shape, args.timeout)
        diff = "–"
        if new.get("values") and old.get("values"):
            diff = f"{_reldiff(new['values'], old['values']):.1e}"
        print(f"| O(λ^{order}) | {shape} | {_cell(old)} | {_cell(new)} | {diff} |", flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
