"""The verdict rules on synthetic results tables whose right verdict is known."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import synthetic

from bench.report import analysis, claims, plots


def grid(*args, n_test: int = 1_000_000, **kwargs) -> pd.DataFrame:
    """`synthetic.grid` with test sets so large that the test rows' sampling error is negligible
    (the rules' logic is under test here; tests/test_verdict_*.py test the intervals)."""
    return synthetic.grid(*args, **kwargs).assign(n_test=n_test)

CL_RAW = ("classical", "logistic_regression", "raw", {})
CL_ENG = ("classical", "logistic_regression", "engineered", {})
DEEP = ("deep", "mlp", "raw", {})
IMG = {"img": ("image", "classification")}
TAB = {"tab": ("tabular", "classification")}


def verdict(key: str, df) -> str:
    claim = next(c for c in claims.TABLE + claims.FURTHER if c.key == key)
    return claims.evaluate(claim, df).verdict


def by_model(scores: dict, noise: float = 0.0):
    """A score function: the model label's score, or a function of the row."""

    def score(row):
        s = scores[(row["model"], row["features"])] if (row["model"], row["features"]) in scores else scores[row["model"]]
        s = s(row) if callable(s) else s
        return s + noise * (row["seed"] - 1)

    return score


# --------------------------------------------------------------- feature engineering

FE_MODELS = {"lr": CL_RAW, "lr_eng": CL_ENG, "mlp": DEEP}


@pytest.mark.parametrize(
    ("raw", "eng", "deep", "expected"),
    [
        (0.60, 0.90, 0.90, "supported"),  # features close the raw gap, deep matches on raw
        (0.90, 0.90, 0.70, "refuted"),  # features change nothing, deep is worse on raw
        (0.60, 0.90, 0.70, "mixed"),  # features help, but deep does not learn as good ones
    ],
)
def test_feature_engineering_verdicts(raw, eng, deep, expected):
    df = grid(by_model({"lr": raw, "lr_eng": eng, "mlp": deep}, noise=0.005), datasets=IMG, models=FE_MODELS)
    assert verdict("feature_engineering", df) == expected


def test_feature_engineering_not_measurable_without_engineered_features():
    df = grid(by_model({"lr": 0.6, "mlp": 0.9}), datasets=IMG, models={"lr": CL_RAW, "mlp": DEEP})
    v = claims.evaluate(claims.TABLE[0], df)
    assert v.verdict == "not measurable"
    assert "engineered" in v.reason


# --------------------------------------------------------------- model complexity


def test_model_complexity_supported_when_deep_models_are_larger():
    assert verdict("model_complexity", grid(by_model({"logistic_regression": 0.8, "random_forest": 0.8, "mlp": 0.8}))) == "supported"


def test_model_complexity_refuted_when_classical_models_are_larger():
    def score(row):
        return {"score": 0.8, "n_params": 50.0 if row["family"] == "deep" else 1e6}

    assert verdict("model_complexity", grid(score)) == "refuted"


def test_model_complexity_mixed_when_some_classical_models_are_larger():
    def score(row):
        return {"score": 0.8, "n_params": {"random_forest": 1e6, "mlp": 1e4}.get(row["model"], 100.0)}

    assert verdict("model_complexity", grid(score)) == "mixed"


def test_model_complexity_not_measurable_without_deep_models():
    df = grid(lambda r: 0.8, models={"lr": CL_RAW})
    v = claims.evaluate(claims.TABLE[1], df)
    assert v.verdict == "not measurable" and "deep" in v.reason


# --------------------------------------------------------------- data requirement

SIZE_MODELS = {"lr": CL_RAW, "mlp": DEEP}


@pytest.mark.parametrize(
    ("deep", "expected"),
    [
        ({64: 0.60, 256: 0.80, 1024: 0.95}, "supported"),  # behind at 64, overtakes with data
        ({64: 0.90, 256: 0.90, 1024: 0.90}, "refuted"),  # ahead from the start, no gain from scale
        ({64: 0.70, 256: 0.70, 1024: 0.70}, "mixed"),  # behind at 64 and stays behind
    ],
)
def test_data_requirement_verdicts(deep, expected):
    df = grid(by_model({"lr": 0.8, "mlp": lambda r: deep[r["n_train"]]}, noise=0.002), models=SIZE_MODELS)
    assert verdict("data_requirement", df) == expected


def test_data_requirement_reports_crossover_size():
    df = grid(by_model({"lr": 0.8, "mlp": lambda r: {64: 0.6, 256: 0.85, 1024: 0.95}[r["n_train"]]}), models=SIZE_MODELS)
    v = claims.evaluate(claims.TABLE[2], df)
    assert v.evidence[0]["deep ahead from"] == "n=256"


def test_data_requirement_not_measurable_with_one_size():
    df = grid(by_model({"lr": 0.8, "mlp": 0.6}), models=SIZE_MODELS, sizes=(256,))
    assert verdict("data_requirement", df) == "not measurable"


def test_failed_cells_do_not_count():
    def score(row):
        if row["family"] == "deep":
            return {"score": None, "status": "timeout", "info": "time limit"}
        return 0.8

    assert verdict("data_requirement", grid(score, models=SIZE_MODELS)) == "not measurable"


# --------------------------------------------------------------- algorithmic innovation


def test_algorithmic_innovation_is_never_measurable():
    df = grid(by_model({"lr": 0.8, "mlp": 0.9}), models=SIZE_MODELS)
    v = claims.evaluate(claims.TABLE[3], df)
    assert v.verdict == "not measurable" and "research" in v.reason


# --------------------------------------------------------------- application scenarios

BOTH = {**TAB, **IMG}


def scenario(tab_deep_small, tab_deep_large, img_deep_large):
    def deep_score(row):
        small = row["n_train"] == 64
        if row["modality"] == "tabular":
            return tab_deep_small if small else tab_deep_large
        return 0.5 if small else img_deep_large

    return by_model({"lr": 0.8, "mlp": deep_score})


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ((0.7, 0.8, 0.95), "supported"),  # classical wins small tabular, deep wins large images
        ((0.9, 0.9, 0.60), "refuted"),  # deep wins small tabular, classical wins large images
        ((0.7, 0.7, 0.60), "mixed"),  # classical wins everywhere
    ],
)
def test_application_scenarios_verdicts(scores, expected):
    # The image data's largest size is large (at least 10,000 training rows), as prediction 2 requires.
    df = grid(scenario(*scores), datasets=BOTH, models=SIZE_MODELS, sizes=(64, 256, 10_000))
    assert verdict("application_scenarios", df) == expected


