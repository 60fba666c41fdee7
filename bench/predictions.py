"""Test predictions kept in a run folder, so that a paired comparison of any two cells can be
recomputed from the folder alone (test-row-aware intervals, exact paired tests).

Under RUN_DIR/predictions/:

    labels/<split key>.npy   the test rows' labels (targets), once per split: a split is the
                             dataset (its label, name and parameters), the training size, the
                             number of test rows and the seed
    <cell key>.npy           one cell's predictions of those rows, in the same order

The file names are hashes of the row's fields (`split_key`, `cell_key`), so any cell key or
dataset parameter makes a safe name. Classification labels and predictions are stored as the
smallest signed integer type that holds them (labels a dataset does not encode as integers as
text), regression labels as float64 and predictions as float32. Every file is written whole
or not at all (bench.atomic).

The worker hands the arrays over inside its row, under the private keys TEST_LABELS_KEY and
PREDICTIONS_KEY (so they travel wherever the row does, a Dask cluster included);
`bench.results.ResultsStore.append` takes them out, calls `keep`, and only then writes the
row, which never holds them. A cell run again (a resumed run) replaces its file. `predictions_of`
reads them back for a row of the results table; a folder from before predictions were kept, a
failed cell or a missing or broken file gives None, and the report falls back to the scores.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import numpy as np

from bench.atomic import atomic_write

PREDICTIONS_KEY = "_predictions"
TEST_LABELS_KEY = "_test_labels"
FOLDER = "predictions"
LABELS = "labels"
_INTS = (np.int8, np.int16, np.int32, np.int64)


def _field(row, name):
    """A row's field (a dict or a row of the results table), None where missing or NA."""
    try:
        value = row.get(name)
    except AttributeError:
        return None
    if value is None:
        return None
    try:
        if bool(value != value):  # NaN, pd.NA raise or compare unequal
            return None
    except TypeError:
        return None
    return value


def _hash(parts: list) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()[:32]


def split_key(row) -> str | None:
    """The file name (without .npy) of the test labels of a row's split; None if the row lacks a field."""
    fields = [_field(row, f) for f in ("dataset", "dataset_name", "dataset_params", "n_train", "n_test", "seed")]
    if any(v is None for v in fields):
        return None
    dataset, name, params, n_train, n_test, seed = fields
    try:
        return _hash([str(dataset), str(name), str(params), int(n_train), int(n_test), int(seed)])
    except (TypeError, ValueError):
        return None


def cell_key(row) -> str | None:
    """The file name (without .npy) of a row's predictions; None without a cell key."""
    key = _field(row, "key")
    return None if key is None else _hash([str(key)])


def _compact(values, task: str, predictions: bool) -> np.ndarray:
    """The array as stored: see the module's docstring."""
    a = np.asarray(values)
    if task == "regression":
        return a.astype(np.float32 if predictions else np.float64)
    if a.dtype.kind == "f" and a.size and np.isfinite(a).all() and (a == np.round(a)).all():
        a = a.astype(np.int64)  # whole-number labels predicted as floats
    if a.dtype.kind in "iub":
        if not a.size:
            return a.astype(np.int8)
        low, high = int(a.min()), int(a.max())
        for dtype in _INTS:
            info = np.iinfo(dtype)
            if info.min <= low and high <= info.max:
                return a.astype(dtype)
        return a.astype(np.int64)  # unsigned values past int64 (never met)
    if a.dtype.kind == "f":
        return a
    return a.astype(str)


def _save(path: Path, array: np.ndarray) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:  # np.save to a name would add ".npy" to the temporary name
            np.save(fh, array, allow_pickle=False)

    atomic_write(path, write)


def keep(run_dir: str | os.PathLike, row: dict, labels, predictions) -> None:
    """Write a finished cell's test labels (if its split has none yet) and predictions; raises OSError."""
    split, cell = split_key(row), cell_key(row)
    if split is None or cell is None:
        return
    task = str(_field(row, "task") or "")
    folder = Path(run_dir) / FOLDER
    (folder / LABELS).mkdir(parents=True, exist_ok=True)
    labels_path = folder / LABELS / f"{split}.npy"
    if not labels_path.is_file():
        _save(labels_path, _compact(labels, task, predictions=False))
    _save(folder / f"{cell}.npy", _compact(predictions, task, predictions=True))


def _load(path: Path) -> np.ndarray | None:
    """A stored array; None for a missing, odd (not a regular file) or unreadable one."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO put there would block np.load
            return None
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None


def predictions_of(run_dir: str | os.PathLike, row) -> tuple[np.ndarray, np.ndarray] | None:
    """(test labels, predictions) of a row of the results table, in the same row order; None for a
    failed cell, a folder from before predictions were kept, or a missing or broken file."""
    if str(_field(row, "status")) != "ok":
        return None
    folder = Path(run_dir) / FOLDER
    split, cell = split_key(row), cell_key(row)
    if split is None or cell is None:
        return None
    labels = _load(folder / LABELS / f"{split}.npy")
    if labels is None:
        return None
    predictions = _load(folder / f"{cell}.npy")
    if predictions is None or labels.ndim != 1 or not predictions.ndim or len(predictions) != len(labels):
        return None
    return labels, predictions
