"""A user's own CSV or Parquet file with a named target column."""

from __future__ import annotations

import csv
import functools
import math
import os
import sys
from pathlib import Path

import lazy_loader
import numpy as np
import psutil

from bench.datasets import TASKS, Data, DataError, dataset
from bench.inputs import reading, shown, stat_regular

pd = lazy_loader.load("pandas")  # imported when a file is read, not to list the registry

MAX_CATEGORIES = 50  # a text column with more distinct values is not a category


@functools.lru_cache(maxsize=8)
def _read(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    suffix = Path(path).suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise DataError(f"{shown(path)}: unknown file type {shown(suffix)!r}; use .csv or .parquet")
    with reading(path, DataError, "data file") as fh:
        try:
            if suffix == ".csv":
                frame = pd.read_csv(fh, encoding="utf-8")
            else:
                _refuse_nested_columns(path, fh)
                frame = pd.read_parquet(fh)
        except DataError:
            raise
        except UnicodeDecodeError as exc:
            raise DataError(f"{shown(path)}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        except pd.errors.EmptyDataError:
            raise DataError(f"{shown(path)}: the file is empty") from None
        except RecursionError:
            raise DataError(f"{shown(path)}: nested too deeply to read") from None
        except Exception as exc:  # pandas/pyarrow parse errors have many types
            raise DataError(f"{shown(path)}: cannot be read as {suffix[1:]}: {exc}") from None
    if frame.empty:
        raise DataError(f"{shown(path)}: the file has a header but no rows")
    return frame


def _refuse_nested_columns(path: str, fh) -> None:
    """A feature is one value per row: list, struct, map or union columns of a Parquet file are refused."""
    import pyarrow.parquet as pq
    import pyarrow.types as pat

    schema = pq.ParquetFile(fh).schema_arrow
    nested = [f"{f.name!r} ({f.type})" for f in schema if pat.is_nested(f.type)]
    fh.seek(0)
    if nested:
        raise DataError(f"{shown(path)}: {_count(len(nested), 'column')} that {'holds' if len(nested) == 1 else 'hold'} "
                        "lists or records, not one value "
                        f"per row: {', '.join(nested)}; flatten them into scalar columns or drop them from the file")


def read_table(path: str) -> pd.DataFrame:
    st = stat_regular(path, DataError, "data file")  # a FIFO or /dev/zero is refused before it is opened
    frame = _read(os.path.abspath(path), st.st_mtime_ns, st.st_size)
    duplicates = _duplicate_names(path, frame)
    if duplicates:
        raise DataError(
            f"{shown(path)}: column names appear more than once: {', '.join(map(repr, duplicates))}; "
            "rename them (a repeated target name would leak the answer into the features)"
        )
    return frame


def _duplicate_names(path: str, frame: pd.DataFrame) -> list[str]:
    """Header names given twice. pandas renames a CSV's repeat `label` to `label.1`, so read the header."""
    names = list(map(str, frame.columns))
    if Path(path).suffix.lower() == ".csv":
        try:
            with open(path, encoding="utf-8", newline="") as fh:
                names = next(csv.reader(fh), names)
        except (OSError, UnicodeDecodeError, csv.Error):
            pass
    counts = pd.Series(names).value_counts()
    return sorted(counts[counts > 1].index)


def _size(params: dict) -> int:
    return len(read_table(params["path"]))


def target_copies(X: pd.DataFrame, y: pd.Series) -> list[str]:
    """Feature columns that hold the target's values under another name (a leak of the answer)."""
    target = y.astype(str).to_numpy()
    return [c for c in X.columns if X[c].isna().sum() == y.isna().sum() and (X[c].astype(str).to_numpy() == target).all()]


def _check(params: dict) -> None:
    if params["task"] not in TASKS:
        raise DataError(f"task must be one of {', '.join(TASKS)}, got {params['task']!r}")
    if params.get("missing", "error") not in MISSING_POLICIES:
        raise DataError(f"missing must be one of {', '.join(map(repr, MISSING_POLICIES))}, got {params['missing']!r}")
    frame = read_table(params["path"])
    if params["target"] in frame.columns:
        X = frame.drop(columns=[params["target"], *[c for c in params.get("drop", ()) if c in frame.columns]])
        for col in target_copies(X, frame[params["target"]]):
            print(f"warning: {params['path']}: column {col!r} holds the target {params['target']!r}'s values "
                  "under another name; it is dropped (it would leak the answer)", file=sys.stderr)
    file_data(**params)  # a broken file is reported when the suite loads, before anything runs


MISSING_POLICIES = ("error", "impute")
OVERFLOW_ABS = 1e150  # squaring larger values (scaling, distances) overflows float64


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'s' if n != 1 else ''}"


@dataset("file", task=None, modality="tabular", size=_size, check=_check, tags=("user_file",))
def file_data(path: str, target: str, task: str, drop: list = (), missing: str = "error") -> Data:
    """A CSV or Parquet file; `target` names the label column, `drop` lists columns to ignore.

    `missing = "impute"` fills missing cells from the training rows inside each cell (median,
    most frequent category); the default refuses them, listing every column that has any.
    """
    frame = read_table(path)
    if target not in frame.columns:
        raise DataError(
            f"{path}: no target column {target!r}; columns are: {', '.join(map(str, frame.columns))}"
        )
    absent = [c for c in drop if c not in frame.columns]
    if absent:
        raise DataError(f"{path}: cannot drop missing columns {absent}")
    y_raw = frame[target]
    X = frame.drop(columns=[target, *drop])
    X = X.drop(columns=target_copies(X, y_raw))
    if X.shape[1] == 0:
        raise DataError(f"{path}: no feature columns besides the target {target!r}")
    if y_raw.isna().any():
        raise DataError(f"{path}: target column {target!r} has {_count(int(y_raw.isna().sum()), 'missing (blank) cell')}; "
                        "drop those rows")
    blanks, infinite, huge, empty = {}, {}, {}, []
    for col in X.columns:
        s = X[col]
        n_missing = int(s.isna().sum())
        if n_missing == len(s):
            empty.append(col)
            continue
        if n_missing:
            blanks[col] = n_missing
        if pd.api.types.is_bool_dtype(s) or (pd.api.types.is_numeric_dtype(s)):
            values = s.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)  # nullable dtypes too
            inf = int(np.isinf(values).sum())
            if inf:
                infinite[col] = inf
            finite = values[np.isfinite(values)]
            if finite.size and np.abs(finite).max() > OVERFLOW_ABS:
                huge[col] = float(np.abs(finite).max())
            X[col] = values
        elif pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype):
            n_levels = s.nunique()
            if n_levels > MAX_CATEGORIES or (n_levels == len(s) >= 20):
                raise DataError(
                    f"{path}: column {col!r} is text with {n_levels} distinct values in {len(s)} rows; "
                    f"cannot encode it as a category (at most {MAX_CATEGORIES}); drop it or make it numeric"
                )
            X[col] = s.astype(object).where(s.notna(), np.nan).map(lambda v: v if v is np.nan else str(v))
        else:
            raise DataError(f"{path}: column {col!r} has type {s.dtype}, which cannot be encoded")
    if empty:
        raise DataError(f"{path}: {_count(len(empty), 'column')} with every cell missing: "
                        f"{', '.join(map(repr, empty))}; drop them (drop = [...])")
    if infinite:
        listed = ", ".join(f"{c!r} ({_count(n, 'infinite value')})" for c, n in infinite.items())
        raise DataError(f"{path}: infinite values in {_count(len(infinite), 'column')}: {listed}")
    if huge:
        listed = ", ".join(f"{c!r} (up to {v:.3g})" for c, v in huge.items())
        raise DataError(f"{path}: values too large to scale without overflow (above {OVERFLOW_ABS:.0e}) in {listed}; "
                        "rescale or log-transform them")
    if blanks and missing != "impute":
        listed = ", ".join(f"{c!r} ({_count(n, 'missing cell')})" for c, n in blanks.items())
        raise DataError(f"{path}: missing (blank) cells in {_count(len(blanks), 'column')}: {listed}; set "
                        'missing = "impute" in the dataset\'s table to fill them from the training rows, or clean the file')
    if task == "regression":
        if not pd.api.types.is_numeric_dtype(y_raw) or pd.api.types.is_bool_dtype(y_raw):
            raise DataError(f"{path}: regression target {target!r} is not numeric")
        y = y_raw.astype("float64").to_numpy(dtype=np.float64)
        if not np.isfinite(y).all():
            raise DataError(f"{path}: target column {target!r} contains inf")
        if np.ptp(y) == 0:
            raise DataError(f"{path}: target column {target!r} is constant")
        return Data(X=X.reset_index(drop=True), y=y)
    if pd.api.types.is_float_dtype(y_raw):
        values = y_raw.to_numpy(dtype=np.float64)
        fractional = values[np.isfinite(values) & (values != np.round(values))]
        if fractional.size:
            raise DataError(
                f"{path}: classification target {target!r} holds non-integer numbers (e.g. {fractional[0]:g}); "
                'class labels must be integers or text: declare task = "regression" for a numeric target'
            )
    codes, names = pd.factorize(y_raw, sort=True)
    if len(names) < 2:
        raise DataError(f"{path}: target column {target!r} has a single class ({names[0]!r})")
    return Data(X=X.reset_index(drop=True), y=codes.astype(np.int64), target_names=tuple(map(str, names)))


