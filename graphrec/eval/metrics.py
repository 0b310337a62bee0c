"""Top-K ranking metrics on a hit matrix (LightGCN's definitions).

All functions take ``hits``: a float/bool tensor ``(B, W)`` where ``hits[b, j]`` is 1 when the
item ranked ``j`` (0-based) for user ``b`` is in that user's test set, and ``n_test``: the
test-set size of each user ``(B,)``. They return per-user values ``(B,)`` (float64).

``k`` may exceed the width ``W`` (a catalogue with fewer than K recommendable items): the
ranks past the last column are misses, and every definition below keeps its K.

- Recall@K    = hits in top K / |test(u)|
- Precision@K = hits in top K / K
- NDCG@K      = DCG@K / IDCG@K, DCG = Σ_j hit_j / log2(j + 2), IDCG over min(|test(u)|, K) hits
- Hit@K       = 1 if any hit in top K
- MRR@K       = 1 / (rank of the first hit), 0 if none in top K
"""

from __future__ import annotations

import torch

from ..checks import check_int

__all__ = ["METRICS", "hit_rate", "mrr", "ndcg", "precision", "recall"]


def _hk(hits: torch.Tensor, k: int) -> torch.Tensor:
    """The first ``min(k, W)`` columns of ``hits`` as float64 ``(B, min(k, W))``."""
    if hits.dim() != 2:
        raise ValueError(f"hits must be a (users, ranks) matrix, got shape {tuple(hits.shape)}")
    return hits[:, : check_int("k", k, 1)].to(torch.float64)


def recall(hits: torch.Tensor, n_test: torch.Tensor, k: int) -> torch.Tensor:
    """Hits in the top ``k`` over the test-set size, ``(B,)``."""
    return _hk(hits, k).sum(1) / n_test.to(torch.float64)


def precision(hits: torch.Tensor, n_test: torch.Tensor, k: int) -> torch.Tensor:
    """Hits in the top ``k`` over ``k`` (not over the ranks filled), ``(B,)``."""
    return _hk(hits, k).sum(1) / k


def ndcg(hits: torch.Tensor, n_test: torch.Tensor, k: int) -> torch.Tensor:
    """DCG@k over the ideal DCG of ``min(n_test, k)`` hits, ``(B,)``."""
    h = _hk(hits, k)
    n_ideal = n_test.to(torch.int64).clamp(min=1, max=k)
    length = max(h.shape[1], int(n_ideal.max()) if n_ideal.numel() else 1)
    disc = 1.0 / torch.log2(torch.arange(2, length + 2, device=h.device, dtype=torch.float64))
    dcg = (h * disc[: h.shape[1]]).sum(1)
    return dcg / torch.cumsum(disc, 0)[n_ideal - 1]


def hit_rate(hits: torch.Tensor, n_test: torch.Tensor, k: int) -> torch.Tensor:
    """1 where the top ``k`` holds a test item, else 0, ``(B,)``."""
    return (_hk(hits, k).sum(1) > 0).to(torch.float64)


def mrr(hits: torch.Tensor, n_test: torch.Tensor, k: int) -> torch.Tensor:
    """Reciprocal rank of the first hit in the top ``k`` (0 if none), ``(B,)``."""
    h = _hk(hits, k)
    if h.shape[1] == 0:
        return torch.zeros(h.shape[0], dtype=torch.float64, device=h.device)
    any_hit = h.sum(1) > 0
    first = torch.argmax(h, dim=1).to(torch.float64)
    return torch.where(any_hit, 1.0 / (first + 1.0), torch.zeros_like(first))


#: metric name -> function ``(hits, n_test, k) -> per-user values``, in the order reports list them
METRICS = {"recall": recall, "ndcg": ndcg, "precision": precision, "hit": hit_rate, "mrr": mrr}
