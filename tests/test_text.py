"""Text: the IMDB loader (on small archives the tests make), token ids, bag of words, networks on text."""

from __future__ import annotations

import hashlib
import io
import pickle
import tarfile

import numpy as np
import pytest

from bench.datasets import DATASETS, DataError, load
from bench.datasets import cache as dc
from bench.datasets import text as tx
from bench.features import FEATURES, text_features

REVIEWS = {
    "train/pos/0_9.txt": "A great film.<br />Great acting, great story!",
    "train/pos/1_8.txt": "Loved it: great fun",
    "train/neg/0_1.txt": "Awful. Boring and awful.",
    "train/neg/1_2.txt": "boring boring film",
    "test/pos/0_10.txt": "great great marvellous",
    "test/neg/0_3.txt": "awful film, unwatchable",
    "train/unsup/0_0.txt": "not labelled: never read",
}


def _archive(path, reviews=REVIEWS) -> str:
    """An aclImdb-layout .tar.gz at `path`; returns its SHA-256."""
    with tarfile.open(path, "w:gz") as tar:
        for name, text in reviews.items():
            body = text.encode()
            info = tarfile.TarInfo(f"aclImdb/{name}")
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def imdb_env(tmp_path, monkeypatch):
    """An empty cache, a small archive standing in for the published one, and no network."""
    monkeypatch.setenv(dc.DATA_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(dc.OFFLINE_ENV, raising=False)
    archive = tmp_path / "served" / tx.IMDB_ARCHIVE
    archive.parent.mkdir()
    monkeypatch.setattr(tx, "IMDB_SHA256", _archive(archive))
    monkeypatch.setattr(tx, "IMDB_URL", archive.as_uri())  # urllib serves file:// with a Content-Length
    monkeypatch.setattr(tx, "IMDB_N_TRAIN", 4)
    monkeypatch.setattr(tx, "IMDB_N_TEST", 2)
    return archive


def test_tokens_vocabulary_and_ids():
    assert tx.tokenize("A GREAT film.<br />Isn't it?") == ["a", "great", "film", "isn't", "it"]
    docs = [["great", "film"], ["great", "great", "boring"], ["film"]]
    vocab = tx.vocabulary(docs, size=4)  # 2 words: those in the most documents, ties by word
    assert vocab == {"film": 2, "great": 3}
    ids = tx.encode([["great", "boring", "film"], ["film"] * 5], vocab, max_len=4)
    assert ids.dtype == np.float32 and ids.tolist() == [[tx.PAD, 3, tx.OOV, 2], [2, 2, 2, 2]]  # padded in front
    with pytest.raises(ValueError, match="vocab_size must exceed 2"):
        tx.vocabulary(docs, size=2)


def test_imdb_downloads_once_verified_and_keeps_the_official_split(imdb_env, monkeypatch):
    data = load("imdb", {"vocab_size": 6, "max_len": 5})
    folder = dc.data_dir() / "imdb"
    assert (folder / tx.IMDB_ARCHIVE).is_file() and dc.read_manifest(folder)["files"][tx.IMDB_ARCHIVE]
    assert data.X.shape == (6, 5) and data.sample_shape == (5,) and data.n_test == 2
    assert data.y.tolist() == [0, 0, 1, 1, 0, 1]  # training part (negative, positive), then the test part
    # The vocabulary comes from the training reviews only: "marvellous" (test only) is out of it.
    test_pos = data.X[-1]
    assert test_pos.tolist()[:2] == [tx.PAD, tx.PAD] and test_pos[2] == test_pos[3] != tx.OOV and test_pos[4] == tx.OOV
    # A second load reads the cache: no download.
    monkeypatch.setattr(dc, "download", lambda *a, **k: pytest.fail("downloaded although cached"))
    assert load("imdb", {"vocab_size": 6, "max_len": 5}).n_samples == 6
    assert any("imdb" in line for line in dc.cached_lines())


def test_a_download_with_the_wrong_checksum_is_never_cached(imdb_env, monkeypatch):
    monkeypatch.setattr(tx, "IMDB_SHA256", "0" * 64)
    with pytest.raises(dc.FetchError, match="checksum mismatch"):
        dc.SOURCES["imdb"].fetch({}, False)
    assert not (dc.data_dir() / "imdb" / tx.IMDB_ARCHIVE).exists()


def test_a_corrupted_cached_archive_is_reported_not_used(imdb_env):
    dc.SOURCES["imdb"].fetch({}, False)
    cached = dc.data_dir() / "imdb" / tx.IMDB_ARCHIVE
    cached.write_bytes(cached.read_bytes()[:40])  # truncated after caching
    with pytest.raises(DataError, match="does not match its recorded checksum"):
        load("imdb", {})


def test_import_from_a_local_copy_checks_it_first(imdb_env, tmp_path, monkeypatch):
    other = tmp_path / "other.tar.gz"
    _archive(other, {**REVIEWS, "test/neg/1_1.txt": "a different archive"})
    with pytest.raises(dc.FetchError, match="is not that of the published"):
        dc.SOURCES["imdb"].import_from({}, other)
    assert "imported" in dc.SOURCES["imdb"].import_from({}, imdb_env.parent)  # the folder holding it
    monkeypatch.setenv(dc.OFFLINE_ENV, "1")
    assert load("imdb", {"max_len": 3}).X.shape == (6, 3)


def test_offline_without_a_cache_names_the_fetch_command(imdb_env, monkeypatch):
    monkeypatch.setenv(dc.OFFLINE_ENV, "1")
    entry = DATASETS["imdb"]
    with pytest.raises(DataError, match=r"python -m bench fetch imdb") as err:
        entry.check({**entry.defaults})
    assert str(dc.data_dir() / "imdb") in str(err.value)


def test_an_archive_without_reviews_is_refused(imdb_env, tmp_path, monkeypatch):
    empty = tmp_path / "empty.tar.gz"
    monkeypatch.setattr(tx, "IMDB_SHA256", _archive(empty, {"README": "no reviews"}))
    dc.SOURCES["imdb"].import_from({}, empty)
    with pytest.raises(DataError, match="holds no train/pos or train/neg reviews"):
        load("imdb", {})


def test_text_parameters_are_checked():
    with pytest.raises(DataError, match="max_len must be an integer of at least 3"):
        DATASETS["synthetic_text"].check({"max_len": 1})


def test_bag_of_words_counts_vocabulary_words_only():
    ids = np.array([[2, 2, 3, 1, 0, 0], [5, 0, 0, 0, 0, 0]], np.float32)
    bow = text_features(ids, n_words=3)
    assert bow.shape == (2, 3) and bow.dtype == np.float32
    np.testing.assert_allclose(bow, np.log1p([[2, 1, 0], [0, 0, 0]]))  # id 5 is past the 3 words counted
    assert "text" in FEATURES["engineered"].modalities


def test_synthetic_text_is_learnable_and_reproducible():
    a, b = load("synthetic_text", {"n_samples": 300}), load("synthetic_text", {"n_samples": 300})
    np.testing.assert_array_equal(a.X, b.X)
    assert a.sample_shape == (48,) and 0.3 < a.y.mean() < 0.7
    assert a.X.min() == 0 and a.X.max() < 400 and np.array_equal(a.X, np.round(a.X))


@pytest.mark.parametrize("kind", ["MLPClassifier", "CNNClassifier", "RNNClassifier"])
def test_networks_embed_token_ids_and_map_unseen_ids_to_oov(kind):
    from bench.models import deep_estimators

    data = load("synthetic_text", {"n_samples": 200})
    X, y = data.X, data.y
    est = getattr(deep_estimators, kind)(modality="text", sample_shape=(48,), n_epochs=2, random_state=0)
    est.fit(X[:150], y[:150])
    assert est.n_tokens_ == int(X[:150].max()) + 1
    unseen = X[150:].copy()
    unseen[:, 0] = 10_000  # an id no training row holds: out of vocabulary, not an index error
    assert est.predict(unseen).shape == (50,)
    assert est.embed(X[:3]).shape[0] == 3
    again = pickle.loads(pickle.dumps(est))  # the harness measures a model's size by pickling it
    np.testing.assert_array_equal(again.predict(X[150:]), est.predict(X[150:]))
    with pytest.raises(ValueError, match="takes token ids"):
        getattr(deep_estimators, kind)(modality="text", n_epochs=1).fit(X[:50] + 0.5, y[:50])


def test_a_text_suite_runs_every_family_on_raw_and_engineered_features(write_suite, tmp_path):
    from bench.execution.runner import run
    from bench.suite import load as load_suite

    path = write_suite("""
        [suite]
        name = "text"
        seeds = [0]
        train_sizes = [300]
        features = ["raw", "engineered"]
        time_limit_s = 120
        [datasets.synthetic_text]
        n_samples = 500
        [models.logistic_regression]
        [models.mlp]
        n_epochs = 3
        [models.rnn]
        n_epochs = 2
    """)
    summary = run(load_suite(path), tmp_path / "out", progress=False)
    df = summary.table
    assert set(df["status"]) == {"ok"}, df[["model", "features", "status", "info"]]
    assert set(zip(df["model"], df["features"], strict=True)) == {
        ("logistic_regression", "raw"), ("logistic_regression", "engineered"), ("mlp", "raw"), ("rnn", "raw"),
    }
    assert (df["modality"] == "text").all() and df["score"].between(0, 1).all()
