"""BPR pieces: loss formulas, validation carve-out, early stopping, checkpoints."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from graphrec.graph.store import INTERACTS, Graph
from graphrec.train import (
    BPRConfig,
    EarlyStopping,
    bpr_loss,
    carve_validation,
    l2_rows,
    load_checkpoint,
    save_checkpoint,
)
from graphrec.train.bpr import triple_loss


def test_bpr_loss_and_l2_by_hand() -> None:
    loss = bpr_loss(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0]))
    assert math.isclose(float(loss), (math.log1p(math.exp(-1.0)) + math.log1p(math.exp(2.0))) / 2, rel_tol=1e-6)
    reg = l2_rows(torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 0.0]]), batch=2)
    assert math.isclose(float(reg), (1 + 4 + 9) / 2 / 2)


@pytest.mark.parametrize(
    ("selection", "expected"),
    # row 0: positive 1.0, candidates 0.5, 2.0, -1.0, 0.9; row 1: positive 0.5, every candidate above it
    [("hardest", [1, 3]), ("semihard", [3, 0])],
)
def test_selection_keeps_one_candidate_per_pair(selection: str, expected: list[int]) -> None:
    def rows(*scores: float) -> torch.Tensor:  # against eu = (1, 0), a row's score is its first entry
        return torch.tensor([[s, 0.0] for s in scores])

    eu = rows(1.0, 1.0)
    ei = rows(1.0, 0.5)
    ej = torch.stack([rows(0.5, 2.0, -1.0, 0.9), rows(2.0, 3.0, 4.0, 5.0)])  # (B=2, m=4, d=2)
    bpr, reg = triple_loss(eu, ei, ej, eu, ei, ej, selection=selection)
    chosen = ej[torch.arange(2), torch.tensor(expected)]  # (2, d): one negative per pair
    by_hand, reg_by_hand = triple_loss(eu, ei, chosen, eu, ei, chosen)
    torch.testing.assert_close(bpr, by_hand)
    torch.testing.assert_close(reg, reg_by_hand)


def test_carve_validation_partitions_train_per_user() -> None:
    g = Graph()
    g.add_node_type("user", 4)
    g.add_node_type("item", 12)
    g.add_node_type("x", 1)
    users = [0] * 10 + [1] * 2 + [2]
    items = list(range(10)) + [3, 4, 7]
    g.add_edges(INTERACTS, users, items, weight=[float(k + 1) for k in range(13)])
    g.add_edges(("user", "trusts", "user"), [0], [1])
    tr, va = carve_validation(g, 0.3, seed=3)
    key = lambda gg: set(zip(*(t.tolist() for t in gg.edges(INTERACTS).coo())))
    assert key(tr) | key(va) == key(g) and not key(tr) & key(va)
    deg_tr, deg_va = tr.degree(INTERACTS), va.degree(INTERACTS)
    assert deg_va.tolist() == [3, 1, 0, 0]  # round(0.3 * 10), round(0.3 * 2) = 1 (keeps one), never the last
    assert bool((deg_tr[:3] >= 1).all())
    assert tr.num_edges(("user", "trusts", "user")) == 1 and tr.edges(INTERACTS).weight is not None
    assert va.id_map("user") is g.id_map("user")
    _, va2 = carve_validation(g, 0.3, seed=3)
    assert key(va2) == key(va)
    with pytest.raises(ValueError, match="valid_fraction"):
        carve_validation(g, 1.0, seed=0)


def test_early_stopping_tracks_best_and_stops() -> None:
    es = EarlyStopping(patience=2)
    w = {"w": torch.tensor([0.0])}
    for epoch, value in enumerate([0.1, 0.3, 0.2, 0.25, 0.28], start=1):
        w["w"] += 1
        es.update(value, epoch, w)
        if es.should_stop:
            break
    assert epoch == 4 and es.best == 0.3 and es.best_epoch == 2
    assert float(es.best_state["w"]) == 2.0  # a copy, not the live tensor
    never = EarlyStopping(None)
    for v in [0.5, 0.1, 0.1, 0.1]:
        never.update(v, 1)
    assert not never.should_stop and never.best == 0.5
    with pytest.raises(ValueError, match="NaN"):
        never.update(float("nan"), 9)
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(0)


def test_checkpoint_roundtrip_and_mismatch(tmp_path) -> None:
    state = {"fingerprint": {"model": "LightGCN", "dim": 8}, "epoch": 3, "w": torch.arange(3)}
    save_checkpoint(tmp_path, state)
    assert load_checkpoint(tmp_path / "missing", {"dim": 8}) is None
    back = load_checkpoint(tmp_path, {"model": "LightGCN", "dim": 8})
    assert back["epoch"] == 3 and torch.equal(back["w"], torch.arange(3))
    with pytest.raises(ValueError, match="dim=8.*dim=16"):
        load_checkpoint(tmp_path, {"dim": 16})


def test_unreadable_checkpoints_are_named(tmp_path) -> None:
    (tmp_path / "garbage").mkdir()
    (tmp_path / "garbage" / "checkpoint.pt").write_text("garbage")
    with pytest.raises(ValueError, match=r"checkpoint .*garbage/checkpoint.pt cannot be read .*delete it"):
        load_checkpoint(tmp_path / "garbage", {})
    save_checkpoint(tmp_path / "cut", {"fingerprint": {}, "w": torch.zeros(1000)})
    whole = (tmp_path / "cut" / "checkpoint.pt").read_bytes()
    (tmp_path / "cut" / "checkpoint.pt").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match="cut/checkpoint.pt cannot be read"):
        load_checkpoint(tmp_path / "cut", {})
    save_checkpoint(tmp_path / "foreign", {"w": torch.zeros(2)})  # a torch file, but not a training checkpoint
    with pytest.raises(ValueError, match="not a graphrec training checkpoint"):
        load_checkpoint(tmp_path / "foreign", {})
    (tmp_path / "file").write_text("x")
    for call in (lambda: load_checkpoint(tmp_path / "file", {}), lambda: save_checkpoint(tmp_path / "file", {})):
        with pytest.raises(ValueError, match="file, not a directory"):
            call()


def test_config_validation() -> None:
    for bad in ({"epochs": -1}, {"batch": 0}, {"lr": 0}, {"sampling": "x"}, {"eval_every": 0}, {"metric": "ndcg"},
                {"metric": "foo@20"}, {"metric": "NDCG@20"}, {"metric": "ndcg@abc"}, {"metric": "ndcg@0"}, {"patience": 0},
                {"patience": True}, {"negative_method": "foo"}, {"lr": float("inf")}, {"ema": float("nan")},
                {"checkpoint_dir": ""}, {"seed": -1}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            BPRConfig(**bad)
    cfg = BPRConfig(epochs=np.int64(3), batch=np.int32(64), lr=np.float32(0.01), patience=np.int64(2), metric="recall@10")
    assert (type(cfg.epochs), type(cfg.batch), type(cfg.lr), type(cfg.patience)) == (int, int, float, int)


def _scripted_run(scores: dict[float, float], calls: list, model: torch.nn.Linear):
    """A stand-in for one trainer run: records its call, sets the weights to the value, reports ``scores[value]``."""
    from graphrec.train import TrainResult

    def run(graph: Graph, valid: Graph | None, cfg: BPRConfig, value: float) -> TrainResult:
        calls.append((value, valid is None, cfg.epochs, cfg.patience, cfg.checkpoint_dir))
        with torch.no_grad():
            model.weight.fill_(value)
        best = scores[value]
        return TrainResult(best_epoch=3 if valid is not None else -1, best_metric=best, epochs_run=cfg.epochs if valid is None else 5,
                           history=[{"epoch": 1, "seconds": 0.1}])
    return run


@pytest.mark.parametrize("refit", [True, False])
def test_train_with_selection_keeps_the_best_value_and_refits_only_it(refit: bool, tmp_path) -> None:
    from graphrec.train import train_with_selection

    g = Graph()
    g.add_node_type("user", 3)
    g.add_node_type("item", 6)
    g.add_edges(INTERACTS, [0, 0, 0, 1, 1, 1, 2, 2], [0, 1, 2, 3, 4, 5, 0, 5])
    model, calls = torch.nn.Linear(1, 1, bias=False), []
    scores = {1.0: 0.2, 2.0: float("nan"), 3.0: 0.5, 4.0: 0.5}  # NaN never wins; on a tie the first value does
    cfg = BPRConfig(epochs=50, patience=2, checkpoint_dir=str(tmp_path))
    chosen, results, again = train_with_selection(_scripted_run(scores, calls, model), [1.0, 2.0, 3.0, 4.0], model, g, None, cfg,
                                                  valid_fraction=0.3, seed=0, refit=refit)
    assert chosen == 2 and len(results) == 4 and math.isnan(results[1].best_metric) and results[2].best_metric == 0.5
    carve_calls = calls[:4]
    assert [c[0] for c in carve_calls] == [1.0, 2.0, 3.0, 4.0] and not any(c[1] for c in carve_calls)
    assert [c[4] for c in carve_calls] == [str(tmp_path / f"value{i}") for i in range(4)]
    if refit:  # the winner again, on all of train, for its best epoch count, without early stopping
        assert calls[4:] == [(3.0, True, 3, None, str(tmp_path / "value2" / "refit"))] and again is not None
    else:  # no refit: the winner's weights are put back (the last run had left 4.0's)
        assert len(calls) == 4 and again is None and model.weight.item() == 3.0
    one = train_with_selection(_scripted_run(scores, [], model), [1.0], model, g, None, cfg, valid_fraction=0.3, seed=0, refit=refit)
    assert one[0] == 0 and len(one[1]) == 1
    with pytest.raises(ValueError, match="at least one"):
        train_with_selection(_scripted_run(scores, [], model), [], model, g, None, cfg, valid_fraction=0.3, seed=0, refit=refit)
    with pytest.raises(ValueError, match="needs validation"):
        train_with_selection(_scripted_run(scores, [], model), [1.0, 3.0], model, g, None, BPRConfig(patience=None),
                             valid_fraction=0.3, seed=0, refit=refit)


def _graph(users: list[int], items: list[int], n_users: int, n_items: int) -> Graph:
    g = Graph()
    g.add_node_type("user", n_users)
    g.add_node_type("item", n_items)
    g.add_edges(INTERACTS, users, items)
    return g


def test_the_largest_seed_trains_and_a_larger_one_is_named() -> None:
    """``check_seed`` allows 2**64 - 1; the sampler's seed (seed + 104729) used to overflow torch's generator."""
    from graphrec.checks import SEED_MAX
    from graphrec.train import BPRTrainer

    g = _graph([0, 0, 1], [0, 1, 2], 2, 4)
    model = torch.nn.Linear(1, 1)
    trainer = BPRTrainer(model, g, None, BPRConfig(seed=SEED_MAX, patience=None))
    assert trainer.generator.initial_seed() == 104728
    with pytest.raises(ValueError, match="seed"):
        BPRConfig(seed=SEED_MAX + 1)
    with pytest.raises(TypeError, match="progress"):
        BPRConfig(progress="no")
    with pytest.raises(ValueError, match="seed"):
        carve_validation(g, 0.5, seed=1.5)


def test_an_empty_validation_split_is_refused_before_training() -> None:
    """It used to train until the first validation, then fail with 'no user has test interactions'."""
    from graphrec.train import BPRTrainer, train_with_selection

    g = _graph([0, 0, 1, 2], [0, 1, 2, 3], 3, 5)  # round(0.1 * n) = 0 for every user
    calls: list = []
    with pytest.raises(ValueError, match=r"valid_fraction=0.1 carves no validation interaction"):
        train_with_selection(_scripted_run({1.0: 0.1}, calls, torch.nn.Linear(1, 1)), [1.0], torch.nn.Linear(1, 1), g, None,
                             BPRConfig(patience=2), valid_fraction=0.1, seed=0, refit=True)
    assert calls == []
    empty = _graph([], [], 3, 5)
    with pytest.raises(ValueError, match="validation graph has no .* interactions"):
        BPRTrainer(torch.nn.Linear(1, 1), g, empty, BPRConfig())


def test_a_refit_that_cannot_sample_negatives_fails_before_the_runs() -> None:
    """User 0 has every item: the carve leaves it a negative, the refit on all of train does not."""
    from graphrec.train import train_with_selection

    g = _graph([0] * 6 + [1, 1, 1, 2, 2, 2], list(range(6)) + [0, 1, 2, 3, 4, 5], 3, 6)
    calls: list = []
    with pytest.raises(ValueError, match="refit on all of train cannot sample negatives: user index 0 has interacted with all 6"):
        train_with_selection(_scripted_run({1.0: 0.1}, calls, torch.nn.Linear(1, 1)), [1.0], torch.nn.Linear(1, 1), g, None,
                             BPRConfig(patience=2), valid_fraction=0.3, seed=0, refit=True)
    assert calls == []


def test_resume_refuses_another_validation_metric(tmp_path) -> None:
    """The checkpoint's best value and patience count belong to its metric; another one used to be compared with them."""
    from graphrec.data.synthetic import make_dataset
    from graphrec.models.mf import MF
    from graphrec.train import BPRTrainer

    data = make_dataset(num_users=30, num_items=20, seed=0)
    fit, held = carve_validation(data.train, 0.3, 0)

    def trainer(metric: str, epochs: int) -> BPRTrainer:
        m = MF(dim=4, lr=0.05)
        m._build_tables(fit)
        m.graph = fit
        cfg = BPRConfig(epochs=epochs, batch=64, lr=0.05, eval_every=1, metric=metric, checkpoint_dir=str(tmp_path))
        return BPRTrainer(m, fit, held, cfg, fingerprint=m._fingerprint())

    trainer("recall@20", 1).run()
    with pytest.raises(ValueError, match="metric='recall@20', but this run has metric='ndcg@5'"):
        trainer("ndcg@5", 3).run()
    assert trainer("recall@20", 2).run().resumed_from == 1


