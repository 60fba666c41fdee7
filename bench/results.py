"""The results table: one row per cell, a fixed column order, appended as cells finish.

`rows.jsonl` is the append-only record (one JSON line per finished cell, fsynced): a killed
run loses at most the cell in flight, and `--resume` reads what is there. `results.parquet`
and `results.csv` are rewritten from it atomically in batches (whenever the rows since the
last write reach a quarter of all rows and at least 16, or a minute has passed and the last
write took at most 5% of it) and at the end of a run, so recording a cell costs the same at
the 100,000th row as at the 100th. The Parquet file records how many bytes of rows.jsonl it holds;
`load` adds the rows written after them.

Every row records the version of the schema it was written under (`schema`; a row without
one is version 1). A run folder whose rows are older is brought up to `SCHEMA` once by
`upgrade`, which writes the upgraded rows back, so that reading a folder never depends on
today's model and dataset registries (the report reads only the rows and the run folder).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import math
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bench.atomic import atomic_write
from bench.errors import RunError
from bench.inputs import read_bytes, reading, shown

# predictions_of: a row's kept test predictions, read from here (the report's reader).
from bench.predictions import PREDICTIONS_KEY, TEST_LABELS_KEY, keep
from bench.predictions import predictions_of as predictions_of

LEADING = [
    "dataset", "modality", "task", "model", "family", "features", "tuning",
    "n_train", "n_test", "seed", "status", "info",
]
SCORES = ["accuracy", "balanced_accuracy", "f1_macro", "log_loss", "r2", "rmse", "mae"]
COSTS = [
    "fit_time_s", "fit_cpu_s", "predict_time_s", "predict_cpu_s", "predict_latency_ms",
    "peak_memory_mb", "n_params", "model_bytes", "search_time_s", "search_cpu_s",
]
EXTRA = [
    "score", "train_score", "val_score", "val_score_cv", "val_score_cv_se", "cv_folds", "cv_missing", "selected_by",
    "n_validation", "n_trials", "tuning_capped", "epochs_capped", "best_params", "trials", "size_proxy", "size_unit", "gpu_peak_memory_mb",
    "data_mb", "prepare_memory_mb",
    "dataset_name", "model_name", "model_tags", "dataset_tags", "n_features", "n_classes", "missing_classes", "threads", "jobs", "device",
    "device_name",
    "host", "cpu_model", "worker", "error_type", "cell_time_s", "startup_s", "limit", "load_avg", "started_at",
    "params", "hyperparams", "dataset_params", "dataset_effective_params", "history", "predictions_sha", "key",
    "schema",
]
COLUMNS = LEADING + SCORES + COSTS + EXTRA

_INT = {"n_train", "n_test", "seed", "threads", "jobs"}
_TEXT = {
    "dataset", "modality", "task", "model", "family", "features", "tuning", "status", "info", "size_unit",
    "best_params", "trials", "cv_folds", "cv_missing", "selected_by",
    "dataset_name", "model_name", "model_tags", "dataset_tags", "missing_classes", "device", "device_name", "host",
    "cpu_model", "worker",
    "error_type", "limit", "started_at", "params", "hyperparams", "dataset_params", "dataset_effective_params",
    "history", "predictions_sha", "key",
}
# The version of the rows' schema this code writes. 1: rows before versions, whose model_tags,
# dataset_tags and hyperparams may be missing; 2: every row carries its tags, a finished cell
# its effective hyperparameters, and every row the dataset's effective parameters (its
# loader's defaults merged with the suite's `dataset_params`) in `dataset_effective_params`.
SCHEMA = 2

# Statuses `--resume` runs again: the cell was stopped from outside, not by its own doing.
RETRIED_STATUSES = ("killed",)

ROWS_FILE = "rows.jsonl"
LOCK_FILE = ".lock"
# The tables are rewritten with a run's first TABLES_FIRST_ROWS rows, then once the rows not
# yet in them reach TABLES_BATCH_SHARE of all rows and at least TABLES_MIN_BATCH (so rewrites
# cost a constant per row however long the run: a rewrite costs about 25 ms plus 0.05 ms a
# row), or after TABLES_EVERY_S seconds when the last rewrite took at most TABLES_MAX_SHARE
# of that time (so slow cells do not leave the tables behind for hours).
TABLES_FIRST_ROWS = 2
TABLES_BATCH_SHARE = 1 / 4
TABLES_MIN_BATCH = 16
TABLES_EVERY_S = 60.0
TABLES_MAX_SHARE = 0.05
COVERED_KEY = b"bench.rows_bytes"  # Parquet metadata: the bytes of rows.jsonl the table holds


class RunLocked(RuntimeError):
    """Another run is writing into this folder."""


def parse_json(text) -> dict:
    """A JSON object from a row's text column (params, hyperparams, dataset_params...); {} for
    missing or malformed text."""
    try:
        value = json.loads(text) if isinstance(text, str) and text else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def frame(rows: list[dict]) -> pd.DataFrame:
    """Rows as a DataFrame with every column of the schema, in order, with stable dtypes."""
    df = pd.DataFrame.from_records(rows, columns=COLUMNS) if rows else pd.DataFrame(columns=COLUMNS)
    return _typed(df)


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """`df` with the schema's columns (missing ones empty), in order, in their dtypes; a row without a schema is 1."""
    df = df.reindex(columns=COLUMNS)
    for col in COLUMNS:
        if col == "schema":
            df[col] = pd.to_numeric(df[col]).fillna(1).astype("int64")
        elif col in _INT:
            df[col] = pd.to_numeric(df[col]).astype("int64")
        elif col in _TEXT:
            df[col] = df[col].astype("string")
        else:
            df[col] = pd.to_numeric(df[col]).astype("float64")
    return df


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else value
    return value


