"""Upsampling and resampling: ``interpolate`` (nearest, nearest-exact, (bi)linear, area, bed of nails),
``pixel_shuffle`` and ``pixel_unshuffle``, each next to its adjoint.

The lecture notes' ways to get resolution back in a decoder, as adjoint pairs:

* nearest / nearest-exact gather every output pixel from a source pixel; the
  adjoint sums the gradient over each source pixel's block;
* bilinear reads four source pixels with four weights; the adjoint scatters
  with the same weights;
* bed of nails places each value at the top-left corner of its s×s block; the
  adjoint is strided subsampling, ``g[..., ::s, ::s]``;
* pixel_shuffle is a permutation, so its adjoint is its inverse, pixel_unshuffle.

Max-unpooling, the fourth option, lives with max-pooling in
:mod:`tinynet.functional.pooling`.

Every backward runs its partner as a ``Function`` (``ScatterRowsCols``, ``GatherRowsCols``,
``BilinearAdjoint``, ``PixelUnshuffle``, ...), whose backward is the first op again, so a
backward recorded with ``create_graph=True`` is differentiated by the same pairs.

The source coordinate of every output row and column is computed once per axis
with PyTorch's formulas and precision (float32 index arithmetic for the nearest
modes, the input's dtype for linear), so indices and weights match PyTorch's.
"""

from __future__ import annotations

import math

import numpy as np

from tinynet import kernels as K
from tinynet.autograd import Function
from tinynet.functional._checks import check_resize_args, check_shuffle_args
from tinynet.functional._validate import check_tensor
from tinynet.functional.pooling import adaptive_avg_pool2d
from tinynet.kernels.workspace import zeros
from tinynet.tensor import Tensor

__all__ = ["interpolate", "upsample", "pixel_shuffle", "pixel_unshuffle"]


# --------------------------------------------------------------------------- coordinate maps (PyTorch's formulas)
def _inverse_scale(scale, in_size: int, out_size: int, dtype) -> np.generic:
    """PyTorch's compute_scales_value: 1/scale_factor when one is in use, else in_size/out_size."""
    if scale is not None and scale > 0:
        return dtype.type(1.0 / scale)
    return dtype.type(in_size) / dtype.type(out_size)


def nearest_source_index(in_size: int, out_size: int, scale, exact: bool, shortcuts: bool = True) -> np.ndarray:
    """Source index of each output index: ⌊o·s⌋ ("nearest") or ⌊(o + ½)·s⌋ ("nearest-exact"), clamped.

    s is 1/scale_factor, or in_size/out_size, in float32 as PyTorch computes it;
    "nearest" keeps PyTorch's shortcuts for out == in (copy) and out == 2·in (o >> 1).
    """
    o = np.arange(out_size, dtype=np.int64)
    # PyTorch's 2-D kernel takes these shortcuts even when a scale_factor such as 1.19 gives
    # out == in; its 1-D kernel does not (``shortcuts=False``), so [a, b] stays [a, a] there.
    if shortcuts and not exact and out_size == in_size:
        return o
    if shortcuts and not exact and out_size == 2 * in_size:
        return o >> 1
    s = _inverse_scale(scale, in_size, out_size, np.dtype(np.float32))
    if exact:  # (o + 0.5) * s in double, rounded to float, then floored (PyTorch's floorf)
        src = np.floor(((o + 0.5) * np.float64(s)).astype(np.float32))
    else:
        src = np.floor(o.astype(np.float32) * s)
    return np.minimum(src.astype(np.int64), in_size - 1)


