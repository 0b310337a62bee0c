"""The attack harness: reproducible regions of every shape, honest data untouched, measures."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import graphrec as gr
from graphrec.attacks import attack_report, honest_test_users, popularity_attack, sybil_attack
from graphrec.graph import INTERACTS, TRUSTS


@pytest.fixture(scope="module")
def data():
    return gr.datasets.synthetic.make_dataset(200, 80, avg_degree=8, seed=1)


def edges(g, et):
    s, d = g.edges(et).coo()
    return torch.stack([s, d])


def test_attack_reproduces_from_seed(data):
    a = sybil_attack(data, 50, camouflage=3, topology="random", seed=5)
    b = sybil_attack(data, 50, camouflage=3, topology="random", seed=5)
    c = sybil_attack(data, 50, camouflage=3, topology="random", seed=6)
    for et in (INTERACTS, TRUSTS):
        assert torch.equal(edges(a.data.train, et), edges(b.data.train, et))
    assert torch.equal(a.attacked, b.attacked)
    assert not torch.equal(edges(a.data.train, TRUSTS), edges(c.data.train, TRUSTS))


@pytest.mark.parametrize("topology,internal", [("star", 2 * 49), ("chain", 2 * 49), ("clique", 50 * 49), ("none", 0)])
def test_shapes_attack_edges_and_honest_part(data, topology, internal):
    k = 0 if topology == "none" else 7
    atk = sybil_attack(data, 50, attack_edges=k, topology=topology, targets=4, camouflage=2, seed=0)
    g, g0 = atk.data.train, data.train
    nu, ni = g0.num_nodes("user"), g0.num_nodes("item")
    assert g.num_nodes("user") == nu + 50 and g.num_nodes("item") == ni + 4
    assert atk.sybils.tolist() == list(range(nu, nu + 50)) and atk.targets.tolist() == list(range(ni, ni + 4))
    s, d = g.edges(TRUSTS).coo()
    sy_s, sy_d = s >= nu, d >= nu
    assert int((sy_s & sy_d).sum()) == internal
    assert int((~sy_s & sy_d).sum()) == k and int((sy_s & ~sy_d).sum()) == k  # attack edges, both ways
    assert len(set(atk.attacked.tolist())) == k
    # every Sybil: all targets + 2 popular items; honest edges unchanged; the original untouched
    deg = g.degree(INTERACTS)[nu:]
    assert bool((deg == 6).all())
    hs, hd = g.edges(INTERACTS).coo()
    keep = hs < nu
    assert torch.equal(torch.stack([hs[keep], hd[keep]]), edges(g0, INTERACTS))
    assert data.train.num_nodes("user") == nu
    assert torch.equal(edges(atk.data.test, INTERACTS), edges(data.test, INTERACTS))


def test_bad_arguments(data):
    with pytest.raises(ValueError, match="clique"):
        sybil_attack(data, 3000, topology="clique")
    with pytest.raises(ValueError, match="attack_edges"):
        sybil_attack(data, 10, topology="none", attack_edges=3)
    with pytest.raises(ValueError, match="topology"):
        sybil_attack(data, 10, topology="ring")


def test_popularity_bombing_moves_mostpop_and_report(data):
    atk = popularity_attack(data, 40, targets=3, seed=0)
    assert not atk.data.train.has_edge_type(TRUSTS) or int((atk.data.train.edges(TRUSTS).coo()[0] >= 200).sum()) == 0
    users = honest_test_users(atk, 50, seed=0)
    assert users.size == 50 and int(users.max()) < 200
    pop = gr.models.create("mostpop").fit(atk.data)
    rep = attack_report(pop, atk, users)
    assert rep["promoted_share"] == pytest.approx(3 / 20)  # every honest list holds the 3 bombed items
    assert 0 < rep["promoted_mass"] < 1 and 0 <= rep["recall@20"] <= 1
    with pytest.raises(ValueError, match="honest"):
        attack_report(pop, atk, np.array([250]))


def test_report_separates_the_users_on_attack_edges(data):
    atk = sybil_attack(data, 30, attack_edges=4, targets=3, seed=0)
    on_edge = atk.attacked.cpu().numpy()
    users = np.union1d(on_edge, honest_test_users(atk, 30, seed=1))
    ppr = gr.models.create("ppr", trust=True).fit(atk.data)
    rep = attack_report(ppr, atk, users, accuracy=False)
    # the 4 users who trust the hub get all 3 promoted items; walks from the others never get there
    assert rep["promoted_share"] == pytest.approx(4 * 3 / (users.size * 20))
    assert rep["promoted_share_unattacked"] == 0.0
    only = attack_report(ppr, atk, on_edge, accuracy=False)
    assert only["promoted_share"] == pytest.approx(3 / 20) and only["promoted_share_unattacked"] is None
