"""Incremental results: rows.jsonl is the record, the tables follow it in batches, `load` adds what they lack."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq

from bench import results


def _row(key: str, **extra) -> dict:
    return {"key": key, "dataset": "d", "status": "ok", "n_train": 1, "n_test": 1, "seed": 0, "threads": 1,
            "jobs": 1, **extra}


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _table_writes(store) -> list[int]:
    """Row counts at which `store` rewrites its tables, recorded from now on."""
    counts: list[int] = []
    real = store.write_tables

    def counted():
        counts.append(len(store.rows))
        return real()

    store.write_tables = counted
    return counts


def test_the_tables_are_rewritten_in_batches_that_grow_with_the_rows(tmp_path):
    store = results.ResultsStore(tmp_path)
    try:
        writes = _table_writes(store)
        for i in range(400):
            store.append(_row(f"k{i}"))
    finally:
        store.close()
    assert writes[: results.TABLES_FIRST_ROWS] == [1, 2]  # a run's first rows are in the tables at once
    assert len(writes) < 20  # about ln(400 / 64) / ln(5 / 4) + 5 rewrites, not 400
    for before, at in zip(writes[1:], writes[2:], strict=False):
        assert at - before >= max(results.TABLES_MIN_BATCH, results.TABLES_BATCH_SHARE * at)


def test_load_adds_the_rows_written_after_the_tables(tmp_path):
    store = results.ResultsStore(tmp_path)
    try:
        writes = _table_writes(store)
        for i in range(33):
            store.append(_row(f"k{i}", score=i / 33))
    finally:
        store.close()
    assert writes == [1, 2, 18]  # rows 19 to 33 are in rows.jsonl only
    assert len(pd.read_parquet(tmp_path / "results.parquet")) == writes[-1]
    loaded = results.load(tmp_path)
    pd.testing.assert_frame_equal(loaded, results.frame(results.read_rows(tmp_path)))
    assert list(loaded["key"]) == [f"k{i}" for i in range(33)]
    assert len(pd.read_csv(tmp_path / "results.csv")) == 18


def test_a_row_run_again_after_the_tables_replaces_the_tables_row_in_load(tmp_path):
    store = results.ResultsStore(tmp_path)
    try:
        for i in range(20):
            store.append(_row(f"k{i}", status="killed" if i == 3 else "ok"))
        store.write_tables()
        store.append(_row("k3", status="ok", score=0.9))  # --resume ran the killed cell again
    finally:
        store.close()
    loaded = results.load(tmp_path)
    assert loaded["key"].is_unique and len(loaded) == 20
    assert loaded.set_index("key").loc["k3", "status"] == "ok"
    assert list(loaded["key"])[-1] == "k3"
    pd.testing.assert_frame_equal(loaded, results.frame(results.read_rows(tmp_path)))


def test_the_parquet_table_records_the_bytes_of_rows_it_holds(tmp_path):
    store = results.ResultsStore(tmp_path)
    try:
        store.append(_row("a"))
        store.append(_row("b"))
    finally:
        store.close()
    meta = pq.read_schema(tmp_path / "results.parquet").metadata
    assert int(meta[results.COVERED_KEY]) == (tmp_path / results.ROWS_FILE).stat().st_size


def test_after_a_minute_the_tables_catch_up_if_rewriting_them_is_cheap(tmp_path, monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(results.time, "monotonic", clock)
    store = results.ResultsStore(tmp_path)
    try:
        for i in range(100):
            store.append(_row(f"k{i}"))
        writes = _table_writes(store)
        store.append(_row("late"))
        assert writes == []  # a row or two is no batch
        clock.now += results.TABLES_EVERY_S
        store.append(_row("later"))
        assert writes == [102]
    finally:
        store.close()


def test_a_resumed_run_appends_after_the_rows_it_found_and_load_sees_them_all(tmp_path):
    store = results.ResultsStore(tmp_path)
    try:
        for i in range(40):
            store.append(_row(f"k{i}"))
    finally:
        store.close()
    with open(tmp_path / results.ROWS_FILE, "ab") as fh:
        fh.write(b'{"key": "torn", "dat')  # a kill in the middle of a row
    store = results.ResultsStore(tmp_path)
    try:
        store.append(_row("k40"))
    finally:
        store.close()
    assert [r["key"] for r in results.read_rows(tmp_path)] == [f"k{i}" for i in range(41)]
    assert list(results.load(tmp_path)["key"]) == [f"k{i}" for i in range(41)]


def test_a_rows_file_shorter_than_the_table_says_is_read_whole(tmp_path):
    store = results.ResultsStore(tmp_path)
    try:
        for i in range(5):
            store.append(_row(f"k{i}"))
    finally:
        store.close()
    path = tmp_path / results.ROWS_FILE
    kept = path.read_bytes().splitlines(keepends=True)[:2]
    path.write_bytes(b"".join(kept))  # cut by hand
    assert list(results.load(tmp_path)["key"]) == ["k0", "k1"]


def test_a_table_written_before_byte_counts_is_still_checked_against_the_rows(tmp_path):
    rows = [_row("a"), _row("b")]
    (tmp_path / results.ROWS_FILE).write_text("".join(json.dumps(r) + "\n" for r in rows))
    results.frame(rows[:1]).to_parquet(tmp_path / "results.parquet", index=False)  # no byte count, behind
    assert list(results.load(tmp_path)["key"]) == ["a", "b"]
