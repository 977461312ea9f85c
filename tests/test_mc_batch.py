"""Batched chains, step adaptation at strong coupling, and checkpoint validation.

Reference values: ``exact_expectations`` (trapezoidal quadrature on V <= 3 sites, itself
checked against mpmath.quad / scipy nquad in test_lattice_mc.py).  Fixed seeds; comparisons
are z-scores with the autocorrelation-aware multi-chain errors.
"""

import json

import numpy as np
import pytest

from ergsym.cutoffs import parse_cutoff
from ergsym.errors import CheckpointError, InputError
from ergsym.lattice.checkpoint import load_checkpoint, save_checkpoint
from ergsym.lattice.quadrature import exact_expectations
from ergsym.lattice.run import estimate_resources, resume_mc, run_mc
from ergsym.lattice.theory import LatticeTheory

BUMP = parse_cutoff("bump:eps=0.5,lambda_max=2")


def z_score(st, exact):
    return (st.mean - exact) / st.error_of_mean


STRONG = [
    # shape, Kt_p, lam
    ((1,), [0.7], 1000.0),
    ((2,), [1.0, 0.3], 1000.0),
    pytest.param((3,), [1.0, 0.4, 0.4], 1000.0, marks=pytest.mark.slow),  # 121^3-point quadrature
    ((1,), [0.7], 1.0e4),
]


@pytest.mark.parametrize("shape,kt,lam", STRONG)
def test_strong_coupling_against_quadrature(shape, kt, lam):
    th = LatticeTheory(shape, kt, 0.5 * np.array(kt), lam)
    ex = exact_expectations(th)
    res = run_mc(th, 1200, seed=1, n_therm=200, progress=False, n_chains=8)
    assert res.adapted and res.sampler_config["n_steps"] > 4  # the step was made smaller
    assert 0.6 < res.acceptance < 0.98
    for name in ("phi2", "eq5.14", "eq5.13", "eq5.12", "eq5.11", "A", "B", "A_sd", "B_sd", "eq5.14_sd"):
        st = res.stats(name)
        assert st.reliable, (name, st.reasons)
        assert abs(z_score(st, ex[name])) < 4, (name, st, ex[name])
    # the coupling matters: the free value of <phi^2> is far away
    assert abs(z_score(res.stats("phi2"), th.g00)) > 50
    assert res.warnings == []


def test_8x8_lam_1000_does_not_freeze():
    """Formerly acceptance 0.000 and a constant chain (issue: 'P1 2241.9 ± 0')."""
    th = LatticeTheory.from_cutoff((8, 8), BUMP, 1.0, 1.0, 1000.0)
    res = run_mc(th, 500, seed=0, n_therm=100, progress=False)
    assert res.acceptance > 0.6
    st = res.stats("P1")
    assert st.reliable and st.error_of_mean > 0 and st.tau_corr < 3
    assert res.sampler_config["n_steps"] > 4 and res.to_dict()["step_size"] > 0
    # with a fixed single step and no adaptation the chain freezes: this is said, not hidden
    frozen = run_mc(th, 200, seed=0, n_steps=1, progress=False)
    assert frozen.acceptance < 0.2
    assert not frozen.stats("P1").reliable
    assert any("acceptance" in w for w in frozen.warnings)
    assert any("zero variance" in w for w in frozen.warnings)


def test_batch_chain0_is_the_single_chain_and_chains_differ():
    th = LatticeTheory.from_cutoff((8, 8), BUMP, 1.0, 1.0, 1.0)
    one = run_mc(th, 60, seed=4, n_steps=4, n_therm=0, progress=False)
    many = run_mc(th, 60, seed=4, n_steps=4, n_therm=0, progress=False, n_chains=5)
    assert many.chains["A"].shape == (60, 5)
    # chain 0 uses default_rng(seed) as the one-chain run; only FFT batching rounding may differ
    np.testing.assert_allclose(many.chains["A"][:, 0], one.chains["A"], rtol=1e-10)
    assert np.array_equal(many.accepted[:, 0], one.accepted)
    # the other chains are independent streams
    assert not np.allclose(many.chains["A"][:, 1], many.chains["A"][:, 2])
    st = many.stats("A")
    assert st.n_chains == 5 and st.rhat is not None and st.n_samples == 60


def test_batched_free_theory_two_point_function():
    th = LatticeTheory.from_cutoff((6, 6), BUMP, 1.0, 1.0, 0.0)
    res = run_mc(th, 400, seed=2, progress=False, record_gp=True, n_chains=6)
    assert res.acceptance == 1.0
    gm, ge, _ = res.gp_stats()
    z = (gm - th.kt_p) / ge
    assert np.max(np.abs(z)) < 4.5 and 0.4 < np.mean(z**2) < 1.8
    assert res.stats("A_sd").exact and res.stats("A_sd").mean == pytest.approx(1.5 * th.f0, rel=1e-12)


