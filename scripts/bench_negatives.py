#!/usr/bin/env python
"""Diagnostic: how often dynamic negative sampling trains on a held-out positive (a false negative).

``lightgcn`` trains on the highest-scored of ``m`` uniform candidates per (user, positive) pair
(``negative_selection='hardest'``). A candidate is never a training positive, but it can be an
item the user likes that training has not seen: on dense data the model's top-scored candidate
is such an item more often than a uniform one. For each ``--data`` dataset and outer seed this
script carves a per-user share of the TRAINING split off (as ``scripts/bench_defaults.py`` does;
the test split is never read), fits ``lightgcn`` at its defaults on the rest, then draws ``m``
uniform candidates for every training pair and reports

``uniform_rate``
    the share of the candidates that are held-out positives,
``hardest_rate``
    the share of the per-pair top-scored candidates that are,

and their ratio. Prints one JSON line per fit.

Usage::

    export GRAPHREC_DATA=../shared/datasets
    python scripts/bench_negatives.py --data ml-100k,lastfm --outer 100 --outer-fraction 0.1
    python scripts/bench_negatives.py --quick      # synthetic data, seconds
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

import graphrec as gr
from graphrec.data.dataset import Dataset
from graphrec.graph.store import INTERACTS
from graphrec.train.sampler import UniformNegativeSampler

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_defaults  # sibling script: the outer carve
import bench_peers  # sibling script: dataset loading

CHUNK = 65_536


def false_negative_rates(model: gr.models.base.EmbeddingRecommender, outer: Dataset, candidates: int,
                         seed: int) -> dict[str, float]:
    """Shares of uniform and of top-scored candidates that are held-out positives of ``outer``."""
    sampler = UniformNegativeSampler.from_graph(outer.train)  # never a training positive
    held_out = UniformNegativeSampler.from_graph(outer.test)  # its is_positive: a held-out pair?
    users, _ = outer.train.edges(INTERACTS).coo()
    user_emb, item_emb = model.embeddings()
    gen = torch.Generator(device=users.device).manual_seed(seed)
    hits_uniform = hits_hardest = 0
    for s in range(0, users.numel(), CHUNK):
        u = users[s : s + CHUNK]
        cand = sampler.sample(u.repeat_interleave(candidates), gen).view(-1, candidates)  # (b, m)
        is_held = held_out.is_positive(u.repeat_interleave(candidates), cand.reshape(-1)).view(-1, candidates)
        scores = torch.einsum("bd,bmd->bm", user_emb[u], item_emb[cand])
        hits_uniform += int(is_held.sum())
        hits_hardest += int(is_held.gather(1, scores.argmax(1, keepdim=True)).sum())
    pairs = users.numel()
    uniform, hardest = hits_uniform / (pairs * candidates), hits_hardest / pairs
    return {"pairs": pairs, "uniform_rate": round(uniform, 5), "hardest_rate": round(hardest, 5),
            "ratio": round(hardest / uniform, 2) if uniform > 0 else None}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="ml-100k,lastfm")
    p.add_argument("--outer", default="100", help="outer carve seeds")
    p.add_argument("--outer-fraction", type=float, default=0.1, help="share of each user's training items held out")
    p.add_argument("--params", type=json.loads, default={}, help="JSON object of lightgcn parameters")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="synthetic data, short training")
    args = p.parse_args(argv)
    if not isinstance(args.params, dict):
        p.error("--params must be a JSON object")
    torch.set_num_threads(args.threads)
    names = ["synthetic"] if args.quick else [s.strip() for s in args.data.split(",") if s.strip()]
    extra = {"epochs": 10, "dim": 16} if args.quick else {}
    peers = bench_defaults.peer_args(args.threads)
    for name in names:
        data = bench_peers.load_data(name, peers)
        for seed in (int(s) for s in args.outer.split(",")):
            outer = bench_defaults.outer_split(data, seed, args.outer_fraction)
            t0 = time.perf_counter()
            model = gr.models.create("lightgcn", seed=0, **{**extra, **args.params}).fit(outer)
            m = model.params()["negatives"]
            row = {"data": name, "outer": seed, "outer_fraction": args.outer_fraction, "params": args.params,
                   "candidates": m, "best_epoch": model.result.best_epoch,
                   **false_negative_rates(model, outer, m, seed), "seconds": round(time.perf_counter() - t0, 1)}
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
