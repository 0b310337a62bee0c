"""Recommenders: every model is a layer over the graph store."""

from .base import PAD_INDEX, EmbeddingRecommender, GraphChangedError, Recommender
from .baselines import ItemKNN, MostPop
from .persistence import load_model as load
from .registry import REGISTRY, available, create, register

__all__ = [
    "PAD_INDEX", "REGISTRY", "EmbeddingRecommender", "GraphChangedError", "ItemKNN", "MostPop", "Recommender",
    "available", "create", "load", "register",
]
