"""Integral families as plain data (docs/conventions.md, "Integral families").

A Feynman diagram of ergsym is a graph whose vertices are lattice sites / points of
space (all interactions are local) and whose edges are translation-invariant *lines*.
A line is the momentum-space function ``Kt(p)^kt * D(p)^d`` (:class:`Line`); in position
space it is the circulant matrix ``G^kt Cdot^d`` with ``G = Kt`` and ``Cdot = D``.

Because vertices are local, a connected diagram factorizes at its cut vertices: its value
is the product of the values of its *blocks* (2-connected pieces).  Inside a block two lines
meeting at a vertex of degree 2 are in series, which in momentum space is the product of
their functions; ergsym reduces those, so a block (:class:`Block`) is either

* ``loop``: one vertex and one self-edge, ``int_q F(q)`` (``T = int_q Kt``, ``t1``, ...);
* ``bridge``: two vertices joined by one line (phi^3 tadpole stems): ``F(p = 0)``;
* ``melon``: two vertices joined by ``n >= 3`` lines, ``int d^dx prod_e f_e(x)`` in position
  space, e.g. the sunset ``Sun(p) = int_q1 int_q2 Kt(q1) Kt(q2) Kt(p-q1-q2)``;
* ``general``: anything else (appears from O(lambda^3) on: triangles, K4, ...).

A :class:`Family` is a product of blocks.  Diagrams of an operator that contains the ERG
kernel ``Cdot = (2 pi)^d D`` carry exactly one ``D``; the block holding it is the *outer*
block, and its outermost loop is ``int d^dp`` (no ``(2 pi)^-d``), which absorbs the
``(2 pi)^d`` of ``Cdot`` and the overall ``delta^d(0)``.  That reproduces the fixed names of docs/conventions.md:
``f0 = int d^dp D/Kt``, ``t1``, ``u1``, ``f1 = t1 * T``, ``f2 = int d^dp D(p) Sun(p)``.

Values of a block (definition used by every layer)
--------------------------------------------------
Lattice of volume ``V`` with circulant matrices ``M_e``:
``b = (1/V) sum_{x_0..x_{n-1}} prod_e M_e[x_i, x_j]``; the family value is
``V * b_outer * prod_other b`` when it has a ``D`` line, else ``prod b``.
Continuum: the same with ``(1/V) sum_x -> int d^dx`` (position space) or one ``int_q`` per
loop (momentum space), and ``V -> (2 pi)^d`` for the outer block.

This module is plain Python: tuples, ints and strings.  No sympy, no numpy.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = ["Line", "Block", "Family", "reduce_graph", "NAMED_FAMILIES", "family_by_name"]


@dataclass(frozen=True, order=True)
class Line:
    """Momentum-space line function ``Kt(p)**kt * D(p)**d * Delta(p)**delta``.

    ``kt`` may be negative (``D/Kt`` in ``f0``); ``d`` is 0 or 1 in diagrams of
    operators with one ERG kernel.  ``Delta = Kt_Lambda0 - Kt_Lambda = C_Lambda0 - C_Lambda``
    is the covariance integrated out between ``Lambda0`` and ``Lambda`` along the Polchinski
    flow (docs/flow.md); it appears only in flowed quantities.
    """

    kt: int
    d: int = 0
    delta: int = 0

    def __mul__(self, other: Line) -> Line:
        return Line(self.kt + other.kt, self.d + other.d, self.delta + other.delta)

    @property
    def label(self) -> str:
        """Short ASCII label: ``K``, ``K2``, ``D``, ``DK``, ``D/K``, ``1``."""
        parts = []
        if self.d:
            parts.append("D" if self.d == 1 else f"D{self.d}")
        if self.kt > 0:
            parts.append("K" if self.kt == 1 else f"K{self.kt}")
        if self.delta:
            parts.append("Δ" if self.delta == 1 else f"Δ{self.delta}")
        s = "".join(parts)
        if self.kt < 0:
            s = (s or "1") + ("/K" if self.kt == -1 else f"/K{-self.kt}")
        return s or "1"

    @property
    def latex(self) -> str:
        """LaTeX of the momentum-space function (argument omitted)."""
        parts = []
        if self.d:
            parts.append("D" if self.d == 1 else f"D^{{{self.d}}}")
        if self.kt:
            parts.append(r"\tilde K" if self.kt == 1 else rf"\tilde K^{{{self.kt}}}")
        if self.delta:
            parts.append(r"\Delta" if self.delta == 1 else rf"\Delta^{{{self.delta}}}")
        return " ".join(parts) or "1"

    def to_dict(self) -> dict:
        return {"kt": self.kt, "d": self.d, "delta": self.delta}


K = Line(1, 0)
DLINE = Line(0, 1)


@dataclass(frozen=True)
class Block:
    """A 2-connected, series-reduced piece of a diagram (see module docstring).

    Attributes
    ----------
    n_vertices : int
    edges : tuple of (i, j, Line)
        Canonical: ``i <= j``, sorted; self-edges only in the one-vertex ``loop`` block.
    """

    n_vertices: int
    edges: tuple

    @property
    def n_loops(self) -> int:
        return len(self.edges) - self.n_vertices + 1

    @property
    def kind(self) -> str:
        if self.n_vertices == 1:
            return "loop"
        if self.n_vertices == 2:
            return "bridge" if len(self.edges) == 1 else "melon"
        return "general"

    @property
    def lines(self) -> tuple:
        return tuple(e[2] for e in self.edges)

    @property
    def has_d(self) -> bool:
        return any(line.d for line in self.lines)

    @property
    def name(self) -> str:
        """Name: ``T, T2, f0, t1, u1, u2, f2`` or a generated one such as ``M[D,K,K,K2]``."""
        if self.kind == "loop":
            line = self.lines[0]
            if line.delta:
                return f"L[{line.label}]"
            if line.d == 0:
                return "T" if line.kt == 1 else f"T{line.kt}" if line.kt > 1 else f"L[{line.label}]"
            if line.d == 1:
                return {-1: "f0", 0: "t1", 1: "u1"}.get(line.kt, f"u{line.kt}" if line.kt > 1 else f"L[{line.label}]")
            return f"L[{line.label}]"
        if self.kind == "bridge":
            return f"{self.lines[0].label}(0)"
        if self.kind == "melon":
            labels = sorted((line.label for line in self.lines), key=_label_key)
            if labels == ["D", "K", "K", "K"]:
                return "f2"
            return "M[" + ",".join(labels) + "]"
        return "G" + str(self.n_vertices) + "[" + ",".join(f"{i}{j}{line.label}" for i, j, line in self.edges) + "]"

    @property
    def latex(self) -> str:
        if self.kind == "loop":
            n = self.name
            if not n.startswith("L["):
                return _latex_name(n)
            return r"\int_q " + self.lines[0].latex
        if self.name == "f2":
            return "f_2"
        if self.kind == "bridge":
            return self.lines[0].latex + "(0)"
        if self.kind == "melon":
            return r"\mathrm{M}[" + ",".join(line.latex for line in sorted(self.lines)) + "]"
        return (
            r"\mathrm{G}_{"
            + str(self.n_vertices)
            + "}["
            + ",".join(f"{i}{j}{{:}}{line.latex}" for i, j, line in self.edges)
            + "]"
        )

    def integrand(self) -> str:
        """Human-readable momentum/position-space definition of the block."""
        if self.kind == "loop":
            (line,) = self.lines
            measure, var = ("∫ d^dp", "p") if line.d else ("∫_q", "q")
            return f"{measure} {line.label}({var})"
        if self.kind == "bridge":
            return f"{'(2π)^d ' if self.has_d else ''}{self.lines[0].label}(p=0)"
        if self.kind == "melon":
            fs = " ".join(f"{line.label}(x)" for line in self.lines)
            pre = "(2π)^d " if self.has_d else ""
            return f"{pre}∫ d^dx {fs}   [f(x) = ∫_q e^(iqx) F(q)]"
        return f"{'(2π)^d ' if self.has_d else ''}(1/V) Σ_(x0..x{self.n_vertices - 1}) " + " ".join(
            f"{line.label}(x{i}-x{j})" for i, j, line in self.edges
        )

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "n_vertices": self.n_vertices,
            "n_loops": self.n_loops,
            "edges": [[i, j, line.to_dict()] for i, j, line in self.edges],
            "outer": self.has_d,
            "definition": self.integrand(),
        }


def _label_key(label: str):
    return (not label.startswith("D"), len(label), label)


_LATEX_NAMES = {"f0": "f_0", "t1": "t_1", "u1": "u_1", "f1": "f_1", "f2": "f_2", "T": "T"}


def _latex_name(name: str) -> str:
    if name in _LATEX_NAMES:
        return _LATEX_NAMES[name]
    if name[0] in "Tu" and name[1:].isdigit():
        return f"{name[0]}_{{{name[1:]}}}"
    return r"\mathrm{" + name.replace("_", r"\_") + "}"


@dataclass(frozen=True)
class Family:
    """A product of blocks: the integral multiplying an exact rational in a series.

    The empty product (``blocks == ()``) is the number 1.
    """

    blocks: tuple = field(default=())

    def __post_init__(self):
        object.__setattr__(self, "blocks", tuple(sorted(self.blocks, key=_block_sort_key)))

    def __mul__(self, other: Family) -> Family:
        return Family(self.blocks + other.blocks)

    @property
    def outer(self) -> Block | None:
        """The block holding the ``D`` line, or ``None``."""
        for b in self.blocks:
            if b.has_d:
                return b
        return None

    @property
    def n_loops(self) -> int:
        return sum(b.n_loops for b in self.blocks)

    @property
    def name(self) -> str:
        names = [b.name for b in self.blocks]
        if not names:
            return "1"
        if names == ["t1", "T"]:
            return "f1"
        return "·".join(_power_names(names))

    @property
    def latex(self) -> str:
        if not self.blocks:
            return "1"
        if self.name == "f1":
            return "f_1"
        out = []
        for b, n in _runs(self.blocks):
            out.append(b.latex + (f"^{{{n}}}" if n > 1 else ""))
        return r"\,".join(out)

    def definition(self) -> str:
        return " × ".join(b.integrand() for b in self.blocks) or "1"

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "latex": self.latex,
            "n_loops": self.n_loops,
            "blocks": [b.to_dict() for b in self.blocks],
        }

    def __repr__(self) -> str:
        return f"Family({self.name})"


def _runs(blocks):
    out = []
    for b in blocks:
        if out and out[-1][0] == b:
            out[-1][1] += 1
        else:
            out.append([b, 1])
    return out


def _power_names(names):
    out = []
    for n in names:
        if out and out[-1][0] == n:
            out[-1][1] += 1
        else:
            out.append([n, 1])
    return [n if k == 1 else f"{n}^{k}" for n, k in out]


def _block_sort_key(b: Block):
    # outer (D) block first, then by size, then canonical data
    return (not b.has_d, b.n_vertices, len(b.edges), b.edges)


# ---------------------------------------------------------------------------
# Graph reduction: raw diagram -> Family
# ---------------------------------------------------------------------------


def reduce_graph(
    n_vertices: int, edges: Iterable[tuple[int, int, Line]], identify: Iterable[tuple[int, int]] = ()
) -> Family:
    """Reduce a raw diagram to its canonical :class:`Family`.

    Parameters
    ----------
    n_vertices : int
        Number of vertices of the raw diagram.
    edges : iterable of (i, j, Line)
        Lines of the diagram (self-edges allowed, multi-edges allowed).
    identify : iterable of (i, j)
        Pairs of vertices that are the same point (a ``G^-1 phi`` leg contracted with a
        field gives ``G^-1 G = 1``: the two ends coincide).

    Notes
    -----
    The diagram must be connected.  Steps: identify vertices; split into blocks
    (Hopcroft-Tarjan on the multigraph); series-reduce each block; a block reduced to two
    parallel lines is a one-loop ``loop`` block of their product; canonical relabelling.
    """
    return _reduce_cached(
        n_vertices, tuple(sorted((min(i, j), max(i, j), l) for i, j, l in edges)), tuple(sorted(identify))
    )


@lru_cache(maxsize=200_000)
def _reduce_cached(n_vertices, edges, identify):
    parent = list(range(n_vertices))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for i, j in identify:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    roots = sorted({find(v) for v in range(n_vertices)})
    relabel = {r: k for k, r in enumerate(roots)}
    es = [(relabel[find(i)], relabel[find(j)], l) for i, j, l in edges]
    blocks = []
    for comp_edges in _biconnected_blocks(len(roots), es):
        blocks.append(_canonical_block(comp_edges))
    return Family(tuple(blocks))


def _biconnected_blocks(n, edges):
    """Edge sets of the blocks of a connected multigraph (self-loops are own blocks)."""
    adj = [[] for _ in range(n)]
    out = []
    for eid, (i, j, _l) in enumerate(edges):
        if i == j:
            out.append([edges[eid]])
            continue
        adj[i].append((j, eid))
        adj[j].append((i, eid))
    disc = [-1] * n
    low = [0] * n
    counter = [0]
    stack = []

    def dfs(u, parent_eid):
        disc[u] = low[u] = counter[0]
        counter[0] += 1
        for v, eid in adj[u]:
            if eid == parent_eid:
                continue
            if disc[v] == -1:
                stack.append(eid)
                dfs(v, eid)
                low[u] = min(low[u], low[v])
                if low[v] >= disc[u]:
                    comp = []
                    while True:
                        e = stack.pop()
                        comp.append(edges[e])
                        if e == eid:
                            break
                    out.append(comp)
            elif disc[v] < disc[u]:
                stack.append(eid)
                low[u] = min(low[u], disc[v])

    if n:
        dfs(0, -1)
        if any(d == -1 for d in disc):
            raise ValueError("reduce_graph: diagram is not connected")
    return out


def _canonical_block(block_edges) -> Block:
    verts = sorted({v for i, j, _ in block_edges for v in (i, j)})
    idx = {v: k for k, v in enumerate(verts)}
    es = [[idx[i], idx[j], l] for i, j, l in block_edges]
    n = len(verts)
    if n == 1:
        (e,) = es
        return Block(1, ((0, 0, e[2]),))
    # series reduction: remove degree-2 vertices while more than 2 vertices remain
    alive = set(range(n))
    while len(alive) > 2:
        deg = {v: 0 for v in alive}
        for i, j, _ in es:
            deg[i] += 1
            deg[j] += 1
        v2 = next((v for v in sorted(alive) if deg[v] == 2), None)
        if v2 is None:
            break
        inc = [e for e in es if v2 in (e[0], e[1])]
        a, b = inc
        ends = [a[0] if a[1] == v2 else a[1], b[0] if b[1] == v2 else b[1]]
        es = [e for e in es if e is not a and e is not b]
        es.append([ends[0], ends[1], a[2] * b[2]])
        alive.discard(v2)
    if len(alive) == 2 and len(es) == 2:
        return Block(1, ((0, 0, es[0][2] * es[1][2]),))
    verts = sorted(alive)
    idx = {v: k for k, v in enumerate(verts)}
    es = [(idx[i], idx[j], l) for i, j, l in es]
    return Block(len(verts), _canonical_edges(len(verts), tuple(sorted((min(i, j), max(i, j), l) for i, j, l in es))))


@lru_cache(maxsize=50_000)
def _canonical_edges(n, edges):
    """The lexicographically smallest sorted edge tuple over all relabellings of ``0..n-1``.

    Each edge ``(min, max, line)`` is encoded as one integer ``(min * n + max) * R + rank``
    (``rank``: the line's position among the block's distinct lines), an order-preserving
    code, so candidates are compared as sorted lists of ints; the minimum is decoded back.
    Same result as comparing the tuples themselves, several times faster.
    """
    lines = sorted({l for _, _, l in edges})
    rank = {l: k for k, l in enumerate(lines)}
    n_lines = len(lines)
    pair = [[(min(a, b) * n + max(a, b)) * n_lines for b in range(n)] for a in range(n)]
    coded = [(i, j, rank[l]) for i, j, l in edges]
    best = None
    for perm in itertools.permutations(range(n)):
        cand = sorted([pair[perm[i]][perm[j]] + r for i, j, r in coded])
        if best is None or cand < best:
            best = cand
    out = []
    for c in best:
        q, r = divmod(c, n_lines)
        out.append((q // n, q % n, lines[r]))
    return tuple(out)


# ---------------------------------------------------------------------------
# The names docs/conventions.md fixes
# ---------------------------------------------------------------------------


def _loop(line: Line) -> Block:
    return Block(1, ((0, 0, line),))


NAMED_FAMILIES = {
    "f0": Family((_loop(Line(-1, 1)),)),
    "t1": Family((_loop(Line(0, 1)),)),
    "u1": Family((_loop(Line(1, 1)),)),
    "T": Family((_loop(Line(1, 0)),)),
    "T2": Family((_loop(Line(2, 0)),)),
    "T3": Family((_loop(Line(3, 0)),)),
    "f1": Family((_loop(Line(0, 1)), _loop(Line(1, 0)))),
    "f2": Family((Block(2, ((0, 1, DLINE), (0, 1, K), (0, 1, K), (0, 1, K))),)),
}
"""The basic families of docs/conventions.md by their fixed names."""


def family_by_name(name: str) -> Family:
    """The family of docs/conventions.md called ``name`` (``f0, t1, u1, T, T2, T3, f1, f2``)."""
    from .errors import InputError

    try:
        return NAMED_FAMILIES[name]
    except KeyError:
        raise InputError.bad("family", name, "one of " + ", ".join(NAMED_FAMILIES)) from None
