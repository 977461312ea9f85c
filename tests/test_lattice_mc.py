"""Monte Carlo of the lattice theory (SPEC sections 3, 4, 7) against exact results.

Reference values: ``exact_expectations`` (trapezoidal quadrature over the V <= 3 site
variables, itself checked against mpmath.quad / scipy nquad below), the free theory
(Gaussian: ``<|phi_p|^2> = V Kt_p``, ``A = 3/2 f0``, ``B = 1/2 f0``) and Schwinger-Dyson
identities.  All chains have fixed seeds; comparisons are z-scores with the
autocorrelation-aware errors of ``ergsym.lattice.stats``.
"""

import math

import mpmath as mp
import numpy as np
import pytest
from scipy import integrate

from ergsym.conventions import lattice_phat2
from ergsym.cutoffs import ExponentialCutoff
from ergsym.errors import BackendUnavailableError, CheckpointError, InputError
from ergsym.lattice.backend import get_backend
from ergsym.lattice.checkpoint import save_checkpoint
from ergsym.lattice.hmc import HMCSampler
from ergsym.lattice.quadrature import exact_expectations
from ergsym.lattice.run import resume_mc, run_mc
from ergsym.lattice.stats import statistics
from ergsym.lattice.theory import LatticeTheory

# the Gaussian cutoff K = exp(-p2/Lambda^2) of ergsym.cutoffs
GAUSSIAN = ExponentialCutoff(1)


def z_score(stats, exact):
    return (stats.mean - exact) / stats.error_of_mean


# --------------------------------------------------------------------------------------
# the quadrature oracle itself
def test_oracle_one_site_against_mpmath():
    k, d, lam = 0.7, 0.3, 30.0
    ex = exact_expectations(LatticeTheory((1,), [k], [d], lam))
    mp.mp.dps = 30

    def avg(f):
        # mpmath.quad of f(x) exp(-x^2/(2k) - lam x^4/24) over the real line
        w = lambda x: mp.exp(-(x**2) / (2 * k) - lam * x**4 / 24)  # noqa: E731
        return mp.quad(lambda x: f(x) * w(x), [-mp.inf, 0, mp.inf]) / mp.quad(w, [-mp.inf, 0, mp.inf])

    ds = lambda x: x / k + lam / 6 * x**3  # noqa: E731
    phi2 = avg(lambda x: x**2)
    p1 = 0.5 * d * avg(lambda x: ds(x) ** 2)
    p2 = -2 * d * avg(lambda x: ds(x) * x / k)
    xx = d * avg(lambda x: (x / k) ** 2)
    assert ex["phi2"] == pytest.approx(float(phi2), rel=1e-9)
    assert ex["A"] == pytest.approx(float(p1 + p2 + 3 * xx), rel=1e-9)
    assert ex["B"] == pytest.approx(float(-p1 - p2 - xx), rel=1e-8)
    assert ex["P2"] == pytest.approx(-2 * d / k, rel=1e-9)
    # one mode at lam = 30: B < 0 (the sign question of SPEC 2.1, answered here)
    assert ex["B"] < 0


def test_oracle_two_sites_against_nquad():
    kt = np.array([1.0, 0.3])  # modes p = 0, pi
    th = LatticeTheory((2,), kt, 0.5 * kt, 5.0)
    ex = exact_expectations(th)
    m = th.position_kernel("M")  # M_00, M_01

    def s(a, b):
        return 0.5 * (m[0] * (a * a + b * b) + 2 * m[1] * a * b) + 5.0 / 24 * (a**4 + b**4)

    lim = [[-8, 8], [-8, 8]]
    z = integrate.nquad(lambda a, b: math.exp(-s(a, b)), lim, opts={"epsabs": 1e-13})[0]
    num = integrate.nquad(lambda a, b: 0.5 * (a * a + b * b) * math.exp(-s(a, b)), lim, opts={"epsabs": 1e-13})[0]
    assert ex["phi2"] == pytest.approx(num / z, rel=1e-7)


