"""noxfile.py's `bench` session runs a cell per core unless told otherwise (nox is not in the test
environment, so its helper is compiled from the file's source)."""

from __future__ import annotations

import ast
import os
from pathlib import Path

NOXFILE = Path(__file__).resolve().parents[1] / "noxfile.py"


def _with_jobs():
    tree = ast.parse(NOXFILE.read_text(encoding="utf-8"))
    fn = next(f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == "_with_jobs")
    namespace = {"os": os}
    exec(compile(ast.Module(body=[fn], type_ignores=[]), str(NOXFILE), "exec"), namespace)
    return namespace["_with_jobs"]


def test_bench_runs_a_cell_per_core_unless_the_arguments_choose():
    with_jobs = _with_jobs()
    assert with_jobs(["suites/default.toml"], cores=2) == ["suites/default.toml", "--jobs", "2"]
    assert with_jobs(["suites/quick.toml", "--out", "x"], cores=8)[-2:] == ["--jobs", "8"]
    for chosen in (["--jobs", "1"], ["--jobs=3"], ["--scheduler", "tcp://h:8786"], ["--executor", "dask"]):
        assert with_jobs(["suites/default.toml", *chosen], cores=2) == ["suites/default.toml", *chosen]
