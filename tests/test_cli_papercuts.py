"""A new user's papercuts in the command line (issue 19): each test failed before its fix."""
import builtins
import os

import pytest

from ergsym.cli import common, main
from ergsym.errors import InputError


def _run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return exc.value.code, out.out, out.err


# --- output files: the probe never creates the path it validates ------------------------------

def test_output_file_probe_never_creates_the_path(tmp_path, monkeypatch):
    # A process waiting for a checkpoint to appear must never see the start-up probe: record
    # every path opened while validating and check the target is not among them.
    target = tmp_path / "run.npz"
    opened = []
    real_open, real_os_open = builtins.open, os.open

    def spy_open(file, *a, **k):
        opened.append(os.fspath(file) if not isinstance(file, int) else file)
        return real_open(file, *a, **k)

    def spy_os_open(file, *a, **k):
        opened.append(os.fspath(file))
        return real_os_open(file, *a, **k)

    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(os, "open", spy_os_open)
    assert common.output_file(target, "--checkpoint", (), force=False) == target
    monkeypatch.undo()
    assert str(target) not in opened
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []  # the sibling probe file is gone too


def test_output_file_probe_still_refuses_unwritable_places(tmp_path):
    with pytest.raises(InputError, match="--plot.*at most"):
        common.output_file(tmp_path / ("x" * 300 + ".png"), "--plot", common.PLOT_EXTENSIONS)
    if os.path.isdir("/proc/self"):
        with pytest.raises(InputError, match="--checkpoint"):
            common.output_file("/proc/self/ergsym-test.npz", "--checkpoint", ())