def test_application_scenarios_not_measurable_when_no_image_data_is_large():
    df = grid(scenario(0.7, 0.8, 0.95), datasets=BOTH, models=SIZE_MODELS)  # largest size 1,024 rows
    v = claims.evaluate(claims.TABLE[4], df)
    assert v.verdict == "not measurable" and "large size" in v.reason and "10,000" in v.reason
    assert "prediction 1 (classical on small tabular) holds" in v.reason


def test_application_scenarios_not_measurable_without_unstructured_data():
    df = grid(scenario(0.7, 0.8, 0.95), datasets=TAB, models=SIZE_MODELS)
    v = claims.evaluate(claims.TABLE[4], df)
    assert v.verdict == "not measurable" and "image or sequence" in v.reason


def test_win_records_count_ties_half():
    df = grid(by_model({"lr": 0.8, "mlp": 0.805}), models=SIZE_MODELS, sizes=(64,))
    rec = analysis.win_records(df)
    assert set(rec["winner"]) == {"tie"} and analysis.win_rate(rec) == 0.5


# --------------------------------------------------------------- compute requirement


def test_compute_requirement_supported_when_deep_costs_ten_times_more():
    assert verdict("compute_requirement", grid(by_model({"lr": 0.8, "mlp": 0.8}), models=SIZE_MODELS)) == "supported"


def test_compute_requirement_refuted_when_deep_costs_less():
    def score(row):
        deep = row["family"] == "deep"
        return {"score": 0.8, "fit_cpu_s": 0.1 if deep else 5.0, "peak_memory_mb": 5.0 if deep else 50.0}

    assert verdict("compute_requirement", grid(score, models=SIZE_MODELS)) == "refuted"


def test_compute_requirement_mixed_when_time_and_memory_disagree():
    def score(row):
        deep = row["family"] == "deep"
        return {"score": 0.8, "fit_cpu_s": 5.0 if deep else 0.1, "peak_memory_mb": 5.0 if deep else 50.0}

    assert verdict("compute_requirement", grid(score, models=SIZE_MODELS)) == "mixed"


