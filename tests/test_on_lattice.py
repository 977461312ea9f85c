"""O(N) lattice Monte Carlo (docs/lattice.md, "O(N) models") against exact results.

References: the zero-dimensional radial integrals (mpmath.quad of r^(N-1+2k) e^{-r^2/(2Kt) - lam r^4/24}),
the Gaussian moments <(phi.phi)^k>_0 = (2Kt)^k Gamma(N/2+k)/Gamma(N/2), the exact O(N) quadrature on one
and two sites (``exact_expectations``: Gauss-Legendre in radial/angular variables, checked here against
mpmath and by the Schwinger-Dyson identities, which it satisfies to rounding), the free field, and the
exact lattice series of the O(N) engine (``monotone(order, form, theory=Theory(N=...))`` summed by
``series_on_lattice``).  All chains have fixed seeds; z-scores use the autocorrelation-aware errors.
"""

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ergsym.cutoffs import ExponentialCutoff
from ergsym.errors import InputError
from ergsym.lattice.hmc import HMCSampler, MetropolisSampler
from ergsym.lattice.observables import SCALAR_OBSERVABLES, measure, measure_reference
from ergsym.lattice.quadrature import exact_expectations
from ergsym.lattice.run import resume_mc, run_mc
from ergsym.lattice.theory import LatticeOps, LatticeTheory

GAUSSIAN = ExponentialCutoff(1)
PIECES = ("phi2", "eq5.14", "eq5.13", "eq5.12", "eq5.11", "A", "B", "A_sd", "B_sd", "eq5.14_sd", "eq5.12_sd")


def z_score(stats, exact):
    return (stats.mean - exact) / stats.error_of_mean


def radial_moment(N, kt, lam, k):
    """<(phi.phi)^k> on one site from the radial density r^(N-1) e^{-r^2/(2 kt) - lam r^4/24} (mpmath)."""

    def mom(j):
        w = math.sqrt(kt)
        return mp.quad(
            lambda r: r ** (N - 1 + 2 * j) * mp.exp(-(r**2) / (2 * kt) - lam * r**4 / 24), [0, w, 4 * w, 12 * w, mp.inf]
        )

    return float(mom(k) / mom(0))


# --------------------------------------------------------------------------------------
# the theory object and N = 1
def test_n1_is_the_old_theory():
    kt, d = np.array([1.0, 0.5, 0.5]), np.array([0.3, 0.1, 0.1])
    a, b = LatticeTheory((3,), kt, d, 2.0), LatticeTheory((3,), kt, d, 2.0, N=1)
    assert a.N == b.N == 1 and a.field_shape == (3,)
    assert a.to_config() == b.to_config() and "N" not in a.to_config()  # N = 1 configs/checkpoints unchanged
    c = LatticeTheory((3,), kt, d, 2.0, N=3)
    assert c.field_shape == (3, 3) and c.with_lam(1.0).N == 3
    assert LatticeTheory.from_config(c.to_config()).N == 3


@pytest.mark.parametrize("bad", [0, -2, 2.5, True, "3", None, float("nan"), 10**6])
def test_bad_n(bad):
    with pytest.raises(InputError, match="N="):
        LatticeTheory((2,), [1.0, 1.0], [0.0, 0.0], 1.0, N=bad)


def test_metropolis_refuses_on():
    with pytest.raises(InputError, match="theory.N"):
        MetropolisSampler(LatticeTheory((2,), [1.0, 1.0], [0.0, 0.0], 1.0, N=2))


