"""Feature engineering (row 1 of the documents' table): classical needs hand-made features, deep learns its own."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from bench.report import analysis as an
from bench.report import plots
from bench.report.analysis import MARGIN
from bench.report.claims.base import Measurements, Result, Verdict, claim
from bench.report.claims.common import (
    CHOICE,
    FAMILIES,
    INTERVALS,
    NO_CELLS,
    Outcomes,
    at_largest,
    compare,
    compare_families,
    interval,
    raw_and_engineered,
    same_models,
    score_of,
)

RULE = f"""
On every image, sequence or text dataset with classical models on raw and on engineered features
and deep models on raw input, at the largest training size all three reach: prediction 1
(classical needs hand-designed features) holds when the best classical model on engineered
features beats the best one on raw input by more than the margin, the two sides taking the
same classical models (those that ran on both; the engineered side chooses its feature variant
too); prediction 2 (deep learns its features) holds when the best deep model on raw input is
within the margin of the best classical model on engineered features, or above it. Both hold:
the dataset supports the claim; neither: it refutes it; one: mixed; a prediction within noise:
inconclusive. Engineered features are a feature variant (HOG, sequence statistics, MiniRocket,
a bag of words) or a model that builds its own from the raw input (tagged
`{an.ENGINEERED_TAG}`, e.g. TF-IDF + logistic regression): never "classical on raw input".
{CHOICE} Prediction 2 sets the families against each other as every family comparison does.
{FAMILIES} {INTERVALS} Datasets combine by the two-thirds rule.
"""


def figure(v: Verdict, ok: pd.DataFrame, pal: plots.Palette) -> list[plots.Figure]:
    """Best classical on raw, on engineered features, and best deep on raw, per dataset (the verdict's choices)."""
    rows = v.data or []
    if not rows:
        return []
    bars = (("classical, raw input", "#9ecae1"), ("classical, engineered features", plots.FAMILY_COLORS["classical"]),
            ("deep, raw input", plots.FAMILY_COLORS["deep"]))
    with plt.rc_context(plots.rc_style()):
        fig, ax = plt.subplots(figsize=(plots.WIDTH, 3.6))
        fig.subplots_adjust(left=0.075, right=0.75, bottom=0.2, top=0.93)
        w = 0.26
        for j, (label, color) in enumerate(bars):
            xs = np.arange(len(rows)) + (j - 1) * w
            means = [r[2 + j].scores.mean() for r in rows]
            sds = [r[2 + j].scores.std(ddof=1) if len(r[2 + j].scores) > 1 else 0 for r in rows]
            ax.bar(xs, means, w * 0.95, yerr=sds, color=color, label=label, capsize=2, error_kw={"lw": 0.8})
            for x, r in zip(xs, rows, strict=True):
                ax.text(x, 0.02, plots.plain(r[2 + j].label), rotation=90, fontsize=6.5, ha="center", va="bottom",
                        color="white" if j else "#123")
        ax.set_xticks(np.arange(len(rows)), [plots.plain(f"{r[0]}\n(n={r[1]:,})") for r in rows])
        ax.set_ylabel("test score (accuracy or R²)")
        ax.set_ylim(0, 1.05)
        ax.grid(alpha=0.25, axis="y")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
        return [plots.Figure(
            "claim-feature-engineering.png", "Raw input, engineered features and deep models",
            "Per dataset, at the largest size all three ran: the best classical configuration on raw "
            "input, the best on engineered features, and the best deep one on raw input (mean test "
            "score; bars: ± one standard deviation over seeds; the chosen configuration is written in "
            "each bar).",
            plots.png(fig),
        )]


@claim(
    "feature_engineering", section="table", order=1, aspect="Feature engineering (特征工程)",
    classical="needs hand-designed features (需要手工设计特征)",
    deep="needs none; learns features automatically (不需要手工设计特征，能够自动学习特征)", rule=RULE, figure=figure,
    version=4,
)
def feature_engineering(ms: Measurements) -> Result:
    df = ms.ok
    if df.empty:
        return NO_CELLS
    out, chosen, unpaired = Outcomes(), [], []
    for dataset, n, at in at_largest(df, lambda at: raw_and_engineered(at, deep=True)):
        cl = at[at["family"] == "classical"]
        is_eng = an.engineered(cl)
        got = compare(at, *same_models(cl[is_eng], cl[~is_eng]), ms)
        fam = compare_families(at, ms, classical=an.engineered(at))
        if got is None or isinstance(fam, str):
            unpaired.append(f"{dataset} (n={n}): " + (fam if isinstance(fam, str) else "no model on both inputs"))
            continue
        eng, raw, gain = got
        deep, eng2, deep_vs_eng, basis = fam
        chosen.append((dataset, n, raw, eng, deep))
        out.add(dataset, an.two_part(an.side_of(gain, MARGIN), an.side_of(deep_vs_eng, -MARGIN)), {
            "dataset": dataset, "n_train": n, "classical, raw": score_of(raw), "classical, engineered": score_of(eng),
            "candidates (engineered / raw)": f"{eng.n_candidates} / {raw.n_candidates}",
            "deep, raw": score_of(deep), "engineered − raw": interval(gain),
            "deep − engineered": interval(deep_vs_eng) + ("" if eng2.label == eng.label else f" (against {eng2.label})"),
            "deep against engineered": basis,
        }, diffs={"engineered − raw": gain, "deep − engineered": deep_vs_eng})
    reason = None
    if out.outcomes and unpaired:
        reason = an.fmt_tally(out.outcomes) + "; not compared: " + "; ".join(unpaired)
    return out.result(
        "no dataset has classical models on both raw and engineered features together with deep models"
        + (f" compared on equal terms ({'; '.join(unpaired)})" if unpaired else ""), data=chosen, reason=reason,
    )
