"""LightGCN: simplified graph convolution for recommendation.

He, Deng, Wang, Li, Zhang & Wang, "LightGCN: Simplifying and Powering Graph Convolution
Network for Recommendation", SIGIR 2020. Only the layer-0 embeddings ``E(0)`` are learned;
``K`` parameter-free layers ``E(k+1) = Â E(k)`` over the bipartite adjacency
``Â = D^-1/2 A D^-1/2`` smooth them, and the final embedding is the layer mean
``(E(0) + ... + E(K)) / (K + 1)``; scores are dot products. Paper (Gowalla, K=3, d=64):
Recall@20 0.1830, NDCG@20 0.1554.

``Â`` is never built: its two off-diagonal blocks are the store's cached
``R̃, R̃ᵀ = graph.norm_adj()`` (CSR, int32 indices), so a layer is two SpMMs —
users' next = ``R̃ @ E_items``, items' next = ``R̃ᵀ @ E_users``. Because ``Â`` is symmetric,
the gradient of the layer mean is the same propagation applied to the incoming gradient;
:func:`lightgcn_propagate` is a custom autograd function that does exactly that, evaluating
``Σ_k Â^k E`` by Horner's rule ``X ← E + Â X`` (one fused SpMM-add per block and layer in
each direction; no sparse transpose, no per-layer autograd graph, no accumulators).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch

from ..checks import check_bool, check_int
from ..graph.edges import EdgeType
from ..graph.store import INTERACTS, Graph
from .embedding import TableFactory
from .mf import MF
from .registry import register

__all__ = ["LightGCN", "lightgcn_propagate"]


def _layer_mean(eu: torch.Tensor, ei: torch.Tensor, r: torch.Tensor, rt: torch.Tensor, layers: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(1/(K+1)) Σ_k Â^k E`` by Horner's rule: ``X ← E + Â X``, K times (2K fused SpMM-adds)."""
    scale = 1.0 / (layers + 1)
    xu, xi = eu, ei
    for k in range(layers):
        last = k == layers - 1
        beta = alpha = scale if last else 1.0
        xu, xi = torch.addmm(eu, r, xi, beta=beta, alpha=alpha), torch.addmm(ei, rt, xu, beta=beta, alpha=alpha)
    return xu, xi


class _Propagate(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, eu: torch.Tensor, ei: torch.Tensor, r: torch.Tensor, rt: torch.Tensor, layers: int) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        ctx.r, ctx.rt, ctx.layers = r, rt, layers
        return _layer_mean(eu, ei, r, rt, layers)

    @staticmethod
    def backward(ctx: Any, gu: torch.Tensor, gi: torch.Tensor) -> tuple[Any, ...]:  # type: ignore[override]
        du, di = _layer_mean(gu.contiguous(), gi.contiguous(), ctx.r, ctx.rt, ctx.layers)
        return du, di, None, None, None


