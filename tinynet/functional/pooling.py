"""Pooling and max-unpooling, each forward next to its adjoint (PyTorch's semantics, NCHW).

Every op folds batch and channels into one axis of planes, ``(N*C, H, W)``, and
hands the planes to a pooling kernel in :mod:`tinynet.kernels`. The linear ops come
in adjoint pairs, as in the lecture notes (a matrix C and its transpose Cᵀ):

* max-pool at fixed switches gathers ``x[idx]``; its backward scatter-adds the
  gradient to ``idx``, and that same scatter is max-unpooling's forward, whose
  backward gathers again;
* average pooling sums each window; its backward spreads each gradient evenly
  over the window (``avg_pool2d`` and ``adaptive_avg_pool2d``).

Each backward is the partner op, run as a ``Function`` (``MaxUnpool2dFn``,
``GatherAtIndices``, ``WindowMeanAdjoint``), whose own backward is the first op
again: the adjoint of the adjoint. So ``create_graph=True`` records a backward made
of known ops, and second derivatives come out of the same pairs.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from tinynet import kernels as K
from tinynet.autograd import Function
from tinynet.functional._checks import (
    check_adaptive_output_size,
    check_divisor_override,
    check_flag,
    check_planes_input,
    pool_window_args,
    window_args,
)
from tinynet.functional._validate import check_tensor
from tinynet.kernels.workspace import zeros
from tinynet.tensor import Tensor

__all__ = [
    "max_pool2d",
    "max_pool2d_with_indices",
    "avg_pool2d",
    "max_unpool2d",
    "adaptive_avg_pool2d",
]


# --------------------------------------------------------------------------- validation and shapes
def as_planes(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) or (C, H, W) -> contiguous (N*C, H, W), a view when ``x`` is already contiguous."""
    return np.ascontiguousarray(x).reshape(math.prod(x.shape[:-2]), x.shape[-2], x.shape[-1])


def as_flat_planes(x: np.ndarray, dtype=None) -> np.ndarray:
    """(N, C, H, W) or (C, H, W) -> contiguous (N*C, H*W): each plane as one row, indexed by ih*W + iw."""
    return np.ascontiguousarray(x, dtype=dtype).reshape(math.prod(x.shape[:-2]), x.shape[-2] * x.shape[-1])