def test_carve_validation_keeps_copies_of_a_pair_together() -> None:
    from graphrec.data.splits import random_holdout_mask

    g = Graph()
    g.add_edges(INTERACTS, [0] * 6 + [1] * 4, [0, 0, 1, 1, 2, 2, 0, 1, 2, 3], by="id", duplicates="keep")
    for seed in range(8):
        tr, va = carve_validation(g, 0.4, seed=seed)
        train_pairs = set(zip(*(t.tolist() for t in tr.edges().coo())))
        valid_pairs = list(zip(*(t.tolist() for t in va.edges().coo())))
        assert not train_pairs & set(valid_pairs)  # a validation item is never also a training item
        assert tr.num_edges() + sum(2 if u == 0 else 1 for u, _ in valid_pairs) == g.num_edges()
    h = Graph()  # without repeats the carve is the per-edge holdout, unchanged
    h.add_edges(INTERACTS, [0, 0, 0, 1, 1, 2, 2, 2, 2], [0, 1, 2, 0, 3, 1, 2, 3, 4], by="id")
    src, dst = h.edges().coo()
    mask = random_holdout_mask(src.numpy(), 0.3, 5)
    _, va = carve_validation(h, 0.3, seed=5)
    assert list(zip(*(t.tolist() for t in va.edges().coo()))) == list(zip(src[mask].tolist(), dst[mask].tolist()))
