"""Full-ranking protocol on a 3-user graph whose metrics are computed by hand."""

from __future__ import annotations

import json
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


def test_report_is_a_mapping_of_its_metrics(tiny: Dataset) -> None:
    rep = gr.evaluate(FixedScores().fit(tiny), tiny, k=[2, 3])
    as_dict = dict(rep)
    assert as_dict == rep.metrics and as_dict is not rep.metrics and len(rep) == 12
    assert list(rep) == list(rep.metrics) and list(rep.keys())[:2] == ["recall@2", "ndcg@2"]
    assert "hit@3" in rep and "hit@4" not in rep and rep.get("hit@4") is None
    assert dict(rep.items()) == as_dict and json.loads(json.dumps(dict(rep))) == pytest.approx(as_dict)
    again = gr.evaluate(FixedScores().fit(tiny), tiny, k=[2, 3], batch_size=1)
    assert rep == again and rep != gr.evaluate(FixedScores().fit(tiny), tiny, k=[2])  # equal when the metrics are


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


# ---------------------------------------------------------------- masked slots, K > catalogue
class RowScores(Recommender):
    """Fixed per-user scores given as a nested list."""

    name = "rows"

    def __init__(self, rows):
        super().__init__()
        self.rows = torch.tensor(rows, dtype=torch.float32)

    def _fit(self, train, valid=None, **_):
        pass

    def score(self, users):
        return self.rows.to(self.device)[users].clone()


def test_masked_item_is_never_a_hit_even_when_k_reaches_the_catalogue() -> None:
    # item 1 is in user 0's train AND test: masked, so it can never count, at any k
    ds = Dataset.from_pairs("t", train=([0, 0, 1], [1, 2, 0]), test=([0], [1]), user_ids=[0, 1], item_ids=[0, 1, 2])
    rep = gr.evaluate(RowScores([[5, 0, 0], [0, 0, 0]]).fit(ds), ds, k=[1, 3, 5])
    for kk in (1, 3, 5):
        for m in ("recall", "ndcg", "precision", "hit", "mrr"):
            assert rep[f"{m}@{kk}"] == 0.0, f"{m}@{kk}"
        # only item 0 is ever recommended: items 1 and 2 are masked (-inf) slots
        assert rep[f"coverage@{kk}"] == pytest.approx(1 / 3), kk


def test_k_above_the_catalogue_keeps_the_definitions() -> None:
    # 4 items; user 0 has seen items 0 and 1, holds out item 2; ranks: 2 (hit), 3, then two masked slots
    ds = Dataset.from_pairs("t", train=([0, 0], [0, 1]), test=([0], [2]), user_ids=[0], item_ids=[0, 1, 2, 3])
    rep = gr.evaluate(RowScores([[0, 0, 9, 1]]).fit(ds), ds, k=[4, 10])
    for kk in (4, 10):
        assert rep[f"precision@{kk}"] == pytest.approx(1 / kk)  # hits / K, not hits / n_items
        assert rep[f"recall@{kk}"] == rep[f"ndcg@{kk}"] == rep[f"hit@{kk}"] == rep[f"mrr@{kk}"] == 1.0
        assert rep[f"coverage@{kk}"] == pytest.approx(2 / 4)  # items 2 and 3; masked 0, 1 not covered


def test_tiny_at_k_ten_by_hand(tiny: Dataset) -> None:
    rep = gr.evaluate(FixedScores().fit(tiny), tiny, k=[10])
    # ranks after masking -- u0: i1 i2 i3 i4 (i0 masked), hits at 0, 2 of 2 held out;
    # u1: i3 i4 i0 (i1, i2 masked), hit at 2; u2: i4 first, a hit
    l3, l4 = math.log2(3), math.log2(4)
    assert rep["recall@10"] == 1.0 and rep["hit@10"] == 1.0
    assert rep["precision@10"] == pytest.approx((2 / 10 + 1 / 10 + 1 / 10) / 3)
    assert rep["ndcg@10"] == pytest.approx(((1 + 1 / l4) / (1 + 1 / l3) + 1 / l4 + 1) / 3)
    assert rep["mrr@10"] == pytest.approx((1 + 1 / 3 + 1) / 3)
    assert rep["coverage@10"] == 1.0


