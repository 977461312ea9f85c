"""Stuck Monte Carlo chains at strong coupling (docs/lattice.md, "Stuck chains").

In a batch of chains (one shared, adapted HMC step) a chain whose free-field start lies far in the
tail of the interacting distribution used to stay frozen: every trajectory diverged.  Now such a
chain restarts from ``phi = 0`` during thermalization (``ergsym.lattice.run.STUCK_RESET``), and a
chain that stalls in production is flagged (:meth:`MCResult.stalled_chains`).  The case here: the
O(3) model at lam = 100 on three sites, 256 chains, seed 303, where chain 83 never moved and chain
157 moved only in its last 34 of 900 measurements (found by the error calibration over chains,
tests/test_calibration.py, where it made scatter/error 21).  The calibration itself is tested in
tests/test_calibration.py (slow).
"""

import numpy as np
import pytest

import ergsym.lattice.run as mcrun
from ergsym.lattice.run import resume_mc, run_mc
from ergsym.lattice.stats import statistics
from ergsym.lattice.theory import LatticeTheory

TH3 = LatticeTheory((3,), [1.0, 0.4, 0.4], [0.5, 0.2, 0.2], 100.0, N=3)
KW = dict(seed=303, n_therm=100, progress=False, n_chains=256)


def test_stuck_chains_restart_and_would_be_flagged(monkeypatch):
    # 300 trajectories with the thermalization of the 1000-trajectory run: the same stuck chains
    res = run_mc(TH3, 300, **KW)
    assert res.stalled_chains() == {}
    phi2 = np.asarray(res.chains["phi2"])
    # the restarted chains sample the distribution (exact phi2 = 0.319, three-site O(3) quadrature)
    assert statistics(phi2[:, 83]).reliable and statistics(phi2[:, 157]).reliable
    assert 0.25 < np.min(phi2.mean(axis=0)) and np.max(phi2.mean(axis=0)) < 0.4
    assert res.stats("phi2").reliable

    # without the restart: chains 83 and 157 never move in production, and are flagged
    monkeypatch.setattr(mcrun, "STUCK_RESET", 10**9)
    old = run_mc(TH3, 300, **KW)
    assert old.stalled_chains() == {83: 200, 157: 200}
    # frozen at phi2 = 4.3 and 4.6
    assert np.max(np.asarray(old.chains["phi2"]).mean(axis=0)) > 3.0
    reasons = " ".join(old.stats("phi2").reasons)
    assert "chain 83 stalled: 200 consecutive trajectories" in reasons and "2 chains in all" in reasons
    assert any("stalled" in w for w in old.warnings)


def test_moving_chains_are_bitwise_unchanged(monkeypatch):
    """A run in which no chain stalls is the run without the restart, bit for bit (N = 1 and 3,
    one chain and a batch)."""
    cases = [
        (LatticeTheory((3,), [1.0, 0.4, 0.4], [0.5, 0.3, 0.3], 10.0), dict(seed=5)),
        (LatticeTheory((2,), [1.0, 0.5], [0.5, 0.3], 0.1), dict(seed=6, n_chains=8)),
        (LatticeTheory((3,), [1.0, 0.4, 0.4], [0.5, 0.2, 0.2], 10.0, N=3), dict(seed=7, n_chains=8)),
    ]
    new = [run_mc(th, 300, progress=False, **kw) for th, kw in cases]
    monkeypatch.setattr(mcrun, "STUCK_RESET", 10**9)
    for (th, kw), a in zip(cases, new, strict=True):
        b = run_mc(th, 300, progress=False, **kw)
        for name in ("phi2", "A", "B_sd"):
            assert np.array_equal(a.chains[name], b.chains[name]), (th.N, name)
        assert np.array_equal(a.accepted, b.accepted)
        assert a.stalled_chains() == {}


def test_restart_survives_interrupt_and_resume(tmp_path):
    """Interrupted before the restart (trajectory 9), resumed: bitwise the uninterrupted run (the
    restart is a function of the checkpointed acceptance history)."""
    full = run_mc(TH3, 150, **KW)
    ck = tmp_path / "run.npz"

    def boom(i, state, info):
        if i == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_mc(TH3, 150, checkpoint=ck, callback=boom, **KW)
    resumed = resume_mc(ck, progress=False)
    assert np.array_equal(full.accepted, resumed.accepted)
    for name in ("phi2", "B"):
        assert np.array_equal(full.chains[name], resumed.chains[name]), name
    assert np.array_equal(full.state.phi, resumed.state.phi)


def test_metropolis_has_no_stall_check():
    th = LatticeTheory((2,), [1.0, 0.5], [0.5, 0.3], 1.0)
    res = run_mc(th, 200, seed=1, sampler="metropolis", progress=False)
    assert res.stalled_chains() == {}
