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
  draws holding both sources, so their spread estimates the whole variance; but a few seeds'
  spread can come out far below the test rows' own variance by chance, and that part is known
  from the rows, so the variance is the larger of the two and the degrees of freedom are
  Welch-Satterthwaite's with the seeds' part counted whole (about k - 1 where the spread
  dominates; rules' version 7, `_split_per_seed`, shared with `from_differences`). One seed:
  the test-row interval alone, and the method says that training variance was not estimable;
- **one test set shared by every seed** (an official split): the test-row variance of the
  seed-averaged row differences plus the between-seed variance over k, with
  Welch-Satterthwaite degrees of freedom. Deterministic models (every seed alike) are
  judged by their test rows, never by a zero-width interval;
- a floor when no row differs (the two configurations agree on every test row): the
  rule of three bounds the discordance rate by 3/n, so the interval is never of zero width;
- `mcnemar_p`: the exact McNemar test (a binomial test on the discordant rows) for a
  one-seed classification comparison.

`from_scores` is the fallback for run folders that kept no predictions (results/reference*):
each configuration's test-row variance from its score and the test rows alone (binomial for
accuracy, a delta method for R²), added unpaired (conservative: paired predictions are
positively correlated, which only narrows the interval), combined with the seeds' spread.
`SeedLosses` carries per-row losses instead of predictions, so a pool's expected best (a
weighted mixture of configurations, `bench.report.analysis.choosing.pool`) is compared the
same way. `combine` gives the difference of two differences (the gain of a gap with data).

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
class SeedLosses:
    """One seed's test labels and the two sides' per-row losses: 1 - correct (accuracy; a
    pool's mixture gives fractions) or the squared error (R²)."""

    y: np.ndarray
    la: np.ndarray
    lb: np.ndarray


def losses(task: str, s: SeedPredictions) -> SeedLosses:
    """A seed's predictions as per-row losses."""
    y, a, b = (np.asarray(v) for v in (s.y, s.a, s.b))
    if task == "classification":
        return SeedLosses(y, (a != y).astype(float), (b != y).astype(float))
    y, a, b = (v.astype(float) for v in (y, a, b))
    return SeedLosses(y, (y - a) ** 2, (y - b) ** 2)


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
    se: float = float("nan")  # the interval's standard error: half-width / q
    df: float = float("inf")  # its degrees of freedom (inf: normal)
    basis: str = "predictions"  # "predictions" (paired, row by row) or "scores" (the fallback)

    @property
    def decided(self) -> bool:
        return math.isfinite(self.lo) and math.isfinite(self.hi)

    def text(self, digits: int = 3) -> str:
        f = f"{{:+.{digits}f}}"
        return f"{f.format(self.diff)} [{f.format(self.lo)}, {f.format(self.hi)}]"


def _row_terms(task: str, s: SeedLosses) -> tuple[float, np.ndarray]:
    """(difference, per-row influence terms whose mean is 0 and whose variance / n is the
    difference's test-row variance). Accuracy: the rows' correctness differences. R²: the
    ratio (SSE_b - SSE_a) / SST linearised (delta method), so SST's own sampling counts."""
    u = np.asarray(s.lb, dtype=float) - np.asarray(s.la, dtype=float)
    if task == "classification":
        return float(u.mean()), u - u.mean()
    y = np.asarray(s.y, dtype=float)
    w = (y - y.mean()) ** 2
    wbar = float(w.mean())
    if wbar == 0:
        return float("nan"), np.zeros_like(u)
    d = float(u.mean() / wbar)
    return d, (u - d * w) / wbar


def _discordant(task: str, s: SeedLosses) -> int:
    return int((np.asarray(s.la) != np.asarray(s.lb)).sum())


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


def _mcnemar_losses(s: SeedLosses) -> float | None:
    """McNemar's exact p from 0/1 losses (None for a pool's fractional losses)."""
    la, lb = np.asarray(s.la, dtype=float), np.asarray(s.lb, dtype=float)
    if not (np.isin(la, (0.0, 1.0)).all() and np.isin(lb, (0.0, 1.0)).all()):
        return None
    y = np.zeros(len(la), dtype=int)
    return mcnemar_p(SeedPredictions(y, la.astype(int), lb.astype(int)))


