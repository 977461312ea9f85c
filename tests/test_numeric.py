"""Numeric layer: 1-loop families, melons (two methods), series, CLI (SPEC 2, 6, 7)."""

import json
import math
import subprocess
import sys
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from strategies import bump_cutoffs

from ergsym.cli import main
from ergsym.cutoffs import BumpCutoff, CustomCutoff, ExponentialCutoff
from ergsym.errors import DivergentIntegralError, FamilyNotSupportedError, InputError
from ergsym.families import DLINE, NAMED_FAMILIES, Block, Family, K, Line
from ergsym.numeric import evaluate_block, evaluate_family, evaluate_named, evaluate_series, sunset

BUMP = "bump:eps=0.5,lambda_max=2"


def _bump_radial_ref(c, lam, m, dim, kt, dpow, outer):
    """mpmath reference: radial integral piece by piece, bump in its local variable."""
    mpmath.mp.dps = 25
    e, mu2, kink = mpmath.mpf(c.eps), mpmath.mpf(c.tail_scale), mpmath.mpf(c.kink)
    L2, m2 = mpmath.mpf(lam) ** 2, mpmath.mpf(m) ** 2
    Sd = 2 * mpmath.pi ** (mpmath.mpf(dim) / 2) / mpmath.gamma(mpmath.mpf(dim) / 2)
    pref = Sd / 2 * (1 if outer else (2 * mpmath.pi) ** (-dim))

    def F(p2, k, dk):
        return p2 ** (mpmath.mpf(dim - 2) / 2) * (k / (p2 + m2)) ** kt * (lam * dk / (p2 + m2)) ** dpow

    def bump(x):
        w = (1 - x) * (1 + x)
        B = mpmath.exp(1 - 1 / w)
        return (1 - e) * B + e, (1 - e) * (-2 * x / w**2) * B * (-2 * lam / e)

    tot = mpmath.quad(lambda x: e * F(L2 + e * x, *bump(x)), [0, 0.5, 0.9, 1])
    if dpow == 0:
        tot += mpmath.quad(lambda p2: F(p2, 1, 0), [0, L2])
        tot += mpmath.quad(lambda p2: F(p2, e, 0), [L2 + e, kink])
        tot += mpmath.quad(lambda s: F(kink + s, e * mpmath.exp(-s / mu2), 0), [0, 5, mpmath.inf])
    return float(pref * tot)


