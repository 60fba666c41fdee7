"""Performance regression check: `python -m bench regress` (what `nox -s regress` runs).

A fixed suite of small benchmarks (suites/regress.toml: every model on small fixed data,
fixed seed, one thread) is run on two versions of the code, in one job:

- the **base** revision (`--base REV`; by default the commit the stored baseline was made
  from), checked out with `git worktree add` into a temporary folder, and
- the **working tree**.

Each side runs in its own driver process whose PYTHONPATH points at that side's code; the
driver runs every sample through the harness's own `run_isolated` (a fresh measured worker
process per sample). Samples of the two sides are interleaved (A B B A ...), so drift of a
shared machine hits both alike.

The check fails, naming the model and the figure, when

- **quality** drops: a test score is worse than the stored baseline (results/baseline/)
  beyond a tight tolerance, or the test predictions changed (a hash of them is stored);
- **memory** grows: the median peak memory of fit exceeds the reference by more than
  max(10 %, 20 MB);
- **time** grows: the median fit or predict CPU time is >= 1.3x the base revision's *and* a
  one-sided Mann-Whitney U test on the samples says p < 0.01 *and* the difference is at
  least TIME_FLOOR_S (3 ms); a flagged benchmark is rerun once, with fresh samples, and
  fails only when the rerun confirms it. 1.1x-1.3x (significant) warns.

A figure that differs from the stored baseline while the baseline's own commit, measured in
the same job, differs in the same way is put down to the environment (library versions, CPU)
and only warned about. `--update-baseline` rewrites results/baseline/ from the working tree.

For the self-test, `--inject` makes the *working-tree side only* slower, hungrier or less
accurate, e.g. ``slow:svm:2.0,memory:random_forest:100,score:knn:0.1``, through the harness's
public cell hooks (bench.execution.hooks).

The modules, in the order the check uses them:

- suite.py: the regression suite (suites/regress.toml), its benchmarks and their validation;
- sides.py: a driver process per side and the interleaved sampling; it writes out
- driver.py and probe.py, which run under either side's code (the base may predate this
  package): the driver runs samples on request, the probe is a plugin (one settings module
  per side) that preloads the worker servers' imports and injects regressions as cell hooks;
- judgement.py: the thresholds and the pure judgement of samples into findings;
- baseline.py: the stored baseline and the git checkout of the base revision;
- check.py: the check in its steps; proof.py: the self-test; cli.py: `main`.
"""

from bench.regress.baseline import (
    BASELINE_FILE,
    DEFAULT_BASELINE,
    _git,
    checkout,
    read_baseline,
    remove_checkout,
    resolve_commit,
    write_baseline,
)
from bench.regress.check import Options, print_table, run_check
from bench.regress.cli import main
from bench.regress.judgement import (
    FALLBACK_TIME_FAIL_RATIO,
    FALLBACK_TIME_WARN_RATIO,
    HIGHER_IS_BETTER,
    MEMORY_ABS_MB,
    MEMORY_REL,
    SCORE_ABS_TOL,
    TIME_ALPHA,
    TIME_CONFIRM_ALPHA,
    TIME_FAIL_RATIO,
    TIME_FIGURES,
    TIME_FLOOR_S,
    TIME_UNSURE_P,
    TIME_WARN_RATIO,
    WALL_FIGURES,
    Finding,
    Outcome,
    TimeVerdict,
    judge,
    judge_memory,
    judge_time,
    mann_whitney_greater,
    quality_diffs,
)
from bench.regress.probe import MODULE_NAME as PROBE_MODULE
from bench.regress.proof import SELFTEST_INJECTIONS, selftest
from bench.regress.sides import DRIVER_SOURCE, KEPT, PROBE_SOURCE, Side, sample
from bench.regress.suite import (
    DEFAULT_SUITE,
    ROOT,
    Benchmark,
    RegressError,
    RegressSuite,
    load_suite,
    validate,
)

__all__ = [
    "BASELINE_FILE", "DEFAULT_BASELINE", "DEFAULT_SUITE", "DRIVER_SOURCE", "FALLBACK_TIME_FAIL_RATIO",
    "FALLBACK_TIME_WARN_RATIO", "HIGHER_IS_BETTER", "KEPT", "MEMORY_ABS_MB", "MEMORY_REL",
    "PROBE_MODULE", "PROBE_SOURCE", "ROOT", "SCORE_ABS_TOL", "SELFTEST_INJECTIONS", "TIME_ALPHA",
    "TIME_CONFIRM_ALPHA", "TIME_FAIL_RATIO", "TIME_FIGURES", "TIME_FLOOR_S", "TIME_UNSURE_P",
    "TIME_WARN_RATIO", "WALL_FIGURES", "Benchmark", "Finding", "Options", "Outcome", "RegressError",
    "RegressSuite", "Side", "TimeVerdict", "_git", "checkout", "judge", "judge_memory", "judge_time",
    "load_suite", "main", "mann_whitney_greater", "print_table", "quality_diffs", "read_baseline",
    "remove_checkout", "resolve_commit", "run_check", "sample", "selftest", "validate", "write_baseline",
]