def lightgcn_propagate(
    user_emb: torch.Tensor, item_emb: torch.Tensor, r: torch.Tensor, rt: torch.Tensor, layers: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """LightGCN's layer mean ``(1/(K+1)) Σ_k Â^k E(0)`` over a bipartite graph (differentiable).

    Parameters
    ----------
    user_emb : FloatTensor ``(n_users, d)``; item_emb : FloatTensor ``(n_items, d)``
        Layer-0 embeddings.
    r : sparse CSR ``(n_users, n_items)``; rt : sparse CSR ``(n_items, n_users)``
        ``R̃ = D_u^-1/2 R D_i^-1/2`` and its transpose (``graph.norm_adj()``).
    layers : int
        ``K >= 0``.

    Returns
    -------
    (users, items) : FloatTensor ``(n_users, d)``, FloatTensor ``(n_items, d)``
    """
    if layers < 0:
        raise ValueError(f"layers must be >= 0, got {layers}")
    if r.shape != (user_emb.shape[0], item_emb.shape[0]) or rt.shape != (item_emb.shape[0], user_emb.shape[0]):
        raise ValueError(
            f"adjacency blocks {tuple(r.shape)}/{tuple(rt.shape)} do not match embeddings "
            f"({user_emb.shape[0]} users, {item_emb.shape[0]} items)"
        )
    if layers == 0:
        return user_emb, item_emb
    return _Propagate.apply(user_emb, item_emb, r, rt, int(layers))  # type: ignore[no-any-return]


class LightGCN(MF):
    """LightGCN with BPR (layer-0 tables from any :class:`~graphrec.models.embedding.EmbeddingTable`).

    Parameters
    ----------
    graph : Graph, optional
    dim : int
        Embedding width (paper: 64).
    layers : int
        Propagation layers ``K`` (paper: 3). ``0`` is MF.
    lr, lr_milestones, lr_gamma, ema, reg, epochs, batch, seed, patience, eval_every, valid_fraction, refit, sampling, negatives, negative_selection, table, budget, checkpoint_dir, progress, max_minutes, device
        As in :class:`~graphrec.models.mf.MF`. Defaults differ from the paper's
        (Adam 1e-3, L2 1e-4, one negative, batch 2048) in ``lr = 5e-3``, ``negatives = 4``,
        ``negative_selection = 'hardest'`` (BPR on the top-scored of the 4 uniform candidates:
        dynamic negative sampling, Zhang et al., SIGIR 2013), ``eval_every = 5`` (validation
        every 5 epochs, as such fits peak within 30–60) and ``reg = 'auto'``: the L2 weight is
        chosen among :attr:`auto_reg` (5e-4, 1e-3, 2e-3, 3e-3) by validation NDCG@20 on the
        early-stopping carve, one early-stopped fit each, before the refit (2e-3 with
        ``patience=None``). The best weight moves with density: 3e-3 on MovieLens-100K's and
        LastFM's carves, 5e-4–1e-3 on Gowalla's. All chosen on validation carves of
        MovieLens-100K, LastFM and Gowalla training splits (test never read;
        docs/design.md). Pass the paper's values (and ``negative_selection='mean'``) to
        reproduce it, or one ``reg`` to fit once.
    weighted : bool
        Propagate with interaction weights (``w_ui / sqrt(d_u d_i)`` with weighted degrees)
        instead of the binary graph.

    Notes
    -----
    Each training step propagates the whole graph once (forward) and once more for the
    gradient, i.e. ``4K`` SpMMs of ``nnz x dim`` on ``graph.device``.
    """

    name = "lightgcn"
    auto_reg: ClassVar[tuple[float, ...]] = (5e-4, 1e-3, 2e-3, 3e-3)
    auto_reg_without_validation: ClassVar[float | None] = 2e-3
    demo_params: ClassVar[dict[str, Any]] = {"epochs": 40, "dim": 32, "eval_every": 5, "batch": 1024}

    def __init__(
        self,
        graph: Graph | None = None,
        *,
        dim: int = 64,
        layers: int = 3,
        lr: float = 5e-3,
        lr_milestones: int | Sequence[int] = (),
        lr_gamma: float = 0.1,
        ema: float | None = None,
        reg: float | Sequence[float] | str = "auto",
        epochs: int = 1000,
        batch: int = 2048,
        seed: int = 0,
        patience: int | None = 5,
        eval_every: int = 5,
        valid_fraction: float = 0.1,
        refit: bool = True,
        sampling: str = "pairs",
        negatives: int = 4,
        negative_selection: str = "hardest",
        table: str | TableFactory = "full",
        budget: float | None = None,
        checkpoint_dir: str | None = None,
        progress: bool = False,
        max_minutes: float | None = None,
        device: str | torch.device | None = None,
        weighted: bool = False,
        etype: EdgeType = INTERACTS,
    ) -> None:
        self.layers, self.weighted = check_int("layers", layers, 0), check_bool("weighted", weighted)
        super().__init__(
            graph, dim=dim, lr=lr, lr_milestones=lr_milestones, lr_gamma=lr_gamma, ema=ema, reg=reg, epochs=epochs, batch=batch,
            seed=seed, patience=patience, eval_every=eval_every, valid_fraction=valid_fraction, refit=refit,
            sampling=sampling, negatives=negatives, negative_selection=negative_selection, table=table, budget=budget,
            checkpoint_dir=checkpoint_dir, progress=progress, max_minutes=max_minutes, device=device, etype=etype,
        )

    def params(self) -> dict[str, Any]:
        return {**super().params(), "layers": self.layers, "weighted": self.weighted}

    def _fingerprint(self) -> dict[str, Any]:
        return {**super()._fingerprint(), "layers": self.layers, "weighted": self.weighted}

    def forward(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Propagated embeddings over ``self.graph``.

        Returns
        -------
        (users, items) : FloatTensor ``(n_users, dim)``, FloatTensor ``(n_items, dim)`` — the
        layer means, differentiable w.r.t. the layer-0 tables.
        """
        self._require_tables()
        r, rt = self._require_graph().norm_adj(self.etype, weighted=self.weighted)
        return lightgcn_propagate(self.user_table.all(), self.item_table.all(), r, rt, self.layers)  # type: ignore[union-attr]

    def batch_rows(
        self, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor
    ) -> tuple[tuple[torch.Tensor, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Propagated rows ``(e_u, e_i, e_j)`` and layer-0 rows ``(e_u0, e_i0, e_j0)`` of a batch.

        Shapes as in :meth:`MF.batch_rows` (``neg`` may be ``(B, m)``: ``m`` negatives each).
        """
        u, v = self.forward()
        both = torch.cat([pos, neg.reshape(-1)])  # one gather (and one scatter in backward) per table
        sizes, shape = [pos.numel(), neg.numel()], (*neg.shape, -1)
        vi, vj = v[both].split(sizes)
        i0, j0 = self.item_table(both).split(sizes)  # type: ignore[misc]
        return (u[users], vi, vj.view(shape)), (self.user_table(users), i0, j0.view(shape))  # type: ignore[misc]


register("lightgcn", LightGCN)
