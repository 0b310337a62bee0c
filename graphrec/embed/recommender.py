"""The ``fastrp`` recommender: FastRP embeddings of users and items, scored by similarity.

Users and items are embedded together over the symmetric user–item adjacency (optionally with
the trust relation among users, :func:`~graphrec.embed.fastrp.fastrp` over both relations);
a user's score for an item is the dot product (default) or cosine of their embeddings.
Nothing is trained (Chen et al., CIKM 2019), so the model grows with the store: after
``graph.add_edges(...)`` adds users, items or interactions, :meth:`update` re-embeds the
grown graph. A new user's embedding is then a function of its interactions (and trust edges)
alone: that is FastRP's cold-start rule; a user without any edge scores every item 0 (the
ranking falls back to item index order).

The defaults were chosen on 10% validation carves of the training data (synthetic default,
MovieLens-100K, LastFM; never on test): equal weights on four powers (the authors' BlogCatalog
weights ``1, 1, 7.81, 45.28`` lose a third of Recall@20 on MovieLens-100K), the authors' β,
``dim=512`` (random-projection noise costs recall at 128), and ``similarity='dot'``, level
with ``'cosine'`` on Recall@20 and slightly ahead on NDCG@20 over the three carves (see
docs/design.md, "fastrp: weights, dimension and similarity").
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from ..checks import check_bool, check_choice, check_int, check_number, check_seed
from ..graph.store import TRUSTS, Graph
from ..models.base import EmbeddingRecommender
from ..models.registry import register
from .fastrp import AUTHORS_BETA, _check_weights, fastrp, relation_layout

__all__ = ["REC_WEIGHTS", "FastRPRecommender"]

#: equal weights on the four powers: chosen on the validation carves (the authors' BlogCatalog
#: weights, which favour the 4th power, lose a third of Recall@20 on MovieLens-100K's)
REC_WEIGHTS = (1.0, 1.0, 1.0, 1.0)


class FastRPRecommender(EmbeddingRecommender):
    """FastRP over the interaction graph (and optionally trust), scored by user–item similarity.

    Parameters
    ----------
    graph : Graph, optional
    dim : int
        Embedding dimension.
    weights : list of float
        Weights of the powers ``N_1 .. N_k`` (default ``1, 1, 1, 1``).
    beta : float
        Degree normalisation exponent (default ``-0.628``).
    similarity : {'cosine', 'dot'}
        Score of a user–item pair.
    trust : bool
        Embed over the interactions and the ``user -trusts-> user`` relation together (the
        graph must have it).
    seed : int
        Seeds the random projection.
    """

    name = "fastrp"
    supports_update: ClassVar[bool] = True
    demo_params: ClassVar[dict[str, Any]] = {"dim": 128}

    def __init__(
        self,
        graph: Graph | None = None,
        *,
        dim: int = 512,
        weights: Any = REC_WEIGHTS,
        beta: float = AUTHORS_BETA,
        similarity: str = "dot",
        trust: bool = False,
        seed: int = 0,
        **kw: Any,
    ) -> None:
        super().__init__(graph, **kw)
        self.dim = check_int("dim", dim, 1)
        self.weights = _check_weights(weights)
        self.beta = check_number("beta", beta)
        self.similarity = check_choice("similarity", similarity, ("cosine", "dot"))
        self.trust = check_bool("trust", trust)
        self.seed = check_seed(seed)

    def params(self) -> dict[str, Any]:
        return {"dim": self.dim, "weights": list(self.weights), "beta": self.beta, "similarity": self.similarity,
                "trust": self.trust, "seed": self.seed}

    # ----------------------------------------------------------------- fitting
    def _relations(self, graph: Graph) -> list[Any]:
        if not self.trust:
            return [self.etype]
        if not graph.has_edge_type(TRUSTS):
            raise ValueError(f"fastrp: trust=True needs a {TRUSTS} relation; the graph has {graph.edge_types}")
        return [self.etype, TRUSTS]

    def used_etypes(self) -> list[tuple[str, str, str]]:
        """The interactions, and the trust relation when ``trust=True``."""
        return [self.etype, TRUSTS] if self.trust else [self.etype]

    def _embed(self, graph: Graph) -> None:
        rels = self._relations(graph)
        vec = fastrp(graph, rels, dim=self.dim, weights=self.weights, beta=self.beta, seed=self.seed)
        if self.similarity == "cosine":
            vec = torch.nn.functional.normalize(vec, dim=1)
        lay = {t: (a, b) for t, a, b in relation_layout(graph, rels)}
        (ua, ub), (ia, ib) = lay[self.etype[0]], lay[self.etype[2]]
        self.user_emb, self.item_emb = vec[ua:ub].contiguous(), vec[ia:ib].contiguous()

    def _fit(self, train: Graph, valid: Graph | None = None, **_: Any) -> None:
        self._embed(train)

    def _update(self, graph: Graph) -> None:
        """Re-embed the grown ``graph`` (training-free): new users get embeddings from their edges."""
        self.graph = graph
        self._embed(graph)

    def embeddings(self) -> tuple[torch.Tensor, torch.Tensor]:
        self._require_fitted()
        return self.user_emb, self.item_emb

    # ------------------------------------------------------------- persistence
    def _get_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        return {"user_emb": self.user_emb, "item_emb": self.item_emb}, {}

    def _set_state(self, graph: Graph, tensors: dict[str, torch.Tensor], extra: dict[str, Any]) -> None:
        self.graph = graph
        self.user_emb, self.item_emb = tensors["user_emb"], tensors["item_emb"]


register("fastrp", FastRPRecommender)
