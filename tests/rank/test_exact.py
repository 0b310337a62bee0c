"""Exact PPR by batched power iteration against a dense linear solve."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from graphrec.graph import INTERACTS, TRUSTS, Graph
from graphrec.rank import power_iteration
from graphrec.walks import bipartite_engine

WEIGHTS = [0.1, 0.7, 1.3, 0.3, 2.9, 0.11, 0.7, 1.9, 0.13]  # sums that float32 cannot hold exactly


def tiny_graph(trust: bool = False, weighted: bool = False) -> Graph:
    g = Graph()
    g.add_node_type("user", 4)
    g.add_node_type("item", 6)  # item 5 has no interaction: a dangling node
    g.add_edges(INTERACTS, [0, 0, 1, 1, 2, 2, 3, 3, 3], [0, 1, 1, 2, 2, 3, 3, 4, 0], weight=WEIGHTS if weighted else None)
    if trust:
        g.add_edges(TRUSTS, [0, 2, 3], [3, 0, 1])
    return g


def dense_ppr(g: Graph, sources: list[int], c: float, trust: bool = False, weighted: bool = False) -> np.ndarray:
    """``c e_s (I - (1 - c) P_s)^-1`` with dangling rows sent back to the source."""
    nu, ni = g.num_nodes("user"), g.num_nodes("item")
    n = nu + ni
    A = np.zeros((n, n))
    es = g.edges(INTERACTS)
    r, i = es.coo()
    w = es.weight.double().tolist() if weighted else [1.0] * es.num_edges
    for a, b, x in zip(r.tolist(), i.tolist(), w):
        A[a, nu + b] += x
        A[nu + b, a] += x
    if trust:
        tr, tc = g.edges(TRUSTS).coo()
        for a, b in zip(tr.tolist(), tc.tolist()):
            A[a, b] += 1
    d = A.sum(1)
    P = np.divide(A, d[:, None], out=np.zeros_like(A), where=d[:, None] > 0)
    out = []
    for s in sources:
        e = np.zeros(n)
        e[s] = 1.0
        Ps = P.copy()
        Ps[d == 0] = e
        out.append(c * e @ np.linalg.inv(np.eye(n) - (1 - c) * Ps))
    return np.array(out)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("trust", [False, True])
@pytest.mark.parametrize("c", [0.15, 0.5])
def test_power_iteration_matches_dense_solve(trust, c, weighted):
    g = tiny_graph(trust, weighted)
    eng = bipartite_engine(g, trust=trust, weighted=weighted)
    sources = [0, 3, 4, 9]  # users 0, 3; item 0; dangling item 5
    x = power_iteration(eng, sources, alpha=c, tol=1e-13, max_iter=2000, dtype=torch.float64)
    ref = dense_ppr(g, sources, c, trust, weighted)
    assert np.abs(x.numpy() - ref).max() < 1e-10  # float64 all the way: out-weights too
    assert (x.sum(1) - 1).abs().max() < 1e-12
    # the dangling source keeps all its mass
    assert x[3, 9] == pytest.approx(1.0)


def test_float32_batches_and_graph_input_agree():
    g = tiny_graph()
    x1, info = power_iteration(g, [0, 1, 2, 3], tol=1e-6, batch_size=3, return_info=True)
    x2 = power_iteration(bipartite_engine(g), [0, 1, 2, 3], tol=1e-6, batch_size=4)
    assert len(info["iterations"]) == 2 and max(info["iterations"]) < 200
    assert x1.dtype == torch.float32 and x1.shape == (4, 10)
    assert torch.allclose(x1, x2, atol=1e-6)


def test_tolerance_bounds_the_error():
    g = tiny_graph()
    c, tol = 0.15, 1e-3
    x, info = power_iteration(g, [0, 2], alpha=c, tol=tol, dtype=torch.float64, return_info=True)
    ref = dense_ppr(g, [0, 2], c)
    err = np.abs(x.numpy() - ref).sum(1).max()
    assert err <= tol * (1 - c) / c + 1e-12
    assert info["change"][0] <= tol
    loose, info2 = power_iteration(g, [0, 2], alpha=c, tol=1e-1, dtype=torch.float64, return_info=True)
    assert info2["iterations"][0] < info["iterations"][0]
    assert np.abs(loose.numpy() - ref).sum(1).max() > err


def test_max_iter_caps_iterations():
    g = tiny_graph()
    _, info = power_iteration(g, [0], tol=1e-15, max_iter=7, return_info=True)
    assert info["iterations"] == [7]


def test_bad_input_raises():
    g = tiny_graph()
    with pytest.raises(ValueError, match="alpha"):
        power_iteration(g, [0], alpha=1.0)
    with pytest.raises(ValueError, match="tol"):
        power_iteration(g, [0], tol=0.0)
    with pytest.raises(IndexError):
        power_iteration(g, [10])
    with pytest.raises(TypeError):
        power_iteration("graph", [0])
    with pytest.raises(TypeError, match="dtype"):
        power_iteration(g, [0], dtype=torch.int64)


def test_arguments_name_themselves_and_numpy_scalars_are_numbers():
    g = tiny_graph()
    for kwargs, message in [
        ({"tol": float("nan")}, r"tol must be a finite number > 0, got nan"),
        ({"max_iter": 0}, r"max_iter must be an integer >= 1, got 0"),
        ({"max_iter": 2.5}, r"max_iter must be an integer >= 1, got 2.5"),
        ({"batch_size": 0}, r"batch_size must be an integer >= 1, got 0"),
        ({"alpha": float("inf")}, r"alpha must be a finite number in \(0, 1\), got inf"),
    ]:
        with pytest.raises(ValueError, match=message):
            power_iteration(g, [0], **kwargs)
    for flag in ("progress", "return_info"):
        with pytest.raises(TypeError, match=f"{flag} must be True or False"):
            power_iteration(g, [0], **{flag: "maybe"})
    got = power_iteration(g, [0, 2], alpha=np.float32(0.25), tol=np.float64(1e-9), max_iter=np.int64(400), batch_size=np.int32(1))
    torch.testing.assert_close(got, power_iteration(g, [0, 2], alpha=0.25, tol=1e-9, max_iter=400, batch_size=1))


def test_sources_must_be_integer_node_ids():
    g = tiny_graph()
    # non-integral or boolean ids used to be truncated silently (0.5 -> node 0, True -> node 1)
    for bad, message in [([0.5], "non-integral floats"), (torch.tensor([1.7]), "non-integral floats"), ([True], "booleans")]:
        with pytest.raises(TypeError, match=f"sources must be integers, got {message}"):
            power_iteration(g, bad)
    with pytest.raises(TypeError, match="sources must be numeric"):
        power_iteration(g, ["a"])
    with pytest.raises(IndexError, match=r"sources: index 12 \(position 1\) is out of range \[0, 10\)"):
        power_iteration(g, [3, 12])
    with pytest.raises(IndexError, match=r"sources: index -1 \(position 0\)"):
        power_iteration(g, [-1])
    # integral floats, numpy arrays and tensors of any integer dtype are node ids
    ref = power_iteration(g, [0, 4])
    for ok in ([0.0, 4.0], np.array([0, 4], dtype=np.uint8), torch.tensor([0, 4], dtype=torch.int32)):
        torch.testing.assert_close(power_iteration(g, ok), ref)