class ResultsStore:
    """The results of one run folder; holds a lock so two runs never write into one folder."""

    def __init__(self, run_dir: str | os.PathLike):
        self.dir = Path(run_dir)
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._lock = open(self.dir / LOCK_FILE, "a")
        except OSError as exc:  # a file in the way, a read-only or full disk, no permission
            raise RunError(f"{shown(self.dir)}: cannot write results into this folder: {exc.strerror or exc}") from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise RunLocked(f"{self.dir}: another run is writing into this folder") from None
        self._rows: dict = {r.get("key"): r for r in read_rows(self.dir)}
        self._rows_bytes = self._repair_tail()
        self._pending = 0  # rows appended since the tables were last written
        self._tables_at = time.monotonic()
        self._tables_cost_s = 0.0

    @property
    def rows(self) -> list[dict]:
        """The recorded rows, the latest per cell, in the order they were last written."""
        return list(self._rows.values())

    def _repair_tail(self) -> int:
        """Cut a half-written last line left by a kill, so the next append starts clean; the file's size."""
        path = self.dir / ROWS_FILE
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return 0
        try:
            size = end = os.fstat(fd).st_size
            if not size or os.pread(fd, 1, size - 1) == b"\n":
                return size
            while end > 0:  # back to the last newline, a block at a time
                start = max(0, end - 65536)
                newline = os.pread(fd, end - start, start).rfind(b"\n")
                if newline >= 0:
                    end = start + newline + 1
                    break
                end = start
        finally:
            os.close(fd)
        os.truncate(path, end)
        return end

    def done_keys(self, retry: tuple[str, ...] = ()) -> set[str]:
        """Keys of cells that need not run again (statuses in RETRIED_STATUSES and `retry` do)."""
        again = {*RETRIED_STATUSES, *retry}
        return {k for k, r in self._rows.items() if r.get("status") not in again}

    def append(self, row: dict) -> None:
        """Record a finished cell; a cell run again (a retried kill) replaces its earlier row.

        The row is on disk (rows.jsonl, fsynced) when this returns; the tables follow in
        batches (`tables_due`). A failed write (disk full, folder made read-only) leaves the
        rows file as it was before this row and raises RunError; the tables are then
        rewritten or removed (see write_tables).

        A finished cell's test labels and predictions (the row's private keys) are written
        first, into predictions/ (bench.predictions), never into the row.
        """
        labels, predicted = row.get(TEST_LABELS_KEY), row.get(PREDICTIONS_KEY)
        row = {k: _clean(v) for k, v in row.items() if not str(k).startswith("_")}
        if labels is not None and predicted is not None and row.get("status") == "ok":
            try:
                keep(self.dir, row, labels, predicted)
            except OSError as exc:
                raise self._write_error(f"the test predictions of cell {row.get('key')}", exc) from None
        row.setdefault("schema", SCHEMA)  # written by this code: the current schema
        data = (json.dumps(row, ensure_ascii=False, default=str) + "\n").encode("utf-8")
        try:
            _append_whole(self.dir / ROWS_FILE, data)
        except OSError as exc:
            raise self._write_error(f"the row of cell {row.get('key')}", exc) from None
        self._rows_bytes += len(data)
        self._rows.pop(row.get("key"), None)
        self._rows[row.get("key")] = row
        self._pending += 1
        if self.tables_due():
            self.write_tables()

    def tables_due(self) -> bool:
        """Whether the tables should be rewritten now (see TABLES_BATCH_SHARE, TABLES_EVERY_S)."""
        if not self._pending:
            return False
        if len(self._rows) <= TABLES_FIRST_ROWS:
            return True
        if self._pending >= max(TABLES_MIN_BATCH, TABLES_BATCH_SHARE * len(self._rows)):
            return True
        waited = time.monotonic() - self._tables_at
        return waited >= TABLES_EVERY_S and self._tables_cost_s <= TABLES_MAX_SHARE * waited

    def write_tables(self) -> pd.DataFrame:
        """Rewrite results.parquet and results.csv from the rows, each atomically.

        If one cannot be written, both are removed rather than left behind the rows file, so
        that `load` reads every recorded row from rows.jsonl; `--resume` writes them again.
        """
        t0 = time.monotonic()
        df = frame(self.rows)
        covered = self._rows_bytes
        try:
            atomic_write(self.dir / "results.parquet", lambda p: _to_parquet(df, p, covered))
            atomic_write(self.dir / "results.csv", lambda p: df.to_csv(p, index=False))
        except OSError as exc:
            for name in ("results.parquet", "results.csv"):
                with contextlib.suppress(OSError):
                    (self.dir / name).unlink(missing_ok=True)
            raise self._write_error("results.parquet and results.csv", exc) from None
        self._pending = 0
        self._tables_at = time.monotonic()
        self._tables_cost_s = self._tables_at - t0
        return df

    def rewrite_rows(self, upgraded: pd.DataFrame) -> None:
        """Replace each recorded row of an older schema by its row in `upgraded` (by key), rewriting rows.jsonl whole.

        The tables are removed first and rewritten after, so that a crash in between leaves
        rows.jsonl (the old one or the new one, whole) as the one record `load` reads.
        """
        by_key = {r["key"]: r for r in upgraded.to_dict("records")}
        rows = {}
        for key, row in self._rows.items():
            new = by_key.get(key)
            if (row.get("schema") or 1) < SCHEMA and new is not None:
                filled = {c: _plain(new[c]) for c in COLUMNS if row.get(c) is None}  # an upgrade only fills
                row = {**row, **{c: v for c, v in filled.items() if v is not None}}
            rows[key] = row
        data = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows.values()).encode("utf-8")
        for name in ("results.parquet", "results.csv"):
            (self.dir / name).unlink(missing_ok=True)
        atomic_write(self.dir / ROWS_FILE, data)
        self._rows, self._rows_bytes = rows, len(data)
        self.write_tables()

    def write_json(self, name: str, obj: dict) -> None:
        try:
            atomic_write(self.dir / name, json.dumps(obj, indent=2, default=str, ensure_ascii=False))
        except OSError as exc:
            raise self._write_error(name, exc) from None

    def _write_error(self, what: str, exc: OSError) -> RunError:
        """One line: what could not be written and why, what is kept, how to finish."""
        remedy = {errno.ENOSPC: "free some space", errno.EDQUOT: "free some space (disk quota)",
                  errno.EROFS: "make the folder writable", errno.EACCES: "make the folder writable",
                  errno.EPERM: "make the folder writable"}.get(exc.errno, "fix that")
        n = len(self._rows)
        return RunError(
            f"{shown(self.dir)}: cannot write {what}: {exc.strerror or exc}; the run stopped, and the "
            f"{n} row{'s' if n != 1 else ''} recorded before are kept in {ROWS_FILE}: {remedy}, then complete "
            f"the run with --resume {shown(self.dir)}"
        )

    def close(self) -> None:
        self._lock.close()


