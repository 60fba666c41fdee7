"""A suite runs end to end: every cell a row, failures recorded, results written as cells finish."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from bench import results
from bench.execution import runner
from bench.execution.prepare import prepare
from bench.suite import parse, plan

SUITE = """
[suite]
name = "tiny"
seeds = [0, 1]
train_sizes = [60]
threads = 1
time_limit_s = 20
[datasets.breast_cancer]
[datasets.diabetes]
[models.ridge]
[models.decision_tree]
[models.crash]
model = "test_fail"
how = "exit"
[models.raise]
model = "test_fail"
how = "raise"
"""


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "tiny"
    summary = runner.run(parse(SUITE, "tiny.toml"), out, progress=False)
    return summary, out


def test_every_planned_cell_has_one_row_and_failures_do_not_stop_the_suite(tiny_run):
    summary, out = tiny_run
    df = results.load(out)
    cells, _ = plan(parse(SUITE, "tiny.toml"))
    assert sorted(df["key"]) == sorted(c.key for c in cells)
    by_model = {m: set(g) for m, g in df.groupby("model")["status"]}
    assert by_model == {"ridge": {"ok"}, "decision_tree": {"ok"}, "crash": {"error"}, "raise": {"error"}}
    assert df.loc[df.model == "raise", "info"].str.contains("raises on purpose").all()


def test_results_have_the_fixed_leading_columns_in_order(tiny_run):
    _, out = tiny_run
    for df in (pd.read_parquet(out / "results.parquet"), pd.read_csv(out / "results.csv")):
        assert list(df.columns[: len(results.LEADING)]) == results.LEADING
        assert list(df.columns) == results.COLUMNS


def test_scores_and_costs_are_filled_for_ok_rows(tiny_run):
    _, out = tiny_run
    ok = results.load(out).query("status == 'ok'")
    cls = ok[ok.task == "classification"]
    reg = ok[ok.task == "regression"]
    assert cls[["accuracy", "balanced_accuracy", "f1_macro", "log_loss"]].notna().all().all()
    assert reg[["r2", "rmse", "mae"]].notna().all().all()
    costs = ["fit_time_s", "fit_cpu_s", "predict_time_s", "predict_latency_ms", "peak_memory_mb", "n_params", "model_bytes"]
    assert ok[costs].notna().all().all()
    assert (ok["threads"] == 1).all() and (ok["jobs"] == 1).all()
    assert (ok["family"] == "classical").all() and (ok["features"] == "raw").all()


def test_environment_records_hardware_versions_threads_commit_and_suite(tiny_run):
    _, out = tiny_run
    env = json.loads((out / "environment.json").read_text())
    assert env["cpu"]["cores_logical"] >= 1 and env["cpu"]["model"]
    assert env["libraries"]["scikit-learn"] and env["libraries"]["torch"]
    assert env["threads"]["per_cell"] == 1
    assert "commit" in env["git"]
    assert env["suite"]["name"] == "tiny"


def test_a_folder_with_results_is_not_overwritten_without_resume(tiny_run):
    _, out = tiny_run
    with pytest.raises(runner.RunError, match="--resume"):
        runner.run(parse(SUITE, "tiny.toml"), out, progress=False)


def test_resume_runs_only_the_missing_cells(tmp_path):
    suite = parse(SUITE.replace('[models.crash]\nmodel = "test_fail"\nhow = "exit"\n', ""), "t.toml")
    first = runner.run(suite, tmp_path / "r", progress=False)
    kept = results.read_rows(tmp_path / "r")[:3]
    (tmp_path / "r" / results.ROWS_FILE).write_text(
        "".join(json.dumps(r) + "\n" for r in kept) + '{"torn": '  # a kill mid-write
    )
    second = runner.run(suite, tmp_path / "r", resume=True, progress=False)
    assert second.n_run == first.n_planned - 3
    df = results.load(tmp_path / "r")
    assert len(df) == first.n_planned and df["key"].is_unique


def test_two_runs_cannot_write_into_one_folder(tmp_path):
    store = results.ResultsStore(tmp_path)
    try:
        with pytest.raises(results.RunLocked):
            results.ResultsStore(tmp_path)
    finally:
        store.close()


def test_models_of_a_cell_group_share_the_split_and_preprocessing_is_fitted_on_train_only():
    suite = parse(SUITE, "tiny.toml")
    cells, _ = plan(suite)
    a, b = [c for c in cells if c.dataset.label == "breast_cancer" and c.seed == 0][:2]
    assert a.model.label != b.model.label
    sa, sb = prepare(a), prepare(b)
    assert np.array_equal(sa.X_train, sb.X_train) and np.array_equal(sa.y_test, sb.y_test)
    assert np.allclose(sa.X_train.mean(axis=0), 0, atol=1e-9)  # scaler saw the training rows...
    assert not np.allclose(sa.X_test.mean(axis=0), 0, atol=1e-3)  # ...and only them
    assert len(sa.y_train) == 60


def test_cli_run_prints_a_summary(tmp_path, write_suite):
    path = write_suite(SUITE.replace("seeds = [0, 1]", "seeds = [0]").split("[models.crash]")[0])
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "run", str(path), "--out", str(tmp_path / "o"), "--no-progress"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "bench summary" in proc.stdout and "decision_tree" in proc.stdout
    assert "harness overhead" in proc.stdout
    assert (tmp_path / "o" / "results.parquet").exists()
