"""A worker finds its thread pools at its cell's size and never resizes one (issue 29).

Resizing OpenBLAS in a forked process starts its thread server, whose threads then spin
beside the cell for about 0.1 s: 1-thread cells forked from a server whose pools had 2
threads lost a third or more of their CPU to them, and waited for them before each fit.
Each worker server now loads OpenBLAS with one thread and sizes every pool to its cells'
thread count before it forks.
"""

from __future__ import annotations

import os

import pytest

from bench.execution import isolate

pytestmark = pytest.mark.skipif(not isolate.FORK_SERVERS, reason="no fork servers on this platform")


def _report(threads: int, conn) -> None:
    """In a worker: its pools' sizes, its thread count under a `threads`-thread cell's limit, and after
    scikit-learn's own one-thread BLAS limit (what k-NN's predict sets at every call)."""
    from threadpoolctl import threadpool_limits

    from bench.execution.threads import thread_limit, threadpools

    sizes = sorted({lib.get_num_threads() for lib in threadpools().lib_controllers})
    with thread_limit(threads):
        during = len(os.listdir("/proc/self/task"))
        with threadpool_limits(limits=1, user_api="blas"):
            pass
        after_sklearn = len(os.listdir("/proc/self/task"))
    conn.send((sizes, during, after_sklearn, os.environ.get("OPENBLAS_NUM_THREADS")))
    conn.close()


@pytest.mark.parametrize("threads", [1, 2])
def test_a_worker_finds_its_pools_at_its_cells_size_and_starts_no_pool_thread(threads):
    process, receive = isolate.start_worker(_report, (threads,), ("lean", (), threads))
    assert receive.poll(300), "the worker did not answer"
    sizes, during, after_sklearn, variable = receive.recv()
    process.join(10)
    assert sizes == [threads]
    assert during == 1, f"{during} threads in a worker under its cell's thread limit: a pool was resized"
    if threads == 1:  # OpenBLAS was loaded with one thread: setting it starts none
        assert after_sklearn == 1, f"{after_sklearn} threads after a one-thread BLAS limit"
    assert variable == os.environ.get("OPENBLAS_NUM_THREADS")  # the server's loading setting is not left behind


def test_a_second_run_in_one_process_caches_its_splits_in_its_own_folder(tmp_path):
    """A worker server outlives a run: its workers take the split cache of the run that starts them
    (they inherited the first run's, and a second run's splits were left in the first run's folder)."""
    from bench.execution import runner
    from bench.suite import parse

    text = '[suite]\nname = "{name}"\nseeds = [{seed}]\ntrain_sizes = [50]\nthreads = 1\n[datasets.wine]\n[models.knn]\n'
    for name, seed in (("one", 0), ("two", 1)):
        summary = runner.run(parse(text.format(name=name, seed=seed), f"{name}.toml"), tmp_path / name, progress=False)
        assert (summary.table["status"] == "ok").all()
    assert not (tmp_path / "one" / ".cache").exists()
    assert not (tmp_path / "two" / ".cache").exists()
