"""``Tensor``: a numpy array plus its place on the tape, its operators, reductions, shapes and indexing.

The creation functions (``tensor``, ``zeros``, ...) live in ``tinynet/creation.py`` and dtype promotion in
``tinynet/_dtypes.py``; both are re-exported here. dtype rules (PyTorch's): Python floats become float32,
Python ints int64 and Python bools bool; a numpy array keeps its dtype (float64 stays float64).
Arithmetic promotes like PyTorch: float32 with a Python float stays float32, an
integer tensor with a float becomes float32, float32 with float64 gives float64.
"""

from __future__ import annotations

import math
import operator
import weakref
from collections import namedtuple

import numpy as np

from tinynet import tensor_functions
from tinynet._dtypes import (  # noqa: F401  (the dtypes and _as_dtype are re-exported: tinynet.tensor.float32 ...)
    _DTYPE_ALIASES,
    _as_dtype,
    _category,
    _promote,
    _promote_pair,
    _result_dtype,
    bool_,
    float32,
    float64,
    int32,
    int64,
    uint8,
)
from tinynet.autograd import RemovableHandle, is_grad_enabled, protect_saved_output, run_backward

MaxResult = namedtuple("MaxResult", ["values", "indices"])


def _to_array(data, dtype=None) -> np.ndarray:
    """Convert user data to an array with PyTorch's default dtypes."""
    dtype = _as_dtype(dtype)
    if isinstance(data, Tensor):
        arr = np.array(data.data, copy=True, order="C")
    elif isinstance(data, (np.ndarray, np.generic)):  # numpy data keeps its dtype, as in torch.tensor
        arr = np.array(data, copy=True, order="C")
    else:
        if isinstance(data, (str, bytes)):
            raise TypeError(f"tensor(): data must be numeric (a number, a nested list or an array), got {data!r}")
        try:
            arr = np.array(data)
        except (ValueError, TypeError) as e:
            raise TypeError(f"tensor(): could not convert {type(data).__name__} to a numeric array: {e}") from None
        if dtype is None:  # PyTorch's defaults; a requested dtype is applied once, below (no float32 detour)
            if arr.dtype.kind == "f":
                arr = arr.astype(np.float32)
            elif arr.dtype.kind in "iu" and arr.dtype != np.uint8:
                arr = arr.astype(np.int64)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"tensor(): data must be numeric (floats, ints or bools), got an array of dtype {arr.dtype}")
    if dtype is not None:
        arr = arr.astype(dtype)
    return arr


