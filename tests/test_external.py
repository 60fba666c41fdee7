"""Published results beside ours: matched on dataset, split, size and the configuration that reproduces them;
tolerances from the sources (docs/external-results.md)."""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from bench.datasets import full_params
from bench.report import external
from bench.report.formats.markdown import to_markdown

REAL = Path(__file__).resolve().parents[1] / "suites" / "real.toml"


def _real() -> dict:
    """suites/real.toml as written (loading it would read its datasets, which tests may not have)."""
    return tomllib.loads(REAL.read_text(encoding="utf-8"))


def _row(dataset, model, n_train, n_test, score, seed=0, hyper=None, dparams=None, label=None, features="raw"):
    return {
        "dataset": dataset, "dataset_name": dataset, "dataset_params": json.dumps(dparams or {}),
        "dataset_effective_params": json.dumps(full_params(dataset, dparams or {})),  # as the cell records them
        "model": label or model, "model_name": model, "params": "{}", "hyperparams": json.dumps(hyper or {}),
        "features": features, "n_train": n_train, "n_test": n_test, "seed": seed, "score": score, "status": "ok",
    }


def _one(comparisons, **match):
    found = [c for c in comparisons if all(getattr(c, k) == v for k, v in match.items())]
    assert len(found) == 1, found
    return found[0]


def test_every_figure_has_its_source_protocol_and_how_to_reproduce_it_or_why_not():
    table = external.published()
    assert len(table) >= 50
    assert table["source"].str.len().min() > 10 and table["protocol"].str.len().min() > 5
    assert table["value"].between(0, 1).all()
    assert set(table["averaged_over"]) <= {"", "seeds", "resamples"}
    assert not table.loc[table["deterministic"], "sd"].notna().any()
    unreproduced = table[table["configuration"] == ""]
    assert (unreproduced["differs"].str.len() > 10).all()  # each says why no configuration of ours reproduces it
    assert {"fashion_mnist", "mnist1d", "ucr", "digits", "mnist"} <= set(table["dataset"])


def test_the_configurations_named_are_the_real_suites_and_of_the_kind_the_figure_names():
    models = _real()["models"]
    table = external.published()
    for fig in table[table["configuration"] != ""].itertuples():
        assert fig.configuration in models, fig.configuration
        entry = models[fig.configuration]
        assert entry.get("model", fig.configuration) == fig.model
        for key, value in fig.model_params.items():  # what the figure requires, the suite sets (or the default is)
            assert entry.get(key, value) == value, (fig.configuration, key)


def test_the_real_suite_runs_the_published_datasets_with_their_parameters():
    datasets = _real()["datasets"]
    shuffled = [d for d in datasets.values() if d.get("dataset") == "mnist1d" and d.get("shuffle_seq")]
    assert len(shuffled) == 1 and "n_samples" not in shuffled[0] and "max" in shuffled[0]["train_sizes"]  # 4,000/1,000
    ucr = {d.get("name") for d in datasets.values() if d.get("dataset") == "ucr"}
    assert {"GunPoint", "ItalyPowerDemand", "ArrowHead", "OSULeaf"} <= ucr
    assert all("one_nn" in d["models"] and "resnet" in d["models"] for d in datasets.values() if d.get("dataset") == "ucr")
    fashion = datasets["fashion_mnist"]
    assert "max" in fashion["train_sizes"] and {"svc_c10", "knn_l1", "rf_depth100", "mlp100"} <= set(fashion["large_models"])


@pytest.mark.parametrize("right, verdict", [(137, external.WITHIN), (136, external.WITHIN), (135, external.OUTSIDE)])
def test_a_deterministic_model_on_a_fixed_split_must_reproduce_within_one_test_row(right, verdict):
    gunpoint = {"name": "GunPoint"}
    df = pd.DataFrame([_row("ucr", "knn", 50, 150, right / 150, hyper={"n_neighbors": 1}, dparams=gunpoint, label="one_nn")])
    one_nn = _one(external.compare(df)[0], published_model="1-NN Euclidean distance")
    assert one_nn.tolerance == pytest.approx(1 / 150 + 0.0005)
    assert one_nn.verdict == verdict and one_nn.basis.startswith("exact")


