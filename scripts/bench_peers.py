#!/usr/bin/env python
"""Benchmark: graphrec's LightGCN vs the ``implicit`` library's ALS and BPR, in one run per dataset.

Issue 4 asks that ``lightgcn`` beat its peers on every split we have (Gowalla, LastFM,
MovieLens-100K), each pair measured in one run, with defaults that are not tuned on the test
split. For every ``--data`` dataset this script fits, in one process and on the same split:

``implicit_als``
    ``implicit.cpu.als.AlternatingLeastSquares`` (Hu, Koren & Volinsky, ICDM 2008; conjugate
    gradient solver of Takács, Pilászy & Tikk, RecSys 2011), 64 factors, 15 iterations
    (implicit's default). Confidence ``c_ui = alpha * r_ui`` on the binary matrix, so
    ``alpha = 1`` weights observed and unobserved cells alike. ``regularization`` and ``alpha``
    are chosen on a validation split carved from TRAIN (``--als-reg`` x ``--als-alpha``,
    default {0.1, 1, 10, 30, 100, 300} x {1, 3, 10, 40, 100, 300}; implicit's own defaults are 0.01 and 1.
    An earlier grid stopped at α = 40, which LastFM and Gowalla chose: its edge).
``implicit_als_defaults``
    The same ALS at implicit's own ``regularization = 0.01`` and ``alpha = 1`` (64 factors,
    15 iterations), untuned: what a user gets from the library without a tuning run.
``implicit_bpr``
    ``implicit.cpu.bpr.BayesianPersonalizedRanking`` (Rendle et al., UAI 2009), 64 factors
    (implicit adds an item-bias column), verified negatives. ``learning_rate`` x
    ``regularization`` are searched on the same validation split; one fit per pair runs up to
    ``max(--bpr-iters)`` epochs and is scored at each listed epoch count, so the epoch count is
    chosen too (default {0.003, 0.01, 0.03} x {0.0001, 0.001, 0.01} x {25, 50, 100, 200}; implicit's defaults
    are 0.01, 0.01 and 100).
``lightgcn``
    ``graphrec.models.create("lightgcn", seed=SEED)``: all defaults (dim 64, 3 layers, Adam
    5e-3, L2 2e-3, BPR on the hardest of 4 uniform negatives, batch 2048, up to 1000 epochs,
    early stopping on NDCG@20 of a 10% validation carve-out every 5 epochs, patience 5, then a
    refit on all of train). On a
    dataset named in ``--lightgcn-epochs`` it instead trains exactly that many epochs on the
    whole training split (``patience=None``: early stopping could not act within such a
    budget), within ``max_minutes`` from ``--lightgcn-minutes`` / ``--dataset-minutes``.

The peers' validation split is graphrec's per-user 10% carve-out with the same seed LightGCN's
early stopping uses (:func:`graphrec.data.splits.carve_validation`); the chosen parameters are
refit on the whole training split. The test split is only touched by the final evaluation. All
three see the same binary user-item matrix (interaction weights ignored, as LightGCN's default
``weighted=False`` does) and are scored by :func:`graphrec.evaluate` (full ranking over all
items, training items masked, Recall@20 / NDCG@20): implicit's factors are wrapped in an
:class:`~graphrec.models.base.EmbeddingRecommender`, row ``u`` of the CSR being graph user ``u``
and column ``i`` graph item ``i``.

``--seeds 0,1,2,3,4`` repeats everything once per seed: the seed draws the models'
initialisation and sampling, the validation carve and, on MovieLens-100K (a per-user random
80/20 split), the test split itself, so the defaults are judged on splits nobody tuned on. An
``aggregate`` line per dataset then gives each method's mean ± std and the number of seeds on
which ``lightgcn`` is ahead of each peer on both metrics.

Prints JSON lines: ``setup``; per dataset a ``tune`` line per peer (every grid point's
validation figures), one line per method (``dataset, method, params, fit_seconds, recall@20,
ndcg@20``, ...) and a ``summary`` saying whether ``lightgcn`` beats each peer on both metrics;
with ``--breakdown`` a ``breakdown`` line per method (NDCG@20 / Recall@20 per quartile of user
activity, the mean training popularity and the distinct items of its top-20 lists); finally a
``total`` line with the wall time.

Usage::

    export GRAPHREC_DATA=../shared/datasets
    python scripts/bench_peers.py --data ml-100k,lastfm
    python scripts/bench_peers.py --data ml-100k --seeds 0,1,2,3,4
    nohup python scripts/bench_peers.py --data gowalla --lightgcn-epochs gowalla=15 \\
        --dataset-minutes gowalla=44 > /tmp/peers_gowalla.jsonl 2> /tmp/peers_gowalla.err &
    python scripts/bench_peers.py --quick          # synthetic data, < 30 s

Needs the ``bench`` extra (``pip install graphrec[bench]``, i.e. ``implicit>=0.7``). One torch
thread and one implicit/BLAS thread by default (``--threads``): this runs on shared CPUs.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # before numpy loads BLAS
    os.environ.setdefault(_var, "1")

import argparse
import itertools
import json
import math
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from tqdm.auto import tqdm

import graphrec as gr
from graphrec.data.dataset import Dataset
from graphrec.data.splits import carve_validation
from graphrec.graph.store import INTERACTS, Graph
from graphrec.models.base import EmbeddingRecommender

METHODS = ("implicit_als_defaults", "implicit_als", "implicit_bpr", "lightgcn")
METRICS = ("recall@20", "ndcg@20")
#: the validation metric the peers are tuned on (LightGCN's early-stopping metric)
SELECT = "ndcg@20"
VALID_FRACTION = 0.1  # LightGCN's default carve-out
#: datasets whose test split is drawn with the seed (the others ship a fixed split)
SEEDED_SPLITS = ("ml-100k",)


# ------------------------------------------------------------------ implicit as a Recommender
def interaction_matrix(graph: Graph, etype: tuple[str, str, str] = INTERACTS) -> sp.csr_matrix:
    """Binary ``(n_users, n_items)`` float32 CSR of ``graph``'s ``etype`` edges.

    Row ``u`` is graph user index ``u`` and column ``i`` item index ``i`` (every node, with or
    without training edges), so implicit's factor rows line up with graphrec's indices.
    """
    es = graph.edges(etype)
    n_users, n_items = graph.num_nodes(etype[0]), graph.num_nodes(etype[2])
    if (es.num_src, es.num_dst) != (n_users, n_items):
        raise ValueError(f"edge set {etype} spans {(es.num_src, es.num_dst)}, graph has {(n_users, n_items)} nodes")
    indptr = es.indptr.cpu().numpy().astype(np.int64)
    indices = es.indices.cpu().numpy().astype(np.int64)
    m = sp.csr_matrix((np.ones(indices.size, np.float32), indices, indptr), shape=(n_users, n_items))
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


def _as_numpy(x: Any) -> np.ndarray:
    """implicit's factors as a C-contiguous float32 numpy array (GPU matrices have ``to_numpy``)."""
    if hasattr(x, "to_numpy"):
        x = x.to_numpy()
    return np.ascontiguousarray(np.asarray(x, dtype=np.float32))


