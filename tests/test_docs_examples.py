"""The documentation's examples run, and show what they are there to show.

* the Python snippets of the tutorial, the engine page and the API page run as written (one
  namespace per page, blocks in order: later blocks may use earlier names);
* the tutorial's first ``ergsym cutoff`` table samples the support of Lambda dK/dLambda (it used
  to skip it, printing a column of zeros), and a table whose column is identically zero warns;
* the flow scan of docs/ensembles.md has B != 0 at every scale (without ``--cutoff`` it was 0 at
  11 of 12 scales: no lattice momentum fell in the support of Lambda dK/dLambda).

The commands are read from the pages themselves, so editing an example re-tests it.
"""

import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest

from ergsym.cli import main

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: pages whose ```python blocks are complete programs (ensembles.md's need a Dask cluster)
RUNNABLE = ["tutorial.md", "engine.md", "api.md"]


def _blocks(page: str, lang: str) -> list[str]:
    """The fenced blocks of ``lang`` in a docs page (line-based, so fences pair correctly)."""
    out, inside, cur, buf = [], False, "", []
    for line in (DOCS / page).read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("```"):
            if not inside:
                inside, cur, buf = True, line.strip()[3:], []
            else:
                inside = False
                if cur == lang:
                    out.append("\n".join(buf))
            continue
        if inside:
            buf.append(line)
    return out


def _command(page: str, startswith: str) -> list[str]:
    """The argv (without ``ergsym``) of the first documented command line starting with ``startswith``."""
    for block in _blocks(page, "bash"):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith(startswith):
                return shlex.split(line)[1:]
    raise AssertionError(f"{page} has no command starting with {startswith!r}")


def _run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    cap = capsys.readouterr()
    assert exc.value.code == 0, cap.err
    return cap


@pytest.mark.parametrize("page", RUNNABLE)
def test_python_snippets_run(page, monkeypatch, tmp_path, capsys):
    blocks = _blocks(page, "python")
    assert blocks, f"{page} has no python blocks"
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{page}[python block {i}]", "exec"), ns)  # noqa: S102
    if page == "api.md":
        # the Monte Carlo repr shown on the page comes from a setup where D_p != 0 (else A = B = 0)
        out = capsys.readouterr().out
        b_line = next(line for line in out.splitlines() if line.strip().startswith("B    ="))
        assert "[exact]" not in b_line and float(b_line.split("=")[1].split("±")[0]) > 1


def _cutoff_table(stdout):
    rows = []
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and all(re.fullmatch(r"[-+0-9.e]+", p) for p in parts):
            rows.append([float(p) for p in parts])
    return np.array(rows)


def test_tutorial_cutoff_table_samples_the_support_of_Lambda_dK(capsys):
    argv = [
        a for a in _command("tutorial.md", "ergsym cutoff") if not a.startswith("--plot") and not a.endswith(".png")
    ]
    cap = _run(argv, capsys)
    table = _cutoff_table(cap.out)
    assert table.shape[0] >= 11
    p2, ldk = table[:, 0], table[:, 2]
    inside = (p2 > 1.0) & (p2 < 1.1)  # the support [Lambda^2, Lambda^2 + eps] at Lambda = 1, eps = 0.1
    assert inside.sum() >= 3 and np.all(ldk[inside] > 0)
    assert np.all(ldk[~inside] == 0)
    assert "warning" not in cap.err


def test_cutoff_table_warns_when_a_column_is_identically_zero(capsys, monkeypatch):
    import ergsym.cli.integrals as integrals

    # the old sampling (a uniform grid only) misses the bump's narrow support
    monkeypatch.setattr(integrals, "_cutoff_samples", lambda hi, bps, n: np.linspace(0.0, hi, n))
    cap = _run(["cutoff", "bump:eps=0.1,lambda_max=2", "--Lambda", "1"], capsys)
    assert np.all(_cutoff_table(cap.out)[:, 2] == 0)
    assert "warning: Lambda dK/dLambda is 0 at every sampled p^2" in cap.err
    env = json.loads(_run(["cutoff", "bump:eps=0.1,lambda_max=2", "--Lambda", "1", "--json"], capsys).out)
    assert any("is 0 at every sampled" in w for w in env["warnings"])


def test_ensembles_flow_scan_shows_B_at_every_scale(capsys, monkeypatch, tmp_path):
    argv = _command("ensembles.md", "ergsym flow")
    drop = {"--scheduler", "--plot", "--store"}
    keep, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        if a in drop:
            skip = True
            continue
        keep.append(a)
    assert "--cutoff" in keep
    monkeypatch.chdir(tmp_path)
    cap = _run(keep + ["--json"], capsys)
    scan = json.loads(cap.out)["results"]["scan"]
    assert len(scan) == 12
    zero = [p["Lambda"] for p in scan if p["monotone"]["B"]["sum"]["value"] == 0]
    assert not zero, f"B = 0 at Lambda = {zero}"
    assert "vanishes at every lattice momentum" not in cap.err


def test_cutoff_table_resolves_a_very_narrow_support(capsys):
    # eps = 1e-12 at Lambda = 2: the support [4, 4 + 1e-12] is sampled, and its rows print distinct p^2
    cap = _run(["cutoff", "bump:eps=1e-12,lambda_max=2", "--Lambda", "2"], capsys)
    rows = [line.split() for line in cap.out.splitlines() if line.strip().startswith("4.0000000000")]
    assert len(rows) >= 3 and len({r[0] for r in rows}) == len(rows)
    assert all(float(r[2]) > 0 for r in rows[:3])
