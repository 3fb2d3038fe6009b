"""Turn tinynet into coursework: a student copy without an op's backward, and the tests a right answer turns green.

    python tools/coursework.py list                              # the ops, their Function classes, test counts
    python tools/coursework.py handout conv2d --to ../course     # the student copy: a new git repository
    python tools/coursework.py handout conv2d max_pool2d --strip-derivation --to ../course
    python tools/coursework.py tests conv2d                      # the node ids that fail in the handout
    python tools/coursework.py discover --all --write -j 2       # re-measure every op (maintenance)
    python tools/coursework.py verify conv2d                     # the instructor's answer turns the handout green
    python tools/coursework.py verify conv2d --only tests/test_conv.py tests/test_double_backward_conv.py

``handout`` never edits this checkout. It copies the repository's files (tracked and
untracked, never ignored ones, so no caches or build output) to a new directory, leaves out
the instructor's material (this script, its answers and data, tests/test_coursework*.py,
and the instructor-only tests in ``INSTRUCTOR_TESTS``), replaces the body of the op's
``Function.backward`` with ``raise NotImplementedError(...)`` (signature and docstring stay), and
so the body of every helper that holds the gradient's math (``Op.helpers``: conv2d's
``_grads_of_conv``, the adjoint ops' forwards such as ``GatherAtIndices.forward``),
clears every notebook's outputs, writes the student's docs/COURSEWORK.md, and commits the
result as the single commit of a fresh git repository: no history holds the answer.

The tests a handout fails are measured, not guessed: ``discover`` builds the handout in a
temporary folder, runs the student's command (``pytest``, the whole suite) there and stores
the failing node ids per op in ``coursework_tests.json`` next to this script. ``verify``
puts the instructor's answer of ``coursework_answers.py`` (backwards in tinynet's Tensor ops,
without the provided adjoint Functions and kernels) into the handout instead and checks that
the whole suite passes, double-backward tests included. tests/test_coursework.py checks the record for one op
per commit. See docs/COURSEWORK.md.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import datetime
import fnmatch
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS_FILE = Path(__file__).resolve().with_name("coursework_tests.json")
PLACEHOLDER = "Derivation removed for the coursework: derive it from the indices (docs/COURSEWORK.md)."

# Instructor material that never goes into a handout.
INSTRUCTOR_FILES = ("tools/coursework*", "tests/test_coursework*")
# Tests that hold the instructor's implementation to more than correctness, removed from a handout:
# "every kernel in tinynet/kernels ran" fails for a correct answer that does not call the provided kernel,
# and the tests that name the Functions a recorded backward is made of ("max-pool's backward is a
# MaxUnpool2dFn node") fail for a correct answer written with other ops.
INSTRUCTOR_TESTS = {
    "tests/test_nojit.py": ("test_every_kernel_runs_without_the_jit_and_agrees_with_the_compiled_path",),
    "tests/test_double_backward_pool.py": ("test_each_backward_is_the_adjoint_op_whose_backward_is_the_op_again",),
    "tests/test_double_backward_conv.py": (
        "test_double_backward_of_conv2d_runs_through_conv_transpose2d_conv_weight_and_conv2d",
    ),
    # Conv's backward hands the forward's columns to its weight gradient: a correct answer need not.
    "tests/test_kept_columns.py": (
        "test_the_backward_reuses_the_forwards_columns_and_gets_the_same_gradient",
        "test_kept_columns_serve_one_backward_only",
    ),
}
# Tests that state an implementation identity bit for bit (conv2d's input gradient IS conv_transpose2d's
# forward, the same code): in a handout they compare to rounding instead, since a student's correct
# answer may sum in another order. {file: test functions whose assert_array_equal becomes assert_allclose}.
BIT_FOR_BIT = {
    "tests/test_conv.py": ("test_conv2d_backward_is_conv_transpose2d_of_the_output_gradient",),
}
TO_ROUNDING = "np.testing.assert_allclose(rtol=1e-10, atol=1e-12, actual="
# Cache and build output that must not reach a handout even when a .gitignore misses it.
JUNK = ("__pycache__", "*.pyc", "*.nbi", "*.nbc", "*.egg-info", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints")


@dataclass(frozen=True)
class Op:
    """One coursework exercise.

    Attributes:
        functions: the ``Function`` classes whose ``backward`` the student writes. They are
            looked up by name in tinynet/ (with ast, so a move to another file is followed); a
            class that is missing or defined twice is an error.
        covers: the public API that runs through these Functions (what the student's backward serves).
        helpers: where the gradient's math lives when the backward only calls it, blanked too (the
            student writes them as well): a top-level function (``"_grads_of_conv"``) or a method of
            a ``Function`` class (``"GatherAtIndices.forward"``, the adjoint op whose ``apply`` the
            backward calls). Partner ops that are public ops in their own right (max-pool's backward
            is max_unpool2d's forward, nearest's is bed of nails') stay: using them is the lesson.
        derivations: names of the adjoint routines (functions anywhere in tinynet/) whose derivation
            comment and docstring ``--strip-derivation`` removes.
    """

    functions: tuple
    covers: tuple
    helpers: tuple = ()
    derivations: tuple = ()

    @property
    def blanks(self) -> tuple:
        """Everything whose body the handout blanks: ``"Class.backward"`` per Function, then the helpers."""
        return tuple(f"{cls}.backward" for cls in self.functions) + tuple(self.helpers)


OPS: dict[str, Op] = {
    "conv2d": Op(
        functions=("Conv",),
        covers=("conv1d", "conv2d", "convolve2d", "nn.Conv1d", "nn.Conv2d", "nn.DepthwiseSeparableConv2d"),
        helpers=("_grads_of_conv", "ConvWeight.forward"),
        derivations=("_correlate_adjoint", "_correlate_weight", "col2im"),
    ),
    "conv_transpose2d": Op(
        functions=("ConvTranspose",),
        covers=("conv_transpose1d", "conv_transpose2d", "nn.ConvTranspose1d", "nn.ConvTranspose2d"),
        helpers=("_grads_of_conv_transpose", "ConvAndWeight.forward", "ConvWeight.forward"),
        derivations=("_correlate_weight",),
    ),
    "max_pool2d": Op(
        functions=("MaxPool2dFn",),
        covers=("max_pool2d", "max_pool2d_with_indices", "nn.MaxPool2d"),
        derivations=("scatter_add_at_indices",),
    ),
    "avg_pool2d": Op(
        functions=("WindowMean",),
        covers=("avg_pool2d", "adaptive_avg_pool2d", "nn.AvgPool2d", "nn.AdaptiveAvgPool2d"),
        helpers=("WindowMeanAdjoint.forward",),
        derivations=("window_mean_backward",),
    ),
    "max_unpool2d": Op(
        functions=("MaxUnpool2dFn",),
        covers=("max_unpool2d", "nn.MaxUnpool2d"),
        helpers=("GatherAtIndices.forward",),
        derivations=("gather_at_indices",),
    ),
    "upsample_nearest": Op(
        functions=("GatherRowsCols",),
        covers=("interpolate(mode='nearest' / 'nearest-exact')", "nn.Upsample", "nn.UpsamplingNearest2d"),
        derivations=("scatter_add_rows_cols",),
    ),
    "upsample_bilinear": Op(
        functions=("Bilinear",),
        covers=("interpolate(mode='linear' / 'bilinear')", "nn.Upsample", "nn.UpsamplingBilinear2d"),
        helpers=("BilinearAdjoint.forward",),
        derivations=("bilinear_backward",),
    ),
    "relu": Op(
        functions=("ReLU",),
        covers=("Tensor.relu", "relu", "nn.ReLU"),
    ),
}
ALIASES = {"interpolate": "upsample_bilinear", "bilinear": "upsample_bilinear", "nearest": "upsample_nearest"}


def op_name(name: str) -> str:
    """The registry name of ``name`` (an op or an alias); a ValueError lists the known ones."""
    name = ALIASES.get(name, name)
    if name not in OPS:
        raise ValueError(f"unknown op {name!r}: known are {', '.join(OPS)} (aliases {', '.join(ALIASES)})")
    return name


# ----------------------------------------------------------------------------- finding code
def _is_function_class(node) -> bool:
    """A class that derives from autograd's ``Function`` (not, say, the module ``nn.ReLU``)."""
    names = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
    return "Function" in names


def _definitions(tree: ast.Module, kind: type, name: str) -> list:
    wanted = [n for n in tree.body if isinstance(n, kind) and n.name == name]
    return [n for n in wanted if _is_function_class(n)] if kind is ast.ClassDef else wanted


def locate_all(root: Path, name: str, kind: type = ast.ClassDef) -> list[Path]:
    """Every file under ``root``/tinynet that defines the ``Function`` class (or the function) ``name``."""
    found = []
    for path in sorted((root / "tinynet").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if name in text and _definitions(ast.parse(text), kind, name):
            found.append(path)
    return found


def locate(root: Path, name: str, kind: type = ast.ClassDef) -> Path:
    """The file under ``root``/tinynet that defines the ``Function`` class (or the function) ``name``.

    Raises LookupError when no file or more than one defines it: the registry is then out of
    date and must be fixed, never silently skipped.
    """
    found = locate_all(root, name, kind)
    what = "class" if kind is ast.ClassDef else "function"
    if len(found) != 1:
        where = ", ".join(str(p.relative_to(root)) for p in found) or "no file"
        raise LookupError(f"{what} {name} must be defined in exactly one file under tinynet/, found in {where}")
    return found[0]


def locate_derivation(root: Path, name: str) -> list[Path]:
    """The files defining the adjoint routine ``name``: its kernel tier entry point, the reference kernel
    and the fast one each carry its derivation, so ``--strip-derivation`` edits all of them.

    Raises LookupError when no file defines it (the registry is out of date).
    """
    found = locate_all(root, name, ast.FunctionDef)
    if not found:
        raise LookupError(f"function {name} must be defined under tinynet/, found in no file")
    return found


# ----------------------------------------------------------------------------- editing source
def _find(body: list, kind: type, name: str):
    for node in body:
        if isinstance(node, kind) and node.name == name:
            return node
    raise LookupError(f"{kind.__name__[:-3].lower()} {name} not found")


def _docstring_node(fn):
    first = fn.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first
    return None


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _definition(source: str, name: str):
    """The ast node of ``name``: ``"Class.method"`` (a method of a top-level class) or a top-level function."""
    body = ast.parse(source).body
    if "." in name:
        class_name, method = name.split(".")
        return _find(_find(body, ast.ClassDef, class_name).body, ast.FunctionDef, method)
    return _find(body, ast.FunctionDef, name)


def locate_blank(root: Path, name: str) -> Path:
    """The file under ``root``/tinynet that defines ``name`` (``"Class.method"`` of a Function class, or a function)."""
    if "." in name:
        return locate(root, name.split(".")[0])
    return locate(root, name, ast.FunctionDef)


def _body_span(source: str, name: str) -> tuple[int, int, str]:
    """(first, end, indent): lines[first:end] of ``source`` are the body of ``name`` (``"Class.method"``
    or a function) after its docstring (with the comments that open the body when there is no docstring)."""
    method = _definition(source, name)
    lines = source.splitlines(keepends=True)
    doc = _docstring_node(method)
    indent = _indent_of(lines[method.body[0].lineno - 1])
    if doc is not None:
        start = doc.end_lineno  # 0-based index of the first line removed
    else:
        start = method.body[0].lineno - 1
        while lines[start - 1].lstrip().startswith("#"):
            start -= 1  # comments between the signature and the first statement go too
    return start, method.end_lineno, indent


def strip_body(source: str, name: str, message: str) -> str:
    """``source`` with the body of ``name`` (``"Class.backward"``, ``"Class.forward"``, a function)
    replaced by ``raise NotImplementedError(message)``.

    The decorators, the signature and the docstring stay; everything after the docstring
    (code and comments) up to the end of the definition goes.
    """
    start, end, indent = _body_span(source, name)
    lines = source.splitlines(keepends=True)
    raise_line = f"{indent}raise NotImplementedError({message!r})\n"
    return "".join(lines[:start]) + raise_line + "".join(lines[end:])


def body_lines(source: str, name: str) -> list[str]:
    """The lines that ``strip_body`` removes (the answer), as they stand in ``source``."""
    start, end, _ = _body_span(source, name)
    return source.splitlines()[start:end]


def replace_definition(source: str, name: str, new: str) -> str:
    """``source`` with the whole definition of ``name`` (decorators included) replaced by ``new``."""
    node = _definition(source, name)
    lines = source.splitlines(keepends=True)
    top = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
    new = textwrap.indent(textwrap.dedent(new).strip("\n") + "\n", _indent_of(lines[top]))
    return "".join(lines[:top]) + new + "".join(lines[node.end_lineno :])


def remove_function(source: str, name: str) -> str:
    """``source`` without the top-level function ``name`` (decorators and the comment block above it)."""
    fn = _find(ast.parse(source).body, ast.FunctionDef, name)
    lines = source.splitlines(keepends=True)
    start = (fn.decorator_list[0].lineno if fn.decorator_list else fn.lineno) - 1
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return "".join(lines[:start]).rstrip("\n") + "\n" + "".join(lines[fn.end_lineno :])


def to_rounding(source: str, name: str) -> str:
    """``source`` with every ``np.testing.assert_array_equal(a, b)`` in the top-level function ``name``
    turned into ``np.testing.assert_allclose(rtol=1e-10, atol=1e-12, actual=a, desired=b)``."""
    fn = _find(ast.parse(source).body, ast.FunctionDef, name)
    calls = [
        n
        for n in ast.walk(fn)
        if isinstance(n, ast.Call) and ast.unparse(n.func) == "np.testing.assert_array_equal" and len(n.args) == 2
    ]
    if not calls:
        raise LookupError(f"{name} has no np.testing.assert_array_equal(a, b) to relax")
    lines = source.splitlines(keepends=True)
    for call in sorted(calls, key=lambda n: (n.lineno, n.col_offset), reverse=True):
        a, b = (ast.unparse(arg) for arg in call.args)
        new = f"{TO_ROUNDING}{a}, desired={b})"
        first, last = call.lineno - 1, call.end_lineno - 1
        head, tail = lines[first][: call.col_offset], lines[last][call.end_col_offset :]
        if tail.lstrip().startswith("#"):  # the comment said "bit for bit"
            tail = "  # in a handout: to rounding, a correct answer may sum in another order\n"
        lines[first : last + 1] = [head + new + tail]
    return "".join(lines)


def strip_derivation(source: str, function_name: str) -> str:
    """Remove the comment block right above ``function_name`` (and its decorators) and its docstring."""
    tree = ast.parse(source)
    fn = _find(tree.body, ast.FunctionDef, function_name)
    lines = source.splitlines(keepends=True)
    top = (fn.decorator_list[0].lineno if fn.decorator_list else fn.lineno) - 1
    start = top
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    doc = _docstring_node(fn)
    if doc is None:
        definition = lines[top : fn.end_lineno]
    else:
        docstring = f'{_indent_of(lines[doc.lineno - 1])}"""{PLACEHOLDER}"""\n'
        definition = lines[top : doc.lineno - 1] + [docstring] + lines[doc.end_lineno : fn.end_lineno]
    comment = [f"# {PLACEHOLDER}\n"] if start < top else []
    return "".join(lines[:start] + comment + definition + lines[fn.end_lineno :])


def _ruff_format(paths: list[Path]) -> None:
    """Tidy the edited files when ruff is installed, so the copy stays lint-clean: drop the imports only
    the removed code used, sort the rest, format."""
    if paths and importlib.util.find_spec("ruff") is not None:
        ruff = [sys.executable, "-m", "ruff"]
        files = [str(p) for p in paths]
        subprocess.run([*ruff, "check", "--fix", "--select", "F401,I001", "--quiet", "--no-cache", *files], check=False)
        subprocess.run([*ruff, "format", "--quiet", "--no-cache", *files], check=False)


def _answers() -> dict:
    path = Path(__file__).resolve().with_name("coursework_answers.py")
    spec = importlib.util.spec_from_file_location("coursework_answers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ANSWERS


def edit_backwards(names: list[str], root: Path, derivation: bool = False, answer: bool = False) -> dict[Path, list]:
    """Blank (or, with ``answer``, replace by the instructor's answer) the backward and the helpers of every
    op in ``names`` in the copy at ``root``. Returns {file changed: the original lines removed from it}."""
    texts: dict[Path, str] = {}
    removed: dict[Path, list] = {}
    answers = _answers() if answer else {}

    def text(path: Path) -> str:
        if path not in texts:
            texts[path] = path.read_text(encoding="utf-8")
        return texts[path]

    for name in names:
        op = OPS[op_name(name)]
        for blank in op.blanks:
            path = locate_blank(root, blank)
            removed.setdefault(path, []).extend(body_lines(text(path), blank))
            if answer:
                if blank not in answers.get(name, {}):
                    raise LookupError(f"no answer for {name} ({blank}) in tools/coursework_answers.py")
                texts[path] = replace_definition(text(path), blank, answers[name][blank])
            else:
                texts[path] = strip_body(text(path), blank, f"student: write {blank}, see docs/COURSEWORK.md")
        if derivation:
            for fn in op.derivations:
                for path in locate_derivation(root, fn):
                    texts[path] = strip_derivation(text(path), fn)
    for path, new in texts.items():
        path.write_text(new, encoding="utf-8")
    _ruff_format(list(texts))
    removed.update({p: [] for p in texts if p not in removed})
    return removed


# ----------------------------------------------------------------------------- the handout
def _is_junk(rel: str) -> bool:
    return any(fnmatch.fnmatch(part, pattern) for part in rel.split("/") for pattern in JUNK)


def student_files(src: Path = ROOT) -> list[str]:
    """The files of the checkout ``src`` that a handout copies: tracked and untracked, never ignored,
    without the instructor's material and without caches."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=src,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    files = sorted({f for f in out.split("\0") if f and (src / f).is_file()})
    return [f for f in files if not _is_junk(f) and not any(fnmatch.fnmatch(f, p) for p in INSTRUCTOR_FILES)]


def clear_notebook(path: Path) -> None:
    """Remove every output and execution count of the notebook at ``path`` (students run it themselves)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cell.get("metadata", {}).pop("execution", None)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def record() -> dict[str, list[str]]:
    """{op: the node ids its handout fails}, as ``discover --write`` measured them; unmeasured ops are absent."""
    return json.loads(TESTS_FILE.read_text(encoding="utf-8")) if TESTS_FILE.exists() else {}


def promised_tests(name: str) -> list[str]:
    """The node ids of the student's full ``pytest`` that fail in a handout of ``name`` (measured by ``discover``).

    Raises LookupError for an op that was not measured: a guessed list is what this script replaces.
    """
    name = op_name(name)
    data = record()
    if name not in data:
        raise LookupError(f"{name} has not been measured: run python tools/coursework.py discover {name} --write")
    return list(data[name])


def tests_for(names: list[str]) -> list[str]:
    """The tests a handout of several ops fails: the union of each op's measured set."""
    return sorted({t for name in names for t in promised_tests(name)})


def _what_to_write(name: str, root: Path) -> list[str]:
    """The guide's lines for one op: each definition the student writes and where it is."""
    op = OPS[name]
    lines = []
    for blank in op.blanks:
        rel = locate_blank(root, blank).relative_to(root).as_posix()
        if blank.endswith(".backward") and blank.split(".")[0] in op.functions:
            lines.append(f"- Write `{blank}` in `{rel}` (used by {', '.join(f'`{c}`' for c in op.covers)}).")
        else:
            lines.append(f"- Write `{blank}` in `{rel}` too: the provided code calls it for this gradient.")
    return lines


# What every handout's guide says a backward is (docs/COURSEWORK.md says the same to the instructor).
CONTRACT = """\
Each body raises `NotImplementedError`; the signature and docstring say what arrives, and the
`forward` shows what is saved on `ctx`. Everything else in tinynet works.

A `forward` works on numpy arrays. A `backward` receives Tensors (the output gradients, and
`ctx.saved_tensors` gives what the forward saved as Tensors) and returns Tensors, computed with
tinynet's ops: Tensor methods and operators, `tinynet.nn.functional`, other Functions' `apply`.
Then `create_graph=True` records your backward and the double-backward tests differentiate it
again. A backward that computes with numpy on `.data` passes the first-order tests but not the
double-backward ones (tests/test_double_backward_*.py, tests/test_higher_order_models.py): a
value computed outside the tape is a constant to the second derivative."""


def student_guide(names: list[str], root: Path, ids: list[str] | None) -> str:
    """docs/COURSEWORK.md of a handout: what to write, and the tests that must turn green."""
    lines = ["# Your exercise", ""]
    for name in names:
        lines += _what_to_write(name, root)
    if ids is None:  # only while discover measures an op for the first time
        return "\n".join(lines + ["", "Run `pytest`: the tests that fail have not been measured yet.", ""])
    lines += [
        "",
        CONTRACT,
        "",
        f"Run the whole test-suite with `pytest` (see README.md). Now exactly these {len(ids)} tests fail;",
        "a correct answer makes all of them, and so the whole suite, pass. Which ops, kernels or numpy",
        "functions (in a forward) you use is up to you. docs/WORKED_EXAMPLES.md has the lecture notes'",
        "worked examples.",
        "",
        *[f"- `{t}`" for t in ids],
        "",
    ]
    return "\n".join(lines)


@dataclass
class Handout:
    root: Path
    ops: list
    removed: dict = field(default_factory=dict)  # {file: original lines removed from it (the answer)}


def build(names: list[str], dest: Path, src: Path = ROOT, derivation: bool = False, answer: bool = False) -> Handout:
    """Write the student copy of ``src`` for ``names`` to the new directory ``dest`` (no git repository yet).

    With ``answer`` the blanked definitions are replaced by the instructor's answers instead (instructor
    use: proves that a correct answer, with or without the provided kernels, passes everything).
    """
    names = [op_name(n) for n in names]
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} exists and is not empty: a handout goes into a new directory")
    for rel in student_files(src):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, dest / rel)  # keeps the times, which numba's cache index checks
    removed = edit_backwards(names, dest, derivation, answer)
    for rel, functions in INSTRUCTOR_TESTS.items():
        path = dest / rel
        text = path.read_text(encoding="utf-8")
        for fn in functions:
            text = remove_function(text, fn)  # LookupError when it was renamed: fix INSTRUCTOR_TESTS
        path.write_text(text, encoding="utf-8")
    for rel, functions in BIT_FOR_BIT.items():
        path = dest / rel
        text = path.read_text(encoding="utf-8")
        for fn in functions:
            text = to_rounding(text, fn)
        path.write_text(text, encoding="utf-8")
    _ruff_format([dest / rel for rel in {**INSTRUCTOR_TESTS, **BIT_FOR_BIT}])
    for notebook in sorted(dest.rglob("*.ipynb")):
        clear_notebook(notebook)
    (dest / "docs").mkdir(exist_ok=True)
    ids = tests_for(names) if all(n in record() for n in names) else None
    (dest / "docs" / "COURSEWORK.md").write_text(student_guide(names, dest, ids), encoding="utf-8")
    return Handout(dest, names, {p.relative_to(dest).as_posix(): lines for p, lines in removed.items()})


def handout(names: list[str], dest: Path, src: Path = ROOT, derivation: bool = False) -> Handout:
    """``build`` the student copy, then make it a fresh git repository with one commit.

    Every op must have been measured (``discover``), so that the copy's guide names its tests.
    """
    tests_for([op_name(n) for n in names])  # LookupError for an unmeasured op, before anything is written
    made = build(names, dest, src, derivation)
    git = ["git", "-c", "user.name=tinynet coursework", "-c", "user.email=coursework@tinynet.invalid"]
    env = dict(os.environ, GIT_AUTHOR_DATE="2000-01-01T00:00:00Z", GIT_COMMITTER_DATE="2000-01-01T00:00:00Z")
    for cmd in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["commit", "-q", "-m", f"tinynet coursework: {', '.join(made.ops)}"],
    ):
        subprocess.run(git + cmd, cwd=dest, env=env, check=True, capture_output=True)
    return made


