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

``--paired`` measures the other way round: both revisions in *one* process. The old one is
unpacked with its packages renamed (``tinynet`` -> ``tinynet_old``, ``benchmarks`` ->
``benchmarks_old``, every occurrence of the two names in its .py files), so both import side by
side; each round (a fresh process) then alternates one call of the old case with one call of the
new, ``--repeat`` pairs per case, and the table gives the median over all pairs of new / old with
its quartiles, in process CPU time and in wall time. Machine noise that drifts over seconds (other tenants, clock changes) hits both
sides of a pair alike, so this resolves differences of a few percent that fresh processes, whose
medians move by tens of percent from one process to the next on a shared machine, cannot. It
does not see per-process effects (allocation, thread start-up): use both modes.
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

# Both revisions in one process: argv = [new root, old root, only..., "--", repeat, warmup, threads].
_PAIRED_CHILD = r"""
import gc, json, sys, time
new_root, old_root, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
cut = rest.index("--")
only, (repeat, warmup, threads) = rest[:cut], map(int, rest[cut + 1:])
sys.path[:0] = [new_root, old_root]
import torch
torch.set_num_threads(threads)
from benchmarks.run import bench_modules as new_modules
from benchmarks_old.run import bench_modules as old_modules

def calls(modules, field):  # the old tree's Case has its tinynet field renamed too
    return {f"{c.group}: {c.name}": getattr(c, field) for m in modules(only) for c in getattr(m, "cases", list)()}

old, new = calls(old_modules, "tinynet_old"), calls(new_modules, "tinynet")
out = {}
for key in [k for k in new if k in old]:
    for _ in range(warmup):
        old[key](); new[key]()
    pairs = []
    for i in range(repeat):
        t = {}
        for side, fn in ((("old", old[key]), ("new", new[key])) if i % 2 else (("new", new[key]), ("old", old[key]))):
            gc.collect()
            c0, w0 = time.process_time(), time.perf_counter()
            fn()
            t[side] = (time.process_time() - c0, time.perf_counter() - w0)
        pairs.append([t["old"][0], t["new"][0], t["old"][1], t["new"][1]])
    out[key] = pairs
print("RESULT " + json.dumps(out))
"""


def unpack(rev: str, into: Path) -> Path:
    """The files of ``rev`` (a commit-ish) in a fresh folder."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    into.mkdir(parents=True)
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def rename_packages(root: Path) -> Path:
    """Make the unpacked tree at ``root`` importable next to another: ``tinynet_old``, ``benchmarks_old``."""
    import re

    for name in ("tinynet", "benchmarks"):
        (root / name).rename(root / f"{name}_old")
    pattern = re.compile(r"\b(tinynet|benchmarks)\b")
    for path in root.rglob("*.py"):
        path.write_text(pattern.sub(lambda m: m.group(1) + "_old", path.read_text()))
    return root


def paired_table(rounds: list[dict], new_label: str, old: str, repeat: int, threads: int) -> list[str]:
    lines = [
        f"tinynet at {new_label} vs {old}, paired in one process: {len(rounds)} fresh process(es), each case "
        f"{repeat} alternating old/new calls per process, {threads} thread(s); process CPU time (all threads'"
        " work) and wall time (what a caller waits: the figure for a change in how many threads run).",
        "",
        "| case | old CPU (ms) | new CPU (ms) | new/old CPU: median of pairs [quartiles] "
        "| old wall (ms) | new wall (ms) | new/old wall [quartiles] | pairs |",
        "|---|---:|---:|:---:|---:|---:|:---:|---:|",
    ]

    def summary(pairs, i):  # medians of the old and new times in columns i, i+1, and of their ratios
        ratios = sorted(p[i + 1] / p[i] for p in pairs)
        q1, med, q3 = (statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3)[:3]
        old, new = statistics.median(p[i] for p in pairs) * 1e3, statistics.median(p[i + 1] for p in pairs) * 1e3
        return f"{old:.2f} | {new:.2f} | {med:.3f} [{q1:.3f}-{q3:.3f}]"

    for key in rounds[0]:
        pairs = [p for r in rounds for p in r.get(key, [])]
        lines.append(f"| {key} | {summary(pairs, 0)} | {summary(pairs, 2)} | {len(pairs)} |")
    return lines


def run_child(code: str, roots: list[Path], only: list[str], repeat: int, warmup: int, threads: int) -> dict:
    """Run ``code`` (``_CHILD`` or ``_PAIRED_CHILD``) in a fresh process that imports from ``roots``; its RESULT."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(map(str, roots)))
    for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    args = [sys.executable, "-c", code, *map(str, roots), *only, "--", str(repeat), str(warmup), str(threads)]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, cwd=roots[0])
    line = next((s for s in proc.stdout.splitlines() if s.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"benchmark process in {roots} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return json.loads(line[len("RESULT ") :])


def fresh_table(runs: dict, new_label: str, old: str, rounds: int, repeat: int, threads: int) -> list[str]:
    lines = [
        f"tinynet at {new_label} vs {old}: {rounds} alternating fresh processes per revision, "
        f"{threads} thread(s), each case the median of {repeat} calls per process.",
        "",
        "| case | old wall (ms) | new wall (ms) | new/old wall [range] | new/old CPU | ratio to torch old -> new |",
        "|---|---:|---:|:---:|---:|:---:|",
    ]
    for key in [k for k in runs["new"][0] if k in runs["old"][0]]:
        old_runs = [run[key] for run in runs["old"]]
        new_runs = [run[key] for run in runs["new"]]
        wall = [n["wall"] / o["wall"] for o, n in zip(old_runs, new_runs)]
        cpu = [n["cpu"] / o["cpu"] for o, n in zip(old_runs, new_runs)]
        r_old = statistics.median(o["wall"] / o["torch_wall"] for o in old_runs)
        r_new = statistics.median(n["wall"] / n["torch_wall"] for n in new_runs)
        lines.append(
            f"| {key} | {statistics.median(o['wall'] for o in old_runs) * 1e3:.2f} | "
            f"{statistics.median(n['wall'] for n in new_runs) * 1e3:.2f} | "
            f"{statistics.median(wall):.3f} [{min(wall):.2f}-{max(wall):.2f}] | {statistics.median(cpu):.3f} | "
            f"{r_old:.2f} -> {r_new:.2f} |"
        )
    return lines


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
    parser.add_argument("--paired", action="store_true", help="both revisions in one process, calls alternating")
    args = parser.parse_args(argv)

    new_label = args.new or "working tree"
    with tempfile.TemporaryDirectory(prefix="tinynet-revisions-") as tmp:
        old_root = unpack(args.old, Path(tmp) / "old")
        new_root = ROOT if args.new is None else unpack(args.new, Path(tmp) / "new")
        if args.paired:
            rename_packages(old_root)
            rounds = []
            for r in range(args.rounds):
                rounds.append(
                    run_child(_PAIRED_CHILD, [new_root, old_root], args.only, args.repeat, args.warmup, args.threads)
                )
                print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
            lines = paired_table(rounds, new_label, args.old, args.repeat, args.threads)
        else:
            runs = {"old": [], "new": []}
            for r in range(args.rounds):
                for side, root in (("old", old_root), ("new", new_root)):
                    runs[side].append(run_child(_CHILD, [root], args.only, args.repeat, args.warmup, args.threads))
                    print(f"round {r + 1}/{args.rounds}: {side} done", file=sys.stderr, flush=True)
            lines = fresh_table(runs, new_label, args.old, args.rounds, args.repeat, args.threads)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
