"""The Graph store: CSR construction, merging, derived views, slicing, persistence."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graphrec.graph import INTERACTS, TRUSTS, Graph
from tests.graph.test_interop import assert_same_graph

# users 0..2, items 0..3; CSR by hand:
#   user 0 -> items 1, 3 ; user 1 -> item 0 ; user 2 -> items 0, 1 ; item 2 has no edges
SRC = [2, 0, 0, 1, 2]
DST = [1, 3, 1, 0, 0]
W = [1.0, 2.0, 3.0, 4.0, 5.0]
TS = [50, 20, 10, 40, 30]


def tiny(weight: bool = True, timestamp: bool = True) -> Graph:
    g = Graph()
    g.add_node_type("user", ["u0", "u1", "u2"])
    g.add_node_type("item", [100, 101, 102, 103])
    g.add_edges(INTERACTS, SRC, DST, W if weight else None, TS if timestamp else None)
    return g


def dense(g: Graph, etype=INTERACTS, weighted: bool = True) -> np.ndarray:
    es = g.edges(etype)
    out = np.zeros((es.num_src, es.num_dst))
    s, d = (x.numpy() for x in es.coo())
    vals = es.weight.numpy() if (weighted and es.weight is not None) else np.ones(es.num_edges)
    np.add.at(out, (s, d), vals)
    return out


# ----------------------------------------------------------------- add_edges
def test_csr_order_by_hand() -> None:
    g = tiny()
    es = g.edges(INTERACTS)
    assert es.indptr.tolist() == [0, 2, 3, 5]
    assert es.indices.tolist() == [1, 3, 0, 0, 1]
    # weights / timestamps follow their edges: (0,1)=3 @10, (0,3)=2 @20, (1,0)=4 @40, (2,0)=5 @30, (2,1)=1 @50
    assert es.weight.tolist() == [3.0, 2.0, 4.0, 5.0, 1.0]
    assert es.timestamp.tolist() == [10, 20, 40, 30, 50]
    assert es.indices.dtype == torch.int32 and es.indptr.dtype == torch.int32
    assert es.weight.dtype == torch.float32 and es.timestamp.dtype == torch.int64
    assert g.num_edges() == 5 and g.num_nodes() == 7


def test_add_edges_by_id_creates_nodes_in_first_seen_order() -> None:
    g = Graph()
    s, d = g.add_edges(INTERACTS, ["b", "a", "b"], [7, 5, 5], by="id")
    assert g.id_map("user").ids.tolist() == ["b", "a"]
    assert g.id_map("item").ids.tolist() == [7, 5]
    assert s.tolist() == [0, 1, 0] and d.tolist() == [0, 1, 1]
    assert g.edges().indptr.tolist() == [0, 2, 3]
    assert g.edges().indices.tolist() == [0, 1, 1]


def test_duplicates_merge_sums_weights_and_keeps_latest_time() -> None:
    g = Graph()
    g.add_node_type("user", 2)
    g.add_node_type("item", 2)
    g.add_edges(INTERACTS, [0, 1, 0, 0], [1, 0, 1, 1], [1.0, 4.0, 2.0, 0.5], [5, 1, 3, 9])
    es = g.edges()
    assert es.indptr.tolist() == [0, 1, 2] and es.indices.tolist() == [1, 0]
    assert es.weight.tolist() == [3.5, 4.0]
    assert es.timestamp.tolist() == [9, 1]


def test_merged_weights_do_not_depend_on_the_order_of_duplicates() -> None:
    """2**24 + 1 + 1 is 2**24 or 2**24 + 2 in float32, depending on the order it is summed in."""
    merged = []
    for w in ([2.0**24, 1.0, 1.0], [1.0, 1.0, 2.0**24]):
        g = Graph()
        g.add_node_type("user", 1)
        g.add_node_type("item", 1)
        g.add_edges(INTERACTS, [0, 0, 0], [0, 0, 0], w)
        merged.append(g.edges().weight)
    assert merged[0].dtype == torch.float32 and merged[0].tolist() == merged[1].tolist() == [2.0**24 + 2]


def test_duplicates_keep_and_error() -> None:
    g = Graph()
    g.add_node_type("user", 2)
    g.add_node_type("item", 2)
    g.add_edges(INTERACTS, [0, 1, 0], [1, 0, 1], [1.0, 4.0, 2.0], duplicates="keep")
    es = g.edges()
    assert es.indptr.tolist() == [0, 2, 3] and es.indices.tolist() == [1, 1, 0]
    assert es.weight.tolist() == [1.0, 2.0, 4.0]  # multi-edges in input order
    h = Graph()
    h.add_node_type("user", 2)
    h.add_node_type("item", 2)
    with pytest.raises(ValueError, match=r"duplicate edge \(1, 0\)"):
        h.add_edges(INTERACTS, [1, 0, 1], [0, 1, 0], duplicates="error")
    # an edge repeating one already stored is a duplicate too
    h.add_edges(INTERACTS, [0], [0], duplicates="error")
    with pytest.raises(ValueError, match=r"duplicate edge \(0, 0\)"):
        h.add_edges(INTERACTS, [0], [0], duplicates="error")
    with pytest.raises(ValueError, match="duplicates must be"):
        h.add_edges(INTERACTS, [0], [0], duplicates="sum")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_weights_raise(bad: float) -> None:
    g = tiny(weight=False, timestamp=False)
    with pytest.raises(ValueError, match=r"weight contains NaN or infinite values \(first at position 1\)"):
        g.add_edges(INTERACTS, [0, 1], [0, 1], weight=[1.0, bad])
    assert g.num_edges(INTERACTS) == 5


def test_out_of_range_indices_raise_index_error() -> None:
    g = tiny()
    with pytest.raises(IndexError, match=r"dst index 4 out of range \[0, 4\)"):
        g.add_edges(INTERACTS, [0], [4], [1.0], [1])
    with pytest.raises(IndexError, match=r"src index -1 out of range \[0, 3\)"):
        g.add_edges(INTERACTS, [-1], [0], [1.0], [1])
    with pytest.raises(KeyError, match="node type 'tag' does not exist"):
        g.add_edges(("user", "tagged", "tag"), [0], [0])


def test_wrong_dtypes_raise_type_error() -> None:
    g = tiny(weight=False, timestamp=True)
    with pytest.raises(TypeError, match="src must be numeric"):
        g.add_edges(INTERACTS, ["0"], [1], timestamp=[1])
    with pytest.raises(TypeError, match="must be integers, got non-integral floats"):
        g.add_edges(INTERACTS, [0.5], [1], timestamp=[1])
    with pytest.raises(TypeError, match="must be integers, got booleans"):
        g.add_edges(INTERACTS, torch.tensor([True]), [1], timestamp=[1])
    with pytest.raises(TypeError, match="timestamp must be integers"):
        g.add_edges(INTERACTS, [0], [1], timestamp=[1.5])
    with pytest.raises(TypeError, match="etype must be"):
        g.add_edges(("user", "item"), [0], [1])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="item ids are integers"):
        g.add_edges(INTERACTS, ["u0"], ["x"], timestamp=[1], by="id")


def test_other_bad_inputs_raise_value_error() -> None:
    g = tiny()
    with pytest.raises(ValueError, match="src has 2 entries but dst has 1"):
        g.add_edges(INTERACTS, [0, 1], [0], [1.0, 1.0], [1, 1])
    with pytest.raises(ValueError, match="weight has 1 entries for 2 edges"):
        g.add_edges(INTERACTS, [0, 1], [0, 1], [1.0], [1, 1])
    with pytest.raises(ValueError, match="same fields"):
        g.add_edges(INTERACTS, [0], [0], [1.0])  # the edge set has timestamps
    with pytest.raises(ValueError, match="by must be"):
        g.add_edges(INTERACTS, [0], [0], [1.0], [1], by="name")


def test_rejected_add_edges_by_id_leaves_graph_unchanged() -> None:
    g = tiny()
    before = (g.id_map("user").ids.tolist(), g.id_map("item").ids.tolist(), g.version)
    with pytest.raises(ValueError):
        g.add_edges(INTERACTS, ["new1", "new2"], [500, 501], weight=[1.0, float("nan")], timestamp=[1, 2], by="id")
    with pytest.raises(ValueError):
        g.add_edges(INTERACTS, ["new1", "new2"], [500], weight=[1.0, 1.0], timestamp=[1, 2], by="id")
    with pytest.raises(TypeError):
        g.add_edges(INTERACTS, ["new1"], ["not-an-int"], weight=[1.0], timestamp=[1], by="id")
    assert (g.id_map("user").ids.tolist(), g.id_map("item").ids.tolist(), g.version) == before


def test_incremental_merge_by_hand() -> None:
    g = tiny()
    g.add_edges(INTERACTS, [1, 0, 2], [3, 1, 2], [10.0, 10.0, 10.0], [60, 5, 70])
    es = g.edges()
    assert es.indptr.tolist() == [0, 2, 4, 7]
    assert es.indices.tolist() == [1, 3, 0, 3, 0, 1, 2]
    assert es.weight.tolist() == [13.0, 2.0, 4.0, 10.0, 5.0, 1.0, 10.0]
    assert es.timestamp.tolist() == [10, 20, 40, 60, 30, 50, 70]  # (0,1) keeps its later time 10


edge_lists = st.lists(
    st.tuples(st.integers(0, 4), st.integers(0, 5), st.integers(-3, 5), st.integers(0, 100)),
    min_size=0, max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(edges=edge_lists, cuts=st.lists(st.integers(0, 40), max_size=3),
       duplicates=st.sampled_from(["merge", "keep"]), by=st.sampled_from(["index", "id"]))
def test_incremental_add_equals_all_at_once(edges: list, cuts: list, duplicates: str, by: str) -> None:
    src = [e[0] for e in edges]
    dst = [e[1] for e in edges]
    w = [float(e[2]) for e in edges]  # small integers: float sums are exact in any order
    ts = [e[3] for e in edges]
    if by == "id":
        src = [f"u{s}" for s in src]

    def fresh() -> Graph:
        g = Graph()
        if by == "index":
            g.add_node_type("user", 5)
            g.add_node_type("item", 6)
        return g

    whole = fresh()
    whole.add_edges(INTERACTS, src, dst, w, ts, by=by, duplicates=duplicates)
    inc = fresh()
    bounds = [0, *sorted(min(c, len(edges)) for c in cuts), len(edges)]
    for a, b in itertools.pairwise(bounds):
        inc.add_edges(INTERACTS, src[a:b], dst[a:b], w[a:b], ts[a:b], by=by, duplicates=duplicates)
    assert_same_graph(whole, inc)
    # and both agree with a plain Python reference
    es = whole.edges()
    got = list(zip(*(x.tolist() for x in es.coo()), es.weight.tolist(), es.timestamp.tolist()))
    us = whole.id_map("user")
    ref_src = us.to_index(src).tolist() if by == "id" else src
    ref_dst = whole.id_map("item").to_index(dst).tolist() if by == "id" else dst
    if duplicates == "keep":
        ref = sorted(zip(ref_src, ref_dst, w, ts), key=lambda e: (e[0], e[1]))  # stable: input order
    else:
        acc: dict = {}
        for s, d, wi, ti in zip(ref_src, ref_dst, w, ts):
            pw, pt = acc.get((s, d), (0.0, -(2**63)))
            acc[(s, d)] = (pw + wi, max(pt, ti))
        ref = [(s, d, wi, ti) for (s, d), (wi, ti) in sorted(acc.items())]
    assert got == ref


def test_add_nodes_grows_edge_sets() -> None:
    g = tiny()
    v0 = g.version
    idx = g.add_nodes("item", [103, 104, 105])
    assert idx.tolist() == [3, 4, 5]
    es = g.edges(INTERACTS)
    assert (es.num_src, es.num_dst) == (3, 6)
    assert es.indptr.tolist() == [0, 2, 3, 5]  # unchanged: only destinations grew
    assert g.degree(INTERACTS, side="dst").tolist() == [2, 2, 0, 1, 0, 0]
    g.add_nodes("user", ["u9"])
    es = g.edges(INTERACTS)
    assert es.num_src == 4 and es.indptr.tolist() == [0, 2, 3, 5, 5]
    assert g.version > v0
    g.add_edges(INTERACTS, [3], [5], [1.0], [1])
    assert g.edges(INTERACTS).indptr.tolist() == [0, 2, 3, 5, 6]
    # a homogeneous edge set grows on both sides
    g.add_edges(TRUSTS, [0], [1])
    g.add_nodes("user", ["u10"])
    t = g.edges(TRUSTS)
    assert (t.num_src, t.num_dst) == (5, 5) and t.indptr.tolist() == [0, 1, 1, 1, 1, 1]


# ----------------------------------------------------------- derived views
def test_csc_equals_scipy_transpose() -> None:
    g = tiny()
    es = g.edges(INTERACTS)
    indptr, indices, perm = g.csc(INTERACTS)
    ref = sp.csr_matrix(dense(g)).T.tocsr()
    ref.sort_indices()
    assert indptr.tolist() == ref.indptr.tolist() == [0, 2, 4, 4, 5]
    assert indices.tolist() == ref.indices.tolist() == [1, 2, 0, 2, 0]
    assert es.weight[perm.long()].tolist() == ref.data.tolist()
    assert torch.equal(es.row()[perm.long()], indices.long())  # perm points back at the same edges
    t = es.transpose_matrix().to_dense()
    assert torch.equal(t, torch.from_numpy(dense(g).T).float())


def test_degrees_by_hand() -> None:
    g = tiny()
    assert g.degree(INTERACTS, "src").tolist() == [2, 1, 2]
    assert g.degree(INTERACTS, "dst").tolist() == [2, 2, 0, 1]
    assert g.degree(INTERACTS, "src", weighted=True).tolist() == [5.0, 4.0, 6.0]
    assert g.degree(INTERACTS, "dst", weighted=True).tolist() == [9.0, 4.0, 0.0, 2.0]
    with pytest.raises(ValueError, match="side must be"):
        g.degree(INTERACTS, "both")
    stats = g.degree_stats()["interacts:item"]
    assert stats == {"min": 0.0, "mean": 1.25, "median": 1.5, "max": 2.0, "zeros": 1}  # degrees 0, 1, 2, 2


@pytest.mark.parametrize("weighted", [False, True])
def test_norm_adj_equals_dense_formula(weighted: bool) -> None:
    g = tiny()
    R = dense(g, weighted=weighted)
    nu, ni = R.shape
    A = np.zeros((nu + ni, nu + ni))
    A[:nu, nu:] = R
    A[nu:, :nu] = R.T
    d = A.sum(1)
    inv = np.where(d > 0, 1.0 / np.sqrt(np.where(d > 0, d, 1.0)), 0.0)
    A_hat = inv[:, None] * A * inv[None, :]
    Rn, RTn = g.norm_adj(INTERACTS, weighted=weighted)
    np.testing.assert_allclose(Rn.to_dense().numpy(), A_hat[:nu, nu:], rtol=1e-6)
    np.testing.assert_allclose(RTn.to_dense().numpy(), A_hat[nu:, :nu], rtol=1e-6)
    assert not torch.isnan(Rn.values()).any()  # item 2 has degree 0
    # one value by hand (unweighted): edge (0, 1): 1 / sqrt(deg u0 = 2 * deg i1 = 2) = 0.5
    if not weighted:
        assert Rn.to_dense()[0, 1].item() == pytest.approx(0.5)
    assert g.norm_adj(INTERACTS, weighted=weighted)[0] is Rn  # cached
    es = g.edges(INTERACTS)  # the blocks reuse the store's index arrays
    assert Rn.crow_indices().data_ptr() == es.indptr.data_ptr()
    assert RTn.col_indices().data_ptr() == es.csc().indices.data_ptr()


def test_edges_between_time_slices() -> None:
    g = tiny()
    g.add_edges(TRUSTS, [0, 1], [1, 2])  # no timestamps: kept whole by default
    s = g.edges_between(20, 40)
    es = s.edges(INTERACTS)
    assert sorted(es.timestamp.tolist()) == [20, 30]
    assert list(zip(*(x.tolist() for x in es.coo()))) == [(0, 3), (2, 0)]
    assert es.weight.tolist() == [2.0, 5.0]
    assert s.num_edges(TRUSTS) == 2
    assert s.id_map("user") is g.id_map("user")
    assert sorted(g.edges_between(None, 30).edges(INTERACTS).timestamp.tolist()) == [10, 20]
    assert sorted(g.edges_between(40, None).edges(INTERACTS).timestamp.tolist()) == [40, 50]
    assert g.edges_between(60, 70).num_edges(INTERACTS) == 0
    assert g.num_edges(INTERACTS) == 5  # the original is untouched
    with pytest.raises(ValueError, match="has no timestamps"):
        g.edges_between(0, 10, etypes=[TRUSTS])


def test_edges_between_compares_float_and_out_of_range_bounds_exactly() -> None:
    g = tiny()  # timestamps 10 .. 50
    ts = sorted(TS)

    def sliced(t0, t1) -> list[int]:
        return sorted(g.edges_between(t0, t1).edges(INTERACTS).timestamp.tolist())

    for t0, t1 in [(19.5, 40.5), (20.5, 39.5), (-10.5, 10.5), (10.0, 30.0), (np.float32(29.5), torch.tensor(30.25))]:
        assert sliced(t0, t1) == [t for t in ts if t0 <= t < t1], (t0, t1)  # int() would truncate 19.5 -> 19 ...
    assert sliced(20.5, None) == [30, 40, 50]  # ... and keep 20 here
    assert sliced(-math.inf, math.inf) == ts == sliced(None, 2**63) == sliced(-(2**64), None)
    assert sliced(math.inf, None) == [] == sliced(None, -math.inf) == sliced(2**63, None)  # torch wraps 2**63 to -2**63
    with pytest.raises(ValueError, match="t1 is NaN"):
        g.edges_between(0, math.nan)


def test_edge_subgraph_shares_tensors() -> None:
    g = tiny()
    g.add_edges(TRUSTS, [0, 1], [1, 2])
    sub = g.edge_subgraph(["trusts"])
    assert sub.edge_types == [TRUSTS]
    assert sub.edges(TRUSTS) is g.edges(TRUSTS)
    assert sub.node_types == g.node_types and sub.num_nodes("item") == 4
    with pytest.raises(KeyError, match="relation 'follows'"):
        g.edge_subgraph(["follows"])


def test_resolve_etype() -> None:
    g = tiny()
    assert g.resolve_etype() == INTERACTS
    assert g.resolve_etype("interacts") == INTERACTS
    g.add_edges(TRUSTS, [0], [1])
    assert g.resolve_etype(None) == INTERACTS  # the interaction type wins when several exist
    with pytest.raises(KeyError, match="unknown edge type"):
        g.resolve_etype(("item", "x", "user"))
    assert g.has_edge_type("trusts") and not g.has_edge_type("follows")


def test_to_same_device_is_identity_and_other_device_moves_everything() -> None:
    g = tiny()
    g.node_attrs["item"]["x"] = torch.ones(4, 2)
    assert g.to("cpu") is g
    assert g.to(torch.device("cpu")) is g
    m = g.to("meta")  # a real second device without a GPU
    assert m.device == torch.device("meta")
    assert m.edges(INTERACTS).indices.device.type == "meta"
    assert m.node_attrs["item"]["x"].device.type == "meta"
    assert g.node_attrs["item"]["x"].device.type == "cpu"  # the original stays
    assert m.id_map("user") is g.id_map("user")


@pytest.mark.parametrize("device", ["mps", torch.device("mps"), "nonsense"])
def test_devices_graphrec_cannot_use_are_refused_by_name(device: object) -> None:
    with pytest.raises(ValueError, match="mps.*float64|unknown device 'nonsense'"):
        Graph(device=device)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mps.*float64|unknown device 'nonsense'"):
        tiny().to(device)  # type: ignore[arg-type]


def test_nbytes_by_hand() -> None:
    g = tiny()
    es = g.edges(INTERACTS)
    # int32 indptr (4) + int32 indices (5) + float32 weight (5) + int64 timestamp (5)
    base = 4 * 4 + 5 * 4 + 5 * 4 + 5 * 8
    assert g.nbytes(include_cache=False) == base
    es.csc()  # int32 indptr (5) + indices (5) + perm (5)
    assert g.nbytes(include_cache=False) == base
    assert g.nbytes() == base + 5 * 4 + 5 * 4 + 5 * 4
    g.norm_adj(INTERACTS)  # two new float32 value arrays of 5; index arrays are shared
    assert g.nbytes() == base + 60 + 2 * 5 * 4
    g.degree(INTERACTS, weighted=True)  # caches the int64 row of each edge
    assert g.nbytes() == base + 60 + 40 + 5 * 8
    assert g.nbytes(include_cache=False) == base


# -------------------------------------------------------------- persistence
def test_save_load_exact_round_trip(tmp_path: Path) -> None:
    g = tiny()
    g.add_edges(TRUSTS, [0, 2, 1], [1, 0, 2], duplicates="keep")
    g.add_nodes("tag", [])  # an empty node type survives
    g.node_attrs["item"]["x"] = torch.arange(8, dtype=torch.float32).reshape(4, 2)
    g.node_attrs["item"]["year"] = np.array([1999, 2001, 2005, 2010], dtype=np.int32)
    g.node_attrs["item"]["title"] = np.array(["Alien", "Brazil", "Heat", "Ran"])
    g.node_attrs["user"]["gender"] = ["F", "M", "F"]
    g.node_attrs["user"]["grid"] = np.array([["a", "b"], ["c", "d"], ["e", "f"]])
    g.node_attrs["user"]["name.with.dots"] = torch.tensor([1, 2, 3])
    g.meta["source"] = "hand-made"
    h = Graph.load(g.save(tmp_path / "g"))
    assert_same_graph(g, h)
    assert h.id_map("user").ids.tolist() == ["u0", "u1", "u2"] and h.id_map("user").is_str
    assert h.id_map("item").ids.tolist() == [100, 101, 102, 103]
    assert h.num_nodes("tag") == 0
    assert torch.equal(h.node_attrs["item"]["x"], g.node_attrs["item"]["x"])
    year = h.node_attrs["item"]["year"]
    assert isinstance(year, np.ndarray) and year.dtype == np.int32 and year.tolist() == [1999, 2001, 2005, 2010]
    title = h.node_attrs["item"]["title"]
    assert title.dtype.kind == "U" and title.tolist() == ["Alien", "Brazil", "Heat", "Ran"]
    assert h.node_attrs["user"]["gender"].tolist() == ["F", "M", "F"]
    assert h.node_attrs["user"]["grid"].tolist() == [["a", "b"], ["c", "d"], ["e", "f"]]
    assert torch.equal(h.node_attrs["user"]["name.with.dots"], torch.tensor([1, 2, 3]))
    assert h.meta == {"source": "hand-made"}
    assert h.edges(TRUSTS).weight is None and h.edges(INTERACTS).timestamp is not None
    # range id maps stay range maps
    r = Graph()
    r.add_node_type("user", 3)
    r.add_node_type("item", 2)
    r.add_edges(INTERACTS, [0, 2], [1, 1])
    r2 = Graph.load(r.save(tmp_path / "r"))
    assert_same_graph(r, r2)
    assert json.loads((tmp_path / "r" / "graph.json").read_text())["nodes"][0]["kind"] == "range"


def test_a_save_that_fails_on_meta_leaves_the_previous_save_intact(tmp_path: Path) -> None:
    g = tiny()
    path = g.save(tmp_path / "g")
    h = tiny(weight=False)
    h.add_edges(TRUSTS, [0], [1])
    h.meta["n"] = np.int64(3)  # not JSON-serialisable: refused before anything is written
    with pytest.raises(TypeError, match="not JSON serializable"):
        h.save(path)
    assert_same_graph(Graph.load(path), g)  # not h's tensors under g's graph.json


def test_load_to_device(tmp_path: Path) -> None:
    g = tiny()
    g.node_attrs["item"]["x"] = torch.ones(4, 3)
    h = Graph.load(g.save(tmp_path / "g"), device="meta")
    assert h.device.type == "meta" and h.node_attrs["item"]["x"].device.type == "meta"


def test_load_corrupted_directory_raises_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a saved graphrec graph"):
        Graph.load(tmp_path / "nothing")
    g = tiny()
    path = g.save(tmp_path / "g")
    meta = json.loads((path / "graph.json").read_text())

    (path / "graph.json").write_text("{not json")
    with pytest.raises(ValueError, match="malformed JSON"):
        Graph.load(path)
    (path / "graph.json").write_text(json.dumps({**meta, "version": 99}))
    with pytest.raises(ValueError, match="format version"):
        Graph.load(path)
    (path / "graph.json").write_text(json.dumps({k: v for k, v in meta.items() if k != "nodes"}))
    with pytest.raises(ValueError, match="malformed graph description"):
        Graph.load(path)
    bad_key = dict(meta, edges=[{**meta["edges"][0], "key": "e7"}])
    (path / "graph.json").write_text(json.dumps(bad_key))
    with pytest.raises(ValueError, match="lacks tensor 'e7.indptr'"):
        Graph.load(path)
    (path / "graph.json").write_text(json.dumps(meta))
    assert Graph.load(path).num_edges() == 5  # restored: loads again

    tensors = torch.load(path / "tensors.pt", weights_only=True)
    tensors["e0.indices"] = torch.tensor([1, 3, 0, 0, 9], dtype=torch.int32)
    torch.save(tensors, path / "tensors.pt")
    with pytest.raises(ValueError, match=r"destination index out of range \[0, 4\)"):
        Graph.load(path)
    tensors["e0.indices"] = torch.tensor([1, 3, 0, 0, 1], dtype=torch.int32)
    tensors["e0.indptr"] = torch.tensor([0, 3, 2, 5], dtype=torch.int32)
    torch.save(tensors, path / "tensors.pt")
    with pytest.raises(ValueError, match="corrupted indptr"):
        Graph.load(path)
    tensors["e0.indptr"] = torch.tensor([0, 2, 3, 5], dtype=torch.int32)
    tensors["e0.indices"] = torch.tensor([3, 1, 0, 0, 1], dtype=torch.int32)  # row 0 unsorted: merges would miss pairs
    torch.save(tensors, path / "tensors.pt")
    with pytest.raises(ValueError, match="not sorted within rows"):
        Graph.load(path)

    (path / "tensors.pt").write_bytes(b"\x00garbage")
    with pytest.raises(ValueError, match="unreadable or corrupted"):
        Graph.load(path)
    full = g.save(tmp_path / "h") / "tensors.pt"
    full.write_bytes(full.read_bytes()[:100])  # truncated
    with pytest.raises(ValueError, match="unreadable or corrupted"):
        Graph.load(tmp_path / "h")


# ------------------------------------------------- graphs sharing id maps (copy on write)
def _consistent(g: Graph) -> None:
    """Every edge set spans exactly its endpoint types' node counts."""
    for et in g.edge_types:
        es = g.edges(et)
        assert (es.num_src, es.num_dst) == (g.num_nodes(et[0]), g.num_nodes(et[2])), et
        assert es.indptr.numel() == g.num_nodes(et[0]) + 1