@pytest.mark.parametrize("dim", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("name", ["f0", "t1", "u1", "T", "T2", "T3"])
def test_one_loop_vs_mpmath_and_error_is_honest(dim, name):
    c = BumpCutoff(0.5, 2.0)
    (line,) = NAMED_FAMILIES[name].blocks[0].lines
    ref = _bump_radial_ref(c, 1.0, 1.0, dim, line.kt, line.d, line.d >= 1)
    v = evaluate_family(NAMED_FAMILIES[name], c, dim, 1.0, 1.0)
    assert v.converged
    assert abs(v.estimate - ref) <= v.error  # honest error estimate
    assert v.error <= 1e-10 * abs(ref) * 1.0001


@given(bump_cutoffs())
@settings(max_examples=15)
def test_d2_f0_closed_form_any_bump(cl):
    c, lam = cl
    v = evaluate_family(NAMED_FAMILIES["f0"], c, 2, 1.0, lam)
    exact = 2 * math.pi * lam**2 * math.log(1 / c.eps)  # SPEC 6
    assert abs(v.estimate - exact) <= max(v.error, 1e-14 * exact) and v.converged


def test_f0_tiny_eps_large_Lambda_local_variable():
    # Lambda = 20, eps = 1e-12: the SPEC 6 precision trap; d = 2 closed form
    v = evaluate_family(NAMED_FAMILIES["f0"], BumpCutoff(1e-12, 25.0), 2, 1.0, 20.0)
    exact = 2 * math.pi * 400 * math.log(1e12)
    assert v.estimate == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize("dim", [1, 2, 3, 4, 6])
@pytest.mark.parametrize("m", [0.3, 1.0, 2.0])
def test_gaussian_tadpole_schwinger(dim, m):
    # T = int_q e^{-q^2/L^2}/(q^2+m^2) = int_0^inf ds e^{-s m^2} (4 pi (s + 1/L^2))^{-d/2}
    lam = 1.3
    mpmath.mp.dps = 25
    ref = float(
        mpmath.quad(
            lambda s: (
                mpmath.exp(-s * m * m) * (4 * mpmath.pi * (s + 1 / mpmath.mpf(lam) ** 2)) ** (-mpmath.mpf(dim) / 2)
            ),
            [0, 1, mpmath.inf],
        )
    )
    v = evaluate_family(NAMED_FAMILIES["T"], ExponentialCutoff(1), dim, m, lam)
    assert abs(v.estimate - ref) <= v.error and v.converged


def test_gaussian_tadpole_d4_closed_form():
    # d=4: T = (4pi)^-2 [L^2 - m^2 e^{m^2/L^2} E1(m^2/L^2)]  (mpmath.e1)
    lam, m = 1.0, 0.7
    a = m * m / lam**2
    ref = float((lam**2 - m * m * mpmath.exp(a) * mpmath.e1(a)) / (4 * mpmath.pi) ** 2)
    v = evaluate_family(NAMED_FAMILIES["T"], "exp:n=1", 4, m, lam)
    assert abs(v.estimate - ref) <= v.error


def test_gaussian_t1_schwinger():
    # t1 = int d^dp 2 (p^2/L^2) e^{-p^2/L^2}/(p^2+m^2); d = 3, radial mpmath reference
    lam, m = 1.0, 1.0
    ref = float(
        mpmath.quad(lambda p: 4 * mpmath.pi * p**2 * 2 * p**2 * mpmath.exp(-(p**2)) / (p**2 + 1), [0, 2, mpmath.inf])
    )
    v = evaluate_family(NAMED_FAMILIES["t1"], "exp:n=1", 3, m, lam)
    assert abs(v.estimate - ref) <= v.error


@pytest.mark.parametrize("spec", ["exp:n=1", "exp:n=3", "fermi:a=10"])
def test_f0_diverges_for_smooth_cutoffs(spec):
    with pytest.raises(DivergentIntegralError, match=r"\(B3\)4"):
        evaluate_family(NAMED_FAMILIES["f0"], spec, 4, 1.0, 1.0)
    # finite families still evaluate
    assert evaluate_family(NAMED_FAMILIES["T"], spec, 4, 1.0, 1.0).converged


def test_f0_custom_gaussian_refused_numerically():
    c = CustomCutoff(lambda p2, L: np.exp(-p2 / L**2), lambda p2, L: 2 * p2 / L**3 * np.exp(-p2 / L**2))
    with pytest.raises(DivergentIntegralError):
        evaluate_family(NAMED_FAMILIES["f0"], c, 3, 1.0, 1.0)


def test_custom_matches_builtin_and_numerical_derivative_error():
    b = BumpCutoff(0.5, 2.0)
    cb = CustomCutoff(b.K, breakpoints=lambda L: b.breakpoints(L))  # numerical derivative
    v1 = evaluate_family(NAMED_FAMILIES["t1"], b, 3, 1.0, 1.0)
    v2 = evaluate_family(NAMED_FAMILIES["t1"], cb, 3, 1.0, 1.0, rtol=1e-6)
    assert abs(v1.estimate - v2.estimate) <= v2.error + v1.error


def test_vectorized_over_Lambda_and_mass():
    lam = np.array([0.5, 1.0, 1.5])
    m = np.array([[0.5], [1.0]])
    v = evaluate_family(NAMED_FAMILIES["u1"], BUMP, 4, m, lam)
    assert v.estimate.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            s = evaluate_family(NAMED_FAMILIES["u1"], BUMP, 4, float(m[i, 0]), float(lam[j]))
            assert abs(s.estimate - v.estimate[i, j]) <= s.error + v.error[i, j]


def test_f1_is_product_with_propagated_error():
    r = evaluate_named(BUMP, 3, 1.0, 1.0, names=["t1", "T", "f1"])
    assert r["f1"].estimate == pytest.approx(r["t1"].estimate * r["T"].estimate, rel=1e-15)
    assert r["f1"].error == pytest.approx(r["t1"].error * r["T"].estimate + r["T"].error * r["t1"].estimate)


# -- melons -------------------------------------------------------------------------------
# the two methods for f2 and other melons: tests/test_numeric_momentum.py


def test_f2_equals_D_times_sunset_integral():
    # f2 = int d^dp D(p) Sun(p): Gauss-Legendre over the bump (local variable) of sunset(p)
    c, dim = BumpCutoff(0.5, 2.0), 3
    x, w = np.polynomial.legendre.leggauss(40)
    x, w = (x + 1) / 2, w / 2
    p2 = 1.0 + c.eps * x
    _, dk = c.bump_local(x, 1.0)
    D = dk / (p2 + 1.0)
    sun = sunset(np.sqrt(p2), c, dim, 1.0, 1.0)
    meas = 4 * math.pi * 0.5 * np.sqrt(p2) * c.eps  # S_3/2 (p2)^{1/2} dp2
    val = float(np.sum(w * meas * D * sun.estimate))
    f2 = evaluate_family(NAMED_FAMILIES["f2"], c, dim, 1.0, 1.0)
    assert val == pytest.approx(f2.estimate, rel=1e-7)


def test_sunset_at_zero_is_vacuum_melon():
    s0 = sunset(0.0, BUMP, 4, 1.0, 1.0)
    blk = Block(2, ((0, 1, K), (0, 1, K), (0, 1, K)))
    v = evaluate_block(blk, BUMP, 4, 1.0, 1.0)
    assert abs(s0.estimate - v.estimate) <= s0.error + v.error + 1e-12 * abs(v.estimate)


# references: the previous position-space implementation (commit 43d6a80, full-range
# transforms of every line incl. D, 16/24-point rules, envelope tail bound) at rtol=1e-12,
# bump:eps=0.1,lambda_max=2, d = 1, m = Lambda = 1 (its error estimates were <= 3e-16)
_OLD_D1 = {
    (DLINE, K, K, K): 0.023572464784248123,
    (DLINE, K, K, Line(2, 0)): 0.01843231430241603,
    (Line(1, 1), K, K, K): 0.006404862908137798,
    (K, K, K, Line(2, 0)): 0.008327339502102604,
}


@pytest.mark.parametrize("lines", list(_OLD_D1))
def test_melon_d1_eps01_vs_previous_implementation(lines):
    v = evaluate_block(Block(2, tuple((0, 1, l) for l in lines)), "bump:eps=0.1,lambda_max=2", 1, 1.0, 1.0)
    ref = _OLD_D1[lines]
    assert v.converged and abs(v.estimate - ref) <= v.error + 1e-15
    assert v.error <= 1e-8 * abs(ref)


def test_monotone_order3_family_set_all_evaluate_shared_transforms():
    from ergsym.symbolic import monotone

    s = monotone(3, "B")
    pr = evaluate_series(s, "bump:eps=0.1,lambda_max=2", 4, 1.0, 1.0, lam=0.1)
    assert pr.total.converged and all(bool(v.converged) for v in pr.families.values())
    assert any(n.startswith("G3[") for n in pr.families)


def test_non_ring_non_k4_general_block_not_supported():
    # K4 minus the edge 03 (a "diamond" with doubled lines 01 and 13): neither a ring of
    # bundles nor a complete graph (K4 blocks: tests/test_general_blocks.py)
    diamond = Block(4, ((0, 1, K), (0, 1, K), (0, 2, K), (1, 2, K), (1, 3, K), (1, 3, K), (2, 3, K)))
    assert diamond.kind == "general"
    with pytest.raises(FamilyNotSupportedError, match=r"G4\[.*neither a ring.*K4.*lattice"):
        evaluate_family(Family((diamond,)), BUMP, 4, 1.0, 1.0)


@pytest.mark.parametrize("dim", [1, 3, 4])
def test_ring_equals_melon_by_parseval(dim):
    # hand-made series-reducible triangles: int_p b01(p) Kt(p)^2 = melon with a K2 line
    # (vacuum) and (2pi)^d int_p Bub_DK(p) Kt(p)^2 = M[D,K,K2] (outer, D on the shell)
    for b01, mel in [((K, K), (K, K, Line(2, 0))), ((DLINE, K), (DLINE, K, Line(2, 0)))]:
        tri = Block(3, tuple((0, 1, l) for l in b01) + ((0, 2, K), (1, 2, K)))
        assert tri.kind == "general"
        v = evaluate_block(tri, BUMP, dim, 1.0, 1.0)
        w = evaluate_block(Block(2, tuple((0, 1, l) for l in mel)), BUMP, dim, 1.0, 1.0)
        assert v.method == "ring" and v.converged and w.converged
        assert abs(v.estimate - w.estimate) <= v.error + w.error


def _g3_d1_momentum_reference(eps, lam=1.0, m=1.0, n=(24, 32)):
    """G3[01D,01K,02K,02K,12K,12K] in d = 1, directly in momentum space (no transforms):
    int dp Bub_DK(p) Bub(p)^2 with the 1-d convolutions Bub_DK(p) = int dq/2pi D(q) Kt(p-q),
    Bub(p) = int dq/2pi Kt(q) Kt(p-q), every integral by composite Gauss-Legendre split at all
    breakpoints (and p - breakpoints); K evaluated pointwise at q^2 (fine for eps = 0.5).
    Returns (value at n[1], |value(n[1]) - value(n[0])|)."""
    c = BumpCutoff(eps, 2.0)
    bps = [math.sqrt(b) for b in c.breakpoints(lam)]
    qmax = math.sqrt(c.kink + 50.0)
    sing = sorted({s * b for b in bps for s in (1, -1)})

    def kt(q):
        return c.K(q * q, lam) / (q * q + m * m)

    def dd(q):
        return c.Lambda_dK(q * q, lam) / (q * q + m * m)

    def panels(lo, hi, pts, h):
        e = sorted({lo, hi} | {x for x in pts if lo < x < hi})
        out = [e[0]]
        for a, b in zip(e[:-1], e[1:]):
            k = max(1, int(math.ceil((b - a) / h)))
            out.extend(a + (b - a) * np.arange(1, k + 1) / k)
        return np.array(out)

    def gl(edges, k):
        x, w = np.polynomial.legendre.leggauss(k)
        a, h = edges[:-1, None], np.diff(edges)[:, None]
        return (a + h * (x + 1) / 2).ravel(), (h * w / 2).ravel()

    vals = []
    for k in n:
        p_out, w_out = gl(panels(0.0, 2 * qmax, [abs(a + b) for a in sing + [0.0] for b in sing + [0.0]], 0.25), k)
        tot = 0.0
        for p, wo in zip(p_out, w_out):
            q, w = gl(panels(-qmax, qmax, sing + [p - s for s in sing], 0.25), k)
            bub = w @ (kt(q) * kt(np.abs(p - q))) / (2 * math.pi)
            a = 0.0
            for lo, hi in ((bps[0], bps[1]), (-bps[1], -bps[0])):
                q, w = gl(panels(lo, hi, [p - s for s in sing], 0.01), k)
                a += w @ (dd(np.abs(q)) * kt(np.abs(p - q))) / (2 * math.pi)
            tot += wo * a * bub * bub
        vals.append(2 * tot)
    return vals[1], abs(vals[1] - vals[0])


@pytest.mark.slow
def test_g3_triangle_d1_vs_momentum_space_quad():
    from ergsym.symbolic import monotone

    fam = next(f for f in monotone(3, "B").families() if f.name.startswith("G3["))
    ref, ref_err = _g3_d1_momentum_reference(0.5)
    v = evaluate_family(fam, BUMP, 1, 1.0, 1.0)
    assert v.converged
    assert abs(v.estimate - ref) <= v.error + ref_err
    assert v.error <= 1e-8 * abs(ref)


# -- series -------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Term:
    coeff: Fraction
    powers: tuple
    family: Family


class _Series:
    def __init__(self, terms):
        self.terms = tuple(terms)


def test_evaluate_series_sums_and_propagates_errors():
    # a synthetic series (arbitrary rational coefficients, not physics) exercising the sum
    # and the correlated first-order error propagation through a shared T block
    N = NAMED_FAMILIES
    s = _Series(
        [
            _Term(Fraction(5, 3), (0,), N["f0"]),
            _Term(Fraction(-2, 7), (1,), N["f1"]),
            _Term(Fraction(4, 9), (2,), N["f2"]),
            _Term(Fraction(1, 3), (2,), N["T"] * N["T"] * N["u1"]),
        ]
    )
    pr = evaluate_series(s, "bump:eps=0.1,lambda_max=2", 4, 1.0, 1.0, lam=0.1)
    v = {
        k: evaluate_family(f, "bump:eps=0.1,lambda_max=2", 4, 1.0, 1.0)
        for k, f in N.items()
        if k in ("f0", "f1", "f2", "T", "u1")
    }
    expect = (
        5 / 3 * v["f0"].estimate
        - 0.1 * 2 / 7 * v["f1"].estimate
        + 0.01 * (4 / 9 * v["f2"].estimate + v["T"].estimate ** 2 * v["u1"].estimate / 3)
    )
    assert pr.total.estimate == pytest.approx(expect, rel=1e-13)
    assert pr.total.error > 0 and pr.total.converged
    # shared T block: first-order correlated propagation of T^2 u1
    fam = pr.families[(N["T"] * N["T"] * N["u1"]).name]
    T, u1 = v["T"], v["u1"]
    assert fam.error == pytest.approx(2 * T.estimate * u1.estimate * T.error + T.estimate**2 * u1.error)
    d = pr.to_dict()
    assert set(d["orders"]) == {"0", "1", "2"} and d["total"]["value"] == pr.total.estimate


def test_evaluate_series_bad_input():
    with pytest.raises(InputError, match="series"):
        evaluate_series(object(), BUMP, 4, 1.0, 1.0)


# -- validation --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kw,param",
    [
        ({"dim": 7}, "dim"),
        ({"mass": 1e-300}, "mass"),
        ({"mass": -1}, "mass"),
        ({"Lambda": 3.0}, "Lambda"),
        ({"Lambda": 0}, "Lambda"),
        ({"rtol": 1e-20}, "rtol"),
        ({"method": "mc"}, "method"),
    ],
)
def test_bad_input(kw, param):
    args = dict(cutoff=BUMP, dim=4, mass=1.0, Lambda=1.0)
    args.update(kw)
    with pytest.raises(InputError, match=param):
        evaluate_family(NAMED_FAMILIES["T"], **args)


