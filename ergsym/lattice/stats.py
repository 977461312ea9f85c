"""Monte Carlo statistics: autocorrelation-aware means and errors (docs/lattice.md).

Every Monte Carlo number ergsym prints carries an error that accounts for the
autocorrelation of the Markov chain.  Two independent estimators are provided:

* :func:`statistics` -- the integrated autocorrelation time with the automatic window
  of Madras and Sokal, :math:`W = \\min\\{W : W \\ge c\\,\\tau_{int}(W)\\}`, and
  :math:`\\sigma^2_{\\bar x} = 2\\tau_{int}\\,\\mathrm{Var}(x)/N`;
* :func:`binned_jackknife` -- the jackknife over ``n_bins`` contiguous bins, which also
  handles functions of several means;
* :func:`split_rhat` -- the split potential scale reduction factor of Gelman et al.
  (*Bayesian Data Analysis*, 3rd ed., sec. 11.4) over independent chains, or over the two
  halves of one chain.

Reliability
-----------
:func:`statistics` marks its result ``reliable=False`` (with the reasons) when the chain
has zero variance although the estimator is not exact (a frozen chain), when it is shorter
than ``MIN_TAU_MULTIPLE = 50`` integrated autocorrelation times (the autocorrelation
estimate itself is then unreliable), when Sokal's window condition is never met, when the
split-R̂ exceeds ``RHAT_MAX = 1.1``, or when the start of the chain differs from its end
(Geweke's diagnostic :func:`startup_z` above ``STARTUP_Z_MAX``: a start-up bias).  Such a
number must not be reported as agreement.

Conventions
-----------
``tau_corr`` is Sokal's integrated autocorrelation time
:math:`\\tau_{int} = \\tfrac12 + \\sum_{t\\ge1}\\rho(t)`, so ``tau_corr = 0.5`` for an
uncorrelated chain and the effective number of samples is ``n_eff = N / (2 tau_int)``.
(NetKet's ``tau_corr`` is :math:`\\tau_{int} - \\tfrac12`; ergsym keeps Sokal's.)

References
----------
A. D. Sokal, "Monte Carlo methods in statistical mechanics: foundations and new
algorithms" (1996), sec. 3; N. Madras and A. D. Sokal, J. Stat. Phys. 50 (1988) 109.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike

__all__ = [
    "Stats",
    "autocorrelation",
    "integrated_autocorr_time",
    "statistics",
    "binned_jackknife",
    "split_rhat",
    "startup_z",
    "MIN_TAU_MULTIPLE",
    "RHAT_MAX",
]

#: A chain shorter than this many ``tau_int`` gives an unreliable error bar.
MIN_TAU_MULTIPLE = 50
#: Split-R-hat above this flags chains that have not mixed (Gelman et al., BDA3 sec. 11.4).
RHAT_MAX = 1.1
#: Start-up diagnostic (:func:`startup_z`): the first STARTUP_FIRST of a chain against its last
#: STARTUP_LAST; |z| above STARTUP_Z_MAX flags the number unreliable (a stationary chain
#: exceeds it with probability ~1e-5).
STARTUP_FIRST = 0.1
STARTUP_LAST = 0.5
STARTUP_Z_MAX = 4.5


def _fmt(mean: float, err: float) -> str:
    """``mean ± error`` rounded to the error (:func:`ergsym.textfmt.format_value`)."""
    from ..textfmt import format_value  # noqa: PLC0415

    return format_value(mean, err, digits=10)


@dataclass(frozen=True)
class Stats:
    """Mean of a Monte Carlo chain with an autocorrelation-aware error.

    Attributes
    ----------
    mean : float
        Sample mean.
    error_of_mean : float
        Standard error of the mean, :math:`\\sqrt{2\\tau_{int}\\mathrm{Var}/N}`.
    variance : float
        Sample variance of one measurement (``ddof=0``).
    tau_corr : float
        Integrated autocorrelation time :math:`\\tau_{int}` (0.5 if uncorrelated).
    n_eff : float
        Effective number of independent samples, :math:`N/(2\\tau_{int})`.
    tau_corr_error : float
        Madras-Sokal error of ``tau_corr``, :math:`\\tau\\sqrt{2(2W+1)/N}`.
    n_samples : int
        Chain length ``N`` (per chain).
    window : int
        Summation window ``W`` chosen automatically.
    rhat : float or None
        Split-R̂ over the chains (or the two halves of one chain); None when undefined
        (zero variance, fewer than 4 samples per chain).
    reliable : bool
        False when the error bar cannot be trusted; ``reasons`` says why.
    reasons : tuple of str
        Why the number is unreliable (empty when reliable).
    exact : bool
        True for an estimator that is constant by construction (e.g. the
        Schwinger-Dyson form of (5.13)): its value is exact, ``error_of_mean = 0``.
    n_chains : int
        Number of independent chains combined.
    """

    mean: float
    error_of_mean: float
    variance: float
    tau_corr: float
    n_eff: float
    tau_corr_error: float = 0.0
    n_samples: int = 0
    window: int = 0
    rhat: object = None
    reliable: bool = True
    reasons: tuple = ()
    exact: bool = False
    n_chains: int = 1

    def flagged(self, reason: str) -> Stats:
        """A copy marked unreliable with one more reason."""
        from dataclasses import replace  # noqa: PLC0415

        if reason in self.reasons:
            return self
        return replace(self, reliable=False, reasons=tuple(self.reasons) + (reason,))

    def __repr__(self) -> str:
        return _fmt(self.mean, self.error_of_mean)

    def __str__(self) -> str:
        return f"{_fmt(self.mean, self.error_of_mean)} [tau_int={self.tau_corr:.3g}]"

    def to_dict(self) -> dict:
        """Plain-float dictionary (for ``--json``): the value object of ergsym's JSON.

        ``value`` (the mean), ``error``, ``converged`` (= ``reliable``),
        ``tau_int``, ``n_eff``, ``rhat``, ``reasons`` and, for constant estimators, ``exact``.
        """
        return {
            "value": float(self.mean),
            "error": float(self.error_of_mean),
            "converged": bool(self.reliable),
            "reliable": bool(self.reliable),
            "reasons": list(self.reasons),
            "exact": bool(self.exact),
            "variance": float(self.variance),
            "tau_int": float(self.tau_corr),
            "tau_int_error": float(self.tau_corr_error),
            "n_eff": float(self.n_eff),
            "n_samples": int(self.n_samples),
            "n_chains": int(self.n_chains),
            "rhat": None if self.rhat is None else float(self.rhat),
        }


def _as_chain(x, name: str = "x", min_len: int = 2) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 1:
        raise InputError.bad(f"{name}.ndim", a.ndim, "1 (one scalar observable per sample)")
    if a.size < min_len:
        raise InputError.bad(f"len({name})", a.size, f">= {min_len} samples")
    if not np.all(np.isfinite(a)):
        raise InputError.bad(
            name,
            "<array with non-finite entries>",
            "finite numbers",
            "the chain contains NaN or inf; check the action parameters",
        )
    return a


def autocorrelation(x: ArrayLike) -> np.ndarray:
    """Normalized autocorrelation function :math:`\\rho(t)`, ``t = 0..N-1`` (FFT, O(N log N)).

    Uses the biased estimator :math:`C(t) = \\frac1N\\sum_{i}(x_i-\\bar x)(x_{i+t}-\\bar x)`
    (positive semi-definite).  A chain of constant values gives ``rho = [1, 0, 0, ...]``.
    """
    a = _as_chain(x)
    n = a.size
    d = a - a.mean()
    nfft = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(d, nfft)
    c = np.fft.irfft(f * np.conj(f), nfft)[:n] / n
    out = np.zeros(n)
    if c[0] <= 0:
        out[0] = 1.0
        return out
    return c / c[0]


def integrated_autocorr_time(x: ArrayLike, c: float = 5.0) -> tuple[float, int, float]:
    """Integrated autocorrelation time with Sokal's automatic window.

    .. math:: \\tau_{int}(W) = \\tfrac12 + \\sum_{t=1}^{W}\\rho(t),\\qquad
              W = \\min\\{W : W \\ge c\\,\\tau_{int}(W)\\}.

    Parameters
    ----------
    x : array_like, shape (N,)
        The chain.
    c : float
        Window factor (Sokal recommends 4-6 for roughly exponential decay).

    Returns
    -------
    tau : float
        :math:`\\tau_{int}` (at least 0.5; exactly 0.5 for a constant chain).
    window : int
        The window ``W``.
    tau_error : float
        :math:`\\tau\\sqrt{2(2W+1)/N}` (Madras-Sokal).

    Notes
    -----
    If no window up to ``N-1`` satisfies the condition the chain is too short for its
    autocorrelation; the largest-window value is returned and ``tau_error`` then
    exceeds ``tau`` -- callers see the unreliability in the error.
    """
    if not (isinstance(c, (int, float)) and 1.0 <= c <= 20.0):
        raise InputError.bad("c", c, "a number in [1, 20]")
    rho = autocorrelation(x)
    if rho.size == 1:
        return 0.5, 0, 0.0
    tau, window, err, _ = _window_scan(rho, c)
    return tau, window, err


def split_rhat(x: ArrayLike) -> float | None:
    """Split-R̂ (Gelman et al., *Bayesian Data Analysis*, 3rd ed., eq. (11.4) with split chains).

    Parameters
    ----------
    x : array_like, shape (N,) or (N, m)
        One chain, or ``m`` independent chains in columns.  Every chain is split into its two
        halves (a remainder sample at the end is dropped), giving ``2m`` chains of length
        ``n = N // 2``.

    Returns
    -------
    float or None
        :math:`\\hat R = \\sqrt{\\hat V/W}` with :math:`\\hat V = \\frac{n-1}{n}W + \\frac Bn`
        (``W`` the mean within-chain variance, ``B/n`` the variance of the chain means);
        close to 1 for chains that sample the same distribution, larger when one chain (or
        one half) sits elsewhere.  None when undefined (``N < 4`` or ``W = 0``).
    """
    a = np.asarray(x, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise InputError.bad("x.ndim", a.ndim, "1 (one chain) or 2 (samples x chains)")
    n = a.shape[0] // 2
    if n < 2:
        return None
    halves = np.concatenate([a[:n], a[n : 2 * n]], axis=1)
    w = float(np.mean(np.var(halves, axis=0, ddof=1)))
    if not w > 0:
        return None
    b_over_n = float(np.var(np.mean(halves, axis=0), ddof=1))
    v = (n - 1) / n * w + b_over_n
    return math.sqrt(v / w)


def _multi_autocorrelation(a: np.ndarray) -> np.ndarray:
    """Mean over the columns of the (biased) autocovariance, normalized at t = 0."""
    n = a.shape[0]
    d = a - a.mean(axis=0)
    nfft = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(d, nfft, axis=0)
    c = np.fft.irfft(f * np.conj(f), nfft, axis=0)[:n].mean(axis=1) / n
    out = np.zeros(n)
    if c[0] <= 0:
        out[0] = 1.0
        return out
    return c / c[0]


def _window_scan(rho, c):
    """Madras-Sokal automatic window on an autocorrelation ``rho`` (``rho.size >= 2``):
    ``(tau, W, tau_error, found)``, ``found`` False when no window satisfies ``W >= c tau(W)``."""
    n = rho.size
    taus = 0.5 + np.cumsum(rho[1:])  # taus[W-1] = tau(W)
    w = np.arange(1, n)
    ok = np.nonzero(w >= c * taus)[0]
    idx = int(ok[0]) if ok.size else n - 2
    tau = float(max(taus[idx], 0.5))
    window = int(w[idx])
    err = tau * math.sqrt(2.0 * (2 * window + 1) / n)
    if not ok.size:
        err = max(err, tau)
    return tau, window, err, bool(ok.size)


def _tau_from_rho(rho, c):
    if rho.size <= 2:
        return 0.5, 0, 0.0, False
    return _window_scan(rho, c)


def statistics(x: ArrayLike, c: float = 5.0, exact: bool = False) -> Stats:
    """:class:`Stats` of one chain or of independent chains: mean, error, ``tau_int``, R̂.

    Parameters
    ----------
    x : array_like, shape (N,) or (N, m)
        Measurements in Markov-chain order (N >= 2); with two dimensions, ``m`` independent
        chains in columns.  The autocorrelation function is the mean of the chains'
        autocovariances (each about its own mean); the variance is about the grand mean, so
        chains that disagree inflate the error and R̂.
    c : float
        Window factor of :func:`integrated_autocorr_time`.
    exact : bool
        The estimator is constant by construction: zero variance is then expected and the
        result is exact (``error_of_mean = 0``, ``reliable=True``).  A zero-variance chain of a
        non-exact estimator is a frozen chain and is flagged ``reliable=False``.

    Returns
    -------
    Stats
        With ``reliable=False`` and ``reasons`` when the error bar cannot be trusted (see the
        module docstring).

    Raises
    ------
    InputError
        Chain not one- or two-dimensional, shorter than 2, or containing NaN/inf.

    Examples
    --------
    >>> import numpy as np
    >>> s = statistics(np.random.default_rng(0).normal(size=10000))
    >>> abs(s.mean) < 4 * s.error_of_mean and s.reliable
    True
    """
    if not (isinstance(c, (int, float)) and 1.0 <= c <= 20.0):
        raise InputError.bad("c", c, "a number in [1, 20]")
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 2:
        if arr.shape[0] < 2 or arr.shape[1] < 1:
            raise InputError.bad("x.shape", arr.shape, "(N >= 2 samples, m >= 1 chains)")
        if not np.all(np.isfinite(arr)):
            raise InputError.bad(
                "x",
                "<array with non-finite entries>",
                "finite numbers",
                "the chain contains NaN or inf; check the action parameters",
            )
        a2 = arr
    else:
        a2 = _as_chain(arr)[:, None]
    n, m = a2.shape
    mean = float(a2.mean())
    var = float(a2.var())
    scale = max(abs(mean), 1e-300)
    if var <= (1e-14 * scale) ** 2:  # constant chain: exact estimator, or a frozen chain
        st = Stats(mean, 0.0, 0.0, 0.5, float(n * m), 0.0, n, 0, None, True, (), bool(exact), m)
        if not exact:
            st = st.flagged(
                "zero variance: the chain did not move (acceptance 0?), so this error bar of 0 is meaningless"
            )
        return st
    if m == 1:
        rho = autocorrelation(a2[:, 0])
    else:
        rho = _multi_autocorrelation(a2)
    tau, window, tau_err, found = _tau_from_rho(rho, c)
    err = math.sqrt(2.0 * tau * var / (n * m))
    rhat = split_rhat(a2)
    st = Stats(mean, err, var, tau, n * m / (2.0 * tau), tau_err, n, window, rhat, True, (), False, m)
    if not found:
        st = st.flagged(
            f"no summation window W >= {c:g} tau_int exists in {n} samples: the "
            "chain is too short for its autocorrelation"
        )
    if n < MIN_TAU_MULTIPLE * tau:
        st = st.flagged(
            f"chain of {n} samples is shorter than {MIN_TAU_MULTIPLE} tau_int = "
            f"{MIN_TAU_MULTIPLE * tau:.0f}: run longer (--n-traj)"
        )
    zg = startup_z(a2, tau, var)
    if zg is not None and abs(zg) > STARTUP_Z_MAX:
        st = st.flagged(
            f"start-up bias: the first {STARTUP_FIRST:.0%} of the chain differs from its last "
            f"{STARTUP_LAST:.0%} by {abs(zg):.1f} standard errors (> {STARTUP_Z_MAX:g}); the "
            "chain had not reached equilibrium when measuring began: thermalize longer "
            "(--n-therm / n_therm)"
        )
    if rhat is not None and rhat > RHAT_MAX:
        st = st.flagged(
            f"split R-hat = {rhat:.3f} > {RHAT_MAX}: the chains (or the halves of "
            "the chain) disagree; thermalize longer (--n-therm) or run longer"
        )
    return st


def startup_z(a2: np.ndarray, tau: float, var: float) -> float | None:
    """Geweke's start-up diagnostic: ``z`` of the mean of the first :data:`STARTUP_FIRST` of
    the chain(s) against the mean of the last :data:`STARTUP_LAST`, each with the error
    ``sqrt(2 tau v / (n_window m))``, ``v`` the variance of the last window (a transient
    would inflate the variance of the whole chain).

    Parameters
    ----------
    a2 : ndarray, shape (N, m)
        ``m`` chains in columns.
    tau, var : float
        Integrated autocorrelation time and variance of the whole chain(s) (``var`` is used
        when the last window has no variance).

    Returns
    -------
    float or None
        None when the first window is shorter than 5 ``tau`` (no test) or ``var == 0``.

    References
    ----------
    J. Geweke, "Evaluating the accuracy of sampling-based approaches to the calculation of
    posterior moments", Bayesian Statistics 4 (1992).
    """
    n, m = a2.shape
    n1, n2 = int(STARTUP_FIRST * n), int(STARTUP_LAST * n)
    if n1 < 5 * tau or n1 < 10 or not var > 0:
        return None
    m1, m2 = float(a2[:n1].mean()), float(a2[n - n2 :].mean())
    # the variance of the late window: a transient inflates the whole chain's variance
    v2 = float(a2[n - n2 :].var())
    if not v2 > 0:
        v2 = var
    err = math.sqrt(2.0 * tau * v2 / m * (1.0 / n1 + 1.0 / n2))
    return (m1 - m2) / err


def binned_jackknife(
    x: ArrayLike, n_bins: int = 20, func: Callable[[np.ndarray], float] | None = None
) -> tuple[float, float]:
    """Jackknife estimate over ``n_bins`` contiguous bins.

    Parameters
    ----------
    x : array_like, shape (N,) or (N, k)
        Chain(s) in Markov order; with ``k`` columns, ``func`` receives the vector of
        ``k`` bin-deleted means.
    n_bins : int
        Number of bins (>= 2); bins must be longer than ``tau_int`` for the error to be
        honest.  A remainder ``N mod n_bins`` at the start of the chain is dropped.
    func : callable, optional
        Function of the means (default: identity of a scalar chain).

    Returns
    -------
    (estimate, error) : tuple of float
        ``func`` of the full means, and the jackknife standard error
        :math:`\\sqrt{\\frac{n-1}{n}\\sum_b(f_b-\\bar f)^2}`.
    """
    a = np.asarray(x, dtype=float)
    if a.ndim not in (1, 2):
        raise InputError.bad("x.ndim", a.ndim, "1 or 2")
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 2:
        raise InputError.bad("n_bins", n_bins, "an integer >= 2")
    n = a.shape[0]
    if n < n_bins:
        raise InputError.bad("len(x)", n, f">= n_bins = {n_bins}")
    if not np.all(np.isfinite(a)):
        raise InputError.bad("x", "<array with non-finite entries>", "finite numbers")
    f = (lambda m: m) if func is None else func
    b = n // n_bins
    a = a[n - b * n_bins :]
    bins = a.reshape((n_bins, b) + a.shape[1:]).mean(axis=1)
    total = bins.mean(axis=0)
    loo = (total * n_bins - bins) / (n_bins - 1)
    fb = np.array([f(m) for m in loo], dtype=float)
    est = float(np.asarray(f(total), dtype=float))
    err = math.sqrt((n_bins - 1) / n_bins * float(np.sum((fb - fb.mean()) ** 2)))
    return est, err