def test_oracle_free_exact():
    kt = np.array([1.0, 0.4, 0.4])
    ex = exact_expectations(LatticeTheory((3,), kt, 0.5 * kt, 0.0))
    assert ex["phi2"] == pytest.approx(kt.mean(), rel=1e-9)
    np.testing.assert_allclose(ex["Gp"], kt, rtol=1e-9)
    f0 = 1.5  # sum D/Kt = 3 * 0.5
    assert ex["A"] == pytest.approx(1.5 * f0, rel=1e-9)
    assert ex["B"] == pytest.approx(0.5 * f0, rel=1e-9)


def test_oracle_refuses_large_volume():
    with pytest.raises(InputError, match="volume"):
        exact_expectations(LatticeTheory((2, 2), np.ones((2, 2)), np.ones((2, 2)), 1.0))


# --------------------------------------------------------------------------------------
# tiny lattices, nonperturbative couplings
TINY = [
    # shape, Kt_p, D_p, lam, n_traj
    ((1,), [0.7], [0.3], 30.0, 12000),
    ((2,), [1.0, 0.3], [0.5, 0.15], 5.0, 8000),
    ((3,), [1.0, 0.4, 0.4], [0.5, 0.2, 0.2], 30.0, 8000),
]


@pytest.mark.slow
@pytest.mark.parametrize("adapt", [False, True], ids=["fixed-steps", "adapted"])
@pytest.mark.parametrize("shape,kt,d,lam,n", TINY)
def test_tiny_lattice_against_quadrature(shape, kt, d, lam, n, adapt):
    th = LatticeTheory(shape, kt, d, lam)
    ex = exact_expectations(th)
    if adapt:  # the default: thermalization adapts the step (down to 1 step) towards acceptance 0.8;
        # above it only where one step already accepts more (the step count's floor)
        res = run_mc(th, n, seed=11, progress=False, record_gp=True)
        assert res.acceptance > 0.7
    else:  # no thermalization: the first-guess step count (>= 4) is kept
        res = run_mc(th, n, seed=11, progress=False, record_gp=True, n_therm=0)
        assert res.acceptance > 0.85
    for name in ("phi2", "P1", "P2", "P3", "P4", "A", "B", "A_sd", "B_sd", "P1_sd", "P3_sd"):
        st = res.stats(name)
        assert abs(z_score(st, ex[name])) < 4, (name, st, ex[name])
    gm, ge, _ = res.gp_stats()
    assert np.all(np.abs(gm - ex["Gp"]) < 4 * ge)
    # interaction visibly matters: the free value is excluded
    assert abs(z_score(res.stats("phi2"), th.g00)) > 10


@pytest.mark.slow
def test_one_mode_histogram_chi2():
    """chi^2 of the one-mode histogram against the exact density exp(-x^2/2 - lam x^4/24)/Z."""
    from scipy import stats as sps

    lam = 5.0
    th = LatticeTheory((1,), [1.0], [0.0], lam)
    xs = []
    run_mc(
        th, 12000, seed=3, progress=False, measure_every=50, callback=lambda i, st, info: xs.append(float(st.phi[0]))
    )
    xs = np.array(xs)
    # thin by 2 tau_int of phi^2 (the slowest of phi, phi^2) so the bins count ~independent draws
    thin = max(1, math.ceil(2 * statistics(xs**2).tau_corr))
    x = xs[::thin]

    def chi2_pvalue(lam_density):
        grid = np.linspace(-8, 8, 200001)
        dens = np.exp(-(grid**2) / 2 - lam_density * grid**4 / 24)
        cdf = integrate.cumulative_trapezoid(dens, grid, initial=0.0)
        cdf /= cdf[-1]
        edges = np.interp(np.linspace(0, 1, 21)[1:-1], cdf, grid)  # 20 equiprobable bins
        counts = np.bincount(np.searchsorted(edges, x), minlength=20)
        expected = np.full(20, x.size / 20)
        return sps.chisquare(counts, expected).pvalue

    assert chi2_pvalue(lam) > 1e-3
    # the test has power: a density with a 40% different coupling is rejected
    assert chi2_pvalue(1.4 * lam) < 1e-4


