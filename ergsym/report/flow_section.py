"""Flow report section (placeholder while the skeleton is built)."""
from .section import Section


def flow_section(cfg, ctx):
    return Section("flow", "Along the flow", "Not built yet.", available=False)
