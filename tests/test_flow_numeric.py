"""Continuum and lattice numbers along the flow, and the ``ergsym flow`` CLI.

References: ergsym.numeric.evaluate_family (independent radial/Hankel quadrature of the
numeric layer) for Delta-free families and for L[Delta] = T(Lambda0) - T(Lambda); the
exact lattice identity M_Lambda - M_Lambda0 = int B dlogLambda with the free part
-1/2 sum_p log(K_Lambda/K_Lambda0).
"""
import json

import pytest

from ergsym.cli import main
from ergsym.errors import InputError
from ergsym.families import NAMED_FAMILIES, Block, Family, Line
from ergsym.flow import flow_lattice, monotone_difference_lattice
from ergsym.flow.continuum import FlowScales, family_value_continuum
from ergsym.numeric import evaluate_family

CUT = "bump:eps=0.1,lambda_max=2"


@pytest.mark.parametrize("name", ["f0", "t1", "u1", "T", "T2"])
def test_loop_blocks_match_numeric_layer(name):
    sc = FlowScales(CUT, 4, 1.0, 1.0, 0.6)
    v, e = family_value_continuum(NAMED_FAMILIES[name], sc)
    ref = evaluate_family(NAMED_FAMILIES[name], CUT, 4, 1.0, 0.6, rtol=1e-11)
    assert abs(v - float(ref.estimate)) <= 10 * (e + float(ref.error)) + 1e-13 * abs(v)


def test_delta_loop_is_difference_of_tadpoles():
    sc = FlowScales(CUT, 4, 1.0, 1.0, 0.6)
    fam = Family((Block(1, ((0, 0, Line(0, 0, 1)),)),))
    v, e = family_value_continuum(fam, sc)
    t1 = evaluate_family(NAMED_FAMILIES["T"], CUT, 4, 1.0, 1.0, rtol=1e-11)
    t0 = evaluate_family(NAMED_FAMILIES["T"], CUT, 4, 1.0, 0.6, rtol=1e-11)
    assert abs(v - (float(t1.estimate) - float(t0.estimate))) < 1e-12


@pytest.mark.slow
def test_sunset_melon_matches_numeric_layer():
    sc = FlowScales(CUT, 4, 1.0, 0.9, 0.9)
    v, e = family_value_continuum(NAMED_FAMILIES["f2"], sc, rtol=1e-6)
    ref = evaluate_family(NAMED_FAMILIES["f2"], CUT, 4, 1.0, 0.9, rtol=1e-8)
    assert abs(v - float(ref.estimate)) <= 10 * (e + float(ref.error))


def test_lattice_monotone_difference_free_part_and_integral():
    # at lam = 0 M - M0 is exactly -1/2 sum_p log(K_Lambda/K_Lambda0) and B = 1/2 sum D/K
    import numpy as np

    from ergsym.conventions import lattice_phat2
    from ergsym.cutoffs import parse_cutoff

    c = parse_cutoff("bump:eps=0.5,lambda_max=2")
    p2 = lattice_phat2((8, 8))
    md = monotone_difference_lattice("8x8", c, 1.0, 1.5, 0.5, 0.0)
    assert md["interacting"][0] == 0.0
    assert md["total"][0] == pytest.approx(-0.5 * float(np.sum(np.log(c.K(p2, 0.5) / c.K(p2, 1.5)))))
    # the interacting part's error estimate is honest: compare with a 4x finer rule
    md1 = monotone_difference_lattice("8x8", c, 1.0, 1.5, 0.5, 0.1, n_log=12)
    ref = monotone_difference_lattice("8x8", c, 1.0, 1.5, 0.5, 0.1, n_log=48)
    assert abs(md1["interacting"][0] - ref["interacting"][0]) <= md1["interacting"][1]
    assert ref["interacting"][1] < 1e-3 * abs(ref["interacting"][0])


def test_flow_refuses_Lambda_above_Lambda0():
    with pytest.raises(InputError, match="Lambda=1.2"):
        flow_lattice("4x4", CUT, 1.0, 1.0, 1.2, 0.1)
    with pytest.raises(InputError, match="cutoff"):
        FlowScales("exp:n=2", 4, 1.0, 1.0, 0.5)


def test_cli_bad_input_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["flow", "--Lambda0", "1", "--Lambda", "1.5"])
    assert exc.value.code == 2
    assert "Lambda" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["flow", "--order", "3", "--lattice", "4x4"])
    assert exc.value.code == 2


def test_cli_scan_plot(tmp_path, capsys):
    png = tmp_path / "flow.png"
    with pytest.raises(SystemExit) as exc:
        main(["flow", "--lattice", "6x6", "--cutoff", "bump:eps=0.5,lambda_max=2", "--Lambda0", "1.5",
              "--Lambda", "0.5", "--scan", "3", "--plot", str(png)])
    assert exc.value.code == 0
    assert png.stat().st_size > 1000


def test_worked_example_quick():
    import pathlib
    import subprocess
    import sys

    script = pathlib.Path(__file__).resolve().parents[1] / "worked_examples" / "flow_monotone.py"
    out = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert "residual terms = 0" in out.stdout
