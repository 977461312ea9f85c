"""Benchmark: ergsym's HMC against a plain Fourier-accelerated numpy HMC (reference_hmc.py).

Effective samples of <phi^2> (the per-trajectory mean of phi_x^2) per CPU-second
(``time.process_time``; the machine is shared, CPU time is the fair measure), at L = 8, 16, 64,
128 and lam = 0.1, 10 (cutoff bump:eps=0.5,lambda_max=2, m = Lambda = 1, d = 2).  Both chains
use the same estimator of tau_int (``ergsym.lattice.stats.statistics``):

* references: ``reference_hmc.ReferenceHMC``, trajectory pi/2, its step count tuned first (not
  timed) to the fewest steps with acceptance >= 0.8, started from the tuned chain; "plain" is
  the textbook Fourier-accelerated leapfrog, "split" the same code with the free flow rotated
  exactly (the trick ergsym's default integrator is built on: the strongest reference);
* ergsym: ``ergsym.lattice.run_mc`` as a user calls it (progress bar off, all 13 observables
  measured every trajectory, ``n_therm = 100`` thermalization trajectories with the step
  adaptation included in its CPU time): the default (split integrator, one chain),
  ``integrator="omelyan"`` (one chain), and at L <= 16 the default with 8 batched chains (a
  quarter of the trajectories per chain).

Rounds alternate the samplers (other seeds each round); the ratios are ergsym's pooled effective
samples per CPU-second over each reference's.

    PYTHONPATH=$PWD python benchmarks/bench_hmc_reference.py            # the table of docs/benchmarks.md
    PYTHONPATH=$PWD python benchmarks/bench_hmc_reference.py --quick    # L = 8, 16, short chains
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference_hmc import ReferenceHMC, tune  # noqa: E402

from ergsym.cutoffs import parse_cutoff  # noqa: E402
from ergsym.lattice.run import run_mc  # noqa: E402
from ergsym.lattice.stats import statistics  # noqa: E402
from ergsym.lattice.sums import lattice_propagators  # noqa: E402
from ergsym.lattice.theory import LatticeTheory  # noqa: E402

CUTOFF = "bump:eps=0.5,lambda_max=2"


def theory(L, lam):
    kt, d = lattice_propagators((L, L), parse_cutoff(CUTOFF), 1.0, 1.0)
    return LatticeTheory((L, L), kt, d, lam=lam)


def run_reference(th, n_traj, seed, integrator):
    rng = np.random.default_rng(seed)
    n, _ = tune(th.kt_p, th.lam, rng, integrator)
    smp = ReferenceHMC(th.kt_p, th.lam, n, integrator=integrator)
    phi = smp.run(20, rng)[0]
    t = time.process_time()
    _, x, acc = smp.run(n_traj, rng, phi)
    return {"cpu": time.process_time() - t, "stats": statistics(x), "acc": acc, "steps": n}


def run_ergsym(th, n_traj, seed, n_therm, integrator="split", n_chains=1):
    t = time.process_time()
    res = run_mc(
        th, n_traj + n_therm, seed=seed, n_therm=n_therm, progress=False, integrator=integrator, n_chains=n_chains
    )
    cpu = time.process_time() - t
    st = res.stats("phi2")
    acc = float(np.mean(res.accepted[n_therm:]))
    return {"cpu": cpu, "stats": st, "acc": acc, "steps": res.sampler_config["n_steps"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--sizes", default="8,16,64,128")
    ap.add_argument("--lams", default="0.1,10")
    args = ap.parse_args()
    sizes = [8, 16] if args.quick else [int(x) for x in args.sizes.split(",")]
    lams = [float(x) for x in args.lams.split(",")]
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        "| L | lam | plain ref.: steps, acc, tau, eff/s | split ref.: steps, acc, tau, eff/s "
        "| ergsym: steps, acc, tau, eff/s | ergsym omelyan | ergsym 8 chains "
        "| ergsym / plain | ergsym / split | omelyan / split | 8 chains / split |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for L in sizes:
        n_traj = (600 if args.quick else 3000) if L <= 16 else (400 if args.quick else 1500)
        for lam in lams:
            th = theory(L, lam)
            runs = {
                "plain": lambda s, th=th, n=n_traj: run_reference(th, n, s, "leapfrog"),
                "split": lambda s, th=th, n=n_traj: run_reference(th, n, s, "split"),
                "erg": lambda s, th=th, n=n_traj: run_ergsym(th, n, s, 100),
                "omel": lambda s, th=th, n=n_traj: run_ergsym(th, n, s, 100, "omelyan"),
            }
            if L <= 16:
                runs["batch"] = lambda s, th=th, n=n_traj: run_ergsym(th, n // 4, s, 100, n_chains=8)
            tot = {w: [0.0, 0.0] for w in runs}
            last = {}
            for r in range(args.rounds):
                order = list(runs) if r % 2 == 0 else list(runs)[::-1]
                for k, who in enumerate(order):
                    res = runs[who](1000 * r + 10 * k + 1)
                    tot[who][0] += res["stats"].n_eff
                    tot[who][1] += res["cpu"]
                    last[who] = res
            rate = {w: tot[w][0] / tot[w][1] for w in tot}

            def cell(w, last=last, rate=rate):
                if w not in last:
                    return "–"
                x = last[w]
                return f"{x['steps']}, {x['acc']:.2f}, {x['stats'].tau_corr:.2f}, {rate[w]:.0f}"

            def ratio(a, b, rate=rate):
                return f"{rate[a] / rate[b]:.2f}" if a in rate else "–"

            print(
                f"| {L} | {lam:g} | {cell('plain')} | {cell('split')} | {cell('erg')} | {cell('omel')} "
                f"| {cell('batch')} | **{ratio('erg', 'plain')}** | **{ratio('erg', 'split')}** "
                f"| {ratio('omel', 'split')} | {ratio('batch', 'split')} |",
                flush=True,
            )
            means = "; ".join(f"{w} {last[w]['stats']!r}" for w in last)
            print(f"<!-- L={L} lam={lam:g} <phi^2>: {means} -->", flush=True)
    print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
