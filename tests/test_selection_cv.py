"""A small validation part gets a cross-validated score: folds, standard error, cost caps, the search's choice."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import RepeatedStratifiedKFold, cross_val_score

from bench.execution import selection
from bench.execution.selection import (
    CV_BELOW_ROWS,
    CVScore,
    applies,
    cap_s,
    corrected_se,
    cross_validate,
    epochs_capped,
    make_folds,
    plan,
)
from bench.tuning import Budget, carve, search, val_score


def _classes(n: int = 50, seed: int = 0, n_classes: int = 2):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    X = rng.normal(size=(n, 4)) + y[:, None] * 0.8
    return X, y


def _regression(n: int = 50, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    return X, X @ np.arange(1.0, 6.0) + rng.normal(size=n)


# -- when it applies, and its cap --------------------------------------------------------------

def test_only_a_validation_part_under_the_threshold_gets_a_cross_validated_score():
    assert applies(10) and applies(CV_BELOW_ROWS - 1)
    assert not applies(CV_BELOW_ROWS) and not applies(0)  # 0: no validation part, nothing chosen
    X, y = _classes()
    assert plan(X, y, "classification", CV_BELOW_ROWS, seed=0) is None


def test_the_cap_is_a_share_of_the_cells_time_limit_and_never_more_than_the_constant():
    assert cap_s(60) == pytest.approx(selection.CV_LIMIT_SHARE * 60)
    assert cap_s(10_000) == selection.CV_TIME_S
    assert cap_s(None) == selection.CV_TIME_S


# -- folds ---------------------------------------------------------------------------------------

def test_folds_are_stratified_5x2_cover_every_row_once_per_repeat_and_are_the_same_for_a_seed():
    X, y = _classes(50)
    folds = make_folds(y, "classification", seed=3)
    assert folds.label == "stratified 5x2" and len(folds) == 10
    for repeat in range(2):
        held = np.concatenate([h for _, h in folds.splits[5 * repeat:5 * repeat + 5]])
        assert sorted(held) == list(range(50))
    for fit, held in folds.splits:
        assert not set(fit) & set(held) and len(fit) + len(held) == 50
        assert np.bincount(y[held]).min() >= selection.MIN_CLASS_ROWS  # every class, twice at least
    again = make_folds(y, "classification", seed=3)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds.splits, again.splits, strict=True))
    other = make_folds(y, "classification", seed=4)
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(folds.splits, other.splits, strict=True))


def test_fewer_folds_where_the_rarest_class_cannot_give_each_two_rows():
    y = np.array([0] * 30 + [1] * 6)  # 6 rows of class 1: 3 folds of 2
    folds = make_folds(y, "classification", seed=0)
    assert folds.k == 3 and folds.label == "stratified 3x2"
    assert all(np.sum(y[h] == 1) >= 2 for _, h in folds.splits)


def test_no_folds_and_a_reason_where_a_class_has_too_few_rows():
    reason = make_folds(np.array([0] * 30 + [1] * 3), "classification", seed=0)
    assert isinstance(reason, str) and "rarest class has 3 training rows" in reason
    X = np.zeros((33, 2))
    p = plan(X, np.array([0] * 30 + [1] * 3), "classification", 10, seed=0)
    result = p.run(lambda: LogisticRegression(), val_score)
    assert result.score is None and "rarest class" in result.missing and result.row()["val_score_cv"] is None


def test_regression_folds_are_plain_k_fold_with_enough_rows_each():
    folds = make_folds(np.arange(50.0), "regression", seed=0)
    assert folds.label == "5x2" and not folds.stratified
    assert make_folds(np.arange(20.0), "regression", seed=0).k == 4
    assert "need 10" in make_folds(np.arange(9.0), "regression", seed=0)


def test_bad_fold_arguments_are_refused():
    with pytest.raises(ValueError, match="k >= 2"):
        make_folds(np.arange(10) % 2, "classification", 0, k=1)
    with pytest.raises(ValueError, match="unknown task"):
        make_folds(np.arange(10), "ranking", 0)


# -- the score and its standard error --------------------------------------------------------------

def test_the_score_is_scikit_learns_repeated_stratified_cv_mean_on_the_same_folds():
    X, y = _classes(60, seed=1)
    p = plan(X, y, "classification", 12, seed=7)
    got = p.run(lambda: LogisticRegression(), val_score)
    want = cross_val_score(LogisticRegression(), X, y,
                           cv=RepeatedStratifiedKFold(n_splits=5, n_repeats=2, random_state=7))
    assert got.score == pytest.approx(want.mean(), abs=1e-12)
    assert got.se == pytest.approx(math.sqrt((1 / 10 + 12 / 48) * np.var(want, ddof=1)), rel=1e-9)
    assert got.fits == 10 and got.missing is None and got.folds == "stratified 5x2"


def test_the_regression_score_is_r2_averaged_over_folds():
    X, y = _regression(50)
    got = plan(X, y, "regression", 10, seed=0).run(lambda: Ridge(), val_score)
    assert 0.8 < got.score <= 1.0 and got.se > 0


def test_the_corrected_standard_error_exceeds_the_naive_one_by_the_overlap_term():
    scores = [0.7, 0.8, 0.75, 0.9, 0.6, 0.85, 0.8, 0.7, 0.65, 0.75]
    naive = np.std(scores, ddof=1) / math.sqrt(10)
    assert corrected_se(scores, 10, 40) == pytest.approx(naive * math.sqrt(1 + 10 * 0.25))
    assert corrected_se([0.5, 0.5, 0.5], 5, 20) == 0.0
    with pytest.raises(ValueError, match="at least 2 scores"):
        corrected_se([0.5], 5, 20)


def test_the_cv_never_fits_or_scores_a_row_outside_the_rows_it_was_given():
    X, y = _classes(40)
    seen = []

    class Spy(LogisticRegression):
        def fit(self, X, y):
            seen.append(X[:, 0].copy())
            return super().fit(X, y)

    X_tagged = X.copy()
    X_tagged[:, 0] = np.arange(40)  # each row's index, so the fitted rows can be named
    result = plan(X_tagged, y, "classification", 10, seed=0).run(lambda: Spy(), val_score)
    assert result.fits == 10 and len(seen) == 10
    assert all(set(s.astype(int)) < set(range(40)) and len(s) == 32 for s in seen)


# -- cost caps --------------------------------------------------------------------------------------

class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _one_second_fits(monkeypatch):
    """The search's clock, faked, and a logistic regression whose every fit advances it by 1 s."""
    from bench import tuning

    clock = _Clock()
    monkeypatch.setattr(tuning.time, "perf_counter", clock)

    class OneSecond(LogisticRegression):
        def fit(self, X, y):
            clock.now += 1.0
            return super().fit(X, y)

    return clock, OneSecond


