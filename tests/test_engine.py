"""Exact checks of the diagram engine (SPEC section 4), each by an independent route.

* zero dimensions: the Taylor coefficients of one-dimensional integrals computed by mpmath
  quadrature, and SPEC's known <phi^2> and log Z coefficients;
* small lattices (V = 2..8) with random rational propagators: the brute-force Gaussian-moment
  expansion of ergsym.symbolic.oracle (no graphs) against the engine's coefficients with the
  families replaced by their exact lattice sums;
* Schwinger-Dyson identities, the free theory, the normal-ordering/counterterm equivalence.
"""

import itertools
from fractions import Fraction

import mpmath
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ergsym.errors import ErgsymError, InputError, OrderNotSupportedError
from ergsym.families import NAMED_FAMILIES, Line, reduce_graph
from ergsym.symbolic import PHI4, PIECES, PRINTED, Theory, expand, local_phi, log_z, monotone, piece
from ergsym.symbolic.oracle import circulant, exact_expansion, exact_family_value, exact_series_value
from ergsym.symbolic.wick import Operator, OperatorTerm, OpVertex

QUANTITIES = ["dSdS", "dSdShat", "dShatdShat", "LdShat", "A", "B"]

# ---------------------------------------------------------------------------
# strategies: random translation-invariant rational lattices
# ---------------------------------------------------------------------------

SHAPES = [(2,), (3,), (4,), (5,), (6,), (7,), (8,), (2, 2), (2, 3), (2, 4)]
small_fraction = st.builds(Fraction, st.integers(-6, 6), st.integers(1, 7))


@st.composite
def rational_lattice(draw, shapes=SHAPES):
    """(shape, G, Cdot): symmetric rational circulants, G diagonally dominant (invertible)."""
    shape = draw(st.sampled_from(shapes))

    def sym_values(diag_min):
        vals = {}
        for r in itertools.product(*[range(n) for n in shape]):
            mr = tuple((-a) % n for a, n in zip(r, shape))
            vals[r] = vals[mr] if mr in vals else draw(small_fraction)
        vals[(0,) * len(shape)] = draw(st.builds(Fraction, st.integers(diag_min, diag_min + 20), st.integers(1, 3)))
        return vals

    g = sym_values(60)  # |offdiag| <= 6, V <= 8: diagonal dominance keeps G invertible
    c = sym_values(1)
    return shape, circulant(shape, g), circulant(shape, c)


# ---------------------------------------------------------------------------
# zero dimensions
# ---------------------------------------------------------------------------


def _one_mode(k, d):
    return [[Fraction(k)]], [[Fraction(d)]]


def test_zero_dim_phi2_and_logz_known_coefficients():
    # Reference: SPEC section 4 (unit propagator): <phi^2> = 1 - l/2 + 2/3 l^2 - 11/8 l^3 + 34/9 l^4,
    # log Z = -l/8 + l^2/12 - 11/96 l^3.
    g, c = _one_mode(1, 1)
    phi2 = exact_series_value(expand(local_phi(2, PHI4), PHI4, 4), g, c)
    assert phi2 == [1, Fraction(-1, 2), Fraction(2, 3), Fraction(-11, 8), Fraction(34, 9)]
    logz = exact_series_value(expand(log_z(PHI4), PHI4, 3), g, c)
    assert logz == [0, Fraction(-1, 8), Fraction(1, 12), Fraction(-11, 96)]


