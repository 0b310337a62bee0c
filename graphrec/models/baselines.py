"""Non-learned baselines: most-popular and cosine item-kNN.

- ``MostPop`` ranks items by training degree (the same list for every user).
- ``ItemKNN`` (Sarwar et al., WWW 2001; Deshpande & Karypis, TOIS 2004): cosine similarity
  between item columns of the binary user-item matrix, each item keeping its ``neighbors``
  most similar items; a user's score for item j is ``Σ_{i seen} sim(i, j)``.
"""

from __future__ import annotations

from typing import Any

import torch
from tqdm.auto import tqdm

from ..checks import check_bool, check_int, check_number
from ..graph.edges import _sparse_csr
from ..graph.store import Graph
from .base import Recommender

__all__ = ["ItemKNN", "MostPop"]


class MostPop(Recommender):
    """Rank items by their number of training interactions."""

    name = "mostpop"
    supports_update = True

    def _fit(self, train: Graph, valid: Graph | None = None, **_: Any) -> None:
        self.popularity = train.degree(self.etype, side="dst").to(torch.float32)

    def _update(self, graph: Graph) -> None:
        self._fit(graph)

    def _get_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        return {"popularity": self.popularity}, {}

    def _set_state(self, graph: Graph, tensors: dict[str, torch.Tensor], extra: dict[str, Any]) -> None:
        self.popularity = tensors["popularity"]

    def score(self, users: torch.Tensor) -> torch.Tensor:
        self._require_fitted()
        return self.popularity.unsqueeze(0).expand(users.numel(), -1).clone()


class ItemKNN(Recommender):
    """Cosine item-kNN over the binary interaction matrix.

    Parameters
    ----------
    neighbors : int
        Similar items kept per item (the rest of the row is dropped). Default 200.
    shrink : float
        Added to the cosine denominator to damp similarities supported by few users.
    block : int
        Items per block when computing the similarity (memory ``block * n_items`` floats).
    """

    name = "itemknn"
    #: :meth:`update` recomputes the item–item similarity over the grown graph
    supports_update = True

    def __init__(self, graph: Graph | None = None, *, neighbors: int = 200, shrink: float = 0.0, block: int = 2048, **kw: Any) -> None:
        super().__init__(graph, **kw)
        self.neighbors = check_int("neighbors", neighbors, 1)
        self.shrink = check_number("shrink", shrink, 0)
        self.block = check_int("block", block, 1)

    def params(self) -> dict[str, Any]:
        return {"neighbors": self.neighbors, "shrink": self.shrink, "block": self.block}

    def _fit(self, train: Graph, valid: Graph | None = None, progress: bool = False, **_: Any) -> None:
        progress = check_bool("progress", progress)
        es = train.edges(self.etype)
        n_items = es.num_dst
        ones_t = torch.ones(es.num_edges, device=self.device)
        rt = es.transpose_matrix(ones_t)  # (items, users)
        r = es.matrix(torch.ones(es.num_edges, device=self.device))  # (users, items)
        norms = es.degree("dst").to(torch.float32).sqrt()
        k = min(self.neighbors, max(n_items - 1, 1))
        rows, cols, vals = [], [], []
        for start in tqdm(range(0, n_items, self.block), desc="itemknn", disable=not progress, leave=False):
            stop = min(start + self.block, n_items)
            # co-occurrence counts of items [start, stop) with every item: RT[block] @ R
            block_rt = _row_block(rt, start, stop)
            co = torch.sparse.mm(block_rt, r).to_dense()
            sim = co / (norms[start:stop, None] * norms[None, :] + self.shrink + 1e-12)
            sim[torch.arange(stop - start, device=self.device), torch.arange(start, stop, device=self.device)] = 0.0
            v, j = torch.topk(sim, k, dim=1)
            keep = v > 0
            rows.append((torch.arange(start, stop, device=self.device)[:, None].expand_as(j))[keep])
            cols.append(j[keep])
            vals.append(v[keep])
        row, col, val = torch.cat(rows), torch.cat(cols), torch.cat(vals)
        counts = torch.bincount(row, minlength=n_items)
        indptr = torch.zeros(n_items + 1, dtype=torch.int64, device=self.device)
        torch.cumsum(counts, 0, out=indptr[1:])
        order = torch.argsort(row * n_items + col)
        self.similarity = _sparse_csr(indptr, col[order], val[order], (n_items, n_items))

    def _update(self, graph: Graph) -> None:
        self._fit(graph)

    def _get_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        m = self.similarity
        return {"crow": m.crow_indices(), "col": m.col_indices(), "val": m.values()}, {}

    def _set_state(self, graph: Graph, tensors: dict[str, torch.Tensor], extra: dict[str, Any]) -> None:
        n = graph.num_nodes(self.etype[2])
        self.similarity = _sparse_csr(tensors["crow"], tensors["col"], tensors["val"], (n, n))

    def score(self, users: torch.Tensor) -> torch.Tensor:
        self._require_fitted()
        es = self.graph.edges(self.etype)
        block = _row_block(es.matrix(torch.ones(es.num_edges, device=self.device)), users)
        return torch.sparse.mm(block, self.similarity).to_dense()


def _row_block(m: torch.Tensor, start: Any, stop: int | None = None) -> torch.Tensor:
    """Rows of sparse CSR ``m``: a contiguous range ``[start, stop)`` or an index tensor ``start``."""
    from ..graph.ops import gather_rows

    crow, col, val = m.crow_indices(), m.col_indices(), m.values()
    rows = torch.arange(start, stop, device=crow.device) if stop is not None else start.to(torch.int64)
    b, c, pos = gather_rows(crow, col, rows)
    counts = torch.bincount(b, minlength=rows.numel())
    indptr = torch.zeros(rows.numel() + 1, dtype=torch.int64, device=crow.device)
    torch.cumsum(counts, 0, out=indptr[1:])
    return _sparse_csr(indptr, c, val[pos], (rows.numel(), m.shape[1]))
