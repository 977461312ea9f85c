"""B along the flow is -Lambda dM/dLambda (SPEC sections 2.1, 4 "Flow"), at Lambda < Lambda0.

Reference: the exact flow of one and two modes (ergsym.flow.modes: Gaussian-channel law of
P_Lambda, M by tensor Gauss-Hermite quadrature, 5-point differences in log Lambda) -- no
perturbation theory, no diagrams.  The series: ergsym.flow.flow_monotone(2, "B") with the
lattice sums of ergsym.lattice.sums (Kt_Lambda, D_Lambda, Delta = Kt_Lambda0 - Kt_Lambda).
"""
import math

import numpy as np
import pytest

from ergsym.errors import InputError
from ergsym.flow import flow_monotone
from ergsym.flow.modes import ModeFlow, exact_B, exact_monotone
from ergsym.lattice.sums import family_value


def k(L):
    return L ** 2 / (1 + L ** 2)


def dk(L):  # Lambda dk/dLambda
    return 2 * L ** 2 / (1 + L ** 2) ** 2


def one_mode(lam):
    return ModeFlow(lambda L: np.array([k(L)]), lambda L: np.array([dk(L)]), 1.0, lam)


def two_modes(lam):
    return ModeFlow(lambda L: np.array([k(L), 0.3 * k(2 * L)]),
                    lambda L: np.array([dk(L), 0.3 * dk(2 * L)]), 1.0, lam)


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
    val = sum(float(t.coeff) * 0.1 ** t.order * family_value(t.family, kt, d, dl)
              for t in s.terms if not has_delta(t.family))
    assert abs(val - b_exact) > 1e-3


def test_mode_flow_input_errors():
    sys = one_mode(0.1)
    with pytest.raises(InputError, match="Lambda"):
        exact_monotone(sys, 1.5)
    with pytest.raises(InputError, match="lam"):
        one_mode(-1.0)
    with pytest.raises(InputError, match="number of modes"):
        ModeFlow(lambda L: np.ones(3), lambda L: np.ones(3), 1.0, 0.1)
