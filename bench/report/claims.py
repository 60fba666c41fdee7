"""The verdict rules: one function per claim, turning a results table into a verdict.

Each rule was written before any result was looked at, and its text (`RULE`) sits next
to it so the report prints exactly the rule the code applies. A rule reads only the
results table (`bench.results.frame` schema), uses only cells with status `ok`, and
answers `supported`, `refuted`, `mixed` or `not measurable` (with the reason). The
measurements themselves (best configurations, pairing, win records, gaps, cost ratios)
live in `bench.report.analysis`, shared with the figures and tables.

Shared conventions, printed once in the report (`CONVENTIONS`):

- a *configuration* is a (model label, feature variant) pair; the best configuration of a
  family at a (dataset, training size) is the one with the highest mean score over seeds;
- deep and classical are compared seed by seed (same split, same training rows), and a
  difference counts only beyond a margin of 0.01 in score (accuracy or R²);
- a claim tested on several datasets is *supported* when at least two thirds of them
  support it and none refutes it, *refuted* when at least two thirds refute it and none
  supports it, and *mixed* otherwise;
- models and datasets are chosen by their tags (`bench.registry.MODEL_TAGS`,
  `DATASET_TAGS`), so a model registered with the right tag takes part in a claim.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bench.report import analysis as an
from bench.report.analysis import MARGIN, ok_rows

__all__ = ["CONVENTIONS", "FURTHER", "MARGIN", "TABLE", "VERDICTS", "Claim", "Verdict", "evaluate", "ok_rows"]

VERDICTS = ("supported", "refuted", "mixed", "not measurable")

CONVENTIONS = (
    "Only cells with status ok count. A configuration is a (model, feature variant) pair; "
    "the best configuration of a family at a (dataset, training size) is the one with the "
    "highest mean score over seeds (score = accuracy for classification, R² for regression). "
    "Deep and classical are compared seed by seed, on the same split and training rows; a "
    f"difference counts only beyond a margin of {MARGIN} in score. A claim tested on several "
    "datasets is supported when at least two thirds of them support it and none refutes it, "
    "refuted when at least two thirds refute it and none supports it, and mixed otherwise. "
    "Models and datasets are chosen by their tags (convolutional, fully_connected, recurrent, "
    "hybrid; long_range), not by name. Spreads are mean ± standard deviation across seeds."
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


def _need(df: pd.DataFrame, *fams: str) -> str | None:
    missing = an.missing_families(df, *fams)
    if missing:
        return f"not measurable with this run: it has no finished {' or '.join(missing)} models"
    return None


def _by_datasets(outcomes: dict[str, str], evidence: list[str], none_reason: str):
    """Combine per-dataset outcomes by the two-thirds rule (or say why there are none)."""
    if not outcomes:
        return "not measurable", f"not measurable with this run: {none_reason}", []
    return an.two_thirds(outcomes), an.fmt_tally(outcomes), evidence


NO_CELLS = ("not measurable", "not measurable with this run: no finished cells", [])

spread, signed, count, ratio = an.fmt_spread, an.fmt_signed, an.fmt_count, an.fmt_ratio


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


def _raw_and_engineered(at: pd.DataFrame, deep: bool) -> bool:
    cl = at[at["family"] == "classical"]
    return "raw" in set(cl["features"]) and (cl["features"] != "raw").any() and (not deep or (at["family"] == "deep").any())


@_claim(
    TABLE, "feature_engineering", "Feature engineering (特征工程)",
    "needs hand-designed features (需要手工设计特征)",
    "needs none; learns features automatically (不需要手工设计特征，能够自动学习特征)", FEATURE_RULE,
)
def feature_engineering(df: pd.DataFrame):
    if df.empty:
        return NO_CELLS
    outcomes, evidence = {}, []
    for dataset in an.datasets(df):
        n = an.largest_size(df, dataset, lambda at: _raw_and_engineered(at, deep=True))
        if n is None:
            continue
        at = df[(df["dataset"] == dataset) & (df["n_train"] == n)]
        raw = an.best(at, family="classical", features="raw")
        eng = an.best(at[at["features"] != "raw"], family="classical")
        deep = an.best(at, family="deep")
        gain = an.paired(eng.scores, raw.scores)
        deep_vs_eng = an.paired(deep.scores, eng.scores)
        outcomes[dataset] = an.two_part(gain.mean() > MARGIN, deep_vs_eng.mean() >= -MARGIN)
        evidence.append(
            f"{dataset} (n_train={n}): classical raw {raw.label} {spread(raw.scores)}; "
            f"classical engineered {eng.label} {spread(eng.scores)}; deep raw {deep.label} {spread(deep.scores)}; "
            f"engineered − raw {spread(gain, sign=True)}; deep − engineered {spread(deep_vs_eng, sign=True)} "
            f"→ {outcomes[dataset]}"
        )
    return _by_datasets(
        outcomes, evidence,
        "no dataset has classical models on both raw and engineered features together with deep models",
    )


COMPLEXITY_RULE = """
Measured as size, the part of "complex" a benchmark can measure (how easy a model is to
understand is not measured). At each dataset's largest training size with both families,
every deep configuration is paired with every classical configuration, comparing learned
parameter counts (median over seeds). Supported when deep has more parameters in at least
75% of pairs, refuted when in at most 25%, mixed otherwise.
"""


def model_sizes(at: pd.DataFrame) -> pd.DataFrame:
    """Median size figures per (family, config) of the cells `at` (one dataset, one size)."""
    per = at.groupby(["family", "config"]).agg(
        n_params=("n_params", "median"), model_bytes=("model_bytes", "median"),
        size_proxy=("size_proxy", "median"), size_unit=("size_unit", "first"),
    ).reset_index()
    return per[np.isfinite(per["n_params"])]


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
    for dataset in an.datasets(df):
        sizes = an.compared_sizes(df, dataset)
        if not sizes:
            continue
        per = model_sizes(df[(df["dataset"] == dataset) & (df["n_train"] == sizes[-1])])
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


@_claim(
    TABLE, "data_requirement", "Data requirement (数据量需求)",
    "modest (对数据量的需求不高)", "high; needs large-scale data to train (对数据量的需求高，需要大规模数据进行训练)",
    DATA_RULE,
)
def data_requirement(df: pd.DataFrame):
    missing = _need(df, "classical", "deep")
    if missing:
        return "not measurable", missing, []
    wins = an.win_records(df)
    reach = an.size_to_reach(df)
    outcomes, evidence = {}, []
    for dataset, g in wins.groupby("dataset", sort=True):
        d = g.groupby("n_train")["diff"]
        sizes = sorted(d.groups)
        if len(sizes) < 2:
            continue
        d_min, d_max = d.mean()[sizes[0]], d.mean()[sizes[-1]]
        outcomes[dataset] = an.two_part(d_min < -MARGIN, d_max - d_min > MARGIN)
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
    return _by_datasets(outcomes, evidence, "no dataset has both families at two or more training sizes")


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
    wins = an.win_records(df)
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
            f"{label}: deep win rate {an.win_rate(rec):.0%} over {len(rec)} comparisons "
            f"({(rec['winner'] == 'deep').sum()} deep, {(rec['winner'] == 'classical').sum()} classical, "
            f"{(rec['winner'] == 'tie').sum()} ties; mean deep − classical {spread(rec['diff'], sign=True).split(' (')[0]}) "
            f"on {', '.join(sorted(rec['dataset'].unique()))}"
        )
    for modality, g in wins.groupby("modality", sort=True):
        rates = ", ".join(f"n={n}: {an.win_rate(h):.0%}" for n, h in g.groupby("n_train"))
        evidence.append(f"deep win rate by size, {modality}: {rates}")
    if small_tab.empty or large_un.empty:
        what = "tabular" if small_tab.empty else "image or sequence"
        return "not measurable", f"not measurable with this run: it has no {what} comparison of deep and classical models", evidence
    p1 = an.win_rate(small_tab) <= 0.5
    p2 = an.win_rate(large_un) > 0.5
    verdict = {"supports": "supported", "refutes": "refuted", "mixed": "mixed"}[an.two_part(p1, p2)]
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


@_claim(TABLE, "compute_requirement", "Compute requirement (计算资源需求)", "low (计算资源需求较低)", "high (计算资源需求较高)",
    COMPUTE_RULE)
def compute_requirement(df: pd.DataFrame):
    missing = _need(df, "classical", "deep")
    if missing:
        return "not measurable", missing, []
    r = an.compute_ratios(df)
    r = r[np.isfinite(r["fit_cpu_s"]) & np.isfinite(r["peak_memory_mb"])]
    if r.empty:
        return "not measurable", "not measurable with this run: no dataset has costs for both families", []
    evidence = []
    per = r.groupby("dataset")
    for dataset, g in per:
        parts = []
        for col, name in (("fit_cpu_s", "fit CPU"), ("fit_time_s", "fit wall"), ("peak_memory_mb", "peak memory"), ("predict_latency_ms", "predict latency")):
            parts.append(f"{name} {ratio(an.gmean(g[col]))} (seeds {ratio(g[col].min())}–{ratio(g[col].max())})")
        evidence.append(f"{dataset} (n_train={int(g['n_train'].iloc[0])}), deep / classical: " + ", ".join(parts))
    cpu = an.gmean(per["fit_cpu_s"].apply(an.gmean))
    mem = an.gmean(per["peak_memory_mb"].apply(an.gmean))
    verdict = "supported" if cpu > 2 and mem > 2 else "refuted" if cpu < 1 and mem < 1 else "mixed"
    return verdict, f"over {len(per)} datasets, deep / classical: fit CPU time {ratio(cpu)}, peak memory {ratio(mem)}", evidence


# ---------------------------------------------------------------- further claims

CNN_RULE = """
On every image dataset with both a model tagged `convolutional` (CNN) and one tagged
`fully_connected` (MLP), at the largest size both reach, the best configuration of each:
prediction 1, the CNN has fewer learned parameters (median over seeds); prediction 2, the
CNN's test score is above the MLP's by more than the margin (paired by seed). Both hold:
supports; neither: refutes; one: mixed; datasets combine by the two-thirds rule.
"""


@_claim(
    FURTHER, "cnn_vs_mlp", "Convolution and pooling (seed 000, CNN section)", "",
    "convolution and pooling cut the parameter count and improve generalisation", CNN_RULE,
)
def cnn_vs_mlp(df: pd.DataFrame):
    if df.empty:
        return NO_CELLS
    images = df[df["modality"] == "image"]
    conv, dense = an.has_tag(images, "convolutional"), an.has_tag(images, "fully_connected")
    outcomes, evidence = {}, []
    for dataset in an.datasets(images):
        n = an.largest_size(
            images[conv | dense], dataset,
            lambda at: an.has_tag(at, "convolutional").any() and an.has_tag(at, "fully_connected").any(),
        )
        if n is None:
            continue
        at = images[(images["dataset"] == dataset) & (images["n_train"] == n)]
        cnn, mlp = an.best(at[conv[at.index]]), an.best(at[dense[at.index]])
        diff = an.paired(cnn.scores, mlp.scores)
        outcomes[dataset] = an.two_part(cnn.n_params < mlp.n_params, diff.mean() > MARGIN)
        evidence.append(
            f"{dataset} (n_train={n}): {cnn.label} {count(cnn.n_params)} params, score {spread(cnn.scores)}; "
            f"{mlp.label} {count(mlp.n_params)} params, score {spread(mlp.scores)}; CNN − MLP {spread(diff, sign=True)} "
            f"→ {outcomes[dataset]}"
        )
    return _by_datasets(
        outcomes, evidence, "no image dataset has both a convolutional and a fully_connected model"
    )


LONG_RANGE_RULE = """
On the sequence datasets tagged `long_range` (built so that the label depends on distant
elements), at the largest size where a model tagged `recurrent` ran: the best recurrent
configuration against the best order-blind competitor (models tagged `fully_connected`
and every classical configuration, raw or engineered), paired by seed. RNN ahead by more
than the margin: supports; behind by more than the margin: refutes; otherwise mixed.
Convolutional and fully connected models are reported alongside. Datasets combine by the
two-thirds rule.
"""


@_claim(
    FURTHER, "long_range", "Recurrent networks and long-range dependencies (seeds 000, 002)", "",
    "recurrent networks capture long-range dependencies in sequences", LONG_RANGE_RULE,
)
def long_range(df: pd.DataFrame):
    if df.empty:
        return NO_CELLS
    seqs = df[an.has_tag(df, "long_range", "dataset_tags")]
    recurrent = an.has_tag(seqs, "recurrent")
    blind = (seqs["family"] == "classical") | an.has_tag(seqs, "fully_connected")
    outcomes, evidence = {}, []
    for dataset in an.datasets(seqs):
        n = an.largest_size(seqs[recurrent], dataset, lambda at: True)
        if n is None:
            continue
        here = (seqs["dataset"] == dataset) & (seqs["n_train"] == n)
        rnn, rival = an.best(seqs[here & recurrent]), an.best(seqs[here & blind])
        if rival is None:
            continue
        diff = an.paired(rnn.scores, rival.scores)
        outcomes[dataset] = an.outcome(diff.mean())
        line = (
            f"{dataset} (n_train={n}): {rnn.label} {spread(rnn.scores)}; best order-blind {rival.label} "
            f"{spread(rival.scores)}; RNN − it {spread(diff, sign=True)}"
        )
        for tag in ("convolutional", "fully_connected"):
            other = an.best(seqs[here & an.has_tag(seqs, tag)])
            if other is not None:
                line += f"; {other.label} {spread(other.scores)}"
        evidence.append(line + f" → {outcomes[dataset]}")
    return _by_datasets(
        outcomes, evidence,
        "no long-range sequence dataset (tagged long_range) with a recurrent model and an order-blind competitor",
    )


GAP_DATA_RULE = """
The train/test gap is train score minus test score (train score on up to 2,000 training
rows). For every (dataset, configuration) measured at two or more sizes, with the gap
averaged over seeds: the gap at the largest size below the gap at the smallest by more
than the margin supports the claim, above it by more than the margin refutes it,
otherwise it is neutral. Supported when at least two thirds of the configurations support
it, refuted when at least two thirds refute it, mixed otherwise (with dozens of
configurations, one exception should not flip the verdict).
"""


@_claim(
    FURTHER, "gap_with_data", "Overfitting and more data (seed 003, §8.4)", "",
    "overfitting is reduced by more data: the train/test gap shrinks as the training set grows", GAP_DATA_RULE,
)
def gap_with_data(df: pd.DataFrame):
    g = an.gaps(df)
    outcomes, evidence = {}, []
    for (dataset, cfg), h in g.groupby(["dataset", "config"], sort=True):
        h = h.sort_values("n_train")
        if len(h) < 2:
            continue
        lo, hi = h.iloc[0], h.iloc[-1]
        outcomes[f"{dataset}/{cfg}"] = an.outcome(lo["gap"] - hi["gap"], neutral="neutral")
        evidence.append(
            f"{dataset} / {cfg}: gap {lo['gap']:.3f} at n={int(lo['n_train'])} → {hi['gap']:.3f} at n={int(hi['n_train'])}"
        )
    if not outcomes:
        return "not measurable", "not measurable with this run: no configuration has a train score at two or more sizes", []
    n = len(outcomes)
    sup = sum(o == "supports" for o in outcomes.values())
    ref = sum(o == "refutes" for o in outcomes.values())
    reason = f"the gap shrinks in {sup}, grows in {ref}, stays within the margin in {n - sup - ref} of {n} configurations"
    return an.two_thirds(outcomes, veto=False), reason, evidence


GAP_REG_RULE = """
Regularisation pairs are two configurations of the same model on the same dataset whose
hyperparameters differ only in regularisers (dropout, weight decay, alpha/lambda, C,
maximum depth, minimum leaf size, ...; read from the estimators' effective hyperparameters
that the rows record, a value one side does not record making the pair unknown), every one
of them pointing the same way. At the largest size both reach, mean over seeds:
the more regularised configuration's gap below the other's by more than the margin
supports the claim, above by more than the margin refutes it, otherwise neutral. Supported
when at least two thirds of the pairs support it, refuted when at least two thirds refute
it, mixed otherwise.
"""


@_claim(
    FURTHER, "gap_with_regularisation", "Overfitting and regularisation (seed 003, §8.4)", "",
    "overfitting is reduced by regularisation and dropout: a smaller train/test gap", GAP_REG_RULE,
)
def gap_with_regularisation(df: pd.DataFrame):
    pairs = an.regularisation_pairs(df)
    if not pairs:
        return (
            "not measurable",
            "not measurable with this run: the suite has no two configurations of one model that "
            "differ only in a regulariser (e.g. an MLP with and without dropout, a tree with and "
            "without a depth limit)",
            [],
        )
    g = an.gaps(df)
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
        o = an.outcome(gb - ga, neutral="neutral")
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
    return an.two_thirds(outcomes, veto=False), f"the regularised configuration has the smaller gap in {sup}, the larger in {ref}, of {n} pairs", evidence


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
        return NO_CELLS
    cl = df[df["family"] == "classical"]
    outcomes, evidence = {}, []
    for dataset in an.datasets(cl):
        n = an.largest_size(cl, dataset, lambda at: _raw_and_engineered(at, deep=False))
        if n is None:
            continue
        at = cl[(cl["dataset"] == dataset) & (cl["n_train"] == n)]
        raw = an.best(at, features="raw")
        eng = an.best(at[at["features"] != "raw"])
        gain = an.paired(eng.scores, raw.scores)
        outcomes[dataset] = "supports" if gain.mean() > 0.05 else "refutes" if gain.mean() < MARGIN else "mixed"
        per_model = []
        for name, h in at.groupby("model", sort=True):
            r = h[h["features"] == "raw"].groupby("seed")["score"].mean()
            e = h[h["features"] != "raw"].groupby("seed")["score"].mean()
            if len(r) and len(e):
                per_model.append(f"{name} {signed(an.paired(e, r).mean())}")
        evidence.append(
            f"{dataset} (n_train={n}): engineered {eng.label} {spread(eng.scores)} vs raw {raw.label} {spread(raw.scores)}, "
            f"gain {spread(gain, sign=True)}; gain per model: {', '.join(per_model)} → {outcomes[dataset]}"
        )
    return _by_datasets(outcomes, evidence, "no dataset has classical models on both raw and engineered features")


HYBRID_RULE = """
A hybrid is a model tagged `hybrid` (a network's learned representation fed to a classical
model). On every dataset with a hybrid, at its largest size: the best hybrid against the
best of the other configurations, paired by seed; ahead by more than the margin supports,
behind by more than the margin refutes, otherwise mixed. Datasets combine by the
two-thirds rule.
"""


@_claim(
    FURTHER, "hybrid", "Deep and classical combined (seed 004, §2)", "",
    "deep learning combined with classical algorithms performs better (e.g. learned embeddings fed to a classical model)",
    HYBRID_RULE,
)
def hybrid(df: pd.DataFrame):
    if df.empty:
        return NO_CELLS
    is_h = an.has_tag(df, "hybrid")
    outcomes, evidence = {}, []
    for dataset in an.datasets(df[is_h]):
        n = an.largest_size(df[is_h], dataset, lambda at: True)
        here = (df["dataset"] == dataset) & (df["n_train"] == n)
        h, o = an.best(df[here & is_h]), an.best(df[here & ~is_h])
        if o is None:
            continue
        diff = an.paired(h.scores, o.scores)
        outcomes[dataset] = an.outcome(diff.mean())
        evidence.append(f"{dataset} (n_train={n}): {h.label} − {o.label} {spread(diff, sign=True)} → {outcomes[dataset]}")
    return _by_datasets(
        outcomes, evidence,
        "no model feeds learned embeddings to a classical model (none is tagged hybrid)",
    )


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
