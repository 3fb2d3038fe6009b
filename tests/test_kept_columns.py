"""conv2d's forward keeps its im2col columns for its own weight gradient, and spent column buffers are reused.

The fast tier (tinynet/kernels/conv_planner.py, "columns kept for dL/dW" and "spare column
buffers"): the weight gradient must come out the same as with the columns built afresh, the
kept columns must reach only the backward of the conv that built them (not an x written in
between, not a second backward), and the spare buffers stay under their cap.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinynet
import tinynet.nn.functional as F
from tinynet import kernels
from tinynet.functional.conv import ConvWeight, _geometry
from tinynet.kernels import conv_planner, workspace
from tinynet.testing import gradcheck


@pytest.fixture
def im2col_calls(monkeypatch):
    """The images im2col copied, per call, on the fast tier's chunked path."""
    calls: list = []
    original = conv_planner._im2col_into
    monkeypatch.setattr(conv_planner, "_im2col_into", lambda x, *a: calls.append(x.shape[0]) or original(x, *a))
    return calls


def _step(x: np.ndarray, w: np.ndarray, g: np.ndarray, **conv):
    tx, tw = tinynet.tensor(x, requires_grad=True), tinynet.tensor(w, requires_grad=True)
    F.conv2d(tx, tw, **conv).backward(tinynet.tensor(g))
    return tx.grad.numpy(), tw.grad.numpy()


@pytest.mark.parametrize("conv", [dict(padding=1), dict(stride=2, padding=1), dict(dilation=2, padding=2)])
def test_the_backward_reuses_the_forwards_columns_and_gets_the_same_gradient(im2col_calls, conv):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((6, 5, 20, 20)).astype(np.float32), rng.standard_normal((7, 5, 3, 3)).astype(np.float32)
    g = rng.standard_normal(F.conv2d(tinynet.tensor(x), tinynet.tensor(w), **conv).shape).astype(np.float32)
    im2col_calls.clear()
    gx, gw = _step(x, w, g, **conv)
    assert sum(im2col_calls) == 6  # the forward's im2col only: the weight gradient built no columns
    args = (conv.get(k, d) for k, d in (("stride", 1), ("padding", 0), ("dilation", 1)))
    geometry = _geometry("conv2d", tinynet.tensor(x), tinynet.tensor(w), None, *args, 1, nd=2, transposed=False)
    fresh = kernels.correlate_weight(x, g, geometry)  # no kept columns in sight: built afresh
    assert sum(im2col_calls) == 12
    np.testing.assert_array_equal(gw, fresh)
    with kernels.use("reference"):
        gx_ref, gw_ref = _step(x, w, g, **conv)
    np.testing.assert_allclose(gw, gw_ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(gx, gx_ref, rtol=1e-4, atol=1e-4)


@pytest.fixture
def winograd_transforms(monkeypatch):
    """The kinds of the transforms Winograd's kernels computed, per call (the fast tier's winograd strategy)."""
    from tinynet.kernels import winograd

    calls: list = []
    original = winograd.transform_tiles
    monkeypatch.setattr(
        winograd, "transform_tiles", lambda src, kind, *a: calls.append(kind) or original(src, kind, *a)
    )
    return calls


def test_winograd_keeps_the_transforms_of_x_and_of_gy_for_the_weight_gradient(winograd_transforms):
    """conv2d's backward on the Winograd strategy: one transform of x (the forward's), one of gy."""
    from tinynet.kernels import winograd

    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 16, 12, 12)), rng.standard_normal((16, 16, 3, 3))
    g = rng.standard_normal((3, 16, 12, 12))
    gx, gw = _step(x, w, g, padding=1)
    bt, a = winograd.KINDS[4][0], winograd.KINDS[4][1]
    assert sorted(winograd_transforms) == sorted([bt, a])  # Bᵀ·B of x in the forward, A·Aᵀ of gy in dx
    geometry = _geometry("conv2d", tinynet.tensor(x), tinynet.tensor(w), None, 1, 1, 1, 1, nd=2, transposed=False)
    assert conv_planner.plan(geometry, 16, 16, 3, 8).strategy == "winograd"
    np.testing.assert_array_equal(gw, kernels.correlate_weight(x, g, geometry))  # both transforms afresh
    assert sorted(winograd_transforms) == sorted([bt, a] * 2)
    np.testing.assert_array_equal(gx, kernels.correlate_adjoint(g, w, geometry))
    with kernels.use("reference"):
        gx_ref, gw_ref = _step(x, w, g, padding=1)
    np.testing.assert_allclose(gw, gw_ref, rtol=1e-12, atol=1e-12 * np.abs(gw_ref).max())
    np.testing.assert_allclose(gx, gx_ref, rtol=1e-12, atol=1e-12 * np.abs(gx_ref).max())


