"""Property-based CLI test: whatever the options, a command ends cleanly.

hypothesis draws option values -- ordinary ones, NaN, inf, extremes, malformed specs and
unwritable or oddly named paths -- on top of a fast base invocation of each command, and checks:

* exit status 0 (a result) or 2 (a refusal naming the parameter); 1 means an internal error;
* no "Traceback" on stderr;
* with --json, stdout is strict RFC 8259 JSON (no NaN/Infinity tokens);
* no NaN/inf in any number printed on stdout.

The commands are run in-process through ``ergsym.cli.main`` (the console entry point), with
Python warnings shown rather than raised, as they would be for a user.  Commands of other
parts of the code base that still fail are listed in KNOWN_FAILING (skipped with the failing
command line), to be emptied as they are fixed.
"""

import json
import os
import re
import time
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ergsym.cli import main

BUMP = "bump:eps=0.5,lambda_max=2"
BAD_NUMBERS = ["nan", "inf", "-inf", "-1", "0", "1e-300", "1e300", "1e-50", "x", "", "1,2", "0x10"]
NUMBERS = st.one_of(
    st.sampled_from(BAD_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(0.05, 3.0).map(lambda x: f"{x:.3g}"),
)
INTS = st.one_of(st.integers(-3, 9).map(str), st.sampled_from(["x", "", "1.5", "10**9", "99999999999999999999"]))
CUTOFFS = st.sampled_from(
    [
        BUMP,
        "bump:eps=0.1,lambda_max=2",
        "exp:n=2",
        "fermi:a=10",
        "exp",
        "fermi:a=1e300",
        "bump:eps=nan,lambda_max=2",
        "bump:eps=0.5",
        "bump:eps=1.5,lambda_max=2",
        "bump:eps=1e-300,lambda_max=1e300",
        "bump:eps=0.5,lambda_max=inf",
        "nonsense",
        "bump:eps=0.5,,lambda_max=2",
        "exp:n=-1",
        "exp:n=1e9",
        "",
    ]
)
LATTICES = st.sampled_from(
    ["1", "2", "3x2", "2x2x2", "3x3", "0", "4y4", "x", "-2", "2x0", "1x1x1x1x1", "10000x10000", "", "99999999999"]
)
THEORIES = st.sampled_from(
    ["phi4", "phi6", "phi4+phi6", "4:lam,2:c2", "phi3", "phi", "phi99", "4:lam,4:g", "4:lam,6:lam", "", "phi4+", "2:1x"]
)
COUPLINGS = st.one_of(
    NUMBERS,
    st.sampled_from(
        ["lam=0.1,g6=0.01", "g6=0.1", "lam=nan", "lam=", "=1", "lam=1,lam=2", "0.02,0.05,0.1", "c2=0.1", "lam=0.1;g6=1"]
    ),
)
PIECE_NAMES = st.sampled_from(
    ["A", "B", "eq5.11", "eq5.12", "eq5.13", "eq5.14", "dSdS", "P1", "P4", "5.12", "eq5.15", "C", ""]
)


def paths(tmp):
    return st.sampled_from(
        [
            f"{tmp}/out.png",
            f"{tmp}/out.pdf",
            f"{tmp}/out.svg",
            f"{tmp}/out.tex",
            f"{tmp}/out.gif",
            f"{tmp}/no/such/dir/out.png",
            f"{tmp}",
            "",
            "/proc/x.png",
            f"{tmp}/existing.png",
            f"{tmp}/ü ñ.png",
        ]
    )


#: command -> reason (the failing command line seen); these are skipped until fixed
KNOWN_FAILING: dict = {}

#: how a non-finite float prints (Python/numpy: nan, inf, -inf; JSON with allow_nan: NaN, Infinity);
#: the English word "infinity" in a sentence is not a number
_NAN = re.compile(r"(?<![A-Za-z_])[-+]?(nan|NaN|NAN|inf|Inf|INF)(?![A-Za-z_])|(?<![A-Za-z_])-?Infinity(?![A-Za-z_])")


def check(argv, capsys):
    if os.environ.get("ERGSYM_FUZZ_LOG"):  # debugging aid: the command lines tried, one per line
        with open(os.environ["ERGSYM_FUZZ_LOG"], "a", encoding="utf-8") as fh:
            fh.write(f"{time.time():.1f} " + " ".join(argv) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(SystemExit) as exc:
            main(argv)
    cap = capsys.readouterr()
    line = "ergsym " + " ".join(repr(a) if (not a or " " in a) else a for a in argv)
    assert exc.value.code in (0, 2), f"{line}\nexit {exc.value.code}\n{cap.err[-2000:]}"
    assert "Traceback" not in cap.err, f"{line}\n{cap.err[-2000:]}"
    if exc.value.code == 0:
        if "--json" in argv:

            def bad(token):
                raise AssertionError(f"{line}: non-strict JSON token {token}")

            json.loads(cap.out, parse_constant=bad)
        m = _NAN.search(cap.out)
        assert m is None, f"{line}: printed {m.group(0)!r} in\n{cap.out[max(0, m.start() - 300) : m.end() + 100]}"
    else:
        assert cap.err.strip(), f"{line}: exit 2 without a message"
    return exc.value.code, cap


FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)


@st.composite
def monotone_args(draw, tmp):
    mode = draw(st.sampled_from(["symbolic", "lattice", "continuum", "diagrams"]))
    opts = {"--order": draw(st.sampled_from(["0", "1", "2"]))}
    if mode == "lattice":
        opts.update({"--lattice": "3x2", "--cutoff": BUMP, "--mass": "1", "--Lambda": "1.6"})
    elif mode == "continuum":
        opts.update(
            {
                "--order": draw(st.sampled_from(["0", "1"])),
                "--cutoff": "bump:eps=0.1,lambda_max=2",
                "--dim": "3",
                "--mass": "1",
                "--Lambda": "1",
            }
        )
    fuzz = {
        "--order": INTS if mode == "symbolic" else st.sampled_from(["-1", "7", "x", "", "0"]),
        "--form": PIECE_NAMES,
        "--piece": PIECE_NAMES,
        "--theory": THEORIES,
        "--scheme": st.sampled_from(["bare", "normal-ordered", "weird"]),
        "--lam": COUPLINGS,
    }
    if mode in ("lattice", "continuum"):
        fuzz.update({"--cutoff": CUTOFFS, "--mass": NUMBERS, "--Lambda": NUMBERS})
    if mode == "lattice":
        fuzz["--lattice"] = LATTICES
    if mode == "continuum":
        fuzz.update({"--dim": INTS, "--rtol": NUMBERS})
    if mode == "diagrams":  # drawings of O(lam^2) take seconds: keep to O(lam)
        opts.update({"--order": draw(st.sampled_from(["0", "1"])), "--diagrams": None})
        fuzz["--draw"] = paths(tmp)
    keys = draw(st.lists(st.sampled_from(sorted(fuzz)), min_size=1, max_size=3, unique=True))
    for k in keys:
        opts[k] = draw(fuzz[k])
    if mode == "continuum" and "--theory" in opts:  # keep quadrature cheap: phi^6 families at O(1) only
        opts["--order"] = "1" if opts["--order"] not in ("0", "1") else opts["--order"]
    argv = ["monotone"]
    for k, v in opts.items():
        argv += [k] if v is None else [k, v]
    if draw(st.booleans()):
        argv.append("--json")
    return argv


@FUZZ
@given(data=st.data())
def test_monotone_never_crashes(data, tmp_path_factory, capsys):
    tmp = tmp_path_factory.mktemp("fz")
    (tmp / "existing.png").write_bytes(b"x")
    check(data.draw(monotone_args(str(tmp))), capsys)


def _generic(base, fuzz, tmp, data):
    opts = dict(base)
    keys = data.draw(st.lists(st.sampled_from(sorted(fuzz)), min_size=1, max_size=2, unique=True))
    for k in keys:
        opts[k] = data.draw(fuzz[k])
    argv = []
    for k, v in opts.items():
        if k.startswith("_pos"):
            argv.append(v)
        else:
            argv += [k] if v is None else [k, v]
    if data.draw(st.booleans()):
        argv.append("--json")
    return argv


def _other(name, tmp):
    """Base invocation and fuzzed options of the commands owned by other parts of the code."""
    p = paths(str(tmp))
    if name == "integrals":
        return (
            {"--cutoff": BUMP, "--dim": "3", "--mass": "1", "--Lambda": "1", "--names": "T,t1"},
            {
                "--cutoff": CUTOFFS,
                "--dim": INTS,
                "--mass": NUMBERS,
                "--Lambda": NUMBERS,
                "--rtol": NUMBERS,
                "--names": st.sampled_from(["T", "f0", "nope", "", "T,T"]),
                "--scan": st.sampled_from(["Lambda=0.5:1.5:3", "mass=0:1:2", "Lambda=1:1:0", "x", "Lambda=nan:1:3"]),
            },
        )
    if name == "cutoff":
        return (
            {"_pos": BUMP, "--points": "3"},
            {"_pos": CUTOFFS, "--Lambda": NUMBERS, "--dim": INTS, "--points": INTS, "--plot": p},
        )
    if name == "mc":
        # 3x2 at Lambda = 1.6: phat^2 = 3 lies in the bump's window, so D_p is not identically 0
        return (
            {
                "--lattice": "3x2",
                "--Lambda": "1.6",
                "--n-traj": "30",
                "--n-therm": "5",
                "--no-progress": None,
                "--lam": "0.1",
            },
            {
                "--lattice": LATTICES,
                "--cutoff": CUTOFFS,
                "--mass": NUMBERS,
                "--Lambda": NUMBERS,
                "--lam": NUMBERS,
                "--n-traj": st.sampled_from(["0", "-1", "1", "20", "x"]),
                "--n-therm": st.sampled_from(["0", "-5", "x"]),
                "--n-steps": st.sampled_from(["0", "1", "-1", "x"]),
                "--checkpoint": p,
                "--resume": p,
                "--seed": INTS,
            },
        )
    if name == "crosscheck":
        return (
            {
                "--lattice": "3x2",
                "--Lambda": "1.6",
                "--n-traj": "60",
                "--n-therm": "5",
                "--no-progress": None,
                "--lams": "0.05,0.1",
                "--order": "2",
                "--plot": f"{tmp}/cc.png",
            },
            {
                "--lattice": LATTICES,
                "--lams": COUPLINGS,
                "--order": INTS,
                "--plot": p,
                "--mass": NUMBERS,
                "--Lambda": NUMBERS,
                "--form": PIECE_NAMES,
            },
        )
    if name == "flow":
        return (
            {"--order": "1", "--lattice": "2"},
            {
                "--order": INTS,
                "--lattice": LATTICES,
                "--Lambda": NUMBERS,
                "--Lambda0": NUMBERS,
                "--lam": NUMBERS,
                "--mass": NUMBERS,
                "--cutoff": CUTOFFS,
                "--n-log": st.sampled_from(["0", "-1", "3", "x"]),
                "--scan": st.sampled_from(["0", "1", "3", "x"]),
                "--plot": p,
            },
        )
    raise KeyError(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["integrals", "cutoff", "mc", "crosscheck", "flow"])
def test_other_commands_never_crash(name, tmp_path_factory, capsys):
    if name in KNOWN_FAILING:
        pytest.skip(f"known failing (see KNOWN_FAILING): {KNOWN_FAILING[name]}")
    tmp = tmp_path_factory.mktemp(f"fz-{name}")
    (tmp / "existing.png").write_bytes(b"x")
    base, fuzz = _other(name, tmp)

    @FUZZ
    @given(data=st.data())
    def inner(data):
        check([name] + _generic(base, fuzz, tmp, data), capsys)

    inner()


def test_python_dash_m_ergsym_runs(tmp_path):
    # `python -m ergsym` is the same program as the console script
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    r = subprocess.run(
        [sys.executable, "-m", "ergsym", "monotone", "--order", "1", "--no-compare", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["command"] == "monotone"
    r = subprocess.run(
        [sys.executable, "-m", "ergsym", "monotone", "--order", "x"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr and "--order" in r.stderr
