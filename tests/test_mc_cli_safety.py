"""Data safety, resource guards and strict JSON of ``ergsym mc`` / ``ergsym crosscheck``."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ergsym.cli import main
from ergsym.lattice.checkpoint import load_checkpoint

BUMP = "bump:eps=0.5,lambda_max=2"
FAST = [
    "--lattice",
    "4x4",
    "--cutoff",
    BUMP,
    "--Lambda",
    "1.5",
    "--lam",
    "1",
    "--n-traj",
    "60",
    "--n-therm",
    "10",
    "--no-progress",
]
ROOT = Path(__file__).resolve().parents[1]


def _run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return exc.value.code, out.out, out.err


def _strict(text):
    def bad(tok):
        raise AssertionError(f"non-strict JSON token {tok}")

    return json.loads(text, parse_constant=bad)


def test_checkpoint_is_never_overwritten_without_force(tmp_path, capsys):
    ck = tmp_path / "run.npz"
    code, _, _ = _run(["mc", *FAST, "--checkpoint", str(ck)], capsys)
    assert code == 0 and ck.exists()
    before = ck.read_bytes()
    code, _, err = _run(["mc", *FAST, "--seed", "5", "--checkpoint", str(ck)], capsys)
    assert code == 2 and "--checkpoint" in err and "--force" in err
    assert ck.read_bytes() == before
    code, _, _ = _run(["mc", *FAST, "--seed", "5", "--checkpoint", str(ck), "--force"], capsys)
    assert code == 0 and ck.read_bytes() != before


def test_checkpoint_in_missing_directory_exits_2_before_computing(tmp_path, capsys):
    t0 = time.perf_counter()
    code, _, err = _run(["mc", "--n-traj", "100000", "--checkpoint", str(tmp_path / "no" / "c.npz")], capsys)
    assert code == 2 and "create the directory" in err
    assert time.perf_counter() - t0 < 5  # refused before 100000 trajectories ran


def test_resume_refuses_other_options_but_extends_n_traj(tmp_path, capsys):
    ck = tmp_path / "run.npz"
    assert _run(["mc", *FAST, "--checkpoint", str(ck)], capsys)[0] == 0
    code, _, err = _run(["mc", "--resume", str(ck), "--lam", "2", "--seed", "3", "--no-progress"], capsys)
    assert code == 2 and "--lam" in err and "--seed" in err and "--n-traj" in err
    code, out, _ = _run(["mc", "--resume", str(ck), "--n-traj", "90", "--no-progress", "--json"], capsys)
    assert code == 0
    res = _strict(out)["results"]
    assert res["n_traj"] == 90 and res["n_measurements"] == 80
    assert load_checkpoint(ck)[0]["n_done"] == 90
    code, _, err = _run(["mc", "--resume", str(ck), "--n-traj", "50", "--no-progress"], capsys)
    assert code == 2 and "n_traj" in err


def test_bad_checkpoints_exit_2(tmp_path, capsys):
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"\x93NUMPY junk")
    for path, needle in [(tmp_path / "missing.npz", "does not exist"), (junk, "not a readable")]:
        code, _, err = _run(["mc", "--resume", str(path), "--no-progress"], capsys)
        assert code == 2 and needle in err and "pickle" not in err.lower()


def _valid_checkpoint(path):
    try:
        return load_checkpoint(path)[0]["n_done"] > 0
    except Exception:  # noqa: BLE001 - not there yet
        return False


def test_ctrl_c_prints_the_checkpoint_and_the_resume_command(tmp_path):
    ck = tmp_path / "long run.npz"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ergsym",
            "mc",
            "--lattice",
            "8x8",
            "--n-traj",
            "10000000",
            "--n-therm",
            "5",
            "--checkpoint",
            str(ck),
            "--force",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a suite started in the background (`pytest &`) ignores SIGINT and its
        # children would inherit that: the child gets the default handler back
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 120 and proc.poll() is None:
            # a real sign of progress: the first periodic checkpoint, readable and with
            # finished trajectories (the CLI never creates the path before that)
            if ck.exists() and _valid_checkpoint(ck):
                break
            time.sleep(0.2)
        assert proc.poll() is None, proc.communicate()[1]
        assert _valid_checkpoint(ck), "no checkpoint within 120 s"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()  # close the pipes (no ResourceWarning in a later test)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert f"ergsym mc --resume '{ck}'" in err
    meta, _ = load_checkpoint(ck)
    assert meta["n_done"] > 0


def test_huge_lattice_is_refused_quickly(capsys):
    t0 = time.perf_counter()
    code, _, err = _run(["mc", "--lattice", "10000x10000", "--no-progress"], capsys)
    assert code == 2 and "GiB" in err and "--force" in err
    assert time.perf_counter() - t0 < 5


@pytest.mark.parametrize("plot,needle", [("nodir/x.png", "create the directory"), ("x.bmp", ".png")])
def test_crosscheck_plot_validated_before_computing(tmp_path, capsys, plot, needle):
    t0 = time.perf_counter()
    code, _, err = _run(["crosscheck", "--n-traj", "100000", "--plot", str(tmp_path / plot)], capsys)
    assert code == 2 and needle in err
    assert time.perf_counter() - t0 < 5


def test_crosscheck_exact_observable_gives_null_z_with_reason(capsys):
    # eq5.13 (old P2) with the Schwinger-Dyson estimator is exactly -2 f0, and so is the series
    # (8x8 at Lambda = 1 has D_p != 0; on 4x4 at Lambda = 1.5 D_p vanishes and nothing is compared)
    code, out, err = _run(
        [
            "crosscheck",
            "--lattice",
            "8x8",
            "--cutoff",
            BUMP,
            "--Lambda",
            "1",
            "--lam",
            "0.05,0.1",
            "--form",
            "P2",
            "--n-traj",
            "150",
            "--n-therm",
            "10",
            "--no-progress",
            "--json",
        ],
        capsys,
    )
    assert code == 0
    env = _strict(out)
    res = env["results"]
    assert res["form"] == "eq5.13"
    for p in res["points"]:
        assert p["z"] is None and "exact" in p["z_reason"] and p["verdict"] == "exact"
    assert any("z-score undefined" in w for w in env["warnings"])
    assert res["verdict"] == "exact" and res["points"][0]["mc"]["value"] != 0


def test_lattice_with_vanishing_D_p_warns(capsys):
    # 4x4, Lambda = 1, eps = 0.5: no lattice phat^2 lies where dK/dLambda != 0
    args = ["--lattice", "4x4", "--cutoff", BUMP, "--Lambda", "1", "--n-traj", "60", "--n-therm", "10", "--no-progress"]
    code, out, err = _run(["mc", *args, "--lam", "0.1", "--json"], capsys)
    assert code == 0 and "D_p" in err
    assert any("D_p" in w for w in _strict(out)["warnings"])
    code, out, err = _run(["crosscheck", *args, "--lam", "0.05,0.1", "--json"], capsys)
    assert code == 0 and "D_p" in err


def test_frozen_run_warns_and_is_not_converged(capsys):
    code, out, err = _run(
        ["mc", "--lam", "1000", "--n-steps", "1", "--n-therm", "0", "--n-traj", "100", "--no-progress", "--json"],
        capsys,
    )
    assert code == 0 and "warning: acceptance" in err
    env = _strict(out)
    assert env["results"]["observables"]["eq5.14"]["converged"] is False
    assert any("acceptance" in w for w in env["warnings"])


def test_progress_is_quiet_off_a_terminal_and_text_marks_status(capsys):
    code, out, err = _run(["mc", *FAST[:-1], "--chains", "3"], capsys)  # no --no-progress
    assert code == 0 and "\r" not in err
    assert "3 chain(s)" in out and "R-hat" in out and "exact" in out
