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
