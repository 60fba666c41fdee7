"""Suites: TOML files naming datasets, models, seeds, sizes and limits; validated before anything runs.

spec.py holds what a suite says and the cells it plans (Suite, DatasetSpec, ModelSpec,
Tuning, Cell, Skip, cell_key); parsing.py reads and validates a suite file (load, parse);
planning.py plans its cells (plan, skip_lines, with_layout) and checks the devices it names
(check_devices). Callers import them all from here.
"""

from bench.errors import SuiteError
from bench.suite.parsing import MAX_THREADS, load, parse
from bench.suite.planning import check_devices, plan, skip_lines, with_layout
from bench.suite.spec import Cell, DatasetSpec, ModelSpec, Skip, Suite, Tuning, cell_key

__all__ = [
    "MAX_THREADS",
    "Cell",
    "DatasetSpec",
    "ModelSpec",
    "Skip",
    "Suite",
    "SuiteError",
    "Tuning",
    "cell_key",
    "check_devices",
    "load",
    "parse",
    "plan",
    "skip_lines",
    "with_layout",
]
