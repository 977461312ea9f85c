"""``ergsym integrals`` and ``ergsym cutoff``: loop integrals and cutoff functions (SPEC 2, 6)."""
from __future__ import annotations

import json
import math
import re

import click
import numpy as np

from ..errors import DivergentIntegralError, InputError
from .batch_options import scheduler_option

_SCAN_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z_0-9]*)\s*=\s*([^:]+):([^:]+):(\d+)\s*$")


def _parse_scan(scan):
    m = _SCAN_RE.match(scan)
    if not m:
        raise InputError.bad("scan", scan, "of the form 'Lambda=START:STOP:N', 'mass=START:STOP:N' "
                             "or a cutoff parameter, e.g. 'eps=0.05:0.2:16'")
    name, a, b, n = m.group(1), m.group(2), m.group(3), int(m.group(4))
    try:
        a, b = float(a), float(b)
    except ValueError:
        raise InputError.bad("scan", scan, "numeric START and STOP") from None
    if not (math.isfinite(a) and math.isfinite(b)) or not 1 <= n <= 100000:
        raise InputError.bad("scan", scan, "finite START, STOP and 1 <= N <= 100000")
    return name, np.linspace(a, b, n)


def _with_param(spec, name, value):
    """``spec`` with the cutoff parameter ``name`` set to ``value`` (validated by the parser)."""
    kind, _, params = spec.partition(":")
    items = [p for p in params.split(",") if p.strip()] if params else []
    keys = [p.split("=", 1)[0].strip() for p in items]
    if name not in keys:
        raise InputError.bad("scan", name, f"Lambda, mass or a parameter of the cutoff spec {spec!r} "
                             f"({', '.join(keys) or 'none'})")
    items = [f"{name}={value!r}" if k == name else p for k, p in zip(keys, items)]
    return f"{kind}:{','.join(items)}"


@click.command("integrals")
@scheduler_option
@click.option("--cutoff", "cutoff_spec", required=True, help="e.g. bump:eps=0.1,lambda_max=2, exp:n=2, fermi:a=10")
@click.option("--dim", type=click.IntRange(1, 6), required=True, help="space-time dimension 1..6")
@click.option("--mass", type=float, default=1.0, show_default=True)
@click.option("--Lambda", "Lambda", type=float, default=1.0, show_default=True)
@click.option("--rtol", type=float, default=None, help="default 1e-10 (1-loop), 1e-8 (2-loop)")
@click.option("--method", type=click.Choice(["auto", "position", "momentum"]), default="auto", show_default=True)
@click.option("--scan", default=None,
              help="scan a parameter: Lambda=0.5:1.5:101, mass=..., or a cutoff parameter (eps=0.05:0.2:16)")
@click.option("--names", default=None, help="comma-separated subset of f0,t1,u1,T,T2,T3,f1,f2")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def integrals(cutoff_spec, dim, mass, Lambda, rtol, method, scan, names, as_json, batch):
    """Evaluate the basic families of SPEC section 2 (f0, t1, u1, T, T2, T3, f1, f2).

    Each value comes with an error estimate and a converged flag.  Families that diverge
    for the cutoff (f0 for exp/Fermi: condition (B3)4) are reported as divergent.
    """
    from ..cutoffs import parse_cutoff
    from ..numeric import BASIC_NAMES, evaluate_named

    cutoff = parse_cutoff(cutoff_spec)
    sel = BASIC_NAMES if names is None else tuple(n.strip() for n in names.split(",") if n.strip())
    point = {"cutoff": cutoff.spec, "dim": dim, "mass": mass, "Lambda": Lambda}
    spec_text = cutoff.spec
    lam, m = Lambda, mass
    if scan is not None:
        which, grid = _parse_scan(scan)
        if which == "Lambda":
            lam = grid
        elif which == "mass":
            m = grid
        else:  # a cutoff parameter: one cutoff per grid point
            cutoff = [parse_cutoff(_with_param(cutoff_spec, which, float(x))) for x in grid]
        point[which] = grid.tolist()
        point["scan"] = which
    if batch.active and scan is not None:  # the scan in chunks of points (ergsym.batch)
        res = batch.integral_scan(cutoff_spec, cutoff, dim, m, lam, scan, sel, rtol, method)
    else:
        res = evaluate_named(cutoff, dim, m, lam, names=sel, rtol=rtol, method=method, on_divergence="record")
    out = {}
    for n, v in res.items():
        if isinstance(v, DivergentIntegralError):
            out[n] = {"value": None, "error": None, "converged": False, "divergent": True, "message": str(v)}
        else:
            out[n] = v.to_dict()
    if as_json:
        click.echo(json.dumps({"point": point, "families": out}, indent=2))
        return
    click.echo(f"cutoff {spec_text}  d={dim}  mass={mass:g}  "
               + (f"scan {point['scan']}" if scan else f"Lambda={Lambda:g}"))
    if scan is None:
        click.echo(f"{'family':<6} {'value':>22} {'error':>10}  converged")
        for n, d in out.items():
            if d.get("divergent"):
                click.echo(f"{n:<6} {'DIVERGENT':>22} {'':>10}  -   ((B3)4 fails)")
            else:
                click.echo(f"{n:<6} {d['value']:>22.15g} {d['error']:>10.2g}  {d['converged']}")
    else:
        grid = point[point["scan"]]
        finite = [n for n in out if not out[n].get("divergent")]
        click.echo(f"{point['scan']:>10} " + " ".join(f"{n:>16}" for n in finite))
        for i, x in enumerate(grid):
            click.echo(f"{x:>10.6g} " + " ".join(f"{out[n]['value'][i]:>16.10g}" for n in finite))


