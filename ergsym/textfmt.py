"""One text format for a number with an uncertainty: the value rounded to what its uncertainty
leaves meaningful.

Every command prints values as text through :func:`format_value` (JSON keeps full precision).
The uncertainty that sets the rounding is the larger of the stated error and, for a summed
series, its truncation estimate: ``lam(Lambda) 0.0999886033258 ± 1.6e-19`` with a truncation
of 1.1e-05 prints as ``0.099989 ± 1.6e-19``, the digits the truncation leaves meaningful.
Two significant digits of the uncertainty are kept; an exact value, or one with no usable
uncertainty, keeps 12 significant digits.  This module imports only :mod:`math`.
"""

from __future__ import annotations

import math

__all__ = ["format_value", "round_to_uncertainty"]

#: significant digits of a value without a usable uncertainty
FULL_DIGITS = 12


def _finite_positive(x) -> bool:
    try:
        return x is not None and not isinstance(x, bool) and math.isfinite(float(x)) and float(x) > 0
    except (TypeError, ValueError):
        return False


def round_to_uncertainty(value: float, uncertainty: float | None = None, digits: int = FULL_DIGITS) -> str:
    """``value`` as text with the significant digits that ``uncertainty`` leaves (its first two
    digits kept), at most ``digits``; all ``digits`` when the uncertainty is 0, None or not finite.
    """
    v = float(value)
    if not math.isfinite(v):
        return repr(v)
    if v == 0.0:
        return "0"
    n = digits
    if _finite_positive(uncertainty):
        n = math.floor(math.log10(abs(v))) - math.floor(math.log10(float(uncertainty))) + 2
        n = min(max(n, 1), digits)
    return f"{v:.{n}g}"


def format_value(
    value: float | None,
    error: float | None = None,
    *,
    truncation: float | None = None,
    exact: bool = False,
    digits: int = FULL_DIGITS,
) -> str:
    """``"value ± error"`` with the value rounded to the larger of ``error`` and ``truncation``.

    ``value`` None prints ``null``; ``error`` None prints the value alone; ``exact`` keeps all
    ``digits`` and prints ``(exact)`` instead of an error.
    """
    if value is None:
        return "null"
    if exact:
        return f"{round_to_uncertainty(value, None, digits)} (exact)"
    scale = [float(x) for x in (error, truncation) if _finite_positive(x)]
    text = round_to_uncertainty(value, max(scale) if scale else None, digits)
    if error is None:
        return text
    try:
        return f"{text} ± {float(error):.2g}"
    except (TypeError, ValueError):
        return f"{text} ± {error}"
