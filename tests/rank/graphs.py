"""Small random graphs and helpers shared by the ranking tests."""

from __future__ import annotations

import numpy as np

from graphrec.graph import INTERACTS, TRUSTS, Graph


def random_bipartite(seed: int, n_users: int = 30, n_items: int = 20, per_user: int = 4, trust: str | None = None) -> Graph:
    """``per_user`` random items per user; ``trust='one-way'`` / ``'both'`` adds 30 user→user edges (or both directions)."""
    rng = np.random.default_rng(seed)
    u = np.repeat(np.arange(n_users), per_user)
    i = rng.integers(0, n_items, size=u.size)
    g = Graph()
    g.add_node_type("user", n_users)
    g.add_node_type("item", n_items)
    g.add_edges(INTERACTS, u, i)
    if trust is not None:
        a = rng.integers(0, n_users, size=30)
        b = (a + 1 + rng.integers(0, n_users - 1, size=30)) % n_users
        if trust == "both":
            a, b = np.concatenate([a, b]), np.concatenate([b, a])
        g.add_edges(TRUSTS, a, b)
    return g


def l1(a, b) -> float:
    """Mean L1 distance between the rows of ``a`` and ``b``."""
    return (a - b).abs().sum(1).mean().item()
