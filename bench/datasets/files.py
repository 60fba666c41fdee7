"""A user's own CSV or Parquet file with a named target column."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import pandas as pd

from bench.datasets import TASKS, Data, DataError, dataset

MAX_CATEGORIES = 50  # a text column with more distinct values is not a category


@functools.lru_cache(maxsize=8)
def _read(path: str, mtime_ns: int) -> pd.DataFrame:
    suffix = Path(path).suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path, encoding="utf-8")
        elif suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            raise DataError(f"{path}: unknown file type {suffix!r}; use .csv or .parquet")
    except DataError:
        raise
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except Exception as exc:  # pandas/pyarrow parse errors have many types
        raise DataError(f"{path}: cannot be read as {suffix[1:]}: {exc}") from None
    if frame.empty:
        raise DataError(f"{path}: the file has a header but no rows")
    return frame


def read_table(path: str) -> pd.DataFrame:
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file")
    return _read(os.path.abspath(path), os.stat(path).st_mtime_ns)


def _size(params: dict) -> int:
    return len(read_table(params["path"]))


def _check(params: dict) -> None:
    if params["task"] not in TASKS:
        raise DataError(f"task must be one of {', '.join(TASKS)}, got {params['task']!r}")
    file_data(**params)  # a broken file is reported when the suite loads, before anything runs


@dataset("file", task=None, modality="tabular", size=_size, check=_check, tags=("user_file",))
def file_data(path: str, target: str, task: str, drop: list = ()) -> Data:
    """A CSV or Parquet file; `target` names the label column, `drop` lists columns to ignore."""
    frame = read_table(path)
    if target not in frame.columns:
        raise DataError(
            f"{path}: no target column {target!r}; columns are: {', '.join(map(str, frame.columns))}"
        )
    missing = [c for c in drop if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: cannot drop missing columns {missing}")
    y_raw = frame[target]
    X = frame.drop(columns=[target, *drop])
    if X.shape[1] == 0:
        raise DataError(f"{path}: no feature columns besides the target {target!r}")
    if y_raw.isna().any():
        raise DataError(f"{path}: target column {target!r} has {int(y_raw.isna().sum())} missing values")
    for col in X.columns:
        s = X[col]
        if pd.api.types.is_bool_dtype(s):
            X[col] = s.astype(np.float64)
        elif pd.api.types.is_numeric_dtype(s):
            values = s.to_numpy(dtype=np.float64)
            if not np.isfinite(values).all():
                raise DataError(f"{path}: column {col!r} contains NaN or inf")
        elif pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s):
            if s.isna().any():
                raise DataError(f"{path}: column {col!r} has missing values")
            n_levels = s.nunique()
            if n_levels > MAX_CATEGORIES or (n_levels == len(s) >= 20):
                raise DataError(
                    f"{path}: column {col!r} is text with {n_levels} distinct values in {len(s)} rows; "
                    f"cannot encode it as a category (at most {MAX_CATEGORIES}); drop it or make it numeric"
                )
            X[col] = s.astype(str)
        else:
            raise DataError(f"{path}: column {col!r} has type {s.dtype}, which cannot be encoded")
    if task == "regression":
        if not pd.api.types.is_numeric_dtype(y_raw):
            raise DataError(f"{path}: regression target {target!r} is not numeric")
        y = y_raw.to_numpy(dtype=np.float64)
        if not np.isfinite(y).all():
            raise DataError(f"{path}: target column {target!r} contains inf")
        if np.ptp(y) == 0:
            raise DataError(f"{path}: target column {target!r} is constant")
        return Data(X=X.reset_index(drop=True), y=y)
    codes, names = pd.factorize(y_raw, sort=True)
    if len(names) < 2:
        raise DataError(f"{path}: target column {target!r} has a single class ({names[0]!r})")
    return Data(X=X.reset_index(drop=True), y=codes.astype(np.int64), target_names=tuple(map(str, names)))


def _arrays(path: str, task: str, modality: str, ndims: tuple[int, ...]) -> Data:
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as npz:  # never unpickle a user's file
            if "X" not in npz.files or "y" not in npz.files:
                raise DataError(f"{path}: needs arrays named X and y; found {', '.join(npz.files) or 'none'}")
            X, y = npz["X"], npz["y"]
    except DataError:
        raise
    except ValueError as exc:
        raise DataError(f"{path}: cannot be read as plain arrays (object arrays are refused): {exc}") from None
    except Exception as exc:  # zip or npy format errors of a truncated or foreign file
        raise DataError(f"{path}: not a readable .npz file: {exc}") from None
    if X.ndim not in ndims:
        want = " or ".join(str(d) for d in ndims)
        raise DataError(f"{path}: X has {X.ndim} dimensions {X.shape}; {modality} data needs {want}")
    if y.ndim != 1:
        raise DataError(f"{path}: y must be one-dimensional, got shape {y.shape}")
    if len(X) != len(y):
        raise DataError(f"{path}: X has {len(X)} samples but y has {len(y)}")
    if not np.issubdtype(X.dtype, np.number):
        raise DataError(f"{path}: X must be numeric, got {X.dtype}")
    if len(X) == 0:
        raise DataError(f"{path}: no samples")
    flat = X.reshape(len(X), -1).astype(np.float32)
    if not np.isfinite(flat).all():
        raise DataError(f"{path}: X contains NaN or inf")
    if task == "classification":
        codes, names = pd.factorize(pd.Series(y), sort=True)
        if len(names) < 2:
            raise DataError(f"{path}: y has a single class")
        return Data(flat, codes.astype(np.int64), sample_shape=tuple(X.shape[1:]), target_names=tuple(map(str, names)))
    if not np.issubdtype(y.dtype, np.number) or not np.isfinite(y).all():
        raise DataError(f"{path}: a regression target must be finite numbers")
    if np.ptp(y) == 0:
        raise DataError(f"{path}: the target is constant")
    return Data(flat, y.astype(np.float64), sample_shape=tuple(X.shape[1:]))


def _arrays_size(params: dict) -> int:
    with np.load(params["path"], allow_pickle=False) as npz:
        return len(npz["y"])


def _arrays_check(modality: str, ndims: tuple[int, ...]):
    def check(params: dict) -> None:
        if params["task"] not in TASKS:
            raise DataError(f"task must be one of {', '.join(TASKS)}, got {params['task']!r}")
        _arrays(params["path"], params["task"], modality, ndims)

    return check


@dataset("image_arrays", task=None, modality="image", size=_arrays_size, check=_arrays_check("image", (3, 4)), tags=("user_file",))
def image_arrays(path: str, task: str) -> Data:
    """Your images: a .npz file with X (n, H, W) or (n, C, H, W) and labels y (n,)."""
    return _arrays(path, task, "image", (3, 4))


@dataset("sequence_arrays", task=None, modality="sequence", size=_arrays_size, check=_arrays_check("sequence", (2, 3)), tags=("user_file",))
def sequence_arrays(path: str, task: str) -> Data:
    """Your sequences: a .npz file with X (n, L) or (n, L, C) and targets y (n,)."""
    return _arrays(path, task, "sequence", (2, 3))
