"""Scratch buffers (tinynet/kernels/workspace.py, used by the Winograd kernels): reused across calls, per thread, released on
request; and written zeros for the outputs that scatter kernels add into."""

from __future__ import annotations

import ctypes
import mmap
import sys
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


def _resident_fraction(a: np.ndarray) -> float:
    """The fraction of ``a``'s own pages that are resident, asked of the kernel with mincore(2).

    Counting the pages of this one block (rather than the process's resident size before and
    after) keeps the test blind to whatever else the process maps or frees meanwhile."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_ubyte)]
    page = mmap.PAGESIZE
    start = a.ctypes.data // page * page
    end = -(-(a.ctypes.data + a.nbytes) // page) * page
    vec = (ctypes.c_ubyte * ((end - start) // page))()
    if libc.mincore(start, end - start, vec) != 0:
        raise OSError(ctypes.get_errno(), "mincore")
    return sum(v & 1 for v in vec) / len(vec)


def test_zeros_are_zeros_of_the_shape_and_dtype_and_fresh():
    a = workspace.zeros((3, 4), np.float32)
    b = workspace.zeros((3, 4), np.float32)
    assert a.shape == (3, 4) and a.dtype == np.float32 and a.flags.c_contiguous and a.flags.writeable
    assert not a.any() and not np.shares_memory(a, b)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mincore(2) on anonymous memory as Linux reports it")
def test_zeros_writes_its_pages_so_scatter_kernels_do_not_fault_twice():
    # When malloc serves a block with a fresh mmap, np.zeros (calloc) leaves its pages unmapped and a
    # kernel adding into it faults each page twice (read: the shared zero page; write: a copy).
    # Whether it does depends on the heap's state (a block may also come back from the heap,
    # resident), so the contrast below is a fresh anonymous mapping, which is what calloc hands out then.
    a = workspace.zeros((16 << 20,), np.float32)
    assert _resident_fraction(a) >= 0.99, f"only {_resident_fraction(a):.1%} of zeros()' pages are resident"
    fresh = mmap.mmap(-1, 64 << 20)
    try:
        untouched = np.frombuffer(fresh, np.float32)
        assert _resident_fraction(untouched) < 0.5  # the check tells unmapped pages apart
        del untouched
    finally:
        fresh.close()
