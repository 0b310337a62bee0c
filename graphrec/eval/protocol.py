"""The full-ranking evaluation protocol (LightGCN's), batched on device.

For every user with at least one held-out interaction: score all items, mask the user's
training (and validation, when evaluating on test) items, take the top ``max(k)``, and
compute Recall / NDCG / Precision / Hit / MRR at each K, plus catalogue coverage. Any
:class:`~graphrec.models.base.Recommender` plugs in through its ``score`` method.
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from ..checks import check_bool, check_choice, check_int
from ..data.dataset import check_held_out
from ..graph.ops import gather_rows, topk_by_index
from ..graph.store import INTERACTS, Graph
from ..models.base import Recommender
from .metrics import METRICS

__all__ = ["EvalReport", "evaluate", "ranking_hits"]


@dataclass(eq=False)
class EvalReport(Mapping[str, float]):
    """Result of :func:`evaluate`; a read-only mapping of metric names to values.

    ``metrics`` maps ``"recall@20"`` etc. to means over evaluated users (plus
    ``"coverage@K"``); ``per_user`` maps the same keys but coverage (a catalogue figure, not a
    per-user one) to float64 arrays aligned with ``users`` (dense user indices).

    The report itself is that mapping of metrics: ``report["ndcg@20"]``, ``dict(report)``,
    ``list(report)``, ``report.items()``, ``"recall@20" in report``; two reports are equal when
    their metrics are.
    """

    metrics: dict[str, float]
    users: np.ndarray
    per_user: dict[str, np.ndarray] = field(repr=False)
    seconds: float = 0.0

    def __getitem__(self, key: str) -> float:
        return self.metrics[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.metrics)

    def __len__(self) -> int:
        return len(self.metrics)

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v:.4f}" for k, v in self.metrics.items())
        return f"EvalReport(users={len(self.users)}, {body})"


class _FlatEntries:
    """CSR entries of a sorted list of users, as flat keys ``position * n_items + item``.

    Computed once per evaluation; a batch of consecutive users is then a contiguous slice,
    so per-batch masking needs no gather. Each ``(user, item)`` pair appears once, even when
    the graph keeps multi-edges (relevance is binary: a repeated test pair is one item).
    """

    def __init__(self, indptr: torch.Tensor, indices: torch.Tensor, users: torch.Tensor, n_items: int) -> None:
        pos, cols, _ = gather_rows(indptr, indices, users)
        self.keys = torch.unique(pos * n_items + cols)  # sorted: still grouped by position
        pos = torch.div(self.keys, n_items, rounding_mode="floor")
        self.offsets = torch.zeros(users.numel() + 1, dtype=torch.int64, device=users.device)
        torch.cumsum(torch.bincount(pos, minlength=users.numel()), 0, out=self.offsets[1:])
        self.counts = (self.offsets[1:] - self.offsets[:-1]).cpu()
        self.cum = self.offsets.cpu()
        self.n_items = n_items

    def batch(self, start: int, stop: int) -> torch.Tensor:
        """Flat keys into a ``(stop - start, n_items)`` batch matrix."""
        return self.keys[int(self.cum[start]) : int(self.cum[stop])] - start * self.n_items


def ranking_hits(
    scores: torch.Tensor, kmax: int, truth: torch.Tensor, masks: list[torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mask, rank and match one batch, reusing ``scores`` as scratch space.

    A slot scoring ``-inf`` (an excluded item, or one the model itself ruled out) is not a
    recommendation: it is never a hit, even when the item is also held out, and callers leave
    it out of coverage. Such slots only appear when fewer than ``kmax`` items are left.
    Equal scores rank by item index (lower first), so the top ``kmax`` does not depend on
    ``kmax`` beyond its length, on the batch or on the device.

    Parameters
    ----------
    scores : FloatTensor ``(B, n_items)``, overwritten
    kmax : int, at most ``n_items``
    truth, masks : flat keys (``row * n_items + item``) of held-out and excluded items

    Returns
    -------
    ``(hits (B, kmax) bool, top_items (B, kmax) int64, top_scores (B, kmax))``
    """
    flat = scores.view(-1)
    for keys in masks:
        flat.index_fill_(0, keys, -torch.inf)
    vals, top = topk_by_index(scores, kmax)
    flat.index_fill_(0, truth, torch.nan)  # the scores are spent: mark held-out items in place
    return torch.isnan(scores.gather(1, top)) & (vals > -torch.inf), top, vals


def _check_ks(k: Any) -> list[int]:
    """Sorted distinct cut-offs from an int-like ``k`` or a list of them."""
    if isinstance(k, np.ndarray) and k.ndim == 0:
        k = k.item()
    scalar = isinstance(k, (numbers.Number, str, bytes))
    try:
        ks = sorted({check_int("k", x, 1) for x in ([k] if scalar else k)})
    except (TypeError, ValueError):
        ks = []
    if not ks:
        raise ValueError(f"k must be positive integers (one int or a list of them), got {k!r}") from None
    return ks


