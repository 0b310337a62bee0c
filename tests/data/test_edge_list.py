"""load_edge_list: integer and string ids, both directions, line-numbered errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphrec.data.loaders import LINKS, load_edge_list


def test_integer_ids_undirected_with_a_loop(tmp_path: Path) -> None:
    p = tmp_path / "g.edgelist"
    p.write_text("10 20\n20 30\n\n30 30\n20 10\n")
    g = load_edge_list(p)
    assert g.id_map("node").to_external([0, 1, 2]).tolist() == [10, 20, 30]
    assert g.num_edges(LINKS) == 5  # 10-20 both ways (the repeat merged), 20-30 both ways, the loop once
    assert g.meta["num_undirected_edges"] == 3
    d = load_edge_list(p, directed=True)
    assert d.num_edges(LINKS) == 4


def test_string_ids_and_bad_lines(tmp_path: Path) -> None:
    p = tmp_path / "g.txt"
    p.write_text("a b\nb c\n")
    g = load_edge_list(p)
    assert g.id_map("node").to_external([0, 1, 2]).tolist() == ["a", "b", "c"]
    bad = tmp_path / "bad.txt"
    bad.write_text("a b\nc\n")
    with pytest.raises(ValueError, match="line 2"):
        load_edge_list(bad)
    with pytest.raises(FileNotFoundError):
        load_edge_list(tmp_path / "missing.txt")
