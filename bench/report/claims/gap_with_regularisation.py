"""Overfitting is reduced by regularisation and dropout: a smaller train/test gap."""

from __future__ import annotations

from collections import Counter

from bench.report import analysis as an
from bench.report.claims.base import Measurements, Result, claim
from bench.report.claims.common import Outcomes, gap_change, interval, not_measurable

RULE = """
Regularisation pairs are two configurations of the same model on the same dataset and
feature variant, both default or both tuned (a tuned configuration is one of its own), whose
hyperparameters differ only in regularisers (dropout, weight decay, alpha/lambda, C,
maximum depth, minimum leaf size, ...; read from the estimators' effective hyperparameters
that the rows record, a value one side does not record making the pair unknown), every one
of them pointing the same way. At the largest size both reach, paired by seed: the more
regularised configuration's gap below the other's by more than the margin supports the
claim, above by more than the margin refutes it, otherwise inconclusive. Supported when at
least two thirds of the pairs support it, refuted when at least two thirds refute it,
mixed when some support and some refute, inconclusive otherwise. The reduction's 95%
interval counts the rows behind its four scores (test rows; training rows scored) as well as
the seeds (each score's binomial or R² delta-method variance, added as if independent:
conservative).
"""


@claim(
    "gap_with_regularisation", order=4, aspect="Overfitting and regularisation (seed 003, §8.4)",
    deep="overfitting is reduced by regularisation and dropout: a smaller train/test gap", rule=RULE, version=3,
)
def gap_with_regularisation(ms: Measurements) -> Result:
    df = ms.ok
    pairs = an.regularisation_pairs(df)
    if not pairs:
        return not_measurable(
            "the suite has no two configurations of one model that differ only in a regulariser "
            "(e.g. an MLP with and without dropout, a tree with and without a depth limit)"
        )
    g = an.gaps(df)
    out = Outcomes(unit="pair")
    measured: list[tuple[str, str]] = []  # (dataset, regularisers) of each pair with an outcome
    for dataset, _name, more, less, key in pairs:
        h = g[g["dataset"] == dataset]
        a, b = h[h["config"] == more], h[h["config"] == less]
        common = sorted(set(a["n_train"]) & set(b["n_train"]))
        if not common:
            continue
        n = common[-1]
        diff = gap_change(df, dataset, (less, n), (more, n))
        by_size = ", ".join(
            f"{m}: {float(a.loc[a['n_train'] == m, 'gap'].iloc[0]):.3f} vs {float(b.loc[b['n_train'] == m, 'gap'].iloc[0]):.3f}"
            for m in common
        )
        out.add(f"{dataset}/{more}/{less}", an.outcome_of(diff), {
            "dataset": dataset, "regularisers": key, "more regularised": more, "less regularised": less,
            "gaps by n (more vs less)": by_size, "gap reduction": interval(diff),
        }, diffs={"gap reduction": diff}, effect=(f"{dataset}: {more} vs {less}", diff))
        measured.append((dataset, key))
    n, sup, ref = len(out.outcomes), out.count("supports"), out.count("refutes")
    return out.result(
        "regularisation pairs share no training size", "train/test gap, less minus more regularised",
        reason=f"the regularised configuration has the smaller gap in {sup}, the larger in {ref}, of {n} pairs"
        + coverage(measured), veto=False,
    )


# The regularisers the claim names ("regularisation and dropout"), said absent when no pair has them.
NAMED = {"dropout": "dropout", "weight_decay": "weight-decay"}


def coverage(pairs: list[tuple[str, str]]) -> str:
    """` from 9 datasets (max_depth: 14; no dropout or weight-decay pair in this run)`: how many
    datasets the pairs come from and how many pairs each set of regularisers makes (`a+b` when
    a pair differs in both), naming dropout and weight decay when no pair has them; "" for none."""
    if not pairs:
        return ""
    datasets = len({d for d, _ in pairs})
    counts = Counter(key for _, key in pairs)
    parts = [f"{key}: {k}" for key, k in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    present = {r for key in counts for r in key.split("+")}
    absent = [word for r, word in NAMED.items() if r not in present]
    if absent:
        parts.append(f"no {' or '.join(absent)} pair in this run")
    return f" from {datasets} dataset{'s' if datasets != 1 else ''} ({'; '.join(parts)})"
