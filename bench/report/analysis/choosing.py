"""The best configuration of a family (or any subset of cells) at one dataset and size.

`best` is the one place that picks it: on the cross-validated score of the training rows
(`val_score_cv`) where the table has one, else on the validation score, among the
configurations that ran on every seed. Two configurations whose mean validation scores lie
within one validation row of each other (1 / n_validation; 1 / n_train for the
cross-validated score, every training row being validated once) are tied; a tie is
reported (`Best.tied`), and the highest mean is chosen (rules version 8: version 2 to 7
gave a tie to the cheaper fit, which chose weaker configurations and cost both families
test score, docs/rules-changelog.md). Only means equal to within 1e-12 go to the cheaper
fit (median fit CPU seconds, a tuned configuration's search included), then the label.
Selection regret (the test score of the candidate best on test minus the chosen one's) is
kept as a diagnostic (`Best.regret`), never used to choose.

`pool` is a family's expected best from as many candidates as another family has: the
mean, over every equal-size subset of its candidates, of the test score of the one the
rule would choose in that subset (exact, by rank: see `pool`).

`partial_configs` names the configurations left out for running on fewer seeds, and
`default_vs_tuned` sets each model's tuned configuration against its default one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.report.analysis.outcomes import paired


@dataclass(frozen=True)
class Best:
    """The best configuration of a set of cells at one (dataset, size)."""

    label: str
    scores: pd.Series  # test score per seed (a pool's: the weighted mean over its members)
    n_params: float  # median learned parameters over seeds (nan when unknown)
    chosen_on: str  # "cross-validation", "validation" or "test" (old rows without a validation score)
    tied: tuple[str, ...] = ()  # the other candidates tied with the chosen one on validation
    regret: float = float("nan")  # best candidate's mean test score minus the chosen one's (diagnostic only)
    n_candidates: int = 1  # configurations it was chosen from
    weights: tuple[tuple[str, float], ...] = ()  # a pool's members and weights; () for one configuration

    @property
    def configs(self) -> tuple[tuple[str, float], ...]:
        """(label, weight) of what the scores are made of: the chosen configuration, or a pool's members."""
        return self.weights or ((self.label, 1.0),)


def selection_column(df: pd.DataFrame) -> str | None:
    """The score configurations are chosen by: `val_score_cv` where every row has one, else
    `val_score` where every row has one, else None (old tables: the test score)."""
    for col in ("val_score_cv", "val_score"):
        if col in df.columns and len(df) and bool(np.isfinite(df[col].astype("float64")).all()):
            return col
    return None


def tie_tolerance(df: pd.DataFrame, column: str | None) -> float:
    """One validation row's worth of score: 1 / rows validated (the median over `df`'s cells)."""
    rows = "n_train" if column == "val_score_cv" else "n_validation"
    if column is None or rows not in df.columns:
        return 0.0
    n = pd.to_numeric(df[rows], errors="coerce").dropna()
    n = n[n > 0]
    return float(1.0 / n.median()) if len(n) else 0.0


def _cost(df: pd.DataFrame) -> pd.Series:
    """Median fit CPU seconds (search included) per configuration: the tie rule's cost."""
    fit = pd.to_numeric(df["fit_cpu_s"], errors="coerce") if "fit_cpu_s" in df.columns else pd.Series(0.0, index=df.index)
    search = pd.to_numeric(df["search_cpu_s"], errors="coerce").fillna(0.0) if "search_cpu_s" in df.columns else 0.0
    return (fit.fillna(math.inf) + search).groupby(df["config"]).median()


