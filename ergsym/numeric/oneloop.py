"""One-loop blocks: radial integrals of ``Kt^kt D^dpow`` (docs/numeric.md).

.. math::

    \\int d^dp\\, F(p^2) = \\frac{S_d}{2} \\int_0^\\infty (p^2)^{(d-2)/2} F(p^2)\\, dp^2,
    \\qquad S_d = \\frac{2\\pi^{d/2}}{\\Gamma(d/2)}

with ``F = Kt^kt D^dpow``, ``Kt = K/(p^2+m^2)``, ``D = Lambda dK/dLambda/(p^2+m^2)``.
A block holding a ``D`` line is the outer block (``int d^dp``); otherwise ``int_q`` carries
``(2 pi)^-d``.  The integral is split at the cutoff's breakpoints and each piece is
integrated in its own reference variable (the bump in its local variable ``x``); pieces on
which ``dK/dLambda`` vanishes are skipped when ``dpow >= 1``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..conventions import sphere_area
from .quadrature import adaptive_batch

if TYPE_CHECKING:
    from ..cutoffs.base import Cutoff

__all__ = ["loop_integral", "line_values"]


def line_values(
    line_kt: int,
    line_d: int,
    p2: float | np.ndarray,
    k: float | np.ndarray,
    dk: float | np.ndarray,
    lam: float | np.ndarray,
    m2: float | np.ndarray,
    scale: float | np.ndarray | None = None,
) -> float | np.ndarray:
    """``Kt^kt D^d`` from pointwise ``K``, ``dK/dLambda`` (arrays broadcast), times ``scale``.

    With ``kt < 0`` (``D/Kt`` of ``f0``) the factors can each overflow while their product
    with the quadrature weight ``scale`` is finite (bump with tiny ``eps``: ``dK/dLambda ~
    Lambda/eps``, ``1/K <= 1/eps``, weight ``~ eps``); then the product is formed in logs.
    """
    if scale is not None and line_kt < 0:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            den = p2 + m2
            logv = np.log(np.abs(scale)) - line_kt * (np.log(den) - np.log(np.abs(k)))
            sign = np.sign(scale) * np.sign(k) ** (-line_kt)
            if line_d:
                logv = logv + line_d * np.log(np.abs(lam * dk / den))
                sign = sign * np.sign(dk) ** line_d
            if np.any(np.isfinite(logv) & (logv > 709.0)):
                _overflow(None)
            out = sign * np.exp(logv)
        # K underflowed to 0 (or D vanishes): the D factor vanishes faster (checked upstream)
        return np.where(np.isfinite(out), out, 0.0)
    if scale is not None:
        return scale * line_values(line_kt, line_d, p2, k, dk, lam, m2)
    den = p2 + m2
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        kt = k / den
        out = np.ones(np.broadcast(p2, k).shape)
        if line_kt:
            out = out * kt**line_kt
        if line_d:
            out = out * (lam * dk / den) ** line_d
    if line_kt < 0:
        # where K underflowed to 0 the D factor vanishes faster (checked finiteness upstream)
        out = np.where(np.isfinite(out), out, 0.0)
    return out


def _overflow(out):
    from ..errors import ConvergenceError

    raise ConvergenceError(
        "a 1-loop integrand exceeds the double-precision range even after the "
        "quadrature weight is folded in; move the cutoff parameters (eps, Lambda) "
        "towards moderate values"
    )


def loop_integral(
    kt: int,
    dpow: int,
    cutoff: Cutoff,
    dim: int,
    mass: np.ndarray,
    Lambda: np.ndarray,
    rtol: float,
    outer: bool | None = None,
) -> tuple:
    """``int d^dp Kt^kt D^dpow`` (outer) or ``int_q Kt^kt`` for flat arrays ``mass``, ``Lambda``.

    Returns
    -------
    (estimate, error, converged, n_eval) : arrays of shape ``(B,)`` and an int
    """
    lam = np.atleast_1d(np.asarray(Lambda, float))
    m2 = np.atleast_1d(np.asarray(mass, float)) ** 2
    outer = dpow >= 1 if outer is None else outer
    for L in sorted({float(lam.min()), float(lam.max())}):
        cutoff.raise_if_divergent(kt, dpow, dim, L)
    pref = 0.5 * sphere_area(dim) * (1.0 if outer else (2.0 * math.pi) ** (-dim))
    B = lam.size
    est = np.zeros(B)
    err = np.zeros(B)
    conv = np.ones(B, bool)
    n_eval = 0
    pieces = cutoff.pieces(lam)
    # absolute tolerance per piece: share of the total; first pass gives the scale
    for piece in pieces:
        if dpow >= 1 and piece.dk_zero:
            continue

        def f(t, piece=piece):
            p2, jac, k, dk, dk_err = piece.evaluate(t)
            w = pref * p2 ** ((dim - 2) / 2.0) * jac
            v = line_values(kt, dpow, p2, k, dk, lam[:, None], m2[:, None], scale=w)
            if dk_err is not None and dpow >= 1:
                # propagate the numerical-derivative error: |d F/d dK| * dK_err
                g = (
                    w
                    * np.abs(line_values(kt, dpow - 1, p2, k, dk, lam[:, None], m2[:, None]))
                    * dpow
                    * lam[:, None]
                    * dk_err
                    / (p2 + m2[:, None])
                )
                return np.concatenate([v, g], axis=0)
            return v

        init = 8 if piece.kind in ("ir", "inf") else 4
        if piece.kind == "ir" and np.any(np.sqrt(m2) < 0.5 * lam * 1.0):
            # grade towards p = 0 for light masses (poles at p = +-i m)
            r = float(np.min(np.sqrt(m2) / np.maximum(piece.q_hi, 1e-300)))
            edges = sorted({0.0, 1.0} | {min(1.0, r * 2.0**j) for j in range(-3, 40) if r * 2.0**j < 1})
            res = adaptive_batch(f, _rows(piece, f), rtol * 0.2, edges=np.array(edges))
        elif getattr(piece, "edges", ()):
            edges = np.array(sorted({0.0, 1.0} | set(np.linspace(0, 1, init + 1).tolist()) | set(piece.edges)))
            res = adaptive_batch(f, _rows(piece, f), rtol * 0.2, edges=edges)
        else:
            res = adaptive_batch(f, _rows(piece, f), rtol * 0.2, init=init)
        n_eval += res.n_eval
        e = res.estimate[:B]
        est += e
        er = res.error[:B]
        if res.estimate.size > B:  # derivative-error rows
            er = er + np.abs(res.estimate[B:])
        err += er
        conv &= res.converged[:B]
    tol = rtol * np.abs(est)
    conv &= err <= np.maximum(tol, 1e-300)
    return est, err, conv, n_eval


def _rows(piece, f):
    out = f(np.array([0.5]))
    return out.shape[0]
