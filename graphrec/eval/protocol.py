"""The full-ranking evaluation protocol (LightGCN's), batched on device.

For every user with at least one held-out interaction: score all items, mask the user's
training (and validation, when evaluating on test) items, take the top ``max(k)``, and
compute Recall / NDCG / Precision / Hit / MRR at each K, plus catalogue coverage. Any
:class:`~graphrec.models.base.Recommender` plugs in through its ``score`` method.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from ..graph.ops import gather_rows
from ..graph.store import INTERACTS, Graph
from ..models.base import Recommender
from .metrics import METRICS

__all__ = ["EvalReport", "evaluate", "ranking_hits"]


@dataclass
class EvalReport:
    """Result of :func:`evaluate`.

    ``metrics`` maps ``"recall@20"`` etc. to means over evaluated users (plus
    ``"coverage@K"``); ``per_user`` maps the same keys to float64 arrays aligned with
    ``users`` (dense user indices).
    """

    metrics: dict[str, float]
    users: np.ndarray
    per_user: dict[str, np.ndarray] = field(repr=False)
    seconds: float = 0.0

    def __getitem__(self, key: str) -> float:
        return self.metrics[key]

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v:.4f}" for k, v in self.metrics.items())
        return f"EvalReport(users={len(self.users)}, {body})"


class _FlatEntries:
    """CSR entries of a sorted list of users, as flat keys ``position * n_items + item``.

    Computed once per evaluation; a batch of consecutive users is then a contiguous slice,
    so per-batch masking needs no gather.
    """

    def __init__(self, indptr: torch.Tensor, indices: torch.Tensor, users: torch.Tensor, n_items: int) -> None:
        pos, cols, _ = gather_rows(indptr, indices, users)
        self.keys = pos * n_items + cols
        self.offsets = torch.zeros(users.numel() + 1, dtype=torch.int64, device=users.device)
        torch.cumsum(torch.bincount(pos, minlength=users.numel()), 0, out=self.offsets[1:])
        self.counts = (self.offsets[1:] - self.offsets[:-1]).cpu()
        self.cum = self.offsets.cpu()
        self.n_items = n_items

    def batch(self, start: int, stop: int) -> torch.Tensor:
        """Flat keys into a ``(stop - start, n_items)`` batch matrix."""
        return self.keys[int(self.cum[start]) : int(self.cum[stop])] - start * self.n_items


def ranking_hits(scores: torch.Tensor, kmax: int, truth: torch.Tensor, masks: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Mask, rank and match one batch, reusing ``scores`` as scratch space.

    Parameters
    ----------
    scores : FloatTensor ``(B, n_items)``, overwritten
    truth, masks : flat keys (``row * n_items + item``) of held-out and excluded items

    Returns
    -------
    ``(hits (B, kmax) bool, top_items (B, kmax) int64, top_scores (B, kmax))``
    """
    flat = scores.view(-1)
    for keys in masks:
        flat.index_fill_(0, keys, -torch.inf)
    vals, top = torch.topk(scores, kmax, dim=1)
    flat.index_fill_(0, truth, torch.nan)  # the scores are spent: mark held-out items in place
    return torch.isnan(scores.gather(1, top)), top, vals


def evaluate(
    model: Recommender,
    data: Any,
    k: int | list[int] | tuple[int, ...] = (20,),
    *,
    split: str = "test",
    batch_size: int = 2048,
    users: Any | None = None,
    progress: bool = False,
) -> EvalReport:
    """Full-ranking evaluation of a fitted ``model``.

    Parameters
    ----------
    model : Recommender
        Fitted; scores batches of user indices on its device.
    data : Dataset
        Supplies ``train`` (masked), ``valid`` (masked when ``split='test'``) and the split.
    k : int or list of int
        Cut-offs; every metric is reported at each.
    split : {'test', 'valid'}
    batch_size : int
        Users per scoring batch (memory ``batch_size * n_items`` floats).
    users : array of user indices, optional
        Restrict to these users (default: every user with a held-out item).

    Returns
    -------
    EvalReport
    """
    ks = sorted({int(x) for x in ([k] if isinstance(k, int) else k)})
    if not ks or ks[0] < 1:
        raise ValueError(f"k must be positive integers, got {k!r}")
    target: Graph | None = getattr(data, split, None)
    if target is None:
        raise ValueError(f"dataset has no {split!r} split")
    device = model.device
    t0 = time.perf_counter()
    truth_es = target.to(device).edges(INTERACTS)
    masks = [data.train.to(device).edges(INTERACTS)]
    if split == "test" and getattr(data, "valid", None) is not None:
        masks.append(data.valid.to(device).edges(INTERACTS))
    n_items = truth_es.num_dst
    kmax = min(ks[-1], n_items)
    if users is None:
        eval_users = torch.nonzero(truth_es.degree("src") > 0).squeeze(1)
    else:
        eval_users = torch.as_tensor(np.asarray(users), dtype=torch.int64, device=device).unique()
        if (truth_es.degree("src")[eval_users] == 0).any():
            raise ValueError("some requested users have no held-out interactions")
    if eval_users.numel() == 0:
        raise ValueError(f"no user has {split} interactions; nothing to evaluate")

    truth = _FlatEntries(truth_es.indptr, truth_es.indices, eval_users, n_items)
    excluded = [_FlatEntries(m.indptr, m.indices, eval_users, n_items) for m in masks]
    hits_parts, top_parts, val_parts = [], [], []
    batches = range(0, eval_users.numel(), batch_size)
    with torch.no_grad():
        for s in tqdm(batches, desc="evaluate", unit="batch", disable=not progress, leave=False):
            e = min(s + batch_size, eval_users.numel())
            ub = eval_users[s:e]
            scores = model.score(ub).float().contiguous()
            if scores.shape != (ub.numel(), n_items):
                raise ValueError(f"{type(model).__name__}.score returned shape {tuple(scores.shape)}, expected {(ub.numel(), n_items)}")
            hits, top, vals = ranking_hits(scores, kmax, truth.batch(s, e), [m.batch(s, e) for m in excluded])
            hits_parts.append(hits)
            top_parts.append(top)
            val_parts.append(vals)
        # metrics once over all users: a handful of ops instead of a handful per batch
        hits, top = torch.cat(hits_parts), torch.cat(top_parts)
        if bool(torch.isnan(torch.cat(val_parts)).any()):  # topk ranks NaN first: any NaN shows here
            raise ValueError(f"{type(model).__name__} produced NaN scores")
        n_test = truth.offsets[1:] - truth.offsets[:-1]
        arrays: dict[str, np.ndarray] = {}
        metrics: dict[str, float] = {}
        for kk in ks:
            kc = min(kk, kmax)
            for m, fn in METRICS.items():
                a = fn(hits, n_test, kc).cpu().numpy()
                arrays[f"{m}@{kk}"] = a
                metrics[f"{m}@{kk}"] = float(a.mean())
        for kk in ks:
            covered = torch.zeros(n_items, dtype=torch.bool, device=device)
            covered[top[:, : min(kk, kmax)].reshape(-1)] = True
            metrics[f"coverage@{kk}"] = int(covered.sum()) / n_items
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return EvalReport(metrics, eval_users.cpu().numpy(), arrays, time.perf_counter() - t0)
