"""Anomaly mode: the first NaN or inf, forward or backward, raises an error naming the op and the user's line.

``tinynet.autograd.detect_anomaly()`` checks every forward output and every backward
gradient. A forward error names the Function, the public op it ran in and the line of
the caller; a backward error names the node and where it was created (the line of
this file that built it), since the backward walk itself runs far from that line.
Training inside the context works and gives bit-identical results.
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

import tinynet
import tinynet.nn.functional as F
from tinynet import nn, optim
from tinynet.autograd import AnomalyError, detect_anomaly, is_anomaly_enabled

# The overflows below are deliberate; numpy's RuntimeWarnings about them are noise here.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _line_of(marker: str) -> int:
    """The line number of this file's line that contains ``marker`` (a comment tag)."""
    lines = inspect.getsource(inspect.getmodule(_line_of)).splitlines()
    hits = [i + 1 for i, line in enumerate(lines) if f"# {marker}" in line]
    assert len(hits) == 1, f"marker {marker!r} must appear on exactly one line"
    return hits[0]


def _assert_points_here(error: AnomalyError, marker: str) -> None:
    """The message names this file and the line tagged with ``marker``."""
    text = str(error)
    assert re.search(rf"test_anomaly\.py, line {_line_of(marker)}\b", text), text


def f32(*values, requires_grad=True):
    return tinynet.tensor(np.array(values, dtype=np.float32), requires_grad=requires_grad)


# --------------------------------------------------------------------------- forward
def test_log_of_zero_is_caught_in_forward_at_the_callers_line():
    x = f32(1.0, 0.0)
    with (
        detect_anomaly(),
        pytest.raises(AnomalyError, match=r"^Log forward produced inf in output 0 \(shape \(2,\)\)") as info,
    ):
        x.log()  # <log-forward>
    assert "The Log op ran in log, called at" in str(info.value)
    _assert_points_here(info.value, "<log-forward>")


def test_log_of_a_negative_number_is_nan():
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"^Log forward produced nan"):
        f32(-1.0).log()


def test_division_by_zero_is_caught_in_forward():
    x, zero = f32(1.0, 2.0), f32(1.0, 0.0, requires_grad=False)
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"^Div forward produced inf .*\n.*in __truediv__") as info:
        _ = x / zero  # <div-forward>
    _assert_points_here(info.value, "<div-forward>")


def test_conv2d_with_an_infinite_weight_is_caught_in_forward():
    x = tinynet.ones(1, 1, 4, 4, requires_grad=True)
    w = tinynet.tensor(np.full((1, 1, 3, 3), np.inf, np.float32), requires_grad=True)
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"^Conv forward produced inf .*\n.*in conv2d") as info:
        F.conv2d(x, w)  # <conv-forward>
    _assert_points_here(info.value, "<conv-forward>")


def test_cross_entropy_of_nan_logits_is_caught_in_forward():
    logits = tinynet.tensor(np.array([[np.nan, 0.0, 1.0]], np.float32), requires_grad=True)
    with (
        detect_anomaly(),
        pytest.raises(AnomalyError, match=r"^CrossEntropy forward produced nan .*\n.*in cross_entropy"),
    ):
        F.cross_entropy(logits, tinynet.tensor([0]))


def test_the_first_op_that_produces_the_anomaly_is_named_not_a_later_one():
    x = f32(0.5, 0.0)
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"^Log forward"):
        ((x.log() * 2.0) + 1.0).sum()


def test_anomaly_is_caught_without_gradients_too():
    """The forward check does not depend on recording: no_grad code is checked as well."""
    with detect_anomaly(), tinynet.no_grad(), pytest.raises(AnomalyError, match=r"^Sqrt forward produced nan"):
        f32(-4.0).sqrt()


# --------------------------------------------------------------------------- backward
def test_sqrt_backward_at_zero_names_the_node_and_the_line_that_created_it():
    x = f32(4.0, 0.0)
    with detect_anomaly():
        y = x.sqrt()  # <sqrt-created>
        loss = (y * 3.0).sum()  # Mul's backward is finite: Sqrt's is the first to overflow
        with pytest.raises(AnomalyError, match=r"^Sqrt backward produced inf in gradient 0 \(shape \(2,\)\)") as info:
            loss.backward()
    assert "The Sqrt node was created in sqrt, called at" in str(info.value)
    assert "Full stack where it was created" in str(info.value)
    _assert_points_here(info.value, "<sqrt-created>")


