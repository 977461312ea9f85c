"""Diagram drawings: one panel (matplotlib) / one tikzpicture per linked diagram, styles by line kind."""

import pytest

from ergsym.errors import InputError
from ergsym.symbolic import monotone
from ergsym.symbolic.draw import LINE_STYLES, diagram_rows, draw_diagrams, piece_diagrams, tikz_diagrams

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def groups():
    return piece_diagrams(["B"], 2)


def test_piece_diagrams_cover_B_and_add_up(groups):
    from fractions import Fraction

    assert list(groups) == ["eq5.14", "eq5.13", "eq5.12", "eq5.11"]
    # the diagrams' coefficients add up to each piece's series (exact)
    for name, engine in [("eq5.14", "dSdS"), ("eq5.11", "LdShat")]:
        acc = {}
        for d in groups[name]:
            acc[(d.powers, d.family)] = acc.get((d.powers, d.family), Fraction(0)) + d.coeff
        assert {k: v for k, v in acc.items() if v} == {(t.powers, t.family): t.coeff for t in monotone(2, engine).terms}
    assert piece_diagrams("P1", 1).keys() == {"eq5.14"}


def test_one_axes_per_diagram_and_nonempty_panels(groups, tmp_path):
    n = sum(len(v) for v in groups.values())
    fig = draw_diagrams(groups)
    assert len(fig.axes) == n
    for ax in fig.axes:
        assert ax.patches, "a panel without lines"
        assert ax.get_title()
    path = tmp_path / "d.png"
    fig.savefig(path)
    assert path.stat().st_size > 5000


def test_line_styles_follow_the_kind():
    ds = piece_diagrams(["eq5.14"], 1)["eq5.14"]
    fig = draw_diagrams(ds)
    styles = {p.get_linestyle() for ax in fig.axes for p in ax.patches}
    # D lines dashed, K~ lines solid, the amputated 1/K~ leg of O(1) dash-dotted
    assert "--" in styles and "-" in styles and "-." in styles
    assert LINE_STYLES["Delta"][0] == ":"


def test_tikz_one_picture_per_diagram(groups):
    tex = tikz_diagrams(groups)
    n = sum(len(v) for v in groups.values())
    assert tex.count(r"\begin{tikzpicture}") == n == tex.count(r"\end{tikzpicture}")
    assert "dashed" in tex and tex.count("{") == tex.count("}")


def test_rows_and_refusals(groups):
    rows = diagram_rows(groups["eq5.14"])
    assert rows[0]["monomial"] == "1" and rows[0]["family"] == "f0" and rows[0]["coefficient"] == "1/2"
    with pytest.raises(InputError):
        draw_diagrams([])
    with pytest.raises(InputError):
        tikz_diagrams({})
    with pytest.raises(InputError):
        piece_diagrams(["eq5.99"], 1)
