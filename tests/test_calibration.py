"""Calibration of ergsym's error bars: over many independent seeds, the scatter of the estimates
matches the reported errors and the z-scores against exact values are N(0, 1).

Criteria (one function, :func:`calibration`, used for every estimator):

* ``scatter / error`` = sample standard deviation of the estimates over the root-mean-square
  reported error lies in [0.8, 1.25];
* the z-scores ``(estimate - exact) / error`` have a Kolmogorov-Smirnov p-value against
  N(0, 1) above ``P_MIN = 1e-3`` (their root mean square is reported: for heavy-tailed
  observables it exceeds 1 in short runs although the error is right on average, see the
  Monte Carlo test).

With ``N`` seeds the ratio has a relative spread of about ``1/sqrt(2N)``; the seed counts below
(>= 96) put the [0.8, 1.25] window at >= 3 such spreads from 1, and every test also shows that
the same data with every error bar scaled by 1.5 (or 1/1.5) FAIL the criteria: the test can see
an error bar that is off by 1.5x.  Seeds are fixed, so the outcome is reproducible.
"""

import math

import numpy as np
import pytest
from scipy.stats import kstest

from ergsym.lattice.quadrature import exact_expectations
from ergsym.lattice.run import run_mc
from ergsym.lattice.stats import statistics
from ergsym.lattice.theory import LatticeTheory

RATIO_RANGE = (0.8, 1.25)
P_MIN = 1e-3


def calibration(means, errors, exact):
    """``(ok, report)``: the criteria of the module docstring for estimates ``means`` with
    reported ``errors`` of a quantity whose exact value is ``exact`` (scalar or per estimate)."""
    m, e = np.asarray(means, float), np.asarray(errors, float)
    z = (m - np.asarray(exact, float)) / e
    ratio = float(np.std(m, ddof=1) / math.sqrt(np.mean(e**2)))
    rms = float(math.sqrt(np.mean(z**2)))
    p = float(kstest(z, "norm").pvalue)
    lo, hi = RATIO_RANGE
    ok = lo <= ratio <= hi and p > P_MIN
    return ok, f"n={m.size} scatter/error={ratio:.3f} rms z={rms:.3f} mean z={z.mean():+.3f} KS p={p:.2g}"


def check_calibrated(means, errors, exact, what):
    ok, rep = calibration(means, errors, exact)
    assert ok, f"{what}: {rep}"
    # the test has power: an error bar off by 1.5x either way fails it
    for f in (1.5, 1 / 1.5):
        bad, rep_bad = calibration(means, np.asarray(errors) * f, exact)
        assert not bad, f"{what}: errors x {f:.3g} still pass ({rep_bad}): the test cannot see them"
    return rep


# 1-3 site lattices (Kt_p, D_p in fftn layout, even in p) with exact expectations by quadrature
KT = {1: [1.0], 2: [1.0, 0.5], 3: [1.0, 0.4, 0.4]}
DP = {1: [0.5], 2: [0.5, 0.3], 3: [0.5, 0.3, 0.3]}
N_CHAINS = 128


