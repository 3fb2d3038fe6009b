"""Pure-Python mode: every Numba kernel also runs as plain Python, and both paths give the same numbers.

The kernels in tinynet/kernels (both tiers: tinynet/kernels/reference and the fast one) are
``@njit`` functions; with ``NUMBA_DISABLE_JIT=1`` they run line by line as the Python a
student reads. The cases below drive every kernel (forward and backward of convolutions,
pooling, unpooling, batch norm and every resampling mode), once under each tier, on small
float64 inputs and compare with PyTorch (or, for bed of nails, with numpy slicing).

``test_every_kernel_runs_without_the_jit_and_agrees_with_the_compiled_path`` launches
pytest on this file in a subprocess with ``NUMBA_DISABLE_JIT=1``: the same tests must
pass there, every kernel found in tinynet/kernels must have been called, and every
result must equal the compiled path's to 1e-12. It is the one place that covers every
kernel (test_conv.py and test_pool.py keep their own smaller no-JIT runs).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinynet
import tinynet.nn.functional as F
from tinynet import kernels

HERE = Path(__file__).resolve().parent
_REPORT = os.environ.get("TINYNET_NOJIT_REPORT")  # set only in the no-JIT subprocess
_OUTPUTS: dict = {}


def _data(seed: int, *shape) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


# Each case: (tinynet function, torch function or None, input arrays). A function maps its
# inputs (Tensors requiring grad) to one output; the check compares output and input gradients.
def _distinct(seed: int, *shape) -> np.ndarray:
    """Inputs without ties (max-pool's gradient is only defined away from them)."""
    return np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape).astype(np.float64) / 7


def _constant(f, array: np.ndarray):
    """``array`` as a constant of f's framework (tinynet for tinynet's F, else torch): targets, class weights."""
    if f is F:
        return tinynet.tensor(array)
    import torch

    return torch.tensor(array)


_TARGETS = np.random.default_rng(34).integers(0, 4, (2, 3, 5))
_TARGETS[0, 1] = -100  # an ignored position
_CLASS_WEIGHTS = np.array([0.5, 1.0, 2.0, 1.5])

