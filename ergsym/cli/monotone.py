"""``ergsym monotone``: derive A, B or a piece; optionally evaluate it.

Three modes:

* symbolic (default): exact coefficients and families, human-readable and LaTeX;
* ``--lattice 8x8 --cutoff ... --mass --Lambda``: each coefficient as an exact lattice sum;
* ``--cutoff ... --dim 4 --mass --Lambda [--lam]``: continuum quadrature with errors.

``--diagrams`` lists every linked diagram (``--draw FILE`` draws them).  ``--json`` prints the
envelope of docs/json.md.  The pieces are named by the equations of Cotler & Rezchikov,
PRD 108, 025003 (2023): ``eq5.11`` .. ``eq5.14`` (old names accepted, see
:data:`ergsym.conventions.PIECE_ALIASES`).
"""

from __future__ import annotations

import math
import sys

import click

from ..conventions import PIECE_ALIASES, PIECES, canonical_piece
from ..errors import InputError
from . import common

#: canonical piece name -> the engine's name (ergsym.symbolic.monotone.PIECES)
ENGINE_NAME = {"eq5.11": "LdShat", "eq5.12": "dShatdShat", "eq5.13": "dSdShat", "eq5.14": "dSdS"}
CANONICAL = {v: k for k, v in ENGINE_NAME.items()}

#: largest lattice (sites) of the exact lattice sums: a few float arrays of this size are held
MAX_LATTICE_VOLUME = 2**22
#: largest bare mass accepted (m^2 and p^2 + m^2 stay finite doubles)
MAX_MASS = 1e100

PAPER = "Cotler & Rezchikov, PRD 108, 025003 (2023)"
K_LEGEND = (
    "K = K~(p) = K_Lambda(p^2)/(p^2+m^2) (the free propagator K-tilde), "
    "D = Lambda dK~/dLambda, Delta = K~_Lambda0 - K~_Lambda"
)


class _FormType(click.ParamType):
    """A, B or a piece: eq5.11..eq5.14 or an alias (LdShat, P4, 5.11, ...)."""

    name = "FORM"

    def __init__(self, allow_ab=True):
        self.allow_ab = allow_ab

    def get_metavar(self, param, ctx=None):  # click >= 8.2 passes ctx
        return "[" + "|".join((["A", "B"] if self.allow_ab else []) + list(PIECES)) + "]"

    def convert(self, value, param, ctx):
        v = str(value).strip()
        if self.allow_ab and v in ("A", "B"):
            return v
        if v in PIECES or v in PIECE_ALIASES:
            return canonical_piece(v)
        allowed = (["A", "B"] if self.allow_ab else []) + list(PIECES)
        self.fail(f"{value!r} is not one of {', '.join(allowed)} (aliases: {', '.join(PIECE_ALIASES)})", param, ctx)

    def shell_complete(self, ctx, param, incomplete):
        from click.shell_completion import CompletionItem  # noqa: PLC0415

        names = (["A", "B"] if self.allow_ab else []) + list(PIECES)
        return [CompletionItem(n) for n in names if n.startswith(incomplete)]


def _frac(c):
    return str(c.numerator) if c.denominator == 1 else f"{c.numerator}/{c.denominator}"


def _comparison_rows(order, scheme):
    """All four pieces, A and B against (5.11)-(5.15) (printed only through O(lam^2))."""
    from ..symbolic import comparison_table

    rows = []
    for r in comparison_table(order, scheme):
        rows.append({**r, "quantity": CANONICAL.get(r["quantity"], r["quantity"])})
    return rows


def _monomial(theory, powers) -> str:
    """``lam^2``, ``lam*g6``, ``1``: the label of a coefficient row."""
    out = [n if p == 1 else f"{n}^{p}" for n, p in zip(theory.names, powers) if p]
    return "*".join(out) or "1"


def _label(form):
    return {
        "A": "printed expression (5.5)",
        "B": "-Lambda dM/dLambda along the flow",
        **{k: f"{v[0]} ({k[2:]})" for k, v in PIECES.items()},
    }[form]


