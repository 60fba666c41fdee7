"""Every choice is made on validation rows carved from the training rows; tuned cells search within one budget."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from bench import results, tuning
from bench.execution.cell import measure_cell
from bench.execution.prepare import prepare
from bench.models import MODELS, ModelContext, build, model
from bench.suite import SuiteError, cell_key, parse, plan
from bench.tuning import (
    MIN_VALIDATION_ROWS,
    Budget,
    LogUniformInt,
    carve,
    check_space,
    from_table,
    sample,
    search,
    validation_rows,
)

# -- test doubles: plug-in models with search spaces -----------------------------------------

class _Fits:
    """The X of every fit of a Recorder, in order, kept on disk: the choice on validation rows
    runs in a forked copy of the cell's process, whose fits a list in memory would not see."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="bench-fits-"))

    def append(self, X) -> None:
        np.save(self.dir / f"{time.time_ns():020d}-{os.getpid()}.npy", np.asarray(X))

    def clear(self) -> None:
        for f in self.dir.glob("*.npy"):
            f.unlink()

    def _all(self) -> list[np.ndarray]:
        return [np.load(f) for f in sorted(self.dir.glob("*.npy"))]

    def __len__(self) -> int:
        return len(list(self.dir.glob("*.npy")))

    def __iter__(self):
        return iter(self._all())

    def __getitem__(self, index):
        return self._all()[index]


FITS = _Fits()


class Recorder(ClassifierMixin, BaseEstimator):
    """Logistic regression that records the rows it is fitted on."""

    def __init__(self, C: float = 1.0, fail_above: float | None = None):
        self.C = C
        self.fail_above = fail_above

    def fit(self, X, y):
        FITS.append(np.array(X, copy=True))
        if self.fail_above is not None and self.C > self.fail_above:
            raise ValueError(f"C = {self.C} fails on purpose")
        self.model_ = LogisticRegression(C=self.C, max_iter=500).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)

    def size_info(self) -> tuple[int, int, str]:
        n = self.model_.coef_.size + self.model_.intercept_.size
        return n, n, "coefficients"


@model(
    "test_tuning_recorder", family="classical", tasks=("classification",), tags=("testing",),
    search={"C": [1e-3, 1e-2, 0.1, 1.0, 10.0]},
)
def _recorder(ctx: ModelContext):
    """Records its fits (tests of bench.tuning)."""
    return Recorder()


@model(
    "test_tuning_bad_space", family="classical", tasks=("classification",), tags=("testing",),
    search={"C": [1.0], "n_trees": [10, 20]},
)
def _bad_space(ctx: ModelContext):
    """Declares a space naming a hyperparameter it does not have."""
    return Recorder()


@model(
    "test_tuning_by_context", family="classical", tasks=("classification",), tags=("testing",),
    search=lambda ctx: {"C": [0.1, float(ctx.n_features)]},
)
def _by_context(ctx: ModelContext):
    """Declares its space as a function of the context."""
    return Recorder()


def _suite(tuning: str = "trials = 4", models: str = "[models.test_tuning_recorder]", head: str = "") -> str:
    return f"""
[suite]
seeds = [0]
train_sizes = [15, 120]
threads = 1
{head}
[suite.tuning]
{tuning}
[datasets.breast_cancer]
[datasets.diabetes]
{models}
"""


def _error(text: str) -> str:
    with pytest.raises(SuiteError) as info:
        parse(text, "tune.toml")
    msg = str(info.value)
    assert "\n" not in msg
    return msg


def _cell(cells, model_label: str, n_train: int, tuning: str):
    return next(c for c in cells if c.model.label == model_label and c.n_train == n_train and c.tuning == tuning)


# -- the validation part -------------------------------------------------------------------------

def test_validation_part_is_the_fraction_with_a_minimum_and_leaves_as_many_rows_to_fit():
    assert validation_rows(1000, 0.2) == 200
    assert validation_rows(61, 0.2) == 13  # rounded up
    assert validation_rows(30, 0.2) == MIN_VALIDATION_ROWS  # 6 would be too few to choose on
    assert validation_rows(2 * MIN_VALIDATION_ROWS, 0.2) == MIN_VALIDATION_ROWS
    assert validation_rows(2 * MIN_VALIDATION_ROWS - 1, 0.2) == 0
    assert validation_rows(1000, 0.0) == 0


