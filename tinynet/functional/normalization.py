"""``batch_norm``: normalise each channel by its statistics, then scale and shift.

In training, channel c is normalised with the mean and the biased variance of
its M = N·H·W values in the batch: x̂ = (x - μ) / sqrt(σ² + eps), y = γ x̂ + β.
The running statistics follow ``r ← (1 - momentum) r + momentum · s`` with the
*unbiased* variance σ² · M / (M - 1), exactly as PyTorch. In evaluation the
running statistics replace the batch's, so the layer is a fixed per-channel
affine map.

Backward in training (per channel, sums over the M values, ĝ = dL/dy):
μ and σ depend on every x, so dL/dx is not just γ ĝ / σ. Differentiating
x̂_i = (x_i - μ) / σ through μ and σ gives the standard fused formula

    dβ = Σ ĝ,   dγ = Σ ĝ x̂,   dx = γ / (M σ) · (M ĝ - dβ - x̂ dγ),

written below with one temporary array and float32 kept throughout. For float32 and
float64 the training-mode passes run in the Numba kernels of tinynet.kernels (either tier)
that do the same arithmetic in two or three passes over the data; the numpy code below is
checked against them, and is the path for other float dtypes.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from tinynet.autograd import Function
from tinynet.functional._checks import check_channel_vector
from tinynet.functional._validate import check_tensor
from tinynet.kernels import batch_norm_train_backward, batch_norm_train_forward
from tinynet.tensor import Tensor

__all__ = ["batch_norm"]


def _channel_sum(a3: np.ndarray) -> np.ndarray:
    """Sum a ``(N, C, L)`` array over N and L: per-channel totals, shape (C,).

    Summing the contiguous L axis first lets numpy use its pairwise summation,
    which keeps float32 sums of 10⁵ values accurate to a few ulps.
    """
    return a3.sum(axis=2).sum(axis=0)


def _channel_dot(a3: np.ndarray, b3: np.ndarray) -> np.ndarray:
    """Σ over N and L of a·b per channel, shape (C,), for two (N, C, L) arrays.

    One BLAS dot product per (n, c) row (a batched matmul), so no product array is written.
    """
    n, c, length = a3.shape
    rows = np.matmul(a3.reshape(n * c, 1, length), b3.reshape(n * c, length, 1))  # (N*C, 1, 1)
    return rows.reshape(n, c).sum(axis=0)


_KERNEL_DTYPES = (np.float32, np.float64)  # what the Numba kernels are compiled for


def _in_kernel_dtype(ctx) -> bool:
    """Whether training-mode backward runs the Numba kernel (x̂ is saved in the input's dtype)."""
    return ctx.saved_arrays[0].dtype in _KERNEL_DTYPES


def _update_running(running_mean, running_var, mean, var, momentum: float, m: int) -> None:
    """r ← (1 - momentum) r + momentum · s, with the unbiased variance σ² M / (M - 1) as PyTorch stores it."""
    if running_mean is not None:
        running_mean *= 1 - momentum
        running_mean += momentum * mean
    if running_var is not None:
        running_var *= 1 - momentum
        running_var += momentum * var * var.dtype.type(m / (m - 1))


class BatchNorm(Function):
    _array_backward = True  # not yet written in ops (create_graph raises)

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        n, c = x.shape[:2]
        x3 = x.reshape(n, c, math.prod(x.shape[2:]))  # (N, C, L) with L = H*W (1 for (N, C) inputs)
        dt = x.dtype.type
        ctx.x_shape = x.shape
        ctx.empty = x.size == 0
        if ctx.empty:  # an empty batch: empty output, running statistics untouched (as PyTorch)
            return x.copy()
        if training and x.dtype in _KERNEL_DTYPES:
            m = x3.shape[0] * x3.shape[2]
            x3 = np.ascontiguousarray(x3)
            xhat, y = np.empty_like(x3), np.empty_like(x3)
            mean64, var64 = np.empty(c), np.empty(c)
            w = weight if weight is not None else np.ones(c, x.dtype)
            b = bias if bias is not None else np.zeros(c, x.dtype)
            batch_norm_train_forward(x3, w, b, float(eps), xhat, y, mean64, var64)
            mean, var = mean64.astype(x.dtype), var64.astype(x.dtype)
            invstd = (1.0 / np.sqrt(var64 + eps)).astype(x.dtype)  # as the kernel computed it
            _update_running(running_mean, running_var, mean, var, momentum, m)
            ctx.save_for_backward(xhat, weight, invstd)
        elif training:
            m = x3.shape[0] * x3.shape[2]  # values per channel
            mean = _channel_sum(x3) / dt(m)
            xhat = x3 - mean[:, None]  # becomes x̂ in place; saved for backward
            var = _channel_dot(xhat, xhat) / dt(m)  # biased: this is what normalises
            invstd = dt(1) / np.sqrt(var + dt(eps))
            xhat *= invstd[:, None]
            _update_running(running_mean, running_var, mean, var, momentum, m)
            y = xhat * weight[:, None] if weight is not None else xhat.copy()
            if bias is not None:
                y += bias[:, None]
            ctx.save_for_backward(xhat, weight, invstd)
        else:
            # Evaluation: a fixed per-channel affine map y = x * scale + shift.
            invstd = dt(1) / np.sqrt(running_var.astype(x.dtype) + dt(eps))
            scale = invstd if weight is None else invstd * weight
            shift = -running_mean.astype(x.dtype) * scale
            if bias is not None:
                shift += bias
            y = x3 * scale[:, None]
            y += shift[:, None]
            need_x = ctx.needs_input_grad[1]  # dγ needs x̂, recomputed from x
            ctx.save_for_backward(
                x3 if need_x else None, running_mean.astype(x.dtype) if need_x else None, invstd, scale
            )
        ctx.training = training
        ctx.has_weight, ctx.has_bias = weight is not None, bias is not None
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        n, c = ctx.x_shape[:2]
        g3 = grad.reshape(n, c, math.prod(ctx.x_shape[2:]))
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gx = gw = gb = None
        if ctx.empty:  # no values: zero gradients for γ and β
            zeros = np.zeros(c, grad.dtype)
            return grad.copy(), zeros if need_w else None, zeros if need_b else None, None, None, None, None, None
        if ctx.training and _in_kernel_dtype(ctx):
            xhat, weight, invstd = ctx.saved_arrays
            g3 = np.ascontiguousarray(g3, dtype=xhat.dtype)
            gx = np.empty_like(g3) if need_x else np.empty((0, 0, 0), xhat.dtype)
            dgamma, dbeta = np.empty(c), np.empty(c)
            w = weight if weight is not None else np.ones(c, xhat.dtype)
            batch_norm_train_backward(g3, xhat, w, invstd, gx, dgamma, dbeta)
            gx = gx.reshape(ctx.x_shape) if need_x else None
            gw = dgamma.astype(xhat.dtype) if need_w else None
            gb = dbeta.astype(xhat.dtype) if need_b else None
        elif ctx.training:
            xhat, weight, invstd = ctx.saved_arrays
            dt = xhat.dtype.type
            m = xhat.shape[0] * xhat.shape[2]
            dbeta = _channel_sum(g3)
            dgamma = _channel_dot(g3, xhat)
            if need_x:
                # dx = γ σ⁻¹ / M · (M ĝ - dβ - x̂ dγ) = γ σ⁻¹ · (ĝ - (dβ + x̂ dγ) / M)
                tmp = xhat * (dgamma / dt(m))[:, None]  # the one temporary, which becomes dx
                tmp += (dbeta / dt(m))[:, None]
                np.subtract(g3, tmp, out=tmp)
                tmp *= (invstd if weight is None else invstd * weight)[:, None]
                gx = tmp.reshape(ctx.x_shape)
            gw = dgamma if need_w else None
            gb = dbeta if need_b else None
        else:
            x3, running_mean, invstd, scale = ctx.saved_arrays
            if need_x:
                gx = (g3 * scale[:, None]).reshape(ctx.x_shape)  # a diagonal map: its own adjoint
            if need_w:
                gw = _channel_sum(g3 * ((x3 - running_mean[:, None]) * invstd[:, None]))
            if need_b:
                gb = _channel_sum(g3)
        return gx, gw, gb, None, None, None, None, None


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation over dimension 1 (channels), PyTorch's ``F.batch_norm``.

    Args:
        input: ``(N, C)``, ``(N, C, L)`` or ``(N, C, H, W)``, floating point.
        running_mean, running_var: ``(C,)`` buffers, updated in place when ``training``
            (with the unbiased batch variance); used for normalising when not ``training``.
            May be None in training (nothing is tracked).
        weight, bias: ``(C,)`` affine parameters γ and β, or None.
        training: normalise with the batch's statistics (True) or the running ones (False).
        momentum: weight of the new batch in the running averages.
        eps: added to the variance before the square root.

    Shape:
        output has the shape of ``input``.

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> x = tinynet.tensor([[1.0], [3.0]])          # N=2, C=1
        >>> rm, rv = tinynet.zeros(1), tinynet.ones(1)
        >>> F.batch_norm(x, rm, rv, training=True)      # mean 2, biased variance 1
        tensor([[-1.],
                [ 1.]])
        >>> rm, rv                                       # 0.9*0 + 0.1*2, 0.9*1 + 0.1*2 (unbiased var)
        (tensor([0.2]), tensor([1.1]))
    """
    check_tensor(input, "batch_norm", "input", floating=True)
    if input.ndim < 2:
        raise ValueError(
            f"batch_norm: expected input of shape (N, C, ...), got {input.ndim}-D shape {tuple(input.shape)}"
        )
    c = input.shape[1]
    if (running_mean is None) != (running_var is None):
        raise ValueError(
            "batch_norm: running_mean and running_var must either both be None or neither be None, got "
            f"running_mean={'None' if running_mean is None else 'a Tensor'} and "
            f"running_var={'None' if running_var is None else 'a Tensor'}"
        )
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None:
            check_channel_vector(t, name, c, input, same_dtype=False)
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None:
            check_channel_vector(t, name, c, input, same_dtype=True)
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"batch_norm: training must be a bool, got {training!r}")
    if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real):
        raise TypeError(f"batch_norm: momentum must be a number, got {momentum!r}")
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise TypeError(f"batch_norm: eps must be a number, got {eps!r}")
    if training:
        per_channel = input.size(0) * int(np.prod(input.shape[2:]))
        if per_channel == 1:
            raise ValueError(
                f"batch_norm: Expected more than 1 value per channel when training, got input size {tuple(input.shape)}"
            )
        if eps <= 0:
            raise ValueError(f"batch_norm: eps must be positive during training, but got {eps}")
    else:
        if eps < 0:
            raise ValueError(f"batch_norm: eps must be non-negative, but got {eps}")
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean and running_var must be defined in evaluation mode")
    return BatchNorm.apply(input, weight, bias, running_mean, running_var, bool(training), float(momentum), float(eps))
