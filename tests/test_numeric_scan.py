"""Batched scans over Lambda and mass (ergsym.numeric.scan) against point-by-point values."""

import numpy as np
import pytest

from ergsym.cutoffs import parse_cutoff
from ergsym.families import NAMED_FAMILIES, Block, Family, K, Line
from ergsym.numeric import evaluate_family, evaluate_named
from ergsym.numeric.melon import melon_value
from ergsym.numeric.scan import melon_scan, scan_layout

BUMP = "bump:eps=0.1,lambda_max=2"
F2 = NAMED_FAMILIES["f2"]


@pytest.mark.parametrize("dim", [1, 2, 3, 4])
def test_f2_lambda_mass_scan_matches_points(dim):
    lam = np.array([0.5, 0.8, 1.0, 1.3, 1.5, 0.9, 1.1])
    m = np.array([1.0, 0.5, 1.0, 2.0, 1.0, 1.0, 0.7])
    v = evaluate_family(F2, BUMP, dim, m, lam)
    assert v.info["batched"] == lam.size
    assert np.all(v.converged) and np.all(np.isfinite(v.estimate))
    for i in (0, 3):
        # reference: the point-by-point position method at a larger radius R = 256
        ref = melon_value(F2.blocks[0].lines, parse_cutoff(BUMP), dim, m[i], lam[i], 1e-10, outer=True, R0=256.0)
        assert abs(v.estimate[i] - ref[0]) <= v.error[i] + ref[1]
        assert v.error[i] <= 1e-8 * v.estimate[i]


def test_vacuum_melon_scan_error_is_honest():
    blk = Block(2, ((0, 1, K), (0, 1, K), (0, 1, K), (0, 1, Line(2, 0))))
    # with R0 = 16/min(m, Lambda) the point-by-point path under-reported its error at
    # (m, Lambda) = (0.7, 1.33), d = 1 (R = 22.9 passed its truncation test; true error
    # 1.9e-9, reported 1.7e-10); now R starts at 32/min(m, Lambda).  Reference: R0 = 256
    # (agrees with the momentum method to 7e-15 relative)
    lam = np.array([0.5, 4 / 3, 1.5])
    m = np.array([0.3, 0.7, 1.0])
    v = evaluate_family(Family((blk,)), BUMP, 1, m, lam)
    for i in range(lam.size):
        ref = melon_value(blk.lines, parse_cutoff(BUMP), 1, m[i], lam[i], 1e-10, R0=256.0)
        assert abs(v.estimate[i] - ref[0]) <= v.error[i] + ref[1]
        one = evaluate_family(Family((blk,)), BUMP, 1, m[i], lam[i])
        assert abs(one.estimate - ref[0]) <= one.error + ref[1]


def test_layout_shares_ir_plateau_tail_and_mass_scan_shares_all():
    c = parse_cutoff(BUMP)
    shared, local = scan_layout(c, [0.5, 1.0, 1.5])
    assert [p.kind for p in shared] == ["ir", "plateau", "tail"]
    assert [p.kind for p in local[1]] == ["seg", "bump", "seg"]
    shared, local = scan_layout(c, [1.0, 1.0])
    assert local == [[], []] and len(shared) == 4
    # a smooth cutoff shares nothing across Lambda: the caller falls back to point by point
    assert scan_layout(parse_cutoff("exp:n=2"), [0.5, 1.0]) is None
    assert melon_scan(F2.blocks[0].lines, parse_cutoff("exp:n=2"), 3, [1.0, 1.0], [0.5, 1.0], 1e-8, True) is None


def test_mass_scan_and_named_scan():
    masses = np.linspace(0.5, 2.0, 6)
    v = evaluate_family(F2, BUMP, 3, masses, 1.0)
    w = [evaluate_family(F2, BUMP, 3, mm, 1.0) for mm in masses]
    for i, wi in enumerate(w):
        assert abs(v.estimate[i] - wi.estimate) <= v.error[i] + wi.error
    res = evaluate_named(BUMP, 4, 1.0, np.linspace(0.5, 1.5, 5), names=("f1", "f2"))
    assert res["f2"].estimate.shape == (5,) and np.all(res["f2"].converged)


def test_long_scans_are_grouped_and_keep_the_input_order(monkeypatch):
    import ergsym.numeric.scan as scan_mod

    lam = np.array([1.5, 0.5, 1.0, 0.7, 1.2, 0.9, 0.6])  # unsorted on purpose
    m = np.ones_like(lam)
    whole = scan_mod.melon_scan(F2.blocks[0].lines, parse_cutoff(BUMP), 3, m, lam, 1e-8, True)
    monkeypatch.setattr(scan_mod, "CHUNK", 3)
    grouped = scan_mod.melon_scan(F2.blocks[0].lines, parse_cutoff(BUMP), 3, m, lam, 1e-8, True)
    assert len(grouped[3]["groups"]) == 3
    assert np.all(np.abs(whole[0] - grouped[0]) <= whole[1] + grouped[1])
    assert np.all(grouped[2])


def test_evaluate_series_lambda_scan_matches_points():
    from dataclasses import dataclass
    from fractions import Fraction

    from ergsym.numeric import evaluate_series

    @dataclass(frozen=True)
    class Term:
        coeff: Fraction
        powers: tuple
        family: object

    class Series:
        terms = (
            Term(Fraction(3, 2), (0,), NAMED_FAMILIES["f0"]),
            Term(Fraction(-1, 2), (1,), NAMED_FAMILIES["f1"]),
            Term(Fraction(7, 24), (2,), F2),
        )

    lam = np.array([0.6, 1.0, 1.4])
    pr = evaluate_series(Series(), BUMP, 4, 1.0, lam, lam=0.1)
    assert pr.blocks[F2.blocks[0].name].info["batched"] == 3
    for i, L in enumerate(lam):
        one = evaluate_series(Series(), BUMP, 4, 1.0, float(L), lam=0.1)
        assert abs(pr.total.estimate[i] - one.total.estimate) <= pr.total.error[i] + one.total.error
        assert bool(pr.total.converged[i])
