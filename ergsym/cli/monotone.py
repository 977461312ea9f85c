"""``ergsym monotone``: derive A, B or a piece; optionally evaluate it.

Three modes:

* symbolic (default): exact coefficients and families, human-readable and LaTeX;
* ``--lattice 4x4 --cutoff ... --mass --Lambda``: each order as an exact lattice sum;
* ``--cutoff ... --dim 4 --mass --Lambda [--lam]``: continuum quadrature with errors.
"""
from __future__ import annotations

import json
import sys

import click

from ..errors import InputError

FORM_CHOICES = ["A", "B", "dSdS", "dSdShat", "dShatdShat", "LdShat"]


def _frac(c):
    return str(c.numerator) if c.denominator == 1 else f"{c.numerator}/{c.denominator}"


def _comparison_rows(order, scheme):
    """All four pieces, A and B against (5.11)-(5.15) (printed only through O(lam^2))."""
    from ..symbolic import comparison_table

    return comparison_table(order, scheme)


@click.command("monotone")
@click.option("--order", type=int, default=2, show_default=True,
              help="Highest power of the coupling(s) kept (0..6). Measured cost of the derivation "
                   "(phi4, bare, shared 2-core machine): O(lam^4) 0.2 s, O(lam^5) ~1 s, O(lam^6) "
                   "~4-10 s; normal-ordered is several times cheaper, more couplings cost more "
                   "(phi4+phi6: O(lam^4) ~1 s, O(lam^5) ~35 s, O(lam^6) > 9 min). Runs estimated "
                   "above 10 minutes are refused. Exact lattice sums (--lattice) at O(lam^5) on "
                   "32x32 take ~5-10 s.")
@click.option("--form", type=click.Choice(FORM_CHOICES), default="B", show_default=True,
              help="A = printed expression (5.5); B = -Lambda dM/dLambda (the true derivative); "
                   "or one of the four pieces.")
@click.option("--piece", "pieces", type=click.Choice(FORM_CHOICES[2:]), multiple=True,
              help="Show these pieces (repeatable) instead of --form.")
@click.option("--scheme", type=click.Choice(["bare", "normal-ordered"]), default="bare",
              show_default=True, help="Interaction scheme: bare (5.3) or normal-ordered (tadpoles subtracted).")
@click.option("--theory", "theory_spec", default="phi4", show_default=True,
              help="Interaction, e.g. 'phi4', 'phi4+phi6', '4:lam,2:c2'.")
@click.option("--compare/--no-compare", default=None,
              help="Table of derived vs printed (5.11)-(5.15) coefficients (default: on for phi4 "
                   "symbolic output).")
@click.option("--lattice", default=None, help="Evaluate exactly on a periodic lattice, e.g. '4x4' or '1'.")
@click.option("--cutoff", "cutoff_spec", default=None,
              help="Cutoff, e.g. 'bump:eps=0.5,lambda_max=2' (SPEC section 6).")
@click.option("--dim", type=int, default=None, help="Continuum dimension (1..6) for quadrature.")
@click.option("--mass", type=float, default=None, help="Bare mass m (> 0).")
@click.option("--Lambda", "Lambda", type=float, default=None, help="Cutoff scale Lambda.")
@click.option("--lam", type=float, default=None, help="Coupling value: also print the summed series.")
@click.option("--rtol", type=float, default=None, help="Relative accuracy of the quadrature.")
@click.option("--diagrams", "show_diagrams", is_flag=True,
              help="List every linked diagram with its weight (symmetry factor) and family.")
