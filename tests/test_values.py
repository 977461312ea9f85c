"""Value: arithmetic with first-order error propagation, converged flags, repr, JSON round trip."""

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ergsym.errors import InputError
from ergsym.numeric.values import Value

finite = st.floats(-1e6, 1e6, allow_nan=False).filter(lambda x: abs(x) > 1e-3)
errors = st.floats(0, 1e3)


def test_arithmetic_values_and_errors_by_hand():
    a, b = Value(2.0, 0.1, True, "a"), Value(4.0, 0.2, True, "b")
    # first-order, linearly added contributions (the rule stated in Value's source)
    s = a + b
    assert (s.estimate, s.error, s.converged) == (6.0, pytest.approx(0.3), True)
    d = a - b
    assert (d.estimate, d.error) == (-2.0, pytest.approx(0.3))
    p = a * b
    assert (p.estimate, p.error) == (8.0, pytest.approx(4.0 * 0.1 + 2.0 * 0.2))
    q = a / b
    assert (q.estimate, q.error) == (0.5, pytest.approx(0.1 / 4.0 + 2.0 * 0.2 / 16.0))
    assert (3 * a).estimate == 6.0 and (3 * a).error == pytest.approx(0.3)
    assert (a / 2).error == pytest.approx(0.05) and (1 / a).error == pytest.approx(0.1 / 4)
    assert (1 - a).estimate == -1.0 and (-a).estimate == -2.0 and (-a).error == 0.1
    assert (a**2).error == pytest.approx(2 * 2.0 * 0.1)
    assert (np.float64(2.0) * a).estimate == 4.0  # numpy scalars defer to Value


def test_converged_flags_combine_with_and():
    a, b = Value(1.0, 0.1, True), Value(1.0, 0.1, False)
    assert (a + b).converged is False and (a + a).converged is True and (a * 2).converged is True
    assert "not converged" in repr(a + b)


def test_division_by_zero_and_non_finite_operands_raise():
    a = Value(1.0, 0.1, True)
    with pytest.raises(InputError, match="divisor"):
        a / 0
    with pytest.raises(InputError, match="divisor"):
        a / Value(0.0, 0.1, True)
    with pytest.raises(InputError):
        a + float("nan")
    with pytest.raises(InputError):
        Value(1e300, 1.0, True) * Value(1e300, 1.0, True)


@given(finite, errors, finite, errors, st.sampled_from(["+", "-", "*", "/"]))
def test_error_bounds_the_worst_corner_to_first_order(x, dx, y, dy, op):
    # the propagated error bounds |f(x+-dx, y+-dy) - f(x, y)| up to second-order terms
    dx, dy = dx * 1e-6 * abs(x), dy * 1e-6 * abs(y)  # keep the errors small: first order is exact enough
    f = {"+": lambda u, v: u + v, "-": lambda u, v: u - v, "*": lambda u, v: u * v, "/": lambda u, v: u / v}[op]
    r = f(Value(x, dx, True), Value(y, dy, True))
    worst = max(abs(f(x + sx * dx, y + sy * dy) - f(x, y)) for sx in (-1, 1) for sy in (-1, 1))
    assert worst <= r.error * (1 + 1e-3) + 1e-9 * abs(r.estimate)


def test_repr_and_latex():
    assert repr(Value(1.5, 0.01, True)) == "1.5 ± 0.01"
    assert Value(1.5, 0.01, True)._repr_latex_() == r"$1.5 \pm 0.01$"
    assert "not converged" in Value(1.5, 0.01, False)._repr_latex_()


@pytest.mark.parametrize(
    "v",
    [
        Value(1.25, 1e-9, True, "T", "radial"),
        Value(-3.0, 0.5, False),
        Value(
            np.array([[1.0, 2.0], [3.0, 4.0]]), np.full((2, 2), 0.1), np.array([[True, False], [True, True]]), "grid"
        ),
    ],
)
def test_json_round_trip(v):
    d = json.loads(json.dumps(v.to_dict(), allow_nan=False))
    w = Value.from_dict(d)
    np.testing.assert_array_equal(np.asarray(w.estimate), np.asarray(v.estimate))
    np.testing.assert_array_equal(np.asarray(w.error), np.asarray(v.error))
    np.testing.assert_array_equal(np.asarray(w.converged), np.asarray(v.converged))
    assert (w.name, w.method) == (v.name, v.method)


def test_from_dict_accepts_exact_value_objects_and_refuses_nulls():
    assert Value.from_dict({"value": 2.0, "error": 0.0, "exact": True}).converged is True
    with pytest.raises(InputError):
        Value.from_dict({"value": None, "error": None, "converged": False})
    with pytest.raises(InputError):
        Value.from_dict({"mean": 1.0})


def test_prediction_orders_accept_a_plain_order_for_one_coupling():
    from ergsym.numeric import evaluate_series
    from ergsym.symbolic import monotone, parse_theory

    p = evaluate_series(monotone(1, "B"), "bump:eps=0.5,lambda_max=2", 4, 1.0, 1.0, lam=0.1)
    assert p.orders[1] is p.orders[(1,)] and 0 in p.orders
    # the sum recombined with Value arithmetic equals the Prediction's total
    tot = p.orders[0] + 0.1 * p.orders[1]
    assert math.isclose(tot.estimate, p.total.estimate, rel_tol=1e-14)
    with pytest.raises(KeyError, match="orders present"):
        p.orders[5]
    p2 = evaluate_series(monotone(1, "B", "bare", parse_theory("phi4+phi6")), "bump:eps=0.5,lambda_max=2", 3, 1.0, 1.0)
    assert (0, 1) in p2.orders and (1, 0) in p2.orders
    with pytest.raises(KeyError):
        p2.orders[1]  # ambiguous for two couplings: exponent tuples only
    assert "±" in repr(p)
