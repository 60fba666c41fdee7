"""`python -m bench advise DATA`: classical or deep for this data, answered in one command.

`run` parses the budget and goes through the steps, one function each:

1. `inspect_data`: what the data is and what will be done with it (bench.advise.inspect).
2. `run_pilot`: every applicable model once at a small size, to read its cost (bench.advise.plan).
3. `plan_suite`: the suite that fits the budget, saved as suite.toml in the output folder.
4. `run_suite`: print the plan and run it with the runner's progress bar; no cell starts after
   the budget's deadline (bench.execution.deadline).
5. `answer`: the answer from the rows (bench.advise.answer), and the full report of the run
   folder (report.html) beside it.
6. `write`: advice.html (bench.advise.html), advice.json and advice.txt; the answer in the terminal.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bench.advise.answer import Answer, compute, json_text, terminal_lines
from bench.advise.costs import HARNESS_S, Cost, costs_from_pilot
from bench.advise.html import page
from bench.advise.inspect import Profile, check_enough_rows, inspect
from bench.advise.pilot import (
    MIN_BUDGET_S,
    PILOT_LIMIT_S,
    PILOT_LIMIT_SHARE,
    PILOT_SHARE,
    candidates,
    features_for,
    group_of,
    pilot_order,
    pilot_rows,
    pilot_scores,
)
from bench.advise.plan import Plan, essential, fmt_s, judge_budget, make_plan
from bench.advise.quiet import Marked, Quiet
from bench.advise.suite_text import Protocol, suite_text
from bench.atomic import atomic_write
from bench.cli_common import error
from bench.errors import RunError
from bench.execution import runner
from bench.execution.deadline import DeadlineExecutor
from bench.execution.local import local_cores
from bench.plugins import load_plugins
from bench.predictions import predictions_of
from bench.suite import load, plan

BUDGET_DEFAULT = "10m"
REPORT_RESERVE_S = 12.0  # kept back from the budget for the answer and the full report
JUDGE_VALUES = 1_000_000  # training rows x inputs above which the budget is judged after the first pilot cells
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
    t0 = time.monotonic()
    try:
        budget = parse_budget(args.budget)
    except ValueError as exc:
        return error(exc)
    load_plugins(tuple(getattr(args, "plugins", ())))  # plugin models are candidates too (--plugin)
    found = inspect_data(args, budget)
    if isinstance(found, str):
        return error(found)
    profile, models, out = found
    _say(profile.lines(), "Data")
    scratch = Path(tempfile.mkdtemp(prefix="bench-advise-"))
    try:
        with Quiet() as quiet:
            return _advise(_session(args, profile, models, budget, out, scratch, t0, quiet))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _advise(s: Session) -> int:
    """The steps after the data's inspection, in order: each reads what the one before it found."""
    pilot = run_pilot(s)
    the_plan, suite_path = plan_suite(s, pilot)
    ran = run_suite(s, the_plan, suite_path)
    answered = answer(s, pilot, the_plan, ran)
    write(s, pilot, the_plan, ran, answered, suite_path)
    return 0


@dataclass(frozen=True)
class Session:
    """What every step of one `bench advise` reads: the command, the data, the budget and the folders."""

    args: Any
    profile: Profile
    models: list[str]
    budget: float
    out: Path  # the run folder, made once the plan goes ahead
    scratch: Path  # the pilot's folder until then
    t0: float  # time.monotonic() at the command's start
    jobs: int
    threads: int
    progress: bool
    name: str
    command: str  # the command line, as written into suite.toml and advice.html
    quiet: Quiet | None = None  # where the cells' library output goes (advise.log), not the terminal

    def left_s(self) -> float:
        return self.budget - (time.monotonic() - self.t0)


@dataclass(frozen=True)
class Pilot:
    costs: dict[tuple[str, str], Cost]
    per_run: float  # the runner's fixed cost, paid once per run
    seconds: float
    scores: dict[str, dict[int, float]]  # per model, its validation score at each pilot size


