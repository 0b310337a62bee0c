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
from ..models.base import Recommender, topk_masked
from .metrics import METRICS

__all__ = ["evaluate", "EvalReport", "ranking_hits"]


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


def ranking_hits(
    scores: torch.Tensor,
    users: torch.Tensor,
    kmax: int,
    truth: tuple[torch.Tensor, torch.Tensor],
    masks: list[tuple[torch.Tensor, torch.Tensor]],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mask, rank and match one batch.

    Returns ``(hits (B, kmax) bool, n_test (B,), top_items (B, kmax))``.
    """
    for indptr, indices in masks:
        rows, cols, _ = gather_rows(indptr, indices, users)
        scores[rows, cols] = -torch.inf
    top, _ = topk_masked(scores, kmax)
    n_items = scores.shape[1]
    b, c, _ = gather_rows(truth[0], truth[1], users)
    truth_keys = b * n_items + c  # sorted: CSR rows are sorted and batch rows ascend
    top_keys = torch.arange(users.numel(), device=users.device).unsqueeze(1) * n_items + top
    hits = torch.isin(top_keys, truth_keys)
    n_test = (truth[0][users + 1] - truth[0][users]).to(torch.int64)
    return hits, n_test, top


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
    truth = (truth_es.indptr, truth_es.indices)
    masks = [data.train.to(device).edges(INTERACTS)]
    if split == "test" and getattr(data, "valid", None) is not None:
        masks.append(data.valid.to(device).edges(INTERACTS))
    mask_csr = [(m.indptr, m.indices) for m in masks]
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

    per_user: dict[str, list[torch.Tensor]] = {f"{m}@{kk}": [] for kk in ks for m in METRICS}
    covered = {kk: torch.zeros(n_items, dtype=torch.bool, device=device) for kk in ks}
    batches = range(0, eval_users.numel(), batch_size)
    with torch.no_grad():
        for s in tqdm(batches, desc="evaluate", unit="batch", disable=not progress, leave=False):
            ub = eval_users[s : s + batch_size]
            scores = model.score(ub).float()
            if scores.shape != (ub.numel(), n_items):
                raise ValueError(f"{type(model).__name__}.score returned shape {tuple(scores.shape)}, expected {(ub.numel(), n_items)}")
            hits, n_test, top = ranking_hits(scores, ub, kmax, truth, mask_csr)
            for kk in ks:
                kc = min(kk, kmax)
                for m, fn in METRICS.items():
                    per_user[f"{m}@{kk}"].append(fn(hits, n_test, kc))
                covered[kk][top[:, :kc].reshape(-1)] = True
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    arrays = {key: torch.cat(v).cpu().numpy() for key, v in per_user.items()}
    metrics = {key: float(a.mean()) for key, a in arrays.items()}
    for kk in ks:
        metrics[f"coverage@{kk}"] = float(covered[kk].float().mean())
    return EvalReport(metrics, eval_users.cpu().numpy(), arrays, time.perf_counter() - t0)
