"""Round trips between the Graph store and scipy / networkx / igraph / PyG / DGL."""

from __future__ import annotations

import subprocess
import sys

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from graphrec.graph import INTERACTS, TRUSTS, Graph
from graphrec.graph import interop as io

FRIENDS = ("user", "friends", "user")


def assert_same_graph(a: Graph, b: Graph, ordered: bool = True) -> None:
    order = (lambda x: x) if ordered else sorted
    assert order(a.node_types) == order(b.node_types)
    for nt in a.node_types:
        assert a.id_map(nt) == b.id_map(nt), nt
    assert order(a.edge_types) == order(b.edge_types)
    for et in a.edge_types:
        x, y = a.edges(et), b.edges(et)
        assert (x.num_src, x.num_dst) == (y.num_src, y.num_dst), et
        assert torch.equal(x.indptr.long(), y.indptr.long()), et
        assert torch.equal(x.indices.long(), y.indices.long()), et
        for f in ("weight", "timestamp"):
            tx, ty = getattr(x, f), getattr(y, f)
            assert (tx is None) == (ty is None), (et, f)
            if tx is not None:
                assert torch.equal(tx, ty), (et, f)


def edge_list(g: Graph, et=None) -> list[tuple]:
    """(src id, dst id, weight, timestamp) of every edge, by external id."""
    es = g.edges(et)
    s, d = (x.numpy() for x in es.coo())
    sid = g.id_map(es.etype[0]).ids[s].tolist()
    did = g.id_map(es.etype[2]).ids[d].tolist()
    w = es.weight.tolist() if es.weight is not None else [None] * es.num_edges
    t = es.timestamp.tolist() if es.timestamp is not None else [None] * es.num_edges
    return sorted(zip(sid, did, w, t), key=repr)


@pytest.fixture
def hetero() -> Graph:
    """String user ids, int item ids (item 30 isolated), weights + timestamps, trust edges."""
    g = Graph()
    g.add_node_type("user", ["bob", "ann", "cid"])
    g.add_node_type("item", [20, 10, 30, 40])
    g.add_edges(INTERACTS, ["ann", "bob", "bob", "cid", "ann"], [10, 20, 40, 10, 20],
                [1.5, 2.0, 0.25, 4.0, 3.0], [100, 200, 300, 400, 500], by="id")
    g.add_edges(TRUSTS, ["ann", "cid", "bob"], ["bob", "ann", "ann"], by="id")
    return g


# -------------------------------------------------------------------- scipy
def test_to_scipy_by_hand(hetero: Graph) -> None:
    m = hetero.to_scipy(INTERACTS)
    assert isinstance(m, sp.csr_matrix) and m.shape == (3, 4) and m.dtype == np.float32
    # rows bob, ann, cid; columns 20, 10, 30, 40
    assert m.toarray().tolist() == [[2.0, 0.0, 0.0, 0.25], [3.0, 1.5, 0.0, 0.0], [0.0, 4.0, 0.0, 0.0]]
    t = io.to_scipy(hetero, TRUSTS)
    assert t.dtype == np.float32 and t.toarray().tolist() == [[0, 1, 0], [1, 0, 0], [0, 1, 0]]
    m.data[:] = 0  # a copy: editing it leaves the store alone
    assert hetero.edges(INTERACTS).weight.sum().item() == pytest.approx(10.75)


def test_scipy_round_trip(hetero: Graph) -> None:
    m = io.to_scipy(hetero, INTERACTS)
    back = Graph.from_scipy(m, INTERACTS, hetero.id_map("user"), hetero.id_map("item"))
    sub = Graph()
    sub.add_node_type("user", hetero.id_map("user"))
    sub.add_node_type("item", hetero.id_map("item"))
    es = hetero.edges(INTERACTS)
    sub.add_edges(INTERACTS, *es.coo(), es.weight)  # what scipy can hold: no timestamps
    assert_same_graph(sub, back)
    assert back.id_map("user") is not hetero.id_map("user")  # copied, not shared
    # homogeneous, unweighted: a 0/1 pattern comes back without weights
    trust = io.from_scipy(io.to_scipy(hetero, TRUSTS), TRUSTS, hetero.id_map("user"))
    assert trust.node_types == ["user"] and trust.edges().weight is None
    assert edge_list(trust) == edge_list(hetero, TRUSTS)


