"""FastRP against a dense numpy reference, the projection's sparsity, seeds, blocking, edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from graphrec.embed import fastrp, projection_graph, relation_layout, sparse_projection
from graphrec.graph import INTERACTS, TRUSTS, Graph

LINKS = ("node", "links", "node")


def _reference(A: np.ndarray, R: np.ndarray, weights, beta: float, normalize: bool) -> np.ndarray:
    """FastRP with dense numpy matrices, straight from the paper's algorithm."""
    deg_out = A.sum(1)
    deg_in = A.sum(0)
    S = np.divide(A, deg_out[:, None], out=np.zeros_like(A), where=deg_out[:, None] > 0)
    L = np.diag(np.where(deg_in > 0, np.power(np.maximum(deg_in, 1e-30), beta), 0.0))
    N = S @ L @ R
    out = np.zeros_like(R)
    for w in weights:
        if normalize:
            nrm = np.linalg.norm(N, axis=1, keepdims=True)
            out += w * np.divide(N, nrm, out=np.zeros_like(N), where=nrm > 0)
        else:
            out += w * N
        N = S @ N
    return out


def _homogeneous(src, dst, n) -> Graph:
    g = Graph()
    g.add_node_type("node", n)
    g.add_edges(LINKS, src, dst)
    return g


def _dense(g: Graph, et) -> np.ndarray:
    es = g.edges(et)
    A = np.zeros((es.num_src, es.num_dst))
    s, d = es.coo()
    np.add.at(A, (s.numpy(), d.numpy()), 1.0)
    return A


@pytest.mark.parametrize("normalize", [True, False])
def test_matches_dense_reference_on_a_symmetrised_graph(normalize: bool) -> None:
    # a triangle with a tail, stored one way only: the default symmetrises it (A + Aᵀ)
    g = _homogeneous([0, 1, 2, 2, 3], [1, 2, 0, 3, 4], 6)  # node 5 isolated
    weights, beta = (1.0, 0.5, 2.0), -0.6
    got = fastrp(g, dim=16, weights=weights, beta=beta, s=2.0, normalize=normalize, seed=3)
    A = _dense(g, LINKS)
    R = sparse_projection(6, 16, 2.0, seed=3).to_dense().double().numpy()
    ref = _reference(A + A.T, R, weights, beta, normalize)
    np.testing.assert_allclose(got.double().numpy(), ref, rtol=1e-5, atol=1e-6)
    assert torch.all(got[5] == 0)  # isolated: a zero row, not NaN


def test_directed_relation_uses_out_transitions() -> None:
    g = _homogeneous([0, 1, 2, 2], [1, 2, 0, 3], 4)  # node 3 has no out-edge
    got = fastrp(g, dim=8, weights=(1.0, 1.0), beta=-0.5, s=1.0, symmetric=False, seed=1)
    A = _dense(g, LINKS)
    R = sparse_projection(4, 8, 1.0, seed=1).to_dense().double().numpy()
    np.testing.assert_allclose(got.double().numpy(), _reference(A, R, (1.0, 1.0), -0.5, True), rtol=1e-5, atol=1e-6)
    assert torch.all(got[3] == 0)


def test_bipartite_with_trust_matches_reference_over_the_union() -> None:
    g = Graph()
    g.add_node_type("user", 3)
    g.add_node_type("item", 4)
    g.add_edges(INTERACTS, [0, 0, 1, 2, 2], [0, 1, 1, 2, 3])
    g.add_edges(TRUSTS, [0, 1], [1, 2])
    assert relation_layout(g, [INTERACTS, TRUSTS]) == [("user", 0, 3), ("item", 3, 7)]
    got = fastrp(g, [INTERACTS, TRUSTS], dim=8, weights=(1.0, 2.0, 3.0), beta=-0.3, s=1.5, seed=0)
    R_ = _dense(g, INTERACTS)
    T = _dense(g, TRUSTS)
    A = np.block([[T + T.T, R_], [R_.T, np.zeros((4, 4))]])
    R = sparse_projection(7, 8, 1.5, seed=0).to_dense().double().numpy()
    np.testing.assert_allclose(got.double().numpy(), _reference(A, R, (1.0, 2.0, 3.0), -0.3, True), rtol=1e-5, atol=1e-6)
    # the interactions alone: the symmetric bipartite adjacency, users then items
    got_i = fastrp(g, INTERACTS, dim=8, weights=(1.0, 2.0), beta=0.0, s=1.5, seed=0)
    A_i = np.block([[np.zeros((3, 3)), R_], [R_.T, np.zeros((4, 4))]])
    np.testing.assert_allclose(got_i.double().numpy(), _reference(A_i, R, (1.0, 2.0), 0.0, True), rtol=1e-5, atol=1e-6)


def test_user_projection_is_r_rt_without_diagonal_and_embeds() -> None:
    g = Graph()
    g.add_node_type("user", 4)
    g.add_node_type("item", 3)
    g.add_edges(INTERACTS, [0, 0, 1, 1, 2, 3], [0, 1, 0, 1, 1, 2])
    p = projection_graph(g, side="src")
    R_ = _dense(g, INTERACTS)
    expect = R_ @ R_.T
    np.fill_diagonal(expect, 0)
    et = ("user", "co_interacts", "user")
    es = p.edges(et)
    got = np.zeros((4, 4))
    s, d = es.coo()
    got[s.numpy(), d.numpy()] = es.weight.numpy()
    np.testing.assert_array_equal(got, expect)
    emb = fastrp(p, dim=8, weights=(1.0, 1.0), s=1.0, weighted=True)
    assert torch.isfinite(emb).all() and torch.all(emb[3] == 0)  # user 3 shares no item


