"""The verdict rules: one function per claim, turning a results table into a verdict.

Each rule was written before any result was looked at, and its text (`RULE`) sits next
to it so the report prints exactly the rule the code applies. A rule reads only the
results table (`bench.results.frame` schema), uses only cells with status `ok`, and
answers `supported`, `refuted`, `mixed` (evidence both ways), `inconclusive` (differences
within noise) or `not measurable` (with the reason), with a table of evidence (one row
per dataset or comparison) and a line saying how sure it is. The measurements (best
configurations, pairing, win records, gaps, cost ratios, intervals) live in
`bench.report.analysis` and `bench.report.stats`, shared with the figures and tables.

The conventions every rule shares are printed once in the report (`CONVENTIONS`); what
changed in them, and why, is `CHANGES`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bench.report import analysis as an
from bench.report import stats
from bench.report.analysis import MARGIN, ok_rows

__all__ = [
    "CHANGES", "CONVENTIONS", "FURTHER", "MARGIN", "TABLE", "VERDICTS", "Claim", "Verdict", "evaluate", "ok_rows",
]

VERDICTS = ("supported", "refuted", "mixed", "inconclusive", "not measurable")

CONVENTIONS = (
    "Only cells with status ok count. A configuration is a (model, feature variant, tuning) "
    "triple. The best configuration of a family at a (dataset, training size) is chosen by its "
    "mean validation score over seeds (a validation part carved from the training rows); its "
    "test score is what is reported. Deep and classical are compared seed by seed, on the same "
    f"split and training rows. A difference counts only beyond a margin of {MARGIN} in score "
    "(accuracy or R²), and only when its 95% bootstrap interval lies beyond it: an interval "
    "that straddles a threshold is within noise. One dataset's outcome is supports, refutes, "
    "mixed (one prediction holds, the other fails) or inconclusive (within noise). A claim "
    "tested on several datasets is supported when at least two thirds support it and none "
    "refutes it, refuted when at least two thirds refute it and none supports it, mixed when "
    "the evidence points both ways, and inconclusive otherwise. Intervals resample datasets, "
    "then seeds within each; a difference measured on one seed only has no interval and is "
    "taken at face value. Models and datasets are chosen by their tags (convolutional, "
    "fully_connected, recurrent, hybrid; long_range), not by name."
)

CHANGES = (
    "What changed in the rules, and why: the best configuration of a family used to be the one "
    "with the highest mean test score, and that same test score was reported; the maximum over "
    "more configurations then favours the family with more of them (classical). It is now "
    "chosen on validation scores, and tuned and default configurations compete as separate "
    "configurations, among those that ran on every seed of their size (a configuration run on one "
    "seed would rest a verdict on a single value). A verdict used to be mixed whenever it was not supported or refuted; "
    "now mixed means evidence both ways and inconclusive means differences within noise, "
    "judged by bootstrap intervals rather than by means alone; a single value has no interval "
    "and decides nothing."
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
    evidence: tuple[dict, ...] = field(default_factory=tuple)  # one row per dataset or comparison
    certainty: str = ""  # how sure: the intervals the verdict rests on
    missing: str = ""  # failed cells and whether their absence could change the verdict
    effect: str = ""  # what `effects` measure, e.g. "CNN − MLP test score"
    effects: tuple[tuple[str, float, float, float], ...] = ()  # (label, mean, lo, hi) per dataset or pair


@dataclass(frozen=True)
class Result:
    """What a rule returns."""

    verdict: str
    reason: str
    evidence: list[dict] = field(default_factory=list)
    certainty: str = ""
    effect: str = ""
    effects: list[tuple[str, float, float, float]] = field(default_factory=list)


@dataclass(frozen=True)
class Claim:
    key: str
    aspect: str
    classical: str  # what the documents say of classical ML ("" for a further claim)
    deep: str  # what they say of deep learning, or the further claim itself
    rule: str
    fn: Callable[[pd.DataFrame], Result]


TABLE: list[Claim] = []  # the six rows of the documents' comparison table, in order
FURTHER: list[Claim] = []  # the further claims of CLAIMS.md


def _claim(registry: list[Claim], key: str, aspect: str, classical: str, deep: str, rule: str):
    def wrap(fn):
        registry.append(Claim(key, aspect, classical, deep, " ".join(rule.split()), fn))
        return fn

    return wrap


def evaluate(claim: Claim, df: pd.DataFrame, ok: pd.DataFrame | None = None, cores: int | None = None) -> Verdict:
    """The claim's verdict on a results table (`ok`: its `ok_rows`, when already computed).

    `cores`: the run machine's logical cores, from its environment.json (`analysis.cores_of`),
    to tell wall-time timeouts under load apart in the list of failed cells.
    """
    r = claim.fn(ok_rows(df) if ok is None else ok)
    if r.verdict not in VERDICTS:
        raise ValueError(f"rule {claim.key} returned {r.verdict!r}")
    return Verdict(
        claim.key, claim.aspect, claim.classical, claim.deep, claim.rule, r.verdict, r.reason,
        tuple(r.evidence), r.certainty, _missing_cells(claim, df, r.verdict, cores), r.effect, tuple(r.effects),
    )


def table_verdicts(df: pd.DataFrame, ok: pd.DataFrame | None = None, cores: int | None = None) -> list[Verdict]:
    ok = ok_rows(df) if ok is None else ok
    return [evaluate(c, df, ok, cores) for c in TABLE]


def further_verdicts(df: pd.DataFrame, ok: pd.DataFrame | None = None, cores: int | None = None) -> list[Verdict]:
    ok = ok_rows(df) if ok is None else ok
    return [evaluate(c, df, ok, cores) for c in FURTHER]


def _missing_cells(claim: Claim, df: pd.DataFrame, verdict: str, cores: int | None = None) -> str:
    """Which cells failed, and whether any scores they might have had could change the verdict.

    The failed cells get, in turn, the lowest and the highest score seen on their dataset,
    deep and classical alike or in opposite directions (four cases); the rule is applied
    again to each. The verdict stands when none of the four changes it.
    """
    if df.empty or claim.key == "algorithmic_innovation":
        return ""
    failed = df[df["status"] != "ok"].sort_values(["dataset", "model", "features", "n_train", "seed"])
    if failed.empty:
        return ""
    head = ", ".join(f"{n} {s}" for s, n in failed["status"].value_counts().sort_index().items())
    cells = [
        f"{r['dataset']}/{r['model']}/{r['features']}/n={int(r['n_train'])}/seed {int(r['seed'])} ({an.status_label(r, cores)})"
        for _, r in failed.head(6).iterrows()
    ]
    head += " cell(s): " + "; ".join(cells) + (f"; and {len(failed) - 6} more" if len(failed) > 6 else "")
    cases = _filled_cases(df)
    if not cases:
        return f"{head}. They are on datasets with no finished cell: they cannot change this verdict."
    changed = {v for v in (claim.fn(ok).verdict for ok in cases) if v != verdict}
    if changed:
        return f"{head}. Had they finished, the verdict could be {', '.join(sorted(changed))}."
    return f"{head}. Whatever their scores, the verdict stays {verdict}."


@an._per_frame
def _filled_cases(df: pd.DataFrame) -> list[pd.DataFrame]:
    """The finished cells plus the failed ones at extreme scores, in four cases (see `_missing_cells`)."""
    ok = ok_rows(df)
    lo = ok.groupby("dataset")["score"].min()
    hi = ok.groupby("dataset")["score"].max()
    bad = df[(df["status"] != "ok") & df["dataset"].isin(lo.index)]
    if bad.empty:
        return []
    deep = bad["family"] == "deep"
    out = []
    for d_high, c_high in ((False, False), (True, True), (True, False), (False, True)):
        filled = df.copy()
        high = np.where(deep, d_high, c_high)
        score = np.where(high, hi.reindex(bad["dataset"]).to_numpy(), lo.reindex(bad["dataset"]).to_numpy())
        filled.loc[bad.index, "score"] = score
        filled.loc[bad.index, "status"] = "ok"
        if "val_score" in filled.columns:
            filled.loc[bad.index, "val_score"] = score
        out.append(ok_rows(filled))
    return out


def _need(df: pd.DataFrame, *fams: str) -> Result | None:
    missing = an.missing_families(df, *fams)
    if missing:
        return Result("not measurable", f"not measurable with this run: it has no finished {' or '.join(missing)} models")
    return None


def _not_measurable(why: str) -> Result:
    return Result("not measurable", f"not measurable with this run: {why}")


def _by_datasets(
    outcomes: dict[str, str], evidence: list[dict], none_reason: str, certainty: str = "",
    effect: str = "", effects: list | None = None,
) -> Result:
    """Combine per-dataset outcomes by the two-thirds rule (or say why there are none)."""
    if not outcomes:
        return _not_measurable(none_reason)
    return Result(an.two_thirds(outcomes), an.fmt_tally(outcomes), evidence, certainty, effect, effects or [])


def _effect(label: str, diffs: pd.Series) -> tuple[str, float, float, float]:
    iv = an.seed_interval(diffs)
    return (label, iv.mean, iv.lo, iv.hi)


def _pooled(records: list[dict], column: str, what: str) -> str:
    """`what mean [lo, hi]` over the records' datasets and seeds."""
    if not records:
        return ""
    iv = stats.bootstrap_ci(pd.DataFrame(records), column)
    return f"{what} {iv.text()} ({iv.n_groups} dataset{'s' if iv.n_groups != 1 else ''}, {iv.n_values} seeds)"


