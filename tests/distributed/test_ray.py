"""graphrec on a local Ray cluster started by the test: scoring (same output as one process, resumable
across both paths, every user exactly once after a worker is killed), the PowerWalk index and FastRP (the same tensors)."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'graphrec[ray]')")

import graphrec as gr
from graphrec import scoring
from graphrec.data.synthetic import make_dataset
from graphrec.distributed import score_to_file


@pytest.fixture(scope="module")
def cluster() -> Any:
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def model() -> Any:
    return gr.models.create("itemknn", neighbors=20).fit(make_dataset(num_users=400, num_items=120, avg_degree=8, seed=5))


def test_same_output_as_one_process(cluster: Any, model: Any, tmp_path: Path) -> None:
    local = scoring.score_to_file(model, tmp_path / "local.csv", k=10, chunk_users=64)
    dist = score_to_file(model, tmp_path / "ray.csv", k=10, chunk_users=64, workers=2)
    assert dist == local
    assert (tmp_path / "ray.csv").read_text() == (tmp_path / "local.csv").read_text()
    assert not (tmp_path / "ray.csv.parts").exists()


def test_resume_across_paths(cluster: Any, model: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    real = scoring._write_part

    def crash_after_two(table: Any, path: Path, fmt: str) -> None:
        calls["n"] += 1
        if calls["n"] > 2:
            raise RuntimeError("simulated crash")
        real(table, path, fmt)

    monkeypatch.setattr(scoring, "_write_part", crash_after_two)
    with pytest.raises(RuntimeError, match="simulated"):
        scoring.score_to_file(model, tmp_path / "out.parquet", k=5, chunk_users=50)
    monkeypatch.setattr(scoring, "_write_part", real)
    assert len(list((tmp_path / "out.parquet.parts").glob("part-*"))) == 2
    rows = score_to_file(model, tmp_path / "out.parquet", k=5, chunk_users=50, resume=True)  # Ray finishes the local run
    assert rows == scoring.score_to_file(model, tmp_path / "again.parquet", k=5, chunk_users=50)
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "out.parquet").equals(pq.read_table(tmp_path / "again.parquet"))


def _worker_pids() -> list[int]:
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().decode(errors="ignore")
            except OSError:
                continue
            if "_ScoringWorker" in cmd:
                pids.append(int(d.name))
    return pids


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds worker processes through /proc")
def test_killed_worker_loses_no_user(cluster: Any, model: Any, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    parts = tmp_path / "out.csv.parts"
    killed: list[int] = []

    def killer() -> None:
        deadline = time.time() + 60
        while time.time() < deadline and not killed:
            if parts.exists() and any(parts.glob("part-*.csv")):
                pids = _worker_pids()
                if pids:
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])
            time.sleep(0.01)

    t = threading.Thread(target=killer)
    t.start()
    rows = score_to_file(model, out, k=5, chunk_users=4, workers=2)
    t.join()
    assert killed, "no worker was killed: the run ended first"
    lines = out.read_text().splitlines()[1:]
    users = [line.split(",")[0] for line in lines]
    ranks = [(line.split(",")[0], line.split(",")[1]) for line in lines]
    assert rows == len(lines) == 400 * 5
    assert len(set(ranks)) == len(ranks)  # no row twice
    assert sorted(set(users), key=int) == [str(u) for u in range(400)]  # every user
    np.testing.assert_array_equal(np.bincount(np.array(users, dtype=int)), np.full(400, 5))


def test_bad_address_is_one_line(model: Any, tmp_path: Path) -> None:
    from graphrec.distributed.cluster import _check_reachable

    with pytest.raises(ConnectionError, match="cannot connect to the Ray cluster at '127.0.0.1:1'"):
        _check_reachable("127.0.0.1:1")  # loopback, a port nothing listens on: refused at once
    with pytest.raises(ValueError, match="not of the form"):
        _check_reachable("no-port-here")


def test_cli_score_on_ray(cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from graphrec.cli import main

    assert main(["score", "--data", "synthetic", "--model", "mostpop", "--k", "3", "--out", str(tmp_path / "a.csv")]) == 0
    assert main(["score", "--data", "synthetic", "--model", "mostpop", "--k", "3", "--out", str(tmp_path / "b.csv"), "--ray"]) == 0
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()
    capsys.readouterr()
    assert main(["score", "--data", "synthetic", "--model", "mostpop", "--out", str(tmp_path / "c.csv"), "--ray", "127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "cannot connect to the Ray cluster" in err and "fitting" not in err


def test_powerwalk_index_on_ray_equals_one_process(cluster: Any) -> None:
    from graphrec.distributed import build_powerwalk_index
    from graphrec.rank import powerwalk

    g = make_dataset(num_users=300, num_items=200, avg_degree=6, seed=2).train
    old = powerwalk.WALKERS_PER_BLOCK
    powerwalk.WALKERS_PER_BLOCK = 16 * 64  # small blocks: 32 of them over the 500 nodes, shared by the workers
    try:
        params = {"walks": 16, "top_m": 32, "walk_top_m": 16, "refine_top_m": 24, "refine": 2, "seed": 7}
        local = powerwalk.build_index(g, **params)
        dist = build_powerwalk_index(g, workers=2, **params)
    finally:
        powerwalk.WALKERS_PER_BLOCK = old
    for name in ("indptr", "indices", "values", "residual", "lost", "background"):
        assert torch.equal(getattr(local, name), getattr(dist, name)), name
    assert torch.equal(local.spectral.vectors, dist.spectral.vectors)


@pytest.mark.parametrize("normalize", [True, False])
def test_fastrp_on_ray_equals_one_process(cluster: Any, normalize: bool) -> None:
    from graphrec.distributed import fastrp as ray_fastrp
    from graphrec.embed import fastrp

    g = make_dataset(num_users=300, num_items=200, avg_degree=6, seed=2).train
    params = {"dim": 24, "weights": (1.0, 2.0, 4.0), "beta": -0.5, "seed": 3, "normalize": normalize}
    local = fastrp(g, block_cols=8, **params)
    dist = ray_fastrp(g, workers=2, block_cols=8, **params)
    assert torch.equal(local, dist)
    assert torch.allclose(fastrp(g, **params), dist, atol=1e-6)  # one block in one process: the same up to rounding
