"""A new user's papercuts in the command line (issue 19): each test failed before its fix."""
import builtins
import json
import os

import pytest

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

CROSS = ["crosscheck", "--lattice", "4x4", "--cutoff", "bump:eps=0.5,lambda_max=2", "--Lambda", "1.3",
         "--lam", "0.05,0.1", "--n-traj", "40", "--n-therm", "10", "--seed", "11", "--no-progress", "--json"]


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
    code, out, _ = _run(["monotone", "--order", "2", "--form", "A", "--piece", "eq5.14", "--piece", "eq5.11",
                         "--json"], capsys)
    assert code == 0
    env = json.loads(out)
    assert env["parameters"]["forms"] == ["A", "eq5.14", "eq5.11"]
    assert {"A", "eq5.14", "eq5.11"} <= set(env["results"])
    code, out, _ = _run(["monotone", "--order", "2", "--piece", "eq5.14", "--json"], capsys)
    assert json.loads(out)["parameters"]["forms"] == ["eq5.14"]  # --form left at its default: pieces alone


def test_mc_seeds_with_seed_exits_2(capsys):
    code, _, err = _run(["mc", "--seeds", "0,1", "--seed", "5", "--no-progress"], capsys)
    assert code == 2 and "--seed=5" in err and "--seeds='0,1'" in err


@pytest.mark.parametrize("args,needles", [
    (["--mc-lattice", "8x8x8"], ["--mc-lattice='8x8x8'", "2-d", "3-d"]),
    (["--no-mc", "--mc-lattice", "8x8"], ["--mc-lattice='8x8'", "--no-mc"]),
    (["--no-mc", "--mc-lam", "0.1"], ["--mc-lam='0.1'", "--no-mc"]),
])
def test_report_refuses_mislabelled_or_ignored_mc_options(tmp_path, capsys, args, needles):
    out_dir = tmp_path / "r"
    code, out, err = _run(["report", "--quick", "--no-flow", "--no-pdf", "--out", str(out_dir), *args],
                          capsys)
    assert code == 2 and out == ""
    for n in needles:
        assert n in err
    assert not out_dir.exists()


def test_report_out_with_missing_parents_is_refused_like_other_paths(tmp_path, capsys):
    target = tmp_path / "no" / "a" / "b"
    code, _, err = _run(["report", "--quick", "--no-mc", "--no-flow", "--no-pdf", "--out", str(target)],
                        capsys)
    assert code == 2 and "--out" in err and "create the directory" in err
    assert not (tmp_path / "no").exists()  # nothing was created
