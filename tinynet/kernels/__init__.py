"""Numba kernels: plain functions on numpy arrays, never on Tensors.

Each is wrapped by ``njit(cache=True)`` and still runs, slowly and step by step,
under ``NUMBA_DISABLE_JIT=1`` so a learner can follow it in a debugger.
"""

import os


def _start_numba_threads_passive() -> None:
    """Start numba's thread pool now, with idle OpenMP workers that sleep instead of spinning.

    tinynet alternates numba's parallel loops with numpy's BLAS (OpenBLAS has threads of its
    own). By default GNU OpenMP workers busy-wait for a while after each parallel loop, so the
    BLAS call that follows fights them for the cores: measured on 2 cores, an empty parallel
    loop (3 µs) followed by a 32x288x1024 GEMM (160 µs) took 8-40 ms, and 0.18 ms with passive
    workers. OMP_WAIT_POLICY is read once, when numba loads its OpenMP library, so it is set
    only for that moment and then removed (other OpenMP users, such as PyTorch, keep their own
    setting). Nothing changes when the user chose a wait policy or a threading layer, or
    disabled the JIT.
    """
    import numba
    from numba.np.ufunc import parallel

    if numba.config.DISABLE_JIT or parallel._is_initialized or "OMP_WAIT_POLICY" in os.environ:
        return
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        parallel._launch_threads()
    finally:
        del os.environ["OMP_WAIT_POLICY"]


_start_numba_threads_passive()
