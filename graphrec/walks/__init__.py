"""The vectorised random-walk engine (one walker for PowerWalk, SALSA/MeritRank and IRWE)."""

from .engine import Move, WalkEngine, WalkResult, WalkState, bipartite_engine, coalesce_visits

__all__ = ["Move", "WalkEngine", "WalkResult", "WalkState", "bipartite_engine", "coalesce_visits"]
