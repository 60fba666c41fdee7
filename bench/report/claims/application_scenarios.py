"""Application scenarios (row 5): classical suits small structured data, deep large unstructured data."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from bench.report import analysis as an
from bench.report import plots, stats
from bench.report.claims.base import Measurements, Result, Verdict, claim
from bench.report.claims.common import (
    FAMILIES,
    interval,
    is_large,
    large_text,
    need,
    not_measurable,
    unpaired_text,
)

RULE = f"""
Per dataset and training size, d = the best deep minus the best classical test score, with a
95% interval counting the test rows and the seeds. {FAMILIES} Across
datasets, the Bayesian signed-rank test of the d's with a region of practical equivalence of
± the margin gives P(classical ahead), P(within) and P(deep ahead); a probability of 0.95
decides. Prediction 1 (classical suits small structured data), on tabular datasets at their
smallest compared size: holds when P(classical ahead) + P(within) ≥ 0.95, fails when
P(deep ahead) ≥ 0.95. Prediction 2 (deep suits large unstructured data), on image and
sequence datasets at their largest compared size where that size is large ({large_text("image", "sequence")}): holds when P(deep ahead) ≥ 0.95, fails
when P(classical ahead) + P(within) ≥ 0.95; not measurable (and so the claim) when no image or
sequence dataset reaches a large size with both families. With a single dataset its interval decides
instead (wholly above +margin: deep ahead; wholly below it: deep not ahead). A decision of
the test stands only when no dataset's own interval lies the other way beyond the margin
(deep ahead is overruled by a dataset with classical ahead, deep not ahead by one with deep
ahead). Otherwise the prediction is within noise. Both hold: supported; neither: refuted; one: mixed; a prediction
within noise: inconclusive. Not measurable unless the run has both tabular and
large image/sequence comparisons.
"""

SIZE_BUCKETS = (100, 400, 1600, 6400, 25600)


def size_bucket(n: int) -> str:
    """A training size's bucket on a ×4 grid: ≤100, 101–400, 401–1,600, ..."""
    lo = 0
    for edge in SIZE_BUCKETS:
        if n <= edge:
            return f"≤{edge:,}" if lo == 0 else f"{lo + 1:,}–{edge:,}"
        lo = edge
    return f">{SIZE_BUCKETS[-1]:,}"


def figure(v: Verdict, ok: pd.DataFrame, pal: plots.Palette) -> list[plots.Figure]:
    """Deep's win rate by modality and training-size bucket (the verdict's win records): bars, never lines."""
    rec = v.data
    if rec is None or rec.empty:
        return []
    rec = rec.assign(bucket=rec["n_train"].map(size_bucket), order=rec["n_train"].map(lambda n: sum(n > e for e in SIZE_BUCKETS)))
    buckets = rec.drop_duplicates("bucket").sort_values("order")["bucket"].tolist()
    mods = [m for m in plots.MODALITY_ORDER if m in set(rec["modality"])] + sorted(set(rec["modality"]) - set(plots.MODALITY_ORDER))
    with plt.rc_context(plots.rc_style()):
        fig, ax = plt.subplots(figsize=(plots.WIDTH, 3.4))
        fig.subplots_adjust(left=0.075, right=0.82, bottom=0.16, top=0.93)
        w = 0.8 / len(mods)
        for j, mod in enumerate(mods):
            for i, b in enumerate(buckets):
                g = rec[(rec["modality"] == mod) & (rec["bucket"] == b)]
                if g.empty:
                    continue
                x = i + (j - (len(mods) - 1) / 2) * w
                rate = an.win_rate(g)
                ax.bar(x, rate, w * 0.92, color=plots.MODALITY_COLORS.get(mod, "grey"), label=mod if i == buckets.index(g["bucket"].iloc[0]) else None)
                ax.text(x, rate + 0.02, f"{len(g)}", ha="center", va="bottom", fontsize=6.5, color="#333")
        handles = [plt.Rectangle((0, 0), 1, 1, color=plots.MODALITY_COLORS.get(m, "grey")) for m in mods]
        ax.legend(handles, mods, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, title="modality")
        ax.axhline(0.5, color="black", lw=0.8, ls="--")
        ax.set_xticks(range(len(buckets)), buckets)
        ax.set_xlabel("training rows")
        ax.set_ylabel("deep win rate (ties count half)")
        ax.set_ylim(0, 1.12)
        ax.grid(alpha=0.25, axis="y")
        return [plots.Figure(
            "win-rate.png", "Win rate of deep against classical, by modality and size",
            "Share of (dataset, size, seed) comparisons in which the best deep configuration beats the "
            f"best classical one by more than {an.MARGIN} (ties count half), by modality and "
            "training-size bucket; the number above each bar counts the comparisons. Dashed: 50%.",
            plots.png(fig),
        )]


