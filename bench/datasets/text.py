"""Text datasets: IMDB movie-review sentiment (Maas et al. 2011) and a generated stand-in.

A text dataset's X holds token ids, one document per row, `max_len` columns: a document's
last `max_len` words, padded with id 0 at the front (a recurrent network then ends on
words, not on padding: Keras's `pad_sequences` convention); 1 stands for a word outside
the vocabulary, 2, 3, ... are the vocabulary's words, most frequent first. The vocabulary is counted on the training part only, so the
test documents do not shape it. Deep models embed the ids (bench.models.deep_estimators, modality
"text"); the classical models get the ids as they are (`raw`, which tells them nothing
about words: the feature-engineering claim's point) or a bag of words (`engineered`,
bench.features).

`imdb` is the Large Movie Review Dataset, the official 25,000/25,000 split, read from the
Stanford archive (84 MB), downloaded once with its SHA-256 checked, cached with a manifest,
or imported with `bench fetch imdb --from aclImdb_v1.tar.gz`.
"""

from __future__ import annotations

import io
import re
import shutil
import tarfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np

import bench.datasets.cache as dc
from bench.datasets.core import Data, DataError, dataset

PAD, OOV = 0, 1
FIRST_WORD = 2
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"  # the archive as published
IMDB_ARCHIVE = "aclImdb_v1.tar.gz"
IMDB_N_TRAIN = IMDB_N_TEST = 25_000
_MEMBER = re.compile(r"(?:^|/)(train|test)/(pos|neg)/([^/]+)\.txt$")


def tokenize(text: str) -> list[str]:
    """Lower-case words and numbers (with a trailing 's, n't, ...); HTML line breaks are spaces."""
    return _TOKEN.findall(text.replace("<br />", " ").lower())


def vocabulary(documents: Iterable[list[str]], size: int) -> dict[str, int]:
    """The `size` - 2 words found in the most documents, as word -> id (2, 3, ...); ties by word."""
    if size <= FIRST_WORD:
        raise ValueError(f"vocab_size must exceed {FIRST_WORD} (padding and out-of-vocabulary ids), got {size}")
    counts = Counter(w for doc in documents for w in set(doc))
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: size - FIRST_WORD]
    return {w: i for i, (w, _) in enumerate(ranked, start=FIRST_WORD)}


def encode(documents: Iterable[list[str]], vocab: dict[str, int], max_len: int) -> np.ndarray:
    """Token ids, one row per document: its last `max_len` words, padded with 0 in front (float32 rows)."""
    rows = []
    for doc in documents:
        ids = np.full(max_len, PAD, dtype=np.float32)
        words = [vocab.get(w, OOV) for w in doc[-max_len:]]
        if words:
            ids[max_len - len(words) :] = words
        rows.append(ids)
    return np.stack(rows) if rows else np.zeros((0, max_len), np.float32)


def _check_text(params: dict) -> None:
    for key in ("vocab_size", "max_len"):
        value = params.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 3):
            raise DataError(f"{key} must be an integer of at least 3, got {value!r}")


# -- IMDB ----------------------------------------------------------------------------------


def _imdb_folder(cache_dir: str = "") -> Path:
    return dc.data_dir(cache_dir) / "imdb"


def _imdb_locate(cache_dir: str = "") -> Path | None:
    folder = _imdb_folder(cache_dir)
    return folder if (folder / IMDB_ARCHIVE).is_file() and dc.read_manifest(folder) else None


