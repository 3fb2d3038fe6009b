"""The README says true things: its set-up commands, its table of names, its code and its links.

- The first screen (everything before the first ``##`` heading) holds exactly two shell
  commands, the main job and the tests, and ``.ci/run`` runs the test command as written.
- Every name in the "What is inside" table exists in the module its row names, resolves as an attribute
  after a plain ``import tinynet`` (in a fresh interpreter), and is marked *(module)* exactly when it is
  a submodule.
- Every ``python`` code block runs (the one that needs torch skips without it).
- Every relative link and picture points at a file of the repository.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
MAIN_JOB = "pip install -e . && python examples/train_segmentation.py"
TEST_COMMAND = 'pip install -e ".[test]" && pytest'


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def _commands(block: str) -> list[str]:
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_the_first_screen_has_exactly_the_two_set_up_commands():
    first_screen = README.split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:bash|sh|console)?\n(.*?)```", first_screen, flags=re.S)
    commands = [c for b in blocks for c in _commands(b)]
    assert commands == [MAIN_JOB, TEST_COMMAND]
    assert len(first_screen.splitlines()) <= 40, "the set-up commands must be on the first screen"


def test_ci_runs_the_readme_test_command_as_written():
    ci = (ROOT / ".ci" / "run").read_text()
    assert any(line.strip() == TEST_COMMAND for line in ci.splitlines()), ".ci/run must run the README's test command"


def _table_rows():
    """(module, names, names marked *(module)*) for each row of the "What is inside" table."""
    table = README[README.index("| module | contents") :].split("\n\n", 1)[0]
    for line in table.splitlines()[2:]:
        _, module, contents, _ = line.split("|")
        names = [n for n in re.findall(r"`([^`]+)`", contents) if not n.startswith(module.strip().strip("`") + "(")]
        yield module.strip().strip("`"), names, re.findall(r"`([^`]+)` \*\(module\)\*", contents)


# One fresh interpreter resolves every dotted name after a plain `import tinynet` (no submodule imported by
# hand): a name that only works after `import tinynet.models` fails here.
_RESOLVE = """
import json, sys, types
import tinynet
out = {}
for full in json.loads(sys.argv[1]):
    obj = tinynet
    try:
        for part in full.split(".")[1:]:
            obj = getattr(obj, part)
        out[full] = "module" if isinstance(obj, types.ModuleType) else "callable" if callable(obj) else "other"
    except AttributeError as e:
        out[full] = f"AttributeError: {e}"
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def resolved_after_plain_import() -> dict:
    names = [f"{module}.{name}" for module, row, _ in _table_rows() for name in [""] + row]
    names = [n.rstrip(".") for n in names]
    done = subprocess.run(
        [sys.executable, "-c", _RESOLVE, json.dumps(names)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize("module, names, modules", list(_table_rows()), ids=[m for m, _, _ in _table_rows()])
def test_every_name_in_the_table_resolves_after_a_plain_import(resolved_after_plain_import, module, names, modules):
    got = {name: resolved_after_plain_import[f"{module}.{name}"] for name in names}
    failed = {name: kind for name, kind in got.items() if kind.startswith("AttributeError")}
    assert not failed, f"after `import tinynet`, these names in the {module} row do not resolve: {failed}"
    assert resolved_after_plain_import[module] == "module", f"{module} is not a module after `import tinynet`"
    marked_wrong = [n for n in names if (got[n] == "module") != (n in modules)]
    assert not marked_wrong, f"{module}: *(module)* must mark exactly the submodules, wrong for {marked_wrong}"


@pytest.mark.parametrize("module, names, _", list(_table_rows()), ids=[m for m, _, _ in _table_rows()])
def test_every_name_in_the_table_exists(module, names, _):
    mod = importlib.import_module(module)
    assert names, f"no names listed for {module}"
    for name in names:
        obj = mod
        for i, part in enumerate(name.split(".")):
            if not hasattr(obj, part):  # a submodule not imported by its package
                obj = importlib.import_module(f"{module}.{'.'.join(name.split('.')[: i + 1])}")
            else:
                obj = getattr(obj, part)


@pytest.mark.parametrize("index", range(len(_blocks("python"))), ids=lambda i: f"README-python-block-{i + 1}")
def test_python_code_blocks_run(index):
    code = _blocks("python")[index]
    if "import torch" in code:
        pytest.importorskip("torch")
    exec(compile(code, f"README.md python block {index}", "exec"), {})


def test_relative_links_and_pictures_exist():
    targets = re.findall(r"\]\(([^)#\s]+)\)", README)
    local = [t for t in targets if not re.match(r"[a-z]+://", t)]
    assert local, "expected links to the docs, notebooks and pictures"
    missing = [t for t in local if not (ROOT / t).exists()]
    assert not missing, f"README links to missing files: {missing}"
