"""Train / test / validation splits of a user–item interaction graph.

Two protocols are provided, both per user and both vectorised (one sort over all
interactions, no per-user Python loop):

* **random holdout** — each user's interactions are shuffled with a seeded generator and the
  first ``test_fraction * n_u`` of them, rounded half up, are held out, never all of them: a user with
  two or more interactions keeps at least one in train, and a user with a single
  interaction keeps it in train. This is the per-user ratio split used by most
  collaborative-filtering benchmarks (e.g. the 80/20 splits of He et al., *LightGCN*,
  SIGIR 2020).
* **temporal leave-last-out** — each user's latest ``n_last`` interactions (by timestamp)
  are held out, again keeping at least one in train (Kang & McAuley, *Self-Attentive
  Sequential Recommendation*, ICDM 2018, use the same leave-one-out protocol).

:func:`carve_validation` takes a validation set out of a dataset's *training* interactions
(never out of its test set) with the random-holdout rule.

Held-out graphs share the train graph's :class:`~graphrec.graph.IdMap` objects and keep the
held-out edges' weights and timestamps; the train graph keeps every other edge type (trust
edges), the node attributes and the metadata. Relevance is binary, so a held-out graph holds
each ``(user, item)`` pair once: repeats of a pair (possible only when the input graph keeps
multi-edges) are merged and counted in ``Dataset.info["merged_pairs"]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..checks import check_int, check_number, check_seed
from ..graph.edges import EdgeSet
from ..graph.store import INTERACTS, Graph
from .dataset import Dataset

__all__ = [
    "carve_validation",
    "pair_holdout_mask",
    "random_holdout",
    "random_holdout_mask",
    "split_by_mask",
    "temporal_holdout_mask",
    "temporal_leave_last_out",
]


# ---------------------------------------------------------------------------- masks
def _as_index_array(x: Any, what: str) -> np.ndarray:
    arr = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        return arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{what} must be integer indices, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if arr.min() < 0:
        raise ValueError(f"{what} must be non-negative indices, got {int(arr.min())}")
    return arr


def _check_fraction(value: float, what: str) -> float:
    return check_number(what, value, 0, 1, low_open=True, high_open=True)


def _group_ranks(users: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For interactions sorted by ``order`` (grouped by user): rank within the user, the
    sorted users, and each user's interaction count."""
    u_sorted = users[order]
    counts = np.bincount(users, minlength=int(users.max()) + 1 if users.size else 0)
    start = np.cumsum(counts) - counts
    rank = np.arange(users.size, dtype=np.int64) - start[u_sorted]
    return rank, u_sorted, counts


def random_holdout_mask(users: Any, test_fraction: float = 0.2, seed: int = 0) -> np.ndarray:
    """Per-user seeded random holdout of interactions.

    Parameters
    ----------
    users : array-like of int, shape ``(m,)``
        Dense user index of each interaction.
    test_fraction : float in (0, 1)
        Share of each user's interactions to hold out: user ``u`` with ``n_u`` interactions
        holds out ``min(floor(test_fraction * n_u + 0.5), n_u - 1)`` of them (so a user with
        one interaction holds out none, and every user keeps at least one in train); the
        product is taken as exact, so a half rounds up even where ``test_fraction * n_u``
        falls just below it in floating point (``0.29 * 50`` holds out 15).
    seed : int >= 0
        Seed of the ``numpy.random.default_rng`` that orders each user's interactions.

    Returns
    -------
    mask : ndarray of bool, shape ``(m,)``
        ``True`` for held-out interactions. Deterministic for a given ``users`` array and
        seed.

    Examples
    --------
    >>> m = random_holdout_mask([0, 0, 0, 0, 0, 1], test_fraction=0.4, seed=1)
    >>> int(m[:5].sum()), bool(m[5])
    (2, False)
    """
    u = _as_index_array(users, "users")
    f = _check_fraction(test_fraction, "test_fraction")
    seed = check_seed(seed)
    if u.size == 0:
        return np.zeros(0, dtype=bool)
    key = np.random.default_rng(seed).random(u.size)
    order = np.lexsort((key, u))
    rank, u_sorted, counts = _group_ranks(u, order)
    # round half up; the 1e-9 absorbs the binary error of f * n (0.29 * 50 = 14.499999...)
    k = np.minimum(np.floor(f * counts + 0.5 + 1e-9).astype(np.int64), counts - 1)
    held = rank < k[u_sorted]
    mask = np.empty(u.size, dtype=bool)
    mask[order] = held
    return mask


