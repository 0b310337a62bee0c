"""Compressed embedding tables (graphrec.models.hashing): every id in range, the budget exact,
frequency and cluster rules by hand, state_dict round trips, impossible budgets refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import graphrec as gr
from graphrec.data.dataset import Dataset
from graphrec.models import hashing
from graphrec.models.embedding import TABLES, make_table, table_summary
from graphrec.models.hashing import COMPRESSED, HashedEmbedding, budget_rows, universal_hash
from graphrec.models.lightgcn import LightGCN
from graphrec.models.mf import MF

pytest.importorskip("igraph")
BUDGETS = (1.0, 0.5, 0.25, 0.1, 0.05)


def blocks_data(blocks: int = 4, users: int = 30, items: int = 20, seed: int = 0) -> Dataset:
    """Users of block b interact with items of block b (dense) and rarely elsewhere; degrees vary."""
    rng = np.random.default_rng(seed)
    bu, bi = np.repeat(np.arange(blocks), users), np.repeat(np.arange(blocks), items)
    p = np.where(bu[:, None] == bi[None, :], 0.4, 0.01) * rng.uniform(0.5, 1.5, size=(bu.size, 1))
    u, i = np.nonzero(rng.random(p.shape) < p)
    test = rng.random(u.size) < 0.2
    return Dataset.from_pairs("blocks", (u[~test], i[~test]), (u[test], i[test]),
                              user_ids=np.arange(bu.size), item_ids=np.arange(bi.size))


@pytest.fixture(scope="module")
def data() -> Dataset:
    return blocks_data()


def test_every_table_is_registered() -> None:
    assert set(COMPRESSED) <= set(TABLES)


@pytest.mark.parametrize("kind", COMPRESSED)
def test_every_id_in_range_and_the_budget_exact(kind: str, data: Dataset) -> None:
    g = data.train
    n_u, n_i = g.num_nodes("user"), g.num_nodes("item")
    for b in BUDGETS:
        gen = torch.Generator().manual_seed(0)
        tables = [make_table(kind, g.num_nodes(t), 8, generator=gen, graph=g, ntype=t, budget=b, etype=gr.INTERACTS)
                  for t in ("user", "item")]
        for t, n in zip(tables, (n_u, n_i)):
            assert isinstance(t, HashedEmbedding) and t.num_embeddings == n
            assert t.weight_rows().shape == (budget_rows(b, n), 8) == (t.num_rows, 8)
            rows = t.rows_of(torch.arange(n))
            assert rows.dtype == torch.int64 and int(rows.min()) >= 0 and int(rows.max()) < t.num_rows
            assert t.all().shape == (n, 8) and t.num_parameters == t.num_rows * 8
        stored = sum(t.num_rows for t in tables)
        # per type round(b * n): the total differs from b * (users + items) by at most one row per type
        assert stored == budget_rows(b, n_u) + budget_rows(b, n_i)
        assert abs(stored - b * (n_u + n_i)) <= 1
        if kind in ("graph", "frequency", "random"):
            for t in tables:  # one row per id: at budget 1 a bijection, below it every row of a cluster table used
                used = torch.unique(t.rows_of(torch.arange(t.num_embeddings))).numel()
                if b == 1.0 or kind == "graph":
                    assert used == t.num_rows


def test_universal_hash_by_hand() -> None:
    coef = torch.tensor([[3, 5], [7, 0]])
    x = torch.tensor([0, 1, 2**31, 10**9])
    got = universal_hash(x, coef, 11)
    p = 2**31 - 1
    want = [[((a * int(v) + b) % p) % 11 for a, b in coef.tolist()] for v in x]
    assert got.tolist() == want


def test_frequency_keeps_the_most_frequent_ids() -> None:
    # items' degrees 5, 1, 4, 1, 3, 1, 1, 1, 1, 1 -> at 4 rows the top 2 (items 0 and 2) own rows 0 and 1
    items = [0] * 5 + [1] + [2] * 4 + [3] + [4] * 3 + [5, 6, 7, 8, 9]
    users = list(range(len(items)))
    d = Dataset.from_pairs("f", (users, items), ([0], [1]), user_ids=np.arange(len(items)), item_ids=np.arange(10))
    t = make_table("frequency", 10, 4, graph=d.train, ntype="item", budget=0.4, generator=torch.Generator().manual_seed(1))
    rows = t.rows_of(torch.arange(10)).squeeze(1)
    assert t.num_rows == 4 and rows[0] == 0 and rows[2] == 1
    assert bool(((rows[[1, 3, 4, 5, 6, 7, 8, 9]] >= 2) & (rows[[1, 3, 4, 5, 6, 7, 8, 9]] < 4)).all())
    df = make_table("double_frequency", 10, 4, graph=d.train, ntype="item", budget=0.4)
    r2 = df.rows_of(torch.arange(10))
    assert r2.shape == (10, 2) and r2[0].tolist() == [0, 0] and r2[2].tolist() == [1, 1]


def test_graph_table_rows_follow_the_planted_blocks(data: Dataset) -> None:
    g = data.train
    # 4 blocks: 120 users and 80 items at budget 4/200 -> round(2.4) = 2 user rows, round(1.6) = 2 item rows; at 8/200 -> 5 and 3
    maps, info = hashing.cluster_rows(g, gr.INTERACTS, 0.04, seed=0)
    assert [int(maps[t].max()) + 1 for t in ("user", "item")] == [budget_rows(0.04, 120), budget_rows(0.04, 80)]
    assert info["modularity"] > 0.5 and info["seconds"] > 0 and info["steps"] >= 1
    gen = torch.Generator().manual_seed(0)
    t = make_table("graph", 120, 4, graph=g, ntype="user", budget=1 / 30, generator=gen)  # 4 user rows
    rows = t.rows_of(torch.arange(120)).squeeze(1).numpy()
    block = np.repeat(np.arange(4), 30)
    agree = [np.bincount(rows[block == b], minlength=4).max() for b in range(4)]
    assert sum(agree) >= 0.9 * 120  # each block's users share one row
    assert t.info["rows"]["user"] == 4 and t.info["modularity"] > 0.5
    # one clustering serves both tables of a model: a second call is a cache hit
    again = hashing.cluster_rows(g, gr.INTERACTS, 0.04, seed=0)
    assert again[0] is maps


def test_double_graph_sums_the_cluster_row_and_a_hashed_row(data: Dataset) -> None:
    g = data.train
    t = make_table("double_graph", 80, 4, graph=g, ntype="item", budget=0.25, generator=torch.Generator().manual_seed(0))
    r = t.rows_of(torch.arange(80))
    assert r.shape == (80, 2) and t.lookups == 2
    idx = torch.tensor([3, 40])
    torch.testing.assert_close(t(idx), t.weight[r[idx, 0]] + t.weight[r[idx, 1]])
    std = make_table("double", 4000, 8, budget=0.5, generator=torch.Generator().manual_seed(0)).all().std().item()
    assert abs(std - 0.1) < 0.01  # two rows summed start at the full table's scale


def test_double_graph_split_keeps_the_hashed_rows_apart(data: Dataset) -> None:
    g = data.train
    gen = torch.Generator().manual_seed(0)
    t = make_table("double_graph_split", 120, 4, graph=g, ntype="user", budget=0.1, generator=gen)  # 12 rows: 6 + 6
    r = t.rows_of(torch.arange(120))
    assert t.num_rows == 12 and t.hash_offset == 6 and t.lookups == 2
    assert sorted(set(r[:, 0].tolist())) == list(range(6))  # every cluster row used, none of the hashed ones
    assert int(r[:, 1].min()) >= 6 and int(r[:, 1].max()) < 12
    # the clustering behind it was searched for the cluster rows only (6 user rows)
    assert t.info["rows"]["user"] == 6
    # one row cannot be split: both lookups reach it
    one = make_table("double_graph_split", 120, 4, graph=g, ntype="user", budget=0.01)
    assert one.num_rows == 1 and one.hash_offset == 0 and int(one.rows_of(torch.arange(120)).max()) == 0


@pytest.mark.parametrize("kind", COMPRESSED)
def test_state_dict_restores_the_row_maps_and_graph_none_builds_the_shapes(kind: str, data: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    g = data.train
    made = make_table(kind, 120, 4, graph=g, ntype="user", budget=0.25, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        made.weight.add_(1.0)

    def no_clustering(*a, **k):
        raise AssertionError("a table built without a graph must not cluster")

    monkeypatch.setattr(hashing, "cluster_rows", no_clustering)
    empty = make_table(kind, 120, 4, graph=None, ntype="user", budget=0.25, generator=torch.Generator().manual_seed(9))
    assert {k: v.shape for k, v in empty.state_dict().items()} == {k: v.shape for k, v in made.state_dict().items()}
    empty.load_state_dict(made.state_dict())
    idx = torch.arange(120)
    assert torch.equal(empty.rows_of(idx), made.rows_of(idx)) and torch.equal(empty(idx), made(idx))


def test_model_state_dict_reload_gives_the_same_lists(data: Dataset) -> None:
    kw = {"dim": 8, "epochs": 3, "patience": None, "table": "double_graph", "budget": 0.25, "batch": 256, "lr": 0.01}
    model = MF(**kw).fit(data)
    state = model.state_dict()
    assert {"user_table.row_map", "item_table.row_map", "user_table.hash_coef", "user_table.weight"} <= set(state)
    other = MF(**{**kw, "seed": 5})
    other._build_tables(data.train)
    other.load_state_dict(state)
    other.graph, other._fitted = data.train, True
    users = torch.arange(20)
    a, b = model.recommend_indices(users, 10), other.recommend_indices(users, 10)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_models_take_the_table_and_budget(data: Dataset) -> None:
    for cls in (MF, LightGCN):
        m = cls(dim=8, epochs=2, patience=None, table="graph", budget=0.1, batch=256).fit(data)
        s = table_summary(m)
        assert s["table_rows"] == budget_rows(0.1, 120) + budget_rows(0.1, 80) == 20
        assert s["num_parameters"] == 20 * 8 and s["table_bytes"] == 20 * 8 * 4 + 200 * 4  # rows + int32 maps
        assert m.params()["budget"] == 0.1 and m.params()["table"] == "graph"
        assert gr.models.create(cls.name, **m.params()).params() == m.params()
    full = table_summary(MF(dim=8, epochs=1, patience=None).fit(data))
    assert full["table_rows"] == 200 and full["table_bytes"] == 200 * 8 * 4
    rl = gr.models.create("rlmrec-con", table="random", budget=0.5, text_model="hashing")
    assert rl.params()["budget"] == 0.5 and rl.backbone.budget == 0.5


@pytest.mark.parametrize("budget", [0, -0.1, 1.5, float("nan"), "half"])
def test_impossible_budgets_are_one_line_errors(budget: object) -> None:
    with pytest.raises(ValueError) as err:
        MF(table="graph", budget=budget)
    assert "budget" in str(err.value) and "\n" not in str(err.value)


def test_too_small_budgets_and_full_with_a_budget_are_refused(data: Dataset) -> None:
    with pytest.raises(ValueError) as err:
        MF(dim=4, epochs=1, patience=None, table="random", budget=0.001).fit(data)  # 0.12 user rows
    assert "at least 1" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ValueError, match="full"):
        MF(table="full", budget=0.5)
    with pytest.raises(ValueError, match="at least 1"):
        budget_rows(0.1, 4)
    assert budget_rows(0.125, 4) == 1 and budget_rows(1, 7) == 7 and budget_rows(0.25, 10) == 3  # 2.5 rounds up


def test_cli_reports_parameters_and_table_bytes(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from graphrec.cli import main

    code = main(["evaluate", "--data", "synthetic", "--model", "mf", "--param", "table=random", "--param", "budget=0.25",
                 "--param", "dim=8", "--param", "epochs=1", "--param", "patience=none", "--json"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and out["table_rows"] == budget_rows(0.25, 2000) + budget_rows(0.25, 1000) == 750
    assert out["num_parameters"] == 750 * 8 and out["table_bytes"] == 750 * 8 * 4 + 2 * 16  # rows + hash coefficients


@pytest.mark.parametrize("name", ["mf", "lightgcn"])
def test_saved_model_reloads_its_clusters_without_clustering(name: str, data: Dataset, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = gr.models.create(name, dim=8, epochs=2, patience=None, table="double_graph", budget=0.25, batch=256).fit(data)
    model.save(tmp_path / "m")

    def no_clustering(*a, **k):
        raise AssertionError("loading a saved model must not cluster again")

    monkeypatch.setattr(hashing, "cluster_rows", no_clustering)
    loaded = gr.models.load(tmp_path / "m")
    assert torch.equal(loaded.user_table.row_map, model.user_table.row_map)
    assert torch.equal(loaded.item_table.hash_coef, model.item_table.hash_coef)
    users = torch.arange(30)
    a, b = model.recommend_indices(users, 10), loaded.recommend_indices(users, 10)
    assert torch.equal(a[0], b[0]) and torch.allclose(a[1], b[1])
    assert loaded.params() == model.params()


def test_graph_frequency_gives_the_frequent_ids_rows_of_their_own(data: Dataset) -> None:
    g = data.train
    t = make_table("graph_frequency", 120, 4, graph=g, ntype="user", budget=0.1, generator=torch.Generator().manual_seed(0))
    r = t.rows_of(torch.arange(120))
    assert t.num_rows == 12 and t.lookups == 2 and r.shape == (120, 2)
    assert sorted(set(r[:, 0].tolist())) == list(range(6))  # the clusters: rows 0..5
    deg = g.edges(gr.INTERACTS).degree("src")
    top = torch.argsort(-deg, stable=True)[:3]  # the 3 most frequent users own rows 6, 7, 8
    assert r[top, 1].tolist() == [6, 7, 8]
    rest = torch.ones(120, dtype=torch.bool)
    rest[top] = False
    assert int(r[rest, 1].min()) >= 9 and int(r[rest, 1].max()) < 12
    # a state_dict round trip into a table built without the graph
    blank = make_table("graph_frequency", 120, 4, graph=None, ntype="user", budget=0.1)
    blank.load_state_dict(t.state_dict())
    assert torch.equal(blank.rows_of(torch.arange(120)), r)
