"""``ergsym flow``: the Polchinski flow to O(lam^2) and the monotone along it (SPEC section 5).

Examples::

    ergsym flow --order 2 --Lambda0 1 --Lambda 0.6 --cutoff bump:eps=0.1,lambda_max=2 \\
        --dim 4 --mass 1 --lam 0.1 --json
    ergsym flow --lattice 8x8 --Lambda0 1.5 --Lambda 0.6 --lam 0.1 --M
    ergsym flow --lattice 8x8 --Lambda0 1.5 --Lambda 0.3 --scan 12 --plot flow.png
"""
from __future__ import annotations

import json
import math

import click

from .batch_options import scheduler_option

DEFAULT_CUTOFF = "bump:eps=0.1,lambda_max=2"


def _vals(d):
    return {"per_order": [{"value": float(v), "error": float(e)} for v, e in d["per_order"]],
            "total": {"value": float(d["total"][0]), "error": float(d["total"][1])}}


def _pair(p):
    return {"value": float(p[0]), "error": float(p[1])}


def _compute(mode, args, Lambda, with_m):
    from .. import flow as fl

    if mode == "lattice":
        common = (args["lattice"], args["cutoff"], args["mass"], args["Lambda0"], Lambda, args["lam"])
        ab = fl.flow_lattice(*common, order=args["order"], forms=("A", "B") + tuple(args["pieces"]))
        rc = fl.running_couplings_lattice(*common, order=args["order"])
        md = fl.monotone_difference_lattice(*common, order=args["order"]) if with_m else None
    else:
        common = (args["cutoff"], args["dim"], args["mass"], args["Lambda0"], Lambda, args["lam"])
        ab = fl.flow_continuum(*common, order=args["order"], forms=("A", "B") + tuple(args["pieces"]),
                               rtol=args["rtol"])
        rc = fl.running_couplings_continuum(*common, order=args["order"], rtol=args["rtol"])
        md = fl.monotone_difference(*common, order=args["order"], n_log=args["n_log"],
                                    rtol=args["rtol"]) if with_m else None
    out = {"Lambda": Lambda, "monotone": {k: _vals(v) for k, v in ab.items()},
           "couplings": {"m2_shift": _vals(rc["m2"]), "lam": _vals(rc["lam"]), "g6": _vals(rc["g6"]),
                         "vacuum_per_site": _vals(rc["vacuum"])}}
    if md is not None:
        out["M_minus_M0"] = {k: _pair(v) for k, v in md.items()}
    return out


def _interaction_json(order):
    from ..flow import effective_interaction

    return [t.to_dict() for t in effective_interaction(order)]


@click.command("flow")
@scheduler_option
@click.option("--order", type=int, default=2, show_default=True, help="Order in lam (0..2).")
@click.option("--Lambda0", "Lambda0", type=float, default=1.0, show_default=True,
              help="Initial scale (bare phi^4 action).")
@click.option("--Lambda", "Lambda", type=float, default=0.6, show_default=True,
              help="Scale along the flow, 0 < Lambda <= Lambda0.")
@click.option("--cutoff", default=DEFAULT_CUTOFF, show_default=True, help="Cutoff spec.")
@click.option("--dim", type=int, default=4, show_default=True, help="Dimension (continuum mode).")
@click.option("--mass", type=float, default=1.0, show_default=True, help="Bare mass m > 0.")
@click.option("--lam", type=float, default=0.1, show_default=True, help="Quartic coupling at Lambda0.")
@click.option("--lattice", default=None, help="Lattice shape, e.g. 8x8: exact lattice sums instead "
              "of continuum quadrature.")
@click.option("--pieces", is_flag=True, help="Also report the four pieces of (5.6).")
@click.option("--M", "with_m", is_flag=True, help="Also compute M_Lambda - M_Lambda0.")
@click.option("--scan", type=int, default=0, help="Scan N scales in [Lambda, Lambda0] (B and M).")
@click.option("--plot", type=click.Path(dir_okay=False), default=None,
              help="With --scan: write a plot of B(Lambda) and M(Lambda) - M(Lambda0).")
@click.option("--rtol", type=float, default=1e-6, show_default=True, help="Continuum rtol.")
@click.option("--n-log", "n_log", type=int, default=8, show_default=True,
              help="Gauss-Legendre nodes in log Lambda for M (continuum).")
