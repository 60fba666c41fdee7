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
- **time** grows: the median fit or predict time is >= 1.3x the base revision's *and* a
  one-sided Mann-Whitney U test on the samples says p < 0.01 (and the difference is over a
  2 ms floor); a flagged benchmark is rerun once, with fresh samples, and fails only when the
  rerun confirms it. 1.1x-1.3x (significant) warns.

A figure that differs from the stored baseline while the baseline's own commit, measured in
the same job, differs in the same way is put down to the environment (library versions, CPU)
and only warned about. `--update-baseline` rewrites results/baseline/ from the working tree.

For the self-test, `BENCH_REGRESS_INJECT` (or `--inject`) makes the *working-tree side only*
slower, hungrier or less accurate, e.g. ``slow:svm:2.0,memory:random_forest:100,score:knn:0.1``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from bench.registry import first_line

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SUITE = "suites/regress.toml"
DEFAULT_BASELINE = "results/baseline"
BASELINE_FILE = "regress.json"
INJECT_ENV = "BENCH_REGRESS_INJECT"
PROBE_MODULE = "_bench_regress_probe"

# Thresholds (README: "Regression check in CI").
TIME_FAIL_RATIO = 1.3
TIME_WARN_RATIO = 1.1
TIME_ALPHA = 0.01
# A ratio over the failure threshold whose test is not yet clear (alpha <= p < this) gets as
# many samples again before it is judged; the confirmation rerun needs p < TIME_CONFIRM_ALPHA
# on its own samples and p < TIME_ALPHA on all samples together.
TIME_UNSURE_P = 0.2
TIME_CONFIRM_ALPHA = 0.05
# Differences of a millisecond or two are within the noise of one-row-scale figures here
# (identical code once measured a 4.0 -> 5.6 ms cnn predict, p < 0.001, on two reruns).
TIME_FLOOR_S = 0.003
# CPU time of the (single-threaded) fit and predict: unlike wall time it does not count the
# time a worker waits for a core on a loaded machine. Wall times are reported alongside.
TIME_FIGURES = ("fit_cpu_s", "predict_cpu_s")
WALL_FIGURES = ("fit_time_s", "predict_time_s")
MEMORY_REL = 0.10
MEMORY_ABS_MB = 20.0
SCORE_ABS_TOL = 1e-6
# Without a base revision, time is judged against the stored baseline's absolute figures,
# and only on the same CPU model, with a loose tolerance.
FALLBACK_TIME_FAIL_RATIO = 2.0
FALLBACK_TIME_WARN_RATIO = 1.5

HIGHER_IS_BETTER = {"accuracy": True, "balanced_accuracy": True, "f1_macro": True, "r2": True,
                    "log_loss": False, "rmse": False, "mae": False}
KEPT = ("status", "info", "fit_time_s", "fit_cpu_s", "predict_time_s", "predict_cpu_s", "peak_memory_mb",
        "predictions_sha", "score", "train_score", *HIGHER_IS_BETTER)


# --------------------------------------------------------------------------------------------
# Code that runs on both sides. It must not import this module (the base revision may not
# have it), so it is written out as source: a plugin module (the probe) and a driver loop.

