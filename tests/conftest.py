"""Shared pytest configuration.

hypothesis runs with a deterministic profile ("ci": derandomized, no deadline because the
2-core CI machine is shared) unless HYPOTHESIS_PROFILE selects another ("dev" explores more).
"""
import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=25,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
