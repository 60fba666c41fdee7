"""Command line: `python -m bench run SUITE`, `check`, `list`, `report`, `fetch`, `regress`, `advise`.

Only argparse and bench's light modules are imported here; each command imports what it
needs, so `--help`, `list` and `check` start quickly.
"""

from __future__ import annotations

import argparse
import os
import sys

from bench.cli_common import error, interrupted, sigterm_as_interrupt
from bench.errors import DataError, RunError, SuiteError

MIN_CELL_MEMORY_MB = 256  # below this share of the machine per cell, --jobs is refused


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    plugin_help = "import this module first (it registers datasets or models); repeatable"
    parser.add_argument("--plugin", metavar="MODULE", action="append", default=[], help=plugin_help)
    # The same option after the subcommand (`run SUITE --plugin MODULE`), as the README shows it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--plugin", dest="plugin_after", metavar="MODULE", action="append", default=[], help=plugin_help)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", parents=[common], help="run a suite and write its results table")
    run.add_argument("suite", help="a suite TOML file, e.g. suites/quick.toml")
    run.add_argument("--out", help="run folder (default: a new folder under results/)")
    run.add_argument("--resume", metavar="RUN_DIR", help="complete this run folder: run only its missing cells")
    run.add_argument("--retry-timeouts", action="store_true",
                     help="with --resume: run timed-out cells again too (killed cells always are)")
    run.add_argument("--retry-errors", action="store_true",
                     help="with --resume: run failed cells (status error) again too, e.g. workers that died")
    run.add_argument("--allow-suite-change", action="store_true",
                     help="with --resume: accept a suite whose content differs from the folder's run")
    run.add_argument("--jobs", type=int, default=1, help="cells at once on this machine (default 1)")
    run.add_argument(
        "--threads", type=int, default=None,
        help="force this thread budget per cell (default: the suite's, reduced so threads x jobs <= cores)",
    )
    run.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", default=None,
        help="run the cells on this Dask cluster (needs the dask extra; overrides the suite's scheduler)",
    )
    run.add_argument(
        "--executor", metavar="NAME", default=None,
        help="run the cells through the executor registered under NAME (default: dask with a scheduler, else local)",
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--verbose", action="store_true", help="list every skipped (dataset, model) pair")
    check = sub.add_parser("check", parents=[common], help="validate a suite and print its plan without running it")
    check.add_argument("suite")
    check.add_argument("--verbose", action="store_true", help="list every skipped (dataset, model) pair")
    sub.add_parser("list", parents=[common], help="list the registered datasets, models and feature variants")
    report = sub.add_parser("report", parents=[common],
                            help="write report.md and report.html from a run folder's saved results")
    report.add_argument("run_dir", help="a run folder (holding results.parquet and environment.json)")
    report.add_argument("--out", help="folder for the report (default: the run folder)")
    sub.add_parser("regress", add_help=False, help="performance regression check (python -m bench regress --help)")
    advise = sub.add_parser("advise", parents=[common],
                            help="classical or deep for this data: inspect, plan a suite within a budget, run it, answer")
    advise.add_argument("data", help="a CSV or Parquet file (with --target), an .npz of images or sequences (X, y), "
                        "a registered dataset, or openml:NAME")
    advise.add_argument("--target", metavar="COLUMN", help="the column to predict (tables)")
    advise.add_argument("--task", choices=("classification", "regression"), help="override the detected task")
    advise.add_argument("--modality", choices=("image", "sequence"), help="override how an .npz's X is read")
    advise.add_argument("--budget", default="10m", help="wall time for everything, e.g. 90s, 10m, 1h (default 10m)")
    advise.add_argument("--models", metavar="NAME,...", help="only these models (at least one of each family)")
    advise.add_argument("--jobs", type=int, default=1, help="cells at once on this machine (default 1)")
    advise.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None, help="run the cells on this Dask cluster")
    advise.add_argument("--out", help="output folder (default: a new folder under results/)")
    advise.add_argument("--no-progress", action="store_true", help="no progress bar")
    from bench.fetch import add_parser as add_fetch_parser

    add_fetch_parser(sub, parents=[common])
    return parser


