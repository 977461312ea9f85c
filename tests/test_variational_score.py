"""The score of the pushed law of the learned maps (ergsym.variational.score) and the pieces of B from it."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ergsym.flow.problem import FlowProblem
from ergsym.variational.flow import VariationalConfig, run_variational
from ergsym.variational.maps import compose_apply
from ergsym.variational.score import monotone_pieces_per_sample, pushed_action_gradient

CUT = "bump:eps=0.5,lambda_max=2.5"


def _flow(shape, L0, L, lam, steps=4, n=200):
    p = FlowProblem.build(shape, CUT, 1.0, L0, lam)
    cfg = VariationalConfig(
        shape=p.shape,
        cutoff=p.cutoff.spec,
        mass=1.0,
        Lambda0=L0,
        Lambda=L,
        lam=lam,
        steps=steps,
        n_samples=n,
        seed=1,
        n_therm=20,
    )
    return p, run_variational(cfg, problem=p)


# 8x8, 2.1 -> 1.2: every step moves 1 to 3 orbits, each coupled to the frozen orbits and to the
# moved orbits before it (block-triangular Jacobians); 3 sites: an orbit of two modes
@pytest.mark.parametrize("shape,L0,L", [("8x8", 2.1, 1.2), ("3", 1.85, 1.5), ("2", 2.1, 1.6)])
def test_score_is_the_gradient_of_the_pushed_action(shape, L0, L):
    """Chain rule against finite differences: along any direction v at phi0,
    d/de [S_F(F(phi0 + e v))] = d/de [S_Lambda0(phi0 + e v) + ln|det dF(phi0 + e v)|]."""
    lam = 2.0
    p, res = _flow(shape, L0, L, lam)
    assert any(len(F.active) for F in res.maps)
    phi0 = res.phi0[:40]
    xp, dSp = pushed_action_gradient(res.maps, phi0, p.kt0, lam)
    np.testing.assert_allclose(xp, res.phi_p[:40], atol=1e-12)  # the same pushed samples
    axes = tuple(range(1, phi0.ndim))
    dS = np.fft.ifftn(dSp, axes=axes).real
    V = phi0[0].size

    def s0(f):
        quad = 0.5 / V * np.sum(np.abs(np.fft.fftn(f, axes=axes)) ** 2 / p.kt0, axis=axes)
        return quad + lam / 24 * np.sum(f**4, axis=axes)

    def pushed(f):
        y, ld = compose_apply(res.maps, f, return_logdet=True)
        return y, s0(f) + ld

    v = np.random.default_rng(0).normal(size=phi0.shape)
    eps = 1e-5
    (yp, sp), (ym, sm) = pushed(phi0 + eps * v), pushed(phi0 - eps * v)
    lhs = np.sum(dS * (yp - ym) / (2 * eps), axis=axes)
    rhs = (sp - sm) / (2 * eps)
    # central differences: O(eps^2) ~ 1e-10 relative, rounding ~ 1e-16/eps
    np.testing.assert_allclose(lhs, rhs, rtol=1e-6, atol=1e-6)


def test_gaussian_pieces_per_sample_are_the_closed_form():
    """For dS = Kt^-1 phi (the free flowed action) g = 0: a = phi Kt^-1 D Kt^-1 phi, c = e = 0."""
    rng = np.random.default_rng(2)
    kt, d = np.array([[0.5, 0.3]]), np.array([[0.0, 0.7]])
    phi_p = np.fft.fft(rng.normal(size=(5, 2)), axis=1).reshape(5, 1, 2)
    a, c, e = monotone_pieces_per_sample(phi_p, phi_p / kt, kt, d)
    np.testing.assert_allclose(a, 0.7 * np.abs(phi_p[:, 0, 1]) ** 2 / 0.3**2 / 2, rtol=1e-13)
    np.testing.assert_allclose(c, 0, atol=1e-13)
    np.testing.assert_allclose(e, 0, atol=1e-13)


def test_free_shift_and_piece_weights():
    """The free values the scheme's O(tau) shift uses: at G = Kt they are the exact free B and A
    (B = 1/2 sum D/Kt, A = 3/2 sum D/Kt, the paper's (5.1)/(5.2) for A); for any G they are the
    per-sample a, c, e of a field with |phi_p|^2 = V G_p and the Gaussian score phi_p/G_p."""
    from ergsym.flow.methods import _PIECES, _free_ace

    p = FlowProblem.build("4x4", CUT, 1.0, 2.1, 0.0)
    pt = p.at(1.4)  # D_p != 0 on the orbit phat^2 = 2 (4 modes)
    kt, d = np.asarray(pt.kt), np.asarray(pt.d)
    assert np.count_nonzero(d) == 4
    ace = np.array(_free_ace(kt, kt, d))
    assert ace @ np.array(_PIECES["B"]) == pytest.approx(p.free_B(1.4), rel=1e-13)
    assert ace @ np.array(_PIECES["A"]) == pytest.approx(3 * p.free_B(1.4), rel=1e-13)
    sums = sum(np.array(_PIECES[k]) for k in ("dSdS", "dSdShat", "dShatdShat", "LdShat"))
    np.testing.assert_allclose(sums, _PIECES["A"], rtol=0, atol=0)
    G = kt * (1 + 0.3 * np.cos(np.arange(kt.size)).reshape(kt.shape))
    phi_p = np.sqrt(16 * G)[None].astype(complex)
    a, c, e = monotone_pieces_per_sample(phi_p, phi_p / G[None], kt, d)
    np.testing.assert_allclose([a[0], c[0], e[0]], _free_ace(G, kt, d), rtol=1e-12)


@settings(max_examples=4, deadline=None)
@given(lam=st.floats(0.0, 50.0), seed=st.integers(0, 2**31 - 1))
def test_property_score_chain_rule_any_coupling_and_direction(lam, seed):
    """The chain rule holds for maps fitted at any coupling, along a random direction (2 sites)."""
    p, res = _flow("2", 2.1, 1.6, lam, steps=3, n=200)
    phi0 = res.phi0[:20]
    xp, dSp = pushed_action_gradient(res.maps, phi0, p.kt0, lam)
    dS = np.fft.ifft(dSp, axis=1).real
    v = np.random.default_rng(seed).normal(size=phi0.shape)

    def pushed(f):
        y, ld = compose_apply(res.maps, f, return_logdet=True)
        quad = 0.5 / 2 * np.sum(np.abs(np.fft.fft(f, axis=1)) ** 2 / p.kt0, axis=1)
        return y, quad + lam / 24 * np.sum(f**4, axis=1) + ld

    eps = 1e-5
    (yp, sp), (ym, sm) = pushed(phi0 + eps * v), pushed(phi0 - eps * v)
    lhs = np.sum(dS * (yp - ym), axis=1) / (2 * eps)
    np.testing.assert_allclose(lhs, (sp - sm) / (2 * eps), rtol=1e-6, atol=1e-6)
