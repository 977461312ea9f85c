"""Compile the report's ``.tex`` to PDF with latexmk or pdflatex, when TeX is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CompileResult", "find_tex", "compile_pdf", "HOW_TO_GET_TEX"]

#: What the report and the CLI say when no TeX engine is found.
HOW_TO_GET_TEX = (
    "No TeX engine found (looked for latexmk and pdflatex on PATH), so only the .tex was written. "
    "To get the PDF install TeX -- Debian/Ubuntu: "
    "'sudo apt-get install latexmk texlive-latex-base texlive-latex-recommended "
    "texlive-fonts-recommended'; Fedora: 'sudo dnf install latexmk texlive-scheme-basic "
    "texlive-booktabs texlive-collection-latexrecommended'; macOS: 'brew install --cask mactex-no-gui'; "
    "conda: 'conda install -c conda-forge texlive-core' -- then run 'latexmk -pdf report.tex' in "
    "the output directory (or rerun ergsym report). Any online LaTeX editor compiles the .tex and "
    "the figures too."
)


@dataclass(frozen=True)
class CompileResult:
    """Outcome of :func:`compile_pdf`.

    Attributes
    ----------
    ok : bool
        True if the PDF was written.
    pdf : Path or None
    tool : str or None
        ``"latexmk"`` or ``"pdflatex"`` (None if no TeX engine was found).
    message : str
        Empty on success; otherwise why there is no PDF and what to do.
    log_tail : str
        The last lines of the TeX log on failure.
    """

    ok: bool
    pdf: object
    tool: object
    message: str = ""
    log_tail: str = ""


def find_tex(env: dict | None = None) -> tuple[str | None, str | None]:
    """``("latexmk", path)`` or ``("pdflatex", path)`` or ``(None, None)``.

    latexmk is used only when pdflatex is present too (it drives pdflatex).
    """
    path = (env or os.environ).get("PATH", os.defpath)
    pdflatex = shutil.which("pdflatex", path=path)
    if pdflatex is None:
        return None, None
    latexmk = shutil.which("latexmk", path=path)
    if latexmk is not None:
        return "latexmk", latexmk
    return "pdflatex", pdflatex


def compile_pdf(tex_path: str | os.PathLike, timeout: float = 300.0, env: dict | None = None) -> CompileResult:
    """Compile ``tex_path`` in its own directory; never raises for a TeX failure.

    Parameters
    ----------
    tex_path : path-like
        The ``.tex`` file.
    timeout : float
        Seconds allowed to the TeX run.
    env : dict, optional
        Environment for the subprocess (tests pass a PATH without TeX).

    Returns
    -------
    CompileResult
    """
    tex_path = Path(tex_path).resolve()
    tool, exe = find_tex(env)
    if tool is None:
        return CompileResult(False, None, None, HOW_TO_GET_TEX)
    if tool == "latexmk":
        cmds = [[exe, "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-quiet", tex_path.name]]
    else:  # two passes for references
        cmd = [exe, "-interaction=nonstopmode", "-halt-on-error", tex_path.name]
        cmds = [cmd, cmd]
    pdf = tex_path.with_suffix(".pdf")
    run_env = dict(env or os.environ)
    try:
        for cmd in cmds:
            proc = subprocess.run(
                cmd, cwd=tex_path.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout, env=run_env
            )
            if proc.returncode != 0:
                break
    except subprocess.TimeoutExpired:
        return CompileResult(False, None, tool, f"{tool} did not finish within {timeout:g} s")
    except OSError as exc:
        return CompileResult(False, None, tool, f"could not run {tool}: {exc}")
    if proc.returncode != 0 or not pdf.exists():
        log = tex_path.with_suffix(".log")
        tail = ""
        if log.exists():
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        else:
            tail = proc.stdout.decode(errors="replace")[-3000:]
        return CompileResult(False, None, tool, f"{tool} failed (exit {proc.returncode}); see {log}", tail)
    return CompileResult(True, pdf, tool)