class Tensor:
    """A numpy array that records the operations applied to it.

    Args:
        data: a number, a (nested) sequence, a numpy array or a Tensor.
        requires_grad: record operations for ``backward()``; floats only.
        dtype: optional dtype (``tinynet.float32`` ...).

    Example:
        >>> import tinynet
        >>> x = tinynet.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        >>> y = (x * x).sum()
        >>> y.backward()
        >>> x.grad
        tensor([[2., 4.],
                [6., 8.]])
    """

    # _base, _views and _no_grad_view are set only on views and their bases (see autograd._wrap_output);
    # _hooks only on a leaf that register_hook was called on
    __slots__ = (
        "data",
        "grad",
        "_requires_grad",
        "_node",
        "_out_idx",
        "_version_box",
        "_base",
        "_views",
        "_no_grad_view",
        "_hooks",
        "__weakref__",
    )
    __array_priority__ = 1000  # numpy defers to our operators in ``ndarray * Tensor``

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.data = _to_array(data, dtype)
        self.grad = None
        self._node = None
        self._out_idx = 0
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array: np.ndarray, requires_grad: bool = False) -> "Tensor":
        """Wrap an array without copying (internal)."""
        t = object.__new__(cls)
        t.data = array
        t.grad = None
        t._node = None
        t._out_idx = 0
        t._requires_grad = requires_grad
        return t

    # ---------------------------------------------------------------- attributes
    @property
    def requires_grad(self) -> bool:
        """Whether operations on this tensor are recorded for ``backward()`` (floats only)."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set ``requires_grad`` in place and return the tensor (floating-point tensors only).

        Example:
            >>> import tinynet
            >>> tinynet.zeros(2).requires_grad_().requires_grad
            True
        """
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise TypeError(f"requires_grad must be a bool, got {requires_grad!r}")
        if requires_grad and self.data.dtype.kind != "f":
            raise RuntimeError(
                f"only floating-point tensors can require gradients, this one has dtype {self.data.dtype}"
            )
        if not requires_grad and self._node is not None:
            raise RuntimeError("requires_grad can only be turned off on leaf tensors; use detach()")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def _version(self) -> list:
        """``[n]``: n counts the in-place writes to this memory; shared with views of it (see autograd)."""
        try:
            return self._version_box
        except AttributeError:  # created lazily, so subclasses need not set it
            self._version_box = [0]
            return self._version_box

    def _view_list(self) -> list:
        """Weak references to the recorded views of this (non-leaf) tensor, made when first needed."""
        try:
            views = self._views
        except AttributeError:
            views = self._views = []
        if len(views) > 64:  # forget views that are gone
            views[:] = [r for r in views if r() is not None]
        return views

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op (their ``.grad`` is filled by ``backward()``)."""
        return self._node is None

    @property
    def grad_fn(self):
        """The node that created this tensor, or None for a leaf.

        Example:
            >>> import tinynet
            >>> x = tinynet.ones(2, requires_grad=True)
            >>> (x * 2).grad_fn
            <MulBackward0 object>
        """
        return self._node

    def register_hook(self, hook) -> "RemovableHandle":
        """Call ``hook(grad)`` with this tensor's whole gradient during backward; a Tensor it returns replaces it.

        On a leaf the hook runs before the gradient reaches ``.grad``; on a non-leaf before it
        flows on to the op that made the tensor. Returns a handle whose ``remove()`` takes the
        hook off.

        Example:
            >>> import tinynet
            >>> x = tinynet.ones(3, requires_grad=True)
            >>> y = x * 2
            >>> seen = []
            >>> handle = y.register_hook(lambda g: seen.append(g.tolist()))
            >>> y.sum().backward()
            >>> seen, x.grad
            ([[1.0, 1.0, 1.0]], tensor([2., 2., 2.]))
        """
        if not callable(hook):
            raise TypeError(f"register_hook: hook must be callable, got {hook!r}")
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._node is None:
            if getattr(self, "_hooks", None) is None:
                self._hooks = []
            hooks = self._hooks
        else:
            if self._node.hooks is None:
                self._node.hooks = {}
            hooks = self._node.hooks.setdefault(self._out_idx, [])
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward (a leaf keeps it anyway).

        Example:
            >>> import tinynet
            >>> x = tinynet.ones(2, requires_grad=True)
            >>> y = x * 3
            >>> y.retain_grad()
            >>> (y * y).sum().backward()
            >>> y.grad
            tensor([6., 6.])
        """
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._node is None:
            return
        if self._node.retained is None:
            self._node.retained = {}
        self._node.retained[self._out_idx] = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf tensor whose ``retain_grad()`` was called."""
        node = self._node
        if node is None or not node.retained:
            return False
        ref = node.retained.get(self._out_idx)
        return ref is not None and ref() is self

    @property
    def shape(self) -> tuple:
        """The sizes of the dimensions, a tuple (PyTorch's ``torch.Size``)."""
        return self.data.shape

    @property
    def dtype(self):
        """The numpy dtype of the data (``tinynet.float32`` ...)."""
        return self.data.dtype

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    def dim(self) -> int:
        """The number of dimensions (``ndim``)."""
        return self.data.ndim

    def size(self, dim: int | None = None):
        """The shape, or the size of one dimension.

        Example:
            >>> import tinynet
            >>> x = tinynet.zeros(2, 3)
            >>> x.size(), x.size(-1)
            ((2, 3), 3)
        """
        return self.data.shape if dim is None else self.data.shape[_one_dim(dim, self.ndim)]

    def numel(self) -> int:
        """The number of elements."""
        return int(self.data.size)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def numpy(self) -> np.ndarray:
        """The underlying array (shared memory, like PyTorch's ``.numpy()``)."""
        if self._requires_grad:
            raise RuntimeError(
                "Can't call numpy() on a Tensor that requires grad. Use tensor.detach().numpy() instead."
            )
        return self.data

    def item(self):
        """The value of a one-element tensor as a Python number.

        Example:
            >>> import tinynet
            >>> tinynet.tensor([[2.5]]).item()
            2.5
        """
        if self.data.size != 1:
            raise RuntimeError(
                f"item(): a Tensor with {self.data.size} elements cannot be converted to a Python scalar "
                f"(shape {self.shape}); only one-element tensors can"
            )
        return self.data.reshape(()).item()

    def tolist(self):
        """The data as (nested) Python lists."""
        return self.data.tolist()

    def detach(self) -> "Tensor":
        """The same data, cut from the tape (in-place writes to either are seen by both)."""
        t = Tensor._wrap(self.data)
        t._version_box = self._version
        return t

    def clone(self) -> "Tensor":
        """A copy of the data; the copy stays on the tape (its gradient flows back to ``self``)."""
        return (
            tensor_functions.Add.apply(self, self.data.dtype.type(0))
            if self._requires_grad
            else Tensor._wrap(self.data.copy())
        )

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self.data.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype=tinynet.{self.data.dtype}")
        if self._node is not None:
            extras.append(f"grad_fn=<{self._node.name()}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # ---------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False, inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        Args:
            gradient: dL/d(self), needed unless ``self`` has one element.
            retain_graph: keep the graph's saved arrays for another backward (default: ``create_graph``).
            create_graph: record the backward pass, so the gradients in ``.grad`` have a history
                and can be differentiated again (Hessian-vector products, gradient penalties).
            inputs: accumulate only into these tensors (a Tensor or a sequence of them).

        Example (a Hessian-vector product):
            >>> import tinynet
            >>> x = tinynet.tensor([1.0, 2.0], requires_grad=True)
            >>> (x ** 3).sum().backward(create_graph=True)  # x.grad = 3x², on the tape
            >>> v = tinynet.tensor([1.0, 0.5])
            >>> (hv,) = tinynet.autograd.grad((x.grad * v).sum(), x)  # H v = 6x · v
            >>> hv
            tensor([6., 6.])
        """
        run_backward(self, gradient, retain_graph, create_graph, inputs)

    def zero_(self) -> "Tensor":
        """Fill with zeros in place (see ``add_`` for when in-place writes are allowed)."""
        if self._check_inplace("zero_"):
            return self._write_recorded(Tensor._wrap(np.zeros_like(self.data)))
        self.data[...] = 0
        return self

    def fill_(self, value) -> "Tensor":
        """Fill with ``value`` (a number or a 0-d tensor) in place (see ``add_``)."""
        if not isinstance(value, (bool, int, float, np.number, np.bool_)) and not (
            isinstance(value, Tensor) and value.ndim == 0
        ):
            raise TypeError(f"fill_(): value must be a number or a 0-d tensor, got {value!r}")
        if self._check_inplace("fill_", value):
            source = value if isinstance(value, Tensor) else Tensor._wrap(np.asarray(value))
            return self._write_recorded(source)
        self.data[...] = value.data if isinstance(value, Tensor) else value
        return self

    def _check_inplace(self, what: str, value=None, region: np.ndarray | None = None) -> bool:
        """Refuse in-place writes PyTorch refuses, count the write, and say whether the tape must record it.

        PyTorch's rules: a leaf that requires grad, or a view of one, may be written in place only
        under ``no_grad`` (parameter updates). A non-leaf (or a view of one), or any tensor receiving a
        value that requires grad, is written and its history rewritten (``_write_recorded``).
        ``region`` is the part of the memory written (default: all of it). Returns True when the
        write must be recorded.
        """
        data = self.data
        if (  # the common case, e.g. accumulating into .grad: nothing to refuse, only the write to count
            region is None
            and self._node is None
            and not is_grad_enabled()
            and data.flags.c_contiguous
            and data.flags.writeable
            and getattr(self, "_base", None) is None
        ):
            self._version[0] += 1
            return False
        region = data if region is None else region
        if not self.data.flags.writeable:
            raise RuntimeError(f"{what}: the tensor's memory is read-only (a read-only numpy array); clone() it first")
        base = getattr(self, "_base", None)
        recording = is_grad_enabled()
        record = recording and (self._requires_grad or (isinstance(value, Tensor) and value._requires_grad))
        constant = what in ("zero_", "fill_") and not record
        if not constant and region.size and any(s == 0 and n > 1 for n, s in zip(region.shape, region.strides)):
            # an unrecorded constant may be written into elements that share memory, nothing else (PyTorch)
            raise RuntimeError(
                f"{what}: unsupported operation: more than one element of the written-to tensor refers to a "
                "single memory location (an expand()ed tensor or a view of one). Please clone() the tensor "
                "before performing the operation."
            )
        if recording and self._requires_grad and self._node is None:
            raise RuntimeError(
                f"{what}: a tensor that requires grad cannot be modified in place while the tape is recording "
                "(a leaf Variable that requires grad is being used in an in-place operation); use "
                "`with tinynet.no_grad():` for parameter updates, or work on tensor.detach()"
            )
        if record and base is not None and getattr(self, "_no_grad_view", False):
            raise RuntimeError(
                f"{what}: a view was created in no_grad mode and is being modified inplace with grad mode "
                "enabled. Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify "
                "your code by moving both the view and the inplace either both inside the no_grad block (if you "
                "don't want the inplace to be tracked) or both outside (if you want the inplace to be tracked)."
            )
        if recording and self._requires_grad and base is not None and base._node is None:
            raise RuntimeError(
                f"{what}: a view of a leaf Variable that requires grad is being used in an in-place operation. "
                "Write into the leaf under `with tinynet.no_grad():` (parameter updates), or build the "
                "result out of place (tinynet.cat/stack/where, or x.clone() and write into the clone)"
            )
        protect_saved_output(self if base is None else base)
        self._version[0] += 1
        return record

    def _write_recorded(self, new: "Tensor") -> "Tensor":
        """Write ``new`` (broadcast to this shape) into this tensor and give its base that history.

        PyTorch's CopySlices: the base's new node takes the gradient of the written elements from
        ``new`` and of the others from the base's old history; every recorded view of the base is
        then re-derived from the base's new node.
        """
        base = getattr(self, "_base", None)
        base = self if base is None else base
        if new.data.dtype != self.data.dtype:
            new = new.to(self.data.dtype)
        if new.shape != self.shape:
            new = new.expand(self.shape)
        self.data[...] = new.data
        out = tensor_functions.CopySlices.apply(base, new, tensor_functions.flat_positions(base.data, self.data))
        base._node, base._out_idx, base._requires_grad = out._node, 0, True
        views = [r() for r in getattr(base, "_views", ())]
        for view in {id(v): v for v in [*views, self] if v is not None and v is not base}.values():
            positions = tensor_functions.flat_positions(base.data, view.data)
            regenerated = tensor_functions.ViewAt.apply(base, positions, view.data)
            view._node, view._out_idx, view._requires_grad = regenerated._node, 0, True
        return self

    # ---------------------------------------------------------------- dtype
    def to(self, dtype) -> "Tensor":
        """The tensor converted to ``dtype`` (itself if it already has it); differentiable between floats.

        Example:
            >>> import tinynet
            >>> tinynet.tensor([1, 2]).to(tinynet.float64).dtype
            dtype('float64')
        """
        dt = _as_dtype(dtype)
        if dt == self.data.dtype:
            return self
        return tensor_functions.Cast.apply(self, dt)

    def type(self, dtype) -> "Tensor":
        """Same as ``to(dtype)``."""
        return self.to(dtype)

    def float(self) -> "Tensor":
        """``to(tinynet.float32)``."""
        return self.to(np.float32)

    def double(self) -> "Tensor":
        """``to(tinynet.float64)``."""
        return self.to(np.float64)

    def long(self) -> "Tensor":
        """``to(tinynet.int64)``."""
        return self.to(np.int64)

    def int(self) -> "Tensor":
        """``to(tinynet.int32)``."""
        return self.to(np.int32)

    def bool(self) -> "Tensor":
        """``to(tinynet.bool_)``."""
        return self.to(np.bool_)

    # ---------------------------------------------------------------- arithmetic
    def __add__(self, other):
        return tensor_functions.Add.apply(*_binary(self, other))

    def __radd__(self, other):
        return tensor_functions.Add.apply(*_binary(other, self))

    def __sub__(self, other):
        return tensor_functions.Sub.apply(*_binary(self, other, op="sub"))

    def __rsub__(self, other):
        return tensor_functions.Sub.apply(*_binary(other, self, op="sub"))

    def __mul__(self, other):
        return tensor_functions.Mul.apply(*_binary(self, other))

    def __rmul__(self, other):
        return tensor_functions.Mul.apply(*_binary(other, self))

    def __truediv__(self, other):
        a, b = _binary(self, other, true_div=True)
        return tensor_functions.Div.apply(a, b)

    def __rtruediv__(self, other):
        a, b = _binary(other, self, true_div=True)
        return tensor_functions.Div.apply(a, b)

    def __pow__(self, other):
        out = tensor_functions.Pow.apply(*_binary(self, other, op="pow"))
        return out.to(np.bool_) if _is_bool(self) and _is_bool(other) else out  # numpy would give int8

    def __rpow__(self, other):
        return tensor_functions.Pow.apply(*_binary(other, self, op="pow"))

    def __neg__(self):
        return tensor_functions.Neg.apply(self)

    def __pos__(self):
        return self

    def __matmul__(self, other):
        other = other if isinstance(other, Tensor) else Tensor(other)
        _check_matmul(self.data.shape, other.data.shape)
        if other.data.dtype == self.data.dtype:  # the common case: nothing to promote
            return tensor_functions.MatMul.apply(self, other)
        a, b = _promote_pair(self, other)
        return tensor_functions.MatMul.apply(a, b)

    def __rmatmul__(self, other):
        return Tensor(other).__matmul__(self)

    def matmul(self, other):
        """Matrix product ``self @ other`` with PyTorch's rules for 1-D and batched operands.

        Shape:
            (..., n, k) @ (..., k, m) -> (..., n, m), batch dimensions broadcast; a 1-D operand
            gets a dimension of size 1 added (in front for the left one, behind for the right one)
            and removed again from the result.

        Example:
            >>> import tinynet
            >>> (tinynet.ones(2, 3) @ tinynet.ones(3)).shape
            (2,)
        """
        return self @ other

    def add(self, other):
        """``self + other`` (broadcasting)."""
        return self + other

    def sub(self, other):
        """``self - other`` (broadcasting)."""
        return self - other

    def mul(self, other):
        """``self * other`` (broadcasting)."""
        return self * other

    def div(self, other):
        """``self / other`` (true division; integers give float32)."""
        return self / other

    def pow(self, exponent):
        """``self ** exponent`` (broadcasting)."""
        return self**exponent

    # in-place updates: allowed on tensors that are not being recorded
    def _inplace(self, other, op, what, alpha=1):
        record = self._check_inplace(what, other)
        value = other.data if isinstance(other, Tensor) else other
        _check_inplace_operand(self, value, what)
        if self.data.dtype.kind in "iu" and isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            value = _wrap_int(value, self.data.dtype)
        if record:
            operand = other * alpha if alpha != 1 else other
            return self._write_recorded(_OUT_OF_PLACE[op](self.clone(), operand))
        if alpha != 1:
            value = np.asarray(value) * alpha
        op(self.data, value, out=self.data, casting="same_kind")
        return self

    def add_(self, other, alpha=1):
        """In place ``self += alpha * other``.

        As in PyTorch: a leaf that requires grad (and a view of one) may be written in place only under
        ``no_grad``; on a non-leaf, or a view of one, the write is recorded so gradients stay right.
        Views (basic indexing, ``T``, ``view``, ...) write through to the tensor they view.

        Example:
            >>> import tinynet
            >>> w = tinynet.ones(2, requires_grad=True)
            >>> with tinynet.no_grad():
            ...     _ = w.add_(tinynet.tensor([1.0, 2.0]), alpha=-0.5)
            >>> w
            tensor([0.5, 0. ], requires_grad=True)
        """
        return self._inplace(other, np.add, "add_", alpha)

    def sub_(self, other, alpha=1):
        """In place ``self -= alpha * other`` (see ``add_``)."""
        return self._inplace(other, np.subtract, "sub_", alpha)

    def mul_(self, other):
        """In place ``self *= other`` (see ``add_``)."""
        return self._inplace(other, np.multiply, "mul_")

    def div_(self, other):
        """In place ``self /= other`` (see ``add_``)."""
        return self._inplace(other, np.divide, "div_")

    def copy_(self, src):
        """Copy ``src`` (broadcast) into this tensor in place (see ``add_``)."""
        record = self._check_inplace("copy_", src)
        array = src.data if isinstance(src, Tensor) else np.asarray(src)
        if array.dtype.kind not in "fiub":
            raise TypeError(f"copy_(): src must be numeric, got dtype {array.dtype}")
        if not _broadcasts(array.shape, self.shape) or np.broadcast_shapes(array.shape, self.shape) != self.shape:
            raise RuntimeError(
                f"copy_(): src of shape {array.shape} cannot be broadcast to this tensor's shape {self.shape}"
            )
        if record:
            return self._write_recorded(src if isinstance(src, Tensor) else Tensor._wrap(array))
        self.data[...] = array
        return self

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    # ---------------------------------------------------------------- comparisons (no gradient)
    def _compare(self, other, op):
        value = other.data if isinstance(other, Tensor) else other
        if not isinstance(other, (Tensor, np.ndarray, bool, int, float, np.number, np.bool_)):
            if op in (np.equal, np.not_equal):  # x == None is False, as in PyTorch (and Python)
                return op is np.not_equal
            raise TypeError(f"{op.__name__}: cannot compare a tensor with {type(other).__name__}")
        _check_broadcast(self.shape, np.shape(value), op.__name__)
        a, b = _binary(self, other)  # the operands meet in PyTorch's result dtype (0-d tensors count as numbers)
        return Tensor._wrap(np.asarray(op(a.data, b.data if isinstance(b, Tensor) else b)))

    def __eq__(self, other):
        return self._compare(other, np.equal)

    def __ne__(self, other):
        return self._compare(other, np.not_equal)

    def __lt__(self, other):
        return self._compare(other, np.less)

    def __le__(self, other):
        return self._compare(other, np.less_equal)

    def __gt__(self, other):
        return self._compare(other, np.greater)

    def __ge__(self, other):
        return self._compare(other, np.greater_equal)

    __hash__ = object.__hash__

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self.data.size} elements is ambiguous")
        return bool(self.data.reshape(()))

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def all(self, dim=None, keepdim: bool = False) -> "Tensor":
        """True where every element (along ``dim``) is nonzero."""
        axis = None if dim is None else tuple(sorted(_norm_dims_list(dim, self.ndim)))
        return Tensor._wrap(np.asarray(np.all(self.data, axis=axis if self.ndim else None, keepdims=keepdim)))

    def any(self, dim=None, keepdim: bool = False) -> "Tensor":
        """True where some element (along ``dim``) is nonzero."""
        axis = None if dim is None else tuple(sorted(_norm_dims_list(dim, self.ndim)))
        return Tensor._wrap(np.asarray(np.any(self.data, axis=axis if self.ndim else None, keepdims=keepdim)))

    def __invert__(self):
        if self.data.dtype != np.bool_:
            raise TypeError(f"~ is defined for bool tensors, got dtype {self.data.dtype}")
        return Tensor._wrap(~self.data)

    def __and__(self, other):
        return Tensor._wrap(self.data & (other.data if isinstance(other, Tensor) else other))

    def __or__(self, other):
        return Tensor._wrap(self.data | (other.data if isinstance(other, Tensor) else other))

    # ---------------------------------------------------------------- pointwise math
    def exp(self):
        """e to the power of each element."""
        return tensor_functions.Exp.apply(self._floating("exp"))

    def log(self):
        """Natural logarithm of each element (nan below 0, -inf at 0)."""
        return tensor_functions.Log.apply(self._floating("log"))

    def sqrt(self):
        """Square root of each element."""
        return tensor_functions.Sqrt.apply(self._floating("sqrt"))

    def abs(self):
        """Absolute value of each element (gradient 0 at 0, as in PyTorch)."""
        return tensor_functions.Abs.apply(self)

    __abs__ = abs

    def tanh(self):
        """Hyperbolic tangent of each element."""
        return tensor_functions.Tanh.apply(self._floating("tanh"))

    def sigmoid(self):
        """``1 / (1 + exp(-x))`` of each element, without overflow."""
        return tensor_functions.Sigmoid.apply(self._floating("sigmoid"))

    def relu(self):
        """``max(x, 0)`` of each element (gradient 0 at 0, as in PyTorch)."""
        return tensor_functions.ReLU.apply(self)

    def clip(self, min=None, max=None):
        """Limit every element to ``[min, max]`` (``torch.clamp``).

        Each bound is None, a number or a tensor (broadcast, and differentiable).
        Where ``min > max`` every element becomes ``max``, as in PyTorch.

        Example:
            >>> import tinynet
            >>> tinynet.tensor([-2.0, 0.5, 3.0]).clip(-1, 1)
            tensor([-1. ,  0.5,  1. ])
        """
        if min is None and max is None:
            raise ValueError("clip(): at least one of min and max must be given")
        x = self
        bounds = []
        for name, b in (("min", min), ("max", max)):
            if b is None or isinstance(b, Tensor):
                bounds.append(b)
            elif isinstance(b, (bool, int, float, np.number)):
                if x.data.dtype.kind != "f" and isinstance(b, (float, np.floating)):
                    x = x.to(np.float32)  # an integer tensor clipped to a float bound becomes float32
                bounds.append(b)
            else:
                raise TypeError(f"clip(): {name} must be a number or a Tensor, got {type(b).__name__}")
        tensors = [t for t in (x, *bounds) if isinstance(t, Tensor)]
        for name, b in zip(("min", "max"), bounds):
            if isinstance(b, Tensor) and _check_broadcast(x.shape, b.shape, "clip") != x.shape:
                raise ValueError(f"clip(): {name} of shape {b.shape} does not broadcast to the input's shape {x.shape}")
        target = _result_dtype([t.data.dtype for t in tensors])
        lo, hi = (
            b if b is None else b.to(target) if isinstance(b, Tensor) else np.asarray(b).astype(target)[()]
            for b in bounds
        )
        return tensor_functions.Clip.apply(x.to(target), lo, hi)

    clamp = clip

    def _floating(self, what: str) -> "Tensor":
        # PyTorch computes pointwise float functions of integer tensors in float32.
        return self if self.data.dtype.kind == "f" else self.to(np.float32)

    def _require_floating(self, what: str) -> "Tensor":
        # softmax, log_softmax and var/std refuse integer tensors in PyTorch (as mean does): no silent cast.
        if self.data.dtype.kind != "f":
            raise RuntimeError(
                f"{what}(): expected a floating-point tensor, got dtype {self.data.dtype} (as in PyTorch); "
                "convert it first with .float()"
            )
        return self

    def softmax(self, dim: int) -> "Tensor":
        """``exp(x) / exp(x).sum(dim, keepdim=True)``, computed without overflow."""
        x = self._require_floating("softmax")
        d = _one_dim(dim, self.ndim)
        if self.ndim == 0:  # one element: softmax is 1
            return tensor_functions.Softmax.apply(x.reshape(1), 0).reshape(())
        return tensor_functions.Softmax.apply(x, d)

    def log_softmax(self, dim: int) -> "Tensor":
        """``x - log(exp(x).sum(dim, keepdim=True))``, computed without overflow."""
        x = self._require_floating("log_softmax")
        d = _one_dim(dim, self.ndim)
        if self.ndim == 0:
            return tensor_functions.LogSoftmax.apply(x.reshape(1), 0).reshape(())
        return tensor_functions.LogSoftmax.apply(x, d)

    # ---------------------------------------------------------------- reductions
    def sum(self, dim=None, keepdim: bool = False):
        """Sum over all elements, or over ``dim`` (an int or a tuple of ints).

        Shape:
            the dimensions in ``dim`` are removed, or kept with size 1 when ``keepdim=True``.

        Example:
            >>> import tinynet
            >>> x = tinynet.ones(2, 3, 4)
            >>> x.sum(dim=(0, 2)), x.sum(dim=1, keepdim=True).shape
            (tensor([8., 8., 8.]), (2, 1, 4))
        """
        return tensor_functions.Sum.apply(self, dim, keepdim)

    def mean(self, dim=None, keepdim: bool = False):
        """Mean over all elements, or over ``dim`` (see ``sum``); floating-point tensors only."""
        if self.data.dtype.kind != "f":
            raise RuntimeError(
                f"mean(): could not infer output dtype. Input dtype must be floating point, got {self.data.dtype}"
            )
        return tensor_functions.Mean.apply(self, dim, keepdim)

    def var(self, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction: int | None = None):
        """Variance over all elements or over ``dim``: ``sum((x - mean)^2) / (N - correction)``.

        Args:
            dim: an int, a tuple of ints, or None for all elements.
            unbiased: the older spelling: True means ``correction=1``, False ``correction=0``.
            keepdim: keep the reduced dimensions with size 1.
            correction: 1 by default (Bessel's correction), as in PyTorch.

        Example:
            >>> import tinynet
            >>> x = tinynet.tensor([1.0, 2.0, 3.0, 4.0])
            >>> x.var(), x.var(correction=0)
            (tensor(1.6667), tensor(1.25))
        """
        corr = _correction(unbiased, correction, "var")
        return tensor_functions.Var.apply(self._require_floating("var"), dim, corr, keepdim)

    def std(self, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction: int | None = None):
        """Standard deviation, ``var(...).sqrt()`` (same arguments as ``var``); gradient 0 where it is 0.

        Example:
            >>> import tinynet
            >>> x = tinynet.tensor([[1.0, 1.0], [1.0, 3.0]], requires_grad=True)
            >>> x.std(dim=1).sum().backward()
            >>> x.grad
            tensor([[ 0.    ,  0.    ],
                    [-0.7071,  0.7071]])
        """
        corr = _correction(unbiased, correction, "var")  # std is the root of var: errors name var()
        return tensor_functions.Std.apply(self._require_floating("var"), dim, corr, keepdim)

    def max(self, dim=None, keepdim: bool = False):
        """max() over all elements, or ``(values, indices)`` along ``dim``."""
        if dim is None:
            return tensor_functions.MaxAll.apply(self, True)
        return MaxResult(*tensor_functions.MaxDim.apply(self, dim, keepdim, True))

    def min(self, dim=None, keepdim: bool = False):
        """min() over all elements, or ``(values, indices)`` along ``dim`` (see ``max``)."""
        if dim is None:
            return tensor_functions.MaxAll.apply(self, False)
        return MaxResult(*tensor_functions.MaxDim.apply(self, dim, keepdim, False))

    def argmax(self, dim=None, keepdim: bool = False):
        """Index of the largest element (of the flattened tensor when ``dim`` is None); ties give the first."""
        return self._arg_extreme(np.argmax, dim, keepdim)

    def argmin(self, dim=None, keepdim: bool = False):
        """Index of the smallest element (of the flattened tensor when ``dim`` is None); ties give the first."""
        return self._arg_extreme(np.argmin, dim, keepdim)

    def _arg_extreme(self, fn, dim, keepdim: bool) -> "Tensor":
        if self.data.size == 0:
            raise RuntimeError(f"{fn.__name__}(): expected a non-empty tensor, got shape {self.shape}")
        if dim is None:
            idx = np.asarray(fn(self.data), dtype=np.int64)
            return Tensor._wrap(idx.reshape((1,) * self.ndim) if keepdim else idx)
        d = _one_dim(dim, self.ndim)
        if self.ndim == 0:
            return Tensor._wrap(np.zeros((), dtype=np.int64))
        return Tensor._wrap(fn(self.data, axis=d, keepdims=keepdim).astype(np.int64))

    # ---------------------------------------------------------------- shapes
    def reshape(self, *shape):
        """The same elements in a new shape; one entry may be -1 (inferred).

        Example:
            >>> import tinynet
            >>> tinynet.arange(6).reshape(2, -1).shape
            (2, 3)
        """
        return tensor_functions.Reshape.apply(self, _infer_shape(_shape_arg(shape), self.shape))

    def view(self, *shape):
        """The same memory seen in a new shape; an error where that needs a copy (use ``reshape`` there).

        Example:
            >>> import tinynet
            >>> x = tinynet.zeros(2, 3)
            >>> x.view(3, 2)[0, 1] = 5.0  # writes into x
            >>> x
            tensor([[0., 5., 0.],
                    [0., 0., 0.]])
        """
        shape = _infer_shape(_shape_arg(shape), self.shape)
        try:
            np.reshape(self.data, shape, copy=False)
        except ValueError:
            raise RuntimeError(
                f"view size is not compatible with input tensor's size and stride (shape {self.shape} to "
                f"{shape}: at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead."
            ) from None
        return tensor_functions.Reshape.apply(self, shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        """Merge dimensions ``start_dim`` to ``end_dim`` (inclusive) into one.

        Shape:
            (d0, ..., d_start, ..., d_end, ...) -> (d0, ..., d_start * ... * d_end, ...)

        Example:
            >>> import tinynet
            >>> tinynet.zeros(2, 3, 4, 5).flatten(1).shape
            (2, 60)
        """
        if self.ndim == 0:
            return self.reshape(1)
        s = _one_dim(start_dim, self.ndim)
        e = _one_dim(end_dim, self.ndim)
        if s > e:
            raise ValueError(f"flatten(): start_dim ({start_dim}) cannot come after end_dim ({end_dim})")
        shape = self.shape[:s] + (int(np.prod(self.shape[s : e + 1])),) + self.shape[e + 1 :]
        return self.reshape(shape)

    def permute(self, *dims):
        """Reorder the dimensions: output dimension i is input dimension ``dims[i]``.

        Example:
            >>> import tinynet
            >>> tinynet.zeros(2, 3, 4).permute(2, 0, 1).shape
            (4, 2, 3)
        """
        dims = _shape_arg(dims)
        if sorted(_one_dim(d, self.ndim) for d in dims) != list(range(self.ndim)):
            raise ValueError(f"permute(): dims {tuple(dims)} are not a permutation of the {self.ndim} dimensions")
        return tensor_functions.Permute.apply(self, tuple(_one_dim(d, self.ndim) for d in dims))

    def transpose(self, dim0: int, dim1: int):
        """Swap two dimensions."""
        axes = list(range(self.ndim))
        a, b = _one_dim(dim0, self.ndim), _one_dim(dim1, self.ndim)
        axes[a], axes[b] = axes[b], axes[a]
        return tensor_functions.Permute.apply(self, tuple(axes))

    @property
    def T(self):
        """The tensor with its dimensions reversed (the matrix transpose for 2-D tensors)."""
        return tensor_functions.Permute.apply(self, tuple(reversed(range(self.ndim))))

    def unsqueeze(self, dim: int):
        """Insert a dimension of size 1 at ``dim`` (``-1`` appends).

        Example:
            >>> import tinynet
            >>> tinynet.zeros(2, 3).unsqueeze(1).shape
            (2, 1, 3)
        """
        d = _one_dim(dim, self.ndim + 1)
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def squeeze(self, dim=None):
        """Remove dimensions of size 1: all of them, or those in ``dim`` (an int or a tuple)."""
        if dim is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        dims = _norm_dims_list(dim, self.ndim)
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if not (i in dims and n == 1)))

    def expand(self, *shape):
        """A broadcast view of size ``shape``; ``-1`` keeps a dimension (sizes 1 stretch, others must match)."""
        shape = _shape_arg(shape)
        lead = len(shape) - self.ndim
        target = tuple(self.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(shape))
        ok = lead >= 0 and all(n >= 0 for n in target)
        ok = ok and all(old in (1, new) for old, new in zip(self.shape, target[lead:]))
        if not ok:
            raise ValueError(f"expand: a tensor of shape {self.shape} cannot be expanded to {shape}")
        return tensor_functions.Expand.apply(self, target)

    def __getitem__(self, index):
        index = _index_arg(index)
        return tensor_functions.Index.apply(self, index)

    def __setitem__(self, index, value):
        index = _index_arg(index)
        basic = tensor_functions._is_view_index(index)
        # the overlap check looks at the written elements only; numpy's masked writes need none (as torch)
        region = self.data[index] if basic else self.data if is_grad_enabled() else np.empty(0)
        record = self._check_inplace("__setitem__ (an in-place write)", value, region)
        if record and basic:  # write into the view self[index]
            view = tensor_functions.Index.apply(self, index)
            view._write_recorded(value if isinstance(value, Tensor) else Tensor._wrap(np.asarray(value)))
            return
        if record:
            values = value if isinstance(value, Tensor) else np.asarray(value, dtype=self.data.dtype)
            self._write_recorded(tensor_functions.IndexPut.apply(self, index, values))
            return
        self.data[index] = value.data if isinstance(value, Tensor) else value

    def __iter__(self):
        return (self[i] for i in range(len(self)))


# ------------------------------------------------------------------- helpers
_OUT_OF_PLACE = {
    np.add: operator.add,
    np.subtract: operator.sub,
    np.multiply: operator.mul,
    np.divide: operator.truediv,
}


def _one_dim(dim, ndim: int) -> int:
    n = max(ndim, 1)
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"dim must be an int, got {dim!r}")
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return int(dim) % n


def _wrap_int(value: int, dtype: np.dtype):
    """A Python int as ``dtype``, wrapping around as PyTorch does (``uint8 - 1`` wraps, numpy would raise)."""
    return int(np.asarray(value, dtype=np.int64).astype(dtype))  # a Python int stays weak in numpy promotion


def _correction(unbiased, correction, op: str):
    if unbiased is not None and correction is not None:
        raise ValueError(f"{op}(): give either unbiased or correction, not both")
    corr = correction if correction is not None else (0 if unbiased is False else 1)
    if isinstance(corr, bool) or not isinstance(corr, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}(): correction must be a number, got {corr!r}")
    return corr


def _broadcasts(a: tuple, b: tuple) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


def _check_inplace_operand(t: "Tensor", value, what: str) -> None:
    """An in-place op writes into ``t``: the operand must broadcast to t's shape and its result fit t's dtype."""
    if not isinstance(value, (np.ndarray, bool, int, float, np.number, np.bool_)):
        raise TypeError(f"{what}: unsupported operand type {type(value).__name__}")
    shape = np.shape(value)
    if not _broadcasts(shape, t.shape) or np.broadcast_shapes(shape, t.shape) != t.shape:
        raise RuntimeError(f"{what}: output with shape {t.shape} doesn't match the broadcast shape of {shape}")
    rank = {"b": 0, "u": 1, "i": 1, "f": 2}
    kind = np.asarray(value).dtype.kind
    if rank.get(kind, 3) > rank[t.data.dtype.kind]:
        raise RuntimeError(
            f"{what}: result type {np.asarray(value).dtype} can't be cast to this tensor's dtype {t.data.dtype}"
        )


def _norm_dims_list(dim, ndim: int) -> set:
    if not isinstance(dim, (int, np.integer, tuple, list)) or isinstance(dim, bool):
        raise TypeError(f"dim must be an int or a tuple of ints, got {dim!r}")
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    return {_one_dim(d, ndim) for d in dims}


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    out = []
    for n in shape:
        if isinstance(n, Tensor):
            n = n.item()
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"shape entries must be ints, got {n!r} in {tuple(shape)}")
        out.append(int(n))
    return tuple(out)


def _index_arg(index):
    def conv(i):
        if isinstance(i, Tensor):
            if i.data.dtype.kind not in "iub":
                raise IndexError(f"tensors used as indices must be integer or bool tensors, got dtype {i.dtype}")
            return i.data
        if isinstance(i, list):
            arr = np.asarray(i)
            if arr.dtype.kind not in "iub":
                raise IndexError(f"lists used as indices must hold ints or bools, got {i!r}")
            return arr
        return i

    if isinstance(index, tuple):
        return tuple(conv(i) for i in index)
    return conv(index)


def _check_broadcast(a: tuple, b: tuple, op: str = "op") -> tuple:
    if a == b:
        return tuple(a)
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        raise ValueError(f"{op}: shapes {tuple(a)} and {tuple(b)} cannot be broadcast together") from None


def _check_matmul(a: tuple, b: tuple) -> None:
    if len(a) == 0 or len(b) == 0:
        raise ValueError(f"matmul: both operands need at least one dimension, got shapes {a} and {b}")
    k_a = a[-1]
    k_b = b[0] if len(b) == 1 else b[-2]
    if k_a != k_b:
        raise ValueError(
            f"matmul: shapes {a} and {b} cannot be multiplied ({k_a} columns in the first vs {k_b} rows in the second)"
        )
    if len(a) > 2 or len(b) > 2:
        _check_broadcast(a[:-2], b[:-2] if len(b) > 1 else (), "matmul (batch dimensions)")


def _is_bool(v) -> bool:
    return isinstance(v, (bool, np.bool_)) or (isinstance(v, Tensor) and v.data.dtype == np.bool_)


def _binary(a, b, true_div: bool = False, op: str = "arithmetic"):
    """Line up the operands of an arithmetic op (at least one is a Tensor)."""
    # The common cases first: two float tensors of one dtype, or a float tensor and a Python number.
    if type(a) is Tensor and a.data.dtype.kind == "f":
        if type(b) is Tensor and b.data.dtype == a.data.dtype:
            if b.data.shape != a.data.shape:
                _check_broadcast(a.shape, b.shape, "arithmetic")
            return a, b
        if type(b) in (float, int):
            return a, a.data.dtype.type(b)
    elif type(b) is Tensor and type(a) in (float, int) and b.data.dtype.kind == "f":
        return b.data.dtype.type(a), b
    a = Tensor._wrap(a) if isinstance(a, np.ndarray) else a
    b = Tensor._wrap(b) if isinstance(b, np.ndarray) else b
    if op == "sub" and (_is_bool(a) or _is_bool(b)):
        raise TypeError("subtraction with a bool tensor is not supported (as in PyTorch); use ~ to invert a mask")
    if op == "pow" and _is_bool(a) and isinstance(b, Tensor) and _is_bool(b):
        raise TypeError(
            "pow is not defined for a bool tensor exponent of a bool (as in PyTorch); convert with .long() or .float()"
        )
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        _check_broadcast(a.shape, b.shape, "arithmetic")
        a, b = _promote_pair(a, b)
    else:
        t, other = (a, b) if isinstance(a, Tensor) else (b, a)
        if not isinstance(other, (bool, int, float, np.number)):
            raise TypeError(f"unsupported operand type for tensor arithmetic: {type(other).__name__}")
        if t.data.dtype.kind == "f":
            other = t.data.dtype.type(other)  # a Python number keeps the tensor's precision
        elif t.data.dtype.kind in "iu" and isinstance(other, (int, np.integer)) and not isinstance(other, bool):
            other = _wrap_int(other, t.data.dtype)
        elif isinstance(other, (float, np.floating)):
            t = t.to(np.float32)  # int tensor with a float: float32, as in PyTorch
        a, b = (t, other) if isinstance(a, Tensor) else (other, t)
    if true_div:  # true division of integers gives float32, as in PyTorch
        if isinstance(a, Tensor) and a.data.dtype.kind != "f":
            a = a.to(np.float32)
        if isinstance(b, Tensor) and b.data.dtype.kind != "f":
            b = b.to(np.float32)
    return a, b


def _infer_shape(shape: tuple, old: tuple) -> tuple:
    """Resolve a single -1 in ``shape`` and check the element count against ``old``."""
    size = math.prod(old)
    unknown = [i for i, n in enumerate(shape) if n == -1]
    if len(unknown) > 1 or any(n < -1 for n in shape):
        raise ValueError(f"reshape: invalid shape {shape} (at most one -1, no other negative sizes)")
    known = math.prod(n for n in shape if n != -1)
    if unknown:
        if known == 0 or size % known:
            raise ValueError(f"reshape: shape {shape} is invalid for a tensor of shape {old} ({size} elements)")
        shape = shape[: unknown[0]] + (size // known,) + shape[unknown[0] + 1 :]
    if math.prod(shape) != size:
        raise ValueError(f"reshape: shape {shape} is invalid for a tensor of shape {old} ({size} elements)")
    return shape


def __getattr__(name: str):
    # The creation functions live in tinynet/creation.py (which imports Tensor from here);
    # ``from tinynet.tensor import zeros`` keeps working through this hook.
    from tinynet import creation

    if name.startswith("_") or not hasattr(creation, name):
        raise AttributeError(f"module 'tinynet.tensor' has no attribute {name!r}")
    return getattr(creation, name)
