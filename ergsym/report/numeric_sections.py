"""Report sections built from the numeric layer: values with errors, cutoff and scan figures."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..families import _latex_name
from . import latex as L
from .section import Section

if TYPE_CHECKING:
    from ..cutoffs.base import Cutoff
    from ..symbolic.series import Series
    from .config import ReportConfig

__all__ = ["numeric_section", "figures_section", "errata_section", "scan_grid"]

_QUANTITIES = ("A", "B", "LdShat", "dShatdShat", "dSdShat", "dSdS")
#: Engine names of the pieces -> the canonical names by the paper's equation numbers.
_CANON = {"LdShat": "eq5.11", "dShatdShat": "eq5.12", "dSdShat": "eq5.13", "dSdS": "eq5.14"}
_QTEX = {"A": "$A$", "B": "$B$", "dSdS": "(5.14)", "dSdShat": "(5.13)", "dShatdShat": "(5.12)", "LdShat": "(5.11)"}


def _phi4_only(key, title, theory):
    from .on import is_phi4

    if not is_phi4(theory):
        return Section(
            key,
            title,
            r"This section is computed for $\lambda\phi^4/4!$ only "
            rf"(theory here: {L.text(theory.describe())}).",
            {},
            available=False,
        )
    return None


def _numeric_order(cfg):
    """Highest order the continuum layer evaluates (general blocks appear at O(lam^3))."""
    return min(cfg.order, 2)


def numeric_section(cfg: ReportConfig, ctx: dict) -> Section:
    """Every family at ``Lambda0`` with errors; A, B, pieces per order and summed."""
    from ..errors import DivergentIntegralError, FamilyNotSupportedError
    from ..numeric import evaluate_named
    from ..symbolic import monotone

    title = r"Numbers: families, $A$, $B$ and the pieces at $\Lambda_0$"
    skip = _phi4_only("numeric", title, ctx["theory"])
    if skip:
        return skip
    cutoff, dim, mass, Lam = ctx["cutoff"], cfg.dim, cfg.mass, cfg.Lambda0
    where = (
        rf"cutoff {L.cmd(cutoff.spec)}, $d={dim}$, $m={L.g(mass)}$, "
        rf"$\Lambda=\Lambda_0={L.g(Lam)}$"
    )
    parts = [
        rf"Continuum quadrature ({where}). Every value carries the numeric layer's error "
        r"estimate (absolute); one-loop blocks are radial integrals split at the cutoff's "
        r"breakpoints, melon blocks (the sunset) position-space Hankel transforms."
    ]
    data = {"point": {"cutoff": cutoff.spec, "dim": dim, "mass": mass, "Lambda": Lam}}
    if ctx["theory"].N != 1:
        data["N"] = ctx["theory"].N
        parts.append(
            rf"The families do not depend on $N$; the coefficients of $A$, $B$ and the pieces are those "
            rf"of the O($N$) model with $N={ctx['theory'].N}$ (summed over the components)."
        )
    named = evaluate_named(cutoff, dim, mass, Lam, on_divergence="record")
    rows, fam_data = [], {}
    for n, v in named.items():
        if isinstance(v, DivergentIntegralError):
            rows.append([n, r"\textbf{divergent}", L.text(str(v))[:160]])
            fam_data[n] = {"divergent": True, "message": str(v)}
        else:
            rows.append(
                [
                    f"${_latex_name(n)}$",
                    f"${L.paren(v.estimate, v.error)}$",
                    "yes" if bool(v.converged) else r"\textbf{no}",
                ]
            )
            fam_data[n] = v.to_dict()
    parts.append(
        L.table(
            ["family", "value", "converged"],
            rows,
            align="lrl",
            caption="The basic families at $\\Lambda_0$ (definitions in Sec.~\\ref{sec:derivation}).",
        )
    )
    data["families"] = fam_data
    n_ord = _numeric_order(cfg)
    series = {q: monotone(n_ord, q, cfg.scheme, ctx["theory"]) for q in _QUANTITIES}  # O(N): summed over a
    notes = []
    try:
        famvals = family_values(series.values(), cutoff, dim, mass, Lam)
    except (DivergentIntegralError, FamilyNotSupportedError) as exc:
        famvals = None
        notes.append(L.text(str(exc)))
    per_q = {}
    if famvals is not None:
        for q, ser in series.items():
            orders = combine_orders(ser, famvals)
            sums = [sum_series(orders, x) for x in cfg.lams]
            per_q[q] = (orders, sums)
    extra_fams = {n: v for n, v in (famvals or {}).items() if n not in named}
    if extra_fams:
        fam_tex = {f.name: f.latex for ser in series.values() for f in ser.families()}
        rows = [
            [f"${fam_tex[n]}$" if n in fam_tex else L.text(n), f"${L.paren(v.estimate, v.error)}$"]
            for n, v in extra_fams.items()
        ]
        parts.append(
            L.table(
                ["product family", "value"],
                rows,
                align="lr",
                caption="Product families beyond the basic ones (tadpole chains).",
            )
        )
        data["product_families"] = {n: v.to_dict() for n, v in extra_fams.items()}
    if per_q:
        head = ["quantity"] + [rf"$[\lambda^{k}]$" for k in range(n_ord + 1)]
        head2 = ["quantity"] + [rf"at $\lambda={L.g(x)}$" for x in cfg.lams]
        rows, rows2, qdata = [], [], {}
        dominated = []
        for q, (orders, sums) in per_q.items():
            rows.append([_QTEX[q]] + [f"${L.paren(c[0], c[1])}$" for c in orders])
            cells, sd = [], {}
            for x, (v, e) in zip(cfg.lams, sums):
                t = truncation(orders, x)
                tot = e + t
                cells.append(f"${L.paren(v, tot)}$" + (r"$^\dagger$" if t > e else ""))
                if t > e:
                    dominated.append((q, x))
                sd[str(x)] = {
                    "value": v,
                    "error": tot,
                    "quadrature_error": e,
                    "truncation": t,
                    "truncation_dominates": t > e,
                    "converged": bool(tot < 0.1 * abs(v)),
                }
            rows2.append([_QTEX[q]] + cells)
            qdata[_CANON.get(q, q)] = {
                "orders": [{"value": v, "error": e, "converged": True} for v, e in orders],
                "sums": sd,
            }
        parts.append(
            L.table(
                head,
                rows,
                align="l" + "r" * (len(head) - 1),
                size=r"\footnotesize",
                caption=(
                    r"Coefficients of $\delta^d(0)\lambda^k$ (quadrature errors; "
                    r"families' errors added linearly)."
                ),
            )
        )
        parts.append(
            L.table(
                head2,
                rows2,
                align="l" + "r" * (len(head2) - 1),
                size=r"\footnotesize",
                caption=(
                    rf"The series through $O(\lambda^{{{n_ord}}})$ summed, rounded to its error: the "
                    r"quadrature error plus the truncation estimate $|c_N\lambda^N|\cdot"
                    r"\min(1,|c_N\lambda/c_{N-1}|)$ (the next term from the ratio of the last two). "
                    r"$^\dagger$: the truncation dominates."
                ),
            )
        )
        data["quantities"] = qdata
    if cfg.order > n_ord:
        parts.append(
            rf"The $O(\lambda^{{{cfg.order}}})$ terms contain `general' blocks (triangles and "
            r"beyond) that the continuum layer does not evaluate; their exact lattice sums are in "
            r"the lattice section."
        )
    if notes:
        parts.append(
            r"\paragraph{Not evaluated.}"
            + r"\begin{itemize}"
            + "".join(rf"\item {n}" for n in notes)
            + r"\end{itemize}"
        )
    return Section("numeric", title, "\n\n".join(parts), data)


class _Terms:
    """Duck-typed series: the distinct (powers, family) of several series, coefficient 1."""

    def __init__(self, series_list):
        seen, terms = set(), []
        for ser in series_list:
            for t in ser.terms:
                key = (t.powers, t.family)
                if key not in seen:
                    seen.add(key)
                    terms.append(t)
        self.terms = tuple(terms)


def family_values(series_list: Sequence[Series], cutoff: Cutoff, dim: int, mass: float, Lambda: float) -> dict:
    """Every family of the given series at one point, each block evaluated once.

    Returns ``{family name: Value}`` (plus the blocks by name).
    """
    from ..numeric import evaluate_series

    pred = evaluate_series(_Terms(series_list), cutoff, dim, mass, Lambda)
    out = dict(pred.families)
    for n, v in pred.blocks.items():
        out.setdefault(n, v)
    return out


def combine_orders(series: Series, famvals: dict) -> list:
    """``[(value, error), ...]`` per order of a one-coupling series from family values.

    Errors add linearly (``sum |c| err``): an upper bound of first-order propagation that
    ignores the signs of correlated contributions.
    """
    out = []
    for k in range(series.order + 1):
        v = e = 0.0
        for c, _p, f in series.coefficient(k):
            fv = famvals[f.name]
            v += float(c) * float(fv.estimate)
            e += abs(float(c)) * float(fv.error)
        out.append((v, e))
    return out


def truncation(orders: Sequence[tuple[float, float]], lam: float) -> float:
    """Truncation estimate of a summed series: the next term from the ratio of the last two."""
    terms = [abs(v) * lam**k for k, (v, _) in enumerate(orders)]
    if len(terms) < 2 or lam == 0:
        return 0.0
    last, prev = terms[-1], terms[-2]
    ratio = last / prev if prev > 0 else 1.0
    return float(last * min(1.0, ratio))


def sum_series(orders: Sequence[tuple[float, float]], lam: float) -> tuple[float, float]:
    """The truncated series at ``lam`` with its (linear) quadrature error."""
    from ..inputs import series_sum  # noqa: PLC0415  (InputError naming --lam where a term overflows)

    return series_sum([v for v, _ in orders], lam, [e for _, e in orders])


def scan_grid(cfg: ReportConfig, cutoff: Cutoff) -> np.ndarray:
    """Lambda grid of the scan: from 0.25 Lambda0 to lambda_max (bump) or 2 Lambda0."""
    hi = getattr(cutoff, "lambda_max", 2.0 * cfg.Lambda0)
    return np.geomspace(0.25 * cfg.Lambda0, hi, cfg.n_scan)


#: Width of the text block in inches (A4, 2.2 cm margins): figures are drawn at print size.
TEXT_WIDTH_IN = 6.5


def _print_rc() -> dict:
    """rc parameters of the report's figures: 8-9 pt serif text matching Latin Modern, no Type 3."""
    from matplotlib import font_manager

    serif = [
        f for f in ("cmr10", "Latin Modern Roman") if any(e.name == f for e in font_manager.fontManager.ttflist)
    ] or ["DejaVu Serif"]
    return {
        "font.family": "serif",
        "font.serif": serif,
        "mathtext.fontset": "cm",
        "axes.formatter.use_mathtext": True,
        "axes.unicode_minus": serif[0] != "cmr10",
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "font.size": 8.5,
        "axes.labelsize": 8.5,
        "axes.titlesize": 9,
        "legend.fontsize": 7.5,
        "xtick.labelsize": 8,
        "ytick.labelsize": 8,
        "lines.linewidth": 1.1,
        "lines.markersize": 3.5,
        "legend.frameon": False,
        "figure.dpi": 150,
    }


