"""tinynet.summary: parameters, mult-adds and receptive fields, checked by hand, by formula and against torch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tinynet
import tinynet.nn.functional as F
from tinynet import autograd, nn
from tinynet.autograd import Function


def _rows(s, cls=None):
    return [r for r in s.layers if cls is None or r.class_name == cls]


# ----------------------------------------------------------------------------- the lecture notes (docs/WORKED_EXAMPLES.md)
def test_conv2d_counts_match_the_lecture_notes():
    s = tinynet.summary(nn.Conv2d(3, 12, 3, bias=False), (1, 3, 32, 32))
    assert s.total_params == 324 and s.trainable_params == 324
    assert s.total_mult_adds == 291_600  # (30 x 30) x (3 x 3 x 3) x 12
    (row,) = s.layers
    assert row.output_shape == (1, 12, 30, 30) and row.receptive_field == (3, 3) and row.jump == (1, 1)


def test_depthwise_separable_conv_counts_match_the_lecture_notes():
    s = tinynet.summary(nn.DepthwiseSeparableConv2d(3, 12, 3, bias=False), (1, 3, 32, 32))
    assert s.total_mult_adds == 24_300 + 32_400 == 56_700
    # 27 depthwise (one 3x3 kernel per input channel) + 36 pointwise (12 x 3): not the notes' 144,
    # which count 12 depthwise kernels although their own multiplication count uses three.
    assert s.total_params == 27 + 36 == 63
    assert s.layers[-1].output_shape == (1, 12, 30, 30) and s.layers[-1].receptive_field == (3, 3)


def test_mult_adds_count_groups_transposed_convs_linear_and_norms():
    s = tinynet.summary(nn.Conv2d(4, 8, 3, padding=1, groups=2), (2, 4, 5, 5))
    assert s.total_mult_adds == 2 * 8 * 5 * 5 * (4 // 2 * 3 * 3)  # output elements x C_in/groups x kH x kW
    s = tinynet.summary(nn.ConvTranspose2d(3, 6, 2, stride=2), (1, 3, 4, 4))
    assert s.total_mult_adds == 1 * 3 * 4 * 4 * (6 * 2 * 2)  # input elements x C_out/groups x kH x kW
    s = tinynet.summary(nn.Linear(5, 7), (3, 5))
    assert s.total_mult_adds == 3 * 7 * 5 and s.total_params == 42
    s = tinynet.summary(
        nn.Sequential(nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2), nn.Upsample(scale_factor=2)), (1, 3, 4, 4)
    )
    assert s.total_mult_adds == 3 * 4 * 4  # one per normalised element; activations, pooling, upsampling: 0


# ----------------------------------------------------------------------------- receptive fields by hand
def test_receptive_fields_by_hand_through_stride_and_dilation():
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),  # r 3,  j 1, start 0
        nn.Conv2d(4, 4, 3, stride=2, padding=1),  # r 3 + 2*1 = 5,   j 2, start 0 + (1 - 1)*1 = 0
        nn.Conv2d(4, 4, 3, padding=2, dilation=2),  # k_eff 5: r 5 + 4*2 = 13, j 2, start 0 + (2 - 2)*2 = 0
        nn.MaxPool2d(2),  # r 13 + 1*2 = 15, j 4, start 0 + (0.5 - 0)*2 = 1
        nn.Conv2d(4, 4, 3),  # r 15 + 2*4 = 23, j 4, start 1 + (1 - 0)*4 = 5
    )
    s = tinynet.summary(net, (1, 1, 32, 32), show_start=True)
    rows = s.layers[1:]
    assert [r.output_shape[2] for r in rows] == [32, 16, 16, 8, 6]
    assert [r.receptive_field for r in rows] == [(3, 3), (5, 5), (13, 13), (15, 15), (23, 23)]
    assert [r.jump for r in rows] == [(1, 1), (2, 2), (2, 2), (4, 4), (4, 4)]
    assert [r.start for r in rows] == [(0, 0), (0, 0), (0, 0), (1, 1), (5, 5)]
    assert s.layers[0].receptive_field == (23, 23)  # the Sequential's output is its last layer's


def test_rectangular_kernels_give_per_axis_receptive_fields():
    s = tinynet.summary(nn.Sequential(nn.Conv2d(1, 1, (1, 5), stride=(2, 1)), nn.Conv2d(1, 1, (3, 1))), (1, 1, 16, 16))
    assert s.layers[-1].receptive_field == (1 + 2 * 2, 5) and s.layers[-1].jump == (2, 1)


_layer = st.one_of(
    st.tuples(st.just("conv"), st.integers(1, 5), st.integers(1, 3), st.integers(1, 3)),
    st.tuples(st.just("max"), st.integers(1, 3), st.integers(1, 3), st.integers(1, 2)),
    st.tuples(st.just("avg"), st.integers(1, 3), st.integers(1, 3), st.just(1)),
)


@settings(max_examples=25)
@given(st.lists(_layer, min_size=1, max_size=5), st.booleans())
def test_receptive_fields_follow_the_textbook_recurrence(layers, padded):
    """r' = r + (d(k - 1) + 1 - 1) j and j' = j s for any stack of convolutions and poolings."""
    modules, want, r, j = [], [], 1, 1
    for kind, k, s, d in layers:
        p = (d * (k - 1)) // 2 if padded and kind == "conv" else (k // 2 if padded else 0)
        if kind == "conv":
            modules.append(nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d, bias=False))
        elif kind == "max":
            modules.append(nn.MaxPool2d(k, stride=s, padding=p, dilation=d))
        else:
            modules.append(nn.AvgPool2d(k, stride=s, padding=p))
        r, j = r + d * (k - 1) * j, j * s
        want.append((r, j))
    try:
        s = tinynet.summary(nn.Sequential(*modules), (1, 1, 40, 40))
    except (ValueError, RuntimeError):
        assume(False)  # the stack shrinks the image to nothing
    got = [(r.receptive_field[0], r.jump[0]) for r in s.layers[1:]]
    assert got == want


# ----------------------------------------------------------------------------- receptive fields vs torch
_oracle_layer = st.one_of(
    st.tuples(st.just("conv"), st.integers(1, 3), st.integers(1, 2), st.integers(1, 2)),
    st.tuples(st.just("pool"), st.integers(1, 3), st.integers(1, 2), st.just(1)),
    st.tuples(st.just("convT"), st.integers(1, 3), st.integers(1, 2), st.integers(1, 2)),
    st.tuples(st.sampled_from(["nearest", "bilinear", "bilinear_ac"]), st.just(0), st.just(0), st.just(0)),
)


def _twins(torch, layers):
    ours, theirs = [], []
    for kind, k, s, d in layers:
        if kind == "conv":
            ours.append(nn.Conv2d(1, 1, k, stride=s, dilation=d, bias=False))
            theirs.append(torch.nn.Conv2d(1, 1, k, stride=s, dilation=d, bias=False))
        elif kind == "pool":  # max-pooling's dependencies are its window's: torch's average shows them all
            ours.append(nn.MaxPool2d(k, stride=s))
            theirs.append(torch.nn.AvgPool2d(k, stride=s))
        elif kind == "convT":
            ours.append(nn.ConvTranspose2d(1, 1, k, stride=s, dilation=d, bias=False))
            theirs.append(torch.nn.ConvTranspose2d(1, 1, k, stride=s, dilation=d, bias=False))
        else:
            mode = "nearest" if kind == "nearest" else "bilinear"
            ac = True if kind == "bilinear_ac" else None
            ours.append(nn.Upsample(scale_factor=2, mode=mode, align_corners=ac))
            theirs.append(torch.nn.Upsample(scale_factor=2, mode=mode, align_corners=ac))
    net = torch.nn.Sequential(*theirs).double()
    for m in net.modules():
        if hasattr(m, "weight"):
            torch.nn.init.constant_(m.weight, 1.0)  # positive weights: no dependency cancels out
    return nn.Sequential(*ours), net


@settings(max_examples=20)
@given(st.lists(_oracle_layer, min_size=1, max_size=4), st.integers(5, 11), st.integers(5, 11))
def test_receptive_fields_are_the_support_of_torch_gradients(torch, layers, H, W):
    """For every output position, the input pixels with a nonzero derivative span exactly [lo, hi]."""
    ours, theirs = _twins(torch, layers)
    x = torch.ones(1, 1, H, W, dtype=torch.float64)
    try:
        y = theirs(x)
    except RuntimeError:
        assume(False)
    assume(0 < y.numel() <= 300)
    s = tinynet.summary(ours, (1, 1, H, W))
    last = s.layers[-1]
    assert last.output_shape == tuple(y.shape)
    J = torch.autograd.functional.jacobian(theirs, x).reshape(*y.shape[2:], H, W).numpy()
    (lo_h, hi_h), (lo_w, hi_w) = last.rf_bounds
    for oh in range(y.shape[2]):
        for ow in range(y.shape[3]):
            rows = np.nonzero(J[oh, ow].any(axis=1))[0]
            cols = np.nonzero(J[oh, ow].any(axis=0))[0]
            if len(rows) == 0:  # an output no input reaches (a transposed conv with stride > kernel)
                assert hi_h[oh] < lo_h[oh] or hi_w[ow] < lo_w[ow]
                continue
            assert (lo_h[oh], hi_h[oh], lo_w[ow], hi_w[ow]) == (rows[0], rows[-1], cols[0], cols[-1])


# ----------------------------------------------------------------------------- models that are not a Sequential
class _Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(2, 2, 3, padding=1)
        self.b = nn.Conv2d(2, 2, 3, padding=1)
        self.head = nn.Conv2d(2, 2, 1)

    def forward(self, x):
        return self.head(self.b(F.relu(self.a(x))) + x)


def test_a_skip_connection_sees_the_larger_path():
    s = tinynet.summary(_Residual(), (1, 2, 12, 12))
    assert _rows(s, "Conv2d")[-1].receptive_field == (5, 5)  # max(3 + 2, 1)


@pytest.mark.parametrize("merge", ["concat", "sum", "weighted"])
def test_atrous_pyramid_sees_its_widest_branch(merge):
    s = tinynet.summary(nn.AtrousPyramid(2, 4, rates=(1, 2, 3), merge=merge), (1, 2, 16, 16))
    # 3x3 branches with dilation 1, 2, 3 see 3, 5 and 7 pixels; merged pixel by pixel, the output sees 7.
    assert [r.receptive_field[0] for r in _rows(s, "Conv2d")][:3] == [3, 5, 7]
    assert s.layers[0].receptive_field == (7, 7) and s.layers[0].jump == (1, 1)
    branches = 3 * (4 * 16 * 16 * 2 * 9)
    extra = {"concat": 4 * 16 * 16 * 12, "sum": 0, "weighted": 3 * 4 * 16 * 16}[merge]
    assert s.total_mult_adds == branches + extra and not s.unknown_mult_adds


def test_concatenation_along_width_joins_the_ranges():
    class Side(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3, padding=1)

        def forward(self, x):
            return self.conv(tinynet.cat([x, x], 3))

    s = tinynet.summary(Side(), (1, 1, 8, 8))
    # At the seam a 3x3 window reads the last and the first column: it spans the whole width.
    assert s.layers[-1].receptive_field == (3, 8)


def test_upsampling_divides_the_jump():
    down_up = nn.Sequential(
        nn.Conv2d(1, 1, 3, stride=2, padding=1), nn.Upsample(scale_factor=2), nn.Conv2d(1, 1, 3, padding=1)
    )
    s = tinynet.summary(down_up, (1, 1, 16, 16))
    assert [(r.receptive_field[0], r.jump[0]) for r in s.layers[1:]] == [(3, 2), (3, 1), (5, 1)]
    s = tinynet.summary(
        nn.Sequential(nn.Conv2d(1, 1, 3, stride=2), nn.ConvTranspose2d(1, 1, 2, stride=2)), (1, 1, 9, 9)
    )
    assert [(r.receptive_field[0], r.jump[0]) for r in s.layers[1:]] == [(3, 2), (3, 1)]
    s = tinynet.summary(nn.Upsample(scale_factor=4), (1, 1, 4, 4))
    assert s.layers[0].jump == (0.25, 0.25)


class _FunctionalDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(1, 1, 3, stride=2, padding=1)
        self.out = nn.Conv2d(1, 1, 1)

    def forward(self, x):
        up = F.interpolate(self.down(x), scale_factor=2, mode="bilinear")
        return self.out(up + x)


def test_functional_upsampling_and_skips_between_modules_are_traced():
    s = tinynet.summary(_FunctionalDecoder(), (1, 1, 16, 16))
    # bilinear output u reads down-positions floor(u/2 - 1/4) and the next one: [2p - 1, 2p + 3], 5 pixels.
    assert s.layers[-1].receptive_field == (5, 5) and s.layers[-1].jump == (1, 1)


class _LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


def test_functional_pooling_and_flatten_are_traced():
    s = tinynet.summary(_LeNet(), (1, 1, 28, 28))
    conv1, conv2, fc = s.layers[1:]
    assert conv1.receptive_field == (5, 5)
    assert conv2.receptive_field == (5 + 1 + 4 * 2,) * 2 and conv2.jump == (2, 2)  # through F.max_pool2d
    assert fc.rf_global and "global" in str(s)
    assert s.total_params == 6 * 26 + 16 * 151 + 256 * 10 + 10


def test_cropping_by_slicing_keeps_positions():
    class Crop(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3, padding=1)

        def forward(self, x):
            return self.conv(x[:, :, 2:-2, ::2])

    s = tinynet.summary(Crop(), (1, 1, 12, 12), show_start=True)
    assert s.layers[-1].receptive_field == (3, 5) and s.layers[-1].jump == (1, 2)
    assert s.layers[-1].start == (2, 0)


def test_global_pooling_and_spatial_means():
    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3)

        def forward(self, x):
            return self.conv(x).mean((2, 3))

    s = tinynet.summary(Head(), (1, 1, 10, 10))
    assert s.layers[0].rf_global
    s = tinynet.summary(nn.Sequential(nn.Conv2d(1, 4, 3), nn.AdaptiveAvgPool2d(1)), (1, 1, 10, 10))
    assert s.layers[-1].receptive_field == (10, 10) and not s.layers[-1].rf_global


class _Subsample(Function):
    """An op whose geometry the summary cannot know."""

    @staticmethod
    def forward(ctx, x):
        return x[..., ::2, ::2].copy()

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError


class _Mystery(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(tinynet.ones(1))

    def forward(self, x):
        return _Subsample.apply(x) * self.scale


def test_unknown_geometry_and_mult_adds_are_reported_not_guessed():
    s = tinynet.summary(nn.Sequential(nn.Conv2d(1, 1, 3), _Mystery(), nn.Conv2d(1, 1, 3)), (1, 1, 12, 12))
    assert [r.rf_known for r in s.layers[1:]] == [True, False, False]
    assert s.unknown_mult_adds == ["1"]
    assert s.total_mult_adds == 10 * 10 * 9 + 3 * 3 * 9  # the known layers only
    table = str(s)
    assert "?" in table and "unknown mult-adds, not in the total: 1" in table


# ----------------------------------------------------------------------------- totals, table, side effects
def test_frozen_and_shared_parameters():
    shared = nn.Conv2d(2, 2, 3, padding=1)
    net = nn.Sequential(shared, nn.ReLU(), shared, nn.BatchNorm2d(2))
    net[3].weight.requires_grad_(False)
    s = tinynet.summary(net, (1, 2, 8, 8))
    assert s.total_params == 2 * 2 * 9 + 2 + 4 and s.non_trainable_params == 2
    assert s.trainable_params == s.total_params - 2
    assert [r.class_name for r in s.layers[1:]] == ["Conv2d", "ReLU", "Conv2d", "BatchNorm2d"]
    assert s.total_mult_adds == 2 * (2 * 64 * 18) + 2 * 64  # the shared conv runs twice
    assert s.layers[3].receptive_field == (5, 5)


def test_output_shapes_match_torch(torch):
    ours = nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
        nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1),
        nn.Upsample(scale_factor=1.5, mode="bilinear"),
        nn.AdaptiveAvgPool2d((3, 2)),
        nn.Flatten(),
        nn.Linear(24, 5),
    )
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, stride=2, padding=1),
        torch.nn.BatchNorm2d(8),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
        torch.nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1),
        torch.nn.Upsample(scale_factor=1.5, mode="bilinear"),
        torch.nn.AdaptiveAvgPool2d((3, 2)),
        torch.nn.Flatten(),
        torch.nn.Linear(24, 5),
    )
    shapes = []
    for m in theirs:
        m.register_forward_hook(lambda mod, args, out: shapes.append(tuple(out.shape)))
    theirs.eval()(torch.zeros(2, 3, 19, 23))
    s = tinynet.summary(ours, (2, 3, 19, 23))
    assert [r.output_shape for r in s.layers[1:]] == shapes
    assert s.total_params == sum(p.numel() for p in theirs.parameters())


def test_table_lists_layers_and_depth_hides_rows_but_not_totals():
    net = nn.Sequential(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()), nn.Conv2d(2, 2, 3))
    full = tinynet.summary(net, (1, 1, 10, 10))
    text = str(full)
    for needed in ("Layer (type:depth-idx)", "Output Shape", "Param #", "Mult-Adds", "RF", "Jump", "├─Sequential: 1-1"):
        assert needed in text
    assert "│   └─ReLU: 2-2" in text and "[1, 2, 6, 6]" in text and "Total params: 58" in text
    shallow = tinynet.summary(net, (1, 1, 10, 10), depth=1)
    assert "ReLU" not in str(shallow) and "Sequential: 1-1" in str(shallow)
    assert (shallow.total_params, shallow.total_mult_adds) == (full.total_params, full.total_mult_adds)
    assert repr(full) == text


def test_summary_leaves_no_trace():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Dropout(0.5))
    net.train()
    before = {k: v.data.copy() for k, v in net.state_dict().items()}
    apply_before, pool_before = Function.__dict__["apply"], F.max_pool2d
    tinynet.manual_seed(0)
    expected = tinynet.rand(3)
    tinynet.manual_seed(0)
    tinynet.summary(net, (2, 1, 6, 6), mode="train")
    assert np.array_equal(tinynet.rand(3).data, expected.data)  # the global generator did not move
    assert all(m.training for m in net.modules())
    tinynet.summary(net, (2, 1, 6, 6))  # eval mode: running statistics untouched
    assert all(np.array_equal(v.data, before[k]) for k, v in net.state_dict().items() if "running" in k)
    assert Function.__dict__["apply"] is apply_before and F.max_pool2d is pool_before
    assert autograd._mode.hooks == ()  # its function_hook is gone
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in net.modules())


def test_a_failing_forward_restores_everything():
    class Broken(nn.Module):
        def forward(self, x):
            raise RuntimeError("boom")

    apply_before = Function.__dict__["apply"]
    with pytest.raises(RuntimeError, match="boom"):
        tinynet.summary(Broken(), (1, 1, 4, 4))
    assert Function.__dict__["apply"] is apply_before and autograd._mode.hooks == ()


def test_input_data_and_several_inputs():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3)

        def forward(self, x, y):
            return self.conv(x) + y

    s = tinynet.summary(Two(), [(1, 1, 6, 6), (1, 1, 4, 4)])
    assert s.output_shape == (1, 1, 4, 4) and s.layers[-1].receptive_field == (3, 3)
    s = tinynet.summary(nn.Conv2d(1, 1, 3), input_data=tinynet.zeros(1, 1, 5, 5))
    assert s.input_size == (1, 1, 5, 5) and s.layers[0].output_shape == (1, 1, 3, 3)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"model": "net", "input_size": (1, 3)}, TypeError, "model must be a tinynet.nn.Module, got str"),
        ({"input_size": None}, ValueError, "exactly one of input_size and input_data"),
        (
            {"input_size": (1, 3), "input_data": tinynet.zeros(1, 3)},
            ValueError,
            "exactly one of input_size and input_data",
        ),
        ({"input_size": (1, 3), "mode": "test"}, ValueError, "mode must be 'eval', 'train' or 'same', got 'test'"),
        ({"input_size": (1, 3), "depth": -1}, ValueError, "depth must be a non-negative int, got -1"),
        ({"input_size": "1x3"}, TypeError, "input_size must be a shape like"),
        (
            {"input_size": [(1, 3), (1, -3)]},
            TypeError,
            r"input_size entries must be tuples of non-negative ints, got \(1, -3\)",
        ),
        (
            {"input_data": [tinynet.zeros(1, 3), "x"]},
            TypeError,
            r"input_data\[1\] must be a Tensor or numpy array, got str",
        ),
    ],
)
def test_summary_bad_arguments(kwargs, error, match):
    kwargs = {"model": nn.Linear(3, 2), **kwargs}
    with pytest.raises(error, match=match):
        tinynet.summary(**kwargs)
