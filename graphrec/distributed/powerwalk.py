"""The PowerWalk index built on Ray workers: the same index a single process builds from the seed.

:func:`build_powerwalk_index` runs :func:`graphrec.rank.powerwalk.build_index` with its two
row-parallel steps on Ray: the walks (each worker takes whole seeded blocks of start nodes,
so its rows are the rows one process draws for them) and every refinement round (each
worker computes a contiguous range of rows from the previous round's index, which travels
once per round through the object store). The driver concatenates the rows in node order
and computes the spectral tail, which needs the whole walk.
"""

from __future__ import annotations

import itertools
from typing import Any

import torch

from ..checks import check_int
from ..rank.powerwalk import (
    PowerWalkIndex,
    _concat_rows,
    _refine_rows,
    as_engine,
    build_index,
    num_walk_blocks,
    walk_block_rows,
)
from .cluster import connect

__all__ = ["RayShards", "build_powerwalk_index"]


def _walk_task(eng: Any, blocks: list[int], alpha: float, walks: int, m: int, tail: str, seed: int, threads: int,
               block_walkers: int) -> Any:
    torch.set_num_threads(threads)
    return walk_block_rows(eng, blocks, alpha, walks, m, tail, seed, block_walkers=block_walkers)


def _refine_task(eng: Any, index: PowerWalkIndex, start: int, stop: int, m_out: int, threads: int) -> Any:
    torch.set_num_threads(threads)
    return _refine_rows(eng, index, torch.arange(start, stop, device=eng.device), False, m_out=m_out)


def _split(n: int, parts: int) -> list[tuple[int, int]]:
    """``[0, n)`` in ``parts`` contiguous, near-equal, non-empty ranges (fewer when ``n < parts``)."""
    parts = max(1, min(parts, n))
    bounds = [round(i * n / parts) for i in range(parts + 1)]
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


class RayShards:
    """:class:`~graphrec.rank.powerwalk.LocalShards`' two steps as Ray tasks over ``workers`` shards."""

    def __init__(self, ray: Any, workers: int, threads: int, max_retries: int) -> None:
        self.ray, self.workers, self.threads = ray, workers, threads
        self.walk_fn = ray.remote(num_cpus=threads, max_retries=max_retries)(_walk_task)
        self.refine_fn = ray.remote(num_cpus=threads, max_retries=max_retries)(_refine_task)
        self._eng: tuple[Any, Any] | None = None

    def _engine_ref(self, eng: Any) -> Any:
        if self._eng is None or self._eng[0] is not eng:
            self._eng = (eng, self.ray.put(eng))
        return self._eng[1]

    def walk(self, eng: Any, alpha: float, walks: int, m: int, tail: str, seed: int, progress: bool) -> Any:
        ref = self._engine_ref(eng)
        from ..rank import powerwalk

        block_walkers = powerwalk.WALKERS_PER_BLOCK  # the driver's, so that workers cut the same blocks
        ranges = _split(num_walk_blocks(eng.num_nodes, walks, block_walkers), self.workers)
        futures = [self.walk_fn.remote(ref, list(range(a, b)), alpha, walks, m, tail, seed, self.threads, block_walkers)
                   for a, b in ranges]
        return _concat_rows(self.ray.get(futures))

    def refine(self, eng: Any, index: PowerWalkIndex, m_out: int, progress: bool) -> Any:
        ref, index_ref = self._engine_ref(eng), self.ray.put(index)
        futures = [self.refine_fn.remote(ref, index_ref, a, b, m_out, self.threads) for a, b in _split(eng.num_nodes, self.workers)]
        return _concat_rows(self.ray.get(futures))


def build_powerwalk_index(
    graph: Any, *, cluster: Any = None, workers: int = 2, threads_per_worker: int = 1, max_retries: int = 3, **params: Any
) -> PowerWalkIndex:
    """:func:`~graphrec.rank.powerwalk.build_index` on Ray (the same ``params``), plus where and how wide.

    Parameters
    ----------
    graph : Graph or WalkEngine
        As :func:`build_index` takes it (a Graph is walked as its undirected user–item graph).
    cluster : None, ``"local"`` or a Ray address (see :func:`~graphrec.distributed.cluster.connect`).
    workers : int
        Shards of the walks and of each refinement round (one Ray task each).
    threads_per_worker : int
        torch threads (and Ray CPUs) per task.
    max_retries : int
        Retries of a task whose worker died.

    Returns
    -------
    PowerWalkIndex : equal, tensor for tensor, to ``build_index(graph, **params)``.
    """
    workers = check_int("workers", workers, 1)
    threads = check_int("threads_per_worker", threads_per_worker, 1)
    max_retries = check_int("max_retries", max_retries, 0)
    if "shards" in params:
        raise TypeError("build_powerwalk_index chooses the shards itself; pass workers=")
    eng = as_engine(graph)
    ray = connect(cluster)
    return build_index(eng, shards=RayShards(ray, workers, threads, max_retries), **params)