def test_batched_resume_is_bitwise_per_chain_including_adaptation(tmp_path):
    th = LatticeTheory.from_cutoff((4, 4), BUMP, 1.0, 1.5, 200.0)
    kw = dict(seed=7, n_therm=40, measure_every=2, record_gp=True, progress=False, n_chains=3)
    full = run_mc(th, 120, **kw)
    assert full.adapted
    ck = tmp_path / "b.npz"

    def boom(i, state, info):
        if i == 25:  # during thermalization: the adapter's state must be in the checkpoint
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_mc(th, 120, checkpoint=ck, checkpoint_every=10, callback=boom, **kw)
    meta, _ = load_checkpoint(ck)
    assert meta["n_done"] == 26 and meta["adapt"]["frozen"] is False and meta["n_chains"] == 3
    resumed = resume_mc(ck, progress=False)
    for name, chain in full.chains.items():
        assert np.array_equal(chain, resumed.chains[name]), name
    assert np.array_equal(full.gp_chain, resumed.gp_chain)
    assert np.array_equal(full.accepted, resumed.accepted)
    assert np.array_equal(full.state.phi, resumed.state.phi)
    assert resumed.sampler_config == full.sampler_config  # the frozen step is recorded
    meta, _ = load_checkpoint(ck)
    assert meta["sampler"]["n_steps"] == full.sampler_config["n_steps"]