def _value_text(v: dict) -> str:
    from ..textfmt import format_value  # the value rounded to its error

    if v.get("exact"):
        return format_value(v.get("value"), exact=True)
    s = format_value(v.get("value"), v.get("error"))
    if v.get("converged") is False:
        s += "  [NOT CONVERGED]"
    return s


@click.command("monotone")
@click.option(
    "--order",
    type=int,
    default=2,
    show_default=True,
    help="Highest total power of the coupling(s) kept (0..6). Measured cost of the derivation "
    "(phi4, bare, shared 2-core machine): O(lam^4) 0.2 s, O(lam^5) ~1 s, O(lam^6) "
    "~4-10 s; normal-ordered is several times cheaper, more couplings cost more "
    "(phi4+phi6: O(lam^4) ~1 s, O(lam^5) ~35 s, O(lam^6) > 9 min). Runs estimated "
    "above 10 minutes are refused unless --force. Exact lattice sums (--lattice) at "
    "O(lam^5) on 32x32 take ~5-10 s. Continuum quadrature (--dim) at O(lam^4) "
    "(m = Lambda = 1, bump): ~1-3 min per point in d = 1..4, most of it the two K4 "
    "blocks (~5-60 s each).",
)
@click.option(
    "--form",
    type=_FormType(),
    default="B",
    show_default=True,
    help="A = printed expression (5.5); B = -Lambda dM/dLambda (the true derivative); "
    "or one of the four pieces eq5.11..eq5.14 (aliases LdShat/P4, dShatdShat/P3, "
    "dSdShat/P2, dSdS/P1).",
)
@click.option(
    "--piece",
    "pieces",
    type=_FormType(allow_ab=False),
    multiple=True,
    help="Show these pieces (repeatable); with an explicit --form, the form first and then "
    "the pieces, else the pieces alone: eq5.11 = -2<Lambda dShat>, "
    "eq5.12 = 2<Cdot dShat dShat>, eq5.13 = -2<Cdot dS dShat>, eq5.14 = "
    "1/2<Cdot dS dS>; old names are aliases.",
)
@click.option(
    "--scheme",
    type=click.Choice(["bare", "normal-ordered"]),
    default="bare",
    show_default=True,
    help="Interaction scheme: bare (5.3) or normal-ordered (tadpoles subtracted).",
)
@click.option(
    "--theory",
    "theory_spec",
    default="phi4",
    show_default=True,
    help="Interaction, e.g. 'phi4' (coupling lam), 'phi6' (g6), 'phi4+phi6' (lam, g6), '4:lam,2:c2'.",
)
@click.option(
    "--N",
    "n_text",
    default="1",
    show_default=True,
    metavar="N|INT",
    help="Number of field components of the O(N) model (lam/4!)(phi_a phi_a)^2: a positive "
    "integer, or the letter N to print every coefficient as an exact polynomial in N "
    "(symbolic output only). A, B and the pieces are summed over components.",
)
@click.option(
    "--compare/--no-compare",
    default=None,
    help="Table of derived vs printed (5.11)-(5.15) coefficients (default: on for phi4 symbolic output).",
)
@click.option("--lattice", default=None, help="Evaluate exactly on a periodic lattice, e.g. '8x8' or '1'.")
@click.option(
    "--cutoff",
    "cutoff_spec",
    default=None,
    help="Cutoff, e.g. 'bump:eps=0.5,lambda_max=2', 'exp:n=2', 'fermi:a=10' (docs/conventions.md).",
)
@click.option("--dim", type=int, default=None, help="Continuum dimension (1..6) for quadrature.")
@click.option("--mass", type=float, default=None, help="Bare mass m (> 0).")
@click.option("--Lambda", "Lambda", type=float, default=None, help="Cutoff scale Lambda.")
@click.option(
    "--lam",
    "lam_text",
    default=None,
    metavar="VALUE|NAME=VALUE,...",
    help="Coupling value(s): also print the summed series with its truncation estimate. "
    "'0.1' for one coupling; 'lam=0.1,g6=0.01' per coupling.",
)
@click.option("--rtol", type=float, default=None, help="Relative accuracy of the quadrature.")
@click.option(
    "--diagrams",
    "show_diagrams",
    is_flag=True,
    help="List every linked diagram with its weight (symmetry factor) and family.",
)
@click.option(
    "--draw",
    "draw_file",
    default=None,
    metavar="FILE",
    help="With --diagrams: draw them (.png, .pdf, .svg; .tex for TikZ). Solid lines K~, dashed D, dotted Delta.",
)
@click.option(
    "--force", is_flag=True, help="Overwrite an existing --draw file; run a derivation estimated above 10 minutes."
)
@click.option("--json", "as_json", is_flag=True, help="JSON to stdout (envelope of docs/json.md).")
@click.option("--latex/--no-latex", default=True, show_default=True, help="Also print LaTeX.")
def monotone(
    order,
    form,
    pieces,
    scheme,
    theory_spec,
    n_text,
    compare,
    lattice,
    cutoff_spec,
    dim,
    mass,
    Lambda,
    lam_text,
    rtol,
    show_diagrams,
    draw_file,
    force,
    as_json,
    latex,
):
    """Derive the monotone derivative A or B (or its pieces) to O(lam^ORDER).

    Pieces and equations are those of Cotler & Rezchikov, PRD 108, 025003 (2023); the
    coefficients are derived, never copied from the paper (--compare shows both).

    \b
    Examples:
      ergsym monotone --order 3 --form B --scheme bare
      ergsym monotone --order 2 --form A --piece eq5.14 --piece eq5.11 --json
      ergsym monotone --order 2 --form B --lattice 8x8 --cutoff bump:eps=0.5,lambda_max=2 --mass 1 --Lambda 1 --json
      ergsym monotone --order 2 --form B --cutoff bump:eps=0.1,lambda_max=2 --dim 4 --mass 1 --Lambda 1 --lam 0.1
      ergsym monotone --order 1 --theory phi4+phi6 --cutoff bump:eps=0.1,lambda_max=2 --dim 3 --mass 1 --Lambda 1 --lam lam=0.1,g6=0.01
      ergsym monotone --order 2 --piece eq5.14 --diagrams --draw diagrams.pdf
      ergsym monotone --order 2 --form B --N N
      ergsym monotone --form B --N 3 --lattice 8x8 --cutoff bump:eps=0.5,lambda_max=2 --mass 1 --Lambda 1
    """
    from ..symbolic import monotone as derive
    from ..symbolic import parse_theory

    warnings = common.Warnings()
    n_comp = _parse_n(n_text)
    theory = parse_theory(theory_spec, N=n_comp)
    _preflight_order(order, theory, theory_spec, scheme, force)
    # --form given with --piece: both are shown (the form, then its pieces); --form left at its
    # default with --piece: the pieces alone
    forms = list(dict.fromkeys(([form] if common.given("form") else []) + list(pieces))) if pieces else [form]
    if draw_file is not None and not show_diagrams:
        raise InputError.bad(
            "--draw",
            draw_file,
            "used together with --diagrams",
            "add --diagrams (the drawing shows the listed diagrams)",
        )
    draw_path = common.output_file(draw_file, "--draw", common.PLOT_EXTENSIONS + (".tex",), force=force)
    couplings = None
    if lam_text is not None:
        from ..inputs import Couplings, check_series_coupling

        couplings = Couplings.parse(lam_text, theory.names, option="--lam")
        for name, value in couplings.items():  # the sums run through g^(order+1): refuse overflow first
            check_series_coupling(
                value,
                (order if isinstance(order, int) and order >= 0 else 0) + 1,
                option="--lam" if len(couplings) == 1 else f"--lam {name}",
            )
    if lattice is not None and dim is not None:
        raise InputError("give either --lattice (exact lattice sums) or --dim (continuum), not both")
    numeric = lattice is not None or dim is not None
    if show_diagrams and numeric:
        raise InputError("--diagrams lists the symbolic diagrams: drop --lattice/--dim/--cutoff")
    if not numeric and cutoff_spec is not None:
        raise InputError("--cutoff needs --lattice SHAPE or --dim D (with --mass and --Lambda)")
    if not numeric and couplings is not None:
        raise InputError(
            "--lam sums an evaluated series: give --lattice or --dim with --cutoff, --mass "
            "and --Lambda (symbolic output has no numbers to sum)"
        )
    if theory.N != 1 and compare:
        raise InputError.bad(
            "--compare",
            "on",
            f"off when --N is not 1 (it is {theory.N})",
            "the paper's printed numbers are for one real scalar (N = 1); drop --compare or use --N 1",
        )
    parameters = {"order": order, "forms": forms, "scheme": scheme, "theory": theory.to_dict()}
    if theory.N != 1:  # N = 1 output stays exactly that of the single scalar
        parameters["N"] = theory.N
    if numeric and theory.symbolic_n:
        raise InputError.bad(
            "--N",
            "N",
            "an integer with --lattice/--dim (numbers need a number of components)",
            "give e.g. --N 3, or drop --lattice/--dim for the polynomials in N",
        )
    if numeric:
        missing = [n for n, v in (("--cutoff", cutoff_spec), ("--mass", mass), ("--Lambda", Lambda)) if v is None]
        if missing:
            raise InputError(f"{', '.join(missing)} required with {'--lattice' if lattice else '--dim'}")
        from ..conventions import validate_mass
        from ..cutoffs import parse_cutoff

        cutoff = parse_cutoff(cutoff_spec)
        validate_mass(mass, name="--mass")
        if mass > MAX_MASS:
            raise InputError.bad(
                "--mass",
                mass,
                f"at most {MAX_MASS:g} (m^2 must be a finite double)",
                "measure m in units where it is O(1)",
            )
        cutoff.validate_Lambda(Lambda)
        lat = None
        if lattice is not None:
            from ..inputs import Lattice

            lat = Lattice.parse(lattice, name="--lattice")
            if lat.volume > MAX_LATTICE_VOLUME:
                raise InputError.bad(
                    "--lattice",
                    lattice,
                    f"at most {MAX_LATTICE_VOLUME} sites (about {MAX_LATTICE_VOLUME * 8 * 6 // 2**20} MB of arrays)",
                    f"it has {lat.volume} sites; use a smaller lattice",
                )
        series = {f: derive(order, ENGINE_NAME.get(f, f), scheme, theory) for f in forms}
        _check_coefficients_finite(series, theory, order)
        parameters.update(
            {
                "cutoff": cutoff.spec,
                "mass": mass,
                "Lambda": Lambda,
                "couplings": None if couplings is None else couplings.to_dict(),
            }
        )
        try:
            if lat is not None:
                parameters.update({"mode": "lattice", "lattice": lat.spec, "volume": lat.volume})
                results = _lattice_mode(series, lat, cutoff, mass, Lambda, couplings, theory, warnings)
            else:
                parameters.update({"mode": "continuum", "dim": dim, "rtol": rtol})
                results = _continuum_mode(series, cutoff, dim, mass, Lambda, couplings, rtol, theory, warnings)
        except (OverflowError, FloatingPointError) as exc:
            # extreme inputs (e.g. eps=1e-300 with lambda_max=1e300) leave double precision
            raise InputError.bad(
                "--cutoff/--mass/--Lambda",
                f"{cutoff.spec}, mass={mass}, Lambda={Lambda}",
                "values whose squares and ratios are finite doubles",
                f"the evaluation overflowed ({type(exc).__name__}: {exc}); use moderate values",
            ) from None
        if as_json:
            common.echo_json("monotone", parameters, results, warnings)
        else:
            _print_numbers(parameters, results)
        return
    if show_diagrams:
        _diagrams(forms, order, scheme, theory, as_json, draw_path, parameters, warnings)
        return
    series = {f: derive(order, ENGINE_NAME.get(f, f), scheme, theory) for f in forms}
    parameters["mode"] = "symbolic"
    if compare is None:
        compare = theory.couplings == ((4, "lam"),) and theory.N == 1
    rows = _comparison_rows(order, scheme) if compare else []
    if as_json:
        results = {f: s.to_dict() for f, s in series.items()}
        if compare:
            results["comparison_with_printed"] = [
                {**r, "derived": _frac(r["derived"]), "printed": None if r["printed"] is None else _frac(r["printed"])}
                for r in rows
            ]
        common.echo_json("monotone", parameters, results, warnings)
        return
    for f, s in series.items():
        click.echo(f"{f}  ({_label(f)}), scheme={scheme}, theory: {theory.describe()}")
        click.echo(
            "coefficient of delta^d(0), one line per total order"
            + (":" if theory.N == 1 else f", summed over the {'N' if theory.symbolic_n else theory.N} components:")
        )
        click.echo(s.to_text())
        if latex:
            click.echo("LaTeX:  " + s.to_latex())
        click.echo(f"families ({K_LEGEND}):")
        for fam in s.families():
            click.echo(f"  {fam.name:24s} = {fam.definition()}")
        click.echo("")
    if rows:
        click.echo(f"derived vs printed in {PAPER} (printed numbers are NOT inputs; shown for comparison):")
        click.echo(f"  {'quantity':12s} {'order':5s} {'family':14s} {'class':16s} {'derived':>9s} {'printed':>9s}")
        for r in rows:
            pr = "-" if r["printed"] is None else _frac(r["printed"])
            flag = "" if r["printed"] is None or r["printed"] == r["derived"] else "  <- differs"
            click.echo(
                f"  {r['quantity']:12s} {r['order']:<5d} {r['family']:14s} {r['class']:16s} "
                f"{_frac(r['derived']):>9s} {pr:>9s}{flag}"
            )


