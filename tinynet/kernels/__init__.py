"""Numba kernels: plain functions on numpy arrays, never on Tensors.

Each is wrapped by ``njit(cache=True)`` and still runs, slowly and step by step,
under ``NUMBA_DISABLE_JIT=1`` so a learner can follow it in a debugger.
"""
