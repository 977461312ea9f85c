"""The Gaussian channel: exact samples of the Polchinski-flowed theory (SPEC section 5)."""

import math

import numpy as np
import pytest

from ergsym.cutoffs import ExponentialCutoff
from ergsym.errors import InputError
from ergsym.lattice.channel import GaussianChannel
from ergsym.lattice.run import run_mc
from ergsym.lattice.stats import statistics
from ergsym.lattice.theory import LatticeTheory

# the Gaussian cutoff K = exp(-p2/Lambda^2) of ergsym.cutoffs
GAUSSIAN = ExponentialCutoff(1)


def _gauss(z, v):
    return np.exp(-(z**2) / (2 * v)) / np.sqrt(2 * np.pi * v)


@pytest.mark.parametrize("lam,alpha", [(5.0, 0.6), (30.0, 0.3)])
def test_channel_law_is_the_polchinski_solution_one_mode(lam, alpha):
    """Density of alpha*phi0 + xi equals exp(-phi^2/2c) [e^{(c0-c)d^2/2} e^{-lam phi^4/24}](phi).

    Both sides by the trapezoidal rule on [-10, 10] (geometrically convergent for these
    entire, Gaussian-decaying integrands); agreement to ~1e-12 checks SPEC section 5.
    """
    c0 = 1.0
    c = alpha * c0
    x = np.linspace(-10, 10, 2001)
    h = x[1] - x[0]
    p0 = np.exp(-(x**2) / (2 * c0) - lam * x**4 / 24)
    p0 /= p0.sum() * h
    p_channel = (_gauss(x[:, None] - alpha * x[None, :], c * (1 - alpha)) * p0[None, :]).sum(1) * h
    e_sint = (_gauss(x[None, :], c0 - c) * np.exp(-lam / 24 * (x[:, None] + x[None, :]) ** 4)).sum(1) * h
    p_flow = np.exp(-(x**2) / (2 * c)) * e_sint
    p_flow /= p_flow.sum() * h
    assert np.max(np.abs(p_channel - p_flow)) < 1e-10
    # and the channel with a wrong noise variance (no factor (1 - alpha)) is detectably different
    p_wrong = (_gauss(x[:, None] - alpha * x[None, :], c) * p0[None, :]).sum(1) * h
    assert np.max(np.abs(p_wrong - p_flow)) > 1e-2


def test_free_field_maps_to_free_field():
    shape = (8, 8)
    cut = GAUSSIAN
    ch = GaussianChannel.from_cutoff(shape, cut, mass=1.0, Lambda0=2.0, Lambda=1.2)
    th0 = LatticeTheory.from_cutoff(shape, cut, 1.0, 2.0)
    th1 = LatticeTheory.from_cutoff(shape, cut, 1.0, 1.2)
    np.testing.assert_allclose(ch.two_point(th0.kt_p), th1.kt_p, rtol=1e-12)
    # exact free draws at Lambda0, pushed through the channel
    rng = np.random.default_rng(0)
    n = 4000
    eta = rng.standard_normal((n,) + shape)
    phi0 = np.fft.ifftn(np.fft.fftn(eta, axes=(1, 2)) * np.sqrt(th0.kt_p), axes=(1, 2)).real
    phi1 = ch.apply(phi0, rng)
    gp = np.abs(np.fft.fftn(phi1, axes=(1, 2))) ** 2 / 64
    # independent samples: error = std/sqrt(n); Gp ~ Kt * chi^2 so relative sd ~ 1/sqrt(n)
    z = (gp.mean(0) - th1.kt_p) / (gp.std(0) / math.sqrt(n))
    assert np.max(np.abs(z)) < 4.5
    assert 0.5 < np.mean(z**2) < 1.6


def test_interacting_two_point_function_flows():
    """G_Lambda = alpha^2 G_Lambda0 + Kt_Lambda (1 - alpha) with MC samples of the interacting theory."""
    shape = (4, 4)
    cut = GAUSSIAN
    th0 = LatticeTheory.from_cutoff(shape, cut, 1.0, 2.0, lam=4.0)
    ch = GaussianChannel.from_cutoff(shape, cut, 1.0, 2.0, 1.0)
    configs = []
    res = run_mc(
        th0, 1500, seed=6, progress=False, record_gp=True, callback=lambda i, st, info: configs.append(np.array(st.phi))
    )
    phi0 = np.array(configs)
    rng = np.random.default_rng(60)
    phi1 = ch.apply(phi0, rng)
    g0 = np.abs(np.fft.fftn(phi0, axes=(1, 2))) ** 2 / 16
    g1 = np.abs(np.fft.fftn(phi1, axes=(1, 2))) ** 2 / 16
    pred = ch.two_point(g0)  # per sample: alpha^2 G0 + noise
    for idx in np.ndindex(shape):
        st = statistics(g1[(slice(None),) + idx] - pred[(slice(None),) + idx])
        assert abs(st.mean) < 4 * st.error_of_mean, idx
    # the interacting G_Lambda0 differs from the free one, so the test is not a free-theory one
    gm, ge, _ = res.gp_stats()
    assert np.max(np.abs(gm - th0.kt_p) / ge) > 5


def test_flowed_phi2_against_series_one_mode():
    """<phi^2>_Lambda = alpha^2 <phi^2>_Lambda0 + c (1 - alpha), with the SPEC 4 series
    <phi^2>_0 = c0 (1 - g/2 + (2/3) g^2 - (11/8) g^3 + (34/9) g^4), g = lam c0^2; the
    truncation error is taken as the whole g^4 term (conservative)."""
    c0, alpha, lam = 1.0, 0.8, 0.2
    th = LatticeTheory((1,), [c0], [0.0], lam)
    ch = GaussianChannel((1,), [alpha], [alpha * c0])
    configs = []
    run_mc(th, 12000, seed=17, progress=False, callback=lambda i, st, info: configs.append(float(st.phi[0])))
    phi1 = ch.apply(np.array(configs)[:, None], np.random.default_rng(5))[:, 0]
    st = statistics(phi1**2)
    g = lam * c0**2
    series = alpha**2 * c0 * (1 - g / 2 + 2 * g**2 / 3 - 11 * g**3 / 8) + alpha * c0 * (1 - alpha)
    trunc = alpha**2 * c0 * 34 / 9 * g**4
    assert abs(st.mean - series) < 4 * math.hypot(st.error_of_mean, trunc)
    # the flowed free value is excluded: interaction visible
    assert abs(st.mean - alpha * c0) > 4 * st.error_of_mean


def test_channel_bad_input():
    with pytest.raises(InputError, match="Lambda"):
        GaussianChannel.from_cutoff((4,), GAUSSIAN, 1.0, Lambda0=1.0, Lambda=2.0)
    with pytest.raises(InputError, match="alpha_p"):
        GaussianChannel((2,), [1.5, 1.5], [1.0, 1.0])
    ch = GaussianChannel((2,), [0.5, 0.5], [1.0, 1.0])
    with pytest.raises(InputError, match="phi.shape"):
        ch.apply(np.zeros(3), np.random.default_rng(0))
    with pytest.raises(InputError, match="rng"):
        ch.apply(np.zeros(2), 42)