def _derive(g: Graph, how: str) -> Graph:
    from graphrec.data.dataset import held_out_graph

    return {
        "edges_between": lambda: g.edges_between(t0=15),
        "edge_subgraph": lambda: g.edge_subgraph([INTERACTS]),
        "to": lambda: g.to("cuda" if torch.cuda.is_available() else "meta"),  # meta: shapes only
        "held_out": lambda: held_out_graph(g, [0], [2]),
    }[how]()


@pytest.mark.parametrize("how", ["edges_between", "edge_subgraph", "to", "held_out"])
@pytest.mark.parametrize("grow", ["derived", "parent"])
def test_growing_one_of_two_graphs_sharing_id_maps_leaves_the_other_unchanged(how: str, grow: str) -> None:
    g = tiny()
    g.add_edges(TRUSTS, [0], [1])
    d = _derive(g, how)
    assert d.id_map("user") is g.id_map("user")  # shared until one of them grows
    grower, other = (d, g) if grow == "derived" else (g, d)
    before = {nt: other.id_map(nt).ids.tolist() for nt in other.node_types}
    m_before = other.id_map("user")
    device = grower.device
    if device.type == "meta":  # cannot sort edges there; growing the node sets is enough
        grower.add_nodes("user", ["u9"])
        grower.add_nodes("item", [104])
    else:
        kw = {} if grow == "derived" and how == "held_out" else {"weight": [1.0], "timestamp": [50]}
        grower.add_edges(INTERACTS, ["u9"], [104], by="id", **kw)
    grower.add_nodes("user", ["u10"])
    assert grower.num_nodes("user") == 5 and grower.num_nodes("item") == 5
    assert grower.id_map("user").ids.tolist() == ["u0", "u1", "u2", "u9", "u10"]
    assert grower.edges(INTERACTS).device == device
    # the other graph: same counts, ids and map object, its edge sets still match its node sets
    assert {nt: other.id_map(nt).ids.tolist() for nt in other.node_types} == before
    assert other.id_map("user") is m_before and other.num_nodes("user") == 3 and other.num_nodes("item") == 4
    for h in (grower, other):
        _consistent(h)
    if other.device.type == "cpu":
        r, _ = other.norm_adj()
        assert tuple(r.shape) == (3, 4)


