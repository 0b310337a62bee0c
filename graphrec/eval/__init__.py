"""Metrics and the full-ranking evaluation protocol."""

from .metrics import METRICS, hit_rate, mrr, ndcg, precision, recall
from .protocol import EvalReport, evaluate

__all__ = ["METRICS", "EvalReport", "evaluate", "hit_rate", "mrr", "ndcg", "precision", "recall"]
