"""ergsym.batch: tasks, seeds, result store and resume, scheduler parsing, the CLI routes.

The tests that start a real Dask cluster are in tests/test_batch_dask.py.
"""

import json
import math
import os
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ergsym.batch import (
    BatchTaskError,
    DaskUnavailableError,
    InProcessRunner,
    ResultStore,
    Task,
    integral_scan,
    make_runner,
    normalize,
    parse_scheduler,
    rng_from_seed,
    run_batch,
    run_mc_points,
    spawn_seeds,
    theory_spec,
)
from ergsym.cli import main
from ergsym.errors import InputError

BUMP = "bump:eps=0.5,lambda_max=2"


def _run_cli(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


# --- a counting task: appends one line per execution to a file --------------------------------


def count_task(log, x, fail_on=None):
    with open(log, "a") as fh:
        fh.write(f"{x}\n")
    if fail_on is not None and x == fail_on:
        raise RuntimeError(f"task {x} fails on purpose")
    rng = np.random.default_rng(np.random.SeedSequence(1234, spawn_key=(x,)))
    return {"x": x, "draw": float(rng.standard_normal()), "arr": rng.standard_normal(3)}


def _tasks(log, n, **extra):
    return [Task(f"x={i}", f"{__name__}:count_task", {"log": str(log), "x": i, **extra}) for i in range(n)]


def _executions(log):
    if not os.path.exists(log):
        return []
    with open(log) as fh:
        return [int(s) for s in fh.read().split()]


def _same(a, b):
    """Bitwise equality of two result dicts (numpy arrays compared with array_equal)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return type(a) is type(b) and a == b


# --- seeds and tasks --------------------------------------------------------------------------


def test_spawned_seeds_equal_seedsequence_spawn_in_any_order():
    seeds = spawn_seeds(7, 5)
    children = np.random.SeedSequence(7).spawn(5)
    for i in (4, 0, 2, 3, 1):  # any order: a task's stream depends on (root, i) only
        a = rng_from_seed(seeds[i]).standard_normal(4)
        b = np.random.default_rng(children[i]).standard_normal(4)
        assert np.array_equal(a, b)
    assert not np.array_equal(rng_from_seed(seeds[0]).standard_normal(4), rng_from_seed(seeds[1]).standard_normal(4))
    # an int seed is the generator of `ergsym mc --seed S`
    assert np.array_equal(rng_from_seed(3).random(3), np.random.default_rng(3).random(3))
    with pytest.raises(InputError, match="seed"):
        spawn_seeds(-1, 2)
    with pytest.raises(InputError, match="n="):
        spawn_seeds(0, 0)


def test_task_is_plain_data_and_results_round_trip_exactly():
    t = Task("a=1", "math:hypot", {"x": (3, 4), "y": np.float64(0.1)})
    assert t.kwargs == {"x": [3, 4], "y": 0.1}
    assert t.digest == Task("a=1", "math:hypot", {"y": 0.1, "x": [3, 4]}).digest
    assert t.digest != Task("a=2", "math:hypot", {"x": [3, 4], "y": 0.1}).digest
    with pytest.raises(InputError, match="kwargs.c"):
        Task("k", "m:f", {"c": object()})
    with pytest.raises(InputError, match="kwargs.v"):
        Task("k", "m:f", {"v": math.nan})
    with pytest.raises(InputError, match="key"):
        Task("has space", "m:f")
    with pytest.raises(InputError, match="func"):
        Task("k", "no_colon")
    r = normalize({"f": 0.1 + 0.2, "n": np.int64(3), "t": (1.5, math.inf), "nan": math.nan, "a": np.arange(3.0)})
    assert r["f"] == 0.1 + 0.2 and type(r["n"]) is int and r["t"] == [1.5, math.inf]
    assert math.isnan(r["nan"]) and np.array_equal(r["a"], np.arange(3.0))


# --- scheduler strings ------------------------------------------------------------------------


def test_import_ergsym_batch_does_not_import_dask():
    import subprocess

    code = "import sys, ergsym.batch; print('distributed' in sys.modules or 'dask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_parse_scheduler_forms():
    assert parse_scheduler(None) == ("inprocess", None)
    assert parse_scheduler("inprocess") == ("inprocess", None)
    assert parse_scheduler("local:3") == ("local", 3)
    assert parse_scheduler("tcp://127.0.0.1:8786") == ("address", "tcp://127.0.0.1:8786")
    assert isinstance(make_runner(None), InProcessRunner)
    for bad in (
        "local",
        "local:0",
        "local:-1",
        "local:x",
        "tcp://host",
        "tcp://h:99999",
        "udp://h:1",
        "8786",
        "cluster",
    ):
        with pytest.raises(InputError, match=r"--scheduler=.*must be 'inprocess'"):
            parse_scheduler(bad)


@pytest.mark.parametrize(
    "cmd",
    [
        ["crosscheck", "--no-progress", "--plot", ""],
        ["mc", "--no-progress"],
        ["integrals", "--cutoff", "bump:eps=0.1,lambda_max=2", "--dim", "4", "--scan", "Lambda=0.5:1:3"],
        ["flow", "--lattice", "4x4", "--scan", "3"],
    ],
)
@pytest.mark.parametrize("bad", ["local:zero", "tcp://nohost", "banana"])
def test_cli_bad_scheduler_exits_2_before_computing(cmd, bad, capsys):
    code, out, err = _run_cli(cmd + ["--scheduler", bad], capsys)
    assert code == 2
    assert f"--scheduler={bad!r}" in err and "local:N" in err and "tcp://HOST:PORT" in err
    assert out == ""


def test_missing_dask_gives_install_hint(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` now fails
    with pytest.raises(DaskUnavailableError, match=r'pip install "ergsym\[dask\]"'):
        make_runner("local:2")
    with pytest.raises(DaskUnavailableError, match="tcp://127.0.0.1:8786"):
        make_runner("tcp://127.0.0.1:8786")
    code, out, err = _run_cli(["crosscheck", "--scheduler", "local:2", "--no-progress", "--plot", ""], capsys)
    assert code == 2 and 'pip install "ergsym[dask]"' in err and out == ""
    # the in-process runner needs no Dask
    res = run_batch(_tasks(os.devnull, 2), None, progress=False)
    assert list(res.results) == ["x=0", "x=1"]


# --- store and resume -------------------------------------------------------------------------


def test_resume_does_not_redo_finished_tasks(tmp_path):
    log = tmp_path / "log.txt"
    store = tmp_path / "store"
    tasks = _tasks(log, 6)

    def stop_after_two(key, result):
        if len(_executions(log)) == 2:
            raise KeyboardInterrupt  # Ctrl-C after the second finished task

    with pytest.raises(KeyboardInterrupt):
        run_batch(tasks, "inprocess", store=store, progress=False, on_result=stop_after_two)
    assert _executions(log) == [0, 1]
    res = run_batch(tasks, "inprocess", store=store, progress=False)
    assert _executions(log) == [0, 1, 2, 3, 4, 5]  # every task ran exactly once
    assert res.reused == ["x=0", "x=1"] and res.executed == ["x=2", "x=3", "x=4", "x=5"]
    fresh = run_batch(_tasks(tmp_path / "other.txt", 6), progress=False)
    for k in res.results:  # stored (JSON + npz) results equal fresh ones bitwise
        assert _same({a: b for a, b in res[k].items()}, fresh[k])
    # a third run does nothing
    again = run_batch(tasks, store=store, progress=False)
    assert again.executed == [] and len(_executions(log)) == 6


def test_failed_task_keeps_finished_results(tmp_path):
    log = tmp_path / "log.txt"
    store = tmp_path / "store"
    with pytest.raises(BatchTaskError, match="task 'x=3' failed: RuntimeError: task 3 fails") as exc:
        run_batch(_tasks(log, 5, fail_on=3), store=store, progress=False)
    assert exc.value.key == "x=3" and isinstance(exc.value.__cause__, RuntimeError)
    st = ResultStore(store, _tasks(log, 5, fail_on=3))
    assert st.finished() == {"x=0", "x=1", "x=2"}


def test_store_refuses_a_different_batch_unless_force(tmp_path):
    log = tmp_path / "log.txt"
    store = tmp_path / "store"
    run_batch(_tasks(log, 3), store=store, progress=False)
    with pytest.raises(InputError, match="store=.*different batch.*--force"):
        run_batch(_tasks(log, 4), store=store, progress=False)
    with pytest.raises(InputError, match="different batch"):
        run_batch(_tasks(log, 3), store=store, progress=False, description={"kind": "other"})
    res = run_batch(_tasks(log, 4), store=store, progress=False, force=True)
    assert res.reused == [] and len(res.executed) == 4
    manifest = json.loads((store / "manifest.json").read_text())
    assert [t["key"] for t in manifest["tasks"]] == ["x=0", "x=1", "x=2", "x=3"]
    (tmp_path / "afile").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        run_batch(_tasks(log, 1), store=tmp_path / "afile", progress=False)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="other files"):
        run_batch(_tasks(log, 1), store=tmp_path / "busy", progress=False)


def test_store_redoes_unreadable_or_stale_task_files(tmp_path):
    log = tmp_path / "log.txt"
    store = tmp_path / "store"
    tasks = _tasks(log, 3)
    run_batch(tasks, store=store, progress=False)
    files = sorted((store / "tasks").glob("*.json"))
    assert len(files) == 3 and not list((store / "tasks").glob("*.tmp"))
    files[0].write_text("{truncated")  # e.g. a file damaged by hand
    res = run_batch(tasks, store=store, progress=False)
    assert len(res.executed) == 1 and len(_executions(log)) == 4


def test_progress_is_one_line_per_task_without_a_tty(tmp_path, capsys):
    run_batch(_tasks(tmp_path / "l", 3), progress=True, label="demo")
    err = capsys.readouterr().err.splitlines()
    assert [e.split(" done")[0] for e in err] == ["demo: 1/3", "demo: 2/3", "demo: 3/3"]


# --- task kinds -------------------------------------------------------------------------------


def test_mc_points_equal_run_mc_with_the_same_seed():
    from ergsym.cutoffs import parse_cutoff
    from ergsym.lattice.run import run_mc
    from ergsym.lattice.theory import LatticeTheory

    th = LatticeTheory.from_cutoff((8, 8), parse_cutoff(BUMP), 1.0, 1.0, 0.0)
    spawned = spawn_seeds(11, 2)
    runs, batch = run_mc_points(th, [(0.3, 5), (0.3, spawned[1])], 120, n_therm=10)
    direct = run_mc(th.with_lam(0.3), 120, seed=5, n_therm=10, progress=False)
    assert runs[0]["stats"] == direct.all_stats and runs[0]["acceptance"] == direct.acceptance
    direct = run_mc(
        th.with_lam(0.3),
        120,
        rng=np.random.default_rng(np.random.SeedSequence(11).spawn(2)[1]),
        n_therm=10,
        progress=False,
    )
    assert runs[1]["stats"] == direct.all_stats
    # a spec-string theory gives the same tasks' results as the LatticeTheory arrays
    spec = theory_spec(lattice="8x8", cutoff=BUMP, mass=1.0, Lambda=1.0)
    runs2, _ = run_mc_points(spec, [(0.3, 5)], 120, n_therm=10)
    assert runs2[0]["stats"] == runs[0]["stats"]


def test_report_hook_reproduces_the_report_loop():
    # the loop of ergsym.report.lattice_sections.lattice_section: seed cfg.seed + i, n_therm 20
    from ergsym.batch import report_lattice_runs
    from ergsym.cutoffs import parse_cutoff
    from ergsym.lattice.run import run_mc
    from ergsym.lattice.sums import lattice_propagators
    from ergsym.lattice.theory import LatticeTheory

    kt, d = lattice_propagators("8x8", parse_cutoff(BUMP), 1.0, 1.0)
    base = LatticeTheory(kt.shape, kt, d, 0.0)
    stats, runs = report_lattice_runs(base, [0.05, 0.1], 100, seed=3, runner="inprocess")
    for i, lam in enumerate([0.05, 0.1]):
        res = run_mc(base.with_lam(lam), 100, seed=3 + i, n_therm=20, progress=False)
        assert stats["A"][i] == res.stats("A_sd") and stats["B"][i] == res.stats("B_sd")
        assert runs[i]["acceptance"] == res.acceptance and runs[i]["lam"] == lam
        assert runs[i]["tau_int_B"] == res.stats("B_sd").tau_corr and runs[i]["elapsed_s"] > 0
        assert stats["B"][i].error_of_mean > 0  # D_p != 0 on 8x8: a non-trivial observable


def test_cli_mc_seeds_runs_equal_single_seed_runs(capsys):
    from ergsym.cutoffs import parse_cutoff
    from ergsym.lattice.run import run_mc
    from ergsym.lattice.theory import LatticeTheory

    code, out, _ = _run_cli(
        [
            "mc",
            "--lattice",
            "8x8",
            "--cutoff",
            BUMP,
            "--lam",
            "0.5",
            "--n-traj",
            "150",
            "--n-therm",
            "20",
            "--seeds",
            "0,3",
            "--no-progress",
            "--json",
        ],
        capsys,
    )
    assert code == 0
    d = json.loads(out)
    assert d["command"] == "mc" and d["parameters"]["seeds"] == [0, 3]
    th = LatticeTheory.from_cutoff((8, 8), parse_cutoff(BUMP), 1.0, 1.0, 0.5)
    means = []
    for run, seed in zip(d["results"]["runs"], (0, 3)):
        ref = run_mc(th, 150, seed=seed, n_therm=20, progress=False)
        assert run["seed"] == seed
        assert run["observables"]["B_sd"]["value"] == ref.stats("B_sd").mean
        assert run["observables"]["B_sd"]["error"] == ref.stats("B_sd").error_of_mean
        means.append(ref.stats("B_sd").mean)
        assert ref.stats("B_sd").error_of_mean > 0
    comb = d["results"]["combined"]["B_sd"]
    assert comb["value"] == pytest.approx(sum(means) / 2, rel=1e-15)
    code, _, err = _run_cli(["mc", "--seeds", "0,x", "--no-progress"], capsys)
    assert code == 2 and "--seeds" in err


def test_cli_crosscheck_replicas_inprocess_and_store_resume(tmp_path, capsys):
    args = [
        "crosscheck",
        "--lattice",
        "8x8",
        "--cutoff",
        BUMP,
        "--lams",
        "0.05,0.1",
        "--n-traj",
        "150",
        "--replicas",
        "2",
        "--seed",
        "4",
        "--no-progress",
        "--plot",
        "",
        "--json",
    ]
    code, out, _ = _run_cli(args + ["--store", str(tmp_path / "s")], capsys)
    assert code == 0
    first = json.loads(out)["results"]
    assert first["meta"]["batch"]["executed"] == 4 and first["meta"]["replicas"] == 2
    assert len(list((tmp_path / "s" / "tasks").glob("*.json"))) == 4
    code, out, _ = _run_cli(args + ["--store", str(tmp_path / "s")], capsys)
    again = json.loads(out)["results"]
    assert again["meta"]["batch"]["executed"] == 0 and again["meta"]["batch"]["reused"] == 4
    assert again["points"] == first["points"] and again["c2"] == first["c2"]
    code, _, err = _run_cli(args[:-1] + ["--n-traj", "160", "--store", str(tmp_path / "s")], capsys)
    assert code == 2 and "different batch" in err
    assert all(p["mc"]["error"] > 0 and abs(p["z"]) < 5 for p in first["points"])  # the physics checks out


def test_integral_scan_in_chunks_agrees_with_one_scan_within_errors():
    from ergsym.numeric import evaluate_named

    cut = "bump:eps=0.1,lambda_max=2"
    grid = [0.6, 0.8, 1.0, 1.2, 1.4]
    merged, batch = integral_scan(
        cut, 4, 1.0, 1.0, scan="Lambda", grid=grid, names=["f0", "T"], chunk=2, progress=False
    )
    assert list(batch.results) == ["points=0-1", "points=2-3", "points=4-4"]
    ref = evaluate_named(cut, 4, 1.0, np.array(grid), names=["f0", "T"])
    for n in ("f0", "T"):
        v, e = np.array(merged[n]["value"]), np.array(merged[n]["error"])
        assert len(v) == 5 and all(merged[n]["converged"])
        assert np.all(np.abs(v - ref[n].estimate) <= e + np.asarray(ref[n].error))


def test_cli_integrals_and_flow_scans_as_batches(tmp_path, capsys):
    base = [
        "integrals",
        "--cutoff",
        "bump:eps=0.1,lambda_max=2",
        "--dim",
        "4",
        "--scan",
        "mass=0.5:1.5:3",
        "--names",
        "f0,t1",
        "--json",
    ]
    code, plain, _ = _run_cli(base, capsys)
    code2, batched, _ = _run_cli(base + ["--scheduler", "inprocess", "--store", str(tmp_path / "i")], capsys)
    assert code == code2 == 0
    # 3 points are one chunk: the same numbers (the parameters also name the scheduler and store)
    assert json.loads(batched)["results"] == json.loads(plain)["results"]
    fl = ["flow", "--lattice", "4x4", "--Lambda0", "1.5", "--Lambda", "0.5", "--scan", "3", "--json"]
    code, plain, _ = _run_cli(fl, capsys)
    code2, batched, err = _run_cli(fl + ["--store", str(tmp_path / "f")], capsys)
    assert code == code2 == 0 and json.loads(batched)["results"] == json.loads(plain)["results"]
    assert err.count("flow: ") == 3  # progress: one line per finished scale


@pytest.mark.slow
def test_unreachable_scheduler_exit_2(capsys, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setenv("ERGSYM_DASK_CONNECT_TIMEOUT", "0.5")  # no fixed 10 s wait
    code, out, err = _run_cli(["mc", "--scheduler", "tcp://127.0.0.1:1", "--no-progress"], capsys)
    assert code == 2 and "tcp://127.0.0.1:1" in err and "dask scheduler" in err and out == ""


_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.text(max_size=8),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.floats(allow_nan=False, width=64), max_size=4).map(np.array),
)
_results = st.recursive(
    _leaf,
    lambda kids: st.one_of(st.lists(kids, max_size=3), st.dictionaries(st.text(max_size=5), kids, max_size=3)),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=5), _results, max_size=4))
def test_store_round_trip_is_exact(tmp_path_factory, result):
    # what a runner returns (normalize) equals what the store reads back, bit for bit
    path = tmp_path_factory.mktemp("rt") / "store"
    task = Task("k", "math:hypot", {})
    store = ResultStore(path, [task])
    fresh = normalize(result)
    store.save(task, fresh, 0.5)
    back, secs = store.load("k")
    assert _same(back, fresh) and secs == 0.5
    assert _same(normalize(fresh), fresh)


def test_cli_mc_several_couplings_is_a_batch_of_single_runs(capsys):
    from ergsym.cutoffs import parse_cutoff
    from ergsym.lattice.run import run_mc
    from ergsym.lattice.theory import LatticeTheory

    code, out, _ = _run_cli(
        [
            "mc",
            "--lattice",
            "8x8",
            "--cutoff",
            BUMP,
            "--lam",
            "0.2,0.6",
            "--n-traj",
            "150",
            "--n-therm",
            "20",
            "--no-progress",
            "--json",
        ],
        capsys,
    )
    assert code == 0
    d = json.loads(out)
    assert d["parameters"]["lam"] == [0.2, 0.6] and [p["lam"] for p in d["results"]["points"]] == [0.2, 0.6]
    for p in d["results"]["points"]:
        ref = run_mc(
            LatticeTheory.from_cutoff((8, 8), parse_cutoff(BUMP), 1.0, 1.0, p["lam"]),
            150,
            seed=0,
            n_therm=20,
            progress=False,
        )
        assert p["combined"]["B_sd"]["value"] == ref.stats("B_sd").mean  # one seed: the run itself
        assert p["combined"]["B_sd"]["converged"] is bool(ref.stats("B_sd").reliable)
    code, _, err = _run_cli(["mc", "--lam", "0.2,0.2", "--no-progress"], capsys)
    assert code == 2 and "distinct" in err


def test_dask_connect_timeout_is_configurable_and_checked(monkeypatch):
    from ergsym.batch.runners import DASK_CONNECT_TIMEOUT, connect_timeout

    monkeypatch.delenv("ERGSYM_DASK_CONNECT_TIMEOUT", raising=False)
    assert connect_timeout() == DASK_CONNECT_TIMEOUT == 10.0
    monkeypatch.setenv("ERGSYM_DASK_CONNECT_TIMEOUT", "0.25")
    assert connect_timeout() == 0.25 and connect_timeout(3) == 3.0
    for bad in ("abc", "0", "-1", "nan"):
        monkeypatch.setenv("ERGSYM_DASK_CONNECT_TIMEOUT", bad)
        with pytest.raises(InputError, match="ERGSYM_DASK_CONNECT_TIMEOUT"):
            connect_timeout()