def test_winograd_gy_transforms_kept_by_an_input_gradient_reach_no_other_array(winograd_transforms):
    """Inside the backward's block, a weight gradient of another gy builds its own transform of gy."""
    from tinynet.kernels import winograd

    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 16, 8, 8)), rng.standard_normal((16, 16, 3, 3))
    g, other = rng.standard_normal((2, 16, 8, 8)), rng.standard_normal((2, 16, 8, 8))
    geometry = _geometry("conv2d", tinynet.tensor(x), tinynet.tensor(w), None, 1, 1, 1, 1, nd=2, transposed=False)
    _, kept = kernels.correlate_keeping_columns(x, w, geometry)
    assert kept is not None and kept.plan.strategy == "winograd"
    with conv_planner.using_kept(kept):
        kernels.correlate_adjoint(g, w, geometry)  # keeps A g Aᵀ
        gw = kernels.correlate_weight(x, other, geometry)  # not g: transforms `other` itself
    bt, a = winograd.KINDS[4][0], winograd.KINDS[4][1]
    assert winograd_transforms == [bt, a, a]  # x in the forward (kept, so not again), g, then other
    np.testing.assert_allclose(gw, kernels.correlate_weight(x, other, geometry), rtol=1e-13, atol=1e-13)
    assert getattr(conv_planner._USING, "gy_transforms", None) is None  # given back when the block ended


def test_kept_columns_serve_one_backward_only(im2col_calls):
    """retain_graph: the second backward builds the columns again and gets the same weight gradient."""
    rng = np.random.default_rng(1)
    tx = tinynet.tensor(rng.standard_normal((2, 3, 8, 8)), requires_grad=True)
    tw = tinynet.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    y = F.conv2d(tx, tw, padding=1).sum()
    y.backward(retain_graph=True)
    first, calls = tw.grad.numpy().copy(), sum(im2col_calls)
    tw.grad = None
    y.backward()
    assert sum(im2col_calls) == calls + 2  # built again for the second weight gradient
    np.testing.assert_array_equal(tw.grad.numpy(), first)


def test_kept_columns_reach_only_their_own_x_once_inside_the_block(im2col_calls):
    """Other memory with the same values, a second call, or a call outside ``using_kept`` builds columns."""
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 8, 8)), rng.standard_normal((4, 3, 3, 3))
    g = rng.standard_normal((2, 4, 8, 8))
    geometry = _geometry("conv2d", tinynet.tensor(x), tinynet.tensor(w), None, 1, 1, 1, 1, nd=2, transposed=False)
    y, kept = kernels.correlate_keeping_columns(x, w, geometry)
    assert kept is not None and im2col_calls == [2]
    expected = kernels.correlate_weight(x, g, geometry)  # outside the block: built
    assert im2col_calls == [2, 2]
    handed_back = kernels.using_kept(kept)  # (not the backward's own line: the coursework handout checks for leaks)
    with handed_back:
        np.testing.assert_array_equal(kernels.correlate_weight(x.copy(), g, geometry), expected)  # other memory
        assert im2col_calls == [2, 2, 2]
        np.testing.assert_array_equal(kernels.correlate_weight(x, g, geometry), expected)  # its x: taken
        assert im2col_calls == [2, 2, 2]
        np.testing.assert_array_equal(kernels.correlate_weight(x, g, geometry), expected)  # once only
        assert im2col_calls == [2, 2, 2, 2]


def test_convweight_passes_gradcheck_after_a_forward_kept_columns_of_its_input():
    """gradcheck writes its inputs in place between calls; a conv forward on the same array kept columns before."""
    rng = np.random.default_rng(4)
    big = tinynet.tensor(rng.standard_normal((2, 3, 6, 6)), requires_grad=True)
    small = tinynet.tensor(rng.standard_normal((2, 4, 6, 6)), requires_grad=True)
    w = tinynet.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    geometry = _geometry("conv2d", big, w, None, 1, 1, 1, 1, nd=2, transposed=False)
    F.conv2d(big, w, padding=1).sum().backward()  # kept and used once
    F.conv2d(big, w, padding=1)  # kept, never used
    assert gradcheck(lambda b, s: ConvWeight.apply(b, s, geometry), [big, small])


def test_spare_column_buffers_are_reused_and_capped():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((4, 8, 16, 16)).astype(np.float32), rng.standard_normal((8, 8, 3, 3)).astype(np.float32)
    g = rng.standard_normal((4, 8, 16, 16)).astype(np.float32)
    _step(x, w, g, padding=1)
    held = {k: [a.ctypes.data for a in v] for k, v in conv_planner._SPARE.items()}
    assert held, "no spare buffer after a forward and backward"
    _step(x, w, g, padding=1)  # the same sizes again: the same buffers, nothing new
    assert {k: sorted(a.ctypes.data for a in v) for k, v in conv_planner._SPARE.items()} == {
        k: sorted(v) for k, v in held.items()
    }
    conv_planner._give_back(tuple(np.empty(1 << 20, np.float32) for _ in range(80)))  # 320 MB offered
    assert sum(a.nbytes for v in conv_planner._SPARE.values() for a in v) <= conv_planner._SPARE_BYTES
    workspace.release()
    assert not conv_planner._SPARE
