"""Series <-> sympy: real products of block symbols, LaTeX names, O() term, round trips, JSON."""

import json
from fractions import Fraction

import pytest
import sympy

from ergsym.errors import InputError
from ergsym.symbolic import monotone, parse_theory
from ergsym.symbolic.series import Series


@pytest.fixture(scope="module")
def b2():
    return monotone(2, "B")


def test_families_are_products_of_block_symbols(b2):
    e = b2.to_sympy()
    sym = b2.sympy_symbols()
    names = {str(s) for s in e.free_symbols}
    assert names == {"lamda", "f_0", "t_1", "T", "f_2", "T_2", "u_1"}  # sympy's spelling (sympy.abc.lamda)
    # T appears as a real factor: setting it to 0 kills every term that contains a tadpole
    assert (
        sympy.expand(e.subs(sym["T"], 0))
        == sympy.Rational(1, 2) * sym["f0"] - sympy.Rational(1, 6) * sym["lam"] ** 2 * sym["f2"]
    )
    # plain sympy symbols: Symbol('T') is the same symbol
    assert e.subs(sympy.Symbol("T"), 0) == e.subs(sym["T"], 0)


def test_latex_uses_lambda_and_subscripts(b2):
    tex = sympy.latex(b2.to_sympy())
    assert r"\lambda" in tex and "f_{0}" in tex and "T_{2}" in tex and "lam" not in tex.replace(r"\lambda", "")
    assert "t1*T" not in tex and "·" not in tex
    assert b2._repr_latex_().startswith("$") and r"O(\lambda^{3})" in b2._repr_latex_()


def test_order_term(b2):
    e = b2.to_sympy(order_term=True)
    lam = b2.sympy_symbols()["lam"]
    assert e.getO() == sympy.Order(lam**3, lam)
    assert e.removeO() == b2.to_sympy()
    two = monotone(1, "B", "bare", parse_theory("phi4+phi6"))
    o = two.to_sympy(order_term=True).getO()
    assert o is not None and set(map(str, o.variables)) == {"lamda", "g6"}


def test_substitution_gives_the_number_of_evaluate(b2):
    # family values are arbitrary rationals: the sympy substitution equals Series.evaluate exactly
    vals = {
        "f0": Fraction(3, 2),
        "t1": Fraction(-1, 3),
        "T": Fraction(5, 7),
        "f2": Fraction(2, 9),
        "T2": Fraction(1, 11),
        "u1": Fraction(4, 5),
    }
    sym = b2.sympy_symbols()
    lam = Fraction(1, 10)
    subs = {sym[k]: sympy.Rational(v.numerator, v.denominator) for k, v in vals.items()}
    subs[sym["lam"]] = sympy.Rational(1, 10)
    got = b2.to_sympy().subs(subs)

    def family_value(fam):
        out = Fraction(1)
        for b in fam.blocks:
            out *= vals[b.name]
        return out

    expect = b2.evaluate(family_value, couplings=(lam,))
    assert got == sympy.Rational(expect.numerator, expect.denominator)


@pytest.mark.parametrize(
    "order, form, theory",
    [(2, "B", "phi4"), (3, "A", "phi4"), (2, "dSdShat", "phi4"), (1, "B", "phi4+phi6"), (1, "B", "4:lam,2:c2")],
)
def test_sympy_and_json_round_trips(order, form, theory):
    s = monotone(order, form, "bare", parse_theory(theory))
    assert s.from_sympy(s.to_sympy()) == s
    assert s.from_sympy(s.to_sympy(order_term=True)) == s
    back = Series.from_dict(json.loads(json.dumps(s.to_dict(), allow_nan=False)))
    assert back == s and back.terms == s.terms


def test_from_sympy_of_an_edited_expression(b2):
    sym = b2.sympy_symbols()
    doubled = b2.from_sympy(2 * b2.to_sympy(), quantity="2B")
    assert doubled == b2.combine(b2, 1, 1, quantity="2B")
    with pytest.raises(InputError, match="unknown symbols"):
        b2.from_sympy(b2.to_sympy() + sympy.Symbol("zeta"))
    with pytest.raises(InputError, match="rational"):
        b2.from_sympy(sympy.sqrt(2) * sym["f0"])


def test_generated_block_names_print_their_latex():
    s = monotone(2, "B", "bare", parse_theory("phi4+phi6"))
    tex = sympy.latex(s.to_sympy(), symbol_names=s.sympy_latex_names())
    assert r"\mathrm{M}" in tex and "M[" not in tex.replace(r"\mathrm{M}[", "")


def test_from_dict_refuses_garbage_and_keeps_the_old_constructor(b2):
    with pytest.raises(InputError):
        Series.from_dict({"quantity": "B"})
    # the engine's constructor form still works (several positional arguments)
    again = Series.from_dict(b2.quantity, b2.theory, b2.scheme, b2.order, b2.as_dict())
    assert again == b2
