"""The check itself, in its steps: choose the base, start the sides, sample, choose the time
mode, judge, sample more where the time test is unclear, confirm time failures on a rerun,
print the verdict. Also `--update-baseline`, which measures the working tree alone.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.atomic import atomic_write
from bench.regress.baseline import (
    DEFAULT_BASELINE,
    checkout,
    cpu_model,
    read_baseline,
    remove_checkout,
    resolve_commit,
    version_changes,
    write_baseline,
)
from bench.regress.judgement import (
    FALLBACK_RATIOS,
    TIME_CONFIRM_ALPHA,
    Finding,
    Outcome,
    TimeVerdict,
    judge,
    judge_time,
    ok_rows,
    time_message,
)
from bench.regress.sides import Side, sample, write_helpers
from bench.regress.suite import (
    DEFAULT_SUITE,
    ROOT,
    Benchmark,
    RegressError,
    RegressSuite,
    load_suite,
    validate,
)

BASE_CHECKOUT = "base"  # the folder, in the check's temporary folder, of a base revision's code
MODES = {"ab": "A/B against {}", "stored": "loosely against the stored baseline", "skip": "not at all"}


@dataclass
class Options:
    suite: str = DEFAULT_SUITE
    baseline: str = DEFAULT_BASELINE
    base: str | None = None
    base_path: str | None = None
    samples: int | None = None
    only: tuple[str, ...] = ()
    update_baseline: bool = False
    inject: str | None = None
    out: str | None = None
    no_time: bool = False
    work_path: str | None = None  # the working-tree side's code (default: this checkout)


def _path(p: str) -> Path:
    return Path(p) if os.path.isabs(p) else ROOT / p


@dataclass
class Plan:
    """What a check runs: the benchmarks selected from the suite, and how many samples."""

    suite: RegressSuite
    benchmarks: list[Benchmark]
    skipped: list[str]  # warnings: benchmarks this tree cannot run
    samples: int
    baseline_dir: Path
    inject: str | None
    work_root: Path


def make_plan(opts: Options) -> Plan:
    suite = load_suite(_path(opts.suite))
    skipped = validate(suite)
    runnable = [b for b in suite.benchmarks if not any(x.startswith(b.name + ":") for x in skipped)]
    benchmarks = [b for b in runnable if not opts.only or b.name in opts.only or b.model in opts.only]
    if opts.only and not benchmarks:
        raise RegressError(f"--only {','.join(opts.only)}: no such benchmark; valid: "
                           f"{', '.join(b.name for b in suite.benchmarks)}")
    return Plan(
        suite=suite, benchmarks=benchmarks, skipped=skipped, samples=opts.samples or suite.samples,
        baseline_dir=_path(opts.baseline),
        inject=opts.inject or None,
        work_root=Path(opts.work_path).resolve() if opts.work_path else ROOT,
    )


@dataclass
class Base:
    """The code the working tree is timed against; `root` None: there is none."""

    root: Path | None = None
    label: str = "-"
    commit: str | None = None
    is_baseline_commit: bool = False  # the stored baseline was made from this very code


def choose_base(opts: Options, stored: dict | None, tmp: Path, notes: list[str]) -> Base:
    """--base-path, else --base REV, else the baseline's commit, else HEAD; checked out under `tmp`."""
    if opts.no_time and not opts.base and not opts.base_path:
        notes.append("--no-time: no base revision run; time is not judged")
        return Base()
    if opts.base_path:
        return Base(root=Path(opts.base_path).resolve(), label=f"the code in {opts.base_path}")
    rev = opts.base or (stored or {}).get("made_from") or "HEAD"
    commit = resolve_commit(rev)
    if commit is None:
        notes.append(
            f"warning: the base revision {rev[:12]} is not in this clone (a shallow clone, or a "
            "baseline made from an unpushed commit?); time is judged loosely against the stored "
            "baseline's absolute figures instead of A/B (fetch full history for the A/B judgement)"
        )
        return Base()
    worktree = tmp / BASE_CHECKOUT
    checkout(commit, worktree)
    return Base(root=worktree, label=commit[:12], commit=commit,
                is_baseline_commit=bool(stored) and commit == resolve_commit(stored.get("made_from") or ""))


