"""Report sections built from the numeric layer: values with errors, cutoff and scan figures."""
from __future__ import annotations

import numpy as np

from . import latex as L
from .section import Section

__all__ = ["numeric_section", "figures_section", "errata_section", "scan_grid"]

_QUANTITIES = ("A", "B", "dSdS", "dSdShat", "dShatdShat", "LdShat")
_QTEX = {"A": "$A$", "B": "$B$", "dSdS": "$P_1$ (5.14)", "dSdShat": "$P_2$ (5.13)",
         "dShatdShat": "$P_3$ (5.12)", "LdShat": "$P_4$ (5.11)"}


def _phi4_only(key, title, theory):
    from ..symbolic import PHI4

    if theory != PHI4:
        return Section(key, title, r"This section is computed for $\lambda\phi^4/4!$ only "
                       rf"(theory here: {L.text(theory.describe())}).", {}, available=False)
    return None


def _numeric_order(cfg):
    """Highest order the continuum layer evaluates (general blocks appear at O(lam^3))."""
    return min(cfg.order, 2)


def numeric_section(cfg, ctx) -> Section:
    """Every family at ``Lambda0`` with errors; A, B, pieces per order and summed."""
    from ..errors import DivergentIntegralError, FamilyNotSupportedError
    from ..numeric import evaluate_named
    from ..symbolic import monotone

    title = r"Numbers: families, $A$, $B$ and the pieces at $\Lambda_0$"
    skip = _phi4_only("numeric", title, ctx["theory"])
    if skip:
        return skip
    cutoff, dim, mass, Lam = ctx["cutoff"], cfg.dim, cfg.mass, cfg.Lambda0
    where = (rf"cutoff {L.verbatim(cutoff.spec)}, $d={dim}$, $m={L.g(mass)}$, "
             rf"$\Lambda=\Lambda_0={L.g(Lam)}$")
    parts = [rf"Continuum quadrature ({where}). Every value carries the numeric layer's error "
             r"estimate (absolute); one-loop blocks are radial integrals split at the cutoff's "
             r"breakpoints, melon blocks (the sunset) position-space Hankel transforms."]
    data = {"point": {"cutoff": cutoff.spec, "dim": dim, "mass": mass, "Lambda": Lam}}
    named = evaluate_named(cutoff, dim, mass, Lam, on_divergence="record")
    rows, fam_data = [], {}
    for n, v in named.items():
        if isinstance(v, DivergentIntegralError):
            rows.append([n, r"\textbf{divergent}", L.text(str(v))[:160]])
            fam_data[n] = {"divergent": True, "message": str(v)}
        else:
            rows.append([n, f"${L.value_err(v.estimate, v.error, 12)}$", "yes" if bool(v.converged) else "NO"])
            fam_data[n] = v.to_dict()
    parts.append(L.table(["family", "value", "converged"], rows, align="lrl",
                         caption="The basic families of SPEC section 2 at $\\Lambda_0$."))
    data["families"] = fam_data
    n_ord = _numeric_order(cfg)
    series = {q: monotone(n_ord, q, cfg.scheme) for q in _QUANTITIES}
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
        rows = [[f"${fam_tex[n]}$" if n in fam_tex else L.text(n), f"${L.value_err(v.estimate, v.error, 12)}$"]
                for n, v in extra_fams.items()]
        parts.append(L.table(["product family", "value"], rows, align="lr",
                             caption="Product families beyond the basic ones (tadpole chains)."))
        data["product_families"] = {n: v.to_dict() for n, v in extra_fams.items()}
    if per_q:
        head = ["quantity"] + [rf"$[\lambda^{k}]$" for k in range(n_ord + 1)]
        head2 = ["quantity"] + [rf"at $\lambda={L.g(x)}$" for x in cfg.lams]
        rows, rows2, qdata = [], [], {}
        for q, (orders, sums) in per_q.items():
            rows.append([_QTEX[q]] + [f"${L.value_err(c[0], c[1], 10)}$" for c in orders])
            rows2.append([_QTEX[q]] + [f"${L.value_err(v, e, 10)}$" for v, e in sums])
            qdata[q] = {"orders": [{"value": v, "error": e} for v, e in orders],
                        "sums": {str(x): {"value": v, "error": e} for x, (v, e) in zip(cfg.lams, sums)}}
        parts.append(L.table(head, rows, align="l" + "r" * (len(head) - 1), size=r"\footnotesize",
                             caption=(r"Coefficients of $\delta^d(0)\lambda^k$ (quadrature errors; "
                                      r"families' errors added linearly).")))
        parts.append(L.table(head2, rows2, align="l" + "r" * (len(head2) - 1), size=r"\footnotesize",
                             caption=(r"The series truncated at $O(\lambda^{%d})$ and summed. The $\pm$ is "
                                      r"the quadrature error only; the truncation error is not included "
                                      r"(compare the size of the last term above)." % n_ord)))
        data["quantities"] = qdata
    if cfg.order > n_ord:
        parts.append(rf"The $O(\lambda^{{{cfg.order}}})$ terms contain `general' blocks (triangles and "
                     r"beyond) that the continuum layer does not evaluate; their exact lattice sums are in "
                     r"the lattice section.")
    if notes:
        parts.append(r"\paragraph{Not evaluated.}" + r"\begin{itemize}" +
                     "".join(rf"\item {n}" for n in notes) + r"\end{itemize}")
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


