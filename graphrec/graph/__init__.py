"""The graph store and its interop."""

from .edges import EdgeSet, EdgeType
from .idmap import IdMap
from .store import INTERACTS, ITEM, TRUSTS, USER, Graph, store_device

__all__ = ["INTERACTS", "ITEM", "TRUSTS", "USER", "EdgeSet", "EdgeType", "Graph", "IdMap", "store_device"]
