"""Array backends of the lattice layer: numpy, and cupy when installed (STYLE "Numbers").

Array code takes its namespace from its inputs (:func:`array_namespace`); a backend is
chosen once, by name, at a public entry point (:func:`get_backend`).  cupy is imported only
inside these functions, so ``import ergsym.lattice`` never touches a GPU.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from ..errors import BackendUnavailableError, InputError

__all__ = ["BACKENDS", "get_backend", "array_namespace", "to_numpy"]

#: Names accepted by ``backend=`` / ``--backend``.
BACKENDS = ("numpy", "cupy")


def get_backend(name: str = "numpy") -> ModuleType:
    """Return the array module for ``name`` (``"numpy"`` or ``"cupy"``).

    Raises
    ------
    InputError
        Unknown backend name.
    BackendUnavailableError
        ``"cupy"`` requested but cupy is not installed or no CUDA device is visible.
    """
    if name == "numpy":
        return np
    if name == "cupy":
        try:
            import cupy  # noqa: PLC0415  (optional dependency, imported on demand)
        except ImportError as exc:
            raise BackendUnavailableError(
                "backend='cupy' needs the optional package cupy (pip install ergsym[gpu]); "
                f"it could not be imported ({exc}); use backend='numpy'"
            ) from None
        try:
            n_dev = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # cupy raises its own CUDARuntimeError types
            raise BackendUnavailableError(
                f"backend='cupy': no usable CUDA device ({exc}); use backend='numpy'"
            ) from None
        if n_dev < 1:
            raise BackendUnavailableError("backend='cupy': no CUDA device; use backend='numpy'")
        return cupy
    raise InputError.bad("backend", name, "one of " + ", ".join(repr(b) for b in BACKENDS))


def array_namespace(*arrays: object) -> ModuleType:
    """The array module (numpy or cupy) of the given arrays; numpy for plain Python data."""
    for a in arrays:
        mod = type(a).__module__.split(".")[0]
        if mod == "cupy":
            import cupy  # noqa: PLC0415

            return cupy
    return np


def to_numpy(a: object) -> np.ndarray:
    """Copy a numpy or cupy array to host memory as a numpy array."""
    if type(a).__module__.split(".")[0] == "cupy":
        return a.get()
    return np.asarray(a)
