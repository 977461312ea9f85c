"""The fused split integrator and the FFT-free measurement against their unfused references.

``HMCSampler._step_reference`` / ``_trajectory`` is the integrator as it was before the fusion
(term by term: ``phi_p -> c phi_p + s Kt pi_p``, ``pi_p -> c pi_p - s phi_p/Kt`` between half
kicks), and ``observables.measure_reference`` the estimators as defined in docs/lattice.md;
the fused versions must reproduce them to rounding on fixed seeds, conserve energy like
``dt^2``, and keep the cached transforms a deterministic function of the field (what the
bitwise resume relies on).  The Monte Carlo physics checks themselves are in
test_lattice_mc.py and test_mc_batch.py.
"""

import copy
import math
from dataclasses import replace

import numpy as np
import pytest
import scipy.fft

from ergsym.cutoffs import ExponentialCutoff, parse_cutoff
from ergsym.lattice.hmc import HMCSampler
from ergsym.lattice.observables import SCALAR_OBSERVABLES, measure, measure_reference
from ergsym.lattice.run import chain_generators
from ergsym.lattice.theory import LatticeOps, LatticeTheory

GAUSSIAN = ExponentialCutoff(1)
BUMP = parse_cutoff("bump:eps=0.5,lambda_max=2")

CASES = [
    # shape, cutoff, Lambda, lam, n_chains, n_steps
    ((8, 8), GAUSSIAN, 1.5, 1.0, 1, 4),
    ((8, 8), BUMP, 1.0, 1.0, 5, 4),
    ((6, 5), GAUSSIAN, 1.5, 4.0, 3, 3),
    ((5,), GAUSSIAN, 1.5, 30.0, 1, 2),
    ((4, 4, 4), GAUSSIAN, 1.5, 2.0, 2, 3),
    ((4, 6), GAUSSIAN, 1.5, 0.0, 4, 2),  # free: no kicks
    ((8, 8), GAUSSIAN, 1.5, 60.0, 6, 1),  # one coarse step: many rejections, mixed batches
]


def _theory(shape, cutoff, Lambda, lam):
    return LatticeTheory.from_cutoff(shape, cutoff, mass=1.0, Lambda=Lambda, lam=lam)


@pytest.mark.parametrize("shape,cutoff,Lambda,lam,n_chains,n_steps", CASES)
def test_fused_step_reproduces_reference_step(shape, cutoff, Lambda, lam, n_chains, n_steps):
    th = _theory(shape, cutoff, Lambda, lam)
    smp = HMCSampler(th, n_steps=n_steps)
    rngs = chain_generators(n_chains, 12)
    st = smp.init_state(rngs if n_chains > 1 else rngs[0])
    seen = set()
    for _ in range(25):
        ref_state = replace(st, rng=copy.deepcopy(st.rng), cache=None)
        new, info = smp._step_fused(st)
        ref, rinfo = smp._step_reference(ref_state)
        # the same random numbers per chain: the same trajectory lengths and decisions
        np.testing.assert_array_equal(info.length, rinfo.length)
        np.testing.assert_array_equal(info.accepted, rinfo.accepted)
        np.testing.assert_array_equal(new.n_accepted, ref.n_accepted)
        scale = float(np.max(np.abs(ref.phi)))
        np.testing.assert_allclose(new.phi, ref.phi, rtol=0, atol=1e-12 * scale)
        # dH: rounding of a sum of O(V) terms of size O(1)
        np.testing.assert_allclose(info.dH, rinfo.dH, rtol=1e-9, atol=1e-11 * th.volume)
        assert [r.bit_generator.state for r in np.atleast_1d(new.rng)] == [
            r.bit_generator.state for r in np.atleast_1d(ref.rng)
        ]
        seen.update(np.atleast_1d(info.accepted).tolist())
        st = new
    if lam == 60.0:
        assert seen == {True, False}  # the case exercises rejections (and mixed batches)


def test_fused_integrator_energy_error_scales_like_dt_squared():
    th = _theory((8, 8), GAUSSIAN, 1.5, 4.0)
    rng = np.random.default_rng(3)
    phi0 = HMCSampler(th).init_state(rng).phi
    eta = rng.standard_normal(th.shape)
    tau = 1.3
    dhs = []
    for n in (4, 8, 16, 32):
        smp = HMCSampler(th, n_steps=n)
        c0 = smp.ops.spectra(phi0)
        _, dh = smp._fused_trajectory(c0, eta, tau)
        _, dh_ref = smp._trajectory(phi0, eta, tau)
        assert float(dh) == pytest.approx(dh_ref, rel=1e-8, abs=1e-10)
        dhs.append(abs(float(dh)))
    ratios = [a / b for a, b in zip(dhs, dhs[1:])]
    assert dhs[0] > 1e-4  # a nontrivial violation to start with
    for r in ratios:
        assert 3.2 < r < 4.8, (dhs, ratios)  # second order: halving dt divides dH by 4


def test_fused_batch_matches_single_chains():
    """A batch with per-chain trajectory lengths is the chains run one by one (to rounding)."""
    th = _theory((6, 6), GAUSSIAN, 1.5, 3.0)
    smp = HMCSampler(th, n_steps=2)
    st = smp.init_state(chain_generators(4, 9))
    singles = [smp.init_state(r) for r in chain_generators(4, 9)]
    for _ in range(10):
        st, info = smp.step(st)
        out = [smp.step(s) for s in singles]
        singles = [o[0] for o in out]
        np.testing.assert_array_equal(info.accepted, [o[1].accepted for o in out])
        np.testing.assert_allclose(st.phi, np.stack([s.phi for s in singles]), rtol=0, atol=1e-11)