def test_projection_density_and_values() -> None:
    n, dim, s = 4000, 64, 10.0
    R = sparse_projection(n, dim, s, seed=7).coalesce()
    v = R.values()
    density = v.numel() / (n * dim)
    sd = math.sqrt((1 / s) * (1 - 1 / s) / (n * dim))
    assert abs(density - 1 / s) < 5 * sd
    torch.testing.assert_close(v.abs(), torch.full_like(v, math.sqrt(s)))
    pos = float((v > 0).double().mean())
    assert abs(pos - 0.5) < 5 * math.sqrt(0.25 / v.numel())
    # default s = sqrt(n): density 1/sqrt(n)
    R2 = sparse_projection(n, dim, seed=7)
    assert abs(R2.values().numel() / (n * dim) - 1 / math.sqrt(n)) < 5 * math.sqrt(1 / math.sqrt(n) / (n * dim))


def test_seeds_reproduce_and_differ() -> None:
    g = _homogeneous([0, 1, 2, 3, 4], [1, 2, 3, 4, 0], 5)
    a = fastrp(g, dim=16, seed=5)
    assert torch.equal(a, fastrp(g, dim=16, seed=5))
    assert not torch.equal(a, fastrp(g, dim=16, seed=6))


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("block", [1, 3, 7])
def test_blocked_equals_unblocked(normalize: bool, block: int) -> None:
    rng = np.random.default_rng(0)
    src, dst = rng.integers(0, 40, 120), rng.integers(0, 40, 120)
    g = _homogeneous(src, dst, 40)
    full = fastrp(g, dim=16, normalize=normalize, seed=2)
    blocked = fastrp(g, dim=16, normalize=normalize, seed=2, block_cols=block)
    torch.testing.assert_close(blocked, full, rtol=1e-5, atol=1e-6)


def test_self_loop_single_node_and_empty_relation() -> None:
    loop = _homogeneous([0, 0, 1], [0, 1, 2], 4)  # a self-loop, node 3 isolated
    e = fastrp(loop, dim=8, weights=(1.0, 1.0, 1.0))
    assert torch.isfinite(e).all() and torch.all(e[3] == 0) and e[0].abs().sum() > 0
    single = _homogeneous([0], [0], 1)
    e1 = fastrp(single, dim=8, weights=(1.0, 1.0))
    assert torch.isfinite(e1).all() and float(e1.norm()) > 0
    empty = _homogeneous([], [], 1)
    with pytest.raises(ValueError, match="no edges"):
        fastrp(empty, dim=8)


@pytest.mark.parametrize(
    ("kw", "msg"),
    [({"dim": 0}, "dim"), ({"weights": ()}, "weights"), ({"beta": float("nan")}, "beta"),
     ({"s": 0.5}, "s must"), ({"block_cols": 0}, "block_cols"), ({"seed": -1}, "seed")],
)
def test_bad_parameters_raise_one_line(kw, msg) -> None:
    g = _homogeneous([0], [1], 2)
    with pytest.raises(ValueError, match=msg):
        fastrp(g, **kw)


@pytest.mark.parametrize("normalize", [True, False])
def test_a_relation_stored_both_ways_is_used_as_stored(normalize: bool) -> None:
    # every edge with its reverse (and a self-loop once): A is already undirected, one move
    src, dst = [0, 1, 1, 2, 2, 3, 3], [1, 0, 2, 1, 3, 2, 3]
    g = _homogeneous(src, dst, 5)
    got = fastrp(g, dim=8, weights=(1.0, 3.0), beta=-0.7, s=1.5, normalize=normalize, seed=2)
    A = _dense(g, LINKS)
    R = sparse_projection(5, 8, 1.5, seed=2).to_dense().double().numpy()
    np.testing.assert_allclose(got.double().numpy(), _reference(A, R, (1.0, 3.0), -0.7, normalize), rtol=1e-5, atol=1e-6)


def test_mutual_trust_weighs_like_an_interaction_in_the_union() -> None:
    g = Graph()
    g.add_node_type("user", 3)
    g.add_node_type("item", 2)
    g.add_edges(INTERACTS, [0, 1, 2], [0, 1, 1])
    g.add_edges(TRUSTS, [0, 1, 1, 2], [1, 0, 2, 1])  # stored both ways
    got = fastrp(g, [INTERACTS, TRUSTS], dim=8, weights=(1.0, 1.0), beta=-0.5, s=1.5, normalize=False, seed=0)
    R_, T = _dense(g, INTERACTS), _dense(g, TRUSTS)
    A = np.block([[T, R_], [R_.T, np.zeros((2, 2))]])
    R = sparse_projection(5, 8, 1.5, seed=0).to_dense().double().numpy()
    np.testing.assert_allclose(got.double().numpy(), _reference(A, R, (1.0, 1.0), -0.5, False), rtol=1e-5, atol=1e-6)


@pytest.mark.gpu
def test_cuda_matches_cpu() -> None:
    rng = np.random.default_rng(1)
    g = _homogeneous(rng.integers(0, 300, 2000), rng.integers(0, 300, 2000), 300)
    cpu = fastrp(g, dim=32, seed=4, block_cols=8)
    gpu = fastrp(g.to("cuda"), dim=32, seed=4, block_cols=8)
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-4, atol=1e-5)
