"""Result objects and input validation of the numeric layer."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..conventions import validate_dim, validate_mass
from ..errors import InputError

__all__ = ["Value", "validate_rtol", "validate_common", "DEFAULT_RTOL_1LOOP", "DEFAULT_RTOL_2LOOP"]

DEFAULT_RTOL_1LOOP = 1e-10
DEFAULT_RTOL_2LOOP = 1e-8


@dataclass(frozen=True)
class Value:
    """A number (or array) with an error estimate and a converged flag.

    Attributes
    ----------
    estimate : float or ndarray
    error : float or ndarray
        Estimated absolute error (>= 0).  Tests check it bounds the true error.
    converged : bool or ndarray
        True where ``error <= max(atol, rtol |estimate|)`` was reached.
    name : str
        What was evaluated (family name), if known.
    method : str
        ``"radial"`` (1-loop), ``"position"``, ``"momentum"``, ``"product"`` or ``"sum"``.
    info : dict
        Diagnostics (number of integrand evaluations, truncation radius, ...).
    """

    estimate: object
    error: object
    converged: object
    name: str = ""
    method: str = ""
    info: dict = field(default_factory=dict, compare=False, repr=False)

    def __repr__(self) -> str:
        if np.ndim(self.estimate) == 0:
            s = f"{float(self.estimate):.12g} ± {float(self.error):.2g}"
            if not bool(self.converged):
                s += " (not converged)"
            return s
        return f"Value(estimate={np.asarray(self.estimate)!r}, error={np.asarray(self.error)!r})"

    __str__ = __repr__

    def __float__(self) -> float:
        return float(self.estimate)

    @property
    def rel_error(self):
        est = np.abs(np.asarray(self.estimate, float))
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(est > 0, np.asarray(self.error, float) / np.where(est > 0, est, 1.0), np.inf)
        return float(r) if np.ndim(r) == 0 else r

    def to_dict(self) -> dict:
        """JSON-ready dict with ``value``, ``error``, ``converged`` (lists for arrays)."""
        def conv(x, f):
            a = np.asarray(x)
            return f(a) if a.ndim == 0 else [f(v) for v in a.ravel()]
        d = {"value": conv(self.estimate, float), "error": conv(self.error, float),
             "converged": conv(self.converged, bool)}
        if self.name:
            d["name"] = self.name
        if self.method:
            d["method"] = self.method
        return d


def validate_rtol(rtol, default: float) -> float:
    """``rtol`` in ``[1e-13, 0.1]`` (None -> default)."""
    if rtol is None:
        return default
    try:
        r = float(rtol)
    except (TypeError, ValueError):
        raise InputError.bad("rtol", rtol, "a number in [1e-13, 0.1]") from None
    if not math.isfinite(r) or not 1e-13 <= r <= 0.1:
        raise InputError.bad("rtol", rtol, "a number in [1e-13, 0.1]",
                             "double precision cannot honour a tighter tolerance")
    return r


def validate_common(cutoff, dim, mass, Lambda):
    """Validate and broadcast: returns ``(cutoff, dim, mass_arr, Lambda_arr, shape)``."""
    from ..cutoffs import parse_cutoff

    cutoff = parse_cutoff(cutoff)
    dim = validate_dim(dim)
    m = np.asarray(mass, dtype=float) if not isinstance(mass, str) else mass
    try:
        m = np.asarray(m, dtype=float)
    except (TypeError, ValueError):
        raise InputError.bad("mass", mass, "finite and > 0") from None
    for v in np.atleast_1d(m).ravel():
        validate_mass(v)
    lam = cutoff.validate_Lambda(Lambda)
    lam, m = np.broadcast_arrays(np.asarray(lam, float), m)
    return cutoff, dim, m.astype(float), lam.astype(float), lam.shape
