"""Every verdict's reason agrees with the evidence beside it (issue 26, item 3).

Reports built from synthetic tables with large, clear effects must not read "within noise",
"inconclusive" or "refuted" for the claims those effects were built to support; tables with
no effect at all must not read "supported" for a claim about a score effect. Each verdict's
word must also be what its own evidence rows' outcomes give by its combining rule.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
import synthetic

from bench.report import analysis as an
from bench.report import render
from bench.report.claims import further_verdicts, table_verdicts
from bench.report.claims.common import large_rows

SIZES = (100, 1000, 20000)  # the largest is large (at least 10,000 training rows) for every modality
N_TEST = 5000
DATASETS = {
    "tab": ("tabular", "classification", {"official_split"}),
    "img": ("image", "classification", {"official_split"}),
    "img2": ("image", "classification", {"official_split"}),
    "seq": ("sequence", "classification", {"long_range", "official_split"}),
}
MODELS = {
    "logistic_regression": ("classical", "logistic_regression", "raw", {}, {"linear"}),
    "random_forest": ("classical", "random_forest", "raw", {}, {"tree"}),
    "random_forest_eng": ("classical", "random_forest", "engineered", {}, {"tree"}),
    "mlp": ("deep", "mlp", "raw", {}, {"fully_connected"}),
    "cnn": ("deep", "cnn", "raw", {}, {"convolutional"}),
    "rnn": ("deep", "rnn", "raw", {}, {"recurrent"}),
}
CLASSICAL = {100: 0.70, 1000: 0.74, 20000: 0.78}  # raw; engineered features add ENGINEERED
ENGINEERED = 0.08
DEEP = {100: 0.50, 1000: 0.80, 20000: 0.90}  # the MLP; the CNN adds 0.03, the RNN 0.06
PARAMS = {"mlp": 10000.0, "cnn": 5000.0, "rnn": 8000.0}

# Claims about scores and sizes the clear table was built to support, and those the null table
# must not support (claims about a score effect).
CLEAR = ("data_requirement", "application_scenarios", "model_complexity", "compute_requirement",
         "cnn_vs_mlp", "long_range", "gap_with_data", "feature_quality")
NULL = ("data_requirement", "application_scenarios", "cnn_vs_mlp", "long_range", "gap_with_data")
NOISE = ("within noise", "inconclusive")


def _clear(row: dict) -> dict:
    n, model = row["n_train"], row["model"]
    jitter = 0.001 * row["seed"]  # seeds differ a little, as runs do
    if row["family"] == "classical":
        score = CLASSICAL[n] + (ENGINEERED if row["features"] == "engineered" else 0.0)
    else:
        score = DEEP[n] + {"mlp": 0.0, "cnn": 0.03, "rnn": 0.06}[model]
    out = {"score": score + jitter, "train_score": 1.0, "n_test": N_TEST}
    if row["family"] == "deep":
        out["n_params"] = PARAMS[model]
    return out


def _null(row: dict) -> dict:
    return {"score": 0.80 + 0.001 * row["seed"], "train_score": 0.85, "n_test": N_TEST,
            **({"n_params": 10000.0} if row["family"] == "deep" else {})}


def _table(score, capped: bool = False) -> pd.DataFrame:
    df = synthetic.grid(score, datasets=DATASETS, models=MODELS, sizes=SIZES)
    if capped:  # the CNN stopped at its epoch cap at the largest size; classical cells record nothing
        deep = df["family"] == "deep"
        df["epochs_capped"] = pd.array([(m == "cnn" and n == SIZES[-1]) if d else None
                                        for m, n, d in zip(df["model"], df["n_train"], deep, strict=True)], dtype="boolean")
    return df


@pytest.fixture(scope="module")
def clear():
    df = _table(_clear, capped=True)
    return {v.key: v for v in table_verdicts(df) + further_verdicts(df)}


@pytest.fixture(scope="module")
def null():
    df = _table(_null)
    return {v.key: v for v in table_verdicts(df) + further_verdicts(df)}


def test_the_largest_size_is_large_for_every_modality():
    assert all(SIZES[-1] >= large_rows(m) for m, *_ in DATASETS.values())
    assert SIZES[-2] < min(large_rows(m) for m, *_ in DATASETS.values())


@pytest.mark.parametrize("key", CLEAR)
def test_large_clear_effects_are_supported_and_the_reason_says_so(clear, key):
    v = clear[key]
    assert v.verdict == "supported", (key, v.verdict, v.reason)
    said = re.sub(r"\b0 refutes?\b", "", v.reason)  # "0 refute" in a tally is no refutation
    assert not any(w in said for w in NOISE + ("refute", "fails")), v.reason


@pytest.mark.parametrize("key", NULL)
def test_null_effects_are_never_supported(null, key):
    v = null[key]
    assert v.verdict != "supported", (key, v.reason)
    assert " holds; prediction 2 (deep on large image/sequence) holds" not in v.reason


def test_null_score_differences_have_intervals_around_zero(null):
    for key in ("cnn_vs_mlp", "long_range"):
        for label, mean, lo, hi in null[key].effects:
            assert lo <= 0.0 <= hi and abs(mean) < an.MARGIN, (key, label, mean, lo, hi)


@pytest.mark.parametrize("table", ["clear", "null"])
def test_every_verdict_is_what_its_evidence_rows_give(request, table):
    """The verdict word is the two-thirds rule over the outcomes the evidence table prints, and the
    reason's tally counts the same outcomes (claims whose reason is a tally of datasets)."""
    for key, v in request.getfixturevalue(table).items():
        outcomes = {str(i): e["outcome"] for i, e in enumerate(v.evidence) if "outcome" in e}
        if not outcomes or v.verdict == "not measurable":
            continue
        veto = key not in ("gap_with_data", "gap_with_regularisation")
        expected = an.many_units(outcomes) if key == "gap_with_data" else an.two_thirds(outcomes, veto=veto)
        assert v.verdict == expected, (table, key, v.verdict, outcomes)
        if v.reason.startswith("of "):
            counts = {o: sum(x == o for x in outcomes.values()) for o in ("supports", "refutes", "mixed")}
            assert f"{counts['supports']} support" in v.reason and f"{counts['refutes']} refute" in v.reason, v.reason
            assert f"{counts['mixed']} mixed" in v.reason, v.reason


