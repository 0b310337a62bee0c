#!/usr/bin/env python
"""Diagnostic: where in the top-20 tuned ALS and ``lightgcn`` find the held-out items.

On MovieLens-100K ``lightgcn`` is ahead of validation-tuned ALS on Recall@20 and behind on
NDCG@20 (docs/benchmarks.md): both find the held-out items, ALS ranks them higher. For each
``--data`` dataset and outer seed this script carves a per-user share of the TRAINING split off
(as ``scripts/bench_defaults.py`` does; the test split is never read), fits tuned ALS (its grid
chosen on a further carve, as in ``scripts/bench_peers.py``) and ``lightgcn`` at its defaults
(or ``--lightgcn-params``) on the rest, and reports for each

``ndcg@20``, ``recall@20``
    on the held-out carve (:func:`graphrec.evaluate`'s protocol, seen items excluded),
``hits_1_5``, ``hits_6_20``
    the share of list slots at ranks 1–5 and 6–20 that hold a held-out item,
``top20_pop``
    the mean training degree of the listed items.

``--bonus`` re-ranks each model's lists with a popularity prior,
``score + b * std(score) * log(1 + degree)``: whether the gap at the top is a popularity
calibration the prior can fix. Prints one JSON line per (model, bonus).

Usage::

    export GRAPHREC_DATA=../shared/datasets
    python scripts/bench_rank_profile.py --data ml-100k --outer 100 --outer-fraction 0.1 --bonus 0,0.1,0.2,0.4
    python scripts/bench_rank_profile.py --quick      # synthetic data, no ALS, seconds
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

import graphrec as gr
from graphrec.data.dataset import Dataset
from graphrec.graph.store import INTERACTS

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_defaults  # sibling script: the outer carve and tuned ALS
import bench_peers  # sibling script: dataset loading

K = 20
CHUNK = 4096


def rank_profile(model: Any, outer: Dataset, bonus: float = 0.0) -> dict[str, float]:
    """NDCG@20, Recall@20, hit shares at ranks 1–5 / 6–20 and list popularity of ``model`` on ``outer.test``."""
    train, held = outer.train.edges(INTERACTS), outer.test.edges(INTERACTS)
    n_items = train.num_dst
    degree = outer.train.degree(INTERACTS, side="dst").to(torch.float64)
    prior = torch.log1p(degree)
    user_emb, item_emb = model.embeddings()
    discount = 1.0 / torch.log2(torch.arange(2, K + 2, dtype=torch.float64))
    n_held = (held.indptr[1:] - held.indptr[:-1]).cpu()
    users = torch.nonzero(n_held > 0).squeeze(1)
    ndcg = recall = 0.0
    slot_hits = torch.zeros(K, dtype=torch.float64)
    pop = 0.0
    for s in range(0, users.numel(), CHUNK):
        u = users[s : s + CHUNK]
        scores = (user_emb[u].to(torch.float64) @ item_emb.T.to(torch.float64)).cpu()
        if bonus:
            scores += bonus * scores.std(dim=1, keepdim=True) * prior[None, :]
        rows, cols = _rows(train, u)
        scores[rows, cols] = -torch.inf  # seen items are never listed
        top = scores.topk(min(K, n_items), dim=1).indices  # (b, K)
        rows, cols = _rows(held, u)
        relevant = torch.zeros(u.numel(), n_items, dtype=torch.bool)
        relevant[rows, cols] = True
        hits = relevant.gather(1, top).to(torch.float64)  # (b, K)
        n = n_held[u].to(torch.float64)
        ideal = torch.cumsum(discount, 0)[(n.clamp(max=K) - 1).long()]
        ndcg += float(((hits * discount).sum(1) / ideal).sum())
        recall += float((hits.sum(1) / n).sum())
        slot_hits += hits.sum(0)
        pop += float(degree[top].mean(1).sum())
    m = users.numel()
    return {"ndcg@20": ndcg / m, "recall@20": recall / m, "hits_1_5": float(slot_hits[:5].mean()) / m,
            "hits_6_20": float(slot_hits[5:].mean()) / m, "top20_pop": pop / m}


def _rows(edges: Any, users: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(row within ``users``, item) of every edge of ``users`` in a CSR edge set."""
    indptr, indices = edges.indptr.cpu(), edges.indices.cpu()
    starts, ends = indptr[users], indptr[users + 1]
    counts = ends - starts
    rows = torch.repeat_interleave(torch.arange(users.numel()), counts)
    offsets = torch.arange(int(counts.sum())) - torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)
    return rows, indices[torch.repeat_interleave(starts, counts) + offsets].long()


def main(argv: list[str] | None = None) -> int:
    p = bench_defaults.carve_parser(__doc__.splitlines()[0], data="ml-100k", outer="100", outer_fraction=0.1,
                                    quick="synthetic data, short training, no ALS")
    p.add_argument("--bonus", default="0", help="popularity-prior weights to re-rank with, e.g. 0,0.1,0.2")
    p.add_argument("--lightgcn-params", default="{}", help="JSON dict of lightgcn parameters")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    bonuses = [float(b) for b in args.bonus.split(",")]
    params = json.loads(args.lightgcn_params)
    names = ["synthetic"] if args.quick else [s.strip() for s in args.data.split(",") if s.strip()]
    if args.quick:
        params = {"epochs": 10, "eval_every": 5, "dim": 16, "reg": 2e-3, **params}
    peers = bench_defaults.peer_args(args.threads)
    for name in names:
        data = bench_peers.load_data(name, peers)
        for seed in (int(s) for s in args.outer.split(",")):
            outer = bench_defaults.outer_split(data, seed, args.outer_fraction)
            models: dict[str, tuple[Any, Any]] = {}
            if args.als and not args.quick:
                with tqdm(total=len(peers.als_reg) * len(peers.als_alpha), desc="ALS grid", unit="fit", leave=False) as bar:
                    models["als_tuned"] = bench_defaults.tuned_als(outer, peers, bar)
            lightgcn = gr.models.create("lightgcn", seed=0, **params).fit(outer)
            models["lightgcn"] = (lightgcn, params)
            for model_name, (model, chosen) in models.items():
                for b in bonuses:
                    row = {"data": name, "outer": seed, "model": model_name, "params": chosen, "bonus": b,
                           **{k: round(v, 5) for k, v in rank_profile(model, outer, b).items()}}
                    print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
