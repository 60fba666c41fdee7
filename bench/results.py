"""The results table: one row per cell, a fixed column order, appended as cells finish.

`rows.jsonl` is the append-only record (one JSON line per finished cell, fsynced), from
which `results.parquet` and `results.csv` are rewritten atomically after every cell; a
killed run therefore loses at most the cell in flight, and `--resume` reads what is there.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import math
import os
from pathlib import Path

import pandas as pd

from bench.atomic import atomic_write
from bench.errors import RunError
from bench.inputs import read_bytes, reading, shown

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
    "score", "train_score", "val_score", "n_validation", "n_trials", "best_params", "trials", "size_proxy", "size_unit", "gpu_peak_memory_mb",
    "dataset_name", "model_name", "model_tags", "dataset_tags", "n_features", "n_classes", "missing_classes", "threads", "jobs", "device",
    "host", "cpu_model", "worker", "error_type", "cell_time_s", "startup_s", "limit", "load_avg", "started_at",
    "params", "hyperparams", "dataset_params", "history", "predictions_sha", "key",
]
COLUMNS = LEADING + SCORES + COSTS + EXTRA

_INT = {"n_train", "n_test", "seed", "threads", "jobs"}
_TEXT = {
    "dataset", "modality", "task", "model", "family", "features", "tuning", "status", "info", "size_unit",
    "best_params", "trials",
    "dataset_name", "model_name", "model_tags", "dataset_tags", "missing_classes", "device", "host", "cpu_model", "worker",
    "error_type", "limit", "started_at", "params", "hyperparams", "dataset_params", "history", "predictions_sha", "key",
}

# Statuses `--resume` runs again: the cell was stopped from outside, not by its own doing.
RETRIED_STATUSES = ("killed",)

ROWS_FILE = "rows.jsonl"
LOCK_FILE = ".lock"


class RunLocked(RuntimeError):
    """Another run is writing into this folder."""


def frame(rows: list[dict]) -> pd.DataFrame:
    """Rows as a DataFrame with every column of the schema, in order, with stable dtypes."""
    df = pd.DataFrame.from_records(rows, columns=COLUMNS) if rows else pd.DataFrame(columns=COLUMNS)
    for col in COLUMNS:
        if col in _INT:
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
        self.rows: list[dict] = read_rows(self.dir)
        self._repair_tail()

    def _repair_tail(self) -> None:
        """Cut a half-written last line left by a kill, so the next append starts clean."""
        path = self.dir / ROWS_FILE
        if not path.exists():
            return
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            with open(path, "r+b") as fh:
                fh.truncate(data.rfind(b"\n") + 1)

    def done_keys(self, retry: tuple[str, ...] = ()) -> set[str]:
        """Keys of cells that need not run again (statuses in RETRIED_STATUSES and `retry` do)."""
        again = {*RETRIED_STATUSES, *retry}
        return {r["key"] for r in self.rows if r.get("status") not in again}

    def append(self, row: dict) -> None:
        """Record a finished cell; a cell run again (a retried kill) replaces its earlier row.

        A failed write (disk full, folder made read-only) leaves the rows file as it was before
        this row and raises RunError; the tables are then rewritten or removed (see write_tables).
        """
        row = {k: _clean(v) for k, v in row.items()}
        data = (json.dumps(row, ensure_ascii=False, default=str) + "\n").encode("utf-8")
        try:
            _append_whole(self.dir / ROWS_FILE, data)
        except OSError as exc:
            raise self._write_error(f"the row of cell {row.get('key')}", exc) from None
        self.rows = [r for r in self.rows if r.get("key") != row.get("key")]
        self.rows.append(row)
        self.write_tables()

    def write_tables(self) -> pd.DataFrame:
        """Rewrite results.parquet and results.csv from the rows, each atomically.

        If one cannot be written, both are removed rather than left behind the rows file, so
        that `load` reads every recorded row from rows.jsonl; `--resume` writes them again.
        """
        df = frame(self.rows)
        try:
            atomic_write(self.dir / "results.parquet", lambda p: df.to_parquet(p, index=False))
            atomic_write(self.dir / "results.csv", lambda p: df.to_csv(p, index=False))
        except OSError as exc:
            for name in ("results.parquet", "results.csv"):
                with contextlib.suppress(OSError):
                    (self.dir / name).unlink(missing_ok=True)
            raise self._write_error("results.parquet and results.csv", exc) from None
        return df

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
        n = len(self.rows)
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


def read_rows(run_dir: str | os.PathLike) -> list[dict]:
    """Finished rows of a run folder, the latest per cell; a torn last line (a kill mid-write) is ignored."""
    path = Path(run_dir) / ROWS_FILE
    if not path.exists():
        return []
    rows: dict = {}
    # A kill can tear a line inside a multi-byte character: decode line by line, and skip what is not a row.
    for line in read_bytes(path, RunError, "rows file").splitlines():
        try:
            row = json.loads(line.decode("utf-8", errors="replace"))
        except (json.JSONDecodeError, RecursionError):
            continue
        if not isinstance(row, dict):
            continue
        rows.pop(row.get("key"), None)
        rows[row.get("key")] = row
    return list(rows.values())


def load(run_dir: str | os.PathLike) -> pd.DataFrame:
    """The results table of a run folder: its parquet file, or its rows if that is missing or behind them."""
    run_dir = Path(run_dir)
    parquet = run_dir / "results.parquet"
    if parquet.exists():
        with reading(parquet, RunError, "results table") as fh:  # a FIFO put there would block for ever
            table = pd.read_parquet(fh)
        if not _behind_rows(run_dir, parquet, table):
            return table
    return frame(read_rows(run_dir))


def _behind_rows(run_dir: Path, parquet: Path, table: pd.DataFrame) -> bool:
    """Whether rows.jsonl holds rows the table lacks (a write of the table failed: disk full, read-only folder)."""
    rows = run_dir / ROWS_FILE
    if not rows.exists():
        return False
    if rows.stat().st_mtime_ns > parquet.stat().st_mtime_ns:
        return True
    return "key" in table and set(table["key"]) != {r.get("key") for r in read_rows(run_dir)}