def test_dataset_train_grows_without_touching_test() -> None:
    from graphrec.data import Dataset

    ds = Dataset.from_pairs("t", train=(["a", "b"], ["x", "y"]), test=(["a"], ["y"]))
    ds.train.add_edges(INTERACTS, ["new"], ["z"], by="id")
    assert ds.train.num_nodes("user") == 3 and ds.train.num_nodes("item") == 3
    assert ds.test.num_nodes("user") == 2 and ds.test.num_nodes("item") == 2
    assert ds.test.id_map("user").ids.tolist() == ["a", "b"]
    _consistent(ds.train)
    _consistent(ds.test)


def test_add_node_type_with_another_name_does_not_rename_the_given_map() -> None:
    from graphrec.graph import IdMap

    m = IdMap(["a"], name="user")
    g = Graph()
    g.add_node_type("user", m)
    g.add_node_type("member", m)
    assert m.name == "user" and g.id_map("user") is m and g.id_map("member").name == "member"


# ------------------------------------------------------ rejected calls change nothing
def _snapshot(g: Graph) -> tuple:
    edges = {
        et: tuple(None if t is None else t.tolist() for t in (es.indptr, es.indices, es.weight, es.timestamp))
        for et in g.edge_types for es in [g.edges(et)]
    }
    return {nt: g.id_map(nt).ids.tolist() for nt in g.node_types}, edges, g.version, repr(g)