def test_a_model_whose_one_fit_is_over_the_fit_limit_is_not_cross_validated_and_says_why():
    X, y = _classes()
    folds = make_folds(y, "classification", 0)
    made = []
    result = cross_validate(lambda: made.append(1) or LogisticRegression(), X, y, "classification", folds,
                            val_score, cap=10.0, one_fit_s=1.5)
    assert made == [] and result.score is None and result.se is None
    assert "one fit took 1.50 s, over the fit limit of 1.00 s (10 fits within the 10 s cap)" == result.missing


def test_no_fold_starts_that_would_end_past_the_cap_and_a_partial_score_is_never_given():
    X, y = _classes()
    clock = _Clock()

    class Slow(LogisticRegression):
        def fit(self, X, y):
            clock.now += 1.0
            return super().fit(X, y)

    result = cross_validate(lambda: Slow(), X, y, "classification", make_folds(y, "classification", 0),
                            val_score, cap=3.5, clock=clock)
    assert result.score is None and result.fits == 3
    assert result.missing.startswith("stopped after 3 of 10 fits (3.00 s)") and "3.5 s cap" in result.missing


def test_a_failing_fold_ends_the_cv_with_its_error():
    X, y = _classes()

    class Breaks(LogisticRegression):
        def fit(self, X, y):
            raise ValueError("breaks on purpose")

    result = cross_validate(lambda: Breaks(), X, y, "classification", make_folds(y, "classification", 0), val_score)
    assert result.score is None and "fold 1 of 10 failed: ValueError: breaks on purpose" in result.missing


