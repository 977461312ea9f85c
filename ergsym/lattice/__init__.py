"""Lattice layer (docs/lattice.md): exact lattice sums, Monte Carlo, exact-RG sampler, cross-check.

Modules (imported on demand; ``import ergsym.lattice`` stays light):

* :mod:`.theory` -- :class:`~.theory.LatticeTheory` (shape, ``Kt_p``, ``D_p``, ``lam``) and the
  FFT operations :class:`~.theory.LatticeOps`;
* :mod:`.hmc` -- Fourier-accelerated HMC (:class:`~.hmc.HMCSampler`) and the local Metropolis
  baseline; explicit :class:`~.hmc.ChainState` with its ``numpy.random.Generator``;
* :mod:`.observables` -- A, B, the four pieces (direct and Schwinger-Dyson-improved), ``G_p``,
  ``<phi^2>``;
* :mod:`.run` -- :func:`~.run.run_mc` / :func:`~.run.resume_mc` -> :class:`~.run.MCResult`
  (checkpoints in :mod:`.checkpoint`);
* :mod:`.stats` -- :class:`~.stats.Stats`, integrated autocorrelation time, binned jackknife;
* :mod:`.quadrature` -- exact expectations on V <= 3 sites by direct integration;
* :mod:`.channel` -- the Gaussian channel ``P_Lambda0 -> P_Lambda`` (docs/lattice.md);
* :mod:`.crosscheck` -- Monte Carlo against the engine's exact lattice series;
* :mod:`.verdict` -- verdict words and error budgets of every comparison (agrees, disagrees,
  inconclusive, exact, nothing compared);
* :mod:`.sums` -- exact lattice values of integral families.
"""