# --------------------------------------------------------------------------------------
# action, force, estimators
@pytest.mark.parametrize("N", [2, 3])
def test_force_is_the_gradient_and_estimators_agree(N):
    th = LatticeTheory.from_cutoff((3, 4), GAUSSIAN, mass=1.0, Lambda=1.5, lam=3.0, N=N)
    ops = LatticeOps(th)
    phi = np.random.default_rng(1).standard_normal((2,) + th.field_shape)
    sp = ops.spectra(phi[0])
    grad = ops.ifft(sp.phi_p * ops.inv_kt + th.lam / 6 * sp.f3_p)
    # S_int by hand: (lam/24) sum_x (phi_a phi_a)^2
    p2 = np.sum(phi[0] ** 2, axis=0)
    assert float(ops.s_int(phi[0])) == pytest.approx(th.lam / 24 * np.sum(p2**2), rel=1e-13)
    eps = 1e-6
    for idx in [(0, 0, 0), (N - 1, 2, 3), (1, 1, 0)]:
        e = np.zeros(th.field_shape)
        e[idx] = eps
        num = (float(ops.action(phi[0] + e)) - float(ops.action(phi[0] - e))) / (2 * eps)
        assert num == pytest.approx(grad[idx], rel=1e-6, abs=1e-6)
    a, b = measure(ops, phi), measure_reference(ops, phi)
    for name in SCALAR_OBSERVABLES:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-12, atol=1e-12, err_msg=name)
    assert np.allclose(a["phi2"], np.sum(phi**2, axis=(1, 2, 3)) / th.volume)


