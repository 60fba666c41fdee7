"""Convolution and pooling cut the parameter count and improve generalisation: CNN against MLP on images."""

from __future__ import annotations

import pandas as pd

from bench.report import analysis as an
from bench.report.analysis import MARGIN
from bench.report.claims.base import Measurements, Result, claim
from bench.report.claims.common import NO_CELLS, Outcomes, at_largest, compare, interval, score_of

RULE = """
On every image dataset with both a model tagged `convolutional` (CNN) and one tagged
`fully_connected` (MLP), hybrids excluded, at the largest size both reach, the best configuration of each:
prediction 1, the CNN has fewer learned parameters (median over seeds); prediction 2, the
CNN's test score is above the MLP's by more than the margin (paired by seed). Both hold:
supports; neither: refutes; one: mixed; a score difference within noise: inconclusive;
datasets combine by the two-thirds rule. Each side's best is chosen on validation (cross-validated where the table has it; a tie within one validation row goes to the cheaper fit) from as many candidates as the other side has: the side with more is its expected best over random subsets of that size. Differences have 95% intervals counting the test rows and the seeds (paired predictions where kept, else the scores' conservative fallback).
"""


@claim(
    "cnn_vs_mlp", order=1, aspect="Convolution and pooling (seed 000, CNN section)",
    deep="convolution and pooling cut the parameter count and improve generalisation", rule=RULE, version=2,
)
def cnn_vs_mlp(ms: Measurements) -> Result:
    df = ms.ok
    if df.empty:
        return NO_CELLS
    images = df[df["modality"] == "image"]
    plain = images["family"] != "hybrid"  # a hybrid's network feeds a classical model: not a CNN or an MLP here
    conv, dense = an.has_tag(images, "convolutional") & plain, an.has_tag(images, "fully_connected") & plain
    out = Outcomes()

    def both(at: pd.DataFrame) -> bool:
        return an.has_tag(at, "convolutional").any() and an.has_tag(at, "fully_connected").any()

    for dataset, n, at in at_largest(images, both, among=images[conv | dense]):
        cnn, mlp, diff = compare(at, at[conv[at.index]], at[dense[at.index]], ms)
        out.add(dataset, an.two_part(cnn.n_params < mlp.n_params, an.side_of(diff, MARGIN)), {
            "dataset": dataset, "n_train": n, "CNN": score_of(cnn), "CNN params": an.fmt_count(cnn.n_params),
            "MLP": score_of(mlp), "MLP params": an.fmt_count(mlp.n_params), "CNN − MLP": interval(diff),
        }, diffs={"CNN − MLP score": diff}, effect=(f"{dataset} (n={n})", diff))
    return out.result("no image dataset has both a convolutional and a fully_connected model", "CNN − MLP, test score")