def test_from_scipy_options() -> None:
    ones = sp.csr_matrix(np.array([[1, 0], [1, 1]]))
    assert io.from_scipy(ones).edges().weight is None
    assert io.from_scipy(ones, weighted=True).edges().weight.tolist() == [1.0, 1.0, 1.0]
    vals = sp.csr_matrix(np.array([[0.5, 0], [0, 2.0]]))
    g = io.from_scipy(vals, src_ids=["a", "b"], dst_ids=[7, 8])
    assert g.id_map("user").ids.tolist() == ["a", "b"] and g.id_map("item").ids.tolist() == [7, 8]
    assert edge_list(g) == [("a", 7, 0.5, None), ("b", 8, 2.0, None)]
    # duplicate entries of a COO matrix: merged (summed, like scipy) or kept
    coo = sp.coo_matrix((np.array([1.0, 2.0, 5.0]), (np.array([0, 0, 1]), np.array([1, 1, 0]))), shape=(2, 2))
    assert io.from_scipy(coo).edges().weight.tolist() == [3.0, 5.0]
    assert io.from_scipy(coo, duplicates="keep").edges().weight.tolist() == [1.0, 2.0, 5.0]
    # explicit zeros are edges
    z = sp.csr_matrix((np.array([0.0, 1.0]), np.array([0, 1]), np.array([0, 1, 2])), shape=(2, 2))
    assert io.from_scipy(z).num_edges() == 2
    assert io.from_scipy(sp.csr_array((3, 4))).num_nodes("item") == 4  # sparse arrays too


@pytest.mark.parametrize(
    ("values", "weighted"),
    [
        ([1.0, 1.0, 1.0], True),  # a 0/1 pattern with a repeated entry: scipy sums it to 2
        ([0.5, 0.5, 1.0], False),  # merged values are all 1: unweighted
        ([1, 1, 1], True),  # integer matrices too
        ([True, True, True], False),  # scipy ORs booleans
        ([2.0, -1.0, 1.0], False),
    ],
)
def test_from_scipy_merge_equals_scipys_summed_matrix(values: list, weighted: bool) -> None:
    coo = sp.coo_matrix((np.array(values), (np.array([0, 0, 1]), np.array([0, 0, 2]))), shape=(2, 3))
    g = io.from_scipy(coo)
    assert np.array_equal(g.to_scipy().toarray(), coo.tocsr().toarray().astype(np.float32))
    assert (g.edges().weight is not None) == weighted and g.num_edges() == 2
    single = sp.coo_matrix((np.array([1.0, 1.0]), (np.array([0, 0]), np.array([0, 0]))), shape=(1, 1))
    assert io.from_scipy(single).to_scipy().toarray().tolist() == [[2.0]]  # the tester's case
    kept = io.from_scipy(single, duplicates="keep")  # kept multi-edges: ones, unweighted, still sum to 2
    assert kept.edges().weight is None and kept.num_edges() == 2 and kept.to_scipy().toarray().tolist() == [[2.0]]


def test_from_scipy_refuses_1d_arrays_and_non_bool_weighted() -> None:
    with pytest.raises(ValueError, match=r"matrix must be 2-D .* got shape \(3,\)"):
        io.from_scipy(sp.coo_array(np.array([1, 0, 2])))
    for bad in ("no", 1):
        with pytest.raises(TypeError, match="weighted must be True or False"):
            io.from_scipy(sp.eye(2, format="csr"), weighted=bad)
    assert io.from_scipy(sp.eye(2, format="csr"), weighted=np.bool_(True)).edges().weight is not None


