"""``--scheduler`` and ``--store``: the options of every command that runs a batch.

``@scheduler_option`` (put it right under ``@click.command``, above the other options) adds

* ``--scheduler WHERE``: ``inprocess`` (this process), ``local:N`` (N worker processes
  started and stopped by ergsym) or ``tcp://HOST:PORT`` (an existing Dask cluster);
* ``--store DIR``: keep one result file per finished task in DIR; rerunning the same
  command resumes, skipping finished tasks;
* ``--force`` (unless the command has its own): discard a store holding a different batch,

and passes the command one keyword argument ``batch``, a :class:`BatchOptions`.  The
scheduler is checked before anything is computed (bad forms, or Dask missing: exit 2).
The routines below run each command's batch and print its output, so the command modules
only decide *whether* to run a batch.  See docs/ensembles.md.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import click

from ..errors import DivergentIntegralError, InputError

__all__ = ["scheduler_option", "BatchOptions", "runner_from_option"]

SCHEDULER_HELP = (
    "Run the command's tasks as a batch: 'inprocess', 'local:N' (N Dask worker processes "
    "on this machine) or 'tcp://HOST:PORT' (a running Dask scheduler); needs "
    'pip install "ergsym[dask]" except for inprocess.  Results are identical in every mode.'
)
STORE_HELP = (
    "Directory for the batch's results, one file per finished task; rerun the same command to "
    "resume without redoing finished tasks."
)


def runner_from_option(value: str | None, option: str = "--scheduler") -> object:
    """The runner for a ``--scheduler`` value (raises InputError, exit 2, for bad values or no Dask)."""
    from ..batch import make_runner  # noqa: PLC0415

    return make_runner(value, option=option)


class BatchOptions:
    """Values of ``--scheduler``, ``--store`` and ``--force`` for one command run.

    ``active`` is true when either option was given: the command then runs its work as a
    batch (:mod:`ergsym.batch`); otherwise it runs as it always did.
    """

    def __init__(self, scheduler: str | None = None, store: str | None = None, force: bool = False) -> None:
        self.scheduler = scheduler
        self.store = store
        self.force = bool(force)
        self.runner = runner_from_option(scheduler) if scheduler is not None else None
        self.active = scheduler is not None or store is not None

    def kwargs(self) -> dict:
        from ..batch import InProcessRunner  # noqa: PLC0415

        return {"scheduler": self.runner or InProcessRunner(), "store": self.store, "force": self.force}

    def parameters(self) -> dict:
        return {"scheduler": self.scheduler or "inprocess", "store": self.store}

    # --- one routine per command -------------------------------------------------------------

    def crosscheck(
        self,
        lattice: str,
        cutoff: str,
        mass: float,
        Lambda: float,
        lams: list[float],
        form: str,
        *,
        plot: str | None = None,
        mc_options: dict | None = None,
        **kw: object,
    ) -> object:
        """``ergsym crosscheck`` as a batch: :func:`ergsym.batch.crosscheck_ensemble` (+ plot)."""
        import dataclasses  # noqa: PLC0415

        from ..batch import crosscheck_ensemble  # noqa: PLC0415
        from ..lattice.crosscheck import plot_crosscheck  # noqa: PLC0415

        res, batch = crosscheck_ensemble(
            lattice, cutoff, mass, Lambda, lams, form, mc_options=mc_options, **kw, **self.kwargs()
        )
        res = dataclasses.replace(res, meta={**res.meta, "batch": batch.summary()})
        if plot:
            plot_crosscheck(res, plot)
            res = dataclasses.replace(res, plot=str(plot))
        return res

    def mc(
        self,
        lattice: str,
        cutoff: str,
        mass: float,
        Lambda: float,
        lam: float | list[float],
        n_traj: int,
        n_therm: int,
        seeds: list[int] | None,
        *,
        progress: bool,
        as_json: bool,
        mc_options: dict,
        N: int = 1,
    ) -> dict:
        """``ergsym mc --seeds LIST`` and/or ``--lam L1,L2,...``: one run per coupling and seed
        (each equal to ``ergsym mc --lam L --seed S``, with ``--N N`` for ``N`` components),
        combined over the seeds of each coupling."""
        from ..batch import combine_stats, run_mc_points, theory_spec  # noqa: PLC0415
        from . import common  # noqa: PLC0415

        seeds = _parse_seeds(seeds)
        lams = [float(lam)] if isinstance(lam, (int, float)) else [float(x) for x in lam]
        if len(set(lams)) != len(lams):
            raise InputError.bad("--lam", ",".join(map(str, lams)), "distinct couplings")
        spec = theory_spec(lattice=lattice, cutoff=cutoff, mass=mass, Lambda=Lambda, N=N)
        points = [(x, s) for x in lams for s in seeds]
        runs, batch = run_mc_points(
            spec,
            points,
            n_traj,
            n_therm=n_therm,
            mc_options=mc_options,
            progress=progress,
            description={"kind": "mc", **({"N": N} if N != 1 else {})},  # N = 1 stores as they were
            **self.kwargs(),
        )
        warnings = common.Warnings()
        for r in runs:
            for w in r.get("warnings", []):
                warnings.add(f"lam={r['lam']:g}, seed {r['seed']}: {w}")
        per_lam = []
        for x in lams:
            mine = [r for r in runs if r["lam"] == x]
            names = list(mine[0]["stats"])
            acc = math.fsum(r["acceptance"] for r in mine) / len(mine)
            per_lam.append((x, acc, {n: combine_stats(r["stats"][n] for r in mine) for n in names}, mine))
        params = {
            "lattice": lattice,
            "cutoff": cutoff,
            "mass": mass,
            "Lambda": Lambda,
            "lam": lams[0] if len(lams) == 1 else lams,
            **({"N": N} if N != 1 else {}),
            "n_traj": n_traj,
            "n_therm": n_therm,
            "seeds": seeds,
            **self.parameters(),
        }
        if as_json:

            def block(x, acc, combined, mine):
                return {
                    "lam": x,
                    "combined": {n: _value(st, acc) for n, st in combined.items()},
                    "runs": [
                        {
                            "seed": r["seed"],
                            "acceptance": r["acceptance"],
                            "observables": {n: _value(st, r["acceptance"]) for n, st in r["stats"].items()},
                        }
                        for r in mine
                    ],
                }

            blocks = [block(*b) for b in per_lam]
            results = dict(blocks[0]) if len(blocks) == 1 else {"points": blocks}
            results.pop("lam", None) if len(blocks) == 1 else None
            results["batch"] = batch.summary()
            common.echo_json("mc", params, results, warnings)
            return
        for x, acc, combined, _ in per_lam:
            model = "" if N == 1 else f"O({N}) model (phi2 and the pieces summed over components), "
            click.echo(
                f"lattice {lattice}, {model}lam = {x:g}, {len(seeds)} run(s) (seeds {', '.join(map(str, seeds))}) "
                f"of {n_traj} trajectories, mean acceptance {acc:.3f}, scheduler "
                f"{batch.scheduler}; combined over runs:"
            )
            click.echo(f"{'observable':>10}  {'mean ± error':>26}  {'tau_int':>8}  status")
            for n, st in combined.items():
                status = "exact" if st.exact else ("ok" if st.reliable else "UNRELIABLE (see warnings)")
                click.echo(f"{n:>10}  {repr(st):>26}  {st.tau_corr:8.3g}  {status}")

    def integral_scan(
        self,
        cutoff_spec: str,
        cutoff: object,
        dim: int,
        mass: float,
        Lambda: float,
        which: str,
        grid: list[float],
        names: list[str],
        rtol: float | None,
        method: str,
    ) -> dict:
        """``ergsym integrals --scan`` as a batch (``which``: the scanned parameter, ``grid``: its
        values); returns ``name -> Value-like | DivergentIntegralError``."""
        from ..batch import integral_scan  # noqa: PLC0415

        if which in ("Lambda", "mass"):
            merged, _ = integral_scan(
                cutoff_spec,
                dim,
                mass,
                Lambda,
                scan=which,
                grid=grid.tolist(),
                names=names,
                rtol=rtol,
                method=method,
                **self.kwargs(),
            )
        else:
            merged, _ = integral_scan(
                [c.spec for c in cutoff],
                dim,
                mass,
                Lambda,
                scan="cutoff",
                grid=[c.spec for c in cutoff],
                names=names,
                rtol=rtol,
                method=method,
                **self.kwargs(),
            )
        return {
            n: (DivergentIntegralError(d["message"]) if d.get("divergent") else _Stored(d)) for n, d in merged.items()
        }

    def map(self, func: str, kwargs_list: list[dict], keys: list[str], label: str = "batch") -> list:
        """Any function over a list of points (``ergsym flow --scan``); results in order."""
        from ..batch import map_tasks  # noqa: PLC0415

        out, _ = map_tasks(func, kwargs_list, keys, label=label, **self.kwargs())
        return out


class _Stored:
    """A result read back from a batch, with the ``to_dict`` of the object it came from."""

    def __init__(self, d):
        self._d = d

    def to_dict(self):
        return dict(self._d)


def _value(st, acceptance):
    """The Monte Carlo value object of the JSON output (``converged``: a reliable number whose
    error estimate is backed by at least 20 effective samples, or an exact estimator)."""
    ok = bool(st.reliable) and math.isfinite(st.error_of_mean) and (st.exact or st.n_eff >= 20)
    return {
        "value": st.mean,
        "error": st.error_of_mean,
        "converged": bool(ok),
        "tau_int": st.tau_corr,
        "n_eff": st.n_eff,
        "acceptance": acceptance,
    }


def _parse_seeds(text):
    out = []
    for part in str(text).split(","):
        part = part.strip()
        try:
            v = int(part)
        except ValueError:
            raise InputError.bad("--seeds", text, "comma-separated integers >= 0, e.g. 0,1,2,3") from None
        if v < 0:
            raise InputError.bad("--seeds", text, "comma-separated integers >= 0, e.g. 0,1,2,3")
        out.append(v)
    if len(set(out)) != len(out):
        raise InputError.bad("--seeds", text, "distinct seeds")
    return out


def scheduler_option(f: Callable) -> Callable:
    """Add ``--scheduler``, ``--store`` (and ``--force`` if missing); pass ``batch=BatchOptions``.

    Apply it *above* the command's other options (just below ``@click.command``), so that it
    sees whether the command already has a ``--force``.
    """
    has_force = any(getattr(p, "name", None) == "force" for p in getattr(f, "__click_params__", []))

    @functools.wraps(f)
    def wrapper(*args, scheduler=None, batch_store=None, batch_force=False, **kwargs):
        force = kwargs.get("force", False) if has_force else batch_force
        kwargs["batch"] = BatchOptions(scheduler, batch_store, force)
        return f(*args, **kwargs)

    opts = [
        click.option("--scheduler", default=None, metavar="WHERE", help=SCHEDULER_HELP),
        click.option(
            "--store", "batch_store", type=click.Path(file_okay=False), default=None, metavar="DIR", help=STORE_HELP
        ),
    ]
    if not has_force:
        opts.append(
            click.option(
                "--force", "batch_force", is_flag=True, help="Discard a --store directory that holds a different batch."
            )
        )
    for opt in reversed(opts):
        wrapper = opt(wrapper)
    return wrapper
