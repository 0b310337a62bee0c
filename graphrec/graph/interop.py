"""Conversions between the :class:`~graphrec.graph.store.Graph` store and other graph libraries.

Each pair ``to_X`` / ``from_X`` is an exact round trip: the same node types and external ids
(in the same index order), the same edges, and weights and timestamps wherever the target
format can hold them.

=============  ==================================  ===========================================
library        ``to_X(g)`` returns                 what it keeps
=============  ==================================  ===========================================
scipy.sparse   ``csr_matrix`` of one edge type     edges, weights (no ids, no timestamps)
networkx       ``MultiDiGraph``, nodes             ids, all edge types, weights, timestamps,
               ``(ntype, external_id)``            empty node/edge types
igraph         ``igraph.Graph`` of one edge type   ids (vertex ``name``), weights, timestamps
               (bipartite or directed)
PyG            ``HeteroData``                      as networkx, plus tensor node attributes
DGL            ``DGLGraph`` (heterograph)          edges, weights, timestamps (ids: pass
                                                   ``id_maps`` back to :func:`from_dgl`)
=============  ==================================  ===========================================

No conversion keeps ``g.meta``; only PyG keeps node attributes (tensors with one row per
node; other ``g.node_attrs`` values, such as lists of titles, are not exported).

The optional libraries (networkx, igraph, torch_geometric, dgl) are imported inside the
functions, so ``import graphrec`` never pays for them. Conversions are vectorised numpy /
torch; the only per-edge Python loops are those feeding libraries whose API is per edge
(networkx).

References
----------
Hagberg, Schult, Swart. "Exploring network structure, dynamics, and function using
NetworkX." SciPy 2008.
Csardi, Nepusz. "The igraph software package for complex network research." 2006.
Fey, Lenssen. "Fast Graph Representation Learning with PyTorch Geometric." ICLR-W 2019.
Wang et al. "Deep Graph Library: A Graph-Centric, Highly-Performant Package for Graph
Neural Networks." arXiv:1909.01315, 2019.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import chain, repeat
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..checks import check_bool
from .edges import EdgeType, check_etype
from .idmap import IdMap
from .store import INTERACTS, ITEM, USER, Graph

if TYPE_CHECKING:  # pragma: no cover - typing only
    import igraph
    import networkx
    import scipy.sparse
    from torch_geometric.data import HeteroData

__all__ = [
    "from_dgl", "from_igraph", "from_networkx", "from_pyg", "from_scipy",
    "to_dgl", "to_igraph", "to_networkx", "to_pyg", "to_scipy",
]

#: Relation used for homogeneous graphs read from networkx / igraph / PyG ``Data``.
LINKS = "links"

_DGL_MISSING = (
    "DGL is not installed. Install it with `pip install graphrec[dgl]`; note that DGL's PyPI "
    "builds stop at torch 2.2, so on newer torch install a matching wheel from "
    "https://data.dgl.ai/wheels/ or use to_pyg() instead."
)


# ------------------------------------------------------------------ helpers
def _check_name(value: Any, what: str) -> str:
    """A node type or relation name: a ``str``."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, got {value!r}")
    return value


def _check_duplicates(duplicates: str) -> str:
    if duplicates not in ("merge", "keep", "error"):
        raise ValueError(f"duplicates must be 'merge', 'keep' or 'error', got {duplicates!r}")
    return duplicates


def _id_map(ids: Any, n: int, ntype: str, what: str) -> IdMap:
    """An IdMap of ``n`` ids for ``ntype`` from an IdMap, a sequence, or ``None`` (0..n-1)."""
    if ids is None:
        return IdMap.range(n, name=ntype)
    m = ids.copy() if isinstance(ids, IdMap) else IdMap(ids, name=ntype)
    m.name = ntype
    if len(m) != n:
        raise ValueError(f"{what} has {len(m)} ids but the {ntype!r} side has {n} nodes")
    return m


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _assemble(
    nodes: Mapping[str, IdMap],
    edges: Iterable[tuple[EdgeType, Any, Any, Any, Any]],
    duplicates: str,
    device: str | torch.device,
) -> Graph:
    """A Graph with the given node maps and ``(etype, src, dst, weight, timestamp)`` index edges."""
    g = Graph(device)
    for nt, m in nodes.items():
        g.add_node_type(nt, m)
    for et, src, dst, w, ts in edges:
        for t in (et[0], et[2]):
            if not g.has_node_type(t):
                g.add_node_type(t, [])
        g.add_edges(et, src, dst, w, ts, by="index", duplicates=duplicates)
    return g