def family_values(series_list, cutoff, dim, mass, Lambda) -> dict:
    """Every family of the given series at one point, each block evaluated once.

    Returns ``{family name: Value}`` (plus the blocks by name).
    """
    from ..numeric import evaluate_series

    pred = evaluate_series(_Terms(series_list), cutoff, dim, mass, Lambda)
    out = dict(pred.families)
    for n, v in pred.blocks.items():
        out.setdefault(n, v)
    return out


def combine_orders(series, famvals) -> list:
    """``[(value, error), ...]`` per order of a one-coupling series from family values.

    Errors add linearly (``sum |c| err``): an upper bound of first-order propagation that
    ignores the signs of correlated contributions.
    """
    out = []
    for k in range(series.order + 1):
        v = e = 0.0
        for c, p, f in series.coefficient(k):
            fv = famvals[f.name]
            v += float(c) * float(fv.estimate)
            e += abs(float(c)) * float(fv.error)
        out.append((v, e))
    return out


def sum_series(orders, lam):
    """The truncated series at ``lam`` with its (linear) quadrature error."""
    return (sum(v * lam ** k for k, (v, _) in enumerate(orders)),
            sum(e * lam ** k for k, (_, e) in enumerate(orders)))


def scan_grid(cfg, cutoff):
    """Lambda grid of the scan: from 0.25 Lambda0 to lambda_max (bump) or 2 Lambda0."""
    hi = getattr(cutoff, "lambda_max", 2.0 * cfg.Lambda0)
    return np.geomspace(0.25 * cfg.Lambda0, hi, cfg.n_scan)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_cutoff(cutoff, Lambda, path):
    """Figs. 1, 2 and 4 of seed 000 for ``cutoff``: K, Lambda dK/dLambda, the family in Lambda."""
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    bps = cutoff.breakpoints(Lambda)
    hi = max([3.0 * Lambda ** 2] + [1.3 * b for b in bps])
    p2 = np.unique(np.concatenate([np.linspace(0, hi, 4001), np.asarray(bps, float)]))
    axes[0].plot(p2, cutoff.K(p2, Lambda), "k-")
    axes[0].set(xlabel=r"$p^2$", ylabel=r"$K_\Lambda(p^2)$", title=rf"Fig. 1: $K$ at $\Lambda={Lambda:g}$")
    # the bump of Lambda dK/dLambda lives on [Lambda^2, Lambda^2+eps]: sample it densely
    lo_b, hi_b = bps[0], (bps[1] if len(bps) > 1 else 2 * bps[0])
    pz = np.unique(np.concatenate([p2, np.linspace(lo_b, hi_b, 2001)]))
    axes[1].plot(pz, cutoff.Lambda_dK(pz, Lambda), "C3-")
    axes[1].set(xlabel=r"$p^2$", ylabel=r"$\Lambda\partial_\Lambda K_\Lambda$", title=r"Fig. 2: $\Lambda\,\partial_\Lambda K$")
    lmax = getattr(cutoff, "lambda_max", 2.0 * Lambda)
    hi4 = max(hi, 1.3 * (lmax ** 2 + getattr(cutoff, "eps", 0.0)) + 2.0)
    pp = np.linspace(0, hi4, 4001)
    for lam in np.linspace(0.25 * lmax, lmax, 4):
        axes[2].semilogy(pp, np.maximum(cutoff.K(pp, lam), 1e-300), label=rf"$\Lambda={lam:.3g}$")
    axes[2].set(xlabel=r"$p^2$", ylabel=r"$K_\Lambda(p^2)$", title=r"Fig. 4: the family in $\Lambda$")
    axes[2].set_ylim(bottom=max(1e-6, float(np.min(cutoff.K(pp, lmax))) / 2))
    axes[2].legend(fontsize=7)
    _save(plt, fig, path)


