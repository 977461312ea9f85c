"""Vectorization over cutoff parameters (issue: numeric layer, "vectorized over arrays of
Lambda, mass and cutoff parameters")."""

import json
import math

import numpy as np
import pytest

from ergsym.cli import main
from ergsym.cutoffs import BumpCutoff
from ergsym.errors import InputError
from ergsym.families import NAMED_FAMILIES
from ergsym.numeric import evaluate_family, evaluate_named

EPS = [0.05, 0.1, 0.3]


def test_sequence_of_cutoffs_stacks_point_values():
    cuts = [BumpCutoff(e, 2.0) for e in EPS]
    res = evaluate_named(cuts, 4, 1.0, 1.0, names=("f0", "T", "f2"))
    for name, v in res.items():
        assert np.shape(v.estimate) == (3,) and np.all(v.converged)
        for i, c in enumerate(cuts):
            single = evaluate_family(NAMED_FAMILIES[name], c, 4, 1.0, 1.0)
            assert v.estimate[i] == single.estimate and v.error[i] == single.error


def test_d2_f0_closed_form_over_eps_array():
    # f0 = 2 pi Lambda^2 ln(1/eps) in d = 2 for any bump (SPEC section 6)
    v = evaluate_family(NAMED_FAMILIES["f0"], [f"bump:eps={e},lambda_max=2" for e in EPS], 2, 1.0, 1.3)
    exact = np.array([2 * math.pi * 1.3**2 * math.log(1 / e) for e in EPS])
    assert np.all(np.abs(v.estimate - exact) <= v.error + 1e-13 * exact)


def test_sequence_needs_scalar_Lambda_and_mass():
    with pytest.raises(InputError, match="scalar mass and Lambda"):
        evaluate_named([BumpCutoff(0.1, 2.0)], 4, 1.0, np.array([0.5, 1.0]))


def test_cli_scan_over_eps(capsys):
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "integrals",
                "--cutoff",
                "bump:eps=0.1,lambda_max=2",
                "--dim",
                "2",
                "--mass",
                "1",
                "--Lambda",
                "1",
                "--scan",
                "eps=0.05:0.3:3",
                "--names",
                "f0",
                "--json",
            ]
        )
    assert exc.value.code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["parameters"]["scan"] == "eps" and len(data["results"]["families"]["f0"]) == 3
    exact = [2 * math.pi * math.log(1 / e) for e in (0.05, 0.175, 0.3)]
    assert np.allclose([v["value"] for v in data["results"]["families"]["f0"]], exact, rtol=1e-9)
    assert all(v["converged"] for v in data["results"]["families"]["f0"])


@pytest.mark.parametrize("scan, word", [("zeta=0.1:0.2:3", "parameter of the cutoff spec"), ("eps=0.1:1.5:3", "eps")])
def test_cli_scan_bad_parameter_exits_2(scan, word, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["integrals", "--cutoff", "bump:eps=0.1,lambda_max=2", "--dim", "2", "--scan", scan])
    assert exc.value.code == 2 and word in capsys.readouterr().err
