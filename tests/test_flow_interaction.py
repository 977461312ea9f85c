"""The O(lam^2) flowed interaction and the monotone along the flow, exactly (SPEC sections 4, 5).

Independent routes:

* symbolic substitution of the derived ``V_Lambda`` into Polchinski's equation (2.4)
  (graph algebra, :func:`ergsym.flow.polchinski_residual`);
* on small lattices with random rational ``Delta``, ``D``, ``G`` (no relation imposed, so
  families are separated): the diagrams written out as polynomials equal the brute-force
  Gaussian convolution of :mod:`ergsym.flow.oracle` (chi moments + log series, no graphs),
  which itself satisfies (2.4) with an exact Lambda-derivative;
* A, B, the pieces and <phi^2> along the flow: series with exact family values equal the
  brute-force expansion with the oracle's V_Lambda and literal operators;
* at Lambda = Lambda0 (Delta = 0) the series reduce to the engine's series at Lambda0.
"""

import itertools
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ergsym.errors import InputError, OrderNotSupportedError
from ergsym.flow import (
    EffTerm,
    describe_term,
    effective_interaction,
    flow_monotone,
    flow_phi2,
    has_delta,
    polchinski_residual,
    running_couplings,
)
from ergsym.flow.oracle import (
    effterms_polynomial,
    exact_flow_family_value,
    oracle_flow_quantity,
    oracle_interaction,
    polchinski_check,
)
from ergsym.symbolic import monotone
from ergsym.symbolic.oracle import circulant

small = st.builds(Fraction, st.integers(-5, 5), st.integers(1, 6))


@st.composite
def flow_lattice(draw, shapes=((1,), (2,), (3,), (4,), (2, 2))):
    """(G, D, Delta): symmetric rational circulants; G diagonally dominant (invertible)."""
    shape = draw(st.sampled_from(shapes))

    def sym(diag):
        vals = {}
        for r in itertools.product(*[range(n) for n in shape]):
            mr = tuple((-a) % n for a, n in zip(r, shape))
            vals[r] = vals[mr] if mr in vals else draw(small)
        vals[(0,) * len(shape)] = diag
        return circulant(shape, vals)

    g = sym(draw(st.builds(Fraction, st.integers(30, 60), st.integers(1, 3))))
    d = sym(draw(st.builds(Fraction, st.integers(1, 9), st.integers(1, 3))))
    delta = sym(draw(st.builds(Fraction, st.integers(1, 9), st.integers(1, 3))))
    return g, d, delta


# -- symbolic -----------------------------------------------------------------------


def test_first_order_interaction_is_the_textbook_one():
    # Reference: E_chi[(lam/4!)(phi+chi)^4] = lam/24 phi^4 + lam/4 Delta(0) phi^2 + lam/8 Delta(0)^2
    got = {describe_term(t): t.coeff for t in effective_interaction(1)}
    assert got == {
        "sum_{x0} Delta(0)^2": Fraction(1, 8),
        "sum_{x0} Delta(0) phi(x0)^2": Fraction(1, 4),
        "sum_{x0} phi(x0)^4": Fraction(1, 24),
    }


def test_second_order_has_the_structures_of_the_design_card():
    terms = [t for t in effective_interaction(2) if t.power == 2]
    by_legs = {}
    for t in terms:
        by_legs.setdefault(t.n_legs, []).append(t)
    assert sorted(by_legs) == [0, 2, 4, 6]
    # tree phi^6: -1/2 * (lam/4!)^2 * 4*4 (one Delta between two phi^3) = -lam^2/72
    (six,) = by_legs[6]
    assert six.coeff == Fraction(-1, 72) and six.edges == ((0, 1, "Delta"),)
    # one-loop bubble: -1/2 (1/24)^2 * C(4,2)^2 * 2 = -1/16
    bubble = [t for t in by_legs[4] if t.legs == (2, 2)]
    assert len(bubble) == 1 and bubble[0].coeff == Fraction(-1, 16)
    # sunset: -1/2 (1/24)^2 * 4 * 4 * 3! = -1/12
    sun = [t for t in by_legs[2] if t.edges == ((0, 1, "Delta"),) * 3]
    assert len(sun) == 1 and sun[0].coeff == Fraction(-1, 12)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_polchinski_equation_holds_symbolically(order):
    assert polchinski_residual(order) == ()


