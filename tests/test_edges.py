"""Edge cases found by the CLI fuzz test after the layers were merged (each once a traceback)."""

import math

import pytest

from ergsym.cli import main
from ergsym.cutoffs import parse_cutoff
from ergsym.errors import InputError
from ergsym.lattice.crosscheck import compare_with_series
from ergsym.lattice.stats import Stats
from ergsym.lattice.sums import lattice_propagators
from ergsym.lattice.theory import MAX_LATTICE_MASS, MIN_LATTICE_MASS, LatticeTheory

BUMP = "bump:eps=0.5,lambda_max=2"


@pytest.mark.parametrize("mass", [6.1e16, MAX_LATTICE_MASS * 1.01, MIN_LATTICE_MASS / 2])
def test_lattice_mass_outside_the_representable_range_is_refused(mass):
    with pytest.raises(InputError, match=r"mass=.*lattice units"):
        LatticeTheory.from_cutoff((3, 2), parse_cutoff(BUMP), mass, 1.6)
    LatticeTheory.from_cutoff((3, 2), parse_cutoff(BUMP), MAX_LATTICE_MASS, 1.6)  # the end points are fine
    LatticeTheory.from_cutoff((3, 2), parse_cutoff(BUMP), MIN_LATTICE_MASS, 1.6)


def test_cli_exit_2_for_a_huge_lattice_mass(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["crosscheck", "--lattice", "3x2", "--Lambda", "1.6", "--mass", "6.1e16", "--no-progress"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "mass=6.1e+16" in err and "Traceback" not in err


def test_c2_fit_ignores_errors_whose_square_underflows():
    # sigma = 1e-200: sigma**2 underflows to 0 (this raised ZeroDivisionError); such a point gives no weight
    st = Stats(mean=1.0, error_of_mean=1e-200, variance=0.0, tau_corr=0.5, n_eff=10.0)
    pts, c2, c2e, z = compare_with_series([0.05, 0.1], [st, st], [1.0, 0.0, 0.0])
    assert c2 is None and c2e is None and z is None
    assert all(p.z is None or math.isfinite(p.z) for p in pts)


def test_report_out_where_no_directory_can_be_made_exits_2(capsys):
    # os.access reports /proc as writable for root, but nothing can be created there
    with pytest.raises(SystemExit) as exc:
        main(["report", "--quick", "--out", "/proc/ergsym-report-test"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "out='/proc/ergsym-report-test'" in err and "internal error" not in err


def test_building_a_report_leaves_matplotlib_settings_alone(tmp_path):
    # the report's print style (serif cmr10, 8.5 pt) once stayed set after build_report, and later
    # figures with Unicode labels warned about glyphs missing from cmr10
    import matplotlib

    from ergsym.report import ReportConfig, build_report

    before = {k: matplotlib.rcParams[k] for k in ("font.family", "font.serif", "font.size", "mathtext.fontset")}
    build_report(
        ReportConfig(out=str(tmp_path / "r"), quick=True, mc=False, flow=False, pdf=False, order=1),
        sections=("figures",),
    )
    after = {k: matplotlib.rcParams[k] for k in before}
    assert after == before


@pytest.mark.parametrize("mass", [1e300, 4.2e153])
def test_exact_lattice_sums_refuse_unrepresentable_masses(mass, capsys):
    # flow --lattice once printed nan (4.2e153) or raised OverflowError (1e300)
    with pytest.raises(InputError, match="lattice units"):
        lattice_propagators((2,), parse_cutoff(BUMP), mass, 1.0)
    with pytest.raises(SystemExit) as exc:
        main(["flow", "--order", "1", "--lattice", "2", "--mass", repr(mass)])
    assert exc.value.code == 2 and "internal error" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["monotone", "--order", "1", "--lattice", "1x4", "--cutoff", BUMP, "--mass", "1", "--Lambda", "1"],
        ["flow", "--order", "1", "--lattice", "1x4"],
        ["mc", "--lattice", "1x4", "--no-progress"],
    ],
)
def test_every_command_validates_a_lattice_the_same_way(argv, capsys):
    # one validation (ergsym.inputs.as_lattice): an extent 1 in d >= 2 is refused everywhere
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and "extents >= 2" in capsys.readouterr().err
