"""Convolution layers: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d (PyTorch twins), and the
lecture notes' compositions DepthwiseSeparableConv2d and AtrousPyramid.

A layer is right when it is PyTorch's: the same state_dict keys and shapes, the same repr, the
same initialisation distribution, and identical outputs and gradients once it holds a torch
layer's weights.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinynet
from tinynet import nn

LAYERS = [
    ("Conv1d", (4, 6, 3), dict(stride=2, padding=1), (2, 4, 9)),
    ("Conv1d", (4, 6, 4), dict(padding="same", dilation=2, groups=2, bias=False), (4, 7)),
    ("Conv2d", (3, 8, 3), dict(padding="same", dilation=2), (2, 3, 9, 8)),
    ("Conv2d", (4, 6, (3, 2)), dict(stride=(2, 1), padding=(1, 0), groups=2), (2, 4, 7, 6)),
    ("Conv2d", (4, 6, 3), dict(padding="valid", bias=False), (4, 6, 5)),
    ("ConvTranspose1d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1), (2, 4, 5)),
    (
        "ConvTranspose2d",
        (4, 8, (3, 2)),
        dict(stride=2, output_padding=1, groups=2, bias=False, dilation=2),
        (2, 4, 4, 5),
    ),
    ("ConvTranspose2d", (6, 3, 4), dict(stride=2, padding=1), (6, 5, 5)),
]
LAYER_IDS = [f"{name}-{i}" for i, (name, *_) in enumerate(LAYERS)]


def _twins(torch, name, args, kwargs, dtype=np.float64):
    torch.manual_seed(0)
    theirs = (
        getattr(torch.nn, name)(*args, **kwargs).double()
        if dtype == np.float64
        else getattr(torch.nn, name)(*args, **kwargs)
    )
    mine = getattr(nn, name)(*args, **kwargs, dtype=dtype)
    mine.load_state_dict(theirs.state_dict())
    return mine, theirs


@pytest.mark.parametrize("name, args, kwargs, x_shape", LAYERS, ids=LAYER_IDS)
def test_state_dict_keys_and_shapes_match_torch(torch, name, args, kwargs, x_shape):
    mine = getattr(nn, name)(*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    assert [(k, tuple(v.shape)) for k, v in mine.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]
    assert all(v.dtype == np.float32 for v in mine.state_dict().values())


@pytest.mark.parametrize("name, args, kwargs, x_shape", LAYERS, ids=LAYER_IDS)
def test_repr_matches_torch(torch, name, args, kwargs, x_shape):
    assert repr(getattr(nn, name)(*args, **kwargs)) == repr(getattr(torch.nn, name)(*args, **kwargs))


@pytest.mark.parametrize("name, args, kwargs, x_shape", LAYERS, ids=LAYER_IDS)
def test_with_torch_weights_outputs_and_gradients_are_torchs(torch, name, args, kwargs, x_shape):
    mine, theirs = _twins(torch, name, args, kwargs)
    x = np.random.default_rng(0).standard_normal(x_shape)
    tx, px = tinynet.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, py = mine(tx), theirs(px)
    np.testing.assert_allclose(y.data, py.detach().numpy(), rtol=1e-12, atol=1e-12)
    gy = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(tinynet.tensor(gy))
    py.backward(torch.tensor(gy))
    np.testing.assert_allclose(tx.grad.data, px.grad.numpy(), rtol=1e-12, atol=1e-12)
    for (k, p), (k2, q) in zip(mine.named_parameters(), theirs.named_parameters()):
        assert k == k2
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-12, atol=1e-12, err_msg=k)


def test_float32_layer_gives_float32_output_and_gradients(torch):
    mine, theirs = _twins(torch, "Conv2d", (3, 4, 3), dict(padding=1), dtype=np.float32)
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    y = mine(tinynet.tensor(x))
    y.sum().backward()
    assert y.dtype == np.float32 and mine.weight.grad.dtype == np.float32 and mine.bias.grad.dtype == np.float32
    np.testing.assert_allclose(y.data, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "layer, fan_in",
    [
        (lambda: nn.Conv2d(8, 16, 3, groups=2), 4 * 9),
        (lambda: nn.Conv1d(6, 4, 5), 6 * 5),
        (lambda: nn.ConvTranspose2d(8, 12, (3, 2), groups=2), 6 * 6),  # PyTorch: fan_in from (in, out/groups, k...)
    ],
)
def test_reset_parameters_is_pytorchs_uniform_with_bound_one_over_sqrt_fan_in(layer, fan_in):
    tinynet.manual_seed(0)
    bound = 1 / math.sqrt(fan_in)
    ws, bs = [], []
    for _ in range(60):
        m = layer()
        ws.append(m.weight.data.ravel())
        bs.append(m.bias.data.ravel())
    w, b = np.concatenate(ws), np.concatenate(bs)
    for v in (w, b):
        assert np.abs(v).max() <= bound
        assert np.abs(v).max() > 0.95 * bound  # fills the interval ...
        assert abs(v.std() - bound / math.sqrt(3)) < 0.06 * bound  # ... uniformly (std of U(-b, b) is b/√3)
        assert abs(v.mean()) < 0.06 * bound


def test_initialisation_draws_from_tinynets_generator():
    tinynet.manual_seed(3)
    a = nn.Conv2d(3, 4, 3)
    tinynet.manual_seed(3)
    b = nn.Conv2d(3, 4, 3)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)


def test_attributes_are_pytorchs(torch):
    mine, theirs = nn.ConvTranspose2d(4, 6, 3, stride=2), torch.nn.ConvTranspose2d(4, 6, 3, stride=2)
    for attr in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "output_padding"):
        assert getattr(mine, attr) == getattr(theirs, attr), attr
    assert mine.groups == theirs.groups and mine.transposed is theirs.transposed is True
    assert mine.padding_mode == theirs.padding_mode == "zeros"
    assert nn.Conv2d(3, 4, 3, padding="same").padding == torch.nn.Conv2d(3, 4, 3, padding="same").padding


@pytest.mark.parametrize("output_size", [(9, 9), (10, 10), (9, 10), [2, 6, 10, 9]])
def test_conv_transpose2d_output_size_picks_output_padding_like_torch(torch, output_size):
    mine, theirs = _twins(torch, "ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1))
    x = np.random.default_rng(0).standard_normal((2, 4, 5, 5))
    y = mine(tinynet.tensor(x), output_size=output_size)
    py = theirs(torch.tensor(x), output_size=output_size)
    assert y.shape == tuple(py.shape)
    np.testing.assert_allclose(y.data, py.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_conv_transpose2d_output_size_out_of_range():
    up = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1)
    with pytest.raises(
        ValueError, match=r"requested an output size of \(11, 9\), but valid sizes range from \(9, 9\) to \(10, 10\)"
    ):
        up(tinynet.randn(2, 4, 5, 5), output_size=(11, 9))


def test_conv2d_module_is_thin_it_calls_the_functional_op(monkeypatch):
    calls = []
    real = nn.conv.F.conv2d
    monkeypatch.setattr(nn.conv.F, "conv2d", lambda *a: calls.append(a) or real(*a))
    conv = nn.Conv2d(3, 4, 3)
    conv(tinynet.randn(1, 3, 5, 5))
    assert len(calls) == 1 and calls[0][1] is conv.weight and calls[0][2] is conv.bias


def test_module_input_errors_come_from_the_functional_op():
    with pytest.raises(ValueError, match=r"conv2d: input has 4 channels but weight expects 3"):
        nn.Conv2d(3, 8, 3)(tinynet.randn(1, 4, 5, 5))


# --------------------------------------------------------------------------- construction errors
@pytest.mark.parametrize(
    "make, error, message",
    [
        (
            lambda: nn.Conv2d(3, 8, 3, groups=2),
            ValueError,
            r"Conv2d: in_channels \(3\) must be divisible by groups \(2\)",
        ),
        (
            lambda: nn.Conv2d(4, 6, 3, groups=4),
            ValueError,
            r"Conv2d: out_channels \(6\) must be divisible by groups \(4\)",
        ),
        (lambda: nn.Conv2d(4, 6, 3, groups=0), ValueError, r"Conv2d: groups must be a positive int, got 0"),
        (lambda: nn.Conv2d(0, 6, 3), ValueError, r"Conv2d: in_channels must be a positive int, got 0"),
        (lambda: nn.Conv2d(3, 6, 0), ValueError, r"Conv2d: kernel_size must be >= 1, got 0"),
        (lambda: nn.Conv2d(3, 6, 3, stride=0), ValueError, r"Conv2d: stride must be >= 1, got 0"),
        (lambda: nn.Conv2d(3, 6, 3, padding=-1), ValueError, r"Conv2d: padding must be >= 0, got -1"),
        (lambda: nn.Conv2d(3, 6, 3, padding="full"), ValueError, r"Conv2d: padding must be 'valid', 'same'"),
        (
            lambda: nn.Conv2d(3, 6, 3, stride=2, padding="same"),
            ValueError,
            r"padding='same' is not supported for strided",
        ),
        (
            lambda: nn.Conv2d(3, 6, 3, padding_mode="reflect"),
            NotImplementedError,
            r"padding_mode='reflect' is not implemented",
        ),
        (lambda: nn.Conv2d(3, 6, 3, padding_mode="mirror"), ValueError, r"padding_mode must be one of"),
        (lambda: nn.Conv2d(3, 6, 3, dtype=tinynet.int64), TypeError, r"dtype must be a floating-point type"),
        (lambda: nn.ConvTranspose2d(3, 6, 3, padding="same"), TypeError, r"ConvTranspose2d: padding must be an int"),
        (lambda: nn.ConvTranspose2d(3, 6, 3, padding_mode="circular"), ValueError, r'only "zeros" padding mode'),
    ],
)
def test_bad_constructor_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


# --------------------------------------------------------------------------- depthwise separable
def test_depthwise_separable_has_depthwise_and_pointwise_submodules():
    sep = nn.DepthwiseSeparableConv2d(3, 12, 3, padding=1)
    assert [(k, v.shape) for k, v in sep.state_dict().items()] == [
        ("depthwise.weight", (3, 1, 3, 3)),
        ("depthwise.bias", (3,)),
        ("pointwise.weight", (12, 3, 1, 1)),
        ("pointwise.bias", (12,)),
    ]
    assert sep.depthwise.groups == 3 and sep.pointwise.kernel_size == (1, 1)


def test_depthwise_separable_equals_torchs_grouped_then_pointwise_convs(torch):
    sep = nn.DepthwiseSeparableConv2d(4, 6, 3, stride=2, padding=2, dilation=2, dtype=tinynet.float64)
    twin = torch.nn.Sequential(
        torch.nn.Conv2d(4, 4, 3, stride=2, padding=2, dilation=2, groups=4), torch.nn.Conv2d(4, 6, 1)
    ).double()
    twin.load_state_dict(
        {
            k.replace("depthwise", "0").replace("pointwise", "1"): torch.tensor(v.data)
            for k, v in sep.state_dict().items()
        }
    )
    x = np.random.default_rng(0).standard_normal((2, 4, 9, 8))
    tx, px = tinynet.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, py = sep(tx), twin(px)
    np.testing.assert_allclose(y.data, py.detach().numpy(), rtol=1e-12, atol=1e-12)
    y.sum().backward()
    py.sum().backward()
    np.testing.assert_allclose(tx.grad.data, px.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_depthwise_separable_costs_the_lecture_notes_multiplications_and_fewer_weights():
    # Lecture notes, part 001 (docs/WORKED_EXAMPLES.md): 32x32x3 image, 3x3 kernels, 12 output channels, 30x30 output.
    full = nn.Conv2d(3, 12, 3, bias=False)
    sep = nn.DepthwiseSeparableConv2d(3, 12, 3, bias=False)
    out = sep(tinynet.randn(1, 3, 32, 32))
    assert out.shape == full(tinynet.randn(1, 3, 32, 32)).shape == (1, 12, 30, 30)
    hw = out.shape[2] * out.shape[3]
    mults_full = hw * int(np.prod(full.weight.shape))  # each output value: one dot product per filter
    mults_sep = hw * int(np.prod(sep.depthwise.weight.shape)) + hw * int(np.prod(sep.pointwise.weight.shape))
    assert (mults_full, mults_sep) == (291_600, 24_300 + 32_400) == (291_600, 56_700)
    assert sum(p.numel() for p in full.parameters()) == 324
    assert sum(p.numel() for p in sep.parameters()) == 27 + 36


# --------------------------------------------------------------------------- atrous pyramid
@pytest.mark.parametrize("merge", ["concat", "sum", "weighted"])
def test_atrous_pyramid_keeps_the_size_and_matches_the_lecture_notes_three_merges(torch, merge):
    rates = (1, 2, 3)
    aspp = nn.AtrousPyramid(3, 4, rates=rates, merge=merge, dtype=tinynet.float64)
    if merge == "weighted":
        aspp.merge_weight.data[:] = [0.5, -1.0, 2.0]
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6))
    y = aspp(tinynet.tensor(x))
    assert y.shape == (2, 4, 7, 6)
    sd = {k: torch.tensor(v.data) for k, v in aspp.state_dict().items()}
    px = torch.tensor(x)
    branches = [
        torch.nn.functional.conv2d(px, sd[f"branches.{i}.weight"], sd[f"branches.{i}.bias"], padding=r, dilation=r)
        for i, r in enumerate(rates)
    ]
    if merge == "concat":
        want = torch.nn.functional.conv2d(torch.cat(branches, 1), sd["project.weight"], sd["project.bias"])
    elif merge == "sum":
        want = sum(branches)
    else:
        want = sum(a * b for a, b in zip(sd["merge_weight"], branches))
    np.testing.assert_allclose(y.data, want.numpy(), rtol=1e-12, atol=1e-12)


def test_atrous_pyramid_parameters_and_their_names():
    keys = {m: list(nn.AtrousPyramid(2, 3, rates=(1, 4), merge=m).state_dict()) for m in ("concat", "sum", "weighted")}
    branches = ["branches.0.weight", "branches.0.bias", "branches.1.weight", "branches.1.bias"]
    assert keys["concat"] == branches + ["project.weight", "project.bias"]
    assert keys["sum"] == branches
    assert keys["weighted"] == ["merge_weight"] + branches  # own parameters before submodules, as in PyTorch
    aspp = nn.AtrousPyramid(2, 3, rates=(1, 4), merge="weighted")
    np.testing.assert_array_equal(aspp.merge_weight.data, [0.5, 0.5])
    assert [b.dilation for b in aspp.branches] == [(1, 1), (4, 4)] and [b.padding for b in aspp.branches] == [
        (1, 1),
        (4, 4),
    ]
    assert isinstance(aspp.branches, nn.ModuleList)


def test_atrous_pyramid_weighted_merge_learns_its_weights():
    aspp = nn.AtrousPyramid(2, 3, rates=(1, 2), merge="weighted", dtype=tinynet.float64)
    x = tinynet.tensor(np.random.default_rng(0).standard_normal((1, 2, 5, 5)))
    aspp(x).sum().backward()
    # dL/dmerge_weight[r] = sum of branch r's output
    for r, branch in enumerate(aspp.branches):
        np.testing.assert_allclose(aspp.merge_weight.grad.data[r], branch(x).data.sum(), rtol=1e-12)


def test_atrous_pyramid_accepts_an_unbatched_input():
    aspp = nn.AtrousPyramid(2, 3)
    assert aspp(tinynet.randn(2, 8, 8)).shape == (3, 8, 8)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(rates=()), ValueError, r"at least one dilation rate"),
        (dict(rates=(1, 0)), ValueError, r"every rate must be a positive int, got 0"),
        (dict(rates=2), TypeError, r"rates must be a sequence of positive ints, got 2"),
        (dict(merge="mean"), ValueError, r"merge must be one of \('concat', 'sum', 'weighted'\), got 'mean'"),
    ],
)
def test_atrous_pyramid_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        nn.AtrousPyramid(2, 3, **kwargs)
