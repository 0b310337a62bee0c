"""Random-walk statistics: attribute-free node features that exist for any node of any graph.

Every node gets ``R`` fixed-length walks from the one walk engine (:mod:`graphrec.walks`,
all walkers stepping at once on ``graph.device``). From them:

- **Anonymous walks** (Micali & Zhu 2016; Ivanov & Burnaev 2018): a walk ``(w_0, ..., w_L)``
  rewritten as the first-occurrence index of each node, e.g. ``a b a c -> 0 1 0 2``. It
  forgets *which* nodes were visited and keeps *how* the walk revisited them, so it describes
  the structure around the start node (its role) and transfers between graphs. The
  distribution over the anonymous types of the first ``aw_length`` steps is a feature vector
  over a vocabulary that depends only on ``aw_length`` (every restricted growth string of
  ``aw_length + 1`` symbols: Bell(``aw_length + 1``) types; 203 for ``aw_length = 5``).
- **Degree and return statistics along the walks**: per step ``t = 1..L`` the mean, standard
  deviation and maximum of ``log(1 + degree)`` of the visited node, the probability that the
  walk is back at its start, and the share of distinct nodes seen so far; plus the start
  node's own ``log(1 + degree)`` and how often the walks of *all* nodes visit it
  (:func:`visit_frequency`, a short-walk PageRank).

These are IRWE's inputs (Qin & Yeung, *IRWE: Inductive Random Walk for Joint Inference of
Identity and Position Network Embedding*, TMLR 2024, arXiv:2401.00651); see
:mod:`graphrec.embed.irwe`.

A graph is seen as the walk engine's node space: a homogeneous relation (``src`` type ==
``dst`` type, stored in both directions for an undirected graph, as the loaders do) walks its
edges forwards; a bipartite relation walks ``user -> item -> user`` (users first, then items).
A node with no edge keeps restarting at itself: its walks stay put, never NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch

from ..checks import check_int, check_seed
from ..graph.edges import EdgeType
from ..graph.store import Graph, index_tensor
from ..walks import Move, WalkEngine, bipartite_engine

__all__ = [
    "WalkSample",
    "anonymize",
    "anonymous_types",
    "anonymous_vocabulary",
    "engine_degree",
    "node_engine",
    "sample_walks",
    "statistic_names",
    "visit_frequency",
    "walk_sample",
    "walk_statistics",
]


def node_engine(graph: Graph, etype: EdgeType | str | None = None) -> WalkEngine:
    """The walk engine whose node space IRWE embeds.

    Parameters
    ----------
    graph : Graph
    etype : relation name or triple; ``None``: the graph's only edge type (or its interactions).

    Returns
    -------
    WalkEngine
        Homogeneous relation: one forward move (the store keeps both directions of an
        undirected edge). Bipartite relation: :func:`graphrec.walks.bipartite_engine`.
    """
    et = graph.resolve_etype(etype)
    if et[0] == et[2]:
        return WalkEngine(graph, [Move(et)])
    return bipartite_engine(graph, et)


def engine_degree(engine: WalkEngine) -> torch.Tensor:
    """Out-degree ``(n,)`` int64 of every global node under the engine's chain."""
    crow = engine.transition_matrix().crow_indices()
    return (crow[1:] - crow[:-1]).to(torch.int64)


def sample_walks(engine: WalkEngine, nodes: torch.Tensor, walks: int, length: int, seed: int) -> torch.Tensor:
    """``walks`` walks of ``length`` steps from each of ``nodes``, all at once.

    Parameters
    ----------
    engine : WalkEngine
    nodes : LongTensor ``(B,)`` global node ids.
    walks, length : int, walks per node (>= 1) and steps per walk (>= 1).
    seed : int, the walk generator's seed (same seed, device and nodes: same walks).

    Returns
    -------
    LongTensor ``(B, walks, length + 1)`` of global ids; column 0 is the start node. A walker
    at a node without out-edges returns to its start (``dangling='restart'``).
    """
    walks, length = check_int("walks", walks, 1), check_int("length", length, 1)
    seed = check_seed(seed)
    nodes = index_tensor(nodes, "nodes", engine.num_nodes, engine.device).reshape(-1)
    starts = nodes.repeat_interleave(walks)
    res = engine.walk(starts, length=length, record="paths", dangling="restart", seed=seed)
    return res.paths.reshape(nodes.numel(), walks, length + 1)