def test_substitution_check_detects_a_wrong_coefficient():
    terms = list(effective_interaction(2))
    k = next(i for i, t in enumerate(terms) if t.n_legs == 6)
    t = terms[k]
    terms[k] = EffTerm(t.coeff * 2, t.power, t.n_vertices, t.legs, t.edges)
    assert polchinski_residual(2, terms) != ()


def test_running_couplings_first_orders():
    rc = running_couplings(2)
    assert rc["lam"].coefficient_dict(1) == {"1": Fraction(1)}
    assert rc["lam"].coefficient_dict(2) == {"L[Δ2]": Fraction(-3, 2), "L[Δ]·Δ(0)": Fraction(-2)}
    assert rc["m2"].coefficient_dict(1) == {"L[Δ]": Fraction(1, 2)}


@pytest.mark.parametrize("form", ["A", "B", "dSdS", "dSdShat", "dShatdShat", "LdShat"])
def test_flow_series_reduce_to_the_engine_at_lambda0(form):
    s = flow_monotone(2, form)
    no_delta = {k: v for k, v in s.as_dict().items() if not has_delta(k[1])}
    assert no_delta == monotone(2, form).as_dict()
    if form != "dSdShat":  # dSdShat = -2 f0 exactly (Schwinger-Dyson, below)
        assert any(has_delta(t.family) for t in s.terms if t.order >= 1)


def test_schwinger_dyson_along_the_flow():
    # -2 <Cdot dS dShat> = -2 f0 with no lam corrections at any Lambda (SPEC 2.2 / SD)
    s = flow_monotone(3, "dSdShat")
    assert [(t.coeff, t.family.name, t.order) for t in s.terms] == [(Fraction(-2), "f0", 0)]


def test_bad_orders_are_refused():
    with pytest.raises(OrderNotSupportedError, match="order=4"):
        effective_interaction(4)
    with pytest.raises(InputError, match="order"):
        flow_monotone(-1, "B")
    with pytest.raises(InputError, match="form"):
        flow_monotone(1, "C")


# -- exact lattices ---------------------------------------------------------------------


@settings(max_examples=8)
@given(flow_lattice(shapes=((1,), (2,), (3,), (4,))))
def test_diagrams_equal_brute_force_convolution_and_solve_2_4(lat):
    g, d, delta = lat
    order = 2
    terms = effective_interaction(order)
    oracle = oracle_interaction(delta, order)
    assert effterms_polynomial(terms, delta, order) == oracle
    res = polchinski_check(lambda dl: effterms_polynomial(terms, dl, order), delta, d, order)
    assert all(r == {} for r in res)
    res = polchinski_check(lambda dl: oracle_interaction(dl, order), delta, d, order)
    assert all(r == {} for r in res)


@settings(max_examples=6)
@given(
    flow_lattice(shapes=((1,), (2,), (3,), (2, 2))), st.sampled_from(["A", "B", "dSdS", "dShatdShat", "LdShat", "phi2"])
)
def test_flow_series_equal_brute_force_on_lattices(lat, quantity):
    g, d, delta = lat
    order = 2
    exact = oracle_flow_quantity(g, d, delta, order, quantity)
    series = flow_phi2(order) if quantity == "phi2" else flow_monotone(order, quantity)
    got = series.evaluate(lambda f: exact_flow_family_value(f, g, d, delta))
    assert got == exact


def test_lattice_float_sums_agree_with_exact_values():
    # ergsym.lattice.sums.family_value (FFT, delta_p) vs the exact placement sum
    import numpy as np

    from ergsym.lattice.sums import family_value

    shape = (4,)
    gv = {(0,): Fraction(3), (1,): Fraction(1, 2), (3,): Fraction(1, 2), (2,): Fraction(1, 5)}
    dv = {(0,): Fraction(1), (1,): Fraction(1, 3), (3,): Fraction(1, 3), (2,): Fraction(-1, 7)}
    lv = {(0,): Fraction(2), (1,): Fraction(-1, 4), (3,): Fraction(-1, 4), (2,): Fraction(1, 9)}
    g, d, dl = (circulant(shape, v) for v in (gv, dv, lv))
    mom = [np.real(np.fft.fft([float(m[0][j]) for j in range(4)])) for m in (g, d, dl)]
    for t in flow_monotone(2, "B").terms:
        exact = exact_flow_family_value(t.family, g, d, dl)
        assert family_value(t.family, *mom) == pytest.approx(float(exact), rel=1e-12, abs=1e-12)
