"""Metrics and the full-ranking evaluation protocol."""

from .cold_start import ColdStartReport, ColdStartSplit, cold_start_split, evaluate_cold_start
from .metrics import METRICS, hit_rate, mrr, ndcg, precision, recall
from .protocol import EvalReport, evaluate

__all__ = [
    "METRICS", "ColdStartReport", "ColdStartSplit", "EvalReport", "cold_start_split", "evaluate", "evaluate_cold_start",
    "hit_rate", "mrr", "ndcg", "precision", "recall",
]
