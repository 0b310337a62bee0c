#!/usr/bin/env python
"""Node embeddings: FastRP against DeepWalk on BlogCatalog, link prediction, cold-start users.

Parts (``--parts``, default all), JSON lines, one per method and task, then a ``summary``:

``nodes``
    BlogCatalog multi-label node classification, DeepWalk's protocol
    (:func:`graphrec.embed.node_classification`: one-vs-rest logistic regression, C = 1, each
    test node predicted its top-|labels|), ``--labelled`` (10%) of the nodes labelled,
    ``--shuffles`` (5) seeded shuffles; micro/macro-F1 mean and spread, embedding seconds.

    - ``fastrp_authors``: the authors' setting (dim 512, weights 1, 1, 7.81, 45.28, β −0.628).
    - ``fastrp_tuned``: dim 512, weights and β chosen per shuffle by
      :func:`graphrec.embed.tune.tune_fastrp` on 30% validation parts of *that shuffle's
      labelled nodes* (``--tune-repeats`` random parts averaged, default 1; the test nodes are never
      read); ``tune_seconds`` apart.
    - ``deepwalk``: walks from :mod:`graphrec.walks` (``--walks`` 10 per node × ``--walk-length``
      80 steps, uniform) and gensim's skip-gram Word2Vec with hierarchical softmax (DeepWalk's
      choice; window 10, dim 128, one epoch, ``--threads`` workers). Its seconds include the
      walks and turning them into token lists.

    FastRP's seconds are the median of ``--repeats`` runs (the machine is shared; every run is
    listed), DeepWalk's one run; all with ``--threads`` threads (default 1, for both). Each
    line has wall ``seconds`` and ``cpu_seconds`` (the process's CPU time, all threads); the
    summary's speed-up is the CPU-time ratio, which other jobs on a shared machine do not
    distort (the wall ratio is given too).
``links``
    BlogCatalog link prediction: 10% of the undirected edges held out (seeded), embeddings of
    the rest, ROC AUC of held-out pairs against as many sampled non-edges; FastRP with the
    authors' setting and with weights/β tuned on a further 10% carve of the remaining edges.
``defaults`` (only when named)
    How the ``fastrp`` recommender's defaults were chosen: on a 10% validation carve of the
    training interactions (seed 0; test never read) of ``--defaults-data`` (synthetic,
    ml-100k, lastfm), Recall@20 / NDCG@20 of the candidates in ``DEFAULT_CANDIDATES``.
``cold``
    Cold-start users (:func:`graphrec.eval.cold_start_split`, 10% of the users held out
    entirely, their first 5 interactions revealed after the fit): ``fastrp`` (re-embeds
    through ``update()``; with ``trust=True`` on LastFM too) against ``mostpop``, Recall@20 /
    NDCG@20 over the held-out users, on each of ``--cold-data`` (default ``lastfm,gowalla``).

Usage::

    export GRAPHREC_DATA=../shared/datasets
    pip install gensim                      # the bench extra
    nice -n 10 python scripts/bench_embed.py              # all parts (~10 min on 2 cores)
    python scripts/bench_embed.py --parts nodes --shuffles 1 --no-tune    # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from typing import Any

import numpy as np
import torch

import graphrec as gr
from graphrec.checks import derived_seed
from graphrec.embed import AUTHORS_BETA, AUTHORS_WEIGHTS, fastrp, link_auc, node_classification
from graphrec.embed.evaluate import label_split
from graphrec.embed.tune import holdout_edges, negative_pairs, tune_fastrp
from graphrec.eval import cold_start_split, evaluate_cold_start
from graphrec.walks import Move, WalkEngine


def emit(line: dict[str, Any]) -> None:
    print(json.dumps(line), flush=True)


#: CPU seconds (all threads of this process) of the last :func:`timed` call's runs
LAST_CPU: list[float] = []


def timed(fn: Any, repeats: int) -> tuple[Any, float, list[float]]:
    """``fn()``'s result, the median wall seconds over ``repeats`` runs, and every run's seconds.

    The CPU seconds of each run (``time.process_time``: every thread of this process) go to
    :data:`LAST_CPU`: on a shared machine they are what the method itself cost.
    """
    times, cpu, out = [], [], None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    LAST_CPU[:] = cpu
    return out, statistics.median(times), [round(t, 3) for t in times]


def cpu_fields() -> dict[str, Any]:
    return {"cpu_seconds": round(statistics.median(LAST_CPU), 3), "cpu_seconds_each": [round(c, 3) for c in LAST_CPU]}


def deepwalk(g: gr.Graph, *, walks: int, length: int, dim: int, window: int, threads: int, seed: int) -> torch.Tensor:
    """DeepWalk: uniform walks from the one walk engine, skip-gram with hierarchical softmax."""
    from gensim.models import Word2Vec  # the bench extra

    eng = WalkEngine(g, [Move(g.edge_types[0])])
    n = eng.num_nodes
    res = eng.walk(torch.arange(n).repeat(walks), length=length, record="paths", seed=seed)
    tokens = res.paths.numpy().astype(str).tolist()
    model = Word2Vec(tokens, vector_size=dim, window=window, min_count=0, sg=1, hs=1, negative=0,
                     workers=threads, epochs=1, seed=seed)
    return torch.from_numpy(np.stack([model.wv[str(i)] for i in range(n)]))


def classify(emb: torch.Tensor, y: torch.Tensor, splits: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, Any]:
    res = [node_classification(emb, y, a, b) for a, b in splits]
    mi, ma = [r["micro_f1"] for r in res], [r["macro_f1"] for r in res]
    return {"micro_f1": round(float(np.mean(mi)), 4), "macro_f1": round(float(np.mean(ma)), 4),
            "micro_f1_std": round(float(np.std(mi)), 4), "macro_f1_std": round(float(np.std(ma)), 4),
            "micro_f1_each": [round(x, 4) for x in mi]}


def part_nodes(args: argparse.Namespace, summary: dict[str, Any]) -> None:
    g = gr.datasets.load("blogcatalog")
    y = g.node_attrs["node"]["labels"]
    n = y.shape[0]
    splits = [label_split(n, args.labelled, derived_seed(args.seed + r)) for r in range(args.shuffles)]
    base = {"task": "node_classification", "dataset": "blogcatalog", "labelled": args.labelled, "shuffles": args.shuffles}

    emb, secs, runs = timed(lambda: fastrp(g, dim=512, weights=AUTHORS_WEIGHTS, beta=AUTHORS_BETA, seed=args.seed), args.repeats)
    line = {**base, "method": "fastrp_authors", "seconds": round(secs, 3), "seconds_each": runs, **cpu_fields(),
            "params": {"dim": 512, "weights": list(AUTHORS_WEIGHTS), "beta": AUTHORS_BETA}, **classify(emb, y, splits)}
    emit(line)
    summary["fastrp_authors"] = line

    if not args.no_tune:
        res, chosen, tune_s, emb_s, emb_cpu = [], [], [], [], []
        for r, (a, b) in enumerate(splits):
            t0 = time.perf_counter()
            tr = tune_fastrp(g, labels=y, labelled=a, dim=512, seed=args.seed, repeats=args.tune_repeats,
                            progress=args.progress)
            tune_s.append(time.perf_counter() - t0)
            e, s_med, _ = timed(lambda tr=tr: fastrp(g, dim=512, weights=tr.weights, beta=tr.beta, seed=args.seed), args.repeats)
            emb_s.append(s_med)
            emb_cpu.append(statistics.median(LAST_CPU))
            res.append(classify(e, y, [(a, b)]))
            chosen.append({"shuffle": r, **tr.params(), "valid_micro_f1": round(tr.score, 4)})
        mi = [x["micro_f1"] for x in res]
        ma = [x["macro_f1"] for x in res]
        line = {**base, "method": "fastrp_tuned", "seconds": round(statistics.median(emb_s), 3),
                "cpu_seconds": round(statistics.median(emb_cpu), 3),
                "tune_seconds": round(float(np.mean(tune_s)), 1), "micro_f1": round(float(np.mean(mi)), 4),
                "macro_f1": round(float(np.mean(ma)), 4), "micro_f1_std": round(float(np.std(mi)), 4),
                "micro_f1_each": mi, "chosen": chosen}
        emit(line)
        summary["fastrp_tuned"] = line

    if not args.no_deepwalk:
        emb, secs, _ = timed(lambda: deepwalk(g, walks=args.walks, length=args.walk_length, dim=128, window=10,
                                              threads=args.threads, seed=args.seed), 1)
        line = {**base, "method": "deepwalk", "seconds": round(secs, 3), **cpu_fields(),
                "params": {"walks": args.walks, "length": args.walk_length, "dim": 128, "window": 10, "sg": 1, "hs": 1,
                           "workers": args.threads}, **classify(emb, y, splits)}
        emit(line)
        summary["deepwalk"] = line


def part_links(args: argparse.Namespace, summary: dict[str, Any]) -> None:
    g = gr.datasets.load("blogcatalog")
    et = g.edge_types[0]
    rest, held = holdout_edges(g, et, 0.1, args.seed)
    neg = negative_pairs(g, et, held.shape[1], derived_seed(args.seed + 7), 0)
    base = {"task": "link_prediction", "dataset": "blogcatalog", "held_out": 0.1, "pairs": int(held.shape[1])}
    emb, secs, _ = timed(lambda: fastrp(rest, dim=512, seed=args.seed), args.repeats)
    line = {**base, "method": "fastrp_authors", "seconds": round(secs, 3), "auc": round(link_auc(emb, held, neg), 4)}
    emit(line)
    summary["links_fastrp_authors"] = line
    if not args.no_tune:
        t0 = time.perf_counter()
        tr = tune_fastrp(rest, task="links", valid_share=0.1, dim=512, seed=args.seed, progress=args.progress)
        tune_s = time.perf_counter() - t0
        emb, secs, _ = timed(lambda: fastrp(rest, dim=512, weights=tr.weights, beta=tr.beta, seed=args.seed), args.repeats)
        line = {**base, "method": "fastrp_tuned", "seconds": round(secs, 3), "tune_seconds": round(tune_s, 1),
                "auc": round(link_auc(emb, held, neg), 4), "chosen": tr.params(), "valid_auc": round(tr.score, 4)}
        emit(line)
        summary["links_fastrp_tuned"] = line


#: candidates for the fastrp recommender's defaults; the dot-product one is the chosen default
DEFAULT_CANDIDATES: list[dict[str, Any]] = [
    {"dim": 512, "weights": list(AUTHORS_WEIGHTS), "similarity": "cosine"},
    {"dim": 128, "weights": [1.0, 1.0, 1.0, 1.0], "similarity": "cosine"},
    {"dim": 512, "weights": [1.0, 1.0, 0.0, 0.0], "similarity": "cosine"},
    {"dim": 512, "weights": [1.0, 1.0, 1.0, 1.0], "beta": 0.0, "similarity": "cosine"},
    {"dim": 512, "weights": [1.0, 1.0, 1.0, 1.0], "similarity": "dot"},
    {"dim": 512, "weights": [1.0, 1.0, 1.0, 1.0], "trust": True, "similarity": "cosine"},
    {"dim": 512, "weights": [1.0, 1.0, 1.0, 1.0], "similarity": "cosine"},
]


def part_defaults(args: argparse.Namespace, summary: dict[str, Any]) -> None:
    for name in [d for d in args.defaults_data.split(",") if d]:
        data = gr.datasets.load(name, valid_fraction=0.1, valid_seed=0)
        for params in DEFAULT_CANDIDATES:
            if params.get("trust") and not data.train.has_edge_type(gr.TRUSTS):
                continue
            model = gr.models.create("fastrp", **params)
            t0 = time.perf_counter()
            model.fit(data.train)
            secs = time.perf_counter() - t0
            rep = gr.evaluate(model, data, k=[20], split="valid")
            emit({"task": "fastrp_defaults", "dataset": name, "split": "valid", "params": model.params(),
                  "recall@20": round(rep["recall@20"], 4), "ndcg@20": round(rep["ndcg@20"], 4), "fit_seconds": round(secs, 2)})


def part_cold(args: argparse.Namespace, summary: dict[str, Any]) -> None:
    for name in [d for d in args.cold_data.split(",") if d]:
        data = gr.datasets.load(name)
        sp = cold_start_split(data, 0.1, seed=args.seed, keep_first=5)
        models = [("mostpop", {}), ("fastrp", {})]
        if data.train.has_edge_type(gr.TRUSTS):
            models.append(("fastrp", {"trust": True}))
        for mname, params in models:
            t0 = time.perf_counter()
            rep = evaluate_cold_start(gr.models.create(mname, **params), sp, k=[20])
            line = {"task": "cold_start", "dataset": name, "method": mname, "params": params, "users": len(rep.users),
                    "keep_first": 5, "recall@20": round(rep["recall@20"], 4), "ndcg@20": round(rep["ndcg@20"], 4),
                    "answered_by": rep.info["answered_by"], "fit_seconds": round(rep.info["fit_seconds"], 2),
                    "update_seconds": round(rep.info["update_seconds"], 2), "seconds": round(time.perf_counter() - t0, 2)}
            emit(line)
            summary.setdefault("cold", []).append(line)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--parts", default="nodes,links,cold", help="comma-separated: nodes, links, cold, defaults")
    p.add_argument("--labelled", type=float, default=0.1)
    p.add_argument("--shuffles", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3, help="timed FastRP runs (the median is reported)")
    p.add_argument("--walks", type=int, default=10)
    p.add_argument("--walk-length", type=int, default=80)
    p.add_argument("--threads", type=int, default=1, help="torch threads and Word2Vec workers (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cold-data", default="lastfm,gowalla")
    p.add_argument("--defaults-data", default="synthetic,ml-100k,lastfm")
    p.add_argument("--tune-repeats", type=int, default=1, help="validation splits of the labelled nodes per candidate")
    p.add_argument("--no-tune", action="store_true")
    p.add_argument("--no-deepwalk", action="store_true")
    p.add_argument("--progress", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    parts = [x for x in args.parts.split(",") if x]
    emit({"setup": vars(args), "machine": platform.machine(), "cpus": os.cpu_count(), "torch": torch.__version__,
          "date": time.strftime("%Y-%m-%d")})
    summary: dict[str, Any] = {}
    t0 = time.perf_counter()
    for part, fn in (("nodes", part_nodes), ("links", part_links), ("cold", part_cold), ("defaults", part_defaults)):
        if part in parts:
            fn(args, summary)
    out: dict[str, Any] = {"summary": True, "seconds": round(time.perf_counter() - t0, 1)}
    dw = summary.get("deepwalk")
    for key in ("fastrp_authors", "fastrp_tuned"):
        if dw and key in summary:
            f = summary[key]
            gap = round(dw["micro_f1"] - f["micro_f1"], 4)
            speed = round(dw["cpu_seconds"] / max(f["cpu_seconds"], 1e-9), 1)
            wall = round(dw["seconds"] / max(f["seconds"], 1e-9), 1)
            out[key] = {"micro_f1": f["micro_f1"], "deepwalk_micro_f1": dw["micro_f1"], "gap": gap, "speedup_cpu": speed,
                        "speedup_wall": wall, "within_0.02": gap <= 0.02, "faster_50x": speed >= 50}
    if "cold" in summary:
        by = {}
        for line in summary["cold"]:
            by.setdefault(line["dataset"], {})[line["method"] + ("_trust" if line["params"].get("trust") else "")] = line["recall@20"]
        out["cold_start_recall@20"] = {d: {**v, "fastrp_beats_mostpop": v["fastrp"] > v["mostpop"]} for d, v in by.items()}
    emit(out)


if __name__ == "__main__":
    main()
