"""One typed edge set (``src_type -rel-> dst_type``) stored as CSR torch tensors.

The CSR arrays are the single source of truth; the transposed view (CSC) and
normalised adjacency values are derived on demand and cached until the edge set
changes. Index tensors are ``int32`` when every count fits (half the bytes of
``int64``), ``int64`` otherwise; ``indptr`` and ``indices`` always share a dtype so that
they can back a ``torch.sparse_csr_tensor`` without a copy.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

__all__ = ["EdgeSet", "EdgeType", "check_etype", "coo_to_csr", "index_dtype_for"]

#: an edge type: ``(source node type, relation, destination node type)``, e.g. ``("user", "interacts", "item")``
EdgeType = tuple[str, str, str]


def check_etype(etype: Any) -> EdgeType:
    """``etype`` as a ``(src_type, relation, dst_type)`` tuple; anything else is a ``TypeError``."""
    if not isinstance(etype, (tuple, list)) or len(etype) != 3 or not all(isinstance(p, str) for p in etype):
        raise TypeError(f"etype must be a (src_type, relation, dst_type) tuple of str, got {etype!r}")
    return (etype[0], etype[1], etype[2])

_INT32_MAX = 2**31 - 1


def index_dtype_for(*counts: int) -> torch.dtype:
    """``torch.int32`` when every count fits in it, else ``torch.int64``."""
    return torch.int32 if max(counts, default=0) <= _INT32_MAX else torch.int64


def _sparse_csr(indptr: torch.Tensor, indices: torch.Tensor, values: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(indptr, indices, values, size=shape, check_invariants=False)


def coo_to_csr(
    row: torch.Tensor, col: torch.Tensor, num_rows: int, num_cols: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Sort COO pairs into CSR order.

    Returns ``(indptr int64 (num_rows+1,), col sorted (nnz,), perm (nnz,))`` where ``perm``
    maps CSR positions to input positions. Rows are sorted by column within each row; ties
    keep input order (stable).
    """
    key = row.to(torch.int64) * max(num_cols, 1) + col.to(torch.int64)
    if key.numel() < 2 or bool((key[1:] >= key[:-1]).all()):
        perm = torch.arange(key.numel(), device=key.device)  # already in CSR order (common for files)
    elif key.device.type == "cpu":
        # numpy's stable sort (timsort/radix) beats torch's threaded CPU argsort on nearly sorted keys
        perm = torch.from_numpy(np.argsort(key.numpy(), kind="stable"))
    else:
        perm = torch.argsort(key, stable=True)
    counts = torch.bincount(row.to(torch.int64), minlength=num_rows)
    indptr = torch.zeros(num_rows + 1, dtype=torch.int64, device=row.device)
    torch.cumsum(counts, 0, out=indptr[1:])
    return indptr, col[perm], perm


@dataclass
class _Transposed:
    indptr: torch.Tensor  # (num_dst + 1,)
    indices: torch.Tensor  # (nnz,) source index of each edge, CSC order
    perm: torch.Tensor  # (nnz,) CSR position of each CSC position


