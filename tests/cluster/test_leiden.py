"""graphrec.cluster: modularity by hand, planted partitions recovered, seeded determinism,
the resolution search, exact resizing, one-type relations, the lazy igraph import."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from graphrec.cluster import (
    bisect_resolution,
    compact,
    leiden,
    modularity,
    resize_clusters,
    resolution_for_budget,
)
from graphrec.data.dataset import Dataset
from graphrec.graph import INTERACTS, TRUSTS, Graph

pytest.importorskip("igraph")


def planted(blocks: int = 4, users: int = 25, items: int = 20, p_in: float = 0.35, p_out: float = 0.01, seed: int = 0) -> tuple[Graph, np.ndarray, np.ndarray]:
    """A bipartite planted partition: block b's users link to block b's items with ``p_in``, others with ``p_out``."""
    rng = np.random.default_rng(seed)
    bu, bi = np.repeat(np.arange(blocks), users), np.repeat(np.arange(blocks), items)
    prob = np.where(bu[:, None] == bi[None, :], p_in, p_out)
    u, i = np.nonzero(rng.random(prob.shape) < prob)
    g = Graph()
    g.add_node_type("user", bu.size)
    g.add_node_type("item", bi.size)
    g.add_edges(INTERACTS, u, i)
    return g, bu, bi


def nmi(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised mutual information (arithmetic mean of the entropies)."""
    _, a = np.unique(a, return_inverse=True)
    _, b = np.unique(b, return_inverse=True)
    joint = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(joint, (a, b), 1)
    p = joint / joint.sum()
    pa, pb = p.sum(1), p.sum(0)
    nz = p > 0
    mi = float((p[nz] * np.log(p[nz] / np.outer(pa, pb)[nz])).sum())
    h = lambda q: -float((q[q > 0] * np.log(q[q > 0])).sum())
    return 2 * mi / (h(pa) + h(pb)) if h(pa) + h(pb) > 0 else 1.0


def two_pairs() -> Graph:
    g = Graph()
    g.add_node_type("user", 2)
    g.add_node_type("item", 2)
    g.add_edges(INTERACTS, [0, 1], [0, 1])
    return g


def test_modularity_by_hand() -> None:
    g = two_pairs()
    split = {"user": torch.tensor([0, 1]), "item": torch.tensor([0, 1])}
    one = {"user": torch.tensor([0, 0]), "item": torch.tensor([0, 0])}
    # Barber: Σ_c e_c/m - K_c^U K_c^I / m² = 1 - (1 + 1)/4; Newman: 1 - Σ_c (K_c / 2m)² = 1 - 2 (2/4)²
    assert modularity(g, split, kind="bipartite") == pytest.approx(0.5)
    assert modularity(g, split, kind="standard") == pytest.approx(0.5)
    assert modularity(g, one, kind="bipartite") == pytest.approx(0.0)
    assert modularity(g, one, kind="standard") == pytest.approx(0.0)
    # users apart from their items: no pair inside, Barber's null term is zero too
    apart = {"user": torch.tensor([0, 0]), "item": torch.tensor([1, 1])}
    assert modularity(g, apart, kind="bipartite") == pytest.approx(0.0)
    assert modularity(g, apart, kind="standard") == pytest.approx(-0.5)
    with pytest.raises(ValueError, match="membership"):
        modularity(g, {"user": torch.tensor([0])}, kind="standard")


def test_standard_modularity_matches_igraph() -> None:
    g, _, _ = planted(seed=3)
    c = leiden(g, resolution=1.0, modularity_kind="standard", seed=0)
    ig_graph = g.to_igraph(INTERACTS).as_undirected(mode="collapse")
    labels = torch.cat([c.membership["user"], c.membership["item"]]).tolist()
    assert c.modularity == pytest.approx(ig_graph.modularity(labels), abs=1e-9)


