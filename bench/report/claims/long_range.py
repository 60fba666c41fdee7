"""Recurrent networks capture long-range dependencies in sequences."""

from __future__ import annotations

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
On the sequence datasets tagged `long_range` (built so that the label depends on distant
elements), at the largest size where a model tagged `recurrent` ran: the best recurrent
configuration against the best order-blind competitor, paired by seed. The order-blind side is
every model tagged `fully_connected` and every classical configuration (raw or engineered)
where it has as many candidates and trials as the recurrent side; otherwise the named pairing,
the recurrent network against the fully connected one (MLP: the same training, blind to order),
with the best classical configuration reported alongside. RNN ahead by more than the margin:
supports; behind by more than the margin: refutes; otherwise inconclusive. Convolutional
models are reported alongside. Datasets combine by the two-thirds rule. {CHOICE} {INTERVALS}
"""


@claim(
    "long_range", order=2, aspect="Recurrent networks and long-range dependencies (seeds 000, 002)",
    deep="recurrent networks capture long-range dependencies in sequences", rule=RULE, version=4,
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
    dense = an.has_tag(seqs, "fully_connected") & (seqs["family"] == "deep")
    for dataset, n, at in at_largest(seqs, among=seqs[recurrent]):
        rec, rivals = at[recurrent[at.index]], at[blind[at.index]]
        paired = not an.equal_terms(rec, rivals)
        if paired:
            rivals = at[dense[at.index]]
        got = compare(at, rec, rivals, ms)
        if got is None:
            continue
        rnn, rival, diff = got
        cnn = an.best(at[conv[at.index]])
        classical = an.best(at[at["family"] == "classical"])
        out.add(dataset, an.outcome_of(diff), {
            "dataset": dataset, "n_train": n, "recurrent": score_of(rnn),
            "order-blind side": "the MLP (named pairing)" if paired else "every order-blind configuration (equal terms)",
            "best order-blind": score_of(rival), "candidates (recurrent / order-blind)": f"{rnn.n_candidates} / {rival.n_candidates}",
            "RNN − order-blind": interval(diff), "best classical": score_of(classical) if classical else "—",
            "convolutional": score_of(cnn) if cnn else "—",
        }, diffs={"RNN − best order-blind": diff}, effect=(f"{dataset} (n={n})", diff))
    return out.result(
        "no long-range sequence dataset (tagged long_range) with a recurrent model and an order-blind competitor",
        "recurrent − best order-blind, test score",
    )
