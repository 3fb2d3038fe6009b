"""The argument audit: one table of bad calls, at least one per argument of every public op.

Every row is a call that must fail *before any kernel runs* (the Numba kernels are
replaced by a tripwire for these tests) with ValueError/TypeError, or RuntimeError /
IndexError where PyTorch raises those, and a message that names the argument and the
bad value (checked with ``match=``). A numba typing error, an AssertionError, an
AttributeError from deep inside, or a silent result fails the row.

Two coverage tests keep the table honest as the API grows: every public callable of
tinynet, tinynet.nn.functional, tinynet.nn (and nn.init), tinynet.optim (and its
schedulers), tinynet.data (and its datasets), tinynet.io, tinynet.metrics,
tinynet.testing, tinynet.summary and tinynet.models has rows, and every argument of
every functional op, constructor and public function has a row, unless ``EXEMPT``
says why not. The last part checks that empty batches work wherever PyTorch allows
them, against torch as the oracle.

Run this file as a script to print the number of bad calls tested per op.
"""

from __future__ import annotations

import collections
import inspect
import io
import math
import sys
import types
import warnings

import numpy as np
import pytest

import tinynet
import tinynet.data.datasets as datasets
import tinynet.nn.functional as F
from tinynet import data, metrics, models, nn, optim, testing
from tinynet import io as tio
from tinynet.nn import init
from tinynet.optim import lr_scheduler

# ============================================================================ the table
ROWS: list = []
COUNTS: collections.Counter = collections.Counter()
ARGS: dict = collections.defaultdict(set)


def bad(op: str, arg: str, why: str, call, error, match: str) -> None:
    """One bad call of ``op`` whose argument ``arg`` is wrong (``why``)."""
    ROWS.append(pytest.param(call, error, match, id=f"{op}|{arg}|{why}"))
    COUNTS[op] += 1
    ARGS[op].add(arg)


def t(*shape, dtype=np.float32, fill=1.0):
    return tinynet.tensor(np.full(shape, fill, dtype=dtype))


def ti(*shape, fill=0):
    return t(*shape, dtype=np.int64, fill=fill)


def with_arg(fn, base, arg, value):
    """A call of ``fn(**base())`` with ``arg`` replaced by ``value``."""

    def call():
        kw = base()
        kw[arg] = value
        return fn(**kw)

    return call


def fbad(name: str, base, arg: str, value, why: str, error, match: str) -> None:
    """A bad call of ``tinynet.nn.functional.<name>``."""
    bad(f"F.{name}", arg, why, with_arg(getattr(F, name), base, arg, value), error, match)


def mbad(cls: str, base, arg: str, value, why: str, error, match: str) -> None:
    """A bad constructor call of ``tinynet.nn.<cls>``."""
    bad(f"nn.{cls}", arg, why, with_arg(getattr(nn, cls), base, arg, value), error, match)


NUM = (ValueError, TypeError)  # a bad number: either is right (PyTorch mixes them too)


# The table reads best one bad call per line, so the formatter leaves it alone.
# fmt: off
# ---------------------------------------------------------------------------- convolutions
def _conv_rows(name: str, nd: int, transposed: bool) -> None:
    sp = (6,) * nd
    k = (3,) * nd
    # conv: weight (C_out=4, C_in=3, k); transposed: weight (C_in=3, C_out/groups=4, k)
    w_shape = (3, 4) + k if transposed else (4, 3) + k

    def base():
        kw = dict(input=t(2, 3, *sp), weight=t(*w_shape), bias=t(4), stride=1, padding=0, dilation=1, groups=1)
        if transposed:
            kw["output_padding"] = 0
        return kw

    rank = f"{nd + 1}-D or {nd + 2}-D"
    fbad(name, base, "input", np.ones((2, 3) + sp, np.float32), "ndarray", TypeError, rf"{name}: input must be a Tensor, got ndarray")
    fbad(name, base, "input", None, "None", TypeError, rf"{name}: input must be a Tensor, got NoneType")
    fbad(name, base, "input", t(*sp), "rank", ValueError, rf"{name}: expected input to be {rank}, got {nd}-D")
    fbad(name, base, "input", t(2, 3, *sp, dtype=np.int64), "int dtype", TypeError, rf"{name}: input must be a floating-point tensor, got dtype int64")
    fbad(name, base, "input", t(2, 3, *sp, dtype=np.float64), "dtype mismatch", TypeError, rf"{name}: input \(float64\) and weight \(float32\) must have the same dtype")
    fbad(name, lambda: {**base(), "weight": t(*w_shape, dtype=np.float16), "bias": None}, "input", t(2, 3, *sp, dtype=np.float16), "float16", TypeError, rf"{name}: input must be float32 or float64, got dtype float16")
    fbad(name, base, "input", t(2, 5, *sp), "channels", ValueError, rf"{name}: input has 5 channels but weight expects 3")
    fbad(name, base, "input", t(2, 3, *((0,) * nd)), "zero-size spatial", ValueError, rf"{name}: input has a zero-sized spatial dimension")
    fbad(name, base, "weight", "w", "str", TypeError, rf"{name}: weight must be a Tensor, got str")
    fbad(name, base, "weight", t(*w_shape[:-1]), "rank", ValueError, rf"{name}: expected weight to be {nd + 2}-D, got {nd + 1}-D")
    fbad(name, base, "weight", t(*w_shape, dtype=np.int64), "int dtype", TypeError, rf"{name}: weight must be a floating-point tensor, got dtype int64")
    fbad(name, base, "bias", t(5), "length", ValueError, rf"{name}: bias must be 1-D with 4 elements \(one per output channel\), got shape \(5,\)")
    fbad(name, base, "bias", t(1, 4), "rank", ValueError, rf"{name}: bias must be 1-D with 4 elements .*got shape \(1, 4\)")
    fbad(name, base, "bias", "abc", "str", TypeError, rf"{name}: bias must be a Tensor, got str")
    fbad(name, base, "bias", t(4, dtype=np.float64), "dtype mismatch", TypeError, rf"{name}: input \(float32\) and bias \(float64\) must have the same dtype")
    fbad(name, base, "stride", 0, "zero", ValueError, rf"{name}: stride must be >= 1, got 0")
    fbad(name, base, "stride", 1.5, "float", TypeError, rf"{name}: stride must be an int or a tuple of {nd} ints, got 1.5")
    fbad(name, base, "stride", (1,) * (nd + 1), "length", TypeError, rf"{name}: stride must be an int or a tuple of {nd} ints, got \(1, 1")
    fbad(name, base, "padding", -1, "negative", ValueError, rf"{name}: padding must be >= 0, got -1")
    fbad(name, base, "dilation", 0, "zero", ValueError, rf"{name}: dilation must be >= 1, got 0")
    fbad(name, base, "dilation", None, "None", TypeError, rf"{name}: dilation must be an int or a tuple of {nd} ints, got None")
    fbad(name, base, "groups", 0, "zero", ValueError, rf"{name}: groups must be a positive int, got 0")
    fbad(name, base, "groups", 1.5, "float", TypeError, rf"{name}: groups must be an int, got 1.5")
    fbad(name, base, "groups", 2, "does not divide", ValueError, rf"{name}: groups=2 does not divide the")
    if transposed:
        fbad(name, base, "padding", "same", "word", TypeError, rf"{name}: padding must be an int or a tuple of {nd} ints, got 'same'")
        fbad(name, base, "output_padding", 1, "not below stride", ValueError, rf"{name}: output_padding \({'1, ' * (nd - 1)}1,?\) must be smaller than either stride")
        fbad(name, base, "output_padding", -1, "negative", ValueError, rf"{name}: output_padding must be >= 0, got -1")
        fbad(name, base, "output_padding", None, "None", TypeError, rf"{name}: output_padding must be an int or a tuple of {nd} ints, got None")
    else:
        fbad(name, base, "padding", "full", "unknown word", ValueError, rf"{name}: padding must be 'valid', 'same', an int or a tuple of {nd} ints, got 'full'")
        fbad(name, base, "weight", t(4, 3, *((9,) * nd)), "kernel larger than input", ValueError, rf"{name}: the kernel \(size \(9,.*larger than the padded input")


_conv_rows("conv2d", 2, False)
_conv_rows("conv1d", 1, False)
_conv_rows("convolve2d", 2, False)
_conv_rows("conv_transpose2d", 2, True)
_conv_rows("conv_transpose1d", 1, True)


# ---------------------------------------------------------------------------- pooling
def _pool_base():
    return dict(input=t(2, 3, 6, 6), kernel_size=2, stride=None, padding=0, dilation=1, ceil_mode=False)


def _pool_rows(name: str, base, op: str | None = None) -> None:
    """``op``: the name the messages use (``max_pool2d_with_indices`` reports as ``max_pool2d``)."""
    op, name = op or name, name
    fbad(name, base, "input", "x", "str", TypeError, rf"{op}: input must be a Tensor, got str")
    fbad(name, base, "input", t(6, 6), "rank", ValueError, rf"{op}: expected input to be 3-D or 4-D, got 2-D")
    fbad(name, base, "input", t(2, 0, 6, 6), "zero channels", RuntimeError, rf"{op}: expected input .* non-zero C, H and W .*got shape \(2, 0, 6, 6\)")
    fbad(name, base, "kernel_size", 0, "zero", RuntimeError, rf"{op}: kernel_size must be positive, got kernel_size=0")
    fbad(name, base, "kernel_size", 2.5, "float", TypeError, rf"{op}: kernel_size must be an int or a tuple of 2 ints, got 2.5")
    fbad(name, base, "kernel_size", 7, "larger than input", RuntimeError, rf"{op}: the window does not fit: input 6x6 with kernel_size=\(7, 7\)")
    fbad(name, base, "stride", 0, "zero", RuntimeError, rf"{op}: stride must be positive, got stride=0")
    fbad(name, base, "stride", "2", "str", TypeError, rf"{op}: stride must be an int or a tuple of 2 ints, got '2'")
    fbad(name, base, "padding", 2, "over half the kernel", RuntimeError, rf"{op}: padding must be at most half of the kernel size, got padding=\(2, 2\)")
    fbad(name, base, "padding", -1, "negative", RuntimeError, rf"{op}: padding must be non-negative, got padding=-1")
    fbad(name, base, "ceil_mode", "yes", "str", TypeError, rf"{op}: ceil_mode must be a bool, got 'yes'")


_pool_rows("max_pool2d", lambda: {**_pool_base(), "return_indices": False})
fbad("max_pool2d", lambda: {**_pool_base(), "return_indices": False}, "input", t(2, 3, 6, 6, dtype=np.float16), "float16", TypeError, r"max_pool2d: input must be float32, float64 or an integer dtype, got dtype float16")
fbad("max_pool2d", lambda: {**_pool_base(), "return_indices": False}, "dilation", 0, "zero", RuntimeError, r"max_pool2d: dilation must be positive, got dilation=0")
fbad("max_pool2d", lambda: {**_pool_base(), "return_indices": False}, "return_indices", None, "None", TypeError, r"max_pool2d: return_indices must be a bool, got None")
_pool_rows("max_pool2d_with_indices", _pool_base, op="max_pool2d")
fbad("max_pool2d_with_indices", _pool_base, "dilation", (1, -1), "negative", RuntimeError, r"max_pool2d: dilation must be positive, got dilation=\(1, -1\)")


def _avg_base():
    return dict(
        input=t(2, 3, 6, 6),
        kernel_size=2,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    )


_pool_rows("avg_pool2d", _avg_base)
fbad("avg_pool2d", _avg_base, "input", ti(2, 3, 6, 6), "int dtype", TypeError, r"avg_pool2d: input must be float32 or float64, got dtype int64")
fbad("avg_pool2d", _avg_base, "count_include_pad", None, "None", TypeError, r"avg_pool2d: count_include_pad must be a bool, got None")
fbad("avg_pool2d", _avg_base, "divisor_override", 0, "zero", RuntimeError, r"avg_pool2d: divisor_override must not be zero, got 0")
fbad("avg_pool2d", _avg_base, "divisor_override", 1.5, "float", TypeError, r"avg_pool2d: divisor_override must be an int or None, got 1.5")


def _adaptive_base():
    return dict(input=t(2, 3, 6, 6), output_size=3)


fbad("adaptive_avg_pool2d", _adaptive_base, "input", t(2, 3, 6, 6, dtype=np.int64), "int dtype", TypeError, r"adaptive_avg_pool2d: input must be float32 or float64, got dtype int64")
fbad("adaptive_avg_pool2d", _adaptive_base, "input", t(3), "rank", ValueError, r"adaptive_avg_pool2d: expected input to be 3-D or 4-D, got 1-D")
fbad("adaptive_avg_pool2d", _adaptive_base, "output_size", -1, "negative", RuntimeError, r"adaptive_avg_pool2d: output_size must be >= 0, got -1")
fbad("adaptive_avg_pool2d", _adaptive_base, "output_size", (1, 2, 3), "length", TypeError, r"adaptive_avg_pool2d: output_size must be an int or a pair of ints .*got \(1, 2, 3\)")
fbad("adaptive_avg_pool2d", _adaptive_base, "output_size", None, "None", TypeError, r"adaptive_avg_pool2d: output_size must be an int or a pair of ints .*got None")


def _unpool_base():
    # the switches of a 2x2 max-pool of an increasing 6x6 plane: the bottom-right of each window
    idx = (np.arange(3)[:, None] * 2 + 1) * 6 + np.arange(3)[None, :] * 2 + 1
    indices = tinynet.tensor(np.broadcast_to(idx, (2, 3, 3, 3)).astype(np.int64))
    return dict(input=t(2, 3, 3, 3), indices=indices, kernel_size=2, stride=None, padding=0, output_size=None)


fbad("max_unpool2d", _unpool_base, "input", [1.0], "list", TypeError, r"max_unpool2d: input must be a Tensor, got list")
fbad("max_unpool2d", _unpool_base, "input", t(3, 3), "rank", ValueError, r"max_unpool2d: expected input to be 3-D or 4-D, got 2-D")
fbad("max_unpool2d", _unpool_base, "indices", t(2, 3, 3, 3), "float indices", RuntimeError, r"max_unpool2d: indices must be an integer tensor \(int64\), got dtype float32")
fbad("max_unpool2d", _unpool_base, "indices", ti(1, 3, 3, 3), "shape", RuntimeError, r"max_unpool2d: indices must have the input's shape \(2, 3, 3, 3\), got shape \(1, 3, 3, 3\)")
fbad("max_unpool2d", _unpool_base, "indices", ti(2, 3, 3, 3, fill=36), "out of range", RuntimeError, r"max_unpool2d: found an invalid index 36 in indices: the output planes are 6x6, so indices must lie in \[0, 36\)")
fbad("max_unpool2d", _unpool_base, "indices", ti(2, 3, 3, 3, fill=-1), "negative", RuntimeError, r"max_unpool2d: found an invalid index -1 in indices")
fbad("max_unpool2d", _unpool_base, "indices", None, "None", TypeError, r"max_unpool2d: indices must be a Tensor, got NoneType")
fbad("max_unpool2d", _unpool_base, "kernel_size", 0, "zero", RuntimeError, r"max_unpool2d: kernel_size must be positive, got kernel_size=0")
fbad("max_unpool2d", _unpool_base, "stride", -2, "negative", RuntimeError, r"max_unpool2d: stride must be positive, got stride=-2")
fbad("max_unpool2d", _unpool_base, "padding", -1, "negative", RuntimeError, r"max_unpool2d: padding must be non-negative, got padding=-1")
fbad("max_unpool2d", _unpool_base, "output_size", (9, 9), "too far from the default", ValueError, r"max_unpool2d: invalid output_size \(9, 9\): entry 0 must be between 4 and 8")
fbad("max_unpool2d", _unpool_base, "output_size", "ab", "str", TypeError, r"max_unpool2d: output_size must be a sequence of ints, got 'ab'")
fbad("max_unpool2d", _unpool_base, "output_size", (2, 3, 6, 6, 1), "length", ValueError, r"max_unpool2d: output_size must hold 2 entries .*got \(2, 3, 6, 6, 1\)")


# ---------------------------------------------------------------------------- resampling
def _interp_base():
    return dict(
        input=t(2, 3, 4, 4),
        size=None,
        scale_factor=2,
        mode="nearest",
        align_corners=None,
        recompute_scale_factor=None,
        antialias=False,
    )


def _interp_rows(name: str, base) -> None:
    fbad(name, base, "input", np.ones((2, 3, 4, 4)), "ndarray", TypeError, r"interpolate: input must be a Tensor, got ndarray")
    fbad(name, base, "input", t(2, 3, 4, 4, 4), "rank", ValueError, r"interpolate: expected 3-D \(N, C, L\) or 4-D \(N, C, H, W\) input, got 5-D")
    fbad(name, base, "input", ti(2, 3, 4, 4), "int dtype", TypeError, r"interpolate: input must be float32 or float64, got dtype int64")
    fbad(name, base, "input", t(2, 3, 0, 4), "zero-size", RuntimeError, r"interpolate: expected non-zero C and spatial sizes .*got shape \(2, 3, 0, 4\)")
    fbad(name, base, "mode", "bicubic", "torch-only mode", ValueError, r"interpolate: unknown mode 'bicubic' \(PyTorch has it; tinynet does not implement it\)")
    fbad(name, base, "mode", "NEAREST", "unknown word", ValueError, r"interpolate: unknown mode 'NEAREST'; expected one of nearest")
    fbad(name, base, "mode", None, "None", ValueError, r"interpolate: unknown mode None")
    fbad(name, base, "scale_factor", 0, "zero", RuntimeError, r"interpolate: scale_factor must be positive and finite, got scale_factor=0")
    fbad(name, base, "scale_factor", float("nan"), "nan", RuntimeError, r"interpolate: scale_factor must be positive and finite, got scale_factor=nan")
    fbad(name, base, "scale_factor", "2", "str", TypeError, r"interpolate: scale_factor must be a number or a tuple of numbers, got '2'")
    fbad(name, base, "scale_factor", None, "neither size nor scale_factor", ValueError, r"interpolate: either size or scale_factor should be defined")
    fbad(name, base, "scale_factor", (2, 2, 2), "length", ValueError, r"interpolate: scale_factor=\(2, 2, 2\) has 3 entries but the input \(2, 3, 4, 4\) has 2 spatial")
    fbad(name, base, "size", 8, "both size and scale_factor", ValueError, r"interpolate: only one of size or scale_factor should be defined, got size=8 and scale_factor=2")
    fbad(name, base, "align_corners", True, "with nearest", ValueError, r"interpolate: align_corners option can only be set with the interpolating modes.*align_corners=True with mode='nearest'")


