"""Running cells within a deadline: the order that answers first, and no cell started too late.

`DeadlineExecutor` wraps any executor (local.LocalExecutor, dask_cluster.DaskExecutor): it
sorts the cells so that a run cut short still answers the question (`priority`), hands them
to the inner executor batch by batch, and starts none after the deadline nor one whose
estimate says it would end after it. `bench advise` runs its pilot and its suite through it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

from bench.execution.executors import Executor
from bench.suite import Cell


def priority(cell: Cell, top: int) -> tuple:
    """The order in which cells answer the question, so that a run cut short by its deadline still answers.

    First the comparison at the full size on two seeds (the least an interval needs), then one
    seed's learning curve (small cells, cheap), then the searches at the full size, then a
    second seed's curve; the remaining seeds last. Within a round, larger sizes first.
    """
    full, tuned, early = cell.n_train == top, cell.tuning == "tuned", cell.seed < 2
    if full and not tuned and early:
        rank = 0
    elif not full and cell.seed == 0:
        rank = 1
    elif full and early:
        rank = 2
    elif not full and cell.seed == 1:
        rank = 3
    else:
        rank = 4 if full else 5
    return (rank, cell.seed, tuned, -cell.n_train)


class DeadlineExecutor(Executor):
    """Runs cells through `inner` in priority order, starting none after `deadline` (time.monotonic),
    nor one whose `estimate` says it would end after it.

    A wrapper, not registered by name: it has no place of its own to run cells, and a deadline is
    no option of `bench run`. Its layout and description are the inner executor's."""

    def __init__(self, inner, deadline: float, top: int | None = None, smallest_first: bool = False,
                 estimate: Callable[[Cell], float] | None = None):
        self.inner = inner
        self.deadline = deadline
        self.top = top
        self.smallest_first = smallest_first  # the pilot: every model's small cell before any large one
        self.estimate = estimate  # seconds a cell is expected to take: one that would end late is skipped
        self.not_started = 0

    def layout(self) -> tuple[int, int]:
        return self.inner.layout()

    def describe(self) -> dict:
        return self.inner.describe()

    def _cells(self, cells: list[Cell]) -> Iterator[Cell]:
        for i, cell in enumerate(cells):
            now = time.monotonic()
            if now >= self.deadline:
                self.not_started += len(cells) - i
                return
            if self.estimate is not None and now + self.estimate(cell) > self.deadline:
                self.not_started += 1  # a cheaper cell further on may still fit
                continue
            yield cell

    def run(self, cells: Iterable[Cell]) -> Iterator[dict]:
        cells = list(cells)
        top = self.top or max((c.n_train for c in cells), default=0)
        cells.sort(key=(lambda c: (c.n_train, c.seed)) if self.smallest_first else (lambda c: priority(c, top)))
        # The inner executor gets as many cells as it runs at once, batch by batch: an executor may
        # read all the cells it is given before starting any, so the deadline is checked here.
        at_once = self.inner.layout()[0] if hasattr(self.inner, "layout") else 1
        batch: list[Cell] = []
        for cell in self._cells(cells):
            batch.append(cell)
            if len(batch) >= at_once:
                yield from self.inner.run(batch)
                batch = []
        if batch:
            yield from self.inner.run(batch)

    def close(self) -> None:
        self.inner.close()
