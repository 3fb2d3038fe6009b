"""Pooling: max_pool2d, avg_pool2d, adaptive_avg_pool2d, max_unpool2d and their modules.

Each op is checked three ways: against PyTorch (forward, indices and gradient)
on hypothesis-drawn kernels, strides, paddings, dilations and sizes; with a
float64 gradcheck; and, for the linear ops, with the adjoint (dot-product)
test that proves the backward is the transposed matrix Cᵀ. To point students
at one op: ``pytest tests/test_pool.py -k avg_pool``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet
import tinynet.nn.functional as F
from tinynet import nn
from tinynet.testing import adjoint_check, gradcheck


# --------------------------------------------------------------------------- strategies
@st.composite
def window(draw, dilation: bool = True, overlap: bool = True) -> dict:
    """A pooling window and an input it fits: kernel, stride, padding (<= half the kernel), dilation, sizes."""
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    s = tuple(draw(st.integers(1, 3)) if overlap else draw(st.integers(ki, ki + 1)) for ki in k)
    eff = tuple((ki - 1) * di + 1 for ki, di in zip(k, d))
    p = tuple(draw(st.integers(0, ki // 2)) for ki in k)  # PyTorch: padding <= kernel_size // 2
    hw = tuple(draw(st.integers(max(1, e - 2 * pi), e - 2 * pi + 5)) for e, pi in zip(eff, p))
    batch = draw(st.sampled_from([(2, 3), (1, 2), (3,)]))  # (3,) is an unbatched (C, H, W) input
    args = {
        "kernel_size": k if draw(st.booleans()) or k[0] != k[1] else k[0],
        "stride": None if s == k and draw(st.booleans()) else s,
        "padding": p,
        "ceil_mode": draw(st.booleans()),
    }
    if dilation:
        args["dilation"] = d
    return {"shape": batch + hw, "args": args, "seed": draw(st.integers(0, 2**16))}


def _distinct(shape, seed=0) -> np.ndarray:
    """Values 0.1 apart in random order: no ties, so every window has one clear maximum."""
    n = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(n) * 0.1 - n * 0.05).reshape(shape)


def _compare(tiny_fn, torch_fn, x: np.ndarray, torch, seed: int = 0, rtol: float = 1e-12, atol: float = 1e-12):
    """Forward (all outputs) and the input gradient of a random projection, tinynet vs torch.

    A max-pool window that dilation makes skip the whole input gives -inf and an index past
    the plane; PyTorch's backward then writes into the next plane (out of bounds for the
    last one), so the gradients are compared only without such windows (see the test
    ``..._window_skipped_by_dilation_...`` for what tinynet does there).
    """
    a = tinynet.tensor(x, requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    ya, yb = tiny_fn(a), torch_fn(b)
    ya, yb = (ya if isinstance(ya, tuple) else (ya,)), (yb if isinstance(yb, tuple) else (yb,))
    for u, v in zip(ya, yb):
        assert u.shape == tuple(v.shape)
        assert u.dtype == np.dtype(str(v.dtype).replace("torch.", ""))
        np.testing.assert_allclose(u.data, v.detach().numpy(), rtol=rtol, atol=atol)
    if np.isinf(ya[0].data).any():
        return
    g = np.random.default_rng(seed).standard_normal(ya[0].shape).astype(x.dtype)
    ya[0].backward(tinynet.tensor(g))
    yb[0].backward(torch.tensor(g))
    assert a.grad.dtype == x.dtype
    np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=rtol, atol=atol)


# --------------------------------------------------------------------------- max_pool2d
@given(window())
def test_max_pool2d_matches_torch_values_indices_and_gradient(torch, case):
    x = _distinct(case["shape"], case["seed"])
    _compare(
        lambda t: F.max_pool2d(t, **case["args"], return_indices=True),
        lambda t: torch.nn.functional.max_pool2d(t, **case["args"], return_indices=True),
        x,
        torch,
    )


@given(window())
def test_max_pool2d_ties_first_maximum_wins_as_in_torch(torch, case):
    # Few distinct values: most windows hold ties; the index (and so the gradient) must be torch's.
    x = np.random.default_rng(case["seed"]).integers(0, 3, case["shape"]).astype(np.float64)
    _compare(
        lambda t: F.max_pool2d(t, **case["args"], return_indices=True),
        lambda t: torch.nn.functional.max_pool2d(t, **case["args"], return_indices=True),
        x,
        torch,
    )


def test_max_pool2d_float32_matches_torch(torch):
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 7)).astype(np.float32)
    _compare(
        lambda t: F.max_pool2d(t, 3, 2, 1, ceil_mode=True, return_indices=True),
        lambda t: torch.nn.functional.max_pool2d(t, 3, 2, 1, ceil_mode=True, return_indices=True),
        x,
        torch,
    )


def test_max_pool2d_nan_propagates_like_torch(torch):
    x = np.random.default_rng(1).standard_normal((1, 2, 4, 6))
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = np.nan  # two NaNs in one window: torch reports the last one
    x[0, 1, 3, 5] = np.nan
    y, idx = F.max_pool2d(tinynet.tensor(x), 2, return_indices=True)
    yt, it = torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(y.data, yt.numpy())  # NaN positions equal too
    np.testing.assert_array_equal(idx.data, it.numpy())
    assert np.isnan(y.data[0, 0, 0, 0]) and idx.data[0, 0, 0, 0] == 6


def test_max_pool2d_padding_counts_as_minus_infinity(torch):
    x = -np.arange(1.0, 10.0).reshape(1, 1, 3, 3)  # all negative: zero padding would win
    y, idx = F.max_pool2d(tinynet.tensor(x), 2, padding=1, return_indices=True)
    yt, it = torch.nn.functional.max_pool2d(torch.tensor(x), 2, padding=1, return_indices=True)
    np.testing.assert_array_equal(y.data, [[[[-1.0, -2.0], [-4.0, -5.0]]]])  # zero padding would give 0s
    np.testing.assert_array_equal(idx.data, [[[[0, 1], [3, 4]]]])
    np.testing.assert_array_equal(y.data, yt.numpy())
    np.testing.assert_array_equal(idx.data, it.numpy())


def test_max_pool2d_window_skipped_by_dilation_matches_torch_and_gets_no_gradient(torch):
    # Padding 1 and dilation 3 on H = 2: the first window's rows are -1 and 2, both outside.
    # PyTorch reports -inf and an index past the plane; the backward must not write there.
    x = np.random.default_rng(2).standard_normal((1, 1, 2, 3))
    args = {"kernel_size": (2, 1), "stride": 1, "padding": (1, 0), "dilation": (3, 1), "return_indices": True}
    a = tinynet.tensor(x, requires_grad=True)
    y, idx = F.max_pool2d(a, **args)
    yt, it = torch.nn.functional.max_pool2d(torch.tensor(x), **args)
    np.testing.assert_array_equal(y.data, yt.numpy())
    np.testing.assert_array_equal(idx.data, it.numpy())
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.data, np.zeros_like(x))


def test_max_pool2d_integer_input_like_torch(torch):
    x = -np.arange(16).reshape(1, 1, 4, 4) - 1
    y, idx = F.max_pool2d(tinynet.tensor(x), 2, padding=1, return_indices=True)
    yt, it = torch.nn.functional.max_pool2d(torch.tensor(x), 2, padding=1, return_indices=True)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y.data, yt.numpy())
    np.testing.assert_array_equal(idx.data, it.numpy())


def test_max_pool2d_gradcheck_away_from_ties():
    x = tinynet.tensor(_distinct((2, 2, 5, 6)), requires_grad=True)
    assert gradcheck(lambda t: F.max_pool2d(t, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2)), [x])
    assert gradcheck(lambda t: F.max_pool2d(t, 2, stride=1, ceil_mode=True), [x])


def test_max_pool2d_backward_is_the_adjoint_of_gathering_at_the_switches():
    # At fixed switches the backward g -> dL/dx is linear: it scatter-adds g to the indices.
    # Its adjoint is the gather x -> x[idx] (max-pool's forward at those switches), and it is
    # the very kernel max_unpool2d runs forward.
    x0 = _distinct((2, 3, 6, 5), seed=3)
    args = {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}
    _, idx = F.max_pool2d(tinynet.tensor(x0), **args, return_indices=True)
    planes = np.arange(6)[:, None]

    def backward_map(g):
        with tinynet.enable_grad():
            x = tinynet.tensor(x0, requires_grad=True)
            F.max_pool2d(x, **args).backward(g)
        return x.grad

    def gather(x):
        return tinynet.tensor(x.data.reshape(6, -1)[planes, idx.data.reshape(6, -1)].reshape(idx.shape))

    assert adjoint_check(backward_map, idx.shape, adjoint=gather)
    g = tinynet.tensor(np.random.default_rng(0).standard_normal(idx.shape))
    np.testing.assert_array_equal(backward_map(g).data, F.max_unpool2d(g, idx, 3, 2, 1, output_size=(6, 5)).data)


def test_max_pool2d_float32_in_float32_out_and_grad():
    x = tinynet.randn(2, 3, 6, 6, requires_grad=True)
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    y.sum().backward()
    assert (y.dtype, idx.dtype, x.grad.dtype) == (np.float32, np.int64, np.float32)


# --------------------------------------------------------------------------- avg_pool2d
@given(window(dilation=False), st.booleans(), st.sampled_from([None, 1, 3, -2]))
def test_avg_pool2d_matches_torch_including_divisor_rules(torch, case, count_include_pad, divisor_override):
    x = np.random.default_rng(case["seed"]).standard_normal(case["shape"])
    args = dict(case["args"], count_include_pad=count_include_pad, divisor_override=divisor_override)
    _compare(lambda t: F.avg_pool2d(t, **args), lambda t: torch.nn.functional.avg_pool2d(t, **args), x, torch)


def test_avg_pool2d_ceil_mode_window_past_the_padding_is_not_counted(torch):
    # 5 wide, k 2, s 2, p 1, ceil_mode: the last window starts at 4 and would reach 6 = L + p + 1;
    # PyTorch cuts it at L + p, so count_include_pad divides by 2 there, not 4.
    x = np.ones((1, 1, 5, 5))
    args = {"kernel_size": 2, "padding": 1, "ceil_mode": True, "count_include_pad": True}
    y = F.avg_pool2d(tinynet.tensor(x), **args)
    np.testing.assert_allclose(y.data, torch.nn.functional.avg_pool2d(torch.tensor(x), **args).numpy())
    assert y.shape == (1, 1, 3, 3) and y.data[0, 0, 2, 2] == 1.0 and y.data[0, 0, 0, 0] == 0.25


def test_avg_pool2d_float32_matches_torch(torch):
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 7)).astype(np.float32)
    args = {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}
    _compare(
        lambda t: F.avg_pool2d(t, **args),
        lambda t: torch.nn.functional.avg_pool2d(t, **args),
        x,
        torch,
        rtol=1e-6,
        atol=1e-6,
    )


@pytest.mark.parametrize(
    "args",
    [
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
        {"kernel_size": (2, 3), "stride": 1, "padding": (1, 0), "count_include_pad": False},
        {"kernel_size": 2, "divisor_override": 3},
    ],
    ids=["avg_pool2d-3x3-ceil_mode", "avg_pool2d-2x3-exclude_pad", "avg_pool2d-divisor_override"],
)
def test_avg_pool2d_is_linear_and_its_backward_is_the_adjoint(args):
    assert adjoint_check(lambda t: F.avg_pool2d(t, **args), (2, 2, 5, 6))
    x = tinynet.randn(1, 2, 5, 6, dtype=tinynet.float64, requires_grad=True)
    assert gradcheck(lambda t: F.avg_pool2d(t, **args), [x])


# --------------------------------------------------------------------------- adaptive_avg_pool2d
@given(
    st.integers(1, 9),
    st.integers(1, 9),
    st.one_of(st.integers(1, 10), st.tuples(st.one_of(st.none(), st.integers(1, 10)), st.integers(1, 10))),
    st.booleans(),
)
def test_adaptive_avg_pool2d_matches_torch(torch, h, w, output_size, batched):
    x = np.random.default_rng(h * 10 + w).standard_normal(((2, 3) if batched else (3,)) + (h, w))
    _compare(
        lambda t: F.adaptive_avg_pool2d(t, output_size),
        lambda t: torch.nn.functional.adaptive_avg_pool2d(t, output_size),
        x,
        torch,
    )


def test_adaptive_avg_pool2d_adjoint_and_gradcheck():
    for size in [(2, 3), (7, 4), 1]:
        assert adjoint_check(lambda t, s=size: F.adaptive_avg_pool2d(t, s), (2, 2, 5, 6))
    x = tinynet.randn(1, 2, 5, 6, dtype=tinynet.float64, requires_grad=True)
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, (3, 4)), [x])


# --------------------------------------------------------------------------- max_unpool2d
@given(window(dilation=False, overlap=False), st.booleans())
def test_max_unpool2d_matches_torch_when_indices_are_distinct(torch, case, use_output_size):
    # stride >= kernel_size: windows do not overlap, every plane's indices are distinct.
    args = {k: v for k, v in case["args"].items() if k != "ceil_mode"}
    x = torch.tensor(_distinct(case["shape"], case["seed"]))
    pooled, idx = torch.nn.functional.max_pool2d(x, **args, return_indices=True)
    size = tuple(x.shape[-2:]) if use_output_size else None
    try:
        empty = torch.nn.functional.max_unpool2d(pooled, idx, **args, output_size=size).numel() == 0
    except (ValueError, RuntimeError):  # an output too small for the indices: torch refuses
        empty = True
    if empty:  # tinynet refuses empty outputs as well (torch returns them without checking the indices)
        with pytest.raises((ValueError, RuntimeError)):
            F.max_unpool2d(tinynet.tensor(pooled.numpy()), tinynet.tensor(idx.numpy()), **args, output_size=size)
        return
    _compare(
        lambda t: F.max_unpool2d(t, tinynet.tensor(idx.numpy()), **args, output_size=size),
        lambda t: torch.nn.functional.max_unpool2d(t, idx, **args, output_size=size),
        pooled.numpy(),
        torch,
    )


def test_max_pool_then_unpool_returns_each_maximum_to_its_switch():
    # The lecture notes' 4x4 input A and 2x2 max pooling: unpooling with the switches puts each
    # maximum back where it came from and zeros everywhere else.
    a = np.array([[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 8.0, 6.0], [7.0, 0.5, 1.5, 2.5], [6.5, 3.5, 9.0, 4.5]])
    y, idx = F.max_pool2d(tinynet.tensor(a[None, None]), 2, return_indices=True)
    np.testing.assert_array_equal(y.data[0, 0], [[5.0, 8.0], [7.0, 9.0]])
    up = F.max_unpool2d(y, idx, 2).data[0, 0]
    block_max = a.reshape(2, 2, 2, 2).max(axis=(1, 3)).repeat(2, 0).repeat(2, 1)
    np.testing.assert_array_equal(up, np.where(a == block_max, a, 0.0))
    # And on random batched input: the round trip keeps exactly the window maxima.
    x = _distinct((2, 3, 6, 8), seed=5)
    y, idx = F.max_pool2d(tinynet.tensor(x), 2, return_indices=True)
    block_max = x.reshape(2, 3, 3, 2, 4, 2).max(axis=(3, 5)).repeat(2, 2).repeat(2, 3)
    np.testing.assert_array_equal(F.max_unpool2d(y, idx, 2).data, np.where(x == block_max, x, 0.0))


def test_max_unpool2d_adds_duplicate_indices_and_gathers_in_backward(torch):
    # k 2, s 1 on 3x3 with the maximum in the centre: all four windows pick index 4.
    x = np.array([[[[0.0, 1.0, 0.0], [2.0, 9.0, 3.0], [0.0, 4.0, 0.0]]]])
    y, idx = F.max_pool2d(tinynet.tensor(x), 2, stride=1, return_indices=True)
    assert (idx.data == 4).all()
    v = tinynet.tensor(y.data.copy(), requires_grad=True)
    up = F.max_unpool2d(v, idx, 2, stride=1)
    # Documented choice: duplicates add (the adjoint of the gather); PyTorch writes one of them.
    assert up.data[0, 0, 1, 1] == 4 * 9.0
    assert torch.nn.functional.max_unpool2d(torch.tensor(y.data), torch.tensor(idx.data), 2, 1)[0, 0, 1, 1] == 9.0
    # The gradient is the gather at the indices, for every value: the same as torch's backward.
    g = np.arange(9.0).reshape(1, 1, 3, 3)
    up.backward(tinynet.tensor(g))
    vt = torch.tensor(y.data, requires_grad=True)
    torch.nn.functional.max_unpool2d(vt, torch.tensor(idx.data), 2, 1).backward(torch.tensor(g))
    np.testing.assert_array_equal(v.grad.data, vt.grad.numpy())
    np.testing.assert_array_equal(v.grad.data, np.full((1, 1, 2, 2), 4.0))


def test_max_unpool2d_is_linear_its_backward_is_the_adjoint_and_gradcheck_holds():
    idx = tinynet.tensor(np.random.default_rng(0).integers(0, 30, (2, 3, 3, 2)))  # duplicates included
    fn = lambda t: F.max_unpool2d(t, idx, 3, stride=2, output_size=(6, 5))  # noqa: E731
    assert adjoint_check(fn, (2, 3, 3, 2))
    assert gradcheck(fn, [tinynet.randn(2, 3, 3, 2, dtype=tinynet.float64, requires_grad=True)])


def test_max_unpool2d_unbatched_and_float32():
    y, idx = F.max_pool2d(tinynet.randn(3, 4, 4), 2, return_indices=True)
    v = y.detach().requires_grad_()
    up = F.max_unpool2d(v, idx, 2, output_size=(1, 3, 4, 4)[1:])
    up.sum().backward()
    assert up.shape == (3, 4, 4) and up.dtype == np.float32 and v.grad.dtype == np.float32


# --------------------------------------------------------------------------- empty batch, modules
@pytest.mark.parametrize(
    "fn, out_shape",
    [
        (lambda t: F.max_pool2d(t, 2), (0, 3, 2, 2)),
        (lambda t: F.avg_pool2d(t, 2, ceil_mode=True), (0, 3, 2, 3)),
        (lambda t: F.adaptive_avg_pool2d(t, 2), (0, 3, 2, 2)),
        (lambda t: F.max_unpool2d(t, tinynet.zeros(0, 3, 4, 5, dtype=tinynet.int64), 2), (0, 3, 8, 10)),
    ],
    ids=["max_pool2d", "avg_pool2d-ceil_mode", "adaptive_avg_pool2d", "max_unpool2d"],
)
def test_empty_batch_gives_empty_output_and_gradient(fn, out_shape):
    x = tinynet.zeros(0, 3, 4, 5, requires_grad=True)
    y = fn(x)
    assert y.shape == out_shape and y.dtype == np.float32
    y.sum().backward()
    assert x.grad.shape == x.shape


def test_pooling_modules_call_the_functional_ops_and_repr_like_torch(torch):
    x = tinynet.tensor(_distinct((2, 3, 7, 6)))
    pool = nn.MaxPool2d((3, 2), stride=2, padding=1, return_indices=True, ceil_mode=True)
    y, idx = pool(x)
    y2, idx2 = F.max_pool2d(x, (3, 2), 2, 1, ceil_mode=True, return_indices=True)
    np.testing.assert_array_equal(y.data, y2.data)
    np.testing.assert_array_equal(
        nn.MaxUnpool2d((3, 2), 2, 1)(y, idx, output_size=(7, 6)).data,
        F.max_unpool2d(y, idx, (3, 2), 2, 1, output_size=(7, 6)).data,
    )
    np.testing.assert_array_equal(
        nn.AvgPool2d(3, 1, 1, False, False, 2)(x).data, F.avg_pool2d(x, 3, 1, 1, False, False, 2).data
    )
    np.testing.assert_array_equal(nn.AdaptiveAvgPool2d((None, 2))(x).data, F.adaptive_avg_pool2d(x, (7, 2)).data)
    tn = torch.nn
    for ours, theirs in [
        (nn.MaxPool2d(2), tn.MaxPool2d(2)),
        (nn.MaxPool2d((2, 3), 1, 1, 2, True, True), tn.MaxPool2d((2, 3), 1, 1, 2, True, True)),
        (nn.AvgPool2d(3, 1, 1, True, False, 2), tn.AvgPool2d(3, 1, 1, True, False, 2)),
        (nn.AdaptiveAvgPool2d((None, 3)), tn.AdaptiveAvgPool2d((None, 3))),
        (nn.MaxUnpool2d(2), tn.MaxUnpool2d(2)),
        (nn.MaxUnpool2d((2, 3), 1), tn.MaxUnpool2d((2, 3), 1)),
    ]:
        assert repr(ours) == repr(theirs)


# --------------------------------------------------------------------------- bad arguments
X = tinynet.randn(1, 2, 4, 4)
IDX = F.max_pool2d(X, 2, return_indices=True)[1]
Y = F.max_pool2d(X, 2)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: F.max_pool2d(X, 0), RuntimeError, r"max_pool2d: kernel_size must be positive, got kernel_size=0"),
        (
            lambda: F.avg_pool2d(X, (2, 0)),
            RuntimeError,
            r"avg_pool2d: kernel_size must be positive, got kernel_size=\(2, 0\)",
        ),
        (lambda: F.max_pool2d(X, 2, stride=0), RuntimeError, r"max_pool2d: stride must be positive, got stride=0"),
        (
            lambda: F.max_pool2d(X, 2, dilation=0),
            RuntimeError,
            r"max_pool2d: dilation must be positive, got dilation=0",
        ),
        (
            lambda: F.max_pool2d(X, 2, padding=-1),
            RuntimeError,
            r"max_pool2d: padding must be non-negative, got padding=-1",
        ),
        (
            lambda: F.max_pool2d(X, 2, padding=2),
            RuntimeError,
            r"max_pool2d: padding must be at most half of the kernel size, got padding=\(2, 2\)",
        ),
        (
            lambda: F.max_pool2d(X, 3, padding=2, dilation=2),
            RuntimeError,
            r"padding must be at most half.*at most \(1, 1\)",
        ),
        (
            lambda: F.avg_pool2d(X, 3, padding=2),
            RuntimeError,
            r"avg_pool2d: padding must be at most half of the kernel size",
        ),
        (
            lambda: F.max_pool2d(X, 5),
            RuntimeError,
            r"max_pool2d: the window does not fit: input 4x4 with kernel_size=\(5, 5\).*output of 0x0",
        ),
        (lambda: F.avg_pool2d(X, (1, 7), padding=(0, 1)), RuntimeError, r"avg_pool2d: the window does not fit"),
        (lambda: F.max_pool2d(X, 3, dilation=2), RuntimeError, r"the window does not fit.*dilation=\(2, 2\)"),
        (
            lambda: F.max_pool2d(X, 2.0),
            TypeError,
            r"max_pool2d: kernel_size must be an int or a tuple of 2 ints, got 2.0",
        ),
        (lambda: F.max_pool2d(X, (2, 2, 2)), TypeError, r"kernel_size must be an int or a tuple of 2 ints"),
        (lambda: F.max_pool2d(X[0, 0], 2), ValueError, r"max_pool2d: expected input to be 3-D or 4-D, got 2-D"),
        (lambda: F.max_pool2d(tinynet.zeros(2, 0, 4, 4), 2), RuntimeError, r"non-zero C, H and W.*\(2, 0, 4, 4\)"),
        (
            lambda: F.max_pool2d(X > 0, 2),
            TypeError,
            r"max_pool2d: input must be float32, float64 or an integer dtype, got dtype bool",
        ),
        (
            lambda: F.avg_pool2d(X.long(), 2),
            TypeError,
            r"avg_pool2d: input must be float32 or float64, got dtype int64",
        ),
        (
            lambda: F.avg_pool2d(X, 2, divisor_override=0),
            RuntimeError,
            r"avg_pool2d: divisor_override must not be zero",
        ),
        (
            lambda: F.avg_pool2d(X, 2, divisor_override=2.5),
            TypeError,
            r"avg_pool2d: divisor_override must be an int or None, got 2.5",
        ),
        (lambda: F.adaptive_avg_pool2d(X, -1), RuntimeError, r"adaptive_avg_pool2d: output_size must be >= 0, got -1"),
        (
            lambda: F.adaptive_avg_pool2d(X, (2, 2, 2)),
            TypeError,
            r"adaptive_avg_pool2d: output_size must be an int or a pair",
        ),
        (
            lambda: F.max_unpool2d(Y, IDX, 0),
            RuntimeError,
            r"max_unpool2d: kernel_size must be positive, got kernel_size=0",
        ),
        (
            lambda: F.max_unpool2d(Y, IDX.float(), 2),
            RuntimeError,
            r"max_unpool2d: indices must be an integer tensor \(int64\), got dtype float32",
        ),
        (
            lambda: F.max_unpool2d(Y, IDX[:, :, :1], 2),
            RuntimeError,
            r"max_unpool2d: indices must have the input's shape \(1, 2, 2, 2\), got shape \(1, 2, 1, 2\)",
        ),
        (
            lambda: F.max_unpool2d(Y, IDX + 16, 2),
            RuntimeError,
            r"max_unpool2d: found an invalid index \d+ in indices: the output planes are 4x4, so indices must lie in \[0, 16\)",
        ),
        (lambda: F.max_unpool2d(Y, IDX - 16, 2), RuntimeError, r"found an invalid index -\d+ in indices"),
        (
            lambda: F.max_unpool2d(Y, IDX, 2, output_size=(7, 4)),
            ValueError,
            r"max_unpool2d: invalid output_size \(7, 4\): entry 0 must be between 2 and 6",
        ),
        (
            lambda: F.max_unpool2d(Y, IDX, 2, output_size=(1, 4, 4)),
            ValueError,
            r"max_unpool2d: output_size must hold 2 entries",
        ),
        (
            lambda: F.max_unpool2d(Y, IDX, 2, output_size=4),
            TypeError,
            r"max_unpool2d: output_size must be a sequence of ints, got 4",
        ),
        (lambda: F.max_unpool2d(Y, IDX.data, 2), TypeError, r"max_unpool2d: indices must be a Tensor, got ndarray"),
        (lambda: nn.MaxPool2d(0), RuntimeError, r"MaxPool2d: kernel_size must be positive"),
        (lambda: nn.AvgPool2d(2, padding=3), RuntimeError, r"AvgPool2d: padding must be at most half"),
        (lambda: nn.MaxUnpool2d(2, stride=0), RuntimeError, r"MaxUnpool2d: stride must be positive"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_invalid_indices_never_write_out_of_bounds():
    # The check runs before the kernel: nothing is computed, and valid calls afterwards still work.
    bad = tinynet.tensor(np.array([[[[0, 1], [2, 10**12]]]]))
    with pytest.raises(RuntimeError, match="invalid index 1000000000000"):
        F.max_unpool2d(tinynet.ones(1, 1, 2, 2), bad, 2)
    ok = F.max_unpool2d(tinynet.ones(1, 1, 2, 2), tinynet.tensor(np.array([[[[0, 1], [2, 15]]]])), 2)
    assert ok.data.sum() == 4 and ok.data[0, 0, 3, 3] == 1


# --------------------------------------------------------------------------- the kernels without the JIT
_NO_JIT_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import tinynet
    import tinynet.nn.functional as F

    def cases(x):
        # (output or outputs, the leaf whose gradient is checked) for every kernel of pool.py and resample.py
        y, idx = F.max_pool2d(x, 3, 2, 1, dilation=1, ceil_mode=True, return_indices=True)
        v = y.detach().requires_grad_()
        return [
            ((y, idx), x),
            (F.max_unpool2d(v, idx, 3, 2, 1, output_size=(5, 4)), v),
            (F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), x),
            (F.adaptive_avg_pool2d(x, (3, 2)), x),
            (F.interpolate(x, scale_factor=1.7, mode="nearest"), x),
            (F.interpolate(x, size=(7, 3), mode="nearest-exact"), x),
            (F.interpolate(x, scale_factor=2, mode="bilinear"), x),
            (F.interpolate(x, size=(3, 9), mode="bilinear", align_corners=True), x),
            (F.interpolate(x, scale_factor=(2, 3), mode="bed_of_nails"), x),
            (F.pixel_shuffle(F.pixel_unshuffle(x[:, :, :4, :4], 2), 2), x),
        ]

    def results():
        out = []
        x = tinynet.tensor(np.random.default_rng(0).permutation(40).reshape(1, 2, 5, 4) * 0.1, requires_grad=True)
        for result, leaf in cases(x):
            outputs = result if isinstance(result, tuple) else (result,)
            out.extend(o.data for o in outputs)
            y = outputs[0]
            leaf.grad = None
            y.backward(tinynet.tensor(np.arange(y.data.size, dtype=np.float64).reshape(y.shape)))
            out.append(leaf.grad.data.copy())
        return out

    if __name__ == "__main__":
        np.savez(sys.argv[1], *results())
    """
)