def _arrays(path: str, task: str, modality: str, ndims: tuple[int, ...]) -> Data:
    with reading(path, DataError, ".npz file") as fh:
        try:
            npz = np.load(fh, allow_pickle=False)  # never unpickle a user's file
            if not isinstance(npz, np.lib.npyio.NpzFile):
                raise DataError(f"{shown(path)}: holds a single array, not an .npz archive of arrays named X and y "
                                "(save them with numpy.savez(path, X=X, y=y))")
            if "X" not in npz.files or "y" not in npz.files:
                raise DataError(f"{shown(path)}: needs arrays named X and y; found {', '.join(npz.files) or 'none'}")
            X, y = (_npz_member(path, npz, key) for key in ("X", "y"))
        except DataError:
            raise
        except ValueError as exc:
            raise DataError(f"{shown(path)}: cannot be read as plain arrays (object arrays are refused): {exc}") from None
        except Exception as exc:  # zip or npy format errors of a truncated or foreign file
            raise DataError(f"{shown(path)}: not a readable .npz file: {exc}") from None
    if X.ndim not in ndims:
        want = " or ".join(str(d) for d in ndims)
        raise DataError(f"{shown(path)}: X has {X.ndim} dimensions {X.shape}; {modality} data needs {want}")
    if y.ndim != 1:
        raise DataError(f"{shown(path)}: y must be one-dimensional, got shape {y.shape}")
    if len(X) != len(y):
        raise DataError(f"{shown(path)}: X has {len(X)} samples but y has {len(y)}")
    if not np.issubdtype(X.dtype, np.number):
        raise DataError(f"{shown(path)}: X must be numeric, got {X.dtype}")
    if len(X) == 0:
        raise DataError(f"{shown(path)}: no samples")
    flat = X.reshape(len(X), -1).astype(np.float32)
    if not np.isfinite(flat).all():
        raise DataError(f"{shown(path)}: X contains NaN or inf")
    if task == "classification":
        codes, names = pd.factorize(pd.Series(y), sort=True)
        if len(names) < 2:
            raise DataError(f"{shown(path)}: y has a single class")
        return Data(flat, codes.astype(np.int64), sample_shape=tuple(X.shape[1:]), target_names=tuple(map(str, names)))
    if not np.issubdtype(y.dtype, np.number) or not np.isfinite(y).all():
        raise DataError(f"{shown(path)}: a regression target must be finite numbers")
    if np.ptp(y) == 0:
        raise DataError(f"{shown(path)}: the target is constant")
    return Data(flat, y.astype(np.float64), sample_shape=tuple(X.shape[1:]))


