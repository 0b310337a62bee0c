"""The BPR training loop (Rendle et al., "BPR: Bayesian Personalized Ranking from Implicit
Feedback", UAI 2009), as LightGCN trains it (He et al., SIGIR 2020).

One epoch visits ``|train|`` (user, positive) pairs in shuffled mini-batches; each pair gets
``negatives`` uniform negatives (LightGCN: one), none of them a training positive
(:class:`~graphrec.train.sampler.UniformNegativeSampler`), and the BPR term averages over the
resulting triples. The model supplies the batch loss
(BPR ``mean softplus(s_uj - s_ui)`` plus L2 on the batch's layer-0 rows, see
:func:`bpr_loss` / :func:`l2_rows`); the trainer runs Adam, evaluates NDCG@20 on a validation
graph every ``eval_every`` epochs (and after the last) with the full-ranking protocol, stops early after
``patience`` evaluations without improvement (restoring the best weights), and writes a
checkpoint (model, optimiser, epoch, RNG state, early-stopping state) that a later run with the
same ``checkpoint_dir`` resumes from, bit-for-bit on the same device.

Around the trainer runs sits the fit protocol, :func:`train_with_selection`: early stopping on
a carve of train (choosing one hyper-parameter, e.g. the L2 weight, among several values there),
then a refit on all of train for the best epoch count.

Models plug in through a small protocol: an ``nn.Module`` with
``training_loss(users, pos, neg) -> (loss, parts)`` and ``score(users)`` (for validation), whose
``graph`` attribute is the graph being trained on, and optionally ``invalidate_cache()``
(called after every optimiser step, for models that cache derived embeddings).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import math
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..checks import check_bool, check_choice, check_int, check_number, check_seed, derived_seed
from ..data.dataset import Dataset, held_out_graph
from ..graph.edges import EdgeType
from ..graph.store import INTERACTS, Graph
from .averaging import WeightAverage
from .checkpoint import load_checkpoint, save_checkpoint
from .early_stopping import EarlyStopping
from .sampler import UniformNegativeSampler, epoch_pairs

__all__ = ["BPRConfig", "BPRTrainer", "TrainResult", "bpr_loss", "carve_validation", "l2_rows", "selection_table",
           "train_with_selection", "triple_loss"]


def bpr_loss(pos_scores: torch.Tensor, neg_scores: torch.Tensor) -> torch.Tensor:
    """Mean BPR loss ``-log σ(s_ui - s_uj) = softplus(s_uj - s_ui)`` over a batch.

    ``pos_scores`` is ``(B,)``; ``neg_scores`` is ``(B,)`` or ``(B, m)`` (``m`` negatives per
    positive, every (u, i, j) triple weighted alike).
    """
    if neg_scores.dim() == 2:
        pos_scores = pos_scores.unsqueeze(1)
    return nn.functional.softplus(neg_scores - pos_scores).mean()


def l2_rows(*rows: torch.Tensor, batch: int) -> torch.Tensor:
    """LightGCN's L2 term: ``(Σ ||rows||²) / 2 / batch`` over the given ``(B, d)`` blocks."""
    return sum(r.pow(2).sum() for r in rows) / 2.0 / batch  # type: ignore[return-value]


NEGATIVE_SELECTIONS = ("mean", "hardest", "semihard")


