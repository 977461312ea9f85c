"""Benchmark of the lattice Monte Carlo: effective samples per second, batched chains, baselines.

Usage::

    python benchmarks/bench_mc.py            # full tables (about 1-2 minutes on 2 shared cores)
    python benchmarks/bench_mc.py --quick    # shorter chains, for a smoke test
    python benchmarks/bench_mc.py --chains-scan   # only the batch-size scan
    python benchmarks/bench_mc.py --on       # only the O(N) table (N = 1, 2, 4 at 16x16)

Prints markdown tables (one run, ratios side by side):

1. **today's single chain vs this version's batch** at 8x8, 16x16, 64x64: effective samples
   of A per second (``n_eff / wall time``, thermalization -- 50 trajectories with the step
   adaptation -- and the measurement of all 13 observables after every trajectory included;
   ``n_eff`` from the multi-chain ``tau_int``; the three runs of a lattice are repeated in
   turn, three rounds, with the same seeds, and each keeps its fastest wall time, so that all
   see the same mix of load on the shared machine).  The reference ("ratio" 1x) is the single
   chain of commit ``BASE_COMMIT`` -- its ``ergsym/lattice`` package loaded from git into a
   temporary package by this script, run with its defaults -- measured in the same run; this
   version's single chain is shown too;
2. **cost of one trajectory against the FFT floor** at 64x64 and 128x128 (and, to show where
   the time goes on a small lattice, 32 chains of 16x16): the floor is the
   time of the transforms one trajectory of the batch makes (``n_steps + 2`` forward and
   ``n_steps`` inverse real transforms of the batch, timed with the very calls the sampler makes,
   :meth:`ergsym.lattice.theory.LatticeOps.fft`/``ifft``), and the rest of the trajectory is
   split into the momentum draws (the per-chain generators' ``standard_normal``) and the rest
   (elementwise kernels and Python);
3. **baselines** at 16x16: Fourier-accelerated HMC (single chain and batched) against a plain
   numpy HMC with unit mass (leapfrog, step below the stability limit of the stiffest mode,
   written out in this file) and the local Metropolis sweep of ``ergsym.lattice.hmc``.

4. **O(N) models** (``--on``): CPU time per trajectory of N = 1, 2, 4 components at 16x16
   (one chain and 32 chains; a fixed number of integration steps, so that the rows do the same
   number of force evaluations), measurement included, the runs interleaved, best of three
   rounds; the ratio to N = 1 is to be at most N (cost per site at most linear in N).

Theory: cutoff ``bump:eps=0.5,lambda_max=2``, mass 1, Lambda = 1, lam = 1 (docs/lattice.md).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ergsym.cutoffs import parse_cutoff
from ergsym.lattice.observables import measure
from ergsym.lattice.run import chain_generators, run_mc
from ergsym.lattice.stats import statistics
from ergsym.lattice.theory import LatticeOps, LatticeTheory

CUTOFF = "bump:eps=0.5,lambda_max=2"
LAM = 1.0
#: The commit whose single chain is the reference of the speed-up ("today's single chain").
BASE_COMMIT = "a4489d8"
ROOT = Path(__file__).resolve().parent.parent
_OLD = {}


def old_lattice():
    """``ergsym/lattice`` at :data:`BASE_COMMIT` as the package ``ergsym._mc_<commit>`` (its
    ``..errors``, ``..inputs``, ... resolve to the current ergsym; benchmark only)."""
    if _OLD:
        return _OLD["run"], _OLD["theory"]
    tmp = Path(tempfile.mkdtemp(prefix="ergsym-mc-base-"))
    files = subprocess.run(
        ["git", "ls-tree", "--name-only", f"{BASE_COMMIT}:ergsym/lattice"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.split()
    for f in files:
        if f.endswith(".py"):
            src = subprocess.run(
                ["git", "show", f"{BASE_COMMIT}:ergsym/lattice/{f}"],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            ).stdout
            (tmp / f).write_text(src)
    name = f"ergsym._mc_{BASE_COMMIT}"
    spec = importlib.util.spec_from_file_location(name, tmp / "__init__.py", submodule_search_locations=[str(tmp)])
    pkg = importlib.util.module_from_spec(spec)
    sys.modules[name] = pkg
    spec.loader.exec_module(pkg)
    _OLD["run"] = importlib.import_module(name + ".run")
    _OLD["theory"] = importlib.import_module(name + ".theory")
    return _OLD["run"], _OLD["theory"]


def theory(shape, module=None):
    cls = LatticeTheory if module is None else module.LatticeTheory
    return cls.from_cutoff(shape, parse_cutoff(CUTOFF), 1.0, 1.0, LAM)


def _best(fn, reps):
    best = math.inf
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def fft_floor(th, n_chains, n_steps, reps=10):
    """Seconds of the transforms one trajectory of the batch makes: ``n_steps + 2`` forward
    (momenta, forces, the new field) and ``n_steps`` inverse, with the sampler's own calls."""
    ops = LatticeOps(th)
    x = np.random.default_rng(0).standard_normal(((n_chains,) if n_chains > 1 else ()) + th.shape)
    f = ops.fft(x)
    fo, xo = np.empty_like(f), np.empty_like(x)

    def fwd():
        for _ in range(reps):
            ops.fft(x, out=fo)

    def inv():
        for _ in range(reps):
            ops.ifft(f, out=xo)

    # the machine is shared: the least disturbed of 5 blocks of each
    t_f, t_i = _best(fwd, 5) / reps, _best(inv, 5) / reps
    return (n_steps + 2) * t_f + n_steps * t_i