def print_style(fn: Callable) -> Callable:
    """Run ``fn`` with the report's figure style (:func:`_print_rc`) in a ``matplotlib.rc_context``:
    the caller's matplotlib settings are the same afterwards."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context(_print_rc()):
            return fn(*args, **kwargs)

    return wrapper


def _plt():
    """matplotlib.pyplot on the Agg backend (figures are only saved); the style comes from
    :func:`print_style` around the function that draws."""
    import logging

    import matplotlib

    logging.getLogger("fontTools").setLevel(logging.ERROR)  # font subsetting notes on stderr
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _support(cutoff, Lambda, hi):
    """``[a, b]`` in ``p^2`` where ``|Lambda dK/dLambda|`` exceeds 1e-3 of its maximum."""
    bps = [b for b in cutoff.breakpoints(Lambda) if b > 0]
    if len(bps) >= 2 and getattr(cutoff, "eps", None) is not None:
        return float(bps[0]), float(bps[1])
    p2 = np.linspace(0.0, hi, 8001)
    y = np.abs(np.nan_to_num(np.asarray(cutoff.Lambda_dK(p2, Lambda), float)))
    if not np.any(y > 0):
        return 0.0, hi
    on = np.nonzero(y > 1e-3 * y.max())[0]
    return float(p2[on[0]]), float(p2[on[-1]])


@print_style
def plot_cutoff(cutoff: Cutoff, Lambda: float, path: str | os.PathLike) -> dict:
    """The paper's Figs. 1, 2 and 4 for ``cutoff``: K, Lambda dK/dLambda on its support, K in Lambda.

    Returns a dict of facts for the caption (support of Lambda dK/dLambda, its maximum).
    """
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(TEXT_WIDTH_IN, 2.2))
    bps = [b for b in cutoff.breakpoints(Lambda) if b > 0]
    hi = max([3.0 * Lambda**2] + [1.3 * b for b in bps])
    p2 = np.unique(np.concatenate([np.linspace(0, hi, 4001), np.asarray(bps, float)]))
    axes[0].plot(p2, cutoff.K(p2, Lambda), "k-")
    axes[0].set(xlabel=r"$p^2$", ylabel=r"$K_\Lambda(p^2)$", title=rf"$K$ at $\Lambda={Lambda:g}$ (Fig. 1)")
    a, b = _support(cutoff, Lambda, hi)
    w = max(b - a, 1e-6)
    pz = np.linspace(max(0.0, a - 0.15 * w), b + 0.15 * w, 4001)
    yz = np.asarray(cutoff.Lambda_dK(pz, Lambda), float)
    axes[1].plot(pz, yz, "C3-")
    axes[1].axhline(0, color="0.7", lw=0.5)
    axes[1].set(
        xlabel=r"$p^2$",
        ylabel=r"$\Lambda\partial_\Lambda K_\Lambda$",
        title=r"$\Lambda\partial_\Lambda K$ on its support (Fig. 2)",
    )
    lmax = getattr(cutoff, "lambda_max", 2.0 * Lambda)
    hi4 = max(hi, 1.3 * (lmax**2 + getattr(cutoff, "eps", 0.0)) + 2.0)
    pp = np.linspace(0, hi4, 4001)
    floor = None
    for lam in np.linspace(0.25 * lmax, lmax, 4):
        y = np.asarray(cutoff.K(pp, lam), float)
        axes[2].semilogy(pp, np.maximum(y, 1e-300), label=rf"$\Lambda={lam:.3g}$")
        pos = y[y > 0]
        if pos.size:
            floor = pos.min() if floor is None else min(floor, pos.min())
    axes[2].set(xlabel=r"$p^2$", ylabel=r"$K_\Lambda(p^2)$", title=r"the family in $\Lambda$ (Fig. 4)")
    axes[2].set_ylim(bottom=max(1e-8, (floor or 1e-8) / 2), top=2.0)
    axes[2].legend(loc="lower left")
    _save(plt, fig, path)
    return {"support": (a, b), "max_dK": float(np.max(yz)), "min_dK": float(np.min(yz))}


@print_style
def figures_section(cfg: ReportConfig, ctx: dict) -> Section:
    """Cutoff Figs. 1/2/4 and the families, A and B against Lambda (with errors)."""
    from ..errors import DivergentIntegralError, FamilyNotSupportedError
    from ..symbolic import monotone

    cutoff, out = ctx["cutoff"], ctx["out"]
    figs, parts, data = [], [], {}
    f1 = "figures/cutoff.pdf"
    facts = plot_cutoff(cutoff, cfg.Lambda0, out / f1)
    figs.append(f1)
    a, b = facts["support"]
    parts.append(
        _figure(
            f1,
            rf"The cutoff {L.cmd(cutoff.spec)} at $\Lambda_0={L.g(cfg.Lambda0)}$. Left: "
            r"$K_\Lambda(p^2)$ (cf. the paper's Fig.~1). Middle: $\Lambda\partial_\Lambda K$, drawn "
            rf"on $p^2\in[{L.num(a, 4)},{L.num(b, 4)}]$ where it exceeds $10^{{-3}}$ of its maximum "
            rf"${L.num(facts['max_dK'], 4)}$ (cf. Fig.~2); its minimum there is ${L.num(facts['min_dK'], 3)}$"
            + (r", so $D\ge0$" if facts["min_dK"] >= -1e-12 else r": \textbf{negative}")
            + r". Right: $K_\Lambda$ for four $\Lambda$ (cf. Fig.~4).",
        )
    )
    data["cutoff"] = {"support_dK": [a, b], "max_dK": facts["max_dK"], "min_dK": facts["min_dK"]}
    title = r"Figures: the cutoff and the integrals against $\Lambda$"
    if _phi4_only("figures", title, ctx["theory"]) is not None:
        parts.append(r"Scans against $\Lambda$ are computed for $\lambda\phi^4/4!$ only.")
        return Section("figures", title, "\n\n".join(parts), data, figs)
    grid = scan_grid(cfg, cutoff)
    n_ord = _numeric_order(cfg)
    serA, serB = monotone(n_ord, "A", cfg.scheme, ctx["theory"]), monotone(n_ord, "B", cfg.scheme, ctx["theory"])
    if ctx["theory"].N != 1:
        data["N"] = ctx["theory"].N
    try:
        # one scalar evaluation per point (faster than the vectorized call for melons)
        points = [family_values([serA, serB], cutoff, cfg.dim, cfg.mass, float(x)) for x in grid]
    except (DivergentIntegralError, FamilyNotSupportedError) as exc:
        parts.append(r"No scan: " + L.text(str(exc)))
        return Section("figures", title, "\n\n".join(parts), data, figs)

    class _V:  # a family's values along the grid
        def __init__(self, name):
            self.estimate = np.array([float(p[name].estimate) for p in points])
            self.error = np.array([float(p[name].error) for p in points])
            self.converged = [bool(np.all(p[name].converged)) for p in points]

        def to_dict(self):
            return {"value": self.estimate.tolist(), "error": self.error.tolist(), "converged": self.converged}

    famv = {n: _V(n) for n in points[0]}
    per = {q: [combine_orders(ser, p) for p in points] for q, ser in (("A", serA), ("B", serB))}
    A_orders = {
        k: (np.array([o[k][0] for o in per["A"]]), np.array([o[k][1] for o in per["A"]])) for k in range(n_ord + 1)
    }
    B_orders = {
        k: (np.array([o[k][0] for o in per["B"]]), np.array([o[k][1] for o in per["B"]])) for k in range(n_ord + 1)
    }
    # a point of an order is converged when every family value at that point is
    conv = [all(v.converged[i] for v in famv.values()) for i in range(len(grid))]
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(TEXT_WIDTH_IN, 3.3))
    fam_latex = {f.name: f.latex for ser in (serA, serB) for f in ser.families()}
    from ..families import _latex_name  # noqa: PLC0415

    for n, v in famv.items():
        y = np.abs(np.asarray(v.estimate, float))
        if np.all(y > 0):
            lab = "$" + fam_latex.get(n, _latex_name(n)) + "$"
            try:  # mathtext must be able to typeset the label; otherwise the plain name
                from matplotlib.mathtext import MathTextParser  # noqa: PLC0415

                MathTextParser("path").parse(lab)
            except Exception:  # noqa: BLE001
                lab = n
            axes[0].loglog(grid, y, "-", marker=".", label=lab)
    axes[0].axvline(cfg.Lambda0, color="0.6", lw=0.8, ls="--")
    axes[0].set(xlabel=r"$\Lambda$", ylabel=r"$|$value$|$", title=f"families, d = {cfg.dim}, m = {cfg.mass:g}")
    from matplotlib.ticker import NullFormatter  # noqa: PLC0415

    axes[0].legend(ncol=4, fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.22))
    sign_notes = []
    for k in range(n_ord + 1):
        for q, orders, ls in (("B", B_orders, "-"), ("A", A_orders, "--")):
            y = orders[k][0]
            (line,) = axes[1].loglog(grid, np.abs(y), ls, label=rf"${q}$: $|[\lambda^{k}]|$")
            pos, neg = y > 0, y < 0
            axes[1].plot(grid[pos], np.abs(y[pos]), "o", color=line.get_color(), ms=3)
            axes[1].plot(grid[neg], np.abs(y[neg]), "o", mfc="white", color=line.get_color(), ms=3)
            sgn = np.sign(y)
            if np.all(sgn > 0):
                sign_notes.append(rf"${q}$ at $\lambda^{k}$: positive")
            elif np.all(sgn < 0):
                sign_notes.append(rf"${q}$ at $\lambda^{k}$: negative")
            else:
                ch = [float(np.sqrt(grid[i] * grid[i + 1])) for i in range(len(y) - 1) if sgn[i] * sgn[i + 1] < 0]
                sign_notes.append(
                    rf"${q}$ at $\lambda^{k}$: changes sign near $\Lambda\approx"
                    + ",".join(L.num(c, 3) for c in ch)
                    + "$"
                )
    axes[1].axvline(cfg.Lambda0, color="0.6", lw=0.8, ls="--")
    axes[1].set(
        xlabel=r"$\Lambda$",
        ylabel=r"$|$coefficient$|$",
        title=r"$A$ and $B$ per order ($\delta^d(0)\lambda^k$)"
        + ("" if ctx["theory"].N == 1 else f", N = {ctx['theory'].N}"),
    )
    axes[1].legend(fontsize=6, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.22))
    # labelled ticks on the log Lambda axis: a decade rarely fits in the scan (0.25..2 by default)
    ticks = _log_ticks(float(grid.min()), float(grid.max()))
    for ax in axes:
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{t:.3g}" for t in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())
    f2 = "figures/families_vs_Lambda.pdf"
    _save(plt, fig, out / f2)
    figs.append(f2)
    parts.append(
        _figure(
            f2,
            rf"Left: the blocks and families of $A$ and $B$ against $\Lambda$ (log--log, "
            rf"{len(grid)} points; dashed line $\Lambda_0$). Right: the magnitude of the per-order "
            r"coefficients of $B$ (solid) and $A$ (dashed); filled markers are positive values, "
            r"open markers negative ones. On this grid: " + "; ".join(sign_notes) + ". "
            r"Values and errors are tabulated below and in \texttt{report.json}.",
        )
    )
    show = [n for n in ("f0", "f1", "f2") if n in famv]
    idx = np.unique(np.linspace(0, len(grid) - 1, min(len(grid), 6)).round().astype(int))
    rows = []
    for i in idx:
        row = [f"${L.num(grid[i], 4)}$"]
        for n in show:
            v = famv[n]
            row.append(f"${L.paren(np.asarray(v.estimate)[i], np.asarray(v.error)[i])}$")
        rows.append(row)
    parts.append(
        L.table(
            [r"$\Lambda$"] + [f"${n[0]}_{n[1]}$" for n in show],
            rows,
            align="r" * (len(show) + 1),
            size=r"\footnotesize",
            caption=r"$f_0,f_1,f_2$ at a few points of the scan (all families and "
            r"points: \texttt{report.json}).",
        )
    )
    data["scan"] = {
        "Lambda": grid.tolist(),
        "families": {n: v.to_dict() for n, v in famv.items()},
        "B_orders": {
            str(k): {"value": e.tolist(), "error": r.tolist(), "converged": conv} for k, (e, r) in B_orders.items()
        },
        "A_orders": {
            str(k): {"value": e.tolist(), "error": r.tolist(), "converged": conv} for k, (e, r) in A_orders.items()
        },
    }
    return Section("figures", title, "\n\n".join(parts), data, figs)


def _log_ticks(lo: float, hi: float) -> list:
    """At least three readable tick values in ``[lo, hi]`` for a log axis (1, 2, 5 per decade,
    then 1..9 per decade when the range is narrower)."""
    import math

    d0, d1 = math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1
    for mants in ((1,), (1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9)):
        ticks = [
            m * 10.0**d for d in range(d0, d1 + 1) for m in mants if lo * (1 - 1e-9) <= m * 10.0**d <= hi * (1 + 1e-9)
        ]
        if len(ticks) >= 3:
            return ticks if len(ticks) <= 9 else ticks[:: -(-len(ticks) // 9)]
    return [lo, math.sqrt(lo * hi), hi]


def _save(plt, fig, path):
    """Lay out, write and close a matplotlib figure (cropped to its content)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # tight_layout's notes on outside legends
        fig.tight_layout(pad=0.3)
    fig.savefig(path, bbox_inches="tight", pad_inches=0.02)
    plt.close(fig)