# -- the search chooses by the cross-validated score -------------------------------------------------

class _Fixed(BaseEstimator, ClassifierMixin):
    """Predicts class 1 on the rows whose first feature is in `ones`, else class 0: a chosen score."""

    def __init__(self, ones=()):
        self.ones = ones

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict(self, X):
        return np.isin(np.asarray(X)[:, 0].astype(int), list(self.ones)).astype(int)


def test_a_search_on_a_small_validation_part_chooses_by_cv_where_the_holdout_would_choose_a_fluke():
    # 50 rows, class = row index odd. "fluke" predicts exactly the validation rows right and
    # nothing else; "honest" predicts every odd row 1: perfect everywhere. The holdout part
    # (10 rows) cannot tell them apart and keeps the earlier; cross-validation can.
    n = 50
    y = np.arange(n) % 2
    X = np.column_stack([np.arange(n), np.zeros(n)]).astype(float)
    fit, val = carve(y, 10, 0, "classification")
    fluke = tuple(int(i) for i in val if y[i] == 1)
    honest = tuple(int(i) for i in range(n) if y[i] == 1)
    space = {"ones": [fluke, honest]}
    parts = (X[fit], y[fit], X[val], y[val])
    by_holdout = search(lambda p: _Fixed(**p), space, parts, "classification", Budget(trials=3), seed=0)
    cv = plan(X, y, "classification", len(val), seed=0)
    by_cv = search(lambda p: _Fixed(**p), space, parts, "classification", Budget(trials=3), seed=0, cv=cv)
    holdout_best = by_holdout.best_params.get("ones")
    assert [t.val_score for t in by_holdout.trials if t.params] == [1.0, 1.0]  # a tie the holdout cannot break
    assert by_holdout.best.val_score == 1.0 and holdout_best in (fluke, honest)
    assert by_cv.selected_by == "cv" and by_cv.best_params == {"ones": honest}
    row = by_cv.row()
    assert row["val_score_cv"] == 1.0 and row["val_score_cv_se"] == 0.0 and row["cv_folds"] == "stratified 5x2"
    assert row["cv_missing"] is None and row["selected_by"] == "cv" and row["tuning_capped"] is False
    trials = json.loads(row["trials"])
    assert all({"val_score", "val_score_cv", "val_score_cv_se"} <= set(t) for t in trials)
    assert by_holdout.row()["val_score_cv"] is None and by_holdout.row()["selected_by"] == "validation"


def test_a_search_chooses_by_the_holdout_when_any_trial_lacks_a_cv_score():
    X, y = _classes(50)
    fit, val = carve(y, 10, 0, "classification")
    parts = (X[fit], y[fit], X[val], y[val])
    p = plan(X, y, "classification", 10, seed=0)
    slow = selection.Plan(p.X, p.y, p.task, p.folds, None, (selection.Meter(time.perf_counter, 1e-9),))  # too slow
    result = search(lambda q: LogisticRegression(**q), {"C": [0.01, 1.0]}, parts, "classification",
                    Budget(trials=3), seed=0, cv=slow)
    assert result.selected_by == "validation" and len(result.trials) == 3
    assert result.best.val_score == max(t.val_score for t in result.trials)
    row = result.row()
    assert row["val_score_cv"] is None and row["cv_missing"]
    first, *later = json.loads(row["trials"])
    assert "over the fit limit" in first["cv_missing"]
    assert all("an earlier trial has no cross-validated score" in t["cv_missing"] for t in later)  # no folds spent


def test_a_default_cells_search_records_the_cv_score_but_no_tuning_columns():
    X, y = _regression(50)
    fit, val = carve(y, 10, 0, "regression")
    result = search(lambda q: Ridge(**q), {}, (X[fit], y[fit], X[val], y[val]), "regression", Budget(trials=1),
                    seed=0, tuning="default", cv=plan(X, y, "regression", 10, seed=0))
    row = result.row()
    assert row["n_trials"] == 1 and row["val_score_cv"] is not None and row["cv_folds"] == "5x2"
    assert row["selected_by"] is None and row["tuning_capped"] is None


