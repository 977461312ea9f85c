"""Drawings of linked diagrams: matplotlib figures and TikZ.

Each diagram of :func:`ergsym.symbolic.wick.diagrams` is drawn with its vertices
(squares: the operator's vertices 0, 1; dots: interaction vertices) and its lines:

=========  ==========================  ==============
kind       line function               style
=========  ==========================  ==============
``K``      ``K~ = K_Lambda/(p^2+m^2)``  solid
``D``      ``D = Lambda dK~/dLambda``  dashed
``Delta``  ``K~_Lambda0 - K~_Lambda``  dotted
``Ginv``   ``1/K~`` (amputated leg)    dash-dotted
``id``     the two ends coincide       thin grey
=========  ==========================  ==============

and a caption with its coupling monomial, coefficient, weight (Wick contractions times the
vertex factors) and family.  The diagrams are those of the pieces (5.11)-(5.14) of Cotler &
Rezchikov, PRD 108, 025003 (2023).

matplotlib is imported inside :func:`draw_diagrams`; :func:`tikz_diagrams` needs nothing.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING

from ..errors import InputError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .theory import Theory

__all__ = ["piece_diagrams", "diagram_rows", "draw_diagrams", "tikz_diagrams", "LINE_STYLES"]

#: line kind -> (matplotlib linestyle, colour, TikZ style, legend label)
LINE_STYLES = {
    "K": ("-", "black", "solid", r"$\tilde K$ (free propagator)"),
    "D": ("--", "tab:blue", "dashed, blue", r"$D = \Lambda\partial_\Lambda\tilde K$"),
    "Delta": (":", "tab:green", "dotted, thick, green!50!black", r"$\Delta = \tilde K_{\Lambda_0} - \tilde K_\Lambda$"),
    "Ginv": ("-.", "tab:red", "dash dot, red", r"$1/\tilde K$ (amputated leg)"),
    "id": ("-", "0.7", "gray!60, very thin", "identified points"),
}

#: the operator's two vertices (the ends of its kernel line) are 0 and 1 in every diagram
N_OPERATOR_VERTICES = 2

_CANON = {"eq5.11": "LdShat", "eq5.12": "dShatdShat", "eq5.13": "dSdShat", "eq5.14": "dSdS"}


def _kind(label: str) -> str:
    if label in LINE_STYLES:
        return label
    if "Δ" in label or "Delta" in label:
        return "Delta"
    if label.startswith("D"):
        return "D"
    return "K"


def _frac(c) -> str:
    if not isinstance(c, (int, Fraction)):  # a polynomial in N (symbolic O(N) weight)
        return str(c)
    c = Fraction(c)
    return str(c.numerator) if c.denominator == 1 else f"{c.numerator}/{c.denominator}"


def piece_diagrams(
    forms: str | list[str] | tuple[str, ...], order: int, scheme: str = "bare", theory: Theory | None = None
) -> dict:
    """The linked diagrams of each piece named in ``forms`` (A and B expand to their pieces).

    Parameters
    ----------
    forms : iterable of str
        ``"A"``, ``"B"``, canonical piece names ``eq5.11`` .. ``eq5.14`` or their aliases.
    order : int
    scheme : {"bare", "normal-ordered"}
    theory : Theory, optional (phi^4 by default)

    Returns
    -------
    dict
        canonical piece name -> list of :class:`~ergsym.symbolic.wick.Diagram`.
    """
    from ..conventions import canonical_piece
    from .monotone import FORMS, PIECES
    from .operators import cdot, lambda_dshat
    from .theory import PHI4
    from .wick import diagrams

    theory = PHI4 if theory is None else theory
    names = []
    for f in [forms] if isinstance(forms, str) else forms:
        if f in FORMS:
            names += [canonical_piece(n) for n in FORMS[f]]
        else:
            names.append(canonical_piece(f, param="form"))
    out = {}
    for name in dict.fromkeys(names):
        spec = PIECES[_CANON[name]]
        op = (
            lambda_dshat(theory, scheme, coeff=-2)
            if spec is None
            else cdot(spec[0], spec[1], theory, scheme, coeff=spec[2])
        )
        out[name] = list(diagrams(op, theory, order, scheme))
    return out


def _monomial(theory, powers) -> str:
    names = theory.names if theory is not None else tuple(f"g{i}" for i in range(len(powers)))
    return "*".join(n if p == 1 else f"{n}^{p}" for n, p in zip(names, powers) if p) or "1"


def diagram_rows(diagrams: list, theory: Theory | None = None) -> list:
    """Plain-data description of each diagram (what ``monotone --diagrams --json`` prints)."""
    rows = []
    for d in diagrams:
        n = 1 + max((max(i, j) for i, j, *_ in d.edges), default=-1)
        rows.append(
            {
                "order": sum(d.powers),
                "monomial": _monomial(theory, d.powers),
                "coefficient": _frac(d.coeff),
                "weight": _frac(d.weight),
                "family": d.family.name,
                "n_vertices": n,
                "operator_vertices": min(N_OPERATOR_VERTICES, n),
                "edges": [list(e) for e in d.edges],
            }
        )
    return rows


def _as_groups(diagrams) -> dict:
    if isinstance(diagrams, dict):
        return {str(k): list(v) for k, v in diagrams.items()}
    return {"": list(diagrams)}


def _layout(n: int):
    """Vertex positions on a unit circle, vertex 0 on the left."""
    if n == 1:
        return [(0.0, 0.0)]
    return [(math.cos(math.pi - 2 * math.pi * i / n), math.sin(math.pi - 2 * math.pi * i / n)) for i in range(n)]


def _expanded_edges(d):
    """``(i, j, kind, label)`` for every line (multiplicities expanded)."""
    out = []
    for e in d.edges:
        i, j, label = e[0], e[1], e[2]
        count = e[3] if len(e) > 3 else 1
        out += [(i, j, _kind(str(label)), str(label))] * int(count)
    return out


def _caption(name, d, theory) -> str:
    head = f"{name}: " if name else ""
    return f"{head}{_monomial(theory, d.powers)}  c={_frac(d.coeff)}  w={_frac(d.weight)}\n{d.family.name}"


def _geometry(d):
    """Per diagram: positions, and per line either ('arc', i, j, rad) or ('loop', i, angle)."""
    edges = _expanded_edges(d)
    n = 1 + max((max(i, j) for i, j, _, _ in edges), default=0)
    pos = _layout(n)
    pairs, loops, shapes = {}, {}, []
    for e in edges:
        key = (min(e[0], e[1]), max(e[0], e[1]))
        (loops if e[0] == e[1] else pairs).setdefault(key, []).append(e)
    for (i, j), es in pairs.items():
        m = len(es)
        for k, e in enumerate(es):
            shapes.append(("arc", i, j, (k - (m - 1) / 2) * 0.45, e[2]))
    for (i, _), es in loops.items():
        x, y = pos[i]
        base = math.atan2(y, x) if (x or y) else math.pi / 2
        for k, e in enumerate(es):
            shapes.append(("loop", i, base + (k - (len(es) - 1) / 2) * 0.9, 0, e[2]))
    return n, pos, shapes


def draw_diagrams(diagrams: list, theory: Theory | None = None, ncols: int = 4, panel_size: float = 2.2) -> Figure:
    """One panel per diagram: lines styled by kind, caption with monomial, coefficient,
    weight and family.

    Parameters
    ----------
    diagrams : list of Diagram, or dict name -> list of Diagram
        E.g. :func:`piece_diagrams` output or :func:`ergsym.symbolic.wick.diagrams`.
    theory : Theory, optional
        For the coupling names in the captions.
    ncols : int
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        With exactly one axes per diagram (plus none for the legend, which is a figure
        legend).  Save it with ``fig.savefig(path)``.

    Raises
    ------
    InputError
        No diagrams, or ``ncols < 1``.
    """
    from matplotlib.figure import Figure  # noqa: PLC0415
    from matplotlib.lines import Line2D  # noqa: PLC0415
    from matplotlib.patches import Circle, FancyArrowPatch  # noqa: PLC0415

    groups = _as_groups(diagrams)
    items = [(name, d) for name, ds in groups.items() for d in ds]
    if not items:
        raise InputError.bad("diagrams", diagrams, "at least one diagram")
    if not isinstance(ncols, int) or ncols < 1:
        raise InputError.bad("ncols", ncols, "an integer >= 1")
    ncols = min(ncols, len(items))
    nrows = math.ceil(len(items) / ncols)
    fig = Figure(figsize=(panel_size * ncols, panel_size * nrows + 0.6))
    used = set()
    for k, (name, d) in enumerate(items):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        ax.set_aspect("equal")
        ax.set_xlim(-1.9, 1.9)
        ax.set_ylim(-1.9, 1.9)
        ax.axis("off")
        n, pos, shapes = _geometry(d)
        for shape, i, j, rad, kind in shapes:
            ls, color, _, _ = LINE_STYLES[kind]
            used.add(kind)
            lw = 0.8 if kind == "id" else 1.6
            if shape == "arc":
                ax.add_patch(
                    FancyArrowPatch(
                        pos[i],
                        pos[j],
                        arrowstyle="-",
                        connectionstyle=f"arc3,rad={rad}",
                        linestyle=ls,
                        color=color,
                        lw=lw,
                        shrinkA=0,
                        shrinkB=0,
                    )
                )
            else:
                x, y = pos[i]
                r = 0.38
                ax.add_patch(
                    Circle(
                        (x + r * math.cos(j), y + r * math.sin(j)), r, fill=False, linestyle=ls, edgecolor=color, lw=lw
                    )
                )
        nop = min(N_OPERATOR_VERTICES, n)
        for v, (x, y) in enumerate(pos):
            ax.plot([x], [y], marker="s" if v < nop else "o", color="black", markersize=6 if v < nop else 5)
        ax.set_title(_caption(name, d, theory), fontsize=7)
    handles = [
        Line2D([0], [0], linestyle=LINE_STYLES[k][0], color=LINE_STYLES[k][1], label=LINE_STYLES[k][3])
        for k in LINE_STYLES
        if k in used
    ]
    handles += [
        Line2D([0], [0], marker="s", color="black", linestyle="", label="operator vertex"),
        Line2D([0], [0], marker="o", color="black", linestyle="", label="interaction vertex"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=min(4, len(handles)), fontsize=7, frameon=False)
    fig.subplots_adjust(bottom=0.6 / (panel_size * nrows + 0.6) + 0.02, hspace=0.5)
    return fig


def _tex_escape(s: str) -> str:
    out = s.replace("\\", r"\textbackslash{}")
    for a, b in (
        ("_", r"\_"),
        ("^", r"\^{}"),
        ("#", r"\#"),
        ("&", r"\&"),
        ("%", r"\%"),
        ("·", r"$\cdot$"),
        ("Δ", r"$\Delta$"),
        ("~", r"\textasciitilde{}"),
    ):
        out = out.replace(a, b)
    return out


def tikz_diagrams(diagrams: list, theory: Theory | None = None, scale: float = 0.8) -> str:
    """The same drawings as TikZ: one ``tikzpicture`` per diagram (for the report).

    Needs ``\\usepackage{tikz}`` in the preamble.  Returns a string with one
    ``\\begin{tikzpicture}`` ... ``\\end{tikzpicture}`` block per diagram, each followed by
    its caption as a node, separated by ``\\quad``.
    """
    groups = _as_groups(diagrams)
    items = [(name, d) for name, ds in groups.items() for d in ds]
    if not items:
        raise InputError.bad("diagrams", diagrams, "at least one diagram")
    header = f"% {len(items)} diagrams; solid K~, dashed D, dotted Delta, dash-dotted 1/K~, grey: identified points\n"
    chunks = []
    for name, d in items:
        n, pos, shapes = _geometry(d)
        lines = [rf"\begin{{tikzpicture}}[scale={scale}, baseline=(current bounding box.center)]"]
        nop = min(N_OPERATOR_VERTICES, n)
        for v, (x, y) in enumerate(pos):
            shape = "rectangle" if v < nop else "circle"
            lines.append(rf"  \node[{shape}, fill, inner sep=1.5pt] (v{v}) at ({x:.3f},{y:.3f}) {{}};")
        for shape, i, j, rad, kind in shapes:
            style = LINE_STYLES[kind][2]
            if shape == "arc":
                bend = (
                    ""
                    if abs(rad) < 1e-9
                    else (f"bend left={abs(rad) * 60:.0f}" if rad > 0 else f"bend right={abs(rad) * 60:.0f}")
                )
                lines.append(rf"  \draw[{style}] (v{i}) to[{bend}] (v{j});")
            else:
                ang = math.degrees(j)
                lines.append(
                    rf"  \draw[{style}] (v{i}) to[out={ang - 35:.0f}, in={ang + 35:.0f}, "
                    rf"looseness=12] (v{i});"
                )
        cap = _tex_escape(_caption(name, d, theory)).replace("\n", r"\\")
        lines.append(rf"  \node[align=center, font=\tiny] at (0,-1.9) {{{cap}}};")
        lines.append(r"\end{tikzpicture}")
        chunks.append("\n".join(lines))
    return header + "\n\\quad\n".join(chunks) + "\n"