def _rewrite(src, dst, *, meta_fn=None, arrays_fn=None, reseal=True):
    """Edit a checkpoint.  ``reseal``: write valid checksums for the edited content (an edit
    the checksums cannot see, so the consistency checks themselves are what is tested);
    otherwise keep the old checksums (an edit after writing, as a user or a disk would do)."""
    with np.load(src, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        arrays = {k: z[k] for k in z.files if k != "meta"}
    if meta_fn:
        meta_fn(meta)
    if arrays_fn:
        arrays_fn(arrays)
    if reseal:
        meta.pop("checksums", None)
        save_checkpoint(dst, meta, arrays)
    else:
        np.savez(dst, meta=np.array(json.dumps(meta)), **arrays)


@pytest.fixture(scope="module")
def good_checkpoint(tmp_path_factory):
    d = tmp_path_factory.mktemp("ck")
    th = LatticeTheory.from_cutoff((4, 4), BUMP, 1.0, 1.5, 1.0)
    ck = d / "good.npz"
    ref = run_mc(th, 80, seed=3, n_therm=10, progress=False, checkpoint=ck)
    return ck, ref


@pytest.mark.parametrize(
    "case,needle",
    [
        ("missing_array", "lacks the array 'chain_A'"),
        ("wrong_shape", "phi of shape"),
        ("n_done", "n_done"),
        ("dtype", "dtype"),
        ("rng", "RNG state"),
        ("version", "format version"),
        ("meta_field", "lacks the field 'run'"),
        ("n_accepted", "n_accepted"),
    ],
)
def test_inconsistent_checkpoints_are_refused_and_left_alone(good_checkpoint, tmp_path, case, needle):
    src, _ = good_checkpoint
    bad = tmp_path / f"{case}.npz"
    edits = {
        "missing_array": dict(arrays_fn=lambda a: a.pop("chain_A")),
        "wrong_shape": dict(arrays_fn=lambda a: a.__setitem__("phi", np.zeros((4, 5)))),
        "n_done": dict(meta_fn=lambda m: m.__setitem__("n_done", m["n_done"] - 3)),
        "dtype": dict(arrays_fn=lambda a: a.__setitem__("dH", a["dH"].astype(np.float32))),
        "rng": dict(meta_fn=lambda m: m["rng_states"][0].__setitem__("bit_generator", "Nonsense")),
        "version": dict(meta_fn=lambda m: m.__setitem__("version", 999)),
        "meta_field": dict(meta_fn=lambda m: m.pop("run")),
        "n_accepted": dict(meta_fn=lambda m: m.__setitem__("n_accepted", m["n_accepted"] + 1)),
    }[case]
    _rewrite(src, bad, **edits)
    before = bad.read_bytes()
    with pytest.raises(CheckpointError, match=needle) as exc:
        resume_mc(bad, progress=False)
    assert isinstance(exc.value, InputError)  # the CLI exits 2
    assert bad.read_bytes() == before  # a failing resume never touches the file


def _times2(name):
    return lambda a: a.__setitem__(name, a[name] * 2.0)


@pytest.mark.parametrize(
    "edit,needle",
    [
        (dict(arrays_fn=_times2("kt_p")), "array 'kt_p' does not match its checksum"),
        (dict(arrays_fn=_times2("chain_phi2")), "array 'chain_phi2' does not match its checksum"),
        (dict(arrays_fn=_times2("phi")), "array 'phi' does not match its checksum"),
        (dict(arrays_fn=lambda a: a.pop("dH")), "array 'dH' is missing"),
        (dict(meta_fn=lambda m: m["theory"].__setitem__("lam", 2.0)), "parameters"),
        (dict(meta_fn=lambda m: m["checksums"].__setitem__("algorithm", "md5")), "lacks valid checksums"),
        (dict(meta_fn=lambda m: m.pop("checksums")), "lacks valid checksums"),
    ],
)
def test_checkpoint_altered_after_writing_is_refused(good_checkpoint, tmp_path, edit, needle):
    # issue 19: kt_p x 2 resumed silently and reported a wrong B as reliable
    src, _ = good_checkpoint
    bad = tmp_path / "altered.npz"
    _rewrite(src, bad, reseal=False, **edit)
    with pytest.raises(CheckpointError, match=needle) as exc:
        resume_mc(bad, progress=False)
    assert str(bad) in str(exc.value) and "start a new run" in str(exc.value)


@pytest.mark.parametrize("name", ["kt_p", "d_p"])
@pytest.mark.parametrize("version", [3, 2])
def test_propagators_are_checked_against_the_checkpoints_own_cutoff(good_checkpoint, tmp_path, name, version):
    # resealed (valid checksums) or an old version-2 file (none): the propagators are
    # recomputed from the stored cutoff, mass and Lambda and must match
    src, _ = good_checkpoint
    bad = tmp_path / "rescaled.npz"

    def meta_fn(m):
        m["version"] = version
        if version == 2:
            m.pop("checksums")

    def arrays_fn(a):  # x 2 (kt_p, as in the issue), + 0.125 (this lattice has D_p = 0)
        a[name] = a[name] * 2.0 + 0.125

    _rewrite(src, bad, meta_fn=meta_fn, arrays_fn=arrays_fn, reseal=version == 3)
    with pytest.raises(CheckpointError, match=f"{name} that does not belong to its own cutoff"):
        resume_mc(bad, progress=False)


def test_version2_checkpoint_without_checksums_resumes_bitwise(good_checkpoint, tmp_path):
    src, ref = good_checkpoint
    old = tmp_path / "v2.npz"

    def meta_fn(m):
        m["version"] = 2
        m.pop("checksums")

    _rewrite(src, old, meta_fn=meta_fn, reseal=False)
    res = resume_mc(old, n_traj=100, progress=False)
    longer = run_mc(ref.theory, 100, seed=3, n_therm=10, progress=False)
    assert np.array_equal(res.chains["phi2"], longer.chains["phi2"])
    assert load_checkpoint(old)[0]["checksums"]["algorithm"] == "sha256"  # rewritten as version 3


def test_non_checkpoint_files(tmp_path):
    pick = tmp_path / "obj.npy"
    np.save(pick, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(CheckpointError, match="not a readable ergsym checkpoint") as exc:
        resume_mc(pick)
    assert "pickle" not in str(exc.value).lower()
    other = tmp_path / "other.npz"
    np.savez(other, x=np.arange(3))
    with pytest.raises(CheckpointError, match="not a readable ergsym checkpoint"):
        resume_mc(other)


def test_version1_checkpoint_with_old_piece_names_is_read(good_checkpoint, tmp_path):
    """A checkpoint in the version-1 layout (P1..P4, propagators in the JSON, one rng_state)."""
    src, ref = good_checkpoint
    old = tmp_path / "v1.npz"
    renames = {"eq5.14": "P1", "eq5.13": "P2", "eq5.12": "P3", "eq5.11": "P4"}

    def meta_fn(m):
        m["version"] = 1
        m["rng_state"] = m.pop("rng_states")[0]
        m.pop("n_chains")
        m.pop("adapt")

    def arrays_fn(a):
        for k in list(a):
            base = k[6:].replace("_sd", "")
            if k.startswith("chain_") and base in renames:
                a[k.replace(base, renames[base])] = a.pop(k)

    _rewrite(src, old, meta_fn=meta_fn, arrays_fn=arrays_fn)
    with np.load(src) as z:
        kt, d = z["kt_p"].tolist(), z["d_p"].tolist()

    def move_theory(m):
        m["theory"]["kt_p"], m["theory"]["d_p"] = kt, d

    _rewrite(old, old, meta_fn=move_theory, arrays_fn=lambda a: (a.pop("kt_p"), a.pop("d_p")))
    res = resume_mc(old, n_traj=100, progress=False)
    longer = run_mc(ref.theory, 100, seed=3, n_therm=10, progress=False)
    assert np.array_equal(res.chains["eq5.14"], longer.chains["P1"])


def test_resource_estimate_and_guard():
    est = estimate_resources((10000, 10000), 2000)
    assert est["bytes"] > 8 * 1024**3  # the observation: > 8 GB
    th = LatticeTheory.from_cutoff((8, 8), BUMP, 1.0, 1.0, 0.1)
    with pytest.raises(InputError, match="force"):
        run_mc(th, 10**7, seed=0, n_chains=4000, progress=False)