def pool_output_size(L: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """⌊(L + 2p − d(k−1) − 1 + (ceil_mode ? s−1 : 0)) / s⌋ + 1, minus one if ceil_mode's last window starts past L + p."""
    out = (L + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= L + p:
        out -= 1  # the last window must start inside the input or the left padding
    return out


def pool_output_shape(op: str, input: Tensor, k, s, p, d, ceil_mode: bool) -> tuple:
    H, W = input.shape[-2:]
    Ho = pool_output_size(H, k[0], s[0], p[0], d[0], ceil_mode)
    Wo = pool_output_size(W, k[1], s[1], p[1], d[1], ceil_mode)
    if Ho < 1 or Wo < 1:
        raise RuntimeError(
            f"{op}: the window does not fit: input {H}x{W} with kernel_size={k}, stride={s}, padding={p}, "
            f"dilation={d} gives an output of {Ho}x{Wo}; the (dilated) kernel must not be larger than the "
            "padded input"
        )
    return Ho, Wo


# --------------------------------------------------------------------------- max-pool
class MaxPool2dFn(Function):
    """y = max over each window, with the argmax switches; backward scatter-adds to the switches."""

    @staticmethod
    def forward(ctx, x, k, s, p, d, out_hw):
        shape = x.shape[:-2] + tuple(out_hw)
        out, argmax = np.empty(shape, x.dtype), np.empty(shape, np.int64)
        lowest = x.dtype.type(-np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min)
        K.max_pool2d_forward(as_planes(x), *k, *s, *p, *d, lowest, as_planes(out), as_planes(argmax))
        ctx.save_for_backward(argmax)
        ctx.in_shape = x.shape
        ctx.dilated = tuple(d) != (1, 1)
        return out, argmax

    @staticmethod
    def backward(ctx, grad, grad_indices):
        # The adjoint of the gather y = x[idx] is the scatter-add of grad to idx: max-unpooling's
        # forward, whose own backward gathers at idx again, so the double backward closes.
        (argmax,) = ctx.saved_arrays
        H, W = ctx.in_shape[-2:]
        if ctx.dilated and argmax.size and (argmax.min() < 0 or argmax.max() >= H * W):
            # A window that dilation made skip the whole plane points outside it; such a switch
            # gets no gradient: mask its gradient and send it to a harmless index.
            outside = (argmax < 0) | (argmax >= H * W)
            grad = grad * Tensor._wrap((~outside).astype(grad.dtype))
            argmax = np.where(outside, 0, argmax)
        return MaxUnpool2dFn.apply(grad, argmax, (H, W)), None, None, None, None, None


def max_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """2-D max pooling over (N, C, H, W) or (C, H, W) input, as ``torch.nn.functional.max_pool2d``.

    Each output is the maximum of a ``kernel_size`` window (spaced by ``dilation``)
    that moves by ``stride``. Padding counts as -inf, so it never wins. The first
    maximum of a window wins ties; a NaN always propagates (PyTorch's rule).
    The gradient goes to the position of the maximum and adds up where
    overlapping windows share it.

    Args:
        input: (N, C, H, W) or (C, H, W), float32/float64 (integers work without gradients).
        kernel_size: int or (kH, kW), positive.
        stride: int or pair; ``None`` (the default) means ``kernel_size``.
        padding: implicit -inf on both sides, at most ``kernel_size // 2`` (PyTorch's
            rule; dilation does not widen it).
        dilation: spacing between the window's elements.
        ceil_mode: round the output size up, as long as the last window starts
            inside the input or the left padding.
        return_indices: also return the switches, the flat index ``ih * W + iw`` of
            each maximum within its (unpadded) H×W plane, for :func:`max_unpool2d`.

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out), with
          H_out = ⌊(H + 2·padding[0] − dilation[0]·(kernel_size[0] − 1) − 1 + c) / stride[0]⌋ + 1,
          c = stride[0] − 1 if ceil_mode else 0 (minus 1 if that last window starts at or past
          H + padding[0]); W_out likewise. Indices have the output's shape, dtype int64.

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> x = tinynet.tensor([[[[1.0, 2.0, 5.0, 0.0], [3.0, 4.0, 1.0, 1.0]]]])
        >>> y, idx = F.max_pool2d(x, 2, return_indices=True)
        >>> y
        tensor([[[[4., 5.]]]])
        >>> idx
        tensor([[[[5, 2]]]])
    """
    op = "max_pool2d"
    check_planes_input(input, op, allow_int=True)
    k, s, p, d = pool_window_args(op, kernel_size, stride, padding, dilation)
    ceil_mode = check_flag(ceil_mode, op, "ceil_mode")
    return_indices = check_flag(return_indices, op, "return_indices")
    out_hw = pool_output_shape(op, input, k, s, p, d, ceil_mode)
    out, indices = MaxPool2dFn.apply(input, k, s, p, d, out_hw)
    return (out, indices) if return_indices else out


def max_pool2d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False):
    """:func:`max_pool2d` with ``return_indices=True``: returns ``(output, indices)``.

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output and indices: (N, C, H_out, W_out) or (C, H_out, W_out), H_out and W_out as in
          :func:`max_pool2d`, e.g. H_out = ⌊(H + 2·padding[0] − dilation[0]·(kernel_size[0] − 1) − 1) / stride[0]⌋ + 1
          without ceil_mode. The indices (int64) are flat positions ``ih·W + iw`` in each input plane.

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> F.max_pool2d_with_indices(tinynet.tensor([[[[1.0, 3.0]]]]), (1, 2))[1]
        tensor([[[[1]]]])
    """
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


# --------------------------------------------------------------------------- max-unpool
class MaxUnpool2dFn(Function):
    """y = Cᵀ x, the scatter-add of x to its switches; backward gathers at the switches (C)."""

    @staticmethod
    def forward(ctx, x, indices, out_hw):
        idx = as_flat_planes(indices, np.int64)
        out = np.empty(x.shape[:-2] + tuple(out_hw), x.dtype)  # the kernel zeroes each plane
        K.scatter_add_at_indices(as_flat_planes(x), idx, as_flat_planes(out))
        ctx.save_for_backward(idx)
        ctx.in_shape = x.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        (idx,) = ctx.saved_arrays
        if not ctx.needs_input_grad[0]:
            return None, None, None
        return GatherAtIndices.apply(grad, idx.reshape(ctx.in_shape)), None, None


class GatherAtIndices(Function):
    """y = C x, y[.., j] = x[.., idx[j]] in each plane (max-unpool's backward); backward scatter-adds (Cᵀ).

    ``indices`` (int64, batch dimensions as ``x``) index each flattened H×W plane of ``x``
    and must lie inside it. Its backward is max-unpooling's forward, so the pair
    max-unpool <-> gather is closed under differentiation.
    """

    @staticmethod
    def forward(ctx, x, indices):
        out = np.empty(indices.shape, x.dtype)
        K.gather_at_indices(as_flat_planes(x), as_flat_planes(indices, np.int64), as_flat_planes(out))
        ctx.save_for_backward(indices)
        ctx.in_hw = x.shape[-2:]
        return out

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved_arrays
        return MaxUnpool2dFn.apply(grad, indices, ctx.in_hw), None


def unpool_output_size(op: str, input: Tensor, k, s, p, output_size) -> tuple:
    """(H−1)·s − 2p + k per axis, or ``output_size`` (last two entries) within ±stride of it (exclusive)."""
    default = tuple((n - 1) * si - 2 * pi + ki for n, si, pi, ki in zip(input.shape[-2:], s, p, k))
    if output_size is None:
        size = default
    else:
        if not isinstance(output_size, (tuple, list)) or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in output_size
        ):
            raise TypeError(f"{op}: output_size must be a sequence of ints, got {output_size!r}")
        size = tuple(int(v) for v in output_size)
        if len(size) == input.ndim and size[:-2] == tuple(input.shape[:-2]):
            size = size[-2:]
        if len(size) != 2:
            raise ValueError(
                f"{op}: output_size must hold 2 entries (H, W) or the full output shape "
                f"{tuple(input.shape[:-2]) + ('H', 'W')}, got {output_size!r}"
            )
        for axis, (n, dflt, si) in enumerate(zip(size, default, s)):
            if not dflt - si < n < dflt + si:
                raise ValueError(
                    f"{op}: invalid output_size {output_size!r}: entry {axis} must be between "
                    f"{dflt - si} and {dflt + si} (exclusive) for input size {input.shape[-2 + axis]}, "
                    f"kernel_size={k[axis]}, stride={si}, padding={p[axis]}"
                )
    if min(size) < 1:
        raise RuntimeError(
            f"{op}: the output would be {size[0]}x{size[1]} for input {tuple(input.shape)} with kernel_size={k}, "
            f"stride={s}, padding={p}; each output size must be positive"
        )
    return size


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """Max-unpooling with the switches of :func:`max_pool2d`: a partial inverse of max pooling.

    Each value goes to its flat index ``ih * W_out + iw`` in its plane; the rest
    is zero. This is the transpose Cᵀ of max-pooling's selection matrix C (the
    lecture notes' "switches"), the same scatter that max-pool's backward uses, and its
    backward gathers the gradient at the indices, exactly PyTorch's backward.

    Duplicate indices: two values sent to the same position (overlapping pool
    windows that picked the same maximum) are **added**. PyTorch writes one of
    them instead. We add because only then is the op a linear map whose
    backward (the gather PyTorch also uses) is its true adjoint: forward,
    gradient and ``adjoint_check`` then agree for every index tensor. Whenever
    the indices of a plane are distinct, as after any pooling with
    stride >= kernel_size, the result equals PyTorch's.

    Args:
        input: (N, C, H, W) or (C, H, W) values, typically max_pool2d's output.
        indices: int64 (any integer dtype) tensor of the same shape, each in
            [0, H_out * W_out), typically max_pool2d's indices.
        kernel_size, stride, padding: those of the max_pool2d being inverted
            (stride defaults to kernel_size); they set the default output size.
        output_size: (H_out, W_out) or the full output shape, to undo a pooling
            that dropped rows or columns; each entry must be within ±stride of
            the default (exclusive).

    Shape:
        - Input, indices: (N, C, H, W) or (C, H, W)
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out), with
          H_out = (H − 1)·stride[0] − 2·padding[0] + kernel_size[0], W_out likewise, or ``output_size``.

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> x = tinynet.tensor([[[[1.0, 2.0, 5.0, 0.0], [3.0, 4.0, 1.0, 1.0]]]])
        >>> y, idx = F.max_pool2d(x, 2, return_indices=True)
        >>> F.max_unpool2d(y, idx, 2)
        tensor([[[[0., 0., 5., 0.],
                  [0., 4., 0., 0.]]]])
    """
    op = "max_unpool2d"
    check_planes_input(input, op, allow_int=True)
    check_tensor(indices, op, "indices")
    if indices.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: indices must be an integer tensor (int64), got dtype {indices.dtype}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(
            f"{op}: indices must have the input's shape {tuple(input.shape)}, got shape {tuple(indices.shape)}"
        )
    k, s, p, _ = window_args(op, kernel_size, stride, padding)
    out_hw = unpool_output_size(op, input, k, s, p, output_size)
    if indices.data.size:
        lo, hi = int(indices.data.min()), int(indices.data.max())
        size = out_hw[0] * out_hw[1]
        if lo < 0 or hi >= size:
            bad = lo if lo < 0 else hi
            raise RuntimeError(
                f"{op}: found an invalid index {bad} in indices: the output planes are {out_hw[0]}x{out_hw[1]}, "
                f"so indices must lie in [0, {size})"
            )
    return MaxUnpool2dFn.apply(input, indices, out_hw)


