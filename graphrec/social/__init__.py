"""Sybil-resistant social recommendation: personalized SALSA, MeritRank decays, reputation."""

from .decays import DISTRUSTS, bridged, distrust_hook, epoch_factor
from .meritrank import MeritRankSALSA
from .reputation import default_seeds, reputation, reputation_filter, reputation_weights
from .salsa import SALSARecommender
from .view import recent_view, with_edges

__all__ = [
    "DISTRUSTS",
    "MeritRankSALSA",
    "SALSARecommender",
    "bridged",
    "default_seeds",
    "distrust_hook",
    "epoch_factor",
    "recent_view",
    "reputation",
    "reputation_filter",
    "reputation_weights",
    "with_edges",
]