@click.command("cutoff")
@click.argument("spec")
@click.option("--Lambda", "Lambda", type=float, default=1.0, show_default=True)
@click.option("--dim", type=click.IntRange(1, 6), default=4, show_default=True)
@click.option("--points", type=click.IntRange(2, 100000), default=11, show_default=True)
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False), default=None,
              help="write Figs. 1/2/4-like plots (K, Lambda dK/dLambda, bump family) to FILE")
@click.option("--json", "as_json", is_flag=True)
def cutoff_cmd(spec, Lambda, dim, points, plot_file, as_json):
    """Show a cutoff: K, Lambda dK/dLambda, breakpoints and the (B3) check (SPEC section 6)."""
    from ..cutoffs import parse_cutoff

    c = parse_cutoff(spec)
    bps = c.breakpoints(Lambda)
    hi = max([2.0 * Lambda ** 2] + [1.2 * b for b in bps])
    p2 = np.linspace(0.0, hi, points)
    k = c.K(p2, Lambda)
    ldk = c.Lambda_dK(p2, Lambda)
    rep = c.check_b3(Lambda, dim)
    if plot_file:
        _plot(c, Lambda, plot_file)
    if as_json:
        click.echo(json.dumps({"cutoff": c.spec, "Lambda": Lambda, "breakpoints": list(bps),
                               "p2": p2.tolist(), "K": k.tolist(), "Lambda_dK": ldk.tolist(),
                               "b3": rep.to_dict(), "plot": plot_file}, indent=2))
        return
    click.echo(f"cutoff {c.spec} at Lambda={Lambda:g}")
    click.echo("breakpoints (p^2): " + ", ".join(f"{b:.10g}" for b in bps))
    click.echo(f"{'p^2':>12} {'K':>22} {'Lambda dK/dLambda':>22}")
    for a, b, d in zip(p2, k, ldk):
        click.echo(f"{a:>12.6g} {b:>22.15g} {d:>22.15g}")
    click.echo(str(rep))
    if plot_file:
        click.echo(f"plot written to {plot_file}")


def _plot(c, Lambda, path):
    """Figs. 1, 2 and 4 of seed 000, for this cutoff: K, Lambda dK, K for several Lambda."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    bps = c.breakpoints(Lambda)
    hi = max([3.0 * Lambda ** 2] + [1.3 * b for b in bps])
    p2 = np.unique(np.concatenate([np.linspace(0, hi, 4000), np.asarray(bps, float)]))
    axes[0].plot(p2, c.K(p2, Lambda))
    axes[0].set(xlabel=r"$p^2$", ylabel=r"$K_\Lambda(p^2)$", title=f"K at Lambda={Lambda:g}")
    axes[1].plot(p2, c.Lambda_dK(p2, Lambda))
    axes[1].set(xlabel=r"$p^2$", ylabel=r"$\Lambda\,\partial_\Lambda K$", title="Lambda dK/dLambda")
    lmax = getattr(c, "lambda_max", 2.0 * Lambda)
    for lam in np.linspace(0.25 * lmax, lmax, 4):
        pp = np.linspace(0, hi, 4000)
        axes[2].semilogy(pp, np.maximum(c.K(pp, lam), 1e-300), label=f"Lambda={lam:.3g}")
    axes[2].set(xlabel=r"$p^2$", ylabel="K (log)", title="cutoff family (cf. Fig. 4)")
    axes[2].legend(fontsize=7)
    fig.suptitle(c.spec)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
