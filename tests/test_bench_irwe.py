"""scripts/bench_irwe.py: the structural baseline by hand on a tiny graph."""

from __future__ import annotations

import math

import numpy as np
import pytest

from graphrec.graph import Graph

from .conftest import load_script


def test_structural_features_by_hand() -> None:
    bench = load_script("bench_irwe")
    g = Graph()
    g.add_node_type("node", 4)
    edges = [(0, 1), (1, 2), (2, 0), (2, 3)]  # a triangle with a tail at node 2
    src = [a for a, b in edges] + [b for a, b in edges]
    dst = [b for a, b in edges] + [a for a, b in edges]
    g.add_edges(bench.LINKS, np.asarray(src), np.asarray(dst))
    x = bench.structural_features(g)
    assert x.shape == (4, 5)
    deg = np.array([2, 2, 3, 1])
    assert np.allclose(x[:, 0], np.log1p(deg))
    assert x[3, 1] == pytest.approx(math.log(4)) and x[3, 2] == pytest.approx(math.log(4))  # its one neighbour has degree 3
    assert np.allclose(x[:, 3], [1.0, 1.0, 1 / 3, 0.0])  # clustering coefficients
    assert np.exp(x[:, 4]).sum() == pytest.approx(1.0)  # PageRank sums to 1
