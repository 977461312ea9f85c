"""B along the flow is -Lambda dM/dLambda (SPEC sections 2.1, 4 "Flow"), at Lambda < Lambda0.

Reference: the exact flow of one and two modes (ergsym.flow.modes: Gaussian-channel law of
P_Lambda, M by tensor Gauss-Hermite quadrature, 5-point differences in log Lambda) -- no
perturbation theory, no diagrams.  The series: ergsym.flow.flow_monotone(2, "B") with the
lattice sums of ergsym.lattice.sums (Kt_Lambda, D_Lambda, Delta = Kt_Lambda0 - Kt_Lambda).
"""

import math
import os

import numpy as np
import pytest

from ergsym.errors import InputError
from ergsym.flow import flow_monotone
from ergsym.flow.modes import ModeFlow, exact_B, exact_monotone
from ergsym.lattice.sums import family_value


def k(L):
    return L**2 / (1 + L**2)


def dk(L):  # Lambda dk/dLambda
    return 2 * L**2 / (1 + L**2) ** 2


def one_mode(lam):
    return ModeFlow(lambda L: np.array([k(L)]), lambda L: np.array([dk(L)]), 1.0, lam)


def two_modes(lam):
    return ModeFlow(lambda L: np.array([k(L), 0.3 * k(2 * L)]), lambda L: np.array([dk(L), 0.3 * dk(2 * L)]), 1.0, lam)


def series(form, sys, Lambda, lam):
    kt, d, dl = sys.lattice_arrays(Lambda)
    return flow_monotone(2, form).evaluate(lambda f: family_value(f, kt, d, dl), couplings=(lam,))


def test_free_flow_exact():
    # free one mode: M = const - 1/2 log k (SPEC 2.1), B = 1/2 D/k, A = 3/2 D/k
    sys = one_mode(0.0)
    m0, e0 = exact_monotone(sys, 1.0)
    m1, e1 = exact_monotone(sys, 0.5)
    assert abs((m1 - m0) - (-0.5 * math.log(k(0.5) / k(1.0)))) < 10 * (e0 + e1) + 1e-12
    b, e = exact_B(sys, 0.5)
    assert abs(b - 0.5 * dk(0.5) / k(0.5)) < max(e, 1e-10)
    assert series("B", sys, 0.5, 0.0) == pytest.approx(0.5 * dk(0.5) / k(0.5), rel=1e-14)
    assert series("A", sys, 0.5, 0.0) == pytest.approx(1.5 * dk(0.5) / k(0.5), rel=1e-14)


@pytest.mark.parametrize("make", [one_mode, two_modes], ids=["one-mode", "two-modes"])
def test_B_series_is_the_derivative_of_M_along_the_flow(make):
    Lambda = 0.6
    disc = {}
    for lam in (0.1, 0.05):
        sys = make(lam)
        b_exact, err = exact_B(sys, Lambda)
        assert err < 1e-9
        b_series = series("B", sys, Lambda, lam)
        disc[lam] = b_exact - b_series
        # the O(lam^3) remainder is resolved far above the numerical error
        assert abs(disc[lam]) > 20 * err
        # A is not the derivative: it misses by O(1)
        assert abs(series("A", sys, Lambda, lam) - b_exact) > 0.5
    # remainder is O(lam^3): halving lam divides it by 8 (not 4, which a wrong lam^2
    # coefficient would give, nor 2)
    assert 6.5 < disc[0.1] / disc[0.05] < 9.5


def test_wrong_series_is_caught():
    # dropping the Delta families (i.e. using the Lambda0 series at Lambda) must fail
    from ergsym.flow import has_delta

    sys = one_mode(0.1)
    b_exact, err = exact_B(sys, 0.6)
    kt, d, dl = sys.lattice_arrays(0.6)
    s = flow_monotone(2, "B")
    val = sum(
        float(t.coeff) * 0.1**t.order * family_value(t.family, kt, d, dl) for t in s.terms if not has_delta(t.family)
    )
    assert abs(val - b_exact) > 1e-3


def test_mode_flow_input_errors():
    sys = one_mode(0.1)
    with pytest.raises(InputError, match="Lambda"):
        exact_monotone(sys, 1.5)
    with pytest.raises(InputError, match="lam"):
        one_mode(-1.0)
    with pytest.raises(InputError, match="number of modes"):
        ModeFlow(lambda L: np.ones(4), lambda L: np.ones(4), 1.0, 0.1)


# -- strong coupling: log-space quadrature against an independent mpmath reference ----------


def _mpmath_monotone(lam, Lambda, Lambda0=1.0, dps=20):
    """``M_Lambda`` of one_mode(lam) by nested mpmath tanh-sinh quadrature (independent of
    ergsym.flow.modes: no Gauss-Hermite, no eigenbasis, no log-sum-exp):
    ``W(phi) = int N(chi; 0, Delta) exp(-lam/24 (phi+chi)^4) dchi``,
    ``Z = int exp(-phi^2/2G) W``, ``M = <phi^2/2G + log W>_P - log Z`` (same constant as
    exact_monotone)."""
    import mpmath as mp

    mp.mp.dps = dps
    G = mp.mpf(k(Lambda))
    D = mp.mpf(k(Lambda0)) - G
    lam = mp.mpf(lam)
    cache = {}

    def W(p):
        if p not in cache:
            if D == 0:
                cache[p] = mp.exp(-lam / 24 * p**4)
            else:
                cache[p] = mp.quad(
                    lambda c: mp.exp(-(c**2) / (2 * D) - lam / 24 * (p + c) ** 4), sorted([-mp.inf, -p, 0, mp.inf])
                ) / mp.sqrt(2 * mp.pi * D)
        return cache[p]

    Z = mp.quad(lambda p: mp.exp(-(p**2) / (2 * G)) * W(p), [-mp.inf, 0, mp.inf])
    num = mp.quad(lambda p: mp.exp(-(p**2) / (2 * G)) * W(p) * (p**2 / (2 * G) + mp.log(W(p))), [-mp.inf, 0, mp.inf])
    return float(num / Z - mp.log(Z))


