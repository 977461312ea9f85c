"""Every command's --help works (exit 0) and docs/cli.md is the generated reference."""

from pathlib import Path

import click
import pytest

from ergsym.cli import cli, main
from ergsym.cli.clidoc import cli_markdown

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
    for opt in (
        "--out",
        "--quick",
        "--order",
        "--theory",
        "--cutoff",
        "--dim",
        "--mass",
        "--Lambda0",
        "--pdf / --no-pdf",
        "--mc / --no-mc",
        "ergsym-report",
    ):
        assert opt in out, opt


def test_cli_reference_is_current():
    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert doc == cli_markdown(), "docs/cli.md is stale: regenerate with 'python -m ergsym.cli.clidoc > docs/cli.md'"


def _exit(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return exc.value.code, capsys.readouterr()


@pytest.mark.parametrize(
    "error, code",
    [
        ("InputError", 2),
        ("OrderNotSupportedError", 2),
        ("DivergentIntegralError", 2),
        ("CheckpointError", 2),
        ("BackendUnavailableError", 2),
        ("FamilyNotSupportedError", 2),
        ("ConvergenceError", 2),
        ("ErgsymError", 1),
    ],
)
def test_ergsym_errors_map_to_exit_status(error, code, monkeypatch, capsys):
    import ergsym.errors as errors
    from ergsym.cli import monotone as mod

    def boom(*a, **k):
        raise getattr(errors, error)("the message naming --the-parameter")

    monkeypatch.setattr("ergsym.symbolic.monotone", boom)
    got, cap = _exit(["monotone", "--order", "1"], capsys)
    assert got == code and "the message naming --the-parameter" in cap.err
    assert "Traceback" not in cap.err
    assert mod.monotone is not None


def test_unexpected_exception_is_one_line_internal_error(monkeypatch, capsys):
    def boom(*a, **k):
        raise ZeroDivisionError("division by zero\nsecond line")

    monkeypatch.setattr("ergsym.symbolic.monotone", boom)
    monkeypatch.delenv("ERGSYM_TRACEBACK", raising=False)
    code, cap = _exit(["monotone", "--order", "1"], capsys)
    assert code == 1
    assert cap.err.strip() == "internal error (please report): ZeroDivisionError: division by zero second line"
    # and the traceback on request, so bugs are not hidden
    monkeypatch.setenv("ERGSYM_TRACEBACK", "1")
    with pytest.raises(ZeroDivisionError):
        main(["monotone", "--order", "1"])


def test_shell_completion_script_is_generated(monkeypatch, capsys):
    monkeypatch.setenv("_ERGSYM_COMPLETE", "bash_source")
    with pytest.raises(SystemExit) as exc:
        cli.main(args=[], prog_name="ergsym")
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "_ergsym_completion" in out and "complete " in out


def test_group_help_documents_completion_and_python_m(capsys):
    code, cap = _exit(["--help"], capsys)
    assert code == 0 and "_ERGSYM_COMPLETE=bash_source ergsym" in cap.out and "python -m ergsym" in cap.out


def test_no_spec_or_seed_references_in_files_of_this_interface():
    # user-facing text cites the paper and the docs, never "SPEC section N" or "seed 000"
    files = [
        "ergsym/cli/__init__.py",
        "ergsym/cli/common.py",
        "ergsym/cli/monotone.py",
        "ergsym/inputs.py",
        "ergsym/symbolic/series.py",
        "ergsym/symbolic/theory.py",
        "ergsym/symbolic/draw.py",
        "docs/api.md",
        "docs/json.md",
    ]
    for f in files:
        text = (ROOT / f).read_text(encoding="utf-8")
        for bad in ("SPEC section", "SPEC §", "seed 000", "SPEC 5"):
            assert bad not in text, f"{f} says {bad!r}"
