"""Upsampling layers: thin modules over :mod:`tinynet.functional.resample` (PyTorch's names, arguments and repr)."""

from __future__ import annotations

from tinynet.functional import _checks
from tinynet.functional import resample as R
from tinynet.nn.module import Module

__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle"]


class Upsample(Module):
    """Upsample (N, C, H, W) or (N, C, L) input; see :func:`tinynet.nn.functional.interpolate`.

    Modes: ``"nearest"``, ``"nearest-exact"``, ``"linear"``, ``"bilinear"``, ``"area"``
    and ``"bed_of_nails"`` (integer factors: each value at the top-left of its
    s×s block, zeros elsewhere). Exactly one of ``size`` and ``scale_factor``.

    Args:
        size, scale_factor, mode, align_corners, recompute_scale_factor: as in
            :func:`tinynet.nn.functional.interpolate`.

    Shape:
        - Input: (N, C, H, W) (or (N, C, L))
        - Output: (N, C, H_out, W_out) with H_out = size[0] or ⌊H · scale_factor[0]⌋, W_out likewise.

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> up = nn.Upsample(scale_factor=2, mode="bilinear")
        >>> up
        Upsample(scale_factor=2.0, mode='bilinear')
        >>> up(tinynet.ones(1, 3, 4, 5)).shape
        (1, 3, 8, 10)
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        _checks.check_resize_args(type(self).__name__, size, scale_factor, mode, align_corners, recompute_scale_factor)
        self.size = size
        # PyTorch keeps scale factors as floats, which shows in the repr: scale_factor=2.0.
        if isinstance(scale_factor, (tuple, list)):
            self.scale_factor = tuple(float(s) for s in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return R.interpolate(
            input,
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            recompute_scale_factor=self.recompute_scale_factor,
        )

    def extra_repr(self) -> str:
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(size, scale_factor, mode="nearest")`` under PyTorch's older name.

    Shape:
        - Input: (N, C, H, W)
        - Output: (N, C, H_out, W_out) with H_out = size[0] or ⌊H · scale_factor⌋, W_out likewise.

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> nn.UpsamplingNearest2d(scale_factor=2)(tinynet.tensor([[[[1.0, 2.0]]]]))
        tensor([[[[1., 1., 2., 2.],
                  [1., 1., 2., 2.]]]])
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(size, scale_factor, mode="bilinear", align_corners=True)`` under PyTorch's older name.

    Shape:
        - Input: (N, C, H, W)
        - Output: (N, C, H_out, W_out) with H_out = size[0] or ⌊H · scale_factor⌋, W_out likewise.

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> nn.UpsamplingBilinear2d(size=(1, 3))(tinynet.tensor([[[[1.0, 2.0]]]]))
        tensor([[[[1. , 1.5, 2. ]]]])
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class PixelShuffle(Module):
    """(*, C·r², H, W) -> (*, C, H·r, W·r); see :func:`tinynet.nn.functional.pixel_shuffle`.

    Shape:
        - Input: (*, C·r², H, W)
        - Output: (*, C, H·r, W·r), r = upscale_factor

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> ps = nn.PixelShuffle(3)
        >>> ps
        PixelShuffle(upscale_factor=3)
        >>> ps(tinynet.ones(1, 18, 4, 4)).shape
        (1, 2, 12, 12)
    """

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = _checks.check_shuffle_factor("PixelShuffle", "upscale_factor", upscale_factor)

    def forward(self, input):
        return R.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H·r, W·r) -> (*, C·r², H, W); see :func:`tinynet.nn.functional.pixel_unshuffle`.

    Shape:
        - Input: (*, C, H·r, W·r)
        - Output: (*, C·r², H, W), r = downscale_factor

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> pu = nn.PixelUnshuffle(2)
        >>> pu
        PixelUnshuffle(downscale_factor=2)
        >>> pu(tinynet.ones(1, 2, 4, 6)).shape
        (1, 8, 2, 3)
    """

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = _checks.check_shuffle_factor("PixelUnshuffle", "downscale_factor", downscale_factor)

    def forward(self, input):
        return R.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
