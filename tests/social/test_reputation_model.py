"""reputation='meritrank' for any registered model: Sybil interactions never reach training."""

from __future__ import annotations

import torch

import graphrec as gr
from graphrec.attacks import attack_report, honest_test_users, sybil_attack
from graphrec.social.reputation_model import ReputationModel


def test_reputation_filter_stops_sybil_poisoning_of_mostpop(tmp_path):
    data = gr.datasets.synthetic.make_dataset(300, 120, avg_degree=8, seed=2)
    atk = sybil_attack(data, 200, camouflage=2, seed=0)
    users = honest_test_users(atk, 100, seed=0)
    plain = gr.models.create("mostpop").fit(atk.data)
    guarded = gr.models.create("mostpop", reputation="meritrank", rep_seeds=150, rep_walks=5000, rep_threshold=0.1).fit(atk.data)
    assert isinstance(guarded, ReputationModel) and guarded.name == "mostpop"
    assert attack_report(plain, atk, users, accuracy=False)["promoted_share"] == 0.25  # 5 bombed items in every top-20
    assert attack_report(guarded, atk, users, accuracy=False)["promoted_share"] < 0.025  # at most the entry account stays
    w = guarded.weights
    assert float(w[atk.sybils].mean()) < 0.1 and float(w[: atk.num_honest].mean()) > 0.8
    assert 0.5 < guarded.kept < 1.0
    # params rebuild the same wrapped model; reputation=None is the plain model
    again = gr.models.create("mostpop", **guarded.params())
    assert isinstance(again, ReputationModel) and again.params() == guarded.params()
    assert not isinstance(gr.models.create("mostpop", reputation=None), ReputationModel)
    u = torch.as_tensor(users[:5])
    assert torch.equal(guarded.score(u), guarded.inner.score(u))
    # save -> load gives the same lists (the weights travel with the wrapped model's state)
    guarded.save(tmp_path / "m")
    again = gr.models.load(tmp_path / "m")
    assert isinstance(again, ReputationModel)
    ext = atk.data.train.id_map("user").to_external(users[:10])
    assert (again.recommend(ext, k=10)[0] == guarded.recommend(ext, k=10)[0]).all()