def ranking(sub: pd.DataFrame) -> tuple[list[str], str | None, dict[str, tuple[str, ...]]]:
    """The candidates of `sub` in the order the rule chooses them, the column it read, and the
    ties met on the way: the rule (highest validation mean; equal means, the cheaper fit;
    equal costs, the label; the others within one validation row named as tied) is applied
    to the candidates, then again to those left, and so on. Independent of row order."""
    col = selection_column(sub)
    means = sub.groupby("config")[col if col else "score"].mean()
    cost = _cost(sub)
    tol = tie_tolerance(sub, col) + 1e-12
    left = sorted(str(c) for c in means.index)
    order, ties = [], {}
    while left:
        top = max(float(means[c]) for c in left)
        tied = [c for c in left if float(means[c]) >= top - tol]
        # The highest mean is chosen; only candidates equal to it (to 1e-12) go to the cheaper fit,
        # then the label. The others within one row are named as tied, not chosen among by cost.
        pick = min(tied, key=lambda c: (float(means[c]) < top - 1e-12, float(cost.get(c, math.inf)), c))
        ties[pick] = tuple(c for c in tied if c != pick)
        order.append(pick)
        left.remove(pick)
    return order, col, ties


def _candidates(df: pd.DataFrame, family: str | None, features: str | None) -> pd.DataFrame:
    sub = df
    if family is not None:
        sub = sub[sub["family"] == family]
    if features is not None:
        sub = sub[sub["features"] == features]
    if sub.empty:
        return sub
    # Candidates are the configurations that ran on every seed of the group (a suite may tune
    # on fewer seeds than it runs defaults): a mean over one seed against means over three
    # would favour luck. Where none ran on every seed, all compete on the seeds they share.
    full = full_coverage(sub)
    return sub[sub["config"].isin(full)] if full else _on_shared_seeds(sub)


def candidates(df: pd.DataFrame, family: str | None = None, features: str | None = None) -> pd.DataFrame:
    """The cells of the configurations that compete in `best` (those that ran on every seed)."""
    return _candidates(df, family, features)


def _chosen_on(col: str | None) -> str:
    return {"val_score_cv": "cross-validation", "val_score": "validation"}.get(col or "", "test")


def best(df: pd.DataFrame, *, family: str | None = None, features: str | None = None) -> Best | None:
    """The configuration of `df` (one dataset, one size) chosen on validation, with its test scores.

    The choice is the highest mean selection score over seeds (`selection_column`: the
    cross-validated score where the table has it, else the validation score) among the
    configurations that ran on every seed of `df` (`ranking`: equal means go to the cheaper
    fit), and the others within one validation row of it are named in `tied`. Where any
    candidate lacks a validation score (tables from before validation scores), the highest
    mean test score, and `chosen_on` says so. `family` and `features` narrow the candidates
    first. None when no cell is left.
    """
    sub = _candidates(df, family, features)
    if sub.empty:
        return None
    order, col, ties = ranking(sub)
    label = order[0]
    rows = sub[sub["config"] == label]
    n_params = float(rows["n_params"].median()) if rows["n_params"].notna().any() else float("nan")
    tests = sub.groupby("config")["score"].mean()
    regret = float(tests.max() - tests[label])
    return Best(label, rows.groupby("seed")["score"].mean(), n_params, _chosen_on(col), ties[label], regret, len(order))


def pool(df: pd.DataFrame, m: int, *, family: str | None = None, features: str | None = None) -> Best | None:
    """The expected best of `m` candidates drawn at random from `df`'s (one dataset, one size).

    With the N candidates in the rule's order (`ranking`), the one ranked r is chosen in a
    random m-subset exactly when it is in the subset and the r - 1 ahead of it are not:
    probability C(N - r, m - 1) / C(N, m). The pool's test score per seed is the weighted mean
    of its members' (`weights` lists them); `regret` is the expected regret over the subsets.
    Same as `best` when m >= N.
    """
    sub = _candidates(df, family, features)
    if sub.empty:
        return None
    order, col, ties = ranking(sub)
    n = len(order)
    if m >= n:
        return best(df, family=family, features=features)
    if m < 1:
        raise ValueError(f"pool of {m} candidates: needs at least one")
    total = math.comb(n, m)
    w = {c: math.comb(n - r, m - 1) / total for r, c in enumerate(order, start=1)}
    w = {c: x for c, x in w.items() if x > 0}
    per = sub.groupby(["config", "seed"])["score"].mean().unstack("seed")
    scores = sum(per.loc[c] * x for c, x in w.items())
    # Expected regret: in each subset, its best test score minus its chosen one's.
    tests = sub.groupby("config")["score"].mean()
    by_test = sorted(order, key=lambda c: -float(tests[c]))
    best_test = sum(float(tests[c]) * math.comb(n - r, m - 1) / total for r, c in enumerate(by_test, start=1))
    regret = best_test - sum(float(tests[c]) * x for c, x in w.items())
    params = sub.groupby("config")["n_params"].median()
    n_params = float(sum(params[c] * x for c, x in w.items())) if params.notna().all() else float("nan")
    label = f"a random one of {n} (their mean)" if m == 1 else f"expected best of {m} of {n} (top: {order[0]})"
    return Best(label, scores.astype("float64").rename(None), n_params, _chosen_on(col), ties[order[0]], float(regret), n,
                tuple(sorted(w.items(), key=lambda kv: -kv[1])))


