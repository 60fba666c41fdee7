"""`python -m bench advise DATA`: classical or deep for this data, answered in one command.

1. Inspect the data and say what was found and what will be done (bench.advise.inspect).
2. Pilot every applicable model once at a small size; plan a suite that fits the budget
   (bench.advise.plan); print the plan, save the suite as suite.toml in the output folder.
3. Run it with the runner's progress bar; no cell starts after the budget's deadline.
4. Answer in the terminal and as advice.html (bench.advise.answer, bench.advise.html), and
   write the full report of the run folder (report.html) beside it.

Bad input (an unreadable file, no such target, one class, too few rows, a budget too small)
is one line and exit code 2, before anything is written.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.atomic import atomic_write
from bench.cli_common import error

BUDGET_DEFAULT = "10m"
REPORT_RESERVE_S = 12.0  # kept back from the budget for the answer and the full report
_UNITS = {"s": 1, "m": 60, "h": 3600}


def parse_budget(text: str) -> float:
    """Seconds of a wall-time budget: `90` or `90s`, `10m`, `1.5h`, `1h30m`; ValueError otherwise."""
    t = str(text).strip().lower().replace(" ", "")
    if re.fullmatch(r"\d+(\.\d+)?", t):
        return float(t)
    parts = re.findall(r"(\d+(?:\.\d+)?)([smh])", t)
    if not parts or "".join(n + u for n, u in parts) != t:
        raise ValueError(f"--budget: expected a wall time such as 90s, 10m, 1h or 1h30m, got {text!r}")
    return sum(float(n) * _UNITS[u] for n, u in parts)


def _out_dir(args, label: str) -> Path:
    if args.out:
        return Path(args.out)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("results") / f"advise-{label}-{stamp}"


def _say(lines, title: str = "") -> None:
    if title:
        print(title)
    for line in lines:
        print(f"  {line}")
    sys.stdout.flush()


def run(args) -> int:
    from bench.advise.inspect import check_curve_possible, inspect
    from bench.advise.plan import MIN_BUDGET_S, candidates

    t0 = time.monotonic()
    try:
        budget = parse_budget(args.budget)
    except ValueError as exc:
        return error(exc)
    profile = inspect(args.data, args.target, args.task, getattr(args, "modality", None))
    out = _out_dir(args, profile.label)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        return error(f"{out}: already exists and is not empty; pick another --out")
    check_curve_possible(profile)
    models = candidates(profile, (args.models or "").split(","))
    if budget < MIN_BUDGET_S:
        return error(f"--budget {args.budget} is too small for even one cell: starting the workers and one pilot "
                     f"cell per model take about {MIN_BUDGET_S:.0f} s; give --budget 2m or more")
    _say(profile.lines(), "Data")
    scratch = Path(tempfile.mkdtemp(prefix="bench-advise-"))
    try:
        return _advise(args, profile, models, budget, out, scratch, t0)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _advise(args, profile, models, budget: float, out: Path, scratch: Path, t0: float) -> int:
    import pandas as pd

    from bench.advise.answer import compute, json_text, terminal_lines
    from bench.advise.html import page
    from bench.advise.plan import (
        HARNESS_S,
        PILOT_LIMIT_S,
        PILOT_LIMIT_SHARE,
        PILOT_SHARE,
        Protocol,
        costs_from_pilot,
        features_for,
        fmt_s,
        make_plan,
        pilot_rows,
        suite_text,
    )
    from bench.execution import runner
    from bench.execution.deadline import DeadlineExecutor
    from bench.execution.local import local_cores
    from bench.suite import load, plan

    jobs = args.jobs
    threads, busy = cell_threads(local_cores(), jobs)
    if busy:
        print(busy)
    progress = not getattr(args, "no_progress", False)
    name = f"advise-{profile.label}"

    # The pilot: every model once, small, in a scratch folder (kept only when the plan goes ahead).
    sizes = pilot_rows(profile)
    pilot_limit = float(min(PILOT_LIMIT_S[1], max(PILOT_LIMIT_S[0], budget * PILOT_LIMIT_SHARE)))
    print(f"Pilot: {len(models)} models at {' and '.join(f'{n:,}' for n in sizes)} training rows, one seed, "
          f"default settings, each cell stopped after {fmt_s(pilot_limit)}")
    sys.stdout.flush()
    t_pilot = time.monotonic()
    stages, not_started, guess = [], 0, {}
    for i, n in enumerate(sizes):
        chosen = list(models)
        if i:  # the larger size only for models the first reading says will finish, cheapest first
            first = costs_from_pilot(stages[0].table, stages[0].wall_s)[0]
            guess = {m: max((c.default_s(n) for (mm, _), c in first.items() if mm == m and c.status == "ok"),
                            default=math.inf) for m in models}
            chosen = sorted((m for m in models if guess[m] <= pilot_limit), key=guess.get)
            if not chosen:
                break
        share = PILOT_SHARE * (0.6 if i == 0 and len(sizes) > 1 else 1.0)
        estimate = (lambda cell, guess=guess: guess.get(cell.model.name, 0.0)) if i else None
        stage = Protocol(name=f"{name}-pilot-{n}", models=tuple(chosen), sizes=(n,), seeds=(0,),
                         features=features_for(profile), threads=threads, time_limit_s=pilot_limit,
                         description="bench advise: one small cell per model, to size the plan")
        stage_path = scratch / f"pilot-{n}.toml"
        stage_path.write_text(suite_text(profile, stage), encoding="utf-8")
        stage_suite = load(stage_path)
        pilot_exec = DeadlineExecutor(runner.make_executor(stage_suite, jobs, args.scheduler), t0 + budget * share,
                                      smallest_first=True, estimate=estimate)
        stages.append(runner.run(stage_suite, scratch / "pilot" / f"n{n}", jobs=jobs, scheduler=args.scheduler,
                                 executor=pilot_exec, progress=progress))
        not_started += pilot_exec.not_started
    pilot_s = time.monotonic() - t_pilot
    costs, per_run = costs_from_pilot(pd.concat([st.table for st in stages], ignore_index=True),
                                      sum(st.wall_s for st in stages))
    per_run /= len(stages)
    for m in models:
        if not any(k[0] == m for k in costs):
            from bench.advise.plan import Cost

            costs[(m, "raw")] = Cost(m, "raw", 0, 0, 0, 1.0, 0, 0, "skipped", "its pilot did not start within the budget")
    unread = f"; {not_started} of its cells did not start before its share of the budget" if not_started else ""
    print(f"Pilot done in {fmt_s(pilot_s)}{unread}.")
    available = budget - (time.monotonic() - t0) - REPORT_RESERVE_S
    the_plan = make_plan(profile, costs, available, name=name, threads=threads, jobs=jobs, overhead_s=per_run)

    # The suite, saved where the user can rerun or edit it; from here on the folder is the run's.
    out.mkdir(parents=True, exist_ok=True)
    shutil.move(str(scratch / "pilot"), str(out / "pilot"))
    command = "python -m bench " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["advise"] else \
        "python -m bench advise " + shlex.quote(args.data)
    suite_path = out / "suite.toml"
    header = [
        f"Written by `{command}` on {time.strftime('%Y-%m-%d %H:%M')}.",
        f"Rerun:   python -m bench run {suite_path} --out NEW_FOLDER",
        f"Resume:  python -m bench run {suite_path} --resume {out}",
        "Paths are relative to the folder the command ran in. Edit freely: sizes, seeds, models, [suite.tuning].",
    ]
    atomic_write(suite_path, suite_text(profile, the_plan.protocol, header))
    suite = load(suite_path)
    cells, _ = plan(suite)
    _say(the_plan.lines(profile), f"Plan ({fmt_s(budget)} budget, {fmt_s(budget - (time.monotonic() - t0))} left)")
    print(f"  suite: {suite_path}")
    sys.stdout.flush()

    t_run = time.monotonic()
    deadline = t0 + budget - REPORT_RESERVE_S
    executor = DeadlineExecutor(runner.make_executor(suite, jobs, args.scheduler), deadline, top=profile.n_pool,
                                estimate=the_plan.estimator())
    summary = runner.run(suite, out, jobs=jobs, scheduler=args.scheduler, executor=executor, progress=progress)
    run_s = time.monotonic() - t_run

    t_answer = time.monotonic()
    answer = compute(summary.table, profile, executor.not_started, the_plan.dropped)
    report_ok, report_note = True, ""
    try:
        from bench.report.render import build

        build(out)
    except Exception as exc:  # the full report is a bonus: the answer stands without it
        report_ok, report_note = False, f"the full report could not be written: {type(exc).__name__}: {exc}"
    actual = _actual_by_model(summary.table, HARNESS_S)
    timing = [["pilot", "-", fmt_s(pilot_s)],
              [f"run ({len(cells)} cells)", fmt_s(the_plan.estimate_s), fmt_s(run_s)]]
    timing += [[f"  {m}", fmt_s(est / max(1, jobs)), fmt_s(actual.get(m, 0.0) / max(1, jobs))]
               for m, est in the_plan.by_model.items()]
    rerun = f"python -m bench run {suite_path} --resume {out}"
    lines = terminal_lines(answer, profile)
    if report_note:
        answer.caveats.append(report_note)
    answer_s = time.monotonic() - t_answer
    total = time.monotonic() - t0
    timing += [["answer and report", fmt_s(REPORT_RESERVE_S), fmt_s(answer_s)], ["total", fmt_s(budget), fmt_s(total)]]
    html_text = page(answer, profile, plan_lines=the_plan.lines(profile), timing=timing, command=command,
                     rerun=rerun, report_ok=report_ok)
    atomic_write(out / "advice.html", html_text)
    record = {
        "command": command, "data": profile.source, "budget_s": budget, "jobs": jobs, "threads": threads,
        "profile": profile.lines(), "plan": the_plan.lines(profile),
        "time": {"pilot_s": pilot_s, "run_estimate_s": the_plan.estimate_s, "run_s": run_s,
                 "answer_s": answer_s, "total_s": total, "per_model_estimate_s": the_plan.by_model,
                 "per_model_actual_s": actual, "not_started": executor.not_started},
        "cells": _cell_times(the_plan.cells, summary.table),
        "answer": json.loads(json_text(answer)),
    }
    atomic_write(out / "advice.json", json.dumps(record, indent=2, default=str))
    atomic_write(out / "advice.txt", "\n".join(lines) + "\n")
    print("\n".join(lines))
    print("Time")
    print(f"  budget {fmt_s(budget)}; planned: pilot {fmt_s(pilot_s)} (measured) + run {fmt_s(the_plan.estimate_s)} "
          f"+ answer {fmt_s(REPORT_RESERVE_S)} = {fmt_s(pilot_s + the_plan.estimate_s + REPORT_RESERVE_S)}; "
          f"actual {fmt_s(total)} (run {fmt_s(run_s)})")
    print("Files")
    print(f"  answer:  {out / 'advice.html'} (and advice.txt, advice.json)")
    if report_ok:
        print(f"  report:  {out / 'report.html'}")
    print(f"  suite:   {suite_path}  (rerun: python -m bench run {suite_path} --out NEW_FOLDER)")
    if executor.not_started:
        print(f"  resume:  {rerun}  (runs the {executor.not_started} cells the budget left out)")
    sys.stdout.flush()
    return 0


def cell_threads(cores: int, jobs: int, load: float | None = None) -> tuple[int, str]:
    """Threads per cell: the cores each of `jobs` cells may have, fewer on a machine others keep busy.

    Threads that wait on descheduled siblings slow a fit down many times over (XGBoost took 18x
    longer with 2 threads than with 1 on a 2-core machine at load 8), so a busy machine gets one
    thread per cell. Returns (threads, a note saying why when the machine's load decided).
    """
    share = max(1, cores // jobs)
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):
            return share, ""
    idle = int(cores - load + 0.5)
    if idle >= share * jobs:
        return share, ""
    threads = max(1, idle // jobs)
    if threads >= share:
        return share, ""
    return threads, (f"The machine is busy (load {load:.1f} on {cores} cores): {threads} thread{'s' if threads > 1 else ''} per cell "
                     f"instead of {share}, so that waiting threads do not inflate the times")


def _cell_times(cells, table) -> list[dict]:
    """Each planned cell with its estimate and, where it ran, its actual time (cell, start, the runner's share)."""
    from bench.advise.plan import HARNESS_S

    actual = {}
    for r in table.itertuples():
        key = (str(r.model), str(r.features), int(r.n_train), int(r.seed), str(r.tuning) == "tuned")
        actual[key] = sum(0.0 if v is None or v != v else float(v) for v in (r.cell_time_s, r.startup_s)) + HARNESS_S
    return [{**c.__dict__, "actual_s": actual.get((c.model, c.features, c.n_train, c.seed, c.tuned))} for c in cells]


def _actual_by_model(table, per_cell: float) -> dict[str, float]:
    if table.empty:
        return {}
    t = table.assign(_t=table["cell_time_s"].fillna(0) + table["startup_s"].fillna(0) + per_cell)
    return {str(k): float(v) for k, v in t.groupby("model")["_t"].sum().items()}

