"""Pooling layers: thin modules over :mod:`tinynet.functional.pooling` (PyTorch's names, arguments and repr)."""

from __future__ import annotations

from tinynet.functional import _checks
from tinynet.functional import pooling as P
from tinynet.nn.module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "MaxUnpool2d"]


class MaxPool2d(Module):
    """2-D max pooling; see :func:`tinynet.nn.functional.max_pool2d` for the arguments.

    With ``return_indices=True`` the layer returns ``(output, indices)``, the
    switches that :class:`MaxUnpool2d` uses to put each maximum back in place.

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out), with
          H_out = ⌊(H + 2·padding[0] − dilation[0]·(kernel_size[0] − 1) − 1 + c) / stride[0]⌋ + 1,
          c = stride[0] − 1 if ceil_mode else 0 (minus 1 if that last window starts at or past
          H + padding[0]); W_out likewise.

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> pool = nn.MaxPool2d(2)
        >>> pool
        MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
        >>> pool(tinynet.ones(1, 3, 8, 8)).shape
        (1, 3, 4, 4)
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        _checks.pool_window_args("MaxPool2d", kernel_size, stride, padding, dilation)
        _checks.check_flag(return_indices, "MaxPool2d", "return_indices")
        _checks.check_flag(ceil_mode, "MaxPool2d", "ceil_mode")
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return P.max_pool2d(
            input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode, self.return_indices
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(Module):
    """2-D average pooling; see :func:`tinynet.nn.functional.avg_pool2d` for the divisor rules.

    Args:
        kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override: as in
            :func:`tinynet.nn.functional.avg_pool2d` (``stride=None`` means ``kernel_size``).

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out), with
          H_out = ⌊(H + 2·padding[0] − kernel_size[0] + c) / stride[0]⌋ + 1,
          c = stride[0] − 1 if ceil_mode else 0 (minus 1 if that last window starts at or past
          H + padding[0]); W_out likewise.

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> pool = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
        >>> pool
        AvgPool2d(kernel_size=3, stride=1, padding=1)
        >>> pool(tinynet.ones(1, 1, 2, 2))
        tensor([[[[1., 1.],
                  [1., 1.]]]])
    """

    def __init__(
        self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None
    ):
        super().__init__()
        _checks.pool_window_args("AvgPool2d", kernel_size, stride, padding)
        _checks.check_flag(ceil_mode, "AvgPool2d", "ceil_mode")
        _checks.check_flag(count_include_pad, "AvgPool2d", "count_include_pad")
        _checks.check_divisor_override("AvgPool2d", divisor_override)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return P.avg_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size; see :func:`tinynet.nn.functional.adaptive_avg_pool2d`.

    Shape:
        - Input: (N, C, H, W) or (C, H, W)
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out), (H_out, W_out) = output_size
          (``None`` keeps the input's size on that axis).

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> gap = nn.AdaptiveAvgPool2d(1)
        >>> gap
        AdaptiveAvgPool2d(output_size=1)
        >>> gap(tinynet.ones(2, 5, 7, 3)).shape
        (2, 5, 1, 1)
    """

    def __init__(self, output_size):
        super().__init__()
        _checks.check_adaptive_output_size("AdaptiveAvgPool2d", output_size)
        self.output_size = output_size

    def forward(self, input):
        return P.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class MaxUnpool2d(Module):
    """The partial inverse of :class:`MaxPool2d`: values back to their switches, zeros elsewhere.

    ``forward(input, indices, output_size=None)``; see
    :func:`tinynet.nn.functional.max_unpool2d`, including what happens with
    duplicate indices (they add: the exact adjoint of max-pooling's gather).

    Shape:
        - Input, indices: (N, C, H, W) or (C, H, W)
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out), with
          H_out = (H − 1)·stride[0] − 2·padding[0] + kernel_size[0], or ``output_size``.

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
        >>> unpool
        MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))
        >>> x = tinynet.tensor([[[[1.0, 2.0], [4.0, 3.0]]]])
        >>> unpool(*pool(x))
        tensor([[[[0., 0.],
                  [4., 0.]]]])
    """

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        # PyTorch stores pairs here (unlike the pooling layers), which shows in the repr.
        self.kernel_size, self.stride, self.padding, _ = _checks.window_args(
            "MaxUnpool2d", kernel_size, stride, padding
        )

    def forward(self, input, indices, output_size=None):
        return P.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
