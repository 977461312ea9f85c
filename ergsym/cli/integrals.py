"""``ergsym integrals`` and ``ergsym cutoff``: loop integrals and cutoff functions (docs/numeric.md)."""

from __future__ import annotations

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
        raise InputError.bad(
            "scan",
            scan,
            "of the form 'Lambda=START:STOP:N', 'mass=START:STOP:N' or a cutoff parameter, e.g. 'eps=0.05:0.2:16'",
        )
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
        raise InputError.bad(
            "scan", name, f"Lambda, mass or a parameter of the cutoff spec {spec!r} ({', '.join(keys) or 'none'})"
        )
    items = [f"{name}={value!r}" if k == name else p for k, p in zip(keys, items)]
    return f"{kind}:{','.join(items)}"


def _parse_p(text):
    """``--p 0,0.5,1`` -> array of external momenta (finite, >= 0)."""
    try:
        vals = [float(x) for x in str(text).split(",") if x.strip()]
    except ValueError:
        raise InputError.bad("--p", text, "comma-separated momenta >= 0, e.g. '0,0.5,1'") from None
    if not vals or any(not math.isfinite(v) or v < 0 for v in vals):
        raise InputError.bad("--p", text, "comma-separated finite momenta >= 0, e.g. '0,0.5,1'")
    if len(vals) > 10000:
        raise InputError.bad("--p", f"{len(vals)} values", "at most 10000 momenta")
    return np.array(vals)


#: families that are functions of an external momentum (evaluated at every ``--p``)
MOMENTUM_NAMES = ("Sun",)


def _div(d) -> bool:
    return isinstance(d, dict) and bool(d.get("divergent"))


def _flag(conv) -> str:
    return "" if conv else "  NOT CONVERGED"


def _fmt_value(d) -> str:
    from ..textfmt import round_to_uncertainty  # the value rounded to its error

    value = round_to_uncertainty(d["value"], d["error"], digits=15)
    return f"{value:>22} {d['error']:>10.2g}  {str(d['converged']):<5}{_flag(d['converged'])}"


def _value_objects(v):
    """One ``{value, error, converged}`` object, or a list of them for an array Value."""
    d = v.to_dict()
    if isinstance(d["value"], list):
        return [{"value": a, "error": b, "converged": c} for a, b, c in zip(d["value"], d["error"], d["converged"])]
    return {
        "value": d["value"],
        "error": d["error"],
        "converged": d["converged"],
        **({"method": d["method"]} if "method" in d else {}),
    }


