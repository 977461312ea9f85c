"""The ``ergsym monotone`` command: output, JSON contract, lattice mode, exit codes."""
import itertools
import json
from fractions import Fraction

import numpy as np
import pytest

from ergsym.cli import main
from ergsym.cutoffs import parse_cutoff
from ergsym.lattice.sums import lattice_propagators
from ergsym.symbolic import monotone
from ergsym.symbolic.oracle import exact_expansion


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_symbolic_json_matches_api(capsys):
    code, out, _ = run(["monotone", "--order", "3", "--form", "B", "--scheme", "bare", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["B"] == monotone(3, "B").to_json()
    # the table of printed numbers is there, labelled, beside the derived ones
    rows = {(r["quantity"], r["order"], r["family"]): r for r in data["comparison_with_printed"]}
    assert rows[("A", 1, "f1")]["printed"] == "-1/2"
    assert rows[("A", 1, "f1")]["derived"] == str(monotone(1, "A").coefficient_dict(1)["f1"])


def test_human_output_has_text_latex_families_and_comparison(capsys):
    code, out, _ = run(["monotone", "--order", "2", "--form", "A"], capsys)
    assert code == 0
    assert "LaTeX:" in out and r"\lambda" in out
    assert "f2" in out and "families:" in out and "printed" in out


def test_pieces_option(capsys):
    code, out, _ = run(["monotone", "--order", "1", "--piece", "dSdShat", "--piece", "LdShat", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert set(data) >= {"dSdShat", "LdShat"}


def _oracle_on_lattice(shape, kt, d, order, quantity):
    """Brute-force oracle with the lattice's position-space G and Cdot (floats made exact)."""
    g_pos = np.fft.ifftn(kt).real
    c_pos = np.fft.ifftn(d).real
    sites = list(itertools.product(*[range(n) for n in shape]))
    def mat(f):
        return [[Fraction(float(f[tuple((a - b) % n for a, b, n in zip(x, y, shape))])) for y in sites] for x in sites]
    return [float(v) for v in exact_expansion(mat(g_pos), mat(c_pos), order, quantity)]


@pytest.mark.parametrize("form", ["A", "B"])
def test_lattice_mode_json_per_order_values_match_oracle(form, capsys):
    # phat^2 on a 3x2 lattice is {0, 3, 4, 7}: Lambda = 1.6, eps = 0.5 puts 3 in [Lambda^2, Lambda^2+eps]
    spec = "bump:eps=0.5,lambda_max=2"
    args = ["monotone", "--order", "2", "--form", form, "--lattice", "3x2", "--cutoff", spec,
            "--mass", "1", "--Lambda", "1.6", "--json"]
    code, out, _ = run(args, capsys)
    assert code == 0
    data = json.loads(out)
    vals = [o["value"] for o in data["quantities"][form]["orders"]]
    assert [o["order"] for o in data["quantities"][form]["orders"]] == [0, 1, 2]
    kt, d = lattice_propagators((3, 2), parse_cutoff(spec), 1.0, 1.6)
    ref = _oracle_on_lattice((3, 2), kt, d, 2, form)
    assert vals[0] != 0
    np.testing.assert_allclose(vals, ref, rtol=1e-9, atol=1e-12)


def test_lattice_mode_warns_when_kernel_vanishes(capsys):
    code, out, err = run(["monotone", "--order", "1", "--lattice", "4x4", "--cutoff", "bump:eps=0.5,lambda_max=2",
                          "--mass", "1", "--Lambda", "1"], capsys)
    assert code == 0 and "vanishes at every lattice momentum" in err


@pytest.mark.parametrize("args, word", [
    (["--order", "-1"], "order"),
    (["--order", "9"], "order"),
    (["--form", "C"], "--form"),
    (["--scheme", "weird"], "--scheme"),
    (["--piece", "dXdY"], "--piece"),
    (["--lattice", "4y4", "--cutoff", "bump:eps=0.5,lambda_max=2", "--mass", "1", "--Lambda", "1"], "lattice"),
    (["--lattice", "4x4", "--cutoff", "bump:eps=0.5", "--mass", "1", "--Lambda", "1"], "lambda_max"),
    (["--lattice", "4x4", "--cutoff", "bump:eps=1.5,lambda_max=2", "--mass", "1", "--Lambda", "1"], "eps"),
    (["--lattice", "4x4", "--cutoff", "nonsense", "--mass", "1", "--Lambda", "1"], "cutoff"),
    (["--lattice", "4x4", "--cutoff", "bump:eps=0.5,lambda_max=2", "--mass", "1"], "--Lambda"),
    (["--theory", "psi7"], "theory"),
])
def test_bad_input_exit_status_2(args, word, capsys):
    code, out, err = run(["monotone"] + args, capsys)
    assert code == 2
    assert word in err


def test_help_texts(capsys):
    code, out, _ = run(["--help"], capsys)
    assert code == 0 and "monotone" in out
    code, out, _ = run(["monotone", "--help"], capsys)
    assert code == 0 and "--lattice" in out and "dM/dLambda" in out


def test_diagrams_listing_adds_up_to_the_piece(capsys):
    code, out, _ = run(["monotone", "--order", "2", "--piece", "dSdS", "--diagrams", "--json"], capsys)
    assert code == 0
    rows = json.loads(out)["dSdS"]
    acc = {}
    for r in rows:
        acc[(r["order"], r["family"])] = acc.get((r["order"], r["family"]), 0) + Fraction(r["coefficient"])
    expect = {(t.order, t.family.name): t.coeff for t in monotone(2, "dSdS").terms}
    assert {k: v for k, v in acc.items() if v} == expect


def test_divergent_cutoff_exits_2_naming_condition_b3_4(capsys):
    # SPEC section 7: a divergent integral is reported like bad input (exit status 2)
    code, out, err = run(["monotone", "--order", "1", "--cutoff", "fermi:a=10", "--dim", "4",
                          "--mass", "1", "--Lambda", "1"], capsys)
    assert code == 2 and "(B3)4" in err
