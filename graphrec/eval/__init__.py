"""Metrics and the full-ranking evaluation protocol."""

from .metrics import METRICS, hit_rate, mrr, ndcg, precision, recall
from .protocol import EvalReport, evaluate

__all__ = ["evaluate", "EvalReport", "METRICS", "recall", "ndcg", "precision", "hit_rate", "mrr"]
