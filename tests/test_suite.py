"""Suites are validated before anything runs; errors name the file, the key and the choices."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.suite import SuiteError, load, parse, plan

GOOD = """
[suite]
seeds = [0, 1]
train_sizes = [50, "max"]
threads = 1
[datasets.breast_cancer]
[datasets.diabetes]
[models.logistic_regression]
C = 0.5
[models.ridge]
[models.random_forest]
n_estimators = 10
"""


def test_a_valid_suite_loads_with_its_values():
    suite = parse(GOOD, "good.toml")
    assert suite.seeds == (0, 1)
    bc = suite.datasets[0]
    assert bc.train_sizes == (50, 569 - 142)  # "max" is the whole training pool
    assert suite.models[0].params == {"C": 0.5}


def test_plan_shares_splits_and_skips_incompatible_pairs_with_a_reason():
    cells, skips = plan(parse(GOOD, "good.toml"))
    # breast_cancer: logistic + forest; diabetes: ridge + forest; 2 sizes x 2 seeds
    assert len(cells) == 2 * 2 * 2 * 2
    reasons = {(s.dataset, s.model): s.reason for s in skips}
    assert "does not do classification" in reasons[("breast_cancer", "ridge")]
    assert "does not do regression" in reasons[("diabetes", "logistic_regression")]
    assert len({c.key for c in cells}) == len(cells)


def _error(text: str) -> str:
    with pytest.raises(SuiteError) as info:
        parse(text, "bad.toml")
    return str(info.value)


def test_unknown_model_name_lists_valid_names():
    msg = _error(GOOD.replace("[models.ridge]", "[models.forest]"))
    assert "bad.toml" in msg and "models.forest" in msg and "random_forest" in msg and "xgboost" in msg


def test_unknown_dataset_name_lists_valid_names():
    msg = _error(GOOD.replace("[datasets.diabetes]", "[datasets.diabetis]"))
    assert "datasets.diabetis" in msg and "diabetes" in msg and "breast_cancer" in msg


def test_unknown_hyperparameter_names_the_key_and_the_valid_ones():
    msg = _error(GOOD.replace("n_estimators = 10", "n_trees = 10"))
    assert "models.random_forest.n_trees" in msg and "n_estimators" in msg


def test_wrong_type_of_hyperparameter_is_rejected():
    msg = _error(GOOD.replace("n_estimators = 10", 'n_estimators = "ten"'))
    assert "models.random_forest.n_estimators" in msg and "integer" in msg


def test_invalid_hyperparameter_value_is_rejected_by_the_estimator_rules():
    msg = _error(GOOD.replace("C = 0.5", "C = -1.0"))
    assert "models.logistic_regression" in msg and "C" in msg


def test_unknown_suite_key_lists_the_valid_keys():
    msg = _error(GOOD.replace("threads = 1", "thread = 1"))
    assert "suite.thread" in msg and "threads" in msg


def test_impossible_training_size_names_the_dataset_and_the_range():
    msg = _error(GOOD.replace('[50, "max"]', "[50, 5000]"))
    assert "suite.train_sizes" in msg and "breast_cancer" in msg and "427" in msg


def test_wrong_type_in_suite_section():
    assert "suite.seeds" in _error(GOOD.replace("seeds = [0, 1]", 'seeds = "0"'))
    assert "suite.threads" in _error(GOOD.replace("threads = 1", "threads = 0"))


def test_missing_section_and_unknown_section():
    assert "[models] missing section" in _error(GOOD.split("[models.logistic_regression]")[0])
    assert "unknown section" in _error(GOOD + "\n[extra]\n")


def test_broken_toml_is_reported_with_its_position():
    msg = _error("[suite\nseeds = [0]")
    assert "not valid TOML" in msg and "line" in msg


def test_unknown_dataset_parameter_and_bad_dataset_value():
    text = GOOD.replace("[datasets.diabetes]", "[datasets.diabetes]\nn_samples = 10")
    assert "datasets.diabetes.n_samples" in _error(text)
    text = GOOD.replace("[datasets.diabetes]", '[datasets.f]\ndataset = "friedman1"\nn_samples = 0')
    assert "datasets.f" in _error(text) and "n_samples" in _error(text)


def test_a_missing_file_is_a_suite_error(tmp_path):
    with pytest.raises(SuiteError, match="cannot read"):
        load(tmp_path / "nope.toml")


def test_the_shipped_suites_are_valid():
    for name in ("quick", "default"):
        suite = load(f"suites/{name}.toml")
        cells, _ = plan(suite)
        assert cells


@pytest.mark.parametrize(
    "change",
    [
        ("[models.ridge]", "[models.forest]"),
        ("threads = 1", "threads = 1.5"),
        ('[50, "max"]', "[1]"),
    ],
)
def test_cli_exits_2_with_one_line_and_no_traceback(write_suite, change):
    path = write_suite(GOOD.replace(*change))
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "run", str(path), "--out", str(path.parent / "out")],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ") and str(path) in proc.stderr
    assert not (path.parent / "out").exists()


def test_a_dataset_may_set_its_own_seeds_models_and_one_seed_from_a_size():
    from bench.suite import parse, plan

    suite = parse(
        """
