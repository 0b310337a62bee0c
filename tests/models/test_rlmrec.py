"""RLMRec (contrastive and generative alignment) on tiny graphs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import graphrec as gr
from graphrec.data.dataset import Dataset
from graphrec.graph.store import INTERACTS
from graphrec.models import create
from graphrec.models.rlmrec import RLMRec, RLMRecCon, RLMRecGen, info_nce, mask_nodes

N_U, N_I, D_S = 40, 30, 12




def community_data(seed: int = 0, per_user: int = 6) -> Dataset:
    """Two planted communities: users of community c mostly interact with items of community c."""
    rng = np.random.default_rng(seed)
    users, items = [], []
    for u in range(N_U):
        pool = np.arange(u % 2, N_I, 2)
        users += [u] * per_user
        items += rng.choice(pool, size=per_user, replace=False).tolist()
    users, items = np.array(users), np.array(items)
    test = rng.random(users.size) < 0.2
    ds = Dataset.from_pairs("communities", (users[~test], items[~test]), (users[test], items[test]),
                            user_ids=np.arange(N_U), item_ids=np.arange(N_I))
    ds.train.node_attrs["item"]["community"] = torch.arange(N_I) % 2
    ds.train.node_attrs["user"]["community"] = torch.arange(N_U) % 2
    return ds


def semantic(seed: int = 1, structured: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Random semantic vectors; ``structured``: a community centre plus small noise (predictable from the graph)."""
    g = torch.Generator().manual_seed(seed)
    su, si = torch.randn(N_U, D_S, generator=g), torch.randn(N_I, D_S, generator=g)
    if structured:
        centre = torch.randn(2, D_S, generator=g)
        su, si = centre[torch.arange(N_U) % 2] + 0.3 * su, centre[torch.arange(N_I) % 2] + 0.3 * si
    return su, si


def small(name: str, **kw):
    base = {"dim": 8, "layers": 2, "epochs": 3, "batch": 64, "patience": None, "lr": 0.01, "semantic": semantic()}
    return create(name, **{**base, **kw})


# ------------------------------------------------------------------ pieces
def test_info_nce_equals_a_hand_computation_on_three_nodes() -> None:
    a = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    p = torch.tensor([[2.0, 0.0], [1.0, 1.0], [0.0, -1.0]])
    tau = 0.5
    an = a.numpy() / np.linalg.norm(a.numpy(), axis=1, keepdims=True)
    pn = p.numpy() / np.linalg.norm(p.numpy(), axis=1, keepdims=True)
    s = an @ pn.T / tau  # cosines: row0 [1, .707, 0], row1 [0, .707, -1], row2 [.707, 1, -.707]
    expected = np.mean([-(s[k, k] - math.log(np.exp(s[k]).sum())) for k in range(3)])
    # by hand for row 0: -(2 - log(e^2 + e^1.414 + e^0))
    row0 = -(2.0 - math.log(math.exp(2.0) + math.exp(2 * 0.5 ** 0.5) + 1.0))
    assert abs(row0 - -(s[0, 0] - math.log(np.exp(s[0]).sum()))) < 1e-6
    assert abs(float(info_nce(a, p, tau)) - expected) < 1e-6
    # scale invariance (cosines) and a perfect, well-separated match drives it to ~0
    assert abs(float(info_nce(3 * a, 0.1 * p, tau)) - expected) < 1e-6
    assert float(info_nce(torch.eye(3), torch.eye(3), 0.01)) < 1e-6
    with pytest.raises(ValueError, match="shape"):
        info_nce(a, p[:2], tau)


def test_mask_nodes_masks_the_asked_share() -> None:
    g = torch.Generator().manual_seed(0)
    idx = mask_nodes(1000, 0.15, g)
    assert idx.numel() == 150 and idx.unique().numel() == 150
    assert int(idx.min()) >= 0 and int(idx.max()) < 1000
    assert mask_nodes(5, 0.01, g).numel() == 1  # at least one node
    assert mask_nodes(5, 0.0, g).numel() == 0
    with pytest.raises(ValueError, match="mask_ratio"):
        mask_nodes(5, 1.0, g)


