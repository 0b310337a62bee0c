"""The ``graphrec`` command on the user's own tables: named columns, weights and times used,
``--sep``, ``--threads`` after the subcommand, and warnings as one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import graphrec as gr
from graphrec import cli
from graphrec.graph import INTERACTS


def ml_csv(path: Path, sep: str = ",", repeat: bool = False) -> Path:
    """A MovieLens-style ``userId,movieId,rating,timestamp`` table: 30 users, 40 movies."""
    rng = np.random.default_rng(0)
    lines = [sep.join(["userId", "movieId", "rating", "timestamp"])]
    for u in range(1, 31):
        for m in rng.choice(np.arange(1, 41), 8, replace=False):
            lines.append(sep.join([str(u), str(m), str(rng.integers(1, 6)), str(964_982_703 + len(lines))]))
    if repeat:
        lines.append(lines[1])  # a repeated row: user 1's first movie twice
    path.write_text("\n".join(lines) + "\n")
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def fitted_data(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The datasets the command fits on, captured (the fit itself still runs)."""
    seen: list[Any] = []
    real = cli._fit

    def spy(model: Any, data: Any) -> float:
        seen.append(data)
        return real(model, data)

    monkeypatch.setattr(cli, "_fit", spy)
    return seen


def test_evaluate_names_the_columns_of_an_ml_csv_and_uses_weights_and_times(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    f = ml_csv(tmp_path / "ratings.csv")
    seen = fitted_data(monkeypatch)
    code, out, err = run_cli(capsys, "evaluate", "--data", str(f), "--user-col", "userId", "--item-col", "movieId",
                             "--weight-col", "rating", "--model", "itemknn", "--json")
    assert code == 0, err
    res = json.loads(out.strip().splitlines()[-1])
    assert res["users"] == 30 and 0 <= res["recall@20"] <= 1
    g = seen[-1].train
    assert g.edges(INTERACTS).weight is not None and set(g.edges(INTERACTS).weight.tolist()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert g.edges(INTERACTS).timestamp is None  # no --time-col: no times
    assert g.num_edges(INTERACTS) + seen[-1].test.num_edges(INTERACTS) == 240
    code, _, err = run_cli(capsys, "evaluate", "--data", str(f), "--user-col", "userId", "--item-col", "movieId",
                           "--time-col", "timestamp", "--model", "mostpop")
    assert code == 0, err
    assert seen[-1].train.edges(INTERACTS).timestamp.min() > 964_982_703


def test_without_a_weight_column_repeated_rows_are_counted(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    f = ml_csv(tmp_path / "ratings.tsv", sep="\t", repeat=True)
    seen = fitted_data(monkeypatch)
    code, _, err = run_cli(capsys, "evaluate", "--data", str(f), "--user-col", "userId", "--item-col", "movieId",
                           "--model", "mostpop")
    assert code == 0, err
    weights = torch.cat([g.edges(INTERACTS).weight for g in (seen[-1].train, seen[-1].test)])
    assert weights.numel() == 240 and sorted(weights.tolist())[-2:] == [1.0, 2.0]  # one pair, two rows


def test_sep_for_other_text_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = ml_csv(tmp_path / "ratings.dat", sep=";")
    args = ["evaluate", "--data", str(f), "--user-col", "userId", "--item-col", "movieId", "--model", "mostpop", "--json"]
    code, out, err = run_cli(capsys, *args, "--sep", ";")
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["users"] == 30


def test_column_errors_say_which_option_to_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = ml_csv(tmp_path / "ratings.csv")
    code, _, err = run_cli(capsys, "evaluate", "--data", str(f), "--model", "mostpop")
    assert code == 2 and err.count("\n") == 1
    assert "missing column(s) ['user', 'item']; the file has columns ['userId', 'movieId', 'rating', 'timestamp']" in err
    assert "--user-col" in err
    code, _, err = run_cli(capsys, "evaluate", "--data", "synthetic", "--model", "mostpop", "--user-col", "u")
    assert code == 2 and "--user-col applies to an edge table" in err
    code, _, err = run_cli(capsys, "evaluate", "--data", str(f), "--user-col", "userId", "--item-col", "movieId",
                           "--weight-col", "score", "--model", "mostpop")
    assert code == 2 and "missing column(s) ['score']" in err


@pytest.mark.parametrize("where", ["before", "after"])
def test_threads_before_or_after_the_subcommand(tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str) -> None:
    f = ml_csv(tmp_path / "ratings.csv")
    before = torch.get_num_threads()
    args = ["evaluate", "--data", str(f), "--user-col", "userId", "--item-col", "movieId", "--model", "mostpop"]
    try:
        torch.set_num_threads(2)
        code, _, err = run_cli(capsys, *(["--threads", "1", *args] if where == "before" else [*args, "--threads", "1"]))
        assert code == 0, err
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_warnings_print_as_one_line_without_source(tmp_path: Path) -> None:
    f = ml_csv(tmp_path / "ratings.csv")
    code = textwrap.dedent(f"""
        import sys, warnings
        from graphrec import cli
        real = cli._fit
        def fit(model, data):
            warnings.warn("max_minutes was spent on the reg search;\\nthe refit was skipped", UserWarning)
            return real(model, data)
        cli._fit = fit
        sys.exit(cli.main(["evaluate", "--data", {str(f)!r}, "--user-col", "userId", "--item-col", "movieId",
                           "--model", "mostpop", "--json"]))
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(gr.__file__).parents[1])}
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert lines == ["graphrec: warning: max_minutes was spent on the reg search; the refit was skipped"]
    import warnings

    assert warnings.formatwarning is not cli._format_warning  # put back after main (library use is untouched)
