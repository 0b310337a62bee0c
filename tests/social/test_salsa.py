"""Personalized SALSA against its exact solutions on tiny graphs."""

from __future__ import annotations

import pytest
import torch

import graphrec as gr
from graphrec.graph import INTERACTS, TRUSTS
from graphrec.social import SALSARecommender, recent_view
from tests.social.graphs import tiny_bipartite


def exact_visits(model: SALSARecommender, user: int) -> torch.Tensor:
    """Expected item visits per walk: sum_{t=1..L} e_s ((1 - r) P)^t, dangling rows killed."""
    eng = model.engine
    P = eng.transition_matrix().to_dense().double()
    x = torch.zeros(eng.num_nodes, dtype=torch.float64)
    x[int(eng.global_ids("user", [user]))] = 1.0
    total = torch.zeros_like(x)
    for _ in range(model.length):
        x = (1 - model.reset) * (x @ P)
        total += x
    return total[eng.type_slice("item")]


@pytest.mark.parametrize("trust", [False, True])
def test_visits_match_exact_expectation(trust):
    g = tiny_bipartite(trust=trust)
    m = SALSARecommender(walks=20000, reset=0.3, length=12, trust=trust, seed=1).fit(g)
    got = m.visits(torch.tensor([0]))[0].double()
    want = exact_visits(m, 0)
    # visits per walk average 20,000 walks: standard error below 0.01 here
    assert torch.allclose(got, want, atol=0.03), (got, want)
    assert got.sum() == pytest.approx(float(want.sum()), rel=0.03)


def test_long_walks_reach_salsa_stationary_authority():
    """Without resets, time-averaged item visits converge to SALSA's authority deg(i) / |E|."""
    g = tiny_bipartite()
    m = SALSARecommender(walks=100, reset=1e-6, length=2000, trust=False, seed=0).fit(g)
    v = m.visits(torch.tensor([2]))[0]
    share = v / v.sum()
    deg = g.degree(INTERACTS, side="dst").double()
    assert torch.allclose(share.double(), deg / deg.sum(), atol=0.015), (share, deg / deg.sum())


def test_trust_edges_bring_friends_items():
    g = gr.Graph()
    g.add_node_type("user", 3)
    g.add_node_type("item", 3)
    g.add_edges(INTERACTS, [0, 1, 2], [0, 1, 2])
    g.add_edges(TRUSTS, [0, 1], [1, 0])
    with_trust = SALSARecommender(walks=500, seed=0).fit(g).visits(torch.tensor([0]))[0]
    without = SALSARecommender(walks=500, seed=0, trust=False).fit(g).visits(torch.tensor([0]))[0]
    assert with_trust[1] > 0 and without[1] == 0  # item 1 is the friend's
    assert with_trust[2] == 0 and without[2] == 0  # user 2 is not connected


def test_window_and_cap_bound_memory():
    g = tiny_bipartite()
    v = recent_view(g, INTERACTS, window=4)  # timestamps 6..10 stay
    assert v.num_edges(INTERACTS) == 5 and g.num_edges(INTERACTS) == 10
    c = recent_view(g, INTERACTS, max_per_user=1)  # each user's latest interaction
    es = c.edges(INTERACTS)
    assert es.degree("src").tolist() == [1, 1, 1, 1]
    assert sorted(es.timestamp.tolist()) == [2, 5, 7, 10]
    m = SALSARecommender(walks=200, window=4, trust=False).fit(g)
    assert m.view.num_edges(INTERACTS) == 5
    with pytest.raises(ValueError, match="window"):
        SALSARecommender(window=10).fit(_no_ts())


def _no_ts() -> gr.Graph:
    g = gr.Graph()
    g.add_node_type("user", 2)
    g.add_node_type("item", 2)
    g.add_edges(INTERACTS, [0, 1], [0, 1])
    return g


def test_seeded_and_cold_start():
    g = tiny_bipartite()
    g.add_nodes("user", [99])  # no edges at all: most popular
    a = SALSARecommender(walks=300, seed=4).fit(g)
    b = SALSARecommender(walks=300, seed=4).fit(g)
    u = torch.tensor([0, 1, 4])
    assert torch.equal(a.score(u), b.score(u))
    cold = a.score(torch.tensor([4]))[0]
    deg = g.degree(INTERACTS, side="dst").float()
    assert int(cold.argmax()) == int(deg.argmax()) and float(cold.max()) < 1.0 / 300


def test_update_sees_new_edges_and_state_round_trip():
    g = tiny_bipartite()
    m = SALSARecommender(walks=400, trust=False, seed=0).fit(g)
    g.add_nodes("item", [5])
    g.add_edges(INTERACTS, [1], [5], timestamp=[11])
    m._update(g)
    assert float(m.visits(torch.tensor([0]))[0, 5]) > 0
    t, extra = m._get_state()
    m2 = SALSARecommender(**m.params())
    m2._set_state(g, t, extra)
    u = torch.tensor([0, 2])
    assert torch.equal(m.score(u), m2.score(u))
    assert gr.models.create("salsa", **m.params()).params() == m.params()
