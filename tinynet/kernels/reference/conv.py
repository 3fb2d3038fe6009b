"""The reference convolutions: im2col, col2im and the depthwise sums, as the loops that define them.

A 2-D convolution (cross-correlation) reads, for output pixel (oh, ow) and kernel tap
(kh, kw), the input pixel

    ih = oh*sH - pH + kh*dH,        iw = ow*sW - pW + kw*dW

(zero when it falls in the padding). Written as a matrix, y = C x with C = W P: P (im2col)
copies every pixel a tap reads into a column matrix, and W (one GEMM per group, numpy's)
weights the columns. The adjoint is Cᵀ = Pᵀ Wᵀ: multiply by Wᵀ, then col2im = Pᵀ adds every
column entry back onto the pixel it came from. These routines are the whole meaning of
conv2d, conv_transpose2d and their gradients; tinynet/kernels/conv_planner.py computes the
same numbers faster and tests/test_tiers.py proves it.

``geometry`` is the convolution's geometry (tinynet.functional.conv.ConvGeometry): kernel,
stride, padding (top/left), dilation, groups, and the two image sizes, ``big`` (conv's
input, conv_transpose's output) and ``small`` (conv's output, conv_transpose's input).
"""

from __future__ import annotations

import contextlib

import numpy as np
from numba import njit


def taps(geometry) -> tuple:
    """The integer arguments of the loops below: kH, kW, sH, sW, pH, pW, dH, dW, Ho, Wo."""
    (kH, kW), (sH, sW), (pH, pW), (dH, dW) = geometry.kernel, geometry.stride, geometry.padding, geometry.dilation
    return kH, kW, sH, sW, pH, pW, dH, dW, geometry.small[0], geometry.small[1]


def is_depthwise(geometry, big_per_group: int) -> bool:
    """Every group reads one channel of the big side (groups == C_big > 1): the depthwise sums, not im2col."""
    return geometry.groups > 1 and big_per_group == 1


