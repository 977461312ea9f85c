"""JKO step (paper (6.18)/(6.21)) and map families of ergsym.variational against closed forms."""

import math

import numpy as np
import pytest

from ergsym.errors import ErgsymError, InputError
from ergsym.variational.jko import free_jko_factor, free_jko_flow, jko_step, orbit_objective, schedule, validate_tau
from ergsym.variational.maps import Orbits, RadialFamily, ShellMap, compose_apply


def _rate(g, d, k, tau, c=2.0):
    a = free_jko_factor(g, d, k, tau, c)
    return (g - a * a * g) / tau


def test_free_rate_converges_to_D_first_order():
    # G = Kt (free equilibrium): (G_old - G_new)/tau -> D with an O(tau) error (exact flow dG/dt = -D)
    g = k = 0.8
    d = 0.35
    taus = [0.04, 0.02, 0.01, 0.005]
    err = [abs(_rate(g, d, k, t) - d) for t in taus]
    for e1, e2 in zip(err, err[1:]):
        assert e1 / e2 == pytest.approx(2.0, rel=0.05)
    assert err[-1] < 0.01 * d


def test_factor_two_matters():
    # without the factor 2 of (3.4) the rate would be 2D
    g = k = 0.8
    d = 0.35
    assert _rate(g, d, k, 1e-4, c=1.0) == pytest.approx(2 * d, rel=1e-3)
    assert _rate(g, d, k, 1e-4, c=2.0) == pytest.approx(d, rel=1e-3)


def test_rate_matches_channel_away_from_equilibrium():
    # exact channel: G_Lambda = alpha^2 G0 + Kt(1-alpha), dG/dt = D (1 - 2G/Kt) at any G (any coupling)
    g, k, d = 0.5, 0.8, 0.3
    assert -_rate(g, d, k, 1e-5) == pytest.approx(d * (1 - 2 * g / k), rel=1e-4)


def test_free_flow_reaches_exact_propagator_on_a_lattice():
    from ergsym.conventions import free_propagators, lattice_phat2
    from ergsym.cutoffs.parse import parse_cutoff

    c = parse_cutoff("bump:eps=0.5,lambda_max=2")
    p2 = lattice_phat2((8, 8))

    def kt(L):
        return free_propagators(c, p2, L, 1.0)[0]

    errs = []
    for steps in (40, 80, 160):
        _, G = free_jko_flow(kt(1.3), kt, 1.3, 1.0, steps)
        errs.append(np.max(np.abs(G[-1] / kt(1.0) - 1)))
    assert errs[0] / errs[1] == pytest.approx(2.0, rel=0.1) and errs[1] / errs[2] == pytest.approx(2.0, rel=0.1)


def _gaussian_orbit_samples(shape, g_p, n, seed):
    rng = np.random.default_rng(seed)
    eta = rng.standard_normal((n,) + shape)
    return np.fft.ifftn(np.fft.fftn(eta, axes=(1, 2)) * np.sqrt(g_p), axes=(1, 2)).real


def test_sample_optimiser_agrees_with_closed_form_within_statistical_error():
    shape = (4, 4)
    orb = Orbits(shape)
    kt0 = 1.0 / (1.0 + orb.p2[orb.label].reshape(shape))
    kt1 = kt0 * (1 - 0.05 * (orb.label.reshape(shape) == 2))  # one orbit flows
    tau = 0.02
    n = 4000
    phi = _gaussian_orbit_samples(shape, kt0, n, 1)
    for family in ("linear", "radial"):
        st = jko_step(phi, orb, kt0, kt1, tau, family=family)
        assert st.converged and list(st.map.active) == [2]
        out = st.map.apply(phi)
        g_new = np.mean(orb.rho2(orb.fft(out))[:, 2]) / orb.m[2]
        g_hat = np.mean(orb.rho2(orb.fft(phi))[:, 2]) / orb.m[2]
        dbar = (orb.per_orbit(kt0)[2] - orb.per_orbit(kt1)[2]) / tau
        k1 = orb.per_orbit(kt1)[2]
        # closed form at the sample's G: exact optimum of the linear family
        a_hat = free_jko_factor(g_hat, dbar, k1, tau)
        if family == "linear":
            assert g_new == pytest.approx(a_hat**2 * g_hat, rel=1e-9)
        # closed form at the true G: within the statistical error of g_hat (m * n real Gaussians)
        g_true = orb.per_orbit(kt0)[2]
        a_true = free_jko_factor(g_true, dbar, k1, tau)
        sigma = a_true**2 * g_true * math.sqrt(2.0 / (orb.m[2] * n))
        assert abs(g_new - a_true**2 * g_true) < 4 * sigma


