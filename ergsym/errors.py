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
]


class ErgsymError(Exception):
    """Base class of every error raised by ergsym."""


class InputError(ErgsymError, ValueError):
    """A parameter is outside its allowed range or malformed."""

    @classmethod
    def bad(cls, name: str, value, allowed: str, hint: str = "") -> "InputError":
        """Build the standard message: parameter, allowed range, value, what to do."""
        msg = f"{name}={value!r} is not allowed: {name} must be {allowed}"
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

    def __init__(self, message: str, estimate=None, error=None):
        super().__init__(message)
        self.estimate = estimate
        self.error = error


class BackendUnavailableError(ErgsymError):
    """An optional array backend (e.g. cupy) or device is not available."""


class FamilyNotSupportedError(ErgsymError):
    """An integral family has no evaluator in the requested layer."""


class CheckpointError(InputError):
    """A Monte Carlo checkpoint is missing, corrupt or incompatible (bad input: exit status 2)."""
