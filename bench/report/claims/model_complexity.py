"""Model complexity (row 2): classical models are simple, deep ones complex; measured as size."""

from __future__ import annotations

import math
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from bench.report import analysis as an
from bench.report import plots
from bench.report.claims.base import Measurements, Result, Verdict, claim
from bench.report.claims.common import Outcomes, need, not_measurable, with_data

RULE = """
Measured as size, the part of "complex" a benchmark can measure (how easy a model is to
understand is not measured). Per dataset, at its largest training size with both families:
every deep configuration is paired with every classical configuration that learns
parameters, comparing learned parameter counts (median over seeds). Models that keep their
training data instead of learning a fixed set of parameters (size unit "stored rows", e.g.
KNN, or "support vectors", e.g. a kernel SVM) are reported as storing so many training rows
and take no part in the pairs: the numbers they store grow with the data, not with the
model. A dataset supports the claim when deep has more parameters in at least 75% of its
pairs, refutes it when in at most 25%, is mixed otherwise; datasets combine by the
two-thirds rule, like the other rows. Parameter counts are exact (no sampling error), so a
dataset's share needs no interval. Hybrids (models tagged `hybrid`) are a family of their
own and take no part.
"""

# Size units of models that store (part of) their training data rather than learn parameters.
STORES_DATA = ("stored rows", "support vectors")

def sizes_by_dataset(df: pd.DataFrame) -> list[tuple[str, int, bool, pd.DataFrame]]:
    """(dataset, n, compared, median sizes per configuration at n) for every dataset.

    n is the largest size with both families (`compared`), or, where there is none, the
    dataset's largest size: the figure shows every dataset, the rule only compared ones.
    """
    out = []
    for dataset in an.datasets(df):
        sizes = an.compared_sizes(df, dataset)
        n = sizes[-1] if sizes else max(int(s) for s in df.loc[df["dataset"] == dataset, "n_train"].unique())
        out.append((dataset, n, bool(sizes), an.model_sizes(df[(df["dataset"] == dataset) & (df["n_train"] == n)])))
    return out


def figure(v: Verdict, ok: pd.DataFrame, pal: plots.Palette) -> list[plots.Figure]:
    """Learned parameters and serialized bytes per configuration, on log axes."""
    per = [sizes.assign(dataset=dataset) for dataset, _n, _compared, sizes in v.data or []]
    if not per:
        return []
    sizes = pd.concat(per)
    if sizes.empty:
        return []
    conf = plots.config_table(ok)
    agg = sizes.groupby("config").agg(
        params=("n_params", "median"), pmin=("n_params", "min"), pmax=("n_params", "max"),
        bytes=("model_bytes", "median"), bmin=("model_bytes", "min"), bmax=("model_bytes", "max"),
    )
    agg["family"] = [str(conf.loc[c, "family"]) for c in agg.index]
    agg = agg.sort_values(["family", "params"], ascending=[True, True])
    with plt.rc_context(plots.rc_style()):
        height = 1.3 + 0.2 * len(agg)
        fig, axes = plt.subplots(1, 2, figsize=(plots.WIDTH, height), sharey=True)
        fig.subplots_adjust(left=0.25, right=0.98, bottom=0.55 / height + 0.04, top=1 - 0.35 / height, wspace=0.06)
        ys = np.arange(len(agg))
        for ax, (m, lo, hi, label) in zip(axes, (("params", "pmin", "pmax", "learned parameters (count, log scale)"),
                                                  ("bytes", "bmin", "bmax", "serialized model size (bytes, log scale)")), strict=True):
            for y, (cfg, r) in zip(ys, agg.iterrows(), strict=True):
                color = pal.color(conf.loc[cfg, "model"])
                if math.isfinite(r[lo]) and math.isfinite(r[hi]) and r[lo] > 0:
                    ax.plot([r[lo], r[hi]], [y, y], color=color, lw=1.2, alpha=0.6)
                if math.isfinite(r[m]) and r[m] > 0:
                    ax.plot([r[m]], [y], "o", color=color, ms=5)
            ax.set_xscale("log")
            ax.set_xlabel(label)
            ax.grid(alpha=0.25, axis="x")
        keeps = set(sizes.loc[stores_data(sizes), "config"])
        axes[0].set_yticks(ys, [plots.plain(c) + (" (stores data)" if c in keeps else "") for c in agg.index])
        for tick, fam in zip(axes[0].get_yticklabels(), agg["family"], strict=True):
            tick.set_color(plots.FAMILY_COLORS.get(fam, "black"))
        plots.fit_left(fig, axes[0])
        return [plots.Figure(
            "claim-model-complexity.png", "Model size by configuration",
            "Learned parameters and pickled size of each configuration (blue labels: classical, red: "
            "deep): dot = median over datasets at each dataset's largest compared size, line = "
            "smallest to largest dataset. A configuration marked \"stores data\" keeps training rows "
            "(KNN's rows, an SVM's support vectors): its count is the numbers it stores, not learned "
            "parameters, and the rule leaves it out.",
            plots.png(fig),
        )]


