"""The fast tier's convolution kernels: im2col and col2im with copy strategies, and direct depthwise sums.

They compute what tinynet/kernels/reference/conv.py defines (the loops there are the
meaning; tests/test_tiers.py proves these equal), with the tricks that make them fast:

* im2col writes a column matrix it is given (chunk by chunk, see conv_planner.py) and
  copies each tap's block row by row with the padding split off, so the inner loops carry
  no bounds test; with ``one_run`` (stride 1 across and output rows as wide as input rows,
  e.g. 'same' padding) each tap's block is one contiguous stretch of the plane, copied in
  one loop whose wrongly copied border columns are then cleared;
* col2im is the same loop nest with the read and the write swapped (its adjoint), and
  clears the entries of its input that belong to the padding (it treats ``cols`` as scratch);
* the depthwise kernels skip the columns (see the comment above them).

The layout is that of the reference: cols: (C*kH*kW, N, Ho*Wo), row (c*kH + kh)*kW + kw,
column (n, oh*Wo + ow), and the padding arguments are the top/left offsets only (the output
size (Ho, Wo) implies any bottom/right padding, which is how PyTorch's asymmetric
``padding='same'`` fits in).

im2col and col2im run on one thread, by measurement (benchmarks/PROFILE.md): the copies are
memory-bound and the GEMMs between them already use both cores through OpenBLAS's threads.
"""

from __future__ import annotations

import numpy as np
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
def im2col(x, kH, kW, sH, sW, pH, pW, dH, dW, Ho, Wo, one_run, cols):
    """Gather the receptive fields of ``x`` into ``cols`` (written in full): reference.conv.im2col.

    x: (N, C, H, W)  ->  cols: (C*kH*kW, N, Ho*Wo). ``one_run`` (sW == 1 and sH*W == Wo, decided
    by the planner) copies each tap's block as one stretch of the plane.
    """
    N, C, H, W = x.shape
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
                    # make the whole block one contiguous stretch of the plane, shifted by
                    # ih0*W + iw0. Copy it in one loop; the columns that belong to the left/right
                    # padding get the neighbouring row's pixels and are cleared below.
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


# The adjoint of im2col (derived above reference.conv.col2im): the same loop nest with the read
# and the write swapped. The loop runs over destination planes: iteration (n, c) owns x[n, c].
@njit(cache=True)
def col2im(cols, kH, kW, sH, sW, pH, pW, dH, dW, Ho, Wo, one_run, x):
    """Scatter-add ``cols`` back onto the image ``x`` (overwritten): the adjoint of :func:`im2col`.

    cols: (C*kH*kW, N, Ho*Wo)  ->  x: (N, C, H, W). ``cols`` is scratch: its entries that
    im2col would read from the padding are set to zero (they are dropped either way).
    """
    N, C, H, W = x.shape
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


# ----------------------------------------------------------------------------- im2col through a table
# The copies above move whole rows, which pays on wide rows; on short ones (8x8 feature maps)
# or with a stride (every other pixel) their per-row set-up and strided reads cost more than
# the copying (benchmarks/PROFILE.md, "im2col through a table"). These two kernels first copy
# the plane into a zero-padded plane xp with rows of Wp pixels, so output (oh, ow) reads tap
# (kh, kw) at xp.flat[(oh*sH + kh*dH)*Wp + ow*sW + kw*dW] = xp.flat[offset[j] + kh*dH*Wp + kw*dW]
# with j = oh*Wo + ow: one table of offsets per call, and every tap's row of the columns is a
# gather through it, with no padding test and no short rows.
@njit(cache=True)
def _tap_table(Ho, Wo, sH, sW, Wp):
    """offset[oh*Wo + ow] = oh*sH*Wp + ow*sW: where output pixel (oh, ow) reads tap (0, 0) in the padded plane."""
    offset = np.empty(Ho * Wo, dtype=np.int64)
    for oh in range(Ho):
        for ow in range(Wo):
            offset[oh * Wo + ow] = oh * sH * Wp + ow * sW
    return offset


@njit(cache=True)
def _padded_plane_and_table(image, kH, kW, sH, sW, pH, pW, dH, dW, Ho, Wo):
    """Scratch for one padded plane (the image at (pH, pW) and every tap's reach) and its table of offsets."""
    H, W = image.shape[-2:]
    Hp = max(pH + H, (Ho - 1) * sH + (kH - 1) * dH + 1)
    Wp = max(pW + W, (Wo - 1) * sW + (kW - 1) * dW + 1)
    return np.empty((Hp, Wp), dtype=image.dtype), _tap_table(Ho, Wo, sH, sW, Wp)


