"""Monte Carlo statistics: autocorrelation-aware means and errors (SPEC section 7).

Every Monte Carlo number ergsym prints carries an error that accounts for the
autocorrelation of the Markov chain.  Two independent estimators are provided:

* :func:`statistics` -- the integrated autocorrelation time with the automatic window
  of Madras and Sokal, :math:`W = \\min\\{W : W \\ge c\\,\\tau_{int}(W)\\}`, and
  :math:`\\sigma^2_{\\bar x} = 2\\tau_{int}\\,\\mathrm{Var}(x)/N`;
* :func:`binned_jackknife` -- the jackknife over ``n_bins`` contiguous bins, which also
  handles functions of several means.

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

import numpy as np

from ..errors import InputError

__all__ = [
    "Stats",
    "autocorrelation",
    "integrated_autocorr_time",
    "statistics",
    "binned_jackknife",
]


def _fmt(mean: float, err: float) -> str:
    if not math.isfinite(err) or err <= 0:
        return f"{mean:.10g} ± {err:.2g}"
    digits = max(0, 1 - int(math.floor(math.log10(err))))
    return f"{mean:.{digits}f} ± {err:.{digits}f}" if digits < 12 else f"{mean:.6g} ± {err:.2g}"


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
        Chain length ``N``.
    window : int
        Summation window ``W`` chosen automatically.
    """

    mean: float
    error_of_mean: float
    variance: float
    tau_corr: float
    n_eff: float
    tau_corr_error: float = 0.0
    n_samples: int = 0
    window: int = 0

    def __repr__(self) -> str:
        return _fmt(self.mean, self.error_of_mean)

    def __str__(self) -> str:
        return f"{_fmt(self.mean, self.error_of_mean)} [tau_int={self.tau_corr:.3g}]"

    def to_dict(self) -> dict:
        """Plain-float dictionary (for ``--json``)."""
        return {
            "mean": float(self.mean),
            "error": float(self.error_of_mean),
            "variance": float(self.variance),
            "tau_int": float(self.tau_corr),
            "tau_int_error": float(self.tau_corr_error),
            "n_eff": float(self.n_eff),
            "n_samples": int(self.n_samples),
        }


def _as_chain(x, name: str = "x", min_len: int = 2) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 1:
        raise InputError.bad(f"{name}.ndim", a.ndim, "1 (one scalar observable per sample)")
    if a.size < min_len:
        raise InputError.bad(f"len({name})", a.size, f">= {min_len} samples")
    if not np.all(np.isfinite(a)):
        raise InputError.bad(name, "<array with non-finite entries>", "finite numbers",
                             "the chain contains NaN or inf; check the action parameters")
    return a


def autocorrelation(x) -> np.ndarray:
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


def integrated_autocorr_time(x, c: float = 5.0) -> tuple[float, int, float]:
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
    n = rho.size
    if n == 1 or rho[1:].size == 0:
        return 0.5, 0, 0.0
    taus = 0.5 + np.cumsum(rho[1:])  # taus[W-1] = tau(W)
    w = np.arange(1, n)
    ok = np.nonzero(w >= c * taus)[0]
    idx = int(ok[0]) if ok.size else n - 2
    tau = float(max(taus[idx], 0.5))
    window = int(w[idx])
    err = tau * math.sqrt(2.0 * (2 * window + 1) / n)
    if not ok.size:
        err = max(err, tau)
    return tau, window, err


def statistics(x, c: float = 5.0) -> Stats:
    """:class:`Stats` of one chain: mean, autocorrelation-aware error, ``tau_int``.

    Parameters
    ----------
    x : array_like, shape (N,)
        Measurements in Markov-chain order (N >= 2).
    c : float
        Window factor of :func:`integrated_autocorr_time`.

    Returns
    -------
    Stats

    Raises
    ------
    InputError
        Chain not one-dimensional, shorter than 2, or containing NaN/inf.

    Examples
    --------
    >>> import numpy as np
    >>> s = statistics(np.random.default_rng(0).normal(size=10000))
    >>> abs(s.mean) < 4 * s.error_of_mean
    True
    """
    a = _as_chain(x)
    n = a.size
    mean = float(a.mean())
    var = float(a.var())
    scale = max(abs(mean), 1e-300)
    if var <= (1e-14 * scale) ** 2:  # constant chain (e.g. an exact SD estimator)
        return Stats(mean, 0.0, 0.0, 0.5, float(n), 0.0, n, 0)
    tau, window, tau_err = integrated_autocorr_time(a, c)
    err = math.sqrt(2.0 * tau * var / n)
    return Stats(mean, err, var, tau, n / (2.0 * tau), tau_err, n, window)


def binned_jackknife(x, n_bins: int = 20, func=None):
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
    a = a[n - b * n_bins:]
    bins = a.reshape((n_bins, b) + a.shape[1:]).mean(axis=1)
    total = bins.mean(axis=0)
    loo = (total * n_bins - bins) / (n_bins - 1)
    fb = np.array([f(m) for m in loo], dtype=float)
    est = float(np.asarray(f(total), dtype=float))
    err = math.sqrt((n_bins - 1) / n_bins * float(np.sum((fb - fb.mean()) ** 2)))
    return est, err
