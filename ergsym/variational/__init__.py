"""Variational RG as optimal transport (Cotler & Rezchikov, PRD 108, 025003, Section VI).

* :mod:`.ot` -- transport costs with the paper's factor 2 and kernel ``Cdot^-1`` ((3.4)), discrete
  Kantorovich (2.21), 1-D Monge maps, Otto-calculus checks;
* :mod:`.maps` -- translation-equivariant invertible maps with exact log-determinants;
* :mod:`.jko` -- the JKO step (6.18)/(6.21) as a sample average over ``P_Lambda0``;
* :mod:`.flow` -- the flow of Algorithms 1 and 2 on a lattice, compared with the exact flow
  (the Gaussian channel of ``docs/flow.md``);
* :mod:`.onemode` -- one mode: the flexible (Lagrangian) monotone-map JKO and the exact reference.

Optional dependencies (POT, JAX/optax) are imported inside the functions that need them.
"""
