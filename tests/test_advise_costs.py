"""`bench advise`'s cost model reads the pilot's cells for what they are (issue 28).

A pilot cell of 128 rows has a validation part under 100 rows, so it also cross-validates
(5x2 more fits, in its search time); the larger sizes the plan runs do not. Predicting the
fixed test part does not grow with the training rows, except for a model whose prediction
reads them (k-NN, a kernel SVM). Read otherwise, a 6-minute plan on 8,000 Fashion-MNIST images
put a random forest's 750-row cell at 33.5 s (it took 2.5 s) and left half the budget unused."""

from __future__ import annotations

import pandas as pd
import pytest

from bench.advise.costs import costs_from_pilot, cv_fits


def _row(model, n, fit, search, predict, cv="stratified 5x2", missing=None, n_test=2000):
    return {"model": model, "features": "raw", "n_train": n, "status": "ok", "info": None, "fit_time_s": fit,
            "search_time_s": search, "predict_time_s": predict, "cell_time_s": 0.5 + fit + search + predict,
            "startup_s": 0.1, "n_validation": max(1, n // 5), "n_test": n_test, "cv_folds": cv, "cv_missing": missing}


def test_the_cross_validations_fits_are_not_read_as_growth():
    # A forest: 1 s per fit at 128 rows; the 128-row cell's search holds its validation fit and 10 folds.
    table = pd.DataFrame([_row("random_forest", 128, 1.0, 11.0, 0.05)])
    rf = costs_from_pilot(table, wall_s=20.0)[0][("random_forest", "raw")]
    assert rf.cv_fits == 10
    # At 750 rows (a validation part of 150 rows: no folds) the cell is its fit, one validation fit and
    # its predictions, grown from 128 rows; not the 12 fits the pilot's cell made.
    assert rf.default_s(750) < 0.6 + 2.3 * (750 / 128) ** 1.1
    # At 400 rows (80 validation rows) the folds run again, and are counted.
    assert rf.cv_s(400) > 0 and rf.cv_s(750) == 0
    assert rf.default_s(400) > rf.default_s(750) * 0.5


def test_a_model_too_slow_to_cross_validate_is_read_as_it_ran():
    row = _row("cnn", 128, 5.0, 4.0, 0.1, missing="one fit took 4.06 s, over the fit limit of 1.44 s")
    cnn = costs_from_pilot(pd.DataFrame([row]), wall_s=20.0)[0][("cnn", "raw")]
    assert cv_fits(pd.Series(row)) == 0 and cnn.cv_fits == 0 and cnn.cv_s(128) == 0


def test_predicting_the_test_part_is_fixed_except_where_prediction_reads_the_training_rows():
    # Each predicts the 2,000 test rows in 4 s at 128 training rows.
    table = pd.DataFrame([_row("cnn", 128, 1.0, 1.0, 4.0, cv=None), _row("knn", 128, 0.01, 0.01, 4.0, cv=None)])
    costs = costs_from_pilot(table, wall_s=20.0)[0]
    cnn, knn = costs[("cnn", "raw")], costs[("knn", "raw")]
    assert cnn.fixed_s == pytest.approx(0.5 + 0.1 + 0.1 + 4.0 - 4.0 * 26 / 2000, abs=0.01)
    assert cnn.default_s(1280) - cnn.fixed_s < 10 * (2.0 + 4.0 * 26 / 2000) + 0.01
    # k-NN compares each test row with every training row: its prediction grows with them, linearly.
    assert knn.p1 == pytest.approx(8.0 / 128) and knn.default_s(1280) > 10 * 8.0 * 0.99


def test_pilot_strength_reads_the_cross_validated_score_where_the_cell_has_one():
    from bench.advise.pilot import pilot_scores

    table = pd.DataFrame([
        {"model": "svm", "n_train": 128, "status": "ok", "val_score": 0.62, "val_score_cv": 0.74},
        {"model": "knn", "n_train": 128, "status": "ok", "val_score": 0.70, "val_score_cv": None},
        {"model": "knn", "n_train": 512, "status": "ok", "val_score": 0.71, "val_score_cv": None},
    ])
    # 26 holdout rows put svm below knn; its 5x2 folds put it above. knn's cell was too slow for folds.
    assert pilot_scores(table) == {"svm": {128: 0.74}, "knn": {128: 0.70, 512: 0.71}}


def test_a_strength_moved_by_its_familys_gain_stays_a_score():
    from bench.advise.pilot import strength

    # The CNN read at 128 rows only (0.846); its family gained 0.21 and 0.10 from 128 to 512 rows.
    scores = {"cnn": {128: 0.846}, "mlp": {128: 0.63, 512: 0.84}, "rnn": {128: 0.62, 512: 0.72}}
    assert strength(scores, scores)["cnn"] == 1.0
