"""The Tensor's own differentiable operations, one ``Function`` each.

Each ``forward`` works on numpy arrays; each ``backward`` works on Tensors with these same
ops (see ``tinynet.autograd``), so that it can be recorded and differentiated again
(``create_graph=True``). Each ``backward`` sits under its ``forward`` with the one line of
calculus that justifies it. Masks and indices (where relu passes, which element was the
maximum) are constants: the ops they come from are piecewise linear. Broadcasting is not
handled here: the tape sums each gradient back to its input's shape (``autograd.unbroadcast``).
"""

from __future__ import annotations

import numpy as np

from tinynet.autograd import Function


# --------------------------------------------------------------------------- arithmetic
class Add(Function):
    """a + b."""

    @staticmethod
    def forward(ctx, a, b):
        return np.add(a, b)

    @staticmethod
    def backward(ctx, grad):
        # d(a+b)/da = d(a+b)/db = 1
        return grad, grad


class Sub(Function):
    """a - b."""

    @staticmethod
    def forward(ctx, a, b):
        return np.subtract(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """a * b (elementwise)."""

    @staticmethod
    def forward(ctx, a, b):
        # keep only what a gradient needs: an in-place write to the other operand stays legal (PyTorch)
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b if ctx.needs_input_grad[0] else None)
        return np.multiply(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        # d(ab)/da = b, d(ab)/db = a
        ga = grad * b if ctx.needs_input_grad[0] else None
        gb = grad * a if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    """a / b (true division)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)  # a only for b's gradient
        with np.errstate(divide="ignore", invalid="ignore"):  # x/0 is inf or nan without a warning, as PyTorch
            return np.divide(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
        ga = grad / b if ctx.needs_input_grad[0] else None
        gb = -grad * a / (b * b) if ctx.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    """-a."""

    @staticmethod
    def forward(ctx, a):
        return np.negative(a)

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Function):
    """a ** b (elementwise; either may be a scalar)."""

    @staticmethod
    def forward(ctx, a, b):
        out = np.power(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        a_raw, b_raw = ctx.saved_arrays[:2]
        ga = gb = None
        if ctx.needs_input_grad[0]:
            # d(a^b)/da = b a^(b-1); written so that b = 0 gives 0, not 0 * inf
            b_is_zero = np.equal(b_raw, 0)
            ga = (
                grad * Where.apply(b_is_zero, _zero(grad), b * a ** (b - 1))
                if np.any(b_is_zero)
                else grad * b * a ** (b - 1)
            )
        if ctx.needs_input_grad[1]:
            # d(a^b)/db = a^b log a, taken as 0 where a = 0 (as PyTorch does)
            a_is_zero = np.equal(a_raw, 0)
            loga = Where.apply(a_is_zero, _zero(grad), Where.apply(a_is_zero, _one(grad), a).log())
            gb = grad * out * loga
        return ga, gb


class MatMul(Function):
    """``a @ b`` with numpy's (and PyTorch's) rules for 1-D and batched operands."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        # Promote 1-D operands to matrices so that C = A B gives
        # dA = dC B^T and dB = A^T dC; then undo the promotion.
        a2 = Reshape.apply(a, (1, a.shape[0])) if a.ndim == 1 else a
        b2 = Reshape.apply(b, (b.shape[0], 1)) if b.ndim == 1 else b
        # grad with the promoted axes put back: (batch..., m, n)
        shape = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]) + (a2.shape[-2], b2.shape[-1])
        g = grad if grad.shape == shape else Reshape.apply(grad, shape)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = MatMul.apply(g, _transposed(b2))
            if a.ndim == 1:
                ga = Reshape.apply(ga, ga.shape[:-2] + ga.shape[-1:])
        if ctx.needs_input_grad[1]:
            gb = MatMul.apply(_transposed(a2), g)
            if b.ndim == 1:
                gb = Reshape.apply(gb, gb.shape[:-1])
        return ga, gb


def _transposed(t):
    """The last two axes swapped."""
    return Permute.apply(t, (*range(t.ndim - 2), t.ndim - 1, t.ndim - 2))


# --------------------------------------------------------------------------- pointwise
class Exp(Function):
    """e ** x."""

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y  # d e^x = e^x


class Log(Function):
    """Natural logarithm."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x  # d log x = 1/x


class Sqrt(Function):
    """Square root."""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(invalid="ignore"):
            y = np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad / (2 * y)  # d sqrt(x) = 1 / (2 sqrt(x))


class Abs(Function):
    """|x|."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_arrays
        # sign(0) = 0 and, as PyTorch's sgn, 0 at NaN (numpy's sign(nan) is nan); piecewise constant
        return Mul.apply(grad, np.sign(np.where(np.isnan(x), 0, x)))


