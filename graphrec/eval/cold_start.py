"""The cold-start protocol: users unseen at fit time, embedded from their first interactions.

1. :func:`cold_start_split` holds a seeded ``fraction`` of the users out *entirely*: the
   training graph has neither their interactions nor their trust edges, nor the users
   themselves as nodes (items all stay). Of each held-out user's interactions (train, valid
   and test of the source dataset together) the first ``keep_first`` — by timestamp when the
   interactions have timestamps, else in a seeded random order — are *revealed* after the
   fit; the rest are the user's test items. Only users with more than ``keep_first``
   interactions are drawn.
2. :func:`evaluate_cold_start` fits the model on the warm graph, adds the revealed edges to
   the store (``graph.add_edges``: the held-out users become new nodes), lets the model
   answer for the grown graph — ``model.update()`` for a model that ``supports_update``
   (its inductive cold-start rule), else a refit on the grown graph — and ranks the
   held-out users' items with :func:`graphrec.evaluate` (full ranking, the revealed items
   masked as training items).

The protocol is the usual strict user cold start with a few-shot reveal (e.g. Lee et al.,
"MeLU", KDD 2019; the inductive setting of IRWE and FastRP's re-embedding).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..checks import check_bool, check_int, check_number, check_seed
from ..data.dataset import Dataset, held_out_graph
from ..graph.edges import EdgeType
from ..graph.idmap import IdMap
from ..graph.store import INTERACTS, ITEM, USER, Graph
from ..models.base import Recommender
from .protocol import EvalReport, evaluate

__all__ = ["ColdStartReport", "ColdStartSplit", "cold_start_split", "evaluate_cold_start"]

_Edges = tuple[np.ndarray, np.ndarray, "np.ndarray | None", "np.ndarray | None"]


@dataclass
class ColdStartSplit:
    """Warm training graph plus what arrives later about the held-out users.

    Attributes
    ----------
    name : str
    train : Graph
        Warm users only (their training interactions and the relations among them), every item.
    users : ndarray
        External ids of the held-out users.
    reveal : dict edge type -> ``(src ids, dst ids, weight or None, timestamp or None)``
        Edges added after the fit: each held-out user's first ``keep_first`` interactions, and
        every edge of another relation that touches a held-out user (trust edges).
    held : ``(user ids, item ids)``
        The held-out users' other interactions: what :func:`evaluate_cold_start` ranks.
    info : dict
        ``fraction``, ``keep_first``, ``seed``, ``order`` ('timestamp' or 'random') and counts.
    """

    name: str
    train: Graph
    users: np.ndarray
    reveal: dict[EdgeType, _Edges]
    held: tuple[np.ndarray, np.ndarray]
    info: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"ColdStartSplit({self.name}: {len(self.users)} held-out users, "
                f"{len(self.reveal.get(INTERACTS, ((),))[0])} revealed and {len(self.held[0])} held-out interactions)")


@dataclass(repr=False)
class ColdStartReport(EvalReport):
    """:class:`~graphrec.eval.EvalReport` over the held-out users, plus ``info``: the split's
    info, ``answered_by`` ('update' or 'refit'), ``fit_seconds`` and ``update_seconds``."""

    info: dict[str, Any] = field(default_factory=dict)


def _parts(data: Dataset | Graph) -> tuple[Graph, list[Graph]]:
    if isinstance(data, Dataset):
        return data.train, [g for g in (data.valid, data.test) if g is not None]
    if isinstance(data, Graph):
        return data, []
    raise TypeError(f"cold_start_split expects a Dataset or a Graph, got {type(data).__name__}")


def _cpu(t: torch.Tensor | None, idx: np.ndarray | None = None) -> np.ndarray | None:
    if t is None:
        return None
    a = t.cpu().numpy()
    return a if idx is None else a[idx]


def cold_start_split(
    data: Dataset | Graph, fraction: float = 0.1, seed: int = 0, *, keep_first: int = 5, name: str | None = None
) -> ColdStartSplit:
    """Hold out a ``fraction`` of the users entirely (see the module docstring).

    Parameters
    ----------
    data : Dataset (its train, valid and test interactions are pooled) or Graph.
    fraction : float in (0, 1)
        Share of the users with interactions to hold out (rounded, at least 1).
    seed : int
        Draws the users and, without timestamps, the order of their interactions.
    keep_first : int >= 1
        Interactions revealed per held-out user.
    name : str, optional

    Returns
    -------
    ColdStartSplit

    Raises
    ------
    ValueError
        Bad parameters, or no user with more than ``keep_first`` interactions.
    """
    fraction = check_number("fraction", fraction, 0, 1, low_open=True, high_open=True)
    seed, keep_first = check_seed(seed), check_int("keep_first", keep_first, 1)
    base, extra = _parts(data)
    if not base.has_edge_type(INTERACTS):
        raise ValueError(f"cold_start_split needs {INTERACTS} edges; the graph has {base.edge_types}")
    es = base.edges(INTERACTS)
    u_parts, i_parts, w_parts, t_parts = [es.coo()[0].cpu().numpy()], [es.coo()[1].cpu().numpy()], [es.weight], [es.timestamp]
    for g in extra:
        if g.has_edge_type(INTERACTS):
            e = g.edges(INTERACTS)
            s, d = e.coo()
            u_parts.append(s.cpu().numpy())
            i_parts.append(d.cpu().numpy())
            w_parts.append(e.weight)
            t_parts.append(e.timestamp)
    users_all, items_all = np.concatenate(u_parts), np.concatenate(i_parts)
    has_ts = all(t is not None for t in t_parts)
    ts_all = np.concatenate([t.cpu().numpy() for t in t_parts]) if has_ts else None
    counts = np.bincount(users_all, minlength=base.num_nodes(USER))
    active = int((counts > 0).sum())
    eligible = np.flatnonzero(counts > keep_first)
    if eligible.size == 0:
        raise ValueError(f"no user has more than keep_first={keep_first} interactions to hold out")
    rng = np.random.default_rng(seed)
    n_cold = min(eligible.size, max(1, round(fraction * active)))
    cold = np.sort(rng.choice(eligible, n_cold, replace=False))
    is_cold = np.zeros(base.num_nodes(USER), dtype=bool)
    is_cold[cold] = True
    # order each cold user's interactions: by timestamp, else seeded random; the first keep_first are revealed
    sel = np.flatnonzero(is_cold[users_all])
    key2 = ts_all[sel] if has_ts else rng.random(sel.size)
    order = sel[np.lexsort((key2, users_all[sel]))]
    u_sorted = users_all[order]
    starts = np.searchsorted(u_sorted, u_sorted, side="left")
    rank = np.arange(order.size) - starts
    reveal_pos, held_pos = order[rank < keep_first], order[rank >= keep_first]
    # revealed edges keep the training interactions' fields (add_edges needs them)
    n_train = u_parts[0].size
    reveal_pos = reveal_pos[np.argsort(reveal_pos, kind="stable")]
    umap, imap = base.id_map(USER), base.id_map(ITEM)

    def field_of(parts: list[torch.Tensor | None], pos: np.ndarray, what: str) -> np.ndarray | None:
        if parts[0] is None:
            return None
        if any(p is None for p in parts):  # held-out parts lack the field: use it where train has it
            vals = np.concatenate([_cpu(parts[0]), np.full(sum(len(u) for u in u_parts[1:]), 1 if what == "weight" else 0)])
        else:
            vals = np.concatenate([_cpu(p) for p in parts])
        return vals[pos]

    reveal: dict[EdgeType, _Edges] = {
        INTERACTS: (umap.to_external(users_all[reveal_pos]), imap.to_external(items_all[reveal_pos]),
                    field_of(w_parts, reveal_pos, "weight"), field_of(t_parts, reveal_pos, "timestamp")),
    }
    held = (umap.to_external(users_all[held_pos]), imap.to_external(items_all[held_pos]))
    # the warm graph: warm users (ids kept), every other node type whole
    warm_ids = umap.to_external(np.flatnonzero(~is_cold))
    train = Graph(base.device)
    for nt in base.node_types:
        train.add_node_type(nt, IdMap(warm_ids, USER) if nt == USER else base.id_map(nt))
        if nt != USER:
            train.node_attrs[nt] = dict(base.node_attrs.get(nt, {}))
    train.meta = {**base.meta, "cold_start": True}
    for et in base.edge_types:
        e = base.edges(et)
        s, d = e.coo()
        s_np, d_np = s.cpu().numpy(), d.cpu().numpy()
        cold_edge = np.zeros(s_np.size, dtype=bool)
        if et[0] == USER:
            cold_edge |= is_cold[s_np]
        if et[2] == USER:
            cold_edge |= is_cold[d_np]
        keep = np.flatnonzero(~cold_edge)
        sm, dm = base.id_map(et[0]), base.id_map(et[2])
        train.add_edges(et, sm.to_external(s_np[keep]), dm.to_external(d_np[keep]),
                        _cpu(e.weight, keep), _cpu(e.timestamp, keep), by="id", duplicates="keep")
        if et != INTERACTS and cold_edge.any():
            c = np.flatnonzero(cold_edge)
            reveal[et] = (sm.to_external(s_np[c]), dm.to_external(d_np[c]), _cpu(e.weight, c), _cpu(e.timestamp, c))
    info = {"fraction": fraction, "keep_first": keep_first, "seed": seed, "order": "timestamp" if has_ts else "random",
            "users": int(n_cold), "revealed": int(reveal_pos.size), "held": int(held_pos.size),
            "train_interactions_of_cold_users": int(is_cold[users_all[:n_train]].sum())}
    nm = name or (data.name if isinstance(data, Dataset) else str(base.meta.get("dataset", "dataset")))
    return ColdStartSplit(nm, train, umap.to_external(cold), reveal, held, info)


def evaluate_cold_start(
    model: Recommender,
    split: ColdStartSplit,
    k: int | list[int] | tuple[int, ...] = (20,),
    *,
    batch_size: int = 2048,
    progress: bool = False,
) -> EvalReport:
    """Fit ``model`` on the warm graph, reveal the held-out users, rank their other items.

    The model fits on a copy of ``split.train`` (the split can serve several models); after
    the reveal it answers through ``update()`` when it ``supports_update``, else it is refit
    on the grown graph (``report.info["answered_by"]`` says which). Metrics are
    :func:`graphrec.evaluate`'s, over the held-out users only.

    Returns
    -------
    ColdStartReport
    """
    import time

    progress = check_bool("progress", progress)
    g = split.train.edge_subgraph(split.train.edge_types)  # a copy: growing it leaves the split as it was
    t0 = time.perf_counter()
    model.fit(g)
    fit_s = time.perf_counter() - t0
    order = [INTERACTS] + [et for et in split.reveal if et != INTERACTS]
    for et in order:
        s, d, w, ts = split.reveal[et]
        if len(s):
            g.add_edges(et, s, d, w, ts, by="id", duplicates="keep")
    t0 = time.perf_counter()
    if model.supports_update:
        model.update()
        answered = "update"
    else:
        model.fit(g)
        answered = "refit"
    update_s = time.perf_counter() - t0
    test = held_out_graph(g, split.held[0], split.held[1], by="id")
    ds = Dataset(split.name, g, test)
    users = g.id_map(USER).to_index(split.users)
    r = evaluate(model, ds, k, users=users, batch_size=batch_size, progress=progress)
    info = {**split.info, "answered_by": answered, "fit_seconds": fit_s, "update_seconds": update_s}
    return ColdStartReport(r.metrics, r.users, r.per_user, r.seconds, info)
