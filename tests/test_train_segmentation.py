"""The main example end to end: a quick run writes its files, and stop-and-resume is bit-identical."""

from __future__ import annotations

import importlib.util
import json
import signal
from pathlib import Path

import numpy as np
import pytest

import tinynet

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("train_segmentation", ROOT / "examples" / "train_segmentation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def weights(path: Path) -> dict:
    return {k: v.numpy() for k, v in tinynet.load(path)["model"].items()}


def test_quick_run_writes_metrics_curves_predictions_and_a_checkpoint(script, tmp_path):
    assert script.main(["--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    for key in ("miou", "pixel_accuracy", "per_class_iou", "epochs", "seconds", "upsample"):
        assert key in metrics
    assert metrics["epochs"] == 1 and metrics["upsample"] == script.DEFAULT_UPSAMPLE
    assert set(metrics["per_class_iou"]) == {"background", "circle", "square", "triangle"}
    assert 0.0 <= metrics["pixel_accuracy"] <= 1.0
    cm = np.array(metrics["confusion_matrix"])
    assert cm.shape == (4, 4) and cm.sum() == 32 * 64 * 64  # every pixel of the 32 quick test images
    for name in ("loss_curve.png", "predictions.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(weights(tmp_path / "checkpoint.npz")) == set(script.EncoderDecoder().state_dict())


def test_stopped_after_one_epoch_and_resumed_ends_with_the_uninterrupted_weights(script, tmp_path):
    common = ["--quick", "--epochs", "2", "--train-size", "32", "--no-progress", "--upsample", "unpool"]
    assert script.main([*common, "--out", str(tmp_path / "straight")]) == 0
    assert script.main([*common, "--out", str(tmp_path / "split"), "--stop-after", "1"]) == 0
    halfway = weights(tmp_path / "split" / "checkpoint.npz")
    assert script.main(["--resume", str(tmp_path / "split" / "checkpoint.npz"), "--no-progress"]) == 0
    straight, resumed = (
        weights(tmp_path / "straight" / "checkpoint.npz"),
        weights(tmp_path / "split" / "checkpoint.npz"),
    )
    assert any(not np.array_equal(halfway[k], straight[k]) for k in straight)  # the second epoch did change them
    for k in straight:
        np.testing.assert_array_equal(resumed[k], straight[k], err_msg=k)
    a = json.loads((tmp_path / "straight" / "metrics.json").read_text())
    b = json.loads((tmp_path / "split" / "metrics.json").read_text())
    assert a["miou"] == b["miou"] and a["history"]["train_loss"] == b["history"]["train_loss"]


def test_ctrl_c_saves_after_the_current_step_and_resume_finishes_identically(script, tmp_path, monkeypatch):
    common = ["--quick", "--epochs", "1", "--train-size", "64", "--no-progress"]
    assert script.main([*common, "--out", str(tmp_path / "straight")]) == 0

    # Deliver SIGINT to ourselves during the second optimisation step.
    calls = {"n": 0}
    original_step = tinynet.optim.Adam.step

    def step_then_interrupt(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            signal.raise_signal(signal.SIGINT)
        return original_step(self, *args, **kwargs)

    monkeypatch.setattr(tinynet.optim.Adam, "step", step_then_interrupt)
    assert script.main([*common, "--out", str(tmp_path / "cut")]) == 130
    monkeypatch.setattr(tinynet.optim.Adam, "step", original_step)
    ckpt = tinynet.load(tmp_path / "cut" / "checkpoint.npz")
    assert ckpt["epoch"] == 0 and ckpt["step"] == 2

    assert script.main(["--resume", str(tmp_path / "cut" / "checkpoint.npz"), "--no-progress"]) == 0
    straight, resumed = weights(tmp_path / "straight" / "checkpoint.npz"), weights(tmp_path / "cut" / "checkpoint.npz")
    for k in straight:
        np.testing.assert_array_equal(resumed[k], straight[k], err_msg=k)


def test_help_explains_every_option(script, capsys):
    with pytest.raises(SystemExit) as exit_info:
        script.main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in (
        "--epochs",
        "--batch-size",
        "--lr",
        "--seed",
        "--upsample",
        "--out",
        "--resume",
        "--compare-upsampling",
        "--quick",
    ):
        assert option in text


@pytest.mark.parametrize("argv", [["--epochs", "0"], ["--lr", "-1"], ["--upsample", "cubic"]])
def test_bad_options_are_refused_with_a_usage_error(script, argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        script.main(argv)
    assert exit_info.value.code == 2