def triple_loss(
    eu: torch.Tensor, ei: torch.Tensor, ej: torch.Tensor, eu0: torch.Tensor, ei0: torch.Tensor, ej0: torch.Tensor,
    selection: str = "mean",
) -> tuple[torch.Tensor, torch.Tensor]:
    """BPR and L2 terms of a batch of (user, positive, negatives) rows.

    ``eu, ei, eu0, ei0`` are ``(B, d)``; ``ej, ej0`` are ``(B, d)`` (one negative per positive)
    or ``(B, m, d)``. Scores are dot products. With ``m`` negatives, ``selection`` says which
    triples count:

    ``'mean'``
        all ``m``, averaged; the L2 term is :func:`l2_rows` over the layer-0 rows with the
        negatives' share averaged over ``m``, so ``m = 1`` is LightGCN's loss.
    ``'hardest'``
        only the highest-scored of the ``m`` uniform candidates per pair (dynamic negative
        sampling: Zhang, Chen, Wang & Yu, "Optimizing Top-N Collaborative Filtering via Dynamic
        Negative Item Sampling", SIGIR 2013), with its L2 term; this pushes on the items that
        would enter the top of the list.
    ``'semihard'``
        the highest-scored candidate that still scores *below* the positive; when every
        candidate scores above it, the lowest-scored one (semi-hard negative mining: Schroff,
        Kalenichenko & Philbin, "FaceNet", CVPR 2015). A candidate the model already ranks
        above a known positive is the likeliest unobserved positive (a false negative), and
        ``'hardest'`` would push exactly that one down. Measured well behind ``'hardest'`` on
        MovieLens-100K's validation carves (docs/design.md): kept for such comparisons.

    Returns
    -------
    (bpr, reg) : scalar tensors
    """
    if selection not in NEGATIVE_SELECTIONS:
        raise ValueError(f"selection must be one of {NEGATIVE_SELECTIONS}, got {selection!r}")
    batch = eu.shape[0]
    pos = (eu * ei).sum(-1)
    if ej.dim() == 2:
        return bpr_loss(pos, (eu * ej).sum(-1)), l2_rows(eu0, ei0, ej0, batch=batch)
    neg = (eu.unsqueeze(1) * ej).sum(-1)
    if selection != "mean":
        pick = _pick_negative(pos.detach(), neg.detach(), selection)  # (B, 1)
        hard0 = ej0.gather(1, pick.unsqueeze(-1).expand(-1, 1, ej0.shape[-1])).squeeze(1)
        return bpr_loss(pos, neg.gather(1, pick).squeeze(1)), l2_rows(eu0, ei0, hard0, batch=batch)
    return bpr_loss(pos, neg), l2_rows(eu0, ei0, batch=batch) + l2_rows(ej0, batch=batch) / ej0.shape[1]


def _pick_negative(pos: torch.Tensor, neg: torch.Tensor, selection: str) -> torch.Tensor:
    """Column ``(B, 1)`` of the candidate ``selection`` keeps, from scores ``pos (B,)``, ``neg (B, m)``."""
    if selection == "hardest":
        return neg.argmax(1, keepdim=True)
    below = neg < pos.unsqueeze(1)
    semihard = neg.masked_fill(~below, float("-inf")).argmax(1, keepdim=True)
    return torch.where(below.any(1, keepdim=True), semihard, neg.argmin(1, keepdim=True))


def carve_validation(
    graph: Graph, fraction: float, seed: int, *, etype: EdgeType = INTERACTS
) -> tuple[Graph, Graph]:
    """Split ``graph``'s ``etype`` edges into (train, valid) graphs on the same node sets.

    Uses graphrec's per-user seeded holdout (:func:`graphrec.data.splits.pair_holdout_mask`):
    each user gives ``round(fraction * n_u)`` of its interactions to validation but keeps at
    least one, and copies of a repeated pair go together. Other edge types, weights and
    timestamps stay in the training graph.

    Returns
    -------
    (train, valid) : Graph, Graph
    """
    from ..data.splits import pair_holdout_mask

    if not 0.0 < fraction < 1.0:
        raise ValueError(f"valid_fraction must be in (0, 1), got {fraction!r}")
    etype = graph.resolve_etype(etype)
    es = graph.edges(etype)
    src, dst = es.coo()
    valid_mask = pair_holdout_mask(es, fraction, seed)  # copies of a repeated pair go together
    out = graph._shallow()  # same nodes, attributes and other edge sets; tensors shared
    out._edges[etype] = es.select(~valid_mask)
    valid = held_out_graph(graph, src[valid_mask], dst[valid_mask], etype=etype)
    return out, valid


