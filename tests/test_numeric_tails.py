"""The split melon for m << Lambda (ergsym/numeric/tails.py, docs/numeric.md "far scales")."""

import math

import mpmath
import pytest

from ergsym.cutoffs.parse import parse_cutoff
from ergsym.families import Line
from ergsym.numeric.melon import melon_value
from ergsym.numeric.tails import free_propagator, melon_split, split_applies

BUMP = "bump:eps=0.1,lambda_max=2"
K, D = Line(1), Line(0, 1)
F2 = (D, K, K, K)


def _radial_reference(dim, m, r):
    # G_m(r) = S_d/(2 pi)^d int_0^inf q^(d-1) omega_d(q r)/(q^2+m^2) dq, by mpmath.quadosc
    # (omega_1 = cos, omega_2 = J_0, omega_3 = sin(z)/z): independent of the Bessel-K form
    with mpmath.workdps(20):
        return _quadosc(dim, mpmath.mpf(m), mpmath.mpf(r))


def _quadosc(dim, m, r):
    if dim == 1:
        f = lambda q: mpmath.cos(q * r) / (q * q + m * m)  # noqa: E731
        pref = 2 / (2 * mpmath.pi)
    elif dim == 2:
        f = lambda q: q * mpmath.besselj(0, q * r) / (q * q + m * m)  # noqa: E731
        pref = 2 * mpmath.pi / (2 * mpmath.pi) ** 2
    else:
        f = lambda q: q * mpmath.sin(q * r) / r / (q * q + m * m)  # noqa: E731
        pref = 4 * mpmath.pi / (2 * mpmath.pi) ** 3
    return float(pref * mpmath.quadosc(f, [0, mpmath.inf], omega=r))


@pytest.mark.parametrize("dim,m,r", [(1, 1e-3, 50.0), (2, 1e-3, 300.0), (2, 0.05, 7.0), (3, 0.02, 64.0)])
def test_free_propagator_matches_radial_transform(dim, m, r):
    assert free_propagator(dim, m, r) == pytest.approx(_radial_reference(dim, m, r), rel=1e-12)


def test_free_propagator_general_d_form():
    # d = 4: m K_1(m r)/(4 pi^2 r) (mpmath.besselk); d = 5: e^{-mr}(1+mr)/(8 pi^2 r^3)
    m, r = 0.3, 2.5
    ref4 = float(m * mpmath.besselk(1, m * r) / (4 * mpmath.pi**2 * r))
    ref5 = math.exp(-m * r) * (1 + m * r) / (8 * math.pi**2 * r**3)
    assert free_propagator(4, m, r) == pytest.approx(ref4, rel=1e-13)
    assert free_propagator(5, m, r) == pytest.approx(ref5, rel=1e-13)


def test_split_applies_only_where_valid():
    bump = parse_cutoff(BUMP)
    assert split_applies(F2, bump, 1, 1e-3, 1.0, True)
    assert split_applies(F2, bump, 3, 1e-3, 1.0, True)
    assert not split_applies(F2, bump, 4, 1e-3, 1.0, True)  # d >= 4: range 1/Lambda already
    assert not split_applies(F2, bump, 3, 0.2, 1.0, True)  # m not << Lambda
    assert not split_applies(F2, bump, 3, 0.0, 1.0, True)  # massless
    assert not split_applies((D, K, K, Line(2)), bump, 3, 1e-3, 1.0, True)  # Kt^2 line
    assert not split_applies(F2, parse_cutoff("exp:n=1"), 3, 1e-3, 1.0, True)  # K < 1 below Lambda
    assert not split_applies((K, K, K, K), bump, 3, 1e-3, 1.0, False)


@pytest.mark.parametrize("dim", [1, 3])
def test_split_agrees_with_position_method_at_moderate_ratio(dim):
    # m/Lambda = 0.05: the position method converges at tight tolerance on its own grids
    cut = parse_cutoff(BUMP)
    v, e, c, info = melon_split(F2, cut, dim, 0.05, 1.0, 1e-10)
    w, ew, cw, _ = melon_value(F2, cut, dim, 0.05, 1.0, 1e-11, outer=True)
    assert c and cw and info["method"] == "split"
    assert abs(v - w) <= e + ew
    assert e <= 1e-10 * abs(v)


def test_error_bar_of_a_small_inner_radius_covers_the_converged_value():
    # R_in = 64 at a loose tolerance (one pass): its error must cover the converged result
    cut = parse_cutoff(BUMP)
    v0, e0, c0, i0 = melon_split(F2, cut, 3, 1e-3, 1.0, 1e-3, R_in=64.0)
    v, e, c, _ = melon_split(F2, cut, 3, 1e-3, 1.0, 1e-8)
    assert i0["R_in"] == 64.0 and c0 and c
    assert abs(v0 - v) <= e0 + e and e0 > 10 * e


def test_far_ratio_is_routed_to_the_split_and_agrees_with_momentum():
    # m/Lambda = 1e-3, d = 3 (was: momentum method, not converged, error 6.5e-5).
    # Reference: the momentum-space method with more nodes,
    #   ergsym.numeric.momentum with N_LO, N_HI = 24, 32:
    #   melon_momentum(F2, parse_cutoff(BUMP), 3, 1e-3, 1.0, 1e-8, True) -> 0.0285755630323448 +- 3.74e-06
    cut = parse_cutoff(BUMP)
    v, e, c, info = melon_value(F2, cut, 3, 1e-3, 1.0, 1e-8, outer=True, auto=True)
    assert c and "split" in info["routed"] and e <= 1e-8 * abs(v)
    assert abs(v - 0.0285755630323448) <= e + 3.74e-06
