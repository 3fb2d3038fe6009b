"""Convolutions as one adjoint pair: conv (the matrix C) and transposed conv (Cᵀ).

Everything here is built from three array routines that share one geometry (the loops
behind them are in tinynet/kernels; tinynet/kernels/reference/conv.py is their definition):

* :func:`_correlate`          y = C x     conv2d's forward            (im2col, then GEMM by W)
* :func:`_correlate_adjoint`  x = Cᵀ y    conv_transpose2d's forward  (GEMM by Wᵀ, then col2im)
* :func:`_correlate_weight`   dL/dW       the correlation of an image with an output gradient

and they close under differentiation (every linear op an adjoint pair: docs/ARCHITECTURE.md).
The weight gradient is itself an op, :class:`ConvWeight` (the routine ``_correlate_weight``),
so every backward below is made of these three Functions and ``sum``, and differentiating a
backward again (``create_graph=True``) lands in the same table:

=======================  ==============================  ==============================
op                       gradient in its first argument  gradient in its second argument
=======================  ==============================  ==============================
conv2d(x, W)             conv_transpose2d(gy, W)         ConvWeight(x, gy)
conv_transpose2d(x, W)   conv2d(gy, W)                   ConvWeight(gy, x)
ConvWeight(big, small)   conv_transpose2d(small, gV)     conv2d(big, gV)
=======================  ==============================  ==============================

(gy: the output gradient; gV: the gradient arriving at a weight gradient. The bias gradient is
``gy.sum`` over every dimension but the channels. When conv_transpose2d needs both gradients,
:class:`ConvAndWeight` computes its row in one call, ``kernels.correlate_and_weight``, which reads
gy's columns once for both; its backward is the sum of the conv2d and ConvWeight rows.)

Both ops describe their geometry from the convolution's side: the "big" image is conv2d's
input (conv_transpose2d's output), the "small" one conv2d's output (conv_transpose2d's
input), and the weight is always (C_small, C_big/groups, kH, kW), which is exactly PyTorch's
layout for both ops. conv1d, conv_transpose1d and convolve2d go through the same path (1-D as
a height-1 image; convolve2d with the kernel flipped). The argument checks are in
:mod:`tinynet.functional._checks`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tinynet import kernels
from tinynet.autograd import Function
from tinynet.functional._checks import check_conv_args, check_kernel_fits, check_output_size
from tinynet.tensor import Tensor

__all__ = ["conv1d", "conv2d", "convolve2d", "conv_transpose1d", "conv_transpose2d"]


class ConvGeometry(NamedTuple):
    """Where every kernel tap reads, seen from the convolution's side (2-D; 1-D has height 1).

    Output pixel (oh, ow) reads, through tap (kh, kw), the input pixel
    (oh*sH - pH + kh*dH, ow*sW - pW + kw*dW) of the big image.
    """

    kernel: tuple  # (kH, kW)
    stride: tuple  # (sH, sW)
    padding: tuple  # (pH, pW): top/left offsets; bottom/right follow from `big` and `small`
    dilation: tuple  # (dH, dW)
    groups: int
    big: tuple  # (H, W): conv's input, conv_transpose's output
    small: tuple  # (Ho, Wo): conv's output, conv_transpose's input
    nd: int  # 1 or 2 spatial dimensions in the user's arrays
    flip: bool = False  # convolve2d: use the kernel flipped in both spatial axes


def _padding_sides(padding, kernel: tuple, dilation: tuple) -> tuple:
    """((top, left), (bottom, right)) padding; 'same' pads d·(k-1) in all and puts the odd pixel last."""
    if padding == "valid":
        return (0,) * len(kernel), (0,) * len(kernel)
    if padding == "same":
        total = tuple(d * (k - 1) for d, k in zip(dilation, kernel))
        return tuple(t // 2 for t in total), tuple(t - t // 2 for t in total)
    return padding, padding


def _to_2d(t: tuple, nd: int, fill: int) -> tuple:
    return t if nd == 2 else (fill,) + t


def _geometry(op, input, weight, bias, stride, padding, dilation, groups, nd, transposed, output_padding=0, flip=False):
    """Check every argument (before any kernel runs) and return the convolution's geometry."""
    args = check_conv_args(op, input, weight, bias, stride, padding, dilation, groups, nd, transposed, output_padding)
    size = tuple(input.shape[-nd:])
    lo, hi = _padding_sides(args.padding, args.kernel, args.dilation)
    span = tuple(d * (k - 1) + 1 for d, k in zip(args.dilation, args.kernel))  # the dilated kernel
    if transposed:  # the big image is the output: (n - 1)·s - 2p + d·(k - 1) + output_padding + 1
        small = size
        big = tuple(
            (n - 1) * s - 2 * p + sp + o for n, s, p, sp, o in zip(size, args.stride, lo, span, args.output_padding)
        )
        check_output_size(op, big, args, size, lo)
    else:  # the small image is the output: ⌊(n + padding - d·(k - 1) - 1) / s⌋ + 1
        big = size
        padded = tuple(n + a + b for n, a, b in zip(size, lo, hi))
        check_kernel_fits(op, args.kernel, args.dilation, padded)
        small = tuple((n - sp) // s + 1 for n, sp, s in zip(padded, span, args.stride))
    return ConvGeometry(
        kernel=_to_2d(args.kernel, nd, 1),
        stride=_to_2d(args.stride, nd, 1),
        padding=_to_2d(lo, nd, 0),
        dilation=_to_2d(args.dilation, nd, 1),
        groups=args.groups,
        big=_to_2d(big, nd, 1),
        small=_to_2d(small, nd, 1),
        nd=nd,
        flip=flip,
    )


# ----------------------------------------------------------------------------- the three array routines
def _correlate(x: np.ndarray, w: np.ndarray, geom: ConvGeometry, bias: np.ndarray | None = None) -> np.ndarray:
    """y = C x (+ bias): cross-correlate x (N, C_big, H, W) with w (C_small, C_big/G, kH, kW) -> (N, C_small, Ho, Wo)."""
    return kernels.correlate(x, w, geom, bias)


# The adjoint of _correlate. Write the conv as C = W P, with P = im2col (a 0/1 matrix that copies
# pixel (c, oh*s - p + kh*d, ow*s - p + kw*d) to column entry (c, kh, kw, oh, ow)) and W the
# block-diagonal (one block per group) matrix of weights acting on each column. Then
# Cᵀ = Pᵀ Wᵀ: multiply by the transposed weight matrix, then col2im = Pᵀ adds every column
# entry back onto the pixel it was copied from. The stride of C becomes the gap between
# scattered outputs in Cᵀ (zero insertion); the dilation stays the gap between kernel taps;
# padding becomes cropping.
def _correlate_adjoint(y: np.ndarray, w: np.ndarray, geom: ConvGeometry) -> np.ndarray:
    """x = Cᵀ y: the transposed convolution of y (N, C_small, Ho, Wo) -> (N, C_big, H, W)."""
    return kernels.correlate_adjoint(y, w, geom)


# The weight gradient. In columns y = W (P x), linear in W, so dL/dW = gy (P x)ᵀ: the output
# gradient times the transposed columns, summed over the batch. The transposed convolution
# x = Cᵀ_W y takes the same routine with the roles swapped, since <gx, Cᵀ_W y> = <C_W gx, y>.
def _correlate_weight(x: np.ndarray, gy: np.ndarray, geom: ConvGeometry) -> np.ndarray:
    """dL/dW for y = C_W x: Σ over n, oh, ow of gy[n, o, oh, ow] times the pixel that tap (kh, kw) read."""
    return kernels.correlate_weight(x, gy, geom)


# ----------------------------------------------------------------------------- autograd
# The Functions take and return the user's arrays (batched or not, 1-D or 2-D, the weight
# unflipped) and reshape to (N, C, H, W) inside forward, so that every backward can call
# another Function on the user's Tensors as they are: no reshape or flip op on the tape.
def _as_4d(a: np.ndarray, geom: ConvGeometry, hw: tuple) -> np.ndarray:
    """View a batched or unbatched, 1-D or 2-D array as (N, C, H, W) (1-D: H = 1)."""
    lead = a.shape[: a.ndim - geom.nd - 1]
    return np.ascontiguousarray(a).reshape((lead[0] if lead else 1, a.shape[a.ndim - geom.nd - 1]) + hw)


def _weight_4d(w: np.ndarray, geom: ConvGeometry) -> np.ndarray:
    w = np.ascontiguousarray(w).reshape(w.shape[:2] + geom.kernel)
    return np.ascontiguousarray(w[:, :, ::-1, ::-1]) if geom.flip else w


def _out_shape(a: np.ndarray, geom: ConvGeometry, channels: int, hw: tuple) -> tuple:
    return a.shape[: a.ndim - geom.nd - 1] + (channels,) + hw[2 - geom.nd :]


def _weight_shaped(gw: np.ndarray, geom: ConvGeometry) -> np.ndarray:
    """A (C_small, C_big/G, kH, kW) weight gradient in the user's layout (1-D; unflipped for convolve2d)."""
    gw = gw[:, :, ::-1, ::-1] if geom.flip else gw
    return gw.reshape(gw.shape[:2] + geom.kernel[2 - geom.nd :])


# The table at the top, one row each: the gradients of <g, op(a, b)> in a and in b, as ops.
def _grads_of_conv(g: Tensor, x: Tensor, w: Tensor, geom: ConvGeometry, need_x: bool, need_w: bool) -> tuple:
    gx = ConvTranspose.apply(g, w, None, geom) if need_x else None  # Cᵀ g: conv_transpose2d
    gw = ConvWeight.apply(x, g, geom) if need_w else None  # the correlation of x with g
    return gx, gw


def _grads_of_conv_transpose(g: Tensor, x: Tensor, w: Tensor, geom: ConvGeometry, need_x: bool, need_w: bool) -> tuple:
    gx = Conv.apply(g, w, None, geom) if need_x else None  # (Cᵀ)ᵀ g = C g: conv2d
    gw = ConvWeight.apply(g, x, geom) if need_w else None  # roles swapped: g is the big image here
    return gx, gw


def _grads_of_conv_weight(
    g: Tensor, big: Tensor, small: Tensor, geom: ConvGeometry, need_big: bool, need_small: bool
) -> tuple:
    g_big = ConvTranspose.apply(small, g, None, geom) if need_big else None
    g_small = Conv.apply(big, g, None, geom) if need_small else None
    return g_big, g_small


def _bias_grad(gy: Tensor, geom: ConvGeometry) -> Tensor:
    """The bias is copied to every pixel of every image; the adjoint of a copy is a sum."""
    channel = gy.ndim - geom.nd - 1
    return gy.sum(dim=tuple(i for i in range(gy.ndim) if i != channel))


class Conv(Function):
    """conv1d / conv2d / convolve2d: y = C_W x + b."""

    @staticmethod
    def forward(ctx, x, w, b, geom: ConvGeometry):
        x4, w4 = _as_4d(x, geom, geom.big), _weight_4d(w, geom)
        if ctx.needs_input_grad[1]:  # the fast kernels keep their columns of x for the weight gradient
            y, ctx.kept = kernels.correlate_keeping_columns(x4, w4, geom, b)
        else:
            y, ctx.kept = _correlate(x4, w4, geom, bias=b), None
        ctx.geom = geom
        # x and w themselves (not reshaped copies), so that a second derivative flows through them.
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, w if ctx.needs_input_grad[0] else None)
        return y.reshape(_out_shape(x, geom, w.shape[0], geom.small))

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        kept, ctx.kept = ctx.kept, None  # once: a second backward (retain_graph) builds the columns again
        with kernels.using_kept(kept):
            gx, gw = _grads_of_conv(gy, x, w, ctx.geom, *ctx.needs_input_grad[:2])
        gb = _bias_grad(gy, ctx.geom) if ctx.needs_input_grad[2] else None
        return gx, gw, gb, None