class EdgeSet:
    """Edges of one relation, CSR by source node.

    Attributes
    ----------
    etype : (src_type, relation, dst_type)
    num_src, num_dst : int
        Node counts of the two endpoint types.
    indptr : Tensor, shape ``(num_src + 1,)``
    indices : Tensor, shape ``(nnz,)``, destination index of each edge, sorted within rows.
    weight : Tensor or None, shape ``(nnz,)``, float32.
    timestamp : Tensor or None, shape ``(nnz,)``, int64.
    """

    def __init__(
        self,
        etype: EdgeType,
        num_src: int,
        num_dst: int,
        indptr: torch.Tensor,
        indices: torch.Tensor,
        weight: torch.Tensor | None = None,
        timestamp: torch.Tensor | None = None,
    ) -> None:
        self.etype = etype
        self.num_src = int(num_src)
        self.num_dst = int(num_dst)
        dt = index_dtype_for(self.num_src, self.num_dst, int(indices.numel()))
        self.indptr = indptr.to(dt)
        self.indices = indices.to(dt)
        self.weight = None if weight is None else weight.to(torch.float32)
        self.timestamp = None if timestamp is None else timestamp.to(torch.int64)
        if self.indptr.numel() != self.num_src + 1:
            raise ValueError(f"{etype}: indptr has {self.indptr.numel()} entries, expected {self.num_src + 1}")
        for name, t in (("weight", self.weight), ("timestamp", self.timestamp)):
            if t is not None and t.numel() != self.indices.numel():
                raise ValueError(f"{etype}: {name} has {t.numel()} entries for {self.indices.numel()} edges")
        self._clear_cache()

    # ----------------------------------------------------------------- basics
    def _clear_cache(self) -> None:
        self._csc: _Transposed | None = None
        self._norm: dict[tuple[str, bool], tuple[torch.Tensor, torch.Tensor]] = {}
        self._row: torch.Tensor | None = None

    @property
    def device(self) -> torch.device:
        return self.indices.device

    @property
    def num_edges(self) -> int:
        return int(self.indices.numel())

    def __repr__(self) -> str:
        extra = "".join(f", {n}" for n, t in (("weight", self.weight), ("timestamp", self.timestamp)) if t is not None)
        return f"EdgeSet({self.etype}, {self.num_src}x{self.num_dst}, edges={self.num_edges}{extra})"

    def _ones(self) -> torch.Tensor:
        """Unit weights, float32 even where torch's default dtype was set to float64."""
        return torch.ones(self.num_edges, dtype=torch.float32, device=self.device)

    def row(self) -> torch.Tensor:
        """Source index of each edge in CSR order, shape ``(nnz,)``, int64 (cached)."""
        if self._row is None:
            counts = (self.indptr[1:] - self.indptr[:-1]).to(torch.int64)
            self._row = torch.repeat_interleave(torch.arange(self.num_src, device=self.device), counts)
        return self._row

    def coo(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(src, dst)`` int64 index tensors in CSR order."""
        return self.row(), self.indices.to(torch.int64)

    def degree(self, side: str = "src", weighted: bool = False) -> torch.Tensor:
        """Out-degree of sources (``side='src'``) or in-degree of destinations; float32 if weighted else int64."""
        if side not in ("src", "dst"):
            raise ValueError(f"side must be 'src' or 'dst', got {side!r}")
        if weighted:
            w = self.weight if self.weight is not None else self._ones()
            n = self.num_src if side == "src" else self.num_dst
            idx = self.row() if side == "src" else self.indices.to(torch.int64)
            return torch.zeros(n, dtype=torch.float32, device=self.device).index_add_(0, idx, w)
        if side == "src":
            return (self.indptr[1:] - self.indptr[:-1]).to(torch.int64)
        return torch.bincount(self.indices.to(torch.int64), minlength=self.num_dst)

    # --------------------------------------------------------------- derived
    def csc(self) -> _Transposed:
        """The transposed view: CSR of ``dst -> src`` plus the permutation back to CSR order."""
        if self._csc is None:
            indptr, src_sorted, perm = coo_to_csr(self.indices.to(torch.int64), self.row(), self.num_dst, self.num_src)
            dt = self.indices.dtype
            self._csc = _Transposed(indptr.to(dt), src_sorted.to(dt), perm.to(dt))
            self._row = None  # only needed transiently; keep the cached store small
        return self._csc

    def matrix(self, values: torch.Tensor | None = None) -> torch.Tensor:
        """Sparse CSR tensor ``(num_src, num_dst)``; values default to weights, else ones."""
        if values is None:
            values = self.weight if self.weight is not None else self._ones()
        return _sparse_csr(self.indptr, self.indices, values, (self.num_src, self.num_dst))

    def transpose_matrix(self, values_csc: torch.Tensor | None = None) -> torch.Tensor:
        """Sparse CSR tensor of the transpose ``(num_dst, num_src)``; values in CSC order."""
        t = self.csc()
        if values_csc is None:
            values_csc = self.weight[t.perm.to(torch.int64)] if self.weight is not None else self._ones()
        return _sparse_csr(t.indptr, t.indices, values_csc, (self.num_dst, self.num_src))

    def normalized(self, weighted: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """LightGCN's symmetric normalisation of this bipartite block.

        Returns ``(R, RT)``: sparse CSR tensors with values ``w_ui / sqrt(d_u d_i)`` of shapes
        ``(num_src, num_dst)`` and ``(num_dst, num_src)``. Together they are the off-diagonal
        blocks of ``Â = D^-1/2 A D^-1/2`` for ``A = [[0, R], [R^T, 0]]``. Cached; they share
        index storage with the store, only the two value arrays are new.
        """
        key = ("sym", weighted)
        if key not in self._norm:
            w = self.weight if (weighted and self.weight is not None) else self._ones()
            du = self.degree("src", weighted=weighted).to(torch.float32)
            di = self.degree("dst", weighted=weighted).to(torch.float32)
            inv_u = torch.where(du > 0, du.rsqrt(), torch.zeros_like(du))
            inv_i = torch.where(di > 0, di.rsqrt(), torch.zeros_like(di))
            vals = w * inv_u[self.row()] * inv_i[self.indices.to(torch.int64)]
            t = self.csc()
            vals_t = vals[t.perm.to(torch.int64)]
            self._row = None
            self._norm[key] = (
                _sparse_csr(self.indptr, self.indices, vals, (self.num_src, self.num_dst)),
                _sparse_csr(t.indptr, t.indices, vals_t, (self.num_dst, self.num_src)),
            )
        return self._norm[key]

    # ------------------------------------------------------------ transforms
    def select(self, keep: torch.Tensor) -> EdgeSet:
        """A new edge set holding the edges where boolean ``keep`` (CSR order) is true."""
        if keep.dtype != torch.bool or keep.numel() != self.num_edges:
            raise ValueError(f"keep must be a bool mask of {self.num_edges} edges")
        counts = torch.zeros(self.num_src, dtype=torch.int64, device=self.device).index_add_(
            0, self.row(), keep.to(torch.int64)
        )
        indptr = torch.zeros(self.num_src + 1, dtype=torch.int64, device=self.device)
        torch.cumsum(counts, 0, out=indptr[1:])
        return EdgeSet(
            self.etype, self.num_src, self.num_dst, indptr, self.indices[keep],
            None if self.weight is None else self.weight[keep],
            None if self.timestamp is None else self.timestamp[keep],
        )

    def with_values(self, weight: torch.Tensor | None = None, timestamp: torch.Tensor | None = None,
                    etype: EdgeType | None = None) -> EdgeSet:
        """The same edges with other ``weight`` / ``timestamp`` arrays in CSR order (``None``:
        none), optionally renamed. The CSR arrays are shared, and so is the transposed view if
        it is built (the structure is the same)."""
        out = EdgeSet(self.etype if etype is None else etype, self.num_src, self.num_dst, self.indptr, self.indices,
                      weight, timestamp)
        out._csc = self._csc
        return out

    def resized(self, num_src: int, num_dst: int) -> EdgeSet:
        """The same edges over larger node sets (new nodes have no edges)."""
        if num_src < self.num_src or num_dst < self.num_dst:
            raise ValueError("node sets can only grow")
        pad = self.indptr[-1:].expand(num_src - self.num_src)
        return EdgeSet(self.etype, num_src, num_dst, torch.cat([self.indptr, pad]), self.indices, self.weight, self.timestamp)

    def to(self, device: torch.device | str) -> EdgeSet:
        out = EdgeSet.__new__(EdgeSet)
        out.etype, out.num_src, out.num_dst = self.etype, self.num_src, self.num_dst
        out.indptr = self.indptr.to(device)
        out.indices = self.indices.to(device)
        out.weight = None if self.weight is None else self.weight.to(device)
        out.timestamp = None if self.timestamp is None else self.timestamp.to(device)
        out._clear_cache()
        if self._csc is not None:
            c = self._csc
            out._csc = _Transposed(c.indptr.to(device), c.indices.to(device), c.perm.to(device))
        return out

    def nbytes(self, include_cache: bool = True) -> int:
        """Bytes held by this edge set's tensors (and its caches when ``include_cache``)."""
        tensors = [self.indptr, self.indices, self.weight, self.timestamp]
        if include_cache:
            if self._csc is not None:
                tensors += [self._csc.indptr, self._csc.indices, self._csc.perm]
            for r, rt in self._norm.values():
                tensors += [r.values(), rt.values()]  # index arrays are shared with the store
            if self._row is not None:
                tensors.append(self._row)
        return sum(t.numel() * t.element_size() for t in tensors if t is not None)