@dataclass(frozen=True)
class Ran:
    summary: runner.RunSummary
    not_started: int
    seconds: float
    cells: int
    abandoned: int = 0  # cells of a model already out of time or memory at their size or below: not started
    fallbacks: tuple[int, ...] = ()  # sizes brought forward when the size above lost its like-for-like comparison


@dataclass(frozen=True)
class Answered:
    answer: Answer
    lines: list[str]  # the terminal's answer
    report_ok: bool
    timing: list[list[str]]  # advice.html's table of estimated and actual times
    actual: dict[str, float]  # per model, the cells' actual time
    seconds: float
    total_s: float


def inspect_data(args, budget: float) -> tuple[Profile, list[str], Path] | str:
    """Step 1: the data's profile, the models to try and the output folder; or why not, in one line."""
    profile = inspect(args.data, args.target, args.task, getattr(args, "modality", None))
    out = _out_dir(args, profile.label)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        return f"{out}: already exists and is not empty; pick another --out"
    check_enough_rows(profile)
    models = candidates(profile, (args.models or "").split(","))
    if budget < MIN_BUDGET_S:
        return (f"--budget {args.budget} is too small for even one cell: starting the workers and one pilot "
                f"cell per model take about {MIN_BUDGET_S:.0f} s; give --budget 2m or more")
    return profile, models, out


def _session(args, profile: Profile, models: list[str], budget: float, out: Path, scratch: Path, t0: float,
             quiet: Quiet | None = None) -> Session:
    threads, busy = cell_threads(local_cores(), args.jobs)
    if busy:
        print(busy)
    command = "python -m bench " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["advise"] else \
        "python -m bench advise " + shlex.quote(args.data)
    return Session(args, profile, models, budget, out, scratch, t0, args.jobs, threads,
                   progress=not getattr(args, "no_progress", False), name=f"advise-{profile.label}", command=command,
                   quiet=quiet)


def run_pilot(s: Session) -> Pilot:
    """Step 2: every model once, small, in the scratch folder (kept only when the plan goes ahead).

    On data large enough for cells to be costly (JUDGE_VALUES), the models the answer cannot do
    without run first; from their cells and the data's size the budget is judged before the
    rest of the pilot spends it (plan.judge_budget): a budget that cannot answer is refused
    then, not after the pilot.
    """
    sizes = pilot_rows(s.profile)
    limit = float(min(PILOT_LIMIT_S[1], max(PILOT_LIMIT_S[0], s.budget * PILOT_LIMIT_SHARE)))
    print(f"Pilot: {len(s.models)} models at {' and '.join(f'{n:,}' for n in sizes)} training rows, one seed, "
          f"default settings, each cell stopped after {fmt_s(limit)}")
    sys.stdout.flush()
    t_pilot = time.monotonic()
    stages, not_started, guess = [], 0, {}
    # Data this small (training rows x inputs) makes no cell costly: no separate first round to judge by.
    big = s.profile.n_pool * max(1, s.profile.n_inputs) > JUDGE_VALUES
    first = [m for m in s.models if essential(m, s.profile)] if big else []
    rounds = [(sizes[0], first, "first"), (sizes[0], pilot_order((m for m in s.models if m not in first), s.profile.modality), "")]
    rounds += [(n, None, "") for n in sizes[1:]]
    for n, chosen, tag in rounds:
        if chosen is None:  # the larger size only for models the first reading says will finish, cheapest first
            base = pd.concat([st.table for st in stages], ignore_index=True)
            guess = _guess(s.models, base, sum(st.wall_s for st in stages), n)
            chosen = sorted((m for m in s.models if guess[m] <= limit), key=guess.get)
        if not chosen:
            continue
        share = PILOT_SHARE * (0.6 if n == sizes[0] and len(sizes) > 1 else 1.0)
        estimate = (lambda cell, guess=guess: guess.get(cell.model.name, 0.0)) if n != sizes[0] else None
        stage, skipped = _pilot_stage(s, n, chosen, limit, s.t0 + s.budget * share, estimate, tag)
        stages.append(stage)
        not_started += skipped
        if tag == "first":
            costs, per_run = costs_from_pilot(stage.table, stage.wall_s)
            verdict, need = judge_budget(s.profile, costs, s.left_s() - REPORT_RESERVE_S, jobs=s.jobs,
                                         overhead_s=per_run)
            if verdict:
                raise RunError(f"{verdict}; found {fmt_s(time.monotonic() - s.t0)} into a --budget of "
                               f"{fmt_s(s.budget)}: give a larger --budget")
            print(f"  budget judged after {', '.join(chosen)} ({fmt_s(time.monotonic() - s.t0)} in): the least "
                  f"comparison needs about {fmt_s(need)} of the {fmt_s(s.left_s())} left; piloting the rest")
            sys.stdout.flush()
    seconds = time.monotonic() - t_pilot
    table = pd.concat([st.table for st in stages], ignore_index=True)
    costs, per_run = costs_from_pilot(table, sum(st.wall_s for st in stages))
    for m in s.models:
        if not any(k[0] == m for k in costs):
            costs[(m, "raw")] = Cost(m, "raw", 0, 0, 0, 1.0, 0, 0, "skipped", "its pilot did not start within the budget")
    unread = f"; {not_started} of its cells did not start before its share of the budget" if not_started else ""
    print(f"Pilot done in {fmt_s(seconds)}{unread}.")
    return Pilot(costs, per_run / len(stages), seconds, pilot_scores(table))