def _certainty(*parts: str) -> str:
    parts = [p for p in parts if p]
    return ("95% bootstrap intervals: " + "; ".join(parts) + ".") if parts else ""


def _records(dataset: str, diffs: pd.Series, column: str = "diff") -> list[dict]:
    return [{"dataset": dataset, "seed": int(s), column: float(v)} for s, v in diffs.items()]


NO_CELLS = Result("not measurable", "not measurable with this run: no finished cells")
score_of = an.fmt_score
interval = an.fmt_interval


# ------------------------------------------------------- the comparison table

FEATURE_RULE = """
On every image, sequence or text dataset with classical models on raw and on engineered features
and deep models on raw input, at the largest training size all three reach: prediction 1
(classical needs hand-designed features) holds when the best classical model on engineered
features beats the best one on raw input by more than the margin; prediction 2 (deep learns
its features) holds when the best deep model on raw input is within the margin of the best
classical model on engineered features, or above it. Both hold: the dataset supports the
claim; neither: it refutes it; one: mixed; a prediction within noise: inconclusive.
Datasets combine by the two-thirds rule.
"""


def _raw_and_engineered(at: pd.DataFrame, deep: bool) -> bool:
    cl = at[at["family"] == "classical"]
    return "raw" in set(cl["features"]) and (cl["features"] != "raw").any() and (not deep or (at["family"] == "deep").any())


