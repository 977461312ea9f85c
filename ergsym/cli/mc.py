"""``ergsym mc`` and ``ergsym crosscheck``: lattice Monte Carlo from the command line.

Examples::

    ergsym mc --lattice 8x8 --cutoff bump:eps=0.5,lambda_max=2 --mass 1 --Lambda 1 --lam 0.1 --json
    ergsym mc ... --checkpoint run.npz          # interrupt with Ctrl-C, then:
    ergsym mc --resume run.npz --json
    ergsym crosscheck --lattice 8x8 --cutoff bump:eps=0.5,lambda_max=2 --mass 1 --Lambda 1 \\
        --lams 0.02,0.05,0.1 --form B --plot crosscheck.png
"""
from __future__ import annotations

import json
import math

import click

from ..errors import InputError
from .batch_options import scheduler_option


def _theory(lattice, cutoff, mass, Lambda, lam):
    from ..conventions import parse_lattice  # noqa: PLC0415
    from ..cutoffs import parse_cutoff  # noqa: PLC0415
    from ..lattice.theory import LatticeTheory  # noqa: PLC0415

    shape = parse_lattice(lattice, name="lattice")
    return LatticeTheory.from_cutoff(shape, parse_cutoff(cutoff), mass, Lambda, lam)


def _parse_lams(text):
    out = []
    for part in str(text).split(","):
        part = part.strip()
        try:
            out.append(float(part))
        except ValueError:
            raise InputError.bad("--lams", text, "comma-separated numbers, e.g. 0.02,0.05,0.1") from None
    return out


_COMMON = [
    click.option("--lattice", default="8x8", show_default=True, help="Lattice shape, e.g. 8x8, 4x4x4x4, 1."),
    click.option("--cutoff", "cutoff", default="bump:eps=0.5,lambda_max=2", show_default=True,
                 help="Cutoff spec (see `ergsym cutoff`)."),
    click.option("--mass", type=float, default=1.0, show_default=True, help="Bare mass m."),
    click.option("--Lambda", "Lambda", type=float, default=1.0, show_default=True, help="Cutoff scale."),
    click.option("--n-traj", type=int, default=2000, show_default=True, help="Trajectories per run."),
    click.option("--n-therm", type=int, default=20, show_default=True, help="Thermalization trajectories."),
    click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random generator."),
    click.option("--n-steps", type=int, default=None, help="Integration steps per trajectory."),
    click.option("--integrator", type=click.Choice(["split", "leapfrog"]), default="split",
                 show_default=True),
    click.option("--backend", default="numpy", show_default=True, help="numpy or cupy."),
    click.option("--progress/--no-progress", default=True, show_default=True, help="tqdm progress bar."),
    click.option("--json", "as_json", is_flag=True, help="Print JSON to stdout."),
]


def _common(f):
    for opt in reversed(_COMMON):
        f = opt(f)
    return f


@click.command("mc")
@scheduler_option
@_common
@click.option("--lam", type=float, default=0.1, show_default=True, help="Quartic coupling (>= 0).")
@click.option("--measure-every", type=int, default=1, show_default=True)
@click.option("--record-gp", is_flag=True, help="Also record G_p (printed with --json).")
@click.option("--checkpoint", type=click.Path(dir_okay=False), default=None,
              help="Checkpoint file (written periodically and on Ctrl-C).")
@click.option("--checkpoint-every", type=int, default=500, show_default=True)
@click.option("--resume", "resume", type=click.Path(dir_okay=False), default=None,
              help="Resume the run saved in this checkpoint (other run options are ignored).")
@click.option("--seeds", default=None, help="Several runs, one per seed (e.g. 0,1,2,3), as a batch "
              "(see --scheduler); each run equals `mc --seed S`.")
