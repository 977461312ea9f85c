"""O(N) models in the diagram engine: every coefficient an exact polynomial in N.

Checks, each by an independent route:

* N = 1 is exactly the single-scalar engine (the stored reference of the previous engine);
* the O(N) tensor weights emerge from the engine's own diagrams: tadpole and sunset (N+2)/3,
  the s+t+u bubble (N+8)/9;
* zero dimensions: a closed-form oracle built here from the Gaussian moments
  <(phi.phi)^k>_0 = (2 Kt)^k Gamma(N/2+k)/Gamma(N/2) (a polynomial in N), symbolic N, to O(lam^4);
* small lattices, N = 2, 3: the brute-force Gaussian-moment oracle on the V N variables;
* large N: the leading power of N at each order, against the saddle point of the radial integral.
"""

import json
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ergsym.errors import InputError
from ergsym.symbolic import Theory, expand, local_phi, log_z, monotone, parse_theory
from ergsym.symbolic.npoly import NPoly, as_npoly
from ergsym.symbolic.oracle import circulant, exact_expansion, exact_series_value
from ergsym.symbolic.wick import diagrams, on_weight

N = NPoly.N()
QUANTITIES = ["dSdS", "dSdShat", "dShatdShat", "LdShat", "A", "B"]
SYM = Theory(N="N")


def _quantity(q, theory, order, scheme="bare"):
    if q == "phi2":
        return expand(local_phi(2, theory), theory, order, scheme)
    if q == "logZ":
        return expand(log_z(theory), theory, order, scheme)
    return monotone(order, q, scheme, theory)


# ---------------------------------------------------------------------------
# N = 1 is today's engine
# ---------------------------------------------------------------------------


def _reference_records(max_order):
    path = Path(__file__).parent / "data" / "engine_reference.json"
    return json.loads(path.read_text())["records"]


@pytest.mark.parametrize("scheme", ["bare", "normal-ordered"])
def test_symbolic_n_at_one_is_the_stored_single_scalar_series(scheme):
    # Reference: tests/data/engine_reference.json (the previous single-scalar engine, see its
    # provenance), truncated to O(lam^4): the polynomials in N evaluated at N = 1 must give
    # every coefficient exactly.
    from make_engine_reference import series_record

    for rec in _reference_records(4):
        if rec["theory"] != "phi4" or rec["scheme"] != scheme:
            continue
        s = _quantity(rec["quantity"], Theory(N="N"), 4, scheme).at_n(1)
        want = [t for t in rec["terms"] if sum(t[0]) <= 4]
        assert series_record(s) == want, rec["quantity"]


def test_symbolic_n_at_integer_equals_derivation_at_that_n():
    for n in (1, 2, 3, 7):
        for q in ("A", "B", "phi2", "logZ"):
            assert _quantity(q, SYM, 3).at_n(n) == _quantity(q, Theory(N=n), 3)
    assert monotone(3, "B", "normal-ordered", SYM).at_n(4) == monotone(3, "B", "normal-ordered", Theory(N=4))


def test_weight_is_one_at_n_one_for_every_diagram():
    from ergsym.symbolic.operators import cdot

    ops = [cdot("dS", "dS", SYM, "bare", coeff=Fraction(1, 2)), log_z(SYM), local_phi(2, SYM)]
    count = 0
    for op in ops:
        for d in diagrams(op, SYM, 3):
            assert d.n_weight(1) == 1
            count += 1
    assert count > 40


# ---------------------------------------------------------------------------
# tensor weights emerge from the engine's own diagrams
# ---------------------------------------------------------------------------


def _edges(d):
    """``{(i, j): multiplicity}`` of a diagram's field lines."""
    return {(i, j): m for i, j, kind, m in d.edges if kind == "K"}


def test_tadpole_and_sunset_weight_n_plus_2_over_3():
    ds = diagrams(local_phi(2, SYM), SYM, 2)
    # <phi.phi> at O(lam): one diagram, the tadpole: operator 0 -- 1 twice, self-loop at 1
    (tad,) = [d for d in ds if sum(d.powers) == 1]
    assert _edges(tad) == {(0, 1): 2, (1, 1): 1}
    assert tad.n_weight == N * (N + 2) / 3  # = N (components summed) x (N+2)/3
    # the sunset: 0-1, 0-2 once, 1-2 three times
    (sun,) = [d for d in ds if _edges(d) == {(0, 1): 1, (0, 2): 1, (1, 2): 3}]
    assert sun.n_weight == N * (N + 2) / 3
    # relative to N = 1, per component: (N+2)/3
    assert sun.n_weight * Fraction(1) == N * ((N + 2) / 3)
    # the same ratios in the engine's coefficients of B (sunset family f2, tadpole family f1)
    b_n, b_1 = monotone(2, "B", theory=SYM), monotone(2, "B")
    for fam in ("f1", "f2"):
        k = 1 if fam == "f1" else 2
        assert b_n.coefficient_dict(k)[fam] == b_1.coefficient_dict(k)[fam] * N * (N + 2) / 3


