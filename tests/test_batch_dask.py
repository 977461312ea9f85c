"""ergsym.batch on a real dask.distributed LocalCluster (2 worker processes, 127.0.0.1 only).

* a worker process is killed mid-batch (one task SIGKILLs its own worker on its first attempt,
  and a second worker is killed from outside after the first result); the batch completes
  and every result is bitwise identical to the serial run;
* ``--scheduler local:2`` gives bitwise the CLI output of ``--scheduler inprocess``.
"""

import json
import os
import signal
import textwrap

import pytest

distributed = pytest.importorskip("distributed")

from test_batch import _same  # noqa: E402  (bitwise equality of result dicts, one copy)

from ergsym.batch import Task, run_batch, spawn_seeds, start_local_cluster, theory_spec  # noqa: E402
from ergsym.cli import main  # noqa: E402

BUMP = "bump:eps=0.5,lambda_max=2"

pytestmark = [
    pytest.mark.slow,
    # distributed logs (not warns) worker deaths; a killed worker can leave its nanny's pipe
    # unclosed when the nanny restarts it, which the interpreter reports as a ResourceWarning
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]

HELPER = '''
import os, signal
from ergsym.batch.kinds import mc_task

def crash_once_then_mc(marker, **kwargs):
    """Kill this worker process the first time (SIGKILL: no cleanup, like a crashed node)."""
    if not os.path.exists(marker):
        with open(marker, "w") as fh:
            fh.write(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return mc_task(**kwargs)
'''


def test_killed_worker_costs_only_its_task_and_results_equal_serial(tmp_path, monkeypatch, capsys):
    (tmp_path / "ergsym_test_crash_helper.py").write_text(textwrap.dedent(HELPER))
    monkeypatch.syspath_prepend(str(tmp_path))  # worker processes are spawned with this sys.path
    marker = tmp_path / "crashed.pid"
    spec = theory_spec(lattice="8x8", cutoff=BUMP, mass=1.0, Lambda=1.0)
    seeds = spawn_seeds(2024, 8)

    def kwargs(i):
        return {
            "theory": spec,
            "lam": 0.2,
            "n_traj": 120,
            "seed": seeds[i],
            "n_therm": 10,
            "observables": ["B_sd", "phi2"],
            "chains": True,
            "mc_options": {},
        }

    tasks = [Task(f"run={i}", "ergsym.batch.kinds:mc_task", kwargs(i)) for i in range(8)]
    tasks[3] = Task("run=3", "ergsym_test_crash_helper:crash_once_then_mc", {"marker": str(marker), **kwargs(3)})
    serial_tasks = [Task(f"run={i}", "ergsym.batch.kinds:mc_task", kwargs(i)) for i in range(8)]
    serial = run_batch(serial_tasks, "inprocess", progress=False)

    cluster = start_local_cluster(2)
    killed = []
    try:
        with distributed.Client(cluster, set_as_default=False) as client:
            pids0 = client.run(os.getpid)
            assert len(pids0) == 2

            def kill_one_after_first(key, result):
                if not killed:  # from outside: SIGKILL a worker while the batch runs
                    # ask only the workers that answer: one may be restarting right now (task 3
                    # kills its own worker), and a broadcast to it raises CommClosedError; with
                    # none answering, the next result tries again
                    pids = sorted(client.run(os.getpid, on_error="ignore").values())
                    if pids:
                        killed.append(pids[0])
                        os.kill(pids[0], signal.SIGKILL)

            res = run_batch(tasks, client, store=tmp_path / "store", progress=False, on_result=kill_one_after_first)
            client.wait_for_workers(2, timeout=120)  # the nannies restart the killed workers
            pids1 = set(client.run(os.getpid).values())
        # the same cluster by address, as `--scheduler tcp://HOST:PORT` reaches it
        addr = cluster.scheduler_address
        assert addr.startswith("tcp://127.0.0.1:")
        mc = [
            "mc",
            "--lattice",
            "8x8",
            "--cutoff",
            BUMP,
            "--n-traj",
            "100",
            "--n-therm",
            "20",
            "--seeds",
            "0,1,2",
            "--json",
            "--no-progress",
        ]
        outs = {}
        for sched in ("inprocess", addr):
            with pytest.raises(SystemExit) as exc:
                main(mc + ["--scheduler", sched])
            assert exc.value.code == 0
            d = json.loads(capsys.readouterr().out)
            assert d["results"].pop("batch")["scheduler"] == sched
            outs[sched] = d["results"]
        assert outs[addr] == outs["inprocess"]
    finally:
        cluster.close()
    crashed_pid = int(marker.read_text())
    assert len(killed) == 1 and len(pids1) == 2  # the nannies replaced the dead workers
    assert crashed_pid not in pids1 and killed[0] not in pids1
    assert sorted(res.executed) == sorted(t.key for t in tasks)
    for t in tasks:
        assert _same(res[t.key], serial[t.key]), t.key  # bitwise: chains and statistics
        assert res[t.key]["stats"]["B_sd"]["error_of_mean"] > 0
    assert len({res[t.key]["stats"]["B_sd"]["mean"] for t in tasks}) == 8  # 8 different streams


