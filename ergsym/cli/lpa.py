"""``ergsym lpa``: fixed points and critical exponents of the O(N) local potential approximation."""

from __future__ import annotations

import click

from .batch_options import scheduler_option

_SCAN_MAX = 200


def _parse_list(text, option, lo_check):
    """``"1,2,3"`` or ``"a:b:n"`` (n equally spaced values from a to b) -> list of floats."""
    text = str(text).strip()
    from ..errors import InputError  # noqa: PLC0415

    allowed = "a comma-separated list of numbers (e.g. 1,2,3,4) or START:STOP:COUNT (e.g. 2.5:3.5:5)"
    try:
        if ":" in text:
            a, b, n = text.split(":")
            a, b, n = float(a), float(b), int(n)
            if not 2 <= n <= _SCAN_MAX:
                raise InputError.bad(option, text, f"COUNT from 2 to {_SCAN_MAX} in START:STOP:COUNT")
            vals = [a + (b - a) * k / (n - 1) for k in range(n - 1)] + [b]
        else:
            vals = [float(x) for x in text.split(",") if x.strip() != ""]
    except ValueError:
        raise InputError.bad(option, text, allowed) from None
    if not vals or len(vals) > _SCAN_MAX:
        raise InputError.bad(option, text, f"{allowed}, 1 to {_SCAN_MAX} values")
    if len(set(vals)) != len(vals):
        raise InputError.bad(option, text, "distinct values")
    for v in vals:
        lo_check(v)
    return vals


def _nstr(x):
    """N for JSON and batch tasks: a number, or "infinity" (strict JSON has no inf)."""
    return "infinity" if float(x) == float("inf") else x


def _ng(x, width=0):
    """N for text: 4 significant digits, "infinity" spelled out."""
    s = "infinity" if float(x) == float("inf") else f"{float(x):.4g}"
    return f"{s:>{width}}"


def _fmt(v, digits=12):
    if v["error"] == 0:
        return f"{v['value']:.{digits}g} (exact)"
    s = f"{v['value']:.{digits}g} ± {v['error']:.1g}"
    if not v["converged"]:
        s += " [NOT CONVERGED]"
    return s


