"""Per-user random and temporal holdouts, validation carving: hand-checked cases and invariants."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import graphrec as gr
from graphrec.data import (
    Dataset,
    carve_validation,
    load,
    random_holdout,
    random_holdout_mask,
    split_by_mask,
    temporal_holdout_mask,
    temporal_leave_last_out,
)
from graphrec.graph import INTERACTS, TRUSTS, USER
from tests.conftest import need_dataset


def keys(g: gr.Graph) -> torch.Tensor:
    es = g.edges(INTERACTS)
    return es.row() * es.num_dst + es.indices.long()


def toy_graph(seed: int = 0, n_users: int = 50, n_items: int = 40) -> gr.Graph:
    """Users with 1..12 distinct items, weights, timestamps and a few trust edges."""
    rng = np.random.default_rng(seed)
    us, its = [], []
    for u in range(n_users):
        k = 1 + u % 12
        us += [u] * k
        its += rng.choice(n_items, size=k, replace=False).tolist()
    m = len(us)
    g = gr.Graph()
    g.add_node_type(USER, n_users)
    g.add_node_type("item", n_items)
    g.add_edges(INTERACTS, us, its, rng.random(m) + 0.5, rng.integers(0, 10**6, m))
    g.add_edges(TRUSTS, [0, 1, 2], [1, 2, 0])
    g.node_attrs[USER]["age"] = np.arange(n_users)
    g.meta["dataset"] = "toy"
    return g


# -------------------------------------------------------------------------- masks
def test_random_mask_hand_checked() -> None:
    users = [0, 0, 0, 0, 0, 1, 2, 2]
    m = random_holdout_mask(users, test_fraction=0.4, seed=1)
    # user 0: floor(0.4*5 + .5) = 2 held out; user 1 (one interaction): 0; user 2: floor(1.3) = 1
    assert m.dtype == bool and m.shape == (8,)
    assert int(m[:5].sum()) == 2 and not m[5] and int(m[6:].sum()) == 1


def test_random_mask_deterministic_and_seed_dependent() -> None:
    users = np.repeat(np.arange(200), 10)
    a = random_holdout_mask(users, 0.2, seed=7)
    assert np.array_equal(a, random_holdout_mask(users, 0.2, seed=7))
    assert not np.array_equal(a, random_holdout_mask(users, 0.2, seed=8))
    assert np.array_equal(np.bincount(users[a]), np.full(200, 2))


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.integers(0, 15), min_size=1, max_size=30),
    frac=st.floats(0.05, 0.95),
    seed=st.integers(0, 2**31),
)
def test_random_mask_invariants(counts: list[int], frac: float, seed: int) -> None:
    users = np.repeat(np.arange(len(counts)), counts)
    users = users[np.random.default_rng(seed).permutation(users.size)]  # interleaved input order
    m = random_holdout_mask(users, frac, seed)
    n = np.bincount(users, minlength=len(counts))
    held = np.bincount(users[m], minlength=len(counts))
    kept = n - held
    assert np.all(kept[n >= 1] >= 1)  # nobody loses every interaction
    assert np.array_equal(held, np.minimum(np.floor(frac * n + 0.5), np.maximum(n - 1, 0)).astype(int))


def test_random_mask_fraction_on_large_input() -> None:
    users = np.random.default_rng(0).integers(0, 3000, 200_000)
    m = random_holdout_mask(users, 0.2, seed=0)
    assert abs(m.mean() - 0.2) < 0.01


def test_mask_argument_errors() -> None:
    for bad in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="test_fraction"):
            random_holdout_mask([0, 0], bad)
    with pytest.raises(TypeError, match="integer"):
        random_holdout_mask([0.5, 1.0], 0.2)
    with pytest.raises(ValueError, match="n_last"):
        temporal_holdout_mask([0, 0], [1, 2], n_last=0)
    with pytest.raises(ValueError, match="shape"):
        temporal_holdout_mask([0, 0], [1, 2, 3])


def test_temporal_mask_hand_checked() -> None:
    users = [0, 0, 0, 1, 1, 2, 3, 3]
    ts = [5, 9, 7, 4, 4, 1, 8, 2]
    assert temporal_holdout_mask(users, ts).tolist() == [False, True, False, False, True, False, True, False]
    # n_last=2: user 0 holds 9 and 7; user 1 keeps one; user 3 keeps one
    assert temporal_holdout_mask(users, ts, n_last=2).tolist() == [False, True, True, False, True, False, True, False]


# ------------------------------------------------------------------ graph splits
def test_random_holdout_graph_invariants() -> None:
    g = toy_graph()
    ds = random_holdout(g, 0.25, seed=3)
    assert isinstance(ds, Dataset) and ds.name == "toy" and ds.info["seed"] == 3
    k_tr, k_te = keys(ds.train), keys(ds.test)
    assert not torch.isin(k_te, k_tr).any()  # no test pair in train
    assert torch.equal(torch.sort(torch.cat([k_tr, k_te])).values, keys(g))  # nothing lost
    deg = g.degree(INTERACTS)
    assert bool((ds.train.degree(INTERACTS)[deg >= 1] >= 1).all())
    # weights/timestamps follow their edges into test; trust and attributes stay on train
    full = {int(k): (float(w), int(t)) for k, w, t in zip(keys(g), g.edges(INTERACTS).weight, g.edges(INTERACTS).timestamp)}
    te = ds.test.edges(INTERACTS)
    assert all(full[int(k)] == (float(w), int(t)) for k, w, t in zip(k_te, te.weight, te.timestamp))
    assert ds.train.num_edges(TRUSTS) == 3 and ds.train.node_attrs[USER]["age"][7] == 7
    assert ds.test.id_map(USER) is ds.train.id_map(USER)
    again = random_holdout(g, 0.25, seed=3)
    assert torch.equal(keys(again.test), k_te)


def test_temporal_leave_last_out_graph() -> None:
    g = toy_graph(1)
    ds = temporal_leave_last_out(g)
    tr, te = ds.train.edges(INTERACTS), ds.test.edges(INTERACTS)
    n = g.degree(INTERACTS)
    assert torch.equal(ds.test.degree(INTERACTS), (n >= 2).long())
    last_train = torch.full((g.num_nodes(USER),), -1, dtype=torch.int64).scatter_reduce(0, tr.row(), tr.timestamp, "amax")
    assert bool((te.timestamp >= last_train[te.row()]).all())  # the test item is each user's latest
    no_ts = gr.Graph()
    no_ts.add_edges(INTERACTS, [1, 1], [2, 3], by="id")
    with pytest.raises(ValueError, match="timestamps"):
        temporal_leave_last_out(no_ts)


def test_split_by_mask_validates() -> None:
    g = toy_graph()
    with pytest.raises(ValueError, match="test_mask"):
        split_by_mask(g, np.zeros(3, dtype=bool))
    ds = split_by_mask(g, np.arange(g.num_edges(INTERACTS)) < 4, name="x")
    assert ds.summary()["test"] == 4 and ds.name == "x"


def test_carve_validation() -> None:
    ds = random_holdout(toy_graph(2), 0.2, seed=0)
    cv = carve_validation(ds, 0.3, seed=5)
    assert cv.test is ds.test and cv.name == ds.name
    assert cv.info["valid_fraction"] == 0.3 and cv.info["seed"] == 0
    k_tr, k_va, k_te = keys(cv.train), keys(cv.valid), keys(cv.test)
    assert not torch.isin(k_va, k_te).any() and not torch.isin(k_va, k_tr).any()
    assert torch.equal(torch.sort(torch.cat([k_tr, k_va])).values, keys(ds.train))  # from train only
    assert bool((cv.train.degree(INTERACTS)[ds.train.degree(INTERACTS) >= 1] >= 1).all())
    assert cv.train.num_edges(TRUSTS) == 3 and cv.valid.edges(INTERACTS).weight is not None
    assert torch.equal(keys(carve_validation(ds, 0.3, seed=5).valid), k_va)
    with pytest.raises(ValueError, match="already has a validation"):
        carve_validation(cv, 0.1)
    with pytest.raises(ValueError, match="fraction"):
        carve_validation(ds, 0.0)


def test_real_movielens_temporal_holds_latest(data_root: Path) -> None:
    need_dataset(data_root, "ml-100k")
    ds = load("ml-100k", root=data_root, split="temporal")
    tr, te = ds.train.edges(INTERACTS), ds.test.edges(INTERACTS)
    last_train = torch.zeros(ds.num_users, dtype=torch.int64).scatter_reduce(0, tr.row(), tr.timestamp, "amax")
    assert te.num_edges == 943 and bool((te.timestamp >= last_train[te.row()]).all())


def test_scalar_arguments_name_themselves_and_accept_numpy_scalars() -> None:
    users = np.repeat(np.arange(6), 5)
    ref = random_holdout_mask(users, 0.4, seed=3)
    assert np.array_equal(random_holdout_mask(users, np.float32(0.4), seed=np.int64(3)), ref)
    for bad in (float("nan"), float("inf"), "0.2", True):
        with pytest.raises(ValueError, match=r"test_fraction must be a finite number in \(0, 1\), got"):
            random_holdout_mask(users, bad)
    for bad in (-1, 1.5):  # numpy's "expected non-negative integer" used to surface without the name
        with pytest.raises(ValueError, match=rf"seed must be an integer in \[0, 18446744073709551615\], got {bad}"):
            random_holdout_mask(users, 0.2, seed=bad)
    ts = np.arange(users.size)
    assert np.array_equal(temporal_holdout_mask(users, ts, n_last=np.int64(2)), temporal_holdout_mask(users, ts, n_last=2))
    with pytest.raises(ValueError, match=r"n_last must be an integer >= 1, got 2.0"):
        temporal_holdout_mask(users, ts, n_last=2.0)
    g = toy_graph(3)
    ds = random_holdout(g, np.float64(0.25), np.int64(4))
    assert ds.info["test_fraction"] == 0.25 and type(ds.info["seed"]) is int
    assert torch.equal(keys(ds.test), keys(random_holdout(g, 0.25, 4).test))
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 18446744073709551615\], got -2"):
        random_holdout(g, 0.2, -2)
    assert type(temporal_leave_last_out(g, np.int64(1)).info["n_last"]) is int
    with pytest.raises(ValueError, match=r"fraction must be a finite number in \(0, 1\), got nan"):
        carve_validation(ds, float("nan"))
    cv = carve_validation(ds, np.float32(0.5), np.int64(1))
    assert cv.info["valid_seed"] == 1 and type(cv.info["valid_fraction"]) is float


def test_random_mask_rounds_exact_halves_up_despite_float_error() -> None:
    # 0.29 * 50 = 14.5 exactly, but 14.499999999999998 in floating point
    assert int(random_holdout_mask([0] * 50, test_fraction=0.29, seed=0).sum()) == 15
    assert int(random_holdout_mask([0] * 50, test_fraction=0.7, seed=0).sum()) == 35
    assert int(random_holdout_mask([0] * 15, test_fraction=0.7, seed=0).sum()) == 11  # 10.5 rounds up
    assert int(random_holdout_mask([0] * 10, test_fraction=0.25, seed=0).sum()) == 3  # 2.5 rounds up
