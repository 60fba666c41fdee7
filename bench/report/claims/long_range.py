"""Recurrent networks capture long-range dependencies in sequences."""

from __future__ import annotations

from bench.report import analysis as an
from bench.report.claims.base import Measurements, Result, claim
from bench.report.claims.common import NO_CELLS, Outcomes, at_largest, compare, interval, score_of

RULE = """
On the sequence datasets tagged `long_range` (built so that the label depends on distant
elements), at the largest size where a model tagged `recurrent` ran: the best recurrent
configuration against the best order-blind competitor (models tagged `fully_connected`
and every classical configuration, raw or engineered), paired by seed. RNN ahead by more
than the margin: supports; behind by more than the margin: refutes; otherwise
inconclusive. Convolutional and fully connected models are reported alongside. Datasets
combine by the two-thirds rule. Each side's best is chosen on validation (cross-validated where the table has it; a tie within one validation row goes to the cheaper fit) from as many candidates as the other side has: the side with more is its expected best over random subsets of that size. Differences have 95% intervals counting the test rows and the seeds (paired predictions where kept, else the scores' conservative fallback).
"""


@claim(
    "long_range", order=2, aspect="Recurrent networks and long-range dependencies (seeds 000, 002)",
    deep="recurrent networks capture long-range dependencies in sequences", rule=RULE, version=2,
)
def long_range(ms: Measurements) -> Result:
    df = ms.ok
    if df.empty:
        return NO_CELLS
    seqs = df[an.has_tag(df, "long_range", "dataset_tags")]
    recurrent = an.has_tag(seqs, "recurrent")
    blind = (seqs["family"] == "classical") | an.has_tag(seqs, "fully_connected")
    conv = an.has_tag(seqs, "convolutional")
    out = Outcomes()
    for dataset, n, at in at_largest(seqs, among=seqs[recurrent]):
        got = compare(at, at[recurrent[at.index]], at[blind[at.index]], ms)
        if got is None:
            continue
        rnn, rival, diff = got
        cnn = an.best(at[conv[at.index]])
        out.add(dataset, an.outcome_of(diff), {
            "dataset": dataset, "n_train": n, "recurrent": score_of(rnn), "best order-blind": score_of(rival),
            "RNN − order-blind": interval(diff), "convolutional": score_of(cnn) if cnn else "—",
        }, diffs={"RNN − best order-blind": diff}, effect=(f"{dataset} (n={n})", diff))
    return out.result(
        "no long-range sequence dataset (tagged long_range) with a recurrent model and an order-blind competitor",
        "recurrent − best order-blind, test score",
    )