_write = os.write  # the one call that appends a row (tests inject disk-full faults here)


def _append_whole(path: Path, data: bytes) -> None:
    """Append `data` to `path` and fsync it, or, if any of it cannot be written, cut the file back."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        size = os.fstat(fd).st_size
        try:
            view = memoryview(data)
            while view:
                view = view[_write(fd, view):]
            os.fsync(fd)
        except OSError:
            with contextlib.suppress(OSError):  # shrinking needs no space
                os.ftruncate(fd, size)
            raise
    finally:
        os.close(fd)


def _to_parquet(df: pd.DataFrame, path, covered: int) -> None:
    """`df` as Parquet, with the bytes of rows.jsonl it holds in the file's metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), COVERED_KEY: str(covered).encode()})
    pq.write_table(table, path)


_NUMERIC = [c for c in COLUMNS if c not in _INT and c not in _TEXT]
_NUMERIC_SET = frozenset(_NUMERIC)
_PLAIN = (int, float, type(None))
_INTEGERS = [c for c in COLUMNS if c in _INT]  # in the schema's order, so a message names the same column each time


def _whole(value) -> bool:
    """Whether `frame` can hold `value` in an int64 column."""
    if type(value) is int:
        return -(2**63) <= value < 2**63
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]{1,18}\s*", value):
        return True
    return type(value) in (int, float) and math.isfinite(value) and value == int(value) and abs(value) < 2**63


