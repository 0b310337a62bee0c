"""Tests of the seeded synthetic generator (graphrec.data.synthetic)."""

from __future__ import annotations

import json
import time

import pytest
import torch

import graphrec as gr
from graphrec.data.synthetic import SybilSpec, make_dataset, make_graph
from graphrec.graph.store import INTERACTS, ITEM, TRUSTS, USER
from graphrec.models import ItemKNN, MostPop


def _pairs(g, etype=INTERACTS) -> set[tuple[int, int]]:
    s, d = g.edges(etype).coo()
    return set(zip(s.tolist(), d.tolist()))


def _tensors(g) -> dict[str, torch.Tensor]:
    out = {}
    for et in g.edge_types:
        es = g.edges(et)
        for f in ("indptr", "indices", "weight", "timestamp"):
            if getattr(es, f) is not None:
                out[f"{et[1]}.{f}"] = getattr(es, f)
    for nt, attrs in g.node_attrs.items():
        for k, v in attrs.items():
            out[f"{nt}.{k}"] = v
    return out


SMALL = {"num_users": 300, "num_items": 120, "num_communities": 4, "avg_degree": 10}


# ----------------------------------------------------------------------------- schema
def test_schema_and_basic_invariants():
    g = make_graph(**SMALL, seed=0)
    assert g.num_nodes(USER) == 300 and g.num_nodes(ITEM) == 120
    assert set(g.edge_types) == {INTERACTS, TRUSTS}
    es = g.edges(INTERACTS)
    assert es.weight.dtype == torch.float32 and bool((es.weight > 0).all())
    assert es.timestamp.dtype == torch.int64
    t0, t1 = gr.data.synthetic.DEFAULT_TIME_SPAN
    assert int(es.timestamp.min()) >= t0 and int(es.timestamp.max()) < t1
    assert bool((es.degree("src") >= 1).all())  # every user interacts
    # merged duplicates: no repeated (user, item) pair, and fewer edges than draws
    assert len(_pairs(g)) == es.num_edges <= 300 * 10 * 1.05
    uc, ic = g.node_attrs[USER]["community"], g.node_attrs[ITEM]["community"]
    assert uc.dtype == ic.dtype == torch.int64
    assert torch.bincount(uc).tolist() == [75] * 4  # balanced communities
    assert torch.bincount(ic).tolist() == [30] * 4
    assert g.node_attrs[USER]["is_sybil"].dtype == torch.bool and not bool(g.node_attrs[USER]["is_sybil"].any())
    t_src, t_dst = g.edges(TRUSTS).coo()
    assert not bool((t_src == t_dst).any())  # no self trust
    assert _pairs(g, TRUSTS) == {(b, a) for a, b in _pairs(g, TRUSTS)}  # symmetric by default
    json.dumps(g.meta)  # meta must survive Graph.save


def test_tiny_graph_every_user_has_one_interaction():
    g = make_graph(num_users=50, num_items=5, num_communities=5, avg_degree=1, trust_degree=0, seed=4)
    assert g.degree(INTERACTS).tolist() == [1] * 50
    assert g.edge_types == [INTERACTS]  # no trust edges asked for, none stored


def test_weights_off_and_directed_trust():
    g = make_graph(**SMALL, weights=False, trust_symmetric=False, seed=1)
    assert g.edges(INTERACTS).weight is None
    pairs = _pairs(g, TRUSTS)
    assert len(pairs) != len(pairs & {(b, a) for a, b in pairs})  # some trust is one-way
    mean_out = g.num_edges(TRUSTS) / 300
    assert 4.0 < mean_out < 6.0  # trust_degree=5 (a few merged repeats / self loops dropped)


def test_string_ids():
    g = make_graph(**SMALL, string_ids=True, sybil=SybilSpec(num_sybils=3, attack_edges=1), seed=0)
    ids = g.id_map(USER).ids
    assert ids[0] == "u0" and ids[299] == "u299" and ids[300] == "s0" and ids[-1] == "s2"
    assert g.id_map(ITEM).to_index(["i0", "i119"]).tolist() == [0, 119]
    d = make_dataset(**SMALL, string_ids=True, seed=0)
    assert d.test.id_map(USER) is d.train.id_map(USER) and d.train.id_map(USER).is_str


