"""im2col and col2im: the gather and the scatter that every convolution is built from.

A 2-D convolution (cross-correlation) of ``x`` with kernel ``w`` reads, for the
output pixel (oh, ow) and kernel tap (kh, kw), the input pixel

    ih = oh * sH - pH + kh * dH,        iw = ow * sW - pW + kw * dW

(zero when it falls in the padding). ``im2col`` copies these pixels into a
matrix, one row per (c, kh, kw) and one column per (image, output pixel), so
the convolution of a whole chunk of the batch becomes one matrix product
``w @ cols`` (done by numpy's BLAS in ``tinynet.functional.conv``). ``col2im`` is its adjoint: the same loop nest with
the read and the write swapped, adding each column entry back onto the pixel it
came from. These two kernels, plus the GEMMs, give conv2d, its transpose and all
their gradients.

The padding arguments are the *top/left* offsets only: the caller passes the
output size (Ho, Wo) explicitly, and any bottom/right padding is implied by it
(this is how PyTorch's asymmetric ``padding='same'`` fits in).
"""

from __future__ import annotations

from numba import njit, prange


@njit(cache=True)
def _valid_range(start: int, step: int, size: int, count: int):
    """The o in [o0, o1) with 0 <= start + o * step < size, clipped to [0, count).

    Used to split an output row into left padding, inside, right padding, so the
    inner loops carry no bounds test (and vectorise).
    """
    o0 = 0 if start >= 0 else (-start + step - 1) // step
    o1 = 0 if start >= size else (size - 1 - start) // step + 1
    o0 = min(o0, count)
    o1 = max(o0, min(o1, count))
    return o0, o1


@njit(cache=True, parallel=True)
def im2col(x, kH, kW, sH, sW, pH, pW, dH, dW, Ho, Wo, cols):
    """Gather the receptive fields of ``x`` into ``cols`` (written in full).

    x: (N, C, H, W)  ->  cols: (C*kH*kW, N, Ho*Wo), row (c*kH + kh)*kW + kw, column (n, oh*Wo + ow).
    This is the matrix C of the seeds with the kernel factored out: C = W @ im2col.
    """
    N, C, H, W = x.shape
    for nc in prange(N * C):  # each (n, c) owns cols[c*kH*kW : (c+1)*kH*kW, n]
        n = nc // C
        c = nc % C
        for kh in range(kH):
            ih0 = kh * dH - pH  # the input row that output row 0 reads
            oh0, oh1 = _valid_range(ih0, sH, H, Ho)  # the output rows that read inside the image
            for kw in range(kW):
                iw0 = kw * dW - pW
                ow0, ow1 = _valid_range(iw0, sW, W, Wo)
                dst = cols[(c * kH + kh) * kW + kw, n].reshape(Ho, Wo)
                dst[:oh0] = 0  # rows reading the top padding
                dst[oh1:] = 0  # ... and the bottom padding
                for oh in range(oh0, oh1):
                    src = x[n, c, ih0 + oh * sH]
                    dst[oh, :ow0] = 0
                    dst[oh, ow1:] = 0
                    if sW == 1:  # a contiguous copy (slices compile to fast loops)
                        dst[oh, ow0:ow1] = src[iw0 + ow0 : iw0 + ow1]
                    else:
                        for ow in range(ow0, ow1):
                            dst[oh, ow] = src[iw0 + ow * sW]
    return cols


# The adjoint of im2col. im2col is a 0/1 matrix P with P[(c,kh,kw,oh,ow), (c,ih,iw)] = 1 exactly
# when ih = oh*sH - pH + kh*dH and iw = ow*sW - pW + kw*dW. Its transpose Pᵀ therefore sends
# column entry (c,kh,kw,oh,ow) back to that same (c,ih,iw) and *adds* (several taps can hit one
# pixel): the same loop nest with read and write swapped. Entries whose pixel lies in the padding
# are dropped (the adjoint of writing a zero). With the conv as C = W @ P, Cᵀ = Pᵀ @ Wᵀ: a GEMM by
# Wᵀ followed by col2im is the transposed convolution. Stride in C becomes the spacing of the
# scattered taps in Cᵀ (zero insertion); dilation stays the spacing of the kernel taps.
# Parallel over (n, c): each iteration owns the whole plane x[n, c], so no two threads add into
# one pixel.
@njit(cache=True, parallel=True)
def col2im(cols, kH, kW, sH, sW, pH, pW, dH, dW, Ho, Wo, x):
    """Scatter-add ``cols`` back onto the image ``x`` (overwritten): the adjoint of :func:`im2col`.

    cols: (C*kH*kW, N, Ho*Wo)  ->  x: (N, C, H, W).
    """
    N, C, H, W = x.shape
    for nc in prange(N * C):
        n = nc // C
        c = nc % C
        x[n, c] = 0
        for kh in range(kH):
            ih0 = kh * dH - pH
            oh0, oh1 = _valid_range(ih0, sH, H, Ho)
            for kw in range(kW):
                iw0 = kw * dW - pW
                ow0, ow1 = _valid_range(iw0, sW, W, Wo)
                src = cols[(c * kH + kh) * kW + kw, n].reshape(Ho, Wo)
                for oh in range(oh0, oh1):
                    dst = x[n, c, ih0 + oh * sH]
                    if sW == 1:
                        dst[iw0 + ow0 : iw0 + ow1] += src[oh, ow0:ow1]
                    else:
                        for ow in range(ow0, ow1):
                            dst[iw0 + ow * sW] += src[oh, ow]
    return x
