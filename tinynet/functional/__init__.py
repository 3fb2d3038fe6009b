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
from tinynet.functional.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d, convolve2d
from tinynet.functional.dropout import dropout, dropout2d
from tinynet.functional.linear import linear
from tinynet.functional.loss import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    dice_loss,
    l1_loss,
    mse_loss,
    nll_loss,
)
from tinynet.functional.normalization import batch_norm
from tinynet.functional.pooling import (
    adaptive_avg_pool2d,
    avg_pool2d,
    max_pool2d,
    max_pool2d_with_indices,
    max_unpool2d,
)
from tinynet.functional.resample import interpolate, pixel_shuffle, pixel_unshuffle, upsample

__all__ = sorted(n for n, v in globals().items() if not n.startswith("_") and not isinstance(v, _types.ModuleType))
