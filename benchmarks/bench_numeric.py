"""Benchmark of the numeric layer (prints markdown tables).

Run: ``python benchmarks/bench_numeric.py [--quick]``, or ``--reach [CAP]`` for the reach
table (every O(lambda^2) family at far separated scales and extreme cutoff parameters, before
(commit ``REACH_BASE``) and after, side by side, fresh interpreter per case, each capped at
CAP seconds).  Point: bump:eps=0.1,lambda_max=2,
mass 1, Lambda 1; rtol 1e-10 (1-loop) and 1e-8 (2-loop).
"""

import argparse
import math
import time

import numpy as np

from ergsym.cutoffs import parse_cutoff
from ergsym.families import DLINE, K, Block, Family, Line, NAMED_FAMILIES
from ergsym.numeric import evaluate_family

CUT = "bump:eps=0.1,lambda_max=2"
EXTRA = {
    "u2": Family((Block(1, ((0, 0, Line(2, 1)),)),)),
    "M[D,K,K,K2]": Family((Block(2, ((0, 1, DLINE), (0, 1, K), (0, 1, K), (0, 1, Line(2, 0)))),)),
    "M[DK,K,K,K]": Family((Block(2, ((0, 1, Line(1, 1)), (0, 1, K), (0, 1, K), (0, 1, K))),)),
    "M[K,K,K,K2]": Family((Block(2, ((0, 1, K), (0, 1, K), (0, 1, K), (0, 1, Line(2, 0)))),)),
    "G3[01D,01K,02K,02K,12K,12K]": Family(
        (Block(3, ((0, 1, DLINE), (0, 1, K), (0, 2, K), (0, 2, K), (1, 2, K), (1, 2, K))),)
    ),
}


def timed(f, *a, **k):
    t = time.perf_counter()
    r = f(*a, **k)
    return r, time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--nquad-timeout", type=float, default=120.0)
    args = ap.parse_args()
    fams = dict(NAMED_FAMILIES)
    fams.update(EXTRA)
    print("## One point, all O(lambda^2) families (seconds; value ± error)\n")
    print("| family | d | time [s] | value | rel. error | converged |")
    print("|---|---|---|---|---|---|")
    for d in (1, 2, 3, 4):
        for n, f in fams.items():
            v, t = timed(evaluate_family, f, CUT, d, 1.0, 1.0)
            print(f"| {n} | {d} | {t:.3f} | {v.estimate:.12g} | {v.error / abs(v.estimate):.1e} | {v.converged} |")
    scans(args)
    methods()
    print("\n## whole O(lambda^3) B series at one point (shared transforms), d = 1..4\n")
    from ergsym.numeric import evaluate_series
    from ergsym.symbolic import monotone

    ser = monotone(3, "B")
    print("| d | time [s] | families | all converged |")
    print("|---|---|---|---|")
    for d in (1, 2, 3, 4):
        pr, t = timed(evaluate_series, ser, CUT, d, 1.0, 1.0, lam=0.1)
        print(f"| {d} | {t:.2f} | {len(pr.families)} | {all(bool(v.converged) for v in pr.families.values())} |")
    print("\n## naive scipy.integrate.nquad of f2 in d = 1 (3-dim integral)\n")
    naive_nquad(args.nquad_timeout)


