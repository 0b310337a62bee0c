"""``graphrec embed``: edge lists, named datasets, parquet and npy, one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from graphrec.cli import main
from graphrec.data.loaders import load_edge_list
from graphrec.embed import fastrp


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _edge_list(tmp_path: Path, text: str = "a b\nb c\nc a\nc d\n") -> Path:
    p = tmp_path / "g.txt"
    p.write_text(text)
    return p


def test_edge_list_to_npy_matches_fastrp(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    el = _edge_list(tmp_path)
    out = tmp_path / "e.npy"
    code, _, err = run_cli(capsys, "embed", "--data", str(el), "--method", "fastrp", "--param", "dim=8",
                           "--param", "weights=1,2", "--seed", "4", "--out", str(out))
    assert code == 0, err
    arr = np.load(out, allow_pickle=False)
    assert arr["id"].tolist() == ["a", "b", "c", "d"] and set(arr["node_type"]) == {"node"}
    ref = fastrp(load_edge_list(el), dim=8, weights=(1.0, 2.0), seed=4)
    np.testing.assert_allclose(arr["embedding"], ref.numpy(), rtol=1e-6)


def test_dataset_to_parquet_has_users_and_items(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "e.parquet"
    code, _, err = run_cli(capsys, "embed", "--data", "synthetic", "--method", "fastrp", "--param", "dim=4", "--out", str(out))
    assert code == 0, err
    t = pq.read_table(out)
    types = t.column("node_type").to_pylist()
    assert types.count("user") == 2000 and types.count("item") == 1000
    assert t.schema.field("embedding").type.list_size == 4
    assert b"graphrec" in t.schema.metadata


def test_fit_on_is_noted_for_a_training_free_method(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    el = _edge_list(tmp_path)
    code, _, err = run_cli(capsys, "embed", "--data", str(el), "--fit-on", str(el), "--method", "fastrp",
                           "--param", "dim=4", "--out", str(tmp_path / "e.npy"))
    assert code == 0 and "training-free" in err


@pytest.mark.parametrize(
    ("args", "msg"),
    [(["--method", "nope"], "unknown embedding method"), (["--param", "bogus=1"], "unknown parameter"),
     (["--out", "x.csv"], ".parquet or .npy"), (["--param", "dim=0"], "dim must be")],
)
def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], msg: str) -> None:
    el = _edge_list(tmp_path)
    base = {"--method": "fastrp", "--out": str(tmp_path / "e.npy")}
    for k in range(0, len(args), 2):
        if args[k] in base:
            base[args[k]] = args[k + 1]
    extra = [a for k in range(0, len(args), 2) if args[k] == "--param" for a in args[k : k + 2]]
    flat = [x for kv in base.items() for x in kv]
    code, _, err = run_cli(capsys, "embed", "--data", str(el), *flat, *extra)
    errors = [line for line in err.splitlines() if line.startswith("graphrec: error:")]
    assert code == 2 and len(errors) == 1 and msg in errors[0] and err.strip().splitlines()[-1] == errors[0]


@pytest.mark.parametrize(("name", "folder", "rows"), [("blogcatalog", "blogcatalog", 10312), ("airports-usa", "airports", 1190)])
def test_named_graph_datasets(data_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, folder: str,
                              rows: int) -> None:
    from tests.conftest import need_dataset

    need_dataset(data_root, folder)
    out = tmp_path / "e.npy"
    code, _, err = run_cli(capsys, "embed", "--data", name, "--method", "fastrp", "--param", "dim=8", "--out", str(out))
    assert code == 0, err
    arr = np.load(out)
    assert arr.shape == (rows,) and torch.isfinite(torch.from_numpy(arr["embedding"])).all()