REJECTIONS = [
    # (etype, src, dst, weight, timestamp, keywords, exception, message)
    (INTERACTS, ["u2", "new"], [100, 555], [1.0, 1.0], [1, 2], {"by": "id", "duplicates": "error"}, ValueError, None),
    (INTERACTS, ["new", "new"], [555, 555], [1.0, 1.0], [1, 2], {"by": "id", "duplicates": "error"}, ValueError, "duplicate edge"),
    (INTERACTS, ["new"], [555], [float("nan")], [1], {"by": "id"}, ValueError, "NaN"),
    (INTERACTS, ["new"], [555], [1e39], [1], {"by": "id"}, ValueError, "exceeds float32's range"),
    (INTERACTS, ["new", "new"], [555, 555], [3e38, 3e38], [1, 2], {"by": "id"}, ValueError, "merged weight 6e\\+38"),
    (INTERACTS, ["new"], [555], [1.0], [1.5], {"by": "id"}, TypeError, "timestamp must be integers"),
    (INTERACTS, ["new"], ["not-an-int"], [1.0], [1], {"by": "id"}, TypeError, "item ids are integers"),
    (INTERACTS, [7], [555], [1.0], [1], {"by": "id"}, TypeError, "user ids are strings"),
    (INTERACTS, ["new"], [np.uint64(2**63)], [1.0], [1], {"by": "id"}, ValueError, "exceeds int64's range"),
    (INTERACTS, ["new", "new2"], [555], [1.0, 1.0], [1, 2], {"by": "id"}, ValueError, "src has 2 entries but dst has 1"),
    (INTERACTS, ["new"], [555], None, None, {"by": "id"}, ValueError, "same fields"),
    (INTERACTS, [0], [4], [1.0], [1], {}, IndexError, "out of range"),
    (INTERACTS, [0], [1], [1.0], [1], {"duplicates": "error"}, ValueError, "duplicate edge"),
    (INTERACTS, ["new"], [555], [1.0], [1], {"by": "name"}, ValueError, "by must be"),
    (INTERACTS, ["new"], [555], [1.0], [1], {"by": "id", "duplicates": "sum"}, ValueError, "duplicates must be"),
    (TRUSTS, ["new", "new"], ["u0", "u0"], None, None, {"by": "id", "duplicates": "error"}, ValueError, "duplicate edge"),
    (("user", "tagged", "tag"), ["new", "new"], ["t", "t"], None, None, {"by": "id", "duplicates": "error"}, ValueError, "duplicate"),
    (("user", "tagged", "tag"), [0], [0], None, None, {}, KeyError, "node type 'tag' does not exist"),
]


