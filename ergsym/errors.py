"""Exception hierarchy of ergsym (imports nothing from ergsym).

Every failure ergsym reports is an :class:`ErgsymError`.  Errors caused by the
caller's input also subclass :class:`ValueError`, so ``except ValueError``
keeps working for code that does not know about ergsym.  Messages name the
parameter, the allowed range and the value that was given (docs/conventions.md, "Errors and numbers").
"""

from __future__ import annotations

__all__ = [
    "ErgsymError",
    "InputError",
    "OrderNotSupportedError",
    "DivergentIntegralError",
    "ConvergenceError",
    "BackendUnavailableError",
    "FamilyNotSupportedError",
    "CheckpointError",
    "plain",
]


def plain(value: object) -> str:
    """``value`` as a user would type it, for messages: ``-1.0``, not ``np.float64(-1.0)``.

    numpy scalars lose their type, small numpy arrays print as lists (larger ones by shape),
    fractions as ``p/q``, strings keep their quotes; everything else is ``repr``.  Every
    message that shows a value goes through this one helper.

    Examples
    --------
    >>> import numpy as np
    >>> plain(np.float64(-1.0)), plain(np.array([1, 2])), plain("x")
    ('-1.0', '[1, 2]', "'x'")
    """
    if type(value).__module__ == "numpy":
        if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
            return plain(value.item())
        if hasattr(value, "tolist") and hasattr(value, "shape"):
            if value.size <= 8:
                return plain(value.tolist())
            return f"<array of shape {'x'.join(map(str, value.shape))}>"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(plain(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{plain(k)}: {plain(v)}" for k, v in value.items()) + "}"
    if type(value).__name__ == "Fraction":
        return str(value)
    return repr(value)


class ErgsymError(Exception):
    """Base class of every error raised by ergsym."""


class InputError(ErgsymError, ValueError):
    """A parameter is outside its allowed range or malformed."""

    @classmethod
    def bad(cls, name: str, value: object, allowed: str, hint: str = "") -> InputError:
        """Build the standard message: parameter, allowed range, value, what to do."""
        msg = f"{name}={plain(value)} is not allowed: {name} must be {allowed}"
        if hint:
            msg += f"; {hint}"
        return cls(msg)


class OrderNotSupportedError(InputError):
    """A perturbative order beyond what is implemented was requested."""


class DivergentIntegralError(ErgsymError, ValueError):
    """An integral diverges for the given cutoff (e.g. condition (B3)4 fails)."""


class ConvergenceError(ErgsymError):
    """A numerical method did not reach the requested accuracy.

    Attributes
    ----------
    estimate : float or None
        The best estimate reached, for diagnostics only.
    error : float or None
        Its error estimate.
    """

    def __init__(self, message: str, estimate: object = None, error: object = None) -> None:
        super().__init__(message)
        self.estimate = estimate
        self.error = error


class BackendUnavailableError(ErgsymError):
    """An optional array backend (e.g. cupy) or device is not available."""


class FamilyNotSupportedError(ErgsymError):
    """An integral family has no evaluator in the requested layer."""


class CheckpointError(InputError):
    """A Monte Carlo checkpoint is missing, corrupt or incompatible (bad input: exit status 2)."""
