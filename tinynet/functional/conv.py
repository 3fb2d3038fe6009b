"""Convolutions as one adjoint pair: conv (the matrix C) and transposed conv (Cᵀ).

Everything here is built from three array routines that share one geometry:

* :func:`_correlate`          y = C x     conv2d's forward            (im2col, then GEMM by W)
* :func:`_correlate_adjoint`  x = Cᵀ y    conv_transpose2d's forward  (GEMM by Wᵀ, then col2im)
* :func:`_correlate_weight`   dL/dW       the correlation of an image with an output gradient

and they close under differentiation (STYLE.md, principle 1; Chainer's
convolution/deconvolution pair):

=================  ==============================  ==============================
op                 input gradient                  weight gradient
=================  ==============================  ==============================
conv2d(x, W)       conv_transpose2d(gy, W)         _correlate_weight(x, gy)
conv_transpose2d   conv2d(gy, W)                   _correlate_weight(gy, x)
=================  ==============================  ==============================

Both ops describe their geometry from the convolution's side: the "big" image is
conv2d's input (conv_transpose2d's output), the "small" one conv2d's output
(conv_transpose2d's input), and the weight is always (C_small, C_big/groups, kH, kW),
which is exactly PyTorch's layout for both ops. conv1d, conv_transpose1d and
convolve2d go through the same path (1-D as a height-1 image; convolve2d with the
kernel flipped).
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numba
import numpy as np

from tinynet.autograd import Function
from tinynet.functional._validate import check_tensor, int_tuple, same_dtype
from tinynet.kernels.conv import col2im, depthwise, depthwise_adjoint, depthwise_weight, im2col
from tinynet.kernels.pool import GRAIN_SIZE
from tinynet.tensor import Tensor

__all__ = ["conv1d", "conv2d", "convolve2d", "conv_transpose1d", "conv_transpose2d"]

# The batch is processed in equal chunks whose column matrix holds at most about this many bytes,
# so the columns stay in cache between im2col and the GEMM instead of materialising those of the
# whole batch (37 MB for 16 images of 16x64x64 with a 3x3 kernel). Measured on the shapes:
# the GEMMs of 16-64 MB chunks ran at half of BLAS speed (the transposed conv's 144x16 @ 16x65536
# at 46 GFLOP/s vs 99 for 16x16384), while chunks below 4 MB add BLAS calls, each a hand-off to
# OpenBLAS's threads that can cost a scheduler tick on a busy machine; 8 MB sits between.
_CHUNK_BYTES = 8 << 20


class _Geometry(NamedTuple):
    """Where every kernel tap reads, seen from the convolution's side (2-D; 1-D has height 1)."""

    kernel: tuple  # (kH, kW)
    stride: tuple  # (sH, sW)
    padding: tuple  # (pH, pW): top/left offsets; bottom/right follow from `big` and `small`
    dilation: tuple  # (dH, dW)
    groups: int
    big: tuple  # (H, W): conv's input, conv_transpose's output
    small: tuple  # (Ho, Wo): conv's output, conv_transpose's input
    nd: int  # 1 or 2 spatial dimensions in the user's arrays
    flip: bool = False  # convolve2d: use the kernel flipped in both spatial axes


def _args(g: _Geometry) -> tuple:
    """The integer arguments of im2col/col2im."""
    (kH, kW), (sH, sW), (pH, pW), (dH, dW) = g.kernel, g.stride, g.padding, g.dilation
    return kH, kW, sH, sW, pH, pW, dH, dW, g.small[0], g.small[1]


