"""scripts/bench_negatives.py: how often the hardest candidate is a held-out positive."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def test_hardest_candidate_is_a_held_out_positive_more_often_than_a_uniform_one(capsys) -> None:
    sys.path.insert(0, str(SCRIPTS))
    try:
        spec = importlib.util.spec_from_file_location("bench_negatives", SCRIPTS / "bench_negatives.py")
        script = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(script)
        assert script.main(["--quick", "--outer", "3"]) == 0
    finally:
        sys.path.remove(str(SCRIPTS))
    (row,) = [json.loads(s) for s in capsys.readouterr().out.splitlines()]
    assert row["candidates"] == 4 and row["pairs"] > 1000
    assert 0 < row["uniform_rate"] < row["hardest_rate"] < 1  # a trained model ranks liked items high
