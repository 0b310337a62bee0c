"""The recommender interface every model implements.

A recommender fits on a training :class:`~graphrec.graph.Graph` and scores a batch of users
against every item on ``graph.device``. Top-k with exclusions, external-id translation and
evaluation are built on :meth:`Recommender.score` alone, so any model that can score a batch
plugs into ``graphrec.evaluate``, ``recommend`` and the ``graphrec`` command.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch
from typing_extensions import Self

from ..checks import check_bool, check_int
from ..graph.ops import gather_rows, topk_by_index
from ..graph.store import INTERACTS, ITEM, USER, Graph

__all__ = ["PAD_INDEX", "EmbeddingRecommender", "GraphChangedError", "Recommender", "topk_masked"]

R = TypeVar("R", bound="Recommender")

#: item index of a top-k slot that no item can fill (the user has fewer unexcluded items than ``k``);
#: its score is ``-inf``. :meth:`Recommender.recommend` shows such a slot as item ``None``.
PAD_INDEX = -1


class GraphChangedError(RuntimeError):
    """The graph a fitted model serves changed since ``fit`` (edges or nodes were added).

    The message says what changed and what to call: ``model.update()`` for models with an
    incremental refresh (``supports_update``), else ``model.fit(graph)`` again.
    """


def topk_masked(
    scores: torch.Tensor,
    k: int,
    users: torch.Tensor | None = None,
    seen: tuple[torch.Tensor, torch.Tensor] | None = None,
    filter_items: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-``k`` per row after masking, in place on ``scores``.

    Parameters
    ----------
    scores : FloatTensor ``(B, n_items)`` (modified in place)
    users : LongTensor ``(B,)`` rows' user indices, needed with ``seen``
    seen : ``(indptr, indices)`` CSR of items to exclude per user
    filter_items : LongTensor of item indices excluded for everyone

    Returns
    -------
    (items, scores) : LongTensor / FloatTensor ``(B, min(k, n_items))``. An excluded item is
        never returned: where a row has fewer than ``k`` items left, its last slots hold
        :data:`PAD_INDEX` with score ``-inf``.
    """
    excluded = torch.zeros(scores.shape, dtype=torch.bool, device=scores.device)
    if seen is not None:
        if users is None:
            raise ValueError("seen-item masking needs the batch's user indices")
        b, c, _ = gather_rows(seen[0], seen[1], users)
        excluded[b, c] = True
    if filter_items is not None and filter_items.numel():
        excluded[:, filter_items] = True
    scores.masked_fill_(excluded, -torch.inf)
    k = min(k, scores.shape[1])
    vals, idx = topk_by_index(scores, k)  # equal scores by item index, as evaluate ranks them
    left = (~excluded).sum(1, keepdim=True)  # items each row may still return
    pad = torch.arange(k, device=scores.device).unsqueeze(0) >= left
    if bool(pad.any()):
        idx = idx.masked_fill(pad, PAD_INDEX)
        vals = vals.masked_fill(pad, -torch.inf)
    return idx, vals