def _number(value) -> bool:
    """Whether `frame` can hold `value` in a float64 column (None is a missing value)."""
    if value is None or type(value) in (int, float, bool):
        return True
    if isinstance(value, str):
        try:
            pd.to_numeric(value)
        except (ValueError, TypeError):
            return False
        return True
    return False


def _row_problem(row) -> str | None:
    """Why a JSON line is not a row this harness wrote (what `frame` could not hold), or None."""
    if not isinstance(row, dict):
        return f"a JSON {type(row).__name__}, not an object"
    if not isinstance(row.get("key"), str):
        return f"its key is {_brief(row.get('key'))}, not text"
    for col in _INTEGERS:
        if row.get(col) is None:
            return f"it has no {col}"
        if not _whole(row[col]):
            return f"{col} is {_brief(row[col])}, not a whole number"
    odd = [c for c in _NUMERIC_SET.intersection(row) if type(row[c]) not in _PLAIN and not _number(row[c])]
    if odd:
        col = min(odd, key=COLUMNS.index)
        return f"{col} is {_brief(row[col])}, not a number"
    return None


def _brief(value) -> str:
    text = "missing" if value is None else repr(value)
    return shown(text)


def _parse_rows(data: bytes, rows: dict | None = None, where: Path | None = None, first_line: int = 1) -> dict:
    """{key: row} from JSON lines, the latest per key last; a torn line is skipped.

    A whole JSON line that is not a row (no text key, a count that is not a number) is refused
    with RunError naming `where` and the line: a table built from it would fail, or lie.
    """
    rows = {} if rows is None else rows
    # A kill can tear a line inside a multi-byte character: decode line by line, and skip what is not JSON.
    for number, line in enumerate(data.splitlines(), first_line):
        try:
            row = json.loads(line.decode("utf-8", errors="replace"))
        except (json.JSONDecodeError, RecursionError):
            continue
        problem = _row_problem(row)
        if problem:
            raise RunError(f"{shown(where or ROWS_FILE)}: line {number} is not a row of a run ({problem}); "
                           "remove that line (or the folder) and run again")
        rows.pop(row["key"], None)
        rows[row["key"]] = row
    return rows