_interp_rows("interpolate", _interp_base)
_size_base = lambda: {**_interp_base(), "scale_factor": None, "size": 8}  # noqa: E731
fbad("interpolate", _size_base, "size", 0, "zero", RuntimeError, r"interpolate: output sizes must be positive, got size=0")
fbad("interpolate", _size_base, "size", 2.5, "float", TypeError, r"interpolate: size must be an int or a tuple of ints, got 2.5")
fbad("interpolate", _size_base, "recompute_scale_factor", True, "with size", ValueError, r"interpolate: recompute_scale_factor is not meaningful with an explicit size \(size=8\)")
_bilinear_base = lambda: {**_interp_base(), "mode": "bilinear"}  # noqa: E731
fbad("interpolate", _bilinear_base, "align_corners", "yes", "str", TypeError, r"interpolate: align_corners must be a bool or None, got 'yes'")
fbad("interpolate", _bilinear_base, "input", t(2, 3, 4), "bilinear on 3-D", ValueError, r"interpolate: mode 'bilinear' needs 4-D \(N, C, H, W\) input, got shape \(2, 3, 4\)")
fbad("interpolate", _interp_base, "antialias", True, "unsupported", ValueError, r"interpolate: antialias=True is not supported by tinynet")
fbad("interpolate", lambda: {**_interp_base(), "mode": "bed_of_nails"}, "scale_factor", 1.5, "non-integer for bed_of_nails", ValueError, r"interpolate: bed_of_nails needs integer scale factors, got scale_factor=1.5")
fbad("interpolate", lambda: {**_interp_base(), "mode": "linear", "input": t(2, 3, 4)}, "input", t(2, 3, 4, 4), "linear on 4-D", ValueError, r"interpolate: mode 'linear' needs 3-D \(N, C, L\) input, got shape \(2, 3, 4, 4\)")


def _upsample_base():
    return dict(input=t(2, 3, 4, 4), size=None, scale_factor=2, mode="nearest", align_corners=None)


fbad("upsample", _upsample_base, "input", "x", "str", TypeError, r"interpolate: input must be a Tensor, got str")
fbad("upsample", _upsample_base, "size", 8, "both given", ValueError, r"interpolate: only one of size or scale_factor should be defined, got size=8")
fbad("upsample", _upsample_base, "scale_factor", -2, "negative", RuntimeError, r"interpolate: scale_factor must be positive and finite, got scale_factor=-2")
fbad("upsample", _upsample_base, "mode", "cubic", "unknown word", ValueError, r"interpolate: unknown mode 'cubic'")
fbad("upsample", _upsample_base, "align_corners", False, "with nearest", ValueError, r"interpolate: align_corners option can only be set.*align_corners=False with mode='nearest'")

_shuffle_base = lambda: dict(input=t(2, 4, 3, 3), upscale_factor=2)  # noqa: E731
fbad("pixel_shuffle", _shuffle_base, "input", t(2, 3, 3, 3), "channels not divisible", RuntimeError, r"pixel_shuffle: the channel dimension input.size\(-3\)=3 must be divisible by upscale_factor\*\*2 = 4")
fbad("pixel_shuffle", _shuffle_base, "input", t(4, 3), "rank", RuntimeError, r"pixel_shuffle: expected input with at least 3 dimensions .*got shape \(4, 3\)")
fbad("pixel_shuffle", _shuffle_base, "input", None, "None", TypeError, r"pixel_shuffle: input must be a Tensor, got NoneType")
fbad("pixel_shuffle", _shuffle_base, "upscale_factor", 0, "zero", RuntimeError, r"pixel_shuffle: upscale_factor must be positive, got upscale_factor=0")
fbad("pixel_shuffle", _shuffle_base, "upscale_factor", 2.0, "float", TypeError, r"pixel_shuffle: upscale_factor must be an int, got 2.0")
_unshuffle_base = lambda: dict(input=t(2, 1, 4, 4), downscale_factor=2)  # noqa: E731
fbad("pixel_unshuffle", _unshuffle_base, "input", t(2, 1, 3, 4), "height not divisible", RuntimeError, r"pixel_unshuffle: the height input.size\(-2\)=3 must be divisible by downscale_factor=2")
fbad("pixel_unshuffle", _unshuffle_base, "input", t(2, 1, 4, 5), "width not divisible", RuntimeError, r"pixel_unshuffle: the width input.size\(-1\)=5 must be divisible by downscale_factor=2")
fbad("pixel_unshuffle", _unshuffle_base, "downscale_factor", -1, "negative", RuntimeError, r"pixel_unshuffle: downscale_factor must be positive, got downscale_factor=-1")
fbad("pixel_unshuffle", _unshuffle_base, "downscale_factor", "2", "str", TypeError, r"pixel_unshuffle: downscale_factor must be an int, got '2'")


# ---------------------------------------------------------------------------- activations and linear
for _name in ("relu", "sigmoid", "tanh"):
    fbad(_name, lambda: dict(input=t(2, 3)), "input", [1.0, -1.0], "list", TypeError, rf"{_name}: input must be a Tensor, got list")
    fbad(_name, lambda: dict(input=t(2, 3)), "input", None, "None", TypeError, rf"{_name}: input must be a Tensor, got NoneType")
_lrelu_base = lambda: dict(input=t(2, 3), negative_slope=0.01)  # noqa: E731
fbad("leaky_relu", _lrelu_base, "input", ti(2, 3), "int dtype", TypeError, r"leaky_relu: input must be a floating-point tensor, got dtype int64")
fbad("leaky_relu", _lrelu_base, "negative_slope", "0.1", "str", TypeError, r"leaky_relu: negative_slope must be a number, got '0.1'")
fbad("leaky_relu", _lrelu_base, "negative_slope", None, "None", TypeError, r"leaky_relu: negative_slope must be a number, got None")
for _name in ("softmax", "log_softmax"):
    _b = lambda: dict(input=t(2, 3), dim=1)  # noqa: E731
    fbad(_name, _b, "input", ti(2, 3), "int dtype", TypeError, rf"{_name}: input must be a floating-point tensor, got dtype int64")
    fbad(_name, _b, "input", np.ones((2, 3)), "ndarray", TypeError, rf"{_name}: input must be a Tensor, got ndarray")
    fbad(_name, _b, "dim", 2, "out of range", IndexError, r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)")
    fbad(_name, _b, "dim", -3, "out of range", IndexError, r"Dimension out of range \(expected to be in range of \[-2, 1\], but got -3\)")
    fbad(_name, _b, "dim", None, "None", TypeError, r"dim must be an int, got None")
    fbad(_name, _b, "dim", 1.0, "float", TypeError, r"dim must be an int, got 1.0")

_linear_base = lambda: dict(input=t(2, 3), weight=t(4, 3), bias=t(4))  # noqa: E731
fbad("linear", _linear_base, "input", t(2, 5), "features", RuntimeError, r"linear: input has 5 features \(last dimension of shape \(2, 5\)\) but weight expects 3")
fbad("linear", _linear_base, "input", t(), "0-d", ValueError, r"linear: input must have at least 1 dimension .*got a 0-d tensor")
fbad("linear", _linear_base, "input", ti(2, 3), "int dtype", TypeError, r"linear: input must be a floating-point tensor, got dtype int64")
fbad("linear", _linear_base, "input", t(2, 3, dtype=np.float64), "dtype mismatch", TypeError, r"linear: input \(float64\) and weight \(float32\) must have the same dtype")
fbad("linear", _linear_base, "weight", t(3), "rank", ValueError, r"linear: expected weight to be 2-D, got 1-D with shape \(3,\)")
fbad("linear", _linear_base, "weight", "w", "str", TypeError, r"linear: weight must be a Tensor, got str")
fbad("linear", _linear_base, "bias", t(5), "length", RuntimeError, r"linear: bias must have shape \(4,\) to match weight shape \(4, 3\), got \(5,\)")
fbad("linear", _linear_base, "bias", t(4, dtype=np.float64), "dtype mismatch", TypeError, r"linear: input \(float32\) and bias \(float64\) must have the same dtype")

for _name in ("dropout", "dropout2d"):
    _b = lambda: dict(input=t(2, 3, 4, 4), p=0.5, training=True)  # noqa: E731
    fbad(_name, _b, "input", ti(2, 3, 4, 4), "int dtype", TypeError, rf"{_name}: input must be a floating-point tensor, got dtype int64")
    fbad(_name, _b, "p", 1.5, "above 1", ValueError, rf"{_name}: dropout probability has to be between 0 and 1, but got 1.5")
    fbad(_name, _b, "p", -0.1, "negative", ValueError, rf"{_name}: dropout probability has to be between 0 and 1, but got -0.1")
    fbad(_name, _b, "p", "0.5", "str", TypeError, rf"{_name}: p must be a number, got '0.5'")
    fbad(_name, _b, "training", "False", "str", TypeError, rf"{_name}: training must be a bool, got 'False'")
    fbad(_name, _b, "training", None, "None", TypeError, rf"{_name}: training must be a bool, got None")
    fbad(_name, _b, "generator", 42, "int", TypeError, rf"{_name}: generator must be a tinynet.Generator or None, got int")
fbad("dropout2d", lambda: dict(input=t(2, 3, 4, 4)), "input", t(3), "1-D", ValueError, r"dropout2d: expected a 4-D \(N, C, H, W\) input, got shape \(3,\)")


# ---------------------------------------------------------------------------- batch norm
def _bn_base():
    return dict(
        input=t(2, 3, 4, 4),
        running_mean=t(3, fill=0),
        running_var=t(3),
        weight=t(3),
        bias=t(3, fill=0),
        training=True,
        momentum=0.1,
        eps=1e-5,
    )


fbad("batch_norm", _bn_base, "input", t(3), "rank", ValueError, r"batch_norm: expected input of shape \(N, C, ...\), got 1-D shape \(3,\)")
fbad("batch_norm", _bn_base, "input", ti(2, 3, 4, 4), "int dtype", TypeError, r"batch_norm: input must be a floating-point tensor, got dtype int64")
fbad("batch_norm", _bn_base, "input", t(1, 3), "one value per channel", ValueError, r"batch_norm: Expected more than 1 value per channel when training, got input size \(1, 3\)")
fbad("batch_norm", _bn_base, "input", t(2, 4, 4, 4), "channels", RuntimeError, r"batch_norm: running_mean should contain 4 elements .*got shape \(3,\)")
fbad("batch_norm", _bn_base, "running_mean", t(4), "length", RuntimeError, r"batch_norm: running_mean should contain 3 elements .*got shape \(4,\)")
fbad("batch_norm", _bn_base, "running_mean", None, "only one given", ValueError, r"batch_norm: running_mean and running_var must either both be None or neither be None, got running_mean=None")
fbad("batch_norm", _bn_base, "running_var", ti(3), "int dtype", TypeError, r"batch_norm: running_var must be a floating-point tensor, got dtype int64")
fbad("batch_norm", _bn_base, "running_var", None, "only one given", ValueError, r"running_var=None")
fbad("batch_norm", _bn_base, "weight", t(4), "length", RuntimeError, r"batch_norm: weight should contain 3 elements .*got shape \(4,\)")
fbad("batch_norm", _bn_base, "weight", t(3, dtype=np.float64), "dtype mismatch", TypeError, r"batch_norm: weight \(float64\) and input \(float32\) must have the same dtype")
fbad("batch_norm", _bn_base, "bias", "b", "str", TypeError, r"batch_norm: bias must be a Tensor, got str")
fbad("batch_norm", _bn_base, "training", "yes", "str", TypeError, r"batch_norm: training must be a bool, got 'yes'")
fbad("batch_norm", _bn_base, "momentum", "0.1", "str", TypeError, r"batch_norm: momentum must be a number, got '0.1'")
fbad("batch_norm", _bn_base, "eps", 0.0, "zero in training", ValueError, r"batch_norm: eps must be positive during training, but got 0.0")
fbad("batch_norm", _bn_base, "eps", None, "None", TypeError, r"batch_norm: eps must be a number, got None")
fbad("batch_norm", lambda: {**_bn_base(), "running_mean": None, "running_var": None}, "training", False, "eval without statistics", RuntimeError, r"batch_norm: running_mean and running_var must be defined in evaluation mode")


# ---------------------------------------------------------------------------- losses
def _ce_base():
    return dict(
        input=t(2, 3, 4, 4), target=ti(2, 4, 4), weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0
    )


def _class_loss_rows(name: str, base) -> None:
    fbad(name, base, "input", ti(2, 3, 4, 4), "int dtype", TypeError, rf"{name}: input must be a floating-point tensor, got dtype int64")
    fbad(name, base, "input", t(), "0-d", ValueError, rf"{name}: input must have a class dimension, got a 0-d tensor")
    fbad(name, base, "input", "logits", "str", TypeError, rf"{name}: input must be a Tensor, got str")
    fbad(name, base, "target", ti(2, 4, 4, fill=3), "out of range", IndexError, rf"{name}: Target 3 is out of bounds: class indices must be in \[0, 2\] for 3 classes")
    fbad(name, base, "target", ti(2, 4, 4, fill=-1), "negative", IndexError, rf"{name}: Target -1 is out of bounds")
    fbad(name, base, "target", ti(2, 5, 5), "shape", RuntimeError, rf"{name}: target shape \(2, 5, 5\) does not fit input shape \(2, 3, 4, 4\)")
    fbad(name, base, "target", ti(3, 4, 4), "batch", ValueError, rf"{name}: Expected input batch_size \(2\) to match target batch_size \(3\)")
    fbad(name, base, "target", None, "None", TypeError, rf"{name}: target must be a Tensor, got NoneType")
    fbad(name, base, "weight", t(4), "length", RuntimeError, rf"{name}: weight tensor should be defined either for all 3 classes or no classes but got weight tensor of shape: \[4\]")
    fbad(name, base, "weight", t(3, dtype=np.float64), "dtype mismatch", RuntimeError, rf"{name}: weight has dtype float64 but input has dtype float32")
    fbad(name, base, "weight", ti(3), "int dtype", TypeError, rf"{name}: weight must be a floating-point tensor, got dtype int64")
    fbad(name, base, "ignore_index", 1.5, "float", TypeError, rf"{name}: ignore_index must be an int, got 1.5")
    fbad(name, base, "reduction", "avg", "unknown word", ValueError, rf"{name}: 'avg' is not a valid value for reduction")
    fbad(name, base, "reduction", None, "None", ValueError, rf"{name}: None is not a valid value for reduction")


_class_loss_rows("cross_entropy", _ce_base)
fbad("cross_entropy", _ce_base, "target", t(2, 4, 4), "float target of the wrong shape", RuntimeError, r"cross_entropy: expected target dtype to be an integer type .*got float32 with shape \(2, 4, 4\)")
fbad("cross_entropy", _ce_base, "label_smoothing", 1.5, "above 1", RuntimeError, r"cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: 1.5")
fbad("cross_entropy", _ce_base, "label_smoothing", "0.1", "str", TypeError, r"cross_entropy: label_smoothing must be a number, got '0.1'")
# Regression: with 0 classes the softmax kernels read past the class axis (then divided by a zero total).
fbad("cross_entropy", _ce_base, "input", t(2, 0, 4, 4), "no classes", ValueError, r"cross_entropy: input has 0 classes \(shape \(2, 0, 4, 4\)\)")
_dice_base = lambda: dict(input=t(2, 3, 4, 4), target=ti(2, 4, 4), smooth=1.0, ignore_index=-100, reduction="mean")  # noqa: E731
fbad("dice_loss", _dice_base, "input", t(2, 0, 4, 4), "no classes", ValueError, r"dice_loss: input has 0 classes \(shape \(2, 0, 4, 4\)\)")
_nll_base = lambda: {k: v for k, v in _ce_base().items() if k != "label_smoothing"}  # noqa: E731
_class_loss_rows("nll_loss", _nll_base)


def _bce_base():
    return dict(input=t(2, 3), target=t(2, 3, fill=0.5), weight=None, reduction="mean", pos_weight=None)


_B = "binary_cross_entropy_with_logits"
fbad(_B, _bce_base, "input", ti(2, 3), "int dtype", TypeError, rf"{_B}: input must be a floating-point tensor, got dtype int64")
fbad(_B, _bce_base, "target", t(2, 4), "shape", ValueError, rf"{_B}: Target size \(\(2, 4\)\) must be the same as input size \(\(2, 3\)\)")
fbad(_B, _bce_base, "target", ti(2, 3), "int dtype", RuntimeError, rf"{_B}: target must be floating point \(probabilities in \[0, 1\]\), got dtype int64")
fbad(_B, _bce_base, "target", t(2, 3, dtype=np.float64), "dtype mismatch", RuntimeError, rf"{_B}: target has dtype float64 but input has dtype float32")
fbad(_B, _bce_base, "weight", t(4), "does not broadcast", ValueError, rf"{_B}: weight of shape \(4,\) does not broadcast to the input shape \(2, 3\)")
fbad(_B, _bce_base, "weight", t(3, dtype=np.float64), "dtype mismatch", RuntimeError, rf"{_B}: weight has dtype float64 but input has dtype float32")
fbad(_B, _bce_base, "pos_weight", t(2), "does not broadcast", ValueError, rf"{_B}: pos_weight of shape \(2,\) does not broadcast to the input shape \(2, 3\)")
fbad(_B, _bce_base, "pos_weight", ti(3), "int dtype", TypeError, rf"{_B}: pos_weight must be a floating-point tensor, got dtype int64")
fbad(_B, _bce_base, "reduction", "batchmean", "unknown word", ValueError, rf"{_B}: 'batchmean' is not a valid value for reduction")

for _name in ("mse_loss", "l1_loss"):
    _b = lambda: dict(input=t(2, 3), target=t(2, 3), reduction="mean", weight=None)  # noqa: E731
    fbad(_name, _b, "input", ti(2, 3), "int dtype", TypeError, rf"{_name}: input must be a floating-point tensor, got dtype int64")
    fbad(_name, _b, "input", 1.0, "number", TypeError, rf"{_name}: input must be a Tensor, got float")
    fbad(_name, _b, "target", t(4, 3), "does not broadcast", RuntimeError, rf"{_name}: The size of input \(2, 3\) and target \(4, 3\) must match")
    fbad(_name, _b, "target", t(2, 3, dtype=np.bool_), "bool dtype", TypeError, rf"{_name}: target must be numeric, got dtype bool")
    fbad(_name, _b, "target", t(2, 3, dtype=np.float64), "float64 target of a float32 input", RuntimeError, rf"{_name}: target has dtype float64 but input has dtype float32")
    fbad(_name, _b, "reduction", "Mean", "unknown word", ValueError, rf"{_name}: 'Mean' is not a valid value for reduction")
    fbad(_name, _b, "weight", t(3), "shape", ValueError, rf"{_name}: Weights and input must have the same size, got \(3,\) and \(2, 3\)")
    fbad(_name, _b, "weight", ti(2, 3), "int dtype", TypeError, rf"{_name}: weight must be a floating-point tensor, got dtype int64")
    fbad(_name, _b, "weight", t(2, 3, dtype=np.float64), "dtype mismatch", RuntimeError, rf"{_name}: weight has dtype float64 but input has dtype float32")