@njit(cache=True)
def im2col_table(x, kH, kW, sH, sW, pH, pW, dH, dW, Ho, Wo, cols):
    """:func:`im2col` for any stride and padding, through a padded plane and a table of offsets."""
    N, C, H, W = x.shape
    xp, offset = _padded_plane_and_table(x, kH, kW, sH, sW, pH, pW, dH, dW, Ho, Wo)
    Wp = xp.shape[1]
    flat = xp.reshape(xp.size)
    for nc in range(N * C):
        n = nc // C
        c = nc % C
        _pad_plane(x[n, c], pH, pW, xp)
        for kh in range(kH):
            for kw in range(kW):
                src = flat[kh * dH * Wp + kw * dW :]
                dst = cols[(c * kH + kh) * kW + kw, n]
                for j in range(Ho * Wo):
                    dst[j] = src[offset[j]]
    return cols


# The adjoint, as col2im is im2col's: scatter-add every tap's row into the padded plane
# through the same table (for a fixed tap the offsets are distinct, nothing collides within
# a row), then keep the plane's inside; what landed in the padding is dropped.
@njit(cache=True)
def col2im_table(cols, kH, kW, sH, sW, pH, pW, dH, dW, Ho, Wo, x):
    """:func:`col2im` for any stride and padding (x overwritten; cols is left as it was)."""
    N, C, H, W = x.shape
    xp, offset = _padded_plane_and_table(x, kH, kW, sH, sW, pH, pW, dH, dW, Ho, Wo)
    Wp = xp.shape[1]
    flat = xp.reshape(xp.size)
    for nc in range(N * C):
        n = nc // C
        c = nc % C
        _zero(xp)
        for kh in range(kH):
            for kw in range(kW):
                dst = flat[kh * dH * Wp + kw * dW :]
                src = cols[(c * kH + kh) * kW + kw, n]
                for j in range(Ho * Wo):
                    dst[offset[j]] += src[j]
        plane = x[n, c]
        for ih in range(H):
            row, inside = plane[ih], xp[ih + pH, pW : pW + W]
            for iw in range(W):  # indexed from 0: no negative-index check, so it vectorises
                row[iw] = inside[iw]
    return x


# ----------------------------------------------------------------------------- depthwise
# A depthwise convolution (every group reads one input channel: groups == C_in) is a GEMM
# of one row per group, so im2col would copy each pixel kH*kW times to multiply it by a
# 1 x kH*kW matrix: memory traffic for almost no arithmetic (benchmarks/PROFILE.md has the
# figures). These kernels do the same sums directly, tap by
# tap. Output channel o reads input channel o // m (m = C_out / C_in, the depth multiplier).
# Same indices as im2col:  ih = oh*sH - pH + kh*dH,  iw = ow*sW - pW + kw*dW.
#
# "Wide rows" (stride 1, the common case): copy the input plane into a zero-padded plane xp
# of Hp = Ho + (kH-1)*dH rows of Wp = Wo + (kW-1)*dW pixels, and give the output the same row
# length Wp (its last Wp - Wo columns are scratch). Output pixel j = oh*Wp + ow then reads
# xp[j + kh*dH*Wp + kw*dW] for every tap: one contiguous, vectorised loop per tap over the
# whole plane instead of Ho short rows with padding tests. Other strides go row by row.
#
# The kernels run on one thread. Parallel drivers over runs of planes (prange) added 8.3 s of
# cold compile to the three kernels (13.1 s against 4.9 s for their first calls), and inside a
# training step they gained nothing: OpenBLAS's threads hold the second core between the
# GEMMs around them (benchmarks/PROFILE.md).


# Plain loops instead of slice assignments (a[:] = 0, a[i] = b[:, :k]) in the kernels below:
# Numba compiles each slice assignment into general broadcasting code, which made the three
# depthwise kernels slow to compile; these two helpers are compiled once and shared.
@njit(cache=True)
def _zero(a):
    """a[...] = 0 for a 2-D array."""
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            a[i, j] = 0


@njit(cache=True)
def _copy(src, dst):
    """dst[i, j] = src[i, j] over the rows and columns both 2-D arrays have."""
    for i in range(min(src.shape[0], dst.shape[0])):
        for j in range(min(src.shape[1], dst.shape[1])):
            dst[i, j] = src[i, j]


