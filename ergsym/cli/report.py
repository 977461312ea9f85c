"""``ergsym report``: the README's main job -- a LaTeX/PDF report with embedded defaults."""

from __future__ import annotations

import click

from ..errors import InputError
from .batch_options import scheduler_option
from .common import n_option


def _floats(text, name):
    try:
        vals = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise InputError.bad(name, text, "comma-separated numbers, e.g. 0.05,0.1,0.2") from None
    if not vals:
        raise InputError.bad(name, text, "at least one number")
    return vals


@click.command("report")
@scheduler_option
@click.option(
    "--out",
    "out",
    default="ergsym-report",
    show_default=True,
    type=click.Path(),
    help="Output directory: created if missing (its parent must exist); an "
    "earlier report there is replaced only with --force.",
)
@click.option("--force", is_flag=True, help="Replace an earlier report in --out.")
@click.option(
    "--quick", is_flag=True, help="Fast version (fewer scan points, a short Monte Carlo): well under a minute."
)
@click.option(
    "--theory",
    default="phi4",
    show_default=True,
    help="Interaction: 'phi4', 'phi4+phi6', '4:lam,2:c2'. Numbers, lattice and flow sections need phi4.",
)
@n_option(
    "every section computes the O(N) numbers (the derivation also as polynomials in N), and the "
    "paper's comparisons (its printed numbers and errata, for N = 1) appear only for --N 1.",
    dest="n_comp",
    metavar="INT",
)
@click.option(
    "--cutoff",
    default="bump:eps=0.1,lambda_max=2",
    show_default=True,
    help="Cutoff of the continuum sections (docs/conventions.md), e.g. bump:eps=0.1,lambda_max=2.",
)
@click.option("--dim", type=int, default=4, show_default=True, help="Continuum dimension d (1..6).")
@click.option("--mass", type=float, default=1.0, show_default=True, help="Bare mass m (> 0).")
@click.option(
    "--Lambda0",
    "Lambda0",
    type=float,
    default=1.0,
    show_default=True,
    help="Initial scale Lambda0 (<= lambda_max of the bump).",
)
@click.option(
    "--order", type=int, default=2, show_default=True, help="Derivation order 0..3; O(lam^(order+1)) is listed too."
)
@click.option(
    "--scheme",
    type=click.Choice(["bare", "normal-ordered"]),
    default="bare",
    show_default=True,
    help="Interaction scheme.",
)
@click.option(
    "--lam",
    "--lams",
    "lams",
    default="0.1,0.5,1",
    show_default=True,
    help="Couplings at which the summed series are tabulated.",
)
@click.option("--mc/--no-mc", default=True, show_default=True, help="Lattice Monte Carlo cross-check.")
@click.option(
    "--mc-lattice",
    default="16x16",
    show_default=True,
    help="2-d lattice of the Monte Carlo cross-check (and of nothing else), e.g. 16x16; "
    "for other dimensions use `ergsym crosscheck --lattice`.",
)
@click.option(
    "--mc-cutoff",
    default="bump:eps=0.5,lambda_max=2",
    show_default=True,
    help="Cutoff of the cross-check (with eps=0.1 almost no lattice momentum lies in [Lambda^2, Lambda^2+eps]).",
)
@click.option(
    "--mc-lam",
    "--mc-lams",
    "mc_lams",
    default=None,
    help="Monte Carlo couplings, comma-separated (--mc-lams is the old spelling) "
    "[default 0.05,0.1,0.2,0.4,0.8; --quick 0.05,0.2].",
)
@click.option(
    "--n-traj",
    "--mc-traj",
    "mc_traj",
    type=int,
    default=None,
    help="Monte Carlo trajectories per coupling [default 5000; --quick 600].",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Start of the Monte Carlo's random-number streams (one per coupling).",
)
@click.option(
    "--flow/--no-flow", default=True, show_default=True, help="Section along the Polchinski flow (needs ergsym.flow)."
)
@click.option("--lpa", is_flag=True, help="Add the section on LPA fixed points and exponents (ergsym lpa; about 5 s).")
@click.option(
    "--sign-map",
    "sign_map",
    type=click.Choice(["off", "default", "full"]),
    default="default",
    show_default=True,
    help="Section on the sign of B by flow --method mc: a small 8x8 map, the full "
    "8x8 and 16x16 maps (tens of minutes), or off.",
)
@click.option(
    "--pdf/--no-pdf",
    default=True,
    show_default=True,
    help="Compile the PDF with latexmk/pdflatex when TeX is installed.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary to stdout.")
