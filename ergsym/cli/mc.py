"""``ergsym mc`` and ``ergsym crosscheck``: lattice Monte Carlo from the command line.

Examples::

    ergsym mc --lattice 8x8 --cutoff bump:eps=0.5,lambda_max=2 --mass 1 --Lambda 1 --lam 0.1 --json
    ergsym mc ... --chains 16                     # 16 independent chains in one batch (R-hat)
    ergsym mc ... --checkpoint run.npz          # interrupt with Ctrl-C, then:
    ergsym mc --resume run.npz --json           # (optionally --n-traj N to extend the run)
    ergsym crosscheck --lattice 8x8 --cutoff bump:eps=0.5,lambda_max=2 --mass 1 --Lambda 1 \\
        --lam 0.02,0.05,0.1 --form B --plot crosscheck.png
"""
from __future__ import annotations

import shlex
import sys

import click

from ..errors import InputError
from . import common
from .batch_options import scheduler_option


def _shape(lattice):
    """The ``--lattice`` option parsed once into an :class:`ergsym.inputs.Lattice` (passed inward)."""
    from ..inputs import as_lattice  # noqa: PLC0415

    return as_lattice(lattice, name="--lattice")


def _theory(shape, cutoff, mass, Lambda, lam):
    from ..cutoffs import parse_cutoff  # noqa: PLC0415
    from ..lattice.theory import LatticeTheory  # noqa: PLC0415

    return LatticeTheory.from_cutoff(shape, parse_cutoff(cutoff), mass, Lambda, lam)


def _progress(flag):
    """tqdm bar on a terminal, quiet otherwise (no carriage returns in log files)."""
    if flag is None:
        return bool(getattr(sys.stderr, "isatty", lambda: False)())
    return bool(flag)


_COMMON = [
    click.option("--lattice", default="8x8", show_default=True, help="Lattice shape, e.g. 8x8, 4x4x4x4, 1."),
    click.option("--cutoff", "cutoff", default="bump:eps=0.5,lambda_max=2", show_default=True,
                 help="Cutoff spec (see `ergsym cutoff`)."),
    click.option("--mass", type=float, default=1.0, show_default=True, help="Bare mass m."),
    click.option("--Lambda", "Lambda", type=float, default=1.0, show_default=True, help="Cutoff scale."),
    click.option("--n-traj", type=int, default=2000, show_default=True,
                 help="Trajectories per run (thermalization included)."),
    click.option("--n-therm", type=int, default=100, show_default=True,
                 help="Thermalization trajectories; the HMC step is adapted during them, then frozen."),
    click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random generator."),
    click.option("--n-steps", type=int, default=None,
                 help="Integration steps per trajectory (fixed; default: adapted during thermalization)."),
    click.option("--integrator", type=click.Choice(["split", "omelyan", "leapfrog"]), default="split",
                 show_default=True,
                 help="HMC integrator: split (exact free flow between quartic kicks), omelyan (the same "
                      "with minimum-norm kicks: fewer force evaluations at strong coupling on large "
                      "lattices), leapfrog (textbook; docs/lattice.md)."),
    click.option("--chains", "n_chains", type=int, default=1, show_default=True,
                 help="Independent chains run as one batch (gives the multi-chain R-hat)."),
    click.option("--backend", default="numpy", show_default=True, help="numpy or cupy."),
    click.option("--force", is_flag=True, help="Overwrite existing output files; run beyond the "
                 "memory/time limits."),
    click.option("--progress/--no-progress", default=None,
                 help="tqdm progress bar (default: on a terminal only)."),
    click.option("--json", "as_json", is_flag=True, help="Print JSON to stdout."),
]


def _common(f):
    for opt in reversed(_COMMON):
        f = opt(f)
    return f


#: options that may accompany --resume (everything else is stored in the checkpoint)
_RESUME_OK = {"resume", "n_traj", "as_json", "progress"}


def _given(ctx):
    from click.core import ParameterSource  # noqa: PLC0415

    return [p for p in ctx.params
            if ctx.get_parameter_source(p) not in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP, None)]


def _option_name(ctx, name):
    for p in ctx.command.params:
        if p.name == name:
            return max(p.opts, key=len)
    return name


def _interrupted(path):
    if path is None:
        click.echo("interrupted: nothing was saved (give --checkpoint FILE to be able to resume)", err=True)
    else:
        click.echo(f"interrupted: the run so far is saved in the checkpoint {path}\n"
                   f"resume it with:\n  ergsym mc --resume {shlex.quote(str(path))}", err=True)


@click.command("mc")
@scheduler_option
@_common
@click.option("--lam", "lam_text", default="0.1", show_default=True,
              help="Quartic coupling (>= 0): a number, lam=0.1, or several (0.05,0.1) run as a batch.")
@click.option("--measure-every", type=int, default=1, show_default=True)
@click.option("--record-gp", is_flag=True, help="Also record G_p (printed with --json).")
@click.option("--checkpoint", type=click.Path(dir_okay=False), default=None,
              help="New checkpoint file (written periodically, at the end and on Ctrl-C); an "
                   "existing file is refused unless --force.")