def test_save_load_roundtrip(tmp_path):
    g = make_graph(**SMALL, sybil=SybilSpec(num_sybils=5, attack_edges=2), seed=2)
    h = gr.Graph.load(g.save(tmp_path / "g"))
    for k, v in _tensors(g).items():
        assert torch.equal(v, _tensors(h)[k]), k
    assert h.meta["sybil_target_items"] == g.meta["sybil_target_items"]


# ------------------------------------------------------------------------ determinism
def test_same_seed_same_tensors_different_seed_differs():
    kw = dict(**SMALL, sybil=SybilSpec(num_sybils=10, attack_edges=3, camouflage=2))
    a, b, c = make_graph(**kw, seed=7), make_graph(**kw, seed=7), make_graph(**kw, seed=8)
    ta, tb, tc = _tensors(a), _tensors(b), _tensors(c)
    assert ta.keys() == tb.keys() == tc.keys()
    for k in ta:
        assert torch.equal(ta[k], tb[k]), k
    assert not torch.equal(ta["interacts.indices"], tc["interacts.indices"]) or not torch.equal(
        ta["interacts.indptr"], tc["interacts.indptr"]
    )
    assert not torch.equal(ta["interacts.timestamp"], tc["interacts.timestamp"])
    assert a.meta == b.meta


def test_dataset_split_is_deterministic():
    a, b, c = make_dataset(**SMALL, seed=5), make_dataset(**SMALL, seed=5), make_dataset(**SMALL, seed=6)
    assert _pairs(a.test) == _pairs(b.test) and _pairs(a.train) == _pairs(b.train)
    assert _pairs(a.test) != _pairs(c.test)


# -------------------------------------------------------------------------- structure
def test_degrees_are_heavy_tailed():
    g = make_graph(num_users=4000, num_items=2000, avg_degree=20, seed=0)
    for side in ("src", "dst"):
        d = g.degree(INTERACTS, side=side).double()
        assert float(d.max()) > 8 * float(d.median()), side
    # a huge exponent flattens Zipf's law: no hubs
    flat = make_graph(num_users=4000, num_items=2000, avg_degree=20, degree_exponent=50.0, seed=0)
    for side in ("src", "dst"):
        d = flat.degree(INTERACTS, side=side).double()
        assert float(d.max()) < 3 * float(d.median()), side


def _in_community_share(g) -> float:
    u, i = g.edges(INTERACTS).coo()
    return float((g.node_attrs[USER]["community"][u] == g.node_attrs[ITEM]["community"][i]).double().mean())


@pytest.mark.parametrize("strength", [0.0, 0.4, 0.8])
def test_interaction_homophily_matches_community_strength(strength):
    # many items and light tails, so that merged repeats barely move the share
    g = make_graph(num_users=3000, num_items=50_000, num_communities=5, avg_degree=10,
                   degree_exponent=4.0, community_strength=strength, weights=False, seed=3)
    expected = strength + (1 - strength) / 5  # "else anywhere" lands in-community 1/C of the time
    assert abs(_in_community_share(g) - expected) < 0.015


def test_full_strength_and_full_homophily_are_exact():
    g = make_graph(**SMALL, community_strength=1.0, trust_homophily=1.0, seed=0)
    assert _in_community_share(g) == 1.0
    a, b = g.edges(TRUSTS).coo()
    uc = g.node_attrs[USER]["community"]
    assert bool((uc[a] == uc[b]).all())


@pytest.mark.parametrize("homophily", [0.0, 0.9])
def test_trust_homophily(homophily):
    g = make_graph(num_users=5000, num_items=100, num_communities=10, avg_degree=2,
                   trust_degree=8, trust_homophily=homophily, seed=1)
    a, b = g.edges(TRUSTS).coo()
    uc = g.node_attrs[USER]["community"]
    share = float((uc[a] == uc[b]).double().mean())
    assert abs(share - (homophily + (1 - homophily) / 10)) < 0.015