def test_carve_is_stratified_seeded_disjoint_and_covers_the_training_rows():
    y = np.array([0] * 60 + [1] * 30 + [2] * 10)
    fit, val = carve(y, 20, seed=3, task="classification")
    assert len(val) == 20 and len(fit) == 80
    assert sorted(np.concatenate([fit, val]).tolist()) == list(range(100))
    assert np.bincount(y[val]).tolist() == [12, 6, 2]  # the class shares of the training rows
    again, _ = carve(y, 20, seed=3, task="classification")
    other, _ = carve(y, 20, seed=4, task="classification")
    assert fit.tolist() == again.tolist() and fit.tolist() != other.tolist()


def test_carve_falls_back_to_a_plain_draw_when_a_class_has_one_row():
    y = np.array([0] * 30 + [1] * 9 + [2])
    fit, val = carve(y, 10, seed=0, task="classification")
    assert len(val) == 10 and len(set(fit) | set(val)) == 40


# -- sampling ------------------------------------------------------------------------------------

def test_sampling_is_seeded_and_gives_plain_python_values():
    space = {"C": loguniform(1e-3, 1e2), "depth": LogUniformInt(2, 64), "kind": ["a", "b"]}
    first, again = sample(space, 5, seed=7), sample(space, 5, seed=7)
    assert first == again and first != sample(space, 5, seed=8)
    for params in first:
        assert type(params["C"]) is float and 1e-3 <= params["C"] <= 1e2
        assert type(params["depth"]) is int and 2 <= params["depth"] <= 64
    json.dumps(first)


def test_a_finite_grid_smaller_than_the_budget_is_drawn_whole_without_repeats():
    drawn = sample({"k": [1, 3, 5]}, 10, seed=0)
    assert sorted(p["k"] for p in drawn) == [1, 3, 5]


def test_suite_ranges_become_distributions_of_the_right_kind():
    assert from_table([1, 2]) == [1, 2]
    ints = [from_table({"low": 2, "high": 9}).rvs(random_state=i) for i in range(30)]
    assert all(2 <= v <= 9 and float(v).is_integer() for v in ints) and len(set(ints)) > 3
    logs = [from_table({"low": 1e-4, "high": 1.0, "log": True}).rvs(random_state=i) for i in range(200)]
    assert min(logs) >= 1e-4 and max(logs) <= 1.0 and np.median(logs) < 0.05  # log scale: most draws are small
    for bad in ({"low": 3, "high": 1}, {"low": 0, "high": 1, "log": True}, {"low": 1}, {"lo": 1, "high": 2}, [], "x"):
        with pytest.raises(ValueError):
            from_table(bad)


# -- the search ----------------------------------------------------------------------------------

