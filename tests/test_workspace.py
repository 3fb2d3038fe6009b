"""Scratch buffers (tinynet/kernels/workspace.py, used by the Winograd kernels): reused across calls, per thread, released on request."""

from __future__ import annotations

import threading

import numpy as np

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
