"""Data requirement (row 3): classical models need modest data, deep ones large-scale data."""

from __future__ import annotations

from bench.report import analysis as an
from bench.report import paired as pr
from bench.report.analysis import MARGIN
from bench.report.claims.base import Measurements, Result, claim
from bench.report.claims.common import FAMILIES, Outcomes, interval, need, unpaired_text

RULE = f"""
On every dataset with both families at two or more training sizes, d(n) is the best deep
score minus the best classical score at size n (paired by seed). Prediction 1 (deep needs
more data): classical is ahead at the smallest size, d(n_min) < −margin. Prediction 2
(deep gains from scale): d(n_max) − d(n_min) > margin. Both hold: supports; neither:
refutes; one: mixed; a prediction within noise: inconclusive; datasets combine by the
two-thirds rule. Also reported: the smallest size from which deep stays ahead
(crossover: d(n)'s interval above +margin there and at every larger size), and the median
size at which a configuration reaches 95% of its own best.
{FAMILIES} d(n) has a 95% interval counting the test rows and the seeds (paired predictions
where kept, else the scores' conservative fallback); the gain's interval adds the two sizes'
variances. The evidence names how each size was compared.
"""

# Its picture, d(n) per dataset with its interval, is the report's headline figure
# (plots.headline), drawn from the same win records (`Measurements.wins`, computed once per table).
PICTURE = "The picture for this row is the headline figure at the top."


@claim(
    "data_requirement", section="table", order=3, aspect="Data requirement (数据量需求)",
    classical="modest (对数据量的需求不高)", deep="high; needs large-scale data to train (对数据量的需求高，需要大规模数据进行训练)",
    rule=RULE, picture=PICTURE, version=4,
)
def data_requirement(ms: Measurements) -> Result:
    df = ms.ok
    missing = need(df, "classical", "deep")
    if missing:
        return missing
    comp = ms.comparisons
    reach = an.size_to_reach(df)
    out = Outcomes()
    for dataset, g in comp.groupby("dataset", sort=True):
        g = g.sort_values("n_train")
        sizes = [int(n) for n in g["n_train"]]
        if len(sizes) < 2:
            continue
        d_min, d_max = g["difference"].iloc[0], g["difference"].iloc[-1]
        gain = pr.combine(d_max, d_min)
        # Deep is ahead at a size when d(n)'s interval lies above +margin (as the answer's leader and every
        # other statement read it), not when its point estimate does. Shown only: the outcome reads d_min and gain.
        ahead = [int(n) for n, d in zip(g["n_train"], g["difference"], strict=True) if an.side_of(d, MARGIN) is True]
        cross = next((n for n in sizes if all(m in ahead for m in sizes if m >= n)), None)
        r = reach[reach["dataset"] == dataset].groupby("family")["n_reach"].median()
        behind = an.side_of(d_min, -MARGIN)
        out.add(dataset, an.two_part(None if behind is None else not behind, an.side_of(gain, MARGIN)), {
            "dataset": dataset, "sizes": f"{sizes[0]}–{sizes[-1]}",
            "deep − classical, smallest": interval(d_min), "deep − classical, largest": interval(d_max),
            "gain with data": interval(gain),
            "compared by": "; ".join(dict.fromkeys(str(b) for b in g["basis"])),
            "deep ahead from": f"n={cross}" if cross is not None else "never",
            "n to 95% (classical / deep)": f"{an.fmt_count(r.get('classical', float('nan')))} / {an.fmt_count(r.get('deep', float('nan')))}",
        }, diffs={"deep − classical at the smallest size": d_min, "its gain to the largest size": gain})
    left = unpaired_text(df)
    return out.result("no dataset has both families at two or more training sizes compared on equal terms" + left,
                      reason=an.fmt_tally(out.outcomes) + left if out.outcomes else None)
