"""``linear``: y = x Wᵀ + b, the affine map of every fully connected layer, as one Function.

For one sample, y = W x + b is the matrix W applied to the vector x. A batch
stacks samples as rows, so the forward is the GEMM ``Y = X Wᵀ`` and the adjoint
of ``x ↦ W x`` is ``g ↦ Wᵀ g``, i.e. ``G_X = G W`` for the rows. Seen as a
function of W for fixed X, ``W ↦ X Wᵀ`` is linear too, with adjoint
``G ↦ Gᵀ X``. The bias is copied to every row; the adjoint of a copy is a sum.
"""

from __future__ import annotations

from tinynet.autograd import Function
from tinynet.functional._validate import check_tensor, same_dtype
from tinynet.tensor import Tensor
from tinynet.tensor_functions import MatMul, Sum

__all__ = ["linear"]


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        out_features, in_features = weight.shape
        x2 = x.reshape(-1, in_features)  # (M, in), M = product of the leading dimensions
        y = x2 @ weight.T  # (M, out): one GEMM in BLAS (weight.T is a view, not a copy)
        if bias is not None:
            y += bias
        ctx.x_shape = x.shape
        ctx.has_bias = bias is not None
        # Keep only what the wanted gradients need: X for dW, W for dX (the arguments themselves,
        # so that a second derivative flows through them).
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, weight if ctx.needs_input_grad[0] else None)
        return y.reshape(x.shape[:-1] + (out_features,))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        g2 = grad if grad.ndim == 2 else grad.reshape(-1, grad.shape[-1])  # (M, out)
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = MatMul.apply(g2, weight)  # adjoint of x ↦ x Wᵀ: g ↦ g W (shapes known: no checks)
            gx = gx if grad.ndim == 2 else gx.reshape(ctx.x_shape)
        if ctx.needs_input_grad[1]:
            x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
            gw = LinearWeight.apply(g2, x2)  # adjoint of W ↦ X Wᵀ: G ↦ Gᵀ X, shape (out, in)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            gb = Sum.apply(g2, 0, False)  # the bias is copied to every row; the adjoint of copying is summing
        return gx, gw, gb


class LinearWeight(Function):
    """Gᵀ X: the weight gradient of :class:`Linear` as one op (not a transpose, then a product).

    It is bilinear, and its own gradients are products again: for an incoming gradient V (the
    shape of W), d/dG = X Vᵀ and d/dX = G V.
    """

    @staticmethod
    def forward(ctx, g, x):
        ctx.save_for_backward(g if ctx.needs_input_grad[1] else None, x if ctx.needs_input_grad[0] else None)
        return g.T @ x

    @staticmethod
    def backward(ctx, v):
        g, x = ctx.saved_tensors
        dg = x @ v.T if ctx.needs_input_grad[0] else None
        dx = g @ v if ctx.needs_input_grad[1] else None
        return dg, dx


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """Apply the affine map ``y = x Wᵀ + b`` to the last dimension of ``input``.

    Args:
        input: ``(*, in_features)``, any number of leading dimensions.
        weight: ``(out_features, in_features)``, PyTorch's layout.
        bias: ``(out_features,)`` or None.

    Shape:
        - input: ``(*, H_in)`` with ``H_in = in_features``
        - output: ``(*, H_out)`` with ``H_out = out_features``

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> x = tinynet.ones(2, 3)
        >>> w = tinynet.tensor([[1.0, 2.0, 3.0]])
        >>> F.linear(x, w, tinynet.tensor([0.5]))
        tensor([[6.5],
                [6.5]])
    """
    check_tensor(input, "linear", "input", floating=True)
    check_tensor(weight, "linear", "weight", ndim=2, floating=True)
    if input.ndim == 0:
        raise ValueError("linear: input must have at least 1 dimension (the features), got a 0-d tensor")
    same_dtype(input, weight, "linear", "input", "weight")
    if input.shape[-1] != weight.shape[1]:
        raise RuntimeError(
            f"linear: input has {input.shape[-1]} features (last dimension of shape {tuple(input.shape)}) "
            f"but weight expects {weight.shape[1]} (weight shape {tuple(weight.shape)})"
        )
    if bias is not None:
        check_tensor(bias, "linear", "bias", floating=True)
        same_dtype(input, bias, "linear", "input", "bias")
        if bias.shape != (weight.shape[0],):
            raise RuntimeError(
                f"linear: bias must have shape ({weight.shape[0]},) to match weight shape {tuple(weight.shape)}, "
                f"got {tuple(bias.shape)}"
            )
    return Linear.apply(input, weight, bias)
