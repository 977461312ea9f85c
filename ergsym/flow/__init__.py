"""Polchinski flow to O(lam^2) and the monotone along the flow (docs/flow.md)."""

from .continuum import (
    flow_continuum,
    monotone_difference,  # noqa: F401
    running_couplings_continuum,
)
from .interaction import (
    EffTerm,
    describe_term,
    effective_interaction,  # noqa: F401
    polchinski_residual,
    running_couplings,
)
from .lattice import (
    flow_lattice,
    monotone_difference_lattice,  # noqa: F401
    running_couplings_lattice,
)
from .monotone import (
    FLOW_FORMS,
    flow_interaction_expectation,
    flow_monotone,  # noqa: F401
    flow_phi2,
    flow_piece,
    has_delta,
)
