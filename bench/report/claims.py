"""The verdict rules: one function per claim, turning a results table into a verdict.

Each rule was written before any result was looked at, and its text (`RULE`) sits next
to it so the report prints exactly the rule the code applies. A rule reads only the
results table (`bench.results.frame` schema), uses only cells with status `ok`, and
answers `supported`, `refuted`, `mixed` or `not measurable` (with the reason).

Shared conventions, printed once in the report (`CONVENTIONS`):

- a *configuration* is a (model label, feature variant) pair; the best configuration of a
  family at a (dataset, training size) is the one with the highest mean score over seeds;
- deep and classical are compared seed by seed (same split, same training rows), and a
  difference counts only beyond a margin of 0.01 in score (accuracy or R²);
- a claim tested on several datasets is *supported* when at least two thirds of them
  support it and none refutes it, *refuted* when at least two thirds refute it and none
  supports it, and *mixed* otherwise.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MARGIN = 0.01
VERDICTS = ("supported", "refuted", "mixed", "not measurable")

CONVENTIONS = (
    "Only cells with status ok count. A configuration is a (model, feature variant) pair; "
    "the best configuration of a family at a (dataset, training size) is the one with the "
    "highest mean score over seeds (score = accuracy for classification, R² for regression). "
    "Deep and classical are compared seed by seed, on the same split and training rows; a "
    f"difference counts only beyond a margin of {MARGIN} in score. A claim tested on several "
    "datasets is supported when at least two thirds of them support it and none refutes it, "
    "refuted when at least two thirds refute it and none supports it, and mixed otherwise. "
    "Spreads are mean ± standard deviation across seeds."
)


@dataclass(frozen=True)
class Verdict:
    """One claim confronted with the measurements."""

    key: str
    aspect: str
    classical: str
    deep: str
    rule: str
    verdict: str
    reason: str
    evidence: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Claim:
    key: str
    aspect: str
    classical: str  # what the documents say of classical ML ("" for a further claim)
    deep: str  # what they say of deep learning, or the further claim itself
    rule: str
    fn: Callable[[pd.DataFrame], tuple[str, str, list[str]]]


TABLE: list[Claim] = []  # the six rows of the documents' comparison table, in order
FURTHER: list[Claim] = []  # the further claims of CLAIMS.md


def _claim(registry: list[Claim], key: str, aspect: str, classical: str, deep: str, rule: str):
    def wrap(fn):
        registry.append(Claim(key, aspect, classical, deep, " ".join(rule.split()), fn))
        return fn

    return wrap


def evaluate(claim: Claim, df: pd.DataFrame) -> Verdict:
    verdict, reason, evidence = claim.fn(ok_rows(df))
    if verdict not in VERDICTS:
        raise ValueError(f"rule {claim.key} returned {verdict!r}")
    return Verdict(claim.key, claim.aspect, claim.classical, claim.deep, claim.rule, verdict, reason, tuple(evidence))


def table_verdicts(df: pd.DataFrame) -> list[Verdict]:
    return [evaluate(c, df) for c in TABLE]


def further_verdicts(df: pd.DataFrame) -> list[Verdict]:
    return [evaluate(c, df) for c in FURTHER]


# ---------------------------------------------------------------- helpers


def ok_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Finished cells with a finite score."""
    if df.empty:
        return df
    out = df[(df["status"] == "ok") & np.isfinite(df["score"].astype("float64"))].copy()
    out["config"] = config_label(out)
    return out


def config_label(df: pd.DataFrame) -> pd.Series:
    """`model` for raw features, `model [features]` otherwise."""
    if df.empty:
        return pd.Series([], dtype="string", index=df.index)
    model = df["model"].astype(str)
    feats = df["features"].astype(str)
    return model.where(feats == "raw", model + " [" + feats + "]")


def signed(x: float, digits: int = 3) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:+.{digits}f}"


def spread(values, digits: int = 3, sign: bool = False) -> str:
    """`mean ± sd (k seeds)`; sd is 0 with one seed."""
    v = np.asarray(pd.Series(values, dtype="float64").dropna())
    if v.size == 0:
        return "n/a"
    mean = float(v.mean())
    sd = float(v.std(ddof=1)) if v.size > 1 else 0.0
    head = f"{mean:+.{digits}f}" if sign else f"{mean:.{digits}f}"
    return f"{head} ± {sd:.{digits}f} ({v.size} seed{'s' if v.size != 1 else ''})"


def count(x: float) -> str:
    if not math.isfinite(x):
        return "n/a"
    if x >= 1e6:
        return f"{x / 1e6:.3g}M"
    if x >= 1e4:
        return f"{x / 1e3:.3g}k"
    return f"{x:.0f}"