def read_rows(run_dir: str | os.PathLike) -> list[dict]:
    """Finished rows of a run folder, the latest per cell; a torn last line (a kill mid-write) is ignored."""
    path = Path(run_dir) / ROWS_FILE
    if not path.exists():
        return []
    return list(_parse_rows(read_bytes(path, RunError, "rows file"), where=path).values())


def _rows_after(path: Path, offset: int) -> dict | None:
    """{key: row} of the rows file from byte `offset` on; None if the file is shorter than that."""
    with reading(path, RunError, "rows file") as fh:
        if os.fstat(fh.fileno()).st_size < offset:
            return None
        before = fh.read(offset).count(b"\n")
        return _parse_rows(fh.read(), where=path, first_line=before + 1)


def load(run_dir: str | os.PathLike) -> pd.DataFrame:
    """The results table of a run folder: its parquet file, with the rows written after it, or the rows alone."""
    run_dir = Path(run_dir)
    parquet = run_dir / "results.parquet"
    rows_path = run_dir / ROWS_FILE
    if parquet.exists():
        import pyarrow.parquet as pq

        with reading(parquet, RunError, "results table") as fh:  # a FIFO put there would block for ever
            try:
                arrow = pq.read_table(fh)
                table = arrow.to_pandas()
            except (OSError, ValueError, TypeError, ArithmeticError) as exc:  # pyarrow's errors derive from these
                remedy = (f"delete it to rebuild the table from {ROWS_FILE}" if rows_path.exists()
                          else "this folder's results cannot be read")
                raise RunError(f"{shown(parquet)}: not a readable Parquet table ({first_line_of(exc)}); {remedy}") from None
        table = _checked(table, parquet)
        covered = (arrow.schema.metadata or {}).get(COVERED_KEY)
        if covered is not None and covered.isdigit():
            if not rows_path.exists():
                return table
            later = _rows_after(rows_path, int(covered))
            if later is not None:
                return _with_rows(table, later)
        elif not _behind_rows(run_dir, parquet, table):
            return table
    return frame(read_rows(run_dir))


REQUIRED = ("dataset", "modality", "task", "model", "family", "n_train", "seed", "status")  # what a report reads first


