"""Benchmark of the lattice Monte Carlo: effective samples per second, batched chains, baselines.

Usage::

    python benchmarks/bench_mc.py            # full tables (about 1-2 minutes on 2 shared cores)
    python benchmarks/bench_mc.py --quick    # shorter chains, for a smoke test

Prints markdown tables (one run, ratios side by side):

1. **single vs batched chains** at 8x8, 16x16, 64x64: effective samples of A per second
   (``n_eff / wall time``, thermalization and measurements included, ``n_eff`` from the
   multi-chain ``tau_int``; each run is repeated with the same seed and the faster wall time
   kept, the machine being shared), the speed-up of the batch, and the cost of one trajectory against
   the **FFT floor** (the time of the FFTs alone that one trajectory of the batch needs:
   ``2 n_steps + 2`` transforms in the integrator and 3 in the measurement, timed on arrays of
   the same shape);
2. **baselines** at 16x16: Fourier-accelerated HMC (single chain and batched) against a plain
   numpy HMC with unit mass (leapfrog, step below the stability limit of the stiffest mode,
   written out in this file) and the local Metropolis sweep of ``ergsym.lattice.hmc``.

Theory: cutoff ``bump:eps=0.5,lambda_max=2``, mass 1, Lambda = 1, lam = 1 (docs/lattice.md).
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import subprocess
import time

import numpy as np

from ergsym.cutoffs import parse_cutoff
from ergsym.lattice.observables import measure
from ergsym.lattice.run import run_mc
from ergsym.lattice.stats import statistics
from ergsym.lattice.theory import LatticeOps, LatticeTheory

CUTOFF = "bump:eps=0.5,lambda_max=2"
LAM = 1.0


def theory(shape):
    return LatticeTheory.from_cutoff(shape, parse_cutoff(CUTOFF), 1.0, 1.0, LAM)


def fft_floor(th, n_chains, n_steps, reps=10):
    """Seconds of FFTs one trajectory of a batch needs (integrator + measurement)."""
    ops = LatticeOps(th)
    x = np.random.default_rng(0).standard_normal(((n_chains,) if n_chains > 1 else ()) + th.shape)
    f = ops.fft(x)
    best = math.inf
    for _ in range(5):  # the machine is shared: the least disturbed of 5 blocks
        t0 = time.perf_counter()
        for _ in range(reps):
            ops.fft(x)
            ops.ifft(f)
        best = min(best, time.perf_counter() - t0)
    per_pair = best / reps
    n_fft = 2 * n_steps + 2 + 3
    return per_pair / 2 * n_fft


def bench_run(shape, n_traj, n_chains, seed=1):
    th = theory(shape)
    # the same (deterministic) chain twice: the faster wall time of the two on the shared machine
    res = run_mc(th, n_traj, seed=seed, n_therm=50, n_chains=n_chains, progress=False)
    elapsed = min(res.elapsed, run_mc(th, n_traj, seed=seed, n_therm=50, n_chains=n_chains,
                                      progress=False).elapsed)
    st = res.stats("A")
    n_steps = res.sampler_config["n_steps"]
    t_traj = elapsed / n_traj
    floor = fft_floor(th, n_chains, n_steps)
    return {"lattice": "x".join(map(str, shape)), "algo": f"HMC split, {n_chains} chain(s)",
            "chains": n_chains, "n_traj": n_traj, "acc": res.acceptance, "tau": st.tau_corr,
            "tau_err": st.tau_corr_error, "eff_per_s": st.n_eff / elapsed, "t_traj": t_traj,
            "floor": floor, "A": repr(st), "rhat": st.rhat, "reliable": st.reliable, "n_steps": n_steps}


class PlainHMC:
    """Textbook HMC with unit mass (no Fourier acceleration): leapfrog on
    ``H = pi^2/2 + S(phi)``, force ``M phi + lam phi^3/6`` (``M phi`` by FFT, the action is
    non-local), fixed step ``eps = 0.5 / omega_max`` with ``omega_max^2 = max_p 1/Kt_p`` and
    ``n_steps`` steps (trajectory length ~ the slowest free period / 4 would need thousands)."""

    def __init__(self, th, n_steps=20):
        self.th, self.ops = th, LatticeOps(th)
        self.eps = 0.5 / math.sqrt(float(np.max(1.0 / th.kt_p)))
        self.n_steps = n_steps

    def force(self, phi):
        ops = self.ops
        return ops.ifft(ops.inv_kt * ops.fft(phi)) + (self.th.lam / 6.0) * phi ** 3

    def run(self, n, seed, n_therm=50):
        rng = np.random.default_rng(seed)
        ops, eps = self.ops, self.eps
        phi = ops.ifft(ops.fft(rng.standard_normal(self.th.shape)) * ops.sqrt_kt)
        a = np.empty(n)
        acc = 0
        t0 = time.perf_counter()
        for i in range(n + n_therm):
            p = rng.standard_normal(self.th.shape)
            h0 = 0.5 * np.sum(p * p) + float(ops.action(phi))
            q = phi
            p = p - 0.5 * eps * self.force(q)
            for k in range(self.n_steps):
                q = q + eps * p
                p = p - (eps if k < self.n_steps - 1 else 0.5 * eps) * self.force(q)
            h1 = 0.5 * np.sum(p * p) + float(ops.action(q))
            if rng.random() < math.exp(min(0.0, h0 - h1)):
                phi = q
                acc += i >= n_therm
            if i >= n_therm:
                a[i - n_therm] = float(measure(ops, phi)["A"])
        el = time.perf_counter() - t0
        return el, acc / n, statistics(a)


def bench_plain(shape, n, seed=1):
    th = theory(shape)
    smp = PlainHMC(th)
    el, acc, st = smp.run(n, seed)
    return {"lattice": "x".join(map(str, shape)), "algo": f"plain HMC, unit mass ({smp.n_steps} steps)",
            "chains": 1, "n_traj": n, "acc": acc, "tau": st.tau_corr, "tau_err": st.tau_corr_error,
            "eff_per_s": st.n_eff / el, "t_traj": el / n, "floor": float("nan"), "A": repr(st),
            "rhat": st.rhat, "reliable": st.reliable, "n_steps": smp.n_steps}


def bench_metropolis(shape, n, seed=1):
    th = theory(shape)
    res = run_mc(th, n, seed=seed, n_therm=50, sampler="metropolis", progress=False)
    st = res.stats("A")
    acc = float(res.state.n_accepted) / res.state.n_steps_done  # per-site acceptance
    return {"lattice": "x".join(map(str, shape)), "algo": "local Metropolis (sweep)", "chains": 1,
            "n_traj": n, "acc": acc, "tau": st.tau_corr, "tau_err": st.tau_corr_error,
            "eff_per_s": st.n_eff / res.elapsed, "t_traj": res.elapsed / n, "floor": float("nan"),
            "A": repr(st), "rhat": st.rhat, "reliable": st.reliable, "n_steps": 0}


def machine():
    try:
        model = [ln.split(":", 1)[1].strip() for ln in subprocess.run(
            ["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines()
            if ln.startswith("Model name")][0]
    except (IndexError, OSError):
        model = platform.processor() or "unknown"
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}"


def table(rows, ref=None):
    out = ["| lattice | algorithm | trajectories | acceptance | tau_int(A) | eff. samples/s | ratio | "
           "ms / trajectory | FFT floor [ms] | / floor | A | R-hat | reliable |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        base = ref(r) if ref else None
        ratio = f"{r['eff_per_s'] / base['eff_per_s']:.1f}x" if base else "1x"
        fl = "n/a" if math.isnan(r["floor"]) else f"{1e3 * r['floor']:.3g}"
        over = "n/a" if math.isnan(r["floor"]) else f"{r['t_traj'] / r['floor']:.1f}"
        rh = "-" if r["rhat"] is None else f"{r['rhat']:.3f}"
        out.append(f"| {r['lattice']} | {r['algo']} | {r['n_traj']} | {r['acc']:.3f} | "
                   f"{r['tau']:.2f} ± {r['tau_err']:.2f} | {r['eff_per_s']:.4g} | {ratio} | "
                   f"{1e3 * r['t_traj']:.3g} | {fl} | {over} | {r['A']} | {rh} | {r['reliable']} |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short chains (smoke test)")
    ap.add_argument("--chains-scan", action="store_true",
                    help="only the batch-size scan (eff. samples/s against the number of chains)")
    args = ap.parse_args()
    if args.chains_scan:
        print("| lattice | chains | ms / trajectory | eff. samples/s of A |\n|---|---|---|---|")
        for shape, chains, n in [((16, 16), 1, 600), ((16, 16), 32, 150), ((16, 16), 128, 100),
                                 ((16, 16), 256, 80), ((8, 8), 1, 600), ((8, 8), 256, 100)]:
            r = bench_run(shape, n, chains)
            print(f"| {r['lattice']} | {chains} | {1e3 * r['t_traj']:.3g} | {r['eff_per_s']:.0f} |")
        return
    q = 0.2 if args.quick else 1.0
    t0 = time.perf_counter()
    print(f"machine: {machine()}\n")
    print(f"theory: cutoff {CUTOFF}, mass 1, Lambda 1, lam {LAM}\n")
    rows = []
    singles = {}
    for shape, n1, nb, chains in [((8, 8), 1200, 250, 64), ((16, 16), 1000, 200, 32), ((64, 64), 400, 120, 8)]:
        s = bench_run(shape, max(150, int(n1 * q)), 1)
        singles[s["lattice"]] = s
        rows.append(s)
        rows.append(bench_run(shape, max(120, int(nb * q)), chains))
    print("## Single chain vs batched chains (Fourier-accelerated HMC, split integrator)\n")
    print(table(rows, ref=lambda r: singles[r["lattice"]]))
    base = [singles["16x16"], next(r for r in rows if r["lattice"] == "16x16" and r["chains"] > 1),
            bench_plain((16, 16), max(200, int(1000 * q))), bench_metropolis((16, 16), max(150, int(600 * q)))]
    print("\n## 16x16: against a plain numpy HMC (unit mass) and local Metropolis\n")
    print(table(base, ref=lambda r: base[2]))
    print("\n(ratio = effective samples/s relative to the plain unit-mass HMC)")
    print(f"\n(total benchmark time {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
