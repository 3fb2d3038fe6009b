"""The heap policy: glibc's malloc keeps the memory a training step frees for the next step.

A training step allocates and frees the same arrays every time: activations, gradients, softmax
probabilities, from a few hundred KB to tens of MB. glibc's malloc hands blocks above its *mmap
threshold* to ``mmap`` (and gives them back with ``munmap`` when freed), and gives the free top of
its heap back to the system once that exceeds its *trim threshold*. Both start at 128 KB and only
grow as large blocks happen to be freed (to an mmapped block's size and twice that, up to 32 MB
and 64 MB), so in a fresh process the next step's arrays land on fresh pages, and every page
faults on first touch. Measured on the benchmark machine (benchmarks/PROFILE.md, "The heap gave
a step's memory back"): 4,080 faults a training step of the EncoderDecoder example (16 MB of
pages), and 608 faults a call of cross_entropy's forward and backward at N16 C4 64x64, which made
the call 1.7-2.0x slower.

So on import, on Linux with glibc, tinynet sets both thresholds to where glibc's own adaptive rule
ends up once a 32 MB block has been freed: ``M_MMAP_THRESHOLD`` 32 MB (smaller blocks come from
the heap) and ``M_TRIM_THRESHOLD`` 64 MB (up to that much free heap stays with the process). After
that a step reuses the previous step's pages. The price: between steps the process may hold up to
64 MB more than it uses. Its peak did not move on the example's training steps (520 against 521 MB,
full resolution 649 against 650 MB: the peak is a step's own working set).

The environment decides otherwise. ``TINYNET_MALLOC=system`` leaves malloc as it is, and so does
any malloc setting of glibc's own (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``,
``MALLOC_TOP_PAD_``, ``MALLOC_MMAP_MAX_``, ``glibc.malloc`` in ``GLIBC_TUNABLES``) or an allocator preloaded in its
place (``LD_PRELOAD`` naming jemalloc, tcmalloc, mimalloc...). :data:`POLICY` says what was done.

Like the thread policy (kernels/threads.py) this is process-wide: it applies to every library in
the process, torch included when both are imported.
"""

from __future__ import annotations

import ctypes
import os
import platform

M_TRIM_THRESHOLD = -1  # mallopt's parameter numbers, from glibc's <malloc.h>
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 << 20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit systems
TRIM_THRESHOLD_BYTES = 64 << 20  # twice the mmap threshold, as glibc's adaptive rule sets it

CHOICES = ("tuned", "system")
_GLIBC_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")


def on_glibc() -> bool:
    """Linux with glibc: the one C library whose malloc thresholds this policy knows how to set."""
    return platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def _choice(environ) -> str:
    value = environ.get("TINYNET_MALLOC", "tuned")
    if value not in CHOICES:
        raise ValueError(f"the environment variable TINYNET_MALLOC must be one of {CHOICES}, got {value!r}")
    return value


def apply(environ=os.environ) -> str:
    """Set glibc's thresholds unless the environment says otherwise; returns what was done (:data:`POLICY`)."""
    if _choice(environ) == "system":
        return "system (TINYNET_MALLOC=system)"
    settings = [name for name in _GLIBC_SETTINGS if name in environ]
    if "glibc.malloc" in environ.get("GLIBC_TUNABLES", ""):
        settings.append("GLIBC_TUNABLES")
    if settings:
        return f"system (the environment sets {', '.join(settings)})"
    preload = environ.get("LD_PRELOAD", "")
    if "malloc" in preload:
        return f"system (LD_PRELOAD={preload})"
    if not on_glibc():
        return f"system (not Linux with glibc: {platform.system()} {platform.libc_ver()[0] or 'no glibc'})"
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return "system (no mallopt in the C library)"
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    if mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) != 1 or mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) != 1:
        return "system (mallopt refused the thresholds)"
    return f"tuned (mmap threshold {MMAP_THRESHOLD_BYTES >> 20} MB, trim threshold {TRIM_THRESHOLD_BYTES >> 20} MB)"


POLICY = apply()
