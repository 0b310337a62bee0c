"""Views of the store that social walks run on: a recent-interaction window, re-weighted edges.

A view is a :class:`~graphrec.graph.Graph` sharing the store's node sets, id maps and
untouched edge sets; only the edge sets it changes are new (a CSR ``select`` or new weights
over the same index arrays). Nothing is copied back into the store.

- :func:`recent_view`: GraphJet's bounded memory. Only interactions inside a recent time
  window count, and each user keeps at most ``max_per_user`` of them (the most recent when
  the edges carry timestamps, else the heaviest, else the first in CSR order).
- :func:`with_edges`: the same graph with some edge sets replaced (e.g. reputation weights).

References
----------
Sharma, Jiang, Bommannavar, Larson, Lin. GraphJet: real-time content recommendations at
Twitter. PVLDB 9(13), 2016.
"""

from __future__ import annotations

from typing import Any

import torch

from ..checks import check_int, check_number
from ..graph.edges import EdgeSet, EdgeType
from ..graph.store import Graph

__all__ = ["rank_within_rows", "recent_view", "with_edges"]


def with_edges(graph: Graph, replace: dict[EdgeType, EdgeSet | None]) -> Graph:
    """``graph`` with the edge sets in ``replace`` swapped in (``None`` drops the type).

    Node sets, id maps, attributes and every other edge set are shared with ``graph``.
    """
    out = graph.edge_subgraph(graph.edge_types)
    for et, es in replace.items():
        if es is None:
            out._edges.pop(et, None)
        else:
            if (es.num_src, es.num_dst) != (graph.num_nodes(et[0]), graph.num_nodes(et[2])):
                raise ValueError(f"{et}: replacement edge set is {es.num_src}x{es.num_dst}, graph has "
                                 f"{graph.num_nodes(et[0])}x{graph.num_nodes(et[2])} nodes")
            out._edges[et] = es
    return out


def rank_within_rows(es: EdgeSet, key: torch.Tensor) -> torch.Tensor:
    """Rank ``0, 1, ...`` of each edge within its source row by descending ``key`` (ties: CSR order).

    Parameters
    ----------
    es : EdgeSet
    key : Tensor ``(nnz,)`` in CSR order (int or float)

    Returns
    -------
    LongTensor ``(nnz,)``
    """
    order = torch.argsort(key, descending=True, stable=True)
    row = es.row()
    order = order[torch.argsort(row[order], stable=True)]  # rows in order, key descending within
    pos = torch.empty_like(order)
    pos[order] = torch.arange(order.numel(), device=order.device)
    return pos - es.indptr.to(torch.int64)[row]


def recent_view(graph: Graph, etype: Any, window: float | None = None, max_per_user: int | None = None) -> Graph:
    """The interactions a real-time walk may use: a recent window, at most ``max_per_user`` per user.

    Parameters
    ----------
    graph : Graph
    etype : the interaction edge type.
    window : float, optional
        Keep edges with ``timestamp >= t_max - window`` (``t_max``: the latest timestamp of
        ``etype``). ``None`` keeps every edge. Needs timestamps.
    max_per_user : int, optional
        Keep each user's ``max_per_user`` most recent edges (heaviest without timestamps,
        first in CSR order without either). ``None``: no cap.

    Returns
    -------
    Graph (a view; the store itself is unchanged)

    Raises
    ------
    ValueError
        ``window`` on edges without timestamps, a negative ``window``, ``max_per_user < 1``.
    """
    etype = graph.resolve_etype(etype)
    es = graph.edges(etype)
    keep = None
    if window is not None:
        window = check_number("window", window, 0)
        if es.timestamp is None:
            raise ValueError(f"window={window:g} needs timestamps, but {etype} edges have none; use window=None")
        if es.num_edges:
            t_max = int(es.timestamp.max())
            keep = es.timestamp >= t_max - int(window)
    if max_per_user is not None:
        max_per_user = check_int("max_per_user", max_per_user, 1, also="or None")
        deg = es.degree("src")
        if es.num_edges and int(deg.max()) > max_per_user:
            if es.timestamp is not None:
                key = es.timestamp.clone()
                if keep is not None:  # edges outside the window never take a slot
                    key[~keep] = torch.iinfo(torch.int64).min
            elif es.weight is not None:
                key = es.weight
            else:
                key = -torch.arange(es.num_edges, device=es.device)
            cap = rank_within_rows(es, key) < max_per_user
            keep = cap if keep is None else keep & cap
    if keep is None or bool(keep.all()):
        return graph
    return with_edges(graph, {etype: es.select(keep)})
