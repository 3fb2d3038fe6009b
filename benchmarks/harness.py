"""Timing tinynet against torch side by side, in one process.

A benchmark module defines ``cases()`` returning a list of :class:`Case`; each
case holds a tinynet callable and a torch callable doing the same work
(typically forward + backward). ``benchmarks/run.py`` times them interleaved,
after warm-up, and reports medians and the ratio tinynet / torch. The scripts that time
each framework alone in fresh processes (alone.py, bench_step_processes.py) share
:func:`add_torch_heap_option` and :func:`process_env`: which malloc torch's processes run on.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

TORCH_HEAPS = ("system", "tuned")


def add_torch_heap_option(parser) -> None:
    """``--torch-heap``: torch's processes on glibc's malloc as is (the default) or with tinynet's thresholds.

    Every process imports tinynet (the cases build both sides), and importing tinynet sets glibc's
    malloc thresholds (tinynet/kernels/heap.py); ``system`` turns that off in torch's processes."""
    parser.add_argument(
        "--torch-heap",
        choices=TORCH_HEAPS,
        default="system",
        help="torch's processes on glibc's malloc as is (default) or with tinynet's thresholds",
    )


def torch_heap_label(torch_heap: str) -> str:
    return "glibc malloc as is" if torch_heap == "system" else "tinynet heap policy"


def process_env(framework: str, torch_heap: str, **extra) -> dict:
    """The environment of a fresh ``framework`` process: torch's gets ``TINYNET_MALLOC=system`` unless ``torch_heap`` is 'tuned'."""
    env = dict(os.environ, **extra)
    if framework == "torch" and torch_heap == "system":
        env["TINYNET_MALLOC"] = "system"  # glibc's malloc as a torch user has it
    return env


@dataclass
class Case:
    group: str  # the heading, e.g. "conv2d"
    name: str  # the shape, e.g. "N16 C16->16 64x64 k3 p1"
    tinynet: Callable[[], object]
    torch: Callable[[], object]
    target: float = 1.5  # the ratio the issue asks for
    notes: str = ""
    extra: dict = field(default_factory=dict)


def median_time(fn: Callable[[], object], repeat: int, warmup: int) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeat`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def compare(case: Case, repeat: int = 15, warmup: int = 3, rounds: int = 3) -> dict:
    """Time both sides in alternating rounds (so drifting machine load hits both) and take medians."""
    t_tiny, t_torch = [], []
    for _ in range(rounds):
        t_tiny.append(median_time(case.tinynet, repeat, warmup))
        t_torch.append(median_time(case.torch, repeat, warmup))
    tiny, ref = statistics.median(t_tiny), statistics.median(t_torch)
    per_round = [a / b for a, b in zip(t_tiny, t_torch)]  # how far the shared machine moved the ratio
    return {
        "group": case.group,
        "name": case.name,
        "tinynet_ms": tiny * 1e3,
        "torch_ms": ref * 1e3,
        "ratio": tiny / ref,
        "ratio_range": (min(per_round), max(per_round)),
        "target": case.target,
        "notes": case.notes,
    }
