"""Double backward of pooling and resampling: each backward is the adjoint op, and its backward is the op again.

Max-pool's backward scatter-adds at the switches (max-unpooling's forward), whose backward
gathers at them (``GatherAtIndices``), whose backward scatters again; window mean pairs with
spreading (``WindowMeanAdjoint``), nearest with block sums, bed of nails with subsampling,
bilinear with its weighted scatter (``BilinearAdjoint``), pixel_shuffle with pixel_unshuffle.
So every public op passes ``gradgradcheck`` (float64, hypothesis-drawn arguments) and its
second derivatives (with respect to the input and to the upstream gradient) agree with
torch's; each new adjoint Function gets a gradcheck, an adjoint test and a gradgradcheck.
All these ops are piecewise linear in their input: the Hessian part is zero, and what is
checked is that the first backward is recorded as the right linear map of the upstream
gradient. Max-pool inputs have distinct values, so finite differences never cross a tie.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from second_order import compare_second_order
from test_pool import _distinct, window
from test_upsampling import resize

import tinynet
import tinynet.nn.functional as F
from tinynet.autograd import grad
from tinynet.functional import pooling as P
from tinynet.functional import resample as R
from tinynet.testing import adjoint_check, gradcheck, gradgradcheck

FEW = settings(max_examples=10)  # a gradgradcheck differentiates every input and output element twice


def _small(case: dict) -> dict:
    """The drawn window with a batch of two planes at most: (1, 2, H, W) or the unbatched (2, H, W)."""
    batch = (1, 2) if len(case["shape"]) == 4 else (2,)
    return dict(case, shape=batch + case["shape"][-2:])


def _leaf(x: np.ndarray) -> tinynet.Tensor:
    return tinynet.tensor(x, requires_grad=True)


def _torch_matches(torch, tn_fn, torch_fn, x: np.ndarray, seed: int) -> None:
    compare_second_order(torch, tn_fn, torch_fn, [x], [True], seed=seed)


# --------------------------------------------------------------------------- max_pool2d
@FEW
@given(window().map(_small), st.booleans())
def test_max_pool2d_gradgradcheck(case, return_indices):
    x = _leaf(_distinct(case["shape"], case["seed"]))
    assert gradgradcheck(lambda t: F.max_pool2d(t, **case["args"], return_indices=return_indices), [x])


@given(window())
def test_max_pool2d_second_derivatives_match_torch(torch, case):
    x = _distinct(case["shape"], case["seed"])
    with tinynet.no_grad():
        y = F.max_pool2d(tinynet.tensor(x), **case["args"])
    # A window that dilation makes skip the whole plane: torch's backward writes past the plane there
    # (tests/test_pool.py), so it is no oracle; tinynet's own double backward is checked below.
    assume(np.isfinite(y.data).all())
    _torch_matches(
        torch,
        lambda t: F.max_pool2d(t, **case["args"]),
        lambda t: torch.nn.functional.max_pool2d(t, **case["args"]),
        x,
        case["seed"],
    )


def test_max_pool2d_window_skipped_by_dilation_has_no_first_or_second_derivative():
    # Rows -1 and 2 of a 2-row input: the first window's switch lies outside the plane.
    x = _leaf(_distinct((1, 2, 2, 3)))
    args = {"kernel_size": (2, 1), "stride": 1, "padding": (1, 0), "dilation": (3, 1)}
    y = F.max_pool2d(x, **args)
    assert np.isinf(y.data[:, :, 0]).all() and np.isfinite(y.data[:, :, 1:]).all()
    v = _leaf(np.random.default_rng(0).standard_normal(y.shape))
    (gx,) = grad(y, x, grad_outputs=v, create_graph=True)
    (gv,) = grad(gx, v, grad_outputs=tinynet.tensor(np.ones(x.shape)))
    np.testing.assert_array_equal(gv.data[:, :, 0], 0.0)  # no input pixel received v there
    np.testing.assert_array_equal(gv.data[:, :, 1:], 1.0)  # every other window sent v to one pixel
    assert gradgradcheck(lambda t: F.max_pool2d(t, **args), [x])


# --------------------------------------------------------------------------- avg_pool2d and adaptive_avg_pool2d
def _avg_args(case: dict, count_include_pad: bool, divisor_override) -> dict:
    return dict(case["args"], count_include_pad=count_include_pad, divisor_override=divisor_override)


@FEW
@given(window(dilation=False).map(_small), st.booleans(), st.sampled_from([None, 1, 3, -2]))
def test_avg_pool2d_gradgradcheck(case, count_include_pad, divisor_override):
    x = _leaf(np.random.default_rng(case["seed"]).standard_normal(case["shape"]))
    args = _avg_args(case, count_include_pad, divisor_override)
    assert gradgradcheck(lambda t: F.avg_pool2d(t, **args), [x])


@given(window(dilation=False), st.booleans(), st.sampled_from([None, 1, 3, -2]))
def test_avg_pool2d_second_derivatives_match_torch(torch, case, count_include_pad, divisor_override):
    x = np.random.default_rng(case["seed"]).standard_normal(case["shape"])
    args = _avg_args(case, count_include_pad, divisor_override)
    _torch_matches(
        torch, lambda t: F.avg_pool2d(t, **args), lambda t: torch.nn.functional.avg_pool2d(t, **args), x, case["seed"]
    )


adaptive_case = st.tuples(
    st.integers(1, 6), st.integers(1, 6), st.tuples(st.integers(1, 4), st.one_of(st.none(), st.integers(1, 4)))
)


@FEW
@given(adaptive_case)
def test_adaptive_avg_pool2d_gradgradcheck(case):
    h, w, size = case
    x = _leaf(np.random.default_rng(h * 10 + w).standard_normal((1, 2, h, w)))
    assert gradgradcheck(lambda t: F.adaptive_avg_pool2d(t, size), [x])


@given(adaptive_case, st.booleans())
def test_adaptive_avg_pool2d_second_derivatives_match_torch(torch, case, batched):
    h, w, size = case
    x = np.random.default_rng(h * 10 + w).standard_normal(((2,) if batched else ()) + (3, h, w))
    _torch_matches(
        torch,
        lambda t: F.adaptive_avg_pool2d(t, size),
        lambda t: torch.nn.functional.adaptive_avg_pool2d(t, size),
        x,
        h + w,
    )


# --------------------------------------------------------------------------- max_unpool2d
def _pooled(case: dict):
    """Max-pool a distinct-valued input with the drawn window: (values, switches, unpool's arguments)."""
    args = {k: v for k, v in case["args"].items() if k != "ceil_mode"}
    pooled, idx = F.max_pool2d(tinynet.tensor(_distinct(case["shape"], case["seed"])), **args, return_indices=True)
    return pooled.data, idx, dict(args, output_size=case["shape"][-2:])


@FEW
@given(window(dilation=False).map(_small))
def test_max_unpool2d_gradgradcheck_also_with_duplicate_switches(case):
    # Overlapping windows may share a switch: the unpooling adds, and stays a linear map.
    pooled, idx, args = _pooled(case)
    assert gradgradcheck(lambda t: F.max_unpool2d(t, idx, **args), [_leaf(pooled)])


@given(window(dilation=False, overlap=False))
def test_max_unpool2d_second_derivatives_match_torch_when_indices_are_distinct(torch, case):
    pooled, idx, args = _pooled(case)
    idx_torch = torch.tensor(idx.data)
    _torch_matches(
        torch,
        lambda t: F.max_unpool2d(t, idx, **args),
        lambda t: torch.nn.functional.max_unpool2d(t, idx_torch, **args),
        pooled,
        case["seed"],
    )


def test_max_pool_then_unpool_gradgradcheck():
    x = _leaf(_distinct((1, 2, 5, 6), seed=4))

    def pool_unpool(t):
        y, idx = F.max_pool2d(t, 3, stride=2, padding=1, return_indices=True)
        return F.max_unpool2d(y, idx, 3, stride=2, padding=1, output_size=(5, 6))

    assert gradgradcheck(pool_unpool, [x])


# --------------------------------------------------------------------------- interpolate, upsample
def _is_torch_1d_nearest_shortcut(case: dict, out_shape: tuple) -> bool:
    """torch 2.13's 1-D nearest backward copies when out == in or out == 2·in, whatever its forward read."""
    n_in, n_out = case["shape"][-1], out_shape[-1]
    return len(case["shape"]) == 3 and case["kwargs"]["mode"] == "nearest" and n_out in (n_in, 2 * n_in)


def _small_resize(ndim: int, modes=None):
    return resize(ndim=ndim, modes=modes).map(lambda c: dict(c, shape=(1, 2) + c["shape"][2:]))


@FEW
@given(
    st.one_of(
        _small_resize(4, ["nearest", "nearest-exact", "bilinear", "area"]),
        _small_resize(3, ["nearest", "nearest-exact", "linear", "area"]),
    )
)
def test_interpolate_gradgradcheck(case):
    x = _leaf(np.random.default_rng(case["seed"]).standard_normal(case["shape"]))
    assert gradgradcheck(lambda t: F.interpolate(t, **case["kwargs"]), [x])


@given(st.one_of(resize(ndim=4), resize(ndim=3)))
def test_interpolate_second_derivatives_match_torch(torch, case):
    x = np.random.default_rng(case["seed"]).standard_normal(case["shape"])
    with tinynet.no_grad():
        out_shape = F.interpolate(tinynet.tensor(x), **case["kwargs"]).shape
    assume(not _is_torch_1d_nearest_shortcut(case, out_shape))  # tests/test_upsampling.py shows that quirk
    _torch_matches(
        torch,
        lambda t: F.interpolate(t, **case["kwargs"]),
        lambda t: torch.nn.functional.interpolate(t, **case["kwargs"]),
        x,
        case["seed"],
    )


@pytest.mark.parametrize("size", [(7, 3), (2, 9), (4, 5), (1, 1)])
@pytest.mark.parametrize("align_corners", [False, True])
def test_bilinear_second_derivatives_match_torch_with_both_corner_rules(torch, align_corners, size):
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5))
    kwargs = {"size": size, "mode": "bilinear", "align_corners": align_corners}
    _torch_matches(
        torch, lambda t: F.interpolate(t, **kwargs), lambda t: torch.nn.functional.interpolate(t, **kwargs), x, 0
    )


