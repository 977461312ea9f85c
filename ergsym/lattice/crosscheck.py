"""Cross-check of the perturbative series against a lattice Monte Carlo (docs/lattice.md).

On a finite lattice every coefficient of the engine's series is an exact lattice sum
(:func:`ergsym.lattice.sums.series_on_lattice`), so small-coupling Monte Carlo tests it with
no continuum extrapolation.  For each coupling ``lam_i`` the Monte Carlo gives
``MC_i +- sigma_i`` (by default the Schwinger-Dyson-improved estimator, whose error is
O(lam)); with the exact coefficients ``c_0..c_N``:

* **per-coupling z-scores**: :math:`z_i = (MC_i - \\sum_{k\\le N}c_k\\lambda_i^k)/
  \\sqrt{\\sigma_i^2 + t_i^2}` with the truncation estimate
  :math:`t_i = |c_N\\lambda_i^N|\\cdot|c_N/c_{N-1}|\\lambda_i` (next term by the ratio of the
  last two; zero when ``c_{N-1} = 0`` is replaced by ``|c_N lam^(N+1)|``);
* **the O(lam^2) coefficient**: :math:`r_i = MC_i - c_0 - c_1\\lambda_i - \\sum_{k=3}^{N}c_k
  \\lambda_i^k` is fitted by weighted least squares to :math:`c_2\\lambda^2` (weights
  :math:`1/(\\sigma_i^2+t_i^2)`), and :math:`z = (\\hat c_2 - c_2)/\\sigma_{\\hat c_2}`.

The engine entry points (``ergsym.symbolic.monotone``, ``ergsym.lattice.sums``) are imported
inside the functions; matplotlib only when a plot is requested.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from ..inputs import as_lattice
from .run import run_mc
from .stats import Stats
from .theory import LatticeTheory, validate_lam
from .verdict import (
    AGREES,
    DISAGREES,
    EXACT,
    INCONCLUSIVE,
    NOTHING,
    Z_MAX,
    ErrorBudget,
    Verdict,
    combine,
    compare,
)

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    from ..cutoffs import Cutoff
    from ..inputs import Lattice

__all__ = [
    "CrosscheckPoint",
    "CrosscheckResult",
    "crosscheck",
    "compare_with_series",
    "PIECE_NAMES",
    "FORMS",
    "canonical_form",
    "Z_AGREE",
    "Z_DISAGREE",
    "EMPTY_D_P",
]

#: canonical form (Monte Carlo observable) -> the engine's name of the same quantity.
PIECE_NAMES = {"A": "A", "B": "B", "eq5.14": "dSdS", "eq5.13": "dSdShat", "eq5.12": "dShatdShat", "eq5.11": "LdShat"}
#: Forms accepted by :func:`crosscheck`: canonical names; the old P1..P4 and the engine's
#: operator names are aliases (:func:`canonical_form`).
FORMS = tuple(PIECE_NAMES)
#: |z| (against statistical (+) quadrature (+) truncation) at which a comparison disagrees
#: (:data:`ergsym.lattice.verdict.Z_MAX`; below it a comparison with power agrees).
Z_AGREE = Z_DISAGREE = Z_MAX


def canonical_form(form: str) -> str:
    """``A``, ``B`` or the canonical piece name (``P1`` -> ``eq5.14``, ``dSdS`` -> ``eq5.14``...)."""
    from .observables import OBSERVABLE_ALIASES  # noqa: PLC0415

    if form in PIECE_NAMES:
        return form
    if isinstance(form, str) and form in OBSERVABLE_ALIASES and not form.endswith("_sd"):
        return OBSERVABLE_ALIASES[form]
    raise InputError.bad(
        "form", form, "one of " + ", ".join(FORMS), "the old names P1..P4 (= eq5.14..eq5.11) are accepted too"
    )


#: reason of "nothing compared" when D_p vanishes at every lattice momentum
EMPTY_D_P = (
    "D_p = Lambda dKt/dLambda vanishes at every momentum of this lattice, so the quantity is "
    "identically 0 in the Monte Carlo and in the series: nothing is compared (choose Lambda or "
    "the cutoff so that some lattice momentum has D_p != 0)"
)
#: why the c2 fit is undefined when no coupling carries an error scale
C2_NO_INFORMATION = (
    "no coupling carries a Monte Carlo error or truncation estimate to weigh a fit of c2 (exact estimator)"
)


def _verdict_hint() -> str:
    return (
        "lower the coupling (the truncation falls like lam^(order+1)), raise --order, or, once the "
        "truncation is below the statistical error, run longer"
    )


@dataclass(frozen=True)
class CrosscheckPoint:
    """One coupling: Monte Carlo estimate, truncated series, error budget, z-score, verdict.

    ``z = (MC - series) / total`` with ``total`` the statistical (Monte Carlo), quadrature (0:
    the lattice coefficients are exact sums) and truncation errors combined in quadrature
    (:class:`ergsym.lattice.verdict.ErrorBudget`).  ``empty_reason`` is non-empty when there is
    nothing to compare (``D_p = 0`` at every momentum): the verdict is then ``nothing compared``.
    """

    lam: float
    mc: Stats
    series: float
    truncation: float
    z: object
    acceptance: float = 1.0
    z_reason: str = ""
    quadrature: float = 0.0
    empty_reason: str = ""

    @property
    def budget(self) -> ErrorBudget:
        """Statistical, quadrature and truncation errors of this comparison."""
        return ErrorBudget(float(self.mc.error_of_mean), float(self.quadrature), float(self.truncation))

    @property
    def judgement(self) -> Verdict:
        """The :class:`~ergsym.lattice.verdict.Verdict` (word, reason, z, power)."""
        return compare(
            self.mc.mean,
            self.series,
            self.budget,
            reliable=self.mc.reliable,
            unreliable_reason="the Monte Carlo number is unreliable (" + "; ".join(self.mc.reasons) + ")",
            empty_reason=self.empty_reason,
            decisive_hint=_verdict_hint(),
        )

    @property
    def verdict(self) -> str:
        """``agrees``, ``disagrees``, ``inconclusive``, ``exact`` or ``nothing compared``
        (:mod:`ergsym.lattice.verdict`); :attr:`judgement` carries the reason."""
        return self.judgement.word

    def __repr__(self) -> str:
        z = "n/a" if self.z is None else f"{self.z:.2f}"
        return (
            f"CrosscheckPoint(lam={self.lam:g}: MC {self.mc!r} vs series {self.series:.8g} "
            f"(truncation {self.truncation:.2g}), z={z}, {self.verdict})"
        )

    def to_dict(self) -> dict:
        j = self.judgement
        return {
            "lam": self.lam,
            "mc": self.mc.to_dict(),
            "series": self.series,
            "truncation": self.truncation,
            "error_budget": self.budget.to_dict(),
            "z": self.z,
            "z_reason": self.z_reason or None,
            "verdict": j.word,
            "reason": j.reason,
            "power": bool(j.power),
            "acceptance": self.acceptance,
        }


@dataclass(frozen=True)
class CrosscheckResult:
    """Result of :func:`crosscheck`: per-coupling comparisons, the c2 fit and the run verdict."""

    form: str
    shape: tuple
    coefficients: tuple
    points: tuple
    c2_fit: float
    c2_fit_error: float
    z_c2: float
    estimator: str
    plot: object = None
    meta: dict = field(default_factory=dict)

    @property
    def max_abs_z(self) -> float:
        """Largest |z| among the defined per-coupling z-scores and the c2 z-score (0 if none)."""
        zs = [abs(p.z) for p in self.points if p.z is not None]
        if self.z_c2 is not None:
            zs.append(abs(self.z_c2))
        return max(zs) if zs else 0.0

    @property
    def c2_judgement(self) -> Verdict:
        """Verdict of the fitted O(lam^2) coefficient against the exact one.

        It has power only when the fit can tell c2 from zero (``Z_MAX * error < |c2|``)."""
        if len(self.coefficients) <= 2:
            return Verdict(NOTHING, "the series stops before O(lam^2)", None, False)
        c2 = self.coefficients[2]
        if self.points and all(p.empty_reason for p in self.points):
            return Verdict(NOTHING, self.points[0].empty_reason, None, False)
        if self.z_c2 is None:
            return Verdict(NOTHING, self.meta.get("c2_reason") or "no coupling carries information on c2", None, False)
        if not all(p.mc.reliable for p in self.points):
            return Verdict(INCONCLUSIVE, "the fit uses Monte Carlo numbers flagged unreliable", self.z_c2, False)
        if abs(self.z_c2) >= Z_MAX:
            return Verdict(
                DISAGREES,
                f"fitted c2 = {self.c2_fit:.4g} ± {self.c2_fit_error:.2g} against "
                f"exact {c2:.4g}: |z| = {abs(self.z_c2):.2f} >= {Z_MAX:g}",
                self.z_c2,
                True,
            )
        if not Z_MAX * self.c2_fit_error < abs(c2):
            return Verdict(
                INCONCLUSIVE,
                f"the fit's error {self.c2_fit_error:.2g} is not small against "
                f"|c2| = {abs(c2):.2g} (it cannot tell c2 from 0 at {Z_MAX:g} "
                "sigma); "
                "to make it decisive run longer or add couplings where the "
                "lam^2 term exceeds both the statistical error and the truncation",
                self.z_c2,
                False,
            )
        return Verdict(
            AGREES,
            f"fitted c2 = {self.c2_fit:.4g} ± {self.c2_fit_error:.2g} against exact "
            f"{c2:.4g}: |z| = {abs(self.z_c2):.2f} < {Z_MAX:g}",
            self.z_c2,
            True,
        )

    @property
    def judgement(self) -> Verdict:
        """The run verdict (:func:`ergsym.lattice.verdict.combine` of every coupling and the c2
        fit): agrees only when at least one comparison had power and none disagreed."""
        return combine(
            [p.judgement for p in self.points] + [self.c2_judgement],
            [f"lam = {p.lam:g}" for p in self.points] + ["c2 fit"],
        )

    @property
    def verdict(self) -> str:
        """The run verdict as a word (one of :data:`ergsym.lattice.verdict.VERDICT_WORDS`)."""
        return self.judgement.word

    @property
    def verdict_reason(self) -> str:
        """Why the run verdict is what it is, in words."""
        return self.judgement.reason

    @property
    def agrees(self) -> bool:
        """True only when the run verdict is ``agrees``."""
        return self.verdict == AGREES

    @property
    def warnings(self) -> list:
        """Unreliable Monte Carlo numbers, undefined z-scores and comparisons without power."""
        out = []
        for p in self.points:
            for r in p.mc.reasons:
                out.append(f"lam = {p.lam:g}: {r}")
            if p.z is None and p.z_reason:
                out.append(f"lam = {p.lam:g}: z-score undefined ({p.z_reason})")
            if p.mc.reliable and p.verdict == INCONCLUSIVE:
                out.append(f"lam = {p.lam:g}: inconclusive: {p.judgement.reason}")
        if self.meta.get("d_p_zero"):
            out.append(
                "D_p = Lambda dKt/dLambda vanishes at every momentum of this lattice: every "
                "quantity compared is exactly 0 (choose Lambda or the cutoff so that D_p is nonzero)"
            )
        if self.z_c2 is None and self.meta.get("c2_reason"):
            out.append(f"c2 z-score undefined ({self.meta['c2_reason']})")
        return out

    def to_dict(self) -> dict:
        cj, j = self.c2_judgement, self.judgement
        return {
            "form": self.form,
            "lattice": "x".join(map(str, self.shape)),
            "estimator": self.estimator,
            "coefficients": list(self.coefficients),
            "points": [p.to_dict() for p in self.points],
            "c2": {
                "coefficient": self.coefficients[2] if len(self.coefficients) > 2 else None,
                "fit": None
                if self.c2_fit is None
                else {
                    "value": self.c2_fit,
                    "error": self.c2_fit_error,
                    "converged": bool(self.c2_fit_error is not None and math.isfinite(self.c2_fit_error)),
                },
                "z": self.z_c2,
                "z_reason": self.meta.get("c2_reason"),
                "verdict": cj.word,
                "reason": cj.reason,
                "power": bool(cj.power),
            },
            "max_abs_z": self.max_abs_z,
            "verdict": j.word,
            "verdict_reason": j.reason,
            "warnings": self.warnings,
            "plot": None if self.plot is None else str(self.plot),
            "meta": self.meta,
        }

    def __repr__(self) -> str:
        """Short summary for a notebook: form, lattice, one line per coupling, the verdict."""
        lines = [
            f"CrosscheckResult({self.form} on {'x'.join(map(str, self.shape))}, {self.estimator} "
            f"estimator, {len(self.points)} couplings, max |z| = {self.max_abs_z:.2f}, "
            f"{self.verdict})"
        ]
        for p in self.points:
            z = "n/a" if p.z is None else f"{p.z:+.2f}"
            lines.append(
                f"  lam={p.lam:<8g} MC {p.mc!r}  series {p.series:.8g}  trunc {p.truncation:.2g}  z={z}  [{p.verdict}]"
            )
        if self.warnings:
            lines.append(f"  {len(self.warnings)} warning(s) (see .warnings)")
        return "\n".join(lines)

    def to_text(self) -> str:
        lines = [
            f"cross-check of {self.form} ({self.estimator} estimator) on "
            f"{'x'.join(map(str, self.shape))}; exact lattice coefficients:"
        ]
        n_comp = self.meta.get("N", 1)
        if n_comp != 1:
            lines[0] = f"O({n_comp}) model (summed over components; series from the O(N) engine): " + lines[0]
        lines += [f"  c{k} = {c:.10g}" for k, c in enumerate(self.coefficients)]
        lines.append(
            "  error budget per coupling: stat (Monte Carlo) (+) quad (0: exact lattice sums) (+) "
            "trunc (series beyond its last order) = total; z = (MC - series)/total"
        )
        lines.append(
            f"  {'lam':>8} {'MC':>24} {'series':>14} {'stat':>8} {'quad':>8} {'trunc':>8} "
            f"{'total':>8} {'z':>6}  verdict"
        )
        for p in self.points:
            b = p.budget
            z = "n/a" if p.z is None else f"{p.z:.2f}"
            lines.append(
                f"  {p.lam:8.4g} {repr(p.mc):>24} {p.series:14.8g} {b.statistical:8.2g} "
                f"{b.quadrature:8.2g} {b.truncation:8.2g} {b.total:8.2g} {z:>6}  {p.verdict}"
            )
        why = {}  # one line per distinct reason, naming the couplings it applies to
        for p in self.points:
            j = p.judgement
            if j.word not in (AGREES, EXACT):
                why.setdefault((j.word, j.reason), []).append(f"{p.lam:g}")
        for (word, reason), ls in why.items():
            lines.append(f"  lam = {', '.join(ls)}: {word}: {reason}")
        if len(self.coefficients) > 2:
            cj = self.c2_judgement
            if self.z_c2 is None:
                lines.append(
                    f"  c2: exact {self.coefficients[2]:.6g}; no fit "
                    f"({self.meta.get('c2_reason', cj.reason)}); {cj.word}"
                )
            else:
                lines.append(
                    f"  c2: fit {self.c2_fit:.6g} ± {self.c2_fit_error:.2g}, exact "
                    f"{self.coefficients[2]:.6g}, z = {self.z_c2:.2f}; {cj.word}"
                    + ("" if cj.word == AGREES else f": {cj.reason}")
                )
        lines.append(f"  verdict: {self.verdict} ({self.verdict_reason})")
        return "\n".join(lines)


def _truncation(coeffs, lam):
    n = len(coeffs) - 1
    cn = coeffs[n]
    if n == 0:
        return 0.0
    prev = coeffs[n - 1]
    if prev != 0:
        return abs(cn * lam**n) * abs(cn / prev) * lam
    return abs(cn) * lam ** (n + 1)


def compare_with_series(
    lams: Sequence[float],
    mc_stats: Sequence[Stats],
    coefficients: Sequence[float],
    *,
    acceptances: Sequence[float] | None = None,
    empty_reason: str = "",
) -> tuple[tuple[CrosscheckPoint, ...], float | None, float | None, float | None]:
    """z-scores and verdicts of Monte Carlo values against a truncated series, and the fitted c2.

    Parameters
    ----------
    lams : sequence of float
        Couplings.
    mc_stats : sequence of Stats
        Monte Carlo estimates at those couplings.
    coefficients : sequence of float
        Exact series coefficients ``c_0..c_N`` (N >= 2 for the c2 fit).
    acceptances : sequence of float, optional
        HMC acceptance of each run (stored on the points).
    empty_reason : str
        Non-empty when there is nothing to compare (``D_p = 0`` at every momentum): every point
        then says ``nothing compared`` with this reason.

    Returns
    -------
    (points, c2_fit, c2_err, z_c2)
        ``z`` of a point is None (with ``z_reason``) when the Monte Carlo error and the
        truncation estimate are both 0 (an exact estimator against an exact series): there is
        no scale to measure a difference in.  ``z_c2``, ``c2_fit`` and ``c2_err`` are None when
        no point carries information on c2.
    """
    c = [float(x) for x in coefficients]
    if len(lams) != len(mc_stats) or not lams:
        raise InputError.bad("lams", lams, "a non-empty list matching the Monte Carlo results")
    pts = []
    rows = []
    for lam, st in zip(lams, mc_stats, strict=True):
        ser = sum(ck * lam**k for k, ck in enumerate(c))
        tr = _truncation(c, lam)
        sig = math.hypot(st.error_of_mean, tr)
        reason = ""
        if sig > 0:
            z = (st.mean - ser) / sig
        else:
            z = None
            diff = st.mean - ser
            reason = (
                "the Monte Carlo estimator is exact and the series is exact at this order: "
                f"no error scale (difference {diff:.3g}"
                + (", equal to rounding" if abs(diff) <= 1e-12 * max(1.0, abs(ser)) else "")
                + ")"
            )
        pts.append(CrosscheckPoint(float(lam), st, ser, tr, z, 1.0, reason, 0.0, empty_reason))
        if len(c) > 2 and lam > 0:
            r = st.mean - c[0] - c[1] * lam - sum(c[k] * lam**k for k in range(3, len(c)))
            rows.append((lam, r, sig))
    c2_fit = c2_err = z_c2 = math.nan
    if rows and len(c) > 2:
        x = np.array([lam**2 for lam, _, _ in rows])
        y = np.array([r for _, r, _ in rows])
        # weights 1/sigma^2; a sigma so small that its square underflows carries no usable weight scale
        w = np.array([1.0 / (s * s) if s * s > 0 and math.isfinite(1.0 / (s * s)) else 0.0 for _, _, s in rows])
        if np.sum(w * x * x) > 0:
            c2_fit = float(np.sum(w * x * y) / np.sum(w * x * x))
            c2_err = float(1.0 / math.sqrt(np.sum(w * x * x)))
            z_c2 = (c2_fit - c[2]) / c2_err
    if math.isnan(z_c2):  # never return NaN: no information on c2 -> None
        c2_fit = c2_err = z_c2 = None
    if acceptances is not None:
        pts = [replace(p, acceptance=float(a)) for p, a in zip(pts, acceptances, strict=True)]
    return tuple(pts), c2_fit, c2_err, z_c2


def validate_request(estimator: str, order: int, lams: Sequence[float]) -> list[float]:
    """Check the options of a cross-check (estimator, series order, couplings); returns the
    couplings as floats.  One place for :func:`crosscheck` and its batch form."""
    if estimator not in ("sd", "direct"):
        raise InputError.bad("estimator", estimator, "'sd' or 'direct'")
    if isinstance(order, bool) or not isinstance(order, int) or not 2 <= order <= 6:
        raise InputError.bad("order", order, "an integer from 2 to 6")
    lams = [validate_lam(x, "lams") for x in lams]
    if not lams or max(lams) <= 0:
        raise InputError.bad("lams", lams, "a list of couplings >= 0 with at least one > 0")
    return lams


def series_coefficients(
    form: str,
    shape: tuple[int, ...],
    kt_p: np.ndarray,
    d_p: np.ndarray,
    order: int = 3,
    scheme: str = "bare",
    N: int = 1,
) -> list[float]:
    """Exact lattice coefficients of ``form`` from the engine (``c_k``, k = 0..order); ``N``
    components: the O(N) engine's series (``Theory(N=N)``, summed over components)."""
    from ..symbolic import monotone as _mono  # noqa: PLC0415  (engine tier, imported on demand)
    from .sums import series_on_lattice  # noqa: PLC0415

    monotone = getattr(_mono, "monotone", _mono)
    name = PIECE_NAMES[canonical_form(form)]
    if N == 1:
        ser = monotone(order, name, scheme=scheme)
    else:
        from ..symbolic import Theory  # noqa: PLC0415

        ser = monotone(order, name, scheme=scheme, theory=Theory(N=N))
    coeffs = list(series_on_lattice(ser, shape, kt_p, d_p))
    coeffs += [0.0] * (order + 1 - len(coeffs))
    return [float(x) for x in coeffs[: order + 1]]


