"""The compact-support bump cutoff of Appendix B of Cotler & Rezchikov, PRD 108, 025003, (B4)+(B6) (docs/numeric.md).

For ``0 < Lambda <= lambda_max``

.. math::

    K_\\Lambda(p^2) = \\begin{cases}
      1 & p^2 \\le \\Lambda^2 \\\\
      (1-\\varepsilon) B(x) + \\varepsilon, \\; x = (p^2-\\Lambda^2)/\\varepsilon
        & \\Lambda^2 \\le p^2 \\le \\Lambda^2 + \\varepsilon \\\\
      \\varepsilon & \\Lambda^2+\\varepsilon \\le p^2 \\le \\Lambda_{max}^2 + \\varepsilon \\\\
      \\varepsilon\\, e^{-(p^2 - \\Lambda_{max}^2 - \\varepsilon)/\\mu^2} & \\text{beyond}
    \\end{cases}

with ``B(x) = exp(1 - 1/(1-x^2))`` (B4) and tail scale ``mu^2`` (``tail_scale``, default 1
as printed in (B5)/(B6)).  ``dK/dLambda = (1-eps) B'(x) (-2 Lambda/eps)`` lives on the bump
``[Lambda^2, Lambda^2+eps]`` only, so ``f0`` is finite.  ``Lambda > lambda_max`` would need
(B7), which is *not* monotone in ``Lambda`` (docs/numeric.md): it is refused.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from .base import LAMBDA_RANGE, Cutoff, Piece, validate_Lambda

__all__ = ["BumpCutoff", "bump_B", "bump_dB", "TAIL_CUT"]

#: The bump tail ``eps exp(-s/mu^2)`` is truncated at ``s = TAIL_CUT * mu^2`` (e^-50 ~ 2e-22).
TAIL_CUT = 50.0


def bump_B(x: float | np.ndarray, one_minus_x: float | np.ndarray | None = None) -> float | np.ndarray:
    """``B(x) = exp(1 - 1/(1-x^2))`` on ``0 <= x <= 1`` (B4), 0 at ``x = 1``.

    ``1 - x^2`` is formed as ``(1-x)(1+x)`` (from ``one_minus_x`` if given), which keeps
    full relative precision near ``x = 1`` where ``B`` underflows.
    """
    x = np.asarray(x, dtype=float)
    omx = (1.0 - x) if one_minus_x is None else np.asarray(one_minus_x, dtype=float)
    w = omx * (1.0 + x)
    out = np.zeros(np.broadcast(x, omx).shape)
    ok = w > 1e-3  # below, B < exp(-998) underflows to 0 anyway
    wv = np.broadcast_to(w, out.shape)[ok]
    out[ok] = np.exp(1.0 - 1.0 / wv)
    return out


def bump_dB(x: float | np.ndarray, one_minus_x: float | np.ndarray | None = None) -> float | np.ndarray:
    """``B'(x) = -2x/(1-x^2)^2 B(x)`` on ``0 <= x <= 1``."""
    x = np.asarray(x, dtype=float)
    omx = (1.0 - x) if one_minus_x is None else np.asarray(one_minus_x, dtype=float)
    w = omx * (1.0 + x)
    shape = np.broadcast(x, omx).shape
    out = np.zeros(shape)
    ok = np.broadcast_to(w > 1e-3, shape)
    wv = np.broadcast_to(w, shape)[ok]
    xv = np.broadcast_to(x, shape)[ok]
    out[ok] = -2.0 * xv * np.exp(1.0 - 1.0 / wv - 2.0 * np.log(wv))
    return out


