"""LightGCN / MF: propagation against a dense Â, gradients, determinism, resume, devices."""

from __future__ import annotations

import json
import math
import time
import warnings

import numpy as np
import pytest
import torch

import graphrec as gr
from graphrec.data.dataset import Dataset
from graphrec.graph.store import INTERACTS, Graph
from graphrec.models import create
from graphrec.models.embedding import EmbeddingTable, FullEmbedding, make_table
from graphrec.models.lightgcn import LightGCN, lightgcn_propagate
from graphrec.models.mf import MF
from graphrec.train import BPRTrainer, carve_validation

# 3 users, 4 items; item 3 has no interaction (zero degree must propagate to zeros, not NaN)
EDGES = ([0, 0, 1, 1, 1, 2], [0, 1, 0, 1, 2, 2])
N_U, N_I = 3, 4


def tiny_graph() -> Graph:
    g = Graph()
    g.add_node_type("user", N_U)
    g.add_node_type("item", N_I)
    g.add_edges(INTERACTS, *EDGES)
    return g


def dense_adjacency() -> np.ndarray:
    """Â = D^-1/2 A D^-1/2 over users+items, built by hand in numpy."""
    a = np.zeros((N_U + N_I, N_U + N_I))
    for u, i in zip(*EDGES):
        a[u, N_U + i] = a[N_U + i, u] = 1.0
    d = a.sum(1)
    inv = np.where(d > 0, 1.0 / np.sqrt(np.maximum(d, 1e-300)), 0.0)
    return inv[:, None] * a * inv[None, :]


def community_data(seed: int = 0, n_users: int = 60, n_items: int = 40, per_user: int = 8) -> Dataset:
    """Two planted communities: users of community c interact with items of community c."""
    rng = np.random.default_rng(seed)
    users, items = [], []
    for u in range(n_users):
        c = u % 2
        pool = np.arange(c, n_items, 2)
        chosen = rng.choice(pool, size=per_user, replace=False)
        users += [u] * per_user
        items += chosen.tolist()
    users, items = np.array(users), np.array(items)
    test = rng.random(users.size) < 0.2
    return Dataset.from_pairs(
        "communities", (users[~test], items[~test]), (users[test], items[test]),
        user_ids=np.arange(n_users), item_ids=np.arange(n_items),
    )


def test_propagation_equals_dense_matrix_powers() -> None:
    g = tiny_graph()
    model = LightGCN(g, dim=5, layers=3, seed=3)
    e0 = torch.cat([model.user_table.all(), model.item_table.all()]).detach().double().numpy()
    a_hat = dense_adjacency()
    expected = sum(np.linalg.matrix_power(a_hat, k) @ e0 for k in range(4)) / 4
    u, v = model.forward()
    got = torch.cat([u, v]).detach().double().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # hand check of one entry at K=1: user 2 only touches item 2 (deg 2): e_u2 = (e_u2 + e_i2/sqrt(1*2)) / 2
    r, rt = g.norm_adj()
    u1, _ = lightgcn_propagate(torch.tensor(e0[:N_U]), torch.tensor(e0[N_U:]), r.double(), rt.double(), 1)
    np.testing.assert_allclose(u1[2].numpy(), (e0[2] + e0[N_U + 2] / np.sqrt(2.0)) / 2, rtol=1e-6)
    # the isolated item keeps only its own layer-0 row / (K + 1)
    np.testing.assert_allclose(got[N_U + 3], e0[N_U + 3] / 4, rtol=1e-6)


def test_propagation_gradient_equals_dense_autograd() -> None:
    g = tiny_graph()
    r, rt = g.norm_adj()
    torch.manual_seed(0)
    eu = torch.randn(N_U, 4, dtype=torch.float64, requires_grad=True)
    ei = torch.randn(N_I, 4, dtype=torch.float64, requires_grad=True)
    w = torch.randn(N_U + N_I, 4, dtype=torch.float64)
    fu, fi = lightgcn_propagate(eu, ei, r.double(), rt.double(), 2)
    (torch.cat([fu, fi]) * w).sum().backward()
    a = torch.tensor(dense_adjacency())
    e0 = torch.cat([eu, ei]).detach().requires_grad_(True)
    final = (e0 + a @ e0 + a @ (a @ e0)) / 3
    (final * w).sum().backward()
    torch.testing.assert_close(torch.cat([eu.grad, ei.grad]), e0.grad)
    assert torch.autograd.gradcheck(
        lambda x, y: lightgcn_propagate(x, y, r.double(), rt.double(), 3), (eu.detach().requires_grad_(), ei.detach().requires_grad_())
    )


@pytest.mark.parametrize("name", ["mf", "lightgcn", "rlmrec-con"])
def test_models_refuse_an_unsupported_device_when_built(name: str) -> None:
    with pytest.raises(ValueError, match="'mps' is not supported"):
        create(name, device="mps")


def test_propagation_rejects_mismatched_shapes() -> None:
    r, rt = tiny_graph().norm_adj()
    with pytest.raises(ValueError, match="do not match"):
        lightgcn_propagate(torch.zeros(N_U + 1, 2), torch.zeros(N_I, 2), r, rt, 2)
    with pytest.raises(ValueError, match="layers"):
        lightgcn_propagate(torch.zeros(N_U, 2), torch.zeros(N_I, 2), r, rt, -1)


