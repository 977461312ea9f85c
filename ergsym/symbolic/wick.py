"""The diagram engine: linked Wick contractions as multigraphs, counted up to isomorphism.

Expectation values under ``P ∝ exp(-Shat - S_int)`` (docs/conventions.md) are expanded with the
linked-cluster theorem::

    <O> = sum_{c} (-1)^{|c|} prod_n (g_n/n!)^{c_n} / c_n!  <O prod_n (sum_x phi_x^n)^{c_n}>_0,linked

The Gaussian average of a product of vertices whose legs are all distinguishable is a sum
over perfect matchings of legs.  Matchings giving the same labelled multigraph with
adjacency ``a`` are counted at once::

    #matchings(a) = prod_i deg_i! / ( prod_{i<j} a_ij!  prod_i a_ii! 2^{a_ii} )

The engine never lists labelled multigraphs one by one: it builds the matchings one vertex
at a time and merges partial graphs that are isomorphic under permutations of equal
interaction vertices (canonical relabelling), carrying the number of labelled matchings each
class stands for, and drops partial graphs with a closed component (they can only end
disconnected); see :func:`_count_classes`.  Per operator term and set of interaction
vertices the result ``{Family: count}`` is memoized, so A, B and the four pieces share their
common ``<Cdot dX dY>`` terms.  Each class maps to its canonical
:class:`~ergsym.families.Family`.  Everything is integers, ``Fraction`` and tuples
(no sympy in the hot loop).

Legs come in two kinds: field legs ``phi_x`` and *amputated* legs ``(G^-1 phi)_x`` (from
``delta Shat / delta phi``).  A field-field contraction is a line ``Kt``; amputated-field is
``G^-1 G = 1`` (the two vertices are the same point); amputated-amputated is ``G^-1``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import product as iproduct

from ..errors import InputError, OrderNotSupportedError
from ..families import Line, reduce_graph
from .npoly import NPoly
from .series import Series
from .theory import Theory, validate_scheme

__all__ = [
    "OpVertex",
    "OperatorTerm",
    "Operator",
    "expand",
    "diagrams",
    "Diagram",
    "MAX_ORDER",
    "adjacencies",
    "connected",
    "estimated_seconds",
    "MEASURED_SECONDS",
    "clear_cache",
    "on_weight",
    "on_weight_open",
]

#: Highest total coupling order :func:`expand` accepts (O(lam^6) A, B and pieces: seconds).
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
            "(the diagram count grows factorially; ask for a lower order)"
        )
    return order


#: Measured wall time (s) to derive A, B and the four pieces of phi^4 theory (bare scheme,
#: cold caches) per order, on the project's shared 2-core machine (benchmarks/bench_engine.py,
#: docs/benchmarks.md); the normal-ordered scheme is several times cheaper.
MEASURED_SECONDS = {0: 0.001, 1: 0.001, 2: 0.005, 3: 0.03, 4: 0.2, 5: 1.0, 6: 5.0}
#: Growth of the cost per (phi^4-equivalent) order beyond the measured ones, fitted to
#: phi4+phi6: 34 s at total order 5 (equivalent order 7.5), more than 9 minutes at order 6 (9).
_GROWTH = 6.0


def estimated_seconds(order: int, theory: Theory, scheme: str = "bare") -> float:
    """Rough wall time of ``monotone(order, ...)`` for every form, from measured costs.

    The cost is driven by the number of legs to be matched: a theory whose highest coupling
    has degree ``n`` at order ``k`` is costed like phi^4 at order ``k n / 4`` (interpolated
    geometrically in :data:`MEASURED_SECONDS`, extrapolated by a factor 6 per order).
    Good to a factor of a few (phi4+phi6: measured 0.1 / 1.2 / 34 s and > 9 min at orders
    3 / 4 / 5 / 6, estimated 0.4 / 5 / 73 s and 18 min); used for the CLI's pre-flight check.
    """
    eq = order * max(theory.degrees) / 4
    lo = min(int(math.floor(eq)), 6)
    base = MEASURED_SECONDS[lo]
    frac = eq - lo
    step = (MEASURED_SECONDS[lo + 1] / base) if lo < 6 else _GROWTH
    est = base * step**frac
    if eq > 6:
        est = MEASURED_SECONDS[6] * _GROWTH ** (eq - 6)
    if scheme == "normal-ordered":
        est /= 4
    return est


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


def expand(operator: Operator, theory: Theory, order: int, scheme: str = "bare", quantity: str | None = None) -> Series:
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
    no = scheme == "normal-ordered"
    acc: dict = {}
    for term in operator.terms:
        op_order = sum(term.powers)
        if op_order > order:
            continue
        for counts, w_int in _interaction_multisets(theory, order - op_order):
            inter = tuple((deg, c) for (deg, _), c in zip(theory.couplings, counts) if c)
            powers = tuple(p + c for p, c in zip(term.powers, counts))
            for fam, n_match in _term_families(term.vertices, term.fixed, inter, no, theory.N).items():
                key = (powers, fam)
                acc[key] = acc.get(key, 0) + term.coeff * w_int * n_match
    return Series.from_dict(
        quantity or operator.name,
        theory,
        scheme,
        order,
        acc,
        normalization=operator.normalization,
        provenance="ergsym.symbolic.wick.expand (linked multigraphs up to isomorphism)",
    )


# ---------------------------------------------------------------------------
# The hot loop: Wick matchings merged up to isomorphism of the interaction vertices
# ---------------------------------------------------------------------------

#: (operator vertices, fixed lines, interaction degrees/counts, normal-ordered) -> {Family: int}
_TERM_CACHE: dict = {}


def clear_cache() -> None:
    """Forget the memoized per-term expansions and O(N) weights (used by the benchmarks)."""
    _TERM_CACHE.clear()
    _WEIGHT_CACHE.clear()


def _term_families(op_vertices, fixed, inter, normal_ordered, n_comp=1):
    """``{Family: N}``: Wick matchings of one operator term with given interaction vertices.

    ``N`` is the number of perfect matchings of the (labelled) legs of the operator
    vertices ``op_vertices`` and of ``c`` vertices of degree ``deg`` for each ``(deg, c)`` in
    ``inter`` whose graph, with the ``fixed`` lines, is connected -- summed per family.
    Equal to the sum over labelled multigraphs of ``prod deg! / (prod a_ij! prod a_ii! 2^a_ii)``
    that the module docstring describes, computed over isomorphism classes (see
    :func:`_count_classes`).  Memoized: A, B and the four pieces share their
    ``<Cdot dShat dShat>``, ``<Cdot dI dShat>`` and ``<Cdot dI dI>`` terms.

    With ``n_comp`` field components (an int, or ``"N"`` for symbolic N) every class is
    multiplied by its O(N) index weight, :func:`on_weight` (exactly 1 when ``n_comp == 1``).
    """
    op_vertices = tuple(op_vertices)
    fixed = tuple(fixed)
    # <X_0 X_1> with one symmetric fixed line (0, 1) is symmetric under 0 <-> 1
    if len(op_vertices) == 2 and all({i, j} == {0, 1} for i, j, _ in fixed):
        a, b = op_vertices
        if (b.degree, b.amp, b.normal_ordered) < (a.degree, a.amp, a.normal_ordered):
            op_vertices = (b, a)
    key = (op_vertices, fixed, inter, normal_ordered, n_comp)
    hit = _TERM_CACHE.get(key)
    if hit is not None:
        return hit
    verts = list(op_vertices)
    for deg, c in inter:
        verts += [OpVertex(deg, normal_ordered=normal_ordered)] * c
    out: dict = {}
    if verts and sum(v.degree for v in verts) % 2 == 0:
        n = len(verts)
        amp = [v.amp for v in verts]
        for adj, n_match in _count_classes(verts, len(op_vertices), fixed).items():
            edges, ident = list(fixed), []
            pos = 0
            for i in range(n):
                for j in range(i, n):
                    c = adj[pos]
                    pos += 1
                    if not c:
                        continue
                    if i != j and amp[i] and amp[j]:
                        edges += [(i, j, GINV_LINE)] * c
                    elif i != j and (amp[i] or amp[j]):
                        ident += [(i, j)] * c
                    else:
                        edges += [(i, j, K_LINE)] * c
            fam = reduce_graph(n, edges, ident)
            if n_comp != 1:
                n_match = n_match * _weight_value(_index_weight(n, _index_edges(n, adj, fixed)), n_comp)
            out[fam] = out.get(fam, 0) + n_match
    _TERM_CACHE[key] = out
    return out


# ---------------------------------------------------------------------------
# O(N) index structure
# ---------------------------------------------------------------------------


def _index_edges(n, adj, fixed):
    """Sorted ``(i, j)`` index lines of a graph: one per contraction (``adj`` flattened upper
    triangle with multiplicities) and one per fixed line (``Cdot`` carries ``delta_ab`` too)."""
    out = []
    pos = 0
    for i in range(n):
        for j in range(i, n):
            out += [(i, j)] * adj[pos]
            pos += 1
    out += [(min(i, j), max(i, j)) for i, j, _ in fixed]
    return tuple(sorted(out))


_MATCHINGS: dict = {}


def _matchings(k):
    """All perfect matchings of ``range(k)`` as tuples of pairs (``(k-1)!!`` of them)."""
    hit = _MATCHINGS.get(k)
    if hit is None:

        def rec(items):
            if not items:
                yield ()
                return
            a = items[0]
            for idx in range(1, len(items)):
                rest = items[1:idx] + items[idx + 1 :]
                for m in rec(rest):
                    yield ((a, items[idx]),) + m

        hit = _MATCHINGS[k] = tuple(rec(tuple(range(k))))
    return hit


_WEIGHT_CACHE: dict = {}


def _index_weight(n, edges, n_elim=None):
    """``{c: Fraction}``: the O(N) weight ``sum_c w_c N^c`` of a graph's index structure.

    Every vertex with ``2m`` line ends (legs, and the ends of fixed lines) carries the fully
    symmetric tensor ``S_{a1..a2m} = (1/(2m-1)!!) sum_{pairings} prod delta`` -- the tensor of
    ``(phi.phi)^m`` (``(phi.phi)^2 = (1/3) sum (d_ab d_cd + d_ac d_bd + d_ad d_bc) phi_a phi_b
    phi_c phi_d``), of its gradient ``(phi.phi)^(m-1) phi_a`` with ``a`` the end of the fixed
    line, and of ``(G^-1 phi)_a`` -- and every line carries ``delta_ab``.  Contracting them
    gives ``N^(number of closed index cycles)`` per choice of pairings; the vertices are
    eliminated one at a time (a pairing at a vertex joins its lines pairwise), merging equal
    intermediate graphs.  Nothing is typed per diagram: the familiar weights
    ((N+2)/3 for a tadpole, (N+8)/9 for an s+t+u bubble) come out of this contraction.

    Only vertices ``0..n_elim-1`` are eliminated; the others are *open ends* (one line each,
    e.g. the external legs of a flowed vertex, all set to one uniform field ``phi_a``): the
    lines left between them are the factors ``phi.phi`` of ``(phi.phi)^(n_open/2)``.
    """
    n_elim = n if n_elim is None else n_elim
    key = (n, edges, n_elim)
    hit = _WEIGHT_CACHE.get(key)
    if hit is not None:
        return hit
    states, norm = _index_states(n, edges, n_elim)
    out: dict = {}
    for cur, cyc in states.items():
        if any(u < n_elim or w < n_elim for u, w in cur):
            raise AssertionError("index lines left after eliminating every vertex")
        for c, k in cyc.items():
            out[c] = out.get(c, 0) + Fraction(k, norm)
    _WEIGHT_CACHE[key] = out
    return out


def _index_states(n, edges, n_elim):
    """``({lines left between open ends: {cycles: count}}, norm)``: the elimination of
    vertices ``0..n_elim-1`` of :func:`_index_weight` before the open ends are summed over
    (the lines left say which open ends are contracted together)."""
    states = {edges: {0: 1}}
    norm = 1
    for v in range(n_elim):
        new: dict = {}
        n_slots = sum((e[0] == v) + (e[1] == v) for e in edges)
        if n_slots % 2:
            raise InputError(
                f"vertex {v} has {n_slots} index slots: an O(N) vertex needs an even "
                "number (odd powers of the field have no O(N)-invariant meaning)"
            )
        norm *= math.prod(range(n_slots - 1, 0, -2))
        for cur, cyc in states.items():
            rest, far = [], []
            for u, w in cur:
                if u == v and w == v:
                    far += [None, None]
                elif u == v or w == v:
                    far.append(w if u == v else u)
                else:
                    rest.append((u, w))
            if not far:
                _merge(new, tuple(rest), cyc, 0)
                continue
            partner = _loop_partners(far)
            for m in _matchings(len(far)):
                mate = [0] * len(far)
                for a, b in m:
                    mate[a], mate[b] = b, a
                seen = [False] * len(far)
                joined = list(rest)
                for s in range(len(far)):
                    if seen[s] or far[s] is None:
                        continue
                    seen[s] = True
                    t = mate[s]
                    while far[t] is None:
                        seen[t] = True
                        t2 = partner[t]
                        seen[t2] = True
                        t = mate[t2]
                    seen[t] = True
                    a, b = far[s], far[t]
                    joined.append((a, b) if a <= b else (b, a))
                cycles = 0
                for s in range(len(far)):
                    if not seen[s]:  # a closed index cycle through self-loops only
                        cycles += 1
                        t = s
                        while not seen[t]:
                            seen[t] = True
                            t2 = partner[t]
                            seen[t2] = True
                            t = mate[t2]
                _merge(new, tuple(sorted(joined)), cyc, cycles)
        states = new
    return states, norm


def _loop_partners(far):
    """Self-loop slots come in consecutive pairs (``far`` is None for both)."""
    partner = [None] * len(far)
    k = 0
    while k < len(far):
        if far[k] is None:
            partner[k], partner[k + 1] = k + 1, k
            k += 2
        else:
            k += 1
    return partner


def _merge(new, edges, cyc, extra):
    d = new.setdefault(edges, {})
    for c, k in cyc.items():
        d[c + extra] = d.get(c + extra, 0) + k


def on_weight_open(
    n_vertices: int, edges: Sequence[tuple[int, int]], legs: Sequence[int], n_comp: int | str = "N"
) -> Fraction | NPoly:
    """O(N) factor ``c`` of a graph whose vertices carry external legs set to a uniform field.

    ``edges``: internal index lines ``(i, j)``; ``legs[i]``: external legs ``phi_a`` at vertex
    ``i``.  Every vertex carries the symmetric tensor of its ``(phi.phi)^m``; contracting the
    graph with a uniform ``phi_a`` on every external leg gives ``c (phi.phi)^(sum legs / 2)``.
    Returns ``c`` as an :class:`NPoly` (``n_comp="N"``) or its value at an integer N (1 at N = 1).
    """
    ends = []
    k = n_vertices
    for i, m in enumerate(legs):
        for _ in range(m):
            ends.append((i, k))
            k += 1
    all_edges = tuple(sorted([(min(i, j), max(i, j)) for i, j in edges] + ends))
    return _weight_value(_index_weight(k, all_edges, n_vertices), n_comp)


def _weight_value(weight, n_comp):
    """The weight ``{c: w_c}`` at ``N = n_comp`` (a Fraction) or as an :class:`NPoly` (``"N"``)."""
    if isinstance(n_comp, int):
        return sum((w * n_comp**c for c, w in weight.items()), Fraction(0))
    return NPoly.from_powers(weight)


def on_weight(graph_edges: Sequence[tuple[int, int]], n_vertices: int, n_comp: int | str = "N") -> Fraction | NPoly:
    """The O(N) weight of a graph given as ``(i, j)`` index lines on ``n_vertices`` vertices.

    Returns an :class:`NPoly` (``n_comp="N"``) or its value at an integer ``N``; equals 1 at
    ``N = 1`` for every graph.  See :func:`_index_weight`.
    """
    edges = tuple(sorted((min(i, j), max(i, j)) for i, j in graph_edges))
    return _weight_value(_index_weight(n_vertices, edges), n_comp)


def _degree_runs(verts, n_op):
    """``[(start, end), ...]``: the runs of consecutive interaction vertices (after the
    ``n_op`` operator vertices) with equal degree, the classes a relabelling may permute."""
    runs, k, n = [], n_op, len(verts)
    while k < n:
        e = k
        while e < n and verts[e].degree == verts[k].degree:
            e += 1
        runs.append((k, e))
        k = e
    return runs


def _count_classes(verts, n_op, fixed):
    """Linked complete multigraphs up to isomorphism with their Wick-matching counts.

    Returns ``{adj: N}`` with ``adj`` the flattened upper triangle (diagonal = self-loops)
    of one representative per isomorphism class, the operator vertices ``0..n_op-1`` held
    fixed and interaction vertices of equal degree interchangeable; ``N`` sums the number of
    perfect leg matchings over every labelled graph of the class.

    Matchings are built one vertex at a time: the first vertex of the canonical
    representative with free legs has all of them matched at once, to ``a_v`` free legs of
    each other vertex ``v`` and ``s`` pairs among themselves, in
    ``r! / (prod_v a_v! s! 2^s) * prod_v f_v! / (f_v - a_v)!`` ways.  Partial states that are
    isomorphic have the same number of completions into every final class, so they are
    merged (summing their counts) after canonical relabelling; a partial state with a closed
    component that is not everything is dropped (it can only end disconnected).
    """
    n = len(verts)
    self_ok = [not (v.amp or v.normal_ordered) for v in verts]
    classes = _degree_runs(verts, n_op)
    cls_of = [-1 - i for i in range(n_op)] + [0] * (n - n_op)
    for ci, (a, b) in enumerate(classes):
        for v in range(a, b):
            cls_of[v] = ci
    fixed_nb = [[] for _ in range(n)]
    for i, j, _ in fixed:
        fixed_nb[i].append(j)
        fixed_nb[j].append(i)
    tri = [[0] * n for _ in range(n)]
    pos = 0
    for i in range(n):
        for j in range(i, n):
            tri[i][j] = tri[j][i] = pos
            pos += 1
    fact = [math.factorial(i) for i in range(max(v.degree for v in verts) + 1)]
    free0 = tuple(v.degree for v in verts)
    start = (free0, (0,) * (n * (n + 1) // 2))
    buckets = {sum(free0): {start: 1}}
    done: dict = {}
    while buckets:
        level = max(buckets)
        states = buckets.pop(level)
        for (free, adj), count in states.items():
            u = next(i for i in range(n) if free[i])
            r = free[u]
            others = [v for v in range(n) if v != u and free[v]]
            caps = [free[v] for v in others]
            max_self = r // 2 if self_ok[u] else 0
            for s in range(max_self + 1):
                left = r - 2 * s
                if left > sum(caps):
                    continue
                base = count * fact[r] // (fact[s] * (1 << s))
                for comp in _compositions(left, caps):
                    mult = base
                    nf = list(free)
                    na = list(adj)
                    nf[u] = 0
                    if s:
                        na[tri[u][u]] += s
                    for v, x in zip(others, comp):
                        if x:
                            f = free[v]
                            mult = mult * fact[f] // (fact[x] * fact[f - x])
                            nf[v] = f - x
                            na[tri[u][v]] += x
                    if not _may_link(n, u, nf, na, tri, fixed_nb):
                        continue
                    total = level - r - left
                    state = _canonical_state(n, n_op, classes, cls_of, nf, na, tri)
                    if total == 0:
                        done[state[1]] = done.get(state[1], 0) + mult
                    else:
                        b = buckets.setdefault(total, {})
                        b[state] = b.get(state, 0) + mult
    return done


def _may_link(n, u, free, adj, tri, fixed_nb):
    """False when the component of ``u`` is closed (no free legs) but not the whole graph."""
    seen = [False] * n
    seen[u] = True
    stack = [u]
    open_legs = False
    size = 0
    while stack:
        a = stack.pop()
        size += 1
        if free[a]:
            open_legs = True
        for b in range(n):
            if not seen[b] and (adj[tri[a][b]] or b in fixed_nb[a]):
                seen[b] = True
                stack.append(b)
    return open_legs or size == n


def _canonical_state(n, n_op, classes, cls_of, free, adj, tri):
    """Canonical ``(free, adj)`` under permutations of equal-degree interaction vertices.

    Vertices are sorted within their class by an isomorphism invariant (free legs,
    self-loops, lines to each operator vertex, then the multiset of neighbours' invariants);
    the lexicographically smallest encoding over the orderings of equal-invariant cells is
    the representative.
    """
    if not classes:
        return tuple(free), tuple(adj)
    inter = range(n_op, n)
    inv1 = {}
    for v in inter:
        row = [adj[tri[v][w]] for w in range(n)]
        inv1[v] = (
            free[v],
            row[v],
            tuple(row[:n_op]),
            tuple(sorted((cls_of[w], row[w]) for w in inter if w != v and row[w])),
        )
    inv2 = {
        v: (inv1[v], tuple(sorted((inv1[w], adj[tri[v][w]]) for w in inter if w != v and adj[tri[v][w]])))
        for v in inter
    }
    cells = []
    for a, b in classes:
        members = sorted(range(a, b), key=lambda v: inv2[v])
        i = 0
        while i < len(members):
            j = i + 1
            while j < len(members) and inv2[members[j]] == inv2[members[i]]:
                j += 1
            cells.append(members[i:j])
            i = j
    head = list(range(n_op))
    best = None
    for choice in iproduct(*[itertools.permutations(c) if len(c) > 1 else (tuple(c),) for c in cells]):
        order = head + [v for part in choice for v in part]
        key = (
            tuple(free[v] for v in order),
            tuple(adj[tri[order[i]][order[j]]] for i in range(n) for j in range(i, n)),
        )
        if best is None or key < best:
            best = key
    return best


@dataclass(frozen=True)
class _Graph:
    """A linked labelled multigraph with its weight (internal to the engine)."""

    term: OperatorTerm
    powers: tuple
    k: int  # number of interaction vertices
    verts: tuple
    adj: dict  # (i, j) -> multiplicity, i <= j
    weight: Fraction  # (-1)^k prod (1/n!)^c_n / c_n!  x  #Wick matchings


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
    n_weight : Fraction or NPoly
        O(N) index weight (:func:`on_weight`): 1 for ``N = 1``, a polynomial in ``N`` for
        symbolic ``N``, its value for an integer ``N``; already included in ``coeff`` and
        ``weight``.
    """

    vertices: tuple
    edges: tuple
    coeff: Fraction
    weight: Fraction
    powers: tuple
    family: object
    n_weight: object = 1


def diagrams(operator: Operator, theory: Theory, order: int, scheme: str = "bare") -> list:
    """The individual linked diagrams of ``<operator>`` through ``order``, with weights.

    Same enumeration as :func:`expand` (isomorphism classes of linked multigraphs with their
    Wick-matching counts), grouped by a canonical form under permutations of the
    interaction vertices instead of by family.  For a
    connected vacuum diagram of phi^n vertices ``weight = 1/|Aut(G)|`` (vertex permutations,
    multi-edge permutations and self-loop flips), the textbook symmetry factor.
    """
    order = _validate_order(order)
    scheme = validate_scheme(scheme)
    no = scheme == "normal-ordered"
    groups: dict = {}
    for term in operator.terms:
        op_order = sum(term.powers)
        if op_order > order:
            continue
        for counts, w_int in _interaction_multisets(theory, order - op_order):
            verts = list(term.vertices)
            for (deg, _), c in zip(theory.couplings, counts):
                verts += [OpVertex(deg, normal_ordered=no)] * c
            if not verts or sum(v.degree for v in verts) % 2:
                continue
            verts = tuple(verts)
            n = len(verts)
            powers = tuple(p + c for p, c in zip(term.powers, counts))
            sign = (-1) ** sum(counts)
            for flat, n_match in _count_classes(verts, len(term.vertices), term.fixed).items():
                adj, pos = {}, 0
                for i in range(n):
                    for j in range(i, n):
                        if flat[pos]:
                            adj[(i, j)] = flat[pos]
                        pos += 1
                kinds = {ij: _contraction_kind(verts, *ij) for ij in adj}
                key = _canonical_labelled(verts, len(term.vertices), adj, kinds, term.fixed)
                n_w = 1
                if theory.N != 1:
                    n_w = _weight_value(_index_weight(n, _index_edges(n, flat, term.fixed)), theory.N)
                weight = w_int * n_match * n_w
                acc = groups.setdefault((powers, key, verts), [Fraction(0), Fraction(0), (term, adj), n_w])
                acc[0] += term.coeff * weight
                acc[1] += weight * sign
    out = []
    for (powers, key, verts), (coeff, weight, (term, adj), n_w) in groups.items():
        g = _Graph(term, powers, 0, verts, adj, weight)
        edges, ident = _raw_lines(g)
        out.append(Diagram(verts, key, coeff, weight, powers, reduce_graph(len(verts), edges, ident), n_w))
    out.sort(key=lambda d: (sum(d.powers), d.family.name, d.edges))
    return out


def _canonical_labelled(verts, n_op, adj, kinds, fixed):
    """Canonical edge list under permutations of interaction vertices of equal degree.

    The smallest sorted tuple of ``(min, max, kind, multiplicity)`` over those permutations;
    entries are compared as order-preserving integer codes (same minimum, faster).
    """
    n = len(verts)
    items = [(i, j, kinds[(i, j)], c) for (i, j), c in adj.items()]
    items += [(i, j, line.label, 1) for i, j, line in fixed]
    if not items:
        return ()
    labels = sorted({k for _, _, k, _ in items})
    rank = {k: r for r, k in enumerate(labels)}
    n_k = len(labels)
    n_c = max(c for *_, c in items) + 1
    coded = [(i, j, rank[k] * n_c + c) for i, j, k, c in items]
    pair = [[(min(a, b) * n + max(a, b)) * n_k * n_c for b in range(n)] for a in range(n)]
    blocks = [range(a, b) for a, b in _degree_runs(verts, n_op)]
    best = None
    for choice in iproduct(*[itertools.permutations(b) for b in blocks]):
        mp = list(range(n_op)) + [v for part in choice for v in part]
        cand = sorted([pair[mp[i]][mp[j]] + r for i, j, r in coded])
        if best is None or cand < best:
            best = cand
    out = []
    for code in best:
        q, r = divmod(code, n_k * n_c)
        out.append((q // n, q % n, labels[r // n_c], r % n_c))
    return tuple(sorted(out))
