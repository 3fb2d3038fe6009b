"""Creation functions: ``tensor``, ``zeros``, ``ones``, ``full``, ``arange``, random tensors, ``cat``, ``stack``,
``where`` and ``from_numpy``.

dtype defaults are PyTorch's: Python floats give float32, ints int64, bools bool; numpy data keeps its dtype.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from tinynet import tensor_functions
from tinynet._dtypes import _as_dtype, _promote, _promote_pair
from tinynet.random import resolve_generator
from tinynet.tensor import Tensor, _check_broadcast, _one_dim, _shape_arg


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """Make a Tensor from data (copied). Python floats give float32, ints int64.

    Example:
        >>> import tinynet
        >>> tinynet.tensor([1, 2, 3]).dtype
        dtype('int64')
        >>> tinynet.tensor([1.0, 2.0]).dtype
        dtype('float32')
        >>> tinynet.tensor([0.1], dtype=tinynet.float64).item() == 0.1  # no detour through float32
        True
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def _size_args(size) -> tuple:
    shape = _shape_arg(size)
    if any(n < 0 for n in shape):
        raise ValueError(f"sizes must be non-negative, got {shape}")
    return shape


def zeros(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros (float32 unless ``dtype`` says otherwise).

    Args:
        *size: the shape, as separate ints or one tuple/list.
        dtype: the dtype (default float32).
        requires_grad: make it a leaf that records operations.

    Example:
        >>> import tinynet
        >>> tinynet.zeros(2, 3).shape, tinynet.zeros((2,), dtype=tinynet.int64)
        ((2, 3), tensor([0, 0]))
    """
    t = Tensor._wrap(np.zeros(_size_args(size), dtype=_as_dtype(dtype) or np.float32))
    return t.requires_grad_(requires_grad) if requires_grad else t


def ones(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones (float32 unless ``dtype`` says otherwise); arguments as ``zeros``.

    Example:
        >>> import tinynet
        >>> tinynet.ones(3)
        tensor([1., 1., 1.])
    """
    t = Tensor._wrap(np.ones(_size_args(size), dtype=_as_dtype(dtype) or np.float32))
    return t.requires_grad_(requires_grad) if requires_grad else t


def full(size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value``.

    Args:
        size: an int or a tuple of ints.
        fill_value: the value; without ``dtype`` a float gives float32, an int int64, a bool bool.
        dtype, requires_grad: as ``zeros``.

    Example:
        >>> import tinynet
        >>> tinynet.full((2,), 7), tinynet.full((2,), 0.5)
        (tensor([7, 7]), tensor([0.5, 0.5]))
    """
    if dtype is None:
        dtype = np.bool_ if isinstance(fill_value, bool) else np.int64 if isinstance(fill_value, int) else np.float32
    if not isinstance(fill_value, (bool, int, float, np.number, np.bool_)):
        raise TypeError(f"full(): fill_value must be a number, got {fill_value!r}")
    t = Tensor._wrap(
        np.full(_size_args(size if isinstance(size, (tuple, list)) else (size,)), fill_value, dtype=_as_dtype(dtype))
    )
    return t.requires_grad_(requires_grad) if requires_grad else t


def zeros_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and, unless ``dtype`` is given, the dtype) of ``t``.

    Example:
        >>> import tinynet
        >>> tinynet.zeros_like(tinynet.arange(3))
        tensor([0, 0, 0])
    """
    if not isinstance(t, Tensor):
        raise TypeError(f"zeros_like(): input must be a Tensor, got {type(t).__name__}")
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and, unless ``dtype`` is given, the dtype) of ``t``.

    Example:
        >>> import tinynet
        >>> tinynet.ones_like(tinynet.zeros(2, dtype=tinynet.float64))
        tensor([1., 1.], dtype=tinynet.float64)
    """
    if not isinstance(t, Tensor):
        raise TypeError(f"ones_like(): input must be a Tensor, got {type(t).__name__}")
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """``[start, end)`` in steps; int64 for integer arguments, float32 otherwise.

    Example:
        >>> import tinynet
        >>> tinynet.arange(4)
        tensor([0, 1, 2, 3])
    """
    if end is None:
        start, end = 0, start
    for name, v in (("start", start), ("end", end), ("step", step)):
        if not isinstance(v, (int, float, np.integer, np.floating)) or isinstance(v, bool) or not np.isfinite(v):
            raise TypeError(f"arange(): {name} must be a finite number, got {v!r}")
    if step == 0:
        raise ValueError("arange(): step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"arange(): upper bound and lower bound inconsistent with step sign (start={start}, end={end}, step={step})"
        )
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else np.float32
    t = Tensor._wrap(np.arange(start, end, step).astype(_as_dtype(dtype)))
    return t.requires_grad_(requires_grad) if requires_grad else t


def rand(*size, dtype=None, requires_grad: bool = False, generator=None) -> Tensor:
    """Uniform samples in [0, 1) (float32 unless ``dtype`` says otherwise).

    Args:
        *size: the shape, as separate ints or one tuple.
        dtype, requires_grad: as ``zeros``.
        generator: a ``tinynet.Generator``; default the global one, seeded by ``tinynet.manual_seed``.

    Example:
        >>> import tinynet
        >>> _ = tinynet.manual_seed(0)
        >>> x = tinynet.rand(2, 3)
        >>> x.shape, bool(((x >= 0) & (x < 1)).all())
        ((2, 3), True)
    """
    g = resolve_generator(generator, "rand")
    t = Tensor._wrap(g.random(_size_args(size), dtype=np.float64).astype(_float_dtype(dtype, "rand")))
    return t.requires_grad_(requires_grad) if requires_grad else t


def randn(*size, dtype=None, requires_grad: bool = False, generator=None) -> Tensor:
    """Standard normal samples (mean 0, variance 1); arguments as ``rand``.

    Example:
        >>> import tinynet
        >>> _ = tinynet.manual_seed(0)
        >>> tinynet.randn(4, dtype=tinynet.float64).dtype
        dtype('float64')
    """
    g = resolve_generator(generator, "randn")
    t = Tensor._wrap(g.standard_normal(_size_args(size)).astype(_float_dtype(dtype, "randn")))
    return t.requires_grad_(requires_grad) if requires_grad else t


def _float_dtype(dtype, op: str):
    """The dtype of a random float tensor: float32 by default, an integer or bool dtype is an error."""
    dt = _as_dtype(dtype) or np.float32
    if np.dtype(dt).kind != "f":
        raise TypeError(f"{op}(): dtype must be a floating-point dtype, got {np.dtype(dt)}")
    return dt


def randint(low, high=None, size=(), dtype=None, generator=None) -> Tensor:
    """Integers in ``[low, high)`` (int64); ``randint(high, size)`` means ``low = 0``, as in PyTorch.

    Example:
        >>> import tinynet
        >>> _ = tinynet.manual_seed(0)
        >>> tinynet.randint(10, (2, 3)).shape
        (2, 3)
    """
    if isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    for name, v in (("low", low), ("high", high)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise TypeError(f"randint(): {name} must be an int, got {v!r}")
    if high <= low:
        raise ValueError(f"randint(): high ({high}) must be greater than low ({low})")
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): size must be a tuple of ints, got {size!r}")
    g = resolve_generator(generator, "randint")
    return Tensor._wrap(g.integers(low, high, size=_size_args(size)).astype(_as_dtype(dtype) or np.int64))


def randperm(n: int, generator=None) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64).

    Example:
        >>> import tinynet
        >>> sorted(tinynet.randperm(4).tolist())
        [0, 1, 2, 3]
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"randperm(): n must be an int, got {n!r}")
    if n < 0:
        raise RuntimeError(f"randperm(): n must be non-negative, got {n}")
    g = resolve_generator(generator, "randperm")
    return Tensor._wrap(g.permutation(int(n)).astype(np.int64))


def _tensor_list(tensors: Sequence, what: str) -> list:
    if isinstance(tensors, Tensor) or not len(tensors):
        raise ValueError(f"{what}() expects a non-empty sequence of tensors")
    return _promote(*(t if isinstance(t, Tensor) else Tensor(t) for t in tensors))


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Concatenate tensors along an existing dimension (differentiable; dtypes promoted as in PyTorch).

    Args:
        tensors: a non-empty sequence of tensors with equal sizes except in ``dim``.
        dim: the dimension to join along.

    Shape:
        sizes along ``dim`` add up: (2, 3) and (4, 3) along dim 0 give (6, 3).

    Example:
        >>> import tinynet
        >>> tinynet.cat([tinynet.zeros(2, 3), tinynet.ones(4, 3)]).shape
        (6, 3)
    """
    ts = _tensor_list(tensors, "cat")
    ndim = ts[0].ndim
    d = _one_dim(dim, ndim)
    for i, t in enumerate(ts):
        if t.ndim != ndim or t.shape[:d] + t.shape[d + 1 :] != ts[0].shape[:d] + ts[0].shape[d + 1 :]:
            raise ValueError(
                f"cat(): sizes of tensors must match except in dimension {dim}; tensor 0 has shape "
                f"{ts[0].shape} and tensor {i} has shape {t.shape}"
            )
    return tensor_functions.Cat.apply(d, *ts)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Stack tensors of one shape along a new dimension ``dim`` (differentiable).

    Shape:
        k tensors of shape S give shape S with k inserted at position ``dim``.

    Example:
        >>> import tinynet
        >>> tinynet.stack([tinynet.zeros(2, 3)] * 4, dim=1).shape
        (2, 4, 3)
    """
    ts = _tensor_list(tensors, "stack")
    for i, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise ValueError(
                f"stack(): all tensors must have the same shape; tensor 0 is {ts[0].shape}, tensor {i} is {t.shape}"
            )
    return tensor_functions.Stack.apply(_one_dim(dim, ts[0].ndim + 1), *ts)


def where(condition, input, other) -> Tensor:
    """``input`` where ``condition`` holds, else ``other``; differentiable in both.

    Args:
        condition: a bool tensor.
        input, other: tensors or numbers.

    Shape:
        condition, input and other broadcast together.

    Example:
        >>> import tinynet
        >>> x = tinynet.tensor([-1.0, 2.0])
        >>> tinynet.where(x > 0, x, 0.0)
        tensor([0., 2.])
    """
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where(): condition must be a bool tensor, got dtype {cond.dtype}")
    a = input if isinstance(input, Tensor) else Tensor(input)
    b = other if isinstance(other, Tensor) else Tensor(other)
    _check_broadcast(a.shape, b.shape, "where")
    _check_broadcast(cond.shape, np.broadcast_shapes(a.shape, b.shape), "where")
    a, b = _promote_pair(a, b)
    return tensor_functions.Where.apply(cond, a, b)


def from_numpy(array: np.ndarray) -> Tensor:
    """Wrap a numpy array without copying (shares memory, keeps the dtype).

    Example:
        >>> import numpy as np, tinynet
        >>> a = np.zeros(2)
        >>> t = tinynet.from_numpy(a)
        >>> a[0] = 5
        >>> t
        tensor([5., 0.], dtype=tinynet.float64)
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy() expects a numpy array, got {type(array).__name__}")
    if array.dtype.kind not in "fiub":
        raise TypeError(f"from_numpy(): unsupported dtype {array.dtype}")
    return Tensor._wrap(array)
