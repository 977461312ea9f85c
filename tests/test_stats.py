"""Tests of ergsym.lattice.stats on processes with exactly known autocorrelation."""

import math

import numpy as np
import pytest
from scipy.signal import lfilter

from ergsym.errors import InputError
from ergsym.lattice.stats import (
    Stats,
    autocorrelation,
    binned_jackknife,
    integrated_autocorr_time,
    split_rhat,
    statistics,
)


def ar1(rng, a, n, reps=None):
    """AR(1) x_t = a x_{t-1} + sqrt(1-a^2) e_t, started in equilibrium (unit variance).

    Exact: rho(t) = a^t, tau_int = (1/2)(1+a)/(1-a).
    """
    shape = (n,) if reps is None else (reps, n)
    e = rng.normal(size=shape) * math.sqrt(1 - a * a)
    e[..., 0] = rng.normal(size=shape[:-1])  # x_0 ~ N(0,1): stationary start
    return lfilter([1.0], [1.0, -a], e, axis=-1)


@pytest.mark.parametrize("a", [0.0, 0.5, 0.9])
def test_tau_int_of_ar1(a):
    rng = np.random.default_rng(1234)
    x = ar1(rng, a, 200_000)
    tau_exact = 0.5 * (1 + a) / (1 - a)
    tau, window, tau_err = integrated_autocorr_time(x)
    assert window >= 5 * tau - 1
    # Madras-Sokal error of tau; the windowing bias is exp(-W/tau_exp) ~ e^-5 relative.
    assert abs(tau - tau_exact) < 4 * tau_err + 0.01 * tau_exact
    assert tau_err < 0.1 * tau_exact


def test_autocorrelation_matches_ar1():
    rng = np.random.default_rng(7)
    x = ar1(rng, 0.8, 100_000)
    rho = autocorrelation(x)
    assert rho[0] == 1.0
    np.testing.assert_allclose(rho[1:6], 0.8 ** np.arange(1, 6), atol=0.02)


def test_error_of_mean_is_honest_on_ar1():
    """Over 400 independent AR(1) chains (tau = 9.5), the reported errors are honest.

    Exact std of the mean of N samples of AR(1):
    Var = (1/N^2) sum_{s,t} a^|s-t| -> sqrt((1+a)/(1-a)/N) for N >> tau.
    """
    rng = np.random.default_rng(2024)
    a, n = 0.9, 4000
    xs = ar1(rng, a, n, reps=400)
    stats = [statistics(x) for x in xs]
    means = np.array([s.mean for s in stats])
    errs = np.array([s.error_of_mean for s in stats])
    true_sd = math.sqrt((1 + a) / (1 - a) / n)
    # the empirical spread of the means agrees with the exact value (400 reps: ~3.5% sd)
    assert abs(means.std() / true_sd - 1) < 0.15
    # and the average reported error agrees with it (windowing bias is a few %)
    assert abs(np.sqrt(np.mean(errs**2)) / true_sd - 1) < 0.1
    # pulls: at most ~5% of |z| > 2 for Gaussian pulls; allow some slack
    z = means / errs
    assert np.mean(np.abs(z) > 2.0) < 0.09
    # the naive error (ignoring autocorrelation) would be too small by sqrt(19)
    naive = np.array([x.std() / math.sqrt(n) for x in xs])
    assert np.mean(naive) < 0.3 * true_sd


def test_binned_jackknife_on_ar1():
    rng = np.random.default_rng(99)
    a, n = 0.9, 4000
    xs = ar1(rng, a, n, reps=300)
    true_sd = math.sqrt((1 + a) / (1 - a) / n)
    errs = np.array([binned_jackknife(x, n_bins=20)[1] for x in xs])
    # bins of 200 >> tau = 9.5: bias ~ tau/bin ~ 5%; the chi-distribution scatter is 16%/rep.
    assert abs(np.sqrt(np.mean(errs**2)) / true_sd - 1) < 0.12


def test_binned_jackknife_of_ratio():
    """Jackknife of a nonlinear function of two means: error agrees with the delta method."""
    rng = np.random.default_rng(3)
    n = 20000
    x = 2.0 + rng.normal(size=n)
    y = 4.0 + rng.normal(size=n)
    est, err = binned_jackknife(np.c_[x, y], n_bins=40, func=lambda m: m[0] / m[1])
    delta = math.sqrt((1 / 4.0) ** 2 / n + (2.0 / 16.0) ** 2 / n)
    assert abs(est - 0.5) < 4 * delta
    assert abs(err / delta - 1) < 0.35


def test_stats_repr_and_constant_chain():
    s = statistics(np.full(100, 3.25))
    assert s.error_of_mean == 0.0 and s.tau_corr == 0.5 and s.n_eff == 100
    assert math.isfinite(s.mean)
    s2 = Stats(1.23456, 0.0123, 1.0, 2.0, 10.0)
    assert repr(s2) == "1.235 ± 0.012"
    assert "tau_int=2" in str(s2)
    d = s2.to_dict()
    assert d["value"] == 1.23456 and d["tau_int"] == 2.0 and "mean" not in d


