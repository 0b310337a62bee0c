"""The contract every registered model meets, checked over the whole registry.

A layer that registers a model is covered here automatically: save → load gives identical
lists (on the CPU, and CUDA when present); after the graph grows a fitted model either
answers for the new state (``update``) without returning a seen item, or raises
:class:`GraphChangedError`; ``recommend`` never returns an excluded item.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import torch

import graphrec as gr
from graphrec.data.synthetic import make_dataset
from graphrec.graph.store import INTERACTS, TRUSTS
from graphrec.models import GraphChangedError, available, create, load
from graphrec.models.base import PAD_INDEX

NAMES = available()

#: tiny, fast settings per model (the rest: its demo_params)
FAST: dict[str, dict[str, Any]] = {
    "mf": {"epochs": 3, "dim": 8, "patience": None, "batch": 256},
    "lightgcn": {"epochs": 3, "dim": 8, "patience": None, "batch": 256, "reg": 1e-4},
    "rlmrec-con": {"epochs": 2, "dim": 8, "patience": None, "batch": 256},
    "rlmrec-gen": {"epochs": 2, "dim": 8, "patience": None, "batch": 256},
    "gfcf": {"alpha": 0.3, "k": 8, "sharpen": 0.0},
    "powerwalk": {"walks": 8, "top_m": 16, "walk_top_m": 8, "refine_top_m": 16, "refine": 1},
}


@pytest.fixture(scope="module")
def data() -> Any:
    return make_dataset(num_users=60, num_items=40, avg_degree=6, seed=3)


def fitted(name: str, data: Any) -> Any:
    from graphrec.models.registry import REGISTRY

    params = dict(FAST.get(name, getattr(REGISTRY[name], "demo_params", {}) or {}))
    if name.startswith("rlmrec"):
        g = torch.Generator().manual_seed(0)
        nu, ni = data.train.num_nodes("user"), data.train.num_nodes("item")
        params["semantic"] = (torch.randn(nu, 12, generator=g), torch.randn(ni, 12, generator=g))
    return create(name, **params).fit(data)


@pytest.mark.parametrize("name", NAMES)
def test_save_load_identical(name: str, data: Any, tmp_path: Any) -> None:
    model = fitted(name, data)
    users = data.train.id_map("user").to_external(np.arange(20))
    want_i, want_s = model.recommend(users, k=10)
    model.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["name"] == name and meta["version"] == 1
    again = load(tmp_path / "m")
    got_i, got_s = again.recommend(users, k=10)
    np.testing.assert_array_equal(got_i, want_i)
    np.testing.assert_array_equal(got_s, want_s)
    # the same with the caller's graph instead of the saved one
    again2 = load(tmp_path / "m", graph=data.train)
    np.testing.assert_array_equal(again2.recommend(users, k=10)[0], want_i)


@pytest.mark.gpu
@pytest.mark.parametrize("name", NAMES)
def test_save_on_cpu_load_on_cuda(name: str, data: Any, tmp_path: Any) -> None:
    model = fitted(name, data)
    users = data.train.id_map("user").to_external(np.arange(20))
    want_i, want_s = model.recommend(users, k=10)
    model.save(tmp_path / "m")
    again = load(tmp_path / "m", device="cuda")
    assert again.device.type == "cuda"
    got_i, got_s = again.recommend(users, k=10)
    np.testing.assert_allclose(got_s, want_s, rtol=1e-4, atol=1e-5)
    assert (got_i == want_i).mean() > 0.9  # near-ties may swap between devices


def grow(train: Any) -> tuple[str, str]:
    """Add a new user (with a seen existing item and a new item), and a new edge for user 0."""
    users = train.id_map("user")
    items = train.id_map("item")
    u0, i0, i1 = users.to_external(np.array([0]))[0], items.to_external(np.array([0]))[0], items.to_external(np.array([1]))[0]
    new_user = "new-user" if users.is_str else int(users.to_external(np.arange(len(users))).max()) + 1
    new_item = "new-item" if items.is_str else int(items.to_external(np.arange(len(items))).max()) + 1
    es = train.edges(INTERACTS)
    kw: dict[str, Any] = {}
    if es.weight is not None:
        kw["weight"] = [1.0, 1.0, 1.0]
    if es.timestamp is not None:
        kw["timestamp"] = [int(es.timestamp.max()) + 1] * 3
    train.add_edges(INTERACTS, [new_user, new_user, u0], [i0, new_item, i1], by="id", **kw)
    return new_user, i0


@pytest.mark.parametrize("name", NAMES)
def test_growth_updates_or_refuses(name: str, tmp_path: Any) -> None:
    data = make_dataset(num_users=60, num_items=40, avg_degree=6, seed=3)
    model = fitted(name, data)
    model.save(tmp_path / "before")
    new_user, seen_item = grow(data.train)
    if not model.supports_update:
        with pytest.raises(GraphChangedError, match="fit it again"):
            model.recommend([new_user], k=5)
        with pytest.raises(GraphChangedError):
            model.update()
        with pytest.raises(GraphChangedError):
            gr.evaluate(model, data, k=[5])
        with pytest.raises(GraphChangedError):
            load(tmp_path / "before", graph=data.train).recommend([new_user], k=5)
        return
    with pytest.raises(GraphChangedError, match="update"):
        model.recommend([new_user], k=5)
    model.update()
    items, scores = model.recommend([new_user], k=200)
    assert seen_item not in set(items[0].tolist())
    n_items = data.train.num_nodes("item")
    assert items.shape[1] == n_items - 2  # every unseen item, nothing seen, no padding for one user
    assert np.isfinite(scores).all()
    # a model saved before the growth, loaded with the grown graph, updates the same way
    old = load(tmp_path / "before", graph=data.train)
    with pytest.raises(GraphChangedError):
        old.recommend([new_user], k=5)
    old.update()
    assert seen_item not in set(old.recommend([new_user], k=200)[0][0].tolist())


@pytest.mark.parametrize("name", ["mostpop", "itemknn", "ppr"])
def test_update_matches_refit(name: str) -> None:
    data = make_dataset(num_users=60, num_items=40, avg_degree=6, seed=3)
    model = fitted(name, data)
    grow(data.train)
    model.update()
    users = data.train.id_map("user").to_external(np.arange(data.train.num_nodes("user")))
    again = fitted(name, data)
    np.testing.assert_array_equal(model.recommend(users, k=10)[0], again.recommend(users, k=10)[0])


def test_powerwalk_update_refreshes_only_touched_nodes() -> None:
    data = make_dataset(num_users=60, num_items=40, avg_degree=6, seed=3)
    model = fitted("powerwalk", data)
    grow(data.train)
    model.update()
    assert model.index.num_nodes == data.train.num_nodes("user") + data.train.num_nodes("item")
    assert model.index.params.get("refreshes") == 1


def test_topk_never_returns_excluded_items(data: Any) -> None:
    model = fitted("itemknn", data)
    users = data.train.id_map("user").to_external(np.arange(5))
    n_items = data.train.num_nodes("item")
    items, scores = model.recommend(users, k=1000)
    es = data.train.edges(INTERACTS)
    degrees = es.degree("src")[:5]
    assert items.shape[1] == n_items - int(degrees.min())  # columns no user can fill are dropped
    for row in range(5):
        seen = set(data.train.id_map("item").to_external(es.indices[es.indptr[row]:es.indptr[row + 1]].numpy()).tolist())
        real = [x for x in items[row].tolist() if x is not None]
        assert not seen & set(real)
        assert len(real) == n_items - len(seen)
        assert np.isfinite(scores[row, : len(real)]).all() and np.isneginf(scores[row, len(real):]).all()
    idx, _ = model.recommend_indices(torch.arange(5), k=1000)
    assert idx.shape == (5, n_items) and int((idx == PAD_INDEX).sum()) == int(degrees.sum())


def test_filter_items_never_returned(data: Any) -> None:
    model = fitted("mostpop", data)
    top = model.recommend([data.train.id_map("user").to_external(np.array([0]))[0]], k=3)[0][0]
    again = model.recommend([data.train.id_map("user").to_external(np.array([0]))[0]], k=3, filter_items=top[:2])[0][0]
    assert not set(top[:2]) & set(again.tolist())


def test_fit_refuses_other_inputs() -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"user": ["a"], "item": ["x"]})
    with pytest.raises(TypeError, match="Graph or Dataset, got DataFrame.*from_frame"):
        create("mostpop").fit(df)
    with pytest.raises(TypeError, match="got list"):
        create("mostpop").fit([1, 2])


def test_load_refuses_other_versions(data: Any, tmp_path: Any) -> None:
    fitted("mostpop", data).save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    meta["version"] = 99
    (tmp_path / "m" / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="format version 99"):
        load(tmp_path / "m")
    with pytest.raises(FileNotFoundError, match="not a saved graphrec model"):
        load(tmp_path / "nothing")


def test_save_without_graph_needs_graph(data: Any, tmp_path: Any) -> None:
    fitted("mostpop", data).save(tmp_path / "m", include_graph=False)
    assert not (tmp_path / "m" / "graph").exists()
    with pytest.raises(ValueError, match="pass graph="):
        load(tmp_path / "m")
    assert load(tmp_path / "m", graph=data).recommend(data.train.id_map("user").to_external(np.arange(2)), k=3)[0].shape == (2, 3)


def test_trust_growth_concerns_only_trust_models(tmp_path: Any) -> None:
    data = make_dataset(num_users=60, num_items=40, avg_degree=6, seed=3)
    model = fitted("mf", data)
    if data.train.has_edge_type(TRUSTS):
        data.train.add_edges(TRUSTS, [0], [1], by="index", duplicates="keep")
    else:
        data.train.add_edges(TRUSTS, [0], [1], by="index")
    model.recommend(data.train.id_map("user").to_external(np.arange(2)), k=3)  # interactions unchanged: still serves


def test_params_show_chosen_reg(data: Any) -> None:
    model = create("lightgcn", epochs=2, dim=8, batch=256, eval_every=1, reg=[1e-4, 1e-3], refit=False).fit(data)
    assert model.params()["reg"] in (1e-4, 1e-3)
