"""Diagram enumeration along the Polchinski flow (Cotler & Rezchikov, PRD 108, 025003, eqs. (2.4), (2.7); docs/flow.md).

The flowed interaction is the Gaussian convolution (docs/flow.md)

.. math:: e^{-V_\\Lambda(\\phi)} = \\int d\\mu_\\Delta(\\chi)\\, e^{-V_0(\\phi+\\chi)},\\qquad
          \\Delta = C_{\\Lambda_0} - C_\\Lambda = \\tilde K_{\\Lambda_0} - \\tilde K_\\Lambda ,

with ``V_0 = (lam/4!) sum_x phi^4``.  Its cumulant expansion in ``chi`` is

.. math:: V_\\Lambda = \\sum_{n\\ge 1} \\frac{(-1)^{n+1}}{n!}\\,\\kappa_n(V_0,\\dots,V_0),\\qquad
          \\partial_x V_\\Lambda = \\sum_{n\\ge1}\\frac{(-1)^{n+1}}{(n-1)!}\\,
          \\kappa_n(\\partial_x V_0, V_0,\\dots,V_0),

i.e. *clusters*: ``n`` local vertices joined into one connected graph by ``Delta`` lines, the
remaining legs being the field ``phi`` (docs/flow.md's "super-vertices").

Expectations under ``P_Lambda ∝ exp(-Shat_Lambda - V_Lambda)`` use the exact joint
representation: with ``phi ~ N(0, G)``, ``G = Kt_Lambda``, and independent ``chi ~ N(0, Delta)``,
``<O(phi)>_Lambda = E[O(phi) e^{-V_0(phi+chi)}] / E[e^{-V_0(phi+chi)}]`` (integrate ``phi`` out
of the joint law: ``G + Delta = Kt_Lambda0``).  So the measure contributes ordinary local
phi^4 vertices on ``psi = phi + chi`` and the operator contributes clusters (each with its own
independent replica ``chi_r``).  Contraction rules for a pair of legs:

=====================================  =================================
legs                                   line
=====================================  =================================
measure--measure                       ``G`` or ``Delta`` (``<psi psi>``)
cluster r--cluster r                   ``G`` or ``Delta`` (``phi + chi_r``)
any other pair of field legs           ``G``
amputated ``(G^-1 phi)`` -- field leg  the two vertices coincide
amputated -- amputated                 ``G^-1``
=====================================  =================================

with the constraints that each cluster is connected by its own ``Delta`` lines (cumulant) and
the whole diagram is linked to the operator (linked-cluster theorem).  Matchings are counted
with the formula of :mod:`ergsym.symbolic.wick` refined by line type:
``prod_i deg_i! / prod_{pairs, types} a! prod_self 2^a``.

Everything is integers, ``Fraction`` and tuples.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from ..errors import InputError, OrderNotSupportedError
from ..families import Line, reduce_graph
from ..symbolic.wick import adjacencies as _adjacencies
from ..symbolic.wick import connected as _connected
from ..symbolic.wick import on_weight as _on_weight

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from ..symbolic.npoly import NPoly

__all__ = [
    "FVertex",
    "FTerm",
    "expand_flow",
    "MAX_FLOW_ORDER",
    "G_LINE",
    "DELTA_LINE",
    "D_LINE",
    "GINV_LINE",
    "validate_order",
]

#: Highest order in lam the flow machinery accepts.
MAX_FLOW_ORDER = 3

G_LINE = Line(1, 0, 0)
DELTA_LINE = Line(0, 0, 1)
D_LINE = Line(0, 1, 0)
GINV_LINE = Line(-1, 0, 0)


def validate_order(order: int, max_order: int = MAX_FLOW_ORDER) -> int:
    """``order`` as an int in ``0..max_order`` or raise (:class:`OrderNotSupportedError`)."""
    if isinstance(order, bool) or not isinstance(order, int) or order < 0:
        raise InputError.bad("order", order, f"an integer from 0 to {max_order}")
    if order > max_order:
        raise OrderNotSupportedError(
            f"order={order} is not supported: order must be at most {max_order} for the flow "
            "(the effective interaction is derived through O(lam^2) as the design card asks; "
            "request order 0, 1 or 2)"
        )
    return order


@dataclass(frozen=True)
class FVertex:
    """A local vertex of a flow diagram.

    Attributes
    ----------
    degree : int
        Number of legs.
    group : str or int
        ``"op"`` (plain operator vertex, legs are ``phi``), ``"meas"`` (measure vertex, legs
        are ``psi = phi + chi``) or an int ``r`` (vertex of cluster ``r``, legs
        ``phi + chi_r``).
    amp : bool
        The single leg is amputated, ``(G^-1 phi)_x``.
    """

    degree: int
    group: object = "op"
    amp: bool = False


@dataclass(frozen=True)
class FTerm:
    """``coeff * lam**power * sum_{x...} prod fixed lines * (vertices)`` of an operator."""

    coeff: Fraction
    power: int
    vertices: tuple
    fixed: tuple = ()


def _pair_types(vi: FVertex, vj: FVertex):
    """Allowed line kinds between legs of ``vi`` and ``vj`` (see module table)."""
    if vi.amp and vj.amp:
        return ("ginv",)
    if vi.amp or vj.amp:
        return ("ident",)
    if vi.group == vj.group and vi.group != "op":
        return ("G", "Delta")
    return ("G",)


def _clusters_connected(verts, delta_pairs):
    groups = {}
    for k, v in enumerate(verts):
        if isinstance(v.group, int):
            groups.setdefault(v.group, []).append(k)
    for members in groups.values():
        if len(members) < 2:
            continue
        idx = {m: a for a, m in enumerate(members)}
        pairs = [(idx[i], idx[j]) for i, j in delta_pairs if i in idx and j in idx]
        if not _connected(len(members), pairs):
            return False
    return True


def diagrams(
    verts: Sequence[FVertex], fixed: Sequence[tuple[int, int, Line]] = (), n_comp: int | str = 1
) -> Iterator[tuple[Fraction | NPoly, list[tuple[int, int, Line]], list[tuple[int, int]]]]:
    """Yield ``(weight, edges, identify)`` for every typed labelled multigraph of ``verts``.

    ``weight`` is the exact number of leg matchings (with line types) giving the graph; the
    diagrams are linked (connected with the fixed lines and identifications) and every cluster
    is ``Delta``-connected.  Measure/cluster weights are *not* included.

    With ``n_comp`` field components (an int, or ``"N"`` for a polynomial in N) the weight is
    multiplied by the graph's O(N) index weight (:func:`ergsym.symbolic.wick.on_weight`): every
    vertex carries the symmetric tensor of its ``(phi.phi)^m`` (a measure or cluster vertex of
    ``(psi.psi)^2``; the root of ``d_a V`` with its open index ``a`` as the end of the ``Cdot``
    line; ``(G^-1 phi)_a`` of ``d_a Shat``: ``delta_ab``), every contraction (``G``, ``Delta``,
    ``G^-1`` or an identification) and every fixed line carries ``delta_ab``.  The weight
    depends on the multigraph only, not on the line types; it is 1 at ``N = 1``.
    """
    n = len(verts)
    degrees = [v.degree for v in verts]
    if sum(degrees) % 2:
        return
    self_ok = [not v.amp for v in verts]
    num = 1
    for dg in degrees:
        num *= math.factorial(dg)
    fixed_pairs = [(i, j) for i, j, _ in fixed]
    for adj in _adjacencies(degrees, self_ok):
        if not _connected(n, list(adj) + fixed_pairs):
            continue
        items = sorted(adj.items())
        n_weight = 1
        if n_comp != 1:  # the index contraction of this multigraph (emerges; typed in nowhere)
            index_lines = [ij for ij, c in items for _ in range(c)] + fixed_pairs
            n_weight = _on_weight(index_lines, n, n_comp)
            if not n_weight:
                continue
        choices = []
        for (i, j), c in items:
            kinds = _pair_types(verts[i], verts[j])
            if len(kinds) == 1:
                choices.append([((kinds[0], c),)])
            else:
                choices.append([(("G", c - k), ("Delta", k)) for k in range(c + 1)])
        for choice in itertools.product(*choices):
            den = 1
            edges = list(fixed)
            ident = []
            delta_pairs = []
            for ((i, j), _c), split in zip(items, choice):
                for kind, a in split:
                    if not a:
                        continue
                    den *= math.factorial(a)
                    if i == j:
                        den *= 2**a
                    if kind == "G":
                        edges += [(i, j, G_LINE)] * a
                    elif kind == "Delta":
                        edges += [(i, j, DELTA_LINE)] * a
                        delta_pairs.append((i, j))
                    elif kind == "ginv":
                        edges += [(i, j, GINV_LINE)] * a
                    else:
                        ident.append((i, j))
            if not _clusters_connected(verts, delta_pairs):
                continue
            yield Fraction(num, den) * n_weight if n_comp != 1 else Fraction(num, den), edges, ident


def measure_weight(m: int) -> Fraction:
    """``(-1)^m / m! (1/4!)^m``: ``m`` measure vertices of ``exp(-V_0)``."""
    return Fraction((-1) ** m, math.factorial(m) * 24**m)


def expand_flow(terms: Iterable[FTerm], order: int, n_comp: int | str = 1) -> dict:
    """Expand ``<sum terms>_Lambda`` through ``lam**order``.

    Parameters
    ----------
    terms : iterable of FTerm
    order : int
    n_comp : int or "N"
        Number of field components of the O(N) model (:func:`diagrams`); the coefficients
        are ``Fraction`` for an integer, :class:`~ergsym.symbolic.npoly.NPoly` for ``"N"``.

    Returns
    -------
    dict
        ``{((power,), Family): Fraction}`` ready for :meth:`ergsym.symbolic.Series.from_dict`.
    """
    acc = {}
    for term in terms:
        if term.power > order:
            continue
        for m in range(order - term.power + 1):
            verts = list(term.vertices) + [FVertex(4, "meas")] * m
            if not verts:
                continue
            w0 = term.coeff * measure_weight(m)
            power = (term.power + m,)
            for w, edges, ident in diagrams(verts, term.fixed, n_comp):
                fam = reduce_graph(len(verts), edges, ident)
                key = (power, fam)
                acc[key] = acc.get(key, 0) + w0 * w
    return acc


# ---------------------------------------------------------------------------
# cluster factors
# ---------------------------------------------------------------------------


def cluster_weight(n: int, rooted: bool) -> Fraction:
    """Weight of an ``n``-vertex cluster of ``V_Lambda`` (``rooted``: of ``dV_Lambda/dphi``).

    ``(-1)^{n+1}/n! (1/4!)^n`` for ``V_Lambda``; ``(-1)^{n+1}/(n-1)! (1/3!)(1/4!)^{n-1}`` for
    its derivative (module docstring).
    """
    if rooted:
        return Fraction((-1) ** (n + 1), math.factorial(n - 1) * 6 * 24 ** (n - 1))
    return Fraction((-1) ** (n + 1), math.factorial(n) * 24**n)


def dv_factor(max_power: int, group: int) -> list[tuple[Fraction, int, tuple[FVertex, ...]]]:
    """``dV_Lambda/dphi_x`` as ``[(coeff, power, vertices)]``, root (at ``x``) first."""
    out = []
    for n in range(1, max_power + 1):
        verts = (FVertex(3, group),) + (FVertex(4, group),) * (n - 1)
        out.append((cluster_weight(n, True), n, verts))
    return out


def v_factor(max_power: int, group: int) -> list[tuple[Fraction, int, tuple[FVertex, ...]]]:
    """``V_Lambda`` (summed over positions) as ``[(coeff, power, vertices)]``."""
    return [(cluster_weight(n, False), n, (FVertex(4, group),) * n) for n in range(1, max_power + 1)]


def dshat_factor() -> list[tuple[Fraction, int, tuple[FVertex, ...]]]:
    """``dShat/dphi_x = (G^-1 phi)_x``: one amputated leg."""
    return [(Fraction(1), 0, (FVertex(1, "op", amp=True),))]
