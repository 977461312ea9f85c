"""The diagram engine: linked Wick contractions as labelled multigraphs.

Expectation values under ``P ∝ exp(-Shat - S_int)`` (SPEC section 2) are expanded with the
linked-cluster theorem::

    <O> = sum_{c} (-1)^{|c|} prod_n (g_n/n!)^{c_n} / c_n!  <O prod_n (sum_x phi_x^n)^{c_n}>_0,linked

The Gaussian average of a product of vertices whose legs are all distinguishable is a sum
over perfect matchings of legs.  Matchings giving the same labelled multigraph with
adjacency ``a`` are counted at once::

    #matchings(a) = prod_i deg_i! / ( prod_{i<j} a_ij!  prod_i a_ii! 2^{a_ii} )

so the hot loop enumerates symmetric integer matrices with prescribed row sums, keeps the
linked ones (connected once the operator's fixed lines are added) and maps each to its
canonical :class:`~ergsym.families.Family`.  Everything is integers, ``Fraction`` and
tuples (STYLE.md: no sympy in the hot loop).

Legs come in two kinds: field legs ``phi_x`` and *amputated* legs ``(G^-1 phi)_x`` (from
``delta Shat / delta phi``).  A field-field contraction is a line ``Kt``; amputated-field is
``G^-1 G = 1`` (the two vertices are the same point); amputated-amputated is ``G^-1``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from itertools import product as iproduct

from ..errors import InputError, OrderNotSupportedError
from ..families import Line, reduce_graph
from .series import Series
from .theory import Theory, validate_scheme

__all__ = ["OpVertex", "OperatorTerm", "Operator", "expand", "diagrams", "Diagram", "MAX_ORDER",
           "adjacencies", "connected"]

#: Highest total coupling order :func:`expand` accepts (cost grows fast beyond).
MAX_ORDER = 6

K_LINE = Line(1, 0)
GINV_LINE = Line(-1, 0)


@dataclass(frozen=True)
class OpVertex:
    """A vertex of an operator.

    Attributes
    ----------
    degree : int
        Number of legs.
    amp : bool
        The single leg is amputated, ``(G^-1 phi)_x`` (then ``degree == 1``).
    normal_ordered : bool
        The legs may not contract among themselves (``:phi^n:``).
    """

    degree: int
    amp: bool = False
    normal_ordered: bool = False


@dataclass(frozen=True)
class OperatorTerm:
    """``coeff * couplings**powers * sum_{x...} prod fixed lines * prod vertex legs``."""

    coeff: Fraction
    powers: tuple
    vertices: tuple
    fixed: tuple = ()


@dataclass(frozen=True)
class Operator:
    """A polynomial in the field, its amputated legs and fixed lines (e.g. ``Cdot``).

    ``normalization`` is ``"delta(0)"`` for operators with one ERG kernel (the result is the
    coefficient of ``delta^d(0)``), ``"per-site"`` for local operators at one point and for
    ``log Z`` (no vertices: the sum of connected vacuum diagrams per volume).
    """

    name: str
    terms: tuple
    normalization: str = "delta(0)"


def _validate_order(order) -> int:
    if isinstance(order, bool) or not isinstance(order, int):
        raise InputError.bad("order", order, f"an integer from 0 to {MAX_ORDER}")
    if order < 0:
        raise InputError.bad("order", order, f"an integer from 0 to {MAX_ORDER}")
    if order > MAX_ORDER:
        raise OrderNotSupportedError(
            f"order={order} is not supported: order must be at most {MAX_ORDER} "
            "(the diagram count grows factorially; ask for a lower order)")
    return order


def _compositions(total, caps):
    """All tuples x with 0 <= x_k <= caps[k] and sum x = total."""
    if not caps:
        if total == 0:
            yield ()
        return
    first, rest = caps[0], caps[1:]
    rest_cap = sum(rest)
    for x in range(max(0, total - rest_cap), min(first, total) + 1):
        for tail in _compositions(total - x, rest):
            yield (x,) + tail


def _adjacencies(degrees, self_ok):
    """Yield adjacency dicts ``{(i, j): count}`` (i <= j) with the given degrees.

    A self-loop uses two legs of its vertex.  ``self_ok[i]`` forbids self-loops at ``i``.
    """
    n = len(degrees)
    rem = list(degrees)
    cur = {}

    def row(i):
        if i == n:
            yield dict(cur)
            return
        r = rem[i]
        max_self = r // 2 if self_ok[i] else 0
        for s in range(max_self, -1, -1):
            left = r - 2 * s
            caps = [rem[j] for j in range(i + 1, n)]
            if left > sum(caps):
                continue
            for comp in _compositions(left, caps):
                if s:
                    cur[(i, i)] = s
                for k, x in enumerate(comp):
                    j = i + 1 + k
                    if x:
                        cur[(i, j)] = x
                        rem[j] -= x
                rem[i] = 0
                yield from row(i + 1)
                rem[i] = r
                for k, x in enumerate(comp):
                    j = i + 1 + k
                    if x:
                        rem[j] += x
                        del cur[(i, j)]
                if s:
                    del cur[(i, i)]

    yield from row(0)


def _connected(n, pairs):
    """True when the graph on vertices ``0..n-1`` with edges ``pairs`` is connected."""
    if n == 0:
        return True
    parent = list(range(n))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for i, j in pairs:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[ri] = rj
    r0 = find(0)
    return all(find(v) == r0 for v in range(n))


#: Public names of the enumeration primitives (used by :mod:`ergsym.flow` too).
adjacencies = _adjacencies
connected = _connected


def _interaction_multisets(theory: Theory, max_order: int):
    """Yield ``(counts, weight)``: counts[c] vertices of coupling c, total <= max_order."""
    m = len(theory.couplings)
    for counts in iproduct(range(max_order + 1), repeat=m):
        if sum(counts) > max_order:
            continue
        w = Fraction((-1) ** sum(counts))
        for (deg, _), c in zip(theory.couplings, counts):
            w /= Fraction(math.factorial(deg)) ** c * math.factorial(c)
        yield counts, w


def expand(operator: Operator, theory: Theory, order: int, scheme: str = "bare",
           quantity: str | None = None) -> Series:
    """Expand ``<operator>`` under ``exp(-Shat - S_int)`` through total coupling ``order``.

    Parameters
    ----------
    operator : Operator
    theory : Theory
    order : int
        Highest total power of the couplings kept (0..MAX_ORDER).
    scheme : {"bare", "normal-ordered"}
        ``normal-ordered`` forbids contractions among the legs of one interaction vertex
        (and among the legs of ``delta S_int/delta phi``, which is normal-ordered too).

    Returns
    -------
    Series
        Exact ``Fraction`` coefficients times canonical families.

    Notes
    -----
    Implements the linked-cluster expansion described in the module docstring; the
    independent check is :mod:`ergsym.symbolic.oracle` (exact Gaussian moments).
    """
    order = _validate_order(order)
    scheme = validate_scheme(scheme)
    acc: dict = {}
    for g in _linked_graphs(operator, theory, order, scheme):
        edges, ident = _raw_lines(g)
        key = (g.powers, reduce_graph(len(g.verts), edges, ident))
        acc[key] = acc.get(key, 0) + g.term.coeff * g.weight
    return Series.from_dict(quantity or operator.name, theory, scheme, order, acc,
                            normalization=operator.normalization,
                            provenance="ergsym.symbolic.wick.expand (linked labelled multigraphs)")


@dataclass(frozen=True)
class _Graph:
    """A linked labelled multigraph with its weight (internal to the engine)."""

    term: OperatorTerm
    powers: tuple
    k: int                # number of interaction vertices
    verts: tuple
    adj: dict             # (i, j) -> multiplicity, i <= j
    weight: Fraction      # (-1)^k prod (1/n!)^c_n / c_n!  x  #Wick matchings


def _linked_graphs(operator, theory, order, scheme):
    """Every linked labelled multigraph of ``<operator>`` through ``order`` (the hot loop)."""
    no = scheme == "normal-ordered"
    for term in operator.terms:
        op_order = sum(term.powers)
        if op_order > order:
            continue
        fixed_pairs = [(i, j) for i, j, _ in term.fixed]
        for counts, w_int in _interaction_multisets(theory, order - op_order):
            verts = list(term.vertices)
            for (deg, _), c in zip(theory.couplings, counts):
                verts += [OpVertex(deg, normal_ordered=no)] * c
            degrees = [v.degree for v in verts]
            if not verts or sum(degrees) % 2:
                continue
            powers = tuple(p + c for p, c in zip(term.powers, counts))
            self_ok = [not (v.amp or v.normal_ordered) for v in verts]
            num = 1
            for d in degrees:
                num *= math.factorial(d)
            verts = tuple(verts)
            for adj in _adjacencies(degrees, self_ok):
                if not _connected(len(verts), list(adj) + fixed_pairs):
                    continue
                den = 1
                for (i, j), c in adj.items():
                    den *= math.factorial(c) * (2 ** c if i == j else 1)
                yield _Graph(term, powers, sum(counts), verts, adj, w_int * Fraction(num, den))


def _contraction_kind(verts, i, j) -> str:
    """``K`` (field-field, incl. self-loops), ``Ginv`` (amputated pair) or ``id``."""
    a, b = verts[i].amp, verts[j].amp
    if i == j or not (a or b):
        return "K"
    return "Ginv" if a and b else "id"


def _raw_lines(g: _Graph):
    """Lines and vertex identifications of a labelled graph, fixed lines included."""
    edges, ident = list(g.term.fixed), []
    for (i, j), c in g.adj.items():
        kind = _contraction_kind(g.verts, i, j)
        if kind == "id":
            ident.append((i, j))
        else:
            edges += [(i, j, K_LINE if kind == "K" else GINV_LINE)] * c
    return edges, ident


@dataclass(frozen=True)
class Diagram:
    """One linked diagram (unlabelled in its interaction vertices).

    Attributes
    ----------
    vertices : tuple of OpVertex
        Operator vertices first (in the operator's order), then interaction vertices.
    edges : tuple of (i, j, kind)
        Contractions, ``kind`` in ``{"K", "Ginv", "id"}``, plus the operator's fixed lines
        (``kind`` = the Line's label, e.g. ``"D"``); canonical up to relabelling interaction
        vertices.
    coeff : Fraction
        Its contribution (signs, coupling normalizations, operator coefficient included).
    weight : Fraction
        ``coeff`` without the operator's coefficient and the sign ``(-1)^k`` of the
        ``k`` interaction vertices: the number of Wick contractions giving this diagram
        times ``prod_v 1/n_v!`` and ``prod_n 1/c_n!``; ``1/|Aut(G)|`` for a vacuum diagram.
    powers : tuple
    family : Family
    """

    vertices: tuple
    edges: tuple
    coeff: Fraction
    weight: Fraction
    powers: tuple
    family: object


def diagrams(operator: Operator, theory: Theory, order: int, scheme: str = "bare") -> list:
    """The individual linked diagrams of ``<operator>`` through ``order``, with weights.

    Same enumeration as :func:`expand`, but labelled graphs are grouped by their canonical
    form under permutations of the interaction vertices instead of by family.  For a
    connected vacuum diagram of phi^n vertices ``weight = 1/|Aut(G)|`` (vertex permutations,
    multi-edge permutations and self-loop flips), the textbook symmetry factor.
    """
    order = _validate_order(order)
    scheme = validate_scheme(scheme)
    groups: dict = {}
    for g in _linked_graphs(operator, theory, order, scheme):
        kinds = {ij: _contraction_kind(g.verts, *ij) for ij in g.adj}
        key = _canonical_labelled(g.verts, len(g.term.vertices), g.adj, kinds, g.term.fixed)
        acc = groups.setdefault((g.powers, key, g.verts), [Fraction(0), Fraction(0), g])
        acc[0] += g.term.coeff * g.weight
        acc[1] += g.weight * (-1) ** g.k
    out = []
    for (powers, key, verts), (coeff, weight, g) in groups.items():
        edges, ident = _raw_lines(g)
        out.append(Diagram(verts, key, coeff, weight, powers, reduce_graph(len(verts), edges, ident)))
    out.sort(key=lambda d: (sum(d.powers), d.family.name, d.edges))
    return out


def _canonical_labelled(verts, n_op, adj, kinds, fixed):
    """Canonical edge list under permutations of interaction vertices of equal degree."""
    import itertools

    n = len(verts)
    inter = list(range(n_op, n))
    best = None
    for perm in itertools.permutations(inter):
        if any(verts[a].degree != verts[b].degree for a, b in zip(inter, perm)):
            continue
        mp = list(range(n_op)) + list(perm)
        cand = tuple(sorted(
            [(min(mp[i], mp[j]), max(mp[i], mp[j]), kinds[(i, j)], c) for (i, j), c in adj.items()]
            + [(min(mp[i], mp[j]), max(mp[i], mp[j]), line.label, 1) for i, j, line in fixed]))
        if best is None or cand < best:
            best = cand
    return best