def test_gen_step_replaces_the_asked_share_of_layer0_rows_by_the_mask_token(monkeypatch) -> None:
    ds = community_data()
    model = small("rlmrec-gen", mask_ratio=0.2, epochs=1).fit(ds)
    seen: list[tuple[torch.Tensor, torch.Tensor]] = []
    original = model._propagate

    def spy(u0, i0):
        seen.append((u0.detach().clone(), i0.detach().clone()))
        return original(u0, i0)

    monkeypatch.setattr(model, "_propagate", spy)
    with torch.no_grad():
        model.mask_token.fill_(7.0)  # unmistakable rows
    model.training_loss(torch.tensor([0, 1]), torch.tensor([0, 1]), torch.tensor([2, 3]))
    u0, i0 = seen[0]
    rows = torch.cat([u0, i0])
    token_rows = (rows == 7.0).all(1)
    assert int(token_rows.sum()) == round(0.2 * (N_U + N_I))
    tables = torch.cat([model.backbone.user_table.all(), model.backbone.item_table.all()]).detach()
    torch.testing.assert_close(rows[~token_rows], tables[~token_rows])  # the rest is untouched


def test_projector_output_shapes() -> None:
    ds = community_data()
    con = small("rlmrec-con").fit(ds)
    su, si = con.semantic
    assert con.projector(su).shape == (N_U, 8) and con.projector(si).shape == (N_I, 8)
    gen = small("rlmrec-gen", hidden=5).fit(ds)
    u, v = gen.embeddings()
    assert gen.projector(u).shape == (N_U, D_S) and gen.projector(v).shape == (N_I, D_S)
    assert gen.projector.first.out_features == 5
    assert con.projector.first.out_features == (D_S + 8) // 2  # the paper's default width


def test_semantic_vectors_are_centred_by_default() -> None:
    ds = community_data()
    su, _ = semantic()
    m = small("rlmrec-con").fit(ds)
    torch.testing.assert_close(m.semantic[0], su - su.mean(0))
    torch.testing.assert_close(m.semantic[1].mean(0), torch.zeros(D_S), atol=1e-5, rtol=0)
    raw = small("rlmrec-con", center=False).fit(ds)
    torch.testing.assert_close(raw.semantic[0], su)


# ------------------------------------------------------------------ training
@pytest.mark.parametrize("name", ["rlmrec-con", "rlmrec-gen"])
def test_loss_and_alignment_term_decrease(name: str) -> None:
    ds = community_data()
    sem = semantic(structured=True)
    model = small(name, epochs=30, lam=0.5, semantic=sem).fit(ds)
    hist = [h["loss"] for h in model.result.history]
    assert hist[-1] < 0.8 * hist[0]
    users, pos, neg = torch.arange(N_U), torch.arange(N_U) % N_I, (torch.arange(N_U) + 1) % N_I
    untrained = small(name, epochs=1, lr=1e-6, lam=0.5, semantic=sem).fit(ds)
    # gen draws a new mask per call: average a few
    after = np.mean([float(model.training_loss(users, pos, neg)[1]["align"]) for _ in range(5)])
    before = np.mean([float(untrained.training_loss(users, pos, neg)[1]["align"]) for _ in range(5)])
    assert after < 0.7 * before


def test_contrastive_alignment_ties_each_node_to_its_own_semantic_vector() -> None:
    """After training, a user's CF embedding retrieves its own projected semantic vector far above chance."""
    ds = community_data()
    model = small("rlmrec-con", epochs=60, lam=1.0, tau=0.1).fit(ds)
    u, _ = model.embeddings()
    with torch.no_grad():
        proj = torch.nn.functional.normalize(model.projector(model.semantic[0]), dim=1)
    hits = (torch.nn.functional.normalize(u, dim=1) @ proj.T).argmax(1) == torch.arange(N_U)
    assert float(hits.float().mean()) > 0.5  # chance is 1/40


def test_same_seed_same_embeddings_and_another_seed_differs() -> None:
    ds = community_data()
    for name in ("rlmrec-con", "rlmrec-gen"):
        a = small(name, seed=3).fit(ds).embeddings()
        b = small(name, seed=3).fit(ds).embeddings()
        c = small(name, seed=4).fit(ds).embeddings()
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
        assert not torch.equal(a[0], c[0])


