"""The reference resampling kernels: gathers and scatters along index maps, and bilinear weights.

Every kernel takes a stack of planes ``(P, H, W)`` (P = N*C) and fills the ``out`` array it is
given (zeros on entry for the scatters). The coordinate maps arrive as per-axis tables built
by tinynet/functional/resample.py: ``rows[i]``, ``cols[j]`` (an index per output row and
column) or ``top, bottom, w_top, w_bottom`` (two source rows and their weights per output row,
the same for columns). Same arguments as the fast kernels in tinynet/kernels/resample.py.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def gather_rows_cols(x, rows, cols, out):
    """out[p, i, j] = x[p, rows[i], cols[j]]: nearest upsampling, and subsampling (rows = s*i)."""
    P, Ho, Wo = out.shape
    for p in range(P):
        for i in range(Ho):
            for j in range(Wo):
                out[p, i, j] = x[p, rows[i], cols[j]]


# The gather is y[i, j] = x[rows[i], cols[j]]: row (i, j) of the matrix C has one 1, in column
# (rows[i], cols[j]). Cᵀ sends g[i, j] back to (rows[i], cols[j]) and adds everything that
# arrives at one pixel: for nearest upsampling the sum over each source pixel's block. With an
# injective map (rows = s*i, bed of nails) nothing collides: each value lands at the top-left
# of its block.
@njit(cache=True)
def scatter_add_rows_cols(g, rows, cols, out):
    """out[p, rows[i], cols[j]] += g[p, i, j]; out: (P, H, W), zeros on entry."""
    P, Ho, Wo = g.shape
    for p in range(P):
        for i in range(Ho):
            for j in range(Wo):
                out[p, rows[i], cols[j]] += g[p, i, j]


@njit(cache=True)
def bilinear_forward(x, top, bottom, w_top, w_bottom, left, right, w_left, w_right, out):
    """out[p, oh, ow] = the four neighbours of the output pixel, weighted by the row and column weights.

    out = w_top (w_left x[top, left] + w_right x[top, right]) + w_bottom (w_left x[bottom, left] + w_right x[bottom, right])
    """
    P, Ho, Wo = out.shape
    for p in range(P):
        for oh in range(Ho):
            for ow in range(Wo):
                t, b, lc, rc = top[oh], bottom[oh], left[ow], right[ow]
                upper = w_left[ow] * x[p, t, lc] + w_right[ow] * x[p, t, rc]
                lower = w_left[ow] * x[p, b, lc] + w_right[ow] * x[p, b, rc]
                out[p, oh, ow] = w_top[oh] * upper + w_bottom[oh] * lower


# Row (oh, ow) of the bilinear matrix C holds four weights: w_top*w_left at (top, left), and so
# on. Cᵀ scatters g[oh, ow] to the same four source pixels with the same four weights, adding
# where the footprints of neighbouring outputs overlap (the same loop nest, read and write
# swapped). At the border top == bottom (or left == right): both weights land on one pixel,
# exactly as the forward read it twice.
@njit(cache=True)
def bilinear_backward(g, top, bottom, w_top, w_bottom, left, right, w_left, w_right, out):
    """out[p, source] += weight * g[p, oh, ow] for the four (source, weight) pairs of each output pixel."""
    P, Ho, Wo = g.shape
    for p in range(P):
        for oh in range(Ho):
            for ow in range(Wo):
                t, b, lc, rc = top[oh], bottom[oh], left[ow], right[ow]
                v = g[p, oh, ow]
                out[p, t, lc] += w_top[oh] * w_left[ow] * v
                out[p, t, rc] += w_top[oh] * w_right[ow] * v
                out[p, b, lc] += w_bottom[oh] * w_left[ow] * v
                out[p, b, rc] += w_bottom[oh] * w_right[ow] * v
