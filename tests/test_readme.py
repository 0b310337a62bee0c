"""The README's Python examples run as written (the DataFrame route from a table to a metric)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_the_dataframe_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = [b for b in python_blocks() if "Graph.from_frame" in b]
    assert len(blocks) == 1, "the README shows one DataFrame example"
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), ns)  # noqa: S102 - the project's own README
    g, data, items, metrics = ns["g"], ns["data"], ns["items"], ns["metrics"]
    gr = ns["gr"]
    # what the comments promise: ann's two plays of s1 are one edge of weight 2; one held-out play per user
    assert sorted(g.edges(gr.INTERACTS).weight.tolist()) == [1.0] * 7 + [2.0]
    assert data.test.num_edges(gr.INTERACTS) == 3 and g.num_edges(gr.TRUSTS) == 2
    assert items.shape == (2, 2) and set(metrics) >= {"recall@2", "ndcg@2"}