def leaked_lines(made: Handout, src: Path = ROOT) -> tuple[list[str], dict[str, list[str]]]:
    """The distinctive lines of the removed answer, and {line: where it still appears in the handout}.

    Places are files of the handout or "git objects" (every object of its repository, decompressed).

    A removed line counts when it is not shared code: it has at least 12 characters and occurs
    nowhere in ``src``'s tinynet/ sources outside the backwards that were removed (a line such
    as ``return gx, None, None`` that other, kept backwards also contain gives nothing away).
    """
    answer = {line.strip() for lines in made.removed.values() for line in lines if len(line.strip()) >= 12}
    kept = []
    for path in sorted((src / "tinynet").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(src).as_posix()
        if rel in made.removed:
            for line in made.removed[rel]:
                text = text.replace(line + "\n", "", 1)
        kept.append(text)
    kept_text = "\n".join(kept)
    distinctive = sorted(line for line in answer if line not in kept_text)
    where: dict[str, list[str]] = {line: [] for line in distinctive}
    for path in sorted(p for p in made.root.rglob("*") if p.is_file() and ".git" not in p.relative_to(made.root).parts):
        data = path.read_bytes().decode("utf-8", errors="replace")
        for line in distinctive:
            if line in data or json.dumps(line)[1:-1] in data:
                where[line].append(path.relative_to(made.root).as_posix())
    if (made.root / ".git").exists():
        objects = subprocess.run(
            ["git", "cat-file", "--batch-all-objects", "--batch"], cwd=made.root, capture_output=True, check=True
        ).stdout.decode("utf-8", errors="replace")
        for line in distinctive:
            if line in objects:
                where[line].append("git objects")
    return distinctive, {line: places for line, places in where.items() if places}


# ----------------------------------------------------------------------------- measuring
_REPORT_PLUGIN = """
import json, os

_outcomes = {}


def pytest_collectreport(report):
    if report.failed:
        _outcomes[report.nodeid] = "failed"


def pytest_runtest_logreport(report):
    if report.failed:
        _outcomes[report.nodeid] = "failed"
    elif report.when == "call" or report.skipped:
        _outcomes.setdefault(report.nodeid, "skipped" if report.skipped else "passed")


def pytest_sessionfinish(session):
    with open(os.environ["COURSEWORK_REPORT"], "w") as f:
        json.dump(_outcomes, f)
"""


def copy_kernel_caches(src: Path, dst: Path) -> None:
    """Copy numba's compiled kernels of ``src`` into ``dst``'s in-tree cache (tinynet/kernels/__pycache__),
    so a measuring copy does not compile them again (never done for a handout: it ships no caches).

    The kernel sources keep their modification times in the copy, which is what numba's cache
    index is keyed on.
    """
    from numba.core.caching import _CacheLocator

    kernels = src / "tinynet" / "kernels"
    folders = [kernels / "__pycache__"]
    if os.environ.get("NUMBA_CACHE_DIR"):
        sub = _CacheLocator.get_suitable_cache_subpath(str(kernels / "__init__.py"))
        folders.append(Path(os.environ["NUMBA_CACHE_DIR"]) / sub)
    target = dst / "tinynet" / "kernels" / "__pycache__"
    target.mkdir(parents=True, exist_ok=True)
    for folder in folders:
        for f in sorted(folder.glob("*.nb[ic]")) if folder.is_dir() else ():
            shutil.copy2(f, target / f.name)


def run_suite(root: Path, args: list[str] = (), timeout: int = 3600) -> tuple[dict[str, str], float]:
    """Run ``pytest`` (the student's command; ``args`` narrow it) in ``root`` and return
    ({node id: "passed" / "failed" / "skipped"}, seconds). Hypothesis runs its derandomized CI profile."""
    with tempfile.TemporaryDirectory(prefix="coursework-report-") as tmp:
        (Path(tmp) / "coursework_report.py").write_text(_REPORT_PLUGIN, encoding="utf-8")
        report = Path(tmp) / "report.json"
        env = dict(os.environ, CI="1", MPLBACKEND="Agg", COURSEWORK_REPORT=str(report))
        env.pop("NUMBA_CACHE_DIR", None)  # the copy's in-tree cache
        env["PYTHONPATH"] = os.pathsep.join([str(root), tmp])
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "coursework_report", *args]
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
        seconds = time.perf_counter() - start
        if not report.exists():
            raise RuntimeError(f"pytest did not run in {root}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return json.loads(report.read_text(encoding="utf-8")), seconds


@dataclass
class Measured:
    op: str
    failed: list
    seconds: float
    outcomes: dict


def measure(name: str, answer: bool = False, args: list[str] = (), src: Path = ROOT) -> Measured:
    """Build the handout of ``name`` (with the instructor's answer when ``answer``) in a temporary folder,
    run the student's ``pytest`` there (``args`` narrow it) and return what failed."""
    name = op_name(name)
    with tempfile.TemporaryDirectory(prefix=f"coursework-{name}-") as tmp:
        made = build([name], Path(tmp) / "handout", src, answer=answer)
        copy_kernel_caches(src, made.root)
        outcomes, seconds = run_suite(made.root, list(args))
    failed = sorted(t for t, outcome in outcomes.items() if outcome == "failed")
    return Measured(name, failed, seconds, outcomes)


def _parallel(fn, names: list[str], jobs: int) -> list:
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(fn, names))