@click.option("--json", "as_json", is_flag=True, help="JSON to stdout.")
@click.option("--latex/--no-latex", default=True, show_default=True, help="Also print LaTeX.")
def monotone(order, form, pieces, scheme, theory_spec, compare, lattice, cutoff_spec, dim, mass,
             Lambda, lam, rtol, show_diagrams, as_json, latex):
    """Derive the monotone derivative A or B (or its pieces) to O(lam^ORDER).

    \b
    Examples:
      ergsym monotone --order 3 --form B --scheme bare
      ergsym monotone --order 2 --form A --piece dSdS --piece LdShat --json
      ergsym monotone --order 3 --form B --lattice 4x4 --cutoff bump:eps=0.5,lambda_max=2 --mass 1 --Lambda 1 --json
      ergsym monotone --order 2 --form B --cutoff bump:eps=0.1,lambda_max=2 --dim 4 --mass 1 --Lambda 1 --lam 0.1
    """
    from ..symbolic import monotone as derive
    from ..symbolic import parse_theory

    theory = parse_theory(theory_spec)
    _preflight_order(order, theory, theory_spec, scheme)
    forms = list(pieces) if pieces else [form]
    series = {f: derive(order, f, scheme, theory) for f in forms}
    if lattice is not None and dim is not None:
        raise InputError("give either --lattice (exact lattice sums) or --dim (continuum), not both")
    if lattice is not None or dim is not None:
        missing = [n for n, v in (("--cutoff", cutoff_spec), ("--mass", mass), ("--Lambda", Lambda)) if v is None]
        if missing:
            raise InputError(f"{', '.join(missing)} required with {'--lattice' if lattice else '--dim'}")
        from ..cutoffs import parse_cutoff

        cutoff = parse_cutoff(cutoff_spec)
        out = (_lattice_mode(series, lattice, cutoff, cutoff_spec, mass, Lambda, lam, theory)
               if lattice is not None else
               _continuum_mode(series, cutoff, cutoff_spec, dim, mass, Lambda, lam, rtol, theory))
        if as_json:
            click.echo(json.dumps(out, indent=2))
        else:
            _print_numbers(out)
        return
    if cutoff_spec is not None:
        raise InputError("--cutoff needs --lattice SHAPE or --dim D (with --mass and --Lambda)")
    if compare is None:
        compare = theory.couplings == ((4, "lam"),)
    rows = _comparison_rows(order, scheme) if compare else []
    if show_diagrams:
        _print_diagrams(forms, order, scheme, theory, as_json)
        return
    if as_json:
        out = {f: s.to_json() for f, s in series.items()}
        if compare:
            out["comparison_with_printed"] = [
                {**r, "derived": _frac(r["derived"]),
                 "printed": None if r["printed"] is None else _frac(r["printed"])} for r in rows]
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    for f, s in series.items():
        click.echo(f"{f}  ({_label(f)}), scheme={scheme}, theory: {theory.describe()}")
        click.echo("coefficient of delta^d(0):")
        click.echo(s.to_text())
        if latex:
            click.echo("LaTeX:  " + s.to_latex())
        click.echo("families:")
        for fam in s.families():
            click.echo(f"  {fam.name:24s} = {fam.definition()}")
        click.echo("")
    if rows:
        click.echo("derived vs printed in seed 000 (printed numbers are NOT inputs; shown for comparison):")
        click.echo(f"  {'quantity':11s} {'order':5s} {'family':14s} {'class':16s} {'derived':>9s} {'printed':>9s}")
        for r in rows:
            pr = "-" if r["printed"] is None else _frac(r["printed"])
            flag = "" if r["printed"] is None or r["printed"] == r["derived"] else "  <- differs"
            click.echo(f"  {r['quantity']:11s} {r['order']:<5d} {r['family']:14s} {r['class']:16s} "
                       f"{_frac(r['derived']):>9s} {pr:>9s}{flag}")


def _print_diagrams(forms, order, scheme, theory, as_json):
    from ..symbolic.monotone import FORMS, PIECES
    from ..symbolic.operators import cdot, lambda_dshat
    from ..symbolic.wick import diagrams

    out = {}
    for f in forms:
        names = [f] if f in PIECES else [n for n in FORMS[f]]
        for name in names:
            spec = PIECES[name]
            op = (lambda_dshat(theory, scheme, coeff=-2) if spec is None
                  else cdot(spec[0], spec[1], theory, scheme, coeff=spec[2]))
            out[name] = [{"order": sum(d.powers), "coefficient": _frac(d.coeff), "weight": _frac(d.weight),
                          "family": d.family.name, "edges": [list(e) for e in d.edges]}
                         for d in diagrams(op, theory, order, scheme)]
    if as_json:
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    for name, rows in out.items():
        click.echo(f"{name}: {len(rows)} linked diagrams (vertices 0,1 = operator; weight = Wick "
                   "contractions x prod 1/n! x prod 1/c_n!)")
        for r in rows:
            edges = " ".join(f"{i}-{j}:{k}" + (f"x{c}" if c > 1 else "") for i, j, k, c in r["edges"])
            click.echo(f"  O({r['order']}) {r['coefficient']:>8s}  weight {r['weight']:>6s}  {r['family']:22s} {edges}")


def _label(form):
    return {"A": "printed expression (5.5)", "B": "-Lambda dM/dLambda along the flow",
            "dSdS": "+1/2<Cdot dS dS> (5.14)", "dSdShat": "-2<Cdot dS dShat> (5.13)",
            "dShatdShat": "+2<Cdot dShat dShat> (5.12)", "LdShat": "-2<Lambda dShat> (5.11)"}[form]


#: Longest estimated derivation the CLI starts (seconds).
MAX_ESTIMATED_SECONDS = 600.0


def _preflight_order(order, theory, theory_spec, scheme):
    """Refuse derivations estimated above MAX_ESTIMATED_SECONDS; note long ones on stderr."""
    from ..symbolic.wick import MAX_ORDER, estimated_seconds

    if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= MAX_ORDER:
        return   # the engine's own validation names the allowed range
    est = estimated_seconds(order, theory, scheme)
    if est > MAX_ESTIMATED_SECONDS:
        ok = max((k for k in range(order) if estimated_seconds(k, theory, scheme) <= MAX_ESTIMATED_SECONDS),
                 default=0)
        raise InputError.bad(
            "--order", order,
            f"at most {ok} for --theory {theory_spec} (estimated {est / 60:.0f} min at --order {order}, "
            f"limit {MAX_ESTIMATED_SECONDS / 60:.0f} min)",
            "lower --order or use fewer couplings; to run it anyway call "
            "ergsym.symbolic.monotone(order, form, scheme, theory) from Python")
    if est > 5:
        click.echo(f"note: deriving O(lam^{order}) for {theory_spec} takes about {est:.0f} s", err=True)