def anonymize(paths: torch.Tensor) -> torch.Tensor:
    """First-occurrence rewriting of walks: ``a b a c -> 0 1 0 2``.

    Parameters
    ----------
    paths : LongTensor ``(..., L + 1)`` node ids.

    Returns
    -------
    LongTensor of the same shape: entry ``t`` is the number of distinct nodes seen before the
    first visit of ``paths[..., t]``. Vectorised over all walks (an ``(L+1) x (L+1)``
    comparison per walk).
    """
    eq = paths.unsqueeze(-1) == paths.unsqueeze(-2)  # (..., t, s)
    first = eq.to(torch.uint8).argmax(dim=-1)  # first s with paths[s] == paths[t]
    steps = torch.arange(paths.shape[-1], device=paths.device)
    is_new = first == steps
    rank = torch.cumsum(is_new.to(torch.int64), dim=-1) - 1
    return torch.gather(rank, -1, first)


@lru_cache(maxsize=8)
def _rgs_codes(n: int) -> tuple[int, ...]:
    """Base-``n`` codes of every restricted growth string of ``n`` symbols, sorted."""
    out = []

    def rec(prefix: list[int], top: int) -> None:
        if len(prefix) == n:
            code = 0
            for x in prefix:
                code = code * n + x
            out.append(code)
            return
        for x in range(top + 2):
            rec(prefix + [x], max(top, x))

    rec([0], 0)
    return tuple(sorted(out))