def figures_section(cfg, ctx) -> Section:
    """Cutoff Figs. 1/2/4 and the families, A and B against Lambda (with errors)."""
    from ..errors import DivergentIntegralError, FamilyNotSupportedError
    from ..symbolic import monotone

    cutoff, out = ctx["cutoff"], ctx["out"]
    figs, parts, data = [], [], {}
    f1 = "figures/cutoff.pdf"
    plot_cutoff(cutoff, cfg.Lambda0, out / f1)
    figs.append(f1)
    parts.append(_figure(f1, rf"The cutoff {L.verbatim(cutoff.spec)}: $K_\Lambda(p^2)$ at "
                         rf"$\Lambda_0={L.g(cfg.Lambda0)}$ (cf. the paper's Fig.~1), "
                         r"$\Lambda\partial_\Lambda K$ (cf. Fig.~2; for the bump it lives on "
                         r"$[\Lambda^2,\Lambda^2+\varepsilon]$), and the family for several $\Lambda$ (cf. Fig.~4)."))
    title = r"Figures: the cutoff and the integrals against $\Lambda$"
    if _phi4_only("figures", title, ctx["theory"]) is not None:
        parts.append(r"Scans against $\Lambda$ are computed for $\lambda\phi^4/4!$ only.")
        return Section("figures", title, "\n\n".join(parts), data, figs)
    grid = scan_grid(cfg, cutoff)
    n_ord = _numeric_order(cfg)
    serA, serB = monotone(n_ord, "A", cfg.scheme), monotone(n_ord, "B", cfg.scheme)
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

        def to_dict(self):
            return {"value": self.estimate.tolist(), "error": self.error.tolist()}

    famv = {n: _V(n) for n in points[0]}
    per = {q: [combine_orders(ser, p) for p in points] for q, ser in (("A", serA), ("B", serB))}
    A_orders = {k: (np.array([o[k][0] for o in per["A"]]), np.array([o[k][1] for o in per["A"]]))
                for k in range(n_ord + 1)}
    B_orders = {k: (np.array([o[k][0] for o in per["B"]]), np.array([o[k][1] for o in per["B"]]))
                for k in range(n_ord + 1)}
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for n, v in famv.items():
        y = np.abs(np.asarray(v.estimate, float))
        if np.all(y > 0):
            axes[0].loglog(grid, y, "-", marker=".", label=L.text(n).replace("$", ""))
    axes[0].axvline(cfg.Lambda0, color="0.6", lw=0.8, ls="--")
    axes[0].set(xlabel=r"$\Lambda$", ylabel="|value|", title=f"families, d={cfg.dim}, m={cfg.mass:g}")
    axes[0].legend(fontsize=6, ncol=2)
    for k in range(n_ord + 1):
        axes[1].semilogx(grid, B_orders[k][0], "-", marker=".", label=rf"$B$: $\lambda^{k}$ coeff.")
        axes[1].semilogx(grid, A_orders[k][0], "--", label=rf"$A$: $\lambda^{k}$ coeff.")
    axes[1].set_yscale("symlog", linthresh=1e-6)
    axes[1].axvline(cfg.Lambda0, color="0.6", lw=0.8, ls="--")
    axes[1].set(xlabel=r"$\Lambda$", ylabel=r"coefficient of $\delta^d(0)\lambda^k$", title="A and B per order")
    axes[1].legend(fontsize=7)
    f2 = "figures/families_vs_Lambda.pdf"
    _save(plt, fig, out / f2)
    figs.append(f2)
    parts.append(_figure(f2, r"Left: the blocks and families of $B$ against $\Lambda$ (log--log; dashed line "
                         r"$\Lambda_0$). Right: the per-order coefficients of $B$ (solid) and $A$ (dashed), "
                         r"symmetric-log scale. Values and errors are tabulated below and in "
                         r"\texttt{report.json}."))
    show = [n for n in ("f0", "f1", "f2") if n in famv]
    idx = np.unique(np.linspace(0, len(grid) - 1, min(len(grid), 6)).round().astype(int))
    rows = []
    for i in idx:
        row = [f"${L.num(grid[i], 4)}$"]
        for n in show:
            v = famv[n]
            row.append(f"${L.value_err(np.asarray(v.estimate)[i], np.asarray(v.error)[i], 7)}$")
        rows.append(row)
    parts.append(L.table([r"$\Lambda$"] + [f"${n[0]}_{n[1]}$" for n in show], rows,
                         align="r" * (len(show) + 1), size=r"\footnotesize",
                         caption=r"$f_0,f_1,f_2$ at a few points of the scan (all families and "
                                 r"points: \texttt{report.json})."))
    data["scan"] = {"Lambda": grid.tolist(),
                    "families": {n: v.to_dict() for n, v in famv.items()},
                    "B_orders": {str(k): {"value": e.tolist(), "error": r.tolist()}
                                 for k, (e, r) in B_orders.items()},
                    "A_orders": {str(k): {"value": e.tolist(), "error": r.tolist()}
                                 for k, (e, r) in A_orders.items()}}
    return Section("figures", title, "\n\n".join(parts), data, figs)


