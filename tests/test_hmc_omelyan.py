"""The Omelyan (minimum-norm) split integrator and step counts below four.

* the fused Omelyan trajectory reproduces the unfused reference (``HMCSampler._trajectory``)
  to rounding with the same random numbers, single chains and batches, with rejections;
* its energy error is second order in dt and smaller than the split integrator's at the same
  number of force evaluations;
* it samples the right distribution: a tiny lattice against the exact quadrature;
* the thermalization's adaptation goes below four steps where the acceptance allows it (weak
  coupling) and not where it does not (strong coupling).
"""

import copy
from dataclasses import replace

import numpy as np
import pytest

from ergsym.cutoffs import ExponentialCutoff, parse_cutoff
from ergsym.errors import InputError
from ergsym.lattice.hmc import HMCSampler, min_n_steps
from ergsym.lattice.quadrature import exact_expectations
from ergsym.lattice.run import chain_generators, run_mc
from ergsym.lattice.theory import LatticeTheory

GAUSSIAN = ExponentialCutoff(1)


def _theory(shape, lam):
    return LatticeTheory.from_cutoff(shape, GAUSSIAN, mass=1.0, Lambda=1.5, lam=lam)


@pytest.mark.parametrize(
    "shape,lam,n_chains,n_steps",
    [((8, 8), 1.0, 1, 2), ((6, 5), 4.0, 3, 1), ((5,), 30.0, 1, 2), ((4, 6), 0.0, 2, 2), ((8, 8), 60.0, 4, 1)],
)
def test_fused_omelyan_reproduces_reference(shape, lam, n_chains, n_steps):
    th = _theory(shape, lam)
    smp = HMCSampler(th, n_steps=n_steps, integrator="omelyan")
    rngs = chain_generators(n_chains, 12)
    st = smp.init_state(rngs if n_chains > 1 else rngs[0])
    seen = set()
    for _ in range(15):
        ref_state = replace(st, rng=copy.deepcopy(st.rng), cache=None)
        new, info = smp._step_fused(st)
        ref, rinfo = smp._step_reference(ref_state)
        np.testing.assert_array_equal(info.accepted, rinfo.accepted)
        scale = float(np.max(np.abs(ref.phi)))
        np.testing.assert_allclose(new.phi, ref.phi, rtol=0, atol=1e-12 * scale)
        np.testing.assert_allclose(info.dH, rinfo.dH, rtol=1e-9, atol=1e-11 * th.volume)
        seen.update(np.atleast_1d(info.accepted).tolist())
        st = new
    if lam == 60.0:
        assert seen == {True, False}


def test_omelyan_error_second_order_and_below_split_at_equal_force_evaluations():
    th = _theory((8, 8), 4.0)
    rng = np.random.default_rng(3)
    phi0 = HMCSampler(th).init_state(rng).phi
    etas = [rng.standard_normal(th.shape) for _ in range(4)]
    tau = 1.3

    def mean_dh(integrator, n):
        smp = HMCSampler(th, n_steps=n, integrator=integrator)
        c0 = smp.ops.spectra(phi0)
        return np.mean([abs(float(smp._fused_trajectory(c0, e, tau)[1])) for e in etas])

    om = [mean_dh("omelyan", n) for n in (2, 4, 8)]
    for a, b in zip(om, om[1:], strict=False):
        assert 3.2 < a / b < 4.8, om  # halving dt divides dH by 4
    # Omelyan with n steps evaluates the force 2n times, as the split integrator with 2n steps
    for n in (2, 4):
        assert mean_dh("omelyan", n) < 0.3 * mean_dh("split", 2 * n)


def test_omelyan_samples_the_exact_distribution():
    # Reference: exact_expectations, a tensor-product Gauss-Hermite quadrature (ergsym.lattice.quadrature)
    th = LatticeTheory((2,), [1.0, 0.3], [0.5, 0.15], 5.0)
    ex = exact_expectations(th)
    res = run_mc(th, 4000, seed=5, n_therm=100, progress=False, integrator="omelyan")
    assert res.sampler_config["integrator"] == "omelyan" and res.acceptance > 0.7
    for name in ("phi2", "P1", "P2", "A", "B"):
        st = res.stats(name)
        assert abs(st.mean - ex[name]) < 4 * st.error_of_mean, (name, st, ex[name])
    assert abs(res.stats("phi2").mean - th.g00) > 10 * res.stats("phi2").error_of_mean


def test_adaptation_goes_below_four_steps_only_where_acceptance_allows():
    bump = parse_cutoff("bump:eps=0.5,lambda_max=2")
    assert min_n_steps(256, "split") == min_n_steps(256, "omelyan") == 1
    weak = LatticeTheory.from_cutoff((16, 16), bump, 1.0, 1.0, 0.1)
    res = run_mc(weak, 120, seed=2, n_therm=80, progress=False)
    assert res.adapted and res.sampler_config["n_steps"] <= 2
    assert np.mean(res.accepted[80:]) > 0.8
    strong = LatticeTheory.from_cutoff((16, 16), bump, 1.0, 1.0, 10.0)
    res = run_mc(strong, 120, seed=2, n_therm=80, progress=False)
    assert res.sampler_config["n_steps"] >= 3 and np.mean(res.accepted[80:]) > 0.6


def test_unknown_integrator_is_refused():
    with pytest.raises(InputError, match="integrator"):
        HMCSampler(_theory((4,), 1.0), integrator="verlet")


def test_omelyan_batched_resume_is_bitwise(tmp_path):
    from ergsym.lattice.run import resume_mc

    bump = parse_cutoff("bump:eps=0.5,lambda_max=2")
    th = LatticeTheory.from_cutoff((8, 8), bump, 1.0, 1.0, 10.0)
    kw = dict(seed=3, n_therm=40, progress=False, integrator="omelyan", n_chains=3)
    full = run_mc(th, 120, **kw)
    run_mc(th, 70, checkpoint=tmp_path / "c.npz", **kw)
    res = resume_mc(tmp_path / "c.npz", n_traj=120, progress=False)
    assert res.sampler_config["integrator"] == "omelyan" and res.adapted
    np.testing.assert_array_equal(res.chains["phi2"], full.chains["phi2"])
    np.testing.assert_array_equal(res.state.phi, full.state.phi)