@_claim(
    TABLE, "feature_engineering", "Feature engineering (特征工程)",
    "needs hand-designed features (需要手工设计特征)",
    "needs none; learns features automatically (不需要手工设计特征，能够自动学习特征)", FEATURE_RULE,
)
def feature_engineering(df: pd.DataFrame) -> Result:
    if df.empty:
        return NO_CELLS
    outcomes, evidence, gains, gaps = {}, [], [], []
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
        outcomes[dataset] = an.two_part(an.side(gain, MARGIN), an.side(deep_vs_eng, -MARGIN))
        gains += _records(dataset, gain)
        gaps += _records(dataset, deep_vs_eng)
        evidence.append({
            "dataset": dataset, "n_train": n, "classical, raw": score_of(raw), "classical, engineered": score_of(eng),
            "deep, raw": score_of(deep), "engineered − raw": interval(gain), "deep − engineered": interval(deep_vs_eng),
            "outcome": outcomes[dataset],
        })
    return _by_datasets(
        outcomes, evidence,
        "no dataset has classical models on both raw and engineered features together with deep models",
        _certainty(_pooled(gains, "diff", "engineered − raw"), _pooled(gaps, "diff", "deep − engineered")),
    )


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
def model_complexity(df: pd.DataFrame) -> Result:
    missing = _need(df, "classical", "deep")
    if missing:
        return missing
    more = total = 0
    evidence = []
    for dataset in an.datasets(df):
        sizes = an.compared_sizes(df, dataset)
        if not sizes:
            continue
        per = an.model_sizes(df[(df["dataset"] == dataset) & (df["n_train"] == sizes[-1])])
        deep = per[per["family"] == "deep"]
        cl = per[per["family"] == "classical"]
        if deep.empty or cl.empty:
            continue
        pairs = [(d, c) for d in deep["n_params"] for c in cl["n_params"]]
        m = sum(d > c for d, c in pairs)
        more += m
        total += len(pairs)
        evidence.append({
            "dataset": dataset, "n_train": sizes[-1], "deep larger": f"{m}/{len(pairs)} pairs",
            "classical params (min–max)": f"{an.fmt_count(cl['n_params'].min())}–{an.fmt_count(cl['n_params'].max())}",
            "deep params (min–max)": f"{an.fmt_count(deep['n_params'].min())}–{an.fmt_count(deep['n_params'].max())}",
            "largest classical": f"{cl.loc[cl['n_params'].idxmax(), 'config']}",
            "smallest deep": f"{deep.loc[deep['n_params'].idxmin(), 'config']}",
        })
    if total == 0:
        return _not_measurable("no dataset has parameter counts for both families")
    share = more / total
    verdict = "supported" if share >= 0.75 else "refuted" if share <= 0.25 else "mixed"
    return Result(
        verdict, f"deep has more parameters in {more}/{total} pairs ({share:.0%})", evidence,
        "Parameter counts are exact and do not vary between seeds beyond the model's own choices; "
        "the figure shows every configuration's count and serialized size.",
    )


DATA_RULE = """
On every dataset with both families at two or more training sizes, d(n) is the best deep
score minus the best classical score at size n (paired by seed). Prediction 1 (deep needs
more data): classical is ahead at the smallest size, d(n_min) < −margin. Prediction 2
(deep gains from scale): d(n_max) − d(n_min) > margin. Both hold: supports; neither:
refutes; one: mixed; a prediction within noise: inconclusive; datasets combine by the
two-thirds rule. Also reported: the smallest size from which deep stays ahead
(crossover), and the median size at which a configuration reaches 95% of its own best.
"""


