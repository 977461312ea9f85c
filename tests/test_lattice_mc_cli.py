"""Cross-check against the engine's exact lattice series, and the mc / crosscheck CLI."""

import json
import math

import numpy as np
import pytest

from ergsym.cli import main
from ergsym.errors import InputError
from ergsym.lattice.crosscheck import compare_with_series, crosscheck, series_coefficients
from ergsym.lattice.quadrature import exact_expectations
from ergsym.lattice.stats import Stats
from ergsym.lattice.theory import LatticeTheory

BUMP = "bump:eps=0.5,lambda_max=2"


def _stats(mean, err):
    return Stats(mean, err, 1.0, 0.5, 100.0)


def test_compare_with_series_recovers_c2():
    c = [1.0, -0.5, 0.25, -0.1]
    lams = [0.1, 0.2, 0.4]
    exact = [sum(ck * x**k for k, ck in enumerate(c)) for x in lams]
    pts, c2, c2e, z = compare_with_series(lams, [_stats(v, 1e-4) for v in exact], c)
    assert abs(c2 - 0.25) < 1e-9 and abs(z) < 1e-3
    assert all(abs(p.z) < 1e-6 for p in pts)
    # a wrong c2 in the data is detected
    bad = [v + 0.05 * x**2 for v, x in zip(exact, lams)]
    _, c2b, _, zb = compare_with_series(lams, [_stats(v, 1e-4) for v in bad], c)
    assert abs(c2b - 0.3) < 1e-6 and abs(zb) > 10


def test_engine_series_matches_quadrature_on_three_sites():
    """The engine's lattice coefficients (orders 0..3) against direct integration at small lam.

    Quadrature differences A(lam) - sum_{k<=3} c_k lam^k must be O(lam^4)."""
    kt = np.array([1.0, 0.4, 0.4])
    d = np.array([0.5, 0.3, 0.3])
    for form in ("A", "B"):
        c = series_coefficients(form, (3,), kt, d, order=3)
        for lam in (0.01, 0.03):
            ex = exact_expectations(LatticeTheory((3,), kt, d, lam))[form]
            ser = sum(ck * lam**k for k, ck in enumerate(c))
            assert abs(ex - ser) < 2.0 * lam**4, (form, lam, ex - ser)


def test_crosscheck_8x8_bump_z_scores(tmp_path):
    from ergsym.cutoffs import parse_cutoff

    png = tmp_path / "cc.png"
    res = crosscheck("8x8", parse_cutoff(BUMP), 1.0, 1.0, [0.02, 0.05, 0.1], "B", n_traj=1200, seed=0, plot=png)
    assert png.exists() and png.stat().st_size > 1000
    assert res.max_abs_z < 4, res.to_text()
    # power: dropping the O(lam) coefficient would be seen at > 10 sigma
    c = list(res.coefficients)
    c[1] = 0.0
    pts, *_ = compare_with_series([p.lam for p in res.points], [p.mc for p in res.points], c)
    assert max(abs(p.z) for p in pts) > 10


def test_crosscheck_bad_input():
    with pytest.raises(InputError, match="form"):
        crosscheck("4", None, lams=[0.1], form="C", kt_p=np.ones(4), d_p=np.ones(4))
    with pytest.raises(InputError, match="lams"):
        crosscheck("4", None, lams=[-0.1], kt_p=np.ones(4), d_p=np.ones(4))
    with pytest.raises(InputError, match="cutoff"):
        crosscheck("4", None, lams=[0.1])


