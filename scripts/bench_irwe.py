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
- ``links`` (``--task links``): BlogCatalog, 10% of the undirected edges held out (seeded),
  as many random node pairs as negatives; AUC of the cosine of two nodes' embeddings.
  ``irwe`` position embeddings fitted on the remaining graph vs ``deepwalk`` (and
  ``fastrp`` when ``graphrec.embed.fastrp`` exists). ``irwe_unseen``: 10% of the nodes are
  removed from the training graph, IRWE is fitted on the rest and embeds the full remaining
  graph by ``infer``; AUC over the held-out edges that touch an unseen node, next to the
  transductive model's AUC on the same edges.

Everything runs single-threaded (``torch.set_num_threads(1)``; the 2-core machine is shared).

    python scripts/bench_irwe.py --task roles
    python scripts/bench_irwe.py --task links
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from typing import Any

import numpy as np
import torch

import graphrec as gr
from graphrec.embed import IRWE
from graphrec.embed.walkstats import node_engine, sample_walks
from graphrec.graph import Graph

LINKS = ("node", "links", "node")

#: fixed before any test figure was seen (identity: small, for 131-node Brazil's classifier)
ROLE_PARAMS = {"dim": 32, "walks": 128, "attn_walks": 4, "batch": 64, "steps": 200, "identity_weight": 5.0}
LINK_PARAMS = {"dim": 64, "walks": 32, "attn_walks": 4, "batch": 64, "steps": 200, "rand_dim": 256}


def emit(row: dict[str, Any]) -> None:
    print(json.dumps(row), flush=True)


# ------------------------------------------------------------------------ peers
def deepwalk(graph: Graph, dim: int = 128, walks: int = 10, length: int = 80, window: int = 10, seed: int = 0) -> np.ndarray:
    """DeepWalk: uniform walks from the walk engine, gensim skip-gram (hierarchical softmax)."""
    from gensim.models import Word2Vec

    eng = node_engine(graph)
    n = eng.num_nodes
    paths = sample_walks(eng, torch.arange(n), walks, length - 1, seed).reshape(-1, length).numpy()
    sentences = [[str(x) for x in row] for row in paths]
    w2v = Word2Vec(sentences, vector_size=dim, window=window, min_count=0, sg=1, hs=1, negative=0,
                   workers=1, seed=seed, epochs=1)
    return np.stack([w2v.wv[str(i)] for i in range(n)])


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
def holdout(g: Graph, fraction: float, seed: int) -> tuple[Graph, np.ndarray, np.ndarray]:
    src, dst = g.edges(LINKS).coo()
    keep = src < dst
    s, d = src[keep].numpy(), dst[keep].numpy()
    rng = np.random.default_rng(seed)
    perm = rng.permutation(s.size)
    nt = round(fraction * s.size)
    te, tr = perm[:nt], perm[nt:]
    train = sub_graph(g.num_nodes("node"), s[tr], d[tr])
    n = g.num_nodes("node")
    neg = rng.integers(0, n, (nt, 2))
    return train, np.stack([s[te], d[te]], 1), neg


def sub_graph(n: int, s: np.ndarray, d: np.ndarray) -> Graph:
    h = Graph()
    h.add_node_type("node", n)
    h.add_edges(LINKS, np.r_[s, d], np.r_[d, s])
    return h


def link_auc(emb: np.ndarray | torch.Tensor, pos: np.ndarray, neg: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    e = torch.nn.functional.normalize(torch.as_tensor(np.asarray(emb), dtype=torch.float32), dim=1).numpy()
    ps = (e[pos[:, 0]] * e[pos[:, 1]]).sum(1)
    ns = (e[neg[:, 0]] * e[neg[:, 1]]).sum(1)
    return float(roc_auc_score(np.r_[np.ones(len(ps)), np.zeros(len(ns))], np.r_[ps, ns]))


def task_links(args: argparse.Namespace) -> None:
    g = gr.datasets.load("blogcatalog")
    train, pos, neg = holdout(g, 0.1, args.seed)
    n = g.num_nodes("node")
    t0 = time.perf_counter()
    model = IRWE(**LINK_PARAMS, seed=args.seed).fit(train)
    fit_s = time.perf_counter() - t0
    trans_auc = link_auc(model.position_, pos, neg)
    emit({"task": "links", "dataset": "blogcatalog", "method": "irwe", "output": "position", "auc": round(trans_auc, 4),
          "seconds": round(fit_s, 1), "params": LINK_PARAMS, "test_edges": len(pos)})
    try:
        from graphrec.embed import fastrp as _fastrp  # noqa: F401  (the fastrp layer, where merged)

        emit({"task": "links", "dataset": "blogcatalog", "method": "fastrp", "note": "present: compare with scripts/bench_embed.py"})
    except ImportError:
        emit({"task": "links", "dataset": "blogcatalog", "method": "fastrp", "skipped": "graphrec.embed.fastrp is not in this tree"})
    if not args.no_deepwalk:
        t0 = time.perf_counter()
        dw = deepwalk(train, seed=args.seed)
        emit({"task": "links", "dataset": "blogcatalog", "method": "deepwalk", "auc": round(link_auc(dw, pos, neg), 4),
              "seconds": round(time.perf_counter() - t0, 1)})
    # nodes unseen in training: fit without 10% of the nodes, embed the whole remaining graph
    rng = np.random.default_rng(args.seed + 1)
    unseen = np.zeros(n, dtype=bool)
    unseen[rng.permutation(n)[: n // 10]] = True
    s, d = train.edges(LINKS).coo()
    s, d = s.numpy(), d.numpy()
    k = (s < d) & ~unseen[s] & ~unseen[d]
    seen_graph = sub_graph(n, s[k], d[k])  # unseen nodes stay as isolated ids: never trained on
    t0 = time.perf_counter()
    ind_model = IRWE(**LINK_PARAMS, seed=args.seed).fit(seen_graph)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ind_emb = ind_model.infer(train).position
    inf_s = time.perf_counter() - t0
    touch = unseen[pos[:, 0]] | unseen[pos[:, 1]]
    neg_touch = unseen[neg[:, 0]] | unseen[neg[:, 1]]
    emit({"task": "links", "dataset": "blogcatalog", "method": "irwe_unseen", "unseen_nodes": int(unseen.sum()),
          "test_edges_touching_unseen": int(touch.sum()),
          "auc_unseen": round(link_auc(ind_emb, pos[touch], neg[neg_touch]), 4),
          "transductive_auc_same_edges": round(link_auc(model.position_, pos[touch], neg[neg_touch]), 4),
          "auc_all": round(link_auc(ind_emb, pos, neg), 4), "transductive_auc_all": round(trans_auc, 4),
          "fit_seconds": round(fit_s, 1), "infer_seconds": round(inf_s, 1)})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", choices=["roles", "links", "all"], default="all")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-deepwalk", action="store_true", help="skip the DeepWalk peer")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=FutureWarning)
    emit({"setup": "bench_irwe", "task": args.task, "seed": args.seed, "torch": torch.__version__, "threads": 1})
    t0 = time.perf_counter()
    if args.task in ("roles", "all"):
        task_roles(args)
    if args.task in ("links", "all"):
        task_links(args)
    emit({"total_seconds": round(time.perf_counter() - t0, 1)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
