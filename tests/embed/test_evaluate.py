"""Node-classification and link-prediction judges on hand-computable cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from graphrec.embed import f1_scores, link_auc, logistic_ovr, node_classification, top_labels
from graphrec.embed.evaluate import label_split


def test_f1_by_hand() -> None:
    pred = torch.tensor([[1, 0], [1, 1], [0, 0]], dtype=torch.bool)
    truth = torch.tensor([[1, 0], [0, 1], [0, 1]], dtype=torch.bool)
    # label 0: tp1 fp1 fn0 -> 2/3; label 1: tp1 fp0 fn1 -> 2/3; micro: tp2 fp1 fn1 -> 4/6
    out = f1_scores(pred, truth)
    assert out["micro_f1"] == pytest.approx(2 / 3)
    assert out["macro_f1"] == pytest.approx(2 / 3)


def test_top_labels_takes_as_many_as_each_row_has() -> None:
    s = torch.tensor([[0.1, 0.9, 0.5], [3.0, 1.0, 2.0]])
    got = top_labels(s, torch.tensor([2, 1]))
    assert got.tolist() == [[False, True, True], [True, False, False]]


def test_logistic_separates_and_classifies() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 2, generator=g)
    y = torch.stack([x[:, 0] > 0, x[:, 1] > 0], 1)
    W, b = logistic_ovr(x, y, C=10.0)
    acc = (((x.double() @ W + b) > 0) == y).double().mean()
    assert acc > 0.97
    res = node_classification(x, torch.where(x[:, 0] > 0, 1, 0), np.arange(100), np.arange(100, 200))
    assert res["micro_f1"] > 0.95  # single-label: micro-F1 is accuracy


def test_link_auc_perfect_random_and_ties() -> None:
    e = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    pos = torch.tensor([[0, 2], [1, 3]])
    neg = torch.tensor([[0, 1], [2, 3]])
    assert link_auc(e, pos, neg) == pytest.approx(1.0)
    assert link_auc(e, neg, pos) == pytest.approx(0.0)
    assert link_auc(e, pos, pos) == pytest.approx(0.5)  # all ties


def test_label_split_is_seeded_and_disjoint() -> None:
    a, b = label_split(50, 0.1, 3)
    assert len(a) == 5 and len(b) == 45 and not set(a) & set(b)
    assert np.array_equal(a, label_split(50, 0.1, 3)[0])
