"""scripts/bench_graphhash.py: the acceptance ratios of its summary line."""

from __future__ import annotations

from tests.conftest import load_script


def test_summary_ratios() -> None:
    bench = load_script("bench_graphhash")
    fits = [{"data": "d", "backbone": "mf", "table": "full", "budget": None, "recall@20": 0.20}]
    for table, rec in {"random": 0.05, "double": 0.06, "frequency": 0.08, "double_frequency": 0.07, "graph": 0.12,
                       "double_graph": 0.19}.items():
        fits.append({"data": "d", "backbone": "mf", "table": table, "budget": 0.25, "recall@20": rec})
    s = bench.summarise(fits, "d", "mf", [0.25, 0.05])
    line = s["budgets"]["0.25"]
    assert line["graph_over_random"] == 2.4 and line["graph_over_best_baseline"] == 1.5
    assert line["double_graph_over_full"] == 0.95 and s["full_recall@20"] == 0.20
    assert s["budgets"]["0.05"]["graph"] is None and "graph_over_random" not in s["budgets"]["0.05"]
