"""A full-resolution encoder-decoder, written once for both frameworks (issue 14's second step model).

``full_resolution_net(nn, F)`` builds the same network out of ``tinynet.nn`` / ``tinynet.nn.functional``
or ``torch.nn`` / ``torch.nn.functional`` (tinynet's API is PyTorch's, so one definition serves
both, and the state_dict keys agree): 16-channel 3x3 convs at full resolution, a dilated conv, a
depthwise-separable block, max-pooling with indices and max-unpooling, a stride-2 transposed conv,
bilinear upsampling, batch norm and ReLU; 3 input channels, 4 classes.

    64x64: conv 3->16, conv 16->16, dilated conv 16->16 (dilation 2), depthwise 3x3 + pointwise 16->32
    pool (indices) -> 32x32: conv 32->32;  pool -> 16x16: conv 32->32
    16x16 -> transposed conv (k2 s2) -> 32x32: conv 32->32 -> unpool (first pool's indices) -> 64x64
    64x64: conv 32->16, + bilinear x4 of a 1x1 conv 32->16 of the 16x16 features; 1x1 head 16->4
"""

from __future__ import annotations


def full_resolution_net(nn, F, classes: int = 4):
    """The network, built from the framework modules ``nn`` and ``F`` (tinynet's or torch's)."""

    def conv_bn(cin: int, cout: int, dilation: int = 1):
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation, bias=False), nn.BatchNorm2d(cout), nn.ReLU()
        )

    class FullResolution(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = conv_bn(3, 16)
            self.full = conv_bn(16, 16)
            self.dilated = conv_bn(16, 16, dilation=2)
            self.depthwise = nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False)
            self.pointwise = nn.Conv2d(16, 32, 1, bias=False)
            self.bn_sep = nn.BatchNorm2d(32)
            self.mid = conv_bn(32, 32)
            self.quarter = conv_bn(32, 32)
            self.up = nn.ConvTranspose2d(32, 32, 2, stride=2, bias=False)
            self.mid_up = conv_bn(32, 32)
            self.out = conv_bn(32, 16)
            self.side = nn.Conv2d(32, 16, 1, bias=False)
            self.head = nn.Conv2d(16, classes, 1)

        def forward(self, x):
            x = self.dilated(self.full(self.stem(x)))
            x = F.relu(self.bn_sep(self.pointwise(self.depthwise(x))))
            x, indices = F.max_pool2d(x, 2, return_indices=True)
            x = self.mid(x)
            q = self.quarter(F.max_pool2d(x, 2))
            x = self.mid_up(self.up(q))
            x = self.out(F.max_unpool2d(x, indices, 2))
            side = F.interpolate(self.side(q), scale_factor=4, mode="bilinear", align_corners=False)
            return self.head(x + side)

    return FullResolution()
