"""Statistics across seeds and datasets: bootstrap intervals, ranks, the Friedman test.

- `bootstrap_ci`: a confidence interval for a mean difference, resampling datasets and
  then seeds within each (a two-level bootstrap; one level with a single dataset), with
  a fixed random seed so two builds of a report print the same interval;
- `decide`: a difference against a threshold: decided only when its interval lies on one
  side; otherwise it is within noise;
- `rank_table`, `friedman`, `nemenyi`: average ranks of configurations over datasets,
  the Friedman test (scipy) and the Nemenyi post-hoc p-values (scikit-posthocs) behind
  the critical-difference diagram;
- `family_ranks`: the two families' best configurations ranked per dataset, with the
  Wilcoxon signed-rank test (scipy) of their differences;
- `signed_rank`: the Bayesian signed-rank test (baycomp) of per-dataset differences with a
  region of practical equivalence: the posterior probabilities that the difference lies
  below it, within it or above it, a test made for comparisons over few datasets.

`bootstrap_ci` resamples datasets and seeds, never test rows: the claims' per-dataset
intervals come from `bench.report.paired` (test rows and seeds) instead; it remains for
quantities with no test-row error of their own (cost ratios).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

LEVEL = 0.95
N_BOOT = 2000
SEED = 20261120  # fixed: intervals are part of the report's bytes


@dataclass(frozen=True)
class Interval:
    mean: float
    lo: float
    hi: float
    n_groups: int  # datasets (or other groups) resampled
    n_values: int  # values behind the mean

    def text(self, digits: int = 3, sign: bool = True) -> str:
        if not math.isfinite(self.mean):
            return "n/a"
        f = f"{{:{'+' if sign else ''}.{digits}f}}"
        if not (math.isfinite(self.lo) and math.isfinite(self.hi)):
            return f"{f.format(self.mean)} [one value: no interval]"
        return f"{f.format(self.mean)} [{f.format(self.lo)}, {f.format(self.hi)}]"


NAN_INTERVAL = Interval(float("nan"), float("nan"), float("nan"), 0, 0)


def bootstrap_ci(
    values: pd.DataFrame, column: str, group: str = "dataset", *, level: float = LEVEL, n_boot: int = N_BOOT
) -> Interval:
    """Mean of `column` over groups (each group's own mean first), with a bootstrap interval.

    Groups (datasets) are resampled with replacement, then the values (seeds) within each
    drawn group; the interval is the percentile interval of the resampled means. A single
    value has no interval (lo and hi are NaN): resampling it would return it unchanged, an
    interval of width zero that `decide` would read as certainty.
    """
    v = values[[group, column]].dropna()
    v = v[np.isfinite(v[column].astype("float64"))]
    if v.empty:
        return NAN_INTERVAL
    if len(v) == 1:
        return Interval(float(v[column].iloc[0]), float("nan"), float("nan"), 1, 1)
    groups = [g[column].to_numpy(dtype="float64") for _, g in v.groupby(group, sort=True)]
    mean = float(np.mean([g.mean() for g in groups]))
    rng = np.random.default_rng(SEED)
    k = len(groups)
    means = np.empty(n_boot)
    picks = rng.integers(0, k, size=(n_boot, k)) if k > 1 else np.zeros((n_boot, 1), dtype=int)
    inner = [rng.integers(0, len(g), size=(n_boot, len(g))) for g in groups]
    per_group = np.stack([g[idx].mean(axis=1) for g, idx in zip(groups, inner, strict=True)], axis=1)
    means = np.take_along_axis(per_group, picks, axis=1).mean(axis=1)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(means, [alpha, 1 - alpha])
    return Interval(mean, float(lo), float(hi), k, len(v))


def decide(interval: Interval, threshold: float) -> str:
    """`above` or `below` `threshold` when the whole interval is, else `noise` (also without an interval)."""
    if not (math.isfinite(interval.mean) and math.isfinite(interval.lo) and math.isfinite(interval.hi)):
        return "noise"
    if interval.lo > threshold:
        return "above"
    if interval.hi < threshold:
        return "below"
    return "noise"


# ---------------------------------------------------------------- ranks


def block_scores(ok: pd.DataFrame) -> pd.DataFrame:
    """Mean test score per (dataset at its largest size, configuration): a datasets × configs table."""
    if ok.empty:
        return pd.DataFrame()
    largest = ok.groupby("dataset")["n_train"].transform("max") == ok["n_train"]
    return ok[largest].groupby(["dataset", "config"])["score"].mean().unstack("config").sort_index(axis=1)


def rank_table(ok: pd.DataFrame) -> pd.DataFrame:
    """Average rank (1 = best) of each configuration over the datasets it ran on."""
    scores = block_scores(ok)
    cols = ["config", "family", "mean_rank", "n_datasets"]
    if scores.empty:
        return pd.DataFrame(columns=cols)
    ranks = scores.rank(axis=1, ascending=False, method="average")
    fams = ok.groupby("config")["family"].first()
    out = pd.DataFrame({
        "config": ranks.columns, "family": [str(fams[c]) for c in ranks.columns],
        "mean_rank": ranks.mean(axis=0).to_numpy(), "n_datasets": ranks.notna().sum(axis=0).to_numpy(),
    })
    return out.sort_values(["mean_rank", "config"]).reset_index(drop=True)


def complete_blocks(ok: pd.DataFrame) -> pd.DataFrame:
    """The datasets × configurations scores restricted to configurations that ran on every dataset."""
    scores = block_scores(ok)
    if scores.empty:
        return scores
    return scores.loc[:, scores.notna().all(axis=0)]


@dataclass(frozen=True)
class Friedman:
    statistic: float
    p: float
    n_datasets: int
    n_configs: int
    mean_ranks: pd.Series  # by configuration, over the complete blocks


def friedman(scores: pd.DataFrame) -> Friedman | None:
    """Friedman's test that all configurations rank alike (needs 3+ configurations, 2+ datasets)."""
    if scores.shape[0] < 2 or scores.shape[1] < 3:
        return None
    from scipy.stats import friedmanchisquare

    stat, p = friedmanchisquare(*[scores[c].to_numpy() for c in scores.columns])
    ranks = scores.rank(axis=1, ascending=False, method="average").mean(axis=0)
    return Friedman(float(stat), float(p), scores.shape[0], scores.shape[1], ranks)


def nemenyi(scores: pd.DataFrame) -> pd.DataFrame:
    """Nemenyi post-hoc p-values between configurations (scikit-posthocs), datasets as blocks."""
    import scikit_posthocs as sp

    return sp.posthoc_nemenyi_friedman(scores.to_numpy()).set_axis(scores.columns, axis=0).set_axis(scores.columns, axis=1)


@dataclass(frozen=True)
class FamilyRanks:
    deep: float  # average rank of the best deep configuration (1 = ahead on every dataset)
    classical: float
    n_datasets: int
    wilcoxon_p: float  # nan with fewer than 2 datasets or no differences


def family_ranks(rec: pd.DataFrame) -> FamilyRanks | None:
    """Best deep against best classical per dataset at its largest compared size, from the
    win records (`analysis.win_records`: one row per dataset, size and seed, with `diff`)."""
    if rec.empty:
        return None
    largest = rec.groupby("dataset")["n_train"].transform("max") == rec["n_train"]
    diff = rec[largest].groupby("dataset")["diff"].mean()
    deep = np.where(diff > 0, 1.0, np.where(diff < 0, 2.0, 1.5))
    p = float("nan")
    if len(diff) >= 2 and (diff != 0).any():
        from scipy.stats import wilcoxon

        p = float(wilcoxon(diff.to_numpy()).pvalue)
    return FamilyRanks(float(deep.mean()), float((3 - deep).mean()), len(diff), p)


# ---------------------------------------------------------------- across datasets

SIGNED_RANK_SAMPLES = 5_000  # posterior draws: probabilities to about ±0.007
DECISIVE = 0.95  # a posterior probability this high decides


@dataclass(frozen=True)
class SignedRank:
    """Posterior probabilities from the Bayesian signed-rank test of per-dataset differences."""

    below: float  # P(difference < -rope)
    within: float  # P(|difference| <= rope)
    above: float  # P(difference > rope)
    n_datasets: int
    rope: float

    def text(self, unit: str = "dataset") -> str:
        return (f"P(below −{self.rope:g}) = {self.below:.2f}, P(within ±{self.rope:g}) = {self.within:.2f}, "
                f"P(above +{self.rope:g}) = {self.above:.2f} ({self.n_datasets} {unit}{'s' if self.n_datasets != 1 else ''})")


def signed_rank(diffs, rope: float) -> SignedRank | None:
    """The Bayesian signed-rank test (Benavoli et al. 2017; `baycomp.SignedRankTest`, prior 0.5 at
    a zero difference) of per-dataset differences against a ROPE of ±`rope`, with a fixed random
    state so a report rebuilds byte-identical. None without two finite differences."""
    d = tuple(float(x) for x in diffs if math.isfinite(float(x)))
    return _signed_rank(d, float(rope)) if len(d) >= 2 else None


@functools.lru_cache(maxsize=256)
def _signed_rank(d: tuple[float, ...], rope: float) -> SignedRank:
    from baycomp import SignedRankTest

    x = np.asarray(d, dtype="float64")
    below, within, above = SignedRankTest.probs(np.zeros_like(x), x, rope, nsamples=SIGNED_RANK_SAMPLES, random_state=SEED)
    return SignedRank(float(below), float(within), float(above), int(x.size), rope)
