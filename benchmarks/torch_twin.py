"""The example's segmentation model written in torch, with tinynet's exact state_dict keys.

``torch_twin(upsample)`` builds ``tinynet.models.EncoderDecoder``'s architecture out of
torch modules, so ``twin.load_state_dict(...)`` of a tinynet state_dict works with
``strict=True`` and both compute the same function. Used by the training-step
benchmark and by tests/test_train_segmentation.py's parity test; torch is imported
only when a twin is built.
"""

from __future__ import annotations


def torch_twin(
    upsample: str = "bilinear", in_channels: int = 3, num_classes: int = 4, widths=(16, 32, 64), rates=(1, 2, 4)
):
    import torch
    from torch import nn
    from torch.nn import functional as F

    class ConvBNReLU(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
            self.bn = nn.BatchNorm2d(cout)

        def forward(self, x):
            return F.relu(self.bn(self.conv(x)))

    class DepthwiseSeparable(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.depthwise = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
            self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)

        def forward(self, x):
            return self.pointwise(self.depthwise(x))

    class SeparableBNReLU(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.conv = DepthwiseSeparable(cin, cout)
            self.bn = nn.BatchNorm2d(cout)

        def forward(self, x):
            return F.relu(self.bn(self.conv(x)))

    class AtrousPyramid(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.branches = nn.ModuleList(nn.Conv2d(cin, cout, 3, padding=r, dilation=r) for r in rates)
            self.project = nn.Conv2d(len(rates) * cout, cout, 1)

        def forward(self, x):
            return self.project(torch.cat([b(x) for b in self.branches], 1))

    class BedOfNails(nn.Module):
        def forward(self, x):
            out = x.new_zeros(*x.shape[:2], 2 * x.shape[2], 2 * x.shape[3])
            out[:, :, ::2, ::2] = x
            return out

    def upsampler(c):
        if upsample == "transposed":
            return nn.ConvTranspose2d(c, c, 2, stride=2)
        if upsample == "unpool":
            return nn.MaxUnpool2d(2)
        if upsample == "bed_of_nails":
            return BedOfNails()
        if upsample == "bilinear":
            return nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        return nn.Upsample(scale_factor=2, mode="nearest")

    class EncoderDecoder(nn.Module):
        def __init__(self):
            super().__init__()
            c1, c2, c3 = widths
            self.enc1, self.enc2, self.enc3 = ConvBNReLU(in_channels, c1), ConvBNReLU(c1, c2), ConvBNReLU(c2, c3)
            self.pool = nn.MaxPool2d(2, return_indices=True)
            self.bottleneck = AtrousPyramid(c3, c3)
            self.bottleneck_bn = nn.BatchNorm2d(c3)
            self.up3, self.up2, self.up1 = upsampler(c3), upsampler(c2), upsampler(c1)
            self.dec3, self.dec2, self.dec1 = (
                SeparableBNReLU(2 * c3, c2),
                SeparableBNReLU(2 * c2, c1),
                SeparableBNReLU(2 * c1, c1),
            )
            self.head = nn.Conv2d(c1, num_classes, 1)

        def _up(self, layer, x, switches):
            return layer(x, switches) if upsample == "unpool" else layer(x)

        def forward(self, x):
            e1 = self.enc1(x)
            p1, s1 = self.pool(e1)
            e2 = self.enc2(p1)
            p2, s2 = self.pool(e2)
            e3 = self.enc3(p2)
            p3, s3 = self.pool(e3)
            b = F.relu(self.bottleneck_bn(self.bottleneck(p3)))
            d = self.dec3(torch.cat([self._up(self.up3, b, s3), e3], 1))
            d = self.dec2(torch.cat([self._up(self.up2, d, s2), e2], 1))
            d = self.dec1(torch.cat([self._up(self.up1, d, s1), e1], 1))
            return self.head(d)

    return EncoderDecoder()


def load_into(twin, tiny_model):
    """Copy a tinynet model's state_dict into its torch twin (strict: every key must match)."""
    import numpy as np
    import torch

    twin.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in tiny_model.state_dict().items()})
    return twin