[suite]
seeds = [0, 1, 2]
[datasets.wine]
train_sizes = [32, 64, "max"]
one_seed_from = 64
models = ["knn"]
[datasets.breast_cancer]
train_sizes = [50, "max"]
one_seed_from = 100
large_models = ["knn"]
[datasets.digits]
seeds = [5]
train_sizes = [50]
[models.knn]
[models.decision_tree]
""",
        "s.toml",
    )
    cells, skips = plan(suite)
    wine = [(c.n_train, c.seed, c.model.label) for c in cells if c.dataset.label == "wine"]
    assert wine == [(32, 0, "knn"), (32, 1, "knn"), (32, 2, "knn"), (64, 0, "knn"), (134, 0, "knn")]
    assert sorted((c.n_train, c.seed, c.model.label) for c in cells if c.dataset.label == "breast_cancer") == [
        (50, 0, "decision_tree"), (50, 0, "knn"), (50, 1, "decision_tree"), (50, 1, "knn"),
        (50, 2, "decision_tree"), (50, 2, "knn"), (427, 0, "knn")]
    assert {(c.seed, c.model.label) for c in cells if c.dataset.label == "digits"} == {
        (5, "knn"), (5, "decision_tree")}
    assert any("not in the models list of wine" in s.reason for s in skips)


def test_a_dataset_models_list_naming_an_unknown_label_is_refused():
    import pytest

    from bench.suite import SuiteError, parse

    with pytest.raises(SuiteError, match=r"\[datasets.wine.models\] unknown model label 'svm'; valid: knn"):
        parse('[suite]\n[datasets.wine]\nmodels = ["svm"]\n[models.knn]\n', "s.toml")


def test_a_dataset_may_set_its_own_feature_variants_and_keeps_the_other_cells_keys():
    base = """
