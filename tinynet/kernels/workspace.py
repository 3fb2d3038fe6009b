"""Scratch buffers the fast tier reuses across calls (Winograd's tile slabs), and written zeros.

(:func:`zeros` is for the functional layer: the outputs that scatter kernels of either tier add into.)

A training step runs the same convolutions every time, and each needs a scratch buffer of a few
MB (a chunk of columns, a chunk of transformed tiles) that it fills, uses and forgets. Allocated
afresh per call, a buffer that large comes from ``mmap`` and is page-faulted in again every step,
and whether it does depends on glibc's adaptive mmap threshold: the same program then runs at two
different speeds from one process to the next (benchmarks/STEP.md has the figures). So the fast
tier asks :func:`scratch` instead: one buffer per (thread, role, dtype), grown to the largest
size asked for and handed out as a view, so a step's scratch is allocated once per process.

Rules that make the sharing safe:

* a scratch view is valid until the next :func:`scratch` call with the same role in the same
  thread; no kernel returns one (results are always fresh arrays), and a caller that needs two
  buffers at once asks for two roles;
* buffers are per thread (keyed by ``threading.get_ident()``), so data-loader or user threads
  never share one;
* a request above :data:`LIMIT_BYTES` gets a fresh array that is not kept, so one huge call
  does not pin its memory for the rest of the process;
* :func:`release` frees every thread's buffers (the next call allocates again): call it after
  training to give the memory back. :func:`held_bytes` says how much is held.

Example:
    >>> import numpy as np
    >>> a = scratch("example", (2, 3), np.float32)
    >>> b = scratch("example", (3, 2), np.float32)  # the same memory, reshaped
    >>> bool(np.shares_memory(a, b)), b.shape, b.dtype
    (True, (3, 2), dtype('float32'))
    >>> release()
    >>> held_bytes()
    0
"""

from __future__ import annotations

import threading
from math import prod

import numpy as np

# Requests above this many bytes are not kept (the im2col chunks are about 8 MB, Winograd's slabs 1 MB).
LIMIT_BYTES = 64 << 20

_LOCK = threading.Lock()
_BUFFERS: dict[tuple, np.ndarray] = {}  # (thread id, role, dtype) -> a flat buffer


def scratch(role: str, shape: tuple, dtype) -> np.ndarray:
    """A C-contiguous array of ``shape`` and ``dtype`` (contents undefined), reused across calls.

    Shape:
        - the view: ``shape``; the buffer behind it: at least ``prod(shape)`` elements
    """
    dtype = np.dtype(dtype)
    size = prod(shape)
    if size * dtype.itemsize > LIMIT_BYTES:
        return np.empty(shape, dtype=dtype)
    key = (threading.get_ident(), role, dtype.str)
    buf = _BUFFERS.get(key)
    if buf is None or buf.size < size:
        buf = np.empty(size, dtype=dtype)
        with _LOCK:
            _BUFFERS[key] = buf
    return buf[:size].reshape(shape)


def zeros(shape: tuple, dtype) -> np.ndarray:
    """A fresh array of zeros, written rather than only reserved: for outputs that kernels add into.

    ``np.zeros`` of a large array gets its memory from ``calloc``, which for blocks that ``mmap``
    serves leaves the pages unmapped. A scatter kernel then reads each page before it writes it:
    the read maps the shared zero page and the write faults a second time to copy it. With every
    large block mmapped (``MALLOC_MMAP_THRESHOLD_=65536``), zeros plus bed-of-nails' scatter into a
    (256, 64, 64) float32 output took 5.1 ms; written zeros plus the same scatter 1.7 ms (0.73 ms
    each when the heap serves the block). Inside the bed-of-nails training step that scatter took
    8-10 ms into ``np.zeros`` and 0.55 ms into written zeros (benchmarks/PROFILE.md).

    Shape:
        - ``shape``
    """
    out = np.empty(shape, dtype=dtype)
    out.fill(0)
    return out


def release() -> None:
    """Free the scratch buffers of every thread, and the convolutions' spare column arrays (later calls allocate again)."""
    from tinynet.kernels import conv_planner  # here, not at the top: workspace stays a leaf the kernels import

    with _LOCK:
        _BUFFERS.clear()
    conv_planner.release_spare()


def held_bytes() -> int:
    """Bytes held in scratch buffers, over all threads and roles."""
    with _LOCK:
        return sum(buf.nbytes for buf in _BUFFERS.values())
