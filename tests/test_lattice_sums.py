"""Exact lattice sums of multi-loop (``general``) blocks: the factorized contraction.

``ergsym.lattice.sums`` contracts general blocks by pinning a vertex, slicing a few vertices
(over point-group orbits when every line is symmetric), eliminating tree-like parts with FFT
convolutions and summing a remaining triangle in momentum space.  Checked against

* the exact oracle ``ergsym.symbolic.oracle.exact_family_value`` (every placement of the
  vertices summed with exact Fractions, V = 2..8 sites, random rational circulants);
* the previous dense ``V x V`` einsum contraction (kept as ``_general_block_dense``) on small
  lattices, block by block, with symmetric and with non-symmetric line functions;
* the previous factorized contraction with ``V x V`` index tables (commit ea06c69, kept verbatim
  as ``tests/legacy_lattice_sums.py``), every order-5 block on lattices up to 32x32, relative
  difference <= 1e-12;
* the memory / work guard (InputError before anything large is allocated).
"""

import itertools
import random
from fractions import Fraction

import legacy_lattice_sums as legacy
import numpy as np
import pytest

from ergsym.errors import InputError
from ergsym.lattice import sums
from ergsym.symbolic import monotone
from ergsym.symbolic.oracle import circulant, exact_family_value


def _general_blocks(order=5):
    out = {}
    for form in ("A", "B"):
        for scheme in ("bare", "normal-ordered"):
            for t in monotone(order, form, scheme).terms:
                for b in t.family.blocks:
                    if b.kind == "general":
                        out[b.name] = b
    return out


BLOCKS = _general_blocks()
K5 = "G5[01D,02K,03K,04K,12K,13K,14K,23K,24K,34K]"


def _symmetric_props(shape):
    p2 = 0
    for mu, n in enumerate(shape):
        idx = [None] * len(shape)
        idx[mu] = slice(None)
        p2 = p2 + 4 * np.sin(np.pi * np.arange(n) / n)[tuple(idx)] ** 2
    return 1 / (1.3 + p2), 0.7 * np.exp(-p2)


def _positions(block, kt, d):
    return [np.fft.ifftn(sums._line_array(e[2], kt, d)).real for e in block.edges]


def test_the_order5_families_contain_k5():
    # the complete graph K5 is the family that made the dense einsum O(V^4)
    assert K5 in BLOCKS
    assert len(BLOCKS[K5].edges) == 10 and BLOCKS[K5].n_vertices == 5


@pytest.mark.parametrize("shape", [(4,), (5,), (3, 2), (4, 4), (2, 2, 2)])
@pytest.mark.parametrize("symmetric", [True, False])
def test_factorized_contraction_equals_dense_einsum(shape, symmetric):
    # Reference: the previous implementation (dense circulant matrices, numpy.einsum)
    if symmetric:
        kt, d = _symmetric_props(shape)
    else:  # line functions without any point-group symmetry (and m(-x) != m(x))
        rng = np.random.default_rng(sum(shape) + 7 * len(shape))
        kt, d = rng.uniform(0.5, 1.5, shape), rng.uniform(-1, 1, shape)
    for name, block in BLOCKS.items():
        pos = _positions(block, kt, d)
        new = sums._general_block(block, pos)
        old = sums._general_block_dense(block, pos)
        assert new == pytest.approx(old, rel=1e-11, abs=1e-14 * max(1.0, abs(old))), name


def _rational_lattice(shape, seed):
    rng = random.Random(seed)

    def vals(diag):
        v = {}
        for r in itertools.product(*[range(n) for n in shape]):
            mr = tuple((-a) % n for a, n in zip(r, shape))
            v[r] = v[mr] if mr in v else Fraction(rng.randint(-5, 5), rng.randint(1, 7))
        v[(0,) * len(shape)] = Fraction(diag)
        return v

    g, c = vals(40), vals(2)

    def first(vals_):
        return np.array([float(vals_.get(r, 0)) for r in itertools.product(*[range(n) for n in shape])]).reshape(shape)

    # momentum-space eigenvalues of the circulants (their first rows transformed)
    return circulant(shape, g), circulant(shape, c), np.fft.fftn(first(g)).real, np.fft.fftn(first(c)).real


@pytest.mark.parametrize(
    "shape, seed",
    [((2,), 1), ((3,), 2), ((4,), 3), ((5,), 4), ((2, 2), 5), ((6,), 6), ((2, 3), 7), ((8,), 8), ((2, 4), 9)],
)
def test_general_families_equal_exact_fraction_sums(shape, seed):
    # Reference: exact_family_value, every placement of the vertices summed in Fractions
    g, c, kt, d = _rational_lattice(shape, seed)
    vol = int(np.prod(shape))
    names = sorted(BLOCKS)
    picks = [K5] + names[::6] if vol <= 6 else [K5, names[0], names[-1]]
    fams = {}
    for t in monotone(5, "A").terms:
        for b in t.family.blocks:
            if b.name in picks and b.name not in fams:
                fams[b.name] = t.family
    assert K5 in fams
    sums._GENERAL_MEMO.clear()
    for name, fam in fams.items():
        exact = exact_family_value(fam, g, c)
        got = sums.family_value(fam, kt, d)
        assert got == pytest.approx(float(exact), rel=1e-9, abs=1e-12), name


