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

Both kernels run on one thread, by measurement. Each iteration (n, c) owns its
output rows (im2col) or plane (col2im), so ``prange`` would be race-free, but on
the 2 shared cores we benchmark on it was never faster: the copies are
memory-bound, the GEMMs between them already use both cores through OpenBLAS's
threads, and handing the cores back and forth between numba's and OpenBLAS's
thread pools cost more than it saved (N16 C32 32x32 3x3 conv2d forward+backward:
15 ms on one numba thread, 16-20 ms with numba's workqueue pool, 60+ ms with its
OpenMP pool, whose idle workers either spin against OpenBLAS or sleep through a
scheduler tick). Serial kernels also compile in about half the time.
"""

from __future__ import annotations

from numba import njit


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


@njit(cache=True)
def im2col(x, kH, kW, sH, sW, pH, pW, dH, dW, Ho, Wo, cols):
    """Gather the receptive fields of ``x`` into ``cols`` (written in full).

    x: (N, C, H, W)  ->  cols: (C*kH*kW, N, Ho*Wo), row (c*kH + kh)*kW + kw, column (n, oh*Wo + ow).
    This is the matrix C of the seeds with the kernel factored out: C = W @ im2col.
    """
    N, C, H, W = x.shape
    one_run = sW == 1 and sH * W == Wo  # see "one run" below
    for nc in range(N * C):  # each (n, c) owns cols[c*kH*kW : (c+1)*kH*kW, n]
        n = nc // C
        c = nc % C
        plane = x[n, c].reshape(H * W)
        for kh in range(kH):
            ih0 = kh * dH - pH  # the input row that output row 0 reads
            oh0, oh1 = _valid_range(ih0, sH, H, Ho)  # the output rows that read inside the image
            for kw in range(kW):
                iw0 = kw * dW - pW
                ow0, ow1 = _valid_range(iw0, sW, W, Wo)
                flat = cols[(c * kH + kh) * kW + kw, n]
                dst = flat.reshape(Ho, Wo)
                dst[:oh0] = 0  # rows reading the top padding
                dst[oh1:] = 0  # ... and the bottom padding
                if oh1 <= oh0 or ow1 <= ow0:
                    dst[oh0:oh1] = 0  # the tap never lands inside the image
                    continue
                # dst[oh, ow] = x[n, c, ih0 + oh*sH, iw0 + ow*sW] for oh0 <= oh < oh1, ow0 <= ow < ow1.
                # The loops run on views indexed from 0, so numba drops its negative-index checks
                # and vectorises the copies.
                if one_run:
                    # One run: output rows as wide as input rows that read consecutive input rows
                    # (stride 1 across, sH*W == Wo, e.g. 'same' padding) make the whole block one
                    # contiguous stretch of the plane, shifted by ih0*W + iw0. Copy it in one loop;
                    # the columns that belong to the left/right padding get the neighbouring row's
                    # pixels and are cleared below.
                    lo, hi = oh0 * Wo + ow0, (oh1 - 1) * Wo + ow1
                    out = flat[lo:hi]
                    run = plane[lo + ih0 * W + iw0 : hi + ih0 * W + iw0]
                    for i in range(hi - lo):
                        out[i] = run[i]
                else:
                    for oh in range(oh0, oh1):
                        src = x[n, c, ih0 + oh * sH]  # the input row
                        seg = dst[oh, ow0:ow1]
                        if sW == 1:
                            run = src[iw0 + ow0 : iw0 + ow1]
                            for i in range(ow1 - ow0):
                                seg[i] = run[i]
                        else:
                            for i in range(ow1 - ow0):
                                seg[i] = src[iw0 + (ow0 + i) * sW]
                for oh in range(oh0, oh1):  # the columns reading the left/right padding
                    out = dst[oh]
                    for ow in range(ow0):
                        out[ow] = 0
                    for ow in range(ow1, Wo):
                        out[ow] = 0
    return cols


# The adjoint of im2col. im2col is a 0/1 matrix P with P[(c,kh,kw,oh,ow), (c,ih,iw)] = 1 exactly
# when ih = oh*sH - pH + kh*dH and iw = ow*sW - pW + kw*dW. Its transpose Pᵀ therefore sends
# column entry (c,kh,kw,oh,ow) back to that same (c,ih,iw) and *adds* (several taps can hit one
# pixel): the same loop nest with read and write swapped. Entries whose pixel lies in the padding
# are dropped (the adjoint of writing a zero). With the conv as C = W @ P, Cᵀ = Pᵀ @ Wᵀ: a GEMM by
# Wᵀ followed by col2im is the transposed convolution. Stride in C becomes the spacing of the
# scattered taps in Cᵀ (zero insertion); dilation stays the spacing of the kernel taps.
# The loop runs over destination planes: iteration (n, c) owns x[n, c] and adds only into it.
@njit(cache=True)
def col2im(cols, kH, kW, sH, sW, pH, pW, dH, dW, Ho, Wo, x):
    """Scatter-add ``cols`` back onto the image ``x`` (overwritten): the adjoint of :func:`im2col`.

    cols: (C*kH*kW, N, Ho*Wo)  ->  x: (N, C, H, W). ``cols`` is scratch: its entries that
    im2col would read from the padding are set to zero (they are dropped either way).
    """
    N, C, H, W = x.shape
    one_run = sW == 1 and sH * W == Wo
    for nc in range(N * C):
        n = nc // C
        c = nc % C
        x[n, c] = 0
        plane = x[n, c].reshape(H * W)
        for kh in range(kH):
            ih0 = kh * dH - pH
            oh0, oh1 = _valid_range(ih0, sH, H, Ho)
            for kw in range(kW):
                iw0 = kw * dW - pW
                ow0, ow1 = _valid_range(iw0, sW, W, Wo)
                if oh1 <= oh0 or ow1 <= ow0:
                    continue
                flat = cols[(c * kH + kh) * kW + kw, n]
                src = flat.reshape(Ho, Wo)
                for oh in range(oh0, oh1):  # drop the entries of the left/right padding
                    row = src[oh]
                    for ow in range(ow0):
                        row[ow] = 0
                    for ow in range(ow1, Wo):
                        row[ow] = 0
                if one_run:  # the same contiguous stretch im2col copied, now added back
                    lo, hi = oh0 * Wo + ow0, (oh1 - 1) * Wo + ow1
                    seg = flat[lo:hi]
                    run = plane[lo + ih0 * W + iw0 : hi + ih0 * W + iw0]
                    for i in range(hi - lo):
                        run[i] += seg[i]
                else:
                    for oh in range(oh0, oh1):
                        dst = x[n, c, ih0 + oh * sH]  # the input row
                        seg = src[oh, ow0:ow1]
                        if sW == 1:
                            run = dst[iw0 + ow0 : iw0 + ow1]
                            for i in range(ow1 - ow0):
                                run[i] += seg[i]
                        else:
                            for i in range(ow1 - ow0):
                                dst[iw0 + (ow0 + i) * sW] += seg[i]
    return x
