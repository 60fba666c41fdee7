"""One cell, inside its own worker process: data, preprocessing, fit, predict, measurements.

Everything here runs in the isolated child; `bench.execution.isolate` starts it, enforces limits and
turns a crash or a kill into a row.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import inspect
import json
import mmap
import os
import pickle
import select
import shutil
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
from sklearn import metrics
from threadpoolctl import ThreadpoolController

from bench import datasets as ds
from bench.features import FEATURES
from bench.measure import (
    PeakMemory,
    Timer,
    UnknownSizeError,
    effective_params,
    host_info,
    model_size,
    predictions_sha,
    quiesce,
)
from bench.models import MODELS, ModelContext, build
from bench.plugins import load_plugins
from bench.registry import first_line, tags_text
from bench.suite import Cell
from bench.tuning import Budget, Search, carve, search, space_for, validation_rows

CACHE_ENV = "BENCH_CACHE_DIR"
# One-row latency: the median of at most LATENCY_CALLS calls, and of at least LATENCY_MIN_CALLS;
# calls stop once LATENCY_BUDGET_S has passed (a model whose one-row predict takes 20 ms costs
# the cell 3 calls, not 20).
LATENCY_CALLS = 20
LATENCY_MIN_CALLS = 3
LATENCY_BUDGET_S = 0.010
TRAIN_SCORE_ROWS = 2000
_PAGE = 4096


def base_row(cell: Cell) -> dict:
    """The keys of a cell, as every row (finished or failed) carries them."""
    return {
        "dataset": cell.dataset.label,
        "modality": cell.dataset.modality,
        "task": cell.dataset.task,
        "model": cell.model.label,
        "family": cell.model.family,
        "features": cell.features,
        "n_train": cell.n_train,
        "n_test": cell.dataset.n_test,
        "seed": cell.seed,
        "dataset_name": cell.dataset.name,
        "model_name": cell.model.name,
        "tuning": cell.tuning,
        "model_tags": tags_text(cell.model.tags),
        "dataset_tags": tags_text(cell.dataset.tags),
        "threads": cell.threads,
        "jobs": cell.jobs,
        "params": json.dumps(cell.model.params, sort_keys=True, default=str),
        "dataset_params": json.dumps(cell.dataset.params, sort_keys=True, default=str),
        "dataset_effective_params": json.dumps(ds.full_params(cell.dataset.name, cell.dataset.params), sort_keys=True,
                                               default=str),
        "key": cell.key,
        **{k: v for k, v in host_info().items() if k in ("host", "cpu_model")},
    }


@dataclass(frozen=True)
class Split:
    X_train: np.ndarray | pd.DataFrame
    y_train: np.ndarray
    X_test: np.ndarray | pd.DataFrame
    y_test: np.ndarray
    sample_shape: tuple[int, ...] | None
    n_classes: int | None
    classes: np.ndarray | None = None  # every class of the dataset (training and test rows)
    missing_classes: tuple = ()  # classes the training rows lack (rare classes, small sizes)
    fit_rows: np.ndarray | None = None  # the validation carve of the training rows (bench.tuning.carve)
    val_rows: np.ndarray | None = None


def _source_stamp(*fns) -> str:
    """Identifies the code that made cached data (module file, size, mtime), so edits invalidate it."""
    parts = []
    for fn in fns:
        try:
            path = inspect.getfile(fn)
            st = os.stat(path)
            parts.append(f"{path}:{st.st_size}:{st.st_mtime_ns}:{fn.__qualname__}")
        except (OSError, TypeError):
            parts.append(fn.__qualname__)
    return "|".join(parts)


@functools.cache
def threadpools() -> ThreadpoolController:
    """One scan of the loaded BLAS/OpenMP libraries (slow), made in the worker server and inherited."""
    return ThreadpoolController()


def _cache_dir() -> Path | None:
    root = os.environ.get(CACHE_ENV)
    return Path(root) if root else None


def _pool_key(cell: Cell) -> str:
    spec = cell.dataset
    entry = ds.DATASETS[spec.name]
    variant = FEATURES[cell.features]
    return hashlib.sha256(
        json.dumps(
            [spec.name, spec.params, cell.seed, spec.test_size, cell.features,
             _source_stamp(entry.fn, variant.fn)],
            sort_keys=True, default=str,
        ).encode()
    ).hexdigest()[:24]


def _mapped(path: Path) -> np.ndarray:
    """A cached .npy file mapped copy-on-write: no copy made, pages shared by every worker, writable in private."""
    return np.asarray(np.load(path, mmap_mode="c", allow_pickle=False))


def _touch(*arrays) -> None:
    """Read one value per page of each array, so mapped data is resident before a measurement starts.

    Otherwise the measured fit would fault the pages in: their reading would count as the
    model's time and their size as its peak memory, which a copy made earlier never did.
    """
    for a in arrays:
        if isinstance(a, np.ndarray) and a.size and a.flags.c_contiguous:
            flat = a.reshape(-1)
            flat[:: max(1, _PAGE // a.itemsize)].sum()


def _save_rows(path: Path, X: np.ndarray, rows: np.ndarray, chunk_bytes: int = 2**25) -> None:
    """np.save(path, X[rows]) without holding X[rows] in memory: the rows go out in chunks."""
    shape = (len(rows), *X.shape[1:])
    header = {"descr": np.lib.format.dtype_to_descr(X.dtype), "fortran_order": False, "shape": shape}
    per_row = max(1, X.itemsize * int(np.prod(X.shape[1:], dtype=np.int64)))
    step = max(1, chunk_bytes // per_row)
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_2_0(fh, header)
        for start in range(0, len(rows), step):
            fh.write(np.ascontiguousarray(X[rows[start : start + step]]).data)


def _write_cache(final: Path, write) -> bool:
    """Fill a fresh folder with `write(folder)` and move it to `final` at once; False if that failed."""
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        write(tmp)
        os.replace(tmp, final)
        return True
    except (OSError, ValueError):  # another worker cached it first, a full disk, labels np.save refuses
        shutil.rmtree(tmp, ignore_errors=True)
        return (final / "meta.json").exists()


def _prepared_pool(cell: Cell):
    """(X_pool, y_pool, X_test, y_test, sample_shape) for the cell's dataset, seed and features.

    Cached on disk (BENCH_CACHE_DIR) because every model of a cell group needs the same
    arrays and engineered features can be slow to compute; a cached pool is mapped, not read.
    """
    spec = cell.dataset
    variant = FEATURES[cell.features]
    cache_root = _cache_dir()
    cache = cache_root / _pool_key(cell) if cache_root else None
    names = ("X_pool", "y_pool", "X_test", "y_test")
    if cache is not None and (cache / "meta.json").exists():
        arrays = [_mapped(cache / f"{n}.npy") for n in names]
        meta = json.loads((cache / "meta.json").read_text())
        shape = tuple(meta["sample_shape"]) if meta["sample_shape"] else None
        return (*arrays, shape)

    data = ds.load(spec.name, spec.params)
    pool, test = ds.split(data.y, cell.seed, spec.test_size, spec.task, data.n_test)
    X = data.X
    shape = data.sample_shape
    if cell.features != "raw":
        X = variant.fn(np.asarray(X), data.sample_shape, spec.modality)
        shape = None
    if cache is not None and not isinstance(X, pd.DataFrame):
        y = data.y

        def write(folder: Path) -> None:
            # Rows go to disk in chunks, never as a second copy of the data in memory.
            _save_rows(folder / "X_pool.npy", X, pool)
            _save_rows(folder / "X_test.npy", X, test)
            np.save(folder / "y_pool.npy", y[pool], allow_pickle=False)
            np.save(folder / "y_test.npy", y[test], allow_pickle=False)
            (folder / "meta.json").write_text(json.dumps({"sample_shape": shape}))

        if _write_cache(cache, write):
            del data, X, y
            return _prepared_pool(cell)
    take = (lambda idx: X.iloc[idx].reset_index(drop=True)) if isinstance(X, pd.DataFrame) else (lambda idx: X[idx])
    return take(pool), data.y[pool], take(test), data.y[test], shape


def _preprocessor(X, modality: str, features: str):
    """Scaling and encoding, fitted later on the training part only."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    if isinstance(X, pd.DataFrame):
        # Missing cells (a file read with missing = "impute") are filled from the training
        # rows only: the median of a number, the most frequent value of a category.
        text = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        numeric = [c for c in X.columns if c not in text]
        return ColumnTransformer(
            [
                ("numeric", make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True),
                                          StandardScaler()), numeric),
                ("categorical", make_pipeline(
                    SimpleImputer(strategy="most_frequent", keep_empty_features=True),
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False)), text),
            ]
        )
    if modality == "tabular" or features != "raw":
        return StandardScaler()
    # Raw images and sequences keep their scale: datasets deliver them normalised, and
    # per-pixel standardisation would destroy what convolutions rely on.
    return FunctionTransformer(None)


