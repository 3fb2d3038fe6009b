"""Shared test set-up: hypothesis profiles, the torch oracle, and small helpers.

Tests that compare with PyTorch take the ``torch`` fixture and skip cleanly
when torch is not installed (it is a test-only oracle, never used by tinynet).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# "ci" is derandomized so that CI is repeatable; "dev" explores new examples each run.
settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile(
    "dev",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(scope="session")
def torch():
    """PyTorch as the oracle, limited to 2 threads; the test skips without it."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(2)
    return torch


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _forbid_the_fast_tier() -> None:
    """With TINYNET_KERNELS=reference, every kernel of the fast tier raises when called.

    A session run that way (tests/test_tiers.py launches one on the parity, gradcheck and
    adjoint tests) then proves by passing that no kernel outside tinynet/kernels/reference ran.
    """
    import inspect
    import sys

    from tinynet.kernels import conv, conv_planner, norm, pool, resample, softmax

    fast = {}
    for module in (conv, conv_planner, norm, pool, resample, softmax):
        for name, obj in vars(module).items():
            if getattr(obj, "__module__", None) != module.__name__:
                continue
            is_kernel = hasattr(obj, "py_func") or hasattr(getattr(obj, "kernel", None), "py_func")
            if is_kernel or (module is conv_planner and inspect.isfunction(obj)):
                fast[id(obj)] = f"{module.__name__}.{name}"

    def forbidden(full):
        def run(*args, **kwargs):
            raise AssertionError(f"{full} (a fast-tier kernel) ran with TINYNET_KERNELS=reference")

        return run

    for mod in [m for n, m in list(sys.modules.items()) if n.startswith("tinynet") and m is not None]:
        for attr, value in list(vars(mod).items()):
            if id(value) in fast:
                setattr(mod, attr, forbidden(fast[id(value)]))


if os.environ.get("TINYNET_KERNELS") == "reference":
    _forbid_the_fast_tier()
