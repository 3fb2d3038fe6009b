"""Pooling kernels on planes: max-pool with its switches, and window means (average and adaptive pools).

Every kernel takes a stack of 2-D planes ``x: (P, H, W)`` with ``P = N*C`` (the
functional layer folds batch and channels together) and runs its planes in
parallel: a plane's outputs never depend on another plane, so ``prange`` over
``p`` gives every iteration outputs of its own, and the scatters (the adjoints)
stay race-free because each writes only into its own plane.

Max-pool's window rule follows PyTorch's CPU kernel line by line; the average
pools take their windows as per-axis tables that the functional layer builds
with PyTorch's rules, so padding, dilation and ``ceil_mode`` windows that hang
over the edge give PyTorch's numbers.
"""

from __future__ import annotations

import functools

import numba
import numpy as np
from numba import njit, prange

# PyTorch's at::internal::GRAIN_SIZE: below this many elements a parallel loop runs on one
# thread, because waking the other threads costs more than the work (on a busy machine a
# sleeping thread can take a whole scheduler tick, milliseconds, to join).
GRAIN_SIZE = 32768


def grain_sized(kernel):
    """Run a ``parallel=True`` kernel on one thread when its largest array is smaller than GRAIN_SIZE."""

    @functools.wraps(kernel)
    def run(*args):
        work = max((a.size for a in args if isinstance(a, np.ndarray)), default=0)
        if work >= GRAIN_SIZE:
            return kernel(*args)
        threads = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            return kernel(*args)
        finally:
            numba.set_num_threads(threads)

    run.kernel = kernel  # the numba dispatcher itself
    return run


# --------------------------------------------------------------------------- max-pool and its switches
@grain_sized
@njit(cache=True, parallel=True)
def max_pool2d_forward(x, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, lowest):
    """Max over each (dilated) window; also the flat index ``ih*W + iw`` of the maximum (the switches).

    Padding never wins: windows are clipped to the plane, so padding acts as -inf.
    The first maximum wins ties (``>``); a NaN always wins, so the last NaN of a
    window is the one reported, as in PyTorch. ``lowest`` is -inf (or the
    dtype's minimum for integers). A window that dilation makes skip the whole
    plane keeps ``lowest`` and PyTorch's index ``ih0*W + iw0``, which may lie
    outside the plane; the scatter below ignores such indices.
    """
    P, H, W = x.shape  # x: (P, H, W)
    out = np.empty((P, Ho, Wo), dtype=x.dtype)  # out, argmax: (P, Ho, Wo)
    argmax = np.empty((P, Ho, Wo), dtype=np.int64)
    for p in prange(P):
        for oh in range(Ho):
            h0 = oh * sh - ph
            h1 = min(h0 + (kh - 1) * dh + 1, H)
            while h0 < 0:
                h0 += dh
            for ow in range(Wo):
                w0 = ow * sw - pw
                w1 = min(w0 + (kw - 1) * dw + 1, W)
                while w0 < 0:
                    w0 += dw
                best = lowest
                best_index = h0 * W + w0
                for ih in range(h0, h1, dh):
                    for iw in range(w0, w1, dw):
                        v = x[p, ih, iw]
                        if v > best or v != v:  # v != v: NaN propagates
                            best = v
                            best_index = ih * W + iw
                out[p, oh, ow] = best
                argmax[p, oh, ow] = best_index
    return out, argmax


# Max-pool at fixed switches is a gather, y[p, j] = x[p, idx[p, j]]: row j of the
# seeds' matrix C holds a single 1, in column idx[p, j]. Its adjoint Cᵀ sends y[p, j]
# back to column idx[p, j] and *adds* when several rows share a column (overlapping
# windows that picked the same maximum). That scatter-add is max-pool's backward and,
# read as a forward map, max-unpooling: one kernel, two uses.
@grain_sized
@njit(cache=True, parallel=True)
def scatter_add_at_indices(values, indices, size):
    """out[p, indices[p, j]] += values[p, j] for each plane p; indices outside [0, size) are skipped.

    values, indices: (P, L) -> out: (P, size). Max-pool's backward and max-unpool's forward.
    """
    P, L = values.shape
    out = np.zeros((P, size), dtype=values.dtype)
    for p in prange(P):
        for j in range(L):
            i = indices[p, j]
            if 0 <= i < size:
                out[p, i] += values[p, j]
    return out