@pytest.mark.parametrize("negatives", [1, 3])
def test_starts_from_the_backbone_initialisation_and_lam_zero_is_lightgcn(negatives: int) -> None:
    ds = community_data()
    kw = {"dim": 8, "layers": 2, "epochs": 3, "batch": 64, "patience": None, "lr": 0.01, "reg": 1e-3,
          "negatives": negatives, "seed": 5}
    lgcn = create("lightgcn", **kw).fit(ds)
    for name in ("rlmrec-con", "rlmrec-gen"):
        zero = create(name, lam=0.0, semantic=semantic(), **kw).fit(ds)
        torch.testing.assert_close(zero.embeddings()[0], lgcn.embeddings()[0])
    con = create("rlmrec-con", lam=1.0, semantic=semantic(), **kw).fit(ds)
    assert not torch.allclose(con.embeddings()[0], lgcn.embeddings()[0])


def test_plugs_into_evaluate_create_and_recommend() -> None:
    ds = community_data()
    for name in ("rlmrec-con", "rlmrec-gen"):
        model = small(name, epochs=20)
        assert isinstance(model, RLMRec)
        model.fit(ds)
        rep = gr.evaluate(model, ds, k=[5])
        assert 0.0 < rep["recall@5"] <= 1.0
        items, scores = model.recommend([0, 1], k=3)
        assert items.shape == (2, 3) and np.all(np.diff(scores, axis=1) <= 0)
    assert create("rlmrec-con").variant == "con" and create("rlmrec-gen").variant == "gen"
    assert isinstance(create("rlmrec-con"), RLMRecCon) and isinstance(create("rlmrec-gen"), RLMRecGen)


def test_mf_backbone_and_early_stopping() -> None:
    ds = community_data()
    model = create("rlmrec-con", backbone="mf", dim=8, epochs=20, batch=64, lr=0.01, semantic=semantic(),
                   patience=2, eval_every=2).fit(ds)
    assert type(model.backbone).__name__ == "MF"
    assert any("ndcg@20" in h for h in model.result.history)
    assert gr.evaluate(model, ds, k=[5])["recall@5"] > 0


@pytest.mark.parametrize("name", ["rlmrec-con", "rlmrec-gen"])
def test_validation_scores_the_current_weights(name: str) -> None:
    """Early stopping must see every step's embeddings, not the first validation's cached ones."""
    ds = community_data()
    model = small(name, epochs=6, eval_every=1, patience=100, lr=0.05).fit(ds)
    seen = [h["ndcg@20"] for h in model.result.history if "ndcg@20" in h]
    assert len(seen) == 6 and len(set(seen)) > 1
    with torch.no_grad():
        fresh = model.backbone.forward()
    torch.testing.assert_close(model.embeddings()[0], fresh[0])


def test_early_stopping_then_refit_matches_the_backbone() -> None:
    """With lam=0, RLMRec's early stopping on the carve and its refit on all of train are LightGCN's."""
    ds = community_data()
    kw = {"dim": 8, "layers": 2, "epochs": 8, "batch": 64, "lr": 0.05, "patience": 2, "eval_every": 1, "seed": 3}
    lgcn = create("lightgcn", **kw).fit(ds)
    zero = create("rlmrec-con", lam=0.0, semantic=semantic(), **kw).fit(ds)
    assert zero.refit_result is not None and zero.result.best_epoch == lgcn.result.best_epoch
    assert zero.refit_result.epochs_run == zero.result.best_epoch
    assert zero.graph.num_edges(INTERACTS) == ds.train.num_edges(INTERACTS)
    torch.testing.assert_close(zero.embeddings()[0], lgcn.embeddings()[0])
    no_refit = create("rlmrec-con", lam=0.0, refit=False, semantic=semantic(), **kw).fit(ds)
    assert no_refit.refit_result is None and not torch.allclose(no_refit.embeddings()[0], lgcn.embeddings()[0])


