"""The fast tier's convolutions: one planner picks a strategy from the geometry, the strategy runs.

Same four entry points, arguments and results as tinynet/kernels/reference/conv.py (which
defines them; tests/test_tiers.py proves every strategy equal to it):

* ``correlate(x, w, geometry, bias)``          y = C x + b            conv2d's forward
* ``correlate_adjoint(y, w, geometry)``        x = Cᵀ y               conv_transpose2d's forward
* ``correlate_weight(x, gy, geometry)``        dL/dW (with the forward's columns inside ``using_kept``)
* ``correlate_keeping_columns(x, w, geometry, bias)``  ``(correlate(...), kept)``: the columns kept for dL/dW
* ``correlate_and_weight(x, w, gy, geometry)`` both ``correlate(x, w)`` and ``correlate_weight(x, gy)``

:func:`plan` chooses one of the STRATEGIES:

* ``"pointwise"``: 1x1, stride 1, no padding, one group. im2col would only copy the image:
  each image's (C_big, H*W) plane stack already is the column matrix, so y[n] = W @ x[n] (one
  GEMM per image, straight on NCHW), its adjoint x[n] = Wᵀ @ y[n], and dL/dW = Σ_n gy[n] @ x[n]ᵀ.
* ``"depthwise"``: every group reads one big-side channel: the direct kernels of conv.py (no
  columns), on one thread.
* ``"im2col"``: columns, then one GEMM per group, the batch in ``chunks`` whose columns stay in
  cache between im2col and the GEMM. ``table`` selects the copies through a padded plane and a
  table of offsets (short output rows, or a stride), else ``one_run`` im2col's contiguous copy
  or its row-by-row one. The transposed conv's backward builds one set of columns for both its
  gradients.

* ``"winograd"``: 3x3, stride 1, dilation 1, one group, equal padding on both axes (at most 2), at
  least ``_WINOGRAD_MIN_CHANNELS`` channels on both sides and an output of at least
  ``_WINOGRAD_MIN_SIZE`` on both axes: Winograd F(4x4,3x3) (tinynet/kernels/winograd.py), whose
  36 GEMMs do a quarter of im2col's multiplications. In float32 it is less exact than im2col
  (its transforms hold entries from 1/24 to 8): relative to the largest entry, up to 7e-6 in the
  output and the input gradient and 2.6e-5 in the weight gradient on the benchmark shapes, where
  im2col stays below 7e-7; float64 agrees with the reference tier to 1e-12 (tests/test_tiers.py).
  Measured against im2col on the benchmark shapes in benchmarks/WINOGRAD.md ("Channels last"):
  faster from 16 channels on, slower with 3 input channels.

To add a strategy: a test in :func:`plan` that returns ``ConvPlan("name", ...)``, and a row in
STRATEGIES with its four functions (``correlate_and_weight`` may be None: then it runs the other two).
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from typing import Callable, NamedTuple

import numpy as np

from tinynet.kernels.conv import (
    col2im,
    col2im_table,
    depthwise,
    depthwise_adjoint,
    depthwise_weight,
    im2col,
    im2col_table,
)
from tinynet.kernels.reference.conv import by_channel, is_depthwise, taps
from tinynet.kernels.winograd import (
    winograd_conv3x3,
    winograd_conv3x3_input_grad,
    winograd_conv3x3_weight_grad,
    winograd_conv3x3_with_weight_grad,
)

# The batch is processed in equal chunks whose column matrix holds at most about this many bytes,
# so the columns stay in cache between im2col and the GEMM instead of materialising those of the
# whole batch: large column matrices halve the GEMMs' speed, very small chunks add BLAS calls,
# each a hand-off to OpenBLAS's threads (measurements in benchmarks/PROFILE.md).
_CHUNK_BYTES = 8 << 20

# im2col/col2im go through a table of offsets (kernels/conv.py) for output rows shorter than
# this, and for every stride other than 1: there the row copies' per-row set-up and strided
# reads cost more than the copying (benchmarks/PROFILE.md, "im2col through a table").
_TABLE_BELOW_WIDTH = 16
_TABLE_WHEN_STRIDED = True

# Winograd F(4x4,3x3) from this many channels on both sides, for outputs at least this large on
# both axes (the smallest measured where it beat im2col: 16 channels, 8x8; with 3 input channels it
# lost, benchmarks/WINOGRAD.md).
_WINOGRAD_MIN_CHANNELS = 16
_WINOGRAD_MIN_SIZE = 8
_WINOGRAD_TILE = 4


class ConvPlan(NamedTuple):
    """How the fast tier runs one convolution."""

    strategy: str  # a key of STRATEGIES
    chunks: tuple = ()  # im2col: the batch's runs (n0, n1)
    one_run: bool = False  # im2col: each tap's block is one contiguous stretch of the plane
    table: bool = False  # im2col: copy through a padded plane and a table of offsets


def _chunks(n: int, image_bytes: int) -> tuple:
    """Split the batch into equal runs of images whose columns take at most about _CHUNK_BYTES."""
    if n == 0:
        return ()
    count = max(1, min(n, -(-n * image_bytes // _CHUNK_BYTES)))  # ceil, at least 1 image per run
    step = -(-n // count)
    return tuple((n0, min(n, n0 + step)) for n0 in range(0, n, step))


def plan(geometry, c_small: int, c_big: int, batch: int, itemsize: int) -> ConvPlan:
    """The strategy for a convolution of ``batch`` images with ``c_big`` and ``c_small`` channels."""
    (kH, kW), W, (Ho, Wo) = geometry.kernel, geometry.big[1], geometry.small
    pointwise = (kH, kW) == (1, 1) and geometry.stride == (1, 1) and geometry.padding == (0, 0)
    if pointwise and geometry.groups == 1 and geometry.big == geometry.small:
        return ConvPlan("pointwise")
    if is_depthwise(geometry, c_big // geometry.groups):
        return ConvPlan("depthwise")
    if _winograd_fits(geometry, c_small, c_big):
        return ConvPlan("winograd")
    column_bytes = c_big * kH * kW * Ho * Wo * itemsize  # one image's columns
    one_run = geometry.stride[1] == 1 and geometry.stride[0] * W == Wo
    table = Wo < _TABLE_BELOW_WIDTH or (_TABLE_WHEN_STRIDED and geometry.stride != (1, 1))
    return ConvPlan("im2col", chunks=_chunks(batch, column_bytes), one_run=one_run, table=table)


def _winograd_fits(geometry, c_small: int, c_big: int) -> bool:
    (pH, pW), (H, W), (Ho, Wo) = geometry.padding, geometry.big, geometry.small
    return (
        geometry.kernel == (3, 3)
        and (Ho, Wo) == (H + 2 * pH - 2, W + 2 * pW - 2)  # as much padding after as before
        and geometry.stride == (1, 1)
        and geometry.dilation == (1, 1)
        and geometry.groups == 1
        and pH == pW <= 2
        and min(c_small, c_big) >= _WINOGRAD_MIN_CHANNELS
        and min(Ho, Wo) >= _WINOGRAD_MIN_SIZE
    )


# ----------------------------------------------------------------------------- pointwise
def _pointwise_correlate(x, w, geometry, p, bias):
    (N, Cb), L = x.shape[:2], geometry.small[0] * geometry.small[1]
    y = np.matmul(w.reshape(w.shape[0], Cb), x.reshape(N, Cb, L)).reshape((N, w.shape[0]) + geometry.small)
    if bias is not None:
        y += bias.reshape(1, -1, 1, 1)
    return y


def _pointwise_adjoint(y, w, geometry, p):
    (N, Cs), Cb, L = y.shape[:2], w.shape[1], geometry.small[0] * geometry.small[1]
    return np.matmul(w.reshape(Cs, Cb).T, y.reshape(N, Cs, L)).reshape((N, Cb) + geometry.big)


def _pointwise_weight(x, gy, geometry, p):
    (N, Cb), Cs, L = x.shape[:2], gy.shape[1], geometry.small[0] * geometry.small[1]
    # x gyᵀ per image, the transpose of gy xᵀ: the orientation OpenBLAS runs faster (the comment on _add_weight_grad below)
    per_image_t = np.matmul(x.reshape(N, Cb, L), gy.reshape(N, Cs, L).transpose(0, 2, 1))  # (N, Cb, Cs)
    return np.ascontiguousarray(per_image_t.sum(axis=0).T).reshape((Cs, Cb) + geometry.kernel)


# ----------------------------------------------------------------------------- depthwise
def _depthwise_correlate(x, w, geometry, p, bias):
    y = np.empty((x.shape[0], w.shape[0]) + geometry.small, dtype=x.dtype)
    depthwise(x, w.reshape(w.shape[0], *geometry.kernel), *taps(geometry), y)
    if bias is not None:
        y += bias.reshape(1, -1, 1, 1)
    return y


def _depthwise_adjoint(y, w, geometry, p):
    x = np.empty((y.shape[0], w.shape[1] * geometry.groups) + geometry.big, dtype=y.dtype)
    return depthwise_adjoint(y, w.reshape(w.shape[0], *geometry.kernel), *taps(geometry), x)


def _depthwise_weight(x, gy, geometry, p):
    gw = np.empty((gy.shape[1],) + geometry.kernel, dtype=x.dtype)
    depthwise_weight(x, gy, *taps(geometry), gw)
    return gw.reshape((gy.shape[1], 1) + geometry.kernel)


# ----------------------------------------------------------------------------- winograd
# conv2d(x, w) is winograd_conv3x3, its adjoint (conv_transpose2d's forward) the input gradient,
# both on the same transforms (tinynet/kernels/winograd.py); only the padding differs per call.
# conv2d's weight gradient reads the transform of x that its forward made and the transform of
# gy that its input gradient made: the forward keeps the first (correlate_keeping_columns), and
# the input gradient keeps the second when the kept transforms of the backward's block are
# Winograd's (_USING.gy_transforms, for the weight gradient that Conv's backward runs next).
def _winograd_correlate(x, w, geometry, p, bias, keep_into: list | None = None):
    """y = C x + bias; with ``keep_into``, each chunk's transform of x (an array of its own) is appended to it."""
    y = winograd_conv3x3(x, w, geometry.padding[0], _WINOGRAD_TILE, keep=keep_into, alloc=_column_array)
    if bias is not None:
        y += bias.reshape(1, -1, 1, 1)
    return y