def test_whole_order5_series_equals_dense_contraction_on_a_small_lattice(monkeypatch):
    # Reference: the same series with every general block contracted by the dense einsum
    kt, d = _symmetric_props((4, 4))
    s = monotone(5, "B")
    monkeypatch.setattr(sums, "_GENERAL_MEMO", {})
    new = sums.series_on_lattice(s, None, kt, d)
    monkeypatch.setattr(sums, "_GENERAL_MEMO", {})  # no memoized block values
    monkeypatch.setattr(
        sums, "_general_block", lambda block, pos, max_bytes=None: sums._general_block_dense(block, pos)
    )
    old = sums.series_on_lattice(s, None, kt, d)
    assert new == pytest.approx(old, rel=1e-11)


def test_memory_guard_refuses_before_allocating():
    block = BLOCKS[K5]
    kt, d = _symmetric_props((8, 8))
    pos = _positions(block, kt, d)
    with pytest.raises(InputError) as err:
        sums._general_block(block, pos, max_bytes=1e5)
    msg = str(err.value)
    assert "lattice volume" in msg and "GiB" in msg and "smaller lattice" in msg


def test_work_guard_refuses_huge_lattices_quickly():
    # K5 on 128x128 would take ~V^3 = 4e12 operations: refused from the estimate alone
    plan = sums._plan_general(BLOCKS[K5], (128, 128))
    assert plan["work"] > sums.MAX_WORK
    kt, d = _symmetric_props((128, 128))
    fam = next(t.family for t in monotone(5, "A").terms if any(b.name == K5 for b in t.family.blocks))
    with pytest.raises(InputError, match="lattice volume"):
        sums.family_value(fam, kt, d)


def test_general_block_memo_distinguishes_lattices():
    # the memo is keyed by the arrays' contents: other propagators, other value
    fam = next(t.family for t in monotone(4, "A").terms if any(b.kind == "general" for b in t.family.blocks))
    kt, d = _symmetric_props((4, 4))
    a = sums.family_value(fam, kt, d)
    b = sums.family_value(fam, kt * 1.1, d)
    assert a != b
    sums._GENERAL_MEMO.clear()
    assert sums.family_value(fam, kt, d) == a and sums.family_value(fam, kt * 1.1, d) == b


def test_plan_uses_few_slices_and_linear_memory():
    # K4-like blocks: at most one sliced vertex (O(V^2 log V / |G|) work); blocks without a
    # 2-core (every O(lambda^3) block) none; K5 a triangle with one slice
    for name, block in BLOCKS.items():
        plan = sums._plan_general(block, (32, 32), n_orbits=153)
        assert len(plan["sliced"]) <= 1, name
        if block.n_vertices <= 4:
            assert plan["kind"] == "forest", name
    assert sums._plan_general(BLOCKS[K5], (32, 32), n_orbits=153)["kind"] == "triangle"
    # memory O(V) for every block of at most four vertices: 128x128 and 256x256 within 0.3 GiB
    for shape in ((128, 128), (256, 256)):
        for name, block in BLOCKS.items():
            if block.n_vertices <= 4:
                assert sums._plan_general(block, shape)["bytes"] < 0.3 * 2**30, (name, shape)


# lattices up to 32x32 (and 3d ones of comparable volume) on which every order-5 block is compared
# with the V x V-table algorithm it replaced
LEGACY_SHAPES = [
    (7,),
    (32,),
    (6, 4),
    (8, 8),
    (5, 5, 5),
    *(pytest.param(s, marks=pytest.mark.slow) for s in ((16, 16), (32, 32), (8, 8, 8))),
]


@pytest.mark.parametrize("shape", LEGACY_SHAPES)
def test_linear_memory_contraction_equals_the_index_table_algorithm(shape):
    # Reference: tests/legacy_lattice_sums.py (ergsym/lattice/sums.py at ea06c69), symmetric lines
    # (the slices run over point-group orbits) and positive position-space lines without any
    # symmetry, m(-x) != m(x) (a line's orientation matters)
    rng = np.random.default_rng(len(shape) * 100 + shape[0])
    for symmetric in (True, False):
        kt, d = _symmetric_props(shape)
        for name, block in BLOCKS.items():
            if np.prod(shape) > 300 and block.n_vertices == 5 and (block.name != K5 or not symmetric):
                continue  # the large (slow) lattices: every block up to four vertices, K5 symmetric
            pos = _positions(block, kt, d) if symmetric else [rng.uniform(0.5, 1.5, shape) for _ in block.edges]
            new = sums._general_block(block, pos)
            old = legacy._general_block(block, pos)
            assert new == pytest.approx(old, rel=1e-12, abs=0), (name, shape)


def test_series_too_large_is_refused_before_any_block_is_contracted(monkeypatch):
    # O(lambda^5) on 128x128: K5 is over MAX_WORK; the cheaper blocks must not run first
    def boom(*args, **kwargs):
        raise AssertionError("a block was contracted before the refusal")

    monkeypatch.setattr(sums, "_contract_general", boom)
    monkeypatch.setattr(sums, "_GENERAL_MEMO", {})
    kt, d = _symmetric_props((128, 128))
    with pytest.raises(InputError, match="lattice volume=16384.*G5\\[01D,02K,03K,04K"):
        sums.series_on_lattice(monotone(5, "B"), None, kt, d)
    # the estimate itself: every O(lambda^4) block on 128x128 fits in O(V) memory
    est = sums.check_lattice_cost(monotone(4, "B").families(), kt, d)
    assert 0 < est["bytes"] < 0.3 * 2**30 and 0 < est["work"] < sums.MAX_WORK
