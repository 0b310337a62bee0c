"""The ``ppr`` and ``powerwalk`` recommenders: registry, scores, popularity penalty, evaluation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import graphrec as gr
from graphrec.data.dataset import Dataset
from graphrec.models import create
from graphrec.rank import power_iteration
from graphrec.rank.recommenders import PowerWalkRecommender, PPRRecommender
from graphrec.walks import bipartite_engine


def tiny_dataset(trust: bool = False) -> Dataset:
    rng = np.random.default_rng(0)
    users = np.repeat(np.arange(40), 6)
    items = (users % 4) * 6 + rng.integers(0, 8, size=users.size)  # 4 overlapping communities
    pairs = np.unique(np.stack([users, items], 1), axis=0)
    test_mask = rng.random(len(pairs)) < 0.25
    tr, te = pairs[~test_mask], pairs[test_mask]
    trust_pairs = None
    if trust:
        a = np.arange(40)
        trust_pairs = (np.concatenate([a, (a + 4) % 40]), np.concatenate([(a + 4) % 40, a]))
    return Dataset.from_pairs(
        "tiny", (tr[:, 0], tr[:, 1]), (te[:, 0], te[:, 1]), trust=trust_pairs,
        user_ids=np.arange(40), item_ids=np.arange(40),
    )


def test_registry_creates_both_models_and_rejects_unknown_params():
    assert isinstance(create("ppr", alpha=0.2, beta=0.5), PPRRecommender)
    pw = create("powerwalk", walks=8, top_m=8, refine=1, rounds=1, seed=3)
    assert isinstance(pw, PowerWalkRecommender) and pw.params()["walks"] == 8
    with pytest.raises(ValueError, match="unknown parameter"):
        create("ppr", walks=10)
    with pytest.raises(ValueError, match="alpha"):
        create("ppr", alpha=1.5)
    with pytest.raises(ValueError, match="beta"):
        create("powerwalk", beta=-1)
    with pytest.raises(ValueError, match="walks"):
        create("powerwalk", walks=0)


def test_ppr_scores_are_the_item_block_of_exact_ppr():
    data = tiny_dataset()
    model = create("ppr", tol=1e-8).fit(data)
    users = torch.tensor([0, 5, 17])
    s = model.score(users)
    assert s.shape == (3, data.num_items)
    eng = bipartite_engine(data.train)
    full = power_iteration(eng, eng.global_ids("user", users), tol=1e-8)
    assert torch.allclose(s, full[:, data.num_users :], atol=1e-6)


def test_beta_divides_by_item_degree_power():
    data = tiny_dataset()
    users = torch.arange(10)
    plain = create("ppr", tol=1e-8).fit(data).score(users)
    pen = create("ppr", tol=1e-8, beta=0.5).fit(data).score(users)
    deg = data.train.degree(gr.INTERACTS, side="dst").float().clamp_min(1)
    assert torch.allclose(pen, plain / deg.sqrt(), atol=1e-7)
    # the penalty moves popular items down: the most popular item's rank can only get worse
    top = int(torch.argmax(deg))
    rank_plain = (plain > plain[:, top : top + 1]).sum(1)
    rank_pen = (pen > pen[:, top : top + 1]).sum(1)
    assert bool((rank_pen >= rank_plain).all()) and bool((rank_pen > rank_plain).any())


def test_powerwalk_ranks_like_ppr_and_plugs_into_evaluate():
    data = tiny_dataset()
    ppr = create("ppr").fit(data)
    pw = create("powerwalk", walks=200, top_m=32, walk_top_m=32, refine=2, seed=0).fit(data)
    a = gr.evaluate(ppr, data, k=[5, 10])
    b = gr.evaluate(pw, data, k=[5, 10])
    for key in ("recall@10", "ndcg@10"):
        assert 0.0 < a[key] <= 1.0
        assert abs(a[key] - b[key]) < 0.1 * a[key] + 0.02
    users = torch.arange(data.num_users)
    sp, sw = ppr.score(users), pw.score(users)
    assert (sp - sw).abs().sum(1).mean() < 0.1
    # both beat popularity on community-structured data
    pop = gr.evaluate(create("mostpop").fit(data), data, k=[10])
    assert a["recall@10"] > pop["recall@10"]


def test_trust_edges_change_scores_and_are_required():
    data = tiny_dataset(trust=True)
    users = torch.arange(8)
    with_trust = create("ppr", trust=True, tol=1e-8).fit(data).score(users)
    without = create("ppr", tol=1e-8).fit(data).score(users)
    assert not torch.allclose(with_trust, without, atol=1e-4)
    with pytest.raises(ValueError, match="trust"):
        create("ppr", trust=True).fit(tiny_dataset(trust=False))


def test_powerwalk_index_save_and_load(tmp_path):
    data = tiny_dataset()
    pw = create("powerwalk", walks=16, top_m=16, walk_top_m=16, refine=1).fit(data)
    path = pw.save_index(tmp_path / "index.pt")
    other = PowerWalkRecommender().load_index(path, data.train)
    users = torch.arange(5)
    assert torch.equal(pw.score(users), other.score(users))
    with pytest.raises(ValueError, match="alpha"):
        PowerWalkRecommender(alpha=0.3).load_index(path, data.train)


def test_recommend_returns_unseen_items():
    data = tiny_dataset()
    model = create("powerwalk", walks=16, top_m=16, refine=1).fit(data)
    items, scores = model.recommend([0, 1], k=5)
    assert items.shape == (2, 5) and np.all(np.diff(scores, axis=1) <= 0)
    seen = data.train.edges(gr.INTERACTS)
    for row, u in enumerate([0, 1]):
        own = set(seen.indices[seen.indptr[u] : seen.indptr[u + 1]].tolist())
        assert not own & set(items[row].tolist())


@pytest.mark.gpu
def test_cpu_and_cuda_agree():
    data = tiny_dataset(trust=True)
    users = torch.arange(12)
    cpu = create("ppr", trust=True, tol=1e-7).fit(data).score(users)
    gpu = create("ppr", trust=True, tol=1e-7).fit(data.to("cuda")).score(users.cuda())
    assert torch.allclose(cpu, gpu.cpu(), atol=1e-5)
    # PowerWalk draws different random streams per device: both must be close to exact PPR
    pw_cpu = create("powerwalk", trust=True, walks=400, top_m=64, walk_top_m=64, refine=2).fit(data).score(users)
    pw_gpu = create("powerwalk", trust=True, walks=400, top_m=64, walk_top_m=64, refine=2).fit(data.to("cuda")).score(users.cuda()).cpu()
    assert (pw_cpu - cpu).abs().sum(1).mean() < 0.05
    assert (pw_gpu - cpu).abs().sum(1).mean() < 0.05
    # the walk engine is deterministic for a seed on the device
    eng = bipartite_engine(data.train.to("cuda"))
    starts = eng.global_ids("user", torch.arange(12, device="cuda").repeat(10))
    a = eng.walk(starts, length=6, record="paths", seed=1).paths
    b = eng.walk(starts, length=6, record="paths", seed=1).paths
    assert torch.equal(a, b) and a.device.type == "cuda"


def test_bad_values_name_the_parameter_and_numpy_scalars_are_numbers():
    for name, kwargs, message in [
        ("ppr", {"beta": float("nan")}, r"beta must be a finite number >= 0, got nan"),
        ("ppr", {"tol": float("inf")}, r"tol must be a finite number > 0, got inf"),
        ("ppr", {"max_iter": 1.5}, r"max_iter must be an integer >= 1, got 1.5"),
        ("ppr", {"alpha": float("nan")}, r"alpha must be a finite number in \(0, 1\), got nan"),
        ("powerwalk", {"walks": True}, r"walks must be an integer >= 1, got True"),
        ("powerwalk", {"rounds": -1}, r"rounds must be an integer >= 0 or None, got -1"),
        ("powerwalk", {"walk_top_m": 0}, r"walk_top_m must be an integer >= 1 or None, got 0"),
        ("powerwalk", {"seed": 0.5}, r"seed must be an integer in \[0, 18446744073709551615\], got 0.5"),
        ("powerwalk", {"tail": "lowrank"}, r"tail must be one of 'auto', 'spectral', 'fingerprint', got 'lowrank'"),
    ]:
        with pytest.raises(ValueError, match=message):
            create(name, **kwargs)
    for name, flag in [("ppr", "trust"), ("powerwalk", "trust"), ("powerwalk", "background")]:
        with pytest.raises(TypeError, match=f"{flag} must be True or False, got 'maybe'"):
            create(name, **{flag: "maybe"})
    ppr = create("ppr", alpha=np.float32(0.25), beta=np.int64(1), trust=np.bool_(False), tol=np.float64(1e-6), max_iter=np.int32(50))
    assert ppr.params() == {"alpha": 0.25, "beta": 1.0, "trust": False, "tol": 1e-6, "max_iter": 50}
    pw = create("powerwalk", walks=np.int64(8), top_m=np.int64(8), refine=np.int64(1), walk_top_m=np.int32(4),
                refine_top_m=None, rounds=np.int64(1), seed=np.int64(3), background=np.bool_(True))
    assert pw.params()["walks"] == 8 and type(pw.params()["walks"]) is int and pw.params()["background"] is True
    with pytest.raises(TypeError, match="progress must be True or False"):
        create("powerwalk", walks=8, top_m=8, refine=0).fit(tiny_dataset(), progress="maybe")


@pytest.mark.parametrize("name", ["ppr", "powerwalk"])
def test_params_round_trip_through_create(name):
    m = create(name, **create(name).demo_params)
    assert create(name, **m.params()).params() == m.params()


def other_tiny_dataset() -> Dataset:
    """Same sizes as :func:`tiny_dataset`, different interactions."""
    rng = np.random.default_rng(1)
    users = np.repeat(np.arange(40), 6)
    items = rng.integers(0, 40, size=users.size)
    pairs = np.unique(np.stack([users, items], 1), axis=0)
    return Dataset.from_pairs("other", (pairs[:, 0], pairs[:, 1]), (pairs[:1, 0], pairs[:1, 1]),
                              user_ids=np.arange(40), item_ids=np.arange(40))


def test_powerwalk_index_for_another_walk_or_graph_is_refused(tmp_path):
    data = tiny_dataset(trust=True)
    kw = {"walks": 16, "top_m": 16, "walk_top_m": 16, "refine": 1}
    plain = create("powerwalk", **kw).fit(data)
    path = plain.save_index(tmp_path / "plain.pt")
    with pytest.raises(ValueError, match="built with trust=False, this recommender has trust=True"):
        create("powerwalk", trust=True).load_index(path, data.train)
    other = other_tiny_dataset()
    assert other.train.num_nodes() == data.train.num_nodes()
    with pytest.raises(ValueError, match="different edges"):
        create("powerwalk").load_index(path, other.train)
    # an index built outside the recommender (no trust record): the walk's moves differ
    from graphrec.rank import build_index

    raw = build_index(bipartite_engine(data.train), walks=8, top_m=8, refine=0).save(tmp_path / "raw.pt")
    with pytest.raises(ValueError, match="moves=.*trusts"):
        create("powerwalk", trust=True).load_index(raw, data.train)
    # a matching index loads; any beta works (it is applied at query time)
    trusted = create("powerwalk", trust=True, **kw).fit(data)
    back = create("powerwalk", trust=True, beta=0.5).load_index(trusted.save_index(tmp_path / "t.pt"), data.train)
    assert back.params()["walks"] == 16 and back.params()["top_m"] == 16  # the index's build parameters
    users = torch.arange(6)
    penalty = data.train.degree(gr.INTERACTS, side="dst").float().clamp_min(1.0).pow(-0.5)
    torch.testing.assert_close(back.score(users), trusted.score(users) * penalty)


def test_powerwalk_index_from_before_the_walk_record(tmp_path):
    data = tiny_dataset()
    pw = create("powerwalk", walks=16, top_m=16, walk_top_m=16, refine=1).fit(data)
    saved = torch.load(pw.save_index(tmp_path / "new.pt"), weights_only=True)
    import json

    params = json.loads(saved["params"])
    del params["walk"], params["recommender"]
    saved["params"], saved["format"] = json.dumps(params), "graphrec.powerwalk/2"
    torch.save(saved, tmp_path / "old.pt")
    with pytest.raises(ValueError, match="no record of the walk and graph.*verify=False"):
        PowerWalkRecommender().load_index(tmp_path / "old.pt", data.train)
    old = PowerWalkRecommender().load_index(tmp_path / "old.pt", data.train, verify=False)
    assert torch.equal(old.score(torch.arange(5)), pw.score(torch.arange(5)))
    with pytest.raises(TypeError, match="verify must be True or False"):
        PowerWalkRecommender().load_index(tmp_path / "old.pt", data.train, verify="no")


def test_load_index_takes_a_dataset_like_fit(tmp_path):
    data = tiny_dataset()
    pw = create("powerwalk", walks=8, top_m=8, walk_top_m=8, refine=1).fit(data)
    path = pw.save_index(tmp_path / "pw.pt")
    back = create("powerwalk").load_index(path, data)  # used to raise AttributeError on a Dataset
    torch.testing.assert_close(back.score(torch.arange(4)), pw.score(torch.arange(4)))
    with pytest.raises(TypeError, match="train must be a Graph or Dataset, got NoneType"):
        create("powerwalk").load_index(path, None)


def test_spectral_tail_without_a_spectral_rank_is_refused_before_fitting():
    with pytest.raises(ValueError, match="tail='spectral' needs the index's spectral tail, but spectral_rank=0 builds none"):
        create("powerwalk", tail="spectral", spectral_rank=0)
    assert create("powerwalk", tail="fingerprint", spectral_rank=0).params()["spectral_rank"] == 0
