"""Numba kernels: plain functions on numpy arrays, never on Tensors.

Each is wrapped by ``njit(cache=True)`` and still runs, slowly and step by step,
under ``NUMBA_DISABLE_JIT=1`` so a learner can follow it in a debugger.

Threading: the parallel kernels (``prange``) use Numba's ``workqueue`` threading
layer unless the environment variable ``NUMBA_THREADING_LAYER`` says otherwise. The
default (OpenMP, when available) keeps its threads spinning after each kernel, and
on a 2-core machine they then fight OpenBLAS's own spinning threads, which run the
GEMMs between our kernels: the example's training step (batch 16, 64x64) took 257 ms
with OpenMP and 133 ms with workqueue, whose idle threads sleep. The cost:
workqueue refuses parallel kernels launched from several Python threads at once.
"""

import os

import numba

if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"
