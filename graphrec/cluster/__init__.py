"""Modularity clustering of the store's relations (Leiden), for GraphHash's embedding tables.

:func:`leiden` clusters one relation (users x items with Barber's bipartite modularity or
Newman's; a one-type relation such as trust with Newman's); :func:`resolution_for_budget`
searches the resolution that gives a target number of clusters; :func:`resize_clusters` makes
the count exact; :func:`modularity` scores any clustering. The GraphHash tables built on them
live in :mod:`graphrec.models.hashing` (Wu et al., WWW 2025).
"""

from .leiden import (
    BACKENDS,
    Clustering,
    bisect_resolution,
    clear_cache,
    leiden,
    resolution_for_budget,
)
from .modularity import KINDS, modularity, simple_edges
from .resize import compact, resize_clusters

__all__ = [
    "BACKENDS",
    "KINDS",
    "Clustering",
    "bisect_resolution",
    "clear_cache",
    "compact",
    "leiden",
    "modularity",
    "resize_clusters",
    "resolution_for_budget",
    "simple_edges",
]
