"""Winograd F(2x2,3x3) and F(4x4,3x3) (tinynet/kernels/winograd.py) against torch and a direct float64 conv.

What is proven here:
- the transform matrices compute the 1-D correlation (the three linear maps),
- forward, input gradient and weight gradient equal torch's and a direct float64 loop to 1e-12
  relative in float64, for both tile sizes, on hypothesis-drawn shapes (odd sizes, images smaller
  than a tile, padding 0, 1, 2),
- the input gradient is the adjoint of the forward (``tinynet.testing.adjoint_check``), and the
  stride-1 transposed convolution equals torch's conv_transpose2d,
- float32 stays float32 and stays within :data:`FLOAT32_BOUND` of the float64 result,
- workspaces are reused across calls, bad arguments raise before any kernel runs,
- the kernels run under ``NUMBA_DISABLE_JIT=1`` and agree with the compiled ones.

Relative error here is max |result - reference| / max |reference|.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet
from tinynet.kernels import winograd as wg
from tinynet.kernels import workspace
from tinynet.testing import adjoint_check

# Measured float32 error (relative to the output's largest value, vs the float64 result) on the
# benchmark shapes was at most ~2.5e-7 for F(2x2) and ~3e-6 for F(4x4) (benchmarks/WINOGRAD.md);
# the bounds leave room for other shapes and seeds.
FLOAT32_BOUND = {2: 2e-6, 4: 2e-5}
FLOAT64_BOUND = 1e-12


def rel_err(result: np.ndarray, reference: np.ndarray) -> float:
    return float(np.abs(result - reference).max() / max(np.abs(reference).max(), 1e-300))


def direct_conv3x3(x: np.ndarray, w: np.ndarray, p: int) -> np.ndarray:
    """The definition, in float64: y[n, o, i, j] = Σ_{c,kh,kw} w[o, c, kh, kw] x_padded[n, c, i + kh, j + kw]."""
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (p, p), (p, p)))
    Ho, Wo = xp.shape[2] - 2, xp.shape[3] - 2
    y = np.zeros((x.shape[0], w.shape[0], Ho, Wo))
    for kh in range(3):
        for kw in range(3):
            y += np.einsum("oc,nchw->nohw", w[:, :, kh, kw].astype(np.float64), xp[:, :, kh : kh + Ho, kw : kw + Wo])
    return y


@st.composite
def conv_cases(draw):
    """(x, w, gy, padding) with odd sizes and images smaller than a tile; output at least 1x1."""
    p = draw(st.sampled_from([0, 1, 2]))
    H = draw(st.integers(max(1, 3 - 2 * p), 11))
    W = draw(st.integers(max(1, 3 - 2 * p), 11))
    N, C, Co = draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((Co, C, 3, 3))
    gy = rng.standard_normal((N, Co, H + 2 * p - 2, W + 2 * p - 2))
    return x, w, gy, p


# ----------------------------------------------------------------------------------------- the maps
@pytest.mark.parametrize("tile", wg.TILES)
def test_transform_matrices_compute_the_1d_correlation(tile):
    BT, G, AT = wg.transform_matrices(tile)
    rng = np.random.default_rng(tile)
    for _ in range(5):
        d, g = rng.standard_normal(tile + 2), rng.standard_normal(3)
        want = np.array([d[i : i + 3] @ g for i in range(tile)])
        np.testing.assert_allclose(AT @ ((G @ g) * (BT @ d)), want, rtol=1e-13, atol=1e-14)


# ----------------------------------------------------------------------------------------- float64: exact
@pytest.mark.parametrize("tile", wg.TILES)
@given(case=conv_cases())
def test_forward_matches_torch_and_the_direct_conv_in_float64(tile, case, torch):
    x, w, _, p = case
    y = wg.winograd_conv3x3(x, w, p, tile)
    assert y.dtype == np.float64
    assert rel_err(y, direct_conv3x3(x, w, p)) < FLOAT64_BOUND
    ref = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=p).numpy()
    assert rel_err(y, ref) < FLOAT64_BOUND


@pytest.mark.parametrize("tile", wg.TILES)
@given(case=conv_cases())
def test_input_and_weight_grads_match_torch_autograd_in_float64(tile, case, torch):
    x, w, gy, p = case
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    torch.nn.functional.conv2d(tx, tw, padding=p).backward(torch.tensor(gy))
    dx, dw = wg.winograd_conv3x3_backward(x, gy, w, p, tile)
    assert rel_err(dx, tx.grad.numpy()) < FLOAT64_BOUND
    assert rel_err(dw, tw.grad.numpy()) < FLOAT64_BOUND
    # the single-purpose entry points give the same numbers
    np.testing.assert_array_equal(wg.winograd_conv3x3_input_grad(gy, w, p, tile), dx)
    np.testing.assert_array_equal(wg.winograd_conv3x3_weight_grad(x, gy, p, tile), dw)
    # and the forward with the weight gradient, sharing the input tiles' transform
    y, dw_shared = wg.winograd_conv3x3_with_weight_grad(x, w, gy, p, tile)
    np.testing.assert_array_equal(y, wg.winograd_conv3x3(x, w, p, tile))
    np.testing.assert_allclose(dw_shared, dw, rtol=1e-13, atol=1e-13 * np.abs(dw).max())


@pytest.mark.parametrize("tile", wg.TILES)
@given(case=conv_cases())
def test_stride1_conv_transpose_is_the_input_grad_and_matches_torch(tile, case, torch):
    _, w, gy, p = case  # gy plays the transposed conv's input; w is (C_in, C_out, 3, 3) for it
    y = wg.winograd_conv_transpose3x3(gy, w, p, tile)
    ref = torch.nn.functional.conv_transpose2d(torch.tensor(gy), torch.tensor(w), stride=1, padding=p).numpy()
    assert rel_err(y, ref) < FLOAT64_BOUND


@pytest.mark.parametrize("tile", wg.TILES)
@pytest.mark.parametrize("padding", [0, 1])
def test_input_grad_is_the_adjoint_of_the_forward(tile, padding):
    w = np.random.default_rng(1).standard_normal((3, 2, 3, 3))
    shape = (2, 2, 7, 6)
    adjoint_check(
        lambda x: tinynet.tensor(wg.winograd_conv3x3(x.numpy(), w, padding, tile)),
        shape,
        adjoint=lambda gy: tinynet.tensor(wg.winograd_conv3x3_input_grad(gy.numpy(), w, padding, tile)),
        rtol=1e-12,
    )


def test_a_wrong_adjoint_is_caught():
    """The adjoint check above can fail: the forward's own map is not its adjoint."""
    w = np.random.default_rng(2).standard_normal((2, 2, 3, 3))
    with pytest.raises(tinynet.testing.AdjointError):
        adjoint_check(
            lambda x: tinynet.tensor(wg.winograd_conv3x3(x.numpy(), w, 1)),
            (1, 2, 5, 5),
            adjoint=lambda gy: tinynet.tensor(wg.winograd_conv3x3(gy.numpy(), w, 1)),
        )