def test_weights_reward_in_community_interactions():
    g = make_graph(num_users=2000, num_items=20_000, avg_degree=10, degree_exponent=4.0, seed=2)
    es = g.edges(INTERACTS)
    u, i = es.coo()
    inside = g.node_attrs[USER]["community"][u] == g.node_attrs[ITEM]["community"][i]
    ratio = float(es.weight[inside].mean() / es.weight[~inside].mean())
    assert 1.7 < ratio < 2.3  # median engagement 2 inside vs 1 outside


def test_each_user_active_in_its_own_window():
    span = (0, 1_000_000)
    g = make_graph(**SMALL, time_span=span, seed=0)
    es = g.edges(INTERACTS)
    ts = es.timestamp.double()
    row = es.row()
    first = torch.full((300,), float("inf"), dtype=torch.float64).scatter_reduce(0, row, ts, "amin")
    last = torch.full((300,), -float("inf"), dtype=torch.float64).scatter_reduce(0, row, ts, "amax")
    width = (last - first)[es.degree("src") >= 5]
    assert float(width.min()) > 0  # interactions spread over time
    assert float(width.median()) < 0.8 * (span[1] - span[0])  # ...inside a per-user window
    assert float(first.std()) > 0.1 * span[1]  # windows start at different times


# ------------------------------------------------------------------------------ Sybils
def _attack_pairs(g) -> tuple[set, set]:
    a, b = g.edges(TRUSTS).coo()
    sy = g.node_attrs[USER]["is_sybil"]
    h2s = {(x, y) for x, y in zip(a[~sy[a] & sy[b]].tolist(), b[~sy[a] & sy[b]].tolist())}
    s2h = {(x, y) for x, y in zip(a[sy[a] & ~sy[b]].tolist(), b[sy[a] & ~sy[b]].tolist())}
    return h2s, s2h


@pytest.mark.parametrize("topology", ["star", "serial", "parallel", "clique"])
def test_sybil_region(topology):
    spec = SybilSpec(num_sybils=17, attack_edges=6, target_items=4, topology=topology, target_weight=9.0)
    g = make_graph(**SMALL, sybil=spec, seed=11)
    nu = SMALL["num_users"]
    is_sybil = g.node_attrs[USER]["is_sybil"]
    assert g.num_nodes(USER) == nu + 17 and int(is_sybil.sum()) == 17
    assert bool(is_sybil[nu:].all()) and not bool(is_sybil[:nu].any())
    assert (g.node_attrs[USER]["community"][nu:] == -1).all()
    assert g.meta["sybil_users"] == [nu, nu + 17]

    # exactly `attack_edges` honest-Sybil pairs, stored both ways (symmetric trust)
    h2s, s2h = _attack_pairs(g)
    assert len(h2s) == 6 and {(b, a) for a, b in s2h} == h2s
    if topology != "clique":
        assert {s for _, s in h2s} == {nu}  # they all reach the region's entry

    # topology of the Sybil-Sybil trust (mutual)
    a, b = g.edges(TRUSTS).coo()
    inner = is_sybil[a] & is_sybil[b]
    sa, sb = a[inner] - nu, b[inner] - nu
    pairs = set(zip(sa.tolist(), sb.tolist()))
    assert pairs == {(y, x) for x, y in pairs}
    deg = torch.bincount(sa, minlength=17)
    if topology == "star":
        assert deg.tolist() == [16] + [1] * 16
    elif topology == "serial":
        assert deg.tolist() == [1] + [2] * 15 + [1]
        assert all((k, k + 1) in pairs for k in range(16))
    elif topology == "parallel":
        assert int(deg[0]) == 4  # round(sqrt(16)) chains of length 4
        assert sorted(deg[1:].tolist()) == [1] * 4 + [2] * 12
    else:
        assert deg.tolist() == [16] * 17

    # every Sybil interacts with every target, heavily
    targets = g.meta["sybil_target_items"]
    assert len(targets) == 4 and len(set(targets)) == 4
    es = g.edges(INTERACTS)
    u, i = es.coo()
    from_sybil = is_sybil[u]
    assert _pairs_of(u[from_sybil], i[from_sybil]) == {(s, t) for s in range(nu, nu + 17) for t in targets}
    assert bool((es.weight[from_sybil] == 9.0).all())
    t0, t1 = gr.data.synthetic.DEFAULT_TIME_SPAN
    assert int(es.timestamp[from_sybil].min()) >= t1 - (t1 - t0) // 10  # a recent attack


