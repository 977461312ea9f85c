"""Generate the CLI reference (``docs/cli.md``) from the click command tree.

``python -m ergsym.cli.clidoc > docs/cli.md``; ``tests/test_cli_help.py`` checks the file is
current.  (Lives here rather than in ``ergsym.cli`` so the CLI modules stay thin.)
"""

from __future__ import annotations

__all__ = ["cli_markdown"]


def cli_markdown() -> str:
    """Markdown with every command's help text and options, in command order."""
    import click

    from . import cli

    settings = {**(cli.context_settings or {}), "terminal_width": 88, "max_content_width": 88}
    ctx = click.Context(cli, info_name="ergsym", **settings)
    out = [
        "# CLI reference",
        "",
        "Generated from the click command tree by `python -m ergsym.cli.clidoc > docs/cli.md` "
        "(a test checks it is current). Every command exits with status 2 and a message naming the "
        "parameter, its allowed range and the value when the input is bad.",
        "",
        "```text",
        cli.get_help(ctx).rstrip(),
        "```",
        "",
    ]
    for name in cli.list_commands(ctx):
        cmd = cli.get_command(ctx, name)
        sub = click.Context(cmd, info_name=name, parent=ctx, terminal_width=88, max_content_width=88)
        out += [f"## `ergsym {name}`", "", "```text", cmd.get_help(sub).rstrip(), "```", ""]
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    print(cli_markdown(), end="")
