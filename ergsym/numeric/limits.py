"""Size limits of the position-space method, shared by :mod:`.melon` and :mod:`.tails`.

They live here, below both modules, so that neither has to import the other for them (the
imports of the numeric layer form no cycle).
"""

from __future__ import annotations

from ..errors import InputError

__all__ = ["KERNEL_BUDGET", "PositionBudgetError"]

#: largest kernel matrix (elements) one position-space pass may build before the method
#: refuses (or, with method="auto", hands the block to the momentum-space method)
KERNEL_BUDGET = 1.5e8


class PositionBudgetError(InputError):
    """The position-space grids needed at this point exceed :data:`KERNEL_BUDGET`."""
