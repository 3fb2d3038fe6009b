"""tinynet.viz: every plot renders to a valid PNG with the Agg backend; draw_graph's DOT has the right ops and edges."""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys

import numpy as np
import pytest

import tinynet
import tinynet.nn.functional as F
from tinynet import nn, viz


def _check_png(path, min_side=150):
    """The file exists, is a PNG (signature and IHDR), has a sensible size and is not a blank canvas."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert min_side <= width <= 20000 and min_side <= height <= 20000, (width, height)
    import matplotlib.image

    pixels = matplotlib.image.imread(str(path))
    assert pixels.shape[:2] == (height, width) and pixels[..., :3].std() > 0.01  # something was drawn
    return width, height


def test_import_tinynet_does_not_import_matplotlib():
    code = "import sys, tinynet; print('matplotlib' in sys.modules); tinynet.viz; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True"]


def test_plots_never_touch_pyplot(tmp_path):
    """Figures are built directly, so no GUI backend, window or global figure list is involved (Agg-safe)."""
    code = (
        "import sys, tinynet, numpy as np; from tinynet import viz; "
        f"viz.plot_training_curves({{'loss': [1.0, 0.5]}}, path={str(tmp_path / 'c.png')!r}); "
        f"viz.draw_graph((tinynet.ones(2, requires_grad=True) * 2).sum(), path={str(tmp_path / 'g.png')!r}); "
        "print('matplotlib.pyplot' in sys.modules)"
    )
    env = {**os.environ, "MPLBACKEND": "Agg"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.split() == ["False"]
    _check_png(tmp_path / "c.png")
    _check_png(tmp_path / "g.png", min_side=50)


# ----------------------------------------------------------------------------- training curves
def test_training_curves_png(tmp_path):
    history = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1.3 / e, "val_miou": 1 - 1 / e} for e in range(1, 8)]
    fig = viz.plot_training_curves(history, path=tmp_path / "curves.png", title="run 1", logy=True)
    _check_png(tmp_path / "curves.png")
    loss_ax, metric_ax = fig.axes
    assert [line.get_label() for line in loss_ax.lines] == ["train_loss", "val_loss"]
    assert [line.get_label() for line in metric_ax.lines] == ["val_miou"]
    np.testing.assert_array_equal(loss_ax.lines[0].get_xdata(), np.arange(1, 8))
    assert loss_ax.get_yscale() == "log"


def test_training_curves_accept_tensors_and_none():
    fig = viz.plot_training_curves({"loss": [tinynet.tensor(1.0), 0.5, None]})
    assert np.isnan(fig.axes[0].lines[0].get_ydata()[2])


@pytest.mark.parametrize(
    "history, kwargs, error, match",
    [
        ({}, {}, ValueError, "the history is empty"),
        ("loss", {}, TypeError, "history must be a dict of lists or a list of per-epoch dicts"),
        ({"loss": ["a"]}, {}, TypeError, "series 'loss' holds non-numeric values"),
        ({"loss": []}, {}, ValueError, "series 'loss' is empty"),
        ({"loss": [1, 2]}, {"x": "step"}, KeyError, "x='step' is not a series"),
        ({"epoch": [1, 2, 3], "loss": [1, 2]}, {}, ValueError, "series 'loss' has 2 values but 'epoch' has 3"),
        ({"epoch": [1, 2]}, {}, ValueError, "no series to plot besides the x axis"),
    ],
)
def test_training_curves_bad_arguments(history, kwargs, error, match):
    with pytest.raises(error, match=match):
        viz.plot_training_curves(history, **kwargs)


# ----------------------------------------------------------------------------- segmentation
def test_class_colors_are_fixed_and_distinct():
    colors = viz.class_colors(21)
    assert colors.shape == (21, 3) and colors.dtype == np.uint8
    assert len({tuple(c) for c in colors}) == 21
    assert colors[:3].tolist() == [[0, 0, 0], [128, 0, 0], [0, 128, 0]]  # PASCAL VOC's palette
    np.testing.assert_array_equal(viz.class_colors(5), colors[:5])  # a class keeps its colour whatever n is


def test_colorize_maps_labels_and_ignore_index():
    rgb = viz.colorize(tinynet.tensor([[0, 1], [2, 255]]), num_classes=3)
    assert rgb.shape == (2, 2, 3)
    assert rgb[0, 1].tolist() == [128, 0, 0] and rgb[1, 1].tolist() == [255, 255, 255]
    with pytest.raises(ValueError, match="label 3 is out of range for num_classes=3"):
        viz.colorize(np.array([[3]]), num_classes=3)
    with pytest.raises(ValueError, match="must be a 2-D integer label map"):
        viz.colorize(np.zeros((2, 2)))


def test_segmentation_panels_png(tmp_path):
    rng = np.random.default_rng(0)
    images = tinynet.from_numpy(rng.random((3, 3, 16, 16)).astype(np.float32))
    target = np.zeros((3, 16, 16), dtype=np.int64)
    target[:, 4:10, 4:10] = 1
    target[:, 12:] = 2
    logits = tinynet.from_numpy(rng.normal(size=(3, 3, 16, 16)).astype(np.float32))
    fig = viz.plot_segmentation(images, target, logits, class_names=["bg", "square", "bar"], path=tmp_path / "seg.png")
    _check_png(tmp_path / "seg.png")
    assert [ax.get_title() for ax in fig.axes[:3]] == ["image", "truth", "prediction"]
    assert len(fig.axes) == 9
    truth_pixels = fig.axes[1].images[0].get_array()
    np.testing.assert_array_equal(truth_pixels[5, 5], viz.class_colors(3)[1])
    pred_pixels = fig.axes[2].images[0].get_array()
    np.testing.assert_array_equal(pred_pixels, viz.colorize(logits.data[0].argmax(0), 3))


def test_segmentation_single_sample_and_grey_image(tmp_path):
    viz.plot_segmentation(
        np.ones((16, 16)), np.eye(16, dtype=np.int64), np.eye(16, dtype=np.int64), path=tmp_path / "s.png"
    )
    _check_png(tmp_path / "s.png", min_side=100)


@pytest.mark.parametrize(
    "target, prediction, kwargs, match",
    [
        (np.zeros((4, 4)), np.zeros((4, 4), np.int64), {}, r"target must be \(H, W\) or \(N, H, W\) integer labels"),
        (
            np.zeros((4, 4), np.int64),
            np.zeros((4, 5), np.int64),
            {},
            "prediction .* and target .* have different shapes",
        ),
        (np.zeros((4, 4), np.int64), np.zeros((4, 4)), {}, "float predictions are logits"),
        (
            np.zeros((4, 4), np.int64),
            np.zeros((4, 4), np.int64),
            {"class_names": ["a", "b"], "num_classes": 3},
            "2 class_names for 3 classes",
        ),
    ],
)
def test_segmentation_bad_arguments(target, prediction, kwargs, match):
    with pytest.raises(ValueError, match=match):
        viz.plot_segmentation(np.zeros((3, 4, 4)), target, prediction, **kwargs)


# ----------------------------------------------------------------------------- feature maps
class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.MaxPool2d(2), nn.ReLU())
        self.head = nn.Flatten()

    def forward(self, x):
        return self.head(self.features(x))


def test_feature_maps_come_from_a_forward_hook(tmp_path):
    net = _Net()
    x = tinynet.randn(2, 6, 8, 8)
    fmap = viz.feature_maps(net, "features.0", x)
    np.testing.assert_array_equal(fmap.data, F.max_pool2d(x, 2).data)
    assert not net.features[0]._forward_hooks  # the hook is removed again
    fig = viz.plot_feature_maps(net, net.features[1], x, sample=1, max_maps=5, path=tmp_path / "maps.png")
    _check_png(tmp_path / "maps.png")
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(drawn) == 5
    np.testing.assert_array_equal(drawn[3].images[0].get_array(), np.maximum(F.max_pool2d(x, 2).data[1, 3], 0))


def test_feature_maps_bad_arguments():
    net = _Net()
    x = tinynet.randn(1, 2, 4, 4)
    with pytest.raises(KeyError, match="no submodule 'features.9'"):
        viz.feature_maps(net, "features.9", x)
    with pytest.raises(ValueError, match="ReLU is not a submodule of the model"):
        viz.feature_maps(net, nn.ReLU(), x)
    with pytest.raises(ValueError, match=r"must be \(N, C, H, W\) or \(N, C, L\), got shape \(1, 8\)"):
        viz.plot_feature_maps(net, "head", x)
    with pytest.raises(IndexError, match="sample 3 is out of range for a batch of 1"):
        viz.plot_feature_maps(net, "features", x, sample=3)

    class Skips(nn.Module):
        def __init__(self):
            super().__init__()
            self.unused = nn.ReLU()

        def forward(self, x):
            return x

    with pytest.raises(RuntimeError, match="layer 'unused' was not called"):
        viz.feature_maps(Skips(), "unused", x)


# ----------------------------------------------------------------------------- the tape
def _dot_graph(dot: str):
    labels = dict(re.findall(r'^\s+(n\d+) \[label="([^"]*)"', dot, flags=re.M))
    edges = re.findall(r"^\s+(n\d+) -> (n\d+)", dot, flags=re.M)
    first_line = {k: v.split("\\n")[0] for k, v in labels.items()}
    return first_line, [(first_line[a], first_line[b]) for a, b in edges]


def test_draw_graph_dot_has_the_ops_and_edges():
    w = nn.Parameter(tinynet.randn(3, 4))
    b = nn.Parameter(tinynet.zeros(4))
    x = tinynet.randn(2, 3)
    loss = (x @ w + b).relu().sum()
    dot = viz.draw_graph(loss, {"w": w, "b": b}, format="dot")
    assert dot == viz.to_dot(loss, {"w": w, "b": b})
    assert dot.startswith("digraph tape {") and "rankdir=LR" in dot
    labels, edges = _dot_graph(dot)
    assert sorted(labels.values()) == sorted(["MatMul", "Add", "ReLU", "Sum", "w", "b", "(2, 3)", "output"])
    assert sorted(edges) == sorted(
        [
            ("(2, 3)", "MatMul"),
            ("w", "MatMul"),
            ("MatMul", "Add"),
            ("b", "Add"),
            ("Add", "ReLU"),
            ("ReLU", "Sum"),
            ("Sum", "output"),
        ]
    )
    assert 'label="w\\n(3, 4)"' in dot  # leaves carry their name and shape


def test_draw_graph_shares_reused_nodes_and_labels_multiple_outputs():
    x = tinynet.randn(4, 5, requires_grad=True)
    h = x.tanh()
    values, _ = (h * h).max(dim=1)
    labels, edges = _dot_graph(viz.to_dot(values.sum()))
    assert list(labels.values()).count("Tanh") == 1
    assert edges.count(("Tanh", "Mul")) == 2  # h is used twice
    assert ("(4, 5)", "Tanh") in edges  # an unnamed leaf is labelled by its shape
    assert '[label="[0]"]' in viz.to_dot(values.sum())  # MaxDim has two outputs (values, indices)


def test_draw_graph_of_a_model_renders_to_png(tmp_path):
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    loss = F.cross_entropy(net(tinynet.randn(5, 4)), tinynet.tensor([0, 1, 2, 0, 1]))
    fig = viz.draw_graph(loss, net.named_parameters(), path=tmp_path / "tape.png")
    _check_png(tmp_path / "tape.png")
    texts = {t.get_text().split("\n")[0] for t in fig.axes[0].texts}
    assert {"0.weight", "0.bias", "2.weight", "2.bias", "ReLU", "output"} <= texts
    viz.draw_graph(loss, format="dot", path=tmp_path / "tape.dot")
    assert (tmp_path / "tape.dot").read_text().startswith("digraph tape {")


def test_draw_graph_of_a_leaf_and_bad_arguments():
    labels, edges = _dot_graph(viz.to_dot(tinynet.ones(2, requires_grad=True)))
    assert list(labels.values()) == ["(2,)"] and edges == []
    with pytest.raises(TypeError, match="expected a Tensor, got list"):
        viz.draw_graph([1, 2])
    with pytest.raises(ValueError, match="format must be 'figure' or 'dot', got 'svg'"):
        viz.draw_graph(tinynet.ones(1), format="svg")