# (lam, Lambda) -> M_Lambda of one_mode(lam), from _mpmath_monotone(lam, Lambda) at dps = 20
# (each took 30-270 s; test_mpmath_reference_values_reproduce recomputes one of them).
# Before the log-sum-exp fix exact_monotone returned NaN at (1, 0.9), (2, 0.6) and every lam = 100.
MPMATH_M = {
    (1.0, 0.9): -0.05776220146707884,
    (2.0, 0.6): 0.20491582400836722,
    (10.0, 0.3): 0.7969211003237133,
    (100.0, 0.9): -0.13881799646435503,
    (100.0, 0.6): 0.10387163694578386,
    (100.0, 0.99): -0.135982017359135825,
    (100.0, 1.0): -0.131730480078339425,
}


@pytest.mark.parametrize("lam,Lambda", sorted(MPMATH_M))
def test_exact_monotone_strong_coupling_matches_mpmath(lam, Lambda):
    v, e = exact_monotone(one_mode(lam), Lambda)
    ref = MPMATH_M[(lam, Lambda)]
    assert math.isfinite(v) and math.isfinite(e)
    # the reported error covers the true one (the mpmath reference is good to ~1e-16)
    assert abs(v - ref) <= e + 1e-14
    assert e < 1e-5


@pytest.mark.parametrize("lam", [1.0, 100.0])
def test_exact_B_strong_coupling_integrates_to_mpmath_difference(lam):
    # M(0.6) - M(0.9) = int_{log 0.6}^{log 0.9} B dlog(Lambda): 8-node Gauss-Legendre of exact_B
    # (B is analytic in Lambda for these propagators) against the mpmath values of M
    lo, hi = math.log(0.6), math.log(0.9)
    x, w = np.polynomial.legendre.leggauss(8)
    sys = one_mode(lam)
    tot, err = 0.0, 0.0
    for xi, wi in zip(x, w):
        b, e = exact_B(sys, math.exp(lo + (hi - lo) * (xi + 1) / 2))
        assert math.isfinite(b) and math.isfinite(e)
        tot += wi * (hi - lo) / 2 * b
        err += wi * (hi - lo) / 2 * e
    if lam == 100.0:
        ref = MPMATH_M[(100.0, 0.6)] - MPMATH_M[(100.0, 0.9)]
        assert abs(tot - ref) <= err + 1e-9
    else:
        v6, e6 = exact_monotone(sys, 0.6)
        v9, e9 = exact_monotone(sys, 0.9)
        assert abs(tot - (v6 - v9)) <= err + e6 + e9 + 1e-9


@pytest.mark.parametrize(
    "lam,Lambda",
    [
        (100.0, 0.99),
        pytest.param(2.0, 0.6, marks=pytest.mark.slow),
        pytest.param(100.0, 0.6, marks=pytest.mark.slow),
        pytest.param(100.0, 1.0, marks=pytest.mark.slow),
    ],
)
def test_two_modes_strong_coupling_is_finite_with_honest_error(lam, Lambda):
    sys = two_modes(lam)
    v, e = exact_monotone(sys, Lambda)
    assert math.isfinite(v) and math.isfinite(e)
    # more nodes agree within the reported error
    v2, e2 = exact_monotone(sys, Lambda, n=36)
    assert abs(v - v2) <= e + e2 + 1e-14


@pytest.mark.parametrize("make", [one_mode, pytest.param(two_modes, marks=pytest.mark.slow)])
def test_exact_B_strong_coupling_near_Lambda0_is_finite(make):
    for sys in (make(100.0),):
        b, e = exact_B(sys, 0.95)
        assert math.isfinite(b) and 0 < e < abs(b)


def test_mode_flow_bad_quadrature_parameters_are_refused():
    sys = one_mode(1.0)
    with pytest.raises(InputError, match="n="):
        exact_monotone(sys, 0.6, n=1)
    with pytest.raises(InputError, match="h="):
        exact_B(sys, 0.6, h=float("nan"))
    with pytest.raises(InputError, match="Lambda"):
        exact_monotone(sys, float("nan"))


def test_non_finite_quadrature_raises_instead_of_returning_nan():

    bad = ModeFlow(lambda L: np.array([k(L) if L > 0.5 else float("nan")]), lambda L: np.array([dk(L)]), 1.0, 1.0)
    with pytest.raises(InputError, match="kt"):
        exact_monotone(bad, 0.4)


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("ERGSYM_CHECK_REFERENCES"),
    reason="recomputes a stored mpmath constant (~25 CPU-s); set ERGSYM_CHECK_REFERENCES=1",
)
def test_mpmath_reference_values_reproduce():
    assert _mpmath_monotone(2.0, 0.6) == pytest.approx(MPMATH_M[(2.0, 0.6)], abs=1e-14)