@pytest.mark.parametrize(("etype", "src", "dst", "w", "ts", "kw", "exc", "match"), REJECTIONS)
def test_every_rejected_add_edges_leaves_the_graph_unchanged(etype, src, dst, w, ts, kw, exc, match) -> None:
    g = tiny()
    g.add_edges(TRUSTS, [0], [1])
    before = _snapshot(g)
    with pytest.raises(exc, match=match):
        g.add_edges(etype, src, dst, w, ts, **kw)
    assert _snapshot(g) == before
    assert "new" not in g.id_map("user") and not g.has_node_type("tag")
    g.add_edges(INTERACTS, ["new"], [555], [1.0], [1], by="id")  # and the graph still works
    assert g.num_nodes("user") == 4 and g.num_nodes("item") == 5
    _consistent(g)


def test_rejected_duplicate_by_id_from_the_report() -> None:
    g = Graph()
    g.add_edges(INTERACTS, ["u1"], ["a"], by="id")
    with pytest.raises(ValueError, match="duplicate edge"):
        g.add_edges(INTERACTS, ["u2", "u2"], ["b", "b"], by="id", duplicates="error")
    assert g.id_map("user").ids.tolist() == ["u1"] and g.id_map("item").ids.tolist() == ["a"]
    assert g.num_nodes() == 2