def baseline_notes(stored: dict | None, plan: Plan, opts: Options) -> list[str]:
    """What the reader must know about the stored baseline before the figures."""
    notes = [f"warning: {x}" for x in plan.skipped]
    if stored is None:
        notes.append(f"no stored baseline in {opts.baseline}: quality and memory are judged against the "
                     "base revision only; create one with --update-baseline")
        return notes
    changes = version_changes(stored.get("versions"))
    if changes:
        notes.append(f"note: library versions differ from the baseline's ({changes}); quality or memory "
                     "differences the base revision shows too are warnings, not failures")
    if stored.get("suite_sha") != plan.suite.sha:
        notes.append(f"{opts.suite} changed since the baseline was made; benchmarks without a stored "
                     "figure are reported, not judged, until --update-baseline")
    return notes


def choose_time_mode(base_side: Side | None, opts: Options, stored: dict | None, say) -> str:
    """"ab" with a running base side; else "stored" on the baseline's CPU model; else "skip"."""
    if base_side is not None:
        return "ab"
    if opts.no_time:
        return "skip"
    if stored and stored.get("cpu_model") == cpu_model():
        return "stored"
    say("warning: time not judged: no base revision, and the stored baseline was measured on "
        f"another CPU ({(stored or {}).get('cpu_model')})")
    return "skip"


def sample_more(names: set[str], sides: list[Side], plan: Plan, rows: dict, say) -> None:
    """As many samples again, added to `rows`, for benchmarks whose time test is not yet clear."""
    say(f"== more samples for unclear time differences of: {', '.join(sorted(names))}")
    more = sample(sides, [b for b in plan.benchmarks if b.name in names], plan.samples, say)
    for side, by_bench in more.items():
        for name, extra in by_bench.items():
            rows[side][name].extend(extra)


def confirm(to_confirm: dict[str, list[TimeVerdict]], sides: list[Side], plan: Plan, rows: dict,
            stored: dict | None, time_mode: str, against: str, say) -> list[Finding]:
    """Rerun the flagged benchmarks with fresh samples: a time failure stands only if the rerun
    alone flags it (p < TIME_CONFIRM_ALPHA) and all samples together do too; else it warns."""
    say(f"== rerun to confirm time regressions of: {', '.join(sorted(to_confirm))}")
    again = [b for b in plan.benchmarks if b.name in to_confirm]
    rows2 = sample(sides, again, plan.samples, say)
    findings = []
    for b in again:
        for v in to_confirm[b.name]:
            w1 = [r.get(v.figure) for r in ok_rows(rows["work"][b.name])]
            w2 = [r.get(v.figure) for r in ok_rows(rows2["work"][b.name])]
            if time_mode == "ab":
                b1 = [r.get(v.figure) for r in ok_rows(rows["base"][b.name])]
                b2 = [r.get(v.figure) for r in ok_rows(rows2["base"][b.name])]
                pooled_base, ratios = b1 + b2, {}
            else:  # the stored baseline's samples are the same reference both times
                b2 = pooled_base = stored["benchmarks"][b.name][f"{v.figure}_samples"]
                ratios = FALLBACK_RATIOS
            v2 = judge_time(w2, b2, v.figure, alpha=TIME_CONFIRM_ALPHA, **ratios)
            pooled = judge_time(w1 + w2, pooled_base, v.figure, **ratios)
            first = time_message(v, against)
            if v2 is not None and v2.level == "fail" and pooled is not None and pooled.level == "fail":
                findings.append(Finding("fail", b.name, b.model, v.figure, first +
                                        f"; confirmed on rerun: {v2.ratio:.2f}x, p={v2.p:.2g} "
                                        f"(all samples: {pooled.ratio:.2f}x, p={pooled.p:.2g})"))
            else:
                again_txt = f"{v2.ratio:.2f}x, p={v2.p:.2g}" if v2 else "no figures"
                findings.append(Finding("warn", b.name, b.model, v.figure, first +
                                        f"; not confirmed on rerun ({again_txt})"))
    return findings


