"""Assemble the report: run the sections, write ``report.tex`` and ``report.json``, compile.

``build_report(ReportConfig(...)) -> ReportResult``.  Sections are independent functions of
the config (:mod:`.symbolic_sections`, :mod:`.numeric_sections`, :mod:`.lattice_sections`,
:mod:`.flow_section`); each returns a :class:`~.section.Section` with LaTeX and JSON-ready data.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .._umask import honour_umask
from . import latex as L
from .compile import CompileResult, compile_pdf
from .config import ReportConfig
from .on import model_tex

if TYPE_CHECKING:
    from .section import Section

__all__ = ["ReportResult", "build_report", "prepare_out", "SECTION_KEYS", "PAPER"]

#: Section keys in report order.
SECTION_KEYS = (
    "derivation",
    "comparison",
    "zerodim",
    "numeric",
    "figures",
    "lattice",
    "onemode",
    "flow",
    "sign_map",
    "errata",
    "diagrams",
    "lpa",
)


@dataclass
class ReportResult:
    """What :func:`build_report` wrote.

    Attributes
    ----------
    out : Path
        Output directory.
    tex : Path
        The LaTeX source.
    json : Path
        All numbers behind the report (``report.json``).
    pdf : Path or None
        The PDF if it was compiled.
    compile : CompileResult or None
        None with ``pdf=False``.
    sections : list of Section
    seconds : float
        Total wall time.
    """

    out: Path
    tex: Path
    json: Path
    pdf: object
    compile: object
    sections: list = field(default_factory=list)
    seconds: float = 0.0
    warnings: list = field(default_factory=list)

    def summary(self) -> str:
        """Plain-text summary (what the CLI prints)."""
        lines = [f"report written to {self.out}/"]
        lines.append(f"  {self.tex.name}   LaTeX source")
        lines.append(f"  {self.json.name}  every number behind the report")
        figs = [f for s in self.sections for f in s.figures]
        if figs:
            lines.append(f"  figures/    {len(figs)} figures")
        for s in self.sections:
            state = "" if s.available else "  (unavailable: see the section)"
            lines.append(f"  section {s.key:<11s} {s.seconds:6.1f} s{state}")
        if self.pdf is not None:
            lines.append(f"  {Path(self.pdf).name}   compiled with {self.compile.tool}")
        elif self.compile is not None:
            lines.append("  no PDF: " + self.compile.message)
            if self.compile.log_tail:
                lines.append(self.compile.log_tail)
        else:
            lines.append("  PDF not requested (--no-pdf)")
        lines.append(f"total {self.seconds:.1f} s")
        return "\n".join(lines)


PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[T1]{fontenc}
\usepackage{lmodern}
\usepackage{textcomp}
\usepackage[utf8]{inputenc}
\input{glyphtounicode}\pdfgentounicode=1
\usepackage[a4paper,margin=2.2cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{graphicx}
\usepackage{booktabs,longtable,array}
\usepackage{float}
\usepackage[unicode,bookmarksnumbered,bookmarksopen,hidelinks]{hyperref}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.5em}
\setlength{\emergencystretch}{2em}
"""

#: The paper the report checks (cited in the report, never a file name).
PAPER = (
    "J. Cotler and S. Rezchikov, ``Renormalization group flow as optimal transport'', "
    r"Phys.\ Rev.\ D \textbf{108}, 025003 (2023)"
)


def _lpa_builder(cfg, ctx):
    from .lpa_section import lpa_section

    return lpa_section(cfg, ctx)


def _section_builders():
    from . import flow_section, lattice_sections, numeric_sections, sign_map_section, symbolic_sections

    return {
        "derivation": lambda cfg, ctx: symbolic_sections.derivation_section(cfg, ctx["theory"]),
        "comparison": lambda cfg, ctx: symbolic_sections.comparison_section(cfg, ctx["theory"]),
        "zerodim": lambda cfg, ctx: symbolic_sections.zero_dim_section(cfg, ctx["theory"]),
        "numeric": numeric_sections.numeric_section,
        "figures": numeric_sections.figures_section,
        "lattice": lattice_sections.lattice_section,
        "onemode": lattice_sections.onemode_section,
        "flow": flow_section.flow_section,
        "sign_map": sign_map_section.sign_map_section,
        "errata": numeric_sections.errata_section,
        "diagrams": symbolic_sections.diagrams_section,
        "lpa": _lpa_builder,
    }


