"""``graphrec datasets fetch``: downloads from a local HTTP server, SHA256 checks, atomic folders."""

from __future__ import annotations

import hashlib
import http.server
import re
import shutil
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from graphrec.cli import main
from graphrec.data import download
from graphrec.data.download import SOURCES, FetchError, Source, fetch, fetch_source
from tests.conftest import need_dataset

CARDS = Path(__file__).resolve().parents[2] / "datasets"


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the server's folder; a path listed in ``cut`` sends half its body under the full Content-Length."""

    cut: ClassVar[set[str]] = set()

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        if self.path.lstrip("/") in self.cut:
            body = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[tuple[str, Path, set[str]]]:
    """An HTTP server on 127.0.0.1 serving ``tmp_path/mirror``: (base URL, folder, paths to cut short)."""
    root = tmp_path / "mirror"
    root.mkdir()
    cut: ClassVar[set[str]] = set()
    handler = type("Handler", (_Handler,), {"cut": cut})

    def make(*args: object, **kwargs: object) -> _Handler:
        return handler(*args, directory=str(root), **kwargs)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root, cut
    finally:
        httpd.shutdown()
        httpd.server_close()


def card_sums(card: str) -> dict[str, str]:
    """``{file name: sha256}`` from the checksum block of ``datasets/<card>.md``."""
    text = (CARDS / f"{card}.md").read_text(encoding="utf-8")
    return {m.group(2): m.group(1) for m in re.finditer(r"^([0-9a-f]{64})\s+[\w.-]+/([\w.-]+)", text, flags=re.MULTILINE)}


@pytest.mark.parametrize("folder", sorted(SOURCES))
def test_sums_are_the_cards(folder: str) -> None:
    source = SOURCES[folder]
    assert source.sha256 == card_sums(source.card)


def test_fetch_lastfm_from_a_mirror(server: tuple[str, Path, set[str]], data_root: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    url, mirror, _ = server
    shutil.copytree(need_dataset(data_root, "lastfm"), mirror / "lastfm")
    target = tmp_path / "data"
    code = main(["datasets", "fetch", "lastfm", "--root", str(target), "--base-url", url])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.strip() == f"lastfm: {target / 'lastfm'}"
    got = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (target / "lastfm").iterdir()}
    assert got == card_sums("lastfm")  # exactly the card's files, each with its sum
    assert sorted(p.name for p in target.iterdir()) == ["lastfm"]  # no temporary folder left
    import graphrec as gr

    assert gr.datasets.load("lastfm", root=target).summary()["trust"] == 25434
    code = main(["datasets", "--root", str(target)])
    assert code == 0 and re.search(r"lastfm\s+present", capsys.readouterr().out)


