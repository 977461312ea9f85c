"""Smooth cutoffs (exponential, Fermi (B2)) and user-supplied callables (docs/numeric.md).

For all of these ``dK/dLambda`` has no compact support and ``f0 = int d^dp Lambda dlogK/dLambda``
diverges: condition (B3)4 fails.  ergsym raises :class:`~ergsym.errors.DivergentIntegralError`
for such integrals instead of returning a finite-looking number.  Loop integrals that decay
(``T = int_q Kt``, ``t1``, ``u1``, the sunset, ...) are finite and evaluated normally.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy.special import expit

from ..errors import InputError
from .base import Cutoff, Piece, numerical_dlogk_decay

__all__ = ["ExponentialCutoff", "FermiCutoff", "CustomCutoff", "generic_pieces"]

#: smooth cutoffs are truncated where their exponent reaches this value (e^-60 ~ 9e-27)
SMOOTH_CUT = 60.0


def generic_pieces(cutoff: Cutoff, lam: np.ndarray, rel_points: list[float], p2max_rel: float | None = None) -> list:
    """Pieces between ``Lambda^2 * rel_points`` (linear in ``p^2``), first one ``"ir"``.

    ``p2max_rel``: truncation ``p^2 = Lambda^2 p2max_rel`` (the last piece is ``"seg"``);
    ``None``: the last piece runs to infinity with ``p^2 = b + Lambda^2 t/(1-t)``.
    """
    lam = np.atleast_1d(np.asarray(lam, float))
    L2 = lam * lam
    col = lambda a: a[:, None]  # noqa: E731
    pts = sorted({float(r) for r in rel_points if r > 0})
    if p2max_rel is not None:
        pts = [r for r in pts if r < p2max_rel] + [float(p2max_rel)]
    zeros = np.zeros_like(lam)
    out = []
    first = pts[0] if pts else None

    def kfun(p2):
        lamb = np.broadcast_to(col(lam), p2.shape)
        return cutoff._K(p2, lamb), cutoff._dK(p2, lamb)

    if first is not None:

        def ir(t, b=first):
            p2 = col(L2 * b) * t**2
            k, dk = kfun(p2)
            return p2, 2.0 * col(L2 * b) * t * np.ones_like(p2), k, dk

        out.append(Piece("ir", ir, False, zeros, lam * math.sqrt(first), zeros))
    for a, b in zip(pts[:-1], pts[1:]):

        def seg(t, a=a, b=b):
            p2 = col(L2 * a) + col(L2 * (b - a)) * t
            k, dk = kfun(p2)
            return p2, np.broadcast_to(col(L2 * (b - a)), p2.shape).copy(), k, dk

        out.append(Piece("seg", seg, False, lam * math.sqrt(a), lam * math.sqrt(b), zeros))
    if p2max_rel is None:
        last = pts[-1] if pts else 0.0

        def inf(t, a=last):
            tt = np.broadcast_to(t, (lam.size, t.size))
            p2 = col(L2 * a) + col(L2) * tt / (1.0 - tt)
            k, dk = kfun(p2)
            return p2, col(L2) / (1.0 - tt) ** 2, k, dk

        out.append(Piece("inf", inf, False, lam * math.sqrt(last), np.full_like(lam, np.inf), zeros))
    return out


class ExponentialCutoff(Cutoff):
    """``K = exp(-(p^2/Lambda^2)^n)`` (docs/numeric.md); ``f0`` diverges ((B3)4 fails).

    Parameters
    ----------
    n : int
        Positive integer power, 1..20 (``n = 1`` is the Gaussian cutoff).
    """

    kind = "exp"

    def __init__(self, n: int = 1):
        try:
            nv = float(n)
        except (TypeError, ValueError):
            raise InputError.bad("n", n, "an integer from 1 to 20") from None
        if not nv.is_integer() or not 1 <= nv <= 20:
            raise InputError.bad("n", n, "an integer from 1 to 20")
        self.n = int(nv)

    @property
    def spec(self) -> str:
        return f"exp:n={self.n}"

    def _K(self, p2, lam):
        return np.exp(-((p2 / lam**2) ** self.n))

    def _dK(self, p2, lam):
        s = (p2 / lam**2) ** self.n
        out = np.zeros(s.shape)
        ok = s < 1e3  # beyond, s e^-s underflows to 0 (and s may be inf)
        out[ok] = np.exp(-s[ok]) * 2.0 * self.n * s[ok] / lam[ok]
        return out

    def breakpoints(self, Lambda: float) -> tuple:
        self.validate_Lambda(Lambda)
        return ()

    def pieces(self, Lambda: np.ndarray) -> list:
        lam = np.atleast_1d(self.validate_Lambda(Lambda))
        top = SMOOTH_CUT ** (1.0 / self.n)
        rel = [r for r in (0.25, 0.5, 1.0, 2.0, 4.0, 8.0) if r < top]
        ps = generic_pieces(self, lam, rel, top)
        for p in ps[-1:]:
            p.trunc = np.full_like(lam, math.exp(-SMOOTH_CUT))
        return ps

    def loop_finite(self, kt: int, dpow: int) -> tuple[bool, str] | None:
        if kt + dpow >= 1:
            return True, ""
        if dpow == 0:
            return False, f"Kt^{kt} does not decay at large p"
        return False, (
            f"Lambda dlogK/dLambda = 2n (p^2/Lambda^2)^n / Lambda grows without bound "
            f"(n={self.n}), so Kt^{kt} D^{dpow} ~ (p^2/Lambda^2)^{self.n * dpow} Kt^{kt + dpow} does not decay"
        )

    def _b3_4(self, Lambda, dim):
        return False, (
            f"Lambda dlogK/dLambda = 2n (p^2/Lambda^2)^n grows like p^{2 * self.n}: int d^dp of it diverges (analytic)"
        )


class FermiCutoff(Cutoff):
    """Fermi form (B2): ``K = (1 + e^-a)/(1 + exp(a (p^2/Lambda^2 - 1)))``; ``f0`` diverges.

    Parameters
    ----------
    a : float
        Steepness, ``0 < a <= 1e4`` (the paper: usually ``a >> 1``).
    """

    kind = "fermi"

    def __init__(self, a: float = 10.0):
        try:
            av = float(a)
        except (TypeError, ValueError):
            raise InputError.bad("a", a, "a real number in (0, 1e4]") from None
        if not math.isfinite(av) or not 0 < av <= 1e4:
            raise InputError.bad("a", a, "a real number in (0, 1e4]")
        self.a = av

    @property
    def spec(self) -> str:
        return f"fermi:a={self.a!r}"

    def _K(self, p2, lam):
        z = self.a * (p2 / lam**2 - 1.0)
        return (1.0 + math.exp(-self.a)) * expit(-z)

    def _dK(self, p2, lam):
        s = p2 / lam**2
        out = np.zeros(s.shape)
        ok = np.isfinite(s)
        z = self.a * (s[ok] - 1.0)
        # e^z/(1+e^z)^2 = expit(z) expit(-z), stable for any finite z
        out[ok] = (1.0 + math.exp(-self.a)) * self.a * expit(z) * expit(-z) * 2.0 * s[ok] / lam[ok]
        return out

    def breakpoints(self, Lambda: float) -> tuple:
        self.validate_Lambda(Lambda)
        return ()

    def pieces(self, Lambda: np.ndarray) -> list:
        lam = np.atleast_1d(self.validate_Lambda(Lambda))
        a = self.a
        top = 1.0 + SMOOTH_CUT / a + 20.0 / a  # polynomial prefactors: a little margin
        rel = {0.5, 1.0, 2.0}
        for c in (1.0, 3.0, 10.0, 30.0):
            rel.add(1.0 + c / a)
            if 1.0 - c / a > 0:
                rel.add(1.0 - c / a)
        rel = [r for r in rel if r < top]
        ps = generic_pieces(self, lam, rel, top)
        ps[-1].trunc = np.full_like(lam, math.exp(-SMOOTH_CUT - 20.0) * 2.0)
        return ps

    def loop_finite(self, kt: int, dpow: int) -> tuple[bool, str] | None:
        if kt + dpow >= 1:
            return True, ""
        if dpow == 0:
            return False, f"Kt^{kt} does not decay at large p"
        return False, (
            "for (B2) Lambda dlogK/dLambda -> 2a p^2/Lambda^2 at large p (Cotler & Rezchikov, PRD 108, 025003, "
            "Appendix B), so the integrand does not decay"
        )

    def _b3_4(self, Lambda, dim):
        return False, (
            "for (B2) Lambda dlogK/dLambda ~ 2a p^2/Lambda^2 at large p, which exceeds "
            "1/|p|^d: int d^dp diverges (analytic; Cotler & Rezchikov, PRD 108, 025003, below (B2))"
        )


class CustomCutoff(Cutoff):
    """A user-supplied cutoff ``K(p2, Lambda)`` (docs/numeric.md).

    Parameters
    ----------
    K : callable
        ``K(p2, Lambda) -> array``; vectorized over numpy arrays (broadcasting).
    dK_dLambda : callable, optional
        Analytic ``dK/dLambda``.  If omitted, a 4th-order central difference with a
        Richardson error estimate is used (``dK_dLambda_error`` reports it, and the 1-loop
        integrals add its effect to their error).
    breakpoints : callable or sequence, optional
        ``breakpoints(Lambda) -> p2 values`` where ``K`` is not smooth, or a fixed sequence
        of multiples of ``Lambda^2``.  Default none.
    name : str
        Label used in ``spec``.
    decay : float or callable, optional
        Where ``K`` has decayed: ``K(p^2) <= 1e-26`` (and ``(p^2/Lambda^2)^3 K <= 1e-20``) for
        all ``p^2`` beyond ``decay * Lambda^2`` (a number) or beyond ``decay(Lambda)`` (a
        callable returning ``p^2``).  The multi-loop methods (melons, ``Sun(p)``, rings)
        truncate the momentum integrals there.  Default: inferred by probing ``K`` at
        ``p^2 = Lambda^2 2^(j/4)``; a cutoff that decays too slowly to be inferred raises
        :class:`~ergsym.errors.InputError` asking for ``decay``.  (1-loop integrals integrate
        to infinity and need no decay scale.)
    """

    kind = "custom"
    #: |K| below this is negligible for the multi-loop methods (cf. exp: e^-60 ~ 9e-27)
    DECAY_K = 1e-26
    #: and (p^2/Lambda^2)^3 |K| below this (the d <= 6 radial weight of the tail)
    DECAY_WEIGHT = 1e-20

    def __init__(
        self,
        K: Callable,
        dK_dLambda: Callable | None = None,
        breakpoints: Callable | Sequence[float] | None = None,
        name: str = "custom",
        decay: float | Callable | None = None,
    ) -> None:
        if decay is not None and not callable(decay):
            try:
                dv = float(decay)
            except (TypeError, ValueError):
                raise InputError.bad(
                    "decay", decay, "a number > 1 (p^2/Lambda^2), a callable decay(Lambda) -> p^2, or None (inferred)"
                ) from None
            if not math.isfinite(dv) or not 1 < dv <= 1e100:
                raise InputError.bad(
                    "decay", decay, "a number in (1, 1e100] (p^2/Lambda^2 beyond which K is negligible)"
                )
            decay = dv
        self._decay = decay
        if not callable(K):
            raise InputError.bad("K", K, "a callable K(p2, Lambda)")
        if dK_dLambda is not None and not callable(dK_dLambda):
            raise InputError.bad("dK_dLambda", dK_dLambda, "a callable or None")
        self._Kf = K
        self._dKf = dK_dLambda
        self._bp = breakpoints
        self._name = str(name)
        self.numerical_derivative = dK_dLambda is None

    @property
    def spec(self) -> str:
        return f"custom:{self._name}"

    def _call(self, f, p2, lam):
        with np.errstate(all="ignore"):
            v = np.asarray(f(p2, lam), dtype=float)
        v = np.broadcast_to(v, np.broadcast(p2, lam).shape)
        if np.any(np.isnan(v)):
            raise InputError.bad("K", self._name, "a callable returning finite numbers", "it returned NaN")
        return np.array(v)

    def _K(self, p2, lam):
        return self._call(self._Kf, p2, lam)

    def _numdiff(self, p2, lam):
        h = 1e-3 * lam
        f = lambda s: self._call(self._Kf, p2, lam + s)  # noqa: E731
        d1 = (f(h) - f(-h)) / (2 * h)
        d2 = (f(h / 2) - f(-h / 2)) / h
        d = d2 + (d2 - d1) / 3.0
        err = np.abs(d2 - d1) / 3.0 + 1e-15 * np.abs(self._call(self._Kf, p2, lam)) / h
        return d, err

    def _dK(self, p2, lam):
        if self._dKf is not None:
            return self._call(self._dKf, p2, lam)
        return self._numdiff(p2, lam)[0]

    def dK_dLambda_error(self, p2: float | np.ndarray, Lambda: float | np.ndarray) -> np.ndarray:
        """Error estimate of the numerical derivative (zeros if it is analytic)."""
        p2, lam = self._prepare(p2, Lambda)
        if self._dKf is not None:
            return np.zeros(p2.shape)
        return self._numdiff(p2, lam)[1]

    def breakpoints(self, Lambda: float) -> tuple:
        lam = float(self.validate_Lambda(Lambda))
        if self._bp is None:
            return ()
        if callable(self._bp):
            pts = self._bp(lam)
        else:
            pts = [float(r) * lam * lam for r in self._bp]
        pts = sorted(float(p) for p in pts)
        if any(not math.isfinite(p) or p < 0 for p in pts):
            raise InputError.bad("breakpoints", pts, "finite p^2 values >= 0")
        return tuple(pts)

    def pieces(self, Lambda: np.ndarray) -> list:
        lam = np.atleast_1d(self.validate_Lambda(Lambda))
        rels = None
        for L in lam:
            r = tuple(round(b / (L * L), 14) for b in self.breakpoints(L))
            if rels is not None and r != rels:
                break
            rels = r
        else:
            rel = sorted(set(rels or ()) | {1.0})
            ps = generic_pieces(self, lam, rel, None)
            if self.numerical_derivative:
                for p in ps:
                    p.func = _with_err(p.func, self, lam)
            return ps
        raise InputError.bad(
            "Lambda",
            lam,
            "an array over which the custom breakpoints scale like Lambda^2",
            "evaluate one Lambda at a time",
        )

    def _b3_4(self, Lambda, dim):
        return numerical_dlogk_decay(self, Lambda, dim)

    def decay_p2(self, Lambda: float) -> float:
        """``p^2`` beyond which ``K`` is negligible at ``Lambda`` (see ``decay``)."""
        lam = float(self.validate_Lambda(Lambda))
        L2 = lam * lam
        if callable(self._decay):
            try:
                v = float(self._decay(lam))
            except (TypeError, ValueError):
                raise InputError.bad("decay", self._decay, "a callable decay(Lambda) returning a number") from None
            if not math.isfinite(v) or v <= L2:
                raise InputError.bad("decay(Lambda)", v, f"a finite p^2 > Lambda^2 = {L2:g}")
            self._check_decayed(v, lam, "the given decay")
            return v
        if self._decay is not None:
            v = self._decay * L2
            self._check_decayed(v, lam, "the given decay")
            return v
        j = np.arange(0, 4 * 300)
        P = L2 * 2.0 ** (j / 4.0)
        P = P[(P < 1e290) & (P / L2 < 1e90)]
        k = np.abs(self.K(P, lam))
        with np.errstate(all="ignore"):
            ok = (k <= self.DECAY_K) & ((P / L2) ** 3 * k <= self.DECAY_WEIGHT)
        # first index from which every probe is negligible
        bad = np.nonzero(~ok)[0]
        first = 0 if bad.size == 0 else int(bad[-1]) + 1
        if first >= P.size - 8:
            raise InputError.bad(
                "decay",
                None,
                "given for this cutoff",
                f"K(p2, Lambda={lam:g}) of {self.spec!r} does not fall below {self.DECAY_K:g} "
                f"(with p^6 K below {self.DECAY_WEIGHT:g}) by p2={P[-1]:.3g}, so ergsym cannot "
                "truncate the multi-loop momentum integrals; pass decay=X (K negligible beyond "
                "p2 = X Lambda^2) if K does decay, otherwise these integrals need a faster "
                "decaying cutoff",
            )
        return float(P[max(first, 1)])

    def _check_decayed(self, p2max, lam, what):
        P = p2max * 2.0 ** np.arange(0, 40)
        P = P[(P < 1e290) & (P / lam**2 < 1e90)]
        k = np.abs(self.K(P, lam))
        with np.errstate(all="ignore"):
            heavy = (P / lam**2) ** 3 * k > self.DECAY_WEIGHT
        if np.any(k > self.DECAY_K) or np.any(heavy):
            raise InputError.bad(
                "decay",
                self._decay,
                f"a scale beyond which K <= {self.DECAY_K:g}",
                f"{what} puts the truncation at p2={p2max:.4g}, but K there and beyond reaches "
                f"{float(np.max(k)):.3g}; pass a larger decay",
            )

    def melon_pieces(self, Lambda: np.ndarray) -> list:
        lam = np.atleast_1d(self.validate_Lambda(Lambda))
        if lam.size != 1:
            raise InputError.bad("Lambda", lam, "a single value for the multi-loop methods of a custom cutoff")
        L = float(lam[0])
        top = self.decay_p2(L) / (L * L)
        rel = sorted({round(b / (L * L), 14) for b in self.breakpoints(L)} | {1.0})
        rel = [r for r in rel if 0 < r < top]
        # extra panel points on a long range (geometric in p^2): keeps the linear pieces short
        r = 2.0
        extra = []
        while r < top:
            extra.append(r)
            r *= 2.0
        ps = generic_pieces(self, lam, sorted(set(rel) | set(extra)), top)
        ps[-1].trunc = np.full_like(lam, self.DECAY_K)
        for p in ps:
            if p.kind == "seg":
                p.kind = "cseg"  # unknown shape: the quadratures grade panels towards both ends
        if self.numerical_derivative:
            for p in ps:
                p.func = _with_err(p.func, self, lam)
        return ps


def _with_err(func, cutoff, lam):
    def f(t):
        p2, jac, k, dk = func(t)
        lamb = np.broadcast_to(lam[:, None], p2.shape)
        return p2, jac, k, dk, cutoff._numdiff(p2, lamb)[1]

    return f