def _diagrams(forms, order, scheme, theory, as_json, draw_path, parameters, warnings):
    from ..symbolic.draw import diagram_rows, draw_diagrams, piece_diagrams, tikz_diagrams

    groups = piece_diagrams(forms, order, scheme, theory)
    out = {name: diagram_rows(ds, theory) for name, ds in groups.items()}
    if draw_path is not None:
        if draw_path.suffix.lower() == ".tex":
            draw_path.write_text(tikz_diagrams(groups, theory), encoding="utf-8")
        else:
            import matplotlib  # noqa: PLC0415

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt  # noqa: PLC0415

            fig = draw_diagrams(groups, theory)
            fig.savefig(draw_path)
            plt.close(fig)
        click.echo(f"wrote {draw_path} ({sum(len(v) for v in groups.values())} diagrams)", err=True)
    parameters = {**parameters, "mode": "diagrams", "draw": None if draw_path is None else str(draw_path)}
    if as_json:
        common.echo_json("monotone", parameters, out, warnings)
        return
    for name, rows in out.items():
        on = "" if theory.N == 1 else " x O(N) index weight"
        click.echo(
            f"{name}: {len(rows)} linked diagrams (vertices 0,1 = operator; weight = Wick "
            f"contractions x prod 1/n! x prod 1/c_n!{on}; lines K = K~, D, Ginv = 1/K~, "
            "id = same point)"
        )
        for r in rows:
            edges = " ".join(f"{i}-{j}:{k}" + (f"x{c}" if c > 1 else "") for i, j, k, c in r["edges"])
            click.echo(
                f"  {r['monomial']:>8s} {r['coefficient']:>8s}  weight {r['weight']:>6s}  {r['family']:22s} {edges}"
            )


