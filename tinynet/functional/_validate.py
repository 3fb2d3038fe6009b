"""Argument checks shared by the functional ops.

Every public op validates its arguments here, before any kernel runs, and the
error names the op, the argument and the value (docs/ARCHITECTURE.md, "validate at the edge").
"""

from __future__ import annotations

import numbers

import numpy as np

from tinynet.tensor import Tensor


def check_tensor(x, op: str, name: str, *, ndim=None, floating: bool = False) -> Tensor:
    """``x`` must be a Tensor (of rank ``ndim``, an int or a tuple of allowed ranks)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.ndim not in allowed:
            want = " or ".join(f"{n}-D" for n in allowed)
            raise ValueError(f"{op}: expected {name} to be {want}, got {x.ndim}-D with shape {tuple(x.shape)}")
    if floating and x.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be a floating-point tensor, got dtype {x.dtype}")
    return x


def int_tuple(value, n: int, op: str, name: str, *, minimum: int | None = None) -> tuple:
    """Expand an int or a length-``n`` sequence of ints to an n-tuple, checking each entry."""
    if isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if isinstance(value, numbers.Integral):
        out = (int(value),) * n
    elif (
        isinstance(value, (tuple, list))
        and len(value) == n
        and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value)
    ):
        out = tuple(int(v) for v in value)
    elif isinstance(value, (tuple, list)) and len(value) == 1 and isinstance(value[0], numbers.Integral):
        out = (int(value[0]),) * n
    else:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if minimum is not None and any(v < minimum for v in out):
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return out


def same_dtype(a: Tensor, b: Tensor, op: str, name_a: str, name_b: str) -> None:
    if a.dtype != b.dtype:
        raise TypeError(f"{op}: {name_a} ({a.dtype}) and {name_b} ({b.dtype}) must have the same dtype")


def as_float_array(x: Tensor) -> np.ndarray:
    return x.data
