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


def _theory(shape, cutoff, mass, Lambda, lam, N=1):
    from ..cutoffs import parse_cutoff  # noqa: PLC0415
    from ..lattice.theory import LatticeTheory  # noqa: PLC0415

    return LatticeTheory.from_cutoff(shape, parse_cutoff(cutoff), mass, Lambda, lam, N=N)


def _n_components(text):
    """``--N`` as an int >= 1 (the number of field components of the O(N) model)."""
    from ..lattice.theory import validate_n_components  # noqa: PLC0415

    try:
        value = int(str(text).strip())
    except ValueError:
        raise InputError.bad(
            "--N", text, "an integer >= 1 (the number of field components)", "e.g. --N 3 for the O(3) model"
        ) from None
    return validate_n_components(value, "--N")


def _progress(flag):
    """tqdm bar on a terminal, quiet otherwise (no carriage returns in log files)."""
    if flag is None:
        return bool(getattr(sys.stderr, "isatty", lambda: False)())
    return bool(flag)


#: ``ergsym crosscheck``'s Monte Carlo length: the defaults of the API it runs
#: (:func:`ergsym.lattice.crosscheck.crosscheck`, :func:`ergsym.batch.crosscheck_ensemble`;
#: a test keeps them equal).  ``ergsym mc`` keeps its own length (2000); both thermalize by
#: :func:`ergsym.lattice.run.default_n_therm` unless --n-therm is given.
CROSSCHECK_N_TRAJ, CROSSCHECK_N_THERM = 3000, None


def _common_options(n_traj=2000, n_therm=None):
    return [
        click.option("--lattice", default="8x8", show_default=True, help="Lattice shape, e.g. 8x8, 4x4x4x4, 1."),
        click.option(
            "--cutoff",
            "cutoff",
            default="bump:eps=0.5,lambda_max=2",
            show_default=True,
            help="Cutoff spec (see `ergsym cutoff`).",
        ),
        click.option("--mass", type=float, default=1.0, show_default=True, help="Bare mass m."),
        click.option("--Lambda", "Lambda", type=float, default=1.0, show_default=True, help="Cutoff scale."),
        click.option(
            "--n-traj",
            type=int,
            default=n_traj,
            show_default=True,
            help="Trajectories per run (thermalization included).",
        ),
        click.option(
            "--n-therm",
            type=int,
            default=n_therm,
            help="Thermalization trajectories; the HMC step is adapted during them, then frozen "
            "(default: min(100, n_traj/5), as in the Python API).",
        ),
        click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random generator."),
        click.option(
            "--n-steps",
            type=int,
            default=None,
            help="Integration steps per trajectory (fixed; default: adapted during thermalization).",
        ),
        click.option(
            "--integrator",
            type=click.Choice(["split", "omelyan", "leapfrog"]),
            default="split",
            show_default=True,
            help="HMC integrator: split (exact free flow between quartic kicks), omelyan (the same "
            "with minimum-norm kicks: fewer force evaluations at strong coupling on large "
            "lattices), leapfrog (textbook; docs/lattice.md).",
        ),
        click.option(
            "--chains",
            "n_chains",
            type=int,
            default=1,
            show_default=True,
            help="Independent chains run as one batch (gives the multi-chain R-hat).",
        ),
        click.option("--backend", default="numpy", show_default=True, help="numpy or cupy."),
        click.option(
            "--force", is_flag=True, help="Overwrite existing output files; run beyond the memory/time limits."
        ),
        click.option("--progress/--no-progress", default=None, help="tqdm progress bar (default: on a terminal only)."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON to stdout."),
    ]


def _common(f, **defaults):
    for opt in reversed(_common_options(**defaults)):
        f = opt(f)
    return f


def _crosscheck_common(f):
    return _common(f, n_traj=CROSSCHECK_N_TRAJ, n_therm=CROSSCHECK_N_THERM)


#: options that may accompany --resume (everything else is stored in the checkpoint)
_RESUME_OK = {"resume", "n_traj", "as_json", "progress"}


def _given(ctx):
    from click.core import ParameterSource  # noqa: PLC0415

    return [
        p
        for p in ctx.params
        if ctx.get_parameter_source(p) not in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP, None)
    ]


def _option_name(ctx, name):
    for p in ctx.command.params:
        if p.name == name:
            return max(p.opts, key=len)
    return name


