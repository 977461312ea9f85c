"""Test oracle: ergsym/lattice/sums.py as of commit ea06c69, kept verbatim (imports made absolute).

The V x V index-table contraction that the O(V)-memory code replaced; tests/test_lattice_sums.py
compares the two block by block on lattices up to 32x32 (relative difference <= 1e-12).
"""

from __future__ import annotations

import hashlib
import itertools
import string
from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ergsym.conventions import free_propagators, lattice_phat2, validate_lattice_scales
from ergsym.errors import InputError
from ergsym.inputs import as_lattice

__all__ = ["lattice_propagators", "block_value", "family_value", "series_on_lattice", "MAX_BYTES", "MAX_WORK"]


def lattice_propagators(shape, cutoff, mass, Lambda):
    """``(Kt_p, D_p)`` on the FFT grid of ``shape`` at ``phat^2`` (docs/conventions.md, "The lattice dictionary").

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
            f"lattice (min Kt_p = {np.min(kt)!r}); check mass and cutoff parameters"
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


def block_value(block, kt, d, delta=None) -> float:
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
    explicitly ("sliced", batched as arrays; for one sliced vertex only over the orbits of
    the lattice's point group when every line is symmetric under it); what is left is a
    forest, eliminated leaf by leaf with FFT convolutions, or a triangle, summed in momentum
    space in ``O(V^2)``::

        sum_{a,b,c} w_a(a) w_b(b) w_c(c) g_ab(a-b) g_bc(b-c) g_ca(c-a)
            = V^-2 sum_{p,q} conj(Fh(p, q)) wh_b(p) wh_c(q) wh_a(-p-q),
        F(s, t) = g_ab(-s) g_bc(s-t) g_ca(t)

    so K4 costs ``O(V^2)`` and K5 ``O(V^3)`` instead of ``O(V^3)`` and ``O(V^4)``.
    Memory is estimated first; beyond ``max_bytes`` (default :data:`MAX_BYTES`) an
    :class:`~ergsym.errors.InputError` is raised.
    """
    plan = _plan_general(block, pos[0].shape)
    limit = MAX_BYTES if max_bytes is None else max_bytes
    if plan["bytes"] > limit:
        raise InputError.bad(
            "lattice volume",
            int(np.prod(pos[0].shape)),
            f"a lattice on which the multi-loop block {block.name} needs at most "
            f"{limit / 2**30:.1f} GiB (this one needs about {plan['bytes'] / 2**30:.1f} GiB)",
            "use a smaller lattice or a lower order",
        )
    if plan["work"] > MAX_WORK:
        raise InputError.bad(
            "lattice volume",
            int(np.prod(pos[0].shape)),
            f"a lattice on which the multi-loop block {block.name} costs at most {MAX_WORK:.0e} "
            f"array operations (this one: about {plan['work']:.1e}, i.e. minutes to hours)",
            "use a smaller lattice or a lower order",
        )
    return _contract_general(block, pos, plan)


#: Largest memory (bytes) one ``general`` block may use on the lattice (estimated first).
MAX_BYTES = 2 * 2**30
#: Largest estimated number of array-element operations for one ``general`` block.
MAX_WORK = 2e11


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


def _plan_general(block, shape):
    """Choose the pinned and sliced vertices and estimate work and memory (no arrays yet).

    Any vertex may be pinned at the origin (translation invariance); the fewest sliced
    vertices that leave a forest or a triangle (with trees attached) win, then the least
    estimated work.
    """
    vol = int(np.prod(shape))
    n = block.n_vertices
    pairs = list(_merged_edges(block))
    logv = max(1.0, np.log2(vol))
    best = None
    for size in range(0, n - 1):
        for pin in range(n):
            others = [v for v in range(n) if v != pin]
            for ys in itertools.combinations(others, size):
                kind = _rest_kind(n, pairs, {pin, *ys})
                if kind is None:
                    continue
                per = 4.0 * vol * vol if kind == "triangle" else 4.0 * vol * logv * n
                setup = 12.0 * vol * vol * logv if kind == "triangle" else 0.0
                work = float(vol) ** size * per + setup
                if best is None or work < best["work"]:
                    best = {"pin": pin, "sliced": ys, "kind": kind, "work": work}
        if best is not None:
            break
    if best is None:  # pragma: no cover - every graph becomes a forest once all but one are sliced
        raise AssertionError("no contraction plan")
    chunk = _chunk(vol, best["kind"])
    per_slice = 16.0 * vol * (vol if best["kind"] == "triangle" else n + 2)
    best["chunk"] = chunk
    best["bytes"] = (
        8.0 * vol * vol * 3  # index tables
        + (40.0 * vol * vol if best["kind"] == "triangle" else 0)  # F and its FFT
        + chunk * per_slice * 2
    )
    return best


