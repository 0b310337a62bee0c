"""Personalized PageRank on Gowalla: PowerWalk vs batched exact power iteration vs igraph.

The user–item training graph is seen as one undirected graph (users then items as nodes;
Gowalla: 70,839 nodes, 1,620,256 directed edges). ``--sources`` random users (seeded) are the
queries, restart probability ``--alpha`` (c = 0.15). Prints one JSON line per method:

- ``exact``: batched power iteration (``graphrec.rank.power_iteration``, all sources in one
  sparse ``P^T @ X`` per iteration, tolerance ``--exact-tol``); it is the reference.
- ``powerwalk``: the PowerWalk index (``graphrec.rank.build_index``: walk fingerprints plus
  the walk's spectral tail) and its default batched query: ``--rounds`` (default 4) exact
  decomposition levels from the sources, then the spectral tail.
- ``powerwalk_fingerprint``: the same index queried the fast way, one decomposition round
  over the top-M fingerprints, their truncated mass spread over the degree background;
  ``powerwalk_fingerprint_no_background``: without that background.
- ``igraph``: ``Graph.personalized_pagerank`` (PRPACK, damping ``1 - c``, one source at a
  time via ``reset_vertices``), timed over ``--igraph-sources`` sources and extrapolated.
- ``exact_truncated_T`` (``--truncated``): power iteration stopped after T iterations, the
  cheap end of the exact method, for an honest speed/accuracy comparison.
- ``recall`` (``--recall-users N``): Recall@20 / NDCG@20 of the ``ppr`` and ``powerwalk``
  recommenders (``powerwalk``: default, spectral tail; ``powerwalk_fingerprint``: the
  fingerprint tail without background) on N seeded random test users, all on the same users.

Each line has ``build_seconds``, ``queries_per_second``, ``mean_l1_error`` (full vectors vs
exact, each sums to 1), ``precision_at_20_nodes`` (top-20 over all nodes, the source
included) and ``precision_at_20_items`` (top-20 over the item block only, what a
recommender ranks), and ``index_bytes``. A final ``summary`` line has the speed-ups and the
acceptance checks. All methods run with ``--threads`` torch threads (default 1: igraph's
PRPACK is single-threaded, and the 2-core development machine is shared).

    python scripts/bench_ppr.py [--data gowalla] [--sources 1000] [--truncated 10,20] [--recall-users 3000]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from graphrec.graph import INTERACTS, Graph
from graphrec.rank import build_index, power_iteration
from graphrec.walks import bipartite_engine


def load_graph(name: str) -> tuple[Graph, Any]:
    """The training graph (and the Dataset when the registry can load it)."""
    try:
        import graphrec as gr

        data = gr.datasets.load(name)
        return data.train, data
    except (ImportError, AttributeError):
        root = Path(os.environ.get("GRAPHREC_DATA", "../shared/datasets")) / name / "train.txt"
        users, items = [], []
        with open(root) as f:
            for line in f:
                parts = line.split()
                if len(parts) > 1:
                    its = np.asarray(parts[1:], dtype=np.int64)
                    users.append(np.full(its.size, int(parts[0])))
                    items.append(its)
        u, i = np.concatenate(users), np.concatenate(items)
        g = Graph()
        g.add_node_type("user", int(u.max()) + 1)
        g.add_node_type("item", int(i.max()) + 1)
        g.add_edges(INTERACTS, u, i)
        return g, None


def precision_at(ref: torch.Tensor, est: torch.Tensor, k: int = 20) -> float:
    """Mean overlap of the top-``k`` sets of each row."""
    a = torch.topk(ref, k, dim=1).indices
    b = torch.topk(est, k, dim=1).indices
    return float((a.unsqueeze(2) == b.unsqueeze(1)).any(2).sum(1).double().mean() / k)


def accuracy(ref: torch.Tensor, est: torch.Tensor, item_slice: slice) -> dict[str, float]:
    return {
        "mean_l1_error": round(float((ref - est).abs().sum(1).double().mean()), 5),
        "precision_at_20_nodes": round(precision_at(ref, est), 4),
        "precision_at_20_items": round(precision_at(ref[:, item_slice], est[:, item_slice]), 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="gowalla")
    ap.add_argument("--sources", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--alpha", type=float, default=0.15)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--exact-tol", type=float, default=1e-6)
    ap.add_argument("--walks", type=int, default=64)
    ap.add_argument("--walk-top-m", type=int, default=64)
    ap.add_argument("--top-m", type=int, default=256)
    ap.add_argument("--refine-top-m", type=int, default=128)
    ap.add_argument("--refine", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=None, help="decomposition rounds of the default query (default: 4)")
    ap.add_argument("--spectral-rank", type=int, default=None, help="eigenpairs of the spectral tail (default: 512)")
    ap.add_argument("--igraph-sources", type=int, default=50)
    ap.add_argument("--truncated", default="", help="comma-separated iteration counts, e.g. 10,20")
    ap.add_argument("--recall-users", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=1,
                    help="time every method's queries this many times and report the fastest (default 1: the first, cold run)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    machine = {"machine": platform.machine(), "cpus": os.cpu_count(), "threads": torch.get_num_threads(), "torch": torch.__version__}
    common = {"metric": "ppr", "dataset": args.data, "alpha": args.alpha, "sources": args.sources, "repeats": args.repeats, **machine}
    stages = ["load", "exact", "powerwalk", "igraph"] + [f"truncated {t}" for t in filter(None, args.truncated.split(","))]
    stages += ["recall"] if args.recall_users else []
    bar = tqdm(stages, desc="bench_ppr", unit="stage")

    bar.set_postfix_str("load")
    g, data = load_graph(args.data)
    eng = bipartite_engine(g)
    eng.transition_matrix()
    n_users = g.num_nodes("user")
    rng = np.random.default_rng(args.seed)
    users = torch.from_numpy(np.sort(rng.choice(n_users, size=min(args.sources, n_users), replace=False)))
    src = eng.global_ids("user", users)
    items = eng.type_slice("item")
    print(json.dumps({
        "metric": "graph", "dataset": args.data, "nodes": eng.num_nodes, "directed_edges": eng.transition_matrix()._nnz(),
        "users": n_users, "items": g.num_nodes("item"), **machine,
    }), flush=True)
    bar.update()

    def timed(run):
        """``run()``'s result and its fastest wall time over ``--repeats`` calls (the same rule for every method)."""
        best, out = math.inf, None
        for _ in range(max(1, args.repeats)):
            out = None  # free the previous result before the next call allocates its own
            t0 = time.perf_counter()
            out = run()
            best = min(best, time.perf_counter() - t0)
        return out, best

    # ---------------------------------------------------------------- exact
    bar.set_postfix_str("exact")
    (ref, info), t_exact = timed(lambda: power_iteration(eng, src, alpha=args.alpha, tol=args.exact_tol, max_iter=1000,
                                                         batch_size=src.numel(), return_info=True))
    exact_line = {
        **common, "method": "exact", "build_seconds": 0.0, "query_seconds": round(t_exact, 3),
        "queries_per_second": round(src.numel() / t_exact, 3), "mean_l1_error": 0.0,
        "precision_at_20_nodes": 1.0, "precision_at_20_items": 1.0, "index_bytes": 0,
        "tol": args.exact_tol, "iterations": info["iterations"][0], "last_l1_change": info["change"][0],
    }
    print(json.dumps(exact_line), flush=True)
    bar.update()

    # ------------------------------------------------------------ powerwalk
    bar.set_postfix_str("powerwalk build")
    t0 = time.perf_counter()
    index = build_index(
        eng, alpha=args.alpha, walks=args.walks, top_m=args.top_m, refine=args.refine, walk_top_m=args.walk_top_m,
        refine_top_m=args.refine_top_m, spectral_rank=args.spectral_rank, seed=args.seed, progress=True,
    )
    t_build = time.perf_counter() - t0
    pw_lines = {}
    variants = [
        ("powerwalk", {"tail": "auto", "rounds": args.rounds}),
        ("powerwalk_fingerprint", {"tail": "fingerprint", "rounds": 1, "background": True}),
        ("powerwalk_fingerprint_no_background", {"tail": "fingerprint", "rounds": 1, "background": False}),
    ]
    for method, kw in variants:
        bar.set_postfix_str(f"query {method}")
        est, t_pw = timed(lambda kw=kw: index.query(eng, src, batch_size=src.numel(), **kw))
        line = {
            **common, "method": method, "build_seconds": round(t_build, 3),
            "query_seconds": round(t_pw, 3), "queries_per_second": round(src.numel() / t_pw, 3), **accuracy(ref, est, items),
            "index_bytes": index.nbytes(), "index_nnz": index.nnz, "spectral_rank": index.spectral.rank if index.spectral else 0,
            "walks": args.walks, "walk_top_m": args.walk_top_m, "refine_top_m": args.refine_top_m, "top_m": args.top_m,
            "refine": args.refine, **kw,
        }
        del est
        pw_lines[method] = line
        print(json.dumps(line), flush=True)
    pw_line = pw_lines["powerwalk"]
    bar.update()

    # --------------------------------------------------------------- igraph
    bar.set_postfix_str("igraph")
    import igraph as ig

    t0 = time.perf_counter()
    P = eng.transition_matrix()
    rows = torch.repeat_interleave(torch.arange(eng.num_nodes), P.crow_indices()[1:] - P.crow_indices()[:-1])
    cols = P.col_indices()
    one_way = rows < cols  # the graph is undirected: each edge once
    ig_graph = ig.Graph(n=eng.num_nodes, edges=torch.stack([rows[one_way], cols[one_way]], 1).numpy(), directed=False)
    t_ig_build = time.perf_counter() - t0
    k = min(args.igraph_sources, src.numel())
    vecs, t_ig = timed(lambda: [ig_graph.personalized_pagerank(reset_vertices=[int(s)], damping=1.0 - args.alpha, implementation="prpack")
                                for s in src[:k].tolist()])
    ig_est = torch.tensor(np.asarray(vecs), dtype=torch.float32)
    ig_line = {
        **common, "method": "igraph_prpack", "build_seconds": round(t_ig_build, 3), "query_seconds_measured": round(t_ig, 3),
        "queries_measured": k, "queries_per_second": round(k / t_ig, 3), **accuracy(ref[:k], ig_est, items),
        "index_bytes": 0, "igraph": ig.__version__,
    }
    print(json.dumps(ig_line), flush=True)
    bar.update()

    # ------------------------------------------------- truncated power iteration
    trunc_lines = []
    for t in filter(None, args.truncated.split(",")):
        bar.set_postfix_str(f"truncated {t}")
        est, tt = timed(lambda t=t: power_iteration(eng, src, alpha=args.alpha, tol=1e-30, max_iter=int(t), batch_size=src.numel()))
        line = {
            **common, "method": f"exact_truncated_{t}", "build_seconds": 0.0, "query_seconds": round(tt, 3),
            "queries_per_second": round(src.numel() / tt, 3), **accuracy(ref, est, items), "index_bytes": 0, "iterations": int(t),
        }
        del est
        trunc_lines.append(line)
        print(json.dumps(line), flush=True)
        bar.update()

    # ------------------------------------------------------------ summary
    summary = {
        "metric": "ppr_summary", "dataset": args.data, "sources": int(src.numel()),
        "powerwalk_vs_igraph_speedup": round(pw_line["queries_per_second"] / ig_line["queries_per_second"], 2),
        "powerwalk_vs_exact_speedup": round(pw_line["queries_per_second"] / exact_line["queries_per_second"], 2),
        "accept_precision_nodes_ge_0.95": pw_line["precision_at_20_nodes"] >= 0.95,
        "accept_precision_items_ge_0.95": pw_line["precision_at_20_items"] >= 0.95,
        "accept_l1_le_0.05": pw_line["mean_l1_error"] <= 0.05,
        "accept_speed_ge_100x_igraph": pw_line["queries_per_second"] >= 100 * ig_line["queries_per_second"],
        "accept_speed_ge_5x_exact": pw_line["queries_per_second"] >= 5 * exact_line["queries_per_second"],
        "accept_build_lt_60s": pw_line["build_seconds"] < 60,
        **machine,
    }
    for line in trunc_lines:
        summary[f"powerwalk_vs_{line['method']}_speedup"] = round(pw_line["queries_per_second"] / line["queries_per_second"], 2)
    print(json.dumps(summary), flush=True)

    # ---------------------------------------------------------- recommenders
    if args.recall_users:
        bar.set_postfix_str("recall")
        if data is None:
            raise SystemExit("--recall-users needs graphrec.datasets.load for the test split")
        from graphrec.eval import evaluate
        from graphrec.models import create

        test_users = torch.nonzero(data.test.edges(INTERACTS).degree("src") > 0).squeeze(1).numpy()
        pick = np.sort(np.random.default_rng(args.seed + 1).choice(test_users, size=min(args.recall_users, test_users.size), replace=False))
        out: dict[str, Any] = {"metric": "ppr_recall", "dataset": args.data, "users": int(pick.size), "alpha": args.alpha, **machine}
        pw_params = {
            "alpha": args.alpha, "walks": args.walks, "top_m": args.top_m, "walk_top_m": args.walk_top_m,
            "refine_top_m": args.refine_top_m, "refine": args.refine, "rounds": args.rounds,
            "spectral_rank": args.spectral_rank, "seed": args.seed,
        }
        for name, params in (("ppr", {"alpha": args.alpha}), ("powerwalk", pw_params)):
            model = create(name, **params)
            t0 = time.perf_counter()
            model.fit(data)
            fit_s = time.perf_counter() - t0
            tails = [(name, None)] if name == "ppr" else [("powerwalk", "auto"), ("powerwalk_fingerprint", "fingerprint")]
            for key, tail in tails:
                if tail is not None:
                    model.tail, model.rounds = tail, (None if tail == "auto" else 1)
                rep = evaluate(model, data, k=[20], users=pick, batch_size=1000)
                out[key] = {
                    "recall@20": round(rep["recall@20"], 5), "ndcg@20": round(rep["ndcg@20"], 5),
                    "fit_seconds": round(fit_s, 2), "eval_seconds": round(rep.seconds, 2), "params": model.params(),
                }
        out["relative_recall_gap_fingerprint"] = round(
            (out["powerwalk_fingerprint"]["recall@20"] - out["ppr"]["recall@20"]) / out["ppr"]["recall@20"], 5
        )
        out["relative_recall_gap"] = round((out["powerwalk"]["recall@20"] - out["ppr"]["recall@20"]) / out["ppr"]["recall@20"], 5)
        out["accept_recall_within_2pct"] = abs(out["relative_recall_gap"]) <= 0.02
        print(json.dumps(out), flush=True)
        bar.update()
    bar.close()


if __name__ == "__main__":
    main()