def _mp_taylor_one_mode(k, d, order, quantity):
    """Taylor coefficients in lam of <O>, one mode, by mpmath quadrature (independent of Wick).

    <O> = int O e^{-phi^2/2k - lam phi^4/24} / int e^{-...}; the coefficient of lam^j of
    numerator and denominator is int O_i(phi) (-phi^4/24)^(j-i)/(j-i)! e^{-phi^2/2k} dphi,
    evaluated with mpmath.quad on (-inf, inf) at 40 digits, then the series are divided.
    O is built from its definition: dShat = phi/k, dS = phi/k + lam phi^3/6,
    -2 Lambda dShat/dLambda = d phi^2/k^2.
    """
    mpmath.mp.dps = 40
    k = mpmath.mpf(k.numerator) / k.denominator
    d = mpmath.mpf(d.numerator) / d.denominator
    dsh = [lambda p: p / k]
    ds = [lambda p: p / k, lambda p: p**3 / 6]

    def bil(xs, ys, coef):
        terms = {}
        for i, fx in enumerate(xs):
            for j, fy in enumerate(ys):
                terms.setdefault(i + j, []).append((fx, fy))

        def part(n):
            ts = terms.get(n, [])
            return lambda p: coef * d * sum(fx(p) * fy(p) for fx, fy in ts)

        return [part(n) for n in range(3)]

    parts = {
        "dSdS": bil(ds, ds, mpmath.mpf(1) / 2),
        "dSdShat": bil(ds, dsh, -2),
        "dShatdShat": bil(dsh, dsh, 2),
        "LdShat": [lambda p: d * p**2 / k**2, lambda p: 0, lambda p: 0],
    }
    sgn = {"A": 1, "B": -1}.get(quantity)
    if sgn is None:
        op = parts[quantity]
    else:
        op = [
            lambda p, n=n: (
                sgn * (parts["dSdS"][n](p) + parts["dSdShat"][n](p) + parts["dShatdShat"][n](p)) + parts["LdShat"][n](p)
            )
            for n in range(3)
        ]

    def gauss(f):
        return mpmath.quad(lambda p: f(p) * mpmath.exp(-(p**2) / (2 * k)), [-mpmath.inf, 0, mpmath.inf])

    def w(j):
        return lambda p: (-(p**4) / 24) ** j / mpmath.factorial(j)

    z = [gauss(w(j)) for j in range(order + 1)]
    num = [
        sum(gauss(lambda p, i=i, j=j: op[i](p) * w(j - i)(p)) for i in range(min(j, 2) + 1)) for j in range(order + 1)
    ]
    out = []
    for j in range(order + 1):
        out.append((num[j] - sum(out[i] * z[j - i] for i in range(j))) / z[0])
    return out


@pytest.mark.parametrize("quantity", QUANTITIES)
def test_zero_dim_series_equal_mpmath_taylor_coefficients(quantity):
    k, d = Fraction(3, 2), Fraction(2, 5)
    g, c = _one_mode(k, d)
    derived = exact_series_value(monotone(3, quantity), g, c)
    ref = _mp_taylor_one_mode(k, d, 3, quantity)
    for j in range(4):
        assert abs(mpmath.mpf(derived[j].numerator) / derived[j].denominator - ref[j]) <= mpmath.mpf(10) ** -30 * (
            1 + abs(ref[j])
        )


def test_zero_dim_printed_5_15_disagrees_with_quadrature():
    # SPEC section 2.2: the printed (5.15) is not the Taylor series of the one-mode integral.
    k, d = Fraction(1), Fraction(1)
    ref = _mp_taylor_one_mode(k, d, 2, "A")
    # at one mode with k = d = 1 every family is 1, so the printed series sums its coefficients
    printed = [sum(PRINTED["A"][j].values()) for j in range(3)]
    assert abs(ref[0] - mpmath.mpf(3) / 2) < 1e-30  # the free term agrees
    assert abs(ref[1] - float(printed[1])) > 0.1  # O(lam): derived -5/4, printed -1/2
    assert abs(ref[2] - float(printed[2])) > 0.1


# ---------------------------------------------------------------------------
# finite lattices: engine vs brute-force oracle
# ---------------------------------------------------------------------------


@given(rational_lattice(), st.sampled_from(QUANTITIES))
def test_lattice_series_equals_exact_gaussian_expansion(lat, quantity):
    shape, g, c = lat
    assert exact_series_value(monotone(2, quantity), g, c) == exact_expansion(g, c, 2, quantity)


@given(rational_lattice(shapes=[(2,), (3,), (4,), (2, 2)]), st.sampled_from(["A", "B", "dSdS"]))
def test_lattice_series_order3_equals_exact_gaussian_expansion(lat, quantity):
    shape, g, c = lat
    assert exact_series_value(monotone(3, quantity), g, c) == exact_expansion(g, c, 3, quantity)


