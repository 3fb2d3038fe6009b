"""Pooling kernels on planes: max-pool with its switches, and window means (average and adaptive pools).

Every kernel takes a stack of 2-D planes ``x: (P, H, W)`` with ``P = N*C`` (the
functional layer folds batch and channels together) and runs its planes in
parallel: a plane's outputs never depend on another plane, so ``prange`` over
``p`` gives every iteration outputs of its own, and the scatters (the adjoints)
stay race-free because each writes only into its own plane.

Kernels fill an output array they are given (``out``, last argument; zeros for
the window-mean scatter, which adds into it: the callers make them with ``workspace.zeros``,
whose pages are written, so that adding into them does not fault each page twice; the
scatter at indices zeroes each plane itself).
Allocating inside a ``parallel=True`` function turns the allocation into a parallel
loop of its own, which more than doubles the function's compile time for nothing
the caller cannot do.

These are the fast tier: they compute what tinynet/kernels/reference/pool.py defines, in
parallel over planes (on one thread below GRAIN_SIZE, tinynet/kernels/threads.py), except
the scatter and gather at indices, which measured faster on one thread.
Max-pool's window rule follows PyTorch's CPU kernel line by line; the average
pools take their windows as per-axis tables that the functional layer builds
with PyTorch's rules, so padding, dilation and ``ceil_mode`` windows that hang
over the edge give PyTorch's numbers.
"""

from __future__ import annotations

from numba import njit, prange

from tinynet.kernels.threads import grain_sized


# --------------------------------------------------------------------------- max-pool and its switches
@grain_sized
@njit(cache=True, parallel=True)
def max_pool2d_forward(x, kh, kw, sh, sw, ph, pw, dh, dw, lowest, out, argmax):
    """Max over each (dilated) window into ``out``, and the flat index ``ih*W + iw`` of it into ``argmax``.

    x: (P, H, W); out, argmax: (P, H_out, W_out). Padding never wins: windows are
    clipped to the plane, so padding acts as -inf. The first maximum wins ties
    (``>``). PyTorch's NaN rule, "a NaN always replaces the current maximum",
    means the window's last NaN wins; it is tracked on the side so that the
    comparison stays a branch-free select (benchmarks/PROFILE.md: faster on random
    data, where a branch mispredicts half the time). ``lowest`` is -inf (the
    dtype's minimum for integers). A window that dilation makes skip the whole
    plane keeps ``lowest`` and PyTorch's index ``ih0*W + iw0``, which may lie
    outside the plane; the scatter below ignores such indices.
    """
    P, H, W = x.shape
    Ho, Wo = out.shape[1], out.shape[2]
    for p in prange(P):
        plane = x[p].ravel()  # (H*W,), read at the flat index k = ih*W + iw
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
                nan_index = -1
                # while, not range(h0, h1, dh): a range with a run-time step costs a division
                ih = h0
                while ih < h1:
                    k = ih * W + w0
                    while k < ih * W + w1:
                        v = plane[k]
                        bigger = v > best
                        best = v if bigger else best
                        best_index = k if bigger else best_index
                        nan_index = k if v != v else nan_index  # v != v: v is NaN
                        k += dw
                    ih += dh
                if nan_index >= 0:
                    best = plane[nan_index]
                    best_index = nan_index
                out[p, oh, ow] = best
                argmax[p, oh, ow] = best_index


# Max-pool at fixed switches is a gather, y[p, j] = x[p, idx[p, j]]: row j of the
# matrix C holds a single 1, in column idx[p, j]. Its adjoint Cᵀ sends y[p, j]
# back to column idx[p, j] and *adds* when several rows share a column (overlapping
# windows that picked the same maximum). That scatter-add is max-pool's backward and,
# read as a forward map, max-unpooling: one kernel, two uses.
#
# These two run on one thread, plane by plane through row views (which spare each access
# the 2-D index and its negative-index test): on 512 planes of 1024 values into 64x64,
# serial took 0.99 ms (scatter) and 0.69 ms (gather) where the parallel 2-D-indexed
# versions took 1.57 and 1.77 ms (benchmarks/PROFILE.md, max_unpool2d).
@njit(cache=True)
def scatter_add_at_indices(values, indices, out):
    """out[p] = 0, then out[p, indices[p, j]] += values[p, j] for each plane p; indices outside [0, M) are skipped.

    values, indices: (P, L); out: (P, M), overwritten. Max-pool's backward and max-unpool's forward.
    Each plane is zeroed just before its scatter, while it sits in cache: one pass over out, not two.
    """
    P, L = values.shape
    M = out.shape[1]
    for p in range(P):
        src, at, dst = values[p], indices[p], out[p]
        for i in range(M):
            dst[i] = 0
        for j in range(L):
            i = at[j]
            if 0 <= i < M:
                dst[i] += src[j]


# The adjoint of the scatter-add above: ⟨Cᵀy, g⟩ = Σ_j y[j] g[idx[j]] = ⟨y, C g⟩, so the
# gradient of max-unpool reads each gradient back at the index its value was sent to.
@njit(cache=True)
def gather_at_indices(source, indices, out):
    """out[p, j] = source[p, indices[p, j]]; source: (P, M), indices and out: (P, L).

    Indices must lie in [0, M) (the functional layer checks them first).
    """
    P, L = indices.shape
    for p in range(P):
        src, at, dst = source[p], indices[p], out[p]
        for j in range(L):
            dst[j] = src[at[j]]


# --------------------------------------------------------------------------- average pools
@grain_sized
@njit(cache=True, parallel=True)
def window_mean_forward(x, h_start, h_end, h_count, w_start, w_end, w_count, divisor, out):
    """Sum of x over each window [h_start, h_end) × [w_start, w_end), divided by h_count·w_count.

    The per-axis window tables carry PyTorch's rules (avg_pool2d with its padding and
    ceil_mode divisors, or adaptive_avg_pool2d's windows); ``divisor`` != 0 overrides
    the count. x: (P, H, W), out: (P, H_out, W_out); an empty window gives 0.
    """
    P = x.shape[0]
    Ho, Wo = h_start.shape[0], w_start.shape[0]
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


# Average pooling is y[o] = Σ_{i in window(o)} x[i] / d[o]: row o of C holds 1/d[o] on
# its window. Cᵀ sends g[o] / d[o] to every i of window(o), adding where windows overlap.
# So the backward spreads each gradient evenly over the window it averaged, with the same
# windows and divisors (the same loop nest with read and write swapped).
@grain_sized
@njit(cache=True, parallel=True)
def window_mean_backward(g, h_start, h_end, h_count, w_start, w_end, w_count, divisor, out):
    """Spread each g[p, oh, ow] / divisor over its window; g: (P, H_out, W_out), out: (P, H, W), zeros on entry."""
    P, Ho, Wo = g.shape
    for p in prange(P):
        for oh in range(Ho):
            for ow in range(Wo):
                if h_start[oh] >= h_end[oh] or w_start[ow] >= w_end[ow]:
                    continue  # a window with no input element receives nothing
                d = divisor if divisor != 0 else h_count[oh] * w_count[ow]
                share = g[p, oh, ow] / g.dtype.type(d)
                for ih in range(h_start[oh], h_end[oh]):
                    for iw in range(w_start[ow], w_end[ow]):
                        out[p, ih, iw] += share
