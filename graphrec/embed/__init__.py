"""Node embeddings over the store: IRWE (inductive identity + position embeddings from walks)."""

from .irwe import IRWE, IRWEEmbedding
from .walkstats import node_engine, walk_statistics

__all__ = ["IRWE", "IRWEEmbedding", "node_engine", "walk_statistics"]
