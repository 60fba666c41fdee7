"""Application scenarios (row 5): classical suits small structured data, deep large unstructured data."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from bench.report import analysis as an
from bench.report import plots, stats
from bench.report.claims.base import Measurements, Result, Verdict, claim
from bench.report.claims.common import certainty, need, not_measurable

RULE = """
Win records pair the best deep and best classical configuration per (dataset, size, seed):
deep wins beyond the margin, classical wins below minus the margin, a tie counts half.
Prediction 1 (classical suits small structured data): on tabular datasets at their smallest
compared size, deep's win rate is at most 50%. Prediction 2 (deep suits large unstructured
data): on image and sequence datasets at their largest compared size, deep's win rate is
above 50%. A win rate whose interval straddles 50% is within noise. Both hold: supported;
neither: refuted; one: mixed; a prediction within noise: inconclusive. Not measurable
unless the run has both tabular and image/sequence comparisons.
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


def _win_interval(rec: pd.DataFrame) -> stats.Interval:
    points = rec.assign(w=(rec["winner"] == "deep") + 0.5 * (rec["winner"] == "tie"))
    return stats.bootstrap_ci(points, "w")


@claim(
    "application_scenarios", section="table", order=5, aspect="Application scenarios (应用场景)",
    classical="small datasets, structured data (适用于小数据集和结构化数据)",
    deep="large datasets, structured and unstructured data (适用于大数据集和结构化/非结构化数据)", rule=RULE, figure=figure,
)
def application_scenarios(ms: Measurements) -> Result:
    df = ms.ok
    missing = need(df, "classical", "deep")
    if missing:
        return missing
    wins = ms.wins
    if wins.empty:
        return not_measurable("no dataset has both families at one size", wins)
    smallest = wins.groupby("dataset")["n_train"].transform("min") == wins["n_train"]
    largest = wins.groupby("dataset")["n_train"].transform("max") == wins["n_train"]
    tab = wins["modality"] == "tabular"
    groups = (
        ("tabular, smallest size", wins[smallest & tab]), ("tabular, largest size", wins[largest & tab]),
        ("image/sequence, smallest size", wins[smallest & ~tab]), ("image/sequence, largest size", wins[largest & ~tab]),
    )
    evidence = []
    for label, rec in groups:
        if rec.empty:
            evidence.append({"comparisons": label, "n": 0, "deep win rate": "no comparison in this run"})
            continue
        evidence.append({
            "comparisons": label, "n": len(rec), "deep / classical / ties":
            f"{(rec['winner'] == 'deep').sum()} / {(rec['winner'] == 'classical').sum()} / {(rec['winner'] == 'tie').sum()}",
            "deep win rate": _win_interval(rec).text(2, sign=False),
            "deep − classical": an.fmt_spread(rec["diff"], sign=True).split(" (")[0],
            "datasets": ", ".join(sorted(rec["dataset"].unique())),
        })
    small_tab, large_un = groups[0][1], groups[3][1]
    if small_tab.empty or large_un.empty:
        what = "tabular" if small_tab.empty else "image or sequence"
        return Result("not measurable", f"not measurable with this run: it has no {what} comparison of deep and classical models", evidence, data=wins)
    i1, i2 = _win_interval(small_tab), _win_interval(large_un)
    s1 = an.side(i1, 0.5)
    p1 = None if s1 is None else not s1
    p2 = an.side(i2, 0.5)
    verdict = {"supports": "supported", "refutes": "refuted", "mixed": "mixed", "inconclusive": "inconclusive"}[an.two_part(p1, p2)]

    def said(p):
        return "holds" if p else "fails" if p is False else "is within noise"

    return Result(
        verdict,
        f"prediction 1 (classical on small tabular) {said(p1)}; prediction 2 (deep on large image/sequence) {said(p2)}",
        evidence,
        certainty(f"deep win rate on small tabular {i1.text(2, sign=False)}", f"on large image/sequence {i2.text(2, sign=False)}"),
        data=wins,
    )
