"""FastRP's tuning helper: it chooses on the validation carve only and finds planted structure."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from graphrec.embed import fastrp, link_auc
from graphrec.embed.fastrp import fastrp_powers
from graphrec.embed.tune import holdout_edges, link_carve, tune_fastrp
from graphrec.graph import INTERACTS, Graph

LINKS = ("node", "links", "node")


def _communities(n_per: int = 30, k: int = 3, p_in: float = 0.3, p_out: float = 0.01, seed: int = 0) -> tuple[Graph, torch.Tensor]:
    rng = np.random.default_rng(seed)
    n = n_per * k
    comm = np.repeat(np.arange(k), n_per)
    prob = np.where(comm[:, None] == comm[None, :], p_in, p_out)
    a = np.triu(rng.random((n, n)) < prob, 1)
    s, d = np.nonzero(a)
    g = Graph()
    g.add_node_type("node", n)
    g.add_edges(LINKS, np.concatenate([s, d]), np.concatenate([d, s]))
    return g, torch.from_numpy(comm)


def test_powers_combine_to_fastrp() -> None:
    g, _ = _communities()
    ps = fastrp_powers(g, dim=16, powers=3, beta=-0.5, seed=1)
    w = (1.0, 2.0, 5.0)
    torch.testing.assert_close(sum(wi * p for wi, p in zip(w, ps)), fastrp(g, dim=16, weights=w, beta=-0.5, seed=1))


def test_node_tuning_reads_only_the_labelled_nodes() -> None:
    g, comm = _communities()
    labelled = np.arange(0, 90, 3)
    res = tune_fastrp(g, labels=comm, labelled=labelled, dim=16, betas=(-0.5, 0.0), weight_grid=(0.0, 1.0), seed=0)
    scrambled = comm.clone()
    others = np.setdiff1d(np.arange(90), labelled)
    scrambled[others] = torch.from_numpy(np.random.default_rng(1).integers(0, 3, others.size))
    res2 = tune_fastrp(g, labels=scrambled, labelled=labelled, dim=16, betas=(-0.5, 0.0), weight_grid=(0.0, 1.0), seed=0)
    assert (res.weights, res.beta, res.score) == (res2.weights, res2.beta, res2.score)
    assert res.score > 0.8  # three planted communities are easy
    # two betas x two starts (the authors' weights, equal weights); all score 1, so the first
    # (authors') start stays: then w2 (=1) tries 0, w3 and w4 try 0 and 1: every value that differs
    assert len(res.history) == 2 * 2 + 1 + 2 + 2
    assert [h["weights"] for h in res.history[:2]] == [[1.0, 1.0, 7.81, 45.28], [1.0, 1.0, 1.0, 1.0]]
    assert res.score == max(h["score"] for h in res.history)


def test_link_tuning_holds_out_pairs_both_ways() -> None:
    g, _ = _communities()
    rest, held = holdout_edges(g, share=0.2, seed=0)
    assert rest.num_edges(LINKS) == g.num_edges(LINKS) - 2 * held.shape[1]
    s, d = rest.edges(LINKS).coo()
    keys = set((s * 90 + d).tolist())
    for a, b in held.T.tolist():
        assert a * 90 + b not in keys and b * 90 + a not in keys
    res = tune_fastrp(g, task="links", dim=32, betas=(-0.5,), weight_grid=(1.0,), seed=0)
    assert res.score > 0.8


def test_link_carve_is_the_tuning_carve() -> None:
    g, _ = _communities()
    target, pos, neg = link_carve(g, share=0.2, seed=3)
    rest, held = holdout_edges(g, share=0.2, seed=3)
    assert torch.equal(pos, held) and torch.equal(target.edges(LINKS).coo()[0], rest.edges(LINKS).coo()[0])
    assert neg.shape == pos.shape
    s, d = g.edges(LINKS).coo()
    keys = set((s * 90 + d).tolist())
    assert not any(a * 90 + b in keys or a == b for a, b in neg.T.tolist())  # non-edges of the whole graph
    again = link_carve(g, share=0.2, seed=3)
    assert all(torch.equal(x, y) for x, y in zip((pos, neg), again[1:]))
    # tune_fastrp's link judge is the AUC on exactly this carve
    res = tune_fastrp(g, task="links", valid_share=0.2, dim=16, betas=(0.0,), weight_grid=(1.0,), seed=3)
    emb = fastrp(target, dim=16, weights=res.weights, beta=res.beta, seed=3)
    assert res.score == pytest.approx(link_auc(emb, pos, neg))


def test_bipartite_link_tuning_runs() -> None:
    rng = np.random.default_rng(0)
    g = Graph()
    g.add_node_type("user", 30)
    g.add_node_type("item", 20)
    u = rng.integers(0, 30, 200)
    g.add_edges(INTERACTS, u, (u % 2) * 10 + rng.integers(0, 10, 200))
    res = tune_fastrp(g, task="links", dim=16, betas=(0.0,), weight_grid=(1.0,), seed=0)
    assert 0.5 < res.score <= 1.0


def test_bad_inputs() -> None:
    g, comm = _communities()
    with pytest.raises(ValueError, match="labels"):
        tune_fastrp(g)
    with pytest.raises(ValueError, match="task"):
        tune_fastrp(g, task="edges", labels=comm)
    with pytest.raises(ValueError, match="at least 4"):
        tune_fastrp(g, labels=comm, labelled=[0, 1])