# ----------------------------------------------------------------------------------------- float32
@pytest.mark.parametrize("tile", wg.TILES)
@pytest.mark.parametrize("shape", [(4, 16, 16, 20, 20), (2, 64, 64, 9, 9), (3, 3, 16, 17, 13)])
def test_float32_stays_float32_within_the_documented_bound(tile, shape):
    N, C, Co, H, W = shape
    rng = np.random.default_rng(3)
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((Co, C, 3, 3)) * 0.1
    gy = rng.standard_normal((N, Co, H, W))
    x32, w32, gy32 = (a.astype(np.float32) for a in (x, w, gy))
    y = wg.winograd_conv3x3(x32, w32, 1, tile)
    dx, dw = wg.winograd_conv3x3_backward(x32, gy32, w32, 1, tile)
    assert y.dtype == dx.dtype == dw.dtype == np.float32
    dx64, dw64 = wg.winograd_conv3x3_backward(x, gy, w, 1, 2)
    assert rel_err(y, direct_conv3x3(x, w, 1)) < FLOAT32_BOUND[tile]
    assert rel_err(dx, dx64) < FLOAT32_BOUND[tile]
    assert rel_err(dw, dw64) < FLOAT32_BOUND[tile]


# ----------------------------------------------------------------------------------------- workspaces
def test_workspaces_are_reused_across_calls_and_out_is_written():
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((3, 4, 10, 10)), rng.standard_normal((5, 4, 3, 3))
    gy = rng.standard_normal((3, 5, 10, 10))
    workspace.release()
    y = wg.winograd_conv3x3(x, w, 1, 4)
    dx, dw = wg.winograd_conv3x3_backward(x, gy, w, 1, 4)
    buffers = {k: id(v) for k, v in workspace._BUFFERS.items()}
    assert buffers and workspace.held_bytes() > 0
    out = np.empty_like(y)
    assert wg.winograd_conv3x3(x, w, 1, 4, out=out) is out
    dx2, dw2 = wg.winograd_conv3x3_backward(x, gy, w, 1, 4)
    assert {k: id(v) for k, v in workspace._BUFFERS.items()} == buffers  # no new buffer for the same geometry
    np.testing.assert_array_equal(out, y)
    np.testing.assert_array_equal(dx2, dx)
    np.testing.assert_array_equal(dw2, dw)
    workspace.release()
    assert workspace.held_bytes() == 0


