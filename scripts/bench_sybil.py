"""Sybil attacks on LastFM + friends: what each recommender gives away, and how fast SALSA answers.

One run prints JSON lines:

- ``clean``: Recall@20 / NDCG@20 of every method on the unattacked training graph (all
  test users; ``meritrank-python`` on ``--mrp-users``).
- ``attack``: per Sybil region (``--sizes`` accounts, a ``--topology`` region behind
  ``--attack-edges`` attack edges, promoting ``--targets`` new items; plain, and
  camouflaged with ``--camouflage`` of the ``--popular`` most popular items per Sybil) and
  method: the promoted items' share of honest users' top-20, their score mass
  (``promoted_mass``), honest Recall@20 / NDCG@20 (``graphrec.attacks.attack_report``), on
  ``--users`` seeded honest test users; plus a popularity-bombing attack (``--bombers``).
- ``latency``: p50 / p99 of single-user queries (``salsa``, ``meritrank-salsa``; LastFM, and
  Gowalla with ``--gowalla``), with ``meritrank-python``'s on LastFM.
- ``update``: appending ``--append`` interactions then querying, against 10 queries; and
  per-edge update throughput against ``meritrank-python``'s incremental ``add_edge``.
- ``speed_summary``: query (wall and CPU p50) and per-edge update throughput over
  ``meritrank-python``'s. ``--latency-only`` runs just these speed lines (no attacks).
- ``summary``: the acceptance ratios of the attacks.

Methods: ``salsa``, ``meritrank-salsa``, ``meritrank-python`` (pip ``meritrank-python``, the
``bench`` extra; pure Python: ``--mrp-walks`` walks per query, sizes up to ``--mrp-max``),
``ppr`` (exact, trust edges walked), ``lightgcn`` with and without ``reputation=meritrank``
(``--lgcn-epochs`` epochs, on ``--lgcn-sizes``), ``mostpop``.

    python scripts/bench_sybil.py [--sizes 10,100,1000,10000] [--users 300] [--gowalla]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from typing import Any

import numpy as np
import torch

import graphrec as gr
from graphrec.attacks import (
    Attack,
    attack_report,
    honest_test_users,
    popularity_attack,
    sybil_attack,
)
from graphrec.graph import INTERACTS, TRUSTS, Graph
from graphrec.models.base import Recommender


class MeritRankPython(Recommender):
    """``meritrank-python``'s IncrementalMeritRank over users, items and trust (one ego at a time).

    Interactions are edges both ways (user -> item, item -> user), trust edges user -> user,
    all of weight 1; a query ``calculate``s the user's walks and reads the items' ranks.
    """

    name = "meritrank-python"

    def __init__(self, graph: Graph | None = None, *, walks: int = 1000) -> None:
        super().__init__(graph)
        self.walks = walks

    def _fit(self, train: Graph, valid: Graph | None = None, **_: Any) -> None:
        import networkx as nx
        from meritrank_python.rank import IncrementalMeritRank

        G = nx.DiGraph()
        s, d = train.edges(INTERACTS).coo()
        s, d = s.tolist(), d.tolist()
        G.add_edges_from(((f"u{a}", f"i{b}") for a, b in zip(s, d)), weight=1.0)
        G.add_edges_from(((f"i{b}", f"u{a}") for a, b in zip(s, d)), weight=1.0)
        if train.has_edge_type(TRUSTS):
            ts, td = train.edges(TRUSTS).coo()
            G.add_edges_from(((f"u{a}", f"u{b}") for a, b in zip(ts.tolist(), td.tolist()) if a != b), weight=1.0)
        self.mr = IncrementalMeritRank(G)

    def score(self, users: torch.Tensor) -> torch.Tensor:
        from meritrank_python.rank import EgoCounterEmpty, NodeDoesNotExist

        out = torch.zeros(users.numel(), self.num_items)
        for r, u in enumerate(users.tolist()):
            ego = f"u{u}"
            try:
                self.mr.calculate(ego, self.walks)
                ranks = self.mr.get_ranks(ego)
            except (NodeDoesNotExist, EgoCounterEmpty):  # an ego without edges scores nothing
                ranks = {}
            for node, val in ranks.items():
                if node[0] == "i":
                    out[r, int(node[1:])] = val
        return out


def models(args: argparse.Namespace, size: int | None) -> dict[str, Any]:
    """Method name -> factory for a region of ``size`` Sybils (None: clean)."""
    lg = {"epochs": args.lgcn_epochs, "reg": 3e-3, "patience": None, "refit": False, "negatives": 1,
          "negative_selection": "mean", "batch": 4096, "lr": 1e-2, "dim": 64}
    out: dict[str, Any] = {
        "salsa": lambda: gr.models.create("salsa"),
        "meritrank-salsa": lambda: gr.models.create("meritrank-salsa"),
        "ppr": lambda: gr.models.create("ppr", trust=True),
        "mostpop": lambda: gr.models.create("mostpop"),
    }
    if size is None or size in args.lgcn_sizes:
        out["lightgcn"] = lambda: gr.models.create("lightgcn", **lg)
        out["lightgcn+reputation"] = lambda: gr.models.create("lightgcn", reputation="meritrank", **lg)
    if args.mrp and (size is None or size <= args.mrp_max):
        out["meritrank-python"] = lambda: MeritRankPython(walks=args.mrp_walks)
    return out


def latency(model: Recommender, users: np.ndarray) -> dict[str, float]:
    """Wall-clock p50 / p99 of single-user queries, and the p50 of their process CPU time
    (what throughput ratios use on a shared machine: other jobs stretch wall time, not CPU time)."""
    ts, cpu = [], []
    for u in users[:3]:
        model.score(torch.tensor([int(u)]))
    for u in users:
        t, c = time.perf_counter(), time.process_time()
        model.recommend_indices(torch.tensor([int(u)]), 20)
        ts.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    ts, cpu = np.asarray(ts) * 1e3, np.asarray(cpu) * 1e3
    return {"p50_ms": float(np.percentile(ts, 50)), "p99_ms": float(np.percentile(ts, 99)),
            "cpu_p50_ms": float(np.percentile(cpu, 50)), "queries": int(ts.size)}


def unattacked(data: Any) -> Attack:
    """``data`` as an :class:`Attack` that added nothing (every user honest)."""
    none = torch.zeros(0, dtype=torch.int64)
    return Attack(data, none, none, data.train.num_nodes("user"), none)


def gowalla_latency(args: argparse.Namespace) -> None:
    """Single-user query latency of ``salsa`` and ``meritrank-salsa`` on Gowalla (no trust edges)."""
    gw = gr.datasets.load("gowalla")
    gu = honest_test_users(unattacked(gw))
    gu = gu[np.random.default_rng(1).choice(gu.size, size=min(args.latency_queries, gu.size), replace=False)]
    for name in ("salsa", "meritrank-salsa"):
        m = gr.models.create(name).fit(gw)
        print(json.dumps({"metric": "latency", "dataset": "gowalla", "method": name, **latency(m, gu)}), flush=True)


def _fields(g: Graph, etype: Any, n: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Weights (1) and timestamps (the latest) for ``n`` new edges, as the edge set carries them."""
    es = g.edges(etype)
    w = None if es.weight is None else np.ones(n, dtype=np.float32)
    ts = None if es.timestamp is None else np.full(n, int(es.timestamp.max()), dtype=np.int64)
    return w, ts


