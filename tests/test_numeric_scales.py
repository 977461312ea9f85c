"""Far separated scales (docs/numeric.md, "Reach"): the trigonometric-addition kernels of the
radial grids, the start radius of melons holding the D line, the momentum method's grading
of the bump near its inner edge; every new path against an independent reference."""

import numpy as np
import pytest

from ergsym.families import NAMED_FAMILIES
from ergsym.numeric import evaluate_named
from ergsym.numeric.melon import melon_value, outer_start_radius, start_radius
from ergsym.numeric.quadrature import gauss_legendre
from ergsym.numeric.transforms import grid_apply, grid_forward, grid_terms, kernel_apply

F2 = NAMED_FAMILIES["f2"].blocks[0]
BUMP01 = "bump:eps=0.1,lambda_max=2"


@pytest.mark.parametrize("dim", [1, 2, 3, 4, 5, 6])
def test_grid_kernels_equal_the_direct_kernel(dim):
    # reference: kernel_apply, omega_d(q r) elementwise from scipy's Bessel functions; grid:
    # r on 40 equal panels of [0, 120] (20 Gauss-Legendre nodes each), momenta clustered
    # geometrically towards 0 (as the infrared piece at small mass) and spread up to 7
    rng = np.random.default_rng(dim)
    x, _ = gauss_legendre(20)
    h = 120.0 / 40
    a, delta = np.arange(40) * h, h * x
    r = (a[:, None] + delta[None, :]).ravel()
    q = np.concatenate([1e-4 * 2.0 ** np.arange(12), rng.uniform(0.0, 7.0, 600)])
    V = rng.normal(size=(q.size, 3))
    got = grid_apply(dim, a, delta, q, V)
    ref = kernel_apply(dim, r, q, V)
    assert np.all(np.abs(got - ref) <= 2e-14 * np.abs(V).sum(axis=0))
    p = rng.uniform(0.0, 3.0, 40)
    U = rng.normal(size=(r.size, 2))
    got = grid_forward(dim, a, delta, p, U)
    ref = kernel_apply(dim, p, r, U)
    assert np.all(np.abs(got - ref) <= 2e-14 * np.abs(U).sum(axis=0))


def test_grid_terms_are_the_elementary_forms_in_odd_d():
    # d = 1: cos z; d = 3: sin z / z; d = 5: 3 (sin z - z cos z) / z^3 (exact, any z > 0)
    z = np.linspace(0.5, 50.0, 200)
    exact = {1: np.cos(z), 3: np.sin(z) / z, 5: 3 * (np.sin(z) - z * np.cos(z)) / z**3}
    for dim, ref in exact.items():
        c, s, is_sin, phi, _ = grid_terms(dim)
        val = sum(ck * z**-sk * (np.sin(z - phi) if sn else np.cos(z - phi)) for ck, sk, sn in zip(c, s, is_sin))
        assert np.max(np.abs(val - ref)) < 1e-14, dim


def test_outer_start_radius_rule():
    K3 = F2.lines
    assert outer_start_radius(K3, 4, 1e-3, 1.0) == pytest.approx(32.0)  # r^3 G^3 ~ r^-3
    assert outer_start_radius(K3, 3, 1e-3, 1.0) == start_radius(1.0, 1e-3)  # r^2 G^3 ~ 1/r
    assert outer_start_radius(K3, 4, 1.0, 1e-2) == start_radius(1e-2, 1.0)  # Lambda << m


def test_small_start_radius_equals_the_old_one_d4():
    # the same f2 started at R = 32/Lambda (new) and at R = 32/m (before): the truncation test
    # must carry the small start to the same value within the errors
    c = "bump:eps=0.3,lambda_max=2"
    a = melon_value(F2.lines, _cut(c), 4, 0.1, 1.0, 1e-8, outer=True)
    b = melon_value(F2.lines, _cut(c), 4, 0.1, 1.0, 1e-8, outer=True, R0=start_radius(1.0, 0.1))
    assert a[2] and b[2]
    assert a[3]["R"] < b[3]["R"]
    assert abs(a[0] - b[0]) <= a[1] + b[1]


def test_far_corner_d4_mass_1e_3_honest():
    # m/Lambda = 1e-3 in d = 4 (was routed to the momentum method, not converged): position
    # method from R = 32/Lambda; its error must bound the difference to the same integral at
    # rtol = 1e-11 (R = 1024 instead of 512, error 1.2e-15), and agree with m = 0 to
    # O(m^2 log m)
    v = evaluate_named(BUMP01, 4, 1e-3, 1.0, names=["f2"])["f2"]
    assert v.converged and v.method == "position" and "routed" not in v.info
    tight = evaluate_named(BUMP01, 4, 1e-3, 1.0, names=["f2"], rtol=1e-11, method="position")["f2"]
    assert tight.converged and tight.info["R"] > v.info["R"]
    assert abs(v.estimate - tight.estimate) <= v.error
    z = evaluate_named(BUMP01, 4, 0.0, 1.0, names=["f2"])["f2"]
    assert abs(v.estimate - z.estimate) <= 1e-4 * abs(z.estimate)