# ------------------------------------------------------------- float32 weight range
def test_weights_beyond_float32_raise_naming_the_value() -> None:
    g = Graph()
    with pytest.raises(ValueError, match=r"weight 1e\+39 \(position 1\) exceeds float32's range"):
        g.add_edges(INTERACTS, [0, 1], [0, 1], weight=np.array([1.0, 1e39]), by="id")
    with pytest.raises(ValueError, match=r"merged weight 6e\+38 of edge \(0, 0\) exceeds float32's range"):
        g.add_edges(INTERACTS, [0, 0], [0, 0], weight=[3e38, 3e38], by="id")
    assert g.node_types == [] and g.edge_types == []

    g.add_edges(INTERACTS, [0], [0], weight=[3e38], by="id")
    with pytest.raises(ValueError, match="merged weight 6e\\+38 of edge \\(0, 0\\)"):  # merging into an existing edge
        g.add_edges(INTERACTS, [0], [0], weight=[3e38], by="id")
    g.add_edges(INTERACTS, [0], [0], weight=[3e38], by="id", duplicates="keep")  # not merged: each weight fits
    assert g.edges().weight.tolist() == pytest.approx([3e38, 3e38])
    h = Graph()
    h.add_edges(INTERACTS, [0, 0], [0, 0], weight=[3e38, -3e38], by="id")  # merged sum 0: fits
    assert h.edges().weight.tolist() == [0.0]
    assert bool(torch.isfinite(h.norm_adj(weighted=True)[0].values()).all())
    with pytest.raises(ValueError, match="NaN or infinite"):
        Graph().add_edges(INTERACTS, [0], [0], weight=[float("inf")], by="id")