def _chunk(vol, kind):
    per = 16.0 * vol * (vol if kind == "triangle" else 8)
    return int(max(1, min(4096, 2**27 // per)))


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


def _symmetries(arrays, shape):
    """The point-group elements under which every array is invariant (to rounding)."""
    good = []
    for g in _point_group(shape):
        ok = True
        for a in arrays:
            scale = float(np.max(np.abs(a))) or 1.0
            if np.max(np.abs(_apply_group(a, g) - a)) > 1e-13 * scale:
                ok = False
                break
        if ok:
            good.append(g)
    return good


def _orbit_weights(shape, group):
    """Representatives (flat indices) of the orbits of ``group`` on sites and their sizes."""
    vol = int(np.prod(shape))
    ids = np.arange(vol).reshape(shape)
    canon = ids.copy()
    for g in group:
        canon = np.minimum(canon, _apply_group(ids, g))
    reps, counts = np.unique(canon.ravel(), return_counts=True)
    return reps, counts.astype(float)


@lru_cache(maxsize=4)
def _tables(shape):
    """Index tables of the periodic lattice: ``coords``, ``-x``, ``x - y`` and ``-(x + y)``."""
    coords = np.indices(shape).reshape(len(shape), -1)

    def flat(c):
        return np.ravel_multi_index(tuple(c[mu] % shape[mu] for mu in range(len(shape))), shape)

    neg = flat(-coords)
    diff = flat(coords[:, :, None] - coords[:, None, :])
    # Hermitian half of the momenta q (last coordinate 0..L/2, numpy's rfftn layout) with
    # weights 2, or 1 where q is its own mirror in the last coordinate
    half_shape = tuple(shape[:-1]) + (shape[-1] // 2 + 1,)
    hc = np.indices(half_shape).reshape(len(shape), -1)
    qidx = flat(hc)
    last = hc[-1]
    weights = np.where((last == 0) | (2 * last == shape[-1]), 1.0, 2.0)
    mpq = flat(-(coords[:, :, None] + hc[:, None, :]))  # [p, q_half] -> -(p + q)
    for t in (coords, neg, diff, mpq, qidx, weights):
        t.setflags(write=False)
    return coords, neg, diff, mpq, qidx, weights


def _contract_general(block, pos, plan):
    shape = tuple(pos[0].shape)
    vol = int(np.prod(shape))
    n = block.n_vertices
    coords, neg, diff, _mpq, _qidx, _weights = _tables(shape)
    # relabel so that the pinned vertex is 0; a line reversed is m(-x)
    pin = plan["pin"]
    relabel = {pin: 0, 0: pin} if pin else {}
    merged = {}
    for (i, j), ks in _merged_edges(block).items():
        m = pos[ks[0]]
        for k in ks[1:]:
            m = m * pos[k]
        m = m.ravel()
        a, b = relabel.get(i, i), relabel.get(j, j)
        if a > b:
            a, b, m = b, a, m[neg]
        merged[(a, b)] = m
    plan = dict(plan, sliced=tuple(relabel.get(y, y) for y in plan["sliced"]))
    sliced = plan["sliced"]
    rest = [v for v in range(n) if v != 0 and v not in sliced]
    # slices: every assignment of sites to the sliced vertices (orbits for a single one)
    if len(sliced) == 1:
        group = _symmetries([m.reshape(shape) for m in merged.values()], shape)
        reps, mult = _orbit_weights(shape, group)
        slices = reps[:, None]
    elif sliced:
        slices = np.array(list(itertools.product(range(vol), repeat=len(sliced))), dtype=np.int64)
        mult = np.ones(len(slices))
    else:
        slices = np.zeros((1, 0), dtype=np.int64)
        mult = np.ones(1)
    tri = None
    if plan["kind"] == "triangle":
        tri = _triangle_setup(merged, rest, shape)
    total = 0.0
    chunk = plan["chunk"]
    pos_of = {0: None}
    for start in range(0, len(slices), chunk):
        sl = slices[start : start + chunk]
        b = len(sl)
        const = np.array(mult[start : start + chunk], dtype=float)
        for k, y in enumerate(sliced):
            pos_of[y] = sl[:, k]
        # lines among pinned and sliced vertices: constants per slice
        for (i, j), m in merged.items():
            if i in rest or j in rest:
                continue
            xi = np.zeros(b, dtype=np.int64) if i == 0 else pos_of[i]
            xj = np.zeros(b, dtype=np.int64) if j == 0 else pos_of[j]
            const = const * m[diff[xi, xj]]
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
                w[r] = w[r] * mm[diff[:, pos_of[k]].T]
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
    neg = tri["neg"]
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
    """``conj(FFT_2d F)`` on the Hermitian half of q and the ``-p-q`` table of the rest triangle."""
    coords, neg, diff, mpq, qidx, weights = _tables(shape)
    es = [(i, j) for (i, j) in merged if i in rest and j in rest]
    a, b, c = _triangle_core(rest, es)

    def g(u, v):
        # the line between u and v as a function of x_u - x_v
        if (u, v) in merged:
            return merged[(u, v)]
        return merged[(v, u)][neg]

    vol = int(np.prod(shape))
    # F(s, t) = g_ab(-s) g_bc(s - t) g_ca(t),  s, t flat sites; its FFT on the half of q
    f = g(a, b)[neg][:, None] * g(b, c)[diff] * g(c, a)[None, :]
    fh = np.fft.rfftn(f.reshape(tuple(shape) * 2)).reshape(vol, -1)
    return {"order": (a, b, c), "fconj": np.conj(fh), "qidx": qidx, "weights": weights, "neg": neg}


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
    for (i, j, _line), m in zip(block.edges, pos):
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


def family_value(family, kt, d, delta=None, _block_cache=None) -> float:
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


def series_on_lattice(series, shape=None, kt_p=None, d_p=None, couplings=None, delta_p=None):
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
    cache, blocks = {}, {}

    def val(f):
        if f not in cache:
            cache[f] = family_value(f, kt_p, d_p, delta_p, _block_cache=blocks)
        return cache[f]

    return series.evaluate(val, couplings)