def rng_time(shape, n_chains, reps=10):
    """Seconds per trajectory of drawing the momenta and the two uniforms of every chain."""
    rngs = chain_generators(n_chains, 0)
    buf = np.empty((n_chains,) + shape)

    def draw():
        for _ in range(reps):
            for i, r in enumerate(rngs):
                r.random()
                r.standard_normal(out=buf[i])
                r.random()

    return _best(draw, 5) / reps


def _runner(shape, n_traj, n_chains, seed, old):
    if old:
        run_old, th_old = old_lattice()
        th = theory(shape, th_old)
        return th, lambda: run_old.run_mc(
            th,
            n_traj,
            seed=seed,
            n_therm=50,
            n_chains=n_chains,  # noqa: E731
            progress=False,
        )
    th = theory(shape)
    return th, lambda: run_mc(th, n_traj, seed=seed, n_therm=50, n_chains=n_chains, progress=False)  # noqa: E731


def _row(shape, n_traj, n_chains, old, res, elapsed, th):
    st = res.stats("A")
    n_steps = res.sampler_config["n_steps"]
    who = f"{BASE_COMMIT} (before)" if old else "this version"
    return {
        "lattice": "x".join(map(str, shape)),
        "algo": f"HMC split, {n_chains} chain(s), {who}",
        "chains": n_chains,
        "n_traj": n_traj,
        "acc": res.acceptance,
        "tau": st.tau_corr,
        "tau_err": st.tau_corr_error,
        "eff_per_s": st.n_eff / elapsed,
        "t_traj": elapsed / n_traj,
        "floor": float("nan") if old else fft_floor(th, n_chains, n_steps),
        "A": repr(st),
        "rhat": st.rhat,
        "reliable": st.reliable,
        "n_steps": n_steps,
        "old": old,
    }


def bench_run(shape, n_traj, n_chains, seed=1, old=False, repeats=2):
    """One configuration, run ``repeats`` times (the same deterministic chain): fastest wall time."""
    th, go = _runner(shape, n_traj, n_chains, seed, old)
    res = go()
    elapsed = res.elapsed
    for _ in range(repeats - 1):
        elapsed = min(elapsed, go().elapsed)
    return _row(shape, n_traj, n_chains, old, res, elapsed, th)