def test_numeric_imports_neither_sympy_nor_click():
    code = "import sys, ergsym.numeric, ergsym.cutoffs; print('sympy' in sys.modules, 'click' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


# -- CLI ------------------------------------------------------------------------------------
def _run(argv, capsys):
    with pytest.raises(SystemExit) as ei:
        main(argv)
    return ei.value.code, capsys.readouterr()


def test_cli_integrals_json(capsys):
    code, out = _run(
        ["integrals", "--cutoff", "bump:eps=0.1,lambda_max=2", "--dim", "4", "--mass", "1", "--Lambda", "1", "--json"],
        capsys,
    )
    assert code == 0
    d = json.loads(out.out)["results"]["families"]
    assert set(d) == {"f0", "t1", "u1", "T", "T2", "T3", "f1", "f2"}
    for v in d.values():
        assert {"value", "error", "converged"} <= set(v) and v["converged"]


def test_cli_integrals_scan_and_divergent(capsys):
    code, out = _run(
        ["integrals", "--cutoff", "exp:n=2", "--dim", "3", "--names", "f0,T", "--scan", "Lambda=0.5:1.5:3", "--json"],
        capsys,
    )
    assert code == 0
    d = json.loads(out.out)["results"]["families"]
    assert d["f0"]["divergent"] and "(B3)4" in d["f0"]["message"]
    assert len(d["T"]) == 3 and all(set(v) == {"value", "error", "converged"} for v in d["T"])


@pytest.mark.parametrize(
    "argv",
    [
        ["integrals", "--cutoff", "bump:eps=2,lambda_max=2", "--dim", "4"],
        ["integrals", "--cutoff", "bump:eps=0.1,lambda_max=2", "--dim", "4", "--Lambda", "3"],
        ["integrals", "--cutoff", "bump:eps=0.1,lambda_max=2", "--dim", "9"],
        ["integrals", "--cutoff", "exp:n=1", "--dim", "3", "--scan", "Lambda=1:2"],
    ],
)
def test_cli_bad_input_exit_2(argv, capsys):
    code, out = _run(argv, capsys)
    assert code == 2 and out.err


def test_cli_cutoff_plot(tmp_path, capsys):
    f = tmp_path / "k.png"
    code, out = _run(["cutoff", "bump:eps=0.1,lambda_max=2", "--plot", str(f), "--json"], capsys)
    assert code == 0 and f.stat().st_size > 1000
    d = json.loads(out.out)["results"]
    assert d["b3"]["passed"] and d["breakpoints"] == [1.0, 1.1, 4.1]
