"""Simple layers: Identity, Flatten, Linear, activations and dropout (PyTorch's names and defaults).

Each module holds its parameters, checks its arguments once in ``__init__`` and
calls one functional op in ``forward``.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from tinynet import functional as F
from tinynet.nn import init
from tinynet.nn.module import Module, Parameter
from tinynet.tensor import Tensor, _as_dtype

__all__ = [
    "Identity",
    "Flatten",
    "Linear",
    "ReLU",
    "LeakyReLU",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "LogSoftmax",
    "Dropout",
    "Dropout2d",
]


def _check_features(value, layer: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{layer}: {name} must be a non-negative int, got {value!r}")
    return int(value)


def _check_device(device, layer: str) -> None:
    """tinynet runs on the CPU: ``device`` may be None or 'cpu' (PyTorch's keyword, accepted for compatibility)."""
    if device is not None and str(device) != "cpu":
        raise ValueError(f"{layer}: tinynet runs on the CPU only, got device={device!r}")


def _float_dtype(dtype, layer: str) -> np.dtype:
    dt = np.dtype(np.float32) if dtype is None else _as_dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"{layer}: dtype must be a floating-point dtype, got {dt}")
    return dt


class Identity(Module):
    """Returns its input unchanged (a placeholder layer; arguments are ignored, as in PyTorch).

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> nn.Identity()(tinynet.ones(2))
        tensor([1., 1.])
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Flatten(Module):
    """Flatten the dimensions ``start_dim`` to ``end_dim`` into one (by default all but the batch).

    Args:
        start_dim: first dimension to flatten (default 1).
        end_dim: last dimension to flatten (default -1).

    Shape:
        - input: ``(N, *dims)``
        - output: ``(N, prod(dims))`` for the defaults; in general the flattened
          dimensions are replaced by their product.

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> nn.Flatten()(tinynet.zeros(2, 3, 4, 5)).shape
        (2, 60)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        for name, v in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise TypeError(f"Flatten: {name} must be an int, got {v!r}")
        self.start_dim = int(start_dim)
        self.end_dim = int(end_dim)

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"Flatten: input must be a Tensor, got {type(input).__name__}")
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Linear(Module):
    """Fully connected layer ``y = x Wᵀ + b`` (PyTorch's ``nn.Linear``).

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias (default True).
        dtype: parameter dtype (default float32).

    Attributes:
        weight: ``(out_features, in_features)``, initialised from U(-k, k) with
            k = 1 / sqrt(in_features) (``kaiming_uniform_(a=sqrt(5))``, PyTorch's default).
        bias: ``(out_features,)`` from the same U(-k, k).

    Shape:
        - input: ``(*, in_features)``
        - output: ``(*, out_features)``

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> layer = nn.Linear(3, 2)
        >>> layer
        Linear(in_features=3, out_features=2, bias=True)
        >>> layer(tinynet.ones(5, 3)).shape
        (5, 2)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.in_features = _check_features(in_features, "Linear", "in_features")
        self.out_features = _check_features(out_features, "Linear", "out_features")
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"Linear: bias must be a bool, got {bias!r}")
        _check_device(device, "Linear")
        dt = _float_dtype(dtype, "Linear")
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dt))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's initialisation: weight and bias uniform in ±1/sqrt(in_features)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class ReLU(Module):
    """``max(x, 0)`` elementwise.

    ``inplace`` is accepted for PyTorch compatibility; tinynet always returns a new tensor
    (the tape would otherwise lose the value it needs for the backward).

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> nn.ReLU()(tinynet.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """``x`` for x > 0, ``negative_slope * x`` otherwise.

    Args:
        negative_slope: the slope for x <= 0 (default 0.01).
        inplace: accepted for PyTorch compatibility; tinynet always returns a new tensor.

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> nn.LeakyReLU(0.1)(tinynet.tensor([-10.0, 2.0]))
        tensor([-1.,  2.])
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, numbers.Real):
            raise TypeError(f"LeakyReLU: negative_slope must be a number, got {negative_slope!r}")
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """``1 / (1 + exp(-x))`` elementwise.

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> nn.Sigmoid()(tinynet.zeros(2))
        tensor([0.5, 0.5])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Tanh(Module):
    """Hyperbolic tangent elementwise.

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> nn.Tanh()(tinynet.zeros(2))
        tensor([0., 0.])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


def _check_dim(dim, name: str):
    if dim is not None and (isinstance(dim, bool) or not isinstance(dim, numbers.Integral)):
        raise TypeError(f"{name}: dim must be an int or None, got {dim!r}")
    return dim


def _legacy_softmax_dim(name: str, ndim: int) -> int:
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an argument.",
        UserWarning,
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """``exp(x) / sum(exp(x))`` along ``dim``: each slice along ``dim`` becomes a probability vector.

    Args:
        dim: the dimension to normalise. ``None`` picks PyTorch's legacy default
            (0 for 0-, 1- and 3-D inputs, else 1) with PyTorch's deprecation warning.

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> nn.Softmax(dim=1)(tinynet.zeros(1, 4))
        tensor([[0.25, 0.25, 0.25, 0.25]])
    """

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = _check_dim(dim, "Softmax")

    def forward(self, input: Tensor) -> Tensor:
        dim = self.dim if self.dim is not None else _legacy_softmax_dim("softmax", input.ndim)
        return F.softmax(input, dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """``log(softmax(x))`` along ``dim``, computed stably as ``x - logsumexp(x)``.

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> nn.LogSoftmax(dim=0)(tinynet.zeros(2))
        tensor([-0.6931, -0.6931])
    """

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = _check_dim(dim, "LogSoftmax")

    def forward(self, input: Tensor) -> Tensor:
        dim = self.dim if self.dim is not None else _legacy_softmax_dim("log_softmax", input.ndim)
        return F.log_softmax(input, dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real):
            raise TypeError(f"{type(self).__name__}: p must be a number, got {p!r}")
        if not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """In training, zero each element with probability ``p`` and scale the rest by ``1/(1-p)``; identity in eval.

    The mask comes from tinynet's generator, so ``tinynet.manual_seed`` makes it repeatable.

    Args:
        p: the probability of zeroing an element, in [0, 1] (default 0.5).
        inplace: accepted for PyTorch compatibility; tinynet always returns a new tensor.

    Shape:
        output has the shape of the input.

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> drop = nn.Dropout(p=0.5)
        >>> drop.eval()(tinynet.ones(3))
        tensor([1., 1., 1.])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)


class Dropout2d(_DropoutNd):
    """In training, zero whole channels ``x[n, c]`` with probability ``p`` and scale the rest by ``1/(1-p)``.

    Shape:
        - input: ``(N, C, H, W)``
        - output: same shape as the input

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> nn.Dropout2d(p=0.3)
        Dropout2d(p=0.3, inplace=False)
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training)
