"""Modularity of a clustering of one relation of the store: bipartite (Barber) or standard (Newman).

For a bipartite relation ``R`` (users x items, ``m`` distinct pairs, degrees ``k_u``, ``d_i``)
Barber's bipartite modularity only compares pairs that could be linked, user with item:

``Q_B = Σ_c [ e_c / m  -  γ · K_c^U · K_c^I / m² ]``

with ``e_c`` the pairs inside cluster ``c`` and ``K_c^U``, ``K_c^I`` the degree sums of its users
and items (Barber, "Modularity and community detection in bipartite networks", Phys. Rev. E
2007). Newman's modularity treats the same pairs as one undirected graph:

``Q = Σ_c [ e_c / m  -  γ · (K_c / 2m)² ]``, ``K_c = K_c^U + K_c^I``

(Newman & Girvan, Phys. Rev. E 2004), which is also the only kind for a one-type relation
(trust), read as an undirected simple graph. Both count each distinct pair once (repeated
interactions and weights are ignored), as the clustering in :mod:`graphrec.cluster.leiden` does.
"""

from __future__ import annotations

import torch

from ..checks import check_choice, check_number
from ..graph.edges import EdgeType
from ..graph.store import INTERACTS, Graph

__all__ = ["KINDS", "modularity", "modularity_of_pairs", "simple_edges"]

#: the modularity kinds: Barber's bipartite one, Newman's standard one
KINDS = ("bipartite", "standard")


def simple_edges(graph: Graph, etype: EdgeType | str = INTERACTS) -> tuple[torch.Tensor, torch.Tensor, EdgeType]:
    """The distinct pairs of a relation as ``(src, dst, etype)``, LongTensors ``(m,)`` on ``graph.device``.

    A bipartite relation keeps every distinct ``(src, dst)`` pair; a one-type relation is read
    as undirected: each unordered pair ``{a, b}`` (``a != b``) once, as ``(min, max)``,
    self-loops dropped.
    """
    es = graph.edges(etype)
    s, d = es.coo()
    if es.etype[0] == es.etype[2]:
        keep = s != d
        s, d = torch.minimum(s[keep], d[keep]), torch.maximum(s[keep], d[keep])
    n = max(es.num_dst, 1)
    key = torch.unique(s * n + d)
    return key // n, key % n, es.etype


def modularity(
    graph: Graph,
    membership: dict[str, torch.Tensor],
    etype: EdgeType | str = INTERACTS,
    *,
    kind: str = "bipartite",
    resolution: float = 1.0,
) -> float:
    """Modularity of a clustering of relation ``etype``.

    Parameters
    ----------
    graph : Graph
    membership : dict node type -> LongTensor ``(n_type,)``
        Cluster id of every node of the relation's node type(s); ids are shared across types
        (a user and an item in cluster 3 are in the same cluster).
    etype : edge type or relation name
    kind : {'bipartite', 'standard'}
        Barber's bipartite modularity (bipartite relations only) or Newman's.
    resolution : float
        ``γ >= 0`` (1: the usual modularity).

    Returns
    -------
    float
        ``Q`` (0 for a relation without edges).

    Raises
    ------
    ValueError
        Unknown ``kind``, ``'bipartite'`` on a one-type relation, or a membership of the wrong length.
    """
    kind = check_choice("kind", kind, KINDS)
    gamma = check_number("resolution", resolution, 0)
    s, d, et = simple_edges(graph, etype)
    st, _, dt = et
    for t in {st, dt}:
        if t not in membership:
            raise ValueError(f"membership has no {t!r} entry")
        if membership[t].numel() != graph.num_nodes(t):
            raise ValueError(f"membership[{t!r}] has {membership[t].numel()} entries for {graph.num_nodes(t)} nodes")
    one_type = st == dt
    if one_type and kind == "bipartite":
        raise ValueError(f"kind='bipartite' needs a two-type relation, got {et}")
    return modularity_of_pairs(s, d, membership[st], membership[dt], kind=kind, resolution=gamma)


def modularity_of_pairs(
    s: torch.Tensor, d: torch.Tensor, cs: torch.Tensor, cd: torch.Tensor, *, kind: str = "bipartite", resolution: float = 1.0
) -> float:
    """:func:`modularity` of distinct pairs ``(s, d)`` (from :func:`simple_edges`) given the
    cluster ids ``cs`` of the source type and ``cd`` of the destination type (the same tensor
    for a one-type relation)."""
    m = s.numel()
    if m == 0:
        return 0.0
    cs, cd = cs.to(s.device, torch.int64), cd.to(s.device, torch.int64)
    k = int(max(cs.max(), cd.max())) + 1
    inside = float((cs[s] == cd[d]).sum())
    ones = torch.ones(m, dtype=torch.float64, device=s.device)
    ks = torch.zeros(k, dtype=torch.float64, device=s.device).index_add_(0, cs[s], ones)
    kd = torch.zeros(k, dtype=torch.float64, device=s.device).index_add_(0, cd[d], ones)
    if kind == "bipartite":
        return inside / m - resolution * float((ks * kd).sum()) / m**2
    return inside / m - resolution * float(((ks + kd) ** 2).sum()) / (2 * m) ** 2