def pair_holdout_mask(edges: EdgeSet, test_fraction: float = 0.2, seed: int = 0) -> torch.Tensor:
    """:func:`random_holdout_mask` over an edge set, drawn once per distinct ``(src, dst)`` pair.

    Copies of a repeated pair (a multi-edge) are held out together, as one interaction: a
    held-out item is never also a training item (ranking hides those). Without repeats this
    is :func:`random_holdout_mask` of the sources. Returns a bool tensor ``(num_edges,)`` in
    CSR order on the edge set's device.
    """
    src, dst = edges.coo()
    key = src * edges.num_dst + dst  # sorted (CSR order): copies of a pair are adjacent
    first = torch.ones(key.numel(), dtype=torch.bool, device=key.device)
    first[1:] = key[1:] != key[:-1]
    pair = torch.cumsum(first.to(torch.int64), 0) - 1  # each edge's distinct pair
    return torch.from_numpy(random_holdout_mask(src[first].cpu().numpy(), test_fraction, seed)).to(key.device)[pair]


def temporal_holdout_mask(users: Any, timestamps: Any, n_last: int = 1) -> np.ndarray:
    """Per-user leave-last-out by timestamp.

    Parameters
    ----------
    users : array-like of int, shape ``(m,)``
        Dense user index of each interaction.
    timestamps : array-like of int, shape ``(m,)``
        Time of each interaction.
    n_last : int >= 1
        How many of each user's latest interactions to hold out; a user with ``n_u``
        interactions holds out ``min(n_last, n_u - 1)``. Equal timestamps are ordered by
        position in the input (a later position counts as later).

    Returns
    -------
    mask : ndarray of bool, shape ``(m,)``, ``True`` for held-out interactions.

    Examples
    --------
    >>> temporal_holdout_mask([0, 0, 0, 1], [5, 9, 7, 3]).tolist()
    [False, True, False, False]
    """
    u = _as_index_array(users, "users")
    ts = timestamps.detach().cpu().numpy() if isinstance(timestamps, torch.Tensor) else np.asarray(timestamps)
    if ts.shape != u.shape:
        raise ValueError(f"timestamps has shape {ts.shape}, users has shape {u.shape}")
    if ts.size and ts.dtype.kind not in "iu":
        raise TypeError(f"timestamps must be integers, got dtype {ts.dtype}")
    n_last = check_int("n_last", n_last, 1)
    if u.size == 0:
        return np.zeros(0, dtype=bool)
    pos = np.arange(u.size, dtype=np.int64)
    order = np.lexsort((pos, ts.astype(np.int64), u))  # by user, then time, then position
    rank, u_sorted, counts = _group_ranks(u, order)
    from_end = counts[u_sorted] - 1 - rank
    k = np.minimum(n_last, counts - 1)
    held = from_end < k[u_sorted]
    mask = np.empty(u.size, dtype=bool)
    mask[order] = held
    return mask


# --------------------------------------------------------------------------- graphs
def pairs_graph(like: Graph, users: Any, items: Any, weight: Any | None = None,
                timestamp: Any | None = None) -> Graph:
    """A graph with ``like``'s node sets (same IdMap objects) and only the given interactions.

    ``users``/``items`` are dense indices; weights and timestamps are optional, shape
    ``(m,)``. Used for held-out splits that keep weights/timestamps. Held-out relevance is
    binary, so a repeated ``(user, item)`` pair becomes one edge (weights summed, latest
    timestamp kept, as in :meth:`Graph.add_edges`).
    """
    g = Graph(like.device)
    for nt in like.node_types:
        g.add_node_type(nt, like.id_map(nt))
    g.add_edges(INTERACTS, users, items, weight, timestamp, duplicates="merge")
    return g