def test_metrics_treat_ranks_past_the_matrix_as_misses() -> None:
    from graphrec.eval.metrics import METRICS, mrr, ndcg, precision, recall

    hits = torch.tensor([[True, False], [False, True]])
    n_test = torch.tensor([1, 3])
    assert precision(hits, n_test, 5).tolist() == [0.2, 0.2]
    assert recall(hits, n_test, 5).tolist() == pytest.approx([1.0, 1 / 3])
    # user 1: one hit at rank 1; ideal: 3 hits at ranks 0..2 (K=5 allows them)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg(hits, n_test, 5).tolist() == pytest.approx([1.0, (1 / math.log2(3)) / idcg])
    assert mrr(hits[:, :0], n_test, 3).tolist() == [0.0, 0.0]
    for fn in METRICS.values():
        with pytest.raises(ValueError, match="k must be an integer >= 1"):
            fn(hits, n_test, 0)


# ---------------------------------------------------------------- argument errors
def test_k_accepts_int_like_scalars_and_lists(tiny: Dataset) -> None:
    model = FixedScores().fit(tiny)
    ref = gr.evaluate(model, tiny, k=[2, 3]).metrics
    assert gr.evaluate(model, tiny, k=[np.int32(3), np.int64(2)]).metrics == ref
    assert gr.evaluate(model, tiny, k=np.int64(2)).metrics == {key: v for key, v in ref.items() if key.endswith("@2")}
    for bad in (2.5, [2, 2.0], [], True, "3", None, [0]):
        with pytest.raises(ValueError, match="k must be positive integers"):
            gr.evaluate(model, tiny, k=bad)


def test_bad_split_users_and_batch_size_raise(tiny: Dataset) -> None:
    model = FixedScores().fit(tiny)
    with pytest.raises(ValueError, match="split must be one of 'test', 'valid', got 'train'"):
        gr.evaluate(model, tiny, k=2, split="train")
    with pytest.raises(ValueError, match="dataset has no 'valid' split"):
        gr.evaluate(model, tiny, k=2, split="valid")
    with pytest.raises(ValueError, match=r"user index 1000000 is out of range \[0, 3\)"):
        gr.evaluate(model, tiny, k=2, users=[0, 10**6])
    with pytest.raises(ValueError, match=r"user index -1 is out of range \[0, 3\)"):
        gr.evaluate(model, tiny, k=2, users=[-1])
    with pytest.raises(ValueError, match="integer user indices"):
        gr.evaluate(model, tiny, k=2, users=[1.0])
    with pytest.raises(ValueError, match="users is empty"):
        gr.evaluate(model, tiny, k=2, users=[])
    with pytest.raises(ValueError, match="batch_size"):
        gr.evaluate(model, tiny, k=2, batch_size=0)
    from graphrec.data.dataset import held_out_graph

    tiny.valid = held_out_graph(tiny.train, ["u2"], ["i3"], by="id")
    with pytest.raises(ValueError, match=r"users \[0, 1\] have no valid interactions"):
        gr.evaluate(model, tiny, k=2, split="valid", users=[0, 1, 2])
    assert gr.evaluate(model, tiny, k=2, users=np.array([2, 0, 2])).users.tolist() == [0, 2]


def test_recommend_k_must_be_an_integer_at_least_zero(tiny: Dataset) -> None:
    model = FixedScores().fit(tiny)
    for bad in (-1, 2.0, "2", None, True):
        with pytest.raises(ValueError, match="k must be an integer >= 0"):
            model.recommend(["u0"], k=bad)
        with pytest.raises(ValueError, match="k must be an integer >= 0"):
            model.recommend_indices(torch.tensor([0]), k=bad)
    items, scores = model.recommend(["u0"], k=0)
    assert items.shape == scores.shape == (1, 0)
    assert model.recommend(["u0"], k=np.int64(2))[0].tolist() == [["i1", "i2"]]


