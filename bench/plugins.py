"""User plug-in modules: imported before anything runs, in the runner and in every worker."""

from __future__ import annotations

import importlib
import os

PLUGINS_ENV = "BENCH_PLUGINS"


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
        if not all(part.isidentifier() for part in name.split(".")):  # a path, or a relative import
            from bench.errors import SuiteError
            from bench.inputs import shown

            raise SuiteError(f"plugin {shown(name)!r} (--plugin or {PLUGINS_ENV}): not a Python module name; a plugin "
                             "is a module imported by its dotted name (e.g. mypackage.models), not a file path")
        importlib.import_module(name)
    return mods
