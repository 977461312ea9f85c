"""ergsym ships a typed public API (PEP 561).

Every public function and method (no leading underscore, in a public module) of the packages
below carries annotations on each parameter and its return; ``ergsym/py.typed`` exists and
setup.cfg ships it as package data.  click command callbacks are exempt: their parameters are
typed by their ``@click.option`` declarations.  Every package and top-level module of ergsym/
is checked (a new one is picked up by ``test_every_module_is_checked``).
"""

import ast
import configparser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "ergsym"
CHECKED = [
    "symbolic",
    "numeric",
    "cutoffs",
    "report",
    "cli",
    "batch",
    "lattice",
    "flow",
    "variational",
    "lpa",
    "__init__.py",
    "conventions.py",
    "errors.py",
    "families.py",
    "inputs.py",
    "jsonout.py",
    "textfmt.py",
]
# TEMPORARY: these three modules are being rewritten on another branch (lattice backends/HMC) at
# the time the rest of lattice/ was annotated; annotate them there and remove this list after merging.
NOT_YET_CHECKED: set = set()


def _files():
    for name in CHECKED:
        p = PKG / name
        for f in [p] if p.suffix == ".py" else sorted(p.rglob("*.py")):
            if f.relative_to(PKG).as_posix() not in NOT_YET_CHECKED:
                yield f


def test_every_module_is_checked():
    """A package or top-level module added to ergsym/ later is not silently left out of CHECKED."""
    top = {
        p.name
        for p in PKG.iterdir()
        if (p.is_dir() and (p / "__init__.py").is_file()) or (p.suffix == ".py" and not p.name.startswith("_"))
    }
    assert top - {"__init__.py"} <= set(CHECKED), sorted(top - set(CHECKED))


def _is_click_command(fn) -> bool:
    return any("command" in ast.unparse(d) or "option" in ast.unparse(d) for d in fn.decorator_list)


def _missing(fn) -> list:
    a = fn.args
    out = [
        p.arg for p in a.posonlyargs + a.args + a.kwonlyargs if p.annotation is None and p.arg not in ("self", "cls")
    ]
    out += [f"*{v.arg}" for v in (a.vararg, a.kwarg) if v is not None and v.annotation is None]
    if fn.returns is None and fn.name != "__init__":
        out.append("return")
    return out


def _public_functions(tree):
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            yield node.name, node
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for sub in node.body:
                if isinstance(sub, ast.FunctionDef) and (sub.name == "__init__" or not sub.name.startswith("_")):
                    yield f"{node.name}.{sub.name}", sub


def test_the_checker_sees_a_missing_annotation():
    tree = ast.parse("def f(x, y: int) -> int: ...\nclass C:\n    def g(self) -> None: ...\n    def h(self, z): ...")
    found = {name: _missing(fn) for name, fn in _public_functions(tree)}
    assert found == {"f": ["x"], "C.g": [], "C.h": ["z", "return"]}


@pytest.mark.parametrize("path", list(_files()), ids=lambda p: str(p.relative_to(PKG)))
def test_public_functions_are_annotated(path):
    if path.name.startswith("_") and path.name != "__init__.py":
        pytest.skip("private module")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = {
        f"{name} (line {fn.lineno})": m
        for name, fn in _public_functions(tree)
        if not _is_click_command(fn) and (m := _missing(fn))
    }
    assert not bad, f"unannotated in {path.relative_to(ROOT)}: {bad}"


def test_py_typed_is_shipped():
    assert (PKG / "py.typed").is_file()
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    assert "py.typed" in cfg["options.package_data"]["ergsym"].split()