def _run_cli(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_cli_mc_json(capsys):
    code, out, _ = _run_cli(
        [
            "mc",
            "--lattice",
            "6x6",
            "--cutoff",
            BUMP,
            "--mass",
            "1",
            "--Lambda",
            "1",
            "--lam",
            "0.5",
            "--n-traj",
            "200",
            "--no-progress",
            "--json",
        ],
        capsys,
    )
    assert code == 0
    env = json.loads(out)
    assert env["command"] == "mc" and isinstance(env["warnings"], list)
    d = env["results"]
    for name in ("phi2", "A", "B", "eq5.11", "eq5.12", "eq5.13", "eq5.14", "A_sd", "B_sd"):
        o = d["observables"][name]
        assert set(("value", "error", "converged", "tau_int", "n_eff", "rhat")) <= set(o)
        assert all(math.isfinite(o[k]) for k in ("value", "error", "tau_int"))
    # the Schwinger-Dyson form of (5.13) (old name P2_sd) is exact: -2 f0
    assert d["observables"]["eq5.13_sd"]["value"] == pytest.approx(-2 * d["exact"]["f0"])
    assert d["observables"]["eq5.13_sd"]["exact"] is True


def test_cli_mc_checkpoint_and_resume(tmp_path, capsys):
    ck = str(tmp_path / "c.npz")
    base = [
        "mc",
        "--lattice",
        "4x4",
        "--cutoff",
        "bump:eps=0.5,lambda_max=2",
        "--Lambda",
        "1.5",
        "--lam",
        "1",
        "--n-traj",
        "120",
        "--no-progress",
        "--json",
    ]
    code, out1, _ = _run_cli(base + ["--checkpoint", ck], capsys)
    assert code == 0
    code, out2, _ = _run_cli(["mc", "--resume", ck, "--no-progress", "--json"], capsys)
    assert code == 0
    a, b = json.loads(out1)["results"], json.loads(out2)["results"]
    assert a["observables"]["A"] == b["observables"]["A"]


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--lam", "-1"], "lam=-1.0"),
        (["--lattice", "1x4"], "extents >= 2"),
        (["--backend", "tpu"], "backend='tpu'"),
        (["--lattice", "8y8"], "lattice='8y8'"),
    ],
)
def test_cli_mc_bad_input_exit_2(args, needle, capsys):
    code, _, err = _run_cli(["mc", "--n-traj", "150", "--no-progress"] + args, capsys)
    assert code == 2
    assert needle in err


def test_cli_crosscheck_text(tmp_path, capsys):
    png = tmp_path / "x.png"
    code, out, _ = _run_cli(
        [
            "crosscheck",
            "--lattice",
            "8x8",
            "--cutoff",
            BUMP,
            "--mass",
            "1",
            "--Lambda",
            "1",
            "--lams",
            "0.05,0.1",
            "--form",
            "A",
            "--n-traj",
            "400",
            "--no-progress",
            "--plot",
            str(png),
        ],
        capsys,
    )
    assert code == 0
    assert "z" in out and "c2: fit" in out and png.exists()
    code, _, err = _run_cli(["crosscheck", "--lams", "0.1,abc", "--no-progress"], capsys)
    assert code == 2 and "--lam" in err and "Traceback" not in err


def test_verdicts_are_computed_from_the_numbers():
    from ergsym.lattice.crosscheck import CrosscheckResult

    c = [1.0, 0.0, 0.0]
    lams = [0.1, 0.2, 0.3]
    # z = +1, +4, +6 against the series 1.0 (truncation 0 since c_{N-1} = c_N = 0)
    pts, *_ = compare_with_series(lams, [_stats(1.01, 0.01), _stats(1.04, 0.01), _stats(1.06, 0.01)], c)
    assert [p.verdict for p in pts] == ["agrees", "disagrees", "disagrees"]
    # an unreliable number never counts as agreement, whatever its z
    frozen = _stats(1.0, 0.01).flagged("zero variance")
    (p,), *_ = compare_with_series([0.1], [frozen], c)
    assert p.z == 0.0 and p.verdict == "inconclusive" and "zero variance" in p.judgement.reason
    res = CrosscheckResult("B", (2,), tuple(c), (p,), None, None, None, "sd")
    assert not res.agrees and res.verdict == "inconclusive"
    # exact against exact: z is None with a reason (never -inf); equal -> exact, different -> disagrees
    ex = Stats(-2.0, 0.0, 0.0, 0.5, 100.0, exact=True)
    (pe,), c2, c2e, zc2 = compare_with_series([0.1], [ex], [-2.0, 0.0, 0.0])
    assert pe.z is None and "exact" in pe.z_reason and pe.verdict == "exact" and zc2 is None
    (pd,), *_ = compare_with_series([0.1], [ex], [-1.0, 0.0, 0.0])
    assert pd.z is None and pd.verdict == "disagrees"