def _dice_base():
    return dict(input=t(2, 3, 4, 4), target=ti(2, 4, 4), smooth=1.0, ignore_index=-100, reduction="mean")


fbad("dice_loss", _dice_base, "input", t(3), "rank", ValueError, r"dice_loss: expected input of shape \(N, C, \*\), got shape \(3,\)")
fbad("dice_loss", _dice_base, "input", ti(2, 3, 4, 4), "int dtype", TypeError, r"dice_loss: input must be a floating-point tensor, got dtype int64")
fbad("dice_loss", _dice_base, "target", ti(2, 4, 4, fill=3), "out of range", IndexError, r"dice_loss: Target 3 is out of bounds")
fbad("dice_loss", _dice_base, "target", t(2, 4, 4), "float dtype", RuntimeError, r"dice_loss: expected target dtype to be an integer type")
fbad("dice_loss", _dice_base, "target", ti(2, 3, 3), "shape", RuntimeError, r"dice_loss: target shape \(2, 3, 3\) does not fit input shape \(2, 3, 4, 4\)")
fbad("dice_loss", _dice_base, "smooth", -1.0, "negative", ValueError, r"dice_loss: smooth must be a non-negative number \(and finite\), got -1.0")
fbad("dice_loss", _dice_base, "smooth", float("nan"), "nan", ValueError, r"dice_loss: smooth must be a non-negative number \(and finite\), got nan")
fbad("dice_loss", _dice_base, "ignore_index", "x", "str", TypeError, r"dice_loss: ignore_index must be an int, got 'x'")
fbad("dice_loss", _dice_base, "reduction", "max", "unknown word", ValueError, r"dice_loss: 'max' is not a valid value for reduction")


# ---------------------------------------------------------------------------- tinynet: creation and global state
def _sized(name: str) -> None:
    fn = getattr(tinynet, name)
    bad(f"tinynet.{name}", "size", "negative", lambda: fn(2, -1), ValueError, r"sizes must be non-negative, got \(2, -1\)")
    bad(f"tinynet.{name}", "size", "float", lambda: fn(2.5), TypeError, r"shape entries must be ints, got 2.5")
    bad(f"tinynet.{name}", "size", "bool", lambda: fn(True), TypeError, r"shape entries must be ints, got True")
    bad(f"tinynet.{name}", "size", "None", lambda: fn(None), TypeError, r"shape entries must be ints, got None")
    bad(f"tinynet.{name}", "dtype", "unknown word", lambda: fn(2, dtype="float128"), TypeError, r"unknown dtype 'float128'")
    bad(f"tinynet.{name}", "requires_grad", "str", lambda: fn(2, requires_grad="yes"), TypeError, r"requires_grad must be a bool, got 'yes'")


for _name in ("zeros", "ones", "rand", "randn"):
    _sized(_name)
for _name in ("zeros", "ones"):
    _fn = getattr(tinynet, _name)
    bad(f"tinynet.{_name}", "requires_grad", "integer dtype", lambda _fn=_fn: _fn(2, dtype=tinynet.int64, requires_grad=True), RuntimeError, r"only floating-point tensors can require gradients, this one has dtype int64")
for _name in ("rand", "randn"):
    _fn = getattr(tinynet, _name)
    bad(f"tinynet.{_name}", "dtype", "integer", lambda _fn=_fn, _name=_name: _fn(3, dtype=tinynet.int64), TypeError, rf"{_name}\(\): dtype must be a floating-point dtype, got int64")
    bad(f"tinynet.{_name}", "generator", "str", lambda _fn=_fn: _fn(3, generator="g"), TypeError, rf"{_name}: generator must be a tinynet.Generator or None, got str")
bad("tinynet.full", "size", "None", lambda: tinynet.full(None, 1.0), TypeError, r"shape entries must be ints, got None")
bad("tinynet.full", "size", "negative", lambda: tinynet.full((-2,), 1.0), ValueError, r"sizes must be non-negative, got \(-2,\)")
bad("tinynet.full", "fill_value", "str", lambda: tinynet.full((2,), "a"), TypeError, r"full\(\): fill_value must be a number, got 'a'")
bad("tinynet.full", "fill_value", "None", lambda: tinynet.full((2,), None), TypeError, r"full\(\): fill_value must be a number, got None")
bad("tinynet.full", "dtype", "unknown word", lambda: tinynet.full((2,), 1.0, dtype="half"), TypeError, r"unknown dtype 'half'")
bad("tinynet.full", "requires_grad", "integer fill", lambda: tinynet.full((2,), 1, requires_grad=True), RuntimeError, r"only floating-point tensors can require gradients, this one has dtype int64")
bad("tinynet.arange", "start", "None", lambda: tinynet.arange(None), TypeError, r"arange\(\): end must be a finite number, got None")
bad("tinynet.arange", "start", "str", lambda: tinynet.arange("a", 3), TypeError, r"arange\(\): start must be a finite number, got 'a'")
bad("tinynet.arange", "end", "inf", lambda: tinynet.arange(0, math.inf), TypeError, r"arange\(\): end must be a finite number, got inf")
bad("tinynet.arange", "step", "zero", lambda: tinynet.arange(0, 5, 0), ValueError, r"arange\(\): step must be nonzero")
bad("tinynet.arange", "step", "wrong sign", lambda: tinynet.arange(0, 5, -1), RuntimeError, r"arange\(\): upper bound and lower bound inconsistent with step sign \(start=0, end=5, step=-1\)")
bad("tinynet.arange", "dtype", "unknown word", lambda: tinynet.arange(3, dtype="int128"), TypeError, r"unknown dtype 'int128'")
bad("tinynet.arange", "requires_grad", "integer range", lambda: tinynet.arange(3, requires_grad=True), RuntimeError, r"only floating-point tensors can require gradients, this one has dtype int64")
bad("tinynet.randint", "low", "str", lambda: tinynet.randint("a", 5, (2,)), TypeError, r"randint\(\): low must be an int, got 'a'")
bad("tinynet.randint", "high", "not above low", lambda: tinynet.randint(5, 2, (3,)), ValueError, r"randint\(\): high \(2\) must be greater than low \(5\)")
bad("tinynet.randint", "size", "None", lambda: tinynet.randint(0, 5, None), TypeError, r"randint\(\): size must be a tuple of ints, got None")
bad("tinynet.randint", "size", "negative", lambda: tinynet.randint(0, 5, (-1,)), ValueError, r"sizes must be non-negative, got \(-1,\)")
bad("tinynet.randint", "dtype", "unknown word", lambda: tinynet.randint(0, 5, (2,), dtype="long long"), TypeError, r"unknown dtype 'long long'")
bad("tinynet.randint", "generator", "int", lambda: tinynet.randint(0, 5, (2,), generator=1), TypeError, r"randint: generator must be a tinynet.Generator or None, got int")
bad("tinynet.randperm", "n", "negative", lambda: tinynet.randperm(-1), RuntimeError, r"randperm\(\): n must be non-negative, got -1")
bad("tinynet.randperm", "n", "float", lambda: tinynet.randperm(2.5), TypeError, r"randperm\(\): n must be an int, got 2.5")
bad("tinynet.randperm", "n", "bool", lambda: tinynet.randperm(True), TypeError, r"randperm\(\): n must be an int, got True")
bad("tinynet.randperm", "generator", "str", lambda: tinynet.randperm(3, generator="g"), TypeError, r"randperm: generator must be a tinynet.Generator or None, got str")
for _name in ("zeros_like", "ones_like"):
    _fn = getattr(tinynet, _name)
    bad(f"tinynet.{_name}", "t", "None", lambda _fn=_fn: _fn(None), TypeError, rf"{_name}\(\): input must be a Tensor, got NoneType")
    bad(f"tinynet.{_name}", "dtype", "unknown word", lambda _fn=_fn: _fn(t(2), dtype="x"), TypeError, r"unknown dtype 'x'")
    bad(f"tinynet.{_name}", "requires_grad", "integer tensor", lambda _fn=_fn: _fn(ti(2), requires_grad=True), RuntimeError, r"only floating-point tensors can require gradients, this one has dtype int64")
for _name in ("tensor", "Tensor"):
    _fn = getattr(tinynet, _name)
    bad(f"tinynet.{_name}", "data", "str", lambda _fn=_fn: _fn("abc"), TypeError, r"tensor\(\): data must be numeric \(a number, a nested list or an array\), got 'abc'")
    bad(f"tinynet.{_name}", "data", "None", lambda _fn=_fn: _fn(None), TypeError, r"tensor\(\): data must be numeric .*got an array of dtype object")
    bad(f"tinynet.{_name}", "data", "ragged list", lambda _fn=_fn: _fn([[1.0], [1.0, 2.0]]), TypeError, r"tensor\(\): could not convert list to a numeric array")
    bad(f"tinynet.{_name}", "data", "complex", lambda _fn=_fn: _fn(np.array([1j])), TypeError, r"tensor\(\): data must be numeric \(floats, ints or bools\), got an array of dtype complex128")
    bad(f"tinynet.{_name}", "dtype", "unknown word", lambda _fn=_fn: _fn([1.0], dtype="float8"), TypeError, r"unknown dtype 'float8'")
    bad(f"tinynet.{_name}", "requires_grad", "integer data", lambda _fn=_fn: _fn([1, 2], requires_grad=True), RuntimeError, r"only floating-point tensors can require gradients, this one has dtype int64")
bad("tinynet.from_numpy", "array", "list", lambda: tinynet.from_numpy([1.0]), TypeError, r"from_numpy\(\) expects a numpy array, got list")
bad("tinynet.from_numpy", "array", "object array", lambda: tinynet.from_numpy(np.array([1, None], dtype=object)), TypeError, r"from_numpy\(\): unsupported dtype object")
for _name in ("cat", "stack"):
    _fn = getattr(tinynet, _name)
    bad(f"tinynet.{_name}", "tensors", "empty", lambda _fn=_fn: _fn([]), ValueError, rf"{_name}\(\) expects a non-empty sequence of tensors")
    bad(f"tinynet.{_name}", "tensors", "a Tensor", lambda _fn=_fn: _fn(t(2, 3)), ValueError, rf"{_name}\(\) expects a non-empty sequence of tensors")
    bad(f"tinynet.{_name}", "dim", "str", lambda _fn=_fn: _fn([t(2), t(2)], dim="0"), TypeError, r"dim must be an int, got '0'")
bad("tinynet.cat", "tensors", "shapes", lambda: tinynet.cat([t(2, 3), t(3, 2)]), ValueError, r"cat\(\): sizes of tensors must match except in dimension 0; tensor 0 has shape \(2, 3\) and tensor 1 has shape \(3, 2\)")
bad("tinynet.cat", "dim", "out of range", lambda: tinynet.cat([t(2), t(2)], dim=1), IndexError, r"Dimension out of range \(expected to be in range of \[-1, 0\], but got 1\)")
bad("tinynet.stack", "tensors", "shapes", lambda: tinynet.stack([t(2, 3), t(3, 2)]), ValueError, r"stack\(\): all tensors must have the same shape; tensor 0 is \(2, 3\), tensor 1 is \(3, 2\)")
bad("tinynet.stack", "dim", "out of range", lambda: tinynet.stack([t(2)], dim=3), IndexError, r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 3\)")
bad("tinynet.where", "condition", "float", lambda: tinynet.where(t(2), t(2), t(2)), TypeError, r"where\(\): condition must be a bool tensor, got dtype float32")
bad("tinynet.where", "input", "str", lambda: tinynet.where(t(2) > 0, "a", t(2)), TypeError, r"tensor\(\): data must be numeric .*got 'a'")
bad("tinynet.where", "other", "shape", lambda: tinynet.where(t(2, 3) > 0, t(2, 3), t(3, 2)), ValueError, r"where: shapes \(2, 3\) and \(3, 2\) cannot be broadcast together")
bad("tinynet.manual_seed", "seed", "str", lambda: tinynet.manual_seed("a"), TypeError, r"manual_seed: seed must be an int, got 'a'")
bad("tinynet.manual_seed", "seed", "negative", lambda: tinynet.manual_seed(-1), ValueError, r"manual_seed: seed must be non-negative, got -1")
bad("tinynet.Generator", "seed", "str", lambda: tinynet.Generator("a"), TypeError, r"manual_seed: seed must be an int, got 'a'")
bad("tinynet.Generator", "seed", "float", lambda: tinynet.Generator(1.5), TypeError, r"manual_seed: seed must be an int, got 1.5")
bad("tinynet.set_rng_state", "state", "str", lambda: tinynet.set_rng_state("a"), TypeError, r"set_state: state must be a dict returned by get_state\(\), got 'a'")
bad("tinynet.set_rng_state", "state", "empty dict", lambda: tinynet.set_rng_state({}), ValueError, r"set_state: state must be a dict returned by get_state\(\), got \{\}")
bad("tinynet.set_grad_enabled", "mode", "str", lambda: tinynet.set_grad_enabled("False"), TypeError, r"set_grad_enabled: mode must be a bool, got 'False'")
bad("tinynet.set_grad_enabled", "mode", "None", lambda: tinynet.set_grad_enabled(None), TypeError, r"set_grad_enabled: mode must be a bool, got None")
bad("tinynet.save", "path", "None", lambda: tinynet.save({"a": 1}, None), TypeError, r"tinynet.save: path must be a file path or a writable binary file, got NoneType")
bad("tinynet.save", "obj", "a function", lambda: tinynet.save({"f": len}, io.BytesIO()), TypeError, r"tinynet.save: cannot store a builtin_function_or_method at f")
bad("tinynet.save", "obj", "object array", lambda: tinynet.save({"a": np.array([1, None], dtype=object)}, io.BytesIO()), TypeError, r"tinynet.save: the array at a has dtype object")
bad("tinynet.load", "path", "None", lambda: tinynet.load(None), TypeError, r"tinynet.load: path must be a file path or a readable binary file, got NoneType")
bad("tinynet.load", "path", "empty file", lambda: tinynet.load(io.BytesIO(b"")), tio.CheckpointError, r"tinynet.load: <BytesIO> is empty \(0 bytes\)")
bad("tinynet.load", "path", "text file", lambda: tinynet.load(io.BytesIO(b"epoch,loss\n")), tio.CheckpointError, r"not an .npz \(zip\) archive \(it starts with b'epoch,lo'\)")


# ---------------------------------------------------------------------------- Tensor methods
def _x():
    return tinynet.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))


_T = "Tensor"
for _m in ("sum", "mean", "max", "min", "argmax", "argmin", "var", "std", "all", "any"):
    bad(f"{_T}.{_m}", "dim", "out of range", lambda _m=_m: getattr(_x(), _m)(dim=2), IndexError, r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)")
    bad(f"{_T}.{_m}", "dim", "float", lambda _m=_m: getattr(_x(), _m)(dim=1.5), TypeError, r"dim must be an int.*got 1.5")
bad(f"{_T}.sum", "dim", "repeated", lambda: _x().sum(dim=(0, 0)), ValueError, r"dim \(0, 0\) names a dimension twice")
bad(f"{_T}.mean", "self", "integer tensor", lambda: ti(2).mean(), RuntimeError, r"mean\(\): could not infer output dtype. Input dtype must be floating point, got int64")
bad(f"{_T}.var", "correction", "str", lambda: _x().var(correction="1"), TypeError, r"var\(\): correction must be a number, got '1'")
bad(f"{_T}.var", "unbiased", "with correction", lambda: _x().var(unbiased=True, correction=1), ValueError, r"var\(\): give either unbiased or correction, not both")
bad(f"{_T}.var", "self", "integer tensor", lambda: ti(3).var(), RuntimeError, r"var\(\): expected a floating-point tensor, got dtype int64")
bad(f"{_T}.std", "correction", "None-like str", lambda: _x().std(correction="a"), TypeError, r"var\(\): correction must be a number, got 'a'")
for _m in ("softmax", "log_softmax"):
    bad(f"{_T}.{_m}", "dim", "out of range", lambda _m=_m: getattr(_x(), _m)(2), IndexError, r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)")
    bad(f"{_T}.{_m}", "self", "integer tensor", lambda _m=_m: getattr(ti(3), _m)(0), RuntimeError, rf"{_m}\(\): expected a floating-point tensor, got dtype int64")
for _m in ("reshape", "view"):
    bad(f"{_T}.{_m}", "shape", "element count", lambda _m=_m: getattr(_x(), _m)(5), ValueError, r"reshape: shape \(5,\) is invalid for a tensor of shape \(2, 3\) \(6 elements\)")
    bad(f"{_T}.{_m}", "shape", "two -1", lambda _m=_m: getattr(_x(), _m)(-1, -1), ValueError, r"reshape: invalid shape \(-1, -1\)")
    bad(f"{_T}.{_m}", "shape", "str", lambda _m=_m: getattr(_x(), _m)("a"), TypeError, r"shape entries must be ints, got 'a'")
