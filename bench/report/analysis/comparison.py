"""Two chosen configurations (or pools) compared on one dataset and size, test-set error counted.

`compare` is the one place a claim turns two `Best`s into a difference with an interval
(`bench.report.paired.PairedDifference`):

- where the run folder kept every seed's test predictions of every configuration involved
  (`predictions`: a row -> (y_test, y_pred) or None, e.g. `bench.results.predictions_of`
  bound to the run folder), the paired difference row by row (`paired.paired_difference`;
  a pool's rows are its members' losses weighted as in the pool);
- otherwise the fallback from the scores and the test-row counts (`paired.from_scores`:
  binomial or R² delta-method variance per side, unpaired and so conservative, with the
  seeds' spread).

Either way one seed still gets an interval, and a deterministic model on a fixed split never
gets one of zero width. Whether the seeds share one test set is the dataset's
`official_split` tag.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from bench.report import paired as pr
from bench.report.analysis.choosing import Best
from bench.report.analysis.outcomes import MARGIN
from bench.report.stats import Interval

Predictions = Callable[[pd.Series], "tuple[np.ndarray, np.ndarray] | None"]


def shared_rows(at: pd.DataFrame) -> bool:
    """Every seed is tested on the same rows: the dataset has an official split."""
    if at.empty or "dataset_tags" not in at.columns:
        return False
    return bool(at["dataset_tags"].fillna("").astype(str).str.split(",").apply(lambda t: "official_split" in t).all())


def task_of(at: pd.DataFrame) -> str:
    return "regression" if "task" in at.columns and (at["task"].astype(str) == "regression").all() else "classification"


def _seed_losses(at: pd.DataFrame, b: Best, seed, task: str, predictions: Predictions):
    """(y, per-row loss) of `b` (a configuration or a pool) on one seed, or None when a
    member's predictions are missing or its test rows differ from the others'."""
    y0, total = None, None
    for config, w in b.configs:
        rows = at[(at["config"] == config) & (at["seed"] == seed)]
        if len(rows) != 1:
            return None
        got = predictions(rows.iloc[0])
        if got is None:
            return None
        y, pred = (np.asarray(v) for v in got)
        if len(y) != len(pred) or (y0 is not None and (len(y) != len(y0) or not np.array_equal(y, y0))):
            return None
        loss = pr.losses(task, pr.SeedPredictions(y, pred, pred)).la
        y0, total = y, (loss * w if total is None else total + loss * w)
    return None if y0 is None else (y0, total)


def _n_test(at: pd.DataFrame, b: Best, seeds) -> list[int]:
    members = at[at["config"].isin([c for c, _ in b.configs])]
    per = members.groupby("seed")["n_test"].min() if "n_test" in members.columns else pd.Series(dtype=float)
    return [int(per[s]) if s in per.index and math.isfinite(float(per[s])) else 0 for s in seeds]


def _pool_variance(at: pd.DataFrame, b: Best, seeds, task: str) -> list[float]:
    """A side's test-row variance per seed from scores: a pool's is (Σ w sd)², the bound for a
    weighted mean of correlated scores."""
    out = []
    for s in seeds:
        sd = 0.0
        for config, w in b.configs:
            rows = at[(at["config"] == config) & (at["seed"] == s)]
            score, n = float(rows["score"].mean()), int(rows["n_test"].min()) if "n_test" in rows.columns else 0
            sd += w * math.sqrt(pr.score_variance(task, score, n)) if n > 0 else float("nan")
        out.append(sd**2)
    return out


def compare(at: pd.DataFrame, a: Best, b: Best, predictions: Predictions | None = None) -> pr.PairedDifference:
    """Score(a) − score(b) on the seeds both have, with a 95% interval counting the test rows.

    `at`: the cells of one dataset and size that `a` and `b` were chosen from (with `config`).
    """
    seeds = sorted(set(a.scores.index) & set(b.scores.index))
    if not seeds:
        nan = float("nan")
        return pr.PairedDifference(nan, nan, nan, 0, 0, "no seed in common", basis="scores")
    task, shared = task_of(at), shared_rows(at)
    if predictions is not None:
        kept = []
        for s in seeds:
            la, lb = _seed_losses(at, a, s, task, predictions), _seed_losses(at, b, s, task, predictions)
            if la is None or lb is None or len(la[0]) != len(lb[0]) or not np.array_equal(la[0], lb[0]):
                break
            kept.append(pr.SeedLosses(la[0], la[1], lb[1]))
        else:
            same = shared and all(len(k.y) == len(kept[0].y) and np.array_equal(k.y, kept[0].y) for k in kept)
            return pr.paired_difference(kept, task, shared_rows=same)
    n = _n_test(at, a, seeds)
    n = [min(x, y) for x, y in zip(n, _n_test(at, b, seeds), strict=True)]
    if min(n) <= 0:
        nan = float("nan")
        return pr.PairedDifference(float((a.scores[seeds] - b.scores[seeds]).mean()), nan, nan, len(seeds), 0,
                                   "no test-row count recorded: no interval", basis="scores")
    return pr.from_scores(a.scores[seeds].to_numpy(), b.scores[seeds].to_numpy(), n, task, shared_rows=shared,
                          va=_pool_variance(at, a, seeds, task), vb=_pool_variance(at, b, seeds, task))


def interval(d: pr.PairedDifference) -> Interval:
    """The difference as a `stats.Interval` (for `decide`, `outcome`, `side`)."""
    return Interval(d.diff, d.lo, d.hi, 1, d.n_seeds)


def outcome_of(d: pr.PairedDifference, margin: float = MARGIN) -> str:
    """`supports` beyond +margin, `refutes` beyond −margin, else `inconclusive` (also without an interval)."""
    if not d.decided:
        return "inconclusive"
    return "supports" if d.lo > margin else "refutes" if d.hi < -margin else "inconclusive"


def side_of(d: pr.PairedDifference, threshold: float) -> bool | None:
    """True when the interval lies above `threshold`, False below, None across it (or none)."""
    if not d.decided:
        return None
    return True if d.lo > threshold else False if d.hi < threshold else None


def methods_text(diffs: dict[str, pr.PairedDifference]) -> str:
    """How a set of intervals was made, grouped: `basis: design (keys); design (keys)`, per basis."""
    by: dict[str, dict[str, list[str]]] = {}
    for key, d in diffs.items():
        head, _, design = short_method(d).partition("; ")
        by.setdefault(head, {}).setdefault(design, []).append(key)
    return "; ".join(f"{head}: " + ", ".join(f"{design} ({', '.join(keys)})" for design, keys in designs.items())
                     for head, designs in by.items())


def short_method(d: pr.PairedDifference) -> str:
    """The interval's method in a few words, for a legend under an evidence table."""
    if d.basis == "predictions":
        head = "paired predictions"
    else:
        head = "scores only (unpaired binomial / R² delta method, conservative)"
    if "one seed" in d.method:
        return f"{head}; one seed (test rows only)"
    if "shared" in d.method:
        return f"{head}; one test set shared by the seeds"
    if "two sizes" in d.method:
        return f"{head}; two sizes' differences"
    return f"{head}; a split per seed"
