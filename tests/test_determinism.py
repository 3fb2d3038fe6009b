"""Determinism: one seed, one result, bit for bit; and a run stopped and resumed ends where it would have.

The run below has every source of randomness a small segmentation model has: the
initialisation, DataLoader shuffling, Dropout2d masks, and kernels that run in
parallel (Numba ``prange`` loops) or call BLAS (the GEMMs of the convolutions).

* In one process, the same seed twice gives bit-identical losses and weights.
* In two fresh processes (with different Python hash seeds) it gives the same bits.
* A run stopped mid-epoch in one process (``save_checkpoint``) and resumed in another
  (``load_checkpoint``) ends with exactly the weights of the uninterrupted run.
  (The example script's own ``--resume`` is tested in test_train_segmentation.py.)
* Numba's thread count does not change a single bit: every ``prange`` iteration owns
  its outputs and sums in a fixed order. BLAS is different: OpenBLAS's GEMM gives
  other roundings with another thread count, so results are bit-identical for a given
  ``OPENBLAS_NUM_THREADS`` (checked here with 1 and 2 threads in fresh processes),
  not across thread counts.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinynet
import tinynet.nn.functional as F
from tinynet import data, nn, optim
from tinynet.io import load_checkpoint, save_checkpoint

HERE = Path(__file__).resolve().parent
EPOCHS, STOP_EPOCH, STOP_STEP = 2, 1, 2  # the interrupted run stops after 2 steps of the second epoch


def _setup(seed: int = 0):
    tinynet.manual_seed(seed)
    rng = np.random.default_rng(123)  # the data itself is fixed; the seed drives everything else
    images = tinynet.tensor(rng.standard_normal((24, 3, 16, 16)).astype(np.float32))
    labels = tinynet.tensor(rng.integers(0, 3, (24, 16, 16)))
    loader = data.DataLoader(data.TensorDataset(images, labels), batch_size=8, shuffle=True)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout2d(0.3),
        nn.Conv2d(8, 8, 3, padding=1),
        nn.ReLU(),
        nn.ConvTranspose2d(8, 3, 2, stride=2),
    )
    opt = optim.Adam(model.parameters(), lr=1e-2)
    return model, opt, loader


def _step(model, opt, x, y) -> float:
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()


def train(stop: bool = False, resume_from: str | None = None, checkpoint: str | None = None) -> str:
    """Train EPOCHS epochs (or stop / resume mid-epoch); returns a hash of the losses and every weight and buffer."""
    model, opt, loader = _setup()
    losses, start_epoch = [], 0
    if resume_from is not None:
        tinynet.manual_seed(999)  # the resumed run must not depend on the fresh process's own state
        ckpt = load_checkpoint(resume_from, model=model, optimizer=opt, dataloader=loader)
        start_epoch, losses = ckpt["epoch"], list(ckpt["extra"]["losses"])
    for epoch in range(start_epoch, EPOCHS):
        model.train()
        for i, (x, y) in enumerate(loader):  # a resumed loader yields the rest of its interrupted epoch
            losses.append(_step(model, opt, x, y))
            if stop and epoch == STOP_EPOCH and i + 1 == STOP_STEP:
                save_checkpoint(
                    checkpoint,
                    model=model,
                    optimizer=opt,
                    dataloader=loader,
                    epoch=epoch,
                    step=i + 1,
                    extra={"losses": losses},
                )
                return "stopped"
    h = hashlib.sha256(np.array(losses, np.float64).tobytes())
    for value in model.state_dict().values():
        h.update(value.data.tobytes())
    return h.hexdigest()


def _in_subprocess(*args: str, hash_seed: str = "0", blas_threads: str | None = None) -> str:
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    if blas_threads is not None:
        env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = blas_threads
    code = f"import sys; sys.path.insert(0, {str(HERE)!r}); import test_determinism as t; t._main({list(args)!r})"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def _main(args: list) -> None:
    mode = args[0]
    if mode == "straight":
        print(train())
    elif mode == "stop":
        print(train(stop=True, checkpoint=args[1]))
    elif mode == "resume":
        print(train(resume_from=args[1]))
    elif mode == "blas":
        print(_gemm_and_conv_hash())


# --------------------------------------------------------------------------- tests
def test_same_seed_twice_in_one_process_is_bit_identical():
    assert train() == train()


def test_a_different_seed_gives_a_different_run():
    """Guards the test above: it would pass vacuously if the seed changed nothing."""
    model_a, _, _ = _setup(0)
    model_b, _, _ = _setup(1)
    assert not np.array_equal(model_a[0].weight.data, model_b[0].weight.data)


def test_two_fresh_processes_give_the_same_bits():
    in_process = train()
    first = _in_subprocess("straight", hash_seed="1")
    second = _in_subprocess("straight", hash_seed="2")
    assert first == second == in_process


def test_a_run_stopped_in_one_process_and_resumed_in_another_ends_bit_identical(tmp_path):
    ckpt = str(tmp_path / "stopped.npz")
    assert _in_subprocess("stop", ckpt) == "stopped"
    assert _in_subprocess("resume", ckpt) == train()


def test_resume_in_process_from_a_mid_epoch_checkpoint(tmp_path):
    ckpt = str(tmp_path / "stopped.npz")
    assert train(stop=True, checkpoint=ckpt) == "stopped"
    tinynet.manual_seed(12345)  # state left over from anything else must not matter
    np.random.seed(7)
    assert train(resume_from=ckpt) == train()


def _gemm_and_conv_hash() -> str:
    rng = np.random.default_rng(0)
    x = tinynet.tensor(rng.standard_normal((8, 16, 24, 24)).astype(np.float32), requires_grad=True)
    w = tinynet.tensor(rng.standard_normal((32, 16, 3, 3)).astype(np.float32), requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    y.backward(tinynet.ones(*y.shape))
    h = hashlib.sha256()
    for a in (y.data, x.grad.data, w.grad.data):
        h.update(a.tobytes())
    return h.hexdigest()


def _parallel_kernels_hash() -> str:
    """Every parallel kernel family on arrays above the pool kernels' one-thread GRAIN_SIZE (32768 elements)."""
    rng = np.random.default_rng(1)
    x = tinynet.tensor(rng.standard_normal((8, 16, 32, 32)).astype(np.float32), requires_grad=True)
    w = tinynet.tensor(rng.standard_normal((16, 16, 3, 3)).astype(np.float32), requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    pooled, idx = F.max_pool2d(y, 2, return_indices=True)
    outs = [
        F.max_unpool2d(pooled, idx, 2),
        F.avg_pool2d(y, 3, stride=2, padding=1),
        F.adaptive_avg_pool2d(y, 5),
        F.interpolate(pooled, scale_factor=2, mode="bilinear"),
        F.interpolate(pooled, scale_factor=2, mode="nearest"),
        F.conv_transpose2d(pooled, w, stride=2),
    ]
    loss = sum((o * o).mean() for o in outs)
    loss.backward()
    h = hashlib.sha256()
    for a in [o.data for o in outs] + [x.grad.data, w.grad.data]:
        h.update(a.tobytes())
    return h.hexdigest()


def test_numba_thread_count_changes_no_bit():
    numba = pytest.importorskip("numba")
    if numba.config.DISABLE_JIT or numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs the JIT and at least 2 Numba threads")
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _parallel_kernels_hash(), train()
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = _parallel_kernels_hash(), train()
    finally:
        numba.set_num_threads(threads)
    assert one == many


@pytest.mark.parametrize("blas_threads", ["1", "2"])
def test_blas_is_deterministic_for_a_given_thread_count(blas_threads):
    """Same OPENBLAS_NUM_THREADS, same bits (a different count may round differently: see the module docstring)."""
    first = _in_subprocess("blas", blas_threads=blas_threads, hash_seed="3")
    second = _in_subprocess("blas", blas_threads=blas_threads, hash_seed="4")
    assert first == second
