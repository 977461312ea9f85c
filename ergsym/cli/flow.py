"""``ergsym flow``: the Polchinski flow to O(lam^2) and the monotone along it.

Cotler & Rezchikov, PRD 108, 025003 (2023), eqs. (2.4) and (5.5)-(5.14); docs/flow.md.

Examples::

    ergsym flow --order 2 --Lambda0 1 --Lambda 0.6 --cutoff bump:eps=0.1,lambda_max=2 \\
        --dim 4 --mass 1 --lam 0.1 --json
    ergsym flow --lattice 8x8 --cutoff bump:eps=0.5,lambda_max=2 --Lambda0 1.5 --Lambda 0.6 --lam 0.1 --M
    ergsym flow --lattice 8x8 --cutoff bump:eps=0.5,lambda_max=2 --Lambda0 1.5 --Lambda 0.3 \\
        --scan 12 --plot flow.png
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

import click

from .batch_options import scheduler_option
from .common import n_option

if TYPE_CHECKING:
    from .common import Warnings

DEFAULT_CUTOFF = "bump:eps=0.1,lambda_max=2"
#: warn about truncation when the last kept order is at least this fraction of the sum
TRUNCATION_WARN = 1e-2
N_LOG_RANGE = (2, 200)


def _vo(v, e, conv, exact=False):
    out = {"value": float(v), "error": float(e), "converged": bool(conv)}
    if exact:
        out["exact"] = True
    return out


def sum_entry(per_order: list, lam: float, conv: bool, exact: bool = False) -> dict:
    """The summed series with its truncation estimate (a value object).

    ``per_order``: ``[(value, error), ...]`` per power of ``lam``.  Terms ``t_k = c_k lam^k``;
    the truncation estimate is ``|t_N|`` (the first omitted order taken as large as the last
    kept one), reported with ``ratio = |t_N / t_{N-1}|``; a ratio >= 1 means the series is
    outside its range of validity and the sum is flagged not converged.
    """
    from ..inputs import series_sum

    total, err = series_sum([v for v, _ in per_order], lam, [e for _, e in per_order])  # or InputError
    terms = [v * lam**k for k, (v, _) in enumerate(per_order)]
    n = len(terms) - 1
    last = abs(terms[-1])
    prev = abs(terms[-2]) if n >= 1 else 0.0
    ratio = (last / prev) if prev > 0 else (0.0 if last == 0 else None)
    trunc = last if n >= 1 else 0.0
    ok = bool(conv) and (ratio is None or ratio < 1.0) if n >= 1 else bool(conv)
    if n >= 1 and ratio is None:
        ok = False
    out = _vo(total, err, ok, exact=exact and trunc == 0.0)
    out.update(
        {
            "truncation": trunc,
            "last_term": terms[-1],
            "ratio_of_last_terms": ratio,
            "truncation_dominates": bool(trunc > err),
        }
    )
    return out


def _series_obj(d, lam, exact):
    conv = d.get("converged", True)
    per = [_vo(v, e, conv, exact) for v, e in d["per_order"]]
    return {"per_order": per, "sum": sum_entry(d["per_order"], lam, conv, exact)}


def _warn_sum(name, entry, warnings):
    if not (entry["truncation_dominates"] and entry["truncation"] > 0):
        return
    rel = entry["truncation"] / abs(entry["value"]) if entry["value"] else float("inf")
    if rel < TRUNCATION_WARN and (entry["ratio_of_last_terms"] or 0.0) < 1.0:
        return
    extra = (
        "; the series is outside its range of validity here (ratio of the last two terms "
        f"{entry['ratio_of_last_terms']}): use a smaller --lam"
        if rel >= 1 or (entry["ratio_of_last_terms"] is None or entry["ratio_of_last_terms"] >= 1)
        else ""
    )
    warnings.add(
        f"{name}: truncation estimate {entry['truncation']:.3g} (last kept order, {rel:.1%} of "
        f"the sum) exceeds the quadrature error {entry['error']:.2g}{extra}"
    )


def _point_result(a, Lambda, ab, rc, md, exact, warnings):
    from ..conventions import PIECE_ALIASES

    lam = a["lam"]
    out = {
        "Lambda": Lambda,
        "monotone": {PIECE_ALIASES.get(k, k): _series_obj(v, lam, exact) for k, v in ab.items()},
        "couplings": {
            "m2_shift": _series_obj(rc["m2"], lam, exact),
            "lam": _series_obj(rc["lam"], lam, exact),
            "g6": _series_obj(rc["g6"], lam, exact),
            "vacuum_per_site": _series_obj(rc["vacuum"], lam, exact),
        },
    }
    sums = list(out["monotone"].items()) + list(out["couplings"].items())
    for k, v in sums:
        _warn_sum(f"{k} at Lambda={Lambda:.6g}", v["sum"], warnings)
        if not v["sum"]["converged"]:
            warnings.add(
                f"{k} at Lambda={Lambda:.6g} is not converged (quadrature error above rtol "
                "or series outside its range of validity)"
            )
    if md is not None:
        out["M_minus_M0"] = m_entry(md, Lambda, warnings)
    return out


#: the couplings of ``running_couplings`` under their JSON names
COUPLING_KEYS = (("m2", "m2_shift"), ("lam", "lam"), ("g6", "g6"), ("vacuum", "vacuum_per_site"))


def _couplings_point(mode, a, Lambda, warnings):
    """``flow --couplings-only`` at one scale: each running coupling, or why it is not computed.

    Continuum couplings are evaluated one by one: a coupling whose families cannot be evaluated
    here (a divergent integral, a position-space kernel beyond its budget at m << Lambda) is
    reported under ``not_computed`` with the reason, the others as usual."""
    from .. import flow as fl
    from ..errors import ConvergenceError, DivergentIntegralError, FamilyNotSupportedError
    from ..numeric.limits import PositionBudgetError

    lam = a["lam"]
    out = {"Lambda": Lambda, "couplings": {}}
    if mode == "lattice":
        pr = a["problem"]
        common = (a["shape"], a["cutoff"], a["mass"], a["Lambda0"], Lambda, lam)
        rc = fl.running_couplings_lattice(*common, order=a["order"], problem=pr)
        out["couplings"] = {key: _series_obj(rc[name], lam, True) for name, key in COUPLING_KEYS}
    else:
        from ..flow.continuum import FlowScales, series_continuum

        sc = FlowScales(a["cutoff"], a["dim"], a["mass"], a["Lambda0"], Lambda)
        series = fl.running_couplings(a["order"], a.get("N", 1))
        skipped = {}
        for name, key in COUPLING_KEYS:
            try:
                value = series_continuum(series[name], sc, lam, a["rtol"])
            except (PositionBudgetError, DivergentIntegralError, FamilyNotSupportedError, ConvergenceError) as exc:
                skipped[key] = f"not computed: {exc}"
                continue
            out["couplings"][key] = _series_obj(value, lam, False)
        if skipped:
            out["not_computed"] = skipped
    for k, v in out["couplings"].items():
        _warn_sum(f"{k} at Lambda={Lambda:.6g}", v["sum"], warnings)
        if not v["sum"]["converged"]:
            warnings.add(f"{k} at Lambda={Lambda:.6g} is not converged (quadrature error above rtol)")
    return out


def m_entry(md: dict, Lambda: float, warnings: Warnings, statistical: float = 0.0) -> dict:
    """``M_minus_M0`` as value objects; ``total`` carries its error parts.

    ``md``: ``{"free", "interacting", "total"}`` as ``(value, error)`` (the error is the
    quadrature error), optionally ``truncation``, ``ratio_of_last_terms`` and ``converged``.
    ``total.error`` is the statistical plus the quadrature error, ``total.error_parts`` =
    ``{"statistical", "quadrature", "truncation"}`` and ``total.total_error`` is their sum (a
    conservative combination).
    """
    conv = bool(md.get("converged", True))
    out = {k: _vo(md[k][0], md[k][1], conv) for k in ("free", "interacting", "total")}
    trunc = float(md.get("truncation", 0.0))
    statistical = float(md.get("statistical", statistical))
    quad = float(md.get("quadrature", md["total"][1] - statistical))
    tot = out["total"]
    tot["truncation"] = trunc
    tot["ratio_of_last_terms"] = md.get("ratio_of_last_terms")
    tot["error_parts"] = {"statistical": float(statistical), "quadrature": quad, "truncation": trunc}
    tot["total_error"] = statistical + quad + trunc
    if not conv and md.get("reasons"):
        warnings.add(f"M - M0 at Lambda={Lambda:.6g} is not reliable: " + "; ".join(md["reasons"][:3]))
    elif not conv:
        r = md.get("ratio_of_last_terms")
        why = (
            f"the series is outside its range of validity (ratio of the last two integrated "
            f"orders {r:.3g}): use a smaller --lam or another --method"
            if r is not None and r >= 1
            else f"error {quad:.2g} above rtol: raise --n-log"
        )
        warnings.add(f"M - M0 at Lambda={Lambda:.6g} is not converged ({why})")
    elif trunc > 0 and trunc > quad and abs(tot["value"]) > 0 and trunc / abs(tot["value"]) >= TRUNCATION_WARN:
        warnings.add(
            f"M - M0 at Lambda={Lambda:.6g}: truncation estimate {trunc:.3g} "
            f"({trunc / abs(tot['value']):.1%} of the value) exceeds the quadrature error "
            f"{quad:.2g}"
        )
    return out


#: what the lattice series does not compute (reported as such, never as a number)
SERIES_NO_GP = (
    "not computed by --method series: the lattice series gives <phi^2> (the sum over p) but "
    "no momentum-resolved two-point function; use --method exact (<= 3 sites) or --method mc"
)


def _compute_point(mode, a, Lambda, with_m, warnings):
    from .. import flow as fl
    from ..flow.continuum import FlowScales

    forms = ("A", "B") + tuple(a["pieces"])
    if mode == "lattice":
        # the FlowProblem built once at the edge (flow command or batch task) carries the momenta
        # and propagators; the lattice sums take them from it
        pr = a["problem"]
        common = (a["shape"], a["cutoff"], a["mass"], a["Lambda0"], Lambda, a["lam"])
        ab = fl.flow_lattice(*common, order=a["order"], forms=forms, problem=pr)
        rc = fl.running_couplings_lattice(*common, order=a["order"], problem=pr)
        md = fl.monotone_difference_lattice(*common, order=a["order"], n_log=a["n_log"], problem=pr) if with_m else None
        _warn_d_zero(a, Lambda, warnings)
        out = _point_result(a, Lambda, ab, rc, md, True, warnings)
        from ..flow.lattice import phi2_lattice

        ph = phi2_lattice(*common, order=a["order"], problem=pr)
        out["phi2"] = sum_entry(ph["per_order"], a["lam"], True, exact=True)
        out["not_computed"] = {"G_p": SERIES_NO_GP}
        return out
    common = (a["cutoff"], a["dim"], a["mass"], a["Lambda0"], Lambda, a["lam"])
    sc = FlowScales(a["cutoff"], a["dim"], a["mass"], a["Lambda0"], Lambda)
    n_comp = a.get("N", 1)
    ab = fl.flow_continuum(*common, order=a["order"], forms=forms, rtol=a["rtol"], scales=sc, N=n_comp)
    rc = fl.running_couplings_continuum(*common, order=a["order"], rtol=a["rtol"], scales=sc, N=n_comp)
    md = (
        fl.monotone_difference(*common, order=a["order"], n_log=a["n_log"], rtol=a["rtol"], N=n_comp)
        if with_m
        else None
    )
    return _point_result(a, Lambda, ab, rc, md, False, warnings)


def _scan(mode, a, grid, warnings):
    if mode == "lattice":
        return [_compute_point(mode, a, x, True, warnings) for x in _progress(grid)]
    from ..flow.continuum import flow_scan_continuum

    bar = _Bar(len(grid) + 2 * a["n_log"] + 1)
    try:
        pts = flow_scan_continuum(
            a["cutoff"],
            a["dim"],
            a["mass"],
            a["Lambda0"],
            grid,
            a["lam"],
            a["order"],
            ("A", "B") + tuple(a["pieces"]),
            a["n_log"],
            a["rtol"],
            progress=bar.update,
            N=a.get("N", 1),
        )
    finally:
        bar.close()
    return [_point_result(a, p["Lambda"], p["forms"], p["couplings"], p["M"], False, warnings) for p in pts]


def _warn_d_zero(a, Lambda, warnings):
    import numpy as np

    from ..lattice.sums import lattice_propagators

    if a.get("problem") is not None:
        d = a["problem"].at(Lambda).d
    else:
        _, d = lattice_propagators(a["shape"], a["cutoff"], a["mass"], Lambda)
    if not np.any(d != 0):
        warnings.add(
            f"D_p = Lambda dK/dLambda vanishes at every lattice momentum at Lambda={Lambda:.6g}: "
            "no phat^2 lies in the support of dK/dLambda ([Lambda^2, Lambda^2+eps] for the bump), "
            "so every family with a D line (A and B included) is exactly 0; choose Lambda, eps or "
            "the lattice so that some phat^2 falls in that window"
        )


def _interaction_json(order, n_comp=1):
    from ..flow import effective_interaction

    if n_comp == 1:
        return [t.to_dict() for t in effective_interaction(order)]
    return [t.to_dict(n_comp) for t in effective_interaction(order)]


def _progress(items):
    """A tqdm bar on a TTY (stderr), the plain iterable otherwise."""
    import sys

    if sys.stderr.isatty():
        from tqdm import tqdm

        return tqdm(items, desc="flow scan", unit="Lambda", file=sys.stderr)
    return items


class _Bar:
    """Progress of a continuum scan: tqdm on a TTY, quiet otherwise."""

    def __init__(self, total):
        import sys

        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="flow scan", unit="eval", file=sys.stderr)
        self.n = 0

    def update(self, done, total):
        if self.bar is not None:
            self.bar.update(done - self.n)
        self.n = done

    def close(self):
        if self.bar is not None:
            self.bar.close()


class _QuietWarnings(list):
    """Warnings collected inside a batch task (printed once, by the command, afterwards)."""

    def add(self, message):
        if message not in self:
            self.append(str(message))


def _plain_args(a):
    """The scan's arguments as plain data (a batch task's description)."""
    out = dict(
        a, cutoff=a["cutoff"].spec, pieces=list(a["pieces"]), shape=None if a["shape"] is None else list(a["shape"])
    )
    out.pop("problem", None)  # rebuilt from the plain data at the task's edge
    return out


def _scan_task(mode, a, grid):
    """``flow --scan`` points as one batch task (plain-data arguments; ergsym.batch).

    A lattice scan is split into one task per scale; a continuum scan is one task, because its
    M(Lambda) comes from one interpolant over all the scales (split, the numbers would change)."""
    from ..cutoffs import parse_cutoff  # noqa: PLC0415

    a = dict(
        a,
        cutoff=parse_cutoff(a["cutoff"]),
        pieces=tuple(a["pieces"]),
        shape=None if a["shape"] is None else tuple(a["shape"]),
    )
    if mode == "lattice":
        from ..flow.problem import FlowProblem  # noqa: PLC0415

        a["problem"] = FlowProblem.build(
            a["shape"], a["cutoff"], a["mass"], a["Lambda0"], a["lam"], signed_lam=True, N=a.get("N", 1)
        )
    w = _QuietWarnings()
    if mode == "lattice":
        points = [_compute_point(mode, a, x, True, w) for x in grid]
    else:
        points = _scan(mode, a, list(grid), w)
    return {"points": points, "warnings": list(w)}


@click.command("flow")
@scheduler_option
@click.option("--order", type=int, default=2, show_default=True, help="Order in lam (0..2).")
@click.option(
    "--Lambda0", "Lambda0", type=float, default=1.0, show_default=True, help="Initial scale (bare phi^4 action)."
)
@click.option(
    "--Lambda",
    "Lambda",
    type=float,
    default=0.6,
    show_default=True,
    help="Scale along the flow, 0 < Lambda <= Lambda0.",
)
@click.option(
    "--cutoff",
    default=DEFAULT_CUTOFF,
    show_default=True,
    help="Cutoff spec (docs/numeric.md): bump:..., exp:n=N, fermi:a=A.",
)
@click.option("--dim", type=int, default=4, show_default=True, help="Dimension (continuum mode).")
@click.option("--mass", type=float, default=1.0, show_default=True, help="Bare mass m > 0.")
@click.option(
    "--lam",
    "lam_text",
    default="0.1",
    show_default=True,
    metavar="VALUE",
    help="Quartic coupling at Lambda0 ('0.1' or 'lam=0.1').",
)
@click.option(
    "--lattice", default=None, help="Lattice shape, e.g. 8x8: exact lattice sums instead of continuum quadrature."
)
@click.option("--pieces", is_flag=True, help="Also report the four pieces eq5.11..eq5.14.")
@click.option("--M", "with_m", is_flag=True, help="Also compute M_Lambda - M_Lambda0.")
@click.option("--scan", type=int, default=0, help="Scan N scales in [Lambda, Lambda0] (B and M).")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False),
    default=None,
    help="With --scan: write a plot of B(Lambda) and M(Lambda) - M(Lambda0) (.png, .pdf, .svg).",
)
@click.option(
    "--force", is_flag=True, help="Overwrite an existing --plot file; run requests above the time/memory limits."
)
@click.option("--rtol", type=float, default=1e-6, show_default=True, help="Continuum rtol (1e-12..1e-2).")
@click.option(
    "--n-log",
    "n_log",
    type=int,
    default=8,
    show_default=True,
    help=f"Quadrature nodes in log Lambda for M ({N_LOG_RANGE[0]}..{N_LOG_RANGE[1]}).",
)
@click.option(
    "--method",
    type=click.Choice(["series", "exact", "mc", "variational"]),
    default="series",
    show_default=True,
    help="series: O(lam^2) flowed series; exact: few-mode quadrature (<= 3 "
    "sites); mc: Monte Carlo of the exact flow (any lattice, any lam); variational: the JKO flow "
    "(10 steps, --samples x --chains samples; B as a central difference of M, A and pieces from "
    "the score of the pushed law); see docs/monotone_sign.md.",
)
@click.option(
    "--samples", type=int, default=512, show_default=True, help="--method mc: measurements per outer HMC chain."
)
@click.option("--chains", type=int, default=8, show_default=True, help="--method mc: independent HMC chains.")
@click.option(
    "--therm", type=int, default=100, show_default=True, help="--method mc: thermalization trajectories per chain."
)
@click.option(
    "--inner",
    type=int,
    default=8,
    show_default=True,
    help="--method mc: posterior HMC trajectories per sample and scale (even).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="--method mc: random seed.")
@n_option("A, B, the pieces, <phi^2> and M are summed over components (docs/flow.md).")
@click.option("--series", "show_series", is_flag=True, help="Print the derived V_Lambda and B series.")
@click.option(
    "--couplings-only",
    "couplings_only",
    is_flag=True,
    help="Only the running couplings of V_Lambda (lam, m2 shift, g6, vacuum), no A, B or M: works "
    "for cutoffs whose A and B diverge (exp, fermi) and reports a coupling it cannot evaluate "
    "as not computed.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON to stdout (envelope of docs/json.md).")
def flow(
    order,
    Lambda0,
    Lambda,
    cutoff,
    dim,
    mass,
    lam_text,
    lattice,
    pieces,
    with_m,
    scan,
    plot,
    force,
    rtol,
    n_log,
    method,
    samples,
    chains,
    therm,
    inner,
    seed,
    n_text,
    show_series,
    couplings_only,
    as_json,
    batch,
):
    """Effective interaction to O(lam^2) and A, B, M along the Polchinski flow.

    B = -Lambda dM/dLambda (the true derivative); A is the printed (5.5) of Cotler & Rezchikov,
    PRD 108, 025003.  Numbers are coefficients of delta^d(0) (continuum) or whole lattice sums
    (--lattice); every value carries an error and a converged flag, every sum a truncation
    estimate (docs/flow.md).
    """
    from ..conventions import validate_dim, validate_mass
    from ..errors import InputError
    from ..flow import flow_monotone
    from ..flow.budget import continuum_budget, couplings_budget, lattice_budget
    from ..flow.continuum import validate_scales
    from ..flow.diagrams import validate_order
    from ..inputs import as_lattice, check_series_coupling
    from . import common
    from .mc import _n_components

    order = validate_order(order, 2)
    n_comp = _n_components(n_text)
    validate_mass(mass)
    (lam_point,) = common.parse_couplings(lam_text, ("lam",), "--lam")
    lam = check_series_coupling(lam_point["lam"], order + 1)  # the sums run through lam^(order+1)
    shape = None
    if lattice is None:
        validate_dim(dim)
    else:
        shape = as_lattice(lattice, name="--lattice").shape
        if common.given("dim") and dim != len(shape):
            common.refuse_together(
                "--dim",
                dim,
                "--lattice",
                lattice,
                f"the lattice is {len(shape)}-dimensional and --dim sets the continuum dimension",
                "drop --dim (a lattice's dimension is its number of extents), or drop --lattice for the continuum",
            )
    if couplings_only:
        for flag, given, why in (
            ("--method", method != "series", "the running couplings are those of the flowed series"),
            ("--M", with_m, "M - M0 integrates B, which --couplings-only does not compute"),
            ("--pieces", pieces, "the pieces are those of A and B, which --couplings-only does not compute"),
            ("--plot", plot is not None, "the plot shows B and M"),
            ("--scheduler/--store", batch.active, "a couplings-only scan runs in process"),
        ):
            if given:
                common.refuse_together(
                    "--couplings-only", True, flag, method if flag == "--method" else True, why, f"drop {flag}"
                )
    if method != "series":
        return _flow_method(
            method,
            order,
            Lambda0,
            Lambda,
            cutoff,
            mass,
            lam,
            lattice,
            pieces,
            with_m,
            scan,
            plot,
            force,
            n_log,
            samples,
            chains,
            therm,
            inner,
            seed,
            as_json,
            batch,
            n_comp,
        )
    cut, L0, L = validate_scales(cutoff, Lambda0, Lambda)
    if scan < 0 or scan == 1 or scan > 1000:
        raise InputError.bad("--scan", scan, "0 (off) or an integer in [2, 1000]")
    if not (N_LOG_RANGE[0] <= n_log <= N_LOG_RANGE[1]):
        raise InputError.bad(
            "--n-log",
            n_log,
            f"an integer in [{N_LOG_RANGE[0]}, {N_LOG_RANGE[1]}]",
            "Gauss-Legendre nodes in log Lambda for M - M0",
        )
    if not (math.isfinite(rtol) and 1e-12 <= rtol <= 1e-2):
        raise InputError.bad("--rtol", rtol, "in [1e-12, 1e-2]")
    if plot and not scan:
        raise InputError.bad("--plot", plot, "used together with --scan N")
    plot_path = common.output_file(plot, "--plot", common.PLOT_EXTENSIONS, force=force)
    mode = "continuum" if lattice is None else "lattice"
    grid = [L * (L0 / L) ** (k / (scan - 1)) for k in range(scan)] if scan else [L]
    want_m = bool(scan) or with_m
    if scan:
        n_eval = len(grid) + 2 * n_log + 1
    else:
        n_eval = 1 + (3 * n_log // 2 if want_m else 0)
    if couplings_only and mode == "continuum":  # no A, B or M: one- and two-loop blocks of Delta
        budget = couplings_budget(cut, mass, grid, len(grid))
    elif mode == "continuum":
        budget = continuum_budget(cut, mass, grid, n_eval)
    else:
        n_cuts = 1 + (len(set(round(v, 12) for v in _phat2_values(shape))) if want_m else 0)
        budget = lattice_budget(shape, len(grid) * (2 + (3 * n_log // 2) * n_cuts if want_m else 2))
    budget.check(force)
    warnings = common.Warnings()
    problem = None
    if mode == "lattice":  # built once here (the scales were checked above) and handed to the sums
        from ..flow.problem import FlowProblem

        problem = FlowProblem.build(shape, cut, mass, L0, lam, signed_lam=True, N=n_comp)
    a = {
        "order": order,
        "N": n_comp,
        "Lambda0": L0,
        "cutoff": cut,
        "dim": dim,
        "mass": mass,
        "lam": lam,
        "shape": shape,
        "problem": problem,
        "pieces": ("dSdS", "dSdShat", "dShatdShat", "LdShat") if pieces else (),
        "rtol": rtol,
        "n_log": n_log,
    }
    parameters = {
        "mode": mode,
        "method": "series",
        "order": order,
        "Lambda0": L0,
        "Lambda": L,
        "cutoff": cut.spec,
        "mass": mass,
        "lam": lam,
        "dim": dim if lattice is None else None,
        "lattice": "x".join(map(str, shape)) if shape else None,
        "N": n_comp,
        "scan": scan,
        "n_log": n_log,
        "rtol": rtol,
        "pieces": bool(pieces),
        "M": want_m and not couplings_only,
    }
    if couplings_only:
        parameters["couplings_only"] = True
        results = {
            "normalization": "per site (couplings of V_Lambda = sum_n v_n (phi.phi)^(n/2) / n! for a uniform field)",
            "note": "running couplings only (--couplings-only): no A, B or M",
        }
        rows = [_couplings_point(mode, a, x, warnings) for x in grid]
        if scan:
            results["scan"] = rows
        else:
            results.update(rows[0])
        if as_json:
            common.echo_json("flow", parameters, results, warnings)
            return
        _print(parameters, results, show_series, order, n_comp)
        return
    results = {
        "normalization": "coefficient of delta^d(0)" if lattice is None else "whole lattice sum",
        "note": "B = -Lambda dM/dLambda; A is the printed expression (5.5)"
        + (f"; A, B, the pieces, <phi^2> and M are summed over the N={n_comp} components" if n_comp != 1 else ""),
        "estimated_cost": {"seconds": budget.seconds, "bytes": budget.bytes},
    }
    if batch.active and not scan:
        raise InputError.bad(
            "--scheduler/--store",
            batch.scheduler or batch.store,
            "used together with --scan N",
            "a single point is not a batch",
        )
    if scan and batch.active:  # ergsym.batch (docs/ensembles.md): the same numbers as in process
        groups = [[x] for x in grid] if mode == "lattice" else [list(grid)]
        done = batch.map(
            f"{__name__}:_scan_task",
            [{"mode": mode, "a": _plain_args(a), "grid": g} for g in groups],
            [f"Lambda={g[0]!r}" + ("" if len(g) == 1 else f"..{g[-1]!r}") for g in groups],
            "flow",
        )
        results["scan"] = [p for d in done for p in d["points"]]
        for d in done:
            for w in d["warnings"]:
                warnings.add(w)
        parameters.update(batch.parameters())
    elif scan:
        results["scan"] = _scan(mode, a, grid, warnings)
    else:
        results.update(_compute_point(mode, a, L, with_m, warnings))
    if show_series or as_json:
        results["interaction"] = _interaction_json(order, n_comp)
        results["B_series"] = flow_monotone(order, "B", n_comp).to_json()
    if plot_path is not None:
        _plot(results["scan"], str(plot_path), mode, parameters)
        results["plot"] = str(plot_path)
    if as_json:
        common.echo_json("flow", parameters, results, warnings)
        return
    _print(parameters, results, show_series, order, n_comp)


def _method_task(method, problem_args, grid, with_m, settings, N=1):
    """All the scales of a non-series method as one batch task (plain-data arguments).

    One task: the mc method integrates M(Lambda) for every scale on one composite rule over
    one set of outer samples (split, the numbers would change)."""
    from ..flow.mcflow import MCSettings, mc_flow
    from ..flow.methods import exact_points, finite_or_raise, variational_points
    from ..flow.problem import FlowProblem

    problem = FlowProblem.build(*problem_args, N=N)
    if method == "variational":
        pts = variational_points(
            problem, grid[0], n_samples=settings["n_samples"] * settings["n_chains"], seed=settings["seed"]
        )
        return {"points": finite_or_raise(pts), "diagnostics": pts[0]["diagnostics"]}
    if method == "exact":
        return {"points": finite_or_raise(exact_points(problem, grid, with_m)), "diagnostics": {}}
    r = mc_flow(problem, grid, MCSettings(**settings), with_m=with_m)
    return {"points": finite_or_raise(r["points"]), "diagnostics": r["diagnostics"]}


def _flow_method(
    method,
    order,
    Lambda0,
    Lambda,
    cutoff,
    mass,
    lam,
    lattice,
    pieces,
    with_m,
    scan,
    plot,
    force,
    n_log,
    samples,
    chains,
    therm,
    inner,
    seed,
    as_json,
    batch,
    n_comp=1,
):
    """``flow --method exact|mc|variational``: the same result shape as the series (docs/monotone_sign.md)."""
    from ..errors import InputError
    from ..flow.budget import MAX_SECONDS
    from ..flow.mcflow import MCSettings, estimate_seconds
    from ..flow.methods import check_domain, exact_seconds
    from ..flow.problem import FlowProblem
    from . import common

    if lattice is None:
        check_domain(method, None)
    problem = FlowProblem.build(lattice, cutoff, mass, Lambda0, lam, N=n_comp)
    check_domain(method, problem)
    if method == "variational" and scan:
        raise InputError.bad(
            "--scan",
            scan,
            "0 with --method variational",
            "the JKO flow gives one scale per run (its steps are the scan): use "
            "--method mc for scans, or 'ergsym variational'",
        )
    L = problem.check_Lambda(Lambda)
    if scan < 0 or scan == 1 or scan > 1000:
        raise InputError.bad("--scan", scan, "0 (off) or an integer in [2, 1000]")
    if not (N_LOG_RANGE[0] <= n_log <= N_LOG_RANGE[1]):
        raise InputError.bad(
            "--n-log",
            n_log,
            f"an integer in [{N_LOG_RANGE[0]}, {N_LOG_RANGE[1]}]",
            "Gauss-Legendre nodes in log Lambda for M - M0",
        )
    if plot and not scan:
        raise InputError.bad("--plot", plot, "used together with --scan N")
    plot_path = common.output_file(plot, "--plot", common.PLOT_EXTENSIONS, force=force)
    L0 = problem.Lambda0
    grid = [L * (L0 / L) ** (k / (scan - 1)) for k in range(scan)] if scan else [L]
    want_m = bool(scan) or with_m
    settings = MCSettings(samples, chains, therm, inner, seed, n_log).validate()
    if method == "variational":
        # 10 + 2 JKO steps, and x1.5 for the score of the pushed law (A and the pieces: measured
        # 0.2x the flow's CPU time on 8x8, 0.5x on 16x16)
        seconds = 1.5 * 0.15 * samples * chains / 1000 * 12 * max(1.0, problem.volume / 64)
    elif method == "mc":
        n_nodes = len(grid) + (len(problem.kink_edges(min(grid))) + len(grid)) * (n_log + n_log // 2) * want_m
        seconds = estimate_seconds(problem, settings, n_nodes)
    else:
        seconds = exact_seconds(problem, len(grid), want_m, grid)
    if seconds > MAX_SECONDS and not force:
        hint = (
            "fewer --samples/--chains/--inner, a smaller lattice or fewer --scan points"
            if method == "mc"
            else "--method mc"
        )
        raise InputError.bad(
            "--lam/--lattice",
            f"lam={lam}, lattice={problem.spec}",
            f"an estimated cost <= {MAX_SECONDS:.0f} s (this request: ~{seconds:.3g} s)",
            f"use {hint}, or pass --force to run it anyway",
        )
    warnings = common.Warnings()
    parameters = {
        "mode": "lattice",
        "method": method,
        "Lambda0": L0,
        "Lambda": L,
        "cutoff": problem.cutoff.spec,
        "mass": mass,
        "lam": lam,
        "dim": None,
        "lattice": problem.spec,
        "N": problem.N,
        "scan": scan,
        "n_log": n_log,
        "pieces": bool(pieces),
        "M": want_m,
    }
    if method == "mc":
        parameters.update({"samples": samples, "chains": chains, "therm": therm, "inner": inner, "seed": seed})
    if batch.active and not scan:
        raise InputError.bad(
            "--scheduler/--store",
            batch.scheduler or batch.store,
            "used together with --scan N",
            "a single point is not a batch",
        )
    task = {
        "method": method,
        "problem_args": [problem.spec, problem.cutoff.spec, mass, L0, lam],
        "N": problem.N,
        "grid": grid,
        "with_m": want_m,
        "settings": dataclasses.asdict(settings),
    }
    if batch.active:
        key = f"method={method},Lambda={grid[0]!r}..{grid[-1]!r}"
        (done,) = batch.map(f"{__name__}:_method_task", [task], [key], "flow")
        parameters.update(batch.parameters())
    else:
        done = _method_task(**task)
    rows = [_method_point(p, method, pieces, warnings) for p in done["points"]]
    for x in grid:
        if not problem.at(x).shell.any():
            warnings.add(
                f"D_p = Lambda dK/dLambda vanishes at every lattice momentum at Lambda={x:.6g}: "
                "B = 0 exactly there and M does not change (no phat^2 in [Lambda^2, Lambda^2+eps] "
                "for the bump)"
            )
    results = {
        "normalization": "whole lattice sum",
        "method": method,
        "note": "B = -Lambda dM/dLambda; A is the printed expression (5.5)"
        + (
            f"; A, B, the pieces, <phi^2>, G_p and M are summed over the N={problem.N} components"
            if problem.N != 1
            else ""
        ),
        "estimated_cost": {"seconds": seconds},
        "diagnostics": done["diagnostics"],
    }
    if scan:
        results["scan"] = rows
    else:
        results.update(rows[0])
    if plot_path is not None:
        _plot(results["scan"], str(plot_path), "lattice", parameters)
        results["plot"] = str(plot_path)
    if as_json:
        common.echo_json("flow", parameters, results, warnings)
        return
    _print(parameters, results, False, order, problem.N)


def _method_point(p, method, pieces, warnings):
    names = ("A", "B") + (("dSdS", "dSdShat", "dShatdShat", "LdShat") if pieces else ())
    from ..conventions import PIECE_ALIASES

    names = tuple(k for k in names if k in p["values"])
    out = {
        "Lambda": p["Lambda"],
        "method": method,
        "monotone": {PIECE_ALIASES.get(k, k): {"sum": p["values"][k]} for k in names},
        "phi2": p["values"]["phi2"],
        "G_p": p["G_p"],
        "diagnostics": p.get("diagnostics", {}),
    }
    for k in names + ("phi2",):
        v = p["values"][k]
        if not (v.get("converged", True) and v.get("reliable", True)):
            why = "; ".join(v.get("reasons", [])) or "flagged unreliable"
            warnings.add(f"{k} at Lambda={p['Lambda']:.6g} ({method}) is not reliable: {why}")
    if "M" in p:
        out["M_minus_M0"] = m_entry(p["M"], p["Lambda"], warnings)
    pieces_all = ("dSdS", "dSdShat", "dShatdShat", "LdShat")
    nc = {k: why for k, why in p.get("not_computed", {}).items() if pieces or k not in pieces_all}
    if nc:
        out["not_computed"] = nc
    return out


def _phat2_values(shape):
    from ..conventions import lattice_phat2

    return lattice_phat2(shape).ravel().tolist()


def _plot_title(mode, parameters):
    """What a ``flow --plot`` figure shows: lattice or dimension, cutoff, mass, coupling, Lambda0, order."""
    p = parameters or {}
    where = f"lattice {p['lattice']}" if p.get("lattice") else f"continuum, d = {p.get('dim')}"
    lam = p.get("lam")
    lam_txt = ", ".join(f"{k} = {v:g}" for k, v in lam.items()) if isinstance(lam, dict) else f"lam = {lam:g}"
    method = p.get("method", "series")
    order = f", O(lam^{p['order']})" if method == "series" and p.get("order") is not None else ""
    return (
        f"ergsym flow, {method} ({where}): {lam_txt}, cutoff {p.get('cutoff')}, m = {p.get('mass', 0):g}, "
        f"Lambda0 = {p.get('Lambda0', 0):g}{order}"
    )


def _plot(scan, path, mode, parameters=None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    L = [s["Lambda"] for s in scan]
    B = [s["monotone"]["B"]["sum"]["value"] for s in scan]
    Be = [s["monotone"]["B"]["sum"]["error"] for s in scan]
    M = [s["M_minus_M0"]["total"]["value"] for s in scan]
    Me = [s["M_minus_M0"]["total"]["error"] for s in scan]
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
    ax[0].errorbar(L, B, yerr=Be, fmt="o-")
    ax[0].set_xlabel("Lambda")
    ax[0].set_ylabel("B = -Lambda dM/dLambda")
    ax[1].errorbar(L, M, yerr=Me, fmt="o-")
    ax[1].set_xlabel("Lambda")
    ax[1].set_ylabel("M_Lambda - M_Lambda0")
    fig.suptitle(_plot_title(mode, parameters), fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _fmt(p):
    from ..textfmt import format_value  # the value rounded to its error (or truncation, for a sum)

    s = format_value(p["value"], p["error"], truncation=p.get("truncation"))
    if p.get("exact"):
        s += " (exact)"
    if not p["converged"]:
        s += " [NOT CONVERGED]"
    return s


def _fmt_sum(p):
    s = _fmt(p)
    if p["truncation"]:
        r = p["ratio_of_last_terms"]
        s += (
            f" (truncation ~{p['truncation']:.2g}, ratio of last terms {r:.2g})"
            if r is not None
            else f" (truncation ~{p['truncation']:.2g})"
        )
    return s


def _print(parameters, results, show_series, order, n_comp=1):
    on = f", O(N) with N={n_comp}" if n_comp != 1 else ""
    click.echo(
        f"ergsym flow: {parameters['mode']}, method {parameters.get('method', 'series')}, "
        f"{results['normalization']}, "
        f"Lambda0={parameters['Lambda0']}, lam={parameters['lam']}, cutoff={parameters['cutoff']}{on}"
    )
    click.echo(results["note"])
    rows = results["scan"] if "scan" in results else [results]
    for r in rows:
        click.echo(f"Lambda = {r['Lambda']:.6g}")
        for k, v in r.get("monotone", {}).items():
            if "per_order" not in v:
                click.echo(f"  {k:10s} {_fmt(v['sum'])}")
                continue
            per = ", ".join(_fmt(p) for p in v["per_order"])
            click.echo(f"  {k:10s} sum {_fmt_sum(v['sum'])}   per order [{per}]")
        by_reason = {}
        for k, why in r.get("not_computed", {}).items():
            by_reason.setdefault(why, []).append(k)
        for why, keys in by_reason.items():
            click.echo(f"  {', '.join(keys)}: {why}")
        if "phi2" in r:
            ph = r["phi2"]
            click.echo(f"  {'<phi^2>':10s} {_fmt_sum(ph) if 'truncation' in ph else _fmt(ph)}")
        c = r.get("couplings", {})
        for k, label in (("m2_shift", "m2 shift"), ("lam", "lam(Lambda)"), ("g6", "g6(Lambda)")):
            if k in c:
                click.echo(f"  {label:10s} {_fmt_sum(c[k]['sum'])}")
        if "M_minus_M0" in r:
            m = r["M_minus_M0"]
            click.echo(
                f"  M - M0     {_fmt(m['total'])}  (free {_fmt(m['free'])}, interacting {_fmt(m['interacting'])})"
            )
            parts = m["total"].get("error_parts")
            if parts is not None:
                click.echo(
                    f"             error parts: statistical {parts['statistical']:.2g}, quadrature "
                    f"{parts['quadrature']:.2g}, truncation {parts['truncation']:.2g}; "
                    f"total {m['total']['total_error']:.2g}"
                )
    if show_series:
        from ..flow import describe_term, effective_interaction, flow_monotone

        if n_comp == 1:
            click.echo("V_Lambda (Delta = Kt_Lambda0 - Kt_Lambda):")
        else:
            click.echo(
                f"V_Lambda (Delta = Kt_Lambda0 - Kt_Lambda; V_Lambda0 = (lam/4!)(phi.phi)^2, N={n_comp}; "
                "[...]: the O(N) index structure, phi(x).phi(y) = sum_a phi_a(x) phi_a(y)):"
            )
        for t in effective_interaction(order):
            click.echo(f"  lam^{t.power} * {t.coeff}  {describe_term(t, n_comp)}")
        click.echo("B along the flow:" if n_comp == 1 else f"B along the flow (N={n_comp}):")
        click.echo(flow_monotone(order, "B", n_comp).to_text())
    if "plot" in results:
        click.echo(f"plot written to {results['plot']}")
