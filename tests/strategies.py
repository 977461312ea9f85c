"""hypothesis strategies shared by the test suite (cutoffs; lattice strategies may follow)."""

from hypothesis import strategies as st

from ergsym.cutoffs import BumpCutoff, ExponentialCutoff, FermiCutoff


@st.composite
def bump_cutoffs(draw):
    """Appendix-B bump cutoffs with a valid ``Lambda <= lambda_max``: ``(cutoff, Lambda)``."""
    eps = draw(st.floats(1e-6, 0.95))
    lmax = draw(st.floats(0.3, 5.0))
    lam = draw(st.floats(0.1, 1.0)) * lmax
    mu2 = draw(st.sampled_from([1.0, 0.5, 3.0]))
    return BumpCutoff(eps, lmax, mu2), lam


@st.composite
def smooth_cutoffs(draw):
    """Exponential or Fermi cutoffs with a ``Lambda``: ``(cutoff, Lambda)``."""
    c = draw(st.one_of(st.builds(ExponentialCutoff, st.integers(1, 4)), st.builds(FermiCutoff, st.floats(0.5, 50.0))))
    return c, draw(st.floats(0.2, 5.0))


any_cutoffs = st.one_of(bump_cutoffs(), smooth_cutoffs())