class ConvTranspose(Function):
    """conv_transpose1d / conv_transpose2d: y = Cᵀ_W x + b."""

    @staticmethod
    def forward(ctx, x, w, b, geom: ConvGeometry):
        y = _correlate_adjoint(_as_4d(x, geom, geom.small), _weight_4d(w, geom), geom)
        if b is not None:
            y += b.reshape(1, -1, 1, 1)
        ctx.geom = geom
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, w if ctx.needs_input_grad[0] else None)
        return y.reshape(_out_shape(x, geom, w.shape[1] * geom.groups, geom.big))

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        if ctx.needs_input_grad[0] and ctx.needs_input_grad[1]:
            gx, gw = ConvAndWeight.apply(gy, x, w, ctx.geom)  # the same pair, one pass over gy's columns
        else:
            gx, gw = _grads_of_conv_transpose(gy, x, w, ctx.geom, *ctx.needs_input_grad[:2])
        gb = _bias_grad(gy, ctx.geom) if ctx.needs_input_grad[2] else None
        return gx, gw, gb, None


# ConvWeight(big, small) = _correlate_weight is bilinear, and by its definition
# <ConvWeight(x, gy), V> = <gy, C_V x> for every weight V (C_V: conv2d with weight V). So for
# an incoming gradient V its derivative in gy is C_V x = conv2d(x, V) and in x it is
# C_Vᵀ gy = conv_transpose2d(gy, V): the weight gradient differentiates into the adjoint pair.
class ConvWeight(Function):
    """The weight gradient of conv2d (of conv_transpose2d with the roles swapped), as an op.

    ``big`` is conv2d's input (conv_transpose2d's output) and ``small`` conv2d's output
    (conv_transpose2d's input), both as the user's arrays; the result has the user's weight shape
    (unflipped for convolve2d).
    """

    @staticmethod
    def forward(ctx, big, small, geom: ConvGeometry):
        gw = _correlate_weight(_as_4d(big, geom, geom.big), _as_4d(small, geom, geom.small), geom)
        ctx.geom = geom
        ctx.save_for_backward(big if ctx.needs_input_grad[1] else None, small if ctx.needs_input_grad[0] else None)
        return _weight_shaped(gw, geom)

    @staticmethod
    def backward(ctx, gv):
        big, small = ctx.saved_tensors
        return *_grads_of_conv_weight(gv, big, small, ctx.geom, *ctx.needs_input_grad[:2]), None


