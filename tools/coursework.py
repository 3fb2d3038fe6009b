"""Turn tinynet into coursework: remove an op's backward, keep its forward, and name the tests that must turn green.

    python tools/coursework.py list                           # the ops this script knows
    python tools/coursework.py strip conv2d --root COPY       # blank Conv.backward in the checkout COPY
    python tools/coursework.py strip conv2d max_pool2d --strip-derivation --root COPY
    python tools/coursework.py tests conv2d                   # the pytest command students run
    python tools/coursework.py check conv2d                   # prove the promise on a temporary copy
    python tools/coursework.py discover conv2d --write        # recompute the promise (full test run)

``strip`` edits the files of the checkout at ``--root`` IN PLACE (it refuses to touch the
repository this script lives in unless given ``--root`` explicitly): run it on the copy you
hand out. For each op it replaces the body of the ``backward`` of the op's ``Function`` with

    raise NotImplementedError("student: ...")

and keeps the signature and the docstring, so the student sees what ``forward`` saved on
``ctx`` and what ``backward`` must return. With ``--strip-derivation`` it also removes the
derivation comments and the docstrings of the adjoint routines that the backward calls
(the comment blocks that say why Cᵀ is the adjoint), leaving a pointer to docs/COURSEWORK.md.

The tests that fail once an op is stripped (and pass again when the student's backward is
right) are stored per op in ``coursework_tests.json`` next to this script: ``discover``
computes them by running the whole suite on a stripped temporary copy, and ``check`` (used
by ``tests/test_coursework.py``) verifies on a stripped copy that exactly those tests fail
and on this repository that they pass. See docs/COURSEWORK.md.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS_FILE = Path(__file__).resolve().with_name("coursework_tests.json")
PLACEHOLDER = "Derivation removed for the coursework: derive it from the indices (docs/COURSEWORK.md)."
# What a temporary copy needs to run the test-suite (notebooks and benchmarks are not part of it).
COPY = ("tinynet", "tests", "examples", "tools", "setup.cfg", "pyproject.toml", "README.md")


@dataclass(frozen=True)
class Op:
    """One coursework exercise.

    Attributes:
        functions: (file, class name) of every ``Function`` whose ``backward`` is blanked.
        covers: the public API that runs through these Functions (what the student's backward serves).
        derivations: (file, function name) of the adjoint routines whose derivation comment
            and docstring ``--strip-derivation`` removes.
    """

    functions: tuple
    covers: tuple
    derivations: tuple = ()


OPS: dict[str, Op] = {
    "conv2d": Op(
        functions=(("tinynet/functional/conv.py", "Conv"),),
        covers=("conv1d", "conv2d", "convolve2d", "nn.Conv1d", "nn.Conv2d", "nn.DepthwiseSeparableConv2d"),
        derivations=(
            ("tinynet/functional/conv.py", "_correlate_adjoint"),
            ("tinynet/functional/conv.py", "_correlate_weight"),
            ("tinynet/kernels/conv.py", "col2im"),
        ),
    ),
    "conv_transpose2d": Op(
        functions=(("tinynet/functional/conv.py", "ConvTranspose"),),
        covers=("conv_transpose1d", "conv_transpose2d", "nn.ConvTranspose1d", "nn.ConvTranspose2d"),
        derivations=(("tinynet/functional/conv.py", "_correlate_weight"),),
    ),
    "max_pool2d": Op(
        functions=(("tinynet/functional/pooling.py", "MaxPool2dFn"),),
        covers=("max_pool2d", "max_pool2d_with_indices", "nn.MaxPool2d"),
        derivations=(("tinynet/kernels/pool.py", "scatter_add_at_indices"),),
    ),
    "avg_pool2d": Op(
        functions=(("tinynet/functional/pooling.py", "WindowMean"),),
        covers=("avg_pool2d", "adaptive_avg_pool2d", "nn.AvgPool2d", "nn.AdaptiveAvgPool2d"),
        derivations=(("tinynet/kernels/pool.py", "window_mean_backward"),),
    ),
    "max_unpool2d": Op(
        functions=(("tinynet/functional/pooling.py", "MaxUnpool2dFn"),),
        covers=("max_unpool2d", "nn.MaxUnpool2d"),
        derivations=(("tinynet/kernels/pool.py", "gather_at_indices"),),
    ),
    "upsample_nearest": Op(
        functions=(("tinynet/functional/resample.py", "GatherRowsCols"),),
        covers=("interpolate(mode='nearest' / 'nearest-exact')", "nn.Upsample", "nn.UpsamplingNearest2d"),
        derivations=(("tinynet/kernels/resample.py", "scatter_add_rows_cols"),),
    ),
    "upsample_bilinear": Op(
        functions=(("tinynet/functional/resample.py", "Bilinear"),),
        covers=("interpolate(mode='linear' / 'bilinear')", "nn.Upsample", "nn.UpsamplingBilinear2d"),
        derivations=(("tinynet/kernels/resample.py", "bilinear_backward"),),
    ),
    "relu": Op(
        functions=(("tinynet/tensor_functions.py", "ReLU"),),
        covers=("Tensor.relu", "relu", "nn.ReLU"),
    ),
}


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


def strip_backward(source: str, class_name: str, message: str) -> str:
    """``source`` with the body of ``class_name.backward`` replaced by ``raise NotImplementedError(message)``.

    The decorators, the signature and the docstring stay; everything after the docstring
    (code and comments) up to the end of the method goes.
    """
    tree = ast.parse(source)
    method = _find(_find(tree.body, ast.ClassDef, class_name).body, ast.FunctionDef, "backward")
    lines = source.splitlines(keepends=True)
    doc = _docstring_node(method)
    indent = _indent_of(lines[method.body[0].lineno - 1])
    if doc is not None:
        start = doc.end_lineno  # 0-based index of the first line removed
    else:
        start = method.body[0].lineno - 1
        while lines[start - 1].lstrip().startswith("#"):
            start -= 1  # comments between the signature and the first statement go too
    raise_line = f"{indent}raise NotImplementedError({message!r})\n"
    return "".join(lines[:start]) + raise_line + "".join(lines[method.end_lineno :])


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
    """Format the edited files when ruff is installed, so the copy stays lint-clean."""
    if importlib.util.find_spec("ruff") is not None:
        subprocess.run([sys.executable, "-m", "ruff", "format", "--quiet", *map(str, paths)], check=False)


def strip(names: list[str], root: Path, derivation: bool = False) -> list[Path]:
    """Blank the backward of every op in ``names`` in the checkout ``root``; returns the files changed."""
    texts: dict[Path, str] = {}

    def text(rel: str) -> str:
        path = root / rel
        if path not in texts:
            texts[path] = path.read_text(encoding="utf-8")
        return texts[path]

    for name in names:
        op = OPS[name]
        for rel, cls in op.functions:
            message = f"student: write {cls}.backward, see python tools/coursework.py tests {name}"
            texts[root / rel] = strip_backward(text(rel), cls, message)
        if derivation:
            for rel, fn in op.derivations:
                texts[root / rel] = strip_derivation(text(rel), fn)
    for path, new in texts.items():
        path.write_text(new, encoding="utf-8")
    _ruff_format(list(texts))
    return list(texts)


# ----------------------------------------------------------------------------- the promise
def promised_tests(name: str) -> list[str]:
    """The pytest node ids that fail once ``name`` is stripped (stored in coursework_tests.json)."""
    data = json.loads(TESTS_FILE.read_text(encoding="utf-8")) if TESTS_FILE.exists() else {}
    return list(data.get(name, []))


def pytest_command(names: list[str]) -> list[str]:
    """The command that runs the tests students turn green for ``names``."""
    return ["pytest", *sorted({t for name in names for t in promised_tests(name)})]


def copy_repository(src: Path, dst: Path) -> Path:
    """Copy what the test-suite needs from ``src`` to ``dst``, with the compiled kernels' caches.

    Sources keep their modification times (``copy2``), which is what numba's cache index is
    keyed on, so the kernels' compiled code is reused instead of compiled again.
    """
    dst.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache", "runs")
    for name in COPY:
        path = src / name
        if path.is_dir():
            shutil.copytree(path, dst / name, ignore=ignore)
        elif path.exists():
            shutil.copy2(path, dst / name)
    _copy_kernel_caches(src, dst)
    return dst


def _copy_kernel_caches(src: Path, dst: Path) -> None:
    """Copy numba's cache files of src's kernels into dst's in-tree cache (tinynet/kernels/__pycache__)."""
    from numba.core.caching import _CacheLocator

    kernels = src / "tinynet" / "kernels"
    folders = [kernels / "__pycache__"]  # the in-tree cache, used when NUMBA_CACHE_DIR is not set
    if os.environ.get("NUMBA_CACHE_DIR"):
        sub = _CacheLocator.get_suitable_cache_subpath(str(kernels / "__init__.py"))
        folders.append(Path(os.environ["NUMBA_CACHE_DIR"]) / sub)
    target = dst / "tinynet" / "kernels" / "__pycache__"
    target.mkdir(parents=True, exist_ok=True)
    for folder in folders:
        for f in sorted(folder.glob("*.nb[ic]")) if folder.is_dir() else ():
            shutil.copy2(f, target / f.name)


def run_pytest(root: Path, args: list[str], env: dict | None = None, timeout: int = 900) -> dict[str, str]:
    """Run pytest in ``root`` (importing tinynet from there) and return {node id: outcome}."""
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "report.xml"
        env = dict(os.environ if env is None else env)
        env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={xml}", *args]
        proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
        if not xml.exists():
            raise RuntimeError(f"pytest did not run in {root}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return _outcomes(ET.parse(xml), root)


def _outcomes(tree: ET.ElementTree, root: Path) -> dict[str, str]:
    results = {}
    for case in tree.iter("testcase"):
        parts = case.get("classname", "").split(".")
        node = None
        for k in range(len(parts), 0, -1):  # the longest prefix that is a file; the rest are classes
            rel = "/".join(parts[:k]) + ".py"
            if (root / rel).exists():
                node = "::".join([rel, *parts[k:], case.get("name")])
                break
        if node is None:
            node = f"{case.get('classname')}::{case.get('name')}"
        kinds = {child.tag for child in case}
        results[node] = "failed" if kinds & {"failure", "error"} else "skipped" if "skipped" in kinds else "passed"
    return results


@dataclass
class CheckResult:
    op: str
    files: list
    promised: set
    failed_when_stripped: set
    not_passing_in_original: set

    @property
    def ok(self) -> bool:
        return self.promised == self.failed_when_stripped and not self.not_passing_in_original and bool(self.promised)

    def explain(self) -> str:
        lines = [f"{self.op}: ran {', '.join(self.files)}"]
        for title, items in (
            ("promised but did not fail when stripped", self.promised - self.failed_when_stripped),
            ("failed when stripped but not promised", self.failed_when_stripped - self.promised),
            ("promised but not passing in the original", self.not_passing_in_original),
        ):
            if items:
                lines.append(f"  {title}:")
                lines += [f"    {t}" for t in sorted(items)]
        if not self.promised:
            lines.append("  no promised tests in these files")
        return "\n".join(lines)


def _file_of(node: str) -> str:
    return node.split("::", 1)[0]


def check(name: str, files: list[str] | None = None, root: Path = ROOT, original: bool = True) -> CheckResult:
    """Strip ``name`` in a temporary copy of ``root`` and run ``files`` there (default: the files of the promised tests).

    Within those files exactly the promised tests must fail on the copy; with ``original``
    the promised tests are also run in ``root`` itself, where they must pass.
    """
    promised_all = promised_tests(name)
    files = sorted(files or {_file_of(t) for t in promised_all})
    promised = {t for t in promised_all if _file_of(t) in files}
    env = dict(os.environ)
    env.pop("NUMBA_CACHE_DIR", None)  # the copy uses its in-tree cache, filled from ours
    with tempfile.TemporaryDirectory(prefix=f"coursework-{name}-") as tmp:
        copy = copy_repository(root, Path(tmp) / "repo")
        strip([name], copy)
        stripped = run_pytest(copy, files, env)
    outcomes = run_pytest(root, sorted(promised)) if original and promised else {}
    return CheckResult(
        op=name,
        files=files,
        promised=promised,
        failed_when_stripped={t for t, outcome in stripped.items() if outcome == "failed"},
        not_passing_in_original={t for t in promised if outcomes.get(t) != "passed"} if original else set(),
    )


def discover(name: str, root: Path = ROOT) -> list[str]:
    """Run the whole test-suite on a stripped copy and return the tests that fail (slow: minutes)."""
    env = dict(os.environ)
    env.pop("NUMBA_CACHE_DIR", None)
    with tempfile.TemporaryDirectory(prefix=f"coursework-{name}-") as tmp:
        copy = copy_repository(root, Path(tmp) / "repo")
        strip([name], copy)
        outcomes = run_pytest(copy, ["tests", "tinynet", "--ignore=tests/test_coursework.py"], env)
    return sorted(t for t, outcome in outcomes.items() if outcome == "failed")


# ----------------------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the ops this script can strip")
    p = sub.add_parser("strip", help="blank the backward of the named ops (edits the files in place)")
    p.add_argument("ops", nargs="+", choices=sorted(OPS))
    p.add_argument("--root", type=Path, required=True, help="the checkout to edit (the copy you hand out)")
    p.add_argument(
        "--strip-derivation",
        action="store_true",
        help="also remove the derivation comments and docstrings of the adjoint routines the backward calls",
    )
    p = sub.add_parser("tests", help="print the pytest command that runs the tests the ops turn red")
    p.add_argument("ops", nargs="+", choices=sorted(OPS))
    p = sub.add_parser("test", help="run the tests the ops turn red (what students run; extra arguments go to pytest)")
    p.add_argument("ops", nargs="+", choices=sorted(OPS))
    p = sub.add_parser("check", help="verify the promise on a temporary copy (exactly these tests fail)")
    p.add_argument("ops", nargs="+", choices=sorted(OPS))
    p = sub.add_parser("discover", help="run the whole suite on a stripped copy and list what fails")
    p.add_argument("ops", nargs="+", choices=sorted(OPS))
    p.add_argument("--write", action="store_true", help=f"store the result in {TESTS_FILE.name}")
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "test":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")

    if args.command == "list":
        for name, op in OPS.items():
            fns = ", ".join(f"{cls}.backward in {rel}" for rel, cls in op.functions)
            print(f"{name}: {fns}; serves {', '.join(op.covers)}; {len(promised_tests(name))} tests")
        return 0
    if args.command == "strip":
        root = args.root.resolve()
        for path in strip(args.ops, root, args.strip_derivation):
            print(f"edited {path.relative_to(root)}")
        print("students run:", shlex.join(pytest_command(args.ops)))
        return 0
    if args.command == "tests":
        print(shlex.join(pytest_command(args.ops)))
        return 0
    if args.command == "test":
        cmd = [sys.executable, "-m", *pytest_command(args.ops), *extra]
        return subprocess.run(cmd, cwd=ROOT).returncode
    if args.command == "check":
        results = [check(name) for name in args.ops]
        for r in results:
            print(("OK   " if r.ok else "FAIL ") + r.explain())
        return 0 if all(r.ok for r in results) else 1
    data = json.loads(TESTS_FILE.read_text(encoding="utf-8")) if TESTS_FILE.exists() else {}
    for name in args.ops:
        data[name] = discover(name)
        print(f"{name}: {len(data[name])} tests fail when stripped")
        for t in data[name]:
            print(f"  {t}")
    if args.write:
        TESTS_FILE.write_text(json.dumps(dict(sorted(data.items())), indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
