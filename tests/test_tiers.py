"""The two kernel tiers: the switch, that the reference tier runs only reference kernels, and that fast == reference.

* the switch: ``TINYNET_KERNELS`` (default ``fast``), ``tinynet.kernels.use`` and ``current``;
  a bad value is a ValueError naming the variable and the value;
* every op, and a training step of the example's network, run under ``reference`` without
  calling one kernel of the fast tier (and under ``fast`` without calling a reference kernel);
* per kernel family, a hypothesis property test that the fast tier equals the reference in
  float64 to 1e-12 (relative to the largest entry of the result, since sums in another order
  can leave a few ulps of the largest term in an entry that cancels to near zero), on drawn
  geometries that reach every fast strategy; each test asserts it reached the strategy it
  names (the conv planner's choice, the thread count);
* the torch-parity, gradcheck and adjoint tests of the kernel families pass with
  ``TINYNET_KERNELS=reference`` (a subprocess: see REFERENCE_SUBSET).
"""

from __future__ import annotations

import contextlib
import inspect
import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet
import tinynet.nn.functional as F
from tinynet import kernels, nn
from tinynet.kernels import conv_planner, threads, winograd

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- the switch
def _tier_in_a_fresh_process(value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "TINYNET_KERNELS"}
    if value is not None:
        env["TINYNET_KERNELS"] = value
    code = "import tinynet; print(tinynet.kernels.current())"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_default_tier_is_fast():
    assert _tier_in_a_fresh_process(None) == "fast"


def test_environment_variable_picks_the_tier_at_import():
    assert _tier_in_a_fresh_process("reference") == "reference"
    assert _tier_in_a_fresh_process("fast") == "fast"


