"""Each framework alone in fresh processes, for the cases of ``benchmarks/run.py``.

``run.py`` times tinynet and torch interleaved in one process, where one framework's idle
threads (torch's OpenMP pool, OpenBLAS's) can slow the other, and per-process effects
(allocation, thread start-up) never show. This runs every case of the chosen benchmark
modules in ``--processes`` rounds of fresh processes, one per framework and case, the two
frameworks alternating; each process builds the case, warms it up and reports the median of
``--repeat`` calls, and only its own framework's callable ever runs (torch is imported, since
the case builds both sides, but does no work in a tinynet process). The report gives each
process's median, the spread (slowest - fastest) / fastest, and the ratio of the medians.
As in bench_step_processes.py, torch's processes run with ``TINYNET_MALLOC=system`` (glibc's
malloc as a torch user has it) unless ``--torch-heap tuned``.

    python benchmarks/alone.py conv                 # the conv2d and conv_transpose2d cases
    python benchmarks/alone.py pool toolkit --processes 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FRAMEWORKS = ("tinynet", "torch")


def _cases(module: str) -> list:
    import importlib

    return list(getattr(importlib.import_module(f"benchmarks.{module}"), "cases", list)())


def child(framework: str, module: str, index: int, repeat: int, warmup: int) -> float:
    """In this fresh process: the median wall time (ms) of case ``index`` of ``module``, one framework only."""
    import torch

    from benchmarks.harness import median_time

    torch.set_num_threads(2)
    case = _cases(module)[index]
    return median_time(getattr(case, framework), repeat, warmup) * 1e3


def run(modules: list, processes: int, repeat: int, warmup: int, torch_heap: str = "system") -> list:
    """[(case, {framework: [median ms per process]})] for every case of ``modules``."""
    from benchmarks.harness import process_env

    results = []
    for module in modules:
        for index, case in enumerate(_cases(module)):
            times: dict = {name: [] for name in FRAMEWORKS}
            for _ in range(processes):
                for name in FRAMEWORKS:
                    cmd = [sys.executable, __file__, "--child", name, module, str(index), str(repeat), str(warmup)]
                    env = process_env(name, torch_heap)
                    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
                    if res.returncode:
                        raise RuntimeError(f"{name} {case.group} {case.name}: process failed:\n{res.stderr}")
                    times[name].append(json.loads(res.stdout.strip().splitlines()[-1]))
            results.append((case, times))
            print(_row(case, times), flush=True)
    return results


def _row(case, times: dict) -> str:
    def listed(name):
        v = times[name]
        return ", ".join(f"{t:.2f}" for t in v) + f" (spread {(max(v) - min(v)) / min(v):.0%})"

    t, r = (statistics.median(times[name]) for name in FRAMEWORKS)
    return (
        f"| {case.group} | {case.name} | {listed('tinynet')} | {listed('torch')} | {t / r:.2f} | ≤ {case.target:.1f} |"
    )


def main(argv=None) -> int:
    from benchmarks.harness import add_torch_heap_option, torch_heap_label

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="+", help="benchmark modules whose name contains one of these words (conv, pool)")
    parser.add_argument("--processes", type=int, default=3, help="fresh processes per framework and case")
    parser.add_argument("--repeat", type=int, default=15, help="timed calls per process (median taken)")
    parser.add_argument("--warmup", type=int, default=3)
    add_torch_heap_option(parser)
    parser.add_argument("--child", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:  # positional: module, case index, repeat, warmup
        module, index, repeat, warmup = args.only[0], *map(int, args.only[1:4])
        print(json.dumps(child(args.child, module, index, repeat, warmup)))
        return 0
    from benchmarks.run import bench_modules

    modules = [m.__name__.rsplit(".", 1)[1] for m in bench_modules(args.only)]
    print(
        f"Each framework alone: {args.processes} fresh processes per framework and case, alternating; "
        f"each the median of {args.repeat} calls after {args.warmup} warm-up calls (ms); torch's processes on "
        f"{torch_heap_label(args.torch_heap)}.\n"
    )
    print("| group | case | tinynet per process | torch per process | ratio of medians | target |")
    print("|---|---|---|---|---:|---:|")
    run(modules, args.processes, args.repeat, args.warmup, args.torch_heap)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