@pytest.mark.parametrize("factor", [2, (2, 3), (1, 2)])
def test_bed_of_nails_gradgradcheck(factor):
    x = _leaf(np.random.default_rng(0).standard_normal((1, 2, 3, 2)))
    assert gradgradcheck(lambda t: F.interpolate(t, scale_factor=factor, mode="bed_of_nails"), [x])
    y = _leaf(np.random.default_rng(1).standard_normal((1, 2, 4)))
    assert gradgradcheck(lambda t: F.interpolate(t, scale_factor=3, mode="bed_of_nails"), [y])


def test_upsample_gradgradcheck():
    x = _leaf(np.random.default_rng(0).standard_normal((1, 2, 3, 2)))
    assert gradgradcheck(lambda t: F.upsample(t, scale_factor=2), [x])
    assert gradgradcheck(lambda t: F.upsample(t, size=(4, 5), mode="bilinear", align_corners=True), [x])


# --------------------------------------------------------------------------- pixel_shuffle, pixel_unshuffle
@FEW
@given(st.integers(1, 3), st.sampled_from([(1, 2), (2,), (1, 1, 1)]), st.integers(1, 2), st.integers(1, 2))
def test_pixel_shuffle_and_unshuffle_gradgradcheck(r, batch, h, w):
    rng = np.random.default_rng(r * 100 + h * 10 + w)
    x = _leaf(rng.standard_normal(batch[:-1] + (batch[-1] * r * r, h, w)))
    assert gradgradcheck(lambda t: F.pixel_shuffle(t, r), [x])
    y = _leaf(rng.standard_normal(batch + (h * r, w * r)))
    assert gradgradcheck(lambda t: F.pixel_unshuffle(t, r), [y])


