"""Command line: the click group ``ergsym`` and one module per command.

Every command exits with status 2 and a one-line message naming the parameter when the
input is bad (an :class:`ergsym.errors.InputError`), and prints JSON to stdout with
``--json``.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import NoReturn

import click

from ..errors import (
    BackendUnavailableError,
    CheckpointError,
    ConvergenceError,
    DivergentIntegralError,
    ErgsymError,
    FamilyNotSupportedError,
    InputError,
)

# command name -> "module:attribute"; modules are imported only when the command runs
_COMMANDS = {
    "monotone": "monotone:monotone",
    "integrals": "integrals:integrals",
    "cutoff": "integrals:cutoff_cmd",
    "mc": "mc:mc",
    "crosscheck": "mc:crosscheck",
    "flow": "flow:flow",
    "report": "report:report",
    "variational": "variational:variational",
    "lpa": "lpa:lpa",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(n for n in _COMMANDS if self._load(n) is not None)

    def get_command(self, ctx, name):
        return self._load(name)

    @staticmethod
    def _load(name):
        target = _COMMANDS.get(name)
        if target is None:
            return None
        mod, attr = target.split(":")
        try:
            module = importlib.import_module(f"{__name__}.{mod}")
        except ModuleNotFoundError as exc:  # command not built yet
            if exc.name and exc.name.startswith(__name__):
                return None
            raise
        return getattr(module, attr, None)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ergsym")
def cli() -> None:
    """ergsym: perturbative exact-RG calculations for phi^4 theory.

    Derive coefficients (monotone), evaluate loop integrals (integrals), run Monte Carlo
    (mc, crosscheck), follow the Polchinski flow (flow) and build the report (report).
    'python -m ergsym' is the same program.  Each command's --json prints one envelope
    (docs/json.md).  Exit status: 0 ok, 2 bad input, 1 other errors, 130 interrupted.

    \b
    Shell completion (bash; zsh and fish alike with zsh_source / fish_source):
      eval "$(_ERGSYM_COMPLETE=bash_source ergsym)"
    """


#: ErgsymError subclasses that mean "the request cannot be served as given": exit status 2 with
#: the message (the parameter, its allowed range, the value and what to do).
USER_ERRORS = (
    InputError,
    DivergentIntegralError,
    CheckpointError,
    BackendUnavailableError,
    FamilyNotSupportedError,
    ConvergenceError,
)


#: the arguments of the running command (after ``ergsym``), for messages that repeat it
INVOCATION: list = []


def main(argv: list[str] | None = None) -> None:
    """Console entry point: runs the group.

    Exit status

    * 0: success;
    * 2: bad input -- an :class:`~ergsym.errors.InputError`, a click usage error, an integral
      that diverges for the chosen cutoff (``DivergentIntegralError``), an unreadable or
      inconsistent checkpoint (``CheckpointError``), a missing optional backend
      (``BackendUnavailableError``), a family with no evaluator (``FamilyNotSupportedError``)
      or an accuracy that cannot be reached for these parameters (``ConvergenceError``);
    * 1: any other error.  An unexpected exception (a bug) prints one line
      ``internal error (please report): <type>: <message>`` instead of a traceback; set the
      environment variable ``ERGSYM_TRACEBACK=1`` to see the traceback;
    * 130: interrupted (Ctrl-C).
    """
    INVOCATION[:] = list(sys.argv[1:] if argv is None else argv)
    try:
        cli.main(args=argv, prog_name="ergsym", standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except USER_ERRORS as exc:
        prefix = "" if isinstance(exc, InputError) else f"{type(exc).__name__}: "
        click.echo(f"Error: {prefix}{exc}", err=True)
        sys.exit(2)
    except ErgsymError as exc:
        click.echo(f"Error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
    except BrokenPipeError:  # e.g. `ergsym ... | head`: the reader went away
        sys.exit(0)
    except Exception as exc:  # noqa: BLE001 - a bug: one line, not a traceback (unless asked)
        if os.environ.get("ERGSYM_TRACEBACK"):
            raise
        msg = " ".join(str(exc).split())
        click.echo(f"internal error (please report): {type(exc).__name__}: {msg}", err=True)
        sys.exit(1)
    sys.exit(0)


def fail(message: str) -> NoReturn:
    """Raise a click usage error (exit status 2) with ``message``."""
    raise click.UsageError(message)