def test_from_scipy_bad_input() -> None:
    with pytest.raises(TypeError, match="scipy.sparse"):
        io.from_scipy(np.eye(2))
    with pytest.raises(ValueError, match="must be square"):
        io.from_scipy(sp.csr_matrix((2, 3)), TRUSTS)
    with pytest.raises(ValueError, match="src_ids has 3 ids but the 'user' side has 2"):
        io.from_scipy(sp.csr_matrix((2, 3)), src_ids=["a", "b", "c"])
    with pytest.raises(ValueError, match="dst_ids must equal src_ids"):
        io.from_scipy(sp.csr_matrix((2, 2)), TRUSTS, ["a", "b"], ["b", "a"])
    with pytest.raises(ValueError, match="NaN"):
        io.from_scipy(sp.csr_matrix(np.array([[np.nan, 1.0]])))
    with pytest.raises(TypeError, match="etype"):
        io.from_scipy(sp.csr_matrix((2, 2)), ("user", "item"))


# ----------------------------------------------------------------- networkx
def test_to_networkx_layout(hetero: Graph) -> None:
    G = hetero.to_networkx()
    assert isinstance(G, nx.MultiDiGraph)
    assert list(G.nodes)[:3] == [("user", "bob"), ("user", "ann"), ("user", "cid")]
    assert G.nodes[("item", 30)] == {"ntype": "item"}  # the isolated item is there
    assert G.number_of_nodes() == 7 and G.number_of_edges() == 8
    data = G.get_edge_data(("user", "ann"), ("item", 10))
    assert list(data) == [0]  # one edge, key 0
    d = data[0]
    assert d == {"etype": INTERACTS, "weight": 1.5, "timestamp": 100}
    assert G.get_edge_data(("user", "cid"), ("user", "ann"))[0] == {"etype": TRUSTS}
    assert type(d["timestamp"]) is int and type(d["weight"]) is float


def test_networkx_round_trip(hetero: Graph) -> None:
    hetero.add_nodes("tag", ["x"])  # a node type without edges
    hetero.add_edges(("tag", "of", "item"), [], [], weight=[])  # an empty, weighted edge type
    back = Graph.from_networkx(hetero.to_networkx())
    assert_same_graph(hetero, back)


def test_networkx_round_trip_keeps_multi_edges() -> None:
    g = Graph()
    g.add_edges(INTERACTS, [1, 1, 2], [5, 5, 5], [1.0, 2.0, 4.0], by="id", duplicates="keep")
    G = io.to_networkx(g)
    assert G.number_of_edges(("user", 1), ("item", 5)) == 2
    assert_same_graph(g, io.from_networkx(G, duplicates="keep"))
    merged = io.from_networkx(G)
    assert merged.edges().weight.tolist() == [3.0, 4.0]


def test_from_networkx_plain_directed() -> None:
    G = nx.DiGraph()
    G.add_edge("a", "b", weight=2.0)
    G.add_edge("b", "a")
    G.add_node("lonely")
    g = io.from_networkx(G)
    assert g.node_types == ["node"] and g.edge_types == [("node", "links", "node")]
    assert g.id_map("node").ids.tolist() == ["a", "b", "lonely"]
    assert edge_list(g) == [("a", "b", 2.0, None), ("b", "a", 1.0, None)]  # missing weight = 1


def test_from_networkx_plain_undirected_stores_both_directions() -> None:
    G = nx.Graph()
    G.add_edges_from([(1, 2), (2, 3), (3, 3)])
    g = io.from_networkx(G, relation="knows", ntype="person")
    assert g.edge_types == [("person", "knows", "person")]
    assert edge_list(g) == [(1, 2, None, None), (2, 1, None, None), (2, 3, None, None),
                            (3, 2, None, None), (3, 3, None, None)]  # the self loop once
    # degrees agree with networkx's
    deg = g.degree(side="src").tolist()
    assert deg == [G.degree(1), G.degree(2), G.degree(3) - 1]  # nx counts a self loop twice


