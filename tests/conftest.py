"""Test setup: hypothesis profiles and the simulator backend.

Profiles (``TTL_HYPOTHESIS_PROFILE``): ``ci`` (default; few examples, what CI runs) and ``thorough``
(hundreds of examples per property; `make test-thorough`).  Kernel tests run on the backend the runtime
picks (the simulator on machines without a Tenstorrent device).
"""

from __future__ import annotations

import os

from ttl_kernels import env

env.apply_defaults()  # before torch loads: OMP_WAIT_POLICY, HF offline (what every entry point does first)

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "ci", max_examples=12, deadline=None, derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "thorough", max_examples=300, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("TTL_HYPOTHESIS_PROFILE", "ci"))


def examples(n_ci: int):
    """Per-test example budget: ``n_ci`` under the ci profile, the profile's own under thorough."""
    if os.environ.get("TTL_HYPOTHESIS_PROFILE", "ci") == "ci":
        return settings(max_examples=n_ci)
    return settings()


@pytest.fixture(params=["fp32", "bf16"])
def sim_mode(request):
    """Run under each simulator arithmetic mode (float32, or every op rounded to bf16), restoring the
    default afterwards."""
    from ttl_kernels import runtime

    if not runtime.is_sim():
        pytest.skip("simulator precision modes exist only on the simulator")
    runtime.set_sim_precision(request.param)
    yield request.param
    runtime.set_sim_precision("fp32")
