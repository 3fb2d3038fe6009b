"""Instructor material: correct answers written WITHOUT tinynet's adjoint Functions and kernels.

A backward receives Tensors and returns Tensors, so each backward below is written in tinynet's
Tensor ops (slices, reshape/permute, matmul, index reads, ``IndexAdd``, writes into a zero
Tensor): ``create_graph=True`` records it, and the double-backward tests differentiate it again.
None of them calls the op's partner Function (``ConvTranspose``, ``ConvWeight``,
``MaxUnpool2dFn``, ``GatherAtIndices``, ``BilinearAdjoint``) or a kernel of tinynet/kernels. The
helpers a handout also blanks (``Op.helpers`` in tools/coursework.py: an adjoint op's forward,
which works on numpy arrays) are answered in plain numpy.

``python tools/coursework.py verify OP --full`` puts these answers into a handout of ``OP`` in
place of the blanked definitions and runs the student's full ``pytest`` there: it must pass
completely (without ``--full``: the tests recorded for ``OP``; ``--only FILE...``: those files).
That proves the handout accepts any correct answer, not only one that calls the provided
Functions and kernels. None of this file goes into a handout.

Each answer is the full source of one definition, keyed by op and by the name the registry
blanks (``"Class.method"`` or a function).
"""

from __future__ import annotations

# ----------------------------------------------------------------------------- conv2d
CONV_BACKWARD = """
@staticmethod
def backward(ctx, gy):
    x, w = ctx.saved_tensors
    gx, gw = _grads_of_conv(gy, x, w, ctx.geom, *ctx.needs_input_grad[:2])
    gb = None
    if ctx.needs_input_grad[2]:  # the bias is added to every pixel of every image: sum those back
        channel = gy.ndim - ctx.geom.nd - 1
        gb = gy.sum(dim=tuple(i for i in range(gy.ndim) if i != channel))
    return gx, gw, gb, None
"""

GRADS_OF_CONV = """
def _grads_of_conv(g: Tensor, x: Tensor, w: Tensor, geom: ConvGeometry, need_x: bool, need_w: bool) -> tuple:
    # Output pixel (oh, ow) read, through tap (kh, kw), the padded input at (oh*sH + kh*dH, ow*sW + kw*dW).
    # Per tap: the weight's gradient is g times those pixels, the pixels' gradient g times the weight,
    # one matmul per tap batched over the groups. Written with slices, permute, reshape, matmul and
    # writes into zeros, so create_graph records it.
    from tinynet.creation import stack, zeros

    (kH, kW), (sH, sW), (pH, pW), (dH, dW) = geom.kernel, geom.stride, geom.padding, geom.dilation
    (H, W), (Ho, Wo), G = geom.big, geom.small, geom.groups
    lead = g.shape[: g.ndim - geom.nd - 1]  # (N,) or () for an unbatched input
    N, Cs = (lead[0] if lead else 1), g.shape[g.ndim - geom.nd - 1]
    Og = Cs // G
    g5 = g.reshape(N, G, Og, Ho, Wo)
    Hp = max(pH + H, (Ho - 1) * sH + (kH - 1) * dH + 1)  # 'same' may pad more at the bottom
    Wp = max(pW + W, (Wo - 1) * sW + (kW - 1) * dW + 1)
    taps = [(kh, kw) for kh in range(kH) for kw in range(kW)]

    def window(kh, kw):
        return slice(kh * dH, kh * dH + (Ho - 1) * sH + 1, sH), slice(kw * dW, kw * dW + (Wo - 1) * sW + 1, sW)

    gx = gw = None
    if need_x:
        Cg = w.shape[1]
        w4 = w.reshape(Cs, Cg, kH, kW)
        w4 = w4[:, :, ::-1, ::-1] if geom.flip else w4  # convolve2d ran with the flipped kernel
        g_last = g5.permute(0, 3, 4, 1, 2).unsqueeze(4)  # (N, Ho, Wo, G, 1, Og)
        gxp = zeros(N, Cg * G, Hp, Wp, dtype=g.dtype)
        # An empty batch has nothing to add (and tinynet refuses in-place writes into empty views).
        for kh, kw in taps if N else ():
            rows, cols = window(kh, kw)
            pixels = (g_last @ w4[:, :, kh, kw].reshape(G, Og, Cg)).reshape(N, Ho, Wo, G * Cg)
            gxp[:, :, rows, cols] += pixels.permute(0, 3, 1, 2)
        gx = gxp[:, :, pH : pH + H, pW : pW + W].reshape(lead + (Cg * G,) + geom.big[2 - geom.nd :])
    if need_w:
        Cb = x.shape[x.ndim - geom.nd - 1]
        Cg = Cb // G
        xp = zeros(N, Cb, Hp, Wp, dtype=x.dtype)
        if N:
            xp[:, :, pH : pH + H, pW : pW + W] = x.reshape(N, Cb, H, W)
        g_rows = g5.permute(1, 2, 0, 3, 4).reshape(G, Og, N * Ho * Wo)
        per_tap = []
        for kh, kw in taps:
            rows, cols = window(kh, kw)
            pixels = xp[:, :, rows, cols].reshape(N, G, Cg, Ho, Wo).permute(1, 0, 3, 4, 2)
            per_tap.append(g_rows @ pixels.reshape(G, N * Ho * Wo, Cg))  # (G, Og, Cg)
        gw = stack(per_tap, dim=3).reshape(Cs, Cg, kH, kW)
        gw = gw[:, :, ::-1, ::-1] if geom.flip else gw
        gw = gw.reshape((Cs, Cg) + geom.kernel[2 - geom.nd :])
    return gx, gw
"""