def scans(args):
    """Lambda and mass scans: batched (shared grids, ergsym.numeric.scan) vs point by point."""
    import subprocess
    import sys

    n = 11 if args.quick else 101
    lam = np.linspace(0.5, 1.5, n)
    f2 = NAMED_FAMILIES["f2"]
    print(f"\n## {n}-point scans (Lambda 0.5..1.5 at m = 1; mass 0.5..2 at Lambda = 1)\n")
    print("| what | d | points | time [s] | max rel. error | all converged |")
    print("|---|---|---|---|---|---|")
    one = {k: f for k, f in NAMED_FAMILIES.items() if k != "f2"}
    t0 = time.perf_counter()
    for f in one.values():
        evaluate_family(f, CUT, 4, 1.0, lam)
    print(f"| 1-loop (f0,t1,u1,T,T2,T3,f1), Lambda | 4 | {n} | {time.perf_counter() - t0:.3f} | | |")
    for d in (1, 2, 3, 4):
        v, t = timed(evaluate_family, f2, CUT, d, 1.0, lam)
        print(
            f"| f2 batched, Lambda | {d} | {n} | {t:.2f} | {np.max(v.error / v.estimate):.1e} "
            f"| {bool(np.all(v.converged))} |"
        )
    v, t = timed(evaluate_family, f2, CUT, 4, np.linspace(0.5, 2.0, n), 1.0)
    print(
        f"| f2 batched, mass | 4 | {n} | {t:.2f} | {np.max(v.error / v.estimate):.1e} | {bool(np.all(v.converged))} |"
    )
    t0 = time.perf_counter()
    errs = [evaluate_family(f2, CUT, 4, 1.0, L) for L in lam]
    t = time.perf_counter() - t0
    print(
        f"| f2 point by point (loop), Lambda | 4 | {n} | {t:.2f} | "
        f"{max(e.error / e.estimate for e in errs):.1e} | {all(e.converged for e in errs)} |"
    )
    cmd = [
        sys.executable,
        "-c",
        "from ergsym.cli import main; main()",
        "integrals",
        "--cutoff",
        CUT,
        "--dim",
        "4",
        "--scan",
        f"Lambda=0.5:1.5:{n}",
        "--json",
    ]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    t = time.perf_counter() - t0
    print(
        f"| CLI `ergsym integrals --scan Lambda=0.5:1.5:{n} --json` (all 8 families, incl. start-up) "
        f"| 4 | {n} | {t:.2f} | | exit {r.returncode} |"
    )
    from ergsym.numeric import evaluate_series
    from ergsym.symbolic import monotone

    ser = monotone(2, "B")
    pr, t = timed(evaluate_series, ser, CUT, 4, 1.0, lam, lam=0.1)
    print(
        f"| evaluate_series(monotone(2, 'B')), Lambda | 4 | {n} | {t:.2f} | "
        f"{np.max(pr.total.error / np.abs(pr.total.estimate)):.1e} | {bool(np.all(pr.total.converged))} |"
    )


def methods():
    """Position vs the independent momentum method (melons and Sun(p))."""
    from ergsym.numeric import sunset

    print("\n## Melons: position vs momentum (independent) method, m = Lambda = 1\n")
    print(
        "| family | d | position [s] | momentum [s] | |diff|/value | pos. rel. error "
        "| mom. rel. error | |diff| <= errors |"
    )
    print("|---|---|---|---|---|---|---|---|")
    fams = {"f2": NAMED_FAMILIES["f2"]}
    fams.update({k: EXTRA[k] for k in ("M[D,K,K,K2]", "M[DK,K,K,K]", "M[K,K,K,K2]")})
    for n, f in fams.items():
        for d in (1, 2, 3, 4):
            a, ta = timed(evaluate_family, f, CUT, d, 1.0, 1.0, method="position")
            b, tb = timed(evaluate_family, f, CUT, d, 1.0, 1.0, method="momentum")
            diff = abs(a.estimate - b.estimate)
            print(
                f"| {n} | {d} | {ta:.3f} | {tb:.2f} | {diff / a.estimate:.1e} | {a.error / a.estimate:.1e} "
                f"| {b.error / b.estimate:.1e} | {diff <= a.error + b.error} |"
            )
    print("\n## Sun(p): position vs momentum, d = 3\n")
    p = np.array([0.0, 0.5, 1.0, 2.0])
    a, ta = timed(sunset, p, CUT, 3, 1.0, 1.0)
    b, tb = timed(sunset, p, CUT, 3, 1.0, 1.0, method="momentum")
    print(f"position {ta:.2f} s, momentum {tb:.2f} s for {p.size} momenta\n")
    print("| p | position | momentum | |diff|/value | mom. rel. error |")
    print("|---|---|---|---|---|")
    for i, pi in enumerate(p):
        print(
            f"| {pi} | {a.estimate[i]:.12g} | {b.estimate[i]:.12g} | "
            f"{abs(a.estimate[i] - b.estimate[i]) / a.estimate[i]:.1e} | {b.error[i] / b.estimate[i]:.1e} |"
        )


