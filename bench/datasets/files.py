"""A user's own files: a CSV or Parquet table with a named target column, or an .npz of arrays X and y.

Every path that reads one (the `file`, `image_arrays` and `sequence_arrays` datasets, and
`bench advise`, which calls these loaders) goes through the same target-integrity checks, so a
target reaches the models neither damaged nor leaked into the features:

- the header (`_read`): names given twice, read from the raw header (pandas renames a repeated
  `label` to `label.1`), after a byte-order mark or blank lines alike, and names that differ only
  in spaces; a row with more values than the header has names; more than MAX_COLUMNS columns;
- the target's values (`check_target`), for tables and arrays alike: missing values, complex
  numbers, fractional or infinite class labels, classes of a single row, regression values
  whose square overflows;
- features that hold the target's values under another name (`target_copies`): dropped, and said.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import os
import re
import sys
import warnings
from pathlib import Path

import lazy_loader
import numpy as np
import psutil

from bench.datasets.core import TASKS, Data, DataError, dataset
from bench.inputs import listed, reading, shown, stat_regular

pd = lazy_loader.load("pandas")  # imported when a file is read, not to list the registry

MAX_CATEGORIES = 50  # a text column with more distinct values is not a category
# Columns a table may have. Reading costs pandas about 40 microseconds a column whatever the rows
# (100,000 columns: 4 s of CPU); the checks below are vectorised over columns.
MAX_COLUMNS = 200_000
# In a text target, these words are class names, not missing values (a region "NA", "not applicable",
# a severity "None"); blank cells and the markers programs write for a missing number stay missing.
LABEL_WORDS = ("NA", "N/A", "n/a", "None")
MISSING_MARKERS = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                   "<NA>", "NULL", "NaN", "nan", "null")
_MANGLED = re.compile(r"\.\d+$")


@functools.lru_cache(maxsize=8)
def _read(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    suffix = Path(path).suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise DataError(f"{shown(path)}: unknown file type {shown(suffix)!r}; use .csv or .parquet")
    with reading(path, DataError, "data file") as fh:
        try:
            if suffix == ".csv":
                header = _csv_header(fh)
                if header is not None and len(header) > MAX_COLUMNS:
                    _check_names(path, header)  # a table too wide is refused before pandas reads it
                frame = _read_csv(path, fh)
                if not _header_matches(header, frame.columns):  # the csv module and pandas read it differently
                    fh.seek(0)
                    header = _pandas_header(fh)
                _check_names(path, header)
            else:
                decimals = _check_parquet_schema(path, fh)
                frame = pd.read_parquet(fh)
                for col in frame.columns:
                    if str(col) in decimals:  # exact decimals are numbers, not text
                        frame[col] = frame[col].astype("float64")
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
    if frame.shape[1] > 256:  # pandas gives a wide CSV one block per column; every later drop or take walks them all
        frame = frame.copy()  # consolidated: one block per dtype
    return frame


def _read_csv(path: str, fh) -> pd.DataFrame:
    """The table of a CSV file, every row as long as the header.

    Rows one value longer than the header would make pandas read their first values as row labels and
    shift every column left (index_col=False stops that; a trailing comma on every row is still read).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:  # low_memory=False: one chunk, four times faster on a wide table, one type per column
            return pd.read_csv(fh, encoding="utf-8", low_memory=False, index_col=False)
        except pd.errors.ParserWarning:
            raise DataError(f"{shown(path)}: the rows have more values than the header has names; pandas would "
                            "read the extra values as row labels and shift every column: fix the header or the rows") from None


def _csv_header(fh) -> list[str] | None:
    """The header's names as written, read as pandas reads them (a byte-order mark and blank lines
    skipped); None when the csv module cannot read it (pandas then reads it, and says what is wrong)."""
    fh.seek(0)
    text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
    try:
        for row in csv.reader(text):
            if row and not (len(row) == 1 and not row[0].strip()):
                return row
        return None
    except (UnicodeDecodeError, csv.Error):
        return None
    finally:
        text.detach()
        fh.seek(0)


