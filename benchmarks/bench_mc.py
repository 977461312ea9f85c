"""Benchmark of the lattice Monte Carlo: HMC speed, tau_int, cost per independent sample of A.

Usage::

    python benchmarks/bench_mc.py            # full table (about 3-4 minutes on 2 cores)
    python benchmarks/bench_mc.py --quick    # smaller chains, for a smoke test

Prints markdown tables: for Fourier-accelerated HMC (split integrator, default settings) on
d = 2 (L = 16, 32, 64) and d = 4 (L = 8, 16): trajectories per second (with measurements),
acceptance, tau_int of A (direct and Schwinger-Dyson-improved), the fraction of the time spent
in FFTs, and the cost per independent sample ``2 tau_int / rate``; then, at L = 32, d = 2, the
same for the leapfrog integrator and for the plain local Metropolis baseline, with the speed-up
of HMC in cost per independent sample of A.

Theory: cutoff ``bump:eps=0.5,lambda_max=2``, mass 1, Lambda = 1, lam = 1 (SPEC section 3).
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import time

import numpy as np

from ergsym.cutoffs import parse_cutoff
from ergsym.lattice.hmc import HMCSampler, MetropolisSampler
from ergsym.lattice.observables import measure
from ergsym.lattice.stats import statistics
from ergsym.lattice.theory import LatticeOps, LatticeTheory

CUTOFF = "bump:eps=0.5,lambda_max=2"
LAM = 1.0


def theory(shape):
    return LatticeTheory.from_cutoff(shape, parse_cutoff(CUTOFF), 1.0, 1.0, LAM)


class FFTTimer:
    """Wrap an ops object's transforms to accumulate the time spent in FFTs."""

    def __init__(self, ops):
        self.t = 0.0
        f, fi = ops.fft, ops.ifft

        def fft(x):
            t0 = time.perf_counter()
            r = f(x)
            self.t += time.perf_counter() - t0
            return r

        def ifft(x):
            t0 = time.perf_counter()
            r = fi(x)
            self.t += time.perf_counter() - t0
            return r

        ops.fft, ops.ifft = fft, ifft


def run_chain(sampler, n, n_therm, seed, ops):
    rng = np.random.default_rng(seed)
    state = sampler.init_state(rng)
    for _ in range(n_therm):
        state, _ = sampler.step(state)
    a, a_sd = np.empty(n), np.empty(n)
    acc = 0.0
    t0 = time.perf_counter()
    for i in range(n):
        state, info = sampler.step(state)
        acc += info.accepted if isinstance(sampler, HMCSampler) else info.length
        obs = measure(ops, state.phi)
        a[i], a_sd[i] = float(obs["A"]), float(obs["A_sd"])
    el = time.perf_counter() - t0
    return el, acc / n, statistics(a), statistics(a_sd)


def bench_hmc(shape, n, seed=1, integrator="split"):
    th = theory(shape)
    smp = HMCSampler(th, integrator=integrator)
    timer = FFTTimer(smp.ops)
    el, acc, sa, ssd = run_chain(smp, n, 10, seed, smp.ops)
    rate = n / el
    return {"lattice": "x".join(map(str, shape)), "V": th.volume, "algo": f"HMC {integrator} ({smp.n_steps} steps)",
            "rate": rate, "acc": acc, "tau_A": sa.tau_corr, "tau_A_err": sa.tau_corr_error,
            "tau_Asd": ssd.tau_corr, "fft_frac": timer.t / el, "cost_A": 2 * sa.tau_corr / rate,
            "A": repr(sa), "A_sd": repr(ssd)}


def bench_metropolis(shape, n, seed=1):
    th = theory(shape)
    smp = MetropolisSampler(th)
    ops = LatticeOps(th)
    el, acc, sa, ssd = run_chain(smp, n, 50, seed, ops)
    rate = n / el
    return {"lattice": "x".join(map(str, shape)), "V": th.volume, "algo": "local Metropolis (sweep)",
            "rate": rate, "acc": acc, "tau_A": sa.tau_corr, "tau_A_err": sa.tau_corr_error,
            "tau_Asd": ssd.tau_corr, "fft_frac": float("nan"), "cost_A": 2 * sa.tau_corr / rate,
            "A": repr(sa), "A_sd": repr(ssd)}


def machine():
    try:
        model = [ln.split(":", 1)[1].strip() for ln in subprocess.run(
            ["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines()
            if ln.startswith("Model name")][0]
    except (IndexError, OSError):
        model = platform.processor() or "unknown"
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}"


def table(rows):
    out = ["| lattice | V | algorithm | updates/s | acceptance | tau_int(A) | tau_int(A_sd) "
           "| FFT time | cost per indep. A [ms] | A | A_sd |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        fft = "n/a" if np.isnan(r["fft_frac"]) else f"{100 * r['fft_frac']:.0f}%"
        out.append(f"| {r['lattice']} | {r['V']} | {r['algo']} | {r['rate']:.1f} | {r['acc']:.3f} | "
                   f"{r['tau_A']:.2f} ± {r['tau_A_err']:.2f} | {r['tau_Asd']:.2f} | {fft} | "
                   f"{1e3 * r['cost_A']:.3g} | {r['A']} | {r['A_sd']} |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short chains (smoke test)")
    args = ap.parse_args()
    q = 0.1 if args.quick else 1.0
    t0 = time.perf_counter()
    print(f"machine: {machine()}\n")
    print(f"theory: cutoff {CUTOFF}, mass 1, Lambda 1, lam {LAM}\n")
    rows = []
    for shape, n in [((16, 16), 3000), ((32, 32), 3000), ((64, 64), 2000),
                     ((8, 8, 8, 8), 1000), ((16, 16, 16, 16), 200)]:
        rows.append(bench_hmc(shape, max(50, int(n * q))))
    print("## Fourier-accelerated HMC (split integrator, default settings)\n")
    print(table(rows))
    base = [bench_hmc((32, 32), max(50, int(3000 * q))),
            bench_hmc((32, 32), max(50, int(3000 * q)), integrator="leapfrog"),
            bench_metropolis((32, 32), max(100, int(4000 * q)))]
    print("\n## L = 32, d = 2: HMC against the local Metropolis baseline\n")
    print(table(base))
    speedup = base[2]["cost_A"] / base[0]["cost_A"]
    speedup_lf = base[2]["cost_A"] / base[1]["cost_A"]
    print(f"\nspeed-up in cost per independent sample of A: split HMC {speedup:.0f}x, "
          f"leapfrog HMC {speedup_lf:.0f}x over local Metropolis")
    print(f"\n(total benchmark time {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
