"""A name -> entry registry and the vocabularies every stage shares (tasks, modalities, families, tags).

A leaf: it imports nothing of bench, so datasets, models, features and plugins all build on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

TASKS = ("classification", "regression")
MODALITIES = ("tabular", "image", "sequence", "text")  # text: token ids, one document per row
FAMILIES = ("classical", "deep")

# Tags the report's claims select by; a model or dataset may carry others of its own.
MODEL_TAGS = {
    "linear": "a linear model of its inputs",
    "kernel": "a kernel method (support vector machine)",
    "tree": "one or more decision trees",
    "ensemble": "an ensemble of models",
    "boosting": "gradient boosting",
    "neighbours": "predicts from stored training rows (k-nearest neighbours)",
    "fully_connected": "a network of dense layers only, blind to the order of its inputs (MLP)",
    "convolutional": "a network with convolution and pooling (CNN)",
    "recurrent": "a recurrent network (RNN, LSTM, GRU)",
    "attention": "a network of self-attention layers (Transformer encoder)",
    "engineered_features": "reads features it builds from the raw input by a fixed recipe (TF-IDF of words), so the feature-engineering claim counts it as engineered, not raw",
    "hybrid": "features learned by a network, fed to a classical model",
    "native_categories": "takes a table's categorical columns itself (ordinal codes and their indices), not one-hot",
    "testing": "a test double, not a real model",
}
DATASET_TAGS = {
    "real": "real-world data",
    "synthetic": "generated data",
    "long_range": "the label depends on distant elements of the sequence",
    "official_split": "has a fixed, published train/test split",
    "download": "needs a download (or a cached copy) to load",
    "user_file": "read from the user's own file",
    "categorical": "has categorical columns, declared by the dataset",
}
# What a model's cells need loaded in the worker process they run in: a model declares it
# (`@model(..., needs=("torch",))`) and bench.execution.isolate forks its cells from the warm
# worker server that holds it. `needs=()` declares that the model needs none of these.
NEEDS = {
    "torch": "imports PyTorch: its cells fork from the worker server that has torch loaded",
}
_TAG = re.compile(r"[a-z][a-z0-9_]*")


def first_line(text) -> str:
    """The first non-blank line of a text (a docstring, an error), or "" for none."""
    try:
        lines = str(text or "").strip().splitlines()
    except TypeError:  # pandas' NA (a missing text cell) has no truth value
        lines = []
    return lines[0] if lines else ""


class Registry(Generic[T]):
    """Entries by name; registering a name twice is an error, so plugins cannot shadow built-ins."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> T:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def __getitem__(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(
                f"unknown {self.kind} {name!r}; valid: {', '.join(sorted(self._entries))}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def names(self) -> list[str]:
        return sorted(self._entries)

    def items(self) -> list[tuple[str, T]]:
        return sorted(self._entries.items())


def check_tags(kind: str, name: str, tags) -> frozenset[str]:
    """Tags as a frozenset; each a lower-case identifier (`long_range`), so rows can list them."""
    if isinstance(tags, str):
        tags = (tags,)
    out = frozenset(tags)
    for tag in out:
        if not isinstance(tag, str) or not _TAG.fullmatch(tag):
            raise ValueError(f"{kind} {name!r}: tag {tag!r} is not a lower-case identifier")
    return out


def check_needs(kind: str, name: str, needs) -> frozenset[str] | None:
    """Declared needs as a frozenset, each one of NEEDS; None (not declared) stays None."""
    if needs is None:
        return None
    if isinstance(needs, str):
        needs = (needs,)
    out = frozenset(needs)
    for need in out:
        if need not in NEEDS:
            raise ValueError(f"{kind} {name!r}: need {need!r} is not one of {', '.join(sorted(NEEDS))} "
                             "(bench.registry.NEEDS)")
    return out


def tags_text(tags) -> str:
    """Tags as a row stores them: sorted, comma-separated."""
    return ",".join(sorted(tags))