def _record_merged(info: dict[str, Any], part: str, n_given: int, graph: Graph) -> None:
    """Note in ``info["merged_pairs"][part]`` how many of the ``n_given`` interactions put
    into ``graph`` were repeats merged into an earlier pair (nothing when none were)."""
    n = int(n_given) - graph.num_edges(INTERACTS)
    if n:
        info["merged_pairs"] = {**info.get("merged_pairs", {}), part: n}


def _without_interactions(graph: Graph, keep: torch.Tensor) -> Graph:
    """``graph`` with only the interactions where ``keep`` (CSR order) is true; every other
    edge type, node attribute and metadata entry is carried over."""
    g = Graph(graph.device)
    for nt in graph.node_types:
        g.add_node_type(nt, graph.id_map(nt))
        g.node_attrs[nt] = dict(graph.node_attrs.get(nt, {}))
    g.meta = dict(graph.meta)
    for et in graph.edge_types:
        es = graph.edges(et)
        src, dst = es.coo()
        w, ts = es.weight, es.timestamp
        if et == INTERACTS:
            src, dst = src[keep], dst[keep]
            w = None if w is None else w[keep]
            ts = None if ts is None else ts[keep]
        g.add_edges(et, src, dst, w, ts, duplicates="keep")
    return g


def _interactions(graph: Graph) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    if not isinstance(graph, Graph):
        raise TypeError(f"expected a Graph, got {type(graph).__name__}")
    if not graph.has_edge_type(INTERACTS):
        raise ValueError(f"graph has no {INTERACTS} edges to split; it has {graph.edge_types}")
    es = graph.edges(INTERACTS)
    src, dst = es.coo()
    return src, dst, es.weight, es.timestamp


def split_by_mask(graph: Graph, test_mask: Any, *, name: str = "dataset",
                  info: dict[str, Any] | None = None) -> Dataset:
    """Split ``graph``'s interactions into a :class:`Dataset` by a boolean mask.

    Parameters
    ----------
    graph : Graph
        Holds every interaction (``INTERACTS``), optionally trust edges and node attributes.
    test_mask : bool array-like, shape ``(num_edges(INTERACTS),)``
        ``True`` for held-out interactions, in the edge set's CSR order (as returned by
        ``graph.edges(INTERACTS).coo()``).
    name : str
    info : dict, optional
        Stored as ``Dataset.info``.

    Returns
    -------
    Dataset
        ``train``: the graph without the held-out interactions (other edge types, node
        attributes and metadata kept); ``test``: the held-out interactions with their
        weights/timestamps, over the same id maps, each pair once (repeats merged and counted
        in ``info["merged_pairs"]["test"]``).
    """
    src, dst, w, ts = _interactions(graph)
    mask = torch.as_tensor(np.asarray(test_mask.cpu() if isinstance(test_mask, torch.Tensor) else test_mask))
    if mask.dtype != torch.bool or mask.shape != src.shape:
        raise ValueError(f"test_mask must be a bool array of shape {tuple(src.shape)}, got {mask.dtype} {tuple(mask.shape)}")
    mask = mask.to(src.device)
    train = _without_interactions(graph, ~mask)
    test = pairs_graph(train, src[mask], dst[mask], None if w is None else w[mask], None if ts is None else ts[mask])
    info = dict(info or {})
    _record_merged(info, "test", int(mask.sum()), test)
    return Dataset(name, train, test, None, info)


def _name_of(graph: Graph, name: str | None) -> str:
    return name or str(graph.meta.get("dataset", "dataset"))


