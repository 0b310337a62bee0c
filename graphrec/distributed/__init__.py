"""graphrec on a Ray cluster: the local calls plus ``cluster=``.

Ray is an optional dependency (``pip install 'graphrec[ray]'``); ``import graphrec`` never
imports it, and every function here raises one ImportError line when it is missing.
"""

from .cluster import connect
from .fastrp import fastrp
from .powerwalk import build_powerwalk_index
from .scoring import score_to_file

__all__ = ["build_powerwalk_index", "connect", "fastrp", "score_to_file"]
