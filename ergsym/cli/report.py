"""``ergsym report``: the README's main job -- a LaTeX/PDF report with embedded defaults."""
from __future__ import annotations

import json

import click

from ..errors import InputError


def _floats(text, name):
    try:
        vals = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise InputError.bad(name, text, "comma-separated numbers, e.g. 0.05,0.1,0.2") from None
    if not vals:
        raise InputError.bad(name, text, "at least one number")
    return vals


@click.command("report")
@click.option("--out", "out", default="ergsym-report", show_default=True,
              type=click.Path(file_okay=False), help="Output directory (created if missing).")
@click.option("--quick", is_flag=True,
              help="Fast version (fewer scan points, a short Monte Carlo): well under a minute.")
@click.option("--theory", default="phi4", show_default=True,
              help="Interaction: 'phi4', 'phi4+phi6', '4:lam,2:c2'. Numbers, lattice and flow "
                   "sections need phi4.")
@click.option("--cutoff", default="bump:eps=0.1,lambda_max=2", show_default=True,
              help="Cutoff of the continuum sections (SPEC section 6), e.g. bump:eps=0.1,lambda_max=2.")
@click.option("--dim", type=int, default=4, show_default=True, help="Continuum dimension d (1..6).")
@click.option("--mass", type=float, default=1.0, show_default=True, help="Bare mass m (> 0).")
@click.option("--Lambda0", "Lambda0", type=float, default=1.0, show_default=True,
              help="Initial scale Lambda0 (<= lambda_max of the bump).")
@click.option("--order", type=int, default=2, show_default=True,
              help="Derivation order 0..3; O(lam^(order+1)) is listed too.")
@click.option("--scheme", type=click.Choice(["bare", "normal-ordered"]), default="bare",
              show_default=True, help="Interaction scheme.")
@click.option("--lams", default="0.1,0.5,1", show_default=True,
              help="Couplings at which the summed series are tabulated.")
@click.option("--mc/--no-mc", default=True, show_default=True, help="Lattice Monte Carlo cross-check.")
@click.option("--mc-lattice", default="8x8", show_default=True, help="Lattice of the cross-check.")
@click.option("--mc-cutoff", default="bump:eps=0.5,lambda_max=2", show_default=True,
              help="Cutoff of the cross-check (with eps=0.1 no 8x8 momentum lies in [Lambda^2, Lambda^2+eps]).")
@click.option("--mc-lams", default=None,
              help="Monte Carlo couplings [default 0.05,0.1,0.2,0.4,0.8; --quick 0.05,0.2].")
@click.option("--mc-traj", type=int, default=None,
              help="Trajectories per coupling [default 12000; --quick 600].")
@click.option("--seed", type=int, default=0, show_default=True, help="Monte Carlo seed.")
@click.option("--flow/--no-flow", default=True, show_default=True,
              help="Section along the Polchinski flow (needs ergsym.flow).")
@click.option("--pdf/--no-pdf", default=True, show_default=True,
              help="Compile the PDF with latexmk/pdflatex when TeX is installed.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary to stdout.")
def report(out, quick, theory, cutoff, dim, mass, Lambda0, order, scheme, lams, mc, mc_lattice,
           mc_cutoff, mc_lams, mc_traj, seed, flow, pdf, as_json):
    """Build the LaTeX/PDF report (the main job; defaults: phi^4, bump eps=0.1, lambda_max=2, d=4, m=1, Lambda0=1).

    Derives A, B and the four pieces, compares them with the paper's printed (5.11)-(5.15),
    evaluates every family with error estimates, cross-checks against a lattice Monte Carlo
    and exact integration, follows the monotone along the flow, and writes OUT/report.tex,
    OUT/report.json, OUT/figures/ and (with TeX) OUT/report.pdf.

    \b
    Examples:
      ergsym report                         # full report in ergsym-report/ (a few minutes)
      ergsym report --quick --out /tmp/r    # fast version
      ergsym report --dim 3 --cutoff bump:eps=0.2,lambda_max=2 --no-mc
    """
    from ..report import ReportConfig, build_report

    cfg = ReportConfig(out=out, theory=theory, cutoff=cutoff, dim=dim, mass=mass, Lambda0=Lambda0,
                       order=order, scheme=scheme, lams=_floats(lams, "lams"), quick=quick, mc=mc,
                       mc_lattice=mc_lattice, mc_cutoff=mc_cutoff,
                       mc_lams=None if mc_lams is None else _floats(mc_lams, "mc-lams"),
                       mc_traj=mc_traj, seed=seed, flow=flow, pdf=pdf)
    say = (lambda m: click.echo(m, err=True)) if not as_json else None
    res = build_report(cfg, progress=say)
    if as_json:
        click.echo(json.dumps({
            "out": str(res.out), "tex": str(res.tex), "json": str(res.json),
            "pdf": None if res.pdf is None else str(res.pdf),
            "pdf_message": None if res.compile is None else res.compile.message,
            "seconds": res.seconds,
            "sections": {s.key: {"available": s.available, "seconds": s.seconds} for s in res.sections},
        }, indent=2))
    else:
        click.echo(res.summary())