def _sum_entry(per_monomial, couplings, theory, order, error, converged, pred=None):
    """The summed series at ``couplings`` with its truncation estimate (a value object).

    Truncation estimate: the size of the last kept order's contribution,
    ``|sum_{|p| = order} c_p g^p|`` (the first omitted order is taken to be as large; an
    underestimate when the terms grow).  Read from the Prediction when it provides one.
    """
    g = [couplings[n] for n in theory.names]
    total, last = 0.0, 0.0
    for powers, value in per_monomial:
        w = 1.0
        for gi, pi in zip(g, powers):
            w *= gi**pi
        total += value * w
        if sum(powers) == order:
            last += value * w
    trunc, dominates = abs(last), None
    if pred is not None and getattr(pred, "truncation", None) is not None:
        try:  # the Prediction's own estimate (a number or a Value), when the numeric layer gives one
            t = pred.truncation
            t = float(getattr(t, "estimate", t))
            if math.isfinite(t):
                trunc = abs(t)
                d = getattr(pred, "truncation_dominates", None)
                dominates = None if d is None else bool(d)
        except (TypeError, ValueError):
            pass
    if dominates is None:
        dominates = trunc > error
    entry = {
        "value": total,
        "error": error,
        "converged": converged,
        "truncation": trunc,
        "truncation_dominates": dominates,
        "couplings": couplings.to_dict(),
    }
    return entry


