"""Paired comparisons of two configurations on one dataset, test-set sampling error included.

Two configurations scored on the same test rows are compared row by row. The uncertainty of
their difference has two sources: the test rows (a finite sample of the data the claim is
about) and training (seeds: split, initialisation). `bench.report.stats.bootstrap_ci`
resamples seeds only; it prints a zero-width interval for deterministic models on a fixed
split, and no interval for one seed however many test rows stand behind it. This module
gives every comparison an interval that counts both sources:

- each seed's difference `d_s` (accuracy, or R² through its row-wise linearisation) and its
  test-row variance `v_s` (the paired, row-level variance: rows both configurations get right
  or wrong add nothing, as in McNemar's test);
- **a split per seed** (rows differ between seeds): the seeds' differences are independent
  draws holding both sources, so the interval is Student's t over them (k - 1 degrees of
  freedom). One seed: the test-row interval alone, and the method says that training
  variance was not estimable;
- **one test set shared by every seed** (an official split): the test-row variance of the
  seed-averaged row differences plus the between-seed variance over k, with
  Welch-Satterthwaite degrees of freedom. Deterministic models (every seed alike) are
  judged by their test rows, never by a zero-width interval;
- a floor when no row differs (the two configurations agree on every test row): the
  rule of three bounds the discordance rate by 3/n, so the interval is never of zero width;
- `mcnemar_p`: the exact McNemar test (a binomial test on the discordant rows) for a
  one-seed classification comparison.

`simulate_coverage` draws predictions with a known true difference and counts how often
the 95% interval covers it (benchmarks/test_interval_coverage.py runs it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LEVEL = 0.95


@dataclass(frozen=True)
class SeedPredictions:
    """One seed's test labels and the two configurations' predictions on them."""

    y: np.ndarray
    a: np.ndarray
    b: np.ndarray


@dataclass(frozen=True)
class PairedDifference:
    diff: float  # mean over seeds of score(a) - score(b)
    lo: float
    hi: float
    n_seeds: int
    n_test: int  # test rows per seed (the smallest, if they differ)
    method: str  # how the interval was made, in words for the report
    mcnemar_p: float | None = None  # exact McNemar, one-seed classification only
    level: float = LEVEL

    def text(self, digits: int = 3) -> str:
        f = f"{{:+.{digits}f}}"
        return f"{f.format(self.diff)} [{f.format(self.lo)}, {f.format(self.hi)}]"


def _row_terms(task: str, s: SeedPredictions) -> tuple[float, np.ndarray]:
    """(difference, per-row influence terms whose mean is 0 and whose variance / n is the
    difference's test-row variance). Accuracy: the rows' correctness differences. R²: the
    ratio (SSE_b - SSE_a) / SST linearised (delta method), so SST's own sampling counts."""
    y, a, b = (np.asarray(v) for v in (s.y, s.a, s.b))
    if task == "classification":
        c = (a == y).astype(float) - (b == y).astype(float)
        return float(c.mean()), c - c.mean()
    y, a, b = (v.astype(float) for v in (y, a, b))
    u = (y - b) ** 2 - (y - a) ** 2  # SSE_b - SSE_a, row by row
    w = (y - y.mean()) ** 2
    wbar = float(w.mean())
    if wbar == 0:
        return float("nan"), np.zeros_like(u)
    d = float(u.mean() / wbar)
    return d, (u - d * w) / wbar


def _discordant(task: str, s: SeedPredictions) -> int:
    if task == "classification":
        return int(((s.a == s.y) != (s.b == s.y)).sum())
    return int((np.asarray(s.a) != np.asarray(s.b)).sum())


def _t(df: float, level: float) -> float:
    from scipy.stats import t

    return float(t.ppf(0.5 + level / 2, df)) if math.isfinite(df) else _z(level)


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2))


def mcnemar_p(s: SeedPredictions) -> float:
    """Exact two-sided McNemar test: among rows exactly one configuration gets right, is each
    as likely to be the one? (1.0 when no row is discordant.)"""
    from scipy.stats import binomtest

    a_only = int(((s.a == s.y) & (s.b != s.y)).sum())
    b_only = int(((s.a != s.y) & (s.b == s.y)).sum())
    if a_only + b_only == 0:
        return 1.0
    return float(binomtest(a_only, a_only + b_only, 0.5).pvalue)