@click.command("integrals")
@scheduler_option
@click.option("--cutoff", "cutoff_spec", required=True, help="e.g. bump:eps=0.1,lambda_max=2, exp:n=2, fermi:a=10")
@click.option("--dim", type=click.IntRange(1, 6), required=True, help="space-time dimension 1..6")
@click.option(
    "--mass",
    type=float,
    default=1.0,
    show_default=True,
    help="bare mass m >= 0 (m = 0: only infrared-finite families, e.g. t1,u1,f0,T,f1 in d >= 3)",
)
@click.option("--Lambda", "Lambda", type=float, default=1.0, show_default=True)
@click.option("--rtol", type=float, default=None, help="default 1e-10 (1-loop), 1e-8 (2-loop)")
@click.option("--method", type=click.Choice(["auto", "position", "momentum"]), default="auto", show_default=True)
@click.option(
    "--scan",
    default=None,
    help="scan a parameter: Lambda=0.5:1.5:101, mass=..., or a cutoff parameter (eps=0.05:0.2:16)",
)
@click.option(
    "--names",
    default=None,
    help="comma-separated subset of f0,t1,u1,T,T2,T3,f1,f2 and Sun (the sunset Sun(p), needs --p)",
)
@click.option("--p", "p_text", default=None, help="external momenta of Sun(p), e.g. 0,0.5,1")
@click.option("--json", "as_json", is_flag=True, help="print the JSON envelope (docs/json.md)")
def integrals(cutoff_spec, dim, mass, Lambda, rtol, method, scan, names, p_text, as_json, batch):
    """Evaluate the basic loop integrals f0, t1, u1, T, T2, T3, f1, f2 and Sun(p).

    Each value comes with an error estimate and a converged flag; a value that did not reach
    the tolerance is marked NOT CONVERGED (text) and has "converged": false (JSON).  Families
    that diverge for the cutoff (f0 for exp/Fermi: condition (B3)4 of Cotler & Rezchikov,
    PRD 108, 025003, Appendix B) or in the infrared (m = 0 in low d) are reported as
    divergent; the others are still evaluated.  Definitions: docs/numeric.md.

    Example: ergsym integrals --cutoff bump:eps=0.1,lambda_max=2 --dim 4 --names f2,Sun --p 0,0.5,1
    """
    from ..cutoffs import parse_cutoff
    from ..numeric import BASIC_NAMES, evaluate_named, sunset
    from . import common

    cutoff = parse_cutoff(cutoff_spec)
    sel = BASIC_NAMES if names is None else tuple(n.strip() for n in names.split(",") if n.strip())
    if not sel:
        raise InputError.bad("--names", names, "a non-empty subset of " + ", ".join(BASIC_NAMES + MOMENTUM_NAMES))
    for n in sel:
        if n not in BASIC_NAMES + MOMENTUM_NAMES:
            raise InputError.bad("--names", n, "a subset of " + ", ".join(BASIC_NAMES + MOMENTUM_NAMES))
    mom = [n for n in sel if n in MOMENTUM_NAMES]
    basic = [n for n in sel if n in BASIC_NAMES]
    p = None
    if mom:
        if p_text is None:
            raise InputError.bad("--p", None, "given when --names contains Sun", "e.g. --p 0,0.5,1")
        p = _parse_p(p_text)
        if scan is not None:
            raise InputError.bad(
                "--scan",
                scan,
                "absent when --names contains Sun",
                "Sun(p) is scanned over --p; run the scan without Sun",
            )
    elif p_text is not None:
        raise InputError.bad("--p", p_text, "given only together with --names Sun")
    point = {
        "cutoff": cutoff.spec,
        "dim": dim,
        "mass": mass,
        "Lambda": Lambda,
        "rtol": rtol,
        "method": method,
        "names": list(sel),
    }
    if p is not None:
        point["p"] = p.tolist()
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
    warn = common.Warnings()
    if batch.active and scan is None:
        raise InputError.bad(
            "--scheduler/--store",
            batch.scheduler or batch.store,
            "used together with --scan",
            "a single point is not a batch",
        )
    if batch.active and basic:  # the scan in chunks of points (ergsym.batch; docs/ensembles.md)
        which, grid = _parse_scan(scan)
        res = batch.integral_scan(cutoff_spec, cutoff, dim, mass, Lambda, which, grid, basic, rtol, method)
        point.update(batch.parameters())
    else:
        res = (
            evaluate_named(cutoff, dim, m, lam, names=basic, rtol=rtol, method=method, on_divergence="record")
            if basic
            else {}
        )
    out = {}
    for n, v in res.items():
        if isinstance(v, DivergentIntegralError):
            out[n] = {"value": None, "error": None, "converged": False, "divergent": True, "message": str(v)}
            warn.add(f"{n} diverges: {v}")
        else:
            out[n] = _value_objects(v)
    for n in mom:
        try:
            v = sunset(p, cutoff, dim, mass, Lambda, rtol=rtol, method=method)
            out[n] = _value_objects(v)
            if not isinstance(out[n], list):
                out[n] = [out[n]]
        except DivergentIntegralError as exc:
            out[n] = {"value": None, "error": None, "converged": False, "divergent": True, "message": str(exc)}
            warn.add(f"{n} diverges: {exc}")
    if out and all(_div(d) for d in out.values()):
        # nothing finite was asked for: a refusal (exit status 2), naming each divergence
        raise DivergentIntegralError("; ".join(f"{n}: {d['message']}" for n, d in out.items()))
    bad = [
        n
        for n, d in out.items()
        if not _div(d) and not all(o["converged"] for o in (d if isinstance(d, list) else [d]))
    ]
    if bad:
        warn.add("not converged to the tolerance (error estimates still apply): " + ", ".join(bad))
    if as_json:
        results = {"families": out}
        if scan is not None:
            results["scan"] = point["scan"]
            results["grid"] = point[point["scan"]]
        if p is not None:
            results["p"] = p.tolist()
        common.echo_json("integrals", point, results, warn)
        return
    click.echo(
        f"cutoff {spec_text}  d={dim}  mass={mass:g}  " + (f"scan {point['scan']}" if scan else f"Lambda={Lambda:g}")
    )
    if scan is None:
        if basic:
            click.echo(f"{'family':<6} {'value':>22} {'error':>10}  converged")
        for n in basic:
            d = out[n]
            if d.get("divergent"):
                why = "infrared" if "infrared" in d["message"] else "(B3)4 fails"
                click.echo(f"{n:<6} {'DIVERGENT':>22} {'':>10}  -     ({why})")
            else:
                click.echo(f"{n:<6} {_fmt_value(d)}")
        for n in mom:
            d = out[n]
            if isinstance(d, dict) and d.get("divergent"):
                click.echo(f"{n}(p) DIVERGENT: {d['message']}")
                continue
            click.echo(f"{'p':>10} {n + '(p)':>22} {'error':>10}  converged")
            for pv, o in zip(p, d):
                click.echo(f"{pv:>10.6g} {_fmt_value(o)}")
    else:
        grid = point[point["scan"]]
        finite = [n for n in out if not _div(out[n])]
        click.echo(f"{point['scan']:>10} " + " ".join(f"{n:>16} {'± error':>9}" for n in finite))
        for i, x in enumerate(grid):
            row = [out[n][i] for n in finite]
            nc = [n for n, o in zip(finite, row) if not o["converged"]]
            click.echo(
                f"{x:>10.6g} "
                + " ".join(f"{o['value']:>16.10g} {o['error']:>9.2g}" for o in row)
                + (f"  NOT CONVERGED: {','.join(nc)}" if nc else "")
            )
        for n in out:
            if _div(out[n]):
                click.echo(f"{n}: DIVERGENT ({out[n]['message']})")