@pytest.mark.parametrize("refit", [True, False])
def test_reg_values_are_chosen_as_the_backbone_chooses_them(refit: bool) -> None:
    """With lam=0 and several L2 weights, RLMRec picks the backbone's value and ends with its weights."""
    ds = community_data()
    kw = {"dim": 8, "layers": 2, "epochs": 8, "batch": 64, "lr": 0.05, "patience": 2, "eval_every": 1, "seed": 3,
          "reg": [30.0, 1e-3], "refit": refit}
    lgcn = create("lightgcn", **kw).fit(ds)
    zero = create("rlmrec-con", lam=0.0, semantic=semantic(), **kw).fit(ds)
    assert [r["chosen"] for r in zero.selection] == [False, True] and zero.backbone.reg == lgcn.reg == 1e-3
    assert [r["valid_metric"] for r in zero.selection] == pytest.approx([r["valid_metric"] for r in lgcn.selection])
    assert (zero.refit_result is None) == (not refit)
    torch.testing.assert_close(zero.embeddings()[0], lgcn.embeddings()[0])


def test_profiles_from_metadata_use_training_interactions_only() -> None:
    ds = community_data()
    seen: list[str] = []

    def recorder(texts: list[str]) -> torch.Tensor:
        seen.extend(texts)
        return torch.randn(len(texts), 6, generator=torch.Generator().manual_seed(len(texts)))

    model = create("rlmrec-con", text_model=recorder, dim=8, layers=1, epochs=2, batch=64, patience=None).fit(ds)
    assert model.semantic[0].shape == (N_U, 6) and len(seen) == N_U + N_I
    users, items = model.profiles
    assert users[0].startswith("User 0. community: 0.") and items[1].startswith("Item: item 1. community: 1.")
    test_u, test_i = ds.test.edges().coo()
    for u, i in zip(test_u.tolist(), test_i.tolist()):
        mentioned = {int(x) for x in users[u].split("Interacted with: ")[1].rstrip(".").replace("item ", "").split("; ")}
        assert i not in mentioned  # a held-out item never shows up in its user's profile


def test_max_minutes_counts_the_text_encoding() -> None:
    import time

    def slow(texts: list[str]) -> torch.Tensor:
        time.sleep(1.5)  # one call per profile list: users, then items
        return torch.randn(len(texts), 6, generator=torch.Generator().manual_seed(len(texts)))

    model = create("rlmrec-con", text_model=slow, dim=8, layers=1, epochs=100_000, batch=64, patience=None,
                   max_minutes=0.06)  # 3.6 s, of which the encoding takes 3 s
    t0 = time.perf_counter()
    model.fit(community_data())
    assert model.result.stopped_by_time and time.perf_counter() - t0 < 5.5  # without the encoding counted: 6.6 s and more


def test_hashing_text_model_needs_no_optional_package() -> None:
    model = create("rlmrec-gen", text_model="hashing", dim=8, layers=1, epochs=2, batch=64, patience=None).fit(community_data())
    assert model.semantic[0].shape == (N_U, 512)


def test_gen_resume_from_checkpoint_matches_an_uninterrupted_run(tmp_path) -> None:
    ds = community_data()
    full = small("rlmrec-gen", epochs=4, seed=2).fit(ds).embeddings()
    small("rlmrec-gen", epochs=2, seed=2, checkpoint_dir=str(tmp_path)).fit(ds)
    resumed = small("rlmrec-gen", epochs=4, seed=2, checkpoint_dir=str(tmp_path)).fit(ds)
    assert resumed.result.resumed_from == 2
    torch.testing.assert_close(resumed.embeddings()[0], full[0])


def test_resume_with_other_semantic_vectors_is_refused(tmp_path) -> None:
    ds = community_data()
    small("rlmrec-con", epochs=2, checkpoint_dir=str(tmp_path)).fit(ds)
    other = (semantic()[0] + 1.0, semantic()[1])  # same shapes, other values
    with pytest.raises(ValueError, match="semantic"):
        small("rlmrec-con", epochs=4, semantic=other, checkpoint_dir=str(tmp_path)).fit(ds)
    assert small("rlmrec-con", epochs=4, checkpoint_dir=str(tmp_path)).fit(ds).result.resumed_from == 2


def test_params_rebuild_the_model() -> None:
    for name, kw in (("rlmrec-con", {"tau": 0.3, "backbone": "mf", "valid_fraction": 0.2}),
                     ("rlmrec-gen", {"mask_ratio": 0.2, "reg": [1e-3, 2e-3], "text_model": "hashing"})):
        m = create(name, semantic=semantic(), **kw)
        params = m.params()
        assert "variant" not in params and "semantic" not in params and m.semantic_given
        again = create(name, **params)
        assert again.params() == params and not again.semantic_given
    assert RLMRec(variant="gen", semantic=semantic()).params()["variant"] == "gen"


