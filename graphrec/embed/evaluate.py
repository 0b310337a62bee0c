"""Judging node embeddings: multi-label node classification and link prediction.

- Node classification follows DeepWalk's protocol (Perozzi, Al-Rfou & Skiena, KDD 2014), the
  one FastRP and IRWE report: a one-vs-rest L2-regularised logistic regression per label on
  the labelled nodes; every other node is predicted its top-``|labels|`` labels (as many as
  it truly has), scored by micro- and macro-F1 (Tang & Liu's LIBLINEAR setting).
- Link prediction: the score of a pair is the cosine (or dot product) of its embeddings; the
  figure is the ROC AUC of held-out edges against sampled non-edges.

The logistic regression is a small full-batch L-BFGS fit in torch (all labels at once; the
labels' problems are independent), so scikit-learn is not needed. It minimises, per label,
``Σ_i log(1 + exp(-y_i (x_i·w + b))) + ||w||² / (2C)`` — scikit-learn's objective for
``LogisticRegression(C=C)`` (intercept not penalised).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..checks import check_choice, check_int, check_number, check_seed

__all__ = ["f1_scores", "label_split", "link_auc", "logistic_ovr", "node_classification", "top_labels"]


def logistic_ovr(
    x: torch.Tensor, y: torch.Tensor, *, C: float = 1.0, max_iter: int = 200
) -> tuple[torch.Tensor, torch.Tensor]:
    """One-vs-rest L2 logistic regression, every label at once.

    Parameters
    ----------
    x : FloatTensor ``(m, d)`` training features.
    y : BoolTensor ``(m, c)`` label membership.
    C : float
        Inverse regularisation strength (scikit-learn's ``C``).
    max_iter : int
        L-BFGS iterations.

    Returns
    -------
    (W ``(d, c)``, b ``(c,)``) float64: scores are ``x @ W + b``.
    """
    C = check_number("C", C, 0, low_open=True)
    max_iter = check_int("max_iter", max_iter, 1)
    xd = x.detach().to(torch.float64)
    t = y.to(torch.float64)
    d, c = xd.shape[1], t.shape[1]
    W = torch.zeros(d, c, dtype=torch.float64, device=x.device, requires_grad=True)
    b = torch.zeros(c, dtype=torch.float64, device=x.device, requires_grad=True)
    opt = torch.optim.LBFGS([W, b], lr=1.0, max_iter=max_iter, tolerance_grad=1e-6, tolerance_change=1e-10,
                            history_size=20, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        z = xd @ W + b
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, t, reduction="sum") + (W * W).sum() / (2 * C)
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    return W.detach(), b.detach()


def top_labels(scores: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """Predict each row's ``counts[r]`` highest-scoring labels: BoolTensor like ``scores`` ``(m, c)``."""
    order = torch.argsort(scores, dim=1, descending=True, stable=True)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(scores.shape[1], device=scores.device).expand_as(order))
    return rank < counts.unsqueeze(1)


def f1_scores(pred: torch.Tensor, truth: torch.Tensor) -> dict[str, float]:
    """Micro- and macro-F1 of boolean label matrices ``(m, c)`` (a label absent from both counts F1 0, as scikit-learn)."""
    tp = (pred & truth).sum(0).to(torch.float64)
    fp = (pred & ~truth).sum(0).to(torch.float64)
    fn = (~pred & truth).sum(0).to(torch.float64)
    micro = float(2 * tp.sum() / (2 * tp.sum() + fp.sum() + fn.sum()).clamp_min(1e-12))
    per = 2 * tp / (2 * tp + fp + fn).clamp_min(1e-12)
    return {"micro_f1": micro, "macro_f1": float(per.mean())}


def node_classification(
    emb: torch.Tensor,
    labels: torch.Tensor,
    train_idx: Any,
    test_idx: Any,
    *,
    C: float = 1.0,
    max_iter: int = 200,
) -> dict[str, float]:
    """DeepWalk's multi-label protocol: fit on ``train_idx``, predict the top ``|labels|`` on ``test_idx``.

    Parameters
    ----------
    emb : FloatTensor ``(n, d)``
    labels : BoolTensor ``(n, c)`` (or a LongTensor ``(n,)`` of classes, ``-1`` unlabelled:
        one-hot, then the top-1 prediction is the usual multi-class one).
    train_idx, test_idx : node indices.

    Returns
    -------
    ``{"micro_f1", "macro_f1"}`` on the test nodes (for single-label data micro-F1 is accuracy).
    """
    labels = _as_multilabel(labels).to(emb.device)
    tr = torch.as_tensor(np.asarray(train_idx), dtype=torch.int64, device=emb.device)
    te = torch.as_tensor(np.asarray(test_idx), dtype=torch.int64, device=emb.device)
    if tr.numel() == 0 or te.numel() == 0:
        raise ValueError("node_classification needs labelled training and test nodes")
    W, b = logistic_ovr(emb[tr], labels[tr], C=C, max_iter=max_iter)
    scores = emb[te].to(torch.float64) @ W + b
    truth = labels[te]
    return f1_scores(top_labels(scores, truth.sum(1)), truth)


def _as_multilabel(labels: torch.Tensor) -> torch.Tensor:
    labels = torch.as_tensor(labels)
    if labels.dim() == 2:
        return labels.to(torch.bool)
    if labels.dim() == 1:
        lab = labels.to(torch.int64)
        c = int(lab.max()) + 1 if lab.numel() else 0
        out = torch.zeros(lab.numel(), max(c, 1), dtype=torch.bool)
        ok = lab >= 0
        out[ok.nonzero().squeeze(1), lab[ok]] = True
        return out
    raise ValueError(f"labels must be (n, c) membership or (n,) classes, got shape {tuple(labels.shape)}")


def link_auc(
    emb: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor, *, similarity: str = "cosine"
) -> float:
    """ROC AUC of positive pairs ``pos`` ``(2, p)`` against negative pairs ``neg`` ``(2, q)``.

    Ties count one half (the Mann–Whitney statistic).
    """
    similarity = check_choice("similarity", similarity, ("cosine", "dot"))
    e = torch.nn.functional.normalize(emb, dim=1) if similarity == "cosine" else emb

    def score(p: torch.Tensor) -> torch.Tensor:
        p = p.to(emb.device, torch.int64)
        return (e[p[0]] * e[p[1]]).sum(1).to(torch.float64)

    sp, sn = score(pos), score(neg)
    if sp.numel() == 0 or sn.numel() == 0:
        raise ValueError("link_auc needs positive and negative pairs")
    allv = torch.cat([sp, sn])
    order = torch.argsort(allv, stable=True)
    ranks = torch.empty_like(allv)
    sv = allv[order]
    # average ranks of ties (1-based)
    _, inv, cnt = torch.unique_consecutive(sv, return_inverse=True, return_counts=True)
    ends = torch.cumsum(cnt, 0).to(torch.float64)
    avg = ends - (cnt.to(torch.float64) - 1) / 2
    ranks[order] = avg[inv]
    r_pos = ranks[: sp.numel()].sum()
    n_p, n_n = sp.numel(), sn.numel()
    return float((r_pos - n_p * (n_p + 1) / 2) / (n_p * n_n))


def label_split(n_labelled: int, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded split of ``range(n_labelled)`` into a ``share`` part and the rest."""
    share = check_number("share", share, 0, 1, low_open=True, high_open=True)
    rng = np.random.default_rng(check_seed(seed))
    perm = rng.permutation(n_labelled)
    k = max(1, min(n_labelled - 1, round(share * n_labelled)))
    return np.sort(perm[:k]), np.sort(perm[k:])
