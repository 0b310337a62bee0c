"""Batch top-k scoring to Parquet or CSV, in chunks that survive interruption.

Chunks of users are scored on the model's device and each chunk is written to
``OUT.parts/part-NNNNNN.<ext>`` atomically (temporary file, then rename), next to a manifest
holding the run's configuration. Only when every chunk exists are they joined into ``OUT``
(again through a temporary file and a rename), and the parts folder is removed. So ``OUT``
either does not exist or is complete, and a killed run re-started with ``resume=True``
skips the finished chunks and ends with no duplicate and no missing row.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from .checks import check_bool, check_int
from .graph.edges import EdgeType
from .graph.store import INTERACTS, Graph
from .models.base import Recommender

__all__ = ["SCORE_COLUMNS", "ScoreRun", "check_score_request", "score_to_file", "start_run", "write_part"]

SCORE_COLUMNS = ("user", "rank", "item", "score")


def _format(out: Path) -> str:
    ext = out.suffix.lower()
    if ext not in (".parquet", ".csv"):
        raise ValueError(f"--out {out}: the file name must end in .parquet or .csv")
    return ext[1:]


def _user_indices(graph: Graph, etype: EdgeType, users: Any | None) -> np.ndarray:
    """Index of every user of ``graph`` (``users=None``), or of the external ``users``: unknown or repeated ids raise."""
    id_map = graph.id_map(etype[0])
    if users is None:
        return np.arange(len(id_map), dtype=np.int64)
    ids = np.asarray([users] if isinstance(users, str) else list(users))  # one id string is one user
    if not id_map.is_str and ids.dtype.kind in "UO":
        try:
            ids = ids.astype(np.int64)
        except (ValueError, TypeError, OverflowError):
            for x in ids:  # name the first id that does not convert
                try:
                    np.asarray([x]).astype(np.int64)
                except OverflowError:
                    raise ValueError(f"user id {str(x)!r} is outside int64's range, so no user has it") from None
                except (ValueError, TypeError):
                    raise ValueError(f"user ids are integers; {str(x)!r} is not one") from None
            raise
    index = id_map.to_index(ids)
    distinct, counts = np.unique(index, return_counts=True)
    if counts.size and counts.max() > 1:
        first = ids[int(np.flatnonzero(index == distinct[counts.argmax()])[0])].item()
        raise ValueError(f"user id {str(first)!r} is listed {int(counts.max())} times; list each user once")
    return index


def _chunk_table(model: Recommender, users: np.ndarray, k: int, exclude_seen: bool) -> tuple[dict[str, np.ndarray], int]:
    """The chunk's rows, and how many of its users got a list of two or more items all at one score."""
    g = model._require_graph()
    idx, val = model.recommend_indices(torch.from_numpy(users), k=k, exclude_seen=exclude_seen)
    idx, val = idx.cpu().numpy(), val.cpu().numpy()
    valid = np.isfinite(val)  # slots no item could fill (user saw nearly everything) are dropped
    rows, ranks = np.nonzero(valid)
    n_valid = valid.sum(1)
    last = val[np.arange(len(users)), np.maximum(n_valid - 1, 0)] if len(users) else val[:, 0]
    tied = int(((n_valid >= 2) & (val[:, 0] == last)).sum()) if val.shape[1] else 0  # sorted: first == last means all equal
    return {
        "user": g.id_map(model.etype[0]).to_external(users[rows]),
        "rank": (ranks + 1).astype(np.int32),
        "item": g.id_map(model.etype[2]).to_external(idx[rows, ranks]),
        "score": val[rows, ranks].astype(np.float32),
    }, tied


def _write_part(table: dict[str, np.ndarray], path: Path, fmt: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({c: table[c] for c in SCORE_COLUMNS}), tmp)
    else:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            # %.9g: every float32 score reads back exactly
            csv.writer(f).writerows(zip(table["user"].tolist(), table["rank"].tolist(), table["item"].tolist(),
                                        np.char.mod("%.9g", table["score"]).tolist()))
    tmp.replace(path)


def _join_parts(parts: list[Path], out: Path, fmt: str) -> None:
    tmp = out.with_name(out.name + ".tmp")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        writer = None
        try:
            for p in parts:
                t = pq.read_table(p)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, t.schema)
                writer.write_table(t)
        finally:
            if writer is not None:
                writer.close()
    else:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(",".join(SCORE_COLUMNS) + "\n")
            for p in parts:
                with open(p, encoding="utf-8") as src:
                    shutil.copyfileobj(src, f)
    tmp.replace(out)


def check_score_request(
    out: Path, graph: Graph, k: int = 100, users: Any | None = None, *, resume: bool = False, chunk_users: int = 4096,
    exclude_seen: bool = True, config: dict[str, Any] | None = None, etype: EdgeType = INTERACTS,
) -> None:
    """Every check :func:`score_to_file` makes before scoring, against the training ``graph``: run it
    before a long fit so that a bad ``out``, ``users`` list or leftover parts folder fails at once.
    Raises as :func:`score_to_file` does; writes nothing."""
    _plan(out, graph, etype, k=k, users=users, resume=resume, chunk_users=chunk_users, exclude_seen=exclude_seen,
          config=config)


