"""docs/ARCHITECTURE.md's pdb recipe does what it says: the line it names holds the code it quotes, and
running the recipe stops there with the values it shows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
SECTION = DOC[DOC.index("### Stepping through a convolution") :]
SCRIPT = re.search(r"```python\n# step.py\n(.*?)```", SECTION, re.S).group(1)
SESSION = re.search(r"```text\n\$ (.*?)\n(.*?)```", SECTION, re.S)
COMMAND, TRANSCRIPT = SESSION.group(1), SESSION.group(2)
BREAK = re.search(r"^\(Pdb\) b (\S+):(\d+)$", TRANSCRIPT, re.M)
QUOTED = re.findall(r"^-> (.*)$", TRANSCRIPT, re.M)


def test_the_breakpoint_line_holds_the_code_the_recipe_quotes():
    path, line = ROOT / BREAK.group(1), int(BREAK.group(2))
    assert QUOTED, "the recipe quotes no line"
    assert path.read_text(encoding="utf-8").splitlines()[line - 1].strip() == QUOTED[0]
    assert all(q == QUOTED[0] for q in QUOTED)
    assert f"{BREAK.group(1).split('/')[-1]}({line})" in TRANSCRIPT


def test_running_the_recipe_stops_there_and_prints_what_it_shows(tmp_path):
    script = tmp_path / "step.py"
    script.write_text(SCRIPT)
    env_part, _, python_part = COMMAND.partition(" python ")
    env = dict(os.environ, **dict(item.split("=") for item in env_part.split()))
    # The recipe's step.py lies in the repository's root, which is then sys.path[0]; pdb finds the
    # relative breakpoint path there. Ours lies in tmp_path, so the root joins sys.path this way.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    assert env["NUMBA_DISABLE_JIT"] == "1" and env["TINYNET_KERNELS"] == "reference"
    assert python_part == "-m pdb step.py"
    commands = [line[len("(Pdb) ") :] for line in TRANSCRIPT.splitlines() if line.startswith("(Pdb) ")]
    proc = subprocess.run(
        [sys.executable, "-m", "pdb", str(script)],
        input="\n".join(commands + ["q"]) + "\n",
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    stops = re.findall(r"^\(Pdb\) > .*?\((\d+)\)(\w+)\(\)\n-> (.*)$", proc.stdout, re.M)
    assert len(stops) == len(QUOTED), proc.stdout[-3000:] + proc.stderr[-2000:]
    for (line, function, code), quoted in zip(stops, QUOTED):
        assert (line, function, code) == (BREAK.group(2), "im2col", quoted)
    shown = re.findall(r"^(\(\d[\d, ]*\))$", TRANSCRIPT, re.M)
    printed = re.findall(r"^\(Pdb\) (\(\d[\d, ]*\))$", proc.stdout, re.M)
    assert shown and printed == shown, proc.stdout[-3000:]