@_claim(
    TABLE, "data_requirement", "Data requirement (数据量需求)",
    "modest (对数据量的需求不高)", "high; needs large-scale data to train (对数据量的需求高，需要大规模数据进行训练)",
    DATA_RULE,
)
def data_requirement(df: pd.DataFrame) -> Result:
    missing = _need(df, "classical", "deep")
    if missing:
        return missing
    wins = an.win_records(df)
    reach = an.size_to_reach(df)
    outcomes, evidence, small, growth = {}, [], [], []
    for dataset, g in wins.groupby("dataset", sort=True):
        d = g.groupby("n_train")["diff"]
        sizes = sorted(d.groups)
        if len(sizes) < 2:
            continue
        d_min = g[g["n_train"] == sizes[0]].set_index("seed")["diff"]
        d_max = g[g["n_train"] == sizes[-1]].set_index("seed")["diff"]
        gain = an.paired(d_max, d_min)
        outcomes[dataset] = an.two_part(
            None if an.side(d_min, -MARGIN) is None else not an.side(d_min, -MARGIN), an.side(gain, MARGIN)
        )
        small += _records(dataset, d_min)
        growth += _records(dataset, gain)
        ahead = [n for n in sizes if d.mean()[n] > MARGIN]
        cross = next((n for n in sizes if all(m in ahead for m in sizes if m >= n)), None)
        r = reach[reach["dataset"] == dataset].groupby("family")["n_reach"].median()
        evidence.append({
            "dataset": dataset, "sizes": f"{sizes[0]}–{sizes[-1]}",
            "deep − classical, smallest": interval(d_min), "deep − classical, largest": interval(d_max),
            "gain with data": interval(gain),
            "deep ahead from": f"n={cross}" if cross is not None else "never",
            "n to 95% (classical / deep)": f"{an.fmt_count(r.get('classical', float('nan')))} / {an.fmt_count(r.get('deep', float('nan')))}",
            "outcome": outcomes[dataset],
        })
    return _by_datasets(
        outcomes, evidence, "no dataset has both families at two or more training sizes",
        _certainty(_pooled(small, "diff", "deep − classical at the smallest size"),
                   _pooled(growth, "diff", "its gain to the largest size")),
    )


INNOVATION_RULE = """
None: this row is a statement about research activity (how many new algorithms each field
produces), not about how models behave on data, so no measurement of this benchmark bears
on it. It is always marked not measurable.
"""


@_claim(TABLE, "algorithmic_innovation", "Algorithmic innovation (算法创新)", "little (算法创新较少)", "much (算法创新较多)",
    INNOVATION_RULE)
def algorithmic_innovation(df: pd.DataFrame) -> Result:
    return Result(
        "not measurable",
        "not measurable by this benchmark: it concerns the pace of research (papers, new "
        "methods), which no score, time or memory figure of fitted models can show",
    )


SCENARIO_RULE = """
Win records pair the best deep and best classical configuration per (dataset, size, seed):
deep wins beyond the margin, classical wins below minus the margin, a tie counts half.
Prediction 1 (classical suits small structured data): on tabular datasets at their smallest
compared size, deep's win rate is at most 50%. Prediction 2 (deep suits large unstructured
data): on image and sequence datasets at their largest compared size, deep's win rate is
above 50%. A win rate whose interval straddles 50% is within noise. Both hold: supported;
neither: refuted; one: mixed; a prediction within noise: inconclusive. Not measurable
unless the run has both tabular and image/sequence comparisons.
"""


def _win_interval(rec: pd.DataFrame) -> stats.Interval:
    points = rec.assign(w=(rec["winner"] == "deep") + 0.5 * (rec["winner"] == "tie"))
    return stats.bootstrap_ci(points, "w")


@_claim(
    TABLE, "application_scenarios", "Application scenarios (应用场景)",
    "small datasets, structured data (适用于小数据集和结构化数据)",
    "large datasets, structured and unstructured data (适用于大数据集和结构化/非结构化数据)", SCENARIO_RULE,
)
def application_scenarios(df: pd.DataFrame) -> Result:
    missing = _need(df, "classical", "deep")
    if missing:
        return missing
    wins = an.win_records(df)
    if wins.empty:
        return _not_measurable("no dataset has both families at one size")
    smallest = wins.groupby("dataset")["n_train"].transform("min") == wins["n_train"]
    largest = wins.groupby("dataset")["n_train"].transform("max") == wins["n_train"]
    tab = wins["modality"] == "tabular"
    groups = (
        ("tabular, smallest size", wins[smallest & tab]), ("tabular, largest size", wins[largest & tab]),
        ("image/sequence, smallest size", wins[smallest & ~tab]), ("image/sequence, largest size", wins[largest & ~tab]),
    )
    evidence = []
    for label, rec in groups:
        if rec.empty:
            evidence.append({"comparisons": label, "n": 0, "deep win rate": "no comparison in this run"})
            continue
        evidence.append({
            "comparisons": label, "n": len(rec), "deep / classical / ties":
            f"{(rec['winner'] == 'deep').sum()} / {(rec['winner'] == 'classical').sum()} / {(rec['winner'] == 'tie').sum()}",
            "deep win rate": _win_interval(rec).text(2, sign=False),
            "deep − classical": an.fmt_spread(rec["diff"], sign=True).split(" (")[0],
            "datasets": ", ".join(sorted(rec["dataset"].unique())),
        })
    small_tab, large_un = groups[0][1], groups[3][1]
    if small_tab.empty or large_un.empty:
        what = "tabular" if small_tab.empty else "image or sequence"
        return Result("not measurable", f"not measurable with this run: it has no {what} comparison of deep and classical models", evidence)
    i1, i2 = _win_interval(small_tab), _win_interval(large_un)
    s1 = an.side(i1, 0.5)
    p1 = None if s1 is None else not s1
    p2 = an.side(i2, 0.5)
    verdict = {"supports": "supported", "refutes": "refuted", "mixed": "mixed", "inconclusive": "inconclusive"}[an.two_part(p1, p2)]

    def said(p):
        return "holds" if p else "fails" if p is False else "is within noise"

    return Result(
        verdict,
        f"prediction 1 (classical on small tabular) {said(p1)}; prediction 2 (deep on large image/sequence) {said(p2)}",
        evidence,
        _certainty(f"deep win rate on small tabular {i1.text(2, sign=False)}", f"on large image/sequence {i2.text(2, sign=False)}"),
    )