def crosscheck(
    shape: str | tuple[int, ...] | Lattice,
    cutoff: Cutoff | None = None,
    mass: float = 1.0,
    Lambda: float = 1.0,
    lams: Sequence[float] = (0.02, 0.05, 0.1),
    form: str = "B",
    *,
    kt_p: np.ndarray | None = None,
    d_p: np.ndarray | None = None,
    order: int = 3,
    n_traj: int = 3000,
    n_therm: int | None = None,
    seed: int = 0,
    estimator: str = "sd",
    coefficients: Sequence[float] | None = None,
    backend: str = "numpy",
    progress: bool = False,
    plot: str | os.PathLike[str] | None = None,
    N: int = 1,
    **mc_options: object,
) -> CrosscheckResult:
    """Run the Monte Carlo at each coupling and compare with the exact lattice series.

    Parameters
    ----------
    shape : Lattice, str or tuple
        Lattice, e.g. ``Lattice.parse("8x8")`` or ``"8x8"`` (parsed here, once, by
        :func:`ergsym.inputs.as_lattice`; the layers below get the parsed lattice).
    cutoff : Cutoff, optional
        Cutoff object (``K``, ``dK_dLambda``); or give ``kt_p`` and ``d_p`` directly.
    mass, Lambda : float
    lams : sequence of float
        Couplings (each >= 0, at least one > 0).
    form : {"A", "B", "eq5.11", "eq5.12", "eq5.13", "eq5.14"}
        Quantity compared (Cotler & Rezchikov, PRD 108, 025003, (5.5) and (5.11)-(5.14));
        the old names P1..P4 (= eq5.14..eq5.11) are accepted.
    order : int
        Highest order of the series (>= 2); the last term sets the truncation estimate.
    n_traj, n_therm, seed
        Monte Carlo length, thermalization (default
        :func:`~ergsym.lattice.run.default_n_therm`, as for :func:`~ergsym.lattice.run.run_mc`
        and the command line) and seed; the run at ``lams[i]`` uses seed ``seed + i``.
    estimator : {"sd", "direct"}
        Schwinger-Dyson-improved (default) or direct estimator.
    coefficients : sequence of float, optional
        Use these coefficients instead of calling the engine (tests, other schemes).
    plot : path-like, optional
        Write a figure of ``MC - c0 - c1 lam`` against the series.
    N : int
        Number of field components (the O(N) model; docs/lattice.md): the Monte Carlo with N
        components against the O(N) engine's lattice series.
    **mc_options
        Passed to :func:`ergsym.lattice.run.run_mc` (``n_steps``, ``integrator``, ...).

    Returns
    -------
    CrosscheckResult
    """
    lattice = as_lattice(shape)
    form = canonical_form(form)
    if plot is not None:
        import os  # noqa: PLC0415

        parent = os.path.dirname(os.path.abspath(os.fspath(plot)))
        if not os.path.isdir(parent):
            raise InputError.bad(
                "plot", str(plot), "a file in an existing directory", f"create the directory {parent!r} first"
            )
    lams = validate_request(estimator, order, lams)
    if kt_p is not None:
        base = LatticeTheory(lattice, kt_p, d_p if d_p is not None else np.zeros_like(np.asarray(kt_p)), 0.0, N=N)
    elif cutoff is not None:
        base = LatticeTheory.from_cutoff(lattice, cutoff, mass, Lambda, 0.0, N=N)
    else:
        raise InputError.bad("cutoff", None, "a cutoff object, or explicit kt_p and d_p arrays")
    if coefficients is None:
        coefficients = series_coefficients(form, base.shape, base.kt_p, base.d_p, order, N=base.N)
    coefficients = tuple(float(x) for x in coefficients)
    obs = form if estimator == "direct" else f"{form}_sd"
    stats, acc = [], []
    for i, lam in enumerate(lams):
        res = run_mc(
            base.with_lam(lam), n_traj, seed=seed + i, n_therm=n_therm, backend=backend, progress=progress, **mc_options
        )
        stats.append(res.stats(obs))
        acc.append(res.acceptance)
    empty = "" if np.any(base.d_p != 0) else EMPTY_D_P
    pts, c2, c2e, zc2 = compare_with_series(lams, stats, coefficients, acceptances=acc, empty_reason=empty)
    out = CrosscheckResult(
        form,
        base.shape,
        coefficients,
        pts,
        c2,
        c2e,
        zc2,
        estimator,
        meta={"n_traj": n_traj, "seed": seed, "order": order, **base.meta, **({"N": base.N} if base.N != 1 else {})},
    )
    if zc2 is None:
        out.meta["c2_reason"] = C2_NO_INFORMATION
    if empty:
        out.meta["d_p_zero"] = True
    if plot is not None:
        plot_crosscheck(out, plot)
        out = CrosscheckResult(**{**out.__dict__, "plot": str(plot)})
    return out


