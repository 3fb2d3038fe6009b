"""Argument checks of the convolutions, pools, resampling ops and batch norm, shared by functional/ and nn/.

Each check raises, before any kernel runs, a ValueError/TypeError that names the op, the
argument and the value (docs/ARCHITECTURE.md, "validate at the edge").
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np

from tinynet.functional._validate import check_tensor, int_tuple, same_dtype
from tinynet.tensor import Tensor


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


# ----------------------------------------------------------------------------- pooling
def check_planes_input(input, op: str, *, allow_int: bool = False) -> None:
    """``input`` must be (N, C, H, W) or unbatched (C, H, W), float32/float64 (or integer), C, H, W > 0."""
    check_tensor(input, op, "input", ndim=(3, 4))
    kind = input.dtype.kind
    if not (input.dtype in (np.float32, np.float64) or (allow_int and kind in "iu")):
        want = "float32, float64 or an integer dtype" if allow_int else "float32 or float64"
        raise TypeError(f"{op}: input must be {want}, got dtype {input.dtype}")
    if 0 in input.shape[-3:]:
        raise RuntimeError(
            f"{op}: expected input (N, C, H, W) or (C, H, W) with non-zero C, H and W (only N may be 0), "
            f"got shape {tuple(input.shape)}"
        )


def window_args(op: str, kernel_size, stride, padding, dilation=1) -> tuple:
    """kernel_size, stride (None or () means kernel_size), padding and dilation as checked pairs."""
    k = int_tuple(kernel_size, 2, op, "kernel_size")
    no_stride = stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0)  # PyTorch: [] too
    s = k if no_stride else int_tuple(stride, 2, op, "stride")
    p = int_tuple(padding, 2, op, "padding")
    d = int_tuple(dilation, 2, op, "dilation")
    for name, value, pair, least in (
        ("kernel_size", kernel_size, k, 1),
        ("stride", stride, s, 1),
        ("dilation", dilation, d, 1),
        ("padding", padding, p, 0),
    ):
        if min(pair) < least:
            must = "positive" if least else "non-negative"
            raise RuntimeError(f"{op}: {name} must be {must}, got {name}={value!r}")
    return k, s, p, d


def pool_window_args(op: str, kernel_size, stride, padding, dilation=1) -> tuple:
    """:func:`window_args`, plus PyTorch's rule padding <= kernel_size // 2 (dilation does not widen it)."""
    k, s, p, d = window_args(op, kernel_size, stride, padding, dilation)
    # Wider padding would create windows that see only padding.
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise RuntimeError(
            f"{op}: padding must be at most half of the kernel size, got padding={p} with kernel_size={k}: "
            f"at most {tuple(ki // 2 for ki in k)}"
        )
    return k, s, p, d


def check_flag(value, op: str, name: str) -> bool:
    """``value`` must be a bool (or an int, as PyTorch accepts)."""
    if not isinstance(value, (bool, np.bool_, numbers.Integral)):
        raise TypeError(f"{op}: {name} must be a bool, got {value!r}")
    return bool(value)


def check_divisor_override(op: str, divisor_override) -> int:
    """None (0, the kernel's "no override") or a nonzero int."""
    if divisor_override is None:
        return 0
    if not isinstance(divisor_override, numbers.Integral) or isinstance(divisor_override, bool):
        raise TypeError(f"{op}: divisor_override must be an int or None, got {divisor_override!r}")
    if divisor_override == 0:
        raise RuntimeError(f"{op}: divisor_override must not be zero, got {divisor_override!r}")
    return int(divisor_override)


def check_adaptive_output_size(op: str, output_size) -> tuple:
    """An int, or a pair of ints >= 0 where ``None`` keeps the input's size on that axis; returns the pair."""
    if output_size is None:
        raise TypeError(f"{op}: output_size must be an int or a pair of ints (None keeps a size), got None")
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    if len(sizes) != 2 or not all(
        v is None or (isinstance(v, numbers.Integral) and not isinstance(v, bool)) for v in sizes
    ):
        raise TypeError(f"{op}: output_size must be an int or a pair of ints (None keeps a size), got {output_size!r}")
    if any(v is not None and v < 0 for v in sizes):
        raise RuntimeError(f"{op}: output_size must be >= 0, got {output_size!r}")
    return sizes