def report(
    out,
    force,
    quick,
    theory,
    n_comp,
    cutoff,
    dim,
    mass,
    Lambda0,
    order,
    scheme,
    lams,
    mc,
    mc_lattice,
    mc_cutoff,
    mc_lams,
    mc_traj,
    seed,
    flow,
    sign_map,
    lpa,
    pdf,
    as_json,
    batch,
):
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
      ergsym report --N 3 --quick --out /tmp/rN3   # the O(3) model
      ergsym report --scheduler local:2     # the Monte Carlo runs on 2 Dask workers
    """
    from ..report import ReportConfig, build_report

    if batch.store is not None:
        raise InputError.bad(
            "--store",
            batch.store,
            "not given to report",
            "the report keeps its numbers in OUT/report.json; use --scheduler alone",
        )
    n_comp = _report_n(n_comp)
    _check_options(out, mc, mc_lattice, mc_cutoff, mc_lams, mc_traj)

    from ..inputs import check_series_coupling

    for x in _floats(lams, "--lam"):  # the tables sum the series through lam^(order+1)
        check_series_coupling(x, (order if isinstance(order, int) and 0 <= order <= 6 else 0) + 1)
    cfg = ReportConfig(
        out=out,
        theory=theory,
        N=n_comp,
        cutoff=cutoff,
        dim=dim,
        mass=mass,
        Lambda0=Lambda0,
        order=order,
        scheme=scheme,
        lams=_floats(lams, "lams"),
        quick=quick,
        mc=mc,
        mc_lattice=mc_lattice,
        mc_cutoff=mc_cutoff,
        mc_lams=None if mc_lams is None else _floats(mc_lams, "--mc-lam"),
        mc_traj=mc_traj,
        seed=seed,
        flow=flow,
        sign_map=sign_map,
        lpa=lpa,
        pdf=pdf,
        force=force,
    )
    if cfg.mc:  # the Monte Carlo's cost knows what its couplings do to the HMC step count
        cfg.inputs()  # every parameter checked first, so a bad one is named as itself
        _mc_preflight(cfg)
    if cfg.N != 1:
        cfg.inputs()
        _sign_map_preflight(cfg)
    with _Progress(enabled=True) as prog:
        res = build_report(cfg, progress=prog, scheduler=batch.runner)
    for w in res.warnings:
        click.echo(f"warning: {w}", err=True)
    if as_json:
        from .common import echo_json

        echo_json(
            "report",
            cfg.to_dict(),
            {
                "out": str(res.out),
                "tex": str(res.tex),
                "json": str(res.json),
                "pdf": None if res.pdf is None else str(res.pdf),
                "pdf_message": None if res.compile is None else res.compile.message,
                "seconds": res.seconds,
                "sections": {s.key: {"available": s.available, "seconds": s.seconds} for s in res.sections},
            },
            list(res.warnings),
        )
    else:
        click.echo(res.summary())


def _report_n(text):
    """``--N`` of the report: an integer >= 1 (exit 2 naming --N otherwise)."""
    if str(text).strip() == "N":
        raise InputError.bad(
            "--N",
            text,
            "an integer >= 1 (the number of field components)",
            "the report evaluates numbers, so N must be a number, e.g. --N 3 (its derivation also "
            "prints A and B as polynomials in N); for any quantity as a polynomial in N use ergsym monotone --N N",
        )
    from .mc import _n_components  # noqa: PLC0415  (the one parser of an integer --N)

    return _n_components(text)


#: options that only shape the Monte Carlo section: refused with --no-mc (they would be ignored)
_MC_OPTIONS = (
    ("mc_lattice", "--mc-lattice"),
    ("mc_cutoff", "--mc-cutoff"),
    ("mc_lams", "--mc-lam"),
    ("mc_traj", "--n-traj"),
)


def _check_options(out, mc, mc_lattice, mc_cutoff, mc_lams, mc_traj):
    """Refuse what the report would otherwise ignore or mislabel, before any work (exit 2)."""
    from pathlib import Path

    from ..inputs import as_lattice
    from . import common

    values = {"mc_lattice": mc_lattice, "mc_cutoff": mc_cutoff, "mc_lams": mc_lams, "mc_traj": mc_traj}
    if not mc:
        for name, option in _MC_OPTIONS:
            if common.given(name):
                common.refuse_together(
                    option,
                    values[name],
                    "--no-mc",
                    True,
                    f"{option} sets up the Monte Carlo section, which --no-mc leaves out",
                    f"drop {option}, or drop --no-mc",
                )
    else:
        lat = as_lattice(mc_lattice, name="--mc-lattice")
        if lat.dim != 2:
            raise InputError.bad(
                "--mc-lattice",
                mc_lattice,
                "a 2-d lattice such as 16x16 (the report's "
                f"lattice sections are two-dimensional; this one is {lat.dim}-d)",
                "for other dimensions use ergsym crosscheck --lattice",
            )
    parent = Path(out).absolute().parent
    if not parent.is_dir():  # as every other output path: the parent must exist
        raise InputError.bad(
            "--out", str(out), "a directory whose parent exists", f"create the directory {str(parent)!r} first"
        )


def _mc_preflight(cfg):
    """Refuse (exit 2, naming --mc-lam) Monte Carlo couplings beyond the lattice's budget, before
    the report's other sections run (:func:`ergsym.cli.common.mc_preflight`)."""
    from ..cutoffs import parse_cutoff
    from ..inputs import as_lattice
    from ..lattice.theory import LatticeTheory
    from . import common

    lat = as_lattice(cfg.mc_lattice, name="--mc-lattice")
    cut = parse_cutoff(cfg.mc_cutoff)
    common.mc_preflight(
        lat,
        lambda: LatticeTheory.from_cutoff(lat, cut, cfg.mass, cfg.Lambda0, 0.0, N=cfg.N),
        cfg.monte_carlo_lams,
        cfg.monte_carlo_traj,
        cfg.N,  # N components cost about as much as N chains (as for ergsym mc --N)
        option="--mc-lam",
        can_force=False,
    )