# --------------------------------------------------------------------------------------
# free theory on a larger lattice
def test_free_theory_exact():
    shape = (6, 6)
    th = LatticeTheory.from_cutoff(shape, GAUSSIAN, mass=1.0, Lambda=2.0, lam=0.0)
    res = run_mc(th, 3000, seed=21, progress=False, record_gp=True)
    assert res.acceptance == 1.0  # the split integrator is exact in the free theory
    f0 = th.f0
    assert res.stats("A_sd").mean == pytest.approx(1.5 * f0, rel=1e-12)
    assert res.stats("B_sd").mean == pytest.approx(0.5 * f0, rel=1e-12)
    assert abs(z_score(res.stats("A"), 1.5 * f0)) < 4
    assert abs(z_score(res.stats("B"), 0.5 * f0)) < 4
    assert abs(z_score(res.stats("phi2"), th.g00)) < 4
    gm, ge, tau = res.gp_stats()
    z = (gm - th.kt_p) / ge
    assert np.max(np.abs(z)) < 4.5
    assert 0.4 < np.mean(z**2) < 1.8
    # Fourier acceleration: every mode decorrelates within ~one trajectory
    assert np.max(tau) < 1.5


def test_free_one_mode_ratios():
    """SPEC 2.1: one free mode has A = (3/2) D/k and B = (1/2) D/k."""
    k, d = 0.8, 0.25
    res = run_mc(LatticeTheory((1,), [k], [d], 0.0), 4000, seed=2, progress=False)
    assert abs(z_score(res.stats("A"), 1.5 * d / k)) < 4
    assert abs(z_score(res.stats("B"), 0.5 * d / k)) < 4


# --------------------------------------------------------------------------------------
# Schwinger-Dyson identities and integrator checks
def test_schwinger_dyson_identities():
    th = LatticeTheory.from_cutoff((4, 4), GAUSSIAN, mass=1.0, Lambda=1.5, lam=3.0)
    res = run_mc(th, 3000, seed=8, progress=False)
    c = res.chains
    for direct in ("P1", "P2", "P3", "P4", "A", "B"):
        diff = statistics(c[direct] - c[direct + "_sd"])
        assert abs(diff.mean) < 4 * diff.error_of_mean, direct
    # P2 improved is exact: -2 sum_p D/Kt with no fluctuation
    assert np.all(c["P2_sd"] == -2 * th.f0)


def test_improved_estimators_have_small_errors_at_small_coupling():
    th = LatticeTheory.from_cutoff((4, 4), GAUSSIAN, mass=1.0, Lambda=1.5, lam=0.05)
    res = run_mc(th, 1000, seed=9, progress=False)
    assert res.stats("A_sd").error_of_mean < 0.1 * res.stats("A").error_of_mean
    assert res.stats("B_sd").error_of_mean < 0.1 * res.stats("B").error_of_mean


@pytest.mark.parametrize("integrator,n_steps", [("leapfrog", 3), ("split", 2)])
def test_creutz_equality(integrator, n_steps):
    """<exp(-dH)> = 1 for a reversible, area-preserving integrator (Creutz 1988)."""
    th = LatticeTheory.from_cutoff((8, 8), GAUSSIAN, mass=1.0, Lambda=1.5, lam=4.0)
    res = run_mc(th, 1500, seed=4, progress=False, integrator=integrator, n_steps=n_steps)
    assert 0.3 < res.acceptance < 0.995  # nontrivial energy violations
    st = statistics(np.exp(-res.dH))
    assert abs(st.mean - 1) < 4 * st.error_of_mean