class Tanh(Function):
    """tanh(x)."""

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (1 - y * y)  # d tanh = 1 - tanh^2


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # Split by sign so that exp never overflows.
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1 / (1 + np.exp(-x[pos]))
    e = np.exp(x[~pos])
    out[~pos] = e / (1 + e)
    return out


class Sigmoid(Function):
    """1 / (1 + e^-x)."""

    @staticmethod
    def forward(ctx, x):
        y = _sigmoid(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y * (1 - y)  # d s = s (1 - s)


class ReLU(Function):
    """max(x, 0)."""

    @staticmethod
    def forward(ctx, x):
        y = np.maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_arrays
        # PyTorch's rule: the gradient is 0 where y <= 0 (x = 0 included) and passes everywhere else, a NaN
        # input included (NaN <= 0 is False); grad * (y > 0) would drop it at NaN. A NaN *gradient* where
        # y <= 0 stays NaN (PyTorch selects 0): README, "Where tinynet differs"; a select (Where)
        # measured 3.5x slower on this hot backward. The mask is a constant: relu is piecewise linear.
        return Mul.apply(grad, ~(y <= 0))


class LeakyReLU(Function):
    """x for x > 0, negative_slope * x otherwise."""

    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.save_for_backward(x)
        ctx.slope = negative_slope
        return np.where(x > 0, x, x * x.dtype.type(negative_slope))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_arrays
        return Where.apply(x > 0, grad, grad * ctx.slope), None


class Clip(Function):
    """clamp(x, lo, hi) = min(max(x, lo), hi); a bound is None, a scalar or an array."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x, lo, hi)
        out = x
        if lo is not None:
            out = np.maximum(out, lo)
        if hi is not None:
            out = np.minimum(out, hi)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, lo, hi = ctx.saved_arrays
        # The output is x where lo <= x <= hi, lo below that and hi above it; when
        # lo > hi it is hi everywhere. Each input gets grad where it is the output
        # (ties resolved as torch.clamp does).
        zero = _zero(grad)
        g_x = g_lo = g_hi = None
        if ctx.needs_input_grad[0]:
            inside = np.ones(x.shape, dtype=bool)
            if lo is not None:
                inside = inside & (x >= lo)
            if hi is not None:
                inside = inside & (x <= hi)
            g_x = Where.apply(inside, grad, zero)
        if ctx.needs_input_grad[1]:
            below = (x < lo) & (lo < hi) if hi is not None else x < lo
            g_lo = Where.apply(below, grad, zero)
        if ctx.needs_input_grad[2]:
            above = (x > hi) | (hi < lo) if lo is not None else x > hi
            g_hi = Where.apply(above, grad, zero)
        return g_x, g_lo, g_hi


class Cast(Function):
    """x converted to another dtype; the gradient is converted back."""

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad, None  # the tape casts the gradient back to the input's dtype


# --------------------------------------------------------------------------- reductions
def _norm_dims(dim, ndim: int) -> tuple | None:
    """Reduced axes as non-negative ints; None means all. A 0-d tensor accepts dim 0 or -1 and reduces nothing."""
    if dim is None:
        return None
    if not isinstance(dim, (int, np.integer, tuple, list)) or isinstance(dim, bool):
        raise TypeError(f"dim must be an int or a tuple of ints, got {dim!r}")
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if not dims:  # dim=() reduces over everything, as in PyTorch
        return None
    out = []
    n = max(ndim, 1)
    for d in dims:
        if not isinstance(d, (int, np.integer)):
            raise TypeError(f"dim must be an int or a tuple of ints, got {dim!r}")
        if not -n <= d < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
        out.append(int(d) % n)
    if len(set(out)) != len(out):
        raise ValueError(f"dim {dim!r} names a dimension twice")
    return tuple(out) if ndim else ()


def _keepdim_shape(shape: tuple, dims) -> tuple:
    """``shape`` with the reduced dims (None: all) kept as size 1."""
    return tuple(1 if dims is None or i in dims else n for i, n in enumerate(shape))


def _copy_back(grad, ctx):
    """The adjoint of a reduction over ``ctx.dims``: copy the gradient back over the reduced dims."""
    g = grad if ctx.keepdim else Reshape.apply(grad, _keepdim_shape(ctx.shape, ctx.dims))
    return g if g.shape == ctx.shape else Expand.apply(g, ctx.shape)


def _zero(grad):
    return grad.dtype.type(0)


def _one(grad):
    return grad.dtype.type(1)


class Sum(Function):
    """Sum over dims (None: all)."""

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        ctx.shape = x.shape
        ctx.dims = _norm_dims(dim, x.ndim)
        ctx.keepdim = keepdim
        # integers and bools sum to int64, as in PyTorch (numpy would give uint64 for unsigned)
        dtype = np.int64 if x.dtype.kind in "biu" else None
        out = x.sum(axis=ctx.dims, keepdims=keepdim, dtype=dtype)
        return out if type(out) is np.ndarray else np.asarray(out)

    @staticmethod
    def backward(ctx, grad):
        # The adjoint of summing is copying: every summed element gets grad.
        return _copy_back(grad, ctx), None, None


class Mean(Function):
    """Mean over dims (None: all)."""

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        ctx.shape = x.shape
        ctx.dims = _norm_dims(dim, x.ndim)
        ctx.keepdim = keepdim
        count = x.size if ctx.dims is None else int(np.prod([x.shape[d] for d in ctx.dims]))
        ctx.count = count
        return np.asarray(np.mean(x, axis=ctx.dims, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        return _copy_back(grad / max(ctx.count, 1), ctx), None, None


class Var(Function):
    """Variance over dims with a correction (N - correction in the denominator)."""

    @staticmethod
    def forward(ctx, x, dim, correction, keepdim):
        dims = _norm_dims(dim, x.ndim)
        n = x.size if dims is None else int(np.prod([x.shape[d] for d in dims]))
        mean = np.mean(x, axis=dims, keepdims=True)
        centred = x - mean
        ctx.save_for_backward(x)
        ctx.dims, ctx.keepdim, ctx.shape = dims, keepdim, x.shape
        ctx.denom = max(n - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(np.sum(centred * centred, axis=dims, keepdims=keepdim) / x.dtype.type(ctx.denom))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return _var_backward(ctx, grad, x), None, None, None


def _var_backward(ctx, grad, x):
    # var = sum (x - mean)^2 / denom; d var / dx = 2 (x - mean) / denom (the mean's own derivative
    # drops out because sum (x - mean) = 0). Written on x itself, so its derivative is right too.
    g = grad if ctx.keepdim else Reshape.apply(grad, _keepdim_shape(ctx.shape, ctx.dims))
    centred = x - Mean.apply(x, ctx.dims, True)
    return g * centred * (2.0 / ctx.denom if ctx.denom else float("inf"))


class Std(Function):
    """Standard deviation: the square root of ``Var``, with PyTorch's gradient 0 where the std is 0."""

    @staticmethod
    def forward(ctx, x, dim, correction, keepdim):
        var = Var.forward(ctx, x, dim, correction, keepdim)
        with np.errstate(invalid="ignore"):
            std = np.sqrt(var)
        ctx.save_for_backward(x, std)
        return std

    @staticmethod
    def backward(ctx, grad):
        x, std = ctx.saved_tensors
        # d std = d var / (2 std); where std = 0 every x equals the mean and d var = 0 too: the
        # product is 0 (PyTorch's masked_fill), not 0 * inf = nan.
        g_var = grad / (2 * std)
        zero_std = ctx.saved_arrays[1] == 0
        if np.any(zero_std):
            g_var = Where.apply(zero_std, _zero(grad), g_var)
        return _var_backward(ctx, g_var, x), None, None, None


class MaxAll(Function):
    """max() or min() over all elements; ties (and NaNs) share the gradient evenly, as in PyTorch."""

    @staticmethod
    def forward(ctx, x, is_max):
        if x.size == 0:
            raise RuntimeError("max(): expected a non-empty tensor (the reduction has no identity)")
        y = np.asarray(x.max() if is_max else x.min())
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_arrays
        # A NaN is the maximum (and the minimum) once present: the gradient goes to the NaNs, as in PyTorch.
        hit = np.isnan(x) if np.isnan(y) else x == y
        # the others get exactly 0, even when grad is NaN or inf (PyTorch's masked_fill, not grad * mask)
        return Where.apply(hit, grad / float(hit.sum()), _zero(grad)), None


class MaxDim(Function):
    """max(dim) or min(dim): values and (non-differentiable) indices; the first extremum wins."""

    @staticmethod
    def forward(ctx, x, dim, keepdim, is_max):
        if not isinstance(dim, (int, np.integer)):
            raise TypeError(f"max()/min(): dim must be an int, got {dim!r}")
        _norm_dims(dim, x.ndim)  # range check
        ctx.shape, ctx.keepdim = x.shape, keepdim
        if x.ndim == 0:  # a 0-d tensor is its own maximum, at index 0
            return x.copy(), np.zeros((), dtype=np.int64)
        ctx.d = d = int(dim) % x.ndim
        if x.shape[d] == 0:
            raise IndexError(f"max(): cannot reduce over dim {dim} of size 0")
        idx = np.argmax(x, axis=d, keepdims=True) if is_max else np.argmin(x, axis=d, keepdims=True)
        vals = np.take_along_axis(x, idx, axis=d)
        ctx.save_for_backward(idx)
        if not keepdim:
            vals, idx = np.squeeze(vals, d), np.squeeze(idx, d)
        return vals, idx.astype(np.int64)

    @staticmethod
    def backward(ctx, grad, _grad_idx=None):
        if not ctx.shape:
            return grad, None, None, None
        (idx,) = ctx.saved_arrays
        # grad goes to the position of the extremum along d: a constant one-hot mask times the copied grad
        hit = np.zeros(ctx.shape, dtype=bool)
        np.put_along_axis(hit, idx, True, axis=ctx.d)
        g = grad if ctx.keepdim else Reshape.apply(grad, _keepdim_shape(ctx.shape, (ctx.d,)))
        return Where.apply(hit, g, _zero(grad)), None, None, None


# --------------------------------------------------------------------------- softmax family
class Softmax(Function):
    """exp(x) / sum(exp(x)) along one dim."""

    @staticmethod
    def forward(ctx, x, dim):
        if x.size == 0:  # nothing to normalise (np.max has no identity on an empty axis)
            ctx.save_for_backward(x)
            ctx.dim = dim
            return x.copy()
        z = x - np.max(x, axis=dim, keepdims=True)
        e = np.exp(z)
        y = e / np.sum(e, axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        # Jacobian diag(y) - y y^T applied to grad: y * (grad - <grad, y>)
        return y * (grad - (grad * y).sum(dim=ctx.dim, keepdim=True)), None


class LogSoftmax(Function):
    """x - log(sum(exp(x))) along one dim."""

    @staticmethod
    def forward(ctx, x, dim):
        if x.size == 0:  # nothing to normalise (np.max has no identity on an empty axis)
            ctx.save_for_backward(x)
            ctx.dim = dim
            return x.copy()
        z = x - np.max(x, axis=dim, keepdims=True)
        y = z - np.log(np.sum(np.exp(z), axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        # d log_softmax = I - softmax broadcast: grad - softmax * sum(grad)
        return grad - y.exp() * grad.sum(dim=ctx.dim, keepdim=True), None


# --------------------------------------------------------------------------- shapes
class Reshape(Function):
    """The same elements in a new shape."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return np.reshape(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return Reshape.apply(grad, ctx.shape), None


class Permute(Function):
    """Reorder the axes."""

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return np.transpose(x, axes)

    @staticmethod
    def backward(ctx, grad):
        # The adjoint of a permutation is its inverse.
        return Permute.apply(grad, tuple(int(a) for a in np.argsort(ctx.axes))), None


class Expand(Function):
    """Broadcast to a larger shape: a view whose stretched dimensions have stride 0 (writes into them are refused)."""

    @staticmethod
    def forward(ctx, x, shape):
        strides = np.broadcast_to(x, shape).strides
        # numpy marks a broadcast read-only; PyTorch lets one write where no two elements share memory
        # (``e[:, 0]`` of an expanded ``e``), and Tensor._check_inplace refuses the rest.
        return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=x.flags.writeable)

    @staticmethod
    def backward(ctx, grad):
        return grad, None  # the tape sums the broadcast axes back


class Index(Function):
    """``x[index]``; the adjoint scatters (adds) the gradient back to where it was read.

    Basic indexing (ints, slices, None, Ellipsis) returns a view of ``x`` as in PyTorch; integer
    arrays and masks (advanced indexing) return a copy.
    """

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        ctx.basic = _is_basic_index(index)
        if _is_view_index(index):
            # numpy gives a scalar, not a 0-d view, when every dimension gets an int: add `...`
            items = index if isinstance(index, tuple) else (index,)
            return x[items if Ellipsis in items else items + (Ellipsis,)]
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        # The adjoint of reading at index: add the gradient back there (IndexAdd, whose adjoint is Index).
        return IndexAdd.apply(grad, ctx.index, ctx.shape, ctx.basic), None


class IndexAdd(Function):
    """zeros(shape) with ``values`` added at ``index``: the adjoint of ``Index`` (and Index is its adjoint).

    ``basic`` says that the index reads each element at most once (slices, ints, masks), so an
    assignment does; integer arrays may repeat an element and need ``np.add.at``.
    """

    @staticmethod
    def forward(ctx, values, index, shape, basic):
        ctx.index = index
        out = np.zeros(shape, dtype=values.dtype)
        if basic:
            out[index] = values
        else:
            np.add.at(out, index, values)
        return out

    @staticmethod
    def backward(ctx, grad):
        return Index.apply(grad, ctx.index), None, None, None


def _is_view_index(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(it is None or it is Ellipsis or isinstance(it, (slice, int, np.integer)) for it in items)


def _is_basic_index(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    for it in items:
        if isinstance(it, np.ndarray) and it.dtype == bool:
            continue  # a mask selects each element at most once
        if not (it is None or it is Ellipsis or isinstance(it, (slice, int, np.integer))):
            return False
    return True


class IndexPut(Function):
    """A copy of ``x`` with ``x[index] = values`` (out of place): a recorded ``x[index] = values``."""

    @staticmethod
    def forward(ctx, x, index, values):
        ctx.index = index
        out = x.copy()
        out[index] = values
        return out

    @staticmethod
    def backward(ctx, grad):
        # Written positions take their gradient from `values`, the others from `x`.
        g_x = IndexPut.apply(grad, ctx.index, _zero(grad)) if ctx.needs_input_grad[0] else None
        g_values = Index.apply(grad, ctx.index) if ctx.needs_input_grad[2] else None
        return g_x, None, g_values


class CopySlices(Function):
    """The base's new history after an in-place write into its elements at ``positions`` (PyTorch's CopySlices).

    ``positions`` holds, for each element of the written view, its index in the flattened base.
    The write has already happened (through the view), so forward returns the base's own array.
    """

    @staticmethod
    def forward(ctx, base, values, positions):
        ctx.positions = positions
        return base

    @staticmethod
    def backward(ctx, grad):
        # new_base = old_base outside the positions, values inside them.
        flat = Reshape.apply(grad, (-1,))
        g_base = g_values = None
        if ctx.needs_input_grad[0]:
            g_base = Reshape.apply(IndexPut.apply(flat, ctx.positions, _zero(grad)), grad.shape)
        if ctx.needs_input_grad[1]:
            g_values = Index.apply(flat, ctx.positions)
        return g_base, g_values, None


class ViewAt(Function):
    """A view of ``base`` (the array ``view``) whose elements sit at ``positions`` of the flattened base.

    Gives a view its history again after the base's history was rewritten by ``CopySlices``.
    """

    @staticmethod
    def forward(ctx, base, positions, view):
        ctx.shape, ctx.positions = base.shape, positions
        return view

    @staticmethod
    def backward(ctx, grad):
        # The adjoint of reading at positions: add the gradient back there (an expanded view repeats elements).
        flat = IndexAdd.apply(grad, ctx.positions, (int(np.prod(ctx.shape)),), False)
        return Reshape.apply(flat, ctx.shape), None, None


def flat_positions(base: np.ndarray, view: np.ndarray) -> np.ndarray:
    """For each element of ``view`` (an array sharing ``base``'s memory), its index in ``base.reshape(-1)``."""

    def byte_offsets(a: np.ndarray) -> np.ndarray:
        out = np.zeros(a.shape, dtype=np.int64)
        for axis, (n, stride) in enumerate(zip(a.shape, a.strides)):
            out += (np.arange(n, dtype=np.int64) * stride).reshape((n,) + (1,) * (a.ndim - axis - 1))
        return out

    start = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    base_off = byte_offsets(base).reshape(-1)
    order = np.argsort(base_off, kind="stable")
    where = np.searchsorted(base_off[order], (start + byte_offsets(view)).reshape(-1))
    return order[where].reshape(view.shape)


class Cat(Function):
    """Concatenate along dim (dim comes first, then the arrays)."""

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        ctx.sizes = [x.shape[dim] for x in xs]
        return np.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        # The adjoint of concatenation is splitting.
        ends = np.cumsum(ctx.sizes)
        lead = (slice(None),) * ctx.dim
        return (None, *(Index.apply(grad, lead + (slice(int(e - n), int(e)),)) for e, n in zip(ends, ctx.sizes)))


class Stack(Function):
    """Stack along a new dim (dim comes first, then the arrays)."""

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        return np.stack(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        lead = (slice(None),) * ctx.dim
        return (None, *(Index.apply(grad, lead + (i,)) for i in range(grad.shape[ctx.dim])))


class Where(Function):
    """a where cond else b."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved_arrays
        zero = _zero(grad)
        ga = Where.apply(cond, grad, zero) if ctx.needs_input_grad[1] else None
        gb = Where.apply(cond, zero, grad) if ctx.needs_input_grad[2] else None
        return None, ga, gb
