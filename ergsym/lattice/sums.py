"""Exact lattice values of integral families (docs/conventions.md, "The lattice dictionary").

On a periodic lattice every family the engine emits is a finite sum, so a series evaluates
*exactly* (to float rounding) order by order -- no continuum extrapolation.  A block's value
follows the definition in :mod:`ergsym.families`::

    b = (1/V) sum_{x_0..x_{n-1}} prod_e m_e(x_i - x_j),   m_e = ifftn(F_e),
    F_e(p) = Kt_p^kt D_p^d

* ``loop``: ``(1/V) sum_p F(p)``;
* ``bridge``: ``F(p = 0)``;
* ``melon``: ``sum_r prod_e m_e(r)`` (FFT of a position-space product: the sunset is the
  transform of ``G(x)^3``);
* ``general``: parallel lines multiplied, one vertex pinned at the origin, at most a few
  vertices summed explicitly, trees eliminated by FFT convolutions and a remaining triangle
  summed in momentum space (K4-like blocks ``O(V^2)``, K5 ``O(V^3)``; memory and work
  estimated first, :data:`MAX_BYTES`, :data:`MAX_WORK`); see :func:`_general_block`.

The family value is ``V * b_outer * prod b`` with a ``D`` line, else ``prod b``.  No sympy.
"""

from __future__ import annotations

import hashlib
import itertools
import string
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..conventions import free_propagators, lattice_phat2, validate_lattice_scales
from ..errors import InputError, plain
from ..inputs import as_lattice

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from ..cutoffs import Cutoff
    from ..families import Block, Family
    from ..inputs import Lattice
    from ..symbolic import Series

__all__ = [
    "lattice_propagators",
    "block_value",
    "family_value",
    "series_on_lattice",
    "check_lattice_cost",
    "MAX_BYTES",
    "MAX_WORK",
]