def _parts(n: int = 120, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int)
    fit, val = carve(y, n // 4, seed, "classification")
    return X[fit], y[fit], X[val], y[val]


def test_search_tries_the_default_first_then_the_budget_and_keeps_the_best_on_validation():
    FITS.clear()
    result = search(lambda p: Recorder(**p), {"C": [1e-4, 1e-3, 1e-2, 0.1, 1.0]}, _parts(), "classification",
                    Budget(trials=4), seed=0)
    assert len(result.trials) == 4 and result.trials[0].params == {}
    assert result.best.val_score == max(t.val_score for t in result.trials)
    assert result.best_params == result.best.params
    row = result.row()
    assert row["tuning"] == "tuned" and row["n_trials"] == 4 and row["n_validation"] == 30
    assert json.loads(row["best_params"]) == result.best_params
    trials = json.loads(row["trials"])
    assert [t["params"] for t in trials] == [t.params for t in result.trials]
    assert all({"params", "val_score", "fit_s"} <= set(t) for t in trials)
    assert all(len(X) == 90 for X in FITS)  # fit rows only: the validation rows are never fitted


def test_a_tie_on_validation_keeps_the_earlier_trial_so_the_default_wins_it():
    result = search(lambda p: Recorder(**p), {"C": [1.0, 1.0 + 1e-12]}, _parts(), "classification",
                    Budget(trials=3), seed=0)
    assert result.best_params == {}


def test_no_trial_starts_once_the_time_budget_is_spent():
    result = search(lambda p: Recorder(**p), {"C": [0.1, 1.0, 10.0]}, _parts(), "classification",
                    Budget(trials=10, time_s=1e-9), seed=0)
    assert [t.params for t in result.trials] == [{}]  # the first always runs


def test_no_trial_starts_that_would_end_past_the_time_budget_at_the_pace_so_far(monkeypatch):
    clock = {"now": 0.0}
    monkeypatch.setattr(tuning.time, "perf_counter", lambda: clock["now"])

    class OneSecondFit(Recorder):
        def fit(self, X, y):
            clock["now"] += 1.0
            return super().fit(X, y)

    result = search(lambda p: OneSecondFit(**p), {"C": [0.1, 1.0, 10.0]}, _parts(), "classification",
                    Budget(trials=10, time_s=2.5), seed=0)
    assert len(result.trials) == 2  # a third would end at 3 s
    assert result.wall_s == 2.0


def test_a_failing_trial_is_recorded_and_the_search_goes_on():
    result = search(lambda p: Recorder(fail_above=1.0, **p), {"C": [0.1, 10.0, 100.0]}, _parts(),
                    "classification", Budget(trials=4), seed=0)
    failed = [t for t in result.trials if t.error]
    assert len(failed) == 2 and all("fails on purpose" in t.error and t.val_score is None for t in failed)
    assert result.best.error is None


def test_a_tuned_search_without_one_successful_trial_raises_the_first_error():
    with pytest.raises(RuntimeError, match="every trial of the search failed.*fails on purpose"):
        search(lambda p: Recorder(fail_above=0.0, **p), {"C": [0.1]}, _parts(), "classification",
               Budget(trials=2), seed=0)


# -- suites: keys, budgets, spaces -----------------------------------------------------------------

def test_tuning_table_sets_one_budget_for_every_model():
    suite = parse(_suite("trials = 6\ntime_s = 20\nmodes = [\"tuned\"]\nsizes = \"largest\""), "tune.toml")
    assert suite.tuning.budget == Budget(trials=6, time_s=20.0)
    assert suite.tuning.modes == ("tuned",) and suite.tuning.sizes == "largest"
    assert suite.validation == 0.2
    cells, _ = plan(suite)
    assert {c.budget for c in cells} == {Budget(trials=6, time_s=20.0)}


def test_a_suite_without_a_tuning_table_plans_default_cells_only():
    suite = parse(_suite().replace("[suite.tuning]\ntrials = 4", ""), "tune.toml")
    cells, _ = plan(suite)
    assert {c.tuning for c in cells} == {"default"} and suite.validation == 0.2


@pytest.mark.parametrize(
    ("tuning", "head", "key", "words"),
    [
        ("trials = 0", "", "suite.tuning.trials", "positive integer"),
        ("trials = 2.5", "", "suite.tuning.trials", "positive integer"),
        ("trials = 1", "", "suite.tuning.trials", "at least 2 trials"),
        ("time_s = -1", "", "suite.tuning.time_s", "positive number"),
        ("time_s = 600", "time_limit_s = 60", "suite.tuning.time_s", "no time for the final fit"),
        ("modes = [\"default\", \"best\"]", "", "suite.tuning.modes", "default, tuned"),
        ("modes = []", "", "suite.tuning.modes", "default, tuned"),
        ("sizes = \"middle\"", "", "suite.tuning.sizes", "all, largest, smallest"),
        ("trails = 10", "", "suite.tuning.trails", "unknown key; valid: modes, seeds, sizes, time_s, trials"),
        ("seeds = [1]", "", "suite.tuning.seeds", "from suite.seeds [0]"),
        ("seeds = [0, 0]", "", "suite.tuning.seeds", "distinct seeds"),
        ("seeds = 0", "", "suite.tuning.seeds", "non-empty list"),
        ("trials = 4", "validation = 0.9", "suite.validation", "[0, 0.5]"),
        ("trials = 4", "validation = 0", "suite.validation", "leaves none"),
    ],
)
def test_bad_budgets_and_keys_name_the_file_and_the_key(tuning, head, key, words):
    msg = _error(_suite(tuning, head=head))
    assert msg.startswith("tune.toml: ") and f"[{key}]" in msg and words in msg


def test_validation_off_is_allowed_for_a_suite_of_default_cells():
    suite = parse(_suite("modes = [\"default\"]", head="validation = 0"), "tune.toml")
    cells, _ = plan(suite)
    row = measure_cell(_cell(cells, "test_tuning_recorder", 120, "default"))
    assert row["val_score"] is None and row["n_trials"] == 0 and row["search_time_s"] == 0


def test_a_declared_space_naming_an_unknown_hyperparameter_is_a_suite_error():
    msg = _error(_suite(models="[models.test_tuning_bad_space]"))
    assert "[models.test_tuning_bad_space]" in msg and "n_trees" in msg and "unknown hyperparameter" in msg
    # Not tuning, the space is not used, and the suite loads.
    parse(_suite("modes = [\"default\"]", models="[models.test_tuning_bad_space]"), "tune.toml")


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ("C = [0.1, 1.0]\nn_trees = [1, 2]", "search.n_trees", "unknown hyperparameter"),
        ("C = [-1.0]", "search.C", "invalid"),
        ("C = {low = 1, high = 0.1}", "search.C", "low must be below high"),
        ("C = {low = 0.1, high = 1, step = 2}", "search.C", "low, high and optionally log"),
        ("C = \"big\"", "search.C", "a list of values"),
    ],
)
def test_a_suite_search_table_is_checked_entry_by_entry(table, key, words):
    models = f"[models.logistic_regression]\n[models.logistic_regression.search]\n{table}"
    msg = _error(_suite(models=models))
    assert f"[models.logistic_regression.{key}]" in msg and words in msg


