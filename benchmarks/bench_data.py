"""Data loading and checkpoints, tinynet vs torch: one shuffled epoch of a DataLoader over a TensorDataset, and
saving/loading a model-sized state_dict (tinynet.save/load vs torch.save/torch.load(weights_only=True)).

    python benchmarks/run.py data
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

from benchmarks.harness import Case

SAMPLES, BATCH = 2048, 64


def _torch():
    import torch

    torch.set_num_threads(int(os.environ.get("BENCH_TORCH_THREADS", "2")))
    return torch


def _epoch() -> Case:
    import tinynet
    from tinynet.data import DataLoader, TensorDataset

    torch = _torch()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((SAMPLES, 3, 32, 32), dtype=np.float32)
    y = rng.integers(0, 10, SAMPLES)
    ours = DataLoader(
        TensorDataset(tinynet.from_numpy(x), tinynet.from_numpy(y)), batch_size=BATCH, shuffle=True, seed=0
    )
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=BATCH, shuffle=True
    )

    def run(loader):
        def epoch():
            for _batch in loader:
                pass

        return epoch

    return Case("DataLoader epoch", f"{SAMPLES} x (3, 32, 32) batch {BATCH} shuffled", run(ours), run(theirs))


def _checkpoint(save: bool) -> Case:
    import tinynet

    torch = _torch()
    rng = np.random.default_rng(0)
    shapes = {f"layer{i}.weight": (256, 256, 3, 3) if i % 2 else (256, 256) for i in range(6)}
    arrays = {k: rng.standard_normal(s, dtype=np.float32) for k, s in shapes.items()}
    ours = {k: tinynet.from_numpy(v) for k, v in arrays.items()}
    theirs = {k: torch.from_numpy(v) for k, v in arrays.items()}
    folder = tempfile.mkdtemp(prefix="bench_data_")
    p_ours, p_theirs = os.path.join(folder, "ours.npz"), os.path.join(folder, "theirs.pt")
    tinynet.save(ours, p_ours)
    torch.save(theirs, p_theirs)
    mb = sum(v.nbytes for v in arrays.values()) / 1e6
    if save:
        return Case(
            "checkpoint save",
            f"{mb:.0f} MB state_dict",
            lambda: tinynet.save(ours, p_ours),
            lambda: torch.save(theirs, p_theirs),
            notes="tinynet writes atomically and fsyncs (file and directory); torch.save does neither",
        )
    return Case(
        "checkpoint load",
        f"{mb:.0f} MB state_dict",
        lambda: tinynet.load(p_ours),
        lambda: torch.load(p_theirs, weights_only=True),
    )


def cases() -> list:
    return [_epoch(), _checkpoint(save=True), _checkpoint(save=False)]
