"""End to end: the same model trained for a few steps in tinynet and in torch, from the same state_dict and
on the same batches, ends with the same parameters and buffers (to float32 tolerance).

This checks the pieces together: layers, BatchNorm's running statistics, the fused cross-entropy, the
tape, the optimizers' update rules and a learning-rate schedule.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinynet
from tinynet import nn, optim


def _mlp(lib):
    # No bias before BatchNorm: its true gradient is 0, and Adam would blow float32 rounding noise
    # in that gradient up to full-size steps, different in each framework.
    return lib.Sequential(
        lib.Linear(10, 16, bias=False),
        lib.BatchNorm1d(16),
        lib.ReLU(),
        lib.Linear(16, 16),
        lib.Tanh(),
        lib.Linear(16, 3),
    )


def _train(torch, build, make_opt, x_shape, target_shape, classes, steps=6, schedule=False):
    ours, theirs = build(nn), build(torch.nn)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in ours.state_dict().items()})
    opt, ref = make_opt(optim, ours.parameters()), make_opt(torch.optim, theirs.parameters())
    if schedule:
        sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=steps)
        ref_sched = torch.optim.lr_scheduler.OneCycleLR(ref, max_lr=0.05, total_steps=steps)
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(steps):
        x = rng.standard_normal(x_shape).astype(np.float32)
        t = rng.integers(0, classes, target_shape)
        opt.zero_grad()
        ref.zero_grad()
        out = nn.functional.cross_entropy(ours(tinynet.tensor(x)), tinynet.tensor(t), label_smoothing=0.05)
        ref_out = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(t), label_smoothing=0.05)
        out.backward()
        ref_out.backward()
        np.testing.assert_allclose(out.item(), ref_out.item(), rtol=1e-4)
        losses.append(out.item())
        opt.step()
        ref.step()
        if schedule:
            sched.step()
            ref_sched.step()
    ref_state = theirs.state_dict()
    for k, v in ours.state_dict().items():
        np.testing.assert_allclose(v.numpy(), ref_state[k].numpy(), rtol=2e-4, atol=2e-5, err_msg=k)
        assert v.dtype == ref_state[k].numpy().dtype, k
    return losses


def _cnn(lib):
    # Conv2d + BatchNorm2d + ReLU + pooling, twice, then a Linear classifier on 4 classes.
    return lib.Sequential(
        lib.Conv2d(3, 8, 3, padding=1, bias=False),
        lib.BatchNorm2d(8),
        lib.ReLU(),
        lib.MaxPool2d(2),
        lib.Conv2d(8, 12, 3, padding=1, bias=False),
        lib.BatchNorm2d(12),
        lib.ReLU(),
        lib.AvgPool2d(2),
        lib.Flatten(),
        lib.Linear(12 * 2 * 2, 4),
    )


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda lib, p: lib.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-3),
        lambda lib, p: lib.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
        lambda lib, p: lib.Adam(p, lr=0.01),
        lambda lib, p: lib.AdamW(p, lr=0.01, weight_decay=0.05),
    ],
    ids=["sgd-momentum", "sgd-nesterov", "adam", "adamw"],
)
def test_mlp_training_matches_torch(torch, make_opt):
    _train(torch, _mlp, make_opt, (8, 10), (8,), classes=3)


def _fcn(lib):
    # A tiny fully convolutional segmenter: per-pixel logits for 4 classes.
    return lib.Sequential(
        lib.Conv2d(3, 8, 3, padding=1, bias=False),
        lib.BatchNorm2d(8),
        lib.ReLU(),
        lib.Conv2d(8, 4, 1),
    )


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda lib, p: lib.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-4),
        lambda lib, p: lib.Adam(p, lr=0.005),
    ],
    ids=["sgd-momentum", "adam"],
)
def test_small_cnn_training_matches_torch(torch, make_opt):
    _train(torch, _cnn, make_opt, (6, 3, 8, 8), (6,), classes=4, steps=5)


def test_segmentation_training_with_per_pixel_cross_entropy_matches_torch(torch):
    _train(torch, _fcn, lambda lib, p: lib.SGD(p, lr=0.1, momentum=0.9), (4, 3, 8, 8), (4, 8, 8), classes=4)


def test_mlp_training_with_onecycle_schedule_matches_torch(torch):
    _train(torch, _mlp, lambda lib, p: lib.SGD(p, lr=0.1, momentum=0.9), (8, 10), (8,), classes=3, schedule=True)


def test_training_reduces_the_loss():
    tinynet.manual_seed(0)
    model = _mlp(nn)
    opt = optim.Adam(model.parameters(), lr=0.01)
    rng = np.random.default_rng(1)
    x = tinynet.tensor(rng.standard_normal((64, 10)).astype(np.float32))
    t = tinynet.tensor((x.data[:, 0] > 0).astype(np.int64) + (x.data[:, 1] > 0))  # learnable labels 0..2
    first = None
    for _ in range(60):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), t)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert loss.item() < 0.5 * first