@click.command("cutoff")
@click.argument("spec", required=False, metavar="[CUTOFF]")
@click.option(
    "--cutoff",
    "cutoff_spec",
    default=None,
    help="cutoff spec, e.g. bump:eps=0.1,lambda_max=2 (the positional CUTOFF is an alias)",
)
@click.option("--Lambda", "Lambda", type=float, default=1.0, show_default=True)
@click.option("--dim", type=click.IntRange(1, 6), default=4, show_default=True)
@click.option(
    "--points",
    type=click.IntRange(2, 100000),
    default=11,
    show_default=True,
    help="uniform sample points on [0, max(2 Lambda^2, 1.2 x last breakpoint)]; the breakpoints "
    "and points between each two are added, so every piece of K and the support of "
    "Lambda dK/dLambda are sampled",
)
@click.option(
    "--plot",
    "plot_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="write Figs. 1/2/4-like plots (K, Lambda dK/dLambda, bump family) to FILE (.png/.pdf/.svg)",
)
@click.option("--force", is_flag=True, help="overwrite an existing --plot file")
@click.option("--json", "as_json", is_flag=True, help="print the JSON envelope (docs/json.md)")
def cutoff_cmd(spec, cutoff_spec, Lambda, dim, points, plot_file, force, as_json):
    """Show a cutoff: K, Lambda dK/dLambda, breakpoints and the (B3) check.

    Conditions (B3)1-4 are those of Cotler & Rezchikov, PRD 108, 025003, Appendix B; each is
    reported PASS/FAIL with its detail.  Example: ergsym cutoff --cutoff exp:n=2 --Lambda 1
    """
    from ..cutoffs import parse_cutoff
    from . import common

    if spec is not None and cutoff_spec is not None and spec != cutoff_spec:
        raise InputError.bad(
            "--cutoff",
            cutoff_spec,
            "given once (either --cutoff CUTOFF or the positional CUTOFF)",
            f"the positional CUTOFF is {spec!r}",
        )
    spec = cutoff_spec if cutoff_spec is not None else spec
    if spec is None:
        raise InputError.bad("--cutoff", None, "given", "e.g. --cutoff bump:eps=0.1,lambda_max=2")
    plot_path = common.output_file(plot_file, "--plot", common.PLOT_EXTENSIONS, force=force)
    c = parse_cutoff(spec)
    lam = float(c.validate_Lambda(Lambda))
    bps = c.breakpoints(lam)
    hi = max([2.0 * lam**2] + [1.2 * b for b in bps])
    if not math.isfinite(hi):
        raise InputError.bad("Lambda", Lambda, "such that the plotted range 2 Lambda^2 is finite")
    p2 = _cutoff_samples(hi, bps, points)
    with np.errstate(all="ignore"):
        k = c.K(p2, lam)
        ldk = c.Lambda_dK(p2, lam)
    rep = c.check_b3(lam, dim)
    warn = common.Warnings()
    if not np.any(ldk != 0):
        warn.add(
            f"Lambda dK/dLambda is 0 at every sampled p^2 (its support lies between samples): "
            f"raise --points (now {points}) or pass --plot to see it"
        )
    if plot_path is not None:
        _plot(c, lam, str(plot_path))
    if as_json:
        common.echo_json(
            "cutoff",
            {"cutoff": c.spec, "Lambda": lam, "dim": dim, "points": points, "plot": plot_file},
            {
                "breakpoints": list(bps),
                "p2": p2.tolist(),
                "K": k.tolist(),
                "Lambda_dK": ldk.tolist(),
                "exact": True,
                "b3": rep.to_dict(),
                "plot": plot_file,
            },
            warn,
        )
        return
    click.echo(f"cutoff {c.spec} at Lambda={lam:g}")
    click.echo("breakpoints (p^2): " + ", ".join(f"{b:.10g}" for b in bps))
    # enough digits of p^2 to tell neighbouring rows apart (a narrow support adds close samples)
    gaps = np.diff(p2) / np.maximum(np.abs(p2[1:]), 1e-300)
    nd = int(min(17, max(6, math.ceil(-math.log10(max(float(gaps.min()), 1e-17))) + 1))) if gaps.size else 6
    w = max(12, nd + 7)
    click.echo(f"{'p^2':>{w}} {'K':>22} {'Lambda dK/dLambda':>22}")
    for a, b, d in zip(p2, k, ldk):
        click.echo(f"{a:>{w}.{nd}g} {b:>22.15g} {d:>22.15g}")
    click.echo(str(rep))
    if plot_file:
        click.echo(f"plot written to {plot_file}")


def _cutoff_samples(hi, breakpoints, points):
    """``points`` uniform samples of ``[0, hi]`` plus the breakpoints and the midpoints between them,
    three points in a piece narrower than the spacing (so a narrow piece, such as the bump's
    ``[Lambda^2, Lambda^2 + eps]`` where Lambda dK/dLambda lives, is never skipped)."""
    edges = [0.0] + sorted(float(b) for b in breakpoints if 0 < b < hi) + [hi]
    step = hi / (points - 1)
    inner = [
        a + f * (b - a) for a, b in zip(edges[:-1], edges[1:]) for f in ((0.25, 0.5, 0.75) if b - a < step else (0.5,))
    ]  # narrow pieces: three points
    return np.unique(np.concatenate([np.linspace(0.0, hi, points), edges, inner]))


def _plot(c, Lambda, path):
    """Figs. 1, 2 and 4 of Cotler & Rezchikov, PRD 108, 025003, for this cutoff: K, Lambda dK, K for several Lambda."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    bps = c.breakpoints(Lambda)
    hi = max([3.0 * Lambda**2] + [1.3 * b for b in bps])
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
