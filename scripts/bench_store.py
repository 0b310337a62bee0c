"""Graph-store footprint and load speed on Gowalla.

Prints JSON lines:
- ``store_bytes``: bytes per training interaction of CSR, CSC (+ permutation) and the cached
  normalised adjacency values (LightGCN's Â), separately and together (goal <= 32).
- ``load``: ``graphrec.datasets.load`` from the LightGCN text files, and ``load_edge_table``
  on a two-column CSV of the same pairs, next to ``pandas.read_csv`` + ``scipy.sparse.csr_matrix``
  on that CSV (the peer), in one run.

    python scripts/bench_store.py [--data gowalla] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import graphrec as gr
from graphrec.data import load_edge_table


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="gowalla")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    machine = {"machine": platform.machine(), "threads": torch.get_num_threads(), "torch": torch.__version__}

    data = gr.datasets.load(args.data)
    g = data.train
    es = g.edges(gr.INTERACTS)
    n = es.num_edges
    csr = es.nbytes(include_cache=False)
    es.csc()
    with_csc = es.nbytes()
    g.norm_adj()
    total = es.nbytes()
    print(json.dumps({
        "metric": "store_bytes", "dataset": data.name, "interactions": n,
        "csr_per_edge": round(csr / n, 2), "csc_per_edge": round((with_csc - csr) / n, 2),
        "norm_adj_per_edge": round((total - with_csc) / n, 2), "total_per_edge": round(total / n, 2),
        "goal": "<= 32", "index_dtype": str(es.indices.dtype), **machine,
    }))

    t_text = best_of(lambda: gr.datasets.load(args.data), args.repeats)
    users, items = es.coo()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pairs.csv"
        np.savetxt(path, np.stack([users.numpy(), items.numpy()], 1), fmt="%d", delimiter=",", header="user,item", comments="")

        def peer() -> None:
            import pandas as pd
            import scipy.sparse as sp

            df = pd.read_csv(path)
            sp.csr_matrix((np.ones(len(df), np.float32), (df["user"].to_numpy(), df["item"].to_numpy())))

        t_peer = best_of(peer, args.repeats)
        t_table = best_of(lambda: load_edge_table(path), args.repeats)
    print(json.dumps({
        "metric": "load", "dataset": data.name, "pairs": n,
        "graphrec_text_dir_seconds": round(t_text, 4),
        "graphrec_edge_table_csv_seconds": round(t_table, 4),
        "pandas_read_csv_scipy_csr_seconds": round(t_peer, 4),
        "edge_table_over_peer": round(t_table / t_peer, 3), **machine,
    }))


if __name__ == "__main__":
    main()
