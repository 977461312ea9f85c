"""Report section along the Polchinski flow (needs :mod:`ergsym.flow`).

B along the flow is the engine's flowed series (:func:`ergsym.flow.flow_monotone`, families in
``Kt_Lambda``, ``D`` and ``Delta = Kt_Lambda0 - Kt_Lambda``) evaluated as exact lattice sums on
a fine periodic lattice; ``M_Lambda - M_Lambda0 = int_Lambda^Lambda0 B dL/L``.  The free part
of M is also known in closed form, ``-1/2 sum_p log(Kt_Lambda/Kt_Lambda0)``, which checks the
integration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import latex as L
from .lattice_sections import lattice_note
from .numeric_sections import TEXT_WIDTH_IN, _figure, _phi4_only, _plt, _save, print_style
from .section import Section

if TYPE_CHECKING:
    from .config import ReportConfig

__all__ = ["flow_section", "FLOW_LATTICE"]

#: The lattice of the flow section: fine enough that many momenta cross the bump's window.
FLOW_LATTICE = "32x32"


def _unavailable(reason):
    return Section(
        "flow",
        "Along the Polchinski flow",
        r"\emph{Section unavailable:} " + L.text(reason),
        {"unavailable": reason},
        available=False,
    )


@print_style
def flow_section(cfg: ReportConfig, ctx: dict) -> Section:
    title = r"Along the Polchinski flow: $B(\Lambda)$ and $M_\Lambda-M_{\Lambda_0}$"
    skip = _phi4_only("flow", title, ctx["theory"])
    if skip:
        return skip
    try:
        from ..flow import flow_monotone
    except ImportError as exc:  # the flow layer is optional / being built
        return _unavailable(f"ergsym.flow could not be imported ({exc}); install or update ergsym.")
    from ..lattice.sums import lattice_propagators, series_on_lattice
    from ..symbolic import monotone

    order = min(cfg.order, 2)
    n_comp = ctx["theory"].N  # O(N): the flowed series of the N-component model, summed over a
    try:
        ser = flow_monotone(order, "B") if n_comp == 1 else flow_monotone(order, "B", N=n_comp)
    except Exception as exc:  # noqa: BLE001 - report, do not crash, if the layer misbehaves
        return _unavailable(f"ergsym.flow.flow_monotone failed: {type(exc).__name__}: {exc}")
    bare = monotone(order, "B", cfg.scheme, ctx["theory"])
    cut, out = ctx["mc_cutoff"] or ctx["cutoff"], ctx["out"]
    n = 41 if cfg.quick else 201
    logs = np.linspace(np.log(cfg.Lambda0), np.log(0.3 * cfg.Lambda0), n)
    grid = np.exp(logs)
    k0, _ = lattice_propagators(FLOW_LATTICE, cut, cfg.mass, cfg.Lambda0)
    per_flow, per_bare, free_exact = [], [], []
    for lam_ in grid:
        k, d = lattice_propagators(FLOW_LATTICE, cut, cfg.mass, float(lam_))
        per_flow.append(series_on_lattice(ser, FLOW_LATTICE, k, d, delta_p=k0 - k))
        per_bare.append(series_on_lattice(bare, FLOW_LATTICE, k, d))
        free_exact.append(-0.5 * n_comp * float(np.sum(np.log(k / k0))))
    per_flow, per_bare = np.array(per_flow), np.array(per_bare)
    free_exact = np.array(free_exact)
    # M_Lambda - M_Lambda0 = int_{log Lambda}^{log Lambda0} B dlogL: cumulative trapezoid
    h = logs[0] - logs[1]

    def cumtrap(y):
        return np.concatenate([[0.0], np.cumsum(0.5 * h * (y[1:] + y[:-1]))])

    M_orders = np.stack([cumtrap(per_flow[:, j]) for j in range(order + 1)], axis=1)
    M_half = np.stack(
        [np.concatenate([[0.0], np.cumsum(h * (per_flow[2::2, j] + per_flow[:-2:2, j]))]) for j in range(order + 1)],
        axis=1,
    )
    err_half = np.abs(M_orders[::2] - M_half)  # trapezoid step h vs 2h: error estimate
    free_dev = float(np.max(np.abs(M_orders[:, 0] - free_exact)))
    lam_show = [x for x in cfg.lams if x > 0][:3] or [0.1]
    # lattice shells: how many momenta have D_p != 0 at each scale (B moves in steps/wiggles
    # as discrete shells p^2 = sum 4 sin^2(p_mu/2) enter and leave the window of dK/dLambda)
    n_on = np.array(
        [int(np.count_nonzero(lattice_propagators(FLOW_LATTICE, cut, cfg.mass, float(x))[1])) for x in grid]
    )
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(TEXT_WIDTH_IN, 2.5))
    for i, x in enumerate(lam_show):
        tot = sum(per_flow[:, j] * x**j for j in range(1, order + 1))
        totb = sum(per_bare[:, j] * x**j for j in range(1, order + 1))
        axes[0].plot(grid, tot, "-", color=f"C{i}", label=rf"flow, $\lambda={x:g}$")
        axes[0].plot(grid, totb, "--", color=f"C{i}", label=rf"bare action at $\Lambda$, $\lambda={x:g}$")
    axes[0].axhline(0, color="0.7", lw=0.5)
    n_tag = "" if n_comp == 1 else f", N = {n_comp}"
    axes[0].set(xlabel=r"$\Lambda$", ylabel=r"$B-B_{\rm free}$", title=r"interacting part of $B(\Lambda)$" + n_tag)
    axes[0].legend(fontsize=6.5)
    for i, x in enumerate(lam_show):
        axes[1].plot(
            grid, sum(M_orders[:, j] * x**j for j in range(1, order + 1)), "-", color=f"C{i}", label=rf"$\lambda={x:g}$"
        )
    axes[1].axhline(0, color="0.7", lw=0.5)
    axes[1].set(
        xlabel=r"$\Lambda$",
        ylabel=r"$\Delta M-\Delta M_{\rm free}$",
        title=r"interacting part of $\Delta M=M_\Lambda-M_{\Lambda_0}$" + n_tag,
    )
    axes[1].legend()
    fpath = "figures/flow.pdf"
    _save(plt, fig, out / fpath)
    pick = np.unique(np.linspace(0, n - 1, 6).round().astype(int))
    pick = pick[pick % 2 == 0] if np.all(pick % 2 == 0) else np.unique((pick // 2) * 2)
    rows = []
    for i in pick:
        row = [f"${L.num(grid[i], 4)}$"] + [f"${L.num(per_flow[i, j], 7)}$" for j in range(order + 1)]
        row += [
            f"${L.paren(M_orders[i, j], err_half[i // 2, j])}$"
            if err_half[i // 2, j] > 0
            else ("$0$ (exact)" if M_orders[i, j] == 0 else f"${L.num(M_orders[i, j], 7)}$")
            for j in range(order + 1)
        ]
        rows.append(row)
    head = (
        [r"$\Lambda$"]
        + [rf"$[B]_{{\lambda^{j}}}$" for j in range(order + 1)]
        + [rf"$[M_\Lambda-M_{{\Lambda_0}}]_{{\lambda^{j}}}$" for j in range(order + 1)]
    )
    body = "\n\n".join(
        [
            lattice_note(cfg, ctx.get("warnings"))
            + " "
            + (
                r"Polchinski's equation evolves $P_\Lambda$ from the $\phi^4$ action at $\Lambda_0$; the engine "
                if n_comp == 1
                else rf"Polchinski's equation evolves $P_\Lambda$ from the O(${n_comp}$) action "
                r"$(\lambda/4!)(\phi_a\phi_a)^2$ at $\Lambda_0$ (every quantity summed over the components); the engine "
            )
            + r"expands $B(\Lambda)=-\Lambda\,\mathrm{d}M/\mathrm{d}\Lambda$ at any $\Lambda\le\Lambda_0$ with the "
            r"flowed action (families of $\tilde K_\Lambda$, $D$ and $\Delta=\tilde K_{\Lambda_0}-\tilde K_\Lambda$, "
            r"\texttt{ergsym.flow}). Here the families are exact lattice sums on "
            rf"the 2-d lattice {L.cmd(FLOW_LATTICE)} with cutoff {L.cmd(cut.spec)}, $m={L.g(cfg.mass)}$, "
            rf"$\Lambda_0={L.g(cfg.Lambda0)}$, at {n} scales down to $0.3\Lambda_0$ (whole-lattice sums). "
            r"$M_\Lambda-M_{\Lambda_0}=\int_{\Lambda}^{\Lambda_0}B\,\mathrm{d}\Lambda'/\Lambda'$ by the trapezoid "
            r"rule (error: change when the step is doubled). Check: the free part of the integral agrees with "
            + (
                r"the closed form $-\tfrac12\sum_p"
                if n_comp == 1
                else rf"the closed form $-\tfrac{{{n_comp}}}{{2}}\sum_p"
            )
            + rf"\log(\tilde K_\Lambda/\tilde K_{{\Lambda_0}})$ to ${L.num(free_dev, 2)}$ "
            r"(absolute, largest over the grid). "
            + (
                r"The dashed curves restart the bare $\phi^4$ action at each $\Lambda$ (what the paper's "
                r"(5.15) would give if applied at $\Lambda<\Lambda_0$); they are not the flow. "
                if n_comp == 1
                else r"The dashed curves restart the bare action at each $\Lambda$; they are not the flow. "
            )
            + rf"The curves are not smooth: on a lattice $D_p\neq0$ only for the discrete shells of momenta "
            rf"whose $\hat p^2$ lies in the support of $\partial_\Lambda K$, between {int(n_on.min())} and "
            rf"{int(n_on.max())} of the {int(k0.size)} momenta on this grid, and $B$ jumps or wiggles whenever a "
            r"shell enters or leaves it. These wiggles are lattice artefacts, not physics; they shrink as the "
            r"lattice is refined.",
            L.table(
                head,
                rows,
                align="r" * len(head),
                size=r"\scriptsize",
                caption=r"Coefficients of $\lambda^j$ along the flow (lattice sums; $B$ exact, $M$ by quadrature in $\log\Lambda$).",
            ),
            _figure(
                fpath,
                r"Left: the interacting part of $B$ along the flow (solid) and with the bare action "
                r"restarted at $\Lambda$ (dashed). Right: the interacting part of $\Delta M=M_\Lambda-M_{\Lambda_0}$, "
                rf"$\Delta M-\Delta M_{{\rm free}}$ (the free part $\Delta M_{{\rm free}}$ is the closed form above). Lattice {L.cmd(FLOW_LATTICE)}, {n} scales.",
            ),
        ]
    )
    data = {
        "lattice": FLOW_LATTICE,
        "cutoff": cut.spec,
        "Lambda": grid.tolist(),
        "B_flow_orders": per_flow.tolist(),
        "B_bare_orders": per_bare.tolist(),
        "M_orders": M_orders.tolist(),
        "M_free_closed_form": free_exact.tolist(),
        "free_integration_max_deviation": free_dev,
        "momenta_with_D": n_on.tolist(),
        "series": ser.to_json(),
    }
    if n_comp != 1:
        data["N"] = n_comp
    return Section("flow", title, body, data, [fpath])