def test_a_capped_cell_is_flagged_under_the_claims_that_read_it(clear):
    assert "epoch cap" in clear["cnn_vs_mlp"].certainty and "cnn" in clear["cnn_vs_mlp"].certainty
    assert "epoch cap" not in clear["feature_quality"].certainty  # it names classical configurations only
    # A table without the column, or with the column empty (an old run's rows), says nothing of caps.
    df = _table(_null)
    assert "epochs_capped" not in df.columns or df["epochs_capped"].isna().all()
    for table in (df, df.drop(columns=["epochs_capped", "tuning_capped"], errors="ignore")):
        assert all("cap" not in v.certainty.lower() for v in table_verdicts(table) + further_verdicts(table))


def test_application_scenarios_is_not_measurable_below_a_large_size():
    df = _table(_clear)
    df = df[df["n_train"] < large_rows("image")]
    v = {x.key: x for x in table_verdicts(df)}["application_scenarios"]
    assert v.verdict == "not measurable" and "large size" in v.reason and "prediction 1" in v.reason


def test_a_report_built_from_the_clear_table_reads_supported(tmp_path):
    df = _table(_clear)
    df.to_parquet(tmp_path / "results.parquet", index=False)
    md = render.build(tmp_path).markdown.read_text()
    for title in ("Data requirement", "Application scenarios", "Model complexity"):
        head = md.split(f"### {title}")[1].split("\n\n")[0]
        assert head.endswith(": supported"), head
        verdict_line = md.split(f"### {title}")[1].split("Verdict: ")[1].split("\n")[0]
        assert not any(w in verdict_line for w in NOISE), verdict_line


def test_a_parameter_matched_mlp_is_reported_or_its_absence_said(clear):
    rows = clear["cnn_vs_mlp"].evidence
    assert all(r["parameter-matched MLP"].startswith("mlp ") for r in rows)
    assert "CNN − parameter-matched MLP score" in clear["cnn_vs_mlp"].certainty
    big = _table(lambda r: {**_clear(r), **({"n_params": 50 * PARAMS["cnn"]} if r["model"] == "mlp" else {})})
    v = {x.key: x for x in further_verdicts(big)}["cnn_vs_mlp"]
    assert all(r["parameter-matched MLP"] == "no parameter-matched MLP in this run" for r in v.evidence)
    assert {r["modality"] for r in v.evidence} == {"image", "sequence"}


def test_complexity_is_judged_per_dataset_and_stored_training_data_is_not_counted():
    models = {**MODELS, "knn": ("classical", "knn", "raw", {}, set())}

    def score(row):
        out = _clear(row)
        if row["model"] == "knn":  # stores its training rows: a huge "parameter" count
            out |= {"n_params": 50.0 * row["n_train"], "size_proxy": float(row["n_train"]), "size_unit": "stored rows"}
        if row["dataset"] == "tab" and row["family"] == "classical" and row["model"] != "knn":
            out["n_params"] = 1e6  # on the tables, classical models are the larger ones
        return out

    df = synthetic.grid(score, datasets=DATASETS, models=models, sizes=SIZES)
    v = {x.key: x for x in table_verdicts(df)}["model_complexity"]
    by = {r["dataset"]: r for r in v.evidence}
    assert by["tab"]["outcome"] == "refutes" and by["img"]["outcome"] == "supports"
    assert v.verdict == "mixed"  # 3 of 4 datasets support, one refutes: the veto
    assert "knn" in by["img"]["stores training data"] and "stored rows" in by["img"]["stores training data"]
    assert "knn's stored rows" in v.reason and all("knn" not in r["largest classical"] for r in v.evidence)


def test_a_search_cut_by_its_time_cap_is_flagged_and_unrecorded_values_say_nothing():
    df = _table(_clear)
    # The forest tuned on both inputs (the rule compares the same models on each side), on every
    # seed, winning on validation: chosen on each side.
    tuned = df[df["model"].isin(("random_forest", "random_forest_eng")) & (df["n_train"] == SIZES[-1])]
    tuned = tuned.assign(tuning="tuned", score=tuned["score"] + 0.02, val_score=tuned["val_score"] + 0.02,
                         key=tuned["key"] + "|tuned")
    df = pd.concat([df, tuned], ignore_index=True)
    # As read back from an old and a new run: None where a cell records nothing (defaults, old rows).
    df["tuning_capped"] = [True if t == "tuned" else None for t in df["tuning"]]
    df["epochs_capped"] = None
    v = {x.key: x for x in further_verdicts(df)}["feature_quality"]
    assert "cut by its time cap in 24 of 24 tuned cells" in v.certainty, v.certainty  # 2 inputs x 4 datasets x 3 seeds
    assert any("(tuned)" in r["engineered"] for r in v.evidence)  # the tuned configuration reached the verdict
    assert "epoch cap" not in v.certainty
    df["tuning_capped"] = None
    assert all("cap" not in x.certainty.lower() for x in table_verdicts(df) + further_verdicts(df))
