"""Training checkpoints: model, optimiser, epoch, RNG state and early-stopping state in one file.

A checkpoint is written atomically (temporary file, then rename) so that an interrupted write
never leaves a corrupt file; :func:`load_checkpoint` refuses one written for a different
model/data configuration, naming the first field that differs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

__all__ = ["CHECKPOINT_NAME", "load_checkpoint", "save_checkpoint"]

CHECKPOINT_NAME = "checkpoint.pt"


def _as_directory(directory: str | Path) -> Path:
    path = Path(directory)
    if path.exists() and not path.is_dir():
        raise ValueError(f"checkpoint_dir {path} is a file, not a directory")
    return path


def save_checkpoint(directory: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` to ``directory/checkpoint.pt`` atomically; returns the path."""
    directory = _as_directory(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CHECKPOINT_NAME
    tmp = path.with_suffix(".pt.tmp")
    torch.save(state, tmp)
    tmp.replace(path)
    return path


def load_checkpoint(directory: str | Path, fingerprint: dict[str, Any], map_location: Any = "cpu") -> dict[str, Any] | None:
    """The checkpoint in ``directory``, or ``None`` when there is none.

    Parameters
    ----------
    fingerprint : dict
        Configuration the checkpoint must have been written with (model class, sizes, seed,
        ...). A mismatch raises ``ValueError`` naming the field.
    """
    path = _as_directory(directory) / CHECKPOINT_NAME
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # truncated, foreign or corrupt files fail in many ways inside torch
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"checkpoint {path} cannot be read ({first[:160]}); delete it or use another checkpoint_dir") from err
    if not isinstance(state, dict) or not isinstance(state.get("fingerprint"), dict):
        raise ValueError(f"checkpoint {path} is not a graphrec training checkpoint; delete it or use another checkpoint_dir")  # noqa: TRY004  (bad file content, not a bad argument)
    saved = state.get("fingerprint", {})
    for key, value in fingerprint.items():
        if saved.get(key) != value:
            raise ValueError(
                f"checkpoint {path} was written with {key}={saved.get(key)!r}, but this run has {key}={value!r}; "
                "use another checkpoint_dir or delete the checkpoint"
            )
    return state