def speed(args: argparse.Namespace, data: Any, all_test: np.ndarray, fitted: dict[str, Recommender]) -> None:
    """Query latency, append-and-query cost and per-edge update throughput; ratios to ``meritrank-python``."""
    lat_users = all_test[np.random.default_rng(1).choice(all_test.size, size=min(args.latency_queries, all_test.size), replace=False)]
    lat, edges = {}, {}
    for name in ("salsa", "meritrank-salsa"):
        lat[name] = latency(fitted[name], lat_users)
        print(json.dumps({"metric": "latency", "dataset": "lastfm", "method": name, **lat[name]}), flush=True)
    if "meritrank-python" in fitted:  # the pure-Python peer on the first 20 of the same users
        lat["meritrank-python"] = latency(fitted["meritrank-python"], lat_users[:20])
        print(json.dumps({"metric": "latency", "dataset": "lastfm", "method": "meritrank-python", **lat["meritrank-python"]}), flush=True)
    rng = np.random.default_rng(2)
    for name in ("salsa", "meritrank-salsa"):
        g = data.train.edge_subgraph(data.train.edge_types)
        m = gr.models.create(name).fit(g)
        q = latency(m, lat_users[:20])
        upd, app = [], []
        for _ in range(5):  # medians of 5 appends of --append interactions each
            eu = rng.integers(0, g.num_nodes("user"), args.append)
            ei = rng.integers(0, g.num_nodes("item"), args.append)
            t0 = time.perf_counter()
            g.add_edges(INTERACTS, eu, ei, *_fields(g, INTERACTS, args.append))
            m.update()
            m.engine.transition_matrix()  # what the next query would build: the update's whole cost
            upd.append(time.perf_counter() - t0)
            m.recommend_indices(torch.tensor([int(lat_users[0])]), 20)
            app.append(time.perf_counter() - t0)
        upd_s, app_s = float(np.median(upd)), float(np.median(app))
        # trust edges: the reputation is redrawn too
        t0 = time.perf_counter()
        g.add_edges(TRUSTS, eu[:10], (eu[:10] + 1) % g.num_nodes("user"), *_fields(g, TRUSTS, 10))
        m.update()
        m.recommend_indices(torch.tensor([int(lat_users[0])]), 20)
        trust_s = time.perf_counter() - t0
        edges[name] = args.append / upd_s
        print(json.dumps({"metric": "update", "method": name, "appended": args.append, "update_ms": upd_s * 1e3,
                          "append_and_query_ms": app_s * 1e3, "query_p50_ms": q["p50_ms"],
                          "ratio_to_10_queries": app_s * 1e3 / (10 * q["p50_ms"]), "edges_per_second": edges[name],
                          "add_10_trust_and_query_ms": trust_s * 1e3}), flush=True)
    if "meritrank-python" not in fitted:
        return
    mr = fitted["meritrank-python"].mr
    for u in lat_users[:20]:  # egos with walks: add_edge updates their walks incrementally
        mr.calculate(f"u{int(u)}", args.mrp_walks)
    n_e = 50
    t0 = time.perf_counter()
    for a, b in zip(rng.integers(0, data.train.num_nodes("user"), n_e), rng.integers(0, data.train.num_nodes("item"), n_e)):
        mr.add_edge(f"u{a}", f"i{b}", 1.0)
        mr.add_edge(f"i{b}", f"u{a}", 1.0)
    s = time.perf_counter() - t0
    print(json.dumps({"metric": "update", "method": "meritrank-python", "appended": n_e, "egos": 20,
                      "edges_per_second": n_e / s}), flush=True)
    peer = lat["meritrank-python"]
    print(json.dumps({"metric": "speed_summary", "vs": "meritrank-python", **{
        name: {"query_wall_p50": peer["p50_ms"] / lat[name]["p50_ms"], "query_cpu_p50": peer["cpu_p50_ms"] / lat[name]["cpu_p50_ms"],
               "edges": edges[name] / (n_e / s)} for name in ("salsa", "meritrank-salsa")}}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10,100,1000,10000")
    ap.add_argument("--attack-edges", type=int, default=10)
    ap.add_argument("--topology", default="star")
    ap.add_argument("--targets", type=int, default=5)
    ap.add_argument("--camouflage", type=int, default=3)
    ap.add_argument("--popular", type=int, default=50)
    ap.add_argument("--bombers", type=int, default=1000)
    ap.add_argument("--users", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lgcn-epochs", type=int, default=10)
    ap.add_argument("--lgcn-sizes", default="1000")
    ap.add_argument("--no-mrp", dest="mrp", action="store_false")
    ap.add_argument("--mrp-walks", type=int, default=1000)
    ap.add_argument("--mrp-users", type=int, default=30)
    ap.add_argument("--mrp-max", type=int, default=10000)
    ap.add_argument("--latency-queries", type=int, default=200)
    ap.add_argument("--latency-only", action="store_true",
                    help="only the speed lines: query latency, updates, their ratios to meritrank-python (Gowalla latency with --gowalla)")
    ap.add_argument("--append", type=int, default=1000)
    ap.add_argument("--gowalla", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    args.sizes = [int(x) for x in args.sizes.split(",") if x]
    args.lgcn_sizes = [int(x) for x in args.lgcn_sizes.split(",") if x]
    torch.set_num_threads(args.threads)
    machine = {"machine": platform.machine(), "cpus": os.cpu_count(), "threads": torch.get_num_threads(), "torch": torch.__version__}
    if args.mrp:
        try:
            import meritrank_python  # noqa: F401
        except ImportError:
            print(json.dumps({"metric": "skip", "method": "meritrank-python", "why": "pip install meritrank-python (bench extra)"}), flush=True)
            args.mrp = False
    data = gr.datasets.load("lastfm")
    clean = unattacked(data)
    users = honest_test_users(clean, args.users, seed=args.seed)
    mrp_users = users[: args.mrp_users]
    all_test = honest_test_users(clean)
    print(json.dumps({"metric": "setup", "dataset": "lastfm", "users_measured": int(users.size), "mrp_users": int(mrp_users.size),
                      "args": {k: v for k, v in vars(args).items()}, **machine}), flush=True)
    if args.latency_only:
        fitted = {name: gr.models.create(name).fit(data) for name in ("salsa", "meritrank-salsa")}
        if args.mrp:
            fitted["meritrank-python"] = MeritRankPython(walks=args.mrp_walks).fit(data)
        speed(args, data, all_test, fitted)
        if args.gowalla:
            gowalla_latency(args)
        return
    recall: dict[str, float] = {}
    # ------------------------------------------------------------------ clean
    fitted: dict[str, Recommender] = {}
    for name, make in models(args, None).items():
        t0 = time.perf_counter()
        m = make().fit(data)
        fit_s = time.perf_counter() - t0
        ev_users = mrp_users if name == "meritrank-python" else all_test
        rep = gr.evaluate(m, data, k=[20], users=ev_users, batch_size=256)
        recall[name] = rep["recall@20"]
        fitted[name] = m
        print(json.dumps({"metric": "clean", "method": name, "users": int(ev_users.size), "recall@20": rep["recall@20"],
                          "ndcg@20": rep["ndcg@20"], "fit_s": fit_s, "eval_s": rep.seconds,
                          **({"kept_interactions": m.kept} if hasattr(m, "kept") else {})}), flush=True)
    # ------------------------------------------------------------------ latency and updates
    speed(args, data, all_test, fitted)
    del fitted
    if args.gowalla:
        gowalla_latency(args)
    # ------------------------------------------------------------------ attacks
    results: list[dict[str, Any]] = []
    attacks = [(n, cam) for n in args.sizes for cam in (0, args.camouflage)]
    for n, cam in attacks + [(args.bombers, None)]:
        if cam is None:
            atk = popularity_attack(data, n, targets=args.targets, seed=args.seed)
            kind = "popularity"
        else:
            atk = sybil_attack(data, n, attack_edges=args.attack_edges, topology=args.topology, targets=args.targets,
                               camouflage=cam, popular=args.popular, seed=args.seed)
            kind = "camouflaged" if cam else "plain"
        for name, make in models(args, n).items():
            t0 = time.perf_counter()
            m = make().fit(atk.data)
            fit_s = time.perf_counter() - t0
            u = mrp_users if name == "meritrank-python" else users
            r = attack_report(m, atk, u)
            line = {"metric": "attack", "attack": kind, "sybils": n, "attack_edges": atk.params["attack_edges"],
                    "topology": atk.params["topology"], "method": name, **r, "fit_s": fit_s, "seconds": time.perf_counter() - t0}
            results.append(line)
            print(json.dumps(line), flush=True)
    # ------------------------------------------------------------------ summary
    def get(kind: str, n: int, name: str) -> dict[str, Any] | None:
        return next((r for r in results if r["attack"] == kind and r["sybils"] == n and r["method"] == name), None)

    ratios, ratios_away = {}, {}  # all honest users; those not on an attack edge
    for kind in ("plain", "camouflaged"):
        for n in args.sizes:
            s, m = get(kind, n, "salsa"), get(kind, n, "meritrank-salsa")
            if s and m:
                ratios[f"{kind}_{n}"] = (m["promoted_share"] / s["promoted_share"]) if s["promoted_share"] > 0 else None
                a, b = s["promoted_share_unattacked"], m["promoted_share_unattacked"]
                ratios_away[f"{kind}_{n}"] = (b / a) if a else None
    mass = {kind: [get(kind, n, "meritrank-salsa")["promoted_mass"] for n in args.sizes if get(kind, n, "meritrank-salsa")] for kind in ("plain", "camouflaged")}
    lg = {}
    for kind in ("plain", "camouflaged"):
        a, b = get(kind, 1000, "lightgcn"), get(kind, 1000, "lightgcn+reputation")
        if a and b:
            lg[kind] = a["promoted_share"] / max(b["promoted_share"], 1e-12)
    print(json.dumps({
        "metric": "summary",
        "meritrank_over_salsa_share": ratios,
        "meritrank_over_salsa_share_unattacked": ratios_away,
        "meritrank_mass_max_over_min": {k: (max(v) / max(min(v), 1e-12) if v else None) for k, v in mass.items()},
        "clean_recall_meritrank_over_salsa": recall.get("meritrank-salsa", 0) / max(recall.get("salsa", 0), 1e-12),
        "lightgcn_share_cut_at_1000": lg,
        "clean_recall_lightgcn_rep_over_plain": recall.get("lightgcn+reputation", 0) / max(recall.get("lightgcn", 1e-12), 1e-12),
    }), flush=True)


if __name__ == "__main__":
    main()