bad(f"{_T}.permute", "dims", "not a permutation", lambda: _x().permute(0, 0), ValueError, r"permute\(\): dims \(0, 0\) are not a permutation of the 2 dimensions")
bad(f"{_T}.permute", "dims", "out of range", lambda: _x().permute(0, 2), IndexError, r"Dimension out of range .*but got 2\)")
bad(f"{_T}.transpose", "dim1", "out of range", lambda: _x().transpose(0, 5), IndexError, r"Dimension out of range .*but got 5\)")
bad(f"{_T}.transpose", "dim0", "str", lambda: _x().transpose("a", 1), TypeError, r"dim must be an int, got 'a'")
bad(f"{_T}.unsqueeze", "dim", "out of range", lambda: _x().unsqueeze(3), IndexError, r"Dimension out of range \(expected to be in range of \[-3, 2\], but got 3\)")
bad(f"{_T}.squeeze", "dim", "out of range", lambda: _x().squeeze(2), IndexError, r"Dimension out of range .*but got 2\)")
bad(f"{_T}.flatten", "start_dim", "after end_dim", lambda: _x().flatten(1, 0), ValueError, r"flatten\(\): start_dim \(1\) cannot come after end_dim \(0\)")
bad(f"{_T}.flatten", "end_dim", "out of range", lambda: _x().flatten(0, 4), IndexError, r"Dimension out of range .*but got 4\)")
bad(f"{_T}.expand", "shape", "incompatible", lambda: _x().expand(3, 3), ValueError, r"expand: a tensor of shape \(2, 3\) cannot be expanded to \(3, 3\)")
bad(f"{_T}.size", "dim", "out of range", lambda: _x().size(2), IndexError, r"Dimension out of range .*but got 2\)")
bad(f"{_T}.clip", "min", "str", lambda: _x().clip("a"), TypeError, r"clip\(\): min must be a number or a Tensor, got str")
bad(f"{_T}.clip", "max", "neither given", lambda: _x().clip(), ValueError, r"clip\(\): at least one of min and max must be given")
bad(f"{_T}.pow", "exponent", "str", lambda: _x().pow("2"), TypeError, r"unsupported operand type for tensor arithmetic: str")
bad(f"{_T}.add", "other", "None", lambda: _x().add(None), TypeError, r"unsupported operand type for tensor arithmetic: NoneType")
bad(f"{_T}.add", "other", "shape", lambda: _x().add(t(3, 2)), ValueError, r"arithmetic: shapes \(2, 3\) and \(3, 2\) cannot be broadcast together")
bad(f"{_T}.matmul", "other", "shape", lambda: _x().matmul(_x()), ValueError, r"matmul: shapes \(2, 3\) and \(2, 3\) cannot be multiplied \(3 columns in the first vs 2 rows in the second\)")
bad(f"{_T}.matmul", "other", "0-d", lambda: _x().matmul(t()), ValueError, r"matmul: both operands need at least one dimension, got shapes \(2, 3\) and \(\)")
bad(f"{_T}.to", "dtype", "unknown word", lambda: _x().to("bfloat16"), TypeError, r"unknown dtype 'bfloat16'")
bad(f"{_T}.item", "self", "several elements", lambda: _x().item(), RuntimeError, r"item\(\): a Tensor with 6 elements cannot be converted to a Python scalar")
bad(f"{_T}.__getitem__", "index", "out of range", lambda: _x()[5], IndexError, r"index 5 is out of bounds for axis 0 with size 2")
bad(f"{_T}.__getitem__", "index", "float tensor", lambda: _x()[t(1)], IndexError, r"tensors used as indices must be integer or bool tensors, got dtype float32")
bad(f"{_T}.backward", "gradient", "missing for a non-scalar", lambda: (t(2).requires_grad_() * 2).backward(), RuntimeError, r"grad can be implicitly created only for scalar outputs; backward\(\) on the tensor of shape \(2,\)")
bad(f"{_T}.backward", "gradient", "shape", lambda: (t(2).requires_grad_() * 2).backward(t(3)), RuntimeError, r"backward: gradient has shape \(3,\) but the tensor has shape \(2,\)")
bad(f"{_T}.backward", "gradient", "str", lambda: (t(2).requires_grad_() * 2).backward("g"), TypeError, r"backward: gradient must be a Tensor \(or None\), got str")
bad(f"{_T}.backward", "self", "no graph", lambda: t(2).sum().backward(), RuntimeError, r"element 0 of tensors does not require grad and does not have a grad_fn")
bad(f"{_T}.requires_grad_", "requires_grad", "integer tensor", lambda: ti(2).requires_grad_(), RuntimeError, r"only floating-point tensors can require gradients, this one has dtype int64")
bad(f"{_T}.fill_", "value", "str", lambda: _x().fill_("a"), TypeError, r"fill_\(\): value must be a number or a 0-d tensor, got 'a'")
bad(f"{_T}.add_", "other", "does not broadcast", lambda: _x().add_(t(3, 3)), RuntimeError, r"add_: output with shape \(2, 3\) doesn't match the broadcast shape of \(3, 3\)")
bad(f"{_T}.add_", "other", "narrowing cast", lambda: ti(2).add_(0.5), RuntimeError, r"add_: result type float64 can't be cast to this tensor's dtype int64")
bad(f"{_T}.mul_", "other", "str", lambda: _x().mul_("2"), TypeError, r"mul_: unsupported operand type str")
bad(f"{_T}.copy_", "src", "shape", lambda: _x().copy_(t(2)), RuntimeError, r"copy_\(\): src of shape \(2,\) cannot be broadcast to this tensor's shape \(2, 3\)")
bad(f"{_T}.add_", "self", "requires grad while recording", lambda: t(2).requires_grad_().add_(1.0), RuntimeError, r"add_: a tensor that requires grad cannot be modified in place while the tape is recording")
bad(f"{_T}.__lt__", "other", "str", lambda: _x() < "a", TypeError, r"less: cannot compare a tensor with str")
bad(f"{_T}.__bool__", "self", "several elements", lambda: bool(_x()), RuntimeError, r"the truth value of a tensor with 6 elements is ambiguous")


# ---------------------------------------------------------------------------- nn: layer constructors and forwards
def _conv_module_rows(cls: str, nd: int, transposed: bool) -> None:
    def base():
        kw = dict(in_channels=3, out_channels=4, kernel_size=3, stride=1, padding=0, dilation=1, groups=1, bias=True)
        if transposed:
            kw["output_padding"] = 0
        return kw

    mbad(cls, base, "in_channels", 0, "zero", ValueError, rf"{cls}: in_channels must be a positive int, got 0")
    mbad(cls, base, "in_channels", True, "bool", TypeError, rf"{cls}: in_channels must be an int, got True")
    mbad(cls, base, "out_channels", -1, "negative", ValueError, rf"{cls}: out_channels must be a positive int, got -1")
    mbad(cls, base, "kernel_size", 0, "zero", ValueError, rf"{cls}: kernel_size must be >= 1, got 0")
    mbad(cls, base, "kernel_size", (3,) * (nd + 1), "length", TypeError, rf"{cls}: kernel_size must be an int or a tuple of {nd} ints")
    mbad(cls, base, "stride", 0, "zero", ValueError, rf"{cls}: stride must be >= 1, got 0")
    mbad(cls, base, "padding", -1, "negative", ValueError, rf"{cls}: padding must be >= 0, got -1")
    mbad(cls, base, "dilation", 1.5, "float", TypeError, rf"{cls}: dilation must be an int or a tuple of {nd} ints, got 1.5")
    mbad(cls, base, "groups", 0, "zero", ValueError, rf"{cls}: groups must be a positive int, got 0")
    mbad(cls, base, "groups", 2, "does not divide", ValueError, rf"{cls}: in_channels \(3\) must be divisible by groups \(2\)")
    if transposed:
        mbad(cls, base, "padding_mode", "mirror", "unknown word", ValueError, rf"{cls}: only \"zeros\" padding mode is supported, got 'mirror'")
    else:
        mbad(cls, base, "padding_mode", "mirror", "unknown word", ValueError, rf"{cls}: padding_mode must be one of \('zeros', 'reflect', 'replicate', 'circular'\), got 'mirror'")
    mbad(cls, base, "device", "cuda", "not the CPU", ValueError, rf"{cls}: tinynet runs on the CPU only, got device='cuda'")
    mbad(cls, base, "dtype", tinynet.int64, "integer", TypeError, rf"{cls}: dtype must be a floating-point type, got int64")
    mbad(cls, base, "bias", "False", "str", TypeError, rf"{cls}: bias must be a bool, got 'False'")
    if transposed:
        mbad(cls, base, "output_padding", 1, "not below stride", ValueError, rf"{cls}: output_padding \(1,.*must be smaller than either stride")
        mbad(cls, base, "padding", "same", "word", TypeError, rf"{cls}: padding must be an int or a tuple of {nd} ints, got 'same'")
    else:
        mbad(cls, lambda: {**base(), "stride": 2}, "padding", "same", "'same' with stride 2", ValueError, rf"{cls}: padding='same' is not supported for strided convolutions")
    x_ok = t(2, 3, *((8,) * nd))
    bad(f"nn.{cls}.forward", "input", "channels", lambda: getattr(nn, cls)(3, 4, 3)(t(2, 5, *((8,) * nd))), ValueError, r"input has 5 channels but weight expects")
    bad(f"nn.{cls}.forward", "input", "float64 into a float32 layer", lambda: getattr(nn, cls)(3, 4, 3)(x_ok.double()), TypeError, r"input \(float64\) and weight \(float32\) must have the same dtype")


_conv_module_rows("Conv2d", 2, False)
_conv_module_rows("Conv1d", 1, False)
_conv_module_rows("ConvTranspose2d", 2, True)
_conv_module_rows("ConvTranspose1d", 1, True)
_dsc_base = lambda: dict(in_channels=3, out_channels=4, kernel_size=3, stride=1, padding=0, dilation=1, bias=True)  # noqa: E731
mbad("DepthwiseSeparableConv2d", _dsc_base, "in_channels", 0, "zero", ValueError, r"Conv2d: in_channels must be a positive int, got 0")
mbad("DepthwiseSeparableConv2d", _dsc_base, "out_channels", "4", "str", TypeError, r"Conv2d: out_channels must be an int, got '4'")
mbad("DepthwiseSeparableConv2d", _dsc_base, "kernel_size", 0, "zero", ValueError, r"Conv2d: kernel_size must be >= 1, got 0")
mbad("DepthwiseSeparableConv2d", _dsc_base, "stride", -1, "negative", ValueError, r"Conv2d: stride must be >= 1, got -1")
mbad("DepthwiseSeparableConv2d", _dsc_base, "padding", -1, "negative", ValueError, r"Conv2d: padding must be >= 0, got -1")
mbad("DepthwiseSeparableConv2d", _dsc_base, "dilation", 0, "zero", ValueError, r"Conv2d: dilation must be >= 1, got 0")
mbad("DepthwiseSeparableConv2d", _dsc_base, "device", "cuda", "not the CPU", ValueError, r"Conv2d: tinynet runs on the CPU only, got device='cuda'")
mbad("DepthwiseSeparableConv2d", _dsc_base, "dtype", tinynet.int32, "integer", TypeError, r"Conv2d: dtype must be a floating-point type, got int32")
mbad("DepthwiseSeparableConv2d", _dsc_base, "bias", None, "None", TypeError, r"Conv2d: bias must be a bool, got None")
_aspp_base = lambda: dict(in_channels=3, out_channels=4, rates=(1, 2), merge="concat", bias=True)  # noqa: E731
mbad("AtrousPyramid", _aspp_base, "in_channels", "3", "str", TypeError, r"Conv2d: in_channels must be an int, got '3'")
mbad("AtrousPyramid", _aspp_base, "out_channels", 0, "zero", ValueError, r"Conv2d: out_channels must be a positive int, got 0")
mbad("AtrousPyramid", _aspp_base, "rates", (), "empty", ValueError, r"AtrousPyramid: rates must name at least one dilation rate, got \(\)")
mbad("AtrousPyramid", _aspp_base, "rates", (1, 0), "zero rate", ValueError, r"AtrousPyramid: every rate must be a positive int, got 0")
mbad("AtrousPyramid", _aspp_base, "rates", (1, 1.5), "float rate", TypeError, r"AtrousPyramid: every rate must be an int, got 1.5")
mbad("AtrousPyramid", _aspp_base, "merge", "max", "unknown word", ValueError, r"AtrousPyramid: merge must be one of \('concat', 'sum', 'weighted'\), got 'max'")
mbad("AtrousPyramid", _aspp_base, "device", "mps", "not the CPU", ValueError, r"tinynet runs on the CPU only, got device='mps'")
mbad("AtrousPyramid", _aspp_base, "dtype", tinynet.int64, "integer", TypeError, r"dtype must be a floating-point type, got int64")
mbad("AtrousPyramid", _aspp_base, "bias", "yes", "str", TypeError, r"Conv2d: bias must be a bool, got 'yes'")

_lin_base = lambda: dict(in_features=3, out_features=4, bias=True)  # noqa: E731
mbad("Linear", _lin_base, "in_features", -1, "negative", ValueError, r"Linear: in_features must be a non-negative int, got -1")
mbad("Linear", _lin_base, "out_features", "4", "str", ValueError, r"Linear: out_features must be a non-negative int, got '4'")
mbad("Linear", _lin_base, "bias", "False", "str", TypeError, r"Linear: bias must be a bool, got 'False'")
mbad("Linear", _lin_base, "device", "cuda", "not the CPU", ValueError, r"Linear: tinynet runs on the CPU only, got device='cuda'")
mbad("Linear", _lin_base, "dtype", tinynet.int64, "integer", TypeError, r"Linear: dtype must be a floating-point dtype, got int64")
bad("nn.Linear.forward", "input", "features", lambda: nn.Linear(3, 4)(t(2, 5)), RuntimeError, r"linear: input has 5 features")

for _cls, _x_bad, _rank_msg in (
    ("BatchNorm2d", t(2, 3), r"BatchNorm2d: expected 4D input \(got 2D input"),
    ("BatchNorm1d", t(2, 3, 4, 4), r"BatchNorm1d: expected 2D or 3D input \(got 4D input"),
):
    _b = lambda: dict(num_features=3, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True)  # noqa: E731
    mbad(_cls, _b, "num_features", 0, "zero", ValueError, rf"{_cls}: num_features must be a positive int, got 0")
    mbad(_cls, _b, "eps", -1e-5, "negative", ValueError, rf"{_cls}: eps must be a non-negative number, got -1e-05")
    mbad(_cls, _b, "momentum", 1.5, "above 1", ValueError, rf"{_cls}: momentum must be a number in \[0, 1\] or None, got 1.5")
    mbad(_cls, _b, "affine", "False", "str", TypeError, rf"{_cls}: affine must be a bool, got 'False'")
    mbad(_cls, _b, "track_running_stats", None, "None", TypeError, rf"{_cls}: track_running_stats must be a bool, got None")
    mbad(_cls, _b, "bias", 0, "int", TypeError, rf"{_cls}: bias must be a bool, got 0")
    mbad(_cls, _b, "device", "cuda:0", "not the CPU", ValueError, rf"{_cls}: tinynet runs on the CPU only, got device='cuda:0'")
    mbad(_cls, _b, "dtype", tinynet.int64, "integer", TypeError, rf"{_cls}: dtype must be a floating-point dtype, got int64")
    bad(f"nn.{_cls}.forward", "input", "rank", lambda _cls=_cls, _x_bad=_x_bad: getattr(nn, _cls)(3)(_x_bad), ValueError, _rank_msg)
    bad(f"nn.{_cls}.forward", "input", "channels", lambda _cls=_cls: getattr(nn, _cls)(3)(t(2, 4, 5, 5) if _cls == "BatchNorm2d" else t(2, 4, 5)), RuntimeError, rf"{_cls}: input has 4 channels .*but the layer was built for num_features=3")

_mp_base = lambda: dict(kernel_size=2, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False)  # noqa: E731
mbad("MaxPool2d", _mp_base, "kernel_size", 0, "zero", RuntimeError, r"MaxPool2d: kernel_size must be positive, got kernel_size=0")
mbad("MaxPool2d", _mp_base, "stride", 0, "zero", RuntimeError, r"MaxPool2d: stride must be positive, got stride=0")
mbad("MaxPool2d", _mp_base, "padding", 2, "over half the kernel", RuntimeError, r"MaxPool2d: padding must be at most half of the kernel size")
mbad("MaxPool2d", _mp_base, "dilation", 0, "zero", RuntimeError, r"MaxPool2d: dilation must be positive, got dilation=0")
mbad("MaxPool2d", _mp_base, "return_indices", "yes", "str", TypeError, r"MaxPool2d: return_indices must be a bool, got 'yes'")
mbad("MaxPool2d", _mp_base, "ceil_mode", None, "None", TypeError, r"MaxPool2d: ceil_mode must be a bool, got None")
bad("nn.MaxPool2d.forward", "input", "kernel larger than input", lambda: nn.MaxPool2d(5)(t(1, 1, 4, 4)), RuntimeError, r"max_pool2d: the window does not fit: input 4x4 with kernel_size=\(5, 5\)")
_ap_base = lambda: dict(kernel_size=2, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None)  # noqa: E731
mbad("AvgPool2d", _ap_base, "kernel_size", -1, "negative", RuntimeError, r"AvgPool2d: kernel_size must be positive, got kernel_size=-1")
mbad("AvgPool2d", _ap_base, "stride", 1.5, "float", TypeError, r"AvgPool2d: stride must be an int or a tuple of 2 ints, got 1.5")
mbad("AvgPool2d", _ap_base, "padding", 3, "over half the kernel", RuntimeError, r"AvgPool2d: padding must be at most half of the kernel size")
mbad("AvgPool2d", _ap_base, "ceil_mode", "no", "str", TypeError, r"AvgPool2d: ceil_mode must be a bool, got 'no'")
mbad("AvgPool2d", _ap_base, "count_include_pad", None, "None", TypeError, r"AvgPool2d: count_include_pad must be a bool, got None")
mbad("AvgPool2d", _ap_base, "divisor_override", 0, "zero", RuntimeError, r"AvgPool2d: divisor_override must not be zero, got 0")
mbad("AdaptiveAvgPool2d", lambda: dict(output_size=2), "output_size", -1, "negative", RuntimeError, r"AdaptiveAvgPool2d: output_size must be >= 0, got -1")
mbad("AdaptiveAvgPool2d", lambda: dict(output_size=2), "output_size", "2", "str", TypeError, r"AdaptiveAvgPool2d: output_size must be an int or a pair of ints .*got '2'")
_mu_base = lambda: dict(kernel_size=2, stride=None, padding=0)  # noqa: E731
mbad("MaxUnpool2d", _mu_base, "kernel_size", 0, "zero", RuntimeError, r"MaxUnpool2d: kernel_size must be positive, got kernel_size=0")
mbad("MaxUnpool2d", _mu_base, "stride", "2", "str", TypeError, r"MaxUnpool2d: stride must be an int or a tuple of 2 ints, got '2'")
mbad("MaxUnpool2d", _mu_base, "padding", -1, "negative", RuntimeError, r"MaxUnpool2d: padding must be non-negative, got padding=-1")
bad("nn.MaxUnpool2d.forward", "indices", "str", lambda: nn.MaxUnpool2d(2)(t(1, 1, 2, 2), "i"), TypeError, r"max_unpool2d: indices must be a Tensor, got str")

_up_base = lambda: dict(size=None, scale_factor=2, mode="nearest", align_corners=None, recompute_scale_factor=None)  # noqa: E731
mbad("Upsample", _up_base, "size", 4, "both size and scale_factor", ValueError, r"Upsample: only one of size or scale_factor should be defined, got size=4 and scale_factor=2")
mbad("Upsample", _up_base, "scale_factor", 0, "zero", RuntimeError, r"Upsample: scale_factor must be positive and finite, got scale_factor=0")
mbad("Upsample", _up_base, "scale_factor", None, "neither given", ValueError, r"Upsample: either size or scale_factor should be defined")
mbad("Upsample", _up_base, "mode", "trilinear", "torch-only mode", ValueError, r"Upsample: unknown mode 'trilinear' \(PyTorch has it; tinynet does not implement it\)")
mbad("Upsample", _up_base, "align_corners", True, "with nearest", ValueError, r"Upsample: align_corners option can only be set with the interpolating modes")
mbad("Upsample", lambda: {**_up_base(), "scale_factor": None, "size": 4}, "recompute_scale_factor", True, "with size", ValueError, r"Upsample: recompute_scale_factor is not meaningful with an explicit size \(size=4\)")
for _cls in ("UpsamplingBilinear2d", "UpsamplingNearest2d"):
    mbad(_cls, lambda: dict(size=None, scale_factor=2), "size", -1, "negative with scale_factor", ValueError, rf"{_cls}: only one of size or scale_factor should be defined")
    mbad(_cls, lambda: dict(size=None, scale_factor=2), "scale_factor", "2", "str", TypeError, rf"{_cls}: scale_factor must be a number or a tuple of numbers, got '2'")
    mbad(_cls, lambda: dict(size=4, scale_factor=None), "size", 0, "zero", RuntimeError, rf"{_cls}: output sizes must be positive, got size=0")
