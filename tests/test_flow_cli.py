"""``ergsym flow`` at its edges: refusals before any work, warnings, one strict JSON envelope."""

import json
import time

import pytest

from ergsym.cli import main

LAT = ["--lattice", "8x8", "--cutoff", "bump:eps=0.5,lambda_max=2", "--Lambda0", "1.5"]


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["flow"] + list(args))
    cap = capsys.readouterr()
    return exc.value.code, cap.out, cap.err


def test_json_envelope_value_objects_and_strictness(capsys):
    code, out, err = run(LAT + ["--Lambda", "0.6", "--lam", "0.1", "--M", "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)  # strict: json.loads rejects nothing, so check tokens too
    assert "NaN" not in out and "Infinity" not in out
    assert set(doc) == {"ergsym_version", "schema", "command", "parameters", "results", "warnings"}
    assert doc["command"] == "flow" and doc["parameters"]["lattice"] == "8x8"
    res = doc["results"]
    b = res["monotone"]["B"]
    for v in b["per_order"] + [b["sum"]]:
        assert {"value", "error", "converged"} <= set(v)
    assert b["sum"]["value"] == pytest.approx(sum(p["value"] * 0.1**k for k, p in enumerate(b["per_order"])))
    assert b["sum"]["truncation"] == pytest.approx(abs(b["per_order"][2]["value"]) * 0.01)
    assert b["sum"]["ratio_of_last_terms"] == pytest.approx(
        abs(b["per_order"][2]["value"] * 0.01) / abs(b["per_order"][1]["value"] * 0.1)
    )
    assert res["couplings"]["lam"]["per_order"][1]["value"] == 1.0
    assert any(t["description"].endswith("phi(x0)^3 phi(x1)^3") for t in res["interaction"])
    m = res["M_minus_M0"]["total"]
    assert m["converged"] is True and m["error"] > 0
    assert doc["warnings"] == []


def test_strong_coupling_sum_warns_and_is_not_converged(capsys):
    code, out, err = run(LAT + ["--Lambda", "0.6", "--lam", "1e6", "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    s = doc["results"]["monotone"]["B"]["sum"]
    assert s["converged"] is False and s["ratio_of_last_terms"] > 1 and s["truncation_dominates"]
    assert any("truncation estimate" in w and "range of validity" in w for w in doc["warnings"])
    assert "warning: B at Lambda=0.6" in err
    # and in text, the flag is visible
    code, out, err = run(LAT + ["--Lambda", "0.6", "--lam", "1e6"], capsys)
    assert code == 0 and "NOT CONVERGED" in out and "truncation ~" in out


def test_vanishing_D_p_warns(capsys):
    code, out, err = run(
        ["--lattice", "4x4", "--cutoff", "bump:eps=0.5,lambda_max=2", "--Lambda0", "1.5", "--Lambda", "1", "--json"],
        capsys,
    )
    assert code == 0
    doc = json.loads(out)
    assert any("D_p = Lambda dK/dLambda vanishes at every lattice momentum" in w for w in doc["warnings"])
    assert "vanishes at every lattice momentum" in err


@pytest.mark.parametrize(
    "args,name",
    [
        (["--n-log", "0"], "--n-log"),
        (["--n-log", "1", "--M"], "--n-log"),
        (["--lam", "nan"], "--lam"),
        (["--lam", "inf"], "--lam"),
        (["--lam", "abc"], "--lam"),
        (["--scan", "1"], "--scan"),
        (["--rtol", "0"], "--rtol"),
        (["--Lambda", "2"], "Lambda"),
        (["--order", "3"], "order"),
    ],
)
def test_bad_input_exit_2_without_traceback(args, name, capsys):
    code, out, err = run(LAT + args, capsys)
    assert code == 2
    assert name in err and "Traceback" not in err


def test_tiny_Lambda_is_refused_before_starting(capsys):
    t = time.perf_counter()
    code, out, err = run(["--Lambda", "1e-6", "--lam", "0.1"], capsys)
    assert code == 2
    assert "--force" in err and "GB" in err
    assert time.perf_counter() - t < 30  # refused up front (generous: shared machine)


@pytest.mark.parametrize("plot,why", [("missing-dir/flow.png", "existing directory"), ("flow.xyz", "ending in one of")])
def test_bad_plot_path_is_refused_before_computing(tmp_path, plot, why, capsys):
    code, out, err = run(LAT + ["--Lambda", "0.5", "--scan", "3", "--plot", str(tmp_path / plot)], capsys)
    assert code == 2 and why in err and "--plot" in err


def test_scan_plot_and_no_overwrite_without_force(tmp_path, capsys):
    png = tmp_path / "flow.png"
    args = [
        "--lattice",
        "6x6",
        "--cutoff",
        "bump:eps=0.5,lambda_max=2",
        "--Lambda0",
        "1.5",
        "--Lambda",
        "0.5",
        "--scan",
        "3",
        "--plot",
        str(png),
    ]
    code, out, err = run(args, capsys)
    assert code == 0, err
    assert png.stat().st_size > 1000
    code, out, err = run(args, capsys)
    assert code == 2 and "--force" in err
    code, out, err = run(args + ["--force", "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert len(doc["results"]["scan"]) == 3
    assert all(p["M_minus_M0"]["total"]["converged"] in (True, False) for p in doc["results"]["scan"])