def test_weights_below_float32_raise_instead_of_becoming_zero() -> None:
    g = Graph()
    with pytest.raises(ValueError, match=r"weight 1e-50 \(position 1\) is below float32's range and would become 0"):
        g.add_edges(INTERACTS, [0, 1], [0, 1], weight=np.array([1.0, 1e-50]), by="id")
    assert g.edge_types == []
    g.add_edges(INTERACTS, [0, 1, 2], [0, 1, 2], weight=np.array([0.0, 1e-40, -0.0]), by="id")  # zero and subnormal stay
    assert g.edges(INTERACTS).weight.tolist()[0] == 0.0 and g.edges(INTERACTS).weight[1] > 0


# --------------------------------------------------------------- corrupt graph.json
@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda m: [1, 2], "expected a JSON object, got a list"),
        (lambda m: {**m, "nodes": {"user": 1}}, "'nodes' must be a list"),
        (lambda m: {**m, "edges": [{**m["edges"][0], "etype": ["user", "interacts"]}]}, "must be a list of three names"),
        (lambda m: {**m, "edges": [{**m["edges"][0], "etype": "uix"}]}, "must be a list of three names"),
        (lambda m: {**m, "edges": [{**m["edges"][0], "etype": ["user", 1, "item"]}]}, "must be a list of three names"),
        (lambda m: {**m, "edges": [7]}, "malformed graph description"),
        (lambda m: {**m, "nodes": [m["nodes"][0], {**m["nodes"][1], "kind": "strs"}]}, "node type #1: id map 'item': unknown id kind 'strs'"),
        (lambda m: {**m, "nodes": [m["nodes"][0], {**m["nodes"][1], "ids": ["a", "b", "c", "d"]}]}, "kind 'int' but holds ids such as 'a'"),
        (lambda m: {**m, "nodes": [m["nodes"][0], {**m["nodes"][1], "ids": [1, 2]}]}, "indptr|out of range|entries"),
        (lambda m: {**m, "nodes": [m["nodes"][0], m["nodes"][0]]}, "node type 'user' is listed twice"),
        (lambda m: {**m, "attrs": [1]}, "'attrs' and 'meta' must be JSON objects"),
        (lambda m: {**m, "attrs": {"user": {"x": {"kind": "list", "values": ["a"], "shape": [2]}}}}, "node attribute 'user'.'x'"),
    ],
)
def test_load_corrupt_graph_json_raises_value_error_naming_the_file(tmp_path: Path, edit, match: str) -> None:
    path = tiny().save(tmp_path / "g")
    meta = json.loads((path / "graph.json").read_text())
    (path / "graph.json").write_text(json.dumps(edit(meta)))
    with pytest.raises(ValueError, match=match) as info:
        Graph.load(path)
    assert str(path) in str(info.value)


