"""Numba kernels in two tiers, chosen in one place: this module.

* the **reference** tier (``tinynet/kernels/reference/``): for every kernel family the plainest
  loop nest that defines it, the one a student steps through;
* the **fast** tier (the rest of this folder): the same numbers, computed with the tricks a
  measurement asked for; ``conv_planner.plan`` picks a convolution strategy from the geometry,
  ``threads.threads_for`` how many threads a parallel kernel uses.

Importing this package also sets the heap policy (``heap.py``: glibc's malloc keeps the memory a
step frees for the next step, unless ``TINYNET_MALLOC=system``), whatever the tier.

The functional layer calls only the entry points below, whatever the tier; each hands its
arguments to the current tier's function of the same name. The tier comes from
:func:`use` (inside its ``with`` block) or else from the environment variable
``TINYNET_KERNELS`` (``fast``, the default, or ``reference``), read once when tinynet is imported. tests/test_tiers.py proves the
tiers equal and that the reference tier runs no fast kernel.

Kernels are plain functions on numpy arrays, never on Tensors; they are wrapped by
``njit(cache=True)`` and still run, slowly and step by step, under ``NUMBA_DISABLE_JIT=1``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from tinynet.kernels import (
    conv_planner,
    heap,  # noqa: F401  (sets malloc's thresholds on import)
    norm,
    pool,
    resample,
    softmax,
)
from tinynet.kernels.reference import conv as reference_conv
from tinynet.kernels.reference import norm as reference_norm
from tinynet.kernels.reference import pool as reference_pool
from tinynet.kernels.reference import resample as reference_resample
from tinynet.kernels.reference import softmax as reference_softmax

TIERS = ("fast", "reference")
_FAMILIES = {
    "fast": {"conv": conv_planner, "pool": pool, "resample": resample, "norm": norm, "softmax": softmax},
    "reference": {
        "conv": reference_conv,
        "pool": reference_pool,
        "resample": reference_resample,
        "norm": reference_norm,
        "softmax": reference_softmax,
    },
}
_chosen: list = []  # the tiers of the active use() blocks, innermost last


def _checked(tier, source: str) -> str:
    if tier not in TIERS:
        raise ValueError(f"{source} must be 'fast' or 'reference', got {tier!r}")
    return tier


# Read once, at import: a bad value fails there, not at the first kernel, and a kernel call
# costs no environment lookup.
_FROM_ENVIRONMENT = _checked(os.environ.get("TINYNET_KERNELS", "fast"), "the environment variable TINYNET_KERNELS")


def current() -> str:
    """The tier the kernels run in now: ``'fast'`` or ``'reference'``."""
    return _chosen[-1] if _chosen else _FROM_ENVIRONMENT


@contextlib.contextmanager
def use(tier: str) -> Iterator[None]:
    """Run the kernels of ``tier`` (``'fast'`` or ``'reference'``) inside the ``with`` block (whole process).

    Example:
        >>> import tinynet
        >>> with tinynet.kernels.use("reference"):
        ...     tinynet.kernels.current()
        'reference'
    """
    _chosen.append(_checked(tier, "tinynet.kernels.use: tier"))
    try:
        yield
    finally:
        _chosen.pop()


def _tier(family: str):
    return _FAMILIES[_chosen[-1] if _chosen else _FROM_ENVIRONMENT][family]


# ----------------------------------------------------------------------------- convolutions
# geometry: tinynet.functional.conv.ConvGeometry; x is the big side (conv's input), y the small one.
def correlate(x, w, geometry, bias=None):
    """y = C x (+ bias): x (N, C_big, H, W), w (C_small, C_big/G, kH, kW) -> y (N, C_small, Ho, Wo)."""
    return _tier("conv").correlate(x, w, geometry, bias)


def correlate_adjoint(y, w, geometry):
    """x = Cᵀ y: y (N, C_small, Ho, Wo) -> x (N, C_big, H, W), the transposed convolution."""
    return _tier("conv").correlate_adjoint(y, w, geometry)


def correlate_weight(x, gy, geometry):
    """dL/dW of y = C_W x: x (N, C_big, H, W), gy (N, C_small, Ho, Wo) -> (C_small, C_big/G, kH, kW)."""
    return _tier("conv").correlate_weight(x, gy, geometry)


def correlate_keeping_columns(x, w, geometry, bias=None):
    """``(correlate(x, w, geometry, bias), kept)``: kept holds the fast tier's columns of x for the weight
    gradient (None from the reference tier, or when they are too large to keep); see :func:`using_kept`."""
    return _tier("conv").correlate_keeping_columns(x, w, geometry, bias)


def using_kept(kept):
    """A context: inside it, :func:`correlate_weight` of the x that ``kept`` came from reuses its columns.

    Conv's backward holds it around its own gradients, so the columns meet only the x they were built from.
    """
    return _tier("conv").using_kept(kept)


def correlate_and_weight(x, w, gy, geometry):
    """``(correlate(x, w), correlate_weight(x, gy))``: both of conv_transpose's gradients."""
    return _tier("conv").correlate_and_weight(x, w, gy, geometry)


