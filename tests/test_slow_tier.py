"""The slow tier's list names tests that exist (a renamed test would drop out of it silently)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _slow_tests() -> dict:
    spec = importlib.util.spec_from_file_location("_ergsym_conftest", HERE / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.SLOW_TESTS


def _missing(keys, folder: Path) -> list:
    """The ``file::function[params]`` keys whose file has no ``def function(``."""
    out = []
    for key in keys:
        fname, _, rest = key.partition("::")
        func = rest.split("[")[0]
        path = folder / fname
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        if not re.search(rf"^\s*(async\s+)?def {re.escape(func)}\(", text, flags=re.MULTILINE):
            out.append(key)
    return out


def test_every_slow_entry_names_an_existing_test_function():
    missing = _missing(_slow_tests(), HERE)
    assert not missing, "SLOW_TESTS names tests that do not exist (renamed?); update tests/conftest.py:\n" + "\n".join(
        missing
    )


def test_the_check_catches_a_renamed_test_and_a_missing_file(tmp_path):
    (tmp_path / "test_a.py").write_text("def test_new_name(x):\n    pass\n", encoding="utf-8")
    keys = ["test_a.py::test_new_name[1]", "test_a.py::test_old_name", "test_gone.py::test_new_name"]
    assert _missing(keys, tmp_path) == keys[1:]