def _lattice_mode(series, lattice, cutoff, cutoff_spec, mass, Lambda, lam, theory):
    from ..conventions import parse_lattice
    from ..lattice.sums import family_value, lattice_propagators

    shape = parse_lattice(lattice)
    kt, d = lattice_propagators(shape, cutoff, mass, Lambda)
    out = {"mode": "lattice", "lattice": "x".join(map(str, shape)), "volume": int(kt.size),
           "cutoff": cutoff_spec, "mass": mass, "Lambda": Lambda,
           "normalization": "whole lattice sum (SPEC section 3: delta^d(0) int d^dp -> sum_p)",
           "exact": True, "quantities": {}, "warnings": []}
    if not (d != 0).any():
        out["warnings"].append(
            "D_p = Lambda dK/dLambda vanishes at every lattice momentum: no phat^2 lies in the support "
            "of dK/dLambda (for the bump, [Lambda^2, Lambda^2+eps]); every coefficient is exactly 0. "
            "Choose Lambda, eps or the lattice so that some phat^2 falls in that window.")
    for f, s in series.items():
        fams = {fam: family_value(fam, kt, d) for fam in s.families()}
        orders = []
        for k in range(s.order + 1):
            terms = [{"coefficient": _frac(c), "family": fam.name, "family_value": fams[fam],
                      "couplings": {n: e for n, e in zip(theory.names, p) if e}}
                     for c, p, fam in s.coefficient(k)]
            orders.append({"order": k, "value": sum(float(c) * fams[fam] for c, p, fam in s.coefficient(k)),
                           "terms": terms})
        q = {"orders": orders}
        if lam is not None:
            if len(theory.couplings) != 1:
                raise InputError("--lam sums the series only for a one-coupling theory")
            q["sum"] = sum(o["value"] * lam ** o["order"] for o in orders)
            q["lam"] = lam
        out["quantities"][f] = q
    return out


def _continuum_mode(series, cutoff, cutoff_spec, dim, mass, Lambda, lam, rtol, theory):
    from ..numeric import evaluate_series

    out = {"mode": "continuum", "cutoff": cutoff_spec, "dim": dim, "mass": mass, "Lambda": Lambda,
           "normalization": "coefficient of delta^d(0)", "quantities": {}}
    for f, s in series.items():
        pred = evaluate_series(s, cutoff, dim, mass, Lambda,
                               lam=(lam if lam is not None else None), rtol=rtol)
        orders = []
        for k in range(s.order + 1):
            vals = [v for p, v in pred.orders.items() if sum(p) == k]
            value = sum(float(v.estimate) for v in vals)
            error = sum(float(v.error) for v in vals)
            orders.append({"order": k, "value": value, "error": error,
                           "converged": all(bool(v.converged) for v in vals),
                           "terms": [{"coefficient": _frac(c), "family": fam.name}
                                     for c, p, fam in s.coefficient(k)]})
        q = {"orders": orders,
             "families": {n: {"value": float(v.estimate), "error": float(v.error),
                              "converged": bool(v.converged)} for n, v in pred.families.items()}}
        if lam is not None and pred.total is not None:
            q["sum"] = {"value": float(pred.total.estimate), "error": float(pred.total.error)}
            q["lam"] = lam
        out["quantities"][f] = q
    return out


def _print_numbers(out):
    where = (f"lattice {out['lattice']} (V={out['volume']}, exact sums)" if out["mode"] == "lattice"
             else f"continuum d={out['dim']} (quadrature)")
    click.echo(f"{where}; cutoff {out['cutoff']}, mass={out['mass']}, Lambda={out['Lambda']}")
    click.echo(f"normalization: {out['normalization']}")
    for w in out.get("warnings", []):
        click.echo(f"warning: {w}", err=True)
    for f, q in out["quantities"].items():
        click.echo(f"{f}:")
        for o in q["orders"]:
            err = f" ± {o['error']:.2e}" if "error" in o else ""
            click.echo(f"  lam^{o['order']}: {o['value']:.12g}{err}")
        if "families" in q:
            for n, v in q["families"].items():
                click.echo(f"    {n:24s} {v['value']:.12g} ± {v['error']:.2e}")
        if "sum" in q:
            s = q["sum"]
            if isinstance(s, dict):
                click.echo(f"  sum at lam={q['lam']}: {s['value']:.12g} ± {s['error']:.2e}")
            else:
                click.echo(f"  sum at lam={q['lam']}: {s:.12g}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(monotone())
