"""Scratch buffers (tinynet/kernels/workspace.py, used by the Winograd kernels): reused across calls, per thread, released on
request; and written zeros for the outputs that scatter kernels add into."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

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


def _resident_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_zeros_are_zeros_of_the_shape_and_dtype_and_fresh():
    a = workspace.zeros((3, 4), np.float32)
    b = workspace.zeros((3, 4), np.float32)
    assert a.shape == (3, 4) and a.dtype == np.float32 and a.flags.c_contiguous and a.flags.writeable
    assert not a.any() and not np.shares_memory(a, b)


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="resident-set size read from Linux's /proc")
def test_zeros_writes_its_pages_so_scatter_kernels_do_not_fault_twice():
    # A 64 MB block comes from mmap; np.zeros would leave it unmapped (resident size unchanged) and
    # a kernel adding into it would fault each page twice (read: the zero page; write: a copy).
    before = _resident_bytes()
    a = workspace.zeros((16 << 20,), np.float32)
    grown = _resident_bytes() - before
    assert grown >= 0.9 * a.nbytes, f"only {grown} of {a.nbytes} bytes resident after zeros()"