PROBE_SOURCE = r'''
"""Loaded as a bench plugin by the regression check, on both sides (written out by bench.regress).

Adds `predictions_sha` (a hash of the test predictions) to each row, and, when
BENCH_REGRESS_INJECT is set (working-tree side only), makes named models slower, hungrier or
less accurate, for the check's self-test.
"""
import dataclasses
import hashlib
import os
import time

import numpy as np


def predictions_sha(pred):
    p = np.asarray(pred)
    if p.dtype.kind in "fc":
        q = p.astype(np.float64)
        top = float(np.nanmax(np.abs(q))) if q.size else 0.0
        digits = 7 - int(np.floor(np.log10(top))) - 1 if top > 0 and np.isfinite(top) else 7
        data = (np.round(q, digits) + 0.0).tobytes()
    elif p.dtype.kind in "iub":
        data = p.astype(np.int64).tobytes()
    else:
        data = "\x00".join(map(str, p.ravel().tolist())).encode()
    return hashlib.sha256(str(p.shape).encode() + data).hexdigest()[:16]


_TIMERS = []


def _patch_worker():
    import bench.worker as worker

    original = getattr(worker, "scores", None)
    if original is None or getattr(original, "_regress_probe", False):
        return
    timer = getattr(worker, "Timer", None)
    if timer is not None:
        class Timer(timer):
            """The worker's timer, remembered: the predict timer's CPU time goes into the row."""

            def __exit__(self, *exc):
                out = super().__exit__(*exc)
                _TIMERS.append(self)
                return out

        worker.Timer = Timer

    def scores(task, estimator, X, y, pred=None, *args, **kwargs):
        out = original(task, estimator, X, y, pred, *args, **kwargs)
        if pred is not None:  # the test predictions, just timed by the last timer
            out = {**out, "predictions_sha": predictions_sha(pred)}
            if _TIMERS and hasattr(_TIMERS[-1], "cpu_s"):
                out["predict_cpu_s"] = _TIMERS[-1].cpu_s
        return out

    scores._regress_probe = True
    worker.scores = scores


def _injected_class(base, kind, amount):
    name = f"_Injected_{kind}_{base.__name__}"
    if name in globals():
        return globals()[name]

    def fit(self, X, y, *args, **kwargs):
        block = None
        if kind == "memory":
            block = np.ones(int(amount * 2**20) // 8)
        c0 = time.process_time()
        out = base.fit(self, X, y, *args, **kwargs)
        if kind == "slow":  # burn (amount - 1) x the fit's CPU time, so the fit costs amount x
            end = time.process_time() + (amount - 1.0) * (time.process_time() - c0)
            while time.process_time() < end:
                pass
        del block
        return out

    def predict(self, X, *args, **kwargs):
        pred = np.array(base.predict(self, X, *args, **kwargs))
        if kind != "score" or len(pred) == 0:
            return pred
        step = max(1, int(round(1 / amount)))
        idx = np.arange(0, len(pred), step)
        if pred.dtype.kind in "fc":
            pred[idx] = pred[idx] + np.std(pred) + 1.0
        else:
            labels = np.unique(np.concatenate([np.asarray(getattr(self, "classes_", [])), pred]))
            if len(labels) > 1:
                pos = np.searchsorted(labels, pred[idx])
                pred[idx] = labels[(pos + 1) % len(labels)]
        return pred

    cls = type(name, (base,), {"fit": fit, "predict": predict, "__module__": __name__})
    cls.__qualname__ = name
    globals()[name] = cls
    return cls


def _inject(spec):
    from bench.models import MODELS

    for item in filter(None, (s.strip() for s in spec.split(","))):
        kind, model, amount = item.split(":")
        if kind not in ("slow", "memory", "score"):
            raise ValueError(f"{kind!r}: injections are slow, memory or score")
        entry = MODELS[model]
        if getattr(entry.fn, "_regress_injected", False):
            continue

        def factory(ctx, _fn=entry.fn, _kind=kind, _amount=float(amount)):
            est = _fn(ctx)
            est.__class__ = _injected_class(type(est), _kind, _amount)
            return est

        factory._regress_injected = True
        MODELS._entries[model] = dataclasses.replace(entry, fn=factory)


_patch_worker()
# Imported here, in the worker server, so that no sample pays (and times) a torch import.
for _name in filter(None, os.environ.get("BENCH_REGRESS_PRELOAD", "").split(",")):
    try:
        __import__(_name)
    except ImportError:
        pass
if os.environ.get("BENCH_REGRESS_INJECT"):
    _inject(os.environ["BENCH_REGRESS_INJECT"])
'''

DRIVER_SOURCE = r'''
import json, math, os, sys
out = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
from bench.isolate import run_isolated
from bench.suite import parse, plan

def clean(v):
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        try:
            v = v.item()
        except Exception:
            v = str(v)
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return str(v)

out.write(json.dumps({"ready": True, "bench": __import__("bench").__file__}) + "\n")
for line in sys.stdin:
    req = json.loads(line)
    try:
        cells, _ = plan(parse(req["toml"], req["name"] + ".toml"))
        if len(cells) != 1:
            raise ValueError(f"expected one cell, got {len(cells)}")
        row = run_isolated(cells[0])
    except Exception as exc:
        row = {"status": "error", "info": f"{type(exc).__name__}: {exc}"}
    out.write(json.dumps({k: clean(v) for k, v in row.items()}) + "\n")
'''


# --------------------------------------------------------------------------------------------
# The regression suite.


class RegressError(RuntimeError):
    """The check cannot run as asked (bad suite, unknown revision...)."""


@dataclass(frozen=True)
class Benchmark:
    name: str
    model: str
    dataset: str
    toml: str  # a one-cell harness suite
    samples: int | None = None  # per-benchmark override of the suite's samples


@dataclass(frozen=True)
class RegressSuite:
    path: str
    samples: int
    benchmarks: tuple[Benchmark, ...]
    sha: str


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float | str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise RegressError(f"unsupported value {v!r}")


def load_suite(path: str | os.PathLike) -> RegressSuite:
    """suites/regress.toml: a [regress] table of shared settings and one [benchmarks.NAME] each."""
    import hashlib

    path = str(path)
    try:
        text = Path(path).read_text()
        raw = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RegressError(f"{path}: cannot read the regression suite: {exc}") from None
    head = raw.get("regress", {})
    allowed = {"samples", "seed", "threads", "test_size", "time_limit_s", "device"}
    for key in head:
        if key not in allowed:
            raise RegressError(f"{path}: [regress.{key}] unknown key; valid: {', '.join(sorted(allowed))}")
    benches = raw.get("benchmarks")
    if not benches:
        raise RegressError(f"{path}: [benchmarks] no benchmarks; add a [benchmarks.NAME] table")
    out = []
    for name, t in benches.items():
        t = dict(t)
        model = t.pop("model", name)
        dataset = t.pop("dataset", None)
        size = t.pop("train_size", None)
        dparams = t.pop("dataset_params", {})
        params = t.pop("params", {})
        n_samples = t.pop("samples", None)
        if n_samples is not None and (not isinstance(n_samples, int) or n_samples < 3):
            raise RegressError(f"{path}: [benchmarks.{name}.samples] expected an integer >= 3, got {n_samples!r}")
        if not dataset or not isinstance(size, int):
            raise RegressError(f"{path}: [benchmarks.{name}] needs dataset = \"...\" and train_size = N")
        if t:
            raise RegressError(
                f"{path}: [benchmarks.{name}.{sorted(t)[0]}] unknown key; valid: dataset, "
                "dataset_params, model, params, samples, train_size"
            )
        lines = [
            "[suite]",
            f"name = {json.dumps('regress-' + name)}",
            f"seeds = [{int(head.get('seed', 0))}]",
            f"train_sizes = [{size}]",
            f"test_size = {_toml_value(head.get('test_size', 0.25))}",
            f"threads = {int(head.get('threads', 1))}",
            f"time_limit_s = {_toml_value(head.get('time_limit_s', 300))}",
            f"device = {json.dumps(head.get('device', 'cpu'))}",
            f"[datasets.{dataset}]",
            *(f"{k} = {_toml_value(v)}" for k, v in dparams.items()),
            f"[models.{name}]",
            f"model = {json.dumps(model)}",
            *(f"{k} = {_toml_value(v)}" for k, v in params.items()),
        ]
        out.append(Benchmark(name=name, model=model, dataset=dataset, toml="\n".join(lines) + "\n",
                             samples=n_samples))
    return RegressSuite(
        path=path,
        samples=int(head.get("samples", 7)),
        benchmarks=tuple(out),
        sha=hashlib.sha256(text.encode()).hexdigest()[:16],
    )


