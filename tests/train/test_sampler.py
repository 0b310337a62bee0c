"""Negative sampler: never a positive (property test), uniform over negatives, seeded."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graphrec.graph.store import INTERACTS, Graph
from graphrec.train.sampler import UniformNegativeSampler, epoch_pairs


def make_graph(n_users: int, n_items: int, pairs: list[tuple[int, int]]) -> Graph:
    g = Graph()
    g.add_node_type("user", n_users)
    g.add_node_type("item", n_items)
    if pairs:
        u, i = zip(*pairs)
        g.add_edges(INTERACTS, list(u), list(i))
    else:
        g.add_edges(INTERACTS, [], [])
    return g


@st.composite
def graphs(draw):
    """Random bipartite graphs where some users have seen all items but one."""
    n_items = draw(st.integers(2, 12))
    n_users = draw(st.integers(1, 6))
    pairs = []
    for u in range(n_users):
        if draw(st.booleans()):  # near-complete user: every item except one
            skip = draw(st.integers(0, n_items - 1))
            pairs += [(u, i) for i in range(n_items) if i != skip]
        else:
            items = draw(st.sets(st.integers(0, n_items - 1), max_size=n_items - 1))
            pairs += [(u, i) for i in sorted(items)]
    return n_users, n_items, pairs


@settings(max_examples=60, deadline=None)
@given(graphs(), st.sampled_from(["rejection", "inverse"]), st.integers(0, 2**31 - 1), st.integers(0, 3))
def test_never_returns_a_training_positive(spec, method, seed, max_rounds) -> None:
    n_users, n_items, pairs = spec
    g = make_graph(n_users, n_items, pairs)
    s = UniformNegativeSampler.from_graph(g, method=method, max_rounds=max_rounds)
    users = torch.arange(n_users).repeat(50)
    neg = s.sample(users, torch.Generator().manual_seed(seed))
    positives = set(pairs)
    assert neg.dtype == torch.int64 and neg.shape == users.shape
    assert bool(((neg >= 0) & (neg < n_items)).all())
    assert not any((int(u), int(i)) in positives for u, i in zip(users, neg))
    assert not bool(s.is_positive(users, neg).any())


def test_is_positive_by_hand() -> None:
    g = make_graph(2, 4, [(0, 1), (0, 3), (1, 0)])
    s = UniformNegativeSampler.from_graph(g)
    got = s.is_positive(torch.tensor([0, 0, 0, 0, 1, 1]), torch.tensor([0, 1, 2, 3, 0, 3]))
    assert got.tolist() == [False, True, False, True, True, False]


@pytest.mark.parametrize("method", ["rejection", "inverse"])
def test_uniform_over_each_users_negatives(method) -> None:
    # user 0 has 7 of 10 items: its negatives {2, 5, 9} must each get about 1/3
    g = make_graph(2, 10, [(0, i) for i in (0, 1, 3, 4, 6, 7, 8)] + [(1, 0)])
    s = UniformNegativeSampler.from_graph(g, method=method, max_rounds=1)
    neg = s.sample(torch.zeros(30000, dtype=torch.int64), torch.Generator().manual_seed(0))
    counts = torch.bincount(neg, minlength=10)
    assert set(torch.nonzero(counts).squeeze(1).tolist()) == {2, 5, 9}
    assert np.allclose(counts[[2, 5, 9]].numpy() / 30000, 1 / 3, atol=0.015)
    # user 1's nine negatives are items 1..9
    neg1 = s.sample(torch.ones(27000, dtype=torch.int64), torch.Generator().manual_seed(1))
    c1 = torch.bincount(neg1, minlength=10)
    assert c1[0] == 0 and np.allclose(c1[1:].numpy() / 27000, 1 / 9, atol=0.012)


def test_seeded_and_user_with_every_item_rejected() -> None:
    g = make_graph(3, 6, [(0, 0), (1, 2), (1, 3), (2, 5)])
    s = UniformNegativeSampler.from_graph(g)
    users = torch.tensor([0, 1, 2] * 20)
    a = s.sample(users, torch.Generator().manual_seed(9))
    b = s.sample(users, torch.Generator().manual_seed(9))
    assert torch.equal(a, b)
    full = make_graph(2, 3, [(0, 0), (1, 0), (1, 1), (1, 2)])
    with pytest.raises(ValueError, match="user index 1 has interacted with all 3 items"):
        UniformNegativeSampler.from_graph(full)
    with pytest.raises(ValueError, match="method"):
        UniformNegativeSampler.from_graph(g, method="popular")
    with pytest.raises(IndexError):
        s.sample(torch.tensor([3]))


def test_epoch_pairs_modes() -> None:
    pairs = [(0, 1), (0, 2), (1, 0), (2, 2), (2, 3), (2, 4)]
    g = make_graph(4, 5, pairs)  # user 3 has no interactions
    u, i = epoch_pairs(g, torch.Generator().manual_seed(0), mode="pairs")
    assert sorted(zip(u.tolist(), i.tolist())) == sorted(pairs)
    u2, i2 = epoch_pairs(g, torch.Generator().manual_seed(0), mode="users")
    assert u2.numel() == len(pairs) and 3 not in u2.tolist()
    assert all((a, b) in set(pairs) for a, b in zip(u2.tolist(), i2.tolist()))
    # user-uniform: many draws give each active user about a third
    big_u, _ = zip(*[epoch_pairs(g, torch.Generator().manual_seed(s), mode="users") for s in range(300)])
    share = torch.bincount(torch.cat(big_u), minlength=4).double() / (300 * len(pairs))
    assert torch.allclose(share[:3], torch.full((3,), 1 / 3, dtype=torch.float64), atol=0.03)
    with pytest.raises(ValueError, match="mode"):
        epoch_pairs(g, mode="items")


@pytest.mark.parametrize("method", ["rejection", "inverse"])
def test_a_multi_edge_is_one_positive(method) -> None:
    """Repeated (user, item) edges (``duplicates='keep'``) used to count as several positives: a user
    was refused as having every item, and the inversion returned positives or skipped negatives."""
    g = Graph()
    g.add_node_type("user", 3)
    g.add_node_type("item", 4)
    # user 0: item 2 twice (negatives 0, 1, 3); user 1: four edges on items 0 and 1 (negatives 2, 3)
    g.add_edges(INTERACTS, [0, 0, 1, 1, 1, 1, 2], [2, 2, 0, 0, 1, 1, 3], duplicates="keep")
    s = UniformNegativeSampler.from_graph(g, method=method, max_rounds=0)
    for user, negatives in ((0, [0, 1, 3]), (1, [2, 3])):
        neg = s.sample(torch.full((30000,), user), torch.Generator().manual_seed(user))
        counts = torch.bincount(neg, minlength=4)
        assert set(torch.nonzero(counts).squeeze(1).tolist()) == set(negatives)
        assert np.allclose(counts[negatives].numpy() / 30000, 1 / len(negatives), atol=0.015)


def test_bad_csr_and_arguments_are_named() -> None:
    """Unsorted columns or out-of-range items break the membership test the guarantee rests on."""
    indptr = torch.tensor([0, 2])
    with pytest.raises(ValueError, match="sorted within each row"):
        UniformNegativeSampler(indptr, torch.tensor([2, 1]), 4)
    with pytest.raises(IndexError, match=r"item index out of range \[0, 4\)"):
        UniformNegativeSampler(indptr, torch.tensor([1, 4]), 4)
    for bad in ({"max_rounds": True}, {"max_rounds": 1.5}, {"max_rounds": -1}, {"method": "popular"}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            UniformNegativeSampler(indptr, torch.tensor([0, 1]), 4, **bad)
