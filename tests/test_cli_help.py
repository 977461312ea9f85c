"""Every command's --help works (exit 0) and docs/cli.md is the generated reference."""
from pathlib import Path

import click
import pytest

from ergsym.cli import cli, main
from ergsym.report.clidoc import cli_markdown

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = cli.list_commands(click.Context(cli))


def test_report_is_registered():
    assert "report" in COMMANDS


@pytest.mark.parametrize("name", [None] + COMMANDS)
def test_help_exits_0(name, capsys):
    args = ["--help"] if name is None else [name, "--help"]
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("Usage: ergsym")
    if name is not None:
        assert f"ergsym {name}" in out


def test_unknown_command_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2
    assert "No such command" in capsys.readouterr().err


def test_report_help_lists_the_main_options(capsys):
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    out = capsys.readouterr().out
    for opt in ("--out", "--quick", "--order", "--theory", "--cutoff", "--dim", "--mass", "--Lambda0",
                "--pdf / --no-pdf", "--mc / --no-mc", "ergsym-report"):
        assert opt in out, opt


def test_cli_reference_is_current():
    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert doc == cli_markdown(), ("docs/cli.md is stale: regenerate with "
                                   "'python -m ergsym.report.clidoc > docs/cli.md'")
