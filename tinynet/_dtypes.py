"""dtypes and PyTorch's type promotion.

The dtypes are numpy's (``tinynet.float32`` is ``numpy.float32``). Promotion follows PyTorch: floats win over
integers and bools, then the wider type; a 0-d tensor counts like a Python number next to tensors with
dimensions (it decides the dtype only when it is of a higher category: bool < integer < float).
"""

from __future__ import annotations

import numpy as np

float32 = np.float32
float64 = np.float64
int64 = np.int64
int32 = np.int32
uint8 = np.uint8
bool_ = np.bool_

_DTYPE_ALIASES = {
    "float32": np.float32,
    "float": np.float32,
    "float64": np.float64,
    "double": np.float64,
    "int64": np.int64,
    "long": np.int64,
    "int32": np.int32,
    "int": np.int32,
    "uint8": np.uint8,
    "bool": np.bool_,
}


def _as_dtype(dtype):
    if dtype is None:
        return None
    if isinstance(dtype, str):
        if dtype not in _DTYPE_ALIASES:
            raise TypeError(f"unknown dtype {dtype!r}; use one of {sorted(_DTYPE_ALIASES)}")
        return np.dtype(_DTYPE_ALIASES[dtype])
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a numpy/tinynet dtype such as tinynet.float32, got {dtype!r}") from None
    if dt.kind not in "fiub":
        raise TypeError(f"unsupported dtype {dt}: tinynet tensors hold floats, integers or bools")
    return dt


def _result_dtype(dtypes) -> np.dtype:
    """PyTorch's type promotion between tensors: floats win over integers, then the wider type."""
    floats = [d for d in dtypes if d.kind == "f"]
    pool = floats or list(dtypes)
    out = pool[0]
    for d in pool[1:]:
        out = np.promote_types(out, d)
    return out


def _category(dtype: np.dtype) -> int:
    return 0 if dtype.kind == "b" else 1 if dtype.kind in "iu" else 2


def _promote(*tensors) -> list:
    """Cast tensors to their common dtype (see ``_result_dtype``).

    As in PyTorch, a 0-d tensor counts like a Python number next to tensors with
    dimensions: it decides the dtype only when it is of a higher category (bool <
    integer < float), so ``float32 tensor + float64 0-d tensor`` stays float32.
    """
    dims = [t.data.dtype for t in tensors if t.data.ndim]
    zero = [t.data.dtype for t in tensors if not t.data.ndim]
    pool = dims + zero
    if dims and zero:
        top = max(_category(d) for d in zero)
        pool = dims if max(_category(d) for d in dims) >= top else [d for d in zero if _category(d) == top]
    target = _result_dtype(pool)
    return [t.to(target) for t in tensors]


def _promote_pair(a, b):
    return tuple(_promote(a, b))
