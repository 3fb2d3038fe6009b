"""The example's training step, tinynet vs a torch twin; its peak memory; numba compile times.

* ``cases()``: one SGD training step (forward, cross-entropy, backward, step) of
  ``tinynet.models.EncoderDecoder`` at batch 16 on 3x64x64 images, for each upsampling
  mode, against ``benchmarks.torch_twin`` loaded from the same state_dict, and of the
  full-resolution encoder-decoder of benchmarks/fullres.py against its torch build (the
  first losses are checked to agree before timing).
* ``reports()``: peak RSS of 10 such steps in a fresh process per framework, and the
  compile time of every kernel the five models use, with an empty and a warm numba cache.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

from benchmarks.harness import Case

ROOT = Path(__file__).resolve().parent.parent
BATCH, SIZE, CLASSES = 16, 64, 4
MODES = ("bilinear", "transposed", "nearest", "bed_of_nails", "unpool")


def _batch(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, 3, SIZE, SIZE)).astype(np.float32)
    y = rng.integers(0, CLASSES, (BATCH, SIZE, SIZE))
    return x, y


def models(name: str):
    """(tinynet model, torch twin holding the same weights) for ``name``: an upsampling mode of the
    example's EncoderDecoder, or "fullres" (benchmarks/fullres.py)."""
    import torch

    import tinynet
    from benchmarks.fullres import full_resolution_net
    from benchmarks.torch_twin import load_into, torch_twin
    from tinynet.models import EncoderDecoder

    tinynet.manual_seed(0)
    if name == "fullres":
        model = full_resolution_net(tinynet.nn, tinynet.nn.functional)
        return model, load_into(full_resolution_net(torch.nn, torch.nn.functional), model)
    model = EncoderDecoder(upsample=name)
    return model, load_into(torch_twin(name), model)


def step_functions(name: str):
    """(tinynet step, torch step): one SGD training step (forward, cross-entropy, backward, step) each."""
    import torch

    import tinynet
    import tinynet.nn.functional as F
    from tinynet import optim

    model, twin = models(name)
    x, y = _batch()
    tx, ty = tinynet.tensor(x), tinynet.tensor(y)
    px, py = torch.from_numpy(x), torch.from_numpy(y)
    opt, ref = (
        optim.SGD(model.parameters(), lr=0.01, momentum=0.9),
        torch.optim.SGD(twin.parameters(), lr=0.01, momentum=0.9),
    )

    def tiny():
        opt.zero_grad()
        loss = F.cross_entropy(model(tx), ty)
        loss.backward()
        opt.step()
        return loss

    def ref_step():
        ref.zero_grad()
        loss = torch.nn.functional.cross_entropy(twin(px), py)
        loss.backward()
        ref.step()
        return loss

    return tiny, ref_step


def _step_pair(name: str):
    tiny, ref_step = step_functions(name)
    a, b = tiny().item(), ref_step().item()
    if abs(a - b) > 1e-4 * abs(b):
        raise RuntimeError(f"training step {name}: first losses differ, tinynet {a} vs torch {b}")
    return tiny, ref_step


def cases() -> list[Case]:
    out = []
    for mode in MODES:
        tiny, ref = _step_pair(mode)
        out.append(Case("training step (SGD)", f"EncoderDecoder {mode}, N{BATCH} 3x{SIZE}x{SIZE}", tiny, ref, 1.3))
    tiny, ref = _step_pair("fullres")
    out.append(
        Case("training step (SGD)", f"full-resolution encoder-decoder, N{BATCH} 3x{SIZE}x{SIZE}", tiny, ref, 1.3)
    )
    return out