@given(st.integers(1, 3), st.sampled_from([(1, 2), (2,), (2, 1, 1)]), st.integers(1, 3), st.integers(1, 3))
def test_pixel_shuffle_and_unshuffle_second_derivatives_match_torch(torch, r, batch, h, w):
    rng = np.random.default_rng(r * 100 + h * 10 + w)
    x = rng.standard_normal(batch[:-1] + (batch[-1] * r * r, h, w))
    _torch_matches(torch, lambda t: F.pixel_shuffle(t, r), lambda t: torch.nn.functional.pixel_shuffle(t, r), x, r)
    y = rng.standard_normal(batch + (h * r, w * r))
    _torch_matches(torch, lambda t: F.pixel_unshuffle(t, r), lambda t: torch.nn.functional.pixel_unshuffle(t, r), y, r)


# --------------------------------------------------------------------------- the adjoint Functions themselves
def _switches(shape=(1, 2, 5, 6)):
    """Max-pool switches of overlapping 3x3 windows (stride 2): several outputs share a switch."""
    _, idx = F.max_pool2d(tinynet.tensor(_distinct(shape, seed=5)), 3, stride=2, padding=1, return_indices=True)
    return idx.data


def _bilinear_tables(in_hw, out_hw, align_corners):
    dtype = np.dtype(np.float64)
    return tuple(R.linear_source_weights(i, o, None, align_corners, dtype) for i, o in zip(in_hw, out_hw))