def test_merge_and_error_leave_earlier_kept_multi_edges_alone() -> None:
    g = Graph()
    g.add_edges(INTERACTS, [0, 0], [0, 0], weight=[1.0, 2.0], timestamp=[5, 6], by="id", duplicates="keep")
    g.add_edges(INTERACTS, [1], [1], weight=[5.0], timestamp=[7], by="id")  # another pair: the multi-edge stays
    g.add_edges(INTERACTS, [2], [2], weight=[3.0], timestamp=[8], by="id", duplicates="error")  # no new duplicate
    es = g.edges(INTERACTS)
    assert [p.tolist() for p in es.coo()] == [[0, 0, 1, 2], [0, 0, 1, 2]] and es.weight.tolist() == [1.0, 2.0, 5.0, 3.0]
    with pytest.raises(ValueError, match=r"duplicate edge \(0, 0\)"):  # a new edge repeats the kept pair
        g.add_edges(INTERACTS, [0], [0], weight=[1.0], timestamp=[9], by="id", duplicates="error")
    g.add_edges(INTERACTS, [0], [0], weight=[4.0], timestamp=[9], by="id")  # ... and merge folds the whole pair
    es = g.edges(INTERACTS)
    assert [p.tolist() for p in es.coo()] == [[0, 1, 2], [0, 1, 2]]
    assert es.weight.tolist() == [7.0, 5.0, 3.0] and es.timestamp.tolist() == [9, 7, 8]


def test_an_edgeless_graph_says_it_has_no_edge_types() -> None:
    with pytest.raises(ValueError, match="graph has no edge types"):
        Graph().edges()


def test_degree_stats_keep_both_sides_of_a_user_to_user_relation() -> None:
    g = Graph()
    g.add_edges(TRUSTS, ["a", "a", "a"], ["b", "c", "d"], by="id")
    stats = g.degree_stats()
    assert stats["trusts:user:out"]["max"] == 3.0 and stats["trusts:user:out"]["zeros"] == 3
    assert stats["trusts:user:in"]["max"] == 1.0 and stats["trusts:user:in"]["zeros"] == 1


@settings(max_examples=40, deadline=None)
@given(degs=st.lists(st.integers(0, 6), min_size=1, max_size=9))
def test_degree_stats_match_numpy(degs: list[int]) -> None:
    g = Graph()
    g.add_node_type("user", len(degs))
    g.add_node_type("item", max(degs))
    src = [u for u, d in enumerate(degs) for _ in range(d)]
    dst = [i for d in degs for i in range(d)]
    g.add_edges(INTERACTS, src, dst)
    d = np.array(degs, dtype=np.float64)
    stats = g.degree_stats()["interacts:user"]
    assert stats == {"min": d.min(), "mean": pytest.approx(d.mean()), "median": np.median(d), "max": d.max(), "zeros": int((d == 0).sum())}


@pytest.mark.parametrize("weight", [True, False])
def test_derived_views_are_float32_whatever_torch_default_dtype(weight: bool) -> None:
    g = tiny(weight=weight)
    want_deg = g.degree(INTERACTS, "dst", weighted=True)
    want_norm = [t.to_dense() for t in g.norm_adj(INTERACTS, weighted=True)]
    h = tiny(weight=weight)
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # a user's setting: the store's float views must not follow it
    try:
        es = h.edges(INTERACTS)
        for side in ("src", "dst"):
            assert es.degree(side, weighted=True).dtype == torch.float32
        assert torch.equal(h.degree(INTERACTS, "dst", weighted=True), want_deg)
        norm = h.norm_adj(INTERACTS, weighted=True)
        assert [t.dtype for t in norm] == [torch.float32, torch.float32]
        assert all(torch.equal(a.to_dense(), b) for a, b in zip(norm, want_norm))
        assert es.matrix().dtype == es.transpose_matrix().dtype == torch.float32
    finally:
        torch.set_default_dtype(old)


def test_an_etype_must_be_a_triple_not_any_three_item_sequence() -> None:
    with pytest.raises(TypeError, match=r"etype must be a \(src_type, relation, dst_type\) tuple of str, got 'abc'"):
        Graph().add_edges("abc", [0], [0], by="id")  # a 3-letter string used to become ('a', 'b', 'c')


def test_edge_set_with_values_shares_the_structure():
    from graphrec.graph.edges import EdgeSet

    es = EdgeSet(("u", "r", "i"), 3, 2, torch.tensor([0, 2, 2, 3]), torch.tensor([0, 1, 1]), torch.tensor([1.0, 2.0, 3.0]))
    plain = es.with_values()
    assert plain.weight is None and plain.indices is es.indices and plain._csc is None  # nothing built for it
    es.csc()
    back = es.with_values(torch.tensor([5.0, 6.0, 7.0]), etype=("u", "r-back", "i"))
    assert back.etype == ("u", "r-back", "i") and back.weight.tolist() == [5.0, 6.0, 7.0]
    assert back.csc() is es.csc() and back.indptr is es.indptr
    with pytest.raises(ValueError, match="weight has 2 entries"):
        es.with_values(torch.tensor([1.0, 2.0]))