def test_cli_local2_equals_inprocess_bitwise(capsys):
    args = [
        "crosscheck",
        "--lattice",
        "8x8",
        "--cutoff",
        BUMP,
        "--lams",
        "0.05,0.1,0.2",
        "--n-traj",
        "120",
        "--replicas",
        "2",
        "--seed",
        "9",
        "--no-progress",
        "--plot",
        "",
        "--json",
    ]
    out = {}
    for sched in ("inprocess", "local:2"):
        with pytest.raises(SystemExit) as exc:
            main(args + ["--scheduler", sched])
        assert exc.value.code == 0
        d = json.loads(capsys.readouterr().out)["results"]
        assert d["meta"]["batch"]["scheduler"] == sched and d["meta"]["batch"]["executed"] == 6
        d["meta"].pop("batch")
        out[sched] = d
    assert out["local:2"] == out["inprocess"]
    assert all(p["mc"]["error"] > 0 for p in out["inprocess"]["points"])  # not a trivial observable


@pytest.mark.slow
def test_report_lattice_section_on_local2_equals_in_process(tmp_path):
    """``ergsym report --scheduler local:2``: the Monte Carlo section's numbers do not depend on
    where its runs go (seeds seed + i, as in the section's own loop)."""
    from ergsym.report import ReportConfig, build_report

    out = {}
    for sched in (None, "local:2"):
        cfg = ReportConfig(out=str(tmp_path / f"r-{sched}"), quick=True, flow=False, pdf=False, order=1)
        labels = []
        res = build_report(
            cfg,
            sections=("lattice",),
            scheduler=sched,
            progress=lambda i, n, label, labels=labels: labels.append(label),
        )
        assert any("as one batch" in lb for lb in labels) == (sched is not None)  # the batch path ran
        data = json.loads(res.json.read_text())["results"]["sections"]["lattice"]["data"]
        out[sched] = [(p["lam"], p["mc"]["value"], p["mc"]["error"]) for p in data["B"]]
    assert out[None] == out["local:2"] and len(out[None]) >= 2
    assert all(e > 0 for _, _, e in out[None])


def test_cli_default_scheduler_equals_local2_bitwise(capsys):
    """Issue 19: ``crosscheck --seed 11`` with no --scheduler gave other numbers than local:2
    (the default ran seeds seed + i, the batch SeedSequence(seed).spawn).  Kept small."""
    args = [
        "crosscheck",
        "--lattice",
        "4x4",
        "--cutoff",
        BUMP,
        "--Lambda",
        "1.3",
        "--lam",
        "0.05,0.1",
        "--n-traj",
        "60",
        "--n-therm",
        "10",
        "--seed",
        "11",
        "--no-progress",
        "--json",
    ]
    out = {}
    for sched in (None, "local:2"):
        with pytest.raises(SystemExit) as exc:
            main(args + ([] if sched is None else ["--scheduler", sched]))
        assert exc.value.code == 0
        d = json.loads(capsys.readouterr().out)["results"]
        d["meta"].pop("batch")
        out[sched] = d
    assert out[None] == out["local:2"]
    assert all(p["mc"]["error"] > 0 for p in out[None]["points"])  # not a trivial observable