def _pandas_header(fh) -> list[str]:
    """The header's names as pandas reads them, before it renames repeats (slow: a frame of one row)."""
    row = pd.read_csv(fh, header=None, nrows=1, dtype=str, keep_default_na=False, encoding="utf-8")
    return [str(v) for v in row.iloc[0]]


def _header_matches(header: list[str] | None, columns) -> bool:
    """Whether pandas' column names are `header`'s, but for its renaming of repeats and blanks."""
    if header is None or len(header) != len(columns):
        return False
    for raw, col in zip(header, map(str, columns), strict=True):
        if raw != col and not (col.startswith("Unnamed: ") and not raw) and not (
                col.startswith(raw) and _MANGLED.fullmatch(col[len(raw):])):
            return False
    return True


def _check_names(path: str, names: list[str]) -> None:
    if len(names) > MAX_COLUMNS:
        raise DataError(f"{shown(path)}: {len(names):,} columns; bench reads tables of at most {MAX_COLUMNS:,} "
                        "columns (select the features first)")
    duplicates = _duplicate_names(names)
    if duplicates:
        raise DataError(
            f"{shown(path)}: column names appear more than once: {listed(duplicates, quote=False)}; "
            "rename them (a repeated target name would leak the answer into the features)"
        )


def _duplicate_names(names: list[str]) -> list[str]:
    """Names given twice, as written; names that differ only in spaces or a byte-order mark count as one."""
    groups: dict[str, list[str]] = {}
    for name in map(str, names):
        key = name.replace("\ufeff", "").strip()
        if key:  # pandas names blank header cells 'Unnamed: N', each its own
            groups.setdefault(key, []).append(name)
    out = []
    for key, written in groups.items():
        if len(written) > 1:
            variants = sorted(set(written))
            out.append(repr(key) if variants == [key] else f"{key!r} (written {', '.join(map(repr, variants))})")
    return out


def _check_parquet_schema(path: str, fh) -> set[str]:
    """Refuse list, struct, map or union columns (a feature is one value per row), repeated names and
    tables too wide; return the names of the decimal columns."""
    import pyarrow.parquet as pq
    import pyarrow.types as pat

    schema = pq.ParquetFile(fh).schema_arrow
    fh.seek(0)
    nested = [f"{f.name!r} ({f.type})" for f in schema if pat.is_nested(f.type)]
    if nested:
        raise DataError(f"{shown(path)}: {_count(len(nested), 'column')} that {'holds' if len(nested) == 1 else 'hold'} "
                        "lists or records, not one value "
                        f"per row: {listed(nested, quote=False)}; flatten them into scalar columns or drop them from the file")
    _check_names(path, [n for n in schema.names if not n.startswith("__index_level_")])
    return {f.name for f in schema if pat.is_decimal(f.type)}


def read_table(path: str) -> pd.DataFrame:
    """The table at `path`, its header checked (see the module's notes); read once per version of the file."""
    st = stat_regular(path, DataError, "data file")  # a FIFO or /dev/zero is refused before it is opened
    return _read(os.path.abspath(path), st.st_mtime_ns, st.st_size)


def target_column(path: str, frame: pd.DataFrame, target: str) -> pd.Series:
    """The target column of a table read by `read_table`, its class names as written.

    pandas reads "NA", "N/A" and "None" as missing; in a text target they are kept as class names
    (LABEL_WORDS), so a real class "NA" is not taken for blank cells. In a numeric target they stay
    missing cells, which `check_target` refuses.
    """
    if target not in frame.columns:
        raise DataError(f"{shown(path)}: no target column {target!r}; columns are: {listed(frame.columns, quote=False)}")
    y = frame[target]
    if Path(path).suffix.lower() == ".csv" and _kind(y.dtype) == "text" and y.isna().any():
        st = stat_regular(path, DataError, "data file")
        raw = _raw_column(os.path.abspath(path), st.st_mtime_ns, st.st_size, frame.columns.get_loc(target))
        if len(raw) == len(y):
            y = raw.set_axis(y.index).rename(y.name)
    return y


