"""The local executor: N isolated workers at once on this machine (`bench run --jobs N`).

Every executor implements bench.execution.executors.Executor and is registered by name there.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

import psutil

from bench.errors import ExecutorError  # noqa: F401  (executors raise it; callers import it from here)
from bench.execution.executors import Executor, ExecutorOptions, executor
from bench.execution.isolate import run_isolated, start_servers
from bench.suite import Cell


def local_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return psutil.cpu_count(logical=True) or 1


@executor("local")
class LocalExecutor(Executor):
    """`jobs` cells at a time, each in its own measured worker process."""

    def __init__(self, jobs: int = 1):
        self.jobs = max(1, int(jobs))
        self._pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="cell")

    @classmethod
    def create(cls, options: ExecutorOptions) -> LocalExecutor:
        return cls(options.jobs)

    def layout(self) -> tuple[int, int]:
        return self.jobs, local_cores()

    def describe(self) -> dict:
        return {"executor": "local", "jobs": self.jobs, "cores": local_cores()}

    def run(self, cells: Iterable[Cell]) -> Iterator[dict]:
        cells = list(cells)
        start_servers(cells)  # all of them ready before the first cell's clock starts
        pending: set[Future] = set()
        queue = iter(cells)
        for cell in queue:
            pending.add(self._pool.submit(run_isolated, cell))
            if len(pending) >= self.jobs:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
                nxt = next(queue, None)
                if nxt is not None:
                    pending.add(self._pool.submit(run_isolated, nxt))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