SELECTION_COLUMNS = ["dataset", "n_train", "family", "chosen", "chosen_on", "candidates", "tied", "regret"]


def selections(ok: pd.DataFrame) -> pd.DataFrame:
    """Every family's choice at every (dataset, size): what was chosen, on what, from how many,
    which candidates tied with it on validation, and its selection regret (diagnostic only)."""
    rows = []
    for (dataset, n, family), g in ok.groupby(["dataset", "n_train", "family"], sort=True):
        b = best(g)
        if b is None:
            continue
        rows.append({"dataset": dataset, "n_train": int(n), "family": str(family), "chosen": b.label,
                     "chosen_on": b.chosen_on, "candidates": b.n_candidates, "tied": ", ".join(b.tied),
                     "regret": b.regret})
    return pd.DataFrame(rows, columns=SELECTION_COLUMNS)


def full_coverage(df: pd.DataFrame) -> list[str]:
    """The configurations of `df` that ran on every seed any of them ran."""
    seeds = set(df["seed"].tolist())
    per = df.groupby("config")["seed"].agg(lambda s: set(s.tolist()))
    return sorted(str(c) for c, got in per.items() if got == seeds)


def _on_shared_seeds(df: pd.DataFrame) -> pd.DataFrame:
    per = df.groupby("config")["seed"].agg(lambda s: set(s.tolist()))
    common = set.intersection(*per) if len(per) else set()
    return df[df["seed"].isin(common)] if common else df


def partial_configs(ok: pd.DataFrame) -> list[str]:
    """Configurations left out of some choice because they ran on fewer seeds than the others there."""
    out: set[str] = set()
    for _, g in ok.groupby(["dataset", "n_train"], sort=False):
        full = full_coverage(g)
        if full:
            out |= set(g["config"].astype(str)) - set(full)
    return sorted(out)


def default_vs_tuned(ok: pd.DataFrame) -> pd.DataFrame:
    """Per model and feature variant, at each dataset's largest size: default and tuned test scores
    on the seeds both ran, their difference per seed, and the tuned cells' search CPU seconds."""
    if ok.empty or "tuning" not in ok or not (ok["tuning"] == "tuned").any():
        return pd.DataFrame()
    at = ok[ok.groupby("dataset")["n_train"].transform("max") == ok["n_train"]]
    rows = []
    for (dataset, model, features), g in at.groupby(["dataset", "model", "features"], sort=True):
        d = g[g["tuning"].fillna("default") != "tuned"].groupby("seed")["score"].mean()
        t = g[g["tuning"] == "tuned"]
        if d.empty or t.empty:
            continue
        diff = paired(t.groupby("seed")["score"].mean(), d)
        for seed, value in diff.items():
            rows.append({
                "dataset": dataset, "model": model, "features": features, "seed": seed,
                "default": float(d[seed]), "tuned": float(value + d[seed]), "diff": float(value),
                "search_cpu_s": float(t.loc[t["seed"] == seed, "search_cpu_s"].fillna(0).mean())
                if "search_cpu_s" in t else float("nan"),
            })
    return pd.DataFrame(rows)
