"""Run the LPA's small dense linear algebra on one BLAS thread.

The matrices here are at most ~160 x 160: OpenBLAS threads only add synchronisation, and on a
loaded machine they multiply the run time by 10-30.  :func:`single_blas_thread` sets the thread
count of every OpenBLAS loaded into the process to 1 for the duration of a ``with`` block
(through its C API, as threadpoolctl does) and restores it; where none is found it does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes

_SETTERS = (
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "openblas_set_num_threads",
)
_GETTERS = (
    "scipy_openblas_get_num_threads64_",
    "scipy_openblas_get_num_threads",
    "openblas_get_num_threads64_",
    "openblas_get_num_threads",
)
_LIBS: list | None = None


def _libraries():
    global _LIBS
    if _LIBS is None:
        _LIBS = []
        try:
            with open("/proc/self/maps", encoding="utf-8") as fh:
                paths = {line.split()[-1] for line in fh if "openblas" in line.lower() and "/" in line}
        except OSError:
            paths = set()
        for path in sorted(paths):
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            get = next((getattr(lib, g) for g in _GETTERS if hasattr(lib, g)), None)
            put = next((getattr(lib, s) for s in _SETTERS if hasattr(lib, s)), None)
            if get is not None and put is not None:
                get.restype = ctypes.c_int
                _LIBS.append((get, put))
    return _LIBS


@contextlib.contextmanager
def single_blas_thread():
    libs = _libraries()
    saved = [get() for get, _ in libs]
    for _, put in libs:
        put(1)
    try:
        yield
    finally:
        for (_, put), n in zip(libs, saved, strict=True):
            put(int(n))