def anonymous_vocabulary(aw_length: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """Sorted int64 codes of every anonymous walk of ``aw_length`` steps (Bell(``aw_length+1``) of them).

    A walk's code is its anonymous string read as a base-``aw_length + 1`` number; the
    vocabulary depends on ``aw_length`` only, never on the graph, so features transfer.
    """
    aw_length = check_int("aw_length", aw_length, 1, 8)
    return torch.tensor(_rgs_codes(aw_length + 1), dtype=torch.int64, device=device)


def anonymous_types(anon: torch.Tensor, aw_length: int) -> torch.Tensor:
    """Index in :func:`anonymous_vocabulary` of the first ``aw_length`` steps of each walk.

    ``anon`` : LongTensor ``(..., L + 1)`` from :func:`anonymize` with ``L >= aw_length``.
    Returns LongTensor ``(...)``.
    """
    n = aw_length + 1
    if anon.shape[-1] < n:
        raise ValueError(f"aw_length={aw_length} needs walks of at least {aw_length} steps, got {anon.shape[-1] - 1}")
    powers = n ** torch.arange(n - 1, -1, -1, device=anon.device, dtype=torch.int64)
    codes = (anon[..., :n] * powers).sum(-1)
    vocab = anonymous_vocabulary(aw_length, anon.device)
    return torch.searchsorted(vocab, codes)


@dataclass
class WalkSample:
    """Walks of a batch of nodes and their per-step encodings.

    Attributes
    ----------
    nodes : LongTensor ``(B,)`` global ids of the start nodes.
    paths : LongTensor ``(B, R, L + 1)`` global ids visited.
    anon : LongTensor ``(B, R, L + 1)`` anonymous indices.
    log_degree : FloatTensor ``(B, R, L + 1)`` ``log(1 + degree)`` of each visited node.
    """

    nodes: torch.Tensor
    paths: torch.Tensor
    anon: torch.Tensor
    log_degree: torch.Tensor


def walk_sample(engine: WalkEngine, nodes: torch.Tensor, walks: int, length: int, seed: int,
                degree: torch.Tensor | None = None) -> WalkSample:
    """Walks from ``nodes`` with their anonymous indices and visited log-degrees."""
    paths = sample_walks(engine, nodes, walks, length, seed)
    deg = engine_degree(engine) if degree is None else degree
    logd = torch.log1p(deg.to(torch.float32))[paths]
    return WalkSample(paths[:, 0, 0] if paths.numel() else paths.new_zeros(0), paths, anonymize(paths), logd)


def visit_frequency(engine: WalkEngine, walks: int, length: int, seed: int) -> torch.Tensor:
    """``log(1 + f_v)`` ``(n,)`` float32, ``f_v`` the visits to ``v`` by ``walks`` walks of ``length``
    steps from every node (start excluded), divided by the mean over nodes (a PageRank proxy)."""
    n = engine.num_nodes
    if n == 0:
        return torch.zeros(0, device=engine.device)
    paths = sample_walks(engine, torch.arange(n, device=engine.device), walks, length, seed)
    counts = torch.bincount(paths[:, :, 1:].reshape(-1), minlength=n).to(torch.float32)
    return torch.log1p(counts / (walks * length))


def statistic_names(length: int, aw_length: int) -> list[str]:
    """Names of the columns of :func:`walk_statistics`."""
    n_aw = len(_rgs_codes(aw_length + 1))
    names = ["log_degree", "log_visited"]
    for what in ("deg_mean", "deg_std", "deg_max", "return", "distinct"):
        names += [f"{what}@{t}" for t in range(1, length + 1)]
    return names + [f"aw{k}" for k in range(n_aw)]


def walk_statistics(sample: WalkSample, aw_length: int, visited: torch.Tensor | None = None) -> torch.Tensor:
    """Per-node walk statistics ``(B, F)`` float32 (columns: :func:`statistic_names`).

    Parameters
    ----------
    sample : WalkSample of ``B`` nodes, ``R`` walks of ``L >= aw_length`` steps each.
    aw_length : steps of the anonymous-walk prefix whose type distribution is counted.
    visited : FloatTensor ``(n,)`` over the engine's nodes, optional
        :func:`visit_frequency`; zeros when not given.

    Returns
    -------
    FloatTensor ``(B, 2 + 5 L + Bell(aw_length + 1))``: own ``log(1 + degree)``, its visit
    frequency; per step the mean, std and max over walks of the visited ``log(1 + degree)``,
    the share of walks back at the start, the mean share of distinct nodes among the steps so
    far; the anonymous-walk type distribution (sums to 1). Finite for any graph (isolated
    nodes and self-loops included).
    """
    anon, logd = sample.anon, sample.log_degree
    B, R, T = anon.shape
    vocab_n = len(_rgs_codes(aw_length + 1))
    own = logd[:, 0, 0:1]
    vis = torch.zeros_like(own) if visited is None else visited[sample.paths[:, 0, 0]].unsqueeze(1)
    deg_mean = logd[:, :, 1:].mean(1)
    deg_std = logd[:, :, 1:].std(1, unbiased=False)
    deg_max = logd[:, :, 1:].amax(1)
    ret = (anon[:, :, 1:] == 0).to(torch.float32).mean(1)
    distinct = (anon.cummax(-1).values[:, :, 1:] + 1).to(torch.float32)
    distinct = (distinct / torch.arange(2, T + 1, device=anon.device, dtype=torch.float32)).mean(1)
    types = anonymous_types(anon, aw_length)  # (B, R)
    rows = torch.arange(B, device=anon.device).repeat_interleave(R)
    aw = torch.zeros(B, vocab_n, device=anon.device)
    aw.index_put_((rows, types.reshape(-1)), torch.ones(B * R, device=anon.device), accumulate=True)
    aw /= R
    return torch.cat([own, vis, deg_mean, deg_std, deg_max, ret, distinct, aw], dim=1)