def _save(plt, fig, path):
    """Lay out, write and close a matplotlib figure."""
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _figure(path, caption, width=r"\linewidth") -> str:
    return "\n".join([r"\begin{figure}[H]", r"\centering", rf"\includegraphics[width={width}]{{{path}}}",
                      rf"\caption{{{caption}}}", r"\end{figure}"])


def errata_section(cfg, ctx) -> Section:
    """The paper's statements that ergsym contradicts: printed vs correct, step, number, commands."""
    from .errata import ERRATA

    items = []
    for e in ERRATA:
        items.append("\n".join([
            rf"\item \textbf{{{L.text(e['where'])}.}} Step that fails: {e['step']}.",
            r"\begin{align*}", r"\text{printed:}\quad &" + e["printed"] + r"\\",
            r"\text{correct:}\quad &" + e["correct"], r"\end{align*}",
            rf"Decisive number: {e['number']}. Shown by:", L.cmd_block(e["commands"])]))
    body = (r"Each item names a statement of the paper, the step of its derivation that fails, the "
            r"equation as printed and as ergsym derives it, the number that decides, and the commands "
            r"that show it (run from the root of the ergsym source tree; the same list is "
            r"\texttt{docs/errata.md}, and the test suite runs every command)." + "\n" +
            r"\begin{enumerate}" + "\n".join(items) + r"\end{enumerate}")
    return Section("errata", "Errata: statements of the paper that do not survive a check", body,
                   {"errata": [{k: v for k, v in e.items()} for e in ERRATA]})
