"""scripts/bench_peers.py: LightGCN vs implicit's ALS and BPR (needs the ``bench`` extra)."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import torch

pytest.importorskip("implicit")

import graphrec as gr
from graphrec.data.synthetic import make_dataset
from graphrec.graph.store import INTERACTS
from tests.conftest import load_script


@pytest.fixture(scope="module")
def bench():
    module = load_script("bench_peers")
    sys.modules["bench_peers"] = module  # the instance bench_defaults.py imports
    yield module
    sys.modules.pop("bench_peers", None)


@pytest.fixture(scope="module")
def quick_lines(bench):
    lines: list[dict] = []
    assert bench.main(["--quick", "--no-progress"], emit=lines.append) == 0
    return lines


def test_quick_run_emits_one_finite_line_per_method(quick_lines):
    rows = {r["method"]: r for r in quick_lines if r.get("dataset") == "synthetic" and "method" in r and r["method"] != "data"}
    assert sorted(rows) == ["implicit_als", "implicit_als_defaults", "implicit_bpr", "lightgcn"]
    for r in rows.values():
        for field in ("dataset", "method", "params", "fit_seconds", "recall@20", "ndcg@20"):
            assert field in r, (r["method"], field)
        for m in ("recall@20", "ndcg@20"):
            assert math.isfinite(r[m]) and 0.0 <= r[m] <= 1.0, (r["method"], m, r[m])
        assert r["fit_seconds"] >= 0
    assert rows["implicit_als"]["params"]["factors"] == 64
    assert {k: rows["implicit_als_defaults"]["params"][k] for k in ("regularization", "alpha")} == {"regularization": 0.01, "alpha": 1.0}
    assert rows["lightgcn"]["epochs_run"] == 10  # --quick budget


def test_quick_run_tunes_on_validation_and_summarises(quick_lines):
    tunes = {r["tune"]: r for r in quick_lines if "tune" in r}
    assert sorted(tunes) == ["implicit_als", "implicit_bpr"]
    als = tunes["implicit_als"]
    best = max(als["grid"], key=lambda g: g["ndcg@20"])
    assert als["chosen"]["regularization"] == best["regularization"]
    assert {g["iterations"] for g in tunes["implicit_bpr"]["grid"]} == {10, 20}  # scored at each listed epoch
    (summary,) = [r for r in quick_lines if "summary" in r]
    rows = {r["method"]: r for r in quick_lines if r.get("method") in ("implicit_als", "implicit_bpr", "lightgcn")}
    for peer in ("implicit_als", "implicit_bpr"):
        expect = all(rows["lightgcn"][m] > rows[peer][m] for m in ("recall@20", "ndcg@20"))
        assert summary[f"vs_{peer}"]["beats_both"] is expect
    assert quick_lines[-1]["total"] == "peers"


def test_interaction_matrix_matches_graph_indices(bench):
    # user 3 and item 4 have no edges; a duplicate edge and a weight must not leak into the matrix
    g = gr.Graph()
    g.add_node_type("user", 4)
    g.add_node_type("item", 5)
    g.add_edges(INTERACTS, [0, 0, 1, 2, 2], [0, 2, 1, 3, 3], weight=[5.0, 1.0, 2.0, 3.0, 3.0])
    x = bench.interaction_matrix(g)
    want = np.zeros((4, 5), np.float32)
    want[[0, 0, 1, 2], [0, 2, 1, 3]] = 1.0
    np.testing.assert_array_equal(x.toarray(), want)


def test_implicit_scores_are_factor_dot_products(bench):
    data = make_dataset(80, 50, avg_degree=8, seed=1)
    model = bench.ImplicitALS(factors=8, regularization=1.0, iterations=3, seed=0).fit(data.train)
    users = torch.tensor([0, 5, 79])
    want = model.model.user_factors[users.numpy()] @ model.model.item_factors.T
    np.testing.assert_allclose(model.score(users).numpy(), want, rtol=1e-5, atol=1e-6)
    again = bench.ImplicitALS(factors=8, regularization=1.0, iterations=3, seed=0).fit(data.train)
    assert torch.equal(again.embeddings()[0], model.embeddings()[0])  # seeded


def test_defaults_study_scores_the_outer_carve_not_test(capsys):
    """scripts/bench_defaults.py: one ALS line and one line per candidate, scored on a carve of train."""
    import json

    study = load_script("bench_defaults")
    data = make_dataset(600, 400, avg_degree=20, seed=0)
    outer = study.outer_split(data, 7)
    held, train = outer.test.edges(INTERACTS).coo(), data.train.edges(INTERACTS).coo()
    train_pairs = set(zip(*(t.tolist() for t in train)))
    assert all(p in train_pairs for p in zip(*(t.tolist() for t in held)))  # never the real test split
    assert outer.train.num_edges(INTERACTS) + outer.test.num_edges(INTERACTS) == data.train.num_edges(INTERACTS)
    dense = study.outer_split(data, 7, 0.1)  # --outer-fraction: a smaller carve leaves the fit denser
    assert dense.test.num_edges(INTERACTS) < 0.6 * outer.test.num_edges(INTERACTS)
    assert study.main(["--quick", "--outer", "7", "--candidates", '[{}, {"negatives": 1}]']) == 0
    lines = [json.loads(s) for s in capsys.readouterr().out.splitlines()]
    fits = [x for x in lines if "model" in x]
    assert [x["model"] for x in fits] == ["als_tuned", "lightgcn", "lightgcn"]
    assert all(0 < x["ndcg@20"] <= 1 and math.isfinite(x["gain_vs_als"]["recall@20"]) for x in fits[1:])


def test_aggregate_counts_seeds_ahead_and_averages(bench):
    def run(seed, ours, als):
        return [{"seed": seed, "method": "implicit_als", "recall@20": als[0], "ndcg@20": als[1]},
                {"seed": seed, "method": "lightgcn", "recall@20": ours[0], "ndcg@20": ours[1]}]

    agg = bench.aggregate("x", [run(0, (0.30, 0.20), (0.20, 0.25)), run(1, (0.30, 0.30), (0.25, 0.25))])
    assert agg["seeds"] == [0, 1]
    assert agg["lightgcn"]["recall@20"] == {"mean": 0.3, "std": 0.0}
    assert math.isclose(agg["implicit_als"]["recall@20"]["std"], float(np.std([0.20, 0.25], ddof=1)), abs_tol=1e-5)
    v = agg["lightgcn_vs_implicit_als"]
    assert v["ahead_on_both"] == "1/2"  # seed 0 loses on NDCG
    assert math.isclose(v["recall@20_gain"], (0.5 + 0.2) / 2, abs_tol=1e-4)
    assert math.isclose(v["ndcg@20_gain"], (-0.2 + 0.2) / 2, abs_tol=1e-4)


def test_seeded_split_datasets_draw_their_split_from_the_seed(bench, monkeypatch):
    calls = []
    monkeypatch.setattr(bench.gr.datasets, "load", lambda name, **kw: calls.append((name, kw)) or make_dataset(20, 10, avg_degree=5, seed=0))
    for name in ("ml-100k", "lastfm"):
        bench.load_data(name, bench.settings(["--seeds", "3"]))
    assert calls == [("ml-100k", {"seed": 3}), ("lastfm", {})]
    with pytest.raises(ValueError, match="--seeds"):
        bench.settings(["--seeds", ""])


def test_breakdown_splits_users_by_activity_and_describes_the_lists(bench):
    data = make_dataset(120, 80, avg_degree=8, seed=1)
    model = gr.models.create("mostpop").fit(data)
    rep = gr.evaluate(model, data, k=[20])
    out = bench.breakdown(model, data, rep)
    quarters = out["activity_quartiles"]
    assert sum(q["users"] for q in quarters.values()) == len(rep.users)
    # the users' mean over quartiles, weighted by size, is the overall mean
    total = sum(q["ndcg@20"] * q["users"] for q in quarters.values()) / len(rep.users)
    assert math.isclose(total, rep["ndcg@20"], abs_tol=1e-4)
    lows = [q["train_interactions"][0] for q in quarters.values()]
    assert lows == sorted(lows)
    assert out["top20_distinct_items"] >= 20  # most-popular lists differ only by the seen items removed
    pop = data.train.degree(INTERACTS, side="dst").to(torch.float64)
    assert out["top20_mean_item_train_degree"] > float(pop.mean())  # MostPop recommends popular items


def test_lightgcn_params_reach_the_model_and_must_be_an_object(bench):
    args = bench.settings(["--lightgcn-params", '{"negative_selection": "hardest", "dim": 8, "epochs": 2, "patience": null}'])
    model, extra = bench.run_lightgcn(make_dataset(60, 40, avg_degree=6, seed=0), args, "synthetic")
    assert model.params()["negative_selection"] == "hardest" and model.params()["dim"] == 8 and extra["epochs_run"] == 2
    with pytest.raises(TypeError, match="JSON object"):
        bench.settings(["--lightgcn-params", "[1]"])
