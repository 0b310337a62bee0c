"""``graphrec demo``: every layer that exists, on the built-in synthetic dataset.

Builds the seeded synthetic graph, fits each registered recommender with its small
``demo_params``, evaluates it with the full-ranking protocol and prints one table.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import torch

__all__ = ["DEMO_ORDER", "run_demo"]

#: models shown first, in this order; any other registered model follows alphabetically
DEMO_ORDER = ["mostpop", "itemknn", "gfcf", "mf", "lightgcn", "ppr", "powerwalk"]


def _row(name: str, params: dict[str, Any], data: Any, seed: int) -> dict[str, Any]:
    import inspect

    from .eval import evaluate
    from .models.registry import REGISTRY, create

    factory = REGISTRY[name]
    if "seed" in inspect.signature(factory).parameters:
        params = {"seed": seed, **params}
    model = create(name, **params)
    t0 = time.perf_counter()
    model.fit(data)
    fit_s = time.perf_counter() - t0
    rep = evaluate(model, data, k=[20])
    return {"model": name, "recall@20": rep["recall@20"], "ndcg@20": rep["ndcg@20"],
            "coverage@20": rep["coverage@20"], "fit_s": fit_s, "eval_s": rep.seconds}


def run_demo(device: torch.device | str = "cpu", seed: int = 0, models: list[str] | None = None, quiet: bool = False) -> list[dict[str, Any]]:
    """Run the demo; returns the table rows (and prints them unless ``quiet``)."""
    from .data import load
    from .graph import INTERACTS, ITEM
    from .models.registry import REGISTRY, _load_builtin_models

    _load_builtin_models()
    names = models or [m for m in DEMO_ORDER if m in REGISTRY] + sorted(set(REGISTRY) - set(DEMO_ORDER))
    unknown = [m for m in names if m not in REGISTRY]
    if unknown:  # before any output: a bad name is one line and nothing else
        raise ValueError(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(sorted(REGISTRY))}")
    say = (lambda *a: None) if quiet else partial(print, flush=True)  # each row as its model finishes, piped or not
    t0 = time.perf_counter()
    data = load("synthetic", seed=seed).to(device)
    say(f"synthetic graph built in {time.perf_counter() - t0:.2f}s: {data}")
    es = data.train.edges(INTERACTS)  # the trust edges are not counted
    say(f"store: {es.nbytes(include_cache=False) / max(es.num_edges, 1):.1f} bytes per interaction "
        f"(CSR with weights and timestamps) on {data.train.device}")
    rows = []
    say(f"\n{'model':<12}{'recall@20':>10}{'ndcg@20':>10}{'cover@20':>10}{'fit s':>8}{'eval s':>8}")
    for name in names:
        params = dict(getattr(REGISTRY[name], "demo_params", {}) or {})
        r = _row(name, params, data, seed)
        rows.append(r)
        say(f"{name:<12}{r['recall@20']:>10.4f}{r['ndcg@20']:>10.4f}{r['coverage@20']:>10.3f}{r['fit_s']:>8.2f}{r['eval_s']:>8.2f}")
    users = int((data.test.edges(INTERACTS).degree("src") > 0).sum())
    say(f"recall, ndcg: mean over the {users} test users, each ranking all {data.train.num_nodes(ITEM)} items "
        f"but its train items\ncover: share of the items in at least one user's top 20 · fit, eval: seconds")
    say(f"\ndemo finished in {time.perf_counter() - t0:.1f}s")
    return rows