def _cut(spec):
    from ergsym.cutoffs import parse_cutoff

    return parse_cutoff(spec)


# references from the momentum method (ergsym.numeric.momentum: no Hankel transforms), run
# with more nodes per panel than its default (module constants N_LO, N_HI):
#   M.N_LO, M.N_HI = 24, 32; M.melon_momentum(F2.lines, parse_cutoff(BUMP01), 1, 1.0, 0.01, 1e-8, True)
#   -> 2.9088762748889987e-06, error 2.6e-15 (converged)
#   (default 12, 16 nodes: 2.9088762681964516e-06 ± 6.2e-12, not converged)
#   M.melon_momentum(F2.lines, parse_cutoff(BUMP01), 4, 1.0, 1e-3, 1e-8, True)  (default nodes)
#   -> 5.82631417124e-14 (12 digits printed), error 2.0e-21
MOMENTUM_REF = {(1, 1.0, 0.01): (2.9088762748889987e-06, 2.6e-15), (4, 1.0, 1e-3): (5.82631417124e-14, 2.0e-21)}


@pytest.mark.parametrize("dim, mass, Lambda", sorted(MOMENTUM_REF))
def test_far_corner_Lambda_below_mass(dim, mass, Lambda):
    # Lambda/m = 1e-2 (d = 1) and 1e-3 (d = 4): the bump's lines decay like e^{-m r}, so the
    # outer melon starts at R = 32/m (was 32/Lambda: over budget, routed to the momentum
    # method, not converged); the bump grading near x = 0 resolves q = sqrt(Lambda^2 + eps x)
    ref, ref_err = MOMENTUM_REF[(dim, mass, Lambda)]
    v = evaluate_named(BUMP01, dim, mass, Lambda, names=["f2"])["f2"]
    assert v.converged and v.method == "position" and "routed" not in v.info
    assert v.info["R"] <= 32 * 8 / mass
    assert abs(v.estimate - ref) <= v.error + ref_err + 5e-13 * abs(ref)  # 12 printed digits


def test_far_corner_small_eps_d1_against_momentum():
    # eps = 1e-3 in d = 1 (bump shell of width 5e-4 in q: R = 1024): position method with the
    # trigonometric-addition kernel vs the momentum method, both at their defaults
    c = "bump:eps=1e-3,lambda_max=2"
    a = evaluate_named(c, 1, 1.0, 1.0, names=["f2"])["f2"]
    b = evaluate_named(c, 1, 1.0, 1.0, names=["f2"], method="momentum")["f2"]
    assert a.converged and b.converged and a.method == "position"
    assert abs(a.estimate - b.estimate) <= a.error + b.error
    assert b.error < 1e-3 * a.error  # the momentum value is the tighter one here: a's error is tested


def test_omega_6_fast_path_against_mpmath():
    # omega_6(z) = Gamma(3) (2/z)^2 J_2(z) = 8 J_2(z)/z^2, reference mpmath.besselj(2, z) at 30 digits
    import mpmath

    from ergsym.numeric.transforms import omega_d

    z = np.concatenate([[0.0, 1e-8, 0.3], np.linspace(1.9, 2.1, 5), np.linspace(2.5, 300.0, 60)])
    with mpmath.workdps(30):
        ref = np.array([1.0 if x == 0 else float(8 * mpmath.besselj(2, mpmath.mpf(x)) / mpmath.mpf(x) ** 2) for x in z])
    assert np.max(np.abs(omega_d(6, z) - ref)) < 2e-15


@pytest.mark.parametrize(
    "spec, dim, mass, Lambda",
    [
        (BUMP01, 3, 1.0, 0.1),
        (BUMP01, 1, 1.0, 0.1),
        (BUMP01, 5, 1.0, 0.05),
        ("bump:eps=0.3,lambda_max=1.5,tail_scale=0.3", 3, 5.0, 0.5),  # m > lambda_max: R0 = 32/lambda_max
        ("bump:eps=0.3,lambda_max=1.5,tail_scale=0.3", 1, 3.0, 0.2),
        ("bump:eps=0.3,lambda_max=1.5,tail_scale=0.3", 2, 2.0, 0.3),
    ],
)
def test_new_start_radius_against_the_old_one(spec, dim, mass, Lambda):
    # Lambda < m (and m > lambda_max): the D-line melon now starts at 32/min(m, lambda_max)
    # instead of 32/Lambda; reference: the same integral started at the old radius (larger R,
    # errors 1e-2..1e-4 of the new ones).  The new error must bound the difference.
    c = _cut(spec)
    a = melon_value(F2.lines, c, dim, mass, Lambda, 1e-8, outer=True)
    b = melon_value(F2.lines, c, dim, mass, Lambda, 1e-8, outer=True, R0=start_radius(Lambda, mass))
    assert a[2] and b[2] and a[3]["R"] < b[3]["R"]
    assert abs(a[0] - b[0]) <= a[1]
