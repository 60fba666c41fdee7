"""A whole suite's wall time against the work it measures: the harness's overhead, serially.

Runs suites/quick.toml and suites/default.toml (BENCH_PERF_SUITES, comma-separated, names
or paths) with one job, as `bench run` does, and prints each one's wall time (planning,
worker servers' start, every cell, bookkeeping, the final tables), the measured work (the
sum over its rows of fit, predict and the choice on validation rows: `fit_time_s +
predict_time_s + search_time_s`), their ratio and the part of the gap that is neither
(fixed costs). Targets: quick <= 1.5x, default <= 1.3x, held when the load average is at
most the machine's core count (a busier machine's ratio is printed, not judged).

`nox -s perf`, or `pytest benchmarks/test_suite_overhead.py -p no:cacheprovider`. The
default suite takes the longest: docs/performance.md ("Per suite" and "The shipped suites'
running times") gives its measured wall times, which tests/test_docs_numbers.py checks
against the reference run's files; longer on a busy machine.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bench.execution import runner
from bench.suite import load as load_suite

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"quick": 1.5, "default": 1.3}
SUITES = [s.strip() for s in os.environ.get("BENCH_PERF_SUITES", "quick,default").split(",") if s.strip()]

pytestmark = pytest.mark.timeout(4 * 3600)  # the default suite on a busy machine takes far beyond pytest's 600 s


def _path(name: str) -> Path:
    return Path(name) if name.endswith(".toml") else ROOT / "suites" / f"{name}.toml"


@pytest.mark.parametrize("name", SUITES)
def test_suite_wall_time_over_measured_work(name, tmp_path, capsys):
    suite = load_suite(_path(name))
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    summary = runner.run(suite, tmp_path / "run", jobs=1, progress=False)
    wall = time.perf_counter() - t0
    df = summary.table
    parts = {col: float(df[col].fillna(0.0).sum()) for col in ("fit_time_s", "predict_time_s", "search_time_s")}
    work = sum(parts.values())
    ratio = wall / work if work else float("inf")
    startups = float(df["startup_s"].fillna(0.0).sum())
    load = (load_before + os.getloadavg()[0]) / 2
    cores = os.cpu_count() or 1
    target = TARGETS.get(suite.name)
    with capsys.disabled():
        print(f"\n{suite.name} suite, serial: {len(df)} cells ({(df['status'] == 'ok').sum()} ok), "
              f"load average {load:.1f} on {cores} cores")
        print(f"  wall {wall:.1f} s, measured work {work:.1f} s (fit {parts['fit_time_s']:.1f}, predict "
              f"{parts['predict_time_s']:.1f}, validation/search {parts['search_time_s']:.1f}): "
              f"x{ratio:.2f}" + (f" (target x{target})" if target else ""))
        print(f"  harness {wall - work:.1f} s: {(wall - work) / len(df) * 1e3:.0f} ms per cell, of which worker "
              f"starts {startups:.1f} s")
    if target is None:
        return
    if load > cores:
        pytest.skip(f"x{ratio:.2f} not judged: load average {load:.1f} on {cores} cores")
    assert ratio <= target, f"{suite.name}: wall time x{ratio:.2f} the measured work (target x{target})"