@pytest.mark.parametrize("backend", ["igraph", "leidenalg"])
@pytest.mark.parametrize("kind", ["bipartite", "standard"])
def test_planted_partition_is_recovered(kind: str, backend: str) -> None:
    if backend == "leidenalg":
        pytest.importorskip("leidenalg")
    g, bu, bi = planted()
    c = leiden(g, modularity_kind=kind, seed=1, backend=backend)
    got = torch.cat([c.membership["user"], c.membership["item"]]).numpy()
    assert nmi(got, np.concatenate([bu, bi])) >= 0.9
    assert c.membership["user"].dtype == torch.int64 and c.membership["user"].device == g.device
    assert 0.5 < c.modularity < 0.75  # four equal blocks: at most 1 - 1/4


def test_backends_reach_the_same_bipartite_modularity() -> None:
    pytest.importorskip("leidenalg")
    g, _, _ = planted(blocks=6, p_in=0.2, p_out=0.03, seed=5)
    q = [leiden(g, resolution=1.5, seed=0, backend=b).modularity for b in ("igraph", "leidenalg")]
    assert abs(q[0] - q[1]) < 0.02


def test_seeded_and_deterministic() -> None:
    g, _, _ = planted(blocks=8, p_in=0.15, p_out=0.04, seed=2)
    a = leiden(g, resolution=3.0, seed=7)
    b = leiden(g, resolution=3.0, seed=7)
    assert all(torch.equal(a.membership[t], b.membership[t]) for t in ("user", "item"))
    r1 = resolution_for_budget(g, 30, count="rows", seed=4)
    r2 = resolution_for_budget(g, 30, count="rows", seed=4)
    assert r1.resolution == r2.resolution and torch.equal(r1.membership["item"], r2.membership["item"])


def test_resolution_search_hits_the_target() -> None:
    g, _, _ = planted(blocks=4, seed=0)
    c = resolution_for_budget(g, 4, seed=0)  # the planted blocks
    assert c.num_clusters == 4 and c.steps >= 1 and c.extra["target"] == 4
    many = resolution_for_budget(g, 60, count="rows", seed=0, tol=0.05)
    assert abs(many.num_rows - 60) <= 3 and many.resolution > c.resolution
    with pytest.raises(ValueError, match="target"):
        resolution_for_budget(g, 0)
    # a monotone stand-in: the bisection lands exactly
    gamma, count, result, steps = bisect_resolution(lambda x: (int(10 * x), x), 137)
    assert count == 137 and result == gamma and steps < 30


def test_isolated_nodes_share_one_cluster_per_type() -> None:
    g = Graph()
    g.add_node_type("user", 6)
    g.add_node_type("item", 5)
    g.add_edges(INTERACTS, [0, 0, 1, 2, 2, 3], [0, 1, 0, 2, 3, 3])  # users 4, 5 and item 4 have no edge
    c = leiden(g, seed=0)
    u, i = c.membership["user"], c.membership["item"]
    assert u[4] == u[5] and u[4] not in u[:4] and i[4] not in i[:4] and i[4] != u[4]


def test_one_type_relation_trust() -> None:
    # two 5-cliques of users joined by one edge, plus a user-item relation that is ignored
    a = [(x, y) for x in range(5) for y in range(5) if x < y]
    edges = a + [(x + 5, y + 5) for x, y in a] + [(0, 5)]
    src, dst = zip(*edges)
    data = Dataset.from_pairs("cliques", ([0, 1], [0, 1]), ([2], [0]), trust=(list(src), list(dst)),
                              user_ids=np.arange(10), item_ids=np.arange(2))
    c = leiden(data.train, TRUSTS, modularity_kind="standard", seed=0)
    labels = c.membership["user"]
    assert set(c.membership) == {"user"} and c.num_clusters == 2
    assert len(set(labels[:5].tolist())) == 1 and len(set(labels[5:].tolist())) == 1
    # 21 undirected edges; each clique holds 10, degree sum 21: Q = 20/21 - 2 (21/42)²
    assert c.modularity == pytest.approx(20 / 21 - 2 * (21 / 42) ** 2)
    with pytest.raises(ValueError, match="two-type relation"):
        leiden(data.train, TRUSTS, modularity_kind="bipartite")


