"""Result objects and input validation of the numeric layer."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..conventions import validate_dim, validate_mass
from ..errors import InputError

if TYPE_CHECKING:
    from ..cutoffs.base import Cutoff

__all__ = [
    "Value",
    "UFUNCS",
    "validate_rtol",
    "validate_common",
    "DEFAULT_RTOL_1LOOP",
    "DEFAULT_RTOL_2LOOP",
    "guard",
    "MASS_RANGE",
    "MAX_SCALE_RATIO",
]

#: a nonzero mass must lie in this range (its square and the integrands stay finite)
MASS_RANGE = (1e-100, 1e100)
#: largest ratio max(m/Lambda, Lambda/m) accepted (beyond, doubles cannot resolve both scales)
MAX_SCALE_RATIO = 1e12

DEFAULT_RTOL_1LOOP = 1e-10
DEFAULT_RTOL_2LOOP = 1e-8


@dataclass(frozen=True)
class Value:
    """A number (or array) with an error estimate and a converged flag.

    ``Value(1.0, 0.1)`` is a number you know to within 0.1 (``converged`` defaults to True:
    the error you give is taken as honest).  ``v.value`` is ``v.estimate`` under the name the
    JSON output uses.  Arithmetic (``+ - * / **``) and the elementary numpy functions
    (``np.exp``, ``np.log``, ``np.sqrt``, ``np.sin``, ...; :data:`UFUNCS`) propagate the
    error to first order; other numpy functions raise a TypeError that says what to do.

    Attributes
    ----------
    estimate : float or ndarray
    error : float or ndarray
        Estimated absolute error (>= 0).  Tests check it bounds the true error.
    converged : bool or ndarray, default True
        True where ``error <= max(atol, rtol |estimate|)`` was reached.
    name : str
        What was evaluated (family name), if known.
    method : str
        ``"radial"`` (1-loop), ``"position"``, ``"momentum"``, ``"product"`` or ``"sum"``.
    info : dict
        Diagnostics (number of integrand evaluations, truncation radius, ...).
    """

    estimate: object
    error: object
    converged: object = True
    name: str = ""
    method: str = ""
    info: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def value(self) -> float | np.ndarray:
        """The estimate (the ``"value"`` of the JSON value object); same as :attr:`estimate`."""
        return self.estimate

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """numpy functions on Values: arithmetic and :data:`UFUNCS`, with first-order errors."""
        if method == "__call__" and not kwargs:
            if ufunc in _BINARY and len(inputs) == 2:
                a, b = inputs
                if isinstance(a, Value):
                    return a._binary(b, _BINARY[ufunc])
                return b._binary(a, _BINARY[ufunc], reflected=True)
            if ufunc is np.power and len(inputs) == 2 and inputs[0] is self:
                return self ** inputs[1]
            if ufunc in UFUNCS and len(inputs) == 1:
                return self._unary(ufunc)
        names = ", ".join(f"np.{u.__name__}" for u in UFUNCS)
        raise TypeError(
            f"np.{ufunc.__name__}{'' if method == '__call__' else '.' + method} is not "
            f"supported on an ergsym Value (supported: + - * / **, {names}); apply it to "
            "v.estimate and propagate v.error yourself, or call float(v) for the number alone"
        )

    def _unary(self, ufunc):
        x = np.asarray(self.estimate, float)
        f, deriv, domain = UFUNCS[ufunc]
        if not np.all(domain(x)):
            raise InputError.bad(f"argument of np.{ufunc.__name__}", self.estimate, _DOMAIN_TEXT[ufunc])
        with np.errstate(all="ignore"):  # checked in _make
            est, err = f(x), np.abs(deriv(x)) * np.asarray(self.error, float)
        return Value._make(est, err, self.converged, f"{ufunc.__name__}({self.name})" if self.name else "")

    def __repr__(self) -> str:
        if np.ndim(self.estimate) == 0:
            from ..textfmt import format_value  # the estimate rounded to its error

            s = format_value(float(self.estimate), float(self.error))
            if not bool(self.converged):
                s += " (not converged)"
            return s
        return f"Value(estimate={np.asarray(self.estimate)!r}, error={np.asarray(self.error)!r})"

    __str__ = __repr__

    def __float__(self) -> float:
        return float(self.estimate)

    @property
    def rel_error(self) -> float | np.ndarray:
        est = np.abs(np.asarray(self.estimate, float))
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(est > 0, np.asarray(self.error, float) / np.where(est > 0, est, 1.0), np.inf)
        return float(r) if np.ndim(r) == 0 else r

    def _repr_latex_(self) -> str:
        """Notebook display: ``$x \\pm e$`` (``\\text{not converged}`` when it is not)."""
        if np.ndim(self.estimate) != 0:
            return None
        s = rf"${float(self.estimate):.12g} \pm {float(self.error):.2g}"
        if not bool(self.converged):
            s += r"\ (\text{not converged})"
        return s + "$"

    # -- arithmetic ---------------------------------------------------------------------
    # Error propagation (first order).  The two operands are treated as *independent*
    # results: no common error source is cancelled (``x - x`` has error ``2 dx``, not 0), and
    # the first-order contributions are added linearly,
    #     d(f(a, b)) = |df/da| da + |df/db| db ,
    # which bounds the error to first order whatever the correlation (ergsym's quadrature
    # errors are bounds, not standard deviations, and are combined linearly throughout; for
    # independent Gaussian errors the quadrature sum would be up to sqrt(2) smaller).  The
    # converged flag of the result is the AND of the operands' flags; a plain number is exact.
    @staticmethod
    def _parts(x):
        if isinstance(x, Value):
            return np.asarray(x.estimate, float), np.asarray(x.error, float), np.asarray(x.converged, bool), x.name
        try:
            a = np.asarray(x, dtype=float)
        except (TypeError, ValueError):
            return None
        if not np.all(np.isfinite(a)):
            raise InputError.bad("operand", x, "a finite number or a Value")
        return a, np.zeros_like(a), np.ones(a.shape, bool), repr(x) if a.ndim == 0 else "array"

    @staticmethod
    def _make(est, err, conv, name):
        est, err = np.asarray(est, float), np.abs(np.asarray(err, float))
        if not (np.all(np.isfinite(est)) and np.all(np.isfinite(err))):
            raise InputError.bad("result", est, "finite", "the operation overflowed; rescale the inputs")
        conv = np.asarray(conv, bool)
        if est.ndim == 0:
            est, err, conv = float(est), float(err), bool(conv)
        return Value(est, err, conv, name, "arithmetic")

    def _binary(self, other, op, reflected=False):
        o = Value._parts(other)
        if o is None:
            return NotImplemented
        a, da, ca, na = Value._parts(self)
        b, db, cb, nb = o
        if reflected:
            a, da, ca, na, b, db, cb, nb = b, db, cb, nb, a, da, ca, na
        if op == "/" and np.any(b == 0):
            raise InputError.bad("divisor", nb or b, "nonzero", "a Value or number equal to 0 cannot divide")
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):  # checked in _make
            if op == "+":
                est, err = a + b, da + db
            elif op == "-":
                est, err = a - b, da + db
            elif op == "*":
                est, err = a * b, np.abs(b) * da + np.abs(a) * db
            else:
                est = a / b
                err = da / np.abs(b) + np.abs(a) * db / (b * b)
        return Value._make(est, err, ca & cb, f"({na} {op} {nb})" if na and nb else "")

    def __add__(self, other):
        return self._binary(other, "+")

    def __radd__(self, other):
        return self._binary(other, "+", reflected=True)

    def __sub__(self, other):
        return self._binary(other, "-")

    def __rsub__(self, other):
        return self._binary(other, "-", reflected=True)

    def __mul__(self, other):
        return self._binary(other, "*")

    def __rmul__(self, other):
        return self._binary(other, "*", reflected=True)

    def __truediv__(self, other):
        return self._binary(other, "/")

    def __rtruediv__(self, other):
        return self._binary(other, "/", reflected=True)

    def __neg__(self):
        return Value._make(
            -np.asarray(self.estimate, float), self.error, self.converged, f"-{self.name}" if self.name else ""
        )

    def __pos__(self):
        return self

    def __abs__(self):
        return self._unary(np.absolute)

    def __pow__(self, exponent):
        """``self ** n`` for a plain real exponent: error ``|n| |x|^(n-1) dx``."""
        if isinstance(exponent, Value):
            return NotImplemented
        n = float(exponent)
        a = np.asarray(self.estimate, float)
        if not math.isfinite(n) or (np.any(a <= 0) and not float(n).is_integer()) or (np.any(a == 0) and n < 1):
            raise InputError.bad("exponent", exponent, "finite; an integer >= 1 where the value is <= 0")
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):  # checked in _make
            est, err = a**n, abs(n) * np.abs(a) ** (n - 1) * np.asarray(self.error, float)
        return Value._make(est, err, self.converged, f"{self.name}^{exponent:g}" if self.name else "")

    # -- JSON ----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-ready value object ``{"value", "error", "converged"[, "name", "method"]}``.

        Arrays become (flattened) lists with a ``"shape"``.  The inverse is :meth:`from_dict`;
        the format is the value object of docs/json.md.
        """

        def conv(x, f):
            a = np.asarray(x)
            return f(a) if a.ndim == 0 else [f(v) for v in a.ravel()]

        d = {
            "value": conv(self.estimate, float),
            "error": conv(self.error, float),
            "converged": conv(self.converged, bool),
        }
        if np.ndim(self.estimate) > 1:
            d["shape"] = list(np.shape(self.estimate))
        if self.name:
            d["name"] = self.name
        if self.method:
            d["method"] = self.method
        return d

    @classmethod
    def from_dict(cls, data: dict) -> Value:
        """Rebuild a :class:`Value` from :meth:`to_dict` output (or any value object of
        docs/json.md: ``exact: true`` without ``converged`` counts as converged)."""
        try:
            est, err = data["value"], data["error"]
        except (KeyError, TypeError):
            raise InputError.bad("data", data, "a value object with 'value' and 'error'") from None
        if est is None or err is None:
            raise InputError.bad(
                "data",
                data,
                "a value object with numeric 'value' and 'error'",
                "null marks a value that could not be computed",
            )
        conv = data.get("converged", bool(data.get("exact", False)))
        if isinstance(est, list):
            shape = tuple(data.get("shape", (len(est),)))
            est = np.asarray(est, float).reshape(shape)
            err = np.asarray(err, float).reshape(shape)
            conv = np.asarray(conv, bool).reshape(shape) if isinstance(conv, list) else bool(conv)
        else:
            est, err, conv = float(est), float(err), bool(conv)
        return cls(est, err, conv, data.get("name", ""), data.get("method", ""))


