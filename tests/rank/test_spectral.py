"""Spectral tail of PPR: exact at full rank, error shrinking with rounds, reversibility gate, refresh."""

from __future__ import annotations

import functools
import itertools

import pytest
import torch

from graphrec.graph import INTERACTS
from graphrec.rank import PowerWalkIndex, build_index, is_reversible, power_iteration, spectral_tail
from graphrec.walks import bipartite_engine

from .graphs import l1, random_bipartite

bipartite = functools.partial(random_bipartite, n_users=40, n_items=25)


def exact(eng, sources, c=0.15):
    return power_iteration(eng, sources, alpha=c, tol=1e-12, dtype=torch.float64).float()


def test_full_rank_tail_is_exact_on_a_bipartite_walk():
    eng = bipartite_engine(bipartite(0))
    assert is_reversible(eng)
    n = eng.num_nodes
    tail = spectral_tail(eng, 2 * 25, 0.15)  # every non-zero eigenpair: the rest have lambda = 0
    assert tail.slabs == [(0, 40), (40, 65)] and tail.rank == 50
    lam = tail.eigenvalues
    assert float(lam.abs().max()) == pytest.approx(1.0, abs=1e-4)  # the stationary mode and its bipartite mirror
    sig = lam[:25]  # singular values of the user-item block, then their mirrors
    assert bool((sig[:-1] >= sig[1:] - 1e-6).all()) and torch.equal(lam[25:], -sig)
    x = torch.eye(n)  # every source: (x Pi)^T columns are PPR vectors
    assert torch.allclose(tail.apply(x).T, exact(eng, torch.arange(n)), atol=2e-5)


def test_full_rank_tail_is_exact_on_a_general_undirected_walk():
    eng = bipartite_engine(bipartite(1, trust="both"), trust=True)
    assert is_reversible(eng)
    n = eng.num_nodes
    tail = spectral_tail(eng, n, 0.15)
    assert tail.slabs == [(0, n)]
    assert torch.allclose(tail.apply(torch.eye(n)).T, exact(eng, torch.arange(n)), atol=5e-5)


def test_error_shrinks_with_rounds_at_low_rank_and_beats_the_fingerprint_tail():
    eng = bipartite_engine(bipartite(2, n_users=120, n_items=80, per_user=5))
    idx = build_index(eng, walks=64, top_m=16, walk_top_m=16, refine_top_m=16, refine=2, spectral_rank=24, seed=0)
    users = eng.global_ids("user", torch.arange(40))
    ref = exact(eng, users)
    err = [l1(idx.query(eng, users, rounds=r, tail="spectral"), ref) for r in range(5)]
    assert all(b < a for a, b in itertools.pairwise(err)), err
    assert err[4] < 0.3 * err[0]
    fp = l1(idx.query(eng, users, rounds=4, tail="fingerprint"), ref)
    assert err[4] < fp
    # 'auto' takes the spectral tail with its default rounds
    assert torch.equal(idx.query(eng, users), idx.query(eng, users, rounds=4, tail="spectral"))


def test_sparse_and_dense_rounds_agree(monkeypatch):
    import graphrec.rank.powerwalk as pw

    eng = bipartite_engine(bipartite(3))
    idx = build_index(eng, walks=8, top_m=8, refine=0, spectral_rank=10, seed=0)
    users = eng.global_ids("user", torch.arange(40))
    monkeypatch.setattr(pw, "_DENSE_SWITCH", 1e9)  # sparse frontiers all the way
    sparse = idx.query(eng, users, rounds=3)
    monkeypatch.setattr(pw, "_DENSE_SWITCH", 0.0)  # dense from the first round
    dense = idx.query(eng, users, rounds=3)
    assert torch.allclose(sparse, dense, atol=1e-6)
    batched = idx.query(eng, users, rounds=3, batch_size=7)  # strided column blocks of one output
    assert torch.allclose(batched, dense, atol=1e-6)
    tail = idx.spectral
    x = torch.zeros(eng.num_nodes, 5)
    x[:40] = torch.rand(40, 5)
    assert torch.allclose(tail.apply(x, live=[(0, 40)]), tail.apply(x), atol=1e-6)


def test_non_reversible_walks_get_no_spectral_tail():
    g = bipartite(4, trust="one-way")
    eng = bipartite_engine(g, trust=True)
    assert not is_reversible(eng)
    idx = build_index(eng, walks=8, top_m=8, refine=0)
    assert idx.spectral is None
    with pytest.raises(ValueError, match="no spectral tail"):
        idx.query(eng, [0], tail="spectral")
    assert idx.query(eng, [0]).shape == (1, eng.num_nodes)  # 'auto' falls back to the fingerprints
    with pytest.raises(ValueError, match="reversible"):
        build_index(eng, walks=8, top_m=8, refine=0, spectral_rank=8)
    with pytest.raises(ValueError, match="reversible"):
        spectral_tail(eng, 8, 0.15)


