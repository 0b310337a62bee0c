"""MeritRank reputation of every account seen from trusted seed users, and what it weighs.

:func:`reputation` runs MeritRank's walks over the trust graph from the seed users (the
walk engine; every walker at once on ``graph.device``): a walk ends with probability
``alpha`` before each step (transitivity decay), an account's reputation is its visits per
walk, an account that every walk reaching it enters through one bridge account keeps
``1 - beta`` of it (connectivity decay), and a seed's distrust turns the rest of a walk
negative (:mod:`graphrec.social.decays`). A Sybil region joined to the honest region by
``k`` attack edges receives only the walks that cross them, so its *total* reputation is
bounded by the attack edges, however many accounts it creates.

:func:`reputation_weights` maps reputation to a per-account weight in ``[0, 1]``: the
reputation per trust edge, relative to the reputation-weighted median of that figure (a
reference set by the honest region, since Sybils hold little of the mass), capped at 1.
:func:`reputation_filter` applies the weights to the interactions before any model trains:
interactions of accounts below ``threshold`` are dropped, or every interaction is weighted.

References
----------
Nasrulin, Ishmaev, Pouwelse. MeritRank: Sybil tolerant reputation for merit-based
tokenomics. BRAINS 2022 (arXiv:2207.09950).
Yu, Kaminsky, Gibbons, Flaxman. SybilGuard. SIGCOMM 2006 (attack edges bound Sybil gains).
"""

from __future__ import annotations

from typing import Any

import torch

from ..checks import check_choice, check_int, check_number, check_seed
from ..graph.edges import EdgeSet, EdgeType
from ..graph.store import INTERACTS, TRUSTS, USER, Graph, index_tensor
from ..walks.engine import Move, WalkEngine
from .decays import bridged, distrust_hook, split_trust
from .view import with_edges

__all__ = ["default_seeds", "reputation", "reputation_filter", "reputation_weights"]


def default_seeds(graph: Graph, count: int = 100, relation: EdgeType = TRUSTS) -> torch.Tensor:
    """Trusted seed users: ``node_attrs['user']['trusted']`` when the graph marks them, else
    the ``count`` lowest user indices with trust edges (indices follow registration order in
    graphrec's loaders and the attack harness, so these are the oldest accounts).

    Returns LongTensor ``(s,)``; raises ``ValueError`` when no user qualifies.
    """
    attrs = graph.node_attrs.get(USER, {})
    if "trusted" in attrs:
        seeds = torch.as_tensor(attrs["trusted"], device=graph.device).nonzero().reshape(-1)
    else:
        count = check_int("seeds", count, 1)
        if not graph.has_edge_type(relation):
            raise ValueError(f"reputation needs trust edges {relation} to pick seed users; the graph has {graph.edge_types}")
        deg = graph.degree(relation, side="src")
        seeds = (deg > 0).nonzero().reshape(-1)[:count]
    if seeds.numel() == 0:
        raise ValueError("no trusted seed user: mark node_attrs['user']['trusted'] or add trust edges")
    return seeds