# -- the time backstop of a search is recorded when it binds -----------------------------------------

def test_the_search_records_when_its_time_backstop_cut_its_trials(monkeypatch):
    clock, OneSecond = _one_second_fits(monkeypatch)

    X, y = _classes(80)
    fit, val = carve(y, 20, 0, "classification")
    parts = (X[fit], y[fit], X[val], y[val])
    capped = search(lambda q: OneSecond(**q), {"C": [0.1, 1.0, 10.0]}, parts, "classification",
                    Budget(trials=4, time_s=2.5), seed=0)
    assert len(capped.trials) == 2 and capped.capped and capped.row()["tuning_capped"] is True
    full = search(lambda q: OneSecond(**q), {"C": [0.1, 1.0, 10.0]}, parts, "classification",
                  Budget(trials=4, time_s=100.0), seed=0)
    assert len(full.trials) == 4 and full.row()["tuning_capped"] is False


# -- early stopping: did the epoch cap bind? ----------------------------------------------------------

def test_a_network_whose_cap_ended_training_says_so_and_one_stopped_early_does_not():
    from bench.models.deep_estimators import MLPClassifier, MLPRegressor

    X, y = _classes(80, seed=2)
    capped = MLPClassifier(n_epochs=2, n_layers=1, d_hidden=8, random_state=0).fit(X, y)
    assert capped.epochs_capped_ is True and epochs_capped(capped) is True
    Xr, yr = _regression(80)
    early = MLPRegressor(n_epochs=200, patience=1, n_layers=1, d_hidden=8, random_state=0).fit(Xr, yr)
    assert early.n_epochs_ < 200 and early.epochs_capped_ is False and epochs_capped(early) is False
    unwatched = MLPClassifier(n_epochs=2, n_layers=1, d_hidden=8, early_stopping=False, random_state=0).fit(X, y)
    assert unwatched.epochs_capped_ is None and epochs_capped(unwatched) is None
    assert epochs_capped(LogisticRegression().fit(X, y)) is None


def test_a_hybrid_reports_its_networks_cap():
    class Hybrid:
        network_ = type("Net", (), {"epochs_capped_": True})()

    assert epochs_capped(Hybrid()) is True


def test_cv_score_record_and_row_carry_the_same_numbers():
    score = CVScore(score=0.8, se=0.05, folds="stratified 5x2", fits=10, time_s=1.0)
    assert score.row() == {"val_score_cv": 0.8, "val_score_cv_se": 0.05, "cv_folds": "stratified 5x2",
                           "cv_missing": None}
    assert score.record() == {"val_score_cv": 0.8, "val_score_cv_se": 0.05}



# -- cells: the row records the cross-validated score where the validation part is small ----------

def _cells(sizes: str, validation: float = 0.2, models: str = "[models.ridge]\n[models.logistic_regression]",
           datasets: str = "[datasets.breast_cancer]\n[datasets.diabetes]"):
    from bench.suite import parse
    from bench.suite import plan as plan_cells

    text = f"""
[suite]
seeds = [0]
train_sizes = {sizes}
threads = 1
validation = {validation}
{datasets}
{models}
"""
    cells, _ = plan_cells(parse(text, "cv.toml"))
    return cells


def test_a_default_cell_on_a_small_validation_part_records_its_cv_score_beside_the_holdout():
    from bench.execution.cell import measure_cell

    cells = _cells("[50]")
    ridge = next(c for c in cells if c.model.label == "ridge")
    row = measure_cell(ridge)
    assert row["n_validation"] == 10 and row["val_score"] is not None
    assert row["cv_folds"] == "5x2" and row["cv_missing"] is None
    assert math.isfinite(row["val_score_cv"]) and row["val_score_cv_se"] > 0
    assert row["selected_by"] is None and row["tuning_capped"] is None and row["epochs_capped"] is None
    logistic = measure_cell(next(c for c in cells if c.model.label == "logistic_regression"))
    assert logistic["cv_folds"] == "stratified 5x2" and 0 <= logistic["val_score_cv"] <= 1