def _fmt_ms(v) -> str:
    return "-" if v is None else f"{v * 1000:.1f}"


def print_table(outcome: Outcome, say=print) -> None:
    """Medians of the working tree; "x base" is the CPU-time ratio to the base revision."""
    say(f"  {'benchmark':20s} {'score':>7s} {'stored':>7s} {'mem MB':>7s} {'base':>6s} | {'fit cpu ms':>10s} "
        f"{'x base':>6s} {'p':>7s} {'wall':>7s} | {'pred cpu ms':>11s} {'x base':>6s} {'p':>7s} {'wall':>7s}")
    for r in outcome.table:
        def num(key, fmt, r=r):
            v = r.get(key)
            return "-".rjust(int(fmt.split(".")[0])) if v is None else format(v, fmt)
        say(f"  {r['benchmark']:20s} {num('score', '7.4f')} {num('baseline_score', '7.4f')} "
            f"{num('mem_mb', '7.1f')} {num('base_mem_mb', '6.1f')} | {_fmt_ms(r.get('fit_cpu_s')):>10s} "
            f"{num('fit_cpu_s_ratio', '6.2f')} {num('fit_cpu_s_p', '7.2g')} {_fmt_ms(r.get('fit_time_s')):>7s} | "
            f"{_fmt_ms(r.get('predict_cpu_s')):>11s} {num('predict_cpu_s_ratio', '6.2f')} "
            f"{num('predict_cpu_s_p', '7.2g')} {_fmt_ms(r.get('predict_time_s')):>7s}")


def print_verdict(outcome: Outcome, plan: Plan, time_mode: str, base_label: str, elapsed: float, say) -> int:
    """The table, the findings (FAIL, WARN, INFO) and the verdict line; returns the exit code."""
    say("")
    print_table(outcome, say)
    say("")
    order = {"fail": 0, "warn": 1, "info": 2}
    for f in sorted(outcome.findings, key=lambda f: order[f.level]):
        say(f.line())
    n_fail = sum(f.level == "fail" for f in outcome.findings)
    n_warn = sum(f.level == "warn" for f in outcome.findings)
    verdict = "FAILED" if n_fail else "passed"
    say(f"regress {verdict}: {n_fail} regressions, {n_warn} warnings, {len(plan.benchmarks)} benchmarks, "
        f"time judged {MODES[time_mode].format(base_label)}, {elapsed:.0f} s")
    return 1 if n_fail else 0


def write_report(folder: Path, outcome: Outcome, rows: dict, base_label: str, time_mode: str,
                 elapsed: float) -> None:
    """folder/regress-report.json: findings, the table and every sample (--out)."""
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / "regress-report.json", json.dumps({
        "base": base_label, "time_mode": time_mode, "elapsed_s": elapsed,
        "findings": [f.__dict__ for f in outcome.findings], "table": outcome.table, "samples": rows,
    }, indent=1, default=str) + "\n")


