"""Choosing FastRP's power weights and β on a validation carve, never on test.

Two judges, as in the paper's tuning (Chen et al., CIKM 2019, §4.4):

- ``task="nodes"``: the labelled nodes the caller may use (``labelled``: e.g. the 10% training
  share of a node-classification run) are split, seeded, into a fitting part and a validation
  part; a candidate's score is the micro-F1 of :func:`~graphrec.embed.evaluate.node_classification`
  on the validation part (mean over ``repeats`` splits). Nodes outside ``labelled`` are never read.
- ``task="links"``: a seeded share of the relation's edges (each undirected pair once, both
  directions removed) is held out, the rest is embedded, and the score is the ROC AUC of the
  held-out pairs against as many sampled non-adjacent pairs. Pass the graph with its test
  edges already removed.

The search is cheap because a weighted sum of powers needs no new matmul: for each β on the
grid the normalised powers ``N_1 .. N_k`` are computed once (:func:`~graphrec.embed.fastrp.fastrp_powers`)
and the weights are combinations of them. β is chosen first together with the starting
weights, the authors' (rising: far powers weigh most) or equal ones (a plain sum of the
powers), then each weight ``w_2 .. w_k`` in turn over ``weight_grid`` (``w_1 = 1`` fixes the
scale), one coordinate sweep from that start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from ..checks import check_bool, check_choice, check_int, check_number, check_seed, derived_seed
from ..graph.store import Graph
from .evaluate import _as_multilabel, label_split, link_auc, node_classification
from .fastrp import AUTHORS_BETA, AUTHORS_WEIGHTS, _etype_list, fastrp_powers

__all__ = ["BETA_GRID", "WEIGHT_GRID", "TuneResult", "holdout_edges", "link_carve", "negative_pairs", "tune_fastrp"]

BETA_GRID = (-1.0, -0.8, -0.628, -0.4, -0.2, 0.0)
WEIGHT_GRID = (0.0, 1.0, 4.0, 16.0, 64.0, 256.0)


@dataclass
class TuneResult:
    """The chosen ``weights`` and ``beta``, their validation ``score`` and every candidate tried."""

    weights: tuple[float, ...]
    beta: float
    score: float
    history: list[dict[str, Any]] = field(default_factory=list)

    def params(self) -> dict[str, Any]:
        return {"weights": list(self.weights), "beta": self.beta}


def holdout_edges(graph: Graph, etype: Any = None, share: float = 0.1, seed: int = 0) -> tuple[Graph, torch.Tensor]:
    """Remove a seeded ``share`` of ``etype``'s edges (both directions of a one-type pair).

    Returns
    -------
    (graph without them — same id maps, the other relations kept — and the held-out pairs
    ``(2, m)`` int64, each undirected pair once).
    """
    share = check_number("share", share, 0, 1, low_open=True, high_open=True)
    et = graph.resolve_etype(etype)
    es = graph.edges(et)
    src, dst = es.coo()
    one_type = et[0] == et[2]
    key_s, key_d = (torch.minimum(src, dst), torch.maximum(src, dst)) if one_type else (src, dst)
    pairs = torch.unique(key_s * max(es.num_dst, 1) + key_d)
    rng = np.random.default_rng(check_seed(seed))
    m = max(1, round(share * pairs.numel()))
    held = pairs[torch.from_numpy(rng.permutation(pairs.numel())[:m]).to(pairs.device)]
    drop = torch.isin(key_s * max(es.num_dst, 1) + key_d, held)
    out = Graph(graph.device)
    for t in graph.node_types:
        out.add_node_type(t, graph.id_map(t))
    for other in graph.edge_types:
        oes = graph.edges(other)
        keep = ~drop if other == et else torch.ones(oes.num_edges, dtype=torch.bool, device=graph.device)
        s, d = oes.coo()
        out.add_edges(other, s[keep], d[keep],
                      None if oes.weight is None else oes.weight[keep], None if oes.timestamp is None else oes.timestamp[keep])
    hs = torch.div(held, max(es.num_dst, 1), rounding_mode="floor")
    return out, torch.stack([hs, held - hs * max(es.num_dst, 1)])


def negative_pairs(graph: Graph, et: Any, m: int, seed: int, offset_dst: int) -> torch.Tensor:
    """``m`` seeded node pairs (global rows) that are not edges of ``et`` in ``graph``."""
    es = graph.edges(et)
    gen = torch.Generator().manual_seed(seed)
    s = torch.randint(0, es.num_src, (4 * m + 16,), generator=gen).to(graph.device)
    d = torch.randint(0, es.num_dst, (4 * m + 16,), generator=gen).to(graph.device)
    src, dst = es.coo()
    edge_keys = src * es.num_dst + dst
    ok = ~torch.isin(s * es.num_dst + d, edge_keys) & ((s != d) if et[0] == et[2] else torch.ones_like(s, dtype=torch.bool))
    s, d = s[ok][:m], d[ok][:m]
    return torch.stack([s, d + offset_dst])


def link_carve(graph: Graph, etype: Any = None, share: float = 0.1, seed: int = 0) -> tuple[Graph, torch.Tensor, torch.Tensor]:
    """The validation carve of link-prediction tuning: held-out edges and as many non-edges.

    Parameters
    ----------
    graph : Graph
        The graph tuning may read (its test edges already removed).
    etype : the relation(s) embedded; the first one's edges are carved.
    share : share of its undirected pairs held out (:func:`holdout_edges`).
    seed : seeds the carve (``seed``) and the negatives (``derived_seed(seed + 1)``).

    Returns
    -------
    (graph without the carved edges, positive pairs ``(2, m)`` and negative pairs ``(2, m)``
    int64 as rows of the embedding's :func:`~graphrec.embed.fastrp.relation_layout` order).
    Negatives are non-edges of ``graph`` itself, so a carved edge is never one.
    """
    from .fastrp import relation_layout

    et = _etype_list(graph, etype)[0]
    target, held = holdout_edges(graph, et, share, seed)
    lay = {t: a for t, a, _ in relation_layout(graph, etype)}
    pos = torch.stack([held[0] + lay[et[0]], held[1] + lay[et[2]]])
    neg = negative_pairs(graph, et, held.shape[1], derived_seed(seed + 1), lay[et[2]])
    neg[0] += lay[et[0]]
    return target, pos, neg


def tune_fastrp(
    graph: Graph,
    etype: Any = None,
    *,
    task: str = "nodes",
    labels: Any = None,
    labelled: Any = None,
    valid_share: float = 0.3,
    repeats: int = 2,
    dim: int = 128,
    powers: int = 4,
    betas: tuple[float, ...] = BETA_GRID,
    weight_grid: tuple[float, ...] = WEIGHT_GRID,
    s: float | None = None,
    seed: int = 0,
    C: float = 1.0,
    progress: bool = False,
) -> TuneResult:
    """Choose FastRP's ``weights`` and ``beta`` on a validation carve.

    Parameters
    ----------
    graph : Graph
        For ``task="links"``: the graph without its test edges.
    etype : the relation(s) embedded (see :func:`~graphrec.embed.fastrp.fastrp`); for
        ``task="links"`` the first one is the relation whose edges are held out.
    task : {'nodes', 'links'}
    labels : BoolTensor ``(n, c)`` or LongTensor ``(n,)`` (``task="nodes"``), rows in the
        embedding's layout order.
    labelled : node indices whose labels tuning may use (default: every node with a label).
    valid_share : share of ``labelled`` nodes (or of edges) held out for validation.
    repeats : validation splits averaged per candidate (``task="nodes"``).
    dim, powers, s, seed : FastRP's dimension, number of powers, sparsity and seed.
    betas, weight_grid : candidate values.
    C : inverse regularisation of the node classifier.

    Returns
    -------
    TuneResult
    """
    task = check_choice("task", task, ("nodes", "links"))
    valid_share = check_number("valid_share", valid_share, 0, 1, low_open=True, high_open=True)
    repeats, powers = check_int("repeats", repeats, 1), check_int("powers", powers, 1)
    seed, progress = check_seed(seed), check_bool("progress", progress)
    if not betas or not weight_grid:
        raise ValueError("betas and weight_grid must name at least one value each")
    start = tuple(AUTHORS_WEIGHTS[:powers]) + (0.0,) * max(0, powers - len(AUTHORS_WEIGHTS))

    if task == "nodes":
        if labels is None:
            raise ValueError("task='nodes' needs labels")
        y = _as_multilabel(torch.as_tensor(labels))
        if labelled is None:
            labelled = torch.nonzero(y.any(1)).squeeze(1).numpy()
        labelled = np.asarray(labelled, dtype=np.int64)
        if labelled.size < 4:
            raise ValueError(f"tuning needs at least 4 labelled nodes, got {labelled.size}")
        splits = []
        for r in range(repeats):
            a, b = label_split(labelled.size, 1 - valid_share, derived_seed(seed + r))
            splits.append((labelled[a], labelled[b]))
        target = graph

        def judge(e: torch.Tensor) -> float:
            return float(np.mean([node_classification(e, y, a, b, C=C)["micro_f1"] for a, b in splits]))
    else:
        target, pos, neg = link_carve(graph, etype, valid_share, seed)

        def judge(e: torch.Tensor) -> float:
            return link_auc(e, pos, neg)

    history: list[dict[str, Any]] = []
    bar = tqdm(total=2 * len(betas) + (powers - 1) * len(weight_grid), desc="tune fastrp", disable=not progress, leave=False)

    def combine(ps: list[torch.Tensor], w: tuple[float, ...]) -> torch.Tensor:
        out = torch.zeros_like(ps[0])
        for wi, p in zip(w, ps):
            if wi:
                out += wi * p
        return out

    def trial(ps: list[torch.Tensor], w: tuple[float, ...], beta: float) -> float:
        score = judge(combine(ps, w))
        history.append({"weights": list(w), "beta": beta, "score": score})
        bar.update(1)
        return score

    # two starting points for the weights: the authors' (rising, for node labels) and equal
    # weights (a plain sum of the walk's powers: where link prediction tends to lie)
    starts = [start] if all(x == 1.0 for x in start) else [start, (1.0,) * powers]
    best = (-np.inf, start, float(AUTHORS_BETA), None)
    for beta in betas:
        ps = fastrp_powers(target, etype, dim=dim, powers=powers, beta=beta, s=s, seed=seed)
        for w0 in starts:
            sc = trial(ps, w0, float(beta))
            if sc > best[0]:
                best = (sc, w0, float(beta), ps)
    score, w, beta, ps = best
    for j in range(1, powers):
        for v in weight_grid:
            cand = w[:j] + (float(v),) + w[j + 1 :]
            if cand == w:
                continue
            sc = trial(ps, cand, beta)
            if sc > score:
                score, w = sc, cand
    bar.close()
    return TuneResult(tuple(float(x) for x in w), beta, float(score), history)