bad("nn.Upsample.forward", "input", "2-D", lambda: nn.Upsample(scale_factor=2)(t(4, 4)), ValueError, r"interpolate: expected 3-D \(N, C, L\) or 4-D \(N, C, H, W\) input, got 2-D")
mbad("PixelShuffle", lambda: dict(upscale_factor=2), "upscale_factor", 0, "zero", RuntimeError, r"PixelShuffle: upscale_factor must be positive, got upscale_factor=0")
mbad("PixelShuffle", lambda: dict(upscale_factor=2), "upscale_factor", 1.5, "float", TypeError, r"PixelShuffle: upscale_factor must be an int, got 1.5")
mbad("PixelUnshuffle", lambda: dict(downscale_factor=2), "downscale_factor", "2", "str", TypeError, r"PixelUnshuffle: downscale_factor must be an int, got '2'")
mbad("PixelUnshuffle", lambda: dict(downscale_factor=2), "downscale_factor", -2, "negative", RuntimeError, r"PixelUnshuffle: downscale_factor must be positive, got downscale_factor=-2")
bad("nn.PixelShuffle.forward", "input", "channels not divisible", lambda: nn.PixelShuffle(2)(t(1, 3, 2, 2)), RuntimeError, r"pixel_shuffle: the channel dimension input.size\(-3\)=3 must be divisible by upscale_factor\*\*2 = 4")
for _cls in ("Dropout", "Dropout2d"):
    mbad(_cls, lambda: dict(p=0.5), "p", 1.01, "above 1", ValueError, rf"{_cls}: dropout probability has to be between 0 and 1, but got 1.01")
    mbad(_cls, lambda: dict(p=0.5), "p", None, "None", TypeError, rf"{_cls}: p must be a number, got None")
bad("nn.Dropout.forward", "input", "int dtype", lambda: nn.Dropout()(ti(3)), TypeError, r"dropout: input must be a floating-point tensor, got dtype int64")
mbad("Flatten", lambda: dict(start_dim=1, end_dim=-1), "start_dim", "1", "str", TypeError, r"Flatten: start_dim must be an int, got '1'")
mbad("Flatten", lambda: dict(start_dim=1, end_dim=-1), "end_dim", 1.5, "float", TypeError, r"Flatten: end_dim must be an int, got 1.5")
bad("nn.Flatten.forward", "input", "str", lambda: nn.Flatten()("x"), TypeError, r"Flatten: input must be a Tensor, got str")
bad("nn.Flatten.forward", "input", "start after end", lambda: nn.Flatten(2, 1)(t(2, 3, 4)), ValueError, r"flatten\(\): start_dim \(2\) cannot come after end_dim \(1\)")
mbad("LeakyReLU", lambda: dict(negative_slope=0.01), "negative_slope", "0.1", "str", TypeError, r"LeakyReLU: negative_slope must be a number, got '0.1'")
for _cls in ("Softmax", "LogSoftmax"):
    mbad(_cls, lambda: dict(dim=1), "dim", "1", "str", TypeError, rf"{_cls}: dim must be an int or None, got '1'")
    mbad(_cls, lambda: dict(dim=1), "dim", 1.0, "float", TypeError, rf"{_cls}: dim must be an int or None, got 1.0")
    bad(f"nn.{_cls}.forward", "input", "dim out of range", lambda _cls=_cls: getattr(nn, _cls)(2)(t(2, 3)), IndexError, r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)")
for _cls in ("ReLU", "Sigmoid", "Tanh"):
    bad(f"nn.{_cls}.forward", "input", "str", lambda _cls=_cls: getattr(nn, _cls)()("x"), TypeError, rf"{_cls.lower()}: input must be a Tensor, got str")

_cel_base = lambda: dict(weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0)  # noqa: E731
mbad("CrossEntropyLoss", _cel_base, "weight", np.ones(3), "ndarray", TypeError, r"CrossEntropyLoss: weight must be a Tensor or None, got ndarray")
mbad("CrossEntropyLoss", _cel_base, "ignore_index", None, "None", TypeError, r"CrossEntropyLoss: ignore_index must be an int, got None")
mbad("CrossEntropyLoss", _cel_base, "reduction", "avg", "unknown word", ValueError, r"CrossEntropyLoss: 'avg' is not a valid value for reduction")
mbad("CrossEntropyLoss", _cel_base, "label_smoothing", -0.1, "negative", RuntimeError, r"CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0. Got: -0.1")
bad("nn.CrossEntropyLoss.forward", "target", "out of range", lambda: nn.CrossEntropyLoss()(t(2, 3), ti(2, fill=3)), IndexError, r"cross_entropy: Target 3 is out of bounds")
_nll_m_base = lambda: dict(weight=None, ignore_index=-100, reduction="mean")  # noqa: E731
mbad("NLLLoss", _nll_m_base, "weight", "w", "str", TypeError, r"NLLLoss: weight must be a Tensor or None, got str")
mbad("NLLLoss", _nll_m_base, "ignore_index", 0.5, "float", TypeError, r"NLLLoss: ignore_index must be an int, got 0.5")
mbad("NLLLoss", _nll_m_base, "reduction", 3, "int", ValueError, r"NLLLoss: 3 is not a valid value for reduction")
_bcel_base = lambda: dict(weight=None, reduction="mean", pos_weight=None)  # noqa: E731
mbad("BCEWithLogitsLoss", _bcel_base, "weight", [1.0], "list", TypeError, r"BCEWithLogitsLoss: weight must be a Tensor or None, got list")
mbad("BCEWithLogitsLoss", _bcel_base, "pos_weight", "p", "str", TypeError, r"BCEWithLogitsLoss: pos_weight must be a Tensor or None, got str")
mbad("BCEWithLogitsLoss", _bcel_base, "reduction", "x", "unknown word", ValueError, r"BCEWithLogitsLoss: 'x' is not a valid value for reduction")
for _cls in ("MSELoss", "L1Loss"):
    mbad(_cls, lambda: dict(reduction="mean"), "reduction", "elementwise_mean", "unknown word", ValueError, rf"{_cls}: 'elementwise_mean' is not a valid value for reduction")
    bad(f"nn.{_cls}.forward", "target", "shape", lambda _cls=_cls: getattr(nn, _cls)()(t(2, 3), t(4, 3)), RuntimeError, r"The size of input \(2, 3\) and target \(4, 3\) must match")
_dl_base = lambda: dict(smooth=1.0, ignore_index=-100, reduction="mean")  # noqa: E731
mbad("DiceLoss", _dl_base, "smooth", float("inf"), "inf", ValueError, r"DiceLoss: smooth must be a non-negative number \(and finite\), got inf")
mbad("DiceLoss", _dl_base, "ignore_index", "x", "str", TypeError, r"DiceLoss: ignore_index must be an int, got 'x'")
mbad("DiceLoss", _dl_base, "reduction", "x", "unknown word", ValueError, r"DiceLoss: 'x' is not a valid value for reduction")

mbad("Parameter", lambda: dict(data=t(2), requires_grad=True), "data", "abc", "str", TypeError, r"Parameter: data must be numeric .*got 'abc'")
mbad("Parameter", lambda: dict(data=t(2), requires_grad=True), "data", ti(2), "int with requires_grad", RuntimeError, r"only floating-point tensors can require gradients, this one has dtype int64")
mbad("Parameter", lambda: dict(data=t(2), requires_grad=True), "requires_grad", "yes", "str", TypeError, r"requires_grad must be a bool, got 'yes'")
bad("nn.Sequential", "modules", "int", lambda: nn.Sequential(nn.ReLU(), 3), TypeError, r"int is not a Module subclass")
bad("nn.Sequential", "modules", "function", lambda: nn.Sequential(len), TypeError, r"builtin_function_or_method is not a Module subclass")
bad("nn.ModuleList", "modules", "not iterable", lambda: nn.ModuleList(3), TypeError, r"ModuleList.extend should be called with an iterable, but got int")
bad("nn.ModuleList", "modules", "non-module entry", lambda: nn.ModuleList([nn.ReLU(), "x"]), TypeError, r"str is not a Module subclass")
bad("nn.ModuleDict", "modules", "not a mapping", lambda: nn.ModuleDict(3), TypeError, r"ModuleDict.update should be called with an iterable of key/value pairs, but got int")
bad("nn.ModuleDict", "modules", "int key", lambda: nn.ModuleDict({1: nn.ReLU()}), TypeError, r"module name should be a string, got int")
bad("nn.ModuleDict", "modules", "dotted key", lambda: nn.ModuleDict({"a.b": nn.ReLU()}), KeyError, r"module name must be a non-empty string without '.', got 'a.b'")
bad("nn.ModuleList.__getitem__", "idx", "out of range", lambda: nn.ModuleList([nn.ReLU()])[3], IndexError, r"index 3 is out of range for a ModuleList of length 1")
bad("nn.Module.register_buffer", "tensor", "str", lambda: nn.Linear(2, 2).register_buffer("x", "abc"), TypeError, r"cannot register a str as buffer 'x' \(a Tensor or None is required\)")
bad("nn.Module.register_parameter", "param", "plain Tensor", lambda: nn.Linear(2, 2).register_parameter("x", t(2)), TypeError, r"cannot register a Tensor as parameter 'x' \(a Parameter or None is required\)")
bad("nn.Module.__setattr__", "value", "Tensor over a Parameter", lambda: setattr(nn.Linear(2, 2), "weight", t(2, 2)), TypeError, r"cannot assign a Tensor to parameter 'weight'")
bad("nn.Module.train", "mode", "str", lambda: nn.Linear(2, 2).train("yes"), ValueError, r"training mode is expected to be boolean, got 'yes'")
bad("nn.Module.to", "device", "cuda", lambda: nn.Linear(2, 2).to("cuda"), RuntimeError, r"tinynet runs on the CPU only; cannot move a module to device 'cuda'")
bad("nn.Module.load_state_dict", "state_dict", "str", lambda: nn.Linear(2, 2).load_state_dict("abc"), TypeError, r"Expected state_dict to be dict-like, got str")
bad("nn.Module.load_state_dict", "state_dict", "wrong shape", lambda: nn.Linear(2, 2).load_state_dict({"weight": np.ones((3, 2)), "bias": np.ones(2)}), RuntimeError, r"size mismatch for weight: copying a param with shape \(3, 2\) from checkpoint, the shape in current model is \(2, 2\)")

# ---------------------------------------------------------------------------- nn.init
for _fn in ("kaiming_uniform_", "kaiming_normal_"):
    _b = lambda: dict(tensor=t(4, 3), a=0.0, mode="fan_in", nonlinearity="leaky_relu")  # noqa: E731
    bad(f"init.{_fn}", "tensor", "1-D", with_arg(getattr(init, _fn), _b, "tensor", t(3)), ValueError, rf"nn.init.{_fn}: fan in and fan out cannot be computed for a tensor with fewer than 2 dimensions \(shape \(3,\)\)")
    bad(f"init.{_fn}", "tensor", "str", with_arg(getattr(init, _fn), _b, "tensor", "w"), TypeError, rf"nn.init.{_fn}: expected a Tensor, got str")
    bad(f"init.{_fn}", "tensor", "int dtype", with_arg(getattr(init, _fn), _b, "tensor", ti(4, 3)), TypeError, rf"nn.init.{_fn}: expected a floating-point tensor, got dtype int64")
    bad(f"init.{_fn}", "a", "str", with_arg(getattr(init, _fn), _b, "a", "x"), ValueError, r"calculate_gain: negative_slope 'x' is not a valid number")
    bad(f"init.{_fn}", "mode", "unknown word", with_arg(getattr(init, _fn), _b, "mode", "fan_avg"), ValueError, rf"nn.init.{_fn}: mode must be 'fan_in' or 'fan_out', got 'fan_avg'")
    bad(f"init.{_fn}", "nonlinearity", "unknown word", with_arg(getattr(init, _fn), _b, "nonlinearity", "gelu"), ValueError, r"calculate_gain: unsupported nonlinearity 'gelu'")
    bad(f"init.{_fn}", "generator", "int", with_arg(getattr(init, _fn), _b, "generator", 0), TypeError, r"generator must be a tinynet.Generator or None, got int")
for _fn in ("xavier_uniform_", "xavier_normal_"):
    _b = lambda: dict(tensor=t(4, 3), gain=1.0)  # noqa: E731
    bad(f"init.{_fn}", "tensor", "1-D", with_arg(getattr(init, _fn), _b, "tensor", t(3)), ValueError, rf"nn.init.{_fn}: fan in and fan out cannot be computed")
    bad(f"init.{_fn}", "gain", "str", with_arg(getattr(init, _fn), _b, "gain", "2"), TypeError, rf"nn.init.{_fn}: gain must be a finite number, got '2'")
    bad(f"init.{_fn}", "generator", "str", with_arg(getattr(init, _fn), _b, "generator", "g"), TypeError, r"generator must be a tinynet.Generator or None, got str")
_b = lambda: dict(tensor=t(3), a=0.0, b=1.0)  # noqa: E731
bad("init.uniform_", "tensor", "ndarray", with_arg(init.uniform_, _b, "tensor", np.ones(3)), TypeError, r"nn.init.uniform_: expected a Tensor, got ndarray")
bad("init.uniform_", "a", "above b", with_arg(init.uniform_, _b, "a", 2.0), ValueError, r"nn.init.uniform_: the bounds must satisfy a <= b, got a=2.0, b=1.0")
bad("init.uniform_", "b", "nan", with_arg(init.uniform_, _b, "b", float("nan")), TypeError, r"nn.init.uniform_: b must be a finite number, got nan")
bad("init.uniform_", "generator", "str", with_arg(init.uniform_, _b, "generator", "g"), TypeError, r"uniform_: generator must be a tinynet.Generator or None, got str")
_b = lambda: dict(tensor=t(3), mean=0.0, std=1.0)  # noqa: E731
bad("init.normal_", "tensor", "int dtype", with_arg(init.normal_, _b, "tensor", ti(3)), TypeError, r"nn.init.normal_: expected a floating-point tensor, got dtype int64")
bad("init.normal_", "mean", "str", with_arg(init.normal_, _b, "mean", "0"), TypeError, r"nn.init.normal_: mean must be a finite number, got '0'")
bad("init.normal_", "std", "negative", with_arg(init.normal_, _b, "std", -1.0), ValueError, r"nn.init.normal_: std must be >= 0.0, got -1.0")
bad("init.normal_", "generator", "int", with_arg(init.normal_, _b, "generator", 1), TypeError, r"normal_: generator must be a tinynet.Generator or None, got int")
for _fn in ("zeros_", "ones_"):
    bad(f"init.{_fn}", "tensor", "str", lambda _fn=_fn: getattr(init, _fn)("w"), TypeError, rf"nn.init.{_fn}: expected a Tensor, got str")
bad("init.constant_", "tensor", "ndarray", lambda: init.constant_(np.ones(3), 1.0), TypeError, r"nn.init.constant_: expected a Tensor, got ndarray")
bad("init.constant_", "val", "None", lambda: init.constant_(t(3), None), TypeError, r"nn.init.constant_: val must be a number, got None")
bad("init.calculate_gain", "nonlinearity", "unknown word", lambda: init.calculate_gain("swish"), ValueError, r"calculate_gain: unsupported nonlinearity 'swish'")
bad("init.calculate_gain", "param", "str", lambda: init.calculate_gain("leaky_relu", "a"), ValueError, r"calculate_gain: negative_slope 'a' is not a valid number")


# ---------------------------------------------------------------------------- optim and schedulers
def _params():
    return [nn.Parameter(t(2))]


for _cls in ("SGD", "Adam", "AdamW"):
    _C = getattr(optim, _cls)
    _b = lambda: dict(params=_params(), lr=0.1)  # noqa: E731
    bad(f"optim.{_cls}", "params", "a Tensor", with_arg(_C, _b, "params", nn.Parameter(t(2))), TypeError, rf"{_cls}: params argument given to the optimizer should be an iterable of Tensors or dicts, but got a Tensor")
    bad(f"optim.{_cls}", "params", "empty", with_arg(_C, _b, "params", []), ValueError, rf"{_cls}: optimizer got an empty parameter list")
    bad(f"optim.{_cls}", "params", "None", with_arg(_C, _b, "params", None), TypeError, rf"{_cls}: params should be an iterable of Tensors or dicts, got NoneType")
    bad(f"optim.{_cls}", "params", "ints", with_arg(_C, _b, "params", [1, 2]), TypeError, rf"{_cls}: optimizer can only optimize Tensors, but params\[0\] is a int")
    bad(f"optim.{_cls}", "params", "integer tensor", with_arg(_C, _b, "params", [ti(2)]), TypeError, rf"{_cls}: params\[0\] has dtype int64; only floating-point tensors can be optimized")
    bad(f"optim.{_cls}", "params", "non-leaf", with_arg(_C, _b, "params", [t(2).requires_grad_() * 2]), ValueError, rf"{_cls}: can't optimize a non-leaf Tensor")
    bad(f"optim.{_cls}", "params", "group without params", with_arg(_C, _b, "params", [{"lr": 0.1}]), ValueError, rf"{_cls}: a parameter group needs a 'params' entry, got keys \['lr'\]")
    bad(f"optim.{_cls}", "lr", "negative", with_arg(_C, _b, "lr", -1.0), ValueError, r"Invalid learning rate: -1.0")
    bad(f"optim.{_cls}", "lr", "str", with_arg(_C, _b, "lr", "0.1"), TypeError, r"Invalid learning rate: expected a number, got '0.1'")
    bad(f"optim.{_cls}", "lr", "nan", with_arg(_C, _b, "lr", float("nan")), ValueError, r"Invalid learning rate: nan")
    bad(f"optim.{_cls}", "weight_decay", "negative", with_arg(_C, _b, "weight_decay", -0.1), ValueError, r"Invalid weight_decay value: -0.1")
    bad(f"optim.{_cls}", "maximize", "str", with_arg(_C, _b, "maximize", "False"), TypeError, r"Invalid maximize value: expected a bool, got 'False'")
    bad(f"optim.{_cls}.step", "closure", "str", lambda _C=_C: _C(_params()).step("closure"), TypeError, rf"{_cls}.step: closure must be callable or None, got 'closure'")

    def _grad_shape(_C=_C):
        p = nn.Parameter(t(2))
        p.grad = t(3)
        _C([p]).step()

    def _grad_dtype(_C=_C):
        p = nn.Parameter(t(2))
        p.grad = t(2, dtype=np.float64)
        _C([p]).step()

    bad(f"optim.{_cls}.step", "param.grad", "shape", _grad_shape, RuntimeError, r"optimizer step: a parameter of shape \(2,\) and dtype float32 has a .grad of shape \(3,\)")
    bad(f"optim.{_cls}.step", "param.grad", "dtype", _grad_dtype, RuntimeError, r"has a .grad of shape \(2,\) and dtype float64")
    bad(f"optim.{_cls}.load_state_dict", "state_dict", "str", lambda _C=_C: _C(_params()).load_state_dict("s"), ValueError, rf"{_cls}: expected a dict with 'state' and 'param_groups'")
    if _cls != "SGD":
        bad(f"optim.{_cls}", "betas", "beta1 = 1", with_arg(_C, _b, "betas", (1.0, 0.999)), ValueError, r"Invalid beta parameter at index 0: 1.0")
        bad(f"optim.{_cls}", "betas", "one value", with_arg(_C, _b, "betas", (0.9,)), ValueError, r"Invalid betas: expected a pair \(beta1, beta2\), got \(0.9,\)")
        bad(f"optim.{_cls}", "eps", "negative", with_arg(_C, _b, "eps", -1e-8), ValueError, r"Invalid epsilon value: -1e-08")
        bad(f"optim.{_cls}", "amsgrad", "str", with_arg(_C, _b, "amsgrad", "yes"), TypeError, r"Invalid amsgrad value: expected a bool, got 'yes'")