def test_compute_requirement_floors_tiny_memory_readings():
    def score(row):  # 0.01 MB vs 0.5 MB is noise: both floor to 1 MB, a ratio of 1
        deep = row["family"] == "deep"
        return {"score": 0.8, "fit_cpu_s": 5.0 if deep else 0.1, "peak_memory_mb": 0.5 if deep else 0.01}

    assert verdict("compute_requirement", grid(score, models=SIZE_MODELS)) == "mixed"


def test_compute_requirement_not_measurable_without_deep_models():
    assert verdict("compute_requirement", grid(lambda r: 0.8, models={"lr": CL_RAW})) == "not measurable"


# --------------------------------------------------------------- further claims

CNN_MODELS = {"mlp": DEEP, "cnn": ("deep", "cnn", "raw", {})}


@pytest.mark.parametrize(
    ("cnn_params", "cnn_score", "expected"),
    [(1e3, 0.95, "supported"), (1e5, 0.85, "refuted"), (1e3, 0.85, "mixed")],
)
def test_cnn_vs_mlp_verdicts(cnn_params, cnn_score, expected):
    def score(row):
        if row["model"] == "cnn":
            return {"score": cnn_score, "n_params": cnn_params}
        return {"score": 0.9, "n_params": 1e4}

    assert verdict("cnn_vs_mlp", grid(score, datasets=IMG, models=CNN_MODELS)) == expected


def test_cnn_vs_mlp_not_measurable_on_tabular_data():
    assert verdict("cnn_vs_mlp", grid(lambda r: 0.9, datasets=TAB, models=CNN_MODELS)) == "not measurable"


SEQ = {"synthetic_sequences": ("sequence", "classification")}
RNN_MODELS = {"lr": CL_RAW, "mlp": DEEP, "rnn": ("deep", "rnn", "raw", {})}


# A difference within the margin is no evidence either way: inconclusive, not mixed.
@pytest.mark.parametrize(("rnn", "expected"), [(0.95, "supported"), (0.6, "refuted"), (0.805, "inconclusive")])
def test_long_range_verdicts(rnn, expected):
    # Two order-blind rivals against one recurrent model: the named pairing, the RNN against the MLP
    # (rules version 4); both rivals score 0.8 here.
    df = grid(by_model({"lr": 0.8, "mlp": 0.8, "rnn": rnn}), datasets=SEQ, models=RNN_MODELS)
    assert verdict("long_range", df) == expected


def test_long_range_not_measurable_without_rnn():
    df = grid(by_model({"lr": 0.8, "mlp": 0.7}), datasets=SEQ, models={"lr": CL_RAW, "mlp": DEEP})
    assert verdict("long_range", df) == "not measurable"


@pytest.mark.parametrize(
    ("gap", "expected"),
    [
        ({64: 0.3, 256: 0.2, 1024: 0.05}, "supported"),
        ({64: 0.05, 256: 0.2, 1024: 0.3}, "refuted"),
        ({64: 0.1, 256: 0.1, 1024: 0.1}, "inconclusive"),  # the gap does not move
    ],
)
def test_gap_with_data_verdicts(gap, expected):
    df = grid(lambda r: {"score": 0.6, "train_score": 0.6 + gap[r["n_train"]]}, models=SIZE_MODELS)
    assert verdict("gap_with_data", df) == expected


def test_gap_with_data_not_measurable_with_one_size():
    assert verdict("gap_with_data", grid(lambda r: 0.8, models=SIZE_MODELS, sizes=(64,))) == "not measurable"


REG_MODELS = {
    "mlp": DEEP,
    "mlp_dropout": ("deep", "mlp", "raw", {"module__dropout": 0.5}),
    "tree": ("classical", "decision_tree", "raw", {}),
    "shallow_tree": ("classical", "decision_tree", "raw", {"max_depth": 4}),
}


@pytest.mark.parametrize(("reg_gap", "expected"), [(0.02, "supported"), (0.4, "refuted"), (0.2, "inconclusive")])
def test_gap_with_regularisation_verdicts(reg_gap, expected):
    def score(row):
        gap = reg_gap if row["model"] in ("mlp_dropout", "shallow_tree") else 0.2
        return {"score": 0.7, "train_score": 0.7 + gap}

    assert verdict("gap_with_regularisation", grid(score, models=REG_MODELS)) == expected


