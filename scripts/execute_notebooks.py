"""Execute every notebook in notebooks/ and store it with its outputs (what the docs render).

    GRAPHREC_DATA=/path/to/datasets python scripts/execute_notebooks.py [NAME ...]

Each notebook runs top to bottom in a fresh kernel from a temporary folder; the stored copy is
replaced only when every cell ran without error. The tests execute the same notebooks
(tests/test_notebooks.py), so the stored outputs stay what the code produces.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def execute(path: Path, timeout: int = 600) -> float:
    """Run ``path`` in a fresh ``python3`` kernel and write it back with its outputs; the seconds taken."""
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": tmp}}).execute()
    seconds = time.perf_counter() - t0
    for cell in nb.cells:  # execution metadata (timestamps) would make every run a diff
        cell.get("metadata", {}).pop("execution", None)
    nbformat.write(nb, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help="notebook names without .ipynb (default: all)")
    args = p.parse_args(argv)
    paths = [NOTEBOOKS / f"{n}.ipynb" for n in args.names] if args.names else sorted(NOTEBOOKS.glob("*.ipynb"))
    for path in paths:
        if not path.is_file():
            print(f"execute_notebooks: error: no notebook {path}", file=sys.stderr)
            return 2
        print(f"{path.name}: {execute(path):.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