def paired_difference(
    seeds: Sequence[SeedPredictions | SeedLosses], task: str, *, shared_rows: bool, level: float = LEVEL
) -> PairedDifference:
    """Score(a) - score(b) over seeds with an interval counting test rows and seeds.

    `shared_rows`: every seed was tested on the same rows in the same order (an official
    split); otherwise each seed drew its own test rows. A seed is given as predictions
    (`SeedPredictions`) or as per-row losses (`SeedLosses`, e.g. a pool's mixture).
    """
    if not seeds:
        raise ValueError("no seed to compare")
    seeds = [losses(task, s) if isinstance(s, SeedPredictions) else s for s in seeds]
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
        v = _test_row_variance(task, terms[0][1], seeds[0], floor)
        q, df = _z(level), float("inf")
        method = "one seed: test-row variance only (training variance not estimable)"
    else:
        # Each seed's difference holds its own test rows' error, so the seeds' spread estimates the
        # whole variance; but from a few seeds it can come out far below that error by chance (three
        # seeds agreeing to 0.002 on 666 test rows each). The test rows' variance is known from the
        # rows themselves, so the interval is never narrower than it (`_split_per_seed`).
        v_seeds = float(d.var(ddof=1) / k)
        v_rows = float(np.mean([_test_row_variance(task, t[1], s, floor) for t, s in zip(terms, seeds, strict=True)])) / k
        v, df, which = _split_per_seed(v_seeds, v_rows, n, k)
        q = _t(df, level)
        method = f"a split per seed: the {k} seeds' differences (each holds its test rows' error), {which}"
    half = q * math.sqrt(v)
    p = _mcnemar_losses(seeds[0]) if task == "classification" and k == 1 else None
    return PairedDifference(diff, diff - half, diff + half, k, n, method, p, level, math.sqrt(v), df)


def _test_row_variance(task: str, term: np.ndarray, seed: SeedLosses, floor: float) -> float:
    """One seed's test-row variance of its difference (its row terms' variance over n), never below
    the rule of three's `floor` where no row is discordant."""
    v = float(term.var(ddof=1) / len(term)) if len(term) > 1 else 0.0
    return v if _discordant(task, seed) else max(v, floor)


def _split_per_seed(v_seeds: float, v_rows: float, n: int, k: int) -> tuple[float, float, str]:
    """(variance, degrees of freedom, which part set the variance, for the method's text) of the mean
    of k seeds' differences, each seed on its own test rows: `v_seeds` the seeds' spread over k,
    `v_rows` the mean test-row variance over k.

    The spread estimates the whole variance (training and test rows), but from a few seeds it can
    come out far below the test rows' share, which is known from the rows; so the larger of the
    two (rules' version 7; before, the spread alone). Degrees of freedom as for a shared test set
    (Welch-Satterthwaite with the seeds' part counted whole): about k - 1 where the spread
    dominates, rising towards the normal as the test rows' variance does, so a spread small by
    chance does not also buy a normal quantile."""
    v = max(v_seeds, v_rows)
    parts = [(v_rows, n - 1)] + ([(v_seeds, k - 1)] if v_seeds > 0 else [])
    denom = sum(p**2 / f for p, f in parts if f > 0)
    which = "their " + ("spread" if v_seeds >= v_rows else "test rows' variance (larger than their spread)")
    return v, (v**2 / denom if v > 0 and denom > 0 else float("inf")), which + ", Welch-Satterthwaite t"


# ---------------------------------------------------------------- without predictions


def score_variance(task: str, score: float, n: int) -> float:
    """The test-row variance of one configuration's score on n rows, from the score alone.

    Accuracy: binomial, p(1 - p) / n with the Agresti-Coull p = (correct + 2) / (n + 4), never
    zero (a perfect score on 50 rows is not certain). R²: the delta method for
    1 - MSE / Var(y) with Gaussian errors, taking MSE and Var(y) as independent (their
    correlation is positive, so this overstates it): 4 (1 - R²)² / n, with 1 - R² floored at
    3 / n (the rule of three's bound) so a perfect fit keeps some width.
    """
    if n <= 0 or not math.isfinite(score):
        return float("nan")
    if task == "classification":
        p = (score * n + 2) / (n + 4)
        return p * (1 - p) / n
    return 4 * max(1 - score, 3 / n) ** 2 / n