def test_bad_arguments_are_one_line_errors() -> None:
    g = two_pairs()
    for kw in ({"resolution": 0}, {"modularity_kind": "cpm"}, {"backend": "louvain"}, {"n_iterations": 0}):
        with pytest.raises(ValueError) as err:
            leiden(g, **kw)
        assert "\n" not in str(err.value)


def test_resize_merges_the_smallest_and_splits_off_the_heaviest() -> None:
    labels = torch.tensor([5, 5, 5, 9, 9, 2, 7])  # sizes: 2 -> 1, 5 -> 3, 7 -> 1, 9 -> 2
    merged = resize_clusters(labels, 3)  # the 2 smallest (ids 2 and 7) become one
    assert int(merged.max()) == 2 and merged[5] == merged[6] and len(set(merged[:5].tolist())) == 2
    weight = torch.tensor([1.0, 9.0, 5.0, 3.0, 8.0, 7.0, 0.0])
    split = resize_clusters(labels, 6, weight)
    assert sorted(set(split.tolist())) == list(range(6))
    # two new rows: the heaviest movable nodes (node 1, weight 9; node 4, weight 8), never a cluster's last member
    assert split[1] >= 4 and split[4] >= 4 and len(set(split[[0, 2]].tolist())) == 1
    assert torch.equal(resize_clusters(labels, 4), compact(labels))
    assert torch.equal(resize_clusters(labels, 7, weight), resize_clusters(labels, 7, weight))
    assert len(set(resize_clusters(labels, 7, weight).tolist())) == 7
    with pytest.raises(ValueError, match="k must be"):
        resize_clusters(labels, 8)


def test_import_graphrec_without_igraph() -> None:
    code = (
        "import sys; sys.modules['igraph'] = None; sys.modules['leidenalg'] = None\n"
        "import graphrec as gr, graphrec.cluster, graphrec.models.hashing\n"
        "from graphrec.cluster import leiden\n"
        "g = gr.Graph(); g.add_node_type('user', 2); g.add_node_type('item', 2); g.add_edges(gr.INTERACTS, [0, 1], [0, 1])\n"
        "try:\n    leiden(g)\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "needs the 'igraph' package" in out.stdout and out.stdout.count("\n") == 1


def test_secant_search_needs_few_steps_and_can_stay_below() -> None:
    # a power law count(γ) = 40 γ^0.9, like Leiden's on Gowalla: a handful of steps from γ = 1
    run = lambda x: (int(40 * x**0.9), x)
    gamma, count, _, steps = bisect_resolution(run, 17710, tol=0.01)
    assert abs(count - 17710) <= 177 and steps <= 4 and gamma > 1
    old_steps = 12  # the plain log-bisection (x4 widening, then halving) took 12 runs on this curve
    assert steps < old_steps
    # accept='below': only counts in [target - tol·target, target] stop the search
    _, below, _, _ = bisect_resolution(lambda x: (int(10 * x), x), 1000, start=101.5, tol=0.05, accept="below")
    assert 950 <= below <= 1000
    with pytest.raises(ValueError, match="accept"):
        bisect_resolution(run, 10, accept="above")


def test_prepared_relation_is_cached_per_store_version() -> None:
    from graphrec.cluster import clear_cache
    from graphrec.cluster.leiden import _PREPARED

    g, _, _ = planted(blocks=4, seed=0)
    clear_cache(g)
    a = leiden(g, resolution=2.0, seed=1)
    assert len(_PREPARED[g]) == 1
    b = leiden(g, resolution=2.0, seed=1)  # the cached igraph graph: the same clusters
    assert all(torch.equal(a.membership[t], b.membership[t]) for t in ("user", "item"))
    g.add_edges(INTERACTS, [0], [int(g.num_nodes("item")) - 1])  # a new version: the old preparation is dropped
    leiden(g, resolution=2.0, seed=1)
    assert [k[0] for k in _PREPARED[g]] == [g.version]
    clear_cache(g)
    assert g not in _PREPARED