def by_channel(a: np.ndarray, groups: int) -> np.ndarray:
    """(n, C, H, W) -> (groups, C/groups, n*H*W): the channels as rows of a GEMM operand."""
    n, C, H, W = a.shape
    return np.ascontiguousarray(a.reshape(n, C, H * W).transpose(1, 0, 2)).reshape(groups, C // groups, n * H * W)


# ----------------------------------------------------------------------------- im2col and col2im
@njit(cache=True)
def im2col(x, kH, kW, sH, sW, pH, pW, dH, dW, Ho, Wo):
    """cols[(c, kh, kw), n, (oh, ow)] = x[n, c, ih, iw], zero where (ih, iw) lies in the padding.

    x: (N, C, H, W)  ->  cols: (C*kH*kW, N, Ho*Wo). The matrix P of C = W P.
    """
    N, C, H, W = x.shape
    cols = np.zeros((C * kH * kW, N, Ho * Wo), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for kh in range(kH):
                for kw in range(kW):
                    for oh in range(Ho):
                        for ow in range(Wo):
                            ih = oh * sH - pH + kh * dH
                            iw = ow * sW - pW + kw * dW
                            if 0 <= ih < H and 0 <= iw < W:
                                cols[(c * kH + kh) * kW + kw, n, oh * Wo + ow] = x[n, c, ih, iw]
    return cols


# The adjoint of im2col. P is a 0/1 matrix: P[(c,kh,kw,oh,ow), (c,ih,iw)] = 1 exactly when
# ih = oh*sH - pH + kh*dH and iw = ow*sW - pW + kw*dW. Its transpose Pᵀ sends column entry
# (c,kh,kw,oh,ow) back to that same pixel (c,ih,iw) and *adds* (several taps read one pixel):
# the loop nest of im2col with the read and the write swapped. Entries whose pixel lies in the
# padding are dropped (the adjoint of writing a zero). Stride in C becomes the spacing of the
# scattered taps in Cᵀ (zero insertion); dilation stays the spacing of the kernel taps.
@njit(cache=True)
def col2im(cols, C, H, W, kH, kW, sH, sW, pH, pW, dH, dW, Ho, Wo):
    """x[n, c, ih, iw] = Σ of the column entries im2col copied from that pixel (Pᵀ cols).

    cols: (C*kH*kW, N, Ho*Wo)  ->  x: (N, C, H, W).
    """
    N = cols.shape[1]
    x = np.zeros((N, C, H, W), dtype=cols.dtype)
    for n in range(N):
        for c in range(C):
            for kh in range(kH):
                for kw in range(kW):
                    for oh in range(Ho):
                        for ow in range(Wo):
                            ih = oh * sH - pH + kh * dH
                            iw = ow * sW - pW + kw * dW
                            if 0 <= ih < H and 0 <= iw < W:
                                x[n, c, ih, iw] += cols[(c * kH + kh) * kW + kw, n, oh * Wo + ow]
    return x


# ----------------------------------------------------------------------------- depthwise
# A depthwise convolution (every group reads one input channel: groups == C_in) is the same sum
# with one input channel per output channel o, channel o // m (m = C_out / C_in, the depth
# multiplier), so it needs no columns: each output pixel adds kH*kW products directly.
@njit(cache=True)
def depthwise(x, w, kH, kW, sH, sW, pH, pW, dH, dW, Ho, Wo):
    """y[n, o, oh, ow] = Σ_(kh, kw) w[o, kh, kw] x[n, o // m, ih, iw] (padding reads zero).

    x: (N, C, H, W), w: (C*m, kH, kW)  ->  y: (N, C*m, Ho, Wo).
    """
    N, C, H, W = x.shape
    Co = w.shape[0]
    m = Co // C
    y = np.zeros((N, Co, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for o in range(Co):
            for oh in range(Ho):
                for ow in range(Wo):
                    for kh in range(kH):
                        for kw in range(kW):
                            ih = oh * sH - pH + kh * dH
                            iw = ow * sW - pW + kw * dW
                            if 0 <= ih < H and 0 <= iw < W:
                                y[n, o, oh, ow] += w[o, kh, kw] * x[n, o // m, ih, iw]
    return y


# The adjoint of depthwise. Entry ((n,o,oh,ow), (n,o//m,ih,iw)) of C is w[o, kh, kw] when output
# (oh, ow) reads pixel (ih, iw) through tap (kh, kw). Cᵀ sends gy[n, o, oh, ow], times the same
# tap, back to that pixel of channel o // m, adding where several taps (and the m output
# channels of one input channel) land on one pixel, and dropping the padding: the loop nest of
# depthwise with the read and the write swapped.
@njit(cache=True)
def depthwise_adjoint(gy, w, C, H, W, kH, kW, sH, sW, pH, pW, dH, dW, Ho, Wo):
    """gx = Cᵀ gy for :func:`depthwise`: the transposed depthwise convolution.

    gy: (N, C*m, Ho, Wo), w: (C*m, kH, kW)  ->  gx: (N, C, H, W).
    """
    N, Co = gy.shape[0], gy.shape[1]
    m = Co // C
    gx = np.zeros((N, C, H, W), dtype=gy.dtype)
    for n in range(N):
        for o in range(Co):
            for oh in range(Ho):
                for ow in range(Wo):
                    for kh in range(kH):
                        for kw in range(kW):
                            ih = oh * sH - pH + kh * dH
                            iw = ow * sW - pW + kw * dW
                            if 0 <= ih < H and 0 <= iw < W:
                                gx[n, o // m, ih, iw] += w[o, kh, kw] * gy[n, o, oh, ow]
    return gx


# The weight gradient of depthwise: y is linear in w too, y = X w, with entry ((n,o,oh,ow), (o,kh,kw))
# of X the pixel x[n, o//m, ih, iw] that tap (kh, kw) read. dL/dw = Xᵀ gy adds, for every tap,
# the output gradient times the pixel that tap read: the same loop nest, summed into w's place.
@njit(cache=True)
def depthwise_weight(x, gy, kH, kW, sH, sW, pH, pW, dH, dW, Ho, Wo):
    """gw[o, kh, kw] = Σ_(n, oh, ow) gy[n, o, oh, ow] x[n, o // m, ih, iw].

    x: (N, C, H, W), gy: (N, C*m, Ho, Wo)  ->  gw: (C*m, kH, kW).
    """
    N, C, H, W = x.shape
    Co = gy.shape[1]
    m = Co // C
    gw = np.zeros((Co, kH, kW), dtype=x.dtype)
    for n in range(N):
        for o in range(Co):
            for oh in range(Ho):
                for ow in range(Wo):
                    for kh in range(kH):
                        for kw in range(kW):
                            ih = oh * sH - pH + kh * dH
                            iw = ow * sW - pW + kw * dW
                            if 0 <= ih < H and 0 <= iw < W:
                                gw[o, kh, kw] += gy[n, o, oh, ow] * x[n, o // m, ih, iw]
    return gw


# ----------------------------------------------------------------------------- the convolution
def correlate(x: np.ndarray, w: np.ndarray, geometry, bias: np.ndarray | None = None) -> np.ndarray:
    """y = C x (+ bias): x (N, C_big, H, W), w (C_small, C_big/G, kH, kW) -> y (N, C_small, Ho, Wo)."""
    N, G, Cs = x.shape[0], geometry.groups, w.shape[0]
    if is_depthwise(geometry, w.shape[1]):
        y = depthwise(x, w.reshape(Cs, *geometry.kernel), *taps(geometry))
    else:
        cols = im2col(x, *taps(geometry))  # (C_big*kH*kW, N, Ho*Wo)
        K, L = cols.shape[0], N * cols.shape[2]
        y = np.matmul(w.reshape(G, Cs // G, K // G), cols.reshape(G, K // G, L))  # W (P x), per group
        y = np.ascontiguousarray(y.reshape((Cs, N) + geometry.small).transpose(1, 0, 2, 3))
    if bias is not None:
        y += bias.reshape(1, -1, 1, 1)
    return y


# The adjoint of correlate: C = W P gives Cᵀ = Pᵀ Wᵀ. Entry (i, j) of C is w[kh, kw] when output j
# reads pixel i through tap (kh, kw); Cᵀ multiplies the output gradient by the transposed weights
# (one block per group) and col2im sends every entry back along its tap.
def correlate_adjoint(y: np.ndarray, w: np.ndarray, geometry) -> np.ndarray:
    """x = Cᵀ y: the transposed convolution of y (N, C_small, Ho, Wo) -> (N, C_big, H, W)."""
    G, Cs = geometry.groups, w.shape[0]
    Cb = w.shape[1] * G
    if is_depthwise(geometry, w.shape[1]):
        return depthwise_adjoint(y, w.reshape(Cs, *geometry.kernel), Cb, *geometry.big, *taps(geometry))
    w_t = w.reshape(G, Cs // G, -1).transpose(0, 2, 1)  # Wᵀ: (G, C_big/G*kH*kW, C_small/G)
    cols = np.matmul(w_t, by_channel(y, G))  # (G, C_big/G*kH*kW, N*Ho*Wo)
    cols = cols.reshape(w_t.shape[0] * w_t.shape[1], y.shape[0], y.shape[2] * y.shape[3])
    return col2im(cols, Cb, *geometry.big, *taps(geometry))


def correlate_keeping_columns(x: np.ndarray, w: np.ndarray, geometry, bias: np.ndarray | None = None) -> tuple:
    """``(correlate(x, w, geometry, bias), None)``: the reference keeps nothing, its correlate_weight builds P x."""
    return correlate(x, w, geometry, bias), None


def using_kept(kept):
    """The reference takes nothing from the forward: a block that changes nothing."""
    return contextlib.nullcontext()


def correlate_weight(x: np.ndarray, gy: np.ndarray, geometry) -> np.ndarray:
    """dL/dW for y = C_W x: Σ over n, oh, ow of gy[n, o, oh, ow] times the pixel that tap (kh, kw) read.

    In columns y = W (P x), so dL/dW = gy (P x)ᵀ. The transposed convolution x = Cᵀ_W y uses the
    same routine with the roles swapped, ``correlate_weight(gx, y)``, since <gx, Cᵀ_W y> = <C_W gx, y>.
    """
    G, Cs = geometry.groups, gy.shape[1]
    w_shape = (Cs, x.shape[1] // G) + geometry.kernel
    if is_depthwise(geometry, w_shape[1]):
        return depthwise_weight(x, gy, *taps(geometry)).reshape(w_shape)
    cols = im2col(x, *taps(geometry))  # (C_big*kH*kW, N, Ho*Wo)
    K, L = cols.shape[0], cols.shape[1] * cols.shape[2]
    gw = np.matmul(by_channel(gy, G), cols.reshape(G, K // G, L).transpose(0, 2, 1))  # gy (P x)ᵀ, per group
    return gw.reshape(w_shape)


def correlate_and_weight(x: np.ndarray, w: np.ndarray, gy: np.ndarray, geometry) -> tuple:
    """``(correlate(x, w), correlate_weight(x, gy))``: conv_transpose's two gradients, both read from x."""
    return correlate(x, w, geometry), correlate_weight(x, gy, geometry)