def linear_source_weights(in_size: int, out_size: int, scale, align_corners: bool, dtype) -> tuple:
    """The two source indices and weights of each output index for linear interpolation.

    align_corners=True maps the corner pixel centres onto each other:
    src = o·(in − 1)/(out − 1). Otherwise pixels are areas and their centres map:
    src = (o + ½)·s − ½ with s = 1/scale_factor (or in/out), clamped at 0.
    Then i0 = ⌊src⌋ (at most in − 1), i1 = i0 + 1 unless i0 is the last pixel,
    and the weights are 1 − λ and λ = src − i0. out == in is a plain copy.
    Arithmetic in ``dtype`` (float32 for float32 input), as PyTorch's opmath.
    """
    o = np.arange(out_size, dtype=np.int64)
    if out_size == in_size:
        return o, o, np.ones(out_size, dtype), np.zeros(out_size, dtype)
    f = dtype.type
    od = o.astype(dtype)
    if align_corners:
        ratio = f(in_size - 1) / f(out_size - 1) if out_size > 1 else f(0)
        src = ratio * od
    else:
        ratio = _inverse_scale(scale, in_size, out_size, dtype)
        src = np.maximum(ratio * (od + f(0.5)) - f(0.5), f(0))
    i0 = np.minimum(src.astype(np.int64), in_size - 1)
    i1 = i0 + (i0 < in_size - 1)
    lam = np.clip(src - i0.astype(dtype), f(0), f(1)).astype(dtype)
    return i0, i1, (f(1) - lam).astype(dtype), lam


