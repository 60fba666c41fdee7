"""The results table: one row per cell, a fixed column order, appended as cells finish.

`rows.jsonl` is the append-only record (one JSON line per finished cell, fsynced), from
which `results.parquet` and `results.csv` are rewritten atomically after every cell; a
killed run therefore loses at most the cell in flight, and `--resume` reads what is there.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
from pathlib import Path

import pandas as pd

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
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.dir / LOCK_FILE, "a")
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
        """Record a finished cell; a cell run again (a retried kill) replaces its earlier row."""
        row = {k: _clean(v) for k, v in row.items()}
        line = json.dumps(row, ensure_ascii=False, default=str) + "\n"
        with open(self.dir / ROWS_FILE, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
        self.rows = [r for r in self.rows if r.get("key") != row.get("key")]
        self.rows.append(row)
        self.write_tables()

    def write_tables(self) -> pd.DataFrame:
        df = frame(self.rows)
        for name, write in (
            ("results.parquet", lambda p: df.to_parquet(p, index=False)),
            ("results.csv", lambda p: df.to_csv(p, index=False)),
        ):
            tmp = self.dir / f".{name}.tmp"
            write(tmp)
            os.replace(tmp, self.dir / name)
        return df

    def write_json(self, name: str, obj: dict) -> None:
        tmp = self.dir / f".{name}.tmp"
        tmp.write_text(json.dumps(obj, indent=2, default=str, ensure_ascii=False))
        os.replace(tmp, self.dir / name)

    def close(self) -> None:
        self._lock.close()


def read_rows(run_dir: str | os.PathLike) -> list[dict]:
    """Finished rows of a run folder, the latest per cell; a torn last line (a kill mid-write) is ignored."""
    path = Path(run_dir) / ROWS_FILE
    if not path.exists():
        return []
    rows: dict = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        rows.pop(row.get("key"), None)
        rows[row.get("key")] = row
    return list(rows.values())


def load(run_dir: str | os.PathLike) -> pd.DataFrame:
    """The results table of a run folder (from its parquet file, or its rows if that is missing)."""
    run_dir = Path(run_dir)
    parquet = run_dir / "results.parquet"
    if parquet.exists():
        return pd.read_parquet(parquet)
    return frame(read_rows(run_dir))