def validate(suite: RegressSuite) -> list[str]:
    """Check each benchmark's one-cell suite against this working tree's harness.

    A benchmark of a model or dataset this tree does not register is skipped (returned as a
    warning: a model still being written, or removed); any other problem is an error.
    """
    from bench.datasets import DATASETS
    from bench.models import MODELS
    from bench.plugins import load_plugins
    from bench.suite import SuiteError, parse, plan

    load_plugins()
    skipped = []
    for b in suite.benchmarks:
        missing = [f"model {b.model!r}"] if b.model not in MODELS else []
        missing += [f"dataset {b.dataset!r}"] if b.dataset not in DATASETS else []
        if missing:
            skipped.append(f"{b.name}: {' and '.join(missing)} not registered in this tree; benchmark skipped")
            continue
        try:
            cells, _ = plan(parse(b.toml, f"{suite.path} [benchmarks.{b.name}]"))
        except SuiteError as exc:
            raise RegressError(str(exc)) from None
        if len(cells) != 1:
            raise RegressError(
                f"{suite.path}: [benchmarks.{b.name}] model {b.model!r} cannot run on {b.dataset!r}"
            )
    return skipped


# --------------------------------------------------------------------------------------------
# Sides: a driver process per version of the code.


class Side:
    """One version of the code, in a long-lived driver that runs samples on request."""

    def __init__(self, label: str, root: Path, probe_dir: Path, log_dir: Path, inject: str | None = None,
                 preload: str = "torch"):
        self.label = label
        self.root = root
        self.error: str | None = None
        env = dict(os.environ)
        env.pop(INJECT_ENV, None)
        if inject:
            env[INJECT_ENV] = inject
        env["PYTHONPATH"] = os.pathsep.join([str(root), str(probe_dir)])
        plugins = [p for p in env.get("BENCH_PLUGINS", "").split(",") if p.strip()]
        env["BENCH_PLUGINS"] = ",".join(dict.fromkeys([PROBE_MODULE, *plugins]))
        env["PYTHONHASHSEED"] = "0"
        env["BENCH_REGRESS_PRELOAD"] = preload
        env.pop("BENCH_CACHE_DIR", None)
        self.log_path = log_dir / f"{label}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-c", DRIVER_SOURCE],
            cwd=root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._log, text=True, bufsize=1,
        )
        hello = self._read()
        if hello is None:
            self.error = f"the {label} side did not start: {self.log_tail()}"
        elif Path(hello.get("bench", "")).resolve().parent.parent != root.resolve():
            self.error = f"the {label} side imported bench from {hello.get('bench')}, not from {root}"

    def _read(self) -> dict | None:
        line = self.proc.stdout.readline()
        if not line:
            return None
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            return None

    def log_tail(self, n: int = 1500) -> str:
        self._log.flush()
        try:
            return self.log_path.read_text()[-n:].strip() or "(no output)"
        except OSError:
            return "(no log)"

    def run(self, b: Benchmark) -> dict:
        if self.error:
            return {"status": "error", "info": self.error}
        try:
            self.proc.stdin.write(json.dumps({"name": b.name, "toml": b.toml}) + "\n")
            self.proc.stdin.flush()
        except OSError:
            self.error = f"the {self.label} side's driver died: {self.log_tail()}"
            return {"status": "error", "info": self.error}
        row = self._read()
        if row is None:
            self.error = f"the {self.label} side's driver died: {self.log_tail()}"
            return {"status": "error", "info": self.error}
        return {k: row.get(k) for k in KEPT}

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(20)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def sample(sides: list[Side], benchmarks: list[Benchmark], rounds: int, say=print) -> dict:
    """{side label: {benchmark: [rows]}}, samples interleaved A B / B A across rounds and benchmarks."""
    rows: dict[str, dict[str, list[dict]]] = {s.label: {b.name: [] for b in benchmarks} for s in sides}
    for r in range(rounds):
        t0 = time.perf_counter()
        for i, b in enumerate(benchmarks):
            if b.samples is not None and r >= b.samples and rounds > 1:
                continue
            order = sides if (r + i) % 2 == 0 else list(reversed(sides))
            for side in order:
                rows[side.label][b.name].append(side.run(b))
        say(f"  round {r + 1}/{rounds}: {time.perf_counter() - t0:.1f} s")
    return rows