# --------------------------------------------------------------------------- the adjoint pairs
def _planes(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N*C, H, W) and (N, C, L) -> (N*C, 1, L), contiguous (a view when it can be)."""
    x = np.ascontiguousarray(x)
    P = x.shape[0] * x.shape[1]
    return x.reshape(P, x.shape[-2], x.shape[-1]) if x.ndim == 4 else x.reshape(P, 1, x.shape[-1])


class GatherRowsCols(Function):
    """y[.., i, j] = x[.., rows[i], cols[j]] (nearest, subsampling); backward scatter-adds (sum over each block)."""

    @staticmethod
    def forward(ctx, x, rows, cols, out_spatial):
        ctx.tables = (rows, cols)
        ctx.in_spatial = x.shape[2:]
        out = np.empty(x.shape[:2] + tuple(out_spatial), x.dtype)
        K.gather_rows_cols(_planes(x), rows, cols, _planes(out))
        return out

    @staticmethod
    def backward(ctx, grad):
        return ScatterRowsCols.apply(grad, *ctx.tables, ctx.in_spatial), None, None, None


class ScatterRowsCols(Function):
    """y[.., rows[i], cols[j]] += x[.., i, j], zeros elsewhere (bed of nails, block sums); backward gathers."""

    @staticmethod
    def forward(ctx, x, rows, cols, out_spatial):
        ctx.tables = (rows, cols)
        ctx.in_spatial = x.shape[2:]
        out = zeros(x.shape[:2] + tuple(out_spatial), x.dtype)
        K.scatter_add_rows_cols(_planes(x), rows, cols, _planes(out))
        return out

    @staticmethod
    def backward(ctx, grad):
        return GatherRowsCols.apply(grad, *ctx.tables, ctx.in_spatial), None, None, None


class Bilinear(Function):
    """y = four-tap weighted read per output pixel; backward scatters with the same weights."""

    @staticmethod
    def forward(ctx, x, rows, cols, out_spatial):
        ctx.tables = rows + cols
        ctx.in_shape = x.shape
        out = np.empty(x.shape[:2] + tuple(out_spatial), x.dtype)
        K.bilinear_forward(_planes(x), *rows, *cols, _planes(out))
        return out

    @staticmethod
    def backward(ctx, grad):
        tables = ctx.tables
        return BilinearAdjoint.apply(grad, tables[:4], tables[4:], ctx.in_shape[2:]), None, None, None


class BilinearAdjoint(Function):
    """y = Cᵀ g: each g[.., i, j] scattered to its four source pixels with the forward's weights.

    Bilinear's backward; its own backward is bilinear interpolation again (the adjoint of
    the adjoint), so the double backward of ``interpolate`` closes in these two ops.
    """

    @staticmethod
    def forward(ctx, g, rows, cols, in_spatial):
        ctx.tables = (rows, cols)
        ctx.out_spatial = g.shape[2:]
        out = zeros(g.shape[:2] + tuple(in_spatial), g.dtype)
        K.bilinear_backward(_planes(g), *rows, *cols, _planes(out))
        return out

    @staticmethod
    def backward(ctx, grad):
        return Bilinear.apply(grad, *ctx.tables, ctx.out_spatial), None, None, None


# --------------------------------------------------------------------------- interpolate
def _spatial_sizes(op: str, input: Tensor, size, scale_factor, recompute_scale_factor, mode: str) -> tuple:
    """Output sizes and the scale factors PyTorch hands to its kernels (None where recomputed)."""
    dim = input.ndim - 2
    in_sizes = tuple(int(n) for n in input.shape[2:])
    given = size if size is not None else scale_factor
    name = "size" if size is not None else "scale_factor"
    values = tuple(given) if isinstance(given, (tuple, list)) else (given,) * dim
    if len(values) != dim:
        raise ValueError(
            f"{op}: {name}={given!r} has {len(values)} entries but the input {tuple(input.shape)} has {dim} "
            f"spatial dimension(s): (N, C, d1, ..., dK) input needs K entries"
        )
    if size is not None:
        return tuple(int(v) for v in values), (None,) * dim
    scales = tuple(float(v) for v in values)
    out = tuple(math.floor(n * s) for n, s in zip(in_sizes, scales))
    if min(out) < (0 if mode == "area" else 1):
        raise RuntimeError(
            f"{op}: scale_factor={scale_factor!r} gives output size {out} for input size {in_sizes}; "
            "output sizes must be positive"
        )
    return out, (None,) * dim if recompute_scale_factor else scales


def interpolate(
    input: Tensor,
    size=None,
    scale_factor=None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize (N, C, H, W) or (N, C, L) input, as ``torch.nn.functional.interpolate``, plus bed of nails.

    Modes:
        - ``"nearest"``: source index ⌊o · in/out⌋ (PyTorch's legacy rule, kept for compatibility).
        - ``"nearest-exact"``: source index ⌊(o + ½) · in/out⌋, the pixel whose centre is nearest.
        - ``"linear"`` (3-D input) / ``"bilinear"`` (4-D input): with ``align_corners=True`` the corner
          pixel centres line up, src = o·(in − 1)/(out − 1); with ``False`` (the default) pixels are
          areas, src = (o + ½)·in/out − ½, clamped at 0; the last pixel repeats at the edge.
        - ``"area"``: :func:`adaptive_avg_pool2d` to the output size.
        - ``"bed_of_nails"``: integer factors s only; each value lands at the top-left of its
          s×s block, zeros elsewhere (the lecture notes' third upsampling option; not in PyTorch).

    With ``scale_factor`` given (and ``recompute_scale_factor`` not True), the
    coordinate maps use 1/scale_factor, as PyTorch does, not in/out; with
    ``recompute_scale_factor=True`` they use in/out of the computed size.

    Args:
        input: (N, C, L) or (N, C, H, W), float32/float64.
        size: output spatial size, an int or a tuple (one per spatial dimension).
        scale_factor: a positive number or tuple; the output size is ⌊in · scale_factor⌋.
            Exactly one of size and scale_factor must be given.
        mode: one of the modes above.
        align_corners: only for the linear modes (None means False).
        recompute_scale_factor: use in/out instead of the given scale_factor in the coordinate map.
        antialias: accepted for PyTorch's signature; only False is supported.

    Shape:
        - Input: (N, C, H, W) (or (N, C, L))
        - Output: (N, C, H_out, W_out) with H_out = size[0] or ⌊H · scale_factor[0]⌋, W_out likewise.

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> x = tinynet.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> F.interpolate(x, scale_factor=2, mode="bed_of_nails")
        tensor([[[[1., 0., 2., 0.],
                  [0., 0., 0., 0.],
                  [3., 0., 4., 0.],
                  [0., 0., 0., 0.]]]])
        >>> F.interpolate(x, size=(2, 3), mode="bilinear", align_corners=True)
        tensor([[[[1. , 1.5, 2. ],
                  [3. , 3.5, 4. ]]]])
    """
    op = "interpolate"
    check_tensor(input, op, "input")
    check_resize_args(op, size, scale_factor, mode, align_corners, recompute_scale_factor)
    if input.ndim not in (3, 4):
        raise ValueError(
            f"{op}: expected 3-D (N, C, L) or 4-D (N, C, H, W) input, got {input.ndim}-D with shape {tuple(input.shape)}"
        )
    if input.dtype not in (np.float32, np.float64):
        raise TypeError(f"{op}: input must be float32 or float64, got dtype {input.dtype}")
    if 0 in input.shape[1:]:
        raise RuntimeError(
            f"{op}: expected non-zero C and spatial sizes (only N may be 0), got shape {tuple(input.shape)}"
        )
    if mode == "linear" and input.ndim != 3:
        raise ValueError(
            f"{op}: mode 'linear' needs 3-D (N, C, L) input, got shape {tuple(input.shape)} (use 'bilinear')"
        )
    if mode == "bilinear" and input.ndim != 4:
        raise ValueError(
            f"{op}: mode 'bilinear' needs 4-D (N, C, H, W) input, got shape {tuple(input.shape)} (use 'linear')"
        )
    if antialias:
        raise ValueError(f"{op}: antialias=True is not supported by tinynet (got mode={mode!r})")
    align_corners = bool(align_corners)

    out_sizes, scales = _spatial_sizes(op, input, size, scale_factor, recompute_scale_factor, mode)
    in_sizes = tuple(int(n) for n in input.shape[2:])
    if mode == "area":
        if input.ndim == 3:
            return adaptive_avg_pool2d(input.unsqueeze(2), (1, out_sizes[0])).squeeze(2)
        return adaptive_avg_pool2d(input, out_sizes)
    # Per-axis tables; a 1-D input is a plane of height 1 whose row map is the identity.
    axes = list(zip(in_sizes, out_sizes, scales))
    if input.ndim == 3:
        axes.insert(0, (1, 1, None))
    if mode in ("nearest", "nearest-exact"):
        exact, shortcuts = mode == "nearest-exact", input.ndim == 4
        rows, cols = (nearest_source_index(i, o, s, exact, shortcuts) for i, o, s in axes)
        return GatherRowsCols.apply(input, rows, cols, out_sizes)
    if mode == "bed_of_nails":
        factors = []
        for i, o in zip(in_sizes, out_sizes):
            if o % i:
                raise ValueError(
                    f"{op}: bed_of_nails needs output sizes that are multiples of the input sizes, got size "
                    f"{out_sizes} for input size {in_sizes}"
                )
            factors.append(o // i)
        if input.ndim == 3:
            factors.insert(0, 1)
        rows, cols = (np.arange(i, dtype=np.int64) * f for (i, _, _), f in zip(axes, factors))
        return ScatterRowsCols.apply(input, rows, cols, out_sizes)
    dtype = np.dtype(input.dtype)
    rows, cols = (linear_source_weights(i, o, s, align_corners, dtype) for i, o, s in axes)
    return Bilinear.apply(input, rows, cols, out_sizes)


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None) -> Tensor:
    """PyTorch's deprecated alias of :func:`interpolate`.

    Args:
        input, size, scale_factor, mode, align_corners: as in :func:`interpolate`.

    Shape:
        - Input: (N, C, H, W) (or (N, C, L))
        - Output: (N, C, H_out, W_out) with H_out = size[0] or ⌊H · scale_factor[0]⌋, W_out likewise.

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> F.upsample(tinynet.tensor([[[1.0, 2.0]]]), scale_factor=2)
        tensor([[[1., 1., 2., 2.]]])
    """
    return interpolate(input, size, scale_factor, mode, align_corners)


