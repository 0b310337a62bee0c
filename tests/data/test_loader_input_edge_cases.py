"""Loader regressions: repeated held-out pairs, id text kept as given, encodings, dictionary
and uint64 columns, weights beyond float32, and the registry's documented keywords.

Every case is a file small enough to check by hand.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

import graphrec as gr
from graphrec.data import (
    carve_validation,
    load,
    load_blogcatalog,
    load_edge_table,
    load_lastfm,
    load_split_dir,
    random_holdout,
    split_by_mask,
)
from graphrec.data.synthetic import make_dataset, make_graph
from graphrec.graph import INTERACTS, ITEM, USER
from graphrec.models.base import Recommender
from tests.data.test_loaders import line_error, pairs, write


# ------------------------------------------------------- 1. repeated held-out pairs
class _Fixed(Recommender):
    """Scores from a fixed (users, items) matrix."""

    def __init__(self, scores: list[list[float]]) -> None:
        super().__init__()
        self.s = torch.tensor(scores, dtype=torch.float32)

    def _fit(self, train, valid=None, **kwargs) -> None:
        pass

    def score(self, users: torch.Tensor) -> torch.Tensor:
        return self.s[users].clone()


def test_split_dir_repeated_test_pair_is_one_edge(tmp_path: Path) -> None:
    d = tmp_path / "dup"
    write(d / "train.txt", "0 1 2 1\n1 0\n")  # train repeats (0, 1)
    write(d / "test.txt", "0 3 3\n1 2\n")  # test repeats (0, 3)
    write(d / "valid.txt", "1 3 3 3\n")  # valid repeats (1, 3) twice
    ds = load_split_dir(d)
    assert ds.summary() == {"dataset": "dup", "users": 2, "items": 4, "train": 3, "test": 2, "valid": 1}
    assert pairs(ds.test) == {(0, 3), (1, 2)} and pairs(ds.valid) == {(1, 3)}
    assert ds.info["merged_pairs"] == {"train": 1, "test": 1, "valid": 2}
    # a model ranking each user's held-out item first has recall@1 = 1 (was 0.5 for user 0)
    model = _Fixed([[0, 0, 0, 9], [0, 0, 9, 0]]).fit(ds)
    rep = gr.evaluate(model, ds, k=[1, 2])
    assert rep.per_user["recall@1"].tolist() == [1.0, 1.0]
    assert rep.per_user["ndcg@2"].tolist() == [1.0, 1.0]


def test_split_dir_without_repeats_records_nothing(tmp_path: Path) -> None:
    d = tmp_path / "plain"
    write(d / "train.txt", "0 1 2\n1 0\n")
    write(d / "test.txt", "0 3\n1 2\n")
    assert "merged_pairs" not in load_split_dir(d).info


def test_lastfm_repeated_test_pair_is_one_edge(tmp_path: Path) -> None:
    d = tmp_path / "lastfm"
    write(d / "data1.txt", "1\t10\t5\n2\t11\t3\n")
    write(d / "test1.txt", "1\t11\t2\n1\t11\t4\n2\t10\t1\n")
    ds = load_lastfm(d)
    assert ds.summary()["test"] == 2 and pairs(ds.test) == {(1, 11), (2, 10)}
    assert ds.test.edges(INTERACTS).weight.tolist() == [6.0, 1.0]  # CSR order; weights summed
    assert ds.info["merged_pairs"] == {"test": 1}


def test_split_by_mask_and_carve_merge_repeated_pairs() -> None:
    g = gr.Graph()
    g.add_node_type(USER, gr.IdMap.range(2, USER))
    g.add_node_type(ITEM, gr.IdMap.range(3, ITEM))
    # a multigraph: (0, 1) three times, (1, 2) twice
    g.add_edges(INTERACTS, [0, 0, 0, 0, 1, 1, 1], [0, 1, 1, 1, 0, 2, 2], duplicates="keep")
    src, dst = g.edges(INTERACTS).coo()
    held = (src == 0) & (dst == 1)
    ds = split_by_mask(g, held.numpy())
    assert ds.test.num_edges(INTERACTS) == 1 and pairs(ds.test) == {(0, 1)}
    assert ds.info["merged_pairs"] == {"test": 2}
    assert ds.train.num_edges(INTERACTS) == 4  # the train graph keeps its multi-edges
    merged_valid = 0
    for seed in range(20):  # some seeds move both copies of (1, 2) to valid
        cv = carve_validation(ds, 0.5, seed)
        v_src, v_dst = cv.valid.edges(INTERACTS).coo()
        n_moved = ds.train.num_edges(INTERACTS) - cv.train.num_edges(INTERACTS)
        n_merged = cv.info["merged_pairs"].get("valid", 0)
        assert cv.valid.num_edges(INTERACTS) + n_merged == n_moved
        assert cv.info["merged_pairs"]["test"] == 2  # the test note carries over
        assert len(set(zip(v_src.tolist(), v_dst.tolist()))) == cv.valid.num_edges(INTERACTS)
        merged_valid += n_merged
    assert merged_valid > 0


def test_random_holdout_and_carve_keep_copies_of_a_pair_together() -> None:
    g = gr.Graph()
    g.add_edges(INTERACTS, [0] * 6 + [1] * 4, [0, 0, 1, 1, 2, 2, 0, 1, 2, 3], by="id", duplicates="keep")
    for seed in range(8):
        ds = random_holdout(g, 0.4, seed)
        cv = carve_validation(ds, 0.4, seed)
        for a, b in ((ds.train, ds.test), (cv.train, cv.valid)):
            assert not pairs(a) & pairs(b)  # a held-out item is never also a training item


# ------------------------------------------------------------- 2. ids kept as given
@pytest.mark.parametrize(
    "cells, expect",
    [
        (["001", "1", "002"], ["001", "002", "1"]),  # zero-padded: three distinct string ids
        (["10", "-5", "0"], [-5, 0, 10]),  # canonical integers: int64
        (["+1", "2"], ["+1", "2"]),
        (["-0", "0"], ["-0", "0"]),
        (["1.0", "2"], ["1.0", "2"]),
        (["9223372036854775807", "-9223372036854775808"], [-(2**63), 2**63 - 1]),
        (["9223372036854775808", "1"], ["1", "9223372036854775808"]),  # beyond int64: strings
        (["a b", " 1"], [" 1", "a b"]),
    ],
)
def test_edge_table_csv_ids_as_given(tmp_path: Path, cells: list[str], expect: list) -> None:
    f = write(tmp_path / "t.csv", "user,item\n" + "".join(f"{c},x\n" for c in cells))
    g = load_edge_table(f)
    ids = g.id_map(USER).ids
    assert ids.tolist() == expect
    assert (ids.dtype == np.int64) == all(isinstance(e, int) for e in expect)
    assert g.num_edges(INTERACTS) == len(cells)


def test_edge_table_zero_padded_ids_not_merged(tmp_path: Path) -> None:
    f = write(tmp_path / "pad.csv", "user,item\n001,a\n1,b\n002,a\n")
    g = load_edge_table(f)
    assert pairs(g) == {("001", "a"), ("1", "b"), ("002", "a")}
    with pytest.raises(ValueError) as e:
        load_edge_table(write(tmp_path / "e.csv", "user,item\na,1\n\"\",2\n"))
    line_error(e, "e.csv", 3)
    assert "column 'user' is empty" in str(e.value)


def test_edge_table_parquet_ids_keep_stored_type(tmp_path: Path) -> None:
    p = tmp_path / "t.parquet"
    pq.write_table(pa.table({"user": ["001", "1"], "item": pa.array([7, 8], pa.int32())}), p)
    g = load_edge_table(p)
    assert g.id_map(USER).ids.tolist() == ["001", "1"] and g.id_map(ITEM).ids.tolist() == [7, 8]


# ------------------------------------------------------------------ 3./4. encodings
def test_edge_table_utf8_bom(tmp_path: Path) -> None:
    g = load_edge_table(write(tmp_path / "bom.csv", b"\xef\xbb\xbfuser,item\n1,a\n2,b\n"))
    assert pairs(g) == {(1, "a"), (2, "b")}
    g = load_edge_table(write(tmp_path / "bom.txt", b"\xef\xbb\xbfuser\titem\n1\ta\n"))  # sniffed sep
    assert pairs(g) == {(1, "a")}


def test_edge_table_not_utf8(tmp_path: Path) -> None:
    f = write(tmp_path / "latin1.csv", b"user,item\n1,a\n2,caf\xe9\n")
    with pytest.raises(ValueError) as e:
        load_edge_table(f)
    line_error(e, "latin1.csv", 3)
    assert "column 'item' is not valid UTF-8" in str(e.value) and "re-save" in str(e.value)
    f = write(tmp_path / "w.csv", b"user,item,note,w\n1,a,ok,1\n2,b,caf\xe9,x\xe9\n")
    g = load_edge_table(f)  # a column that is not read may hold anything
    assert pairs(g) == {(1, "a"), (2, "b")}
    with pytest.raises(ValueError) as e:
        load_edge_table(f, weight_col="w")  # ... but a weight column read must be UTF-8
    line_error(e, "w.csv", 3)
    assert "column 'w' is not valid UTF-8" in str(e.value)
    with pytest.raises(ValueError) as e:
        load_edge_table(write(tmp_path / "h.csv", b"us\xe9r,item\n1,a\n"), user_col="us\udce9r")
    line_error(e, "h.csv", 1)


def test_edge_table_dictionary_columns(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    p = tmp_path / "cat.parquet"
    pd.DataFrame({"user": pd.Categorical(["a", "b", "a"]), "item": pd.Categorical([10, 20, 20]),
                  "t": pd.Categorical([5, 6, 7])}).to_parquet(p)
    g = load_edge_table(p, time_col="t")
    assert g.id_map(USER).ids.tolist() == ["a", "b"] and g.id_map(ITEM).ids.tolist() == [10, 20]
    assert pairs(g) == {("a", 10), ("b", 20), ("a", 20)}
    assert g.edges(INTERACTS).timestamp.tolist() == [5, 7, 6]  # CSR order: (a,10) (a,20) (b,20)
    # several row groups, each with its own dictionary
    q = tmp_path / "chunks.parquet"
    t = pa.table({"user": pa.chunked_array([pa.array(["x", "y"]).dictionary_encode(),
                                            pa.array(["z", "x"]).dictionary_encode()]),
                  "item": [1, 2, 3, 4]})
    pq.write_table(t, q, row_group_size=2)
    assert load_edge_table(q).id_map(USER).ids.tolist() == ["x", "y", "z"]


# ----------------------------------------------------------------------- 5. uint64
def test_edge_table_uint64_ids(tmp_path: Path) -> None:
    p = tmp_path / "ok.parquet"
    pq.write_table(pa.table({"user": pa.array([2**63 - 1, 3], pa.uint64()), "item": [1, 2]}), p)
    assert load_edge_table(p).id_map(USER).ids.tolist() == [3, 2**63 - 1]
    p = tmp_path / "u64.parquet"
    pq.write_table(pa.table({"user": pa.array([1, 2**63 + 1, 2**64 - 1], pa.uint64()), "item": [1, 2, 3]}), p)
    with pytest.raises(ValueError) as e:
        load_edge_table(p)
    msg = str(e.value)
    assert "u64.parquet, row 2" in msg and "column 'user'" in msg and str(2**63 + 1) in msg
    assert "int64" in msg and "as strings" in msg
    p = tmp_path / "t64.parquet"
    pq.write_table(pa.table({"user": [1], "item": [1], "t": pa.array([2**64 - 1], pa.uint64())}), p)
    with pytest.raises(ValueError, match=r"row 1: column 't' time 18446744073709551615 \(uint64\)"):
        load_edge_table(p, time_col="t")


# ---------------------------------------------------------- 6. weights beyond float32
def test_edge_table_weight_beyond_float32(tmp_path: Path) -> None:
    f = write(tmp_path / "big.csv", "user,item,w\n1,a,1\n1,b,1e39\n")
    with pytest.raises(ValueError) as e:
        load_edge_table(f, weight_col="w")
    line_error(e, "big.csv", 3)
    assert "column 'w'" in str(e.value) and "exceeds float32's range" in str(e.value)
    p = tmp_path / "big.parquet"
    pq.write_table(pa.table({"user": [1, 2], "item": [1, 1], "w": [1.0, 1e39]}), p)
    with pytest.raises(ValueError, match=r"big\.parquet, row 2: .*exceeds float32's range"):
        load_edge_table(p, weight_col="w")
    f = write(tmp_path / "tiny.csv", "user,item,w\n1,a,1\n1,b,1e-50\n")
    with pytest.raises(ValueError) as e:
        load_edge_table(f, weight_col="w")
    line_error(e, "tiny.csv", 3)
    assert "1e-50 is below float32's range" in str(e.value)
    g = load_edge_table(write(tmp_path / "max.csv", "user,item,w\n1,a,3.4e38\n"), weight_col="w")
    assert torch.isfinite(g.edges(INTERACTS).weight).all()


def test_edge_table_errors_name_the_file_line_after_blank_lines_and_quoted_newlines(tmp_path: Path) -> None:
    f = write(tmp_path / "gaps.csv", 'user,item,w\n\n1,a,1\n\n"2\nx",b,2\n3,c,-1\n')
    with pytest.raises(ValueError) as e:
        load_edge_table(f, weight_col="w")
    line_error(e, "gaps.csv", 7)  # pyarrow's row 2: two blank lines and a two-line record above it
    f = write(tmp_path / "gaps.tsv", "user\titem\tt\n1\ta\t5\n\n\n2\tb\t\n")
    with pytest.raises(ValueError, match=r"gaps\.tsv, line 5: column 't' is empty"):
        load_edge_table(f, time_col="t")


def test_lastfm_weight_beyond_float32(tmp_path: Path) -> None:
    d = tmp_path / "lastfm"
    write(d / "data1.txt", "1\t10\t5\n2\t11\t1e39\n")
    write(d / "test1.txt", "1\t11\t2\n")
    with pytest.raises(ValueError) as e:
        load_lastfm(d)
    line_error(e, "data1.txt", 2)
    assert "weight 1e+39 exceeds float32's range" in str(e.value)


def test_blogcatalog_entry_beyond_float32(tmp_path: Path) -> None:
    import scipy.io
    import scipy.sparse as sp

    f = tmp_path / "b.mat"
    scipy.io.savemat(f, {"network": sp.csr_matrix(np.array([[0, 1e39], [1e39, 0]])), "group": np.eye(2)})
    with pytest.raises(ValueError, match=r"b\.mat: 'network' entry 1e\+39 exceeds float32's range"):
        load_blogcatalog(f)


def test_id_list_not_utf8(tmp_path: Path) -> None:
    d = tmp_path / "s"
    write(d / "train.txt", "0 1\n1 0\n")
    write(d / "test.txt", "0 0\n")
    write(d / "item_list.txt", b"org_id remap_id\nab 0\ncaf\xe9 1\n")
    with pytest.raises(ValueError) as e:
        load_split_dir(d)
    line_error(e, "item_list.txt", 3)
    assert "not valid UTF-8" in str(e.value)


# ------------------------------------------------------------ 7. documented keywords
def test_load_docstring_keywords_exist() -> None:
    doc = inspect.getdoc(load)
    named = set(re.findall(r"``(\w+)=", doc))
    assert "num_users" in named and "n_users" not in named
    known = set()
    for f in (load, make_dataset, make_graph, gr.datasets.load_movielens100k,
              load_edge_table, load_split_dir):
        known |= set(inspect.signature(f).parameters)
    assert named <= known, named - known
    ds = load("synthetic", num_users=30, num_items=20, test_fraction=0.25, seed=1, num_communities=2)
    assert (ds.num_users, ds.num_items) == (30, 20)
