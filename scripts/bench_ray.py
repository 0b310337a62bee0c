"""graphrec on Ray: batch scoring and the PowerWalk index, 1 and 2 workers against one process.

Fits ``--model`` on ``--data`` once, then in one run:

- ``score_local``: :func:`graphrec.scoring.score_to_file` in this process (``--threads`` threads);
- ``score_ray_w{1,2}``: :func:`graphrec.distributed.score_to_file` on a local Ray cluster with
  1 and 2 workers, one torch thread each; ``identical`` says whether the output file equals the
  single-process one byte for byte (every user's top-``k``);
- ``powerwalk_local`` / ``powerwalk_ray_w{1,2}`` (``--powerwalk``): the PowerWalk index built in
  this process and by :func:`graphrec.distributed.build_powerwalk_index`; ``identical`` compares
  every tensor of the index;
- ``fastrp_ray_w{1,2}`` (``--fastrp``): :func:`graphrec.distributed.fastrp` against
  :func:`graphrec.embed.fastrp` with the same column blocks (``identical``: every entry equal);
- ``capacity``: bytes per interaction in the store, per fingerprint entry, the model's bytes,
  for the capacity plan in docs/scaling.md.

Each line has ``seconds`` (wall clock, Ray start-up excluded: the cluster is started and its
worker processes are warmed by a short scoring run first)
and, for Ray, ``speedup_vs_1_worker``. Prints JSON lines.

    python scripts/bench_ray.py --data gowalla --model gfcf --param alpha=0.3 --param k=256 --param sharpen=0 --powerwalk
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import torch


def emit(**row: Any) -> None:
    print(json.dumps(row), flush=True)


def main() -> None:
    import graphrec as gr
    from graphrec import scoring
    from graphrec.distributed import build_powerwalk_index, connect, score_to_file
    from graphrec.models.registry import parse_params
    from graphrec.rank import build_index

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="synthetic")
    ap.add_argument("--model", default="gfcf")
    ap.add_argument("--param", action="append", default=[])
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--chunk", type=int, default=1024, help="users per part")
    ap.add_argument("--threads", type=int, default=1, help="torch threads of the single process")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--powerwalk", action="store_true", help="also build the PowerWalk index")
    ap.add_argument("--walks", type=int, default=64)
    ap.add_argument("--fastrp", action="store_true", help="also embed the graph with FastRP")
    ap.add_argument("--fastrp-dim", type=int, default=256)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    machine = {"machine": f"{platform.machine()} {torch.get_num_threads()} threads", "date": time.strftime("%Y-%m-%d")}

    data = gr.datasets.load(args.data)
    t0 = time.perf_counter()
    model = gr.models.create(args.model, **parse_params(args.param)).fit(data)
    emit(step="fit", data=args.data, model=args.model, seconds=round(time.perf_counter() - t0, 2), **machine)
    workers = [int(w) for w in args.workers.split(",")]
    ray = connect("local", num_cpus=max(workers))
    tmp = Path(tempfile.mkdtemp())

    # warm-up: Ray starts its worker processes (and they import torch) on first use; time the steady state
    warm_users = data.train.id_map("user").to_external(list(range(min(2 * args.chunk, data.train.num_nodes("user")))))
    for w in sorted(set(workers), reverse=True):
        score_to_file(model, tmp / f"warm{w}.parquet", k=args.k, users=warm_users, chunk_users=args.chunk // 2, workers=w)
    t0 = time.perf_counter()
    rows = scoring.score_to_file(model, tmp / "local.parquet", k=args.k, chunk_users=args.chunk)
    base = time.perf_counter() - t0
    emit(step="score_local", rows=rows, seconds=round(base, 2))
    first = None
    for w in workers:
        t0 = time.perf_counter()
        score_to_file(model, tmp / f"ray{w}.parquet", k=args.k, chunk_users=args.chunk, workers=w)
        sec = time.perf_counter() - t0
        first = first or sec
        same = (tmp / f"ray{w}.parquet").read_bytes() == (tmp / "local.parquet").read_bytes()
        emit(step=f"score_ray_w{w}", seconds=round(sec, 2), identical=same, speedup_vs_1_worker=round(first / sec, 3),
             speedup_vs_local=round(base / sec, 3))

    if args.powerwalk:
        g = data.train
        t0 = time.perf_counter()
        local = build_index(g, walks=args.walks, seed=0)
        base = time.perf_counter() - t0
        emit(step="powerwalk_local", seconds=round(base, 2), nnz=local.nnz)
        first = None
        for w in workers:
            t0 = time.perf_counter()
            dist = build_powerwalk_index(g, walks=args.walks, seed=0, workers=w)
            sec = time.perf_counter() - t0
            first = first or sec
            same = all(torch.equal(getattr(local, f), getattr(dist, f)) for f in ("indptr", "indices", "values", "residual", "lost"))
            emit(step=f"powerwalk_ray_w{w}", seconds=round(sec, 2), identical=same, speedup_vs_1_worker=round(first / sec, 3))
        fp_bytes = (local.indices.element_size() + local.values.element_size())
        emit(step="capacity_powerwalk", bytes_per_fingerprint_entry=fp_bytes, entries_per_node=round(local.nnz / local.num_nodes, 1))

    if args.fastrp:
        from graphrec.distributed import fastrp as ray_fastrp
        from graphrec.embed import fastrp

        g = data.train
        first = None
        for w in workers:
            block = -(-args.fastrp_dim // w)
            t0 = time.perf_counter()
            local = fastrp(g, dim=args.fastrp_dim, block_cols=block, seed=0)
            base = time.perf_counter() - t0
            t0 = time.perf_counter()
            dist = ray_fastrp(g, dim=args.fastrp_dim, block_cols=block, seed=0, workers=w)
            sec = time.perf_counter() - t0
            first = first or sec
            emit(step=f"fastrp_ray_w{w}", dim=args.fastrp_dim, block_cols=block, seconds=round(sec, 2),
                 local_seconds=round(base, 2), identical=bool(torch.equal(local, dist)), speedup_vs_1_worker=round(first / sec, 3))

    es = data.train.edges(gr.INTERACTS)
    tensors, _ = model._get_state()
    emit(step="capacity", interactions=es.num_edges, bytes_per_interaction=round(es.nbytes(include_cache=False) / es.num_edges, 2),
         model_bytes=sum(t.numel() * t.element_size() for t in tensors.values()), users=es.num_src, items=es.num_dst)
    ray.shutdown()


if __name__ == "__main__":
    main()
