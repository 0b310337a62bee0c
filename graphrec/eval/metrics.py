"""Top-K ranking metrics on a hit matrix (LightGCN's definitions).

All functions take ``hits``: a float/bool tensor ``(B, K)`` where ``hits[b, j]`` is 1 when the
item ranked ``j`` (0-based) for user ``b`` is in that user's test set, and ``n_test``: the
test-set size of each user ``(B,)``. They return per-user values ``(B,)`` (float64).

- Recall@K    = hits in top K / |test(u)|
- Precision@K = hits in top K / K
- NDCG@K      = DCG@K / IDCG@K, DCG = Σ_j hit_j / log2(j + 2), IDCG over min(|test(u)|, K) hits
- Hit@K       = 1 if any hit in top K
- MRR@K       = 1 / (rank of the first hit), 0 if none in top K
"""

from __future__ import annotations

import torch

__all__ = ["METRICS", "hit_rate", "mrr", "ndcg", "precision", "recall"]


def _hk(hits: torch.Tensor, k: int) -> torch.Tensor:
    if k < 1 or k > hits.shape[1]:
        raise ValueError(f"k must be in [1, {hits.shape[1]}], got {k}")
    return hits[:, :k].to(torch.float64)


def recall(hits: torch.Tensor, n_test: torch.Tensor, k: int) -> torch.Tensor:
    return _hk(hits, k).sum(1) / n_test.to(torch.float64)


def precision(hits: torch.Tensor, n_test: torch.Tensor, k: int) -> torch.Tensor:
    return _hk(hits, k).sum(1) / k


def ndcg(hits: torch.Tensor, n_test: torch.Tensor, k: int) -> torch.Tensor:
    h = _hk(hits, k)
    disc = 1.0 / torch.log2(torch.arange(2, k + 2, device=h.device, dtype=torch.float64))
    dcg = (h * disc).sum(1)
    ideal_cum = torch.cumsum(disc, 0)
    n_ideal = n_test.to(torch.int64).clamp(min=1, max=k) - 1
    return dcg / ideal_cum[n_ideal]


def hit_rate(hits: torch.Tensor, n_test: torch.Tensor, k: int) -> torch.Tensor:
    return (_hk(hits, k).sum(1) > 0).to(torch.float64)


def mrr(hits: torch.Tensor, n_test: torch.Tensor, k: int) -> torch.Tensor:
    h = _hk(hits, k)
    any_hit = h.sum(1) > 0
    first = torch.argmax(h, dim=1).to(torch.float64)
    return torch.where(any_hit, 1.0 / (first + 1.0), torch.zeros_like(first))


METRICS = {"recall": recall, "ndcg": ndcg, "precision": precision, "hit": hit_rate, "mrr": mrr}
