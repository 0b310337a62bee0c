"""Recommenders: every model is a layer over the graph store."""

from .base import EmbeddingRecommender, Recommender
from .baselines import ItemKNN, MostPop
from .registry import REGISTRY, create, register

__all__ = ["Recommender", "EmbeddingRecommender", "MostPop", "ItemKNN", "REGISTRY", "create", "register"]