def _jobs_problem(jobs: int) -> str | None:
    """Why `--jobs` cannot work on this machine (each cell's memory share), or None."""
    if jobs < 1:
        return f"--jobs must be at least 1, got {jobs}"
    import psutil

    from bench.execution.isolate import DEFAULT_MEMORY_SHARE

    total_mb = psutil.virtual_memory().total / 2**20
    share = DEFAULT_MEMORY_SHARE * total_mb / jobs
    if share < MIN_CELL_MEMORY_MB:
        most = int(DEFAULT_MEMORY_SHARE * total_mb // MIN_CELL_MEMORY_MB)
        return (f"--jobs {jobs} would give each cell {share:.0f} MB of this machine's {total_mb / 1024:.0f} GB "
                f"(at least {MIN_CELL_MEMORY_MB} MB each); use at most {most}")
    return None


def _cmd_run(args) -> int:
    from bench.execution import runner
    from bench.suite import load

    problem = _jobs_problem(args.jobs)
    if problem:
        return error(problem)
    from bench.suite import MAX_THREADS

    if args.threads is not None and args.threads < 1:
        return error(f"--threads must be at least 1, got {args.threads}")
    if args.threads is not None and args.threads > MAX_THREADS:
        return error(f"--threads {args.threads} is absurd; at most {MAX_THREADS} (as suite.threads)")
    if args.resume and args.out and os.path.abspath(args.resume) != os.path.abspath(args.out):
        return error(f"--resume {args.resume} and --out {args.out} name two folders; give one")
    if (args.retry_timeouts or args.retry_errors or args.allow_suite_change) and not args.resume:
        return error("--retry-timeouts, --retry-errors and --allow-suite-change go with --resume RUN_DIR")
    suite = load(args.suite, tuple(args.plugins))
    if args.jobs > 1 and (args.scheduler or suite.scheduler):
        print("warning: --jobs is ignored on a Dask cluster: each worker runs as many cells as its threads",
              file=sys.stderr)
    out = args.resume or args.out
    summary = runner.run(
        suite, out, resume=bool(args.resume), jobs=args.jobs, threads=args.threads,
        scheduler=args.scheduler, executor=args.executor, progress=not args.no_progress,
        retry=("timeout",) * args.retry_timeouts + ("error",) * args.retry_errors, allow_suite_change=args.allow_suite_change,
        verbose=args.verbose,
    )
    runner.print_summary(summary)
    return 0


def _cmd_check(args) -> int:
    from bench.inputs import printable, shown
    from bench.suite import check_devices, load, plan, skip_lines

    suite = load(args.suite, tuple(args.plugins))
    if not suite.scheduler:  # cells on a Dask cluster use the workers' devices
        check_devices(suite)
    cells, skips = plan(suite)
    print(f"{shown(args.suite)}: valid; {len(cells)} cells over {len(suite.datasets)} datasets and {len(suite.models)} models")
    for line in skip_lines(skips, args.verbose):
        print(f"  {printable(line)}")
    return 0


def _cmd_list(args) -> int:
    from bench.datasets import DATASETS
    from bench.features import FEATURES
    from bench.models import MODELS
    from bench.plugins import load_plugins

    load_plugins(tuple(args.plugins))
    print("datasets:")
    for name, e in DATASETS.items():
        print(f"  {name:28s} {e.task or '(set task)':15s} {e.modality:9s} {e.description}")
    print("models:")
    for name, e in MODELS.items():
        print(f"  {name:28s} {e.family:10s} {','.join(sorted(e.tasks)):26s} {e.description}")
    print("feature variants:")
    for name, e in FEATURES.items():
        print(f"  {name:28s} {','.join(sorted(e.modalities)):26s} {e.description}")
    from bench.datasets.cache import cached_lines, data_dir

    print(f"cached data ({data_dir()}):")
    print("\n".join(f"  {line}" for line in cached_lines()) or "  none")
    return 0


def _cmd_report(args) -> int:
    import time

    from bench.report.render import build

    t0 = time.perf_counter()
    from bench.plugins import load_plugins
    from bench.upgrade import run_folder

    load_plugins(tuple(args.plugins))  # plugin models and datasets for an upgrade, plugin claims for the report
    table, upgraded = run_folder(args.run_dir)  # an old folder's rows upgraded once, from today's registries
    if upgraded:
        print(upgraded)
    try:
        report = build(args.run_dir, args.out, table)
    except FileNotFoundError as exc:
        return error(exc)
    for v in report.table:
        print(f"{v.aspect}: {v.verdict}")
    print(f"report: {report.markdown}, {report.html} ({len(report.figures)} figures, {time.perf_counter() - t0:.1f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["regress"]:  # its own options: python -m bench regress --help
        from bench.regress import main as regress_main

        return regress_main(argv[1:])
    args = _parser().parse_args(argv)
    args.plugins = [*args.plugin, *getattr(args, "plugin_after", [])]
    # Plugins travel explicitly: each command loads args.plugins, a suite's cells carry them
    # (Cell.plugins) and their worker servers import them. BENCH_PLUGINS is the user's own setting.
    # A scheduler's SIGTERM ends a run like Ctrl-C: running cells stop, finished rows stay.
    sigterm_as_interrupt()
    commands = {"run": _cmd_run, "check": _cmd_check, "list": _cmd_list, "report": _cmd_report, "fetch": _cmd_fetch,
                "advise": _cmd_advise}
    try:
        return commands[args.command](args)
    except (SuiteError, DataError, RunError) as exc:
        return error(exc)
    except ModuleNotFoundError as exc:
        return error(f"cannot import plugin or module: {exc}")
    except KeyboardInterrupt:
        return interrupted("interrupted; finished cells are saved (complete the run with --resume)")
    except BrokenPipeError:  # `bench check ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _cmd_advise(args) -> int:
    from bench.advise import run as advise_run

    problem = _jobs_problem(args.jobs)
    return error(problem) if problem else advise_run(args)


def _cmd_fetch(args) -> int:
    from bench.fetch import run as fetch_run

    return fetch_run(args)


if __name__ == "__main__":
    sys.exit(main())
