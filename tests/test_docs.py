"""The documentation site builds with warnings as errors, and its API reference misses no layer."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import graphrec

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _need_sphinx() -> None:
    try:
        import furo  # noqa: F401
        import myst_nb  # noqa: F401
        import sphinx  # noqa: F401
        import sphinxarg  # noqa: F401
    except ImportError as err:
        if os.environ.get("CI"):  # CI installs the docs extra (scripts/test.sh): never a silent skip there
            raise
        pytest.skip(f"the docs build needs the docs extra (pip install -e '.[docs]'): {err}")


def test_the_site_builds_without_a_warning(tmp_path: Path) -> None:
    _need_sphinx()
    out = tmp_path / "html"
    # -E: read every page afresh; -W: any warning (a docstring that does not parse, a broken
    # reference, a page outside every toctree) fails the build. The README names scripts/docs.sh,
    # which runs the same command.
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html",
           "-d", str(tmp_path / "doctrees"), str(DOCS), str(out)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    # the pages generated from the code are there: the command reference, models, API, tutorials
    cli = (out / "cli.html").read_text(encoding="utf-8")
    assert "--base-url" in cli and "rlmrec-con" in cli  # argparse options and the models' tables
    api = (out / "api" / "_generated" / "graphrec.html").read_text(encoding="utf-8")
    for name in graphrec.__all__:
        assert f"gr.{name}" in api, name
    assert 'class="graphrec-params' in cli  # the models' parameters as tables
    for page in out.rglob("*.html"):  # no directive left unparsed as text (an RST directive in a MyST page)
        text = page.read_text(encoding="utf-8")
        for directive in (".. list-table::", ".. rubric::", ".. argparse::", ".. auto", "{graphrec-models}"):
            assert directive not in text, f"{page.relative_to(out)}: {directive} shown as text"
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        page = (out / "tutorials" / f"{nb.stem}.html").read_text(encoding="utf-8")
        assert "<img" in page, f"{nb.name}: no figure on its page"


def test_every_layer_package_is_in_the_api_reference() -> None:
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        gd = importlib.import_module("graphrec_docs")
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    listed = {m for _, _, _, modules in gd.API_PAGES for m in modules}
    for info in pkgutil.iter_modules(graphrec.__path__):
        mod = importlib.import_module(f"graphrec.{info.name}")
        if getattr(mod, "__all__", None):  # a layer with a public surface
            assert mod.__name__ in listed, f"{mod.__name__}: add it to API_PAGES in docs/_ext/graphrec_docs.py"


def test_the_readme_names_the_build_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "bash scripts/docs.sh" in readme
    script = (ROOT / "scripts" / "docs.sh").read_text(encoding="utf-8")
    assert "-W" in script and "docs docs/_build/html" in script
