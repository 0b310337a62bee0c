"""FastRP on Ray workers: the embedding one process computes with the same column blocks.

FastRP's embedding is ``Σ_i w_i N_i`` with ``N_i = S^i (L R)``; each block of columns of
``L R`` propagates on its own (``S`` times a dense ``n × block`` slab per power), so workers take
whole column blocks and need nothing from each other. Only the row norms of each power
(two-pass normalisation, when there are several blocks) span all columns: workers return
their blocks' squared norms, the driver sums them in block order and sends the sums back
for the second pass. Every worker rebuilds ``S`` and the seeded projection from the graph
in the object store, so nothing but the graph travels.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import torch

from ..checks import check_int
from ..embed.fastrp import _Prepared, block_columns, block_squared_norms
from ..embed.fastrp import fastrp as local_fastrp
from .cluster import connect, put_graph

__all__ = ["RayColumns", "fastrp"]

#: the _Prepared.build arguments a worker needs to rebuild the operator and the projection
_BUILD_KEYS = ("etype", "dim", "beta", "s", "symmetric", "weighted", "seed", "block")


def _prepare(graph_ref: Any, build: dict[str, Any], threads: int) -> _Prepared:
    from ..graph.store import Graph

    torch.set_num_threads(threads)
    gmeta, gtensors = graph_ref
    return _Prepared.build(Graph.from_state(gmeta, gtensors), *(build[k] for k in _BUILD_KEYS))


def _norms_task(graph_ref: Any, build: dict[str, Any], blocks: list[int], k: int, threads: int) -> list[torch.Tensor]:
    prep = _prepare(graph_ref, build, threads)
    return [block_squared_norms(prep, b, k) for b in blocks]


def _columns_task(graph_ref: Any, build: dict[str, Any], blocks: list[int], w: tuple[float, ...], normalize: bool,
                  sq: torch.Tensor | None, threads: int) -> list[torch.Tensor]:
    prep = _prepare(graph_ref, build, threads)
    return [block_columns(prep, b, w, normalize, sq) for b in blocks]


class RayColumns:
    """FastRP's column blocks (see ``graphrec.embed.fastrp._LocalColumns``) as Ray tasks, one per shard of blocks."""

    def __init__(self, ray: Any, graph_ref: Any, build: dict[str, Any], n_blocks: int, workers: int, threads: int,
                 max_retries: int) -> None:
        self.ray, self.graph_ref, self.build, self.threads = ray, graph_ref, build, threads
        per = math.ceil(n_blocks / workers)
        self.shards = [list(range(a, min(a + per, n_blocks))) for a in range(0, n_blocks, per)]
        self.norms_fn = ray.remote(num_cpus=threads, max_retries=max_retries)(_norms_task)
        self.columns_fn = ray.remote(num_cpus=threads, max_retries=max_retries)(_columns_task)

    def squared_norms(self, k: int, bar: Any) -> list[torch.Tensor]:
        futures = [self.norms_fn.remote(self.graph_ref, self.build, sh, k, self.threads) for sh in self.shards]
        return [part for parts in self.ray.get(futures) for part in parts]

    def columns(self, w: tuple[float, ...], normalize: bool, sq: torch.Tensor | None, bar: Any) -> list[torch.Tensor]:
        sq_cpu = None if sq is None else sq.cpu()
        futures = [self.columns_fn.remote(self.graph_ref, self.build, sh, w, normalize, sq_cpu, self.threads) for sh in self.shards]
        return [cols for parts in self.ray.get(futures) for cols in parts]


def fastrp(
    graph: Any, etype: Any = None, *, cluster: Any = None, workers: int = 2, threads_per_worker: int = 1,
    max_retries: int = 3, block_cols: int | None = None, **params: Any,
) -> torch.Tensor:
    """:func:`graphrec.embed.fastrp` with its column blocks computed on Ray workers.

    Parameters
    ----------
    graph, etype, params
        As :func:`graphrec.embed.fastrp` (``dim``, ``weights``, ``beta``, ``s``, ``normalize``,
        ``symmetric``, ``weighted``, ``seed``, ``out_device``).
    block_cols : int, optional
        Columns per block (default ``ceil(dim / workers)``: one block per worker).
    cluster, workers, threads_per_worker, max_retries : as :func:`graphrec.distributed.score_to_file`.

    Returns
    -------
    FloatTensor, shape ``(n, dim)``
        Equal to ``graphrec.embed.fastrp(graph, etype, block_cols=block_cols, **params)``
        computed in one process (other blockings agree within float rounding).
    """
    workers = check_int("workers", workers, 1)
    threads = check_int("threads_per_worker", threads_per_worker, 1)
    max_retries = check_int("max_retries", max_retries, 0)
    if "shards" in params or "progress" in params:
        raise TypeError("distributed fastrp takes workers=, not shards= or progress=")
    dim = check_int("dim", params.get("dim", 128), 1)
    block = math.ceil(dim / workers) if block_cols is None else check_int("block_cols", block_cols, 1)
    defaults = inspect.signature(local_fastrp).parameters
    build = {"etype": etype, "dim": dim, "block": block,
             **{k: params.get(k, defaults[k].default) for k in ("beta", "s", "symmetric", "weighted", "seed")}}
    ray = connect(cluster)
    graph_ref = put_graph(graph)
    n_blocks = math.ceil(dim / block)
    shards = RayColumns(ray, graph_ref, build, n_blocks, workers, threads, max_retries)
    return local_fastrp(graph, etype, block_cols=block, shards=shards, **params)