def test_radial_gradient_matches_jax_autodiff():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    rho = np.abs(np.random.default_rng(0).normal(size=300)) * 1.5 + 0.05
    fam = RadialFamily((0.5, 1.0, 2.0))
    th = np.array([0.1, 0.3, -0.4, 0.2])
    m, dbar, k, tau = 4, 0.3, 0.8, 0.05
    _, g = orbit_objective(th, fam, rho, m, dbar, k, tau)
    # float64 locally (a context manager; jax.experimental.enable_x64 in older JAX)
    enable_x64 = jax.enable_x64 if hasattr(jax, "enable_x64") else jax.experimental.enable_x64
    with enable_x64(True):
        r = jnp.asarray(rho)

        def J(t):
            a = jnp.exp(t[0])
            h, hp = r, jnp.ones_like(r)
            for i, s in enumerate(fam.scales):
                beta = jnp.expm1(t[1 + i]) / 3
                h = h + beta * s * jnp.tanh(r / s)
                hp = hp + beta / jnp.cosh(r / s) ** 2
            gg, gp = a * h, a * hp
            return jnp.mean((rho - gg) ** 2 / (tau * dbar) - jnp.log(gp) - (m - 1) * jnp.log(gg / r) + gg**2 / k)

        gj = np.asarray(jax.grad(J)(jnp.asarray(th)))
    assert np.allclose(g, gj, rtol=1e-9, atol=1e-12)


def _random_map(shape, seed):
    orb = Orbits(shape)
    rng = np.random.default_rng(seed)
    act = np.array([1, 3])
    fams = [RadialFamily((0.5, 1.0)), RadialFamily((0.7,))]
    thetas = [rng.normal(scale=0.3, size=f.n_params) for f in fams]
    return orb, ShellMap(orb, act, thetas, fams)


def test_logdet_equals_numerical_jacobian_and_map_is_equivariant():
    shape = (4, 4)
    orb, F = _random_map(shape, 2)
    phi = np.random.default_rng(5).standard_normal((1,) + shape)
    out, ld = F.apply(phi, return_logdet=True)
    V, h = 16, 1e-6
    J = np.empty((V, V))
    for i in range(V):
        e = np.zeros(V)
        e[i] = h
        J[:, i] = ((F.apply(phi + e.reshape((1,) + shape)) - F.apply(phi - e.reshape((1,) + shape))) / (2 * h)).ravel()
    assert ld[0] == pytest.approx(np.linalg.slogdet(J)[1], abs=1e-6)
    shifted = np.roll(phi, (1, 2), axis=(1, 2))
    assert np.allclose(F.apply(shifted), np.roll(out, (1, 2), axis=(1, 2)), atol=1e-12)


def test_composition_order_newest_acts_last():
    shape = (4, 4)
    orb, F1 = _random_map(shape, 3)
    _, F2 = _random_map(shape, 4)
    phi = np.random.default_rng(6).standard_normal((3,) + shape)
    both = compose_apply([F1, F2], phi)
    assert np.allclose(both, F2.apply(F1.apply(phi)), atol=1e-13)
    assert not np.allclose(both, F1.apply(F2.apply(phi)), atol=1e-6)


def test_bad_input_names_step_and_parameter():
    with pytest.raises(InputError, match="tau"):
        validate_tau(0.0, step=3)
    with pytest.raises(InputError, match="Lambda"):
        schedule(1.0, 1.0, 5)
    with pytest.raises(InputError, match="steps"):
        schedule(1.3, 1.0, 0)
    orb = Orbits((4, 4))
    kt = np.ones((4, 4))
    with pytest.raises(InputError, match=r"tau \(step 7\)"):
        jko_step(np.zeros((5, 4, 4)), orb, kt, kt * 0.9, -0.1, step=7)
    bad = np.full((5, 4, 4), np.nan)
    with pytest.raises(ErgsymError, match="step 2"):
        jko_step(bad, orb, kt, kt * 0.9, 0.1, step=2)
    F = ShellMap(orb, np.array([1]), [np.array([np.nan])], [RadialFamily(())], step=4)
    with pytest.raises(ErgsymError, match="step 4: the map stopped being invertible"):
        F.apply(np.ones((2, 4, 4)))


def test_algorithm2_adam_agrees_with_deterministic_step():
    pytest.importorskip("optax")
    shape = (4, 4)
    orb = Orbits(shape)
    kt0 = 1.0 / (1.0 + orb.p2[orb.label].reshape(shape))
    kt1 = kt0 * (1 - 0.05 * (orb.label.reshape(shape) == 2))
    phi = _gaussian_orbit_samples(shape, kt0, 2000, 2)
    det = jko_step(phi, orb, kt0, kt1, 0.02, family="linear")
    sgd = jko_step(
        phi, orb, kt0, kt1, 0.02, family="linear", optimizer="adam", theta0=[[0.0]], n_epochs=40, learning_rate=0.01
    )
    assert sgd.objective == pytest.approx(det.objective, abs=1e-4)
    assert sgd.map.thetas[0][0] == pytest.approx(det.map.thetas[0][0], abs=3e-3)
