"""A handout (tools/coursework.py handout) holds no trace of the answer and leaves the instructor's copy alone.

For each op a real handout is written to a temporary folder, git repository included, and searched:
every file, and every object ``git cat-file --batch-all-objects`` lists, for each line of the removed
backward that is not shared with code the handout keeps (docs/COURSEWORK.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import coursework  # noqa: E402  (tools/ is not a package)


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def _status() -> str:
    return _git(ROOT, "status", "--porcelain", "--untracked-files=all")


@pytest.fixture(scope="module")
def instructor_status():
    return _status()


@pytest.mark.parametrize("op", ["conv2d", "max_pool2d", "upsample_bilinear", "max_unpool2d"])
def test_the_handout_holds_no_line_of_the_removed_backward(op, tmp_path, instructor_status):
    made = coursework.handout([op], tmp_path / "course")
    distinctive, leaks = coursework.leaked_lines(made)
    assert distinctive, f"{op}: no distinctive line to look for, so the search proves nothing"
    assert not leaks, f"{op}: the answer is still in the handout: {leaks}"
    for blank in coursework.OPS[op].blanks:  # the backward and the helpers that hold its math
        source = coursework.locate_blank(made.root, blank).read_text(encoding="utf-8")
        assert f'raise NotImplementedError("student: write {blank},' in source
    assert _status() == instructor_status, "the instructor's checkout changed"


def test_the_handout_is_one_commit_without_instructor_material_caches_or_outputs(tmp_path):
    made = coursework.handout(["conv2d", "max_pool2d"], tmp_path / "course")
    root = made.root
    assert _git(root, "rev-list", "--count", "HEAD").strip() == "1"
    assert _git(root, "status", "--porcelain") == ""
    files = _git(root, "ls-files").split()
    assert "tinynet/functional/conv.py" in files and "README.md" in files and "tests/test_conv.py" in files
    assert not [f for f in files if f.startswith(("tools/coursework", "tests/test_coursework"))]
    on_disk = [p.relative_to(root).as_posix() for p in root.rglob("*") if ".git" not in p.relative_to(root).parts]
    junk = [p for p in on_disk if coursework._is_junk(p) or ".ruff_cache" in p]
    assert not junk, junk
    for notebook in root.glob("notebooks/*.ipynb"):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        assert all(not c.get("outputs") for c in cells), notebook.name
    nojit = (root / "tests" / "test_nojit.py").read_text(encoding="utf-8")
    assert "def test_every_kernel_runs_without_the_jit_and_agrees_with_the_compiled_path" not in nojit
    assert "def test_kernel_case_matches_the_oracle" in nojit  # the per-op no-JIT cases stay
    guide = (root / "docs" / "COURSEWORK.md").read_text(encoding="utf-8")
    assert "Write `Conv.backward` in `tinynet/functional/conv.py`" in guide
    assert "Write `_grads_of_conv` in `tinynet/functional/conv.py` too" in guide
    assert coursework.CONTRACT in guide  # a backward receives Tensors; numpy fails the double-backward tests
    assert all(f"`{t}`" in guide for t in coursework.tests_for(["conv2d", "max_pool2d"]))
    with pytest.raises(FileExistsError):
        coursework.handout(["conv2d"], root)


def test_the_search_finds_a_line_left_in_a_file_or_only_in_the_history(tmp_path):
    """The leak check can fail: a removed line in a file, or in a deleted file's git object, is found."""
    made = coursework.handout(["max_unpool2d"], tmp_path / "course")
    distinctive, _ = coursework.leaked_lines(made)
    (made.root / "notes.txt").write_text(distinctive[0] + "\n", encoding="utf-8")
    assert coursework.leaked_lines(made)[1] == {distinctive[0]: ["notes.txt"]}
    git = ["-c", "user.name=t", "-c", "user.email=t@t.invalid"]
    _git(made.root, "add", "notes.txt")
    _git(made.root, *git, "commit", "-q", "-m", "oops")
    _git(made.root, "rm", "-q", "notes.txt")
    _git(made.root, *git, "commit", "-q", "-m", "removed again")
    assert coursework.leaked_lines(made)[1] == {distinctive[0]: ["git objects"]}