#: warn about truncation when the last kept order is at least this fraction of the sum
TRUNCATION_WARN = 1e-2


def _warn_sum(name, entry, warnings):
    """Warn when the truncation estimate dominates the error and is a sizable part of the sum."""
    if not (entry["truncation_dominates"] and entry["truncation"] > 0):
        return
    rel = entry["truncation"] / abs(entry["value"]) if entry["value"] else float("inf")
    if rel < TRUNCATION_WARN:
        return
    extra = (
        "; the series is outside its range of validity here (last term >= the sum): use a smaller coupling"
        if rel >= 1
        else ""
    )
    warnings.add(
        f"{name}: the sum's truncation estimate {entry['truncation']:.3g} (last kept order, "
        f"{rel:.1%} of the sum) exceeds its stated error {entry['error']:.2g}{extra}"
    )


def _lattice_mode(series, lat, cutoff, mass, Lambda, couplings, theory, warnings):
    from ..lattice.sums import check_lattice_cost, family_value, lattice_propagators

    kt, d = lattice_propagators(lat.shape, cutoff, mass, Lambda)
    # refuse a lattice too large for a multi-loop block before evaluating anything
    check_lattice_cost({fam for s in series.values() for fam in s.families()}, kt, d)
    out = {"normalization": "whole lattice sum (delta^d(0) int d^dp -> sum_p; docs/conventions.md)", "quantities": {}}
    if not (d != 0).any():
        warnings.add(
            "D_p = Lambda dK/dLambda vanishes at every lattice momentum: no phat^2 lies in the support "
            "of dK/dLambda (for the bump, [Lambda^2, Lambda^2+eps]); every coefficient is exactly 0. "
            "Choose Lambda, eps or the lattice so that some phat^2 falls in that window."
        )
    for f, s in series.items():
        fams = {fam: family_value(fam, kt, d) for fam in s.families()}
        rows = []
        for powers in sorted({t.powers for t in s.terms}, key=lambda p: (sum(p), p)):
            terms = [t for t in s.terms if t.powers == powers]
            value = sum(float(t.coeff) * fams[t.family] for t in terms)
            rows.append(
                {
                    "monomial": _monomial(theory, powers),
                    "powers": dict(zip(theory.names, powers)),
                    "order": sum(powers),
                    "value": {"value": value, "error": 0.0, "converged": True, "exact": True},
                    "terms": [
                        {"coefficient": _frac(t.coeff), "family": t.family.name, "family_value": fams[t.family]}
                        for t in terms
                    ],
                }
            )
        q = {"coefficients": rows}
        if couplings is not None:
            q["sum"] = _sum_entry(
                [(tuple(r["powers"].values()), r["value"]["value"]) for r in rows],
                couplings,
                theory,
                s.order,
                0.0,
                True,
            )
            _warn_sum(f, q["sum"], warnings)
        out["quantities"][f] = q
    return out


