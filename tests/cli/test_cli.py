"""The ``graphrec`` command: evaluate, score (with resume after a kill), error handling."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from graphrec import scoring
from graphrec.cli import main


def write_split_dir(root: Path) -> Path:
    """A LightGCN-format split: 4 users, 5 items; train popularity 4, 3, 2, 1, 0 (no ties)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "train.txt").write_text("0 0 1 2\n1 0 1 2\n2 0 1\n3 0 3\n")
    (root / "test.txt").write_text("0 3\n1 4\n2 2\n3 1\n")
    return root


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_evaluate_json_on_split_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = write_split_dir(tmp_path / "tiny")
    code, out, err = run_cli(capsys, "evaluate", "--data", str(d), "--model", "mostpop", "--k", "1,2", "--json")
    assert code == 0, err
    res = json.loads(out.strip().splitlines()[-1])
    for key in ("dataset", "model", "params", "users", "recall@1", "ndcg@2", "precision@2", "hit@2",
                "fit_seconds", "eval_seconds", "device"):
        assert key in res
    # u0 (seen 0,1,2): top1 = 3 -> hit; u1 (seen 0,1,2): top1 = 3, test 4 -> miss
    # u2 (seen 0,1): top1 = 2 -> hit; u3 (seen 0,3): top1 = 1 -> hit
    assert res["users"] == 4
    assert res["recall@1"] == pytest.approx(0.75)
    assert res["device"] == "cpu" and res["model"] == "mostpop"