def paired_difference(
    seeds: Sequence[SeedPredictions], task: str, *, shared_rows: bool, level: float = LEVEL
) -> PairedDifference:
    """Score(a) - score(b) over seeds with an interval counting test rows and seeds.

    `shared_rows`: every seed was tested on the same rows in the same order (an official
    split); otherwise each seed drew its own test rows.
    """
    if not seeds:
        raise ValueError("no seed to compare")
    n = min(len(s.y) for s in seeds)
    k = len(seeds)
    terms = [_row_terms(task, s) for s in seeds]
    d = np.array([t[0] for t in terms])
    if not np.isfinite(d).all():
        nan = float("nan")
        return PairedDifference(nan, nan, nan, k, n, "not defined: a test set's target is constant")
    diff = float(d.mean())
    floor = (3.0 / n) ** 2 / _z(level) ** 2  # rule of three: no discordant row seen among n
    if shared_rows:
        if len({len(s.y) for s in seeds}) != 1:
            raise ValueError("shared_rows needs the same test rows for every seed")
        # Rows crossed with seeds (a two-way random-effects layout): Var(mean) =
        # s2_rows / n + s2_seeds / k + s2_residual / (n k), estimated from the mean squares as
        # (MS_rows + MS_seeds - MS_residual) / (n k); the residual is in both of the first two.
        infl = np.stack([t[1] for t in terms])  # (k, n): each seed's row influences
        row = infl.mean(axis=0)  # each row's influence averaged over seeds
        v_rows = float(row.var(ddof=1) / n) if n > 1 else 0.0
        if not any(_discordant(task, s) for s in seeds):
            v_rows = max(v_rows, floor)
        v_seeds = float(d.var(ddof=1) / k) if k > 1 else 0.0
        v_resid = 0.0
        if k > 1 and n > 1:
            v_resid = float(((infl - row) ** 2).sum() / ((n - 1) * (k - 1)) / (n * k))
        between = max(v_seeds - v_resid, 0.0)  # the seeds' own share, beyond the residual
        # Never below either observed part: the seeds' spread alone is a valid (if
        # conservative) variance of their mean, whatever the estimate of the residual.
        v = max(v_rows + between, v_seeds)
        # Degrees of freedom: the seeds' part counts whole (not less its residual share), so a
        # between-seed estimate that comes out small by chance does not also buy a small t.
        parts = [(v_rows, n - 1)] + ([(v_seeds, k - 1)] if k > 1 and v_seeds > 0 else [])
        df = v**2 / sum(p**2 / f for p, f in parts if f > 0) if v > 0 else float("inf")
        q = _t(df, level)
        method = ("one test set shared by every seed: rows crossed with seeds (test-row, "
                  "between-seed and residual variance), Welch-Satterthwaite t")
        if k == 1:
            method = "one seed on a fixed test set: test-row variance only (training variance not estimable)"
    elif k == 1:
        t0 = terms[0][1]
        v = float(t0.var(ddof=1) / n) if n > 1 else 0.0
        if not _discordant(task, seeds[0]):
            v = max(v, floor)
        q = _z(level)
        method = "one seed: test-row variance only (training variance not estimable)"
    else:
        v = float(d.var(ddof=1) / k)
        if v == 0:  # every seed's difference alike to the last digit: the rows' variance instead
            v = max(float(np.mean([t[1].var(ddof=1) for t in terms]) / (n * k)), floor / k)
        q = _t(k - 1, level)
        method = f"a split per seed: Student's t over the {k} seeds' differences (each holds its test rows' error)"
    half = q * math.sqrt(v)
    p = mcnemar_p(seeds[0]) if task == "classification" and k == 1 else None
    return PairedDifference(diff, diff - half, diff + half, k, n, method, p, level)


# ---------------------------------------------------------------- coverage


def _draw(rng: np.random.Generator, task: str, n: int, true_diff: float, seed_sd: float,
          rows: np.ndarray | None) -> SeedPredictions:
    """Predictions of two configurations on n rows whose expected score difference is
    `true_diff` (plus a training effect of sd `seed_sd` with mean 0).

    `rows` (n, 3) fixes each row's draws when every seed sees the same test rows: which rows
    are hard is mostly a property of the row (80% of the rows' draws are shared between seeds,
    20% are the seed's own), as it is for real models."""
    effect = rng.normal(0.0, seed_sd)
    r = rows if rows is not None else rng.random((n, 3))
    own = rng.random((n, 3))
    persistent = rng.random(n) < 0.8
    u = np.where(persistent[:, None], r, own)
    if task == "classification":
        base = 0.75
        pa, pb = base + (true_diff + effect) / 2, base - (true_diff + effect) / 2
        paired = u[:, 2] < 0.6  # rows hard or easy for both configurations alike
        ua, ub = u[:, 0], np.where(paired, u[:, 0], u[:, 1])
        y = np.zeros(n, dtype=int)
        return SeedPredictions(y, np.where(ua < pa, 0, 1), np.where(ub < pb, 0, 1))
    from scipy.stats import norm

    z = norm.ppf(np.clip(r, 1e-9, 1 - 1e-9))  # the row's target and its two errors' persistent parts
    zo = norm.ppf(np.clip(own, 1e-9, 1 - 1e-9))
    y = z[:, 0]
    ea = math.sqrt(0.8) * z[:, 1] + math.sqrt(0.2) * zo[:, 1]
    eb = math.sqrt(0.8) * z[:, 2] + math.sqrt(0.2) * zo[:, 2]
    # R² = 1 - error variance: chosen so that R²_a - R²_b = true_diff + effect.
    ra, rb = 0.6 + (true_diff + effect) / 2, 0.6 - (true_diff + effect) / 2
    return SeedPredictions(y, y + math.sqrt(1 - ra) * ea, y + math.sqrt(1 - rb) * eb)


def simulate_coverage(task: str, *, n: int, k: int, true_diff: float, seed_sd: float, shared_rows: bool,
                      n_sim: int = 400, level: float = LEVEL, seed: int = 0) -> float:
    """Share of `n_sim` simulated comparisons whose interval covers the true difference."""
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(n_sim):
        rows = rng.random((n, 3)) if shared_rows else None
        seeds = [_draw(rng, task, n, true_diff, seed_sd, rows) for _ in range(k)]
        r = paired_difference(seeds, task, shared_rows=shared_rows, level=level)
        hits += r.lo <= true_diff <= r.hi
    return hits / n_sim