def _npz_member(path: str, npz, key: str) -> np.ndarray:
    """Array `key` of an archive, its header checked first: no pickles, no more bytes than memory holds."""
    name = f"{key}.npy" if f"{key}.npy" in npz.zip.namelist() else key
    fmt = np.lib.format
    with npz.zip.open(name) as member:
        try:
            version = fmt.read_magic(member)
        except ValueError:
            raise DataError(f"{shown(path)}: member {name} is not a NumPy array (a pickle or other bytes); "
                            "save plain arrays with numpy.savez") from None
        read_header = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}.get(version)
        if read_header is None:
            raise DataError(f"{shown(path)}: member {name} has .npy format version {version}; save it with numpy.savez")
        shape, _, dtype = read_header(member)
    if dtype.hasobject:
        raise DataError(f"{shown(path)}: array {key} holds Python objects ({dtype}); object arrays are refused "
                        "(they load only by unpickling): save plain numeric arrays")
    n_bytes = math.prod(shape) * dtype.itemsize
    available = psutil.virtual_memory().available
    if n_bytes > available:
        raise DataError(f"{shown(path)}: array {key} of shape {shape} ({dtype}) needs {n_bytes / 2**30:.1f} GB, "
                        f"more than the {available / 2**30:.1f} GB of memory available")
    return npz[key]


def _arrays_size(params: dict) -> int:
    with reading(params["path"], DataError, ".npz file") as fh, np.load(fh, allow_pickle=False) as npz:
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