COMPUTE_RULE = """
At each dataset's largest size with both families, per seed: the median over deep
configurations divided by the median over classical configurations, for fit CPU time
(a tuned configuration's hyperparameter search included; floored at 1 ms) and peak fit memory (floored at 1 MB); seeds and then datasets combine by
geometric mean. Costs are compared on one kind of hardware: where deep cells ran on a GPU
and on the CPU, the CPU cells are compared (the GPU ones reported alongside); where they
ran on a GPU only, the verdict says so. Supported when both ratios exceed 2 (deep needs at
least twice the compute), refuted when both are below 1 (deep needs less), inconclusive
when a ratio's interval straddles 1 or 2 and the other does not point the other way, mixed
otherwise. Fit wall time and one-row predict latency are reported alongside.
"""


def _ratio_side(iv: stats.Interval) -> str:
    if stats.decide(iv, math.log(2)) == "above":
        return "high"
    if stats.decide(iv, 0.0) == "below":
        return "low"
    if iv.lo >= 0.0 and iv.hi <= math.log(2):
        return "between"
    return "noise"


@_claim(TABLE, "compute_requirement", "Compute requirement (计算资源需求)", "low (计算资源需求较低)", "high (计算资源需求较高)",
    COMPUTE_RULE)
def compute_requirement(df: pd.DataFrame) -> Result:
    missing = _need(df, "classical", "deep")
    if missing:
        return missing
    kind = an.device_kind(df)
    used, deep_gpu_only = an.comparable_hardware(df)
    hw = an.hardware(used)
    r = an.compute_ratios(used)
    r = r[np.isfinite(r["fit_cpu_s"]) & np.isfinite(r["peak_memory_mb"])]
    if r.empty:
        return _not_measurable("no dataset has costs for both families")
    evidence = []
    for dataset, g in r.groupby("dataset"):
        row = {"dataset": dataset, "n_train": int(g["n_train"].iloc[0])}
        for col, name in (("fit_cpu_s", "fit CPU"), ("fit_time_s", "fit wall"), ("peak_memory_mb", "peak memory"), ("predict_latency_ms", "latency")):
            row[name] = f"{an.fmt_ratio(an.gmean(g[col]))} ({an.fmt_ratio(g[col].min())}–{an.fmt_ratio(g[col].max())})"
        evidence.append(row)
    logs = r.assign(cpu=np.log(r["fit_cpu_s"]), mem=np.log(r["peak_memory_mb"]))
    i_cpu, i_mem = stats.bootstrap_ci(logs, "cpu"), stats.bootstrap_ci(logs, "mem")
    cpu, mem = math.exp(i_cpu.mean), math.exp(i_mem.mean)
    sides = {_ratio_side(i_cpu), _ratio_side(i_mem)}
    if sides == {"high"}:
        verdict = "supported"
    elif sides == {"low"}:
        verdict = "refuted"
    elif "noise" in sides and not {"high", "low"} <= sides:
        verdict = "inconclusive"
    else:
        verdict = "mixed"
    where = "; ".join(f"{fam} on {devs}" for fam, devs in hw.items())
    gpu_note = (
        " Deep cells ran on a GPU only, classical ones on the CPU: the ratios compare different hardware."
        if deep_gpu_only and (kind == "GPU").any() else
        " Deep cells that ran on a GPU are left out of the ratios (different hardware)." if (kind == "GPU").any() else ""
    )
    return Result(
        verdict,
        f"over {r['dataset'].nunique()} datasets, deep / classical: fit CPU time {an.fmt_ratio(cpu)}, "
        f"peak memory {an.fmt_ratio(mem)} (hardware: {where})",
        evidence,
        _certainty(
            f"fit CPU ratio {an.fmt_ratio(cpu)} [{an.fmt_ratio(math.exp(i_cpu.lo))}, {an.fmt_ratio(math.exp(i_cpu.hi))}]",
            f"peak memory ratio {an.fmt_ratio(mem)} [{an.fmt_ratio(math.exp(i_mem.lo))}, {an.fmt_ratio(math.exp(i_mem.hi))}]",
        ) + gpu_note,
    )


# ---------------------------------------------------------------- further claims

CNN_RULE = """
On every image dataset with both a model tagged `convolutional` (CNN) and one tagged
`fully_connected` (MLP), at the largest size both reach, the best configuration of each:
prediction 1, the CNN has fewer learned parameters (median over seeds); prediction 2, the
CNN's test score is above the MLP's by more than the margin (paired by seed). Both hold:
supports; neither: refutes; one: mixed; a score difference within noise: inconclusive;
datasets combine by the two-thirds rule.
"""


