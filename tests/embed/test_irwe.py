"""IRWE: walk statistics by hand, exact inductive reproduction, seeds, degenerate graphs,
structural equivalence, and the ``irwe`` recommender."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from graphrec.embed import IRWE
from graphrec.embed.walkstats import (
    anonymize,
    anonymous_vocabulary,
    node_engine,
    statistic_names,
    walk_sample,
    walk_statistics,
)
from graphrec.graph import INTERACTS, Graph

LINKS = ("node", "links", "node")
SMALL = {"dim": 8, "heads": 2, "walks": 8, "attn_walks": 2, "length": 4, "aw_length": 3, "rand_dim": 16, "steps": 5, "batch": 16}


def undirected(n: int, edges: list[tuple[int, int]]) -> Graph:
    g = Graph()
    g.add_node_type("node", n)
    src = [a for a, b in edges] + [b for a, b in edges if a != b]
    dst = [b for a, b in edges] + [a for a, b in edges if a != b]
    g.add_edges(LINKS, np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64))
    return g


def star(leaves: int) -> Graph:
    return undirected(leaves + 1, [(0, i) for i in range(1, leaves + 1)])


def two_triangles_with_tails() -> list[tuple[int, int]]:
    return [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4)]


# ---------------------------------------------------------------- walk statistics
def test_anonymize_by_hand() -> None:
    paths = torch.tensor([[5, 7, 5, 9, 7, 7], [3, 3, 3, 3, 3, 3]])
    assert anonymize(paths).tolist() == [[0, 1, 0, 2, 1, 1], [0, 0, 0, 0, 0, 0]]


@pytest.mark.parametrize(("aw_length", "bell"), [(1, 2), (2, 5), (3, 15), (4, 52)])
def test_vocabulary_is_bell_number(aw_length: int, bell: int) -> None:
    vocab = anonymous_vocabulary(aw_length)
    assert vocab.numel() == bell and bool((vocab[1:] > vocab[:-1]).all())


def test_statistics_of_one_edge_by_hand() -> None:
    g = undirected(2, [(0, 1)])  # every walk alternates 0 1 0 1 ...
    eng = node_engine(g)
    L = 4
    st = walk_statistics(walk_sample(eng, torch.arange(2), 5, L, seed=0), aw_length=3)
    names = statistic_names(L, 3)
    col = {n: i for i, n in enumerate(names)}
    assert st.shape == (2, len(names))
    for t in range(1, L + 1):
        assert float(st[0, col[f"return@{t}"]]) == (1.0 if t % 2 == 0 else 0.0)
        assert float(st[0, col[f"distinct@{t}"]]) == pytest.approx(2 / (t + 1))
        assert float(st[0, col[f"deg_mean@{t}"]]) == pytest.approx(math.log(2))
        assert float(st[0, col[f"deg_std@{t}"]]) == 0.0
    aw = st[:, col["aw0"]:]
    assert torch.allclose(aw.sum(1), torch.ones(2))
    assert float(aw.max()) == 1.0  # one anonymous type: 0 1 0 1


# ----------------------------------------------------------------------- the model
@pytest.fixture(scope="module")
def fitted() -> tuple[IRWE, Graph]:
    g = undirected(8, two_triangles_with_tails() + [(4, 5), (5, 6), (6, 7), (7, 5)])
    return IRWE(**SMALL, seed=3).fit(g), g


def test_infer_on_training_graph_reproduces_training_embeddings(fitted: tuple[IRWE, Graph]) -> None:
    model, _g = fitted
    copy = undirected(8, two_triangles_with_tails() + [(4, 5), (5, 6), (6, 7), (7, 5)])  # rebuilt, not the same object
    emb = model.infer(copy)
    assert torch.equal(emb.identity, model.identity_)
    assert torch.equal(emb.position, model.position_)
    sub = model.infer(copy, nodes=[6, 1, 3])
    assert torch.allclose(sub.identity, model.identity_[[6, 1, 3]], atol=1e-6)
    assert torch.allclose(sub.position, model.position_[[6, 1, 3]], atol=1e-6)
    assert emb.select("both").shape == (8, 16)
    assert torch.allclose(model.position_.norm(dim=1), torch.ones(8), atol=1e-5)


def test_seeds_reproduce_and_differ(fitted: tuple[IRWE, Graph]) -> None:
    model, g = fitted
    again = IRWE(**SMALL, seed=3).fit(g)
    assert torch.equal(again.identity_, model.identity_) and torch.equal(again.position_, model.position_)
    assert again.history == model.history
    other = IRWE(**SMALL, seed=4).fit(g)
    assert not torch.allclose(other.identity_, model.identity_)


def test_inductive_on_an_unseen_graph(fitted: tuple[IRWE, Graph]) -> None:
    model, _ = fitted
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    new = star(6)
    emb = model.infer(new)
    assert emb.identity.shape == (7, 8) and bool(torch.isfinite(emb.select()).all())
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in weights.items())  # no retraining


@pytest.mark.parametrize(
    "graph",
    [
        pytest.param(lambda: undirected(5, [(0, 1), (1, 2)]), id="isolated-nodes"),
        pytest.param(lambda: undirected(3, [(0, 0), (0, 1), (1, 2)]), id="self-loop"),
        pytest.param(lambda: undirected(1, [(0, 0)]), id="single-node-loop"),
    ],
)
def test_degenerate_graphs_never_give_nan(graph) -> None:
    g = graph()
    model = IRWE(**SMALL).fit(g)
    assert bool(torch.isfinite(model.identity_).all()) and bool(torch.isfinite(model.position_).all())
    assert model.identity_.shape[0] == g.num_nodes()


def test_single_node_without_edges_is_one_line_error() -> None:
    g = Graph()
    g.add_node_type("node", 1)
    with pytest.raises((ValueError, KeyError)) as err:
        IRWE(**SMALL).fit(g)
    assert "\n" not in str(err.value)


def test_bad_parameters_raise() -> None:
    with pytest.raises(ValueError, match="heads"):
        IRWE(dim=10, heads=4)
    with pytest.raises(ValueError, match="length"):
        IRWE(length=2, aw_length=4)
    with pytest.raises(TypeError):
        IRWE(**SMALL).fit("not a graph")


# ------------------------------------------------------- position input: weights, beta, width
def _reference_position_gram(g: Graph, rand_dim: int, hop_weights: list[float], beta: float, seed: int) -> torch.Tensor:
    """Cosines of ``sum_k w_k normalize(P^k D^beta R)`` with a dense ``P`` (the untrained position)."""
    from graphrec.embed.irwe import random_node_features
    from graphrec.embed.walkstats import engine_degree

    eng = node_engine(g)
    P = eng.transition_matrix().to_dense()
    deg = engine_degree(eng).clamp_min(1).to(torch.float32)
    x = random_node_features(eng, rand_dim, seed) * deg.pow(beta).unsqueeze(1)
    total = torch.zeros_like(x)
    w = torch.tensor(hop_weights) / torch.tensor(hop_weights).norm()
    for wk in w:
        x = P @ x
        total += wk * torch.nn.functional.normalize(x, dim=1)
    total = torch.nn.functional.normalize(total, dim=1)
    return total @ total.T


@pytest.mark.parametrize(("hop_weights", "beta"), [(None, 0.0), ([1.0, 0.0, 4.0], -0.5), ([0.0, 2.0, 1.0], 0.7)])
def test_untrained_position_is_the_weighted_walk_projection(hop_weights, beta) -> None:
    g = undirected(8, two_triangles_with_tails() + [(4, 5), (5, 6), (6, 7), (7, 5)])
    # rand_dim == position_dim: the fixed projection is orthogonal, so cosines are kept exactly
    params = {**SMALL, "steps": 0, "rand_dim": 16, "position_dim": 16, "hops": 3, "hop_weights": hop_weights, "beta": beta}
    model = IRWE(**params, seed=5).fit(g)
    assert model.position_.shape == (8, 16) and model.identity_.shape == (8, 8)
    ref = _reference_position_gram(g, 16, hop_weights or [1.0, 1.0, 1.0], beta, seed=5)
    torch.testing.assert_close(model.position_ @ model.position_.T, ref, atol=1e-5, rtol=0)


def test_hop_weights_are_a_direction_and_change_the_position() -> None:
    g = undirected(8, two_triangles_with_tails() + [(4, 5), (5, 6), (6, 7), (7, 5)])
    base = {**SMALL, "steps": 0, "hops": 3}
    equal = IRWE(**base).fit(g).position_
    torch.testing.assert_close(IRWE(**base, hop_weights=[2.0, 2.0, 2.0]).fit(g).position_, equal)
    assert not torch.allclose(IRWE(**base, hop_weights=[1.0, 0.0, 0.0]).fit(g).position_, equal, atol=1e-3)
    assert not torch.allclose(IRWE(**base, beta=-1.0).fit(g).position_, equal, atol=1e-3)


def test_position_width_trains_reproduces_and_infers_unseen_graphs() -> None:
    g = undirected(8, two_triangles_with_tails() + [(4, 5), (5, 6), (6, 7), (7, 5)])
    params = {**SMALL, "position_dim": 24, "hops": 4, "hop_weights": [1, 0, 4, 16], "beta": -0.6}
    model = IRWE(**params, seed=2).fit(g)
    assert model.params()["hop_weights"] == [1.0, 0.0, 4.0, 16.0]
    assert IRWE(**model.params()).params() == model.params()
    emb = model.infer(undirected(8, two_triangles_with_tails() + [(4, 5), (5, 6), (6, 7), (7, 5)]))
    assert torch.equal(emb.position, model.position_) and torch.equal(emb.identity, model.identity_)
    assert emb.select("both").shape == (8, 8 + 24)
    new = model.infer(star(5))  # unseen graph, isolated-free: no retraining, finite unit rows
    assert new.position.shape == (6, 24)
    assert torch.allclose(new.position.norm(dim=1), torch.ones(6), atol=1e-5)


def test_position_projections_stay_fixed_and_one_weight_learns(fitted: tuple[IRWE, Graph]) -> None:
    model, _ = fitted
    fresh = IRWE(**SMALL, seed=3)
    assert torch.equal(model.pos_mean.weight, fresh.pos_mean.weight)
    assert torch.equal(model.pos_attn.weight, fresh.pos_attn.weight)
    assert float(fresh.pos_scale.detach()) == 0.0 and float(model.pos_scale.detach()) != 0.0
    assert not torch.equal(model.token_gate.weight, fresh.token_gate.weight)


def test_bad_position_parameters_raise() -> None:
    with pytest.raises(ValueError, match="hop_weights"):
        IRWE(hops=3, hop_weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="hop_weights"):
        IRWE(hops=2, hop_weights=[0.0, 0.0])
    with pytest.raises(ValueError, match="hop_weights"):
        IRWE(hops=2, hop_weights=[1.0, -1.0])
    with pytest.raises(TypeError, match="hop_weights"):
        IRWE(hops=2, hop_weights="11")
    with pytest.raises(ValueError, match="position_dim"):
        IRWE(position_dim=0)


# ------------------------------------------------------------- structural identity
def test_star_leaves_share_an_identity() -> None:
    g = star(8)
    model = IRWE(**{**SMALL, "walks": 32, "steps": 20}, seed=1).fit(g)
    idn = model.identity_
    leaves = idn[1:]
    spread = (leaves - leaves.mean(0)).norm(dim=1).max()
    to_center = (idn[0] - leaves.mean(0)).norm()
    assert float(spread) < 0.1 * float(to_center)


def test_disjoint_copies_get_the_same_identities() -> None:
    edges = two_triangles_with_tails()
    doubled = edges + [(a + 5, b + 5) for a, b in edges]
    g = undirected(10, doubled)
    model = IRWE(**{**SMALL, "walks": 256, "steps": 20}, seed=2).fit(g)
    idn = model.identity_
    same = (idn[:5] - idn[5:]).norm(dim=1)  # node i and its copy: equal up to walk sampling
    pairwise = torch.cdist(idn[:5], idn[:5])
    # structurally different nodes of one copy (0 and 1 are automorphic, so left out)
    different = torch.stack([pairwise[a, b] for a in (1, 2, 3, 4) for b in (1, 2, 3, 4) if a < b])
    assert float(same.max()) < float(different.min())
    assert float(same.mean()) < 0.5 * float(different.mean())


# -------------------------------------------------------------------- recommender
def bipartite() -> Graph:
    g = Graph()
    g.add_node_type("user", 6)
    g.add_node_type("item", 5)
    u = [0, 0, 1, 1, 2, 2, 3, 3, 4, 5, 5]
    i = [0, 1, 1, 2, 0, 2, 3, 4, 3, 4, 0]
    g.add_edges(INTERACTS, u, i)
    return g


def test_irwe_recommender_fits_recommends_and_updates() -> None:
    from graphrec.models import create

    params = {"dim": 8, "heads": 2, "walks": 8, "attn_walks": 2, "length": 4, "aw_length": 3,
              "rand_dim": 16, "steps": 3, "batch": 8, "position_dim": None}
    model = create("irwe", **params)
    assert create("irwe", **model.params()).params() == model.params()
    g = bipartite()
    model.fit(g)
    items, scores = model.recommend([0, 3], k=2)
    assert items.shape == (2, 2) and np.isfinite(scores).all()
    assert not set(items[0]) & {0, 1}  # seen items are excluded
    enc = {k: v.clone() for k, v in model.irwe.state_dict().items()}
    g.add_nodes("user", [6])
    g.add_nodes("item", [5])
    g.add_edges(INTERACTS, [6, 6, 2], [0, 5, 5])
    model.update()
    u, v = model.embeddings()
    assert u.shape == (7, 8) and v.shape == (6, 8)
    assert bool(torch.isfinite(u).all()) and bool(torch.isfinite(v).all())
    assert all(torch.equal(t, model.irwe.state_dict()[k]) for k, t in enc.items())
    items, _ = model.recommend([6], k=3)
    assert not set(items[0]) & {0, 5}


@pytest.mark.parametrize("refresh", ["touched", "all"])
def test_irwe_recommender_update_re_encodes_what_changed(refresh: str) -> None:
    from graphrec.models import create

    params = {"dim": 8, "heads": 2, "walks": 8, "attn_walks": 2, "length": 4, "aw_length": 3,
              "rand_dim": 16, "steps": 3, "batch": 8, "position_dim": None, "refresh": refresh}
    g = bipartite()
    model = create("irwe", **params).fit(g)
    u0, v0 = (t.clone() for t in model.embeddings())
    g.add_nodes("user", [6])
    g.add_edges(INTERACTS, [6, 6, 2], [0, 4, 4])  # new user 6; user 2 and items 0, 4 touched
    u, v = model.update().embeddings()
    fresh = model.irwe.infer(g).select("position")  # every node encoded on the grown graph
    touched_u, touched_i = [2, 6], [0, 4]
    assert torch.allclose(u[touched_u], fresh[touched_u], atol=1e-6)
    assert torch.allclose(v[touched_i], fresh[[7 + i for i in touched_i]], atol=1e-6)
    if refresh == "touched":  # the others keep their embeddings
        assert torch.equal(u[[0, 1, 3, 4, 5]], u0[[0, 1, 3, 4, 5]]) and torch.equal(v[[1, 2, 3]], v0[[1, 2, 3]])
    else:
        assert torch.allclose(u, fresh[:7], atol=1e-6) and torch.allclose(v, fresh[7:], atol=1e-6)
    with pytest.raises(ValueError, match="refresh"):
        create("irwe", refresh="some")


def test_irwe_recommender_output_choice() -> None:
    from graphrec.models import create

    with pytest.raises(ValueError, match="output"):
        create("irwe", output="neither")
    m = create("irwe", output="both", dim=8, heads=2, walks=4, attn_walks=2, length=4, aw_length=3, rand_dim=8, steps=2, batch=4,
               position_dim=None)
    m.fit(bipartite())
    u, v = m.embeddings()
    assert u.shape == (6, 16) and v.shape == (5, 16)


def test_irwe_embedding_method_fit_on_another_graph() -> None:
    from graphrec.embed import embed

    g = undirected(8, two_triangles_with_tails() + [(4, 5), (5, 6), (6, 7), (7, 5)])
    out = embed("irwe", star(5), fit_on=g, output="identity", **{k: v for k, v in SMALL.items()})
    assert out.vectors.shape == (6, 8) and out.layout == [("node", 0, 6)] and out.meta["inductive"]
    both = embed("irwe", g, **SMALL)
    assert both.vectors.shape == (8, 16)


def test_irwe_recommender_position_settings_round_trip(tmp_path) -> None:
    from graphrec.models import create, load

    params = {"dim": 8, "heads": 2, "walks": 8, "attn_walks": 2, "length": 4, "aw_length": 3, "rand_dim": 16,
              "steps": 2, "batch": 8, "hops": 2, "hop_weights": [1.0, 4.0], "beta": -0.5, "position_dim": 12}
    model = create("irwe", **params)
    assert create("irwe", **model.params()).params() == model.params()
    assert create("irwe").params()["position_dim"] == 512  # the validated default
    model.fit(bipartite())
    u, v = model.embeddings()
    assert u.shape == (6, 12) and v.shape == (5, 12)
    model.save(tmp_path / "m")
    again = load(tmp_path / "m")
    a, b = model.recommend([0, 3], k=2), again.recommend([0, 3], k=2)
    assert np.array_equal(a[0], b[0]) and np.allclose(a[1], b[1])