# 2-D input is (samples x chains) now; 3-D input and a 2-D array of one sample are refused
@pytest.mark.parametrize("bad", [[1.0], [[[1.0, 2.0], [3.0, 4.0]]], [[1.0, 2.0]], [1.0, float("nan"), 2.0]])
def test_statistics_bad_input(bad):
    with pytest.raises(InputError):
        statistics(bad)


def test_jackknife_bad_input():
    with pytest.raises(InputError, match="n_bins"):
        binned_jackknife(np.arange(10.0), n_bins=1)
    with pytest.raises(InputError, match="len"):
        binned_jackknife(np.arange(10.0), n_bins=20)
    with pytest.raises(InputError, match="c="):
        integrated_autocorr_time(np.arange(10.0), c=0.1)


# --------------------------------------------------------------------------------------
# tau_int on an AR(1) process with a known answer; split-R-hat; reliability flags
def _ar1(rho, n, m, seed):
    """m independent stationary AR(1) chains x_t = rho x_{t-1} + sqrt(1-rho^2) eps_t (unit variance)."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    eps = rng.standard_normal((n, m))
    x0 = rng.standard_normal(m)  # stationary start
    zi = (rho * x0)[None, :]
    return lfilter([math.sqrt(1 - rho**2)], [1.0, -rho], eps, axis=0, zi=zi)[0]


@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_tau_int_of_ar1_matches_exact_formula(rho):
    # exact: rho(t) = rho^t, so tau_int = 1/2 + sum_{t>=1} rho^t = (1 + rho) / (2 (1 - rho))
    exact = (1 + rho) / (2 * (1 - rho))
    x = _ar1(rho, 50_000, 4, seed=3)
    st = statistics(x)
    assert abs(st.tau_corr - exact) < 4 * st.tau_corr_error, (st.tau_corr, exact, st.tau_corr_error)
    assert st.reliable and st.n_chains == 4 and st.rhat < 1.01
    # the error of the mean is sqrt(2 tau Var / N) with the exact tau and unit variance
    assert st.error_of_mean == pytest.approx(math.sqrt(2 * exact / x.size), rel=0.1)
    # single chain as well
    s1 = statistics(x[:, 0])
    assert abs(s1.tau_corr - exact) < 4 * s1.tau_corr_error


def test_split_rhat_formula_and_shifted_chains():
    x = np.random.default_rng(5).standard_normal((2000, 4))
    # independent transcription of BDA3 (11.1)-(11.4) on the 8 half chains
    halves = np.concatenate([x[:1000], x[1000:]], axis=1)
    n = 1000
    w = halves.var(axis=0, ddof=1).mean()
    b = n * halves.mean(axis=0).var(ddof=1)
    assert split_rhat(x) == pytest.approx(math.sqrt(((n - 1) / n * w + b / n) / w), rel=1e-12)
    assert split_rhat(x) < 1.01
    # one chain shifted by two standard deviations: R-hat flags it, and Stats is unreliable
    y = x.copy()
    y[:, 2] += 2.0
    assert split_rhat(y) > 1.1
    st = statistics(y)
    assert not st.reliable and any("R-hat" in r for r in st.reasons)
    # one chain whose second half sits elsewhere: split-R-hat of the halves flags it
    z = np.concatenate([x[:, 0], x[:, 1] + 1.0])
    assert split_rhat(z) > 1.1 and not statistics(z).reliable
    assert split_rhat([1.0, 2.0, 3.0]) is None  # fewer than 4 samples


def test_reliability_flags():
    frozen = statistics(np.full(500, 2241.9))
    assert not frozen.reliable and frozen.error_of_mean == 0 and "zero variance" in frozen.reasons[0]
    exact = statistics(np.full(500, -3.0), exact=True)
    assert exact.reliable and exact.exact and exact.to_dict()["exact"] is True
    # rho = 0.95: tau_int = 19.5, so 500 samples are fewer than 50 tau_int
    short = statistics(_ar1(0.95, 500, 1, seed=2)[:, 0])
    assert not short.reliable and any("50 tau_int" in r for r in short.reasons)
    d = short.to_dict()
    assert d["converged"] is False and d["value"] == short.mean


def test_startup_bias_is_flagged_and_a_stationary_chain_is_not():
    """Geweke's start-up diagnostic: an AR(1) chain started far from equilibrium (x0 = 100, 100
    stationary standard deviations) is flagged unreliable; the same chain started in equilibrium
    is not (the threshold 4.5 is passed by a stationary chain with probability ~1e-5)."""
    from ergsym.lattice.stats import startup_z

    rng = np.random.default_rng(7)
    e = rng.normal(size=4000)

    def ar1(x0):
        x = np.empty(4000)
        x[0] = x0
        for i in range(1, 4000):
            x[i] = 0.95 * x[i - 1] + math.sqrt(1 - 0.95**2) * e[i]
        return x

    biased, fine = statistics(ar1(100.0)), statistics(ar1(e[0]))
    assert not biased.reliable and any("start-up bias" in r for r in biased.reasons)
    assert fine.reliable, fine.reasons
    assert startup_z(np.zeros((5, 1)), 0.5, 0.0) is None  # too short / no variance: no test