# --------------------------------------------------------------------------------------------
# Judgement (pure functions; unit-tested on synthetic samples).


@dataclass
class Finding:
    level: str  # fail / warn / info
    benchmark: str
    model: str
    figure: str
    message: str

    def line(self) -> str:
        return f"{self.level.upper():4s} {self.model} [{self.benchmark}] {self.figure}: {self.message}"


def _ok(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r.get("status") == "ok"]


def _median(rows: list[dict], key: str) -> float | None:
    vals = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def mann_whitney_greater(work: list[float], base: list[float]) -> float:
    """One-sided p-value that `work` tends to be larger than `base`."""
    from scipy.stats import mannwhitneyu

    if len(work) < 2 or len(base) < 2:
        return 1.0
    return float(mannwhitneyu(work, base, alternative="greater").pvalue)


@dataclass
class TimeVerdict:
    figure: str
    ratio: float
    p: float
    work_s: float
    base_s: float
    level: str  # fail / warn / unsure (over the ratio, test not yet clear) / ok


def judge_time(work: list[float], base: list[float], figure: str,
               fail_ratio: float = TIME_FAIL_RATIO, warn_ratio: float = TIME_WARN_RATIO,
               alpha: float = TIME_ALPHA, floor_s: float = TIME_FLOOR_S) -> TimeVerdict | None:
    """Ratio of medians plus a one-sided Mann-Whitney U test; both must agree to flag."""
    work = [w for w in work if w is not None]
    base = [b for b in base if b is not None]
    if not work or not base:
        return None
    mw, mb = statistics.median(work), statistics.median(base)
    ratio = mw / mb if mb > 0 else (math.inf if mw > 0 else 1.0)
    p = mann_whitney_greater(work, base)
    level = "ok"
    if p < alpha and mw - mb >= floor_s:
        if ratio >= fail_ratio:
            level = "fail"
        elif ratio >= warn_ratio:
            level = "warn"
    elif p < TIME_UNSURE_P and mw - mb >= floor_s and ratio >= fail_ratio:
        level = "unsure"
    return TimeVerdict(figure, ratio, p, mw, mb, level)


def judge_memory(work_mb: float | None, refs: dict[str, float | None]) -> tuple[str, str] | None:
    """(level, message) when peak memory grew beyond max(10 %, 20 MB) over the references.

    Fails only when it exceeds every available reference (stored baseline, base revision);
    exceeding some but not all is a warning (the environment or the base already differ).
    """
    refs = {k: v for k, v in refs.items() if v is not None}
    if work_mb is None or not refs:
        return None
    over = {k: v for k, v in refs.items() if work_mb - v > max(MEMORY_REL * v, MEMORY_ABS_MB)}
    if not over:
        return None
    detail = ", ".join(f"{k} {v:.1f} MB" for k, v in refs.items())
    msg = f"peak memory {work_mb:.1f} MB vs {detail} (limit: +max(10%, 20 MB))"
    if len(over) == len(refs):
        return "fail", msg
    fine = ", ".join(k for k in refs if k not in over)
    return "warn", msg + f"; within the limit of the {fine} measured here: the environment differs from " \
        "the baseline's (refresh it with --update-baseline)"


def quality_diffs(work: dict, ref: dict, tol: float = SCORE_ABS_TOL) -> tuple[list[str], list[str], bool]:
    """(scores worse, scores better, predictions changed) of one row against a reference row."""
    worse, better = [], []
    for metric, higher in HIGHER_IS_BETTER.items():
        a, b = work.get(metric), ref.get(metric)
        if a is None or b is None:
            continue
        d = (a - b) if higher else (b - a)
        if d < -tol:
            worse.append(f"{metric} {b:.6g} -> {a:.6g}")
        elif d > tol:
            better.append(f"{metric} {b:.6g} -> {a:.6g}")
    sha_a, sha_b = work.get("predictions_sha"), ref.get("predictions_sha")
    changed = bool(sha_a and sha_b and sha_a != sha_b)
    return worse, better, changed


def _same_quality(a: dict, b: dict) -> bool:
    worse, better, changed = quality_diffs(a, b)
    return not worse and not better and not changed


@dataclass
class Outcome:
    findings: list[Finding] = field(default_factory=list)
    table: list[dict] = field(default_factory=list)
    rc: int = 0  # 0 passed (perhaps with warnings), 1 a regression
    elapsed_s: float = 0.0

    @property
    def failed(self) -> bool:
        return any(f.level == "fail" for f in self.findings)