def test_bad_ranks_raise():
    eng = bipartite_engine(bipartite(5))
    with pytest.raises(ValueError, match="even"):
        spectral_tail(eng, 7, 0.15)
    with pytest.raises(ValueError, match="exceeds"):
        spectral_tail(eng, 52, 0.15)
    with pytest.raises(ValueError, match="rank"):
        spectral_tail(eng, 0, 0.15)
    with pytest.raises(ValueError, match="spectral_rank"):
        build_index(eng, spectral_rank=-1)
    idx = build_index(eng, walks=4, top_m=4, refine=0, spectral_rank=0)
    assert idx.spectral is None
    with pytest.raises(ValueError, match="tail"):
        idx.query(eng, [0], tail="lowrank")


def test_save_load_and_refresh_keep_the_tail_accurate(tmp_path):
    g = bipartite(6)
    eng = bipartite_engine(g)
    idx = build_index(eng, walks=16, top_m=8, refine=1, spectral_rank=50, seed=0)
    back = PowerWalkIndex.load(idx.save(tmp_path / "pw.pt"))
    assert back.spectral is not None and back.spectral.slabs == idx.spectral.slabs
    src = eng.global_ids("user", [0, 3, 7])
    assert torch.allclose(back.query(eng, src), idx.query(eng, src))
    # full rank: exact before and after new edges, once refreshed
    assert l1(idx.query(eng, src), exact(eng, src)) < 1e-4
    s, d = g.add_edges(INTERACTS, [0, 0, 3], [20, 21, 22])
    eng2 = bipartite_engine(g)
    idx.refresh(eng2, {"user": s, "item": d}, hops=0)
    assert l1(idx.query(eng2, src), exact(eng2, src)) < 1e-4


def test_powerwalk_recommender_defaults_match_exact_ppr():
    from graphrec.data.synthetic import make_dataset
    from graphrec.models import create

    data = make_dataset(seed=0)
    users = torch.arange(50)
    ppr = create("ppr", tol=1e-8).fit(data).score(users)
    pw = create("powerwalk", walks=16, top_m=32, walk_top_m=16, refine_top_m=32, refine=1).fit(data).score(users)
    top_ppr = torch.topk(ppr, 20, dim=1).indices
    top_pw = torch.topk(pw, 20, dim=1).indices
    overlap = (top_ppr.unsqueeze(2) == top_pw.unsqueeze(1)).any(2).float().mean()
    assert float(overlap) > 0.95


@pytest.mark.gpu
def test_spectral_query_cpu_and_cuda_agree():
    eng = bipartite_engine(bipartite(7))
    idx = build_index(eng, walks=8, top_m=8, refine=0, spectral_rank=50, seed=0)
    src = eng.global_ids("user", torch.arange(10))
    cpu = idx.query(eng, src)
    g_cuda = bipartite(7).to("cuda")
    eng_cuda = bipartite_engine(g_cuda)
    gpu = idx.to("cuda").query(eng_cuda, src.cuda()).cpu()
    assert torch.allclose(cpu, gpu, atol=1e-5)


def test_arguments_name_themselves_and_numpy_scalars_are_numbers():
    import numpy as np

    eng = bipartite_engine(bipartite(5))
    for args, kwargs, message in [
        ((2.0, 0.15), {}, r"rank must be an integer >= 1, got 2.0"),
        ((4, float("nan")), {}, r"alpha must be a finite number in \(0, 1\), got nan"),
        ((4, 0.15), {"niter": -1}, r"niter must be an integer >= 0, got -1"),
        ((4, 0.15), {"seed": 1.5}, r"seed must be an integer in \[0, 18446744073709551615\], got 1.5"),
    ]:
        with pytest.raises(ValueError, match=message):
            spectral_tail(eng, *args, **kwargs)
    a = spectral_tail(eng, np.int64(4), np.float32(0.25), niter=np.int64(3), seed=np.int64(1))
    b = spectral_tail(eng, 4, 0.25, niter=3, seed=1)
    assert a.rank == 4 and isinstance(a.alpha, float)
    torch.testing.assert_close(a.eigenvalues, b.eigenvalues)


def test_a_graph_is_walked_as_its_user_item_graph():
    from graphrec.rank import transition_matrix

    g = random_bipartite(21)
    eng = bipartite_engine(g)
    assert is_reversible(g)  # used to raise AttributeError on a Graph
    torch.testing.assert_close(transition_matrix(g).to_dense(), eng.transition_matrix().to_dense())
    torch.testing.assert_close(spectral_tail(g, 8, 0.2).eigenvalues, spectral_tail(eng, 8, 0.2).eigenvalues)
    with pytest.raises(TypeError, match="expected a Graph or WalkEngine, got str"):
        is_reversible("graph")
