"""IRWE benchmarks: airports role classification (identity) and BlogCatalog link prediction (position).

One JSON line per measurement, peers measured in the same run, one run each:

- ``roles`` (``--task roles``): struc2vec's airports, role labels (activity quartiles),
  logistic regression with its C chosen by inner 4-fold CV on the training folds only,
  5-fold accuracy. Methods: ``irwe`` identity embeddings (fitted on the graph itself),
  ``structural`` (log degree, neighbours' mean/max log degree, clustering coefficient,
  log PageRank), ``deepwalk`` (walks from ``graphrec.walks`` + gensim Word2Vec; the
  ``bench`` extra). Then ``irwe_inductive``: IRWE fitted on USA, Brazil (and Europe when
  present) embedded by ``infer`` without retraining, 5-fold accuracy on that graph, next to
  the transductive figure (IRWE fitted on that graph).
- ``links`` (``--task links``): BlogCatalog, 10% of the undirected edges held out and the
  negative pairs exactly as ``scripts/bench_embed.py`` draws them (``graphrec.embed.tune``);
  AUC of the cosine of two nodes' embeddings (``graphrec.embed.link_auc``). First IRWE's
  link settings are chosen on the validation carve FastRP's link tuning uses
  (:func:`graphrec.embed.tune.link_carve`: 10% of the *remaining* edges, seed ``--seed``; the
  test pairs are never read): a screen of the fixed position input (``steps=0``: the random
  projection of the walk distributions alone) over the width (``rand_dim``,
  ``position_dim``), ``hops``, the degree exponent ``beta`` (FastRP's β grid) and the
  ``hop_weights`` (one coordinate sweep over FastRP's weight grid, ``w_1 = 1``), each
  choice kept only when it raises the validation AUC; then the ``--trained`` best screened
  settings and the earlier ``LINK_PARAMS`` are trained (``steps=200``) on the carve and the
  best validation AUC wins. Every candidate is a ``link_valid`` line. The chosen setting is
  then fitted once on the remaining graph and scored on the test pairs (``irwe``), next to
  ``fastrp_authors`` (dim 512, the authors' weights and β), ``fastrp_tuned`` (weights and β
  from :func:`graphrec.embed.tune.tune_fastrp` on the same carve), ``fastrp_irwe_settings``
  (an ablation: FastRP with IRWE's chosen width, hop weights and β, i.e. IRWE's position
  input without its learned part, with its validation AUC) and ``deepwalk``
  (``--no-deepwalk`` skips it). ``irwe_unseen``: 10% of the nodes lose their
  edges in the training graph, IRWE is fitted on the rest and embeds the full remaining
  graph by ``infer``; AUC over the held-out pairs that touch an unseen node, next to the
  transductive model's AUC on the same pairs.

- ``cold`` (``--task cold``): cold-start users as ``scripts/bench_embed.py`` holds them out
  (10% of the users, 5 interactions revealed), Recall@20 / NDCG@20 of ``irwe`` (embedded
  by ``update()`` without retraining) against ``mostpop`` and ``fastrp``.

- ``defaults`` (``--task defaults``): the ``irwe`` recommender's candidate defaults on a
  cold-start carve of the *training* interactions (test never used).

Everything runs single-threaded (``torch.set_num_threads(1)``; the 2-core machine is shared).

    python scripts/bench_irwe.py --task roles
    python scripts/bench_irwe.py --task links
    python scripts/bench_irwe.py --task cold [--cold-data lastfm]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

import graphrec as gr
from graphrec.checks import derived_seed
from graphrec.embed import AUTHORS_BETA, AUTHORS_WEIGHTS, IRWE, fastrp, link_auc
from graphrec.embed.tune import (
    BETA_GRID,
    holdout_edges,
    link_carve,
    negative_pairs,
    tune_fastrp,
)
from graphrec.graph import Graph

LINKS = ("node", "links", "node")

#: fixed before any test figure was seen (identity: small, for 131-node Brazil's classifier)
ROLE_PARAMS = {"dim": 32, "walks": 128, "attn_walks": 4, "batch": 64, "steps": 200, "identity_weight": 5.0}
LINK_PARAMS = {"dim": 64, "walks": 32, "attn_walks": 4, "batch": 64, "steps": 200, "rand_dim": 256}
#: the link screen's grids (position width, hops); beta and hop weights use FastRP's grids
LINK_WIDTHS = ({"rand_dim": 256, "position_dim": 64}, {"rand_dim": 256, "position_dim": 256},
               {"rand_dim": 512, "position_dim": 128}, {"rand_dim": 512, "position_dim": 512})
LINK_HOPS = (2, 3, 4, 5, 6)
#: FastRP's β grid plus two positive exponents (arrivals at hubs up-weighted)
LINK_BETAS = (*BETA_GRID, 0.2, 0.4)
#: per-hop weights relative to w_1 = 1: FastRP's grid grows with the power; here decaying too
HOP_WEIGHT_GRID = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 16.0)


def emit(row: dict[str, Any]) -> None:
    print(json.dumps(row), flush=True)


# ------------------------------------------------------------------------ peers
def deepwalk(graph: Graph, seed: int = 0) -> np.ndarray:
    """DeepWalk as ``scripts/bench_embed.py`` runs it (10 walks x 80 steps, window 10, dim 128)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_embed import deepwalk as bench_deepwalk

    return bench_deepwalk(graph, walks=10, length=80, dim=128, window=10, threads=1, seed=seed).numpy()


