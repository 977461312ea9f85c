"""The ``ergsym lpa`` command: output, strict JSON, scans as batches, plots, exit codes."""

import json
import re

import pytest

from ergsym.cli import main

NU_BJL, OMEGA_BJL = 0.649561773880, 0.655745939193  # hep-th/0701172 (LPA, N = 1, d = 3)


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["lpa", *args])
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def strict(text):
    def bad(token):
        raise ValueError(f"non-RFC-8259 token {token}")

    return json.loads(text, parse_constant=bad)


def test_text_output(capsys):
    code, out, err = run([], capsys)
    assert code == 0, err
    assert "nu    = 0.64956177388" in out and "omega = 0.6557459392" in out
    assert "magnetic, exact 2.5" in out and "redundant (field shift), exact 0.5" in out
    assert "cross-check, Wetterich (Litim regulator) equation through Morris's map: AGREES" in out
    assert "fixed points found: gaussian (2 relevant), wilson-fisher (1 relevant)" in out


@pytest.mark.parametrize("eq", ["polchinski", "wetterich"])
def test_json(capsys, eq):
    code, out, _ = run(["--N", "1", "--dim", "3", "--equation", eq, "--json"], capsys)
    assert code == 0
    data = strict(out)
    assert data["command"] == "lpa" and data["schema"] == "ergsym/1"
    r = data["results"]
    assert r["converged"] and r["crosscheck"]["verdict"] == "agrees"
    assert abs(r["nu"]["value"] - NU_BJL) < 1e-9 and abs(r["omega"]["value"] - OMEGA_BJL) < 1e-9
    assert r["fixed_point"]["equation"] == eq and r["other_equation"]["equation"] != eq
    labels = [e["label"] for e in r["fixed_point"]["odd"]]
    assert "magnetic" in labels and "redundant (field shift)" in labels


def test_scan_N_batch_store_and_plot(capsys, tmp_path):
    png = tmp_path / "nu.png"
    store = tmp_path / "store"
    args = ["--scan-N", "1,2,3", "--dim", "3", "--store", str(store), "--plot", str(png), "--json"]
    code, out, err = run(args, capsys)
    assert code == 0, err
    pts = strict(out)["results"]["points"]
    assert [p["N"] for p in pts] == [1, 2, 3] and all(p["ok"] for p in pts)
    assert all(p["crosscheck"] == "agrees" for p in pts)
    assert pts[0]["nu"]["value"] == pytest.approx(NU_BJL, abs=1e-9)
    assert png.stat().st_size > 0 and len(list((store / "tasks").iterdir())) >= 3
    # the plot is not overwritten without --force; with it, the store is reused (same numbers)
    code, _, err = run(args, capsys)
    assert code == 2 and "--force" in err
    code, out2, _ = run(args + ["--force"], capsys)
    assert code == 0
    assert [p["nu"]["value"] for p in strict(out2)["results"]["points"]] == [p["nu"]["value"] for p in pts]


def test_n_infinity(capsys):
    code, out, _ = run(["--N", "inf", "--dim", "3", "--json"], capsys)
    assert code == 0
    data = strict(out)
    assert data["parameters"]["N"] == "infinity" and data["results"]["N"] == "infinity"
    assert data["warnings"] == []
    assert data["results"]["nu"] == {"value": 1.0, "error": 0.0, "converged": True}
    code, out, _ = run(["--scan-N", "20,inf", "--dim", "3"], capsys)
    assert code == 0 and "1 (exact)" in out


def test_scan_dim_text(capsys):
    code, out, err = run(["--scan-dim", "2.8:3.2:3", "--N", "2"], capsys)
    assert code == 0, err
    rows = [line for line in out.splitlines() if line.strip().startswith(("2.8", "3 ", "3.2"))]
    assert len(rows) == 3 and all("agrees" in r for r in rows)


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--dim", "4"], "dim"),
        (["--dim", "2.05"], "dim"),
        (["--N", "0.5"], "N"),
        (["--N", "abc"], "N"),
        (["--tol", "0"], "tol"),
        (["--scan-N", "1,x"], "--scan-N"),
        (["--scan-N", "1,1"], "distinct"),
        (["--scan-dim", "2.5:3.5:1"], "COUNT"),
        (["--scan-dim", "3,5"], "dim"),
        (["--scan-N", "1,2", "--scan-dim", "3,3.1"], "one parameter"),
        (["--plot", "out.txt"], "--plot"),
        (["--scheduler", "inprocess"], "--scan"),
        (["--dim", "3.95", "--equation", "wetterich", "--tol", "1e-9"], "tol"),  # no convergence
    ],
)
def test_bad_input_exit_2(capsys, args, needle):
    code, out, err = run(args, capsys)
    assert code == 2
    assert needle in err and "Traceback" not in err and out == ""


# -- fuzz: whatever the options, the command ends with 0 (a result) or 2 (a refusal), no traceback,
#    strict JSON and no non-finite number on stdout (as tests/test_cli_fuzz.py does for the others)
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_BAD = [
    "nan",
    "inf",
    "-inf",
    "infinity",
    "-1",
    "0",
    "1e-300",
    "1e300",
    "x",
    "",
    "1,2",
    "0x10",
    "2.2",
    "3.97",
    "3.98",
    "1",
    "4",
    "1e8",
]
_NAN = re.compile(r"(?<![A-Za-z_])[-+]?(nan|NaN|inf|Inf)(?![A-Za-z_])|(?<![A-Za-z_])-?Infinity(?![A-Za-z_])")


@settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None, max_examples=15
)
@given(data=st.data())
def test_fuzz_lpa(data, capsys, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    opts = ["--N", "--dim", "--tol", "--scan-N", "--scan-dim", "--plot", "--equation"]
    opt = data.draw(st.sampled_from(opts))
    if opt == "--plot":
        val = data.draw(st.sampled_from([f"{tmp}/a.png", f"{tmp}/a.gif", f"{tmp}/no/dir/a.png", "", str(tmp)]))
    elif opt == "--equation":
        val = data.draw(st.sampled_from(["polchinski", "wetterich", "lpa", ""]))
    elif opt.startswith("--scan"):
        val = data.draw(st.sampled_from(["1,2", "1:3:2", "1:3:1", "x", "", "3,nan", "2.5:3:2", "inf,1"]))
    else:
        val = data.draw(st.sampled_from(_BAD))
    argv = [opt, val] + data.draw(st.sampled_from([[], ["--json"]]))
    if opt == "--tol" and val not in ("x", "", "nan", "1,2", "0x10"):
        argv += ["--dim", "3"]
    code, out, err = run(argv, capsys)
    assert code in (0, 2), (argv, err[-1000:])
    assert "Traceback" not in err
    if code == 0:
        if "--json" in argv:
            strict(out)
        assert _NAN.search(out) is None, (argv, out[:500])
    else:
        assert err.strip()
