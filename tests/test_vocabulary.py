"""One vocabulary, Python <-> CLI <-> JSON <-> PDF (issue 19).

* the pieces' names that the CLI, the JSON and the report print (``eq5.11`` .. ``eq5.14``) are
  accepted by the Python functions too;
* ``Value`` speaks the JSON's ``value``, has a documented default for ``converged``, and works
  with numpy's elementary functions (first-order error propagation) or says what to do;
* ``sympy.sympify(str(expr))`` reads a series' sympy expression back;
* messages show numbers as a user types them (``mass=-1.0``, not ``mass=np.float64(-1.0)``).
"""

import math

import numpy as np
import pytest
import sympy

from ergsym.conventions import PIECE_ALIASES, PIECES
from ergsym.errors import InputError, plain
from ergsym.flow import flow_monotone, flow_piece
from ergsym.numeric.values import UFUNCS, Value
from ergsym.symbolic import monotone, parse_theory, piece
from ergsym.symbolic.monotone import ENGINE_NAMES

# --- piece names ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PIECES))
def test_the_printed_piece_names_work_in_python(name):
    engine = ENGINE_NAMES[name]
    assert monotone(2, name) == monotone(2, engine) == piece(name, 2) == piece(engine, 2)
    assert flow_monotone(1, name) == flow_piece(name, 1) == flow_piece(engine, 1)


def test_every_alias_names_the_same_piece():
    for alias, canon in PIECE_ALIASES.items():
        assert piece(alias, 1) == piece(ENGINE_NAMES[canon], 1), alias


@pytest.mark.parametrize(
    "call",
    [lambda: monotone(1, "eq5.15"), lambda: piece("eq5.10", 1), lambda: flow_monotone(1, "C"), lambda: monotone(1, 3)],
)
def test_an_unknown_piece_name_lists_the_printed_names(call):
    with pytest.raises(InputError, match=r"eq5\.11, eq5\.12, eq5\.13, eq5\.14"):
        call()


# --- Value ------------------------------------------------------------------------------------


def test_value_speaks_json_and_defaults_to_converged():
    v = Value(1.0, 0.1)
    assert v.value == v.estimate == 1.0 and v.converged is True
    assert v.to_dict() == {"value": 1.0, "error": 0.1, "converged": True}
    assert Value.from_dict(v.to_dict()).value == 1.0
    assert Value(1.0, 0.1, False).converged is False


@pytest.mark.parametrize("ufunc", list(UFUNCS))
def test_numpy_functions_propagate_the_error_to_first_order(ufunc):
    x, dx = 0.37, 1e-3
    r = ufunc(Value(x, dx, True, "x"))
    assert isinstance(r, Value) and r.converged is True
    assert r.value == pytest.approx(float(ufunc(x)), rel=1e-15)
    # the error is |f'(x)| dx: compare with a central difference of the plain ufunc
    h = 1e-6
    slope = (float(ufunc(x + h)) - float(ufunc(x - h))) / (2 * h)
    assert r.error == pytest.approx(abs(slope) * dx, rel=1e-6)


def test_numpy_functions_on_arrays_and_flags():
    v = Value(np.array([0.0, 1.0]), np.array([0.1, 0.2]), np.array([True, False]))
    r = np.exp(v)
    np.testing.assert_allclose(r.value, [1.0, math.e])
    np.testing.assert_allclose(r.error, [0.1, 0.2 * math.e])
    assert r.converged.tolist() == [True, False]
    # arithmetic through numpy's ufuncs is the Value arithmetic, from either side
    a = Value(2.0, 0.1)
    for got in (np.float64(2.0) * a, np.multiply(a, 2.0), np.add(1.0, a), np.power(a, 2)):
        assert isinstance(got, Value)
    assert (np.float64(2.0) * a).error == pytest.approx(0.2)
    assert (np.float64(1.0) - a).value == -1.0
    assert np.power(a, 2).error == pytest.approx(0.4)
    assert abs(Value(-2.0, 0.1)).value == 2.0 and abs(Value(-2.0, 0.1)).error == 0.1


def test_numpy_function_outside_its_domain_or_unsupported_says_what_to_do():
    with pytest.raises(InputError, match=r"argument of np\.log=-1\.0 .* must be > 0"):
        np.log(Value(-1.0, 0.1))
    with pytest.raises(InputError, match="sqrt"):
        np.sqrt(Value(0.0, 0.1))
    with pytest.raises(TypeError, match=r"np\.arcsin is not supported .*np\.exp.*v\.estimate"):
        np.arcsin(Value(0.5, 0.1))
    with pytest.raises(TypeError, match=r"np\.maximum is not supported"):
        np.maximum(Value(0.5, 0.1), 1.0)
    with pytest.raises(InputError, match="overflowed"):
        np.exp(Value(1e3, 1.0))


# --- sympy ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: monotone(3, "B"),
        lambda: monotone(3, "A", "normal-ordered"),
        lambda: monotone(2, "B", "bare", parse_theory("phi4+phi6")),
        lambda: flow_monotone(2, "B"),
    ],
)
def test_sympify_of_str_reads_the_expression_back(make):
    s = make()
    for expr in (s.to_sympy(), s.to_sympy(order_term=True)):
        back = sympy.sympify(str(expr))
        assert back == expr
        assert s.from_sympy(back) == s


def test_generated_blocks_typeset_with_their_latex():
    s = monotone(3, "B")
    names = s.sympy_latex_names()
    assert names and all(sym.name.isidentifier() for sym in names)
    tex = sympy.latex(s.to_sympy(), symbol_names=names)
    assert r"\mathrm{G}_{3}" in tex and r"\mathrm{M}[" in tex and r"\lambda^{3}" in tex
    assert sympy.latex(s.sympy_symbols()["lam"]) == r"\lambda"


# --- numbers in messages ----------------------------------------------------------------------


def test_plain_formats_numpy_numbers_as_typed():
    assert plain(np.float64(-1.0)) == "-1.0" and plain(np.int64(3)) == "3"
    assert plain(np.array([1.5, 2.0])) == "[1.5, 2.0]" and plain((np.float32(0.5),)) == "(0.5,)"
    assert plain("x") == "'x'" and plain(np.zeros((3, 4))) == "<array of shape 3x4>"


@pytest.mark.parametrize(
    "call",
    [
        lambda: __import__("ergsym.numeric", fromlist=["x"]).evaluate_named(
            "bump:eps=0.5,lambda_max=2", 4, np.float64(-1.0), 1.0, names=["T"]
        ),
        lambda: __import__("ergsym.conventions", fromlist=["x"]).validate_mass(np.float64(-1.0)),
        lambda: Value(1.0, 0.1) / Value(np.float64(0.0), 0.1),
    ],
)
def test_messages_show_plain_numbers(call):
    with pytest.raises(InputError) as exc:
        call()
    msg = str(exc.value)
    assert "np.float64" not in msg and "numpy" not in msg and "array(" not in msg
    assert "-1.0" in msg or "0.0" in msg


def test_smooth_cutoff_message_names_the_power():
    from ergsym.cutoffs import parse_cutoff

    ok, why = parse_cutoff("exp:n=2").loop_finite(-1, 1)
    assert not ok and "(p^2/Lambda^2)^2" in why and "2n1" not in why