def _avg_tables(in_hw, k, s, p, out_hw):
    return tuple(P.avg_pool_windows(L, k, s, p, n, True) for L, n in zip(in_hw, out_hw))


# Each new adjoint Function as a map of its first argument (float64), with the input shape it takes.
ADJOINT_FUNCTIONS = {
    "gather at switches (max-unpool's backward)": (lambda t: P.GatherAtIndices.apply(t, _switches()), (1, 2, 5, 6)),
    "spread over windows (avg_pool2d's backward)": (
        lambda t: P.WindowMeanAdjoint.apply(t, *_avg_tables((5, 6), 3, 2, 1, (3, 3)), 0, (5, 6)),
        (2, 3, 3, 3),
    ),
    "spread over overlapping adaptive windows, divisor 3": (
        lambda t: P.WindowMeanAdjoint.apply(t, *(P.adaptive_windows(n, o) for n, o in ((5, 3), (4, 3))), 3, (5, 4)),
        (1, 2, 3, 3),
    ),
    "bilinear scatter (bilinear's backward)": (
        lambda t: R.BilinearAdjoint.apply(t, *_bilinear_tables((3, 4), (5, 7), False), (3, 4)),
        (2, 2, 5, 7),
    ),
    "bilinear scatter, align_corners, downsampling": (
        lambda t: R.BilinearAdjoint.apply(t, *_bilinear_tables((5, 4), (2, 3), True), (5, 4)),
        (1, 2, 2, 3),
    ),
    "block sums (nearest's backward)": (
        lambda t: R.ScatterRowsCols.apply(
            t, R.nearest_source_index(2, 5, None, False), R.nearest_source_index(3, 7, None, True), (2, 3)
        ),
        (2, 2, 5, 7),
    ),
    "subsampling (bed of nails' backward)": (
        lambda t: R.GatherRowsCols.apply(t, np.arange(2) * 2, np.arange(3) * 3, (2, 3)),
        (1, 2, 4, 9),
    ),
}