@_claim(
    FURTHER, "cnn_vs_mlp", "Convolution and pooling (seed 000, CNN section)", "",
    "convolution and pooling cut the parameter count and improve generalisation", CNN_RULE,
)
def cnn_vs_mlp(df: pd.DataFrame) -> Result:
    if df.empty:
        return NO_CELLS
    images = df[df["modality"] == "image"]
    conv, dense = an.has_tag(images, "convolutional"), an.has_tag(images, "fully_connected")
    outcomes, evidence, recs, effects = {}, [], [], []
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
        outcomes[dataset] = an.two_part(cnn.n_params < mlp.n_params, an.side(diff, MARGIN))
        recs += _records(dataset, diff)
        effects.append(_effect(f"{dataset} (n={n})", diff))
        evidence.append({
            "dataset": dataset, "n_train": n, "CNN": score_of(cnn), "CNN params": an.fmt_count(cnn.n_params),
            "MLP": score_of(mlp), "MLP params": an.fmt_count(mlp.n_params), "CNN − MLP": interval(diff),
            "outcome": outcomes[dataset],
        })
    return _by_datasets(
        outcomes, evidence, "no image dataset has both a convolutional and a fully_connected model",
        _certainty(_pooled(recs, "diff", "CNN − MLP score")), "CNN − MLP, test score", effects,
    )


LONG_RANGE_RULE = """
On the sequence datasets tagged `long_range` (built so that the label depends on distant
elements), at the largest size where a model tagged `recurrent` ran: the best recurrent
configuration against the best order-blind competitor (models tagged `fully_connected`
and every classical configuration, raw or engineered), paired by seed. RNN ahead by more
than the margin: supports; behind by more than the margin: refutes; otherwise
inconclusive. Convolutional and fully connected models are reported alongside. Datasets
combine by the two-thirds rule.
"""


@_claim(
    FURTHER, "long_range", "Recurrent networks and long-range dependencies (seeds 000, 002)", "",
    "recurrent networks capture long-range dependencies in sequences", LONG_RANGE_RULE,
)
def long_range(df: pd.DataFrame) -> Result:
    if df.empty:
        return NO_CELLS
    seqs = df[an.has_tag(df, "long_range", "dataset_tags")]
    recurrent = an.has_tag(seqs, "recurrent")
    blind = (seqs["family"] == "classical") | an.has_tag(seqs, "fully_connected")
    outcomes, evidence, recs, effects = {}, [], [], []
    for dataset in an.datasets(seqs):
        n = an.largest_size(seqs[recurrent], dataset, lambda at: True)
        if n is None:
            continue
        here = (seqs["dataset"] == dataset) & (seqs["n_train"] == n)
        rnn, rival = an.best(seqs[here & recurrent]), an.best(seqs[here & blind])
        if rival is None:
            continue
        diff = an.paired(rnn.scores, rival.scores)
        outcomes[dataset] = an.outcome(diff)
        recs += _records(dataset, diff)
        effects.append(_effect(f"{dataset} (n={n})", diff))
        conv = an.best(seqs[here & an.has_tag(seqs, "convolutional")])
        evidence.append({
            "dataset": dataset, "n_train": n, "recurrent": score_of(rnn), "best order-blind": score_of(rival),
            "RNN − order-blind": interval(diff), "convolutional": score_of(conv) if conv else "—",
            "outcome": outcomes[dataset],
        })
    return _by_datasets(
        outcomes, evidence,
        "no long-range sequence dataset (tagged long_range) with a recurrent model and an order-blind competitor",
        _certainty(_pooled(recs, "diff", "RNN − best order-blind")), "recurrent − best order-blind, test score", effects,
    )


GAP_DATA_RULE = """
The train/test gap is train score minus test score (train score on up to 2,000 training
rows). For every (dataset, configuration) measured at two or more sizes, paired by seed:
the gap at the largest size below the gap at the smallest by more than the margin supports
the claim, above it by more than the margin refutes it, otherwise (within the margin or
within noise) it is inconclusive. Supported when at least two thirds of the configurations
support it, refuted when at least two thirds refute it, mixed when some support and some
refute, inconclusive otherwise (with dozens of configurations, one exception should not
flip the verdict).
"""


def _seed_gaps(df: pd.DataFrame, dataset: str, config: str, n: int) -> pd.Series:
    h = df[(df["dataset"] == dataset) & (df["config"] == config) & (df["n_train"] == n)]
    return (h["train_score"] - h["score"]).groupby(h["seed"]).mean().dropna()