[suite]
features = ["raw", "engineered"]
[datasets.synthetic_sequences]
n_samples = 200
train_sizes = [100]
[datasets.forecast]
n_samples = 200
train_sizes = [100]
[models.knn]
"""
    own = base.replace("[datasets.forecast]", '[datasets.forecast]\nfeatures = ["raw", "engineered", "minirocket"]')
    before, _ = plan(parse(base, "s.toml"))
    after, _ = plan(parse(own, "s.toml"))
    added = {c.key for c in after} - {c.key for c in before}
    assert {c.key for c in before} <= {c.key for c in after}  # a resumed run reruns nothing
    assert {(c.dataset.label, c.features) for c in after if c.key in added} == {("forecast", "minirocket")}


def test_a_dataset_features_list_naming_an_unknown_variant_is_refused_with_its_place():
    with pytest.raises(SuiteError, match=r"\[datasets.wine.features\] unknown feature variant 'rocket'"):
        parse('[suite]\n[datasets.wine]\nfeatures = ["raw", "rocket"]\n[models.knn]\n', "s.toml")
    with pytest.raises(SuiteError, match=r"\[datasets.wine.features\] expected a non-empty list"):
        parse('[suite]\n[datasets.wine]\nfeatures = []\n[models.knn]\n', "s.toml")


ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted([*(ROOT / "suites").glob("*.toml"), *(ROOT / "benchmarks" / "suites").glob("*.toml")])


# The published train/test row counts of the UCR sets the shipped suites name: a stand-in
# cache holds series of these counts, so planning sees the real sizes without a download.
UCR_SPLITS = {"GunPoint": (50, 150), "ItalyPowerDemand": (67, 1029), "ArrowHead": (36, 175),
              "OSULeaf": (200, 242)}


def _stub_ucr_cache(staging: Path, cache: Path) -> None:
    """Small .tsv files of the published row counts, imported as `bench fetch ucr:NAME --from` does."""
    from bench.datasets import ucr

    rng = np.random.default_rng(0)
    for name, counts in UCR_SPLITS.items():
        folder = staging / name
        folder.mkdir(parents=True)
        for part, n in zip(("TRAIN", "TEST"), counts, strict=True):
            rows = [f"{i % 2 + 1}\t" + "\t".join(f"{v:.3f}" for v in rng.normal(size=8)) for i in range(n)]
            (folder / f"{name}_{part}.tsv").write_text("\n".join(rows) + "\n")
        ucr.import_from(name, folder, str(cache))


def _stub_openml_cache(cache: Path) -> None:
    """Every named OpenML/UCI table as a cached frame of its published row count (two columns)."""
    import pandas as pd

    from bench.datasets import openml as om

    rng = np.random.default_rng(0)
    for entry in om.NAMED.values():
        frame = pd.DataFrame({"a": rng.normal(size=entry.rows), "b": rng.normal(size=entry.rows),
                              "target": np.arange(entry.rows) % 3})
        om._store(frame, {"data_id": entry.data_id, "name": entry.openml_name, "version": 1,
                          "target": "target"}, "test stand-in", str(cache))


@pytest.fixture(scope="module")
def stand_in_cache(tmp_path_factory) -> Path:
    """A data cache holding stand-ins of every downloadable set a shipped suite names."""
    root = tmp_path_factory.mktemp("stand-in")
    _stub_ucr_cache(root / "staging", root / "cache")
    _stub_openml_cache(root / "cache")
    return root / "cache"


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_shipped_suite_is_valid_and_plans_cells(path, monkeypatch, tmp_path, stand_in_cache):
    """The suites the README points to parse and plan on a machine with no data cache and no
    network: downloads are assumed fetched (`bench fetch`), the UCR and OpenML sets stand in as
    small files of their published row counts, and any attempt to reach the network fails the test."""
    import sklearn.datasets

    from bench.datasets import cache as dc
    from bench.datasets import openml as om
    from bench.datasets import ucr

    monkeypatch.setenv(dc.DATA_ENV, str(stand_in_cache))
    monkeypatch.setattr(ucr, "PACKAGES", ())
    monkeypatch.setattr(om, "MLBENCH_DIR", tmp_path / "no-mlbench")
    monkeypatch.setattr(dc.urllib.request, "urlopen", lambda *a, **k: pytest.fail("no network in tests"))
    monkeypatch.setattr(sklearn.datasets, "fetch_openml", lambda *a, **k: pytest.fail("no network in tests"))
    monkeypatch.setattr(dc, "require", lambda name, params: None)
    if path.name == "regress.toml":  # the regression check's own format (bench.regress.suite)
        from bench.regress.suite import load_suite, validate

        assert validate(load_suite(path)) == []
        return
    suite = load(path)
    cells, _skips = plan(suite)
    assert cells, f"{path.name}: plans no cell"
    assert {c.dataset.label for c in cells} == {d.label for d in suite.datasets}, f"{path.name}: a dataset runs no cell"


def test_a_configuration_is_checked_only_against_the_tasks_of_the_datasets_that_list_it():
    # Table 3's entropy forest beside a regression set it does not run on: valid.
    listed = (GOOD.replace("[datasets.breast_cancer]", '[datasets.breast_cancer]\nmodels = ["entropy_forest", "ridge"]')
              .replace("[datasets.diabetes]", '[datasets.diabetes]\nmodels = ["ridge", "random_forest"]')
              + '[models.entropy_forest]\nmodel = "random_forest"\ncriterion = "entropy"\n')
    suite = parse(listed, "listed.toml")
    assert {m.label: m.params for m in suite.models}["entropy_forest"] == {"criterion": "entropy"}
    # Listed on the regression set too (or on a dataset listing no models), it is refused there.
    msg = _error(listed.replace('models = ["ridge", "random_forest"]', 'models = ["ridge", "entropy_forest"]'))
    assert "models.entropy_forest" in msg and "criterion" in msg


def test_a_number_where_scikit_learn_allows_one_though_the_default_is_text():
    # SVC's gamma defaults to "scale" and also takes a positive number (the digits example's 0.001).
    text = GOOD.replace("[models.ridge]", '[models.ridge]\n[models.svc_digits]\nmodel = "svm"\ngamma = 0.001')
    assert {m.label: m.params for m in parse(text, "gamma.toml").models}["svc_digits"] == {"gamma": 0.001}
    # The estimator's own constraints still refuse what it does not allow.
    msg = _error(text.replace("gamma = 0.001", "gamma = -1.0"))
    assert "models.svc_digits" in msg and "gamma" in msg
    # A text parameter scikit-learn does not let take a number stays refused by its type.
    msg = _error(text.replace("gamma = 0.001", "kernel = 3"))
    assert "models.svc_digits" in msg and "kernel" in msg
