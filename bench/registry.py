"""A name -> entry registry with a decorator, shared by datasets, models and feature variants."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

PLUGINS_ENV = "BENCH_PLUGINS"


def first_line(text) -> str:
    """The first non-blank line of a text (a docstring, an error), or "" for none."""
    lines = str(text or "").strip().splitlines()
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


def plugin_modules(extra: tuple[str, ...] | list[str] = ()) -> tuple[str, ...]:
    """Plugin module names from BENCH_PLUGINS (comma-separated) plus `extra`, without repeats."""
    names = [m.strip() for m in os.environ.get(PLUGINS_ENV, "").split(",") if m.strip()]
    names += [m for m in extra if m]
    return tuple(dict.fromkeys(names))


def load_plugins(modules: tuple[str, ...] | list[str] = ()) -> tuple[str, ...]:
    """Import the built-in registries and every plugin module (which register on import)."""
    import bench.datasets  # noqa: F401  (registers built-in datasets)
    import bench.features  # noqa: F401
    import bench.models  # noqa: F401

    mods = plugin_modules(modules)
    for name in mods:
        importlib.import_module(name)
    return mods


