"""Sybil-resistant social recommendation: personalized SALSA, MeritRank decays, reputation."""

from .salsa import SALSARecommender
from .view import recent_view, with_edges

__all__ = ["SALSARecommender", "recent_view", "with_edges"]