def test_truncation_larger_than_the_statistical_error_is_inconclusive_not_agreement():
    """The strong-coupling case of issue 18: series 33.8 with truncation 1.3e2 against MC 3.63 ± 0.20.

    Folding the truncation into z gives |z| = 0.23: it can never disagree, so it must not agree."""
    c = [3.291824077, 0.1062147836, -0.01229938118, 0.001423567072]  # B on 8x8 (exact lattice sums)
    (p,), c2, c2e, zc2 = compare_with_series([30.0], [_stats(3.63, 0.20)], c)
    b = p.budget
    assert b.truncation > 100 * b.statistical and b.quadrature == 0.0
    assert abs(p.z) < 1 and p.verdict == "inconclusive" and not p.judgement.power
    assert "truncation" in p.judgement.reason and "lower the coupling" in p.judgement.reason
    from ergsym.lattice.crosscheck import CrosscheckResult

    res = CrosscheckResult("B", (8, 8), tuple(c), (p,), c2, c2e, zc2, "sd")
    assert res.verdict == "inconclusive" and not res.agrees
    d = res.to_dict()
    assert "agrees" not in d and d["verdict"] == "inconclusive"
    assert d["points"][0]["error_budget"]["truncation"] == pytest.approx(b.truncation)
    # the same point with a difference beyond the whole budget disagrees even without power
    (q,), *_ = compare_with_series([30.0], [_stats(33.845 + 5 * b.truncation, 0.2)], c)
    assert q.verdict == "disagrees"
    # ... and at a small coupling (truncation << statistical error) the same rule agrees or disagrees
    ser = sum(ck * 0.05**k for k, ck in enumerate(c))
    (g,), *_ = compare_with_series([0.05], [_stats(ser + 1e-4, 1e-3)], c)
    (w,), *_ = compare_with_series([0.05], [_stats(ser + 5e-3, 1e-3)], c)
    assert g.verdict == "agrees" and g.judgement.power and w.verdict == "disagrees"


def test_run_verdict_needs_power_and_no_disagreement():
    from ergsym.lattice.verdict import ErrorBudget, Verdict, combine, compare

    agree = compare(1.0, 1.0, ErrorBudget(0.1))
    weak = compare(1.0, 1.2, ErrorBudget(0.1, 0.0, 0.5))
    bad = compare(2.0, 1.0, ErrorBudget(0.1))
    empty = Verdict("nothing compared", "D_p = 0")
    assert (agree.word, weak.word, bad.word) == ("agrees", "inconclusive", "disagrees")
    assert combine([agree, weak]).word == "agrees"
    assert combine([weak, weak]).word == "inconclusive"
    assert combine([agree, weak, bad]).word == "disagrees"
    assert combine([empty, empty]).word == "nothing compared"
    assert combine([empty, agree]).word == "agrees"
    assert combine([]).word == "nothing compared"
    assert compare(1.0, 1.0, ErrorBudget(0.0)).word == "exact"