# ---------------------------------------------------------------- splits vs train's node sets
def test_split_that_no_longer_spans_train_names_the_split(tiny: Dataset) -> None:
    tiny.train.add_edges(gr.INTERACTS, ["u0"], ["i9"], by="id")  # a new item in train only
    model = gr.models.create("mostpop").fit(tiny)
    msg = r"the test split has 5 'item' nodes but train has 6.*rebuild the Dataset after adding nodes"
    with pytest.raises(ValueError, match="evaluate: " + msg):
        gr.evaluate(model, tiny, k=2)
    with pytest.raises(ValueError, match=msg):
        tiny.check_splits()
    with pytest.raises(ValueError, match=msg):
        Dataset("again", tiny.train, tiny.test)
    # the remedy: rebuild the split on the grown train graph
    from graphrec.data.dataset import held_out_graph

    users, items = tiny.test.edges(gr.INTERACTS).coo()
    fixed = Dataset("again", tiny.train, held_out_graph(tiny.train, users, items))
    assert gr.evaluate(model, fixed, k=2).users.tolist() == [0, 1, 2]


# ---------------------------------------------------------------- ties, duplicate test pairs
def test_equal_scores_rank_by_item_index_whatever_the_other_cutoffs() -> None:
    # 200 items all scoring 0; item 0 seen, items 1..5 held out: the top 5 are items 1..5
    n = 200
    ds = Dataset.from_pairs("t", train=([0], [0]), test=([0] * 5, [1, 2, 3, 4, 5]), user_ids=[0], item_ids=list(range(n)))
    model = RowScores([[0.0] * n]).fit(ds)
    for ks in ([5], [5, 150], [5, 199], [1, 5, 1000]):
        rep = gr.evaluate(model, ds, k=ks)
        assert rep["recall@5"] == rep["ndcg@5"] == rep["mrr@5"] == 1.0, ks
        assert rep["coverage@5"] == pytest.approx(5 / n), ks


def test_tie_order_is_independent_of_batch_size_and_cutoffs() -> None:
    rng = np.random.default_rng(3)
    n_users, n_items = 9, 60
    scores = rng.integers(0, 3, (n_users, n_items)).astype(np.float32).tolist()
    train_u, train_i, test_u, test_i = [], [], [], []
    for u in range(n_users):
        items = rng.permutation(n_items)
        train_u += [u] * 5
        train_i += items[:5].tolist()
        test_u += [u] * 8
        test_i += items[5:13].tolist()
    ds = Dataset.from_pairs("t", train=(train_u, train_i), test=(test_u, test_i),
                            user_ids=list(range(n_users)), item_ids=list(range(n_items)))
    model = RowScores(scores).fit(ds)
    ref = gr.evaluate(model, ds, k=[10], batch_size=1)
    # independent reference: stable descending sort of the unmasked items
    for row, u in enumerate(ref.users):
        seen = {i for uu, i in zip(train_u, train_i) if uu == u}
        held = {i for uu, i in zip(test_u, test_i) if uu == u}
        ranked = sorted((i for i in range(n_items) if i not in seen), key=lambda i: -scores[u][i])[:10]
        assert ref.per_user["recall@10"][row] == pytest.approx(len(held & set(ranked)) / len(held))
    for bs in (1, 4, 1000):
        for ks in ([10], [10, 20], [3, 10, 60]):
            rep = gr.evaluate(model, ds, k=ks, batch_size=bs)
            for key in ref.per_user:
                np.testing.assert_array_equal(rep.per_user[key], ref.per_user[key], err_msg=f"{key} {bs} {ks}")
            assert rep["coverage@10"] == ref["coverage@10"]


def test_a_repeated_test_pair_counts_once() -> None:
    from graphrec.graph.store import Graph

    ds = Dataset.from_pairs("t", train=([0], [0]), test=([0], [1]), user_ids=[0], item_ids=[0, 1, 2, 3])
    test = Graph()
    for nt in ds.train.node_types:
        test.add_node_type(nt, ds.train.id_map(nt))
    test.add_edges(gr.INTERACTS, [0, 0], [1, 1], duplicates="keep")  # a multi-edge test pair
    dup = Dataset("t", ds.train, test)
    rep = gr.evaluate(RowScores([[0, 9, 1, 1]]).fit(dup), dup, k=[1, 3])
    for kk in (1, 3):
        assert rep[f"recall@{kk}"] == rep[f"ndcg@{kk}"] == 1.0, kk