def _mirror(src: np.ndarray, dst: np.ndarray, *cols: np.ndarray | None, mask: np.ndarray) -> tuple:
    """Append the reverse of the edges selected by ``mask`` (undirected -> both directions)."""
    out_s = np.concatenate([src, dst[mask]])
    out_d = np.concatenate([dst, src[mask]])
    rest = tuple(None if c is None else np.concatenate([c, c[mask]]) for c in cols)
    return (out_s, out_d, *rest)


# -------------------------------------------------------------------- scipy
def to_scipy(g: Graph, etype: EdgeType | str | None = None) -> scipy.sparse.csr_matrix:
    """One edge type as a ``scipy.sparse.csr_matrix`` of shape ``(num_src, num_dst)``.

    Parameters
    ----------
    g : Graph
    etype : edge type, relation name or None (the graph's only / interaction edge type)

    Returns
    -------
    csr_matrix, float32, shape ``(num_src, num_dst)``
        Values are the edge weights, or ones for an unweighted edge set. The arrays are
        copies: editing the matrix never changes the store. Multi-edges (``duplicates='keep'``)
        stay separate stored entries. Timestamps and external ids are not kept.
    """
    import scipy.sparse as sp

    es = g.edges(etype)
    values = _numpy(es.weight).copy() if es.weight is not None else np.ones(es.num_edges, np.float32)
    return sp.csr_matrix(
        (values, _numpy(es.indices).copy(), _numpy(es.indptr).copy()), shape=(es.num_src, es.num_dst)
    )


def from_scipy(
    matrix: Any,
    etype: EdgeType = INTERACTS,
    src_ids: Any = None,
    dst_ids: Any = None,
    *,
    weighted: bool | None = None,
    duplicates: str = "merge",
    device: str | torch.device = "cpu",
) -> Graph:
    """A Graph holding the sparse ``matrix`` as edge type ``etype``.

    Parameters
    ----------
    matrix : scipy sparse matrix or array, shape ``(n_src, n_dst)``
        Every stored entry is an edge (explicit zeros included; call ``eliminate_zeros()``
        first to drop them). Row ``i`` is source node ``i``, column ``j`` destination ``j``.
    etype : (src_type, relation, dst_type)
        When ``src_type == dst_type`` the matrix must be square and one id map serves both.
    src_ids, dst_ids : IdMap or sequence of int/str, optional
        External ids of the rows / columns (default ``0..n-1``).
    weighted : bool or None
        Store the values as weights. Default (``None``): only when some value differs from 1 once
        duplicates are merged (so a 0/1 pattern matrix gives an unweighted edge set, but one
        with a repeated entry gives weight 2, as ``matrix.tocsr()`` does).
    duplicates : {'merge', 'keep', 'error'}
        For repeated ``(row, col)`` entries (non-canonical matrices), as in
        :meth:`Graph.add_edges`; ``merge`` sums them like scipy does (a boolean matrix ORs
        them, as scipy does), so ``g.to_scipy()`` equals ``matrix.tocsr()``.
    device : where the graph lives.

    Raises
    ------
    TypeError
        If ``matrix`` is not a scipy sparse matrix or has non-real values, or ``weighted``
        is not a bool or None.
    ValueError
        If ``matrix`` is not 2-D, or its shape disagrees with the ids or with a homogeneous
        ``etype``.
    """
    import scipy.sparse as sp

    if not sp.issparse(matrix):
        raise TypeError(f"matrix must be a scipy.sparse matrix or array, got {type(matrix).__name__}")
    if matrix.ndim != 2:
        raise ValueError(f"matrix must be 2-D (sources x destinations), got shape {matrix.shape}")
    etype = check_etype(etype)
    _check_duplicates(duplicates)
    if weighted is not None:
        weighted = check_bool("weighted", weighted)
    n_src, n_dst = (int(x) for x in matrix.shape)
    st, _, dt = etype
    coo = matrix.tocoo()  # keeps duplicate entries (tocsr would sum them)
    values = np.asarray(coo.data)
    if values.dtype.kind not in "biuf":
        raise TypeError(f"matrix values must be real numbers, got dtype {values.dtype}")
    nodes: dict[str, IdMap] = {st: _id_map(src_ids, n_src, st, "src_ids")}
    if st == dt:
        if n_src != n_dst:
            raise ValueError(f"etype {etype} joins one node type, so the matrix must be square; got shape {matrix.shape}")
        if dst_ids is not None and _id_map(dst_ids, n_dst, dt, "dst_ids") != nodes[st]:
            raise ValueError(f"etype {etype} joins one node type, so dst_ids must equal src_ids")
    else:
        nodes[dt] = _id_map(dst_ids, n_dst, dt, "dst_ids")
    if values.dtype.kind == "b" and duplicates == "merge":  # scipy merges booleans by OR, not by sum
        coo = coo.copy()
        coo.sum_duplicates()
        values = np.asarray(coo.data)
    row = np.asarray(coo.row, dtype=np.int64)
    col = np.asarray(coo.col, dtype=np.int64)
    if weighted is None:
        merged = values.astype(np.float64)
        if duplicates == "merge" and merged.size > 1:  # the values the edges will have: sums per (row, col)
            _, group = np.unique(row * max(n_dst, 1) + col, return_inverse=True)
            merged = np.bincount(group.reshape(-1), weights=merged)
        weighted = bool(merged.size) and not bool(np.all(merged == 1))
    w = values.astype(np.float64) if weighted else None
    return _assemble(nodes, [(etype, row, col, w, None)], duplicates, device)


