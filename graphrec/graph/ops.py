"""Small vectorised CSR helpers shared by every layer (no per-node Python loops)."""

from __future__ import annotations

import torch

__all__ = ["gather_rows", "rows_mask"]


def gather_rows(indptr: torch.Tensor, indices: torch.Tensor, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Entries of CSR rows ``rows`` in one shot.

    Parameters
    ----------
    indptr : Tensor ``(n + 1,)``; indices : Tensor ``(nnz,)``
    rows : LongTensor ``(B,)`` row ids in ``[0, n)`` (repeats allowed; int32 works too). Not
        checked here (callers validate once, e.g. with ``index_tensor``): a negative id reads
        another row's entries.

    Returns
    -------
    (batch_pos, cols, edge_pos) : int64 tensors of equal length ``sum(deg(rows))`` —
    the position of the row in ``rows``, the column, and the CSR position of each entry.
    """
    rows = rows.to(torch.int64)
    start = indptr[rows].to(torch.int64)
    counts = indptr[rows + 1].to(torch.int64) - start
    batch_pos = torch.repeat_interleave(torch.arange(rows.numel(), device=rows.device), counts)
    if batch_pos.numel() == 0:
        empty = torch.zeros(0, dtype=torch.int64, device=rows.device)
        return empty, empty, empty
    offsets = torch.cumsum(counts, 0) - counts
    edge_pos = start[batch_pos] + (torch.arange(batch_pos.numel(), device=rows.device) - offsets[batch_pos])
    return batch_pos, indices[edge_pos].to(torch.int64), edge_pos


def rows_mask(indptr: torch.Tensor, indices: torch.Tensor, rows: torch.Tensor, num_cols: int) -> torch.Tensor:
    """Dense boolean ``(B, num_cols)`` mask of the CSR entries of ``rows``."""
    b, c, _ = gather_rows(indptr, indices, rows)
    mask = torch.zeros(rows.numel(), num_cols, dtype=torch.bool, device=rows.device)
    mask[b, c] = True
    return mask


def topk_by_index(scores: torch.Tensor, kmax: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``torch.topk`` over rows ``(B, n)`` with ties broken by column: higher score first, then lower index.

    ``torch.topk`` leaves the order of equal scores, and which of them make the cut at the
    K-th rank, to the kernel: they change with ``kmax`` (so metrics at one K would depend on
    the other Ks asked for) and with the device. Here the result is the first ``kmax`` items of
    a stable descending sort, whatever ``kmax`` and device. Rows holding NaN are left as
    ``torch.topk`` ranks them (NaN first; :func:`graphrec.evaluate` raises on them).
    Returns ``(values, indices)``, each ``(B, kmax)``; ``kmax`` must be at most ``n``.
    """
    n = scores.shape[1]
    if kmax == 0 or n == 0:
        return torch.topk(scores, 0, dim=1)
    vals, top = torch.topk(scores, min(kmax + 1, n), dim=1)  # one more: does a tie cross the cut?
    if bool(torch.isnan(vals[:, 0]).any()):
        return vals[:, :kmax], top[:, :kmax]
    cross = (vals[:, kmax] == vals[:, kmax - 1]).nonzero().squeeze(1) if kmax < n else vals.new_zeros(0, dtype=torch.int64)
    vals, top = vals[:, :kmax], top[:, :kmax]
    if cross.numel():  # more items tie with the K-th score than fit: keep the lowest-indexed ones
        rows, kth = scores[cross], vals[cross, -1:]
        tied = rows == kth
        keep = (rows > kth) | (tied & (torch.cumsum(tied, 1, dtype=torch.int32) <= (vals[cross] == kth).sum(1, keepdim=True)))
        top = top.clone()
        top[cross] = keep.nonzero()[:, 1].view(cross.numel(), kmax)
    top = top.sort(dim=1).values  # ascending index, then a stable sort by score: ties by index
    vals, order = torch.sort(scores.gather(1, top), dim=1, descending=True, stable=True)
    return vals, top.gather(1, order)
