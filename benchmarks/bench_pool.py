"""Pooling and upsampling, forward + backward, tinynet vs torch (issue 4's shapes).

Each callable runs one training-style step of the op at batch 16, 32 channels,
64x64: forward from an input that requires grad, then backward of a fixed
output gradient into that input.

    python benchmarks/run.py pool
"""

from __future__ import annotations

import numpy as np

from benchmarks.harness import Case

N, C, H = 16, 32, 64


def _pair(tiny_op, torch_op, x: np.ndarray, seed: int = 1):
    """Two callables doing forward(x) + backward(fixed gradient) on each side; ``*_op`` return the output."""
    import torch

    import tinynet

    torch.set_num_threads(2)
    tx = tinynet.tensor(x, requires_grad=True)
    px = torch.tensor(x, requires_grad=True)
    gy = np.random.default_rng(seed).standard_normal(tiny_op(tx).shape, dtype=np.float32)
    t_gy, p_gy = tinynet.tensor(gy), torch.tensor(gy)

    def run_tiny():
        tx.grad = None
        tiny_op(tx).backward(t_gy)

    def run_torch():
        px.grad = None
        torch_op(px).backward(p_gy)

    return run_tiny, run_torch


def cases() -> list[Case]:
    import torch
    import torch.nn.functional as TF

    import tinynet
    import tinynet.nn.functional as F

    x = np.random.default_rng(0).standard_normal((N, C, H, H), dtype=np.float32)
    shape = f"N{N} C{C} {H}x{H}"
    out = []

    tiny, ref = _pair(
        lambda t: F.max_pool2d(t, 2, 2, return_indices=True)[0],
        lambda t: TF.max_pool2d(t, 2, 2, return_indices=True)[0],
        x,
    )
    out.append(Case("max_pool2d fwd+bwd", f"{shape} k2 s2 +indices", tiny, ref))

    tiny, ref = _pair(lambda t: F.avg_pool2d(t, 2), lambda t: TF.avg_pool2d(t, 2), x)
    out.append(Case("avg_pool2d fwd+bwd", f"{shape} k2 s2", tiny, ref))

    # Unpool the 2x2 max-pool of x with its switches: 32x32 values -> 64x64 planes.
    pooled, idx = TF.max_pool2d(torch.tensor(x), 2, 2, return_indices=True)
    t_idx, p_idx = tinynet.tensor(idx.numpy()), idx
    tiny, ref = _pair(lambda t: F.max_unpool2d(t, t_idx, 2), lambda t: TF.max_unpool2d(t, p_idx, 2), pooled.numpy())
    out.append(Case("max_unpool2d fwd+bwd", f"N{N} C{C} {H // 2}x{H // 2} -> {H}x{H} k2 s2", tiny, ref))

    tiny, ref = _pair(
        lambda t: F.interpolate(t, scale_factor=2, mode="bilinear"),
        lambda t: TF.interpolate(t, scale_factor=2, mode="bilinear"),
        x,
    )
    out.append(Case("interpolate fwd+bwd", f"{shape} bilinear x2", tiny, ref))
    return out
