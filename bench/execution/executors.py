"""The executor interface, and the executors by name.

An executor takes a run's cells and yields their rows as the cells finish; where and how the
cells run is its own business (N worker processes here, tasks on a Dask cluster, ...). Every
executor subclasses `Executor` and is registered by name with `@executor("name")`, so that
`bench.execution.runner.make_executor` finds it by that name and a plug-in module adds one in
one file (docs/adding-an-executor.md). The built-in ones register when bench.execution.runner
is imported (it imports their modules); a plug-in's, when the plug-in is loaded:

    @executor("local")                    LocalExecutor (bench.execution.local)
    @executor("dask")                     DaskExecutor (bench.execution.dask_cluster)
    DeadlineExecutor                      wraps another (bench.execution.deadline); not chosen by name

A row must mean the same whoever runs its cell: an executor that runs cells on other machines
calls `bench.execution.isolate.run_isolated(cell)` there, as the local and Dask executors do.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import ClassVar

from bench.errors import ExecutorError
from bench.registry import Registry
from bench.suite import Cell, Suite

__all__ = ["EXECUTORS", "Executor", "ExecutorError", "ExecutorOptions", "executor"]


@dataclass(frozen=True)
class ExecutorOptions:
    """What a run tells the executor it builds: the suite, `--jobs` and `--scheduler` (or the suite's)."""

    suite: Suite | None = None
    jobs: int = 1
    scheduler: str | None = None


class Executor(abc.ABC):
    """Runs cells and yields their rows, in the order the cells finish."""

    name: ClassVar[str] = ""  # the registered name (@executor sets it)

    @classmethod
    def create(cls, options: ExecutorOptions) -> Executor:
        """The executor a run builds when this one is chosen by name (default: `cls()`)."""
        return cls()

    @abc.abstractmethod
    def run(self, cells: Iterable[Cell]) -> Iterator[dict]:
        """The rows of `cells` (each from bench.execution.isolate.run_isolated), as they finish."""

    @abc.abstractmethod
    def layout(self) -> tuple[int, int]:
        """(cells run at once on one machine, that machine's cores): the runner picks each cell's thread
        budget from it, so that threads x cells at once stays within the cores."""

    def describe(self) -> dict:
        """What environment.json records of the executor (its name, and whatever else says where cells ran)."""
        return {"executor": self.name}

    def close(self) -> None:  # noqa: B027 - an executor with nothing to release need not write one
        """Release what the executor holds (threads, a connection); cells still running are stopped."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


EXECUTORS: Registry[type[Executor]] = Registry("executor")


def executor(name: str):
    """Register an `Executor` subclass under `name` (a lower-case identifier), as `@model` registers a model."""
    if not isinstance(name, str) or not name.isidentifier() or name != name.lower():
        raise ValueError(f"executor name {name!r} is not a lower-case identifier")

    def wrap(cls):
        if not (isinstance(cls, type) and issubclass(cls, Executor)):
            raise TypeError(f"@executor({name!r}) decorates {cls!r}, which does not subclass "
                            "bench.execution.executors.Executor")
        cls.name = name
        EXECUTORS.add(name, cls)
        return cls

    return wrap