def test_metropolis_baseline_tiny():
    th = LatticeTheory((2,), [1.0, 0.3], [0.5, 0.15], 5.0)
    ex = exact_expectations(th)
    res = run_mc(th, 6000, seed=13, progress=False, sampler="metropolis")
    for name in ("phi2", "A", "B"):
        assert abs(z_score(res.stats(name), ex[name])) < 4, name


# --------------------------------------------------------------------------------------
# checkpoint / resume
def test_interrupt_and_resume_is_bitwise(tmp_path):
    th = LatticeTheory.from_cutoff((4, 4), GAUSSIAN, mass=1.0, Lambda=1.5, lam=1.0)
    kw = dict(seed=77, n_therm=10, measure_every=2, record_gp=True, progress=False)
    full = run_mc(th, 300, **kw)
    ck = tmp_path / "run.npz"

    def boom(i, state, info):
        if i == 137:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_mc(th, 300, checkpoint=ck, checkpoint_every=50, callback=boom, **kw)
    resumed = resume_mc(ck, progress=False)
    for name, chain in full.chains.items():
        assert np.array_equal(chain, resumed.chains[name]), name
    assert np.array_equal(full.gp_chain, resumed.gp_chain)
    assert np.array_equal(full.accepted, resumed.accepted)
    assert np.array_equal(full.dH, resumed.dH)
    assert np.array_equal(full.state.phi, resumed.state.phi)
    # a finished checkpoint can be extended; the extension equals a longer run
    longer = resume_mc(ck, n_traj=400, progress=False)
    ref = run_mc(th, 400, **kw)
    assert np.array_equal(longer.chains["A"], ref.chains["A"])