@_claim(
    FURTHER, "gap_with_data", "Overfitting and more data (seed 003, §8.4)", "",
    "overfitting is reduced by more data: the train/test gap shrinks as the training set grows", GAP_DATA_RULE,
)
def gap_with_data(df: pd.DataFrame) -> Result:
    g = an.gaps(df)
    outcomes, evidence, recs = {}, [], []
    for (dataset, cfg), h in g.groupby(["dataset", "config"], sort=True):
        h = h.sort_values("n_train")
        if len(h) < 2:
            continue
        lo, hi = h.iloc[0], h.iloc[-1]
        shrink = an.paired(_seed_gaps(df, dataset, cfg, int(lo["n_train"])), _seed_gaps(df, dataset, cfg, int(hi["n_train"])))
        outcomes[f"{dataset}/{cfg}"] = an.outcome(shrink)
        recs += _records(f"{dataset}/{cfg}", shrink)
        evidence.append({
            "dataset": dataset, "configuration": cfg, "gap, smallest n": f"{lo['gap']:.3f} (n={int(lo['n_train'])})",
            "gap, largest n": f"{hi['gap']:.3f} (n={int(hi['n_train'])})", "shrinks by": interval(shrink),
            "outcome": outcomes[f"{dataset}/{cfg}"],
        })
    if not outcomes:
        return _not_measurable("no configuration has a train score at two or more sizes")
    n = len(outcomes)
    sup = sum(o == "supports" for o in outcomes.values())
    ref = sum(o == "refutes" for o in outcomes.values())
    reason = f"the gap shrinks in {sup}, grows in {ref}, stays within the margin or noise in {n - sup - ref} of {n} configurations"
    certainty = _certainty(_pooled(recs, "diff", "gap shrinkage").replace("datasets", "configurations").replace("dataset,", "configuration,"))
    return Result(an.two_thirds(outcomes, veto=False), reason, evidence, certainty)


GAP_REG_RULE = """
Regularisation pairs are two configurations of the same model on the same dataset whose
hyperparameters differ only in regularisers (dropout, weight decay, alpha/lambda, C,
maximum depth, minimum leaf size, ...; read from the estimators' effective hyperparameters
that the rows record, a value one side does not record making the pair unknown), every one
of them pointing the same way. At the largest size both reach, paired by seed: the more
regularised configuration's gap below the other's by more than the margin supports the
claim, above by more than the margin refutes it, otherwise inconclusive. Supported when at
least two thirds of the pairs support it, refuted when at least two thirds refute it,
mixed when some support and some refute, inconclusive otherwise.
"""


@_claim(
    FURTHER, "gap_with_regularisation", "Overfitting and regularisation (seed 003, §8.4)", "",
    "overfitting is reduced by regularisation and dropout: a smaller train/test gap", GAP_REG_RULE,
)
def gap_with_regularisation(df: pd.DataFrame) -> Result:
    pairs = an.regularisation_pairs(df)
    if not pairs:
        return _not_measurable(
            "the suite has no two configurations of one model that differ only in a regulariser "
            "(e.g. an MLP with and without dropout, a tree with and without a depth limit)"
        )
    g = an.gaps(df)
    outcomes, evidence, recs, effects = {}, [], [], []
    for dataset, _name, more, less, key in pairs:
        h = g[g["dataset"] == dataset]
        a, b = h[h["config"] == more], h[h["config"] == less]
        common = sorted(set(a["n_train"]) & set(b["n_train"]))
        if not common:
            continue
        n = common[-1]
        diff = an.paired(_seed_gaps(df, dataset, less, n), _seed_gaps(df, dataset, more, n))
        o = an.outcome(diff)
        outcomes[f"{dataset}/{more}/{less}"] = o
        recs += _records(f"{dataset}/{more}/{less}", diff)
        effects.append(_effect(f"{dataset}: {more} vs {less}", diff))
        by_size = ", ".join(
            f"{m}: {float(a.loc[a['n_train'] == m, 'gap'].iloc[0]):.3f} vs {float(b.loc[b['n_train'] == m, 'gap'].iloc[0]):.3f}"
            for m in common
        )
        evidence.append({
            "dataset": dataset, "regularisers": key, "more regularised": more, "less regularised": less,
            "gaps by n (more vs less)": by_size, "gap reduction": interval(diff), "outcome": o,
        })
    if not outcomes:
        return _not_measurable("regularisation pairs share no training size")
    n = len(outcomes)
    sup = sum(o == "supports" for o in outcomes.values())
    ref = sum(o == "refutes" for o in outcomes.values())
    return Result(
        an.two_thirds(outcomes, veto=False),
        f"the regularised configuration has the smaller gap in {sup}, the larger in {ref}, of {n} pairs", evidence,
        _certainty(_pooled(recs, "diff", "gap reduction").replace("datasets", "pairs").replace("dataset,", "pair,")),
        "train/test gap, less minus more regularised", effects,
    )


FEATURE_QUALITY_RULE = """
On every dataset with classical models on raw and on engineered features, at the largest
size both reach: the best classical configuration on engineered features minus the best on
raw input (paired by seed). A gain above 0.05 (five points of accuracy or R²) supports
"strongly depends", a gain below the margin refutes it, a gain between the two is mixed
(features help, not strongly); an interval across either threshold is inconclusive.
Datasets combine by the two-thirds rule.
"""


