"""A new user's papercuts in the command line (issue 19): each test failed before its fix."""

import builtins
import json
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ergsym.cli import common, main
from ergsym.errors import InputError


def _run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return exc.value.code, out.out, out.err


# --- output files: the probe never creates the path it validates ------------------------------


def test_output_file_probe_never_creates_the_path(tmp_path, monkeypatch):
    # A process waiting for a checkpoint to appear must never see the start-up probe: record
    # every path opened while validating and check the target is not among them.
    target = tmp_path / "run.npz"
    opened = []
    real_open, real_os_open = builtins.open, os.open

    def spy_open(file, *a, **k):
        opened.append(os.fspath(file) if not isinstance(file, int) else file)
        return real_open(file, *a, **k)

    def spy_os_open(file, *a, **k):
        opened.append(os.fspath(file))
        return real_os_open(file, *a, **k)

    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(os, "open", spy_os_open)
    assert common.output_file(target, "--checkpoint", (), force=False) == target
    monkeypatch.undo()
    assert str(target) not in opened
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []  # the sibling probe file is gone too


def test_output_file_probe_still_refuses_unwritable_places(tmp_path):
    with pytest.raises(InputError, match="--plot.*at most"):
        common.output_file(tmp_path / ("x" * 300 + ".png"), "--plot", common.PLOT_EXTENSIONS)
    if os.path.isdir("/proc/self"):
        with pytest.raises(InputError, match="--checkpoint"):
            common.output_file("/proc/self/ergsym-test.npz", "--checkpoint", ())


# --- one seeding path and one set of defaults for crosscheck ----------------------------------

CROSS = [
    "crosscheck",
    "--lattice",
    "4x4",
    "--cutoff",
    "bump:eps=0.5,lambda_max=2",
    "--Lambda",
    "1.3",
    "--lam",
    "0.05,0.1",
    "--n-traj",
    "40",
    "--n-therm",
    "10",
    "--seed",
    "11",
    "--no-progress",
    "--json",
]


def _results(args, capsys):
    code, out, err = _run(args, capsys)
    assert code == 0, err
    res = json.loads(out)["results"]
    res["meta"].pop("batch", None)
    return res


def test_crosscheck_default_equals_scheduler_inprocess_bitwise(capsys):
    # the default ran seeds seed + i, a batch SeedSequence(seed).spawn(n): different numbers
    default = _results(CROSS, capsys)
    inproc = _results(CROSS + ["--scheduler", "inprocess"], capsys)
    assert default == inproc
    assert all(p["mc"]["error"] > 0 for p in default["points"])


def test_crosscheck_cli_defaults_are_the_api_defaults():
    import inspect

    import click

    from ergsym.batch import crosscheck_ensemble
    from ergsym.cli.mc import crosscheck
    from ergsym.lattice.crosscheck import crosscheck as api_crosscheck

    cli = {p.name: p.default for p in crosscheck.params if isinstance(p, click.Option)}
    for func in (api_crosscheck, crosscheck_ensemble):
        sig = inspect.signature(func).parameters
        for name in ("n_traj", "n_therm", "seed", "order", "estimator"):
            assert cli[name] == sig[name].default, (func.__name__, name)
    assert cli["form"] == inspect.signature(api_crosscheck).parameters["form"].default


# --- options that were silently ignored or mislabelled ----------------------------------------


def test_flow_lattice_with_another_dim_exits_2_naming_both(capsys):
    code, out, err = _run(["flow", "--lattice", "8x8", "--dim", "4"], capsys)
    assert code == 2 and out == ""
    assert "--dim=4" in err and "--lattice='8x8'" in err and "2-dimensional" in err


def test_flow_lattice_with_its_own_dim_runs(capsys):
    code, out, _ = _run(["flow", "--lattice", "4x4", "--dim", "2", "--json"], capsys)
    assert code == 0 and json.loads(out)["parameters"]["lattice"] == "4x4"


def test_monotone_form_and_pieces_are_both_shown(capsys):
    code, out, _ = _run(
        ["monotone", "--order", "2", "--form", "A", "--piece", "eq5.14", "--piece", "eq5.11", "--json"], capsys
    )
    assert code == 0
    env = json.loads(out)
    assert env["parameters"]["forms"] == ["A", "eq5.14", "eq5.11"]
    assert {"A", "eq5.14", "eq5.11"} <= set(env["results"])
    code, out, _ = _run(["monotone", "--order", "2", "--piece", "eq5.14", "--json"], capsys)
    assert json.loads(out)["parameters"]["forms"] == ["eq5.14"]  # --form left at its default: pieces alone


def test_mc_seeds_with_seed_exits_2(capsys):
    code, _, err = _run(["mc", "--seeds", "0,1", "--seed", "5", "--no-progress"], capsys)
    assert code == 2 and "--seed=5" in err and "--seeds='0,1'" in err


