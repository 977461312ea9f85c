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
from collections.abc import Iterable, Sequence
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


def echo_json(command: str, parameters: dict, results: object, warnings: Iterable[str] = ()) -> None:
    """Print the envelope; warnings found while making it strict are also echoed to stderr."""
    w = warnings if isinstance(warnings, Warnings) else Warnings(warnings)
    click.echo(json.dumps(envelope(command, parameters, results, w), indent=2, allow_nan=False))


def output_file(path: str | os.PathLike | None, option: str, extensions: tuple[str, ...],
                force: bool = True) -> Path | None:
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
    if p.is_dir():
        raise InputError.bad(option, str(path), "a file name, not a directory", "give a file name")
    if p.exists() and not force:
        raise InputError.bad(option, str(path), "a file that does not exist yet",
                             "pass --force to overwrite it, or choose another name")
    if p.exists():
        if not os.access(p, os.W_OK):
            raise InputError.bad(option, str(path), "a writable file", "the file is read-only")
    else:  # probe: create and remove it (catches /proc, read-only mounts, odd names)
        try:
            with open(p, "xb"):
                pass
            p.unlink()
        except OSError as exc:
            raise InputError.bad(option, str(path), "a file that can be created",
                                 f"{exc.strerror or exc}") from None
    return p


PLOT_EXTENSIONS = (".png", ".pdf", ".svg")


def parse_couplings(text: str, names: Sequence[str] = ("lam",), option: str = "--lam",
                    many: bool = False) -> list[dict]:
    """Parse a coupling option.

    ``"0.1"`` (one-coupling theories), ``"lam=0.1,g6=0.01"`` (one value per coupling), or, when
    ``many``, ``"0.02,0.05,0.1"`` (several points of a one-coupling theory).

    Returns a list of dicts ``{coupling name: float}`` (one dict per point; one point unless
    ``many``).  Every value must be finite.  The typed form is
    :meth:`ergsym.inputs.Couplings.parse` (same grammar, one implementation).
    """
    from ..inputs import _parse_points  # noqa: PLC0415

    return _parse_points(text, tuple(names), option, many)