# --------------------------------------------------------------------------- pixel shuffle
def _shuffle(x: np.ndarray, r: int) -> np.ndarray:
    """(*, C·r², H, W) -> (*, C, H·r, W·r): channel c·r² + i·r + j becomes pixel (h·r + i, w·r + j)."""
    *batch, c, h, w = x.shape
    n = len(batch)
    y = x.reshape(*batch, c // (r * r), r, r, h, w)  # (*, C, i, j, H, W)
    y = y.transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2)  # (*, C, H, i, W, j)
    return np.ascontiguousarray(y).reshape(*batch, c // (r * r), h * r, w * r)


def _unshuffle(x: np.ndarray, r: int) -> np.ndarray:
    """(*, C, H·r, W·r) -> (*, C·r², H, W): the inverse permutation of :func:`_shuffle`."""
    *batch, c, hr, wr = x.shape
    n = len(batch)
    y = x.reshape(*batch, c, hr // r, r, wr // r, r)  # (*, C, H, i, W, j)
    y = y.transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3)  # (*, C, i, j, H, W)
    return np.ascontiguousarray(y).reshape(*batch, c * r * r, hr // r, wr // r)


# pixel_shuffle only moves entries: its matrix C is a permutation, so Cᵀ = C⁻¹, and the
# adjoint of shuffling is unshuffling (and the other way round). Each backward calls the other.
class PixelShuffle(Function):
    @staticmethod
    def forward(ctx, x, r):
        ctx.r = r
        return _shuffle(x, r)

    @staticmethod
    def backward(ctx, grad):
        return PixelUnshuffle.apply(grad, ctx.r), None


class PixelUnshuffle(Function):
    @staticmethod
    def forward(ctx, x, r):
        ctx.r = r
        return _unshuffle(x, r)

    @staticmethod
    def backward(ctx, grad):
        return PixelShuffle.apply(grad, ctx.r), None


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Rearrange (*, C·r², H, W) into (*, C, H·r, W·r) (sub-pixel convolution's upsampling).

    Args:
        input: at least 3-D, channels third from the end, divisible by r².
        upscale_factor: r, a positive int.

    Shape:
        - Input: (*, C·r², H, W)
        - Output: (*, C, H·r, W·r)

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> F.pixel_shuffle(tinynet.arange(4.0).reshape(1, 4, 1, 1), 2)
        tensor([[[[0., 1.],
                  [2., 3.]]]])
    """
    op = "pixel_shuffle"
    r = check_shuffle_args(op, input, "upscale_factor", upscale_factor)
    if input.shape[-3] % (r * r):
        raise RuntimeError(
            f"{op}: the channel dimension input.size(-3)={input.shape[-3]} must be divisible by "
            f"upscale_factor**2 = {r * r} (input shape {tuple(input.shape)})"
        )
    return PixelShuffle.apply(input, r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """Rearrange (*, C, H·r, W·r) into (*, C·r², H, W), the inverse (and adjoint) of :func:`pixel_shuffle`.

    Args:
        input: at least 3-D, height and width divisible by r.
        downscale_factor: r, a positive int.

    Shape:
        - Input: (*, C, H·r, W·r)
        - Output: (*, C·r², H, W)

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> F.pixel_unshuffle(tinynet.arange(4.0).reshape(1, 1, 2, 2), 2).flatten()
        tensor([0., 1., 2., 3.])
    """
    op = "pixel_unshuffle"
    r = check_shuffle_args(op, input, "downscale_factor", downscale_factor)
    for axis, name in ((-2, "height"), (-1, "width")):
        if input.shape[axis] % r:
            raise RuntimeError(
                f"{op}: the {name} input.size({axis})={input.shape[axis]} must be divisible by "
                f"downscale_factor={r} (input shape {tuple(input.shape)})"
            )
    return PixelUnshuffle.apply(input, r)