def test_bad_environment_value_fails_at_import():
    env = dict(os.environ, TINYNET_KERNELS="Reference")
    proc = subprocess.run([sys.executable, "-c", "import tinynet"], env=env, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "ValueError: the environment variable TINYNET_KERNELS must be 'fast' or 'reference', got 'Reference'" in (
        proc.stderr
    )


def test_use_sets_the_tier_inside_its_block_nests_and_restores_after_an_error():
    before = kernels.current()
    with kernels.use("reference"):
        assert kernels.current() == "reference"
        with kernels.use("fast"):
            assert kernels.current() == "fast"
        assert kernels.current() == "reference"
    with pytest.raises(RuntimeError, match="inside"):
        with kernels.use("reference"):
            raise RuntimeError("inside")
    assert kernels.current() == before


def test_use_refuses_an_unknown_tier():
    with pytest.raises(ValueError, match=r"tinynet.kernels.use: tier must be 'fast' or 'reference', got 'slow'"):
        with kernels.use("slow"):
            pass


# --------------------------------------------------------------------------- which kernels run
FAST_MODULES = ("conv", "conv_planner", "winograd", "pool", "resample", "norm", "softmax")
REFERENCE_MODULES = ("reference.conv", "reference.pool", "reference.resample", "reference.norm", "reference.softmax")


def _kernels_of(module) -> dict:
    """The Numba kernels (dispatchers or grain_sized wrappers) defined in ``module``, and conv_planner's entries."""
    found = {}
    for name, obj in vars(module).items():
        if getattr(obj, "__module__", None) != module.__name__ or not callable(obj):
            continue
        is_kernel = hasattr(obj, "py_func") or hasattr(getattr(obj, "kernel", None), "py_func")
        if is_kernel or (module is conv_planner and inspect.isfunction(obj)):  # its plan, strategies, entries
            found[f"{module.__name__}.{name}"] = obj
    return found


@contextlib.contextmanager
def recording_kernel_calls():
    """Record the calls of every kernel of both tiers, wherever a module holds it by name."""
    calls: list = []
    targets = {}
    for rel in FAST_MODULES + REFERENCE_MODULES:
        targets.update(_kernels_of(sys.modules[f"tinynet.kernels.{rel}"]))
    patched = []
    for full, original in targets.items():

        def recording(*args, _original=original, _full=full, **kwargs):
            calls.append(_full)
            return _original(*args, **kwargs)

        for mod in [m for n, m in list(sys.modules.items()) if n.startswith("tinynet") and m is not None]:
            for attr, value in list(vars(mod).items()):
                if value is original:
                    setattr(mod, attr, recording)
                    patched.append((mod, attr, original))
    try:
        yield calls
    finally:
        for mod, attr, original in patched:
            setattr(mod, attr, original)


def _every_op():
    """Forward and backward of every op that reaches a kernel, in float64 and float32."""
    rng = np.random.default_rng(0)

    def t(*shape, dtype=np.float64):
        return tinynet.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)

    outs = [
        F.conv2d(t(2, 4, 7, 7), t(6, 2, 3, 3), t(6), padding=1, groups=2),  # im2col, one run
        F.conv2d(t(2, 4, 7, 7), t(6, 4, 3, 3), stride=2),  # im2col, row by row
        F.conv2d(t(2, 4, 5, 5), t(3, 4, 1, 1)),  # 1x1
        F.conv2d(t(1, 16, 8, 8, dtype=np.float32), t(16, 16, 3, 3, dtype=np.float32), padding=1),  # winograd
        F.conv_transpose2d(t(1, 16, 8, 8), t(16, 16, 3, 3), padding=1),  # winograd, the adjoint
        F.conv2d(t(2, 4, 6, 6), t(8, 1, 3, 3), padding=1, groups=4),  # depthwise, wide rows
        F.conv2d(t(2, 4, 6, 6), t(4, 1, 3, 3), stride=2, groups=4),  # depthwise, row by row
        F.convolve2d(t(1, 2, 5, 5, dtype=np.float32), t(2, 2, 2, 2, dtype=np.float32)),
        F.conv1d(t(2, 3, 9), t(4, 3, 3), stride=2),
        F.conv_transpose2d(t(2, 4, 4, 4), t(4, 3, 3, 3), t(3), stride=2, output_padding=1),
        F.conv_transpose2d(t(2, 4, 4, 4), t(4, 1, 3, 3), groups=4),
        F.conv_transpose1d(t(1, 2, 5), t(2, 3, 3)),
        F.max_pool2d(t(2, 3, 7, 6), 3, stride=2, padding=1),
        F.max_unpool2d(*F.max_pool2d(t(2, 3, 6, 6), 2, return_indices=True), 2),
        F.avg_pool2d(t(2, 3, 7, 6), 3, stride=2, padding=1, count_include_pad=False),
        F.adaptive_avg_pool2d(t(2, 3, 7, 5), (3, 2)),
        F.interpolate(t(2, 3, 4, 5), scale_factor=2, mode="nearest"),
        F.interpolate(t(2, 3, 4, 5), size=(7, 9), mode="bilinear", align_corners=True),
        F.interpolate(t(2, 3, 5), size=8, mode="linear"),
        F.interpolate(t(2, 3, 4, 5), scale_factor=2, mode="bed_of_nails"),
        F.batch_norm(t(4, 3, 5, 5), None, None, t(3), t(3), training=True),
        F.batch_norm(t(4, 3, 5, 5, dtype=np.float32), None, None, training=True),
        F.cross_entropy(t(2, 3, 4, 5), tinynet.tensor(rng.integers(0, 3, (2, 4, 5))), label_smoothing=0.1),
        F.nll_loss(t(5, 3), tinynet.tensor(rng.integers(0, 3, 5))),
        F.dice_loss(t(2, 3, 4, 5, dtype=np.float32), tinynet.tensor(rng.integers(0, 3, (2, 4, 5)))),
    ]
    # A both-gradients transposed conv (the shared-columns strategy) and a weight-only one.
    x = t(2, 4, 5, 5)
    w = tinynet.tensor(rng.standard_normal((4, 3, 3, 3)))
    outs += [F.conv_transpose2d(x, w, stride=2), F.conv_transpose2d(x.detach(), t(4, 3, 3, 3), stride=2)]
    for out in outs:
        out.sum().backward()


