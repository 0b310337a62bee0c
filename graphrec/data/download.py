"""Download a named dataset from its original public source into ``$GRAPHREC_DATA``.

``fetch("lastfm")`` downloads the files listed for that dataset, verifies each against the
SHA256 sum on its card (``datasets/<name>.md``; the sums are repeated here, and a test keeps
the two equal), converts where the source's layout differs from the one the loaders read
(MovieLens-100K comes as a zip; Gowalla's training file is rebuilt as its card describes), and
only then moves the finished folder into place with one rename. A checksum mismatch, a
download cut short or any other failure leaves no folder behind: the work happens in a
temporary folder beside the target, removed on the way out.

``base_url`` (or the ``GRAPHREC_DATA_URL`` environment variable) points the download at a
mirror instead of the original sources: a file is then read from
``<base_url>/<dataset folder>/<file name>``, e.g. ``<base_url>/lastfm/data1.txt``, so a copy
of a data root served over HTTP is a mirror.

As PyG's ``download_url`` and RecBole's dataset download do, but with every file checked.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .registry import _REGISTRY, DATA_ENV

__all__ = ["MIRROR_ENV", "SOURCES", "FetchError", "Source", "fetch", "fetch_source", "is_present", "source_of"]

#: environment variable naming a mirror to download from instead of the original sources
MIRROR_ENV = "GRAPHREC_DATA_URL"

_CHUNK = 1 << 16


class FetchError(RuntimeError):
    """A download that failed, was cut short or did not match its checksum (nothing was written)."""


@dataclass(frozen=True)
class Source:
    """Where a dataset's files come from and what they must hash to.

    Attributes
    ----------
    folder : str
        Sub-folder of the data root that the dataset's loader reads (``lastfm``).
    card : str
        Name of its card in the repository's ``datasets/`` folder (without ``.md``).
    downloads : dict of str to str
        ``{file name: original URL}``: what to download. The file name is also the path
        under ``<mirror>/<folder>/`` when a mirror is used.
    sha256 : dict of str to str
        ``{file name in the finished folder: SHA256 hex digest}``, as on the card.
    convert : callable, optional
        ``convert(download_dir, out_dir)`` turns the downloads into the finished files; by
        default every download is a finished file as it is.
    """

    folder: str
    card: str
    downloads: dict[str, str]
    sha256: dict[str, str]
    convert: Callable[[Path, Path], None] | None = field(default=None, compare=False)


def _ml100k_unzip(downloads: Path, out: Path) -> None:
    """GroupLens' ``ml-100k.zip``: the ``u.*`` files, and its ``README`` as ``ml-100k-README.txt``."""
    wanted = {"u.data", "u.item", "u.user", "u.genre", "u.occupation", "u.info", "README"}
    try:
        with zipfile.ZipFile(downloads / "ml-100k.zip") as zf:
            for info in zf.infolist():
                base = info.filename.rsplit("/", 1)[-1]
                if base in wanted:
                    target = out / ("ml-100k-README.txt" if base == "README" else base)
                    with zf.open(info) as src, open(target, "wb") as dst:
                        shutil.copyfileobj(src, dst)
    except zipfile.BadZipFile as err:
        raise FetchError(f"ml-100k.zip is not a valid zip file ({err})") from None


def _read_lists(path: Path) -> dict[int, set[int]]:
    """A LightGCN-style ``user item item ...`` file as ``{user: {items}}``."""
    out: dict[int, set[int]] = {}
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            parts = line.split()
            if not parts:
                continue
            try:
                ids = [int(x) for x in parts]
            except ValueError:
                raise FetchError(f"{path.name} line {lineno}: not a list of integer ids") from None
            out.setdefault(ids[0], set()).update(ids[1:])
    return out


