"""Shared pytest configuration.

hypothesis runs with a deterministic profile ("ci": derandomized, no deadline because the
2-core CI machine is shared) unless HYPOTHESIS_PROFILE selects another ("dev" explores more).

The fast tier, ``python -m pytest -m "not slow"``, leaves out every test marked ``slow``: the
ones decorated in their files, the ones named in :data:`SLOW_TESTS` below (measured at more
than ~2 s of wall time on the shared, loaded 2-core machine) and the users of the fixtures in
:data:`SLOW_FIXTURES`; marked here rather than in their files so that the files stay as they
are.  CI runs the full suite, these included.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

#: Test ids (``file::function`` or ``file::function[params]``) that belong to the slow tier,
#: with their wall seconds in the profile of 2026-12-07 (loaded machine, load ~3-8).
SLOW_TESTS = {
    "test_flow_numeric.py::test_scan_M_agrees_with_single_point_M_and_B_integrates_to_M": 72,
    "test_general_blocks.py::test_k4_block_d4_error_is_honest": 31,
    "test_numeric_scales.py::test_far_corner_d4_mass_1e_3_honest": 23,
    "test_json_schema.py::test_json_output_matches_schema[variational-0]": 23,
    "test_numeric_momentum.py::test_sunset_momentum_vs_position": 23,
    "test_flow_modes.py::test_B_series_is_the_derivative_of_M_along_the_flow[two-modes]": 15,
    "test_numeric_momentum.py::test_other_melons_two_methods[lines2-4]": 15,
    "test_numeric_momentum.py::test_other_melons_two_methods[lines0-3]": 11,
    "test_report.py::test_every_printed_command_runs": 11,
    "test_lattice_mc_cli.py::test_engine_series_matches_quadrature_on_three_sites": 9,
    "test_flow_modes.py::test_two_modes_strong_coupling_is_finite_with_honest_error[100.0-0.99]": 9,
    "test_general_blocks.py::test_gaussian_k4_exact_oracle[widths0-4]": 9,
    "test_numeric_momentum.py::test_generic_melon_block_momentum": 8,
    "test_general_blocks.py::test_gaussian_k4_exact_oracle[widths1-3]": 7,
    "test_numeric_scan.py::test_f2_lambda_mass_scan_matches_points[4]": 7,
    "test_engine.py::test_lattice_series_equals_exact_gaussian_expansion": 7,
    "test_numeric_momentum.py::test_other_melons_two_methods[lines1-1]": 6,
    "test_numeric_scan.py::test_f2_lambda_mass_scan_matches_points[1]": 6,
    "test_general_blocks.py::test_gaussian_k4_exact_oracle[widths0-3]": 6,
    "test_flow_numeric.py::test_delta_melon_is_consistent_with_the_sunset_identity": 6,
    "test_numeric_momentum.py::test_f2_two_methods_agree[3]": 6,
    "test_report.py::test_cli_report_minimal": 6,
    "test_numeric_tails.py::test_free_propagator_matches_radial_transform[1-0.001-50.0]": 6,
    "test_numeric_scan.py::test_f2_lambda_mass_scan_matches_points[2]": 5,
    # fast-tier profile of 2026-12-07 08:00 (two suites at once, load ~12): >= 2 s of wall time
    "test_cli_monotone.py::test_not_converged_integrals_are_marked_in_text_and_json": 19.2,
    "test_edges.py::test_building_a_report_leaves_matplotlib_settings_alone": 9.8,
    "test_report.py::test_numbers_consistent": 8.4,
    "test_channel.py::test_flowed_phi2_against_series_one_mode": 8.3,
    "test_numeric_tails.py::test_free_propagator_matches_radial_transform[2-0.001-300.0]": 7.6,
    "test_report_errata.py::test_errata_command[4.10:python": 6.5,
    "test_engine.py::test_zero_dim_series_equal_mpmath_taylor_coefficients[B]": 6.0,
    "test_general_blocks.py::test_gaussian_k4_exact_oracle[widths1-4]": 5.4,
    "test_variational_jko.py::test_radial_gradient_matches_jax_autodiff": 5.2,
    "test_variational_onemode.py::test_exact_reference_against_mpmath_and_free_closed_form": 4.9,
    "test_lattice_mc_cli.py::test_crosscheck_8x8_bump_z_scores": 4.6,
    "test_draw.py::test_one_axes_per_diagram_and_nonempty_panels": 4.5,
    "test_flow_numeric.py::test_worked_example_quick": 4.2,
    "test_flow_modes.py::test_exact_B_strong_coupling_integrates_to_mpmath_difference[1.0]": 4.2,
    "test_numeric_tails.py::test_free_propagator_matches_radial_transform[2-0.05-7.0]": 4.1,
    "test_engine.py::test_zero_dim_series_equal_mpmath_taylor_coefficients[dSdS]": 4.0,
    "test_numeric.py::test_monotone_order3_family_set_all_evaluate_shared_transforms": 3.9,
    "test_engine.py::test_zero_dim_series_equal_mpmath_taylor_coefficients[A]": 3.8,
    "test_variational_onemode.py::test_jko_converges_to_exact_flowed_law[30.0]": 3.7,
    "test_numeric_scan.py::test_mass_scan_and_named_scan": 3.7,
    "test_examples.py::test_example_runs[one_mode_strong_coupling.py]": 3.5,
    "test_flow_modes.py::test_exact_B_strong_coupling_integrates_to_mpmath_difference[100.0]": 3.5,
    "test_engine.py::test_zero_dim_printed_5_15_disagrees_with_quadrature": 3.4,
    "test_engine.py::test_several_couplings_equal_exact_expansion": 3.4,
    "test_lattice_mc.py::test_free_theory_exact": 3.4,
    "test_hmc_omelyan.py::test_omelyan_samples_the_exact_distribution": 3.4,
    "test_variational_onemode.py::test_exact_monotone_agrees_with_flow_modes": 3.4,
    "test_numeric_scan.py::test_long_scans_are_grouped_and_keep_the_input_order": 3.3,
    "test_engine.py::test_zero_dim_series_equal_mpmath_taylor_coefficients[dSdShat]": 3.2,
    "test_examples.py::test_example_runs[flow_monotone.py]": 3.2,
    "test_lattice_mc.py::test_schwinger_dyson_identities": 3.1,
    "test_variational_onemode.py::test_jko_converges_to_exact_flowed_law[1.0]": 3.1,
    "test_flow_numeric.py::test_lattice_monotone_difference_free_part_and_integral": 3.1,
    "test_engine.py::test_normal_ordered_scheme_equals_exact_expansion": 3.1,
    "test_batch.py::test_store_round_trip_is_exact": 3.0,
    "test_flow_numeric.py::test_numeric_layer_path_agrees_with_former_evaluator[4-1.0-1.0-0.6]": 2.8,
    "test_lattice_sums.py::test_general_families_equal_exact_fraction_sums[shape7-8]": 2.7,
    "test_channel.py::test_channel_law_is_the_polchinski_solution_one_mode[5.0-0.6]": 2.7,
    "test_engine.py::test_lattice_series_order3_equals_exact_gaussian_expansion": 2.6,
    "test_cli_fuzz.py::test_monotone_never_crashes": 2.6,
    "test_lattice_mc.py::test_oracle_one_site_against_mpmath": 2.6,
    "test_lattice_mc.py::test_metropolis_baseline_tiny": 2.5,
    "test_numeric.py::test_ring_equals_melon_by_parseval[4]": 2.5,
    "test_lattice_mc.py::test_free_one_mode_ratios": 2.5,
    "test_general_blocks.py::test_omega_table_matches_scipy_bessel[2]": 2.4,
    "test_lattice_sums.py::test_general_families_equal_exact_fraction_sums[shape6-7]": 2.3,
    "test_examples.py::test_example_runs[reproduce_sec5.py]": 2.3,
    "test_variational_ot.py::test_sliced_and_sinkhorn_against_exact": 2.3,
    "test_general_blocks.py::test_omega_table_matches_scipy_bessel[4]": 2.3,
    "test_report_errata.py::test_errata_command[5.15:python": 2.2,
    "test_engine.py::test_engine_reproduces_previous_engine_exactly[phi4+phi6-bare-A-O4]": 2.2,
    "test_general_blocks.py::test_omega_table_matches_scipy_bessel[6]": 2.1,
    "test_engine.py::test_zero_dim_series_equal_mpmath_taylor_coefficients[LdShat]": 2.1,
    "test_engine.py::test_zero_dim_series_equal_mpmath_taylor_coefficients[dShatdShat]": 2.0,
    "test_numeric_scales.py::test_far_corner_small_eps_d1_against_momentum": 2.0,
    # fast-tier profile of 2026-12-07 08:10 (load ~5): the longest remaining, >= 1.3 s
    "test_report_errata.py::test_errata_command[4.10:python worked_examples/one_mode_strong_c]": 2.7,
    "test_variational_jko.py::test_algorithm2_adam_agrees_with_deterministic_step": 1.6,
    "test_numeric_reach.py::test_custom_wrapping_exp_f2_and_ring[3]": 1.5,
    "test_monotone_flow.py::test_engine_series_for_B_matches_flow_derivative[2-cs1]": 1.4,
    "test_numeric_momentum.py::test_f2_eps01_light_mass_d1": 1.4,
    "test_report_errata.py::test_errata_command[5.15:python worked_examples/reproduce_sec5.py]": 1.4,
    "test_engine.py::test_engine_reproduces_previous_engine_exactly[phi4+phi6-bare-B-O4]": 1.3,
    "test_numeric_momentum.py::test_f2_two_methods_agree[1]": 1.3,
    # fast-tier profile of 2026-12-07 08:15 (load ~3): >= 0.7 s, quick smoke checks kept fast
    "test_report.py::test_other_theory_marks_phi4_sections": 1.5,
    "test_monotone_flow.py::test_B_is_minus_Lambda_dM_dLambda_and_A_is_not[3.0-2-cs1]": 1.4,
    "test_flow_cli.py::test_scan_plot_and_no_overwrite_without_force": 1.3,
    "test_monotone_flow.py::test_B_is_minus_Lambda_dM_dLambda_and_A_is_not[0.0-2-cs1]": 1.2,
    "test_monotone_flow.py::test_B_is_minus_Lambda_dM_dLambda_and_A_is_not[0.4-2-cs1]": 1.2,
    "test_examples.py::test_example_runs[lattice_crosscheck.py]": 1.2,
    "test_engine.py::test_engine_reproduces_previous_engine_exactly[phi4+phi6-bare-dSdS-O4]": 1.2,
    "test_lattice_mc.py::test_oracle_free_exact": 1.2,
    "test_general_blocks.py::test_omega_table_matches_scipy_bessel[3]": 1.1,
    "test_general_blocks.py::test_omega_table_matches_scipy_bessel[5]": 1.1,
    "test_numeric_scan.py::test_f2_lambda_mass_scan_matches_points[3]": 1.1,
    "test_numeric_scan.py::test_evaluate_series_lambda_scan_matches_points": 1.0,
    "test_numeric_tails.py::test_split_agrees_with_position_method_at_moderate_ratio[3]": 1.0,
    "test_lattice_sums.py::test_general_families_equal_exact_fraction_sums[shape5-6]": 1.0,
    "test_numeric_scales.py::test_new_start_radius_against_the_old_one[bump:eps=0.1,lambda_max=2-5-1.0-0.05]": 1.0,
    "test_cli_monotone.py::test_diagrams_draw_one_panel_per_diagram": 1.0,
    "test_report_errata.py::test_errata_command[B7:python -m ergsym.report.errata --show B7]": 0.9,
    "test_numeric_tails.py::test_error_bar_of_a_small_inner_radius_covers_the_converged_value": 0.9,
    "test_general_blocks.py::test_gaussian_k4_exact_oracle[widths0-2]": 0.9,
    "test_report.py::test_smooth_cutoffs_draw[exp:n=2]": 0.9,
    "test_report.py::test_smooth_cutoffs_draw[fermi:a=10]": 0.9,
    "test_numeric_tails.py::test_far_ratio_is_routed_to_the_split_and_agrees_with_momentum": 0.9,
    "test_numeric_tails.py::test_free_propagator_matches_radial_transform[3-0.02-64.0]": 0.8,
    "test_examples.py::test_example_runs[integrals_vs_Lambda_eps.py]": 0.8,
    "test_numeric_scales.py::test_small_start_radius_equals_the_old_one_d4": 0.8,
    "test_report_errata.py::test_errata_command[B7:python worked_examples/integrals_vs_Lamb]": 0.8,
    "test_numeric_reach.py::test_custom_wrapping_exp_f2_and_ring[1]": 0.8,
    "test_mc_batch.py::test_strong_coupling_against_quadrature[shape1-kt1-1000.0]": 0.8,
    "test_numeric_tails.py::test_split_agrees_with_position_method_at_moderate_ratio[1]": 0.8,
    "test_report_errata.py::test_errata_command[4.20:python worked_examples/free_field_monoto]": 0.8,
    "test_examples.py::test_example_runs[free_field_monotone.py]": 0.8,
    "test_report_errata.py::test_errata_command[4.5:python worked_examples/free_field_monoto]": 0.7,
}
#: Fixtures whose users all belong to the slow tier (the quick report: ~23 s to build).
SLOW_FIXTURES = {"quick_report"}


def pytest_collection_modifyitems(config, items):
    """Add the ``slow`` marker to the tests named in :data:`SLOW_TESTS`."""
    slow = pytest.mark.slow
    for item in items:
        path, _, rest = item.nodeid.partition("::")
        nodeid = path.rsplit("/", 1)[-1] + "::" + rest  # the file's name; params may hold "/"
        if (
            nodeid in SLOW_TESTS
            or nodeid.split("[")[0] in SLOW_TESTS
            or SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))
        ):
            item.add_marker(slow)