def decide_group(comp: pd.DataFrame, deep_should_lead: bool) -> tuple[bool | None, str]:
    """A prediction on one group of per-dataset differences: (holds?, how it was decided)."""
    diffs = list(comp["difference"])
    if len(diffs) == 1:
        d = diffs[0]
        lead = None if not d.decided else True if d.lo > an.MARGIN else False if d.hi < an.MARGIN else None
        how = f"the one dataset's interval, {d.text() if d.decided else 'undefined'}, against +{an.MARGIN}"
    else:
        sr = stats.signed_rank([d.diff for d in diffs], an.MARGIN)
        p_deep, p_not = sr.above, sr.below + sr.within
        lead = True if p_deep >= stats.DECISIVE else False if p_not >= stats.DECISIVE else None
        how = f"the Bayesian signed-rank test, {sr.text()}"
        # The per-dataset intervals can veto it: a dataset decidedly the other way.
        against = [d for d in diffs if d.decided and ((lead is True and d.hi < -an.MARGIN) or (lead is False and d.lo > an.MARGIN))]
        if against:
            how += f", overruled by {len(against)} dataset(s) whose own interval lies the other way"
            lead = None
    holds = None if lead is None else lead == deep_should_lead
    return holds, how


def _said(p: bool | None) -> str:
    return "holds" if p else "fails" if p is False else "is within noise"


def _tally(comp: pd.DataFrame) -> str:
    deep = sum(an.outcome_of(d) == "supports" for d in comp["difference"])
    cl = sum(an.outcome_of(d) == "refutes" for d in comp["difference"])
    return f"{deep} / {cl} / {len(comp) - deep - cl}"


@claim(
    "application_scenarios", section="table", order=5, aspect="Application scenarios (应用场景)",
    classical="small datasets, structured data (适用于小数据集和结构化数据)",
    deep="large datasets, structured and unstructured data (适用于大数据集和结构化/非结构化数据)", rule=RULE, figure=figure,
    version=4,
)
def application_scenarios(ms: Measurements) -> Result:
    df = ms.ok
    missing = need(df, "classical", "deep")
    if missing:
        return missing
    wins, comp = ms.wins, ms.comparisons
    if comp.empty:
        return not_measurable("no dataset has both families at one size", wins)
    smallest = comp.groupby("dataset")["n_train"].transform("min") == comp["n_train"]
    largest = comp.groupby("dataset")["n_train"].transform("max") == comp["n_train"]
    tab = comp["modality"] == "tabular"
    large = pd.Series([is_large(m, n) for m, n in zip(comp["modality"], comp["n_train"], strict=True)], index=comp.index, dtype=bool)
    groups = (
        ("tabular, smallest size", comp[smallest & tab]), ("tabular, largest size", comp[largest & tab]),
        ("image/sequence, smallest size", comp[smallest & ~tab]), ("image/sequence, largest size", comp[largest & ~tab]),
        ("image/sequence, largest size if large", comp[largest & ~tab & large]),
    )
    evidence = []
    for label, g in groups:
        if g.empty:
            none = f"no dataset reaches a large size ({large_text('image', 'sequence')})" if label.endswith("if large") else "no comparison in this run"
            evidence.append({"comparisons": label, "datasets": 0, "deep − classical (median)": none})
            continue
        sr = stats.signed_rank(list(g["diff"]), an.MARGIN)
        evidence.append({
            "comparisons": label, "datasets": len(g),
            "deep ahead / classical ahead / within (intervals)": _tally(g),
            "deep − classical (median)": an.fmt_signed(float(g["diff"].median())),
            "P(classical) / P(within) / P(deep)": "—" if sr is None else f"{sr.below:.2f} / {sr.within:.2f} / {sr.above:.2f}",
            "which": ", ".join(f"{r.dataset} (n={int(r.n_train)}) {interval(r.difference)}" for r in g.itertuples()),
        })
    small_tab, largest_un, large_un = groups[0][1], groups[3][1], groups[4][1]
    if small_tab.empty or largest_un.empty:
        what = "tabular" if small_tab.empty else "image or sequence"
        return Result("not measurable", f"not measurable with this run: it has no {what} comparison of deep and classical models", evidence, data=wins)
    p1, how1 = decide_group(small_tab, deep_should_lead=False)
    if large_un.empty:
        short = ", ".join(f"{r.dataset} ({r.modality}, n={int(r.n_train):,})" for r in largest_un.itertuples())
        return Result(
            "not measurable",
            f"not measurable with this run: no image or sequence dataset reaches a large size ({large_text('image', 'sequence')}) "
            f"with both families (largest compared: {short}); prediction 1 (classical on small tabular) {_said(p1)}",
            evidence, f"Prediction 1 decided by {how1}.", data=wins,
        )
    p2, how2 = decide_group(large_un, deep_should_lead=True)
    verdict = {"supports": "supported", "refutes": "refuted", "mixed": "mixed", "inconclusive": "inconclusive"}[an.two_part(p1, p2)]

    used = pd.concat([small_tab, large_un])
    methods = an.methods_text({f"{r.dataset} (n={int(r.n_train)})": r.difference for r in used.itertuples()})
    return Result(
        verdict,
        f"prediction 1 (classical on small tabular) {_said(p1)}; prediction 2 (deep on large image/sequence) {_said(p2)}"
        + unpaired_text(df),
        evidence,
        f"Decided across datasets: prediction 1 by {how1}; prediction 2 by {how2}. "
        f"Their per-dataset 95% intervals (test rows and seeds), by {methods}.",
        data=wins,
    )
