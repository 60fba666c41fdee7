"""Models registry: one decorated function per model, returning an unfitted estimator.

The function receives a `ModelContext` (task, data shape, seed, thread budget, device) and
returns a scikit-learn estimator; the suite's hyperparameters are applied with
`set_params`, so the estimator's own parameter names are the suite's keys. `search=` declares
the model's hyperparameter search space next to its factory (bench.tuning runs the search).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bench.registry import (
    FAMILIES,
    MODALITIES,
    TASKS,
    Registry,
    check_needs,
    check_tags,
    first_line,
)

__all__ = ["FAMILIES", "MODELS", "ModelContext", "ModelEntry", "SearchSpace", "build", "lazy_attributes", "model"]

# Hyperparameter -> a list of values or a scipy.stats distribution (anything with `rvs`), as
# scikit-learn's ParameterSampler takes it; or a function of the ModelContext giving one.
SearchSpace = Mapping[str, Any]


@dataclass(frozen=True)
class ModelContext:
    task: str
    modality: str
    seed: int
    threads: int
    n_features: int
    n_classes: int | None = None
    sample_shape: tuple[int, ...] | None = None
    device: str = "auto"
    # Columns of X holding category codes (0..k-1; -1 missing or unseen): given only to a model
    # tagged `native_categories`, on a table with categorical columns; others get them one-hot.
    categorical: tuple[int, ...] = ()


@dataclass(frozen=True)
class ModelEntry:
    name: str
    fn: Callable[[ModelContext], object]
    family: str
    tasks: frozenset[str]
    modalities: frozenset[str]
    description: str = ""
    tags: frozenset[str] = frozenset()
    search: SearchSpace | Callable[[ModelContext], SearchSpace] | None = None
    # What its cells need loaded in their worker (bench.registry.NEEDS), or None when not declared:
    # then bench.execution.isolate takes a `deep` model to need torch, a `classical` one not.
    needs: frozenset[str] | None = None

    def space(self, ctx: ModelContext) -> dict[str, Any]:
        """The search space for this context ({} when the model declares none)."""
        space = self.search(ctx) if callable(self.search) else self.search
        return dict(space or {})

    def incompatibility(self, task: str, modality: str) -> str | None:
        """Why this model cannot run on such data, or None when it can."""
        if task not in self.tasks:
            return f"{self.name} does not do {task} (only {', '.join(sorted(self.tasks))})"
        if modality not in self.modalities:
            return f"{self.name} does not take {modality} data (only {', '.join(sorted(self.modalities))})"
        return None


MODELS: Registry[ModelEntry] = Registry("model")


def model(
    name: str,
    *,
    family: str,
    tasks: tuple[str, ...] = TASKS,
    modalities: tuple[str, ...] = MODALITIES,
    tags: tuple[str, ...] = (),
    search: SearchSpace | Callable[[ModelContext], SearchSpace] | None = None,
    needs: tuple[str, ...] | None = None,
):
    """Register a model factory `fn(ctx) -> estimator`; `tags` say what kind of model it is.

    The report's claims select models by tag (bench.registry.MODEL_TAGS), so a registered
    `convolutional` model takes part in the CNN-vs-MLP claim without any report edit.
    `search` is the space a tuned cell samples: {hyperparameter: list or scipy.stats
    distribution}, or a function of the ModelContext returning one; without it the model
    runs with its defaults only. `needs` says what its cells need loaded in their worker
    (bench.registry.NEEDS: `("torch",)` for a model built on PyTorch, `()` for none); undeclared, a
    `deep` model is taken to need torch and a `classical` one not (bench.execution.isolate).
    """
    if family not in FAMILIES:
        raise ValueError(f"model {name!r}: family must be one of {FAMILIES}")
    if search is not None and not callable(search):
        _check_space_shape(name, search)
    declared = check_needs("model", name, needs)

    def wrap(fn):
        MODELS.add(
            name,
            ModelEntry(
                name=name,
                fn=fn,
                family=family,
                tasks=frozenset(tasks),
                modalities=frozenset(modalities),
                description=first_line(fn.__doc__),
                tags=check_tags("model", name, tags),
                search=search,
                needs=declared,
            ),
        )
        return fn

    return wrap


def _check_space_shape(name: str, space) -> None:
    """A declared space is a mapping of names to non-empty lists or distributions."""
    if not isinstance(space, Mapping):
        raise ValueError(f"model {name!r}: search must be a dict or a function of the context")
    for key, values in space.items():
        if not isinstance(key, str):
            raise ValueError(f"model {name!r}: search key {key!r} is not a hyperparameter name")
        if hasattr(values, "rvs"):
            continue
        if not isinstance(values, list | tuple) or not values:
            raise ValueError(
                f"model {name!r}: search[{key!r}] must be a non-empty list or a scipy.stats distribution"
            )


def build(name: str, ctx: ModelContext, params: dict):
    """The estimator for a cell: the factory's defaults, then the suite's hyperparameters."""
    estimator = MODELS[name].fn(ctx)
    if params:
        estimator.set_params(**params)
    return estimator


def lazy_attributes(module_name: str, source: str) -> Callable[[str], Any]:
    """A module `__getattr__` that hands out `source`'s attributes, importing it on first use.

    The registry loads on every CLI call and must stay light, so a model module keeps its
    estimators (and torch) in a second module and re-exports them through this.
    """

    def __getattr__(name: str):
        if name.startswith("__"):  # the import system asks for __path__ and the like: not ours to supply
            raise AttributeError(name)
        try:
            return getattr(importlib.import_module(source), name)
        except AttributeError:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}") from None

    return __getattr__


# Built-in models register themselves on import. Issue 25 added boosting and tabular_deep (LightGBM,
