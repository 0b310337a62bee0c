"""The fastrp recommender: registered, scores by dot product or cosine, persists, grows with the store."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import graphrec as gr
from graphrec.embed import fastrp, relation_layout
from graphrec.embed.recommender import FastRPRecommender
from graphrec.graph import INTERACTS, TRUSTS, Graph
from graphrec.models import GraphChangedError


def _graph() -> Graph:
    rng = np.random.default_rng(0)
    g = Graph()
    u = np.repeat(np.arange(40), 6)
    i = (u % 4) * 10 + rng.integers(0, 10, u.size)  # four taste groups
    g.add_edges(INTERACTS, [f"u{x}" for x in u], [f"i{x}" for x in i], by="id")
    g.add_edges(TRUSTS, [f"u{x}" for x in range(39)], [f"u{x + 1}" for x in range(39)], by="id")
    return g


def test_registered_and_params_rebuild() -> None:
    m = gr.models.create("fastrp", dim=32)
    assert isinstance(m, FastRPRecommender)
    again = gr.models.create("fastrp", **m.params())
    assert again.params() == m.params()
    with pytest.raises(ValueError, match="similarity"):
        gr.models.create("fastrp", similarity="l1")


def test_scores_are_products_of_the_fastrp_rows() -> None:
    g = _graph()
    m = gr.models.create("fastrp", dim=32, seed=1, similarity="cosine").fit(g)
    vec = fastrp(g, INTERACTS, dim=32, weights=(1.0, 1.0, 1.0, 1.0), seed=1)
    lay = {t: (a, b) for t, a, b in relation_layout(g, INTERACTS)}
    u = torch.nn.functional.normalize(vec[slice(*lay["user"])], dim=1)
    v = torch.nn.functional.normalize(vec[slice(*lay["item"])], dim=1)
    users = torch.tensor([0, 5, 9])
    torch.testing.assert_close(m.score(users), u[users] @ v.T)
    dot = gr.models.create("fastrp", dim=32, seed=1).fit(g)  # the default: the raw rows' dot product
    raw_u, raw_v = vec[slice(*lay["user"])], vec[slice(*lay["item"])]
    torch.testing.assert_close(dot.score(users), raw_u[users] @ raw_v.T)
    # a user's top items come from its taste group (items of the same block of ten)
    items, _ = m.recommend(["u0", "u1"], k=3)
    groups = {(int(x[1:]) // 10) for x in items[0]}
    assert groups == {0}


def test_trust_option_uses_both_relations() -> None:
    g = _graph()
    a = gr.models.create("fastrp", dim=16, trust=True).fit(g)
    b = gr.models.create("fastrp", dim=16).fit(g)
    assert not torch.equal(a.user_emb, b.user_emb)
    no_trust = g.edge_subgraph([INTERACTS])
    with pytest.raises(ValueError, match="trust"):
        gr.models.create("fastrp", dim=16, trust=True).fit(no_trust)


def test_update_embeds_a_new_user_from_its_interactions() -> None:
    g = _graph()
    m = gr.models.create("fastrp", dim=32).fit(g)
    n_users = g.num_nodes("user")
    g.add_edges(INTERACTS, ["new", "new", "new"], ["i21", "i22", "i25"], by="id")
    with pytest.raises(GraphChangedError, match="update"):
        m.recommend(["u0"], k=3)
    m.update()
    assert m.user_emb.shape[0] == n_users + 1
    fresh = gr.models.create("fastrp", dim=32).fit(g)
    torch.testing.assert_close(m.user_emb, fresh.user_emb)
    items, _ = m.recommend(["new"], k=3)
    assert {int(x[1:]) // 10 for x in items[0]} == {2}  # the group its three items came from


def test_save_load_round_trip(tmp_path) -> None:
    g = _graph()
    m = gr.models.create("fastrp", dim=16, trust=True).fit(g)
    m.save(tmp_path / "m")
    other = gr.models.load(tmp_path / "m")
    assert other.params() == m.params()
    users = torch.arange(10)
    torch.testing.assert_close(other.score(users), m.score(users))
    # trust edges are read: growing them asks for an update
    g.add_edges(TRUSTS, ["u0"], ["u5"], by="id")
    with pytest.raises(GraphChangedError):
        m.recommend(["u0"], k=3)
