"""The ``ergsym variational`` command: JSON contract, checkpoint/resume, exit codes."""
import json

import pytest

from ergsym.cli import main

SMALL = ["variational", "--lattice", "8x8", "--cutoff", "bump:eps=0.5,lambda_max=2", "--mass", "1",
         "--Lambda0", "1.3", "--Lambda", "1.0", "--lam", "0.5", "--n-samples", "300", "--n-jack", "4"]


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


@pytest.mark.slow
def test_json_contract_and_resume(capsys, tmp_path):
    ck = tmp_path / "run.npz"
    code, out, _ = run(SMALL + ["--steps", "3", "--json", "--checkpoint", str(ck)], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["command"] == "variational" and data["schema"] == "ergsym/1"
    r = data["results"]
    for entry in [r["phi2"]] + r["G_p"]:
        assert set(entry["variational"]) >= {"value", "error"} and set(entry["exact"]) >= {"value", "error"}
        assert isinstance(entry["z"], float)
    # the two orbits the bump moves between Lambda = 1.3 and 1.0: phat^2 = 2(2 - sqrt 2) and 2
    assert [g["phat2"] for g in r["G_p"]] == pytest.approx([2 * (2 - 2 ** 0.5), 2.0], abs=1e-9)
    assert r["M_minus_M0"]["variational"]["error"] > 0 and len(r["M_steps"]) == 3
    # an existing checkpoint is not overwritten without --force
    code, _, err = run(SMALL + ["--steps", "3", "--checkpoint", str(ck)], capsys)
    assert code == 2 and "--force" in err
    # resuming a finished flow reproduces it
    code, out2, _ = run(["variational", "--resume", str(ck), "--json"], capsys)
    assert code == 0
    r2 = json.loads(out2)["results"]
    assert [m["value"] for m in r2["M_steps"]] == pytest.approx([m["value"] for m in r["M_steps"]], rel=1e-12)
    assert r2["phi2"]["variational"]["value"] == pytest.approx(r["phi2"]["variational"]["value"], rel=1e-10)


@pytest.mark.parametrize("bad", [["--steps", "0"], ["--Lambda", "1.5"], ["--lam", "-1"], ["--n-samples", "5"],
                                 ["--lam", "nan"], ["--mass", "0"]])
def test_bad_input_exits_2(capsys, bad):
    code, _, err = run(SMALL + bad, capsys)
    assert code == 2 and "Error" in err


def test_help_cites_the_paper():
    from click.testing import CliRunner
    from ergsym.cli import cli
    out = CliRunner().invoke(cli, ["variational", "--help"]).output
    assert "Section VI" in out and "SPEC" not in out
