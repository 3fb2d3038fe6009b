"""Weight initialisation (PyTorch's ``torch.nn.init``), drawing from tinynet's generator.

The formulas are PyTorch's, so a layer's default initialisation has the same
distribution as in PyTorch: ``kaiming_uniform_(w, a=sqrt(5))`` for conv and
linear weights gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from tinynet.random import resolve_generator
from tinynet.tensor import Tensor

__all__ = [
    "calculate_gain",
    "kaiming_uniform_",
    "kaiming_normal_",
    "xavier_uniform_",
    "xavier_normal_",
    "uniform_",
    "normal_",
    "zeros_",
    "ones_",
    "constant_",
]


def _check(t, fn: str) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"nn.init.{fn}: expected a Tensor, got {type(t).__name__}")
    if t.dtype.kind != "f":
        raise TypeError(f"nn.init.{fn}: expected a floating-point tensor, got dtype {t.dtype}")
    return t


def _number(value, fn: str, name: str, *, minimum: float | None = None) -> float:
    """A finite real number (>= ``minimum`` if given)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"nn.init.{fn}: {name} must be a finite number, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"nn.init.{fn}: {name} must be >= {minimum}, got {value!r}")
    return float(value)


def _fill(t: Tensor, values: np.ndarray) -> Tensor:
    t.data[...] = values.astype(t.dtype, copy=False)  # in place, like PyTorch's trailing underscore
    return t


