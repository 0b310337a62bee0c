"""Exact personalized PageRank by batched power iteration (the reference for PowerWalk).

For restart probability ``c`` and the walk's transition matrix ``P`` (a
:class:`~graphrec.walks.WalkEngine`: the user–item graph seen as one undirected graph, plus
trust edges if asked), the PPR vector of source ``s`` solves

    pi_s = c e_s + (1 - c) (pi_s P + (pi_s . dangling) e_s)

(mass reaching a node without out-edges returns to the source, as the walk engine's
``dangling='restart'`` does). Many sources are solved at once: ``X`` is a dense
``(n, B)`` matrix with one column per source and each iteration is one sparse ``P^T @ X``
on the graph's device, built block by block from the store's CSR / CSC index arrays. The
iteration is a contraction with factor ``1 - c``; it stops when the largest L1 change of a
column falls below ``tol`` (the remaining L1 error is then at most ``tol (1 - c) / c``) or
after ``max_iter`` iterations.

References
----------
Page, Brin, Motwani, Winograd. The PageRank citation ranking: bringing order to the web.
Stanford InfoLab TR, 1999.
Haveliwala. Topic-sensitive PageRank. WWW 2002.
"""

from __future__ import annotations

from typing import Any

import torch
from tqdm.auto import tqdm

from ..checks import check_bool, check_int, check_number
from ..graph.store import Graph, index_tensor
from ..walks.engine import WalkEngine, bipartite_engine

__all__ = ["as_engine", "power_iteration", "transpose_step"]


def as_engine(graph_or_engine: Graph | WalkEngine, *, trust: bool = False) -> WalkEngine:
    """The walk engine of ``graph_or_engine`` (a Graph gets :func:`bipartite_engine`)."""
    if isinstance(graph_or_engine, WalkEngine):
        return graph_or_engine
    if isinstance(graph_or_engine, Graph):
        return bipartite_engine(graph_or_engine, trust=trust)
    raise TypeError(f"expected a Graph or WalkEngine, got {type(graph_or_engine).__name__}")


def transpose_step(
    blocks: list[tuple[int, int, torch.Tensor]],
    offsets: list[int],
    x: torch.Tensor,
    out: torch.Tensor,
    *,
    scale: float = 1.0,
    live: set[int] | None = None,
) -> set[int]:
    """``out = scale * P^T @ x`` for column vectors ``x`` ``(n, B)``, block by block.

    ``blocks`` are :meth:`WalkEngine.transition_transpose`'s; ``live`` (default: all) names
    the node types where ``x`` may be non-zero, and blocks leaving other types are skipped.
    Node types fed by no block are zeroed. Returns the node types written.
    """
    written: set[int] = set()
    for d, s, m in blocks:
        if live is not None and s not in live:
            continue
        yd, xs = out[offsets[d] : offsets[d + 1]], x[offsets[s] : offsets[s + 1]]
        if d in written:
            yd.addmm_(m, xs, alpha=scale)
        else:
            torch.addmm(yd, m, xs, beta=0.0, alpha=scale, out=yd)
            written.add(d)
    for t in range(len(offsets) - 1):
        if t not in written:
            out[offsets[t] : offsets[t + 1]] = 0.0
    return written


def _check_alpha(alpha: float) -> float:
    """The restart probability ``alpha`` as a float in (0, 1)."""
    return check_number("alpha", alpha, 0, 1, low_open=True, high_open=True)


def power_iteration(
    graph: Graph | WalkEngine,
    sources: Any,
    *,
    alpha: float = 0.15,
    tol: float = 1e-6,
    max_iter: int = 500,
    batch_size: int = 1024,
    dtype: torch.dtype = torch.float32,
    progress: bool = False,
    return_info: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, dict[str, Any]]:
    """PPR vectors of many sources at once.

    Parameters
    ----------
    graph : Graph or WalkEngine
        A Graph is walked as its undirected user–item graph (:func:`bipartite_engine`).
    sources : LongTensor / array ``(B,)``
        Global node ids of the engine's node space (users first, then items).
    alpha : float
        Restart probability ``c`` (0.15 by default; the damping factor is ``1 - c``).
    tol : float
        Stop when ``max_b ||x_b(t+1) - x_b(t)||_1 <= tol``. Float32 vectors bottom out near
        1e-7 (rounding); use ``dtype=torch.float64`` for tighter tolerances.
    max_iter : int
        Iteration cap.
    batch_size : int
        Sources per sparse ``P^T @ X`` (memory ``2 * n * batch_size`` values).
    dtype : torch.float32 or torch.float64
    progress : bool
        Show a tqdm bar over batches.
    return_info : bool
        Also return ``{"iterations": [...], "change": [...]}`` per batch.

    Returns
    -------
    FloatTensor ``(B, n)`` on the graph's device; row ``b`` sums to 1.

    Raises
    ------
    ValueError
        ``alpha`` outside (0, 1), non-positive ``tol`` / ``max_iter`` / ``batch_size``.
    TypeError
        Sources that are not integers (e.g. ``0.5`` or booleans).
    IndexError
        A source outside ``[0, n)``.

    Examples
    --------
    >>> from graphrec.graph import Graph, INTERACTS
    >>> g = Graph(); _ = g.add_node_type("user", 2); _ = g.add_node_type("item", 1)
    >>> _ = g.add_edges(INTERACTS, [0, 1], [0, 0])
    >>> x = power_iteration(g, [0], alpha=0.5, tol=1e-9)
    >>> round(float(x.sum()), 6)
    1.0
    """
    eng = as_engine(graph)
    alpha = _check_alpha(alpha)
    tol = check_number("tol", tol, 0, low_open=True)
    max_iter, batch_size = check_int("max_iter", max_iter, 1), check_int("batch_size", batch_size, 1)
    progress, return_info = check_bool("progress", progress), check_bool("return_info", return_info)
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
    dev = eng.device
    n = eng.num_nodes
    src = index_tensor(sources, "sources", n, dev).reshape(-1)
    blocks = eng.transition_transpose(dtype)
    offs = eng._offsets_list
    dang = eng.dangling.nonzero().squeeze(1)
    out = torch.empty(src.numel(), n, dtype=dtype, device=dev)
    info: dict[str, Any] = {"iterations": [], "change": []}
    batches = range(0, src.numel(), batch_size)
    for start in tqdm(batches, desc="ppr exact", unit="batch", disable=not progress, leave=False):
        sb = src[start : start + batch_size]
        B = sb.numel()
        cols = torch.arange(B, device=dev)
        x = torch.zeros(n, B, dtype=dtype, device=dev)
        x[sb, cols] = 1.0
        y = torch.empty_like(x)
        it, change = 0, float("inf")
        for it in range(1, max_iter + 1):
            transpose_step(blocks, offs, x, y, scale=1.0 - alpha)  # types fed by no block stay zero
            if dang.numel():
                y[sb, cols] += (1.0 - alpha) * x[dang].sum(0)
            y[sb, cols] += alpha
            change = float(x.sub_(y).abs_().sum(0).max())  # x is free after this step
            x, y = y, x
            if change <= tol:
                break
        info["iterations"].append(it)
        info["change"].append(change)
        out[start : start + B] = x.T
    if return_info:
        return out, info
    return out