def _continuum_mode(series, cutoff, dim, mass, Lambda, couplings, rtol, theory, warnings):
    from ..numeric import evaluate_series

    out = {"normalization": "coefficient of delta^d(0)", "quantities": {}}
    bad = []
    for f, s in series.items():
        lam = None if couplings is None else (couplings.values if len(couplings) > 1 else couplings.values[0])
        pred = evaluate_series(s, cutoff, dim, mass, Lambda, lam=lam, rtol=rtol)
        rows = []
        for powers, v in pred.orders.items():
            rows.append(
                {
                    "monomial": _monomial(theory, powers),
                    "powers": dict(zip(theory.names, powers)),
                    "order": sum(powers),
                    "value": v.to_dict() | {"name": _monomial(theory, powers)},
                    "terms": [
                        {"coefficient": _frac(t.coeff), "family": t.family.name} for t in s.terms if t.powers == powers
                    ],
                }
            )
        fams = {n: v.to_dict() for n, v in pred.families.items()}
        bad += [f"{f}: {n}" for n, v in fams.items() if not v["converged"]]
        q = {"coefficients": rows, "families": fams}
        if couplings is not None and pred.total is not None:
            q["sum"] = _sum_entry(
                [(p, float(v.estimate)) for p, v in pred.orders.items()],
                couplings,
                theory,
                s.order,
                float(pred.total.error),
                bool(pred.total.converged),
                pred,
            )
            _warn_sum(f, q["sum"], warnings)
        out["quantities"][f] = q
    if bad:
        warnings.add(
            "not converged (the error estimate did not reach the requested accuracy; "
            "the value is unreliable): " + ", ".join(bad)
        )
    return out