def _pairs_of(u: torch.Tensor, i: torch.Tensor) -> set:
    return set(zip(u.tolist(), i.tolist()))


def test_sybils_leave_the_honest_graph_unchanged():
    base = make_graph(**SMALL, seed=9)
    attacked = make_graph(**SMALL, seed=9, sybil=SybilSpec(num_sybils=25, attack_edges=8, camouflage=3))
    nu = SMALL["num_users"]
    for et in (INTERACTS, TRUSTS):
        u, v = attacked.edges(et).coo()
        honest = ~attacked.node_attrs[USER]["is_sybil"][u]
        if et == TRUSTS:
            honest &= ~attacked.node_attrs[USER]["is_sybil"][v]
        assert _pairs_of(u[honest], v[honest]) == _pairs(base, et)
    assert attacked.degree(INTERACTS)[nu:].min() >= 5  # targets + camouflage draws


def test_sybil_explicit_targets_and_directed_attack_edges():
    spec = SybilSpec(num_sybils=5, attack_edges=3, target_items=[7, 2], topology="serial")
    g = make_graph(**SMALL, sybil=spec, trust_symmetric=False, seed=0)
    assert g.meta["sybil_target_items"] == [2, 7]
    h2s, s2h = _attack_pairs(g)
    assert len(h2s) == 3 and len(s2h) == 0  # honest users trust the attacker, not the reverse


def test_sybil_spec_errors():
    with pytest.raises(ValueError, match="num_sybils"):
        SybilSpec(num_sybils=0)
    with pytest.raises(ValueError, match="topology"):
        SybilSpec(topology="ring")
    with pytest.raises(ValueError, match="attack_edges"):
        SybilSpec(attack_edges=-1)
    with pytest.raises(ValueError, match="target_weight"):
        SybilSpec(target_weight=0.0)
    with pytest.raises(ValueError, match="target_items"):
        SybilSpec(target_items=[1, 1])
    with pytest.raises(ValueError, match="target_items"):
        make_graph(**SMALL, sybil=SybilSpec(target_items=[0, 120]))
    with pytest.raises(ValueError, match="target_items"):
        make_graph(**SMALL, sybil=SybilSpec(target_items=121))
    with pytest.raises(ValueError, match="attack_edges"):
        make_graph(**SMALL, sybil=SybilSpec(attack_edges=301, topology="star"))
    with pytest.raises(TypeError, match="sybil"):
        make_graph(**SMALL, sybil={"num_sybils": 3})


# ----------------------------------------------------------------------------- holdout
def test_dataset_holdout_invariants():
    kw = dict(**SMALL, sybil=SybilSpec(num_sybils=10, attack_edges=4))
    full, d = make_graph(**kw, seed=1), make_dataset(**kw, seed=1)
    assert d.name == "synthetic"
    train, test, every = _pairs(d.train), _pairs(d.test), _pairs(full)
    assert not (train & test) and (train | test) == every
    deg_full = full.degree(INTERACTS)
    deg_train, deg_test = d.train.degree(INTERACTS), d.test.degree(INTERACTS)
    honest = ~full.node_attrs[USER]["is_sybil"]
    assert bool((deg_train >= 1).all())  # everyone keeps >= 1 training interaction
    assert bool((deg_test[honest & (deg_full >= 3)] >= 1).all())  # round(0.2 * 3) = 1
    expected = torch.clamp(torch.floor(0.2 * deg_full + 0.5), max=deg_full - 1).to(torch.int64)
    assert torch.equal(deg_test[honest], expected[honest])  # per-user share, exactly
    assert int(deg_test[~honest].sum()) == 0  # the attack stays in the training data
    share = len(test) / sum(len(x) for x in (train, test))
    assert 0.17 < share < 0.23
    # training graph keeps weights, timestamps, trust, attributes and meta
    es, fes = d.train.edges(INTERACTS), full.edges(INTERACTS)
    assert es.weight is not None and es.timestamp is not None
    fw = dict(zip(zip(*[t.tolist() for t in fes.coo()]), fes.weight.tolist()))
    assert all(fw[p] == w for p, w in zip(zip(*[t.tolist() for t in es.coo()]), es.weight.tolist()))
    assert _pairs(d.train, TRUSTS) == _pairs(full, TRUSTS)
    assert torch.equal(d.train.node_attrs[USER]["is_sybil"], full.node_attrs[USER]["is_sybil"])
    assert d.train.meta["sybil_target_items"] == full.meta["sybil_target_items"]
    assert d.info["test_fraction"] == 0.2
    # held-out interactions keep their weights too
    tes = d.test.edges(INTERACTS)
    assert all(fw[p] == w for p, w in zip(zip(*[t.tolist() for t in tes.coo()]), tes.weight.tolist()))