@pytest.mark.slow
@pytest.mark.parametrize("V", [1, 2, 3])
def test_monte_carlo_error_bars_are_calibrated(V):
    """HMC on 1-3 sites at lam = 0.1, 10, 1000: 128 independent chains (one batched run; each
    column is an independent stream, analysed alone as a one-chain run would be) against the
    exact expectations by direct integration (ergsym.lattice.quadrature)."""
    # lam = 10: B_sd has skewness ~6 and kurtosis ~80 on one site, so a chain's mean and error
    # are correlated (0.8) and the z-scores of short runs have heavier tails than N(0, 1) although
    # the error is right on average (2000 trajectories: scatter/error 1.01, rms z 1.28; 4000:
    # rms z 1.26; 8000: 1.07); the KS test passes at 4000.
    # lam = 1000 (the same effect, milder): one site, 128 chains of 2000 trajectories gave
    # scatter/error 1.22 at this seed and 0.89-1.07 at seeds 102-107 (pooled over those: 1.01);
    # 4000 trajectories: 1.17, 0.97, 1.02 on 1, 2, 3 sites
    for lam, n_traj in ((0.1, 2000), (10.0, 4000), (1000.0, 4000)):
        th = LatticeTheory((V,), np.array(KT[V]), np.array(DP[V]), lam)
        ex = exact_expectations(th)
        res = run_mc(th, n_traj, seed=100 + V, progress=False, n_chains=N_CHAINS)
        for obs in ("phi2", "B_sd"):
            chains = np.asarray(res.chains[obs])
            sts = [statistics(chains[:, j]) for j in range(N_CHAINS)]
            good = [s for s in sts if s.reliable]
            # chains flagged unreliable are reported, not used; at lam = 1000 a free-field start in
            # the tail froze 4-9 of the 128 chains before stuck thermalization chains were restarted
            # from phi = 0 (ergsym.lattice.run.STUCK_RESET): now at most one per case is flagged
            assert len(good) >= 0.98 * N_CHAINS, (V, lam, obs, len(good))
            check_calibrated(
                [s.mean for s in good], [s.error_of_mean for s in good], ex[obs], f"MC V={V} lam={lam:g} {obs}"
            )


@pytest.mark.slow
def test_channel_sampler_error_bars_are_calibrated():
    """The exact Gaussian channel (ergsym.lattice.channel) applied to Monte Carlo samples of
    P_Lambda0 on 2 sites at lam = 10 (128 independent chains, fresh channel noise per chain):
    G_p at Lambda from each chain's mapped configurations (autocorrelation-aware error of the
    mapped chain) against the exact G_Lambda = alpha^2 G_Lambda0 + Kt_Lambda (1 - alpha), with
    G_Lambda0 by direct integration."""
    from ergsym.cutoffs import parse_cutoff
    from ergsym.lattice.channel import GaussianChannel

    cut = parse_cutoff("bump:eps=0.5,lambda_max=3")
    th = LatticeTheory.from_cutoff((2,), cut, 1.0, 2.0, 10.0)
    ch = GaussianChannel.from_cutoff((2,), cut, 1.0, 2.0, 1.9)
    assert ch.alpha_p[1] < 1 and ch.alpha_p[0] == 1  # the p = pi mode flows, p = 0 is frozen
    exact = ch.two_point(exact_expectations(th)["Gp"])
    n_traj, n_therm = 2000, 100
    configs = []
    run_mc(
        th,
        n_traj,
        seed=7,
        n_therm=n_therm,
        progress=False,
        n_chains=N_CHAINS,
        callback=lambda i, st, info: configs.append(np.array(st.phi)) if i >= n_therm else None,
    )
    phi0 = np.stack(configs, axis=1)  # (chains, samples, V)
    rng = np.random.default_rng(8)
    for p in (0, 1):
        means, errs = [], []
        for j in range(N_CHAINS):
            phi = ch.apply(phi0[j], rng)
            gp = np.abs(np.fft.fft(phi, axis=1)[:, p]) ** 2 / 2
            st = statistics(gp)
            assert st.reliable
            means.append(st.mean)
            errs.append(st.error_of_mean)
        check_calibrated(means, errs, exact[p], f"channel G_p p={p}")