def _adam(params: list[torch.Tensor], lr: float) -> torch.optim.Optimizer:
    """Adam, fused into one kernel per step where this build supports it on the parameters' device."""
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, ValueError, TypeError):
        return torch.optim.Adam(params, lr=lr)


def _check_milestones(milestones: Any) -> tuple[int, ...]:
    """``lr_milestones`` as a strictly increasing tuple of epoch counts >= 1 (one int or a sequence)."""
    values = list(milestones) if isinstance(milestones, (list, tuple)) else [milestones]
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"lr_milestones must be epoch counts >= 1 (an int or a list of them), got {milestones!r}")
    if any(b <= a for a, b in itertools.pairwise(values)):
        raise ValueError(f"lr_milestones must be strictly increasing, got {milestones!r}")
    return tuple(int(v) for v in values)


def _check_metric(metric: Any) -> None:
    """``metric`` must name a ranking metric at a cut-off, e.g. ``'ndcg@20'`` (see :data:`graphrec.eval.metrics.METRICS`)."""
    from ..eval.metrics import METRICS

    name, at, k = metric.partition("@") if isinstance(metric, str) else ("", "", "")
    if not (at and name in METRICS and k.isdigit() and int(k) >= 1):
        raise ValueError(f"metric must be one of {', '.join(METRICS)} at a cut-off >= 1, like 'ndcg@20'; got {metric!r}")


def _duration(minutes: float) -> str:
    """``minutes`` for a message: seconds below one minute."""
    return f"{minutes * 60.0:.1f} s" if abs(minutes) < 1.0 else f"{minutes:.1f} min"


@dataclass
class BPRConfig:
    """Hyper-parameters of :class:`BPRTrainer` (defaults: LightGCN's).

    ``max_minutes`` is a wall-clock budget for a :class:`BPRTrainer` from its construction: an epoch (with its
    validation) that would end past it, predicted from the slowest one so far, is not
    started (the first always runs); :func:`train_with_selection` spreads it over the whole fit.

    ``lr_milestones`` is a step decay of Adam's learning rate: after each listed epoch count
    it is multiplied by ``lr_gamma`` (PyTorch's ``MultiStepLR``), so epoch ``e`` (1-based)
    trains at ``lr * lr_gamma ** (number of milestones < e)``. The rate follows from the epoch
    count alone, so a resumed run continues on schedule; neither is part of a checkpoint's
    fingerprint, so a run that has levelled off can be resumed with a decay added.

    ``ema`` (epochs, default off) keeps a running average of the weights that spans about
    that many epochs (:class:`~graphrec.train.averaging.WeightAverage`: Polyak averaging,
    polynomial-decay early on, then an EMA with that time constant); validation, early
    stopping and the trained model use the average, while the optimiser steps the raw weights.
    Like the schedule it is not in the fingerprint: a run that has levelled off can be resumed
    with averaging added, which then starts at the resumed epoch (a different ``ema`` than the
    checkpoint's own raises).
    """

    epochs: int = 1000
    batch: int = 2048
    lr: float = 1e-3
    seed: int = 0
    patience: int | None = 5
    eval_every: int = 10
    metric: str = "ndcg@20"
    sampling: str = "pairs"
    negatives: int = 1
    negative_selection: str = "mean"
    negative_method: str = "rejection"
    checkpoint_dir: str | None = None
    checkpoint_every: int = 1
    progress: bool = False
    max_minutes: float | None = None
    lr_milestones: tuple[int, ...] = ()
    lr_gamma: float = 0.1
    ema: float | None = None

    def __post_init__(self) -> None:
        for name in ("epochs", "batch", "eval_every", "checkpoint_every", "negatives"):
            setattr(self, name, check_int(name, getattr(self, name), 0 if name == "epochs" else 1))
        self.seed = check_seed(self.seed)
        self.progress = check_bool("progress", self.progress)
        if self.patience is not None:
            self.patience = check_int("patience", self.patience, 1, also="or None")
        self.lr = check_number("lr", self.lr, 0, low_open=True)
        check_choice("sampling", self.sampling, ("pairs", "users"))
        check_choice("negative_selection", self.negative_selection, NEGATIVE_SELECTIONS)
        check_choice("negative_method", self.negative_method, ("rejection", "inverse"))
        _check_metric(self.metric)
        self.lr_milestones = _check_milestones(self.lr_milestones)
        self.lr_gamma = check_number("lr_gamma", self.lr_gamma, 0, 1, low_open=True)
        for name in ("ema", "max_minutes"):  # epochs, minutes
            if getattr(self, name) is not None:
                setattr(self, name, check_number(name, getattr(self, name), 0, low_open=True, also="or None"))
        if self.checkpoint_dir is not None and not str(self.checkpoint_dir).strip():
            raise ValueError("checkpoint_dir must name a directory, got an empty string (None writes no checkpoint)")