@functools.lru_cache(maxsize=8)
def _raw_column(path: str, mtime_ns: int, size: int, position: int) -> pd.Series:
    with reading(path, DataError, "data file") as fh:
        column = pd.read_csv(fh, usecols=[position], dtype=str, keep_default_na=False, na_values=list(MISSING_MARKERS),
                             encoding="utf-8", low_memory=False).iloc[:, 0]
    return column


def _kind(dtype) -> str:
    """'number', 'bool', 'text' (strings, categories), 'complex' or 'other' (dates, ...)."""
    api = pd.api.types
    if api.is_complex_dtype(dtype):
        return "complex"
    if api.is_bool_dtype(dtype):
        return "bool"
    if api.is_numeric_dtype(dtype):
        return "number"
    if api.is_object_dtype(dtype) or api.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return "text"
    return "other"


def _kinds(X: pd.DataFrame) -> list[str]:
    """`_kind` of each column, computed once per distinct dtype (a table may have 100,000 columns)."""
    cache: dict = {}
    return [cache[d] if d in cache else cache.setdefault(d, _kind(d)) for d in X.dtypes]


def _size(params: dict) -> int:
    return len(read_table(params["path"]))


def target_copies(X: pd.DataFrame, y: pd.Series) -> list:
    """Feature columns that hold the target's values under another name (a leak of the answer).

    A copy has the same missing cells and, in every other row, the same number (numeric columns of
    a numeric target, 1 and 1.0 alike) or the same text. Vectorised over numeric columns; other
    columns are compared one by one only when their first row matches.
    """
    if X.shape[1] == 0 or len(y) == 0:
        return []
    kinds = _kinds(X)
    copies: set[int] = set()  # positions
    by_number = _kind(y.dtype) == "number"
    numeric = [i for i, k in enumerate(kinds) if k == "number"] if by_number else []
    if numeric:
        t = y.to_numpy(dtype=np.float64, na_value=np.nan)[:, None]
        step = max(1, 4_000_000 // len(y))  # columns at a time: about 32 MB of float64
        for lo in range(0, len(numeric), step):
            positions = numeric[lo:lo + step]
            A = X.iloc[:, positions].to_numpy(dtype=np.float64, na_value=np.nan)
            same = ((A == t) | (np.isnan(A) & np.isnan(t))).all(axis=0)
            copies.update(positions[i] for i in np.flatnonzero(same))
    others = [i for i, k in enumerate(kinds) if not (by_number and k == "number")]
    if others:
        first = X.iloc[0].to_numpy(dtype=object)
        y0 = y.iloc[0]
        target = None
        for i in others:
            a = first[i]
            if not ((pd.isna(a) and pd.isna(y0)) or str(a) == str(y0)):
                continue
            if target is None:
                target = y.astype(str).to_numpy()
            s = X.iloc[:, i]
            if s.isna().sum() == y.isna().sum() and (s.astype(str).to_numpy() == target).all():
                copies.add(i)
    return X.columns[sorted(copies)].tolist()


def _without(frame: pd.DataFrame, names) -> pd.DataFrame:
    """`frame` less the columns `names`, as one block per type: `drop` would give one block per column,
    and every later operation on a table of 100,000 columns would walk them one by one."""
    return frame.loc[:, ~frame.columns.isin(list(names))]


def _check(params: dict) -> None:
    if params["task"] not in TASKS:
        raise DataError(f"task must be one of {', '.join(TASKS)}, got {params['task']!r}")
    if params.get("missing", "error") not in MISSING_POLICIES:
        raise DataError(f"missing must be one of {', '.join(map(repr, MISSING_POLICIES))}, got {params['missing']!r}")
    path, target = params["path"], params["target"]
    file_data(**params)  # a broken file is reported when the suite loads, before anything runs
    frame = read_table(path)  # what is said of a file that loads: words kept as classes, copies of the target dropped
    y = target_column(path, frame, target)
    kept = frame[target].isna() & y.notna()
    if kept.any():
        print(f"note: {shown(path)}: target {target!r}: {listed(sorted(set(y[kept].astype(str))))} "
              f"({_count(int(kept.sum()), 'row')}) read as class names, not missing values; blank those cells to mark "
              "them missing", file=sys.stderr)
    for col in target_copies(_without(frame, [target, *params.get("drop", ())]), y):
        print(f"warning: {shown(path)}: column {col!r} holds the target {target!r}'s values "
              "under another name; it is dropped (it would leak the answer)", file=sys.stderr)


MISSING_POLICIES = ("error", "impute")
OVERFLOW_ABS = 1e150  # squaring larger values (scaling, distances, squared errors) overflows float64


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}{'s' if n != 1 else ''}"


