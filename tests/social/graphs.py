"""Tiny social graphs shared by the social tests."""

from __future__ import annotations

from graphrec.graph import INTERACTS, TRUSTS, Graph


def tiny_bipartite(trust: bool = False) -> Graph:
    """4 users, 5 items, connected; optionally a trust ring 0 -> 1 -> 2 -> 3 -> 0 (both ways)."""
    g = Graph()
    g.add_node_type("user", 4)
    g.add_node_type("item", 5)
    u = [0, 0, 1, 1, 1, 2, 2, 3, 3, 3]
    i = [0, 1, 1, 2, 3, 2, 4, 0, 3, 4]
    g.add_edges(INTERACTS, u, i, timestamp=[1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    if trust:
        a, b = [0, 1, 2, 3], [1, 2, 3, 0]
        g.add_edges(TRUSTS, a + b, b + a)
    return g
