"""`python -m bench regress [options]`: the command line of the check and of its self-test."""

from __future__ import annotations

import argparse

from bench.cli_common import EXIT_BAD_INPUT, error, interrupted, sigterm_as_interrupt
from bench.regress.baseline import DEFAULT_BASELINE
from bench.regress.check import Options, run_check
from bench.regress.proof import selftest
from bench.regress.suite import DEFAULT_SUITE, RegressError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench regress",
                                description="Performance regression check: `python -m bench regress` "
                                            "(what `nox -s regress` runs).")
    p.add_argument("--suite", default=DEFAULT_SUITE, help=f"regression suite (default {DEFAULT_SUITE})")
    p.add_argument("--baseline", default=DEFAULT_BASELINE, help=f"stored baseline folder (default {DEFAULT_BASELINE})")
    p.add_argument("--base", metavar="REV", help="base revision for the A/B timing (default: the commit the "
                   "stored baseline was made from)")
    p.add_argument("--base-path", metavar="DIR", help="use this folder's code as the base side instead of a "
                   "git revision (e.g. '.' to check the working tree against itself)")
    p.add_argument("--samples", type=int, help="samples per side and benchmark (default: the suite's)")
    p.add_argument("--only", default="", help="comma-separated benchmark or model names")
    p.add_argument("--update-baseline", action="store_true", help="rewrite the stored baseline from the working tree")
    p.add_argument("--inject", help="self-test only: regressions to inject into the working tree side, "
                   "e.g. slow:svm:2.0,score:knn:0.1,memory:random_forest:100")
    p.add_argument("--out", help="also write regress-report.json into this folder")
    p.add_argument("--no-time", action="store_true", help="skip the A/B timing when no --base is given")
    p.add_argument("--selftest", action="store_true", help="prove the check: injected regressions are caught, "
                   "the same code against itself passes (what nox -s regress-selftest runs)")
    p.add_argument("--selftest-runs", type=int, default=5, help="clean runs of the self-test (default 5)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Exit code 0: passed (perhaps with warnings); 1: a regression; 2: cannot run as asked; 130: interrupted."""
    args = _parser().parse_args(argv)
    # A CI job's SIGTERM ends the check like Ctrl-C: drivers stop, the base checkout is removed.
    sigterm_as_interrupt()
    if args.samples is not None and args.samples < 3:
        return error("--samples must be at least 3")
    opts = Options(
        suite=args.suite, baseline=args.baseline, base=args.base, base_path=args.base_path,
        samples=args.samples, only=tuple(x for x in args.only.split(",") if x),
        update_baseline=args.update_baseline, inject=args.inject, out=args.out, no_time=args.no_time,
    )
    say = lambda s: print(s, flush=True)  # noqa: E731
    try:
        if args.selftest:
            return selftest(opts, runs=args.selftest_runs, say=say)
        return run_check(opts, say=say).rc
    except RegressError as exc:
        return error(exc, EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        return interrupted("regress: interrupted")
