"""Sessions: `nox -s bench` runs the default suite; `nox -s tests` runs the tests."""

from __future__ import annotations

import os
import time
from pathlib import Path

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True


def _run_dir(args: list[str]) -> tuple[list[str], str]:
    """The run folder of `python -m bench run ARGS`; adds `--out` when the arguments name none."""
    for flag in ("--out", "--resume"):
        for i, arg in enumerate(args):
            if arg == flag and i + 1 < len(args):
                return args, args[i + 1]
            if arg.startswith(flag + "="):
                return args, arg.split("=", 1)[1]
    suite = next((a for a in args if a.endswith(".toml")), "suite")
    out = f"results/{Path(suite).stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    return [*args, "--out", out], out


def _with_jobs(args: list[str], cores: int | None = None) -> list[str]:
    """`args` with `--jobs` set to the machine's cores, unless they choose the jobs, a Dask
    scheduler or an executor: one cell per core (each with threads x jobs <= cores, so one thread
    on a laptop), the way the reference runs are made."""
    if any(a.split("=", 1)[0] in ("--jobs", "--scheduler", "--executor") for a in args):
        return args
    return [*args, "--jobs", str(max(1, cores or os.cpu_count() or 1))]


@nox.session
def bench(session: nox.Session) -> None:
    """Run the default suite (or the suite given after --) with a cell per core, print the summary, write the report."""
    session.install("-e", ".")
    args, run_dir = _run_dir(_with_jobs(list(session.posargs) or ["suites/default.toml"]))
    session.run("python", "-m", "bench", "run", *args)
    session.run("python", "-m", "bench", "report", run_dir)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite."""
    session.install("-e", ".[test,dask]")  # dask: the loopback cluster tests
    session.run("python", "-m", "pytest", "-q", *session.posargs)


@nox.session(default=False)
def regress(session: nox.Session) -> None:
    """Performance regression check: working tree vs the baseline's commit (docs/regression-check.md)."""
    session.install("-e", ".")
    session.run("python", "-m", "bench", "regress", *session.posargs)


@nox.session(name="regress-selftest", default=False)
def regress_selftest(session: nox.Session) -> None:
    """Prove the regression check: injected slowdown, score drop and memory growth fail; clean runs pass."""
    session.install("-e", ".")
    session.run("python", "-m", "bench", "regress", "--selftest", *session.posargs)


@nox.session(default=False)
def perf(session: nox.Session) -> None:
    """Benchmarks and their ratios: cell cost, suite overhead, bookkeeping, 10^6 rows, training loop (CPU, GPU)."""
    session.install("-e", ".[perf]")
    session.run("python", "-m", "pytest", "benchmarks", "-p", "no:cacheprovider", "-rs", *session.posargs)


# The ratio benchmarks that take minutes, not tens of minutes, with short rounds: what CI runs
# after the tests, so that a broken bound is seen before a change lands. Each judges its bound
# only where the load average allows (and says so when it skips); `nox -s perf` runs them in full.
PERF_QUICK = ("benchmarks/test_cell_overhead.py", "benchmarks/test_training_loop.py", "benchmarks/test_bookkeeping.py")
PERF_QUICK_ENV = {
    "BENCH_PERF_CELLS": "30",  # no-op cells (default 60)
    "BENCH_PERF_SEEDS": "2",  # seeds of the real models' cells (default 4)
    "BENCH_PERF_ROUNDS": "3",  # training-loop rounds of the bare loop and bench (default 5)
    "BENCH_PERF_BOOKKEEPING_ROWS": "20000",  # rows recorded before the timed window (default 100,000)
}


@nox.session(name="perf-quick", default=False)
def perf_quick(session: nox.Session) -> None:
    """The quick ratio benchmarks (cell overhead, training loop, bookkeeping), short: about 2 minutes on 2 cores."""
    session.install("-e", ".[perf]")
    session.run("python", "-m", "pytest", *PERF_QUICK, "-p", "no:cacheprovider", "-rs", *session.posargs,
                env=PERF_QUICK_ENV)


@nox.session(default=False)
def lint(session: nox.Session) -> None:
    """Check style with ruff."""
    session.install("ruff")
    session.run("ruff", "check", "bench", "tests", "benchmarks", "noxfile.py")