@given(rational_lattice(), st.sampled_from(["A", "B", "phi2", "logZ"]))
def test_normal_ordered_scheme_equals_exact_expansion(lat, quantity):
    shape, g, c = lat
    if quantity in ("phi2", "logZ"):
        op = local_phi(2, PHI4) if quantity == "phi2" else log_z(PHI4)
        s = expand(op, PHI4, 2, "normal-ordered")
    else:
        s = monotone(2, quantity, "normal-ordered")
    assert exact_series_value(s, g, c) == exact_expansion(g, c, 2, quantity, normal_ordered=True)


@given(
    rational_lattice(shapes=[(2,), (3,), (4,), (2, 2), (5,)]),
    st.lists(small_fraction, min_size=4, max_size=4),
    st.sampled_from(["A", "B", "phi2"]),
)
def test_several_couplings_equal_exact_expansion(lat, gvals, quantity):
    # phi^4 + phi^3 + phi^6 + phi^2 counterterm at once; oracle: S_int = t sum_n g_n/n! phi^n
    shape, g, c = lat
    theory = Theory(((4, "lam"), (3, "g3"), (6, "g6"), (2, "c2")))
    s = expand(local_phi(2, theory), theory, 2) if quantity == "phi2" else monotone(2, quantity, "bare", theory)
    fam = {}
    per_order = [Fraction(0)] * 3
    for t in s.terms:
        if t.family not in fam:
            fam[t.family] = exact_family_value(t.family, g, c)
        w = t.coeff * fam[t.family]
        for gv, p in zip(gvals, t.powers):
            w *= gv**p
        per_order[t.order] += w
    ref = exact_expansion(g, c, 2, quantity, couplings=tuple(zip((4, 3, 6, 2), gvals)))
    assert per_order == ref


@pytest.mark.slow
@given(rational_lattice(shapes=[(2,), (3,)]))
def test_order4_equals_exact_gaussian_expansion(lat):
    shape, g, c = lat
    assert exact_series_value(monotone(4, "B"), g, c) == exact_expansion(g, c, 4, "B")


# ---------------------------------------------------------------------------
# identities
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["bare", "normal-ordered"])
@pytest.mark.parametrize("theory", [PHI4, Theory(((4, "lam"), (3, "g3"), (6, "g6")))])
def test_schwinger_dyson_dS_dShat_is_exactly_minus_2_f0(scheme, theory):
    # <Cdot dS dShat> = <Cdot d(dShat)> = tr(Cdot G^-1) = f0, no coupling corrections (SPEC 2.2)
    s = piece("dSdShat", 4 if theory is PHI4 else 3, scheme, theory)
    assert [(t.coeff, t.family.name) for t in s.terms] == [(Fraction(-2), "f0")]


def test_schwinger_dyson_dS_dS_equals_second_derivative():
    # <Cdot dS dS> = <tr(Cdot d^2 S)> = f0 + (lam/2) <Cdot_xx phi_x^2>: the right side is a
    # different operator (a D self-loop on a phi^2 vertex), expanded independently.
    order = 4
    lhs = piece("dSdS", order).as_dict()  # = 1/2 <Cdot dS dS>
    rhs_op = Operator(
        "lam/2 <Cdot_xx phi_x^2>", (OperatorTerm(Fraction(1, 2), (1,), (OpVertex(2),), ((0, 0, Line(0, 1)),)),)
    )
    rhs = expand(rhs_op, PHI4, order).as_dict()
    rhs[((0,), NAMED_FAMILIES["f0"])] = rhs.get(((0,), NAMED_FAMILIES["f0"]), 0) + 1
    assert {k: v / 2 for k, v in rhs.items()} == lhs


def test_lambda_dshat_piece_is_half_of_dshat_dshat():
    # -2 <Lambda dShat> = <Cdot dShat dShat> since Lambda d(Kt^-1) = -D/Kt^2 (5.4)
    half = {k: v / 2 for k, v in piece("dShatdShat", 3).as_dict().items()}
    assert piece("LdShat", 3).as_dict() == half