def judge(benchmarks: list[Benchmark], work: dict, base: dict | None, stored: dict | None,
          base_is_baseline_commit: bool, base_label: str, time_mode: str) -> tuple[Outcome, dict]:
    """Findings for every benchmark; also {benchmark: [figures]} of time failures to confirm.

    time_mode: "ab" (against the base revision's samples), "stored" (loosely, against the
    stored baseline's absolute figures) or "skip".
    """
    out = Outcome()
    to_confirm: dict[str, list[TimeVerdict]] = {}
    to_extend: set[str] = set()
    stored_b = (stored or {}).get("benchmarks", {})
    for b in benchmarks:
        def add(level: str, figure: str, msg: str, _b: Benchmark = b) -> None:
            out.findings.append(Finding(level, _b.name, _b.model, figure, msg))

        w_rows = work.get(b.name, [])
        w_ok = _ok(w_rows)
        b_ok = _ok(base.get(b.name, [])) if base is not None else []
        ref = stored_b.get(b.name)
        row = {"benchmark": b.name, "model": b.model, "dataset": b.dataset}
        out.table.append(row)
        if len(w_ok) < len(w_rows) or not w_ok:
            bad = next((r for r in w_rows if r.get("status") != "ok"), {})
            add("fail", "status", f"{bad.get('status')}: {str(bad.get('info'))[:300]}")
            continue
        if base is not None and not b_ok:
            info = next((r.get("info") for r in base.get(b.name, []) if r.get("info")), "")
            add("info", "base", f"no figures on the base revision {base_label} (new benchmark or model?): "
                f"{first_line(info)[:200]}")
        w = w_ok[0]
        row.update(score=w.get("score"), predictions_sha=w.get("predictions_sha"))
        # Determinism: every sample of the working tree must predict the same.
        shas = {r.get("predictions_sha") for r in w_ok}
        if len(shas) > 1:
            add("warn", "predictions", f"not deterministic: {len(shas)} different predictions over {len(w_ok)} samples")
        # Quality, against the stored baseline.
        if ref is None:
            if stored is not None:
                add("info", "baseline", "no stored baseline for this benchmark (run --update-baseline)")
        else:
            row["baseline_score"] = ref.get("score")
            worse, better, changed = quality_diffs(w, ref)
            if worse or changed:
                excused = base_is_baseline_commit and b_ok and _same_quality(w, b_ok[0])
                figure = "score" if worse else "predictions"
                msg = ("score dropped: " + "; ".join(worse)) if worse else (
                    "test predictions changed" + (f" (scores: {'; '.join(better)})" if better else " (same scores)"))
                if excused:
                    add("warn", figure, msg + f"; but the baseline's own commit {base_label} gives the same "
                        "here: the environment differs from the baseline's (refresh it with --update-baseline)")
                else:
                    add("fail", figure, msg + " (if intended, refresh the baseline with --update-baseline)")
        # Memory.
        w_mem = _median(w_ok, "peak_memory_mb")
        b_mem = _median(b_ok, "peak_memory_mb") if b_ok else None
        row.update(mem_mb=w_mem, base_mem_mb=b_mem, baseline_mem_mb=(ref or {}).get("peak_memory_mb"))
        verdict = judge_memory(w_mem, {"baseline": (ref or {}).get("peak_memory_mb"), f"base {base_label}": b_mem})
        if verdict:
            add(verdict[0], "peak_memory_mb", verdict[1])
        # Time.
        for fig in WALL_FIGURES:
            row[fig] = _median(w_ok, fig)
        for fig in TIME_FIGURES:
            w_t = [r.get(fig) for r in w_ok]
            row[fig] = _median(w_ok, fig)
            row[f"base_{fig}"] = _median(b_ok, fig) if b_ok else None
            if time_mode == "ab" and b_ok:
                v = judge_time(w_t, [r.get(fig) for r in b_ok], fig)
            elif time_mode == "stored" and ref and ref.get(f"{fig}_samples"):
                v = judge_time(w_t, ref[f"{fig}_samples"], fig,
                               fail_ratio=FALLBACK_TIME_FAIL_RATIO, warn_ratio=FALLBACK_TIME_WARN_RATIO)
            else:
                v = None
            if v is None:
                continue
            row[f"{fig}_ratio"], row[f"{fig}_p"] = v.ratio, v.p
            if v.level == "fail":
                to_confirm.setdefault(b.name, []).append(v)
            elif v.level == "unsure":
                to_extend.add(b.name)
            elif v.level == "warn":
                add("warn", fig, _time_msg(v, base_label if time_mode == "ab" else "the stored baseline"))
    return out, to_confirm, to_extend


def _time_msg(v: TimeVerdict, against: str) -> str:
    return (f"{v.ratio:.2f}x slower than {against} (median {v.work_s * 1000:.1f} ms vs "
            f"{v.base_s * 1000:.1f} ms, Mann-Whitney p={v.p:.2g})")


# --------------------------------------------------------------------------------------------
# Git and the stored baseline.


