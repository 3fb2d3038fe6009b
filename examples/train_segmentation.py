"""Train an encoder-decoder to segment circles, squares and triangles (tinynet's main example).

    python examples/train_segmentation.py                      # default model, ~3 minutes on 2 cores
    python examples/train_segmentation.py --upsample unpool    # SegNet-style max-unpooling decoder
    python examples/train_segmentation.py --compare-upsampling # all five decoders, same seed and budget
    python examples/train_segmentation.py --resume runs/<stamp>/checkpoint.npz

The data is ``tinynet.data.datasets.Shapes`` (generated locally from a seed),
the model ``tinynet.models.EncoderDecoder``, the optimiser Adam with a one-cycle
learning-rate schedule, the loss per-pixel cross-entropy. Everything written
goes to ``--out`` (default ``runs/<timestamp>/``): ``metrics.json``,
``loss_curve.png``, ``predictions.png`` and ``checkpoint.npz``.

A checkpoint is written after every epoch, and Ctrl-C writes one after the
current step before exiting; ``--resume`` continues from either bit-identically:
a run stopped after epoch k and resumed ends with exactly the weights of an
uninterrupted run.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np
from tqdm import tqdm

import tinynet
import tinynet.nn.functional as F
from tinynet import optim
from tinynet.data import DataLoader
from tinynet.data.datasets import CLASSES, Shapes
from tinynet.io import load, load_checkpoint, save_checkpoint
from tinynet.metrics import SegmentationMetrics
from tinynet.models import UPSAMPLE_MODES, EncoderDecoder

DEFAULT_UPSAMPLE = "bilinear"  # the best scorer in upsampling_comparison.md (see the README)
FULL = {"epochs": 10, "train_size": 2000, "val_size": 200, "test_size": 500}
QUICK = {"epochs": 1, "train_size": 64, "val_size": 16, "test_size": 32}


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show "(default: X)" only for real defaults (not None, which means "see the text", nor a flag's False)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Train tinynet's encoder-decoder on the synthetic Shapes segmentation set.",
        formatter_class=_HelpFormatter,
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=None,
        help=f"passes over the training set (default: {FULL['epochs']}, 1 with --quick)",
    )
    p.add_argument("--batch-size", type=int, default=16, help="images per optimisation step")
    p.add_argument("--lr", type=float, default=5e-3, help="peak learning rate of the one-cycle schedule (Adam)")
    p.add_argument("--seed", type=int, default=0, help="seed for the data, the initial weights and the shuffling")
    p.add_argument(
        "--upsample",
        choices=UPSAMPLE_MODES,
        default=DEFAULT_UPSAMPLE,
        help="how the decoder doubles the resolution: transposed conv, nearest, bilinear, bed of nails, "
        "or max-unpooling with the encoder's switches",
    )
    p.add_argument("--out", default=None, help="output folder (default runs/<timestamp>/)")
    p.add_argument("--resume", metavar="PATH", default=None, help="continue the run saved in this checkpoint.npz")
    p.add_argument(
        "--compare-upsampling",
        action="store_true",
        help="train every upsampling variant with the same seed and budget and write upsampling_comparison.{png,md}",
    )
    p.add_argument(
        "--quick", action="store_true", help="a smoke run (64 training images, 1 epoch) in well under a minute"
    )
    p.add_argument(
        "--train-size", type=int, default=None, help=f"training images (default: {FULL['train_size']}, 64 with --quick)"
    )
    p.add_argument("--stop-after", type=int, default=None, metavar="K", help="stop after K epochs as if interrupted")
    p.add_argument("--no-progress", action="store_true", help="no progress bars (for logs)")
    args = p.parse_args(argv)
    for name in ("epochs", "batch_size", "train_size", "stop_after"):
        value = getattr(args, name)
        if value is not None and value < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    if args.lr <= 0:
        p.error(f"--lr must be positive, got {args.lr}")
    return args


def is_smoke_run(config: dict) -> bool:
    """A --quick run: only --quick sets the small validation and test splits (and such a model is untrained)."""
    return config["val_size"] == QUICK["val_size"] and config["test_size"] == QUICK["test_size"]


def make_config(args: argparse.Namespace, upsample: str | None = None) -> dict:
    sizes = dict(QUICK if args.quick else FULL)
    if args.epochs is not None:
        sizes["epochs"] = args.epochs
    if args.train_size is not None:
        sizes["train_size"] = args.train_size
    return {
        "upsample": upsample or args.upsample,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "seed": args.seed,
        **sizes,
    }


def evaluate(model, dataset: Shapes, batch_size: int = 100) -> SegmentationMetrics:
    model.eval()
    metrics = SegmentationMetrics(len(CLASSES))
    with tinynet.no_grad():
        for start in range(0, len(dataset), batch_size):
            images = tinynet.from_numpy(dataset.images[start : start + batch_size])
            pred = model(images).argmax(dim=1)
            metrics.update(pred, dataset.labels[start : start + batch_size])
    model.train()
    return metrics


class Run:
    """One training run: data, model, optimiser and schedule built from a config dict."""

    def __init__(self, config: dict):
        self.config = config
        tinynet.manual_seed(config["seed"])
        self.train_set = Shapes("train", size=config["train_size"], seed=config["seed"])
        self.val_set = Shapes("val", size=config["val_size"], seed=config["seed"])
        self.test_set = Shapes("test", size=config["test_size"], seed=config["seed"])
        self.model = EncoderDecoder(upsample=config["upsample"])
        self.loader = DataLoader(
            self.train_set, batch_size=config["batch_size"], shuffle=True, drop_last=True, seed=config["seed"]
        )
        self.optimizer = optim.Adam(self.model.parameters(), lr=config["lr"])
        self.scheduler = optim.lr_scheduler.OneCycleLR(
            self.optimizer, max_lr=config["lr"], total_steps=config["epochs"] * len(self.loader)
        )
        self.history = {"epoch": [], "train_loss": [], "val_miou": [], "seconds": []}
        self.epoch = 0  # epochs completed
        self.seconds = 0.0

    def checkpoint(self, path: Path, step: int | None = None) -> None:
        save_checkpoint(
            path,
            model=self.model,
            optimizer=self.optimizer,
            scheduler=self.scheduler,
            epoch=self.epoch,
            step=step,
            dataloader=self.loader,
            extra={"config": self.config, "history": self.history, "seconds": self.seconds},
        )

    @classmethod
    def resume(cls, path: str) -> tuple["Run", int]:
        saved = load(path)
        extra = saved.get("extra") if isinstance(saved, dict) else None
        if not isinstance(extra, dict) or "config" not in extra:
            raise SystemExit(f"--resume: {path} is not a checkpoint written by this script")
        run = cls(dict(extra["config"]))
        ckpt = load_checkpoint(
            path, model=run.model, optimizer=run.optimizer, scheduler=run.scheduler, dataloader=run.loader
        )
        run.epoch = int(ckpt["epoch"])
        run.history = {k: list(v) for k, v in extra["history"].items()}
        run.seconds = float(extra["seconds"])
        return run, int(ckpt["step"] or 0)

    def train(self, out: Path, progress: bool = True, stop_after: int | None = None, skip_steps: int = 0) -> str:
        """Train to the configured number of epochs; returns "done", "stopped" (--stop-after) or "interrupted"."""
        total = self.config["epochs"]
        epochs = tqdm(range(self.epoch, total), initial=self.epoch, total=total, desc="epochs", disable=not progress)
        step = skip_steps
        with CtrlC() as ctrl_c:
            for epoch in epochs:
                started = time.perf_counter()
                losses = []
                batches = tqdm(self.loader, desc=f"epoch {epoch + 1}", leave=False, disable=not progress)
                batches.update(skip_steps)
                for images, labels in batches:
                    loss = F.cross_entropy(self.model(images), labels)
                    self.optimizer.zero_grad()
                    loss.backward()
                    self.optimizer.step()
                    self.scheduler.step()
                    losses.append(loss.item())
                    step += 1
                    batches.set_postfix(loss=f"{losses[-1]:.3f}")
                    if ctrl_c.requested:  # after a whole step, so the checkpoint resumes exactly here
                        self.seconds += time.perf_counter() - started
                        self.checkpoint(out / "checkpoint.npz", step=step)
                        batches.close()
                        epochs.close()
                        print(
                            f"interrupted: saved {out / 'checkpoint.npz'} (epoch {self.epoch} + {step} steps); "
                            f"continue with --resume {out / 'checkpoint.npz'}",
                            file=sys.stderr,
                        )
                        return "interrupted"
                skip_steps, step = 0, 0
                val = evaluate(self.model, self.val_set).mean_iou()
                self.seconds += time.perf_counter() - started
                self.epoch = epoch + 1
                self.history["epoch"].append(self.epoch)
                self.history["train_loss"].append(float(np.mean(losses)) if losses else float("nan"))
                self.history["val_miou"].append(val)
                self.history["seconds"].append(round(self.seconds, 3))
                epochs.set_postfix(loss=f"{self.history['train_loss'][-1]:.3f}", val_miou=f"{val:.3f}")
                self.checkpoint(out / "checkpoint.npz")
                if stop_after is not None and stop_after <= self.epoch < total:
                    return "stopped"
        return "done"

    def report(self, out: Path) -> dict:
        from tinynet.viz import plot_segmentation, plot_training_curves

        metrics = evaluate(self.model, self.test_set)
        result = {
            "miou": metrics.mean_iou(),
            "pixel_accuracy": metrics.pixel_accuracy(),
            "per_class_iou": dict(zip(CLASSES, (float(v) for v in metrics.per_class_iou()))),
            "confusion_matrix": metrics.cm.tolist(),
            "epochs": self.epoch,
            "seconds": round(self.seconds, 2),
            "upsample": self.config["upsample"],
            "parameters": sum(p.numel() for p in self.model.parameters()),
            "config": self.config,
            "history": self.history,
        }
        (out / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
        smoke = ", smoke run (untrained)" if is_smoke_run(self.config) else ""
        plot_training_curves(
            {k: self.history[k] for k in ("epoch", "train_loss", "val_miou")},
            path=out / "loss_curve.png",
            title=f"EncoderDecoder ({self.config['upsample']}) on Shapes{smoke}",
        )
        self.model.eval()
        with tinynet.no_grad():
            images = tinynet.from_numpy(self.test_set.images[:4])
            pred = self.model(images).argmax(dim=1)
        fig = plot_segmentation(self.test_set.images[:4], self.test_set.labels[:4], pred, class_names=CLASSES)
        if smoke:
            fig.suptitle("smoke run (untrained): these predictions say nothing about the model", color="tab:red")
        fig.savefig(out / "predictions.png", dpi=fig.dpi, bbox_inches="tight")
        return result


class CtrlC:
    """The first Ctrl-C asks the loop to stop after the current step (it then saves a checkpoint);
    a second one stops at once."""

    def __enter__(self):
        self.requested = False
        self.previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nCtrl-C: saving a checkpoint after this step (press again to quit at once)", file=sys.stderr)

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self.previous)
        return False


def default_out() -> Path:
    return Path("runs") / datetime.now().strftime("%Y%m%d-%H%M%S")


def compare_upsampling(args: argparse.Namespace, out: Path) -> None:
    from matplotlib.figure import Figure  # no pyplot: works without a display

    rows = []
    for mode in UPSAMPLE_MODES:
        sub = out / mode
        sub.mkdir(parents=True, exist_ok=True)
        run = Run(make_config(args, upsample=mode))
        print(f"== {mode}")
        if run.train(sub, progress=not args.no_progress) == "interrupted":
            raise SystemExit(130)
        result = run.report(sub)
        rows.append(result)
        print(f"{mode}: test mIoU {result['miou']:.4f} in {result['seconds']:.0f} s")
    lines = [
        "# Upsampling variants compared",
        "",
        f"Same seed ({args.seed}), data and budget ({rows[0]['epochs']} epochs of {rows[0]['config']['train_size']} "
        "images) for each decoder; mIoU on the held-out test split.",
        "",
        "| upsample | test mIoU | pixel accuracy | parameters | seconds / epoch |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in sorted(rows, key=lambda r: -r["miou"]):
        lines.append(
            f"| {r['upsample']} | {r['miou']:.4f} | {r['pixel_accuracy']:.4f} | {r['parameters']:,} | "
            f"{r['seconds'] / max(r['epochs'], 1):.1f} |"
        )
    (out / "upsampling_comparison.md").write_text("\n".join(lines) + "\n")
    fig = Figure(figsize=(11, 4))
    ax1, ax2 = fig.subplots(1, 2)
    for r in rows:
        ax1.plot(r["history"]["epoch"], r["history"]["val_miou"], marker="o", label=r["upsample"])
    ax1.set(xlabel="epoch", ylabel="validation mIoU", title="learning curves")
    ax1.legend()
    ax2.bar([r["upsample"] for r in rows], [r["miou"] for r in rows], color="tab:blue")
    ax2.set(ylabel="test mIoU", title="held-out test split", ylim=(min(r["miou"] for r in rows) - 0.05, 1.0))
    fig.tight_layout()
    fig.savefig(out / "upsampling_comparison.png", dpi=100)
    print(f"wrote {out / 'upsampling_comparison.md'} and .png")


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.compare_upsampling:
        out = Path(args.out) if args.out else default_out()
        out.mkdir(parents=True, exist_ok=True)
        compare_upsampling(args, out)
        return 0
    if args.resume:
        run, skip = Run.resume(args.resume)
        out = Path(args.out) if args.out else Path(args.resume).parent
        print(
            f"resuming {run.config['upsample']} run after epoch {run.epoch} (+{skip} steps) of {run.config['epochs']}"
        )
    else:
        run, skip = Run(make_config(args)), 0
        out = Path(args.out) if args.out else default_out()
    out.mkdir(parents=True, exist_ok=True)
    status = run.train(out, progress=not args.no_progress, stop_after=args.stop_after, skip_steps=skip)
    if status == "interrupted":
        return 130
    if status == "stopped":
        print(f"stopped after epoch {run.epoch}; continue with --resume {out / 'checkpoint.npz'}")
        return 0
    result = run.report(out)
    print(
        f"{result['upsample']}: test mIoU {result['miou']:.4f}, pixel accuracy {result['pixel_accuracy']:.4f}, "
        f"{result['epochs']} epoch{'' if result['epochs'] == 1 else 's'} in {result['seconds']:.0f} s -> {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