SPLIT_ARRAYS = ("X_train", "y_train", "X_test", "y_test", "classes", "fit_rows", "val_rows")
SCALE_CHUNK_BYTES = 32 * 2**20  # float64 working memory of scaling one chunk of rows


def _fit_transform(pre, X_train, X_test):
    """The preprocessing fitted on the training rows, applied to both parts.

    A standard scaler on an array is fitted and applied in chunks of rows: scikit-learn's
    `fit` works on a float64 copy of all of X (for 10^6 x 50 float32 features, 400 MB on top
    of 200 MB of data). `fit` itself is `partial_fit` on all rows, so data of one chunk scale
    exactly as before; larger data differ from a one-shot fit in the last bits of the mean.
    """
    from sklearn.preprocessing import StandardScaler

    if type(pre) is StandardScaler and isinstance(X_train, np.ndarray) and X_train.ndim == 2 and len(X_train):
        step = max(1024, SCALE_CHUNK_BYTES // (8 * max(1, X_train.shape[1])))
        for start in range(0, len(X_train), step):
            pre.partial_fit(X_train[start:start + step])

        def apply(X):
            out = None
            for start in range(0, len(X), step):
                part = pre.transform(X[start:start + step])
                if out is None:
                    out = np.empty((len(X), *part.shape[1:]), dtype=part.dtype)
                out[start:start + len(part)] = part
            return out if out is not None else pre.transform(X)

        return apply(X_train), apply(X_test)
    return np.ascontiguousarray(pre.fit_transform(X_train)), np.ascontiguousarray(pre.transform(X_test))


def prepare(cell: Cell) -> Split:
    """The cell's split: first n_train rows of the stratified pool, preprocessing fitted on them.

    Every model of a (dataset, features, size, seed) group gets the same split: the first to
    run computes it and caches it (BENCH_CACHE_DIR); the others map the cached arrays
    (copy-on-write), so a worker neither reads nor copies them, and all of them, the first
    included, start their fit from identical memory.
    """
    cache_root = _cache_dir()
    cache = None
    if cache_root is not None:
        key = hashlib.sha256(
            f"{_pool_key(cell)}|{cell.n_train}|{cell.dataset.modality}|{cell.validation}|"
            f"{_source_stamp(_preprocessor, _split, carve)}".encode()
        ).hexdigest()[:24]
        cache = cache_root / f"split-{key}"
        if (cache / "meta.json").exists():
            return _cached_split(cache)
    # Data preparation runs on one thread: BLAS threads woken here would spin on into the
    # measured fit and be billed to the model as CPU time.
    with thread_limit(1):
        split = _split(cell)
    if cache is not None and isinstance(split.X_train, np.ndarray):

        def write(folder: Path) -> None:
            index = _write_arrays(folder / "split.bin", {n: getattr(split, n) for n in SPLIT_ARRAYS})
            (folder / "meta.json").write_text(json.dumps({
                "sample_shape": split.sample_shape, "n_classes": split.n_classes,
                "missing_classes": list(split.missing_classes), "arrays": index,
            }))

        if _write_cache(cache, write):
            del split
            return _cached_split(cache)
    return split


def _write_arrays(path: Path, arrays: dict) -> dict:
    """The arrays one after another in one file, each at a 64-byte boundary; their index (dtype, shape, offset)."""
    index = {}
    with open(path, "wb") as fh:
        for name, value in arrays.items():
            if value is None:
                continue
            value = np.ascontiguousarray(value)
            if value.dtype.hasobject:
                raise ValueError(f"{name}: an array of Python objects is not cached")
            fh.write(b"\0" * (-fh.tell() % 64))
            index[name] = {"dtype": np.lib.format.dtype_to_descr(value.dtype), "shape": list(value.shape),
                           "offset": fh.tell()}
            fh.write(value.data)
    return index


def _mapped_arrays(path: Path, index: dict) -> dict:
    """The arrays of `_write_arrays`, mapped copy-on-write from one file: one open, no copy."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        buffer = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_COPY) if size else b""
    out = {}
    for name, spec in index.items():
        dtype = np.lib.format.descr_to_dtype(spec["dtype"])
        shape = tuple(spec["shape"])
        count = int(np.prod(shape, dtype=np.int64))
        out[name] = (np.frombuffer(buffer, dtype=dtype, count=count, offset=spec["offset"]).reshape(shape)
                     if count else np.empty(shape, dtype=dtype))
    return out


def _cached_split(folder: Path) -> Split:
    meta = json.loads((folder / "meta.json").read_text())
    arrays = _mapped_arrays(folder / "split.bin", meta["arrays"])
    return Split(
        arrays["X_train"], arrays["y_train"], arrays["X_test"], arrays["y_test"],
        tuple(meta["sample_shape"]) if meta["sample_shape"] else None, meta["n_classes"],
        arrays.get("classes"), tuple(meta["missing_classes"]), arrays.get("fit_rows"), arrays.get("val_rows"),
    )


def _split(cell: Cell) -> Split:
    X_pool, y_pool, X_test, y_test, shape = _prepared_pool(cell)
    if isinstance(X_pool, pd.DataFrame):
        X_train = X_pool.iloc[: cell.n_train]
    else:
        X_train = X_pool[: cell.n_train]
    y_train = y_pool[: cell.n_train]
    classes, missing, n_classes = None, (), None
    if cell.dataset.task == "classification":
        if len(np.unique(y_train)) < 2:
            raise ds.DataError(f"the first {cell.n_train} training rows hold a single class; use a larger size")
        classes = np.unique(np.concatenate([y_pool, y_test]))
        missing = tuple(c.item() for c in np.setdiff1d(classes, y_train))
        n_classes = int(classes.max() + 1)
    pre = _preprocessor(X_train, cell.dataset.modality, cell.features)
    X_train, X_test = _fit_transform(pre, X_train, X_test)
    fit_rows = val_rows = None
    n_val = validation_rows(cell.n_train, cell.validation)
    if n_val:  # the same for every model of the group: carved once, with the split
        fit_rows, val_rows = carve(y_train, n_val, cell.seed, cell.dataset.task)
    return Split(X_train, y_train, X_test, y_test, shape, n_classes, classes, missing, fit_rows, val_rows)


def size_pools(n: int) -> None:
    """Every BLAS/OpenMP pool, and torch's when it is loaded, at `n` threads, for good.

    Made in a worker server before it forks (bench.execution.preload), so that its workers,
    whose cells run at `n` threads, find their pools at that size and never resize one:
    resizing OpenBLAS in a forked process starts its thread server, and those threads spin
    beside the cell for about 0.1 s (a 1-thread cell lost a third or more of its CPU to them).
    """
    for lib in threadpools().lib_controllers:
        if lib.get_num_threads() != n:
            lib.set_num_threads(n)
    _set_torch_threads(n)


@contextlib.contextmanager
def thread_limit(n: int):
    """threadpoolctl's limit of every BLAS/OpenMP pool to `n` threads, setting only pools not at `n`.

    Setting a pool's size costs about a millisecond (OpenBLAS stops or starts its threads),
    and most cells run at the size the pools already have.
    """
    changed = []
    for lib in threadpools().lib_controllers:
        before = lib.get_num_threads()
        if before != n:
            lib.set_num_threads(n)
            changed.append((lib, before))
    try:
        yield
    finally:
        for lib, before in reversed(changed):
            lib.set_num_threads(before)


PROBA_FLOOR = 1e-15  # log-loss clips probabilities here, so a class the model never saw costs ~34.5


def full_proba(proba: np.ndarray, model_classes, classes: np.ndarray) -> np.ndarray:
    """Probabilities over every class of the dataset: a class the model lacks gets 0, then clipping."""
    out = np.zeros((len(proba), len(classes)))
    cols = np.searchsorted(classes, np.asarray(model_classes))
    out[:, cols] = proba
    out = np.clip(out, PROBA_FLOOR, None)
    return out / out.sum(axis=1, keepdims=True)


def scores(task: str, estimator, X, y, pred: np.ndarray | None = None, classes: np.ndarray | None = None) -> dict:
    """Test scores; `pred` are the predictions when they are already made.

    `classes` is the dataset's full label set: the training rows of a small size may lack rare
    classes that the test rows hold, and every score is still taken over all of them.
    """
    pred = estimator.predict(X) if pred is None else pred
    if task == "regression":
        return regression_scores(y, pred)
    if classes is None:
        classes = np.unique(np.concatenate([np.asarray(y), np.asarray(pred)]))
    out = label_scores(y, pred, classes)
    if hasattr(estimator, "predict_proba"):
        proba = estimator.predict_proba(X)
        model_classes = getattr(estimator, "classes_", np.arange(proba.shape[1]))
        if np.isin(model_classes, classes).all():
            out["log_loss"] = log_loss(y, full_proba(proba, model_classes, classes), classes)
    return out


def log_loss(y, proba: np.ndarray, classes: np.ndarray) -> float:
    """scikit-learn's `log_loss(y, proba, labels=classes)` of probabilities over the sorted `classes`
    (full_proba's), without its input checks: equal to the last bit (tests hold it to that).

    scikit-learn clips to [eps, 1 - eps], takes the log of every entry, sums the one-hot labels
    times those logs along each row (the true class's log plus terms exactly 0) and averages;
    picking the true classes' logs gives the same floats without its checks, which took 3 ms of
    a small cell. Anything unusual goes through scikit-learn itself.
    """
    y = np.asarray(y).ravel()
    proba = np.asarray(proba)
    at = np.searchsorted(classes, y) if len(classes) else None
    if (proba.ndim != 2 or proba.dtype.kind != "f" or len(y) != len(proba) or len(y) < 1
            or len(classes) < 2 or proba.shape[1] != len(classes) or not np.isfinite(proba).all()
            or (proba < 0).any() or (proba > 1).any()
            or not np.all(np.isclose(proba.sum(axis=1), 1.0, rtol=np.sqrt(np.finfo(proba.dtype).eps)))
            or (at >= len(classes)).any() or (classes[np.minimum(at, len(classes) - 1)] != y).any()):
        return metrics.log_loss(y, proba, labels=classes)
    eps = np.finfo(proba.dtype).eps
    logs = np.log(np.clip(proba, eps, 1 - eps))  # every entry, as scikit-learn takes them (the same kernel)
    return float(np.average(-logs[np.arange(len(y)), at]))


def _regression_arrays(y, pred) -> tuple[np.ndarray, np.ndarray] | None:
    """y and pred as scikit-learn's regression metrics check them (columns, in their common floating
    dtype); None where those checks would refuse them or do more (scikit-learn then scores them)."""
    y, pred = np.asarray(y), np.asarray(pred)
    if y.ndim != 1 or pred.ndim != 1 or len(y) != len(pred) or len(y) < 2:
        return None
    if y.dtype.kind not in "fiu" or pred.dtype.kind not in "fiu":
        return None
    floating = [a.dtype for a in (y, pred) if a.dtype.kind == "f"]
    dtype = np.result_type(*floating) if floating else np.float64
    y, pred = y.astype(dtype, copy=False).reshape(-1, 1), pred.astype(dtype, copy=False).reshape(-1, 1)
    if not (np.isfinite(y).all() and np.isfinite(pred).all()):
        return None
    return y, pred


def r2(y, pred) -> float:
    """scikit-learn's `r2_score(y, pred)`, without its input checks (equal to the last bit)."""
    arrays = _regression_arrays(y, pred)
    if arrays is None:
        return metrics.r2_score(y, pred)
    y, pred = arrays
    numerator = np.sum(1.0 * (y - pred) ** 2, axis=0)
    denominator = np.sum(1.0 * (y - np.average(y, axis=0)) ** 2, axis=0)
    # scikit-learn's force_finite: 1 for perfect predictions, 0 for imperfect ones of a constant target.
    out = np.ones([1], dtype=numerator.dtype)
    valid = (denominator != 0) & (numerator != 0)
    out[valid] = 1 - (numerator[valid] / denominator[valid])
    out[(numerator != 0) & ~(denominator != 0)] = 0.0
    return float(np.average(out))


def regression_scores(y, pred) -> dict:
    """R², RMSE and MAE as scikit-learn computes them (`r2_score`, the root of `mean_squared_error`,
    `mean_absolute_error`), equal to the last bit, without three rounds of input checks."""
    arrays = _regression_arrays(y, pred)
    if arrays is None:
        return {
            "r2": metrics.r2_score(y, pred),
            "rmse": float(np.sqrt(metrics.mean_squared_error(y, pred))),
            "mae": metrics.mean_absolute_error(y, pred),
        }
    yc, pc = arrays
    mse = float(np.average(np.average((yc - pc) ** 2, axis=0)))
    mae = float(np.average(np.average(np.abs(pc - yc), axis=0)))
    return {"r2": r2(y, pred), "rmse": float(np.sqrt(mse)), "mae": mae}


def label_scores(y, pred, classes) -> dict:
    """Accuracy, balanced accuracy and macro F1 over `classes`, as scikit-learn computes them.

    The same arithmetic as `accuracy_score`, `balanced_accuracy_score` and `f1_score(labels=
    classes, average="macro", zero_division=0)` (equal to the last bit: tests hold them to it),
    from one table of counts instead of three passes of input checks, which cost a small
    cell more than its fit. A class absent from y or pred is scored as it should be (recall
    or precision 0; balanced accuracy averages the classes y holds).
    """
    y, pred = np.asarray(y).ravel(), np.asarray(pred).ravel()
    if len(y) != len(pred):
        raise ValueError(f"{len(y)} labels but {len(pred)} predictions")
    seen = np.union1d(y, pred)  # the labels of the confusion matrix, sorted
    k = len(seen)
    counts = np.bincount(np.searchsorted(seen, y) * k + np.searchsorted(seen, pred), minlength=k * k).reshape(k, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_class = np.diagonal(counts) / counts.sum(axis=1)
    per_class = per_class[~np.isnan(per_class)]
    # F1 per requested class: 2 tp / (2 tp + fp + fn), written as scikit-learn writes it.
    at = np.searchsorted(seen, classes)
    present = (at < k) & (seen[np.minimum(at, k - 1)] == classes)
    tp = np.where(present, np.diagonal(counts)[np.minimum(at, k - 1)], 0)
    true_sum = np.where(present, counts.sum(axis=1)[np.minimum(at, k - 1)], 0)
    pred_sum = np.where(present, counts.sum(axis=0)[np.minimum(at, k - 1)], 0)
    denom = 1.0 * true_sum.astype(np.float64) + pred_sum.astype(np.float64)
    empty = denom == 0
    denom[empty] = 1
    f1 = (2.0 * tp.astype(np.float64)) / denom
    f1[empty] = 0.0
    return {
        "accuracy": accuracy(y, pred),
        "balanced_accuracy": float(np.mean(per_class)),
        "f1_macro": float(np.nanmean(f1)) if len(f1) else float("nan"),
    }


def primary(task: str, s: dict) -> float:
    return s["accuracy"] if task == "classification" else s["r2"]


def _set_torch_threads(threads: int) -> None:
    # Called in every worker, even where the server set the same count: torch resets its thread
    # state at a fork, and its first parallel call would otherwise initialise it (and allocate)
    # inside the measured fit.
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)


_PREDECESSOR: int | None = None  # a worker of the same executor thread, still exiting when this one started


def after_predecessor(pid: int | None) -> None:
    """Measure nothing before process `pid` has exited (bench.execution.isolate starts this worker while the
    last one, its row sent, still tears down its memory)."""
    global _PREDECESSOR
    _PREDECESSOR = pid


def _await_predecessor(timeout_s: float = 60.0) -> None:
    global _PREDECESSOR
    pid, _PREDECESSOR = _PREDECESSOR, None
    if not pid:
        return
    try:
        fd = os.pidfd_open(pid)
    except AttributeError:  # no pidfd here: watch the pid until it is reaped
        deadline = time.monotonic() + timeout_s
        while psutil.pid_exists(pid) and time.monotonic() < deadline:
            time.sleep(0.001)
        return
    except OSError:  # exited and reaped already
        return
    try:
        select.select([fd], [], [], timeout_s)
    finally:
        os.close(fd)


def measure_cell(cell: Cell) -> dict:
    """Fit and evaluate one cell in this process; raises on failure (the caller records it)."""
    load_plugins(cell.plugins)
    row = {}
    with PeakMemory() as prep:
        split = prepare(cell)
        _touch(split.X_train, split.y_train, split.X_test, split.y_test)
    _await_predecessor()
    with thread_limit(cell.threads):
        _set_torch_threads(cell.threads)
        ctx = ModelContext(
            task=cell.dataset.task,
            modality=cell.dataset.modality,
            seed=cell.seed,
            threads=cell.threads,
            n_features=split.X_train.shape[1],
            n_classes=split.n_classes,
            sample_shape=split.sample_shape,
            device=cell.device,
        )
        chosen = None
        if cell.tuning == "tuned":
            # The search runs in a forked copy of this process: its fits would otherwise leave
            # this process's heap grown (freed memory the allocator keeps) and its caches warm,
            # and the measured final fit would read lower memory and time than a fresh one.
            chosen = in_forked_child(lambda: choose(cell, ctx, split))
        params = chosen.best_params if chosen is not None else {}
        estimator = build(cell.model.name, ctx, {**cell.model.params, **params})
        gc.collect()
        if _other_threads_running():  # BLAS threads still spinning would bill their CPU to the fit
            quiesce()
        with PeakMemory() as mem, Timer() as fit:
            estimator.fit(split.X_train, split.y_train)
            _synchronize(estimator)
        warm = split.X_test[: min(32, len(split.X_test))]
        estimator.predict(warm)  # first-call costs (lazy init, caches) stay out of the timing
        with Timer() as pred:
            y_pred = estimator.predict(split.X_test)
        test_scores = scores(cell.dataset.task, estimator, split.X_test, split.y_test, y_pred, split.classes)
        latencies = _latencies(estimator, split.X_test)
        n_tr = min(TRAIN_SCORE_ROWS, len(split.y_train))
        train_score = _primary_score(cell.dataset.task, split.y_train[:n_tr], estimator.predict(split.X_train[:n_tr]))
        if chosen is None:
            # A default cell's validation fit decides nothing about the final model (its
            # configuration is fixed), so it runs after every measurement of that model, here:
            # no copy of the process is needed to keep the measured fit fresh.
            chosen = choose(cell, ctx, split)
    try:
        n_params, proxy, unit = model_size(estimator)
    except UnknownSizeError as exc:  # a plug-in estimator of unknown kind: the row says so
        n_params, proxy, unit = None, None, None
        row["info"] = f"size unknown: {first_line(exc)}"
    history = getattr(estimator, "history_", None)
    row.update(test_scores)
    row.update(chosen.row())
    row.update(
        {
            "status": "ok",
            "score": primary(cell.dataset.task, test_scores),
            "train_score": train_score,
            "fit_time_s": fit.wall_s,
            "fit_cpu_s": fit.cpu_s,
            "predict_time_s": pred.wall_s,
            "predict_cpu_s": pred.cpu_s,
            "predictions_sha": predictions_sha(y_pred),
            "predict_latency_ms": float(np.median(latencies) * 1000) if latencies else None,
            "peak_memory_mb": mem.used_mb,
            "n_params": n_params,
            "size_proxy": proxy,
            "size_unit": unit,
            "model_bytes": pickled_size(estimator),
            "n_features": ctx.n_features,
            "n_classes": ctx.n_classes,
            "missing_classes": json.dumps(list(split.missing_classes)) if split.missing_classes else None,
            "device": getattr(estimator, "device_", "cpu"),
            "device_name": device_name(getattr(estimator, "device_", "cpu")),
            "gpu_peak_memory_mb": getattr(estimator, "gpu_peak_memory_mb_", None),
            "history": json.dumps(history) if history is not None else None,
            "hyperparams": json.dumps(effective_params(estimator), sort_keys=True),
            "data_mb": sum(a.nbytes for a in (split.X_train, split.y_train, split.X_test, split.y_test)) / 2**20,
            "prepare_memory_mb": prep.used_mb,
        }
    )
    return row


def _synchronize(estimator) -> None:
    """Wait for a model's queued GPU work, so that its fit time holds all of it."""
    device = getattr(estimator, "device_", None)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(device, str) and device.startswith("cuda"):
        torch.cuda.synchronize(device)


def device_name(device: str) -> str:
    """The hardware a model ran on: the GPU's name for a CUDA device, else the CPU's model."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(device, str) and device.startswith("cuda") and torch.cuda.is_available():
        index = torch.device(device).index
        return torch.cuda.get_device_name(torch.cuda.current_device() if index is None else index)
    if device == "mps":
        return "Apple GPU (MPS)"
    return host_info()["cpu_model"]


def _latencies(estimator, X) -> list[float]:
    """Seconds of one-row predict calls: LATENCY_MIN_CALLS to LATENCY_CALLS, until LATENCY_BUDGET_S is spent."""
    out = []
    stop = time.perf_counter() + LATENCY_BUDGET_S
    for i in range(min(LATENCY_CALLS, len(X))):
        t0 = time.perf_counter()
        estimator.predict(X[i : i + 1])
        t1 = time.perf_counter()
        out.append(t1 - t0)
        if len(out) >= LATENCY_MIN_CALLS and t1 >= stop:
            break
    return out


def _primary_score(task: str, y, pred) -> float:
    """The primary score alone (what `train_score` records): accuracy or R², as `scores` computes them."""
    if task == "regression":
        return r2(y, pred)
    return accuracy(y, pred)


def accuracy(y, pred) -> float:
    """scikit-learn's accuracy_score of labels, without its input checks (equal to the last bit)."""
    return float(np.mean((np.asarray(y).ravel() == np.asarray(pred).ravel()).astype(np.float64)))


class _ByteCounter:
    """A file that keeps only the count of bytes written to it."""

    def __init__(self):
        self.n = 0

    def write(self, data) -> int:
        n = memoryview(data).nbytes
        self.n += n
        return n


def pickled_size(estimator) -> int | None:
    """Bytes of the fitted model pickled (what saving it takes), counted as written, never held in memory."""
    out = _ByteCounter()
    try:
        pickle.dump(estimator, out, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return None
    return out.n


def _other_threads_running() -> bool:
    """Whether a thread of this process other than the caller is running or runnable (state R).

    A spinning BLAS or OpenMP thread is; a thread blocked on a lock or a sleep is not and uses
    no CPU. Where /proc cannot tell, True (quiesce() then watches the threads' CPU time).
    """
    me = str(threading.get_native_id())
    try:
        tasks = [t for t in os.listdir("/proc/self/task") if t != me]
    except OSError:
        return True
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue  # ended meanwhile
        if state == b"R":
            return True
    return False


def in_forked_child(fn):
    """fn() run in a forked copy of this process; its (pickled) result, or its error raised here.

    The copy dies with this process (PR_SET_PDEATHSIG), so a cell stopped at its limit leaves
    nothing behind; its memory and CPU count in the cell's process tree meanwhile.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 0
        try:
            os.close(read_fd)
            _die_with_parent()
            try:
                payload = pickle.dumps(("ok", fn()))
            except BaseException as exc:  # noqa: BLE001  (everything goes back to the parent)
                try:
                    payload = pickle.dumps(("error", exc))
                except Exception:
                    payload = pickle.dumps(("error", RuntimeError(error_text(exc))))
            with os.fdopen(write_fd, "wb") as fh:
                fh.write(payload)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as fh:
        payload = fh.read()
    _, status = os.waitpid(pid, 0)
    if not payload:
        raise RuntimeError(f"the process making the cell's choices on validation rows died ({_wait_text(status)})")
    kind, value = pickle.loads(payload)
    if kind == "error":
        raise value
    return value


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _wait_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.WEXITSTATUS(status)}"


def choose(cell: Cell, ctx: ModelContext, split: Split) -> Search:
    """The cell's choices, made on a validation part of its training rows (bench.tuning).

    A default cell scores its configuration there once; a tuned cell searches its model's
    space within the suite's budget. Either way the final model is then refitted on all
    training rows, so the validation fits are the search's cost, not `fit_time_s`.
    """
    tuned = cell.tuning == "tuned"
    n_val = validation_rows(cell.n_train, cell.validation)
    if n_val == 0:
        if tuned:
            raise ValueError(f"{cell.n_train} training rows leave no validation part to tune on")
        return Search(tuning=cell.tuning, n_validation=0)
    space = {}
    if tuned:
        space = space_for(MODELS[cell.model.name], ctx, cell.model.params, cell.model.search)
        if not space:
            raise ValueError(f"{cell.model.name} has no search space for this data")
    if split.fit_rows is not None and len(split.val_rows) == n_val:
        fit, val = split.fit_rows, split.val_rows
    else:
        fit, val = carve(split.y_train, n_val, cell.seed, cell.dataset.task)
    parts = (split.X_train[fit], split.y_train[fit], split.X_train[val], split.y_train[val])
    return search(
        lambda params: build(cell.model.name, ctx, {**cell.model.params, **params}),
        space,
        parts,
        cell.dataset.task,
        cell.budget if tuned else Budget(trials=1),
        cell.seed,
        tuning=cell.tuning,
    )


def error_text(exc: BaseException) -> str:
    tb = traceback.format_exception(exc)
    head = f"{type(exc).__name__}: {exc}"
    tail = "".join(tb[-3:]) if len(tb) > 1 else ""
    return (head + ("\n" + tail if tail else ""))[:4000]


def run_cell(cell: Cell) -> dict:
    """A full row for one cell: its keys, then either measurements or the error."""
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    t0 = time.perf_counter()
    row = {**base_row(cell), "started_at": started}
    try:
        row.update(measure_cell(cell))
    except MemoryError as exc:
        row.update(status="oom", info=error_text(exc), error_type="MemoryError")
    except Exception as exc:
        row.update(status="error", info=error_text(exc), error_type=type(exc).__name__)
    row["cell_time_s"] = time.perf_counter() - t0
    return row
