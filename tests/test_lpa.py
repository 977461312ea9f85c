"""Local potential approximation (ergsym.lpa): fixed points and exponents of both LPA equations.

Reference values: the only numbers taken from the literature are the N = 1, d = 3 LPA exponents
of Bervillier, Juttner and Litim, hep-th/0701172 (nu = 0.649561773880, omega = 0.655745939193,
given to 12 digits).  Everything else is checked by exact statements (Gaussian spectrum, the exact
odd eigenvalues with eta = 0, the one-loop epsilon expansion, the large-N limit) or by the
agreement of the two equations, which are exactly equivalent (Morris, hep-th/0503161).
"""

import dataclasses
import math

import numpy as np
import pytest

from ergsym.errors import ConvergenceError, InputError
from ergsym.lpa import compare, fixed_points, morris_p_to_w, morris_w_to_p, solve_lpa
from ergsym.lpa.solve import lpa_point

#: Bervillier, Juttner, Litim, hep-th/0701172 (LPA, Litim regulator, N = 1, d = 3), 12 digits
NU_BJL, OMEGA_BJL = 0.649561773880, 0.655745939193
ROUNDING = 5e-13  # half a unit of the 12th digit


@pytest.fixture(scope="module")
def ising3():
    return {eq: solve_lpa(1, 3, eq) for eq in ("wetterich", "polchinski")}


@pytest.mark.parametrize("eq", ["wetterich", "polchinski"])
def test_published_values_n1_d3(ising3, eq):
    r = ising3[eq]
    assert r.converged and r.nu.converged and r.omega.converged
    for got, ref in ((r.nu, NU_BJL), (r.omega, OMEGA_BJL)):
        assert abs(got.estimate - ref) <= 1e-9
        # the error estimate is honest: the published value lies within 3 errors (+ its rounding)
        assert abs(got.estimate - ref) <= 3 * got.error + ROUNDING
        assert got.error <= 1e-10


def test_crosscheck_reported_and_agrees(ising3):
    for r in ising3.values():
        c = r.crosscheck
        assert c["verdict"] == "agrees"
        assert c["potential_mismatch"] is not None and c["potential_mismatch"] <= c["potential_allowed"]
        assert r.other.equation != r.fixed_point.equation
    # the Polchinski u'(0) is the Morris image of the Wetterich one: sigma_P = sigma_W / (1 + sigma_W)
    sw = ising3["wetterich"].fixed_point.sigma.estimate
    sp = ising3["polchinski"].fixed_point.sigma.estimate
    assert sp == pytest.approx(sw / (1 + sw), abs=1e-9)


def test_exact_eigenvalues_at_wilson_fisher(ising3):
    """eta = 0: the vacuum energy (y = d), the magnetic mode (linear term of the Wetterich potential,
    y = (d+2)/2) and the redundant field shift (y = (d-2)/2) are exact eigenvalues."""
    d = 3.0
    for r in ising3.values():
        fp = r.fixed_point
        even = {v.info["label"]: v for v in fp.even}
        odd = {v.info["label"]: v for v in fp.odd}
        assert even["vacuum energy"].estimate == pytest.approx(d, abs=1e-9)
        assert odd["magnetic"].estimate == pytest.approx((d + 2) / 2, abs=1e-9)
        assert odd["redundant (field shift)"].estimate == pytest.approx((d - 2) / 2, abs=1e-9)
        assert fp.n_relevant == 1 and fp.kind == "wilson-fisher"


@pytest.mark.parametrize("N,d", [(1, 2.7), (2, 3.0), (3, 3.4), (1, 2.25), (40, 3.9)])
def test_gaussian_spectrum(N, d):
    """Gaussian fixed point: a perturbation led by rho^n has y = d - n(d-2) (even), and
    phi_1 rho^n has y = d - (d-2)/2 - n(d-2) (odd), for both equations."""
    for eq in ("wetterich", "polchinski"):
        from ergsym.lpa.equations import EQUATIONS
        from ergsym.lpa.solve import _gaussian_ladder, _make_fp

        g = _make_fp(EQUATIONS[eq], _gaussian_ladder(EQUATIONS[eq], d, 1.0 / N), N, d, 1.0 / N, 1e-9, gaussian=True)
        even = [v.estimate for v in g.even]
        odd = [v.estimate for v in g.odd]
        assert even == pytest.approx([d - n * (d - 2) for n in range(len(even))], abs=1e-8)
        assert odd == pytest.approx([d - (d - 2) / 2 - n * (d - 2) for n in range(len(odd))], abs=1e-8)
        assert g.n_relevant == sum(1 for n in range(1, 50) if d - n * (d - 2) > 1e-9)
        assert "redundant (field shift)" not in [v.info["label"] for v in g.odd]  # u = const: no shift mode


