"""No two modules of one ergsym subpackage import each other, directly or around a loop.

Function-level (lazy) imports count too: a cycle hidden in a function still ties the modules
together (``numeric/melon.py`` <-> ``numeric/tails.py`` was one; their shared limits now live in
``numeric/limits.py``).  The graph is read from the source with :mod:`ast`; nothing is imported.
"""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "ergsym"
SUBPACKAGES = sorted(p.parent for p in PKG.glob("*/__init__.py"))


def _graph(directory: Path) -> dict:
    modules = {f.stem for f in directory.glob("*.py")}
    graph = {}
    for f in directory.glob("*.py"):
        deps = set()
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:  # from .x import ..., from . import x
                deps |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
        graph[f.stem] = (deps & modules) - {f.stem, "__init__"}
    return graph


def _cycles(graph: dict) -> set:
    found = set()

    def walk(node, path):
        for nxt in graph.get(node, ()):
            if nxt in path:
                cyc = path[path.index(nxt) :]
                i = cyc.index(min(cyc))
                found.add(tuple(cyc[i:] + cyc[:i]))
            else:
                walk(nxt, path + [nxt])

    for start in graph:
        walk(start, [start])
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"melon": {"tails"}, "tails": {"melon"}, "x": {"melon"}}) == {("melon", "tails")}
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == set()


@pytest.mark.parametrize("sub", SUBPACKAGES, ids=[p.name for p in SUBPACKAGES])
def test_no_import_cycle_inside_a_subpackage(sub):
    assert not _cycles(_graph(sub)), f"import cycles in ergsym/{sub.name}: {sorted(_cycles(_graph(sub)))}"
