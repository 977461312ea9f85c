"""One interacting mode: the flexible monotone-map JKO flow converges to the exact flowed law."""

import math

import mpmath
import numpy as np
import pytest

from ergsym.errors import InputError
from ergsym.variational.onemode import one_mode_exact, one_mode_jko


def kt(L):
    return L * L  # one mode with k(Lambda) = Lambda^2, D = 2 Lambda^2


def _p0_moment(lam, k0, j):
    # <psi^j> of exp(-psi^2/(2 k0) - lam psi^4/24) by mpmath quadrature (independent of the grid code)
    f = lambda x, jj: x**jj * mpmath.exp(-x * x / (2 * k0) - lam * x**4 / 24)  # noqa: E731
    return float(
        mpmath.quad(lambda x: f(x, j), [-mpmath.inf, 0, mpmath.inf])
        / mpmath.quad(lambda x: f(x, 0), [-mpmath.inf, 0, mpmath.inf])
    )


def test_exact_reference_against_mpmath_and_free_closed_form():
    lam, k0, k = 30.0, 1.0, 0.49
    ex = one_mode_exact(k0, k, lam)
    a, s2 = k / k0, k * (1 - k / k0)
    phi2 = a * a * _p0_moment(lam, k0, 2) + s2  # channel identity with mpmath moments
    assert ex.phi2[0] == pytest.approx(phi2, rel=1e-10)
    assert ex.phi2[1] < 1e-8
    # free: M = const - 1/2 ln k  (S(P||Q) constant), exact
    e0, e1 = one_mode_exact(k0, k0, 0.0), one_mode_exact(k0, k, 0.0)
    assert e1.M[0] - e0.M[0] == pytest.approx(-0.5 * math.log(k / k0), abs=1e-9)


@pytest.mark.parametrize("lam", [1.0, 30.0])
def test_jko_converges_to_exact_flowed_law(lam):
    ex0, ex = one_mode_exact(1.0, 1.0, lam), one_mode_exact(1.0, 0.49, lam)
    dM = ex.M[0] - ex0.M[0]
    N = 1000
    u = (np.arange(N) + 0.5) / N
    e2, w2, em = [], [], []
    for steps in (10, 20, 40):
        r = one_mode_jko(kt, 1.0, 0.7, steps, lam, n_particles=N)
        assert r.converged
        e2.append(abs(r.phi2[-1] - ex.phi2[0]))
        w2.append(np.mean((r.particles - ex.quantile(u)) ** 2))  # W2^2 to the exact law
        em.append(abs(r.M_minus_M0[-1] - dM))
    # first order in tau: halving tau halves the <phi^2> error; W2 ~ tau
    assert 1.7 < e2[0] / e2[1] < 2.3 and 1.7 < e2[1] / e2[2] < 2.3
    assert w2[0] / w2[1] > 3 and w2[1] / w2[2] > 3
    assert e2[-1] < 0.01 * ex.phi2[0] and em[-1] < 0.01 * abs(dM) and em[-1] < em[0]


def test_bad_input():
    with pytest.raises(InputError, match="Lambda"):
        one_mode_jko(kt, 1.0, 1.2, 5, 0.5)
    with pytest.raises(InputError, match="lam"):
        one_mode_jko(kt, 1.0, 0.7, 5, -1.0)
    with pytest.raises(InputError, match="steps"):
        one_mode_jko(kt, 1.0, 0.7, 0, 1.0)


def test_exact_monotone_agrees_with_flow_modes():
    # two independent exact one-mode monotones: Gauss-Hermite (ergsym.flow.modes) and the grid
    # convolution here; at lam = 0.1 (ergsym.flow.modes underflows to NaN for lam >~ 0.5 near Lambda0)
    from ergsym.flow.modes import ModeFlow, exact_monotone

    lam = 0.1
    s = ModeFlow(lambda L: np.array([L * L]), lambda L: np.array([2 * L * L]), 1.0, lam)
    ref = exact_monotone(s, 0.7)[0] - exact_monotone(s, 1.0)[0]
    ours = one_mode_exact(1.0, 0.49, lam).M[0] - one_mode_exact(1.0, 1.0, lam).M[0]
    assert ours == pytest.approx(ref, abs=1e-10)