CONV_WEIGHT_FORWARD = """
@staticmethod
def forward(ctx, big, small, geom: ConvGeometry):
    # gw[o, c, kh, kw] = sum over n, oh, ow of small[n, o, oh, ow] times the padded big image at
    # (n, channel c of o's group, oh*sH + kh*dH, ow*sW + kw*dW): the pixel tap (kh, kw) read.
    ctx.geom = geom
    ctx.save_for_backward(big if ctx.needs_input_grad[1] else None, small if ctx.needs_input_grad[0] else None)
    (kH, kW), (sH, sW), (pH, pW), (dH, dW) = geom.kernel, geom.stride, geom.padding, geom.dilation
    (H, W), (Ho, Wo), G = geom.big, geom.small, geom.groups
    x4 = np.ascontiguousarray(big).reshape(-1, big.shape[big.ndim - geom.nd - 1], H, W)
    g4 = np.ascontiguousarray(small).reshape(x4.shape[0], small.shape[small.ndim - geom.nd - 1], Ho, Wo)
    Cs, Cg = g4.shape[1], x4.shape[1] // G
    Og = Cs // G
    Hp = max(pH + H, (Ho - 1) * sH + (kH - 1) * dH + 1)
    Wp = max(pW + W, (Wo - 1) * sW + (kW - 1) * dW + 1)
    xp = np.zeros((x4.shape[0], x4.shape[1], Hp, Wp), np.result_type(big, small))
    xp[:, :, pH : pH + H, pW : pW + W] = x4
    gw = np.zeros((Cs, Cg, kH, kW), xp.dtype)
    for group in range(G):
        out_c, in_c = slice(group * Og, (group + 1) * Og), slice(group * Cg, (group + 1) * Cg)
        for kh in range(kH):
            for kw in range(kW):
                pixels = xp[:, in_c, kh * dH : kh * dH + (Ho - 1) * sH + 1 : sH, kw * dW : kw * dW + (Wo - 1) * sW + 1 : sW]
                gw[out_c, :, kh, kw] = np.einsum("nohw,nchw->oc", g4[:, out_c], pixels, optimize=True)
    gw = gw[:, :, ::-1, ::-1] if geom.flip else gw  # convolve2d's weight is used flipped
    return np.ascontiguousarray(gw).reshape((Cs, Cg) + geom.kernel[2 - geom.nd :])
"""

# ----------------------------------------------------------------------------- max_pool2d
MAX_POOL_BACKWARD = """
@staticmethod
def backward(ctx, grad, grad_indices):
    # Each input pixel collects the gradients of the outputs whose maximum it was: a scatter-add of
    # grad to the switches, here IndexAdd (the adjoint of reading at integer indices). A window that
    # dilation made skip the whole plane points outside it: that output sends nothing back.
    from tinynet.tensor_functions import IndexAdd

    (argmax,) = ctx.saved_arrays
    H, W = ctx.in_shape[-2:]
    planes = int(np.prod(ctx.in_shape[:-2]))
    idx = argmax.reshape(planes, argmax.shape[-2] * argmax.shape[-1])
    plane = np.broadcast_to(np.arange(planes)[:, None], idx.shape)
    inside = (idx >= 0) & (idx < H * W)
    values = grad.reshape(planes, idx.shape[1])[inside]
    gx = IndexAdd.apply(values, (plane[inside], idx[inside]), (planes, H * W), False)
    return gx.reshape(ctx.in_shape), None, None, None, None, None
"""