@click.command("lpa")
@scheduler_option
@click.option(
    "--N",
    "N",
    default="1",
    show_default=True,
    metavar="N",
    help="Number of field components, a real number from 1 to 1e8, or inf (the rescaled limit, exact).",
)
@click.option("--dim", default=3.0, type=float, show_default=True, help="Dimension, 2.2 <= dim <= 3.97.")
@click.option(
    "--equation",
    type=click.Choice(["polchinski", "wetterich"]),
    default="polchinski",
    show_default=True,
    help="Primary equation; the other is always solved and compared.",
)
@click.option(
    "--tol", default=1e-9, type=float, show_default=True, help="Target absolute error of the eigenvalues (1e-13..1e-3)."
)
@click.option(
    "--all-fixed-points",
    "all_fps",
    is_flag=True,
    help="Also search for multicritical fixed points (shooting scan; adds about a second).",
)
@click.option(
    "--scan-N",
    "scan_N",
    default=None,
    metavar="LIST",
    help="Table of nu(N), omega(N) at --dim: '1,2,3,4' or START:STOP:COUNT.",
)
@click.option(
    "--scan-dim",
    "scan_dim",
    default=None,
    metavar="LIST",
    help="Table of nu(d), omega(d) at --N: '2.5,3,3.5' or START:STOP:COUNT.",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write a figure (.png, .pdf, .svg): the fixed-point potentials and spectrum, or the scan's nu and omega.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing --plot file or a --store holding another batch.")
@click.option("--json", "as_json", is_flag=True, help="JSON to stdout (envelope of docs/json.md).")
def lpa(N, dim, equation, tol, all_fps, scan_N, scan_dim, plot, force, as_json, batch):
    """Wilson-Fisher fixed point, nu and omega in the local potential approximation (eta = 0).

    Solves the O(N) fixed-point equation of Polchinski's equation (Wilson-Polchinski form) and
    of the Wetterich equation with the Litim regulator globally (Chebyshev collocation on
    [0, R] in rho = phi^2/2), computes the even and odd spectra of the linearised flow with
    errors from resolution changes, and checks every result against the other equation through
    Morris's exact map between the two (hep-th/0503161).  Equations, method and accuracy:
    docs/lpa.md.

    \b
    Examples:
      ergsym lpa --N 1 --dim 3                        # N = 1: nu = 0.6495617739, omega = 0.6557459392
      ergsym lpa --N 2 --equation wetterich --json
      ergsym lpa --scan-N 1,2,3,4 --dim 3 --plot nu_N.png
      ergsym lpa --scan-dim 2.4:3.9:16 --N 4 --tol 1e-7 --scheduler local:2
      ergsym lpa --dim 2.6 --all-fixed-points         # Gaussian, tricritical, Wilson-Fisher
    """
    from ..errors import InputError  # noqa: PLC0415
    from ..lpa.solve import validate_lpa_inputs  # noqa: PLC0415
    from . import common  # noqa: PLC0415

    try:
        Nf = float(N)
    except ValueError:
        raise InputError.bad("--N", N, "a real number from 1 to 1e8") from None
    if scan_N is not None and scan_dim is not None:
        raise InputError.bad("--scan-N", scan_N, "used without --scan-dim", "scan one parameter at a time")
    if all_fps and (scan_N or scan_dim):
        raise InputError.bad("--all-fixed-points", True, "used without --scan-N/--scan-dim")

    validate_lpa_inputs(Nf, dim, equation, tol)
    if plot and Nf == float("inf") and scan_dim is None:
        raise InputError.bad(
            "--plot",
            plot,
            "used with a finite --N (or with --scan-dim)",
            "at N = inf the exact spectrum has no computed potential to draw",
        )
    plot_path = common.output_file(plot, "--plot", common.PLOT_EXTENSIONS, force=force)
    scan = None
    if scan_N is not None:
        scan = ("N", _parse_list(scan_N, "--scan-N", lambda v: validate_lpa_inputs(v, dim, equation, tol)))
    elif scan_dim is not None:
        scan = ("dim", _parse_list(scan_dim, "--scan-dim", lambda v: validate_lpa_inputs(Nf, v, equation, tol)))
    elif batch.active:
        raise InputError.bad(
            "--scheduler/--store",
            batch.scheduler or batch.store,
            "used together with --scan-N or --scan-dim",
            "a single point is not a batch",
        )
    warnings = common.Warnings()
    params = {"N": _nstr(Nf), "dim": dim, "equation": equation, "tol": tol}
    if scan is not None:
        _run_scan(scan, Nf, dim, equation, tol, params, plot_path, as_json, batch, warnings)
        return
    from ..lpa import solve_lpa  # noqa: PLC0415

    res = solve_lpa(Nf, dim, equation, tol=tol, scan=all_fps)
    results = res.to_dict()
    if res.crosscheck["verdict"] != "agrees":
        warnings.add(
            f"the cross-check with the {res.other.equation} equation is "
            f"{res.crosscheck['verdict']} (see results.crosscheck)"
        )
    if plot_path is not None:
        _plot_point(res, str(plot_path))
        results["plot"] = str(plot_path)
    if as_json:
        common.echo_json("lpa", params, results, warnings)
        return
    _print_point(res, results.get("plot"))


def _run_scan(scan, N, dim, equation, tol, params, plot_path, as_json, batch, warnings):
    from . import common  # noqa: PLC0415

    which, values = scan

    def plain(x):  # a batch task holds finite plain data: N = inf travels as "infinity"
        return _nstr(x)

    kw = [
        {"N": plain(v if which == "N" else N), "dim": v if which == "dim" else dim, "equation": equation, "tol": tol}
        for v in values
    ]
    keys = [f"N={k['N']}/dim={k['dim']!r}/{equation}/tol={tol!r}" for k in kw]
    points = batch.map("ergsym.lpa.solve:lpa_point", kw, keys, label="lpa")
    params.update({f"scan_{which}": [plain(v) for v in values], **batch.parameters()})
    for p in points:
        if not p["ok"]:
            warnings.add(f"N={_ng(p['N'])}, dim={p['dim']:g}: no result: {p['failure']}")
    results = {"scan": which, "points": points}
    if plot_path is not None:
        _plot_scan(which, points, str(plot_path), equation)
        results["plot"] = str(plot_path)
    if as_json:
        common.echo_json("lpa", params, results, warnings)
        return
    other = "wetterich" if equation == "polchinski" else "polchinski"
    fixed = f"dim = {dim:g}" if which == "N" else f"N = {_ng(N)}"
    click.echo(
        f"ergsym lpa: O(N) LPA (eta = 0), {equation} equation, {fixed}, scan of {which}; "
        f"every point cross-checked with the {other} equation"
    )
    click.echo(f"{which:>8}  {'nu':>26}  {'omega':>26}  {'other equation: nu, omega':>40}  check   cpu s")
    for p in points:
        x = _ng(p[which], 8)
        if not p["ok"]:
            click.echo(f"{x}  no result: {p['failure']}")
            continue
        oth = f"{p['other_nu']['value']:.10f}, {p['other_omega']['value']:.10f}"
        click.echo(
            f"{x}  {_fmt(p['nu']):>26}  {_fmt(p['omega']):>26}  {oth:>40}  {p['crosscheck']:7s} {p['cpu_seconds']:5.2f}"
        )
    if "plot" in results:
        click.echo(f"plot written to {results['plot']}")


def _label(v):
    lab = v.info.get("label", "")
    ex = v.info.get("exact")
    return lab + (f", exact {ex:g}" if ex is not None else "")


def _print_point(res, plot):
    fp, other = res.fixed_point, res.other
    names = {"polchinski": "Wilson-Polchinski", "wetterich": "Wetterich (Litim regulator)"}
    click.echo(
        f"ergsym lpa: O(N) local potential approximation (eta = 0), N = {_ng(res.N)}, "
        f"d = {res.dim:g}, {names[fp.equation]} equation"
    )

    def est(v):  # key numbers: value and error (their flags are in the JSON)
        return f"{v.estimate:.12g} ± {v.error:.1g}" if v.error > 0 else f"{v.estimate:.12g} (exact)"

    rho0 = "none (u' > 0)" if fp.rho0 is None else est(fp.rho0)
    click.echo(
        f"Wilson-Fisher fixed point (rescaled: u(rho) = N ubar(rho/N)): ubar(0) = {fp.u_at_0:.12g}, "
        f"ubar'(0) = {est(fp.sigma)}, minimum rhobar_0 = {rho0}"
        + ("" if fp.u2_at_min is None else f", ubar''(rhobar_0) = {fp.u2_at_min:.12g}")
    )
    if fp.grid[0]:
        click.echo(f"  solved on {fp.grid[0]} Chebyshev points on [0, {fp.grid[1]:.4g}], residual {fp.residual:.1g}")
    else:
        click.echo("  exact: the rescaled limit 1/N = 0, eigenvalues d - 2n (even), (d+2)/2 - 2n (odd); docs/lpa.md")
    click.echo(f"  nu    = {_fmt(_vd(res.nu))}")
    click.echo(f"  omega = {_fmt(_vd(res.omega))}")
    click.echo("  RG eigenvalues y (perturbation ~ k^-y toward the IR):")
    for sector, vals in (("even", fp.even), ("odd", fp.odd)):
        for v in vals:
            click.echo(f"    {sector:4s} {_fmt(_vd(v), 12):>34}  {_label(v)}")
    cc = res.crosscheck
    y_o = [v for v in other.even if v.info["label"] == "relevant"][0]
    w_o = [v for v in other.even if v.info["label"] == "irrelevant"][0]
    mis = cc["potential_mismatch"]
    click.echo(
        f"cross-check, {names[other.equation]} equation through Morris's map: {cc['verdict'].upper()}"
        f" (nu = {1 / y_o.estimate:.12g}, omega = {-w_o.estimate:.12g}; largest eigenvalue difference "
        f"{max(r['diff'] for r in cc['eigenvalues']):.1g}"
        + ("" if mis is None else f", mapped potentials differ by {mis:.1g}")
        + ")"
    )
    fps = ", ".join(f"{f.kind} ({f.n_relevant} relevant)" for f in res.fixed_points)
    click.echo(f"fixed points found: {fps}")
    click.echo(f"cpu time {res.seconds:.2f} s")
    if plot:
        click.echo(f"plot written to {plot}")


def _vd(v):
    return {"value": v.estimate, "error": v.error, "converged": v.converged}


def _plot_point(res, path):
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    from ..lpa.collocation import Grid  # noqa: PLC0415
    from ..lpa.equations import morris_w_to_p  # noqa: PLC0415

    fw = res.fixed_point if res.fixed_point.equation == "wetterich" else res.other
    fp_ = res.other if fw is res.fixed_point else res.fixed_point
    gw, gp = Grid(*fw.grid), Grid(*fp_.grid)
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    rmax = 4.0 * (fw.rho0.estimate if fw.rho0 is not None else 1.0)
    m = gw.rho <= rmax
    ax[0].plot(gw.rho[m], (gw.D1 @ fw.u)[m], "-", label="Wetterich w'(rho)")
    mp = gp.rho <= rmax
    ax[0].plot(gp.rho[mp], (gp.D1 @ fp_.u)[mp], "-", label="Polchinski u'(rho)")
    rp, _, up1 = morris_w_to_p(gw.rho, fw.u, gw.D1 @ fw.u, fw.dim)
    k = rp <= rmax
    ax[0].plot(rp[k], up1[k], "o", ms=3, mfc="none", label="Morris image of w")
    ax[0].set_xlabel("rescaled rho")
    ax[0].set_ylabel("derivative of the potential")
    ax[0].legend()
    ax[0].set_title(f"LPA fixed point, N = {res.N:g}, d = {res.dim:g}")
    for f, mk in ((res.fixed_point, "o"), (res.other, "x")):
        for sector, xpos in (("even", 0), ("odd", 1)):
            ys = [v.estimate for v in getattr(f, sector)]
            ax[1].plot(np.full(len(ys), xpos) + (0.1 if mk == "x" else -0.1), ys, mk, label=f"{f.equation} {sector}")
    ax[1].axhline(0.0, color="k", lw=0.5)
    ax[1].set_xticks([0, 1], ["even", "odd"])
    ax[1].set_ylabel("RG eigenvalue y")
    ax[1].set_title(f"nu = {res.nu.estimate:.8f}, omega = {res.omega.estimate:.8f}")
    ax[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _plot_scan(which, points, path, equation):
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    ok = [p for p in points if p["ok"] and p[which] != "infinity"]
    x = [p[which] for p in ok]
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    ax[0].errorbar(
        x, [p["nu"]["value"] for p in ok], yerr=[p["nu"]["error"] for p in ok], fmt="o-", label=f"{equation}"
    )
    ax[0].plot(x, [p["other_nu"]["value"] for p in ok], "x", label=f"{ok[0]['other_equation']}" if ok else "")
    if which == "dim" and x:
        xs = [min(x) + (max(x) - min(x)) * k / 200 for k in range(201)]
        ax[0].plot(xs, [1.0 / (v - 2.0) for v in xs], ":", label="N = inf: 1/(d-2)")
    ax[0].set_xlabel(which)
    ax[0].set_ylabel("nu")
    ax[0].legend()
    ax[1].errorbar(x, [p["omega"]["value"] for p in ok], yerr=[p["omega"]["error"] for p in ok], fmt="o-")
    ax[1].plot(x, [p["other_omega"]["value"] for p in ok], "x")
    ax[1].set_xlabel(which)
    ax[1].set_ylabel("omega")
    if which == "N":
        for a in ax:
            a.set_xscale("log" if max(x, default=1) / max(min(x, default=1), 1) > 20 else "linear")
    fig.suptitle("LPA exponents (eta = 0)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


__all__ = ["lpa"]
