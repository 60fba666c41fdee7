"""The cost of recording a finished cell, alone: does it grow with the rows already recorded?

`bench.results.ResultsStore.append` writes each row to rows.jsonl (fsynced) and rewrites the
Parquet and CSV tables in batches (once the rows not in them reach a quarter of all rows).
Rows are shaped like a real run's (every column filled, keys unique). Two windows are timed,
each ending with a table rewrite, so each holds its share of rewrites:

- rows 501 to 1,000 appended one by one to a fresh run folder (rewrites at rows 510, 680, 907);
- the last quarter of BENCH_PERF_BOOKKEEPING_ROWS (default 100,000) rows, appended one by one
  to a folder that holds the first three quarters (written at once, then opened as `--resume`
  opens it), so the window is exactly one batch and ends with the rewrite of all rows.

It prints the time per recorded cell in each window (and their ratio), one append's median
(an fsync), and `results.load` of the folder with the tables behind the rows and caught up.
No cell runs. `nox -s perf`, or `pytest benchmarks/test_bookkeeping.py -p no:cacheprovider`
(two to four minutes on the 2-core machine, most of it in 25,000 fsyncs); `nox -s perf-quick`
runs it at 20,000 rows. A growth over the bound at a load average above the core count is
printed and skipped, not failed (the windows are timed minutes apart).
"""

from __future__ import annotations

import json
import os
import statistics
import time

import pytest

from bench import results

N_ROWS = int(os.environ.get("BENCH_PERF_BOOKKEEPING_ROWS", "100000"))
SMALL = 1000
MAX_GROWTH = 2.0  # per-cell cost at N_ROWS over that at SMALL

pytestmark = pytest.mark.timeout(3600)


def _row(i: int) -> dict:
    """A row as a finished classical cell leaves it (the real run's columns, realistic lengths)."""
    return {
        "dataset": "synthetic_classification", "modality": "tabular", "task": "classification",
        "model": f"model_{i % 13}", "family": "classical", "features": "raw", "n_train": 200 + i % 7,
        "n_test": 500, "seed": i % 5, "dataset_name": "synthetic_classification", "model_name": "random_forest",
        "tuning": "default", "model_tags": "ensemble,tree", "dataset_tags": "synthetic", "threads": 2, "jobs": 1,
        "params": "{}", "dataset_params": '{"n_classes": 3, "n_features": 20, "n_samples": 2000}',
        "key": f"synthetic_classification|raw|{200 + i % 7}|{i}|model_{i % 13}", "host": "vm",
        "cpu_model": "AMD EPYC", "started_at": "2026-01-01T00:00:00+0000",
        "accuracy": 0.8 + (i % 100) / 1000, "balanced_accuracy": 0.79, "f1_macro": 0.78, "log_loss": 0.5,
        "n_validation": 40, "n_trials": 1, "best_params": "{}", "val_score": 0.81, "search_time_s": 0.12,
        "search_cpu_s": 0.2, "trials": '[{"params": {}, "val_score": 0.81, "fit_s": 0.118}]', "status": "ok",
        "score": 0.8, "train_score": 1.0, "fit_time_s": 0.15 + i * 1e-7, "fit_cpu_s": 0.28,
        "predict_time_s": 0.01, "predict_cpu_s": 0.02, "predictions_sha": f"{i:016x}",
        "predict_latency_ms": 8.1, "peak_memory_mb": 12.5, "n_params": 31337, "size_proxy": 31337,
        "size_unit": "tree nodes", "model_bytes": 812345, "n_features": 20, "n_classes": 3,
        "missing_classes": None, "device": "cpu", "gpu_peak_memory_mb": None, "history": None,
        "hyperparams": '{"bootstrap": true, "criterion": "gini", "max_depth": null, "n_estimators": 100}',
        "cell_time_s": 0.4, "startup_s": 0.03, "limit": "wall", "load_avg": 0.5,
    }


def test_recording_a_cell_costs_the_same_at_100k_rows_as_at_1k(tmp_path, capsys):
    if N_ROWS < 4 * SMALL:
        pytest.skip(f"BENCH_PERF_BOOKKEEPING_ROWS={N_ROWS}: at least {4 * SMALL} rows are needed")
    small_s, small_writes, _ = _append_timed(tmp_path / "small", 0, SMALL, SMALL // 2)
    window = -(-N_ROWS // 4)  # one batch: the rewrite comes with its last row
    large_dir = tmp_path / "large"
    _prefill(large_dir, N_ROWS - window)
    large_s, large_writes, singles = _append_timed(large_dir, N_ROWS - window, N_ROWS, window)
    load_s = _timed(lambda: results.load(large_dir))
    small, large = small_s / (SMALL // 2), large_s / window
    with capsys.disabled():
        print(f"\nbookkeeping alone (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores):")
        print(f"  per recorded cell: {small * 1e3:.2f} ms at {SMALL:,} rows ({small_writes} table rewrites in "
              f"rows {SMALL // 2 + 1:,}-{SMALL:,}), {large * 1e3:.2f} ms at {N_ROWS:,} rows ({large_writes} in rows "
              f"{N_ROWS - window + 1:,}-{N_ROWS:,}): {large / small:.2f}x")
        print(f"  one append (median, fsync included) {statistics.median(singles) * 1e3:.2f} ms; "
              f"load of {N_ROWS:,} rows {load_s:.2f} s")
    assert len(results.load(large_dir)) == N_ROWS
    assert large_writes >= 1 and small_writes >= 1
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if large > MAX_GROWTH * small and load > cores:  # the two windows are timed minutes apart
        pytest.skip(f"{large / small:.2f}x not judged: load average {load:.1f} on {cores} cores")
    assert large <= MAX_GROWTH * small, (
        f"recording a cell costs {large / small:.2f}x as much at {N_ROWS:,} rows as at {SMALL:,} (limit {MAX_GROWTH}x)"
    )


def _prefill(run_dir, n: int) -> None:
    """A run folder holding rows 0..n-1 and tables of them, as an interrupted run leaves it."""
    run_dir.mkdir()
    with open(run_dir / results.ROWS_FILE, "w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps(_row(i)) + "\n")
    store = results.ResultsStore(run_dir)
    try:
        store.write_tables()
    finally:
        store.close()


def _append_timed(run_dir, first: int, last: int, window: int) -> tuple[float, int, list[float]]:
    """(seconds to append the last `window` of rows first..last-1, table rewrites among them, each append's time)."""
    store = results.ResultsStore(run_dir)
    writes, singles = [], []
    real = store.write_tables

    def counted():
        writes.append(len(store.rows))
        return real()

    store.write_tables = counted
    try:
        for i in range(first, last - window):
            store.append(_row(i))
        writes.clear()
        t0 = time.perf_counter()
        for i in range(last - window, last):
            t1 = time.perf_counter()
            store.append(_row(i))
            singles.append(time.perf_counter() - t1)
        elapsed = time.perf_counter() - t0
    finally:
        store.close()
    return elapsed, len(writes), singles


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0