def plot_crosscheck(result: CrosscheckResult, path: str | os.PathLike[str]) -> None:
    """Figure: ``MC - c0 - c1 lam`` with error bars against ``c2 lam^2 + ...`` (matplotlib Agg)."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    c = result.coefficients
    lams = np.array([p.lam for p in result.points])
    y = np.array([p.mc.mean - c[0] - c[1] * p.lam for p in result.points])
    e = np.array([p.mc.error_of_mean for p in result.points])
    grid = np.linspace(0, max(lams) * 1.05, 200)
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ser = sum(c[k] * grid**k for k in range(2, len(c)))
    tr = np.array([_truncation(c, g) for g in grid])
    ax.plot(grid, ser, "k-", lw=1, label=f"exact lattice series to O(λ^{len(c) - 1})")
    ax.fill_between(grid, ser - tr, ser + tr, color="0.8", label="truncation estimate")
    ax.errorbar(lams, y, yerr=e, fmt="o", ms=4, capsize=3, label=f"MC ({result.estimator})")
    ax.set_xlabel("λ")
    ax.set_ylabel(f"{result.form} − c0 − c1 λ")
    zt = "n/a" if result.z_c2 is None else f"{result.z_c2:.2f}"
    ax.set_title(f"{result.form} on {'x'.join(map(str, result.shape))}: c2 z = {zt}", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