def test_a_suite_search_table_replaces_the_models_space():
    models = "[models.logistic_regression]\n[models.logistic_regression.search]\nC = [0.5, 2.0]"
    cells, _ = plan(parse(_suite("trials = 3", models=models), "tune.toml"))
    row = measure_cell(_cell(cells, "logistic_regression", 120, "tuned"))
    assert [t["params"] for t in json.loads(row["trials"])][1:] in ([{"C": 0.5}, {"C": 2.0}], [{"C": 2.0}, {"C": 0.5}])


def test_a_suite_search_table_may_name_nested_hyperparameters_as_suite_keys_may():
    models = "[models.mlp_xgboost]\n[models.mlp_xgboost.search]\nnetwork__lr = [1e-3, 3e-3]\nhead__max_depth = [2, 4]"
    suite = parse(_suite(models=models), "tune.toml")
    assert suite.models[0].search == {"network__lr": [1e-3, 3e-3], "head__max_depth": [2, 4]}
    msg = _error(_suite(models=models.replace("network__lr", "network__learning_speed")))
    assert "[models.mlp_xgboost.search.network__learning_speed]" in msg and "unknown hyperparameter" in msg


@pytest.mark.parametrize("name", [n for n, e in MODELS.items() if "testing" not in e.tags])
def test_every_registered_space_names_real_hyperparameters_with_accepted_values(name):
    entry = MODELS[name]
    for task in sorted(entry.tasks):
        for modality in sorted(entry.modalities):
            ctx = ModelContext(task=task, modality=modality, seed=0, threads=1, n_features=4, n_classes=2)
            assert check_space(entry.space(ctx), lambda p, ctx=ctx: build(name, ctx, p)) is None


# -- planning ------------------------------------------------------------------------------------

def test_tuning_is_a_dimension_of_the_plan_and_only_tuned_keys_change():
    cells, _ = plan(parse(_suite(models="[models.test_tuning_recorder]\n[models.ridge]"), "tune.toml"))
    default = _cell(cells, "test_tuning_recorder", 120, "default")
    tuned = _cell(cells, "test_tuning_recorder", 120, "tuned")
    assert default.key == cell_key("breast_cancer", "raw", 120, 0, "test_tuning_recorder")
    assert tuned.key == default.key + "|tuned"
    assert len({c.key for c in cells}) == len(cells)


def test_a_model_without_a_space_has_no_tuned_cell_and_the_skip_says_why():
    cells, skips = plan(parse(_suite(models="[models.linear_regression]\n[models.ridge]"), "tune.toml"))
    assert not any(c.tuning == "tuned" and c.model.label == "linear_regression" for c in cells)
    assert any(c.tuning == "tuned" and c.model.label == "ridge" for c in cells)
    reasons = [s.reason for s in skips if s.model == "linear_regression"]
    assert any("declares no search space" in r for r in reasons)


def test_a_space_the_suite_pins_entirely_leaves_no_tuned_cell():
    models = "[models.pinned]\nmodel = \"test_tuning_recorder\"\nC = 0.5"
    cells, skips = plan(parse(_suite(models=models), "tune.toml"))
    assert {c.tuning for c in cells} == {"default"}
    assert any("fixes every hyperparameter it searches" in s.reason for s in skips)


def test_sizes_too_small_for_a_validation_part_get_no_tuned_cell():
    cells, skips = plan(parse(_suite(), "tune.toml"))
    assert {c.n_train for c in cells if c.tuning == "tuned"} == {120}
    assert any("15 training rows leave no validation part" in s.reason for s in skips)


def test_tuning_only_the_largest_size_when_the_suite_says_so():
    text = _suite("sizes = \"largest\"").replace("train_sizes = [15, 120]", "train_sizes = [40, 120]")
    cells, _ = plan(parse(text, "tune.toml"))
    assert {c.n_train for c in cells if c.tuning == "tuned"} == {120}
    assert {c.n_train for c in cells if c.tuning == "default"} == {40, 120}