def rotating_op(candidates: list[str] | None = None) -> str:
    """The op CI checks this time: chosen by the commit (or, without git, the date), or $COURSEWORK_OP."""
    candidates = sorted(candidates or record())
    if os.environ.get("COURSEWORK_OP"):
        return op_name(os.environ["COURSEWORK_OP"])
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    key = int(head.stdout.strip()[:8], 16) if head.returncode == 0 else datetime.date.today().toordinal()
    return candidates[key % len(candidates)]


# ----------------------------------------------------------------------------- the guide's tables
GUIDE = ROOT / "docs" / "COURSEWORK.md"
BEGIN = "<!-- generated by `python tools/coursework.py guide --write` from tools/coursework_tests.json: do not edit -->"
END = "<!-- end of the generated part -->"


def _by_file(ids: list[str]) -> str:
    counts: dict[str, int] = {}
    for t in ids:
        rel = t.split("::", 1)[0]
        counts[rel] = counts.get(rel, 0) + 1
    return ", ".join(f"{Path(rel).name} {n}" for rel, n in counts.items())


def guide_tables(root: Path = ROOT) -> str:
    """The generated part of docs/COURSEWORK.md: per op, where its backward is and the measured tests."""
    rows = [
        "| op | the student writes | used by | tests that fail in the handout |",
        "| --- | --- | --- | --- |",
    ]
    details = []
    for name, op in OPS.items():
        where = ", ".join(f"`{b}` (`{locate_blank(root, b).relative_to(root).as_posix()}`)" for b in op.blanks)
        if name not in record():
            rows.append(f"| `{name}` | {where} | {', '.join(f'`{c}`' for c in op.covers)} | not measured yet |")
            continue
        ids = promised_tests(name)
        rows.append(f"| `{name}` | {where} | {', '.join(f'`{c}`' for c in op.covers)} | {len(ids)} |")
        details += [
            "",
            f"<details><summary><code>{name}</code>: {len(ids)} tests ({_by_file(ids)})</summary>",
            "",
        ]
        if op.derivations:
            details += [
                f"`--strip-derivation` also removes the derivation of {', '.join(f'`{d}`' for d in op.derivations)}.",
                "",
            ]
        details += [f"- `{t}`" for t in ids] + ["", "</details>"]
    return "\n".join([BEGIN, "", *rows, *details, "", END])