def structural_features(graph: Graph) -> np.ndarray:
    """Log degree, neighbours' mean and max log degree, clustering coefficient, log PageRank."""
    import networkx as nx

    src, dst = graph.edges(LINKS).coo()
    n = graph.num_nodes("node")
    G = nx.Graph()
    G.add_nodes_from(range(n))
    G.add_edges_from((a, b) for a, b in zip(src.tolist(), dst.tolist()) if a != b)
    deg = np.array([G.degree(i) for i in range(n)], dtype=float)
    logd = np.log1p(deg)
    nb_mean = np.array([logd[list(G[i])].mean() if deg[i] else 0.0 for i in range(n)])
    nb_max = np.array([logd[list(G[i])].max() if deg[i] else 0.0 for i in range(n)])
    clus = nx.clustering(G)
    pr = nx.pagerank(G)
    return np.stack([logd, nb_mean, nb_max, [clus[i] for i in range(n)], np.log([pr[i] for i in range(n)])], axis=1)


def role_accuracy(x: np.ndarray, y: np.ndarray, seed: int = 0) -> float:
    """5-fold accuracy of a standardised logistic regression, C by inner CV on training folds."""
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    m = y >= 0
    inner = StratifiedKFold(4, shuffle=True, random_state=seed + 1)
    clf = make_pipeline(StandardScaler(), LogisticRegressionCV(Cs=[0.01, 0.1, 1.0, 10.0], cv=inner, max_iter=5000))
    outer = StratifiedKFold(5, shuffle=True, random_state=seed)
    return float(cross_val_score(clf, x[m], y[m], cv=outer).mean())


