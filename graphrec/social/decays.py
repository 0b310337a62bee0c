"""MeritRank's decays as walk-engine hooks and post-walk discounts.

- *Transitivity decay* ``alpha``: a walk ends with probability ``alpha`` before each step
  (the engine's ``restart_mode='stop'``), so a node ``d`` hops away gains at most
  ``(1 - alpha)^d`` of the seed's walks.
- *Connectivity decay* ``beta`` (:func:`bridged`): a node that every walk reaching it passes
  through one other node (a *bridge*, e.g. the entry of a Sybil region) keeps ``1 - beta`` of
  its score.
- *Epoch decay* (:func:`epoch_factor`): an interaction ``e`` epochs old weighs
  ``(1 - gamma)^e``.
- *Negative edges* (:func:`distrust_hook`): a walk that reaches a node its seed distrusts
  turns negative from there on: that node and everything the walk visits after it (what lies
  behind it, seen from the seed) are counted with weight ``-w`` (``w``: the distrust
  weight), once per walk. meritrank-python instead penalises the nodes *before* a distrusted
  node (whoever led the walk to it); graphrec penalises what the distrusted account vouches
  for, which is what a Sybil region hides behind its entry.

Distrust is read from a ``("user", "distrusts", "user")`` relation (positive weights: the
strength) and from negative weights of the trust relation (taken as distrust of ``|w|``,
and never walked).

References
----------
Nasrulin, Ishmaev, Pouwelse. MeritRank: Sybil tolerant reputation for merit-based
tokenomics. BRAINS 2022 (arXiv:2207.09950).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ..graph.edges import EdgeSet, EdgeType
from ..graph.store import TRUSTS, Graph
from ..walks.engine import WalkEngine, WalkState

__all__ = ["DISTRUSTS", "bridged", "distrust_edges", "distrust_hook", "epoch_factor", "split_trust"]

#: the relation holding distrust (negative) edges between users
DISTRUSTS: EdgeType = ("user", "distrusts", "user")

#: pairs (walk position before, after) evaluated per chunk in :func:`bridged`
_PAIR_CHUNK = 8_000_000


def split_trust(graph: Graph, relation: EdgeType = TRUSTS) -> tuple[EdgeSet | None, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """The walkable (positive) trust edges and every distrust edge ``(src, dst, strength)``.

    Negative trust weights become distrust of ``|w|``; a ``DISTRUSTS`` relation adds its
    edges (weight 1 without weights). Returns ``(positive EdgeSet or None, (src, dst, w))``
    with int64 / int64 / float32 tensors.
    """
    dev = graph.device
    src, dst, w = [torch.zeros(0, dtype=torch.int64, device=dev)] * 2 + [torch.zeros(0, device=dev)]
    pos = None
    if graph.has_edge_type(relation):
        es = graph.edges(relation)
        pos = es
        if es.weight is not None and bool((es.weight < 0).any()):
            neg = es.weight < 0
            s, d = es.coo()
            src, dst, w = s[neg], d[neg], -es.weight[neg]
            pos = es.select(es.weight > 0)
    if graph.has_edge_type(DISTRUSTS):
        es = graph.edges(DISTRUSTS)
        s, d = es.coo()
        ww = es.weight.abs() if es.weight is not None else torch.ones(es.num_edges, device=dev)
        src, dst, w = torch.cat([src, s]), torch.cat([dst, d]), torch.cat([w, ww])
    return pos, (src, dst, w)


def distrust_edges(graph: Graph, relation: EdgeType = TRUSTS) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Distrust edges ``(src, dst, strength)`` of ``graph`` (see :func:`split_trust`)."""
    return split_trust(graph, relation)[1]


def distrust_hook(engine: WalkEngine, src: torch.Tensor, dst: torch.Tensor, strength: torch.Tensor, user_type: str = "user") -> Any:
    """A walk hook: a walker reaching a user its start user distrusts turns negative, once.

    Parameters
    ----------
    engine : the walk's engine (for global ids).
    src, dst : LongTensor ``(m,)`` local user indices of the distrust edges ``src -> dst``.
    strength : FloatTensor ``(m,)`` positive penalty weights.

    Returns
    -------
    callable ``hook(state) -> FloatTensor (W,)`` of weight factors (``-strength`` where a
    walker turns, else 1), or ``None`` without distrust edges.
    """
    if src.numel() == 0:
        return None
    sl = engine.type_slice(user_type)
    n = sl.stop - sl.start
    key = src.to(torch.int64) * n + dst.to(torch.int64)
    key, order = torch.sort(key)
    pen = strength.to(torch.float32)[order]
    turned: list[torch.Tensor] = []

    def hook(state: WalkState) -> torch.Tensor:
        if not turned:
            turned.append(torch.zeros(state.pos.numel(), dtype=torch.bool, device=state.pos.device))
        flag = turned[0]
        pos, start = state.pos, state.start
        is_user = (pos >= sl.start) & (pos < sl.stop) & (start >= sl.start) & (start < sl.stop)
        k = (start - sl.start) * n + (pos - sl.start)
        idx = torch.searchsorted(key, k).clamp_max(key.numel() - 1)
        hit = is_user & (key[idx] == k) & state.alive & ~flag
        factor = torch.ones(pos.numel(), device=pos.device)
        factor[hit] = -pen[idx[hit]]
        flag |= hit
        return factor

    return hook