class BumpCutoff(Cutoff):
    """Appendix-B bump cutoff (B4)+(B6) for ``Lambda <= lambda_max`` (docs/numeric.md).

    Parameters
    ----------
    eps : float
        Width of the bump in ``p^2`` and height of the plateau, ``0 < eps < 1``.
    lambda_max : float
        The auxiliary scale ``Lambda_max > 0``; every ``Lambda`` used must be ``<= lambda_max``.
    tail_scale : float, optional
        ``mu^2`` of the tail ``eps exp(-(p^2 - lambda_max^2 - eps)/mu^2)``; default 1 (B5).

    Raises
    ------
    InputError
        Parameter outside its range.

    Examples
    --------
    >>> c = BumpCutoff(0.5, 2.0)
    >>> float(c.K(0.5, 1.0)), float(c.K(3.0, 1.0))
    (1.0, 0.5)
    """

    kind = "bump"
    compact_dk = True

    def __init__(self, eps: float, lambda_max: float, tail_scale: float = 1.0):
        self.eps = _num("eps", eps, "a real number in (0, 1)", lambda v: 0 < v < 1)
        lo, hi = LAMBDA_RANGE
        self.lambda_max = _num("lambda_max", lambda_max, f"in [{lo:g}, {hi:g}]", lambda v: lo <= v <= hi)
        self.tail_scale = _num("tail_scale", tail_scale, f"in [{lo:g}, {hi:g}]", lambda v: lo <= v <= hi)

    @property
    def spec(self) -> str:
        s = f"bump:eps={self.eps!r},lambda_max={self.lambda_max!r}"
        if self.tail_scale != 1.0:
            s += f",tail_scale={self.tail_scale!r}"
        return s

    @property
    def kink(self) -> float:
        """``lambda_max^2 + eps``: where the plateau meets the exponential tail."""
        return self.lambda_max**2 + self.eps

    def validate_Lambda(self, Lambda: float | np.ndarray) -> np.ndarray:
        return validate_Lambda(
            Lambda,
            upper=self.lambda_max,
            upper_reason=(
                "for Lambda > lambda_max the paper's continuation (B7) is not monotone in "
                "Lambda (K decreases with Lambda for p^2 just above Lambda^2+eps e^(lambda_max^2"
                "-Lambda^2)), so D = Lambda dKt/dLambda would be negative; raise lambda_max"
            ),
        )

    # -- pointwise -----------------------------------------------------------------------
    def _K(self, p2, lam):
        e = self.eps
        out = np.empty(p2.shape)
        L2 = lam * lam
        r1 = p2 <= L2
        r2 = (p2 > L2) & (p2 < L2 + e)
        r3 = (p2 >= L2 + e) & (p2 <= self.kink)
        r4 = p2 > self.kink
        out[r1] = 1.0
        x = (p2[r2] - L2[r2]) / e
        out[r2] = (1.0 - e) * bump_B(x) + e
        out[r3] = e
        out[r4] = e * np.exp(-(p2[r4] - self.kink) / self.tail_scale)
        return out

    def _dK(self, p2, lam):
        e = self.eps
        out = np.zeros(p2.shape)
        L2 = lam * lam
        r2 = (p2 > L2) & (p2 < L2 + e)
        x = (p2[r2] - L2[r2]) / e
        out[r2] = (1.0 - e) * bump_dB(x) * (-2.0 * lam[r2] / e)
        return out

    def bump_local(
        self, x: float | np.ndarray, Lambda: float | np.ndarray, one_minus_x: float | np.ndarray | None = None
    ) -> tuple:
        """``(K, dK/dLambda)`` on the bump, in its local variable ``x in [0, 1]``.

        ``p^2 = Lambda^2 + eps x``.  Integrals use this instead of ``K(p2, ...)`` so that
        ``x`` is never rebuilt from ``p^2`` (docs/numeric.md).
        """
        x = np.asarray(x, dtype=float)
        lam = np.asarray(Lambda, dtype=float)
        e = self.eps
        k = (1.0 - e) * bump_B(x, one_minus_x) + e
        dk = (1.0 - e) * bump_dB(x, one_minus_x) * (-2.0 * lam / e)
        return k, dk

    def _bump_edges(self) -> tuple:
        """Local-variable panel edges around ``x*``, where ``(1-eps) B(x*) = eps``.

        There ``dlogK/dLambda ~ B'/(B + eps/(1-eps))`` (the integrand of ``f0``) has a peak of
        height ``~ ln(1/eps)^2`` and width ``~ ln(1/eps)^-2`` in ``x``: for small ``eps`` an
        adaptive rule started on a few equal panels can miss it (seen: eps = 1e-300).
        """
        L = math.log((1.0 - self.eps) / self.eps) if self.eps < 0.5 else 0.0
        if L < 2.0:
            return ()
        pts = set()
        for f in (0.5, 0.7, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2, 1.4, 2.0):
            w = 1.0 / (1.0 + f * L)  # B = e^{1 - 1/w} = e^{-f L}
            pts.add(math.sqrt(1.0 - w))
        return tuple(sorted(p for p in pts if 0 < p < 1))

    def breakpoints(self, Lambda: float) -> tuple:
        lam = float(self.validate_Lambda(Lambda))
        L2 = lam * lam
        pts = [L2, L2 + self.eps, self.kink]
        out = []
        for p in pts:
            if not out or p > out[-1]:
                out.append(p)
        return tuple(out)

    def pieces(self, Lambda: float | np.ndarray) -> list:
        lam = np.atleast_1d(self.validate_Lambda(Lambda)).astype(float)
        e, mu2, kink = self.eps, self.tail_scale, self.kink
        L2 = lam * lam
        zeros = np.zeros_like(lam)
        col = lambda a: a[:, None]  # noqa: E731

        def ir(t):
            p2 = col(L2) * t**2
            ones = np.ones_like(p2)
            return p2, 2.0 * col(L2) * t * ones, ones, np.zeros_like(p2)

        def bump(t):
            x = np.broadcast_to(t, (lam.size, t.size))
            p2 = col(L2) + e * x
            k, dk = self.bump_local(x, col(lam))
            return p2, np.full_like(p2, e), k, dk

        out = [
            Piece("ir", ir, True, zeros, lam.copy(), zeros),
            Piece("bump", bump, False, lam.copy(), np.sqrt(L2 + e), zeros, edges=self._bump_edges()),
        ]
        lo = L2 + e
        if np.any(kink - lo > 1e-15 * kink):

            def plateau(t):
                p2 = col(lo) + col(kink - lo) * t
                return p2, np.broadcast_to(col(kink - lo), p2.shape).copy(), np.full_like(p2, e), np.zeros_like(p2)

            out.append(Piece("plateau", plateau, True, np.sqrt(lo), np.full_like(lam, math.sqrt(kink)), zeros))
        smax = TAIL_CUT * mu2

        def tail(t):
            s = smax * np.broadcast_to(t, (lam.size, t.size))
            p2 = kink + s
            return p2, np.full_like(p2, smax), e * np.exp(-s / mu2), np.zeros_like(p2)

        out.append(
            Piece(
                "tail",
                tail,
                True,
                np.full_like(lam, math.sqrt(kink)),
                np.full_like(lam, math.sqrt(kink + smax)),
                np.full_like(lam, e * math.exp(-TAIL_CUT)),
            )
        )
        return out

    def loop_finite(self, kt: int, dpow: int) -> tuple[bool, str] | None:
        if dpow >= 1:
            return True, ""
        if kt >= 1:
            return True, ""
        return False, f"Kt^{kt} does not decay at large p (the bump tail gives 1/Kt ~ e^(p^2/mu^2))"

    def _b3_4(self, Lambda, dim):
        return True, (
            "dK/dLambda is supported on [Lambda^2, Lambda^2+eps] and K >= eps there, so "
            "dlogK/dLambda is bounded with compact support (Appendix B)"
        )

    # -- the refused continuation, kept for the test that shows why -----------------------
    def _K_b7(self, p2, Lambda):
        """(B7) as printed, for ``Lambda > lambda_max`` (tail scale 1).  Private: it exists so a
        test can show that it is not monotone in ``Lambda``; public methods refuse it."""
        p2 = np.asarray(p2, float)
        lam = float(Lambda)
        e, lm2 = self.eps, self.lambda_max**2
        L2 = lam * lam
        delta = e * math.exp(-L2 + lm2)
        out = e * np.exp(-(p2 - (lm2 + e)))
        out = np.where(p2 <= L2, 1.0, out)
        mid = (p2 > L2) & (p2 < L2 + e)
        x = (p2[mid] - L2) / delta
        b = np.zeros_like(x)
        inside = x < 1
        b[inside] = bump_B(x[inside])
        out[mid] = (1 - delta) * b + delta
        return out


def _num(name, value, allowed, ok):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError.bad(name, value, allowed) from None
    if not math.isfinite(v) or not ok(v):
        raise InputError.bad(name, value, allowed)
    return v