def _winograd_adjoint(y, w, geometry, p):
    kept = getattr(_USING, "kept", None)
    if kept is None or kept.plan.strategy != "winograd":
        return winograd_conv3x3_input_grad(y, w, geometry.padding[0], _WINOGRAD_TILE)
    keep: list = []
    x = winograd_conv3x3_input_grad(y, w, geometry.padding[0], _WINOGRAD_TILE, keep_gy=keep, alloc=_column_array)
    _USING.gy_transforms = (_made_for(y, geometry), weakref.ref(_owner(y)), tuple(keep))
    return x


def _winograd_weight(x, gy, geometry, p):
    x_transforms = _kept_chunks(x, geometry, p)
    gy_transforms = _kept_gy_transforms(gy, geometry)
    gw = winograd_conv3x3_weight_grad(x, gy, geometry.padding[0], _WINOGRAD_TILE, x_transforms, gy_transforms)
    for spent in (x_transforms, gy_transforms):
        if spent is not None:
            _give_back(spent)
    return gw


def _winograd_correlate_and_weight(x, w, gy, geometry, p):
    return winograd_conv3x3_with_weight_grad(x, w, gy, geometry.padding[0], _WINOGRAD_TILE)


# ----------------------------------------------------------------------------- im2col, chunk by chunk
def _columns(x: np.ndarray, geometry, p: ConvPlan, own_arrays: bool = False):
    """im2col of x, chunk by chunk: yields (n0, n1, cols) with cols: (C*kH*kW, n1 - n0, Ho*Wo).

    One buffer serves all chunks, so a chunk's columns are valid until the next one is made;
    with ``own_arrays`` every chunk gets an array of its own, which the caller keeps.
    """
    K = x.shape[1] * geometry.kernel[0] * geometry.kernel[1]
    if own_arrays:
        L = geometry.small[0] * geometry.small[1]
        for n0, n1 in p.chunks:
            yield n0, n1, _im2col_into(x[n0:n1], geometry, p, _column_array((K, n1 - n0, L), x.dtype))
        return
    for n0, n1, cols in _chunk_buffers(K, x.dtype, geometry, p):
        yield n0, n1, _im2col_into(x[n0:n1], geometry, p, cols)


