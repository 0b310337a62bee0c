"""Every notebook in notebooks/ executes top to bottom on the synthetic default, and its stored
outputs (what the documentation shows) are what the code produces now."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))

#: a number in printed output (integers, decimals, exponents)
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")

#: a duration or a rate (``0.54 s``, ``26.0s``, ``12 ms``, ``300 q/s``): machine-dependent, never compared
TIMING = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s?(?:s|ms|q/s)\b")


#: a named dataset a notebook loads (``gr.datasets.load("lastfm")``)
LOADS = re.compile(r"""datasets\.load\(\s*["']([A-Za-z0-9_-]+)["']""")


def skip_without_its_data(nb: dict, name: str) -> None:
    """Skip when a real dataset the notebook loads is absent: its stored outputs were made with it
    (notebooks fall back to the synthetic default, which prints other numbers, or cannot run)."""
    from graphrec.data.download import is_present, source_of

    root = os.environ.get("GRAPHREC_DATA")
    wanted = {m for c in nb.cells if c.cell_type == "code" for m in LOADS.findall(c.source)} - {"synthetic"}
    missing = sorted(d for d in wanted if not root or not is_present(source_of(d), root))
    if missing:
        pytest.skip(f"{name}'s stored outputs use {', '.join(missing)}, not found under GRAPHREC_DATA={root!r}")


def stdout_of(cell: dict) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")


def figures_of(cell: dict) -> int:
    return sum("image/png" in o.get("data", {}) for o in cell.get("outputs", []))


def agree(stored: str, fresh: str, timing: bool) -> str | None:
    """Why ``fresh`` output disagrees with ``stored``: the same text around the numbers, and the same
    numbers within 10% (or 0.02), durations aside, unless the cell is tagged ``timing``. None when
    they agree."""
    stored, fresh = TIMING.sub("<time>", stored), TIMING.sub("<time>", fresh)
    skeleton = [" ".join(NUMBER.sub("#", t).split()) for t in (stored, fresh)]
    if skeleton[0] != skeleton[1]:
        return f"text differs:\nstored: {skeleton[0][:300]}\nnow:    {skeleton[1][:300]}"
    if timing:
        return None
    for a, b in zip(NUMBER.findall(stored), NUMBER.findall(fresh)):
        x, y = float(a), float(b)
        if not math.isclose(x, y, rel_tol=0.1, abs_tol=0.02):
            return f"stored {a} but now {b} in:\n{fresh[:500]}"
    return None


def test_notebooks_exist() -> None:
    assert NOTEBOOKS, "notebooks/ holds no notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_with_outputs_and_a_figure(path: Path) -> None:
    nbformat = pytest.importorskip("nbformat", reason="notebook tests need the notebooks extra (nbformat)")
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), "stored without running every cell"
    assert all(c.get("outputs") for c in code), "a code cell stored without its output"
    assert sum(figures_of(c) for c in code) >= 1, "no matplotlib figure in the stored outputs"
    errors = [o for c in code for o in c.outputs if o.get("output_type") == "error"]
    assert not errors


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_reproduces_its_outputs(path: Path, tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat", reason="notebook tests need the notebooks extra (nbformat)")
    nbclient = pytest.importorskip("nbclient", reason="notebook tests need the notebooks extra (nbclient)")
    pytest.importorskip("matplotlib", reason="the notebooks draw with matplotlib (the notebooks extra)")
    stored = nbformat.read(path, as_version=4)
    skip_without_its_data(stored, path.name)
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    for i, (old, new) in enumerate(zip(stored.cells, nb.cells)):
        if new.cell_type != "code":
            continue
        assert figures_of(new) == figures_of(old), f"cell {i}: {figures_of(new)} figures now, {figures_of(old)} stored"
        why = agree(stdout_of(old), stdout_of(new), timing="timing" in old.get("metadata", {}).get("tags", []))
        assert why is None, (f"{path.name} cell {i}: the stored output is stale; "
                             f"re-store it with python scripts/execute_notebooks.py {path.stem}\n{why}")
