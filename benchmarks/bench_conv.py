"""conv2d and conv_transpose2d, forward + backward, tinynet vs torch (issue 3's shapes).

Each callable runs one training-style step of the op: forward with a bias, then
backward of a fixed output gradient into the input, the weight and the bias
(inputs require grad, as inside a network).

    python benchmarks/run.py conv
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np

from benchmarks.harness import Case

BATCH = 16

# (C_in, H, C_out) for conv2d, 3x3, padding 1, stride 1 (issue 3).
CONV2D_SHAPES = [(16, 64, 16), (32, 32, 32), (64, 16, 64), (3, 64, 16)]
# (C_in, H, C_out, stride, output_padding) for conv_transpose2d, 3x3, padding 1: a decoder's
# x2 upsampling (32x32 -> 64x64 with 32 -> 16 channels) and same-size transposed convs.
CONV_TRANSPOSE2D_SHAPES = [(32, 32, 16, 2, 1), (32, 32, 32, 1, 0), (16, 64, 16, 1, 0)]


def _pair(make_tiny, make_torch, x_shape, w_shape, b_len, seed=0):
    import torch

    import tinynet

    torch.set_num_threads(2)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape, dtype=np.float32)
    w = (rng.standard_normal(w_shape, dtype=np.float32) * 0.1).astype(np.float32)
    b = rng.standard_normal(b_len, dtype=np.float32)

    tx, tw, tb = (tinynet.tensor(a, requires_grad=True) for a in (x, w, b))
    gy_shape = make_tiny(tx, tw, tb).shape
    gy = rng.standard_normal(gy_shape, dtype=np.float32)
    t_gy = tinynet.tensor(gy)

    def run_tiny():
        tx.grad = tw.grad = tb.grad = None
        make_tiny(tx, tw, tb).backward(t_gy)

    px, pw, pb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    p_gy = torch.tensor(gy)

    def run_torch():
        px.grad = pw.grad = pb.grad = None
        make_torch(px, pw, pb).backward(p_gy)

    return run_tiny, run_torch


def cases() -> list[Case]:
    import torch

    import tinynet.nn.functional as F

    out = []
    for cin, h, cout in CONV2D_SHAPES:
        tiny, ref = _pair(
            lambda x, w, b: F.conv2d(x, w, b, padding=1),
            lambda x, w, b: torch.nn.functional.conv2d(x, w, b, padding=1),
            (BATCH, cin, h, h),
            (cout, cin, 3, 3),
            cout,
        )
        out.append(Case("conv2d fwd+bwd", f"N{BATCH} C{cin}->{cout} {h}x{h} k3 p1", tiny, ref))
    for cin, h, cout, s, op in CONV_TRANSPOSE2D_SHAPES:
        tiny, ref = _pair(
            lambda x, w, b, s=s, op=op: F.conv_transpose2d(x, w, b, stride=s, padding=1, output_padding=op),
            lambda x, w, b, s=s, op=op: torch.nn.functional.conv_transpose2d(
                x, w, b, stride=s, padding=1, output_padding=op
            ),
            (BATCH, cin, h, h),
            (cin, cout, 3, 3),
            cout,
        )
        ho = (h - 1) * s - 2 + 3 + op
        out.append(Case("conv_transpose2d fwd+bwd", f"N{BATCH} C{cin}->{cout} {h}->{ho} k3 s{s} p1", tiny, ref))
    return out


# ----------------------------------------------------------------------------- compile time
_FIRST_STEP = textwrap.dedent(
    """
    import time
    t0 = time.perf_counter()
    import numpy as np
    import tinynet
    import tinynet.nn.functional as F
    t1 = time.perf_counter()
    for dt in (np.float32, np.float64):
        x = tinynet.tensor(np.ones((2, 3, 8, 8), dtype=dt), requires_grad=True)
        w = tinynet.tensor(np.ones((4, 3, 3, 3), dtype=dt), requires_grad=True)
        y = F.conv2d(x, w, padding=1)
        y.sum().backward()
        z = y.detach().requires_grad_(True)
        F.conv_transpose2d(z, w, stride=2).sum().backward()
    t2 = time.perf_counter()
    print(f"{t1 - t0:.3f} {t2 - t1:.3f}")
    """
)


def compile_times() -> tuple[float, float, float]:
    """(import s, first conv steps s with an empty numba cache, same with the cache warm).

    The first steps call every conv kernel in float32 and float64; with an empty cache
    that is their full compile time.
    """
    cache = tempfile.mkdtemp(prefix="tinynet-numba-cache-")
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    try:
        runs = []
        for _ in range(2):  # cold, then warm
            res = subprocess.run([sys.executable, "-c", _FIRST_STEP], env=env, capture_output=True, text=True)
            if res.returncode:
                raise RuntimeError(f"compile-time probe failed:\n{res.stderr}")
            runs.append([float(v) for v in res.stdout.split()])
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return runs[0][0], runs[0][1], runs[1][1]


def reports():
    def compile_report() -> str:
        t0 = time.perf_counter()
        imp, cold, warm = compile_times()
        return (
            "## conv kernels: numba compile time\n\n"
            f"First conv2d + conv_transpose2d forward/backward in float32 and float64 in a fresh process: "
            f"{cold:.2f} s with an empty NUMBA_CACHE_DIR (compiling im2col/col2im), {warm:.2f} s with the "
            f"cache warm (import tinynet: {imp:.2f} s). Measured in {time.perf_counter() - t0:.0f} s.\n"
        )

    return [compile_report]