def _guess(models: list[str], table: pd.DataFrame, wall_s: float, n: int) -> dict[str, float]:
    """Each model's cell time at `n` rows, read from the pilot's first size (inf where none finished)."""
    first = costs_from_pilot(table, wall_s)[0]
    return {m: max((c.default_s(n) for (mm, _), c in first.items() if mm == m and c.status == "ok"), default=math.inf)
            for m in models}


def _pilot_stage(s: Session, n: int, models: list[str], limit: float, deadline: float, estimate, tag: str = ""):
    """One pilot size (or its first cells): its suite in the scratch folder, run within its share of the
    budget, smallest cells first."""
    folder = f"n{n}" + (f"-{tag}" if tag else "")
    stage = Protocol(name=f"{s.name}-pilot-{n}", models=tuple(models), sizes=(n,), seeds=(0,),
                     features=features_for(s.profile), threads=s.threads, time_limit_s=limit,
                     description="bench advise: one small cell per model, to size the plan")
    stage_path = s.scratch / f"pilot-{folder}.toml"
    stage_path.write_text(suite_text(s.profile, stage), encoding="utf-8")
    suite = load(stage_path, tuple(getattr(s.args, "plugins", ())))
    executor = DeadlineExecutor(Marked(runner.make_executor(suite, s.jobs, s.args.scheduler), s.quiet), deadline,
                                smallest_first=True, estimate=estimate, stop_at=s.t0 + s.budget - REPORT_RESERVE_S)
    summary = runner.run(suite, s.scratch / "pilot" / folder, jobs=s.jobs, scheduler=s.args.scheduler,
                         executor=executor, progress=s.progress)
    return summary, executor.not_started