def _git(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as exc:  # no git, or not a repository
        return subprocess.CompletedProcess(["git", *args], 1, "", str(exc))


def resolve_commit(rev: str) -> str | None:
    res = _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    return res.stdout.strip() if res.returncode == 0 and res.stdout.strip() else None


def checkout(commit: str, into: Path) -> None:
    res = _git("worktree", "add", "--detach", "--force", str(into), commit)
    if res.returncode != 0:
        raise RegressError(f"git worktree add of {commit[:12]} failed: {res.stderr.strip()}")


def remove_checkout(path: Path) -> None:
    res = _git("worktree", "remove", "--force", str(path))
    if res.returncode != 0:
        shutil.rmtree(path, ignore_errors=True)
        _git("worktree", "prune")


def read_baseline(folder: Path) -> dict | None:
    path = folder / BASELINE_FILE
    if not path.exists():
        return None
    return json.loads(path.read_text())


def _versions() -> dict:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for lib in ("numpy", "scipy", "scikit-learn", "xgboost", "torch"):
        try:
            out[lib] = md.version(lib)
        except md.PackageNotFoundError:
            out[lib] = None
    return out


def _cpu_model() -> str:
    from bench.measure import host_info

    return host_info().get("cpu_model") or platform.machine()


def write_baseline(folder: Path, suite: RegressSuite, rows: dict, benchmarks: list[Benchmark]) -> Path:
    head = _git("rev-parse", "HEAD").stdout.strip() or None
    dirty = _git("status", "--porcelain", "--untracked-files=no", "--", ".", f":!{DEFAULT_BASELINE}").stdout.split("\n")
    data = {
        "made_from": head,
        "dirty_files": sorted(line[3:] for line in dirty if line.strip()),
        "made_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "suite": os.path.relpath(suite.path, ROOT) if os.path.isabs(suite.path) else suite.path,
        "suite_sha": suite.sha,
        "samples": suite.samples,
        "cpu_model": _cpu_model(),
        "versions": _versions(),
        "benchmarks": {},
    }
    for b in benchmarks:
        ok = _ok(rows[b.name])
        if not ok:
            bad = rows[b.name][0] if rows[b.name] else {}
            raise RegressError(f"cannot write the baseline: {b.name} did not run: {bad.get('status')}: {bad.get('info')}")
        first = ok[0]
        entry = {"model": b.model, "dataset": b.dataset}
        entry.update({k: first.get(k) for k in ("score", "train_score", "predictions_sha", *HIGHER_IS_BETTER)
                      if first.get(k) is not None})
        entry["peak_memory_mb"] = round(_median(ok, "peak_memory_mb"), 3)
        for fig in WALL_FIGURES:
            entry[fig] = _median(ok, fig)
        for fig in TIME_FIGURES:
            entry[fig] = _median(ok, fig)
            entry[f"{fig}_samples"] = [r[fig] for r in ok if r.get(fig) is not None]
        data["benchmarks"][b.name] = entry
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / BASELINE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    os.replace(tmp, path)
    return path


# --------------------------------------------------------------------------------------------
# Report.


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


# --------------------------------------------------------------------------------------------
# The check.


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


def run_check(opts: Options, say=print) -> Outcome:
    """The check's findings; `rc` 0: passed (perhaps with warnings), 1: a regression.

    Raises RegressError when the check cannot run as asked.
    """
    t_start = time.perf_counter()
    suite = load_suite(ROOT / opts.suite if not os.path.isabs(opts.suite) else opts.suite)
    skipped = validate(suite)
    runnable = [b for b in suite.benchmarks if not any(x.startswith(b.name + ":") for x in skipped)]
    benchmarks = [b for b in runnable if not opts.only or b.name in opts.only or b.model in opts.only]
    if opts.only and not benchmarks:
        raise RegressError(f"--only {','.join(opts.only)}: no such benchmark; valid: "
                           f"{', '.join(b.name for b in suite.benchmarks)}")
    samples = opts.samples or suite.samples
    baseline_dir = ROOT / opts.baseline if not os.path.isabs(opts.baseline) else Path(opts.baseline)
    inject = opts.inject if opts.inject is not None else os.environ.get(INJECT_ENV)
    work_root = Path(opts.work_path).resolve() if opts.work_path else ROOT

    tmp = Path(tempfile.mkdtemp(prefix="bench-regress-"))
    (tmp / f"{PROBE_MODULE}.py").write_text(PROBE_SOURCE)
    sides: list[Side] = []
    worktree: Path | None = None
    try:
        if opts.update_baseline:
            if inject:
                raise RegressError(f"refusing to write a baseline with {INJECT_ENV} set")
            say(f"== regress: writing the baseline from the working tree ({len(benchmarks)} benchmarks x {samples} samples)")
            if opts.only:
                raise RegressError("--update-baseline rewrites the whole baseline; drop --only")
            for x in skipped:
                say(f"warning: {x}")
            work = Side("work", work_root, tmp, tmp)
            sides.append(work)
            if work.error:
                raise RegressError(work.error)
            work.run(benchmarks[0])  # warm-up: starts the worker server
            rows = sample([work], benchmarks, samples, say)["work"]
            path = write_baseline(baseline_dir, suite, rows, benchmarks)
            data = json.loads(path.read_text())
            say(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} "
                f"(made from {str(data['made_from'])[:12]}) in {time.perf_counter() - t_start:.0f} s")
            if data["dirty_files"]:
                say(f"warning: uncommitted changes in {', '.join(data['dirty_files'][:8])}: commit the code "
                    "first, then the baseline, so the baseline's commit holds the code it measured")
            say("commit it: git add results/baseline && git commit -m 'regress: new baseline' -- results/baseline")
            return Outcome(elapsed_s=time.perf_counter() - t_start)

        stored = read_baseline(baseline_dir)
        notes: list[str] = [f"warning: {x}" for x in skipped]
        if stored is None:
            notes.append(f"no stored baseline in {opts.baseline}: quality and memory are judged against the "
                         "base revision only; create one with --update-baseline")
        elif stored.get("versions") and stored["versions"] != _versions():
            now = _versions()
            diff = ", ".join(f"{k} {v} -> {now.get(k)}" for k, v in stored["versions"].items() if now.get(k) != v)
            notes.append(f"note: library versions differ from the baseline's ({diff}); quality or memory "
                         "differences the base revision shows too are warnings, not failures")
        if stored is not None and stored.get("suite_sha") != suite.sha:
            notes.append(f"{opts.suite} changed since the baseline was made; benchmarks without a stored "
                         "figure are reported, not judged, until --update-baseline")
        # The base side.
        base_root: Path | None = None
        base_label = "-"
        base_commit = None
        if opts.no_time and not opts.base and not opts.base_path:
            notes.append("--no-time: no base revision run; time is not judged")
        elif opts.base_path:
            base_root = Path(opts.base_path).resolve()
            base_label = f"the code in {opts.base_path}"
        else:
            rev = opts.base or (stored or {}).get("made_from") or "HEAD"
            base_commit = resolve_commit(rev)
            if base_commit is None:
                notes.append(
                    f"warning: the base revision {rev[:12]} is not in this clone (a shallow clone, or a "
                    "baseline made from an unpushed commit?); time is judged loosely against the stored "
                    "baseline's absolute figures instead of A/B (fetch full history for the A/B judgement)"
                )
            else:
                worktree = tmp / "base"
                checkout(base_commit, worktree)
                base_root = worktree
                base_label = base_commit[:12]
        base_is_baseline = bool(stored and base_commit and base_commit == resolve_commit(stored.get("made_from") or ""))
        if base_root is not None and opts.base_path and stored:
            base_is_baseline = False

        vs = f"base {base_label}" if base_root is not None else "the stored baseline only"
        say(f"== regress: {len(benchmarks)} benchmarks x {samples} samples; working tree vs {vs}"
            + (f"; injected into the working tree: {inject}" if inject else ""))
        for n in notes:
            say(n)
        work = Side("work", work_root, tmp, tmp, inject=inject)
        sides.append(work)
        if work.error:
            raise RegressError(work.error)
        base_side = None
        if base_root is not None:
            base_side = Side("base", base_root, tmp, tmp)
            sides.append(base_side)
            if base_side.error:
                say(f"warning: {base_side.error}; time is judged against the stored baseline instead")
                base_side = None
        active = [s for s in sides if s is work or s is base_side]
        for s in active:
            s.run(benchmarks[0])  # warm-up: starts each side's worker server
        rows = sample(active, benchmarks, samples, say)
        base_rows = rows.get("base")
        if base_side is not None:
            time_mode = "ab"
        elif opts.no_time:
            time_mode = "skip"
        elif stored and stored.get("cpu_model") == _cpu_model():
            time_mode = "stored"
        else:
            time_mode = "skip"
            if not opts.no_time:
                say("warning: time not judged: no base revision, and the stored baseline was measured on "
                    f"another CPU ({(stored or {}).get('cpu_model')})")
        outcome, to_confirm, to_extend = judge(benchmarks, rows["work"], base_rows, stored, base_is_baseline,
                                               base_label, time_mode)
        if to_extend:
            say(f"== more samples for unclear time differences of: {', '.join(sorted(to_extend))}")
            more = sample(active, [b for b in benchmarks if b.name in to_extend], samples, say)
            for side, by_bench in more.items():
                for name, extra in by_bench.items():
                    rows[side][name].extend(extra)
            outcome, to_confirm, _ = judge(benchmarks, rows["work"], base_rows, stored, base_is_baseline,
                                           base_label, time_mode)
        against = base_label if time_mode == "ab" else "the stored baseline"
        if to_confirm:
            names = sorted(to_confirm)
            say(f"== rerun to confirm time regressions of: {', '.join(names)}")
            again = [b for b in benchmarks if b.name in to_confirm]
            rows2 = sample(active, again, samples, say)
            for b in again:
                for v in to_confirm[b.name]:
                    w1 = [r.get(v.figure) for r in _ok(rows["work"][b.name])]
                    w2 = [r.get(v.figure) for r in _ok(rows2["work"][b.name])]
                    if time_mode == "ab":
                        b1 = [r.get(v.figure) for r in _ok(rows["base"][b.name])]
                        b2 = [r.get(v.figure) for r in _ok(rows2["base"][b.name])]
                        ratios = {}
                    else:
                        b1 = b2 = stored["benchmarks"][b.name][f"{v.figure}_samples"]
                        ratios = {"fail_ratio": FALLBACK_TIME_FAIL_RATIO, "warn_ratio": FALLBACK_TIME_WARN_RATIO}
                    v2 = judge_time(w2, b2, v.figure, alpha=TIME_CONFIRM_ALPHA, **ratios)
                    pooled = judge_time(w1 + w2, b1 + (b2 if time_mode == "ab" else []), v.figure, **ratios)
                    first = _time_msg(v, against)
                    if v2 is not None and v2.level == "fail" and pooled is not None and pooled.level == "fail":
                        outcome.findings.append(Finding("fail", b.name, b.model, v.figure, first +
                                                        f"; confirmed on rerun: {v2.ratio:.2f}x, p={v2.p:.2g} "
                                                        f"(all samples: {pooled.ratio:.2f}x, p={pooled.p:.2g})"))
                    else:
                        again_txt = f"{v2.ratio:.2f}x, p={v2.p:.2g}" if v2 else "no figures"
                        outcome.findings.append(Finding("warn", b.name, b.model, v.figure, first +
                                                        f"; not confirmed on rerun ({again_txt})"))
        say("")
        print_table(outcome, say)
        say("")
        order = {"fail": 0, "warn": 1, "info": 2}
        for f in sorted(outcome.findings, key=lambda f: order[f.level]):
            say(f.line())
        n_fail = sum(f.level == "fail" for f in outcome.findings)
        n_warn = sum(f.level == "warn" for f in outcome.findings)
        elapsed = time.perf_counter() - t_start
        verdict = "FAILED" if n_fail else "passed"
        say(f"regress {verdict}: {n_fail} regressions, {n_warn} warnings, {len(benchmarks)} benchmarks, "
            f"time judged {_MODES[time_mode].format(base_label)}, {elapsed:.0f} s")
        if opts.out:
            _write_report(Path(opts.out), outcome, rows, base_label, time_mode, elapsed)
        outcome.rc = 1 if n_fail else 0
        outcome.elapsed_s = elapsed
        return outcome
    finally:
        for s in sides:
            s.close()
        if worktree is not None:
            remove_checkout(worktree)
        shutil.rmtree(tmp, ignore_errors=True)


