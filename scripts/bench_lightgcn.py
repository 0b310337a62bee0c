#!/usr/bin/env python
"""Benchmark: one training epoch of graphrec's LightGCN vs ``torch_geometric.nn.models.LightGCN``.

Both models get the same data, the same initial embeddings (N(0, 0.1) from graphrec's seed),
the same (user, positive, negative) triples in the same order (graphrec's seeded sampler),
batch, dimension, layers, Adam and BPR + L2 (PyG through its ``recommendation_loss`` with
``lambda_reg = reg / 2`` and the batch's node ids, which is LightGCN's
``reg * (|e_u|² + |e_i|² + |e_j|²) / 2 / B``). PyG propagates over a ``(2, E)`` ``edge_index``
holding the bipartite graph in both directions, re-normalising it (``gcn_norm``) and running
message passing (gather + scatter over ``E`` edges) in every forward; graphrec runs one SpMM
per block and layer over the store's cached normalised CSR (int32 indices), forward and back.

After an equal number of epochs both are evaluated with ``graphrec.evaluate`` (PyG's
embeddings wrapped in a tiny ``EmbeddingRecommender``). Prints JSON lines: one per method
(``method, epoch_seconds, recall@20, ndcg@20, epochs, ...``) and a summary with the speed-up.

Usage::

    GRAPHREC_DATA=../shared/datasets python scripts/bench_lightgcn.py --dataset gowalla --epochs 1
    python scripts/bench_lightgcn.py --dataset gowalla --epochs 1 --device cuda
    python scripts/bench_lightgcn.py --dataset synthetic --epochs 3          # quick check
    python scripts/bench_lightgcn.py --threads 1   # a shared, oversubscribed CPU: 1 thread can beat 2
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from typing import Any

import torch

import graphrec as gr
from graphrec.graph.store import INTERACTS
from graphrec.models.base import EmbeddingRecommender
from graphrec.models.lightgcn import LightGCN
from graphrec.train import UniformNegativeSampler, epoch_pairs


class FixedEmbeddings(EmbeddingRecommender):
    """Scores from given final embeddings (to evaluate PyG's model with graphrec's protocol)."""

    name = "fixed-embeddings"

    def __init__(self, graph: gr.Graph, users: torch.Tensor, items: torch.Tensor) -> None:
        super().__init__(graph)
        self._u, self._v = users, items

    def _fit(self, train: gr.Graph, valid: Any = None, **_: Any) -> None:
        pass

    def embeddings(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self._u, self._v


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def load_data(name: str, device: str) -> gr.Dataset:
    if name == "synthetic":
        from graphrec.data.synthetic import make_dataset

        data = make_dataset(3000, 2000, avg_degree=30, seed=0)
    else:
        data = gr.datasets.load(name)
    return data.to(device)


def run_graphrec(data: gr.Dataset, args: argparse.Namespace) -> tuple[dict[str, Any], torch.Tensor]:
    model = LightGCN(data.train, dim=args.dim, layers=args.layers, lr=args.lr, reg=args.reg, batch=args.batch, negatives=1,
                     epochs=args.epochs, patience=None, seed=args.seed, progress=args.progress)
    init = torch.cat([model.user_table.all(), model.item_table.all()]).detach().clone()
    t0 = time.perf_counter()
    model.fit(data)
    total = time.perf_counter() - t0
    rep = gr.evaluate(model, data, k=[20])
    secs = [h["seconds"] for h in model.result.history]
    return {
        "method": "graphrec.LightGCN", "epoch_seconds": round(min(secs), 3), "epoch_seconds_all": [round(s, 3) for s in secs],
        "recall@20": round(rep["recall@20"], 5), "ndcg@20": round(rep["ndcg@20"], 5), "epochs": args.epochs,
        "loss": round(model.result.history[-1]["loss"], 5), "fit_seconds": round(total, 2),
    }, init


def run_pyg(data: gr.Dataset, init: torch.Tensor, args: argparse.Namespace) -> dict[str, Any]:
    from torch_geometric.nn.models import LightGCN as PygLightGCN

    g = data.train
    device = g.device
    es = g.edges(INTERACTS)
    n_u, n_i = es.num_src, es.num_dst
    src, dst = es.coo()
    edge_index = torch.stack([torch.cat([src, dst + n_u]), torch.cat([dst + n_u, src])])  # (2, 2E), both directions
    model = PygLightGCN(n_u + n_i, args.dim, args.layers).to(device)
    with torch.no_grad():
        model.embedding.weight.copy_(init)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    # the same triples graphrec's trainer draws: its generator seed and call order
    gen = torch.Generator().manual_seed(int(args.seed) + 104729)
    sampler = UniformNegativeSampler.from_graph(g)
    secs, losses = [], []
    steps = math.ceil(es.num_edges / args.batch)
    for _ in range(args.epochs):
        _sync(device)
        t0 = time.perf_counter()
        users, pos = epoch_pairs(g, gen)
        neg = sampler.sample(users, gen)
        total = 0.0
        for s in range(0, users.numel(), args.batch):
            u, i, j = users[s : s + args.batch], pos[s : s + args.batch] + n_u, neg[s : s + args.batch] + n_u
            label_index = torch.stack([torch.cat([u, u]), torch.cat([i, j])])
            rank = model(edge_index, label_index)
            pos_rank, neg_rank = rank.chunk(2)
            loss = model.recommendation_loss(pos_rank, neg_rank, node_id=torch.cat([u, i, j]), lambda_reg=args.reg / 2)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach())
        _sync(device)
        secs.append(time.perf_counter() - t0)
        losses.append(total / steps)
    with torch.no_grad():
        emb = model.get_embedding(edge_index)
    rep = gr.evaluate(FixedEmbeddings(g, emb[:n_u], emb[n_u:]), data, k=[20])
    return {
        "method": "torch_geometric.LightGCN", "epoch_seconds": round(min(secs), 3), "epoch_seconds_all": [round(s, 3) for s in secs],
        "recall@20": round(rep["recall@20"], 5), "ndcg@20": round(rep["ndcg@20"], 5), "epochs": args.epochs,
        "loss": round(losses[-1], 5),
    }


def profile_steps(data: gr.Dataset, init: torch.Tensor, args: argparse.Namespace, reps: int = 3) -> dict[str, Any]:
    """Where one training step's time goes, for both implementations (mean of ``reps`` steps)."""
    from torch_geometric.nn.conv.gcn_conv import gcn_norm
    from torch_geometric.nn.models import LightGCN as PygLightGCN

    g = data.train
    device = g.device
    es = g.edges(INTERACTS)
    n_u = es.num_src
    src, dst = es.coo()
    edge_index = torch.stack([torch.cat([src, dst + n_u]), torch.cat([dst + n_u, src])])
    users, pos = epoch_pairs(g, torch.Generator().manual_seed(0))
    neg = UniformNegativeSampler.from_graph(g).sample(users, torch.Generator().manual_seed(1))
    u, i, j = users[: args.batch], pos[: args.batch], neg[: args.batch]

    def timed(fn: Any) -> float:
        fn()
        _sync(device)
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        _sync(device)
        return round((time.perf_counter() - t0) / reps, 4)

    pyg = PygLightGCN(es.num_src + es.num_dst, args.dim, args.layers).to(device)
    ours = LightGCN(g, dim=args.dim, layers=args.layers, seed=args.seed)

    def pyg_step() -> None:
        label_index = torch.stack([torch.cat([u, u]), torch.cat([i + n_u, j + n_u])])
        p, q = pyg(edge_index, label_index).chunk(2)
        pyg.recommendation_loss(p, q, node_id=torch.cat([u, i + n_u, j + n_u]), lambda_reg=args.reg / 2).backward()

    def ours_step() -> None:
        ours.training_loss(u, i, j)[0].backward()

    def pyg_forward() -> None:
        with torch.no_grad():
            pyg.get_embedding(edge_index)

    def ours_forward() -> None:
        with torch.no_grad():
            ours.forward()

    return {
        "method": "profile", "step_seconds": {"graphrec": timed(ours_step), "torch_geometric": timed(pyg_step)},
        "forward_seconds": {"graphrec": timed(ours_forward), "torch_geometric": timed(pyg_forward)},
        "torch_geometric_gcn_norm_seconds_per_layer": timed(lambda: gcn_norm(edge_index, None, es.num_src + es.num_dst, add_self_loops=False)),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="gowalla")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--batch", type=int, default=2048)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--reg", type=float, default=1e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads for both (default: torch's choice)")
    p.add_argument("--skip-pyg", action="store_true", help="time graphrec only")
    p.add_argument("--profile", action="store_true", help="also print a per-step time breakdown")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True)
    args = p.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    data = load_data(args.dataset, args.device)
    env = {"dataset": args.dataset, "device": str(data.device), "threads": torch.get_num_threads(),
           "torch": torch.__version__, "machine": platform.processor() or platform.machine()}
    if data.device.type == "cuda":
        env["gpu"] = torch.cuda.get_device_name(data.device)
    print(json.dumps({"method": "setup", **env, **data.summary()}), flush=True)
    ours, init = run_graphrec(data, args)
    print(json.dumps({**ours, **env}), flush=True)
    if args.profile:
        print(json.dumps(profile_steps(data, init, args)), flush=True)
    if args.skip_pyg:
        return 0
    theirs = run_pyg(data, init, args)
    print(json.dumps({**theirs, **env}), flush=True)
    print(json.dumps({
        "method": "summary", "speedup": round(theirs["epoch_seconds"] / ours["epoch_seconds"], 2),
        "recall@20_diff": round(ours["recall@20"] - theirs["recall@20"], 5), "epochs": args.epochs, **env,
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
