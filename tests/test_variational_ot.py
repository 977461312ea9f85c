"""Optimal-transport primitives of ergsym.variational.ot against closed forms (paper §II.B, §III)."""

import math

import numpy as np
import pytest

pytest.importorskip("ot")

from scipy.stats import norm  # noqa: E402

from ergsym.errors import InputError  # noqa: E402
from ergsym.variational import ot as vot  # noqa: E402


def _qpoints(n, s, m=0.0):
    # midpoint quantiles of N(m, s): an "empirical" measure that converges at O(1/n)
    return m + math.sqrt(s) * norm.ppf((np.arange(n) + 0.5) / n)


def test_gaussian_closed_form_one_mode_and_factor_two():
    # closed form: W2^2 = 2 (sqrt G1 - sqrt G2)^2 / D for one mode (factor 2 of (3.4))
    r = vot.w2_gaussian_modes([1.5], [0.5], [0.3])
    assert r.exact and r.value == pytest.approx(2 * (math.sqrt(1.5) - math.sqrt(0.5)) ** 2 / 0.3, rel=1e-14)
    r1 = vot.w2_gaussian_modes([1.5], [0.5], [0.3], cost_factor=1.0)
    assert r.value == pytest.approx(2 * r1.value, rel=1e-14)


def test_gaussian_closed_form_matches_exact_empirical_transport():
    # sorted quantile points of N(0,G1), N(0,G2) whitened by D: exact EMD -> closed form as n grows
    g1, g2, d = 1.3, 0.4, 0.25
    exact = vot.w2_gaussian_modes([g1], [g2], [d]).value
    errs = []
    for n in (100, 400):
        x = _qpoints(n, g1) * math.sqrt(2 / d)
        y = _qpoints(n, g2) * math.sqrt(2 / d)
        emd = vot.w2_empirical(x, y).value
        _, _, srt = vot.monge_1d(x, y)
        assert emd == pytest.approx(srt.value, rel=1e-10)  # 1-D: sorted matching is optimal
        errs.append(abs(emd - exact))
    assert errs[1] < errs[0] / 2 and errs[1] < 2e-2 * exact


def test_frozen_modes_must_not_move():
    with pytest.raises(InputError, match="D_p = 0"):
        vot.w2_gaussian_modes([1.0, 1.0], [1.0, 0.5], [0.2, 0.0])
    assert vot.w2_gaussian_modes([1.0, 1.0], [0.5, 1.0], [0.2, 0.0]).value > 0


def test_whiten_reproduces_the_cost_kernel():
    # |w(phi) - w(phi')|^2 = (2/V) sum_p |phi_p - phi'_p|^2 / D_p on a 4x4 lattice
    rng = np.random.default_rng(3)
    shape = (4, 4)
    from ergsym.conventions import lattice_phat2

    d = 0.1 + np.asarray(lattice_phat2(shape))
    a, b = rng.standard_normal((2,) + shape)
    w = vot.whiten(np.stack([a, b]), d)
    direct = 2.0 / 16 * np.sum(np.abs(np.fft.fftn(a - b)) ** 2 / d)
    assert np.sum((w[0] - w[1]) ** 2) == pytest.approx(direct, rel=1e-12)


def test_kantorovich_against_linear_programming():
    from scipy.optimize import linprog

    rng = np.random.default_rng(0)
    a = rng.random(5)
    a /= a.sum()
    b = rng.random(6)
    b /= b.sum()
    C = rng.random((5, 6))
    val, plan = vot.kantorovich(a, b, C)
    A_eq = np.vstack([np.kron(np.eye(5), np.ones(6)), np.kron(np.ones(5), np.eye(6))])
    lp = linprog(C.ravel(), A_eq=A_eq, b_eq=np.concatenate([a, b]), bounds=(0, None), method="highs")
    assert val.value == pytest.approx(lp.fun, rel=1e-9)
    assert np.allclose(plan.sum(1), a) and np.allclose(plan.sum(0), b)


def test_monge_1d_affine_map_between_gaussians():
    # the monotone map from N(m1,s1) to N(m2,s2) is T(x) = m2 + sqrt(s2/s1)(x - m1)
    x = _qpoints(300, 2.0, 1.0)
    y = _qpoints(300, 0.5, -1.0)[::-1].copy()
    ox, oy, cost = vot.monge_1d(x, y)
    assert np.allclose(y[oy], -1.0 + math.sqrt(0.5 / 2.0) * (x[ox] - 1.0), atol=1e-12)
    assert cost.value == pytest.approx(vot.w2_empirical(x, y).value, rel=1e-10)


def test_sliced_and_sinkhorn_against_exact():
    rng = np.random.default_rng(1)
    n, k = 120, 3
    x = rng.standard_normal((n, k))
    y = 2.0 * rng.standard_normal((n, k))
    exact = vot.w2_empirical(x, y).value
    sk = vot.sinkhorn_w2(x, y, reg=0.01, n_iter=5000)
    assert sk.converged and exact <= sk.value * (1 + 1e-9) and sk.value < exact * 1.1
    # isotropic Gaussians: W2^2 = k (s2 - s1)^2, sliced = (s2 - s1)^2 = W2^2 / k
    xs, ys = rng.standard_normal((2, 20000, k))
    sl = vot.sliced_w2(xs, 2.0 * ys, 400, seed=2)
    assert abs(sl.value - 1.0) < 5 * sl.error + 0.05


def test_otto_heat_flow_is_gradient_flow_of_entropy():
    # JKO of int rho ln rho with cost |x-y|^2/(2 tau): variance s -> s + 2 tau + O(tau^2) (heat equation
    # d rho/dt = + Laplacian rho); errors shrink linearly with tau
    s = 0.7
    errs = [abs((vot.heat_flow_jko_variance(s, t) - s) / t - 2.0) for t in (0.04, 0.02, 0.01)]
    assert errs[0] / errs[1] == pytest.approx(2.0, rel=0.05) and errs[1] / errs[2] == pytest.approx(2.0, rel=0.05)
    # energy-dissipation equality along the heat flow: dH/dt = -I = -(metric speed)^2, with
    # H = -1/2 ln(2 pi e s) (decreasing: the sign of the gradient flow), I = 1/s, speed from 1-D W2
    h = 1e-3
    dH = (-0.5 * math.log(s + 2 * h) + 0.5 * math.log(s)) / h
    x, y = _qpoints(4000, s), _qpoints(4000, s + 2 * h)
    speed2 = vot.monge_1d(x, y)[2].value / h**2
    assert dH < 0
    assert dH == pytest.approx(-1.0 / s, rel=2e-3)
    assert speed2 == pytest.approx(1.0 / s, rel=5e-3)


def test_bad_input():
    with pytest.raises(InputError, match="cost_factor"):
        vot.w2_gaussian_modes([1.0], [1.0], [1.0], cost_factor=0)
    with pytest.raises(InputError):
        vot.w2_empirical(np.ones((3, 2)), np.ones((3, 3)))
    with pytest.raises(InputError):
        vot.heat_flow_jko_variance(1.0, -0.1)