SELFTEST_INJECTIONS = (
    # (injection, the model that must be named, the figure that must be named)
    ("slow:svm:2.0", "svm", "fit_cpu_s"),
    ("score:knn:0.1", "knn", "score"),
    ("memory:random_forest:100", "random_forest", "peak_memory_mb"),
)


def selftest(opts: Options, runs: int = 5, say=print) -> int:
    """Proof that the check works: injected regressions fail and are named; clean runs pass.

    A snapshot of the working tree's code is checked against itself, with a fresh baseline
    written from it into a temporary folder, so only the check's own noise is tested.
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
        run_check(Options(**{**base.__dict__, "update_baseline": True, "only": ()}), say=quiet.append)
        plan = [(f"clean {i + 1}/{runs}", None, None, None) for i in range(runs)]
        plan += [(f"inject {spec}", spec, model, figure) for spec, model, figure in SELFTEST_INJECTIONS]
        for label, spec, model, figure in plan:
            say(f"== selftest: {label}")
            out = run_check(Options(**{**base.__dict__, "inject": spec or ""}), say=quiet.append)
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


_MODES = {"ab": "A/B against {}", "stored": "loosely against the stored baseline", "skip": "not at all"}


def _write_report(folder: Path, outcome: Outcome, rows: dict, base_label: str, time_mode: str, elapsed: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "regress-report.json").write_text(json.dumps({
        "base": base_label, "time_mode": time_mode, "elapsed_s": elapsed,
        "findings": [f.__dict__ for f in outcome.findings], "table": outcome.table, "samples": rows,
    }, indent=1, default=str) + "\n")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench regress", description=__doc__.split("\n\n")[0])
    p.add_argument("--suite", default=DEFAULT_SUITE, help=f"regression suite (default {DEFAULT_SUITE})")
    p.add_argument("--baseline", default=DEFAULT_BASELINE, help=f"stored baseline folder (default {DEFAULT_BASELINE})")
    p.add_argument("--base", metavar="REV", help="base revision for the A/B timing (default: the commit the "
                   "stored baseline was made from)")
    p.add_argument("--base-path", metavar="DIR", help="use this folder's code as the base side instead of a "
                   "git revision (e.g. '.' to check the working tree against itself)")
    p.add_argument("--samples", type=int, help="samples per side and benchmark (default: the suite's)")
    p.add_argument("--only", default="", help="comma-separated benchmark or model names")
    p.add_argument("--update-baseline", action="store_true", help="rewrite the stored baseline from the working tree")
    p.add_argument("--inject", help=f"self-test only: as {INJECT_ENV}, e.g. slow:svm:2.0 (working tree side)")
    p.add_argument("--out", help="also write regress-report.json into this folder")
    p.add_argument("--no-time", action="store_true", help="skip the A/B timing when no --base is given")
    p.add_argument("--selftest", action="store_true", help="prove the check: injected regressions are caught, "
                   "the same code against itself passes (what nox -s regress-selftest runs)")
    p.add_argument("--selftest-runs", type=int, default=5, help="clean runs of the self-test (default 5)")
    return p


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # A CI job's SIGTERM ends the check like Ctrl-C: drivers stop, the base checkout is removed.
    signal.signal(signal.SIGTERM, _interrupt)
    if args.samples is not None and args.samples < 3:
        print("error: --samples must be at least 3", file=sys.stderr)
        return 2
    opts = Options(
        suite=args.suite, baseline=args.baseline, base=args.base, base_path=args.base_path,
        samples=args.samples, only=tuple(x for x in args.only.split(",") if x),
        update_baseline=args.update_baseline, inject=args.inject, out=args.out, no_time=args.no_time,
    )
    try:
        if args.selftest:
            return selftest(opts, runs=args.selftest_runs, say=lambda s: print(s, flush=True))
        return run_check(opts, say=lambda s: print(s, flush=True)).rc
    except RegressError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("regress: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