def test_cli_strong_coupling_and_empty_crosscheck_say_so(capsys):
    """`crosscheck --lam 30` (series off by 9x) is inconclusive in text and JSON; D_p = 0 on every
    momentum says 'nothing compared' in text, JSON and repr; both exit 0."""
    args = ["crosscheck", "--lattice", "4x4", "--n-traj", "150", "--n-therm", "20", "--no-progress"]
    code, out, _ = _run_cli(args + ["--lam", "30", "--lattice", "8x8"], capsys)
    assert code == 0 and "inconclusive" in out and "agrees" not in out
    assert "stat" in out and "quad" in out and "trunc" in out
    code, out, _ = _run_cli(args + ["--lam", "30", "--lattice", "8x8", "--json"], capsys)
    res = json.loads(out)["results"]
    assert res["verdict"] == "inconclusive" and "agrees" not in res
    assert {p["verdict"] for p in res["points"]} == {"inconclusive"}
    assert set(res["points"][0]["error_budget"]) == {"statistical", "quadrature", "truncation", "total"}
    code, out, _ = _run_cli(args + ["--lam", "0.05,0.1", "--Lambda", "1", "--json"], capsys)
    res = json.loads(out)["results"]
    assert code == 0 and res["verdict"] == "nothing compared"
    assert {p["verdict"] for p in res["points"]} == {"nothing compared"} and "agrees" not in res
    code, out, _ = _run_cli(args + ["--lam", "0.05,0.1", "--Lambda", "1"], capsys)
    assert "verdict: nothing compared" in out
    from ergsym.cutoffs import parse_cutoff

    r = crosscheck("4x4", parse_cutoff(BUMP), 1.0, 1.0, [0.1], n_traj=60, n_therm=10)
    assert "nothing compared" in repr(r) and not r.agrees


def test_crosscheck_repr_one_line_per_coupling():
    """repr of a cross-check: lattice, verdict, and per coupling MC value ± error, series, z."""
    kt, dp = np.full(4, 0.7), np.full(4, 0.3)
    res = crosscheck("4", None, lams=[0.05, 0.1], form="B", kt_p=kt, d_p=dp, n_traj=300, seed=2)
    head, *rows = repr(res).splitlines()
    assert head.startswith(
        f"CrosscheckResult(B on 4, {res.estimator} estimator, 2 couplings, max |z| = {res.max_abs_z:.2f}"
    )
    assert head.endswith(f"{res.verdict})")
    for p, row in zip(res.points, rows):
        assert f"lam={p.lam:g}" in row and repr(p.mc) in row and f"[{p.verdict}]" in row
        assert f"series {p.series:.8g}" in row
    assert f"z={res.points[0].z:.2f}" in repr(res.points[0]) or res.points[0].z is None


def test_lattice_parsed_once_at_the_edge(monkeypatch):
    """crosscheck takes a string, a tuple or a parsed Lattice; the shape is validated once
    (by ergsym.inputs), however many couplings and theories the run builds."""
    import ergsym.inputs as inputs
    from ergsym.inputs import Lattice, as_lattice

    lat = as_lattice("4")
    assert as_lattice(lat) is lat and lat == (4,) and lat.spec == "4"
    calls = []
    real = inputs._check_shape
    monkeypatch.setattr(inputs, "_check_shape", lambda spec, name: calls.append(spec) or real(spec, name))
    kt, dp = np.full(4, 0.7), np.full(4, 0.3)
    runs = {}
    for spec in ("4", (4,), lat):
        calls.clear()
        runs[str(spec)] = crosscheck(spec, None, lams=[0.05, 0.1, 0.2], form="B", kt_p=kt, d_p=dp, n_traj=60, seed=2)
        assert len(calls) == (0 if isinstance(spec, Lattice) else 1), (spec, calls)
    # the same chain and numbers whichever form the lattice came in
    means = {k: [p.mc.mean for p in r.points] for k, r in runs.items()}
    assert len({tuple(v) for v in means.values()}) == 1, means
    assert runs["4"].shape == (4,)
    # one rule set, one place: the API refuses what the CLI refuses (--lattice 1x4), same reason
    with pytest.raises(InputError, match="extents >= 2"):
        crosscheck("1x8", None, lams=[0.1], kt_p=np.ones(8), d_p=np.ones(8))
