"""The check's judgement: pure functions from samples to findings (unit-tested on synthetic samples).

The thresholds are here (README: "Regression check in CI").
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from bench.registry import first_line
from bench.regress.suite import Benchmark

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
FALLBACK_RATIOS = {"fail_ratio": FALLBACK_TIME_FAIL_RATIO, "warn_ratio": FALLBACK_TIME_WARN_RATIO}

HIGHER_IS_BETTER = {"accuracy": True, "balanced_accuracy": True, "f1_macro": True, "r2": True,
                    "log_loss": False, "rmse": False, "mae": False}


@dataclass
class Finding:
    level: str  # fail / warn / info
    benchmark: str
    model: str
    figure: str
    message: str

    def line(self) -> str:
        return f"{self.level.upper():4s} {self.model} [{self.benchmark}] {self.figure}: {self.message}"


def ok_rows(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r.get("status") == "ok"]


def median_of(rows: list[dict], key: str) -> float | None:
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


def time_message(v: TimeVerdict, against: str) -> str:
    return (f"{v.ratio:.2f}x slower than {against} (median {v.work_s * 1000:.1f} ms vs "
            f"{v.base_s * 1000:.1f} ms, Mann-Whitney p={v.p:.2g})")


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
          base_is_baseline_commit: bool, base_label: str,
          time_mode: str) -> tuple[Outcome, dict[str, list[TimeVerdict]], set[str]]:
    """(outcome, time failures to confirm by benchmark, benchmarks whose time test is unclear).

    `work` and `base` hold {benchmark: [rows]} of each side; `stored` is the stored baseline.
    time_mode: "ab" (against the base revision's samples), "stored" (loosely, against the
    stored baseline's absolute figures) or "skip". A time failure is not a finding yet: it
    waits for the confirmation rerun; an unclear one waits for more samples.
    """
    out = Outcome()
    to_confirm: dict[str, list[TimeVerdict]] = {}
    to_extend: set[str] = set()
    stored_b = (stored or {}).get("benchmarks", {})
    for b in benchmarks:
        def add(level: str, figure: str, msg: str, _b: Benchmark = b) -> None:
            out.findings.append(Finding(level, _b.name, _b.model, figure, msg))

        w_rows = work.get(b.name, [])
        w_ok = ok_rows(w_rows)
        b_ok = ok_rows(base.get(b.name, [])) if base is not None else []
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
        w_mem = median_of(w_ok, "peak_memory_mb")
        b_mem = median_of(b_ok, "peak_memory_mb") if b_ok else None
        row.update(mem_mb=w_mem, base_mem_mb=b_mem, baseline_mem_mb=(ref or {}).get("peak_memory_mb"))
        verdict = judge_memory(w_mem, {"baseline": (ref or {}).get("peak_memory_mb"), f"base {base_label}": b_mem})
        if verdict:
            add(verdict[0], "peak_memory_mb", verdict[1])
        # Time.
        for fig in WALL_FIGURES:
            row[fig] = median_of(w_ok, fig)
        for fig in TIME_FIGURES:
            w_t = [r.get(fig) for r in w_ok]
            row[fig] = median_of(w_ok, fig)
            row[f"base_{fig}"] = median_of(b_ok, fig) if b_ok else None
            if time_mode == "ab" and b_ok:
                v = judge_time(w_t, [r.get(fig) for r in b_ok], fig)
            elif time_mode == "stored" and ref and ref.get(f"{fig}_samples"):
                v = judge_time(w_t, ref[f"{fig}_samples"], fig, **FALLBACK_RATIOS)
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
                add("warn", fig, time_message(v, base_label if time_mode == "ab" else "the stored baseline"))
    return out, to_confirm, to_extend
