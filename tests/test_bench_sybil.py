"""scripts/bench_sybil.py: the speed routine runs against the current model API and reports every figure."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

import graphrec as gr
from tests.conftest import load_script


def test_speed_lines(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_script("bench_sybil")
    data = gr.datasets.load("synthetic", seed=0)
    fitted = {name: gr.models.create(name, walks=50, **({"rep_walks": 500} if name == "meritrank-salsa" else {})).fit(data)
              for name in ("salsa", "meritrank-salsa")}
    users = np.unique(data.test.edges().row().cpu().numpy())[:40]
    bench.speed(argparse.Namespace(latency_queries=8, append=30, mrp_walks=10), data, users, fitted)
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    lat = {x["method"]: x for x in lines if x["metric"] == "latency"}
    upd = {x["method"]: x for x in lines if x["metric"] == "update"}
    assert set(lat) == set(upd) == {"salsa", "meritrank-salsa"}
    for x in lat.values():
        assert x["queries"] == 8 and 0 < x["p50_ms"] <= x["p99_ms"] and x["cpu_p50_ms"] > 0
    for x in upd.values():
        assert x["appended"] == 30 and x["edges_per_second"] > 0 and 0 < x["update_ms"] <= x["append_and_query_ms"]
    assert not any(x["metric"] == "speed_summary" for x in lines)  # no peer, no ratio