def _check_users(users: Any, n_users: int, device: torch.device) -> torch.Tensor:
    """Requested user indices as a sorted unique LongTensor on ``device``."""
    arr = np.asarray(users)
    if arr.ndim > 1:
        raise ValueError(f"users must be a 1-D list of user indices, got shape {arr.shape}")
    arr = arr.reshape(-1)
    if arr.size == 0:
        raise ValueError("users is empty; nothing to evaluate")
    if arr.dtype.kind not in "iu":
        raise ValueError(f"users must be integer user indices, got {arr.dtype} values like {arr.tolist()[0]!r}")
    bad = arr[(arr < 0) | (arr >= n_users)]
    if bad.size:
        raise ValueError(f"users: user index {bad[0]} is out of range [0, {n_users})")
    return torch.as_tensor(arr.astype(np.int64), device=device).unique()


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
        Fitted; scores batches of user indices on its device. Its ``etype`` (default
        ``user -interacts-> item``) names the held-out and masked edges.
    data : Dataset
        Supplies ``train`` (masked), ``valid`` (masked when ``split='test'``) and the split,
        all on the same node sets.
    k : int or list of int
        Cut-offs (>= 1); every metric is reported at each. A K above the number of items
        keeps its definition (precision divides by K; missing ranks are misses).
    split : {'test', 'valid'}
    batch_size : int
        Users per scoring batch (memory ``batch_size * n_items`` floats).
    users : array of user indices, optional
        Restrict to these users (default: every user with a held-out item); each must be in
        range and have a held-out item.

    Returns
    -------
    EvalReport

    Raises
    ------
    ValueError
        Bad ``k`` / ``split`` / ``users`` / ``batch_size``; a split whose node sets no longer
        match train's; a score matrix of the wrong shape; NaN scores.

    Notes
    -----
    Excluded (masked) items score ``-inf``; when fewer than K items are left, the empty
    ranks count as misses and cover nothing. Equal scores are ranked by item index (the
    lower index first), so results are deterministic and the metrics at one K do not depend
    on the other cut-offs requested, the batch size or the device.
    """
    ks = _check_ks(k)
    split = check_choice("split", split, ("test", "valid"))
    batch_size, progress = check_int("batch_size", batch_size, 1), check_bool("progress", progress)
    target: Graph | None = getattr(data, split, None)
    if target is None:
        raise ValueError(f"dataset has no {split!r} split")
    etype = getattr(model, "etype", INTERACTS)
    if hasattr(model, "check_graph"):
        model.check_graph()  # a model fitted on a graph that grew since says so before anything else
    held = [(split, target)]
    if split == "test" and getattr(data, "valid", None) is not None:
        held.append(("valid", data.valid))
    for part, g in held:
        if not g.has_edge_type(etype):
            raise ValueError(f"the {part} split has no {etype} edges (the model's etype); it has {g.edge_types}")
        check_held_out(data.train, g, part, etype=etype, where="evaluate")
    device = model.device
    t0 = time.perf_counter()
    truth_es = target.to(device).edges(etype)
    masks = [data.train.to(device).edges(etype)] + [g.to(device).edges(etype) for part, g in held[1:]]
    n_items = truth_es.num_dst
    kmax = min(ks[-1], n_items)
    has_truth = truth_es.degree("src") > 0
    if users is None:
        eval_users = torch.nonzero(has_truth).squeeze(1)
    else:
        eval_users = _check_users(users, truth_es.num_src, device)
        empty = eval_users[~has_truth[eval_users]]
        if empty.numel():
            raise ValueError(f"users {empty[:5].tolist()}{' ...' if empty.numel() > 5 else ''} have no {split} interactions")
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
                raise ValueError(
                    f"{type(model).__name__}.score returned shape {tuple(scores.shape)}, expected {(ub.numel(), n_items)} "
                    f"(the dataset has {n_items} items; was the model fitted on this dataset's train graph?)"
                )
            hits, top, vals = ranking_hits(scores, kmax, truth.batch(s, e), [m.batch(s, e) for m in excluded])
            hits_parts.append(hits)
            top_parts.append(top)
            val_parts.append(vals)
        # metrics once over all users: a handful of ops instead of a handful per batch
        hits, top, vals = torch.cat(hits_parts), torch.cat(top_parts), torch.cat(val_parts)
        if bool(torch.isnan(vals).any()):  # topk ranks NaN first: any NaN shows here
            raise ValueError(f"{type(model).__name__} produced NaN scores")
        n_test = truth.offsets[1:] - truth.offsets[:-1]
        arrays: dict[str, np.ndarray] = {}
        metrics: dict[str, float] = {}
        for kk in ks:
            for m, fn in METRICS.items():
                a = fn(hits, n_test, kk).cpu().numpy()
                arrays[f"{m}@{kk}"] = a
                metrics[f"{m}@{kk}"] = float(a.mean())
        for kk in ks:
            kc = min(kk, kmax)
            covered = torch.zeros(n_items, dtype=torch.bool, device=device)
            covered[top[:, :kc][vals[:, :kc] > -torch.inf]] = True  # -inf slots recommend nothing
            metrics[f"coverage@{kk}"] = int(covered.sum()) / n_items
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return EvalReport(metrics, eval_users.cpu().numpy(), arrays, time.perf_counter() - t0)