def write_guide(path: Path = GUIDE) -> bool:
    """Replace the generated part of the guide; returns whether it changed."""
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    new = head + guide_tables() + tail
    path.write_text(new, encoding="utf-8")
    return new != text


def generated_part(path: Path = GUIDE) -> str:
    text = path.read_text(encoding="utf-8")
    return BEGIN + text.split(BEGIN, 1)[1].split(END, 1)[0] + END


# ----------------------------------------------------------------------------- command line
def _ops(args) -> list[str]:
    names = list(OPS) if getattr(args, "all", False) else [op_name(n) for n in args.ops]
    if not names:
        raise SystemExit("name at least one op (or --all)")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the ops, where their backward is, and how many tests their handout fails")
    p = sub.add_parser("handout", help="write the student copy to a new directory (a fresh git repository)")
    p.add_argument("ops", nargs="+")
    p.add_argument("--to", type=Path, required=True, help="the new directory")
    p.add_argument("--strip-derivation", action="store_true", help="also remove the adjoint routines' derivations")
    p = sub.add_parser("tests", help="the node ids that fail in the handout and pass with a right answer")
    p.add_argument("ops", nargs="+")
    for command, text in (
        ("discover", "measure: build the handout, run the full pytest, list what fails"),
        ("verify", "put the instructor's answer into the handout and check the recorded tests (or --full) pass"),
    ):
        p = sub.add_parser(command, help=text)
        p.add_argument("ops", nargs="*")
        p.add_argument("--all", action="store_true", help="every op (verify: every op with an answer)")
        p.add_argument("-j", "--jobs", type=int, default=1, help="ops measured in parallel")
        if command == "verify":
            p.add_argument("--full", action="store_true", help="run the whole suite, not only the recorded tests")
            p.add_argument(
                "--only",
                nargs="+",
                metavar="PYTEST_ARG",
                help="run only these test files or node ids (a quick check while writing an answer)",
            )
        if command == "discover":
            p.add_argument("--write", action="store_true", help=f"store the result in {TESTS_FILE.name} and the guide")
    p = sub.add_parser("guide", help="print (or --write) the generated tables of docs/COURSEWORK.md")
    p.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)

    if args.command == "list":
        for name, op in OPS.items():
            count = f"{len(promised_tests(name))} tests" if name in record() else "not measured"
            fns = ", ".join(f"{b} in {locate_blank(ROOT, b).relative_to(ROOT).as_posix()}" for b in op.blanks)
            print(f"{name}: {fns}; serves {', '.join(op.covers)}; {count}")
        return 0
    if args.command == "handout":
        made = handout(args.ops, args.to, derivation=args.strip_derivation)
        ids = tests_for(made.ops)
        print(f"wrote {made.root} (one commit); the student's pytest fails these {len(ids)} tests:")
        print("\n".join(f"  {t}" for t in ids))
        return 0
    if args.command == "tests":
        print("\n".join(tests_for([op_name(n) for n in args.ops])))
        return 0
    if args.command == "guide":
        if args.write:
            print("docs/COURSEWORK.md", "updated" if write_guide() else "unchanged")
        else:
            print(guide_tables())
        return 0
    if args.command == "discover":
        results = _parallel(measure, _ops(args), args.jobs)
        data = json.loads(TESTS_FILE.read_text(encoding="utf-8")) if TESTS_FILE.exists() else {}
        for r in results:
            old = set(data.get(r.op, []))
            print(
                f"{r.op}: {len(r.failed)} tests fail in the handout (full pytest, {r.seconds:.0f} s);"
                f" {len(set(r.failed) - old)} new, {len(old - set(r.failed))} gone since the record"
            )
            data[r.op] = r.failed
        if args.write:
            TESTS_FILE.write_text(json.dumps(dict(sorted(data.items())), indent=1) + "\n", encoding="utf-8")
            write_guide()
            print(f"wrote {TESTS_FILE.relative_to(ROOT)} and docs/COURSEWORK.md")
        return 0
    answers = _answers()
    names = [n for n in _ops(args) if n in answers] if args.all else _ops(args)

    def run(name: str) -> Measured:
        return measure(name, answer=True, args=args.only or ([] if args.full else promised_tests(name)))

    results = _parallel(run, names, args.jobs)
    for r in results:
        what = (
            "the full pytest" if args.full else f"pytest {' '.join(args.only)}" if args.only else "the recorded tests"
        )
        missing = set() if args.full or args.only else set(promised_tests(r.op)) - set(r.outcomes)
        ok = not r.failed and not missing and bool(r.outcomes)
        print(
            ("OK   " if ok else "FAIL ")
            + f"{r.op}: with the instructor's answer {what} ran {len(r.outcomes)} tests in {r.seconds:.0f} s,"
            + f" {len(r.failed)} failed, {len(missing)} recorded tests did not run"
        )
        print("\n".join(f"  {t}" for t in sorted(set(r.failed) | missing)))
        r.ok = ok
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