def test_kernels_run_without_the_jit_and_agree_with_the_compiled_ones(tmp_path):
    script = tmp_path / "nojit.py"
    script.write_text(_NO_JIT_SCRIPT)
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "out.npz")], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    namespace: dict = {}
    exec(compile(_NO_JIT_SCRIPT.replace('if __name__ == "__main__":', "if False:"), "nojit", "exec"), namespace)
    compiled = namespace["results"]()
    plain = np.load(tmp_path / "out.npz")
    assert len(plain.files) == len(compiled) > 10
    for i, want in enumerate(compiled):
        np.testing.assert_allclose(plain[f"arr_{i}"], want, rtol=1e-12, atol=1e-12, err_msg=f"result {i}")


@pytest.mark.parametrize("tier", ["fast", "reference"])
def test_scatter_at_indices_overwrites_whatever_its_output_held(tier):
    # max_unpool2d hands the kernel np.empty memory: each plane must be zeroed before the scatter adds into it
    rng = np.random.default_rng(0)
    values = rng.standard_normal((3, 6))
    indices = np.array([[0, 2, 2, 5, 7, -1], [1, 1, 1, 0, 3, 4], [6, 5, 4, 3, 2, 1]], dtype=np.int64)
    out = np.full((3, 7), np.nan)  # index 7 and -1 lie outside the planes and are skipped
    expected = np.zeros((3, 7))
    for p in range(3):
        inside = (indices[p] >= 0) & (indices[p] < 7)
        np.add.at(expected[p], indices[p][inside], values[p][inside])
    with tinynet.kernels.use(tier):
        tinynet.kernels.scatter_add_at_indices(values, indices, out)
    np.testing.assert_array_equal(out, expected)
