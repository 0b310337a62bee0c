"""Evaluation speed: full-ranking protocol vs the bare ``U @ V.T`` matmuls it cannot avoid.

For every Gowalla test user, with 64-dim embeddings: score all items, mask training items,
take the top 20 and compute every metric (``graphrec.evaluate``), side by side with only the
batched matmuls on the same device. Prints JSON lines; the acceptance ratio is
``protocol_seconds / matmul_seconds <= 2``.

    python scripts/bench_eval.py [--data gowalla] [--device cpu] [--dim 64] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch

import graphrec as gr
from graphrec.models.base import EmbeddingRecommender


class FixedEmbeddings(EmbeddingRecommender):
    """Scores from given embedding tables (the model under test is irrelevant to speed)."""

    name = "fixed-embeddings"

    def __init__(self, user_emb: torch.Tensor, item_emb: torch.Tensor) -> None:
        super().__init__()
        self.u, self.v = user_emb, item_emb

    def _fit(self, train, valid=None, **_):
        self.u, self.v = self.u.to(train.device), self.v.to(train.device)

    def embeddings(self):
        return self.u, self.v


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="gowalla")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--batch", type=int, default=2048)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    device = torch.device(args.device)
    data = gr.datasets.load(args.data).to(device)
    gen = torch.Generator().manual_seed(0)
    u = (torch.randn(data.num_users, args.dim, generator=gen) * 0.1).to(device)
    v = (torch.randn(data.num_items, args.dim, generator=gen) * 0.1).to(device)
    model = FixedEmbeddings(u, v).fit(data)
    users = torch.nonzero(data.test.degree(side="src") > 0).squeeze(1)

    def bare() -> float:
        t0 = time.perf_counter()
        with torch.no_grad():
            for s in range(0, users.numel(), args.batch):
                out = u[users[s : s + args.batch]] @ v.T
                del out
        sync(device)
        return time.perf_counter() - t0

    def protocol() -> float:
        rep = gr.evaluate(model, data, k=[20], batch_size=args.batch)
        return rep.seconds

    bare(), protocol()  # warm-up (allocator, threads)
    t_bare = min(bare() for _ in range(args.repeats))
    t_prot = min(protocol() for _ in range(args.repeats))
    common = {"dataset": data.name, "users": int(users.numel()), "items": data.num_items, "dim": args.dim,
              "batch": args.batch, "device": str(device), "threads": torch.get_num_threads(),
              "machine": platform.machine(), "torch": torch.__version__}
    print(json.dumps({"method": "bare_matmul", "seconds": round(t_bare, 4), **common}))
    print(json.dumps({"method": "graphrec.evaluate", "seconds": round(t_prot, 4), **common}))
    print(json.dumps({"metric": "protocol_over_matmul", "ratio": round(t_prot / t_bare, 3), "goal": "<= 2", **common}))


if __name__ == "__main__":
    main()
