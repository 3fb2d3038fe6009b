"""Training-toolkit ops, forward + backward, tinynet vs torch: BatchNorm2d, linear, cross-entropy and Dice on
segmentation maps, dropout2d, and one optimizer step (SGD with momentum, Adam) over a model's worth of parameters.

Shapes follow the segmentation example (batch 16, 64x64 inputs, 4 classes; encoder widths 16/32/64).

    python benchmarks/run.py toolkit
"""

from __future__ import annotations

import numpy as np

from benchmarks.harness import Case

BATCH = 16
BN_SHAPES = [(16, 64), (32, 32), (64, 16)]  # (C, H=W)
CLASSES, SIZE = 4, 64


def _torch():
    import torch

    torch.set_num_threads(2)
    return torch


def _batchnorm(c: int, h: int) -> Case:
    import tinynet
    from tinynet import nn

    torch = _torch()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, c, h, h), dtype=np.float32)
    g = rng.standard_normal(x.shape, dtype=np.float32)
    bn, ref = nn.BatchNorm2d(c), torch.nn.BatchNorm2d(c)
    tx, tg = tinynet.tensor(x, requires_grad=True), tinynet.tensor(g)
    px, pg = torch.tensor(x, requires_grad=True), torch.tensor(g)

    def run_tiny():
        tx.grad = None
        bn(tx).backward(tg)

    def run_torch():
        px.grad = None
        ref(px).backward(pg)

    return Case("batch_norm2d (train)", f"N{BATCH} C{c} {h}x{h}", run_tiny, run_torch)


def _linear() -> Case:
    import tinynet
    import tinynet.nn.functional as F

    torch = _torch()
    rng = np.random.default_rng(1)
    x = rng.standard_normal((256, 512), dtype=np.float32)
    w = rng.standard_normal((256, 512), dtype=np.float32) * 0.05
    b = rng.standard_normal(256, dtype=np.float32)
    g = rng.standard_normal((256, 256), dtype=np.float32)
    t = [tinynet.tensor(a, requires_grad=True) for a in (x, w, b)]
    p = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    tg, pg = tinynet.tensor(g), torch.tensor(g)

    def run_tiny():
        F.linear(*t).backward(tg)

    def run_torch():
        torch.nn.functional.linear(*p).backward(pg)

    return Case("linear", "N256 512->256", run_tiny, run_torch)


def _segmentation_loss(name: str) -> Case:
    import tinynet
    import tinynet.nn.functional as F

    torch = _torch()
    rng = np.random.default_rng(2)
    x = rng.standard_normal((BATCH, CLASSES, SIZE, SIZE), dtype=np.float32)
    t = rng.integers(0, CLASSES, (BATCH, SIZE, SIZE))
    tx, tt = tinynet.tensor(x, requires_grad=True), tinynet.tensor(t)
    px, pt = torch.tensor(x, requires_grad=True), torch.tensor(t)
    if name == "cross_entropy":

        def run_tiny():
            F.cross_entropy(tx, tt).backward()

        def run_torch():
            torch.nn.functional.cross_entropy(px, pt).backward()

    else:
        onehot = torch.nn.functional.one_hot(pt, CLASSES).permute(0, 3, 1, 2).float()

        def run_tiny():
            F.dice_loss(tx, tt).backward()

        def run_torch():  # the usual hand-written soft Dice in torch (it has no built-in one)
            p = torch.softmax(px, dim=1)
            inter = (p * onehot).sum(dim=(2, 3))
            total = p.sum(dim=(2, 3)) + onehot.sum(dim=(2, 3))
            (1 - (2 * inter + 1) / (total + 1)).mean().backward()

    return Case(name, f"N{BATCH} C{CLASSES} {SIZE}x{SIZE}", run_tiny, run_torch)


def _dropout2d() -> Case:
    import tinynet
    import tinynet.nn.functional as F

    torch = _torch()
    x = np.random.default_rng(3).standard_normal((BATCH, 32, 32, 32), dtype=np.float32)
    tx, px = tinynet.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    tg, pg = tinynet.ones(*x.shape), torch.ones(x.shape)

    def run_tiny():
        F.dropout2d(tx, 0.2).backward(tg)

    def run_torch():
        torch.nn.functional.dropout2d(px, 0.2).backward(pg)

    return Case("dropout2d", f"N{BATCH} C32 32x32", run_tiny, run_torch)


def _optimizer_step(name: str) -> Case:
    import tinynet
    from tinynet import nn, optim

    torch = _torch()
    # about 300k parameters in conv-like tensors, as in the example's model
    shapes = [(64, 64, 3, 3)] * 4 + [(32, 32, 3, 3)] * 4 + [(64,)] * 8 + [(16, 3, 3, 3)]
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
    grads = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
    ours = [nn.Parameter(tinynet.tensor(a)) for a in arrays]
    theirs = [torch.nn.Parameter(torch.tensor(a)) for a in arrays]
    for p, q, g in zip(ours, theirs, grads):
        p.grad, q.grad = tinynet.tensor(g), torch.tensor(g)
    if name == "SGD":
        opt, ref = optim.SGD(ours, lr=1e-4, momentum=0.9), torch.optim.SGD(theirs, lr=1e-4, momentum=0.9)
    else:
        opt, ref = optim.Adam(ours, lr=1e-4), torch.optim.Adam(theirs, lr=1e-4)
    count = sum(a.size for a in arrays)
    return Case("optimizer step", f"{name} {count // 1000}k params", opt.step, ref.step)


def cases() -> list[Case]:
    return (
        [_batchnorm(c, h) for c, h in BN_SHAPES]
        + [_linear(), _segmentation_loss("cross_entropy"), _segmentation_loss("dice"), _dropout2d()]
        + [_optimizer_step("SGD"), _optimizer_step("Adam")]
    )