def _print_numbers(par, res):
    where = (
        f"lattice {par['lattice']} (V={par['volume']}, exact sums)"
        if par["mode"] == "lattice"
        else f"continuum d={par['dim']} (quadrature)"
    )
    click.echo(f"{where}; cutoff {par['cutoff']}, mass={par['mass']}, Lambda={par['Lambda']}")
    click.echo(f"normalization: {res['normalization']}; rows are labelled by coupling monomial")
    for f, q in res["quantities"].items():
        click.echo(f"{f}:")
        for r in q["coefficients"]:
            click.echo(f"  {r['monomial']:>10s}: {_value_text(r['value'])}")
        for n, v in q.get("families", {}).items():
            click.echo(f"    {n:24s} {_value_text(v)}")
        if "sum" in q:
            s = q["sum"]
            at = ",".join(f"{k}={v:g}" for k, v in s["couplings"].items())
            conv = "" if s["converged"] else "  [NOT CONVERGED]"
            dom = "  (truncation dominates)" if s["truncation_dominates"] else ""
            from ..textfmt import format_value

            val = format_value(s["value"], s["error"] or None, truncation=s["truncation"])
            click.echo(f"  sum at {at}: {val}{conv}; truncation ~ {s['truncation']:.2e}{dom}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(monotone())


def _check_coefficients_finite(series, theory, order):
    """Every exact coefficient must be a finite double before numbers are made of it (huge --N)."""
    for s in series.values():
        for t in s.terms:
            try:
                float(t.coeff)
            except OverflowError:
                raise InputError.bad(
                    "--N",
                    theory.N,
                    f"small enough that the O(lam^{order}) coefficients (about N^(order+1)) are finite doubles",
                    "lower --N or --order",
                ) from None


def _parse_n(text):
    """``--N``: a positive integer or the letter N (symbolic)."""
    from ..symbolic.theory import validate_n

    t = str(text).strip()
    if t == "N":
        return "N"
    try:
        value = int(t)
    except ValueError:
        value = None
    if value is None or value < 1:
        raise InputError.bad(
            "--N",
            text,
            "a positive integer (number of field components) or the letter N",
            "e.g. --N 3, or --N N for polynomials in N; --N 1 is the single real scalar",
        )
    return validate_n(value)


#: Longest estimated derivation the CLI starts without --force (seconds).
MAX_ESTIMATED_SECONDS = 600.0


def _preflight_order(order, theory, theory_spec, scheme, force=False):
    """Refuse derivations estimated above MAX_ESTIMATED_SECONDS (unless ``force``); note long ones."""
    from ..symbolic.wick import MAX_ORDER, estimated_seconds

    if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= MAX_ORDER:
        return  # the engine's own validation names the allowed range
    est = estimated_seconds(order, theory, scheme)
    if est > MAX_ESTIMATED_SECONDS and not force:
        ok = max((k for k in range(order) if estimated_seconds(k, theory, scheme) <= MAX_ESTIMATED_SECONDS), default=0)
        raise InputError.bad(
            "--order",
            order,
            f"at most {ok} for --theory {theory_spec} (estimated {est / 60:.0f} min at --order {order}, "
            f"limit {MAX_ESTIMATED_SECONDS / 60:.0f} min)",
            "lower --order or use fewer couplings, or pass --force to run it anyway",
        )
    if est > 5:
        click.echo(f"note: deriving O(lam^{order}) for {theory_spec} takes about {est:.0f} s", err=True)