def test_a_stochastic_figure_is_judged_by_the_spreads_and_the_binomial_error():
    scores = [0.92, 0.93, 0.91]
    paper = {"n_blocks": 3, "n_channels": 25, "stride": 2}  # the paper's network (cnn_mnist1d in suites/real.toml)
    df = pd.DataFrame([_row("mnist1d", "cnn", 4000, 1000, s, seed=i, hyper=paper, label="cnn_mnist1d") for i, s in enumerate(scores)])
    cnn = _one(external.compare(df)[0], published_model="CNN", dataset="mnist1d (n_samples=5000, seed=42, shuffle_seq=False)")
    s = pd.Series(scores).std(ddof=1)
    expected = 2 * math.sqrt(0.94 * 0.06 / 1000 + s**2 / 3 + 0.02**2 / 3) + 0.005  # published 94 ± 2 % over 3 runs
    assert cnn.tolerance == pytest.approx(expected)
    assert cnn.verdict == external.WITHIN and cnn.difference == "-0.020"
    far = pd.DataFrame([_row("mnist1d", "cnn", 4000, 1000, 0.70, hyper=paper, label="cnn_mnist1d")])
    assert _one(external.compare(far)[0], published_model="CNN", model="cnn_mnist1d").verdict == external.OUTSIDE
    # the harness's own CNN (2 blocks, no stride) is another network: set beside the figure, no verdict
    own = pd.DataFrame([_row("mnist1d", "cnn", 4000, 1000, 0.92)])
    assert _one(external.compare(own)[0], published_model="CNN", model="cnn").verdict.startswith(external.DIFFERS)


def test_without_a_published_spread_our_seeds_stand_in_for_theirs_and_resamples_add_a_binomial_term():
    table = external.published()
    fig = table[(table["published_model"] == "ResNet") & (table["n_test"] == 150)].iloc[0]  # 10 runs, no sd
    scores = pd.Series([0.98, 0.99, 1.0])
    tol, basis = external.tolerance(fig, scores)
    s2 = scores.var(ddof=1)
    assert tol == pytest.approx(2 * math.sqrt(0.991 * 0.009 / 150 + s2 / 3 + s2 / 10) + 0.0005)
    assert "theirs taken as ours over 10 runs" in basis
    rf = table[(table["published_model"] == "random forest") & (table["n_test"] == 150)].iloc[0]  # 100 resamples
    tol, _ = external.tolerance(rf, pd.Series([0.92]))
    assert tol == pytest.approx(2 * math.sqrt(2 * 0.94 * 0.06 / 150) + 0.0005)


def test_the_named_configuration_is_compared_not_the_others_of_its_kind():
    gunpoint = {"name": "GunPoint"}
    df = pd.DataFrame([
        _row("ucr", "knn", 50, 150, 0.80, hyper={"n_neighbors": 5}, dparams=gunpoint, label="knn"),
        _row("ucr", "knn", 50, 150, 137 / 150, hyper={"n_neighbors": 1}, dparams=gunpoint, label="one_nn"),
    ])
    rows = [c for c in external.compare(df)[0] if c.published_model == "1-NN Euclidean distance"]
    assert [c.model for c in rows] == ["one_nn"]


def test_without_the_named_configuration_another_of_its_kind_meets_the_figure_and_its_contradictions():
    df = pd.DataFrame([_row("fashion_mnist", "knn", 60000, 10000, 0.85, hyper={"n_neighbors": 5, "weights": "uniform", "p": 2})])
    knn = _one(external.compare(df)[0], model="knn")
    assert knn.verdict.startswith(external.DIFFERS) and "weights=distance theirs, uniform ours" in knn.verdict
    assert knn.tolerance is None


def test_a_figure_no_configuration_reproduces_says_why_beside_its_contradiction():
    df = pd.DataFrame([_row("fashion_mnist", "logistic_regression", 60000, 10000, 0.84,
                            hyper={"C": 1.0, "penalty": "deprecated", "l1_ratio": 0.0})])
    lr = _one(external.compare(df)[0], model="logistic_regression")
    assert lr.verdict.startswith("protocol differs: penalty=l1 theirs, l2 ours (not run: ")


