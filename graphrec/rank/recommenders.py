"""Personalized-PageRank recommenders: ``ppr`` (exact) and ``powerwalk`` (fingerprint index).

A user's scores are the item block of its PPR vector over the interaction graph seen as one
undirected graph (users and items as nodes; optionally plus the trust edges among users),
with restart probability ``alpha``. ``beta`` divides each item's score by its training
degree to the power ``beta``, the popularity penalty of RP3β (Paudel et al., 2017);
``beta=0`` is plain PPR.

References
----------
Haveliwala. Topic-sensitive PageRank. WWW 2002.
Paudel, Christoffel, Newell, Bernstein. Updatable, accurate, diverse, and scalable
recommendations for interactive applications. ACM TiiS 7(1), 2017 (RP3β).
Liu, Li, Lui, Cheng. PowerWalk. CIKM 2016.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import torch

from ..checks import check_bool, check_choice, check_int, check_number, check_seed
from ..graph.store import INTERACTS, TRUSTS, Graph
from ..models.base import Recommender
from ..models.registry import register
from ..walks.engine import WalkEngine, bipartite_engine
from .exact import _check_alpha, power_iteration
from .powerwalk import PowerWalkIndex, build_index

__all__ = ["PPRRecommender", "PowerWalkRecommender"]


def _optional_int(name: str, value: Any, low: int) -> int | None:
    """``None``, or an integer >= ``low``."""
    return None if value is None else check_int(name, value, low, also="or None")


class _PPRBase(Recommender):
    """Shared parameters, engine construction and the popularity penalty."""

    def __init__(
        self,
        graph: Graph | None = None,
        *,
        alpha: float = 0.15,
        beta: float = 0.0,
        trust: bool = False,
        etype: tuple[str, str, str] = INTERACTS,
    ) -> None:
        super().__init__(graph, etype=etype)
        self.alpha = _check_alpha(alpha)
        self.beta = check_number("beta", beta, 0)
        self.trust = check_bool("trust", trust)
        self.engine: WalkEngine | None = None

    def _make_engine(self, train: Graph) -> WalkEngine:
        if self.trust and not train.has_edge_type(TRUSTS):
            raise ValueError(f"trust=True but the training graph has no {TRUSTS} edges; edge types: {train.edge_types}")
        eng = bipartite_engine(train, self.etype, trust=self.trust)
        deg = train.degree(self.etype, side="dst").to(torch.float32).clamp_min(1.0)
        self._penalty = deg.pow(-self.beta) if self.beta > 0 else None
        self._items = eng.type_slice(self.etype[2])
        return eng

    def used_etypes(self) -> list[tuple[str, str, str]]:
        return [self.etype, TRUSTS] if self.trust else [self.etype]

    def _sources(self, users: torch.Tensor) -> torch.Tensor:
        assert self.engine is not None
        return self.engine.global_ids(self.etype[0], users.to(self.device, torch.int64))

    def _finish(self, full: torch.Tensor) -> torch.Tensor:
        scores = full[:, self._items]
        if self._penalty is not None:
            scores = scores * self._penalty
        return scores.contiguous()


class PPRRecommender(_PPRBase):
    """Items ranked by exact personalized PageRank from the user (batched power iteration).

    Parameters
    ----------
    alpha : float
        Restart probability ``c`` (default 0.15).
    beta : float
        Popularity penalty exponent (RP3β); 0 is plain PPR.
    trust : bool
        Walk the ``user -trusts-> user`` edges too.
    tol : float
        Power-iteration tolerance (largest L1 change of a user's vector); the L1 error of the
        scores is then at most ``tol (1 - alpha) / alpha`` (5.7e-4 at the defaults), far
        below what changes a ranking.
    max_iter : int
        Iteration cap.
    """

    name = "ppr"
    demo_params: ClassVar[dict[str, Any]] = {"tol": 1e-3}

    def __init__(
        self,
        graph: Graph | None = None,
        *,
        alpha: float = 0.15,
        beta: float = 0.0,
        trust: bool = False,
        tol: float = 1e-4,
        max_iter: int = 300,
        etype: tuple[str, str, str] = INTERACTS,
    ) -> None:
        super().__init__(graph, alpha=alpha, beta=beta, trust=trust, etype=etype)
        self.tol = check_number("tol", tol, 0, low_open=True)
        self.max_iter = check_int("max_iter", max_iter, 1)

    def params(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "beta": self.beta, "trust": self.trust, "tol": self.tol, "max_iter": self.max_iter}

    def _fit(self, train: Graph, valid: Graph | None = None, **_: Any) -> None:
        self.engine = self._make_engine(train)

    #: exact PPR keeps no index: :meth:`update` only re-reads the grown graph
    supports_update = True

    def _update(self, graph: Graph) -> None:
        self.engine = self._make_engine(graph)

    def _get_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        return {}, {}

    def _set_state(self, graph: Graph, tensors: dict[str, torch.Tensor], extra: dict[str, Any]) -> None:
        self.engine = self._make_engine(graph)

    def score(self, users: torch.Tensor) -> torch.Tensor:
        """PPR item scores ``(B, n_items)`` for user indices ``users``."""
        self._require_fitted()
        src = self._sources(users)
        full = power_iteration(self.engine, src, alpha=self.alpha, tol=self.tol, max_iter=self.max_iter, batch_size=max(1, src.numel()))
        return self._finish(full)


class PowerWalkRecommender(_PPRBase):
    """Items ranked by PowerWalk's approximate personalized PageRank.

    Parameters
    ----------
    alpha, beta, trust : as :class:`PPRRecommender`.
    walks : int
        Walks per vertex in the offline index.
    top_m : int
        Entries kept per fingerprint.
    refine : int
        Offline decomposition rounds over the index.
    walk_top_m : int or None
        Entries kept from the raw walk fingerprints before refinement (None: ``top_m``).
    refine_top_m : int or None
        Entries kept by the refinement rounds before the last (None: ``top_m``).
    spectral_rank : int or None
        Eigenpairs of the walk kept as the index's spectral tail (``None``: the default
        on reversible walks; 0: none). See :func:`build_index`.
    tail : {'auto', 'spectral', 'fingerprint'}
        Query tail (:meth:`PowerWalkIndex.query`): ``'auto'`` takes the spectral tail when the
        index has one (accurate: Recall@20 of exact PPR), else the fingerprints.
    background : bool
        Fingerprint tail only: add the fingerprints' truncated mass back as a
        degree-proportional background. Off by default: that background is a popularity
        prior which lowers recall (Gowalla, 3,000 test users: Recall@20 6.1% below exact
        PPR with it, 9.2% above without).
    rounds : int or None
        Online decomposition rounds per query (``None``: the query's default for the tail).
    seed : int
        Seed of the index walks.
    """

    name = "powerwalk"
    demo_params: ClassVar[dict[str, Any]] = {"walks": 32, "top_m": 64, "walk_top_m": 32, "refine_top_m": 64, "refine": 2}

    def __init__(
        self,
        graph: Graph | None = None,
        *,
        alpha: float = 0.15,
        beta: float = 0.0,
        trust: bool = False,
        walks: int = 64,
        top_m: int = 256,
        refine: int = 3,
        walk_top_m: int | None = 64,
        refine_top_m: int | None = 128,
        spectral_rank: int | None = None,
        tail: str = "auto",
        background: bool = False,
        rounds: int | None = None,
        seed: int = 0,
        etype: tuple[str, str, str] = INTERACTS,
    ) -> None:
        super().__init__(graph, alpha=alpha, beta=beta, trust=trust, etype=etype)
        self.walks, self.top_m = check_int("walks", walks, 1), check_int("top_m", top_m, 1)
        self.refine, self.seed = check_int("refine", refine, 0), check_seed(seed)
        self.rounds = _optional_int("rounds", rounds, 0)
        self.spectral_rank = _optional_int("spectral_rank", spectral_rank, 0)
        self.walk_top_m = _optional_int("walk_top_m", walk_top_m, 1)
        self.refine_top_m = _optional_int("refine_top_m", refine_top_m, 1)
        self.tail = check_choice("tail", tail, ("auto", "spectral", "fingerprint"))
        if self.tail == "spectral" and self.spectral_rank == 0:
            raise ValueError("tail='spectral' needs the index's spectral tail, but spectral_rank=0 builds none; use tail='auto' or 'fingerprint'")
        self.background = check_bool("background", background)
        self.index: PowerWalkIndex | None = None

    def params(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha, "beta": self.beta, "trust": self.trust, "walks": self.walks,
            "top_m": self.top_m, "refine": self.refine, "walk_top_m": self.walk_top_m,
            "refine_top_m": self.refine_top_m, "spectral_rank": self.spectral_rank, "tail": self.tail,
            "background": self.background, "rounds": self.rounds, "seed": self.seed,
        }

    def _fit(self, train: Graph, valid: Graph | None = None, progress: bool = False, **_: Any) -> None:
        progress = check_bool("progress", progress)
        self.engine = self._make_engine(train)
        self.index = build_index(
            self.engine, alpha=self.alpha, walks=self.walks, top_m=self.top_m, refine=self.refine,
            walk_top_m=self.walk_top_m, refine_top_m=self.refine_top_m, spectral_rank=self.spectral_rank,
            seed=self.seed, progress=progress,
        )
        # what load_index checks besides the walk record (beta is applied at query time)
        self.index.params["recommender"] = {"trust": self.trust, "etype": list(self.etype)}

    #: :meth:`update` refreshes the fingerprints of the nodes whose edges changed and of their
    #: in-neighbours (:meth:`PowerWalkIndex.refresh`); a model loaded without the graph it was
    #: fitted on rebuilds the index
    supports_update = True

    def _update(self, graph: Graph) -> None:
        from ..models.persistence import changed_nodes

        engine = self._make_engine(graph)
        before = getattr(self, "_fit_edges", {})
        if self.index is None or any(et not in before for et in self.used_etypes()):
            self._fit(graph)
            return
        nodes: dict[str, list[torch.Tensor]] = {}
        for et in self.used_etypes():
            src, dst = changed_nodes(before[et], graph.edges(et))
            nodes.setdefault(et[0], []).append(src)
            nodes.setdefault(et[2], []).append(dst)
        self.index.refresh(engine, {t: torch.cat(v) for t, v in nodes.items()}, hops=1)
        self.engine = engine

    def _get_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        assert self.index is not None
        return self.index.state()

    def _set_state(self, graph: Graph, tensors: dict[str, torch.Tensor], extra: dict[str, Any]) -> None:
        self.engine = self._make_engine(graph)
        self.index = PowerWalkIndex.from_state(tensors, extra, graph.device)

    def score(self, users: torch.Tensor) -> torch.Tensor:
        """Approximate PPR item scores ``(B, n_items)`` for user indices ``users``."""
        self._require_fitted()
        assert self.index is not None
        full = self.index.query(
            self.engine, self._sources(users), rounds=self.rounds, tail=self.tail, background=self.background,
            batch_size=max(1, users.numel()),
        )
        return self._finish(full)

    def save_index(self, path: str | Path) -> Path:
        """Write the fitted index (see :meth:`PowerWalkIndex.save`)."""
        self._require_fitted()
        assert self.index is not None
        return self.index.save(path)

    def load_index(self, path: str | Path, train: Any, *, verify: bool = True) -> PowerWalkRecommender:
        """Use a saved index with training graph ``train`` (or a Dataset's, as :meth:`fit`) instead of fitting.

        The index must have been built for this recommender's walk (``alpha``, ``trust``,
        ``etype``) over ``train``'s edges: a mismatch raises ``ValueError`` naming the field
        (:meth:`PowerWalkIndex.verify` compares a digest of the walked edges). Indexes saved
        before graphrec recorded their walk (formats 1 and 2) raise too unless
        ``verify=False``, which checks only the node counts and ``alpha``. ``beta`` is applied
        at query time and may differ. The recommender takes the index's build parameters
        (``walks``, ``top_m``, ``refine``, ``walk_top_m``, ``refine_top_m``, ``spectral_rank``,
        ``seed``), so :meth:`params` describes the index in use.
        """
        from ..data.dataset import Dataset

        verify = check_bool("verify", verify)
        if isinstance(train, Dataset):
            train = train.train
        if not isinstance(train, Graph):
            raise TypeError(f"train must be a Graph or Dataset, got {type(train).__name__}")
        saved = (getattr(self, "_penalty", None), getattr(self, "_items", None))
        try:
            engine = self._make_engine(train)
            index = PowerWalkIndex.load(path, train.device)
            index._check_engine(engine)
            if abs(index.alpha - self.alpha) > 1e-12:
                raise ValueError(f"index was built with alpha={index.alpha}, recommender has alpha={self.alpha}")
            made = index.params.get("recommender")
            made = made if isinstance(made, dict) else {}
            for name, mine in (("trust", self.trust), ("etype", list(self.etype))):
                if name in made and made[name] != mine:
                    raise ValueError(f"index at {path} was built with {name}={made[name]!r}, this recommender has {name}={mine!r}")
            if verify:
                try:
                    index.verify(engine)
                except ValueError as e:
                    raise ValueError(f"index at {path}: {e}") from None
        except Exception:
            self._penalty, self._items = saved
            raise
        self.graph, self.engine, self.index = train, engine, index
        p = index.params
        self.walks, self.top_m, self.refine, self.seed = index.walks, index.top_m, index.refine, index.seed
        self.walk_top_m = int(p.get("walk_top_m", self.top_m))
        self.refine_top_m = int(p.get("refine_top_m", self.top_m))
        self.spectral_rank = index.spectral.rank if index.spectral is not None else 0
        self._fitted = True
        return self


register("ppr", PPRRecommender)
register("powerwalk", PowerWalkRecommender)