def test_batch_loss_matches_formula() -> None:
    g = tiny_graph()
    model = LightGCN(g, dim=4, layers=2, reg=0.5, seed=1)
    users, pos, neg = torch.tensor([0, 1]), torch.tensor([1, 2]), torch.tensor([3, 3])
    loss, parts = model.training_loss(users, pos, neg)
    u, v = model.forward()
    x = (u[users] * v[pos]).sum(1) - (u[users] * v[neg]).sum(1)
    bpr = torch.log1p(torch.exp(-x)).mean()
    e = model.user_table.weight, model.item_table.weight
    reg = (e[0][users].pow(2).sum() + e[1][pos].pow(2).sum() + e[1][neg].pow(2).sum()) / 2 / 2
    torch.testing.assert_close(parts["bpr"], bpr.detach())
    torch.testing.assert_close(loss, bpr + 0.5 * reg)


def test_batch_loss_with_several_negatives_matches_formula() -> None:
    g = tiny_graph()
    model = LightGCN(g, dim=4, layers=2, reg=0.5, seed=1, negative_selection="mean")
    users, pos, neg = torch.tensor([0, 1]), torch.tensor([1, 2]), torch.tensor([[3, 2, 3], [3, 3, 0]])
    loss, parts = model.training_loss(users, pos, neg)
    u, v = model.forward()
    s_pos = (u[users] * v[pos]).sum(1)
    s_neg = torch.stack([(u[users] * v[neg[:, k]]).sum(1) for k in range(3)], 1)
    bpr = torch.log1p(torch.exp(s_neg - s_pos[:, None])).mean()
    e = model.user_table.weight, model.item_table.weight
    reg = (e[0][users].pow(2).sum() + e[1][pos].pow(2).sum() + e[1][neg].pow(2).sum() / 3) / 2 / 2
    torch.testing.assert_close(parts["bpr"], bpr.detach())
    torch.testing.assert_close(loss, bpr + 0.5 * reg)
    # one negative per positive, as an (B, 1) block, is the plain BPR batch
    one, _ = model.training_loss(users, pos, neg[:, :1])
    torch.testing.assert_close(one, model.training_loss(users, pos, neg[:, 0])[0])


def test_hardest_negative_selection_keeps_the_top_scored_candidate() -> None:
    g = tiny_graph()
    model = LightGCN(g, dim=4, layers=2, reg=0.5, seed=1, negative_selection="hardest")
    users, pos, neg = torch.tensor([0, 1, 2]), torch.tensor([1, 2, 0]), torch.tensor([[3, 2, 0], [3, 1, 0], [1, 3, 2]])
    loss, parts = model.training_loss(users, pos, neg)
    u, v = model.forward()
    s_pos = (u[users] * v[pos]).sum(1)
    s_neg = torch.stack([(u[users] * v[neg[:, k]]).sum(1) for k in range(3)], 1)
    hard = neg[torch.arange(3), s_neg.argmax(1)]
    bpr = torch.log1p(torch.exp(s_neg.max(1).values - s_pos)).mean()
    e = model.user_table.weight, model.item_table.weight
    reg = (e[0][users].pow(2).sum() + e[1][pos].pow(2).sum() + e[1][hard].pow(2).sum()) / 2 / 3
    torch.testing.assert_close(parts["bpr"], bpr.detach())
    torch.testing.assert_close(loss, bpr + 0.5 * reg)
    # the gradient reaches only the chosen negatives' layer-0 rows (through propagation: all of
    # them mix, so check the loss with the chosen column alone instead)
    alone, _ = model.training_loss(users, pos, hard)
    torch.testing.assert_close(loss, alone)
    mean = LightGCN(g, dim=4, layers=2, reg=0.5, seed=1, negative_selection="mean")
    assert not torch.allclose(mean.training_loss(users, pos, neg)[0], loss)
    assert model.params()["negative_selection"] == "hardest"
    defaults = LightGCN().params()  # chosen on validation carves (docs/design.md)
    assert (defaults["negative_selection"], defaults["negatives"], defaults["eval_every"]) == ("hardest", 4, 5)
    with pytest.raises(ValueError, match="negative_selection"):
        LightGCN(negative_selection="softmax")


def test_several_negatives_train_and_are_never_positives(monkeypatch) -> None:
    data = community_data()
    seen: list[torch.Tensor] = []
    original = MF.training_loss

    def spy(self, users, pos, neg):  # type: ignore[no-untyped-def]
        seen.append(torch.stack([users.repeat_interleave(neg.shape[1]), neg.reshape(-1)]))
        return original(self, users, pos, neg)

    monkeypatch.setattr(MF, "training_loss", spy)
    m = LightGCN(dim=8, lr=0.05, batch=64, epochs=4, patience=None, negatives=5).fit(data)
    assert m.params()["negatives"] == 5 and m.result.history[-1]["loss"] < m.result.history[0]["loss"]
    pairs = torch.cat(seen, 1)
    assert pairs.shape[1] == 4 * 5 * data.train.num_edges(INTERACTS)
    train = set(zip(*(t.tolist() for t in data.train.edges(INTERACTS).coo())))
    assert not any((u, j) in train for u, j in zip(*pairs.tolist()))


