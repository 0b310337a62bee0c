"""Recommenders: every model is a layer over the graph store."""

from .base import EmbeddingRecommender, Recommender
from .baselines import ItemKNN, MostPop
from .registry import REGISTRY, available, create, register

__all__ = ["REGISTRY", "EmbeddingRecommender", "ItemKNN", "MostPop", "Recommender", "available", "create", "register"]
