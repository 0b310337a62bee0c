"""DataFrames and Arrow tables into the store: ``Graph.from_frame``, ``Graph.add_frame``.

Tiny frames whose graphs can be written down by hand: string ids, repeated rows (counted),
pandas datetimes (unix seconds), a trust table (unknown ids refused), then the split step to a
Dataset and a fitted model.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import graphrec as gr
from graphrec.graph import INTERACTS, ITEM, TRUSTS, USER


def edge_map(g: gr.Graph, etype=INTERACTS) -> dict:
    """``{(src id, dst id): (weight or None, timestamp or None)}`` of an edge type."""
    es = g.edges(etype)
    s, d = es.coo()
    s_ids = g.id_map(etype[0]).to_external(s.numpy()).tolist()
    d_ids = g.id_map(etype[2]).to_external(d.numpy()).tolist()
    w = [None] * len(s_ids) if es.weight is None else es.weight.tolist()
    t = [None] * len(s_ids) if es.timestamp is None else es.timestamp.tolist()
    return {(a, b): (x, y) for a, b, x, y in zip(s_ids, d_ids, w, t)}


@pytest.fixture()
def plays() -> pd.DataFrame:
    return pd.DataFrame({
        "user": ["ann", "bob", "ann", "ann", "cat"],
        "song": ["s1", "s1", "s2", "s1", "s2"],
        "at": pd.to_datetime(["2024-01-01 00:00:00", "2024-01-02 00:00:00", "2024-01-03 00:00:00",
                              "2024-01-04 00:00:00", "2024-01-05 00:00:00"]),
    })


def test_string_ids_datetimes_and_counts(plays: pd.DataFrame) -> None:
    g = gr.Graph.from_frame(plays, item_col="song", time_col="at")
    assert g.id_map(USER).ids.tolist() == ["ann", "bob", "cat"] and g.id_map(ITEM).ids.tolist() == ["s1", "s2"]
    day = 86400
    jan1 = 1704067200  # 2024-01-01T00:00:00Z
    assert edge_map(g) == {  # (ann, s1) twice: weight 2, the latest time
        ("ann", "s1"): (2.0, jan1 + 3 * day), ("ann", "s2"): (1.0, jan1 + 2 * day),
        ("bob", "s1"): (1.0, jan1 + day), ("cat", "s2"): (1.0, jan1 + 4 * day),
    }


def test_duplicate_rules(plays: pd.DataFrame) -> None:
    merged = gr.Graph.from_frame(plays, item_col="song", duplicates="merge")
    assert merged.num_edges(INTERACTS) == 4 and merged.edges(INTERACTS).weight is None
    kept = gr.Graph.from_frame(plays, item_col="song", duplicates="keep")
    assert kept.num_edges(INTERACTS) == 5
    with pytest.raises(ValueError, match="duplicate edge"):
        gr.Graph.from_frame(plays, item_col="song", duplicates="error")
    distinct = gr.Graph.from_frame(plays.iloc[:3], item_col="song")  # no repeated pair: stays unweighted
    assert distinct.edges(INTERACTS).weight is None
    rated = plays.assign(stars=[4.0, 3.0, 5.0, 1.5, 2.0])
    g = gr.Graph.from_frame(rated, item_col="song", weight_col="stars")  # weights of repeats summed
    assert edge_map(g)[("ann", "s1")][0] == 5.5 and edge_map(g)[("bob", "s1")][0] == 3.0


def test_pyarrow_table_and_timezones_give_the_same_graph(plays: pd.DataFrame) -> None:
    ref = edge_map(gr.Graph.from_frame(plays, item_col="song", time_col="at"))
    assert edge_map(gr.Graph.from_frame(pa.Table.from_pandas(plays), item_col="song", time_col="at")) == ref
    utc = plays.assign(at=plays["at"].dt.tz_localize("UTC"))
    assert edge_map(gr.Graph.from_frame(utc, item_col="song", time_col="at")) == ref
    paris = plays.assign(at=plays["at"].dt.tz_localize("Europe/Paris"))  # one hour ahead of UTC in winter
    shifted = edge_map(gr.Graph.from_frame(paris, item_col="song", time_col="at"))
    assert {k: t - 3600 for k, (_, t) in ref.items()} == {k: t for k, (_, t) in shifted.items()}
    cats = plays.astype({"user": "category"})  # categorical ids are decoded
    assert edge_map(gr.Graph.from_frame(cats, item_col="song", time_col="at")) == ref


def test_any_table_with_the_arrow_stream_interface(plays: pd.DataFrame) -> None:
    class Stream:  # what polars and other Arrow-speaking frames expose
        def __init__(self, table: pa.Table) -> None:
            self.table = table

        def __arrow_c_stream__(self, requested_schema=None):
            return self.table.__arrow_c_stream__(requested_schema)

    ref = edge_map(gr.Graph.from_frame(plays, item_col="song", time_col="at"))
    assert edge_map(gr.Graph.from_frame(Stream(pa.Table.from_pandas(plays)), item_col="song", time_col="at")) == ref


def test_integer_ids_and_string_digits_stay_as_given() -> None:
    g = gr.Graph.from_frame(pd.DataFrame({"user": [10, 3, 10], "item": ["007", "7", "7"]}))
    assert g.id_map(USER).ids.tolist() == [3, 10] and g.id_map(ITEM).ids.tolist() == ["007", "7"]


def test_trust_frame_and_unknown_ids(plays: pd.DataFrame) -> None:
    trust = pd.DataFrame({"a": ["ann", "bob"], "b": ["bob", "cat"]})
    g = gr.Graph.from_frame(plays, item_col="song", trust=trust, trust_cols=("a", "b"))
    assert set(edge_map(g, TRUSTS)) == {("ann", "bob"), ("bob", "cat")} and g.num_nodes(USER) == 3
    stranger = pd.DataFrame({"src": ["ann", "ann"], "dst": ["bob", "dave"]})
    with pytest.raises(ValueError, match=r"^\('user', 'trusts', 'user'\) dst: user id 'dave' is not in the graph; pass new_nodes=True"):
        gr.Graph.from_frame(plays, item_col="song", trust=stranger)
    g = gr.Graph.from_frame(plays, item_col="song", trust=stranger, new_nodes=True)
    assert g.id_map(USER).ids.tolist() == ["ann", "bob", "cat", "dave"] and g.num_edges(TRUSTS) == 2
    with pytest.raises(TypeError, match="user ids are strings"):
        gr.Graph.from_frame(plays, item_col="song", trust=pd.DataFrame({"src": [1], "dst": [2]}))


def test_add_frame_any_relation_and_chaining(plays: pd.DataFrame) -> None:
    tags = pd.DataFrame({"song": ["s1", "s2", "s2"], "tag": ["rock", "rock", "jazz"]})
    g = gr.Graph.from_frame(plays, item_col="song").add_frame(
        tags, etype=("item", "tagged", "tag"), src_col="song", dst_col="tag")
    assert g.id_map("tag").ids.tolist() == ["rock", "jazz"]  # a new node type is created from the rows
    assert set(edge_map(g, ("item", "tagged", "tag"))) == {("s1", "rock"), ("s2", "rock"), ("s2", "jazz")}
    with pytest.raises(ValueError, match="item id 's9' is not in the graph"):  # ... an existing one is not grown
        g.add_frame(pd.DataFrame({"song": ["s9"], "tag": ["rock"]}), etype="tagged", src_col="song", dst_col="tag")
    g.add_frame(pd.DataFrame({"src": ["cat"], "dst": ["ann"]}))  # default: user -trusts-> user
    assert set(edge_map(g, TRUSTS)) == {("cat", "ann")}


def test_errors_name_the_column_and_the_row(plays: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"missing column\(s\) \['item'\]; the frame has columns \['user', 'song', 'at'\]"):
        gr.Graph.from_frame(plays)
    holes = plays.set_axis(["a", "b", "c", "d", "e"]).astype({"user": object})
    holes.loc["c", "user"] = None
    with pytest.raises(ValueError, match="DataFrame, index 'c': column 'user' is empty"):
        gr.Graph.from_frame(holes, item_col="song")
    bad_time = plays.assign(at=plays["at"].where(plays.index != 3))  # NaT in row 3
    with pytest.raises(ValueError, match="DataFrame, index 3: column 'at' is empty"):
        gr.Graph.from_frame(bad_time, item_col="song", time_col="at")
    with pytest.raises(ValueError, match="index 1: column 'w' weight -1.0 must be finite and non-negative"):
        gr.Graph.from_frame(plays.assign(w=[1.0, -1.0, 1, 1, 1]), item_col="song", weight_col="w")
    with pytest.raises(TypeError, match="column 'user'.*cannot be read"):
        gr.Graph.from_frame(pd.DataFrame({"user": [1, "a"], "item": [1, 2]}))
    with pytest.raises(TypeError, match="pandas DataFrame or a pyarrow Table, got dict"):
        gr.Graph.from_frame({"user": [1], "item": [2]})
    with pytest.raises(ValueError, match="no rows"):
        gr.Graph.from_frame(plays.iloc[:0], item_col="song")


def test_from_frame_then_split_then_fit(plays: pd.DataFrame) -> None:
    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame({
        "user": [f"user_{u}" for u in rng.integers(0, 20, n)],
        "item": [f"song_{i}" for i in rng.integers(0, 30, n)],
        "at": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.permutation(n), unit="min"),
    })
    g = gr.Graph.from_frame(df, time_col="at")
    data = gr.temporal_leave_last_out(g)
    # held out: the (user, item) of each user's latest play, for users with two or more distinct items
    last = df.sort_values("at").groupby("user").tail(1)
    several = df.groupby("user")["item"].nunique() > 1
    expected = {(u, i) for u, i in zip(last["user"], last["item"]) if several[u]}
    assert set(edge_map(data.test)) == expected and len(expected) > 10
    model = gr.models.create("itemknn").fit(data)
    items, _ = model.recommend(users=["user_0", "user_1"], k=3)
    assert items.shape == (2, 3) and set(items.ravel()) <= set(df["item"])
    report = dict(gr.evaluate(model, data, k=[5]))
    assert set(report) == {f"{m}@5" for m in ("recall", "ndcg", "precision", "hit", "mrr", "coverage")}
    split = gr.random_holdout(g, 0.2, seed=1)  # the other split step: every edge in exactly one part
    assert split.train.num_edges(INTERACTS) + split.test.num_edges(INTERACTS) == g.num_edges(INTERACTS)


def test_pandas_inputs_raise_no_torch_warning() -> None:
    """pandas 3 hands out read-only arrays; torch warns once per process when it wraps one,
    so the check runs in a fresh interpreter with warnings as errors."""
    code = textwrap.dedent("""
        import warnings
        warnings.simplefilter("error")
        import numpy as np, pandas as pd
        import graphrec as gr
        df = pd.DataFrame({"u": np.array([0, 1, 1]), "i": np.array([1, 0, 1]), "w": [1.0, 2.0, 3.0],
                           "t": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"])})
        g = gr.Graph()
        g.add_nodes("user", [0, 1]); g.add_nodes("item", [0, 1])
        g.add_edges(gr.INTERACTS, df["u"], df["i"], df["w"], df["t"])
        gr.Graph.from_frame(df, "u", "i", "w", "t")
        print(g.edges().timestamp.tolist())
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(gr.__file__).parents[1])}  # this checkout's graphrec
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[1704067200,", "1704153600,", "1704240000]"]  # CSR order: (0,1), (1,0), (1,1)
