"""Shared pieces of every command: the JSON envelope, strict JSON, warnings, output paths.

Every command that prints JSON prints one envelope (documented in ``docs/json.md``)::

    {"ergsym_version": ..., "schema": "ergsym/1", "command": "mc",
     "parameters": {...}, "results": {...}, "warnings": [...]}

JSON is strict RFC 8259: a non-finite float never appears as ``NaN``/``Infinity``; it is
written as ``null`` and the reason goes to ``warnings``.  Warnings are also printed to stderr
(one line each, prefixed ``warning:``) so that a person running the command sees them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import InputError
from ..jsonout import SCHEMA, dumps, envelope, strict, version  # noqa: F401  (the envelope)

if TYPE_CHECKING:
    from ..inputs import Lattice
    from ..lattice.theory import LatticeTheory


class Warnings(list):
    """Collects the warnings of one command run; ``add`` also echoes to stderr once."""

    def add(self, message: str) -> None:
        message = str(message)
        if message not in self:
            self.append(message)
            click.echo(f"warning: {message}", err=True)


def n_option(what: str, dest: str = "n_text", metavar: str | None = None) -> Callable:
    """The ``--N`` option of every command that takes a theory (the O(N) model; docs/conventions.md):
    one wording, with ``what`` saying what the command does with N."""
    return click.option(
        "--N",
        dest,
        default="1",
        show_default=True,
        metavar=metavar,
        help="Number of field components of the O(N) model, S_int = (lam/4!) sum_x (phi_a phi_a)^2, "
        "a = 1..N (1: one real scalar); " + what,
    )


def echo_json(command: str, parameters: dict, results: object, warnings: Iterable[str] = ()) -> None:
    """Print the envelope; warnings found while making it strict are also echoed to stderr.

    A value object (a dict with ``value``, ``error`` and ``converged``) that claims
    ``converged: true`` without a finite value and a finite error (and is not exact) is marked
    ``converged: false`` with a warning: a value with no error is not converged.
    """
    w = warnings if isinstance(warnings, Warnings) else Warnings(warnings)
    results = _unconverge_values_without_error(results, "results", w)
    click.echo(json.dumps(envelope(command, parameters, results, w), indent=2, allow_nan=False))


def _finite_number(x) -> bool:
    import math  # noqa: PLC0415

    try:
        return x is not None and not isinstance(x, bool) and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _unconverge_values_without_error(obj, path, warnings):
    """A copy of ``obj`` where every value object claiming convergence without a finite value
    and error (and not exact) says ``converged: false``; each such place gets a warning."""
    if isinstance(obj, dict):
        out = {k: _unconverge_values_without_error(v, f"{path}.{k}", warnings) for k, v in obj.items()}
        if (
            out.get("converged") is True
            and "value" in out
            and "error" in out
            and not out.get("exact")
            and not (_finite_number(out["value"]) and _finite_number(out["error"]))
        ):
            out["converged"] = False
            warnings.add(
                f"{path}: value {out['value']!r} with error {out['error']!r} is not a converged "
                "number (marked converged: false)"
            )
        return out
    if isinstance(obj, (list, tuple)):
        return [_unconverge_values_without_error(v, f"{path}[{i}]", warnings) for i, v in enumerate(obj)]
    return obj


def output_file(
    path: str | os.PathLike | None, option: str, extensions: tuple[str, ...], force: bool = True
) -> Path | None:
    """Validate an output file *before* any computation: directory exists and is writable,
    extension known, and (unless ``force``) the file does not exist yet.

    Returns the :class:`pathlib.Path`, or None when ``path`` is None.
    """
    if path is None or str(path) == "":  # '' was the old spelling of "no file"
        return None
    p = Path(path)
    ext = p.suffix.lower()
    if extensions and ext not in extensions:
        raise InputError.bad(
            option, str(path), f"a file name ending in one of {', '.join(extensions)}", "choose a supported extension"
        )
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise InputError.bad(
            option, str(path), "a file in an existing directory", f"create the directory {str(parent)!r} first"
        )
    if not os.access(parent, os.W_OK):
        raise InputError.bad(
            option, str(path), "a file in a writable directory", f"the directory {str(parent)!r} is not writable"
        )
    _check_name_length(p, parent, option, str(path))
    if p.is_dir():
        raise InputError.bad(option, str(path), "a file name, not a directory", "give a file name")
    if p.exists() and not force:
        raise InputError.bad(
            option, str(path), "a file that does not exist yet", "pass --force to overwrite it, or choose another name"
        )
    if p.exists():
        if not os.access(p, os.W_OK):
            raise InputError.bad(option, str(path), "a writable file", "the file is read-only")
    else:
        _probe_directory(p, parent, option, str(path))
    return p


def _check_name_length(p: Path, parent: Path, option: str, given: str) -> None:
    """Refuse a file name longer than the directory allows (before any ``stat`` of it)."""
    try:
        name_max = os.pathconf(parent, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        name_max = 255
    if len(os.fsencode(p.name)) > name_max:
        raise InputError.bad(option, given, f"a file name of at most {name_max} bytes", "choose a shorter name")


def _probe_directory(p: Path, parent: Path, option: str, given: str) -> None:
    """Check that a file named like ``p`` can be created in ``parent`` without creating ``p``.

    A sibling temporary file is created and removed (catches /proc, read-only mounts, full
    quota of inodes); the name was checked against the directory's NAME_MAX before.  The path
    ``p`` itself is never created: a process watching for it (a test, a user's script waiting
    for the first checkpoint) must only ever see the real file.
    """
    import tempfile  # noqa: PLC0415

    try:
        fd, tmp = tempfile.mkstemp(prefix=".ergsym-probe-", dir=parent)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise InputError.bad(option, given, "a file that can be created", f"{exc.strerror or exc}") from None


PLOT_EXTENSIONS = (".png", ".pdf", ".svg")


def parse_couplings(
    text: str, names: Sequence[str] = ("lam",), option: str = "--lam", many: bool = False
) -> list[dict]:
    """Parse a coupling option.

    ``"0.1"`` (one-coupling theories), ``"lam=0.1,g6=0.01"`` (one value per coupling), or, when
    ``many``, ``"0.02,0.05,0.1"`` (several points of a one-coupling theory).

    Returns a list of dicts ``{coupling name: float}`` (one dict per point; one point unless
    ``many``).  Every value must be finite.  The typed form is
    :meth:`ergsym.inputs.Couplings.parse` (same grammar, one implementation).
    """
    from ..inputs import _parse_points  # noqa: PLC0415

    return _parse_points(text, tuple(names), option, many)


def given(name: str) -> bool:
    """Whether the option whose parameter is ``name`` was given on the command line (or in the
    environment), not left at its default.  False outside a click command."""
    from click.core import ParameterSource  # noqa: PLC0415

    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return False
    return ctx.get_parameter_source(name) in (
        ParameterSource.COMMANDLINE,
        ParameterSource.ENVIRONMENT,
        ParameterSource.PROMPT,
    )


def refuse_together(first: str, first_value: object, second: str, second_value: object, why: str, todo: str) -> None:
    """Raise the one message for two options that cannot be used together (exit 2); a value
    ``True`` stands for a flag (printed as the bare option)."""

    def show(option, value):
        return option if value is True else f"{option}={value!r}"

    raise InputError(
        f"{show(first, first_value)} and {show(second, second_value)} cannot be used together: {why}; {todo}"
    )


#: the most integration steps per trajectory a run may need before the coupling is refused: the
#: cap of the first guess (ergsym.lattice.hmc.default_n_steps), where it stops following lam
MAX_HMC_STEPS = 10_000


def mc_preflight(
    shape: Lattice,
    make_theory: Callable[[], LatticeTheory],
    lams: Sequence[float],
    n_traj: int,
    n_chains: int = 1,
    *,
    n_steps: int | None = None,
    force: bool = False,
    record_gp: bool = False,
    option: str = "--lam",
    can_force: bool = True,
) -> dict:
    """The cost pre-flight of every Monte Carlo command, knowing what the coupling does to the
    step count.

    The HMC integrates ``n_steps`` steps per trajectory; unless ``--n-steps`` fixes it, the run
    starts from :func:`ergsym.lattice.hmc.default_n_steps`, which grows like ``lam^(1/4)`` at
    strong coupling (the quartic frequency) and is capped at :data:`MAX_HMC_STEPS`.  A coupling
    that needs the cap, or whose steps make the run exceed the time limit of
    :func:`ergsym.lattice.run.check_resources`, is refused (unless ``force``) with an
    :class:`~ergsym.errors.InputError` naming ``option`` and the allowed range *for this lattice
    and budget*; then the memory and time of the whole run are checked as before.

    ``shape``: the :class:`~ergsym.inputs.Lattice`; ``make_theory()``: builds the free
    :class:`~ergsym.lattice.theory.LatticeTheory` (any ``lam``), called only after the lattice
    passed the weak-coupling check (a huge lattice is refused before its arrays are made);
    ``lams``: the couplings to be run (each costs ``n_traj`` trajectories).  Returns the estimate
    of :func:`~ergsym.lattice.run.estimate_resources` at the largest coupling.
    """
    import math  # noqa: PLC0415

    from ..lattice.hmc import default_n_steps  # noqa: PLC0415
    from ..lattice.run import MAX_SECONDS, check_resources, estimate_resources  # noqa: PLC0415

    def count(v):
        return not isinstance(v, bool) and isinstance(v, int) and v >= 1

    if not (count(n_traj) and count(n_chains)):  # bad counts: the run's own validation names them,
        check_resources(shape, 1, 1, force=force)  # but a huge lattice is refused before it is built
        return None
    lams = [float(x) for x in lams]
    n_total = int(n_traj) * max(len(lams), 1)
    fixed = int(n_steps) if isinstance(n_steps, int) and n_steps > 0 else None
    check_resources(shape, n_total, n_chains, force=force, record_gp=record_gp, n_steps=fixed or 4)
    theory = make_theory()

    def steps(lam):
        return fixed if fixed is not None else default_n_steps(theory.with_lam(lam))

    def ok(lam):
        s = default_n_steps(theory.with_lam(lam))  # what the coupling asks for, whatever --n-steps says
        secs = estimate_resources(theory.lattice, n_total, n_chains, n_steps=steps(lam))["seconds"]
        return s < MAX_HMC_STEPS and secs <= MAX_SECONDS

    lam = max(lams) if lams else 0.0
    lo = -12.0
    # a run too large even at weak coupling is the lattice's fault: check_resources names it
    if not force and lam > 0 and not ok(lam) and ok(10.0**lo):
        hi = math.log10(lam)  # the steps grow with lam: bisect the largest allowed coupling
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if ok(10.0**mid) else (lo, mid)
        lam_max = 10.0**lo
        need = default_n_steps(theory.with_lam(lam))
        est = estimate_resources(theory.lattice, n_total, n_chains, n_steps=steps(lam))
        why = (
            f"the HMC needs {'at least ' if need >= MAX_HMC_STEPS else ''}{need} integration steps per "
            f"trajectory at lam={lam:g} (it grows like lam^(1/4)); the limits are {MAX_HMC_STEPS} steps "
            f"and {MAX_SECONDS / 3600:.0f} h (this run: about {est['seconds'] / 3600:.2g} h)"
        )
        raise InputError.bad(
            option,
            lam,
            f"in [0, {lam_max:.3g}] on the lattice {theory.lattice.spec} with "
            f"{n_total} trajectories x {n_chains} chain(s) ({why})",
            "use a smaller coupling (or fewer trajectories/chains)"
            + (", or pass --force to run anyway" if can_force else ""),
        )
    return check_resources(theory.lattice, n_total, n_chains, force=force, record_gp=record_gp, n_steps=steps(lam))
