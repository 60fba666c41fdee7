"""Command line: `python -m bench run SUITE`, `python -m bench list`."""

from __future__ import annotations

import argparse
import os
import sys

from bench.cli_common import sigterm_as_interrupt
from bench.plugins import PLUGINS_ENV


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--plugin", action="append", default=[],
        help="import this module first (it registers datasets or models); repeatable",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a suite and write its results table")
    run.add_argument("suite", help="a suite TOML file, e.g. suites/quick.toml")
    run.add_argument("--out", help="run folder (default: a new folder under results/)")
    run.add_argument("--resume", metavar="RUN_DIR", help="complete this run folder: run only its missing cells")
    run.add_argument("--jobs", type=int, default=1, help="cells at once on this machine (default 1)")
    run.add_argument(
        "--threads", type=int, default=None,
        help="force this thread budget per cell (default: the suite's, reduced so threads x jobs <= cores)",
    )
    run.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", default=None,
        help="run the cells on this Dask cluster (needs the dask extra; overrides the suite's scheduler)",
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    check = sub.add_parser("check", help="validate a suite and print its plan without running it")
    check.add_argument("suite")
    sub.add_parser("list", help="list the registered datasets, models and feature variants")
    report = sub.add_parser("report", help="write report.md and report.html from a run folder's saved results")
    report.add_argument("run_dir", help="a run folder (holding results.parquet and environment.json)")
    report.add_argument("--out", help="folder for the report (default: the run folder)")
    sub.add_parser("regress", add_help=False, help="performance regression check (python -m bench regress --help)")
    from bench.fetch import add_parser as add_fetch_parser

    add_fetch_parser(sub)
    return parser


def _cmd_run(args) -> int:
    from bench.execution import runner
    from bench.suite import load

    suite = load(args.suite, tuple(args.plugin))
    if args.jobs < 1:
        print(f"error: --jobs must be at least 1, got {args.jobs}", file=sys.stderr)
        return 2
    if args.threads is not None and args.threads < 1:
        print(f"error: --threads must be at least 1, got {args.threads}", file=sys.stderr)
        return 2
    if args.jobs > 1 and (args.scheduler or suite.scheduler):
        print("warning: --jobs is ignored on a Dask cluster: each worker runs as many cells as its threads",
              file=sys.stderr)
    out = args.resume or args.out
    summary = runner.run(
        suite, out, resume=bool(args.resume), jobs=args.jobs, threads=args.threads,
        scheduler=args.scheduler, progress=not args.no_progress,
    )
    runner.print_summary(summary)
    return 0


def _cmd_check(args) -> int:
    from bench.suite import load, plan

    suite = load(args.suite, tuple(args.plugin))
    cells, skips = plan(suite)
    print(f"{args.suite}: valid; {len(cells)} cells over {len(suite.datasets)} datasets and {len(suite.models)} models")
    for s in skips:
        print(f"  skip {s.dataset} x {s.model} ({s.features}): {s.reason}")
    return 0


def _cmd_list(args) -> int:
    from bench.datasets import DATASETS
    from bench.features import FEATURES
    from bench.models import MODELS
    from bench.plugins import load_plugins

    load_plugins(tuple(args.plugin))
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
    try:
        report = build(args.run_dir, args.out)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for v in report.table:
        print(f"{v.aspect}: {v.verdict}")
    print(f"report: {report.markdown}, {report.html} ({len(report.figures)} figures, {time.perf_counter() - t0:.1f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    from bench.datasets import DataError
    from bench.execution.runner import RunError
    from bench.suite import SuiteError

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["regress"]:  # its own options: python -m bench regress --help
        from bench.regress import main as regress_main

        return regress_main(argv[1:])
    args = _parser().parse_args(argv)
    if args.plugin:
        # Worker processes import the same plugins.
        os.environ[PLUGINS_ENV] = ",".join([os.environ.get(PLUGINS_ENV, ""), *args.plugin]).strip(",")
    # A scheduler's SIGTERM ends a run like Ctrl-C: running cells stop, finished rows stay.
    sigterm_as_interrupt()
    commands = {"run": _cmd_run, "check": _cmd_check, "list": _cmd_list, "report": _cmd_report}
    if args.command == "fetch":
        from bench.fetch import run as fetch_run

        return fetch_run(args)
    try:
        return commands[args.command](args)
    except (SuiteError, DataError, RunError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        print(f"error: cannot import plugin or module: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; finished cells are saved (complete the run with --resume)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