def _train_step_of_the_example():
    """One training step of the example's network, every decoder variant (depthwise, 1x1, BN, pools, upsampling)."""
    from tinynet.models import EncoderDecoder

    for mode in ("bilinear", "transposed", "unpool", "nearest", "bed_of_nails"):
        tinynet.manual_seed(0)
        model = EncoderDecoder(widths=(16, 16, 16), upsample=mode)  # enc2: 16 channels at 8x8, winograd
        x = tinynet.randn(2, 3, 16, 16)
        target = tinynet.tensor(np.random.default_rng(1).integers(0, 4, (2, 16, 16)))
        loss = nn.functional.cross_entropy(model(x), target)
        loss.backward()


@pytest.mark.parametrize("workload", [_every_op, _train_step_of_the_example])
def test_the_reference_tier_runs_no_fast_kernel_and_the_fast_tier_no_reference_kernel(workload):
    ran = {}
    for tier in kernels.TIERS:
        # Compile first: the recorder replaces module globals, and a jitted kernel compiled while its
        # jitted helpers are replaced would find a Python function there (numba: "Untyped global name").
        with kernels.use(tier):
            workload()
        with kernels.use(tier), recording_kernel_calls() as calls:
            workload()
        ran[tier] = set(calls)
    reference = {k for k in ran["reference"] if k.startswith("tinynet.kernels.reference.")}
    assert ran["reference"] == reference, f"fast kernels under reference: {sorted(ran['reference'] - reference)}"
    assert {k.split(".")[3] for k in reference} == {"conv", "pool", "resample", "norm", "softmax"}, sorted(reference)
    assert not any(k.startswith("tinynet.kernels.reference.") for k in ran["fast"]), sorted(ran["fast"])
    assert {k.split(".")[2] for k in ran["fast"]} == set(FAST_MODULES), sorted(ran["fast"])


# --------------------------------------------------------------------------- fast == reference
def _assert_tiers_agree(fast: list, reference: list, condition: float = 1.0) -> None:
    """Equal to 1e-12 of each result's largest entry, times ``condition`` for ill-conditioned data."""
    assert len(fast) == len(reference)
    tol = 1e-12 * condition
    for i, (f, r) in enumerate(zip(fast, reference)):
        assert f.dtype == r.dtype and f.shape == r.shape, (i, f.dtype, r.dtype, f.shape, r.shape)
        scale = float(np.nanmax(np.abs(r))) if r.size and not np.isnan(r).all() else 0.0
        np.testing.assert_allclose(f, r, rtol=tol, atol=tol * scale, err_msg=f"result {i}")


def _run(fn, arrays: list, needs_grad: tuple | None = None) -> list:
    """fn's outputs and the gradients of its inputs (for a fixed output gradient), as arrays."""
    needs_grad = needs_grad or (True,) * len(arrays)
    xs = [tinynet.tensor(a.copy(), requires_grad=bool(r) and a.dtype.kind == "f") for a, r in zip(arrays, needs_grad)]
    out = fn(*xs)
    outs = out if isinstance(out, tuple) else (out,)
    g = np.cos(np.arange(outs[0].numel(), dtype=np.float64)).reshape(outs[0].shape)
    outs[0].backward(tinynet.tensor(g))
    return [o.detach().numpy() for o in outs] + [x.grad.numpy() for x in xs if x.requires_grad]


def _both_tiers(fn, arrays: list, needs_grad: tuple | None = None, condition: float = 1.0) -> None:
    results = {}
    for tier in kernels.TIERS:
        with kernels.use(tier):
            results[tier] = _run(fn, arrays, needs_grad)
    _assert_tiers_agree(results["fast"], results["reference"], condition)


@contextlib.contextmanager
def planned():
    """The plans conv_planner.plan returns inside the block."""
    seen: list = []
    original = conv_planner.plan

    def spy(*args):
        p = original(*args)
        seen.append(p)
        return p

    conv_planner.plan = spy
    try:
        yield seen
    finally:
        conv_planner.plan = original