def check_target(where: str, y: pd.Series, task: str, missing: str = "missing (blank) cell") -> tuple[np.ndarray, tuple | None]:
    """The target as the models get it, (values, class names), or DataError starting with `where`.

    The one check of a target's values, for tables and arrays alike: `where` names the file and the
    column ("data.csv: target column 'label'") or the array ("scans.npz: y"); `missing` is what a
    missing value is called there.
    """
    kind = _kind(y.dtype)
    if kind == "complex":
        raise DataError(f"{where} holds complex numbers ({y.dtype}); a target is a real number or a class label")
    n_missing = int(y.isna().sum())
    if n_missing:
        raise DataError(f"{where} has {_count(n_missing, missing)}; drop those rows")
    if task == "regression":
        if kind != "number":
            raise DataError(f"{where} is not numeric ({y.dtype}); a regression target must be numbers")
        values = y.to_numpy(dtype=np.float64)
        if not np.isfinite(values).all():
            raise DataError(f"{where} contains inf ({_count(int((~np.isfinite(values)).sum()), 'infinite value')})")
        largest = float(np.abs(values).max())
        if largest > OVERFLOW_ABS:
            raise DataError(f"{where} holds values up to {largest:.3g}; squared errors overflow above {OVERFLOW_ABS:.0e}: "
                            "rescale or log-transform it")
        if np.ptp(values) == 0:
            raise DataError(f"{where} is constant")
        return values, None
    if kind == "number" and pd.api.types.is_float_dtype(y.dtype):
        values = y.to_numpy(dtype=np.float64)
        infinite = int(np.isinf(values).sum())
        if infinite:
            raise DataError(f"{where} holds {_count(infinite, 'infinite value')}; class labels must be integers or text")
        fractional = values[values != np.round(values)]
        if fractional.size:
            raise DataError(
                f"{where} holds non-integer numbers (e.g. {fractional[0]:g}); class labels must be integers or text: "
                'declare task = "regression" for a numeric target'
            )
    try:
        codes, names = pd.factorize(y, sort=True)
    except TypeError:  # labels of mixed types (numbers and text) have no order
        codes, names = pd.factorize(y.astype(str), sort=True)
    if len(names) < 2:
        raise DataError(f"{where} has a single class ({names[0]!r})")
    counts = np.bincount(codes, minlength=len(names))
    single = int((counts < 2).sum())
    if 2 * single > len(names):
        raise DataError(
            f"{where} has {len(names):,} classes and {single:,} of them have a single row; a class needs rows to learn "
            "from and rows to test on: is it an ID, or a number to predict (task = \"regression\")?"
        )
    return codes.astype(np.int64), tuple(map(str, names))