def random_holdout(graph: Graph, test_fraction: float = 0.2, seed: int = 0, *,
                   name: str | None = None) -> Dataset:
    """Per-user seeded random holdout of ``graph``'s interactions (see :func:`pair_holdout_mask`:
    copies of a repeated pair are held out together).

    Parameters
    ----------
    graph : Graph
        Every interaction; trust edges and node attributes go to the train graph.
    test_fraction : float in (0, 1)
    seed : int
    name : str, optional
        Dataset name (default ``graph.meta["dataset"]`` or ``"dataset"``).

    Returns
    -------
    Dataset with ``info`` recording the split, fraction and seed.

    Examples
    --------
    The split step from a Graph (here from a DataFrame) to a Dataset:

    >>> import pandas as pd
    >>> from graphrec.graph import Graph
    >>> df = pd.DataFrame({"user": ["a"] * 5 + ["b"] * 5, "item": list("vwxyz") * 2})
    >>> data = random_holdout(Graph.from_frame(df), test_fraction=0.2, seed=0)
    >>> data.summary()
    {'dataset': 'dataset', 'users': 2, 'items': 5, 'train': 8, 'test': 2}
    """
    test_fraction, seed = _check_fraction(test_fraction, "test_fraction"), check_seed(seed)
    _interactions(graph)  # checks there are interactions to split
    mask = pair_holdout_mask(graph.edges(INTERACTS), test_fraction, seed)
    info = {"split": "random", "test_fraction": test_fraction, "seed": seed}
    return split_by_mask(graph, mask, name=_name_of(graph, name), info=info)


def temporal_leave_last_out(graph: Graph, n_last: int = 1, *, name: str | None = None) -> Dataset:
    """Hold out each user's latest ``n_last`` interactions (see :func:`temporal_holdout_mask`).

    The mask sees the interactions in CSR order (each user's sorted by item index), so among
    interactions with equal timestamps the one with the higher item index counts as later.

    Raises
    ------
    ValueError
        If the interactions carry no timestamps.

    Examples
    --------
    >>> import pandas as pd
    >>> from graphrec.graph import Graph
    >>> df = pd.DataFrame({"user": ["a", "a", "a", "b"], "item": ["x", "y", "z", "x"],
    ...                    "ts": pd.to_datetime(["2024-01-03", "2024-01-01", "2024-01-02", "2024-01-01"])})
    >>> data = temporal_leave_last_out(Graph.from_frame(df, time_col="ts"))
    >>> data.test.id_map("item").to_external(data.test.edges().coo()[1].numpy()).tolist()  # a's latest
    ['x']
    """
    n_last = check_int("n_last", n_last, 1)
    src, _, _, ts = _interactions(graph)
    if ts is None:
        raise ValueError("temporal split needs interaction timestamps; this graph's interactions have none")
    mask = temporal_holdout_mask(src.cpu().numpy(), ts.cpu().numpy(), n_last)
    info = {"split": "temporal", "n_last": n_last}
    return split_by_mask(graph, mask, name=_name_of(graph, name), info=info)


def carve_validation(dataset: Dataset, fraction: float = 0.1, seed: int = 0) -> Dataset:
    """Move a per-user random share of ``dataset``'s *training* interactions to ``valid``.

    The test split is untouched (the same graph object); users keep at least one training
    interaction, and copies of a repeated pair move together (see :func:`pair_holdout_mask`).

    Parameters
    ----------
    dataset : Dataset
        Without a validation split yet.
    fraction : float in (0, 1)
        Share of each user's training interactions to move.
    seed : int

    Returns
    -------
    Dataset
        New ``train`` (without the validation interactions) and ``valid``; ``test`` and the
        name kept; ``info`` gains ``valid_fraction`` and ``valid_seed``.
    """
    if not isinstance(dataset, Dataset):
        raise TypeError(f"carve_validation needs a Dataset, got {type(dataset).__name__}")
    if dataset.valid is not None:
        raise ValueError(f"dataset {dataset.name!r} already has a validation split")
    fraction, seed = _check_fraction(fraction, "fraction"), check_seed(seed)
    src, dst, w, ts = _interactions(dataset.train)
    mask = pair_holdout_mask(dataset.train.edges(INTERACTS), fraction, seed)
    train = _without_interactions(dataset.train, ~mask)
    valid = pairs_graph(train, src[mask], dst[mask], None if w is None else w[mask], None if ts is None else ts[mask])
    info = dict(dataset.info, valid_fraction=fraction, valid_seed=seed)
    _record_merged(info, "valid", int(mask.sum()), valid)
    return Dataset(dataset.name, train, dataset.test, valid, info)
