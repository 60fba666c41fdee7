"""Plan a suite's cells, run them through an executor, append each row as it finishes."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bench import results
from bench.errors import RunError
from bench.execution import dask_cluster, local  # noqa: F401  (the built-in executors register themselves)
from bench.execution.executors import EXECUTORS, Executor, ExecutorOptions
from bench.execution.isolate import allow_cells, stop_all, use_cache_dir
from bench.execution.local import ExecutorError, local_cores
from bench.inputs import printable, read_bytes, shown
from bench.measure import environment
from bench.registry import first_line
from bench.suite import Skip, Suite, check_devices, plan, skip_lines, with_layout

MAX_FOLDER_NAME = 64  # characters of a suite's name in its default run folder's name


@dataclass
class RunSummary:
    run_dir: Path
    table: pd.DataFrame
    skips: list[Skip]
    wall_s: float
    n_planned: int
    n_run: int
    notes: list[str] = field(default_factory=list)


def folder_name(name: str) -> str:
    """A suite's name as one harmless path component: letters, digits, `-`, `_` and `.` kept, any
    other character (a separator, a control character, a space) as `_`, at most MAX_FOLDER_NAME
    characters, never `.`, `..` or a hidden name."""
    text = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    text = re.sub(r"_{2,}", "_", text)[:MAX_FOLDER_NAME].strip("._")
    return text or "suite"


def _markup(text: object) -> str:
    """Text from a suite or a row (a label, a key, an error), as one line that Rich prints literally."""
    return escape(shown(str(text)))


def default_run_dir(suite: Suite, root: str | os.PathLike = "results") -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{folder_name(suite.name)}-{stamp}"
    path, i = base, 1
    while path.exists():
        path, i = Path(f"{base}-{i}"), i + 1
    return path


def thread_layout(
    suite: Suite, jobs: int, threads: int | None = None, cores: int | None = None
) -> tuple[int, list[str]]:
    """Threads per cell for `jobs` cells at once on a machine of `cores` cores (default: this one).

    By default threads x jobs stays within the cores: when the suite's budget would exceed
    them, each cell gets max(1, cores // jobs) threads instead, with a warning. An explicit
    `threads` (`--threads`) is used as given, with a warning when it oversubscribes.
    """
    cores = cores or local_cores()
    notes = []
    if threads is None:
        threads = suite.threads
        reduced = max(1, cores // jobs)
        if threads * jobs > cores and reduced < threads:
            notes.append(
                f"warning: {jobs} jobs x {threads} threads (the suite's budget) = {threads * jobs} threads "
                f"on {cores} cores; each cell gets {reduced} thread(s) instead, so that timings stay "
                "comparable (force a budget with --threads)"
            )
            threads = reduced
    if threads * jobs > cores:
        notes.append(
            f"warning: {jobs} jobs x {threads} threads = {threads * jobs} threads on {cores} cores; "
            "cells will compete for cores and their timings will not be comparable"
        )
    return threads, notes


def make_executor(suite: Suite, jobs: int = 1, scheduler: str | None = None, name: str | None = None) -> Executor:
    """The executor registered as `name` (bench.execution.executors.EXECUTORS), built for this run;
    without a name, "dask" when a scheduler is named (argument, else the suite's), else "local"."""
    scheduler = scheduler or getattr(suite, "scheduler", None)
    name = name or ("dask" if scheduler else "local")
    if name not in EXECUTORS:
        raise ExecutorError(f"unknown executor {name!r}; registered: {', '.join(EXECUTORS.names())} (a plug-in "
                            "module registers one with @executor from bench.execution.executors; load it with --plugin)")
    return EXECUTORS[name].create(ExecutorOptions(suite=suite, jobs=jobs, scheduler=scheduler))


def run(
    suite: Suite,
    run_dir: str | os.PathLike | None = None,
    *,
    resume: bool = False,
    jobs: int = 1,
    threads: int | None = None,
    scheduler: str | None = None,
    executor: Executor | str | None = None,
    console: Console | None = None,
    progress: bool = True,
    retry: tuple[str, ...] = (),
    allow_suite_change: bool = False,
    verbose: bool = False,
) -> RunSummary:
    """Run every planned cell not yet in `run_dir`; rows are written as each cell ends.

    Cells run `jobs` at a time on this machine, or on the Dask cluster at `scheduler`
    (or the suite's `scheduler`), or through `executor`: an executor, or the name of a
    registered one (bench.execution.executors), built for this run; `threads` forces the
    per-cell thread budget (default: the suite's, reduced to fit the cores). With `resume`, the
    folder must exist and hold a run of the same suite (by content hash) unless
    `allow_suite_change`; rows whose status is in `retry` (e.g. "timeout") run again.
    """
    console = console or Console(stderr=True)
    run_dir = Path(run_dir) if run_dir else default_run_dir(suite)
    if resume:
        check_resumable(run_dir, suite, allow_suite_change)
        results.read_rows(run_dir)  # a damaged rows file is refused before anything is written there
    name = executor if isinstance(executor, str) else None
    if (executor is None or name == "local") and not (scheduler or suite.scheduler):
        check_devices(suite)  # on a cluster, the workers' devices count
    # The executor starts (a cluster is reached) before the folder is made: a run that cannot
    # start leaves nothing behind.
    try:
        if executor is None or name is not None:
            executor = make_executor(suite, jobs, scheduler, name)
    except ExecutorError as exc:
        raise RunError(str(exc).replace("RUN_DIR", str(run_dir))) from None
    created = not os.path.lexists(run_dir)
    try:
        store = results.ResultsStore(run_dir)
    except BaseException as exc:
        executor.close()
        if isinstance(exc, results.RunLocked):
            raise RunError(str(exc)) from None
        raise
    if not resume and store.rows:
        store.close()
        executor.close()
        raise RunError(f"{run_dir}: already holds results; pass --resume {run_dir} to complete it, or pick another --out")
    t0 = time.perf_counter()
    failed = True
    try:
        layout = getattr(executor, "layout", None)
        jobs, cores = layout() if layout else (jobs, None)
        threads, notes = thread_layout(suite, jobs, threads, cores)
        for note in notes:
            console.print(f"[yellow]{escape(note)}[/yellow]")
        cells, skips = plan(suite, jobs=jobs)
        cells = with_layout(cells, jobs, threads)
        done = store.done_keys(retry)
        todo = [c for c in cells if c.key not in done]
        env = environment(suite, threads=threads, jobs=jobs)
        describe = getattr(executor, "describe", None)
        if describe:
            env["executor"] = describe()
        store.write_json("environment.json", env)
        store.write_json(
            "plan.json",
            {
                "suite": suite.path,
                "suite_sha256": suite.sha256,
                "cells": len(cells),
                "already_done": len(cells) - len(todo),
                "skipped": [s.__dict__ for s in skips],
            },
        )
        for line in skip_lines(skips, verbose):
            console.print(f"[dim]{escape(printable(line))}[/dim]")
        use_cache_dir(run_dir / ".cache")
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=not progress,
        ) as bar:
            name = _markup(suite.name)
            task = bar.add_task(name, total=len(todo))
            allow_cells()
            try:
                for row in executor.run(todo):
                    store.append(row)
                    label = _markup(f"{row['dataset']} {row['model']} n={row['n_train']} seed={row['seed']}")
                    if row["status"] != "ok":
                        bar.console.print(f"[red]{_markup(row['status'])}[/red] {label}: {_markup(first_line(row.get('info')))}")
                    bar.update(task, advance=1, description=f"{name}: {label}")
            except BaseException:
                # Interrupted (Ctrl-C, SIGTERM) or failing: stop the running cells, record
                # nothing for them, and leave the rows so far for --resume.
                stop_all()
                raise
            finally:
                executor.close()
        table = store.write_tables()
        shutil.rmtree(run_dir / ".cache", ignore_errors=True)
        failed = False
    except ExecutorError as exc:
        raise RunError(str(exc).replace("RUN_DIR", str(run_dir))) from None
    except KeyboardInterrupt:
        failed = False  # interrupted, not failed: the folder stays for --resume
        raise
    finally:
        if executor is not None:
            executor.close()
        use_cache_dir(None)  # the run's cache folder is gone: no later cell of this process uses it
        store.close()
        # A run that failed before recording a row leaves no folder it made (no `.lock`-only folder).
        if failed and created and not store.rows:
            shutil.rmtree(run_dir, ignore_errors=True)
    return RunSummary(run_dir, table, skips, time.perf_counter() - t0, len(cells), len(todo), notes)


def check_resumable(run_dir: Path, suite: Suite, allow_suite_change: bool = False) -> None:
    """A folder `--resume` may complete: it exists, and its run was of this very suite."""
    if not run_dir.is_dir():
        raise RunError(f"{run_dir}: no such run folder to resume; start a run with --out {run_dir}")
    try:
        planned = json.loads(read_bytes(run_dir / "plan.json", OSError, "plan file", max_bytes=2**26))  # never a FIFO
    except (OSError, ValueError, RecursionError):
        return  # killed before its plan was written: nothing recorded to mix with
    sha = planned.get("suite_sha256")
    if sha and sha != suite.sha256 and not allow_suite_change:
        raise RunError(
            f"{run_dir}: holds a run of another suite ({planned.get('suite')}, whose content differs from "
            f"{suite.path}); resume it with that suite, or pass --allow-suite-change to mix the two"
        )


SUMMARY_NOTE = (
    "score: mean test score over seeds of each configuration at the dataset's largest training size, the "
    "statistic the report's results table shows; * marks each family's configuration chosen on validation "
    "(the one the report's verdicts compare)."
)


def chosen_configs(df: pd.DataFrame) -> set[tuple[str, str]]:
    """(dataset, configuration) of each family's choice at each dataset's largest size, by the report's rule
    (`bench.report.analysis.best`: on validation, among configurations that ran on every seed)."""
    from bench.report import analysis

    ok = analysis.three_families(analysis.ok_rows(df))
    if ok.empty:
        return set()
    ok = ok[ok.groupby("dataset")["n_train"].transform("max") == ok["n_train"]]
    out = set()
    for (dataset, _family), g in ok.groupby(["dataset", "family"], sort=True):
        b = analysis.best(g)
        if b is not None:
            out.add((str(dataset), b.label))
    return out


def summary_table(df: pd.DataFrame) -> Table:
    """Per dataset and configuration at the largest size: cells ok, mean test score over seeds (the
    report's statistic; * = each family's choice on validation), median fit time, memory, parameters."""
    table = Table(title="bench summary (largest training size; score: mean over seeds, * = chosen on validation)")
    for col in ("dataset", "configuration", "n_train", "ok", "score", "fit s", "predict ms/row", "peak MB", "params"):
        table.add_column(col, justify="left" if col in ("dataset", "configuration") else "right")
    if df.empty:
        return table
    from bench.report.analysis import config_label

    largest = df.groupby("dataset")["n_train"].transform("max")
    top = df[df["n_train"] == largest].copy()
    top["config"] = config_label(top)
    chosen = chosen_configs(df)
    for (dataset, config), g in top.groupby(["dataset", "config"], sort=True):
        ok = g[g["status"] == "ok"]
        fmt = lambda v, spec: "-" if pd.isna(v) else format(v, spec)  # noqa: E731
        mark = "*" if (str(dataset), str(config)) in chosen else ""
        table.add_row(
            _markup(dataset), _markup(str(config) + (" *" if mark else "")), str(int(g["n_train"].iloc[0])),
            f"{len(ok)}/{len(g)}",
            fmt(ok["score"].mean(), ".3f"),
            fmt(ok["fit_time_s"].median(), ".3f"),
            fmt((ok["predict_time_s"] / ok["n_test"] * 1000).median(), ".4f"),
            fmt(ok["peak_memory_mb"].median(), ".1f"),
            fmt(ok["n_params"].median(), ".0f"),
        )
    return table


def print_summary(summary: RunSummary, console: Console | None = None) -> None:
    console = console or Console(width=None if sys.stdout.isatty() else 160)
    df = summary.table
    console.print(summary_table(df))
    console.print(SUMMARY_NOTE)
    counts = df["status"].value_counts().to_dict() if not df.empty else {}
    work = [c for c in ("fit_time_s", "predict_time_s", "search_time_s") if c in df]
    measured = float(df[work].fillna(0).sum().sum()) if not df.empty else 0.0
    line = f"{summary.n_run} of {summary.n_planned} planned cells ran now; the folder holds {status_sentence(counts)}. "
    if summary.n_run == len(df) and measured:  # a resumed run's wall time covers only the cells it ran
        line += (
            f"Wall time {summary.wall_s:.1f} s, of which measured work {measured:.1f} s (fit, predict, and the "
            f"validation fit or search): harness overhead x{summary.wall_s / measured:.2f}."
        )
    else:
        line += f"Wall time {summary.wall_s:.1f} s."
    console.print(line)
    failed = df[df["status"] != "ok"] if not df.empty else df
    for _, row in failed.iterrows():
        console.print(f"[red]{_markup(row['status'])}[/red] {_markup(row['key'])}: {_markup(first_line(row['info']))}")
    folder = _markup(summary.run_dir)
    console.print(f"results: {folder}/results.parquet, results.csv, environment.json")
    console.print(f"report:  python -m bench report {folder}")
    sys.stdout.flush()


def status_sentence(counts: dict) -> str:
    """'12 rows: 10 ok, 1 error and 1 timeout' from {status: count}."""
    total = sum(counts.values())
    if not total:
        return "no rows"
    order = ["ok", "error", "timeout", "oom", "killed"]
    parts = [f"{counts[k]} {k}" for k in sorted(counts, key=lambda k: (order.index(k) if k in order else 9, k))]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"{total} row{'s' if total != 1 else ''}: {listed}"