class ImplicitFactors(EmbeddingRecommender):
    """Scores ``user_factors[u] · item_factors[i]`` from an ``implicit`` model fit on the graph.

    Subclasses build the implicit model (:meth:`_make`). ``fit(graph, callback=f)`` calls
    ``f(self, epoch)`` after every implicit epoch (1-based) with the live factors in place, so a
    caller can evaluate intermediate models (e.g. to choose the number of epochs).

    Parameters
    ----------
    graph : Graph, optional
    factors : int
        Latent dimension asked of implicit (BPR adds one item-bias column).
    seed : int
        implicit's ``random_state``.
    threads : int
        implicit's ``num_threads`` (1 keeps BPR's Hogwild SGD deterministic).
    """

    name = "implicit"

    def __init__(self, graph: Graph | None = None, *, factors: int = 64, seed: int = 0, threads: int = 1,
                 etype: tuple[str, str, str] = INTERACTS) -> None:
        super().__init__(graph, etype=etype)
        if isinstance(factors, bool) or not isinstance(factors, int) or factors < 1:
            raise ValueError(f"factors must be an integer >= 1, got {factors!r}")
        self.factors, self.seed, self.threads = int(factors), int(seed), int(threads)
        self.model: Any = None
        self._u: torch.Tensor | None = None
        self._v: torch.Tensor | None = None

    def _make(self) -> Any:
        raise NotImplementedError

    def _take_factors(self) -> None:
        u, v = _as_numpy(self.model.user_factors), _as_numpy(self.model.item_factors)
        if u.shape[0] != self.num_users or v.shape[0] != self.num_items:
            raise ValueError(f"implicit returned {u.shape[0]} x {v.shape[0]} factors for a {self.num_users} x {self.num_items} graph")
        self._u, self._v = torch.from_numpy(u).to(self.device), torch.from_numpy(v).to(self.device)

    def _fit(self, train: Graph, valid: Graph | None = None, callback: Callable[[ImplicitFactors, int], None] | None = None,
             **_: Any) -> None:
        from threadpoolctl import threadpool_limits  # a dependency of implicit

        matrix = interaction_matrix(train, self.etype)

        def on_epoch(epoch: int, *_: Any) -> None:
            if callback is not None:
                self._take_factors()
                callback(self, epoch + 1)

        with threadpool_limits(1, "blas"):  # implicit parallelises itself; a BLAS pool on top only contends
            self.model = self._make()
            self.model.fit(matrix, show_progress=False, callback=on_epoch)
        self._take_factors()

    def embeddings(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._u is None or self._v is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit() first")
        return self._u, self._v

    def params(self) -> dict[str, Any]:
        return {"factors": self.factors, "seed": self.seed}


class ImplicitALS(ImplicitFactors):
    """``implicit.cpu.als.AlternatingLeastSquares`` (conjugate-gradient solver) as a recommender."""

    name = "implicit_als"

    def __init__(self, graph: Graph | None = None, *, factors: int = 64, regularization: float = 0.01, alpha: float = 1.0,
                 iterations: int = 15, seed: int = 0, threads: int = 1, etype: tuple[str, str, str] = INTERACTS) -> None:
        super().__init__(graph, factors=factors, seed=seed, threads=threads, etype=etype)
        self.regularization, self.alpha, self.iterations = float(regularization), float(alpha), int(iterations)

    def _make(self) -> Any:
        from implicit.cpu.als import AlternatingLeastSquares

        return AlternatingLeastSquares(factors=self.factors, regularization=self.regularization, alpha=self.alpha,
                                       iterations=self.iterations, num_threads=self.threads, random_state=self.seed)

    def params(self) -> dict[str, Any]:
        return {**super().params(), "regularization": self.regularization, "alpha": self.alpha,
                "iterations": self.iterations, "use_cg": True}


class ImplicitBPR(ImplicitFactors):
    """``implicit.cpu.bpr.BayesianPersonalizedRanking`` as a recommender."""

    name = "implicit_bpr"

    def __init__(self, graph: Graph | None = None, *, factors: int = 64, learning_rate: float = 0.01,
                 regularization: float = 0.01, iterations: int = 100, seed: int = 0, threads: int = 1,
                 etype: tuple[str, str, str] = INTERACTS) -> None:
        super().__init__(graph, factors=factors, seed=seed, threads=threads, etype=etype)
        self.learning_rate, self.regularization, self.iterations = float(learning_rate), float(regularization), int(iterations)

    def _make(self) -> Any:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        return BayesianPersonalizedRanking(factors=self.factors, learning_rate=self.learning_rate,
                                           regularization=self.regularization, iterations=self.iterations,
                                           verify_negative_samples=True, num_threads=self.threads, random_state=self.seed)

    def params(self) -> dict[str, Any]:
        return {**super().params(), "learning_rate": self.learning_rate, "regularization": self.regularization,
                "iterations": self.iterations, "verify_negative_samples": True}


# ------------------------------------------------------------------------------- tuning
def _valid_metrics(model: EmbeddingRecommender, valid_data: Dataset) -> dict[str, float]:
    rep = gr.evaluate(model, valid_data, k=[20], split="valid")
    return {m: round(rep[m], 5) for m in METRICS}


def tune_als(valid_data: Dataset, args: argparse.Namespace, bar: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Grid over ``regularization x alpha`` on the validation split; returns (best params, grid rows)."""
    rows = []
    for reg, alpha in itertools.product(args.als_reg, args.als_alpha):
        t0 = time.perf_counter()
        model = ImplicitALS(factors=args.factors, regularization=reg, alpha=alpha, iterations=args.als_iters,
                            seed=args.seed, threads=args.threads).fit(valid_data.train)
        rows.append({"regularization": reg, "alpha": alpha, **_valid_metrics(model, valid_data),
                     "seconds": round(time.perf_counter() - t0, 2)})
        bar.update(1)
    best = max(rows, key=lambda r: r[SELECT])  # first of equals: grid order
    return {"regularization": best["regularization"], "alpha": best["alpha"], "iterations": args.als_iters}, rows


def tune_bpr(valid_data: Dataset, args: argparse.Namespace, bar: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Grid over ``learning_rate x regularization``, each fit scored at every epoch count in ``--bpr-iters``."""
    rows: list[dict[str, Any]] = []
    checkpoints = sorted(set(args.bpr_iters))
    for lr, reg in itertools.product(args.bpr_lr, args.bpr_reg):
        t0 = time.perf_counter()

        def at_epoch(model: ImplicitFactors, epoch: int, lr: float = lr, reg: float = reg, t0: float = t0) -> None:
            if epoch in checkpoints:
                rows.append({"learning_rate": lr, "regularization": reg, "iterations": epoch,
                             **_valid_metrics(model, valid_data), "seconds": round(time.perf_counter() - t0, 2)})

        ImplicitBPR(factors=args.factors, learning_rate=lr, regularization=reg, iterations=checkpoints[-1],
                    seed=args.seed, threads=args.threads).fit(valid_data.train, callback=at_epoch)
        bar.update(1)
    best = max(rows, key=lambda r: r[SELECT])
    return {k: best[k] for k in ("learning_rate", "regularization", "iterations")}, rows


# ----------------------------------------------------------------------------- LightGCN
def run_lightgcn(data: Dataset, args: argparse.Namespace, name: str, minutes_left: float | None = None) -> tuple[Any, dict[str, Any]]:
    """Fit LightGCN: its defaults, or the dataset's ``--lightgcn-epochs`` budget without early
    stopping; either within ``--lightgcn-minutes`` and ``minutes_left`` (``max_minutes``)."""
    epochs, minutes = args.lightgcn_epochs.get(name), args.lightgcn_minutes.get(name)
    if minutes_left is not None:
        minutes = minutes_left if minutes is None else min(minutes, minutes_left)
        minutes = round(max(minutes, 0.01), 2)
    common = {"seed": args.seed, "progress": args.progress, "max_minutes": minutes, "device": args.device,
              **args.lightgcn_params}
    t0 = time.perf_counter()
    if epochs is None:
        model = gr.models.create("lightgcn", **common)
        mode = "defaults (early stopping, refit)"
    else:  # the last epochs would be lost to early stopping within such a budget
        model = gr.models.create("lightgcn", epochs=epochs, patience=None, **common)
        mode = f"budget: {epochs} epochs, no early stopping"
    if minutes is not None:
        mode += f", <= {minutes} min"
    model.fit(data)
    if model.graph.device.type == "cuda":
        torch.cuda.synchronize(model.graph.device)
    fit_s = time.perf_counter() - t0
    r = model.result
    extra = {"mode": mode, "epochs_run": r.epochs_run, "best_epoch": r.best_epoch, "stopped_early": r.stopped_early,
             "stopped_by_time": r.stopped_by_time,
             "refit_epochs": None if model.refit_result is None else model.refit_result.epochs_run,
             "epoch_seconds": None if math.isnan(r.epoch_seconds) else round(r.epoch_seconds, 2),
             "final_loss": round(r.history[-1]["loss"], 5) if r.history else None}
    if not math.isnan(r.best_metric):
        extra["valid_ndcg@20"] = round(r.best_metric, 5)
    if model.selection:  # several L2 weights: the one chosen on the validation carve, and each one's score
        extra["reg_chosen"] = model.reg
        extra["reg_valid"] = {str(row["reg"]): round(row["valid_metric"], 5) for row in model.selection}
    return model, {"fit_seconds": round(fit_s, 2), **extra}


# -------------------------------------------------------------------------------- driver
def load_data(name: str, args: argparse.Namespace) -> Dataset:
    if name == "synthetic":
        from graphrec.data.synthetic import make_dataset

        return make_dataset(600, 400, avg_degree=20, seed=args.seed)
    data = gr.datasets.load(name, seed=args.seed) if name in SEEDED_SPLITS else gr.datasets.load(name)
    if not isinstance(data, Dataset):
        raise TypeError(f"--data {name!r} loads a {type(data).__name__}, not an interaction Dataset")
    return data


def _row(name: str, method: str, params: dict[str, Any], fit_s: float, rep: Any, extra: dict[str, Any]) -> dict[str, Any]:
    return {"dataset": name, "method": method, "params": params, "fit_seconds": round(fit_s, 2),
            **{m: round(rep[m], 5) for m in METRICS}, "eval_seconds": round(rep.seconds, 2), **extra}


def bench_dataset(name: str, args: argparse.Namespace, emit: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    t_start = time.perf_counter()
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    data = load_data(name, args)
    emit({"dataset": name, "seed": args.seed, "method": "data", "split_seed": args.seed if name in SEEDED_SPLITS else None,
          **data.summary()})
    valid_data = carve_validation(data, VALID_FRACTION, args.seed) if {"implicit_als", "implicit_bpr"} & set(args.methods) else None
    rows: list[dict[str, Any]] = []
    for method in args.methods:
        if method == "lightgcn":
            left = None
            if name in args.dataset_minutes:  # leave room for the test evaluation (about twice a peer's, or 1 min)
                reserve = max([2.0 * r["eval_seconds"] for r in rows] + [60.0]) + 30.0
                left = (60.0 * args.dataset_minutes[name] - (time.perf_counter() - t_start) - reserve) / 60.0
            model, extra = run_lightgcn(data, args, name, left)
            params, fit_s = model.params(), extra.pop("fit_seconds")
        elif method == "implicit_als_defaults":  # what a user gets without a tuning run
            t0 = time.perf_counter()
            model = ImplicitALS(factors=args.factors, iterations=args.als_iters, seed=args.seed, threads=args.threads).fit(data.train)
            fit_s = time.perf_counter() - t0
            params, extra = model.params(), {}
        else:
            tune, cls = (tune_als, ImplicitALS) if method == "implicit_als" else (tune_bpr, ImplicitBPR)
            n_grid = len(args.als_reg) * len(args.als_alpha) if method == "implicit_als" else len(args.bpr_lr) * len(args.bpr_reg)
            t0 = time.perf_counter()
            with tqdm(total=n_grid, desc=f"{name} {method} grid", unit="fit", disable=not args.progress, leave=False) as bar:
                chosen, grid = tune(valid_data, args, bar)  # type: ignore[arg-type]
            tune_s = time.perf_counter() - t0
            emit({"tune": method, "dataset": name, "seed": args.seed, "select": f"valid {SELECT}", "valid_fraction": VALID_FRACTION,
                  "chosen": chosen, "seconds": round(tune_s, 1), "grid": grid})
            t0 = time.perf_counter()
            model = cls(factors=args.factors, seed=args.seed, threads=args.threads, **chosen).fit(data.train)
            fit_s = time.perf_counter() - t0
            params, extra = model.params(), {"tune_seconds": round(tune_s, 1)}
        rep = gr.evaluate(model, data, k=[20])
        row = {"seed": args.seed, **_row(name, method, params, fit_s, rep, extra)}
        emit(row)
        if args.breakdown:
            emit({"breakdown": method, "dataset": name, "seed": args.seed, **breakdown(model, data, rep)})
        rows.append(row)
    emit(summarise(name, rows, time.perf_counter() - t_start))
    return rows


def breakdown(model: Any, data: Dataset, rep: Any, k: int = 20) -> dict[str, Any]:
    """Where a method wins or loses: NDCG@k / Recall@k per quartile of the users' training
    activity, and the mean training popularity and the number of distinct items of its top-k lists."""
    deg = data.train.degree(INTERACTS, side="src").cpu().numpy()[rep.users]
    edges = np.quantile(deg, [0.25, 0.5, 0.75])
    quartile = np.searchsorted(edges, deg, side="right")  # 0..3, ties to the upper quartile
    out: dict[str, Any] = {"activity_quartiles": {}}
    for q in range(4):
        mask = quartile == q
        if not mask.any():
            continue
        out["activity_quartiles"][f"q{q + 1}"] = {
            "train_interactions": [int(deg[mask].min()), int(deg[mask].max())], "users": int(mask.sum()),
            **{m: round(float(rep.per_user[m][mask].mean()), 5) for m in (f"ndcg@{k}", f"recall@{k}")},
        }
    top, _ = model.recommend_indices(torch.as_tensor(rep.users), k=k)
    pop = data.train.degree(INTERACTS, side="dst").to(torch.float64)
    out[f"top{k}_mean_item_train_degree"] = round(float(pop[top.cpu()].mean()), 1)
    out[f"top{k}_distinct_items"] = int(torch.unique(top).numel())
    return out


def summarise(name: str, rows: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """``lightgcn`` against each peer: wins (strictly higher) and relative gains per metric."""
    by = {r["method"]: r for r in rows}
    out: dict[str, Any] = {"summary": name, "seed": rows[0]["seed"] if rows else None, "wall_seconds": round(seconds, 1)}
    ours = by.get("lightgcn")
    if ours is None:
        return out
    out["lightgcn"] = {m: ours[m] for m in METRICS}
    verdicts = []
    for peer, r in by.items():
        if peer == "lightgcn":
            continue
        v: dict[str, Any] = {}
        for m in METRICS:
            v[m] = r[m]
            v[f"{m}_gain"] = round(ours[m] / r[m] - 1.0, 4) if r[m] > 0 else None
        v["beats_both"] = all(ours[m] > r[m] for m in METRICS)
        verdicts.append(v["beats_both"])
        out[f"vs_{peer}"] = v
    out["lightgcn_beats_all_peers"] = bool(verdicts) and all(verdicts)
    return out


def aggregate(name: str, runs: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """Across seeds: each method's mean and sample std per metric, and ``lightgcn`` against each peer
    (seeds where it is ahead on both metrics, mean per-seed relative gain per metric)."""
    by_method: dict[str, list[dict[str, Any]]] = {}
    for rows in runs:
        for r in rows:
            by_method.setdefault(r["method"], []).append(r)
    out: dict[str, Any] = {"aggregate": name, "seeds": [rows[0]["seed"] for rows in runs if rows]}
    for method, rs in by_method.items():
        out[method] = {m: {"mean": round(float(np.mean([r[m] for r in rs])), 5),
                           "std": round(float(np.std([r[m] for r in rs], ddof=1)) if len(rs) > 1 else 0.0, 5)} for m in METRICS}
    ours = by_method.get("lightgcn")
    if ours is not None:
        for peer, rs in by_method.items():
            if peer == "lightgcn":
                continue
            pairs = list(zip(ours, rs))
            out[f"lightgcn_vs_{peer}"] = {
                "ahead_on_both": f"{sum(all(a[m] > b[m] for m in METRICS) for a, b in pairs)}/{len(pairs)}",
                **{f"{m}_gain": round(float(np.mean([a[m] / b[m] - 1.0 for a, b in pairs if b[m] > 0])), 4) for m in METRICS},
            }
    return out


def _floats(s: str) -> list[float]:
    return [float(x) for x in s.split(",") if x.strip()]


def _ints(s: str) -> list[int]:
    return [int(x) for x in s.split(",") if x.strip()]


def _per_dataset(cast: Callable[[str], Any]) -> Callable[[str], dict[str, Any]]:
    """``"gowalla=15,lastfm=40"`` -> ``{"gowalla": 15, "lastfm": 40}``."""

    def parse(s: str) -> dict[str, Any]:
        out = {}
        for part in filter(None, (p.strip() for p in s.split(","))):
            key, sep, value = part.partition("=")
            if not sep:
                raise argparse.ArgumentTypeError(f"expected dataset=value, got {part!r}")
            out[key.strip()] = cast(value)
        return out

    return parse


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default="ml-100k,lastfm,gowalla", help="comma-separated dataset names")
    p.add_argument("--methods", default=",".join(METHODS), help=f"subset of {','.join(METHODS)}")
    p.add_argument("--seeds", type=_ints, default=[0],
                   help="one run per seed: seeds the models, the validation carve and, on ml-100k, the test split; "
                        "several seeds add an 'aggregate' line per dataset")
    p.add_argument("--factors", type=int, default=64, help="implicit factors (LightGCN uses its default dim 64)")
    p.add_argument("--threads", type=int, default=1, help="torch and implicit threads")
    p.add_argument("--device", default="cpu", help="LightGCN's device (the implicit peers run on the CPU)")
    p.add_argument("--als-reg", type=_floats, default=_floats("0.1,1,10,30,100,300"), help="ALS regularization grid")
    p.add_argument("--als-alpha", type=_floats, default=_floats("1,3,10,40,100,300"), help="ALS confidence scale grid")
    p.add_argument("--als-iters", type=int, default=15, help="ALS iterations (implicit's default)")
    p.add_argument("--bpr-lr", type=_floats, default=_floats("0.003,0.01,0.03"), help="BPR learning-rate grid")
    p.add_argument("--bpr-reg", type=_floats, default=_floats("0.0001,0.001,0.01"), help="BPR regularization grid")
    p.add_argument("--bpr-iters", type=_ints, default=_ints("25,50,100,200"), help="BPR epoch counts scored on validation")
    p.add_argument("--lightgcn-epochs", type=_per_dataset(int), default={},
                   help="per-dataset epoch budget, e.g. gowalla=15 (trains exactly that many, no early stopping)")
    p.add_argument("--lightgcn-params", type=json.loads, default={},
                   help='JSON object of LightGCN parameters to change from its defaults, e.g. \'{"negative_selection": "hardest"}\'')
    p.add_argument("--lightgcn-minutes", type=_per_dataset(float), default={},
                   help="per-dataset wall-clock cap for LightGCN's fit (max_minutes), e.g. gowalla=36")
    p.add_argument("--dataset-minutes", type=_per_dataset(float), default={},
                   help="per-dataset wall-clock budget, e.g. gowalla=44: a budgeted LightGCN (trained last) gets "
                        "what the peers left, less a reserve for its test evaluation")
    p.add_argument("--breakdown", action="store_true",
                   help="also emit, per method, NDCG/Recall per user-activity quartile and its lists' popularity")
    p.add_argument("--quick", action="store_true", help="synthetic data, tiny grids and budget (< 30 s)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True, help="tqdm bars on stderr")
    return p


def settings(argv: list[str] | None = None) -> argparse.Namespace:
    """Parsed and checked arguments; ``seed`` is the first of ``seeds`` (what one run uses)."""
    args = build_parser().parse_args(argv)
    if not args.seeds:
        raise ValueError("--seeds: give at least one seed")
    if not isinstance(args.lightgcn_params, dict):
        raise TypeError(f"--lightgcn-params must be a JSON object, got {args.lightgcn_params!r}")
    args.seed = args.seeds[0]
    if args.quick:
        args.data = "synthetic"
        args.als_reg, args.als_alpha, args.als_iters = [0.1, 10.0], [1.0], 10
        args.bpr_lr, args.bpr_reg, args.bpr_iters = [0.01], [0.01], [10, 20]
        args.lightgcn_epochs = {"synthetic": 10, **args.lightgcn_epochs}
    args.methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = sorted(set(args.methods) - set(METHODS))
    if bad:
        raise ValueError(f"--methods: unknown {bad}; choose from {list(METHODS)}")
    return args


def main(argv: list[str] | None = None, emit: Callable[[dict[str, Any]], None] | None = None) -> int:
    args = settings(argv)
    datasets = [d.strip() for d in args.data.split(",") if d.strip()]
    torch.set_num_threads(args.threads)
    if emit is None:
        def emit(obj: dict[str, Any]) -> None:
            print(json.dumps(obj), flush=True)

    implicit_version = None
    if set(args.methods) - {"lightgcn"}:
        try:
            import implicit
        except ImportError as e:
            raise SystemExit(f"bench_peers needs the 'bench' extra for its peers: pip install 'graphrec[bench]' "
                             f"(implicit>=0.7), or --methods lightgcn; {e}") from e
        implicit_version = implicit.__version__

    emit({"bench": "peers", "datasets": datasets, "methods": args.methods, "seeds": args.seeds, "threads": args.threads,
          "factors": args.factors, "als_grid": {"regularization": args.als_reg, "alpha": args.als_alpha, "iterations": args.als_iters},
          "bpr_grid": {"learning_rate": args.bpr_lr, "regularization": args.bpr_reg, "iterations": args.bpr_iters},
          "lightgcn_epochs": args.lightgcn_epochs, "lightgcn_params": args.lightgcn_params, "lightgcn_minutes": args.lightgcn_minutes,
          "dataset_minutes": args.dataset_minutes, "device": args.device, "implicit": implicit_version, "torch": torch.__version__, "machine": platform.machine(), "cpus": os.cpu_count()})
    t0 = time.perf_counter()
    for name in datasets:
        runs = [bench_dataset(name, argparse.Namespace(**{**vars(args), "seed": seed}), emit) for seed in args.seeds]
        if len(runs) > 1:
            emit(aggregate(name, runs))
    emit({"total": "peers", "seconds": round(time.perf_counter() - t0, 1)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