def test_two_equations_agree_fast():
    r = solve_lpa(2.5, 3.2, "polchinski")
    assert r.crosscheck["verdict"] == "agrees"
    o = r.other
    y_o = next(v for v in o.even if v.info["label"] == "relevant")
    assert 1 / y_o.estimate == pytest.approx(r.nu.estimate, abs=1e-9)


@pytest.mark.parametrize("N", [1, 2, 3, 4])
@pytest.mark.parametrize("d", [2.5, 3.5])
def test_two_equations_agree_grid(N, d):
    r = solve_lpa(N, d, "wetterich")
    c = r.crosscheck
    assert c["verdict"] == "agrees", c
    for row in c["eigenvalues"]:
        assert row["diff"] <= 1e-9


def test_crosscheck_can_disagree_and_be_inconclusive(ising3):
    w = ising3["wetterich"].fixed_point
    p = ising3["polchinski"].fixed_point
    other_d = solve_lpa(1, 3.05, "polchinski").fixed_point
    assert compare(w, other_d)["verdict"] == "disagrees"
    assert compare(w, dataclasses.replace(p, converged=False))["verdict"] == "inconclusive"
    assert compare(w, p)["verdict"] == "agrees"


def test_morris_map_round_trip():
    rng = np.random.default_rng(0)
    rho = rng.uniform(0, 5, 50)
    w = rng.normal(size=50)
    w1 = rng.uniform(-0.5, 3, 50)
    rp, up, up1 = morris_w_to_p(rho, w, w1, 3.0)
    rw, ww, ww1 = morris_p_to_w(rp, up, up1, 3.0)
    np.testing.assert_allclose(rw, rho, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(ww, w, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ww1, w1, rtol=1e-12, atol=1e-12)


def test_epsilon_expansion_near_four():
    """nu - (1/2 + (N+2) eps/(4(N+8))) = O(eps^2): the ratio when eps halves tends to 4."""
    N = 1
    delta = []
    for eps in (0.2, 0.1, 0.05):
        r = solve_lpa(N, 4 - eps, "wetterich", tol=1e-6)
        assert r.crosscheck["verdict"] == "agrees"
        delta.append(r.nu.estimate - (0.5 + (N + 2) * eps / (4 * (N + 8))))
    r1, r2 = delta[0] / delta[1], delta[1] / delta[2]
    assert 3.7 < r1 < 4.3 and 3.8 < r2 < 4.2
    assert abs(r2 - 4) < abs(r1 - 4) + 0.01  # approaching 4


def test_large_N_limit():
    """nu -> 1/(d-2) as N -> infinity, with a 1/N correction (ratio 2 when N doubles); the whole
    spectrum and u'(0) approach the exact N = inf point (ergsym.lpa.large_n) the same way."""
    d = 3.0
    inf = solve_lpa(math.inf, d, "wetterich")
    assert inf.nu.estimate == 1 / (d - 2) and inf.omega.estimate == 4 - d and inf.nu.error == 0
    runs = [solve_lpa(N, d, "wetterich", tol=1e-8) for N in (10, 20, 40)]
    dev = [r.nu.estimate - 1 / (d - 2) for r in runs]
    assert all(x < 0 for x in dev)
    assert abs(dev[-1]) < 0.03
    assert 1.8 < dev[0] / dev[1] < 2.4 and 1.85 < dev[1] / dev[2] < 2.2
    for attr in ("sigma",):
        ds = [getattr(r.fixed_point, attr).estimate - getattr(inf.fixed_point, attr).estimate for r in runs]
        assert 1.8 < ds[0] / ds[1] < 2.4 and 1.8 < ds[1] / ds[2] < 2.3
    for k in range(1, 4):  # even y_k -> d - 2k, odd y_k -> (d+2)/2 - 2k
        assert abs(runs[-1].fixed_point.even[k].estimate - (d - 2 * k)) < 0.1
        assert abs(runs[-1].fixed_point.odd[k].estimate - ((d + 2) / 2 - 2 * k)) < 0.1


@pytest.mark.parametrize("d", [2.3, 3.0, 3.9])
def test_n_infinity_exact(d):
    """N = inf: y_n = d - 2n (even), (d+2)/2 - 2n (odd), both equations; the minimum at
    rho0 = 1/(d-2) and u'(0) a root of the series rho(f) (ergsym.lpa.large_n)."""
    from ergsym.lpa.large_n import _rho_of_f

    for eq in ("wetterich", "polchinski"):
        r = solve_lpa(math.inf, d, eq)
        assert [v.estimate for v in r.fixed_point.even] == pytest.approx([d - 2 * n for n in range(6)])
        odd = [(d + 2) / 2 - 2 * n for n in range(4)]
        assert [v.estimate for v in r.fixed_point.odd] == pytest.approx(odd)
        assert r.crosscheck["verdict"] == "agrees" and r.fixed_point.n_relevant == 1
    sw = solve_lpa(math.inf, d, "wetterich").fixed_point.sigma.estimate
    assert -1 < sw < 0 and abs(_rho_of_f(sw, d)) < 1e-12
    assert _rho_of_f(0.0, d) == pytest.approx(1 / (d - 2))


def test_toward_two_dimensions():
    """Toward d = 2: the Gaussian point gains relevant directions (new multicritical points branch
    off it at d_k = 2k/(k-1)); for N = 4 nu grows as d decreases (at N = inf it diverges as
    1/(d-2)); below dim = 2.2 the input is refused."""
    nus = [solve_lpa(4, d, "wetterich", tol=1e-6).nu.estimate for d in (3.0, 2.6, 2.3)]
    assert nus[0] < nus[1] < nus[2]
    with pytest.raises(InputError, match="dim"):
        solve_lpa(1, 2.1)


def test_fixed_points_listing():
    fps = fixed_points(1, 3.0)
    kinds = [f.kind for f in fps]
    assert kinds[0] == "gaussian" and "wilson-fisher" in kinds
    assert fps[0].n_relevant == 2  # rho and rho^2 (rho^3 is marginal in d = 3)


@pytest.mark.parametrize(
    "kw,name",
    [
        ({"N": 0.5}, "N"),
        ({"N": float("nan")}, "N"),
        ({"N": -math.inf}, "N"),
        ({"N": "x"}, "N"),
        ({"dim": 4.0}, "dim"),
        ({"dim": 2.0}, "dim"),
        ({"dim": 1.5}, "dim"),
        ({"dim": float("nan")}, "dim"),
        ({"equation": "lpa"}, "equation"),
        ({"tol": 0.0}, "tol"),
        ({"tol": 1.0}, "tol"),
    ],
)
def test_bad_input(kw, name):
    args = {"N": 1, "dim": 3, "equation": "wetterich", **kw}
    with pytest.raises(InputError, match=name):
        solve_lpa(args["N"], args["dim"], args["equation"], **({"tol": kw["tol"]} if "tol" in kw else {}))


def test_no_convergence_raises_not_prints():
    """Near d = 4 omega (small there) is resolved to ~1e-7 only: tol = 1e-9 is refused."""
    with pytest.raises(ConvergenceError, match="tol"):
        solve_lpa(1, 3.95, "wetterich", tol=1e-9)
    p = lpa_point(1, 3.95, "wetterich", tol=1e-9)
    assert p["ok"] is False and "nu" not in p and "tol" in p["failure"]


@pytest.mark.parametrize("N,d", [(2, 2.6), (3, 3.3), (1.5, 2.8), (6, 3.0)])
def test_error_estimates_bound_the_true_error(N, d):
    """A loose run's error bars bound its distance to a tight run (the reference)."""
    loose = solve_lpa(N, d, "polchinski", tol=1e-5)
    tight = solve_lpa(N, d, "polchinski", tol=1e-10)
    for a, b in ((loose.nu, tight.nu), (loose.omega, tight.omega)):
        assert abs(a.estimate - b.estimate) <= a.error + b.error
        assert b.error < 1e-9


def test_tricritical_point_below_three_dimensions():
    """Below d = 3 the shooting scan finds a second non-trivial point with 2 relevant directions."""
    fps = fixed_points(1, 2.6)
    multi = [f for f in fps if f.kind == "multicritical"]
    assert multi and multi[0].n_relevant == 2 and multi[0].converged
    assert fixed_points(1, 3.2)[-1].kind == "wilson-fisher" and len(fixed_points(1, 3.2)) == 2


try:
    from hypothesis import given
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover
    given = None

if given is not None:

    @given(st.floats(0, 50), st.floats(-10, 10), st.floats(-0.9, 50), st.floats(2.2, 3.999))
    def test_morris_map_inverse_property(rho, w, w1, d):
        rp, up, up1 = morris_w_to_p(rho, w, w1, d)
        assert up1 < 1  # u_P' = w'/(1+w') < 1: the Polchinski potential grows at most like rho
        rw, ww, ww1 = morris_p_to_w(rp, up, up1, d)
        assert rw == pytest.approx(rho, rel=1e-9, abs=1e-9)
        assert ww == pytest.approx(w, rel=1e-9, abs=1e-8 * (1 + rho * w1**2))
        assert ww1 == pytest.approx(w1, rel=1e-9, abs=1e-9)