def _gowalla_train(downloads: Path, out: Path) -> None:
    """LightGCN's Gowalla train file: all pairs of DeosciRec's split minus LightGCN's test pairs.

    ``datasets/gowalla.md`` says why: the union of DeosciRec's train/validation/test holds
    LightGCN's 1,027,370 pairs; removing LightGCN's 217,242 test pairs leaves its 810,128
    training pairs, written one line per user (users and items ascending).
    """
    union: dict[int, set[int]] = {}
    for part in ("deoscirec-train.txt", "deoscirec-validation.txt", "deoscirec-test.txt"):
        for user, items in _read_lists(downloads / part).items():
            union.setdefault(user, set()).update(items)
    test = _read_lists(downloads / "test.txt")
    with open(out / "train.txt", "w", encoding="utf-8", newline="\n") as fh:
        for user in sorted(union):
            items = sorted(union[user] - test.get(user, set()))
            if items:
                fh.write(f"{user} {' '.join(map(str, items))}\n")
    for name in ("test.txt", "user_list.txt", "item_list.txt"):
        shutil.copyfile(downloads / name, out / name)


_GH = "https://raw.githubusercontent.com"
_LIGHTGCN_PT = f"{_GH}/gusye1234/LightGCN-PyTorch/master/data/lastfm"
_LIGHTGCN = f"{_GH}/kuandeng/LightGCN/master/Data/gowalla"
_DEOSCIREC = f"{_GH}/JimLiu96/DeosciRec/master/Data/gowalla"
_STRUC2VEC = f"{_GH}/leoribeiro/struc2vec/master/graph"

#: every dataset that :func:`fetch` can download, by folder name
SOURCES: dict[str, Source] = {
    "lastfm": Source(
        "lastfm", "lastfm",
        {n: f"{_LIGHTGCN_PT}/{n}" for n in ("data1.txt", "test1.txt", "trustnetwork.txt", "all_data.csv")},
        {
            "data1.txt": "c82af3228cbbda2f55a39244de09ed93292894f1d0d9f1908ebb57e27598fded",
            "test1.txt": "de4417c0e6123284ce59a0934bcf5288ec1ec8774a18a1eef453c9952dfa48f9",
            "trustnetwork.txt": "5b5bd7cbe4d22f3cd333dbfc7ec4b995cb2bdb28d95b0e9c5fc5607079f7b69e",
            "all_data.csv": "6815d35cf1dc2a0534618fff131618d55c86ee6b2d0c56f2dc517b1608ef3ec1",
        },
    ),
    "ml-100k": Source(
        "ml-100k", "ml-100k",
        {"ml-100k.zip": "https://files.grouplens.org/datasets/movielens/ml-100k.zip"},
        {
            "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
            "u.item": "6dd287831559152bea892eb27694a492ff14926ac5f7a16e5f8c4968e6fe13c3",
            "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
            "u.genre": "9757e0d3e6b298159a80dd48eaf938114690e911e39af97a76949ef1663610bb",
            "u.occupation": "cd5fbec9afe345d993a62fc7817df1a4a9079c4feb267b3118763b8fd942137d",
            "u.info": "5b0a40b2e47a729ee6203063f6dcf8790c2e63f5a18663e6ee318a72c5f3c27b",
            "ml-100k-README.txt": "b2f69dd0cab50c2b976da7c6113f267169cf0b35ade48de35fe75ed1b81c0f28",
        },
        _ml100k_unzip,
    ),
    "gowalla": Source(
        "gowalla", "gowalla",
        {
            **{n: f"{_LIGHTGCN}/{n}" for n in ("test.txt", "user_list.txt", "item_list.txt")},
            **{f"deoscirec-{n}": f"{_DEOSCIREC}/{n}" for n in ("train.txt", "validation.txt", "test.txt")},
        },
        {
            "train.txt": "0f086326b28a56c2e6dcb81d86ee72d4ccb7eed3a8d26788392356d8f51111cc",
            "test.txt": "099a2a73924e4b754dc6efd730d764f492321b53c38eb93298850c83acf57be3",
            "user_list.txt": "5344c4d0deef610e1f148f23ad216a0db03b36f88834cd39a06786a672c5f5a1",
            "item_list.txt": "6b186f92890cc3f0c15a6dae5d6285f125a302bb8c5ea0cd9a16cf9c16347139",
        },
        _gowalla_train,
    ),
    "blogcatalog": Source(
        "blogcatalog", "blogcatalog",
        {"blogcatalog.mat": f"{_GH}/GTmac/FastRP/master/example_graphs/blogcatalog.mat"},
        {"blogcatalog.mat": "d4f4fb89ce1ccd4b7e2a183386c000773cc9362cc61f1be5b246a6d9c259da8f"},
    ),
    "airports": Source(
        "airports", "airports",
        {n: f"{_STRUC2VEC}/{n}" for n in ("usa-airports.edgelist", "labels-usa-airports.txt",
                                           "brazil-airports.edgelist", "labels-brazil-airports.txt")},
        {
            "usa-airports.edgelist": "c73fec3eef27ed6d6ef4d8dfa7fd1604b959601a38d399eeaa1f87e8d8d58fc0",
            "labels-usa-airports.txt": "d4062ff3b3a67c3ae72b581bb68228433223e35d6f0b2d41844d197ad3772195",
            "brazil-airports.edgelist": "896b7bd460ad2da9160888d99bc9099ffe8ed7de3e410833889ea393831bcaa7",
            "labels-brazil-airports.txt": "8f9d19f10192fbaeb91dfb46dd7eae0fef28bfe1272d41ab96a4494a0d06785f",
        },
    ),
}