def plan_suite(s: Session, pilot: Pilot) -> tuple[Plan, Path]:
    """Step 3: the most thorough suite that fits the time left, saved where the user can rerun or edit it.

    From here on the output folder is the run's: the pilot moves into it.
    """
    available = s.left_s() - REPORT_RESERVE_S
    the_plan = make_plan(s.profile, pilot.costs, available, name=s.name, threads=s.threads, jobs=s.jobs,
                         overhead_s=pilot.per_run, scores=pilot.scores)
    s.out.mkdir(parents=True, exist_ok=True)
    shutil.move(str(s.scratch / "pilot"), str(s.out / "pilot"))
    suite_path = s.out / "suite.toml"
    header = [
        f"Written by `{s.command}` on {time.strftime('%Y-%m-%d %H:%M')}.",
        f"Rerun:   python -m bench run {suite_path} --out NEW_FOLDER",
        f"Resume:  python -m bench run {suite_path} --resume {s.out}",
        "Paths are relative to the folder the command ran in. Edit freely: sizes, seeds, models, [suite.tuning].",
    ]
    atomic_write(suite_path, suite_text(s.profile, the_plan.protocol, header))
    return the_plan, suite_path


def run_suite(s: Session, the_plan: Plan, suite_path: Path) -> Ran:
    """Step 4: the planned suite with the runner's progress bar, the answer's cells first, none after the deadline."""
    suite = load(suite_path, tuple(getattr(s.args, "plugins", ())))
    cells, _ = plan(suite)
    _say(the_plan.lines(s.profile), f"Plan ({fmt_s(s.budget)} budget, {fmt_s(s.left_s())} left)")
    print(f"  suite: {suite_path}")
    sys.stdout.flush()
    t_run = time.monotonic()
    deadline = s.t0 + s.budget - REPORT_RESERVE_S
    executor = DeadlineExecutor(Marked(runner.make_executor(suite, s.jobs, s.args.scheduler), s.quiet), deadline,
                                top=the_plan.top, estimate=the_plan.estimator(),
                                group=lambda cell: group_of(cell.model.name))
    summary = runner.run(suite, s.out, jobs=s.jobs, scheduler=s.args.scheduler, executor=executor, progress=s.progress)
    return Ran(summary, executor.not_started, time.monotonic() - t_run, len(cells), executor.abandoned,
               tuple(executor.fallbacks))


def answer(s: Session, pilot: Pilot, the_plan: Plan, ran: Ran) -> Answered:
    """Step 5: the answer from the run's rows, and the full report of the run folder beside it."""
    t_answer = time.monotonic()
    result = compute(ran.summary.table, s.profile, ran.not_started, the_plan.dropped,
                     strong_left_out=the_plan.strong_left_out, abandoned=ran.abandoned, fallbacks=ran.fallbacks,
                     predictions=lambda row: predictions_of(s.out, row))
    report_note = _full_report(s.out)
    actual = _actual_by_model(ran.summary.table, HARNESS_S)
    timing = [["pilot", "-", fmt_s(pilot.seconds)],
              [f"run ({ran.cells} cells)", fmt_s(the_plan.estimate_s), fmt_s(ran.seconds)]]
    timing += [[f"  {m}", fmt_s(est / max(1, s.jobs)), fmt_s(actual.get(m, 0.0) / max(1, s.jobs))]
               for m, est in the_plan.by_model.items()]
    lines = terminal_lines(result, s.profile)
    if report_note:
        result.caveats.append(report_note)
    seconds = time.monotonic() - t_answer
    total = time.monotonic() - s.t0
    timing += [["answer and report", fmt_s(REPORT_RESERVE_S), fmt_s(seconds)], ["total", fmt_s(s.budget), fmt_s(total)]]
    return Answered(result, lines, not report_note, timing, actual, seconds, total)


def _full_report(out: Path) -> str:
    """Writes report.html into the run folder; "" when it did, else why not (the answer stands without it)."""
    try:
        from bench.report.render import build

        build(out)
    except Exception as exc:  # the full report is a bonus: the answer stands without it
        return f"the full report could not be written: {type(exc).__name__}: {exc}"
    return ""