def test_conv2d_backward_overflow_names_the_conv_and_its_line():
    # Forward is finite (9e20); the weight gradient correlates 1e20 inputs with 1e30 gradients: inf in float32.
    x = tinynet.tensor(np.full((1, 1, 4, 4), 1e20, np.float32), requires_grad=True)
    w = tinynet.ones(1, 1, 3, 3, requires_grad=True)
    with detect_anomaly():
        y = F.conv2d(x, w)  # <conv-created>
        with pytest.raises(AnomalyError, match=r"^Conv backward produced inf in gradient 1 ") as info:
            y.backward(tinynet.full(y.shape, 1e30))
    assert "The Conv node was created in conv2d" in str(info.value)
    _assert_points_here(info.value, "<conv-created>")


def test_log_backward_of_a_tiny_input_overflows():
    x = f32(1e-38, 1.0)  # log is finite, its derivative 1/x = 1e38 times 10 overflows float32
    with detect_anomaly():
        y = x.log()  # <log-created>
        with pytest.raises(AnomalyError, match=r"^Log backward produced inf") as info:
            y.backward(tinynet.full(y.shape, 10.0))
    _assert_points_here(info.value, "<log-created>")


def test_div_backward_overflow_names_the_division():
    a, b = f32(1.0, 1.0), f32(1e-20, 1.0)
    with detect_anomaly():
        q = a / b  # <div-created>: 1e20 is finite, d(a/b)/db = -a/b² = -1e40 is not
        with pytest.raises(AnomalyError, match=r"^Div backward produced inf in gradient 1") as info:
            q.sum().backward()
    _assert_points_here(info.value, "<div-created>")


def test_cross_entropy_backward_names_its_node():
    logits = f32(0.0, 1.0, 2.0).reshape(1, 3)
    with detect_anomaly():
        loss = F.cross_entropy(logits, tinynet.tensor([1]))  # <ce-created>
        with pytest.raises(AnomalyError, match=r"^CrossEntropy backward produced (nan|inf)") as info:
            loss.backward(tinynet.tensor(np.float32(np.inf)))
    _assert_points_here(info.value, "<ce-created>")


def test_nodes_made_inside_layers_point_at_the_users_call():
    tinynet.manual_seed(0)
    conv = nn.Conv2d(1, 1, 3)
    x = tinynet.tensor(np.full((1, 1, 4, 4), 1e20, np.float32), requires_grad=True)
    with detect_anomaly():
        y = conv(x)  # <layer-call>
        with pytest.raises(AnomalyError, match=r"^Conv backward produced inf") as info:
            y.backward(tinynet.full(y.shape, 1e30))
    _assert_points_here(info.value, "<layer-call>")


# --------------------------------------------------------------------------- normal use
def _train(steps: int, anomaly: bool) -> list:
    tinynet.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout2d(0.2),
        nn.Conv2d(8, 4, 1),
        nn.Upsample(scale_factor=2, mode="bilinear"),
    )
    opt = optim.Adam(model.parameters(), lr=1e-2)
    x = tinynet.randn(4, 3, 8, 8)
    target = tinynet.randint(0, 4, (4, 8, 8))
    losses = []
    with detect_anomaly() if anomaly else tinynet.enable_grad():
        for _ in range(steps):
            opt.zero_grad()
            out = model(x)
            loss = F.cross_entropy(out, target, label_smoothing=0.1) + F.dice_loss(out, target)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return losses + [p.detach().numpy().copy() for p in model.parameters()]


def test_training_inside_anomaly_mode_works_and_changes_nothing():
    plain = _train(4, anomaly=False)
    checked = _train(4, anomaly=True)
    assert plain[:4] == checked[:4] and plain[0] > plain[3], "anomaly mode must not change the numbers"
    for a, b in zip(plain[4:], checked[4:]):
        np.testing.assert_array_equal(a, b)


def test_anomaly_mode_is_scoped_and_works_as_a_decorator():
    @detect_anomaly()
    def risky():
        assert is_anomaly_enabled()
        return f32(0.0).log()

    assert not is_anomaly_enabled()
    with pytest.raises(AnomalyError):
        risky()
    assert not is_anomaly_enabled(), "the mode is restored after an error"
    assert np.isinf(f32(0.0).log().item()), "outside the context nothing is checked"
    with detect_anomaly(check_nan=False):
        assert np.isinf(f32(0.0).log().item())