@njit(cache=True)
def _pad_plane(src, pH, pW, xp):
    """xp (Hp, Wp) = src (H, W) placed at (pH, pW) in zeros; negative padding crops."""
    H, W = src.shape
    Hp, Wp = xp.shape
    _zero(xp)
    iw0, iw1 = max(0, -pW), min(W, Wp - pW)
    for ih in range(max(0, -pH), min(H, Hp - pH)):
        dst = xp[ih + pH, iw0 + pW : iw1 + pW]
        row = src[ih, iw0:iw1]
        # Index from 0: Numba knows i >= 0 and drops its negative-index check, so the copy
        # vectorises (dst[iw + pW] = row[iw] stayed scalar: 4.6 µs a 64x64 plane, not 0.26).
        for i in range(iw1 - iw0):
            dst[i] = row[i]


@njit(cache=True)
def _add_taps_wide(xp, taps, dH, dW, wide, count):
    """wide[j] += Σ_(kh, kw) taps[kh, kw] * xp.flat[j + kh*dH*Wp + kw*dW] for j < count (xp: (Hp, Wp)).

    Three taps of a kernel row per pass over ``wide`` (a 3x3 kernel: 3 passes, not 9), which
    keeps the loop memory-light; a leftover tap or two go one at a time.
    """
    kH, kW = taps.shape
    Wp = xp.shape[1]
    flat = xp.reshape(xp.size)
    for kh in range(kH):
        kw = 0
        while kw + 3 <= kW:
            t0, t1, t2 = taps[kh, kw], taps[kh, kw + 1], taps[kh, kw + 2]
            r0 = flat[kh * dH * Wp + kw * dW :]
            r1 = flat[kh * dH * Wp + (kw + 1) * dW :]
            r2 = flat[kh * dH * Wp + (kw + 2) * dW :]
            for j in range(count):
                wide[j] += t0 * r0[j] + t1 * r1[j] + t2 * r2[j]
            kw += 3
        while kw < kW:
            t0 = taps[kh, kw]
            r0 = flat[kh * dH * Wp + kw * dW :]
            for j in range(count):
                wide[j] += t0 * r0[j]
            kw += 1


