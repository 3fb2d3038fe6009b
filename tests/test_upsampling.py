"""Upsampling: interpolate (nearest, nearest-exact, (bi)linear, area, bed of nails), pixel_shuffle/unshuffle, modules.

Every mode is compared with PyTorch (forward and gradient) on hypothesis-drawn
sizes, scale factors, align_corners and recompute_scale_factor; every mode is a
linear map, so each gets the adjoint (dot-product) test, which proves that its
backward is the transposed matrix, and a float64 gradcheck. To point students
at one mode: ``pytest tests/test_upsampling.py -k bilinear``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet
import tinynet.nn.functional as F
from tinynet import nn
from tinynet.testing import adjoint_check, gradcheck

MODES_4D = ["nearest", "nearest-exact", "bilinear", "area"]
MODES_3D = ["nearest", "nearest-exact", "linear", "area"]


# --------------------------------------------------------------------------- strategies
@st.composite
def resize(draw, ndim: int = 4, modes=None) -> dict:
    """An input shape and interpolate's arguments: a size or a scale factor PyTorch accepts for it."""
    spatial = tuple(draw(st.integers(1, 6)) for _ in range(ndim - 2))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3))) + spatial
    mode = draw(st.sampled_from(modes or (MODES_4D if ndim == 4 else MODES_3D)))
    kwargs = {"mode": mode}
    if mode in ("linear", "bilinear"):
        kwargs["align_corners"] = draw(st.sampled_from([None, False, True]))
    if draw(st.booleans()):
        sizes = tuple(draw(st.integers(1, 11)) for _ in spatial)
        kwargs["size"] = sizes if len(sizes) > 1 or draw(st.booleans()) else sizes[0]
    else:
        nice = st.sampled_from([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 1 / 3, 1.19, 2.1])
        factor = st.one_of(nice, st.floats(0.2, 3.5), st.integers(1, 3))
        scales = tuple(draw(factor) for _ in spatial)
        for n, s in zip(spatial, scales):
            if math.floor(n * s) < 1:  # PyTorch (and tinynet) refuse empty outputs
                scales = tuple(max(s, 1.0) for s in scales)
        kwargs["scale_factor"] = scales if len(scales) > 1 or draw(st.booleans()) else scales[0]
        kwargs["recompute_scale_factor"] = draw(st.sampled_from([None, False, True]))
    return {"shape": shape, "kwargs": kwargs, "seed": draw(st.integers(0, 2**16))}


