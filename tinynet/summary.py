"""``tinynet.summary(model, input_size)``: a torchinfo-style table with mult-adds and receptive fields.

One forward pass on a dummy input is traced. Every module call becomes a row
with its output shape, parameters, mult-adds and **receptive field**: the
extent, in input pixels, of the input region one output unit can see, its
**jump** (input pixels between neighbouring output units, the product of the
strides so far) and optionally its **start** (the centre of output unit 0's
region, in input pixel coordinates).

How receptive fields are tracked
--------------------------------
Every tensor that depends on the input carries, per spatial axis of the input,
two arrays ``lo[i]``, ``hi[i]``: the first and last input pixel that output
position ``i`` depends on. The traced input starts with ``lo = hi = i``. Each
operation maps its inputs' arrays to its output's:

* a sliding window (convolution, pooling) with kernel k, stride s, padding p and
  dilation d reads positions ``i·s − p + t·d`` (t < k), so
  ``lo_out[i] = min_t lo_in[i·s − p + t·d]`` and likewise ``hi``. Padding
  positions are extrapolated at the jump, as in the textbook formulas, which
  this reproduces: r_out = r_in + (d(k − 1) + 1 − 1)·j_in and j_out = j_in·s;
* a transposed convolution (and max-unpooling) scatters input i to outputs
  ``i·s − p + t·d``: each output's range is the union over the inputs that reach it;
* resampling (nearest, bilinear, pixel shuffle, adaptive pooling) reads the
  source positions of its index tables, so upsampling by s divides the jump by s;
* pointwise operations, additions and concatenations along channels take the
  union of their inputs' ranges per position (a skip connection sees the larger
  of its two paths); concatenation along a spatial axis concatenates the ranges;
  slicing slices them; permutes and reshapes move them with their axes;
* an operation that mixes a whole spatial axis (``flatten`` then ``Linear``, a
  mean over H and W, a softmax over W) makes that axis *global*: every output
  unit sees the whole range.

The reported receptive field of a layer is the largest ``hi − lo + 1`` over its
output positions (without clipping to the image: padding counts, as in the
textbook definition), the jump is the product of strides and scale factors.
Modules with a known geometry (attributes ``kernel_size``, ``stride``,
``padding``, ``dilation``, ``scale_factor``, ... as in PyTorch) are handled at
the module level; between modules, every op is followed as it runs: a
:class:`tinynet.autograd.function_hook` reports each ``Function`` with its
arguments (a convolution's geometry, a max-pool's window, an upsampling's
source tables, ...), so skip connections, concatenations and functional ops
(``F.max_pool2d``, ``F.interpolate``, ``F.conv2d``, ...) in a custom ``forward``
are followed, and nothing is patched. An operation of unknown geometry yields
"?" rather than a guess. Normalisation statistics (BatchNorm in
training mode) are not counted as spatial mixing, as in every receptive-field
calculator.

Mult-adds (multiply-accumulates with weights; bias additions are not counted)
-------------------------------------------------------------------------------
* convolution: output elements × (C_in/groups × kH × kW);
* transposed convolution: input elements × (C_out/groups × kH × kW)
  (each input value is multiplied by every weight of its group);
* linear: output elements × in_features;
* normalisation layers (BatchNorm, ...): one per output element (the folded scale-and-shift);
* ``AtrousPyramid(merge="weighted")``: one per branch and output element (besides its convolutions);
* activations, pooling, upsampling, unpooling, dropout, reshapes: 0;
* a leaf module of unknown type that holds parameters: unknown ("?"), left out
  of the total and listed in ``Summary.unknown_mult_adds``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from tinynet import tensor_functions
from tinynet.autograd import function_hook, no_grad
from tinynet.functional import conv as C
from tinynet.functional import pooling as P
from tinynet.functional import resample as R
from tinynet.functional.dropout import MaskScale
from tinynet.functional.linear import Linear
from tinynet.functional.normalization import BatchNorm
from tinynet.random import Generator, get_rng_state, set_rng_state
from tinynet.tensor import Tensor

__all__ = ["summary", "Summary", "LayerInfo"]


# ============================================================================ receptive-field bookkeeping
@dataclass
class _Axis:
    """One spatial axis of the traced input, as seen by one tensor.

    ``dim`` is the tensor dimension that runs along this input axis, or None
    when no dimension does (the axis was reduced, flattened or indexed away):
    then every unit of the tensor sees the single range ``lo[0]..hi[0]``, and
    ``mixed`` says whether that range is a whole axis mixed together (global).
    """

    dim: int | None
    lo: np.ndarray
    hi: np.ndarray
    jump: float
    mixed: bool = False

    def moved(self, dim: int | None) -> "_Axis":
        return _Axis(dim, self.lo, self.hi, self.jump, self.mixed)

    def collapsed(self) -> "_Axis":
        """The axis summed over: every unit sees the union of all positions."""
        lo, hi = _finite_extent(self.lo, self.hi)
        return _Axis(None, np.array([lo]), np.array([hi]), self.jump, True)


def _finite_extent(lo: np.ndarray, hi: np.ndarray) -> tuple:
    seen = hi >= lo
    if not seen.any():
        return np.inf, -np.inf
    return float(lo[seen].min()), float(hi[seen].max())


_RF = tuple  # tuple[_Axis, ...], one per spatial axis of the traced input


def _input_rf(shape: tuple) -> _RF:
    axes = []
    for dim in range(2, len(shape)):
        pos = np.arange(shape[dim], dtype=np.float64)
        axes.append(_Axis(dim, pos, pos.copy(), 1.0))
    return tuple(axes)


def _shift(rf: _RF, by: int) -> _RF:
    return tuple(a.moved(None if a.dim is None else a.dim + by) for a in rf)


def _union(parts: Sequence[tuple], out_ndim: int) -> _RF | None:
    """Pointwise union of several (rf, ndim) inputs broadcast to ``out_ndim`` dimensions (None: unknown)."""
    parts = [_shift(rf, out_ndim - ndim) for rf, ndim in parts if rf is not None]
    if len(parts) <= 1:
        return parts[0] if parts else None
    result = []
    for axes in zip(*parts):
        positional = [a for a in axes if a.dim is not None]
        shared = [a for a in axes if a.dim is None]
        if len({a.dim for a in positional}) > 1:
            return None  # the same input axis runs along different dimensions: no pointwise meaning
        if not positional or any(a.mixed for a in shared):
            extents = [_finite_extent(a.lo, a.hi) for a in axes]
            lo, hi = min(e[0] for e in extents), max(e[1] for e in extents)
            jump = (positional or shared)[0].jump
            result.append(_Axis(None, np.array([lo]), np.array([hi]), jump, any(a.mixed for a in axes)))
            continue
        # Each position sees its own ranges plus any range shared by every unit of a reduced input.
        los = [a.lo for a in positional] + [np.array([_finite_extent(a.lo, a.hi)[0]]) for a in shared]
        his = [a.hi for a in positional] + [np.array([_finite_extent(a.lo, a.hi)[1]]) for a in shared]
        try:
            lo = np.minimum.reduce(np.broadcast_arrays(*los))
            hi = np.maximum.reduce(np.broadcast_arrays(*his))
        except ValueError:
            return None
        result.append(_Axis(positional[0].dim, lo, hi, positional[0].jump))
    return tuple(result)


def _take(values: np.ndarray, idx: np.ndarray, jump: float) -> np.ndarray:
    """values[idx] where idx may run past either end: positions there are extrapolated at the jump."""
    n = len(values)
    inside = np.clip(idx, 0, n - 1)
    out = values[inside].astype(np.float64)
    return out + (idx - inside) * jump


def _gather_axis(a: _Axis, idx: np.ndarray, mask: np.ndarray | None, jump: float) -> _Axis:
    """Output i reads input positions idx[i, :] (where mask is True); ranges are their union."""
    lo = _take(a.lo, idx, a.jump)
    hi = _take(a.hi, idx, a.jump)
    if mask is not None:
        lo = np.where(mask, lo, np.inf)
        hi = np.where(mask, hi, -np.inf)
    return _Axis(a.dim, lo.min(axis=1), hi.max(axis=1), jump)


def _window_axis(a: _Axis, n_out: int, k: int, s: int, p: int, d: int) -> _Axis:
    idx = np.arange(n_out)[:, None] * s - p + np.arange(k)[None, :] * d
    return _gather_axis(a, idx, None, a.jump * s)


def _transposed_axis(a: _Axis, n_out: int, k: int, s: int, p: int, d: int) -> _Axis:
    lo = np.full(n_out, np.inf)
    hi = np.full(n_out, -np.inf)
    src = np.repeat(np.arange(len(a.lo)), k)
    dst = src * s - p + np.tile(np.arange(k) * d, len(a.lo))
    ok = (dst >= 0) & (dst < n_out)
    np.minimum.at(lo, dst[ok], a.lo[src[ok]])
    np.maximum.at(hi, dst[ok], a.hi[src[ok]])
    return _Axis(a.dim, lo, hi, a.jump / s)


def _adaptive_axis(a: _Axis, n_in: int, n_out: int) -> _Axis:
    """Output o averages input positions start[o] .. end[o] - 1 (the op's own window tables)."""
    start, end, _ = P.adaptive_windows(n_in, n_out)
    width = int((end - start).max(initial=1))
    idx = start[:, None] + np.arange(width)[None, :]
    return _gather_axis(a, np.minimum(idx, n_in - 1), idx < end[:, None], a.jump * n_in / n_out)


def _nearest_axis(a: _Axis, src: np.ndarray, n_in: int) -> _Axis:
    """Output o copies input position src[o]."""
    return _gather_axis(a, src[:, None], None, a.jump * n_in / len(src))


def _linear_axis(a: _Axis, table: tuple, n_in: int) -> _Axis:
    """Output o reads i0[o] and, where its weight is not zero, i1[o] (``R.linear_source_weights``)."""
    i0, i1, _, w1 = table
    reads = np.stack([np.ones(len(i0), bool), w1 != 0], axis=1)
    return _gather_axis(a, np.stack([i0, i1], axis=1), reads, a.jump * n_in / len(i0))


def _spatial(rf: _RF | None, in_ndim: int, nd: int, out_ndim: int, per_axis, mix_dim: int | None = None) -> _RF | None:
    """Apply ``per_axis(axis, k)`` to the axes that run along the last ``nd`` dims (k = 0..nd-1)."""
    if rf is None:
        return None
    out = []
    first = in_ndim - nd
    for a in rf:
        if a.dim is not None and a.dim >= first:
            b = per_axis(a, a.dim - first)
            out.append(b.moved(b.dim - in_ndim + out_ndim) if b.dim is not None else b)
        elif a.dim is not None and mix_dim is not None and a.dim == in_ndim + mix_dim:
            out.append(a.collapsed())
        else:
            out.append(a.moved(a.dim - in_ndim + out_ndim) if a.dim is not None else a)
    return tuple(out)


def _tuple(value, nd: int) -> tuple:
    if isinstance(value, numbers.Integral):
        return (int(value),) * nd
    value = tuple(int(v) for v in value)
    return value * nd if len(value) == 1 else value


def _sliding_rf(rf, x_shape, y_shape, nd, kernel, stride, padding, dilation, mix_channels, transposed=False):
    """Convolution and pooling (a window per output) or their transposes (a window per input)."""
    k, s, d = _tuple(kernel, nd), _tuple(stride, nd), _tuple(dilation, nd)
    if isinstance(padding, str):  # "valid" / "same" (the odd pixel goes to the end, as PyTorch)
        p = (0,) * nd if padding == "valid" else tuple((di * (ki - 1)) // 2 for ki, di in zip(k, d))
    else:
        p = _tuple(padding, nd)
    n_out = y_shape[len(y_shape) - nd :]
    per_axis = _transposed_axis if transposed else _window_axis
    return _spatial(
        rf,
        len(x_shape),
        nd,
        len(y_shape),
        lambda a, i: per_axis(a, n_out[i], k[i], s[i], p[i], d[i]),
        -nd - 1 if mix_channels else None,
    )


def _adaptive_rf(rf, x_shape, y_shape, nd):
    n_in, n_out = x_shape[len(x_shape) - nd :], y_shape[len(y_shape) - nd :]
    return _spatial(rf, len(x_shape), nd, len(y_shape), lambda a, i: _adaptive_axis(a, n_in[i], n_out[i]))


def _tables_rf(rf, x_shape, y_shape, tables, per_axis):
    """``per_axis(axis, table, n_in)`` along the last ``len(tables)`` dims, one index table per dim."""
    nd = len(tables)
    n_in = x_shape[len(x_shape) - nd :]
    return _spatial(rf, len(x_shape), nd, len(y_shape), lambda a, i: per_axis(a, tables[i], n_in[i]))


def _resample_rf(rf, x_shape, y_shape, mode, scale_factor, align_corners, recompute=None):
    """``nn.Upsample``: the source tables of ``interpolate`` (the index maps the op itself uses), in float64."""
    nd = len(x_shape) - 2
    n_in, n_out = x_shape[2:], y_shape[2:]
    scales = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * nd
    if recompute:
        scales = (None,) * nd
    if mode in ("nearest", "nearest-exact"):
        exact = mode == "nearest-exact"
        tables = [R.nearest_source_index(*sizes, exact=exact, shortcuts=nd == 2) for sizes in zip(n_in, n_out, scales)]
        return _tables_rf(rf, x_shape, y_shape, tables, _nearest_axis)
    if mode in ("linear", "bilinear"):
        f64 = np.dtype(np.float64)
        tables = [R.linear_source_weights(*sizes, bool(align_corners), f64) for sizes in zip(n_in, n_out, scales)]
        return _tables_rf(rf, x_shape, y_shape, tables, _linear_axis)
    if mode == "bed_of_nails":
        return _spatial(rf, len(x_shape), nd, len(y_shape), lambda a, i: _nails_axis(a, n_in[i], n_out[i]))
    if mode == "area":
        return _adaptive_rf(rf, x_shape, y_shape, nd)
    return None


def _nails_axis(a: _Axis, n_in: int, n_out: int) -> _Axis:
    """Bed of nails: input i goes to output i·f, f = n_out / n_in; the other outputs see nothing."""
    return _transposed_axis(a, n_out, 1, n_out // n_in, 0, 1)


def _pixel_shuffle_rf(rf, x_shape, y_shape, r: int, up: bool):
    n_out = y_shape[-2:]

    def per_axis(a, i):
        if up:  # output o comes from input o // r
            return _gather_axis(a, (np.arange(n_out[i]) // r)[:, None], None, a.jump / r)
        return _window_axis(a, n_out[i], r, r, 0, 1)

    return _spatial(rf, len(x_shape), 2, len(y_shape), per_axis, -3)


def _mix_last_rf(rf, x_ndim, y_ndim):
    """``linear``: the last dimension is mixed (a flattened image becomes global)."""
    if rf is None:
        return None
    out = []
    for a in rf:
        if a.dim is None:
            out.append(a)
        elif a.dim == x_ndim - 1:
            out.append(a.collapsed())
        else:
            out.append(a.moved(a.dim - x_ndim + y_ndim))
    return tuple(out)


# --------------------------------------------------------------------------- core tensor ops
_POINTWISE = {
    tensor_functions.Add,
    tensor_functions.Sub,
    tensor_functions.Mul,
    tensor_functions.Div,
    tensor_functions.Neg,
    tensor_functions.Pow,
    tensor_functions.Exp,
    tensor_functions.Log,
    tensor_functions.Sqrt,
    tensor_functions.Abs,
    tensor_functions.Tanh,
    tensor_functions.Sigmoid,
    tensor_functions.ReLU,
    tensor_functions.LeakyReLU,
    tensor_functions.Clip,
    tensor_functions.Cast,
    tensor_functions.Where,
    MaskScale,  # dropout
    BatchNorm,  # its statistics are not counted as spatial mixing
}


def _reduce(rf: _RF, ndim: int, dims, keepdim: bool) -> _RF:
    dims = set(range(ndim)) if dims is None else {int(d) % max(ndim, 1) for d in np.atleast_1d(dims)}
    out = []
    for a in rf:
        if a.dim is None:
            out.append(a)
        elif a.dim in dims:
            out.append(a.collapsed())
        else:
            out.append(a.moved(a.dim if keepdim else a.dim - sum(d < a.dim for d in dims)))
    return tuple(out)


def _reshape(rf: _RF, old: tuple, new: tuple) -> _RF:
    # Dimensions in the longest common trailing block keep their positions (C-order), the rest are mixed.
    common = 0
    while common < min(len(old), len(new)) and old[len(old) - 1 - common] == new[len(new) - 1 - common]:
        common += 1
    out = []
    for a in rf:
        if a.dim is None:
            out.append(a)
        elif a.dim >= len(old) - common:
            out.append(a.moved(a.dim - len(old) + len(new)))
        elif old[a.dim] == 1:  # a length-1 axis carries one range; it survives any reshape
            out.append(_Axis(None, a.lo, a.hi, a.jump, a.mixed))
        else:
            out.append(a.collapsed())
    return tuple(out)


def _index(rf: _RF, shape: tuple, index) -> _RF | None:
    """Basic indexing moves, slices or selects the ranges; advanced indexing of a tracked axis is unknown."""
    items = list(index) if isinstance(index, tuple) else [index]
    advanced = [it for it in items if isinstance(it, np.ndarray) and it.ndim > 0]
    if len(advanced) > 1 or any(it.dtype == bool for it in advanced):
        return rf if all(a.dim is None for a in rf) else None
    consumed = sum(1 for it in items if it is not None and it is not Ellipsis)
    fill = [slice(None)] * (len(shape) - consumed)
    at = next((k for k, it in enumerate(items) if it is Ellipsis), None)
    items = items + fill if at is None else items[:at] + fill + items[at + 1 :]
    mapping, new_dim, old_dim = {}, 0, 0
    for it in items:
        if it is None:
            new_dim += 1
            continue
        if isinstance(it, slice):
            mapping[old_dim] = ("slice", new_dim, it)
            new_dim += 1
        elif isinstance(it, np.ndarray) and it.ndim > 0:
            mapping[old_dim] = ("take", new_dim, it)
            new_dim += it.ndim
        else:
            mapping[old_dim] = ("int", None, int(it))
        old_dim += 1
    out = []
    for a in rf:
        if a.dim is None:
            out.append(a)
            continue
        kind, dim, arg = mapping[a.dim]
        n = shape[a.dim]
        lo, hi = _broadcast_to(a.lo, n), _broadcast_to(a.hi, n)
        if kind == "slice":
            sel = np.arange(*arg.indices(n))
            out.append(_Axis(dim, lo[sel], hi[sel], a.jump * abs(arg.step or 1)))
        elif kind == "take":
            if arg.ndim != 1:
                return None
            out.append(_Axis(dim, lo[arg], hi[arg], a.jump))
        else:
            i = arg % n
            out.append(_Axis(None, lo[i : i + 1], hi[i : i + 1], a.jump))
    return tuple(out)


def _broadcast_to(values: np.ndarray, n: int) -> np.ndarray:
    return values if len(values) == n else np.broadcast_to(values, (n,))


def _cat(parts: list, dim: int, out_ndim: int) -> _RF | None:
    """Concatenation along ``dim``: ranges are concatenated for the input axis that runs along ``dim``."""
    known = [rf for rf, _ in parts if rf is not None]
    if not known:
        return None
    if not any(a.dim == dim for rf in known for a in rf):
        return _union([(rf, out_ndim) for rf in known], out_ndim)  # e.g. channels: a pointwise union
    out = []
    for k in range(len(known[0])):
        if not any(rf[k].dim == dim for rf in known):
            axis = _union([((rf[k],), out_ndim) for rf in known], out_ndim)
            if axis is None:
                return None
            out.append(axis[0])
            continue
        los, his = [], []
        for rf, size in parts:
            if rf is None:  # a constant block (zeros made on the fly): it sees no input
                los.append(np.full(size, np.inf))
                his.append(np.full(size, -np.inf))
            elif rf[k].dim in (dim, None) and not rf[k].mixed:
                los.append(np.broadcast_to(rf[k].lo, (size,)).astype(np.float64))
                his.append(np.broadcast_to(rf[k].hi, (size,)).astype(np.float64))
            else:
                return None
        first = next(rf[k] for rf in known if rf[k].dim == dim)
        out.append(_Axis(dim, np.concatenate(los), np.concatenate(his), first.jump))
    return tuple(out)


def _matmul(a_rf, a_ndim, b_rf, b_ndim, out_ndim) -> _RF | None:
    parts = []
    if a_rf is not None:
        if a_ndim < 2:
            parts.append((tuple(x.collapsed() if x.dim is not None else x for x in a_rf), out_ndim))
        else:
            moved = [x.collapsed() if x.dim == a_ndim - 1 else x for x in a_rf]
            parts.append((_shift(tuple(moved), out_ndim - a_ndim), out_ndim))
    if b_rf is not None:
        if b_ndim < 2:
            parts.append((tuple(x.collapsed() if x.dim is not None else x for x in b_rf), out_ndim))
        else:
            moved = [x.collapsed() if x.dim == b_ndim - 2 else x for x in b_rf]
            parts.append((_shift(tuple(moved), out_ndim - b_ndim), out_ndim))
    return _union(parts, out_ndim)


# ============================================================================ the tracer
_POINTWISE_MODULES = (
    "Identity",
    "ReLU",
    "ReLU6",
    "LeakyReLU",
    "PReLU",
    "ELU",
    "GELU",
    "SiLU",
    "Sigmoid",
    "Tanh",
    "Hardtanh",
    "Softplus",
    "Dropout",
    "Dropout1d",
    "Dropout2d",
    "AlphaDropout",
    "BatchNorm1d",
    "BatchNorm2d",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "GroupNorm",
    "LayerNorm",
)
_NORM_PREFIXES = ("BatchNorm", "InstanceNorm", "GroupNorm", "LayerNorm")


class _Tracer:
    """Receptive fields of the tensors of one forward pass, op by op (a ``function_hook``) and module by module."""

    def __init__(self):
        self.rf: dict[int, tuple] = {}  # id(tensor) -> (tensor, rf); the tensor is kept alive
        self.switches: dict[int, tuple] = {}  # id(max-pool indices) -> (indices, (kernel, stride, padding))

    def get(self, t):
        entry = self.rf.get(id(t)) if isinstance(t, Tensor) else None
        return entry[1] if entry is not None else None

    def set(self, t, rf) -> None:
        if isinstance(t, Tensor):
            self.rf[id(t)] = (t, rf)

    # ------------------------------------------------------------------ every Function application
    def on_function(self, fn, args, kwargs, output) -> None:
        tensors = [a for a in args if isinstance(a, Tensor)]
        if not any(self.get(t) is not None for t in tensors):
            return
        outs = output if isinstance(output, tuple) else (output,)
        y = outs[0]
        rf = self._function_rf(fn, args, kwargs, y)
        for o in outs:
            if isinstance(o, Tensor) and o.shape == y.shape:
                self.set(o, rf)
        if fn is P.MaxPool2dFn:  # the switches remember the window that made them, for max_unpool2d
            indices, window = outs[1], args[1:4]
            self.switches[id(indices)] = (indices, window)

    def _function_rf(self, fn, args, kwargs, y):
        """The output's receptive field from the Function and its arguments (None: unknown)."""
        if fn in _POINTWISE:
            return _union([(self.get(a), a.ndim) for a in args if isinstance(a, Tensor)], y.ndim)
        x = args[0] if isinstance(args[0], Tensor) else None
        rf = self.get(x)
        if fn in (C.Conv, C.ConvTranspose):  # conv1d, conv2d, convolve2d and their transposes
            g = args[3]
            nd, geometry = g.nd, (g.kernel, g.stride, g.padding, g.dilation)
            kernel, stride, padding, dilation = (t[len(t) - nd :] for t in geometry)  # 1-D: drop the height
            transposed = fn is C.ConvTranspose
            return _sliding_rf(rf, x.shape, y.shape, nd, kernel, stride, padding, dilation, True, transposed)
        if fn is P.MaxPool2dFn:
            kernel, stride, padding, dilation = args[1:5]
            return _sliding_rf(rf, x.shape, y.shape, 2, kernel, stride, padding, dilation, False)
        if fn is P.MaxUnpool2dFn:  # the transposed window of the max-pool that made the switches
            switches = self.switches.get(id(args[1]))
            if switches is None:  # indices from elsewhere: their geometry is unknown
                return None
            kernel, stride, padding = switches[1]
            return _sliding_rf(rf, x.shape, y.shape, 2, kernel, stride, padding, 1, False, transposed=True)
        if fn is P.WindowMean and kwargs.get("window"):  # avg_pool2d's (kernel, stride, padding)
            return _sliding_rf(rf, x.shape, y.shape, 2, *kwargs["window"], 1, False)
        if fn is P.WindowMean:  # adaptive_avg_pool2d
            return _adaptive_rf(rf, x.shape, y.shape, 2)
        if fn in (R.GatherRowsCols, R.Bilinear):  # nearest / (bi)linear: source tables; 1-D input reads cols
            tables = args[1:3][4 - x.ndim :]
            return _tables_rf(rf, x.shape, y.shape, tables, _nearest_axis if fn is R.GatherRowsCols else _linear_axis)
        if fn is R.ScatterRowsCols:  # bed of nails
            return _resample_rf(rf, x.shape, y.shape, "bed_of_nails", None, None)
        if fn in (R.PixelShuffle, R.PixelUnshuffle):
            return _pixel_shuffle_rf(rf, x.shape, y.shape, args[1], fn is R.PixelShuffle)
        if fn is Linear:
            return _mix_last_rf(rf, x.ndim, y.ndim)
        if fn in (tensor_functions.Softmax, tensor_functions.LogSoftmax):
            return _reduce_keep(rf, x.ndim, args[1])
        if fn is tensor_functions.Expand:
            return _union([(rf, x.ndim)], y.ndim)
        if fn is tensor_functions.Reshape:
            return _reshape(rf, x.shape, y.shape) if rf is not None else None
        if fn is tensor_functions.Permute:
            axes = list(args[1])
            return tuple(a.moved(None if a.dim is None else axes.index(a.dim)) for a in rf)
        if fn is tensor_functions.Index:
            return _index(rf, x.shape, args[1])
        if fn in (tensor_functions.Sum, tensor_functions.Mean):
            return _reduce(rf, x.ndim, args[1], bool(args[2]))
        if fn is tensor_functions.Var:
            return _reduce(rf, x.ndim, args[1], bool(args[3]))
        if fn is tensor_functions.MaxDim:
            return _reduce(rf, x.ndim, args[1], bool(args[2]))
        if fn is tensor_functions.MaxAll:
            return _reduce(rf, x.ndim, None, False)
        if fn is tensor_functions.MatMul:
            a, b = args
            return _matmul(self.get(a), a.ndim, self.get(b), b.ndim, y.ndim)
        if fn is tensor_functions.Cat:
            dim, xs = args[0], args[1:]
            return _cat([(self.get(t), t.shape[dim]) for t in xs], dim, y.ndim)
        if fn is tensor_functions.Stack:
            dim, xs = args[0], args[1:]
            parts = [(_insert_dim(self.get(t), dim), t.ndim + 1) for t in xs]
            return _union(parts, y.ndim)
        return None  # an op whose geometry tinynet does not know: "?" rather than a guess

    # ------------------------------------------------------------------ modules
    def module_rf(self, m, x, y):
        """The receptive field of a leaf module's output from its PyTorch attributes (None: keep the traced one)."""
        rf = self.get(x)
        if rf is None or not isinstance(y, Tensor):
            return None
        name = type(m).__name__
        xs, ys = x.shape, y.shape
        nd = _spatial_dims(m, xs)
        if name.startswith(_NORM_PREFIXES) or name in _POINTWISE_MODULES:
            if tuple(xs) == tuple(ys):
                return rf
            return None
        if "Adaptive" in name and "Pool" in name:
            return _adaptive_rf(rf, xs, ys, nd)
        if "Unpool" in name and hasattr(m, "kernel_size"):
            stride = m.stride if m.stride is not None else m.kernel_size
            return _sliding_rf(rf, xs, ys, nd, m.kernel_size, stride, m.padding, 1, False, transposed=True)
        if hasattr(m, "kernel_size") and hasattr(m, "stride"):
            convolution = hasattr(m, "in_channels") and hasattr(m, "out_channels")
            dilation = getattr(m, "dilation", 1)
            if getattr(m, "transposed", "Transpose" in name):
                return _sliding_rf(rf, xs, ys, nd, m.kernel_size, m.stride, m.padding, dilation, convolution, True)
            stride = m.stride if m.stride is not None else m.kernel_size
            return _sliding_rf(rf, xs, ys, nd, m.kernel_size, stride, m.padding, dilation, convolution)
        if hasattr(m, "mode") and (hasattr(m, "scale_factor") or hasattr(m, "size")):
            recompute = getattr(m, "recompute_scale_factor", None)
            return _resample_rf(rf, xs, ys, m.mode, m.scale_factor, m.align_corners, recompute)
        if hasattr(m, "upscale_factor"):
            return _pixel_shuffle_rf(rf, xs, ys, m.upscale_factor, True)
        if hasattr(m, "downscale_factor"):
            return _pixel_shuffle_rf(rf, xs, ys, m.downscale_factor, False)
        if hasattr(m, "in_features") and hasattr(m, "out_features"):
            return _mix_last_rf(rf, len(xs), len(ys))
        return None


def _spatial_dims(m, x_shape) -> int:
    """1, 2 or 3: from the class name (Conv2d, MaxPool1d, ...), else from the input's rank (N, C, ...)."""
    name = type(m).__name__
    for nd in (1, 2, 3):
        if name.endswith(f"{nd}d"):
            return nd
    return max(len(x_shape) - 2, 1)


def _reduce_keep(rf, ndim, dim):
    """softmax along ``dim``: that axis is mixed, the shape is kept."""
    d = int(dim) % ndim
    return tuple(a.collapsed() if a.dim == d else a for a in rf) if rf is not None else None


def _insert_dim(rf, dim):
    if rf is None:
        return None
    return tuple(a.moved(None if a.dim is None else a.dim + (a.dim >= dim)) for a in rf)


# ============================================================================ mult-adds
def _own_mult_adds(m, x, y) -> int | None:
    """Mult-adds of a module's own computation (children excluded); None when unknown."""
    name = type(m).__name__
    own = [p for p in m._parameters.values() if p is not None]
    weight = m._parameters.get("weight")
    y0 = y[0] if isinstance(y, (tuple, list)) else y
    if not isinstance(y0, Tensor):
        return 0 if not own else None
    if name.startswith(_NORM_PREFIXES):
        return int(y0.numel())
    if name == "AtrousPyramid" and getattr(m, "merge", None) == "weighted":
        return int(y0.numel()) * len(m.rates)  # one learned scale per branch and element
    if weight is not None and weight.ndim >= 3 and hasattr(m, "kernel_size"):
        per = int(np.prod(weight.shape[1:]))
        if getattr(m, "transposed", "Transpose" in name):
            return int(x.numel()) * per if isinstance(x, Tensor) else None
        return int(y0.numel()) * per
    if weight is not None and weight.ndim == 2 and hasattr(m, "in_features"):
        return int(y0.numel()) * int(weight.shape[1])
    return None if own else 0


# ============================================================================ results
@dataclass
class LayerInfo:
    """One row of the summary: one call of one module.

    Attributes:
        name: the module's dotted path in the model ("" for the model itself).
        class_name, depth, index: its type, nesting depth and position among its siblings (1-based).
        output_shape: the shape of its (first) output.
        num_params: parameters of the module and its submodules.
        trainable: True when all of them require grad.
        mult_adds: mult-adds of this call including nested calls (None when unknown).
        own_mult_adds: mult-adds of its own computation (children excluded).
        receptive_field, jump, start: per spatial axis (None when unknown or not spatial).
        rf_bounds: per spatial axis, arrays ``(lo, hi)``: the input pixels each output position sees.
        rf_global: True when every output unit sees the whole (padded) input.

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> s = tinynet.summary(nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.ReLU()), (1, 3, 32, 32))
        >>> conv = s.layers[1]
        >>> conv.name, conv.class_name, conv.output_shape, conv.num_params, conv.mult_adds
        ('0', 'Conv2d', (1, 8, 15, 15), 224, 48600)
        >>> conv.receptive_field, conv.jump
        ((3, 3), (2, 2))
    """

    name: str
    class_name: str
    depth: int
    index: int = 0
    output_shape: tuple | None = None
    num_outputs: int = 1
    num_params: int = 0
    direct_params: int = 0
    trainable: bool = True
    own_mult_adds: int | None = 0
    mult_adds: int | None = 0
    receptive_field: tuple | None = None
    jump: tuple | None = None
    start: tuple | None = None
    rf_bounds: tuple | None = None
    rf_global: bool = False
    rf_known: bool = False
    parent: "LayerInfo | None" = field(default=None, repr=False)
    children: list = field(default_factory=list, repr=False)


class Summary:
    """What :func:`summary` returns: the rows (``layers``), the totals and a printable table.

    Attributes:
        layers: list of :class:`LayerInfo`, in call order.
        total_params, trainable_params, non_trainable_params: over ``model.parameters()`` (each counted once).
        total_mult_adds: the sum over all calls of known mult-adds.
        unknown_mult_adds: names of the layers whose mult-adds are unknown (left out of the total).
        input_size, output_shape: of the traced forward pass.

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> s = tinynet.summary(nn.DepthwiseSeparableConv2d(3, 12, 3, bias=False), (1, 3, 32, 32))
        >>> s.total_params, s.total_mult_adds, s.output_shape
        (63, 56700, (1, 12, 30, 30))
        >>> [(layer.name, layer.num_params) for layer in s.layers]
        [('', 63), ('depthwise', 27), ('pointwise', 36)]
        >>> print(str(s).splitlines()[1])
        Layer (type:depth-idx)       Output Shape  Param #  Mult-Adds   RF  Jump
    """

    def __init__(self, layers, model, input_sizes, output_shape, depth, show_start, spatial):
        self.layers = layers
        params = list(model.parameters())
        self.total_params = int(sum(p.numel() for p in params))
        self.trainable_params = int(sum(p.numel() for p in params if p.requires_grad))
        self.non_trainable_params = self.total_params - self.trainable_params
        self.total_mult_adds = int(sum(r.own_mult_adds or 0 for r in layers))  # every call counts once
        self.unknown_mult_adds = [r.name or r.class_name for r in layers if r.own_mult_adds is None]
        self.input_size = input_sizes[0] if len(input_sizes) == 1 else input_sizes
        self.output_shape = output_shape
        self.params_bytes = int(sum(p.data.nbytes for p in params))
        self._depth = depth
        self._show_start = show_start
        self._spatial = spatial

    def __str__(self) -> str:
        return _render(self)

    __repr__ = __str__


# ============================================================================ summary()
def summary(
    model,
    input_size=None,
    *,
    input_data=None,
    dtype=None,
    depth: int = 3,
    mode: str = "eval",
    show_start: bool = False,
) -> Summary:
    """Trace one forward pass and tabulate every layer, as torchinfo does, plus receptive fields.

    Args:
        model: a :class:`tinynet.nn.Module`.
        input_size: the input shape including the batch dimension, e.g. ``(1, 3, 32, 32)``,
            or a list of shapes for a model with several inputs.
        input_data: the input Tensor(s) instead of ``input_size``.
        dtype: dtype of the dummy input (default float32).
        depth: deepest nesting level shown as rows (deeper layers still count in totals).
        mode: ``"eval"`` (default, as torchinfo), ``"train"`` or ``"same"``. Nothing is left
            changed: the modules' modes, their buffers (BatchNorm statistics) and the global
            random state are restored afterwards.
        show_start: add a column with the centre of output unit 0's receptive field.

    Returns:
        a :class:`Summary`; ``print(summary(...))`` shows the table. Receptive
        fields are measured on the first input with spatial dimensions (N, C, ...).

    Shape:
        for a sliding window with kernel k, stride s, dilation d after a layer
        with receptive field r and jump j: ``r' = r + (d(k - 1) + 1 - 1)·j`` and ``j' = j·s``;
        upsampling by s: ``j' = j / s``. Fields are tracked per output position through
        any forward (skips, concatenations, crops, functional ops), see the module docstring.

    Mult-adds (multiplications by weights; bias additions are not counted):
        convolution: output elements × C_in/groups × kH × kW; transposed convolution:
        input elements × C_out/groups × kH × kW; linear: output elements × in_features;
        normalisation: output elements; activations, pooling, upsampling, unpooling: 0.

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> net = nn.Sequential(nn.MaxPool2d(3, stride=1), nn.MaxPool2d(2), nn.MaxPool2d(3, stride=1, dilation=2))
        >>> s = tinynet.summary(net, (1, 3, 32, 32))
        >>> [layer.receptive_field for layer in s.layers[1:]]
        [(3, 3), (4, 4), (12, 12)]
        >>> [layer.jump for layer in s.layers[1:]]
        [(1, 1), (2, 2), (2, 2)]
        >>> s.total_params, s.total_mult_adds
        (0, 0)
    """
    from tinynet.nn.module import Module

    if not isinstance(model, Module):
        raise TypeError(f"summary: model must be a tinynet.nn.Module, got {type(model).__name__}")
    if mode not in ("eval", "train", "same"):
        raise ValueError(f"summary: mode must be 'eval', 'train' or 'same', got {mode!r}")
    if not isinstance(depth, numbers.Integral) or isinstance(depth, bool) or depth < 0:
        raise ValueError(f"summary: depth must be a non-negative int, got {depth!r}")
    if not isinstance(show_start, bool):
        raise TypeError(f"summary: show_start must be a bool, got {show_start!r}")
    inputs = _make_inputs(input_size, input_data, dtype)

    tracer = _Tracer()
    first_spatial = next((x for x in inputs if x.ndim >= 3), None)
    if first_spatial is not None:
        tracer.set(first_spatial, _input_rf(first_spatial.shape))
    names = {id(m): n for n, m in model.named_modules()}
    rows: list[LayerInfo] = []
    stack: list[tuple] = []

    def pre_hook(module, args):
        parent = stack[-1][1] if stack else None
        siblings = parent.children if parent is not None else [r for r in rows if r.parent is None]
        row = LayerInfo(names.get(id(module), "?"), type(module).__name__, len(stack), len(siblings) + 1)
        row.parent = parent
        (parent.children if parent is not None else []).append(row)
        rows.append(row)
        x = next((a for a in args if isinstance(a, Tensor)), None)
        stack.append((module, row, x))

    def post_hook(module, args, out):
        _, row, x = stack.pop()
        y = out[0] if isinstance(out, (tuple, list)) and out else out
        if isinstance(y, Tensor):
            row.output_shape = tuple(y.shape)
            row.num_outputs = len(out) if isinstance(out, (tuple, list)) else 1
            if not module._modules:  # leaf modules: their PyTorch attributes define the geometry
                rf = tracer.module_rf(module, x, y)
                if rf is not None:
                    for o in out if isinstance(out, (tuple, list)) else (out,):
                        if isinstance(o, Tensor) and o.shape == y.shape:
                            tracer.set(o, rf)
            _fill_rf(row, tracer.get(y), first_spatial is not None)
        params = list(module.parameters())
        row.num_params = int(sum(p.numel() for p in params))
        row.direct_params = int(sum(p.numel() for p in module._parameters.values() if p is not None))
        row.trainable = all(p.requires_grad for p in params)
        row.own_mult_adds = _own_mult_adds(module, x, out)
        nested = [c.mult_adds for c in row.children]
        known = row.own_mult_adds is not None and all(n is not None for n in nested)
        row.mult_adds = row.own_mult_adds + sum(nested) if known else None

    handles = []
    modes = [(m, m.training) for m in model.modules()]
    # Train mode would move BatchNorm's statistics: keep every buffer (object and values) to put back.
    buffers = [(m, k, b, b.data.copy()) for m in model.modules() for k, b in m._buffers.items() if b is not None]
    rng = get_rng_state()
    try:
        for m in model.modules():
            handles.append(m.register_forward_pre_hook(pre_hook))
            handles.append(m.register_forward_hook(post_hook))
        if mode != "same":
            model.train(mode == "train")
        with no_grad(), function_hook(tracer.on_function):
            out = model(*inputs)
    finally:
        for h in handles:
            h.remove()
        for m, training in modes:
            object.__setattr__(m, "training", training)
        for m, k, b, saved in buffers:
            if b.data.shape == saved.shape and b.data.dtype == saved.dtype:
                b.data[...] = saved  # in place: views of the buffer (a state_dict) stay valid
            else:
                b.data = saved
            m._buffers[k] = b
        set_rng_state(rng)

    y = out[0] if isinstance(out, (tuple, list)) and out else out
    output_shape = tuple(y.shape) if isinstance(y, Tensor) else None
    return Summary(
        rows, model, [tuple(x.shape) for x in inputs], output_shape, int(depth), show_start, first_spatial is not None
    )


def _make_inputs(input_size, input_data, dtype) -> list:
    if (input_size is None) == (input_data is None):
        raise ValueError("summary: give exactly one of input_size and input_data")
    if input_data is not None:
        items = list(input_data) if isinstance(input_data, (list, tuple)) else [input_data]
        out = []
        for i, x in enumerate(items):
            if isinstance(x, np.ndarray):
                x = Tensor._wrap(x)
            if not isinstance(x, Tensor):
                raise TypeError(f"summary: input_data[{i}] must be a Tensor or numpy array, got {type(x).__name__}")
            out.append(x)
        return out
    sizes = input_size
    if isinstance(sizes, (tuple, list)) and sizes and all(isinstance(v, numbers.Integral) for v in sizes):
        sizes = [sizes]
    if not isinstance(sizes, (tuple, list)) or not sizes:
        raise TypeError(
            f"summary: input_size must be a shape like (1, 3, 32, 32) or a list of shapes, got {input_size!r}"
        )
    gen = Generator(0)  # a private generator: the summary must not move the global random state
    out = []
    for s in sizes:
        if not isinstance(s, (tuple, list)) or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0 for v in s
        ):
            raise TypeError(f"summary: input_size entries must be tuples of non-negative ints, got {s!r}")
        try:
            dt = np.dtype(dtype) if dtype is not None else np.dtype(np.float32)
        except TypeError:
            raise TypeError(f"summary: dtype must be a dtype such as tinynet.float32, got {dtype!r}") from None
        out.append(Tensor._wrap(gen.random(tuple(int(v) for v in s)).astype(dt)))
    return out


def _fill_rf(row: LayerInfo, rf, spatial: bool) -> None:
    if not spatial or rf is None:
        return
    row.rf_known = True
    row.rf_global = all(a.dim is None and a.mixed for a in rf)
    sizes, jumps, starts, bounds = [], [], [], []
    for a in rf:
        lo, hi = np.asarray(a.lo, np.float64), np.asarray(a.hi, np.float64)
        seen = hi >= lo
        sizes.append(_number(float((hi[seen] - lo[seen]).max() + 1)) if seen.any() else 0)
        jumps.append(_number(a.jump))
        starts.append(_number((lo[0] + hi[0]) / 2) if seen[0] else None)
        bounds.append((lo, hi))
    row.receptive_field, row.jump, row.start, row.rf_bounds = tuple(sizes), tuple(jumps), tuple(starts), tuple(bounds)


def _number(v: float):
    return int(round(v)) if abs(v - round(v)) < 1e-9 else float(v)


# ============================================================================ the table
def _fmt_count(n) -> str:
    return "?" if n is None else ("--" if n == 0 else f"{n:,}")


def _fmt_axes(values) -> str:
    if values is None:
        return "?"
    return "x".join("-" if v is None else (str(v) if isinstance(v, int) else f"{v:.4g}") for v in values)


def _render(s: Summary) -> str:
    roots = [r for r in s.layers if r.parent is None]
    lines = []

    def walk(row, prefix, last, depth):
        shown = depth <= s._depth
        kids = row.children if depth < s._depth else []
        if shown:
            if depth == 0:
                label = row.class_name
            else:
                label = prefix + ("└─" if last else "├─") + f"{row.class_name}: {depth}-{row.index}"
            hidden = not kids
            params = row.num_params if hidden else row.direct_params
            macs = row.mult_adds if hidden else row.own_mult_adds
            shape = "--" if row.output_shape is None else str(list(row.output_shape))
            if row.num_outputs > 1:
                shape += f" (+{row.num_outputs - 1})"
            cells = [label, shape, _fmt_count(params), _fmt_count(macs)]
            if s._spatial:
                if row.rf_global:
                    cells += ["global", "--"]
                elif not row.rf_known:
                    cells += ["?", "?"]
                else:
                    cells += [_fmt_axes(row.receptive_field), _fmt_axes(row.jump)]
                if s._show_start:
                    cells.append(
                        "--" if row.rf_global or not row.rf_known else "(" + ", ".join(map(_fmt_v, row.start)) + ")"
                    )
            lines.append(cells)
        child_prefix = prefix + ("" if depth == 0 else ("    " if last else "│   "))
        for i, c in enumerate(kids):
            walk(c, child_prefix, i == len(kids) - 1, depth + 1)

    for r in roots:
        walk(r, "", True, 0)
    header = ["Layer (type:depth-idx)", "Output Shape", "Param #", "Mult-Adds"]
    if s._spatial:
        header += ["RF", "Jump"] + (["Start"] if s._show_start else [])
    widths = [max(len(h), *(len(c[i]) for c in lines)) if lines else len(h) for i, h in enumerate(header)]
    total_width = sum(widths) + 2 * (len(widths) - 1)
    rule, thin = "=" * total_width, "-" * total_width

    def fmt(cells):
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]
        return "  ".join([first] + rest).rstrip()

    out = [rule, fmt(header), rule] + [fmt(c) for c in lines] + [rule]
    out += [
        f"Total params: {s.total_params:,}",
        f"Trainable params: {s.trainable_params:,}",
        f"Non-trainable params: {s.non_trainable_params:,}",
        f"Total mult-adds: {s.total_mult_adds:,} ({_si(s.total_mult_adds)})",
    ]
    if s.unknown_mult_adds:
        out.append(f"  (unknown mult-adds, not in the total: {', '.join(s.unknown_mult_adds)})")
    out += [thin, f"Input size: {s.input_size}", f"Params size (MB): {s.params_bytes / 1e6:.2f}"]
    if s._spatial:
        out.append("RF: receptive field in input pixels (padding included); Jump: input pixels between outputs")
    out.append(rule)
    return "\n".join(out)


def _fmt_v(v) -> str:
    return "-" if v is None else (str(v) if isinstance(v, int) else f"{v:.4g}")


def _si(n: int) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return str(n)