def _plan(
    out: Path, graph: Graph, etype: EdgeType, *, k: int, users: Any | None, resume: bool, chunk_users: int,
    exclude_seen: bool, config: dict[str, Any] | None,
) -> tuple[Path, str, np.ndarray, dict[str, Any]]:
    """The checked output path, its format, the user indices and the run's manifest (with the checked arguments)."""
    out = Path(out)
    fmt = _format(out)
    k, chunk_users = check_int("k", k, 1), check_int("chunk_users", chunk_users, 1)  # plain ints for the manifest
    resume, exclude_seen = check_bool("resume", resume), check_bool("exclude_seen", exclude_seen)
    if out.is_dir():
        raise ValueError(f"--out {out} is a directory; name a .parquet or .csv file")
    user_idx = _user_indices(graph, etype, users)
    fingerprint = hashlib.sha256(np.ascontiguousarray(user_idx).tobytes()).hexdigest()
    manifest = {"config": config or {}, "k": k, "chunk_users": chunk_users, "users": fingerprint,
                "exclude_seen": exclude_seen, "format": fmt}
    parts_dir = out.with_name(out.name + ".parts")
    manifest_file = parts_dir / "manifest.json"
    if parts_dir.exists():
        if not resume:
            raise FileExistsError(f"{parts_dir} holds parts of an interrupted run: re-run with --resume, or delete it")
        try:
            old = json.loads(manifest_file.read_text())
        except (OSError, json.JSONDecodeError):
            raise ValueError(f"{manifest_file}: missing or malformed; delete {parts_dir} and start again") from None
        if old != json.loads(json.dumps(manifest)):
            raise ValueError(f"{parts_dir} was written with another configuration; delete it or repeat the same command")
    return out, fmt, user_idx, manifest


@dataclass
class ScoreRun:
    """A planned (or resumed) scoring run: its output, format and the parts still to write.

    :func:`score_to_file` writes the parts one after another; :mod:`graphrec.distributed`
    hands them to workers. Both then call :meth:`finish`.
    """

    out: Path
    fmt: str
    k: int
    exclude_seen: bool
    chunks: list[np.ndarray]  # user indices per part
    parts: list[Path]

    def todo(self) -> list[int]:
        """Indices of the parts not written yet (a resumed run skips the others)."""
        return [i for i, p in enumerate(self.parts) if not p.exists()]

    def finish(self, tied: int, model_name: str) -> int:
        """Join the parts into ``out``, remove the parts folder; returns the row count."""
        missing = self.todo()
        if missing:
            raise RuntimeError(f"{len(missing)} part(s) of {self.out} were not written (first: {self.parts[missing[0]].name})")
        if tied:
            warnings.warn(
                f"{tied} user(s) got a top-{self.k} list whose items all share one score (e.g. users without training "
                f"interactions under {model_name}): the order within those lists is arbitrary",
                RuntimeWarning, stacklevel=3,
            )
        _join_parts(self.parts, self.out, self.fmt)
        shutil.rmtree(self.parts[0].parent)
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(self.out).metadata.num_rows)
        with open(self.out, encoding="utf-8") as f:
            return sum(1 for _ in f) - 1


def start_run(
    model: Recommender, out: Path, k: int = 100, users: Any | None = None, *, resume: bool = False,
    chunk_users: int = 4096, exclude_seen: bool = True, config: dict[str, Any] | None = None,
) -> ScoreRun:
    """Check the request, create (or reopen) the parts folder and its manifest; see :func:`score_to_file`."""
    model._require_fitted()  # before the parts folder exists: nothing to resume from an unfitted model
    model.check_graph()
    out, fmt, user_idx, manifest = _plan(out, model._require_graph(), model.etype, k=k, users=users, resume=resume,
                                         chunk_users=chunk_users, exclude_seen=exclude_seen, config=config)
    k, chunk_users, exclude_seen = manifest["k"], manifest["chunk_users"], manifest["exclude_seen"]
    parts_dir = out.with_name(out.name + ".parts")
    if not parts_dir.exists():
        parts_dir.mkdir(parents=True)
        (parts_dir / "manifest.json").write_text(json.dumps(manifest))
    if out.exists():
        out.unlink()  # never leave an older complete-looking file beside new parts
    starts = range(0, max(len(user_idx), 1), chunk_users)  # no users: one empty part, typed like any other
    return ScoreRun(out, fmt, k, exclude_seen, [user_idx[s : s + chunk_users] for s in starts],
                    [parts_dir / f"part-{i:06d}.{fmt}" for i in range(len(starts))])


def write_part(model: Recommender, run: ScoreRun, i: int) -> int:
    """Score part ``i`` of ``run`` and write it atomically; returns its count of all-tied lists."""
    table, tied = _chunk_table(model, run.chunks[i], run.k, run.exclude_seen)
    _write_part(table, run.parts[i], run.fmt)
    return tied


def score_to_file(
    model: Recommender,
    out: Path,
    k: int = 100,
    users: Any | None = None,
    *,
    resume: bool = False,
    chunk_users: int = 4096,
    exclude_seen: bool = True,
    config: dict[str, Any] | None = None,
    progress: bool = False,
) -> int:
    """Write the top-``k`` items of every user (or of external ``users``) to ``out``.

    Columns ``user, rank, item, score`` (external ids, 1-based rank). Returns the row count.
    :func:`graphrec.distributed.score_to_file` does the same on a Ray cluster.

    Raises
    ------
    FileExistsError
        If parts of an interrupted run exist and ``resume`` is false.
    ValueError
        If ``resume`` finds parts written with another configuration, or ids repeat or are malformed.
    KeyError
        If ``users`` holds unknown ids.
    TypeError
        If ``resume`` or ``exclude_seen`` is not a bool.
    RuntimeError
        If ``model`` is not fitted (checked before anything is written).
    """
    run = start_run(model, out, k, users, resume=resume, chunk_users=chunk_users, exclude_seen=exclude_seen, config=config)
    todo = set(run.todo())
    tied = 0
    bar = tqdm(total=sum(len(c) for c in run.chunks), desc="score", unit="user", disable=not progress)
    for i, chunk in enumerate(run.chunks):
        if i in todo:
            tied += write_part(model, run, i)
        bar.update(len(chunk))
    bar.close()
    return run.finish(tied, type(model).__name__)