# ------------------------------------------------------------------------- roles
def task_roles(args: argparse.Namespace) -> None:
    data = {}
    for region in ("usa", "brazil", "europe"):
        try:
            data[region] = gr.datasets.load(f"airports-{region}")
        except (FileNotFoundError, ValueError) as e:
            emit({"task": "roles", "dataset": f"airports-{region}", "skipped": str(e).splitlines()[0][:160]})
    g = data["usa"]
    y = g.node_attrs["node"]["role"].numpy()
    t0 = time.perf_counter()
    model = IRWE(**ROLE_PARAMS, seed=args.seed).fit(g)
    fit_s = time.perf_counter() - t0
    usa_acc = role_accuracy(model.identity_.numpy(), y, args.seed)
    emit({"task": "roles", "dataset": "airports-usa", "method": "irwe", "output": "identity", "accuracy": round(usa_acc, 4),
          "seconds": round(fit_s, 1), "params": ROLE_PARAMS})
    t0 = time.perf_counter()
    base = structural_features(g)
    emit({"task": "roles", "dataset": "airports-usa", "method": "structural", "accuracy": round(role_accuracy(base, y, args.seed), 4),
          "seconds": round(time.perf_counter() - t0, 1)})
    t0 = time.perf_counter()
    dw = deepwalk(g, seed=args.seed)
    emit({"task": "roles", "dataset": "airports-usa", "method": "deepwalk", "accuracy": round(role_accuracy(dw, y, args.seed), 4),
          "seconds": round(time.perf_counter() - t0, 1)})
    for region, h in data.items():
        if region == "usa":
            continue
        yh = h.node_attrs["node"]["role"].numpy()
        t0 = time.perf_counter()
        inferred = model.infer(h).identity.numpy()
        inf_s = time.perf_counter() - t0
        ind = role_accuracy(inferred, yh, args.seed)
        trans = role_accuracy(IRWE(**ROLE_PARAMS, seed=args.seed).fit(h).identity_.numpy(), yh, args.seed)
        emit({"task": "roles", "dataset": f"airports-{region}", "method": "irwe_inductive", "fitted_on": "airports-usa",
              "accuracy": round(ind, 4), "transductive_accuracy": round(trans, 4), "usa_transductive_accuracy": round(usa_acc, 4),
              "gap": round(trans - ind, 4), "infer_seconds": round(inf_s, 2),
              "structural_accuracy": round(role_accuracy(structural_features(h), yh, args.seed), 4)})


# ------------------------------------------------------------------------- links
def choose_link_params(rest: Graph, args: argparse.Namespace) -> dict[str, Any]:
    """IRWE's link settings chosen by AUC on the validation carve of ``rest`` (see the docstring)."""
    target, vpos, vneg = link_carve(rest, None, 0.1, args.seed)  # the carve of tune_fastrp(task="links")
    scores: dict[str, float] = {}  # setting -> validation AUC, in the order tried
    tried: list[dict[str, Any]] = []

    def valid(params: dict[str, Any], stage: str) -> float:
        full = IRWE(**params).params()  # defaults filled in: one setting, one key
        key = json.dumps({k: v for k, v in full.items() if k not in ("seed", "progress", "etype")}, sort_keys=True)
        if key not in scores:
            t0 = time.perf_counter()
            model = IRWE(**params, seed=args.seed).fit(target)
            scores[key] = link_auc(model.position_, vpos, vneg)
            tried.append(params)
            emit({"task": "link_valid", "dataset": "blogcatalog", "carve": "10% of the training edges", "stage": stage,
                  "params": params, "valid_auc": round(scores[key], 4), "seconds": round(time.perf_counter() - t0, 1)})
        return scores[key]

    screen = {**LINK_PARAMS, "steps": 0}
    best = dict(screen)
    best_auc = valid(best, "screen")

    def sweep(changes: list[dict[str, Any]]) -> None:
        nonlocal best, best_auc
        start = dict(best)
        for ch in changes:
            cand = {**start, **ch}
            if cand.get("hop_weights") is not None and len(cand["hop_weights"]) != cand.get("hops", 3):
                continue
            auc = valid(cand, "screen")
            if auc > best_auc:
                best, best_auc = cand, auc

    sweep([dict(w) for w in LINK_WIDTHS])
    sweep([{"hops": h} for h in LINK_HOPS])
    sweep([{"beta": float(b)} for b in LINK_BETAS])
    hops = best.get("hops", 3)
    for j in range(1, hops):  # w_1 = 1 fixes the scale, as tune_fastrp does
        w = list(best.get("hop_weights") or [1.0] * hops)
        sweep([{"hop_weights": w[:j] + [float(v)] + w[j + 1:]} for v in HOP_WEIGHT_GRID if float(v) != w[j]])
    ranked = sorted(((a, p) for p, a in zip(tried, scores.values())), key=lambda t: -t[0])
    finalists = [{**p, "steps": LINK_PARAMS["steps"]} for _, p in ranked[: args.trained]] + [dict(LINK_PARAMS)]
    trained = [(valid(p, "trained"), p) for p in finalists]
    auc, chosen = max(trained, key=lambda t: t[0])
    emit({"task": "link_valid", "dataset": "blogcatalog", "chosen": chosen, "valid_auc": round(auc, 4),
          "candidates": len(scores)})
    return chosen


