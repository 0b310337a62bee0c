"""Shared fixtures: GPU skipping, real-data location, tiny graphs, the scripts as modules."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest
import torch


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device (none available)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """Tests run single-threaded: their tiny kernels spend longer handing work to OpenMP
    threads than computing, badly so on a shared 2-core machine. Restored afterwards."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="session")
def data_root() -> Path:
    """``$GRAPHREC_DATA``; tests needing real data skip when it is unset or missing."""
    root = os.environ.get("GRAPHREC_DATA")
    if not root or not Path(root).is_dir():
        pytest.skip(f"real datasets not available: set GRAPHREC_DATA to the datasets folder (got {root!r})")
    return Path(root)


def need_dataset(root: Path, name: str) -> Path:
    """Path of dataset ``name`` under ``root`` or skip with the reason."""
    path = root / name
    if not path.exists():
        pytest.skip(f"dataset {name!r} not found at {path}")
    return path


SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def load_script(name: str) -> ModuleType:
    """``scripts/<name>.py`` imported as a module (the scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module
