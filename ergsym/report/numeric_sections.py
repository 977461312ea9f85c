"""Numeric report sections (placeholder while the skeleton is built)."""
from .section import Section


def numeric_section(cfg, ctx):
    return Section("numeric", "Numeric values", "Not built yet.", available=False)


def figures_section(cfg, ctx):
    return Section("figures", "Figures", "Not built yet.", available=False)


def errata_section(cfg, ctx):
    return Section("errata", "Errata", "Not built yet.", available=False)
