"""Training-step time across fresh processes: does a step run at the same speed in every process?

Issue 14 found tinynet's step bimodal across processes with the same code and seed (large
temporaries mmapped and page-faulted afresh each step, depending on glibc's adaptive mmap
threshold). This runs the step of a model in ``--processes`` fresh processes per framework, one
process at a time (each framework alone, never interleaved), and reports each process's median
step time, and the spread over processes: (slowest median - fastest median) / fastest median.

Models: ``bilinear`` (the example's ``tinynet.models.EncoderDecoder``, bilinear decoder; any
upsampling mode of it works) and ``fullres`` (the full-resolution encoder-decoder of
benchmarks/fullres.py); batch 16, 3x64x64, SGD with momentum, against the torch twin with the
same weights (torch on 2 threads).

Every process imports tinynet (the torch twin takes its weights), and importing tinynet sets
glibc's malloc thresholds (tinynet/kernels/heap.py). ``--torch-heap system`` (the default) runs
torch's processes with ``TINYNET_MALLOC=system``, so torch runs on malloc as a torch user has it;
``--torch-heap tuned`` gives torch tinynet's thresholds too, to compare the two on equal heaps.

    python benchmarks/bench_step_processes.py                         # both models, 5 processes each
    python benchmarks/bench_step_processes.py --model fullres --processes 5 --steps 12
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FRAMEWORKS = ("tinynet", "torch")


def child(framework: str, model: str, steps: int, warmup: int) -> dict:
    """In this (fresh) process: ``warmup`` steps, then ``steps`` timed ones; the median and the fastest, in ms."""
    import torch

    from benchmarks.bench_train import step_functions

    torch.set_num_threads(2)
    tiny, ref = step_functions(model)
    step = tiny if framework == "tinynet" else ref
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    return {"median": statistics.median(times), "min": min(times)}


def run(model: str, processes: int, steps: int, warmup: int, torch_heap: str = "system") -> dict:
    """{framework: [child result per process]}, the processes run one after the other."""
    from benchmarks.harness import process_env

    results = {name: [] for name in FRAMEWORKS}
    for _ in range(processes):
        for name in FRAMEWORKS:
            cmd = [sys.executable, __file__, "--child", name, "--model", model, "--steps", str(steps)]
            env = process_env(name, torch_heap, PYTHONPATH=str(ROOT))
            res = subprocess.run(cmd + ["--warmup", str(warmup)], capture_output=True, text=True, env=env)
            if res.returncode:
                raise RuntimeError(f"{name} {model} process failed:\n{res.stderr}")
            results[name].append(json.loads(res.stdout.strip().splitlines()[-1]))
    return results


def report(model: str, results: dict) -> str:
    lines = [f"{model}: per-process median step (ms), processes in order; spread = (max - min) / min"]
    for name, runs in results.items():
        medians = [r["median"] for r in runs]
        spread = (max(medians) - min(medians)) / min(medians)
        listed = ", ".join(f"{m:.0f}" for m in medians)
        lines.append(f"  {name:8s} {listed}   median {statistics.median(medians):.0f}  spread {spread:.0%}")
    t, r = (statistics.median(x["median"] for x in results[name]) for name in FRAMEWORKS)
    lines.append(f"  ratio tinynet / torch (medians of the process medians): {t / r:.2f}")
    return "\n".join(lines)


def main(argv=None) -> None:
    from benchmarks.harness import add_torch_heap_option, torch_heap_label

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help="bilinear (or another mode) or fullres; repeatable")
    parser.add_argument("--processes", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    add_torch_heap_option(parser)
    parser.add_argument("--child", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    models = args.model or ["bilinear", "fullres"]
    if args.child:
        print(json.dumps(child(args.child, models[0], args.steps, args.warmup)))
        return
    print(f"torch's processes: {torch_heap_label(args.torch_heap)}")
    for model in models:
        print(report(model, run(model, args.processes, args.steps, args.warmup, args.torch_heap)), flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