def test_from_networkx_bipartite() -> None:
    G = nx.Graph()
    G.add_nodes_from(["u1", "u2"], bipartite=0)
    G.add_nodes_from(["i1", "i2", "i3"], bipartite=1)
    G.add_edge("i1", "u1", weight=3.0)  # item listed first: still stored user -> item
    G.add_edge("u2", "i2", weight=1.0)
    G.add_edge("u2", "i1", weight=0.5)
    g = io.from_networkx(G)
    assert g.edge_types == [INTERACTS]
    assert g.id_map("user").ids.tolist() == ["u1", "u2"]
    assert g.id_map("item").ids.tolist() == ["i1", "i2", "i3"]
    assert edge_list(g) == [("u1", "i1", 3.0, None), ("u2", "i1", 0.5, None), ("u2", "i2", 1.0, None)]
    D = nx.DiGraph(G)  # both directions of each edge: read user -> item, merged
    assert edge_list(io.from_networkx(D)) == [("u1", "i1", 6.0, None), ("u2", "i1", 1.0, None),
                                              ("u2", "i2", 2.0, None)]
    G.add_edge("u1", "u2")
    with pytest.raises(ValueError, match="'u1' - 'u2' joins two nodes of bipartite side 'user'"):
        io.from_networkx(G)


def test_from_networkx_bad_input() -> None:
    with pytest.raises(TypeError, match="networkx graph"):
        io.from_networkx({"a": ["b"]})
    G = nx.Graph()
    G.add_node("a", bipartite=0)
    G.add_node("b")
    with pytest.raises(ValueError, match="'bipartite' is on 1 of 2 nodes; e.g. node 'b'"):
        io.from_networkx(G)
    G.nodes["b"]["bipartite"] = 2
    with pytest.raises(ValueError, match="must be 0 \\(user\\) or 1 \\(item\\); node 'b' has 2"):
        io.from_networkx(G)
    H = nx.Graph([(1, "a")])
    with pytest.raises(TypeError, match="all ints or all strings"):
        io.from_networkx(H)
    with pytest.raises(TypeError, match="scalar ints or strings"):
        io.from_networkx(nx.grid_2d_graph(2, 2))  # tuple node keys
    D = nx.DiGraph()
    D.add_edge(1, 2, timestamp=5)
    D.add_edge(2, 3)
    with pytest.raises(ValueError, match="'timestamp' is on 1 of 2 edges"):
        io.from_networkx(D)
    T = nx.MultiDiGraph()
    T.add_node(("user", 1), ntype="user")
    T.add_node(("item", 1), ntype="item")
    T.add_edge(("item", 1), ("user", 1), etype=INTERACTS)  # contradicts its etype
    with pytest.raises(ValueError, match="has etype"):
        io.from_networkx(T)
    U = nx.Graph()
    U.add_node("a", ntype="user")
    U.add_node("t", ntype="tag")
    U.add_edge("a", "t")
    with pytest.raises(ValueError, match="give it an 'etype' attribute"):
        io.from_networkx(U)
    U.edges["a", "t"]["etype"] = ("tag", "labels", "user")
    g = io.from_networkx(U)  # oriented by its etype
    assert edge_list(g, ("tag", "labels", "user")) == [("t", "a", None, None)]


# ------------------------------------------------------------------- igraph
def test_to_igraph_bipartite(hetero: Graph) -> None:
    G = hetero.to_igraph(INTERACTS)
    assert G.vcount() == 7 and G.ecount() == 5 and not G.is_directed() and G.is_bipartite()
    assert G.vs["type"] == [False] * 3 + [True] * 4
    assert G.vs["name"] == ["bob", "ann", "cid", 20, 10, 30, 40]
    assert G.vs["ntype"] == ["user"] * 3 + ["item"] * 4
    assert G["etype"] == INTERACTS
    named = sorted((G.vs[a]["name"], G.vs[b]["name"], w, t)
                   for (a, b), w, t in zip(G.get_edgelist(), G.es["weight"], G.es["timestamp"]))
    assert named == sorted(edge_list(hetero, INTERACTS))


