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
from pathlib import Path

import click

from ..errors import InputError
from ..jsonout import SCHEMA, dumps, envelope, strict, version  # noqa: F401  (the envelope)


class Warnings(list):
    """Collects the warnings of one command run; ``add`` also echoes to stderr once."""

    def add(self, message: str) -> None:
        message = str(message)
        if message not in self:
            self.append(message)
            click.echo(f"warning: {message}", err=True)


def echo_json(command: str, parameters: dict, results, warnings=()) -> None:
    """Print the envelope; warnings found while making it strict are also echoed to stderr."""
    w = warnings if isinstance(warnings, Warnings) else Warnings(warnings)
    click.echo(json.dumps(envelope(command, parameters, results, w), indent=2, allow_nan=False))


def output_file(path, option: str, extensions: tuple[str, ...], force: bool = True):
    """Validate an output file *before* any computation: directory exists and is writable,
    extension known, and (unless ``force``) the file does not exist yet.

    Returns the :class:`pathlib.Path`, or None when ``path`` is None.
    """
    if path is None or str(path) == "":  # '' was the old spelling of "no file"
        return None
    p = Path(path)
    ext = p.suffix.lower()
    if extensions and ext not in extensions:
        raise InputError.bad(option, str(path), f"a file name ending in one of {', '.join(extensions)}",
                             "choose a supported extension")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise InputError.bad(option, str(path), "a file in an existing directory",
                             f"create the directory {str(parent)!r} first")
    if not os.access(parent, os.W_OK):
        raise InputError.bad(option, str(path), "a file in a writable directory",
                             f"the directory {str(parent)!r} is not writable")
    _check_name_length(p, parent, option, str(path))
    if p.is_dir():
        raise InputError.bad(option, str(path), "a file name, not a directory", "give a file name")
    if p.exists() and not force:
        raise InputError.bad(option, str(path), "a file that does not exist yet",
                             "pass --force to overwrite it, or choose another name")
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
        raise InputError.bad(option, given, f"a file name of at most {name_max} bytes",
                             "choose a shorter name")


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
        raise InputError.bad(option, given, "a file that can be created",
                             f"{exc.strerror or exc}") from None


PLOT_EXTENSIONS = (".png", ".pdf", ".svg")


def parse_couplings(text, names=("lam",), option: str = "--lam", many: bool = False):
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
    return ctx.get_parameter_source(name) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT,
                                              ParameterSource.PROMPT)


def refuse_together(first: str, first_value, second: str, second_value, why: str, todo: str) -> None:
    """Raise the one message for two options that cannot be used together (exit 2); a value
    ``True`` stands for a flag (printed as the bare option)."""
    def show(option, value):
        return option if value is True else f"{option}={value!r}"

    raise InputError(f"{show(first, first_value)} and {show(second, second_value)} cannot be used "
                     f"together: {why}; {todo}")
