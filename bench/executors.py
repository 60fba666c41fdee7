"""Where cells run. An executor takes cells and yields their rows as they finish.

The local executor runs N isolated workers at once on this machine; other executors
(a Dask cluster) implement the same two methods.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Protocol

from bench.isolate import run_isolated
from bench.suite import Cell


class Executor(Protocol):
    def run(self, cells: Iterable[Cell]) -> Iterator[dict]:
        """Rows of the cells, in the order they finish."""
        ...

    def close(self) -> None: ...


class LocalExecutor:
    """`jobs` cells at a time, each in its own measured worker process."""

    def __init__(self, jobs: int = 1):
        self.jobs = max(1, int(jobs))
        self._pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="cell")

    def run(self, cells: Iterable[Cell]) -> Iterator[dict]:
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