def _all(x):
    return np.ones(np.shape(x), bool)


#: numpy functions a :class:`Value` supports: ufunc -> (f, f', domain); error ``|f'(x)| dx``
UFUNCS = {
    np.exp: (np.exp, np.exp, _all),
    np.expm1: (np.expm1, np.exp, _all),
    np.log: (np.log, lambda x: 1.0 / x, lambda x: x > 0),
    np.log10: (np.log10, lambda x: 1.0 / (x * math.log(10.0)), lambda x: x > 0),
    np.log2: (np.log2, lambda x: 1.0 / (x * math.log(2.0)), lambda x: x > 0),
    np.log1p: (np.log1p, lambda x: 1.0 / (1.0 + x), lambda x: x > -1),
    np.sqrt: (np.sqrt, lambda x: 0.5 / np.sqrt(x), lambda x: x > 0),
    np.square: (np.square, lambda x: 2.0 * x, _all),
    np.reciprocal: (np.reciprocal, lambda x: -1.0 / (x * x), lambda x: x != 0),
    np.absolute: (np.absolute, lambda x: np.ones_like(x), _all),
    np.negative: (np.negative, lambda x: np.ones_like(x), _all),
    np.positive: (np.positive, lambda x: np.ones_like(x), _all),
    np.sin: (np.sin, np.cos, _all),
    np.cos: (np.cos, np.sin, _all),
    np.tan: (np.tan, lambda x: 1.0 / np.cos(x) ** 2, _all),
    np.arctan: (np.arctan, lambda x: 1.0 / (1.0 + x * x), _all),
    np.sinh: (np.sinh, np.cosh, _all),
    np.cosh: (np.cosh, np.sinh, _all),
    np.tanh: (np.tanh, lambda x: 1.0 / np.cosh(x) ** 2, _all),
}
_DOMAIN_TEXT = {
    np.log: "> 0",
    np.log10: "> 0",
    np.log2: "> 0",
    np.log1p: "> -1",
    np.sqrt: "> 0 (the derivative of sqrt is infinite at 0)",
    np.reciprocal: "nonzero",
}
_BINARY = {np.add: "+", np.subtract: "-", np.multiply: "*", np.true_divide: "/"}


