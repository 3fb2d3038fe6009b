"""Memory: 300 training steps of the example model keep peak RSS flat, and the tape lets go of what it saved.

RSS is measured in a fresh process with psutil (current RSS) and the kernel's high-water
mark ``VmHWM`` (peak RSS of this process image; ``getrusage``'s ``ru_maxrss`` would not do:
Linux carries the parent's peak over a fork and exec, so under a large pytest session the
child's "peak" is the session's). The model is ``tinynet.models.EncoderDecoder``
with its default widths on batches of 4 images of 16x16 (the example trains on 64x64;
the small input keeps 300 steps to a few seconds on a busy 2-core machine).

The bound on peak growth between step 50 (after warm-up: Numba caches, BLAS buffers and
the optimizer state exist by then) and step 300 is ``LEAK_BOUND_MB`` = 8 MB. A step here
allocates a few MB of activations and gradients, all freed by the next step; what is
measured in practice is a few hundred KB of allocator and numpy small-array caches. A
leak of one first-stage feature map per step (4 x 16 x 16 x 16 float32 = 64 KB, 16 MB
over 250 steps) or of any step's graph exceeds the bound, and the canary test proves it
by leaking exactly one such map per step.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import weakref
from pathlib import Path

import numpy as np
import pytest

import tinynet
import tinynet.nn.functional as F
from tinynet import optim
from tinynet.models import EncoderDecoder

HERE = Path(__file__).resolve().parent
STEPS, WARMUP, BATCH, SIZE = 300, 50, 4, 16
LEAK_BOUND_MB = 8.0


def _measure(leak_kb_per_step: int = 0) -> dict:
    """Train STEPS steps; RSS (MB) at a few steps and the peak (VmHWM) at WARMUP and at the end."""
    import psutil

    proc = psutil.Process()
    tinynet.manual_seed(0)
    model = EncoderDecoder()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x = tinynet.randn(BATCH, 3, SIZE, SIZE)
    y = tinynet.randint(0, 4, (BATCH, SIZE, SIZE))
    leaked, rss, peak = [], {}, {}
    for step in range(1, STEPS + 1):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if leak_kb_per_step:
            leaked.append(np.ones(leak_kb_per_step * 256, np.float32))  # the canary: kept alive on purpose
        if step in (1, 10, WARMUP, 100, 150, 200, 250, STEPS):
            rss[step] = proc.memory_info().rss / 2**20
        if step in (WARMUP, STEPS):
            peak[step] = _peak_rss_mb()
    return {"rss": rss, "peak": peak, "loss": loss.item()}


def _peak_rss_mb() -> float:
    """VmHWM from /proc/self/status: the highest RSS this process image has had (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("no VmHWM in /proc/self/status")


def _measure_in_subprocess(leak_kb_per_step: int = 0) -> dict:
    code = f"import sys, json; sys.path.insert(0, {str(HERE)!r}); import test_memory as t; print(json.dumps(t._measure({leak_kb_per_step})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["rss"] = {int(k): v for k, v in result["rss"].items()}
    result["peak"] = {int(k): v for k, v in result["peak"].items()}
    return result


def _report(name: str, m: dict) -> str:
    steps = ", ".join(f"{k}: {v:.1f}" for k, v in m["rss"].items())
    return f"{name}: RSS MB at step {{{steps}}}; peak {m['peak'][WARMUP]:.1f} -> {m['peak'][STEPS]:.1f} MB"


pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the peak comes from Linux's /proc/self/status")


def test_300_training_steps_keep_peak_rss_flat_after_warmup(capsys):
    pytest.importorskip("psutil")
    m = _measure_in_subprocess()
    growth = m["peak"][STEPS] - m["peak"][WARMUP]
    with capsys.disabled():
        print("\n" + _report("EncoderDecoder, batch 4 at 16x16", m) + f"; growth {growth:.2f} MB")
    assert np.isfinite(m["loss"])
    assert growth <= LEAK_BOUND_MB, _report("peak RSS grew", m)
    assert m["rss"][STEPS] - m["rss"][WARMUP] <= LEAK_BOUND_MB, _report("current RSS grew", m)


def test_the_bound_catches_a_leak_of_one_feature_map_per_step():
    """The canary: the same run keeping 64 KB per step must fail the bound (else the test above proves nothing)."""
    pytest.importorskip("psutil")
    m = _measure_in_subprocess(leak_kb_per_step=64)
    assert m["peak"][STEPS] - m["peak"][WARMUP] > LEAK_BOUND_MB, _report("a 64 KB/step leak went unnoticed", m)


# --------------------------------------------------------------------------- the tape releases what it saved
@pytest.fixture
def no_gc():
    """Reference counting alone must free everything: no help from the cycle collector."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def _graph_nodes(tensor) -> list:
    nodes, stack, seen = [], [tensor.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        stack.extend(p[0] for p in node.parents if isinstance(p, tuple))
    return nodes


def _held_arrays(node) -> list:
    held = [a for a in node._saved if isinstance(a, np.ndarray)]
    for value in vars(node).values():
        items = value if isinstance(value, (tuple, list)) else (value,)
        held += [a for a in items if isinstance(a, np.ndarray)]
    return held


@pytest.mark.parametrize("upsample", ["unpool", "transposed", "bilinear", "bed_of_nails"])
def test_the_example_models_tape_frees_its_saved_arrays_after_backward(no_gc, upsample):
    tinynet.manual_seed(0)
    model = EncoderDecoder(widths=(4, 8, 8), upsample=upsample)
    x = tinynet.randn(2, 3, 16, 16)
    owned = [p.data for p in model.parameters()] + [b.data for b in model.buffers()] + [x.data]
    loss = F.cross_entropy(model(x), tinynet.randint(0, 4, (2, 16, 16)))
    nodes = _graph_nodes(loss)
    private = [
        weakref.ref(a)
        for node in nodes
        for a in _held_arrays(node)
        if not any(np.may_share_memory(a, o) for o in owned)  # parameters and the input stay alive anyway
    ]
    assert len(nodes) > 30 and len(private) > 20, "the graph should hold many intermediate arrays before backward"
    loss.backward()
    assert all(not _held_arrays(node) for node in nodes), "a node still holds arrays after backward"
    alive = [r for r in private if r() is not None]
    assert not alive, f"{len(alive)} saved arrays outlived backward while the graph objects are still referenced"
    node_refs = [weakref.ref(n) for n in nodes]
    del loss, nodes
    assert all(r() is None for r in node_refs), "graph nodes outlived the loss (a reference cycle?)"


def test_retain_graph_keeps_the_arrays_until_the_graph_is_dropped(no_gc):
    tinynet.manual_seed(0)
    model = EncoderDecoder(widths=(4, 4, 4))
    loss = F.cross_entropy(model(tinynet.randn(2, 3, 16, 16)), tinynet.randint(0, 4, (2, 16, 16)))
    refs = [weakref.ref(a) for n in _graph_nodes(loss) for a in n._saved if isinstance(a, np.ndarray)]
    loss.backward(retain_graph=True)
    assert any(r() is not None for r in refs)
    loss.backward()  # the second backward frees them
    assert all(r() is None or any(r() is p.data for p in model.parameters()) for r in refs)
