"""The vectorised walk engine on tiny hand-checkable graphs."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

from graphrec.graph import INTERACTS, TRUSTS, Graph
from graphrec.walks import Move, WalkEngine, bipartite_engine, coalesce_visits
from tests.rank.graphs import random_bipartite


def small_bipartite(weight: bool = False) -> Graph:
    """users 0..2, items 0..3; item 3 has no interactions (dangling)."""
    g = Graph()
    g.add_node_type("user", 3)
    g.add_node_type("item", 4)
    u = [0, 0, 1, 1, 2]
    i = [0, 1, 1, 2, 2]
    g.add_edges(INTERACTS, u, i, weight=[1.0, 3.0, 1.0, 1.0, 1.0] if weight else None)
    return g


def test_node_space_and_transition_matrix_rows():
    g = small_bipartite()
    eng = bipartite_engine(g)
    assert eng.node_types == ["user", "item"]
    assert eng.offsets.tolist() == [0, 3, 7]
    P = eng.transition_matrix().to_dense()
    # user 0 -> items 0, 1 (global 3, 4) with 1/2 each; item 1 (global 4) -> users 0, 1
    assert torch.allclose(P[0], torch.tensor([0, 0, 0, 0.5, 0.5, 0, 0]))
    assert torch.allclose(P[4], torch.tensor([0.5, 0.5, 0, 0, 0, 0, 0]))
    rows = P.sum(1)
    assert torch.allclose(rows[:6], torch.ones(6))
    assert rows[6] == 0 and bool(eng.dangling[6]) and int(eng.dangling.sum()) == 1


def test_alternation_user_item_user():
    g = small_bipartite()
    eng = bipartite_engine(g)
    starts = eng.global_ids("user", [0, 1, 2] * 50)
    res = eng.walk(starts, length=6, record="paths", seed=3)
    paths = res.paths
    assert paths.shape == (150, 7)
    is_user = paths < 3
    assert bool(is_user[:, 0::2].all()) and bool((~is_user[:, 1::2]).all())
    # every consecutive pair is an edge of the interaction graph
    A = (eng.transition_matrix().to_dense() > 0)
    assert bool(A[paths[:, :-1].reshape(-1), paths[:, 1:].reshape(-1)].all())


def test_restart_stop_gives_geometric_lengths():
    g = small_bipartite()
    eng = bipartite_engine(g)
    c = 0.3
    W = 20000
    res = eng.walk(eng.global_ids("user", torch.zeros(W, dtype=torch.long)), restart=c, restart_mode="stop", record="none", seed=0)
    mean = res.lengths.double().mean().item()
    expected = (1 - c) / c
    se = math.sqrt(1 - c) / c / math.sqrt(W)
    assert abs(mean - expected) < 5 * se
    # P(length == 0) = c
    assert abs((res.lengths == 0).double().mean().item() - c) < 0.02


def test_restart_jump_frequency_matches_c():
    g = small_bipartite()
    eng = bipartite_engine(g)
    c = 0.25
    jumps = []

    def count(state):
        jumps.append(int(state.restarted[state.alive].sum()))

    W, L = 4000, 10
    eng.walk(eng.global_ids("user", torch.ones(W, dtype=torch.long)), length=L, restart=c, restart_mode="jump", hooks=[count], record="none", seed=1)
    frac = sum(jumps) / (W * L)
    assert abs(frac - c) < 5 * math.sqrt(c * (1 - c) / (W * L))


def test_jump_returns_to_start_node():
    g = small_bipartite()
    eng = bipartite_engine(g)
    start = int(eng.global_ids("user", [2]))
    starts = torch.full((300,), start)
    res = eng.walk(starts, length=8, restart=0.5, restart_mode="jump", record="paths", seed=5)
    p = res.paths
    A = eng.transition_matrix().to_dense() > 0
    prev, nxt = p[:, :-1].reshape(-1), p[:, 1:].reshape(-1)
    is_edge = A[prev, nxt]
    # every transition is an edge of the graph or a jump back to the start node
    assert bool((is_edge | (nxt == start)).all())
    # and jumps happen: some transitions into the start node are not edges
    assert bool((~is_edge).any())
    # user 0 is two user-hops away (2 -> item 2 -> user 1 -> item 1 -> user 0): reached sometimes
    assert bool((p == 0).any())


def test_seeded_determinism():
    g = small_bipartite()
    eng = bipartite_engine(g)
    starts = eng.global_ids("user", [0, 1, 2] * 100)
    a = eng.walk(starts, length=12, record=["paths", "visits"], seed=11)
    b = eng.walk(starts, length=12, record=["paths", "visits"], seed=11)
    c = eng.walk(starts, length=12, record=["paths", "visits"], seed=12)
    assert torch.equal(a.paths, b.paths)
    assert torch.equal(a.visits.to_dense(), b.visits.to_dense())
    assert not torch.equal(a.paths, c.paths)
    gen = torch.Generator().manual_seed(11)
    d = eng.walk(starts, length=12, record="paths", generator=gen)
    assert torch.equal(a.paths, d.paths)


def _chain_with_dead_end() -> WalkEngine:
    # user 0 -> user 1 -> user 2; user 2 has no out-edge (dangling)
    g = Graph()
    g.add_node_type("user", 3)
    g.add_edges(TRUSTS, [0, 1], [1, 2])
    return WalkEngine(g, [Move(TRUSTS)])


def test_dangling_restart_and_stop():
    eng = _chain_with_dead_end()
    assert eng.dangling.tolist() == [False, False, True]
    r = eng.walk([0], length=6, dangling="restart", record="paths")
    assert r.paths[0].tolist() == [0, 1, 2, 0, 1, 2, 0]
    s = eng.walk([0], length=6, dangling="stop", record="paths")
    assert s.paths[0].tolist() == [0, 1, 2, -1, -1, -1, -1]
    assert s.lengths.tolist() == [2]
    # a walk starting on the dangling node under 'restart' stays put
    z = eng.walk([2], length=3, dangling="restart", record="paths")
    assert z.paths[0].tolist() == [2, 2, 2, 2]


def test_hook_can_terminate_walkers():
    g = small_bipartite()
    eng = bipartite_engine(g)
    n_users = 3

    def stop_on_items(state):
        return state.pos < n_users  # keep only walkers standing on users

    starts = eng.global_ids("user", [0, 1, 2] * 20)
    res = eng.walk(starts, length=10, hooks=[stop_on_items], record=["paths", "visits"], seed=0)
    assert res.lengths.tolist() == [1] * 60
    assert bool((res.paths[:, 1] >= n_users).all()) and bool((res.paths[:, 2:] == -1).all())
    # the start and the single item visit are recorded: two visits per walker
    assert float(res.visits.values().sum()) == 120.0


def test_hook_weights_decay_visits():
    g = small_bipartite()
    eng = bipartite_engine(g)

    def halve(state):
        return torch.full_like(state.weight, 0.5)

    res = eng.walk(eng.global_ids("user", [0]), length=4, hooks=[halve], record="visits", seed=0)
    # weights 1 (start), 1/2, 1/4, 1/8, 1/16
    assert abs(float(res.visits.values().sum()) - (1 + 0.5 + 0.25 + 0.125 + 0.0625)) < 1e-6


def test_visits_match_paths_and_record_types():
    g = small_bipartite()
    eng = bipartite_engine(g)
    starts = eng.global_ids("user", [0, 1, 2, 0])
    res = eng.walk(starts, length=9, restart=0.2, restart_mode="jump", record=["paths", "visits"], seed=4)
    dense = res.visits.to_dense()
    for w in range(4):
        p = res.paths[w]
        counts = torch.bincount(p[p >= 0], minlength=eng.num_nodes).float()
        assert torch.equal(dense[w], counts)
    items_only = eng.walk(starts, length=9, restart=0.2, restart_mode="jump", record="visits", record_types=["item"], seed=4)
    d2 = items_only.visits.to_dense()
    assert float(d2[:, :3].sum()) == 0.0
    assert torch.equal(d2[:, 3:], dense[:, 3:])


def test_rows_aggregate_walkers_of_one_source():
    g = small_bipartite()
    eng = bipartite_engine(g)
    starts = eng.global_ids("user", [0] * 30 + [2] * 30)
    rows = torch.tensor([0] * 30 + [1] * 30)
    res = eng.walk(starts, length=3, rows=rows, num_rows=2, record="visits", seed=0)
    assert res.visits.shape == (2, eng.num_nodes)
    assert res.visits.to_dense().sum(1).tolist() == [120.0, 120.0]  # 30 walkers x 4 visits


def test_weighted_sampling_follows_weights():
    g = small_bipartite(weight=True)
    eng = bipartite_engine(g, weighted=True)
    W = 20000
    res = eng.walk(eng.global_ids("user", torch.zeros(W, dtype=torch.long)), length=1, record="paths", seed=0)
    heavy = (res.paths[:, 1] == eng.global_ids("item", [1])).double().mean().item()
    assert abs(heavy - 0.75) < 5 * math.sqrt(0.75 * 0.25 / W)
    P = eng.transition_matrix().to_dense()
    assert torch.allclose(P[0, 3:5], torch.tensor([0.25, 0.75]))


def test_weighted_steps_match_every_row_of_the_chain():
    # skewed and near-uniform rows: proposals accepted by p / max p, the rest by inverse CDF
    g = Graph()
    g.add_node_type("user", 3)
    g.add_node_type("item", 5)
    g.add_edges(INTERACTS, [0, 0, 0, 0, 1, 1, 1, 2, 2], [0, 1, 2, 3, 0, 1, 4, 3, 4],
                weight=[1.0, 1.0, 1.0, 1e-3, 50.0, 1.0, 0.5, 1.0, 1.05])
    eng = bipartite_engine(g, weighted=True)
    P = eng.transition_matrix().to_dense().double()
    W = 40000
    for v in range(eng.num_nodes):
        res = eng.walk(torch.full((W,), v), length=1, record="paths", seed=v)
        freq = torch.bincount(res.paths[:, 1], minlength=eng.num_nodes).double() / W
        sd = torch.sqrt(P[v] * (1 - P[v]) / W)
        assert bool((freq - P[v]).abs().le(5 * sd + 1e-12).all()), (v, freq, P[v])


def test_weighted_sampling_keys_rise_to_exact_row_ends():
    from graphrec.walks.engine import _row_keys

    indptr = torch.tensor([0, 3, 3, 5])
    keys = _row_keys(indptr, torch.tensor([0, 0, 0, 2, 2]), torch.tensor([0.2, 0.3, 0.5, 0.9, 0.1]))
    assert torch.allclose(keys, torch.tensor([0.2, 0.5, 1.0, 2.9, 3.0], dtype=torch.float64))
    assert keys[2].item() == 1.0 and keys[4].item() == 3.0
    assert bool((keys[1:] > keys[:-1]).all())


def _trust_graph() -> Graph:
    g = Graph()
    g.add_node_type("user", 3)
    g.add_node_type("item", 2)
    g.add_edges(INTERACTS, [0, 1, 2], [0, 0, 1])
    g.add_edges(TRUSTS, [0, 0, 0, 1], [1, 2, 1, 0], duplicates="keep")
    return g


def test_trust_mixing_by_degree_and_fixed_probability():
    g = _trust_graph()
    W = 20000
    eng = bipartite_engine(g, trust=True)  # user 0: 1 interaction + 3 trust edges (one repeated)
    res = eng.walk(eng.global_ids("user", torch.zeros(W, dtype=torch.long)), length=1, record="paths", seed=0)
    to_user = (res.paths[:, 1] < 3).double().mean().item()
    assert abs(to_user - 0.75) < 0.02
    eng2 = bipartite_engine(g, trust=True, trust_prob=0.2)
    res2 = eng2.walk(eng2.global_ids("user", torch.zeros(W, dtype=torch.long)), length=1, record="paths", seed=0)
    assert abs((res2.paths[:, 1] < 3).double().mean().item() - 0.2) < 0.02
    # user 2 has no trust edge: it always takes its interaction edge
    res3 = eng2.walk(eng2.global_ids("user", torch.full((500,), 2)), length=1, record="paths", seed=0)
    assert bool((res3.paths[:, 1] == eng2.global_ids("item", [1])).all())
    P = eng2.transition_matrix().to_dense()
    assert torch.allclose(P.sum(1), torch.ones(5))


def test_transition_transpose_matches_matrix():
    g = _trust_graph()
    eng = bipartite_engine(g, trust=True)
    P = eng.transition_matrix().to_dense()
    PT = torch.zeros_like(P)
    offs = eng.offsets.tolist()
    for d, s, m in eng.transition_transpose():
        PT[offs[d] : offs[d + 1], offs[s] : offs[s + 1]] += m.to_dense()
    assert torch.allclose(PT, P.T)


def test_expand_one_step_of_distribution():
    eng = _chain_with_dead_end()
    rows = torch.tensor([0, 0, 1])
    nodes = torch.tensor([0, 2, 1])
    vals = torch.tensor([0.5, 0.5, 1.0])
    r, n, v = eng.expand(rows, nodes, vals, restart_to=torch.tensor([0, 1]))
    out = coalesce_visits(r, n, v, 2, 3).to_dense()
    # row 0: 0.5 from node 0 -> 1, 0.5 dangling at 2 -> back to source 0; row 1: 1 -> 2
    assert torch.allclose(out, torch.tensor([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]))


def test_bad_arguments_raise():
    g = small_bipartite()
    eng = bipartite_engine(g)
    with pytest.raises(ValueError, match="restart"):
        eng.walk([0], restart=1.0, length=2)
    with pytest.raises(ValueError, match="length is required"):
        eng.walk([0])
    with pytest.raises(ValueError, match="restart_mode"):
        eng.walk([0], length=2, restart_mode="bounce")
    with pytest.raises(ValueError, match="dangling"):
        eng.walk([0], length=2, dangling="wait")
    with pytest.raises(ValueError, match="paths"):
        eng.walk([0], restart=0.5, record="paths")
    with pytest.raises(IndexError):
        eng.walk([7], length=1)
    with pytest.raises(ValueError, match="prob"):
        WalkEngine(g, [Move(INTERACTS, prob=0.0)])
    with pytest.raises(ValueError, match="mix"):
        WalkEngine(g, [Move(INTERACTS)], mix="random")
    with pytest.raises(KeyError):
        WalkEngine(g, [Move(TRUSTS)])
    with pytest.raises(ValueError, match="trust_prob"):
        bipartite_engine(_trust_graph(), trust=True, trust_prob=1.5)


def test_arguments_name_themselves_and_numpy_scalars_are_numbers():
    import numpy as np

    g = small_bipartite()
    eng = bipartite_engine(g)
    for kwargs, message in [
        ({"restart": float("nan"), "length": 2}, r"restart must be a finite number in \[0, 1\), got nan"),
        ({"length": 2.5}, r"length must be an integer >= 0, got 2.5"),
        ({"length": -1}, r"length must be an integer >= 0, got -1"),
        ({"restart": 0.5, "max_steps": 0}, r"max_steps must be an integer >= 1, got 0"),
        ({"length": 2, "seed": 1.5}, r"seed must be an integer in \[0, 18446744073709551615\], got 1.5"),
        ({"length": 2, "rows": [0], "num_rows": 1.0}, r"num_rows must be an integer >= 0, got 1.0"),
    ]:
        with pytest.raises(ValueError, match=message):
            eng.walk([0], **kwargs)
    with pytest.raises(TypeError, match="record_start must be True or False"):
        eng.walk([0], length=2, record_start="maybe")
    with pytest.raises(TypeError, match="weighted must be True or False, got 'maybe'"):
        WalkEngine(g, [Move(INTERACTS), Move(INTERACTS, True)], weighted="maybe")
    with pytest.raises(TypeError, match="weighted must be True or False"):
        bipartite_engine(g, weighted=1)
    with pytest.raises(ValueError, match=r"prob must be a finite number > 0, got inf"):
        WalkEngine(g, [Move(INTERACTS, prob=math.inf)])
    with pytest.raises(ValueError, match=r"trust_prob must be a finite number in \(0, 1\), got nan"):
        bipartite_engine(_trust_graph(), trust=True, trust_prob=math.nan)
    a = eng.walk([0, 1], length=np.int64(3), restart=np.float32(0.25), restart_mode="jump", seed=np.int64(5), record="paths")
    b = eng.walk([0, 1], length=3, restart=0.25, restart_mode="jump", seed=5, record="paths")
    assert torch.equal(a.paths, b.paths)
    assert bipartite_engine(g, weighted=np.bool_(True)).weighted is True
    assert bipartite_engine(_trust_graph(), trust=True, trust_prob=np.float64(0.5)).mix == "fixed"


def test_trust_must_be_a_bool_or_an_edge_type():
    import numpy as np

    g = _trust_graph()
    for bad in [1, 0, 2.0, None]:
        with pytest.raises(TypeError, match=rf"trust must be True or False, got {bad!r}"):
            bipartite_engine(g, trust=bad)
    base = bipartite_engine(g, trust=True).transition_matrix().to_dense()
    for ok in [np.bool_(True), "trusts", TRUSTS, list(TRUSTS)]:
        assert torch.equal(bipartite_engine(g, trust=ok).transition_matrix().to_dense(), base)
    assert len(bipartite_engine(g, trust=np.bool_(False)).moves) == 2


def test_moves_resolve_relation_names_and_check_reverse():
    g = small_bipartite()
    eng = WalkEngine(g, [Move("interacts"), Move("interacts", reverse=True)])
    assert eng.node_types == ["user", "item"] and eng.moves[0].move.etype == INTERACTS
    assert torch.equal(eng.transition_matrix().to_dense(), bipartite_engine(g).transition_matrix().to_dense())
    gen = WalkEngine(g, (m for m in [Move(INTERACTS), Move(INTERACTS, True)]))  # any iterable of moves
    assert len(gen.moves) == 2 and gen.num_nodes == 7
    with pytest.raises(TypeError, match=r"Move \('user', 'interacts', 'item'\) reverse must be True or False, got 'no'"):
        WalkEngine(g, [Move(INTERACTS, reverse="no")])


def test_zero_weight_edges_carry_no_walkers():
    # user 0's only edges (to items 0, 1) weigh 0: it is dangling, and so is item 0
    g = Graph()
    g.add_node_type("user", 3)
    g.add_node_type("item", 4)
    g.add_edges(INTERACTS, [0, 0, 1, 1, 2], [0, 1, 1, 2, 2], weight=[0.0, 0.0, 1.0, 1.0, 1.0])
    eng = bipartite_engine(g, weighted=True)
    assert eng.dangling.tolist() == [True, False, False, True, False, False, True]
    P = eng.transition_matrix()
    crow = P.crow_indices()
    assert bool(((crow[1:] - crow[:-1] == 0) == eng.dangling).all())  # dangling rows are empty
    assert bool((P.values() > 0).all())
    res = eng.walk(torch.zeros(200, dtype=torch.long), length=3, record="paths", seed=0)
    assert bool((res.paths == 0).all())  # restarts in place, never along a zero-weight edge
    stop = eng.walk([0], length=3, dangling="stop", record="paths")
    assert stop.paths[0].tolist() == [0, -1, -1, -1] and stop.lengths.tolist() == [0]


def test_starts_rows_and_local_ids_are_checked():
    import numpy as np

    g = small_bipartite()
    eng = bipartite_engine(g)
    with pytest.raises(TypeError, match="starts must be integers, got non-integral floats"):
        eng.walk([0.7, 1.2], length=1)
    with pytest.raises(TypeError, match="starts must be integers, got booleans"):
        eng.walk(torch.tensor([True, False]), length=1)
    with pytest.raises(TypeError, match="starts must be numeric"):
        eng.walk(["u1"], length=1)
    with pytest.raises(IndexError, match=r"starts: index 7 \(position \d+\) is out of range \[0, 7\)"):
        eng.walk([0, 7], length=1)
    with pytest.raises(IndexError, match=r"starts: index -1 \(position \d+\) is out of range"):
        eng.walk([-1], length=1)
    with pytest.raises(IndexError, match=r"rows: index -1 \(position \d+\) is out of range"):
        eng.walk([0, 1], length=1, rows=[-1, 0])
    with pytest.raises(TypeError, match="rows must be integers"):
        eng.walk([0, 1], length=1, rows=[0.5, 1.5])
    with pytest.raises(ValueError, match="num_rows=1 is below the 3 walkers"):
        eng.walk([0, 1, 2], length=1, num_rows=1)
    with pytest.raises(TypeError, match="user ids must be integers"):
        eng.global_ids("user", [1.7])
    with pytest.raises(IndexError, match=r"user ids: index 5 \(position \d+\) is out of range \[0, 3\)"):
        eng.global_ids("user", [0, 5])
    # integer-valued arrays of any kind still work, and global_ids keeps the shape
    a = eng.walk(np.array([0.0, 1.0]), length=3, record="paths", seed=2)
    b = eng.walk(torch.tensor([0, 1], dtype=torch.int32), length=3, record="paths", seed=2)
    assert torch.equal(a.paths, b.paths)
    assert eng.global_ids("item", [[0, 1]]).tolist() == [[3, 4]]
    assert eng.walk([0, 1], length=1, num_rows=4).visits.shape == (4, 7)


def test_record_types_hooks_and_generator_are_checked():
    g = small_bipartite()
    eng = bipartite_engine(g)
    with pytest.raises(KeyError, match="node type 'movie' is not in this walk's node space"):
        eng.walk([0], length=2, record_types=["movie"])
    with pytest.raises(KeyError, match="node type 'movie'"):
        eng.type_slice("movie")
    one = eng.walk([0, 1], length=4, record_types="item", seed=1).visits.to_dense()
    assert torch.equal(one, eng.walk([0, 1], length=4, record_types=["item"], seed=1).visits.to_dense())
    with pytest.raises(ValueError, match="record must be 'visits', 'paths' or 'none', got None"):
        eng.walk([0], length=2, record=None)
    with pytest.raises(TypeError, match="hooks must be callables, got int"):
        eng.walk([0], length=2, hooks=[3])
    with pytest.raises(TypeError, match="generator must be a torch.Generator, got int"):
        eng.walk([0], length=2, generator=5)
    halve = eng.walk([0], length=2, hooks=lambda s: torch.full_like(s.weight, 0.5))  # one callable
    assert abs(float(halve.visits.values().sum()) - 1.75) < 1e-6


def test_steps_is_the_longest_walk():
    g = small_bipartite()
    eng = bipartite_engine(g)
    res = eng.walk([0] * 50, restart=0.4, seed=0, record="none")
    assert res.steps == int(res.lengths.max())
    dead = _chain_with_dead_end().walk([0], length=6, dangling="stop", record="none")
    assert dead.steps == 2 and dead.lengths.tolist() == [2]
    assert eng.walk([], length=3).steps == 0


def test_walks_cut_by_max_steps_warn() -> None:
    eng = bipartite_engine(random_bipartite(0))
    with pytest.warns(RuntimeWarning, match=r"walks reached max_steps=10 and were cut there"):
        res = eng.walk(torch.arange(5), restart=0.01, restart_mode="stop", max_steps=10)
    assert int(res.lengths.max()) == 10
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eng.walk(torch.arange(5), restart=0.5, restart_mode="stop")  # ends long before the cap: no warning


def test_trust_prob_without_trust_is_refused() -> None:
    g = random_bipartite(0, trust="both")
    with pytest.raises(ValueError, match=r"trust_prob=0.3 applies to trust edges, but trust is off"):
        bipartite_engine(g, trust_prob=0.3)
    assert bipartite_engine(g, trust=True, trust_prob=0.3).mix == "fixed"