def test_a_cell_with_a_validation_part_of_the_threshold_or_more_has_no_cv_columns_filled():
    from bench.execution.cell import measure_cell

    cells = _cells("[400]", validation=0.25, datasets="[datasets.breast_cancer]")  # 100 validation rows
    row = measure_cell(next(c for c in cells if c.model.label == "logistic_regression"))
    assert row["n_validation"] == CV_BELOW_ROWS
    assert row["val_score_cv"] is None and row["cv_folds"] is None and row["cv_missing"] is None


def test_a_deep_cell_records_whether_its_epoch_cap_bound():
    from bench.execution.cell import measure_cell

    cells = _cells("[60]", models="[models.mlp]\nn_epochs = 2\nd_hidden = 8\nn_layers = 1")
    row = measure_cell(next(c for c in cells if c.model.label == "mlp" and c.dataset.task == "classification"))
    assert row["status"] == "ok" and row["epochs_capped"] is True
    assert row["val_score_cv"] is not None  # 2-epoch networks are cheap: cross-validated too


def test_a_cpu_limited_cell_caps_its_cv_on_cpu_seconds_per_thread_and_on_its_wall_backstop():
    from dataclasses import replace

    cell = _cells("[50]", models="[models.ridge]")[0]
    X, y = _regression(50)
    on_cpu = selection.for_cell(replace(cell, limit="cpu", threads=2, time_limit_s=60, wall_backstop=5.0), X, y, 10)
    on_wall = selection.for_cell(replace(cell, limit="wall", time_limit_s=60), X, y, 10)
    assert [(m.read, m.cap) for m in on_wall.meters] == [(time.perf_counter, 30.0)]
    cpu, wall = on_cpu.meters
    assert cpu.read() == pytest.approx(time.process_time() / 2, abs=0.05) and cpu.cap == 30.0
    assert cpu.unit == "CPU s per thread" and wall.read is time.perf_counter and wall.cap == 150.0


def test_a_fit_that_waits_is_held_to_the_wall_cap_though_it_costs_no_cpu():
    X, y = _classes(50)
    p = plan(X, y, "classification", 10, 0)
    waits = selection.Plan(p.X, p.y, p.task, p.folds, None, (
        selection.Meter(lambda: 0.0, 30.0, "CPU s per thread"), selection.Meter(time.perf_counter, 5.0, "s of wall time")))
    result = waits.run(lambda: LogisticRegression(), val_score, one_fit=(0.0, 3.0))
    assert result.score is None
    assert result.missing == "one fit took 3.00 s of wall time, over the fit limit of 0.50 s of wall time (10 fits within the 5 s of wall time cap)"


def test_a_tuned_searchs_time_backstop_bounds_its_trials_folds_too():
    X, y = _classes(50)
    fit, val = carve(y, 10, 0, "classification")
    result = search(lambda q: LogisticRegression(**q), {"C": [0.01, 1.0]}, (X[fit], y[fit], X[val], y[val]),
                    "classification", Budget(trials=3, time_s=1e-9), seed=0, cv=plan(X, y, "classification", 10, 0))
    assert len(result.trials) == 1 and result.capped  # the first trial always runs; its folds had no time left
    row = result.row()
    assert row["selected_by"] == "validation" and "over the fit limit of 0.00 s" in row["cv_missing"]


def test_a_tuned_search_gives_each_trials_folds_its_share_of_the_backstop_so_trials_are_never_cut(monkeypatch):
    clock, OneSecond = _one_second_fits(monkeypatch)

    X, y = _classes(50)
    fit, val = carve(y, 10, 0, "classification")
    p = plan(X, y, "classification", 10, 0)
    on_fake = selection.Plan(p.X, p.y, p.task, p.folds, None, (selection.Meter(clock, 1000.0),))
    # 4 trials in 40 s: the first trial's share is 10 s, less its 1 s fit: 9 s for 10 folds of 1 s.
    result = search(lambda q: OneSecond(**q), {"C": [0.1, 1.0, 10.0]}, (X[fit], y[fit], X[val], y[val]),
                    "classification", Budget(trials=4, time_s=40.0), seed=0, cv=on_fake)
    assert len(result.trials) == 4 and not result.capped and result.selected_by == "validation"
    assert "over the fit limit of 0.90 s" in result.trials[0].cv.missing
