"""Benchmark of the diagram engine (issue: perturbation engine).

Measures the wall time to derive A, B and the four pieces symbolically at O(lam^k), and
compares with the brute-force oracle of the tests (ergsym.symbolic.oracle.exact_expansion),
which computes the same six quantities as numbers on one lattice by exact Gaussian moments.
The engine's columns are the symbolic derivation (lattice-independent, caches cleared) and
the evaluation of its families as lattice sums (ergsym.lattice.sums, FFTs); the two routes
must agree (asserted) before a row is printed.

Run:  python benchmarks/bench_engine.py [--max-order 4] [--quick]
Prints a markdown table (paste into docs/benchmarks.md).
"""
from __future__ import annotations

import argparse
import itertools
import platform
import random
import time
from fractions import Fraction

QUANTITIES = ("dSdS", "dSdShat", "dShatdShat", "LdShat", "A", "B")


def _clear_caches():
    import importlib

    from ergsym import families

    mono = importlib.import_module("ergsym.symbolic.monotone")

    mono.piece.cache_clear()
    mono.monotone.cache_clear()
    families._reduce_cached.cache_clear()
    families._canonical_edges.cache_clear()


def derive_all(order):
    from ergsym.symbolic import monotone

    return {q: monotone(order, q) for q in QUANTITIES}


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


def timeit(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-order", type=int, default=4)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    import ergsym.symbolic  # noqa: F401  (import cost reported separately)
    from ergsym.symbolic.oracle import exact_expansion
    t_import = time.perf_counter() - t0
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    print(f"import ergsym.symbolic: {t_import:.3f} s\n")
    print("| order | derive A, B + 4 pieces (s) | terms in A | families in A |")
    print("|---|---|---|---|")
    for order in range(0, args.max_order + 1):
        def run():
            _clear_caches()
            return derive_all(order)
        t = timeit(run, 1 if order >= 4 else 3)
        res = derive_all(order)
        print(f"| {order} | {t:.3f} | {len(res['A'].terms)} | {len(res['A'].families())} |")
    print()
    print("| order | lattice | engine: derive (s) | engine: float lattice sums (s) | oracle: exact Gaussian moments (s) | oracle / (derive + sums) |")
    print("|---|---|---|---|---|---|")
    import numpy as np
    from ergsym.lattice.sums import series_on_lattice

    shapes = [(2,), (4,), (8,), (2, 4)] if not args.quick else [(2,), (4,)]
    for order in (2, 3):
        for shape in shapes:
            g, c = random_lattice(shape)
            # momentum-space eigenvalues of the circulants (first row transformed)
            first = lambda m: np.array([float(v) for v in m[0]]).reshape(shape)
            kt, dp = np.fft.fftn(first(g)).real, np.fft.fftn(first(c)).real
            def derive():
                _clear_caches()
                return derive_all(order)
            td = timeit(derive, 1)
            ser = derive_all(order)
            ts = timeit(lambda: {q: series_on_lattice(s, None, kt, dp) for q, s in ser.items()}, 1)
            to = timeit(lambda: {q: exact_expansion(g, c, order, q) for q in QUANTITIES}, 1)
            e = {q: series_on_lattice(s, None, kt, dp) for q, s in ser.items()}
            o = {q: exact_expansion(g, c, order, q) for q in QUANTITIES}
            for q in QUANTITIES:
                assert np.allclose(e[q], [float(x) for x in o[q]], rtol=1e-9, atol=1e-12), q
            print(f"| {order} | {'x'.join(map(str, shape))} | {td:.3f} | {ts:.4f} | {to:.3f} | {to / (td + ts):.0f} |")


if __name__ == "__main__":
    main()
