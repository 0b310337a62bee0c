"""What an attack gains: promoted items' share of honest top-k, their score mass, honest accuracy.

:func:`attack_report` measures a model fitted on an attacked dataset
(:class:`~graphrec.attacks.sybil.Attack`), over honest users only:

- ``promoted_share``: the share of the honest users' top-``k`` slots (seen items excluded,
  as recommended) that hold a promoted item;
- ``promoted_mass``: the mean share of a user's (non-negative) item-score mass on the
  promoted items: for walk models the share of item visits that end in the Sybil region's
  items, for PPR its stationary mass there;
- ``recall@k`` / ``ndcg@k`` of the honest users, by :func:`graphrec.evaluate`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..checks import check_int
from ..eval.protocol import evaluate
from ..models.base import Recommender
from .sybil import Attack

__all__ = ["attack_report", "honest_test_users"]


def honest_test_users(attack: Attack, n: int | None = None, seed: int = 0) -> np.ndarray:
    """Honest users with held-out items (sorted), ``n`` of them drawn at random when given."""
    users = np.unique(attack.data.test.edges().row().cpu().numpy())
    users = users[users < attack.num_honest]
    if n is not None and n < users.size:
        users = np.sort(np.random.default_rng(seed).choice(users, size=n, replace=False))
    return users


def attack_report(model: Recommender, attack: Attack, users: Any = None, *, k: int = 20, batch_size: int = 256, accuracy: bool = True) -> dict[str, float]:
    """Promoted share and mass in honest top-``k``, and honest Recall/NDCG@``k``.

    Parameters
    ----------
    model : Recommender fitted on ``attack.data``.
    attack : Attack
    users : honest user indices (default: :func:`honest_test_users`).
    accuracy : also run :func:`graphrec.evaluate` on ``users``.

    Returns
    -------
    dict with ``promoted_share``, ``promoted_mass``, ``users`` and ``recall@k``, ``ndcg@k``;
    ``promoted_share_unattacked``: the share among the users not on an attack edge (who did
    not themselves trust an attacking account; ``None`` when every user is on one).
    """
    k = check_int("k", k, 1)
    users = honest_test_users(attack) if users is None else np.asarray(users)
    if users.size and int(users.max()) >= attack.num_honest:
        raise ValueError("attack_report measures honest users only; users holds a Sybil")
    u = torch.as_tensor(users, dtype=torch.int64, device=model.device)
    tg = attack.targets.to(model.device)
    hits = 0
    hits_unattacked, n_unattacked = 0, 0
    attacked = attack.attacked.to(model.device)
    mass = 0.0
    with torch.no_grad():
        for s in range(0, u.numel(), batch_size):
            ub = u[s : s + batch_size]
            scores = model.score(ub).float()
            pos = scores.clamp_min(0)
            tot = pos.sum(1).clamp_min(1e-30)
            mass += float((pos[:, tg].sum(1) / tot).sum())
            idx, _ = model.recommend_indices(ub, k)
            per_user = torch.isin(idx, tg).sum(1)
            hits += int(per_user.sum())
            away = ~torch.isin(ub, attacked)
            hits_unattacked += int(per_user[away].sum())
            n_unattacked += int(away.sum())
    out: dict[str, float] = {
        "users": int(u.numel()),
        "promoted_share": hits / max(1, u.numel() * k),
        "promoted_mass": mass / max(1, u.numel()),
        "promoted_share_unattacked": hits_unattacked / (n_unattacked * k) if n_unattacked else None,
    }
    if accuracy:
        test_users = users[np.isin(users, np.unique(attack.data.test.edges().row().cpu().numpy()))]
        rep = evaluate(model, attack.data, k=[k], users=test_users, batch_size=batch_size)
        out[f"recall@{k}"] = rep[f"recall@{k}"]
        out[f"ndcg@{k}"] = rep[f"ndcg@{k}"]
    return out