def write(s: Session, pilot: Pilot, the_plan: Plan, ran: Ran, a: Answered, suite_path: Path) -> None:
    """Step 6: advice.html, advice.json and advice.txt in the run folder, and the answer in the terminal."""
    rerun = f"python -m bench run {suite_path} --resume {s.out}"
    html_text = page(a.answer, s.profile, plan_lines=the_plan.lines(s.profile), timing=a.timing, command=s.command,
                     rerun=rerun, report_ok=a.report_ok)
    atomic_write(s.out / "advice.html", html_text)
    record = {
        "command": s.command, "data": s.profile.source, "budget_s": s.budget, "jobs": s.jobs, "threads": s.threads,
        "profile": s.profile.lines(), "plan": the_plan.lines(s.profile),
        "time": {"pilot_s": pilot.seconds, "run_estimate_s": the_plan.estimate_s, "run_s": ran.seconds,
                 "answer_s": a.seconds, "total_s": a.total_s, "per_model_estimate_s": the_plan.by_model,
                 "per_model_actual_s": a.actual, "not_started": ran.not_started},
        "cells": _cell_times(the_plan.cells, ran.summary.table),
        "answer": json.loads(json_text(a.answer)),
    }
    atomic_write(s.out / "advice.json", json.dumps(record, indent=2, default=str))
    atomic_write(s.out / "advice.txt", "\n".join(a.lines) + "\n")
    if s.quiet is not None:
        s.quiet.write(s.out / "advise.log")
    print("\n".join(a.lines))
    _say_time_and_files(s, pilot, the_plan, ran, a, suite_path, rerun)


def _say_time_and_files(s: Session, pilot: Pilot, the_plan: Plan, ran: Ran, a: Answered, suite_path: Path,
                        rerun: str) -> None:
    print("Time")
    print(f"  budget {fmt_s(s.budget)}; planned: pilot {fmt_s(pilot.seconds)} (measured) + run "
          f"{fmt_s(the_plan.estimate_s)} + answer {fmt_s(REPORT_RESERVE_S)} = "
          f"{fmt_s(pilot.seconds + the_plan.estimate_s + REPORT_RESERVE_S)}; "
          f"actual {fmt_s(a.total_s)} (run {fmt_s(ran.seconds)})")
    print("Files")
    print(f"  answer:  {s.out / 'advice.html'} (and advice.txt, advice.json)")
    if a.report_ok:
        print(f"  report:  {s.out / 'report.html'}")
    if s.quiet is not None:
        said = s.quiet.summary()
        print(f"  log:     {s.out / 'advise.log'}  (what the cells' libraries printed"
              + (f": {'; '.join(said)})" if said else "; no warnings)"))
    print(f"  suite:   {suite_path}  (rerun: python -m bench run {suite_path} --out NEW_FOLDER)")
    if ran.not_started:
        print(f"  resume:  {rerun}  (runs the {ran.not_started} cells the budget left out)")
    sys.stdout.flush()


def cell_threads(cores: int, jobs: int, load: float | None = None) -> tuple[int, str]:
    """Threads per cell: the cores each of `jobs` cells may have, fewer on a machine others keep busy.

    Threads that wait on descheduled siblings slow a fit down many times over (XGBoost took 18x
    longer with 2 threads than with 1 on a 2-core machine at load 8), so a machine whose load
    exceeds its cores gets the cells' share scaled by cores/load (one thread at least). A load
    at or below the core count leaves every cell its share. Returns (threads, a note saying why
    when the machine's load decided).
    """
    share = max(1, cores // jobs)
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):
            return share, ""
    if load <= cores:
        return share, ""
    threads = max(1, int(share * cores / load))
    if threads >= share:
        return share, ""
    return threads, (f"The machine is busy (load {load:.1f} on {cores} cores): {threads} thread{'s' if threads > 1 else ''} per cell "
                     f"instead of {share}, so that waiting threads do not inflate the times")


def _cell_times(cells, table) -> list[dict]:
    """Each planned cell with its estimate and, where it ran, its actual time (cell, start, the runner's share)."""
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

