"""The fast tier's scratch buffers (tinynet/kernels/workspace.py): reused across calls, per thread, released on request."""

from __future__ import annotations

import threading

import numpy as np

import tinynet
import tinynet.nn.functional as F
from tinynet.kernels import workspace


def test_a_role_reuses_one_buffer_grown_to_the_largest_request():
    workspace.release()
    a = workspace.scratch("test", (4, 5), np.float64)
    b = workspace.scratch("test", (2, 3), np.float64)
    assert np.shares_memory(a, b) and b.shape == (2, 3) and b.flags.c_contiguous
    c = workspace.scratch("test", (10, 10), np.float64)  # larger: a new buffer, kept from now on
    assert c.shape == (10, 10) and workspace.held_bytes() == 100 * 8
    assert np.shares_memory(c, workspace.scratch("test", (4, 5), np.float64))
    assert not np.shares_memory(c, workspace.scratch("test", (4, 5), np.float32))  # dtypes apart
    workspace.release()
    assert workspace.held_bytes() == 0


def test_requests_above_the_limit_are_not_kept():
    workspace.release()
    big = workspace.scratch("test", (workspace.LIMIT_BYTES // 8 + 1,), np.float64)
    assert big.nbytes > workspace.LIMIT_BYTES and workspace.held_bytes() == 0


def test_threads_get_their_own_buffers():
    workspace.release()
    mine = workspace.scratch("test", (8,), np.float64)
    theirs = []
    t = threading.Thread(target=lambda: theirs.append(workspace.scratch("test", (8,), np.float64)))
    t.start()
    t.join()
    assert not np.shares_memory(mine, theirs[0])
    workspace.release()


def test_a_conv_reuses_its_columns_and_results_stay_valid():
    workspace.release()
    rng = np.random.default_rng(0)
    x = tinynet.tensor(rng.standard_normal((2, 3, 9, 9)), requires_grad=True)
    w = tinynet.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    y1 = F.conv2d(x, w, padding=1)
    held = dict(workspace._BUFFERS)
    assert held, "the im2col path took no scratch buffer"
    y2 = F.conv2d(x * 2, w, padding=1)  # the same buffer, new contents
    assert {k: id(v) for k, v in workspace._BUFFERS.items()} == {k: id(v) for k, v in held.items()}
    np.testing.assert_allclose(y2.detach().numpy(), 2 * y1.detach().numpy(), rtol=1e-12, atol=1e-12)
    workspace.release()