def test_free_theory_exact():
    # one mode, propagator k: A = (3/2) D/k, B = (1/2) D/k (SPEC 2.1); in families: f0
    assert monotone(0, "A").coefficient_dict(0) == {"f0": Fraction(3, 2)}
    assert monotone(0, "B").coefficient_dict(0) == {"f0": Fraction(1, 2)}
    g, c = _one_mode(Fraction(7, 3), Fraction(5, 11))
    assert exact_series_value(monotone(0, "B"), g, c) == [Fraction(5, 11) / Fraction(7, 3) / 2]


def test_normal_ordering_equals_bare_with_mass_counterterm():
    # lam/4! :phi^4: = lam/4! phi^4 - (lam T/4) phi^2 + const, i.e. a phi^2 coupling
    # c2 = -lam T / 2 (normalized c2/2! phi^2).  Substitute c2 -> -T lam/2 in the bare series.
    order = 3
    theory = Theory(((4, "lam"), (2, "c2")))
    T = NAMED_FAMILIES["T"]
    for form in ("A", "B"):
        bare = monotone(order, form, "bare", theory)
        subst = {}
        for t in bare.terms:
            a, b = t.powers
            fam = t.family
            for _ in range(b):
                fam = fam * T
            key = ((a + b,), fam)
            subst[key] = subst.get(key, 0) + t.coeff * Fraction(-1, 2) ** b
        subst = {k: v for k, v in subst.items() if v != 0}
        assert subst == monotone(order, form, "normal-ordered").as_dict()


def test_complete_expansion_needs_products_beyond_f0_f1_f2():
    # SPEC 2.2: tadpole insertions give T*T2*t1 and T^2*u1 at O(lam^2)
    names = set(monotone(2, "A").coefficient_dict(2))
    assert {"t1·T·T2", "u1·T^2", "f2"} <= names


# ---------------------------------------------------------------------------
# family reduction
# ---------------------------------------------------------------------------

K, D = Line(1), Line(0, 1)


@given(st.permutations(range(5)))
def test_family_reduction_is_invariant_under_relabelling(perm):
    # a dressed sunset with a tadpole on one line and a D line: relabel the raw vertices
    edges = [(0, 1, D), (0, 1, K), (0, 2, K), (2, 1, K), (0, 3, K), (3, 1, K), (3, 4, K), (4, 4, K), (2, 2, K)]
    ref = reduce_graph(5, edges)
    assert reduce_graph(5, [(perm[i], perm[j], l) for i, j, l in edges]) == ref
    # by hand: tadpoles at 2 and 4 are T loops, 3-4 is a zero-momentum bridge, and the paths
    # 0-2-1, 0-3-1 reduce in series to Kt^2 lines of a melon with D and K
    assert ref.name == "M[D,K,K2,K2]·T^2·K(0)"


def test_named_families_from_raw_graphs():
    assert reduce_graph(2, [(0, 1, D), (0, 1, K), (0, 1, K), (0, 1, K)]) == NAMED_FAMILIES["f2"]
    assert reduce_graph(1, [(0, 0, D), (0, 0, K)]) == NAMED_FAMILIES["f1"]
    assert reduce_graph(2, [(0, 1, D), (0, 1, Line(-1))]) == NAMED_FAMILIES["f0"]
    assert reduce_graph(3, [(0, 1, D), (0, 2, K), (1, 2, K)]).name == "u2"


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(order=-1), "order"),
        (dict(order=99), "order"),
        (dict(order=1.5), "order"),
        (dict(order=2, form="C"), "form"),
        (dict(order=2, scheme="weird"), "scheme"),
    ],
)
def test_bad_input_names_the_parameter(kwargs, word):
    with pytest.raises(InputError, match=word):
        monotone(**kwargs)


def test_order_beyond_supported_is_its_own_error():
    with pytest.raises(OrderNotSupportedError, match="order=99"):
        monotone(99)
    assert issubclass(OrderNotSupportedError, ValueError) and issubclass(OrderNotSupportedError, ErgsymError)


