"""Command line: the click group ``ergsym`` and one module per command.

Every command exits with status 2 and a one-line message naming the parameter when the
input is bad (an :class:`ergsym.errors.InputError`), and prints JSON to stdout with
``--json``.
"""
from __future__ import annotations

import importlib
import sys

import click

from ..errors import DivergentIntegralError, ErgsymError, InputError

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
def cli():
    """ergsym: perturbative exact-RG calculations for phi^4 theory.

    Derive coefficients (monotone), evaluate loop integrals (integrals), run Monte Carlo
    (mc, crosscheck), follow the Polchinski flow (flow) and build the report (report).
    """


def main(argv=None):
    """Console entry point: runs the group.

    Exit status 2 for bad input (``InputError``, click usage errors) and for integrals that
    diverge for the chosen cutoff (``DivergentIntegralError``, SPEC section 7); 1 for other
    ergsym errors (e.g. a missing optional backend); 130 when interrupted.
    """
    try:
        cli.main(args=argv, prog_name="ergsym", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except InputError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    except DivergentIntegralError as exc:  # SPEC section 7: a divergent integral is bad input
        click.echo(f"Error: DivergentIntegralError: {exc}", err=True)
        sys.exit(2)
    except ErgsymError as exc:
        click.echo(f"Error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
    sys.exit(0)


def fail(message: str):
    """Raise a click usage error (exit status 2) with ``message``."""
    raise click.UsageError(message)