def test_s_t_u_bubble_weight_n_plus_8_over_9():
    ds = diagrams(log_z(SYM), SYM, 3)
    (melon,) = [d for d in ds if _edges(d) == {(0, 1): 4}]
    (ring,) = [d for d in ds if _edges(d) == {(0, 1): 2, (0, 2): 2, (1, 2): 2}]
    # each s+t+u bubble inserted into a bubble chain multiplies the weight by (N+8)/9
    assert melon.n_weight == N * (N + 2) / 3
    assert ring.n_weight == melon.n_weight * (N + 8) / 9
    # and a direct contraction of the three-bubble ring, vertices labelled arbitrarily
    assert on_weight([(2, 0), (0, 2), (1, 2), (2, 1), (1, 0), (0, 1)], 3) == N * (N + 2) * (N + 8) / 27


def test_figure_eight_and_double_tadpole_weights():
    # hand contractions: (phi.phi)^2 with both pairs closed gives N(N+2)/3 (= <(phi.phi)^2>_0/3
    # with unit propagator); two such vertices joined by two lines and each with a self-loop
    # give N (N+2)^2 / 9
    assert on_weight([(0, 0), (0, 0)], 1) == N * (N + 2) / 3
    assert on_weight([(0, 0), (0, 1), (0, 1), (1, 1)], 2) == N * (N + 2) * (N + 2) / 9
    assert on_weight([(0, 0), (0, 1), (0, 1), (1, 1)], 2, 1) == 1


# ---------------------------------------------------------------------------
# zero dimensions: closed-form radial oracle in exact rationals
# ---------------------------------------------------------------------------


def _radial_moment(j, kt):
    """<(phi.phi)^j>_0 = (2 Kt)^j Gamma(N/2 + j)/Gamma(N/2) = (2 Kt)^j prod_{i<j} (N/2 + i)."""
    out = NPoly((1,))
    for i in range(j):
        out = out * (N / 2 + i) * (2 * kt)
    return out


def _zero_dim_oracle(quantity, kt, d, order):
    """Series in lam (NPoly coefficients) of <F(r)>, r = phi.phi, one site with N components.

    S = r/(2 Kt) + lam r^2/24; dShat_a = phi_a/Kt, dS_a = phi_a (1/Kt + lam r/6), Cdot = D,
    -2 Lambda dShat/dLambda = D r/Kt^2.  Each operator is a polynomial in lam and r given
    as {(lam power, r power): coefficient}.
    """
    kt, d = Fraction(kt), Fraction(d)
    ops = {
        "phi2": {(0, 1): 1},
        "LdShat": {(0, 1): d / kt**2},
        "dShatdShat": {(0, 1): 2 * d / kt**2},
        "dSdShat": {(0, 1): -2 * d / kt**2, (1, 2): -d / (3 * kt)},
        "dSdS": {(0, 1): d / (2 * kt**2), (1, 2): d / (6 * kt), (2, 3): d / 72},
    }
    for form, sgn in (("A", 1), ("B", -1)):
        acc = {}
        for name in ("dSdS", "dSdShat", "dShatdShat"):
            for key, v in ops[name].items():
                acc[key] = acc.get(key, 0) + sgn * v
        for key, v in ops["LdShat"].items():
            acc[key] = acc.get(key, 0) + v
        ops[form] = acc

    # Z = sum_k (-1/24)^k / k! <r^(2k)> lam^k
    def fact(k):
        out = 1
        for i in range(2, k + 1):
            out *= i
        return out

    z = [_radial_moment(2 * k, kt) * Fraction((-1) ** k, 24**k * fact(k)) for k in range(order + 1)]
    if quantity == "logZ":
        out = [NPoly()] * (order + 1)
        for k in range(1, order + 1):
            out[k] = z[k] - sum((out[j] * z[k - j] * Fraction(j, k) for j in range(1, k)), NPoly())
        return out
    num = [NPoly()] * (order + 1)
    for (i, p), c in ops[quantity].items():
        for k in range(order + 1 - i):
            w = Fraction((-1) ** k, 24**k * fact(k))
            num[i + k] = num[i + k] + _radial_moment(p + 2 * k, kt) * c * w
    out = []
    for k in range(order + 1):
        out.append(num[k] - sum((out[j] * z[k - j] for j in range(k)), NPoly()))
    return out