def task_links(args: argparse.Namespace) -> None:
    g = gr.datasets.load("blogcatalog")
    et = g.edge_types[0]
    rest, held = holdout_edges(g, et, 0.1, args.seed)  # the split of scripts/bench_embed.py
    neg = negative_pairs(g, et, held.shape[1], derived_seed(args.seed + 7), 0)
    base = {"task": "links", "dataset": "blogcatalog", "held_out": 0.1, "pairs": int(held.shape[1])}
    t0 = time.perf_counter()
    params = choose_link_params(rest, args) if args.trained > 0 else dict(LINK_PARAMS)
    tune_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = IRWE(**params, seed=args.seed).fit(rest)
    fit_s = time.perf_counter() - t0
    trans_auc = link_auc(model.position_, held, neg)
    emit({**base, "method": "irwe", "output": "position", "auc": round(trans_auc, 4), "seconds": round(fit_s, 1),
          "tune_seconds": round(tune_s, 1), "params": params})
    t0 = time.perf_counter()
    emb = fastrp(rest, dim=512, weights=AUTHORS_WEIGHTS, beta=AUTHORS_BETA, seed=args.seed)
    secs = time.perf_counter() - t0
    emit({**base, "method": "fastrp_authors", "auc": round(link_auc(emb, held, neg), 4), "seconds": round(secs, 2),
          "params": {"dim": 512, "weights": list(AUTHORS_WEIGHTS), "beta": AUTHORS_BETA}})
    t0 = time.perf_counter()
    tr = tune_fastrp(rest, task="links", valid_share=0.1, dim=512, seed=args.seed)  # as scripts/bench_embed.py
    tune_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    emb = fastrp(rest, dim=512, weights=tr.weights, beta=tr.beta, seed=args.seed)
    secs = time.perf_counter() - t0
    emit({**base, "method": "fastrp_tuned", "auc": round(link_auc(emb, held, neg), 4), "seconds": round(secs, 2),
          "tune_seconds": round(tune_s, 1), "chosen": tr.params(), "valid_auc": round(tr.score, 4)})
    # ablation: FastRP at IRWE's chosen walk settings (its powers weighted as IRWE weighs its hops)
    full = IRWE(**params).params()
    same = {"dim": full["position_dim"], "weights": full["hop_weights"], "beta": full["beta"]}
    t0 = time.perf_counter()
    emb = fastrp(rest, **same, seed=args.seed)
    secs = time.perf_counter() - t0
    target, vpos, vneg = link_carve(rest, None, 0.1, args.seed)
    emit({**base, "method": "fastrp_irwe_settings", "auc": round(link_auc(emb, held, neg), 4), "seconds": round(secs, 2),
          "params": same, "valid_auc": round(link_auc(fastrp(target, **same, seed=args.seed), vpos, vneg), 4)})
    if not args.no_deepwalk:
        t0 = time.perf_counter()
        dw = torch.from_numpy(deepwalk(rest, seed=args.seed))
        emit({**base, "method": "deepwalk", "auc": round(link_auc(dw, held, neg), 4), "seconds": round(time.perf_counter() - t0, 1)})
    # nodes unseen in training: fit without 10% of the nodes, embed the whole remaining graph
    n = g.num_nodes(et[0])
    rng = np.random.default_rng(args.seed + 1)
    unseen = torch.zeros(n, dtype=torch.bool)
    unseen[torch.from_numpy(rng.permutation(n)[: n // 10])] = True
    s, d = rest.edges(et).coo()
    k = ~unseen[s] & ~unseen[d]
    seen_graph = Graph()
    seen_graph.add_node_type(et[0], rest.id_map(et[0]))
    seen_graph.add_edges(et, s[k], d[k])  # unseen nodes stay as isolated ids: never trained on
    t0 = time.perf_counter()
    ind_model = IRWE(**params, seed=args.seed).fit(seen_graph)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ind_emb = ind_model.infer(rest).position
    inf_s = time.perf_counter() - t0
    touch = unseen[held[0]] | unseen[held[1]]
    neg_touch = unseen[neg[0]] | unseen[neg[1]]
    emit({**base, "method": "irwe_unseen", "unseen_nodes": int(unseen.sum()), "pairs_touching_unseen": int(touch.sum()),
          "auc_unseen": round(link_auc(ind_emb, held[:, touch], neg[:, neg_touch]), 4),
          "transductive_auc_same_pairs": round(link_auc(model.position_, held[:, touch], neg[:, neg_touch]), 4),
          "auc_all": round(link_auc(ind_emb, held, neg), 4), "transductive_auc_all": round(trans_auc, 4),
          "fit_seconds": round(fit_s, 1), "infer_seconds": round(inf_s, 1)})


# -------------------------------------------------------------------------- cold
def task_cold(args: argparse.Namespace) -> None:
    """Cold-start users (``graphrec.eval.cold_start_split``, as bench_embed): irwe vs mostpop, fastrp."""
    from graphrec.eval import cold_start_split, evaluate_cold_start

    for name in [d for d in args.cold_data.split(",") if d]:
        data = gr.datasets.load(name)
        sp = cold_start_split(data, 0.1, seed=args.seed, keep_first=5)
        for mname, params in (("mostpop", {}), ("fastrp", {}), ("irwe", {"seed": args.seed})):
            t0 = time.perf_counter()
            rep = evaluate_cold_start(gr.models.create(mname, **params), sp, k=[20])
            emit({"task": "cold_start", "dataset": name, "method": mname, "params": params, "users": len(rep.users),
                  "keep_first": 5, "recall@20": round(rep["recall@20"], 4), "ndcg@20": round(rep["ndcg@20"], 4),
                  "answered_by": rep.info["answered_by"], "fit_seconds": round(rep.info["fit_seconds"], 2),
                  "update_seconds": round(rep.info["update_seconds"], 2), "seconds": round(time.perf_counter() - t0, 2)})


#: candidates for the irwe recommender's defaults, compared on a validation carve (the last won;
#: the third was the default before the position got its own width)
DEFAULT_CANDIDATES: list[dict[str, Any]] = [
    {"dim": 64, "rand_dim": 128, "hops": 3},
    {"dim": 256, "rand_dim": 256, "hops": 4},
    {"dim": 128, "rand_dim": 512, "hops": 4},
    {"dim": 128, "rand_dim": 256, "position_dim": 256, "hops": 4},
    {"dim": 128, "rand_dim": 512, "position_dim": 512, "hops": 4},
]


def task_defaults(args: argparse.Namespace) -> None:
    """The recommender's defaults on a cold-start carve of the *training* interactions only."""
    from graphrec.eval import cold_start_split, evaluate_cold_start

    for name in [d for d in args.cold_data.split(",") if d]:
        data = gr.datasets.load(name)
        sp = cold_start_split(data.train, 0.1, seed=derived_seed(args.seed + 1), keep_first=5)
        for params in DEFAULT_CANDIDATES:
            t0 = time.perf_counter()
            rep = evaluate_cold_start(gr.models.create("irwe", **params), sp, k=[20])
            emit({"task": "defaults", "dataset": name, "carve": "cold-start split of train only", "params": params,
                  "recall@20": round(rep["recall@20"], 4), "ndcg@20": round(rep["ndcg@20"], 4),
                  "seconds": round(time.perf_counter() - t0, 1)})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", choices=["roles", "links", "cold", "defaults", "all"], default="all")
    p.add_argument("--cold-data", default="lastfm", help="comma-separated datasets for --task cold")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-deepwalk", action="store_true", help="skip the DeepWalk peer")
    p.add_argument("--trained", type=int, default=3,
                   help="--task links: best screened settings trained on the carve (0: LINK_PARAMS, no tuning)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=FutureWarning)
    emit({"setup": "bench_irwe", "task": args.task, "seed": args.seed, "torch": torch.__version__, "threads": 1})
    t0 = time.perf_counter()
    if args.task in ("roles", "all"):
        task_roles(args)
    if args.task in ("links", "all"):
        task_links(args)
    if args.task in ("cold", "all"):
        task_cold(args)
    if args.task == "defaults":
        task_defaults(args)
    emit({"total_seconds": round(time.perf_counter() - t0, 1)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
