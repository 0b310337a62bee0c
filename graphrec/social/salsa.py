"""Personalized SALSA (``salsa``): GraphJet-style random walks from the seed user.

A user's recommendations are the item visits of ``walks`` random walks started at the user
over the interaction graph, alternating ``user -> item -> user`` (the simple random walk on
the bipartite graph: SALSA's two chains interleaved), optionally also stepping over the
user's trust edges (``user -trusts-> user``), so walks enter the user's circle of trust.
Each walk ends with probability ``reset`` before every step (a reset: the next walk starts
again at the seed; GraphJet's resets, Monte Carlo fingerprints' geometric lengths) and after
``length`` steps at most; an item's score is its visits per walk.

Only recent interactions count: ``window`` keeps the interactions of the last ``window`` time
units and ``max_per_user`` bounds the interactions any one user contributes
(:func:`~graphrec.social.view.recent_view`), GraphJet's bounded per-user memory.

Walks come from the one walk engine (:class:`~graphrec.walks.WalkEngine`): all walkers of a
batch of users step at once on ``graph.device``. Real time: new interactions and trust edges
added to the store are seen by the next query after :meth:`update` (it rebuilds the view and
the walk's transition cache, O(edges); queries always draw fresh walks, so no stored walk
must be redrawn).

Exact solution (tests): with ``reset=0`` and a connected graph, the walk's stationary visit
share of item ``i`` is SALSA's authority score ``deg(i) / (2 |E|)``; with ``reset > 0`` the
expected visits are ``sum_t e_s P_k^t`` (``P_k``: the chain, killed w.p. ``reset`` per step).

References
----------
Lempel, Moran. SALSA: the stochastic approach for link-structure analysis. ACM TOIS 19(2), 2001.
Gupta, Goel, Lin, Sharma, Wang, Zadeh. WTF: the who to follow service at Twitter. WWW 2013.
Sharma, Jiang, Bommannavar, Larson, Lin. GraphJet: real-time content recommendations at
Twitter. PVLDB 9(13), 2016.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from ..checks import check_bool, check_int, check_number, check_seed
from ..graph.edges import EdgeType
from ..graph.store import INTERACTS, TRUSTS, Graph
from ..models.base import Recommender
from ..models.registry import register
from ..walks.engine import WalkEngine, WalkResult, bipartite_engine
from .view import recent_view

__all__ = ["SALSARecommender", "item_visits"]


def item_visits(res: WalkResult, engine: WalkEngine, item_type: str, num_rows: int) -> torch.Tensor:
    """Dense ``(num_rows, n_items)`` float32 item visits of a walk recorded over ``item_type`` only."""
    v = res.visits
    sl = engine.type_slice(item_type)
    n_items = sl.stop - sl.start
    out = torch.zeros(num_rows, n_items, device=engine.device)
    crow, col, val = v.crow_indices(), v.col_indices(), v.values()
    row = torch.repeat_interleave(torch.arange(num_rows, device=engine.device), crow[1:] - crow[:-1])
    out.index_put_((row, col - sl.start), val, accumulate=True)
    return out


class SALSARecommender(Recommender):
    """Personalized SALSA: items ranked by visits of walks from the user.

    Parameters
    ----------
    walks : int
        Walks per user and query (default 3000: LastFM Recall@20 0.172, 0.189 at 10,000).
    reset : float in (0, 1)
        Probability that a walk ends (resets to the seed) before each step; mean walk length
        ``(1 - reset) / reset`` (default 0.15: 5.7 steps).
    length : int
        Most steps of one walk (default 20; bounds the query time).
    trust : bool
        Walk the ``user -trusts-> user`` edges too when the graph has them (default).
        ``False`` ignores them.
    trust_prob : float or None
        ``None``: a user picks any of its interaction and trust edges uniformly. A float
        ``p``: a user with trust edges takes one with probability ``p``.
    window : float or None
        Only interactions with ``timestamp >= t_max - window`` count (needs timestamps).
    max_per_user : int or None
        At most this many interactions per user are walked (the most recent). Default 1000.
    seed : int
        Seed of the walks: the same batch of users gives the same scores.

    Notes
    -----
    Scores are visits per walk plus a popularity term below one visit (``1e-6 / walks``
    times the normalised training degree), which orders the items no walk reached and
    answers users with no edges (the cold-start rule: most popular).
    """

    name = "salsa"
    supports_update = True
    demo_params: ClassVar[dict[str, Any]] = {"walks": 300}

    def __init__(
        self,
        graph: Graph | None = None,
        *,
        walks: int = 3000,
        reset: float = 0.15,
        length: int = 20,
        trust: bool = True,
        trust_prob: float | None = None,
        window: float | None = None,
        max_per_user: int | None = 1000,
        seed: int = 0,
        etype: EdgeType = INTERACTS,
    ) -> None:
        super().__init__(graph, etype=etype)
        self.walks = check_int("walks", walks, 1)
        self.reset = check_number("reset", reset, 0, 1, low_open=True, high_open=True)
        self.length = check_int("length", length, 1)
        self.trust = check_bool("trust", trust)
        self.trust_prob = None if trust_prob is None else check_number("trust_prob", trust_prob, 0, 1, low_open=True, high_open=True)
        self.window = None if window is None else check_number("window", window, 0)
        self.max_per_user = None if max_per_user is None else check_int("max_per_user", max_per_user, 1, also="or None")
        self.seed = check_seed(seed)
        self.engine: WalkEngine | None = None

    def params(self) -> dict[str, Any]:
        return {
            "walks": self.walks, "reset": self.reset, "length": self.length, "trust": self.trust,
            "trust_prob": self.trust_prob, "window": self.window, "max_per_user": self.max_per_user, "seed": self.seed,
        }

    # ------------------------------------------------------------------ fitting
    def _fit(self, train: Graph, valid: Graph | None = None, **_: Any) -> None:
        self._build(train)

    def _update(self, graph: Graph) -> None:
        """Answer for the grown ``graph``: rebuild the view and the walk (no stored walks to redraw)."""
        self.graph = graph
        self._build(graph)

    def _build(self, graph: Graph) -> None:
        view = self._view(graph)
        self._walks_trust = self.trust and view.has_edge_type(TRUSTS) and view.num_edges(TRUSTS) > 0
        self.engine = self._engine(view)
        deg = graph.degree(self.etype, side="dst").to(torch.float32)
        self._prior = (deg / deg.max().clamp_min(1.0)) * (1e-6 / self.walks)
        self.view = view

    def _view(self, graph: Graph) -> Graph:
        """The graph the walks run on (recent window, per-user cap)."""
        return recent_view(graph, self.etype, self.window, self.max_per_user)

    def _engine(self, view: Graph) -> WalkEngine:
        """The walk over ``view``: ``user -> item -> user``, plus trust edges when walked."""
        return bipartite_engine(view, self.etype, trust=self._walks_trust, trust_prob=self.trust_prob if self._walks_trust else None)

    def used_etypes(self) -> list[EdgeType]:
        """Interactions, and the trust edges when walked."""
        g = self.graph
        return [self.etype] + ([TRUSTS] if self.trust and g is not None and g.has_edge_type(TRUSTS) else [])

    # ------------------------------------------------------------------ persistence
    def _get_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Nothing learned: the walks are drawn per query from the graph."""
        return {}, {}

    def _set_state(self, graph: Graph, tensors: dict[str, torch.Tensor], extra: dict[str, Any]) -> None:
        self.graph = graph
        self.etype = graph.resolve_etype(self.etype)
        self._build(graph)
        self._fitted = True

    # ------------------------------------------------------------------ scoring
    def _hooks(self, users: torch.Tensor) -> list[Any]:
        """Per-step hooks of the walk (none for plain SALSA)."""
        return []

    def _walk(self, users: torch.Tensor, record: Any = "visits") -> tuple[WalkResult, torch.Tensor]:
        assert self.engine is not None
        users = users.to(self.device, torch.int64)
        b = users.numel()
        src = self.engine.global_ids(self.etype[0], users)
        starts = src.repeat_interleave(self.walks)
        rows = torch.arange(b, device=self.device).repeat_interleave(self.walks)
        res = self.engine.walk(
            starts, length=self.length, restart=self.reset, restart_mode="stop", dangling="stop",
            hooks=self._hooks(users), record=record, record_start=False, record_types=[self.etype[2]],
            rows=rows, num_rows=b, seed=self.seed,
        )
        return res, rows

    def visits(self, users: torch.Tensor) -> torch.Tensor:
        """Item visits per walk ``(B, n_items)`` float32 for user indices ``users`` ``(B,)``."""
        self._require_fitted()
        res, _ = self._walk(users)
        return item_visits(res, self.engine, self.etype[2], users.numel()) / self.walks

    def score(self, users: torch.Tensor) -> torch.Tensor:
        """Visits per walk plus the popularity prior, ``(B, n_items)`` float32."""
        return self.visits(users) + self._prior


register("salsa", SALSARecommender)
