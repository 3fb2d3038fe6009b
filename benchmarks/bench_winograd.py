"""Winograd 3x3 conv2d fwd+bwd: F(2x2,3x3) and F(4x4,3x3) vs tinynet's conv2d vs torch, side by side.

One step = forward + input gradient + weight gradient (no bias), float32, batch 16, padding 1,
on issue 14's four shapes. The four contenders run interleaved within one process, in rounds
(so drifting machine load hits all of them); each round takes the median of ``--repeat`` calls,
and the table gives the median over rounds and the spread (min-max of the round medians).
It also prints each contender's float32 error against torch's float64 result (the largest of the
three outputs' max |error| / max |reference|).

    python benchmarks/bench_winograd.py                  # wall time, 2 threads (torch and OpenBLAS)
    python benchmarks/bench_winograd.py --cpu            # one thread each, CPU time of the process
    python benchmarks/bench_winograd.py --alone torch --shape 1   # one contender alone (fresh process)
    python benchmarks/bench_winograd.py --planner        # per op and dtype: im2col vs F(2x2) vs F(4x4), CPU time

``--cpu`` measures work rather than wall time: on a shared machine the wall times of threaded
code move with the other jobs' load, the single-thread CPU time much less.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

BATCH = 16
SHAPES = [(16, 64, 16), (32, 32, 32), (64, 16, 64), (3, 64, 16)]  # (C_in, H = W, C_out)
CONTENDERS = ["winograd F(2x2)", "winograd F(4x4)", "tinynet conv2d", "torch"]


def _steps(C: int, H: int, Co: int, seed: int = 0) -> tuple[dict, dict]:
    """{contender: one fwd+bwd step} and {contender: float32 relative error vs float64}."""
    import numpy as np
    import torch

    import tinynet
    import tinynet.nn.functional as F
    from tinynet.kernels import winograd as wg

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, C, H, H))
    w = rng.standard_normal((Co, C, 3, 3)) * 0.1
    gy = rng.standard_normal((BATCH, Co, H, H))
    x32, w32, gy32 = (a.astype(np.float32) for a in (x, w, gy))

    def wino(tile):
        def step():
            y = wg.winograd_conv3x3(x32, w32, 1, tile)
            dx, dw = wg.winograd_conv3x3_backward(x32, gy32, w32, 1, tile)
            return y, dx, dw

        return step

    tx, tw = tinynet.tensor(x32, requires_grad=True), tinynet.tensor(w32, requires_grad=True)
    t_gy = tinynet.tensor(gy32)

    def tiny():
        tx.grad = tw.grad = None
        y = F.conv2d(tx, tw, padding=1)
        y.backward(t_gy)
        return y.detach().numpy(), tx.grad.numpy(), tw.grad.numpy()

    px, pw, p_gy = torch.tensor(x32, requires_grad=True), torch.tensor(w32, requires_grad=True), torch.tensor(gy32)

    def ref():
        px.grad = pw.grad = None
        y = torch.nn.functional.conv2d(px, pw, padding=1)
        y.backward(p_gy)
        return y.detach().numpy(), px.grad.numpy(), pw.grad.numpy()

    steps = {"winograd F(2x2)": wino(2), "winograd F(4x4)": wino(4), "tinynet conv2d": tiny, "torch": ref}

    qx, qw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    y64 = torch.nn.functional.conv2d(qx, qw, padding=1)
    y64.backward(torch.tensor(gy))
    exact = [y64.detach().numpy(), qx.grad.numpy(), qw.grad.numpy()]
    errors = {}
    for name, step in steps.items():
        got = step()
        errors[name] = max(float(np.abs(g - e).max() / np.abs(e).max()) for g, e in zip(got, exact))
    return steps, errors


def _median_ms(step, repeat: int, clock) -> float:
    times = []
    for _ in range(repeat):
        t0 = clock()
        step()
        times.append(clock() - t0)
    return statistics.median(times) * 1e3


def run(rounds: int, repeat: int, cpu: bool, only: str | None = None, shapes=SHAPES) -> list[dict]:
    import torch

    torch.set_num_threads(1 if cpu else 2)
    clock = time.process_time if cpu else time.perf_counter
    rows = []
    for C, H, Co in shapes:
        steps, errors = _steps(C, H, Co)
        names = [only] if only else CONTENDERS
        for name in names:  # warm-up (and compile)
            for _ in range(2):
                steps[name]()
        per_round = {name: [] for name in names}
        for _ in range(rounds):
            for name in names:
                per_round[name].append(_median_ms(steps[name], repeat, clock))
        row = {"shape": f"C{C}->{Co} {H}x{H}", "ms": {}, "spread": {}, "error": errors}
        for name in names:
            row["ms"][name] = statistics.median(per_round[name])
            row["spread"][name] = (min(per_round[name]), max(per_round[name]))
        rows.append(row)
    return rows


def report(rows: list[dict]) -> str:
    lines = []
    for row in rows:
        torch_ms = row["ms"].get("torch")
        lines.append(f"N{BATCH} {row['shape']} k3 p1, fwd+bwd (float32)")
        for name, ms in row["ms"].items():
            lo, hi = row["spread"][name]
            ratio = f"{ms / torch_ms:5.2f}x torch" if torch_ms else ""
            err = row["error"][name]
            lines.append(f"  {name:16s} {ms:8.2f} ms  [{lo:7.2f}-{hi:7.2f}]  {ratio}  float32 error {err:.1e}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- the planner's table
PLANNER_SHAPES = [
    (3, 64, 16),
    (16, 64, 16),
    (16, 64, 32),
    (16, 32, 16),
    (32, 32, 32),
    (32, 16, 32),
    (64, 16, 64),
    (64, 8, 64),
]
OPS = ("correlate", "correlate_adjoint", "correlate_weight")


def _op_calls(x, w, gy, geom, p_im2col) -> dict:
    """{(op, contender): call} for the three ops: the planner's im2col strategy and the Winograd kernels."""
    from tinynet.kernels import conv_planner as cp
    from tinynet.kernels import winograd as wg

    im2col = cp.STRATEGIES["im2col"]
    calls = {
        ("correlate", "im2col"): lambda: im2col.correlate(x, w, geom, p_im2col, None),
        ("correlate_adjoint", "im2col"): lambda: im2col.correlate_adjoint(gy, w, geom, p_im2col),
        ("correlate_weight", "im2col"): lambda: im2col.correlate_weight(x, gy, geom, p_im2col),
    }
    for tile in wg.TILES:
        calls["correlate", f"F({tile}x{tile})"] = lambda t=tile: wg.winograd_conv3x3(x, w, 1, t)
        calls["correlate_adjoint", f"F({tile}x{tile})"] = lambda t=tile: wg.winograd_conv3x3_input_grad(gy, w, 1, t)
        calls["correlate_weight", f"F({tile}x{tile})"] = lambda t=tile: wg.winograd_conv3x3_weight_grad(x, gy, 1, t)
    return calls


