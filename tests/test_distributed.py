"""Cells on a Dask cluster (loopback only): same cells and scores as a local run, no cell lost.

Skipped when Dask's distributed scheduler is not installed (`pip install '.[dask]'`).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import signal
import threading
import time

import numpy as np
import pytest
from waiting import scaled, wait_until

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")

from bench import results  # noqa: E402
from bench.execution import runner  # noqa: E402
from bench.suite import parse  # noqa: E402

pytestmark = pytest.mark.timeout(scaled(240))  # cluster start-up and cells take longer on a loaded machine

SMALL = """
[suite]
name = "small"
seeds = [0]
train_sizes = [64]
threads = 1
time_limit_s = 60
limit = "cpu"
[datasets.breast_cancer]
[datasets.diabetes]
[models.logistic_regression]
[models.ridge]
[models.decision_tree]
[models.knn]
"""

SLEEPY = """
[suite]
name = "sleepy"
seeds = [0, 1, 2]
train_sizes = [64]
threads = 1
time_limit_s = 60
limit = "cpu"
[datasets.breast_cancer]
[models.nap]
model = "test_sleep"
seconds = 3.0
"""


_ENVIRON = dict(os.environ)
_NANNY_SETS = {*dask.config.get("distributed.nanny.pre-spawn-environ"), "PYTHONHASHSEED"}


def _restore_environ() -> None:
    """Undo what the in-process nannies set in this process's environment before spawning a
    worker (OMP_NUM_THREADS=1...), so later local cells in this test process do not inherit it."""
    for key in _NANNY_SETS:
        if key in _ENVIRON:
            os.environ[key] = _ENVIRON[key]
        else:
            os.environ.pop(key, None)


@pytest.fixture(autouse=True)
def _clean_environ():
    _restore_environ()
    yield
    _restore_environ()


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes (under nannies, as `dask worker` starts them) on 127.0.0.1."""
    cl = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        silence_logs=logging.ERROR,
    )
    _restore_environ()
    try:
        yield cl
    finally:
        cl.close()
        _restore_environ()


def _run(text: str, run_dir, **kwargs):
    return runner.run(parse(text, "inline.toml"), run_dir, progress=False, **kwargs)


def _by_key(df):
    return df.set_index("key").sort_index()


def test_cluster_runs_the_same_cells_with_the_same_scores_as_a_serial_local_run(cluster, tmp_path):
    local = _run(SMALL, tmp_path / "local")
    remote = _run(SMALL, tmp_path / "remote", scheduler=cluster.scheduler_address)
    a, b = _by_key(local.table), _by_key(remote.table)
    assert len(a) == 2 * 4 - 2  # ridge skips classification, logistic regression skips regression
    assert list(a.index) == list(b.index)
    for run in (a, b):
        assert (run["status"] == "ok").all(), run.loc[run["status"] != "ok", "info"].tolist()
    for col in ("n_params", "n_train", "n_test"):
        assert a[col].equals(b[col]), col
    # Scores are meant to be equal bit for bit where the cells had the same BLAS/OpenMP thread
    # budget; with another one, floating-point sums may be reordered: equal to a stated tolerance.
    same = a["threads"] == b["threads"]
    assert same.all(), "the local and cluster runs gave cells different thread budgets"
    for col in ("score", "train_score", "accuracy", "r2"):
        assert a.loc[same, col].equals(b.loc[same, col]), col
        np.testing.assert_allclose(a.loc[~same, col], b.loc[~same, col], rtol=1e-6, err_msg=col)
    workers = set(cluster.scheduler_info["workers"])
    assert set(b["worker"]) <= workers and len(set(b["worker"])) == 2  # both workers took cells
    assert a["worker"].isna().all()
    assert (b["host"] == platform.node()).all() and b["cpu_model"].notna().all()
    # Each worker machine runs 2 cells at once on its cores: the layout is recorded.
    assert (b["jobs"] == 2).all() and (b["threads"] == 1).all()
    env = json.loads((remote.run_dir / "environment.json").read_text())
    assert env["executor"]["executor"] == "dask"
    assert env["executor"]["hosts"][0]["slots"] == 2
    # The workers' processes, daemonic under their nannies and left so (no flag flipped), started
    # the cells' worker servers (fresh interpreters, not multiprocessing children), and the
    # nanny's OMP/MKL/OpenBLAS = 1 pinning was removed before they did.
    with distributed.Client(cluster, set_as_default=False) as client:
        names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "PYTHONHASHSEED")
        seen = client.run(lambda: {k: os.environ.get(k) for k in names})

        def daemonic():
            import multiprocessing

            return multiprocessing.current_process().daemon

        def servers():
            from bench.execution import isolate

            return len(isolate.server_pids())

        daemonic, servers = client.run(daemonic), client.run(servers)
    for values in seen.values():
        assert values == {k: _ENVIRON.get(k) for k in names}
    assert set(daemonic.values()) == {True}
    assert all(n >= 1 for n in servers.values())


