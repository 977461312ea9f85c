"""Benchmark of batches on Dask: a 16-task cross-check ensemble, serial against ``local:2``.

Usage::

    python benchmarks/bench_batch.py                       # about 1.5 minutes on 2 cores
    python benchmarks/bench_batch.py --quick               # shorter chains, a smoke test
    python benchmarks/bench_batch.py --scheduler tcp://HOST:8786   # also time an existing cluster

The ensemble is ``crosscheck_ensemble`` of B on an 8x8 lattice, cutoff
``bump:eps=0.5,lambda_max=2``, m = Lambda = 1, couplings 0.02, 0.05, 0.1, 0.2 with 4 replicas
each (16 Monte Carlo tasks).  It is run in this process and on a local cluster of 2 worker
processes; the local cluster is timed with its start-up and shut-down (what ``--scheduler
local:2`` costs a user) and warm (tasks only).  The overhead per task is measured with 64
no-op tasks on the warm cluster.  Every mode must give bitwise the same result (checked).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from ergsym.batch import InProcessRunner, Task, crosscheck_ensemble, run_batch, start_local_cluster

CUTOFF = "bump:eps=0.5,lambda_max=2"
LAMS = (0.02, 0.05, 0.1, 0.2)


def ensemble(scheduler, n_traj):
    t0 = time.perf_counter()
    res, batch = crosscheck_ensemble(
        "8x8", CUTOFF, 1.0, 1.0, LAMS, "B", n_traj=n_traj, replicas=4, seed=1, scheduler=scheduler
    )
    return time.perf_counter() - t0, res, batch


def noop(scheduler, n=64):
    tasks = [Task(f"noop={i}", "ergsym.batch.task:normalize", {"result": {"i": i}}) for i in range(n)]
    t0 = time.perf_counter()
    run_batch(tasks, scheduler, progress=False)
    return (time.perf_counter() - t0) / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--scheduler", default=None, help="also run on this existing cluster (tcp://HOST:PORT)")
    args = ap.parse_args()
    import distributed  # noqa: PLC0415

    n_traj = 150 if args.quick else 500
    t_all = time.perf_counter()
    rows = []
    t_serial, ref, b = ensemble(InProcessRunner(), n_traj)
    task_s = sum(b.elapsed.values())
    rows.append(("inprocess (serial)", t_serial, noop(InProcessRunner())))
    t0 = time.perf_counter()
    _, res, _ = ensemble("local:2", n_traj)
    t_cold = time.perf_counter() - t0
    assert res.points == ref.points and res.c2_fit == ref.c2_fit, "local:2 differs from serial"
    rows.append(("local:2 incl. cluster start/stop", t_cold, None))
    cluster = start_local_cluster(2)
    with distributed.Client(cluster, set_as_default=False) as client:
        ensemble(client, 30)  # warm the workers' imports
        t_warm, res, _ = ensemble(client, n_traj)
        assert res.points == ref.points, "warm local:2 differs from serial"
        rows.append(("local:2 warm (tasks only)", t_warm, noop(client)))
    cluster.close()
    if args.scheduler:
        t_ext, res, _ = ensemble(args.scheduler, n_traj)
        assert res.points == ref.points, f"{args.scheduler} differs from serial"
        rows.append((args.scheduler, t_ext, noop(args.scheduler)))
    print(
        f"machine: {os.cpu_count()} cores (shared with other jobs), Python {platform.python_version()}, "
        f"numpy {np.__version__}, dask.distributed {distributed.__version__}"
    )
    print(
        f"ensemble: 16 tasks (4 couplings x 4 replicas), 8x8, {n_traj} trajectories each; "
        f"sum of task times (serial) {task_s:.1f} s, {task_s / 16:.2f} s per task\n"
    )
    print("| mode | wall time [s] | speed-up vs serial | overhead per no-op task [ms] |")
    print("|---|---|---|---|")
    for name, t, ov in rows:
        print(f"| {name} | {t:.1f} | {t_serial / t:.2f}x | {'-' if ov is None else f'{1e3 * ov:.2f}'} |")
    print(f"\nresults bitwise identical in every mode: yes (max |z| = {ref.max_abs_z:.2f})")
    print(f"(total benchmark time {time.perf_counter() - t_all:.0f} s)")


if __name__ == "__main__":
    main()