# ----------------------------------------------------------------------------- peak memory
_MEMORY_PROBE = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {root!r})
    import numpy as np

    def rss_mb(field):
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024

    rng = np.random.default_rng(0)
    x = rng.standard_normal(({batch}, 3, {size}, {size})).astype(np.float32)
    y = rng.integers(0, {classes}, ({batch}, {size}, {size}))
    if {framework!r} == "tinynet":
        import tinynet, tinynet.nn.functional as F
        from tinynet import optim
        from tinynet.models import EncoderDecoder
        model = EncoderDecoder(upsample={mode!r})
        opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        tx, ty = tinynet.tensor(x), tinynet.tensor(y)
        loss_of = lambda: F.cross_entropy(model(tx), ty)
    else:
        import torch
        from benchmarks.torch_twin import torch_twin
        torch.set_num_threads(2)
        model = torch_twin({mode!r})
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
        loss_of = lambda: torch.nn.functional.cross_entropy(model(tx), ty)
    before = rss_mb("VmRSS")
    for _ in range(10):
        opt.zero_grad()
        loss = loss_of()
        loss.backward()
        opt.step()
    print(json.dumps({{"before": before, "peak": rss_mb("VmHWM")}}))
    """
)


def peak_memory(mode: str = "bilinear") -> dict:
    """Peak RSS (MB) of 10 training steps in a fresh process per framework, and the RSS before the first step."""
    out = {}
    for framework in ("tinynet", "torch"):
        code = _MEMORY_PROBE.format(
            root=str(ROOT), batch=BATCH, size=SIZE, classes=CLASSES, framework=framework, mode=mode
        )
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ))
        if res.returncode:
            raise RuntimeError(f"memory probe ({framework}) failed:\n{res.stderr}")
        out[framework] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


# ----------------------------------------------------------------------------- compile time
_COMPILE_PROBE = textwrap.dedent(
    """
    import sys, time
    t0 = time.perf_counter()
    import numpy as np
    import tinynet, tinynet.nn.functional as F
    from tinynet import optim
    from tinynet.models import EncoderDecoder
    t1 = time.perf_counter()
    rng = np.random.default_rng(0)
    x = tinynet.tensor(rng.standard_normal((16, 3, 64, 64)).astype(np.float32))
    y = tinynet.tensor(rng.integers(0, 4, (16, 64, 64)))
    times = []
    for mode in sys.argv[1:]:
        t = time.perf_counter()
        model = EncoderDecoder(upsample=mode)
        opt = optim.SGD(model.parameters(), lr=0.01)
        F.cross_entropy(model(x), y).backward()
        opt.step()
        times.append(time.perf_counter() - t)
    print(t1 - t0, *times)
    """
)


def compile_times() -> dict:
    """Import and first-step seconds in fresh processes: empty numba cache (all five models), then warm (default)."""
    cache = tempfile.mkdtemp(prefix="tinynet-numba-cache-")
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    try:
        cold = subprocess.run([sys.executable, "-c", _COMPILE_PROBE, *MODES], env=env, capture_output=True, text=True)
        warm = subprocess.run(
            [sys.executable, "-c", _COMPILE_PROBE, "bilinear"], env=env, capture_output=True, text=True
        )
        for res in (cold, warm):
            if res.returncode:
                raise RuntimeError(f"compile-time probe failed:\n{res.stderr}")
        c, w = [float(v) for v in cold.stdout.split()], [float(v) for v in warm.stdout.split()]
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return {"cold_import": c[0], "cold_steps": dict(zip(MODES, c[1:])), "warm_import": w[0], "warm_step": w[1]}


def reports():
    def memory_report() -> str:
        m = peak_memory()
        t, r = m["tinynet"], m["torch"]
        ratio = t["peak"] / r["peak"]
        step_ratio = (t["peak"] - t["before"]) / max(r["peak"] - r["before"], 1e-9)
        return (
            "## Training step: peak memory (RSS)\n\n"
            f"10 SGD steps of EncoderDecoder (bilinear), batch {BATCH}, 3x{SIZE}x{SIZE}, each framework in a fresh "
            "process (VmHWM from /proc/self/status).\n\n"
            "| | RSS before the first step (MB) | peak RSS (MB) | peak - before (MB) |\n|---|---:|---:|---:|\n"
            f"| tinynet | {t['before']:.0f} | {t['peak']:.0f} | {t['peak'] - t['before']:.0f} |\n"
            f"| torch | {r['before']:.0f} | {r['peak']:.0f} | {r['peak'] - r['before']:.0f} |\n"
            f"| ratio | | **{ratio:.2f}** (target ≤ 1.0) | {step_ratio:.2f} |\n"
        )

    def compile_report() -> str:
        c = compile_times()
        cold_total = sum(c["cold_steps"].values())
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in c["cold_steps"].items())
        return (
            "## Numba compile time (every kernel the five example models use, float32)\n\n"
            f"- Cold (empty NUMBA_CACHE_DIR, fresh process): import {c['cold_import']:.2f} s, then the first "
            f"training step of each model: {steps}; **{cold_total:.1f} s** of compiling and stepping in all "
            "(target ≤ 30 s).\n"
            f"- Warm cache, fresh process: import {c['warm_import']:.2f} s + first step (bilinear) "
            f"{c['warm_step']:.2f} s = **{c['warm_import'] + c['warm_step']:.2f} s** (target ≤ 1 s).\n"
        )

    return [memory_report, compile_report]


if __name__ == "__main__":  # quick look without run.py: python -m benchmarks.bench_train
    t0 = time.perf_counter()
    for report in reports():
        print(report())
    print(f"{time.perf_counter() - t0:.0f} s")
