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

Second derivatives. In training the op has two hidden outputs besides y: x̂ and s = 1/σ
(what backward needs, saved as outputs so that a derivative can flow through them). The
gradient above is the Function ``BatchNormGrad`` of (ĝ, x̂, s, γ), whose forward is the
fused kernel and whose backward is its derivative in ops, treating x̂ and s as variables.
What reaches x̂ and s goes back to x through their own adjoints: x̂ = (x - μ) s gives
dx = s (G - mean(G) - x̂ mean(G x̂)), which is ``BatchNormGrad`` again with γ = 1, and
s = (σ² + eps)^(-1/2) gives dx = -G_s s² x̂ / M. The running statistics are not differentiated.
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


def _update_running(running_mean, running_var, mean, var, momentum: float, m: int) -> None:
    """r ← (1 - momentum) r + momentum · s, with the unbiased variance σ² M / (M - 1) as PyTorch stores it."""
    if running_mean is not None:
        running_mean *= 1 - momentum
        running_mean += momentum * mean
    if running_var is not None:
        running_var *= 1 - momentum
        running_var += momentum * var * var.dtype.type(m / (m - 1))


class BatchNorm(Function):
    """y = γ x̂ + β per channel; in training its outputs are (y, x̂ (N, C, L), s (C,)), see the module docstring."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        n, c = x.shape[:2]
        x3 = x.reshape(n, c, math.prod(x.shape[2:]))  # (N, C, L) with L = H*W (1 for (N, C) inputs)
        dt = x.dtype.type
        ctx.x_shape = x.shape
        ctx.empty = x.size == 0
        ctx.training = training
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
                x if need_x else None, running_mean.astype(x.dtype) if need_x else None, invstd, weight
            )
            return y.reshape(x.shape)
        ctx.save_for_backward(xhat, invstd, weight)
        return y.reshape(x.shape), xhat, invstd

    @staticmethod
    def backward(ctx, grad, grad_xhat=None, grad_invstd=None):
        n, c = ctx.x_shape[:2]
        length = math.prod(ctx.x_shape[2:])
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        nones = (None,) * 5
        if ctx.empty:  # no values: zero gradients for γ and β
            zeros = Tensor._wrap(np.zeros(c, grad.dtype))
            return grad, zeros if need_w else None, zeros if need_b else None, *nones
        if not ctx.training:
            x, running_mean, invstd, weight = ctx.saved_tensors
            g3 = grad.reshape(n, c, length)
            scale = invstd if weight is None else invstd * weight
            gx = (g3 * scale.reshape(1, c, 1)).reshape(ctx.x_shape) if need_x else None  # a diagonal map
            gw = gb = None
            if need_w:
                xhat = (x.reshape(n, c, length) - running_mean.reshape(1, c, 1)) * invstd.reshape(1, c, 1)
                gw = (g3 * xhat).sum((0, 2))
            if need_b:
                gb = g3.sum((0, 2))
            return gx, gw, gb, *nones
        xhat, invstd, weight = ctx.saved_tensors  # x̂ and s as outputs on the tape
        gx = gw = gb = None
        if grad is not None:
            gx, gw, gb = BatchNormGrad.apply(grad, xhat, invstd, weight, ctx.x_shape)
        if grad_xhat is not None:  # x̂ = (x - μ) s: its adjoint is the batch-norm gradient with γ = 1
            through = BatchNormGrad.apply(grad_xhat, xhat, invstd, None, ctx.x_shape)[0]
            gx = through if gx is None else gx + through
        if grad_invstd is not None:  # s = (σ² + eps)^(-1/2): ds/dx = -s² x̂ / M
            factor = grad_invstd * invstd * invstd * (-1.0 / (n * length))
            through = (xhat * factor.reshape(1, c, 1)).reshape(ctx.x_shape)
            gx = through if gx is None else gx + through
        return gx, gw if need_w else None, gb if need_b else None, *nones


class BatchNormGrad(Function):
    """The training-mode gradient (dx, dγ, dβ) of batch norm from (ĝ, x̂, s, γ) (``forward``: the fused pass).

    Per channel with means ⟨·⟩ over the M values: dx = γ s (ĝ - ⟨ĝ⟩ - x̂ ⟨ĝ x̂⟩), dγ = Σ ĝ x̂,
    dβ = Σ ĝ. Its backward, with x̂ and s as independent variables and (u, a, b) the gradients of
    (dx, dγ, dβ), writing h(v) = v - ⟨v⟩ - x̂ ⟨v x̂⟩ (a projection, its own adjoint):
    d/dĝ = γ s h(u) + a x̂ + b; d/dx̂ = -γ s (⟨ĝ x̂⟩ u + ⟨u x̂⟩ ĝ) + a ĝ;
    d/ds = γ Σ u h(ĝ); d/dγ = s Σ u h(ĝ).
    """

    @staticmethod
    def forward(ctx, grad, xhat, invstd, weight, x_shape):
        n, c, length = xhat.shape
        g3 = grad.reshape(n, c, length)
        if xhat.dtype in _KERNEL_DTYPES:
            g3 = np.ascontiguousarray(g3, dtype=xhat.dtype)
            gx = np.empty_like(g3)
            dgamma, dbeta = np.empty(c), np.empty(c)
            w = weight if weight is not None else np.ones(c, xhat.dtype)
            batch_norm_train_backward(g3, xhat, w, invstd, gx, dgamma, dbeta)
            dgamma, dbeta = dgamma.astype(xhat.dtype), dbeta.astype(xhat.dtype)
        else:
            dt = xhat.dtype.type
            m = n * length
            dbeta = _channel_sum(g3)
            dgamma = _channel_dot(g3, xhat)
            # dx = γ σ⁻¹ / M · (M ĝ - dβ - x̂ dγ) = γ σ⁻¹ · (ĝ - (dβ + x̂ dγ) / M)
            gx = xhat * (dgamma / dt(m))[:, None]  # the one temporary, which becomes dx
            gx += (dbeta / dt(m))[:, None]
            np.subtract(g3, gx, out=gx)
            gx *= (invstd if weight is None else invstd * weight)[:, None]
        ctx.save_for_backward(grad, xhat, invstd, weight)
        return gx.reshape(x_shape), dgamma, dbeta

    @staticmethod
    def backward(ctx, u, a, b):
        grad, xhat, invstd, weight = ctx.saved_tensors
        n, c, length = xhat.shape
        g3 = grad.reshape(n, c, length)
        s = invstd.reshape(1, c, 1)
        gamma = 1.0 if weight is None else weight.reshape(1, c, 1)
        dg = dxhat = ds = dgamma = None

        def mean(v):
            return v.mean((0, 2), keepdim=True)

        def add(total, term):
            return term if total is None else total + term

        if u is not None:
            u3 = u.reshape(n, c, length)
            dg = gamma * s * (u3 - mean(u3) - xhat * mean(u3 * xhat))
            dxhat = -gamma * s * (mean(g3 * xhat) * u3 + mean(u3 * xhat) * g3)
            u_h = (u3 * (g3 - mean(g3) - xhat * mean(g3 * xhat))).sum((0, 2))  # Σ u h(ĝ), (C,)
            ds = u_h if weight is None else weight * u_h
            dgamma = invstd * u_h
        if a is not None:
            dg = add(dg, xhat * a.reshape(1, c, 1))
            dxhat = add(dxhat, g3 * a.reshape(1, c, 1))
        if b is not None:
            dg = add(dg, b.reshape(1, c, 1).expand(n, c, length))
        dg = None if dg is None else dg.reshape(grad.shape)
        return dg, dxhat, ds, dgamma if weight is not None else None, None


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
    out = BatchNorm.apply(input, weight, bias, running_mean, running_var, bool(training), float(momentum), float(eps))
    return out[0] if isinstance(out, tuple) else out
