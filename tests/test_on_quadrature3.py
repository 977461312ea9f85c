"""Exact O(N) expectations on three sites (``exact_expectations``, ``N > 1``, V = 3).

Gauss rules in radial and angular variables (ergsym/lattice/quadrature.py).  Checked here
against: the free theory (closed forms: ``phi2 = N Kt(x=0)``, ``B = (N/2) sum_p D_p/Kt_p``,
``G_p = N Kt_p``); refinement of the rules and the other representation (modes/sites); the
Schwinger-Dyson identities (exact: the improved estimators have the direct ones' means); the
O(N) engine's exact lattice series at small lam (``series_coefficients``, the API of
``ergsym crosscheck --N``); and the Monte Carlo (``LatticeTheory(..., N=)`` + ``run_mc``,
z-scores with autocorrelation-aware errors).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ergsym.cutoffs import parse_cutoff
from ergsym.errors import ConvergenceError, InputError
from ergsym.lattice.crosscheck import series_coefficients
from ergsym.lattice.quadrature import _exact_on3, exact_expectations
from ergsym.lattice.run import run_mc
from ergsym.lattice.theory import LatticeTheory

PIECES = ("phi2", "A", "B", "eq5.14", "eq5.13", "eq5.12", "eq5.11")
KT, D = [1.0, 0.4, 0.4], [0.5, 0.2, 0.2]


def z_score(st, exact):
    return (st.mean - exact) / st.error_of_mean


def verdict(st, exact):
    """What a comparison says: |z| < 4 agrees, otherwise disagrees."""
    return "agrees" if abs(z_score(st, exact)) < 4 else "disagrees"


# --------------------------------------------------------------------------------------
# free theory: closed forms
@pytest.mark.parametrize("N", [2, 3])
@pytest.mark.parametrize(
    "theory",
    [
        lambda N: LatticeTheory((3,), KT, D, 0.0, N=N),
        # a cutoff propagator: Kt_0 / Kt_1 ~ 80 (the zero mode dominates)
        lambda N: LatticeTheory.from_cutoff((3,), parse_cutoff("exp"), 1.0, 1.0, 0.0, N=N),
    ],
)
def test_free_three_sites_exact(N, theory):
    th = theory(N)
    # free: the modes representation is exact with any rule (the Gaussian is its weight)
    ex = exact_expectations(th, n_points=None if N == 2 else 8)
    # free closed forms (docs/lattice.md): phi2 = N G(0) = N (1/V) sum Kt_p; B = (N/2) sum_p D_p/Kt_p
    assert ex["phi2"] == pytest.approx(N * th.g00, rel=1e-9)
    assert ex["B"] == pytest.approx(0.5 * N * float(np.sum(th.d_p / th.kt_p)), rel=1e-9, abs=1e-12)
    assert ex["A"] == pytest.approx(1.5 * N * float(np.sum(th.d_p / th.kt_p)), rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(ex["Gp"], N * th.kt_p, rtol=1e-9)
    assert ex["quad_error"] < 1e-12 and ex["representation"] == "modes"


# --------------------------------------------------------------------------------------
# the rules: refinement, the other representation, the Schwinger-Dyson identities
@pytest.mark.parametrize(
    "N,lam,kt,d",
    [
        pytest.param(2, 10.0, KT, D, marks=pytest.mark.slow),
        (2, 1.0, [1.0, 0.125, 0.125], [0.3, 0.1, 0.1]),  # Kt_0/Kt_1 = 8: the modes representation
        pytest.param(3, 1.0, [1.0, 0.125, 0.125], [0.3, 0.1, 0.1], marks=pytest.mark.slow),
        pytest.param(3, 100.0, KT, D, marks=pytest.mark.slow),
    ],
)
def test_refined_and_other_representation_agree(N, lam, kt, d):
    th = LatticeTheory((3,), kt, d, lam, N=N)
    ex = exact_expectations(th)
    fine = _exact_on3(th, 12, how=ex["representation"])
    other = _exact_on3(th, 12, how={"modes": "sites", "sites": "modes"}[ex["representation"]])
    assert ex["quad_error"] < 1e-7
    for name in PIECES + ("A_sd", "B_sd"):
        # the estimate bounds the actual error (it is dominated by the coarser rule)
        assert ex[name] == pytest.approx(fine[name], rel=max(ex["quad_error"], 1e-13)), name
        # the weaker representation converges too, more slowly (~3e-7 at Kt_0/Kt_1 = 8)
        assert other[name] == pytest.approx(fine[name], rel=1e-5), name
    # exact identities: the improved estimators have the direct ones' means; P2 = -2 N f0
    for a, b in (("A", "A_sd"), ("B", "B_sd"), ("eq5.14", "eq5.14_sd"), ("eq5.12", "eq5.12_sd")):
        assert ex[a] == pytest.approx(ex[b], rel=1e-8), (a, b)
    assert ex["eq5.13"] == pytest.approx(-2 * N * th.f0, rel=1e-9)
    # the coupling matters
    assert abs(ex["phi2"] - N * th.g00) > 0.05 * N * th.g00


@pytest.mark.slow
@settings(max_examples=6)
@given(
    N=st.sampled_from([2, 3]),
    log_k0=st.floats(-2.0, 2.0),
    log_ratio=st.floats(-6.0, 1.0),  # Kt_1/Kt_0 from 1e-6 (cutoff propagators) to 10
    d=st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0)),
    log_lam=st.floats(-3.0, 3.0),
)
def test_property_identities_hold_for_any_theory(N, log_k0, log_ratio, d, log_lam):
    """For any propagator and coupling: the error estimate is small and honest, and the exact
    Schwinger-Dyson identities hold within it; at lam = 0 the free closed forms."""
    k0 = 10.0**log_k0
    kt = [k0, k0 * 10.0**log_ratio, k0 * 10.0**log_ratio]
    dp = [d[0], d[1], d[1]]
    for lam in (0.0, 10.0**log_lam):
        th = LatticeTheory((3,), kt, dp, lam, N=N)
        ex = exact_expectations(th)
        assert ex["quad_error"] < 1e-5, (ex["representation"], ex["quad_error"])
        tol = max(10 * ex["quad_error"], 1e-10)
        for a in ("A", "B", "eq5.14"):
            assert ex[a] == pytest.approx(ex[f"{a}_sd"], rel=tol, abs=1e-12), a
        assert ex["eq5.13"] == pytest.approx(-2 * N * th.f0, rel=1e-9, abs=1e-12)
        if lam == 0:
            assert ex["phi2"] == pytest.approx(N * th.g00, rel=1e-9)
            np.testing.assert_allclose(ex["Gp"], N * th.kt_p, rtol=1e-9)


def test_quad_error_says_when_the_rule_is_coarse():
    # a strongly coupled case with the weaker representation and the smallest rule: the
    # estimate is large, and it does bound the actual error
    th = LatticeTheory((3,), [1.0, 0.125, 0.125], [0.3, 0.1, 0.1], 100.0, N=2)
    coarse = _exact_on3(th, 10, how="modes")
    fine = _exact_on3(th, 12, how="sites")
    actual = max(abs(coarse[k] - fine[k]) / abs(fine[k]) for k in ("phi2", "A", "B"))
    assert coarse["quad_error"] > 1e-6
    assert actual <= coarse["quad_error"]
    # one step coarser, the estimate (2e-3) is over the limit: an error, not a rough number
    with pytest.raises(ConvergenceError, match="n_points = 8"):
        _exact_on3(th, 8, how="modes")


def test_too_coarse_a_rule_raises():
    """Large N concentrates the angles: at N = 40 the 8-point rule's estimate is ~3e-4, above
    the 1e-4 the quadrature returns; it says so and what to do instead of a rough number."""
    th = LatticeTheory((3,), KT, D, 1.0, N=40)
    with pytest.raises(ConvergenceError, match=r"N = 40.*larger n_points"):
        exact_expectations(th, n_points=8)


def test_bad_input():
    th = LatticeTheory((3,), KT, D, 1.0, N=2)
    with pytest.raises(InputError, match="n_points"):
        exact_expectations(th, n_points=5)
    with pytest.raises(InputError, match="volume"):
        exact_expectations(LatticeTheory((4,), [1.0, 0.4, 0.3, 0.4], [0.5, 0.2, 0.1, 0.2], 1.0, N=2))


# --------------------------------------------------------------------------------------
# the O(N) engine's exact lattice series at small lam
@pytest.mark.parametrize("N", [2, 3])
def test_against_the_exact_lattice_series(N):
    th0 = LatticeTheory((3,), KT, D, 0.0, N=N)
    lams = (0.04, 0.02, 0.01)
    quad = {lam: exact_expectations(th0.with_lam(lam)) for lam in lams}
    for form in ("B", "A"):
        c = series_coefficients(form, (3,), th0.kt_p, th0.d_p, order=3, N=N)
        resid = []
        for lam in lams:
            q = quad[lam][form]
            # truncated at O(lam^2): the remainder is c3 lam^3 + O(lam^4)
            resid.append((q - (c[0] + c[1] * lam + c[2] * lam**2)) / lam**3)
        # remainder / lam^3 tends to c3, with an O(lam) correction that halves with lam
        err = [abs(r - c[3]) for r in resid]
        assert err[2] < 0.03 * abs(c[3]), (form, resid, c[3])
        assert err[2] < 0.6 * err[1] < 0.36 * err[0], (form, err)
        # and the order-1 truncation is visibly worse: the O(lam^2) term is resolved
        lam = 0.01
        q = quad[lam][form]
        assert abs(q - c[0] - c[1] * lam) > 30 * abs(q - c[0] - c[1] * lam - c[2] * lam**2)


# --------------------------------------------------------------------------------------
# the Monte Carlo
def _mc_case(N, lam, seed, n_traj=3000):
    th = LatticeTheory((3,), KT, D, lam, N=N)
    return th, run_mc(th, n_traj, seed=seed, progress=False, record_gp=True)


@pytest.mark.parametrize("N", [2, 3])
@pytest.mark.parametrize("lam", [0.1, 10.0, 100.0])
def test_mc_three_sites_against_quadrature(N, lam):
    th, res = _mc_case(N, lam, seed=11)
    ex = exact_expectations(th)
    for name in PIECES:
        st = res.stats(name)
        assert st.reliable, (name, st.reasons)
        assert verdict(st, ex[name]) == "agrees", (name, z_score(st, ex[name]), ex[name])
    gm, ge, _ = res.gp_stats()
    assert np.all(np.abs(gm - ex["Gp"]) < 4 * ge)
    if lam >= 10:  # the interaction is visible: the free value is excluded
        assert abs(z_score(res.stats("phi2"), N * th.g00)) > 10


def test_mc_n2_against_quadrature_and_the_wrong_n():
    th, res = _mc_case(2, 10.0, seed=3, n_traj=800)
    ex2 = exact_expectations(th)
    ex3 = exact_expectations(LatticeTheory((3,), KT, D, 10.0, N=3))
    st = res.stats("phi2")
    assert verdict(st, ex2["phi2"]) == "agrees", z_score(st, ex2["phi2"])
    # the same Monte Carlo against the O(3) numbers: the comparison says so
    assert verdict(st, ex3["phi2"]) == "disagrees", z_score(st, ex3["phi2"])
    assert verdict(res.stats("B"), ex3["B"]) == "disagrees"