@_claim(
    FURTHER, "feature_quality", "Features and classical quality (seed 002, §1.1)", "",
    "classical methods' quality depends strongly on the quality of the features", FEATURE_QUALITY_RULE,
)
def feature_quality(df: pd.DataFrame) -> Result:
    if df.empty:
        return NO_CELLS
    cl = df[df["family"] == "classical"]
    outcomes, evidence, recs, effects = {}, [], [], []
    for dataset in an.datasets(cl):
        n = an.largest_size(cl, dataset, lambda at: _raw_and_engineered(at, deep=False))
        if n is None:
            continue
        at = cl[(cl["dataset"] == dataset) & (cl["n_train"] == n)]
        raw = an.best(at, features="raw")
        eng = an.best(at[at["features"] != "raw"])
        gain = an.paired(eng.scores, raw.scores)
        strong, some = an.side(gain, 0.05), an.side(gain, MARGIN)
        outcomes[dataset] = (
            "supports" if strong else "refutes" if some is False else "mixed" if strong is False and some else "inconclusive"
        )
        recs += _records(dataset, gain)
        effects.append(_effect(f"{dataset} (n={n})", gain))
        per_model = []
        for name, h in at.groupby("model", sort=True):
            r = h[h["features"] == "raw"].groupby("seed")["score"].mean()
            e = h[h["features"] != "raw"].groupby("seed")["score"].mean()
            if len(r) and len(e):
                per_model.append(f"{name} {an.fmt_signed(an.paired(e, r).mean(), 2)}")
        evidence.append({
            "dataset": dataset, "n_train": n, "engineered": score_of(eng), "raw": score_of(raw),
            "gain": interval(gain), "gain per model": ", ".join(per_model), "outcome": outcomes[dataset],
        })
    return _by_datasets(
        outcomes, evidence, "no dataset has classical models on both raw and engineered features",
        _certainty(_pooled(recs, "diff", "engineered − raw")), "best engineered − best raw, classical test score", effects,
    )


HYBRID_RULE = """
A hybrid is a model tagged `hybrid` (a network's learned features fed to a classical
model). On every dataset with a hybrid, at its largest size: the best hybrid against the
best of its parts, paired by seed. Its parts are the other models that share one of its
tags (its network's, e.g. `convolutional`, and its classical model's, e.g. `boosting` or
`linear`); a hybrid tagged `hybrid` alone is compared with every other configuration.
Ahead by more than the margin supports, behind by more than the margin refutes, otherwise
inconclusive. Datasets combine by the two-thirds rule.
"""


@_claim(
    FURTHER, "hybrid", "Deep and classical combined (seed 004, §2)", "",
    "deep learning combined with classical algorithms performs better (e.g. learned embeddings fed to a classical model)",
    HYBRID_RULE,
)
def hybrid(df: pd.DataFrame) -> Result:
    if df.empty:
        return NO_CELLS
    is_h = an.has_tag(df, "hybrid")
    outcomes, evidence, recs, effects = {}, [], [], []
    for dataset in an.datasets(df[is_h]):
        n = an.largest_size(df[is_h], dataset, lambda at: True)
        here = (df["dataset"] == dataset) & (df["n_train"] == n)
        h = an.best(df[here & is_h])
        tags = set().union(*(set(str(t).split(",")) for t in df.loc[here & is_h & (df["config"] == h.label), "model_tags"].fillna("")))
        tags -= {"hybrid", ""}
        others = here & ~is_h
        parts = others & df["model_tags"].fillna("").astype(str).str.split(",").apply(lambda t, tags=tags: bool(tags & set(t)))
        o = an.best(df[parts if parts.any() else others])
        if o is None:
            continue
        diff = an.paired(h.scores, o.scores)
        outcomes[dataset] = an.outcome(diff)
        recs += _records(dataset, diff)
        effects.append(_effect(f"{dataset} (n={n})", diff))
        evidence.append({
            "dataset": dataset, "n_train": n, "hybrid": score_of(h),
            "best of its parts" if parts.any() else "best other": score_of(o),
            "hybrid − it": interval(diff), "outcome": outcomes[dataset],
        })
    return _by_datasets(
        outcomes, evidence, "no model feeds learned embeddings to a classical model (none is tagged hybrid)",
        _certainty(_pooled(recs, "diff", "hybrid − best of its parts")), "hybrid − best of its parts, test score", effects,
    )


DATA_COMPUTE_RULE = """
The conjunction of two rows of the comparison table: supported when both the data
requirement and the compute requirement rows are supported, refuted when both are refuted,
not measurable when either is, inconclusive when either is, mixed otherwise.
"""


@_claim(
    FURTHER, "data_and_compute", "Data and compute (seed 000, §1)", "",
    "deep learning usually needs a lot of data and compute, while classical machine learning "
    "can learn from smaller datasets", DATA_COMPUTE_RULE,
)
def data_and_compute(df: pd.DataFrame) -> Result:
    a, b = data_requirement(df), compute_requirement(df)
    evidence = [
        {"row": "Data requirement", "verdict": a.verdict, "why": a.reason},
        {"row": "Compute requirement", "verdict": b.verdict, "why": b.reason},
    ]
    if "not measurable" in (a.verdict, b.verdict):
        which = "data requirement" if a.verdict == "not measurable" else "compute requirement"
        return Result("not measurable", f"not measurable with this run: {which} row is not measurable", evidence)
    if "inconclusive" in (a.verdict, b.verdict):
        verdict = "inconclusive"
    else:
        verdict = a.verdict if a.verdict == b.verdict and a.verdict in ("supported", "refuted") else "mixed"
    return Result(verdict, f"data requirement {a.verdict}, compute requirement {b.verdict}", evidence)