def epoch_factor(timestamp: torch.Tensor | None, epoch: float, decay: float) -> torch.Tensor | None:
    """``(1 - decay) ** epochs_old`` per edge, ``epochs_old = floor((t_max - t) / epoch)``; None without timestamps or decay."""
    if timestamp is None or decay <= 0 or timestamp.numel() == 0:
        return None
    age = (int(timestamp.max()) - timestamp).to(torch.float64)
    e = torch.floor(age / float(epoch))
    return torch.exp(e * math.log1p(-decay)).to(torch.float32)


def bridged(
    paths: torch.Tensor,
    rows: torch.Tensor,
    num_rows: int,
    num_nodes: int,
    *,
    share: float = 1.0,
    via: torch.Tensor | None = None,
    targets: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``(row, node)`` pairs whose walks pass through one bridge node.

    Node ``j`` is *bridged* for row ``r`` when a single node ``k`` (not ``j``, not the walk's
    start) lies before ``j`` on at least ``share`` of row ``r``'s walks that reach ``j``
    (each walk counted once). One sort of all ``(walk, j, k)`` triples, in chunks of walks.

    Parameters
    ----------
    paths : LongTensor ``(W, L + 1)`` global nodes, ``-1`` after a walk ended (column 0: start).
    rows : LongTensor ``(W,)`` row of each walk.
    num_rows, num_nodes : int
    share : float in (0, 1]
    via : BoolTensor ``(num_nodes,)`` nodes that may act as bridges (default all).
    targets : BoolTensor ``(num_nodes,)`` nodes judged (default all).

    Returns
    -------
    (row, node) : LongTensors of the bridged pairs.
    """
    dev = paths.device
    W = paths.shape[0]
    lens = (paths >= 0).sum(1)
    L1 = int(lens.max()) if W else 0
    empty = torch.zeros(0, dtype=torch.int64, device=dev)
    if L1 < 3:
        return empty, empty
    paths = paths[:, :L1]
    q, p = torch.triu_indices(L1, L1, offset=1, device=dev)
    keep = q >= 1
    q, p = q[keep], p[keep]
    N = num_nodes
    trip, reach = [], []
    chunk = max(1, _PAIR_CHUNK // max(q.numel(), 1))
    start = paths[:, 0]
    for s in range(0, W, chunk):
        P = paths[s : s + chunk]
        st = start[s : s + chunk, None]
        w = torch.arange(s, s + P.shape[0], device=dev)
        # every visit j (position >= 1) of a walk, once per walk: the walks reaching j
        J1 = P[:, 1:]
        ok = (J1 >= 0) & (J1 != st)
        if targets is not None:
            ok &= targets[J1.clamp_min(0)]
        reach.append(torch.unique(w[:, None].expand_as(J1)[ok] * N + J1[ok]))
        K, J = P[:, q], P[:, p]
        ok = (K >= 0) & (J >= 0) & (K != J) & (K != st) & (J != st)
        if via is not None:
            ok &= via[K.clamp_min(0)]
        if targets is not None:
            ok &= targets[J.clamp_min(0)]
        ww = w[:, None].expand_as(K)[ok]
        trip.append(torch.unique((ww * N + J[ok]) * N + K[ok]))
    reach_k = torch.cat(reach)
    trip_k = torch.cat(trip)
    if trip_k.numel() == 0:
        return empty, empty
    # reach counts per (row, j)
    rw, rj = reach_k // N, reach_k % N
    rkey = rows[rw] * N + rj
    ukey, n_reach = torch.unique(rkey, return_counts=True)
    # pair counts per (row, j, k)
    tk = trip_k % N
    tj = (trip_k // N) % N
    tw = trip_k // (N * N)
    pkey = (rows[tw] * N + tj) * N + tk
    upair, c = torch.unique(pkey, return_counts=True)
    rj_key = upair // N
    cmax = torch.zeros(ukey.numel(), dtype=torch.int64, device=dev)
    pos = torch.searchsorted(ukey, rj_key)
    cmax.scatter_reduce_(0, pos, c, reduce="amax")
    hit = cmax.to(torch.float64) >= share * n_reach.to(torch.float64) - 1e-9
    hit &= cmax > 0
    hk = ukey[hit]
    del num_rows
    return hk // N, hk % N
