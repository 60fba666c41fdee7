"""`--jobs N` on one machine: per-cell thread budgets within the cores, the layout in every row."""

from __future__ import annotations

import json
import sys

import pytest

from bench.__main__ import main
from bench.execution import runner
from bench.execution.local import ExecutorError, LocalExecutor, local_cores
from bench.suite import SuiteError, parse

SUITE = """
[suite]
name = "jobs"
seeds = [0]
train_sizes = [64]
threads = {threads}
time_limit_s = 60
[datasets.breast_cancer]
[datasets.wine]
[models.logistic_regression]
[models.decision_tree]
"""


def _suite(threads: int = 2):
    return parse(SUITE.format(threads=threads), "inline.toml")


@pytest.mark.parametrize(
    ("suite_threads", "jobs", "cores", "expected", "n_warnings"),
    [
        (2, 1, 2, 2, 0),  # fits
        (2, 2, 2, 1, 1),  # reduced to cores // jobs, with a warning
        (4, 2, 8, 4, 0),
        (4, 3, 8, 2, 1),
        (1, 3, 2, 1, 1),  # more jobs than cores: one thread each, still oversubscribed
        (2, 3, 2, 1, 2),  # reduced, and even then oversubscribed
        (8, 1, 2, 2, 1),  # a serial run does not exceed the cores either
    ],
)
def test_default_threads_keep_threads_times_jobs_within_the_cores(suite_threads, jobs, cores, expected, n_warnings):
    threads, notes = runner.thread_layout(_suite(suite_threads), jobs, cores=cores)
    assert threads == expected
    assert len(notes) == n_warnings
    if threads < suite_threads:
        assert f"each cell gets {expected} thread" in notes[0] and "--threads" in notes[0]


def test_explicit_threads_are_used_as_given_and_warn_when_oversubscribed():
    threads, notes = runner.thread_layout(_suite(1), 2, threads=2, cores=2)
    assert threads == 2
    assert len(notes) == 1 and "compete for cores" in notes[0]
    threads, notes = runner.thread_layout(_suite(4), 2, threads=1, cores=2)
    assert (threads, notes) == (1, [])


def test_local_executor_reports_its_layout():
    ex = LocalExecutor(3)
    try:
        assert ex.layout() == (3, local_cores())
        assert ex.describe()["jobs"] == 3
    finally:
        ex.close()


def test_jobs_2_runs_the_same_cells_with_the_same_scores_and_records_the_layout(tmp_path):
    suite = _suite(threads=local_cores())
    serial = runner.run(suite, tmp_path / "serial", progress=False)
    parallel = runner.run(suite, tmp_path / "parallel", jobs=2, progress=False)
    a = serial.table.set_index("key").sort_index()
    b = parallel.table.set_index("key").sort_index()
    assert len(a) == 4 and list(a.index) == list(b.index)
    assert (b["status"] == "ok").all(), b["info"].tolist()
    for col in ("score", "train_score", "accuracy", "log_loss", "n_params"):
        assert a[col].equals(b[col]), col
    assert (a["jobs"] == 1).all() and (a["threads"] == local_cores()).all()
    assert (b["jobs"] == 2).all() and (b["threads"] == max(1, local_cores() // 2)).all()
    env = json.loads((parallel.run_dir / "environment.json").read_text())
    assert env["threads"]["jobs"] == 2 and env["executor"]["executor"] == "local"
    if local_cores() > 1:
        assert any("instead" in n for n in parallel.notes)


def test_cli_threads_forces_the_budget(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(SUITE.format(threads=1))
    out = tmp_path / "run"
    code = main(["run", str(path), "--jobs", "2", "--threads", "3", "--out", str(out), "--no-progress"])
    assert code == 0
    rows = [json.loads(line) for line in (out / "rows.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and {r["threads"] for r in rows} == {3} and {r["jobs"] for r in rows} == {2}
    if 6 > local_cores():
        assert "compete for cores" in capsys.readouterr().err
    assert main(["run", str(path), "--threads", "0", "--out", str(tmp_path / "x")]) == 2


def test_suite_scheduler_key_is_validated():
    assert _suite().scheduler is None
    text = SUITE.format(threads=1).replace('name = "jobs"', 'name = "jobs"\nscheduler = "tcp://127.0.0.1:8786"')
    assert parse(text, "inline.toml").scheduler == "tcp://127.0.0.1:8786"
    bad = SUITE.format(threads=1).replace('name = "jobs"', 'name = "jobs"\nscheduler = "localhost"')
    with pytest.raises(SuiteError, match="suite.scheduler"):
        parse(bad, "inline.toml")


def test_a_scheduler_without_dask_installed_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(ExecutorError, match=r"bench\[dask\]"):
        runner.make_executor(_suite(1), scheduler="tcp://127.0.0.1:1")
    with pytest.raises(runner.RunError, match=r"bench\[dask\]"):
        runner.run(_suite(1), tmp_path / "run", scheduler="tcp://127.0.0.1:1", progress=False)


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path):
    pytest.importorskip("distributed")
    from bench.execution.dask_cluster import DaskExecutor

    with pytest.raises(ExecutorError, match="cannot reach the Dask scheduler"):
        DaskExecutor("tcp://127.0.0.1:9", connect_timeout_s=2)
