"""Cutoff functions: the common interface (docs/numeric.md, Appendix B of Cotler & Rezchikov, PRD 108, 025003).

A cutoff is a function ``K_Lambda(p^2)`` with ``K -> 1`` for ``p^2 << Lambda^2`` and fast
decay above.  Every cutoff reports

* ``K(p2, Lambda)`` and the analytic ``dK_dLambda(p2, Lambda)`` (vectorized, broadcasting);
* ``breakpoints(Lambda)``: the values of ``p^2`` where ``K`` is not smooth (quadrature never
  puts a node on them);
* ``pieces(Lambda)``: the smooth pieces of the ``p^2`` half line, each with its own map from
  a reference variable ``t in [0, 1]``; the bump piece of :class:`~ergsym.cutoffs.BumpCutoff`
  is parametrized by its local variable ``x = (p^2 - Lambda^2)/eps``, so integrals never
  rebuild ``x`` from ``p^2`` (docs/numeric.md);
* ``check_b3(Lambda, dim)``: a numerical check of conditions (B3)1-4 of Appendix B.

This module imports numpy only (no sympy, no click).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import DivergentIntegralError, InputError

__all__ = ["Cutoff", "Piece", "B3Condition", "B3Report", "validate_Lambda", "LAMBDA_RANGE"]

#: accepted cutoff scales (and bump ``lambda_max``, ``tail_scale``): squares stay finite
LAMBDA_RANGE = (1e-100, 1e100)


def validate_Lambda(
    Lambda: float | np.ndarray, *, name: str = "Lambda", upper: float | None = None, upper_reason: str = ""
) -> np.ndarray:
    """Return ``Lambda`` as a float array, or raise :class:`InputError`.

    ``Lambda`` must lie in :data:`LAMBDA_RANGE` (its square and the momenta built from it stay
    finite in double precision), and ``<= upper`` when ``upper`` is given.
    """
    try:
        arr = np.asarray(Lambda, dtype=float)
    except (TypeError, ValueError):
        raise InputError.bad(name, Lambda, "a positive real number or array of them") from None
    if arr.size == 0:
        raise InputError.bad(name, Lambda, "a non-empty number or array")
    bad = ~np.isfinite(arr) | (arr <= 0)
    if np.any(bad):
        v = arr[bad].flat[0] if arr.ndim else float(arr)
        raise InputError.bad(name, float(v), "finite and > 0")
    lo, hi = LAMBDA_RANGE
    out = (arr < lo) | (arr > hi)
    if np.any(out):
        v = arr[out].flat[0] if arr.ndim else float(arr)
        raise InputError.bad(
            name,
            float(v),
            f"in [{lo:g}, {hi:g}]",
            "rescale: every integral is homogeneous in (mass, Lambda), see docs/numeric.md",
        )
    if upper is not None and np.any(arr > upper):
        v = float(arr[arr > upper].flat[0]) if arr.ndim else float(arr)
        raise InputError.bad(name, v, f"<= lambda_max = {upper!r}", upper_reason)
    return arr


@dataclass
class Piece:
    """One smooth piece of the ``p^2`` half line, for a batch of ``Lambda`` values.

    ``evaluate(t)`` maps reference nodes ``t in (0, 1)`` (shape ``(N,)``) to arrays of shape
    ``(B, N)``: ``p2``, the Jacobian ``dp2/dt``, ``K`` and ``dK/dLambda`` (and, for a custom
    cutoff with a numerical derivative, ``dK_err``).

    Attributes
    ----------
    kind : str
        ``"ir"`` (contains ``p^2 = 0``, mapped by ``p^2 = b t^2``), ``"bump"`` (local variable),
        ``"plateau"``, ``"tail"``, ``"seg"`` (linear in ``p^2``) or ``"inf"`` (``t/(1-t)``).
    dk_zero : bool
        True if ``dK/dLambda`` vanishes identically on the piece (e.g. bump plateau and tail).
    q_lo, q_hi : ndarray, shape (B,)
        Range of ``|p| = sqrt(p2)`` covered (``q_hi`` may be ``inf`` for ``"inf"``).
    trunc : ndarray, shape (B,)
        For a truncated infinite piece, ``sup K`` beyond the truncation (0 otherwise).
    edges : tuple of float
        Interior points of ``(0, 1)`` that quadratures use as panel edges (e.g. where the
        bump's ``B(x)`` falls below ``eps``: ``D/Kt`` has a narrow peak there for small eps).
    """

    kind: str
    func: object
    dk_zero: bool
    q_lo: np.ndarray
    q_hi: np.ndarray
    trunc: np.ndarray = field(default=None)
    #: suggested interior panel edges in the reference variable (features quadrature must see)
    edges: tuple = ()

    def evaluate(self, t: np.ndarray) -> tuple:
        """``(p2, jac, K, dK, dK_err)`` at reference nodes ``t``, each of shape ``(B, N)``."""
        out = self.func(np.asarray(t, dtype=float))
        if len(out) == 4:
            p2, jac, k, dk = out
            return p2, jac, k, dk, None
        return out


@dataclass(frozen=True)
class B3Condition:
    """Result of one condition of (B3): ``passed`` and a human-readable ``detail``."""

    number: int
    statement: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class B3Report:
    """Numerical check of conditions (B3)1-4 of Appendix B of Cotler & Rezchikov, PRD 108, 025003 at one ``Lambda``."""

    cutoff: str
    Lambda: float
    dim: int
    eps: float
    conditions: tuple

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.conditions)

    @property
    def failed(self) -> tuple:
        """Numbers of the conditions that fail, e.g. ``(1, 4)``."""
        return tuple(c.number for c in self.conditions if not c.passed)

    def to_dict(self) -> dict:
        return {
            "cutoff": self.cutoff,
            "Lambda": self.Lambda,
            "dim": self.dim,
            "eps": self.eps,
            "passed": self.passed,
            "failed": list(self.failed),
            "conditions": [
                {"number": c.number, "statement": c.statement, "passed": c.passed, "detail": c.detail}
                for c in self.conditions
            ],
        }

    def __str__(self) -> str:
        lines = [f"(B3) check for {self.cutoff} at Lambda={self.Lambda:g}, d={self.dim}, eps={self.eps:g}:"]
        for c in self.conditions:
            lines.append(f"  ({c.number}) {'PASS' if c.passed else 'FAIL'}  {c.statement}: {c.detail}")
        return "\n".join(lines)


_B3_STATEMENTS = {
    1: "K = 1 for p^2 <= Lambda^2",
    2: "K monotonically decreasing for p^2 >= Lambda^2",
    3: "K <= eps for p^2 >= Lambda^2 + eps",
    4: "int d^dp dlogK/dLambda < infinity (B1)",
}


class Cutoff:
    """Base class of cutoff functions ``K_Lambda(p^2)`` (docs/numeric.md).

    Subclasses implement ``_K``, ``_dK``, ``breakpoints``, ``pieces`` and ``spec``.
    The public methods validate and broadcast their inputs.
    """

    #: short family name used in specs, e.g. "bump"
    kind = "base"
    #: True if dK/dLambda has compact support in p^2 for every Lambda
    compact_dk = False

    # -- interface -------------------------------------------------------------------------
    @property
    def spec(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def name(self) -> str:
        return self.spec

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r})"

    def __eq__(self, other):
        return isinstance(other, Cutoff) and type(other) is type(self) and other.spec == self.spec

    def __hash__(self):
        return hash((type(self).__name__, self.spec))

    def validate_Lambda(self, Lambda: float | np.ndarray) -> np.ndarray:
        """Validate ``Lambda`` for this cutoff (finite, > 0; bump: ``<= lambda_max``)."""
        return validate_Lambda(Lambda)

    def K(self, p2: float | np.ndarray, Lambda: float | np.ndarray) -> float | np.ndarray:
        """Cutoff function ``K_Lambda(p^2)``; broadcasts ``p2`` against ``Lambda``.

        Parameters
        ----------
        p2 : array_like
            Momenta squared, ``>= 0``.
        Lambda : float or array_like
            Cutoff scale(s), validated by :meth:`validate_Lambda`.
        """
        p2, lam = self._prepare(p2, Lambda)
        with np.errstate(all="ignore"):  # legitimate under/overflow of exp far in the tail
            return self._checked(self._K(p2, lam), "K")

    def dK_dLambda(self, p2: float | np.ndarray, Lambda: float | np.ndarray) -> float | np.ndarray:
        """Analytic ``dK_Lambda(p^2)/dLambda`` (>= 0 for a monotone cutoff); broadcasts."""
        p2, lam = self._prepare(p2, Lambda)
        with np.errstate(all="ignore"):
            return self._checked(self._dK(p2, lam), "dK_dLambda")

    def Lambda_dK(self, p2: float | np.ndarray, Lambda: float | np.ndarray) -> float | np.ndarray:
        """``Lambda dK/dLambda`` (the numerator of ``D``)."""
        p2, lam = self._prepare(p2, Lambda)
        with np.errstate(all="ignore"):
            return self._checked(lam * self._dK(p2, lam), "Lambda_dK")

    def breakpoints(self, Lambda: float) -> tuple:  # pragma: no cover - abstract
        """Values of ``p^2`` where ``K`` (or a derivative) is not smooth, sorted."""
        raise NotImplementedError

    def pieces(self, Lambda: np.ndarray) -> list:  # pragma: no cover - abstract
        """Smooth pieces covering ``p^2 in [0, inf)`` for a 1-d batch of ``Lambda``."""
        raise NotImplementedError

    def melon_pieces(self, Lambda: np.ndarray) -> list:
        """Pieces used by the multi-loop (position- and momentum-space) methods: every piece
        has a finite upper momentum (default: :meth:`pieces`, already truncated for the
        built-in cutoffs; :class:`~ergsym.cutoffs.CustomCutoff` truncates where ``K`` has
        decayed, see its ``decay`` parameter)."""
        return self.pieces(Lambda)

    def loop_finite(self, kt: int, dpow: int) -> tuple[bool, str] | None:
        """Is ``int d^dp Kt^kt D^dpow`` finite?  ``(True, "")``, ``(False, reason)`` or ``None``.

        ``None`` means "not known analytically" (custom cutoffs: checked numerically).
        """
        return None

    # -- helpers ---------------------------------------------------------------------------
    def _checked(self, v, what):
        v = np.asarray(v, dtype=float)
        if np.any(np.isnan(v)):
            raise InputError(
                f"{what} of the cutoff {self.spec!r} is not a number at some of the "
                "requested momenta; check the cutoff's parameters and p2 (finite, >= 0)"
            )
        return v

    def _prepare(self, p2, Lambda):
        lam = self.validate_Lambda(Lambda)
        try:
            p2 = np.asarray(p2, dtype=float)
        except (TypeError, ValueError):
            raise InputError.bad("p2", p2, "real numbers >= 0") from None
        if np.any(~np.isfinite(p2) & ~np.isposinf(p2)) or np.any(p2 < 0):
            raise InputError.bad(
                "p2", p2[(p2 < 0) | np.isnan(p2)].flat[0] if p2.ndim else float(p2), "real numbers >= 0"
            )
        p2, lam = np.broadcast_arrays(p2, lam)
        return p2, lam

    # -- (B3) ------------------------------------------------------------------------------
    def check_b3(self, Lambda: float, dim: int, eps: float | None = None, n: int = 4001) -> B3Report:
        """Numerical check of conditions (B3)1-4 of Appendix B of Cotler & Rezchikov, PRD 108, 025003.

        Parameters
        ----------
        Lambda : float
        dim : int
            Dimension, for condition 4.
        eps : float, optional
            The ``eps`` of condition 3; default the cutoff's own ``eps`` (bump) or 0.1.
        n : int
            Number of sample points per region.

        Returns
        -------
        B3Report
            ``.passed``, ``.failed`` (condition numbers), per-condition details.

        Notes
        -----
        Conditions 1-3 are checked on a dense grid including the breakpoints; condition 4
        is decided analytically for the built-in cutoffs and, for custom ones, from the
        decay of ``p^d |Lambda dlogK/dLambda|`` at large ``p`` (see :meth:`_b3_4`).
        """
        from ..conventions import validate_dim

        dim = validate_dim(dim)
        lam = float(self.validate_Lambda(Lambda))
        e = float(eps if eps is not None else getattr(self, "eps", 0.1))
        if not 0 < e < 1:
            raise InputError.bad("eps", e, "in (0, 1)")
        L2 = lam * lam
        bps = [b for b in self.breakpoints(lam) if math.isfinite(b)]
        hi = max([L2 * 4.0, L2 + 4 * e] + [2 * b for b in bps])
        below = np.linspace(0.0, L2, n)
        above = np.unique(
            np.concatenate([np.linspace(L2, hi, n), np.asarray(bps, float), L2 + e * np.linspace(0, 1, n)])
        )
        above = above[above >= L2]
        k_below = self.K(below, lam)
        k_above = self.K(above, lam)
        conds = []
        dev = float(np.max(np.abs(k_below - 1.0)))
        conds.append(B3Condition(1, _B3_STATEMENTS[1], dev <= 1e-14, f"max |K-1| on [0, Lambda^2] = {dev:.3g}"))
        inc = np.diff(k_above)
        worst = float(np.max(inc)) if inc.size else 0.0
        ok2 = worst <= 1e-15 * max(1.0, float(np.max(k_above)))
        where = float(above[1:][np.argmax(inc)]) if inc.size else float("nan")
        conds.append(
            B3Condition(
                2,
                _B3_STATEMENTS[2],
                ok2,
                "K non-increasing on the sample grid" if ok2 else f"K increases by {worst:.3g} near p^2={where:.6g}",
            )
        )
        sel = above >= L2 + e
        kmax = float(np.max(k_above[sel])) if np.any(sel) else 0.0
        conds.append(
            B3Condition(
                3,
                _B3_STATEMENTS[3],
                kmax <= e * (1 + 1e-14),
                f"max K on [Lambda^2+eps, {hi:.4g}] = {kmax:.6g} (eps={e:g})",
            )
        )
        ok4, why4 = self._b3_4(lam, dim)
        conds.append(B3Condition(4, _B3_STATEMENTS[4], ok4, why4))
        return B3Report(self.spec, lam, dim, e, tuple(conds))

    def _b3_4(self, Lambda: float, dim: int):
        """Condition (B3)4; default: numerical decay test of ``p^d |Lambda dlogK/dLambda|``."""
        return numerical_dlogk_decay(self, Lambda, dim)

    def raise_if_divergent(self, kt: int, dpow: int, dim: int, Lambda: float, name: str = "") -> None:
        """Raise :class:`DivergentIntegralError` if ``int d^dp Kt^kt D^dpow`` diverges."""
        res = self.loop_finite(kt, dpow)
        if res is None:
            if dpow == 0 and kt <= 0:
                res = (False, f"Kt^{kt} does not decay at large p")
            elif kt < 0 or (dpow >= 1 and kt + dpow <= 0):
                ok, why = numerical_dlogk_decay(self, Lambda, dim, power=(kt, dpow))
                res = (ok, why)
            else:
                res = (True, "")
        ok, why = res
        if not ok:
            label = name or f"int d^dp Kt^{kt} D^{dpow}"
            cond = (
                " Condition (B3)4 of Appendix B of Cotler & Rezchikov, PRD 108, 025003 fails:"
                if dpow >= 1 and kt + dpow <= 0
                else ""
            )
            raise DivergentIntegralError(
                f"{label} diverges for the cutoff {self.spec!r} in d={dim}.{cond} {why}. "
                "Use a cutoff whose Lambda-derivative has compact support, e.g. the Appendix-B "
                "bump 'bump:eps=0.1,lambda_max=2'."
            )


def numerical_dlogk_decay(
    cutoff: Cutoff, Lambda: float, dim: int, power: tuple[int, int] = (-1, 1)
) -> tuple[bool, str]:
    """Decide numerically whether ``int d^dp Kt^kt D^dpow`` converges at large ``p``.

    Samples ``w(P) = P^{d/2} |Kt^kt D^dpow|(P)`` (massless, ``Kt = K/p^2``) at
    ``P = Lambda^2 * 2^j``.  The tail ``int_P^inf d^dp ...`` is of order ``w(P)``; it must
    fall below ``1e-12`` of its largest value and keep decreasing.  Points where ``K``
    underflows to 0 while the integrand needs ``1/K`` count as divergent.

    Returns
    -------
    (bool, str)
    """
    kt, dpow = power
    L2 = Lambda * Lambda
    P = L2 * 2.0 ** np.arange(1, 41)
    with np.errstate(all="ignore"):
        k = np.asarray(cutoff.K(P, Lambda), float)
        dk = np.abs(Lambda * np.asarray(cutoff.dK_dLambda(P, Lambda), float))
        if kt < 0:
            # judge only where K > 0; beyond an underflow of K the integrand is unknown
            pos = k > 0
            if np.count_nonzero(pos) < 6:
                return False, (
                    "K underflows to 0 too early to decide; Lambda dlogK/dLambda cannot be integrated where K = 0"
                )
            P, k, dk = P[pos], k[pos], dk[pos]
        vals = dk**dpow * k**kt * P ** (-kt - dpow)
        w = P ** (dim / 2.0) * vals
    if not np.all(np.isfinite(w)):
        return False, "the integrand is not finite at large p"
    top = float(np.max(w))
    last = w[-6:]
    decreasing = np.all(np.diff(last) <= 0)
    if last[-1] <= 1e-12 * max(top, 1e-300) or (last[-1] == 0.0):
        return True, f"p^d |integrand| falls to {last[-1]:.3g} (max {top:.3g}) by p^2={P[-1]:.3g}"
    return False, (
        f"p^d |Lambda dlogK/dLambda| does not decay: {last[-1]:.3g} at p^2={P[-1]:.3g}"
        f"{' (still growing)' if not decreasing else ''}"
    )