def test_embedding_table_interface() -> None:
    t = FullEmbedding(5, 3, generator=torch.Generator().manual_seed(0))
    assert isinstance(t, EmbeddingTable) and t.num_embeddings == 5 and t.dim == 3
    assert t(torch.tensor([4, 0])).shape == (2, 3)
    torch.testing.assert_close(t(torch.tensor([4, 0])), t.all()[[4, 0]])
    assert t.weight_rows().shape == (5, 3) and t.num_parameters == 15
    std = FullEmbedding(4000, 8, generator=torch.Generator().manual_seed(0)).all().std().item()
    assert abs(std - 0.1) < 0.005
    a = t.all().detach().clone()
    t.reset_parameters(torch.Generator().manual_seed(0))
    torch.testing.assert_close(t.all().detach(), a)
    with pytest.raises(ValueError, match="unknown table"):
        make_table("nope", 3, 2)
    with pytest.raises(ValueError, match="dim"):
        FullEmbedding(3, 0)


def test_custom_table_factory_plugs_in() -> None:
    built = {}

    class Shared(EmbeddingTable):
        """All entities share 2 rows (index mod 2): a stand-in for a hashed table."""

        def __init__(self, n, dim, *, generator=None, device=None, graph=None, ntype=None):
            super().__init__()
            self.num_embeddings, self.dim = n, dim
            self.rows = torch.nn.Parameter(torch.empty(2, dim))
            built[ntype] = graph
            self.reset_parameters(generator)

        def reset_parameters(self, generator=None):
            with torch.no_grad():
                self.rows.copy_(torch.randn(2, self.dim, generator=generator) * 0.1)

        def forward(self, index):
            return self.rows[index % 2]

        def weight_rows(self):
            return self.rows

    data = community_data()
    m = LightGCN(dim=4, epochs=2, patience=None, table=Shared).fit(data)
    assert set(built) == {"user", "item"} and built["user"] is not None
    assert sum(p.numel() for p in m.parameters()) == 2 * 2 * 4
    u, v = m.embeddings()
    assert u.shape == (60, 4) and v.shape == (40, 4)


@pytest.mark.parametrize(("selection", "drop"), [("hardest", 0.8), ("mean", 0.5)])
def test_training_loss_decreases_and_beats_mostpop(selection: str, drop: float) -> None:
    """The hardest candidate keeps the loss higher than the mean over candidates does."""
    data = community_data()
    m = LightGCN(dim=16, layers=2, lr=0.01, batch=64, epochs=15, patience=None, seed=0, negative_selection=selection).fit(data)
    losses = [h["loss"] for h in m.result.history]
    assert len(losses) == 15 and losses[-1] < drop * losses[0]
    ours = gr.evaluate(m, data, k=[10])["recall@10"]
    pop = gr.evaluate(create("mostpop").fit(data), data, k=[10])["recall@10"]
    assert ours > pop + 0.1


def test_same_seed_same_embeddings_other_seed_differs() -> None:
    data = community_data()
    kw = {"dim": 8, "layers": 2, "lr": 0.01, "batch": 64, "epochs": 3, "patience": 2, "eval_every": 1}
    a = LightGCN(seed=5, **kw).fit(data).embeddings()
    b = LightGCN(seed=5, **kw).fit(data).embeddings()
    c = LightGCN(seed=6, **kw).fit(data).embeddings()
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.allclose(a[0], c[0])


def test_embeddings_follow_every_optimizer_step() -> None:
    from graphrec.train import BPRConfig, BPRTrainer

    data = community_data()
    m = LightGCN(data.train, dim=8, layers=2, seed=0)
    m.graph = data.train
    before = [t.clone() for t in m.embeddings()]
    trainer = BPRTrainer(m, data.train, None, BPRConfig(epochs=1, batch=64, lr=0.05, patience=None))
    trainer.train_epoch()
    after = m.embeddings()
    fresh = [t.detach() for t in m.forward()]
    assert not torch.allclose(before[0], after[0])
    torch.testing.assert_close(after[0], fresh[0])
    torch.testing.assert_close(after[1], fresh[1])
    m.load_state_dict({"user_table.weight": torch.zeros(60, 8), "item_table.weight": torch.zeros(40, 8)})
    assert float(m.embeddings()[0].abs().sum()) == 0.0


def test_zero_layers_is_mf() -> None:
    data = community_data()
    kw = {"dim": 8, "lr": 0.01, "reg": 1e-3, "negatives": 3, "negative_selection": "hardest", "batch": 64, "epochs": 2,
          "patience": None, "seed": 2}
    mf = MF(**kw).fit(data)
    lg = LightGCN(layers=0, **kw).fit(data)
    torch.testing.assert_close(mf.embeddings()[0], lg.embeddings()[0])
    torch.testing.assert_close(mf.embeddings()[1], lg.embeddings()[1])