def test_regularisation_pairs_know_which_side_regularises():
    pairs = analysis.regularisation_pairs(analysis.ok_rows(grid(lambda r: 0.8, models=REG_MODELS)))
    assert ("tab", "decision_tree", "shallow_tree", "tree", "max_depth") in pairs
    assert ("tab", "mlp", "mlp_dropout", "mlp", "dropout") in pairs


def test_regularisation_pairs_take_several_regularisers_pointing_one_way():
    models = {
        "mlp": DEEP,
        "mlp_reg": ("deep", "mlp", "raw", {"dropout": 0.3, "weight_decay": 0.01}),
        "mlp_odd": ("deep", "mlp", "raw", {"dropout": 0.3, "weight_decay": 0.0, "d_hidden": 8}),
        "mlp_mixed": ("deep", "mlp", "raw", {"dropout": 0.5, "weight_decay": 0.0, "lr": 0.1}),
    }
    pairs = analysis.regularisation_pairs(analysis.ok_rows(grid(lambda r: 0.8, models=models)))
    assert pairs == [("tab", "mlp", "mlp_reg", "mlp", "dropout+weight_decay")]


def test_regularisation_pairs_hold_beside_tuned_cells_of_the_same_models():
    """Tuned cells are configurations of their own: their searched depths (one per seed) once
    made the default tree's depth look unrecorded, and the default pair vanished (the default
    reference found 1 of its 14 pairs). A tuned cell never pairs with a default one."""
    default = grid(lambda r: 0.8, models=REG_MODELS, sizes=(256,))
    default = default[default["model_name"] == "decision_tree"]
    tuned = default.copy()
    tuned["tuning"] = "tuned"
    tuned["hyperparams"] = [
        json.dumps({"max_depth": 3 + seed, "min_samples_leaf": seed + 1, "random_state": seed}) for seed in tuned["seed"]
    ]
    pairs = analysis.regularisation_pairs(analysis.ok_rows(pd.concat([default, tuned], ignore_index=True)))
    assert pairs == [("tab", "decision_tree", "shallow_tree", "tree", "max_depth")]


def test_regularisation_pairs_skip_unknown_defaults():
    models = {"svm": ("classical", "svm", "raw", {}), "svm_c10": ("classical", "svm", "raw", {"C": 10})}
    assert analysis.regularisation_pairs(analysis.ok_rows(grid(lambda r: 0.8, models=models))) == []
    assert verdict("gap_with_regularisation", grid(lambda r: 0.8, models=models)) == "not measurable"


@pytest.mark.parametrize(("eng", "expected"), [(0.9, "supported"), (0.6, "refuted"), (0.63, "mixed")])
def test_feature_quality_verdicts(eng, expected):
    df = grid(by_model({"lr": 0.6, "lr_eng": eng}), datasets=IMG, models={"lr": CL_RAW, "lr_eng": CL_ENG})
    assert verdict("feature_quality", df) == expected


def test_hybrid_not_measurable_without_embedding_models():
    v = claims.evaluate(next(c for c in claims.FURTHER if c.key == "hybrid"), grid(lambda r: 0.8))
    assert v.verdict == "not measurable" and "embeddings" in v.reason


def test_hybrid_supported_when_embeddings_help():
    models = {"lr": CL_RAW, "emb": ("classical", "embedding_forest", "raw", {}, ("hybrid",))}
    assert verdict("hybrid", grid(by_model({"lr": 0.8, "emb": 0.9}), models=models)) == "supported"


def test_data_and_compute_combines_two_rows():
    df = grid(by_model({"lr": 0.8, "mlp": lambda r: {64: 0.6, 256: 0.8, 1024: 0.95}[r["n_train"]]}), models=SIZE_MODELS)
    assert verdict("data_and_compute", df) == "supported"


# --------------------------------------------------------------- the table itself


def test_the_table_has_the_documents_six_rows_in_order():
    assert [c.key for c in claims.TABLE] == [
        "feature_engineering", "model_complexity", "data_requirement",
        "algorithmic_innovation", "application_scenarios", "compute_requirement",
    ]


def test_every_rule_has_its_text_and_handles_an_empty_table():
    empty = grid(lambda r: 0.8).iloc[0:0]
    for claim in claims.TABLE + claims.FURTHER:
        assert len(claim.rule) > 80, claim.key
        assert claims.evaluate(claim, empty).verdict == "not measurable", claim.key


# --------------------------------------------------------------- selection by tag

