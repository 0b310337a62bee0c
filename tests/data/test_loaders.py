"""Loaders, the named-dataset registry and real-data counts.

Tiny files are written to ``tmp_path`` so that every count and id can be checked by hand;
malformed files must fail with the file and the 1-based line in the message.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import graphrec as gr
from graphrec.data import (
    LINKS,
    NODE,
    load,
    load_airports,
    load_blogcatalog,
    load_edge_table,
    load_lastfm,
    load_movielens100k,
    load_split_dir,
)
from graphrec.graph import INTERACTS, ITEM, TRUSTS, USER
from tests.conftest import need_dataset


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def pairs(g: gr.Graph, etype=INTERACTS) -> set[tuple]:
    """External-id pairs of an edge set."""
    src, dst = g.edges(etype).coo()
    s = g.id_map(etype[0]).to_external(src.numpy())
    d = g.id_map(etype[2]).to_external(dst.numpy())
    return set(zip(s.tolist(), d.tolist()))


def line_error(exc: pytest.ExceptionInfo, fname: str, line: int) -> None:
    msg = str(exc.value)
    assert fname in msg and f"line {line}:" in msg, msg


# ------------------------------------------------------------------ split directory
@pytest.fixture
def split_dir(tmp_path: Path) -> Path:
    d = tmp_path / "tiny"
    write(d / "train.txt", "0 1 2\n1 2\n\n2\n")  # blank line 3; user 2 without items
    write(d / "test.txt", "0 3\n1 0\n")
    return d


def test_split_dir_counts_and_pairs(split_dir: Path) -> None:
    ds = load_split_dir(split_dir)
    assert ds.name == "tiny"
    assert (ds.num_users, ds.num_items) == (3, 4)  # 0..max id
    assert pairs(ds.train) == {(0, 1), (0, 2), (1, 2)}
    assert pairs(ds.test) == {(0, 3), (1, 0)}
    assert ds.valid is None and not ds.train.has_edge_type(TRUSTS)
    assert ds.test.id_map(USER) is ds.train.id_map(USER)


def test_split_dir_lists_valid_trust(split_dir: Path) -> None:
    write(split_dir / "user_list.txt", "org_id remap_id\n70 0\n80 1\n90 2\n95 3\n")
    write(split_dir / "item_list.txt", "org_id remap_id\n0553 1\n0007 0\n12 2\n13 3\n14 4\n15 5\n")
    write(split_dir / "valid.txt", "2 5\n")
    write(split_dir / "trust.txt", "0 1\n1 3\n")
    ds = load_split_dir(split_dir, name="t")
    assert ds.name == "t"
    assert (ds.num_users, ds.num_items) == (4, 6)  # the lists fix the sizes: items 4, 5 never in train
    assert pairs(ds.valid) == {(2, 5)}
    assert pairs(ds.train, TRUSTS) == {(0, 1), (1, 3)}
    assert ds.train.node_attrs[USER]["org_id"].tolist() == [70, 80, 90, 95]
    # leading zeros: original item ids stay strings, ordered by remap id
    assert ds.train.node_attrs[ITEM]["org_id"].tolist() == ["0007", "0553", "12", "13", "14", "15"]


@pytest.mark.parametrize(
    "train, line, words",
    [
        ("0 1 2\n1 x\n", 2, "'x'"),
        ("0 1\n\n1 2.5\n", 3, "'2.5'"),
        ("0 1\n1 -4\n", 2, "-4"),
        ("0 1\n1 99999999999999999999\n", 2, "int64"),
    ],
)
def test_split_dir_malformed(split_dir: Path, train: str, line: int, words: str) -> None:
    write(split_dir / "train.txt", train)
    with pytest.raises(ValueError) as e:
        load_split_dir(split_dir)
    line_error(e, "train.txt", line)
    assert words in str(e.value)


def test_split_dir_errors(split_dir: Path) -> None:
    write(split_dir / "test.txt", "\n  \n")
    with pytest.raises(ValueError, match=r"test\.txt: file is empty"):
        load_split_dir(split_dir)
    (split_dir / "test.txt").unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(str(split_dir / "test.txt"))):
        load_split_dir(split_dir)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_split_dir(split_dir / "nowhere")


def test_split_dir_id_not_in_list(split_dir: Path) -> None:
    write(split_dir / "item_list.txt", "org_id remap_id\n5 0\n6 1\n7 2\n")  # 3 items; test names item 3
    with pytest.raises(ValueError) as e:
        load_split_dir(split_dir)
    line_error(e, "test.txt", 1)
    assert "item_list.txt" in str(e.value)
    write(split_dir / "item_list.txt", "org_id remap_id\n5 0\n6 1\n7 1\n8 3\n")
    with pytest.raises(ValueError) as e:
        load_split_dir(split_dir)
    line_error(e, "item_list.txt", 4)


def test_split_dir_trust_to_an_unknown_user(split_dir: Path) -> None:
    write(split_dir / "trust.txt", "0 1\n2 7\n")  # users 0..2 in the interaction files
    with pytest.raises(ValueError, match="user id 7 appears in no interaction file .*new_nodes=True") as e:
        load_split_dir(split_dir)
    line_error(e, "trust.txt", 2)
    ds = load_split_dir(split_dir, new_nodes=True)
    assert ds.num_users == 8 and pairs(ds.train, TRUSTS) == {(0, 1), (2, 7)}


def test_split_dir_trust_columns(split_dir: Path) -> None:
    write(split_dir / "trust.txt", "0 1\n1 2 0\n")
    with pytest.raises(ValueError) as e:
        load_split_dir(split_dir)
    line_error(e, "trust.txt", 2)
    assert "expected 2 columns" in str(e.value)


# -------------------------------------------------------------------------- Last.fm
@pytest.fixture
def lastfm_dir(tmp_path: Path) -> Path:
    d = tmp_path / "lastfm"
    write(d / "data1.txt", "1\t10\t993\n2\t11\t3.2466e+05\n1\t11\t7\n")
    write(d / "test1.txt", "2\t10\t12\n")
    write(d / "trustnetwork.txt", "1\t2\n2\t1\n5\t1\n")  # user 5 only in the trust network
    return d


def test_lastfm_tiny(lastfm_dir: Path) -> None:
    ds = load_lastfm(lastfm_dir)
    assert ds.name == "lastfm"
    assert ds.train.id_map(USER).ids.tolist() == [1, 2, 5]  # 1-based ids kept
    assert ds.train.id_map(ITEM).ids.tolist() == [10, 11]
    assert pairs(ds.train) == {(1, 10), (2, 11), (1, 11)}
    assert pairs(ds.train, TRUSTS) == {(1, 2), (2, 1), (5, 1)}
    es = ds.train.edges(INTERACTS)  # CSR order: (1,10), (1,11), (2,11)
    assert es.weight.tolist() == [993.0, 7.0, 324660.0]
    assert ds.test.edges(INTERACTS).weight.tolist() == [12.0]
    assert ds.summary() == {"dataset": "lastfm", "users": 3, "items": 2, "train": 3, "test": 1, "trust": 3}


@pytest.mark.parametrize(
    "fname, text, line, words",
    [
        ("data1.txt", "1\t10\t5\n2\t11\tnan\n", 2, "not a finite number"),
        ("data1.txt", "1\t10\t5\n2\t11\t-3\n", 2, "negative"),
        ("test1.txt", "1\t10\n", 1, "expected 3 columns"),
        ("data1.txt", "1\t10\t5\n\n1.5\t11\t2\n", 3, "column 1 (user) must be an integer"),
        ("data1.txt", "1\t10\t5\n2\tx\t2\n", 2, "column 2 (item) must be an integer"),
        ("data1.txt", "1\t10\t5\n2\t10\t2..0\n", 2, "column 3 (weight) must be a number"),
        ("trustnetwork.txt", "1\t2\n2\n", 2, "expected 2 columns"),
    ],
)
def test_lastfm_malformed(lastfm_dir: Path, fname: str, text: str, line: int, words: str) -> None:
    write(lastfm_dir / fname, text)
    with pytest.raises(ValueError) as e:
        load_lastfm(lastfm_dir)
    line_error(e, fname, line)
    assert words in str(e.value)


def test_lastfm_missing(lastfm_dir: Path) -> None:
    (lastfm_dir / "data1.txt").unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(str(lastfm_dir / "data1.txt"))):
        load_lastfm(lastfm_dir)


# -------------------------------------------------------------------- MovieLens 100K
GENRE_FLAGS = "|".join(["0"] * 19)


def flags(*on: int) -> str:
    f = ["0"] * 19
    for k in on:
        f[k] = "1"
    return "|".join(f)


@pytest.fixture
def ml_dir(tmp_path: Path) -> Path:
    d = tmp_path / "ml-100k"
    # users 1-3, items 1-3; item 3 has no release date; u.item rows out of id order
    write(d / "u.data", "1\t1\t5\t100\n1\t2\t3\t300\n1\t3\t4\t200\n2\t1\t1\t50\n2\t3\t2\t60\n3\t2\t4\t10\n")
    item_rows = [
        f"2|Caf\xe9 (1996)|01-Feb-1996||http://x/2|{flags(1, 8)}",
        f"1|Toy Story (1995)|01-Jan-1995||http://x/1|{flags(3, 4, 5)}",
        f"3|unknown||||{flags(0)}",
    ]
    write(d / "u.item", ("\n".join(item_rows) + "\n").encode("latin-1"))
    write(d / "u.user", "1|24|M|technician|85711\n2|53|F|other|T8H1N\n3|23|M|writer|32067\n")
    return d


def test_movielens_tiny_temporal(ml_dir: Path) -> None:
    ds = load_movielens100k(ml_dir, split="temporal")
    assert (ds.num_users, ds.num_items) == (3, 3)
    # latest per user: user 1 -> item 2 (t=300), user 2 -> item 3 (t=60); user 3 has one rating
    assert pairs(ds.test) == {(1, 2), (2, 3)}
    assert pairs(ds.train) == {(1, 1), (1, 3), (2, 1), (3, 2)}
    te = ds.test.edges(INTERACTS)
    assert te.weight.tolist() == [3.0, 2.0] and te.timestamp.tolist() == [300, 60]
    items = ds.train.node_attrs[ITEM]
    assert items["title"].tolist() == ["Toy Story (1995)", "Café (1996)", "unknown"]  # by id, latin-1
    assert items["year"].tolist() == [1995, 1996, -1]
    assert items["genres"].shape == (3, 19) and items["genres"].dtype == np.int8
    assert np.flatnonzero(items["genres"][0]).tolist() == [3, 4, 5]
    assert items["genre_names"][8] == "Drama" and len(items["genre_names"]) == 19
    users = ds.train.node_attrs[USER]
    assert users["age"].tolist() == [24, 53, 23]
    assert users["zip"].tolist() == ["85711", "T8H1N", "32067"]
    assert users["gender"].tolist() == ["M", "F", "M"]


def test_movielens_tiny_random(ml_dir: Path) -> None:
    a = load_movielens100k(ml_dir, test_fraction=0.4, seed=3)
    b = load_movielens100k(ml_dir, test_fraction=0.4, seed=3)
    assert pairs(a.test) == pairs(b.test)
    # round(0.4 * 3) = 1 for user 1, round(0.8) = 1 for user 2 (keeps one), 0 for user 3
    assert a.summary()["test"] == 2 and a.summary()["train"] == 4
    assert a.info["split"] == "random" and a.info["seed"] == 3
    with pytest.raises(ValueError, match="split must be"):
        load_movielens100k(ml_dir, split="sequential")


@pytest.mark.parametrize(
    "fname, text, line, words",
    [
        ("u.data", "1\t1\t5\t100\n1\t9\t3\t300\n", 2, "movie id 9 is not listed in u.item"),
        ("u.data", "1\t1\t5\t100\n1\t2\t3\n", 2, "expected 4 columns"),
        ("u.data", "1\t1\tfive\t100\n", 1, "column 3 (rating) must be an integer"),
        ("u.item", f"1|A|01-Jan-1995||u|{GENRE_FLAGS}\n2|B|01-Jan-1995||u\n", 2, "expected 24"),
        ("u.item", f"1|A|01-Jan-1995||u|{GENRE_FLAGS}\n1|B|01-Jan-1995||u|{GENRE_FLAGS}\n", 2, "appears twice"),
        ("u.item", f"1|A|1995||u|{GENRE_FLAGS}\n", 1, "release date"),
        ("u.user", "1|24|M|technician|85711\n2|old|F|other|1\n", 2, "age must be an integer"),
    ],
)
def test_movielens_malformed(ml_dir: Path, fname: str, text: str, line: int, words: str) -> None:
    write(ml_dir / fname, text)
    with pytest.raises(ValueError) as e:
        load_movielens100k(ml_dir)
    line_error(e, fname, line)
    assert words in str(e.value)


# ---------------------------------------------------------------------- BlogCatalog
def test_blogcatalog_tiny(tmp_path: Path) -> None:
    import scipy.io
    import scipy.sparse as sp

    # 4 nodes; edges 0-1, 1-2 stored symmetric; 2->3 stored one way only (union is taken)
    rows, cols = [0, 1, 1, 2, 2], [1, 0, 2, 1, 3]
    net = sp.csc_matrix((np.ones(5), (rows, cols)), shape=(4, 4))
    group = sp.csc_matrix(np.array([[1, 0], [0, 1], [1, 1], [0, 0]], dtype=float))
    f = tmp_path / "blogcatalog.mat"
    scipy.io.savemat(f, {"network": net, "group": group})
    g = load_blogcatalog(tmp_path)  # a directory holding blogcatalog.mat works too
    assert g.node_types == [NODE] and g.edge_types == [LINKS]
    assert pairs(g, LINKS) == {(0, 1), (1, 0), (1, 2), (2, 1), (2, 3), (3, 2)}
    assert g.edges(LINKS).weight is None and g.meta["num_undirected_edges"] == 3
    labels = g.node_attrs[NODE]["labels"]
    assert labels.dtype == torch.bool and labels.tolist() == [[True, False], [False, True], [True, True], [False, False]]


def test_blogcatalog_malformed(tmp_path: Path) -> None:
    import scipy.io
    import scipy.sparse as sp

    f = tmp_path / "g.mat"
    scipy.io.savemat(f, {"adj": sp.csc_matrix(np.eye(3))})
    with pytest.raises(ValueError, match=r"g\.mat: no 'network'.*\['adj'\]"):
        load_blogcatalog(f)
    scipy.io.savemat(f, {"network": sp.csc_matrix(np.eye(3)), "group": np.ones((2, 4))})
    with pytest.raises(ValueError, match="must have 3 rows"):
        load_blogcatalog(f)
    write(f, b"this is not a mat file at all")
    with pytest.raises(ValueError, match=r"g\.mat: not a readable MATLAB"):
        load_blogcatalog(f)
    with pytest.raises(FileNotFoundError, match="missing.mat"):
        load_blogcatalog(tmp_path / "missing.mat")


# ------------------------------------------------------------------------- airports
@pytest.fixture
def airports_dir(tmp_path: Path) -> Path:
    d = tmp_path / "airports"
    write(d / "brazil-airports.edgelist", "10 20\n20 10\n30 30\n20 30\n")  # duplicate reversed, self loop
    write(d / "labels-brazil-airports.txt", "node label\n10 0\n20 3\n30 1\n40 2\n")  # 40 isolated
    write(d / "usa-airports.edgelist", "1 2\n2 3\n")
    write(d / "labels-usa-airports.txt", "node label\n1 0\n2 1\n")  # node 3 unlabelled
    return d


def test_airports_tiny(airports_dir: Path) -> None:
    g = load_airports(airports_dir, "brazil")
    assert g.id_map(NODE).ids.tolist() == [10, 20, 30, 40]
    assert pairs(g, LINKS) == {(10, 20), (20, 10), (30, 30), (20, 30), (30, 20)}
    assert g.meta["num_undirected_edges"] == 3 and g.meta["dataset"] == "airports-brazil"
    assert g.node_attrs[NODE]["role"].tolist() == [0, 3, 1, 2]
    u = load_airports(airports_dir, "usa")
    assert u.node_attrs[NODE]["role"].dtype == torch.int64
    assert u.node_attrs[NODE]["role"].tolist() == [0, 1, -1]
    assert u.num_edges(LINKS) == 4


def test_airports_malformed(airports_dir: Path) -> None:
    write(airports_dir / "labels-usa-airports.txt", "node label\n1 0\n2 1 7\n")
    with pytest.raises(ValueError) as e:
        load_airports(airports_dir, "usa")
    line_error(e, "labels-usa-airports.txt", 3)
    write(airports_dir / "labels-usa-airports.txt", "node label\n1 0\n1 1\n")
    with pytest.raises(ValueError) as e:
        load_airports(airports_dir, "usa")
    line_error(e, "labels-usa-airports.txt", 3)
    write(airports_dir / "usa-airports.edgelist", "1 2\n2 b\n")
    with pytest.raises(ValueError) as e:
        load_airports(airports_dir, "usa")
    line_error(e, "usa-airports.edgelist", 2)
    with pytest.raises(FileNotFoundError, match="europe-airports.edgelist"):
        load_airports(airports_dir, "europe")
    with pytest.raises(ValueError, match="which must be"):
        load_airports(airports_dir, "asia")


# ----------------------------------------------------------------------- edge tables
def test_edge_table_csv(tmp_path: Path) -> None:
    f = write(tmp_path / "log.csv", "who,what,w,when\nu2,a,1.5,2024-01-02T00:00:00\nu1,b,2,2024-01-01T00:00:10\nu2,a,0.5,2024-01-03T00:00:00\n")
    g = load_edge_table(f, user_col="who", item_col="what", weight_col="w", time_col="when")
    assert g.id_map(USER).ids.tolist() == ["u1", "u2"] and g.id_map(ITEM).ids.tolist() == ["a", "b"]
    es = g.edges(INTERACTS)  # (u1,b), (u2,a) merged: weight summed, latest time kept
    assert pairs(g) == {("u1", "b"), ("u2", "a")}
    assert es.weight.tolist() == [2.0, 2.0]
    assert es.timestamp.tolist() == [1704067210, 1704240000]


def test_edge_table_counts_repeated_rows_without_weights(tmp_path: Path) -> None:
    f = write(tmp_path / "plays.csv", "user,item\nu1,a\nu1,a\nu2,a\nu1,a\nu1,b\n")
    g = load_edge_table(f)
    assert g.edges(INTERACTS).weight.tolist() == [3.0, 1.0, 1.0]  # (u1,a) (u1,b) (u2,a): u1 played a three times
    assert load_edge_table(f, duplicates="merge").edges(INTERACTS).weight is None  # the old binary rule, asked for
    assert load_edge_table(write(tmp_path / "once.csv", "user,item\nu1,a\nu2,a\n")).edges(INTERACTS).weight is None
    ds = load(f, test_fraction=0.5, seed=0)  # the split keeps the counts on both sides
    assert sorted(ds.train.edges(INTERACTS).weight.tolist() + ds.test.edges(INTERACTS).weight.tolist()) == [1.0, 1.0, 3.0]


def test_edge_table_tsv_and_parquet(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    f = write(tmp_path / "log.tsv", "user\titem\n3\t7\n1\t7\n3\t8\n")
    g = load_edge_table(f)
    assert g.id_map(USER).ids.tolist() == [1, 3] and pairs(g) == {(3, 7), (1, 7), (3, 8)}
    p = tmp_path / "log.parquet"
    pq.write_table(pa.table({"user": [5, 6], "item": ["x", "y"], "t": [10, 20]}), p)
    g = load_edge_table(p, time_col="t")
    assert pairs(g) == {(5, "x"), (6, "y")} and g.edges(INTERACTS).timestamp.tolist() == [10, 20]
    with pytest.raises(ValueError, match=r"missing column\(s\) \['rating'\].*'user', 'item', 't'"):
        load_edge_table(p, weight_col="rating")


@pytest.mark.parametrize(
    "text, kwargs, where, words",
    [
        ("user,item\n1,2\n", {"item_col": "movie"}, None, "missing column(s) ['movie']; the file has columns ['user', 'item']"),
        ("user,item\n1,2\n3,4,5\n", {}, "line 3", "expected 2 fields"),
        ("user,item\n1,2\n,4\n", {}, "line 3", "column 'user' is empty"),
        ("user,item,w\n1,2,1\n3,4,-1\n", {"weight_col": "w"}, "line 3", "finite and non-negative"),
        ("user,item,w\n1,2,1\n3,4,nan\n", {"weight_col": "w"}, "line 3", "finite and non-negative"),
        ("user,item,w\n1,2,1\n3,4,lots\n", {"weight_col": "w"}, "line 3", "must be a number"),
        ("user,item\n", {}, None, "no rows"),
    ],
)
def test_edge_table_malformed(tmp_path: Path, text: str, kwargs: dict, where: str | None, words: str) -> None:
    f = write(tmp_path / "t.csv", text)
    with pytest.raises(ValueError) as e:
        load_edge_table(f, **kwargs)
    msg = str(e.value)
    assert "t.csv" in msg and words in msg, msg
    if where:
        assert where in msg, msg


# ------------------------------------------------------------------------- registry
def test_registry_unknown_and_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError) as e:
        load("gowala")
    for name in ("gowalla", "lastfm", "ml-100k", "blogcatalog", "airports-usa", "synthetic"):
        assert name in str(e.value)
    monkeypatch.setenv("GRAPHREC_DATA", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as e:
        load("gowalla")
    msg = str(e.value)
    assert str(tmp_path / "gowalla" / "train.txt") in msg and "GRAPHREC_DATA" in msg
    assert "datasets/gowalla.md" in msg
    with pytest.raises(FileNotFoundError, match="datasets/airports.md"):
        load("airports-europe")
    with pytest.raises(FileNotFoundError, match="no dataset at"):
        load(str(tmp_path / "absent.csv"))


def test_registry_resolves_names_and_paths(tmp_path: Path, split_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "root" / "gowalla" / "train.txt", "0 1\n1 0 1\n")
    write(tmp_path / "root" / "gowalla" / "test.txt", "0 0\n")
    monkeypatch.setenv("GRAPHREC_DATA", str(tmp_path / "root"))
    ds = load("gowalla")
    assert ds.name == "gowalla" and ds.summary()["train"] == 3
    assert gr.datasets.load("gowalla", valid_fraction=0.5).summary()["valid"] == 1  # user 1: 2 -> 1 + 1
    assert load(split_dir).name == "tiny"  # a directory path
    rows = "\n".join(f"{u},{i}" for u in range(10) for i in range(u % 3, 10, 2))
    f = write(tmp_path / "t.csv", "user,item\n" + rows + "\n")
    ds = load(str(f), seed=1)
    n = ds.summary()["train"] + ds.summary()["test"]
    assert ds.name == "t" and ds.info["format"] == "edge-table"
    assert n == len(rows.split("\n")) and 0.15 < ds.summary()["test"] / n < 0.25
    with pytest.raises(TypeError, match="fixes"):
        load("gowalla", name="other")


def test_registry_synthetic_dispatch() -> None:
    ds = load("synthetic", num_users=60, num_items=40, seed=2)
    assert ds.name == "synthetic" and ds.num_users == 60 and ds.num_items == 40


# ------------------------------------------------------------------------ real data
def test_real_gowalla(data_root: Path) -> None:
    need_dataset(data_root, "gowalla")
    ds = load("gowalla", root=data_root)
    assert ds.summary() == {"dataset": "gowalla", "users": 29858, "items": 40981, "train": 810128, "test": 217242}
    assert "merged_pairs" not in ds.info  # no pair is listed twice in either file
    tr, te = ds.train.edges(INTERACTS), ds.test.edges(INTERACTS)
    # LightGCN's split: no test pair is a training pair; every user is in train and test
    k_tr = tr.row() * ds.num_items + tr.indices.long()
    k_te = te.row() * ds.num_items + te.indices.long()
    assert not torch.isin(k_te, k_tr).any()
    assert int((tr.degree() == 0).sum()) == 0 and int((te.degree() == 0).sum()) == 0
    assert ds.train.node_attrs[USER]["org_id"][:2].tolist() == [343, 5258]


def test_real_lastfm(data_root: Path) -> None:
    need_dataset(data_root, "lastfm")
    ds = load("lastfm", root=data_root)
    assert ds.summary() == {"dataset": "lastfm", "users": 1892, "items": 4489, "train": 42135, "test": 10533, "trust": 25434}
    assert "merged_pairs" not in ds.info  # no pair is listed twice in either file
    users_with_items = (ds.train.degree() + ds.test.degree() > 0).sum()
    assert int(users_with_items) == 1880
    w = ds.train.edges(INTERACTS).weight
    assert bool((w > 0).all()) and float(w.max()) > 1e5  # scientific-notation weights parsed


def test_real_movielens(data_root: Path) -> None:
    need_dataset(data_root, "ml-100k")
    ds = load("ml-100k", root=data_root)
    s = ds.summary()
    assert (s["users"], s["items"], s["train"] + s["test"]) == (943, 1682, 100000)
    assert 0.19 < s["test"] / 100000 < 0.21
    items = ds.train.node_attrs[ITEM]
    assert items["title"][0] == "Toy Story (1995)" and items["year"][266] == -1  # movie 267 'unknown'
    assert items["genres"].shape == (1682, 19)
    assert ds.train.node_attrs[USER]["occupation"][0] == "technician"
    t = load("ml-100k", root=data_root, split="temporal")
    assert t.summary()["test"] == 943  # every user has >= 20 ratings


def test_real_graphs(data_root: Path) -> None:
    need_dataset(data_root, "blogcatalog")
    g = load("blogcatalog", root=data_root)
    assert g.num_nodes(NODE) == 10312 and g.meta["num_undirected_edges"] == 333983
    assert g.num_edges(LINKS) == 2 * 333983
    assert tuple(g.node_attrs[NODE]["labels"].shape) == (10312, 39)
    need_dataset(data_root, "airports")
    usa = load("airports-usa", root=data_root)
    assert usa.num_nodes(NODE) == 1190 and usa.meta["num_undirected_edges"] == 13599
    roles = usa.node_attrs[NODE]["role"]
    assert sorted(roles.unique().tolist()) == [0, 1, 2, 3]
    br = load("airports-brazil", root=data_root)
    assert br.num_nodes(NODE) == 131 and br.meta["num_undirected_edges"] == 1074
    assert math.isclose(float((br.node_attrs[NODE]["role"] >= 0).float().mean()), 1.0)