@click.option("--series", "show_series", is_flag=True, help="Print the derived V_Lambda and B series.")
@click.option("--json", "as_json", is_flag=True, help="JSON to stdout.")
def flow(order, Lambda0, Lambda, cutoff, dim, mass, lam, lattice, pieces, with_m, scan, plot, rtol,
         n_log, show_series, as_json, batch):
    """Effective interaction to O(lam^2) and A, B, M along the Polchinski flow (SPEC 5).

    B = -Lambda dM/dLambda (the true derivative); A is the paper's printed (5.5).  Numbers are
    coefficients of delta^d(0) (continuum, bump cutoff) or whole lattice sums (--lattice).
    """
    from ..conventions import parse_lattice, validate_dim, validate_mass
    from ..errors import InputError
    from ..flow import flow_monotone
    from ..flow.diagrams import validate_order

    validate_order(order, 2)
    validate_mass(mass)
    if lattice is None:
        validate_dim(dim)
    else:
        parse_lattice(lattice)
    if not (isinstance(lam, float) and math.isfinite(lam)):
        raise InputError.bad("lam", lam, "a finite real number")
    if scan < 0 or scan == 1:
        raise InputError.bad("scan", scan, "0 (off) or an integer >= 2")
    if plot and not scan:
        raise InputError.bad("plot", plot, "used together with --scan N")
    mode = "continuum" if lattice is None else "lattice"
    args = {"order": order, "Lambda0": Lambda0, "cutoff": cutoff, "dim": dim, "mass": mass, "lam": lam,
            "lattice": lattice, "pieces": ("dSdS", "dSdShat", "dShatdShat", "LdShat") if pieces else (),
            "rtol": rtol, "n_log": n_log}
    result = {"mode": mode, "order": order, "Lambda0": Lambda0, "cutoff": cutoff, "mass": mass,
              "lam": lam, "dim": dim if lattice is None else None, "lattice": lattice,
              "normalization": "coefficient of delta^d(0)" if lattice is None else "whole lattice sum",
              "note": "B = -Lambda dM/dLambda; A is the printed expression (5.5)"}
    if scan:
        grid = [Lambda * (Lambda0 / Lambda) ** (k / (scan - 1)) for k in range(scan)]
        if batch.active:  # one task per scale (ergsym.batch)
            result["scan"] = batch.map(f"{__name__}:_compute", [{"mode": mode, "args": args, "Lambda": L,
                                       "with_m": True} for L in grid], [f"Lambda={L!r}" for L in grid], "flow")
        else:
            result["scan"] = [_compute(mode, args, L, True) for L in grid]
    else:
        result.update(_compute(mode, args, Lambda, with_m))
    if show_series or as_json:
        result["interaction"] = _interaction_json(order)
        result["B_series"] = flow_monotone(order, "B").to_json()
    if plot:
        _plot(result["scan"], plot, mode)
        result["plot"] = plot
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    _print(result, show_series, order)


def _plot(scan, path, mode):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    L = [s["Lambda"] for s in scan]
    B = [s["monotone"]["B"]["total"]["value"] for s in scan]
    M = [s["M_minus_M0"]["total"]["value"] for s in scan]
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
    ax[0].plot(L, B, "o-")
    ax[0].set_xlabel("Lambda")
    ax[0].set_ylabel("B = -Lambda dM/dLambda")
    ax[1].plot(L, M, "o-")
    ax[1].set_xlabel("Lambda")
    ax[1].set_ylabel("M_Lambda - M_Lambda0")
    fig.suptitle(f"ergsym flow ({mode})")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _fmt(p):
    return f"{p['value']:.12g} ± {p['error']:.2g}"


def _print(result, show_series, order):
    click.echo(f"ergsym flow: {result['mode']}, {result['normalization']}, Lambda0={result['Lambda0']}, "
               f"lam={result['lam']}, cutoff={result['cutoff']}")
    click.echo(result["note"])
    rows = result["scan"] if "scan" in result else [result]
    for r in rows:
        click.echo(f"Lambda = {r['Lambda']:.6g}")
        for k, v in r["monotone"].items():
            per = ", ".join(_fmt(p) for p in v["per_order"])
            click.echo(f"  {k:10s} total {_fmt(v['total'])}   per order [{per}]")
        c = r["couplings"]
        click.echo(f"  m2 shift   {_fmt(c['m2_shift']['total'])}   lam(Lambda) {_fmt(c['lam']['total'])}   "
                   f"g6(Lambda) {_fmt(c['g6']['total'])}")
        if "M_minus_M0" in r:
            m = r["M_minus_M0"]
            click.echo(f"  M - M0     {_fmt(m['total'])}  (free {_fmt(m['free'])}, "
                       f"interacting {_fmt(m['interacting'])})")
    if show_series:
        from ..flow import describe_term, effective_interaction, flow_monotone

        click.echo("V_Lambda (Delta = Kt_Lambda0 - Kt_Lambda):")
        for t in effective_interaction(order):
            click.echo(f"  lam^{t.power} * {t.coeff}  {describe_term(t)}")
        click.echo("B along the flow:")
        click.echo(flow_monotone(order, "B").to_text())
    if "plot" in result:
        click.echo(f"plot written to {result['plot']}")
