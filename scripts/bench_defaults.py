#!/usr/bin/env python
"""Validation-only study: candidate LightGCN defaults against validation-tuned ALS, test never read.

How ``lightgcn``'s defaults were chosen. For each ``--data`` dataset and each outer seed, a
per-user share (``--outer-fraction``, 20%) of the TRAINING split is carved off (:func:`graphrec.data.splits.carve_validation`)
and plays the test split; the real test split is never loaded into a model or a metric. On that
outer split this script fits

``als_tuned``
    ``implicit``'s ALS, its ``regularization x alpha`` grid chosen by NDCG@20 on a further 10%
    carve (exactly the tuning of ``scripts/bench_peers.py``), refit on the outer training part;
``lightgcn``
    one fit per candidate in ``--candidates`` (a JSON list of parameter dicts; ``{}`` is the
    current defaults), each with its own early stopping and refit as ``fit`` does by default,

and reports Recall@20 / NDCG@20 on the outer held-out part, with each candidate's gain over
tuned ALS. Prints JSON lines (``setup``, one per fit, ``total``).

Usage::

    export GRAPHREC_DATA=../shared/datasets
    python scripts/bench_defaults.py --data ml-100k,lastfm --outer 100,101 \\
        --candidates '[{"lr": 0.001, "reg": 0.0001, "negatives": 1}, {}]'
    python scripts/bench_defaults.py --quick        # synthetic data, < 1 min

Needs the ``bench`` extra (``implicit``) for the ALS reference; ``--no-als`` skips it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

import graphrec as gr
from graphrec.data.dataset import Dataset
from graphrec.data.splits import carve_validation

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_peers  # sibling script: the ALS wrapper and its tuning


def outer_split(data: Dataset, seed: int, fraction: float = 0.2) -> Dataset:
    """Train minus a per-user ``fraction`` carve, and that carve as the split scored (``test``)."""
    carved = carve_validation(data, fraction, seed)
    return Dataset(f"{data.name}-outer{seed}", carved.train, carved.valid)


def peer_args(threads: int) -> argparse.Namespace:
    """``bench_peers.py``'s default settings (its ALS grid, factors, seed), with ``threads``."""
    args = bench_peers.settings([])
    args.threads = threads
    return args


def tuned_als(outer: Dataset, args: argparse.Namespace, bar: Any) -> tuple[Any, dict[str, Any]]:
    chosen, _ = bench_peers.tune_als(carve_validation(outer, bench_peers.VALID_FRACTION, args.seed), args, bar)
    model = bench_peers.ImplicitALS(factors=args.factors, seed=args.seed, threads=args.threads, **chosen).fit(outer.train)
    return model, chosen


def carve_parser(description: str, *, data: str, outer: str, outer_fraction: float, quick: str) -> argparse.ArgumentParser:
    """The options of a validation-carve study (this script's and its siblings'), with their defaults."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data", default=data)
    p.add_argument("--outer", default=outer, help="outer carve seeds")
    p.add_argument("--outer-fraction", type=float, default=outer_fraction,
                   help="share of each user's training items carved off and scored (0.1 keeps the fit denser)")
    p.add_argument("--als", action=argparse.BooleanOptionalAction, default=True, help="fit the tuned-ALS reference")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quick", action="store_true", help=quick)
    return p


def main(argv: list[str] | None = None) -> int:
    p = carve_parser(__doc__.splitlines()[0], data="ml-100k,lastfm", outer="100,101", outer_fraction=0.2, quick="synthetic data, short training")
    p.add_argument("--candidates", default="[{}]", help="JSON list of lightgcn parameter dicts")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    candidates = json.loads(args.candidates)
    if not isinstance(candidates, list) or not all(isinstance(c, dict) for c in candidates):
        p.error("--candidates must be a JSON list of objects")
    names = ["synthetic"] if args.quick else [s.strip() for s in args.data.split(",") if s.strip()]
    seeds = [int(s) for s in args.outer.split(",")]
    extra = {"epochs": 20, "eval_every": 5, "dim": 16} if args.quick else {}
    print(json.dumps({"setup": "bench_defaults", "data": names, "outer": seeds, "outer_fraction": args.outer_fraction,
                      "candidates": candidates, "threads": args.threads, "torch": torch.__version__}), flush=True)
    peers = peer_args(args.threads)
    t_start = time.perf_counter()
    for name in names:
        data = bench_peers.load_data(name, peers)
        for seed in seeds:
            outer = outer_split(data, seed, args.outer_fraction)
            reference = None
            if args.als:
                t0 = time.perf_counter()
                grid = len(peers.als_reg) * len(peers.als_alpha)
                with tqdm(total=grid, desc=f"{name}/{seed} ALS grid", unit="fit", leave=False) as bar:
                    model, chosen = tuned_als(outer, peers, bar)
                rep = gr.evaluate(model, outer, k=[20])
                reference = {m: rep[m] for m in bench_peers.METRICS}
                print(json.dumps({"data": name, "outer": seed, "model": "als_tuned", "params": chosen,
                                  **{m: round(v, 5) for m, v in reference.items()},
                                  "seconds": round(time.perf_counter() - t0, 1)}), flush=True)
            for cand in candidates:
                t0 = time.perf_counter()
                model = gr.models.create("lightgcn", seed=0, progress=True, **{**extra, **cand}).fit(outer)
                rep = gr.evaluate(model, outer, k=[20])
                row: dict[str, Any] = {"data": name, "outer": seed, "model": "lightgcn", "params": cand,
                                       **{m: round(rep[m], 5) for m in bench_peers.METRICS},
                                       "best_epoch": model.result.best_epoch, "epoch_seconds": round(model.result.epoch_seconds, 3),
                                       "seconds": round(time.perf_counter() - t0, 1)}
                if model.selection:  # several L2 weights: the one chosen on the inner validation carve
                    row["chosen"] = {"reg": model.reg, "valid": {r["reg"]: round(r["valid_metric"], 5) for r in model.selection}}
                if reference is not None:
                    row["gain_vs_als"] = {m: round(rep[m] / reference[m] - 1.0, 4) for m in bench_peers.METRICS}
                print(json.dumps(row), flush=True)
    print(json.dumps({"total_seconds": round(time.perf_counter() - t_start, 1)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
