#!/usr/bin/env python
"""GraphHash: Leiden-clustered embedding tables against hashing baselines at a row budget.

Wu et al., "Graph-based hashing for recommendation embeddings", WWW 2025 (issue 19). For each
``--data`` dataset this prints JSON lines:

``clustering`` (one per budget, modularity kind and method)
    The clustering a ``graph`` table at that budget uses: the Leiden resolution search of
    :func:`graphrec.cluster.resolution_for_budget` (``count='rows'``, the table's rows as the
    target; once per ``--n-iterations`` value), ``cold_seconds`` (one run at the resolution
    found, building the igraph graph first), then ``--repeats`` rounds in which the peer and
    each Leiden run once more in turn, on inputs built once (``seconds``: each one's fastest;
    ``search_seconds``: the whole search). The peer is scikit-network's bipartite Louvain
    (``Louvain(...).fit(biadjacency, force_bipartite=True)``, the clustering of the GraphHash
    authors' code), its resolution searched the same way to a comparable number of per-type
    clusters; its line has ``leiden_speedup`` (its fastest over Leiden's) and the per-round
    ratios. Both run with the bipartite objective (Leiden: Barber's modularity; Louvain:
    ``modularity='dugue'``) and the standard one (Newman's; ``'newman'``); every result is
    scored with both modularities (``q_bipartite``, ``q_standard``) by
    :func:`graphrec.cluster.modularity`.
``fit`` (one per backbone x table x budget, plus ``full``)
    Recall@20 / NDCG@20 on the test split, ``num_parameters``, ``table_rows``,
    ``table_bytes``, the clustering seconds and modularity of cluster tables, the validation
    choice. The learning rate (``--lr-mf`` / ``--lr-lightgcn``, lists) and the L2 weight
    (``--reg-mf`` / ``--reg-lightgcn``, lists) are chosen per table and budget on a
    validation carve of the training split (``reg`` by the models' own selection, ``lr`` by
    the best validation NDCG@20 over the ``lr`` fits), never on test.
``summary`` (one per dataset and backbone)
    Per budget: each table's Recall@20 and the ratios the issue's acceptance asks for
    (``graph / random``, ``graph / best of frequency, double, double_frequency``,
    ``double_graph / full`` and the same for ``double_graph_split`` and ``graph_frequency``).

Usage::

    export GRAPHREC_DATA=../shared/datasets
    python scripts/bench_graphhash.py --data lastfm,ml-100k
    python scripts/bench_graphhash.py --data gowalla --backbones mf --budgets 0.25 --tables graph,random,frequency,double,double_frequency
    python scripts/bench_graphhash.py --data gowalla --no-fits        # the clustering comparison only
    python scripts/bench_graphhash.py --quick                         # synthetic data, about a minute

The peer needs the ``bench`` extra (``scikit-network``); ``--no-peer`` skips it. Runs with
``--threads`` torch threads (default 1; the development machine is shared).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

import graphrec as gr
from graphrec.cluster import (
    bisect_resolution,
    clear_cache,
    leiden,
    modularity,
    resolution_for_budget,
)
from graphrec.models.embedding import table_summary
from graphrec.models.hashing import budget_rows

TABLES = ("full", "random", "double", "frequency", "double_frequency", "graph", "double_graph", "double_graph_split", "graph_frequency")
BASELINES = ("frequency", "double", "double_frequency")


def floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def both_modularities(graph: gr.Graph, membership: dict[str, torch.Tensor]) -> dict[str, float]:
    return {f"q_{k}": round(modularity(graph, membership, kind=k), 5) for k in ("bipartite", "standard")}


def per_type_rows(labels_row: np.ndarray, labels_col: np.ndarray) -> int:
    return int(np.unique(labels_row).size + np.unique(labels_col).size)


def sknetwork_louvain(graph: gr.Graph, target: int, kind: str, seed: int) -> tuple[dict[str, Any], Callable[[], None]]:
    """scikit-network's bipartite Louvain at the resolution giving about ``target`` per-type clusters:
    the search's result line and a callable that runs it once more at that resolution (to time)."""
    import scipy.sparse as sp
    from sknetwork.clustering import Louvain

    es = graph.edges(gr.INTERACTS)
    s, d = (x.cpu().numpy() for x in es.coo())
    biadj = sp.csr_matrix((np.ones(s.size), (s, d)), shape=(es.num_src, es.num_dst))
    biadj.data[:] = 1.0  # distinct pairs, as the Leiden side clusters them
    mod = "dugue" if kind == "bipartite" else "newman"

    def run(gamma: float) -> tuple[int, tuple[np.ndarray, np.ndarray]]:
        lv = Louvain(resolution=gamma, modularity=mod, random_state=seed)
        lv.fit(biadj, force_bipartite=True)
        return per_type_rows(lv.labels_row_, lv.labels_col_), (lv.labels_row_, lv.labels_col_)

    t0 = time.perf_counter()
    gamma, rows, (lr, lc), steps = bisect_resolution(run, target, max_steps=12, tol=0.01)
    search = time.perf_counter() - t0
    # cluster ids are shared between the rows (users) and the columns (items), as in Leiden's membership
    membership = {"user": torch.from_numpy(lr.astype(np.int64)), "item": torch.from_numpy(lc.astype(np.int64))}
    line = {"method": "sknetwork_louvain", "objective": mod, "resolution": round(gamma, 4), "rows": rows, "steps": steps,
            "search_seconds": round(search, 2), **both_modularities(graph, membership)}
    def again() -> None:
        run(gamma)

    return line, again