CASES = {
    "conv2d": (
        lambda f, x, w, b: f.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
        [_data(0, 2, 4, 6, 7), _data(1, 6, 2, 3, 3), _data(2, 6)],
    ),
    "conv2d-same": (
        lambda f, x, w: f.conv2d(x, w, padding="same", dilation=2),
        [_data(3, 1, 2, 5, 5), _data(4, 3, 2, 2, 3)],
    ),
    "conv1d": (lambda f, x, w: f.conv1d(x, w, stride=2, padding=1), [_data(5, 2, 3, 9), _data(6, 4, 3, 3)]),
    "conv2d-wide-rows": (  # output rows of 16 and more: im2col's row copies (one run), not its table
        lambda f, x, w: f.conv2d(x, w, padding=1),
        [_data(35, 1, 2, 3, 17), _data(36, 2, 2, 3, 3)],
    ),
    "conv2d-wide-rows-valid": (  # ... and row by row (output rows narrower than the input's)
        lambda f, x, w: f.conv2d(x, w),
        [_data(37, 1, 2, 4, 19), _data(38, 2, 2, 2, 3)],
    ),
    "conv_transpose2d": (
        lambda f, x, w, b: f.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2, dilation=1),
        [_data(7, 2, 4, 4, 3), _data(8, 4, 3, 3, 2), _data(9, 6)],
    ),
    "conv_transpose1d": (
        lambda f, x, w: f.conv_transpose1d(x, w, stride=3, dilation=2),
        [_data(10, 1, 2, 4), _data(11, 2, 3, 3)],
    ),
    "depthwise": (  # stride 1: the wide-row kernels; depth multiplier 2; negative flipped padding (p > d(k-1))
        lambda f, x, w, b: f.conv2d(x, w, b, padding=(1, 3), dilation=(2, 1), groups=3),
        [_data(24, 2, 3, 5, 6), _data(25, 6, 1, 2, 3), _data(26, 6)],
    ),
    "depthwise-strided": (  # the row-by-row kernels
        lambda f, x, w: f.conv2d(x, w, stride=(2, 3), padding=1, dilation=(1, 2), groups=4),
        [_data(27, 2, 4, 7, 8), _data(28, 4, 1, 3, 2)],
    ),
    "depthwise-transposed": (
        lambda f, x, w: f.conv_transpose2d(x, w, stride=1, padding=1, groups=3),
        [_data(29, 2, 3, 4, 5), _data(30, 3, 1, 3, 3)],
    ),
    "batch_norm": (  # training mode: tinynet/kernels/norm.py (running statistics None: nothing tracked)
        lambda f, x, w, b: f.batch_norm(x, None, None, w, b, training=True),
        [_data(31, 3, 4, 5, 6) * 2 + 1, _data(32, 4), _data(33, 4)],
    ),
    "max_pool2d": (
        lambda f, x: f.max_pool2d(x, 3, stride=2, padding=1, dilation=1, ceil_mode=True),
        [_distinct(12, 2, 3, 7, 6)],
    ),
    "max_pool2d-dilated": (lambda f, x: f.max_pool2d(x, (2, 3), stride=1, dilation=2), [_distinct(13, 1, 2, 6, 7)]),
    "max_unpool2d": (
        lambda f, x: f.max_unpool2d(*f.max_pool2d(x, 2, return_indices=True), 2, output_size=(7, 7)),
        [_distinct(14, 2, 2, 7, 7)],
    ),
    "avg_pool2d": (
        lambda f, x: f.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        [_data(15, 2, 3, 6, 7)],
    ),
    "avg_pool2d-divisor": (lambda f, x: f.avg_pool2d(x, 2, padding=1, divisor_override=3), [_data(16, 1, 2, 5, 5)]),
    "adaptive_avg_pool2d": (lambda f, x: f.adaptive_avg_pool2d(x, (3, 4)), [_data(17, 2, 2, 7, 5)]),
    "nearest": (lambda f, x: f.interpolate(x, size=(7, 5), mode="nearest"), [_data(18, 2, 2, 3, 4)]),
    "nearest-exact": (lambda f, x: f.interpolate(x, scale_factor=1.7, mode="nearest-exact"), [_data(19, 1, 2, 4, 5)]),
    "bilinear": (lambda f, x: f.interpolate(x, size=(6, 9), mode="bilinear"), [_data(20, 2, 2, 4, 5)]),
    "bilinear-corners": (
        lambda f, x: f.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True),
        [_data(21, 1, 3, 3, 4)],
    ),
    "linear": (lambda f, x: f.interpolate(x, size=11, mode="linear"), [_data(22, 2, 2, 5)]),
    "bed_of_nails": (lambda f, x: f.interpolate(x, scale_factor=(2, 3), mode="bed_of_nails"), [_data(23, 2, 2, 3, 4)]),
    "cross_entropy": (  # softmax, the target-class gather, the fused gradient
        lambda f, x: f.cross_entropy(
            x, _constant(f, _TARGETS), _constant(f, _CLASS_WEIGHTS), reduction="none", label_smoothing=0.1
        ),
        [_data(39, 2, 4, 3, 5)],
    ),
    "nll_loss": (  # the gather and its adjoint scatter
        lambda f, x: f.nll_loss(x, _constant(f, _TARGETS), reduction="none"),
        [_data(40, 2, 4, 3, 5)],
    ),
    "dice_loss": (  # the per-class totals, the class scatter, softmax's adjoint
        lambda f, x: f.dice_loss(x, _constant(f, _TARGETS), reduction="none"),
        [_data(41, 2, 4, 3, 5)],
    ),
}


def _bed_of_nails_oracle(x: np.ndarray) -> np.ndarray:
    out = np.zeros(x.shape[:2] + (x.shape[2] * 2, x.shape[3] * 3))
    out[..., ::2, ::3] = x
    return out


def _dice_in_torch(TF, x):
    """dice_loss(reduction='none', smooth=1) written in torch's ops (torch has no Dice loss)."""
    import torch

    t = torch.tensor(_TARGETS)
    valid = (t != -100).unsqueeze(1).to(x.dtype)  # (N, 1, *)
    y = TF.one_hot(t.clamp(min=0), x.shape[1]).movedim(-1, 1).to(x.dtype) * valid
    p = TF.softmax(x, dim=1)
    inter, total = (p * y).sum((2, 3)), (p * valid).sum((2, 3)) + y.sum((2, 3))
    return 1 - (2 * inter + 1) / (total + 1)


def _run_tinynet(name: str):
    fn, arrays = CASES[name]
    xs = [tinynet.tensor(a.copy(), dtype=tinynet.float64, requires_grad=True) for a in arrays]
    y = fn(F, *xs)
    g = _data(99, *y.shape)
    y.backward(tinynet.tensor(g))
    return y.detach().numpy(), [x.grad.numpy() for x in xs], g