def test_igraph_round_trip(hetero: Graph) -> None:
    back = io.from_igraph(io.to_igraph(hetero, INTERACTS))
    assert_same_graph(hetero.edge_subgraph([INTERACTS]), back)
    T = io.to_igraph(hetero, "trusts")
    assert T.is_directed() and T.vcount() == 3 and T.vs["name"] == ["bob", "ann", "cid"]
    tb = io.from_igraph(T)
    assert tb.node_types == ["user"] and tb.edge_types == [TRUSTS]
    assert tb.id_map("user") == hetero.id_map("user")
    assert torch.equal(tb.edges().indices, hetero.edges(TRUSTS).indices)
    assert torch.equal(tb.edges().indptr, hetero.edges(TRUSTS).indptr)


def test_from_igraph_plain_and_bad() -> None:
    import igraph as ig

    G = ig.Graph(n=3, edges=[(0, 1), (1, 2), (2, 2)], directed=False)
    G.es["weight"] = [2.0, 3.0, 4.0]
    g = Graph.from_igraph(G, ntype="city")
    assert g.edge_types == [("city", "links", "city")]
    assert edge_list(g) == [(0, 1, 2.0, None), (1, 0, 2.0, None), (1, 2, 3.0, None),
                            (2, 1, 3.0, None), (2, 2, 4.0, None)]
    B = ig.Graph(n=3, edges=[(0, 1), (1, 2)])
    B.vs["type"] = [False, True, True]
    with pytest.raises(ValueError, match="joins two vertices with type=True"):
        io.from_igraph(B)
    B.vs["type"] = [False, True, None]
    with pytest.raises(ValueError, match="must be boolean"):
        io.from_igraph(B)
    H = ig.Graph(n=2, edges=[(0, 1)], directed=True)
    H.es["timestamp"] = [None]
    with pytest.raises(ValueError, match="missing on 1 of 1 edges"):
        io.from_igraph(H)
    with pytest.raises(ValueError, match="joins two node types"):
        io.from_igraph(ig.Graph(n=2, edges=[(0, 1)]), INTERACTS)
    with pytest.raises(TypeError, match="igraph.Graph"):
        io.from_igraph(nx.Graph())


# ---------------------------------------------------------------------- PyG
def test_node_type_and_relation_names_must_be_str() -> None:
    import igraph as ig

    G = nx.path_graph(3)
    nx.set_node_attributes(G, 5, "ntype")
    with pytest.raises(TypeError, match=r"node attribute 'ntype' \(node 0\) must be a str, got 5"):
        io.from_networkx(G)
    with pytest.raises(TypeError, match="ntype must be a str, got 5"):
        io.from_networkx(nx.path_graph(3), ntype=5)
    with pytest.raises(TypeError, match="relation must be a str"):
        io.from_networkx(nx.path_graph(3), relation=("a",))
    with pytest.raises(TypeError, match="ntype must be a str, got 5"):
        io.from_igraph(ig.Graph.Ring(3), ntype=5)
    H = ig.Graph.Ring(3)
    H.vs["ntype"] = [7, 7, 7]
    with pytest.raises(TypeError, match="vertex attribute 'ntype' must be a str, got 7"):
        io.from_igraph(H)


def test_from_igraph_non_numeric_weight_names_the_attribute() -> None:
    import igraph as ig

    H = ig.Graph(n=2, edges=[(0, 1)], directed=True)
    H.es["weight"] = ["heavy"]
    with pytest.raises(TypeError, match="edge attribute 'weight' must be numeric"):
        io.from_igraph(H)


