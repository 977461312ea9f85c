"""Loop integrals of the Appendix-B bump cutoff against Lambda and eps; (B7) is not monotone.

* f0, t1, u1, T, f1 (and the sunset f2 unless --fast) in d = 4 for several Lambda and eps,
  each with its error estimate;
* d = 2: f0 = 2 pi Lambda^2 ln(1/eps) for any bump shape (the Appendix-B bump of Cotler &
  Rezchikov, PRD 108, 025003; closed form in docs/conventions.md, "Cutoffs"), checked;
* (B7), the paper's continuation for Lambda > Lambda_max, implemented here as printed:
  at fixed p^2 it decreases with Lambda somewhere, so it is not monotone (ergsym refuses it).

Run:  python worked_examples/integrals_vs_Lambda_eps.py [--fast]
"""

import argparse
import math

import numpy as np

from ergsym.cutoffs import BumpCutoff, bump_B
from ergsym.errors import InputError
from ergsym.numeric import evaluate_named


def k_b7(p2, Lam, eps, lmax):
    """(B7) as printed in Appendix B of Cotler & Rezchikov, for Lambda > Lambda_max (tail scale 1)."""
    p2 = np.asarray(p2, float)
    delta = eps * math.exp(-(Lam**2) + lmax**2)
    out = eps * np.exp(-(p2 - (lmax**2 + eps)))
    out = np.where(p2 <= Lam**2, 1.0, out)
    mid = (p2 > Lam**2) & (p2 < Lam**2 + eps)
    x = (p2[mid] - Lam**2) / delta
    b = np.where(x < 1, bump_B(np.minimum(x, 0.999999)), 0.0)
    out[mid] = (1 - delta) * b + delta
    return out


def main(fast=False):
    names = ["f0", "t1", "u1", "T", "f1"] + ([] if fast else ["f2"])
    print("d = 4, m = 1, lambda_max = 2")
    for eps in [0.1, 0.5] if fast else [0.01, 0.1, 0.5]:
        cut = BumpCutoff(eps, 2.0)
        for Lam in [0.5, 1.0] if fast else [0.25, 0.5, 1.0, 1.5, 2.0]:
            vals = evaluate_named(cut, 4, 1.0, Lam, names=names)
            print(
                f"  eps={eps:<5g} Lambda={Lam:<5g} "
                + "  ".join(f"{n}={v.estimate:.6g}±{v.error:.1g}" for n, v in vals.items())
            )
    ok = True
    for eps in (0.1, 0.01, 1e-6):
        for Lam in (0.5, 1.3):
            v = evaluate_named(BumpCutoff(eps, 2.0), 2, 1.0, Lam, names=["f0"])["f0"]
            exact = 2 * math.pi * Lam**2 * math.log(1 / eps)
            good = abs(v.estimate - exact) <= max(3 * v.error, 1e-9 * exact)
            ok &= good
            print(
                f"d = 2: eps={eps:g} Lambda={Lam}: f0 = {v.estimate:.12g} ± {v.error:.1g}, "
                f"2 pi Lambda^2 ln(1/eps) = {exact:.12g}  {'ok' if good else 'MISMATCH'}"
            )
    # (B7): find (p^2, Lambda) where K decreases with Lambda
    eps, lmax = 0.1, 2.0
    found = None
    for Lam in np.linspace(2.05, 2.5, 10):
        p2 = np.linspace(Lam**2, Lam**2 + eps, 2001)[1:-1]
        dK = (k_b7(p2, Lam + 1e-6, eps, lmax) - k_b7(p2, Lam - 1e-6, eps, lmax)) / 2e-6
        if np.any(dK < 0):
            i = int(np.argmin(dK))
            found = (float(Lam), float(p2[i]), float(dK[i]))
            break
    if found:
        print(
            f"(B7) decreases with Lambda: at Lambda = {found[0]:.3f}, p^2 = {found[1]:.5f}, "
            f"dK/dLambda = {found[2]:.3g} < 0"
        )
    try:
        BumpCutoff(eps, lmax).K(4.5, 2.2)
    except InputError as exc:
        print(f"ergsym refuses Lambda > lambda_max: {exc}")
    return ok and found is not None


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fast", action="store_true", help="fewer points, no sunset (used by the test suite)")
    raise SystemExit(0 if main(ap.parse_args().fast) else 1)