def _interrupted(path):
    if path is None:
        click.echo("interrupted: nothing was saved (give --checkpoint FILE to be able to resume)", err=True)
    else:
        click.echo(
            f"interrupted: the run so far is saved in the checkpoint {path}\n"
            f"resume it with:\n  ergsym mc --resume {shlex.quote(str(path))}",
            err=True,
        )


#: seconds between two progress lines when stderr is not a terminal
PROGRESS_EVERY_S = 30.0


class _ProgressLines:
    """Periodic one-line progress on stderr for a run whose stderr is not a terminal (a log
    file, a pipe, a batch system): an estimate first, then a line every
    :data:`PROGRESS_EVERY_S` seconds (a ``run_mc`` callback)."""

    def __init__(self, label, total=None, estimate_s=None):
        import time  # noqa: PLC0415

        self.label, self.total = label, total
        self.t0 = self.last = time.perf_counter()
        if total is not None:
            est = "" if estimate_s is None else f", estimated {_duration(estimate_s)} (a rough bound)"
            click.echo(f"{label}: {total} trajectories{est}; a progress line every {PROGRESS_EVERY_S:g} s", err=True)

    def __call__(self, i, state, info):
        import time  # noqa: PLC0415

        now = time.perf_counter()
        if now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        done, spent = i + 1, now - self.t0
        if self.total:
            left = max(self.total - done, 0) * spent / done
            click.echo(
                f"{self.label}: {done}/{self.total} trajectories ({100 * done / self.total:.0f}%), "
                f"{_duration(spent)} elapsed, about {_duration(left)} left",
                err=True,
            )
        else:
            click.echo(f"{self.label}: {done} trajectories, {_duration(spent)} elapsed", err=True)


