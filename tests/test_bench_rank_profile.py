"""scripts/bench_rank_profile.py: its rank profile agrees with graphrec.evaluate and its rows are complete."""

from __future__ import annotations

import json

import pytest

import graphrec as gr
from tests.conftest import load_script


def test_rank_profile_matches_the_evaluation_protocol() -> None:
    script = load_script("bench_rank_profile")
    data = gr.datasets.load("synthetic", seed=3)
    outer = load_script("bench_defaults").outer_split(data, 7, 0.2)
    model = gr.models.create("mf", dim=8, epochs=3, patience=None, lr=0.05).fit(outer)
    profile = script.rank_profile(model, outer)
    report = gr.evaluate(model, outer, k=[20])
    assert profile["ndcg@20"] == pytest.approx(report["ndcg@20"], rel=1e-6)
    assert profile["recall@20"] == pytest.approx(report["recall@20"], rel=1e-6)
    # the hit shares of the 20 slots average to precision@20 over the evaluated users
    assert (5 * profile["hits_1_5"] + 15 * profile["hits_6_20"]) / 20 == pytest.approx(report["precision@20"], rel=1e-6)
    boosted = script.rank_profile(model, outer, bonus=5.0)  # a strong popularity prior lists more popular items
    assert boosted["top20_pop"] > profile["top20_pop"]


def test_quick_run_prints_a_row_per_bonus(capsys) -> None:
    assert load_script("bench_rank_profile").main(["--quick", "--bonus", "0,0.2"]) == 0
    rows = [json.loads(s) for s in capsys.readouterr().out.splitlines()]
    assert [(r["model"], r["bonus"]) for r in rows] == [("lightgcn", 0.0), ("lightgcn", 0.2)]
    assert all(0 <= r["hits_1_5"] <= 1 and 0 < r["ndcg@20"] <= 1 for r in rows)