def test_to_pyg_layout(hetero: Graph) -> None:
    from torch_geometric.data import HeteroData

    hetero.node_attrs["item"]["x"] = torch.arange(8.0).reshape(4, 2)
    hetero.node_attrs["item"]["title"] = np.array(["a", "b", "c", "d"])  # not a tensor: not exported
    data = hetero.to_pyg()
    assert isinstance(data, HeteroData)
    assert data["user"].num_nodes == 3 and data["item"].num_nodes == 4
    ei = data[INTERACTS].edge_index
    assert ei.dtype == torch.int64 and ei.shape == (2, 5)
    es = hetero.edges(INTERACTS)
    assert ei[0].tolist() == es.row().tolist() and ei[1].tolist() == es.indices.tolist()
    assert data[INTERACTS].edge_weight.tolist() == es.weight.tolist()
    assert data[INTERACTS].time.tolist() == es.timestamp.tolist()
    assert "edge_weight" not in data[TRUSTS] and "time" not in data[TRUSTS]
    assert torch.equal(data["item"].x, hetero.node_attrs["item"]["x"])
    assert "title" not in data["item"]
    data[INTERACTS].edge_weight[0] = -1.0  # a copy, not a view of the store
    assert es.weight[0].item() != -1.0


def test_pyg_round_trip(hetero: Graph) -> None:
    hetero.node_attrs["item"]["x"] = torch.arange(8.0).reshape(4, 2)
    back = Graph.from_pyg(hetero.to_pyg())
    assert_same_graph(hetero, back)
    assert torch.equal(back.node_attrs["item"]["x"], hetero.node_attrs["item"]["x"])
    # without stored id maps: explicit id_maps, else 0..n-1
    data = io.to_pyg(hetero)
    del data.id_maps
    plain = io.from_pyg(data)
    assert plain.id_map("user").ids.tolist() == [0, 1, 2]
    named = io.from_pyg(data, id_maps={"user": ["bob", "ann", "cid"], "item": hetero.id_map("item")})
    assert_same_graph(hetero, named)


def test_from_pyg_homogeneous_and_bad() -> None:
    from torch_geometric.data import Data, HeteroData

    d = Data(edge_index=torch.tensor([[0, 1, 2], [1, 2, 0]]), num_nodes=4,
             edge_weight=torch.tensor([1.0, 2.0, 3.0]), x=torch.ones(4, 2))
    g = io.from_pyg(d)
    assert g.edge_types == [("node", "links", "node")] and g.num_nodes("node") == 4
    assert edge_list(g) == [(0, 1, 1.0, None), (1, 2, 2.0, None), (2, 0, 3.0, None)]
    assert g.node_attrs["node"]["x"].shape == (4, 2) and "edge_weight" not in g.node_attrs["node"]
    bad = HeteroData()
    bad["user"].num_nodes = 2
    bad["item"].num_nodes = 2
    bad[INTERACTS].edge_index = torch.tensor([[0.0], [1.0]])
    with pytest.raises(TypeError, match="edge_index must be integer"):
        io.from_pyg(bad)
    bad[INTERACTS].edge_index = torch.tensor([0, 1])
    with pytest.raises(ValueError, match=r"must be a \(2, E\) tensor"):
        io.from_pyg(bad)
    bad[INTERACTS].edge_index = torch.tensor([[0], [2]])
    with pytest.raises(IndexError, match="dst index 2 out of range"):
        io.from_pyg(bad)
    with pytest.raises(ValueError, match=r"id_maps\['user'\] has 3 ids"):
        io.from_pyg(bad, id_maps={"user": [1, 2, 3]})
    with pytest.raises(TypeError, match="HeteroData or Data"):
        io.from_pyg({"edge_index": None})


def test_from_pyg_refuses_id_maps_for_unknown_node_types(hetero: Graph) -> None:
    data = io.to_pyg(hetero)
    with pytest.raises(ValueError, match=r"id_maps names node type 'users', which data lacks"):
        io.from_pyg(data, id_maps={"users": hetero.id_map("user").ids})  # a typo, not silently 0..n-1


def test_pyg_round_trip_random_graph() -> None:
    rng = np.random.default_rng(0)
    g = Graph()
    g.add_node_type("user", [f"u{i}" for i in range(300)])
    g.add_node_type("item", rng.permutation(1000)[:500] * 7)
    m = 5000
    g.add_edges(INTERACTS, rng.integers(0, 300, m), rng.integers(0, 500, m),
                rng.random(m).astype(np.float32), rng.integers(0, 10**9, m))
    assert_same_graph(g, io.from_pyg(io.to_pyg(g)))
    assert_same_graph(g, io.from_networkx(io.to_networkx(g)))
    assert_same_graph(g, io.from_igraph(io.to_igraph(g)))