def _duration(seconds):
    seconds = float(seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _lines_wanted(flag):
    """Progress lines: by default when stderr is not a terminal (no bar there); not with --no-progress."""
    return flag is None and not bool(getattr(sys.stderr, "isatty", lambda: False)())


def _command_line(command):
    """``ergsym COMMAND ARGS`` as it was run (quoted for a POSIX shell)."""
    from . import INVOCATION  # noqa: PLC0415

    args = list(INVOCATION) or [command]
    return "ergsym " + shlex.join(args)


def _interrupted_batch(command, store):
    """The Ctrl-C message of a batch command: what is kept, and the command that resumes."""
    if store is None:
        click.echo(
            f"interrupted: nothing was saved (give --store DIR to be able to resume: rerunning "
            f"the same command with the same --store skips the tasks finished there), e.g.\n"
            f"  {_command_line(command)} --store {command}-store",
            err=True,
        )
        return
    from pathlib import Path  # noqa: PLC0415

    n = len(list((Path(store) / "tasks").glob("*.json")))
    click.echo(
        f"interrupted: {n} finished task(s) are kept in the store {store}\n"
        f"resume with the same command (finished tasks are read back, not rerun):\n"
        f"  {_command_line(command)}",
        err=True,
    )


def _task_progress(flag):
    """Per-task progress of a batch: on unless --no-progress (tqdm on a terminal, one line per
    finished task otherwise)."""
    return flag is None or bool(flag)


@click.command("mc")
@scheduler_option
@_common
@click.option(
    "--lam",
    "lam_text",
    default="0.1",
    show_default=True,
    help="Quartic coupling (>= 0): a number, lam=0.1, or several (0.05,0.1) run as a batch.",
)
@common.n_option("phi2 and the pieces are summed over components (docs/lattice.md).")
@click.option("--measure-every", type=int, default=1, show_default=True)
@click.option("--record-gp", is_flag=True, help="Also record G_p (printed with --json).")
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False),
    default=None,
    help="New checkpoint file (written periodically, at the end and on Ctrl-C); an "
    "existing file is refused unless --force.",
)
@click.option("--checkpoint-every", type=int, default=500, show_default=True)
@click.option(
    "--resume",
    "resume",
    type=click.Path(dir_okay=False),
    default=None,
    help="Resume the run saved in this checkpoint. Only --n-traj (to extend the run), "
    "--json and --progress may be given with it.",
)
@click.option(
    "--seeds",
    default=None,
    help="Several runs, one per seed (e.g. 0,1,2,3), as a batch (see --scheduler); each run equals `mc --seed S`.",
)
@click.pass_context
def mc(
    ctx,
    lattice,
    cutoff,
    mass,
    Lambda,
    n_traj,
    n_therm,
    seed,
    n_steps,
    integrator,
    n_chains,
    backend,
    force,
    progress,
    as_json,
    lam_text,
    n_text,
    measure_every,
    record_gp,
    checkpoint,
    checkpoint_every,
    resume,
    seeds,
    batch,
):
    """Monte Carlo of lattice phi^4 (or the O(N) model, --N): A, B, the pieces (5.11)-(5.14), G_p, <phi^2>.

    Every observable is printed with its mean, autocorrelation-aware error, tau_int, n_eff
    and split R-hat; numbers that cannot be trusted (low acceptance, a frozen chain, a chain
    shorter than 50 tau_int, R-hat > 1.1) are marked and explained on stderr and in the JSON
    warnings.  The *_sd observables are the Schwinger-Dyson-improved estimators of the same
    quantities; eq5.11..eq5.14 are the pieces of Cotler & Rezchikov, PRD 108, 025003 (the old
    names P4..P1).  See docs/lattice.md.
    """
    from ..lattice.run import default_n_therm, resume_mc, run_mc  # noqa: PLC0415

    if n_therm is None and isinstance(n_traj, int):  # one default for the API and the CLI
        n_therm = default_n_therm(n_traj)
    warnings = common.Warnings()
    show = _progress(progress)
    lam_points = [p["lam"] for p in common.parse_couplings(lam_text, ("lam",), "--lam", many=True)]
    n_comp = _n_components(n_text)
    if seeds is not None and common.given("seed"):
        common.refuse_together(
            "--seed",
            seed,
            "--seeds",
            seeds,
            "--seeds lists the seed of every run",
            "drop --seed (or put its value into --seeds)",
        )
    if seeds is not None or batch.active or len(lam_points) > 1:  # a batch (ergsym.batch; docs/ensembles.md)
        if resume or checkpoint or record_gp:
            raise InputError.bad(
                "--seeds/--scheduler/--lam LIST",
                seeds or lam_text,
                "used without --resume, --checkpoint and --record-gp",
                "a batch keeps each finished run in --store DIR instead",
            )
        lam = lam_points[0] if len(lam_points) == 1 else lam_points
        n_runs = len(lam_points) * (len(str(seeds).split(",")) if seeds is not None else 1)
        if isinstance(n_traj, int) and isinstance(n_chains, int):
            shape = _shape(lattice)
            common.mc_preflight(
                shape,
                lambda: _theory(shape, cutoff, mass, Lambda, 0.0, n_comp),
                lam_points,
                n_traj * n_runs // max(len(lam_points), 1),
                n_chains * n_comp,  # N components cost about as much as N chains
                n_steps=n_steps,
                force=force,
            )
        return batch.mc(
            _shape(lattice).spec,
            cutoff,
            mass,
            Lambda,
            lam,
            n_traj,
            n_therm,
            seeds or str(seed),
            progress=_task_progress(progress),
            as_json=as_json,
            N=n_comp,
            mc_options={
                "n_steps": n_steps,
                "integrator": integrator,
                "backend": backend,
                "measure_every": measure_every,
                "n_chains": n_chains,
                **({"force": True} if force else {}),
            },
        )
    if resume is not None:
        extra = [n for n in _given(ctx) if n not in _RESUME_OK]  # N is in the checkpoint
        if extra:
            names = ", ".join(_option_name(ctx, n) for n in extra)
            raise InputError.bad(
                "--resume",
                resume,
                "given alone (the checkpoint holds every run setting) or with --n-traj N to extend the run",
                f"drop {names}, or start a new run without --resume",
            )
        n_traj_ext = n_traj if "n_traj" in _given(ctx) else None
        lines = _ProgressLines(f"mc --resume {resume}") if _lines_wanted(progress) else None
        try:
            res = resume_mc(resume, n_traj=n_traj_ext, progress=show, callback=lines)
        except KeyboardInterrupt:
            _interrupted(resume)
            raise
        parameters = {"resume": str(resume), "n_traj": res.n_traj}
    else:
        lam = common.parse_couplings(lam_text, ("lam",), "--lam")[0]["lam"]
        ck = common.output_file(checkpoint, "--checkpoint", (), force=force)
        shape = _shape(lattice)
        # the cost pre-flight knows what lam does to the step count (exit 2 naming --lam)
        est = common.mc_preflight(
            shape,
            lambda: _theory(shape, cutoff, mass, Lambda, 0.0, n_comp),
            [lam],
            n_traj,
            n_chains * n_comp,  # N components cost about as much as N chains
            n_steps=n_steps,
            force=force,
            record_gp=record_gp,
        )
        th = _theory(shape, cutoff, mass, Lambda, lam, n_comp)
        lines = (
            _ProgressLines(
                f"mc lam={lam:g}", n_traj if isinstance(n_traj, int) else None, None if est is None else est["seconds"]
            )
            if _lines_wanted(progress)
            else None
        )
        try:
            res = run_mc(
                th,
                n_traj,
                seed=seed,
                n_therm=n_therm,
                measure_every=measure_every,
                n_steps=n_steps,
                integrator=integrator,
                backend=backend,
                record_gp=record_gp,
                checkpoint=ck,
                checkpoint_every=checkpoint_every,
                progress=show,
                n_chains=n_chains,
                force=force,
                callback=lines,
            )
        except KeyboardInterrupt:
            _interrupted(checkpoint)
            raise
        parameters = {
            "lattice": lattice,
            "cutoff": cutoff,
            "mass": mass,
            "Lambda": Lambda,
            "lam": lam,
            "N": n_comp,
            "n_traj": n_traj,
            "n_therm": n_therm,
            "seed": seed,
            "n_steps": n_steps,
            "integrator": integrator,
            "chains": n_chains,
            "backend": backend,
            "measure_every": measure_every,
            "record_gp": record_gp,
            "checkpoint": None if checkpoint is None else str(checkpoint),
        }
    for w in res.warnings:
        warnings.add(w)
    if as_json:
        d = res.to_dict()
        d.pop("warnings", None)
        d["cutoff"] = cutoff if resume is None else res.theory.meta.get("cutoff")
        common.echo_json("mc", parameters, d, warnings)
        return
    cfg = res.sampler_config
    n_txt = "" if res.theory.N == 1 else f"O({res.theory.N}) model (phi2 and the pieces summed over components), "
    click.echo(
        f"{n_txt}lattice {'x'.join(map(str, res.theory.shape))}, lam = {res.theory.lam:g}, "
        f"{res.n_traj} trajectories x {res.n_chains} chain(s), acceptance {res.acceptance:.3f}, "
        f"{res.elapsed:.1f} s"
    )
    if cfg.get("sampler") == "hmc":
        how = f"adapted during {res.n_therm} thermalization trajectories, then frozen" if res.adapted else "fixed"
        click.echo(f"HMC step: {cfg['n_steps']} steps of {cfg['step_size']:.4g} per trajectory ({how})")
    if res.theory.N == 1:
        click.echo(f"exact: f0 = sum_p D/Kt = {res.theory.f0:.10g}, eq5.13 = -2 f0")
    else:
        click.echo(
            f"exact: f0 = sum_p D/Kt = {res.theory.f0:.10g}, "
            f"eq5.13 = -2 N f0 = {-2 * res.theory.N * res.theory.f0 + 0.0:.10g}"
        )
    click.echo(f"{'observable':>10}  {'mean ± error':>26}  {'tau_int':>8}  {'n_eff':>8}  {'R-hat':>6}  status")
    for name, st in res.all_stats.items():
        rh = "-" if st.rhat is None else f"{st.rhat:.3f}"
        status = "exact" if st.exact else ("ok" if st.reliable else "UNRELIABLE (see warnings)")
        click.echo(f"{name:>10}  {repr(st):>26}  {st.tau_corr:8.3g}  {st.n_eff:8.0f}  {rh:>6}  {status}")