def test_checkpoint_resume_equals_uninterrupted(tmp_path) -> None:
    data = community_data()
    kw = {"dim": 8, "layers": 2, "lr": 0.01, "batch": 64, "patience": 50, "eval_every": 1, "seed": 4, "reg": 2e-3}
    full = LightGCN(epochs=4, **kw).fit(data)
    first = LightGCN(epochs=2, checkpoint_dir=str(tmp_path), **kw).fit(data)
    assert (tmp_path / "checkpoint.pt").is_file() and first.result.epochs_run == 2
    resumed = LightGCN(epochs=4, checkpoint_dir=str(tmp_path), **kw).fit(data)
    assert resumed.result.resumed_from == 2 and resumed.result.epochs_run == 4
    assert [h["loss"] for h in resumed.result.history] == [h["loss"] for h in full.result.history]
    assert resumed.result.best_epoch == full.result.best_epoch
    assert torch.equal(resumed.embeddings()[0], full.embeddings()[0])
    assert torch.equal(resumed.embeddings()[1], full.embeddings()[1])
    with pytest.raises(ValueError, match="dim=8"):
        LightGCN(epochs=4, checkpoint_dir=str(tmp_path), **{**kw, "dim": 16}).fit(data)
    with pytest.raises(ValueError, match="negatives"):
        LightGCN(epochs=4, checkpoint_dir=str(tmp_path), **{**kw, "negatives": 2}).fit(data)
    with pytest.raises(ValueError, match="negative_selection"):
        LightGCN(epochs=4, checkpoint_dir=str(tmp_path), **{**kw, "negative_selection": "mean"}).fit(data)