def test_bad_parameters_raise_naming_the_field() -> None:
    ds = community_data()
    with pytest.raises(ValueError, match="lam"):
        create("rlmrec-con", lam=-1)
    with pytest.raises(ValueError, match="tau"):
        create("rlmrec-con", tau=0)
    with pytest.raises(ValueError, match="recon"):
        create("rlmrec-gen", recon="l1")
    for bad in ({"lam": float("inf")}, {"tau": float("inf")}, {"tau": float("nan")}, {"mask_ratio": 1.0},
                {"hidden": True}, {"hidden": 0}, {"align_batch": 1}, {"top_titles": -1}, {"top_genres": 2.0}):
        (name, value), = bad.items()
        with pytest.raises(ValueError, match=rf"{name} must be .*got {value!r}"):
            create("rlmrec-con", **bad)
    with pytest.raises(TypeError, match="center must be True or False"):
        create("rlmrec-con", center="yes")
    assert create("rlmrec-con", lam=np.float64(0.5), hidden=np.int64(8)).params()["lam"] == 0.5
    with pytest.raises(ValueError, match="propagating backbone"):
        create("rlmrec-gen", backbone="mf")
    with pytest.raises(ValueError, match="propagating backbone"):
        create("rlmrec-gen", layers=0)
    with pytest.raises(ValueError, match="layers"):
        create("rlmrec-con", backbone="mf", layers=2)
    with pytest.raises(ValueError, match="variant"):
        create("rlmrec-con", variant="gen")
    with pytest.raises(ValueError, match=r"semantic item embeddings have shape \(29, 12\)"):
        create("rlmrec-con", semantic=(semantic()[0], semantic()[1][:29]), epochs=1, patience=None).fit(ds)
    with pytest.raises(ValueError, match="width"):
        create("rlmrec-con", semantic=(semantic()[0], torch.zeros(N_I, 3)), epochs=1, patience=None).fit(ds)
    with pytest.raises(TypeError, match="pair"):
        create("rlmrec-con", semantic=semantic()[0], epochs=1, patience=None).fit(ds)


@pytest.mark.gpu
def test_cpu_and_cuda_agree() -> None:
    ds = community_data()
    for name in ("rlmrec-con", "rlmrec-gen"):
        cpu = small(name, seed=1, epochs=3).fit(ds).embeddings()
        gpu = small(name, seed=1, epochs=3, device="cuda").fit(ds).embeddings()
        torch.testing.assert_close(gpu[0].cpu(), cpu[0], rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(gpu[1].cpu(), cpu[1], rtol=1e-4, atol=1e-5)


def test_training_defaults_follow_the_backbone() -> None:
    from graphrec.models.lightgcn import LightGCN
    from graphrec.models.mf import MF

    for backbone, cls in (("lightgcn", LightGCN), ("mf", MF)):
        own = cls().params()
        wrapped = create("rlmrec-con", backbone=backbone, semantic=semantic()).backbone.params()
        keys = ("lr", "reg", "negatives", "negative_selection", "eval_every")
        assert {k: wrapped[k] for k in keys} == {k: own[k] for k in keys}
    chosen = create("rlmrec-gen", lr=0.02, reg=0.0, negatives=2, negative_selection="mean", eval_every=3,
                    semantic=semantic()).backbone.params()
    assert (chosen["lr"], chosen["reg"], chosen["negatives"], chosen["negative_selection"], chosen["eval_every"]) == (
        0.02, 0.0, 2, "mean", 3)
    assert create("rlmrec-con", ema=5, semantic=semantic()).backbone.config.ema == 5  # the weight average is the trainer's


def test_semantic_numpy_views_with_negative_strides_are_accepted() -> None:
    ds = community_data()
    su, si = (x.numpy() for x in semantic())
    flipped = (su[::-1, ::-1], si[:, ::-1])  # views, no torch equivalent
    a = small("rlmrec-con", epochs=1, semantic=flipped, center=False).fit(ds)
    assert torch.equal(a.semantic[0], torch.from_numpy(su[::-1, ::-1].copy()))
    assert torch.equal(a.semantic[1], torch.from_numpy(si[:, ::-1].copy()))