@contextlib.contextmanager
def chunk_bytes(limit: int):
    """Lower the fast tier's column budget, so that small batches already split into chunks."""
    before = conv_planner._CHUNK_BYTES
    conv_planner._CHUNK_BYTES = limit
    try:
        yield
    finally:
        conv_planner._CHUNK_BYTES = before


@contextlib.contextmanager
def row_copies():
    """Turn off im2col's table (kernels/conv.py), so that small drawn images reach the row copies."""
    before = conv_planner._TABLE_BELOW_WIDTH, conv_planner._TABLE_WHEN_STRIDED
    conv_planner._TABLE_BELOW_WIDTH, conv_planner._TABLE_WHEN_STRIDED = 0, False
    try:
        yield
    finally:
        conv_planner._TABLE_BELOW_WIDTH, conv_planner._TABLE_WHEN_STRIDED = before


@st.composite
def conv_cases(draw, strategy: str):
    """(op, x, w, kwargs) drawn so that the fast tier takes ``strategy``."""
    k = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    d = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    s = (1, 1)
    groups, c_in, c_out = draw(st.sampled_from([(1, 2, 3), (2, 4, 2), (3, 6, 3)]))
    if strategy == "pointwise":
        k, d, groups, c_in, c_out = (1, 1), (1, 1), 1, draw(st.integers(1, 5)), draw(st.integers(1, 5))
    elif strategy.startswith("depthwise"):
        c_in = draw(st.integers(2, 4))
        groups, c_out = c_in, c_in * draw(st.integers(1, 2))
        if strategy == "depthwise-rows":
            s = draw(st.sampled_from([(2, 1), (1, 2), (2, 3)]))
    elif strategy in ("im2col-rows", "im2col-table"):  # a stride across, so never one run
        s = draw(st.sampled_from([(1, 2), (2, 2), (3, 2), (2, 3)] + ([(1, 1)] if strategy == "im2col-table" else [])))
    elif strategy == "im2col-chunked":  # a kernel wider than 1, so never the 1x1 shortcut
        s, k = draw(st.sampled_from([(1, 1), (2, 2)])), (k[0], draw(st.integers(2, 3)))
    elif strategy == "winograd":  # run with winograd_anywhere(): any channel count and image size
        k, d, groups, c_in, c_out = (3, 3), (1, 1), 1, draw(st.integers(1, 4)), draw(st.integers(1, 4))
    if strategy == "im2col-one-run":  # stride 1, output rows as wide as the input's: 'same'
        k = draw(st.sampled_from([1, 3])), draw(st.sampled_from([3, 5]))
        padding = "same"
    elif strategy == "winograd":
        padding = (draw(st.integers(0, 2)),) * 2
    else:
        padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    if strategy == "pointwise":
        padding = (0, 0)
    n = draw(st.integers(3, 6)) if strategy == "im2col-chunked" else draw(st.integers(1, 3))
    span = [di * (ki - 1) + 1 for di, ki in zip(d, k)]
    h, w = (draw(st.integers(max(1, sp), sp + 6)) for sp in span)
    transposed = draw(st.booleans()) and padding != "same"
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if transposed:
        x = rng.standard_normal((n, c_out, h, w))
        weight = rng.standard_normal((c_out, c_in // groups) + k)
        return "conv_transpose2d", x, weight, dict(stride=s, padding=padding, dilation=d, groups=groups)
    x = rng.standard_normal((n, c_in, h, w))
    weight = rng.standard_normal((c_out, c_in // groups) + k)
    return "conv2d", x, weight, dict(stride=s, padding=padding, dilation=d, groups=groups)


def _check_conv(case, needs_grad: tuple) -> list:
    op, x, w, kw = case
    bias = np.random.default_rng(5).standard_normal(
        w.shape[1] * kw["groups"] if op == "conv_transpose2d" else w.shape[0]
    )
    with planned() as plans:
        try:
            _both_tiers(lambda x, w, b: getattr(F, op)(x, w, b, **kw), [x, w, bias], needs_grad)
        except ValueError as e:  # a drawn transposed geometry whose output is empty
            assert "is not positive" in str(e) or "larger than the padded input" in str(e)
            return []
    return plans


def _reached(plans: list, strategy: str) -> None:
    assert plans, "the fast tier never planned"
    for p in plans:
        if strategy == "pointwise":
            assert p.strategy == "pointwise", p
        elif strategy.startswith("depthwise"):
            assert p.strategy == "depthwise", p
        elif strategy == "winograd":
            assert p.strategy == "winograd", p
        else:
            assert p.strategy == "im2col", p
            if strategy == "im2col-one-run":
                assert p.one_run and not p.table, p
            elif strategy == "im2col-rows":
                assert not p.one_run and not p.table, p
            elif strategy == "im2col-table":
                assert p.table, p
            elif strategy == "im2col-chunked":
                assert len(p.chunks) > 1, p


STRATEGIES = [
    "pointwise",
    "depthwise-wide",
    "depthwise-rows",
    "im2col-one-run",
    "im2col-rows",
    "im2col-table",
    "im2col-chunked",
    "winograd",
]


@contextlib.contextmanager
def winograd_anywhere():
    """Let the planner take Winograd for any channel count and output size (small drawn cases reach it),
    one image a chunk."""
    before = conv_planner._WINOGRAD_MIN_CHANNELS, conv_planner._WINOGRAD_MIN_SIZE, winograd.CHUNK_BYTES
    conv_planner._WINOGRAD_MIN_CHANNELS, conv_planner._WINOGRAD_MIN_SIZE, winograd.CHUNK_BYTES = 1, 1, 1
    try:
        yield
    finally:
        conv_planner._WINOGRAD_MIN_CHANNELS, conv_planner._WINOGRAD_MIN_SIZE, winograd.CHUNK_BYTES = before


@pytest.mark.parametrize("strategy", STRATEGIES)
@given(data=st.data())
def test_conv_fast_equals_reference_on_every_strategy(strategy, data):
    case = data.draw(conv_cases(strategy))
    needs_grad = data.draw(st.sampled_from([(True, True, True), (True, False, False), (False, True, True)]))
    copies = row_copies() if strategy in ("im2col-one-run", "im2col-rows") else contextlib.nullcontext()
    copies = winograd_anywhere() if strategy == "winograd" else copies
    with copies, chunk_bytes(1 if strategy == "im2col-chunked" else conv_planner._CHUNK_BYTES):  # 1: an image a chunk
        plans = _check_conv(case, needs_grad)
    if plans:
        _reached(plans, strategy)


def test_conv_fast_equals_reference_on_real_sized_chunks_and_depthwise():
    """Without lowering any budget: a batch whose columns pass 8 MB, real-sized Winograd and depthwise convs."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((8, 16, 32, 32)), rng.standard_normal((16, 16, 3, 3))
    with planned() as plans:  # dilation 2: not Winograd
        _both_tiers(lambda x, w: F.conv2d(x, w, padding=2, dilation=2), [x, w])
    assert all(p.strategy == "im2col" and len(p.chunks) > 1 and p.one_run for p in plans), plans
    with planned() as plans:  # Winograd, both directions
        _both_tiers(lambda x, w: F.conv2d(x, w, padding=1), [x, w])
        _both_tiers(lambda x, w: F.conv_transpose2d(x, w, padding=1), [x, w])
    assert plans and all(p.strategy == "winograd" for p in plans), plans
    x, w = rng.standard_normal((2, 16, 32, 32)), rng.standard_normal((32, 1, 3, 3))
    with planned() as plans:
        _both_tiers(lambda x, w: F.conv2d(x, w, padding=1, groups=16), [x, w])
    assert plans and all(p.strategy == "depthwise" for p in plans), plans


@contextlib.contextmanager
def thread_counts():
    """The thread counts threads.threads_for hands to the fast pooling and resampling kernels."""
    seen: list = []
    original = threads.threads_for

    def spy(work):
        n = original(work)
        seen.append(n)
        return n

    threads.threads_for = spy
    try:
        yield seen
    finally:
        threads.threads_for = original


@st.composite
def planes(draw, big: bool, *, ties: bool = False):
    """(N, C, H, W) float64 data; ``big`` passes GRAIN_SIZE (the fast kernels' parallel path)."""
    if big:
        shape = (2, 4, draw(st.integers(64, 70)), draw(st.integers(64, 70)))
    else:
        # at least 5x5: every drawn pooling window (kernel <= 3, dilation <= 2) fits
        shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(5, 9)), draw(st.integers(5, 9)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if ties:  # few distinct values: ties for max-pool's rule, and a NaN now and then
        x = rng.integers(0, 4, shape).astype(np.float64)
        if draw(st.booleans()):
            x.flat[rng.integers(0, x.size, 3)] = np.nan
        return x
    return rng.standard_normal(shape)


def _threads_reached(counts: list, big: bool) -> None:
    assert counts, "no fast kernel ran"
    if big and numba.config.NUMBA_NUM_THREADS > 1 and not numba.config.DISABLE_JIT:
        assert max(counts) > 1, counts
    if not big:
        assert max(counts) == 1, counts


@pytest.mark.parametrize("big", [False, True], ids=["one-thread", "threads"])
@given(data=st.data())
def test_pooling_fast_equals_reference(big, data):
    """Max-pool with switches (ties, NaN), its scatter (backward, unpool) and gather, and window means."""
    x = data.draw(planes(big, ties=True))
    k = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    s = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    p = data.draw(st.integers(0, k[0] // 2)), data.draw(st.integers(0, k[1] // 2))
    d = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
    ceil = data.draw(st.booleans())
    include_pad = data.draw(st.booleans())
    divisor = data.draw(st.sampled_from([None, 3]))
    out_size = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
    with thread_counts() as counts:
        _both_tiers(lambda t: F.max_pool2d(t, k, s, p, d, ceil_mode=ceil, return_indices=True), [x])
        y, idx = F.max_pool2d(tinynet.tensor(np.nan_to_num(x)), 2, return_indices=True)
        _both_tiers(lambda v, i: F.max_unpool2d(v, i, 2, output_size=x.shape[-2:]), [y.numpy(), idx.numpy()])
        _both_tiers(lambda t: F.avg_pool2d(t, k, s, p, ceil, include_pad, divisor_override=divisor), [x])
        _both_tiers(lambda t: F.adaptive_avg_pool2d(t, out_size), [x])
    _threads_reached(counts, big)


@pytest.mark.parametrize("big", [False, True], ids=["one-thread", "threads"])
@given(data=st.data())
def test_resampling_fast_equals_reference(big, data):
    """Nearest and nearest-exact (gather, scatter-add), bed of nails (scatter, gather), (bi)linear and its adjoint."""
    x = data.draw(planes(big))
    size = data.draw(st.integers(1, 12)), data.draw(st.integers(1, 12))
    scale = data.draw(st.sampled_from([2, 3, 0.6, 1.7]))
    corners = data.draw(st.booleans())
    with thread_counts() as counts:
        for mode in ("nearest", "nearest-exact", "bilinear"):
            extra = dict(align_corners=corners) if mode == "bilinear" else {}
            _both_tiers(lambda t, mode=mode, extra=extra: F.interpolate(t, size=size, mode=mode, **extra), [x])
            _both_tiers(lambda t, mode=mode, extra=extra: F.interpolate(t, scale_factor=scale, mode=mode, **extra), [x])
        _both_tiers(lambda t: F.interpolate(t, scale_factor=(2, 3), mode="bed_of_nails"), [x])
        _both_tiers(lambda t: F.interpolate(t, size=size[1], mode="linear"), [x[:, :, 0]])
    _threads_reached(counts, big)


@given(data=st.data())
def test_batch_norm_fast_equals_reference(data):
    n, c, h, w = (data.draw(st.integers(1, 4)) for _ in range(4))
    if n * h * w == 1:
        h = 2
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rng.standard_normal((n, c, h, w)) * data.draw(st.sampled_from([1e-3, 1.0, 1e3])) + data.draw(
        st.sampled_from([0.0, 5.0])
    )
    gamma, beta = rng.standard_normal(c), rng.standard_normal(c)
    needs = data.draw(st.sampled_from([(True, True, True), (True, False, False), (False, True, True)]))
    # Two correct summation orders differ in x̂ by about eps·|mean|/std (x = 5 ± 0.001 cancels 3-4
    # digits), and dγ = Σ g·x̂ sums n·h·w such terms, often to much less than each of them.
    mean, std = np.abs(x.mean(axis=(0, 2, 3))), x.std(axis=(0, 2, 3))
    condition = float(np.max(1.0 + mean / std)) * n * h * w
    _both_tiers(lambda t, g, b: F.batch_norm(t, None, None, g, b, training=True), [x, gamma, beta], needs, condition)


@given(data=st.data())
def test_softmax_losses_fast_equals_reference(data):
    """Softmax with its shift and log-total, the class gather/scatter and cross-entropy's fused gradient.

    Through cross_entropy (class weights, ignored targets, label smoothing, every reduction), nll_loss
    and dice_loss, values and gradients, on logits of every scale (1e3: the shift by the maximum matters).
    """
    n, c = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 5))
    spatial = tuple(data.draw(st.lists(st.integers(1, 6), max_size=2)))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rng.standard_normal((n, c, *spatial)) * data.draw(st.sampled_from([1e-3, 1.0, 1e3]))
    t = rng.integers(0, c, (n, *spatial))
    t = np.where(rng.random(t.shape) < data.draw(st.sampled_from([0.0, 0.3])), -100, t)
    weight = rng.uniform(0.1, 2.0, c) if data.draw(st.booleans()) else None
    smoothing = data.draw(st.sampled_from([0.0, 0.2]))
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))

    def ce(logits, target):
        w = None if weight is None else tinynet.tensor(weight)
        return F.cross_entropy(logits, target, w, reduction=reduction, label_smoothing=smoothing)

    _both_tiers(ce, [x, t], (True, False))
    _both_tiers(lambda logits, target: F.nll_loss(logits, target, reduction=reduction), [x, t], (True, False))
    _both_tiers(lambda logits, target: F.dice_loss(logits, target, reduction=reduction), [x, t], (True, False))


# --------------------------------------------------------------------------- the suite's subset under reference
# The torch-parity, gradcheck and adjoint tests of the files that test the kernel families, run
# in a subprocess with TINYNET_KERNELS=reference; tests/conftest.py makes every fast kernel raise
# there, so a pass also proves that nothing outside the reference tier ran.
REFERENCE_SUBSET = [
    "tests/test_conv.py",
    "tests/test_conv_modules.py",
    "tests/test_pool.py",
    "tests/test_upsampling.py",
    "tests/test_batchnorm.py",
    "tests/test_losses.py",
]
REFERENCE_KEYWORDS = "torch or gradcheck or adjoint"


def test_parity_gradcheck_and_adjoint_tests_pass_under_the_reference_tier(tmp_path):
    if os.environ.get("TINYNET_KERNELS") == "reference":
        pytest.skip("this is the launcher; the session already runs the reference tier")
    env = dict(os.environ, TINYNET_KERNELS="reference")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header", "-k", REFERENCE_KEYWORDS]
    proc = subprocess.run(cmd + REFERENCE_SUBSET, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    summary = proc.stdout.strip().splitlines()[-1]
    passed = int(summary.split(" passed")[0].split()[-1])
    assert passed >= 100 and "failed" not in summary and "error" not in summary, summary