def _fans(t: Tensor, fn: str) -> tuple[int, int]:
    if t.ndim < 2:
        raise ValueError(
            f"nn.init.{fn}: fan in and fan out cannot be computed for a tensor with fewer than 2 dimensions (shape {tuple(t.shape)})"
        )
    receptive = int(np.prod(t.shape[2:])) if t.ndim > 2 else 1
    return t.shape[1] * receptive, t.shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table): the factor that keeps activations' scale.

    Example:
        >>> from tinynet.nn import init
        >>> round(init.calculate_gain("relu"), 4), init.calculate_gain("tanh")
        (1.4142, 1.6666666666666667)
    """
    linear = {
        "linear",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "sigmoid",
    }
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill ``tensor`` in place with samples of U(a, b) from tinynet's generator; returns it.

    Example:
        >>> import tinynet
        >>> from tinynet.nn import init
        >>> w = init.uniform_(tinynet.zeros(1000), -0.5, 0.5)
        >>> bool((w.abs() <= 0.5).all())
        True
    """
    _check(tensor, "uniform_")
    a, b = _number(a, "uniform_", "a"), _number(b, "uniform_", "b")
    if b < a:
        raise ValueError(f"nn.init.uniform_: the bounds must satisfy a <= b, got a={a!r}, b={b!r}")
    g = resolve_generator(generator, "uniform_")
    return _fill(tensor, g.uniform(a, b, size=tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill ``tensor`` in place with samples of N(mean, std²) from tinynet's generator; returns it.

    Example:
        >>> import tinynet
        >>> from tinynet.nn import init
        >>> w = init.normal_(tinynet.zeros(10000), mean=3.0, std=0.1)
        >>> round(float(w.mean()), 1)
        3.0
    """
    _check(tensor, "normal_")
    mean, std = _number(mean, "normal_", "mean"), _number(std, "normal_", "std", minimum=0.0)
    g = resolve_generator(generator, "normal_")
    return _fill(tensor, g.normal(mean, std, size=tensor.shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill ``tensor`` in place with ``val``; returns it.

    Example:
        >>> import tinynet
        >>> from tinynet.nn import init
        >>> init.constant_(tinynet.zeros(2), 0.5)
        tensor([0.5, 0.5])
    """
    _check(tensor, "constant_")
    if isinstance(val, bool) or not isinstance(val, numbers.Real):  # None would silently fill NaN
        raise TypeError(f"nn.init.constant_: val must be a number, got {val!r}")
    tensor.data[...] = val
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with 0 in place (a bias's usual start); returns it.

    Example:
        >>> import tinynet
        >>> from tinynet.nn import init
        >>> init.zeros_(tinynet.ones(2))
        tensor([0., 0.])
    """
    return constant_(_check(tensor, "zeros_"), 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with 1 in place (BatchNorm's γ starts here); returns it.

    Example:
        >>> import tinynet
        >>> from tinynet.nn import init
        >>> init.ones_(tinynet.zeros(2))
        tensor([1., 1.])
    """
    return constant_(_check(tensor, "ones_"), 1.0)


def _fan(tensor: Tensor, mode: str, fn: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"nn.init.{fn}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(tensor, fn)
    return fan_in if mode == "fan_in" else fan_out


def kaiming_uniform_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator=None
) -> Tensor:
    """Fill ``tensor`` from U(-b, b) with b = gain · sqrt(3 / fan) (He et al., 2015); returns it.

    ``fan`` is fan_in = C_in · kH · kW (or fan_out = C_out · kH · kW) of a weight shaped
    (C_out, C_in, kH, kW) or (out, in); gain = sqrt(2 / (1 + a²)) for leaky_relu. PyTorch's
    default for Linear and Conv weights is ``a=sqrt(5)``, which gives b = 1 / sqrt(fan_in).

    Example:
        >>> import math, tinynet
        >>> from tinynet.nn import init
        >>> w = init.kaiming_uniform_(tinynet.zeros(64, 25), a=math.sqrt(5))
        >>> bool(w.abs().max() <= 1 / math.sqrt(25))
        True
    """
    _check(tensor, "kaiming_uniform_")
    fan = _fan(tensor, mode, "kaiming_uniform_")
    if fan == 0:
        return tensor  # PyTorch warns and leaves a zero-element tensor alone
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator=None
) -> Tensor:
    """Fill ``tensor`` from N(0, std²) with std = gain / sqrt(fan) (He et al., 2015); returns it.

    ``mode`` picks fan_in (keeps the forward variance) or fan_out (keeps the backward's).

    Example:
        >>> import tinynet
        >>> from tinynet.nn import init
        >>> w = init.kaiming_normal_(tinynet.zeros(256, 128, 3, 3), nonlinearity="relu")  # std sqrt(2 / 1152)
        >>> round(float(w.std()) / (2 / 1152) ** 0.5, 1)
        1.0
    """
    _check(tensor, "kaiming_normal_")
    fan = _fan(tensor, mode, "kaiming_normal_")
    if fan == 0:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Fill ``tensor`` from U(-b, b) with b = gain · sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010).

    Example:
        >>> import tinynet
        >>> from tinynet.nn import init
        >>> w = init.xavier_uniform_(tinynet.zeros(3, 5))   # b = sqrt(6 / 8)
        >>> bool(w.abs().max() <= 0.8661)
        True
    """
    _check(tensor, "xavier_uniform_")
    gain = _number(gain, "xavier_uniform_", "gain")
    fan_in, fan_out = _fans(tensor, "xavier_uniform_")
    bound = gain * math.sqrt(6.0 / max(fan_in + fan_out, 1))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Fill ``tensor`` from N(0, std²) with std = gain · sqrt(2 / (fan_in + fan_out)); returns it.

    Example:
        >>> import tinynet
        >>> from tinynet.nn import init
        >>> w = init.xavier_normal_(tinynet.zeros(500, 300))   # std sqrt(2 / 800) = 0.05
        >>> round(float(w.std()), 2)
        0.05
    """
    _check(tensor, "xavier_normal_")
    gain = _number(gain, "xavier_normal_", "gain")
    fan_in, fan_out = _fans(tensor, "xavier_normal_")
    std = gain * math.sqrt(2.0 / max(fan_in + fan_out, 1))
    return normal_(tensor, 0.0, std, generator)