def _figure(path, caption, width=r"\linewidth") -> str:
    return "\n".join(
        [
            r"\begin{figure}[H]",
            r"\centering",
            rf"\includegraphics[width={width}]{{{path}}}",
            rf"\caption{{{caption}}}",
            r"\end{figure}",
        ]
    )


def errata_section(cfg: ReportConfig, ctx: dict) -> Section:
    """The paper's statements that ergsym contradicts: printed vs correct, step, number, commands
    (``N = 1`` only: for an O(N) report one sentence says why they are absent)."""
    from .errata import ERRATA

    if ctx["theory"].N != 1:
        from .on import paper_absent

        return paper_absent(
            "errata",
            "Errata: statements of the paper that do not survive a check",
            ctx["theory"].N,
            "statements and printed equations checked here",
        )

    items = []
    for e in ERRATA:
        items.append(
            "\n".join(
                [
                    rf"\item \textbf{{{L.text(e['where'])}.}} Step that fails: {e['step']}.",
                    r"\begin{align*}",
                    r"\text{printed:}\quad &" + e["printed"] + r"\\",
                    r"\text{correct:}\quad &" + e["correct"],
                    r"\end{align*}",
                    rf"Decisive number: {e['number']}. Shown by:",
                    L.cmd_block(e["commands"]),
                ]
            )
        )
    body = (
        r"Each item names a statement of the paper, the step of its derivation that fails, the "
        r"equation as printed and as ergsym derives it, the number that decides, and the commands "
        r"that show it (run from the root of the ergsym source tree; the same list is "
        r"\texttt{docs/errata.md}, and the test suite runs every command)."
        + "\n"
        + r"\begin{enumerate}"
        + "\n".join(items)
        + r"\end{enumerate}"
    )
    return Section(
        "errata",
        "Errata: statements of the paper that do not survive a check",
        body,
        {"errata": [{k: v for k, v in e.items()} for e in ERRATA]},
    )
