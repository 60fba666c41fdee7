"""The self-test (`--selftest`, `nox -s regress-selftest`): proof that the check works.

Injected regressions must fail, naming the model and the figure; clean runs of the same
code against itself must pass.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench.regress.check import Options, run_check
from bench.regress.suite import ROOT

SELFTEST_INJECTIONS = (
    # (injection, the model that must be named, the figure that must be named)
    ("slow:svm:2.0", "svm", "fit_cpu_s"),
    ("score:knn:0.1", "knn", "score"),
    ("memory:random_forest:100", "random_forest", "peak_memory_mb"),
)


def selftest(opts: Options, runs: int = 5, say=print) -> int:
    """Check a snapshot of the working tree's code against itself `runs` times, then once per
    injection; returns 0 when every run went as expected.

    The snapshot is checked against itself, with a fresh baseline written from it into a
    temporary folder, so only the check's own noise is tested.
    """
    t0 = time.perf_counter()
    quiet: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-regress-selftest-"))
    # A snapshot of the working tree's code, so edits made meanwhile (by anyone) change nothing.
    snapshot = tmp / "code"
    shutil.copytree(ROOT / "bench", snapshot / "bench", ignore=shutil.ignore_patterns("__pycache__"))
    base = Options(suite=opts.suite, baseline=str(tmp / "baseline"), base_path=str(snapshot),
                   work_path=str(snapshot), samples=opts.samples, only=opts.only)
    results = []
    try:
        say(f"== selftest: baseline from the working tree into {tmp / 'baseline'}")
        run_check(replace(base, update_baseline=True, only=()), say=quiet.append)
        plan = [(f"clean {i + 1}/{runs}", None, None, None) for i in range(runs)]
        plan += [(f"inject {spec}", spec, model, figure) for spec, model, figure in SELFTEST_INJECTIONS]
        for label, spec, model, figure in plan:
            say(f"== selftest: {label}")
            out = run_check(replace(base, inject=spec or ""), say=quiet.append)
            fails = [f for f in out.findings if f.level == "fail"]
            warns = [f for f in out.findings if f.level == "warn"]
            if spec is None:
                ok = out.rc == 0
            else:
                ok = out.rc == 1 and any(f.model == model and f.figure == figure for f in fails) and all(
                    f.model == model for f in fails)
            named = "; ".join(f"{f.model} {f.figure}" for f in fails) or "-"
            results.append((label, ok, out.rc, named, len(warns), out.elapsed_s))
            for f in fails + warns:
                say("   " + f.line())
            say(f"   -> {'as expected' if ok else 'NOT AS EXPECTED'}: rc={out.rc}, failures named: {named}, "
                f"{len(warns)} warnings, {out.elapsed_s:.0f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    say("")
    say(f"  {'run':36s} {'expected':>8s} {'rc':>3s} {'warn':>4s} {'s':>5s}  failures named")
    for label, ok, rc, named, n_warn, el in results:
        say(f"  {label:36s} {'yes' if ok else 'NO':>8s} {rc:3d} {n_warn:4d} {el:5.0f}  {named}")
    clean = [r for r in results if r[0].startswith("clean")]
    false_alarms = sum(r[2] != 0 for r in clean)
    caught = sum(r[1] for r in results if not r[0].startswith("clean"))
    passed = all(r[1] for r in results)
    say(f"selftest {'passed' if passed else 'FAILED'}: {false_alarms} false alarms in {len(clean)} clean runs, "
        f"{caught}/{len(SELFTEST_INJECTIONS)} injected regressions caught and named, "
        f"{time.perf_counter() - t0:.0f} s")
    return 0 if passed else 1