def bench_interleaved(configs, repeats=3):
    """Several configurations ``(shape, n_traj, n_chains, old)`` run in turn, ``repeats`` rounds,
    each keeping its fastest wall time: on a shared machine every configuration then sees the
    same mix of load, so their ratios are fair."""
    runs = [_runner(shape, n, c, 1, old) for shape, n, c, old in configs]
    best = [math.inf] * len(configs)
    first = [None] * len(configs)
    for _ in range(repeats):
        for k, (_, go) in enumerate(runs):
            res = go()
            first[k] = first[k] or res
            best[k] = min(best[k], res.elapsed)
    return [_row(shape, n, c, old, first[k], best[k], runs[k][0]) for k, (shape, n, c, old) in enumerate(configs)]


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
        return ops.ifft(ops.inv_kt * ops.fft(phi)) + (self.th.lam / 6.0) * phi**3

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
    return {
        "lattice": "x".join(map(str, shape)),
        "algo": f"plain HMC, unit mass ({smp.n_steps} steps)",
        "chains": 1,
        "n_traj": n,
        "acc": acc,
        "tau": st.tau_corr,
        "tau_err": st.tau_corr_error,
        "eff_per_s": st.n_eff / el,
        "t_traj": el / n,
        "floor": float("nan"),
        "A": repr(st),
        "rhat": st.rhat,
        "reliable": st.reliable,
        "n_steps": smp.n_steps,
    }


def bench_metropolis(shape, n, seed=1):
    th = theory(shape)
    res = run_mc(th, n, seed=seed, n_therm=50, sampler="metropolis", progress=False)
    st = res.stats("A")
    acc = float(res.state.n_accepted) / res.state.n_steps_done  # per-site acceptance
    return {
        "lattice": "x".join(map(str, shape)),
        "algo": "local Metropolis (sweep)",
        "chains": 1,
        "n_traj": n,
        "acc": acc,
        "tau": st.tau_corr,
        "tau_err": st.tau_corr_error,
        "eff_per_s": st.n_eff / res.elapsed,
        "t_traj": res.elapsed / n,
        "floor": float("nan"),
        "A": repr(st),
        "rhat": st.rhat,
        "reliable": st.reliable,
        "n_steps": 0,
    }


def machine():
    try:
        model = [
            ln.split(":", 1)[1].strip()
            for ln in subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines()
            if ln.startswith("Model name")
        ][0]
    except (IndexError, OSError):
        model = platform.processor() or "unknown"
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}"


