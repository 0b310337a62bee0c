"""``graphrec demo``, the README's main job: every registered model fits and scores on the synthetic default."""

from __future__ import annotations

import math

import pytest

from graphrec import INTERACTS
from graphrec.cli import main
from graphrec.data import load
from graphrec.demo import run_demo
from graphrec.models.registry import REGISTRY, _load_builtin_models


def test_demo_command_prints_one_row_per_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--models", "mostpop,itemknn,ppr"]) == 0
    out = capsys.readouterr().out
    assert "synthetic graph built" in out and "recall@20" in out
    rows = [line.split() for line in out.splitlines() if line.split()[:1] in (["mostpop"], ["itemknn"], ["ppr"])]
    assert [r[0] for r in rows] == ["mostpop", "itemknn", "ppr"]
    assert all(0 < float(r[1]) <= 1 for r in rows)  # recall@20
    # bytes of the interaction edge set alone (the trust edges are another edge set), and a legend for the columns
    es = load("synthetic", seed=0).train.edges(INTERACTS)
    assert f"store: {es.nbytes(include_cache=False) / es.num_edges:.1f} bytes per interaction" in out
    assert "mean over the 2000 test users, each ranking all 1000 items" in out and "cover: share of the items" in out
    assert main(["demo", "--models", "nosuchmodel"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "unknown model(s) nosuchmodel" in err  # one line, nothing before


def test_whole_demo_runs_every_model_and_the_learned_ones_beat_popularity() -> None:
    _load_builtin_models()
    rows = {r["model"]: r for r in run_demo(quiet=True)}
    assert set(rows) == set(REGISTRY)
    for r in rows.values():
        assert all(math.isfinite(r[k]) and 0 <= r[k] <= 1 for k in ("recall@20", "ndcg@20", "coverage@20")), r
    for name in ("itemknn", "gfcf", "mf", "lightgcn", "ppr", "powerwalk", "rlmrec-con", "rlmrec-gen"):
        assert rows[name]["ndcg@20"] > 1.5 * rows["mostpop"]["ndcg@20"], name
    assert rows["lightgcn"]["ndcg@20"] > rows["mf"]["ndcg@20"]  # propagation helps on the community graph