# --------------------------------------------------------------------------- average pools
def avg_pool_windows(L: int, k: int, s: int, p: int, out: int, count_include_pad: bool) -> tuple:
    """avg_pool2d's windows on one axis: clipped [start, end) and the count PyTorch divides by.

    The padded window [o·s − p, o·s − p + k) is first cut at L + p (a ceil_mode
    window can hang past the right padding, and that part never counts); its
    length is the count with padding, its overlap with [0, L) the count without.
    """
    start = np.arange(out, dtype=np.int64) * s - p
    end = np.minimum(start + k, L + p)
    padded = end - start
    start, end = np.maximum(start, 0), np.minimum(end, L)
    return start, end, padded if count_include_pad else end - start


def adaptive_windows(L: int, out: int) -> tuple:
    """adaptive_avg_pool2d's windows on one axis: [⌊o·L/out⌋, ⌈(o+1)·L/out⌉) and their lengths."""
    o = np.arange(out, dtype=np.int64)
    start, end = (o * L) // out, ((o + 1) * L + out - 1) // out
    return start, end, end - start


class WindowMean(Function):
    """y = window sums / divisor (both average pools); backward spreads g / divisor over each window (Cᵀ)."""

    @staticmethod
    def forward(ctx, x, rows, cols, divisor, window=None):
        # window: avg_pool2d's (kernel, stride, padding) the tables come from; not used here, but
        # tools that follow the geometry through a function_hook (tinynet.summary) read it.
        ctx.tables = (rows, cols, divisor)
        ctx.in_hw = x.shape[-2:]
        out = np.empty(x.shape[:-2] + (len(rows[0]), len(cols[0])), x.dtype)
        K.window_mean_forward(as_planes(x), *rows, *cols, divisor, as_planes(out))
        return out

    @staticmethod
    def backward(ctx, grad):
        return WindowMeanAdjoint.apply(grad, *ctx.tables, ctx.in_hw), None, None, None