def test_bad_piece_and_theory():
    with pytest.raises(InputError, match="piece"):
        piece("dXdY", 2)
    with pytest.raises(InputError, match="coupling degree"):
        Theory(((1, "h"),))
    assert set(PIECES) == {"dSdS", "dSdShat", "dShatdShat", "LdShat"}


def test_factor_decomposition_sums_to_each_piece():
    from ergsym.symbolic import factor_decomposition

    dec = factor_decomposition(3)
    for name, parts in dec.items():
        acc = {}
        for s in parts.values():
            for k, v in s.as_dict().items():
                acc[k] = acc.get(k, 0) + v
        assert {k: v for k, v in acc.items() if v} == piece(name, 3).as_dict()


def test_literal_5_13_operator_reproduces_the_printed_order_lam_term():
    # (5.13) prints the operator -2<Cdot dS dS>; expanding that literal operator gives the
    # printed O(lam) coefficient -f1 (attribution of the printed number), while the operator
    # the expansion of (5.6) needs, -2<Cdot dS dShat>, has no O(lam) term at all.
    from ergsym.symbolic import literal_5_13

    lit = literal_5_13(2)
    assert lit.coefficient_dict(1) == {"f1": PRINTED["dSdShat"][1]["f1"]}
    assert piece("dSdShat", 2).coefficient_dict(1) == {}


def _aut_order(n_op, n, edges):
    """|Aut| of a multigraph by brute force: vertex permutations fixing the operator
    vertices and preserving multiplicities, times multi-edge permutations and self-loop flips."""
    mult = {}
    for i, j, kind, c in edges:
        mult[(i, j, kind)] = mult.get((i, j, kind), 0) + c
    count = 0
    for perm in itertools.permutations(range(n_op, n)):
        mp = list(range(n_op)) + list(perm)
        img = {}
        for (i, j, _kind), c in mult.items():
            key = (min(mp[i], mp[j]), max(mp[i], mp[j]), kind)
            img[key] = img.get(key, 0) + c
        count += img == mult
    import math as _m

    for (i, j, _kind), c in mult.items():
        count *= _m.factorial(c) * (2**c if i == j else 1)
    return count


@pytest.mark.parametrize("which, order", [("vacuum", 4), ("phi2", 3), ("phi2-phi6", 2)])
def test_diagram_weights_are_inverse_automorphism_counts(which, order):
    # textbook symmetry factors, computed here by brute-force automorphism counting:
    # weight = prod_{operator vertices} deg! / |Aut|, e.g. 1/8 figure-eight, 1/6 sunset.
    import math as _m

    from ergsym.symbolic.wick import diagrams

    theory = PHI4 if which != "phi2-phi6" else Theory(((4, "lam"), (6, "g6")))
    op = log_z(theory) if which == "vacuum" else local_phi(2, theory)
    ds = diagrams(op, theory, order)
    n_op = len(op.terms[0].vertices)
    assert len(ds) >= 4
    for d in ds:
        op_fact = 1
        for v in d.vertices[:n_op]:
            op_fact *= _m.factorial(v.degree)
        assert d.weight == Fraction(op_fact, _aut_order(n_op, len(d.vertices), d.edges))
    # and the diagrams add up to the series, family by family
    acc = {}
    for d in ds:
        acc[(d.powers, d.family)] = acc.get((d.powers, d.family), 0) + d.coeff
    assert {k: v for k, v in acc.items() if v} == expand(op, theory, order).as_dict()


def test_known_symmetry_factors():
    from ergsym.symbolic.wick import diagrams

    w = {d.family.name: d.weight for d in diagrams(local_phi(2, PHI4), PHI4, 2)}
    assert w["T·T2"] == Fraction(1, 2) and w["M[K,K,K,K2]"] == Fraction(1, 6)  # tadpole, sunset
    v = {d.family.name: d.weight for d in diagrams(log_z(PHI4), PHI4, 2)}
    assert v["T^2"] == Fraction(1, 8) and v["M[K,K,K,K]"] == Fraction(1, 48)


