"""Datasets registry: one decorated function per dataset, returning a `Data`.

A dataset function takes keyword parameters with defaults (what a suite may set) and
returns the whole dataset; splitting, subsetting and preprocessing are the harness's job,
so every model sees the same split.
"""

# The registry's machinery lives in bench.datasets.core, which the built-in datasets import, so no
# module of this package imports the package itself; this module re-exports it.
# Built-in datasets register themselves on import.
from bench.datasets import files, images, mnist1d, openml, rtables, sequences, tabular, text, ucr  # noqa: E402,F401
from bench.datasets.core import (  # noqa: F401
    DATASETS,
    MODALITIES,
    TASKS,
    Data,
    DataError,
    DatasetEntry,
    Registry,
    __all__,  # noqa: F401
    check_tags,
    dataset,
    first_line,
    full_params,
    load,
    split,
    stratified_order,
    test_count,
    validate,
)