def naive_nquad(timeout):
    """f2 (d=1) = int dp D(p) int dq1/(2pi) int dq2/(2pi) Kt(q1) Kt(q2) Kt(p-q1-q2)."""
    import multiprocessing as mp

    q = mp.Queue()
    p = mp.Process(target=_nquad_worker, args=(q,))
    t = time.perf_counter()
    p.start()
    p.join(timeout)
    if p.is_alive():
        p.terminate()
        p.join()
        print(f"| nquad epsrel=1e-8 | did not finish in {timeout:.0f} s |")
        return
    val, err, el = q.get()
    ref = evaluate_family(NAMED_FAMILIES["f2"], CUT, 1, 1.0, 1.0)
    print("| method | time [s] | value | |diff|/ref |")
    print("|---|---|---|---|")
    print(f"| nquad epsrel=1e-8 | {el:.1f} | {val:.12g} | {abs(val - ref.estimate) / ref.estimate:.1e} |")
    _, tp = timed(evaluate_family, NAMED_FAMILIES["f2"], CUT, 1, 1.0, 1.0)
    print(f"| ergsym position | {tp:.3f} | {ref.estimate:.12g} | (reference) |")


def _nquad_worker(q):
    from scipy.integrate import nquad

    c = parse_cutoff(CUT)
    kt = lambda x: float(c.K(x * x, 1.0)) / (x * x + 1.0)  # noqa: E731
    dd = lambda x: float(c.Lambda_dK(x * x, 1.0)) / (x * x + 1.0)  # noqa: E731
    qmax = math.sqrt(c.kink + 50)
    t = time.perf_counter()
    val, err = nquad(
        lambda q2, q1, p: dd(p) * kt(q1) * kt(q2) * kt(p - q1 - q2) / (2 * math.pi) ** 2,
        [[-qmax, qmax], [-qmax, qmax], [-math.sqrt(1.1), math.sqrt(1.1)]],
        opts={"epsrel": 1e-8, "limit": 200},
    )
    q.put((2 * val / 2, err, time.perf_counter() - t))


# -- reach: before (the code before the reach work, exported from git) vs after, one run ---------
REACH_BASE = "a4489d8"  # the commit the scale-ratio work started from
_B = "'bump:eps=0.1,lambda_max=2'"


def _all(cut, d, m, lam):
    # every O(lambda^2) family (f0, t1, u1, T, T2, T3, f1, f2) at one point; the melon f2 is the cost
    return f"evaluate_named({cut}, {d}, {m}, {lam}, on_divergence='record')"