@pytest.mark.slow
def test_variational_error_bars_are_calibrated():
    """The variational RG (coupled family) on 2 sites at lam = 10, 32 seeds (each its own HMC
    sample set of P_Lambda0 and its own channel noise): the interacting part of M - M0 against
    the exact flow of the two modes (ergsym.flow.modes), and the paired differences variational
    - exact channel of <phi^2> and of the connected 4-point function (delete-a-block jackknife
    with the maps refitted, fit noise included).  Measured: scatter/error 0.95 (M), 0.94
    (<phi^2>), 1.10 (c4).  The <phi^2> difference is compared with zero: its O(tau) scheme bias
    (5 steps) is part of the verdict's budget, not of the statistical error tested here, and its
    mean z (-0.4) is that bias."""
    from ergsym.variational.flow import VariationalConfig, compare_with_exact, run_variational

    rows = []
    for s in range(32):
        cfg = VariationalConfig(
            (2,),
            "bump:eps=0.5,lambda_max=3",
            1.0,
            2.0,
            1.9,
            10.0,
            5,
            n_samples=1000,
            seed=s,
            family="coupled",
            n_jack=10,
            n_therm=200,
        )
        c = compare_with_exact(run_variational(cfg), seed=10_000 + s)
        ip = c["M_minus_M0"]["interacting_part"]
        rows.append(
            (
                ip["variational"]["value"],
                ip["variational"]["error"],
                ip["exact_modes"]["value"],
                c["phi2"]["difference"]["value"],
                c["phi2"]["difference"]["error"],
                c["connected_4pt"][0]["difference"]["value"],
                c["connected_4pt"][0]["difference"]["error"],
            )
        )
    a = np.array(rows)
    check_calibrated(a[:, 0], a[:, 1], a[0, 2], "variational M - M0 (interacting part) vs exact modes")
    # scatter about the mean: the O(tau) bias aside
    check_calibrated(a[:, 3], a[:, 4], np.mean(a[:, 3]), "variational <phi^2> - exact")
    check_calibrated(a[:, 5], a[:, 6], 0.0, "variational c4 - exact")


# O(N) models at strong coupling on three sites, against the exact O(N) quadrature
# (ergsym.lattice.quadrature, Gauss rules in radial and angular variables, quad_error < 1e-7 here)
ON_KT, ON_DP = [1.0, 0.4, 0.4], [0.5, 0.2, 0.2]
N_CHAINS_ON = 256


@pytest.mark.slow
@pytest.mark.parametrize("N,seed", [(2, 2000), (3, 303)])
def test_on_monte_carlo_error_bars_are_calibrated(N, seed):
    """HMC of the O(N) model (N = 2, 3) at lam = 100 on 3 sites: 256 independent chains of 1000
    trajectories (one batched run, each column analysed alone) against the exact O(N) quadrature,
    for phi2, A, B and B_sd.  The seeds are ones where, before stuck thermalization chains were
    restarted (ergsym.lattice.run.STUCK_RESET), batched chains froze in a free-field start far in
    the tail: N = 2: 4 chains flagged unreliable; N = 3: one chain stuck at phi2 = 4.3 (exact
    0.32) for 866 of its 900 measurements and NOT flagged, scatter/error 21-27.  Measured now:
    scatter/error 1.05-1.14 (N = 2), 1.07-1.08 (N = 3), every chain reliable."""
    th = LatticeTheory((3,), ON_KT, ON_DP, 100.0, N=N)
    ex = exact_expectations(th)
    assert ex["quad_error"] < 1e-6
    res = run_mc(th, 1000, seed=seed, progress=False, n_chains=N_CHAINS_ON)
    for obs in ("phi2", "A", "B", "B_sd"):
        chains = np.asarray(res.chains[obs])
        sts = [statistics(chains[:, j]) for j in range(N_CHAINS_ON)]
        good = [s for s in sts if s.reliable]
        assert len(good) >= 0.98 * N_CHAINS_ON, (N, obs, len(good))
        means = np.array([s.mean for s in good])
        check_calibrated(means, [s.error_of_mean for s in good], ex[obs], f"MC O({N}) lam=100 {obs}")
        # the grand mean is unbiased (A and B are skewed, +-3..4, so a chain's mean and error are
        # correlated and their mean z is -+0.1..0.3 although the grand mean sits on the exact value)
        z_grand = (means.mean() - ex[obs]) / (np.std(means, ddof=1) / math.sqrt(means.size))
        assert abs(z_grand) < 4, (N, obs, z_grand)