def update_baseline(opts: Options, plan: Plan, tmp: Path, sides: list[Side], t_start: float, say) -> Outcome:
    """--update-baseline: measure the working tree alone and rewrite the stored baseline."""
    if plan.inject:
        raise RegressError("refusing to write a baseline with --inject set")
    say(f"== regress: writing the baseline from the working tree ({len(plan.benchmarks)} benchmarks "
        f"x {plan.samples} samples)")
    if opts.only:
        raise RegressError("--update-baseline rewrites the whole baseline; drop --only")
    for x in plan.skipped:
        say(f"warning: {x}")
    work = Side("work", plan.work_root, tmp, tmp)
    sides.append(work)
    if work.error:
        raise RegressError(work.error)
    work.run(plan.benchmarks[0])  # warm-up: starts the worker server
    rows = sample([work], plan.benchmarks, plan.samples, say)["work"]
    path = write_baseline(plan.baseline_dir, plan.suite, rows, plan.benchmarks)
    data = json.loads(path.read_text())
    say(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} "
        f"(made from {str(data['made_from'])[:12]}) in {time.perf_counter() - t_start:.0f} s")
    if data["dirty_files"]:
        say(f"warning: uncommitted changes in {', '.join(data['dirty_files'][:8])}: commit the code "
            "first, then the baseline, so the baseline's commit holds the code it measured")
    say("commit it: git add results/baseline && git commit -m 'regress: new baseline' -- results/baseline")
    return Outcome(elapsed_s=time.perf_counter() - t_start)


def compare(opts: Options, plan: Plan, tmp: Path, sides: list[Side], t_start: float, say) -> Outcome:
    """The check proper: the working tree against the base and the stored baseline."""
    stored = read_baseline(plan.baseline_dir)
    notes = baseline_notes(stored, plan, opts)
    base = choose_base(opts, stored, tmp, notes)
    vs = f"base {base.label}" if base.root is not None else "the stored baseline only"
    say(f"== regress: {len(plan.benchmarks)} benchmarks x {plan.samples} samples; working tree vs {vs}"
        + (f"; injected into the working tree: {plan.inject}" if plan.inject else ""))
    for n in notes:
        say(n)
    work = Side("work", plan.work_root, tmp, tmp, inject=plan.inject)
    sides.append(work)
    if work.error:
        raise RegressError(work.error)
    base_side = None
    if base.root is not None:
        base_side = Side("base", base.root, tmp, tmp)
        sides.append(base_side)
        if base_side.error:
            say(f"warning: {base_side.error}; time is judged against the stored baseline instead")
            base_side = None
    active = [s for s in (work, base_side) if s is not None]
    for s in active:
        s.run(plan.benchmarks[0])  # warm-up: starts each side's worker server
    rows = sample(active, plan.benchmarks, plan.samples, say)
    time_mode = choose_time_mode(base_side, opts, stored, say)

    def judged():
        return judge(plan.benchmarks, rows["work"], rows.get("base"), stored, base.is_baseline_commit,
                     base.label, time_mode)

    outcome, to_confirm, to_extend = judged()
    if to_extend:
        sample_more(to_extend, active, plan, rows, say)
        outcome, to_confirm, _ = judged()
    if to_confirm:
        against = base.label if time_mode == "ab" else "the stored baseline"
        outcome.findings += confirm(to_confirm, active, plan, rows, stored, time_mode, against, say)
    elapsed = time.perf_counter() - t_start
    outcome.rc = print_verdict(outcome, plan, time_mode, base.label, elapsed, say)
    outcome.elapsed_s = elapsed
    if opts.out:
        write_report(Path(opts.out), outcome, rows, base.label, time_mode, elapsed)
    return outcome


def run_check(opts: Options, say=print) -> Outcome:
    """The check's findings; `rc` 0: passed (perhaps with warnings), 1: a regression.

    Raises RegressError when the check cannot run as asked. The drivers, the base checkout
    and the temporary folder are gone when it returns, whatever happened.
    """
    t_start = time.perf_counter()
    plan = make_plan(opts)
    tmp = Path(tempfile.mkdtemp(prefix="bench-regress-"))
    write_helpers(tmp)
    sides: list[Side] = []
    worktree = tmp / BASE_CHECKOUT
    try:
        if opts.update_baseline:
            return update_baseline(opts, plan, tmp, sides, t_start, say)
        return compare(opts, plan, tmp, sides, t_start, say)
    finally:
        for s in sides:
            s.close()
        if worktree.exists():
            remove_checkout(worktree)
        shutil.rmtree(tmp, ignore_errors=True)