def source_of(name: str) -> Source:
    """The :class:`Source` that provides dataset ``name`` (``airports-usa`` -> the ``airports`` folder).

    Raises
    ------
    ValueError
        For a name that is not a downloadable dataset (the message lists those that are).
    """
    entry = _REGISTRY.get(name)
    folder = entry.folder if entry is not None else name
    if folder not in SOURCES or (entry is not None and entry.marker not in SOURCES[folder].sha256):
        known = ", ".join(sorted(n for n, e in _REGISTRY.items()
                                 if e.folder in SOURCES and e.marker in SOURCES[e.folder].sha256))
        raise ValueError(f"no download for dataset {name!r}; downloadable: {known}")
    return SOURCES[folder]


def is_present(source: Source, root: str | os.PathLike[str]) -> bool:
    """Whether ``root/<folder>`` holds every file of ``source`` (sizes and sums not checked)."""
    folder = Path(root) / source.folder
    return all((folder / f).is_file() for f in source.sha256)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _download(url: str, target: Path, timeout: float) -> None:
    """``url`` to ``target``; a body shorter than its Content-Length raises :class:`FetchError`."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, open(target, "wb") as out:
            expected = resp.headers.get("Content-Length")
            got = 0
            while True:
                try:
                    chunk = resp.read(_CHUNK)
                except (http.client.HTTPException, OSError) as err:  # IncompleteRead, a reset connection, a timeout
                    raise FetchError(f"download of {url} cut short after {got} bytes ({type(err).__name__})") from None
                if not chunk:
                    break
                out.write(chunk)
                got += len(chunk)
    except urllib.error.HTTPError as err:
        raise FetchError(f"download of {url} failed: HTTP {err.code} {err.reason}") from None
    except urllib.error.URLError as err:
        raise FetchError(f"download of {url} failed: {err.reason}") from None
    except OSError as err:
        if isinstance(err, FetchError):
            raise
        raise FetchError(f"download of {url} failed: {err}") from None
    if expected is not None and expected.isdigit() and got != int(expected):
        raise FetchError(f"download of {url} cut short: {got} of {expected} bytes")


def _root(root: str | os.PathLike[str] | None) -> Path:
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(DATA_ENV)
    if not env:
        raise ValueError(f"no data root: set ${DATA_ENV} to the folder that holds the datasets, or give a root")
    return Path(env).expanduser()


def fetch_source(source: Source, root: str | os.PathLike[str], *, base_url: str | None = None,
                 force: bool = False, timeout: float = 60.0, progress: Callable[[str], None] | None = None) -> Path:
    """Download, verify, convert and move ``source`` into ``root/<folder>``; the folder.

    Parameters
    ----------
    source : Source
    root : str or PathLike
        The data root (created if missing).
    base_url : str, optional
        A mirror: files are read from ``<base_url>/<folder>/<file name>``.
    force : bool
        Replace a folder that is already there (only once the new one is complete).
    timeout : float
        Seconds a connection may stay silent.
    progress : callable, optional
        Called with one line per file.

    Raises
    ------
    FetchError
        A failed or cut download, or a file whose SHA256 differs from the card's; nothing
        was written under ``root``.
    FileExistsError
        ``root/<folder>`` exists but does not hold the dataset, and ``force`` is false.
    """
    root = Path(root).expanduser()
    final = root / source.folder
    if is_present(source, root) and not force:
        return final
    if final.exists() and not force:
        raise FileExistsError(f"{final} exists but lacks some of {', '.join(source.sha256)}; "
                              "remove it or fetch with force")
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{source.folder}.fetch-", dir=root))
    try:
        downloads, out = work / "downloads", work / source.folder
        downloads.mkdir()
        out.mkdir()
        for name, url in source.downloads.items():
            if base_url:
                url = f"{base_url.rstrip('/')}/{source.folder}/{name}"
            if progress is not None:
                progress(f"downloading {url}")
            _download(url, downloads / name, timeout)
        if source.convert is not None:
            source.convert(downloads, out)
        else:
            for name in source.downloads:
                os.replace(downloads / name, out / name)
        for name, want in source.sha256.items():
            path = out / name
            if not path.is_file():
                raise FetchError(f"{source.folder}/{name} is missing from the download")
            got = _sha256(path)
            if got != want:
                raise FetchError(f"{source.folder}/{name}: SHA256 {got[:12]}… differs from the card's {want[:12]}… "
                                 f"(datasets/{source.card}.md); nothing was written")
        for extra in set(os.listdir(out)) - set(source.sha256):  # only checked files reach the data root
            os.remove(out / extra)
        if final.exists():  # force: swap the complete new folder in, then drop the old one
            old = work / "replaced"
            os.replace(final, old)
        os.replace(out, final)
        return final
    finally:
        shutil.rmtree(work, ignore_errors=True)


def fetch(name: str, root: str | os.PathLike[str] | None = None, *, base_url: str | None = None,
          force: bool = False, timeout: float = 60.0, progress: Callable[[str], None] | None = None) -> Path:
    """Download the named dataset into ``root`` (default ``$GRAPHREC_DATA``) and verify it.

    Parameters
    ----------
    name : str
        A dataset name (``lastfm``, ``ml-100k``, ``gowalla``, ``blogcatalog``,
        ``airports-usa``/``airports-brazil`` -- both come in the ``airports`` folder).
    root : str or PathLike, optional
        The data root; default ``$GRAPHREC_DATA``.
    base_url : str, optional
        A mirror to read from instead of the original sources (default ``$GRAPHREC_DATA_URL``).
    force : bool
        Download again even when the files are there.
    timeout : float
        Seconds a connection may stay silent.
    progress : callable, optional
        Called with one line per downloaded file.

    Returns
    -------
    Path
        The dataset's folder, e.g. ``$GRAPHREC_DATA/lastfm``.

    Raises
    ------
    ValueError
        An unknown name, or no root (``$GRAPHREC_DATA`` unset and no ``root``).
    FetchError
        A failed download or a checksum mismatch: nothing was written.

    Examples
    --------
    >>> import graphrec as gr
    >>> gr.datasets.fetch("lastfm")  # doctest: +SKIP
    PosixPath('/data/graphrec/lastfm')
    """
    source = source_of(name)
    base = base_url if base_url is not None else os.environ.get(MIRROR_ENV) or None
    return fetch_source(source, _root(root), base_url=base, force=force, timeout=timeout, progress=progress)