def from_scores(a: Sequence[float], b: Sequence[float], n_test: Sequence[int], task: str, *, shared_rows: bool,
                level: float = LEVEL, va: Sequence[float] | None = None, vb: Sequence[float] | None = None) -> PairedDifference:
    """Score(a) - score(b) over seeds with an interval, when no predictions were kept.

    `a`, `b`: each seed's scores; `n_test`: each seed's test rows; `va`, `vb`: each seed's
    test-row variance of a and b when already known (a pool's), else `score_variance`. The
    two sides' test-row variances add as if independent (unpaired: conservative). Then:
    one seed, that variance alone (normal); a split per seed, the larger of the seeds'
    spread (Student's t, k - 1 degrees of freedom) and the mean test-row variance, over k;
    one shared test set, the test-row variance (not divided by k: the rows are the same)
    plus the seeds' spread over k (Welch-Satterthwaite degrees of freedom).
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    n = np.asarray(n_test, dtype=float)
    k = len(a)
    if k == 0 or len(b) != k or len(n) != k:
        raise ValueError("from_scores needs one score of each side and one test-row count per seed")
    va = np.array([score_variance(task, s, int(m)) for s, m in zip(a, n, strict=True)]) if va is None else np.asarray(va, float)
    vb = np.array([score_variance(task, s, int(m)) for s, m in zip(b, n, strict=True)]) if vb is None else np.asarray(vb, float)
    what = ("scores only (no predictions kept): each side's test-row variance from its score and "
            f"{int(n.min()):,} test rows ({'binomial' if task == 'classification' else 'delta method for R²'}), "
            "added unpaired (conservative)")
    return from_differences(a - b, va + vb, int(n.min()), shared_rows=shared_rows, what=what, level=level)


def from_differences(d: Sequence[float], v_rows: Sequence[float], n: int, *, shared_rows: bool, what: str,
                     level: float = LEVEL) -> PairedDifference:
    """The mean of per-seed differences `d` whose test-row variances are `v_rows` (from scores:
    `from_scores`, or a gap's four scores), with the seeds' spread: one seed, the test-row
    variance alone (normal); a split per seed, the larger of the seeds' spread (Student's t,
    k - 1 degrees of freedom) and the mean test-row variance, over k; one shared test set, the
    test-row variance (not divided by k) plus the seeds' spread over k (Welch-Satterthwaite)."""
    d, vr = np.asarray(d, dtype=float), np.asarray(v_rows, dtype=float)
    k = len(d)
    diff = float(d.mean()) if k else float("nan")
    v_rows = float(np.mean(vr)) if k else float("nan")
    if not (math.isfinite(diff) and math.isfinite(v_rows)):
        nan = float("nan")
        return PairedDifference(nan, nan, nan, k, n, "not defined: a score or test-row count is missing", basis="scores")
    if k == 1:
        v, df = v_rows, float("inf")
        method = f"{what}; one seed, so training variance not estimable"
    elif shared_rows:
        v_seeds = float(d.var(ddof=1) / k)
        v = v_rows + v_seeds
        parts = [(v_rows, float(n) - 1)] + ([(v_seeds, k - 1)] if v_seeds > 0 else [])
        denom = sum(p**2 / f for p, f in parts if f > 0)
        df = v**2 / denom if v > 0 and denom > 0 else float("inf")
        method = f"{what}; one test set shared by every seed: plus the {k} seeds' spread, Welch-Satterthwaite t"
    else:
        v_seeds = float(d.var(ddof=1) / k)
        v, df, which = _split_per_seed(v_seeds, v_rows / k, n, k)
        method = f"{what}; a split per seed: the {k} seeds' differences, {which}"
    half = _t(df, level) * math.sqrt(v)
    return PairedDifference(diff, diff - half, diff + half, k, n, method, None, level, math.sqrt(v), df, "scores")


def combine(a: PairedDifference, b: PairedDifference, level: float = LEVEL) -> PairedDifference:
    """a - b, two differences measured at different training sizes, with their variances added
    (taken as independent: where they share test rows the covariance is positive, so this is
    conservative) and Welch-Satterthwaite degrees of freedom."""
    diff = a.diff - b.diff
    va, vb = a.se**2, b.se**2
    v = va + vb
    if not (math.isfinite(diff) and math.isfinite(v)):
        nan = float("nan")
        return PairedDifference(nan, nan, nan, min(a.n_seeds, b.n_seeds), min(a.n_test, b.n_test), "not defined", basis=a.basis)
    denom = sum(p**2 / f for p, f in ((va, a.df), (vb, b.df)) if p > 0)
    df = v**2 / denom if v > 0 and denom > 0 else float("inf")
    half = _t(df, level) * math.sqrt(v)
    basis = "predictions" if a.basis == b.basis == "predictions" else "scores"
    return PairedDifference(diff, diff - half, diff + half, min(a.n_seeds, b.n_seeds), min(a.n_test, b.n_test),
                            "the two sizes' differences with their variances added (independent, conservative)",
                            None, level, math.sqrt(v), df, basis)


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
                      n_sim: int = 400, level: float = LEVEL, seed: int = 0, pool: int | None = None) -> float:
    """Share of `n_sim` simulated comparisons whose interval covers the true difference.

    `pool`: with a split per seed, each seed's n test rows are drawn from one finite file of
    `pool` rows (drawn afresh per comparison), as a user's file gives them to `bench advise`,
    so that seeds share test rows (n / pool of them, on average) and the file's own draw counts;
    None: every seed's test rows are new rows of the population."""
    if pool is not None and (shared_rows or pool < n):
        raise ValueError(f"pool of {pool} rows: needs a split per seed and at least n = {n} rows")
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(n_sim):
        rows = rng.random((n, 3)) if shared_rows else None
        file = rng.random((pool, 3)) if pool is not None else None
        seeds = [_draw(rng, task, n, true_diff, seed_sd,
                       rows if file is None else file[rng.choice(pool, n, replace=False)]) for _ in range(k)]
        r = paired_difference(seeds, task, shared_rows=shared_rows, level=level)
        hits += r.lo <= true_diff <= r.hi
    return hits / n_sim
