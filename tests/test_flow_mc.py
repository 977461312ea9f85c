"""Monte Carlo of P_Lambda0 pushed through the Gaussian channel vs the flowed series (SPEC 5).

HMC samples the bare theory at Lambda0; each sample is mapped to an exact sample of P_Lambda
by phi_Lambda = alpha phi + xi (ergsym.lattice.channel).  Observables that are functions of
the field alone are then compared with ergsym.flow's series at Lambda < Lambda0, evaluated as
exact lattice sums (families in Kt_Lambda, D_Lambda and Delta = Kt_Lambda0 - Kt_Lambda):

* <phi_x^2>_Lambda per site (flow_phi2);
* the piece +2<Cdot dShat dShat>_Lambda = (2/V) sum_p D_p |phi_p|^2 / Kt_p^2 (flow_piece).

The truncation error of the O(lam^2) series is estimated by |c2| lam^3 / lam_ref (the size of the
next term if the coefficients grow like the last one), and added in quadrature to the MC error.
"""
import math

import numpy as np
import pytest

from ergsym.cutoffs import parse_cutoff
from ergsym.flow import flow_phi2, flow_piece
from ergsym.flow.lattice import flow_arrays
from ergsym.lattice.channel import GaussianChannel
from ergsym.lattice.run import run_mc
from ergsym.lattice.stats import statistics
from ergsym.lattice.sums import family_value
from ergsym.lattice.theory import LatticeTheory

SHAPE = (6, 6)
SPEC = "bump:eps=0.5,lambda_max=2"
MASS, LAMBDA0, LAMBDA = 1.0, 1.4, 0.9  # phat^2 = 1 lies in [Lambda^2, Lambda^2 + eps]


def _series(series, arrays, lam):
    kt, d, dl = arrays
    per = [float(v) for v in series.evaluate(lambda f: family_value(f, kt, d, dl))]
    value = sum(c * lam ** k for k, c in enumerate(per))
    trunc = abs(per[-1]) * lam ** (len(per))  # conservative: one more power of lam
    return value, trunc, per


@pytest.mark.slow
@pytest.mark.parametrize("lam", [1.0])
def test_channel_pushed_monte_carlo_matches_flowed_series(lam):
    cutoff = parse_cutoff(SPEC)
    theory0 = LatticeTheory.from_cutoff(SHAPE, cutoff, MASS, LAMBDA0, lam)
    channel = GaussianChannel.from_cutoff(SHAPE, cutoff, MASS, LAMBDA0, LAMBDA)
    configs = []
    run_mc(theory0, 20000, seed=11, progress=False,
           callback=lambda i, st, info: configs.append(np.array(st.phi, copy=True)))
    phi = channel.apply(np.stack(configs), np.random.default_rng(3))
    arrays = flow_arrays(SHAPE, cutoff, MASS, LAMBDA0, LAMBDA)
    kt, d, _ = arrays
    vol = kt.size
    # observables at Lambda, one number per configuration
    phi2 = np.mean(phi ** 2, axis=(1, 2))
    phip = np.fft.fftn(phi, axes=(1, 2))
    dshat2 = 2.0 / vol * np.sum(d * np.abs(phip) ** 2 / kt ** 2, axis=(1, 2))
    checks = [(phi2, flow_phi2(2)), (dshat2, flow_piece("dShatdShat", 2))]
    for obs, series in checks:
        st = statistics(obs)
        value, trunc, per = _series(series, arrays, lam)
        z = (st.mean - value) / math.hypot(st.error_of_mean, trunc)
        assert abs(z) < 4, (series.quantity, st, value, trunc)
        # the interaction is visible: the free value (order 0) is excluded
        assert abs(st.mean - per[0]) > 4 * math.hypot(st.error_of_mean, trunc), series.quantity
