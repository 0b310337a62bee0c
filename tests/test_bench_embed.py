"""scripts/bench_embed.py: the DeepWalk peer and the classification summary on a tiny graph."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from graphrec.embed.evaluate import label_split
from graphrec.graph import Graph
from tests.conftest import load_script


def _two_cliques() -> tuple[Graph, torch.Tensor]:
    src, dst = [], []
    for base in (0, 10):
        for a in range(10):
            for b in range(10):
                if a != b:
                    src.append(base + a)
                    dst.append(base + b)
    src += [0, 10]
    dst += [10, 0]  # one bridge
    g = Graph()
    g.add_node_type("node", 20)
    g.add_edges(("node", "links", "node"), src, dst)
    return g, torch.tensor([0] * 10 + [1] * 10)


def test_deepwalk_separates_two_cliques() -> None:
    pytest.importorskip("gensim")
    bench = load_script("bench_embed")
    g, y = _two_cliques()
    emb = bench.deepwalk(g, walks=20, length=40, dim=16, window=3, threads=1, seed=0)
    assert emb.shape == (20, 16)
    z = torch.nn.functional.normalize(emb, dim=1)
    cos = z @ z.T
    same = y[:, None] == y[None, :]
    assert cos[same].mean() > cos[~same].mean() + 0.2  # the cliques are apart
    res = bench.classify(emb, y, [label_split(20, 0.5, s) for s in range(2)])
    assert set(res) >= {"micro_f1", "macro_f1", "micro_f1_each"} and len(res["micro_f1_each"]) == 2


def test_timed_reports_the_median() -> None:
    bench = load_script("bench_embed")
    calls = iter([1, 2, 3])
    out, med, runs = bench.timed(lambda: next(calls), 3)
    assert out == 3 and len(runs) == 3 and round(med, 3) == sorted(runs)[1]
    assert np.isfinite(med)
