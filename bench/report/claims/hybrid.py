"""Deep learning combined with classical algorithms performs better (learned features fed to a classical model)."""

from __future__ import annotations

import pandas as pd

from bench.report import analysis as an
from bench.report.claims.base import Measurements, Result, claim
from bench.report.claims.common import (
    CHOICE,
    INTERVALS,
    NO_CELLS,
    Outcomes,
    at_largest,
    compare,
    interval,
    score_of,
)

RULE = f"""
A hybrid is a model tagged `hybrid` (a network's learned features fed to a classical
model). On every dataset with a hybrid, at its largest size: the best hybrid against the
best of its parts, paired by seed. Its parts are the other models that share one of its
tags (its network's, e.g. `convolutional`, and its classical model's, e.g. `boosting` or
`linear`); a hybrid tagged `hybrid` alone is compared with every other configuration.
Ahead by more than the margin supports, behind by more than the margin refutes, otherwise
inconclusive. Datasets combine by the two-thirds rule. Hybrids are a family of their own
(not deep) in every other rule. The claim is that the combination beats either part, so the
hybrids' best is set against the better of the parts: {CHOICE} {INTERVALS}
"""


def _tags(at: pd.DataFrame) -> pd.Series:
    return at["model_tags"].fillna("").astype(str).str.split(",")


@claim(
    "hybrid", order=6, aspect="Deep and classical combined (seed 004, §2)",
    deep="deep learning combined with classical algorithms performs better (e.g. learned embeddings fed to a classical model)",
    rule=RULE, version=4,
)
def hybrid(ms: Measurements) -> Result:
    df = ms.ok
    if df.empty:
        return NO_CELLS
    is_h = an.has_tag(df, "hybrid")
    out = Outcomes()
    for dataset, n, at in at_largest(df, among=df[is_h]):
        here_h = is_h[at.index]
        h = an.best(at[here_h])
        tags = set().union(*(set(str(t).split(",")) for t in at.loc[here_h & (at["config"] == h.label), "model_tags"].fillna("")))
        tags -= {"hybrid", ""}
        others = at[~here_h]
        parts = _tags(others).apply(lambda t, tags=tags: bool(tags & set(t)))
        got = compare(at, at[here_h], others[parts] if parts.any() else others, ms)
        if got is None:
            continue
        h, o, diff = got
        out.add(dataset, an.outcome_of(diff), {
            "dataset": dataset, "n_train": n, "hybrid": score_of(h),
            "best of its parts" if parts.any() else "best other": score_of(o),
            "candidates (hybrid / other side)": f"{h.n_candidates} / {o.n_candidates}", "hybrid − it": interval(diff),
        }, diffs={"hybrid − best of its parts": diff}, effect=(f"{dataset} (n={n})", diff))
    return out.result(
        "no model feeds learned embeddings to a classical model (none is tagged hybrid)",
        "hybrid − best of its parts, test score",
    )
