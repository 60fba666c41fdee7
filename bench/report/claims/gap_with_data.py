"""Overfitting is reduced by more data: the train/test gap shrinks as the training set grows."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.lines import Line2D

from bench.report import analysis as an
from bench.report import plots
from bench.report.claims.base import Measurements, Result, Verdict, claim
from bench.report.claims.common import Outcomes, common_seed_gaps, gap_change, interval

RULE = """
The train/test gap is train score minus test score (train score on up to 2,000 training
rows). For every (dataset, configuration) measured at two or more sizes, paired by seed:
the gap at the largest size below the gap at the smallest by more than the margin supports
the claim, above it by more than the margin refutes it, otherwise (within the margin or
within noise) it is inconclusive. With dozens of configurations, each noisy at the smallest
sizes, the configurations decided on their own (supporting or refuting) decide where they are
at least a third of all and point one way beyond chance (a two-sided sign test, p < 0.05,
with at least two thirds of them that way): supported, or refuted. (Configurations of one
dataset share its test rows, so the test's p is a guide, not exact.) Otherwise supported when
at least two thirds of all configurations support it, refuted when at least two thirds
refute it, mixed when some support and some refute, inconclusive otherwise. The shrinkage's 95% interval counts the rows behind its four scores (test
rows; training rows scored) as well as the seeds (each score's binomial or R² delta-method
variance, added as if independent: conservative), not the seeds alone.
"""


def figure(v: Verdict, ok: pd.DataFrame, pal: plots.Palette) -> list[plots.Figure]:
    """Each configuration's mean train/test gap at its smallest size against its largest, over the seeds both
    sizes ran (the verdict's pairs, as its evidence table shows them)."""
    pts = v.data or []
    if not pts:
        return []
    conf = plots.config_table(ok)
    margin = an.MARGIN
    with plt.rc_context(plots.rc_style()):
        fig, ax = plt.subplots(figsize=(plots.WIDTH * 0.62, 4.4))
        fig.subplots_adjust(left=0.13, right=0.97, bottom=0.13, top=0.93)
        lo = min(min(p[0], p[1]) for p in pts) - 0.02
        hi = max(max(p[0], p[1]) for p in pts) + 0.02
        ax.fill_between([lo, hi], [lo - margin, hi - margin], [lo + margin, hi + margin], color="#dddddd", lw=0)
        ax.plot([lo, hi], [lo, hi], color="black", lw=0.8)
        handles = {}
        for x, y, cfg in pts:
            fam = str(conf.loc[cfg, "family"])
            ax.plot([x], [y], "o", ms=4, alpha=0.75, color=plots.FAMILY_COLORS.get(fam, "grey"))
            handles.setdefault(fam, Line2D([], [], marker="o", ls="none", color=plots.FAMILY_COLORS.get(fam, "grey")))
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel("train − test score at the smallest size")
        ax.set_ylabel("train − test score at the largest size")
        ax.text(0.97, 0.04, "below the line: the gap shrank", transform=ax.transAxes, ha="right", fontsize=7.5, color="#444")
        ax.legend(list(handles.values()), list(handles), loc="upper left", frameon=False)
        ax.grid(alpha=0.25)
        return [plots.Figure(
            "claim-gap-with-data.png", "Train/test gap, smallest against largest training size",
            "One point per (dataset, configuration) measured at two or more sizes: its mean train/test "
            "gap at the smallest size (x) and at the largest (y), over the seeds both sizes ran (those "
            "the shrinkage pairs). Points below the diagonal overfit "
            "less with more data; the grey band is the margin.",
            plots.png(fig),
        )]


@claim(
    "gap_with_data", order=3, aspect="Overfitting and more data (seed 003, §8.4)",
    deep="overfitting is reduced by more data: the train/test gap shrinks as the training set grows", rule=RULE,
    figure=figure, version=3,
)
def gap_with_data(ms: Measurements) -> Result:
    df = ms.ok
    g = an.gaps(df)
    out, points = Outcomes(unit="configuration"), []
    for (dataset, cfg), h in g.groupby(["dataset", "config"], sort=True):
        h = h.sort_values("n_train")
        if len(h) < 2:
            continue
        small, large = (cfg, int(h["n_train"].iloc[0])), (cfg, int(h["n_train"].iloc[-1]))
        shrink = gap_change(df, dataset, small, large)
        # The gaps shown are those the shrinkage subtracts: on the seeds both sizes ran (a size may
        # have run fewer seeds), so the two columns differ by its estimate.
        lo, hi, seeds = common_seed_gaps(df, dataset, small, large)
        if seeds:
            points.append((lo, hi, cfg))
        out.add(f"{dataset}/{cfg}", an.outcome_of(shrink), {
            "dataset": dataset, "configuration": cfg,
            "gap, smallest n": f"{lo:.3f} (n={small[1]})" if seeds else f"n/a (n={small[1]})",
            "gap, largest n": f"{hi:.3f} (n={large[1]})" if seeds else f"n/a (n={large[1]})",
            "seeds at both sizes": seeds, "shrinks by": interval(shrink),
        }, diffs={"gap shrinkage": shrink})
    n = len(out.outcomes)
    sup, ref, p = an.sign_test(out.outcomes)
    reason = f"the gap shrinks in {sup}, grows in {ref}, stays within the margin or noise in {n - sup - ref} of {n} configurations"
    if p is not None:
        reason += f" (of the {sup + ref} decided on their own, {max(sup, ref)} one way: sign test p = {p:.2g})"
    return out.result("no configuration has a train score at two or more sizes", reason=reason, data=points, combine=an.many_units)
