"""Ranking by random walks: exact personalized PageRank, the PowerWalk index, PPR recommenders."""

from .exact import power_iteration
from .powerwalk import PowerWalkIndex, build_index, transition_matrix
from .recommenders import PowerWalkRecommender, PPRRecommender

__all__ = ["PPRRecommender", "PowerWalkIndex", "PowerWalkRecommender", "build_index", "power_iteration", "transition_matrix"]