# ---------------------------------------------------------------------------
# the engine against the stored results of its previous implementation
# ---------------------------------------------------------------------------


def _reference_records():
    import json
    from pathlib import Path

    path = Path(__file__).parent / "data" / "engine_reference.json"
    return json.loads(path.read_text())["records"]


_REFERENCE = _reference_records()


@pytest.mark.parametrize(
    "record", _REFERENCE, ids=[f"{r['theory']}-{r['scheme']}-{r['quantity']}-O{r['order']}" for r in _REFERENCE]
)
def test_engine_reproduces_previous_engine_exactly(record):
    # Reference: tests/data/engine_reference.json, generated by the previous labelled-multigraph
    # engine (commit 2e2bbe8, see the file's provenance) with tests/make_engine_reference.py:
    # every coefficient of A, B, the four pieces, <phi^2> and log Z, both schemes, phi4
    # through O(lam^5) and phi4+phi6 through total order 4, must be identical.
    from make_engine_reference import compute, series_record

    got = series_record(compute(record["theory"], record["order"], record["scheme"], record["quantity"]))
    assert got == record["terms"]


def test_lower_orders_are_truncations_of_higher_ones():
    # the per-term memo must not leak terms of one order into another
    from ergsym.symbolic.wick import clear_cache

    clear_cache()
    low = monotone(3, "A", "bare")
    high = monotone(5, "A", "bare")
    assert low.as_dict() == {k: v for k, v in high.as_dict().items() if sum(k[0]) <= 3}


def test_cli_refuses_derivations_estimated_too_long(capsys):
    # phi4+phi6 at O(6) (measured: more than 9 minutes) is estimated above the CLI's limit:
    # refused before any work, exit 2, message
    # naming the parameter, the allowed value, the value and what to do
    from ergsym.cli import main
    from ergsym.cli.monotone import MAX_ESTIMATED_SECONDS
    from ergsym.symbolic import parse_theory
    from ergsym.symbolic.wick import estimated_seconds

    assert estimated_seconds(6, parse_theory("phi4+phi6")) > MAX_ESTIMATED_SECONDS
    assert estimated_seconds(5, parse_theory("phi4+phi6")) < MAX_ESTIMATED_SECONDS
    with pytest.raises(SystemExit) as exc:
        main(["monotone", "--order", "6", "--theory", "phi4+phi6"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert "--order=6" in err and "at most 5" in err and "lower --order" in err
    assert "Traceback" not in err


def test_cost_estimate_grows_with_order_and_matches_phi4_measurements():
    from ergsym.symbolic.wick import MEASURED_SECONDS, estimated_seconds

    est = [estimated_seconds(k, PHI4) for k in range(7)]
    assert est == sorted(est)
    assert est == [MEASURED_SECONDS[k] for k in range(7)]
    assert estimated_seconds(6, PHI4, "normal-ordered") < est[6]


def test_canonical_block_edges_equal_brute_force_minimum():
    # Reference: the definition -- the smallest sorted edge tuple over every relabelling,
    # compared as tuples (the implementation compares order-preserving integer codes)
    import random

    from ergsym.families import _canonical_edges

    def brute(n, edges):
        return min(
            tuple(sorted((min(p[i], p[j]), max(p[i], p[j]), l) for i, j, l in edges))
            for p in itertools.permutations(range(n))
        )

    rng = random.Random(12)
    lines = [Line(1, 0), Line(2, 0), Line(0, 1), Line(1, 1), Line(-1, 0), Line(-1, 1), Line(0, 0, 1)]
    for _ in range(400):
        n = rng.randint(1, 6)
        es = []
        for _ in range(rng.randint(1, 11)):
            i, j = rng.randrange(n), rng.randrange(n)
            es.append((min(i, j), max(i, j), rng.choice(lines[: rng.randint(1, len(lines))])))
        es = tuple(sorted(es))
        assert _canonical_edges.__wrapped__(n, es) == brute(n, es)
