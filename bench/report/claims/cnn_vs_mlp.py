"""Convolution and pooling cut the parameter count and improve generalisation: CNN against MLP on images and sequences."""

from __future__ import annotations

import pandas as pd

from bench.report import analysis as an
from bench.report.analysis import MARGIN
from bench.report.claims.base import Measurements, Result, claim
from bench.report.claims.common import (
    CHOICE,
    NO_CELLS,
    Outcomes,
    at_largest,
    compare,
    interval,
    score_of,
)

MATCH = 2.0  # an MLP configuration is parameter-matched to the CNN within this factor of its parameter count

RULE = f"""
On every image and sequence dataset with both a model tagged `convolutional` (CNN; on
sequences, 1-D convolutions such as a ResNet) and one tagged `fully_connected` (MLP), hybrids
excluded, at the largest size both reach, the best configuration of each: prediction 1, the
CNN has fewer learned parameters (median over seeds); prediction 2, the CNN's test score is
above the MLP's by more than the margin (paired by seed). Both hold: supports; neither:
refutes; one: mixed; a score difference within noise: inconclusive; datasets combine by the
two-thirds rule. The pairing is named: convolutional against fully connected networks, {CHOICE}
Reported alongside, not deciding: the best CNN configuration against the best parameter-matched
MLP (chosen on validation among the MLP configurations whose parameter count is within a
factor of {MATCH:g} of that CNN's), which separates convolution from capacity; "no
parameter-matched MLP in this run" where none ran. Differences have 95% intervals counting
the test rows and the seeds (paired predictions where kept, else the scores' conservative
fallback).
"""


@claim(
    "cnn_vs_mlp", order=1, aspect="Convolution and pooling (seed 000, CNN section)",
    deep="convolution and pooling cut the parameter count and improve generalisation", rule=RULE, version=4,
)
def cnn_vs_mlp(ms: Measurements) -> Result:
    df = ms.ok
    if df.empty:
        return NO_CELLS
    media = df[df["modality"].isin(("image", "sequence"))]
    plain = media["family"] != "hybrid"  # a hybrid's network feeds a classical model: not a CNN or an MLP here
    conv, dense = an.has_tag(media, "convolutional") & plain, an.has_tag(media, "fully_connected") & plain
    out = Outcomes()

    def both(at: pd.DataFrame) -> bool:
        return an.has_tag(at, "convolutional").any() and an.has_tag(at, "fully_connected").any()

    for dataset, n, at in at_largest(media, both, among=media[conv | dense]):
        cnn, mlp, diff = compare(at, at[conv[at.index]], at[dense[at.index]], ms)
        matched, mdiff = _matched(at, at[conv[at.index]], at[dense[at.index]], ms)
        out.add(dataset, an.two_part(cnn.n_params < mlp.n_params, an.side_of(diff, MARGIN)), {
            "dataset": dataset, "modality": str(at["modality"].iloc[0]), "n_train": n,
            "CNN": score_of(cnn), "CNN params": an.fmt_count(cnn.n_params),
            "MLP": score_of(mlp), "MLP params": an.fmt_count(mlp.n_params),
            "candidates (CNN / MLP)": f"{cnn.n_candidates} / {mlp.n_candidates}", "CNN − MLP": interval(diff),
            "parameter-matched MLP": (f"{score_of(matched[1])}, {an.fmt_count(matched[1].n_params)} params "
                                      f"(against {matched[0].label}, {an.fmt_count(matched[0].n_params)})"
                                      if matched else "no parameter-matched MLP in this run"),
            "CNN − matched MLP": interval(mdiff) if mdiff is not None else "—",
        }, diffs={"CNN − MLP score": diff, **({"CNN − parameter-matched MLP score": mdiff} if mdiff is not None else {})},
            effect=(f"{dataset} (n={n})", diff))
    return out.result("no image or sequence dataset has both a convolutional and a fully_connected model", "CNN − MLP, test score")


def _matched(at: pd.DataFrame, conv: pd.DataFrame, dense: pd.DataFrame, ms: Measurements):
    """((best CNN, best MLP within a factor MATCH of its parameters), their difference), or (None, None)."""
    cnn = an.best(conv)
    if cnn is None or not cnn.n_params == cnn.n_params or cnn.n_params <= 0:
        return None, None
    params = dense.groupby("config")["n_params"].median()
    near = params[(params >= cnn.n_params / MATCH) & (params <= cnn.n_params * MATCH)].index
    mlp = an.best(dense[dense["config"].isin(near)]) if len(near) else None
    if mlp is None:
        return None, None
    return (cnn, mlp), an.compare(at, cnn, mlp, ms.predictions)
