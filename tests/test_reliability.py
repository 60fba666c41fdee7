"""Reliability: killed runs resume exactly, limits hold, runs are deterministic."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from waiting import scaled, wait_until

from bench import results
from bench.execution import runner
from bench.execution.isolate import run_isolated
from bench.suite import parse, plan

SUITE = """
[suite]
name = "resume"
seeds = [0, 1]
train_sizes = [60, 200]
threads = 1
time_limit_s = 30
limit = "cpu"
[datasets.breast_cancer]
[datasets.diabetes]
[models.ridge]
[models.logistic_regression]
[models.decision_tree]
[models.knn]
[models.slow]
model = "test_sleep"
seconds = 0.2
"""


def _score_table(df: pd.DataFrame) -> pd.DataFrame:
    return df.set_index("key").sort_index()[["status", "score", "n_params"]]


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_gives_exactly_the_uninterrupted_table(tmp_path, write_suite):
    path = write_suite(SUITE)
    reference = runner.run(parse(SUITE, str(path)), tmp_path / "reference", progress=False).table
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "bench", "run", str(path), "--no-progress"]
    rng = random.Random(7)
    kills, attempts = 0, 0
    while attempts < 20:
        attempts += 1
        args = cmd + (["--resume", str(out)] if out.exists() else ["--out", str(out)])
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if kills < 4:
            time.sleep(rng.uniform(1.0, 4.0))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills += 1
                rows = results.read_rows(out)  # a killed run's files always parse
                assert len({r["key"] for r in rows}) == len(rows)
                if (out / "results.parquet").exists():
                    pd.read_parquet(out / "results.parquet")
                continue
        assert proc.wait(timeout=scaled(300)) == 0
        break
    assert kills >= 3
    final = results.load(out)
    assert final["key"].is_unique
    assert set(final["key"]) == set(reference["key"])  # none lost, none extra
    pd.testing.assert_frame_equal(_score_table(final), _score_table(reference))
    assert len(pd.read_csv(out / "results.csv")) == len(reference)
    print(f"kill-and-resume: {kills} kills, {len(final)} cells, lost 0, duplicated 0")


def test_two_runs_of_a_suite_give_identical_scores(tmp_path):
    suite = parse(SUITE.replace('[models.slow]\nmodel = "test_sleep"\nseconds = 0.2\n', "")
                  + "[models.random_forest]\nn_estimators = 20\n[models.xgboost]\nn_estimators = 20\n", "d.toml")
    a = runner.run(suite, tmp_path / "a", progress=False).table
    b = runner.run(suite, tmp_path / "b", progress=False).table
    cols = ["accuracy", "balanced_accuracy", "f1_macro", "log_loss", "r2", "rmse", "mae", "n_params"]
    pd.testing.assert_frame_equal(
        a.set_index("key").sort_index()[cols], b.set_index("key").sort_index()[cols]
    )


def _cell(table: str, limits: str = "time_limit_s = 30"):
    suite = parse(f"[suite]\nseeds = [0]\ntrain_sizes = [50]\n{limits}\n[datasets.wine]\n[models.m]\n{table}\n", "x.toml")
    return plan(suite)[0][0]


def test_a_model_ignoring_sigterm_is_killed_after_the_grace_period():
    row = run_isolated(_cell('model = "test_fail"\nhow = "hang_ignoring_term"', "time_limit_s = 2"))
    assert row["status"] == "timeout"


def test_without_a_cap_in_the_suite_a_default_cap_protects_the_machine():
    from bench.execution.isolate import memory_cap_mb

    cell = _cell('model = "test_constant"')
    assert cell.memory_limit_mb is None
    assert 0 < memory_cap_mb(cell) < __import__("psutil").virtual_memory().total / 2**20


def test_the_machine_stays_usable_after_an_oom_cell():
    row = run_isolated(_cell('model = "test_allocate"\nmegabytes = 2500.0', "memory_limit_mb = 500"))
    assert row["status"] == "oom"
    after = run_isolated(_cell('model = "test_constant"'))
    assert after["status"] == "ok"


def test_results_files_are_replaced_atomically(tmp_path):
    store = results.ResultsStore(tmp_path)
    try:
        store.append({"key": "a", "dataset": "d", "status": "ok", "n_train": 1, "n_test": 1, "seed": 0, "threads": 1, "jobs": 1})
        store.append({"key": "b", "dataset": "d", "status": "ok", "n_train": 1, "n_test": 1, "seed": 0, "threads": 1, "jobs": 1})
    finally:
        store.close()
    assert sorted(os.listdir(tmp_path)) == [".lock", "results.csv", "results.parquet", "rows.jsonl"]
    assert [json.loads(line)["key"] for line in (tmp_path / "rows.jsonl").read_text().splitlines()] == ["a", "b"]
    assert list(pd.read_parquet(tmp_path / "results.parquet")["key"]) == ["a", "b"]


def test_no_pickle_is_loaded_from_a_user_file(tmp_path):
    from bench.datasets import DataError, load

    path = tmp_path / "x.npz"
    np.savez(path, X=np.array([object(), object()], dtype=object), y=np.array([0, 1]))
    with pytest.raises(DataError, match="object arrays are refused"):
        load("image_arrays", {"path": str(path), "task": "classification"})


def test_a_runner_killed_with_sigkill_leaves_no_cell_running(tmp_path, write_suite):
    import psutil

    path = write_suite('[suite]\nseeds = [0]\ntrain_sizes = [50]\ntime_limit_s = 600\n'
                       '[datasets.wine]\n[models.h]\nmodel = "test_fail"\nhow = "hang"\n')
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench", "run", str(path), "--out", str(tmp_path / "o"), "--no-progress"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    runner_ps = psutil.Process(proc.pid)

    def grandchildren():  # the hanging cell runs under the worker server
        found = []
        for child in runner_ps.children():
            try:
                found += child.children()
            except psutil.NoSuchProcess:  # a short-lived child (a cell's data preparation) ended meanwhile
                pass
        return found

    try:
        wait_until(grandchildren, "the hanging cell's process started", quiet_s=120)
        descendants = runner_ps.children(recursive=True)
    finally:
        proc.kill()
        proc.wait()

    def gone(p) -> bool:
        try:
            return not p.is_running() or p.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:  # ended between the two questions
            return True

    def all_gone():
        return all(gone(p) for p in descendants)

    wait_until(all_gone, "the runner's worker and cell processes ended after it was killed", quiet_s=30)
