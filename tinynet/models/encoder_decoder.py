"""A small encoder-decoder for semantic segmentation, with a choice of the decoder's upsampling.

The encoder halves the resolution three times (Conv-BN-ReLU, then a 2×2 max-pool
that also returns its "switches"); an atrous pyramid at 1/8 resolution widens
the receptive field without more pooling; the decoder doubles the resolution
three times, concatenates the encoder feature of the same size (a skip
connection, as in U-Net) and mixes it with a depthwise-separable convolution.

The five ways to get resolution back, from the lecture notes (their worked examples are in
docs/WORKED_EXAMPLES.md), are one argument:

========================  =========================================================
``upsample``              decoder step
========================  =========================================================
``"transposed"``          ``ConvTranspose2d(c, c, 2, stride=2)``: learned (the adjoint of a strided conv)
``"nearest"``             ``Upsample(scale_factor=2, mode="nearest")``: copy each value to a 2×2 block
``"bilinear"``            ``Upsample(scale_factor=2, mode="bilinear")``: interpolate
``"bed_of_nails"``        ``Upsample(scale_factor=2, mode="bed_of_nails")``: value top-left, zeros elsewhere
``"unpool"``              ``MaxUnpool2d(2)`` with the encoder's switches (SegNet)
========================  =========================================================
"""

from __future__ import annotations

from tinynet import nn
from tinynet.tensor import Tensor, cat

__all__ = ["EncoderDecoder", "UPSAMPLE_MODES"]

UPSAMPLE_MODES = ("transposed", "nearest", "bilinear", "bed_of_nails", "unpool")


class ConvBNReLU(nn.Module):
    """3×3 convolution (no bias: the batch norm has one), batch norm, ReLU."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x):
        return self.bn(self.conv(x)).relu()


class SeparableBNReLU(nn.Module):
    """Depthwise-separable 3×3 convolution, batch norm, ReLU."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.DepthwiseSeparableConv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x):
        return self.bn(self.conv(x)).relu()


def _upsampler(mode: str, channels: int) -> nn.Module:
    if mode == "transposed":
        return nn.ConvTranspose2d(channels, channels, 2, stride=2)
    if mode == "unpool":
        return nn.MaxUnpool2d(2)
    if mode == "bilinear":
        return nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
    return nn.Upsample(scale_factor=2, mode=mode)  # nearest, bed_of_nails


class EncoderDecoder(nn.Module):
    """Encoder-decoder segmentation network (see the module docstring).

    Args:
        in_channels: image channels (3).
        num_classes: classes to predict per pixel (4 for ``Shapes``).
        widths: channels of the three encoder stages.
        upsample: one of ``UPSAMPLE_MODES``.
        rates: dilation rates of the atrous pyramid.

    Shape:
        - input: (N, in_channels, H, W) with H and W divisible by 8
        - output: (N, num_classes, H, W) class scores (logits)

    Example:
        >>> import tinynet
        >>> from tinynet.models import EncoderDecoder
        >>> net = EncoderDecoder(upsample="unpool")
        >>> net(tinynet.randn(2, 3, 32, 32)).shape
        (2, 4, 32, 32)
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 4,
        widths: tuple = (16, 32, 64),
        upsample: str = "bilinear",
        rates: tuple = (1, 2, 4),
    ):
        super().__init__()
        if upsample not in UPSAMPLE_MODES:
            raise ValueError(f"EncoderDecoder: upsample must be one of {UPSAMPLE_MODES}, got {upsample!r}")
        if len(widths) != 3 or any(not isinstance(w, int) or w < 1 for w in widths):
            raise ValueError(f"EncoderDecoder: widths must be three positive ints, got {widths!r}")
        self.upsample = upsample
        c1, c2, c3 = widths
        self.enc1 = ConvBNReLU(in_channels, c1)
        self.enc2 = ConvBNReLU(c1, c2)
        self.enc3 = ConvBNReLU(c2, c3)
        self.pool = nn.MaxPool2d(2, return_indices=True)
        self.bottleneck = nn.AtrousPyramid(c3, c3, rates=rates, merge="concat")
        self.bottleneck_bn = nn.BatchNorm2d(c3)
        self.up3 = _upsampler(upsample, c3)
        self.up2 = _upsampler(upsample, c2)
        self.up1 = _upsampler(upsample, c1)
        self.dec3 = SeparableBNReLU(2 * c3, c2)
        self.dec2 = SeparableBNReLU(2 * c2, c1)
        self.dec1 = SeparableBNReLU(2 * c1, c1)
        self.head = nn.Conv2d(c1, num_classes, 1)

    def _up(self, layer: nn.Module, x, switches):
        return layer(x, switches) if self.upsample == "unpool" else layer(x)

    def forward(self, x):
        if not isinstance(x, Tensor):
            raise TypeError(f"EncoderDecoder: input must be a Tensor, got {type(x).__name__}")
        if x.ndim != 4 or x.shape[2] % 8 or x.shape[3] % 8:
            raise ValueError(
                f"EncoderDecoder: expected input (N, C, H, W) with H and W divisible by 8, got shape {tuple(x.shape)}"
            )
        e1 = self.enc1(x)
        p1, s1 = self.pool(e1)
        e2 = self.enc2(p1)
        p2, s2 = self.pool(e2)
        e3 = self.enc3(p2)
        p3, s3 = self.pool(e3)
        b = self.bottleneck_bn(self.bottleneck(p3)).relu()
        d = self.dec3(cat([self._up(self.up3, b, s3), e3], dim=1))
        d = self.dec2(cat([self._up(self.up2, d, s2), e2], dim=1))
        d = self.dec1(cat([self._up(self.up1, d, s1), e1], dim=1))
        return self.head(d)
