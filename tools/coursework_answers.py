"""Instructor material: correct backwards written in plain numpy, WITHOUT tinynet's kernels.

``python tools/coursework.py verify OP --full`` puts the answer below into a handout of ``OP`` in
place of the blanked backward and runs the student's full ``pytest`` there: it must pass completely
(without ``--full``: the tests recorded for ``OP``).
That proves the handout accepts any correct answer, not only one that calls the provided
kernels (the scatter/gather adjoints in tinynet/kernels). None of this file goes into a
handout.

Each answer is the full source of the ``backward`` method, keyed by op and ``Function`` class.
"""

from __future__ import annotations

CONV = """
@staticmethod
def backward(ctx, gy):
    # Tap (kh, kw) of output (oh, ow) read the padded input at (oh*sH + kh*dH, ow*sW + kw*dW):
    # its weight's gradient is gy times that pixel, and the pixel's gradient is gy times the weight.
    g = ctx.g
    x4, w4, x_shape, w_shape = ctx.saved_arrays
    (kH, kW), (sH, sW), (pH, pW), (dH, dW) = g.kernel, g.stride, g.padding, g.dilation
    (H, W), (Ho, Wo) = g.big, g.small
    N = x_shape[0] if len(x_shape) == g.nd + 2 else 1
    Cs, Cg = w4.shape[:2]  # output channels, input channels per group
    Og = Cs // g.groups
    gy4 = np.ascontiguousarray(gy).reshape(N, Cs, Ho, Wo)
    Hp = max(pH + H, (Ho - 1) * sH + (kH - 1) * dH + 1)  # 'same' may pad more at the bottom
    Wp = max(pW + W, (Wo - 1) * sW + (kW - 1) * dW + 1)
    taps = [
        (kh, kw, slice(group * Og, (group + 1) * Og), slice(group * Cg, (group + 1) * Cg))
        for group in range(g.groups)
        for kh in range(kH)
        for kw in range(kW)
    ]

    def window(kh, kw):
        return slice(kh * dH, kh * dH + (Ho - 1) * sH + 1, sH), slice(kw * dW, kw * dW + (Wo - 1) * sW + 1, sW)

    gx = gw = gb = None
    if ctx.needs_input_grad[0]:
        gxp = np.zeros((N, Cg * g.groups, Hp, Wp), gy4.dtype)
        for kh, kw, out_c, in_c in taps:
            rows, cols = window(kh, kw)
            gxp[:, in_c, rows, cols] += np.einsum("nohw,oc->nchw", gy4[:, out_c], w4[out_c, :, kh, kw], optimize=True)
        gx = np.ascontiguousarray(gxp[:, :, pH : pH + H, pW : pW + W]).reshape(x_shape)
    if ctx.needs_input_grad[1]:
        xp = np.zeros((N, Cg * g.groups, Hp, Wp), x4.dtype)
        xp[:, :, pH : pH + H, pW : pW + W] = x4
        gw = np.zeros(w4.shape, gy4.dtype)
        for kh, kw, out_c, in_c in taps:
            rows, cols = window(kh, kw)
            gw[out_c, :, kh, kw] = np.einsum("nohw,nchw->oc", gy4[:, out_c], xp[:, in_c, rows, cols], optimize=True)
        if g.flip:  # convolve2d ran with the flipped kernel
            gw = gw[:, :, ::-1, ::-1]
        gw = np.ascontiguousarray(gw).reshape(w_shape)
    if ctx.needs_input_grad[2]:
        gb = gy4.sum(axis=(0, 2, 3))
    return gx, gw, gb, None
"""

MAX_POOL = """
@staticmethod
def backward(ctx, grad, grad_indices):
    # Each input pixel collects the gradients of the outputs whose maximum it was.
    (argmax,) = ctx.saved_arrays
    H, W = ctx.in_shape[-2:]
    planes = int(np.prod(ctx.in_shape[:-2]))
    idx = argmax.reshape(planes, argmax.shape[-2] * argmax.shape[-1])
    values = np.ascontiguousarray(grad).reshape(idx.shape)
    plane = np.broadcast_to(np.arange(planes)[:, None], idx.shape)
    inside = (idx >= 0) & (idx < H * W)
    gx = np.zeros((planes, H * W), grad.dtype)
    np.add.at(gx, (plane[inside], idx[inside]), values[inside])
    return gx.reshape(ctx.in_shape), None, None, None, None, None
"""

MAX_UNPOOL = """
@staticmethod
def backward(ctx, grad):
    # The forward sent x[j] to idx[j]; its gradient is read back at idx[j].
    (idx,) = ctx.saved_arrays
    if not ctx.needs_input_grad[0]:
        return None, None, None
    source = np.ascontiguousarray(grad).reshape(idx.shape[0], grad.shape[-2] * grad.shape[-1])
    gx = np.take_along_axis(source, idx, axis=1)
    return gx.reshape(ctx.in_shape), None, None
"""

BILINEAR = """
@staticmethod
def backward(ctx, grad):
    # The forward is separable: rows R (Ho x H, two weights a row), then columns C (Wo x W),
    # y = R x Cᵀ. Its adjoint is Rᵀ g C: send each row, then each column, back with its weights.
    top, bottom, w_top, w_bottom, left, right, w_left, w_right = ctx.tables
    shape = ctx.in_shape
    H, W = (shape[-2], shape[-1]) if len(shape) == 4 else (1, shape[-1])
    P = shape[0] * shape[1]
    g = np.ascontiguousarray(grad).reshape(P, len(top), len(left))
    dtype = grad.dtype
    by_rows = np.zeros((P, H, len(left)), dtype)
    np.add.at(by_rows, (slice(None), top), g * w_top.astype(dtype)[:, None])
    np.add.at(by_rows, (slice(None), bottom), g * w_bottom.astype(dtype)[:, None])
    gx = np.zeros((P, H, W), dtype)
    np.add.at(gx, (slice(None), slice(None), left), by_rows * w_left.astype(dtype))
    np.add.at(gx, (slice(None), slice(None), right), by_rows * w_right.astype(dtype))
    return gx.reshape(shape), None, None, None
"""

# op -> {Function class: source of its backward}
ANSWERS: dict[str, dict[str, str]] = {
    "conv2d": {"Conv": CONV},
    "max_pool2d": {"MaxPool2dFn": MAX_POOL},
    "max_unpool2d": {"MaxUnpool2dFn": MAX_UNPOOL},
    "upsample_bilinear": {"Bilinear": BILINEAR},
}
