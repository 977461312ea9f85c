"""Report section: fixed points and exponents of the O(N) LPA (``ergsym report --lpa``).

A table of nu and omega for N = 1..4 in d = 3 from both LPA equations (the Wilson-Polchinski
and the Wetterich one with the Litim regulator) with their cross-check, and a figure of nu(d)
and omega(d) for N = 1 and N = 4 (:mod:`ergsym.lpa`, docs/lpa.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import latex as L
from .numeric_sections import TEXT_WIDTH_IN, _figure, _plt, _save, print_style
from .section import Section

if TYPE_CHECKING:
    from .config import ReportConfig

__all__ = ["lpa_section"]

#: published LPA values, N = 1, d = 3 (Bervillier, Juttner, Litim, hep-th/0701172)
NU_BJL, OMEGA_BJL = 0.649561773880, 0.655745939193


@print_style
def lpa_section(cfg: ReportConfig, ctx: dict) -> Section:
    from ..errors import ConvergenceError
    from ..lpa import solve_lpa
    from ..lpa.solve import lpa_point

    title = r"Fixed points of Polchinski's equation in the local potential approximation"
    rows, data = [], {"d3": [], "scan": {}}
    n_rep = ctx["theory"].N  # the report's N: always in the table and the figure
    table_ns = (1, 2, 3, 4) if n_rep in (1, 2, 3, 4) else (1, 2, 3, 4, n_rep)
    figure_ns = ((1, "o"), (4, "s")) if n_rep in (1, 4) else ((1, "o"), (n_rep, "^"), (4, "s"))
    if n_rep != 1:
        data["N"] = n_rep
    for N in table_ns:
        for eq in ("polchinski", "wetterich"):
            r = solve_lpa(N, 3.0, eq)
            data["d3"].append(
                {
                    "N": N,
                    "equation": eq,
                    "nu": r.to_dict()["nu"],
                    "omega": r.to_dict()["omega"],
                    "crosscheck": r.crosscheck["verdict"],
                    "cpu_seconds": r.seconds,
                }
            )
            rows.append(
                [
                    str(N) if N != n_rep or n_rep == 1 else rf"\textbf{{{N}}}",
                    eq.capitalize(),
                    "$" + L.value_err(r.nu.estimate, r.nu.error, 12) + "$",
                    "$" + L.value_err(r.omega.estimate, r.omega.error, 12) + "$",
                    r.crosscheck["verdict"],
                ]
            )
    dims = [2.4 + 0.1 * k for k in range(16)] if not cfg.quick else [2.5, 2.8, 3.1, 3.4, 3.7]
    fig_name = "figures/lpa_exponents.pdf"
    plt = _plt()
    fig, ax = plt.subplots(1, 2, figsize=(TEXT_WIDTH_IN, 2.4))
    for N, mk in figure_ns:
        pts = [lpa_point(N, d, "polchinski", 1e-7) for d in dims]
        data["scan"][str(N)] = pts
        ok = [p for p in pts if p["ok"]]
        for i, key in enumerate(("nu", "omega")):
            ax[i].errorbar(
                [p["dim"] for p in ok],
                [p[key]["value"] for p in ok],
                yerr=[p[key]["error"] for p in ok],
                fmt=mk + "-",
                ms=3,
                label=f"N = {N}",
            )
    xs = [dims[0] + (dims[-1] - dims[0]) * k / 100 for k in range(101)]
    ax[0].plot(xs, [1 / (x - 2) for x in xs], ":", label=r"$N=\infty$: $1/(d-2)$")
    ax[0].set_ylim(0.4, 3.0)
    ax[0].set_ylabel(r"$\nu$")
    ax[1].set_ylabel(r"$\omega$")
    for a in ax:
        a.set_xlabel("$d$")
        a.legend(fontsize=7)
    _save(plt, fig, ctx["out"] / fig_name)
    failed = [f"N={p['N']:g}, d={p['dim']:g}" for pts in data["scan"].values() for p in pts if not p["ok"]]
    try:
        ref = solve_lpa(1, 3.0, "polchinski")
        dnu, dom = ref.nu.estimate - NU_BJL, ref.omega.estimate - OMEGA_BJL
    except ConvergenceError:  # pragma: no cover - tested in tests/test_lpa.py
        dnu = dom = float("nan")
    body = "\n".join(
        [
            r"The O(N) fixed-point equations of Polchinski's equation and of the Wetterich equation with "
            r"the optimised (Litim) regulator in the local potential approximation ($\eta=0$, "
            r"$\rho=\phi^2/2$), solved globally by Chebyshev collocation and exactly related by Morris's "
            r"map (hep-th/0503161); every line is checked against the other equation (docs/lpa.md).",
            L.table(
                ["$N$", "equation", r"$\nu$", r"$\omega$", "other equation"],
                rows,
                align="lllll",
                caption=r"LPA exponents in $d=3$ (errors from the resolution ladder)"
                + ("." if n_rep == 1 else rf"; bold: this report's $N={n_rep}$."),
                label="tab:lpa",
            ),
            rf"For $N=1$ the published LPA values (hep-th/0701172) are $\nu={NU_BJL}$, $\omega={OMEGA_BJL}$; "
            rf"ergsym differs by ${L.num(dnu, 2)}$ and ${L.num(dom, 2)}$.",
            _figure(
                fig_name,
                r"$\nu(d)$ and $\omega(d)$ of the Wilson--Fisher point (Polchinski equation, "
                r"cross-checked with the Wetterich one); dotted: $N=\infty$"
                + ("." if n_rep == 1 else rf"; $N={n_rep}$ is this report's."),
            ),
            ("" if not failed else L.text("No result (not converged) at: " + ", ".join(failed) + ".")),
            r"Reproduce: "
            + L.cmd("ergsym lpa --scan-N 1,2,3,4 --dim 3")
            + ", "
            + L.cmd("ergsym lpa --scan-dim 2.4:3.9:16 --N 4 --tol 1e-7 --plot nu.png")
            + ".",
        ]
    )
    return Section("lpa", title, body, data, [fig_name])