def test_variational_resume_with_settings_exits_2_naming_them(tmp_path, capsys):
    ck = tmp_path / "v.npz"
    ck.write_bytes(b"not read: the options are checked first")
    code, _, err = _run(["variational", "--resume", str(ck), "--lam", "5", "--Lambda0", "1.2"], capsys)
    assert code == 2 and "--lam" in err and "--Lambda0" in err and "--resume" in err


@pytest.mark.parametrize(
    "args,needles",
    [
        (["--mc-lattice", "8x8x8"], ["--mc-lattice='8x8x8'", "2-d", "3-d"]),
        (["--no-mc", "--mc-lattice", "8x8"], ["--mc-lattice='8x8'", "--no-mc"]),
        (["--no-mc", "--mc-lam", "0.1"], ["--mc-lam='0.1'", "--no-mc"]),
    ],
)
def test_report_refuses_mislabelled_or_ignored_mc_options(tmp_path, capsys, args, needles):
    out_dir = tmp_path / "r"
    code, out, err = _run(["report", "--quick", "--no-flow", "--no-pdf", "--out", str(out_dir), *args], capsys)
    assert code == 2 and out == ""
    for n in needles:
        assert n in err
    assert not out_dir.exists()


def test_report_out_with_missing_parents_is_refused_like_other_paths(tmp_path, capsys):
    target = tmp_path / "no" / "a" / "b"
    code, _, err = _run(["report", "--quick", "--no-mc", "--no-flow", "--no-pdf", "--out", str(target)], capsys)
    assert code == 2 and "--out" in err and "create the directory" in err
    assert not (tmp_path / "no").exists()  # nothing was created


# --- huge couplings: refusals naming --lam, never an internal error or an unbounded run --------