def test_corrupted_download_is_refused_and_leaves_nothing(server: tuple[str, Path, set[str]], data_root: Path,
                                                          tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url, mirror, _ = server
    shutil.copytree(need_dataset(data_root, "lastfm"), mirror / "lastfm")
    raw = bytearray((mirror / "lastfm" / "test1.txt").read_bytes())
    raw[100] ^= 1  # one flipped bit
    (mirror / "lastfm" / "test1.txt").write_bytes(bytes(raw))
    target = tmp_path / "data"
    code = main(["datasets", "fetch", "lastfm", "--root", str(target), "--base-url", url])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    errors = [line for line in err.splitlines() if not line.startswith("downloading ")]
    assert len(errors) == 1  # one line, after the progress lines
    assert errors[0].startswith("graphrec: error: lastfm/test1.txt: SHA256") and "datasets/lastfm.md" in errors[0]
    assert list(target.iterdir()) == []  # neither the dataset nor a temporary folder


def tiny_source(tmp: Path, files: dict[str, bytes]) -> Source:
    return Source("tiny", "tiny", {n: f"http://127.0.0.1:9/never/{n}" for n in files},
                  {n: hashlib.sha256(b).hexdigest() for n, b in files.items()})


def test_cut_download_leaves_nothing_and_an_old_copy_survives(server: tuple[str, Path, set[str]], tmp_path: Path) -> None:
    url, mirror, cut = server
    files = {"a.txt": b"0 1 2\n" * 5000, "b.txt": b"x\n"}
    (mirror / "tiny").mkdir()
    for n, b in files.items():
        (mirror / "tiny" / n).write_bytes(b)
    source = tiny_source(tmp_path, files)
    root = tmp_path / "data"
    assert fetch_source(source, root, base_url=url) == root / "tiny"
    assert (root / "tiny" / "a.txt").read_bytes() == files["a.txt"]
    cut.add("tiny/a.txt")
    with pytest.raises(FetchError, match="cut short"):
        fetch_source(source, root, base_url=url, force=True)
    # the complete copy from before is untouched and nothing else was left
    assert sorted(p.name for p in root.iterdir()) == ["tiny"]
    assert (root / "tiny" / "a.txt").read_bytes() == files["a.txt"]
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch_source(tiny_source(tmp_path, {"missing.txt": b""}), tmp_path / "other", base_url=url)
    assert list((tmp_path / "other").iterdir()) == []


def test_present_data_is_not_downloaded_again(tmp_path: Path) -> None:
    files = {"a.txt": b"a\n"}
    source = tiny_source(tmp_path, files)
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "a.txt").write_bytes(b"a\n")
    # the URLs point at a closed port: any download attempt would fail
    assert fetch_source(source, tmp_path) == tmp_path / "tiny"
    (tmp_path / "tiny" / "a.txt").unlink()
    (tmp_path / "tiny" / "other").write_text("")
    with pytest.raises(FileExistsError, match="lacks some of a.txt"):
        fetch_source(source, tmp_path)


def test_ml100k_comes_out_of_grouplens_zip(server: tuple[str, Path, set[str]], data_root: Path, tmp_path: Path) -> None:
    url, mirror, _ = server
    src = need_dataset(data_root, "ml-100k")
    (mirror / "ml-100k").mkdir()
    with zipfile.ZipFile(mirror / "ml-100k" / "ml-100k.zip", "w") as zf:  # GroupLens' layout: ml-100k/README, u.*
        for f in sorted(src.iterdir()):
            zf.write(f, "ml-100k/" + ("README" if f.name == "ml-100k-README.txt" else f.name))
        zf.writestr("ml-100k/u1.base", "not kept\n")
    out = fetch("ml-100k", tmp_path / "data", base_url=url)
    assert sorted(p.name for p in out.iterdir()) == sorted(card_sums("ml-100k"))


def test_gowalla_train_is_the_union_minus_test(tmp_path: Path) -> None:
    d, out = tmp_path / "d", tmp_path / "o"
    d.mkdir(), out.mkdir()
    (d / "deoscirec-train.txt").write_text("0 3 1\n1 2\n")
    (d / "deoscirec-validation.txt").write_text("0 5\n2 4\n")
    (d / "deoscirec-test.txt").write_text("1 0 7\n0 2\n")
    (d / "test.txt").write_text("0 5\n1 7\n2 4\n")
    for n in ("user_list.txt", "item_list.txt"):
        (d / n).write_text("org_id remap_id\n")
    download._gowalla_train(d, out)
    # user 2 has nothing left for training and gets no line, as in LightGCN's files
    assert (out / "train.txt").read_text() == "0 1 2 3\n1 0 2\n"
    assert (out / "test.txt").read_text() == "0 5\n1 7\n2 4\n"


def test_unknown_names_and_no_root(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="downloadable: airports-brazil, airports-usa, blogcatalog, gowalla"):
        fetch("airports-europe", "/nonexistent")
    monkeypatch.delenv("GRAPHREC_DATA", raising=False)
    assert main(["datasets", "fetch", "lastfm"]) == 2
    assert "no data root: set $GRAPHREC_DATA" in capsys.readouterr().err