@dataclass
class TrainResult:
    """What :meth:`BPRTrainer.run` did: per-epoch history and the early-stopping outcome."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = -1
    best_metric: float = float("nan")
    epochs_run: int = 0
    stopped_early: bool = False
    stopped_by_time: bool = False
    resumed_from: int = 0

    @property
    def epoch_seconds(self) -> float:
        """Mean wall time of a training epoch (evaluation excluded)."""
        secs = [h["seconds"] for h in self.history if "seconds" in h]
        return float(np.mean(secs)) if secs else float("nan")


def train_with_selection(
    run: Callable[[Graph, Graph | None, BPRConfig, Any], TrainResult],
    values: Sequence[Any],
    model: nn.Module,
    train: Graph,
    valid: Graph | None,
    config: BPRConfig,
    *,
    valid_fraction: float,
    seed: int,
    refit: bool,
    etype: EdgeType = INTERACTS,
) -> tuple[int, list[TrainResult], TrainResult | None]:
    """graphrec's fit protocol around training runs ``run(graph, valid_graph, config, value)``.

    ``run`` trains ``model`` in place with one value of a hyper-parameter (e.g. an L2 weight).
    With a ``valid`` split, each run trains on ``train`` and stops early on ``valid``.
    Otherwise, with early stopping on (``config.patience``), it trains on ``train`` minus a
    seeded ``valid_fraction`` carve (:func:`carve_validation`) and stops early on the carve;
    with ``patience=None`` (one value only) it trains on all of ``train``.

    Each of ``values`` gets its own run on the same split. The one with the highest best
    validation metric wins (the first on ties; a run that never validated never wins over one
    that did), as a grid search over a validation carve does for any peer. Then, if ``refit``
    and the split was carved, ``run`` trains the winner again on all of ``train`` for its best
    epoch count, without early stopping; otherwise ``model`` gets the winner's early-stopped
    weights back (its configuration, e.g. the attribute ``run`` set, is the caller's to restore
    to ``values[chosen]``).

    ``config.max_minutes`` bounds the whole fit. With several values, those still to run and
    the refit share what is left equally; one value's run may use all of it. The refit gets
    what the runs left. Without a checkpoint it is skipped when its predicted time does not
    fit; with one it trains as far as the budget goes, and the same call made again resumes
    it (a refit is a seeded run of a number of epochs, so it can grow to a later best epoch
    when the runs it follows go on). Whenever the refit is skipped or cut short, the model
    keeps the winner's early-stopped weights and a ``RuntimeWarning`` says why. Checkpoints go to
    ``<checkpoint_dir>`` and ``<checkpoint_dir>/refit`` for one value, and to
    ``<checkpoint_dir>/value<i>`` and ``<checkpoint_dir>/value<i>/refit`` for several, so that
    a later call whose validation picks another winner resumes that winner's own refit.

    Returns
    -------
    (chosen, results, refit_result) : int, list of TrainResult (one per value), TrainResult or None
        ``refit_result`` is None when no refit was due (``refit=False``, no carve, or the winner
        never validated). The model serves the refit's weights exactly when ``refit_result``
        is not None and not ``refit_result.stopped_by_time``; a refit skipped for time is a
        result with ``epochs_run == 0`` and ``stopped_by_time``.
    """
    t_start = time.perf_counter()  # the budget covers the carve too
    values = list(values)
    if not values:
        raise ValueError("values must hold at least one candidate")
    several = len(values) > 1
    if several and valid is None and config.patience is None:
        raise ValueError(f"choosing among {len(values)} values needs validation: keep early stopping (patience) on, "
                         "or pass a dataset with a valid split")
    if valid is not None:
        fit_graph, valid_graph = train, valid.to(train.device)
    elif config.patience is not None:
        fit_graph, valid_graph = carve_validation(train, valid_fraction, seed, etype=etype)
        if valid_graph.num_edges(etype) == 0:
            raise ValueError(f"valid_fraction={valid_fraction} carves no validation interaction: a user with n "
                             f"interactions gives round({valid_fraction} * n) of them, and keeps at least one; raise "
                             "valid_fraction, pass a dataset with a valid split, or set patience=None")
    else:
        fit_graph, valid_graph = train, None
    refitting = refit and fit_graph is not train
    if refitting:  # the refit's negatives: a user with every item fails here, not after all the runs
        try:
            UniformNegativeSampler.from_graph(train, etype)
        except ValueError as err:
            raise ValueError(f"the refit on all of train cannot sample negatives: {err}") from err

    def checkpoint_dir(i: int) -> str | None:
        if config.checkpoint_dir is None:
            return None
        return str(Path(config.checkpoint_dir) / f"value{i}") if several else config.checkpoint_dir

    results: list[TrainResult] = []
    chosen, chosen_score, chosen_state = 0, -math.inf, None
    for i, value in enumerate(values):
        cfg = dataclasses.replace(config, checkpoint_dir=checkpoint_dir(i))
        if config.max_minutes is not None:  # what is left, shared by the values still to run and the refit
            left = config.max_minutes - (time.perf_counter() - t_start) / 60.0
            share = left / (len(values) - i + refitting) if several else left
            cfg = dataclasses.replace(cfg, max_minutes=max(share, 1e-3))
        results.append(run(fit_graph, valid_graph, cfg, value))
        score = results[-1].best_metric if math.isfinite(results[-1].best_metric) else -math.inf
        if i == 0 or score > chosen_score:
            chosen, chosen_score = i, score
            if several or refitting:
                chosen_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    again, best = None, results[chosen]
    if refitting and best.best_epoch > 0:
        again, why = _refit(run, train, config, values[chosen], best, t_start, valid_fraction, checkpoint_dir(chosen))
        if why:
            warnings.warn(f"{why}; the model keeps the early-stopped weights trained without the validation carve",
                          RuntimeWarning, stacklevel=3)
    if (again is None or again.stopped_by_time) and chosen_state is not None:
        model.load_state_dict(chosen_state)  # the model may hold a later run's or a partial refit's weights
    return chosen, results, again


def _refit(
    run: Callable[[Graph, Graph | None, BPRConfig, Any], TrainResult], train: Graph, config: BPRConfig, value: Any,
    best: TrainResult, t_start: float, valid_fraction: float, value_dir: str | None,
) -> tuple[TrainResult, str]:
    """:func:`train_with_selection`'s refit of the winner on all of ``train``: its result, and why it was skipped or cut ('' if not)."""
    minutes = None if config.max_minutes is None else config.max_minutes - (time.perf_counter() - t_start) / 60.0
    ckpt = None if value_dir is None else str(Path(value_dir) / "refit")
    if minutes is not None and ckpt is not None and minutes <= 0:
        return TrainResult(stopped_by_time=True), (f"refit skipped: no time is left of max_minutes={config.max_minutes}; "
                                                   "run again with the same checkpoint_dir to go on")
    if minutes is not None and ckpt is None:
        # the refit trains on ~1/(1 - valid_fraction) as many pairs per epoch
        need = best.epoch_seconds * best.best_epoch / (1.0 - valid_fraction) / 60.0
        if need > minutes:
            return TrainResult(stopped_by_time=True), (
                f"refit skipped: {best.best_epoch} epochs on the whole training split need about {_duration(need)}, "
                f"{_duration(max(minutes, 0.0))} of max_minutes={config.max_minutes} are left "
                "(with a checkpoint_dir it would train as far as the budget goes, and a second call would go on)")
    again = run(train, None, dataclasses.replace(config, epochs=best.best_epoch, patience=None, checkpoint_dir=ckpt,
                                                 max_minutes=None if minutes is None else max(minutes, 1e-3)), value)
    if again.stopped_by_time:
        return again, (f"refit cut short: max_minutes={config.max_minutes} ran out after {again.epochs_run} of its "
                       f"{best.best_epoch} epochs; run again with the same checkpoint_dir to finish it")
    return again, ""


