"""The graph store: one heterogeneous graph held in torch tensors on one device.

``Graph`` owns node types (each with an :class:`~graphrec.graph.idmap.IdMap`) and typed
edge sets (each an :class:`~graphrec.graph.edges.EdgeSet` in CSR form). Every algorithm in
graphrec takes a ``Graph`` and computes on ``g.device``; none rebuilds its own adjacency.

The usual schema is ``user -interacts-> item`` (weights, timestamps) plus
``user -trusts-> user``, but any node and relation names work.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .edges import EdgeSet, EdgeType, check_etype, coo_to_csr
from .idmap import IdMap, _as_id_array
from .times import datetimes_to_unix_seconds

__all__ = ["DUPLICATE_RULES", "INTERACTS", "ITEM", "TRUSTS", "USER", "Graph", "store_device"]

#: the node type of users
USER = "user"
#: the node type of items
ITEM = "item"
#: the edge type of user–item interactions (weights and timestamps optional)
INTERACTS: EdgeType = ("user", "interacts", "item")
#: the edge type of user–user trust (or friendship) edges
TRUSTS: EdgeType = ("user", "trusts", "user")

_FORMAT_VERSION = 1

#: the rules for repeated ``(src, dst)`` pairs that :meth:`Graph.add_edges` takes (``duplicates=``)
DUPLICATE_RULES = ("count", "merge", "keep", "error")

#: device types torch offers that graphrec cannot compute on, and why
UNSUPPORTED_DEVICE_TYPES = {"mps": "it has no float64, which graphrec's exact weight merges, samplers and metrics use"}


def store_device(device: str | torch.device) -> torch.device:
    """``device`` as a ``torch.device``; ``ValueError`` for an unknown name or a device graphrec cannot use.

    graphrec computes on CPU and CUDA. Apple's ``mps`` lacks float64 and is refused here, at the
    entry point, rather than deep inside a fit.
    """
    try:
        d = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"unknown device {device!r}; graphrec runs on 'cpu' or 'cuda'") from None
    if d.type in UNSUPPORTED_DEVICE_TYPES:
        raise ValueError(f"device {str(d)!r} is not supported: {UNSUPPORTED_DEVICE_TYPES[d.type]}; use 'cpu' or 'cuda'")
    if d.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {str(d)!r}: CUDA is not available on this machine (this torch build: {torch.__version__})")
        if d.index is not None and d.index >= torch.cuda.device_count():
            raise ValueError(f"device {str(d)!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return d


def _tensor(x: Any, dtype: torch.dtype, what: str, device: torch.device) -> torch.Tensor:
    """A 1-D tensor of ``dtype`` on ``device`` from array-like ``x``; validates numeric kind."""
    if isinstance(x, torch.Tensor):
        t = x.detach()
    else:
        arr = np.ascontiguousarray(np.asarray(x))
        if arr.dtype.kind not in "iufb":
            raise TypeError(f"{what} must be numeric, got dtype {arr.dtype}")
        if not arr.flags.writeable:  # pandas 3 (copy on write) and Arrow hand out read-only views
            arr = arr.copy()
        t = torch.from_numpy(arr)
    if t.dim() != 1:
        t = t.reshape(-1)
    if dtype.is_floating_point:
        if t.numel() and t.is_floating_point() and not bool(torch.isfinite(t).all()):
            bad = int((~torch.isfinite(t)).nonzero()[0, 0])
            raise ValueError(f"{what} contains NaN or infinite values (first at position {bad})")
        given, t = t, t.to(dtype)
        if t.numel() and not bool(torch.isfinite(t).all()):  # finite as given, too large for dtype
            bad = int((~torch.isfinite(t)).nonzero()[0, 0])
            raise ValueError(
                f"{what} {float(given[bad]):g} (position {bad}) exceeds {_dtype_name(dtype)}'s range "
                f"(largest magnitude {torch.finfo(dtype).max:.4g})"
            )
        lost = (t == 0) & (given != 0)  # finite and nonzero as given, rounds to zero in dtype
        if t.numel() and bool(lost.any()):
            bad = int(lost.nonzero()[0, 0])
            raise ValueError(
                f"{what} {float(given[bad]):g} (position {bad}) is below {_dtype_name(dtype)}'s range and would "
                f"become 0 (smallest magnitude {torch.finfo(dtype).smallest_normal * torch.finfo(dtype).eps:.4g})"
            )
    else:
        if t.is_floating_point():
            if t.numel() and not bool((t == t.round()).all()):
                raise TypeError(f"{what} must be integers, got non-integral floats")
        elif t.dtype == torch.bool:
            raise TypeError(f"{what} must be integers, got booleans")
        t = t.to(dtype)
    return t.to(device)


def index_tensor(x: Any, what: str, n: int, device: torch.device) -> torch.Tensor:
    """``x`` (array-like or tensor, any shape) as int64 indices in ``[0, n)`` on ``device``, shape kept.

    ``TypeError`` for non-integral floats, booleans or non-numeric values; ``IndexError`` naming
    ``what`` (the argument), the first index outside ``[0, n)`` and its (flat) position.
    """
    shape = tuple(x.shape) if isinstance(x, torch.Tensor) else np.shape(x)
    t = _tensor(x, torch.int64, what, device)
    if t.numel():
        bad = (t < 0) | (t >= n)
        if bool(bad.any()):
            pos = int(bad.nonzero()[0, 0])
            raise IndexError(f"{what}: index {int(t[pos])} (position {pos}) is out of range [0, {n})")
    return t.reshape(shape)


def tensor_view(x: Any) -> torch.Tensor:
    """``x`` (a tensor or numpy array) as a tensor sharing its memory, read-only arrays included.

    torch warns that writing into a read-only array is undefined; callers of this function
    only read.
    """
    if isinstance(x, torch.Tensor):
        return x
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(np.asarray(x))


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _check_known(etype: EdgeType, name: str, known: IdMap | None, ids: np.ndarray) -> None:
    """Raise ValueError naming the first of ``ids`` that ``known`` lacks (nothing when the node
    type does not exist yet: ``known`` is ``None``)."""
    if known is None or not len(ids):
        return
    found = known.contains(ids)
    if not found.all():
        missing = ids[~found]
        more = f" (and {len(np.unique(missing)) - 1} more)" if len(np.unique(missing)) > 1 else ""
        raise ValueError(
            f"{etype} {name}: {known.name} id {missing[0].item()!r}{more} is not in the graph; "
            "pass new_nodes=True to add new nodes"
        )


def _check_lengths(etype: EdgeType, n_src: int, n_dst: int, w: torch.Tensor | None, ts: torch.Tensor | None) -> None:
    """Raise ValueError unless src, dst, weight and timestamp describe the same number of edges."""
    if n_src != n_dst:
        raise ValueError(f"{etype}: src has {n_src} entries but dst has {n_dst}")
    for name, t in (("weight", w), ("timestamp", ts)):
        if t is not None and t.numel() != n_src:
            raise ValueError(f"{etype}: {name} has {t.numel()} entries for {n_src} edges")


class Graph:
    """A heterogeneous graph in CSR torch tensors on one device.

    Parameters
    ----------
    device : str or torch.device
        Where every tensor lives; change with :meth:`to`.

    Examples
    --------
    >>> g = Graph()
    >>> _ = g.add_edges(INTERACTS, ["u1", "u1", "u2"], ["a", "b", "a"], by="id")
    >>> g.num_nodes("user"), g.num_nodes("item"), g.num_edges(INTERACTS)
    (2, 2, 3)
    """

    def __init__(self, device: str | torch.device = "cpu") -> None:
        self._device = store_device(device)
        self._nodes: dict[str, IdMap] = {}
        self._edges: dict[EdgeType, EdgeSet] = {}
        self.node_attrs: dict[str, dict[str, Any]] = {}
        self.meta: dict[str, Any] = {}
        self.version = 0

    # ------------------------------------------------------------------ nodes
    @property
    def device(self) -> torch.device:
        return self._device

    @property
    def node_types(self) -> list[str]:
        return list(self._nodes)

    def has_node_type(self, ntype: str) -> bool:
        return ntype in self._nodes

    def id_map(self, ntype: str) -> IdMap:
        try:
            return self._nodes[ntype]
        except KeyError:
            raise KeyError(f"unknown node type {ntype!r}; graph has {self.node_types}") from None

    def num_nodes(self, ntype: str | None = None) -> int:
        """Node count of ``ntype``, or of all types together."""
        if ntype is None:
            return sum(len(m) for m in self._nodes.values())
        return len(self.id_map(ntype))

    def add_node_type(self, ntype: str, ids: IdMap | Iterable[Any] | int) -> IdMap:
        """Declare node type ``ntype`` with external ``ids`` (an IdMap, id list, or count).

        An :class:`IdMap` is held as is (other graphs may share it) and from then on never
        changes; growing this graph's node set later gives it a new map (copy on write).
        """
        if ntype in self._nodes:
            raise ValueError(f"node type {ntype!r} already exists")
        if isinstance(ids, IdMap):
            m = ids if ids.name == ntype else ids.copy()  # never rename a map another graph may hold
        elif isinstance(ids, (int, np.integer)):
            m = IdMap.range(int(ids), name=ntype)
        else:
            m = IdMap(ids, name=ntype)
        m.name = ntype
        m._frozen = True
        self._nodes[ntype] = m
        self.node_attrs.setdefault(ntype, {})
        return m

    def add_nodes(self, ntype: str, ids: Iterable[Any]) -> np.ndarray:
        """Add external ``ids`` to ``ntype`` (creating the type if needed); return their indices.

        Existing ids keep their indices; edge sets touching ``ntype`` grow to the new size
        without being rebuilt. The type gets a new :class:`IdMap` (copy on write), so graphs
        sharing the old one are unchanged.
        """
        grown, idx = self._map_or_empty(ntype).extended(ids)
        self._set_maps({ntype: grown})
        return idx

    def _map_or_empty(self, ntype: str) -> IdMap:
        """The id map of ``ntype``, or an empty one (not yet held) when the type does not exist."""
        m = self._nodes.get(ntype)
        return IdMap([], name=ntype) if m is None else m

    def _set_maps(self, maps: dict[str, IdMap]) -> None:
        """Install grown id maps and resize the edge sets to match (cannot fail: commit step)."""
        for nt, m in maps.items():
            if self._nodes.get(nt) is not m:
                m._frozen = True
                self._nodes[nt] = m
                self.node_attrs.setdefault(nt, {})
        self._resize_edges()

    def _resize_edges(self) -> None:
        for et, es in list(self._edges.items()):
            ns, nd = self.num_nodes(et[0]), self.num_nodes(et[2])
            if (ns, nd) != (es.num_src, es.num_dst):
                self._edges[et] = es.resized(ns, nd)
                self.version += 1

    # ------------------------------------------------------------------ edges
    @property
    def edge_types(self) -> list[EdgeType]:
        return list(self._edges)

    def resolve_etype(self, etype: EdgeType | str | None = None) -> EdgeType:
        """Full ``(src, rel, dst)`` for a relation name, a full triple, or ``None`` (the only one / interactions)."""
        if etype is None:
            if not self._edges:
                raise ValueError("graph has no edge types")
            if len(self._edges) == 1:
                return next(iter(self._edges))
            if INTERACTS in self._edges:
                return INTERACTS
            raise ValueError(f"graph has several edge types {self.edge_types}; name one")
        if isinstance(etype, str):
            hits = [et for et in self._edges if et[1] == etype]
            if len(hits) != 1:
                raise KeyError(f"relation {etype!r} matches {len(hits)} edge types in {self.edge_types}")
            return hits[0]
        etype = tuple(etype)  # type: ignore[assignment]
        if etype not in self._edges:
            raise KeyError(f"unknown edge type {etype}; graph has {self.edge_types}")
        return etype  # type: ignore[return-value]

    def has_edge_type(self, etype: EdgeType | str) -> bool:
        try:
            self.resolve_etype(etype)
            return True
        except KeyError:
            return False

    def edges(self, etype: EdgeType | str | None = None) -> EdgeSet:
        """The :class:`EdgeSet` of ``etype``."""
        return self._edges[self.resolve_etype(etype)]

    def num_edges(self, etype: EdgeType | str | None = None) -> int:
        if etype is None and len(self._edges) != 1 and INTERACTS not in self._edges:
            return sum(es.num_edges for es in self._edges.values())
        return self.edges(etype).num_edges

    def add_edges(
        self,
        etype: EdgeType,
        src: Any,
        dst: Any,
        weight: Any | None = None,
        timestamp: Any | None = None,
        *,
        by: str = "index",
        duplicates: str = "count",
        new_nodes: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Add edges of type ``etype``; the edge set is created on first use.

        Parameters
        ----------
        etype : (src_type, relation, dst_type)
        src, dst : array-like, shape ``(m,)``
            Endpoints: dense indices (``by='index'``) or external ids (``by='id'``; unseen ids
            become new nodes, see ``new_nodes``).
        weight : array-like of float, optional
            Finite edge weights; NaN/inf raise.
        timestamp : array-like, optional
            Integer times (e.g. unix seconds), or datetimes (numpy ``datetime64``, a pandas
            datetime column, ``datetime`` objects) stored as int64 unix seconds, UTC, rounded
            down, as the file loaders do (see :mod:`graphrec.graph.times`).
        duplicates : {'count', 'merge', 'keep', 'error'}
            What to do with repeated ``(src, dst)`` pairs. ``count`` (default) keeps one edge
            whose weight is the sum of the rows' weights, a row without a weight counting 1:
            repeated unweighted rows give the number of rows. An unweighted edge set stays
            unweighted while no pair repeats; the first repeat gives it weights (1 for the
            other edges). ``merge`` is the same for weighted rows, but drops the count of
            repeated unweighted rows (one edge, no weight: binary relevance). Sums are taken
            in float64, so they do not depend on the order of the duplicates or the device;
            the timestamp kept is the latest. ``keep`` keeps a multi-edge; ``error`` raises.
            ``count``, ``merge`` and ``error`` act on the pairs this call adds to: multi-edges
            an earlier ``keep`` call kept stay unless a new edge repeats them. Under ``count``
            an unweighted edge weighs 1 wherever weights meet: rows without weights added to a
            weighted edge set get weight 1, weighted rows added to an unweighted one give its
            edges weight 1. The other rules refuse rows whose fields (weight, timestamp)
            differ from the edge set's.
        new_nodes : bool
            With ``by='id'``: whether ids not yet in the graph become new nodes. ``False``
            raises ``ValueError`` naming the first unknown id of a node type the graph already
            has (a node type the graph lacks is still created from the ids given).

        Returns
        -------
        (src_idx, dst_idx) : int64 tensors of the added endpoints, for incremental consumers.
        """
        etype = check_etype(etype)
        if duplicates not in DUPLICATE_RULES:
            raise ValueError(f"duplicates must be one of {', '.join(map(repr, DUPLICATE_RULES))}, got {duplicates!r}")
        st, _, dt = etype
        if by not in ("index", "id"):
            raise ValueError(f"by must be 'index' or 'id', got {by!r}")
        # Validate everything before touching the node sets, so that a rejected call leaves
        # the graph unchanged (by='id' would otherwise have added the new ids already).
        w = None if weight is None else _tensor(weight, torch.float32, f"{etype} weight", self._device)
        ts = None
        if timestamp is not None:
            secs = datetimes_to_unix_seconds(timestamp, f"{etype} timestamp")
            ts = _tensor(timestamp if secs is None else secs, torch.int64, f"{etype} timestamp", self._device)
        old = self._edges.get(etype)
        w_differs = old is not None and (w is None) != (old.weight is None) and duplicates != "count"  # count: weight 1
        if old is not None and (w_differs or (ts is None) != (old.timestamp is None)):
            have = [f for f, t in (("weight", old.weight), ("timestamp", old.timestamp)) if t is not None]
            given = [f for f, t in (("weight", w), ("timestamp", ts)) if t is not None]
            raise ValueError(
                f"{etype}: new edges must carry the same fields as existing ones: the edge set has "
                f"{' and '.join(have) or 'no weight or timestamp'}, these rows have {' and '.join(given) or 'neither'}"
            )
        maps: dict[str, IdMap] = {}  # grown id maps, installed only once the new edge set is built
        if by == "id":
            src_ids = _as_id_array(src, f"{etype} src")
            dst_ids = _as_id_array(dst, f"{etype} dst")
            _check_lengths(etype, len(src_ids), len(dst_ids), w, ts)
            kinds: dict[str, bool] = {t: m.is_str for t, m in self._nodes.items() if len(m)}
            for name, t, ids in (("src", st, src_ids), ("dst", dt, dst_ids)):
                if len(ids) and kinds.setdefault(t, ids.dtype.kind == "U") != (ids.dtype.kind == "U"):
                    want = "strings" if kinds[t] else "integers"
                    raise TypeError(f"{etype} {name}: {t} ids are {want}; got {ids.dtype} ids such as {ids[0].item()!r}")
            if not new_nodes:
                for name, t, ids in (("src", st, src_ids), ("dst", dt, dst_ids)):
                    _check_known(etype, name, self._nodes.get(t), ids)
            maps[st], s_idx = self._map_or_empty(st).extended(src_ids)
            maps[dt], d_idx = (maps[st] if dt == st else self._map_or_empty(dt)).extended(dst_ids)
            src_t = torch.from_numpy(s_idx).to(self._device)
            dst_t = torch.from_numpy(d_idx).to(self._device)
        else:
            for t in (st, dt):
                if t not in self._nodes:
                    raise KeyError(f"node type {t!r} does not exist; add it first or pass by='id'")
            src_t = _tensor(src, torch.int64, f"{etype} src", self._device)
            dst_t = _tensor(dst, torch.int64, f"{etype} dst", self._device)
            _check_lengths(etype, src_t.numel(), dst_t.numel(), w, ts)
            for name, t, n in (("src", src_t, self.num_nodes(st)), ("dst", dst_t, self.num_nodes(dt))):
                if t.numel() and (int(t.min()) < 0 or int(t.max()) >= n):
                    bad = t[(t < 0) | (t >= n)][0].item()
                    raise IndexError(f"{etype} {name} index {bad} out of range [0, {n})")
        ns = len(maps[st]) if st in maps else self.num_nodes(st)
        nd = len(maps[dt]) if dt in maps else self.num_nodes(dt)
        es = _build_edge_set(etype, ns, nd, src_t, dst_t, w, ts, duplicates, old)  # may still reject
        # commit: nothing below can fail, so a rejected call has left the graph unchanged
        self._edges[etype] = es
        self._set_maps(maps)
        self.version += 1
        return src_t, dst_t

    # ------------------------------------------------------------ convenience
    def csr(self, etype: EdgeType | str | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """``(indptr, indices, weight)`` of ``etype`` (CSR by source)."""
        es = self.edges(etype)
        return es.indptr, es.indices, es.weight

    def csc(self, etype: EdgeType | str | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(indptr, indices, perm)`` of the transposed ``etype`` (CSR by destination)."""
        t = self.edges(etype).csc()
        return t.indptr, t.indices, t.perm

    def degree(self, etype: EdgeType | str | None = None, side: str = "src", weighted: bool = False) -> torch.Tensor:
        return self.edges(etype).degree(side, weighted)

    def norm_adj(self, etype: EdgeType | str | None = None, weighted: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """LightGCN's normalised bipartite adjacency blocks ``(R̃, R̃ᵀ)``; see :meth:`EdgeSet.normalized`."""
        return self.edges(etype).normalized(weighted)

    def degree_stats(self) -> dict[str, dict[str, float]]:
        """Min / mean / median / max degrees (and the count of zeros) of both sides of every edge type.

        Keys are ``"<relation>:<node type>"`` (``"interacts:user"``, ``"interacts:item"``); where
        both sides are one node type they are ``"<relation>:<type>:out"`` and ``":in"``.
        """
        out: dict[str, dict[str, float]] = {}
        for et, es in self._edges.items():
            for side in ("src", "dst"):
                d = es.degree(side).to(torch.float64)
                name = f"{et[1]}:{et[0] if side == 'src' else et[2]}"
                if et[0] == et[2]:  # one node type on both sides: keep out- and in-degrees apart
                    name += ":out" if side == "src" else ":in"
                if d.numel() == 0:
                    out[name] = {"min": 0.0, "mean": 0.0, "median": 0.0, "max": 0.0, "zeros": 0}
                    continue
                srt, n = d.sort().values, d.numel()  # median of an even n: mean of the middle two, as numpy's
                out[name] = {
                    "min": float(srt[0]), "mean": float(d.mean()), "median": float((srt[(n - 1) // 2] + srt[n // 2]) / 2),
                    "max": float(srt[-1]), "zeros": int((d == 0).sum()),
                }
        return out

    # ------------------------------------------------------------ transforms
    def to(self, device: str | torch.device) -> Graph:
        """A graph on ``device`` (the same object when already there).

        Id maps are shared until either graph grows (copy on write), so neither changes the other.
        """
        device = store_device(device)
        if device == self._device:
            return self
        out = self._shallow(device)
        out._edges = {et: es.to(device) for et, es in self._edges.items()}
        for attrs in out.node_attrs.values():  # tensor node attributes (features) follow the store
            for name, val in attrs.items():
                if isinstance(val, torch.Tensor):
                    attrs[name] = val.to(device)
        return out

    def _shallow(self, device: torch.device | None = None) -> Graph:
        out = Graph(device or self._device)
        out._nodes = dict(self._nodes)
        out.node_attrs = {k: dict(v) for k, v in self.node_attrs.items()}
        out.meta = dict(self.meta)
        out._edges = dict(self._edges)
        return out

    def edge_subgraph(self, etypes: Iterable[EdgeType | str]) -> Graph:
        """A graph with the same nodes and only the given edge types (tensors shared)."""
        keep = {self.resolve_etype(e) for e in etypes}
        out = self._shallow()
        out._edges = {et: es for et, es in self._edges.items() if et in keep}
        return out

    def edges_between(
        self, t0: float | None = None, t1: float | None = None, etypes: Iterable[EdgeType | str] | None = None
    ) -> Graph:
        """Time slice: edges with ``t0 <= timestamp < t1`` (``None`` leaves a side open).

        Bounds may be floats (``time.time()``) or infinite; they are compared exactly, never
        truncated. Applies to the edge types in ``etypes`` (default: every type that has
        timestamps); other edge types are kept whole. Node sets and id maps are unchanged.
        """
        chosen = self.edge_types if etypes is None else [self.resolve_etype(e) for e in etypes]
        out = self._shallow()
        for et in chosen:
            es = self._edges[et]
            if es.timestamp is None:
                if etypes is not None:
                    raise ValueError(f"edge type {et} has no timestamps")
                continue
            out._edges[et] = es.select(_in_window(es.timestamp, t0, t1))
        return out

    def nbytes(self, include_cache: bool = True) -> int:
        """Bytes held by all edge tensors (and cached derived views when ``include_cache``)."""
        return sum(es.nbytes(include_cache) for es in self._edges.values())

    def __repr__(self) -> str:
        nodes = ", ".join(f"{t}={len(m)}" for t, m in self._nodes.items())
        edges = ", ".join(f"{et[1]}={es.num_edges}" for et, es in self._edges.items())
        return f"Graph(nodes: {nodes}; edges: {edges}; device={self._device})"

    # --------------------------------------------------------------- interop
    # Thin delegations to graphrec.graph.interop (imported lazily: it pulls optional libraries).
    def to_scipy(self, etype: EdgeType | str | None = None) -> Any:
        """``etype`` as a ``scipy.sparse.csr_matrix``; see :func:`graphrec.graph.interop.to_scipy`."""
        from .interop import to_scipy

        return to_scipy(self, etype)

    def to_networkx(self) -> Any:
        """A ``networkx.MultiDiGraph``; see :func:`graphrec.graph.interop.to_networkx`."""
        from .interop import to_networkx

        return to_networkx(self)

    def to_igraph(self, etype: EdgeType | str | None = None) -> Any:
        """``etype`` as an ``igraph.Graph``; see :func:`graphrec.graph.interop.to_igraph`."""
        from .interop import to_igraph

        return to_igraph(self, etype)

    def to_pyg(self) -> Any:
        """A PyG ``HeteroData``; see :func:`graphrec.graph.interop.to_pyg`."""
        from .interop import to_pyg

        return to_pyg(self)

    def to_dgl(self) -> Any:
        """A DGL heterograph (needs ``graphrec[dgl]``); see :func:`graphrec.graph.interop.to_dgl`."""
        from .interop import to_dgl

        return to_dgl(self)

    @classmethod
    def from_frame(
        cls,
        frame: Any,
        user_col: Any = "user",
        item_col: Any = "item",
        weight_col: Any | None = None,
        time_col: Any | None = None,
        **kwargs: Any,
    ) -> Graph:
        """A graph of interactions from a pandas DataFrame or pyarrow Table (``trust=`` adds
        trust edges); see :func:`graphrec.data.frames.graph_from_frame`.

        >>> import pandas as pd
        >>> g = Graph.from_frame(pd.DataFrame({"user": ["a", "a", "b"], "item": ["x", "x", "y"]}))
        >>> g.edges(INTERACTS).weight.tolist()  # the repeated row is counted
        [2.0, 1.0]
        """
        from ..data.frames import graph_from_frame

        return graph_from_frame(frame, user_col, item_col, weight_col, time_col, **kwargs)

    def add_frame(
        self,
        frame: Any,
        etype: EdgeType | str = TRUSTS,
        src_col: Any = "src",
        dst_col: Any = "dst",
        weight_col: Any | None = None,
        time_col: Any | None = None,
        **kwargs: Any,
    ) -> Graph:
        """Add a table's rows as ``etype`` edges (default ``user -trusts-> user``; unknown ids of
        existing node types raise unless ``new_nodes=True``) and return this graph; see
        :func:`graphrec.data.frames.add_frame`."""
        from ..data.frames import add_frame

        return add_frame(self, frame, etype, src_col, dst_col, weight_col, time_col, **kwargs)

    @classmethod
    def from_scipy(cls, matrix: Any, etype: EdgeType = INTERACTS, src_ids: Any = None, dst_ids: Any = None, **kwargs: Any) -> Graph:
        """See :func:`graphrec.graph.interop.from_scipy`."""
        from .interop import from_scipy

        return from_scipy(matrix, etype, src_ids, dst_ids, **kwargs)

    @classmethod
    def from_networkx(cls, G: Any, **kwargs: Any) -> Graph:
        """See :func:`graphrec.graph.interop.from_networkx`."""
        from .interop import from_networkx

        return from_networkx(G, **kwargs)

    @classmethod
    def from_igraph(cls, G: Any, etype: EdgeType | None = None, **kwargs: Any) -> Graph:
        """See :func:`graphrec.graph.interop.from_igraph`."""
        from .interop import from_igraph

        return from_igraph(G, etype, **kwargs)

    @classmethod
    def from_pyg(cls, data: Any, id_maps: Any = None, **kwargs: Any) -> Graph:
        """See :func:`graphrec.graph.interop.from_pyg`."""
        from .interop import from_pyg

        return from_pyg(data, id_maps, **kwargs)

    @classmethod
    def from_dgl(cls, G: Any, id_maps: Any = None, **kwargs: Any) -> Graph:
        """See :func:`graphrec.graph.interop.from_dgl`."""
        from .interop import from_dgl

        return from_dgl(G, id_maps, **kwargs)

    # ----------------------------------------------------------- persistence
    def state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """The graph as a JSON-able description and a dict of CPU tensors (what :meth:`save` writes).

        :meth:`from_state` rebuilds it; the tensors may travel as numpy arrays (e.g. through a
        distributed object store) and come back with ``torch.from_numpy``.
        """
        tensors: dict[str, torch.Tensor] = {}
        edges_meta = []
        for i, (et, es) in enumerate(self._edges.items()):
            for field in ("indptr", "indices", "weight", "timestamp"):
                t = getattr(es, field)
                if t is not None:
                    tensors[f"e{i}.{field}"] = t.cpu()
            edges_meta.append({"etype": list(et), "key": f"e{i}", "weight": es.weight is not None, "timestamp": es.timestamp is not None})
        attrs_meta: dict[str, dict[str, Any]] = {}
        for nt, attrs in self.node_attrs.items():
            for name, val in attrs.items():
                key = f"a{sum(len(v) for v in attrs_meta.values())}"  # not f"{nt}.{name}": names may hold dots
                if isinstance(val, torch.Tensor):
                    tensors[key] = val.cpu()
                    attrs_meta.setdefault(nt, {})[name] = {"kind": "tensor", "key": key}
                else:
                    arr = np.asarray(val)
                    if arr.dtype.kind in "iufb":
                        tensors[key] = torch.from_numpy(np.ascontiguousarray(arr))
                        attrs_meta.setdefault(nt, {})[name] = {"kind": "numpy", "key": key}
                    else:  # strings (or objects, kept as their str()); flat values + shape, dtype kind
                        attrs_meta.setdefault(nt, {})[name] = {
                            "kind": "list", "values": [str(x) for x in arr.reshape(-1).tolist()],
                            "shape": list(arr.shape), "unicode": arr.dtype.kind == "U",
                        }
        meta = {
            "format": "graphrec.Graph",
            "version": _FORMAT_VERSION,
            "nodes": [m.to_json() for m in self._nodes.values()],
            "edges": edges_meta,
            "attrs": attrs_meta,
            "meta": self.meta,
        }
        return meta, tensors

    def save(self, path: str | Path) -> Path:
        """Write the graph to directory ``path`` (``graph.json`` + ``tensors.pt``)."""
        path = Path(path)
        meta, tensors = self.state()
        text = json.dumps(meta)  # before writing: a meta value JSON cannot hold must not leave new tensors by an old graph.json
        path.mkdir(parents=True, exist_ok=True)
        tmp = path / "tensors.pt.tmp"
        torch.save(tensors, tmp)
        tmp.replace(path / "tensors.pt")
        (path / "graph.json").write_text(text)
        return path

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device = "cpu") -> Graph:
        """Read a graph written by :meth:`save`."""
        path = Path(path)
        meta_file = path / "graph.json"
        if not meta_file.is_file() or not (path / "tensors.pt").is_file():
            raise FileNotFoundError(f"{path} is not a saved graphrec graph (needs graph.json and tensors.pt)")
        try:
            meta = json.loads(meta_file.read_text())
        except json.JSONDecodeError as e:
            raise ValueError(f"{meta_file}: malformed JSON ({e})") from None
        if not isinstance(meta, dict):
            raise ValueError(f"{meta_file}: malformed graph description (expected a JSON object, got a {type(meta).__name__})")  # noqa: TRY004
        if meta.get("format") != "graphrec.Graph" or meta.get("version") != _FORMAT_VERSION:
            raise ValueError(f"{meta_file}: not a graphrec graph of format version {_FORMAT_VERSION}")
        try:
            tensors = torch.load(path / "tensors.pt", map_location="cpu", weights_only=True)
        except Exception as e:  # truncated / overwritten file: say so instead of torch's pickle advice
            raise ValueError(f"{path / 'tensors.pt'}: unreadable or corrupted ({type(e).__name__}); re-save the graph") from e
        if not isinstance(tensors, dict):
            raise ValueError(f"{path / 'tensors.pt'}: expected a dict of tensors, got {type(tensors).__name__}")  # noqa: TRY004 (a corrupt file)
        return cls._from_checked_state(meta, tensors, device, str(path), str(meta_file))

    @classmethod
    def from_state(cls, meta: dict[str, Any], tensors: dict[str, Any], device: str | torch.device = "cpu") -> Graph:
        """The graph :meth:`state` described, on ``device``.

        ``tensors`` may be numpy arrays, read-only ones included (a distributed object store's
        shared memory): on the CPU they are used without a copy, and the store never writes into
        its edge arrays (a graph that grows builds new ones).
        """
        if not isinstance(meta, dict) or meta.get("format") != "graphrec.Graph" or meta.get("version") != _FORMAT_VERSION:
            raise ValueError(f"not a graphrec graph state of format version {_FORMAT_VERSION}")
        return cls._from_checked_state(meta, {k: tensor_view(v) for k, v in tensors.items()}, device, "graph state", "graph state")

    @classmethod
    def _from_checked_state(cls, meta: dict[str, Any], tensors: dict[str, torch.Tensor], device: str | torch.device,
                            path: str, meta_file: str) -> Graph:
        """Build a graph from a state whose format was checked; ``path``/``meta_file`` name it in errors."""

        def tensor(key: str) -> torch.Tensor:
            if not isinstance(tensors.get(key), torch.Tensor):
                raise ValueError(f"{path}: tensors.pt lacks tensor {key!r} that graph.json refers to")  # noqa: TRY004
            return tensors[key]

        g = cls("cpu")
        try:
            for kind in ("nodes", "edges"):
                if not isinstance(meta[kind], list):
                    raise ValueError(f"{meta_file}: malformed graph description ({kind!r} must be a list, got {type(meta[kind]).__name__})")  # noqa: TRY004 (corrupt data)
            if not isinstance(meta["attrs"], dict) or not isinstance(meta.get("meta", {}), dict):
                raise ValueError(f"{meta_file}: malformed graph description ('attrs' and 'meta' must be JSON objects)")  # noqa: TRY004 (corrupt data)
            for i, nm in enumerate(meta["nodes"]):
                try:
                    m = IdMap.from_json(nm)
                except ValueError as e:
                    raise ValueError(f"{meta_file}: node type #{i}: {e}") from None
                if g.has_node_type(m.name):
                    raise ValueError(f"{meta_file}: node type {m.name!r} is listed twice")
                g.add_node_type(m.name, m)
            for em in meta["edges"]:
                raw_et = em["etype"]
                if not isinstance(raw_et, list) or len(raw_et) != 3 or not all(isinstance(p, str) for p in raw_et):
                    raise ValueError(f"{meta_file}: edge type {raw_et!r} must be a list of three names [src_type, relation, dst_type]")
                et = tuple(raw_et)
                if et in g._edges:
                    raise ValueError(f"{meta_file}: edge type {et} is listed twice")
                k = em["key"]
                if not isinstance(k, str):
                    raise ValueError(f"{meta_file}: edge type {et}: 'key' must be a string, got {k!r}")  # noqa: TRY004 (corrupt data)
                for t in (et[0], et[2]):
                    if not g.has_node_type(t):
                        raise ValueError(f"{meta_file}: edge type {et} refers to unknown node type {t!r}")
                parts = (
                    tensor(f"{k}.indptr"), tensor(f"{k}.indices"),
                    tensor(f"{k}.weight") if em.get("weight") else None,
                    tensor(f"{k}.timestamp") if em.get("timestamp") else None,
                )
                try:
                    es = EdgeSet(et, g.num_nodes(et[0]), g.num_nodes(et[2]), *parts)
                except ValueError as e:  # tensors of the wrong length
                    raise ValueError(f"{path}: {e}") from None
                _check_csr(es, f"{path}: edge type {et}")
                g._edges[et] = es
            for nt, attrs in meta["attrs"].items():
                for name, am in attrs.items():
                    key = am.get("key", f"a.{nt}.{name}")  # files written before keys were numbered
                    if am["kind"] == "tensor":
                        val: Any = tensor(key)
                    elif am["kind"] == "numpy":
                        val = tensor(key).numpy()
                    else:
                        val = np.asarray(am["values"], dtype=str if am.get("unicode") else object)
                        if "shape" in am:
                            try:
                                val = val.reshape(am["shape"])
                            except ValueError as e:
                                raise ValueError(f"{meta_file}: node attribute {nt!r}.{name!r}: {e}") from None
                    g.node_attrs.setdefault(nt, {})[name] = val
        except (KeyError, TypeError, AttributeError) as e:  # a field missing or of the wrong JSON type
            raise ValueError(f"{meta_file}: malformed graph description ({type(e).__name__}: {e})") from e
        g.meta = meta.get("meta", {})
        return g.to(device)


def _in_window(ts: torch.Tensor, t0: Any, t1: Any) -> torch.Tensor:
    """Boolean mask of ``t0 <= ts < t1`` for int64 ``ts``; a ``None`` bound is open.

    For integer ``ts``, ``ts >= t`` iff ``ts >= ceil(t)`` and ``ts < t`` iff ``ts < ceil(t)``, so
    float bounds are rounded up (``int()`` would truncate: ``t0=10.5`` would keep ``ts=10``);
    bounds beyond int64's range are resolved here (torch would wrap or overflow).
    """
    lo, hi = torch.iinfo(torch.int64).min, torch.iinfo(torch.int64).max
    keep = torch.ones(ts.numel(), dtype=torch.bool, device=ts.device)
    for name, t in (("t0", t0), ("t1", t1)):
        if t is None:
            continue
        x = t.item() if isinstance(t, (torch.Tensor, np.generic)) else t
        if isinstance(x, float):
            if math.isnan(x):
                raise ValueError(f"edges_between: {name} is NaN")
            c = x if math.isinf(x) else math.ceil(x)
        else:
            c = int(x)
        if c <= lo or c > hi:  # every timestamp is on one side of the bound
            if (c > hi) == (name == "t0"):
                keep.zero_()
        else:
            keep &= (ts >= c) if name == "t0" else (ts < c)
    return keep


def _check_csr(es: EdgeSet, where: str) -> None:
    """Raise ValueError unless ``es`` is well-formed CSR (used on data read from disk)."""
    ip, ix = es.indptr, es.indices
    if ip.numel() and (int(ip[0]) != 0 or int(ip[-1]) != ix.numel() or bool((ip[1:] < ip[:-1]).any())):
        raise ValueError(f"{where}: corrupted indptr (must rise from 0 to {ix.numel()})")
    if ix.numel() and (int(ix.min()) < 0 or int(ix.max()) >= es.num_dst):
        raise ValueError(f"{where}: destination index out of range [0, {es.num_dst})")
    if ix.numel() > 1:  # merges and searches rely on sorted rows: indices may only fall where a row starts
        row_start = torch.zeros(ix.numel() + 1, dtype=torch.bool, device=ix.device)
        row_start[ip.to(torch.int64)] = True
        if bool(((ix[1:] < ix[:-1]) & ~row_start[1:-1]).any()):
            raise ValueError(f"{where}: corrupted indices (not sorted within rows)")


def _build_edge_set(
    etype: EdgeType,
    ns: int,
    nd: int,
    src: torch.Tensor,
    dst: torch.Tensor,
    w: torch.Tensor | None,
    ts: torch.Tensor | None,
    duplicates: str,
    old: EdgeSet | None,
) -> EdgeSet:
    """Sort the new edges and merge them into ``old`` (an O(E) merge, not a re-sort)."""
    indptr, dst_sorted, perm = coo_to_csr(src, dst, ns, nd)
    src_sorted = src[perm]
    w = None if w is None else w[perm]
    ts = None if ts is None else ts[perm]
    if old is not None and old.num_edges:
        old = old.resized(ns, nd) if (old.num_src, old.num_dst) != (ns, nd) else old
        o_src, o_dst = old.coo()
        new_key = src_sorted * nd + dst_sorted
        old_key = o_src * nd + o_dst
        # positions in the merged order: new edge k goes after every old key <= it
        pos_new = torch.searchsorted(old_key, new_key, right=True) + torch.arange(new_key.numel(), device=src.device)
        total = old_key.numel() + new_key.numel()
        is_new = torch.zeros(total, dtype=torch.bool, device=src.device)
        is_new[pos_new] = True
        pos_old = (~is_new).nonzero().squeeze(1)

        def merge(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            out = torch.empty(total, dtype=a.dtype, device=src.device)
            out[pos_old] = a
            out[pos_new] = b
            return out

        src_sorted = merge(o_src, src_sorted)
        dst_sorted = merge(o_dst, dst_sorted.to(torch.int64))
        if w is not None or old.weight is not None:  # 'count' may mix weighted and unweighted rows: unweighted weigh 1
            ones = torch.ones(total, dtype=torch.float32, device=src.device)
            w = merge(ones[: o_src.numel()] if old.weight is None else old.weight, ones[: new_key.numel()] if w is None else w)
        ts = None if ts is None else merge(old.timestamp, ts)
        counts = torch.bincount(src_sorted, minlength=ns)
        indptr = torch.zeros(ns + 1, dtype=torch.int64, device=src.device)
        torch.cumsum(counts, 0, out=indptr[1:])
    else:
        is_new = torch.ones(src_sorted.numel(), dtype=torch.bool, device=src.device)
    if duplicates != "keep" and src_sorted.numel() > 1:
        dup = (src_sorted[1:] == src_sorted[:-1]) & (dst_sorted[1:] == dst_sorted[:-1])
        if bool(dup.any()):
            # Only pairs that this call adds to are merged (or refused): multi-edges an earlier
            # duplicates='keep' call kept stay as they are unless a new edge repeats them.
            run_start = torch.ones(src_sorted.numel(), dtype=torch.bool, device=src.device)
            run_start[1:] = ~dup
            run = torch.cumsum(run_start.to(torch.int64), 0) - 1
            run_has_new = torch.zeros(int(run[-1]) + 1, dtype=torch.bool, device=src.device)
            run_has_new[run[is_new]] = True
            dup &= run_has_new[run[1:]]
        if bool(dup.any()):
            if duplicates == "error":
                k = int(dup.nonzero()[0, 0])
                raise ValueError(f"{etype}: duplicate edge ({int(src_sorted[k])}, {int(dst_sorted[k])})")
            if duplicates == "count" and w is None:  # each row counts 1: the sums below are the row counts
                w = torch.ones(src_sorted.numel(), dtype=torch.float32, device=src.device)
            first = torch.ones(src_sorted.numel(), dtype=torch.bool, device=src.device)
            first[1:] = ~dup
            group = torch.cumsum(first.to(torch.int64), 0) - 1
            n_groups = int(first.sum())
            if w is not None:  # summed in float64: the same float32 result in any order, on any device
                total64 = torch.zeros(n_groups, dtype=torch.float64, device=w.device).index_add_(0, group, w.double())
                w = total64.to(w.dtype)
                if not bool(torch.isfinite(w).all()):
                    k = int((~torch.isfinite(w)).nonzero()[0, 0])
                    s_k, d_k = src_sorted[first][k], dst_sorted[first][k]
                    raise ValueError(
                        f"{etype}: merged weight {float(total64[k]):g} of edge ({int(s_k)}, {int(d_k)}) exceeds "
                        f"{_dtype_name(w.dtype)}'s range (largest magnitude {torch.finfo(w.dtype).max:.4g}); "
                        "scale the weights down"
                    )
            if ts is not None:
                ts = torch.full((n_groups,), torch.iinfo(torch.int64).min, dtype=ts.dtype, device=ts.device).scatter_reduce_(
                    0, group, ts, reduce="amax"
                )
            src_sorted, dst_sorted = src_sorted[first], dst_sorted[first]
            counts = torch.bincount(src_sorted, minlength=ns)
            indptr = torch.zeros(ns + 1, dtype=torch.int64, device=src.device)
            torch.cumsum(counts, 0, out=indptr[1:])
    return EdgeSet(etype, ns, nd, indptr, dst_sorted, w, ts)