def first_line_of(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return shown(text[0][:200] if text else type(exc).__name__)


def _checked(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """A results table read from a file, with the schema's dtypes; RunError names a missing or wrong column."""
    remedy = (f"delete it to rebuild the table from {ROWS_FILE}" if (path.parent / ROWS_FILE).exists()
              else "this folder's results cannot be read")
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise RunError(f"{shown(path)}: not a results table of bench (no column {', '.join(missing)}); {remedy}")
    table = table.copy()
    for col in COLUMNS:
        if col not in table.columns or col in _TEXT:
            continue
        values = pd.to_numeric(table[col], errors="coerce")
        bad = values.isna() & table[col].notna() if col not in _INT else values.isna() | (values % 1 != 0)
        if bad.any():
            at = int(bad.to_numpy().argmax())
            kind = "a whole number" if col in _INT else "a number"
            raise RunError(f"{shown(path)}: column {col} holds {_brief(table[col].iloc[at])} in row {at + 1}, "
                           f"not {kind}; {remedy}")
        table[col] = values.astype("int64") if col in _INT else values.astype("float64")
    table["schema"] = (table["schema"].fillna(1) if "schema" in table else pd.Series(1, index=table.index)).astype("int64")
    return table


def _with_rows(table: pd.DataFrame, later: dict) -> pd.DataFrame:
    """The table with the rows of `later` in place of its own rows of the same cells, at the end."""
    if not later:
        return table
    kept = table[~table["key"].isin([k for k in later if k is not None])] if "key" in table else table
    return pd.concat([kept, frame(list(later.values()))], ignore_index=True)


def _behind_rows(run_dir: Path, parquet: Path, table: pd.DataFrame) -> bool:
    """Whether rows.jsonl holds rows a table of an earlier version (no byte count) lacks."""
    rows = run_dir / ROWS_FILE
    if not rows.exists():
        return False
    if rows.stat().st_mtime_ns > parquet.stat().st_mtime_ns:
        return True
    return "key" in table and set(table["key"]) != {r.get("key") for r in read_rows(run_dir)}


@dataclass(frozen=True)
class Upgrade:
    """What `upgrade` did to a run folder."""

    table: pd.DataFrame  # the folder's results table, every row at SCHEMA
    rows: int  # rows brought up to SCHEMA (0: the folder was current)
    unwritten: str | None = None  # why the upgrade stayed in memory; None when written back (or nothing to do)


def upgrade(run_dir: str | os.PathLike, fill: Callable[[pd.DataFrame], pd.DataFrame]) -> Upgrade:
    """Bring a run folder's rows of an older schema up to SCHEMA, once, and write them back.

    `fill(table)` returns the table with its rows of an older schema (`schema` < SCHEMA) at
    SCHEMA and the others unchanged (`bench.upgrade.fill_from_registry` fills them from the
    registries). Under the folder's lock, rows.jsonl is rewritten whole and atomically with
    the upgraded rows (the tables are removed first, so that a crash leaves the rows file as
    the one record) and the tables are rewritten from it; a folder with a results table
    only gets its tables rewritten. The next read finds the rows current and asks no
    registry again. A folder another run is writing into, or one that cannot be written,
    is upgraded in memory only, and `Upgrade.unwritten` says why.
    """
    run_dir = Path(run_dir)
    table = load(run_dir)
    if not (table["schema"] < SCHEMA).any():
        return Upgrade(table, 0)
    try:
        store = ResultsStore(run_dir)
    except (RunLocked, RunError) as exc:
        upgraded = _typed(fill(table))
        return Upgrade(upgraded, int((table["schema"] < SCHEMA).sum()), str(exc))
    try:
        table = load(run_dir)  # again, under the lock
        old = table["schema"] < SCHEMA
        upgraded = _typed(fill(table))
        try:
            if store.rows:
                store.rewrite_rows(upgraded)
            else:
                _rewrite_tables(run_dir, upgraded)
        except (OSError, RunError) as exc:
            return Upgrade(upgraded, int(old.sum()), getattr(exc, "strerror", None) or str(exc))
        return Upgrade(upgraded, int(old.sum()))
    finally:
        store.close()


def _rewrite_tables(run_dir: Path, df: pd.DataFrame) -> None:
    """results.parquet and results.csv of a folder without rows.jsonl, rewritten from `df`, each atomically."""
    import pyarrow.parquet as pq

    parquet = run_dir / "results.parquet"
    covered = (pq.read_schema(parquet).metadata or {}).get(COVERED_KEY, b"")
    atomic_write(parquet, lambda p: _to_parquet(df, p, int(covered) if covered.isdigit() else 0))
    atomic_write(run_dir / "results.csv", lambda p: df.to_csv(p, index=False))


def _plain(value):
    """A table's value as JSON writes it: None for a missing value, Python numbers."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value
