"""scripts/bench_negatives.py: how often the hardest candidate is a held-out positive."""

from __future__ import annotations

import json

from tests.conftest import load_script


def test_hardest_candidate_is_a_held_out_positive_more_often_than_a_uniform_one(capsys) -> None:
    assert load_script("bench_negatives").main(["--quick", "--outer", "3"]) == 0
    (row,) = [json.loads(s) for s in capsys.readouterr().out.splitlines()]
    assert row["candidates"] == 4 and row["pairs"] > 1000
    assert 0 < row["uniform_rate"] < row["hardest_rate"] < 1  # a trained model ranks liked items high