def planner_table(repeat: int, dtypes=("float32", "float64")) -> list[dict]:
    """Per op, dtype and shape (N16, 3x3, p1): CPU ms (one thread) of im2col, Winograd F(2x2) and F(4x4).

    The im2col column is the conv planner's own strategy (conv_planner.STRATEGIES["im2col"] with the
    plan it makes), so this measures exactly what a Winograd strategy would have to beat.
    """
    import numpy as np

    from tinynet.functional.conv import ConvGeometry
    from tinynet.kernels import conv_planner as cp

    rows = []
    for dtype in dtypes:
        for C, H, Co in PLANNER_SHAPES:
            geom = ConvGeometry((3, 3), (1, 1), (1, 1), (1, 1), 1, (H, H), (H, H), 2)
            rng = np.random.default_rng(0)
            x = rng.standard_normal((BATCH, C, H, H)).astype(dtype)
            w = (rng.standard_normal((Co, C, 3, 3)) * 0.1).astype(dtype)
            gy = rng.standard_normal((BATCH, Co, H, H)).astype(dtype)
            calls = _op_calls(x, w, gy, geom, cp.plan(geom, Co, C, BATCH, x.itemsize))
            for op in OPS:
                row = {"dtype": dtype, "shape": f"C{C}->{Co} {H}x{H}", "op": op}
                for (call_op, name), call in calls.items():
                    if call_op == op:
                        call()  # warm-up (and compile)
                        row[name] = _median_ms(call, repeat, time.process_time)
                rows.append(row)
                names = [k for k in row if k not in ("dtype", "shape", "op")]
                best = min(names, key=lambda k: row[k])
                timings = "  ".join(f"{k} {row[k]:7.2f}" for k in names)
                print(f"{dtype} {row['shape']:16s} {op:18s} {timings}  best {best}", flush=True)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", action="store_true", help="one thread each, CPU time of the process")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--alone", choices=CONTENDERS, help="time only this contender")
    parser.add_argument("--shape", type=int, help="index into SHAPES (default: all)")
    parser.add_argument("--planner", action="store_true", help="per-op table of im2col vs Winograd (CPU time)")
    args = parser.parse_args(argv)
    if args.cpu or args.planner:  # before numpy loads OpenBLAS and numba starts its threads
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        os.environ["NUMBA_NUM_THREADS"] = "1"
    if args.planner:
        planner_table(args.repeat)
        return
    shapes = SHAPES if args.shape is None else [SHAPES[args.shape]]
    print(report(run(args.rounds, args.repeat, args.cpu, args.alone, shapes)))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
