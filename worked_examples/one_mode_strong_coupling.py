"""One mode (zero dimensions) at strong coupling: A and B by direct integration.

S = phi^2/(2k) + lam phi^4/24, Cdot = D, Sigma' = -phi/k + lam phi^3/6:

    A = +(D/2) <Sigma'^2> + D <phi^2>/k^2   (the paper's printed expression (5.5))
    B = -(D/2) <Sigma'^2> + D <phi^2>/k^2   (= -Lambda dM/dLambda, docs/conventions.md)

computed here with mpmath quadrature (independent of ergsym), checked against ergsym's
tiny-lattice integrator and, at small lam, against the engine's series.  Finding: B < 0 at
strong coupling (k = 0.7, D = 0.3, lam = 30), while A > 0 always.

Run:  python worked_examples/one_mode_strong_coupling.py [--fast]
"""

import argparse

import mpmath as mp
import numpy as np

from ergsym.lattice.sums import series_on_lattice
from ergsym.report.lattice_sections import one_mode_exact
from ergsym.symbolic import monotone


def a_b_mpmath(k, D, lam, dps=30):
    """(A, B) for one mode by mpmath quadrature."""
    mp.mp.dps = dps
    k, D, lam = mp.mpf(k), mp.mpf(D), mp.mpf(lam)
    w = lambda x: mp.exp(-(x**2) / (2 * k) - lam * x**4 / 24)  # noqa: E731
    z = mp.quad(w, [-mp.inf, 0, mp.inf])
    ev = lambda f: mp.quad(lambda x: f(x) * w(x), [-mp.inf, 0, mp.inf]) / z  # noqa: E731
    phi2 = ev(lambda x: x**2)
    sig2 = ev(lambda x: (-x / k + lam * x**3 / 6) ** 2)
    return float(D / 2 * sig2 + D * phi2 / k**2), float(-D / 2 * sig2 + D * phi2 / k**2)


def main(fast=False):
    k, D = 0.7, 0.3
    A30, B30 = a_b_mpmath(k, D, 30.0)
    print(f"one mode, k = {k}, D = {D}, lam = 30 (mpmath): B = {B30:.4f}, A = {A30:.4f}")
    ex = one_mode_exact(k, D, 30.0)
    print(
        f"  ergsym.lattice.quadrature on one site: B = {ex['B'][0]:.10f} ± {ex['B'][1]:.1e}, "
        f"A = {ex['A'][0]:.10f} ± {ex['A'][1]:.1e}"
    )
    agree = abs(ex["B"][0] - B30) < 1e-8 and abs(ex["A"][0] - A30) < 1e-8
    print(f"  the two integrations agree: {agree}")
    lams = [0, 1, 3, 10, 20, 30, 60] if fast else [0, 0.5, 1, 2, 3, 5, 7, 10, 15, 20, 25, 30, 40, 60, 100]
    print(f"{'lam':>6} {'A':>12} {'B':>12}")
    sign_change = None
    prev = None
    for lam in lams:
        a, b = a_b_mpmath(k, D, lam, dps=20)
        print(f"{lam:>6g} {a:>12.6f} {b:>12.6f}")
        if prev is not None and prev > 0 >= b and sign_change is None:
            sign_change = lam
        prev = b
    print(f"B first <= 0 on this grid at lam = {sign_change}; A stays positive")
    # small coupling: the engine series on one site approaches the exact B
    c = series_on_lattice(monotone(3, "B"), "1", np.array([k]), np.array([D]))
    lam = 0.05
    _, b = a_b_mpmath(k, D, lam)
    for n in range(4):
        s = sum(c[j] * lam**j for j in range(n + 1))
        print(f"  lam = {lam}: series to O(lam^{n}) = {s:.12f}, exact = {b:.12f}, diff = {s - b:.1e}")
    return agree and B30 < 0 < A30


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fast", action="store_true", help="fewer couplings (used by the test suite)")
    raise SystemExit(0 if main(ap.parse_args().fast) else 1)
