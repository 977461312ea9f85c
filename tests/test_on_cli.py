"""``ergsym monotone --N``: O(N) models from the command line (symbolic N or an integer)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from ergsym.cli import main
from ergsym.cutoffs import parse_cutoff
from ergsym.lattice.sums import lattice_propagators, series_on_lattice
from ergsym.symbolic import Theory, monotone
from ergsym.symbolic.npoly import NPoly


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def _strict(text):
    def no_constant(name):
        raise ValueError(f"non-finite JSON number {name}")

    return json.loads(text, parse_constant=no_constant)


LATTICE = ["--lattice", "8x8", "--cutoff", "bump:eps=0.5,lambda_max=2", "--mass", "1", "--Lambda", "1"]


@pytest.mark.parametrize("extra", [[], ["--scheme", "normal-ordered"], LATTICE + ["--lam", "0.1"]])
def test_n_one_json_is_identical_to_the_single_scalar_output(extra, capsys):
    base = ["monotone", "--order", "3", "--form", "B", "--json"] + extra
    c0, out0, _ = run(base, capsys)
    c1, out1, _ = run(base + ["--N", "1"], capsys)
    assert c0 == c1 == 0
    a, b = _strict(out0), _strict(out1)
    assert a["parameters"] == b["parameters"] and "N" not in a["parameters"]
    assert a["results"] == b["results"]


def test_symbolic_n_json_gives_polynomials_that_reduce_to_n_one(capsys):
    code, out, _ = run(["monotone", "--order", "3", "--form", "A", "--N", "N", "--json"], capsys)
    assert code == 0
    env = _strict(out)
    assert env["parameters"]["N"] == "N" and env["parameters"]["theory"]["N"] == "N"
    assert "comparison_with_printed" not in env["results"]  # the paper's numbers are N = 1 only
    one = monotone(3, "A").to_dict()
    want = {(o["order"], t["family"]): t["coefficient"] for o in one["orders"] for t in o["terms"]}
    got = {
        (o["order"], t["family"]): NPoly.parse(t["coefficient"])
        for o in env["results"]["A"]["orders"]
        for t in o["terms"]
    }
    assert got.keys() == want.keys()
    for key, poly in got.items():
        assert str(poly(1)) == want[key]
    # order 1 of A is the tadpole: N(N+2)/3 times its N = 1 coefficient -5/4
    assert got[(1, "f1")] == NPoly.N() * (NPoly.N() + 2) * NPoly((-5,)) / 12


def test_human_output_prints_polynomials_in_n(capsys):
    code, out, _ = run(["monotone", "--order", "1", "--form", "B", "--N", "N"], capsys)
    assert code == 0
    assert "O(1): (N^2/12 + N/6) lam f1" in out and "summed over the N components" in out
    assert "printed" not in out


def test_integer_n_on_a_lattice_equals_the_lattice_sums_of_the_n_series(capsys):
    code, out, _ = run(["monotone", "--order", "2", "--form", "B", "--N", "3", "--json"] + LATTICE, capsys)
    assert code == 0
    env = _strict(out)
    assert env["parameters"]["N"] == 3
    rows = env["results"]["quantities"]["B"]["coefficients"]
    kt, d = lattice_propagators((8, 8), parse_cutoff("bump:eps=0.5,lambda_max=2"), 1.0, 1.0)
    assert (d != 0).any()  # some lattice momentum lies in the support of D
    want = series_on_lattice(monotone(2, "B", theory=Theory(N=3)), kt_p=kt, d_p=d)
    assert [r["value"]["value"] for r in rows] == pytest.approx(want, rel=1e-12)
    one = series_on_lattice(monotone(2, "B"), kt_p=kt, d_p=d)
    assert rows[0]["value"]["value"] == pytest.approx(3 * one[0], rel=1e-12)  # N/2 f0
    assert all(abs(v) > 0 for v in want)
    assert not np.allclose([r["value"]["value"] for r in rows], [3 * v for v in one])


@pytest.mark.parametrize(
    "args, words",
    [
        (["--N", "0"], "--N='0'"),
        (["--N", "-3"], "--N='-3'"),
        (["--N", "2.5"], "--N='2.5'"),
        (["--N", "x"], "positive integer"),
        (["--N", "2", "--theory", "phi4+phi3"], "no O(N)-invariant meaning"),
        (["--N", "3", "--compare"], "N = 1"),
        (["--N", "N"] + LATTICE, "an integer with --lattice"),
    ],
)
def test_bad_n_exits_2_with_a_message(args, words, capsys):
    code, out, err = run(["monotone", "--order", "1"] + args, capsys)
    assert code == 2
    assert words in err and "Traceback" not in err


def test_bad_n_in_a_subprocess_has_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "ergsym", "monotone", "--N", "0"], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "--N" in proc.stderr


def test_huge_n_with_numbers_is_refused_naming_n(capsys):
    huge = str(10**80)
    code, _, err = run(["monotone", "--order", "4", "--N", huge] + LATTICE, capsys)
    assert code == 2 and "--N=" in err and "finite doubles" in err and "Traceback" not in err
    code, out, _ = run(["monotone", "--order", "1", "--N", huge], capsys)  # exact: fine
    assert code == 0 and huge[:20] in out
