"""A cell's data, ready to fit: the dataset loaded, split into its training pool and test rows,
engineered features, the first n_train rows, preprocessing fitted on them, the validation carve.

Every model of a (dataset, features, size, seed) group gets the same split; a run caches it on
disk (`cache_dir`) so the group's later models map it instead of computing it again.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import mmap
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bench import datasets as ds
from bench.execution.threads import thread_limit
from bench.features import FEATURES
from bench.suite import Cell
from bench.tuning import carve, validation_rows

# The environment variable that named the split cache before settings were passed explicitly;
# nothing reads it now (cache_root). Kept while callers still clear it from inherited environments.
CACHE_ENV = "BENCH_CACHE_DIR"
_PAGE = 4096
# A model with this tag takes a table's categorical columns itself (bench.registry.MODEL_TAGS):
# its cells get them as ordinal codes, with their column indices; every other model, one-hot.
NATIVE_TAG = "native_categories"
MISSING_CODE = -1  # the code of a missing category, or of one the training rows never held (bench.models.categories)


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
    # Columns of X that hold category codes (0..k-1, MISSING_CODE for missing or unseen): set
    # only for a model tagged NATIVE_TAG on a table with categorical columns; else () (one-hot).
    categorical: tuple[int, ...] = ()
    table_categories: int = 0  # the table's categorical columns, however encoded (one-hot or codes)


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


def cache_root(cache_dir: str | os.PathLike | None) -> Path | None:
    """The folder of the run's split cache: `cache_dir` as the caller passes it; None or "", no cache.

    The environment is not read: bench.execution.isolate and dask_cluster pass each cell its
    run's cache (CACHE_ENV, the variable that once named it, is read by nothing).
    """
    return Path(cache_dir) if cache_dir else None


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


def _prepared_pool(cell: Cell, root: Path | None = None):
    """(X_pool, y_pool, X_test, y_test, sample_shape) for the cell's dataset, seed and features.

    Cached on disk (in `root`, the run's cache) because every model of a cell group needs the
    same arrays and engineered features can be slow to compute; a cached pool is mapped, not read.
    """
    spec = cell.dataset
    variant = FEATURES[cell.features]
    cache = root / _pool_key(cell) if root else None
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
        # A variant that learns from rows (MiniRocket's biases) sees the training pool only.
        fit = {"fit_rows": pool} if variant.fits else {}
        X = variant.fn(np.asarray(X), data.sample_shape, spec.modality, **fit)
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
            return _prepared_pool(cell, root)
    take = (lambda idx: X.iloc[idx].reset_index(drop=True)) if isinstance(X, pd.DataFrame) else (lambda idx: X[idx])
    return take(pool), data.y[pool], take(test), data.y[test], shape


def takes_categories(cell: Cell) -> bool:
    """Whether the cell's model takes categorical columns natively (tagged NATIVE_TAG)."""
    return NATIVE_TAG in cell.model.tags


def categorical_columns(X) -> list:
    """The categorical columns of a table: a DataFrame's non-numeric ones (text, as datasets deliver categories)."""
    if not isinstance(X, pd.DataFrame):
        return []
    return [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]


def _preprocessor(X, modality: str, features: str, native: bool = False):
    """Scaling and encoding, fitted later on the training part only.

    A table's columns come out numbers first, then categories. A category is one-hot encoded
    (missing cells filled with the training rows' most frequent value); with `native` (a model
    that takes categories itself) it is one column of ordinal codes 0..k-1, sorted values of
    the training rows, and a missing or unseen value reads MISSING_CODE.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import (
        FunctionTransformer,
        OneHotEncoder,
        OrdinalEncoder,
        StandardScaler,
    )

    if isinstance(X, pd.DataFrame):
        # Missing numbers (a file read with missing = "impute") are filled from the training
        # rows only, with their median; so are one-hot categories, with the most frequent value.
        text = categorical_columns(X)
        numeric = [c for c in X.columns if c not in text]
        if native:
            categories = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=MISSING_CODE,
                                        encoded_missing_value=MISSING_CODE, dtype=np.float64)
        else:
            categories = make_pipeline(SimpleImputer(strategy="most_frequent", keep_empty_features=True),
                                       OneHotEncoder(handle_unknown="ignore", sparse_output=False))
        return ColumnTransformer(
            [
                ("numeric", make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True),
                                          StandardScaler()), numeric),
                ("categorical", categories, text),
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


def prepare(cell: Cell, cache_dir: str | os.PathLike | None = None) -> Split:
    """The cell's split: first n_train rows of the stratified pool, preprocessing fitted on them.

    Every model of a (dataset, features, size, seed) group gets the same split: the first to
    run computes it and caches it (in `cache_dir`, the run's cache; see `cache_root`); the
    others map the cached arrays (copy-on-write), so a worker neither reads nor copies them,
    and all of them, the first included, start their fit from identical memory.
    """
    root = cache_root(cache_dir)
    shared = native = None
    if root is not None:
        # A table's categories coded for a model that takes them (takes_categories) and one-hot
        # for the others are different arrays: two entries, never one. Data without categorical
        # columns (every array dataset) give the same arrays to both: one entry, `shared`.
        shared = root / f"split-{_split_key(cell, 'one-hot')}"
        native = root / f"split-{_split_key(cell, 'native')}" if takes_categories(cell) else None
        if native is not None and (native / "meta.json").exists():
            return _cached_split(native)
        if (shared / "meta.json").exists():
            meta = json.loads((shared / "meta.json").read_text())
            if native is None or not meta.get("table_categories"):
                return _cached_split(shared)
    # Data preparation runs on one thread: BLAS threads woken here would spin on into the
    # measured fit and be billed to the model as CPU time.
    with thread_limit(1):
        split = _split(cell, root)
    cache = native if split.categorical else shared
    if cache is not None and isinstance(split.X_train, np.ndarray):

        def write(folder: Path) -> None:
            index = _write_arrays(folder / "split.bin", {n: getattr(split, n) for n in SPLIT_ARRAYS})
            (folder / "meta.json").write_text(json.dumps({
                "sample_shape": split.sample_shape, "n_classes": split.n_classes,
                "missing_classes": list(split.missing_classes), "categorical": list(split.categorical),
                "table_categories": split.table_categories, "arrays": index,
            }))

        if _write_cache(cache, write):
            del split
            return _cached_split(cache)
    return split


def _split_key(cell: Cell, encoding: str) -> str:
    """The split cache's key for a cell whose categories (if any) are encoded `encoding`."""
    return hashlib.sha256(
        f"{_pool_key(cell)}|{cell.n_train}|{cell.dataset.modality}|{cell.validation}|{encoding}|"
        f"{_source_stamp(_preprocessor, _split, carve)}".encode()
    ).hexdigest()[:24]


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
        tuple(meta.get("categorical", ())), meta.get("table_categories", 0),
    )


def _split(cell: Cell, root: Path | None = None) -> Split:
    X_pool, y_pool, X_test, y_test, shape = _prepared_pool(cell, root)
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
    native = takes_categories(cell)
    n_categories = len(categorical_columns(X_train))
    pre = _preprocessor(X_train, cell.dataset.modality, cell.features, native=native)
    X_train, X_test = _fit_transform(pre, X_train, X_test)
    # The ColumnTransformer puts the numbers first, then (native) one code column per category.
    categorical = tuple(range(X_train.shape[1] - n_categories, X_train.shape[1])) if native else ()
    fit_rows = val_rows = None
    n_val = validation_rows(cell.n_train, cell.validation)
    if n_val:  # the same for every model of the group: carved once, with the split
        fit_rows, val_rows = carve(y_train, n_val, cell.seed, cell.dataset.task)
    return Split(X_train, y_train, X_test, y_test, shape, n_classes, classes, missing, fit_rows, val_rows,
                 categorical, n_categories)
