"""Activations: thin functional forms of the Tensor's pointwise ops."""

from __future__ import annotations

from tinynet import tensor_functions
from tinynet.functional._validate import check_tensor
from tinynet.tensor import Tensor

__all__ = ["relu", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax"]


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0) elementwise; the gradient at 0 is 0, as in PyTorch.

    Args:
        input: a tensor of any shape.
        inplace: accepted for PyTorch compatibility; tinynet always returns a new tensor.

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> F.relu(tinynet.tensor([-1.0, 0.0, 2.0]))
        tensor([0., 0., 2.])
    """
    check_tensor(input, "relu", "input")
    return input.relu()


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, ``negative_slope * x`` otherwise.

    Args:
        input: a floating-point tensor of any shape.
        negative_slope: the slope for x <= 0 (a number).
        inplace: accepted for PyTorch compatibility; tinynet always returns a new tensor.

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> F.leaky_relu(tinynet.tensor([-2.0, 3.0]), 0.5)
        tensor([-1.,  3.])
    """
    check_tensor(input, "leaky_relu", "input", floating=True)
    if not isinstance(negative_slope, (int, float)) or isinstance(negative_slope, bool):
        raise TypeError(f"leaky_relu: negative_slope must be a number, got {negative_slope!r}")
    return tensor_functions.LeakyReLU.apply(input, float(negative_slope))


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + e^(-x)) elementwise, computed without overflow.

    Args:
        input: a tensor of any shape.

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> F.sigmoid(tinynet.tensor([-1000.0, 0.0, 1000.0]))
        tensor([0. , 0.5, 1. ])
    """
    check_tensor(input, "sigmoid", "input")
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent, elementwise.

    Args:
        input: a tensor of any shape.

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> F.tanh(tinynet.tensor([0.0, 100.0]))
        tensor([0., 1.])
    """
    check_tensor(input, "tanh", "input")
    return input.tanh()


def softmax(input: Tensor, dim: int) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim`` (shifted by the max for stability).

    Args:
        input: a floating-point tensor of any shape.
        dim: the dimension whose entries sum to 1.

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> F.softmax(tinynet.tensor([0.0, 0.0]), dim=0)
        tensor([0.5, 0.5])
    """
    check_tensor(input, "softmax", "input", floating=True)
    return input.softmax(dim)


def log_softmax(input: Tensor, dim: int) -> Tensor:
    """x - logsumexp(x) along ``dim``, stable for large inputs.

    Args:
        input: a floating-point tensor of any shape.
        dim: the dimension to normalise over.

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> F.log_softmax(tinynet.tensor([1000.0, 1000.0]), dim=0)  # log(1/2) each, no overflow
        tensor([-0.6931, -0.6931])
    """
    check_tensor(input, "log_softmax", "input", floating=True)
    return input.log_softmax(dim)