# ----------------------------------------------------------------- networkx
def to_networkx(g: Graph) -> networkx.MultiDiGraph:
    """The whole graph as a ``networkx.MultiDiGraph``.

    Nodes are keyed ``(ntype, external_id)`` (ids as Python ``int``/``str``) with node attribute
    ``ntype``; they are added type by type in index order. Every edge carries ``etype`` (the
    full triple) and, when the edge set has them, ``weight`` (float) and ``timestamp`` (int).
    ``G.graph['node_types']`` and ``G.graph['edge_types']`` (``[(etype, has_weight,
    has_timestamp), ...]``) let :func:`from_networkx` restore empty types exactly.
    ``g.node_attrs`` and ``g.meta`` are not exported.
    """
    import networkx as nx

    G = nx.MultiDiGraph()
    G.graph["node_types"] = list(g.node_types)
    G.graph["edge_types"] = [(et, es.weight is not None, es.timestamp is not None) for et, es in _edge_items(g)]
    for nt in g.node_types:
        G.add_nodes_from(zip(repeat(nt), g.id_map(nt).ids.tolist()), ntype=nt)
    for et, es in _edge_items(g):
        st, _, dt = et
        s, d = es.coo()
        sid = g.id_map(st).ids[_numpy(s)].tolist()
        did = g.id_map(dt).ids[_numpy(d)].tolist()
        cols: list[tuple[str, list]] = []
        if es.weight is not None:
            cols.append(("weight", _numpy(es.weight).tolist()))
        if es.timestamp is not None:
            cols.append(("timestamp", _numpy(es.timestamp).tolist()))
        names = ["etype"] + [c[0] for c in cols]
        attrs = zip(repeat(et), *(c[1] for c in cols))
        G.add_edges_from(
            ((st, u), (dt, v), dict(zip(names, a))) for u, v, a in zip(sid, did, attrs)
        )
    return G


def _edge_items(g: Graph) -> list:
    return [(et, g.edges(et)) for et in g.edge_types]


