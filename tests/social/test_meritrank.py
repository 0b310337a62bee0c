"""MeritRank decays: off equals SALSA, bridges and distrust lower what lies behind them."""

from __future__ import annotations

import pytest
import torch

import graphrec as gr
from graphrec.graph import INTERACTS, TRUSTS, Graph
from graphrec.social import (
    DISTRUSTS,
    MeritRankSALSA,
    SALSARecommender,
    bridged,
    epoch_factor,
    reputation,
    reputation_weights,
)
from tests.social.graphs import tiny_bipartite


def test_decays_off_equals_salsa_seed_for_seed():
    g = tiny_bipartite(trust=True)
    u = torch.arange(4)
    for r in (0.15, 0.4):
        s = SALSARecommender(walks=500, reset=r, seed=7).fit(g)
        m = MeritRankSALSA(walks=500, alpha=r, beta=0.0, epoch_decay=0.0, reputation=None, seed=7).fit(g)
        assert torch.equal(s.score(u), m.score(u))
    on = MeritRankSALSA(walks=500, alpha=0.15, seed=7, seeds=2, epoch=2.0, epoch_decay=0.5).fit(g)
    assert not torch.equal(on.score(u), SALSARecommender(walks=500, seed=7).fit(g).score(u))


def bridge_graph() -> Graph:
    """Seed 0 trusts 1 and 2; both trust 3, the only way to 4 and 5 (all edges both ways)."""
    g = Graph()
    g.add_node_type("user", 6)
    g.add_node_type("item", 3)
    a = [0, 0, 1, 2, 3, 3]
    b = [1, 2, 3, 3, 4, 5]
    g.add_edges(TRUSTS, a + b, b + a)
    g.add_edges(INTERACTS, [0, 1, 4, 5], [0, 1, 2, 2])
    return g


def test_planted_bridge_is_discounted_by_beta():
    g = bridge_graph()
    plain = reputation(g, [0], beta=0.0, walks=4000, seed=3)
    dec = reputation(g, [0], beta=0.5, walks=4000, seed=3)
    assert float(plain[4]) > 0 and float(plain[5]) > 0
    # the same walks: nodes behind the bridge keep exactly 1 - beta, the others all of it
    assert torch.allclose(dec[[4, 5]], 0.5 * plain[[4, 5]])
    assert torch.equal(dec[[1, 2, 3]], plain[[1, 2, 3]])


def test_bridged_on_hand_paths():
    # walks from node 0: 0-1-2, 0-1-2, 0-3-2 -> 2 is reached via 1 on 2 of 3 walks, never via one node always
    paths = torch.tensor([[0, 1, 2], [0, 1, 2], [0, 3, 2], [0, 1, -1]])
    rows = torch.zeros(4, dtype=torch.long)
    r, n = bridged(paths, rows, 1, 4)
    assert n.tolist() == []
    r, n = bridged(paths, rows, 1, 4, share=0.6)
    assert n.tolist() == [2] and r.tolist() == [0]


def test_distrust_lowers_what_lies_behind():
    def graph(distrust: bool) -> Graph:
        g = Graph()
        g.add_node_type("user", 4)
        g.add_node_type("item", 4)
        g.add_edges(TRUSTS, [0, 1, 0, 2, 1, 3], [1, 0, 2, 0, 3, 1])
        g.add_edges(INTERACTS, [0, 1, 2, 3], [0, 1, 2, 3])
        if distrust:
            g.add_edges(DISTRUSTS, [0], [1])
        return g

    kw = {"walks": 3000, "beta": 0.0, "reputation": None, "seed": 1}
    base = MeritRankSALSA(**kw).fit(graph(False)).visits(torch.tensor([0]))[0]
    neg = MeritRankSALSA(**kw).fit(graph(True)).visits(torch.tensor([0]))[0]
    assert float(neg[1]) < 0 < float(base[1])  # the distrusted user's item
    assert float(neg[3]) < float(base[3])  # behind the distrusted user
    assert float(neg[2]) > 0  # reached mostly without passing the distrusted user: still positive
    rep_plain = reputation(graph(False), [0], beta=0.0, walks=3000, seed=2)
    rep_neg = reputation(graph(True), [0], beta=0.0, walks=3000, seed=2)
    assert float(rep_neg[1]) < 0 < float(rep_plain[1]) and float(rep_neg[3]) < float(rep_plain[3])
    # negative trust weights mean the same as a distrust edge
    g = graph(False)
    g2 = Graph()
    g2.add_node_type("user", 4)
    g2.add_node_type("item", 4)
    g2.add_edges(TRUSTS, [0, 1, 0, 2, 1, 3, 0], [1, 0, 2, 0, 3, 1, 1], weight=[1, 1, 1, 1, 1, 1, -2], duplicates="keep")
    g2.add_edges(INTERACTS, [0, 1, 2, 3], [0, 1, 2, 3])
    assert float(MeritRankSALSA(**kw).fit(g2).visits(torch.tensor([0]))[0, 1]) < 0
    del g


def test_epoch_decay_and_reputation_weights():
    f = epoch_factor(torch.tensor([100, 90, 50, 0]), 20.0, 0.5)
    assert f.tolist() == [1.0, 1.0, 0.25, 0.03125]
    assert epoch_factor(None, 20.0, 0.5) is None and epoch_factor(torch.tensor([1]), 20.0, 0.0) is None
    g = bridge_graph()
    rep = torch.tensor([0.0, 4.0, 4.0, 2.0, 0.1, -1.0])
    w = reputation_weights(rep, g, ref=0.5, seeds=[0])
    # reputation-weighted median 4 -> reference 2: capped at 1, proportional below, 0 when negative
    assert w.tolist() == pytest.approx([1.0, 1.0, 1.0, 1.0, 0.05, 0.0])


def test_meritrank_state_round_trip_and_params():
    g = tiny_bipartite(trust=True)
    m = MeritRankSALSA(walks=300, seeds=2, rep_walks=2000).fit(g)
    tensors, extra = m._get_state()
    assert set(tensors) == {"rep", "user_weight"}
    m2 = gr.models.create("meritrank-salsa", **m.params())
    m2._set_state(g, tensors, extra)
    u = torch.arange(4)
    assert torch.equal(m.score(u), m2.score(u))


def test_synthetic_camouflaged_sybils_lose_their_share():
    from graphrec.attacks import attack_report, sybil_attack

    data = gr.datasets.synthetic.make_dataset(400, 200, avg_degree=10, seed=0)
    atk = sybil_attack(data, 300, camouflage=3, seed=0)
    users = torch.arange(0, 400, 2).numpy()
    s = attack_report(SALSARecommender(walks=1000).fit(atk.data), atk, users, accuracy=False)
    m = attack_report(MeritRankSALSA(walks=1000, seeds=200).fit(atk.data), atk, users, accuracy=False)
    assert s["promoted_share"] > 0.05
    assert m["promoted_share"] < 0.2 * s["promoted_share"]
