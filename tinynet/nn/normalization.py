"""Batch normalisation layers (PyTorch's ``BatchNorm1d`` and ``BatchNorm2d``, same buffers and keys)."""

from __future__ import annotations

import numbers

import numpy as np

from tinynet import functional as F
from tinynet.nn import init
from tinynet.nn.layers import _check_device, _float_dtype
from tinynet.nn.module import Module, Parameter
from tinynet.tensor import Tensor

__all__ = ["BatchNorm1d", "BatchNorm2d"]


class _BatchNorm(Module):
    _expected_dims: tuple = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__()
        name = type(self).__name__
        if isinstance(num_features, bool) or not isinstance(num_features, numbers.Integral) or num_features <= 0:
            raise ValueError(f"{name}: num_features must be a positive int, got {num_features!r}")
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or eps < 0:
            raise ValueError(f"{name}: eps must be a non-negative number, got {eps!r}")
        if momentum is not None and (
            isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) or not 0 <= momentum <= 1
        ):
            raise ValueError(f"{name}: momentum must be a number in [0, 1] or None, got {momentum!r}")
        for flag, value in (("affine", affine), ("track_running_stats", track_running_stats), ("bias", bias)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{name}: {flag} must be a bool, got {value!r}")
        _check_device(device, name)
        dt = _float_dtype(dtype, name)
        self.num_features = int(num_features)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(np.empty(self.num_features, dtype=dt))
            if bias:
                self.bias = Parameter(np.empty(self.num_features, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor._wrap(np.zeros(self.num_features, dtype=dt)))
            self.register_buffer("running_var", Tensor._wrap(np.ones(self.num_features, dtype=dt)))
            self.register_buffer("num_batches_tracked", Tensor._wrap(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self) -> None:
        """Reset the running statistics; γ = 1 and β = 0 (PyTorch's initialisation)."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in self._expected_dims:
            want = " or ".join(f"{d}D" for d in self._expected_dims)
            raise ValueError(f"{name}: expected {want} input (got {input.ndim}D input with shape {tuple(input.shape)})")
        if input.shape[1] != self.num_features:
            raise RuntimeError(
                f"{name}: input has {input.shape[1]} channels (shape {tuple(input.shape)}) "
                f"but the layer was built for num_features={self.num_features}"
            )
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:  # cumulative moving average: the mean of all batches so far
                factor = 1.0 / float(self.num_batches_tracked.data)
        # Batch statistics in training, and in eval too when no running statistics exist.
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of ``(N, C)`` or ``(N, C, L)`` inputs over N (and L), per channel.

    See :class:`BatchNorm2d` for the statistics.

    Args:
        num_features, eps, momentum, affine, track_running_stats, dtype, bias: as in :class:`BatchNorm2d`.

    Shape:
        - input: ``(N, C)`` or ``(N, C, L)``
        - output: same shape as the input

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> bn = nn.BatchNorm1d(3)
        >>> bn(tinynet.randn(8, 3)).shape
        (8, 3)
    """

    _expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of ``(N, C, H, W)`` feature maps, per channel (PyTorch's ``nn.BatchNorm2d``).

    In training, each channel is normalised with the mean and the biased variance of its
    N·H·W values in the batch, then scaled by ``weight`` (γ) and shifted by ``bias`` (β).
    The buffers ``running_mean``/``running_var`` follow
    ``running = (1 - momentum) * running + momentum * batch_stat`` with the *unbiased*
    batch variance, and ``num_batches_tracked`` counts the training batches. In eval,
    the running statistics normalise instead (a fixed affine map per channel).

    Args:
        num_features: C, the number of channels.
        eps: added to the variance for stability (default 1e-5).
        momentum: weight of the new batch in the running statistics (default 0.1);
            ``None`` uses the cumulative average over all batches seen (factor 1/num_batches_tracked).
        affine: learn γ and β (default True).
        track_running_stats: keep running statistics (default True); if False, batch statistics
            are used in eval too and the buffers are None.
        dtype: dtype of parameters and buffers (default float32).
        bias: with ``affine``, learn β (default True; keyword-only, as in PyTorch).

    Shape:
        - input: ``(N, C, H, W)``
        - output: ``(N, C, H, W)`` (same shape)

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> bn = nn.BatchNorm2d(3)
        >>> bn
        BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
        >>> y = bn(tinynet.randn(4, 3, 5, 5))
        >>> [round(float(v), 4) for v in y.mean(dim=(0, 2, 3)).abs().tolist()]  # normalised per channel
        [0.0, 0.0, 0.0]
        >>> int(bn.num_batches_tracked)
        1
    """

    _expected_dims = (4,)