def prepare_out(out: str | os.PathLike, force: bool = False) -> Path:
    """Check that ``out`` can receive a report, before anything is computed.

    Policy: a missing ``out`` is created at the end; an existing *empty* directory is used;
    an existing directory holding an earlier ergsym report (``report.json`` inside) is replaced
    only with ``force=True``; any other existing path is refused (nothing a user made is
    deleted).  Everything is written to a temporary directory next to ``out`` and moved into
    place at the end, so an interrupted run leaves the old report untouched.

    Raises
    ------
    InputError
        ``out`` cannot be written, or holds a report and ``force`` is False.
    """
    from ..errors import InputError

    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise InputError.bad(
                "out",
                str(out),
                "a directory (new or empty, or an earlier report with --force)",
                "it is a file; choose another --out",
            )
        entries = [e.name for e in out.iterdir()]
        if entries:
            if not (out / "report.json").exists():
                raise InputError.bad(
                    "out",
                    str(out),
                    "a new or empty directory, or an earlier ergsym report",
                    "it holds other files; choose another --out",
                )
            if not force:
                raise InputError.bad(
                    "out",
                    str(out),
                    "a directory without an earlier report",
                    "it holds an earlier ergsym report: pass --force to replace it, or choose another --out",
                )
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError.bad(
            "out", str(out), "a directory that can be created", f"cannot create {str(parent)!r}: {exc.strerror}"
        ) from None
    if not os.access(parent, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise InputError.bad(
            "out",
            str(out),
            "a directory in a writable location",
            f"{str(parent)!r} is not writable; choose another --out",
        )
    return out


def _figure_style_scope():
    """A context in which the sections may restyle matplotlib (fonts, sizes): on exit every rc
    parameter is as before, so building a report in a session leaves its matplotlib unchanged."""
    import contextlib  # noqa: PLC0415

    try:
        import matplotlib  # noqa: PLC0415
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        return contextlib.nullcontext()
    return matplotlib.rc_context()


def _move_into_place(tmp: Path, out: Path) -> None:
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


#: sections computed for lambda phi^4/4! only (each explains so for another theory, in no time)
_PHI4_ONLY_SECTIONS = frozenset({"numeric", "lattice", "flow", "onemode"})
#: sections that compare with the paper (one real scalar): for N != 1 they say why they are absent
_PAPER_ONLY_SECTIONS = frozenset({"comparison", "errata"})


def build_report(
    config: ReportConfig | None = None,
    *,
    sections: Sequence[str] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    scheduler: object = None,
) -> ReportResult:
    """Build the report described by ``config`` (defaults: the README's main job).

    Parameters
    ----------
    config : ReportConfig, optional
    sections : sequence of str, optional
        Subset of :data:`SECTION_KEYS` (default all; the lattice section also needs
        ``config.mc``, the flow section ``config.flow``).
    progress : callable, optional
        ``progress(i, n, label)`` before each step (``i`` from 0; the CLI draws a bar on a
        terminal and prints one line per step otherwise), again with the same ``i`` for the
        parts of a long step (each Monte Carlo coupling), and ``progress(n, n, "done")`` at
        the end.
    scheduler : None, str, distributed.Client or runner, optional
        Where the lattice section's Monte Carlo runs go (:func:`ergsym.batch.run_batch`:
        ``"local:2"``, ``"tcp://host:port"``, ...); the numbers are the same in every case
        (docs/ensembles.md).  Default: in this process.

    Returns
    -------
    ReportResult
        Paths inside ``config.out``, written atomically (see :func:`prepare_out`).

    Raises
    ------
    InputError
        A parameter of ``config`` is out of range, or ``out`` cannot be written (raised
        before anything is computed).
    """
    cfg = config or ReportConfig()
    inputs = cfg.inputs()  # every spec string parsed once, here
    theory, cutoff, mc_cutoff = inputs["theory"], inputs["cutoff"], inputs["mc_cutoff"]
    keys = SECTION_KEYS if sections is None else tuple(sections)
    for k in keys:
        if k not in SECTION_KEYS:
            from ..errors import InputError

            raise InputError.bad("sections", k, "a subset of " + ", ".join(SECTION_KEYS))
    if not cfg.mc:
        keys = tuple(k for k in keys if k != "lattice")
    if not cfg.flow:
        keys = tuple(k for k in keys if k != "flow")
    if not getattr(cfg, "lpa", False):
        keys = tuple(k for k in keys if k != "lpa")
    if not cfg.flow or cfg.sign_map == "off":
        keys = tuple(k for k in keys if k != "sign_map")
    final = prepare_out(cfg.out, cfg.force)
    try:  # the real test of a writable location (os.access says yes for e.g. /proc as root)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.resolve().parent))
        honour_umask(tmp, directory=True)  # mkdtemp makes 0700: give the mode mkdir would
    except OSError as exc:
        from ..errors import InputError

        raise InputError.bad(
            "out",
            str(cfg.out),
            "a directory in a writable location",
            f"cannot create a directory in {str(final.resolve().parent)!r}: {exc.strerror}; choose another --out",
        ) from None
    try:
        (tmp / "figures").mkdir()
        warnings = []
        ctx = {
            "theory": theory,
            "cutoff": cutoff,
            "mc_cutoff": mc_cutoff,
            "mc_lattice": inputs["mc_lattice"],
            "out": tmp,
            "warnings": warnings,
            "scheduler": scheduler,
        }
        t_start = time.perf_counter()
        builders = _section_builders()
        done = []
        # sections that only explain why they are left out (phi^4-only sections of another
        # theory) are built without a progress step: no "[6/11] lattice Monte Carlo ... 0.0 s"
        from .on import is_phi4  # noqa: PLC0415

        quiet = _PHI4_ONLY_SECTIONS if not is_phi4(theory) else frozenset()
        if theory.N != 1:  # the paper's comparisons only say why they are absent
            quiet = quiet | _PAPER_ONLY_SECTIONS
        n_steps = sum(k not in quiet for k in keys) + (1 if cfg.pdf else 0)
        i = -1
        for k in keys:
            label = SECTION_LABELS.get(k, k)
            ctx["substep"] = None
            if k not in quiet:
                i += 1
            if progress and k not in quiet:
                progress(i, n_steps, label)
                ctx["substep"] = lambda what, i=i, label=label: progress(i, n_steps, f"{label}: {what}")
            t0 = time.perf_counter()
            with _figure_style_scope():  # the figures' print style must not leak into the caller's matplotlib
                sec = builders[k](cfg, ctx)
            sec.seconds = time.perf_counter() - t0
            done.append(sec)
        tex = tmp / "report.tex"
        when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
        tex.write_text(_document(cfg, done, when=when), encoding="utf-8")
        comp, pdf_ok = None, False
        if cfg.pdf:
            if progress:
                progress(n_steps - 1, n_steps, "compiling the PDF")
            t_tex = time.perf_counter()
            comp = compile_pdf(tex)
            if comp.ok:  # again, with the LaTeX step and the total in the timings table
                timing = {
                    "tool": comp.tool,
                    "tex_seconds": time.perf_counter() - t_tex,
                    "total": time.perf_counter() - t_start,
                }
                tex.write_text(_document(cfg, done, timing, when=when), encoding="utf-8")
                comp = compile_pdf(tex)
            pdf_ok = comp.ok
            if comp.ok:
                warnings.extend(_tex_warnings(tex.with_suffix(".log")))
        seconds = time.perf_counter() - t_start
        js = tmp / "report.json"
        js.write_text(json.dumps(_json(cfg, done, warnings, seconds), indent=2, allow_nan=False), encoding="utf-8")
        _move_into_place(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if progress:
        progress(n_steps, n_steps, "done")
    if comp is not None and comp.ok:
        comp = CompileResult(True, final / "report.pdf", comp.tool, comp.message, comp.log_tail)
    return ReportResult(
        final,
        final / "report.tex",
        final / "report.json",
        final / "report.pdf" if pdf_ok else None,
        comp,
        done,
        seconds,
        warnings,
    )


#: Sections that start on a new page (the diagrams page).
NEW_PAGE = ("diagrams",)

#: What the progress display calls each section.
SECTION_LABELS = {
    "derivation": "derivation",
    "comparison": "comparison with the paper",
    "zerodim": "zero dimensions",
    "numeric": "numbers at Lambda0",
    "figures": "figures (Lambda scan)",
    "lattice": "lattice Monte Carlo",
    "onemode": "one mode",
    "flow": "along the flow",
    "sign_map": "sign of B (mc)",
    "errata": "errata",
    "diagrams": "diagram drawings",
    "lpa": "LPA fixed points",
}


def _tex_warnings(log: Path) -> list:
    """Overfull boxes wider than 5 pt in the TeX log, as warnings."""
    if not log.exists():
        return []
    bad = [float(x) for x in re.findall(r"Overfull \\hbox \(([0-9.]+)pt too wide", log.read_text(errors="replace"))]
    bad = [x for x in bad if x > 5.0]
    return [f"LaTeX: {len(bad)} overfull line(s), widest {max(bad):.0f} pt"] if bad else []


def _json(cfg, sections, warnings, seconds):
    from ..jsonout import envelope  # the one JSON envelope of every command (strict JSON)

    results = {
        "created": datetime.datetime.now().isoformat(timespec="seconds"),
        "seconds": seconds,
        "sections": {
            s.key: {
                "title": s.title,
                "available": s.available,
                "seconds": s.seconds,
                "figures": s.figures,
                "data": s.data,
            }
            for s in sections
        },
    }
    return envelope("report", cfg.to_dict(), results, list(warnings))


def command_line(cfg: ReportConfig) -> str:
    """The ``ergsym report`` command that rebuilds this report (non-default options only)."""
    d = ReportConfig()
    args = ["ergsym", "report"]
    for opt, attr in (
        ("--theory", "theory"),
        ("--N", "N"),
        ("--cutoff", "cutoff"),
        ("--dim", "dim"),
        ("--mass", "mass"),
        ("--Lambda0", "Lambda0"),
        ("--order", "order"),
        ("--scheme", "scheme"),
        ("--mc-lattice", "mc_lattice"),
        ("--mc-cutoff", "mc_cutoff"),
        ("--seed", "seed"),
    ):
        v = getattr(cfg, attr)
        if v != getattr(d, attr):
            args += [opt, f"{v:g}" if isinstance(v, float) else str(v)]
    if tuple(cfg.lams) != tuple(d.lams):
        args += ["--lam", ",".join(f"{x:g}" for x in cfg.lams)]
    if cfg.mc_lams is not None:
        args += ["--mc-lams", ",".join(f"{x:g}" for x in cfg.mc_lams)]
    if cfg.mc_traj is not None:
        args += ["--n-traj", str(cfg.mc_traj)]
    if cfg.quick:
        args.append("--quick")
    if not cfg.mc:
        args.append("--no-mc")
    if not cfg.flow:
        args.append("--no-flow")
    if getattr(cfg, "lpa", False):
        args.append("--lpa")
    if cfg.sign_map != "default":
        args += ["--sign-map", cfg.sign_map]
    return " ".join(args)


_command_line = command_line


def _data(sections, key):
    for s in sections:
        if s.key == key and s.available:
            return s.data
    return None


def headline(cfg: ReportConfig, sections: Sequence[Section]) -> list:
    """The three findings of page 1, each computed from the sections' numbers (LaTeX items)."""
    items = []
    der = _data(sections, "derivation")
    fd = (der or {}).get("one_mode_flow")
    n_comp = cfg.N
    one = "one mode" if n_comp == 1 else f"one site with ${n_comp}$ components"
    if fd:
        r = {row["lam"]: row for row in fd["rows"]}
        r0 = r.get(0.0) or fd["rows"][0]
        ok = all(
            row["B_matches"] and row.get("A_verdict", "disagrees" if not row["A_matches"] else "") == "disagrees"
            for row in fd["rows"]
        )
        items.append(
            (
                r"\textbf{$A$ is not the derivative of the monotone}"
                if ok
                else r"\textbf{$A$ versus $-\Lambda\,\mathrm{d}M/\mathrm{d}\Lambda$: see Sec.~\ref{sec:derivation}}"
            )
            + rf": for {one} along the exact flow ($k={L.g(fd['k'])}$, $D={L.g(fd['D'])}$), "
            rf"$-\Lambda\,\mathrm{{d}}M/\mathrm{{d}}\Lambda={L.sig_round(*r0['fd'])}$ at $\lambda=0$, equal to "
            rf"$B={L.num(r0['B'][0], 6)}$, while the printed expression gives $A={L.num(r0['A'][0], 6)}$"
            + "".join(
                rf"; at $\lambda={L.g(x['lam'])}$: ${L.sig_round(*x['fd'])}$ vs $B={L.num(x['B'][0], 6)}$, "
                rf"$A={L.num(x['A'][0], 6)}$"
                for x in fd["rows"]
                if x is not r0
            )
            + "."
        )
    cmp_ = _data(sections, "comparison")
    if cmp_ and cmp_.get("headline"):
        items.append(r"\textbf{Printed coefficients that are wrong:} " + cmp_["headline"])
    lat = _data(sections, "lattice")
    if lat and isinstance(lat.get("verdict"), dict):
        v = lat["verdict"]
        items.append(
            rf"\textbf{{Lattice Monte Carlo against the exact lattice series "
            rf"({L.cmd(lat['lattice'])}):}} "
            rf"$B$ {L.text(v['B'])}, $A$ {L.text(v['A'])}"
            + (
                rf"; against the printed (5.15): {L.text(v['printed_5_15'])} (Sec.~\ref{{sec:lattice}})."
                if "printed_5_15" in v
                else r" (Sec.~\ref{sec:lattice})."
            )
        )
    om = _data(sections, "onemode")
    if om:
        star = om.get("B_sign_change")
        if star:
            items.append(
                rf"\textbf{{$B<0$ at strong coupling:}} for {one} ($k={L.g(om['k'])}$, "
                rf"$D={L.g(om['D'])}$) $B$ changes sign at $\lambda^*={L.num(star['value'], 5)}$ "
                rf"(root of the direct integration), while $A$ stays positive: the derivative "
                r"of the monotone is not positive non-perturbatively."
            )
        else:
            items.append(rf"$B$ stays positive for {one} up to $\lambda={L.g(max(om['lam']))}$.")
    return items


def _on_abstract(n: int) -> str:
    """The abstract's paragraph for an O(N) report (LaTeX)."""
    return (
        rf" \textbf{{This report is for the O(${n}$) model:}} the field has ${n}$ components $\phi_a$, "
        r"$S_{\rm int}=(\lambda/4!)\int(\phi_a\phi_a)^2$, and $A$, $B$, the four pieces and "
        r"$\langle\phi_a\phi_a\rangle$ are summed over the components (every coefficient is the engine's "
        rf"O($N$) result at $N={n}$). The paper treats one real scalar ($N=1$), so its printed numbers "
        r"and its errata are not compared here (those sections say so); a section that cannot compute "
        rf"$N={n}$ yet says so instead of showing $N=1$ numbers."
    )


def _document(cfg: ReportConfig, sections, timing=None, when=None) -> str:
    """The LaTeX source.  ``timing``: ``{"tool", "tex_seconds", "total"}`` once the PDF has been
    compiled (the timings table then shows the LaTeX step and the total)."""
    from .. import __version__

    when = when or datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    n_comp = cfg.N
    params = [
        ["theory", L.text(cfg.theory)],
        *(
            []
            if n_comp == 1
            else [
                [
                    r"components $N$",
                    rf"${n_comp}$: the O(${n_comp}$) model, $S_{{\rm int}}=(\lambda/4!)\sum_x(\phi_a\phi_a)^2$, "
                    r"$a=1,\ldots," + str(n_comp) + r"$",
                ]
            ]
        ),
        ["scheme", L.text(cfg.scheme)],
        ["cutoff (continuum)", L.cmd(cfg.cutoff)],
        [r"dimension $d$", str(cfg.dim)],
        [r"mass $m$", f"${L.g(cfg.mass)}$"],
        [r"$\Lambda_0$", f"${L.g(cfg.Lambda0)}$"],
        ["order", rf"$O(\lambda^{{{cfg.order}}})$, next order listed"],
        [r"couplings tabulated", ", ".join(f"${L.g(x)}$" for x in cfg.lams)],
        ["mode", "quick (fewer points, short Monte Carlo)" if cfg.quick else "full"],
    ]
    if cfg.mc:
        mc_dim = len(str(cfg.mc_lattice).lower().split("x"))  # the lattice's own dimension
        params.append(
            [
                "lattice cross-check",
                rf"{mc_dim}-d lattice {L.cmd(cfg.mc_lattice)}, cutoff "
                rf"{L.cmd(cfg.mc_cutoff)}, "
                f"$\\lambda\\in\\{{{', '.join(L.g(x) for x in cfg.monte_carlo_lams)}\\}}$, "
                f"{cfg.monte_carlo_traj} trajectories each",
            ]
        )
    short = (
        rf"{model_tex(n_comp)}, {L.cmd(cfg.cutoff)}, $d={cfg.dim}$, $m={L.g(cfg.mass)}$, "
        rf"$\Lambda_0={L.g(cfg.Lambda0)}$, scheme {L.text(cfg.scheme)}, order $\lambda^{{{cfg.order}}}$"
    )
    title = "ergsym report: the Cotler-Rezchikov RG monotone for " + (
        "phi^4 theory" if n_comp == 1 else f"the O({n_comp}) model"
    )
    parts = [
        PREAMBLE,
        r"\hypersetup{pdftitle={"
        + title
        + r"}, pdfauthor={ergsym "
        + L.text(__version__)
        + r"}, pdfsubject={Exact-RG monotone of Cotler and Rezchikov, PRD 108, 025003 (2023): "
        r"derivation, numbers, lattice checks, errata}, pdfkeywords={exact renormalization group, "
        r"RG monotone, phi4, Polchinski flow}}",
        (
            r"\title{ergsym report: the Cotler--Rezchikov RG monotone for \texorpdfstring{$\phi^4$}{phi4} theory}"
            if n_comp == 1
            else r"\title{ergsym report: the Cotler--Rezchikov RG monotone for the "
            rf"\texorpdfstring{{O(${n_comp}$) model $(\phi_a\phi_a)^2$}}{{O({n_comp}) model}}}}"
        ),
        rf"\author{{generated by ergsym {L.text(__version__)}}}",
        rf"\date{{{L.text(when)}}}",
        r"\begin{document}",
        r"\maketitle",
    ]
    items = headline(cfg, sections)
    if items:
        parts.append(
            r"\noindent\fbox{\parbox{\dimexpr\linewidth-2\fboxsep-2\fboxrule}{"
            r"\textbf{Findings} ("
            + short
            + r"):\begin{enumerate}\setlength{\itemsep}{0pt}"
            + "\n".join(r"\item " + x for x in items)
            + r"\end{enumerate}}}"
        )
    parts += [
        r"\begin{abstract}",
        r"This report checks Sec.~V of " + PAPER + r"~\cite{CR} with ergsym: it derives the scale "
        r"derivative of their RG monotone for "
        + (r"scalar $\phi^4$ theory" if n_comp == 1 else rf"the O(${n_comp}$)-symmetric $(\phi_a\phi_a)^2$ theory")
        + r" as exact rational coefficients "
        r"times named loop integrals, both for the expression the paper prints, $A$, and for the "
        r"actual derivative $B=-\Lambda\,\mathrm{d}M/\mathrm{d}\Lambda$; "
        + (r"compares them with the printed numbers; " if n_comp == 1 else "")
        + r"evaluates the integrals for the chosen cutoff with error estimates; checks the "
        r"series against exact zero-dimensional expansions and a lattice Monte Carlo; and follows the "
        r"monotone along the Polchinski flow. "
        + (r"Numbers printed in the paper appear only in columns labelled ``as printed''. " if n_comp == 1 else "")
        + r"Equation numbers (4.5), (5.11)--(5.15), (B7) refer to the paper. "
        r"In tables, digits in parentheses are the error in the last digits shown, "
        r"$1.2345(67)=1.2345\pm0.0067$. "
        + (
            r"A series ``to $O(\lambda^N)$'' keeps every term through "
            r"$\lambda^N$; $O(\lambda^{N+1})$ stands for the terms of total order $N+1$ and higher in the "
            r"couplings, which are dropped."
            if n_comp == 1
            else r"A series ``to $O(\lambda^n)$'' keeps every term through "
            r"$\lambda^n$; $O(\lambda^{n+1})$ stands for the terms of total order $n+1$ and higher in the "
            r"couplings, which are dropped." + _on_abstract(n_comp)
        ),
        r"\end{abstract}",
        r"\section*{Parameters}",
        L.table(["parameter", "value"], params, align="lp{0.7\\linewidth}"),
        r"Reproduce with (in the directory that should receive \texttt{ergsym-report/}; "
        r"add \texttt{-{}-out DIR} to choose another):" + L.cmd_block([command_line(cfg)]),
        r"\tableofcontents",
    ]
    bibliography = r"\begin{thebibliography}{9}\bibitem{CR} " + PAPER + r".\end{thebibliography}"
    for s in sections:
        plain = _plain(s.title) or s.key
        if s.key in NEW_PAGE:
            # the references close the main text; the diagram pages and the timings follow as an
            # appendix (so the references never sit alone on a last page)
            if bibliography:
                parts += [bibliography, r"\appendix"]
                bibliography = ""
            parts.append(r"\clearpage")
        parts.append(rf"\section{{\texorpdfstring{{{s.title}}}{{{plain}}}}}\label{{sec:{s.key}}}")
        if not s.available and "reason" not in s.data:  # an O(N) section's body gives its reason
            parts.append(r"\emph{Section unavailable.}")
        parts.append(s.body)
    rows = [[L.text(s.key), f"{s.seconds:.1f} s"] for s in sections]
    if not cfg.pdf:
        rows.append(["LaTeX", "not compiled"])
    elif timing is None:  # first compilation: the numbers are written by the second one
        rows += [["LaTeX", "\\ldots"], ["total", "\\ldots"]]
    else:
        rows.append([rf"LaTeX ({L.text(timing['tool'])})", f"{timing['tex_seconds']:.1f} s"])
    if timing is not None or not cfg.pdf:
        total = timing["total"] if timing is not None else sum(s.seconds for s in sections)
        rows.append([r"\textbf{total}", rf"\textbf{{{total:.1f} s}}"])
    parts.append(r"\section*{Timings}")
    parts.append(
        L.table(["step", "wall time"], rows, align="lr")
        + r"\par The total runs from the start of the build to the end of the LaTeX step (the "
        r"sections, writing the figures and the source, and compiling); a last pdflatex pass that "
        r"prints these numbers into the table is not counted. "
        rf"Machine: {L.text(platform.platform())}, Python {L.text(platform.python_version())}."
    )
    if bibliography:
        parts.append(bibliography)
    parts.append(r"\end{document}")
    return "\n\n".join(parts) + "\n"


_PLAIN = [
    (r"\Lambda_0", "Λ₀"),
    (r"\Lambda_{\Lambda_0}", "Λ₀"),
    (r"M_{\Lambda_0}", "M_Λ₀"),
    (r"\Lambda", "Λ"),
    (r"\lambda", "λ"),
    (r"\phi", "φ"),
    (r"\mathrm{d}", "d"),
    (r"\partial", "∂"),
    (r"\,", " "),
]
_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _plain(title: str) -> str:
    """PDF bookmark text for a LaTeX title: the math kept as Unicode (``O(λ²)``, ``M_Λ − M_Λ₀``)."""

    def conv(m):
        t = m.group(1)
        for a, b in _PLAIN:
            t = t.replace(a, b)
        t = re.sub(r"\^\{?(\d+)\}?", lambda mm: mm.group(1).translate(_SUP), t)
        t = t.replace("-", " − ")
        t = re.sub(r"\\[A-Za-z]+", "", t).replace("{", "").replace("}", "")
        return t.strip()

    return re.sub(r"\$([^$]*)\$", conv, title).replace("--", "–").strip()
