"""Lattice report sections (placeholder while the skeleton is built)."""
from .section import Section


def lattice_section(cfg, ctx):
    return Section("lattice", "Lattice cross-check", "Not built yet.", available=False)


def onemode_section(cfg, ctx):
    return Section("onemode", "One mode", "Not built yet.", available=False)
