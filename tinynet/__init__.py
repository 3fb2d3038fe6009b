"""tinynet: a small, readable deep-learning framework with a PyTorch-shaped API.

Every linear layer is an adjoint pair: the backward of a convolution is the
transposed convolution, and ``tinynet.testing`` proves it for any op.
"""

import importlib
import types

import tinynet.data.datasets  # noqa: F401  (16 ms; makes tinynet.data.datasets.Shapes resolve after `import tinynet`)
from tinynet import autograd, data, functional, io, nn, optim, summary, testing
from tinynet._dtypes import bool_, float32, float64, int32, int64, uint8
from tinynet.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from tinynet.creation import (
    arange,
    cat,
    from_numpy,
    full,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randperm,
    stack,
    tensor,
    where,
    zeros,
    zeros_like,
)
from tinynet.io import load, save
from tinynet.random import Generator, get_rng_state, manual_seed, seed, set_rng_state
from tinynet.tensor import Tensor

__version__ = "0.1.0"

__all__ = [
    "Tensor",
    "tensor",
    "zeros",
    "ones",
    "full",
    "arange",
    "rand",
    "randn",
    "randint",
    "randperm",
    "zeros_like",
    "ones_like",
    "cat",
    "stack",
    "where",
    "from_numpy",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "manual_seed",
    "seed",
    "Generator",
    "get_rng_state",
    "set_rng_state",
    "float32",
    "float64",
    "int64",
    "int32",
    "uint8",
    "bool_",
    "autograd",
    "functional",
    "nn",
    "optim",
    "testing",
    "data",
    "io",
    "save",
    "load",
    "summary",
]


class _CallableModule(types.ModuleType):
    """A module that, called, runs its function of the same name.

    ``tinynet.summary`` is the module (``tinynet.summary.summary`` and ``from tinynet.summary import
    summary`` work, as for torchinfo) and ``tinynet.summary(model, input_size)`` calls the function.
    """

    def __call__(self, *args, **kwargs):
        return getattr(self, self.__name__.rsplit(".", 1)[-1])(*args, **kwargs)


summary.__class__ = _CallableModule

# Imported on first use: viz needs matplotlib (slow); models and metrics are not needed to train.
_LAZY_SUBMODULES = ("viz", "models", "metrics")


def __getattr__(name: str):
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"tinynet.{name}")
    raise AttributeError(f"module 'tinynet' has no attribute {name!r}")


def __dir__() -> list:
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))