def _compare(torch, shape, kwargs, seed, dtype=np.float64, rtol=1e-10, atol=1e-12):
    """interpolate's forward and input gradient (of a random projection), tinynet vs torch."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    a = tinynet.tensor(x, requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    ya = F.interpolate(a, **kwargs)
    yb = torch.nn.functional.interpolate(b, **kwargs)
    assert ya.shape == tuple(yb.shape) and ya.dtype == dtype
    if kwargs["mode"].startswith("nearest"):  # same source indices, so the very same values
        np.testing.assert_array_equal(ya.data, yb.detach().numpy())
    else:
        np.testing.assert_allclose(ya.data, yb.detach().numpy(), rtol=rtol, atol=atol)
    g = rng.standard_normal(ya.shape).astype(dtype)
    ya.backward(tinynet.tensor(g))
    yb.backward(torch.tensor(g))
    assert a.grad.dtype == dtype
    want = b.grad.numpy()
    if len(shape) == 3 and kwargs["mode"] == "nearest":
        # torch 2.13's 1-D nearest backward takes the out == in and out == 2·in shortcuts that its
        # forward does not take when a scale_factor is given (1.19 on 2 pixels reads [x0, x0] but sends
        # the gradient back as a copy), so the oracle is the adjoint of torch's forward: a scatter-add
        # of g at the source index torch's forward reads for each output.
        src = torch.nn.functional.interpolate(torch.arange(shape[-1], dtype=torch.float64).reshape(1, 1, -1), **kwargs)
        want = np.zeros(shape, dtype)
        np.add.at(want, (slice(None), slice(None), src.numpy().astype(np.int64).ravel()), g)
    np.testing.assert_allclose(a.grad.data, want, rtol=rtol, atol=atol)


# --------------------------------------------------------------------------- against torch
@given(resize(ndim=4))
def test_interpolate_2d_matches_torch(torch, case):
    _compare(torch, case["shape"], case["kwargs"], case["seed"])


@given(resize(ndim=3))
def test_interpolate_1d_matches_torch(torch, case):
    _compare(torch, case["shape"], case["kwargs"], case["seed"])


@given(resize(ndim=4))
def test_interpolate_float32_matches_torch_with_float32_index_arithmetic(torch, case):
    # nearest modes: the source index is computed in float32, as PyTorch does, so the values agree exactly.
    _compare(torch, case["shape"], case["kwargs"], case["seed"], dtype=np.float32, rtol=2e-6, atol=2e-6)


def test_scale_factor_enters_the_coordinate_map_unless_recomputed(torch):
    # 5 -> floor(5 * 1.19) = 5 pixels: with the given factor the map is o/1.19, not the identity;
    # with recompute_scale_factor=True it is in/out = 1 (a copy). Same for nearest-exact.
    x = tinynet.arange(5.0).reshape(1, 1, 5)
    y = F.interpolate(x, scale_factor=1.19, mode="nearest-exact")
    np.testing.assert_array_equal(y.data.ravel(), [0.0, 1.0, 2.0, 2.0, 3.0])
    y = F.interpolate(x, scale_factor=1.19, mode="nearest-exact", recompute_scale_factor=True)
    np.testing.assert_array_equal(y.data.ravel(), [0.0, 1.0, 2.0, 3.0, 4.0])
    t = torch.arange(5.0).reshape(1, 1, 5)
    for mode in ["nearest", "nearest-exact", "linear"]:
        for recompute in [None, True]:
            want = torch.nn.functional.interpolate(t, scale_factor=1.7, mode=mode, recompute_scale_factor=recompute)
            got = F.interpolate(x, scale_factor=1.7, mode=mode, recompute_scale_factor=recompute)
            np.testing.assert_allclose(got.data, want.numpy(), rtol=1e-6)


def test_bilinear_align_corners_maps_corners_onto_corners_and_false_clamps_at_the_edges(torch):
    x = tinynet.tensor([[[[0.0, 3.0], [6.0, 9.0]]]])
    y = F.interpolate(x, size=(3, 4), mode="bilinear", align_corners=True)
    np.testing.assert_allclose(y.data[0, 0], [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]])
    y = F.interpolate(x, scale_factor=2, mode="bilinear")  # src = (o + 0.5)/2 - 0.5, clamped to [0, 1]
    np.testing.assert_allclose(y.data[0, 0, 0], [0.0, 0.75, 2.25, 3.0])
    want = torch.nn.functional.interpolate(torch.tensor(x.data), scale_factor=2, mode="bilinear")
    np.testing.assert_allclose(y.data, want.numpy())


# --------------------------------------------------------------------------- adjoints and gradients
LINEAR_MAPS = {
    "nearest x2": lambda t: F.interpolate(t, scale_factor=2),
    "nearest 5x3": lambda t: F.interpolate(t, size=(5, 3)),
    "nearest-exact 7x2": lambda t: F.interpolate(t, size=(7, 2), mode="nearest-exact"),
    "bilinear x1.7": lambda t: F.interpolate(t, scale_factor=1.7, mode="bilinear"),
    "bilinear align_corners 5x7": lambda t: F.interpolate(t, size=(5, 7), mode="bilinear", align_corners=True),
    "bilinear down 2x1": lambda t: F.interpolate(t, size=(2, 1), mode="bilinear"),
    "area 2x3": lambda t: F.interpolate(t, size=(2, 3), mode="area"),
    "bed_of_nails x(2, 3)": lambda t: F.interpolate(t, scale_factor=(2, 3), mode="bed_of_nails"),
    "pixel_unshuffle 2": lambda t: F.pixel_unshuffle(t[:, :, :2, :4], 2),
    "pixel_shuffle 2": lambda t: F.pixel_shuffle(t.reshape(1, 16, 1, 3)[:, :12], 2),
}


@pytest.mark.parametrize("name", list(LINEAR_MAPS))
def test_every_mode_is_linear_and_its_backward_is_the_adjoint(name):
    assert adjoint_check(LINEAR_MAPS[name], (2, 2, 3, 4))


@pytest.mark.parametrize("name", list(LINEAR_MAPS))
def test_every_mode_passes_gradcheck(name):
    x = tinynet.randn(2, 2, 3, 4, dtype=tinynet.float64, requires_grad=True)
    assert gradcheck(LINEAR_MAPS[name], [x])


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "linear", "bed_of_nails", "area"])
def test_1d_modes_are_linear_and_their_backward_is_the_adjoint(mode):
    size = 8 if mode == "bed_of_nails" else 7
    assert adjoint_check(lambda t: F.interpolate(t, size=size, mode=mode), (2, 3, 4))


def test_nearest_backward_sums_each_source_blocks_gradient():
    x = tinynet.randn(2, 3, 4, 5, dtype=tinynet.float64, requires_grad=True)
    g = np.random.default_rng(0).standard_normal((2, 3, 8, 15))
    F.interpolate(x, scale_factor=(2, 3)).backward(tinynet.tensor(g))
    np.testing.assert_allclose(x.grad.data, g.reshape(2, 3, 4, 2, 5, 3).sum(axis=(3, 5)))


def test_bed_of_nails_places_values_top_left_and_its_backward_subsamples():
    x = tinynet.tensor(np.arange(1.0, 7.0).reshape(1, 1, 2, 3), requires_grad=True)
    y = F.interpolate(x, scale_factor=(2, 3), mode="bed_of_nails")
    want = np.zeros((1, 1, 4, 9))
    want[..., ::2, ::3] = x.data
    np.testing.assert_array_equal(y.data, want)
    g = np.random.default_rng(0).standard_normal(y.shape)
    y.backward(tinynet.tensor(g))
    np.testing.assert_array_equal(x.grad.data, g[..., ::2, ::3])
    # size= works when it is a multiple of the input size, and 3-D input is 1-D bed of nails.
    np.testing.assert_array_equal(F.interpolate(x.detach(), size=(4, 9), mode="bed_of_nails").data, want)
    z = F.interpolate(tinynet.tensor([[[1.0, 2.0]]]), scale_factor=3.0, mode="bed_of_nails")
    np.testing.assert_array_equal(z.data, [[[1.0, 0.0, 0.0, 2.0, 0.0, 0.0]]])


# --------------------------------------------------------------------------- pixel shuffle
@given(st.integers(1, 3), st.sampled_from([(2, 3), (3,), (2, 1, 2)]), st.integers(1, 3), st.integers(1, 3))
def test_pixel_shuffle_and_unshuffle_match_torch(torch, r, batch, h, w):
    rng = np.random.default_rng(r * 100 + h * 10 + w)
    x = rng.standard_normal(batch[:-1] + (batch[-1] * r * r, h, w))
    for tiny, ref, inp in [
        (F.pixel_shuffle, torch.nn.functional.pixel_shuffle, x),
        (F.pixel_unshuffle, torch.nn.functional.pixel_unshuffle, x.reshape(batch + (h * r, w * r))),
    ]:
        a, b = tinynet.tensor(inp, requires_grad=True), torch.tensor(inp, requires_grad=True)
        ya, yb = tiny(a, r), ref(b, r)
        np.testing.assert_array_equal(ya.data, yb.detach().numpy())
        g = rng.standard_normal(ya.shape)
        ya.backward(tinynet.tensor(g))
        yb.backward(torch.tensor(g))
        np.testing.assert_array_equal(a.grad.data, b.grad.numpy())


def test_pixel_shuffle_adjoint_is_pixel_unshuffle():
    # A permutation: Cᵀ = C⁻¹, so unshuffle is both the adjoint and the inverse.
    assert adjoint_check(lambda t: F.pixel_shuffle(t, 3), (2, 18, 2, 3), adjoint=lambda t: F.pixel_unshuffle(t, 3))
    x = tinynet.randn(2, 18, 2, 3)
    np.testing.assert_array_equal(F.pixel_unshuffle(F.pixel_shuffle(x, 3), 3).data, x.data)


# --------------------------------------------------------------------------- dtypes, empty batch, modules
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear", "area", "bed_of_nails"])
def test_float32_in_float32_out_and_grad_and_empty_batch(mode):
    x = tinynet.randn(2, 3, 4, 5, requires_grad=True)
    y = F.interpolate(x, scale_factor=2, mode=mode)
    y.sum().backward()
    assert (y.dtype, x.grad.dtype) == (np.float32, np.float32)
    e = tinynet.zeros(0, 3, 4, 5, requires_grad=True)
    y = F.interpolate(e, scale_factor=2, mode=mode)
    assert y.shape == (0, 3, 8, 10)
    y.sum().backward()
    assert e.grad.shape == e.shape
    assert F.pixel_shuffle(tinynet.zeros(0, 8, 2, 3), 2).shape == (0, 2, 4, 6)


def test_upsample_modules_call_interpolate_and_repr_like_torch(torch):
    x = tinynet.randn(2, 3, 4, 5)
    for kwargs in [
        {"scale_factor": 2},
        {"size": (3, 7), "mode": "bilinear"},
        {"scale_factor": (1.5, 2.0), "mode": "bilinear", "align_corners": True},
        {"size": 6, "mode": "nearest-exact"},
        {"scale_factor": 2, "mode": "area"},
    ]:
        ours = nn.Upsample(**kwargs)
        assert repr(ours) == repr(torch.nn.Upsample(**kwargs))
        want = torch.nn.Upsample(**kwargs)(torch.tensor(x.data)).numpy()
        np.testing.assert_allclose(ours(x).data, want, rtol=1e-6, atol=1e-6)
    up = nn.Upsample(scale_factor=2, mode="bed_of_nails")
    assert repr(up) == "Upsample(scale_factor=2.0, mode='bed_of_nails')"
    np.testing.assert_array_equal(up(x).data, F.interpolate(x, scale_factor=2, mode="bed_of_nails").data)
    for ours, theirs in [
        (nn.UpsamplingNearest2d(scale_factor=2), torch.nn.UpsamplingNearest2d(scale_factor=2)),
        (nn.UpsamplingBilinear2d(size=(5, 3)), torch.nn.UpsamplingBilinear2d(size=(5, 3))),
        (nn.PixelShuffle(2), torch.nn.PixelShuffle(2)),
        (nn.PixelUnshuffle(2), torch.nn.PixelUnshuffle(2)),
    ]:
        assert repr(ours) == repr(theirs)
        inp = x.data[:, :, :4, :4].reshape(2, 12, 2, 2) if isinstance(ours, nn.PixelShuffle) else x.data[..., :4]
        np.testing.assert_allclose(
            ours(tinynet.tensor(inp)).data, theirs(torch.tensor(inp)).numpy(), rtol=1e-5, atol=1e-6
        )


# --------------------------------------------------------------------------- bad arguments
X = tinynet.randn(1, 2, 4, 4)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: F.interpolate(X, size=8, scale_factor=2), ValueError, r"only one of size or scale_factor"),
        (lambda: F.interpolate(X), ValueError, r"interpolate: either size or scale_factor should be defined"),
        (lambda: F.interpolate(X, scale_factor=2, mode="bogus"), ValueError, r"interpolate: unknown mode 'bogus'"),
        (lambda: F.interpolate(X, scale_factor=2, mode="bicubic"), ValueError, r"mode 'bicubic' \(PyTorch has it"),
        (
            lambda: F.interpolate(X, scale_factor=2, align_corners=True),
            ValueError,
            r"align_corners option can only be set with the interpolating modes.*align_corners=True with mode='nearest'",
        ),
        (
            lambda: F.interpolate(X, scale_factor=2, mode="bed_of_nails", align_corners=False),
            ValueError,
            r"align_corners option can only be set",
        ),
        (
            lambda: F.interpolate(X, scale_factor=0),
            RuntimeError,
            r"scale_factor must be positive and finite, got scale_factor=0",
        ),
        (lambda: F.interpolate(X, scale_factor=-2.0), RuntimeError, r"scale_factor must be positive.*-2.0"),
        (lambda: F.interpolate(X, scale_factor=(2, float("nan"))), RuntimeError, r"scale_factor=\(2, nan\)"),
        (lambda: F.interpolate(X, scale_factor=0.1), RuntimeError, r"scale_factor=0.1 gives output size \(0, 0\)"),
        (lambda: F.interpolate(X, size=0), RuntimeError, r"interpolate: output sizes must be positive, got size=0"),
        (
            lambda: F.interpolate(X, size=(2,)),
            ValueError,
            r"size=\(2,\) has 1 entries but the input \(1, 2, 4, 4\) has 2",
        ),
        (lambda: F.interpolate(X, scale_factor=(2, 2, 2)), ValueError, r"scale_factor=\(2, 2, 2\) has 3 entries"),
        (
            lambda: F.interpolate(X, size=2.5),
            TypeError,
            r"interpolate: size must be an int or a tuple of ints, got 2.5",
        ),
        (lambda: F.interpolate(X, scale_factor="2"), TypeError, r"scale_factor must be a number or a tuple"),
        (
            lambda: F.interpolate(X, scale_factor=2, mode="bilinear", align_corners=1),
            TypeError,
            r"align_corners must be a bool",
        ),
        (
            lambda: F.interpolate(X, size=8, recompute_scale_factor=True),
            ValueError,
            r"recompute_scale_factor is not meaningful",
        ),
        (
            lambda: F.interpolate(X, scale_factor=2, mode="bilinear", antialias=True),
            ValueError,
            r"antialias=True is not supported",
        ),
        (lambda: F.interpolate(X[0], scale_factor=2, mode="bilinear"), ValueError, r"mode 'bilinear' needs 4-D"),
        (lambda: F.interpolate(X, scale_factor=2, mode="linear"), ValueError, r"mode 'linear' needs 3-D"),
        (lambda: F.interpolate(X[0, 0], scale_factor=2), ValueError, r"expected 3-D \(N, C, L\) or 4-D"),
        (
            lambda: F.interpolate(X.long(), scale_factor=2),
            TypeError,
            r"input must be float32 or float64, got dtype int64",
        ),
        (
            lambda: F.interpolate(tinynet.zeros(1, 0, 4, 4), scale_factor=2),
            RuntimeError,
            r"non-zero C and spatial sizes",
        ),
        (
            lambda: F.interpolate(X, scale_factor=1.5, mode="bed_of_nails"),
            ValueError,
            r"bed_of_nails needs integer scale factors, got scale_factor=1.5",
        ),
        (
            lambda: F.interpolate(X, size=(8, 6), mode="bed_of_nails"),
            ValueError,
            r"bed_of_nails needs output sizes that are multiples",
        ),
        (
            lambda: F.pixel_shuffle(tinynet.zeros(1, 6, 2, 2), 2),
            RuntimeError,
            r"pixel_shuffle: the channel dimension input.size\(-3\)=6 must be divisible by upscale_factor\*\*2 = 4",
        ),
        (
            lambda: F.pixel_shuffle(X, 0),
            RuntimeError,
            r"pixel_shuffle: upscale_factor must be positive, got upscale_factor=0",
        ),
        (lambda: F.pixel_shuffle(X, 2.0), TypeError, r"pixel_shuffle: upscale_factor must be an int, got 2.0"),
        (lambda: F.pixel_shuffle(X[0, 0], 1), RuntimeError, r"at least 3 dimensions"),
        (
            lambda: F.pixel_unshuffle(tinynet.zeros(1, 1, 5, 4), 2),
            RuntimeError,
            r"pixel_unshuffle: the height input.size\(-2\)=5 must be divisible by downscale_factor=2",
        ),
        (lambda: F.pixel_unshuffle(tinynet.zeros(1, 1, 4, 5), 2), RuntimeError, r"the width input.size\(-1\)=5"),
        (lambda: nn.Upsample(scale_factor=2, mode="bogus"), ValueError, r"Upsample: unknown mode 'bogus'"),
        (lambda: nn.Upsample(), ValueError, r"Upsample: either size or scale_factor"),
        (lambda: nn.Upsample(scale_factor=-1), RuntimeError, r"Upsample: scale_factor must be positive"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
