"""Time tinynet at two git revisions on the same cases, alternating fresh processes.

    python benchmarks/compare_revisions.py 2214a24                 # that revision vs the working tree
    python benchmarks/compare_revisions.py 2214a24 --new HEAD conv pool  # two revisions, some modules
    python benchmarks/compare_revisions.py OLD --threads 1         # single-threaded CPU time too

A change that should not cost speed (a refactor, a new tier, a backward rewritten in ops) is
judged here: each revision is unpacked (``git archive``) into a temporary folder, and every
round starts one fresh process per revision, alternating old, new, old, new, ... so that
drifting machine load and per-process effects (allocation, thread start-up) hit both. Each
process imports tinynet *and* the benchmark cases of its own revision, runs every case both
revisions have (same group and name) for tinynet and for torch, and reports medians of wall
time and of process CPU time. The table gives, per case, the median over rounds of
new / old for tinynet's wall and CPU time, and of the tinynet / torch ratio in each revision
(torch is the same in both processes, so a drift in the ratio is tinynet's).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# Run inside each fresh process: argv = [root, only..., "--", repeat, warmup, threads].
_CHILD = r"""
import gc, json, statistics, sys, time
root, rest = sys.argv[1], sys.argv[2:]
cut = rest.index("--")
only, (repeat, warmup, threads) = rest[:cut], map(int, rest[cut + 1:])
sys.path.insert(0, root)
import torch
torch.set_num_threads(threads)
from benchmarks.run import bench_modules

def timed(fn):
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repeat):
        gc.collect()
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)

out = {}
for mod in bench_modules(only):
    for case in getattr(mod, "cases", list)():
        (tw, tc), (rw, rc) = timed(case.tinynet), timed(case.torch)
        out[f"{case.group}: {case.name}"] = {"wall": tw, "cpu": tc, "torch_wall": rw}
print("RESULT " + json.dumps(out))
"""


def unpack(rev: str, into: Path) -> Path:
    """The files of ``rev`` (a commit-ish) in a fresh folder."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    into.mkdir(parents=True)
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def run_once(root: Path, only: list[str], repeat: int, warmup: int, threads: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(root))
    for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    args = [sys.executable, "-c", _CHILD, str(root), *only, "--", str(repeat), str(warmup), str(threads)]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, cwd=root)
    line = next((s for s in proc.stdout.splitlines() if s.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"benchmark process in {root} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return json.loads(line[len("RESULT ") :])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", help="the revision to compare against (e.g. a commit hash)")
    parser.add_argument("--new", default=None, help="the new revision (default: the working tree)")
    parser.add_argument("only", nargs="*", help="only benchmark modules whose name contains one of these words")
    parser.add_argument("--rounds", type=int, default=5, help="fresh processes per revision, alternating")
    parser.add_argument("--repeat", type=int, default=9, help="timed calls per case and process (median)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="threads for numba, BLAS and torch")
    parser.add_argument("--out", default=None, help="also write the markdown table here")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="tinynet-revisions-") as tmp:
        old_root = unpack(args.old, Path(tmp) / "old")
        new_root = ROOT if args.new is None else unpack(args.new, Path(tmp) / "new")
        runs = {"old": [], "new": []}
        for r in range(args.rounds):
            for side, root in (("old", old_root), ("new", new_root)):
                runs[side].append(run_once(root, args.only, args.repeat, args.warmup, args.threads))
                print(f"round {r + 1}/{args.rounds}: {side} done", file=sys.stderr, flush=True)

    cases = [k for k in runs["new"][0] if k in runs["old"][0]]
    new_label = args.new or "working tree"
    lines = [
        f"tinynet at {new_label} vs {args.old}: {args.rounds} alternating fresh processes per revision, "
        f"{args.threads} thread(s), each case the median of {args.repeat} calls per process.",
        "",
        "| case | old wall (ms) | new wall (ms) | new/old wall [range] | new/old CPU | ratio to torch old -> new |",
        "|---|---:|---:|:---:|---:|:---:|",
    ]
    for key in cases:
        old = [run[key] for run in runs["old"]]
        new = [run[key] for run in runs["new"]]
        wall = [n["wall"] / o["wall"] for o, n in zip(old, new)]
        cpu = [n["cpu"] / o["cpu"] for o, n in zip(old, new)]
        r_old = statistics.median(o["wall"] / o["torch_wall"] for o in old)
        r_new = statistics.median(n["wall"] / n["torch_wall"] for n in new)
        lines.append(
            f"| {key} | {statistics.median(o['wall'] for o in old) * 1e3:.2f} | "
            f"{statistics.median(n['wall'] for n in new) * 1e3:.2f} | "
            f"{statistics.median(wall):.3f} [{min(wall):.2f}-{max(wall):.2f}] | {statistics.median(cpu):.3f} | "
            f"{r_old:.2f} -> {r_new:.2f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
