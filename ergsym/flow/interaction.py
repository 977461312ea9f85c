"""The effective interaction ``V_Lambda = S_int,Lambda`` to O(lam^2) and its check against (2.4).

Cotler & Rezchikov, PRD 108, 025003, eq. (2.4); docs/flow.md:

.. math:: -\\Lambda\\partial_\\Lambda V = \\tfrac12\\int d^dp\\,\\dot C(p)\\Big\\{
          \\frac{\\delta^2 V}{\\delta\\phi(p)\\delta\\phi(-p)}
          - \\frac{\\delta V}{\\delta\\phi(p)}\\frac{\\delta V}{\\delta\\phi(-p)}\\Big\\},

solved from ``V_Lambda0 = (lam/4!) int phi^4`` by the Gaussian convolution with
``Delta = Kt_Lambda0 - Kt_Lambda`` (:mod:`ergsym.flow.diagrams`).  Each term of ``V_Lambda`` is

.. math:: c\\,\\lambda^n \\sum_{x_0..x_{n-1}} \\prod_{e} \\Delta(x_i - x_j)
          \\prod_i \\phi(x_i)^{k_i}

(an :class:`EffTerm`): ``n`` local vertices, internal ``Delta`` lines forming a connected
graph, ``k_i`` external legs at vertex ``i``.  Through O(lam^2) these are the constant
(vacuum) terms, the mass term ``(lam/4) Delta(0) phi^2``, the local ``phi^4`` vertex, the
one-loop bubble ``phi^2 Delta^2 phi^2`` (the momentum-dependent quartic correction), the tree
``phi^3 Delta phi^3`` (the phi^6 vertex), the sunset ``phi Delta^3 phi`` and tadpole-dressed
terms -- derived by enumeration, not transcribed.

Verification: :func:`polchinski_residual` substitutes the series into (2.4) symbolically
(graph algebra: ``Lambda d/dLambda Delta = -D``, ``Cdot = D`` joining legs) and returns
the terms that do not cancel (none, order by order; tests/test_flow_interaction.py).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING

from ..families import Line, reduce_graph
from ..symbolic.series import Series
from ..symbolic.theory import PHI4
from ..symbolic.wick import adjacencies as _adjacencies
from ..symbolic.wick import connected as _connected_pairs
from .diagrams import cluster_weight, validate_order

if TYPE_CHECKING:
    from ..families import Family
    from ..symbolic.npoly import NPoly

__all__ = [
    "EffTerm",
    "effective_interaction",
    "polchinski_residual",
    "running_couplings",
    "vertex_function_terms",
    "describe_term",
]

_KIND_LINE = {"Delta": Line(0, 0, 1), "D": Line(0, 1, 0)}


def _canonical(n, legs, edges):
    best = None
    for perm in itertools.permutations(range(n)):
        inv_legs = [0] * n
        for i in range(n):
            inv_legs[perm[i]] = legs[i]
        es = tuple(sorted((min(perm[i], perm[j]), max(perm[i], perm[j]), k) for i, j, k in edges))
        cand = (tuple(inv_legs), es)
        if best is None or cand < best:
            best = cand
    return (n,) + best


@dataclass(frozen=True)
class EffTerm:
    """``coeff * lam**power * sum_x prod_e Line_e(x_i - x_j) prod_i phi(x_i)**legs[i]``.

    Attributes
    ----------
    coeff : Fraction
    power : int
        Power of ``lam``.
    n_vertices : int
    legs : tuple of int
        External ``phi`` legs per vertex.
    edges : tuple of (i, j, kind)
        ``kind`` is ``"Delta"`` (``Kt_Lambda0 - Kt_Lambda``) or ``"D"`` (``Lambda dKt/dLambda``,
        appears only in the substitution check).
    """

    coeff: Fraction
    power: int
    n_vertices: int
    legs: tuple
    edges: tuple

    @property
    def key(self) -> tuple:
        return _canonical(self.n_vertices, self.legs, self.edges)

    @property
    def n_legs(self) -> int:
        return sum(self.legs)

    def family(self) -> Family:
        """The zero-momentum value of the graph (all ``phi = 1``) per volume, as a Family."""
        return reduce_graph(self.n_vertices, [(i, j, _KIND_LINE[k]) for i, j, k in self.edges])

    def on_factor(self, n_comp: int | str = "N") -> Fraction | NPoly:
        """O(N) factor of the term for a uniform field (``(lam/4!)(phi_a phi_a)^2`` vertices).

        With every external leg set to one field ``phi_a``, the term's index contraction is
        ``c (phi.phi)^(n_legs/2)``: ``c`` is computed by contracting the vertex tensors along
        the ``Delta`` lines (:func:`ergsym.symbolic.wick.on_weight_open`), 1 at ``N = 1``;
        an :class:`~ergsym.symbolic.npoly.NPoly` for ``n_comp="N"``.
        """
        from ..symbolic.wick import on_weight_open  # noqa: PLC0415

        return on_weight_open(self.n_vertices, [(i, j) for i, j, _ in self.edges], self.legs, n_comp)

    def on_structure(self, n_comp: int | str = "N") -> dict:
        """The term's O(N) index structure: ``{pairs: c}`` with ``sum c prod (phi(x_i).phi(x_j))``.

        Every vertex carries the symmetric tensor of ``(phi.phi)^2`` and every ``Delta`` line
        ``delta_ab`` (as for :meth:`on_factor`); contracting them leaves the external legs
        paired into the invariants ``phi(x_i).phi(x_j)``.  ``pairs`` is the sorted tuple of
        ``(i, j)`` (``i <= j``), ``c`` a Fraction (integer ``n_comp``) or an
        :class:`~ergsym.symbolic.npoly.NPoly` (``"N"``).  The ``c`` sum to :meth:`on_factor`;
        at ``N = 1`` they sum to 1.
        """
        from ..symbolic.wick import _index_states, _weight_value  # noqa: PLC0415

        n = self.n_vertices
        ends, owner = [], []
        for i, m in enumerate(self.legs):
            for _ in range(m):
                ends.append((i, n + len(owner)))
                owner.append(i)
        lines = tuple(sorted([(min(i, j), max(i, j)) for i, j, _ in self.edges] + ends))
        states, norm = _index_states(n + len(owner), lines, n)
        acc: dict = {}
        for left, cycles in states.items():
            pairs = tuple(sorted(tuple(sorted((owner[u - n], owner[w - n]))) for u, w in left))
            d = acc.setdefault(pairs, {})
            for c, k in cycles.items():
                d[c] = d.get(c, 0) + Fraction(k, norm)
        out = {p: _weight_value(w, n_comp) for p, w in sorted(acc.items())}
        return {p: c for p, c in out.items() if c}

    def to_dict(self, n_comp: int | str = 1) -> dict:
        """Plain data; with ``n_comp != 1`` also the O(N) index structure (:meth:`on_structure`)."""
        out = {
            "coefficient": str(self.coeff),
            "power": self.power,
            "n_vertices": self.n_vertices,
            "legs": list(self.legs),
            "edges": [[i, j, k] for i, j, k in self.edges],
            "description": describe_term(self),
        }
        if n_comp != 1:
            out["on_factor"] = str(self.on_factor(n_comp))
            out["on_structure"] = [
                {"coefficient": str(c), "fields": _fields_text(p)} for p, c in self.on_structure(n_comp).items()
            ]
            out["description_on"] = describe_term(self, n_comp)
        return out


def _fields_text(pairs) -> str:
    """``(phi(x0).phi(x1))^2 (phi(x2).phi(x2))`` for the pairs ``((0, 1), (0, 1), (2, 2))``."""
    counts: dict = {}
    for p in pairs:
        counts[p] = counts.get(p, 0) + 1
    return " ".join(f"(phi(x{i}).phi(x{j}))" + (f"^{c}" if c > 1 else "") for (i, j), c in counts.items()) or "1"


def describe_term(t: EffTerm, n_comp: int | str = 1) -> str:
    """Position-space formula of a term, e.g. ``sum_{x0,x1} Delta(x0-x1)^2 phi(x0)^2 phi(x1)^2``.

    With ``n_comp != 1`` (O(N) model) the field legs are written as their index structure
    (:meth:`EffTerm.on_structure`), e.g. for the one-loop bubble with ``n_comp="N"``:
    ``sum_{x0,x1} Delta(x0-x1)^2 [(N/9 + 4/9) (phi(x0).phi(x0)) (phi(x1).phi(x1)) + (4/9) (phi(x0).phi(x1))^2]``.
    """
    xs = ",".join(f"x{i}" for i in range(t.n_vertices))
    parts = []
    counts = {}
    for i, j, k in t.edges:
        counts[(i, j, k)] = counts.get((i, j, k), 0) + 1
    for (i, j, k), c in sorted(counts.items()):
        arg = "0" if i == j else f"x{i}-x{j}"
        parts.append(f"{k}({arg})" + (f"^{c}" if c > 1 else ""))
    if n_comp != 1:
        if t.n_legs:
            struct = t.on_structure(n_comp)
            body = " + ".join(_fields_text(p) if c == 1 else f"({c}) {_fields_text(p)}" for p, c in struct.items())
            parts.append(f"[{body}]")
        else:
            parts.append(f"[{t.on_factor(n_comp)}]")
        return f"sum_{{{xs}}} " + " ".join(parts)
    for i, kk in enumerate(t.legs):
        if kk:
            parts.append(f"phi(x{i})" + (f"^{kk}" if kk > 1 else ""))
    return f"sum_{{{xs}}} " + " ".join(parts) if parts else f"sum_{{{xs}}} 1"


def _collect(pairs):
    """Sum ``(coeff, power, n, legs, edges)`` over canonical keys -> tuple of EffTerm."""
    acc = {}
    for c, p, n, legs, edges in pairs:
        key = (p, _canonical(n, legs, edges))
        acc[key] = acc.get(key, 0) + c
    out = []
    for (p, (n, legs, edges)), c in sorted(acc.items(), key=lambda kv: (kv[0][0], sum(kv[0][1][1]), kv[0][1])):
        if c:
            out.append(EffTerm(Fraction(c), p, n, legs, edges))
    return tuple(out)


@lru_cache(maxsize=8)
def effective_interaction(order: int = 2) -> tuple:
    """The flowed interaction ``V_Lambda`` through ``lam**order`` as a tuple of :class:`EffTerm`.

    Derived from the cumulant expansion of the Gaussian convolution (docs/flow.md):
    ``n`` phi^4 vertices (weight ``(-1)^{n+1}/n! (1/4!)^n``), every choice of external legs
    (``C(4, k)`` per vertex), every ``Delta``-connected matching of the other legs.

    Parameters
    ----------
    order : int
        0..3 (0 gives the empty tuple: ``V = 0`` at ``lam = 0``).

    Returns
    -------
    tuple of EffTerm
        Canonical, with exact coefficients.

    Examples
    --------
    >>> from ergsym.flow import effective_interaction, describe_term
    >>> for t in effective_interaction(1):
    ...     print(t.coeff, describe_term(t))
    1/8 sum_{x0} Delta(0)^2
    1/4 sum_{x0} Delta(0) phi(x0)^2
    1/24 sum_{x0} phi(x0)^4
    """
    order = validate_order(order)
    raw = []
    for n in range(1, order + 1):
        w_n = cluster_weight(n, False)
        for legs in itertools.product(range(5), repeat=n):
            internal = [4 - k for k in legs]
            if sum(internal) % 2:
                continue
            if n > 1 and any(d == 0 for d in internal):
                continue
            pre = w_n
            for k in legs:
                pre *= math.comb(4, k)
            num = 1
            for d in internal:
                num *= math.factorial(d)
            for adj in _adjacencies(internal, [True] * n):
                if not _connected_pairs(n, list(adj)):
                    continue
                den = 1
                edges = []
                for (i, j), c in adj.items():
                    den *= math.factorial(c) * (2**c if i == j else 1)
                    edges += [(i, j, "Delta")] * c
                raw.append((pre * Fraction(num, den), n, n, tuple(legs), tuple(edges)))
    return _collect(raw)


# ---------------------------------------------------------------------------
# substitution into (2.4)
# ---------------------------------------------------------------------------


def _lhs(terms):
    """``-Lambda dV/dLambda``: each ``Delta`` line in turn becomes ``-D``; overall minus."""
    out = []
    for t in terms:
        for e_idx, (i, j, k) in enumerate(t.edges):
            if k != "Delta":
                continue
            edges = list(t.edges)
            edges[e_idx] = (i, j, "D")
            out.append((t.coeff, t.power, t.n_vertices, t.legs, tuple(edges)))
    return out


def _rhs(terms, order):
    """``1/2 tr(Cdot d^2V) - 1/2 Cdot dV dV`` as raw graph terms (``Cdot -> D`` line)."""
    out = []
    for t in terms:
        n, legs = t.n_vertices, t.legs
        for i in range(n):
            if legs[i] >= 2:  # both derivatives at vertex i: D(0) self-line
                nl = list(legs)
                nl[i] -= 2
                c = t.coeff * Fraction(legs[i] * (legs[i] - 1), 2)
                out.append((c, t.power, n, tuple(nl), t.edges + ((i, i, "D"),)))
            for j in range(i + 1, n):
                if legs[i] and legs[j]:
                    nl = list(legs)
                    nl[i] -= 1
                    nl[j] -= 1
                    c = t.coeff * legs[i] * legs[j]  # 1/2 * 2 orderings
                    out.append((c, t.power, n, tuple(nl), t.edges + ((i, j, "D"),)))
    for t1 in terms:
        for t2 in terms:
            if t1.power + t2.power > order:
                continue
            n1 = t1.n_vertices
            for i in range(n1):
                for j in range(t2.n_vertices):
                    if not (t1.legs[i] and t2.legs[j]):
                        continue
                    legs = list(t1.legs) + list(t2.legs)
                    legs[i] -= 1
                    legs[n1 + j] -= 1
                    edges = t1.edges + tuple((a + n1, b + n1, k) for a, b, k in t2.edges) + ((i, n1 + j, "D"),)
                    c = -Fraction(1, 2) * t1.coeff * t2.coeff * t1.legs[i] * t2.legs[j]
                    out.append((c, t1.power + t2.power, n1 + t2.n_vertices, tuple(legs), edges))
    return out


def polchinski_residual(order: int = 2, terms: tuple[EffTerm, ...] | None = None) -> tuple:
    """LHS minus RHS of (2.4) for the derived ``V_Lambda``, through ``lam**order``.

    Parameters
    ----------
    order : int
    terms : tuple of EffTerm, optional
        Defaults to :func:`effective_interaction` ``(order)``; pass a modified series to see
        the check fail.

    Returns
    -------
    tuple of EffTerm
        The graphs whose coefficients do not cancel (empty when (2.4) holds exactly).
    """
    order = validate_order(order)
    terms = effective_interaction(order) if terms is None else tuple(terms)
    raw = _lhs(terms) + [(-c, p, n, l, e) for c, p, n, l, e in _rhs(terms, order)]
    return tuple(t for t in _collect(raw) if t.power <= order)


# ---------------------------------------------------------------------------
# local couplings
# ---------------------------------------------------------------------------


def vertex_function_terms(n_legs: int, order: int = 2) -> tuple:
    """Terms of ``V_Lambda`` with ``n_legs`` external legs."""
    return tuple(t for t in effective_interaction(order) if t.n_legs == n_legs)


@lru_cache(maxsize=16)
def running_couplings(order: int = 2, N: int | str = 1) -> dict:
    """Zero-momentum couplings of ``V_Lambda`` as series in families of ``Delta``.

    With ``V_Lambda = sum_n (1/n!) int v_n phi^n``, the uniform-field value gives
    ``v_n(0) = n! sum_{terms with n legs} coeff * (graph value per volume)``.
    O(N) models (``N`` an integer or ``"N"``; ``V_Lambda0 = (lam/4!)(phi.phi)^2``):
    ``V_Lambda = sum_n (1/n!) v_n (phi.phi)^(n/2)`` for a uniform field, each term weighted by its
    O(N) factor :meth:`EffTerm.on_factor` (e.g. ``(N+8)/9`` for the one-loop bubble of ``v_4``,
    ``(N+2)/3`` for the tadpole of ``v_2``); ``N = 1`` is the single scalar:

    * ``"vacuum"``: ``v_0`` per volume (the constant);
    * ``"m2"``: ``v_2(0)``, the mass shift (``m^2_Lambda = m^2 + v_2(0)``);
    * ``"lam"``: ``v_4(0)``, the quartic at zero momentum (``lam`` at ``Lambda0``);
    * ``"g6"``: ``v_6(0)``.

    Returns
    -------
    dict of str -> Series
        Per-site series in ``lam`` with families of ``Delta`` lines (docs/flow.md).
    """
    from ..symbolic.theory import Theory  # noqa: PLC0415

    order = validate_order(order)
    theory = PHI4 if N == 1 else Theory(PHI4.couplings, N)
    out = {}
    for name, n_legs in (("vacuum", 0), ("m2", 2), ("lam", 4), ("g6", 6)):
        acc = {}
        for t in vertex_function_terms(n_legs, order):
            key = ((t.power,), t.family())
            c = t.coeff * math.factorial(n_legs)
            if theory.N != 1:
                c = c * t.on_factor(theory.N)
            acc[key] = acc.get(key, 0) + c
        out[name] = Series.from_dict(
            name,
            theory,
            "bare",
            order,
            acc,
            normalization="per-site",
            provenance="ergsym.flow.interaction.running_couplings (zero-momentum vertices of V_Lambda)",
        )
    return out