def test_zero_dim_oracle_reproduces_known_series():
    # closed forms quoted in docs/conventions.md: <phi.phi> = N Kt - N(N+2) lam Kt^3/6 + O(lam^2);
    # at N = 1 the single-scalar <phi^2> = 1 - l/2 + 2/3 l^2 - 11/8 l^3 + 34/9 l^4 and
    # log Z = -l/8 + l^2/12 - 11/96 l^3 (unit propagator)
    kt = Fraction(3, 2)
    phi2 = _zero_dim_oracle("phi2", kt, 1, 1)
    assert phi2 == [N * kt, -N * (N + 2) * kt**3 / 6]
    assert [c(1) for c in _zero_dim_oracle("phi2", 1, 1, 4)] == [
        1,
        Fraction(-1, 2),
        Fraction(2, 3),
        Fraction(-11, 8),
        Fraction(34, 9),
    ]
    assert [c(1) for c in _zero_dim_oracle("logZ", 1, 1, 3)] == [0, Fraction(-1, 8), Fraction(1, 12), Fraction(-11, 96)]


@pytest.mark.parametrize("quantity", QUANTITIES + ["phi2", "logZ"])
def test_zero_dim_symbolic_n_equals_radial_oracle_to_order_4(quantity):
    kt, d = Fraction(3, 2), Fraction(2, 5)
    series = _quantity(quantity, SYM, 4)
    assert series.theory.symbolic_n
    got = exact_series_value(series, [[kt]], [[d]])
    assert got == _zero_dim_oracle(quantity, kt, d, 4)


def test_zero_dim_normal_ordered_phi2_first_order_vanishes():
    # :(phi.phi)^2: has no self-contraction, so <phi.phi> has no O(lam) tadpole for any N
    s = _quantity("phi2", SYM, 2, "normal-ordered")
    got = exact_series_value(s, [[Fraction(1)]], [[Fraction(1)]])
    assert got[0] == N and got[1] == 0
    # O(lam^2): only the sunset, weight N(N+2)/3 x its N = 1 value (1/6 with unit propagator,
    # from the single-scalar engine)
    one = exact_series_value(_quantity("phi2", Theory(), 2, "normal-ordered"), [[1]], [[1]])
    assert got[2] == N * (N + 2) / 3 * one[2]


# ---------------------------------------------------------------------------
# small lattices with N components: brute-force Gaussian moments on V N variables
# ---------------------------------------------------------------------------

small_fraction = st.builds(Fraction, st.integers(-6, 6), st.integers(1, 7))


@st.composite
def rational_lattice(draw):
    """(shape, G, Cdot): symmetric rational circulants on V = 2..4 sites, G invertible."""
    shape = draw(st.sampled_from([(2,), (3,), (4,), (2, 2)]))

    def sym_values(diag_min):
        vals = {}
        import itertools

        for r in itertools.product(*[range(n) for n in shape]):
            mr = tuple((-a) % n for a, n in zip(r, shape, strict=True))
            vals[r] = vals[mr] if mr in vals else draw(small_fraction)
        diag = st.builds(Fraction, st.integers(diag_min, diag_min + 20), st.integers(1, 3))
        vals[(0,) * len(shape)] = draw(diag)
        return vals

    return shape, circulant(shape, sym_values(40)), circulant(shape, sym_values(1))


@settings(max_examples=10)
@given(
    lat=rational_lattice(),
    n=st.sampled_from([2, 3]),
    quantity=st.sampled_from(QUANTITIES + ["phi2", "logZ"]),
    scheme=st.sampled_from(["bare", "normal-ordered"]),
)
def test_lattice_engine_with_n_components_equals_exact_moments(lat, n, quantity, scheme):
    shape, g, c = lat
    if n == 3 and len(g) == 4 and quantity not in ("phi2", "logZ"):
        n = 2  # keep the oracle (V N = 12 variables, degree 10 polynomials) well under a second
    want = exact_expansion(g, c, 2, quantity, normal_ordered=scheme == "normal-ordered", n_components=n)
    symbolic = exact_series_value(_quantity(quantity, SYM, 2, scheme), g, c)
    assert [as_npoly(p)(n) for p in symbolic] == want
    assert exact_series_value(_quantity(quantity, Theory(N=n), 2, scheme), g, c) == want


def test_lattice_order_3_n_2_three_sites():
    g = circulant((3,), {(0,): Fraction(7, 2), (1,): Fraction(1, 3), (2,): Fraction(1, 3)})
    c = circulant((3,), {(0,): Fraction(2, 5), (1,): Fraction(-1, 7), (2,): Fraction(-1, 7)})
    for q in ("B", "A"):
        assert exact_series_value(monotone(3, q, theory=Theory(N=2)), g, c) == exact_expansion(
            g, c, 3, q, n_components=2
        )


def test_oracle_with_n_components_differs_from_wrong_weights():
    # the lattice comparison can fail: the N = 2 oracle is not the N = 1 series times N
    g = circulant((2,), {(0,): Fraction(3), (1,): Fraction(1, 2)})
    c = circulant((2,), {(0,): Fraction(1), (1,): Fraction(1, 3)})
    want = exact_expansion(g, c, 2, "B", n_components=2)
    naive = [2 * v for v in exact_series_value(monotone(2, "B"), g, c)]
    assert want[0] == naive[0] and want[1] != naive[1] and want[2] != naive[2]