def from_networkx(
    G: networkx.Graph,
    *,
    relation: str | None = None,
    ntype: str = "node",
    weight: str = "weight",
    timestamp: str = "timestamp",
    duplicates: str = "merge",
    device: str | torch.device = "cpu",
) -> Graph:
    """A Graph from a networkx graph in one of three forms.

    1. **Typed** (what :func:`to_networkx` writes): every node has an ``ntype`` attribute; a
       node keyed ``(ntype, x)`` gets external id ``x``, any other key is its own id. Edges
       may carry ``etype``; without it their type is ``(ntype_u, relation, ntype_v)``.
    2. **Bipartite**: every node has a ``bipartite`` attribute, 0 → ``user``, 1 → ``item``
       (networkx's convention); every edge must join the two sides and is stored
       ``user -> item`` (also in a DiGraph) under relation ``interacts`` (or ``relation``).
    3. **Plain**: one node type ``ntype`` and relation ``links`` (or ``relation``).

    Undirected graphs: an edge within one node type is stored in both directions (a self
    loop once); an edge across types is oriented by its ``etype``, or ``user -> item``.
    Parallel edges of multigraphs follow ``duplicates``; pass ``duplicates='keep'`` to keep
    them as multi-edges.

    Parameters
    ----------
    G : networkx.Graph, DiGraph, MultiGraph or MultiDiGraph
    relation : str, optional
        Relation name for edges without an ``etype`` attribute.
    ntype : str
        Node type of a plain graph.
    weight, timestamp : str
        Edge attribute names. An edge type has weights when any of its edges has one (the
        others weigh 1, networkx's default); timestamps must be on all edges of a type or none.
    duplicates : {'merge', 'keep', 'error'}
        As in :meth:`Graph.add_edges`.
    device : where the graph lives.

    Raises
    ------
    TypeError
        If ``G`` is not a networkx graph, node ids are neither all ints nor all strings
        within a node type, or a node type (``ntype``) or ``relation`` is not a str.
    ValueError
        If only some nodes carry ``ntype`` / ``bipartite``, a ``bipartite`` value is not 0/1,
        an edge contradicts its ``etype``, or timestamps are partial.
    """
    import networkx as nx

    if not isinstance(G, nx.Graph):
        raise TypeError(f"G must be a networkx graph, got {type(G).__name__}")
    _check_duplicates(duplicates)
    _check_name(ntype, "ntype")
    if relation is not None:
        _check_name(relation, "relation")
    nodes = list(G.nodes(data=True))
    n = len(nodes)
    has_nt = sum("ntype" in d for _, d in nodes)
    has_bp = sum("bipartite" in d for _, d in nodes)
    if has_nt and has_nt < n:
        missing = next(k for k, d in nodes if "ntype" not in d)
        raise ValueError(f"node attribute 'ntype' is on {has_nt} of {n} nodes; e.g. node {missing!r} lacks it")
    if n and has_nt == n:
        form = "typed"
        types = [d["ntype"] for _, d in nodes]
        for (k, _), t in zip(nodes, types):
            _check_name(t, f"node attribute 'ntype' (node {k!r})")
        ext = [k[1] if isinstance(k, tuple) and len(k) == 2 and k[0] == t else k for (k, _), t in zip(nodes, types)]
    elif has_bp:
        if has_bp < n:
            missing = next(k for k, d in nodes if "bipartite" not in d)
            raise ValueError(f"node attribute 'bipartite' is on {has_bp} of {n} nodes; e.g. node {missing!r} lacks it")
        form = "bipartite"
        part = [d["bipartite"] for _, d in nodes]
        bad = [(k, p) for (k, _), p in zip(nodes, part) if p not in (0, 1)]  # True/False compare equal to 1/0
        if bad:
            raise ValueError(f"node attribute 'bipartite' must be 0 (user) or 1 (item); node {bad[0][0]!r} has {bad[0][1]!r}")
        types = [ITEM if p else USER for p in part]
        ext = [k for k, _ in nodes]
    else:
        form = "plain"
        types = [ntype] * n
        ext = [k for k, _ in nodes]
    rel = relation if relation is not None else ("interacts" if form == "bipartite" else LINKS)

    # node types in a stable order: declared ones first (typed form), then first appearance
    order: dict[str, int] = {}
    if form == "typed":
        for t in G.graph.get("node_types", []):
            order.setdefault(t, len(order))
    for t in types:
        order.setdefault(t, len(order))
    type_names = list(order)
    code = np.fromiter((order[t] for t in types), dtype=np.int64, count=n)
    local = np.zeros(n, dtype=np.int64)
    maps: dict[str, IdMap] = {}
    for c, t in enumerate(type_names):
        sel = np.flatnonzero(code == c)
        local[sel] = np.arange(sel.size)
        maps[t] = IdMap([ext[i] for i in sel.tolist()], name=f"{t} (networkx node ids)")
        maps[t].name = t
    pos_of = {k: i for i, (k, _) in enumerate(nodes)}

    # one pass over networkx's per-edge API; everything after is vectorised
    e_codes: dict[Any, int] = {None: -1}
    us, vs, ecs, ws, hws, tss, htss = [], [], [], [], [], [], []
    for u, v, d in G.edges(data=True):
        us.append(pos_of[u])
        vs.append(pos_of[v])
        et = d.get("etype")
        if et is not None:
            et = check_etype(et)
        ecs.append(e_codes.setdefault(et, len(e_codes) - 1))
        wv = d.get(weight)
        hws.append(wv is not None)
        ws.append(1.0 if wv is None else wv)
        tv = d.get(timestamp)
        htss.append(tv is not None)
        tss.append(0 if tv is None else tv)
    m = len(us)
    u = np.asarray(us, dtype=np.int64)
    v = np.asarray(vs, dtype=np.int64)
    ec = np.asarray(ecs, dtype=np.int64)
    try:
        w_all = np.asarray(ws, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"edge attribute {weight!r} must be numeric") from None
    hw = np.asarray(hws, dtype=bool)
    ts_all = np.asarray(tss) if m else np.zeros(0, np.int64)
    if ts_all.dtype.kind not in "iuf":
        raise TypeError(f"edge attribute {timestamp!r} must be integer, got values such as {tss[0]!r}")
    hts = np.asarray(htss, dtype=bool)
    explicit = [et for et in e_codes if et is not None]

    tu, tv_ = code[u], code[v]
    cross = tu != tv_
    if form == "bipartite" and not cross.all():
        k = int(np.flatnonzero(~cross)[0])
        raise ValueError(
            f"edge {nodes[u[k]][0]!r} - {nodes[v[k]][0]!r} joins two nodes of bipartite side "
            f"{type_names[tu[k]]!r}; a bipartite graph only has user - item edges"
        )
    if form == "bipartite" and G.is_directed():  # a bipartite graph is read as user -> item
        flip = (ec == -1) & (tu == order.get(ITEM, -1))
        u, v = np.where(flip, v, u), np.where(flip, u, v)
        tu, tv_ = code[u], code[v]
    if not G.is_directed():
        # orient cross-type edges: by their etype, else user -> item
        want_src = np.full(m, -1, dtype=np.int64)
        for et in explicit:
            if et[0] in order:
                want_src[ec == e_codes[et]] = order[et[0]]
        if USER in order and ITEM in order:
            ui = {order[USER], order[ITEM]}
            pair = np.isin(tu, list(ui)) & np.isin(tv_, list(ui)) & cross
            want_src[(ec == -1) & pair] = order[USER]
        unoriented = cross & ((want_src == -1) | ((tu != want_src) & (tv_ != want_src)))
        if unoriented.any():
            k = int(np.flatnonzero(unoriented)[0])
            raise ValueError(
                f"undirected edge {nodes[u[k]][0]!r} - {nodes[v[k]][0]!r} joins node types "
                f"{type_names[tu[k]]!r} and {type_names[tv_[k]]!r}; give it an 'etype' attribute to orient it"
            )
        flip = cross & (tv_ == want_src)
        u, v = np.where(flip, v, u), np.where(flip, u, v)
        tu, tv_ = code[u], code[v]
        u, v, ec, w_all, hw, ts_all, hts = _mirror(u, v, ec, w_all, hw, ts_all, hts, mask=(tu == tv_) & (u != v))
        tu, tv_ = code[u], code[v]

    # group edges by edge type: explicit etypes keep their codes, implicit ones by (tu, tv)
    n_types = len(type_names)
    implicit_key = np.where(ec == -1, tu * n_types + tv_, -1)
    groups: dict[EdgeType, np.ndarray] = {}
    declared = {tuple(e[0]): (bool(e[1]), bool(e[2])) for e in G.graph.get("edge_types", [])} if form == "typed" else {}
    for et in declared:
        groups[check_etype(et)] = np.zeros(0, dtype=np.int64)
    for et in explicit:
        sel = np.flatnonzero(ec == e_codes[et])
        groups[et] = np.concatenate([groups.get(et, np.zeros(0, np.int64)), sel])
    for key in np.unique(implicit_key[implicit_key >= 0]).tolist():
        et = (type_names[key // n_types], rel, type_names[key % n_types])
        sel = np.flatnonzero(implicit_key == key)
        groups[et] = np.sort(np.concatenate([groups.get(et, np.zeros(0, np.int64)), sel]))

    edges = []
    for et, sel in groups.items():
        st, _, dt = et
        if st not in order or dt not in order:
            if sel.size:
                raise ValueError(f"edge type {et} names a node type absent from the graph")
        elif sel.size:
            bad = (code[u[sel]] != order[st]) | (code[v[sel]] != order[dt])
            if bad.any():
                k = int(sel[np.flatnonzero(bad)[0]])
                raise ValueError(
                    f"edge {nodes[u[k]][0]!r} -> {nodes[v[k]][0]!r} has etype {et} but joins "
                    f"{type_names[code[u[k]]]!r} -> {type_names[code[v[k]]]!r}"
                )
        dec_w, dec_t = declared.get(et, (False, False))
        has_w = dec_w or bool(hw[sel].any())
        n_ts = int(hts[sel].sum())
        if (n_ts or dec_t) and n_ts < sel.size:
            raise ValueError(f"edge type {et}: attribute {timestamp!r} is on {n_ts} of {sel.size} edges")
        has_t = dec_t or n_ts > 0
        edges.append((
            et, local[u[sel]], local[v[sel]],
            w_all[sel] if has_w else None,
            ts_all[sel] if has_t else None,
        ))
    return _assemble(maps, edges, duplicates, device)


# ------------------------------------------------------------------- igraph
def to_igraph(g: Graph, etype: EdgeType | str | None = None) -> igraph.Graph:
    """One edge type as an ``igraph.Graph``.

    * Bipartite edge type (``src_type != dst_type``): an undirected bipartite graph whose
      vertices are the sources (``type=False``) then the destinations (``type=True``), in
      index order; each edge is ``(source vertex, destination vertex)``.
    * Homogeneous edge type: a directed graph on that node type's vertices.

    Vertex attributes ``name`` (external id) and ``ntype``; edge attributes ``weight`` and
    ``timestamp`` when present; graph attribute ``etype``.
    """
    import igraph as ig

    es = g.edges(etype)
    st, _, dt = es.etype
    s, d = (_numpy(x) for x in es.coo())
    if st != dt:
        ns = es.num_src
        G = ig.Graph(n=ns + es.num_dst, directed=False)
        G.add_edges(np.stack([s, d + ns], axis=1))
        G.vs["type"] = [False] * ns + [True] * es.num_dst
        G.vs["name"] = g.id_map(st).ids.tolist() + g.id_map(dt).ids.tolist()
        G.vs["ntype"] = [st] * ns + [dt] * es.num_dst
    else:
        G = ig.Graph(n=es.num_src, directed=True)
        G.add_edges(np.stack([s, d], axis=1))
        G.vs["name"] = g.id_map(st).ids.tolist()
        G.vs["ntype"] = [st] * es.num_src
    G["etype"] = es.etype
    if es.weight is not None:
        G.es["weight"] = _numpy(es.weight).tolist()
    if es.timestamp is not None:
        G.es["timestamp"] = _numpy(es.timestamp).tolist()
    return G


def from_igraph(
    G: igraph.Graph,
    etype: EdgeType | None = None,
    *,
    ntype: str = "node",
    weight: str = "weight",
    timestamp: str = "timestamp",
    duplicates: str = "merge",
    device: str | torch.device = "cpu",
) -> Graph:
    """A Graph from an ``igraph.Graph``.

    With a vertex attribute ``type`` the graph is read as bipartite: ``False`` vertices are
    sources (``user``), ``True`` ones destinations (``item``), and every edge is stored
    source -> destination. Otherwise it is homogeneous on node type ``ntype`` (or the single
    value of vertex attribute ``ntype``); undirected edges are stored in both directions.

    Parameters
    ----------
    G : igraph.Graph
    etype : (src_type, relation, dst_type), optional
        Default: graph attribute ``etype`` if set, else ``("user", "interacts", "item")``
        (bipartite) or ``(ntype, "links", ntype)``.
    ntype : str
        Node type of a homogeneous graph without an ``ntype`` vertex attribute.
    weight, timestamp : str
        Edge attribute names (missing weights count 1; timestamps must be complete).
    duplicates : {'merge', 'keep', 'error'}
    device : where the graph lives.

    Raises
    ------
    TypeError
        If ``G`` is not an igraph graph, ``ntype`` (argument or vertex attribute) is not a
        str, or weights are not numeric.
    ValueError
        If a bipartite edge joins two vertices of the same side, or ``etype`` does not fit.
    """
    import igraph as ig

    if not isinstance(G, ig.Graph):
        raise TypeError(f"G must be an igraph.Graph, got {type(G).__name__}")
    _check_duplicates(duplicates)
    _check_name(ntype, "ntype")
    n = G.vcount()
    vattrs = set(G.vs.attributes())
    if etype is None and "etype" in G.attributes():
        etype = G["etype"]
    if etype is not None:
        etype = check_etype(etype)
    names = G.vs["name"] if "name" in vattrs else None
    pairs = G.get_edgelist()
    edges = np.fromiter(chain.from_iterable(pairs), dtype=np.int64, count=2 * len(pairs)).reshape(-1, 2)
    a, b = edges[:, 0], edges[:, 1]
    eattrs = set(G.es.attributes())
    w = None
    if weight in eattrs:
        try:
            w = np.asarray([1.0 if x is None else x for x in G.es[weight]], dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"edge attribute {weight!r} must be numeric") from None
    ts = None
    if timestamp in eattrs:
        raw = G.es[timestamp]
        missing = sum(x is None for x in raw)
        if missing:
            raise ValueError(f"edge attribute {timestamp!r} is missing on {missing} of {len(raw)} edges")
        ts = np.asarray(raw) if raw else np.zeros(0, np.int64)

    if "type" in vattrs:
        raw_types = G.vs["type"]
        bad = [x for x in raw_types if x not in (0, 1)]
        if bad:
            raise ValueError(f"vertex attribute 'type' must be boolean, got {bad[0]!r}")
        side = np.asarray(raw_types, dtype=bool)
        etype = etype or INTERACTS
        st, _, dt = etype
        if st == dt:
            raise ValueError(f"a bipartite igraph needs an edge type between two node types, got {etype}")
        local = np.zeros(n, dtype=np.int64)
        local[~side] = np.arange(int((~side).sum()))
        local[side] = np.arange(int(side.sum()))
        same = side[a] == side[b]
        if same.any():
            k = int(np.flatnonzero(same)[0])
            raise ValueError(f"edge {k} ({a[k]}, {b[k]}) joins two vertices with type={bool(side[a[k]])}")
        src = np.where(side[a], b, a)
        dst = np.where(side[a], a, b)
        nodes = {
            t: _id_map(None if names is None else [names[i] for i in np.flatnonzero(side == flag).tolist()],
                       int((side == flag).sum()), t, "vertex names")
            for t, flag in ((st, False), (dt, True))
        }
        return _assemble(nodes, [(etype, local[src], local[dst], w, ts)], duplicates, device)

    if etype is None:
        nts = {_check_name(t, "vertex attribute 'ntype'") for t in G.vs["ntype"]} if "ntype" in vattrs else {ntype}
        if len(nts) > 1:
            raise ValueError(f"vertex attribute 'ntype' has several values {sorted(map(str, nts))}; "
                             "a heterogeneous igraph needs a boolean 'type' vertex attribute")
        nt = next(iter(nts)) if nts else ntype
        etype = (nt, LINKS, nt)
    st, _, dt = etype
    if st != dt:
        raise ValueError(f"edge type {etype} joins two node types; mark the sides with a boolean 'type' vertex attribute")
    src, dst = a, b
    if not G.is_directed():
        src, dst, w, ts = _mirror(src, dst, w, ts, mask=src != dst)
    nodes = {st: _id_map(names, n, st, "vertex names")}
    return _assemble(nodes, [(etype, src, dst, w, ts)], duplicates, device)


# ---------------------------------------------------------------------- PyG
def to_pyg(g: Graph) -> HeteroData:
    """The whole graph as a ``torch_geometric.data.HeteroData`` on ``g.device``.

    ``data[ntype].num_nodes`` for every node type, ``data[etype].edge_index`` (int64, shape
    ``(2, E)``, CSR order), ``edge_weight`` (float32, ``(E,)``) and ``time`` (int64, ``(E,)``)
    when present. Tensor node attributes whose first dimension is the node count (features)
    become node attributes of the same name; other node attributes and ``g.meta`` are not
    exported. ``data.id_maps`` holds a copy of each
    :class:`IdMap`, which :func:`from_pyg` uses. Tensors are copies, not views of the store.
    """
    from torch_geometric.data import HeteroData

    data = HeteroData()
    for nt in g.node_types:
        n = g.num_nodes(nt)
        data[nt].num_nodes = n
        for name, val in g.node_attrs.get(nt, {}).items():
            if isinstance(val, torch.Tensor) and val.dim() >= 1 and val.shape[0] == n and name != "num_nodes":
                data[nt][name] = val.clone()
    for et, es in _edge_items(g):
        s, d = es.coo()
        data[et].edge_index = torch.stack([s, d])
        if es.weight is not None:
            data[et].edge_weight = es.weight.clone()
        if es.timestamp is not None:
            data[et].time = es.timestamp.clone()
    data.id_maps = {nt: g.id_map(nt).copy() for nt in g.node_types}
    return data


def from_pyg(
    data: Any,
    id_maps: Mapping[str, Any] | None = None,
    *,
    duplicates: str = "merge",
    device: str | torch.device | None = None,
) -> Graph:
    """A Graph from a PyG ``HeteroData`` (or homogeneous ``Data``).

    Parameters
    ----------
    data : HeteroData or Data
        Node types need ``num_nodes`` (or a node tensor to infer it from). Each edge type
        needs ``edge_index`` (integer, ``(2, E)``); ``edge_weight`` (``(E,)``) and ``time``
        (``(E,)``) are read when present, other edge attributes (``edge_attr``, ...) are not. A ``Data`` becomes node type ``node`` with edge
        type ``("node", "links", "node")``. Node tensors with ``num_nodes`` rows become
        ``g.node_attrs``.
    id_maps : mapping ntype -> IdMap or sequence of ids, optional
        External ids per node type (every key must be a node type of ``data``); default
        ``data.id_maps`` (set by :func:`to_pyg`), else ``0..n-1``.
    duplicates : {'merge', 'keep', 'error'}
    device : default: the device of the edge tensors.

    Raises
    ------
    TypeError
        If ``data`` is not a PyG data object or ``edge_index`` is not integer.
    ValueError
        If a node count is unknown, ``edge_index`` has the wrong shape, or an id map has the
        wrong length or names a node type ``data`` lacks.
    """
    from torch_geometric.data import Data, HeteroData

    _check_duplicates(duplicates)
    if isinstance(data, HeteroData):
        node_types = list(data.node_types)
        stores = {nt: data[nt] for nt in node_types}
        edge_stores = [(tuple(et), data[et]) for et in data.edge_types]
    elif isinstance(data, Data):
        node_types = ["node"]
        stores = {"node": data}
        edge_stores = [(("node", LINKS, "node"), data)] if data.edge_index is not None else []
    else:
        raise TypeError(f"data must be a torch_geometric HeteroData or Data, got {type(data).__name__}")
    if id_maps is None:
        id_maps = getattr(data, "id_maps", None) or {}
    if not isinstance(id_maps, Mapping):
        raise TypeError(f"id_maps must map node type -> ids, got {type(id_maps).__name__}")
    unknown = [nt for nt in id_maps if nt not in node_types]
    if unknown:
        raise ValueError(f"id_maps names node type {unknown[0]!r}, which data lacks; data has {node_types}")

    counts: dict[str, int] = {}
    for nt in node_types:
        nn = stores[nt].num_nodes
        if nn is None:
            raise ValueError(f"node type {nt!r}: num_nodes is not set and cannot be inferred")
        counts[nt] = int(nn)
    nodes = {nt: _id_map(id_maps.get(nt), counts[nt], nt, f"id_maps[{nt!r}]") for nt in node_types}

    edges = []
    dev = None
    for et, store in edge_stores:
        for t in (et[0], et[2]):
            if t not in nodes:
                raise ValueError(f"edge type {et} refers to node type {t!r} without num_nodes")
        ei = store.edge_index
        if not isinstance(ei, torch.Tensor) or ei.dim() != 2 or ei.shape[0] != 2:
            raise ValueError(f"edge type {et}: edge_index must be a (2, E) tensor, got {getattr(ei, 'shape', type(ei))}")
        if ei.is_floating_point() or ei.dtype == torch.bool:
            raise TypeError(f"edge type {et}: edge_index must be integer, got {ei.dtype}")
        dev = ei.device if dev is None else dev
        w = store.edge_weight if "edge_weight" in store else None
        ts = store.time if "time" in store else None
        edges.append((et, ei[0], ei[1], w, ts))
    g = _assemble(nodes, edges, duplicates, device if device is not None else (dev or "cpu"))
    for nt in node_types:
        for name, val in stores[nt].items():
            if name in ("num_nodes", "edge_index", "edge_weight", "time", "id_maps"):
                continue
            if isinstance(data, Data) and not data.is_node_attr(name):
                continue
            if isinstance(val, torch.Tensor) and val.dim() >= 1 and val.shape[0] == counts[nt]:
                g.node_attrs[nt][name] = val.to(g.device)
    return g


# ---------------------------------------------------------------------- DGL
def _import_dgl() -> Any:
    try:
        import dgl
    except (ImportError, OSError) as e:  # a dgl build that does not match torch raises either
        raise ImportError(_DGL_MISSING) from e
    return dgl


def to_dgl(g: Graph) -> Any:
    """The whole graph as a DGL heterograph on ``g.device``.

    Edge data ``weight`` (float32) and ``timestamp`` (int64) when present, edges in CSR
    order. DGL cannot hold string ids: pass ``{nt: g.id_map(nt) ...}`` to :func:`from_dgl`.
    DGL keeps its own (sorted) order of node and edge types, and node types without any
    edge are left out.

    Raises
    ------
    ImportError
        If DGL is not installed (``pip install graphrec[dgl]``).
    """
    dgl = _import_dgl()
    graph_data = {et: es.coo() for et, es in _edge_items(g)}
    used = {t for et in graph_data for t in (et[0], et[2])}
    num_nodes = {nt: g.num_nodes(nt) for nt in g.node_types if nt in used}
    G = dgl.heterograph(graph_data, num_nodes_dict=num_nodes, idtype=torch.int64, device=g.device)
    for et, es in _edge_items(g):
        if es.weight is not None:
            G.edges[et].data["weight"] = es.weight.clone()
        if es.timestamp is not None:
            G.edges[et].data["timestamp"] = es.timestamp.clone()
    return G


def from_dgl(
    G: Any,
    id_maps: Mapping[str, Any] | None = None,
    *,
    duplicates: str = "merge",
    device: str | torch.device | None = None,
) -> Graph:
    """A Graph from a DGL graph (every canonical edge type; ``weight``/``timestamp`` edge data).

    Node types come in the order of ``id_maps`` (then DGL's order for the rest), so passing
    the original graph's id maps restores its node-type order too.

    Raises
    ------
    ImportError
        If DGL is not installed (``pip install graphrec[dgl]``).
    """
    _import_dgl()
    _check_duplicates(duplicates)
    id_maps = id_maps or {}
    ntypes = [nt for nt in id_maps if nt in G.ntypes] + [nt for nt in G.ntypes if nt not in id_maps]
    nodes = {nt: _id_map(id_maps.get(nt), int(G.num_nodes(nt)), nt, f"id_maps[{nt!r}]") for nt in ntypes}
    edges = []
    for et in G.canonical_etypes:
        s, d = G.edges(etype=et, order="eid")
        data = G.edges[et].data
        edges.append((
            tuple(et), s, d,
            data.get("weight"),
            data.get("timestamp"),
        ))
    return _assemble(nodes, edges, duplicates, device if device is not None else G.device)
