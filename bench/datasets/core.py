"""Datasets registry: one decorated function per dataset, returning a `Data`.

A dataset function takes keyword parameters with defaults (what a suite may set) and
returns the whole dataset; splitting, subsetting and preprocessing are the harness's job,
so every model sees the same split.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.errors import DataError
from bench.registry import MODALITIES, TASKS, Registry, check_tags, first_line

if TYPE_CHECKING:  # pandas is imported where a file is read, not to list the registry
    import pandas as pd

__all__ = ["MODALITIES", "TASKS", "DATASETS", "Data", "DataError", "DatasetEntry", "dataset", "load", "split"]


@dataclass(frozen=True)
class Data:
    """A whole dataset. X is 2-D (rows x features); `sample_shape` restores images/sequences.

    `n_test` marks an official split: the last `n_test` rows are the published test set,
    used as it is for every seed; the rows before it are the training part.
    """

    X: np.ndarray | pd.DataFrame
    y: np.ndarray
    sample_shape: tuple[int, ...] | None = None
    target_names: tuple[str, ...] | None = None
    n_test: int | None = None

    @property
    def n_samples(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    fn: Callable[..., Data]
    task: str | None  # None: the suite sets it with a `task` parameter (user files)
    modality: str
    size: Callable[[dict], int]  # number of rows for given parameters, without loading
    defaults: dict[str, Any] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    check: Callable[[dict], None] | None = None
    description: str = ""
    tags: frozenset[str] = frozenset()
    # Rows of the official test set for given parameters (without loading), or None when
    # the dataset has no fixed split and the suite's test_size applies.
    official_test: Callable[[dict], int] | None = None

    def official_rows(self, params: dict) -> int | None:
        """Rows of the official test set for these parameters, or None where there is none."""
        rows = self.official_test(params) if self.official_test is not None else None
        return None if rows is None else int(rows)

    def task_for(self, params: dict) -> str:
        return self.task or params["task"]


DATASETS: Registry[DatasetEntry] = Registry("dataset")


def dataset(
    name: str,
    *,
    task: str | None,
    modality: str,
    size: int | Callable[[dict], int],
    check: Callable[[dict], None] | None = None,
    tags: tuple[str, ...] = (),
    official_test: int | Callable[[dict], int] | None = None,
):
    """Register a dataset function; its keyword defaults are the parameters a suite may set.

    `official_test`: the number of rows (or a function of the parameters giving it) of a
    published test set, which the function returns as the last rows with `Data.n_test` set; a
    function may give None where the parameters ask for no official split (digits' `half_split`).
    """
    if task is not None and task not in TASKS:
        raise ValueError(f"dataset {name!r}: task must be one of {TASKS}")
    if modality not in MODALITIES:
        raise ValueError(f"dataset {name!r}: modality must be one of {MODALITIES}")

    def wrap(fn: Callable[..., Data]) -> Callable[..., Data]:
        sig = inspect.signature(fn)
        defaults = {
            k: p.default for k, p in sig.parameters.items() if p.default is not inspect.Parameter.empty
        }
        required = tuple(
            k for k, p in sig.parameters.items() if p.default is inspect.Parameter.empty
        )
        size_fn = size if callable(size) else (lambda _params, n=size: n)
        test_fn = official_test
        if official_test is not None and not callable(official_test):
            test_fn = lambda _params, n=official_test: n  # noqa: E731
        all_tags = check_tags("dataset", name, tags) | ({"official_split"} if test_fn else set())
        DATASETS.add(
            name,
            DatasetEntry(
                name=name,
                fn=fn,
                task=task,
                modality=modality,
                size=size_fn,
                defaults=defaults,
                required=required,
                check=check,
                description=first_line(fn.__doc__),
                tags=all_tags,
                official_test=test_fn,
            ),
        )
        return fn

    return wrap


def full_params(name: str, params: dict) -> dict:
    """A dataset's parameters as its loader runs with them: its defaults, then `params` (a suite's)."""
    return {**(DATASETS[name].defaults if name in DATASETS else {}), **params}


def load(name: str, params: dict) -> Data:
    """Build a dataset and check what every model relies on (finite numbers, labels, shapes)."""
    entry = DATASETS[name]
    full = full_params(name, params)
    data = entry.fn(**full)
    declared = entry.official_rows(full)
    if declared is not None:
        if data.n_test is None:
            data = replace(data, n_test=declared)
        elif data.n_test != declared:
            raise DataError(f"dataset {name!r}: declares {declared} official test rows but returned {data.n_test}")
    validate(data, entry.task_for(full), where=f"dataset {name!r}")
    return data


def validate(data: Data, task: str, where: str) -> None:
    n = len(data.y)
    if n == 0:
        raise DataError(f"{where}: no rows")
    if len(data.X) != n:
        raise DataError(f"{where}: {len(data.X)} feature rows but {n} targets")
    if data.n_test is not None and not 0 < data.n_test < n:
        raise DataError(f"{where}: an official test part of {data.n_test} rows leaves no training rows of {n}")
    if data.sample_shape is not None:
        width = data.X.shape[1]
        if int(np.prod(data.sample_shape)) != width:
            raise DataError(
                f"{where}: sample shape {data.sample_shape} does not match {width} features per row"
            )
    if isinstance(data.X, np.ndarray):
        if not np.issubdtype(data.X.dtype, np.number):
            raise DataError(f"{where}: features must be numeric, got dtype {data.X.dtype}")
        if not np.isfinite(data.X).all():
            raise DataError(f"{where}: features contain NaN or inf")
    y = np.asarray(data.y)
    if task == "regression":
        if not np.issubdtype(y.dtype, np.number) or not np.isfinite(y).all():
            raise DataError(f"{where}: regression target must be finite numbers")
        if np.ptp(y) == 0:
            raise DataError(f"{where}: the target is constant")
    else:
        if len(np.unique(y)) < 2:
            raise DataError(f"{where}: classification needs at least 2 classes, found 1")


def stratified_order(y: np.ndarray, rng: np.random.Generator, classification: bool) -> np.ndarray:
    """A permutation whose every prefix holds the classes in about their overall proportions.

    Prefixes are then nested training sets (64 rows are the first 64 of the 128-row set),
    which keeps learning curves free of resampling noise between sizes. The first k rows
    hold one row of each of the k classes, so every prefix of at least k rows has every
    class, however rare (proportional interleaving alone would put a class of 3 rows in
    58,000 thousands of rows in; a small training set would then lack it).
    """
    n = len(y)
    if not classification:
        return rng.permutation(n)
    rank = np.empty(n)
    for cls in np.unique(y):
        idx = np.flatnonzero(y == cls)
        rank[idx] = (rng.permutation(len(idx)) + rng.random(len(idx))) / len(idx)
        first = idx[np.argmin(rank[idx])]
        rank[first] -= 1.0  # ahead of every row of rank >= 0, in a random order of classes
    return np.argsort(rank, kind="stable")


def test_count(n_samples: int, test_size: float | int) -> int:
    if isinstance(test_size, float):
        return max(1, int(round(n_samples * test_size)))
    return int(test_size)


def split(
    y: np.ndarray, seed: int, test_size: float | int, task: str, official_test: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (training pool in stratified order, test) for one seed; models share them.

    With an official split (`official_test` rows at the end), the test part is those rows for
    every seed and the seed orders only the training part.
    """
    rng = np.random.default_rng([seed, 1234])
    if official_test is not None:
        n_pool = len(y) - official_test
        order = stratified_order(np.asarray(y)[:n_pool], rng, task == "classification")
        return order, np.arange(n_pool, len(y))
    order = stratified_order(np.asarray(y), rng, task == "classification")
    n_test = test_count(len(y), test_size)
    # The test set is taken from the end of a stratified order, so it is stratified too.
    return order[: len(y) - n_test], np.sort(order[len(y) - n_test :])
