"""examples/train_segmentation.py marks the pictures of a --quick run "smoke run (untrained)"."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_only_quick_runs_are_labelled_smoke_runs():
    spec = importlib.util.spec_from_file_location("train_segmentation", ROOT / "examples" / "train_segmentation.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    def smoke(*argv: str) -> bool:
        return script.is_smoke_run(script.make_config(script.parse_args(list(argv))))

    assert smoke("--quick") and smoke("--quick", "--epochs", "2", "--train-size", "32")
    assert not smoke() and not smoke("--epochs", "1") and not smoke("--train-size", "64")
