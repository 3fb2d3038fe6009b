"""The heap policy (tinynet/kernels/heap.py): with tinynet imported, a step reuses the pages the last step freed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tinynet.kernels import heap

GLIBC = heap.on_glibc()

# A step's worth of allocations after one 2 MB block was freed (which sets glibc's adaptive
# thresholds to 2 MB / 4 MB): eight 1 MB arrays written and freed, the 8 MB of free heap top
# then above the trim threshold. Prints the page faults per step and the policy.
STEPS = textwrap.dedent(
    """
    import resource
    import numpy as np
    import tinynet  # noqa: F401
    from tinynet.kernels import heap
    np.ones(1 << 18)
    def step():
        arrays = [np.ones(1 << 17) for _ in range(8)]
        del arrays
    for _ in range(3):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        step()
    print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
    print(heap.POLICY)
    """
)


def _run_steps(**env) -> tuple[float, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "TINYNET_MALLOC"}
    out = subprocess.run(
        [sys.executable, "-c", STEPS], env={**environ, **env}, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return float(out[0]), out[1]


@pytest.mark.skipif(not GLIBC, reason="the policy sets glibc's malloc thresholds; other C libraries are left alone")
def test_a_step_reuses_the_pages_the_last_step_freed():
    faults, policy = _run_steps()
    assert policy.startswith("tuned"), policy
    assert faults < 64, f"{faults} page faults a step with the policy ({policy})"
    # Without it glibc gives the 8 MB back after every step and each step faults its pages in again.
    faults, policy = _run_steps(TINYNET_MALLOC="system")
    assert policy == "system (TINYNET_MALLOC=system)"
    assert faults > 1000, f"only {faults} page faults a step without the policy: the test shows nothing"


def test_the_environment_keeps_malloc_as_it_is():
    assert heap.apply({"TINYNET_MALLOC": "system"}) == "system (TINYNET_MALLOC=system)"
    assert heap.apply({"MALLOC_TRIM_THRESHOLD_": "0"}) == "system (the environment sets MALLOC_TRIM_THRESHOLD_)"
    got = heap.apply({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0", "MALLOC_MMAP_MAX_": "0"})
    assert got == "system (the environment sets MALLOC_MMAP_MAX_, GLIBC_TUNABLES)"
    if GLIBC and heap.POLICY.startswith("tuned"):  # tunables of other parts of glibc do not count (sets what is set)
        assert heap.apply({"GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2"}) == heap.POLICY
    preload = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
    assert heap.apply({"LD_PRELOAD": preload}) == f"system (LD_PRELOAD={preload})"


def test_a_bad_setting_names_the_variable_and_the_value():
    with pytest.raises(ValueError, match=r"TINYNET_MALLOC must be one of \('tuned', 'system'\), got 'off'"):
        heap.apply({"TINYNET_MALLOC": "off"})
