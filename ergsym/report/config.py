"""Parameters of the report, their defaults (the README's main job) and their validation."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from ..errors import InputError

if TYPE_CHECKING:
    from ..cutoffs.base import Cutoff
    from ..symbolic.theory import Theory

__all__ = ["ReportConfig", "MAX_REPORT_ORDER", "DEFAULTS"]

#: Highest order the report derives (it also lists the next order, O(lam^(order+1))).
MAX_REPORT_ORDER = 3


@dataclass(frozen=True)
class ReportConfig:
    """Everything ``ergsym report`` needs; the defaults are the README's main job.

    Parameters
    ----------
    out : str
        Output directory (created if missing).
    theory : str
        Interaction, ``"phi4"`` (default), ``"phi4+phi6"``, ``"4:lam,2:c2"``.  The numeric,
        lattice, one-mode and flow sections exist for phi^4 only.
    N : int
        Number of field components of the O(N) model, ``(lam/4!)(phi_a phi_a)^2`` (an integer
        from 1 to 1024; default 1, the single real scalar of the paper).  With ``N != 1`` every
        section computes the O(N) numbers (A, B, the pieces and ``phi2`` summed over
        components), the sections that compare with the paper's printed numbers (which are
        for ``N = 1``) say why they are absent, and a section that cannot do ``N != 1`` yet
        says so (``available: false`` with the reason).
    cutoff : str
        Cutoff spec of the continuum sections (default the Appendix-B bump, eps = 0.1,
        lambda_max = 2).
    dim : int
        Continuum dimension, 1..6.
    mass : float
        Bare mass ``m > 0``.
    Lambda0 : float
        Initial scale ``Lambda0`` (``<= lambda_max`` for the bump).
    order : int
        Derivation order 0..3; the next order is listed too.
    scheme : {"bare", "normal-ordered"}
    lams : tuple of float
        Couplings at which the summed series are tabulated.
    quick : bool
        Fewer points, a short Monte Carlo: the whole report in well under a minute.
    mc : bool
        Run the lattice Monte Carlo cross-check.
    mc_lattice, mc_cutoff : str
        2-d lattice and cutoff of the cross-check.  The default cutoff has eps = 0.5 because
        for eps = 0.1 almost no lattice momentum lies in the window ``[Lambda^2, Lambda^2+eps]``;
        on the default 16x16 lattice ``D_p`` is nonzero on 16 of the 256 momenta (on 8x8 on 4).
    mc_lams : tuple of float or None
        Couplings of the Monte Carlo (default depends on ``quick``).
    mc_traj : int or None
        Trajectories per coupling (default depends on ``quick``).
    onemode_k, onemode_D : float
        Propagator and ``D`` of the one-mode (zero-dimensional) strong-coupling section.
    seed : int
        Seed of the Monte Carlo.
    flow : bool
        Include the section along the Polchinski flow (if :mod:`ergsym.flow` is available).
    lpa : bool
        Include the section on LPA fixed points and exponents (:mod:`ergsym.lpa`; off by default).
    sign_map : {"off", "default", "full"}
        The section on the sign of B by ``flow --method mc``: a small 8x8 map (default, seconds)
        or the full 8x8 and 16x16 maps of docs/monotone_sign.md (tens of minutes).
    pdf : bool
        Compile the PDF when TeX is installed.
    force : bool
        Replace an earlier report in ``out`` (otherwise refused; see
        :func:`ergsym.report.build.prepare_out`).
    """

    out: str = "ergsym-report"
    theory: str = "phi4"
    N: int = 1
    cutoff: str = "bump:eps=0.1,lambda_max=2"
    dim: int = 4
    mass: float = 1.0
    Lambda0: float = 1.0
    order: int = 2
    scheme: str = "bare"
    lams: tuple = (0.1, 0.5, 1.0)
    quick: bool = False
    mc: bool = True
    mc_lattice: str = "16x16"
    mc_cutoff: str = "bump:eps=0.5,lambda_max=2"
    mc_lams: object = None
    mc_traj: object = None
    onemode_k: float = 0.7
    onemode_D: float = 0.3
    seed: int = 0
    flow: bool = True
    lpa: bool = False
    sign_map: str = "default"
    pdf: bool = True
    force: bool = False
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        # N = 3.0 or numpy.int64(3) is the integer 3 everywhere (title, JSON); anything else is
        # left as given and refused by inputs() with a message naming N
        n = self.N
        if not isinstance(n, bool) and isinstance(n, (int, float)) and not isinstance(n, int):
            if math.isfinite(n) and float(n).is_integer():
                object.__setattr__(self, "N", int(n))
        elif type(n) is not int and hasattr(n, "__index__") and not isinstance(n, bool):
            object.__setattr__(self, "N", int(n.__index__()))

    # -- derived sizes ----------------------------------------------------------------
    @property
    def n_scan(self) -> int:
        """Points of the families-vs-Lambda scan."""
        return 4 if self.quick else 17

    @property
    def monte_carlo_lams(self) -> tuple:
        if self.mc_lams is not None:
            return tuple(self.mc_lams)
        return (0.05, 0.2) if self.quick else (0.05, 0.1, 0.2, 0.4, 0.8)

    @property
    def monte_carlo_traj(self) -> int:
        if self.mc_traj is not None:
            return int(self.mc_traj)
        return 600 if self.quick else 5000

    @property
    def onemode_lams(self) -> tuple:
        n = 13 if self.quick else 41
        top = 60.0
        return tuple(top * (i / (n - 1)) ** 2 for i in range(n))

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("extra")
        d.pop("force")
        if self.N == 1:  # N = 1 parameters stay exactly those of the single-scalar report
            d.pop("N")
        d["lams"] = list(self.lams)
        d["mc_lams"] = list(self.monte_carlo_lams)
        d["mc_traj"] = self.monte_carlo_traj
        return d

    # -- validation -------------------------------------------------------------------
    def validated(self) -> tuple[Theory, Cutoff, Cutoff]:
        """Check every parameter; return ``(theory, cutoff, mc_cutoff)`` objects
        (:meth:`inputs` without the lattice).

        Raises
        ------
        InputError
            Naming the parameter, its allowed range and the value given.
        """
        got = self.inputs()
        return got["theory"], got["cutoff"], got["mc_cutoff"]

    def inputs(self) -> dict:
        """Check every parameter and parse each spec string once, into the objects the sections use.

        Returns
        -------
        dict
            ``theory`` (:class:`~ergsym.symbolic.Theory`), ``cutoff`` and ``mc_cutoff``
            (:class:`~ergsym.cutoffs.Cutoff`, ``mc_cutoff`` None without ``mc``) and
            ``mc_lattice`` (:class:`~ergsym.inputs.Lattice`, None without ``mc``).

        Raises
        ------
        InputError
            Naming the parameter, its allowed range and the value given.
        """
        if self.sign_map not in ("off", "default", "full"):
            raise InputError.bad("sign_map", self.sign_map, "'off', 'default' or 'full'")
        from ..conventions import validate_dim, validate_mass
        from ..cutoffs import parse_cutoff
        from ..inputs import as_lattice
        from ..lattice.theory import validate_n_components
        from ..symbolic import SCHEMES, parse_theory

        n_comp = validate_n_components(self.N, "N")
        theory = parse_theory(self.theory, N=n_comp)
        cutoff = parse_cutoff(self.cutoff)
        validate_dim(self.dim)
        validate_mass(self.mass)
        try:
            cutoff.validate_Lambda(self.Lambda0)
        except InputError as exc:
            raise InputError(f"Lambda0 (the report's initial scale): {exc}") from None
        if isinstance(self.order, bool) or not isinstance(self.order, int) or not 0 <= self.order <= MAX_REPORT_ORDER:
            raise InputError.bad(
                "order",
                self.order,
                f"an integer from 0 to {MAX_REPORT_ORDER}",
                "the report lists O(lam^(order+1)) as well; use 'ergsym monotone' for higher orders",
            )
        if self.scheme not in SCHEMES:
            raise InputError.bad("scheme", self.scheme, "one of " + ", ".join(SCHEMES))
        for name, vals in (("lams", self.lams), ("mc_lams", self.monte_carlo_lams)):
            if not vals:
                raise InputError.bad(name, vals, "a non-empty list of couplings")
            for v in vals:
                if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                    raise InputError.bad(name, vals, "couplings that are finite and >= 0")
        if max(self.monte_carlo_lams) <= 0:
            raise InputError.bad("mc_lams", self.monte_carlo_lams, "at least one coupling > 0")
        if self.monte_carlo_traj < 50:
            raise InputError.bad("mc_traj", self.monte_carlo_traj, "an integer >= 50")
        for name, v in (("onemode_k", self.onemode_k), ("onemode_D", self.onemode_D)):
            if not math.isfinite(v) or v <= 0:
                raise InputError.bad(name, v, "finite and > 0")
        mc_cutoff = mc_lattice = None
        if self.mc:
            mc_lattice = as_lattice(self.mc_lattice, name="mc_lattice")
            mc_cutoff = parse_cutoff(self.mc_cutoff)
            try:
                mc_cutoff.validate_Lambda(self.Lambda0)
            except InputError as exc:
                raise InputError(f"Lambda0 with mc_cutoff {self.mc_cutoff!r}: {exc}") from None
        return {"theory": theory, "cutoff": cutoff, "mc_cutoff": mc_cutoff, "mc_lattice": mc_lattice}


DEFAULTS = ReportConfig()
