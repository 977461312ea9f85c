"""Free-field monotone: which expression is -Lambda dM/dLambda?  And (4.20)-(4.22).

A and B as in docs/conventions.md ("Two quantities: A and B").  For one real mode with
propagator k(Lambda), P = N(0, k) and
Q = e^{-2 Shat}/Z_Q = N(0, k/2), so M = S(P||Q) - log Z_Q = const - (1/2) log k and
-Lambda dM/dLambda = (1/2) D/k = B, while the printed expression gives A = (3/2) D/k.

Everything below is computed by quadrature on a grid, independently of the engine, and then
compared with the engine's series evaluated on one site (and on an 8x8 lattice).

Run:  python worked_examples/free_field_monotone.py [--fast]
"""

import argparse

import numpy as np

from ergsym.cutoffs import parse_cutoff
from ergsym.lattice.sums import lattice_propagators, series_on_lattice
from ergsym.symbolic import monotone


def k_of(Lam):
    """A smooth increasing one-mode propagator k(Lambda) = 0.7 Lambda^2/(1+Lambda^2)."""
    return 0.7 * Lam**2 / (1 + Lam**2)


def d_of(Lam):
    """D = Lambda dk/dLambda."""
    return 0.7 * 2 * Lam**2 / (1 + Lam**2) ** 2


def M_of(Lam, x):
    """M = S(P||Q) - log Z_Q = int P log P + 2 <Shat>, by quadrature.

    With Q = e^{-2 Shat}/Z_Q: S(P||Q) = int P log P + 2 <Shat> + log Z_Q.
    """
    k = k_of(Lam)
    h = x[1] - x[0]
    p = np.exp(-(x**2) / (2 * k)) / np.sqrt(2 * np.pi * k)
    return np.sum(p * (np.log(p) + x**2 / k)) * h


def main(fast=False):
    x = np.linspace(-12, 12, 4001 if fast else 20001)
    h = x[1] - x[0]
    Lam, dl = 1.0, 1e-4
    dM = -(M_of(Lam * np.exp(dl), x) - M_of(Lam * np.exp(-dl), x)) / (2 * dl)
    k, D = k_of(Lam), d_of(Lam)
    kt, dd = np.array([k]), np.array([D])
    B = series_on_lattice(monotone(0, "B"), "1", kt, dd)[0]
    A = series_on_lattice(monotone(0, "A"), "1", kt, dd)[0]
    print(f"one mode, k = {k:.6g}, D = {D:.6g}")
    print(f"  -Lambda dM/dLambda (quadrature + central difference) = {dM:.10f}")
    print(f"  engine B = {B:.10f}   engine A = {A:.10f}   (1/2) D/k = {0.5 * D / k:.10f}")
    ok = abs(dM - B) < 1e-6
    print(
        "  -Lambda dM/dLambda matches B" if ok else "  MISMATCH with B",
        f"(|diff| = {abs(dM - B):.1e});",
        f"A differs by {A - dM:.6f}",
    )

    # (4.20): -<Lambda dS_free/dLambda> with S_free = x^2/(2k): Lambda dS/dLambda = -x^2 D/(2k^2)
    p = np.exp(-(x**2) / (2 * k)) / np.sqrt(2 * np.pi * k)
    lhs = np.sum(p * x**2 * D / (2 * k**2)) * h
    f0 = D / k  # zero dimensions: f0 = D/Kt
    print(
        f"(4.20) corrected: -<Lambda dS_free/dLambda> = {lhs:.10f} = {lhs / f0:.6f} f0 "
        f"(printed (4.20): 1 f0; (4.18)/(4.25) require 1/2 f0)"
    )

    # (4.21): -int Lambda d/dLambda (P S) at fixed x, by central differences of the integrand
    def ps(L):
        kk = k_of(L)
        pp = np.exp(-(x**2) / (2 * kk)) / np.sqrt(2 * np.pi * kk)
        return pp * x**2 / (2 * kk)

    under = -np.sum((ps(Lam * np.exp(dl)) - ps(Lam * np.exp(-dl))) / (2 * dl)) * h
    print(
        f"(4.21) corrected: -int Lambda d/dLambda (P S_free) = {under:.2e} "
        f"(= 0 = (4.13): no order-of-limits puzzle (4.22) for the free field)"
    )

    # the same on an 8x8 lattice with the Appendix-B bump: M = -1/2 sum_p log Kt_p + const
    cut = parse_cutoff("bump:eps=0.5,lambda_max=2")

    def M_lat(L):
        kt_, _ = lattice_propagators("8x8", cut, 1.0, L)
        return -0.5 * np.sum(np.log(kt_))

    dl2 = 1e-5
    dM_lat = -(M_lat(np.exp(dl2)) - M_lat(np.exp(-dl2))) / (2 * dl2)
    kt8, d8 = lattice_propagators("8x8", cut, 1.0, 1.0)
    B8 = series_on_lattice(monotone(0, "B"), "8x8", kt8, d8)[0]
    A8 = series_on_lattice(monotone(0, "A"), "8x8", kt8, d8)[0]
    print(f"8x8 bump lattice: -Lambda dM/dLambda = {dM_lat:.8f}, B = {B8:.8f}, A = {A8:.8f}")
    return ok and abs(lhs / f0 - 0.5) < 1e-8 and abs(under) < 1e-6 and abs(dM_lat - B8) < 1e-4 * abs(B8)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fast", action="store_true", help="coarser grids (used by the test suite)")
    raise SystemExit(0 if main(ap.parse_args().fast) else 1)
