"""Execute the teaching notebooks in place, so the committed copies carry their outputs.

    python tools/run_notebooks.py                              # every notebooks/*.ipynb
    python tools/run_notebooks.py notebooks/03_backprop_through_convolution.ipynb

Each notebook runs top to bottom in a fresh kernel (cwd = notebooks/), exactly as CI runs it
with nbmake (``pytest`` collects ``notebooks/``); an error stops here with the cell's traceback.
Outputs are written back without timing metadata, so re-running an unchanged notebook gives
an unchanged file (the notebooks seed every random draw). Commit the notebooks after running this.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def run(path: Path, timeout: int = 600) -> float:
    """Execute ``path`` in place and return the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        coalesce_streams=True,
        resources={"metadata": {"path": path.parent}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    total = 0.0
    for path in paths:
        seconds = run(path.resolve())
        total += seconds
        print(f"{seconds:6.1f} s  {path.name}", flush=True)
    print(f"{total:6.1f} s  in total")
    return 0


if __name__ == "__main__":
    sys.exit(main())