def test_empty_edge_sets_round_trip() -> None:
    g = Graph()
    g.add_node_type("user", 3)
    g.add_node_type("item", ["a", "b"])
    g.add_edges(INTERACTS, [], [], weight=[])
    g.add_edges(TRUSTS, [], [])
    assert_same_graph(g, io.from_networkx(io.to_networkx(g)))
    assert_same_graph(g, io.from_pyg(io.to_pyg(g)))
    assert_same_graph(g.edge_subgraph([INTERACTS]), io.from_igraph(io.to_igraph(g, INTERACTS)))
    back = io.from_scipy(io.to_scipy(g, TRUSTS), TRUSTS)
    assert back.num_nodes("user") == 3 and back.num_edges() == 0


# ---------------------------------------------------------------------- DGL
def test_dgl_missing_raises_helpful_import_error(hetero: Graph) -> None:
    try:
        import dgl  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("dgl is installed; the missing-dependency message cannot be seen")
    with pytest.raises(ImportError, match=r"pip install graphrec\[dgl\].*torch 2\.2"):
        hetero.to_dgl()
    with pytest.raises(ImportError, match=r"pip install graphrec\[dgl\]"):
        io.from_dgl(object())


def test_dgl_round_trip(hetero: Graph) -> None:
    pytest.importorskip("dgl", reason="DGL not installed (pip install graphrec[dgl]; PyPI builds stop at torch 2.2)")
    G = io.to_dgl(hetero)
    assert G.num_nodes("item") == 4 and G.num_edges(INTERACTS) == 5
    assert G.edges[INTERACTS].data["weight"].tolist() == hetero.edges(INTERACTS).weight.tolist()
    back = io.from_dgl(G, id_maps={nt: hetero.id_map(nt) for nt in hetero.node_types})
    assert back.node_types == hetero.node_types
    assert_same_graph(hetero, back, ordered=False)  # DGL sorts edge types


def test_dgl_build_that_does_not_match_torch_raises_helpful_import_error(
    hetero: Graph, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DGL wheels built for another torch fail on import with FileNotFoundError ("Cannot find
    # DGL C++ graphbolt library"), not ImportError
    fake = tmp_path / "dgl"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise FileNotFoundError('Cannot find DGL C++ graphbolt library')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "dgl", raising=False)
    with pytest.raises(ImportError, match=r"pip install graphrec\[dgl\]") as e:
        hetero.to_dgl()
    assert isinstance(e.value.__cause__, FileNotFoundError)


# ---------------------------------------------------------------- packaging
def test_import_graphrec_stays_light() -> None:
    code = (
        "import sys\n"
        "for name in ('torch_geometric', 'igraph', 'dgl'):\n"
        "    sys.modules[name] = None  # make them unimportable\n"
        "import graphrec, graphrec.graph.interop\n"
        "heavy = [m for m in ('networkx', 'igraph', 'torch_geometric', 'dgl', 'scipy') if sys.modules.get(m)]\n"
        "assert not heavy, heavy\n"
        "g = graphrec.Graph(); g.add_edges(graphrec.INTERACTS, ['a'], [1], by='id')\n"
        "print(g.to_scipy().nnz)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"


@pytest.mark.gpu
def test_pyg_round_trip_on_cuda(hetero: Graph) -> None:
    g = hetero.to("cuda")
    data = io.to_pyg(g)
    assert data[INTERACTS].edge_index.device.type == "cuda"
    back = io.from_pyg(data)
    assert back.device.type == "cuda"
    assert_same_graph(hetero, back.to("cpu"))


@pytest.mark.gpu
def test_igraph_export_from_cuda(hetero: Graph) -> None:
    pytest.importorskip("igraph", reason="igraph is not installed")
    g = hetero.to("cuda")
    assert_same_graph(hetero.edge_subgraph([INTERACTS]), io.from_igraph(io.to_igraph(g, INTERACTS)))
