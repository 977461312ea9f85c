"""ergsym: derivable, checkable, fast perturbative exact-RG calculations.

Tiers (imports flow one way)::

    errors, conventions, families  <-  cutoffs  <-  symbolic, numeric, lattice  <-  report  <-  cli

``import ergsym`` is light: sympy, matplotlib and cupy are imported only where needed.
"""

from .errors import (  # noqa: F401
    BackendUnavailableError,
    ConvergenceError,
    DivergentIntegralError,
    ErgsymError,
    FamilyNotSupportedError,
    InputError,
    OrderNotSupportedError,
)

__version__ = "0.1.0"
