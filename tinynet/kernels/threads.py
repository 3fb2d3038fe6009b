"""The fast tier's thread policy: how many of numba's threads a parallel kernel may use.

Parallel kernels (``prange``) use Numba's ``workqueue`` threading layer unless the
environment variable ``NUMBA_THREADING_LAYER`` says otherwise: the default (OpenMP,
when available) keeps its threads spinning after each kernel, and on a 2-core machine
they then fight OpenBLAS's own spinning threads, which run the GEMMs between our
kernels (measurements in benchmarks/PROFILE.md). The cost: workqueue refuses parallel
kernels launched from several Python threads at once.

Below ``GRAIN_SIZE`` elements a kernel runs on one thread: waking the others costs
more than the work (PyTorch's at::internal::GRAIN_SIZE; on a busy machine a sleeping
thread can take a whole scheduler tick to join).
"""

from __future__ import annotations

import functools
import os

import numba
import numpy as np

if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"

GRAIN_SIZE = 32768


def threads_for(work: int) -> int:
    """The threads a parallel kernel whose largest array has ``work`` elements should use."""
    return numba.get_num_threads() if work >= GRAIN_SIZE else 1


def grain_sized(kernel):
    """Run a ``parallel=True`` kernel on :func:`threads_for` of its largest array's size threads."""

    @functools.wraps(kernel)
    def run(*args):
        threads = threads_for(max((a.size for a in args if isinstance(a, np.ndarray)), default=0))
        if threads > 1:
            return kernel(*args)
        before = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            return kernel(*args)
        finally:
            numba.set_num_threads(before)

    run.kernel = kernel  # the numba dispatcher itself
    return run
