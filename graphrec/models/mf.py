"""Matrix factorisation trained with BPR (MF-BPR).

Koren, Bell & Volinsky, "Matrix Factorization Techniques for Recommender Systems", IEEE
Computer 2009; trained with BPR (Rendle et al., UAI 2009) as the MF baseline of LightGCN
(He et al., SIGIR 2020): score ``s_ui = e_u · e_i``, uniform negatives, L2 on the batch's rows,
Adam. On LightGCN's Gowalla split the paper reports Recall@20 0.1291 / NDCG@20 0.1109.

:class:`MF` is also the base of :class:`~graphrec.models.lightgcn.LightGCN`: it owns the
embedding tables (any :class:`~graphrec.models.embedding.EmbeddingTable`), the BPR batch loss,
the fit loop (:class:`~graphrec.train.bpr.BPRTrainer`: validation carve-out, early stopping on
NDCG@20, checkpoints, seeded determinism) and the cached final embeddings used for scoring.
A subclass only changes :meth:`MF.forward`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from ..checks import check_bool, check_int, check_number, check_seed
from ..graph.edges import EdgeType
from ..graph.store import INTERACTS, Graph, store_device
from ..train.bpr import (
    BPRConfig,
    BPRTrainer,
    TrainResult,
    selection_table,
    train_with_selection,
    triple_loss,
)
from .base import EmbeddingRecommender
from .embedding import EmbeddingTable, TableFactory, make_table
from .hashing import check_budget
from .registry import register

__all__ = ["MF"]


def _check_reg(reg: Any) -> tuple[float, ...]:
    """``reg`` as a non-empty tuple of distinct floats >= 0 (one value, or the values to choose from)."""
    values = list(reg) if isinstance(reg, (list, tuple)) else [reg]
    if not values:
        raise ValueError("reg must be a number >= 0 or a non-empty list of them, got []")
    try:
        floats = tuple(check_number("reg", v, 0) for v in values)
    except ValueError:
        raise ValueError(f"reg must be a finite number >= 0 or a list of them, got {reg!r}") from None
    if len(set(floats)) < len(floats):
        raise ValueError(f"reg lists a value twice: {reg!r}")
    return floats


class MF(EmbeddingRecommender, nn.Module):
    """Matrix factorisation with BPR.

    Parameters
    ----------
    graph : Graph, optional
        Training graph (or pass it, or a Dataset, to :meth:`fit`).
    dim : int
        Embedding width (default 64).
    lr : float
        Adam learning rate (default 1e-3).
    lr_milestones : int or sequence of int
        Step decay: after each of these epoch counts the learning rate is multiplied by
        ``lr_gamma`` (default none). A resumed checkpoint continues on the schedule, and one
        trained without a decay can be resumed with one added (see
        :class:`~graphrec.train.bpr.BPRConfig`).
    lr_gamma : float
        The decay factor, in (0, 1] (default 0.1).
    ema : float or None
        Serve a running average of the weights over about this many epochs (Polyak averaging;
        default None: the raw weights). Validation and early stopping score the average too;
        the optimiser steps the raw weights. Early in a run the average spans only the last
        third of its steps, so a short run is not averaged with its untrained start (see
        :class:`~graphrec.train.averaging.WeightAverage`).
    reg : float, sequence of floats or 'auto'
        L2 weight on the batch's layer-0 rows, ``reg * (|e_u|² + |e_i|² + |e_j|²) / 2 / B``
        (default 1e-4). Several values: each is fitted on the validation split with early
        stopping, the one with the best validation NDCG@20 is kept (and refitted, see
        ``refit``); :attr:`selection` records them (``train_with_selection``). The cost is
        one early-stopped fit per value. ``'auto'`` (subclasses that define
        :attr:`auto_reg`, e.g. LightGCN's default) chooses among :attr:`auto_reg` that way,
        and uses :attr:`auto_reg_without_validation` when ``patience=None``.
    epochs : int
        Maximum training epochs; one epoch is ``|train| / batch`` steps.
    batch : int
        (user, positive, negative) triples per step (default 2048).
    seed : int
        Seeds the initialisation, the validation carve-out and the samplers. Same seed, same
        device → same embeddings.
    patience : int or None
        Early stopping: validation evaluations without NDCG@20 improvement before stopping
        (the best weights are restored). ``None`` trains all ``epochs`` and carves nothing.
    eval_every : int
        Epochs between validation evaluations; the last epoch of the budget is evaluated too.
    valid_fraction : float
        Share of each user's training interactions held out for validation when early
        stopping is on and the data has no ``valid`` split (never taken from test).
    refit : bool
        After early stopping on such a carved split, train again from the same
        initialisation on the *whole* training split for the best epoch count, so the
        validation carve costs no training data (default True; about 1.8x the training
        time). Ignored with ``patience=None`` or a data ``valid`` split.
    sampling : {'pairs', 'users'}
        Shuffled training pairs per epoch, or LightGCN's user-uniform sampler.
    negatives : int
        Uniform negatives per (user, positive) pair (default 1, as in LightGCN).
    negative_selection : {'mean', 'hardest', 'semihard'}
        With several negatives: average the BPR loss over all the triples (default), keep
        only the highest-scored candidate per pair (dynamic negative sampling, SIGIR 2013), or
        the highest-scored one still below the positive (see
        :func:`~graphrec.train.bpr.triple_loss`).
    table : str or callable
        Embedding table kind (see :func:`~graphrec.models.embedding.make_table`), default
        ``'full'``; the compressed ``'random'``, ``'double'``, ``'frequency'``,
        ``'double_frequency'``, ``'graph'`` (GraphHash), ``'double_graph'``,
        ``'double_graph_split'`` and ``'graph_frequency'`` are in :mod:`graphrec.models.hashing`.
    budget : float, optional
        Stored rows / (users + items) of a compressed table, in ``(0, 1]``; each node type
        gets ``round(budget · n_type)`` rows (see :mod:`graphrec.models.hashing`). Default
        None: the table's own (1 for ``'full'``, which takes no other, 0.25 for the others).
    checkpoint_dir : str, optional
        Directory for a resumable checkpoint (written every epoch; an existing one is resumed).
    progress : bool
        Show a tqdm bar with the loss and the last validation metric.
    max_minutes : float, optional
        Wall-clock budget for the whole fit (carve, set-up, training, validations, refit): no
        epoch starts that would end past it (predicted from the slowest so far). The refit gets what is left: without a checkpoint
        it runs only if it fits, with one it trains as far as the budget goes and the same
        call made again finishes it (see :func:`~graphrec.train.bpr.train_with_selection`).
        ``result.stopped_by_time`` says whether the budget cut training short;
        ``refit_result.stopped_by_time`` that the refit was skipped or cut, and the
        early-stopped weights are served.
    device : str or torch.device, optional
        Train and score on this device (the graph is moved); default the graph's device.
    """

    name = "mf"
    #: ``reg='auto'``: the L2 weights chosen among on validation, and the one used without validation
    #: (``patience=None``); MF has none (its default is the paper's fixed 1e-4)
    auto_reg: ClassVar[tuple[float, ...]] = ()
    auto_reg_without_validation: ClassVar[float | None] = None
    demo_params: ClassVar[dict[str, Any]] = {"epochs": 40, "dim": 32, "eval_every": 5, "batch": 1024}

    def __init__(
        self,
        graph: Graph | None = None,
        *,
        dim: int = 64,
        lr: float = 1e-3,
        lr_milestones: int | Sequence[int] = (),
        lr_gamma: float = 0.1,
        ema: float | None = None,
        reg: float | Sequence[float] | str = 1e-4,
        epochs: int = 1000,
        batch: int = 2048,
        seed: int = 0,
        patience: int | None = 5,
        eval_every: int = 10,
        valid_fraction: float = 0.1,
        refit: bool = True,
        sampling: str = "pairs",
        negatives: int = 1,
        negative_selection: str = "mean",
        table: str | TableFactory = "full",
        budget: float | None = None,
        checkpoint_dir: str | None = None,
        progress: bool = False,
        max_minutes: float | None = None,
        device: str | torch.device | None = None,
        etype: EdgeType = INTERACTS,
    ) -> None:
        nn.Module.__init__(self)
        EmbeddingRecommender.__init__(self, graph, etype=etype)
        self.dim = check_int("dim", dim, 1)
        self.seed = check_seed(seed)
        self.lr = check_number("lr", lr, 0, low_open=True)
        self.reg_values = self._reg_values(reg, patience)
        self.reg_spec = reg if isinstance(reg, str) else list(self.reg_values) if isinstance(reg, (list, tuple)) else self.reg_values[0]
        self.valid_fraction = check_number("valid_fraction", valid_fraction, 0, 1, low_open=True, high_open=True)
        self.reg = self.reg_values[0]  # the L2 weight in use (the one chosen, after fitting several)
        self.refit = check_bool("refit", refit)
        self.table = table
        self.budget = None if budget is None else check_budget(budget)
        if table == "full" and self.budget not in (None, 1.0):
            raise ValueError(f"table 'full' stores one row per entity: budget must be 1 or None, got {budget!r}; pick a compressed table")
        self.checkpoint_dir = None if checkpoint_dir is None else str(checkpoint_dir)
        self.progress = check_bool("progress", progress)
        self.target_device = None if device is None else store_device(device)
        # validates epochs / batch / patience / eval_every / sampling / negatives / negative_selection / max_minutes
        self.config = BPRConfig(
            epochs=epochs, batch=batch, lr=self.lr, seed=self.seed, patience=patience, eval_every=eval_every,
            sampling=sampling, negatives=negatives, negative_selection=negative_selection,
            checkpoint_dir=self.checkpoint_dir, progress=self.progress, max_minutes=max_minutes,
            lr_milestones=lr_milestones, lr_gamma=lr_gamma, ema=ema,
        )
        self.user_table: EmbeddingTable | None = None
        self.item_table: EmbeddingTable | None = None
        self.result: TrainResult | None = None
        self.refit_result: TrainResult | None = None
        self.selection: list[dict[str, Any]] = []
        self._cache: tuple[Any, torch.Tensor, torch.Tensor] | None = None
        if graph is not None:
            self._build_tables(graph.to(self.target_device) if self.target_device is not None else graph)

    @classmethod
    def _reg_values(cls, reg: Any, patience: int | None) -> tuple[float, ...]:
        """The L2 weights to fit: ``reg`` checked, ``'auto'`` resolved (see :attr:`auto_reg`)."""
        if isinstance(reg, str):
            if reg != "auto" or not cls.auto_reg:
                also = " or 'auto'" if cls.auto_reg else ""
                raise ValueError(f"reg must be a number >= 0 or a list of them{also}, got {reg!r}")
            return cls.auto_reg if patience is not None else (float(cls.auto_reg_without_validation),)  # type: ignore[arg-type]
        values = _check_reg(reg)
        if len(values) > 1 and patience is None:
            raise ValueError(f"reg={list(values)} is chosen on validation: it needs early stopping (patience), not patience=None")
        return values

    # ------------------------------------------------------------ parameters
    def params(self) -> dict[str, Any]:
        c = self.config
        return {
            "dim": self.dim, "lr": self.lr, "reg": self.reg if self._fitted else self.reg_spec, "epochs": c.epochs, "batch": c.batch, "seed": self.seed,
            "patience": c.patience, "eval_every": c.eval_every, "valid_fraction": self.valid_fraction, "refit": self.refit, "sampling": c.sampling,
            "negatives": c.negatives, "negative_selection": c.negative_selection, "max_minutes": c.max_minutes,
            "lr_milestones": list(c.lr_milestones), "lr_gamma": c.lr_gamma, "ema": c.ema,
            "table": self.table if isinstance(self.table, str) else getattr(self.table, "__name__", "custom"),
            "budget": self.budget,
        }

    def _build_tables(self, graph: Graph, *, shapes_only: bool = False) -> None:
        """Fresh tables for ``graph``'s users and items.

        ``shapes_only``: a saved state fills the tables next; they are sized for the graph the
        model was fitted on (``_fit_state``) and no graph is given to the table factories, so
        nothing is clustered.
        """
        gen = torch.Generator().manual_seed(self.seed)
        st, _, dt = self.etype
        seen = None if shapes_only else graph
        n_u, n_i = graph.num_nodes(st), graph.num_nodes(dt)
        if shapes_only and getattr(self, "_fit_state", None) is not None:
            n_u, n_i = self._fit_state["nodes"][st], self._fit_state["nodes"][dt]
        # registered tables take the budget and the relation; a custom factory only a budget it was given
        kw: dict[str, Any] = {"budget": self.budget, "etype": self.etype} if isinstance(self.table, str) else (
            {} if self.budget is None else {"budget": self.budget})
        self.user_table = make_table(self.table, n_u, self.dim, generator=gen, device=graph.device, graph=seen, ntype=st, **kw)
        self.item_table = make_table(self.table, n_i, self.dim, generator=gen, device=graph.device, graph=seen, ntype=dt, **kw)
        self._cache = None

    # ----------------------------------------------------------- persistence
    def _get_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        self._require_tables()
        return {k: v.detach() for k, v in self.state_dict().items()}, {"reg": self.reg}

    def _set_state(self, graph: Graph, tensors: dict[str, torch.Tensor], extra: dict[str, Any]) -> None:
        self._build_tables(graph, shapes_only=True)
        self.load_state_dict(tensors)
        self.reg = float(extra.get("reg", self.reg))

    def reset_parameters(self) -> None:
        """Re-draw both tables from the seed (user table first, then item table)."""
        if self.user_table is None or self.item_table is None:
            raise RuntimeError(f"{type(self).__name__} has no tables yet; pass a graph or call fit()")
        gen = torch.Generator().manual_seed(self.seed)
        self.user_table.reset_parameters(gen)
        self.item_table.reset_parameters(gen)
        self._cache = None

    # ---------------------------------------------------------------- model
    def forward(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Final embeddings used for scoring.

        Returns
        -------
        (users, items) : FloatTensor ``(n_users, dim)``, FloatTensor ``(n_items, dim)``
            (differentiable; for MF simply the layer-0 tables).
        """
        self._require_tables()
        return self.user_table.all(), self.item_table.all()  # type: ignore[union-attr]

    def batch_rows(
        self, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor
    ) -> tuple[tuple[torch.Tensor, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Final and layer-0 rows of a BPR batch: ``((e_u, e_i, e_j), (e_u0, e_i0, e_j0))``.

        ``users, pos`` are ``(B,)`` and ``neg`` is ``(B,)`` or ``(B, m)``; rows are ``(B, dim)``,
        the negatives' ``(B, dim)`` or ``(B, m, dim)``.
        """
        self._require_tables()
        i0, j0 = self.item_table(torch.cat([pos, neg.reshape(-1)])).split([pos.numel(), neg.numel()])  # type: ignore[misc]
        layer0 = (self.user_table(users), i0, j0.view(*neg.shape, -1))  # type: ignore[misc]
        return layer0, layer0

    def training_loss(self, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """BPR + L2 loss of one batch (``users, pos`` ``(B,)``, ``neg`` ``(B,)`` or ``(B, m)``).

        Returns ``(loss, {'bpr', 'reg'})``.
        """
        self._cache = None  # the parameters are about to change
        rows, layer0 = self.batch_rows(users, pos, neg)
        bpr, reg = triple_loss(*rows, *layer0, selection=self.config.negative_selection)
        return bpr + self.reg * reg, {"bpr": bpr.detach(), "reg": reg.detach()}

    def embeddings(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(user_emb (n_users, dim), item_emb (n_items, dim))`` for scoring, without grad.

        Cached until :meth:`invalidate_cache` (called by the trainer after every optimiser
        step and by :meth:`training_loss`), a parameter reset or a change of ``graph``.
        (Parameter version counters cannot be trusted: fused optimisers update in place
        without bumping them.)
        """
        self._require_tables()
        key = id(self.graph)
        if self._cache is None or self._cache[0] != key:
            with torch.no_grad():
                u, v = self.forward()
            self._cache = (key, u.detach(), v.detach())
        return self._cache[1], self._cache[2]

    def invalidate_cache(self) -> None:
        """Forget the cached final embeddings (after the parameters changed)."""
        self._cache = None

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        self._cache = None
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    def _require_tables(self) -> None:
        if self.user_table is None or self.item_table is None:
            raise RuntimeError(f"{type(self).__name__} has no embedding tables; call fit() first")

    # ------------------------------------------------------------------- fit
    def _fingerprint(self) -> dict[str, Any]:
        return {"model": type(self).__name__, "dim": self.dim, "lr": self.lr, "reg": self.reg, "table": str(self.params()["table"]),
                **({} if self.budget is None else {"budget": self.budget})}

    def _fit(self, train: Graph, valid: Graph | None = None, progress: bool | None = None, **_: Any) -> None:
        if self.target_device is not None and train.device != self.target_device:
            train = train.to(self.target_device)
            self.graph = train
        cfg = self.config if progress is None else dataclasses.replace(self.config, progress=bool(progress))
        self.refit_result = None
        chosen, results, self.refit_result = train_with_selection(
            lambda graph, valid_graph, c, reg: self._train(graph, valid_graph, c, serve=train, reg=reg),
            self.reg_values, self, train, valid, cfg,
            valid_fraction=self.valid_fraction, seed=self.seed, refit=self.refit, etype=self.etype,
        )
        self.reg, self.result = self.reg_values[chosen], results[chosen]
        self.selection = selection_table("reg", self.reg_values, results, chosen)

    def _train(self, graph: Graph, valid_graph: Graph | None, cfg: BPRConfig, *, serve: Graph, reg: float) -> TrainResult:
        """Fresh tables for ``graph``, one :class:`BPRTrainer` run with L2 weight ``reg``; the model then serves ``serve``."""
        self.reg = reg
        self._build_tables(graph)
        self.graph = graph  # the graph propagated over and masked during validation
        try:
            return BPRTrainer(self, graph, valid_graph, cfg, etype=self.etype, fingerprint=self._fingerprint()).run()
        finally:
            self.graph = serve
            self._cache = None


register("mf", MF)
