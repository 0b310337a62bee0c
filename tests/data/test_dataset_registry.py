"""The named-dataset registry (graphrec.data.registry): names versus paths, argument checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphrec.data import dataset_path, load


def _split_dir(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "train.txt").write_text("0 1\n1 0 1\n")
    (folder / "test.txt").write_text("0 0\n")
    return folder


def test_dataset_path_of_synthetic_says_it_is_generated():
    with pytest.raises(ValueError) as e:
        dataset_path("synthetic")
    msg = str(e.value)
    assert "generated" in msg and "unknown" not in msg, msg


def test_valid_fraction_is_checked_by_name_before_loading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GRAPHREC_DATA", str(tmp_path))  # holds no gowalla: a load would fail
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"valid_fraction must be a finite number in \(0, 1\), got 2"):
        load("gowalla", valid_fraction=2)
    with pytest.raises(ValueError, match=r"valid_fraction must be a finite number in \(0, 1\), got nan"):
        load("synthetic", valid_fraction=float("nan"), num_users=20, num_items=10, num_communities=2)
    with pytest.raises(ValueError, match="valid_seed"):
        load("synthetic", valid_fraction=0.1, valid_seed=-1, num_users=20, num_items=10, num_communities=2)


def test_a_pathlike_is_always_a_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GRAPHREC_DATA", str(tmp_path / "absent"))
    monkeypatch.chdir(tmp_path)
    for name in ("gowalla", "synthetic"):
        _split_dir(tmp_path / name)
        ds = load(Path(name))  # the folder here, not the registry's dataset or the generator
        assert ds.summary()["train"] == 3 and ds.info["format"] == "split-dir", name
    with pytest.raises(FileNotFoundError, match="no dataset at"):
        load(Path("lastfm"))


def test_name_or_path_of_the_wrong_type():
    with pytest.raises(TypeError, match="name_or_path must be a dataset name or a path, got int"):
        load(5)