# conv_transpose2d's two gradients, (conv2d(gy, W), ConvWeight(gy, x)), both read the columns of
# gy (im2col); kernels.correlate_and_weight builds them once for both. On benchmarks/bench_conv.py's
# conv_transpose2d cases (1 thread) the two separate calls cost about 10% (stride 1) to 20% (stride 2)
# more CPU time per training step. Its backward is the sum of the two rows of the table it fuses.
class ConvAndWeight(Function):
    """``(conv2d(big, w), ConvWeight(big, small))`` in one pass: conv_transpose2d's backward."""

    @staticmethod
    def forward(ctx, big, small, w, geom: ConvGeometry):
        x4, s4 = _as_4d(big, geom, geom.big), _as_4d(small, geom, geom.small)
        y, gw = kernels.correlate_and_weight(x4, _weight_4d(w, geom), s4, geom)
        ctx.geom = geom
        ctx.save_for_backward(big, small, w)
        return y.reshape(small.shape), _weight_shaped(gw, geom)

    @staticmethod
    def backward(ctx, g_conv, g_weight):
        big, small, w = ctx.saved_tensors
        need_big, need_small, need_w = ctx.needs_input_grad[:3]
        g_big = g_small = gw = None
        if g_conv is not None:
            g_big, gw = _grads_of_conv(g_conv, big, w, ctx.geom, need_big, need_w)
        if g_weight is not None:
            more, g_small = _grads_of_conv_weight(g_weight, big, small, ctx.geom, need_big, need_small)
            g_big = more if g_big is None else g_big + more  # both None, or both Tensors (need_big)
        return g_big, g_small, gw, None


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

    Example (the lecture notes' 6x6 image with stride 3):
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> A = tinynet.tensor([[3., 2, 7, 1, 6, 3], [4, 1, 1, 0, 9, 8], [8, 2, 0, 1, 2, 4],
        ...                     [5, 6, 0, 7, 1, 4], [0, 5, 4, 9, 6, 0], [4, 6, 2, 4, 0, 5]])
        >>> K = tinynet.tensor([[1., 2, 2], [2, 1, 2], [2, 2, 1]])
        >>> F.conv2d(A.reshape(1, 1, 6, 6), K.reshape(1, 1, 3, 3), stride=3).reshape(2, 2).tolist()
        [[52.0, 54.0], [52.0, 54.0]]
    """
    geom = _geometry("conv2d", input, weight, bias, stride, padding, dilation, groups, nd=2, transposed=False)
    return Conv.apply(input, weight, bias, geom)


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

    The lecture notes write a convolution as y_i = Σ_i' w_i' x_{i−i'}: the index i − i' runs backwards
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
    geom = _geometry(
        "convolve2d", input, weight, bias, stride, padding, dilation, groups, nd=2, transposed=False, flip=True
    )
    return Conv.apply(input, weight, bias, geom)


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

    Example (the lecture notes' 1-D signal, valid correlation with stride 2):
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> f = tinynet.tensor([[[1., 0, -2, 3, 1, 2, -1]]])
        >>> k = tinynet.tensor([[[0.5, 1, 0.5]]])
        >>> F.conv1d(f, k, stride=2).tolist()
        [[[-0.5, 2.5, 2.0]]]
    """
    geom = _geometry("conv1d", input, weight, bias, stride, padding, dilation, groups, nd=1, transposed=False)
    return Conv.apply(input, weight, bias, geom)


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

    Example (the lecture notes' 2x2 map upsampled to 3x3):
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> x = tinynet.tensor([[3., 4], [1, 7]]).reshape(1, 1, 2, 2)
        >>> w = tinynet.tensor([[2., 0], [1, -1]]).reshape(1, 1, 2, 2)
        >>> F.conv_transpose2d(x, w).reshape(3, 3).tolist()
        [[6.0, 8.0, 0.0], [5.0, 15.0, -4.0], [1.0, 6.0, -7.0]]
    """
    args = (input, weight, bias, stride, padding, dilation, groups)
    geom = _geometry("conv_transpose2d", *args, nd=2, transposed=True, output_padding=output_padding)
    return ConvTranspose.apply(input, weight, bias, geom)


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

    Example (the transpose of the lecture notes' 3x7 matrix maps 3 values back to 7):
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> y = tinynet.tensor([[[1., 0, 0]]])
        >>> F.conv_transpose1d(y, tinynet.tensor([[[0.5, 1, 0.5]]]), stride=2).tolist()
        [[[0.5, 1.0, 0.5, 0.0, 0.0, 0.0, 0.0]]]
    """
    args = (input, weight, bias, stride, padding, dilation, groups)
    geom = _geometry("conv_transpose1d", *args, nd=1, transposed=True, output_padding=output_padding)
    return ConvTranspose.apply(input, weight, bias, geom)