class WindowMeanAdjoint(Function):
    """y = Cᵀ g: each g[.., oh, ow] / divisor spread evenly over its window; backward is the window mean (C).

    The average pools' backward. Window mean and spreading are each other's adjoint, so
    differentiating either one again gives the other.
    """

    @staticmethod
    def forward(ctx, g, rows, cols, divisor, in_hw):
        ctx.tables = (rows, cols, divisor)
        out = zeros(g.shape[:-2] + tuple(in_hw), g.dtype)
        K.window_mean_backward(as_planes(g), *rows, *cols, divisor, as_planes(out))
        return out

    @staticmethod
    def backward(ctx, grad):
        return WindowMean.apply(grad, *ctx.tables), None, None, None, None


def avg_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override=None,
) -> Tensor:
    """2-D average pooling, as ``torch.nn.functional.avg_pool2d``, divisor rules included.

    Each output is the sum of its window over a divisor: ``divisor_override`` if
    given; else, with ``count_include_pad``, the window's size counting zero
    padding but not the part of a ceil_mode window that hangs past the padding;
    else the number of real input elements in the window.

    Args:
        input: (N, C, H, W) or (C, H, W), float32/float64.
        kernel_size: int or (kH, kW), positive.
        stride: int or pair; ``None`` means ``kernel_size``.
        padding: implicit zeros on both sides, at most half the kernel size.
        ceil_mode: round the output size up (the last window must start inside
            the input or the left padding).
        count_include_pad: count the zero padding in the divisor.
        divisor_override: a nonzero int used as the divisor of every window.

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out), with
          H_out = ⌊(H + 2·padding[0] − kernel_size[0] + c) / stride[0]⌋ + 1,
          c = stride[0] − 1 if ceil_mode else 0 (minus 1 if that last window starts at or past
          H + padding[0]); W_out likewise.

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> x = tinynet.tensor([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]])
        >>> F.avg_pool2d(x, 2, stride=1)
        tensor([[[[3., 4.]]]])
        >>> F.avg_pool2d(x, 2, padding=1, count_include_pad=False)
        tensor([[[[1. , 2.5],
                  [4. , 5.5]]]])
    """
    op = "avg_pool2d"
    check_planes_input(input, op)
    k, s, p, _ = pool_window_args(op, kernel_size, stride, padding)
    ceil_mode = check_flag(ceil_mode, op, "ceil_mode")
    count_include_pad = check_flag(count_include_pad, op, "count_include_pad")
    divisor = check_divisor_override(op, divisor_override)
    out_hw = pool_output_shape(op, input, k, s, p, (1, 1), ceil_mode)
    rows, cols = (
        avg_pool_windows(L, *args, count_include_pad) for L, args in zip(input.shape[-2:], zip(k, s, p, out_hw))
    )
    return WindowMean.apply(input, rows, cols, divisor, window=(k, s, p))