def test_lr_step_decay_follows_the_schedule_and_can_be_added_on_resume(tmp_path) -> None:
    """``lr_milestones``: the decayed run differs from the plain one only after the milestone, and
    a checkpoint trained without a decay, resumed with one, equals the run that had it throughout."""
    data = community_data()
    kw = {"dim": 8, "layers": 2, "lr": 0.01, "batch": 64, "patience": None, "seed": 4, "reg": 2e-3}
    plain = LightGCN(epochs=4, **kw).fit(data)
    decayed = LightGCN(epochs=4, lr_milestones=2, lr_gamma=0.1, **kw).fit(data)
    plain_loss = [h["loss"] for h in plain.result.history]
    decayed_loss = [h["loss"] for h in decayed.result.history]
    assert decayed_loss[:2] == plain_loss[:2] and decayed_loss[2:] != plain_loss[2:]
    assert not torch.equal(decayed.embeddings()[1], plain.embeddings()[1])
    trainer_lrs = [BPRTrainer(decayed, data.train, None, decayed.config).lr_at(e) for e in range(4)]
    assert trainer_lrs == pytest.approx([0.01, 0.01, 0.001, 0.001])
    assert [h["loss"] for h in LightGCN(epochs=4, lr_milestones=2, lr_gamma=1.0, **kw).fit(data).result.history] == plain_loss
    LightGCN(epochs=2, checkpoint_dir=str(tmp_path), **kw).fit(data)  # levelled off: add a decay and go on
    resumed = LightGCN(epochs=4, lr_milestones=[2], checkpoint_dir=str(tmp_path), **kw).fit(data)
    assert resumed.result.resumed_from == 2 and [h["loss"] for h in resumed.result.history] == decayed_loss
    assert torch.equal(resumed.embeddings()[1], decayed.embeddings()[1])
    assert resumed.params()["lr_milestones"] == [2] and resumed.params()["lr_gamma"] == 0.1
    for bad in ({"lr_milestones": [3, 2]}, {"lr_milestones": 0}, {"lr_gamma": 0.0}, {"lr_gamma": 2}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            LightGCN(**bad)


def test_weight_average_is_what_validation_scores_and_the_model_serves(tmp_path) -> None:
    """``ema``: training steps are untouched, the fitted model holds the average, validation and
    early stopping score the average, a resumed run equals the uninterrupted one, and averaging
    can be added to a checkpoint trained without it."""
    data = community_data()
    kw = {"dim": 8, "layers": 2, "lr": 0.01, "batch": 64, "patience": None, "seed": 4, "reg": 2e-3}
    plain = LightGCN(epochs=4, **kw).fit(data)
    averaged = LightGCN(epochs=4, ema=2, **kw).fit(data)
    assert [h["loss"] for h in averaged.result.history] == [h["loss"] for h in plain.result.history]
    assert not torch.equal(averaged.embeddings()[1], plain.embeddings()[1])
    one_step = LightGCN(epochs=4, ema=1e-9, **kw).fit(data)  # a horizon of one step: the raw weights
    assert torch.equal(one_step.embeddings()[1], plain.embeddings()[1])
    assert averaged.params()["ema"] == 2 and plain.params()["ema"] is None

    fit_part, held = carve_validation(data.train, 0.2, 0)
    carved, scored = Dataset("carve", fit_part, held, valid=held), Dataset("carve", fit_part, held)
    curve = LightGCN(epochs=4, eval_every=2, ema=2, **kw).fit(carved)  # patience=None: the last weights stay
    assert curve.result.history[-1]["ndcg@20"] == pytest.approx(gr.evaluate(curve, scored, k=[20])["ndcg@20"])
    stopped = LightGCN(epochs=8, eval_every=2, ema=2, **{**kw, "patience": 1}).fit(carved)
    assert stopped.result.best_metric == pytest.approx(gr.evaluate(stopped, scored, k=[20])["ndcg@20"])

    LightGCN(epochs=2, ema=2, checkpoint_dir=str(tmp_path / "avg"), **kw).fit(data)
    resumed = LightGCN(epochs=4, ema=2, checkpoint_dir=str(tmp_path / "avg"), **kw).fit(data)
    assert resumed.result.resumed_from == 2
    assert torch.equal(resumed.embeddings()[1], averaged.embeddings()[1])
    with pytest.raises(ValueError, match="horizon"):  # an average over another horizon is not continued
        LightGCN(epochs=6, ema=3, checkpoint_dir=str(tmp_path / "avg"), **kw).fit(data)
    LightGCN(epochs=2, checkpoint_dir=str(tmp_path / "raw"), **kw).fit(data)  # levelled off: average from here on
    added = LightGCN(epochs=4, ema=2, checkpoint_dir=str(tmp_path / "raw"), **kw).fit(data)
    assert added.result.resumed_from == 2 and [h["loss"] for h in added.result.history] == [h["loss"] for h in plain.result.history]
    assert not torch.equal(added.embeddings()[1], plain.embeddings()[1])
    assert not torch.equal(added.embeddings()[1], averaged.embeddings()[1])  # the average starts at epoch 2
    with pytest.raises(ValueError, match=r"averages its weights \(ema=2 epochs\) and this run does not"):
        LightGCN(epochs=6, checkpoint_dir=str(tmp_path / "avg"), **kw).fit(data)  # dropping the average is refused too
    for bad in (0, -1.0, True, "2", float("nan")):
        with pytest.raises(ValueError, match="ema"):
            LightGCN(ema=bad)


def test_the_last_epoch_is_always_validated_so_a_short_fit_still_chooses_and_refits() -> None:
    """``epochs < eval_every`` used to train on the carve alone, choose ``reg`` on no score at all and never refit."""
    data = community_data()
    m = LightGCN(dim=8, layers=1, lr=0.05, batch=64, epochs=3, eval_every=5, patience=2, seed=0, reg=[1e-3, 1e-2]).fit(data)
    assert [h["epoch"] for h in m.result.history if "ndcg@20" in h] == [3]
    assert all(row["best_epoch"] == 3 and math.isfinite(row["valid_metric"]) for row in m.selection)
    assert m.refit_result is not None and m.refit_result.epochs_run == 3 and not m.refit_result.stopped_by_time
    longer = LightGCN(dim=8, layers=1, lr=0.05, batch=64, epochs=7, eval_every=5, patience=2, seed=0, reg=1e-3).fit(data)
    assert [h["epoch"] for h in longer.result.history if "ndcg@20" in h] == [5, 7]


def test_resume_refuses_fewer_epochs_and_takes_the_new_patience(tmp_path) -> None:
    data = community_data()
    kw = {"dim": 8, "layers": 1, "lr": 0.05, "batch": 64, "eval_every": 1, "seed": 0, "reg": 1e-3, "refit": False}
    impatient = LightGCN(epochs=60, patience=1, checkpoint_dir=str(tmp_path), **kw).fit(data)
    assert impatient.result.stopped_early and impatient.result.epochs_run < 60
    patient = LightGCN(epochs=60, patience=4, checkpoint_dir=str(tmp_path), **kw).fit(data)  # more patience: it goes on
    fresh = LightGCN(epochs=60, patience=4, **kw).fit(data)
    assert patient.result.resumed_from == impatient.result.epochs_run < patient.result.epochs_run == fresh.result.epochs_run
    assert patient.result.best_epoch == fresh.result.best_epoch
    assert torch.equal(patient.embeddings()[1], fresh.embeddings()[1])
    with pytest.raises(ValueError, match=rf"has trained {fresh.result.epochs_run} epochs, more than epochs=3"):
        LightGCN(epochs=3, patience=4, checkpoint_dir=str(tmp_path), **kw).fit(data)


def _fake_clock(monkeypatch, step: float = 1.0) -> None:
    """``time.perf_counter`` advances ``step`` seconds per call: time budgets act deterministically."""
    now = iter(range(10**9))
    monkeypatch.setattr(time, "perf_counter", lambda: step * next(now))


def test_time_budget_stops_between_epochs_and_resumes(tmp_path, monkeypatch) -> None:
    data = community_data()
    kw = {"dim": 8, "layers": 2, "lr": 0.01, "batch": 64, "patience": None, "seed": 4, "epochs": 8}
    full = LightGCN(**kw).fit(data)
    generous = LightGCN(max_minutes=60.0, **kw).fit(data)
    assert not generous.result.stopped_by_time and generous.result.epochs_run == 8
    assert torch.equal(generous.embeddings()[1], full.embeddings()[1])
    with monkeypatch.context() as mp:
        _fake_clock(mp)
        cut = LightGCN(max_minutes=0.1, checkpoint_dir=str(tmp_path), **kw).fit(data)
    assert cut.result.stopped_by_time and 1 <= cut.result.epochs_run < 8
    assert cut.params()["max_minutes"] == 0.1
    resumed = LightGCN(checkpoint_dir=str(tmp_path), **kw).fit(data)  # the cut run left a checkpoint
    assert resumed.result.resumed_from == cut.result.epochs_run and not resumed.result.stopped_by_time
    assert [h["loss"] for h in resumed.result.history] == [h["loss"] for h in full.result.history]
    assert torch.equal(resumed.embeddings()[1], full.embeddings()[1])
    for bad in (0, -1.0, "5", True):
        with pytest.raises(ValueError, match="max_minutes"):
            LightGCN(max_minutes=bad)


def test_the_budget_counts_from_the_trainers_construction(monkeypatch) -> None:
    """Set-up between building the trainer and running it (the optimiser's first import costs over a second) is spent budget."""
    from graphrec.train.bpr import BPRConfig, BPRTrainer

    data = community_data()
    m = LightGCN(dim=8, layers=1, batch=64, patience=None)
    m._build_tables(data.train)
    m.graph = data.train
    _fake_clock(monkeypatch)  # one second per clock read
    trainer = BPRTrainer(m, data.train, None, BPRConfig(epochs=50, batch=64, patience=None, max_minutes=1.0))
    for _ in range(100):  # 100 s of set-up pass before the run starts
        time.perf_counter()
    result = trainer.run()
    assert result.stopped_by_time and result.epochs_run == 1  # the first epoch always runs, nothing more


def test_refit_that_does_not_fit_the_budget_is_skipped_with_a_warning(monkeypatch) -> None:
    data = community_data()
    _fake_clock(monkeypatch)
    with pytest.warns(RuntimeWarning, match="refit skipped"):
        m = LightGCN(dim=8, layers=2, lr=0.05, batch=64, epochs=60, patience=2, eval_every=1, seed=3, max_minutes=0.5,
                     negative_selection="mean").fit(data)
    assert m.result.stopped_by_time and m.result.best_epoch > 0
    assert m.refit_result.stopped_by_time and m.refit_result.epochs_run == 0  # skipped: nothing of it is served
    # the early-stopped weights serve the whole training split
    assert m.graph.num_edges(INTERACTS) == data.train.num_edges(INTERACTS)
    assert torch.isfinite(m.score(torch.arange(5))).all()


def test_budget_cut_early_stopped_fit_resumes_to_the_uninterrupted_result(tmp_path, monkeypatch) -> None:
    """The README's promise: the same command run again with ``checkpoint_dir`` finishes the fit."""
    data = community_data()
    kw = {"dim": 8, "layers": 2, "lr": 0.05, "batch": 64, "epochs": 60, "patience": 2, "eval_every": 1, "seed": 3,
          "negative_selection": "mean"}  # a fit long enough for the fake clock to cut
    whole = LightGCN(**kw).fit(data)
    with monkeypatch.context() as mp:
        _fake_clock(mp)
        with pytest.warns(RuntimeWarning, match="refit skipped"):
            cut = LightGCN(max_minutes=0.3, checkpoint_dir=str(tmp_path), **kw).fit(data)
    assert cut.result.stopped_by_time and cut.result.epochs_run < whole.result.epochs_run
    again = LightGCN(checkpoint_dir=str(tmp_path), **kw).fit(data)
    assert again.result.resumed_from == cut.result.epochs_run
    assert (again.result.best_epoch, again.result.epochs_run) == (whole.result.best_epoch, whole.result.epochs_run)
    assert again.refit_result is not None and again.refit_result.epochs_run == whole.refit_result.epochs_run
    assert torch.equal(again.embeddings()[1], whole.embeddings()[1])


def test_validation_is_carved_from_train_and_early_stopping_restores_best() -> None:
    data = community_data()
    m = LightGCN(dim=8, layers=2, lr=0.05, batch=64, epochs=60, patience=2, eval_every=1, seed=0).fit(data)
    res = m.result
    metrics = [h["ndcg@20"] for h in res.history if "ndcg@20" in h]
    assert len(metrics) >= 3 and len(set(metrics)) == len(metrics)  # each eval sees new weights, not a stale cache
    assert res.stopped_early and res.epochs_run < 60
    assert res.best_metric == max(metrics) and res.history[res.best_epoch - 1]["ndcg@20"] == res.best_metric
    # after fit the model serves the full training graph (validation edges included)
    assert m.graph.num_edges(INTERACTS) == data.train.num_edges(INTERACTS)


def test_refit_retrains_on_all_of_train_for_the_best_epoch_count() -> None:
    data = community_data()
    kw = {"dim": 8, "layers": 2, "lr": 0.05, "batch": 64, "seed": 3, "reg": 2e-3}
    m = LightGCN(epochs=60, patience=2, eval_every=1, **kw).fit(data)
    best = m.result.best_epoch
    assert best > 0 and m.refit_result is not None and m.refit_result.epochs_run == best
    assert m.params()["refit"] is True
    # the refit is exactly a seeded run on the whole training split for `best` epochs
    plain = LightGCN(epochs=best, patience=None, **kw).fit(data)
    assert plain.refit_result is None
    assert torch.equal(m.embeddings()[0], plain.embeddings()[0]) and torch.equal(m.embeddings()[1], plain.embeddings()[1])
    kept = LightGCN(epochs=60, patience=2, eval_every=1, refit=False, **kw).fit(data)
    assert kept.refit_result is None and kept.result.best_epoch == best
    assert not torch.allclose(kept.embeddings()[1], m.embeddings()[1])
    with pytest.raises(TypeError, match="refit"):
        LightGCN(refit="yes")


@pytest.mark.parametrize("refit", [True, False])
def test_reg_values_are_chosen_on_validation_and_equal_a_fit_with_the_winner(refit: bool) -> None:
    data = community_data()
    kw = {"dim": 8, "layers": 2, "lr": 0.05, "batch": 64, "seed": 3, "epochs": 60, "patience": 2, "eval_every": 1, "refit": refit}
    values = [30.0, 1e-3, 1e-2]  # an L2 weight of 30 pins the tables near zero: it cannot win
    m = LightGCN(reg=values, **kw).fit(data)
    table = m.selection
    assert [row["reg"] for row in table] == values and sum(row["chosen"] for row in table) == 1
    winner = next(row for row in table if row["chosen"])
    assert winner["valid_metric"] == max(row["valid_metric"] for row in table) and winner["reg"] != 30.0
    assert m.reg == winner["reg"] and m.result.best_epoch == winner["best_epoch"]
    assert m.params()["reg"] == winner["reg"]  # after fit: the value in use, not the list it was chosen from
    # the chosen model is exactly a fit with the winning value alone (same seed, same carve)
    alone = LightGCN(reg=winner["reg"], **kw).fit(data)
    assert alone.selection == [] and alone.params()["reg"] == winner["reg"]
    assert (m.refit_result is None) == (not refit)
    if refit:
        assert m.refit_result.epochs_run == alone.refit_result.epochs_run == winner["best_epoch"]
    for mine, theirs in zip(m.embeddings(), alone.embeddings()):
        assert torch.equal(mine, theirs)


def test_budgeted_calls_with_a_checkpoint_finish_the_refit(tmp_path, monkeypatch) -> None:
    """The same command with ``max_minutes`` and ``checkpoint_dir``, run again and again, ends at the unbudgeted fit,
    its refit included; until then the early-stopped weights are served and the refit is reported as not served."""
    data = community_data()
    kw = {"dim": 8, "layers": 2, "lr": 0.05, "batch": 64, "epochs": 60, "patience": 2, "eval_every": 1, "seed": 3,
          "negative_selection": "mean", "reg": [1e-3, 1e-2]}
    whole = LightGCN(**kw).fit(data)
    calls = 0
    with monkeypatch.context() as mp:
        _fake_clock(mp)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            while True:
                calls += 1
                m = LightGCN(max_minutes=0.1, checkpoint_dir=str(tmp_path), **kw).fit(data)
                if m.refit_result is not None and not m.refit_result.stopped_by_time:
                    break
                assert calls < 40
    same = ("reg", "valid_metric", "best_epoch", "epochs_run", "chosen")  # not the times, which the fake clock sets
    assert calls > 2 and [{k: r[k] for k in same} for r in m.selection] == [{k: r[k] for k in same} for r in whole.selection]
    assert m.refit_result.epochs_run == whole.refit_result.epochs_run
    assert torch.equal(m.embeddings()[1], whole.embeddings()[1])


def test_reg_values_checkpoint_per_value_and_resume(tmp_path) -> None:
    data = community_data()
    kw = {"dim": 8, "layers": 1, "lr": 0.05, "batch": 64, "seed": 1, "epochs": 6, "patience": 2, "eval_every": 1,
          "reg": [1e-3, 1e-2], "checkpoint_dir": str(tmp_path)}
    first = LightGCN(**kw).fit(data)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["value0", "value1"]
    winner = next(i for i, row in enumerate(first.selection) if row["chosen"])
    assert (tmp_path / f"value{winner}" / "refit" / "checkpoint.pt").is_file()  # each winner has its own refit
    again = LightGCN(**kw).fit(data)  # every run resumes from its finished checkpoint
    assert all(r.resumed_from > 0 for r in (again.result, again.refit_result))
    assert torch.equal(first.embeddings()[1], again.embeddings()[1]) and again.selection == first.selection


def test_reg_values_validation() -> None:
    for bad, match in (([], "non-empty"), ([1e-3, -1.0], "reg must be"), ([1e-3, 1e-3], "twice"), ("x", "reg must be"),
                       (True, "reg must be")):
        with pytest.raises(ValueError, match=match):
            LightGCN(reg=bad)
    with pytest.raises(ValueError, match="patience"):
        LightGCN(reg=[1e-3, 2e-3], patience=None)
    m = create("lightgcn", reg=[1e-3, 2e-3])
    assert m.reg_values == (1e-3, 2e-3)
    with pytest.raises(ValueError, match="or 'auto'"):
        LightGCN(reg="automatic")
    with pytest.raises(ValueError, match="a list of them, got 'auto'"):  # MF has no 'auto' grid
        MF(reg="auto")


def test_default_reg_is_chosen_on_validation_and_fixed_without_it() -> None:
    """``reg='auto'`` (the default): LightGCN.auto_reg on the carve; 2e-3 with patience=None."""
    default = LightGCN()
    assert default.params()["reg"] == "auto" and default.reg_values == LightGCN.auto_reg == (5e-4, 1e-3, 2e-3, 3e-3)
    no_valid = LightGCN(patience=None)
    assert no_valid.reg_values == (2e-3,) and no_valid.reg == 2e-3
    data = community_data()
    m = LightGCN(dim=8, layers=1, lr=0.05, batch=64, epochs=6, patience=2, eval_every=2, seed=2).fit(data)
    assert [row["reg"] for row in m.selection] == list(LightGCN.auto_reg) and m.reg in LightGCN.auto_reg
    assert m.params()["reg"] == m.reg  # after fit: the value chosen, not 'auto'


def test_reg_values_share_the_time_budget(monkeypatch) -> None:
    """Each value gets an equal share of what is left (the refit counts as one more): none starves."""
    data = community_data()
    seen: list[float] = []
    real = LightGCN._train

    def spy(self, graph, valid_graph, cfg, **kw):
        seen.append(cfg.max_minutes)
        return real(self, graph, valid_graph, cfg, **kw)

    monkeypatch.setattr(LightGCN, "_train", spy)
    _fake_clock(monkeypatch)  # one second per clock read
    m = LightGCN(dim=8, layers=1, lr=0.05, batch=64, epochs=60, patience=20, eval_every=1, seed=3, max_minutes=1.0,
                 reg=[1e-3, 1e-2, 1e-1]).fit(data)
    assert len(seen) == 4 and m.refit_result is not None  # three values, then the refit with what is left
    assert seen[:3] == pytest.approx([0.25, 0.25, 0.25], abs=0.02) and sum(seen[:3]) < 1.0
    assert all(r["epochs_run"] >= 1 for r in m.selection)


def test_dataset_valid_split_is_used() -> None:
    base = community_data()
    tr, va = carve_validation(base.train, 0.25, seed=1)
    data = Dataset("with-valid", tr, base.test, va)
    m = LightGCN(dim=8, epochs=2, eval_every=1, patience=5, batch=64).fit(data)
    assert all("ndcg@20" in h for h in m.result.history)
    assert m.refit_result is None  # a given valid split is not part of train: nothing to refit on
    assert m.graph.num_edges(INTERACTS) == tr.num_edges(INTERACTS)


@pytest.mark.parametrize("name", ["mf", "lightgcn"])
def test_params_rebuild_the_model_and_numpy_scalars_are_numbers(name: str) -> None:
    m = create(name, dim=np.int64(8), lr=np.float32(0.5), reg=[np.float64(1e-3), 2e-3], valid_fraction=0.3,
               eval_every=np.int32(2), **({"layers": np.int64(2), "weighted": True} if name == "lightgcn" else {}))
    params = m.params()
    assert type(params["dim"]) is int and params["reg"] == [1e-3, 2e-3] and params["valid_fraction"] == 0.3
    assert create(name, **params).params() == params
    json.dumps(params)  # plain Python values only
    for key, bad, kind in (("progress", "maybe", TypeError), ("refit", 1, TypeError), ("lr", float("inf"), ValueError),
                           ("reg", float("nan"), ValueError), ("dim", 8.0, ValueError), ("checkpoint_dir", "", ValueError)):
        with pytest.raises(kind, match=key):
            create(name, **{key: bad})


def test_registry_and_parameter_validation() -> None:
    m = create("lightgcn", dim=16, layers=2, epochs=5)
    assert isinstance(m, LightGCN) and m.params()["layers"] == 2 and m.params()["dim"] == 16
    assert isinstance(create("mf", dim=8), MF)
    with pytest.raises(ValueError, match="unknown parameter"):
        create("lightgcn", hidden=3)
    for bad in ({"layers": -1}, {"dim": 0}, {"lr": 0.0}, {"batch": 0}, {"patience": 0}, {"sampling": "x"}, {"valid_fraction": 1.0},
                {"negatives": 0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            LightGCN(**bad)
    with pytest.raises(RuntimeError, match="fit"):
        LightGCN().embeddings()


def test_users_sampling_mode_trains() -> None:
    data = community_data()
    m = MF(dim=8, lr=0.05, batch=64, epochs=5, patience=None, sampling="users").fit(data)
    assert m.result.history[-1]["loss"] < m.result.history[0]["loss"]


@pytest.mark.gpu
def test_cpu_and_cuda_agree() -> None:
    data = community_data()
    kw = {"dim": 8, "layers": 3, "lr": 0.01, "batch": 64, "epochs": 3, "patience": None, "seed": 1}
    cpu = LightGCN(**kw).fit(data)
    gpu = LightGCN(device="cuda", **kw).fit(data)
    assert gpu.graph.device.type == "cuda" and gpu.embeddings()[0].device.type == "cuda"
    torch.testing.assert_close(gpu.embeddings()[0].cpu(), cpu.embeddings()[0], rtol=1e-3, atol=1e-4)
    torch.testing.assert_close(gpu.embeddings()[1].cpu(), cpu.embeddings()[1], rtol=1e-3, atol=1e-4)
    a = gr.evaluate(cpu, data, k=[10])["recall@10"]
    b = gr.evaluate(gpu, data.to("cuda"), k=[10])["recall@10"]
    assert abs(a - b) < 0.01  # float differences may swap near-tied items for a user or two
