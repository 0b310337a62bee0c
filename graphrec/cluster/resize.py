"""Bring a clustering to exactly ``k`` clusters, deterministically.

A resolution search (:func:`graphrec.cluster.resolution_for_budget`) lands near a target
number of clusters, rarely on it; an embedding table with a fixed row budget needs it exactly.
:func:`resize_clusters` closes the gap without re-clustering:

* too many clusters: the ``K - k + 1`` smallest clusters (by member count, then by id) are
  merged into one;
* too few: ``k - K`` nodes leave their clusters for rows of their own, the heaviest first (by
  ``weight``, e.g. degree, then by index), never the last member of a cluster. This is
  frequency hashing's rule (frequent ids keep their own rows) applied inside the clusters.

Cluster ids come back as ``0 .. k-1`` in the order of the input ids (merged clusters take the
place of the smallest id among them; new singleton clusters come last).
"""

from __future__ import annotations

import torch

from ..checks import check_int

__all__ = ["compact", "resize_clusters"]


def compact(labels: torch.Tensor) -> torch.Tensor:
    """Relabel ``labels`` ``(n,)`` to ``0 .. K-1`` keeping the order of the ids (LongTensor)."""
    return torch.unique(labels, return_inverse=True)[1].to(torch.int64)


def resize_clusters(labels: torch.Tensor, k: int, weight: torch.Tensor | None = None) -> torch.Tensor:
    """``labels`` changed to exactly ``k`` clusters.

    Parameters
    ----------
    labels : LongTensor ``(n,)``
        Cluster id per node (any integers).
    k : int
        Wanted cluster count, ``1 <= k <= n``.
    weight : Tensor ``(n,)``, optional
        Which nodes leave first when clusters must be added (heaviest first); default: by index.

    Returns
    -------
    LongTensor ``(n,)`` with values ``0 .. k-1``, every value used; on ``labels.device``.

    Raises
    ------
    ValueError
        ``k`` outside ``[1, n]`` or ``weight`` of another length.
    """
    n = labels.numel()
    k = check_int("k", k, 1, max(n, 1))
    if n == 0:
        raise ValueError("cannot resize the clusters of zero nodes")
    lab = compact(labels.reshape(-1))
    count = int(lab.max()) + 1
    dev = lab.device
    if count > k:
        sizes = torch.bincount(lab, minlength=count)
        order = torch.argsort(sizes, stable=True)  # smallest first, ties by id
        merged = order[: count - k + 1]
        target = torch.arange(count, device=dev)
        target[merged] = merged.min()
        return compact(target[lab])
    if count < k:
        w = torch.zeros(n, dtype=torch.float64, device=dev) if weight is None else weight.reshape(-1).to(dev, torch.float64)
        if w.numel() != n:
            raise ValueError(f"weight has {w.numel()} entries for {n} nodes")
        # heaviest first, ties by index: a stable sort of -w over index order
        order = torch.argsort(-w, stable=True)
        lab_sorted = lab[order]
        # the last node of each cluster in that order (its lightest member) stays
        by_cluster = torch.argsort(lab_sorted, stable=True)
        seq = lab_sorted[by_cluster]  # cluster ids, grouped, each group heaviest first
        last = torch.ones(n, dtype=torch.bool, device=dev)
        last[:-1] = seq[:-1] != seq[1:]
        keeper = torch.zeros(n, dtype=torch.bool, device=dev)
        keeper[by_cluster] = last
        movable = order[~keeper]
        out = lab.clone()
        out[movable[: k - count]] = torch.arange(count, k, device=dev)
        return out
    return lab