def test_tuning_only_some_seeds_when_the_suite_says_so():
    text = _suite("seeds = [1]").replace("seeds = [0]", "seeds = [0, 1, 2]")
    cells, _ = plan(parse(text, "tune.toml"))
    assert {c.seed for c in cells if c.tuning == "tuned"} == {1}
    assert {c.seed for c in cells if c.tuning == "default"} == {0, 1, 2}


# -- cells ---------------------------------------------------------------------------------------

def _row_set(X) -> set[bytes]:
    return {np.asarray(r, dtype=np.float64).tobytes() for r in X}


def test_a_tuned_cell_fits_the_search_on_fit_rows_then_refits_the_choice_on_all_training_rows():
    cells, _ = plan(parse(_suite("trials = 4"), "tune.toml"))
    cell = _cell(cells, "test_tuning_recorder", 120, "tuned")
    split = prepare(cell)
    fit, val = carve(split.y_train, validation_rows(120, 0.2), cell.seed, "classification")
    FITS.clear()
    row = measure_cell(cell)
    # 24 validation rows, under selection.CV_BELOW_ROWS: each trial is one fit on the fit rows,
    # then its 5x2 cross-validation on the training rows; the last fit is the final model.
    fits = FITS[:]
    assert len(fits) == row["n_trials"] * 11 + 1 == 45 and row["cv_folds"] == "stratified 5x2"
    train, test = _row_set(split.X_train), _row_set(split.X_test)
    for trial in range(row["n_trials"]):
        holdout, *folds = fits[11 * trial:11 * trial + 11]
        assert _row_set(holdout) == _row_set(split.X_train[fit])  # never the validation rows
        assert all(_row_set(X) < train and len(X) == 96 for X in folds)  # four fifths of the training rows
    assert _row_set(fits[-1]) == train  # the final model: every training row
    assert all(not (_row_set(X) & test) for X in fits)  # no fit ever sees a test row
    best = json.loads(row["best_params"])
    assert json.loads(row["hyperparams"])["C"] == best.get("C", 1.0)
    trials = json.loads(row["trials"])
    assert row["selected_by"] == "cv" and row["val_score_cv"] == max(t["val_score_cv"] for t in trials)
    assert row["val_score"] == next(t["val_score"] for t in trials if t["val_score_cv"] == row["val_score_cv"])
    assert row["tuning_capped"] is False and row["n_trials"] == 4
    assert row["search_time_s"] > 0 and row["search_cpu_s"] >= 0 and row["n_validation"] == len(val)


def test_a_default_cell_scores_its_configuration_on_validation_as_the_tuned_cells_first_trial():
    cells, _ = plan(parse(_suite("trials = 3", models="[models.logistic_regression]"), "tune.toml"))
    default = measure_cell(_cell(cells, "logistic_regression", 120, "default"))
    tuned = measure_cell(_cell(cells, "logistic_regression", 120, "tuned"))
    assert default["tuning"] == "default" and default["n_trials"] == 1 and default["best_params"] == "{}"
    assert json.loads(tuned["trials"])[0]["val_score"] == default["val_score"]
    assert tuned["val_score"] >= default["val_score"]
    small = measure_cell(_cell(cells, "logistic_regression", 15, "default"))
    assert small["val_score"] is None and small["n_validation"] == 0  # too few rows: fitted on all, no choice


def test_a_tuned_deep_model_runs_its_search_with_early_stopping_inside_the_fit_rows():
    models = "[models.mlp]\nn_epochs = 3\nd_hidden = 16\n[models.mlp.search]\nlr = [1e-3, 1e-2]\nweight_decay = [0.0, 1e-3]"
    cells, _ = plan(parse(_suite("trials = 2", models=models), "tune.toml"))
    row = measure_cell(_cell(cells, "mlp", 120, "tuned"))
    assert row["status"] == "ok" and row["n_trials"] == 2
    history = json.loads(row["history"])
    assert all("valid_score" in epoch for epoch in history)  # its own slice of the rows it was given


def test_results_schema_holds_the_tuning_columns():
    frame = results.frame([{"key": "k", "n_train": 1, "n_test": 1, "seed": 0, "threads": 1, "jobs": 1,
                            "tuning": "tuned", "val_score": 0.5, "n_trials": 3, "best_params": "{}",
                            "trials": "[]", "search_time_s": 1.0, "search_cpu_s": 2.0, "n_validation": 10}])
    for col in ("tuning", "val_score", "n_trials", "best_params", "trials", "search_time_s", "search_cpu_s"):
        assert col in frame.columns
    assert frame["tuning"].dtype == "string" and frame["val_score"].dtype == "float64"