REACH_CASES = [
    # (label, python expression evaluated with ergsym imported; prints the result)
    ("all 8, d=4 m=1 Lambda=1 (reference point)", _all(_B, 4, 1.0, 1.0)),
    ("all 8, d=4 m=1e-3 Lambda=1", _all(_B, 4, 1e-3, 1.0)),
    ("all 8, d=3 m=1e-3 Lambda=1", _all(_B, 3, 1e-3, 1.0)),
    ("all 8, d=1 m=1e-3 Lambda=1", _all(_B, 1, 1e-3, 1.0)),
    ("all 8, d=6 m=1e-3 Lambda=1", _all(_B, 6, 1e-3, 1.0)),
    ("all 8, d=1 m=1 Lambda=0.01", _all(_B, 1, 1.0, 0.01)),
    ("all 8, d=4 m=1 Lambda=1e-3", _all(_B, 4, 1.0, 1e-3)),
    ("all 8, d=2 m=1 Lambda=1e-3", _all(_B, 2, 1.0, 1e-3)),
    ("all 8, d=2 m=1e3 Lambda=1", _all(_B, 2, 1e3, 1.0)),
    ("all 8, d=5 m=1e3 Lambda=1", _all(_B, 5, 1e3, 1.0)),
    ("all 8, d=1 eps=1e-3", _all("'bump:eps=1e-3,lambda_max=2'", 1, 1.0, 1.0)),
    ("all 8, d=4 eps=1e-6", _all("'bump:eps=1e-6,lambda_max=2'", 4, 1.0, 1.0)),
    ("all 8, d=4 eps=0.9", _all("'bump:eps=0.9,lambda_max=2'", 4, 1.0, 1.0)),
    ("all 8, d=4 tail_scale=0.1", _all("'bump:eps=0.1,lambda_max=2,tail_scale=0.1'", 4, 1.0, 1.0)),
    ("all 8, d=4 tail_scale=10", _all("'bump:eps=0.1,lambda_max=2,tail_scale=10'", 4, 1.0, 1.0)),
    ("all 8, d=4 exp:n=1 m=1e-2", _all("'exp:n=1'", 4, 1e-2, 1.0)),
    (
        "f2 scan: d=1 m=1, 100 Lambda in [0.01, 0.02]",
        "evaluate_named(" + _B + ", 1, 1.0, np.linspace(0.01, 0.02, 100), names=['f2'])['f2']",
    ),
    (
        "f2 scan: d=4 m=1, 100 Lambda in [1e-3, 2e-3]",
        "evaluate_named(" + _B + ", 4, 1.0, np.linspace(1e-3, 2e-3, 100), names=['f2'])['f2']",
    ),
    (
        "f2 scan: d=4 Lambda=1, 20 m in [1e-3, 2e-3]",
        "evaluate_named(" + _B + ", 4, np.linspace(1e-3, 2e-3, 20), 1.0, names=['f2'])['f2']",
    ),
]
_REACH_PRELUDE = """import time, sys
import numpy as np
from ergsym.numeric import evaluate_named
def show(r):
    if isinstance(r, dict):
        bad = [k for k, v in r.items() if not isinstance(v, Exception) and not bool(np.all(v.converged))]
        return 'f2 = ' + repr(r.get('f2')) + ('; not converged: ' + ','.join(bad) if bad else '; all converged')
    c = np.asarray(r.converged)
    return '%d/%d converged, max rel err %.1e' % (c.sum(), c.size, np.max(r.error / np.abs(r.estimate)))
t = time.perf_counter(); c = time.process_time()
try:
    r = show(EXPR)
except Exception as e:
    r = type(e).__name__ + ': ' + str(e)[:70]
print('%.2f\\t%.2f\\t' % (time.perf_counter() - t, time.process_time() - c) + r.replace('\\n', ' '))
"""


def reach(cap):
    """Each case in a fresh interpreter, on the base commit's code and on this tree's, capped."""
    import os
    import subprocess
    import sys
    import tempfile

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    base = tempfile.mkdtemp(prefix="ergsym_before_")
    subprocess.run(f"git -C {here} archive {REACH_BASE} ergsym | tar -x -C {base}", shell=True, check=True)
    print(f"\n## Reach: before ({REACH_BASE}) vs after, one run, each case capped at {cap:g} s\n")
    print("wall and CPU seconds (CPU: both cores' process time; numpy's BLAS may use two threads)\n")
    print("| case | before wall/CPU [s] | before result | after wall/CPU [s] | after result |")
    print("|---|---|---|---|---|")
    for label, expr in REACH_CASES:
        row = [label]
        for root in (base, here):
            code = _REACH_PRELUDE.replace("EXPR", expr)
            env = dict(os.environ, PYTHONPATH=root)
            try:
                out = (
                    subprocess.run(
                        [sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, timeout=cap
                    )
                    .stdout.strip()
                    .splitlines()
                )
                if out and out[-1].count("\t") >= 2:
                    w, c, res = out[-1].split("\t", 2)
                    t = f"{w} / {c}"
                else:
                    t, res = "?", "no output"
            except subprocess.TimeoutExpired:
                t, res = f"> {cap:g}", "(killed at the cap)"
            row += [t, res.replace("|", "/")[:120]]
        print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    import sys as _sys

    if "--reach" in _sys.argv:
        reach(
            float(_sys.argv[_sys.argv.index("--reach") + 1])
            if len(_sys.argv) > _sys.argv.index("--reach") + 1
            else 30.0
        )
    else:
        main()
