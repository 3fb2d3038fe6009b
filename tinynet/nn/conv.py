"""Convolution layers (PyTorch's names, arguments, weight shapes, initialisation and repr).

Each layer holds its parameters, checks its arguments once, and calls one op of
``tinynet.nn.functional``: ``Conv1d``/``Conv2d`` call conv1d/conv2d (the matrix C of
the lecture notes), ``ConvTranspose1d``/``ConvTranspose2d`` call the transposed ops (Cᵀ).
``DepthwiseSeparableConv2d`` and ``AtrousPyramid`` are the two compositions the lecture notes
describe, built from ``Conv2d``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from tinynet import functional as F
from tinynet.functional._checks import check_output_padding, check_padding, positive_int
from tinynet.functional._validate import int_tuple
from tinynet.nn import init
from tinynet.nn.containers import ModuleList
from tinynet.nn.module import Module, Parameter
from tinynet.tensor import Tensor, _as_dtype, cat

__all__ = [
    "Conv1d",
    "Conv2d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "DepthwiseSeparableConv2d",
    "AtrousPyramid",
]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What Conv1d/2d and ConvTranspose1d/2d share: arguments, parameters, initialisation, repr."""

    _nd = 2
    _transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ):
        super().__init__()
        cls, nd = type(self).__name__, self._nd
        self.in_channels = positive_int(in_channels, cls, "in_channels")
        self.out_channels = positive_int(out_channels, cls, "out_channels")
        self.groups = positive_int(groups, cls, "groups")
        if self.in_channels % self.groups:
            raise ValueError(f"{cls}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if self.out_channels % self.groups:
            raise ValueError(f"{cls}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        self.kernel_size = int_tuple(kernel_size, nd, cls, "kernel_size", minimum=1)
        self.stride = int_tuple(stride, nd, cls, "stride", minimum=1)
        self.dilation = int_tuple(dilation, nd, cls, "dilation", minimum=1)
        self.padding = check_padding(padding, nd, cls, self.stride, self._transposed)
        self.output_padding = (0,) * nd  # the transposed layers set theirs
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{cls}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        if padding_mode != "zeros":
            raise NotImplementedError(
                f"{cls}: padding_mode={padding_mode!r} is not implemented; tinynet convolutions pad with zeros"
            )
        self.padding_mode = padding_mode
        self.transposed = self._transposed
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"{cls}: bias must be a bool, got {bias!r}")
        if device not in (None, "cpu"):
            raise ValueError(f"{cls}: tinynet runs on the CPU only, got device={device!r}")
        dt = np.dtype(np.float32) if dtype is None else _as_dtype(dtype)
        if dt.kind != "f":
            raise TypeError(f"{cls}: dtype must be a floating-point type, got {dt}")

        if self._transposed:  # PyTorch's layout: (in, out/groups, k...)
            shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        else:  # (out, in/groups, k...)
            shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype=dt))
        if bias:
            self.bias = Parameter(np.empty(self.out_channels, dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: weight ~ kaiming_uniform_(a=√5) = U(±1/√fan_in), bias ~ U(±1/√fan_in).

        fan_in = weight.shape[1] · kH · kW, which for a transposed conv is (out/groups) · kH · kW,
        exactly as PyTorch computes it.
        """
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * int(np.prod(self.kernel_size))
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv1d(_ConvNd):
    """1-D convolution layer (PyTorch's ``nn.Conv1d``); calls :func:`tinynet.nn.functional.conv1d`.

    Args:
        in_channels, out_channels: channels of the input and of the output.
        kernel_size, stride, dilation: int or 1-tuple.
        padding: int, 1-tuple, ``'valid'`` or ``'same'``.
        groups: split the channels into this many independent convolutions.
        bias: learn a bias per output channel.
        padding_mode: only ``'zeros'`` is implemented.
        dtype: float32 (default) or float64.

    Shape:
        - Input: (N, C_in, L) or (C_in, L)
        - Output: (N, C_out, L_out), L_out = ⌊(L + 2·padding − dilation·(kernel_size − 1) − 1) / stride⌋ + 1

    Attributes:
        weight: (out_channels, in_channels / groups, kernel_size), U(±1/√(in_channels/groups · k)).
        bias: (out_channels,), same bound.

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> conv = nn.Conv1d(4, 8, 3, stride=2, padding=1)
        >>> conv
        Conv1d(4, 8, kernel_size=(3,), stride=(2,), padding=(1,))
        >>> conv(tinynet.randn(2, 4, 10)).shape
        (2, 8, 5)
    """

    _nd = 1

    def forward(self, input: Tensor) -> Tensor:
        return F.conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv2d(_ConvNd):
    """2-D convolution layer (PyTorch's ``nn.Conv2d``); calls :func:`tinynet.nn.functional.conv2d`.

    A dilated (atrous) convolution is ``Conv2d(..., dilation=r)``; a depthwise one ``groups=in_channels``.

    Args:
        in_channels, out_channels: channels of the input and of the output.
        kernel_size, stride, dilation: int or (h, w).
        padding: int, (h, w), ``'valid'`` or ``'same'`` (stride 1 only; an odd total puts the extra
            row/column at the bottom/right, as PyTorch does).
        groups: split the channels into this many independent convolutions.
        bias: learn a bias per output channel.
        padding_mode: only ``'zeros'`` is implemented.
        dtype: float32 (default) or float64.

    Shape:
        - Input: (N, C_in, H, W) or (C_in, H, W)
        - Output: (N, C_out, H_out, W_out) with
          H_out = ⌊(H + 2·padding[0] − dilation[0]·(kernel_size[0] − 1) − 1) / stride[0]⌋ + 1 (W alike)

    Attributes:
        weight: (out_channels, in_channels / groups, kH, kW), initialised U(±1/√fan_in) with
            fan_in = in_channels / groups · kH · kW (PyTorch's kaiming_uniform_(a=√5)).
        bias: (out_channels,), U(±1/√fan_in).

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> conv = nn.Conv2d(3, 8, 3, padding="same", dilation=2)
        >>> conv
        Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=same, dilation=(2, 2))
        >>> conv(tinynet.randn(2, 3, 16, 16)).shape
        (2, 8, 16, 16)
        >>> sorted(k for k in conv.state_dict())
        ['bias', 'weight']
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class _ConvTransposeNd(_ConvNd):
    _transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups: int = 1,
        bias: bool = True,
        dilation=1,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ):
        if padding_mode != "zeros":
            raise ValueError(f'{type(self).__name__}: only "zeros" padding mode is supported, got {padding_mode!r}')
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
        )
        self.output_padding = check_output_padding(
            output_padding, self._nd, type(self).__name__, self.stride, self.dilation
        )

    def _output_padding(self, input: Tensor, output_size) -> tuple:
        """The output_padding that makes the output ``output_size`` (PyTorch's rule)."""
        if output_size is None:
            return self.output_padding
        cls, nd = type(self).__name__, self._nd
        size = tuple(int(s) for s in output_size)
        if len(size) == input.ndim:
            size = size[-nd:]
        if len(size) != nd:
            raise ValueError(
                f"{cls}: for {input.ndim}-D input, output_size must have {nd} or {input.ndim} elements (got {len(size)})"
            )
        spatial = tuple(input.shape[-nd:])
        lo = tuple(
            (n - 1) * s - 2 * p + d * (k - 1) + 1
            for n, s, p, d, k in zip(spatial, self.stride, self.padding, self.dilation, self.kernel_size)
        )
        hi = tuple(m + s - 1 for m, s in zip(lo, self.stride))
        if any(not (a <= n <= b) for n, a, b in zip(size, lo, hi)):
            raise ValueError(
                f"{cls}: requested an output size of {size}, but valid sizes range from {lo} to {hi} "
                f"(for an input of {spatial})"
            )
        return tuple(n - a for n, a in zip(size, lo))


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution layer (PyTorch's ``nn.ConvTranspose1d``), the adjoint of Conv1d.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, output_padding, groups, bias,
        dilation: as in :class:`ConvTranspose2d`, with ints or 1-tuples.
        padding_mode: only ``'zeros'`` is implemented.

    Shape:
        - Input: (N, C_in, L) or (C_in, L)
        - Output: (N, C_out, L_out),
          L_out = (L − 1)·stride − 2·padding + dilation·(kernel_size − 1) + output_padding + 1

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> up = nn.ConvTranspose1d(4, 2, 4, stride=2, padding=1)
        >>> up(tinynet.randn(1, 4, 8)).shape
        (1, 2, 16)
    """

    _nd = 1

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        return F.conv_transpose1d(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self._output_padding(input, output_size),
            self.groups,
            self.dilation,
        )


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution layer (PyTorch's ``nn.ConvTranspose2d``): the learnable upsampling of the lecture notes.

    It applies Cᵀ, the adjoint of the Conv2d with the same arguments: every input pixel adds a
    copy of the kernel into the output, ``stride`` pixels apart. ``forward(input, output_size)``
    may name the wanted output size, which picks ``output_padding`` as PyTorch does.

    Args:
        in_channels, out_channels: channels of the input and of the output.
        kernel_size, stride, dilation: int or (h, w).
        padding: int or (h, w): rows/columns cropped from each side of the full output.
        output_padding: int or (h, w), smaller than stride or dilation: extra rows/columns at
            the bottom/right.
        groups: split the channels into this many independent transposed convolutions.
        bias: learn a bias per output channel.
        padding_mode: only ``'zeros'`` is implemented.
        dtype: float32 (default) or float64.

    Shape:
        - Input: (N, C_in, H, W) or (C_in, H, W)
        - Output: (N, C_out, H_out, W_out) with
          H_out = (H − 1)·stride[0] − 2·padding[0] + dilation[0]·(kernel_size[0] − 1) + output_padding[0] + 1
          (W alike)

    Attributes:
        weight: (in_channels, out_channels / groups, kH, kW), U(±1/√fan_in) with
            fan_in = out_channels / groups · kH · kW (PyTorch computes it from this layout).
        bias: (out_channels,), same bound.

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> up = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1)
        >>> up
        ConvTranspose2d(16, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))
        >>> up(tinynet.randn(2, 16, 10, 10)).shape
        (2, 8, 20, 20)
        >>> nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1)(tinynet.randn(2, 16, 10, 10), output_size=(20, 20)).shape
        (2, 8, 20, 20)
    """

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        return F.conv_transpose2d(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self._output_padding(input, output_size),
            self.groups,
            self.dilation,
        )


class DepthwiseSeparableConv2d(Module):
    """A k×k depthwise convolution (one filter per channel) followed by a 1×1 pointwise one.

    The lecture notes' separable convolution: space is mixed per channel, then channels are mixed per
    pixel. For a 32×32×3 image, a 3×3 kernel and 12 output channels (30×30 output) a full
    convolution costs 30·30·(3·3·3)·12 = 291,600 multiplications and 3·3·3·12 = 324 weights;
    the separable one 30·30·3·3·3 + 30·30·3·12 = 24,300 + 32,400 = 56,700 multiplications and
    3·3·3 + 3·12 = 63 weights (the lecture notes count 108 + 36 = 144, i.e. twelve 3×3 depthwise
    filters, which would be a depth multiplier of 4; here there is one per input channel).

    Args:
        in_channels, out_channels: channels of the input and of the output.
        kernel_size, stride, padding, dilation: of the depthwise convolution (as in Conv2d).
        bias: both convolutions get a bias.
        dtype: float32 (default) or float64.

    Submodules (so the state_dict keys are ``depthwise.weight``, ``depthwise.bias``,
    ``pointwise.weight``, ``pointwise.bias``):
        depthwise: ``Conv2d(in_channels, in_channels, kernel_size, stride, padding, dilation, groups=in_channels)``
        pointwise: ``Conv2d(in_channels, out_channels, 1)``

    Shape:
        - Input: (N, C_in, H, W) or (C_in, H, W)
        - Output: (N, C_out, H_out, W_out), H_out as for the depthwise Conv2d.

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> sep = nn.DepthwiseSeparableConv2d(3, 12, 3, bias=False)
        >>> [(k, v.shape) for k, v in sep.state_dict().items()]
        [('depthwise.weight', (3, 1, 3, 3)), ('pointwise.weight', (12, 3, 1, 1))]
        >>> sep(tinynet.randn(1, 3, 32, 32)).shape
        (1, 12, 30, 30)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.depthwise = Conv2d(
            in_channels,
            in_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=in_channels,
            bias=bias,
            device=device,
            dtype=dtype,
        )
        self.pointwise = Conv2d(in_channels, out_channels, 1, bias=bias, device=device, dtype=dtype)

    def forward(self, input: Tensor) -> Tensor:
        return self.pointwise(self.depthwise(input))


class AtrousPyramid(Module):
    """Parallel 3×3 convolutions at several dilation rates, merged (the lecture notes' atrous pyramid).

    Each branch ``Conv2d(in_channels, out_channels, 3, padding=r, dilation=r)`` sees a
    (2r+1)×(2r+1) neighbourhood with only 9 weights per filter, and padding = r keeps the size,
    so the branches can be merged pixel by pixel in one of the lecture notes' three ways:

    - ``"concat"``: concatenate the branches' channels, then a 1×1 convolution ``project``
      maps the len(rates)·out_channels channels back to out_channels;
    - ``"sum"``: add the branches;
    - ``"weighted"``: a learned linear combination Σ_r merge_weight[r] · branch_r(x), with the
      parameter ``merge_weight`` of shape (len(rates),), initialised to 1/len(rates).

    Args:
        in_channels, out_channels: channels of the input and of the output.
        rates: the dilation rates, one branch each (positive ints).
        merge: ``"concat"``, ``"sum"`` or ``"weighted"``.
        bias: the convolutions get biases.
        dtype: float32 (default) or float64.

    Parameters (state_dict keys): ``branches.<i>.weight``/``branches.<i>.bias`` for each rate
    (an ``nn.ModuleList``), plus ``project.weight``/``project.bias`` for ``"concat"`` or
    ``merge_weight`` for ``"weighted"``.

    Shape:
        - Input: (N, C_in, H, W) or (C_in, H, W)
        - Output: (N, C_out, H, W)

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> aspp = nn.AtrousPyramid(4, 8, rates=(1, 2, 4), merge="concat")
        >>> aspp(tinynet.randn(2, 4, 16, 16)).shape
        (2, 8, 16, 16)
        >>> [k for k in aspp.state_dict() if k.endswith("weight")]
        ['branches.0.weight', 'branches.1.weight', 'branches.2.weight', 'project.weight']
    """

    MERGES = ("concat", "sum", "weighted")

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        rates=(1, 2, 4),
        merge: str = "concat",
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if isinstance(rates, numbers.Integral) or not hasattr(rates, "__iter__"):
            raise TypeError(f"AtrousPyramid: rates must be a sequence of positive ints, got {rates!r}")
        rates = tuple(rates)
        if not rates:
            raise ValueError("AtrousPyramid: rates must name at least one dilation rate, got ()")
        rates = tuple(positive_int(r, "AtrousPyramid", "every rate") for r in rates)
        if merge not in self.MERGES:
            raise ValueError(f"AtrousPyramid: merge must be one of {self.MERGES}, got {merge!r}")
        self.rates = rates
        self.merge = merge
        self.branches = ModuleList(
            Conv2d(in_channels, out_channels, 3, padding=r, dilation=r, bias=bias, device=device, dtype=dtype)
            for r in rates
        )
        if merge == "concat":
            self.project = Conv2d(len(rates) * out_channels, out_channels, 1, bias=bias, device=device, dtype=dtype)
        elif merge == "weighted":
            dt = self.branches[0].weight.dtype
            self.merge_weight = Parameter(np.full(len(rates), 1.0 / len(rates), dtype=dt))

    def forward(self, input: Tensor) -> Tensor:
        outs = [branch(input) for branch in self.branches]
        if self.merge == "concat":
            return self.project(cat(outs, dim=-3))
        if self.merge == "sum":
            total = outs[0]
            for o in outs[1:]:
                total = total + o
            return total
        total = self.merge_weight[0] * outs[0]
        for i, o in enumerate(outs[1:], start=1):
            total = total + self.merge_weight[i] * o
        return total

    def extra_repr(self) -> str:
        return f"rates={self.rates}, merge={self.merge!r}"