def _cache_archive(path: Path, cache_dir: str, source: str) -> str:
    """Check `path` against the published SHA-256, then copy it into the cache with a manifest."""
    got = dc.file_digest(path)
    if got != IMDB_SHA256:
        raise dc.FetchError(
            f"{path}: SHA-256 {got} is not that of the published {IMDB_ARCHIVE} ({IMDB_SHA256}); nothing was cached"
        )
    folder = _imdb_folder(cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / IMDB_ARCHIVE
    if path.resolve() != target.resolve():
        dc.atomic_write(target, lambda tmp: shutil.copyfile(path, tmp))
    dc.write_manifest(folder, [IMDB_ARCHIVE], source)
    return f"imdb: {source} into {folder} (SHA-256 verified)"


def _imdb_fetch(cache_dir: str = "", progress: bool = False) -> str:
    folder = _imdb_folder(cache_dir)
    if _imdb_locate(cache_dir):
        dc.verify_manifest(folder, "imdb", "python -m bench fetch imdb")
        return f"imdb: already cached in {folder}"
    dc.download(IMDB_URL, folder / IMDB_ARCHIVE, sha256=IMDB_SHA256, progress=progress)
    return _cache_archive(folder / IMDB_ARCHIVE, cache_dir, f"downloaded from {IMDB_URL}")


def _imdb_import(path: Path, cache_dir: str = "") -> str:
    archive = path / IMDB_ARCHIVE if path.is_dir() else path
    if not archive.is_file():
        raise dc.FetchError(f"{path}: no {IMDB_ARCHIVE} there; give the archive or the folder that holds it")
    return _cache_archive(archive, cache_dir, f"imported from {archive}")


def read_imdb_archive(path: Path) -> dict[str, tuple[list[str], list[int]]]:
    """{"train": (texts, labels), "test": ...} from the archive; label 1 positive, 0 negative.

    Reviews come in file-name order within each part, so every run sees the same order.
    The unlabelled reviews (train/unsup) are not read.
    """
    found: dict[str, list[tuple[str, int, str]]] = {"train": [], "test": []}
    try:
        with tarfile.open(path, "r:gz") as archive:
            for member in archive:
                m = _MEMBER.search(member.name)
                if not m or not member.isfile():
                    continue
                fh = archive.extractfile(member)
                text = io.TextIOWrapper(fh, encoding="utf-8", errors="replace").read() if fh else ""
                found[m.group(1)].append((m.group(3), int(m.group(2) == "pos"), text))
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable .tar.gz archive ({exc}); delete it and run `python -m bench fetch imdb`") from None
    for part, rows in found.items():
        if not rows:
            raise DataError(f"{path}: the archive holds no {part}/pos or {part}/neg reviews (aclImdb layout expected)")
        rows.sort(key=lambda r: (r[1], r[0]))
    return {part: ([r[2] for r in rows], [r[1] for r in rows]) for part, rows in found.items()}


def _imdb_source() -> dc.Source:
    def cached() -> list[str]:
        folder = _imdb_locate()
        return [f"{folder} (the official {IMDB_N_TRAIN:,}/{IMDB_N_TEST:,} split)"] if folder else []

    def locate(params: dict) -> str | None:
        found = _imdb_locate(params.get("cache_dir", ""))
        return str(found) if found else None

    return dc.Source(
        locate=locate,
        fetch=lambda params, progress: _imdb_fetch(params.get("cache_dir", ""), progress),
        spec=lambda params: "imdb",
        args=lambda arg: {},
        cached=cached,
        folder=lambda params: _imdb_folder(params.get("cache_dir", "")),
        import_from=lambda params, path: _imdb_import(path, params.get("cache_dir", "")),
    )


dc.register("imdb", _imdb_source())


def _imdb_check(params: dict) -> None:
    _check_text(params)
    dc.require("imdb", params)


@dataset(
    "imdb", task="classification", modality="text", check=_imdb_check, tags=("real", "download"),
    size=lambda p: IMDB_N_TRAIN + IMDB_N_TEST, official_test=lambda p: IMDB_N_TEST,
)
def imdb(vocab_size: int = 20_000, max_len: int = 256, cache_dir: str = "") -> Data:
    """IMDB movie-review sentiment, 2 classes, the official 25,000/25,000 split; token ids of each review's last max_len words."""
    folder = _imdb_locate(cache_dir)
    if folder is None:
        _imdb_fetch(cache_dir)
        folder = _imdb_folder(cache_dir)
    dc.verify_manifest(folder, "imdb", "python -m bench fetch imdb")
    parts = read_imdb_archive(folder / IMDB_ARCHIVE)
    train_docs = [tokenize(t) for t in parts["train"][0]]
    test_docs = [tokenize(t) for t in parts["test"][0]]
    vocab = vocabulary(train_docs, vocab_size)  # the training reviews only
    X = np.concatenate([encode(train_docs, vocab, max_len), encode(test_docs, vocab, max_len)])
    y = np.asarray(parts["train"][1] + parts["test"][1], dtype=np.int64)
    return Data(X=X, y=y, sample_shape=(max_len,), target_names=("negative", "positive"), n_test=len(test_docs))


# -- generated -----------------------------------------------------------------------------


@dataset("synthetic_text", task="classification", modality="text", check=_check_text, tags=("synthetic",),
         size=lambda p: int(p.get("n_samples", 2000)))
def synthetic_text(n_samples: int = 2000, vocab_size: int = 400, max_len: int = 48, seed: int = 0) -> Data:
    """Generated reviews: Zipf background words, 16 positive and 16 negative words (an odd number per review), a "not" that flips the next; the label is their majority."""
    if n_samples < 10:
        raise DataError(f"n_samples must be at least 10, got {n_samples}")
    rng = np.random.default_rng(seed)
    n_words = vocab_size - FIRST_WORD
    if n_words < 40:
        raise DataError(f"vocab_size must be at least {FIRST_WORD + 40} (33 sentiment words and a background), got {vocab_size}")
    ids = np.arange(FIRST_WORD, vocab_size)
    negation, positive, negative = ids[0], ids[1:17], ids[17:33]
    background = ids[33:]
    weights = 1.0 / np.arange(1, len(background) + 1)  # Zipf's law
    weights /= weights.sum()
    X = np.zeros((n_samples, max_len), np.float32)
    y = np.zeros(n_samples, np.int64)
    for i in range(n_samples):
        length = int(rng.integers(max(4, max_len // 3), max_len + 1))
        doc = rng.choice(background, size=length, p=weights)
        n_sentiment = 2 * (length // 10) + 1  # odd: the words' signs never tie
        slots = rng.choice(length, size=n_sentiment, replace=False)
        score, used = 0, set(slots.tolist())
        for s in sorted(used):
            sign = 1 if rng.random() < 0.5 else -1
            doc[s] = rng.choice(positive if sign > 0 else negative)
            if s > 0 and s - 1 not in used and rng.random() < 0.2:  # "not good": the word before flips the sentiment
                doc[s - 1] = negation
                sign = -sign
            score += sign
        y[i] = int(score > 0)
        X[i, max_len - length :] = doc  # padded in front, as encode() does
    return Data(X=X, y=y, sample_shape=(max_len,), target_names=("negative", "positive"))
