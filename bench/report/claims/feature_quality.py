"""Classical methods' quality depends strongly on the quality of the features."""

from __future__ import annotations

import pandas as pd

from bench.report import analysis as an
from bench.report import plots
from bench.report.analysis import MARGIN
from bench.report.claims.base import Measurements, Result, Verdict, claim, forest
from bench.report.claims.common import (
    CHOICE,
    INTERVALS,
    NO_CELLS,
    Outcomes,
    at_largest,
    compare,
    interval,
    raw_and_engineered,
    same_models,
    score_of,
)

STRONG = 0.05  # a gain from engineered features above this "strongly" supports the claim

RULE = f"""
On every dataset with classical models on raw and on engineered features, at the largest
size both reach: the best classical configuration on engineered features minus the best on
raw input (paired by seed), the two sides taking the same classical models (those that ran on
both; the engineered side chooses its feature variant too). Engineered features are a feature
variant or a model that builds its own from the raw input (tagged `{an.ENGINEERED_TAG}`, e.g.
TF-IDF + logistic regression), never "raw input". A gain above {STRONG} (five points of
accuracy or R²) supports "strongly depends", a gain below the margin refutes it, a gain
between the two is mixed (features help, not strongly); an interval across either threshold
is inconclusive. {CHOICE} {INTERVALS} Datasets combine by the two-thirds rule.
"""


def figure(v: Verdict, ok: pd.DataFrame, pal: plots.Palette) -> list[plots.Figure]:
    """The gains with their intervals, against both thresholds of the rule."""
    return forest(v, ok, pal, thresholds=(MARGIN, STRONG))


@claim(
    "feature_quality", order=5, aspect="Features and classical quality (seed 002, §1.1)",
    deep="classical methods' quality depends strongly on the quality of the features", rule=RULE, figure=figure,
    version=4,
)
def feature_quality(ms: Measurements) -> Result:
    df = ms.ok
    if df.empty:
        return NO_CELLS
    cl = df[df["family"] == "classical"]
    out = Outcomes()
    top = None  # the largest single-model gain: (gain, model, dataset)
    for dataset, n, at in at_largest(cl, lambda at: raw_and_engineered(at, deep=False)):
        is_eng = an.engineered(at)
        got = compare(at, *same_models(at[is_eng], at[~is_eng]), ms)
        if got is None:
            continue
        eng, raw, gain = got
        strong, some = an.side_of(gain, STRONG), an.side_of(gain, MARGIN)
        outcome = "supports" if strong else "refutes" if some is False else "mixed" if strong is False and some else "inconclusive"
        per_model = []
        for name, h in at.groupby("model", sort=True):
            h_eng = an.engineered(h)
            r = h[~h_eng].groupby("seed")["score"].mean()
            e = h[h_eng].groupby("seed")["score"].mean()
            if len(r) and len(e):
                g = float(an.paired(e, r).mean())
                per_model.append(f"{name} {an.fmt_signed(g, 2)}")
                if g == g and (top is None or g > top[0]):
                    top = (g, name, dataset)
        out.add(dataset, outcome, {
            "dataset": dataset, "n_train": n, "engineered": score_of(eng), "raw": score_of(raw),
            "candidates (engineered / raw)": f"{eng.n_candidates} / {raw.n_candidates}",
            "gain": interval(gain), "gain per model": ", ".join(per_model),
        }, diffs={"engineered − raw": gain}, effect=(f"{dataset} (n={n})", gain))
    reason = an.fmt_tally(out.outcomes)
    if top is not None and top[0] > STRONG and out.outcomes and an.two_thirds(out.outcomes) != "supported":
        # The rule compares each side's best; a single model's larger gain is beside it in the table.
        reason += (f"; the rule compares the best engineered with the best raw configuration, while single "
                   f"models gain up to {an.fmt_signed(top[0], 2)} from engineered features ({top[1]} on {top[2]})")
    return out.result(
        "no dataset has classical models on both raw and engineered features",
        "best engineered − best raw, classical test score", reason=reason,
    )