@click.option("--checkpoint-every", type=int, default=500, show_default=True)
@click.option("--resume", "resume", type=click.Path(dir_okay=False), default=None,
              help="Resume the run saved in this checkpoint. Only --n-traj (to extend the run), "
                   "--json and --progress may be given with it.")
@click.option("--seeds", default=None, help="Several runs, one per seed (e.g. 0,1,2,3), as a batch "
              "(see --scheduler); each run equals `mc --seed S`.")
@click.pass_context
def mc(ctx, lattice, cutoff, mass, Lambda, n_traj, n_therm, seed, n_steps, integrator, n_chains, backend,
       force, progress, as_json, lam_text, measure_every, record_gp, checkpoint, checkpoint_every, resume,
       seeds, batch):
    """Monte Carlo of lattice phi^4: A, B, the pieces (5.11)-(5.14), G_p, <phi^2>.

    Every observable is printed with its mean, autocorrelation-aware error, tau_int, n_eff
    and split R-hat; numbers that cannot be trusted (low acceptance, a frozen chain, a chain
    shorter than 50 tau_int, R-hat > 1.1) are marked and explained on stderr and in the JSON
    warnings.  The *_sd observables are the Schwinger-Dyson-improved estimators of the same
    quantities; eq5.11..eq5.14 are the pieces of Cotler & Rezchikov, PRD 108, 025003 (the old
    names P4..P1).  See docs/lattice.md.
    """
    from ..lattice.run import check_resources, resume_mc, run_mc  # noqa: PLC0415

    warnings = common.Warnings()
    show = _progress(progress)
    lam_points = [p["lam"] for p in common.parse_couplings(lam_text, ("lam",), "--lam", many=True)]
    if seeds is not None or batch.active or len(lam_points) > 1:  # a batch (ergsym.batch; docs/ensembles.md)
        if resume or checkpoint or record_gp:
            raise InputError.bad("--seeds/--scheduler/--lam LIST", seeds or lam_text,
                                 "used without --resume, --checkpoint and --record-gp",
                                 "a batch keeps each finished run in --store DIR instead")
        lam = lam_points[0] if len(lam_points) == 1 else lam_points
        return batch.mc(_shape(lattice).spec, cutoff, mass, Lambda, lam, n_traj, n_therm, seeds or str(seed),
                        progress=show, as_json=as_json, mc_options={
                            "n_steps": n_steps, "integrator": integrator, "backend": backend,
                            "measure_every": measure_every, "n_chains": n_chains})
    if resume is not None:
        extra = [n for n in _given(ctx) if n not in _RESUME_OK]
        if extra:
            names = ", ".join(_option_name(ctx, n) for n in extra)
            raise InputError.bad("--resume", resume, "given alone (the checkpoint holds every run setting) "
                                 "or with --n-traj N to extend the run",
                                 f"drop {names}, or start a new run without --resume")
        n_traj_ext = n_traj if "n_traj" in _given(ctx) else None
        try:
            res = resume_mc(resume, n_traj=n_traj_ext, progress=show)
        except KeyboardInterrupt:
            _interrupted(resume)
            raise
        parameters = {"resume": str(resume), "n_traj": res.n_traj}
    else:
        lam = common.parse_couplings(lam_text, ("lam",), "--lam")[0]["lam"]
        ck = common.output_file(checkpoint, "--checkpoint", (), force=force)
        shape = _shape(lattice)
        check_resources(shape, max(int(n_traj), 1) if isinstance(n_traj, int) else 1,
                        max(int(n_chains), 1), force=force, record_gp=record_gp,
                        n_steps=n_steps if isinstance(n_steps, int) and n_steps > 0 else 4)
        th = _theory(shape, cutoff, mass, Lambda, lam)
        try:
            res = run_mc(th, n_traj, seed=seed, n_therm=n_therm, measure_every=measure_every,
                         n_steps=n_steps, integrator=integrator, backend=backend, record_gp=record_gp,
                         checkpoint=ck, checkpoint_every=checkpoint_every, progress=show,
                         n_chains=n_chains, force=force)
        except KeyboardInterrupt:
            _interrupted(checkpoint)
            raise
        parameters = {"lattice": lattice, "cutoff": cutoff, "mass": mass, "Lambda": Lambda, "lam": lam,
                      "n_traj": n_traj, "n_therm": n_therm, "seed": seed, "n_steps": n_steps,
                      "integrator": integrator, "chains": n_chains, "backend": backend,
                      "measure_every": measure_every, "record_gp": record_gp,
                      "checkpoint": None if checkpoint is None else str(checkpoint)}
    for w in res.warnings:
        warnings.add(w)
    if as_json:
        d = res.to_dict()
        d.pop("warnings", None)
        d["cutoff"] = cutoff if resume is None else res.theory.meta.get("cutoff")
        common.echo_json("mc", parameters, d, warnings)
        return
    cfg = res.sampler_config
    click.echo(f"lattice {'x'.join(map(str, res.theory.shape))}, lam = {res.theory.lam:g}, "
               f"{res.n_traj} trajectories x {res.n_chains} chain(s), acceptance {res.acceptance:.3f}, "
               f"{res.elapsed:.1f} s")
    if cfg.get("sampler") == "hmc":
        how = (f"adapted during {res.n_therm} thermalization trajectories, then frozen" if res.adapted
               else "fixed")
        click.echo(f"HMC step: {cfg['n_steps']} steps of {cfg['step_size']:.4g} per trajectory ({how})")
    click.echo(f"exact: f0 = sum_p D/Kt = {res.theory.f0:.10g}, eq5.13 = -2 f0")
    click.echo(f"{'observable':>10}  {'mean ± error':>26}  {'tau_int':>8}  {'n_eff':>8}  {'R-hat':>6}  status")
    for name, st in res.all_stats.items():
        rh = "-" if st.rhat is None else f"{st.rhat:.3f}"
        status = "exact" if st.exact else ("ok" if st.reliable else "UNRELIABLE (see warnings)")
        click.echo(f"{name:>10}  {repr(st):>26}  {st.tau_corr:8.3g}  {st.n_eff:8.0f}  {rh:>6}  {status}")