def leiden_clustering(graph: gr.Graph, target: int, kind: str, seed: int, n_iterations: int = 2) -> tuple[dict[str, Any], Callable[[], None]]:
    """Leiden's resolution search: its result line, with ``cold_seconds`` (one run at the
    resolution found that first builds the igraph graph), and a callable that runs it again on
    the graph built once per store (as Louvain's runs reuse their scipy matrix)."""
    clear_cache(graph)
    c = resolution_for_budget(graph, target, count="rows", modularity_kind=kind, seed=seed, max_steps=12, tol=0.01,
                              n_iterations=n_iterations)
    clear_cache(graph)

    def run() -> None:
        leiden(graph, resolution=c.resolution, modularity_kind=kind, seed=seed, n_iterations=n_iterations)

    t0 = time.perf_counter()
    run()
    line = {"method": "leiden_igraph", "objective": kind, "n_iterations": n_iterations, "resolution": round(c.resolution, 4),
            "rows": c.num_rows, "clusters": c.num_clusters, "steps": c.steps, "cold_seconds": round(time.perf_counter() - t0, 3),
            "search_seconds": round(c.seconds, 2), **both_modularities(graph, c.membership)}
    return line, run


def compare_clusterings(graph: gr.Graph, name: str, budget: float, kind: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Leiden (each ``--n-iterations``) and, with ``--peer``, Louvain at the same target: searched
    first, then timed in alternation, ``--repeats`` rounds; ``seconds`` is each one's fastest run."""
    target = sum(budget_rows(budget, graph.num_nodes(t)) for t in ("user", "item"))
    head = {"kind": "clustering", "data": name, "budget": budget, "target_rows": target,
            "nodes": graph.num_nodes("user") + graph.num_nodes("item")}
    found = [leiden_clustering(graph, target, kind, args.seed, int(it)) for it in args.n_iterations.split(",")]
    if args.peer:
        found.append(sknetwork_louvain(graph, target, kind, args.seed))
    secs: list[list[float]] = [[] for _ in found]
    for _ in range(args.repeats):
        for k in ([len(found) - 1] if args.peer else []) + list(range(len(found) - int(args.peer))):  # the peer first
            t0 = time.perf_counter()
            found[k][1]()
            secs[k].append(time.perf_counter() - t0)
    lines = [{**head, **line, "seconds": round(min(t), 3)} for (line, _), t in zip(found, secs)]
    if args.peer:
        peer = lines[-1]
        peer["leiden_speedup"] = {str(x["n_iterations"]): round(peer["seconds"] / max(x["seconds"], 1e-9), 2) for x in lines[:-1]}
        peer["leiden_speedup_per_round"] = {str(x["n_iterations"]): [round(a / b, 2) for a, b in zip(secs[-1], t)]
                                            for x, t in zip(lines[:-1], secs[:-1])}
    return lines


def fit_one(data: gr.Dataset, backbone: str, table: str, budget: float | None, args: argparse.Namespace) -> dict[str, Any]:
    lrs = floats(args.lr_mf if backbone == "mf" else args.lr_lightgcn)
    regs = floats(args.reg_mf if backbone == "mf" else args.reg_lightgcn)
    base: dict[str, Any] = {"dim": args.dim, "epochs": args.epochs_mf if backbone == "mf" else args.epochs_lightgcn,
                            "eval_every": args.eval_every, "patience": args.patience, "refit": args.refit, "seed": args.seed,
                            "reg": regs if len(regs) > 1 else regs[0], "max_minutes": args.max_minutes, "table": table,
                            "budget": budget}
    if backbone == "lightgcn":
        base.update(negatives=args.negatives, negative_selection="hardest" if args.negatives > 1 else "mean")
    t0 = time.perf_counter()
    best: tuple[float, Any, float] | None = None
    tried = []
    for lr in lrs:
        model = gr.models.create(backbone, lr=lr, **base).fit(data)
        valid = max((r["valid_metric"] for r in model.selection), default=model.result.best_metric)
        valid = float("-inf") if math.isnan(valid) else valid  # no validation (patience none): nothing to choose by
        tried.append({"lr": lr, "reg": model.reg, "valid_ndcg@20": round(float(valid), 5) if valid > float("-inf") else None})
        if best is None or valid > best[0]:
            best = (valid, model, lr)
    assert best is not None
    _, model, lr = best
    rep = gr.evaluate(model, data, k=[20])
    info = getattr(model.user_table, "info", {}) or {}
    row: dict[str, Any] = {"kind": "fit", "data": data.name, "backbone": backbone, "table": table, "budget": budget,
                           "recall@20": round(rep["recall@20"], 5), "ndcg@20": round(rep["ndcg@20"], 5),
                           **(table_summary(model) or {}), "lr": lr, "reg": model.reg, "tried": tried,
                           "best_epoch": model.result.best_epoch, "epochs_run": model.result.epochs_run,
                           "stopped_by_time": model.result.stopped_by_time,
                           "epoch_seconds": round(model.result.epoch_seconds, 3), "seconds": round(time.perf_counter() - t0, 1)}
    if info:
        row.update(cluster_seconds=round(info["seconds"], 3), modularity=None if info.get("modularity") is None else round(info["modularity"], 5),
                   resolution=info.get("resolution"), rows_found=info.get("rows_found"))
    return row


def summarise(rows: list[dict[str, Any]], data: str, backbone: str, budgets: list[float]) -> dict[str, Any]:
    rec = {(r["table"], r["budget"]): r["recall@20"] for r in rows if r["data"] == data and r["backbone"] == backbone}
    full = rec.get(("full", None))
    out: dict[str, Any] = {"kind": "summary", "data": data, "backbone": backbone, "full_recall@20": full, "budgets": {}}
    for b in budgets:
        line: dict[str, Any] = {t: rec.get((t, b)) for t in TABLES[1:]}
        g, rnd = line.get("graph"), line.get("random")
        base = [line[t] for t in BASELINES if line.get(t) is not None]
        if g is not None and rnd:
            line["graph_over_random"] = round(g / rnd, 3)
        if g is not None and base:
            line["graph_over_best_baseline"] = round(g / max(base), 3)
        for t in ("double_graph", "double_graph_split", "graph_frequency"):
            if line.get(t) is not None and full:
                line[f"{t}_over_full"] = round(line[t] / full, 3)
        out["budgets"][str(b)] = line
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="lastfm,ml-100k")
    p.add_argument("--backbones", default="mf,lightgcn")
    p.add_argument("--tables", default=",".join(TABLES))
    p.add_argument("--budgets", default="0.5,0.25,0.1,0.05")
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--lr-mf", default="0.005")
    p.add_argument("--lr-lightgcn", default="0.005")
    p.add_argument("--reg-mf", default="0.0001,0.001")
    p.add_argument("--reg-lightgcn", default="0.001,0.003")
    p.add_argument("--negatives", type=int, default=1, help="lightgcn: uniform negatives per pair (>1: BPR on the hardest)")
    p.add_argument("--epochs-mf", type=int, default=100)
    p.add_argument("--epochs-lightgcn", type=int, default=40)
    p.add_argument("--eval-every", type=int, default=5)
    p.add_argument("--patience", type=lambda v: None if v.lower() == "none" else int(v), default=2,
                   help="early-stopping patience; 'none': train every epoch, no validation (one lr and reg only)")
    p.add_argument("--refit", action=argparse.BooleanOptionalAction, default=False,
                   help="refit on the whole training split after early stopping (about 1.5x the time)")
    p.add_argument("--max-minutes", type=float, default=None, help="wall-clock budget of each fit")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=3, help="timed clustering runs (the fastest is reported)")
    p.add_argument("--n-iterations", default="2", help="Leiden iterations in the clustering comparison (a list: each is timed)")
    p.add_argument("--peer", action=argparse.BooleanOptionalAction, default=True, help="time scikit-network's Louvain")
    p.add_argument("--clusters", action=argparse.BooleanOptionalAction, default=True, help="the clustering comparison")
    p.add_argument("--fits", action=argparse.BooleanOptionalAction, default=True, help="the model fits")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="synthetic data, small fits")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.quick:
        args.data, args.dim, args.epochs_mf, args.epochs_lightgcn, args.repeats = "synthetic", 16, 20, 10, 1
        args.budgets, args.reg_mf, args.reg_lightgcn = "0.25,0.05", "0.0001", "0.001"
    names = [s.strip() for s in args.data.split(",") if s.strip()]
    budgets = floats(args.budgets)
    backbones = [s.strip() for s in args.backbones.split(",") if s.strip()]
    tables = [s.strip() for s in args.tables.split(",") if s.strip()]
    print(json.dumps({"setup": "bench_graphhash", "data": names, "backbones": backbones, "tables": tables, "budgets": budgets,
                      "args": {k: v for k, v in vars(args).items() if k not in ("data", "backbones", "tables", "budgets")},
                      "torch": torch.__version__, "machine": platform.machine(), "processor": platform.processor()}), flush=True)
    rows: list[dict[str, Any]] = []
    for name in names:
        data = gr.datasets.load(name)
        g = data.train
        if args.clusters:
            for b in budgets:
                for kind in ("bipartite", "standard"):
                    for line in compare_clusterings(g, name, b, kind, args):
                        print(json.dumps(line), flush=True)
        if not args.fits:
            continue
        jobs = [(bb, t, None if t == "full" else b) for bb in backbones for t in tables for b in ([None] if t == "full" else budgets)]
        for bb, t, b in tqdm(jobs, desc=f"{name} fits", unit="fit"):
            try:
                row = fit_one(data, bb, t, b, args)
            except ValueError as e:  # an impossible budget for this dataset: say so and go on
                row = {"kind": "fit", "data": data.name, "backbone": bb, "table": t, "budget": b, "error": str(e)}
            rows.append(row)
            print(json.dumps(row), flush=True)
        for bb in backbones:
            print(json.dumps(summarise(rows, data.name, bb, budgets)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
