"""Published results beside ours: matched only on the same dataset, split, size and kind of model."""

from __future__ import annotations

import json

import pandas as pd

from bench.datasets import full_params
from bench.report import external
from bench.report.formats.markdown import to_markdown


def _row(dataset, model, n_train, n_test, score, seed=0, hyper=None, dparams=None, label=None):
    return {
        "dataset": dataset, "dataset_name": dataset, "dataset_params": json.dumps(dparams or {}),
        "dataset_effective_params": json.dumps(full_params(dataset, dparams or {})),  # as the cell records them
        "model": label or model, "model_name": model, "params": "{}", "hyperparams": json.dumps(hyper or {}),
        "features": "raw", "n_train": n_train, "n_test": n_test, "seed": seed, "score": score, "status": "ok",
    }


def test_the_published_table_has_source_protocol_and_tolerance_for_every_figure():
    table = external.published()
    assert len(table) >= 40
    assert table["source"].str.len().min() > 10 and table["protocol"].str.len().min() > 5
    assert (table["tolerance"] > 0).all() and table["value"].between(0, 1).all()
    assert {"fashion_mnist", "mnist1d", "ucr", "digits"} <= set(table["dataset"])


def test_a_matching_cell_is_compared_within_the_stated_tolerance():
    df = pd.DataFrame([
        _row("fashion_mnist", "svm", 60000, 10000, 0.890, seed=s, hyper={"C": 10.0, "kernel": "rbf"}) for s in (0, 1)
    ])
    comparisons, _ = external.compare(df)
    svc = [c for c in comparisons if c.published_model.startswith("SVC") and c.dataset == "fashion_mnist"]
    assert len(svc) == 1
    assert svc[0].verdict == "within tolerance" and svc[0].difference == "-0.007"
    assert "(2 seeds)" in svc[0].ours


def test_a_far_score_is_outside_tolerance():
    df = pd.DataFrame([_row("mnist1d", "cnn", 4000, 1000, 0.70)])
    (cnn,) = [c for c in external.compare(df)[0] if c.published_model == "CNN" and "shuffle_seq=False" in c.dataset]
    assert cnn.verdict == "outside tolerance" and cnn.difference == "-0.240"


def test_contradicting_hyperparameters_are_a_protocol_difference_not_a_verdict():
    df = pd.DataFrame([_row("fashion_mnist", "knn", 60000, 10000, 0.85, hyper={"n_neighbors": 5, "weights": "uniform", "p": 2})])
    (knn,) = [c for c in external.compare(df)[0] if c.model == "knn"]
    assert knn.verdict.startswith("protocol differs") and "weights=distance theirs, uniform ours" in knn.verdict


def test_another_split_or_size_is_not_compared():
    df = pd.DataFrame([_row("digits", "svm", 898, 450, 0.98, hyper={"gamma": 0.001}),
                       _row("fashion_mnist", "svm", 1000, 10000, 0.8)])
    comparisons, unmatched = external.compare(df)
    (digits,) = [c for c in comparisons if c.dataset == "digits"]
    assert digits.verdict.startswith("protocol differs: a test set of 450 rows, theirs 899")
    assert any(line.startswith("training sizes differ (ours 1000)") for line in unmatched)
    assert any(line.startswith("dataset not in this run") and "OSULeaf" in line for line in unmatched)


def test_the_section_renders_with_its_table():
    df = pd.DataFrame([_row("ucr", "knn", 50, 150, 0.92, hyper={"n_neighbors": 1}, dparams={"name": "GunPoint"})])
    text = to_markdown(external.blocks(df))
    assert "## External results" in text and "ucr GunPoint" in text and "within tolerance" in text


def test_scikit_learns_deprecated_penalty_reads_as_the_penalty_it_means():
    # scikit-learn >= 1.8: LogisticRegression().get_params()["penalty"] == "deprecated"; l1_ratio decides.
    ours = {"C": 1.0, "penalty": "deprecated", "l1_ratio": 0.0}
    assert external._contradictions({"C": 1, "penalty": "l1"}, ours) == ["penalty=l1 theirs, l2 ours"]
    assert external._contradictions({"penalty": "l1"}, {**ours, "l1_ratio": 1.0}) == []
    assert external._contradictions({"penalty": "l2"}, {"penalty": "l2"}) == []


def test_the_resnet_figures_meet_the_residual_cnn_and_not_the_plain_one():
    gunpoint = {"name": "GunPoint"}
    df = pd.DataFrame([
        _row("ucr", "cnn", 50, 150, 0.98, hyper={"block": "residual"}, dparams=gunpoint, label="resnet"),
        _row("ucr", "cnn", 50, 150, 0.84, hyper={"block": "plain"}, dparams=gunpoint, label="cnn"),
    ])
    resnet = {c.model: c for c in external.compare(df)[0] if c.published_model == "ResNet"}
    assert resnet["resnet"].verdict == "within tolerance" and resnet["resnet"].difference == "-0.011"
    assert resnet["cnn"].verdict.startswith("protocol differs") and "block=residual theirs, plain ours" in resnet["cnn"].verdict
