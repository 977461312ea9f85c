"""O(N) Monte Carlo batches: ``ergsym mc --N`` with ``--seeds``, several ``--lam``, ``--scheduler``
and ``--store``; ``ergsym crosscheck --N`` as a batch (docs/ensembles.md, docs/lattice.md).

References: each batch run must equal, bitwise, the single run ``run_mc`` of the same theory,
coupling and seed (what ``ergsym mc --N N --lam L --seed S`` runs); N = 1 batches keep their
manifests and JSON parameters as before (no ``N`` recorded).
"""

import json

import pytest

from ergsym.batch import run_mc_points, theory_spec
from ergsym.cli import main
from ergsym.cutoffs import parse_cutoff
from ergsym.lattice.run import run_mc
from ergsym.lattice.theory import LatticeTheory

CUT = "exp"
MC = ["mc", "--lattice", "3x3", "--cutoff", CUT, "--Lambda", "1.5", "--n-therm", "10", "--no-progress"]


def _run_cli(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def _theory(N, lam):
    return LatticeTheory.from_cutoff((3, 3), parse_cutoff(CUT), 1.0, 1.5, lam, N=N)


def test_n2_batch_of_two_seeds_equals_the_single_runs(capsys):
    code, out, err = _run_cli(MC + ["--N", "2", "--lam", "1", "--n-traj", "60", "--seeds", "0,5", "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert d["parameters"]["N"] == 2 and d["parameters"]["seeds"] == [0, 5]
    runs = d["results"]["runs"]
    th = _theory(2, 1.0)
    for run, seed in zip(runs, (0, 5)):
        ref = run_mc(th, 60, seed=seed, n_therm=10, progress=False)
        assert run["seed"] == seed and run["acceptance"] == ref.acceptance
        for name in ("phi2", "A", "B", "B_sd", "eq5.14"):
            assert run["observables"][name]["value"] == ref.stats(name).mean, name  # bitwise
            assert run["observables"][name]["error"] == ref.stats(name).error_of_mean, name
    # the two seeds differ, and they are N = 2 runs: not the N = 1 run of the same seed
    assert runs[0]["observables"]["phi2"]["value"] != runs[1]["observables"]["phi2"]["value"]
    one = run_mc(_theory(1, 1.0), 60, seed=0, n_therm=10, progress=False)
    assert runs[0]["observables"]["phi2"]["value"] != one.stats("phi2").mean


def test_n3_several_couplings_and_text_output(capsys):
    code, out, err = _run_cli(MC + ["--N", "3", "--lam", "0,2", "--n-traj", "40", "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    pts = d["results"]["points"]
    assert [p["lam"] for p in pts] == [0.0, 2.0]
    f0 = _theory(3, 0.0).f0
    # lam = 0: the improved B estimator is exact, B = N f0 / 2 (docs/lattice.md)
    assert pts[0]["combined"]["B_sd"]["value"] == pytest.approx(1.5 * f0, rel=1e-12)
    ref = run_mc(_theory(3, 2.0), 40, seed=0, n_therm=10, progress=False)
    assert pts[1]["runs"][0]["observables"]["phi2"]["value"] == ref.stats("phi2").mean
    code, out, _ = _run_cli(MC + ["--N", "3", "--lam", "0,2", "--n-traj", "40"], capsys)
    assert code == 0 and "O(3) model" in out


def test_store_records_n_and_refuses_another_n(tmp_path, capsys):
    store = tmp_path / "runs"
    args = MC + ["--lam", "1", "--n-traj", "30", "--seeds", "1,2", "--store", str(store), "--json"]
    code, out, err = _run_cli(args + ["--N", "2"], capsys)
    assert code == 0, err
    manifest = json.loads((store / "manifest.json").read_text())
    assert manifest["description"]["N"] == 2
    assert all(t["kwargs"]["theory"]["N"] == 2 for t in manifest["tasks"])
    first = json.loads(out)["results"]
    # the same command resumes: nothing is recomputed, the numbers are the same
    code, out, _ = _run_cli(args + ["--N", "2"], capsys)
    again = json.loads(out)["results"]
    assert code == 0 and again["batch"]["executed"] == 0 and again["runs"] == first["runs"]
    # another N: refused with a message that names both
    for other in ("3", "1"):
        code, _, err = _run_cli(args + ["--N", other], capsys)
        assert code == 2 and "Traceback" not in err
        assert "N = 2" in err and f"N = {other}" in err and "--N 2" in err, err
    # --force discards it
    code, out, _ = _run_cli(args + ["--N", "3", "--force"], capsys)
    assert code == 0 and json.loads((store / "manifest.json").read_text())["description"]["N"] == 3


def test_n1_batch_records_no_n(tmp_path, capsys):
    """N = 1 stores and parameters are those of before O(N) (a store made before still resumes)."""
    store = tmp_path / "n1"
    code, out, _ = _run_cli(
        MC + ["--lam", "1", "--n-traj", "30", "--seeds", "1", "--store", str(store), "--json"], capsys
    )
    assert code == 0
    manifest = json.loads((store / "manifest.json").read_text())
    assert manifest["description"] == {"kind": "mc"}
    assert "N" not in manifest["tasks"][0]["kwargs"]["theory"]
    assert "N" not in json.loads(out)["parameters"]
    # ... and an N = 2 batch in it is refused, naming N
    code, _, err = _run_cli(
        MC + ["--N", "2", "--lam", "1", "--n-traj", "30", "--seeds", "1", "--store", str(store)], capsys
    )
    assert code == 2 and "N = 1" in err


def test_api_run_mc_points_with_n():
    th = _theory(2, 0.0)
    out, batch = run_mc_points(th, [(0.5, 4)], 30, n_therm=5, observables=["phi2"])
    ref = run_mc(th.with_lam(0.5), 30, seed=4, n_therm=5, progress=False)
    assert out[0]["stats"]["phi2"] == ref.stats("phi2")
    assert theory_spec(lattice="3x3", cutoff=CUT, N=2)["N"] == 2
    assert "N" not in theory_spec(lattice="3x3", cutoff=CUT)


def test_crosscheck_n3_batch_store_and_replicas(tmp_path, capsys):
    store = tmp_path / "cc"
    args = [
        "crosscheck",
        "--lattice",
        "3x3",
        "--cutoff",
        CUT,
        "--Lambda",
        "1.5",
        "--N",
        "3",
        "--lam",
        "0.05,0.1",
        "--n-traj",
        "60",
        "--replicas",
        "2",
        "--no-progress",
        "--plot",
        "",
        "--json",
        "--scheduler",
        "inprocess",
        "--store",
        str(store),
    ]
    code, out, err = _run_cli(args, capsys)
    assert code == 0, err
    d = json.loads(out)
    assert d["parameters"]["N"] == 3 and d["results"]["meta"]["N"] == 3
    assert d["results"]["meta"]["batch"]["executed"] == 4
    assert json.loads((store / "manifest.json").read_text())["description"]["N"] == 3
    code, out, _ = _run_cli(args, capsys)  # resumed: the same numbers, nothing rerun
    again = json.loads(out)["results"]
    assert code == 0 and again["meta"]["batch"]["executed"] == 0 and again["points"] == d["results"]["points"]


@pytest.mark.slow
def test_n2_batch_local_cluster_equals_inprocess(capsys):
    pytest.importorskip("distributed")
    args = MC + ["--N", "2", "--lam", "0.5,3", "--n-traj", "40", "--seeds", "0,1", "--json"]
    res = {}
    for sched in ("inprocess", "local:2"):
        code, out, err = _run_cli(args + ["--scheduler", sched], capsys)
        assert code == 0, err
        d = json.loads(out)["results"]
        assert d["batch"]["scheduler"] == sched
        d.pop("batch")
        res[sched] = d
    assert res["local:2"] == res["inprocess"]
