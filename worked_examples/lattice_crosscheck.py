"""Lattice cross-check: hybrid Monte Carlo against the exact lattice series of B.

On a periodic lattice every family of the engine's series is an exact lattice sum, so the
series is exact order by order and a small-coupling Monte Carlo tests it (z-scores) with no
continuum extrapolation (docs/lattice.md, "Cross-check").  Note: on 4x4 with the bump at Lambda = 1,
eps = 0.5, no lattice momentum falls in [Lambda^2, Lambda^2 + eps], so D_p = 0 and every
coefficient vanishes; 8x8 has momenta in the window.

Run:  python worked_examples/lattice_crosscheck.py [--fast]
"""

import argparse

import numpy as np

from ergsym.cutoffs import parse_cutoff
from ergsym.lattice.crosscheck import crosscheck
from ergsym.lattice.sums import lattice_propagators


def main(fast=False):
    cut = parse_cutoff("bump:eps=0.5,lambda_max=2")
    _, d4 = lattice_propagators("4x4", cut, 1.0, 1.0)
    print(f"4x4: number of momenta with D_p != 0: {int(np.count_nonzero(d4))}")
    _, d8 = lattice_propagators("8x8", cut, 1.0, 1.0)
    print(f"8x8: number of momenta with D_p != 0: {int(np.count_nonzero(d8))}")
    res = crosscheck(
        "8x8",
        cut,
        1.0,
        1.0,
        lams=(0.05, 0.2) if fast else (0.05, 0.1, 0.2, 0.4),
        form="B",
        n_traj=400 if fast else 8000,
        seed=1,
    )
    print(res.to_text())
    print(f"max |z| = {res.max_abs_z:.2f}")
    return res.max_abs_z < 4


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fast", action="store_true", help="short runs (used by the test suite)")
    raise SystemExit(0 if main(ap.parse_args().fast) else 1)
