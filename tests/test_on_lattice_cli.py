"""`ergsym mc --N`: the O(N) Monte Carlo from the command line (docs/lattice.md, "O(N) models")."""

import json
import subprocess
import sys

import pytest

from ergsym.cli import main
from ergsym.cutoffs import ExponentialCutoff
from ergsym.lattice.theory import LatticeTheory

BASE = ["mc", "--lattice", "4x4", "--cutoff", "exp", "--Lambda", "1.5", "--no-progress"]


def _run_cli(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_mc_n3_json_records_n(capsys):
    code, out, _ = _run_cli(BASE + ["--N", "3", "--lam", "0", "--n-traj", "300", "--json"], capsys)
    assert code == 0
    d = json.loads(out)
    r = d["results"]
    assert d["parameters"]["N"] == 3 and r["N"] == 3
    f0 = r["exact"]["f0"]
    assert r["exact"]["eq5.13"] == pytest.approx(-2 * 3 * f0)
    # free field: the improved estimators are exact, A = 3/2 N f0, B = 1/2 N f0
    assert r["observables"]["A_sd"]["exact"] and r["observables"]["A_sd"]["value"] == pytest.approx(4.5 * f0)
    assert r["observables"]["B_sd"]["value"] == pytest.approx(1.5 * f0)


def test_mc_n1_json_default(capsys):
    code, out, _ = _run_cli(BASE + ["--lam", "0.5", "--n-traj", "60", "--json"], capsys)
    assert code == 0
    d = json.loads(out)
    assert d["parameters"]["N"] == 1 and d["results"]["N"] == 1


@pytest.mark.parametrize("bad", ["0", "-1", "2.5", "x", "", "5000"])
def test_mc_bad_n_exits_2(bad, capsys):
    code, _, err = _run_cli(BASE + ["--N", bad, "--n-traj", "50"], capsys)
    assert code == 2
    assert "--N" in err and "Traceback" not in err


def test_mc_n3_checkpoint_resume(tmp_path):
    """A checkpoint records N; --resume continues the O(3) run (subprocess: the user's path)."""
    ck = tmp_path / "o3.npz"
    cmd = [sys.executable, "-m", "ergsym"] + BASE + ["--N", "3", "--lam", "1", "--n-traj", "80"]
    p = subprocess.run(cmd + ["--checkpoint", str(ck)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    p = subprocess.run(
        [sys.executable, "-m", "ergsym", "mc", "--resume", str(ck), "--n-traj", "120", "--json", "--no-progress"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)["results"]
    assert r["N"] == 3 and r["n_traj"] == 120


def test_crosscheck_n3_cli_json(capsys):
    """`ergsym crosscheck --N 3`: the O(3) Monte Carlo against the O(3) engine's lattice series."""
    code, out, _ = _run_cli(
        ["crosscheck", "--lattice", "4x4", "--cutoff", "exp", "--Lambda", "1.5", "--N", "3"]
        + ["--lam", "0.1,0.3", "--order", "2", "--n-traj", "800", "--no-progress", "--json"],
        capsys,
    )
    assert code == 0
    d = json.loads(out)
    assert d["parameters"]["N"] == 3
    r = d["results"]
    assert r["meta"]["N"] == 3
    # c0 is the free B summed over components: N f0 / 2 (f0 = sum_p D_p/Kt_p)
    f0 = LatticeTheory.from_cutoff((4, 4), ExponentialCutoff(1), 1.0, 1.5).f0
    assert r["coefficients"][0] == pytest.approx(0.5 * 3 * f0, rel=1e-12)
    assert r["verdict"] == "agrees", r["verdict_reason"]


def test_crosscheck_n3_wrong_series_disagrees():
    """The same comparison with the N = 1 coefficients (a wrong N) comes out 'disagrees'."""
    from ergsym.lattice.crosscheck import crosscheck, series_coefficients

    base = LatticeTheory.from_cutoff((4, 4), ExponentialCutoff(1), 1.0, 1.5)
    wrong = series_coefficients("B", base.shape, base.kt_p, base.d_p, 2)  # N = 1
    right = series_coefficients("B", base.shape, base.kt_p, base.d_p, 2, N=3)
    assert right[0] == pytest.approx(3 * wrong[0]) and right[1] == pytest.approx(5 * wrong[1])  # N (N+2)/3
    res = crosscheck(
        (4, 4), ExponentialCutoff(1), 1.0, 1.5, [0.1, 0.3], "B", order=2, n_traj=600, N=3, coefficients=wrong
    )
    assert res.verdict == "disagrees", res.verdict_reason