@njit(cache=True)
def depthwise(x, w, kH, kW, sH, sW, pH, pW, dH, dW, Ho, Wo, y):
    """y[n, o] = Σ_taps w[o, kh, kw] * x[n, o // m] shifted by the tap (y overwritten).

    x: (N, C, H, W), w: (C*m, kH, kW)  ->  y: (N, C*m, Ho, Wo). The matrix C of a depthwise conv.
    """
    N, C, H, W = x.shape
    Co = y.shape[1]
    m = Co // C
    if sH == 1 and sW == 1:  # wide rows
        Hp, Wp = Ho + (kH - 1) * dH, Wo + (kW - 1) * dW
        xp = np.empty((Hp, Wp), dtype=x.dtype)
        wide = np.empty((Ho, Wp), dtype=y.dtype)
        for no in range(N * Co):
            n, o = no // Co, no % Co
            if o % m == 0:  # a new input plane
                _pad_plane(x[n, o // m], pH, pW, xp)
            _zero(wide)
            _add_taps_wide(xp, w[o], dH, dW, wide.reshape(Ho * Wp), (Ho - 1) * Wp + Wo)
            _copy(wide, y[n, o])  # drops the scratch columns
        return y
    for no in range(N * Co):  # row by row
        n, o = no // Co, no % Co
        c = o // m
        _zero(y[n, o])
        for kh in range(kH):
            ih0 = kh * dH - pH
            oh0, oh1 = _valid_range(ih0, sH, H, Ho)
            for kw in range(kW):
                iw0 = kw * dW - pW
                ow0, ow1 = _valid_range(iw0, sW, W, Wo)
                tap = w[o, kh, kw]
                for oh in range(oh0, oh1):
                    src = x[n, c, ih0 + oh * sH]
                    dst = y[n, o, oh, ow0:ow1]
                    for i in range(ow1 - ow0):
                        dst[i] += tap * src[iw0 + (ow0 + i) * sW]
    return y


# The adjoint of depthwise (derived above reference.conv.depthwise_adjoint), row by row: the
# same loop nest with read and write swapped. At stride 1 the scatter is itself a correlation:
# pixel ih receives gy[ih + pH - kh*dH] through tap kh, i.e. tap kH-1-kh' of a kernel *flipped*
# in both axes read at offset kh'*dH - ((kH-1)*dH - pH). So Cᵀ is the forward kernel (wide rows)
# with the flipped taps and padding (k-1)*d - p: "the transposed convolution of a stride-1 conv
# is a conv with the flipped kernel" (the lecture notes). Iteration (n, c) writes gx[n, c] only.
@njit(cache=True)
def depthwise_adjoint(gy, w, kH, kW, sH, sW, pH, pW, dH, dW, Ho, Wo, gx):
    """gx = Cᵀ gy for :func:`depthwise` (gx overwritten): the transposed depthwise convolution.

    gy: (N, C*m, Ho, Wo), w: (C*m, kH, kW)  ->  gx: (N, C, H, W).
    """
    N, C, H, W = gx.shape
    m = gy.shape[1] // C
    if sH == 1 and sW == 1:  # wide rows, flipped taps
        qH, qW = (kH - 1) * dH - pH, (kW - 1) * dW - pW  # the flipped correlation's padding
        Hp, Wp = H + (kH - 1) * dH, W + (kW - 1) * dW
        gp = np.empty((Hp, Wp), dtype=gy.dtype)
        wide = np.empty((H, Wp), dtype=gx.dtype)
        for nc in range(N * C):
            n, c = nc // C, nc % C
            _zero(wide)
            for o in range(c * m, (c + 1) * m):
                _pad_plane(gy[n, o], qH, qW, gp)
                _add_taps_wide(gp, w[o, ::-1, ::-1], dH, dW, wide.reshape(H * Wp), (H - 1) * Wp + W)
            _copy(wide, gx[n, c])
        return gx
    for nc in range(N * C):  # row by row
        n, c = nc // C, nc % C
        _zero(gx[n, c])
        for o in range(c * m, (c + 1) * m):
            for kh in range(kH):
                ih0 = kh * dH - pH
                oh0, oh1 = _valid_range(ih0, sH, H, Ho)
                for kw in range(kW):
                    iw0 = kw * dW - pW
                    ow0, ow1 = _valid_range(iw0, sW, W, Wo)
                    tap = w[o, kh, kw]
                    for oh in range(oh0, oh1):
                        dst = gx[n, c, ih0 + oh * sH]
                        src = gy[n, o, oh, ow0:ow1]
                        for i in range(ow1 - ow0):
                            dst[iw0 + (ow0 + i) * sW] += tap * src[i]
    return gx


# fastmath "reassoc" only: lets LLVM split each dot product into vector lanes of partial sums
# (so it vectorises, and each lane adds fewer terms, which keeps float32 rounding small);
# NaN and inf still propagate as usual.
@njit(cache=True, fastmath={"reassoc"})
def depthwise_weight(x, gy, kH, kW, sH, sW, pH, pW, dH, dW, Ho, Wo, gw):
    """gw[o, kh, kw] = Σ_n,oh,ow gy[n, o, oh, ow] * x[n, o // m, ih, iw] (gw overwritten).

    x: (N, C, H, W), gy: (N, C*m, Ho, Wo)  ->  gw: (C*m, kH, kW): one dot product of the output
    gradient with the shifted input per tap.
    """
    N, C, H, W = x.shape
    m = gy.shape[1] // C
    zero = np.zeros(1, dtype=gw.dtype)[0]
    wide_rows = sH == 1 and sW == 1
    Hp, Wp = Ho + (kH - 1) * dH, Wo + (kW - 1) * dW
    xp = np.empty((Hp, Wp), dtype=x.dtype)
    g = np.zeros((Ho, Wp), dtype=gy.dtype)  # wide rows: columns Wo: stay zero
    g_flat = g.reshape(Ho * Wp)
    xp_flat = xp.reshape(Hp * Wp)
    count = (Ho - 1) * Wp + Wo
    for o in range(gy.shape[1]):
        c = o // m
        _zero(gw[o])
        for n in range(N):
            if wide_rows:
                _pad_plane(x[n, c], pH, pW, xp)
                _copy(gy[n, o], g)  # columns Wo: of g stay zero
            for kh in range(kH):
                ih0 = kh * dH - pH
                oh0, oh1 = _valid_range(ih0, sH, H, Ho)
                for kw in range(kW):
                    acc = zero
                    if wide_rows:
                        run = xp_flat[kh * dH * Wp + kw * dW :]
                        for j in range(count):
                            acc += g_flat[j] * run[j]
                    else:  # row by row
                        iw0 = kw * dW - pW
                        ow0, ow1 = _valid_range(iw0, sW, W, Wo)
                        for oh in range(oh0, oh1):
                            src = x[n, c, ih0 + oh * sH]
                            row = gy[n, o, oh]
                            for i in range(ow0, ow1):
                                acc += row[i] * src[iw0 + i * sW]
                    gw[o, kh, kw] += acc
    return gw
