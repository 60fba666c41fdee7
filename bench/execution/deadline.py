"""Running cells within a deadline: the order that answers first, and no cell started too late.

`DeadlineExecutor` wraps any executor (local.LocalExecutor, dask_cluster.DaskExecutor): it
sorts the cells so that a run cut short still answers the question (`priority`), hands them
to the inner executor batch by batch, and starts none after the deadline nor one whose
estimate says it would end after it; a cell it starts has its time limit cut to the time left,
so none runs past the deadline. `bench advise` runs its pilot and its suite through it.

The answer compares the two families like for like: at one training size, on the same seeds.
When a cell of the largest size fails or cannot finish in the budget, so that a family can no
longer have that size on one of the first two seeds, the next size down (every model, both
families, the first two seeds) runs next, before other seeds, searches or the rest of the
curve; and so on down. A model that ran out of time or memory at a size is not started again at
that size or above (`abandoned`): its other seeds would fail the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

from bench.execution.executors import Executor
from bench.suite import Cell

COMPARED = ("classical", "deep")  # the families the answer compares like for like
EARLY_SEEDS = 2  # the least an interval over seeds needs
MIN_LIMIT_S = 1.0  # the least time limit a cell started just before the deadline gets
HOPELESS = ("timeout", "oom")  # a model that ended so at a size ends so at its other seeds and larger sizes


def priority(cell: Cell, top: int) -> tuple:
    """The order in which cells answer the question, so that a run cut short by its deadline still answers.

    First the comparison at the full size on two seeds (the least an interval needs), then one
    seed's learning curve (small cells, cheap), then the searches at the full size, then a
    second seed's curve; the remaining seeds last. Within a round, larger sizes first.
    """
    full, tuned, early = cell.n_train == top, cell.tuning == "tuned", cell.seed < EARLY_SEEDS
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


def _within(cell: Cell, left_s: float) -> Cell:
    """The cell with its time limit cut to the time left before the deadline: a cell that would run
    past it is stopped there (a timeout), so the budget holds however wrong its estimate was."""
    wall = cell.time_limit_s * (cell.wall_backstop if cell.limit == "cpu" else 1.0)  # as bench.execution.isolate reads it
    if wall <= left_s:
        return cell
    return replace(cell, time_limit_s=max(MIN_LIMIT_S, float(int(left_s * cell.time_limit_s / wall))))


class DeadlineExecutor(Executor):
    """Runs cells through `inner` in priority order, starting none after `deadline` (time.monotonic),
    nor one whose `estimate` says it would end after it, and letting none run past `stop_at`.

    With `group` (a cell's family: "classical", "deep", or another group the comparison leaves
    aside), a size whose like-for-like comparison is lost brings the next size down forward
    (see the module's docstring). A wrapper, not registered by name: it has no place of its own
    to run cells, and a deadline is no option of `bench run`. Its layout and description are the
    inner executor's."""

    def __init__(self, inner, deadline: float, top: int | None = None, smallest_first: bool = False,
                 estimate: Callable[[Cell], float] | None = None, group: Callable[[Cell], str] | None = None,
                 stop_at: float | None = None):
        self.inner = inner
        self.deadline = deadline
        # No cell runs past this (time.monotonic); the deadline by default. Later for a stage of a
        # larger budget (the pilot: none of its cells starts after its share, but one may end after it).
        self.stop_at = deadline if stop_at is None else stop_at
        self.top = top
        self.smallest_first = smallest_first  # the pilot: every model's small cell before any large one
        self.estimate = estimate  # seconds a cell is expected to take: one that would end late is skipped
        self.group = group
        self.not_started = 0  # cells the deadline left out
        self.abandoned = 0  # cells of a model already out of time or memory at their size or below
        self.fallbacks: list[int] = []  # sizes brought forward, in order, because the one above was lost
        self._failed: set[str] = set()  # keys of cells that ran and did not finish, or were skipped
        self._hopeless: dict[tuple, int] = {}  # (model, features) -> the smallest size it ran out at

    def layout(self) -> tuple[int, int]:
        return self.inner.layout()

    def describe(self) -> dict:
        return self.inner.describe()

    # ---------------------------------------------------------------- the like-for-like comparison

    def _lost(self, n: int, cells: list[Cell]) -> bool:
        """Whether a family can no longer finish a cell at `n` rows on one of the first two seeds
        that size was planned with (every one of its cells there failed or was skipped)."""
        planned = [c for c in cells if c.n_train == n and c.tuning != "tuned" and c.seed < EARLY_SEEDS]
        for seed in {c.seed for c in planned}:
            for family in COMPARED:
                mine = [c for c in planned if c.seed == seed and self.group(c) == family]
                if mine and all(c.key in self._failed for c in mine):
                    return True
        return False

    def _fallback(self, top: int, cells: list[Cell]) -> int | None:
        """The size the answer now rests on: the largest not lost, from `top` down; None while `top` holds."""
        if self.group is None:
            return None
        sizes = sorted({c.n_train for c in cells if c.n_train <= top}, reverse=True)
        for n in sizes:
            if not self._lost(n, cells):
                return None if n == top else n
        return None

    def _key(self, cell: Cell, top: int, fallback: int | None) -> tuple:
        if fallback is not None and cell.n_train == fallback and cell.tuning != "tuned" and cell.seed < EARLY_SEEDS:
            return (-1, cell.seed, False, 0)  # before anything else: the comparison the answer can still have
        return priority(cell, top)

    # ---------------------------------------------------------------- running

    def _note(self, row: dict, by_key: dict[str, Cell]) -> None:
        cell = by_key.get(row.get("key")) if isinstance(row, dict) else None
        if cell is None or row.get("status", "ok") == "ok":
            return
        self._failed.add(cell.key)
        if row.get("status") in HOPELESS:
            k = (cell.model.label, cell.features)
            self._hopeless[k] = min(self._hopeless.get(k, cell.n_train), cell.n_train)

    def _is_hopeless(self, cell: Cell) -> bool:
        n = self._hopeless.get((cell.model.label, cell.features))
        return n is not None and cell.n_train >= n

    def run(self, cells: Iterable[Cell]) -> Iterator[dict]:
        cells = list(cells)
        top = self.top or max((c.n_train for c in cells), default=0)
        if self.smallest_first:
            pending = sorted(cells, key=lambda c: (c.n_train, c.seed))
        else:
            pending = sorted(cells, key=lambda c: priority(c, top))
        by_key = {c.key: c for c in cells}
        # The inner executor gets as many cells as it runs at once, batch by batch: an executor may
        # read all the cells it is given before starting any, so the deadline is checked here.
        at_once = self.inner.layout()[0] if hasattr(self.inner, "layout") else 1
        fallback = None
        while pending:
            batch: list[Cell] = []
            while pending and len(batch) < at_once:
                cell = pending.pop(0)
                now = time.monotonic()
                if now >= self.deadline:
                    self.not_started += len(pending) + 1
                    pending = []
                    break
                if self._is_hopeless(cell):
                    self.abandoned += 1
                    self._failed.add(cell.key)
                elif self.estimate is not None and now + self.estimate(cell) > self.deadline:
                    self.not_started += 1  # a cheaper cell further on may still fit
                    self._failed.add(cell.key)
                else:
                    batch.append(_within(cell, self.stop_at - now))
                    continue
                fallback = self._resort(pending, cells, top, fallback)
            if not batch:
                break
            for row in self.inner.run(batch):
                self._note(row, by_key)
                yield row
            fallback = self._resort(pending, cells, top, fallback)

    def _resort(self, pending: list[Cell], cells: list[Cell], top: int, fallback: int | None) -> int | None:
        """Orders what is left again once a cell failed or was skipped: the next size down first
        when the size above lost its like-for-like comparison."""
        if self.smallest_first or self.group is None:
            return fallback
        now = self._fallback(top, cells)
        if now is not None and now != fallback:
            self.fallbacks.append(now)
        pending.sort(key=lambda c: self._key(c, top, now))
        return now

    def close(self) -> None:
        self.inner.close()