def _im2col_into(x: np.ndarray, geometry, p: ConvPlan, cols: np.ndarray) -> np.ndarray:
    """cols = im2col(x) with the plan's copy strategy (cols: (C*kH*kW, n, Ho*Wo))."""
    if p.table:
        return im2col_table(x, *taps(geometry), cols)
    return im2col(x, *taps(geometry), p.one_run, cols)


def _chunk_buffers(K: int, dtype, geometry, p: ConvPlan):
    """(n0, n1, cols) per chunk, cols: (K, n1 - n0, Ho*Wo) carved from one buffer (a spare one, see below)."""
    L = geometry.small[0] * geometry.small[1]
    buf = _column_array((K * max((n1 - n0 for n0, n1 in p.chunks), default=0) * L,), dtype)
    try:
        for n0, n1 in p.chunks:
            yield n0, n1, buf[: K * (n1 - n0) * L].reshape(K, n1 - n0, L)
    finally:
        _give_back((buf,))


def _weights_times_columns(w, cols: np.ndarray, geometry, out: np.ndarray, bias=None) -> None:
    """out = W @ cols (+ bias) for one chunk, per group; out: (n, C_small, Ho, Wo)."""
    G, n = geometry.groups, cols.shape[1]
    y_t = np.matmul(w.reshape(G, w.shape[0] // G, -1), cols.reshape(G, -1, n * cols.shape[2]))
    y_t = y_t.reshape((w.shape[0], n) + geometry.small).transpose(1, 0, 2, 3)  # (C_small, n, ...) to (n, C_small, ...)
    if bias is None:
        out[...] = y_t
    else:  # the bias rides along with the copy into NCHW order: no extra pass over y
        np.add(y_t, bias.reshape(1, -1, 1, 1), out=out)


# dL/dW = gy_t colsᵀ, a GEMM whose inner dimension runs over every pixel of the chunk. OpenBLAS
# computes its transpose, cols gy_tᵀ ((C_big/G*kH*kW) x (C_small/G), the long rows of cols read as
# they lie), in 0.46-0.82x the time on the convolutions of the benchmarks (benchmarks/PROFILE.md),
# so the gradient is accumulated transposed and turned round once at the end.
def _add_weight_grad(gw_t: np.ndarray, gy: np.ndarray, cols: np.ndarray, geometry) -> None:
    """gw_t += cols @ gy_tᵀ per group, for one chunk (gw_t: (G, C_big/G*kH*kW, C_small/G), dL/dW transposed)."""
    G = geometry.groups
    gw_t += np.matmul(cols.reshape(G, gw_t.shape[1], -1), by_channel(gy, G).transpose(0, 2, 1))


def _weight_grad_from(gw_t: np.ndarray, w_shape: tuple) -> np.ndarray:
    """The (C_small, C_big/G, kH, kW) weight gradient from its accumulated transpose (G, C_big/G*kH*kW, C_small/G)."""
    return np.ascontiguousarray(gw_t.transpose(0, 2, 1)).reshape(w_shape)


def _im2col_correlate(x, w, geometry, p, bias, keep_into: list | None = None):
    """y = W (P x) + bias; with ``keep_into``, each chunk's columns (an array of its own) are appended to it."""
    y = np.empty((x.shape[0], w.shape[0]) + geometry.small, dtype=x.dtype)
    for n0, n1, cols in _columns(x, geometry, p, own_arrays=keep_into is not None):
        _weights_times_columns(w, cols, geometry, out=y[n0:n1], bias=bias)
        if keep_into is not None:
            keep_into.append(cols)
    return y


def _im2col_adjoint(y, w, geometry, p):
    G, (N, Cs) = geometry.groups, y.shape[:2]
    Cb = w.shape[1] * G
    K = Cb * geometry.kernel[0] * geometry.kernel[1]
    x = np.empty((N, Cb) + geometry.big, dtype=y.dtype)
    w_t = w.reshape(G, Cs // G, K // G).transpose(0, 2, 1)  # Wᵀ, one (C_big/G*kH*kW, C_small/G) block per group
    for n0, n1, cols in _chunk_buffers(K, y.dtype, geometry, p):  # cols: (C_big*kH*kW, n, Ho*Wo)
        np.matmul(w_t, by_channel(y[n0:n1], G), out=cols.reshape(G, K // G, -1))
        if p.table:
            col2im_table(cols, *taps(geometry), x[n0:n1])
        else:
            col2im(cols, *taps(geometry), p.one_run, x[n0:n1])
    return x


def _im2col_weight(x, gy, geometry, p):
    G, Cs = geometry.groups, gy.shape[1]
    w_shape = (Cs, x.shape[1] // G) + geometry.kernel
    gw_t = np.zeros((G, int(np.prod(w_shape[1:])), Cs // G), dtype=x.dtype)
    kept = _kept_chunks(x, geometry, p)  # the forward's columns of this x, or None: build them
    chunks = _columns(x, geometry, p) if kept is None else ((n0, n1, c) for (n0, n1), c in zip(p.chunks, kept))
    for n0, n1, cols in chunks:
        _add_weight_grad(gw_t, gy[n0:n1], cols, geometry)
    if kept is not None:
        _give_back(kept)
    return _weight_grad_from(gw_t, w_shape)


def _im2col_correlate_and_weight(x, w, gy, geometry, p):
    """Both from a single im2col pass over x (the transposed conv's backward, x its output gradient)."""
    y = np.empty((x.shape[0], w.shape[0]) + geometry.small, dtype=x.dtype)
    gw_t = np.zeros((geometry.groups, w[0].size, w.shape[0] // geometry.groups), dtype=x.dtype)
    for n0, n1, cols in _columns(x, geometry, p):
        _weights_times_columns(w, cols, geometry, out=y[n0:n1])
        _add_weight_grad(gw_t, gy[n0:n1], cols, geometry)
    return y, _weight_grad_from(gw_t, w.shape)


# ----------------------------------------------------------------------------- the table and the entries
class Strategy(NamedTuple):
    correlate: Callable  # (x, w, geometry, plan, bias) -> y; im2col and winograd also take keep_into (a list)
    correlate_adjoint: Callable  # (y, w, geometry, plan) -> x
    correlate_weight: Callable  # (x, gy, geometry, plan) -> gw
    correlate_and_weight: Callable | None = None  # (x, w, gy, geometry, plan) -> (y, gw); None: the two calls


STRATEGIES = {
    "pointwise": Strategy(_pointwise_correlate, _pointwise_adjoint, _pointwise_weight),
    "depthwise": Strategy(_depthwise_correlate, _depthwise_adjoint, _depthwise_weight),
    "im2col": Strategy(_im2col_correlate, _im2col_adjoint, _im2col_weight, _im2col_correlate_and_weight),
    "winograd": Strategy(_winograd_correlate, _winograd_adjoint, _winograd_weight, _winograd_correlate_and_weight),
}


def correlate(x: np.ndarray, w: np.ndarray, geometry, bias: np.ndarray | None = None) -> np.ndarray:
    """y = C x (+ bias), as reference.conv.correlate."""
    p = plan(geometry, w.shape[0], x.shape[1], x.shape[0], x.itemsize)
    return STRATEGIES[p.strategy].correlate(x, w, geometry, p, bias)


def correlate_adjoint(y: np.ndarray, w: np.ndarray, geometry) -> np.ndarray:
    """x = Cᵀ y, as reference.conv.correlate_adjoint."""
    p = plan(geometry, y.shape[1], w.shape[1] * geometry.groups, y.shape[0], y.itemsize)
    return STRATEGIES[p.strategy].correlate_adjoint(y, w, geometry, p)


# ----------------------------------------------------------------------------- columns kept for dL/dW
# conv2d's weight gradient gy (P x)ᵀ needs the columns P x that its forward built, and without
# help the backward builds them again: half of a training step's im2col time. When the weight
# needs a gradient, Conv's forward calls correlate_keeping_columns, which writes every chunk into
# an array of its own (not into the one reused chunk buffer) and returns them with y; Conv's
# backward hands them back for its own weight gradient only (using_kept, around the backward's
# ops), so they meet just the x they were built from: Conv's saved x, whose version autograd
# checks before the backward runs. correlate_weight takes them when they name this very call
# (geometry, shape, dtype, plan, and x's memory: same owner array, same address), else builds
# the columns as always. Calls whose columns take more than _KEEP_BYTES keep nothing. The
# Winograd strategy keeps the transform of x instead of its columns, in the same way.
_KEEP_BYTES = 64 << 20
_USING = threading.local()  # .kept: the KeptColumns handed back by the running backward, if any

# Spent column arrays are spare: the chunk buffer of every im2col call once the call is done, and
# kept columns once their weight gradient has read them. The next request of the same size takes
# one instead of a fresh array, which glibc would hand back to the kernel when freed and
# page-fault in again (a training step repeats its sizes, so after the first step every request
# finds its array). At most _SPARE_BYTES are held; workspace.release() frees them.
_SPARE_BYTES = 128 << 20
_SPARE: dict = {}  # (size, dtype) -> flat arrays
_SPARE_LOCK = threading.Lock()


def _column_array(shape: tuple, dtype) -> np.ndarray:
    """An array of ``shape`` (contents undefined): a spare one of that size, or a new one."""
    key = (int(np.prod(shape)), np.dtype(dtype).str)
    with _SPARE_LOCK:
        stack = _SPARE.get(key)
        if stack:
            return stack.pop().reshape(shape)
    return np.empty(shape, dtype=dtype)


def _give_back(chunks: tuple) -> None:
    """Keep ``chunks`` (no longer read by anyone) as spare, up to _SPARE_BYTES in all."""
    with _SPARE_LOCK:
        held = sum(a.nbytes for stack in _SPARE.values() for a in stack)
        for a in chunks:
            if held + a.nbytes <= _SPARE_BYTES:
                _SPARE.setdefault((a.size, a.dtype.str), []).append(a.reshape(a.size))
                held += a.nbytes


class KeptColumns(NamedTuple):
    """The columns of one conv2d forward: ``chunks[i]`` is im2col of images ``plan.chunks[i]`` of x."""

    made_for: tuple  # (geometry, x.shape, x.dtype, address of x's first element)
    owner: weakref.ref  # the array that owns x's memory
    plan: ConvPlan
    chunks: tuple


def _owner(x: np.ndarray) -> np.ndarray:
    while isinstance(x.base, np.ndarray):
        x = x.base
    return x


def _made_for(x: np.ndarray, geometry) -> tuple:
    return geometry, x.shape, x.dtype, x.__array_interface__["data"][0]


def correlate_keeping_columns(x: np.ndarray, w: np.ndarray, geometry, bias: np.ndarray | None = None) -> tuple:
    """``(correlate(x, w, geometry, bias), kept)``: kept is a KeptColumns for x's weight gradient, or None."""
    p = plan(geometry, w.shape[0], x.shape[1], x.shape[0], x.itemsize)
    K, L = x.shape[1] * geometry.kernel[0] * geometry.kernel[1], geometry.small[0] * geometry.small[1]
    if p.strategy == "winograd":  # the transform of x: (α², tiles, C), about (α / m)² = 2.25 times x
        m = _WINOGRAD_TILE
        K, L = x.shape[1] * (m + 2) ** 2, -(-geometry.small[0] // m) * -(-geometry.small[1] // m)
    if p.strategy not in ("im2col", "winograd") or K * x.shape[0] * L * x.itemsize > _KEEP_BYTES:
        return STRATEGIES[p.strategy].correlate(x, w, geometry, p, bias), None
    chunks: list = []
    y = STRATEGIES[p.strategy].correlate(x, w, geometry, p, bias, keep_into=chunks)
    return y, KeptColumns(_made_for(x, geometry), weakref.ref(_owner(x)), p, tuple(chunks))


@contextlib.contextmanager
def using_kept(kept):
    """Inside the block, correlate_weight of the x that ``kept`` was built from takes its columns."""
    before = getattr(_USING, "kept", None), getattr(_USING, "gy_transforms", None)
    _USING.kept, _USING.gy_transforms = kept, None
    try:
        yield
    finally:
        spare = getattr(_USING, "gy_transforms", None)  # kept by an input gradient, not taken
        if spare is not None:
            _give_back(spare[2])
        _USING.kept, _USING.gy_transforms = before


def release_spare() -> None:
    """Drop the spare column arrays (workspace.release() calls this)."""
    with _SPARE_LOCK:
        _SPARE.clear()


def _kept_chunks(x: np.ndarray, geometry, p: ConvPlan):
    """The kept columns of x for plan p, taken (a second call in the block gets None), or None."""
    kept = getattr(_USING, "kept", None)
    if kept is None or kept.made_for != _made_for(x, geometry) or kept.plan != p or kept.owner() is not _owner(x):
        return None
    _USING.kept = None
    return kept.chunks


def _kept_gy_transforms(gy: np.ndarray, geometry):
    """The transforms of gy that the backward's input gradient kept, taken, or None."""
    held = getattr(_USING, "gy_transforms", None)
    if held is None or held[0] != _made_for(gy, geometry) or held[1]() is not _owner(gy):
        return None
    _USING.gy_transforms = None
    return held[2]


def correlate_weight(x: np.ndarray, gy: np.ndarray, geometry) -> np.ndarray:
    """dL/dW, as reference.conv.correlate_weight."""
    p = plan(geometry, gy.shape[1], x.shape[1], x.shape[0], x.itemsize)
    return STRATEGIES[p.strategy].correlate_weight(x, gy, geometry, p)


def correlate_and_weight(x: np.ndarray, w: np.ndarray, gy: np.ndarray, geometry) -> tuple:
    """``(correlate(x, w), correlate_weight(x, gy))``, as reference.conv.correlate_and_weight."""
    p = plan(geometry, w.shape[0], x.shape[1], x.shape[0], x.itemsize)
    both = STRATEGIES[p.strategy].correlate_and_weight
    if both is None:
        strategy = STRATEGIES[p.strategy]
        return strategy.correlate(x, w, geometry, p, None), strategy.correlate_weight(x, gy, geometry, p)
    return both(x, w, gy, geometry, p)