def _chunks(n: int, image_bytes: int) -> list:
    """Split the batch into equal runs of images whose columns take at most about _CHUNK_BYTES."""
    if n == 0:
        return []
    count = max(1, min(n, -(-n * image_bytes // _CHUNK_BYTES)))  # ceil, at least 1 image per run
    step = -(-n // count)
    return [(n0, min(n, n0 + step)) for n0 in range(0, n, step)]


def _columns(x: np.ndarray, g: _Geometry):
    """im2col of x, chunk by chunk: yields (n0, n1, cols) with cols: (C*kH*kW, n1 - n0, Ho*Wo).

    One buffer serves all chunks, so a chunk's columns are valid until the next one is made.
    """
    K, L = x.shape[1] * g.kernel[0] * g.kernel[1], g.small[0] * g.small[1]
    chunks = _chunks(x.shape[0], K * L * x.itemsize)
    buf = np.empty(K * max((n1 - n0 for n0, n1 in chunks), default=0) * L, dtype=x.dtype)
    for n0, n1 in chunks:
        cols = buf[: K * (n1 - n0) * L].reshape(K, n1 - n0, L)
        yield n0, n1, im2col(x[n0:n1], *_args(g), cols)


def _by_channel(a: np.ndarray, groups: int) -> np.ndarray:
    """(n, C, H, W) -> (groups, C/groups, n*H*W): the chunk's channels as rows of a GEMM operand."""
    n, C = a.shape[:2]
    return np.ascontiguousarray(a.reshape(n, C, -1).transpose(1, 0, 2)).reshape(groups, C // groups, -1)


def _depthwise(g: _Geometry, big_per_group: int) -> bool:
    """Every group reads one channel of the big side (groups == C_big > 1): the direct kernels, not im2col.

    One GEMM row per group would make im2col copy each pixel kH*kW times for almost no arithmetic.
    """
    return g.groups > 1 and big_per_group == 1


def _pointwise(g: _Geometry) -> bool:
    """A 1x1 convolution, stride 1, no padding, one group: C = W applied at every pixel.

    Then im2col would only copy the image: each image's (C_big, H*W) plane stack is already
    the column matrix, so y[n] = W @ x[n] (one GEMM per image, straight on NCHW, output in
    NCHW), its adjoint is x[n] = Wᵀ @ y[n], and dL/dW = Σ_n gy[n] @ x[n]ᵀ.
    """
    return g.kernel == (1, 1) and g.stride == (1, 1) and g.padding == (0, 0) and g.groups == 1 and g.big == g.small


def _blocks(*arrays: np.ndarray) -> int:
    """Threads for a depthwise kernel: all of numba's, but one below GRAIN_SIZE elements (waking costs more)."""
    return numba.get_num_threads() if max(a.size for a in arrays) >= GRAIN_SIZE else 1


def _correlate(x: np.ndarray, w: np.ndarray, g: _Geometry, bias: np.ndarray | None = None) -> np.ndarray:
    """y = C x (+ bias): cross-correlate x (N, C_big, H, W) with w (C_small, C_big/G, kH, kW) -> (N, C_small, Ho, Wo)."""
    if _pointwise(g):
        (N, Cb), L = x.shape[:2], g.small[0] * g.small[1]
        y = np.matmul(w.reshape(w.shape[0], Cb), x.reshape(N, Cb, L)).reshape((N, w.shape[0]) + g.small)
        if bias is not None:
            y += bias.reshape(1, -1, 1, 1)
        return y
    y = np.empty((x.shape[0], w.shape[0]) + g.small, dtype=x.dtype)
    if _depthwise(g, w.shape[1]):
        depthwise(x, w.reshape(w.shape[0], *g.kernel), *_args(g), y, _blocks(x, y))
        if bias is not None:
            y += bias.reshape(1, -1, 1, 1)
        return y
    for n0, n1, cols in _columns(x, g):
        _weights_times_columns(w, cols, g, out=y[n0:n1], bias=bias)
    return y


def _weights_times_columns(w, cols: np.ndarray, g: _Geometry, out: np.ndarray, bias=None) -> None:
    """out = W @ cols (+ bias) for one chunk, per group; out: (n, C_small, Ho, Wo)."""
    G, n = g.groups, cols.shape[1]
    y_t = np.matmul(w.reshape(G, w.shape[0] // G, -1), cols.reshape(G, -1, n * cols.shape[2]))
    y_t = y_t.reshape((w.shape[0], n) + g.small).transpose(1, 0, 2, 3)  # (C_small, n, ...) to (n, C_small, ...)
    if bias is None:
        out[...] = y_t
    else:  # the bias rides along with the copy into NCHW order: no extra pass over y
        np.add(y_t, bias.reshape(1, -1, 1, 1), out=out)


# The adjoint of _correlate. Write the conv as C = W P, with P = im2col (a 0/1 matrix that copies
# pixel (c, oh*s - p + kh*d, ow*s - p + kw*d) to column entry (c, kh, kw, oh, ow)) and W the
# block-diagonal (one block per group) matrix of weights acting on each column. Then
# Cᵀ = Pᵀ Wᵀ: multiply by the transposed weight matrix, then col2im = Pᵀ adds every column
# entry back onto the pixel it was copied from. Entry (i, j) of C is w[kh, kw] when output j
# reads pixel i through tap (kh, kw); Cᵀ sends output j's value back along the same tap. The
# stride of C becomes the gap between scattered outputs in Cᵀ (zero insertion); the dilation
# stays the gap between kernel taps; padding becomes cropping.
def _correlate_adjoint(y: np.ndarray, w: np.ndarray, g: _Geometry) -> np.ndarray:
    """x = Cᵀ y: the transposed convolution of y (N, C_small, Ho, Wo) -> (N, C_big, H, W)."""
    N, Cs = y.shape[:2]
    G = g.groups
    Cb = w.shape[1] * G
    K, L = Cb * g.kernel[0] * g.kernel[1], g.small[0] * g.small[1]
    if _pointwise(g):
        return np.matmul(w.reshape(Cs, Cb).T, y.reshape(N, Cs, L)).reshape((N, Cb) + g.big)
    x = np.empty((N, Cb) + g.big, dtype=y.dtype)
    if _depthwise(g, w.shape[1]):
        return depthwise_adjoint(y, w.reshape(Cs, *g.kernel), *_args(g), x, _blocks(x, y))
    w_t = w.reshape(G, Cs // G, K // G).transpose(0, 2, 1)  # Wᵀ, one (C_big/G*kH*kW, C_small/G) block per group
    chunks = _chunks(N, K * L * y.itemsize)
    buf = np.empty(K * max((n1 - n0 for n0, n1 in chunks), default=0) * L, dtype=y.dtype)
    for n0, n1 in chunks:
        cols = buf[: K * (n1 - n0) * L].reshape(K, n1 - n0, L)  # cols: (C_big*kH*kW, n, Ho*Wo)
        np.matmul(w_t, _by_channel(y[n0:n1], G), out=cols.reshape(G, K // G, -1))
        col2im(cols, *_args(g), x[n0:n1])
    return x


def _correlate_weight(x: np.ndarray, gy: np.ndarray, g: _Geometry) -> np.ndarray:
    """dL/dW for y = C_W x: Σ over n, oh, ow of gy[n, o, oh, ow] times the pixel that tap (kh, kw) read.

    In columns, y = W P x, so dL/dW = gy (P x)ᵀ: the output gradient times the transposed
    columns, summed over the batch. The transposed convolution x = Cᵀ_W y uses the same
    routine with the roles swapped, ``_correlate_weight(gx, y)``, since <gx, Cᵀ_W y> = <C_W gx, y>.
    """
    Cs, G = gy.shape[1], g.groups
    w_shape = (Cs, x.shape[1] // G) + g.kernel
    if _pointwise(g):
        (N, Cb), L = x.shape[:2], g.small[0] * g.small[1]
        per_image = np.matmul(gy.reshape(N, Cs, L), x.reshape(N, Cb, L).transpose(0, 2, 1))  # (N, Cs, Cb)
        return per_image.sum(axis=0).reshape(w_shape)
    if _depthwise(g, w_shape[1]):
        gw = np.empty((Cs,) + g.kernel, dtype=x.dtype)
        return depthwise_weight(x, gy, *_args(g), gw, _blocks(x, gy)).reshape(w_shape)
    gw = np.zeros((G, Cs // G, int(np.prod(w_shape[1:]))), dtype=x.dtype)
    for n0, n1, cols in _columns(x, g):
        _add_weight_grad(gw, gy[n0:n1], cols, g)
    return gw.reshape(w_shape)


def _add_weight_grad(gw: np.ndarray, gy: np.ndarray, cols: np.ndarray, g: _Geometry) -> None:
    """gw += gy_t @ colsᵀ per group, for one chunk (gw: (G, C_small/G, C_big/G*kH*kW))."""
    G = g.groups
    gw += np.matmul(_by_channel(gy, G), cols.reshape(G, gw.shape[2], -1).transpose(0, 2, 1))


def _correlate_and_weight(x: np.ndarray, w: np.ndarray, gy: np.ndarray, g: _Geometry) -> tuple:
    """``_correlate(x, w)`` and ``_correlate_weight(x, gy)`` from a single im2col pass over x.

    The transposed convolution's backward needs both with x = its output gradient; sharing
    the columns saves one of the two passes over them.
    """
    if _depthwise(g, w.shape[1]) or _pointwise(g):  # no columns to share
        return _correlate(x, w, g), _correlate_weight(x, gy, g)
    y = np.empty((x.shape[0], w.shape[0]) + g.small, dtype=x.dtype)
    gw = np.zeros((g.groups, w.shape[0] // g.groups, w[0].size), dtype=x.dtype)
    for n0, n1, cols in _columns(x, g):
        _weights_times_columns(w, cols, g, out=y[n0:n1])
        _add_weight_grad(gw, gy[n0:n1], cols, g)
    return y, gw.reshape(w.shape)


# ----------------------------------------------------------------------------- autograd
def _as_4d(a: np.ndarray, g: _Geometry, hw: tuple) -> np.ndarray:
    """View a batched or unbatched, 1-D or 2-D array as (N, C, H, W) (1-D: H = 1)."""
    lead = a.shape[: a.ndim - g.nd - 1]
    return np.ascontiguousarray(a).reshape((lead[0] if lead else 1, a.shape[a.ndim - g.nd - 1]) + hw)


def _weight_4d(w: np.ndarray, g: _Geometry) -> np.ndarray:
    w = np.ascontiguousarray(w).reshape(w.shape[:2] + g.kernel)
    return np.ascontiguousarray(w[:, :, ::-1, ::-1]) if g.flip else w


def _out_shape(a: np.ndarray, g: _Geometry, channels: int, hw: tuple) -> tuple:
    return a.shape[: a.ndim - g.nd - 1] + (channels,) + hw[2 - g.nd :]


def _bias_grad(gy4: np.ndarray) -> np.ndarray:
    return gy4.sum(axis=(0, 2, 3))


class Conv(Function):
    """conv1d / conv2d / convolve2d: y = C_W x + b."""

    @staticmethod
    def forward(ctx, x, w, b, g: _Geometry):
        x4, w4 = _as_4d(x, g, g.big), _weight_4d(w, g)
        y = _correlate(x4, w4, g, bias=b)
        ctx.g = g
        ctx.save_for_backward(x4 if ctx.needs_input_grad[1] else None, w4, x.shape, w.shape)
        return y.reshape(_out_shape(x, g, w.shape[0], g.small))

    @staticmethod
    def backward(ctx, gy):
        g = ctx.g
        x4, w4, x_shape, w_shape = ctx.saved_arrays
        gy4 = _as_4d(gy, g, g.small)
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = _correlate_adjoint(gy4, w4, g).reshape(x_shape)  # Cᵀ gy: conv_transpose2d
        if ctx.needs_input_grad[1]:
            gw = _correlate_weight(x4, gy4, g)
            gw = (gw[:, :, ::-1, ::-1] if g.flip else gw).reshape(w_shape)
        if ctx.needs_input_grad[2]:
            gb = _bias_grad(gy4)
        return gx, gw, gb, None


class ConvTranspose(Function):
    """conv_transpose1d / conv_transpose2d: y = Cᵀ_W x + b."""

    @staticmethod
    def forward(ctx, x, w, b, g: _Geometry):
        x4, w4 = _as_4d(x, g, g.small), _weight_4d(w, g)
        y = _correlate_adjoint(x4, w4, g)
        if b is not None:
            y += b.reshape(1, -1, 1, 1)
        ctx.g = g
        ctx.save_for_backward(x4 if ctx.needs_input_grad[1] else None, w4, x.shape, w.shape)
        return y.reshape(_out_shape(x, g, w.shape[1] * g.groups, g.big))

    @staticmethod
    def backward(ctx, gy):
        g = ctx.g
        x4, w4, x_shape, w_shape = ctx.saved_arrays
        gy4 = _as_4d(gy, g, g.big)
        gx = gw = gb = None
        if ctx.needs_input_grad[0] and ctx.needs_input_grad[1]:  # both read the columns of gy
            gx, gw = _correlate_and_weight(gy4, w4, x4, g)
            gx, gw = gx.reshape(x_shape), gw.reshape(w_shape)
        elif ctx.needs_input_grad[0]:
            gx = _correlate(gy4, w4, g).reshape(x_shape)  # (Cᵀ)ᵀ gy = C gy: conv2d
        elif ctx.needs_input_grad[1]:
            gw = _correlate_weight(gy4, x4, g).reshape(w_shape)  # roles swapped
        if ctx.needs_input_grad[2]:
            gb = _bias_grad(gy4)
        return gx, gw, gb, None


# ----------------------------------------------------------------------------- validation
def _check_groups(groups, op: str) -> int:
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral):
        raise TypeError(f"{op}: groups must be an int, got {groups!r}")
    if groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups}")
    return int(groups)


def _parse_padding(padding, nd: int, op: str, stride: tuple, dilation: tuple, kernel: tuple, transposed: bool):
    """Return ((top, left), (bottom, right)) padding; 'same' puts the odd pixel at the bottom/right."""
    if isinstance(padding, str) and not transposed:
        if padding == "valid":
            return (0,) * nd, (0,) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    f"{op}: padding='same' is not supported for strided convolutions (stride={stride}); "
                    "use an explicit padding"
                )
            total = tuple(d * (k - 1) for d, k in zip(dilation, kernel))
            return tuple(t // 2 for t in total), tuple(t - t // 2 for t in total)
        raise ValueError(f"{op}: padding must be 'valid', 'same', an int or a tuple of {nd} ints, got {padding!r}")
    p = int_tuple(padding, nd, op, "padding", minimum=0)
    return p, p


def _to_2d(t: tuple, nd: int, fill: int) -> tuple:
    return t if nd == 2 else (fill,) + t


def _geometry(op, input, weight, bias, stride, padding, dilation, groups, nd, output_padding=None, flip=False):
    """Check every argument of a convolution (before any kernel runs) and return its geometry."""
    transposed = output_padding is not None
    check_tensor(input, op, "input", ndim=(nd + 1, nd + 2), floating=True)
    check_tensor(weight, op, "weight", ndim=nd + 2, floating=True)
    same_dtype(input, weight, op, "input", "weight")
    if input.dtype not in (np.float32, np.float64):  # the kernels are compiled for these two (not float16)
        raise TypeError(f"{op}: input must be float32 or float64, got dtype {input.dtype}")
    groups = _check_groups(groups, op)
    stride = int_tuple(stride, nd, op, "stride", minimum=1)
    dilation = int_tuple(dilation, nd, op, "dilation", minimum=1)
    kernel = tuple(weight.shape[2:])
    if min(kernel) < 1:
        raise ValueError(f"{op}: weight has an empty kernel (weight shape {tuple(weight.shape)})")
    if weight.shape[0] == 0:
        raise ValueError(f"{op}: weight has no filters (weight shape {tuple(weight.shape)})")

    channels = input.shape[-nd - 1]
    if transposed:  # weight (C_in, C_out/groups, k...)
        if weight.shape[0] % groups:
            raise ValueError(
                f"{op}: groups={groups} does not divide the weight's {weight.shape[0]} input channels "
                f"(weight shape {tuple(weight.shape)})"
            )
        if channels != weight.shape[0]:
            raise ValueError(
                f"{op}: input has {channels} channels but weight expects {weight.shape[0]} "
                f"(weight shape {tuple(weight.shape)}, groups={groups})"
            )
        out_channels = weight.shape[1] * groups
    else:  # weight (C_out, C_in/groups, k...)
        if weight.shape[0] % groups:
            raise ValueError(
                f"{op}: groups={groups} does not divide the weight's {weight.shape[0]} output channels "
                f"(weight shape {tuple(weight.shape)})"
            )
        if channels % groups:
            raise ValueError(f"{op}: groups={groups} does not divide the input's {channels} channels")
        if channels != weight.shape[1] * groups:
            raise ValueError(
                f"{op}: input has {channels} channels but weight expects {weight.shape[1] * groups} "
                f"(weight shape {tuple(weight.shape)}, groups={groups})"
            )
        out_channels = weight.shape[0]
    if bias is not None:
        check_tensor(bias, op, "bias", floating=True)
        same_dtype(input, bias, op, "input", "bias")
        if bias.shape != (out_channels,):
            raise ValueError(
                f"{op}: bias must be 1-D with {out_channels} elements (one per output channel), "
                f"got shape {tuple(bias.shape)}"
            )

    size = tuple(input.shape[-nd:])
    if min(size) < 1:
        raise ValueError(
            f"{op}: input has a zero-sized spatial dimension (shape {tuple(input.shape)}); only the batch may be empty"
        )
    if padding is None:
        raise TypeError(f"{op}: padding must be an int or a tuple of {nd} ints, got None")
    pad_lo, pad_hi = _parse_padding(padding, nd, op, stride, dilation, kernel, transposed)
    span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))  # the dilated kernel

    if transposed:
        output_padding = int_tuple(output_padding, nd, op, "output_padding", minimum=0)
        if any(op_ >= max(s, d) for op_, s, d in zip(output_padding, stride, dilation)):
            raise ValueError(
                f"{op}: output_padding {output_padding} must be smaller than either stride {stride} "
                f"or dilation {dilation}"
            )
        big = tuple((n - 1) * s - 2 * p + sp + o for n, s, p, sp, o in zip(size, stride, pad_lo, span, output_padding))
        if min(big) < 1:
            raise ValueError(
                f"{op}: the output size {big} is not positive (input size {size}, stride {stride}, padding {pad_lo}, "
                f"dilation {dilation}, kernel {kernel}, output_padding {output_padding})"
            )
        small = size
    else:
        padded = tuple(n + lo + hi for n, lo, hi in zip(size, pad_lo, pad_hi))
        if any(sp > n for sp, n in zip(span, padded)):
            raise ValueError(
                f"{op}: the kernel (size {kernel}, dilation {dilation}, so spanning {span}) is larger than "
                f"the padded input (size {padded})"
            )
        big = size
        small = tuple((n - sp) // s + 1 for n, sp, s in zip(padded, span, stride))
    return _Geometry(
        kernel=_to_2d(kernel, nd, 1),
        stride=_to_2d(stride, nd, 1),
        padding=_to_2d(pad_lo, nd, 0),
        dilation=_to_2d(dilation, nd, 1),
        groups=groups,
        big=_to_2d(big, nd, 1),
        small=_to_2d(small, nd, 1),
        nd=nd,
        flip=flip,
    )


# ----------------------------------------------------------------------------- public ops
def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """2-D cross-correlation, as in PyTorch (and all of deep learning): no kernel flip.

    ``out[n, o, i, j] = bias[o] + Σ_{c, kh, kw} weight[o, c, kh, kw] · x_pad[n, g·C_in/G + c, i·sH + kh·dH, j·sW + kw·dW]``
    where o lies in group g. The mathematical convolution (flipped kernel) is :func:`convolve2d`.

    Args:
        input: (N, C_in, H, W) or unbatched (C_in, H, W); N may be 0.
        weight: (C_out, C_in / groups, kH, kW).
        bias: optional (C_out,).
        stride: int or (sH, sW), >= 1.
        padding: int or (pH, pW) zeros on each side, or ``'valid'`` (no padding) or ``'same'``
            (output size = input size; stride 1 only). ``'same'`` pads dH·(kH-1) rows in total and,
            when that is odd, puts the extra row at the bottom (column at the right), as PyTorch does.
        dilation: int or (dH, dW), >= 1: the gap between kernel taps (atrous convolution).
        groups: C_in and C_out split into this many groups, each convolved separately.

    Shape:
        - input: (N, C_in, H, W)
        - output: (N, C_out, H_out, W_out) with
          H_out = ⌊(H + 2·pH − dH·(kH − 1) − 1) / sH⌋ + 1 and
          W_out = ⌊(W + 2·pW − dW·(kW − 1) − 1) / sW⌋ + 1.

    Its input-gradient is :func:`conv_transpose2d` of the output gradient (the matrix Cᵀ).

    Example (the seeds' 6x6 image with stride 3):
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> A = tinynet.tensor([[3., 2, 7, 1, 6, 3], [4, 1, 1, 0, 9, 8], [8, 2, 0, 1, 2, 4],
        ...                     [5, 6, 0, 7, 1, 4], [0, 5, 4, 9, 6, 0], [4, 6, 2, 4, 0, 5]])
        >>> K = tinynet.tensor([[1., 2, 2], [2, 1, 2], [2, 2, 1]])
        >>> F.conv2d(A.reshape(1, 1, 6, 6), K.reshape(1, 1, 3, 3), stride=3).reshape(2, 2).tolist()
        [[52.0, 54.0], [52.0, 54.0]]
    """
    g = _geometry("conv2d", input, weight, bias, stride, padding, dilation, groups, nd=2)
    return Conv.apply(input, weight, bias, g)


def convolve2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """2-D *convolution* in the mathematical sense: :func:`conv2d` with the kernel flipped.

    The seeds write a convolution as y_i = Σ_i' w_i' x_{i−i'}: the index i − i' runs backwards
    through the kernel, so convolving with w is correlating with w flipped in both axes.
    Deep learning uses correlation (conv2d) since a network can learn the flipped kernel
    just as well; this function shows the difference. Arguments and shapes are those of conv2d.

    Args:
        input: (N, C_in, H, W) or unbatched (C_in, H, W).
        weight: (C_out, C_in / groups, kH, kW), applied flipped in both spatial axes.
        bias: optional (C_out,).
        stride, padding, dilation, groups: as in :func:`conv2d`.

    ``convolve2d(x, w) == conv2d(x, w.flip(-1, -2))``; its input-gradient is the transposed
    convolution with the flipped kernel and its weight-gradient is conv2d's, flipped back.

    Shape:
        - input: (N, C_in, H, W) or (C_in, H, W)
        - output: (N, C_out, H_out, W_out), H_out = ⌊(H + 2·pH − dH·(kH − 1) − 1) / sH⌋ + 1 (W alike).

    Example (a 1x3 kernel: correlation reads it left to right, convolution right to left):
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> x = tinynet.tensor([[[0., 1, 0, 0]]])
        >>> w = tinynet.tensor([[[[1., 2, 3]]]])
        >>> F.conv2d(x, w).tolist(), F.convolve2d(x, w).tolist()
        ([[[2.0, 1.0]]], [[[2.0, 3.0]]])
    """
    g = _geometry("convolve2d", input, weight, bias, stride, padding, dilation, groups, nd=2, flip=True)
    return Conv.apply(input, weight, bias, g)


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """1-D cross-correlation (PyTorch's ``conv1d``), run as a height-1 :func:`conv2d`.

    Args:
        input: (N, C_in, L) or unbatched (C_in, L).
        weight: (C_out, C_in / groups, k).
        bias: optional (C_out,).
        stride, padding, dilation, groups: as in :func:`conv2d` (ints, 1-tuples, ``'valid'``, ``'same'``).

    Shape:
        - input: (N, C_in, L)
        - output: (N, C_out, L_out), L_out = ⌊(L + 2·p − d·(k − 1) − 1) / s⌋ + 1.

    Example (the seeds' 1-D signal, valid correlation with stride 2):
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> f = tinynet.tensor([[[1., 0, -2, 3, 1, 2, -1]]])
        >>> k = tinynet.tensor([[[0.5, 1, 0.5]]])
        >>> F.conv1d(f, k, stride=2).tolist()
        [[[-0.5, 2.5, 2.0]]]
    """
    g = _geometry("conv1d", input, weight, bias, stride, padding, dilation, groups, nd=1)
    return Conv.apply(input, weight, bias, g)


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """2-D transposed convolution (PyTorch's ``conv_transpose2d``): the adjoint Cᵀ of :func:`conv2d`.

    Every input pixel scatters a copy of the kernel, scaled by its value, into the output at
    (i·sH, j·sW); overlapping copies add. This is exactly the input-gradient of conv2d with the
    same arguments, and conv2d is this op's input-gradient. ``padding`` crops that many pixels
    from each side of the full result; ``output_padding`` adds rows/columns at the bottom/right
    to pick among the sizes that conv2d maps onto the input's size.

    Args:
        input: (N, C_in, H, W) or unbatched (C_in, H, W).
        weight: (C_in, C_out / groups, kH, kW) (PyTorch's layout: the conv2d weight it transposes).
        bias: optional (C_out,).
        stride, padding, dilation: ints or pairs, as in the conv2d being transposed.
        output_padding: int or pair, smaller than the stride or the dilation (per dimension).
        groups: as in conv2d.

    Shape:
        - input: (N, C_in, H, W)
        - output: (N, C_out, H_out, W_out) with
          H_out = (H − 1)·sH − 2·pH + dH·(kH − 1) + output_paddingH + 1 (W alike).

    Example (the seeds' 2x2 map upsampled to 3x3):
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> x = tinynet.tensor([[3., 4], [1, 7]]).reshape(1, 1, 2, 2)
        >>> w = tinynet.tensor([[2., 0], [1, -1]]).reshape(1, 1, 2, 2)
        >>> F.conv_transpose2d(x, w).reshape(3, 3).tolist()
        [[6.0, 8.0, 0.0], [5.0, 15.0, -4.0], [1.0, 6.0, -7.0]]
    """
    if output_padding is None:  # None is _geometry's mark of a forward convolution: never let it through
        raise TypeError("conv_transpose2d: output_padding must be an int or a tuple of 2 ints, got None")
    g = _geometry(
        "conv_transpose2d", input, weight, bias, stride, padding, dilation, groups, nd=2, output_padding=output_padding
    )
    return ConvTranspose.apply(input, weight, bias, g)


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """1-D transposed convolution (PyTorch's ``conv_transpose1d``), the adjoint of :func:`conv1d`.

    Args:
        input: (N, C_in, L) or unbatched (C_in, L).
        weight: (C_in, C_out / groups, k).
        bias: optional (C_out,).
        stride, padding, output_padding, groups, dilation: as in :func:`conv_transpose2d`.

    Shape:
        - input: (N, C_in, L)
        - output: (N, C_out, L_out), L_out = (L − 1)·s − 2·p + d·(k − 1) + output_padding + 1.

    Example (the transpose of the seeds' 3x7 matrix maps 3 values back to 7):
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> y = tinynet.tensor([[[1., 0, 0]]])
        >>> F.conv_transpose1d(y, tinynet.tensor([[[0.5, 1, 0.5]]]), stride=2).tolist()
        [[[0.5, 1.0, 0.5, 0.0, 0.0, 0.0, 0.0]]]
    """
    if output_padding is None:  # None is _geometry's mark of a forward convolution: never let it through
        raise TypeError("conv_transpose1d: output_padding must be an int or a tuple of 1 ints, got None")
    g = _geometry(
        "conv_transpose1d", input, weight, bias, stride, padding, dilation, groups, nd=1, output_padding=output_padding
    )
    return ConvTranspose.apply(input, weight, bias, g)
