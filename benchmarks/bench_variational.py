"""Benchmark and validation tables of the variational RG (Cotler & Rezchikov, PRD 108, 025003, Section VI).

Usage::

    python benchmarks/bench_variational.py               # timings (about 2-4 minutes on 2 shared cores)
    python benchmarks/bench_variational.py --validation  # the validation tables of docs/variational.md
                                                         # (about 15-25 minutes)

Timings: one JKO step on 8x8 with 4000 samples of P_Lambda0 (the bare optimisation and the full step
with its 10 jackknife refits, for both map families), a 20-step flow from given samples, and the HMC
sampling of the 4000 samples for comparison.  Theory: cutoff ``bump:eps=0.5,lambda_max=2``, mass 1,
Lambda0 = 1.3 -> Lambda = 1.0, lam = 0.5.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time

import numpy as np

from ergsym.cutoffs import parse_cutoff
from ergsym.lattice.theory import LatticeTheory
from ergsym.variational.flow import VariationalConfig, _kt, compare_with_exact, run_variational, sample_p0
from ergsym.variational.jko import free_jko_factor, jko_step
from ergsym.variational.maps import Orbits

CUT = "bump:eps=0.5,lambda_max=2"
SHAPE = (8, 8)


def machine():
    return (
        f"{platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} cores "
        f"(load average {os.getloadavg()[0]:.1f} at start)"
    )


def timings(n=4000):
    c = parse_cutoff(CUT)
    th = LatticeTheory.from_cutoff(SHAPE, c, 1.0, 1.3, 0.5)
    t0 = time.perf_counter()
    phi0 = sample_p0(th, n, 0)
    t_hmc = time.perf_counter() - t0
    orb = Orbits(SHAPE)
    tau = math.log(1.3) / 20
    ka, kb = _kt(SHAPE, c, 1.0, 1.3), _kt(SHAPE, c, 1.0, 1.3 * math.exp(-tau))
    rows = []
    for fam in ("linear", "radial"):
        ts = []
        for _ in range(3):
            t0 = time.perf_counter()
            jko_step(phi0, orb, ka, kb, tau, family=fam)
            ts.append(time.perf_counter() - t0)
        rows.append((f"one JKO step, {fam} (fit only)", min(ts)))
    for fam in ("linear", "radial"):
        cfg = VariationalConfig(SHAPE, CUT, 1.0, 1.3, 1.0, 0.5, 20, n_samples=n, family=fam)
        t0 = time.perf_counter()
        run_variational(cfg, phi0=phi0, max_steps=1)
        t1 = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_variational(cfg, phi0=phi0)
        t20 = time.perf_counter() - t0
        rows.append((f"one JKO step, {fam}, with 10 jackknife refits", t1))
        rows.append((f"20-step flow, {fam}, with 10 jackknife refits", t20))
    rows.append((f"HMC sampling of the {n} samples of P_Lambda0 (2 trajectories each + 200)", t_hmc))
    print(f"machine: {machine()}\n")
    print("| task (8x8, 4000 samples) | time [s] |\n|---|---|")
    for name, t in rows:
        print(f"| {name} | {t:.2f} |")


def _fmt(v, e):
    return f"{v:.5g} ± {e:.2g}"


def validation():
    print(f"machine: {machine()}\n")
    # (a) free theory, closed form per mode
    print("### (a) Free theory: rate (G_old - G_new)/tau at G = Kt, D = 0.35, Kt = 0.8\n")
    print("| tau | rate (factor 2) | rate - D | ratio of errors | rate without the factor 2 |\n|---|---|---|---|---|")
    prev = None
    for tau in (0.08, 0.04, 0.02, 0.01, 0.005):
        a = free_jko_factor(0.8, 0.35, 0.8, tau)
        a1 = free_jko_factor(0.8, 0.35, 0.8, tau, 1.0)
        r, r1 = (0.8 - a * a * 0.8) / tau, (0.8 - a1 * a1 * 0.8) / tau
        print(f"| {tau} | {r:.6f} | {r - 0.35:.2e} | {'' if prev is None else f'{prev / (r - 0.35):.3f}'} | {r1:.6f} |")
        prev = r - 0.35
    # (b) one mode
    from ergsym.variational.onemode import one_mode_exact, one_mode_jko

    print("\n### (b) One mode, k(Lambda) = Lambda^2, Lambda 1 -> 0.7, 2000 particles\n")
    print(
        "| lam | steps | <phi^2> JKO - exact | W2^2(JKO, exact) | (M - M0) JKO - exact | exact <phi^2> | exact M - M0 |\n|---|---|---|---|---|---|---|"
    )
    N = 2000
    u = (np.arange(N) + 0.5) / N
    for lam in (0.0, 1.0, 30.0):
        e0, e1 = one_mode_exact(1.0, 1.0, lam), one_mode_exact(1.0, 0.49, lam)
        dM = e1.M[0] - e0.M[0]
        for steps in (10, 20, 40, 80):
            r = one_mode_jko(lambda L: L * L, 1.0, 0.7, steps, lam, n_particles=N)
            w2 = np.mean((r.particles - e1.quantile(u)) ** 2)
            print(
                f"| {lam} | {steps} | {r.phi2[-1] - e1.phi2[0]:+.2e} | {w2:.2e} | "
                f"{r.M_minus_M0[-1] - dM:+.2e} | {e1.phi2[0]:.6f} | {dM:.6f} |"
            )
    # (c), (d) lattice
    c = parse_cutoff(CUT)
    print("\n### (c), (d) Lattice 8x8, Lambda 1.3 -> 1.0, 4000 samples, 10 jackknife blocks\n")
    print(
        "| lam | family | steps | z(phi2) | z(G_p) per orbit | z(c4) per orbit | sliced W2 var-exact / exact-exact |"
        " M - M0 variational | free JKO same tau | free exact | interacting part: variational / series (z) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for lam in (0.0, 0.5, 2.0):
        th = LatticeTheory.from_cutoff(SHAPE, c, 1.0, 1.3, lam)
        phi0 = sample_p0(th, 4000, 7)
        runs = (
            [("linear", 20)]
            if lam == 0
            else [("linear", 20), ("radial", 5), ("radial", 10), ("radial", 20), ("radial", 40)]
        )
        for fam, steps in runs:
            cfg = VariationalConfig(SHAPE, CUT, 1.0, 1.3, 1.0, lam, steps, n_samples=4000, seed=7, family=fam)
            res = run_variational(cfg, phi0=phi0)
            cm = compare_with_exact(res)
            m = cm["M_minus_M0"]
            d = cm["distance"]
            ip = m["interacting_part"]
            zg = ", ".join(f"{g['z']:+.2f}" for g in cm["G_p"])
            zc = ", ".join(f"{g['z']:+.2f}" for g in cm["connected_4pt"])
            print(
                f"| {lam} | {fam} | {steps} | {cm['phi2']['z']:+.2f} | {zg} | {zc} | "
                f"{d['sliced_w2_variational_exact']['value']:.3g} / {d['sliced_w2_exact_exact']['value']:.3g} | "
                f"{_fmt(m['variational']['value'], m['variational']['error'])} | "
                f"{m['free_jko_same_tau']['value']:.5g} | {m['free_exact']['value']:.5g} | "
                f"{_fmt(ip['variational']['value'], ip['variational']['error'])} / "
                f"{ip['flow_series_order2']['value']:.4g} ({ip['z']:+.2f}) |",
                flush=True,
            )


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--validation", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    validation() if args.validation else timings()
    print(f"\n(total benchmark time {time.perf_counter() - t0:.0f} s)")