bad("optim.Adam", "decoupled_weight_decay", "str", lambda: optim.Adam(_params(), decoupled_weight_decay="no"), TypeError, r"Invalid decoupled_weight_decay value: expected a bool, got 'no'")
bad("optim.SGD", "momentum", "negative", lambda: optim.SGD(_params(), momentum=-0.9), ValueError, r"Invalid momentum value: -0.9")
bad("optim.SGD", "dampening", "str", lambda: optim.SGD(_params(), dampening="0"), TypeError, r"Invalid dampening value: expected a number, got '0'")
bad("optim.SGD", "nesterov", "without momentum", lambda: optim.SGD(_params(), nesterov=True), ValueError, r"Nesterov momentum requires a momentum and zero dampening \(got momentum=0, dampening=0\)")
bad("optim.SGD", "nesterov", "str", lambda: optim.SGD(_params(), momentum=0.9, nesterov="True"), TypeError, r"Invalid nesterov value: expected a bool, got 'True'")
bad("optim.Optimizer", "params", "a Tensor", lambda: optim.Optimizer(nn.Parameter(t(2)), {}), TypeError, r"Optimizer: params argument given to the optimizer should be an iterable")
bad("optim.Optimizer", "defaults", "str", lambda: optim.Optimizer(_params(), "lr=0.1"), TypeError, r"Optimizer: defaults must be a dict of hyperparameters, got 'lr=0.1'")


def _sgd():
    return optim.SGD(_params(), lr=0.1, momentum=0.9)


_S = "lr_scheduler"
bad(f"{_S}.LRScheduler", "optimizer", "str", lambda: lr_scheduler.LRScheduler("opt"), TypeError, r"str is not an Optimizer")
bad(f"{_S}.LRScheduler", "last_epoch", "below -1", lambda: lr_scheduler.LRScheduler(_sgd(), last_epoch=-2), ValueError, r"LRScheduler: last_epoch must be an int >= -1, got -2")
bad(f"{_S}.StepLR", "optimizer", "None", lambda: lr_scheduler.StepLR(None, 2), TypeError, r"NoneType is not an Optimizer")
bad(f"{_S}.StepLR", "step_size", "zero", lambda: lr_scheduler.StepLR(_sgd(), 0), ValueError, r"StepLR: step_size must be a positive int, got 0")
bad(f"{_S}.StepLR", "step_size", "float", lambda: lr_scheduler.StepLR(_sgd(), 1.5), ValueError, r"StepLR: step_size must be a positive int, got 1.5")
bad(f"{_S}.StepLR", "gamma", "str", lambda: lr_scheduler.StepLR(_sgd(), 2, gamma="0.1"), TypeError, r"StepLR: gamma must be a number, got '0.1'")
bad(f"{_S}.StepLR", "last_epoch", "str", lambda: lr_scheduler.StepLR(_sgd(), 2, last_epoch="a"), ValueError, r"StepLR: last_epoch must be an int >= -1, got 'a'")
bad(f"{_S}.StepLR", "last_epoch", "resume without initial_lr", lambda: lr_scheduler.StepLR(_sgd(), 2, last_epoch=3), KeyError, r"param 'initial_lr' is not specified in param_groups\[0\] when resuming")
bad(f"{_S}.CosineAnnealingLR", "optimizer", "str", lambda: lr_scheduler.CosineAnnealingLR("o", 2), TypeError, r"str is not an Optimizer")
bad(f"{_S}.CosineAnnealingLR", "T_max", "zero", lambda: lr_scheduler.CosineAnnealingLR(_sgd(), 0), ValueError, r"CosineAnnealingLR: T_max must be a positive int, got 0")
bad(f"{_S}.CosineAnnealingLR", "eta_min", "str", lambda: lr_scheduler.CosineAnnealingLR(_sgd(), 2, eta_min="0"), TypeError, r"CosineAnnealingLR: eta_min must be a number, got '0'")
bad(f"{_S}.CosineAnnealingLR", "last_epoch", "below -1", lambda: lr_scheduler.CosineAnnealingLR(_sgd(), 2, last_epoch=-5), ValueError, r"CosineAnnealingLR: last_epoch must be an int >= -1, got -5")
_oc = lambda: dict(optimizer=_sgd(), max_lr=0.1, total_steps=10)  # noqa: E731
_O = lr_scheduler.OneCycleLR
bad(f"{_S}.OneCycleLR", "optimizer", "str", with_arg(_O, _oc, "optimizer", "o"), TypeError, r"str is not an Optimizer")
bad(f"{_S}.OneCycleLR", "max_lr", "str", with_arg(_O, _oc, "max_lr", "0.1"), ValueError, r"OneCycleLR: max_lr must be a non-negative number \(or one per param group\), got '0.1'")
bad(f"{_S}.OneCycleLR", "max_lr", "one per group, wrong count", with_arg(_O, _oc, "max_lr", [0.1, 0.2]), ValueError, r"max_lr must have the same length as optimizer.param_groups. max_lr has 2 values, param_groups has 1")
bad(f"{_S}.OneCycleLR", "total_steps", "zero", with_arg(_O, _oc, "total_steps", 0), ValueError, r"Expected positive integer total_steps, but got 0")
bad(f"{_S}.OneCycleLR", "total_steps", "None and no epochs", with_arg(_O, _oc, "total_steps", None), ValueError, r"You must define either total_steps OR \(epochs AND steps_per_epoch\)")
bad(f"{_S}.OneCycleLR", "epochs", "zero", lambda: _O(_sgd(), 0.1, epochs=0, steps_per_epoch=2), ValueError, r"Expected positive integer epochs, but got 0")
bad(f"{_S}.OneCycleLR", "steps_per_epoch", "str", lambda: _O(_sgd(), 0.1, epochs=2, steps_per_epoch="2"), ValueError, r"Expected positive integer steps_per_epoch, but got 2")
bad(f"{_S}.OneCycleLR", "pct_start", "above 1", with_arg(_O, _oc, "pct_start", 1.5), ValueError, r"Expected float between 0 and 1 pct_start, but got 1.5")
bad(f"{_S}.OneCycleLR", "pct_start", "empty first phase", with_arg(_O, _oc, "pct_start", 0.05), ValueError, r"OneCycleLR: phase 0 of the schedule is empty .*pct_start=0.05")
bad(f"{_S}.OneCycleLR", "anneal_strategy", "unknown word", with_arg(_O, _oc, "anneal_strategy", "exp"), ValueError, r"anneal_strategy must be one of 'cos' or 'linear', instead got exp")
bad(f"{_S}.OneCycleLR", "cycle_momentum", "str", with_arg(_O, _oc, "cycle_momentum", "no"), TypeError, r"OneCycleLR: cycle_momentum must be a bool, got 'no'")
bad(f"{_S}.OneCycleLR", "base_momentum", "negative", with_arg(_O, _oc, "base_momentum", -0.85), ValueError, r"OneCycleLR: base_momentum must be a non-negative number .*got -0.85")
bad(f"{_S}.OneCycleLR", "max_momentum", "str", with_arg(_O, _oc, "max_momentum", "0.95"), ValueError, r"OneCycleLR: max_momentum must be a non-negative number .*got '0.95'")
bad(f"{_S}.OneCycleLR", "div_factor", "zero", with_arg(_O, _oc, "div_factor", 0), ValueError, r"OneCycleLR: div_factor must be a positive number, got 0")
bad(f"{_S}.OneCycleLR", "final_div_factor", "negative", with_arg(_O, _oc, "final_div_factor", -1.0), ValueError, r"OneCycleLR: final_div_factor must be a positive number, got -1.0")
bad(f"{_S}.OneCycleLR", "three_phase", "str", with_arg(_O, _oc, "three_phase", "yes"), TypeError, r"OneCycleLR: three_phase must be a bool, got 'yes'")
bad(f"{_S}.OneCycleLR", "last_epoch", "str", with_arg(_O, _oc, "last_epoch", "a"), ValueError, r"OneCycleLR: last_epoch must be an int >= -1, got 'a'")


# ---------------------------------------------------------------------------- data
def _ds():
    return data.TensorDataset(t(4, 2), ti(4))


bad("data.TensorDataset", "tensors", "none", lambda: data.TensorDataset(), ValueError, r"TensorDataset: expected at least one tensor")
bad("data.TensorDataset", "tensors", "sizes", lambda: data.TensorDataset(t(4, 2), t(3)), ValueError, r"TensorDataset: size mismatch between tensors: first dimensions \[4, 3\]")
bad("data.TensorDataset", "tensors", "str", lambda: data.TensorDataset("abc"), TypeError, r"TensorDataset: argument 0 must be a Tensor or numpy array, got str")
bad("data.TensorDataset", "tensors", "0-d", lambda: data.TensorDataset(t()), ValueError, r"TensorDataset: argument 0 is 0-d; every tensor needs a first \(sample\) dimension")
bad("data.TensorDataset.__getitem__", "index", "out of range", lambda: _ds()[9], IndexError, r"index 9 is out of bounds for axis 0 with size 4")
bad("data.Subset", "dataset", "int", lambda: data.Subset(3, [0]), TypeError, r"Subset: dataset must support indexing, got int")
bad("data.Subset", "indices", "int", lambda: data.Subset(_ds(), 3), TypeError, r"Subset: indices must be a sequence of ints, got 3")
bad("data.ConcatDataset", "datasets", "empty", lambda: data.ConcatDataset([]), ValueError, r"ConcatDataset: datasets should not be an empty iterable")
bad("data.ConcatDataset", "datasets", "int entry", lambda: data.ConcatDataset([_ds(), 3]), TypeError, r"ConcatDataset: datasets\[1\] is not a map-style dataset, got int")
bad("data.ConcatDataset", "datasets", "not iterable", lambda: data.ConcatDataset(3), TypeError, r"ConcatDataset: datasets must be an iterable of datasets, got int")
bad("data.random_split", "lengths", "sum", lambda: data.random_split(_ds(), [3, 3]), ValueError, r"random_split: sum of input lengths \(6\) does not equal the length of the dataset \(4\)")
bad("data.random_split", "lengths", "negative", lambda: data.random_split(_ds(), [-1, 5]), ValueError, r"random_split: lengths must be non-negative ints .*entry 0 is -1")
bad("data.random_split", "lengths", "fraction above 1", lambda: data.random_split(_ds(), [1.5, -0.5]), ValueError, r"random_split: fraction at index 0 is 1.5, not between 0 and 1")
bad("data.random_split", "dataset", "no length", lambda: data.random_split(3, [1]), TypeError, r"random_split: dataset must have a length, got int")
bad("data.random_split", "generator", "str", lambda: data.random_split(_ds(), [2, 2], generator="g"), TypeError, r"random_split: generator must be a tinynet.Generator, got str")
_DL = data.DataLoader
_dl = lambda: dict(dataset=_ds())  # noqa: E731
bad("data.DataLoader", "dataset", "None", with_arg(_DL, _dl, "dataset", None), TypeError, r"DataLoader: dataset must be a map-style dataset .*got NoneType")
bad("data.DataLoader", "batch_size", "zero", with_arg(_DL, _dl, "batch_size", 0), ValueError, r"DataLoader: batch_size should be a positive integer value \(or None\), got 0")
bad("data.DataLoader", "batch_size", "float", with_arg(_DL, _dl, "batch_size", 1.5), ValueError, r"DataLoader: batch_size should be a positive integer value \(or None\), got 1.5")
bad("data.DataLoader", "shuffle", "str", with_arg(_DL, _dl, "shuffle", "yes"), TypeError, r"DataLoader: shuffle must be a bool, got 'yes'")
bad("data.DataLoader", "shuffle", "with a sampler", lambda: _DL(_ds(), shuffle=True, sampler=[0, 1]), ValueError, r"DataLoader: sampler option is mutually exclusive with shuffle")
bad("data.DataLoader", "sampler", "int", with_arg(_DL, _dl, "sampler", 3), TypeError, r"DataLoader: sampler must be an iterable of indices, got int")
bad("data.DataLoader", "batch_sampler", "int", with_arg(_DL, _dl, "batch_sampler", 3), TypeError, r"DataLoader: batch_sampler must be an iterable of indices, got int")
bad("data.DataLoader", "batch_sampler", "with batch_size", lambda: _DL(_ds(), batch_size=2, batch_sampler=[[0, 1]]), ValueError, r"DataLoader: batch_sampler option is mutually exclusive with batch_size")
bad("data.DataLoader", "num_workers", "negative", with_arg(_DL, _dl, "num_workers", -1), ValueError, r"DataLoader: num_workers should be a non-negative int, got -1")
bad("data.DataLoader", "collate_fn", "str", with_arg(_DL, _dl, "collate_fn", "stack"), TypeError, r"DataLoader: collate_fn must be callable, got str")
bad("data.DataLoader", "drop_last", "str", with_arg(_DL, _dl, "drop_last", "no"), TypeError, r"DataLoader: drop_last must be a bool, got 'no'")
bad("data.DataLoader", "timeout", "negative", with_arg(_DL, _dl, "timeout", -1), ValueError, r"DataLoader: timeout option should be non-negative, got -1")
bad("data.DataLoader", "worker_init_fn", "str", with_arg(_DL, _dl, "worker_init_fn", "init"), TypeError, r"DataLoader: worker_init_fn must be callable or None, got 'init'")
bad("data.DataLoader", "generator", "int", with_arg(_DL, _dl, "generator", 0), TypeError, r"DataLoader: generator must be a tinynet.Generator, got int \(for an integer seed use seed=...\)")
bad("data.DataLoader", "seed", "str", with_arg(_DL, _dl, "seed", "0"), ValueError, r"DataLoader: seed must be a non-negative int, got '0'")
bad("data.DataLoader", "seed", "with a generator", lambda: _DL(_ds(), seed=1, generator=tinynet.Generator()), ValueError, r"DataLoader: pass either generator or seed, not both")
bad("data.DataLoader.__iter__", "dataset", "ragged samples", lambda: list(_DL([np.ones(2), np.ones(3)], batch_size=2)), RuntimeError, r"default_collate: stack expects each tensor to be equal size, but got \(2,\) at entry 0 and \(3,\) at entry 1")
bad("data.default_collate", "batch", "None samples", lambda: data.default_collate([None, None]), TypeError, r"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found <class 'NoneType'>")
bad("data.default_collate", "batch", "ragged", lambda: data.default_collate([np.ones(2), np.ones(3)]), RuntimeError, r"default_collate: stack expects each tensor to be equal size")
bad("data.SequentialSampler", "data_source", "int", lambda: data.SequentialSampler(5), TypeError, r"SequentialSampler: data_source must have a length \(a dataset\), got int")
bad("data.RandomSampler", "data_source", "int", lambda: data.RandomSampler(5), TypeError, r"RandomSampler: data_source must have a length \(a dataset\), got int")
bad("data.RandomSampler", "replacement", "str", lambda: data.RandomSampler(_ds(), replacement="yes"), TypeError, r"RandomSampler: replacement should be a boolean value, got replacement='yes'")
bad("data.RandomSampler", "num_samples", "zero", lambda: data.RandomSampler(_ds(), num_samples=0), ValueError, r"RandomSampler: num_samples should be a positive integer value, got num_samples=0")
bad("data.RandomSampler", "generator", "str", lambda: data.RandomSampler(_ds(), generator="g"), TypeError, r"RandomSampler: generator must be a tinynet.Generator, got str")
bad("data.BatchSampler", "sampler", "int", lambda: data.BatchSampler(3, 2, False), TypeError, r"BatchSampler: sampler must be an iterable of indices, got int")
bad("data.BatchSampler", "batch_size", "zero", lambda: data.BatchSampler([0, 1], 0, False), ValueError, r"BatchSampler: batch_size should be a positive integer value, got batch_size=0")
bad("data.BatchSampler", "drop_last", "str", lambda: data.BatchSampler([0, 1], 2, "no"), ValueError, r"BatchSampler: drop_last should be a boolean value, got drop_last='no'")
_sh = lambda: dict(split="train", size=2, seed=0, image_size=32, max_objects=2)  # noqa: E731
_SH = datasets.Shapes
bad("datasets.Shapes", "split", "unknown word", with_arg(_SH, _sh, "split", "validation"), ValueError, r"Shapes: split must be one of \['test', 'train', 'val'\], got 'validation'")
bad("datasets.Shapes", "size", "negative", with_arg(_SH, _sh, "size", -1), ValueError, r"Shapes: size must be an int >= 0, got -1")
bad("datasets.Shapes", "seed", "str", with_arg(_SH, _sh, "seed", "0"), ValueError, r"Shapes: seed must be a non-negative int, got '0'")
bad("datasets.Shapes", "image_size", "too small", with_arg(_SH, _sh, "image_size", 16), ValueError, r"Shapes: image_size must be an int >= 32, got 16")
bad("datasets.Shapes", "max_objects", "zero", with_arg(_SH, _sh, "max_objects", 0), ValueError, r"Shapes: max_objects must be an int >= 1, got 0")
bad("datasets.Shapes.__getitem__", "index", "out of range", lambda: _SH(size=2, image_size=32)[5], IndexError, r"index 5 is out of bounds for axis 0 with size 2")
_RS = datasets.render_scene
_spec = datasets.ShapeSpec(1, 10.0, 10.0, 5.0, (1.0, 0.0, 0.0))
bad("datasets.render_scene", "specs", "str", lambda: _RS("circle"), TypeError, r"render_scene: specs must be a list of ShapeSpec, got 'circle'")
bad("datasets.render_scene", "specs", "not ShapeSpecs", lambda: _RS([(1, 10.0, 10.0, 5.0, (1.0, 0.0, 0.0))]), TypeError, r"render_scene: specs must be a list of ShapeSpec, got \[\(1, 10.0")
bad("datasets.render_scene", "size", "zero", lambda: _RS([_spec], size=0), ValueError, r"render_scene: size must be a positive int, got 0")
bad("datasets.render_scene", "rng", "int", lambda: _RS([_spec], rng=0), TypeError, r"render_scene: rng must be a numpy Generator or None, got int")
bad("datasets.render_scene", "noise", "negative", lambda: _RS([_spec], noise=-0.1), ValueError, r"render_scene: noise must be a finite number >= 0, got -0.1")
bad("datasets.ShapeSpec", "kind", "missing fields", lambda: datasets.ShapeSpec(1), TypeError, r"missing 4 required positional arguments: 'cy', 'cx', 'r', and 'colour'")
# ShapeSpec is a plain record; render_scene checks every field of the specs it is given:
bad("datasets.ShapeSpec", "kind", "unknown kind", lambda: _RS([_spec._replace(kind=0)]), ValueError, r"render_scene: specs\[0\].kind must be 1 \(circle\), 2 \(square\) or 3 \(triangle\), got 0")
bad("datasets.ShapeSpec", "cy", "str", lambda: _RS([_spec._replace(cy="a")]), TypeError, r"render_scene: specs\[0\].cy must be a finite number, got 'a'")
bad("datasets.ShapeSpec", "cx", "nan", lambda: _RS([_spec._replace(cx=float("nan"))]), TypeError, r"render_scene: specs\[0\].cx must be a finite number, got nan")
bad("datasets.ShapeSpec", "r", "negative", lambda: _RS([_spec._replace(r=-5.0)]), ValueError, r"render_scene: specs\[0\].r must be a positive number, got -5.0")
bad("datasets.ShapeSpec", "colour", "two channels", lambda: _RS([_spec._replace(colour=(1.0, 0.0))]), ValueError, r"render_scene: specs\[0\].colour must be 3 numbers in \[0, 1\] \(RGB\), got \(1.0, 0.0\)")


