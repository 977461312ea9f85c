"""The one JSON envelope of ergsym's output, in strict RFC 8259 JSON (docs/json.md).

``{"ergsym_version", "schema": "ergsym/1", "command", "parameters", "results", "warnings"}``.
A non-finite float never appears as ``NaN``/``Infinity``: it is written as ``null`` and the
reason goes to ``warnings``.  Used by every command (:mod:`ergsym.cli.common`) and by the
report's ``report.json``; it imports nothing from ergsym.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

SCHEMA = "ergsym/1"


def version() -> str:
    from importlib.metadata import PackageNotFoundError  # noqa: PLC0415
    from importlib.metadata import version as _v

    try:
        return _v("ergsym")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def _finite(obj, path, reasons):
    """Replace non-finite floats by None (recording where), convert numpy scalars/arrays."""
    if isinstance(obj, dict):
        return {str(k): _finite(v, f"{path}.{k}" if path else str(k), reasons) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v, f"{path}[{i}]", reasons) for i, v in enumerate(obj)]
    if hasattr(obj, "tolist") and not isinstance(obj, (str, bytes)):  # numpy arrays and scalars
        return _finite(obj.tolist(), path, reasons)
    if isinstance(obj, float):
        if not math.isfinite(obj):
            reasons.append(f"{path} is {obj!r}; written as null")
            return None
        return obj
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if hasattr(obj, "to_dict"):
        return _finite(obj.to_dict(), path, reasons)
    from fractions import Fraction  # noqa: PLC0415

    if isinstance(obj, Fraction):
        return str(obj)
    return str(obj)


def strict(obj: object, warnings: list | None = None) -> object:
    """``obj`` made strict-JSON-safe; non-finite floats become None with a warning."""
    reasons: list[str] = []
    out = _finite(obj, "", reasons)
    if warnings is not None:
        for r in reasons:
            (warnings.add if hasattr(warnings, "add") else warnings.append)(r)
    return out


def dumps(obj: object, indent: int = 2) -> str:
    """Strict JSON text (raises ValueError if a non-finite float slipped through)."""
    return json.dumps(strict(obj), indent=indent, allow_nan=False)


def envelope(command: str, parameters: dict, results: object, warnings: Iterable[str] = ()) -> dict:
    """The one JSON envelope every command prints with ``--json``."""
    w = warnings if hasattr(warnings, "add") else list(warnings)
    res = strict(results, w)
    par = strict(parameters, w)
    return {
        "ergsym_version": version(),
        "schema": SCHEMA,
        "command": command,
        "parameters": par,
        "results": res,
        "warnings": list(w),
    }