def adaptive_output_size(op: str, input: Tensor, output_size) -> tuple:
    """The output (H_out, W_out): ``output_size`` with ``None`` entries replaced by the input's sizes."""
    sizes = check_adaptive_output_size(op, output_size)
    return tuple(int(input.shape[-2 + i]) if v is None else int(v) for i, v in enumerate(sizes))


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average pooling to a fixed output size, as ``torch.nn.functional.adaptive_avg_pool2d``.

    Output row ``i`` of ``H_out`` averages input rows ⌊i·H/H_out⌋ to
    ⌈(i+1)·H/H_out⌉ − 1, so the windows cover the input and may overlap by one.

    Args:
        input: (N, C, H, W) or (C, H, W), float32/float64.
        output_size: int or (H_out, W_out); ``None`` in the pair keeps that input size.

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out)

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> x = tinynet.tensor([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]])
        >>> F.adaptive_avg_pool2d(x, (1, 2))
        tensor([[[[3., 4.]]]])
    """
    op = "adaptive_avg_pool2d"
    check_planes_input(input, op)
    out_hw = adaptive_output_size(op, input, output_size)
    rows, cols = (adaptive_windows(L, n) for L, n in zip(input.shape[-2:], out_hw))
    return WindowMean.apply(input, rows, cols, 0)