def test_resume_on_the_cluster_runs_only_the_missing_cells(cluster, tmp_path):
    run_dir = tmp_path / "run"
    first = _run(SMALL, run_dir, scheduler=cluster.scheduler_address)
    rows = (run_dir / results.ROWS_FILE).read_text().splitlines(keepends=True)
    (run_dir / results.ROWS_FILE).write_text("".join(rows[:5]))
    again = _run(SMALL, run_dir, resume=True, scheduler=cluster.scheduler_address)
    assert again.n_run == len(rows) - 5
    assert sorted(again.table["key"]) == sorted(first.table["key"])
    assert (again.table["status"] == "ok").all()


LONG = """
[suite]
name = "long"
seeds = [0, 1]
train_sizes = [64]
threads = 1
time_limit_s = 600
[datasets.breast_cancer]
[models.nap]
model = "test_sleep"
seconds = 300.0
"""


def test_closing_an_interrupted_run_stops_its_cells_on_the_workers(cluster):
    from bench.errors import ExecutorError
    from bench.execution.dask_cluster import DaskExecutor
    from bench.suite import plan

    def live_cells():
        from bench.execution import isolate

        return isolate.running_cells()

    def wait_for(client, condition, what, quiet_s=120.0):
        return wait_until(lambda: condition(sum(client.run(live_cells).values())), what, quiet_s, poll_s=0.2)

    cluster.wait_for_workers(2, timeout=scaled(120))
    _restore_environ()
    cells, _ = plan(parse(LONG, "inline.toml"))
    executor = DaskExecutor(cluster.scheduler_address)
    outcome: list = []

    def consume():
        try:
            outcome.extend(executor.run(cells))
        except ExecutorError as exc:
            outcome.append(exc)

    consumer = threading.Thread(target=consume)
    consumer.start()
    with distributed.Client(cluster, set_as_default=False) as client:
        try:
            wait_for(client, lambda n: n == 2, "the two cells started")
        finally:
            executor.close()
        wait_for(client, lambda n: n == 0, "no cell running after close()", quiet_s=30)
        consumer.join(scaled(30))
        assert not consumer.is_alive()
        assert not any(isinstance(r, dict) for r in outcome)  # nothing recorded for stopped cells
        # The workers take new cells afterwards.
        assert client.submit(lambda: 1, pure=False).result() == 1


def _kill_a_busy_worker(address: str, killed: list, stop: threading.Event) -> None:
    """Once a worker has been running a cell for a second, SIGKILL its process."""
    with distributed.Client(address, set_as_default=False) as client:
        while not stop.is_set():
            busy = [w for w, keys in client.processing().items() if keys]
            if busy:
                time.sleep(1.0)
                pids = client.run(os.getpid, workers=busy[:1])
                for worker, pid in pids.items():
                    os.kill(pid, signal.SIGKILL)
                    killed.append(worker)
                return
            time.sleep(0.05)


def _run_killing_a_worker(cl, tmp_path):
    """Run SLEEPY on the cluster, SIGKILLing a worker's process in the middle of its first cell."""
    cl.wait_for_workers(2, timeout=scaled(120))  # a worker killed by an earlier test is back
    _restore_environ()
    killed: list = []
    stop = threading.Event()
    killer = threading.Thread(target=_kill_a_busy_worker, args=(cl.scheduler_address, killed, stop))
    killer.start()
    try:
        summary = _run(SLEEPY, tmp_path / "run", scheduler=cl.scheduler_address)
    finally:
        stop.set()
        killer.join()
    assert killed, "no worker was killed"
    return summary, killed


def test_a_worker_killed_mid_run_loses_no_cell_the_cell_is_run_again(cluster, tmp_path):
    summary, killed = _run_killing_a_worker(cluster, tmp_path)
    df = summary.table
    assert sorted(df["key"]) == sorted(f"breast_cancer|raw|64|{s}|nap" for s in range(3))
    assert df["key"].is_unique and len(results.read_rows(summary.run_dir)) == 3
    assert (df["status"] == "ok").all(), df["info"].tolist()
    # The killed worker finished nothing: its cell was run again on another worker.
    assert killed[0] not in set(df["worker"])


def _allowed_failures(client, n: int) -> int:
    def swap(dask_scheduler, n=n):
        old, dask_scheduler.allowed_failures = dask_scheduler.allowed_failures, n
        return old

    return client.run_on_scheduler(swap)


def test_a_cell_whose_workers_keep_dying_is_recorded_as_failed_not_missing(cluster, tmp_path):
    with distributed.Client(cluster, set_as_default=False) as client:
        old = _allowed_failures(client, 0)  # no second try: the first death fails the cell
        try:
            summary, killed = _run_killing_a_worker(cluster, tmp_path)
        finally:
            _allowed_failures(client, old)
    df = summary.table
    assert len(df) == 3 and df["key"].is_unique
    failed = df[df["status"] != "ok"]
    assert len(failed) >= 1
    assert (failed["status"] == "error").all()
    assert (failed["error_type"] == "KilledWorker").all()
    assert failed["info"].str.contains("died").all()
    assert (df.loc[df["status"] == "ok", "fit_time_s"] > 0).all()