@pytest.mark.parametrize("name", sorted(CASES))
def test_kernel_case_matches_the_oracle(name, torch):
    fn, arrays = CASES[name]
    for tier in kernels.TIERS:
        with kernels.use(tier):
            out, grads, g = _run_tinynet(name)
        if name == "bed_of_nails":  # not in PyTorch: values at the top-left of each 2x3 block; the adjoint subsamples
            np.testing.assert_array_equal(out, _bed_of_nails_oracle(arrays[0]))
            np.testing.assert_array_equal(grads[0], g[..., ::2, ::3])
        else:
            import torch.nn.functional as TF

            xs = [torch.tensor(a, requires_grad=True) for a in arrays]
            y = _dice_in_torch(TF, *xs) if name == "dice_loss" else fn(TF, *xs)
            y.backward(torch.tensor(g))
            np.testing.assert_allclose(out, y.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=tier)
            for mine, theirs in zip(grads, xs):
                np.testing.assert_allclose(mine, theirs.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=tier)
        _OUTPUTS[f"{tier}/{name}"] = [out, *grads]


# --------------------------------------------------------------------------- which kernels exist, which ran
# Kernel modules no functional op calls yet: no case above can reach them. Each runs its own no-JIT
# test (tests/test_winograd.py); drop the name here once the conv planner calls it.
NOT_WIRED_YET = {"tinynet.kernels.winograd"}


def kernel_names() -> list[str]:
    """``module.function`` of every Numba kernel in tinynet/kernels and tinynet/kernels/reference."""
    import importlib
    import pkgutil

    import tinynet.kernels as pkg

    names = []
    for info in pkgutil.walk_packages(pkg.__path__, prefix="tinynet.kernels."):
        if info.name in NOT_WIRED_YET:
            continue
        mod = importlib.import_module(info.name)
        for attr, obj in vars(mod).items():
            if getattr(obj, "__module__", None) != mod.__name__:
                continue  # imported, not defined here
            if hasattr(obj, "py_func") or hasattr(getattr(obj, "kernel", None), "py_func"):
                names.append(f"{mod.__name__}.{attr}")
    return sorted(names)


@pytest.fixture(scope="module", autouse=True)
def _count_kernel_calls():
    """In the no-JIT subprocess: count the calls of every kernel, and report them and the results at the end."""
    if not _REPORT:
        yield
        return
    from numba import config

    assert config.DISABLE_JIT, "the no-JIT subprocess runs with the JIT on"
    calls: dict = {}
    patched = []
    wanted = json.loads(os.environ["TINYNET_NOJIT_KERNELS"])
    for full in wanted:
        mod_name, attr = full.rsplit(".", 1)
        original = getattr(sys.modules[mod_name], attr)

        def counting(*args, _original=original, _full=full, **kwargs):
            calls[_full] = calls.get(_full, 0) + 1
            return _original(*args, **kwargs)

        for mod in [m for n, m in list(sys.modules.items()) if n.startswith("tinynet") and m is not None]:
            if getattr(mod, attr, None) is original:  # the kernel module and modules that imported it by name
                setattr(mod, attr, counting)
                patched.append((mod, attr, original))
    yield
    for mod, attr, original in patched:
        setattr(mod, attr, original)
    np.savez(_REPORT + ".npz", **{f"{k}/{i}": a for k, arrays in _OUTPUTS.items() for i, a in enumerate(arrays)})
    Path(_REPORT).write_text(json.dumps(calls))


def test_every_kernel_runs_without_the_jit_and_agrees_with_the_compiled_path(tmp_path, torch):
    if _REPORT:
        pytest.skip("this is the launcher; it does not run inside the no-JIT subprocess")
    from numba import config

    if config.DISABLE_JIT:
        pytest.skip("the whole session already runs without the JIT")
    names = kernel_names()
    assert len([k for k in names if ".reference." in k]) >= 14, names
    assert len([k for k in names if ".reference." not in k]) >= 14, names
    report = tmp_path / "nojit.json"
    env = dict(
        os.environ, NUMBA_DISABLE_JIT="1", TINYNET_NOJIT_REPORT=str(report), TINYNET_NOJIT_KERNELS=json.dumps(names)
    )
    env.pop("TINYNET_KERNELS", None)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header", str(HERE / "test_nojit.py")]
    proc = subprocess.run(cmd, cwd=HERE.parent, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert f"{len(CASES)} passed" in proc.stdout, proc.stdout[-2000:]

    calls = json.loads(report.read_text())
    never = [k for k in names if not calls.get(k)]
    assert not never, f"kernels no case exercised without the JIT: {never}"

    plain = np.load(str(report) + ".npz")
    for tier in kernels.TIERS:
        for name in CASES:
            with kernels.use(tier):
                out, grads, _ = _run_tinynet(name)
            for i, want in enumerate([out, *grads]):
                np.testing.assert_allclose(
                    plain[f"{tier}/{name}/{i}"], want, rtol=1e-12, atol=1e-13, err_msg=f"{tier}, {name}, result {i}"
                )