# ---------------------------------------------------------------------------- io
def _ckpt_bytes(**parts) -> bytes:
    buf = io.BytesIO()
    tio.save_checkpoint(buf, **parts)
    return buf.getvalue()


_SC = tio.save_checkpoint
bad("io.save_checkpoint", "path", "None", lambda: _SC(None, epoch=1), TypeError, r"tinynet.save: path must be a file path or a writable binary file, got NoneType")
bad("io.save_checkpoint", "model", "str", lambda: _SC(io.BytesIO(), model="m"), TypeError, r"save_checkpoint: model must have a state_dict\(\) method, got str")
bad("io.save_checkpoint", "optimizer", "int", lambda: _SC(io.BytesIO(), optimizer=3), TypeError, r"save_checkpoint: optimizer must have a state_dict\(\) method, got int")
bad("io.save_checkpoint", "scheduler", "int", lambda: _SC(io.BytesIO(), scheduler=3), TypeError, r"save_checkpoint: scheduler must have a state_dict\(\) method, got int")
bad("io.save_checkpoint", "epoch", "str", lambda: _SC(io.BytesIO(), epoch="1"), TypeError, r"save_checkpoint: epoch must be an int or None, got '1'")
bad("io.save_checkpoint", "step", "float", lambda: _SC(io.BytesIO(), step=1.5), TypeError, r"save_checkpoint: step must be an int or None, got 1.5")
bad("io.save_checkpoint", "dataloader", "int", lambda: _SC(io.BytesIO(), dataloader=3), TypeError, r"save_checkpoint: dataloader 'dataloader' has no state_dict\(\)")
bad("io.save_checkpoint", "extra", "object", lambda: _SC(io.BytesIO(), extra=object()), TypeError, r"tinynet.save: cannot store a object at extra")
_LC = tio.load_checkpoint
bad("io.load_checkpoint", "path", "None", lambda: _LC(None), TypeError, r"tinynet.load: path must be a file path or a readable binary file, got NoneType")
bad("io.load_checkpoint", "path", "empty file", lambda: _LC(io.BytesIO(b"")), tio.CheckpointError, r"tinynet.load: <BytesIO> is empty \(0 bytes\)")


def _plain_save() -> io.BytesIO:
    buf = io.BytesIO()
    tinynet.save({"model": {}}, buf)
    buf.seek(0)
    return buf


bad("io.load_checkpoint", "path", "a tinynet.save file", lambda: _LC(_plain_save()), tio.CheckpointError, r"load_checkpoint: <BytesIO> was not written by tinynet.io.save_checkpoint")
bad("io.load_checkpoint", "model", "str", lambda: _LC(io.BytesIO(_ckpt_bytes(epoch=1)), model="m"), TypeError, r"load_checkpoint: model must have a load_state_dict\(\) method, got str")
bad("io.load_checkpoint", "model", "other architecture", lambda: _LC(io.BytesIO(_ckpt_bytes(model=nn.Linear(2, 2))), model=nn.Linear(3, 2)), RuntimeError, r"size mismatch for weight: copying a param with shape \(2, 2\) from checkpoint, the shape in current model is \(2, 3\)")
bad("io.load_checkpoint", "optimizer", "absent from the file", lambda: _LC(io.BytesIO(_ckpt_bytes(epoch=1)), optimizer=_sgd()), tio.CheckpointError, r"load_checkpoint: <BytesIO> holds no optimizer state, but a optimizer was passed")
bad("io.load_checkpoint", "scheduler", "int", lambda: _LC(io.BytesIO(_ckpt_bytes(epoch=1)), scheduler=3), TypeError, r"load_checkpoint: scheduler must have a load_state_dict\(\) method, got int")
bad("io.load_checkpoint", "dataloader", "absent from the file", lambda: _LC(io.BytesIO(_ckpt_bytes(epoch=1)), dataloader=_DL(_ds())), tio.CheckpointError, r"load_checkpoint: <BytesIO> holds no state for dataloader\(s\) \['dataloader'\]")
bad("io.load_checkpoint", "strict", "str", lambda: _LC(io.BytesIO(_ckpt_bytes(epoch=1)), strict="no"), TypeError, r"load_checkpoint: strict must be a bool, got 'no'")
bad("io.load_checkpoint", "restore_rng", "None", lambda: _LC(io.BytesIO(_ckpt_bytes(epoch=1)), restore_rng=None), TypeError, r"load_checkpoint: restore_rng must be a bool, got None")
bad("io.set_rng_states", "states", "str", lambda: tio.set_rng_states("s"), TypeError, r"set_rng_states: states must be a dict from get_rng_states\(\), got str")
bad("io.set_rng_states", "states", "unknown key", lambda: tio.set_rng_states({"torch": {}}), ValueError, r"set_rng_states: unknown generator\(s\) \['torch'\]")


# ---------------------------------------------------------------------------- metrics, testing, summary, models
_lab = lambda: np.array([0, 1, 2])  # noqa: E731
bad("metrics.confusion_matrix", "pred", "floats", lambda: metrics.confusion_matrix(_lab() + 0.5, _lab(), 3), TypeError, r"metrics: pred must hold integer class labels, got dtype float64")
bad("metrics.confusion_matrix", "pred", "out of range", lambda: metrics.confusion_matrix(np.array([0, 1, 5]), _lab(), 3), ValueError, r"confusion_matrix: pred holds labels outside \[0, 2\] \(min 0, max 5\)")
bad("metrics.confusion_matrix", "target", "negative", lambda: metrics.confusion_matrix(_lab(), np.array([0, -1, 2]), 3), ValueError, r"confusion_matrix: target holds labels outside \[0, 2\] \(min -1, max 2\)")
bad("metrics.confusion_matrix", "target", "size", lambda: metrics.confusion_matrix(_lab(), np.array([0, 1]), 3), ValueError, r"confusion_matrix: pred has 3 elements but target has 2")
bad("metrics.confusion_matrix", "num_classes", "zero", lambda: metrics.confusion_matrix(_lab(), _lab(), 0), ValueError, r"confusion_matrix: num_classes must be a positive int, got 0")
bad("metrics.confusion_matrix", "ignore_index", "float", lambda: metrics.confusion_matrix(_lab(), _lab(), 3, ignore_index=1.5), TypeError, r"confusion_matrix: ignore_index must be an int or None, got 1.5")
for _fn in ("pixel_accuracy", "per_class_iou", "mean_iou"):
    bad(f"metrics.{_fn}", "cm", "1-D", lambda _fn=_fn: getattr(metrics, _fn)(np.ones(3)), ValueError, rf"{_fn}: cm must be a square 2-D array of counts, got shape \(3,\)")
    bad(f"metrics.{_fn}", "cm", "str", lambda _fn=_fn: getattr(metrics, _fn)("cm"), TypeError, rf"{_fn}: cm must be a confusion matrix \(a numpy array\), got str")
    bad(f"metrics.{_fn}", "cm", "negative counts", lambda _fn=_fn: getattr(metrics, _fn)(-np.ones((2, 2))), ValueError, rf"{_fn}: cm holds negative counts")
bad("metrics.SegmentationMetrics", "num_classes", "zero", lambda: metrics.SegmentationMetrics(0), ValueError, r"SegmentationMetrics: num_classes must be a positive int, got 0")
bad("metrics.SegmentationMetrics", "ignore_index", "str", lambda: metrics.SegmentationMetrics(3, ignore_index="x"), TypeError, r"SegmentationMetrics: ignore_index must be an int or None, got 'x'")
bad("metrics.SegmentationMetrics.update", "target", "out of range", lambda: metrics.SegmentationMetrics(3).update(_lab(), np.array([9, 9, 9])), ValueError, r"confusion_matrix: target holds labels outside \[0, 2\] \(min 9, max 9\)")

_x64 = lambda: t(2, dtype=np.float64).requires_grad_()  # noqa: E731
_gc = lambda: dict(fn=lambda a: a * 2, inputs=[_x64()])  # noqa: E731
bad("testing.gradcheck", "fn", "str", with_arg(testing.gradcheck, _gc, "fn", "f"), TypeError, r"gradcheck: fn must be callable, got 'f'")
bad("testing.gradcheck", "inputs", "float32", with_arg(testing.gradcheck, _gc, "inputs", [t(2).requires_grad_()]), ValueError, r"gradcheck: input 0 has dtype float32; finite differences need float64 inputs")
bad("testing.gradcheck", "inputs", "nothing requires grad", with_arg(testing.gradcheck, _gc, "inputs", [t(2, dtype=np.float64)]), ValueError, r"gradcheck: no input has requires_grad=True, so there is nothing to check")
bad("testing.gradcheck", "inputs", "str", with_arg(testing.gradcheck, _gc, "inputs", "x"), TypeError, r"gradcheck: inputs must be a Tensor or a sequence of Tensors, got str")
bad("testing.gradcheck", "eps", "zero", with_arg(testing.gradcheck, _gc, "eps", 0), ValueError, r"gradcheck: eps must be a finite number > 0, got 0")
bad("testing.gradcheck", "atol", "negative", with_arg(testing.gradcheck, _gc, "atol", -1e-5), ValueError, r"gradcheck: atol must be a finite number >= 0, got -1e-05")
bad("testing.gradcheck", "rtol", "str", with_arg(testing.gradcheck, _gc, "rtol", "1e-3"), ValueError, r"gradcheck: rtol must be a finite number >= 0, got '1e-3'")
bad("testing.gradcheck", "seed", "negative", with_arg(testing.gradcheck, _gc, "seed", -1), ValueError, r"gradcheck: seed must be a non-negative int, got -1")
_ggc = lambda: dict(fn=lambda a: a * a, inputs=[_x64()])  # noqa: E731
bad("testing.gradgradcheck", "fn", "str", with_arg(testing.gradgradcheck, _ggc, "fn", "f"), TypeError, r"gradgradcheck: fn must be callable, got 'f'")
bad("testing.gradgradcheck", "inputs", "float32", with_arg(testing.gradgradcheck, _ggc, "inputs", [t(2).requires_grad_()]), ValueError, r"gradgradcheck: input 0 has dtype float32; finite differences need float64 inputs")
bad("testing.gradgradcheck", "inputs", "nothing requires grad", with_arg(testing.gradgradcheck, _ggc, "inputs", [t(2, dtype=np.float64)]), ValueError, r"gradgradcheck: no input has requires_grad=True")
bad("testing.gradgradcheck", "inputs", "str", with_arg(testing.gradgradcheck, _ggc, "inputs", "x"), TypeError, r"gradgradcheck: inputs must be a Tensor or a sequence of Tensors, got str")
bad("testing.gradgradcheck", "grad_outputs", "wrong shape", with_arg(testing.gradgradcheck, _ggc, "grad_outputs", [t(3, dtype=np.float64)]), ValueError, r"gradgradcheck: grad_outputs must be one Tensor per differentiable output, shapes \[\(2,\)\], got \[\(3,\)\]")
bad("testing.gradgradcheck", "grad_outputs", "str", with_arg(testing.gradgradcheck, _ggc, "grad_outputs", "v"), TypeError, r"gradgradcheck: grad_outputs must be a Tensor, a sequence of Tensors or None, got str")
bad("testing.gradgradcheck", "eps", "zero", with_arg(testing.gradgradcheck, _ggc, "eps", 0), ValueError, r"gradgradcheck: eps must be a finite number > 0, got 0")
bad("testing.gradgradcheck", "atol", "negative", with_arg(testing.gradgradcheck, _ggc, "atol", -1e-5), ValueError, r"gradgradcheck: atol must be a finite number >= 0, got -1e-05")
bad("testing.gradgradcheck", "rtol", "str", with_arg(testing.gradgradcheck, _ggc, "rtol", "1e-3"), ValueError, r"gradgradcheck: rtol must be a finite number >= 0, got '1e-3'")
bad("testing.gradgradcheck", "seed", "negative", with_arg(testing.gradgradcheck, _ggc, "seed", -1), ValueError, r"gradgradcheck: seed must be a non-negative int, got -1")
_gr = lambda: dict(outputs=(_x64() * 2).sum(), inputs=[_x64()], allow_unused=True)  # noqa: E731
bad("autograd.grad", "outputs", "str", with_arg(tinynet.autograd.grad, _gr, "outputs", "y"), TypeError, r"grad: outputs must be a Tensor or a sequence of Tensors, got 'y'")
bad("autograd.grad", "outputs", "no grad_fn", with_arg(tinynet.autograd.grad, _gr, "outputs", t(1)), RuntimeError, r"grad: output 0 does not require grad and does not have a grad_fn")
bad("autograd.grad", "inputs", "no requires_grad", with_arg(tinynet.autograd.grad, _gr, "inputs", t(2)), RuntimeError, r"grad: input 0 \(shape \(2,\)\) does not require grad")
bad("autograd.grad", "inputs", "empty", with_arg(tinynet.autograd.grad, _gr, "inputs", []), RuntimeError, r"grad: inputs must not be empty")
bad("autograd.grad", "grad_outputs", "wrong shape", with_arg(tinynet.autograd.grad, _gr, "grad_outputs", t(3)), RuntimeError, r"grad: grad_outputs\[0\] has shape \(3,\) but output 0 has shape \(\)")
bad("autograd.grad", "grad_outputs", "str", with_arg(tinynet.autograd.grad, _gr, "grad_outputs", "g"), TypeError, r"grad: grad_outputs\[0\] must be a Tensor \(or None\), got str")
bad("autograd.grad", "allow_unused", "unused input", with_arg(tinynet.autograd.grad, _gr, "allow_unused", False), RuntimeError, r"grad: input 0 \(shape \(2,\)\) appears not to have been used in the graph; set allow_unused=True")
_ac = lambda: dict(fn=lambda a: a * 2, input_shape=(2,))  # noqa: E731
bad("testing.adjoint_check", "fn", "None", with_arg(testing.adjoint_check, _ac, "fn", None), TypeError, r"adjoint_check: fn must be callable, got None")
bad("testing.adjoint_check", "input_shape", "negative", with_arg(testing.adjoint_check, _ac, "input_shape", (-1,)), ValueError, r"adjoint_check: input_shape must be a tuple of non-negative ints, got \(-1,\)")
bad("testing.adjoint_check", "adjoint", "str", with_arg(testing.adjoint_check, _ac, "adjoint", "A*"), TypeError, r"adjoint_check: adjoint must be callable, got 'A\*'")
bad("testing.adjoint_check", "trials", "zero", with_arg(testing.adjoint_check, _ac, "trials", 0), ValueError, r"adjoint_check: trials must be a positive int \(0 trials would check nothing\), got 0")
bad("testing.adjoint_check", "rtol", "negative", with_arg(testing.adjoint_check, _ac, "rtol", -1.0), ValueError, r"adjoint_check: rtol must be a finite number > 0, got -1.0")
bad("testing.adjoint_check", "seed", "str", with_arg(testing.adjoint_check, _ac, "seed", "0"), ValueError, r"adjoint_check: seed must be a non-negative int, got '0'")
_om = lambda: dict(fn=lambda a: a * 2, input_shape=(2,))  # noqa: E731
bad("testing.operator_matrix", "fn", "int", with_arg(testing.operator_matrix, _om, "fn", 3), TypeError, r"operator_matrix: fn must be callable, got 3")
bad("testing.operator_matrix", "input_shape", "str", with_arg(testing.operator_matrix, _om, "input_shape", "2"), ValueError, r"operator_matrix: input_shape must be a tuple of non-negative ints, got '2'")
bad("testing.operator_matrix", "dtype", "integer", with_arg(testing.operator_matrix, _om, "dtype", np.int64), TypeError, r"operator_matrix: dtype must be a floating-point dtype, got int64")