def selection_table(name: str, values: Sequence[Any], results: Sequence[TrainResult], chosen: int) -> list[dict[str, Any]]:
    """One row per candidate value of a validation choice: value, best validation metric and epoch, whether chosen."""
    if len(values) == 1:
        return []
    return [{name: v, "valid_metric": r.best_metric, "best_epoch": r.best_epoch, "epochs_run": r.epochs_run,
             "epoch_seconds": r.epoch_seconds, "chosen": i == chosen}
            for i, (v, r) in enumerate(zip(values, results))]


class BPRTrainer:
    """Run BPR on ``model`` over ``train``, with optional validation, early stopping, checkpoints.

    Parameters
    ----------
    model : nn.Module
        Implements ``training_loss(users, pos, neg) -> (loss, parts)`` and ``score``; its
        ``graph`` is ``train`` while training.
    train : Graph
        Interactions to train on (``etype`` edges), on the model's device.
    valid : Graph, optional
        Held-out validation interactions (same node sets). Without it no metric is computed.
    config : BPRConfig
    fingerprint : dict, optional
        Identifies the model configuration in checkpoints (resuming a different one raises).
    """

    def __init__(
        self,
        model: nn.Module,
        train: Graph,
        valid: Graph | None,
        config: BPRConfig,
        *,
        etype: EdgeType = INTERACTS,
        fingerprint: dict[str, Any] | None = None,
    ) -> None:
        self.created = time.perf_counter()  # max_minutes counts from here: set-up (the optimiser's first import) included
        self.model, self.train, self.valid, self.config, self.etype = model, train, valid, config, etype
        if valid is not None and (not valid.has_edge_type(etype) or valid.num_edges(etype) == 0):
            raise ValueError(f"the validation graph has no {etype} interactions to validate on; pass valid=None to train without")
        self.fingerprint = dict(fingerprint or {})
        self.fingerprint.update(
            n_users=train.num_nodes(etype[0]), n_items=train.num_nodes(etype[2]), n_train=train.num_edges(etype),
            seed=config.seed, batch=config.batch, sampling=config.sampling, negatives=config.negatives,
            negative_selection=config.negative_selection,
        )
        self.sampler = UniformNegativeSampler.from_graph(train, etype, method=config.negative_method)
        self.generator = torch.Generator().manual_seed(derived_seed(config.seed + 104729))
        self.optimizer = _adam(list(model.parameters()), config.lr)
        self.stopper = EarlyStopping(config.patience if valid is not None else None)
        self._valid_data = None if valid is None else Dataset("valid", train, valid)
        self.steps_per_epoch = math.ceil(train.num_edges(etype) / config.batch)
        self.average = (None if config.ema is None
                        else WeightAverage(model.parameters(), max(config.ema * self.steps_per_epoch, 1.0)))

    # ---------------------------------------------------------------- pieces
    def validate(self) -> float:
        """The configured validation metric of the current model."""
        from ..eval.protocol import evaluate

        k = self.config.metric.partition("@")[2]
        report = evaluate(self.model, self._valid_data, k=[int(k)])  # type: ignore[arg-type]
        return report[self.config.metric]

    def lr_at(self, epoch: int) -> float:
        """Adam's learning rate for the epoch after ``epoch`` completed ones (the step decay of ``lr_milestones``)."""
        cfg = self.config
        return cfg.lr * cfg.lr_gamma ** sum(1 for m in cfg.lr_milestones if m <= epoch)

    def train_epoch(self, bar: Any = None) -> float:
        """One epoch of shuffled mini-batches; returns the mean batch loss."""
        users, pos = epoch_pairs(self.train, self.generator, etype=self.etype, mode=self.config.sampling)
        m = self.config.negatives
        if m == 1:  # (N,): LightGCN's one negative per pair
            neg = self.sampler.sample(users, self.generator)
        else:  # (N, m)
            neg = self.sampler.sample(users.repeat_interleave(m), self.generator).view(-1, m)
        self.model.train()
        total, steps = torch.zeros((), device=users.device), 0
        for s in range(0, users.numel(), self.config.batch):
            loss, _ = self.model.training_loss(users[s : s + self.config.batch], pos[s : s + self.config.batch], neg[s : s + self.config.batch])
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            if self.average is not None:
                self.average.update()
            self._parameters_changed()
            total += loss.detach()
            steps += 1
            if bar is not None:
                bar.update(1)
        self.model.eval()
        return float(total) / max(steps, 1)

    @contextlib.contextmanager
    def _serving_weights(self) -> Iterator[None]:
        """Within the block the model holds the weights it would serve (the average, with ``ema``)."""
        if self.average is None:
            yield
            return
        try:
            with self.average.applied():
                self._parameters_changed()
                yield
        finally:
            self._parameters_changed()

    def _parameters_changed(self) -> None:
        hook = getattr(self.model, "invalidate_cache", None)
        if hook is not None:
            hook()

    def _state(self, epoch: int, result: TrainResult) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "epoch": epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "average": None if self.average is None else self.average.state_dict(),
            "stopper": self.stopper.state_dict(),
            "history": result.history,
            "stopped_early": result.stopped_early,
            "config": {k: v for k, v in asdict(self.config).items() if k not in ("checkpoint_dir", "progress")},
        }

    def _resume(self, result: TrainResult) -> int:
        if self.config.checkpoint_dir is None:
            return 0
        state = load_checkpoint(self.config.checkpoint_dir, self.fingerprint, map_location=self.train.device)
        if state is None:
            return 0
        where = f"the checkpoint in {self.config.checkpoint_dir}"
        if int(state["epoch"]) > self.config.epochs:
            raise ValueError(f"{where} has trained {int(state['epoch'])} epochs, more than epochs={self.config.epochs}: "
                             "ask for at least as many, or start a fresh checkpoint_dir")
        metric = state.get("config", {}).get("metric", self.config.metric)
        if metric != self.config.metric:  # its best value and patience count are of another metric
            raise ValueError(f"{where} validates on metric={metric!r}, but this run has metric={self.config.metric!r}: "
                             "resume with its own metric, or start a fresh checkpoint_dir")
        if self.average is None and state.get("average") is not None:
            ema = float(state["average"]["horizon"]) / self.steps_per_epoch
            raise ValueError(f"{where} averages its weights (ema={ema:g} epochs) and this run does not: resume with "
                             "its own ema, or start a fresh checkpoint_dir")
        self.model.load_state_dict(state["model"])
        self._parameters_changed()
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"].cpu())
        self.stopper.load_state_dict(state["stopper"])
        if self.average is not None and state.get("average") is not None:  # without one, the average starts here
            try:
                self.average.load_state_dict(state["average"])
            except ValueError as err:
                raise ValueError(f"{where} averages its weights differently ({err}): "
                                 f"resume with its own ema, or start a fresh checkpoint_dir") from err
        result.history = list(state["history"])
        # judged with this run's patience: a run stopped early resumes when given more patience
        result.stopped_early = self._valid_data is not None and self.stopper.should_stop
        return int(state["epoch"])

    # ------------------------------------------------------------------- run
    def run(self) -> TrainResult:
        """Train up to ``config.epochs`` epochs (resuming from a checkpoint when present)."""
        cfg = self.config
        result = TrainResult()
        start = self._resume(result)
        result.resumed_from = start
        last_metric: float | None = next((h[cfg.metric] for h in reversed(result.history) if cfg.metric in h), None)
        epoch = start
        t_start, slowest = self.created, 0.0
        budget = math.inf if cfg.max_minutes is None else 60.0 * cfg.max_minutes
        with tqdm(total=cfg.epochs, initial=min(start, cfg.epochs), desc=type(self.model).__name__, unit="epoch",
                  disable=not cfg.progress, leave=True) as bar, \
             tqdm(total=self.steps_per_epoch, desc="steps", unit="step", disable=not cfg.progress, leave=False) as step_bar:
            while epoch < cfg.epochs and not result.stopped_early:
                if epoch > start and time.perf_counter() - t_start + slowest > budget:
                    result.stopped_by_time = True
                    if cfg.checkpoint_dir is not None and epoch % cfg.checkpoint_every:  # resume from here later
                        save_checkpoint(cfg.checkpoint_dir, self._state(epoch, result))
                    break
                step_bar.reset()
                for group in self.optimizer.param_groups:
                    group["lr"] = self.lr_at(epoch)
                t0 = time.perf_counter()
                loss = self.train_epoch(step_bar)
                if self.train.device.type == "cuda":
                    torch.cuda.synchronize(self.train.device)
                entry: dict[str, float] = {"epoch": epoch + 1, "loss": loss, "seconds": time.perf_counter() - t0}
                epoch += 1
                if not math.isfinite(loss):
                    raise FloatingPointError(f"training loss became {loss} at epoch {epoch}; lower lr or raise reg")
                if self._valid_data is not None and (epoch % cfg.eval_every == 0 or epoch == cfg.epochs):
                    with self._serving_weights():
                        last_metric = self.validate()
                        self.stopper.update(last_metric, epoch, self.model.state_dict())
                    entry[cfg.metric] = last_metric
                    result.stopped_early = self.stopper.should_stop
                result.history.append(entry)
                slowest = max(slowest, time.perf_counter() - t0)  # training and validation
                bar.update(1)
                post = {"loss": f"{loss:.4f}"}
                if last_metric is not None:
                    post[cfg.metric] = f"{last_metric:.4f}"
                bar.set_postfix(post)
                if cfg.checkpoint_dir is not None and (epoch % cfg.checkpoint_every == 0 or epoch == cfg.epochs or result.stopped_early):
                    save_checkpoint(cfg.checkpoint_dir, self._state(epoch, result))
        result.epochs_run = epoch
        if self.stopper.best_state is not None and cfg.patience is not None:
            self.model.load_state_dict(self.stopper.best_state)
            self._parameters_changed()
        elif self.average is not None:
            self.average.copy_to_params()
            self._parameters_changed()
        result.best_epoch = self.stopper.best_epoch
        result.best_metric = self.stopper.best if self.stopper.best_epoch >= 0 else float("nan")
        return result

