"""The cold-start protocol: held-out users leave the store entirely, then arrive with a few edges."""

from __future__ import annotations

import numpy as np
import pytest

import graphrec as gr
from graphrec.data.dataset import Dataset
from graphrec.eval import cold_start_split, evaluate_cold_start
from graphrec.graph import INTERACTS, TRUSTS, Graph
from graphrec.models.baselines import MostPop


def _graph(with_ts: bool = True) -> Graph:
    g = Graph()
    users, items, ts = [], [], []
    for u in range(10):
        for j in range(6):
            users.append(f"u{u}")
            items.append(f"i{(u + j) % 8}")
            ts.append(100 * u + (5 - j))  # later j = earlier time
    g.add_edges(INTERACTS, users, items, timestamp=ts if with_ts else None, by="id")
    g.add_edges(TRUSTS, [f"u{u}" for u in range(9)], [f"u{u + 1}" for u in range(9)], by="id")
    return g


def test_split_removes_users_and_reveals_their_first_interactions() -> None:
    g = _graph()
    sp = cold_start_split(g, fraction=0.2, seed=3, keep_first=2)
    assert len(sp.users) == 2
    cold = set(sp.users.tolist())
    assert not cold & set(sp.train.id_map("user").to_external(np.arange(sp.train.num_nodes("user"))).tolist())
    assert sp.train.num_nodes("item") == 8 and sp.train.num_edges(INTERACTS) == 8 * 6
    ru, ri, _, _ = sp.reveal[INTERACTS]
    hu, hi = sp.held
    assert len(ru) == 2 * 2 and len(hu) == 2 * 4
    for u in cold:  # revealed: the two earliest (j = 5, 4); held: the rest
        k = int(u[1:])
        assert sorted(ri[ru == u].tolist()) == sorted([f"i{(k + 5) % 8}", f"i{(k + 4) % 8}"])
        assert sorted(hi[hu == u].tolist()) == sorted(f"i{(k + j) % 8}" for j in range(4))
    # trust edges touching a cold user arrive with it; the others stay
    ts_, td, _, _ = sp.reveal[TRUSTS]
    assert all(a in cold or b in cold for a, b in zip(ts_, td))
    assert sp.train.num_edges(TRUSTS) + len(ts_) == 9
    assert sp.info["order"] == "timestamp"


def test_split_is_seeded_and_pools_a_datasets_parts() -> None:
    data = gr.datasets.load("synthetic", num_users=200, num_items=100, seed=0)
    a = cold_start_split(data, 0.1, seed=1)
    b = cold_start_split(data, 0.1, seed=1)
    assert np.array_equal(a.users, b.users) and np.array_equal(a.held[1], b.held[1])
    assert not np.array_equal(a.users, cold_start_split(data, 0.1, seed=2).users)
    n_all = sum(g.num_edges(INTERACTS) for g in (data.train, data.test))
    n_cold_warm = a.train.num_edges(INTERACTS) + len(a.reveal[INTERACTS][0]) + len(a.held[0])
    assert n_cold_warm <= n_all  # the warm users' test interactions are not used
    assert len(a.reveal[INTERACTS][0]) == 5 * len(a.users)


class _NoUpdatePop(MostPop):
    supports_update = False


def test_evaluate_updates_or_refits() -> None:
    g = _graph(with_ts=False)
    sp = cold_start_split(g, fraction=0.3, seed=0, keep_first=2)
    rep = evaluate_cold_start(gr.models.create("fastrp", dim=16), sp, k=[3])
    assert rep.info["answered_by"] == "update" and len(rep.users) == 3
    pop = evaluate_cold_start(_NoUpdatePop(), sp, k=[3])
    assert pop.info["answered_by"] == "refit"
    assert evaluate_cold_start(gr.models.create("mostpop"), sp, k=[3]).metrics == pytest.approx(pop.metrics)
    # mostpop by hand: the grown graph's item degrees, revealed items masked
    grown = sp.train.edge_subgraph(sp.train.edge_types)
    s, d, w, t = sp.reveal[INTERACTS]
    grown.add_edges(INTERACTS, s, d, w, t, by="id", duplicates="keep")
    m = gr.models.create("mostpop").fit(grown)
    ds = Dataset("x", grown, gr.data.dataset.held_out_graph(grown, *sp.held, by="id"))
    ref = gr.evaluate(m, ds, k=[3], users=grown.id_map("user").to_index(sp.users))
    assert pop.metrics == pytest.approx(ref.metrics)
    assert split_unchanged(sp)


def split_unchanged(sp) -> bool:
    return sp.train.num_nodes("user") == 7 and sp.train.num_edges(INTERACTS) == 7 * 6


def test_bad_arguments() -> None:
    g = _graph()
    with pytest.raises(ValueError, match="fraction"):
        cold_start_split(g, fraction=0)
    with pytest.raises(ValueError, match="keep_first"):
        cold_start_split(g, keep_first=6)