def test_resume_bad_checkpoints(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        resume_mc(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(CheckpointError, match="not a readable"):
        resume_mc(bad)
    old = tmp_path / "old.npz"
    save_checkpoint(old, {"x": 1}, {})
    np.savez(old, meta=np.array('{"version": 999}'))
    with pytest.raises(CheckpointError, match="version"):
        resume_mc(old)


# --------------------------------------------------------------------------------------
# bad input
def test_bad_input_messages():
    kt = np.ones(4)
    with pytest.raises(InputError, match=r"lam=-0\.1.*>= 0"):
        LatticeTheory((4,), kt, kt, -0.1)
    with pytest.raises(InputError, match="extents >= 2"):
        LatticeTheory((1, 4), np.ones((1, 4)), np.ones((1, 4)), 0.1)
    with pytest.raises(InputError, match="kt_p"):
        LatticeTheory((4,), [1.0, -1.0, 1.0, -1.0], kt, 0.1)
    with pytest.raises(InputError, match="f\\(-p\\) = f\\(p\\)"):
        LatticeTheory((4,), [1.0, 2.0, 3.0, 4.0], kt, 0.1)
    with pytest.raises(InputError, match="kt_p.shape"):
        LatticeTheory((4,), np.ones(5), kt, 0.1)
    th = LatticeTheory((4,), kt, kt, 0.1)
    with pytest.raises(InputError, match="backend='tpu'"):
        run_mc(th, 10, seed=1, backend="tpu", progress=False)
    with pytest.raises(InputError, match="seed"):
        run_mc(th, 10, progress=False)
    with pytest.raises(InputError, match="n_traj"):
        run_mc(th, 1, seed=1, progress=False)
    with pytest.raises(InputError, match="n_steps"):
        HMCSampler(th, n_steps=0)
    with pytest.raises(InputError, match="mass"):
        LatticeTheory.from_cutoff((4,), GAUSSIAN, mass=0.0, Lambda=1.0)
    with pytest.raises(InputError, match="Lambda"):
        LatticeTheory.from_cutoff((4,), GAUSSIAN, mass=1.0, Lambda=-1.0)


def _gpu_available():
    try:
        get_backend("cupy")
    except BackendUnavailableError:
        return False
    return True


@pytest.mark.skipif(_gpu_available(), reason="cupy and a device are present")
def test_cupy_unavailable_is_a_clear_error():
    th = LatticeTheory((4,), np.ones(4), np.ones(4), 0.1)
    with pytest.raises(BackendUnavailableError, match="cupy"):
        run_mc(th, 10, seed=1, backend="cupy", progress=False)


@pytest.mark.gpu
@pytest.mark.skipif(not _gpu_available(), reason="needs cupy and a CUDA device")
def test_cupy_backend_matches_numpy():
    th = LatticeTheory.from_cutoff((8, 8), GAUSSIAN, mass=1.0, Lambda=1.5, lam=1.0)
    a = run_mc(th, 200, seed=5, progress=False)
    b = run_mc(th, 200, seed=5, progress=False, backend="cupy")
    # same host random numbers; FFT rounding differs, so compare closely, not bitwise
    np.testing.assert_allclose(a.chains["A"], b.chains["A"], rtol=1e-8)
    assert np.array_equal(a.accepted, b.accepted)


def test_lattice_momenta_layout_matches_conventions():
    """from_cutoff evaluates Kt at phat^2 in fftn layout (SPEC section 3)."""
    shape = (4, 6)
    th = LatticeTheory.from_cutoff(shape, GAUSSIAN, mass=0.5, Lambda=2.0)
    p2 = lattice_phat2(shape)
    np.testing.assert_allclose(th.kt_p, np.exp(-p2 / 4) / (p2 + 0.25))
    # free <phi_x^2> = G_xx = (1/V) sum Kt
    assert th.g00 == pytest.approx(float(np.mean(th.kt_p)))


# --------------------------------------------------------------------------------------
# readable reprs (a notebook shows value ± error and a status)
def test_mcresult_repr_shows_run_and_values_with_status():
    th = LatticeTheory.from_cutoff((4, 4), GAUSSIAN, mass=1.0, Lambda=1.5, lam=0.05)
    res = run_mc(th, 200, seed=3, progress=False, n_therm=10, n_chains=2)
    text = repr(res)
    head, *rows = text.splitlines()
    assert head.startswith("MCResult(lattice 4x4, lam=0.05, hmc 200 traj (10 therm) x 2 chains")
    assert f"acceptance {res.acceptance:.3f}" in head
    names = [r.split("=")[0].strip() for r in rows if "=" in r.split("[")[0]]
    assert names == ["phi2", "A", "B", "A_sd", "B_sd"]
    for name in names:
        st = res.stats(name)
        row = next(r for r in rows if r.split("=")[0].strip() == name)
        assert repr(st) in row  # value ± error as Stats formats it
        assert ("[ok," in row) == st.reliable and ("unreliable" in row) == (not st.reliable)
    assert len(text.splitlines()) <= 8


def test_mcresult_repr_exact_and_unreliable_status():
    # D_p = 0 on every momentum: A, B are exactly 0 and the repr says so, plus the warning count
    th = LatticeTheory((4,), np.full(4, 0.7), np.zeros(4), 0.5)
    res = run_mc(th, 30, seed=1, progress=False, n_therm=0)
    text = repr(res)
    assert "A    = 0  [exact]" in text and "B    = 0  [exact]" in text
    assert len(res.warnings) == 1 and "1 warning: D_p" in text
    # a chain far too short for its autocorrelation: flagged, and the repr shows the reason
    th = LatticeTheory.from_cutoff((4, 4), GAUSSIAN, mass=1.0, Lambda=1.5, lam=0.05)
    res = run_mc(th, 60, seed=1, progress=False, n_steps=1, traj_length=6.0, adapt=False, n_therm=0)
    text = repr(res)
    flagged = [n for n in res.REPR_OBSERVABLES if not res.stats(n).reliable]
    assert flagged, text  # with 60 samples at least one tau_int check fails
    for n in flagged:
        want = f"= {res.stats(n)!r}  [unreliable: {res.stats(n).reasons[0]}"
        assert any(r.split("=")[0].strip() == n and want in r for r in text.splitlines()), (n, text)
    assert f"{len(res.warnings)} warnings: " in text