def test_itemknn_beats_mostpop_on_default_dataset_only_with_planted_structure():
    d = make_dataset()
    assert (d.num_users, d.num_items) == (2000, 1000)
    pop = gr.evaluate(MostPop().fit(d), d, k=[20])["recall@20"]
    knn = gr.evaluate(ItemKNN().fit(d), d, k=[20])["recall@20"]
    assert knn > 1.5 * pop and knn > 0.2
    # without communities there is nothing personal to learn: the gap disappears
    flat = make_dataset(community_strength=0.0)
    pop0 = gr.evaluate(MostPop().fit(flat), flat, k=[20])["recall@20"]
    knn0 = gr.evaluate(ItemKNN().fit(flat), flat, k=[20])["recall@20"]
    assert knn0 < 1.1 * pop0


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"num_users": 0}, "num_users"),
        ({"num_items": -3}, "num_items"),
        ({"num_communities": 0}, "num_communities"),
        ({"num_items": 5, "num_communities": 6, "avg_degree": 2}, "num_communities"),
        ({"avg_degree": 0.5}, "avg_degree"),
        ({"num_items": 10, "num_communities": 2, "avg_degree": 11}, "avg_degree"),
        ({"avg_degree": float("nan")}, "avg_degree"),
        ({"degree_exponent": 1.0}, "degree_exponent"),
        ({"item_exponent": 0.5}, "item_exponent"),
        ({"community_strength": 1.5}, "community_strength"),
        ({"community_strength": -0.1}, "community_strength"),
        ({"trust_degree": -1.0}, "trust_degree"),
        ({"trust_homophily": 2.0}, "trust_homophily"),
        ({"time_span": (5, 5)}, "time_span"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_parameters_raise_value_error_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        make_graph(**{**SMALL, **kwargs})


@pytest.mark.parametrize(
    "kwargs, name",
    [({"num_users": 2.5}, "num_users"), ({"num_items": "10"}, "num_items"),
     ({"num_communities": True}, "num_communities"), ({"weights": "yes"}, "weights"),
     ({"time_span": 5}, "time_span")],
)
def test_bad_types_raise_type_error(kwargs, name):
    with pytest.raises(TypeError, match=name):
        make_graph(**{**SMALL, **kwargs})


@pytest.mark.parametrize("tf", [0.0, 1.0, -0.2, 1.5])
def test_bad_test_fraction(tf):
    with pytest.raises(ValueError, match="test_fraction"):
        make_dataset(**SMALL, test_fraction=tf)


# ------------------------------------------------------------------------------ scale
def test_million_edge_build_is_fast():
    t = time.perf_counter()
    g = make_graph(num_users=50_000, num_items=20_000, avg_degree=20, seed=0)
    seconds = time.perf_counter() - t
    assert 800_000 < g.num_edges(INTERACTS) <= 1_000_000
    assert seconds < 10.0, f"1M-draw build took {seconds:.1f}s"


@pytest.mark.gpu
def test_cuda_graph_equals_cpu_graph():
    kw = dict(**SMALL, sybil=SybilSpec(num_sybils=8, attack_edges=2), seed=3)
    cpu, cuda = make_graph(**kw), make_graph(**kw, device="cuda")
    assert cuda.device.type == "cuda"
    tc, tg = _tensors(cpu), _tensors(cuda)
    for k in tc:
        assert tg[k].device.type == "cuda" and torch.equal(tc[k], tg[k].cpu()), k


def test_registry_dispatches_to_make_dataset():
    d = gr.datasets.load("synthetic", num_users=100, num_items=40, avg_degree=6, seed=2)
    ref = make_dataset(num_users=100, num_items=40, avg_degree=6, seed=2)
    assert d.name == "synthetic" and _pairs(d.test) == _pairs(ref.test)


def test_numpy_scalars_are_accepted_and_non_finite_rates_rejected():
    import numpy as np

    kw = {"num_users": np.int64(300), "num_items": np.int32(120), "num_communities": np.int64(4),
          "avg_degree": np.float32(10.0), "community_strength": np.float64(0.7), "seed": np.int64(2),
          "weights": np.bool_(True), "string_ids": np.bool_(False)}
    a, b = make_graph(**kw), make_graph(**{k: v.item() for k, v in kw.items()})
    assert _pairs(a) == _pairs(b)
    for name, bad in [("community_strength", float("inf")), ("trust_degree", float("inf")), ("degree_exponent", float("nan"))]:
        with pytest.raises(ValueError, match=rf"{name} must be a finite number"):
            make_graph(**{**SMALL, name: bad})
    with pytest.raises(ValueError, match=r"test_fraction must be a finite number in \(0, 1\), got nan"):
        make_dataset(**SMALL, test_fraction=float("nan"))
    with pytest.raises(TypeError, match="string_ids must be True or False, got 'maybe'"):
        make_graph(**SMALL, string_ids="maybe")
    with pytest.raises(ValueError, match=r"SybilSpec.topology must be one of 'star', 'serial', 'parallel', 'clique'"):
        SybilSpec(topology="ring")
    assert make_dataset(**SMALL, test_fraction=np.float32(0.25)).info["test_fraction"] == 0.25


def test_numpy_scalars_in_sybil_spec_keep_meta_json_and_save(tmp_path):
    import numpy as np

    spec = SybilSpec(num_sybils=np.int64(5), attack_edges=np.int32(2), target_items=np.int64(3),
                     target_weight=np.float32(4.0), camouflage=np.int64(1))
    assert spec == SybilSpec(num_sybils=5, attack_edges=2, target_items=3, target_weight=4.0, camouflage=1)
    assert type(spec.num_sybils) is int and type(spec.target_weight) is float
    g = make_graph(**SMALL, sybil=spec, seed=0)
    json.dumps(g.meta)
    json.dumps(make_dataset(**SMALL, sybil=spec, seed=0).info)
    h = gr.Graph.load(g.save(tmp_path / "g"))
    assert h.meta["synthetic"]["sybil"]["num_sybils"] == 5


def test_time_span_must_fit_int64():
    with pytest.raises(ValueError, match=r"time_span\[1\] must be an integer"):
        make_graph(**SMALL, time_span=(0, 2**64))
    with pytest.raises(ValueError, match="time_span must be at most 2\\*\\*63 - 1 wide"):
        make_graph(**SMALL, time_span=(-(2**62), 2**63 - 1))  # the window widths would overflow
    t0, t1 = -(2**62), 2**62 - 1  # as wide as allowed: 2**63 - 1
    ts = make_graph(**SMALL, time_span=(t0, t1), seed=0).edges(INTERACTS).timestamp
    assert int(ts.min()) >= t0 and int(ts.max()) < t1


def test_sybil_target_weight_must_be_a_float32_weight():
    with pytest.raises(ValueError, match=r"SybilSpec.target_weight must be a finite number in \(0, 3.40282e\+38\]"):
        SybilSpec(target_weight=1e300)
    with pytest.raises(ValueError, match="SybilSpec.target_weight 1e-300 rounds to 0"):
        SybilSpec(target_weight=1e-300)