def _features(path: str, X: pd.DataFrame, missing: str) -> pd.DataFrame:
    """The feature columns as the models get them: numbers as float64, text as categories of str.

    Vectorised over numeric columns (a 40 x 100,000 table takes under a second, not minutes).
    """
    kinds = _kinds(X)
    positions = [i for i, k in enumerate(kinds) if k in ("number", "bool")]
    numeric = X.columns[positions].tolist()
    n_missing: dict = {}
    infinite, huge, empty = {}, {}, []
    parts = []
    if numeric:
        values = X.iloc[:, positions].to_numpy(dtype=np.float64, na_value=np.nan)  # nullable dtypes too
        n_nan, n_inf, largest = (np.zeros(len(numeric), dtype) for dtype in (np.int64, np.int64, np.float64))
        step = max(1, 4_000_000 // len(values))  # columns at a time: temporaries of about 32 MB
        for lo in range(0, len(numeric), step):
            block = values[:, lo:lo + step]
            n_nan[lo:lo + step] = np.isnan(block).sum(axis=0)
            n_inf[lo:lo + step] = np.isinf(block).sum(axis=0)
            largest[lo:lo + step] = np.where(np.isfinite(block), np.abs(block), 0.0).max(axis=0)
        for i in np.flatnonzero(n_nan):
            n_missing[numeric[i]] = int(n_nan[i])
        for i in np.flatnonzero(n_inf):
            infinite[numeric[i]] = int(n_inf[i])
        for i in np.flatnonzero(largest > OVERFLOW_ABS):
            if n_nan[i] < len(values):
                huge[numeric[i]] = float(largest[i])
        parts.append(pd.DataFrame(values, columns=pd.Index(numeric, dtype=object), index=X.index))
    text = {}
    for i, (col, kind) in enumerate(zip(X.columns, kinds, strict=True)):
        if kind in ("number", "bool"):
            continue
        s = X.iloc[:, i]
        count = int(s.isna().sum())
        n_missing[col] = count
        if count == len(s):
            continue
        if kind == "complex" or kind == "other":
            raise DataError(f"{shown(path)}: column {col!r} has type {s.dtype}, which cannot be encoded")
        n_levels = s.nunique()
        if n_levels > MAX_CATEGORIES or (n_levels == len(s) >= 20):
            raise DataError(
                f"{shown(path)}: column {col!r} is text with {n_levels} distinct values in {len(s)} rows; "
                f"cannot encode it as a category (at most {MAX_CATEGORIES}); drop it or make it numeric"
            )
        positions.append(i)
        text[col] = s.astype(object).where(s.notna(), np.nan).map(lambda v: v if v is np.nan else str(v))
    if text:
        parts.append(pd.DataFrame(text, index=X.index))
    blanks = {}
    for col in X.columns:  # in the file's order
        count = n_missing.get(col, 0)
        if count == len(X):
            empty.append(col)
        elif count:
            blanks[col] = count
    if empty:
        raise DataError(f"{shown(path)}: {_count(len(empty), 'column')} with every cell missing: "
                        f"{listed(empty)}; drop them (drop = [...])")
    if infinite:
        shown_cols = [f"{c!r} ({_count(n, 'infinite value')})" for c, n in infinite.items()]
        raise DataError(f"{shown(path)}: infinite values in {_count(len(infinite), 'column')}: {listed(shown_cols, quote=False)}")
    if huge:
        shown_cols = [f"{c!r} (up to {v:.3g})" for c, v in huge.items()]
        raise DataError(f"{shown(path)}: values too large to scale without overflow (above {OVERFLOW_ABS:.0e}) in "
                        f"{listed(shown_cols, quote=False)}; rescale or log-transform them")
    if blanks and missing != "impute":
        shown_cols = [f"{c!r} ({_count(n, 'missing cell')})" for c, n in blanks.items()]
        raise DataError(f"{shown(path)}: missing (blank) cells in {_count(len(blanks), 'column')}: "
                        f"{listed(shown_cols, quote=False)}; set missing = \"impute\" in the dataset's table to fill "
                        "them from the training rows, or clean the file")
    out = pd.concat(parts, axis=1) if len(parts) > 1 else parts[0]
    if len(parts) > 1:  # back in the file's order
        out = out.iloc[:, np.argsort(positions, kind="stable")]
    out.columns = X.columns
    return out.reset_index(drop=True)


@dataset("file", task=None, modality="tabular", size=_size, check=_check, tags=("user_file",))
def file_data(path: str, target: str, task: str, drop: list = (), missing: str = "error") -> Data:
    """A CSV or Parquet file; `target` names the label column, `drop` lists columns to ignore.

    `missing = "impute"` fills missing cells from the training rows inside each cell (median,
    most frequent category); the default refuses them, listing every column that has any.
    """
    frame = read_table(path)
    y_raw = target_column(path, frame, target)
    absent = [c for c in drop if c not in frame.columns]
    if absent:
        raise DataError(f"{shown(path)}: cannot drop missing columns {listed(absent)}")
    X = _without(frame, [target, *drop])
    X = _without(X, target_copies(X, y_raw))
    if X.shape[1] == 0:
        raise DataError(f"{shown(path)}: no feature columns besides the target {target!r}")
    y, names = check_target(f"{shown(path)}: target column {target!r}", y_raw, task)
    return Data(X=_features(path, X, missing), y=y, target_names=names)


def read_arrays(path: str) -> tuple[np.ndarray, np.ndarray]:
    """Arrays X and y of an .npz file, in the machine's byte order; what cannot be a feature or a label
    (Python objects, complex numbers, records, dates) is refused here, before any shape is looked at."""
    with reading(path, DataError, ".npz file") as fh:
        try:
            npz = np.load(fh, allow_pickle=False)  # never unpickle a user's file
            if not isinstance(npz, np.lib.npyio.NpzFile):
                raise DataError(f"{shown(path)}: holds a single array, not an .npz archive of arrays named X and y "
                                "(save them with numpy.savez(path, X=X, y=y))")
            if "X" not in npz.files or "y" not in npz.files:
                raise DataError(f"{shown(path)}: needs arrays named X and y; found {listed(npz.files) or 'none'}")
            X, y = (_native(_npz_member(path, npz, key)) for key in ("X", "y"))
        except DataError:
            raise
        except ValueError as exc:
            raise DataError(f"{shown(path)}: cannot be read as plain arrays (object arrays are refused): {exc}") from None
        except Exception as exc:  # zip or npy format errors of a truncated or foreign file
            raise DataError(f"{shown(path)}: not a readable .npz file: {exc}") from None
    for key, array in (("X", X), ("y", y)):
        if array.dtype.kind == "c":
            raise DataError(f"{shown(path)}: {key} holds complex numbers ({array.dtype}); the imaginary part would be "
                            "lost: save the real and imaginary parts as separate channels, or their magnitude")
    if not np.issubdtype(X.dtype, np.number):
        raise DataError(f"{shown(path)}: X must be numeric, got {X.dtype}")
    if y.dtype.kind not in "biufUS":
        raise DataError(f"{shown(path)}: y must hold numbers or text labels, got {y.dtype}")
    return X, y


def _native(array: np.ndarray) -> np.ndarray:
    """`array` in the machine's byte order (a big-endian file's arrays, converted, same values)."""
    return array if array.dtype.isnative else array.astype(array.dtype.newbyteorder("="))


def _arrays(path: str, task: str, modality: str, ndims: tuple[int, ...]) -> Data:
    X, y = read_arrays(path)
    if X.ndim not in ndims:
        want = " or ".join(str(d) for d in ndims)
        raise DataError(f"{shown(path)}: X has {X.ndim} dimensions {X.shape}; {modality} data needs {want}")
    if y.ndim != 1:
        raise DataError(f"{shown(path)}: y must be one-dimensional, got shape {y.shape}")
    if len(X) != len(y):
        raise DataError(f"{shown(path)}: X has {len(X)} samples but y has {len(y)}")
    if len(X) == 0:
        raise DataError(f"{shown(path)}: no samples")
    with np.errstate(over="ignore"):  # a value beyond float32 becomes inf, and is refused below
        flat = X.reshape(len(X), -1).astype(np.float32)
    if not np.isfinite(flat).all():
        if np.isfinite(X).all():
            largest = float(np.abs(X).max())
            raise DataError(f"{shown(path)}: X holds values up to {largest:.3g}, beyond float32's range "
                            f"({np.finfo(np.float32).max:.3g}); rescale them")
        raise DataError(f"{shown(path)}: X contains NaN or inf")
    values, names = check_target(f"{shown(path)}: y", pd.Series(y), task, missing="missing value (NaN)")
    if task == "classification":
        return Data(flat, values, sample_shape=tuple(X.shape[1:]), target_names=names)
    return Data(flat, values, sample_shape=tuple(X.shape[1:]))


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
