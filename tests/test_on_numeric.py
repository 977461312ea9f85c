"""O(N) models in the numeric and exact-lattice-sum layers: families unchanged, coefficients in N.

* exact lattice sums (FFT) of a series derived with N = 2, 3 equal the brute-force Gaussian-moment
  oracle on the V N variables (exact Fractions) on small random rational lattices;
* a symbolic-N series is refused by both numeric layers with a message naming N;
* the continuum evaluation of the series at N = 3 equals that of the symbolic series at N = 3.
"""

import itertools
import random
from fractions import Fraction

import numpy as np
import pytest

from ergsym.cutoffs import parse_cutoff
from ergsym.errors import InputError
from ergsym.lattice.sums import series_on_lattice
from ergsym.numeric import evaluate_series
from ergsym.symbolic import Theory, monotone
from ergsym.symbolic.oracle import circulant, exact_expansion


def _rational_lattice(shape, seed):
    """Random symmetric rational circulants G (invertible) and Cdot, with their momentum-space
    eigenvalues (the FFT of the first row) for the float lattice sums."""
    rng = random.Random(seed)

    def vals(diag):
        v = {}
        for r in itertools.product(*[range(n) for n in shape]):
            mr = tuple((-a) % n for a, n in zip(r, shape, strict=True))
            v[r] = v[mr] if mr in v else Fraction(rng.randint(-5, 5), rng.randint(1, 7))
        v[(0,) * len(shape)] = Fraction(diag)
        return v

    g, c = vals(40), vals(2)

    def first(v):
        sites = itertools.product(*[range(n) for n in shape])
        return np.array([float(v.get(r, 0)) for r in sites]).reshape(shape)

    return circulant(shape, g), circulant(shape, c), np.fft.fftn(first(g)).real, np.fft.fftn(first(c)).real


@pytest.mark.parametrize("shape, n, order, seed", [((3,), 2, 3, 1), ((4,), 3, 2, 2), ((2, 2), 2, 2, 3)])
def test_lattice_sums_with_n_components_equal_exact_moments(shape, n, order, seed):
    # Reference: ergsym.symbolic.oracle.exact_expansion(..., n_components=n): the operators built
    # literally on the V N variables phi_{x,a}, exact Gaussian moments, no graphs
    g, c, kt, d = _rational_lattice(shape, seed)
    for q in ("B", "A"):
        want = exact_expansion(g, c, order, q, n_components=n)
        got = series_on_lattice(monotone(order, q, theory=Theory(N=n)), kt_p=kt, d_p=d)
        assert got == pytest.approx([float(w) for w in want], rel=1e-10, abs=1e-12)
        # and the N = 1 series (times N or not) does not pass the same check
        one = series_on_lattice(monotone(order, q), kt_p=kt, d_p=d)
        assert one[1:] != pytest.approx([float(w) for w in want[1:]], rel=1e-6)


def test_symbolic_n_is_refused_by_the_numeric_layers():
    s = monotone(2, "B", theory=Theory(N="N"))
    kt = np.full((2,), 0.5)
    with pytest.raises(InputError, match="N='N'.*at_n"):
        series_on_lattice(s, kt_p=kt, d_p=kt)
    with pytest.raises(InputError, match="N='N'.*at_n"):
        evaluate_series(s, parse_cutoff("exp:n=2"), 3, 1.0, 1.0)


def test_continuum_evaluation_at_n_three_equals_symbolic_series_at_three():
    cutoff = parse_cutoff("bump:eps=0.5,lambda_max=2")
    direct = evaluate_series(monotone(2, "B", theory=Theory(N=3)), cutoff, 3, 1.0, 1.0, lam=0.1)
    via = evaluate_series(monotone(2, "B", theory=Theory(N="N")).at_n(3), cutoff, 3, 1.0, 1.0, lam=0.1)
    one = evaluate_series(monotone(2, "B"), cutoff, 3, 1.0, 1.0, lam=0.1)
    assert float(direct.total.estimate) == float(via.total.estimate)
    # the families are the same for every N; only the coefficients change: order 0 is N times
    # the single scalar's (N/2 f0), order 1 is N(N+2)/3 = 5 times it (f1 alone)
    k0 = [v for p, v in direct.orders.items() if sum(p) == 0][0]
    k0_one = [v for p, v in one.orders.items() if sum(p) == 0][0]
    k1 = [v for p, v in direct.orders.items() if sum(p) == 1][0]
    k1_one = [v for p, v in one.orders.items() if sum(p) == 1][0]
    assert float(k0.estimate) == pytest.approx(3 * float(k0_one.estimate), rel=1e-14)
    assert float(k1.estimate) == pytest.approx(5 * float(k1_one.estimate), rel=1e-14)
    assert float(k1.error) == pytest.approx(5 * float(k1_one.error), rel=1e-12)