@click.command("crosscheck")
@scheduler_option
@_common
@click.option("--lam", "--lams", "lam_text", default="0.02,0.05,0.1", show_default=True,
              help="Couplings, comma-separated (--lams is the old spelling).")
@click.option("--form", default="B", show_default=True,
              help="A, B, or a piece eq5.11..eq5.14 (old names P4..P1 accepted).")
@click.option("--order", type=int, default=3, show_default=True, help="Order of the exact series.")
@click.option("--estimator", type=click.Choice(["sd", "direct"]), default="sd", show_default=True)
@click.option("--plot", type=click.Path(dir_okay=False), default=None,
              help="Write a figure to this file (.png, .pdf, .svg); validated before computing.")
@click.option("--replicas", type=click.IntRange(1, 10000), default=1, show_default=True,
              help="Independent runs per coupling (a batch; seeds from SeedSequence(--seed).spawn).")
def crosscheck(lattice, cutoff, mass, Lambda, n_traj, n_therm, seed, n_steps, integrator, n_chains, backend,
               force, progress, as_json, lam_text, form, order, estimator, plot, replicas, batch):
    """Compare small-lambda Monte Carlo with the engine's exact lattice coefficients.

    Runs the Monte Carlo at each coupling, prints the per-coupling z-scores against the
    truncated series (with a truncation estimate) and the z-score of the fitted O(lambda^2)
    coefficient, and a verdict computed from them: unreliable Monte Carlo numbers never count
    as agreement, and a z-score is n/a (null in JSON, with the reason) where the estimator and
    the series are both exact.  See docs/lattice.md.
    """
    from ..cutoffs import parse_cutoff  # noqa: PLC0415
    from ..lattice.crosscheck import canonical_form  # noqa: PLC0415
    from ..lattice.crosscheck import crosscheck as run_crosscheck  # noqa: PLC0415
    from ..lattice.run import check_resources  # noqa: PLC0415

    warnings = common.Warnings()
    lams = [p["lam"] for p in common.parse_couplings(lam_text, ("lam",), "--lam", many=True)]
    form = canonical_form(form)
    png = common.output_file(plot, "--plot", common.PLOT_EXTENSIONS, force=force)
    shape = _shape(lattice)
    if isinstance(n_traj, int) and isinstance(n_chains, int):
        check_resources(shape, max(n_traj, 1) * len(lams), max(n_chains, 1), force=force)
    if batch.active or replicas > 1:  # one task per coupling x replica (ergsym.batch)
        res = batch.crosscheck(shape.spec, cutoff, mass, Lambda, lams, form, plot=png,
                               order=order, n_traj=n_traj, n_therm=n_therm, seed=seed, replicas=replicas,
                               estimator=estimator, progress=_progress(progress), mc_options={
                                   "n_steps": n_steps, "integrator": integrator, "backend": backend,
                                   "n_chains": n_chains})
    else:
        res = run_crosscheck(shape, parse_cutoff(cutoff), mass, Lambda, lams, form,
                             order=order, n_traj=n_traj, n_therm=n_therm, seed=seed, estimator=estimator,
                             backend=backend, progress=_progress(progress), plot=png, n_steps=n_steps,
                             integrator=integrator, n_chains=n_chains, force=force)
    for w in res.warnings:
        warnings.add(w)
    if as_json:
        d = res.to_dict()
        d.pop("warnings", None)
        parameters = {"lattice": lattice, "cutoff": cutoff, "mass": mass, "Lambda": Lambda, "lam": lams,
                      "form": form, "order": order, "estimator": estimator, "n_traj": n_traj,
                      "n_therm": n_therm, "seed": seed, "n_steps": n_steps, "integrator": integrator,
                      "chains": n_chains, "backend": backend,
                      "plot": None if plot is None else str(plot)}
        common.echo_json("crosscheck", parameters, d, warnings)
    else:
        click.echo(res.to_text())
        if res.plot:
            click.echo(f"plot written to {res.plot}")
