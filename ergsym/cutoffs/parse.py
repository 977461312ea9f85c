"""Parse cutoff specs such as ``"bump:eps=0.5,lambda_max=2"`` (docs/numeric.md)."""

from __future__ import annotations

from ..errors import InputError
from .base import Cutoff
from .bump import BumpCutoff
from .smooth import ExponentialCutoff, FermiCutoff

__all__ = ["parse_cutoff", "CUTOFF_KINDS"]

#: kind -> (class, required params, optional params, example)
CUTOFF_KINDS = {
    "bump": (BumpCutoff, ("eps", "lambda_max"), ("tail_scale",), "bump:eps=0.1,lambda_max=2"),
    "exp": (ExponentialCutoff, (), ("n",), "exp:n=2"),
    "fermi": (FermiCutoff, (), ("a",), "fermi:a=10"),
}


def parse_cutoff(spec: str | Cutoff) -> Cutoff:
    """Build a :class:`Cutoff` from a spec string (or return a Cutoff unchanged).

    Grammar: ``kind[:name=value,name=value,...]`` with kind ``bump`` (``eps``,
    ``lambda_max``, optional ``tail_scale``), ``exp`` (``n``, default 1) or ``fermi``
    (``a``, default 10).

    Raises
    ------
    InputError
        Unknown kind, unknown/missing/duplicate parameter, non-numeric or out-of-range value;
        the message names the parameter, its allowed range and the value given.

    Examples
    --------
    >>> parse_cutoff("bump:eps=0.5,lambda_max=2").spec
    'bump:eps=0.5,lambda_max=2.0'
    """
    if isinstance(spec, Cutoff):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise InputError.bad(
            "cutoff", spec, "a spec string such as 'bump:eps=0.1,lambda_max=2', 'exp:n=2' or 'fermi:a=10'"
        )
    kind, _, rest = spec.strip().partition(":")
    kind = kind.strip().lower()
    if kind not in CUTOFF_KINDS:
        raise InputError.bad(
            "cutoff",
            spec,
            "of kind " + ", ".join(CUTOFF_KINDS),
            "e.g. " + ", ".join(v[3] for v in CUTOFF_KINDS.values()),
        )
    cls, required, optional, example = CUTOFF_KINDS[kind]
    params = {}
    if rest.strip():
        for item in rest.split(","):
            key, eq, val = item.partition("=")
            key = key.strip()
            if not eq or not key or not val.strip():
                raise InputError.bad("cutoff", spec, f"comma-separated name=value pairs, e.g. {example!r}")
            if key not in required + optional:
                raise InputError.bad(
                    f"{kind} parameter", key, "one of " + ", ".join(required + optional), f"in cutoff spec {spec!r}"
                )
            if key in params:
                raise InputError.bad(f"{kind} parameter", key, "given once", f"in cutoff spec {spec!r}")
            try:
                params[key] = float(val)
            except ValueError:
                raise InputError.bad(key, val.strip(), "a number", f"in cutoff spec {spec!r}") from None
    missing = [k for k in required if k not in params]
    if missing:
        raise InputError.bad(missing[0], None, "given", f"cutoff spec {spec!r} needs it, e.g. {example!r}")
    return cls(**params)
