"""``reputation='meritrank'`` for any model: train on interactions weighed by MeritRank reputation.

``graphrec.models.create(name, reputation='meritrank', ...)`` (and ``--param
reputation=meritrank`` on the command line) wraps the model ``name`` in
:class:`ReputationModel`: before the model trains, the MeritRank reputation of every
account is computed from trusted seed users (:func:`~graphrec.social.reputation.reputation`),
mapped to weights (:func:`~graphrec.social.reputation.reputation_weights`) and the
interactions of accounts below ``rep_threshold`` are dropped (or, with
``rep_mode='weight'``, weighted) (:func:`~graphrec.social.reputation.reputation_filter`). The
model then trains on that view of the store; recommendations still exclude every item the
user interacted with. A Sybil region's accounts share a reputation bounded by its attack
edges, so their interactions, the poison, never reach the model.
"""

from __future__ import annotations

from typing import Any

import torch

from ..checks import check_choice, check_int, check_number
from ..graph.store import TRUSTS, Graph
from ..models.base import Recommender
from .reputation import default_seeds, reputation, reputation_filter, reputation_weights

__all__ = ["REPUTATION_PARAMS", "ReputationModel", "wrap"]

#: the keywords :func:`wrap` takes (the rest go to the wrapped model)
REPUTATION_PARAMS = ("reputation", "rep_seeds", "rep_ref", "rep_threshold", "rep_mode", "rep_walks")


class ReputationModel(Recommender):
    """A recommender trained on the interactions of reputable accounts only.

    Parameters
    ----------
    inner : Recommender (unfitted)
    reputation : 'meritrank'
    rep_seeds : int, trusted seeds when the graph marks none (:func:`default_seeds`).
    rep_ref : float, see :func:`reputation_weights`.
    rep_threshold : float, accounts weighted below it lose their interactions.
    rep_mode : 'filter' or 'weight' (see :func:`reputation_filter`).
    rep_walks : int, walks of the reputation computation.
    """

    supports_update = False

    def __init__(
        self,
        inner: Recommender,
        *,
        reputation: str = "meritrank",
        rep_seeds: int = 1000,
        rep_ref: float = 0.2,
        rep_threshold: float = 0.05,
        rep_mode: str = "filter",
        rep_walks: int = 20_000,
    ) -> None:
        super().__init__(inner.graph, etype=inner.etype)
        if not isinstance(inner, Recommender):
            raise TypeError(f"inner must be a Recommender, got {type(inner).__name__}")
        self.inner = inner
        self.name = inner.name
        self.reputation = check_choice("reputation", reputation, ("meritrank",))
        self.rep_seeds = check_int("rep_seeds", rep_seeds, 1)
        self.rep_ref = check_number("rep_ref", rep_ref, 0, low_open=True)
        self.rep_threshold = check_number("rep_threshold", rep_threshold, 0, 1)
        self.rep_mode = check_choice("rep_mode", rep_mode, ("filter", "weight"))
        self.rep_walks = check_int("rep_walks", rep_walks, 1)
        self.weights: torch.Tensor | None = None

    def params(self) -> dict[str, Any]:
        return {
            **self.inner.params(), "reputation": self.reputation, "rep_seeds": self.rep_seeds, "rep_ref": self.rep_ref,
            "rep_threshold": self.rep_threshold, "rep_mode": self.rep_mode, "rep_walks": self.rep_walks,
        }

    def used_etypes(self) -> list[tuple[str, str, str]]:
        return [self.etype, TRUSTS]

    def _view(self, train: Graph) -> Graph:
        assert self.weights is not None
        return reputation_filter(train, self.weights.to(train.device), mode=self.rep_mode, threshold=self.rep_threshold, etype=self.etype)

    def _fit(self, train: Graph, valid: Graph | None = None, **kwargs: Any) -> None:
        if not train.has_edge_type(TRUSTS) or train.num_edges(TRUSTS) == 0:
            raise ValueError(f"reputation={self.reputation!r} needs trust edges {TRUSTS}; the training graph has {train.edge_types}")
        seeds = default_seeds(train, self.rep_seeds)
        rep = reputation(train, seeds, walks=self.rep_walks)
        self.weights = reputation_weights(rep, train, ref=self.rep_ref, seeds=seeds)
        view = self._view(train)
        self.kept = view.num_edges(self.etype) / max(1, train.num_edges(self.etype))
        self.inner.fit(view, **kwargs)

    def score(self, users: torch.Tensor) -> torch.Tensor:
        return self.inner.score(users)

    def _get_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors, extra = self.inner._get_state()
        return {**tensors, "reputation_weights": self.weights}, extra

    def _set_state(self, graph: Graph, tensors: dict[str, torch.Tensor], extra: dict[str, Any]) -> None:
        tensors = dict(tensors)
        self.weights = tensors.pop("reputation_weights")
        self.graph = graph
        view = self._view(graph)
        self.inner.graph = view
        self.inner.etype = graph.resolve_etype(self.inner.etype)
        self.inner._set_state(view, tensors, extra)
        self.inner._fitted = True
        self._fitted = True


def wrap(factory: Any, graph: Any, params: dict[str, Any]) -> ReputationModel:
    """``factory(graph, **model params)`` wrapped in :class:`ReputationModel` with the ``rep*`` params."""
    rep = {k: params.pop(k) for k in REPUTATION_PARAMS if k in params}
    return ReputationModel(factory(graph, **params), **rep)