def ratio(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"×{x:.3g}"


def best_config(df: pd.DataFrame, family: str, features: str | None = None) -> tuple[str, pd.Series] | None:
    """Best configuration of a family in `df` (one dataset, one size): label and its score per seed."""
    sub = df[df["family"] == family]
    if features is not None:
        sub = sub[sub["features"] == features]
    if sub.empty:
        return None
    means = sub.groupby("config")["score"].mean().sort_index()
    label = str(means.idxmax())
    per_seed = sub[sub["config"] == label].groupby("seed")["score"].mean()
    return label, per_seed


def paired(a: pd.Series, b: pd.Series) -> pd.Series:
    """a - b on the seeds both have."""
    common = a.index.intersection(b.index)
    return (a[common] - b[common]).sort_index()


def tally(outcomes: dict[str, str]) -> str:
    """Datasets' outcomes (supports / refutes / mixed) -> verdict, by the two-thirds rule."""
    n = len(outcomes)
    sup = sum(o == "supports" for o in outcomes.values())
    ref = sum(o == "refutes" for o in outcomes.values())
    if sup * 3 >= 2 * n and ref == 0:
        return "supported"
    if ref * 3 >= 2 * n and sup == 0:
        return "refuted"
    return "mixed"


def two_part(p1: bool, p2: bool) -> str:
    """Two predictions of one claim: both hold supports, neither refutes, one is mixed."""
    return "supports" if p1 and p2 else "refutes" if not (p1 or p2) else "mixed"


def tally_reason(outcomes: dict[str, str]) -> str:
    n = len(outcomes)
    counts = {o: sum(v == o for v in outcomes.values()) for o in ("supports", "refutes", "mixed")}
    head = f"of {n} dataset{'s' if n != 1 else ''}, {counts['supports']} support{'s' if counts['supports'] == 1 else ''}, "
    head += f"{counts['refutes']} refute{'s' if counts['refutes'] == 1 else ''}, {counts['mixed']} mixed"
    return head + " (" + "; ".join(f"{k}: {v}" for k, v in sorted(outcomes.items())) + ")"


def families(df: pd.DataFrame) -> set[str]:
    return set(df["family"].astype(str)) if not df.empty else set()


def compared_sizes(df: pd.DataFrame, dataset: str) -> list[int]:
    """Training sizes of a dataset at which both families have finished cells."""
    sub = df[df["dataset"] == dataset]
    return sorted(
        int(n) for n, g in sub.groupby("n_train") if {"classical", "deep"} <= set(g["family"].astype(str))
    )


def win_records(df: pd.DataFrame) -> pd.DataFrame:
    """Best deep minus best classical, per (dataset, size, seed), with the outcome."""
    rows = []
    df = ok_rows(df) if "config" not in df.columns else df
    for dataset in sorted(df["dataset"].astype(str).unique()) if not df.empty else []:
        sub = df[df["dataset"] == dataset]
        modality = str(sub["modality"].iloc[0])
        for n in compared_sizes(df, dataset):
            at = sub[sub["n_train"] == n]
            d = best_config(at, "deep")
            c = best_config(at, "classical")
            diff = paired(d[1], c[1])
            for seed, v in diff.items():
                outcome = "deep" if v > MARGIN else "classical" if v < -MARGIN else "tie"
                rows.append({
                    "dataset": dataset, "modality": modality, "n_train": n, "seed": int(seed),
                    "deep": d[0], "classical": c[0], "diff": float(v), "winner": outcome,
                })
    return pd.DataFrame(rows, columns=["dataset", "modality", "n_train", "seed", "deep", "classical", "diff", "winner"])


def win_rate(records: pd.DataFrame) -> float:
    """Share of comparisons deep wins, ties counting half."""
    if records.empty:
        return float("nan")
    w = (records["winner"] == "deep").sum() + 0.5 * (records["winner"] == "tie").sum()
    return float(w / len(records))


def _need(df: pd.DataFrame, *fams: str) -> str | None:
    have = families(df)
    missing = [f for f in fams if f not in have]
    if missing:
        return f"not measurable with this run: it has no finished {' or '.join(missing)} models"
    return None


# ------------------------------------------------------- the comparison table

FEATURE_RULE = """
On every image or sequence dataset with classical models on raw and on engineered features
and deep models on raw input, at the largest training size all three reach: prediction 1
(classical needs hand-designed features) holds when the best classical model on engineered
features beats the best one on raw input by more than the margin; prediction 2 (deep learns
its features) holds when the best deep model on raw input is within the margin of the best
classical model on engineered features, or above it. Both hold: the dataset supports the
claim; neither: it refutes it; one: mixed. Datasets combine by the two-thirds rule.
"""


@_claim(
    TABLE, "feature_engineering", "Feature engineering (特征工程)",
    "needs hand-designed features (需要手工设计特征)",
    "needs none; learns features automatically (不需要手工设计特征，能够自动学习特征)", FEATURE_RULE,
)
def feature_engineering(df: pd.DataFrame):
    if df.empty:
        return "not measurable", "not measurable with this run: no finished cells", []
    outcomes, evidence = {}, []
    for dataset in sorted(df["dataset"].astype(str).unique()):
        sub = df[df["dataset"] == dataset]
        sizes = []
        for n, at in sub.groupby("n_train"):
            cl = at[at["family"] == "classical"]
            if {"raw"} <= set(cl["features"]) and (cl["features"] != "raw").any() and (at["family"] == "deep").any():
                sizes.append(int(n))
        if not sizes:
            continue
        n = max(sizes)
        at = sub[sub["n_train"] == n]
        raw = best_config(at, "classical", "raw")
        eng_rows = at[(at["family"] == "classical") & (at["features"] != "raw")]
        eng = best_config(eng_rows, "classical")
        deep = best_config(at, "deep")
        gain = paired(eng[1], raw[1])
        deep_vs_eng = paired(deep[1], eng[1])
        p1 = gain.mean() > MARGIN
        p2 = deep_vs_eng.mean() >= -MARGIN
        outcomes[dataset] = two_part(p1, p2)
        evidence.append(
            f"{dataset} (n_train={n}): classical raw {raw[0]} {spread(raw[1])}; "
            f"classical engineered {eng[0]} {spread(eng[1])}; deep raw {deep[0]} {spread(deep[1])}; "
            f"engineered − raw {spread(gain, sign=True)}; deep − engineered {spread(deep_vs_eng, sign=True)} "
            f"→ {outcomes[dataset]}"
        )
    if not outcomes:
        return (
            "not measurable",
            "not measurable with this run: no dataset has classical models on both raw and "
            "engineered features together with deep models",
            [],
        )
    return tally(outcomes), tally_reason(outcomes), evidence


COMPLEXITY_RULE = """
Measured as size, the part of "complex" a benchmark can measure (how easy a model is to
understand is not measured). At each dataset's largest training size with both families,
every deep configuration is paired with every classical configuration, comparing learned
parameter counts (median over seeds). Supported when deep has more parameters in at least
75% of pairs, refuted when in at most 25%, mixed otherwise.
"""


@_claim(
    TABLE, "model_complexity", "Model complexity (模型复杂度)",
    "simple, easy to understand (模型简单，易于理解)", "complex, hard to understand (模型复杂，难以理解)",
    COMPLEXITY_RULE,
)
def model_complexity(df: pd.DataFrame):
    missing = _need(df, "classical", "deep")
    if missing:
        return "not measurable", missing, []
    more = total = 0
    evidence = []
    for dataset in sorted(df["dataset"].astype(str).unique()):
        sizes = compared_sizes(df, dataset)
        if not sizes:
            continue
        at = df[(df["dataset"] == dataset) & (df["n_train"] == sizes[-1])]
        per = at.groupby(["family", "config"]).agg(
            n_params=("n_params", "median"), model_bytes=("model_bytes", "median"),
            size_proxy=("size_proxy", "median"), size_unit=("size_unit", "first"),
        ).reset_index()
        per = per[np.isfinite(per["n_params"])]
        deep = per[per["family"] == "deep"]
        cl = per[per["family"] == "classical"]
        if deep.empty or cl.empty:
            continue
        pairs = [(d, c) for d in deep["n_params"] for c in cl["n_params"]]
        m = sum(d > c for d, c in pairs)
        more += m
        total += len(pairs)
        items = "; ".join(
            f"{r.config} {count(r.n_params)} params, {count(r.model_bytes)} B"
            + (f", {count(r.size_proxy)} {r.size_unit}" if isinstance(r.size_unit, str) and r.size_unit and math.isfinite(r.size_proxy) else "")
            for r in per.sort_values(["family", "config"]).itertuples()
        )
        evidence.append(f"{dataset} (n_train={sizes[-1]}): deep larger in {m}/{len(pairs)} pairs — {items}")
    if total == 0:
        return "not measurable", "not measurable with this run: no dataset has parameter counts for both families", []
    share = more / total
    verdict = "supported" if share >= 0.75 else "refuted" if share <= 0.25 else "mixed"
    return verdict, f"deep has more parameters in {more}/{total} pairs ({share:.0%})", evidence


DATA_RULE = """
On every dataset with both families at two or more training sizes, d(n) is the best deep
score minus the best classical score at size n (paired by seed, averaged). Prediction 1
(deep needs more data): classical is ahead at the smallest size, d(n_min) < −margin.
Prediction 2 (deep gains from scale): d(n_max) − d(n_min) > margin. Both hold: supports;
neither: refutes; one: mixed; datasets combine by the two-thirds rule. Also reported: the
smallest size from which deep stays ahead (crossover), and the median size at which a
configuration reaches 95% of its own best score.
"""


def size_to_reach(df: pd.DataFrame, fraction: float = 0.95) -> pd.DataFrame:
    """Per (dataset, family, config): smallest size whose mean score reaches `fraction` of its best."""
    means = df.groupby(["dataset", "family", "config", "n_train"])["score"].mean().reset_index()
    out = []
    for (dataset, fam, cfg), g in means.groupby(["dataset", "family", "config"]):
        g = g.sort_values("n_train")
        if len(g) < 2:
            continue
        best = g["score"].max()
        if best <= 0:
            continue
        reach = int(g.loc[g["score"] >= fraction * best, "n_train"].min())
        out.append({"dataset": dataset, "family": fam, "config": cfg, "n_reach": reach})
    return pd.DataFrame(out, columns=["dataset", "family", "config", "n_reach"])


@_claim(
    TABLE, "data_requirement", "Data requirement (数据量需求)",
    "modest (对数据量的需求不高)", "high; needs large-scale data to train (对数据量的需求高，需要大规模数据进行训练)",
    DATA_RULE,
)
def data_requirement(df: pd.DataFrame):
    missing = _need(df, "classical", "deep")
    if missing:
        return "not measurable", missing, []
    wins = win_records(df)
    reach = size_to_reach(df)
    outcomes, evidence = {}, []
    for dataset, g in wins.groupby("dataset", sort=True):
        d = g.groupby("n_train")["diff"]
        sizes = sorted(d.groups)
        if len(sizes) < 2:
            continue
        d_min, d_max = d.mean()[sizes[0]], d.mean()[sizes[-1]]
        outcomes[dataset] = two_part(d_min < -MARGIN, d_max - d_min > MARGIN)
        ahead = [n for n in sizes if d.mean()[n] > MARGIN]
        cross = next((n for n in sizes if all(m in ahead for m in sizes if m >= n)), None)
        r = reach[reach["dataset"] == dataset].groupby("family")["n_reach"].median()
        evidence.append(
            f"{dataset}: deep − classical at n={sizes[0]} {spread(d.get_group(sizes[0]), sign=True)}, "
            f"at n={sizes[-1]} {spread(d.get_group(sizes[-1]), sign=True)}; "
            + (f"deep ahead from n={cross} on; " if cross is not None else "deep never stays ahead within this grid; ")
            + f"median size to 95% of own best: classical {count(r.get('classical', float('nan')))}, "
            f"deep {count(r.get('deep', float('nan')))} → {outcomes[dataset]}"
        )
    if not outcomes:
        return "not measurable", "not measurable with this run: no dataset has both families at two or more training sizes", []
    return tally(outcomes), tally_reason(outcomes), evidence


INNOVATION_RULE = """
None: this row is a statement about research activity (how many new algorithms each field
produces), not about how models behave on data, so no measurement of this benchmark bears
on it. It is always marked not measurable.
"""


@_claim(TABLE, "algorithmic_innovation", "Algorithmic innovation (算法创新)", "little (算法创新较少)", "much (算法创新较多)",
    INNOVATION_RULE)
def algorithmic_innovation(df: pd.DataFrame):
    return (
        "not measurable",
        "not measurable by this benchmark: it concerns the pace of research (papers, new "
        "methods), which no score, time or memory figure of fitted models can show",
        [],
    )


SCENARIO_RULE = """
Win records pair the best deep and best classical configuration per (dataset, size, seed):
deep wins beyond the margin, classical wins below minus the margin, a tie counts half.
Prediction 1 (classical suits small structured data): on tabular datasets at their smallest
compared size, deep's win rate is at most 50%. Prediction 2 (deep suits large unstructured
data): on image and sequence datasets at their largest compared size, deep's win rate is
above 50%. Both hold: supported; neither: refuted; one: mixed. Not measurable unless the
run has both tabular and image/sequence comparisons.
"""


@_claim(
    TABLE, "application_scenarios", "Application scenarios (应用场景)",
    "small datasets, structured data (适用于小数据集和结构化数据)",
    "large datasets, structured and unstructured data (适用于大数据集和结构化/非结构化数据)", SCENARIO_RULE,
)
def application_scenarios(df: pd.DataFrame):
    missing = _need(df, "classical", "deep")
    if missing:
        return "not measurable", missing, []
    wins = win_records(df)
    if wins.empty:
        return "not measurable", "not measurable with this run: no dataset has both families at one size", []
    smallest = wins.groupby("dataset")["n_train"].transform("min") == wins["n_train"]
    largest = wins.groupby("dataset")["n_train"].transform("max") == wins["n_train"]
    tab = wins["modality"] == "tabular"
    small_tab = wins[smallest & tab]
    large_tab = wins[largest & tab]
    large_un = wins[largest & ~tab]
    small_un = wins[smallest & ~tab]
    evidence = []
    for label, rec in (
        ("tabular, smallest size", small_tab), ("tabular, largest size", large_tab),
        ("image/sequence, smallest size", small_un), ("image/sequence, largest size", large_un),
    ):
        if rec.empty:
            evidence.append(f"{label}: no comparison in this run")
            continue
        evidence.append(
            f"{label}: deep win rate {win_rate(rec):.0%} over {len(rec)} comparisons "
            f"({(rec['winner'] == 'deep').sum()} deep, {(rec['winner'] == 'classical').sum()} classical, "
            f"{(rec['winner'] == 'tie').sum()} ties; mean deep − classical {spread(rec['diff'], sign=True).split(' (')[0]}) "
            f"on {', '.join(sorted(rec['dataset'].unique()))}"
        )
    for modality, g in wins.groupby("modality", sort=True):
        rates = ", ".join(f"n={n}: {win_rate(h):.0%}" for n, h in g.groupby("n_train"))
        evidence.append(f"deep win rate by size, {modality}: {rates}")
    if small_tab.empty or large_un.empty:
        what = "tabular" if small_tab.empty else "image or sequence"
        return "not measurable", f"not measurable with this run: it has no {what} comparison of deep and classical models", evidence
    p1 = win_rate(small_tab) <= 0.5
    p2 = win_rate(large_un) > 0.5
    verdict = {"supports": "supported", "refutes": "refuted", "mixed": "mixed"}[two_part(p1, p2)]
    return (
        verdict,
        f"prediction 1 (classical on small tabular) {'holds' if p1 else 'fails'}; "
        f"prediction 2 (deep on large image/sequence) {'holds' if p2 else 'fails'}",
        evidence,
    )


COMPUTE_RULE = """
At each dataset's largest size with both families, per seed: the median over deep
configurations divided by the median over classical configurations, for fit CPU time
(floored at 1 ms) and peak fit memory (floored at 1 MB); seeds and then datasets combine by
geometric mean. Supported when both ratios exceed 2 (deep needs at least twice the
compute), refuted when both are below 1 (deep needs less), mixed otherwise. Fit wall time
and one-row predict latency are reported alongside.
"""

_FLOORS = {"fit_cpu_s": 1e-3, "fit_time_s": 1e-3, "peak_memory_mb": 1.0, "predict_latency_ms": 1e-3}


def _gmean(values) -> float:
    v = np.asarray([x for x in values if math.isfinite(x) and x > 0], dtype="float64")
    return float(np.exp(np.log(v).mean())) if v.size else float("nan")


def compute_ratios(df: pd.DataFrame) -> pd.DataFrame:
    """Deep / classical ratio of each cost, per (dataset, seed), at the largest compared size."""
    rows = []
    for dataset in sorted(df["dataset"].astype(str).unique()):
        sizes = compared_sizes(df, dataset)
        if not sizes:
            continue
        at = df[(df["dataset"] == dataset) & (df["n_train"] == sizes[-1])]
        for seed, g in at.groupby("seed"):
            rec = {"dataset": dataset, "n_train": sizes[-1], "seed": int(seed)}
            for col, floor in _FLOORS.items():
                med = g.assign(v=g[col].clip(lower=floor)).groupby(["family", "config"])["v"].median()
                fam = med.groupby(level="family").median()
                rec[col] = float(fam.get("deep", np.nan) / fam.get("classical", np.nan))
            rows.append(rec)
    return pd.DataFrame(rows, columns=["dataset", "n_train", "seed", *_FLOORS])


@_claim(TABLE, "compute_requirement", "Compute requirement (计算资源需求)", "low (计算资源需求较低)", "high (计算资源需求较高)",
    COMPUTE_RULE)
def compute_requirement(df: pd.DataFrame):
    missing = _need(df, "classical", "deep")
    if missing:
        return "not measurable", missing, []
    r = compute_ratios(df)
    r = r[np.isfinite(r["fit_cpu_s"]) & np.isfinite(r["peak_memory_mb"])]
    if r.empty:
        return "not measurable", "not measurable with this run: no dataset has costs for both families", []
    evidence = []
    per = r.groupby("dataset")
    for dataset, g in per:
        parts = []
        for col, name in (("fit_cpu_s", "fit CPU"), ("fit_time_s", "fit wall"), ("peak_memory_mb", "peak memory"), ("predict_latency_ms", "predict latency")):
            parts.append(f"{name} {ratio(_gmean(g[col]))} (seeds {ratio(g[col].min())}–{ratio(g[col].max())})")
        evidence.append(f"{dataset} (n_train={int(g['n_train'].iloc[0])}), deep / classical: " + ", ".join(parts))
    cpu = _gmean(per["fit_cpu_s"].apply(_gmean))
    mem = _gmean(per["peak_memory_mb"].apply(_gmean))
    verdict = "supported" if cpu > 2 and mem > 2 else "refuted" if cpu < 1 and mem < 1 else "mixed"
    return verdict, f"over {len(per)} datasets, deep / classical: fit CPU time {ratio(cpu)}, peak memory {ratio(mem)}", evidence


# ---------------------------------------------------------------- further claims

CNN_RULE = """
On every image dataset with both a `cnn` and an `mlp` model, at the largest size both
reach, the best configuration of each: prediction 1, the CNN has fewer learned parameters
(median over seeds); prediction 2, the CNN's test score is above the MLP's by more than
the margin (paired by seed). Both hold: supports; neither: refutes; one: mixed; datasets
combine by the two-thirds rule.
"""


def _best_of_model(at: pd.DataFrame, model_name: str) -> tuple[str, pd.Series, float] | None:
    sub = at[at["model_name"].astype(str) == model_name]
    if sub.empty:
        return None
    means = sub.groupby("config")["score"].mean().sort_index()
    label = str(means.idxmax())
    best = sub[sub["config"] == label]
    return label, best.groupby("seed")["score"].mean(), float(best["n_params"].median())


@_claim(
    FURTHER, "cnn_vs_mlp", "Convolution and pooling (seed 000, CNN section)", "",
    "convolution and pooling cut the parameter count and improve generalisation", CNN_RULE,
)
def cnn_vs_mlp(df: pd.DataFrame):
    if df.empty:
        return "not measurable", "not measurable with this run: no finished cells", []
    images = df[df["modality"] == "image"]
    outcomes, evidence = {}, []
    for dataset in sorted(images["dataset"].astype(str).unique()):
        sub = images[images["dataset"] == dataset]
        sizes = [n for n, g in sub.groupby("n_train") if {"cnn", "mlp"} <= set(g["model_name"].astype(str))]
        if not sizes:
            continue
        at = sub[sub["n_train"] == max(sizes)]
        cnn, mlp = _best_of_model(at, "cnn"), _best_of_model(at, "mlp")
        diff = paired(cnn[1], mlp[1])
        outcomes[dataset] = two_part(cnn[2] < mlp[2], diff.mean() > MARGIN)
        evidence.append(
            f"{dataset} (n_train={max(sizes)}): {cnn[0]} {count(cnn[2])} params, score {spread(cnn[1])}; "
            f"{mlp[0]} {count(mlp[2])} params, score {spread(mlp[1])}; CNN − MLP {spread(diff, sign=True)} "
            f"→ {outcomes[dataset]}"
        )
    if not outcomes:
        return "not measurable", "not measurable with this run: no image dataset has both a cnn and an mlp model", []
    return tally(outcomes), tally_reason(outcomes), evidence


LONG_RANGE_DATASETS = ("synthetic_sequences",)
LONG_RANGE_RULE = """
On the sequence datasets built so that the label depends on distant elements
(`synthetic_sequences`), at the largest size where an `rnn` model ran: the best RNN
configuration against the best order-blind competitor (the `mlp` and every classical
configuration, raw or engineered), paired by seed. RNN ahead by more than the margin:
supports; behind by more than the margin: refutes; otherwise mixed. The CNN is reported
alongside. Datasets combine by the two-thirds rule.
"""


@_claim(
    FURTHER, "long_range", "Recurrent networks and long-range dependencies (seeds 000, 002)", "",
    "recurrent networks capture long-range dependencies in sequences", LONG_RANGE_RULE,
)
def long_range(df: pd.DataFrame):
    if df.empty:
        return "not measurable", "not measurable with this run: no finished cells", []
    seqs = df[df["dataset_name"].astype(str).isin(LONG_RANGE_DATASETS)]
    outcomes, evidence = {}, []
    for dataset in sorted(seqs["dataset"].astype(str).unique()):
        sub = seqs[seqs["dataset"] == dataset]
        sizes = [n for n, g in sub.groupby("n_train") if "rnn" in set(g["model_name"].astype(str))]
        if not sizes:
            continue
        at = sub[sub["n_train"] == max(sizes)]
        rnn = _best_of_model(at, "rnn")
        blind = at[(at["family"] == "classical") | (at["model_name"].astype(str) == "mlp")]
        if blind.empty:
            continue
        means = blind.groupby("config")["score"].mean().sort_index()
        rival = str(means.idxmax())
        rival_s = blind[blind["config"] == rival].groupby("seed")["score"].mean()
        diff = paired(rnn[1], rival_s)
        outcomes[dataset] = "supports" if diff.mean() > MARGIN else "refutes" if diff.mean() < -MARGIN else "mixed"
        line = (
            f"{dataset} (n_train={max(sizes)}): {rnn[0]} {spread(rnn[1])}; best order-blind {rival} "
            f"{spread(rival_s)}; RNN − it {spread(diff, sign=True)}"
        )
        for other in ("cnn", "mlp"):
            o = _best_of_model(at, other)
            if o is not None:
                line += f"; {o[0]} {spread(o[1])}"
        evidence.append(line + f" → {outcomes[dataset]}")
    if not outcomes:
        return (
            "not measurable",
            "not measurable with this run: no long-range sequence dataset (synthetic_sequences) "
            "with an rnn model and an order-blind competitor",
            [],
        )
    return tally(outcomes), tally_reason(outcomes), evidence


GAP_DATA_RULE = """
The train/test gap is train score minus test score (train score on up to 2,000 training
rows). For every (dataset, configuration) measured at two or more sizes, with the gap
averaged over seeds: the gap at the largest size below the gap at the smallest by more
than the margin supports the claim, above it by more than the margin refutes it,
otherwise it is neutral. Supported when at least two thirds of the configurations support
it, refuted when at least two thirds refute it, mixed otherwise (with dozens of
configurations, one exception should not flip the verdict).
"""


def gaps(df: pd.DataFrame) -> pd.DataFrame:
    """Mean train/test gap per (dataset, family, model, config, size)."""
    if df.empty:
        return pd.DataFrame(columns=["dataset", "family", "model_name", "config", "n_train", "gap", "sd", "n"])
    g = df.assign(gap=df["train_score"] - df["score"])
    g = g[np.isfinite(g["gap"])]
    return (
        g.groupby(["dataset", "family", "model_name", "config", "n_train"])["gap"]
        .agg(gap="mean", sd="std", n="count").reset_index()
    )


@_claim(
    FURTHER, "gap_with_data", "Overfitting and more data (seed 003, §8.4)", "",
    "overfitting is reduced by more data: the train/test gap shrinks as the training set grows", GAP_DATA_RULE,
)
def gap_with_data(df: pd.DataFrame):
    g = gaps(df)
    outcomes, evidence = {}, []
    for (dataset, cfg), h in g.groupby(["dataset", "config"], sort=True):
        h = h.sort_values("n_train")
        if len(h) < 2:
            continue
        lo, hi = h.iloc[0], h.iloc[-1]
        delta = hi["gap"] - lo["gap"]
        outcomes[f"{dataset}/{cfg}"] = "supports" if delta < -MARGIN else "refutes" if delta > MARGIN else "neutral"
        evidence.append(
            f"{dataset} / {cfg}: gap {lo['gap']:.3f} at n={int(lo['n_train'])} → {hi['gap']:.3f} at n={int(hi['n_train'])}"
        )
    if not outcomes:
        return "not measurable", "not measurable with this run: no configuration has a train score at two or more sizes", []
    n = len(outcomes)
    sup = sum(o == "supports" for o in outcomes.values())
    ref = sum(o == "refutes" for o in outcomes.values())
    verdict = "supported" if sup * 3 >= 2 * n else "refuted" if ref * 3 >= 2 * n else "mixed"
    reason = f"the gap shrinks in {sup}, grows in {ref}, stays within the margin in {n - sup - ref} of {n} configurations"
    return verdict, reason, evidence


# Hyperparameters whose larger value regularises more (+1) or less (-1); deep models' nested
# names (`module__dropout`, `optimizer__weight_decay`) match on their last part.
REGULARISERS = {
    "dropout": +1, "weight_decay": +1, "alpha": +1, "l2": +1, "reg_lambda": +1, "reg_alpha": +1,
    "lambda": +1, "gamma": +1, "min_samples_leaf": +1, "min_samples_split": +1, "min_child_weight": +1,
    "ccp_alpha": +1, "n_neighbors": +1, "max_depth": -1, "max_leaf_nodes": -1, "C": -1,
}
# Values a missing key takes (the factories' defaults); None means unlimited (max_depth).
REGULARISER_DEFAULTS = {
    "dropout": 0.0, "weight_decay": 0.0, "ccp_alpha": 0.0, "min_samples_leaf": 1,
    "min_samples_split": 2, "max_leaf_nodes": None,
}
_TREE_DEPTH_DEFAULT = {"decision_tree": None, "random_forest": None, "xgboost": 6}

GAP_REG_RULE = """
Regularisation pairs are two configurations of the same model on the same dataset whose
hyperparameters differ only in regularisers (dropout, weight decay, alpha/lambda, C,
maximum depth, minimum leaf size, ...; read from the suite's `params`, missing keys taking
the model's default where it is known), every one of them pointing the same way. At the largest size both reach, mean over seeds:
the more regularised configuration's gap below the other's by more than the margin
supports the claim, above by more than the margin refutes it, otherwise neutral. Supported
when at least two thirds of the pairs support it, refuted when at least two thirds refute
it, mixed otherwise.
"""


def _reg_value(params: dict, key: str, model_name: str):
    for k, v in params.items():
        if k.split("__")[-1] == key:
            return v
    if key == "max_depth" and model_name in _TREE_DEPTH_DEFAULT:
        return _TREE_DEPTH_DEFAULT[model_name]
    if key in REGULARISER_DEFAULTS:
        return REGULARISER_DEFAULTS[key]
    return "?"


def _strength(value, direction: int) -> float:
    if value is None:  # unlimited depth or leaves: the least regularised
        return -math.inf if direction < 0 else math.inf
    return direction * float(value)


def regularisation_pairs(df: pd.DataFrame) -> list[tuple[str, str, str, str, str]]:
    """(dataset, model_name, more regularised label, less regularised label, regularisers)."""
    out = []
    if df.empty:
        return out
    labels = df.groupby(["dataset", "model_name", "model", "features"])["params"].first().reset_index()
    for (dataset, name, feats), g in labels.groupby(["dataset", "model_name", "features"], sort=True):
        rows = list(g.itertuples())
        for i, a in enumerate(rows):
            for b in rows[i + 1:]:
                pa, pb = _params(a.params), _params(b.params)
                keys = {k.split("__")[-1] for k in set(pa) | set(pb)}
                differing = []
                for k in sorted(keys):
                    va, vb = _reg_value(pa, k, name), _reg_value(pb, k, name)
                    if va != vb:
                        differing.append((k, va, vb))
                if not differing or any(k not in REGULARISERS or "?" in (va, vb) for k, va, vb in differing):
                    continue
                signs = {
                    _strength(va, REGULARISERS[k]) > _strength(vb, REGULARISERS[k]) for k, va, vb in differing
                }
                if len(signs) != 1:  # one regularises more in one respect, less in another
                    continue
                more, less = (a, b) if signs.pop() else (b, a)
                keys = "+".join(k for k, _, _ in differing)
                out.append((dataset, name, _label(more.model, feats), _label(less.model, feats), keys))
    return out


def _label(model: str, features: str) -> str:
    return model if features == "raw" else f"{model} [{features}]"


def _params(text) -> dict:
    try:
        value = json.loads(text) if isinstance(text, str) and text else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


@_claim(
    FURTHER, "gap_with_regularisation", "Overfitting and regularisation (seed 003, §8.4)", "",
    "overfitting is reduced by regularisation and dropout: a smaller train/test gap", GAP_REG_RULE,
)
def gap_with_regularisation(df: pd.DataFrame):
    pairs = regularisation_pairs(df)
    if not pairs:
        return (
            "not measurable",
            "not measurable with this run: the suite has no two configurations of one model that "
            "differ only in a regulariser (e.g. an MLP with and without dropout, a tree with and "
            "without a depth limit)",
            [],
        )
    g = gaps(df)
    outcomes, evidence = {}, []
    for dataset, _name, more, less, key in pairs:
        h = g[g["dataset"] == dataset]
        a, b = h[h["config"] == more], h[h["config"] == less]
        common = sorted(set(a["n_train"]) & set(b["n_train"]))
        if not common:
            continue
        n = common[-1]
        ga = float(a.loc[a["n_train"] == n, "gap"].iloc[0])
        gb = float(b.loc[b["n_train"] == n, "gap"].iloc[0])
        o = "supports" if ga < gb - MARGIN else "refutes" if ga > gb + MARGIN else "neutral"
        outcomes[f"{dataset}/{more}/{less}"] = o
        by_size = ", ".join(
            f"n={m}: {float(a.loc[a['n_train'] == m, 'gap'].iloc[0]):.3f} vs {float(b.loc[b['n_train'] == m, 'gap'].iloc[0]):.3f}"
            for m in common
        )
        evidence.append(
            f"{dataset}, {key}: {more} vs {less}, train/test gap by size ({by_size}); "
            f"at n={n} → {o}"
        )
    if not outcomes:
        return "not measurable", "not measurable with this run: regularisation pairs share no training size", []
    n = len(outcomes)
    sup = sum(o == "supports" for o in outcomes.values())
    ref = sum(o == "refutes" for o in outcomes.values())
    verdict = "supported" if sup * 3 >= 2 * n else "refuted" if ref * 3 >= 2 * n else "mixed"
    return verdict, f"the regularised configuration has the smaller gap in {sup}, the larger in {ref}, of {n} pairs", evidence


FEATURE_QUALITY_RULE = """
On every dataset with classical models on raw and on engineered features, at the largest
size both reach: the best classical configuration on engineered features minus the best on
raw input (paired by seed). A gain above 0.05 (five points of accuracy or R²) supports
"strongly depends", a gain below the margin refutes it, between the two is mixed. Datasets
combine by the two-thirds rule.
"""


@_claim(
    FURTHER, "feature_quality", "Features and classical quality (seed 002, §1.1)", "",
    "classical methods' quality depends strongly on the quality of the features", FEATURE_QUALITY_RULE,
)
def feature_quality(df: pd.DataFrame):
    if df.empty:
        return "not measurable", "not measurable with this run: no finished cells", []
    cl = df[df["family"] == "classical"]
    outcomes, evidence = {}, []
    for dataset in sorted(cl["dataset"].astype(str).unique()):
        sub = cl[cl["dataset"] == dataset]
        sizes = [n for n, g in sub.groupby("n_train") if "raw" in set(g["features"]) and (g["features"] != "raw").any()]
        if not sizes:
            continue
        at = sub[sub["n_train"] == max(sizes)]
        raw = best_config(at, "classical", "raw")
        eng = best_config(at[at["features"] != "raw"], "classical")
        gain = paired(eng[1], raw[1])
        outcomes[dataset] = "supports" if gain.mean() > 0.05 else "refutes" if gain.mean() < MARGIN else "mixed"
        per_model = []
        for name, h in at.groupby("model", sort=True):
            r = h[h["features"] == "raw"].groupby("seed")["score"].mean()
            e = h[h["features"] != "raw"].groupby("seed")["score"].mean()
            if len(r) and len(e):
                per_model.append(f"{name} {signed(paired(e, r).mean())}")
        evidence.append(
            f"{dataset} (n_train={max(sizes)}): engineered {eng[0]} {spread(eng[1])} vs raw {raw[0]} {spread(raw[1])}, "
            f"gain {spread(gain, sign=True)}; gain per model: {', '.join(per_model)} → {outcomes[dataset]}"
        )
    if not outcomes:
        return "not measurable", "not measurable with this run: no dataset has classical models on both raw and engineered features", []
    return tally(outcomes), tally_reason(outcomes), evidence


HYBRID_RULE = """
A hybrid is a model whose registry name contains `embed` or `hybrid` (a network's learned
representation fed to a classical model). On every dataset with a hybrid, at its largest
size: the best hybrid against the best of the other configurations, paired by seed; ahead
by more than the margin supports, behind by more than the margin refutes, otherwise
mixed. Datasets combine by the two-thirds rule.
"""


@_claim(
    FURTHER, "hybrid", "Deep and classical combined (seed 004, §2)", "",
    "deep learning combined with classical algorithms performs better (e.g. learned embeddings fed to a classical model)",
    HYBRID_RULE,
)
def hybrid(df: pd.DataFrame):
    if df.empty:
        return "not measurable", "not measurable with this run: no finished cells", []
    is_h = df["model_name"].astype(str).str.contains("embed|hybrid", regex=True)
    outcomes, evidence = {}, []
    for dataset in sorted(df.loc[is_h, "dataset"].astype(str).unique()):
        sub = df[df["dataset"] == dataset]
        n = int(sub.loc[is_h[sub.index], "n_train"].max())
        at = sub[sub["n_train"] == n]
        h = at[is_h[at.index]]
        o = at[~is_h[at.index]]
        if o.empty:
            continue
        hm, om = h.groupby("config")["score"].mean(), o.groupby("config")["score"].mean()
        hb, ob = str(hm.idxmax()), str(om.idxmax())
        diff = paired(h[h["config"] == hb].groupby("seed")["score"].mean(), o[o["config"] == ob].groupby("seed")["score"].mean())
        outcomes[dataset] = "supports" if diff.mean() > MARGIN else "refutes" if diff.mean() < -MARGIN else "mixed"
        evidence.append(f"{dataset} (n_train={n}): {hb} − {ob} {spread(diff, sign=True)} → {outcomes[dataset]}")
    if not outcomes:
        return (
            "not measurable",
            "not measurable with this run: no model feeds learned embeddings to a classical model "
            "(none is built in this harness yet)",
            [],
        )
    return tally(outcomes), tally_reason(outcomes), evidence


DATA_COMPUTE_RULE = """
The conjunction of two rows of the comparison table: supported when both the data
requirement and the compute requirement rows are supported, refuted when both are refuted,
not measurable when either is, mixed otherwise.
"""


@_claim(
    FURTHER, "data_and_compute", "Data and compute (seed 000, §1)", "",
    "deep learning usually needs a lot of data and compute, while classical machine learning "
    "can learn from smaller datasets", DATA_COMPUTE_RULE,
)
def data_and_compute(df: pd.DataFrame):
    a, ra, _ = data_requirement(df)
    b, rb, _ = compute_requirement(df)
    evidence = [f"data requirement: {a} ({ra})", f"compute requirement: {b} ({rb})"]
    if "not measurable" in (a, b):
        return "not measurable", "not measurable with this run: " + ("data requirement" if a == "not measurable" else "compute requirement") + " row is not measurable", evidence
    verdict = a if a == b and a in ("supported", "refuted") else "mixed"
    return verdict, f"data requirement {a}, compute requirement {b}", evidence