def table(rows, ref=None):
    """Markdown table; ``ratio`` = eff. samples/s over the reference row's, with the error that
    the two tau_int estimates carry, and ``chain-traj/s`` = the same ratio without tau_int (the
    chains of a batch and the single chain sample the same law, so their true tau_int agree)."""
    out = [
        "| lattice | algorithm | trajectories | acceptance | tau_int(A) | eff. samples/s | ratio | "
        "chain-traj/s ratio | ms / trajectory | A | R-hat | reliable |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        base = ref(r) if ref else None
        if base is not None and base is not r:
            q = r["eff_per_s"] / base["eff_per_s"]
            # one chain each, same sampler and seed: the same chain (to rounding), one estimate
            same = (
                r["chains"] == base["chains"] == 1
                and r["A"] == base["A"]
                and abs(r["tau"] - base["tau"]) <= 1e-9 * base["tau"]
            )
            rel = 0.0 if same else math.hypot(r["tau_err"] / r["tau"], base["tau_err"] / base["tau"])
            ratio = f"{q:.1f}x ± {q * rel:.1f}"
            thr = (r["chains"] / r["t_traj"]) / (base["chains"] / base["t_traj"])
            thr = f"{thr:.1f}x"
        else:
            ratio, thr = "1x", "1x"
        rh = "-" if r["rhat"] is None else f"{r['rhat']:.3f}"
        out.append(
            f"| {r['lattice']} | {r['algo']} | {r['n_traj']} | {r['acc']:.3f} | "
            f"{r['tau']:.2f} ± {r['tau_err']:.2f} | {r['eff_per_s']:.4g} | {ratio} | {thr} | "
            f"{1e3 * r['t_traj']:.3g} | {r['A']} | {rh} | {r['reliable']} |"
        )
    return "\n".join(out)


class _TimedTransforms:
    """Within ``with``: every :meth:`LatticeOps.fft`/``ifft`` call is timed (``.seconds``)."""

    def __enter__(self):
        self.seconds = 0.0
        self._orig = (LatticeOps.fft, LatticeOps.ifft)
        fwd, inv = self._orig
        outer = self

        def fft(ops, x, out=None):
            t = time.perf_counter()
            r = fwd(ops, x, out)
            outer.seconds += time.perf_counter() - t
            return r

        def ifft(ops, f, out=None):
            t = time.perf_counter()
            r = inv(ops, f, out)
            outer.seconds += time.perf_counter() - t
            return r

        LatticeOps.fft, LatticeOps.ifft = fft, ifft
        return self

    def __exit__(self, *exc):
        LatticeOps.fft, LatticeOps.ifft = self._orig
        return False


def floor_rows(configs, repeats=3):
    """Per configuration ``(shape, n_traj, n_chains)``: this version's run with its transforms
    timed inside the run, in turn with the others, ``repeats`` rounds; the fastest round kept."""
    best = {}
    for _ in range(repeats):
        for shape, n, c in configs:
            th = theory(shape)
            with _TimedTransforms() as tt:
                res = run_mc(th, n, seed=1, n_therm=50, n_chains=c, progress=False)
            key = (shape, c)
            if key not in best or res.elapsed < best[key][0]:
                best[key] = (res.elapsed, tt.seconds, res, n)
    out = []
    for (shape, c), (el, fft_s, res, n) in best.items():
        steps = res.sampler_config["n_steps"]
        out.append(
            {
                "lattice": "x".join(map(str, shape)),
                "shape": shape,
                "chains": c,
                "n_steps": steps,
                "t_traj": el / n,
                "fft_in_run": fft_s / n,
                "floor": fft_floor(theory(shape), c, steps),
            }
        )
    return out


def floor_table(rows):
    out = [
        "| lattice | chains | n_steps | ms / trajectory | FFT floor [ms] | / floor | FFTs in the run [ms] | "
        "/ FFTs in the run | momenta (RNG) [ms] | rest: elementwise + Python [ms] |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        rng = rng_time(r["shape"], r["chains"])
        rest = r["t_traj"] - r["fft_in_run"] - rng
        out.append(
            f"| {r['lattice']} | {r['chains']} | {r['n_steps']} | {1e3 * r['t_traj']:.3g} | "
            f"{1e3 * r['floor']:.3g} | {r['t_traj'] / r['floor']:.2f} | {1e3 * r['fft_in_run']:.3g} | "
            f"{r['t_traj'] / r['fft_in_run']:.2f} | {1e3 * rng:.3g} | {1e3 * rest:.3g} |"
        )
    return "\n".join(out)


def load():
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def on_rows(shape=(16, 16), ns=(1, 2, 4), configs=((1, 600), (32, 60)), n_steps=4, rounds=3):
    """CPU seconds per trajectory of the O(N) Monte Carlo for each N (module docstring, table 4)."""
    best = {}
    for _ in range(rounds):
        for n_chains, n_traj in configs:
            for n in ns:
                th = LatticeTheory.from_cutoff(shape, parse_cutoff(CUTOFF), 1.0, 1.0, LAM, N=n)
                t0 = time.process_time()
                run_mc(th, n_traj, seed=1, n_therm=0, n_steps=n_steps, n_chains=n_chains, progress=False)
                t = (time.process_time() - t0) / n_traj
                key = (n_chains, n)
                best[key] = min(best.get(key, math.inf), t)
    rows = []
    for n_chains, _ in configs:
        for n in ns:
            t = best[(n_chains, n)]
            rows.append((n_chains, n, t, t / best[(n_chains, ns[0])]))
    return rows


def on_table(rows, shape=(16, 16)):
    lat = "x".join(map(str, shape))
    out = [
        "| lattice | chains | N | CPU ms / trajectory | ratio to N = 1 | ratio / N |",
        "|---|---|---|---|---|---|",
    ]
    for n_chains, n, t, r in rows:
        out.append(f"| {lat} | {n_chains} | {n} | {1e3 * t:.3g} | {r:.2f} | {r / n:.2f} |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short chains (smoke test)")
    ap.add_argument(
        "--chains-scan",
        action="store_true",
        help="only the batch-size scan (eff. samples/s against the number of chains)",
    )
    ap.add_argument("--on", action="store_true", help="only the O(N) table (N = 1, 2, 4 at 16x16)")
    args = ap.parse_args()
    if args.on:
        print(f"machine: {machine()}\n")
        print(f"load average at the start (1, 5, 15 min): {load()}\n")
        print(f"theory: cutoff {CUTOFF}, mass 1, Lambda 1, lam {LAM}; 4 split steps per trajectory\n")
        print(on_table(on_rows()))
        print(f"\nload average at the end: {load()}")
        return
    if args.chains_scan:
        print("| lattice | chains | ms / trajectory | eff. samples/s of A |\n|---|---|---|---|")
        for shape, chains, n in [
            ((16, 16), 1, 1000),
            ((16, 16), 16, 400),
            ((16, 16), 32, 400),
            ((16, 16), 64, 300),
            ((16, 16), 128, 200),
            ((8, 8), 1, 1000),
            ((8, 8), 64, 300),
            ((8, 8), 256, 200),
        ]:
            r = bench_run(shape, n, chains)
            print(f"| {r['lattice']} | {chains} | {1e3 * r['t_traj']:.3g} | {r['eff_per_s']:.0f} |")
        return
    q = 0.2 if args.quick else 1.0
    t0 = time.perf_counter()
    print(f"machine: {machine()}\n")
    print(f"load average at the start (1, 5, 15 min): {load()}\n")
    print(f"theory: cutoff {CUTOFF}, mass 1, Lambda 1, lam {LAM}\n")
    rows = []
    base = {}
    for shape, n1, nb, chains in [((8, 8), 3000, 1000, 64), ((16, 16), 3000, 1000, 32), ((64, 64), 1000, 400, 8)]:
        n1, nb = max(200, int(n1 * q)), max(150, int(nb * q))
        trio = bench_interleaved(
            [(shape, n1, 1, True), (shape, n1, 1, False), (shape, nb, chains, False)], repeats=2 if args.quick else 3
        )
        base[trio[0]["lattice"]] = trio[0]
        rows += trio
    print(f"## Single chain of {BASE_COMMIT} vs this version (one chain, and a batch)\n")
    print(table(rows, ref=lambda r: base[r["lattice"]]))
    print(f"\n(ratio = effective samples/s relative to the single chain of {BASE_COMMIT}, same lattice)")
    fl = floor_rows(
        [
            ((16, 16), max(150, int(600 * q)), 32),
            ((64, 64), max(150, int(600 * q)), 1),
            ((64, 64), max(100, int(300 * q)), 8),
            ((128, 128), max(100, int(300 * q)), 1),
            ((128, 128), max(60, int(150 * q)), 4),
        ],
        repeats=2 if args.quick else 3,
    )
    print("\n## Cost of one trajectory against the FFT floor (this version)\n")
    print(floor_table(fl))
    print(
        "\n(FFT floor = the n_steps + 2 forward and n_steps inverse transforms one trajectory makes, "
        "timed alone with the sampler's calls, least disturbed of 5 blocks; FFTs in the run = the same "
        "calls timed inside the run; ms / trajectory includes the measurement and the thermalization; "
        "rest = ms / trajectory - FFTs in the run - momenta)"
    )
    sq = [r for r in rows if r["lattice"] == "16x16"]
    cmp_rows = [
        sq[0],
        sq[1],
        sq[2],
        bench_plain((16, 16), max(200, int(1000 * q))),
        bench_metropolis((16, 16), max(150, int(600 * q))),
    ]
    print("\n## 16x16: against a plain numpy HMC (unit mass) and local Metropolis\n")
    print(table(cmp_rows, ref=lambda r: cmp_rows[3]))
    print("\n(ratio = effective samples/s relative to the plain unit-mass HMC)")
    print(f"\nload average at the end (1, 5, 15 min): {load()}")
    print(f"\n(total benchmark time {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