# ----------------------------------------------------------------------------- max_unpool2d
MAX_UNPOOL_BACKWARD = """
@staticmethod
def backward(ctx, grad):
    # The forward sent x[j] to idx[j] in its plane; its gradient is read back at idx[j] (an index read,
    # whose own backward adds it back there).
    (idx,) = ctx.saved_arrays
    if not ctx.needs_input_grad[0]:
        return None, None, None
    planes = grad.reshape(idx.shape[0], grad.shape[-2] * grad.shape[-1])
    gx = planes[np.arange(idx.shape[0])[:, None], idx]
    return gx.reshape(ctx.in_shape), None, None
"""

GATHER_AT_INDICES_FORWARD = """
@staticmethod
def forward(ctx, x, indices):
    # y[p, j] = x[p, indices[p, j]] in each flattened H*W plane p.
    ctx.save_for_backward(indices)
    ctx.in_hw = x.shape[-2:]
    planes = np.ascontiguousarray(x).reshape(-1, x.shape[-2] * x.shape[-1])
    idx = np.asarray(indices, np.int64).reshape(planes.shape[0], -1)
    return np.take_along_axis(planes, idx, axis=1).reshape(indices.shape)
"""

# ----------------------------------------------------------------------------- bilinear
BILINEAR_BACKWARD = """
@staticmethod
def backward(ctx, grad):
    # The forward is separable: rows R (Ho x H, two weights a row), then columns C (Wo x W),
    # y = R x Cᵀ. Its adjoint is gx = Rᵀ g C: two matmuls with constant Tensors, so create_graph
    # records them (and their backward is R . Cᵀ again, the forward).
    top, bottom, w_top, w_bottom, left, right, w_left, w_right = ctx.tables
    shape = ctx.in_shape
    H, W = (shape[-2], shape[-1]) if len(shape) == 4 else (1, shape[-1])
    dtype = np.dtype(grad.dtype)

    def matrix(first, second, w_first, w_second, n):
        m = np.zeros((len(first), n), dtype)
        np.add.at(m, (np.arange(len(first)), first), w_first.astype(dtype))
        np.add.at(m, (np.arange(len(first)), second), w_second.astype(dtype))
        return Tensor._wrap(m)

    R, C = matrix(top, bottom, w_top, w_bottom, H), matrix(left, right, w_left, w_right, W)
    g = grad.reshape(shape[0], shape[1], len(top), len(left))
    return (R.T @ g @ C).reshape(shape), None, None, None
"""

BILINEAR_ADJOINT_FORWARD = """
@staticmethod
def forward(ctx, g, rows, cols, in_spatial):
    # Scatter each g[.., i, j] to its four source pixels with the forward's weights: rows first, then columns.
    ctx.tables = (rows, cols)
    ctx.out_spatial = g.shape[2:]
    top, bottom, w_top, w_bottom = rows
    left, right, w_left, w_right = cols
    H, W = (1, in_spatial[0]) if len(in_spatial) == 1 else tuple(in_spatial)
    P = g.shape[0] * g.shape[1]
    planes = np.ascontiguousarray(g).reshape(P, len(top), len(left))
    by_rows = np.zeros((P, H, len(left)), g.dtype)
    np.add.at(by_rows, (slice(None), top), planes * w_top.astype(g.dtype)[:, None])
    np.add.at(by_rows, (slice(None), bottom), planes * w_bottom.astype(g.dtype)[:, None])
    out = np.zeros((P, H, W), g.dtype)
    np.add.at(out, (slice(None), slice(None), left), by_rows * w_left.astype(g.dtype))
    np.add.at(out, (slice(None), slice(None), right), by_rows * w_right.astype(g.dtype))
    return out.reshape(g.shape[:2] + tuple(in_spatial))
"""

# op -> {what the handout blanks ("Class.method" or a function): the source of its answer}
ANSWERS: dict[str, dict[str, str]] = {
    "conv2d": {
        "Conv.backward": CONV_BACKWARD,
        "_grads_of_conv": GRADS_OF_CONV,
        "ConvWeight.forward": CONV_WEIGHT_FORWARD,
    },
    "max_pool2d": {"MaxPool2dFn.backward": MAX_POOL_BACKWARD},
    "max_unpool2d": {
        "MaxUnpool2dFn.backward": MAX_UNPOOL_BACKWARD,
        "GatherAtIndices.forward": GATHER_AT_INDICES_FORWARD,
    },
    "upsample_bilinear": {
        "Bilinear.backward": BILINEAR_BACKWARD,
        "BilinearAdjoint.forward": BILINEAR_ADJOINT_FORWARD,
    },
}