def reputation(
    graph: Graph,
    seeds: Any = None,
    *,
    alpha: float = 0.15,
    beta: float = 0.5,
    bridge_share: float = 1.0,
    walks: int = 20_000,
    length: int = 30,
    relation: EdgeType = TRUSTS,
    seed: int = 0,
) -> torch.Tensor:
    """MeritRank reputation of every user seen from ``seeds``.

    Parameters
    ----------
    graph : Graph with ``relation`` (``user -trusts-> user``) edges; positive weights are
        walked in proportion, negative weights and a ``distrusts`` relation are distrust.
    seeds : user indices (array-like), a count (int) or None (see :func:`default_seeds`).
    alpha : float in (0, 1)
        Transitivity decay: a walk ends with this probability before each step (0.15,
        meritrank-python's continuation 0.85).
    beta : float in [0, 1]
        Connectivity decay: an account reached only through one bridge account keeps
        ``1 - beta`` (0 switches it off).
    bridge_share : float in (0, 1]
        Share of an account's walks one node must carry to count as its bridge (1: all).
    walks : int
        Walks in all, split evenly over the seeds.
    length : int
        Most steps per walk (``(1 - alpha)^length`` of the walks are cut: 0.8% at the defaults).
    seed : int

    Returns
    -------
    FloatTensor ``(n_users,)``: visits per walk (the seeds' walks do not count their start);
    negative where distrust outweighs trust.
    """
    alpha = check_number("alpha", alpha, 0, 1, low_open=True, high_open=True)
    beta = check_number("beta", beta, 0, 1)
    bridge_share = check_number("bridge_share", bridge_share, 0, 1, low_open=True)
    walks, length, seed = check_int("walks", walks, 1), check_int("length", length, 1), check_seed(seed)
    relation = graph.resolve_etype(relation)
    n = graph.num_nodes(USER)
    if seeds is None or isinstance(seeds, int):
        seeds = default_seeds(graph, 100 if seeds is None else seeds, relation)
    seeds = index_tensor(seeds, "seeds", n, graph.device).reshape(-1)
    if seeds.numel() == 0:
        raise ValueError("seeds is empty")
    pos, (ds, dd, dw) = split_trust(graph, relation)
    if pos is None or pos.num_edges == 0:
        raise ValueError(f"reputation needs positive trust edges {relation}; the graph has none")
    view = with_edges(graph, {relation: pos})
    eng = WalkEngine(view, [Move(relation)], weighted=pos.weight is not None)
    per = max(1, -(-walks // seeds.numel()))
    starts = eng.global_ids(USER, seeds.repeat_interleave(per))
    hook = distrust_hook(eng, ds, dd, dw)
    res = eng.walk(
        starts, length=length, restart=alpha, restart_mode="stop", dangling="stop", hooks=[hook] if hook else [],
        record=["visits", "paths"] if beta > 0 else "visits", record_start=False,
        rows=torch.zeros(starts.numel(), dtype=torch.int64, device=graph.device), num_rows=1, seed=seed,
    )
    v = res.visits
    rep = torch.zeros(n, device=graph.device)
    rep.index_add_(0, v.col_indices(), v.values())
    rep /= starts.numel()
    if beta > 0:
        _, nodes = bridged(res.paths, torch.zeros(starts.numel(), dtype=torch.int64, device=graph.device), 1, eng.num_nodes, share=bridge_share)
        rep[nodes] *= 1.0 - beta
    return rep


def reputation_weights(
    rep: torch.Tensor, graph: Graph, *, ref: float = 0.1, per_edge: bool = False, seeds: Any = None, relation: EdgeType = TRUSTS
) -> torch.Tensor:
    """Per-user weights in ``[0, 1]`` from reputation ``rep`` ``(n_users,)``.

    ``w(u) = min(1, r(u) / (ref * m))`` with ``r = rep`` (or ``rep / d``, ``d(u)`` the user's
    trust out-degree, with ``per_edge=True``) and ``m`` the reputation-weighted median of ``r``
    (a figure of the honest region, since a Sybil region holds little reputation mass
    whatever its size). The weights of a Sybil region then sum to at most its reputation over
    ``ref * m``: bounded by its attack edges, not its size (``per_edge`` loosens that bound
    for a region of one-edge accounts, a star's leaves). Seeds (when given) weigh 1,
    negative reputation 0. Returns FloatTensor ``(n_users,)``.
    """
    ref = check_number("ref", ref, 0, low_open=True)
    r = rep.clamp_min(0)
    if per_edge and graph.has_edge_type(relation):
        r = r / graph.degree(relation, side="src").to(torch.float32).clamp_min(1.0)
    pos = rep > 0
    if not bool(pos.any()):
        w = torch.zeros_like(rep)
    else:
        vals, mass = r[pos], rep[pos]
        order = torch.argsort(vals)
        cum = torch.cumsum(mass[order].double(), 0)
        mid = int(torch.searchsorted(cum, cum[-1] / 2).clamp_max(cum.numel() - 1))
        m = float(vals[order][mid])
        w = (r / (ref * m)).clamp(0, 1)
    if seeds is not None:
        w[index_tensor(seeds, "seeds", rep.numel(), rep.device)] = 1.0
    return w


def reputation_filter(
    graph: Graph, weights: torch.Tensor, *, mode: str = "filter", threshold: float = 0.5, etype: EdgeType = INTERACTS
) -> Graph:
    """``graph`` with its interactions weighed by their user's reputation weight (a view).

    Parameters
    ----------
    weights : FloatTensor ``(n_users,)`` in ``[0, 1]`` (:func:`reputation_weights`).
    mode : 'filter' drops the interactions of users with ``weight < threshold``; 'weight'
        multiplies every interaction weight (1 without weights) by its user's weight and drops
        the zero ones.
    threshold : float in [0, 1]

    Returns
    -------
    Graph sharing everything but the ``etype`` edge set with ``graph``.
    """
    mode = check_choice("mode", mode, ("filter", "weight"))
    threshold = check_number("threshold", threshold, 0, 1)
    etype = graph.resolve_etype(etype)
    es = graph.edges(etype)
    if weights.numel() != es.num_src:
        raise ValueError(f"weights has {weights.numel()} entries for {es.num_src} users")
    wu = weights.to(graph.device)[es.row()]
    if mode == "filter":
        return with_edges(graph, {etype: es.select(wu >= threshold)})
    base = es.weight if es.weight is not None else torch.ones(es.num_edges, device=graph.device)
    out = EdgeSet(etype, es.num_src, es.num_dst, es.indptr, es.indices, base * wu, es.timestamp)
    return with_edges(graph, {etype: out.select(out.weight > 0)})