# ----------------------------------------------------------------------------- pooling (planes (P, H, W))
def max_pool2d_forward(x, kh, kw, sh, sw, ph, pw, dh, dw, lowest, out, argmax):
    """Window maxima into ``out`` and their flat indices ih*W + iw (the switches) into ``argmax``."""
    return _tier("pool").max_pool2d_forward(x, kh, kw, sh, sw, ph, pw, dh, dw, lowest, out, argmax)


def scatter_add_at_indices(values, indices, out):
    """out = 0, then out[p, indices[p, j]] += values[p, j] (indices outside the plane skipped)."""
    return _tier("pool").scatter_add_at_indices(values, indices, out)


def gather_at_indices(source, indices, out):
    """out[p, j] = source[p, indices[p, j]]: the adjoint of :func:`scatter_add_at_indices`."""
    return _tier("pool").gather_at_indices(source, indices, out)


def window_mean_forward(x, h_start, h_end, h_count, w_start, w_end, w_count, divisor, out):
    """out[p, oh, ow] = the mean of x over window (oh, ow) (the average pools)."""
    return _tier("pool").window_mean_forward(x, h_start, h_end, h_count, w_start, w_end, w_count, divisor, out)


def window_mean_backward(g, h_start, h_end, h_count, w_start, w_end, w_count, divisor, out):
    """Spread each g[p, oh, ow] / divisor over its window: the adjoint of :func:`window_mean_forward`."""
    return _tier("pool").window_mean_backward(g, h_start, h_end, h_count, w_start, w_end, w_count, divisor, out)


# ----------------------------------------------------------------------------- resampling (planes (P, H, W))
def gather_rows_cols(x, rows, cols, out):
    """out[p, i, j] = x[p, rows[i], cols[j]] (nearest upsampling, subsampling)."""
    return _tier("resample").gather_rows_cols(x, rows, cols, out)


def scatter_add_rows_cols(g, rows, cols, out):
    """out[p, rows[i], cols[j]] += g[p, i, j]: the adjoint of :func:`gather_rows_cols`; out zeros on entry."""
    return _tier("resample").scatter_add_rows_cols(g, rows, cols, out)


def bilinear_forward(x, top, bottom, w_top, w_bottom, left, right, w_left, w_right, out):
    """Bilinear interpolation from per-axis tables of neighbours and weights."""
    return _tier("resample").bilinear_forward(x, top, bottom, w_top, w_bottom, left, right, w_left, w_right, out)


def bilinear_backward(g, top, bottom, w_top, w_bottom, left, right, w_left, w_right, out):
    """The adjoint of :func:`bilinear_forward`: scatter with the same weights; out zeros on entry."""
    return _tier("resample").bilinear_backward(g, top, bottom, w_top, w_bottom, left, right, w_left, w_right, out)


# ----------------------------------------------------------------------------- batch norm ((N, C, L) arrays)
def batch_norm_train_forward(x, weight, bias, eps, xhat, y, mean, var):
    """Per channel: batch mean and biased variance into mean, var; x̂ into xhat; γ x̂ + β into y."""
    return _tier("norm").batch_norm_train_forward(x, weight, bias, eps, xhat, y, mean, var)


def batch_norm_train_backward(g, xhat, weight, invstd, gx, dgamma, dbeta):
    """dγ, dβ from ĝ and x̂, and dx into gx (unless it is empty)."""
    return _tier("norm").batch_norm_train_backward(g, xhat, weight, invstd, gx, dgamma, dbeta)


# ----------------------------------------------------------------------------- softmax losses ((N, C, L) and (N, L) arrays)
def softmax_forward(x, p, shift, log_total):
    """p = softmax(x) along the classes; shift = max_c x and log_total = log Σ_c exp(x - shift) per position."""
    return _tier("softmax").softmax_forward(x, p, shift, log_total)


def gather_classes(a, target, out):
    """out[n, i] = a[n, target[n, i], i]."""
    return _tier("softmax").gather_classes(a, target, out)


def scatter_add_classes(values, target, out):
    """out[n, target[n, i], i] += values[n, i]: the adjoint of :func:`gather_classes`."""
    return _tier("softmax").scatter_add_classes(values, target, out)


def cross_entropy_grad(p, target, scale, at_target, uniform, weight, gx):
    """gx = p scale - uniform weight[c] - at_target [c = target] (``uniform`` empty: no smoothing term)."""
    return _tier("softmax").cross_entropy_grad(p, target, scale, at_target, uniform, weight, gx)


def softmax_adjoint(p, gp, out):
    """out = p ⊙ (gp - Σ_c p gp) along the classes: softmax's backward (``out`` may be ``gp``)."""
    return _tier("softmax").softmax_adjoint(p, gp, out)


def class_totals(p, target, valid, inter, count):
    """Per (sample, class) over the positions of that target class: inter = Σ valid p, count = Σ valid (float64 sums)."""
    return _tier("softmax").class_totals(p, target, valid, inter, count)