def test_free_theory_fused_trajectory_is_exact():
    """At lam = 0 the split integrator is the exact free flow: dH is rounding only and the
    field after a quarter period is Kt_p pi_p (docs/lattice.md)."""
    th = _theory((6, 6), GAUSSIAN, 1.5, 0.0)
    smp = HMCSampler(th, n_steps=3)
    rng = np.random.default_rng(5)
    phi0 = smp.init_state(rng).phi
    eta = rng.standard_normal(th.shape)
    c1, dh = smp._fused_trajectory(smp.ops.spectra(phi0), eta, math.pi / 2)
    assert abs(float(dh)) < 1e-10
    ops = smp.ops
    expected = ops.ifft(ops.kt * ops.fft(eta) / ops.sqrt_kt)
    np.testing.assert_allclose(c1.phi, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "shape,lam,batch",
    [
        ((8, 8), 1.0, (7,)),
        ((6, 5), 4.0, ()),
        ((3,), 30.0, (2, 3)),
        ((1,), 0.0, (4,)),
        ((4, 4, 4), 2.0, (3,)),
        ((5, 4), 0.0, ()),
    ],
)
def test_measure_equals_reference_estimators(shape, lam, batch):
    # one site (zero dimensions): D_p = 0 at p = 0 for any cutoff, so give Kt, D directly
    th = LatticeTheory(shape, [0.7], [0.3], lam) if shape == (1,) else _theory(shape, GAUSSIAN, 1.5, lam)
    assert np.any(th.d_p != 0)
    ops = LatticeOps(th)
    phi = np.random.default_rng(0).standard_normal(batch + shape)
    a, b = measure(ops, phi), measure_reference(ops, phi)
    for name in SCALAR_OBSERVABLES:
        assert np.shape(a[name]) == batch, name
        scale = max(1.0, float(np.max(np.abs(b[name]))))
        np.testing.assert_allclose(a[name], b[name], rtol=0, atol=1e-12 * scale, err_msg=name)
    # eq5.13_sd is exactly -2 f0, with no rounding (the Schwinger-Dyson identity), and at
    # lam = 0 every improved estimator is a constant (zero variance: "exact" in the statistics)
    assert np.all(a["eq5.13_sd"] == -2 * th.f0)
    if lam == 0:
        for name in SCALAR_OBSERVABLES:
            if name.endswith("_sd"):
                assert np.all(np.asarray(a[name]) == np.ravel(a[name])[0]), name


def test_cache_is_a_deterministic_function_of_the_field():
    """The spectra a trajectory leaves behind equal those recomputed from the field, bitwise
    (a resumed chain recomputes them); a state with another field never uses a stale cache."""
    th = _theory((6, 6), GAUSSIAN, 1.5, 60.0)
    smp = HMCSampler(th, n_steps=1)
    st = smp.init_state(chain_generators(3, 4))
    for _ in range(12):
        st, _ = smp.step(st)
        c = st.cache
        assert c is not None and c.phi is st.phi
        fresh = smp.ops.spectra(np.array(st.phi))  # a copy: another buffer, same numbers
        for name in ("phi_p", "f3_p", "s_int", "sum_phi2"):
            assert np.array_equal(getattr(c, name), getattr(fresh, name)), name
    other = np.zeros_like(st.phi)
    moved = replace(st, phi=other)
    sp = moved.spectra(smp.ops)
    assert sp.phi is other and not np.any(sp.phi_p) and not np.any(sp.sum_phi2)


def test_direct_transforms_equal_scipy_fft():
    th = _theory((6, 8), GAUSSIAN, 1.5, 1.0)
    ops = LatticeOps(th)
    x = np.random.default_rng(1).standard_normal((3, 6, 8))
    f = ops.fft(x)
    assert np.array_equal(f, scipy.fft.rfftn(x, axes=(-2, -1)))
    assert np.array_equal(ops.ifft(f), scipy.fft.irfftn(f, s=(6, 8), axes=(-2, -1)))
    out = np.empty_like(f)
    assert ops.fft(x, out=out) is out and np.array_equal(out, f)
    xo = np.empty_like(x)
    assert ops.ifft(f, out=xo) is xo and np.allclose(xo, x, rtol=0, atol=1e-14)
    # the public-API fallback (another scipy) gives the same transform
    ops._direct = None
    assert np.allclose(ops.fft(x, out=np.empty_like(f)), f, rtol=0, atol=1e-12)
    assert np.allclose(ops.ifft(f), x, rtol=0, atol=1e-14)


@pytest.mark.parametrize("n_chains,lam", [(1, 1.0), (3, 200.0)])
def test_whole_run_equals_the_unfused_path(monkeypatch, n_chains, lam):
    """run_mc (thermalization with step adaptation, measurement after every trajectory) with
    the fused kernels equals the same run through the unfused integrator and estimators."""
    from ergsym.lattice import run as run_module

    th = _theory((8, 8), BUMP, 1.0, lam)
    kw = dict(seed=3, n_therm=40, n_chains=n_chains, progress=False)
    fused = run_module.run_mc(th, 240, **kw)
    monkeypatch.setattr(HMCSampler, "step", HMCSampler._step_reference)
    monkeypatch.setattr(
        run_module,
        "measure_host",
        lambda ops, sp: np.stack([np.asarray(measure_reference(ops, sp.phi)[n]) for n in SCALAR_OBSERVABLES]),
    )
    ref = run_module.run_mc(th, 240, **kw)
    assert fused.sampler_config == ref.sampler_config  # the same adapted step
    assert np.array_equal(fused.accepted, ref.accepted)
    for name in SCALAR_OBSERVABLES:
        np.testing.assert_allclose(fused.chains[name], ref.chains[name], rtol=1e-11, atol=1e-11, err_msg=name)