def validate_rtol(rtol: float | None, default: float) -> float:
    """``rtol`` in ``[1e-13, 0.1]`` (None -> default)."""
    if rtol is None:
        return default
    try:
        r = float(rtol)
    except (TypeError, ValueError):
        raise InputError.bad("rtol", rtol, "a number in [1e-13, 0.1]") from None
    if not math.isfinite(r) or not 1e-13 <= r <= 0.1:
        raise InputError.bad(
            "rtol", rtol, "a number in [1e-13, 0.1]", "double precision cannot honour a tighter tolerance"
        )
    return r


def validate_common(cutoff: Cutoff | str, dim: int, mass: float | np.ndarray, Lambda: float | np.ndarray) -> tuple:
    """Validate and broadcast: returns ``(cutoff, dim, mass_arr, Lambda_arr, shape)``.

    ``mass`` is 0 (massless: only infrared-finite families are evaluated, the others raise
    :class:`~ergsym.errors.DivergentIntegralError`) or in :data:`MASS_RANGE`, with
    ``max(m/Lambda, Lambda/m) <= MAX_SCALE_RATIO``.
    """
    from ..cutoffs import parse_cutoff

    cutoff = parse_cutoff(cutoff)
    dim = validate_dim(dim)
    allowed = (
        f"0 or a number in [{MASS_RANGE[0]:g}, {MASS_RANGE[1]:g}] (and within a factor {MAX_SCALE_RATIO:g} of Lambda)"
    )
    if isinstance(mass, (str, bytes)) or mass is None:
        raise InputError.bad("mass", mass, allowed)
    try:
        m = np.asarray(mass, dtype=float)
    except (TypeError, ValueError):
        raise InputError.bad("mass", mass, allowed) from None
    if m.size == 0:
        raise InputError.bad("mass", mass, "a non-empty number or array")
    for v in np.atleast_1d(m).ravel():
        validate_mass(v, allow_zero=True)
        if v != 0 and not MASS_RANGE[0] <= v <= MASS_RANGE[1]:
            raise InputError.bad(
                "mass",
                float(v),
                allowed,
                "rescale: the integrals are homogeneous in (mass, Lambda), see docs/numeric.md",
            )
    lam = cutoff.validate_Lambda(Lambda)
    lam, m = np.broadcast_arrays(np.asarray(lam, float), m)
    with np.errstate(all="ignore"):
        ratio = np.where(m > 0, np.maximum(m / lam, lam / np.where(m > 0, m, 1.0)), 1.0)
    if np.any(ratio > MAX_SCALE_RATIO):
        i = int(np.argmax(ratio))
        raise InputError.bad(
            "mass",
            float(m.ravel()[i]),
            allowed,
            f"at Lambda={float(lam.ravel()[i]):g} the ratio of scales is {float(ratio.ravel()[i]):.3g}",
        )
    return cutoff, dim, m.astype(float), lam.astype(float), lam.shape


def guard(fn: Callable) -> Callable:
    """Public entry points: no bare FloatingPointError/OverflowError/ZeroDivisionError/
    MemoryError/TypeError escapes; they become :class:`~ergsym.errors.ConvergenceError`
    (numerical breakdown) or :class:`~ergsym.errors.InputError` (wrong argument types)."""
    import functools

    from ..errors import ConvergenceError, ErgsymError

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ErgsymError:
            raise
        except TypeError as exc:
            raise InputError(
                f"{fn.__name__}: an argument has the wrong type ({exc}); see its docstring for the accepted types"
            ) from exc
        except (FloatingPointError, OverflowError, ZeroDivisionError, MemoryError) as exc:
            raise ConvergenceError(
                f"{fn.__name__}: the numerical evaluation broke down ({type(exc).__name__}: {exc}); the "
                "parameters are probably too extreme for double precision (a scale ratio, a tiny eps "
                "or a huge lambda_max): move them towards the documented ranges (docs/numeric.md)"
            ) from exc

    return wrapper
