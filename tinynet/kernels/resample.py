"""Resampling kernels on planes: index gathers and scatters (nearest, bed of nails) and bilinear weights.

Every kernel takes a stack of planes ``(P, H, W)`` with ``P = N*C`` (each plane owns its
outputs, so the scatters are race-free; the index-map kernels run the planes in parallel,
bilinear on one thread); like the pooling kernels it fills an ``out`` array it is given
(zeros for the scatters). The coordinate maps, PyTorch's source-index formulas, are computed
once per axis by the functional layer and arrive here as small tables:

* ``rows[oh]``, ``cols[ow]``: an integer index per output row and column;
* ``top[oh], bottom[oh], w_top[oh], w_bottom[oh]`` (and the same for columns):
  the two neighbouring source rows of output row ``oh`` and their weights.

The loops take each source and destination row once (``x[p, r]``) and index within it:
a 1-D index costs no per-access stride arithmetic and negative-index test, and the
bilinear forward ran 2.5-4.4x faster that way than indexing ``x[p, r, c]`` (benchmarks/PROFILE.md).
Bilinear itself runs as two one-axis passes (C = C_h ⊗ C_w), its adjoint as the two passes
transposed, on one thread (the comment above the bilinear kernels).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from tinynet.kernels.threads import grain_sized


# --------------------------------------------------------------------------- index maps
@grain_sized
@njit(cache=True, parallel=True)
def gather_rows_cols(x, rows, cols, out):
    """out[p, i, j] = x[p, rows[i], cols[j]]; x: (P, H, W), out: (P, len(rows), len(cols)).

    Nearest-neighbour upsampling (rows, cols: the source of each output pixel)
    and strided subsampling, the adjoint of bed of nails (rows = s*i).
    """
    P = x.shape[0]
    Ho, Wo = rows.shape[0], cols.shape[0]
    for p in prange(P):
        for i in range(Ho):
            src, dst = x[p, rows[i]], out[p, i]
            for j in range(Wo):
                dst[j] = src[cols[j]]


# The gather above is y[i, j] = x[rows[i], cols[j]]: row (i, j) of the matrix C has one 1,
# in column (rows[i], cols[j]). Cᵀ sends g[i, j] back to (rows[i], cols[j]) and adds up
# everything that arrives at the same pixel: for nearest upsampling that is the sum over
# each source pixel's block. With injective maps (rows = s*i, bed of nails) nothing
# collides and the same scatter places each value at the top-left of its block.
@grain_sized
@njit(cache=True, parallel=True)
def scatter_add_rows_cols(g, rows, cols, out):
    """out[p, rows[i], cols[j]] += g[p, i, j]; g: (P, len(rows), len(cols)), out: (P, H, W), zeros on entry."""
    P, Ho, Wo = g.shape
    for p in prange(P):
        for i in range(Ho):
            src, dst = g[p, i], out[p, rows[i]]
            for j in range(Wo):
                dst[cols[j]] += src[j]


# --------------------------------------------------------------------------- bilinear
# Bilinear interpolation is separable: the matrix C is (rows C_h) ⊗ (columns C_w), so it runs as
# two passes. The width pass interpolates every input row that an output row reads into a
# scratch row of Wo pixels (two gathers per pixel, once per input row instead of twice per
# output row); the height pass mixes two scratch rows per output row, a contiguous loop that
# vectorises. Per pixel it computes w_top*(w_left*x + w_right*x) + w_bottom*(...), the
# reference's expression and order, so the two tiers agree to the last bit. The adjoint runs
# the transposed passes in reverse order: scatter each gradient row into the two scratch rows
# it came from (contiguous), then gather every input pixel from its scratch row through the
# transposed column tables. Both run on one thread: inside a training step a second Numba
# thread finds OpenBLAS's threads on the other core (benchmarks/PROFILE.md), and a parallel
# driver cost 2.4 s of cold compile.
@njit(cache=True)
def _rows_read(top, bottom, H):
    """read[h] = whether some output row reads input row h."""
    read = np.zeros(H, dtype=np.bool_)
    for oh in range(top.shape[0]):
        read[top[oh]] = True
        read[bottom[oh]] = True
    return read


@njit(cache=True)
def bilinear_forward(x, top, bottom, w_top, w_bottom, left, right, w_left, w_right, out):
    """Bilinear interpolation from per-axis tables; x: (P, H, W), out: (P, len(top), len(left)).

    out[p, oh, ow] = w_top[oh] * (w_left[ow] x[top, left] + w_right[ow] x[top, right])
                   + w_bottom[oh] * (w_left[ow] x[bottom, left] + w_right[ow] x[bottom, right])
    """
    P, H = x.shape[0], x.shape[1]
    Ho, Wo = out.shape[1], out.shape[2]
    read = _rows_read(top, bottom, H)
    at_left, at_right = np.empty(Wo, dtype=np.uint64), np.empty(Wo, dtype=np.uint64)  # no negative-index test
    for ow in range(Wo):
        at_left[ow], at_right[ow] = left[ow], right[ow]
    mixed = np.empty((H, Wo), dtype=out.dtype)  # mixed[h] = input row h interpolated to Wo columns
    for p in range(P):
        for h in range(H):
            if read[h]:
                src, dst = x[p, h], mixed[h]
                for ow in range(Wo):
                    dst[ow] = w_left[ow] * src[at_left[ow]] + w_right[ow] * src[at_right[ow]]
        for oh in range(Ho):
            upper, lower, dst = mixed[top[oh]], mixed[bottom[oh]], out[p, oh]
            wt, wb = w_top[oh], w_bottom[oh]
            for ow in range(Wo):
                dst[ow] = wt * upper[ow] + wb * lower[ow]


# Row (oh, ow) of the bilinear matrix C holds four weights, w_top*w_left at (top, left) and so
# on. Cᵀ therefore scatters g[oh, ow] to the same four source pixels with the same four
# weights, adding where the footprints of neighbouring outputs overlap. At the border
# top == bottom (or left == right) and the two weights land on one pixel, exactly as the
# forward read it twice. Here Cᵀ = C_hᵀ ⊗ C_wᵀ runs as the forward's passes transposed.
@njit(cache=True)
def _columns_transposed(left, right, w_left, w_right, W):
    """C_wᵀ as K lists: input column w receives Σ_k weight[k, w] * row[source[k, w]].

    K is the most output columns any input column feeds; a column that feeds fewer reads
    column Wo, which the caller keeps at zero, with weight 0. Gathering through these
    lists is the column scatter with the loop turned round: no two iterations of the inner
    loop add into the same pixel, so none waits for the previous one's store. Unsigned
    indices spare Numba's negative-index test (the forward's gather ran 1.5x as fast with them).
    """
    Wo = left.shape[0]
    count = np.zeros(W, dtype=np.int64)
    for ow in range(Wo):
        count[left[ow]] += 1
        count[right[ow]] += 1
    K = 0
    for w in range(W):
        K = max(K, count[w])
        count[w] = 0
    source = np.empty((K, W), dtype=np.uint64)
    weight = np.zeros((K, W), dtype=w_left.dtype)
    for k in range(K):
        for w in range(W):
            source[k, w] = Wo
    for ow in range(Wo):
        col = left[ow]
        source[count[col], col], weight[count[col], col] = ow, w_left[ow]
        count[col] += 1
        col = right[ow]
        source[count[col], col], weight[count[col], col] = ow, w_right[ow]
        count[col] += 1
    return source, weight


@njit(cache=True)
def bilinear_backward(g, top, bottom, w_top, w_bottom, left, right, w_left, w_right, out):
    """Scatter each g[p, oh, ow] to its four source pixels with the bilinear weights; out: (P, H, W), zeros."""
    P, Ho, Wo = g.shape
    H, W = out.shape[1], out.shape[2]
    read = _rows_read(top, bottom, H)
    source, weight = _columns_transposed(left, right, w_left, w_right, W)
    mixed = np.zeros((H, Wo + 1), dtype=out.dtype)  # column Wo stays zero (see _columns_transposed)
    for p in range(P):
        for h in range(H):
            row = mixed[h]
            for ow in range(Wo):
                row[ow] = 0
        for oh in range(Ho):  # the height pass transposed: each gradient row into its two rows
            src, upper, lower = g[p, oh], mixed[top[oh]], mixed[bottom[oh]]
            wt, wb = w_top[oh], w_bottom[oh]
            for ow in range(Wo):
                upper[ow] += wt * src[ow]
            for ow in range(Wo):
                lower[ow] += wb * src[ow]
        for h in range(H):  # the width pass transposed: each input pixel gathers its columns
            if read[h]:
                src, dst = mixed[h], out[p, h]
                for k in range(source.shape[0]):
                    at, wk = source[k], weight[k]
                    for w in range(W):
                        dst[w] += wk[w] * src[at[w]]
