"""Dropout: zero random elements (or whole channels) in training and rescale the rest.

With keep probability q = 1 - p, ``y = x * m / q`` where m is a 0/1 mask drawn
once per call, so E[y] = x and evaluation can use the identity. For a fixed mask
the map is diagonal, hence its own adjoint: the backward multiplies the
gradient by the same ``m / q``. The mask is drawn from tinynet's generator
(``tinynet.manual_seed``), so a seeded run drops the same units.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from tinynet.autograd import Function
from tinynet.functional._validate import check_tensor
from tinynet.random import Generator, resolve_generator
from tinynet.tensor import Tensor

__all__ = ["dropout", "dropout2d"]


class MaskScale(Function):
    """``x * mask * scale`` for a boolean ``mask`` that broadcasts against x."""

    @staticmethod
    def forward(ctx, x, mask, scale):
        ctx.save_for_backward(mask)
        ctx.scale = scale
        if mask.size < x.size:  # a per-channel mask: fold the scale into it, one pass over x
            return x * (mask * x.dtype.type(scale))
        y = np.multiply(x, mask, dtype=x.dtype)  # a full-size mask stays boolean (1 byte per element)
        y *= x.dtype.type(scale)
        return y

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_arrays  # a constant: drawn at random, not computed from x
        # A diagonal map is self-adjoint: the gradient goes through the same op, same mask and scale.
        return MaskScale.apply(grad, mask, ctx.scale), None, None


def _check_p(p, op: str) -> float:
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"{op}: p must be a number, got {p!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def _check_training(training, op: str) -> bool:
    # ``if not training`` would treat training="False" (or None) as a truth value: refuse instead.
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"{op}: training must be a bool, got {training!r}")
    return bool(training)


def _drop(input: Tensor, p: float, mask_shape: tuple, generator: Generator) -> Tensor:
    if p == 1.0:  # everything dropped: zeros (and zero gradients), not 0 * inf
        return MaskScale.apply(input, np.zeros(mask_shape, dtype=bool), 0.0)
    mask = generator.random(mask_shape, dtype=np.float32) >= np.float32(p)  # P(keep) = 1 - p
    return MaskScale.apply(input, mask, 1.0 / (1.0 - p))


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False, *, generator=None) -> Tensor:
    """Zero each element with probability ``p`` during training and scale the rest by ``1 / (1 - p)``.

    Args:
        input: any shape, floating point.
        p: probability of an element being zeroed, in [0, 1].
        training: apply dropout if True; otherwise return ``input`` unchanged.
        inplace: accepted for PyTorch compatibility; tinynet always returns a new tensor.
        generator: a ``tinynet.Generator`` to draw the mask from (default: the global one).

    Shape:
        output has the shape of ``input``.

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> g = tinynet.Generator().manual_seed(0)
        >>> y = F.dropout(tinynet.ones(1000), p=0.2, generator=g)
        >>> sorted(set(y.tolist()))  # dropped, or kept and scaled by 1 / 0.8
        [0.0, 1.25]
        >>> F.dropout(tinynet.ones(3), p=0.2, training=False)
        tensor([1., 1., 1.])
    """
    check_tensor(input, "dropout", "input", floating=True)
    p = _check_p(p, "dropout")
    training = _check_training(training, "dropout")
    generator = resolve_generator(generator, "dropout")
    if not training or p == 0.0:
        return input
    return _drop(input, p, input.shape, generator)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False, *, generator=None) -> Tensor:
    """Zero whole channels: each ``input[n, c]`` is zeroed with probability ``p`` (spatial dropout).

    Neighbouring pixels of a feature map are strongly correlated, so dropping single
    pixels barely regularises a CNN; dropping a channel does (Tompson et al., 2015).

    Args:
        input: ``(N, C, H, W)``; a 3-D input is treated as ``(N, C, L)`` like PyTorch does today
            (with PyTorch's warning).
        p: probability of a channel being zeroed, in [0, 1].
        training: apply dropout if True; otherwise return ``input`` unchanged.
        inplace: accepted for PyTorch compatibility; tinynet always returns a new tensor.
        generator: a ``tinynet.Generator`` to draw the mask from (default: the global one).

    Shape:
        output has the shape of ``input``; the mask has shape ``(N, C, 1, 1)``.

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> g = tinynet.Generator().manual_seed(1)
        >>> y = F.dropout2d(tinynet.ones(1, 8, 2, 2), p=0.5, generator=g)
        >>> per_channel = y.sum(dim=(2, 3)).tolist()[0]
        >>> set(per_channel) <= {0.0, 8.0}  # each channel is all 0 or all 2
        True
    """
    check_tensor(input, "dropout2d", "input", floating=True)
    p = _check_p(p, "dropout2d")
    training = _check_training(training, "dropout2d")
    generator = resolve_generator(generator, "dropout2d")
    if input.ndim < 2:
        raise ValueError(f"dropout2d: expected a 4-D (N, C, H, W) input, got shape {tuple(input.shape)}")
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
            "is desired - input is interpreted as shape (N, C, L), where C is the channel dim (as PyTorch 2.13).",
            UserWarning,
            stacklevel=2,
        )
    elif input.ndim != 4:
        warnings.warn(
            f"dropout2d: Received a {input.ndim}-D input to dropout2d, which expects 3-D or 4-D inputs; "
            "dropping along the first two dimensions (as PyTorch does).",
            UserWarning,
            stacklevel=2,
        )
    if not training or p == 0.0:
        return input
    return _drop(input, p, input.shape[:2] + (1,) * (input.ndim - 2), generator)
