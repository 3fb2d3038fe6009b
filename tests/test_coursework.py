"""tools/coursework.py keeps its promise: a handout's full pytest fails exactly the recorded tests.

The source edits are checked on small examples; the record (tools/coursework_tests.json) is checked
against the suite (every id exists) and against the guide (its tables are generated from it); and for
one op per commit the real thing runs: build the handout in a temporary folder (never the working
tree), run the student's full ``pytest`` there, and compare what fails with the record. The other
ops are measured by ``python tools/coursework.py discover --all`` (docs/COURSEWORK.md).
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import coursework  # noqa: E402  (tools/ is not a package)

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


def twice(ctx, grad):
    # the derivative of 2 x
    return grad + grad


# The adjoint of the copy is the sum: every copy sends
# its gradient back to the one source.
@njit(cache=True)
def spread(g, out):
    """Add g to out (the adjoint of the copy)."""
    out += g
    return out
'''


# ----------------------------------------------------------------------------- the source edits
def test_strip_body_keeps_the_signature_and_docstring_and_raises_for_the_student():
    stripped = coursework.strip_body(SOURCE, "Square.backward", "student: write Square.backward")
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


def test_strip_body_without_a_docstring_removes_the_leading_comments_too():
    source = SOURCE.replace('        """dL/dx = 2 x dL/dy."""\n', "")
    stripped = coursework.strip_body(source, "Square.backward", "student")
    assert "the derivative of x^2" not in stripped
    exec(compile(stripped, "stripped", "exec"), {"Function": object, "njit": lambda **k: lambda f: f})


def test_strip_derivation_removes_the_comment_block_and_the_docstring_but_keeps_the_code():
    stripped = coursework.strip_derivation(SOURCE, "spread")
    assert "every copy sends" not in stripped and "(the adjoint of the copy)" not in stripped
    assert stripped.count(coursework.PLACEHOLDER) == 2  # one comment, one docstring
    assert "@njit(cache=True)\ndef spread(g, out):" in stripped and "out += g" in stripped
    assert "return 2 * x * grad" in stripped  # other code untouched


def test_strip_body_blanks_a_helper_function_or_another_method_too():
    """A helper the backward calls (conv2d's _grads_of_conv) or an adjoint op's forward is blanked the same way."""
    stripped = coursework.strip_body(SOURCE, "twice", "student: write twice")
    assert "grad + grad" not in stripped and "the derivative of 2 x" not in stripped
    assert "def twice(ctx, grad):\n    raise NotImplementedError('student: write twice')\n" in stripped
    assert "return 2 * x * grad" in stripped and "out += g" in stripped  # the rest stays
    forward = coursework.strip_body(SOURCE, "Square.forward", "student: write Square.forward")
    assert "ctx.save_for_backward(x)" not in forward and "return x * x" not in forward
    assert "return 2 * x * grad" in forward
    assert coursework.body_lines(SOURCE, "twice") == ["    # the derivative of 2 x", "    return grad + grad"]
    replaced = coursework.replace_definition(SOURCE, "twice", "def twice(ctx, grad):\n    return 2 * grad\n")
    assert "return 2 * grad\n" in replaced and "grad + grad" not in replaced
    exec(compile(replaced, "replaced", "exec"), {"Function": object, "njit": lambda **k: lambda f: f})


def test_a_missing_class_or_function_is_an_error_not_a_silent_no_op():
    with pytest.raises(LookupError, match="class Cube not found"):
        coursework.strip_body(SOURCE, "Cube.backward", "student")
    with pytest.raises(LookupError, match="function cube not found"):
        coursework.strip_body(SOURCE, "cube", "student")
    with pytest.raises(LookupError, match="function gather not found"):
        coursework.strip_derivation(SOURCE, "gather")


def test_replace_definition_puts_a_whole_method_in_place_of_the_old_one():
    answer = "@staticmethod\ndef backward(ctx, grad):\n    (x,) = ctx.saved_arrays\n    return x * grad * 2.0\n"
    replaced = coursework.replace_definition(SOURCE, "Square.backward", answer)
    assert "return x * grad * 2.0" in replaced and "2 * x * grad" not in replaced
    assert "return x * x" in replaced and "def spread" in replaced
    namespace = {"Function": object, "njit": lambda **k: lambda f: f}
    exec(compile(replaced, "replaced", "exec"), namespace)


def test_bit_for_bit_comparisons_become_comparisons_to_rounding():
    source = "def test_same(a, b):\n    np.testing.assert_array_equal(a, b)  # bit for bit\n"
    relaxed = coursework.to_rounding(source, "test_same")
    assert "assert_allclose(rtol=1e-10, atol=1e-12, actual=a, desired=b)" in relaxed
    assert "bit for bit" not in relaxed
    with pytest.raises(LookupError, match="no np.testing.assert_array_equal"):
        coursework.to_rounding("def test_other():\n    assert True\n", "test_other")


def test_remove_function_takes_the_decorators_and_the_comment_above():
    source = "import pytest\n\n\n# instructor only\n@pytest.mark.slow\ndef test_a():\n    pass\n\n\ndef test_b():\n    pass\n"
    removed = coursework.remove_function(source, "test_a")
    assert "test_a" not in removed and "instructor only" not in removed and "def test_b" in removed
    compile(removed, "removed", "exec")


def test_every_registered_function_is_found_in_exactly_one_file_and_every_derivation_somewhere():
    for name, op in coursework.OPS.items():
        for blank in op.blanks:
            path = coursework.locate_blank(ROOT, blank)
            assert coursework.body_lines(path.read_text(encoding="utf-8"), blank), f"{name}: {blank} is empty"
        for fn in op.derivations:
            coursework.locate_derivation(ROOT, fn)
    # An adjoint routine lives in both kernel tiers: its derivation is stripped from each.
    where = {p.relative_to(ROOT).as_posix() for p in coursework.locate_derivation(ROOT, "col2im")}
    assert {"tinynet/kernels/conv.py", "tinynet/kernels/reference/conv.py"} <= where
    with pytest.raises(LookupError, match="function no_such_routine must be defined under tinynet/"):
        coursework.locate_derivation(ROOT, "no_such_routine")
    with pytest.raises(LookupError, match="class NoSuchFunction must be defined in exactly one file"):
        coursework.locate(ROOT, "NoSuchFunction")
    # ReLU is both the module nn.ReLU and the autograd Function: only the Function counts.
    assert coursework.locate(ROOT, "ReLU").name == "tensor_functions.py"


# Private functions a blanked body may call and leave in the handout: they reshape, sum the bias, or are
# the kernels' entry points (a handout keeps the kernels; --strip-derivation removes their derivation).
NOT_THE_GRADIENT = {"_as_4d", "_weight_4d", "_weight_shaped", "_out_shape", "_planes", "_bias_grad"}
KERNEL_ENTRY_POINTS = {"_correlate", "_correlate_adjoint", "_correlate_weight"}


def _calls(node) -> tuple[set, set]:
    """(plain function names, Function classes whose .apply is called) in the calls under ``node``."""
    functions, applied = set(), set()
    for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
        if isinstance(call.func, ast.Name):
            functions.add(call.func.id)
        elif isinstance(call.func, ast.Attribute) and call.func.attr == "apply":
            owner = call.func.value
            applied.add(owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", ""))
    return functions, applied


def _public_ops() -> set:
    """Function classes whose .apply a public function or a method of a non-Function class (Tensor's
    operators, nn modules) calls: ops a user runs forward, which a student may use in an answer."""
    public = set()
    for path in sorted((ROOT / "tinynet").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                public |= _calls(node)[1]
            if isinstance(node, ast.ClassDef) and not coursework._is_function_class(node):
                public |= _calls(node)[1]
    return public


def _helpers_left_in_the_handout(op: coursework.Op, public: set) -> list[str]:
    """The private helpers and private Functions that a blanked body of ``op`` calls and the handout keeps."""
    left = []
    for blank in op.blanks:
        path = coursework.locate_blank(ROOT, blank)
        text = path.read_text(encoding="utf-8")
        defined = {n.name for n in ast.parse(text).body if isinstance(n, ast.FunctionDef)}
        functions, applied = _calls(coursework._definition(text, blank))
        for fn in sorted(functions & defined):
            if fn.startswith("_") and fn not in NOT_THE_GRADIENT | KERNEL_ENTRY_POINTS and fn not in op.blanks:
                left.append(f"{blank} calls {fn}")
        left += [f"{blank} calls {cls}.apply" for cls in sorted(applied - public) if f"{cls}.forward" not in op.blanks]
    return left


def test_what_the_student_writes_is_the_gradient_not_a_call_of_a_helper_left_in_the_handout():
    """Every private helper and every private Function a blanked body calls is blanked too (Op.helpers):
    the handout leaves the partner ops that are public ops (max_unpool2d for max-pool, conv_transpose2d
    for conv2d), the kernels and the reshaping, nothing that holds the op's gradient."""
    public = _public_ops()
    assert {"ConvTranspose", "Conv", "MaxUnpool2dFn", "ScatterRowsCols", "Mul"} <= public
    assert not {"ConvWeight", "ConvAndWeight", "GatherAtIndices", "BilinearAdjoint", "WindowMeanAdjoint"} & public
    for name, op in coursework.OPS.items():
        assert not _helpers_left_in_the_handout(op, public), name
    # The check can fail: conv2d without its helpers would be a two-line exercise.
    bare = coursework.Op(functions=("Conv",), covers=())
    assert _helpers_left_in_the_handout(bare, public) == ["Conv.backward calls _grads_of_conv"]
    bare = coursework.Op(functions=("Conv",), covers=(), helpers=("_grads_of_conv",))
    assert _helpers_left_in_the_handout(bare, public) == ["_grads_of_conv calls ConvWeight.apply"]


def test_every_registered_op_strips_cleanly_with_its_derivations(tmp_path):
    """Every Function and adjoint routine the registry names exists, and the edited files still compile."""
    shutil.copytree(ROOT / "tinynet", tmp_path / "tinynet", ignore=shutil.ignore_patterns("__pycache__"))
    for name in coursework.OPS:
        removed = coursework.edit_backwards([name], tmp_path, derivation=True)
        assert removed, name
        for path in removed:
            compile(path.read_text(encoding="utf-8"), str(path), "exec")
        for blank in coursework.OPS[name].blanks:
            assert f"student: write {blank}," in coursework.locate_blank(tmp_path, blank).read_text(encoding="utf-8")


def test_every_answer_replaces_its_backward_and_compiles(tmp_path):
    shutil.copytree(ROOT / "tinynet", tmp_path / "tinynet", ignore=shutil.ignore_patterns("__pycache__"))
    answers = coursework._answers()
    assert set(answers) >= {"conv2d", "max_pool2d", "max_unpool2d", "upsample_bilinear"}
    for name, blanks in answers.items():
        assert set(blanks) == set(coursework.OPS[name].blanks), name
        for path in coursework.edit_backwards([name], tmp_path, answer=True):
            compile(path.read_text(encoding="utf-8"), str(path), "exec")


# ----------------------------------------------------------------------------- the record
def _collected_ids() -> set:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return {line.strip() for line in proc.stdout.splitlines() if "::" in line}


def test_every_recorded_test_exists_in_the_suite():
    """Every id in coursework_tests.json is collected by pytest (a renamed test or a new id shows here)."""
    data = coursework.record()
    assert {"conv2d", "max_pool2d", "max_unpool2d", "upsample_bilinear"} <= set(data) <= set(coursework.OPS)
    collected = _collected_ids()
    assert len(collected) > 1000
    for name, ids in data.items():
        assert ids, f"{name}: nothing recorded"
        missing = sorted(set(ids) - collected - {t for t in ids if t.startswith("tests/test_coursework")})
        assert not missing, f"{name}: recorded but not collected (run discover {name} --write): {missing}"


def test_an_op_that_was_not_measured_has_no_promise_and_no_handout(tmp_path, monkeypatch):
    monkeypatch.setattr(coursework, "TESTS_FILE", tmp_path / "record.json")
    (tmp_path / "record.json").write_text(json.dumps({"conv2d": ["tests/test_conv.py::test_x"]}))
    assert coursework.promised_tests("conv2d") == ["tests/test_conv.py::test_x"]
    with pytest.raises(LookupError, match="relu has not been measured: run python tools/coursework.py discover relu"):
        coursework.promised_tests("relu")
    with pytest.raises(LookupError, match="relu has not been measured"):
        coursework.handout(["relu"], tmp_path / "course")
    assert not (tmp_path / "course").exists()
    assert "| `relu` |" in coursework.guide_tables() and "not measured yet" in coursework.guide_tables()


def test_the_guides_tables_are_generated_from_the_record():
    assert coursework.generated_part() == coursework.guide_tables(), "run: python tools/coursework.py guide --write"
    data = json.loads(coursework.TESTS_FILE.read_text(encoding="utf-8"))
    for name, ids in data.items():
        assert f"<code>{name}</code>: {len(ids)} tests" in coursework.generated_part()


def test_the_tests_command_prints_the_record():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "coursework.py"), "tests", "max_pool2d", "interpolate"],
        capture_output=True,
        text=True,
        check=True,
    )
    want = coursework.tests_for(["max_pool2d", "upsample_bilinear"])
    assert proc.stdout.splitlines() == want and len(want) >= 10


# ----------------------------------------------------------------------------- the record, measured
def test_the_record_is_current_for_this_commits_op():
    """One op per commit (COURSEWORK_OP overrides): its handout's full pytest fails exactly the record,
    and, when the op has an instructor's answer, that answer makes every recorded test pass."""
    op = coursework.rotating_op()
    measured = coursework.measure(op)
    recorded = set(coursework.promised_tests(op))
    assert len(measured.outcomes) > 1000, f"{op}: the handout's pytest ran only {len(measured.outcomes)} tests"
    new, gone = set(measured.failed) - recorded, recorded - set(measured.failed)
    assert not new and not gone, (
        f"{op}: the record is stale (python tools/coursework.py discover {op} --write);"
        f" fail but not recorded: {sorted(new)}; recorded but pass: {sorted(gone)}"
    )
    if op in coursework._answers():
        answered = coursework.measure(op, answer=True, args=sorted(recorded))
        assert set(answered.outcomes) == recorded, sorted(recorded - set(answered.outcomes))
        assert not answered.failed, f"{op}: the instructor's answer fails {answered.failed}"
