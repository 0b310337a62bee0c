"""What ``Graph.add_edges`` makes of its rows: repeated pairs (``duplicates='count'``, the
default), ids it does not know (``new_nodes``), and datetimes as timestamps."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import graphrec as gr
from graphrec.graph import INTERACTS, TRUSTS, USER, Graph


def weights(g: Graph, etype=INTERACTS) -> dict:
    es = g.edges(etype)
    s, d = es.coo()
    w = es.weight
    return {(int(a), int(b)): (None if w is None else float(w[k])) for k, (a, b) in enumerate(zip(s, d))}


# ------------------------------------------------------------------ duplicates
def test_repeated_unweighted_rows_become_counts() -> None:
    g = Graph()
    g.add_edges(INTERACTS, ["u1", "u1", "u2", "u1", "u1"], ["a", "b", "a", "a", "a"], by="id")
    assert weights(g) == {(0, 0): 3.0, (0, 1): 1.0, (1, 0): 1.0}  # (u1, a) three times


def test_counts_grow_incrementally_and_an_unrepeated_set_stays_unweighted() -> None:
    g = Graph()
    g.add_edges(INTERACTS, [0, 1], [0, 0], by="id")
    assert g.edges(INTERACTS).weight is None  # no repeat: nothing to count, nothing stored
    g.add_edges(INTERACTS, [0, 2], [0, 1], by="id")  # (0, 0) again: the set gains weights
    assert weights(g) == {(0, 0): 2.0, (1, 0): 1.0, (2, 1): 1.0}
    g.add_edges(INTERACTS, [0], [0], by="id")  # an unweighted row into a counted set weighs 1
    assert weights(g)[(0, 0)] == 3.0
    g.add_edges(INTERACTS, [1], [0], [2.5], by="id")  # weighted rows add their weight
    assert weights(g)[(1, 0)] == 3.5
    h = Graph()
    h.add_edges(INTERACTS, [0], [0], by="id")
    h.add_edges(INTERACTS, [0, 1], [1, 1], [4.0, 0.5], by="id")  # weights into an unweighted set: its edges weigh 1
    assert weights(h) == {(0, 0): 1.0, (0, 1): 4.0, (1, 1): 0.5}


def test_merge_keeps_binary_relevance_and_refuses_mixed_fields() -> None:
    g = Graph()
    g.add_edges(INTERACTS, [0, 0, 1], [0, 0, 0], by="id", duplicates="merge")
    assert weights(g) == {(0, 0): None, (1, 0): None}
    with pytest.raises(ValueError, match="the edge set has no weight or timestamp, these rows have weight"):
        g.add_edges(INTERACTS, [0], [1], [2.0], by="id", duplicates="merge")
    g.add_edges(INTERACTS, [2], [1], by="id")  # default count, no repeat: fields unchanged
    with pytest.raises(ValueError, match="the edge set has timestamp, these rows have neither"):
        h = Graph()
        h.add_edges(INTERACTS, [0], [0], timestamp=[5], by="id")
        h.add_edges(INTERACTS, [0], [0], by="id")  # count fills weights, never times


@settings(max_examples=40, deadline=None)
@given(pairs=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=30),
       cut=st.integers(0, 30), weighted=st.booleans())
def test_count_is_the_row_count_of_kept_multi_edges_and_merge_on_weights(pairs: list, cut: int, weighted: bool) -> None:
    src, dst = [p[0] for p in pairs], [p[1] for p in pairs]
    w = [float(1 + (k % 3)) for k in range(len(pairs))] if weighted else None
    kept = Graph()
    kept.add_edges(INTERACTS, src, dst, w, by="id", duplicates="keep")
    expect: dict = {}
    ks, kd = kept.edges(INTERACTS).coo()
    kw = kept.edges(INTERACTS).weight
    for k, (a, b) in enumerate(zip(ks.tolist(), kd.tolist())):
        expect[(a, b)] = expect.get((a, b), 0.0) + (1.0 if kw is None else float(kw[k]))
    counted = Graph()  # in two calls: incremental counting equals counting at once
    c = min(cut, len(pairs))
    counted.add_edges(INTERACTS, src[:c], dst[:c], None if w is None else w[:c], by="id")
    counted.add_edges(INTERACTS, src[c:], dst[c:], None if w is None else w[c:], by="id")
    got = weights(counted)
    if counted.edges(INTERACTS).weight is None:  # unweighted only while no pair repeats
        assert len(set(pairs)) == len(pairs) and not weighted
        got = {k: 1.0 for k in got}
    assert got == expect
    if weighted:
        merged = Graph()
        merged.add_edges(INTERACTS, src, dst, w, by="id", duplicates="merge")
        assert weights(merged) == got


def test_unknown_duplicates_rule_lists_the_rules() -> None:
    with pytest.raises(ValueError, match="duplicates must be one of 'count', 'merge', 'keep', 'error', got 'sum'"):
        Graph().add_edges(INTERACTS, [0], [0], by="id", duplicates="sum")


# ------------------------------------------------------------------- new nodes
def test_new_nodes_false_refuses_unknown_ids_and_leaves_the_graph_unchanged() -> None:
    g = Graph()
    g.add_edges(INTERACTS, ["u1", "u2"], ["a", "b"], by="id")
    before = (g.num_nodes(USER), g.version)
    with pytest.raises(ValueError, match=r"^\('user', 'trusts', 'user'\) dst: user id 'ghost' \(and 1 more\) is not in the graph"):
        g.add_edges(TRUSTS, ["u1", "u2", "u1"], ["u2", "ghost", "spook"], by="id", new_nodes=False)
    assert (g.num_nodes(USER), g.version) == before and not g.has_edge_type(TRUSTS)
    g.add_edges(TRUSTS, ["u1"], ["u2"], by="id", new_nodes=False)
    g.add_edges(("item", "tagged", "tag"), ["a"], ["rock"], by="id", new_nodes=False)  # a new node type is created
    assert g.id_map("tag").ids.tolist() == ["rock"]
    g.add_edges(TRUSTS, ["u1"], ["ghost"], by="id")  # growth stays the default of add_edges
    assert "ghost" in g.id_map(USER)


def test_dataset_from_pairs_refuses_trust_to_unknown_users() -> None:
    train, test = (["a", "b"], ["x", "y"]), (["a"], ["y"])
    with pytest.raises(ValueError, match="user id 'zed' is not in the graph; pass new_nodes=True"):
        gr.Dataset.from_pairs("t", train, test, trust=(["a"], ["zed"]))
    ds = gr.Dataset.from_pairs("t", train, test, trust=(["a"], ["zed"]), new_nodes=True)
    assert ds.train.id_map(USER).ids.tolist() == ["a", "b", "zed"] and ds.test.num_nodes(USER) == 3


# ------------------------------------------------------------------ datetimes
JAN1 = 1704067200  # 2024-01-01T00:00:00Z


@pytest.mark.parametrize("times", [
    np.array(["2024-01-01T00:00:00", "2024-01-01T01:00:00"], dtype="datetime64[ns]"),
    np.array(["2024-01-01T00", "2024-01-01T01"], dtype="datetime64[h]"),  # a unit Arrow lacks
    [dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 1, 1)],
    [dt.datetime(2024, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))), dt.datetime(2024, 1, 1, 1, tzinfo=dt.timezone.utc)],
    pd.Series(pd.to_datetime(["2024-01-01 01:00", "2024-01-01 02:00"])).dt.tz_localize("Europe/Paris"),
    pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-01 01:00"]),
    pd.Series([dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 1, 1)], dtype=object),
    np.array([JAN1, JAN1 + 3600]),
])
def test_add_edges_takes_datetimes_as_unix_seconds(times) -> None:
    g = Graph()
    g.add_edges(INTERACTS, ["u", "v"], ["a", "a"], timestamp=times, by="id")
    assert g.edges(INTERACTS).timestamp.tolist() == [JAN1, JAN1 + 3600]


def test_dates_sub_seconds_and_missing_times() -> None:
    from graphrec.graph.times import arrow_unix_seconds, datetimes_to_unix_seconds

    assert datetimes_to_unix_seconds(np.array(["2024-01-01"], dtype="datetime64[D]")).tolist() == [JAN1]
    before = np.array(["1969-12-31T23:59:59.5", "1970-01-01T00:00:00.5"], dtype="datetime64[ms]")
    assert datetimes_to_unix_seconds(before).tolist() == [-1, 0]  # rounded down, also before 1970
    assert datetimes_to_unix_seconds(np.array([1, 2])) is None and datetimes_to_unix_seconds(torch.tensor([1])) is None
    with pytest.raises(ValueError, match="timestamp: missing value at position 1"):
        Graph().add_edges(INTERACTS, ["u", "v"], ["a", "a"], timestamp=pd.to_datetime(["2024-01-01", None]), by="id")
    import pyarrow as pa

    assert arrow_unix_seconds(pa.array(["2024-01-01", "2024-01-01T00:00:10"])).tolist() == [JAN1, JAN1 + 10]
    with pytest.raises(TypeError, match="must hold integer times or timestamps, got type double"):
        arrow_unix_seconds(pa.array([1.5]))


def test_read_only_arrays_are_copied_not_wrapped() -> None:
    """pandas 3 and Arrow hand out read-only arrays; torch would wrap them (and warn)."""
    from graphrec.graph.store import _tensor

    ro = np.arange(4, dtype=np.int64)
    ro.flags.writeable = False
    t = _tensor(ro, torch.int64, "x", torch.device("cpu"))
    assert t.tolist() == [0, 1, 2, 3] and t.data_ptr() != ro.ctypes.data
    rw = np.arange(4, dtype=np.int64)
    assert _tensor(rw, torch.int64, "x", torch.device("cpu")).data_ptr() == rw.ctypes.data  # no needless copy
