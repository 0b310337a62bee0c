"""MostPop and ItemKNN: argument checks name the parameter, NumPy scalars are numbers, params() round-trips."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from graphrec.graph.store import INTERACTS, Graph
from graphrec.models import create
from graphrec.models.baselines import ItemKNN, MostPop


def small_graph(seed: int = 0) -> Graph:
    rng = np.random.default_rng(seed)
    r = rng.random((12, 9)) < 0.35
    r[np.arange(12), rng.integers(0, 9, 12)] = True
    g = Graph()
    g.add_node_type("user", 12)
    g.add_node_type("item", 9)
    u, i = np.nonzero(r)
    g.add_edges(INTERACTS, u, i)
    return g


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"shrink": math.nan}, r"shrink must be a finite number >= 0, got nan"),
        ({"shrink": math.inf}, r"shrink must be a finite number >= 0, got inf"),
        ({"shrink": -1.0}, r"shrink must be a finite number >= 0, got -1.0"),
        ({"neighbors": 1.5}, r"neighbors must be an integer >= 1, got 1.5"),
        ({"neighbors": True}, r"neighbors must be an integer >= 1, got True"),
        ({"neighbors": "abc"}, r"neighbors must be an integer >= 1, got 'abc'"),
        ({"neighbors": 0}, r"neighbors must be an integer >= 1, got 0"),
        ({"block": 0}, r"block must be an integer >= 1, got 0"),
        ({"block": -5}, r"block must be an integer >= 1, got -5"),
        ({"block": "abc"}, r"block must be an integer >= 1, got 'abc'"),
    ],
)
def test_itemknn_bad_parameters_name_themselves(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        ItemKNN(**kwargs)
    with pytest.raises(ValueError, match=message):
        create("itemknn", **kwargs)


def test_itemknn_progress_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="progress must be True or False, got 'maybe'"):
        ItemKNN().fit(small_graph(), progress="maybe")
    ItemKNN().fit(small_graph(), progress=np.bool_(False))


def test_itemknn_accepts_numpy_scalars() -> None:
    g = small_graph()
    m = ItemKNN(neighbors=np.int64(3), shrink=np.float32(2.0), block=np.int32(4))
    assert m.params() == {"neighbors": 3, "shrink": 2.0, "block": 4} and type(m.neighbors) is int and type(m.block) is int
    ref = ItemKNN(neighbors=3, shrink=2.0, block=4).fit(g)
    users = torch.arange(12)
    torch.testing.assert_close(m.fit(g).score(users), ref.score(users))
    assert torch.isfinite(ref.score(users)).all()


@pytest.mark.parametrize("name, kwargs", [("itemknn", {}), ("itemknn", {"neighbors": 5, "shrink": 1.5}), ("mostpop", {})])
def test_params_round_trip_through_create(name, kwargs) -> None:
    m = create(name, **kwargs)
    assert create(name, **m.params()).params() == m.params()
    m.fit(small_graph())
    assert create(name, **m.params()).params() == m.params()


def test_mostpop_scores_are_training_degrees() -> None:
    g = small_graph(1)
    s = MostPop().fit(g).score(torch.tensor([0, 5]))
    deg = g.degree(INTERACTS, side="dst").to(torch.float32)
    torch.testing.assert_close(s, deg.expand(2, -1))


def test_mostpop_on_a_custom_edge_type_evaluates_like_interactions() -> None:
    import graphrec as gr
    from graphrec.data.dataset import Dataset, held_out_graph

    likes = ("person", "likes", "movie")
    g = small_graph(3)
    c = Graph()
    c.add_node_type("person", 12)
    c.add_node_type("movie", 9)
    u, i = g.edges(INTERACTS).coo()
    c.add_edges(likes, u, i)
    held = [0, 5, 11], [8, 2, 4]
    ref = gr.evaluate(MostPop().fit(g), Dataset("g", g, held_out_graph(g, *held)), k=[3, 20])
    ours = gr.evaluate(MostPop(etype=likes).fit(c), Dataset("c", c, held_out_graph(c, *held, etype=likes)), k=[3, 20])
    assert ours.metrics == ref.metrics and ours.users.tolist() == [0, 5, 11]


def test_itemknn_equals_dense_cosine() -> None:
    g = small_graph(2)
    u, i = g.edges(INTERACTS).coo()
    r = np.zeros((12, 9))
    r[u.numpy(), i.numpy()] = 1.0
    norms = np.sqrt(r.sum(0))
    for shrink in (0.0, 2.0):
        sim = r.T @ r / (norms[:, None] * norms[None, :] + shrink + 1e-12)
        np.fill_diagonal(sim, 0.0)
        m = ItemKNN(neighbors=8, shrink=shrink, block=4).fit(g)  # 8 = every other item: no truncation
        np.testing.assert_allclose(m.similarity.to_dense().numpy(), sim, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(m.score(torch.arange(12)).numpy(), r @ sim, rtol=1e-5, atol=1e-6)
        kept = ItemKNN(neighbors=2, shrink=shrink).fit(g).similarity.to_dense().numpy()
        for row, full in zip(kept, sim):  # each item keeps its two largest similarities (ties either way)
            top = np.sort(full)[::-1][:2]
            np.testing.assert_allclose(np.sort(row[row > 0])[::-1], top[top > 0], rtol=1e-5)
            np.testing.assert_allclose(row[row > 0], full[row > 0], rtol=1e-5)


def test_a_relation_name_resolves_to_its_edge_type_at_fit() -> None:
    from graphrec.data.synthetic import make_dataset

    data = make_dataset(num_users=40, num_items=30, seed=0)
    users = data.train.id_map("user").ids[:3]
    by_name = MostPop(etype="interacts").fit(data)
    assert by_name.etype == INTERACTS
    assert (by_name.recommend(users, k=5)[0] == MostPop().fit(data).recommend(users, k=5)[0]).all()


def test_a_failed_refit_leaves_the_model_unfitted() -> None:
    from graphrec.data.synthetic import make_dataset

    data = make_dataset(num_users=40, num_items=30, seed=0)
    model = ItemKNN().fit(data)
    with pytest.raises(TypeError, match="progress must be True or False"):
        model.fit(make_dataset(num_users=50, num_items=30, seed=1), progress="x")
    with pytest.raises(RuntimeError, match="ItemKNN is not fitted"):  # never the new graph with the old similarity
        model.recommend(data.train.id_map("user").ids[:2])
