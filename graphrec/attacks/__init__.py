"""Attack harness: Sybil regions and popularity bombing, and what they gain per model."""

from .measure import attack_report, honest_test_users
from .sybil import TOPOLOGIES, Attack, from_synthetic, popularity_attack, sybil_attack

__all__ = ["TOPOLOGIES", "Attack", "attack_report", "from_synthetic", "honest_test_users", "popularity_attack", "sybil_attack"]
