"""Differentiable operations on Tensors (``tinynet.nn.functional``, imported as ``F``).

Each linear op sits next to its adjoint; kernels live in ``tinynet.kernels``.
"""

# Every public function above (submodules are not part of the API).
import types as _types  # noqa: E402

from tinynet.functional.activation import (
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    tanh,
)

__all__ = sorted(n for n, v in globals().items() if not n.startswith("_") and not isinstance(v, _types.ModuleType))