_sm = lambda: dict(model=nn.Linear(2, 3), input_size=(1, 2))  # noqa: E731
_SM = tinynet.summary
bad("tinynet.summary", "model", "str", with_arg(_SM, _sm, "model", "net"), TypeError, r"summary: model must be a tinynet.nn.Module, got str")
bad("tinynet.summary", "input_size", "str", with_arg(_SM, _sm, "input_size", "1x2"), TypeError, r"summary: input_size must be a shape like \(1, 3, 32, 32\) or a list of shapes, got '1x2'")
bad("tinynet.summary", "input_size", "negative", with_arg(_SM, _sm, "input_size", (1, -2)), TypeError, r"summary: input_size entries must be tuples of non-negative ints, got \(1, -2\)")
bad("tinynet.summary", "input_size", "wrong features", with_arg(_SM, _sm, "input_size", (1, 5)), RuntimeError, r"linear: input has 5 features")
bad("tinynet.summary", "input_data", "with input_size", with_arg(_SM, _sm, "input_data", t(1, 2)), ValueError, r"summary: give exactly one of input_size and input_data")
bad("tinynet.summary", "input_data", "str", lambda: _SM(nn.Linear(2, 3), input_data="x"), TypeError, r"summary: input_data\[0\] must be a Tensor or numpy array, got str")
bad("tinynet.summary", "dtype", "unknown word", with_arg(_SM, _sm, "dtype", "float-ish"), TypeError, r"summary: dtype must be a dtype such as tinynet.float32, got 'float-ish'")
bad("tinynet.summary", "depth", "negative", with_arg(_SM, _sm, "depth", -1), ValueError, r"summary: depth must be a non-negative int, got -1")
bad("tinynet.summary", "mode", "unknown word", with_arg(_SM, _sm, "mode", "test"), ValueError, r"summary: mode must be 'eval', 'train' or 'same', got 'test'")
bad("tinynet.summary", "show_start", "str", with_arg(_SM, _sm, "show_start", "yes"), TypeError, r"summary: show_start must be a bool, got 'yes'")

_ed = lambda: dict(in_channels=3, num_classes=4, widths=(4, 4, 4), upsample="nearest", rates=(1, 2))  # noqa: E731
_ED = models.EncoderDecoder
bad("models.EncoderDecoder", "in_channels", "zero", with_arg(_ED, _ed, "in_channels", 0), ValueError, r"Conv2d: in_channels must be a positive int, got 0")
bad("models.EncoderDecoder", "num_classes", "negative", with_arg(_ED, _ed, "num_classes", -1), ValueError, r"Conv2d: out_channels must be a positive int, got -1")
bad("models.EncoderDecoder", "widths", "two widths", with_arg(_ED, _ed, "widths", (4, 8)), ValueError, r"EncoderDecoder: widths must be three positive ints, got \(4, 8\)")
bad("models.EncoderDecoder", "upsample", "unknown word", with_arg(_ED, _ed, "upsample", "deconv"), ValueError, r"EncoderDecoder: upsample must be one of \('transposed', 'nearest', 'bilinear', 'bed_of_nails', 'unpool'\), got 'deconv'")
bad("models.EncoderDecoder", "rates", "zero", with_arg(_ED, _ed, "rates", (0,)), ValueError, r"AtrousPyramid: every rate must be a positive int, got 0")
bad("models.EncoderDecoder.forward", "input", "size not divisible by 8", lambda: _ED(**_ed())(t(1, 3, 12, 12)), ValueError, r"EncoderDecoder: expected input \(N, C, H, W\) with H and W divisible by 8, got shape \(1, 3, 12, 12\)")
bad("models.EncoderDecoder.forward", "input", "channels", lambda: _ED(**_ed())(t(1, 4, 16, 16)), ValueError, r"conv2d: input has 4 channels but weight expects 3")
bad("models.EncoderDecoder.forward", "input", "str", lambda: _ED(**_ed())("image"), TypeError, r"EncoderDecoder: input must be a Tensor, got str")


# fmt: on

# ============================================================================ coverage of the public API
_INPLACE = "accepted for PyTorch's signature and ignored: tinynet always returns a new tensor, so no value is wrong"
_DEPRECATED = "PyTorch's deprecated spelling of reduction: any value is read as a truth value, with PyTorch's warning"
EXEMPT = {
    ("autograd.grad", "retain_graph"): "any value: truthy keeps the graph, as in PyTorch",
    ("autograd.grad", "create_graph"): "any value: truthy records the backward, as in PyTorch",
    # whole callables: nothing they take can be wrong
    "tinynet.no_grad": "takes no arguments (or, as a decorator, the function)",
    "tinynet.enable_grad": "takes no arguments (or, as a decorator, the function)",
    "tinynet.is_grad_enabled": "takes no arguments",
    "tinynet.seed": "takes no arguments",
    "tinynet.get_rng_state": "takes no arguments",
    "io.get_rng_states": "takes no arguments",
    "nn.Module": "takes no arguments",
    "nn.Identity": "ignores its arguments, as PyTorch's",
    "nn.Sigmoid": "takes no arguments",
    "nn.Tanh": "takes no arguments",
    "data.Dataset": "an abstract base class without arguments",
    "data.IterableDataset": "an abstract base class without arguments",
    "data.Sampler": "an abstract base class without arguments",
    "data.default_convert": "converts what it knows and passes anything else through unchanged, as PyTorch's",
    # single arguments
    ("F.relu", "inplace"): _INPLACE,
    ("F.leaky_relu", "inplace"): _INPLACE,
    ("F.dropout", "inplace"): _INPLACE,
    ("F.dropout2d", "inplace"): _INPLACE,
    ("nn.ReLU", "inplace"): _INPLACE,
    ("nn.LeakyReLU", "inplace"): _INPLACE,
    ("nn.Dropout", "inplace"): _INPLACE,
    ("nn.Dropout2d", "inplace"): _INPLACE,
    (
        "data.DataLoader",
        "pin_memory",
    ): "accepted for PyTorch's signature; tinynet runs on the CPU and has no pinned memory",
}
for _op in ("F.cross_entropy", "F.nll_loss", "F.binary_cross_entropy_with_logits", "F.mse_loss", "F.l1_loss"):
    EXEMPT[(_op, "size_average")] = EXEMPT[(_op, "reduce")] = _DEPRECATED
for _op in ("nn.CrossEntropyLoss", "nn.NLLLoss", "nn.BCEWithLogitsLoss", "nn.MSELoss", "nn.L1Loss"):
    EXEMPT[(_op, "size_average")] = EXEMPT[(_op, "reduce")] = _DEPRECATED

_NAMESPACES = [
    ("tinynet", tinynet, tinynet.__all__),
    ("F", F, F.__all__),
    ("nn", nn, [n for n in dir(nn) if not n.startswith("_")]),
    ("init", init, init.__all__),
    ("optim", optim, optim.__all__),
    ("lr_scheduler", lr_scheduler, lr_scheduler.__all__),
    ("data", data, data.__all__),
    ("datasets", datasets, datasets.__all__),
    ("io", tio, tio.__all__),
    ("metrics", metrics, metrics.__all__),
    ("testing", testing, testing.__all__),
    ("autograd", tinynet.autograd, ["grad"]),
    ("models", models, models.__all__),
    ("tinynet", tinynet.summary, ["summary"]),  # the function tinynet.summary.summary (tinynet.summary is its module)
]


def public_callables() -> dict:
    """Qualified name -> object for every public function and class (first name wins for re-exports)."""
    out, seen = {}, set()
    for prefix, ns, names in _NAMESPACES:
        for name in names:
            obj = getattr(ns, name)
            if isinstance(obj, types.ModuleType) or not callable(obj) or id(obj) in seen:
                continue
            if isinstance(obj, type) and (issubclass(obj, (BaseException, np.generic))):
                continue  # exception classes and dtypes (tinynet.float32 ...) are not operations
            seen.add(id(obj))
            out[f"{prefix}.{name}"] = obj
    return out


def _arguments(obj) -> list:
    sig = inspect.signature(obj)
    return [p.name for p in sig.parameters.values() if p.name != "self"]


def test_every_public_callable_has_bad_calls_in_the_table():
    """Covered: rows in the table, or a reason in EXEMPT for the callable or for each of its arguments."""
    missing = [
        name
        for name, obj in public_callables().items()
        if name not in COUNTS and name not in EXEMPT and not all((name, a) in EXEMPT for a in _arguments(obj))
    ]
    assert not missing, f"public callables without a bad call in the table (add rows or an EXEMPT reason): {missing}"


def test_every_argument_of_every_public_callable_has_a_bad_call():
    missing = []
    for name, obj in public_callables().items():
        if name in EXEMPT:
            continue
        for arg in _arguments(obj):
            if arg not in ARGS[name] and (name, arg) not in EXEMPT:
                missing.append(f"{name}({arg})")
    assert not missing, f"arguments without a bad call (add rows or an EXEMPT reason): {missing}"


def test_exemptions_name_real_callables_and_arguments():
    api = public_callables()
    for key in EXEMPT:
        name, arg = key if isinstance(key, tuple) else (key, None)
        assert name in api, f"EXEMPT names {name}, which is not a public callable"
        if arg is not None:
            assert arg in _arguments(api[name]), f"EXEMPT names argument {arg} of {name}, which has no such argument"


def bad_call_counts() -> dict:
    """Number of bad calls in the table per op (printed by running this file as a script)."""
    return dict(sorted(COUNTS.items()))


# ============================================================================ running the table
def _kernel_functions() -> list:
    """(module, name) of every Numba kernel in tinynet/kernels and of every module that imported one by name."""
    import tinynet.kernels as kernels_pkg

    found = {}
    for mod_name, mod in list(sys.modules.items()):
        if mod is None or not mod_name.startswith("tinynet.kernels."):
            continue
        for obj in vars(mod).values():
            if hasattr(obj, "py_func") or hasattr(getattr(obj, "kernel", None), "py_func"):
                found[id(obj)] = obj
    assert found, f"no Numba kernels found under {kernels_pkg.__name__}"
    places = []
    for mod_name, mod in list(sys.modules.items()):
        if mod is None or not mod_name.startswith("tinynet"):
            continue
        for name, obj in list(vars(mod).items()):
            if id(obj) in found:
                places.append((mod, name))
    return places


@pytest.fixture
def kernels_trip(monkeypatch):
    """Replace every Numba kernel by a tripwire: a bad call must be refused before any kernel runs."""

    def tripwire(*args, **kwargs):
        raise AssertionError("a kernel ran before the arguments were checked")

    for mod, name in _kernel_functions():
        monkeypatch.setattr(mod, name, tripwire)


@pytest.mark.parametrize("call, error, match", ROWS)
def test_bad_call_is_refused_before_any_kernel_with_a_message_naming_it(kernels_trip, call, error, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's deprecation warnings are not the point here
        with pytest.raises(error, match=match):
            call()


# ============================================================================ empty batches
def _empty(*shape, dtype=np.float32):
    return np.zeros(shape, dtype)


# name -> (lambda module, functional, make: the op on an empty batch); ``make`` turns an array into a tensor
EMPTY_OPS = {
    "conv2d": lambda f, m: f.conv2d(m(_empty(0, 3, 5, 5)), m(_empty(4, 3, 3, 3)), m(_empty(4)), padding=1),
    "conv1d": lambda f, m: f.conv1d(m(_empty(0, 3, 5)), m(_empty(4, 3, 3))),
    "conv_transpose2d": lambda f, m: f.conv_transpose2d(m(_empty(0, 3, 5, 5)), m(_empty(3, 4, 3, 3)), stride=2),
    "conv_transpose1d": lambda f, m: f.conv_transpose1d(m(_empty(0, 3, 5)), m(_empty(3, 4, 3)), stride=2),
    "max_pool2d": lambda f, m: f.max_pool2d(m(_empty(0, 3, 4, 4)), 2),
    "avg_pool2d": lambda f, m: f.avg_pool2d(m(_empty(0, 3, 4, 4)), 2, padding=1),
    "adaptive_avg_pool2d": lambda f, m: f.adaptive_avg_pool2d(m(_empty(0, 3, 5, 5)), 2),
    "max_unpool2d": lambda f, m: f.max_unpool2d(m(_empty(0, 3, 2, 2)), m(_empty(0, 3, 2, 2, dtype=np.int64)), 2),
    "interpolate-nearest": lambda f, m: f.interpolate(m(_empty(0, 3, 4, 4)), scale_factor=2),
    "interpolate-nearest-exact": lambda f, m: f.interpolate(m(_empty(0, 3, 4, 4)), size=7, mode="nearest-exact"),
    "interpolate-bilinear": lambda f, m: f.interpolate(m(_empty(0, 3, 4, 4)), scale_factor=2, mode="bilinear"),
    "interpolate-linear": lambda f, m: f.interpolate(m(_empty(0, 3, 4)), size=9, mode="linear", align_corners=True),
    "interpolate-area": lambda f, m: f.interpolate(m(_empty(0, 3, 4, 4)), size=3, mode="area"),
    "pixel_shuffle": lambda f, m: f.pixel_shuffle(m(_empty(0, 4, 2, 2)), 2),
    "pixel_unshuffle": lambda f, m: f.pixel_unshuffle(m(_empty(0, 1, 4, 4)), 2),
    "relu": lambda f, m: f.relu(m(_empty(0, 3))),
    "leaky_relu": lambda f, m: f.leaky_relu(m(_empty(0, 3)), 0.1),
    "sigmoid": lambda f, m: f.sigmoid(m(_empty(0, 3))),
    "tanh": lambda f, m: f.tanh(m(_empty(0, 3))),
    "softmax": lambda f, m: f.softmax(m(_empty(0, 3)), dim=1),
    "softmax over an empty dim": lambda f, m: f.softmax(m(_empty(2, 0)), dim=1),
    "log_softmax": lambda f, m: f.log_softmax(m(_empty(0, 3)), dim=1),
    "linear": lambda f, m: f.linear(m(_empty(0, 3)), m(_empty(4, 3)), m(_empty(4))),
    "dropout": lambda f, m: f.dropout(m(_empty(0, 3)), 0.5),
    "dropout2d": lambda f, m: f.dropout2d(m(_empty(0, 3, 2, 2)), 0.5),
    "batch_norm-train": lambda f, m: f.batch_norm(
        m(_empty(0, 3, 2, 2)), m(_empty(3)), m(np.ones(3, np.float32)), training=True
    ),
    "batch_norm-eval": lambda f, m: f.batch_norm(m(_empty(0, 3, 2, 2)), m(_empty(3)), m(np.ones(3, np.float32))),
    "cross_entropy-mean": lambda f, m: f.cross_entropy(m(_empty(0, 3)), m(_empty(0, dtype=np.int64))),
    "cross_entropy-sum-map": lambda f, m: f.cross_entropy(
        m(_empty(0, 3, 2, 2)), m(_empty(0, 2, 2, dtype=np.int64)), reduction="sum"
    ),
    "cross_entropy-none-smoothing": lambda f, m: f.cross_entropy(
        m(_empty(0, 3, 2, 2)), m(_empty(0, 2, 2, dtype=np.int64)), reduction="none", label_smoothing=0.1
    ),
    "cross_entropy-probabilities": lambda f, m: f.cross_entropy(m(_empty(0, 3)), m(_empty(0, 3)), reduction="sum"),
    "nll_loss": lambda f, m: f.nll_loss(m(_empty(0, 3)), m(_empty(0, dtype=np.int64)), reduction="sum"),
    "binary_cross_entropy_with_logits": lambda f, m: f.binary_cross_entropy_with_logits(
        m(_empty(0, 3)), m(_empty(0, 3))
    ),
    "mse_loss": lambda f, m: f.mse_loss(m(_empty(0, 3)), m(_empty(0, 3)), reduction="sum"),
    "l1_loss": lambda f, m: f.l1_loss(m(_empty(0, 3)), m(_empty(0, 3))),
}


@pytest.mark.parametrize("name", sorted(EMPTY_OPS))
def test_empty_batch_gives_what_pytorch_gives(torch, name):
    """Forward and backward on an empty batch: the same output (shape, and value for reductions) and grad shapes."""
    import torch.nn.functional as TF

    def to_torch(a):
        x = torch.from_numpy(a.copy())
        return x.requires_grad_() if x.is_floating_point() else x

    def to_tinynet(a):
        x = tinynet.tensor(a)
        return x.requires_grad_() if a.dtype.kind == "f" else x

    made_t, made_n = [], []
    expected = EMPTY_OPS[name](TF, lambda a: made_t.append(to_torch(a)) or made_t[-1])
    got = EMPTY_OPS[name](F, lambda a: made_n.append(to_tinynet(a)) or made_n[-1])
    if name == "pixel_unshuffle":  # torch 2.13 returns an empty (0, 1, 4, 4) input unchanged: the formula is the oracle
        expected = torch.zeros(0, 4, 2, 2)
    assert got.shape == tuple(expected.shape) and got.dtype == np.float32
    np.testing.assert_array_equal(got.detach().numpy(), expected.detach().numpy())  # nan == nan here
    if expected.requires_grad and name != "pixel_shuffle":  # torch 2.13's pixel_shuffle backward fails here
        expected.sum().backward()
    got.sum().backward()
    for x_t, x_n in zip(made_t, made_n):
        if x_t.grad is not None:  # (running statistics get no gradient on either side)
            assert x_n.grad is not None and x_n.grad.shape == x_n.shape
            np.testing.assert_array_equal(x_n.grad.numpy(), x_t.grad.numpy())


def test_empty_batch_through_tinynet_only_ops():
    x = t(0, 3, 4, 4).requires_grad_()
    target = ti(0, 4, 4)
    assert F.convolve2d(x, t(2, 3, 3, 3)).shape == (0, 2, 2, 2)
    assert F.interpolate(x, scale_factor=2, mode="bed_of_nails").shape == (0, 3, 8, 8)
    assert F.max_pool2d(x, 2, return_indices=True)[1].shape == (0, 3, 2, 2)
    assert np.isnan(F.dice_loss(x, target).item())  # a mean over no (sample, class) pairs, like PyTorch's means
    loss = F.dice_loss(x, target, reduction="sum")
    assert loss.item() == 0.0
    loss.backward()
    assert x.grad.shape == x.shape


def test_empty_batch_through_layers_and_the_example_model():
    bn = nn.BatchNorm2d(3)
    before = bn.running_mean.numpy().copy(), bn.running_var.numpy().copy()
    assert bn(t(0, 3, 4, 4)).shape == (0, 3, 4, 4)
    np.testing.assert_array_equal(bn.running_mean.numpy(), before[0])  # nothing to average: unchanged, as PyTorch
    np.testing.assert_array_equal(bn.running_var.numpy(), before[1])
    tinynet.manual_seed(0)
    model = models.EncoderDecoder(widths=(4, 4, 4), upsample="unpool")
    x = t(0, 3, 16, 16)
    y = model(x)
    assert y.shape == (0, 4, 16, 16)
    loss = F.cross_entropy(y, ti(0, 16, 16), reduction="sum")
    loss.backward()
    assert all(p.grad is not None and not p.grad.numpy().any() for p in model.parameters())


if __name__ == "__main__":  # python tests/test_bad_arguments.py: the number of bad calls tested per op
    counts = bad_call_counts()
    width = max(map(len, counts))
    for op, n in counts.items():
        print(f"{op:<{width}}  {n}")
    print(f"{'total':<{width}}  {sum(counts.values())} bad calls over {len(counts)} ops")
