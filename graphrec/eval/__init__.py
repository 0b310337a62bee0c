"""Metrics and the full-ranking evaluation protocol."""

from .metrics import METRICS, hit_rate, mrr, ndcg, precision, recall
from .protocol import EvalReport, evaluate
from .cold_start import ColdStartReport, ColdStartSplit, cold_start_split, evaluate_cold_start

__all__ = [
    "METRICS", "ColdStartReport", "ColdStartSplit", "EvalReport", "cold_start_split", "evaluate", "evaluate_cold_start",
    "hit_rate", "mrr", "ndcg", "precision", "recall",
]