# The adjoint of the scatter-add above: ⟨Cᵀy, g⟩ = Σ_j y[j] g[idx[j]] = ⟨y, C g⟩, so the
# gradient of max-unpool reads each gradient back at the index its value was sent to.
@grain_sized
@njit(cache=True, parallel=True)
def gather_at_indices(source, indices):
    """out[p, j] = source[p, indices[p, j]]; source: (P, M), indices: (P, L) -> out: (P, L).

    Indices must lie in [0, M) (the functional layer checks them first).
    """
    P, L = indices.shape
    out = np.empty((P, L), dtype=source.dtype)
    for p in prange(P):
        for j in range(L):
            out[p, j] = source[p, indices[p, j]]
    return out


# --------------------------------------------------------------------------- average pools
@grain_sized
@njit(cache=True, parallel=True)
def window_mean_forward(x, h_start, h_end, h_count, w_start, w_end, w_count, divisor):
    """Sum of x over each window [h_start, h_end) × [w_start, w_end), divided by h_count·w_count.

    The per-axis window tables carry PyTorch's rules (avg_pool2d with its padding and
    ceil_mode divisors, or adaptive_avg_pool2d's windows); ``divisor`` != 0 overrides
    the count. x: (P, H, W) -> out: (P, Ho, Wo); an empty window gives 0.
    """
    P = x.shape[0]
    Ho, Wo = h_start.shape[0], w_start.shape[0]
    out = np.empty((P, Ho, Wo), dtype=x.dtype)
    zero = x.dtype.type(0)
    for p in prange(P):
        for oh in range(Ho):
            for ow in range(Wo):
                if h_start[oh] >= h_end[oh] or w_start[ow] >= w_end[ow]:
                    out[p, oh, ow] = zero  # a window with no input element
                    continue
                acc = zero
                for ih in range(h_start[oh], h_end[oh]):
                    for iw in range(w_start[ow], w_end[ow]):
                        acc += x[p, ih, iw]
                d = divisor if divisor != 0 else h_count[oh] * w_count[ow]
                out[p, oh, ow] = acc / x.dtype.type(d)
    return out


# Average pooling is y[o] = Σ_{i in window(o)} x[i] / d[o]: row o of C holds 1/d[o] on
# its window. Cᵀ sends g[o] / d[o] to every i of window(o), adding where windows overlap.
# So the backward spreads each gradient evenly over the window it averaged, with the same
# windows and divisors (the same loop nest with read and write swapped).
@grain_sized
@njit(cache=True, parallel=True)
def window_mean_backward(g, H, W, h_start, h_end, h_count, w_start, w_end, w_count, divisor):
    """Spread each g[p, oh, ow] / divisor over its window; g: (P, Ho, Wo) -> grad: (P, H, W)."""
    P, Ho, Wo = g.shape
    grad = np.zeros((P, H, W), dtype=g.dtype)
    for p in prange(P):
        for oh in range(Ho):
            for ow in range(Wo):
                if h_start[oh] >= h_end[oh] or w_start[ow] >= w_end[ow]:
                    continue  # a window with no input element receives nothing
                d = divisor if divisor != 0 else h_count[oh] * w_count[ow]
                share = g[p, oh, ow] / g.dtype.type(d)
                for ih in range(h_start[oh], h_end[oh]):
                    for iw in range(w_start[ow], w_end[ow]):
                        grad[p, ih, iw] += share
    return grad
