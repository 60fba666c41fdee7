"""The best configuration of a family (or any subset of cells) at one dataset and size.

`best` is the one place that picks it: on validation scores, among the configurations that
ran on every seed; `partial_configs` names those left out for running on fewer seeds, and
`default_vs_tuned` sets each model's tuned configuration against its default one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.report.analysis.outcomes import paired


@dataclass(frozen=True)
class Best:
    """The best configuration of a set of cells at one (dataset, size)."""

    label: str
    scores: pd.Series  # test score per seed
    n_params: float  # median learned parameters over seeds (nan when unknown)
    chosen_on: str  # "validation" or "test" (old rows without a validation score)


def best(df: pd.DataFrame, *, family: str | None = None, features: str | None = None) -> Best | None:
    """The configuration of `df` (one dataset, one size) chosen on validation, with its test scores.

    The choice is the highest mean `val_score` over seeds among the configurations that ran on
    every seed of `df` (the score on a validation part
    of the training rows); where any candidate lacks one (tables from before validation
    scores), the highest mean test score, and `chosen_on` says so. `family` and `features`
    narrow the candidates first; ties go to the first label in sorted order. None when no
    cell is left.
    """
    sub = df
    if family is not None:
        sub = sub[sub["family"] == family]
    if features is not None:
        sub = sub[sub["features"] == features]
    if sub.empty:
        return None
    on_val = "val_score" in sub.columns and bool(np.isfinite(sub["val_score"].astype("float64")).all())
    # Candidates are the configurations that ran on every seed of the group (a suite may tune
    # on fewer seeds than it runs defaults): a mean over one seed against means over three
    # would favour luck, and a verdict on one seed has no interval. Where none ran on every
    # seed, all compete on the seeds they share.
    full = full_coverage(sub)
    sub = sub[sub["config"].isin(full)] if full else _on_shared_seeds(sub)
    means = sub.groupby("config")["val_score" if on_val else "score"].mean().sort_index()
    label = str(means.idxmax())
    rows = sub[sub["config"] == label]
    n_params = float(rows["n_params"].median()) if rows["n_params"].notna().any() else float("nan")
    return Best(label, rows.groupby("seed")["score"].mean(), n_params, "validation" if on_val else "test")


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