class Recommender(abc.ABC):
    """Base class: ``fit`` on a train graph, ``score`` batches of users.

    Subclasses implement :meth:`_fit` and :meth:`score`. Hyper-parameters are constructor
    keyword arguments (listed by :meth:`params`).
    """

    #: name used by the CLI registry
    name: str = "recommender"
    #: small hyper-parameters for ``graphrec demo`` on the synthetic default (fast on a CPU)
    demo_params: ClassVar[dict[str, Any]] = {}

    def __init__(self, graph: Graph | None = None, *, etype: tuple[str, str, str] = INTERACTS) -> None:
        self.graph = graph
        self.etype = etype
        self._fitted = False

    # ----------------------------------------------------------------- fitting
    def fit(self, train: Any = None, **kwargs: Any) -> Self:
        """Fit on ``train`` (a Graph, or a Dataset whose ``train`` is used; default: the constructor graph)."""
        from ..data.dataset import Dataset

        valid = None
        if isinstance(train, Dataset):
            valid = train.valid
            train = train.train
        if train is None:
            train = self.graph
        if train is None:
            raise ValueError(f"{type(self).__name__}.fit needs a training graph")
        if not isinstance(train, Graph):
            hint = " (build one with graphrec.Graph.from_frame)" if hasattr(train, "columns") else ""
            raise TypeError(f"{type(self).__name__}.fit takes a graphrec Graph or Dataset, got {type(train).__name__}{hint}")
        if self.graph is not None and train.device != self.graph.device:
            train = train.to(self.graph.device)
        self.etype = train.resolve_etype(self.etype)  # a relation name becomes its (src, rel, dst) triple
        if train.num_edges(self.etype) == 0:
            raise ValueError(f"{type(self).__name__}: the training graph has no {self.etype} edges")
        self.graph = train
        self._fitted = False  # a fit that fails leaves no model that pairs this graph with older weights
        self._fit(train, valid=valid, **kwargs)
        self._fitted = True
        self._record_graph_state()
        return self

    @abc.abstractmethod
    def _fit(self, train: Graph, valid: Graph | None = None, **kwargs: Any) -> None:
        """Learn from ``train``; ``valid`` (held-out interactions) may drive early stopping."""

    @abc.abstractmethod
    def score(self, users: torch.Tensor) -> torch.Tensor:
        """Scores of every item for ``users``.

        Parameters
        ----------
        users : LongTensor, shape ``(B,)``
            User indices on ``self.device``.

        Returns
        -------
        FloatTensor, shape ``(B, n_items)``
            Scores on ``self.device``; higher is better. It must be a new tensor: ranking
            masks it in place.
        """

    def params(self) -> dict[str, Any]:
        """Constructor keywords, JSON-able: ``graphrec.models.create(name, **m.params())`` rebuilds the model."""
        return {}

    # ------------------------------------------------------ a growing graph
    #: whether :meth:`update` can refresh the fitted model after the graph grew
    supports_update: ClassVar[bool] = False

    def used_etypes(self) -> list[tuple[str, str, str]]:
        """The edge types the fitted model reads (a change elsewhere in the graph does not concern it)."""
        return [self.etype]

    def graph_state(self, graph: Graph | None = None) -> dict[str, Any]:
        """Node counts, edge counts and a content digest of the relations this model reads."""
        from .persistence import graph_state

        return graph_state(self._require_graph() if graph is None else graph, self.used_etypes())

    def _record_graph_state(self, state: dict[str, Any] | None = None) -> None:
        g = self._require_graph()
        self._fit_state = self.graph_state(g) if state is None else state
        self._seen_version = (id(g), g.version)
        # the edge sets answered for (the store replaces, never edits them): what an update diffs against
        self._fit_edges = {et: g.edges(et) for et in self.used_etypes() if et in g.edge_types}

    def check_graph(self) -> None:
        """Raise :class:`GraphChangedError` when the served graph changed since ``fit`` (or ``update``).

        A model being fitted (not yet fitted) has nothing to check.
        """
        if not self._fitted:
            return
        g = self._require_graph()
        if getattr(self, "_seen_version", None) == (id(g), g.version):
            return
        now = self.graph_state(g)
        fitted = getattr(self, "_fit_state", None)
        if fitted is None or now == fitted:
            self._fit_state, self._seen_version = now, (id(g), g.version)
            return
        from .persistence import describe_change

        what = describe_change(fitted, now)
        todo = "call model.update() to serve the grown graph" if self.supports_update else (
            f"{type(self).__name__} has no incremental update: fit it again (model.fit(graph))")
        raise GraphChangedError(f"{type(self).__name__}: the graph changed since fit ({what}); {todo}")

    def update(self) -> Self:
        """Refresh the fitted model for its graph after the graph grew (new edges, users, items).

        Models with ``supports_update`` refresh incrementally (see their ``_update``); others
        raise :class:`GraphChangedError` asking for a new ``fit``. A no-op when nothing changed.
        """
        self._require_fitted()
        g = self._require_graph()
        now = self.graph_state(g)
        if now == getattr(self, "_fit_state", None):
            self._seen_version = (id(g), g.version)
            return self
        if not self.supports_update:
            raise GraphChangedError(f"{type(self).__name__} has no incremental update: fit it again (model.fit(graph))")
        version = g.version
        self._update(g)
        # the state hashed above still holds unless _update itself changed the graph
        self._record_graph_state(now if self._require_graph() is g and g.version == version else None)
        return self

    def _update(self, graph: Graph) -> None:
        """Make the fitted model answer for ``graph``, which grew since fit (models with ``supports_update``)."""
        raise NotImplementedError

    # ---------------------------------------------------------- persistence
    def save(self, path: Any, *, include_graph: bool = True) -> Any:
        """Write the fitted model to folder ``path``: ``model.json`` + ``tensors.pt`` (+ ``graph/``).

        Safe to load (tensors and JSON, no pickled objects). ``include_graph=False`` leaves the
        graph out: :func:`graphrec.models.load` then needs ``graph=``. Returns the path.
        """
        from .persistence import save_model

        return save_model(self, path, include_graph=include_graph)

    def _get_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """The fitted state: tensors (saved on the CPU) and JSON-able extras.

        The default suits models that are ``torch.nn.Module``s: their ``state_dict``.
        """
        if isinstance(self, torch.nn.Module):
            return {k: v.detach() for k, v in self.state_dict().items()}, {}
        raise NotImplementedError(f"{type(self).__name__} does not define its saved state (_get_state)")

    def _set_state(self, graph: Graph, tensors: dict[str, torch.Tensor], extra: dict[str, Any]) -> None:
        """Restore what :meth:`_get_state` returned; ``tensors`` are on ``graph.device``."""
        if isinstance(self, torch.nn.Module):
            self.load_state_dict(tensors)
            return
        raise NotImplementedError(f"{type(self).__name__} does not define how to restore its state (_set_state)")

    # --------------------------------------------------------------- helpers
    @property
    def device(self) -> torch.device:
        return self.graph.device if self.graph is not None else torch.device("cpu")

    @property
    def num_items(self) -> int:
        return self._require_graph().num_nodes(self.etype[2])

    @property
    def num_users(self) -> int:
        return self._require_graph().num_nodes(self.etype[0])

    def _require_graph(self) -> Graph:
        if self.graph is None:
            raise RuntimeError(f"{type(self).__name__} has no graph; call fit() first")
        return self.graph

    def _require_fitted(self) -> None:
        if not self._fitted:
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit() first")

    def recommend_indices(
        self,
        users: torch.Tensor,
        k: int = 20,
        exclude_seen: bool = True,
        filter_items: torch.Tensor | None = None,
        batch_size: int = 1024,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Top-``k`` item indices and scores ``(B, min(k, n_items))`` for user indices ``users`` ``(B,)``.

        ``k`` must be an integer >= 0; ``batch_size`` an integer >= 1.
        """
        k, batch_size = check_int("k", k, 0), check_int("batch_size", batch_size, 1)
        exclude_seen = check_bool("exclude_seen", exclude_seen)
        self._require_fitted()
        self.check_graph()
        g = self._require_graph()
        users = users.to(self.device, torch.int64)
        if users.numel() and (int(users.min()) < 0 or int(users.max()) >= self.num_users):
            raise IndexError(f"user index out of range [0, {self.num_users})")
        es = g.edges(self.etype)
        seen = (es.indptr, es.indices) if exclude_seen else None
        fi = None if filter_items is None else filter_items.to(self.device, torch.int64)
        outs_i, outs_s = [], []
        with torch.no_grad():
            for s in range(0, users.numel(), batch_size):
                ub = users[s : s + batch_size]
                idx, val = topk_masked(self.score(ub).float(), k, ub, seen, fi)
                outs_i.append(idx)
                outs_s.append(val)
        if not outs_i:
            kk = min(k, self.num_items)
            return torch.zeros(0, kk, dtype=torch.int64, device=self.device), torch.zeros(0, kk, device=self.device)
        return torch.cat(outs_i), torch.cat(outs_s)

    def recommend(
        self,
        users: Any,
        k: int = 20,
        exclude_seen: bool = True,
        filter_items: Any | None = None,
        batch_size: int = 1024,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` items for external user ids.

        Returns ``(items, scores)``: arrays ``(B, k')`` of external item ids and float32 scores
        (``k``: an integer >= 0), best first. An excluded item (seen, or in ``filter_items``) is
        never returned. ``k'`` is ``k``, or less when no user of the batch has ``k`` items left;
        where one user has fewer left than another, its last slots hold item ``None`` (the
        items array then has dtype object) and score ``-inf``.
        """
        check_int("k", k, 0)
        g = self._require_graph()
        u = torch.from_numpy(g.id_map(USER if self.etype[0] == USER else self.etype[0]).to_index(users))
        fi = None
        if filter_items is not None:
            fi = torch.from_numpy(g.id_map(ITEM if self.etype[2] == ITEM else self.etype[2]).to_index(filter_items))
        idx, val = self.recommend_indices(u, k, exclude_seen, fi, batch_size)
        idx, val = idx.cpu().numpy(), val.cpu().numpy()
        pad = idx == PAD_INDEX
        width = int((~pad).sum(1).max()) if idx.shape[0] else idx.shape[1]
        idx, val, pad = idx[:, :width], val[:, :width], pad[:, :width]
        items = g.id_map(self.etype[2]).to_external(np.where(pad, 0, idx))
        if pad.any():
            items = items.astype(object)
            items[pad] = None
        return items, val

    def __repr__(self) -> str:
        p = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({p})"


class EmbeddingRecommender(Recommender):
    """A recommender whose score is ``user_emb[u] @ item_emb.T``.

    Subclasses provide :meth:`embeddings`; scoring is one dense matmul on device.
    """

    @abc.abstractmethod
    def embeddings(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(user_emb (n_users, d), item_emb (n_items, d))`` used for scoring."""

    def score(self, users: torch.Tensor) -> torch.Tensor:
        u, v = self.embeddings()
        return u[users] @ v.T

    def similar_items(self, items: Any, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Items most similar (cosine of final embeddings) to external ``items``; excludes the item itself."""
        g = self._require_graph()
        m = g.id_map(self.etype[2])
        idx = torch.from_numpy(m.to_index(items)).to(self.device)
        _, v = self.embeddings()
        vn = torch.nn.functional.normalize(v, dim=1)
        with torch.no_grad():
            s = vn[idx] @ vn.T
            s[torch.arange(idx.numel(), device=self.device), idx] = -torch.inf
            val, top = torch.topk(s, min(k, s.shape[1] - 1), dim=1)
        return m.to_external(top.cpu().numpy()), val.cpu().numpy()