def test_another_split_size_or_feature_variant_is_not_compared():
    df = pd.DataFrame([_row("digits", "svm", 898, 450, 0.98, label="svc_digits", hyper={"gamma": 0.256},
                            dparams={"half_split": True}),
                       _row("fashion_mnist", "svm", 1000, 10000, 0.8, label="svc_c10", hyper={"C": 10.0, "kernel": "rbf"})])
    comparisons, unmatched = external.compare(df)
    digits = _one(comparisons, dataset="digits (half_split=True)")
    assert digits.verdict.startswith("protocol differs: a test set of 450 rows, theirs 899")
    assert any(line.startswith("training sizes differ (ours 1000)") for line in unmatched)
    assert any(line.startswith("feature variant not in this run (engineered): HOG + SVM") for line in unmatched)
    assert any(line.startswith("dataset not in this run") and "OSULeaf" in line for line in unmatched)


def test_hog_and_svm_meets_the_svm_on_engineered_features_only():
    df = pd.DataFrame([
        _row("fashion_mnist", "svm", 60000, 10000, 0.90, label="svc_c10", hyper={"C": 10.0, "kernel": "rbf"}),
        _row("fashion_mnist", "svm", 60000, 10000, 0.92, label="svc_c10", hyper={"C": 10.0, "kernel": "rbf"}, features="engineered"),
    ])
    comparisons, _ = external.compare(df)
    assert _one(comparisons, published_model="HOG + SVM").ours.startswith("0.920")
    assert _one(comparisons, published_model="SVC C=10, rbf").ours.startswith("0.900")


def test_the_section_renders_its_shares_table_and_what_differs():
    gunpoint = {"name": "GunPoint"}
    df = pd.DataFrame([
        _row("ucr", "knn", 50, 150, 137 / 150, hyper={"n_neighbors": 1}, dparams=gunpoint, label="one_nn"),
        _row("ucr", "random_forest", 50, 150, 0.5, dparams=gunpoint),
    ])
    text = to_markdown(external.blocks(df))
    assert "## External results" in text and "ucr GunPoint" in text and "within tolerance" in text
    assert "2 comparisons of 2 of the" in text and "2 with a verdict (100%), 1 of them within tolerance (50%)" in text
    assert "500 theirs" in text  # the random forest's "what differs"
    assert external.shares(df)["figures"] == len(external.published())


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
    assert set(resnet) == {"resnet"}  # the named configuration ran: the plain cnn is not set beside it
    assert resnet["resnet"].verdict == external.WITHIN and resnet["resnet"].difference == "-0.011"
    plain = pd.DataFrame([_row("ucr", "cnn", 50, 150, 0.84, hyper={"block": "plain"}, dparams=gunpoint, label="cnn")])
    (cnn,) = [c for c in external.compare(plain)[0] if c.published_model == "ResNet"]
    assert cnn.verdict.startswith(external.DIFFERS) and "block=residual theirs, plain ours" in cnn.verdict


def test_the_docs_list_every_figure_as_the_csv_holds_it():
    page = (REAL.parents[1] / "docs" / "external-results.md").read_text(encoding="utf-8")
    begin, end = "<!-- rules-table: begin -->\n", "\n<!-- rules-table: end -->"
    assert page[page.index(begin) + len(begin):page.index(end)] == external.rules_table()


def test_a_tuned_cell_is_not_the_published_configuration():
    # The bake-off's random forest is a fixed configuration: a tuned cell of ours ran what its
    # search chose, so it neither joins the seeds nor stands in for the default.
    gunpoint = {"name": "GunPoint"}
    rows = [_row("ucr", "random_forest", 50, 150, 0.90, seed=s, dparams=gunpoint) for s in (0, 1, 2)]
    tuned = [{**_row("ucr", "random_forest", 50, 150, 0.50, seed=s, dparams=gunpoint), "tuning": "tuned"} for s in (0, 1, 2)]
    df = pd.DataFrame([{**r, "tuning": "default"} for r in rows] + tuned)
    comparisons, _ = external.compare(df)
    forest = _one(comparisons, dataset="ucr GunPoint", published_model="random forest")
    assert forest.ours.startswith("0.900") and "(3 seeds)" in forest.ours