@pytest.mark.parametrize("name", list(ADJOINT_FUNCTIONS))
def test_each_adjoint_function_is_linear_with_the_tapes_backward_as_its_adjoint(name):
    fn, shape = ADJOINT_FUNCTIONS[name]
    assert adjoint_check(fn, shape)


@pytest.mark.parametrize("name", list(ADJOINT_FUNCTIONS))
def test_each_adjoint_function_passes_gradcheck_and_gradgradcheck(name):
    fn, shape = ADJOINT_FUNCTIONS[name]
    x = _leaf(np.random.default_rng(0).standard_normal(shape))
    assert gradcheck(fn, [x])
    assert gradgradcheck(fn, [x])


# (public op, the input it takes, the Function its recorded backward runs, that Function's own backward)
BACKWARD_PAIRS = [
    (lambda t: F.max_pool2d(t, 2), (1, 2, 4, 4), "MaxUnpool2dFnBackward0", "GatherAtIndicesBackward0"),
    (
        lambda t: F.max_unpool2d(t, tinynet.tensor(np.array([[[[0, 3], [9, 14]]]])), 2),
        (1, 1, 2, 2),
        "GatherAtIndicesBackward0",
        "MaxUnpool2dFnBackward0",
    ),
    (lambda t: F.avg_pool2d(t, 2), (1, 2, 4, 4), "WindowMeanAdjointBackward0", "WindowMeanBackward0"),
    (lambda t: F.adaptive_avg_pool2d(t, 3), (1, 2, 4, 4), "WindowMeanAdjointBackward0", "WindowMeanBackward0"),
    (lambda t: F.interpolate(t, scale_factor=2), (1, 2, 4, 4), "ScatterRowsColsBackward0", "GatherRowsColsBackward0"),
    (
        lambda t: F.interpolate(t, scale_factor=2, mode="bed_of_nails"),
        (1, 2, 4, 4),
        "GatherRowsColsBackward0",
        "ScatterRowsColsBackward0",
    ),
    (
        lambda t: F.interpolate(t, scale_factor=2, mode="bilinear"),
        (1, 2, 4, 4),
        "BilinearAdjointBackward0",
        "BilinearBackward0",
    ),
    (lambda t: F.pixel_shuffle(t, 2), (1, 4, 2, 2), "PixelUnshuffleBackward0", "PixelShuffleBackward0"),
    (lambda t: F.pixel_unshuffle(t, 2), (1, 1, 4, 4), "PixelShuffleBackward0", "PixelUnshuffleBackward0"),
]


@pytest.mark.parametrize("op, shape, first, second", BACKWARD_PAIRS)
def test_each_backward_is_the_adjoint_op_whose_backward_is_the_op_again(op, shape, first, second):
    x = _leaf(np.random.default_rng(0).permutation(int(np.prod(shape))).reshape(shape).astype(np.float64))
    y = op(x)
    v = _leaf(np.ones(y.shape))
    (gx,) = grad(y, x, grad_outputs=v, create_graph=True)
    assert gx.grad_fn.name() == first
    w = _leaf(np.ones(x.shape))
    (gv,) = grad(gx, v, grad_outputs=w, create_graph=True)
    assert gv.grad_fn.name() == second


@pytest.mark.parametrize("op, shape, first, second", BACKWARD_PAIRS)
def test_float32_second_derivatives_stay_float32(op, shape, first, second):
    x = _leaf(np.random.default_rng(0).permutation(int(np.prod(shape))).reshape(shape).astype(np.float32))
    y = op(x)
    v = _leaf(np.ones(y.shape, np.float32))
    (gx,) = grad(y, x, grad_outputs=v, create_graph=True)
    (gv,) = grad(gx, v, grad_outputs=tinynet.tensor(np.ones(x.shape, np.float32)))
    assert (y.dtype, gx.dtype, gv.dtype) == (np.float32, np.float32, np.float32)