def _sign_map_preflight(cfg):
    """Refuse (exit 2, naming --N) an O(N) report whose sign-map section would cost more than the
    time limit and more than the same section at N = 1 (its cost grows linearly with N)."""
    from dataclasses import replace

    from ..errors import InputError
    from ..flow.budget import MAX_SECONDS
    from ..report.sign_map_section import sign_map_seconds

    seconds = sign_map_seconds(cfg)
    limit = max(MAX_SECONDS, sign_map_seconds(replace(cfg, N=1)))
    if seconds > limit:
        raise InputError.bad(
            "--N",
            cfg.N,
            f"small enough for the sign-map section (flow --method mc, cost linear in N) to take at most "
            f"~{limit:.0f} s (with --N {cfg.N}: ~{seconds:.3g} s)",
            "pass --sign-map off to leave that section out, or a smaller --N",
        )


class _Progress:
    """Progress per report step on stderr: a tqdm bar on a terminal, one line per step otherwise."""

    def __init__(self, enabled=True):
        import sys

        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.bar = None
        self.t0 = None
        self.last = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
        return False

    def __call__(self, i, n, label):
        import time

        if not self.enabled:
            return
        if self.tty:
            if self.bar is None:
                from tqdm import tqdm

                self.bar = tqdm(total=n, unit="step", leave=False, dynamic_ncols=True)
            self.bar.n = i
            self.bar.set_description(label)
            self.bar.refresh()
            return
        now = time.perf_counter()
        if self.t0 is not None and (i > 0 or self.last == i):
            click.echo(f"  ... {now - self.t0:.1f} s", err=True)
        self.t0, self.last = now, i
        if i < n:
            click.echo(f"[{i + 1}/{n}] {label}", err=True)
