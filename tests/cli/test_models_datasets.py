"""``graphrec models`` (read from the signatures create() validates) and ``graphrec datasets``."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest

from graphrec.cli import main
from graphrec.models.registry import REGISTRY, available, create, describe, register


def test_models_lists_every_model_with_every_accepted_param(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in available():
        assert re.search(rf"^{re.escape(name)}: \S", out, flags=re.MULTILINE), name
    assert re.search(r"^    alpha=0\.15\s+Restart probability c\.$", out, flags=re.MULTILINE)  # ppr, RST markup stripped
    assert re.search(r"^    neighbors=200\s+Similar items kept per item", out, flags=re.MULTILINE)
    assert main(["models", "--json"]) == 0
    listed = {m["model"]: m for m in json.loads(capsys.readouterr().out)}
    assert sorted(listed) == available()
    for name, m in listed.items():
        assert m["summary"] and all(p["doc"] for p in m["params"]), name  # every parameter has its line
        sig = inspect.signature(REGISTRY[name])
        for p in m["params"]:  # the listed default is the signature's
            assert p["default"] == sig.parameters[p["name"]].default or isinstance(sig.parameters[p["name"]].default, tuple)


def test_listed_params_are_exactly_what_create_accepts() -> None:
    for name in available():
        _, params = describe(name)
        create(name, **{p.name: p.default for p in params if p.default is not inspect.Parameter.empty})
        with pytest.raises(ValueError, match="accepted: " + re.escape(", ".join(sorted(p.name for p in params)))):
            create(name, not_a_param=1)


def test_a_newly_registered_model_is_described(capsys: pytest.CaptureFixture[str]) -> None:
    from graphrec.models.baselines import MostPop

    class Tiny(MostPop):
        """A test model.

        Parameters
        ----------
        width, depth : int
            Sizes of the test
            model.
        """

        def __init__(self, graph=None, *, width: int = 3, depth: int = 1) -> None:
            super().__init__(graph)

    register("tiny-test-model", Tiny)
    try:
        assert main(["models", "tiny-test-model"]) == 0
        out = capsys.readouterr().out
        assert out.splitlines()[:3] == ["tiny-test-model: A test model.",
                                        "    width=3  Sizes of the test model.",
                                        "    depth=1  Sizes of the test model."]
    finally:
        del REGISTRY["tiny-test-model"]
    assert main(["models", "nope"]) == 2
    assert capsys.readouterr().err.startswith("graphrec: error: unknown model 'nope'")


def test_datasets_lists_presence_under_the_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "lastfm").mkdir()
    (tmp_path / "lastfm" / "data1.txt").write_text("")
    monkeypatch.setenv("GRAPHREC_DATA", str(tmp_path))
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"named datasets (under {tmp_path}):"
    assert re.search(r"^  lastfm\s+present\s+datasets/lastfm\.md$", out, flags=re.MULTILINE)
    assert re.search(r"^  gowalla\s+missing: graphrec datasets fetch gowalla\s+datasets/gowalla\.md$", out, flags=re.MULTILINE)
    assert re.search(r"^  airports-europe\s+missing \(no download\)", out, flags=re.MULTILINE)
    assert re.search(r"^  synthetic\s+generated", out, flags=re.MULTILINE)
    monkeypatch.delenv("GRAPHREC_DATA")
    assert main(["datasets", "list"]) == 0
    assert "$GRAPHREC_DATA is not set" in capsys.readouterr().out
