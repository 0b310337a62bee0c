"""scripts/bench_graphhash.py: the acceptance ratios of its summary line."""

from __future__ import annotations

from tests.conftest import load_script


def test_summary_ratios() -> None:
    bench = load_script("bench_graphhash")
    fits = [{"data": "d", "backbone": "mf", "table": "full", "budget": None, "recall@20": 0.20}]
    for table, rec in {"random": 0.05, "double": 0.06, "frequency": 0.08, "double_frequency": 0.07, "graph": 0.12,
                       "double_graph": 0.19, "double_graph_split": 0.17}.items():
        fits.append({"data": "d", "backbone": "mf", "table": table, "budget": 0.25, "recall@20": rec})
    s = bench.summarise(fits, "d", "mf", [0.25, 0.05])
    line = s["budgets"]["0.25"]
    assert line["graph_over_random"] == 2.4 and line["graph_over_best_baseline"] == 1.5
    assert line["double_graph_over_full"] == 0.95 and s["full_recall@20"] == 0.20
    assert line["double_graph_split_over_full"] == 0.85 and "graph_frequency_over_full" not in line
    assert s["budgets"]["0.05"]["graph"] is None and "graph_over_random" not in s["budgets"]["0.05"]


def test_clusterings_are_timed_in_turn() -> None:
    import argparse

    import pytest

    pytest.importorskip("igraph")
    pytest.importorskip("sknetwork")
    from tests.cluster.test_leiden import planted

    bench = load_script("bench_graphhash")
    g, _, _ = planted(blocks=4, seed=0)
    args = argparse.Namespace(seed=0, repeats=2, n_iterations="1,2", peer=True)
    lines = bench.compare_clusterings(g, "planted", 0.1, "bipartite", args)
    assert [x["method"] for x in lines] == ["leiden_igraph", "leiden_igraph", "sknetwork_louvain"]
    assert [x.get("n_iterations") for x in lines[:2]] == [1, 2]
    assert all(x["seconds"] > 0 and x["target_rows"] == 18 for x in lines)
    assert set(lines[2]["leiden_speedup"]) == {"1", "2"} and len(lines[2]["leiden_speedup_per_round"]["1"]) == 2
