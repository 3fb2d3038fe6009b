"""Argument checks of the convolutions, shared by tinynet.functional.conv and tinynet.nn.conv.

Each check raises, before any kernel runs, a ValueError/TypeError that names the op, the
argument and the value (docs/ARCHITECTURE.md, "validate at the edge").
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from tinynet.functional._validate import check_tensor, int_tuple, same_dtype


def positive_int(value, op: str, name: str) -> int:
    """``value`` (the argument ``name``) must be a positive int (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}: {name} must be an int, got {value!r}")
    if value < 1:
        raise ValueError(f"{op}: {name} must be a positive int, got {value}")
    return int(value)


def check_padding(padding, nd: int, op: str, stride: tuple, transposed: bool):
    """``'valid'``, ``'same'`` (forward convolutions, stride 1) or ints >= 0; returns the string or an nd-tuple."""
    if isinstance(padding, str) and not transposed:
        if padding not in ("valid", "same"):
            raise ValueError(f"{op}: padding must be 'valid', 'same', an int or a tuple of {nd} ints, got {padding!r}")
        if padding == "same" and any(s != 1 for s in stride):
            raise ValueError(
                f"{op}: padding='same' is not supported for strided convolutions (stride={stride}); "
                "use an explicit padding"
            )
        return padding
    return int_tuple(padding, nd, op, "padding", minimum=0)


def check_output_padding(output_padding, nd: int, op: str, stride: tuple, dilation: tuple) -> tuple:
    """Ints >= 0, each smaller than the stride or the dilation of its dimension (PyTorch's rule)."""
    output_padding = int_tuple(output_padding, nd, op, "output_padding", minimum=0)
    if any(o >= max(s, d) for o, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(
            f"{op}: output_padding {output_padding} must be smaller than either stride {stride} or dilation {dilation}"
        )
    return output_padding


class ConvArgs(NamedTuple):
    """A convolution's checked arguments, per spatial dimension (nd-tuples)."""

    kernel: tuple
    stride: tuple
    padding: object  # 'valid', 'same' or an nd-tuple
    dilation: tuple
    groups: int
    output_padding: tuple  # zeros for a forward convolution


def _check_channels(op: str, input, weight, bias, groups: int, nd: int, transposed: bool) -> None:
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


def check_conv_args(
    op: str, input, weight, bias, stride, padding, dilation, groups, nd: int, transposed: bool, output_padding=0
) -> ConvArgs:
    """Check every argument of a convolution (or, ``transposed``, of a transposed one)."""
    check_tensor(input, op, "input", ndim=(nd + 1, nd + 2), floating=True)
    check_tensor(weight, op, "weight", ndim=nd + 2, floating=True)
    same_dtype(input, weight, op, "input", "weight")
    if input.dtype not in (np.float32, np.float64):  # the kernels are compiled for these two (not float16)
        raise TypeError(f"{op}: input must be float32 or float64, got dtype {input.dtype}")
    groups = positive_int(groups, op, "groups")
    stride = int_tuple(stride, nd, op, "stride", minimum=1)
    dilation = int_tuple(dilation, nd, op, "dilation", minimum=1)
    kernel = tuple(weight.shape[2:])
    if min(kernel) < 1:
        raise ValueError(f"{op}: weight has an empty kernel (weight shape {tuple(weight.shape)})")
    if weight.shape[0] == 0:
        raise ValueError(f"{op}: weight has no filters (weight shape {tuple(weight.shape)})")
    _check_channels(op, input, weight, bias, groups, nd, transposed)
    if min(input.shape[-nd:]) < 1:
        raise ValueError(
            f"{op}: input has a zero-sized spatial dimension (shape {tuple(input.shape)}); only the batch may be empty"
        )
    padding = check_padding(padding, nd, op, stride, transposed)
    output_padding = check_output_padding(output_padding, nd, op, stride, dilation) if transposed else (0,) * nd
    return ConvArgs(kernel, stride, padding, dilation, groups, output_padding)


def check_kernel_fits(op: str, kernel: tuple, dilation: tuple, padded: tuple) -> None:
    """The dilated kernel must fit in the padded input of a convolution."""
    span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if any(sp > n for sp, n in zip(span, padded)):
        raise ValueError(
            f"{op}: the kernel (size {kernel}, dilation {dilation}, so spanning {span}) is larger than "
            f"the padded input (size {padded})"
        )


def check_output_size(op: str, out: tuple, args: ConvArgs, size: tuple, padding: tuple) -> None:
    """A transposed convolution's output must have positive sizes."""
    if min(out) < 1:
        raise ValueError(
            f"{op}: the output size {out} is not positive (input size {size}, stride {args.stride}, "
            f"padding {padding}, dilation {args.dilation}, kernel {args.kernel}, output_padding {args.output_padding})"
        )