def stores_data(sizes: pd.DataFrame) -> pd.Series:
    """Configurations (rows of `analysis.model_sizes`) whose size unit says they store training data."""
    if "size_unit" not in sizes.columns:
        return pd.Series(False, index=sizes.index)
    return sizes["size_unit"].astype("string").isin(STORES_DATA).fillna(False).astype(bool)


@claim(
    "model_complexity", section="table", order=2, aspect="Model complexity (模型复杂度)",
    classical="simple, easy to understand (模型简单，易于理解)", deep="complex, hard to understand (模型复杂，难以理解)",
    rule=RULE, figure=figure, version=3,
)
def model_complexity(ms: Measurements) -> Result:
    df = ms.ok
    data = sizes_by_dataset(df)
    missing = need(df, "classical", "deep")
    if missing:
        return with_data(missing, data)
    out = Outcomes()
    more = total = 0
    stored: dict[str, list[float]] = {}
    for dataset, n, compared, per in data:
        if not compared:
            continue
        keeps = stores_data(per)
        deep = per[per["family"] == "deep"]
        cl = per[(per["family"] == "classical") & ~keeps]
        kept = per[(per["family"] == "classical") & keeps]
        for r in kept.itertuples():
            stored.setdefault(f"{str(r.config).split(' ')[0]}'s {r.size_unit}", []).append(float(r.size_proxy))
        if deep.empty or cl.empty:
            continue
        pairs = [(d, c) for d in deep["n_params"] for c in cl["n_params"]]
        m = sum(d > c for d, c in pairs)
        more += m
        total += len(pairs)
        share = m / len(pairs)
        outcome = "supports" if share >= 0.75 else "refutes" if share <= 0.25 else "mixed"
        out.add(dataset, outcome, {
            "dataset": dataset, "n_train": n, "deep larger": f"{m}/{len(pairs)} pairs ({share:.0%})",
            "classical params (min–max)": f"{an.fmt_count(cl['n_params'].min())}–{an.fmt_count(cl['n_params'].max())}",
            "deep params (min–max)": f"{an.fmt_count(deep['n_params'].min())}–{an.fmt_count(deep['n_params'].max())}",
            "largest classical": f"{cl.loc[cl['n_params'].idxmax(), 'config']}",
            "smallest deep": f"{deep.loc[deep['n_params'].idxmin(), 'config']}",
            "stores training data": ", ".join(
                f"{r.config} ({an.fmt_count(r.size_proxy)} {r.size_unit})" for r in kept.itertuples()) or "—",
        })
    if not out.outcomes:
        return not_measurable("no dataset has parameter counts for both families", data)
    note = ""
    if stored:
        note = ("; not counted as parameters, since they store training data: "
                + ", ".join(f"{c} ({an.fmt_count(min(v))}–{an.fmt_count(max(v))})" if min(v) != max(v) else f"{c} ({an.fmt_count(v[0])})"
                            for c, v in sorted(stored.items())))
    r = out.result("no dataset has parameter counts for both families",
                   reason=f"{an.fmt_tally(out.outcomes)} (deep has more parameters in {more}/{total} pairs over all datasets){note}",
                   data=data)
    return replace(r, certainty=(
        "Parameter counts are exact and do not vary between seeds beyond the model's own choices, so each "
        "dataset's share of pairs is exact; the figure shows every configuration's count and serialized size."))
