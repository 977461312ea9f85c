"""Benchmark of the diagram engine and of the exact lattice sums (issue: reach and speed).

Three tables, each measured side by side in one run:

1. derive A, B and the four pieces symbolically at O(lam^k): the previous labelled-multigraph
   engine (``ergsym/symbolic/wick.py`` at commit ``OLD_COMMIT``, loaded from git into a
   temporary module for this benchmark only) against the current one; both must give
   identical series (asserted) before a row is printed;
2. the engine (derive + float lattice sums) against the brute-force oracle of the tests
   (``ergsym.symbolic.oracle.exact_expansion``, exact Gaussian moments, no graphs) at
   O(lam^3) and O(lam^4) on small lattices; the two routes must agree (asserted);
3. the O(lam^5) series of A and B as exact lattice sums on 32x32: the previous dense einsum
   (``ergsym/lattice/sums.py`` at ``OLD_COMMIT``) against the factorized contraction;
4. O(N) models: deriving A, B and the four pieces with symbolic N (exact polynomials in N) and
   with N = 3 against N = 1 at the same order, CPU time (``time.process_time``, cold caches,
   best of interleaved repeats); the symbolic series at N = 1 must equal the N = 1 series
   (asserted) before a row is printed.  ``--on-only`` runs just this table.

Slow "before" runs happen in a child process that is stopped after ``--old-timeout`` s and
reported as "> N s, stopped".

Run:  PYTHONPATH=$PWD python benchmarks/bench_engine.py [--max-order 6] [--old-timeout 60] [--quick]
      [--on-only]
Prints markdown tables (paste into docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import platform
import random
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

OLD_COMMIT = "2e2bbe8"
QUANTITIES = ("dSdS", "dSdShat", "dShatdShat", "LdShat", "A", "B")
ROOT = Path(__file__).resolve().parent.parent


def _load_old(path, name, package):
    """The file ``path`` at ``OLD_COMMIT`` as module ``package.name`` (benchmark only)."""
    src = subprocess.run(
        ["git", "show", f"{OLD_COMMIT}:{path}"], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    __import__(package)
    spec = importlib.util.spec_from_loader(f"{package}.{name}", loader=None)
    mod = importlib.util.module_from_spec(spec)
    mod.__package__ = package
    sys.modules[spec.name] = mod
    exec(compile(src, f"{OLD_COMMIT}:{path}", "exec"), mod.__dict__)
    return mod


def _clear_caches():
    from ergsym import families
    from ergsym.symbolic import wick

    mono = sys.modules["ergsym.symbolic.monotone"]
    mono.piece.cache_clear()
    mono.monotone.cache_clear()
    families._reduce_cached.cache_clear()
    families._canonical_edges.cache_clear()
    wick.clear_cache()


def derive_all(order, expand=None):
    """A, B and the four pieces at ``order`` with a cold cache (``expand``: another engine's)."""
    import ergsym.symbolic  # noqa: F401  (registers ergsym.symbolic.monotone)

    mono = sys.modules["ergsym.symbolic.monotone"]
    from ergsym.symbolic import wick

    mono.expand = expand or wick.expand
    try:
        _clear_caches()
        return {q: mono.monotone(order, q) for q in QUANTITIES}
    finally:
        mono.expand = wick.expand
        _clear_caches()


def derive_all_n(order, n):
    """A, B and the four pieces of the O(N) model (``n``: int or "N") with a cold cache."""
    from ergsym.symbolic import Theory

    mono = sys.modules["ergsym.symbolic.monotone"]
    _clear_caches()
    try:
        return {q: mono.monotone(order, q, "bare", Theory(N=n)) for q in QUANTITIES}
    finally:
        _clear_caches()


def on_table(max_order, repeat=3):
    """Table 4: CPU-time ratio of symbolic N (and N = 3) to N = 1, same order, side by side."""
    import ergsym.symbolic  # noqa: F401

    print("| order | N = 1 (CPU s) | symbolic N (CPU s) | ratio symbolic/1 | N = 3 (CPU s) | ratio 3/1 | terms in A |")
    print("|---|---|---|---|---|---|---|")
    for order in range(1, max_order + 1):
        best = {1: float("inf"), "N": float("inf"), 3: float("inf")}
        reps = repeat if order <= 5 else 1
        for _ in range(reps):  # interleaved, so load changes hit all three alike
            for n in best:
                t = time.process_time()
                out = derive_all_n(order, n)
                best[n] = min(best[n], time.process_time() - t)
                if n == "N":
                    sym = out
                elif n == 1:
                    one = out
        for q in QUANTITIES:
            assert sym[q].at_n(1) == one[q], f"symbolic N at N = 1 differs from N = 1 ({q}, order {order})"
        print(
            f"| {order} | {best[1]:.3f} | {best['N']:.3f} | {best['N'] / best[1]:.2f} | {best[3]:.3f} | "
            f"{best[3] / best[1]:.2f} | {len(sym['A'].terms)} |",
            flush=True,
        )
    print()


def _digest(series):
    import hashlib

    rec = {q: sorted((t.powers, repr(t.family.blocks), str(t.coeff)) for t in s.terms) for q, s in series.items()}
    return hashlib.sha256(repr(sorted(rec.items())).encode()).hexdigest()


def lattice_props(shape):
    from ergsym.cutoffs import parse_cutoff
    from ergsym.lattice.sums import lattice_propagators

    return lattice_propagators(shape, parse_cutoff("bump:eps=0.5,lambda_max=2"), 1.0, 1.0)


def lattice_all(order, shape, engine="new"):
    from ergsym.lattice import sums

    kt, d = lattice_props(shape)
    series = {q: derive_all(order)[q] for q in ("A", "B")}
    mod = sums if engine == "new" else _load_old("ergsym/lattice/sums.py", "_sums_old", "ergsym.lattice")
    if engine == "old":
        mod.MAX_GENERAL_VOLUME = 10**9  # the old volume cap would refuse, not run, 64x64+
    else:
        mod._GENERAL_MEMO.clear()  # cold: no block values memoized from earlier runs
    t = time.perf_counter()
    vals = {q: mod.series_on_lattice(s, None, kt, d) for q, s in series.items()}
    return time.perf_counter() - t, vals


def _child(spec):
    """Run one timed job in this (child) process and print its result as JSON."""
    kind, engine, arg = spec.split(":")
    if kind == "derive":
        expand = (
            _load_old("ergsym/symbolic/wick.py", "_wick_old", "ergsym.symbolic").expand if engine == "old" else None
        )
        t = time.perf_counter()
        res = derive_all(int(arg), expand)
        print(json.dumps({"seconds": time.perf_counter() - t, "digest": _digest(res)}))
    elif kind == "lattice":
        order, shape = arg.split("@")
        t, vals = lattice_all(int(order), tuple(int(x) for x in shape.split("x")), engine)
        print(json.dumps({"seconds": t, "values": vals}))


def run_child(spec, timeout):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--child", spec],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired:
        return None
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def random_lattice(shape, seed=0):
    from ergsym.symbolic.oracle import circulant

    rng = random.Random(seed)

    def vals(diag):
        v = {}
        for r in itertools.product(*[range(n) for n in shape]):
            mr = tuple((-a) % n for a, n in zip(r, shape))
            v[r] = v[mr] if mr in v else Fraction(rng.randint(-5, 5), rng.randint(1, 7))
        v[(0,) * len(shape)] = Fraction(diag)
        return v

    return circulant(shape, vals(60)), circulant(shape, vals(2))


def timeit(fn, repeat=1):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-order", type=int, default=6)
    ap.add_argument("--old-timeout", type=float, default=60.0)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--child", default=None)
    ap.add_argument("--on-only", action="store_true", help="only table 4 (O(N): symbolic N vs N = 1)")
    args = ap.parse_args()
    if args.child:
        _child(args.child)
        return
    import numpy as np

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"python {platform.python_version()}, numpy {np.__version__}; load average at start "
        f"{os.getloadavg()[0]:.1f}\n"
    )
    if args.on_only:
        on_table(args.max_order)
        print(f"load average at end {os.getloadavg()[0]:.1f}")
        return

    print(f"| order | previous engine ({OLD_COMMIT}) (s) | this engine (s) | ratio | terms in A |")
    print("|---|---|---|---|---|")
    old_dead = False
    for order in range(0, args.max_order + 1):
        t_new = timeit(lambda: derive_all(order), 1 if order >= 4 else 3)
        new = derive_all(order)
        if old_dead:
            old_txt, ratio = "not run (previous order stopped)", "–"
        else:
            res = run_child(f"derive:old:{order}", args.old_timeout)
            if res is None:
                old_dead = True
                old_txt, ratio = f"> {args.old_timeout:.0f}, stopped", f"> {args.old_timeout / t_new:.0f}"
            else:
                assert res["digest"] == _digest(new), f"old and new engines differ at order {order}"
                old_txt, ratio = f"{res['seconds']:.3f}", f"{res['seconds'] / t_new:.1f}"
        print(f"| {order} | {old_txt} | {t_new:.3f} | {ratio} | {len(new['A'].terms)} |", flush=True)
    print()

    print(
        "| order | lattice | engine: derive (s) | engine: float lattice sums (s) | "
        "oracle: exact Gaussian moments (s) | oracle / engine |"
    )
    print("|---|---|---|---|---|---|")
    from ergsym.lattice.sums import series_on_lattice
    from ergsym.symbolic.oracle import exact_expansion

    plan = {3: [(2,), (4,), (8,), (2, 4)], 4: [(2,), (3,), (4,), (2, 2)]}
    if args.quick:
        plan = {3: [(2,), (4,)], 4: [(2,)]}
    for order, shapes in plan.items():
        for shape in shapes:
            g, c = random_lattice(shape)
            first = lambda m: np.array([float(v) for v in m[0]]).reshape(shape)
            kt, dp = np.fft.fftn(first(g)).real, np.fft.fftn(first(c)).real
            td = timeit(lambda: derive_all(order), 1)
            ser = derive_all(order)
            ts = timeit(lambda: {q: series_on_lattice(s, None, kt, dp) for q, s in ser.items()}, 1)
            t0 = time.perf_counter()
            o = {q: exact_expansion(g, c, order, q) for q in QUANTITIES}
            to = time.perf_counter() - t0
            e = {q: series_on_lattice(s, None, kt, dp) for q, s in ser.items()}
            for q in QUANTITIES:
                assert np.allclose(e[q], [float(x) for x in o[q]], rtol=1e-9, atol=1e-12), q
            print(
                f"| {order} | {'x'.join(map(str, shape))} | {td:.3f} | {ts:.4f} | {to:.3f} | {to / (td + ts):.1f} |",
                flush=True,
            )
    print()

    print(
        "| lattice sums of A and B at O(lam^5) | previous dense einsum (s) | factorized (s) | ratio | max rel. difference |"
    )
    print("|---|---|---|---|---|")
    shapes = ["8x8", "16x16", "32x32"] if not args.quick else ["8x8"]
    for shape in shapes:
        t_new, new = lattice_all(5, tuple(int(x) for x in shape.split("x")))
        res = run_child(f"lattice:old:5@{shape}", args.old_timeout)
        if res is None:
            print(
                f"| {shape} | > {args.old_timeout:.0f}, stopped | {t_new:.2f} | > {args.old_timeout / t_new:.0f} | – |",
                flush=True,
            )
            continue
        diff = max(abs(a - b) / max(abs(b), 1e-300) for q in new for a, b in zip(new[q], res["values"][q]))
        print(
            f"| {shape} | {res['seconds']:.2f} | {t_new:.2f} | {res['seconds'] / t_new:.1f} | {diff:.1e} |", flush=True
        )
    print()
    on_table(args.max_order)
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