PLUGIN = '''
from bench.models import model
from bench.models.deep import cnn


@model("tiny_convnet", family="deep", modalities=("image",), tags=("convolutional",))
def tiny_convnet(ctx):
    """A user's own convolutional network (a plugin)."""
    return cnn(ctx)
'''


def test_a_plugin_model_tagged_convolutional_joins_the_cnn_claim_without_a_report_edit(tmp_path, monkeypatch):
    (tmp_path / "my_convnet_plugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("BENCH_PLUGINS", "my_convnet_plugin")
    models = {"mlp": DEEP, "my_net": ("deep", "tiny_convnet", "raw", {})}  # rows without tags, as old tables

    def score(row):
        return {"score": 0.95 if row["model"] == "my_net" else 0.9, "n_params": 1e3 if row["model"] == "my_net" else 1e4}

    v = claims.evaluate(next(c for c in claims.FURTHER if c.key == "cnn_vs_mlp"), grid(score, datasets=IMG, models=models))
    assert v.verdict == "supported"
    assert v.evidence[0]["CNN"].startswith("my_net ") and v.evidence[0]["MLP"].startswith("mlp ")


def test_rows_with_tags_are_selected_by_tag_not_by_name():
    models = {"mlp": DEEP, "odd_name": ("deep", "not_registered", "raw", {}, ("convolutional",))}
    df = grid(by_model({"mlp": 0.8, "odd_name": 0.9}), datasets=IMG, models=models)
    assert analysis.has_tag(analysis.ok_rows(df), "convolutional").sum() == 9
    assert verdict("cnn_vs_mlp", df) == "mixed"  # better but not smaller (same default parameter count)


def test_the_two_thirds_rule_with_and_without_a_veto():
    assert analysis.two_thirds({"a": "supports", "b": "supports", "c": "mixed"}) == "supported"
    assert analysis.two_thirds({"a": "supports", "b": "supports", "c": "refutes"}) == "mixed"
    assert analysis.two_thirds({"a": "supports", "b": "supports", "c": "refutes"}, veto=False) == "supported"
    assert analysis.two_thirds({"a": "refutes", "b": "refutes", "c": "neutral"}) == "refuted"


# --------------------------------------------------------------- choices on validation, certainty

TWO_DEEP = {"lr": CL_RAW, "mlp": DEEP, "mlp_wide": ("deep", "mlp", "raw", {"d_hidden": 1024})}


def test_the_best_configuration_is_chosen_on_validation_and_reported_on_test():
    def score(row):  # mlp_wide looks best on test but worse on validation
        s, v = {"lr": (0.8, 0.8), "mlp": (0.85, 0.9), "mlp_wide": (0.95, 0.7)}[row["model"]]
        return {"score": s, "val_score": v}

    # Two classical configurations as well: equal terms, best against best.
    models = {**TWO_DEEP, "lr2": ("classical", "logistic_regression", "raw", {"C": 0.1})}
    rec = analysis.win_records(grid(lambda r: score(r) if r["model"] != "lr2" else {"score": 0.7, "val_score": 0.7},
                                    models=models))
    assert set(rec["deep"]) == {"mlp"}
    assert rec["diff"].round(6).eq(0.05).all()  # mlp's test score, not its validation score


def test_without_validation_scores_the_choice_falls_back_to_test_scores():
    old = {"lr": 0.8, "mlp": 0.85, "mlp_wide": 0.95}
    df = grid(lambda r: {"score": old[r["model"]], "val_score": None}, models=TWO_DEEP)
    ok = analysis.ok_rows(df)
    assert analysis.selection_basis(ok) == "test"
    chosen = analysis.best(ok[ok["n_train"] == 64], family="deep")
    assert (chosen.label, chosen.chosen_on) == ("mlp_wide", "test")


def test_default_and_tuned_configurations_are_told_apart():
    def score(row):
        return {"score": 0.8, "val_score": 0.8, "tuning": "tuned" if row["model"] == "mlp_t" else "default"}

    models = {"mlp": DEEP, "mlp_t": ("deep", "mlp", "raw", {})}
    ok = analysis.ok_rows(grid(score, models=models))
    assert set(ok["config"]) == {"mlp", "mlp_t (tuned)"}


def test_mixed_is_evidence_both_ways_and_inconclusive_is_noise():
    rnn = {"lr": CL_RAW, "rnn": ("deep", "rnn", "raw", {})}
    two = {"synthetic_sequences": SEQ["synthetic_sequences"], "other": ("sequence", "classification", ("long_range",))}

    def opposite(row):  # the RNN ahead on one dataset, behind on the other
        if row["model"] == "rnn":
            return 0.9 if row["dataset"] == "other" else 0.7
        return 0.8

    def noisy(row):  # the RNN ahead on average, but behind on one seed of three
        return 0.8 if row["model"] == "lr" else 0.8 + {0: -0.05, 1: 0.03, 2: 0.11}[row["seed"]]

    assert verdict("long_range", grid(opposite, datasets=two, models=rnn)) == "mixed"
    assert verdict("long_range", grid(noisy, datasets=SEQ, models=rnn)) == "inconclusive"


def test_every_verdict_says_how_sure_it_is():
    df = grid(by_model({"lr": 0.8, "mlp": lambda r: {64: 0.6, 256: 0.85, 1024: 0.95}[r["n_train"]]}, noise=0.01), models=SIZE_MODELS)
    v = claims.evaluate(claims.TABLE[2], df)
    assert v.verdict == "supported"
    assert "95% intervals" in v.certainty and "test rows" in v.certainty and "scores only" in v.certainty
    assert "one dataset: no test across datasets" in v.certainty


def test_failed_cells_are_named_with_whether_they_could_change_the_verdict():
    def score(row):
        if row["family"] == "deep" and row["n_train"] == 1024 and row["seed"] == 0:
            return {"score": None, "status": "timeout", "info": "time limit"}
        return {"lr": 0.8, "mlp": {64: 0.6, 256: 0.85, 1024: 0.95}[row["n_train"]]}[row["model"]]

    v = claims.evaluate(claims.TABLE[2], grid(score, models=SIZE_MODELS))
    assert v.missing.startswith("1 timeout cell(s): tab/mlp/raw/n=1024/seed 0 (timeout).")
    assert "the verdict stays supported" in v.missing or "could be" in v.missing
    assert claims.evaluate(claims.TABLE[2], grid(by_model({"lr": 0.8, "mlp": 0.9}), models=SIZE_MODELS)).missing == ""


def test_compute_claim_names_the_hardware_and_never_mixes_gpu_and_cpu_rows():
    def gpu_only(row):
        return {"score": 0.8, "device": "cuda:0" if row["family"] == "deep" else "cpu"}

    v = claims.evaluate(claims.TABLE[5], grid(gpu_only, models=SIZE_MODELS))
    assert "deep on cuda:0" in v.reason and "classical on cpu" in v.reason
    assert "different hardware" in v.certainty

    def both(row):
        return {"score": 0.8, "device": "cuda:0" if row["family"] == "deep" and row["seed"] == 0 else "cpu"}

    v = claims.evaluate(claims.TABLE[5], grid(both, models=SIZE_MODELS))
    assert "deep on cpu" in v.reason and "left out" in v.certainty


def test_a_hybrid_is_compared_with_the_best_of_its_parts():
    models = {
        "lr": CL_RAW, "xgb": ("classical", "xgboost", "raw", {}, ("boosting", "tree")),
        "cnn": ("deep", "cnn", "raw", {}, ("convolutional",)),
        "cnn_xgb": ("classical", "cnn_xgboost", "raw", {}, ("hybrid", "convolutional", "boosting")),
    }
    # Better than both of its parts, though not better than the unrelated logistic regression.
    scores = {"lr": 0.95, "xgb": 0.8, "cnn": 0.85, "cnn_xgb": 0.9}
    v = claims.evaluate(next(c for c in claims.FURTHER if c.key == "hybrid"), grid(by_model(scores), datasets=IMG, models=models))
    assert v.verdict == "supported"
    # One hybrid against the better of its two parts, each side's best on validation (rules version 4).
    assert v.evidence[0]["best of its parts"].startswith("cnn 0.850")
    assert v.evidence[0]["candidates (hybrid / other side)"] == "1 / 2"


def test_a_single_candidate_without_a_validation_score_sends_that_choice_to_test_scores():
    def score(row):
        s = {"lr": 0.8, "mlp": 0.85, "mlp_wide": 0.95}[row["model"]]
        return {"score": s, "val_score": None if row["model"] == "mlp_wide" and row["seed"] == 0 else 1 - s}

    ok = analysis.ok_rows(grid(score, models=TWO_DEEP))
    assert analysis.selection_basis(ok) == "partly"
    assert analysis.best(ok[ok["n_train"] == 64], family="deep").chosen_on == "test"
    assert analysis.best(ok[ok["n_train"] == 64], family="classical").chosen_on == "validation"


def test_the_search_of_a_tuned_configuration_counts_in_its_compute_cost():
    def score(row):  # fits cost alike, but the classical model's search costs 100 s of CPU
        deep = row["family"] == "deep"
        return {"score": 0.8, "fit_cpu_s": 1.0, "peak_memory_mb": 5.0 if deep else 50.0, "tuning": "default" if deep else "tuned",
                "search_cpu_s": None if deep else 100.0}

    v = claims.evaluate(claims.TABLE[5], grid(score, models=SIZE_MODELS))
    assert v.verdict == "refuted"
    assert "fit CPU time ×0.0099" in v.reason


def test_a_configuration_run_on_fewer_seeds_does_not_enter_the_choice():
    """A suite that tunes on seed 0 only: its tuned configurations are shown, not chosen (one seed has no interval)."""
    rows = []
    for seed, (a, b) in enumerate([(0.70, 0.99), (0.75, None), (0.72, None)]):
        rows.append({"config": "a", "seed": seed, "score": a, "val_score": a, "n_params": 1.0})
        if b is not None:
            rows.append({"config": "b (tuned)", "seed": seed, "score": b, "val_score": b, "n_params": 1.0})
    df = pd.DataFrame(rows)
    chosen = analysis.best(df)
    assert chosen.label == "a" and list(chosen.scores.index) == [0, 1, 2]
    assert analysis.partial_configs(df.assign(dataset="d", n_train=10)) == ["b (tuned)"]
    # where no configuration ran on every seed, they meet on the seeds they share
    only = df[~((df["config"] == "a") & (df["seed"] == 2))].assign(config=lambda x: x["config"].where(x["seed"] != 1, "c"))
    assert analysis.best(only).label in {"a", "b (tuned)", "c"}


def test_default_and_tuned_are_compared_seed_by_seed():
    rows = []
    for seed in (0, 1):
        rows.append({"dataset": "d", "model": "svm", "features": "raw", "n_train": 10, "seed": seed,
                     "tuning": "default", "score": 0.8, "search_cpu_s": 0.0})
    rows.append({"dataset": "d", "model": "svm", "features": "raw", "n_train": 10, "seed": 0,
                 "tuning": "tuned", "score": 0.9, "search_cpu_s": 3.0})
    out = analysis.default_vs_tuned(pd.DataFrame(rows))
    assert len(out) == 1 and round(out["diff"].iloc[0], 6) == 0.1 and out["search_cpu_s"].iloc[0] == 3.0


def test_a_single_value_has_no_interval_and_decides_nothing():
    from bench.report.stats import bootstrap_ci, decide

    one = bootstrap_ci(pd.DataFrame({"dataset": ["d"], "v": [0.2]}), "v")
    assert one.mean == 0.2 and np.isnan(one.lo) and np.isnan(one.hi)
    assert decide(one, 0.0) == "noise"
    assert "no interval" in one.text()
    two = bootstrap_ci(pd.DataFrame({"dataset": ["d", "d"], "v": [0.2, 0.3]}), "v")
    assert decide(two, 0.0) == "above"


def test_a_wall_time_timeout_on_a_busy_machine_is_told_apart():
    row = pd.Series({"status": "timeout", "load_avg": 9.5, "limit": "wall"})
    assert analysis.status_label(row, 2) == "timeout (load 9.5 on 2 cores)"
    assert analysis.status_label(row.replace({"wall": "cpu"}), 2) == "timeout"  # CPU limits ignore load
    assert analysis.status_label(pd.Series({"status": "timeout", "load_avg": 1.0, "limit": "wall"}), 2) == "timeout"
    assert analysis.status_label(pd.Series({"status": "error", "load_avg": 9.5, "limit": "wall"}), 2) == "error"


def test_a_timeout_under_load_is_judged_by_the_run_machines_cores():
    """The core count comes from the run's environment.json, not the machine building the report."""

    def score(row):
        if row["family"] == "deep" and row["n_train"] == 1024 and row["seed"] == 0:
            return {"score": None, "status": "timeout", "info": "time limit"}
        return {"lr": 0.8, "mlp": {64: 0.6, 256: 0.85, 1024: 0.95}[row["n_train"]]}[row["model"]]

    df = grid(score, models=SIZE_MODELS).assign(load_avg=9.5, limit="wall")
    assert analysis.cores_of({"cpu": {"cores_logical": 2}}) == 2
    assert analysis.cores_of({"cpu": {"cores_logical": "n/a"}}) is None and analysis.cores_of(None) is None
    on_two = claims.evaluate(claims.TABLE[2], df, cores=2).missing
    assert "(timeout (load 9.5 on 2 cores))" in on_two
    assert "(timeout (load 9.5 on 16 cores))" not in claims.evaluate(claims.TABLE[2], df, cores=16).missing
    assert "(timeout)" in claims.evaluate(claims.TABLE[2], df).missing  # unknown cores: no load judgement


# --------------------------------------------------------------- one evidence for the verdict and its figure


def test_a_claims_figure_draws_the_configurations_its_verdict_chose():
    df = grid(by_model({"lr": 0.6, "lr_eng": 0.9, "mlp": 0.9}, noise=0.005), datasets=IMG, models=FE_MODELS)
    ok = analysis.ok_rows(df)
    v = claims.evaluate(claims.CLAIMS["feature_engineering"], df, ok)
    (dataset, n, raw, eng, deep), = v.data
    row = v.evidence[0]
    assert (dataset, n) == (row["dataset"], row["n_train"])
    assert [analysis.fmt_score(b) for b in (raw, eng, deep)] == [row["classical, raw"], row["classical, engineered"], row["deep, raw"]]
    figures = plots.all_figures(ok, [v])
    assert [f.name for f in figures["claim:feature_engineering"]] == ["claim-feature-engineering.png"]


def test_each_claim_is_measured_once_per_table_and_a_claim_built_on_others_reuses_theirs():
    df = grid(by_model({"lr": 0.8, "mlp": lambda r: {64: 0.6, 256: 0.8, 1024: 0.95}[r["n_train"]]}), models=SIZE_MODELS)
    df.loc[df.index[:2], "status"] = "timeout"  # failed cells: each verdict is measured again on four what-if tables
    calls: list[tuple[str, int]] = []

    def counted(c):
        def measure(ms):
            calls.append((c.key, id(ms)))
            return c.measure(ms)
        return dataclasses.replace(c, measure=measure)

    ms = claims.Measurements(df)
    table = [claims.evaluate(counted(c), ms) for c in claims.TABLE]
    further = [claims.evaluate(counted(c), ms) for c in claims.FURTHER]
    assert len(ms.what_ifs) == 4
    # once per claim and table, the four what-ifs included (a claim that reads no cell has none)
    assert len(calls) == len(set(calls)) == sum(1 + 4 * c.cells for c in claims.TABLE + claims.FURTHER)
    both = next(v for v in further if v.key == "data_and_compute")  # read the two rows' results, measured no more
    assert both.evidence[0]["why"] == ms.result(claims.CLAIMS["data_requirement"]).reason == table[2].reason
    assert ms.wins is ms.wins and ms.result(claims.TABLE[2]) is ms.result(claims.TABLE[2])



def test_the_picture_note_and_the_figure_belong_to_the_claim():
    assert claims.CLAIMS["data_requirement"].picture == "The picture for this row is the headline figure at the top."
    assert claims.CLAIMS["algorithmic_innovation"].cells is False
    assert all(c.version >= 1 for c in claims.TABLE + claims.FURTHER)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ((53, 0, 66), "supported"),  # the default reference: most undecided on their own, every decided one shrinks
        ((62, 1, 68), "supported"),  # the real reference: one exception among 63 decided
        ((0, 50, 60), "refuted"),
        ((30, 25, 50), "mixed"),  # decided both ways: no direction beyond chance
        ((5, 0, 60), "inconclusive"),  # under a third decided: the two-thirds rule, not met
        ((2, 0, 1), "supported"),  # few units: the two-thirds rule (2 of 3)
        ((3, 0, 3), "inconclusive"),  # a sign test of 3 cannot reach p < 0.05; 3 of 6 is not two thirds
    ],
)
def test_many_units_decide_by_the_decided_ones_beyond_chance(counts, expected):
    sup, ref, und = counts
    outcomes = {f"u{i}": o for i, o in enumerate(["supports"] * sup + ["refutes"] * ref + ["inconclusive"] * und)}
    assert analysis.many_units(outcomes) == expected
