"""tinynet: a small, readable deep-learning framework with a PyTorch-shaped API.

Every linear layer is an adjoint pair: the backward of a convolution is the
transposed convolution, and ``tinynet.testing`` proves it for any op.
"""

from tinynet import autograd, data, functional, io, nn, optim, testing  # noqa: E402  (nn needs the names above)
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
from tinynet.summary import summary
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


def __getattr__(name: str):
    # tinynet.viz imports matplotlib (slow); load it only when first used.
    if name == "viz":
        import importlib

        return importlib.import_module("tinynet.viz")
    raise AttributeError(f"module 'tinynet' has no attribute {name!r}")
