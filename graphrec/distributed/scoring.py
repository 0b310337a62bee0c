"""Batch top-k scoring on a Ray cluster: the same output and resume manifest as the local path.

:func:`score_to_file` plans the run exactly as :func:`graphrec.scoring.score_to_file` does
(the same parts, manifest and checks), then hands the missing parts to a pool of Ray actors.
Each actor rebuilds the fitted model once from the object store, with one torch thread, and
writes its parts atomically. A worker that dies is restarted by Ray and its part retried, so
the output has every user exactly once; ``resume=True`` continues a run that either path
started. Parts are written where the driver names them: on a multi-node cluster, a folder
every node can write to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from ..checks import check_int
from ..scoring import start_run, write_part
from .cluster import connect, put_graph, put_model

__all__ = ["score_to_file"]


class _ScoringWorker:
    """A Ray actor holding one rebuilt copy of the fitted model."""

    def __init__(self, refs: list[Any], threads: int) -> None:
        import ray
        import torch

        from ..graph.store import Graph
        from ..models.persistence import model_from_state

        torch.set_num_threads(threads)
        (meta, tensors), (gmeta, gtensors) = ray.get(refs)  # nested refs: the driver keeps them alive for restarts
        self.model = model_from_state(meta, tensors, Graph.from_state(gmeta, gtensors))

    def pid(self) -> int:
        import os

        return os.getpid()

    def score(self, run: Any, i: int) -> tuple[int, int]:
        return i, write_part(self.model, run, i)


def score_to_file(
    model: Any,
    out: Path | str,
    k: int = 100,
    users: Any | None = None,
    *,
    resume: bool = False,
    chunk_users: int = 4096,
    exclude_seen: bool = True,
    config: dict[str, Any] | None = None,
    progress: bool = False,
    cluster: Any = None,
    workers: int = 2,
    threads_per_worker: int = 1,
    max_retries: int = 3,
) -> int:
    """:func:`graphrec.scoring.score_to_file` on Ray: the same arguments, plus where and how wide.

    Parameters
    ----------
    cluster : None, ``"local"`` or a Ray address (see :func:`~graphrec.distributed.cluster.connect`).
    workers : int
        Ray actors scoring parts at once (each holds one copy of the model).
    threads_per_worker : int
        torch threads (and Ray CPUs) per actor.
    max_retries : int
        Restarts of a dead actor, and retries of the part it was writing.

    Returns
    -------
    int : rows written. The output equals the single-process output for the same fitted model.
    """
    workers = check_int("workers", workers, 1)
    threads_per_worker = check_int("threads_per_worker", threads_per_worker, 1)
    max_retries = check_int("max_retries", max_retries, 0)
    run = start_run(model, Path(out), k, users, resume=resume, chunk_users=chunk_users, exclude_seen=exclude_seen,
                    config=config)
    todo = run.todo()
    tied = 0
    if todo:
        ray = connect(cluster)
        from ray.util import ActorPool

        actor = ray.remote(num_cpus=threads_per_worker, max_restarts=max_retries, max_task_retries=max_retries)(_ScoringWorker)
        refs = [put_model(model), put_graph(model.graph)]
        pool = ActorPool([actor.remote(refs, threads_per_worker) for _ in range(min(workers, len(todo)))])
        bar = tqdm(total=sum(len(run.chunks[i]) for i in todo), desc="score", unit="user", disable=not progress)
        for i, n_tied in pool.map_unordered(lambda a, i: a.score.remote(run, i), todo):
            tied += n_tied
            bar.update(len(run.chunks[i]))
        bar.close()
    return run.finish(tied, type(model).__name__)
