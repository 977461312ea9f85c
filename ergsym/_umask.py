"""File modes that honour the user's umask for files made with :mod:`tempfile`.

``tempfile.mkstemp`` creates files 0600 and ``mkdtemp`` directories 0700 whatever the umask;
ergsym writes its outputs that way (atomically: a temporary file, then ``os.replace``), so it
sets the mode an ordinary ``open``/``mkdir`` would have given before moving them into place.
"""

from __future__ import annotations

import os
import threading

__all__ = ["current_umask", "honour_umask"]

_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask (read by setting it and restoring it at once, under a lock)."""
    with _LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def honour_umask(path, directory: bool = False) -> None:
    """``chmod`` ``path`` to ``0666 & ~umask`` (``0777`` for a directory)."""
    base = 0o777 if directory else 0o666
    os.chmod(path, base & ~current_umask())