@click.command("crosscheck")
@scheduler_option
@_crosscheck_common
@click.option(
    "--lam",
    "--lams",
    "lam_text",
    default="0.02,0.05,0.1",
    show_default=True,
    help="Couplings, comma-separated (--lams is the old spelling).",
)
@click.option(
    "--form", default="B", show_default=True, help="A, B, or a piece eq5.11..eq5.14 (old names P4..P1 accepted)."
)
@click.option("--order", type=int, default=3, show_default=True, help="Order of the exact series.")
@common.n_option("the Monte Carlo with N components against the O(N) engine's exact lattice series.")
@click.option("--estimator", type=click.Choice(["sd", "direct"]), default="sd", show_default=True)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write a figure to this file (.png, .pdf, .svg); validated before computing.",
)
@click.option(
    "--replicas",
    type=click.IntRange(1, 10000),
    default=1,
    show_default=True,
    help="Independent runs per coupling (a batch; seeds from SeedSequence(--seed).spawn).",
)
def crosscheck(
    lattice,
    cutoff,
    mass,
    Lambda,
    n_traj,
    n_therm,
    seed,
    n_steps,
    integrator,
    n_chains,
    backend,
    force,
    progress,
    as_json,
    lam_text,
    form,
    order,
    n_text,
    estimator,
    plot,
    replicas,
    batch,
):
    """Compare small-lambda Monte Carlo with the engine's exact lattice coefficients.

    Runs the Monte Carlo at each coupling and prints, per coupling, the error budget
    (statistical, quadrature, truncation of the series, total), the z-score and a verdict:
    agrees, disagrees, inconclusive (the series' truncation exceeds the statistical error, or
    the Monte Carlo number is unreliable: the reason says what would decide it), exact, or
    nothing compared (D_p = 0 at every lattice momentum); then the fitted O(lambda^2)
    coefficient and the run verdict, which agrees only when at least one comparison had power
    and none disagreed.  A z-score is n/a (null in JSON, with the reason) where the estimator
    and the series are both exact.  See docs/lattice.md.
    """
    from ..lattice.crosscheck import canonical_form  # noqa: PLC0415
    from ..lattice.run import default_n_therm  # noqa: PLC0415

    if n_therm is None and isinstance(n_traj, int):  # one default for the API and the CLI
        n_therm = default_n_therm(n_traj)
    warnings = common.Warnings()
    lams = [p["lam"] for p in common.parse_couplings(lam_text, ("lam",), "--lam", many=True)]
    form = canonical_form(form)
    n_comp = _n_components(n_text)
    png = common.output_file(plot, "--plot", common.PLOT_EXTENSIONS, force=force)
    shape = _shape(lattice)
    if isinstance(n_traj, int) and isinstance(n_chains, int):  # every coupling x replica, lam-aware
        common.mc_preflight(
            shape,
            lambda: _theory(shape, cutoff, mass, Lambda, 0.0, n_comp),
            lams,
            n_traj * replicas,
            max(n_chains, 1) * n_comp,  # N components cost about as much as N chains
            n_steps=n_steps,
            force=force,
        )
    # One seeding path for every mode: the runs are always the tasks of a batch (one per
    # coupling x replica, seeds SeedSequence(--seed).spawn), run in this process unless
    # --scheduler says otherwise, so the default, inprocess and local:N agree bitwise.
    try:
        res = batch.crosscheck(
            shape.spec,
            cutoff,
            mass,
            Lambda,
            lams,
            form,
            plot=png,
            order=order,
            n_traj=n_traj,
            n_therm=n_therm,
            seed=seed,
            replicas=replicas,
            estimator=estimator,
            progress=_task_progress(progress),
            **({"N": n_comp} if n_comp != 1 else {}),
            mc_options={
                "n_steps": n_steps,
                "integrator": integrator,
                "backend": backend,
                "n_chains": n_chains,
                **({"force": True} if force else {}),
            },
        )
    except KeyboardInterrupt:
        _interrupted_batch("crosscheck", batch.store)
        raise
    for w in res.warnings:
        warnings.add(w)
    if as_json:
        d = res.to_dict()
        d.pop("warnings", None)
        parameters = {
            "lattice": lattice,
            "cutoff": cutoff,
            "mass": mass,
            "Lambda": Lambda,
            "lam": lams,
            "form": form,
            "order": order,
            "N": n_comp,
            "estimator": estimator,
            "n_traj": n_traj,
            "n_therm": n_therm,
            "seed": seed,
            "n_steps": n_steps,
            "integrator": integrator,
            "chains": n_chains,
            "backend": backend,
            "plot": None if plot is None else str(plot),
        }
        common.echo_json("crosscheck", parameters, d, warnings)
    else:
        click.echo(res.to_text())
        if res.plot:
            click.echo(f"plot written to {res.plot}")