# ---------------------------------------------------------------------------
# large N
# ---------------------------------------------------------------------------


def test_large_n_leading_coefficients_follow_the_saddle_point():
    # With g = lam N fixed and N -> infinity, r = N rho and the radial integral is dominated by
    # the saddle rho (1/Kt + g rho/6) = 1 (Kt = 1): rho = 1/(1 + g rho/6), solved here as a
    # power series.  The coefficient of lam^k N^(k+1) in <phi.phi> must be rho_k, and no
    # coefficient at order k may exceed degree k+1 in N (each vertex adds at most one index loop).
    order = 4
    rho = [Fraction(1)]
    for k in range(1, order + 1):
        rho.append(-Fraction(1, 6) * sum(rho[i] * rho[k - 1 - i] for i in range(k)))
    got = exact_series_value(_quantity("phi2", SYM, order), [[Fraction(1)]], [[Fraction(1)]])
    for k in range(order + 1):
        assert got[k].degree == k + 1
        assert got[k].leading() == rho[k]
    for t in monotone(order, "B", theory=SYM).terms:
        assert t.coeff.degree <= t.order + 1


def test_tadpole_chains_carry_the_top_power_of_n():
    # B at O(lam^k): the cactus families (chains of tadpoles, T^j...) carry N^(k+1) with
    # coefficient (N = 1 coefficient)/3^k; the sunset f2 (one melon) only N^2.
    sym, one = monotone(3, "B", theory=SYM), monotone(3, "B")
    c1 = {(t.powers, t.family): t.coeff for t in one.terms}
    for t in sym.terms:
        if t.family.name in ("f1", "t1·T·T2", "u1·T^2", "t1·T^2·T3", "u2·T^3"):
            assert t.coeff.degree == t.order + 1
            assert t.coeff.leading() == c1[(t.powers, t.family)] / 3**t.order
    f2 = next(t for t in sym.terms if t.family.name == "f2")
    assert f2.coeff.degree == 2


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "M", None])
def test_bad_n_is_refused(bad):
    with pytest.raises(InputError, match="N="):
        Theory(N=bad)


def test_odd_coupling_with_n_is_refused():
    with pytest.raises(InputError, match="no O\\(N\\)-invariant meaning"):
        parse_theory("phi4+phi3", N=2)
    with pytest.raises(InputError, match="no O\\(N\\)-invariant meaning"):
        Theory(((4, "lam"), (3, "g3")), N="N")
    assert Theory(((4, "lam"), (3, "g3")), N=1).N == 1


def test_symbolic_series_refuses_float_evaluation_and_round_trips_json():
    s = monotone(2, "B", theory=SYM)
    with pytest.raises(InputError, match="polynomials in N"):
        s.evaluate(lambda fam: 0.5)
    from ergsym.symbolic import Series

    back = Series.from_dict(json.loads(json.dumps(s.to_dict())))
    assert back == s
    assert s.from_sympy(s.to_sympy()) == s
    assert Series.from_dict(json.loads(json.dumps(s.at_n(3).to_dict()))) == s.at_n(3)


def test_npoly_parse_round_trip():
    for p in (N * (N + 2) / 3, -(N**3) / 72 + N / 5 - 7, NPoly(), NPoly((Fraction(-1, 2),)), -N):
        assert NPoly.parse(str(p)) == p


def test_odd_local_operator_and_odd_vertex_refused_with_n():
    from ergsym.symbolic.wick import Operator, OperatorTerm, OpVertex

    with pytest.raises(InputError, match="even for an O\\(N\\) theory"):
        local_phi(3, SYM)
    odd = Operator("odd", (OperatorTerm(Fraction(1), (0,), (OpVertex(3), OpVertex(1))),), "per-site")
    with pytest.raises(InputError, match="index slots"):
        expand(odd, Theory(N=2), 1)
    assert expand(odd, Theory(), 1).terms  # fine for one real scalar


_coeffs = st.lists(st.builds(Fraction, st.integers(-50, 50), st.integers(1, 12)), max_size=5)


@given(a=_coeffs, b=_coeffs, n=st.integers(-5, 40))
def test_npoly_arithmetic_matches_evaluation(a, b, n):
    p, q = NPoly(a), NPoly(b)
    assert (p * q)(n) == p(n) * q(n)
    assert (p + q)(n) == p(n) + q(n) and (p - q)(n) == p(n) - q(n)
    assert NPoly.parse(str(p)) == p and NPoly.parse(str(-q)) == -q
    assert (p * Fraction(3, 7))(n) == p(n) * Fraction(3, 7)