# ----------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda x, w: wg.winograd_conv3x3(x, w, 1, 3), ValueError, "tile must be one of"),
        (lambda x, w: wg.winograd_conv3x3(x, w, -1), ValueError, "padding must be"),
        (lambda x, w: wg.winograd_conv3x3(x[0], w), ValueError, "x must be 4-D"),
        (lambda x, w: wg.winograd_conv3x3(x, w[:, :1]), ValueError, r"weight must have shape \(C_out, 2, 3, 3\)"),
        (lambda x, w: wg.winograd_conv3x3(x, w.astype(np.float32)), TypeError, "weight dtype float32"),
        (lambda x, w: wg.winograd_conv3x3(x.astype(np.int64), w), TypeError, "x must be float32 or float64"),
        (lambda x, w: wg.winograd_conv3x3(x[..., :1, :1], w, 0), ValueError, "smaller than the 3x3 kernel"),
        (lambda x, w: wg.winograd_conv3x3(x, w, 1, out=np.empty(3)), ValueError, "out must be"),
        (lambda x, w: wg.winograd_conv3x3_input_grad(x, w), ValueError, "gy has 2 channels but weight has C_out = 4"),
        (lambda x, w: wg.winograd_conv3x3_weight_grad(x, x[:, :, :2]), ValueError, "x must be a float64 array"),
    ],
)
def test_bad_arguments_raise_before_any_kernel_runs(call, error, match):
    x, w = np.ones((1, 2, 5, 5)), np.ones((4, 2, 3, 3))
    with pytest.raises(error, match=match):
        call(x, w)


# ----------------------------------------------------------------------------------------- no JIT
_NO_JIT = textwrap.dedent(
    """
    import sys
    import numpy as np
    from tinynet.kernels import winograd as wg

    def results():
        rng = np.random.default_rng(5)
        x, w, gy = rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal((2, 3, 5, 4))
        out = []
        for tile in wg.TILES:
            out.append(wg.winograd_conv3x3(x, w, 1, tile))
            out.extend(wg.winograd_conv3x3_backward(x, gy, w, 1, tile))
        return out

    if __name__ == "__main__":
        from numba import config
        assert config.DISABLE_JIT
        np.savez(sys.argv[1], *results())
    """
)


def test_kernels_run_without_the_jit_and_agree_with_the_compiled_ones(tmp_path):
    script = tmp_path / "nojit_winograd.py"
    script.write_text(_NO_JIT)
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "out.npz")], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    namespace: dict = {}
    exec(compile(_NO_JIT.replace('if __name__ == "__main__":', "if False:"), "nojit", "exec"), namespace)
    compiled = namespace["results"]()
    plain = np.load(tmp_path / "out.npz")
    assert len(plain.files) == len(compiled) == 6
    for i, want in enumerate(compiled):
        np.testing.assert_allclose(plain[f"arr_{i}"], want, rtol=1e-12, atol=1e-12, err_msg=f"result {i}")
