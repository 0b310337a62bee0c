"""Full-ranking protocol on a 3-user graph whose metrics are computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import graphrec as gr
from graphrec.data.dataset import Dataset
from graphrec.models.base import Recommender

SCORES = torch.tensor(
    [
        [5.0, 4.0, 3.0, 2.0, 1.0],  # u0: train {i0}    test {i1, i3}
        [1.0, 5.0, 4.0, 3.0, 2.0],  # u1: train {i1,i2} test {i0}
        [1.0, 2.0, 3.0, 4.0, 5.0],  # u2: train {}      test {i4}
    ]
)


class FixedScores(Recommender):
    name = "fixed"

    def _fit(self, train, valid=None, **_):
        pass

    def score(self, users):
        return SCORES.to(self.device)[users].clone()


@pytest.fixture()
def tiny() -> Dataset:
    users = ["u0", "u1", "u2"]
    items = ["i0", "i1", "i2", "i3", "i4"]
    return Dataset.from_pairs(
        "tiny",
        train=(["u0", "u1", "u1"], ["i0", "i1", "i2"]),
        test=(["u0", "u0", "u1", "u2"], ["i1", "i3", "i0", "i4"]),
        user_ids=users,
        item_ids=items,
    )


def test_hand_computed_metrics(tiny: Dataset) -> None:
    rep = gr.evaluate(FixedScores().fit(tiny), tiny, k=[2, 3], batch_size=2)
    l2, l3, l4 = math.log2(2), math.log2(3), math.log2(4)
    idcg2 = 1 / l2 + 1 / l3
    expect = {
        "recall@2": (0.5 + 0 + 1) / 3,
        "precision@2": (0.5 + 0 + 0.5) / 3,
        "ndcg@2": ((1 / l2) / idcg2 + 0 + 1) / 3,
        "hit@2": 2 / 3,
        "mrr@2": 2 / 3,
        "coverage@2": 4 / 5,
        "recall@3": 1.0,
        "precision@3": (2 / 3 + 1 / 3 + 1 / 3) / 3,
        "ndcg@3": ((1 / l2 + 1 / l4) / idcg2 + (1 / l4) / 1 + 1) / 3,
        "hit@3": 1.0,
        "mrr@3": (1 + 1 / 3 + 1) / 3,
    }
    for key, val in expect.items():
        assert rep[key] == pytest.approx(val, abs=1e-12), key
    assert rep.users.tolist() == [0, 1, 2]
    np.testing.assert_allclose(rep.per_user["recall@2"], [0.5, 0.0, 1.0])


def test_train_items_are_masked(tiny: Dataset) -> None:
    model = FixedScores().fit(tiny)
    items, _scores = model.recommend(["u0", "u1"], k=2)
    assert items.tolist() == [["i1", "i2"], ["i3", "i4"]]
    items, _ = model.recommend(["u1"], k=2, exclude_seen=False)
    assert items.tolist() == [["i1", "i2"]]
    items, _ = model.recommend(["u2"], k=2, filter_items=["i4"])
    assert items.tolist() == [["i3", "i2"]]


def test_valid_split_is_masked_on_test(tiny: Dataset) -> None:
    from graphrec.data.dataset import held_out_graph

    tiny.valid = held_out_graph(tiny.train, ["u2"], ["i3"], by="id")
    model = FixedScores().fit(tiny.train)
    rep = gr.evaluate(model, tiny, k=[1])
    # u2's top item stays i4 (a hit); with i3 masked nothing changes for u2 at k=1
    assert rep.per_user["hit@1"].tolist() == [1.0, 0.0, 1.0]
    rep_v = gr.evaluate(model, tiny, k=[1], split="valid")
    assert rep_v.users.tolist() == [2] and rep_v["hit@1"] == 0.0


def test_unknown_user_and_bad_k(tiny: Dataset) -> None:
    model = FixedScores().fit(tiny)
    with pytest.raises(KeyError, match="u9"):
        model.recommend(["u9"], k=2)
    with pytest.raises(ValueError, match="k must be positive"):
        gr.evaluate(model, tiny, k=[0])


def test_mostpop_and_itemknn_on_tiny(tiny: Dataset) -> None:
    pop = gr.models.create("mostpop").fit(tiny)
    s = pop.score(torch.tensor([0]))
    assert s.tolist() == [[1.0, 1.0, 1.0, 0.0, 0.0]]
    knn = gr.models.create("itemknn", neighbors=2).fit(tiny)
    # i1 and i2 co-occur (user u1): cosine 1; i0 co-occurs with nothing
    sim = knn.similarity.to_dense()
    assert sim[1, 2] == pytest.approx(1.0) and sim[2, 1] == pytest.approx(1.0)
    assert float(sim[0].abs().sum()) == 0.0
    with pytest.raises(ValueError, match="unknown parameter"):
        gr.models.create("itemknn", neighbours=3)
    with pytest.raises(ValueError, match="unknown model"):
        gr.models.create("nope")


def test_nan_scores_are_reported(tiny: Dataset) -> None:
    class NanScores(FixedScores):
        def score(self, users):
            s = super().score(users)
            s[0, 4] = torch.nan
            return s

    with pytest.raises(ValueError, match="NaN scores"):
        gr.evaluate(NanScores().fit(tiny), tiny, k=[2])
