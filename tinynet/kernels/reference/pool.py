"""The reference pooling kernels: max with its switches, scatter and gather at indices, window means.

Every kernel takes a stack of planes ``(P, H, W)`` (P = N*C, batch and channels folded) and
fills the ``out`` array it is given (zeros on entry for the window-mean scatter, which adds into it;
the scatter at indices zeroes ``out`` first).
Same arguments as the fast kernels in tinynet/kernels/pool.py; these are the plain loops
that define what those compute.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def max_pool2d_forward(x, kh, kw, sh, sw, ph, pw, dh, dw, lowest, out, argmax):
    """out[p, oh, ow] = the maximum of the window, argmax[p, oh, ow] = its flat index ih*W + iw.

    Window taps: ih = oh*sh - ph + i*dh, iw = ow*sw - pw + j*dw; those in the padding are skipped
    (padding acts as -inf). The first maximum wins ties; a NaN replaces any maximum (PyTorch's
    rule, so the window's last NaN wins). A window with no tap inside the plane keeps ``lowest``
    and PyTorch's index: that of its first tap at or after row 0 and column 0.
    """
    P, H, W = x.shape
    Ho, Wo = out.shape[1], out.shape[2]
    for p in range(P):
        for oh in range(Ho):
            for ow in range(Wo):
                h0, w0 = oh * sh - ph, ow * sw - pw
                while h0 < 0:
                    h0 += dh
                while w0 < 0:
                    w0 += dw
                best, best_index = lowest, h0 * W + w0
                for i in range(kh):
                    for j in range(kw):
                        ih, iw = oh * sh - ph + i * dh, ow * sw - pw + j * dw
                        if 0 <= ih < H and 0 <= iw < W:
                            v = x[p, ih, iw]
                            if v > best or v != v:  # v != v: v is NaN
                                best, best_index = v, ih * W + iw
                out[p, oh, ow] = best
                argmax[p, oh, ow] = best_index


# Max-pool at fixed switches is a gather, y[p, j] = x[p, idx[p, j]]: row j of the matrix C
# holds a single 1, in column idx[p, j]. Its adjoint Cᵀ sends y[p, j] back to column idx[p, j]
# and *adds* when several rows share a column (overlapping windows that picked the same
# maximum). That scatter-add is max-pool's backward and, read as a forward map, max-unpooling.
@njit(cache=True)
def scatter_add_at_indices(values, indices, out):
    """out = 0, then out[p, indices[p, j]] += values[p, j]; indices outside [0, M) are skipped.

    values, indices: (P, L); out: (P, M), overwritten.
    """
    P, L = values.shape
    M = out.shape[1]
    for p in range(P):
        for m in range(M):
            out[p, m] = 0
        for j in range(L):
            if 0 <= indices[p, j] < M:
                out[p, indices[p, j]] += values[p, j]


# The adjoint of the scatter-add: <Cᵀy, g> = Σ_j y[j] g[idx[j]] = <y, C g>, so the gradient of
# max-unpool reads each gradient back at the index its value was sent to.
@njit(cache=True)
def gather_at_indices(source, indices, out):
    """out[p, j] = source[p, indices[p, j]]; source: (P, M), indices and out: (P, L)."""
    P, L = indices.shape
    for p in range(P):
        for j in range(L):
            out[p, j] = source[p, indices[p, j]]


@njit(cache=True)
def window_mean_forward(x, h_start, h_end, h_count, w_start, w_end, w_count, divisor, out):
    """out[p, oh, ow] = Σ of x over [h_start, h_end) × [w_start, w_end) / d, d = divisor or h_count·w_count.

    x: (P, H, W), out: (P, H_out, W_out); an empty window gives 0.
    """
    P, Ho, Wo = out.shape
    for p in range(P):
        for oh in range(Ho):
            for ow in range(Wo):
                total = x.dtype.type(0)
                for ih in range(h_start[oh], h_end[oh]):
                    for iw in range(w_start[ow], w_end[ow]):
                        total += x[p, ih, iw]
                if h_start[oh] < h_end[oh] and w_start[ow] < w_end[ow]:
                    d = divisor if divisor != 0 else h_count[oh] * w_count[ow]
                    total /= x.dtype.type(d)
                out[p, oh, ow] = total


# Average pooling is y[o] = Σ_{i in window(o)} x[i] / d[o]: row o of C holds 1/d[o] on its
# window. Cᵀ sends g[o] / d[o] to every i of window(o), adding where windows overlap: the
# backward spreads each gradient evenly over the window it averaged (the same loop nest with
# the read and the write swapped).
@njit(cache=True)
def window_mean_backward(g, h_start, h_end, h_count, w_start, w_end, w_count, divisor, out):
    """out[p, ih, iw] += g[p, oh, ow] / d for every window (oh, ow) holding (ih, iw); out: (P, H, W), zeros."""
    P, Ho, Wo = g.shape
    for p in range(P):
        for oh in range(Ho):
            for ow in range(Wo):
                d = divisor if divisor != 0 else h_count[oh] * w_count[ow]
                for ih in range(h_start[oh], h_end[oh]):
                    for iw in range(w_start[ow], w_end[ow]):
                        out[p, ih, iw] += g[p, oh, ow] / g.dtype.type(d)