@pytest.mark.parametrize(
    "args",
    [
        ["flow", "--lam", "1e200", "--json"],
        ["flow", "--lam", "1e308"],
        ["flow", "--lattice", "4x4", "--lam", "1e200"],
        [
            "monotone",
            "--order",
            "2",
            "--dim",
            "2",
            "--cutoff",
            "bump:eps=0.5,lambda_max=2",
            "--mass",
            "1",
            "--Lambda",
            "1.3",
            "--lam",
            "1e308",
            "--json",
        ],
        ["report", "--quick", "--no-mc", "--no-flow", "--no-pdf", "--lam", "1e308"],
    ],
)
def test_series_at_huge_coupling_is_refused_naming_lam(args, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(args, capsys)
    assert code == 2 and out == ""
    assert "--lam=1e+" in err and "|lam| <= 1e+100" in err and "internal error" not in err
    assert "RuntimeWarning" not in err


@pytest.mark.parametrize(
    "args,n_traj",
    [
        (["mc", "--lattice", "4x4", "--n-traj", "300", "--lam", "1e308"], 300),
        (["mc", "--lattice", "4x4", "--n-traj", "300", "--lam", "1e308", "--seeds", "0,1"], 600),
        (["crosscheck", "--lattice", "4x4", "--n-traj", "300", "--lam", "0.1,1e308"], 600),
        (["variational", "--lattice", "4x4", "--lam", "1e308"], None),
    ],
)
def test_monte_carlo_at_huge_coupling_is_refused_before_running(args, n_traj, capsys):
    # the HMC's step count grows like lam^(1/4): at 1e308 it hits the 10000-step cap
    # (4.5 s per trajectory on 4x4); the pre-flight refuses, naming --lam and its range
    code, out, err = _run(args + ["--no-progress"] if args[0] != "variational" else args, capsys)
    assert code == 2 and out == ""
    assert "--lam=1e+308" in err and "--lam must be in [0, " in err and "4x4" in err and "--force" in err
    if n_traj is not None:
        assert f"{n_traj} trajectories" in err


def test_report_monte_carlo_at_huge_coupling_is_refused_before_any_section(tmp_path, capsys):
    code, out, err = _run(
        ["report", "--quick", "--no-flow", "--no-pdf", "--mc-lam", "0.1,1e300", "--out", str(tmp_path / "r")], capsys
    )
    assert code == 2 and "--mc-lam=1e+300" in err and "16x16" in err and "--force" not in err
    assert not (tmp_path / "r").exists() and "[1/" not in err


def test_allowed_coupling_range_is_where_the_step_count_stays_below_the_cap():
    # the range printed is the largest lam whose first-guess step count is below the cap
    import re

    from ergsym.cli.common import MAX_HMC_STEPS, mc_preflight
    from ergsym.cutoffs import parse_cutoff
    from ergsym.inputs import as_lattice
    from ergsym.lattice.hmc import default_n_steps
    from ergsym.lattice.theory import LatticeTheory

    lat = as_lattice("4x4")
    th = LatticeTheory.from_cutoff(lat, parse_cutoff("bump:eps=0.5,lambda_max=2"), 1.0, 1.0, 0.0)
    with pytest.raises(InputError) as exc:
        mc_preflight(lat, lambda: th, [1e20], 300)
    lam_max = float(re.search(r"in \[0, ([0-9.e+]+)\]", str(exc.value)).group(1))
    assert default_n_steps(th.with_lam(lam_max * 0.999)) < MAX_HMC_STEPS
    assert default_n_steps(th.with_lam(lam_max * 1.01)) >= MAX_HMC_STEPS
    est = mc_preflight(lat, lambda: th, [lam_max * 0.999], 300)  # just inside: accepted
    assert est["seconds"] > 0
    mc_preflight(lat, lambda: th, [1e20], 300, force=True)  # --force runs anyway


def test_value_without_error_is_not_converged_in_json(capsys):
    common.echo_json(
        "x",
        {},
        {
            "a": {"value": 1.0, "error": float("inf"), "converged": True},
            "b": {"value": 2.0, "error": 0.0, "converged": True},
            "c": {"value": 3.0, "error": None, "converged": True, "exact": True},
        },
    )
    cap = capsys.readouterr()
    env = json.loads(cap.out)
    assert env["results"]["a"] == {"value": 1.0, "error": None, "converged": False}
    assert env["results"]["b"]["converged"] is True and env["results"]["c"]["converged"] is True
    assert any("results.a" in w for w in env["warnings"]) and "results.a" in cap.err


def test_series_sum_refuses_overflow_with_the_range():
    from ergsym.inputs import series_sum

    assert series_sum([1.0, 2.0, 3.0], 0.5) == 1.0 + 1.0 + 0.75
    assert series_sum([1.0, 2.0], -2.0, [0.1, 0.1]) == (-3.0, pytest.approx(0.3))
    assert series_sum([1.0, 0.0, 0.0], 1e200) == 1.0  # zero coefficients never overflow
    # (1e300 / 1e250)^(1/2) = 1e25: a coefficient large enough to overflow at an allowed coupling
    with pytest.raises(InputError, match=r"--lam=1e\+30 .*\|lam\| <= 1e\+25 for this O\(lam\^2\)"):
        series_sum([1.0, 1.0, 1e250], 1e30)


# --- output niceties ---------------------------------------------------------------------------

MC_SMALL = [
    "mc",
    "--lattice",
    "4x4",
    "--cutoff",
    "bump:eps=0.5,lambda_max=2",
    "--Lambda",
    "1.3",
    "--lam",
    "0.1",
    "--n-traj",
    "40",
    "--n-therm",
    "10",
]


def test_mc_prints_an_estimate_and_progress_lines_when_stderr_is_not_a_terminal(capsys, monkeypatch):
    import ergsym.cli.mc as mc_cli

    monkeypatch.setattr(mc_cli, "PROGRESS_EVERY_S", 0.0)  # a line after every trajectory
    code, _, err = _run(MC_SMALL, capsys)  # capsys: stderr is not a terminal
    assert code == 0
    assert "mc lam=0.1: 40 trajectories, estimated" in err
    assert "mc lam=0.1: 40/40 trajectories (100%)" in err and "left" in err
    code, _, err = _run(MC_SMALL + ["--no-progress"], capsys)
    assert code == 0 and "trajectories" not in err


CROSS_SMALL = [
    "crosscheck",
    "--lattice",
    "4x4",
    "--cutoff",
    "bump:eps=0.5,lambda_max=2",
    "--Lambda",
    "1.3",
    "--lam",
    "0.05,0.1",
    "--n-traj",
    "40",
    "--n-therm",
    "10",
    "--seed",
    "3",
]


def test_crosscheck_ctrl_c_prints_what_is_kept_and_the_resume_command(tmp_path, capsys, monkeypatch):
    import ergsym.batch.kinds as kinds

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(kinds, "run_mc_points", interrupted)
    store = tmp_path / "s"
    code, _, err = _run(CROSS_SMALL + ["--store", str(store)], capsys)
    assert code == 130
    assert f"finished task(s) are kept in the store {store}" in err
    assert "ergsym crosscheck --lattice 4x4" in err and f"--store {store}" in err
    code, _, err = _run(CROSS_SMALL, capsys)
    assert code == 130 and "nothing was saved" in err and "--store" in err


def test_resumed_batch_says_how_many_tasks_it_reused(tmp_path, capsys):
    args = CROSS_SMALL + ["--store", str(tmp_path / "s"), "--no-progress", "--json"]
    code, out1, _ = _run(args, capsys)
    assert code == 0
    code, out2, err = _run(args, capsys)
    assert code == 0 and "2 of 2 tasks read back (finished before), 0 to run" in err
    assert json.loads(out2)["results"]["points"] == json.loads(out1)["results"]["points"]


def test_outputs_honour_the_umask(tmp_path, capsys):
    import stat

    import numpy as np

    from ergsym.lattice.checkpoint import save_checkpoint

    old = os.umask(0o022)
    try:
        save_checkpoint(tmp_path / "c.npz", {"x": 1}, {"a": np.zeros(2)})
        assert stat.S_IMODE(os.stat(tmp_path / "c.npz").st_mode) == 0o644  # was 0600 (mkstemp)
        code, _, _ = _run(CROSS_SMALL + ["--store", str(tmp_path / "s"), "--no-progress"], capsys)
        assert code == 0
        files = list((tmp_path / "s").rglob("*.json"))
        assert files and all(stat.S_IMODE(os.stat(f).st_mode) == 0o644 for f in files)
        out = tmp_path / "r"
        # a theory other than phi^4: its phi^4-only sections are built with no progress step
        code, _, err = _run(
            ["report", "--quick", "--no-flow", "--no-pdf", "--theory", "phi4+phi6", "--order", "1", "--out", str(out)],
            capsys,
        )
        assert code == 0
        assert stat.S_IMODE(os.stat(out).st_mode) == 0o755  # was 0700 (mkdtemp)
        assert "lattice Monte Carlo" not in err and "[1/" in err
    finally:
        os.umask(old)


# --- values as text: rounded to their error (JSON keeps full precision) ------------------------


@pytest.mark.parametrize(
    "value,error,kw,expected",
    [
        # the line: error 1.6e-19, truncation 1.1e-05 -> the digits the truncation leaves
        (0.0999886033258, 1.6e-19, dict(truncation=1.1e-05), "0.099989 ± 1.6e-19"),
        (10.5854606099, 1.5e-13, dict(truncation=2.2e-07), "10.58546061 ± 1.5e-13"),
        (1.2345678, 0.012, {}, "1.235 ± 0.012"),
        (-3.14159e-7, 2.0e-9, {}, "-3.142e-07 ± 2e-09"),
        (0.5, 0.0, {}, "0.5 ± 0"),  # no usable error: 12 significant digits
        (2.0 / 3.0, None, {}, "0.666666666667"),
        (2.0 / 3.0, None, dict(exact=True), "0.666666666667 (exact)"),
        (0.001, 0.5, {}, "0.001 ± 0.5"),  # an error larger than the value: one digit
        (None, None, {}, "null"),
    ],
)
def test_format_value_rounds_to_the_uncertainty(value, error, kw, expected):
    from ergsym.textfmt import format_value

    assert format_value(value, error, **kw) == expected


def test_flow_text_rounds_the_running_coupling_to_its_truncation(capsys):
    code, out, _ = _run(["flow"], capsys)
    assert code == 0
    line = next(x for x in out.splitlines() if "lam(Lambda)" in x)
    assert "0.099989 ± 1.6e-19" in line and "0.0999886033258" not in line
    code, out, _ = _run(["flow", "--json"], capsys)  # JSON keeps full precision
    assert json.loads(out)["results"]["couplings"]["lam"]["sum"]["value"] == pytest.approx(0.0999886033258, rel=1e-12)


def test_crosscheck_force_reaches_every_run(capsys, monkeypatch):
    # every crosscheck now runs as a batch: --force (run beyond the limits) must reach run_mc
    import ergsym.batch.kinds as kinds

    seen = []
    real = kinds.mc_task

    def spy(**kw):
        seen.append(kw["mc_options"].get("force"))
        return real(**kw)

    monkeypatch.setattr(kinds, "mc_task", spy)
    code, _, _ = _run(CROSS_SMALL + ["--force", "--no-progress"], capsys)
    assert code == 0 and seen == [True, True]
    seen.clear()
    code, _, _ = _run(CROSS_SMALL + ["--no-progress"], capsys)
    assert code == 0 and seen == [None, None]


@given(value=st.floats(-1e12, 1e12, allow_nan=False).filter(lambda v: abs(v) > 1e-12), error=st.floats(1e-15, 1e6))
def test_format_value_keeps_what_the_error_leaves(value, error):
    # the printed value is within 5% of the error of the value (two digits of the error kept),
    # or within the 12-digit cap; and the error itself is printed with two digits
    from ergsym.textfmt import format_value

    text = format_value(value, error)
    shown, shown_err = text.split(" ± ")
    assert abs(float(shown) - value) <= max(0.05 * error, 5e-12 * abs(value)) * (1 + 1e-9)
    assert float(shown_err) == pytest.approx(error, rel=0.05)
