"""The momentum-space method (ergsym.numeric.momentum): an independent cross-check of the
position-space (Hankel transform) method for melons and for Sun(p).

Every comparison asserts (i) agreement within the combined reported errors and (ii) that the
cross-check is informative: the momentum method's own reported error is small (< 1e-6
relative for melons), so agreement is not bought with a large error bar.  The position-space
references are evaluated at rtol 1e-10 with R0 = 256 (its own reported errors are <= 1e-11).
"""

import numpy as np
import pytest

from ergsym.cutoffs import parse_cutoff
from ergsym.families import DLINE, NAMED_FAMILIES, Block, K, Line
from ergsym.numeric import evaluate_block, evaluate_family, sunset
from ergsym.numeric.melon import melon_value
from ergsym.numeric.momentum import MomentumLine, angular

BUMP = "bump:eps=0.5,lambda_max=2"
BUMP01 = "bump:eps=0.1,lambda_max=2"


def _check(lines, cut, dim, mass=1.0, Lambda=1.0, outer=None):
    outer = any(l.d for l in lines) if outer is None else outer
    c = parse_cutoff(cut)
    a = melon_value(lines, c, dim, mass, Lambda, 1e-10, outer=outer, R0=256.0)
    b = melon_value(lines, c, dim, mass, Lambda, 1e-8, method="momentum", outer=outer)
    assert b[3]["method"] == "momentum"
    assert abs(a[0] - b[0]) <= a[1] + b[1]
    assert b[1] < 1e-6 * abs(b[0])  # informative cross-check
    assert abs(a[0] - b[0]) < 1e-7 * abs(a[0])
    return a, b


@pytest.mark.parametrize("dim", [1, 3])
def test_f2_two_methods_agree(dim):
    f2 = NAMED_FAMILIES["f2"]
    a = evaluate_family(f2, BUMP, dim, 1.0, 1.0, method="position")
    b = evaluate_family(f2, BUMP, dim, 1.0, 1.0, method="momentum")
    assert a.converged and b.converged and b.method == "momentum"
    assert abs(a.estimate - b.estimate) <= a.error + b.error
    assert b.error < 1e-6 * abs(b.estimate)


@pytest.mark.slow
@pytest.mark.parametrize("dim", [2, 4])
def test_f2_two_methods_agree_slow(dim):
    _check((DLINE, K, K, K), BUMP01, dim)


def test_f2_eps01_light_mass_d1():
    _check((DLINE, K, K, K), BUMP01, 1, mass=0.4, Lambda=0.7)


@pytest.mark.parametrize("lines,dim", [((Line(1, 1), K, K, K), 3), ((DLINE, K, K, Line(2, 0)), 1), ((K, K, K), 4)])
def test_other_melons_two_methods(lines, dim):
    _check(lines, BUMP01, dim)


@pytest.mark.slow
def test_vacuum_melon_d2_error_safety_factor():
    # n = 12 and n = 16 agree accidentally here (difference 5x below the true error of the
    # n = 16 result); the reported error carries SAFETY = 10 and must still cover it
    _check((K, K, K, Line(2, 0)), BUMP01, 2)


def test_generic_melon_block_momentum():
    blk = Block(2, ((0, 1, Line(0, 1)), (0, 1, K), (0, 1, K), (0, 1, Line(2, 0))))
    v = evaluate_block(blk, BUMP, 3, 1.0, 1.0)
    w = evaluate_block(blk, BUMP, 3, 1.0, 1.0, method="momentum")
    assert v.converged and w.converged
    assert abs(v.estimate - w.estimate) <= v.error + w.error
    assert w.error < 1e-6 * abs(w.estimate)


def test_sunset_momentum_vs_position():
    p = np.array([0.0, 1.5])
    a = sunset(p, BUMP, 3, 1.0, 1.0)
    b = sunset(p, BUMP, 3, 1.0, 1.0, method="momentum")
    assert b.method == "momentum"
    assert np.all(np.abs(a.estimate - b.estimate) <= a.error + b.error)
    # Sun(p) has algebraic singularities at |p -+ b| in its k integrand: less accurate than
    # the melons, still informative
    assert np.all(b.error < 1e-5 * np.abs(b.estimate))


def test_angular_integral_vs_mpmath():
    import mpmath as mp

    c = parse_cutoff(BUMP01)
    F = MomentumLine(K, c, 1.0, 1.0)
    k = np.array([1.0, 2.5])
    q = np.array([1.0005, 0.6])
    for dim in (2, 3, 4):
        got = angular(F, k, q, 16, dim)
        for kk, qq, g in zip(k, q, got):
            # reference: S_{d-1} int_0^pi sin^{d-2} Kt(|k-q|) dtheta, split at the breakpoints
            # of Kt (mpmath tanh-sinh, 20 digits)
            mp.mp.dps = 20

            def f(t, kk=kk, qq=qq, dim=dim):
                u2 = kk * kk + qq * qq - 2 * kk * qq * mp.cos(t)
                return mp.sin(t) ** (dim - 2) * float(F(np.array([float(mp.sqrt(u2))]))[0])

            pts = [0]
            for b in F.pts:
                cth = (kk * kk + qq * qq - b * b) / (2 * kk * qq)
                if -1 < cth < 1:
                    pts.append(mp.acos(cth))
            pts = sorted(pts) + [mp.pi]
            Sdm1 = {2: 2, 3: 2 * mp.pi, 4: 4 * mp.pi}[dim]
            ref = float(Sdm1 * mp.quad(f, pts))
            assert g == pytest.approx(ref, rel=1e-9)


def test_momentum_method_smooth_cutoff_is_honest():
    # designed for the bump; on exp:n=2 (tail truncated by the cutoff's pieces) it is less
    # accurate (~5e-5 relative, flagged not converged at rtol 1e-8) but its error covers the
    # difference to the position method
    f2 = NAMED_FAMILIES["f2"]
    a = evaluate_family(f2, "exp:n=2", 3, 1.0, 1.0)
    b = evaluate_family(f2, "exp:n=2", 3, 1.0, 1.0, method="momentum")
    assert abs(a.estimate - b.estimate) <= a.error + b.error
    assert b.error < 1e-3 * b.estimate