def lattice_propagators(
    shape: str | tuple[int, ...] | Lattice, cutoff: Cutoff, mass: float, Lambda: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(Kt_p, D_p)`` on the FFT grid of ``shape`` at ``phat^2``.

    See docs/conventions.md, "The lattice dictionary".

    Parameters
    ----------
    shape : str or tuple of int
        ``"8x8"``, ``(4, 4)``, ``"1"`` (one site: the zero-dimensional case).
    cutoff : ergsym.cutoffs.Cutoff
    mass, Lambda : float
    """
    shape = as_lattice(shape, name="shape").shape
    mass, Lambda = validate_lattice_scales(mass, Lambda)
    p2 = lattice_phat2(shape)
    kt, d = free_propagators(cutoff, p2, Lambda, mass)
    if not np.all(np.isfinite(kt)) or np.any(kt <= 0):
        raise InputError(
            "the cutoff gives a non-positive or non-finite propagator Kt_p on this "
            f"lattice (min Kt_p = {plain(np.min(kt))}); check mass and cutoff parameters"
        )
    return kt, d


def _line_array(line, kt, d, delta=None):
    out = np.ones_like(kt)
    if line.kt:
        out = out * kt**line.kt
    if line.d:
        out = out * d**line.d
    if line.delta:
        if delta is None:
            raise InputError("a flowed family needs Delta_p = Kt_Lambda0 - Kt_Lambda: pass delta_p")
        out = out * delta**line.delta
    return out


def block_value(block: Block, kt: np.ndarray, d: np.ndarray, delta: np.ndarray | None = None) -> float:
    """Per-volume value ``b`` of one block on the lattice with momentum arrays ``kt, d``.

    ``delta`` (``Kt_Lambda0 - Kt_Lambda``) is needed only for flowed families.
    """
    lines = [_line_array(e[2], kt, d, delta) for e in block.edges]
    kind = block.kind
    if kind == "loop":
        return float(np.mean(lines[0]))
    if kind == "bridge":
        return float(lines[0].flat[0])
    pos = [np.fft.ifftn(f).real for f in lines]
    if kind == "melon":
        prod = pos[0]
        for m in pos[1:]:
            prod = prod * m
        return float(np.sum(prod))
    return _general_block(block, pos)


def _general_block(block, pos, max_bytes=None):
    """``(1/V) sum_{x_0..x_{n-1}} prod_e m_e(x_i - x_j)`` for a ``general`` block.

    Parallel lines between two vertices are multiplied in position space; vertex 0 is
    pinned at the origin (translation invariance); a set ``Y`` of vertices is summed
    explicitly ("sliced", batched as arrays; the first sliced vertex only over the orbits of
    the lattice's point group when every line is symmetric under it); what is left is a
    forest, eliminated leaf by leaf with FFT convolutions (``O(V log V)`` work and ``O(V)``
    memory per slice), or a triangle, summed in momentum space in ``O(V^2)``::

        sum_{a,b,c} w_a(a) w_b(b) w_c(c) g_ab(a-b) g_bc(b-c) g_ca(c-a)
            = V^-2 sum_{p,q} conj(Fh(p, q)) wh_b(p) wh_c(q) wh_a(-p-q),
        F(s, t) = g_ab(-s) g_bc(s-t) g_ca(t)

    The cheapest plan by estimated work among those that fit in memory wins
    (:func:`_plan_general`): blocks without slices (the O(lambda^3) blocks and the tree-like
    ones) cost ``O(V log V)`` work in ``O(V)`` memory, a K4 one sliced vertex
    (``O(V^2 log V / |G|)`` work, ``O(V)`` memory, ``|G|`` the point group), K5 a triangle with
    one slice or a forest with two.  Memory and work are estimated first; beyond
    ``max_bytes`` (default :data:`MAX_BYTES`) or :data:`MAX_WORK` an
    :class:`~ergsym.errors.InputError` is raised before anything large is allocated.
    """
    shape = tuple(pos[0].shape)
    merged = {k: _merge(pos, ks) for k, ks in _merged_edges(block).items()}
    limit = MAX_BYTES if max_bytes is None else max_bytes
    plan = _plan_general(block, shape, max_bytes=limit)
    group = []
    if plan["sliced"] or plan["kind"] == "triangle":
        # slices run over point-group orbits: re-plan with their number (a sliced plan may win)
        group = _symmetries(list(merged.values()), shape)
        if group:
            n_orbits = len(_orbit_weights(shape, group)[0])
            plan = _plan_general(block, shape, n_orbits=n_orbits, max_bytes=limit)
    _refuse(block, shape, plan, limit)
    return _contract_general(block, merged, shape, plan, group)


def _refuse(block, shape, plan, limit):
    """Raise :class:`InputError` when ``plan`` exceeds ``limit`` bytes or :data:`MAX_WORK`."""
    if plan["bytes"] > limit:
        raise InputError.bad(
            "lattice volume",
            int(np.prod(shape)),
            f"a lattice on which the multi-loop block {block.name} needs at most "
            f"{limit / 2**30:.1f} GiB (this one needs about {plan['bytes'] / 2**30:.2g} GiB)",
            "use a smaller lattice or a lower order",
        )
    if plan["work"] > MAX_WORK:
        raise InputError.bad(
            "lattice volume",
            int(np.prod(shape)),
            f"a lattice on which the multi-loop block {block.name} costs at most {MAX_WORK:.0e} "
            f"array operations (this one: about {plan['work']:.1e}, i.e. minutes to hours)",
            "use a smaller lattice or a lower order",
        )


def check_lattice_cost(
    families: Iterable[Family],
    kt: np.ndarray,
    d: np.ndarray,
    delta: np.ndarray | None = None,
    max_bytes: float | None = None,
) -> dict:
    """Refuse, before any block is evaluated, families whose multi-loop blocks exceed the limits.

    Plans every ``general`` block of ``families`` on the lattice of ``kt`` (the point group is
    read off the momentum arrays ``kt``, ``d``, ``delta``: lines built from them share it) and
    raises the :class:`~ergsym.errors.InputError` that evaluating the worst block would raise,
    so that a run is refused up front rather than after its cheaper blocks.

    Returns
    -------
    dict
        ``{"work": ..., "bytes": ...}``: the largest estimates over the blocks (0 without any).
    """
    kt = np.asarray(kt, dtype=float)
    shape = kt.shape
    limit = MAX_BYTES if max_bytes is None else max_bytes
    arrays = [kt, np.asarray(d, dtype=float)] + ([] if delta is None else [np.asarray(delta, dtype=float)])
    n_orbits = None
    worst = {"work": 0.0, "bytes": 0.0}
    blocks = {b for f in families for b in f.blocks if b.kind == "general"}
    for block in sorted(blocks, key=lambda b: b.name):
        plan = _plan_general(block, shape, max_bytes=limit)
        if plan["sliced"] or plan["kind"] == "triangle":
            if n_orbits is None:
                group = _symmetries(arrays, shape)
                n_orbits = len(_orbit_weights(shape, group)[0]) if group else 0
            if n_orbits:
                plan = _plan_general(block, shape, n_orbits=n_orbits, max_bytes=limit)
        _refuse(block, shape, plan, limit)
        worst = {k: max(worst[k], plan[k]) for k in worst}
    return worst


#: Largest memory (bytes) one ``general`` block may use on the lattice (estimated first).
MAX_BYTES = 2 * 2**30
#: Largest estimated number of array-element operations for one ``general`` block.
MAX_WORK = 2e11
#: Memory (bytes) the arrays of one batch of slices may use.
_CHUNK_BYTES = 64 * 2**20


def _merge(pos, ks):
    m = pos[ks[0]]
    for k in ks[1:]:
        m = m * pos[k]
    return m.ravel()


def _merged_edges(block):
    """``{(i, j): [edge indices]}`` with ``i < j``: parallel lines grouped."""
    out = {}
    for k, (i, j, _line) in enumerate(block.edges):
        out.setdefault((i, j), []).append(k)
    return out


def _rest_kind(n, pairs, removed):
    """Shape of the graph on the vertices not in ``removed``: ``forest``, ``triangle`` or None."""
    alive = [v for v in range(n) if v not in removed]
    es = [(i, j) for i, j in pairs if i not in removed and j not in removed]
    # peel leaves
    es = list(es)
    changed = True
    while changed:
        changed = False
        deg = {v: 0 for v in alive}
        for i, j in es:
            deg[i] += 1
            deg[j] += 1
        for v in alive:
            if deg[v] == 1:
                es = [e for e in es if v not in e]
                changed = True
                break
    if not es:
        return "forest"
    core = {v for e in es for v in e}
    if len(core) == 3 and len(es) == 3:
        return "triangle"
    return None


def _plan_general(block, shape, n_orbits=None, max_bytes=None):
    """Choose the pinned and sliced vertices; estimate work and memory (no arrays yet).

    Any vertex may be pinned at the origin (translation invariance).  Every choice of sliced
    vertices that leaves a forest or a triangle (with trees attached) is a candidate; the one
    with the least estimated work among those within ``max_bytes`` (default
    :data:`MAX_BYTES`) wins, else the one with the least memory.  ``n_orbits`` is the number
    of point-group orbits of sites when every line is symmetric (the first sliced vertex runs
    over them), ``None`` for no symmetry (every site).

    Work counts array-element operations (an FFT of ``V`` points as ``5 V log2 V``); memory
    counts every array alive at once: the merged lines, one batch of slices (at most
    :data:`_CHUNK_BYTES` of rows) and, for a triangle, its ``V x V`` table and transform.
    """
    limit = MAX_BYTES if max_bytes is None else max_bytes
    vol = int(np.prod(shape))
    n = block.n_vertices
    pairs = list(_merged_edges(block))
    logv = max(1.0, np.log2(vol))
    fft = 5.0 * vol * logv
    first = vol if n_orbits is None else n_orbits
    base = 16.0 * vol * (len(pairs) + len(block.edges) + 4)
    cands = []
    for size in range(0, n - 1):
        for pin in range(n):
            others = [v for v in range(n) if v != pin]
            for ys in itertools.combinations(others, size):
                kind = _rest_kind(n, pairs, {pin, *ys})
                if kind is None:
                    continue
                rest = n - 1 - size
                inner = sum(1 for i, j in pairs if i not in ys and j not in ys and pin not in (i, j))
                n_slices = 1.0 if size == 0 else float(first) * float(vol) ** (size - 1)
                # per slice: potentials (one multiply per line), and for a forest two FFTs per
                # eliminated leaf; a triangle: three FFTs and the O(V^2) momentum sum
                per = vol * (len(pairs) + rest) + 2.0 * fft * inner
                row = 16.0 * vol * (rest + 3) + 8.0 * vol * (len(shape) + 2)
                setup, fixed = 0.0, 0.0
                if kind == "triangle":
                    per += 3.0 * fft + 6.0 * vol * vol
                    setup = 4.0 * vol * vol + 10.0 * vol * vol * logv
                    row += 16.0 * vol * 6
                    fixed = 56.0 * vol * vol
                chunk = int(max(1, min(4096, n_slices, _CHUNK_BYTES // row)))
                cands.append(
                    {
                        "pin": pin,
                        "sliced": ys,
                        "kind": kind,
                        "chunk": chunk,
                        "work": n_slices * per + setup,
                        "bytes": base + fixed + 2.0 * chunk * row,
                    }
                )
    if not cands:  # pragma: no cover - every graph becomes a forest once all but one are sliced
        raise AssertionError("no contraction plan")
    fits = [c for c in cands if c["bytes"] <= limit]
    if fits:
        return min(fits, key=lambda c: (c["work"], len(c["sliced"])))
    return min(cands, key=lambda c: c["bytes"])


def _point_group(shape):
    """Signed axis permutations that map the periodic lattice ``shape`` to itself."""
    d = len(shape)
    out = []
    for perm in itertools.permutations(range(d)):
        if any(shape[perm[k]] != shape[k] for k in range(d)):
            continue
        for signs in itertools.product((1, -1), repeat=d):
            out.append((perm, signs))
    return out


def _apply_group(arr, g):
    perm, signs = g
    out = np.transpose(arr, perm)
    for ax, sgn in enumerate(signs):
        if sgn < 0:
            out = np.roll(np.flip(out, axis=ax), 1, axis=ax)
    return out


@lru_cache(maxsize=8)
def _group_perms(shape):
    """Each point-group element as a flat index array: ``a.ravel()[idx]`` is ``a`` moved by it."""
    ids = np.arange(int(np.prod(shape))).reshape(shape)
    out = []
    for g in _point_group(shape):
        idx = np.ascontiguousarray(_apply_group(ids, g)).ravel()
        idx.setflags(write=False)
        out.append(idx)
    return tuple(out)


def _symmetries(arrays, shape):
    """The point-group elements (flat index arrays) under which every array is invariant (to rounding)."""
    flat = [np.asarray(a).ravel() for a in arrays]
    scales = [float(np.max(np.abs(a))) or 1.0 for a in flat]
    good = []
    for idx in _group_perms(tuple(shape)):
        if all(np.max(np.abs(a[idx] - a)) <= 1e-13 * sc for a, sc in zip(flat, scales, strict=True)):
            good.append(idx)
    return good


def _orbit_weights(shape, group):
    """Representatives (flat indices) of the orbits of ``group`` on sites and their sizes."""
    canon = np.arange(int(np.prod(shape)))
    for idx in group:
        canon = np.minimum(canon, idx)
    reps, counts = np.unique(canon, return_counts=True)
    return reps, counts.astype(float)


def _sub(xi, xj, shape):
    """Flat index of the site ``x_i - x_j`` (periodic) for flat indices ``xi``, ``xj`` (broadcast)."""
    ci = np.unravel_index(xi, shape)
    cj = np.unravel_index(xj, shape)
    return np.ravel_multi_index(tuple((a - b) % n for a, b, n in zip(ci, cj, shape, strict=True)), shape)


def _neg(shape):
    """Flat index of ``-x`` for every site ``x`` (``O(V)``)."""
    vol = int(np.prod(shape))
    return _sub(np.zeros(vol, dtype=np.int64), np.arange(vol), shape)


def _contract_general(block, merged_in, shape, plan, group):
    vol = int(np.prod(shape))
    n = block.n_vertices
    neg = _neg(shape)
    sites = np.arange(vol)
    # relabel so that the pinned vertex is 0; a line reversed is m(-x)
    pin = plan["pin"]
    relabel = {pin: 0, 0: pin} if pin else {}
    merged = {}
    for (i, j), m in merged_in.items():
        a, b = relabel.get(i, i), relabel.get(j, j)
        if a > b:
            a, b, m = b, a, m[neg]
        merged[(a, b)] = m
    sliced = tuple(relabel.get(y, y) for y in plan["sliced"])
    rest = [v for v in range(n) if v != 0 and v not in sliced]
    # slices: every assignment of sites to the sliced vertices, the first over the orbits of
    # the point group (the summand is invariant under moving every vertex by one element)
    if sliced:
        if group:
            reps, mult = _orbit_weights(shape, group)
        else:
            reps, mult = sites, np.ones(vol)
        n_slices = len(reps) * vol ** (len(sliced) - 1)
    else:
        n_slices = 1
    tri = _triangle_setup(merged, rest, shape) if plan["kind"] == "triangle" else None
    total = 0.0
    chunk = plan["chunk"]
    pos_of = {}
    for start in range(0, n_slices, chunk):
        flat = np.arange(start, min(start + chunk, n_slices))
        b = len(flat)
        if sliced:
            # slice index -> (orbit representative, other sites), the first slowest
            tail = vol ** (len(sliced) - 1)
            first, rem = np.divmod(flat, tail)
            pos_of[sliced[0]] = reps[first]
            const = np.array(mult[first], dtype=float)
            for y in reversed(sliced[1:]):
                rem, pos_of[y] = np.divmod(rem, vol)
        else:
            const = np.ones(1)
        # lines among pinned and sliced vertices: constants per slice
        for (i, j), m in merged.items():
            if i in rest or j in rest:
                continue
            xi = np.zeros(b, dtype=np.int64) if i == 0 else pos_of[i]
            xj = np.zeros(b, dtype=np.int64) if j == 0 else pos_of[j]
            const = const * m[_sub(xi, xj, shape)]
        # potentials of the rest vertices
        w = {r: np.ones((b, vol)) for r in rest}
        for (i, j), m in merged.items():
            if (i in rest) == (j in rest):
                continue
            r, k, sign = (i, j, 1) if i in rest else (j, i, -1)
            # factor m(x_i - x_j) as a function of x_r
            mm = m if sign == 1 else m[neg]
            if k == 0:
                w[r] = w[r] * mm[None, :]
            else:
                w[r] = w[r] * mm[_sub(sites[None, :], pos_of[k][:, None], shape)]
        inner = [(i, j, m) for (i, j), m in merged.items() if i in rest and j in rest]
        total += float(np.sum(const * _rest_sum(rest, inner, w, shape, neg, tri)))
    return total


def _fft(w, shape):
    return np.fft.fftn(w.reshape((w.shape[0],) + tuple(shape)), axes=tuple(range(1, len(shape) + 1))).reshape(
        w.shape[0], -1
    )


def _ifft(w, shape):
    return np.fft.ifftn(w.reshape((w.shape[0],) + tuple(shape)), axes=tuple(range(1, len(shape) + 1))).reshape(
        w.shape[0], -1
    )


def _rest_sum(rest, inner, w, shape, neg, tri):
    """Sum over the rest vertices' positions (batched over slices) of potentials and lines."""
    w = dict(w)
    es = list(inner)
    # eliminate leaves: sum_{x_l} w_l(x_l) g(+-(x_l - x_p)) is a convolution in x_p
    while True:
        deg = {v: 0 for v in w}
        for i, j, _ in es:
            deg[i] += 1
            deg[j] += 1
        leaf = next((v for v in w if deg[v] == 1), None)
        if leaf is None:
            break
        e = next(e for e in es if leaf in e[:2])
        i, j, g = e
        parent = j if i == leaf else i
        # message(x_p) = sum_l w_l(l) g(x_i - x_j); with i = leaf: g(l - p) = gt(p - l), gt(x) = g(-x)
        kern = g[neg] if i == leaf else g
        msg = _ifft(_fft(w[leaf], shape) * np.fft.fftn(kern.reshape(shape)).ravel()[None, :], shape).real
        w[parent] = w[parent] * msg
        del w[leaf]
        es.remove(e)
    if not es:
        out = 1.0
        for v in w:
            out = out * np.sum(w[v], axis=1)
        return out
    # a triangle (the only 2-core left); other vertices are isolated
    out = 1.0
    core = tri["order"]
    for v in w:
        if v not in core:
            out = out * np.sum(w[v], axis=1)
    a, bb, c = core
    wa, wb, wc = _fft(w[a], shape), _fft(w[bb], shape), _fft(w[c], shape)
    vol = wa.shape[1]
    qidx, weights, fconj = tri["qidx"], tri["weights"], tri["fconj"]
    shape = tuple(shape)
    d = len(shape)
    window = shape[:-1] + (shape[-1] // 2 + 1,)
    fc = fconj.reshape(shape + window)
    letters = "abcdefghijklmnop"
    ps, qs = letters[:d], letters[d : 2 * d]
    expr = f"{ps}{qs},{ps}{qs},{qs}->{ps}"
    res = np.empty(wa.shape[0])
    for k in range(wa.shape[0]):
        # wh_a(-p-q) = B(p + q) with B(u) = wh_a(-u): a sliding window of B tiled twice (a view,
        # no gather); sum over the Hermitian half of q, real part, weights 2 / 1
        bd = np.tile(wa[k][neg].reshape(shape), (2,) * d)
        view = sliding_window_view(bd, window)[tuple(slice(0, n) for n in shape)]
        inner = np.einsum(expr, view, fc, (weights * wc[k][qidx]).reshape(window))
        res[k] = np.dot(wb[k], inner.ravel()).real / vol**2
    return out * res


def _triangle_setup(merged, rest, shape):
    """``conj(FFT_2d F)`` on the Hermitian half of q for the rest triangle (``O(V^2)`` memory)."""
    vol = int(np.prod(shape))
    neg = _neg(shape)
    es = [(i, j) for (i, j) in merged if i in rest and j in rest]
    a, b, c = _triangle_core(rest, es)

    def g(u, v):
        # the line between u and v as a function of x_u - x_v
        if (u, v) in merged:
            return merged[(u, v)]
        return merged[(v, u)][neg]

    # F(s, t) = g_ab(-s) g_bc(s - t) g_ca(t),  s, t flat sites; its FFT on the half of q
    sites = np.arange(vol)
    f = g(b, c)[_sub(sites[:, None], sites[None, :], shape)]
    f *= g(a, b)[neg][:, None]
    f *= g(c, a)[None, :]
    fh = np.fft.rfftn(f.reshape(tuple(shape) * 2)).reshape(vol, -1)
    del f
    np.conjugate(fh, out=fh)
    # Hermitian half of the momenta q (last coordinate 0..L/2, numpy's rfftn layout) with
    # weights 2, or 1 where q is its own mirror in the last coordinate
    half_shape = tuple(shape[:-1]) + (shape[-1] // 2 + 1,)
    hc = np.indices(half_shape).reshape(len(shape), -1)
    qidx = np.ravel_multi_index(tuple(hc), shape)
    last = hc[-1]
    weights = np.where((last == 0) | (2 * last == shape[-1]), 1.0, 2.0)
    return {"order": (a, b, c), "fconj": fh, "qidx": qidx, "weights": weights}


def _triangle_core(rest, es):
    es = list(es)
    while True:
        deg = {v: 0 for v in rest}
        for i, j in es:
            deg[i] += 1
            deg[j] += 1
        leaf = next((v for v in rest if deg[v] == 1), None)
        if leaf is None:
            break
        es = [e for e in es if leaf not in e]
    core = sorted({v for e in es for v in e})
    if len(core) != 3:  # pragma: no cover - guarded by the plan
        raise AssertionError("rest graph is not a triangle")
    return tuple(core)


def _general_block_dense(block, pos):
    """Reference contraction with dense ``V x V`` circulants (``numpy.einsum``; small V only)."""
    shape = pos[0].shape
    coords = np.indices(shape).reshape(len(shape), -1)
    diff = tuple((coords[:, :, None] - coords[:, None, :])[mu] % shape[mu] for mu in range(len(shape)))
    letters = string.ascii_letters
    operands, subs = [], []
    for (i, j, _line), m in zip(block.edges, pos, strict=True):
        mat = m[diff]
        if i == 0:
            operands.append(mat[0, :])
            subs.append(letters[j])
        else:
            operands.append(mat)
            subs.append(letters[i] + letters[j])
    return float(np.einsum(",".join(subs) + "->", *operands, optimize="greedy"))


#: values of general blocks by (block, shape, digests of the momentum arrays)
_GENERAL_MEMO: dict = {}


def _digest(a) -> bytes:
    return hashlib.blake2b(np.ascontiguousarray(a, dtype=float).tobytes(), digest_size=16).digest()


def family_value(
    family: Family, kt: np.ndarray, d: np.ndarray, delta: np.ndarray | None = None, _block_cache: dict | None = None
) -> float:
    """Exact lattice value of a :class:`~ergsym.families.Family` (see module docstring)."""
    kt = np.asarray(kt, dtype=float)
    d = np.asarray(d, dtype=float)
    delta = None if delta is None else np.asarray(delta, dtype=float)
    val = 1.0
    for b in family.blocks:
        if b.kind == "general":
            # multi-loop blocks are expensive and shared by many families and series: memo
            key = (b, kt.shape, _digest(kt), _digest(d), None if delta is None else _digest(delta))
            if key not in _GENERAL_MEMO:
                if len(_GENERAL_MEMO) >= 512:
                    _GENERAL_MEMO.pop(next(iter(_GENERAL_MEMO)))
                _GENERAL_MEMO[key] = block_value(b, kt, d, delta)
            val *= _GENERAL_MEMO[key]
            continue
        if _block_cache is None:
            val *= block_value(b, kt, d, delta)
            continue
        if b not in _block_cache:
            _block_cache[b] = block_value(b, kt, d, delta)
        val *= _block_cache[b]
    if family.outer is not None:
        val *= kt.size
    return val


def series_on_lattice(
    series: Series,
    shape: str | tuple[int, ...] | Lattice | None = None,
    kt_p: np.ndarray | None = None,
    d_p: np.ndarray | None = None,
    couplings: Sequence[float] | None = None,
    delta_p: np.ndarray | None = None,
) -> list[float] | float:
    """Evaluate an engine :class:`~ergsym.symbolic.Series` exactly on a lattice.

    Parameters
    ----------
    series : Series
    shape : tuple, optional
        Checked against ``kt_p.shape`` when given.
    kt_p, d_p : ndarray
        ``Kt_p`` and ``D_p`` on the FFT grid (e.g. from :func:`lattice_propagators`).
    couplings : sequence of float, optional
        Coupling values; then the summed series is returned instead of per-order values.
    delta_p : ndarray, optional
        ``Kt_Lambda0,p - Kt_Lambda,p`` for flowed series (lines with ``Delta``).

    Returns
    -------
    list of float (index k: coefficient of the couplings' total order k) or float
        Whole lattice sums for ``delta(0)`` series, per-site values otherwise.
    """
    kt_p = np.asarray(kt_p, dtype=float)
    d_p = np.asarray(d_p, dtype=float) if d_p is not None else np.zeros_like(kt_p)
    # only a consistency check against kt_p (the lattice was validated where it entered):
    # a string is parsed, a tuple or Lattice compared as it is
    if (
        shape is not None
        and (as_lattice(shape, name="shape").shape if isinstance(shape, str) else tuple(shape)) != kt_p.shape
    ):
        raise InputError.bad("shape", shape, f"equal to kt_p.shape={kt_p.shape}")
    if kt_p.shape != d_p.shape:
        raise InputError.bad("d_p.shape", d_p.shape, f"equal to kt_p.shape={kt_p.shape}")
    check_lattice_cost(series.families(), kt_p, d_p, delta_p)
    cache, blocks = {}, {}

    def val(f):
        if f not in cache:
            cache[f] = family_value(f, kt_p, d_p, delta_p, _block_cache=blocks)
        return cache[f]

    return series.evaluate(val, couplings)