@pytest.mark.parametrize("N", [2, 3])
def test_fused_split_reproduces_reference(N):
    th = LatticeTheory.from_cutoff((4, 4), GAUSSIAN, mass=1.0, Lambda=1.5, lam=3.0, N=N)
    s = HMCSampler(th, n_steps=5)
    for rng in (np.random.default_rng(2), [np.random.default_rng(i) for i in range(3)]):
        st_f, st_r = (
            s.init_state(rng),
            s.init_state(
                np.random.default_rng(2) if not isinstance(rng, list) else [np.random.default_rng(i) for i in range(3)]
            ),
        )
        for _ in range(3):
            st_f, inf_f = s.step(st_f)
            st_r, inf_r = s._step_reference(st_r)
            np.testing.assert_allclose(inf_f.dH, inf_r.dH, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(st_f.phi, st_r.phi, rtol=0, atol=1e-12)
        assert st_f.phi.shape[-3:] == (N, 4, 4)


# --------------------------------------------------------------------------------------
# exact quadrature
@pytest.mark.parametrize("N", [2, 3, 4])
@pytest.mark.parametrize("lam", [0.0, 0.1, 10.0, 100.0])
def test_one_site_quadrature_against_mpmath(N, lam):
    kt, d = 0.7, 0.3
    ex = exact_expectations(LatticeTheory((1,), [kt], [d], lam, N=N))
    m1, m2, m3 = (radial_moment(N, kt, lam, k) for k in (1, 2, 3))
    assert ex["phi2"] == pytest.approx(m1, rel=1e-11)
    assert ex["Gp"][0] == pytest.approx(m1, rel=1e-11)
    # one site: x = D r^2/Kt^2, b = D r^4/Kt, c = D r^6 (docs/lattice.md); A = 3x/2 - (lam/6) b + (lam/6)^2 c/2
    l6 = lam / 6
    a_exact = 1.5 * d * m1 / kt**2 - l6 * d * m2 / kt + 0.5 * l6**2 * d * m3
    assert ex["A"] == pytest.approx(a_exact, rel=1e-10)
    if lam == 0:  # Gaussian moments: <phi.phi>_0 = N Kt, <(phi.phi)^2>_0 = (2Kt)^2 Gamma(N/2+2)/Gamma(N/2)
        assert m1 == pytest.approx(N * kt, rel=1e-12)
        assert m2 == pytest.approx((2 * kt) ** 2 * math.gamma(N / 2 + 2) / math.gamma(N / 2), rel=1e-12)
        assert ex["A"] == pytest.approx(1.5 * N * d / kt, rel=1e-12)  # free: A = 3/2 N f0


def test_one_site_small_lambda_series():
    """<phi.phi> = N Kt - N(N+2) lam Kt^3/6 + O(lam^2) (zero dimensions, docs/conventions.md)."""
    kt, lam = 0.8, 1e-4
    for N in (2, 3, 5):
        v = exact_expectations(LatticeTheory((1,), [kt], [0.0], lam, N=N))["phi2"]
        assert v == pytest.approx(N * kt - N * (N + 2) * lam * kt**3 / 6, abs=5 * lam**2 * N**3)


@pytest.mark.parametrize("N", [pytest.param(2, marks=pytest.mark.slow), 3])
def test_two_site_quadrature_satisfies_schwinger_dyson(N):
    """The O(N) Schwinger-Dyson estimators have the direct ones' expectation values: an exact
    identity (docs/lattice.md), here met by the two-site quadrature to rounding."""
    th = LatticeTheory((2,), [1.0, 0.3], [0.5, 0.15], 10.0, N=N)
    ex, fine = exact_expectations(th, n_points=80), exact_expectations(th, n_points=100)
    for a, b in (("A", "A_sd"), ("B", "B_sd"), ("eq5.14", "eq5.14_sd"), ("eq5.12", "eq5.12_sd")):
        assert ex[a] == pytest.approx(ex[b], rel=1e-9), (a, b)
    assert ex["eq5.13"] == pytest.approx(-2 * N * th.f0, rel=1e-9)
    for name in PIECES:
        assert ex[name] == pytest.approx(fine[name], rel=1e-10), name


# --------------------------------------------------------------------------------------
# Monte Carlo against the exact results
@pytest.mark.parametrize("lam", [0.1, 10.0, 100.0])
def test_mc_one_site_n3_against_quadrature(lam):
    th = LatticeTheory((1,), [0.7], [0.3], lam, N=3)
    ex = exact_expectations(th)
    res = run_mc(th, 4000, seed=5, progress=False, record_gp=True)
    assert res.acceptance > 0.7
    for name in PIECES:
        assert abs(z_score(res.stats(name), ex[name])) < 4, (name, res.stats(name), ex[name])
    if lam >= 10:  # the interaction is visible: the free value N Kt is excluded
        assert abs(z_score(res.stats("phi2"), 3 * 0.7)) > 10


@pytest.mark.slow
@pytest.mark.parametrize("N", [2, 3])
@pytest.mark.parametrize("lam", [0.1, 10.0, 100.0])
def test_mc_two_sites_against_quadrature(N, lam):
    th = LatticeTheory((2,), [1.0, 0.3], [0.5, 0.15], lam, N=N)
    ex = exact_expectations(th, n_points=80)
    res = run_mc(th, 6000, seed=7, progress=False, record_gp=True)
    for name in PIECES:
        assert abs(z_score(res.stats(name), ex[name])) < 4, (name, res.stats(name), ex[name])
    gm, ge, _ = res.gp_stats()
    assert np.all(np.abs(gm - ex["Gp"]) < 4 * ge)


def test_free_field_exact():
    N = 3
    th = LatticeTheory.from_cutoff((4, 4), GAUSSIAN, mass=1.0, Lambda=1.5, lam=0.0, N=N)
    res = run_mc(th, 1500, seed=9, progress=False, record_gp=True)
    assert res.acceptance == 1.0  # the split integrator is exact at lam = 0
    assert abs(z_score(res.stats("phi2"), N * th.g00)) < 4
    gm, ge, _ = res.gp_stats()
    z = (gm - N * th.kt_p) / ge
    assert np.max(np.abs(z)) < 4.5
    assert abs(z_score(res.stats("A"), 1.5 * N * th.f0)) < 4
    assert abs(z_score(res.stats("B"), 0.5 * N * th.f0)) < 4
    # the Schwinger-Dyson estimators are exact constants in the free theory
    assert res.stats("A_sd").mean == pytest.approx(1.5 * N * th.f0, rel=1e-12)
    assert res.stats("B_sd").mean == pytest.approx(0.5 * N * th.f0, rel=1e-12)
    assert res.to_dict()["N"] == N and res.to_dict()["exact"]["eq5.13"] == pytest.approx(-2 * N * th.f0)


@pytest.mark.parametrize("N", [2, 3])
def test_mc_against_exact_lattice_series(N):
    """4x4, lam = 0.3: the MC (improved estimators) against the O(N) engine's series summed exactly on
    the lattice to O(lam^2); the N = 1 series (a wrong N) is rejected."""
    from ergsym.lattice.sums import series_on_lattice
    from ergsym.symbolic import Theory, expand, local_phi, monotone

    lam = 0.3
    lt = LatticeTheory.from_cutoff((4, 4), GAUSSIAN, mass=1.0, Lambda=1.5, lam=lam, N=N)
    res = run_mc(lt, 3000, seed=3, progress=False)

    def series(theory):
        return {
            "A_sd": monotone(2, "A", theory=theory),
            "B_sd": monotone(2, "B", theory=theory),
            "phi2": expand(local_phi(2, theory), theory, 2),
        }

    for obs, ser in series(Theory(N=N)).items():
        c = series_on_lattice(ser, (4, 4), lt.kt_p, lt.d_p)
        pred = sum(ck * lam**k for k, ck in enumerate(c))
        st = res.stats(obs)
        # truncation O(lam^3) ~ |c2| lam^3 is far below the MC error here
        assert abs(st.mean - pred) < 4 * math.hypot(st.error_of_mean, abs(c[2]) * lam**3), (obs, st, pred)
    for obs, ser in series(Theory(N=1)).items():
        c = series_on_lattice(ser, (4, 4), lt.kt_p, lt.d_p)
        pred = sum(ck * lam**k for k, ck in enumerate(c))
        assert abs(z_score(res.stats(obs), pred)) > 10, obs


# --------------------------------------------------------------------------------------
# checkpoints
def test_on_interrupt_and_resume_is_bitwise(tmp_path):
    th = LatticeTheory.from_cutoff((4, 4), GAUSSIAN, mass=1.0, Lambda=1.5, lam=1.0, N=3)
    kw = dict(seed=77, n_therm=10, measure_every=2, record_gp=True, progress=False, n_chains=2)
    full = run_mc(th, 120, **kw)
    ck = tmp_path / "run.npz"

    def boom(i, state, info):
        if i == 57:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_mc(th, 120, checkpoint=ck, checkpoint_every=20, callback=boom, **kw)
    resumed = resume_mc(ck, progress=False)
    assert resumed.theory.N == 3
    for name, chain in full.chains.items():
        assert np.array_equal(chain, resumed.chains[name]), name
    assert np.array_equal(full.gp_chain, resumed.gp_chain)
    assert np.array_equal(full.state.phi, resumed.state.phi)


def test_channel_acts_on_each_component():
    """The exact-RG channel maps free O(3) samples at Lambda0 to free samples at Lambda, component by
    component: <|phi_{a,p}|^2>/V = Kt_{Lambda,p} for every a (standard error <= sqrt(2) Kt/sqrt(n))."""
    from ergsym.lattice.channel import GaussianChannel

    ch = GaussianChannel.from_cutoff((4, 4), GAUSSIAN, 1.0, 2.0, 1.5)
    th0 = LatticeTheory.from_cutoff((4, 4), GAUSSIAN, 1.0, 2.0, N=3)
    th = LatticeTheory.from_cutoff((4, 4), GAUSSIAN, 1.0, 1.5, N=3)
    n = 2000
    st = HMCSampler(th0).init_state([np.random.default_rng(i) for i in range(n)])  # exact free draws
    out = ch.apply(st.phi, np.random.default_rng(0))
    assert out.shape == (n, 3, 4, 4)
    g = (np.abs(np.fft.fftn(out, axes=(-2, -1))) ** 2).mean(axis=0) / 16  # per component
    z = (g / th.kt_p - 1) * math.sqrt(n / 2)
    assert np.max(np.abs(z)) < 4.5
    # and it is not the identity: Lambda0's propagator is excluded
    assert np.max(np.abs(g / th0.kt_p - 1) * math.sqrt(n / 2)) > 10


def _calibration(means, errors, exact):
    """As tests/test_calibration.py: scatter / rms error in [0.8, 1.25] and a KS p-value of the
    z-scores against N(0, 1) above 1e-3."""
    from scipy.stats import kstest

    m, e = np.asarray(means, float), np.asarray(errors, float)
    z = (m - exact) / e
    ratio = float(np.std(m, ddof=1) / math.sqrt(np.mean(e**2)))
    p = float(kstest(z, "norm").pvalue)
    return (
        0.8 <= ratio <= 1.25 and p > 1e-3,
        f"scatter/error={ratio:.3f} rms z={math.sqrt(np.mean(z**2)):.3f} p={p:.2g}",
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "shape,kt,d,N,lam,n_traj",
    [((1,), [1.0], [0.5], 3, 10.0, 4000), ((2,), [1.0, 0.5], [0.5, 0.3], 2, 10.0, 3000)],
)
def test_on_error_bars_are_calibrated(shape, kt, d, N, lam, n_traj):
    """128 independent chains (one batched run, each column analysed alone) against the exact O(N)
    quadrature: measured 2026-12-07 scatter/error 0.89-1.11, KS p >= 0.15 (phi2, B_sd, A); an error
    bar off by 1.5x either way fails the same criteria."""
    from ergsym.lattice.stats import statistics

    th = LatticeTheory(shape, kt, d, lam, N=N)
    ex = exact_expectations(th, n_points=80)
    res = run_mc(th, n_traj, seed=7, progress=False, n_chains=128)
    for obs in ("phi2", "B_sd", "A"):
        ch = np.asarray(res.chains[obs])
        sts = [s for s in (statistics(ch[:, j]) for j in range(128)) if s.reliable]
        assert len(sts) >= 115, (obs, len(sts))
        means, errs = [s.mean for s in sts], [s.error_of_mean for s in sts]
        ok, rep = _calibration(means, errs, ex[obs])
        assert ok, (obs, rep)
        for f in (1.5, 1 / 1.5):
            assert not _calibration(means, np.asarray(errs) * f, ex[obs])[0], (obs, f)


@settings(max_examples=25)
@given(
    N=st.integers(1, 5),
    shape=st.sampled_from([(1,), (2,), (3,), (4, 4), (2, 3), (2, 2, 2)]),
    lam=st.floats(0.0, 50.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_action_and_observables_are_o_n_invariant(N, shape, lam, seed):
    """Property: a global O(N) rotation phi_a -> R_ab phi_b leaves the action and every scalar
    observable unchanged, and the fused estimators equal the term-by-term reference."""
    rng = np.random.default_rng(seed)
    kt = np.exp(-lattice_p2(shape))  # positive, even in p
    th = LatticeTheory(shape, kt, 0.5 * kt, lam, N=N)
    ops = LatticeOps(th)
    phi = rng.standard_normal((3,) + th.field_shape)
    q, _ = np.linalg.qr(rng.standard_normal((N, N)))
    rot = -phi if N == 1 else np.einsum("ab,cb...->ca...", q, phi)  # O(1) = {1, -1}
    np.testing.assert_allclose(ops.action(rot), ops.action(phi), rtol=1e-10)
    a, b, r = measure(ops, phi), measure_reference(ops, phi), measure(ops, rot)
    for name in SCALAR_OBSERVABLES:
        scale = 1e-9 * (1.0 + np.abs(b[name]))
        assert np.all(np.abs(a[name] - b[name]) <= scale), name
        assert np.all(np.abs(r[name] - a[name]) <= scale), name


def lattice_p2(shape):
    from ergsym.conventions import lattice_phat2

    return lattice_phat2(shape)


@pytest.mark.parametrize("integrator", ["omelyan", "leapfrog"])
def test_other_integrators_on(integrator):
    """The Omelyan and leapfrog integrators with N = 3 components, two sites, lam = 10, against the
    exact O(N) quadrature (seen 2026-12-07: |z| <= 0.9)."""
    th = LatticeTheory((2,), [1.0, 0.3], [0.5, 0.15], 10.0, N=3)
    ex = exact_expectations(th, n_points=80)
    res = run_mc(th, 3000, seed=2, progress=False, integrator=integrator)
    assert res.acceptance > 0.7
    for name in ("phi2", "A", "B_sd"):
        assert abs(z_score(res.stats(name), ex[name])) < 4, (name, res.stats(name), ex[name])
