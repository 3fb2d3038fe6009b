"""tools/coursework.py keeps its promise: stripping an op's backward fails exactly the tests it lists.

The expensive tests run the real thing: copy the repository to a temporary folder (never the
working tree), blank the op's backward there, run the op's test files in a subprocess, and
compare the failures with ``tools/coursework_tests.json``. The promised tests are then run on
this repository, where they must pass. The full-suite version of the check (every test file,
minutes) is ``python tools/coursework.py discover OP``.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_script():
    spec = importlib.util.spec_from_file_location("coursework", ROOT / "tools" / "coursework.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["coursework"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


coursework = _load_script()

SOURCE = '''
class Square(Function):
    """y = x * x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        """dL/dx = 2 x dL/dy."""
        # the derivative of x^2
        (x,) = ctx.saved_arrays
        return 2 * x * grad


# The adjoint of the copy is the sum: every copy sends
# its gradient back to the one source.
@njit(cache=True)
def spread(g, out):
    """Add g to out (the adjoint of the copy)."""
    out += g
    return out
'''


# ----------------------------------------------------------------------------- the source edits
def test_strip_backward_keeps_the_signature_and_docstring_and_raises_for_the_student():
    stripped = coursework.strip_backward(SOURCE, "Square", "student: write Square.backward")
    tree = ast.parse(stripped)
    square = next(n for n in tree.body if isinstance(n, ast.ClassDef))
    forward, backward = square.body[1:]
    assert [a.arg for a in backward.args.args] == ["ctx", "grad"]
    assert ast.get_docstring(backward) == "dL/dx = 2 x dL/dy."
    assert len(backward.body) == 2 and isinstance(backward.body[1], ast.Raise)
    assert "NotImplementedError('student: write Square.backward')" in stripped
    assert "2 * x * grad" not in stripped and "the derivative of x^2" not in stripped
    assert "return x * x" in stripped  # the forward stays
    assert "def spread" in stripped and "out += g" in stripped  # so does everything after


def test_strip_backward_without_a_docstring_removes_the_leading_comments_too():
    source = SOURCE.replace('        """dL/dx = 2 x dL/dy."""\n', "")
    stripped = coursework.strip_backward(source, "Square", "student")
    assert "the derivative of x^2" not in stripped
    exec(compile(stripped, "stripped", "exec"), {"Function": object, "njit": lambda **k: lambda f: f})


def test_strip_derivation_removes_the_comment_block_and_the_docstring_but_keeps_the_code():
    stripped = coursework.strip_derivation(SOURCE, "spread")
    assert "every copy sends" not in stripped and "(the adjoint of the copy)" not in stripped
    assert stripped.count(coursework.PLACEHOLDER) == 2  # one comment, one docstring
    assert "@njit(cache=True)\ndef spread(g, out):" in stripped and "out += g" in stripped
    assert "return 2 * x * grad" in stripped  # other code untouched


def test_a_missing_class_or_function_is_an_error_not_a_silent_no_op():
    with pytest.raises(LookupError, match="class Cube not found"):
        coursework.strip_backward(SOURCE, "Cube", "student")
    with pytest.raises(LookupError, match="function gather not found"):
        coursework.strip_derivation(SOURCE, "gather")


def test_every_registered_op_strips_cleanly_with_its_derivations(tmp_path):
    """Every Function and adjoint routine the registry names exists, and the edited files still compile."""
    shutil.copytree(ROOT / "tinynet", tmp_path / "tinynet", ignore=shutil.ignore_patterns("__pycache__"))
    for name in coursework.OPS:
        changed = coursework.strip([name], tmp_path, derivation=True)
        assert changed, name
        for path in changed:
            compile(path.read_text(encoding="utf-8"), str(path), "exec")
        for rel, cls in coursework.OPS[name].functions:
            assert f"student: write {cls}.backward" in (tmp_path / rel).read_text(encoding="utf-8")


def test_the_promised_tests_exist():
    """Every id in coursework_tests.json names a test function in an existing file (a rename elsewhere shows here)."""
    data = json.loads(coursework.TESTS_FILE.read_text(encoding="utf-8"))
    assert set(data) == set(coursework.OPS)
    for name, ids in data.items():
        assert ids, f"{name}: no promised tests"
        for node in ids:
            rel, test = node.split("::", 1)
            path = ROOT / rel
            assert path.exists(), node
            if rel.startswith("tests/"):
                function = test.split("[", 1)[0]
                tree = ast.parse(path.read_text(encoding="utf-8"))
                assert any(isinstance(n, ast.FunctionDef) and n.name == function for n in tree.body), node


def test_the_student_command_lists_the_promised_tests():
    command = coursework.pytest_command(["conv2d"])
    assert command[0] == "pytest" and set(command[1:]) == set(coursework.promised_tests("conv2d"))


# ----------------------------------------------------------------------------- the promise, run
# The op's own test files (the training tests in test_train_parity/test_train_segmentation are
# in the promise too, but take too long to run here twice; `discover` covers them).
CHECKS = {
    "conv2d": ["tests/test_conv.py", "tests/test_conv_modules.py"],
    "max_pool2d": ["tests/test_pool.py"],
}


def test_the_promised_tests_pass_on_this_repository():
    # Runs first and runs the whole files: that also compiles every kernel signature the
    # stripped copies need, which they then take from the cache instead of compiling again.
    files = sorted({f for files in CHECKS.values() for f in files})
    outcomes = coursework.run_pytest(ROOT, files)
    ids = sorted({t for op in CHECKS for t in coursework.promised_tests(op) if t.split("::")[0] in files})
    assert {t: outcomes.get(t) for t in ids} == {t: "passed" for t in ids}


@pytest.mark.parametrize("op", sorted(CHECKS))
def test_stripping_the_backward_fails_exactly_the_promised_tests_of_its_files(op):
    result = coursework.check(op, CHECKS[op], original=False)
    assert len(result.promised) >= 5, result.explain()
    assert result.ok, result.explain()
