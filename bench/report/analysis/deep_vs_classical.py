"""Deep against classical: the win records every rule and figure of that comparison reads.

`win_records`: the best deep configuration minus the best classical one, per dataset, size
and seed, on equal terms (`pairing.family_sides`: best against best where both families had
equal candidate and trial counts, else the modality's named pairing, e.g. a tree ensemble
against an MLP on tables; hybrids are a family of their own and take no part; a size with
neither is left out, and `unpaired` says why); `family_comparisons`: the same, one row per dataset
and size, with the difference's interval counting the test rows (`comparison.compare`), the
ties met in choosing and each family's selection regret; `win_rate`: the share deep wins; `size_to_reach`: the training rows a configuration
needs to reach 95% of its own best; `model_sizes`: the configurations' sizes at one size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.report.analysis.choosing import best
from bench.report.analysis.comparison import Predictions, compare
from bench.report.analysis.outcomes import MARGIN, paired
from bench.report.analysis.pairing import Sides, family_sides
from bench.report.analysis.rows import compared_sizes, datasets, ok_rows

WIN_COLUMNS = ["dataset", "modality", "n_train", "seed", "deep", "classical", "diff", "winner"]
COMPARISON_COLUMNS = [
    "dataset", "modality", "n_train", "deep", "classical", "n_deep", "n_classical", "diff", "lo", "hi", "method",
    "deep_tied", "classical_tied", "deep_regret", "classical_regret", "difference", "basis", "paired",
]
UNPAIRED_COLUMNS = ["dataset", "modality", "n_train", "reason"]


def _sides(df: pd.DataFrame):
    """(dataset, modality, n, cells at n, `Sides` or why none) at every size with both families."""
    df = ok_rows(df) if "config" not in df.columns else df
    for dataset in datasets(df):
        sub = df[df["dataset"] == dataset]
        modality = str(sub["modality"].iloc[0])
        for n in compared_sizes(df, dataset):
            at = sub[sub["n_train"] == n]
            yield dataset, modality, n, at, family_sides(at, modality)


def _pairs(df: pd.DataFrame):
    """(dataset, modality, n, cells at n, best deep, best classical, sides) at every compared size, on equal terms."""
    for dataset, modality, n, at, sides in _sides(df):
        if isinstance(sides, Sides):
            d, c = best(sides.deep), best(sides.classical)
            if d is not None and c is not None:
                yield dataset, modality, n, at, d, c, sides


def unpaired(df: pd.DataFrame) -> pd.DataFrame:
    """The (dataset, size) with both families that no comparison reads, and why (`pairing.family_sides`)."""
    rows = [{"dataset": dataset, "modality": modality, "n_train": n, "reason": sides}
            for dataset, modality, n, _at, sides in _sides(df) if isinstance(sides, str)]
    return pd.DataFrame(rows, columns=UNPAIRED_COLUMNS)


def family_comparisons(df: pd.DataFrame, predictions: Predictions | None = None) -> pd.DataFrame:
    """Best deep minus best classical per (dataset, size), on equal terms (`pairing.family_sides`:
    `basis` says how), with its interval (`comparison.compare`), the ties each choice met and each
    family's selection regret."""
    rows = []
    for dataset, modality, n, at, d, c, sides in _pairs(df):
        diff = compare(at, d, c, predictions)
        rows.append({
            "dataset": dataset, "modality": modality, "n_train": n, "deep": d.label, "classical": c.label,
            "n_deep": d.n_candidates, "n_classical": c.n_candidates, "diff": diff.diff, "lo": diff.lo, "hi": diff.hi,
            "method": diff.method, "deep_tied": ", ".join(d.tied), "classical_tied": ", ".join(c.tied),
            "deep_regret": d.regret, "classical_regret": c.regret, "difference": diff,
            "basis": sides.basis, "paired": sides.paired,
        })
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def win_records(df: pd.DataFrame) -> pd.DataFrame:
    """Best deep minus best classical (on equal terms), per (dataset, size, seed), with the winner."""
    rows = []
    for dataset, modality, n, _at, d, c, _sides in _pairs(df):
        for seed, v in paired(d.scores, c.scores).items():
            winner = "deep" if v > MARGIN else "classical" if v < -MARGIN else "tie"
            rows.append({
                "dataset": dataset, "modality": modality, "n_train": n, "seed": int(seed),
                "deep": d.label, "classical": c.label, "diff": float(v), "winner": winner,
            })
    return pd.DataFrame(rows, columns=WIN_COLUMNS)


def win_rate(records: pd.DataFrame) -> float:
    """Share of comparisons deep wins, ties counting half."""
    if records.empty:
        return float("nan")
    w = (records["winner"] == "deep").sum() + 0.5 * (records["winner"] == "tie").sum()
    return float(w / len(records))


def size_to_reach(df: pd.DataFrame, fraction: float = 0.95) -> pd.DataFrame:
    """Per (dataset, family, config): smallest size whose mean score reaches `fraction` of its best."""
    cols = ["dataset", "family", "config", "n_reach"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    means = df.groupby(["dataset", "family", "config", "n_train"])["score"].mean().reset_index()
    out = []
    for (dataset, fam, cfg), g in means.groupby(["dataset", "family", "config"]):
        g = g.sort_values("n_train")
        if len(g) < 2:
            continue
        top = g["score"].max()
        if top <= 0:
            continue
        reach = int(g.loc[g["score"] >= fraction * top, "n_train"].min())
        out.append({"dataset": dataset, "family": fam, "config": cfg, "n_reach": reach})
    return pd.DataFrame(out, columns=cols)


def model_sizes(at: pd.DataFrame) -> pd.DataFrame:
    """Median size figures per (family, config) of the cells `at` (one dataset, one size)."""
    per = at.groupby(["family", "config"]).agg(
        n_params=("n_params", "median"), model_bytes=("model_bytes", "median"),
        size_proxy=("size_proxy", "median"), size_unit=("size_unit", "first"),
    ).reset_index()
    return per[np.isfinite(per["n_params"])]
