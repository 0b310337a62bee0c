"""Ranking by random walks: exact personalized PageRank, the PowerWalk index and its spectral tail, PPR recommenders."""

from .exact import power_iteration
from .powerwalk import PowerWalkIndex, build_index, transition_matrix
from .recommenders import PowerWalkRecommender, PPRRecommender
from .spectral import SpectralTail, is_reversible, spectral_tail

__all__ = [
    "PPRRecommender", "PowerWalkIndex", "PowerWalkRecommender", "SpectralTail", "build_index", "is_reversible",
    "power_iteration", "spectral_tail", "transition_matrix",
]
