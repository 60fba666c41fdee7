"""What a suite says and the cells it plans: the dataclasses every other part of bench passes around.

A suite (bench.suite.parsing reads it from TOML) names datasets (DatasetSpec), models
(ModelSpec), the search protocol (Tuning) and the limits; its plan (bench.suite.planning)
is a list of Cells, one measurement each, and the Skips with why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.datasets import test_count
from bench.tuning import Budget


@dataclass(frozen=True)
class DatasetSpec:
    label: str  # the table name in the suite
    name: str  # the registry name
    params: dict[str, Any]
    task: str
    modality: str
    n_samples: int
    test_size: float | int
    train_sizes: tuple[int, ...]
    tags: frozenset[str] = frozenset()
    official_split: bool = False  # test_size is the official test part's row count
    seeds: tuple[int, ...] | None = None  # this dataset's seeds (default: the suite's)
    one_seed_from: int | None = None  # training sizes from this one on run the first seed only
    models: tuple[str, ...] | None = None  # model labels that run on it (default: all)
    large_models: tuple[str, ...] | None = None  # those that run at sizes from one_seed_from on
    tuning_sizes: str | tuple[int, ...] | None = None  # overrides suite.tuning.sizes on this dataset
    features: tuple[str, ...] | None = None  # overrides suite.features on this dataset

    def runs_at(self, n_train: int, model_label: str) -> bool:
        large = self.one_seed_from is not None and n_train >= self.one_seed_from
        return not (large and self.large_models is not None and model_label not in self.large_models)

    def seeds_at(self, n_train: int, suite_seeds: tuple[int, ...]) -> tuple[int, ...]:
        seeds = self.seeds or suite_seeds
        return seeds[:1] if self.one_seed_from is not None and n_train >= self.one_seed_from else seeds

    @property
    def n_test(self) -> int:
        return test_count(self.n_samples, self.test_size)


@dataclass(frozen=True)
class ModelSpec:
    label: str
    name: str
    params: dict[str, Any]
    family: str
    tags: frozenset[str] = frozenset()
    search: dict[str, Any] | None = None  # the suite's own search space (TOML), replacing the model's


@dataclass(frozen=True)
class Tuning:
    """The suite's search protocol: the budget of every tuned cell, which cells to plan."""

    budget: Budget = Budget()
    modes: tuple[str, ...] = ("default",)
    sizes: str = "all"  # "all", "largest" or "smallest" (bench.tuning.sizes_to_tune)
    seeds: tuple[int, ...] | None = None  # None: every seed of the suite


@dataclass(frozen=True)
class Suite:
    path: str
    name: str
    seeds: tuple[int, ...]
    features: tuple[str, ...]
    threads: int
    time_limit_s: float
    memory_limit_mb: float | None
    device: str
    datasets: tuple[DatasetSpec, ...]
    models: tuple[ModelSpec, ...]
    raw: dict = field(repr=False, default_factory=dict)
    sha256: str = ""
    plugins: tuple[str, ...] = ()
    scheduler: str | None = None
    validation: float = 0.2
    tuning: Tuning = Tuning()
    limit: str = "wall"
    wall_backstop: float = 5.0


@dataclass(frozen=True)
class Cell:
    """One measurement: a model on one split of one dataset, under the suite's limits."""

    dataset: DatasetSpec
    model: ModelSpec
    seed: int
    n_train: int
    features: str
    threads: int
    time_limit_s: float
    memory_limit_mb: float | None
    device: str
    plugins: tuple[str, ...] = ()
    jobs: int = 1
    tuning: str = "default"  # "tuned": a search on validation rows chooses the hyperparameters
    validation: float = 0.2  # fraction of the training rows every choice is made on
    budget: Budget = Budget()  # a tuned cell's search budget
    limit: str = "wall"  # which clock time_limit_s measures: "wall", or "cpu" (CPU seconds per thread)
    wall_backstop: float = 5.0  # with limit = "cpu": wall-time limit as a multiple of time_limit_s

    @property
    def key(self) -> str:
        """The cell's identity in a run folder: its fields joined by `|`, each escaped, so no two collide.

        A tuned cell's key ends in `|tuned`; a default cell's key is what it always was.
        """
        parts = (self.dataset.label, self.features, self.n_train, self.seed, self.model.label)
        return cell_key(*parts, "tuned") if self.tuning == "tuned" else cell_key(*parts)


def cell_key(*parts) -> str:
    """`a|b|c` with `\\` and `|` inside a part escaped: distinct parts always give distinct keys."""
    return "|".join(str(p).replace("\\", "\\\\").replace("|", "\\|") for p in parts)


@dataclass(frozen=True)
class Skip:
    dataset: str
    model: str
    features: str
    reason: str