def mc(lattice, cutoff, mass, Lambda, n_traj, n_therm, seed, n_steps, integrator, backend, progress,
       as_json, lam, measure_every, record_gp, checkpoint, checkpoint_every, resume, seeds, batch):
    """Monte Carlo of lattice phi^4 (SPEC section 3): A, B, their pieces, G_p, <phi^2>.

    Every observable is printed with its mean, autocorrelation-aware error and tau_int.
    The *_sd observables are the Schwinger-Dyson-improved estimators of the same quantities.
    """
    from ..lattice.run import resume_mc, run_mc  # noqa: PLC0415

    if seeds is not None or batch.active:  # a batch of runs (ergsym.batch; docs/ensembles.md)
        if resume or checkpoint or record_gp:
            raise InputError.bad("--seeds/--scheduler", seeds, "used without --resume, --checkpoint and "
                                 "--record-gp", "a batch keeps each finished run in --store DIR instead")
        return batch.mc(lattice, cutoff, mass, Lambda, lam, n_traj, n_therm, seeds or str(seed),
                        progress=progress, as_json=as_json, mc_options={
                            "n_steps": n_steps, "integrator": integrator, "backend": backend,
                            "measure_every": measure_every})
    if resume is not None:
        res = resume_mc(resume, progress=progress)
    else:
        th = _theory(lattice, cutoff, mass, Lambda, lam)
        res = run_mc(th, n_traj, seed=seed, n_therm=n_therm, measure_every=measure_every,
                     n_steps=n_steps, integrator=integrator, backend=backend, record_gp=record_gp,
                     checkpoint=checkpoint, checkpoint_every=checkpoint_every, progress=progress)
    if as_json:
        d = res.to_dict()
        d["cutoff"] = cutoff if resume is None else res.theory.meta.get("cutoff")
        click.echo(json.dumps(d, indent=1))
        return
    click.echo(f"lattice {'x'.join(map(str, res.theory.shape))}, lam = {res.theory.lam:g}, "
               f"{res.n_traj} trajectories, acceptance {res.acceptance:.3f}, {res.elapsed:.1f} s")
    click.echo(f"exact: f0 = sum_p D/Kt = {res.theory.f0:.10g}, P2 = -2 f0")
    click.echo(f"{'observable':>10}  {'mean ± error':>26}  {'tau_int':>8}")
    for name, st in res.all_stats.items():
        click.echo(f"{name:>10}  {repr(st):>26}  {st.tau_corr:8.3g}")


@click.command("crosscheck")
@scheduler_option
@_common
@click.option("--lams", default="0.02,0.05,0.1", show_default=True, help="Comma-separated couplings.")
@click.option("--form", type=click.Choice(["A", "B", "P1", "P2", "P3", "P4"]), default="B", show_default=True)
@click.option("--order", type=int, default=3, show_default=True, help="Order of the exact series.")
@click.option("--estimator", type=click.Choice(["sd", "direct"]), default="sd", show_default=True)
@click.option("--plot", type=click.Path(dir_okay=False), default="crosscheck.png", show_default=True,
              help="Figure file ('' for none).")
@click.option("--replicas", type=click.IntRange(1, 10000), default=1, show_default=True,
              help="Independent runs per coupling (a batch; seeds from SeedSequence(--seed).spawn).")
def crosscheck(lattice, cutoff, mass, Lambda, n_traj, n_therm, seed, n_steps, integrator, backend,
               progress, as_json, lams, form, order, estimator, plot, replicas, batch):
    """Compare small-lambda Monte Carlo with the engine's exact lattice coefficients.

    Runs the Monte Carlo at each coupling, prints the per-coupling z-scores against the
    truncated series (with a truncation estimate) and the z-score of the fitted O(lambda^2)
    coefficient, and writes a plot.
    """
    from ..cutoffs import parse_cutoff  # noqa: PLC0415
    from ..lattice.crosscheck import crosscheck as run_crosscheck  # noqa: PLC0415

    from ..conventions import parse_lattice  # noqa: PLC0415

    if batch.active or replicas > 1:  # one task per coupling x replica (ergsym.batch)
        res = batch.crosscheck(lattice, cutoff, mass, Lambda, _parse_lams(lams), form, plot=plot or None,
                               order=order, n_traj=n_traj, n_therm=n_therm, seed=seed, replicas=replicas,
                               estimator=estimator, progress=progress, mc_options={
                                   "n_steps": n_steps, "integrator": integrator, "backend": backend})
    else:
        res = run_crosscheck(parse_lattice(lattice, name="lattice"), parse_cutoff(cutoff), mass, Lambda, _parse_lams(lams), form,
                         order=order, n_traj=n_traj, n_therm=n_therm, seed=seed, estimator=estimator,
                         backend=backend, progress=progress, plot=plot or None, n_steps=n_steps,
                         integrator=integrator)
    if as_json:
        d = res.to_dict()
        d = json.loads(json.dumps(d, default=lambda o: None if isinstance(o, float) and math.isnan(o) else str(o)))
        click.echo(json.dumps(d, indent=1))
    else:
        click.echo(res.to_text())
        if res.plot:
            click.echo(f"plot written to {res.plot}")