# ----------------------------------------------------------------------------- resampling
MODES = ("nearest", "nearest-exact", "linear", "bilinear", "area", "bed_of_nails")
_TORCH_ONLY_MODES = ("bicubic", "trilinear", "lanczos")  # torch has them; tinynet does not (yet)
_INTERPOLATING_MODES = ("linear", "bilinear")  # the modes that take align_corners


def check_resize_args(op: str, size, scale_factor, mode, align_corners, recompute_scale_factor=None) -> None:
    """The checks that do not need the input (``nn.Upsample`` runs them once, at construction)."""
    if not isinstance(mode, str) or mode not in MODES:
        hint = " (PyTorch has it; tinynet does not implement it)" if mode in _TORCH_ONLY_MODES else ""
        raise ValueError(f"{op}: unknown mode {mode!r}{hint}; expected one of {', '.join(MODES)}")
    if align_corners is not None:
        if mode not in _INTERPOLATING_MODES:
            raise ValueError(
                f"{op}: align_corners option can only be set with the interpolating modes: linear | bilinear, "
                f"got align_corners={align_corners!r} with mode={mode!r}"
            )
        if not isinstance(align_corners, (bool, np.bool_)):
            raise TypeError(f"{op}: align_corners must be a bool or None, got {align_corners!r}")
    if size is not None and scale_factor is not None:
        raise ValueError(
            f"{op}: only one of size or scale_factor should be defined, got size={size!r} and "
            f"scale_factor={scale_factor!r}"
        )
    if size is None and scale_factor is None:
        raise ValueError(f"{op}: either size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError(f"{op}: recompute_scale_factor is not meaningful with an explicit size (size={size!r})")
        sizes = size if isinstance(size, (tuple, list)) else (size,)
        if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in sizes):
            raise TypeError(f"{op}: size must be an int or a tuple of ints, got {size!r}")
        if min(sizes, default=1) < (0 if mode == "area" else 1):  # "area" (adaptive pooling) allows 0
            raise RuntimeError(f"{op}: output sizes must be positive, got size={size!r}")
        return
    scales = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor,)
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in scales):
        raise TypeError(f"{op}: scale_factor must be a number or a tuple of numbers, got {scale_factor!r}")
    if not all(math.isfinite(v) and v > 0 for v in scales):
        raise RuntimeError(f"{op}: scale_factor must be positive and finite, got scale_factor={scale_factor!r}")
    if mode == "bed_of_nails" and not all(float(v).is_integer() for v in scales):
        raise ValueError(f"{op}: bed_of_nails needs integer scale factors, got scale_factor={scale_factor!r}")


def check_shuffle_factor(op: str, name: str, factor) -> int:
    """The upscale/downscale factor r: a positive int."""
    if not isinstance(factor, numbers.Integral) or isinstance(factor, bool):
        raise TypeError(f"{op}: {name} must be an int, got {factor!r}")
    if factor <= 0:
        raise RuntimeError(f"{op}: {name} must be positive, got {name}={factor!r}")
    return int(factor)


def check_shuffle_args(op: str, input, name: str, factor) -> int:
    """input: a Tensor of at least 3 dimensions; factor: a positive int (returned)."""
    check_tensor(input, op, "input")
    factor = check_shuffle_factor(op, name, factor)
    if input.ndim < 3:
        raise RuntimeError(
            f"{op}: expected input with at least 3 dimensions (*, C, H, W), got shape {tuple(input.shape)}"
        )
    return int(factor)


# ----------------------------------------------------------------------------- batch norm
def check_channel_vector(t, name: str, c: int, x: Tensor, *, same_dtype: bool) -> None:
    """A (C,) floating-point vector of batch_norm (weight, bias or a running statistic)."""
    check_tensor(t, "batch_norm", name, floating=True)
    if t.shape != (c,):
        raise RuntimeError(
            f"batch_norm: {name} should contain {c} elements (one per channel of input shape "
            f"{tuple(x.shape)}), got shape {tuple(t.shape)}"
        )
    if same_dtype and t.dtype != x.dtype:
        raise TypeError(f"batch_norm: {name} ({t.dtype}) and input ({x.dtype}) must have the same dtype")