def test_evaluate_reports_what_training_did(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["evaluate", "--data", "synthetic", "--model", "lightgcn", "--param", "dim=8", "--param", "epochs=4",
              "--param", "eval_every=2", "--param", "batch=512"]
    code, out, err = run_cli(capsys, *common, "--json")
    assert code == 0, err
    t = json.loads(out.strip().splitlines()[-1])["training"]
    assert t["epochs_run"] == 4 and t["best_epoch"] in (2, 4) and t["refit_epochs"] == t["best_epoch"]
    assert t["stopped_by_time"] is False and t["epoch_seconds"] > 0
    assert [e for e, _ in t["valid_curve"]] == [2, 4]
    assert t["best_valid"] == max(v for _, v in t["valid_curve"]) and 0 < t["best_valid"] <= 1
    assert t["valid_metric"] == "ndcg@20"
    code, out, err = run_cli(capsys, *common)
    assert code == 0, err
    assert f"training: 4 epochs (best {t['best_epoch']})" in out and "refit on all of train" in out
    assert f"best validation ndcg@20 {t['best_valid']:.4f}" in out  # which metric, not a bare number
    code, out, _ = run_cli(capsys, "evaluate", "--data", "synthetic", "--model", "mostpop", "--json")
    assert "training" not in json.loads(out.strip().splitlines()[-1])
    code, out, err = run_cli(capsys, *common, "--param", "reg=30,1e-3", "--json")  # a comma list: chosen on validation
    assert code == 0, err
    t = json.loads(out.strip().splitlines()[-1])["training"]
    assert t["chosen"] == {"reg": 0.001} and [c["reg"] for c in t["candidates"]] == [30, 0.001]
    assert t["best_valid"] == t["candidates"][1]["best_valid"] > t["candidates"][0]["best_valid"]
    code, out, err = run_cli(capsys, *common, "--param", "reg=30,1e-3")
    assert code == 0, err
    assert "reg 0.001 chosen on validation (30: " in out


def test_help_and_usage_errors_name_the_choices(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from graphrec.models.registry import available

    with pytest.raises(SystemExit):
        main([])
    err = capsys.readouterr().err
    named = err.split("required: {", 1)[1].split("}", 1)[0].split(",")
    assert {"demo", "evaluate", "fit", "score", "models", "datasets"} <= set(named)
    for command, option in (("evaluate", "--model"), ("score", "--model"), ("demo", "--models")):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = " ".join(capsys.readouterr().out.split())
        assert f"{option} {option[2:].rstrip('s').upper()}" in out and all(name in out for name in available()), command
    d = write_split_dir(tmp_path / "tiny")
    code, out, err = run_cli(capsys, "evaluate", "--data", str(d), "--model", "mostpop")
    assert code == 0, err
    assert " · mostpop · 4 test users" in out.splitlines()[0]  # no parameters: no stray space


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--model", "nosuchmodel"], "unknown model 'nosuchmodel'"),
        (["--model", "itemknn", "--param", "neighbours=5"], "unknown parameter(s) neighbours"),
        (["--model", "mostpop", "--param", "oops"], "key=value"),
        (["--model", "mostpop", "--k", "x"], "--k"),
        (["--model", "lightgcn", "--param", "dim=8", "--param", "dim=16"], "--param dim is given twice"),
        (["--model", "lightgcn", "--param", "checkpoint_dir="], "checkpoint_dir must name a directory"),
        (["--model", "lightgcn", "--param", "lr=nan"], "lr must be a finite number > 0"),
        (["--model", "lightgcn", "--param", "metric=x"], "unknown parameter(s) metric"),
        (["--model", "mf", "--param", "progress=maybe"], "progress must be True or False"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], needle: str) -> None:
    d = write_split_dir(tmp_path / "tiny")
    code, _out, err = run_cli(capsys, "evaluate", "--data", str(d), *args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("graphrec: error:"), err
    assert needle in lines[0]
    assert "Traceback" not in err


def test_missing_and_malformed_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "evaluate", "--data", str(tmp_path / "nowhere"), "--model", "mostpop")
    assert code == 2 and "nowhere" in err and "Traceback" not in err
    d = write_split_dir(tmp_path / "bad")
    (d / "train.txt").write_text("0 0 1\n1 zero 2\n")
    code, _, err = run_cli(capsys, "evaluate", "--data", str(d), "--model", "mostpop")
    assert code == 2 and "train.txt" in err and "2" in err


def test_cuda_request_without_cuda(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    d = write_split_dir(tmp_path / "tiny")
    code, _, err = run_cli(capsys, "evaluate", "--data", str(d), "--model", "mostpop", "--device", "cuda")
    assert code == 2 and "CUDA is not available" in err


def test_model_device_parameter_without_cuda(capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    code, _, err = run_cli(capsys, "evaluate", "--data", "synthetic", "--model", "mf", "--param", "device=cuda")
    assert code == 2 and "'cuda': CUDA is not available on this machine" in err


def test_seed_draws_the_split_of_every_edge_table_suffix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pyarrow as pa

    rng = np.random.default_rng(0)
    table = pa.table({"user": rng.integers(0, 30, 600), "item": rng.integers(0, 40, 600)})
    results = {}
    for suffix in (".parquet", ".pq"):
        path = tmp_path / f"log{suffix}"
        pq.write_table(table, path)
        for seed in ("0", "1"):
            code, out, err = run_cli(capsys, "evaluate", "--data", str(path), "--model", "mostpop", "--seed", seed, "--json")
            assert code == 0, err
            results[suffix, seed] = json.loads(out.strip().splitlines()[-1])["recall@20"]
    assert results[".pq", "0"] == results[".parquet", "0"] and results[".pq", "1"] == results[".parquet", "1"]
    assert results[".pq", "0"] != results[".pq", "1"]


def test_score_checks_its_arguments_before_the_fit(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad --out, --chunk, --users list or a leftover parts folder fails before a fit that may take hours."""
    from graphrec import cli

    def no_fit(*_: object) -> float:
        raise AssertionError("the model was fitted before the arguments were checked")

    monkeypatch.setattr(cli, "_fit", no_fit)
    d = write_split_dir(tmp_path / "tiny")
    base = ["score", "--data", str(d), "--model", "lightgcn"]
    users = tmp_path / "users.txt"
    users.write_text("3\n1\n3\n")
    (tmp_path / "left.csv.parts").mkdir()
    for args, needle in ((["--out", str(tmp_path / "recs.txt")], "must end in .parquet or .csv"),
                         (["--out", str(tmp_path / "r.csv"), "--chunk", "0"], "--chunk must be positive"),
                         (["--out", str(tmp_path / "r.csv"), "--users", str(users)], "user id '3' is listed 2 times"),
                         (["--out", str(tmp_path / "left.csv")], "holds parts of an interrupted run")):
        code, _, err = run_cli(capsys, *base, *args)
        assert code == 2 and needle in err, err


def test_evaluate_says_when_the_refit_is_not_served(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from graphrec.train import bpr

    now = iter(range(10**9))
    monkeypatch.setattr(bpr.time, "perf_counter", lambda: 1.0 * next(now))  # one second per clock read
    with pytest.warns(RuntimeWarning, match="refit skipped"):
        code, out, err = run_cli(capsys, "evaluate", "--data", "synthetic", "--model", "lightgcn", "--param", "dim=8",
                                 "--param", "eval_every=1", "--param", "reg=0.001", "--param", "max_minutes=0.2", "--json")
    assert code == 0, err
    t = json.loads(out.strip().splitlines()[-1])["training"]
    assert t["stopped_by_time"] is True and t["refit_served"] is False and t["refit_epochs"] == 0
    code, out, err = run_cli(capsys, "evaluate", "--data", "synthetic", "--model", "lightgcn", "--param", "dim=8",
                             "--param", "epochs=2", "--param", "patience=none", "--json")
    t = json.loads(out.strip().splitlines()[-1])["training"]  # no early stopping: no refit to serve or not
    assert code == 0 and t["refit_served"] is None and t["refit_epochs"] is None


def test_unsupported_device_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = write_split_dir(tmp_path / "tiny")
    code, _, err = run_cli(capsys, "evaluate", "--data", str(d), "--model", "mostpop", "--device", "mps")
    assert code == 2 and "'mps' is not supported" in err and "float64" in err


@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_score_writes_all_users(tmp_path: Path, capsys: pytest.CaptureFixture[str], ext: str) -> None:
    d = write_split_dir(tmp_path / "tiny")
    out = tmp_path / f"recs.{ext}"
    code, _, err = run_cli(capsys, "score", "--data", str(d), "--model", "mostpop", "--k", "3", "--out", str(out), "--chunk", "3")
    assert code == 0, err
    if ext == "csv":
        lines = out.read_text().splitlines()
        assert lines[0] == "user,rank,item,score"
        rows = [line.split(",") for line in lines[1:]]
        users = [int(r[0]) for r in rows]
        first = rows[0]
        assert first[:3] == ["0", "1", "3"]  # user 0 saw items 0-2: most popular unseen is 3
    else:
        t = pq.read_table(out).to_pydict()
        assert list(t) == ["user", "rank", "item", "score"]
        users = t["user"]
    # users 0 and 1 have only two unseen items: the empty third slot is dropped, not invented
    assert sorted(set(users)) == [0, 1, 2, 3] and len(users) == 2 + 2 + 3 + 3
    assert not (tmp_path / f"recs.{ext}.parts").exists()


def test_score_for_given_users_and_unknown_user(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = write_split_dir(tmp_path / "tiny")
    users = tmp_path / "users.txt"
    users.write_text("3\n1\n")
    out = tmp_path / "recs.csv"
    code, _, err = run_cli(capsys, "score", "--data", str(d), "--model", "mostpop", "--k", "2", "--out", str(out), "--users", str(users))
    assert code == 0, err
    assert [line.split(",")[0] for line in out.read_text().splitlines()[1:]] == ["3", "3", "1", "1"]
    users.write_text("3\n99\n")
    code, _, err = run_cli(capsys, "score", "--data", str(d), "--model", "mostpop", "--out", str(tmp_path / "x.csv"), "--users", str(users))
    assert code == 2 and "99" in err
    assert not (tmp_path / "x.csv").exists()


def test_score_resume_after_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["score", "--data", "synthetic", "--model", "mostpop", "--k", "5", "--chunk", "300"]
    full = tmp_path / "full.parquet"
    assert run_cli(capsys, *args, "--out", str(full))[0] == 0
    expected = pq.read_table(full).to_pandas()

    out = tmp_path / "recs.parquet"
    real = scoring._chunk_table
    calls = {"n": 0}

    def crash_after_two(*a, **kw):
        calls["n"] += 1
        if calls["n"] > 2:
            raise RuntimeError("simulated crash")
        return real(*a, **kw)

    monkeypatch.setattr(scoring, "_chunk_table", crash_after_two)
    code, _, err = run_cli(capsys, *args, "--out", str(out))
    assert code == 2 and "simulated crash" in err
    assert not out.exists(), "an interrupted run must not leave a complete-looking file"
    parts = sorted((tmp_path / "recs.parquet.parts").glob("part-*.parquet"))
    assert len(parts) == 2
    monkeypatch.setattr(scoring, "_chunk_table", real)
    code, _, err = run_cli(capsys, *args, "--out", str(out))
    assert code == 2 and "--resume" in err  # refuses to silently restart over old parts
    assert run_cli(capsys, *args, "--out", str(out), "--resume")[0] == 0
    got = pq.read_table(out).to_pandas()
    assert got.equals(expected)
    assert not got.duplicated(["user", "rank"]).any()


def test_score_resume_after_sigkill(tmp_path: Path) -> None:
    """A real kill -9 mid-run, then --resume: no duplicates, no gaps."""
    out = tmp_path / "recs.csv"
    cmd = [sys.executable, "-m", "graphrec.cli", "score", "--data", "synthetic", "--model", "itemknn",
           "--k", "10", "--chunk", "50", "--out", str(out)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    parts = tmp_path / "recs.csv.parts"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if parts.is_dir() and len(list(parts.glob("part-*.csv"))) >= 3:
            break
        time.sleep(0.02)
    if proc.poll() is not None:
        pytest.fail("the scoring run finished before it could be killed; lower --chunk")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    done = subprocess.run(cmd + ["--resume"], check=False, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = [line.split(",") for line in out.read_text().splitlines()[1:]]
    keys = [(r[0], int(r[1])) for r in rows]
    assert len(keys) == len(set(keys)), "duplicate (user, rank) rows after resume"
    users = {r[0] for r in rows}
    from graphrec.data import load

    n_users = load("synthetic").num_users
    assert len(users) == n_users
    ranks = np.array([k[1] for k in keys])
    assert ranks.max() == 10 and (np.bincount(ranks)[1:] == n_users).all(), "gaps in ranks"


def test_score_to_file_takes_numpy_scalars_and_leaves_nothing_on_bad_arguments(tmp_path: Path) -> None:
    from graphrec.data.registry import load
    from graphrec.models import create
    from graphrec.models.baselines import MostPop

    data = load(str(write_split_dir(tmp_path / "tiny")))
    model = create("mostpop").fit(data)
    out = tmp_path / "recs.csv"
    # NumPy scalars are numbers and flags (they used to break the parts manifest's JSON)
    assert scoring.score_to_file(model, out, k=np.int64(2), chunk_users=np.int64(3), exclude_seen=np.bool_(True)) == 8
    for kwargs, error, message in (({"exclude_seen": "no"}, TypeError, "exclude_seen must be True or False"),
                                   ({"resume": 1}, TypeError, "resume must be True or False")):
        with pytest.raises(error, match=message):
            scoring.score_to_file(model, tmp_path / "bad.csv", **kwargs)
    with pytest.raises(RuntimeError, match="not fitted"):
        scoring.score_to_file(MostPop(data.train), tmp_path / "bad.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["recs.csv", "tiny"]  # no parts folder left to resume


def test_score_to_file_with_no_users_writes_typed_columns(tmp_path: Path) -> None:
    from graphrec.graph.store import INTERACTS, Graph
    from graphrec.models import create

    g = Graph()
    g.add_edges(INTERACTS, ["u1", "u1", "u2"], ["a", "b", "a"], by="id")
    model = create("mostpop").fit(g)
    full, empty = tmp_path / "full.parquet", tmp_path / "empty.parquet"
    assert scoring.score_to_file(model, full, k=2) == 1  # u1 has seen every item, u2 all but b
    assert scoring.score_to_file(model, empty, k=2, users=[]) == 0
    assert pq.read_table(empty).schema == pq.read_table(full).schema  # not columns of type null
    assert scoring.score_to_file(model, tmp_path / "one.csv", k=2, users="u2") == 1  # one id, not its characters


def test_score_user_file_ids_name_themselves(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = write_split_dir(tmp_path / "tiny")
    users = tmp_path / "users.txt"
    base = ["score", "--data", str(d), "--model", "mostpop", "--k", "1", "--out", str(tmp_path / "r.csv"), "--users", str(users)]
    for text, needle in (("3\n99999999999999999999\n", "user id '99999999999999999999' is outside int64's range"),
                         ("3\n3.0\n", "user ids are integers; '3.0' is not one")):
        users.write_text(text)
        code, _, err = run_cli(capsys, *base)
        assert code == 2 and needle in err, err
    users.write_bytes(b"3\n\xe9\n")
    code, _, err = run_cli(capsys, *base)
    assert code == 2 and "not UTF-8 text" in err, err
    users.write_text("\ufeff3\r\n1\r\n", encoding="utf-8")  # a byte-order mark and Windows line ends
    code, _, err = run_cli(capsys, *base)
    assert code == 0, err
    assert [line.split(",")[0] for line in (tmp_path / "r.csv").read_text().splitlines()[1:]] == ["3", "1"]


def test_csv_scores_read_back_as_the_parquet_float32_scores(tmp_path: Path) -> None:
    from graphrec.data.synthetic import make_dataset
    from graphrec.models import create

    model = create("gfcf", alpha=0.3, k=8, sharpen=0.0).fit(make_dataset(num_users=60, num_items=40, seed=0))
    scoring.score_to_file(model, tmp_path / "r.csv", k=5)
    scoring.score_to_file(model, tmp_path / "r.parquet", k=5)
    lines = (tmp_path / "r.csv").read_text().splitlines()[1:]
    from_csv = np.array([float(line.rsplit(",", 1)[1]) for line in lines], dtype=np.float32)
    from_parquet = np.asarray(pq.read_table(tmp_path / "r.parquet").column("score").to_pylist(), dtype=np.float32)
    assert np.array_equal(from_csv, from_parquet)


def test_lists_of_tied_scores_are_reported(tmp_path: Path) -> None:
    import warnings

    from graphrec.graph.store import INTERACTS, Graph
    from graphrec.models import create

    g = Graph()
    g.add_edges(INTERACTS, ["u1", "u1", "u2", "u2"], ["a", "b", "b", "c"], by="id")
    g.add_nodes("user", ["cold"])  # no training interaction: item-based scores are all 0
    with pytest.warns(RuntimeWarning, match=r"1 user\(s\) got a top-2 list whose items all share one score"):
        scoring.score_to_file(create("itemknn").fit(g), tmp_path / "r.csv", k=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scoring.score_to_file(create("itemknn").fit(g), tmp_path / "warm.csv", k=2, users=["u1", "u2"])


def test_evaluate_json_reports_the_parameters_gfcf_chose(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "evaluate", "--data", "synthetic", "--model", "gfcf", "--json")
    assert code == 0, err
    res = json.loads(out.strip().splitlines()[-1])
    assert res["params"] == {"seed": 0}  # as given: alpha, k and sharpen left at 'auto'
    fitted = res["fitted_params"]
    assert isinstance(fitted["alpha"], float) and isinstance(fitted["k"], int) and isinstance(fitted["sharpen"], float)


def test_argument_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from graphrec.cli import main

    with pytest.raises(SystemExit) as e:
        main(["score", "--k", "abc", "--data", "synthetic", "--model", "mostpop", "--out", "r.csv"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1
    assert err.startswith("graphrec score: error: argument --k: invalid int value: 'abc'") and "score --help" in err


def test_fit_once_score_many_times(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = write_split_dir(tmp_path / "tiny")
    code, _, err = run_cli(capsys, "fit", "--data", str(d), "--model", "itemknn", "--out", str(tmp_path / "m"))
    assert code == 0, err
    assert (tmp_path / "m" / "model.json").is_file()
    code, _, err = run_cli(capsys, "score", "--data", str(d), "--model", "itemknn", "--out", str(tmp_path / "a.csv"), "--k", "2")
    assert code == 0, err
    for i, extra in enumerate(([], ["--data", str(d)])):  # with the saved graph, and with --data's (the same)
        code, _, err = run_cli(capsys, "score", "--model-dir", str(tmp_path / "m"), "--out", str(tmp_path / f"b{i}.csv"), "--k", "2", *extra)
        assert code == 0, err
        assert (tmp_path / f"b{i}.csv").read_text() == (tmp_path / "a.csv").read_text()


def test_score_model_dir_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = write_split_dir(tmp_path / "tiny")
    code, _, err = run_cli(capsys, "score", "--model-dir", str(tmp_path / "none"), "--out", str(tmp_path / "a.csv"))
    assert code == 2 and "not a saved graphrec model" in err and len(err.strip().splitlines()) == 1
    run_cli(capsys, "fit", "--data", str(d), "--model", "mostpop", "--out", str(tmp_path / "m"))
    code, _, err = run_cli(capsys, "score", "--model-dir", str(tmp_path / "m"), "--model", "mostpop", "--out", str(tmp_path / "a.csv"))
    assert code == 2 and "--model and --param do not apply" in err
    code, _, err = run_cli(capsys, "score", "--model", "mostpop", "--out", str(tmp_path / "a.csv"))
    assert code == 2 and "required: --data" in err
    code, _, err = run_cli(capsys, "score", "--model-dir", str(tmp_path / "m"), "--data", "synthetic", "--out", str(tmp_path / "a.csv"))
    assert code == 2 and "graph changed since fit" in err
